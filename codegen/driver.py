"""``buckyos codegen`` and ``make codegen``: protoc (grpcio-tools) plus our plugin,
written atomically or checked.

    buckyos codegen --proto-root proto --out myorg/generated \\
        --map myorg/=myorg.generated proto/myorg/notes.proto
    python -m buckyos.codegen ...             # the same, without the CLI
    buckyos codegen ... --check               # exit 1 when the out dir differs
    buckyos codegen --print-include           # the folder holding buckyos/options.proto

``buckyos/options.proto`` (and the system contracts beside it) ship inside the package:
the folder that holds them is always on protoc's import path, after the ones given, and
``buckyos/`` maps to ``buckyos.generated`` unless a ``--map`` says otherwise, so a
contract in a project of its own needs neither.

Everything is generated into a temporary directory first: protoc's ``_pb2.py``,
``_pb2.pyi``, ``_pb2_grpc.py`` and our ``_rpc.py``.  Imports of mapped proto packages are
rewritten to the Python package they are installed as (protoc writes ``from buckyos
import x_pb2``; we install it as ``buckyos.generated``).  Only when every step succeeded
are the files copied into the out dir, so a bad contract leaves it untouched.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

__all__ = [
    "BUCKYOS_RULE",
    "GENERATED_SUFFIXES",
    "NOT_INSTALLED",
    "CodegenError",
    "add_arguments",
    "generate_into",
    "main",
    "run",
    "shipped_include",
    "with_buckyos_rule",
]

GENERATED_SUFFIXES = ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py", "_rpc.py")


_GRPC_MYPY_HEADER = (
    '# mypy: disable-error-code="no-untyped-def,no-untyped-call,arg-type,no-any-return"\n'
)
_PYI_MYPY_HEADER = '# mypy: disable-error-code="misc,type-arg,no-untyped-def"\n'


BUCKYOS_RULE = ("buckyos/", "buckyos.generated")
"""The shipped contracts' mapping, applied when no ``--map`` names ``buckyos/``."""

NOT_INSTALLED = "the codegen parts are not installed; pip install 'buckyos-api-runtime[codegen]'"


class CodegenError(Exception):
    """A codegen run that cannot go on; ``usage``: the command line was wrong."""

    def __init__(self, message: str, *, usage: bool = False) -> None:
        super().__init__(message)
        self.usage = usage


def shipped_include() -> Path:
    """The folder holding ``buckyos/options.proto``: inside the installed package, or
    the checkout's ``proto/`` (an editable install)."""
    here = Path(__file__).resolve().parent
    for root in (here / "proto", here.parent / "proto"):
        if (root / "buckyos" / "options.proto").is_file():
            return root
    raise CodegenError(
        f"buckyos/options.proto is missing from {here / 'proto'}; "
        "reinstall buckyos-api-runtime (pip install --force-reinstall buckyos-api-runtime)"
    )


