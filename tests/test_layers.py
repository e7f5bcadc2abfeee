"""The runtime's packages import one way only (docs/architecture.md).

Lowest first:

- the contract, ``runtime/*.py`` (errors, auth, descriptor, transport, stub, servicer):
  what generated code imports; it imports nothing else of the runtime at run time;
- ``wire/``: what has no role (the kRPC JSON mapping, JSON text, ASGI pieces, link
  framing, the dispatcher interface and the in-process registry); the contract below it;
- ``security/``: tokens, keys, RBAC, passwords, revocation; the wire below it (its
  keys and boot configs are JSON read with the wire's texts);
- ``client/`` and ``server/``, side by side, each over the three above and never over
  each other;
- ``program/``: the program's runtime (configuration, login, keep-alive), over everything
  but the server;
- ``testing`` (a loopback over both sides) and the package facade ``__init__`` (lazy)
  may name anything.

Imports under ``if TYPE_CHECKING:`` are names for the type checker, not dependencies,
and are not counted.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

RUNTIME = Path(__file__).resolve().parent.parent / "runtime"
PACKAGES = ("wire", "security", "client", "server", "program")
CONTRACT = "contract"
ALLOWED: dict[str, frozenset[str]] = {
    CONTRACT: frozenset({CONTRACT}),
    "wire": frozenset({CONTRACT, "wire"}),
    "security": frozenset({CONTRACT, "wire", "security"}),
    "client": frozenset({CONTRACT, "wire", "security", "client"}),
    "server": frozenset({CONTRACT, "wire", "security", "server"}),
    "program": frozenset({CONTRACT, "wire", "security", "client", "program"}),
}
ANYTHING = frozenset({"__init__.py", "testing.py"})


def layer_of_module(module: str) -> str | None:
    """``buckyos.runtime.server.binding`` -> ``server``; a top-level module -> contract."""
    parts = module.split(".")
    if parts[:2] != ["buckyos", "runtime"]:
        return None
    if len(parts) >= 3 and parts[2] in PACKAGES:
        return parts[2]
    return CONTRACT


def layer_of_file(path: Path) -> str:
    rel = path.relative_to(RUNTIME)
    return rel.parts[0] if len(rel.parts) > 1 else CONTRACT


def runtime_imports(path: Path) -> Iterator[tuple[int, str]]:
    """``(line, module)`` of every run-time import of ``buckyos.runtime...`` in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for_checker: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for_checker.update(id(child) for child in ast.walk(node))
    for node in ast.walk(tree):
        if id(node) in for_checker:
            continue
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.level:
                raise AssertionError(f"{path}:{node.lineno}: relative import; name the package")
            if node.module == "buckyos.runtime" or node.module.startswith("buckyos.runtime."):
                # "from buckyos.runtime.wire import jsontext" imports the module wire.jsontext
                yield node.lineno, node.module
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("buckyos.runtime."):
                    yield node.lineno, alias.name


def modules() -> list[Path]:
    return sorted(
        p for p in RUNTIME.rglob("*.py") if p.name != "__init__.py" or p.parent != RUNTIME
    )


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(RUNTIME)))
def test_imports_flow_one_way(path: Path) -> None:
    if path.parent == RUNTIME and path.name in ANYTHING:
        return
    layer = layer_of_file(path)
    allowed = ALLOWED[layer]
    for line, module in runtime_imports(path):
        target = layer_of_module(module)
        assert target in allowed, (
            f"runtime/{path.relative_to(RUNTIME)}:{line} ({layer}) imports {module} "
            f"({target}); {layer} may import only {sorted(allowed)}"
        )


def test_every_module_has_a_layer() -> None:
    folders = {p.name for p in RUNTIME.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert folders == set(PACKAGES), f"runtime/ folders {sorted(folders)}: give each a layer"


def test_the_checker_sees_a_wrong_import(tmp_path: Path) -> None:
    """The walk above finds imports at any depth and skips only TYPE_CHECKING blocks."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from typing import TYPE_CHECKING\n"
        "from buckyos.runtime.server import binding\n"
        "if TYPE_CHECKING:\n"
        "    from buckyos.runtime.program.runtime import BuckyOSRuntime\n"
        "def f() -> None:\n"
        "    import buckyos.runtime.client.routing\n",
        encoding="utf-8",
    )
    found = [module for _, module in runtime_imports(sample)]
    assert found == ["buckyos.runtime.server", "buckyos.runtime.client.routing"]
    assert [layer_of_module(m) for m in found] == ["server", "client"]


def module_graph(package: str) -> dict[str, set[str]]:
    """Which modules of ``runtime/<package>/`` each of its modules imports, counting
    imports for the type checker too: a cycle hidden behind TYPE_CHECKING is still one."""
    folder = RUNTIME / package
    names = {p.stem for p in folder.glob("*.py") if p.stem != "__init__"}
    prefix = ["buckyos", "runtime", package]
    graph: dict[str, set[str]] = {}
    for name in names:
        found: set[str] = set()
        for node in ast.walk(ast.parse((folder / f"{name}.py").read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                parts = node.module.split(".")
                if parts[:3] == prefix:
                    found.update(parts[3:4] or [alias.name for alias in node.names])
        graph[name] = found & names - {name}
    return graph


@pytest.mark.parametrize("package", PACKAGES)
def test_modules_of_a_package_import_one_way(package: str) -> None:
    graph = module_graph(package)
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        for target in sorted(graph[name]):
            assert target not in path, f"{package}/: import cycle {' -> '.join([*path, target])}"
            if target not in done:
                visit(target, [*path, target])
        done.add(name)

    for name in sorted(graph):
        visit(name, [name])
