"""Run every comparison and print one table: ``python -m bench [--quick] [--only 1,5b]``.

The comparisons run in a fixed order against servers started once for the run (see
:class:`~bench.harness.ServerPool`); a comparison whose service is not built yet is
listed as not run, with the reason.  Numbers are printed, never judged: the exit code is
0 whatever the ratios (CI runs ``--quick`` to prove the bench works, not to gate on it).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Final

from .context import Context
from .fixture import BenchKeys
from .harness import FULL, QUICK, Budget, Row, ServerPool, UnavailableError, format_table

__all__ = ["COMPARISONS", "Report", "environment", "main", "run"]

COMPARISONS: Final = (
    "grpc_stub",  # 1
    "krpc_sync",  # 2
    "krpc_async",  # 3
    "server_overhead",  # 4
    "wires",  # 5
    "gateway_path",  # 5b
    "inprocess",  # 6
    "enforce",  # 7
    "system_config_service",  # 8
    "system_config_etcd",  # 8b
    "connect_peer",  # 9
)
"""The comparison modules of ``bench``, in table order; each has ITEM, TITLE and run()."""

_PACKAGES: Final = (
    "grpcio",
    "protobuf",
    "uvicorn",
    "uvloop",
    "httptools",
    "aiohttp",
    "httpx",
    "connect-python",
    "pyqwest",
    "PyJWT",
    "cryptography",
)


@dataclass(slots=True)
class Report:
    """The outcome of a run: the rows, the comparisons not run (item, title, reason)."""

    rows: list[Row] = field(default_factory=list)
    skipped: list[tuple[str, str, str]] = field(default_factory=list)
    seconds: float = 0.0
    quick: bool = False

    def table(self) -> str:
        return format_table(self.rows, self.skipped)

    def as_dict(self) -> dict[str, Any]:
        return {
            "quick": self.quick,
            "seconds": round(self.seconds, 1),
            "environment": environment(),
            "rows": [row.as_dict() for row in self.rows],
            "skipped": [
                {"item": item, "title": title, "reason": reason}
                for item, title, reason in self.skipped
            ],
        }


def environment() -> dict[str, str]:
    """The machine and the versions a table was measured with."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    import os

    env = {
        "cpus": str(os.cpu_count()),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    for name in _PACKAGES:
        try:
            env[name] = version(name)
        except PackageNotFoundError:
            env[name] = "not installed"
    return env


def run(
    *,
    quick: bool = False,
    only: Sequence[str] | None = None,
    budget: Budget | None = None,
    progress: Callable[[str], None] | None = None,
) -> Report:
    """Run the comparisons (all, or the items in ``only``) and return their rows.

    A comparison that raises :class:`UnavailableError` is recorded as skipped; any other error
    propagates (a broken bench must fail loudly, in CI too).
    """
    chosen = budget if budget is not None else (QUICK if quick else FULL)
    report = Report(quick=quick)
    started = time.perf_counter()
    keys = BenchKeys.generate()
    with (
        tempfile.TemporaryDirectory(prefix="buckyos-bench-") as workdir,
        ServerPool(keys.server_config()) as pool,
    ):
        ctx = Context(chosen, pool, keys, keys.token(), Path(workdir), quick)
        for name in COMPARISONS:
            module = import_module(f"bench.{name}")
            item: str = module.ITEM
            title: str = module.TITLE
            if only is not None and item not in only:
                continue
            if progress is not None:
                progress(f"[{item}] {title}")
            begun = time.perf_counter()
            try:
                rows: list[Row] = module.run(ctx)
            except UnavailableError as why:
                report.skipped.append((item, title, str(why)))
                if progress is not None:
                    progress(f"    not run: {why}")
                continue
            report.rows.extend(rows)
            if progress is not None:
                progress(f"    {len(rows)} row(s) in {time.perf_counter() - begun:.1f}s")
    report.seconds = time.perf_counter() - started
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bench``: run, print the table (and ``--json`` to a file)."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny budget: a smoke run")
    parser.add_argument(
        "--only", default=None, help="comma-separated items to run, e.g. 1,2,5b (default: all)"
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args(argv)
    only = [item.strip() for item in args.only.split(",")] if args.only else None

    def progress(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    report = run(quick=args.quick, only=only, progress=progress)
    env = environment()
    print(
        f"# {'quick' if args.quick else 'full'} run, {report.seconds:.0f}s; "
        f"{env['cpus']} x {env['cpu']}; Python {env['python']}"
    )
    print(report.table())
    if args.json is not None:
        args.json.write_text(json.dumps(report.as_dict(), indent=2) + "\n")
    return 0