def with_buckyos_rule(rules: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """``rules`` plus :data:`BUCKYOS_RULE` unless one of them maps ``buckyos/``."""
    if any(prefix == BUCKYOS_RULE[0] for prefix, _ in rules):
        return list(rules)
    return [*rules, BUCKYOS_RULE]


def _protoc_include() -> str:
    try:
        import grpc_tools
    except ImportError:
        raise CodegenError(NOT_INSTALLED) from None
    return str(Path(grpc_tools.__file__).parent / "_proto")


def _plugin_wrapper(directory: Path) -> Path:
    path = directory / "protoc-gen-buckyos"
    path.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m buckyos.codegen.plugin "$@"\n')
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def _rewrite_imports(text: str, rules: list[tuple[str, str]]) -> str:
    for prefix, package in rules:
        dotted = prefix.rstrip("/").replace("/", ".")
        pattern = re.compile(
            rf"^(from\s+){re.escape(dotted)}((?:\.\w+)*)(\s+import\s+\w+_pb2\b)", re.M
        )
        text = pattern.sub(rf"\g<1>{package}\g<2>\g<3>", text)
    return text


def generate_into(
    target: Path,
    protos: list[str],
    *,
    proto_roots: list[str],
    includes: list[str],
    rules: list[tuple[str, str]],
) -> dict[str, bytes]:
    """Run protoc and the plugin; return {relative output path: bytes} for the out dir.

    The shipped contracts' folder comes after ``includes`` and the ``buckyos/`` rule after
    ``rules`` (see :func:`with_buckyos_rule`).
    """
    grpc_include = _protoc_include()
    from grpc_tools import protoc

    rules = with_buckyos_rule(rules)
    shipped = str(shipped_include())
    with tempfile.TemporaryDirectory(prefix="buckyos-codegen-") as tmp_name:
        tmp = Path(tmp_name)
        raw = tmp / "out"
        raw.mkdir()
        plugin = _plugin_wrapper(tmp)
        parameter = ",".join(f"{p}={m}" for p, m in rules)
        args = [
            "grpc_tools.protoc",
            *(f"-I{root}" for root in [*proto_roots, *includes, shipped]),
            f"-I{grpc_include}",
            f"--python_out={raw}",
            f"--pyi_out={raw}",
            f"--grpc_python_out={raw}",
            f"--plugin=protoc-gen-buckyos={plugin}",
            f"--buckyos_out={parameter}:{raw}",
            *protos,
        ]
        if protoc.main(args) != 0:
            raise CodegenError("protoc failed (see the messages above); nothing was written")
        outputs: dict[str, bytes] = {}
        for path in sorted(raw.rglob("*")):
            if not path.is_file():
                continue
            rel = path.relative_to(raw).as_posix()
            text = path.read_text()
            if rel.endswith("_pb2_grpc.py") and "def add_" not in text:
                continue  # a file without services: protoc writes an empty shell
            for prefix, _package in rules:
                if rel.startswith(prefix):
                    rel = rel[len(prefix) :]
                    break
            if not rel.endswith("_rpc.py"):
                # Our plugin already writes the mapped imports; protoc's outputs do not.
                text = _rewrite_imports(text, rules)
            if rel.endswith("_pb2.pyi"):
                text = _PYI_MYPY_HEADER + text
            if rel.endswith("_pb2_grpc.py"):
                # grpcio-tools writes untyped code; say so where mypy reads it, not globally.
                text = _GRPC_MYPY_HEADER + text
            outputs[rel] = text.encode()
        _format(raw, outputs)
        return outputs


def _format(scratch: Path, outputs: dict[str, bytes]) -> None:
    """Format our ``_rpc.py`` outputs with ruff (pinned in the dev extra) when present.

    The plugin writes valid, readable code on its own; ruff only wraps long lines and
    orders ``__all__`` so the checked-in files pass the project's lint unchanged.  It runs
    in the scratch folder: run where the output goes, ruff would count the packages it
    finds there as first-party, and sort imports differently once they exist.
    """
    names = [rel for rel in outputs if rel.endswith("_rpc.py")]
    if not names or importlib.util.find_spec("ruff") is None:
        return
    work = scratch / "fmt"
    files = []
    for index, rel in enumerate(names):
        path = work / f"m{index}" / Path(rel).name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(outputs[rel])
        files.append(path)
    config = [
        "--isolated",
        "--line-length",
        "100",
        "--config",
        'lint.isort.known-first-party = ["buckyos", "tests"]',
        "--config",
        "lint.isort.combine-as-imports = true",
    ]
    ruff = [sys.executable, "-m", "ruff"]
    subprocess.run(
        [
            *ruff,
            "check",
            *config,
            "--fix-only",
            "--select",
            "I,RUF022",
            "--quiet",
            *map(str, files),
        ],
        check=False,
        cwd=scratch,
        capture_output=True,
    )
    formatted = subprocess.run(
        [*ruff, "format", *config, "--quiet", *map(str, files)],
        check=False,
        cwd=scratch,
        capture_output=True,
    )
    if formatted.returncode != 0:
        return  # a ruff that does not run (no binary beside it): keep the plugin's text
    for rel, path in zip(names, files, strict=True):
        outputs[rel] = path.read_bytes()


def _existing(target: Path) -> dict[str, Path]:
    found: dict[str, Path] = {}
    if target.is_dir():
        for path in target.rglob("*"):
            if path.is_file() and path.name.endswith(GENERATED_SUFFIXES):
                found[path.relative_to(target).as_posix()] = path
    return found


def _diff(target: Path, outputs: dict[str, bytes], *, prune: bool) -> list[str]:
    existing = _existing(target)
    problems = []
    for rel, data in outputs.items():
        path = target / rel
        if rel not in existing:
            problems.append(f"missing: {path}")
        elif path.read_bytes() != data:
            problems.append(f"differs: {path}")
    if prune:
        stale = sorted(set(existing) - set(outputs))
        problems.extend(f"stale: {existing[rel]}" for rel in stale)
    return problems


def _write(target: Path, outputs: dict[str, bytes], *, prune: bool) -> None:
    """Write ``outputs``; with ``prune`` also delete the generated files no output names
    (without it, a run for one contract leaves the other contracts' files alone)."""
    target.mkdir(parents=True, exist_ok=True)
    for rel, data in outputs.items():
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
    if not prune:
        return
    for rel, path in _existing(target).items():
        if rel not in outputs:
            path.unlink()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The driver's options, on its own parser or on ``buckyos codegen``'s."""
    parser.add_argument("protos", nargs="*", help=".proto files, relative to a --proto-root")
    parser.add_argument(
        "--proto-root",
        action="append",
        default=[],
        metavar="DIR",
        help="folder the protos' import paths start from (repeatable)",
    )
    parser.add_argument(
        "--include",
        action="append",
        default=[],
        metavar="DIR",
        help="extra import roots (buckyos/options.proto is always found)",
    )
    parser.add_argument("--out", type=Path, metavar="DIR", help="where the Python goes")
    parser.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="DIR/=PACKAGE",
        help="proto directory to Python package, e.g. myorg/=myorg.generated "
        "(buckyos/=buckyos.generated is implied)",
    )
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    parser.add_argument(
        "--prune",
        action="store_true",
        help="delete (with --check: report) generated files in --out that this run did not "
        "write; give it only when the run names every contract of the folder",
    )
    parser.add_argument(
        "--print-include",
        action="store_true",
        help="print the folder that holds buckyos/options.proto (for -I of a protoc of "
        "your own) and exit",
    )


def run(args: argparse.Namespace) -> int:
    """Generate (or ``--check``) as ``args`` say; raise :class:`CodegenError` on failure."""
    if args.print_include:
        print(shipped_include())
        return 0
    if not args.protos:
        raise CodegenError("name the .proto files to generate", usage=True)
    if not args.proto_root:
        raise CodegenError(
            "--proto-root DIR is required: the folder the protos' import paths start from",
            usage=True,
        )
    if args.out is None:
        raise CodegenError("--out DIR is required: where the Python goes", usage=True)
    rules = []
    for item in args.map:
        prefix, sep, package = item.partition("=")
        if not sep or not prefix.endswith("/"):
            raise CodegenError(
                f"--map {item!r}: write DIR/=PACKAGE, e.g. myorg/=myorg.generated", usage=True
            )
        rules.append((prefix, package))
    protos = []
    for proto in args.protos:
        rel = None
        for root in args.proto_root:
            candidate = os.path.relpath(proto, root)
            if not candidate.startswith(".."):
                rel = candidate
                break
        protos.append(rel or proto)
    outputs = generate_into(
        args.out, protos, proto_roots=args.proto_root, includes=args.include, rules=rules
    )
    if args.check:
        problems = _diff(args.out, outputs, prune=args.prune)
        if problems:
            raise CodegenError(
                "generated code is out of date; run `make codegen` (in a project of your "
                "own: the same command without --check):\n"
                + "\n".join(f"  {problem}" for problem in problems)
            )
        print(f"codegen: {args.out} is up to date ({len(outputs)} files)")
        return 0
    _write(args.out, outputs, prune=args.prune)
    print(f"codegen: wrote {len(outputs)} files to {args.out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m buckyos.codegen``: exit 0, 1 (failed) or 2 (usage)."""
    parser = argparse.ArgumentParser(
        prog="python -m buckyos.codegen",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run(args)
    except CodegenError as exc:
        if exc.usage:
            parser.error(str(exc))
        print(f"codegen: {exc}", file=sys.stderr)
        return 1
