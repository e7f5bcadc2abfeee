"""Write the generated parts of ``docs/security.md`` and ``docs/reliability.md``.

    python -m tests.security_table [--run]

``--run`` first runs the suites that record results (``test_security_tokens.py``,
``test_fuzz_krpc.py``, ``test_fuzz_ws.py``, ``test_load.py``); without it the last saved
results in ``tests/.results/`` are used.  Each doc keeps its hand-written text; only the
part between ``<!-- generated:NAME -->`` and ``<!-- /generated:NAME -->`` is replaced.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.reliability_fixtures import RESULTS_DIR, load_results

__all__ = ["fill", "main", "reliability_figures", "security_results", "security_table"]

ROOT = Path(__file__).resolve().parent.parent
SUITES = (
    *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests").glob("test_security_*.py")),
    "tests/test_fuzz_krpc.py",
    "tests/test_fuzz_ws.py",
    "tests/test_load.py",
)
WIRE_NAMES = {"krpc": "kRPC/HTTP", "grpc": "gRPC"}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def security_results() -> dict[str, Any]:
    """Every suite's saved ``security-*`` results as one: their cases in suite order, and
    the oldest run time (the table is as old as its oldest part)."""
    merged: dict[str, Any] = {"cases": []}
    times = []
    for path in sorted(RESULTS_DIR.glob("security-*.json")):
        data = load_results(path.stem)
        merged["cases"].extend(data.get("cases", []))
        if "run_at" in data:
            times.append(data["run_at"])
    if times:
        merged["run_at"] = min(times)
    return merged


def security_table(results: dict[str, Any]) -> str:
    """One row per attack (both wires merged when they answered alike)."""
    rows: dict[tuple[str, str, str], dict[str, Any]] = {}
    for case in results.get("cases", []):
        key = (case["id"], case["attack"], case["expected"])
        row = rows.setdefault(key, {"wires": [], "ok": True, "store": set(), "also": case["also"]})
        row["wires"].append(WIRE_NAMES.get(case["wire"], case["wire"]))
        row["ok"] = row["ok"] and case["refused_as_expected"] and case["store"] != "CHANGED"
        row["store"].add(case["store"])
    lines = [
        f"Last run: {results.get('run_at', 'never')} ({len(results.get('cases', []))} checks).",
        "",
        "| # | attack | wire | answer (upstream text) | result | store after | unit test |",
        "|---|---|---|---|---|---|---|",
    ]
    for number, ((case_id, attack, expected), row) in enumerate(rows.items(), 1):
        also = f"`{row['also'].removeprefix('tests/')}`" if row["also"] else ""
        result = "refused as expected" if row["ok"] else "**FAILED**"
        lines.append(
            f"| {number} | {_cell(attack)} (`{case_id}`) | {', '.join(row['wires'])} | "
            f"`{_cell(expected)}` | {result} | {', '.join(sorted(row['store']))} | {also} |"
        )
    return "\n".join(lines)


def reliability_figures(load: dict[str, Any], krpc: dict[str, Any], ws: dict[str, Any]) -> str:
    """The load table and the fuzzing memory figures of the last runs."""
    lines = [
        f"Load: {load.get('clients', '?')} concurrent clients per wire, "
        f"{load.get('seconds_per_wire', '?')} s each (Set then Get of the client's own key).",
        "",
        "| wire | calls | errors | calls/s | p50 ms | p99 ms | max ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for wire in load.get("wires", []):
        lines.append(
            f"| {wire['wire']} | {wire['calls']} | {wire['errors']} | {wire['calls_per_s']:.0f} | "
            f"{wire['p50_ms']:.1f} | {wire['p99_ms']:.1f} | {wire['max_ms']:.1f} |"
        )
    if load:
        lines += [
            "",
            f"Server RSS after warm-up {load['rss_after_warm_up_kb'] / 1024:.1f} MiB, at the end "
            f"{load['rss_end_kb'] / 1024:.1f} MiB.",
        ]
    for name, data in (("kRPC endpoint", krpc), ("WebSocket link", ws)):
        if data:
            lines.append(
                f"Fuzzing the {name}: {data['examples_per_strategy']} examples per strategy, "
                f"server RSS {data['rss_before_kb'] / 1024:.1f} -> "
                f"{data['rss_after_kb'] / 1024:.1f} MiB."
            )
    if krpc.get("statuses"):
        statuses = ", ".join(f"{k}: {v}" for k, v in krpc["statuses"].items())
        lines.append(f"kRPC answers by HTTP status: {statuses} (never 5xx).")
    return "\n".join(lines)


def fill(path: Path, name: str, body: str) -> None:
    """Replace the ``name`` generated block of ``path`` with ``body``."""
    text = path.read_text(encoding="utf-8")
    pattern = re.compile(
        rf"(<!-- generated:{name} -->\n)(?:.*?\n)?(<!-- /generated:{name} -->)", re.DOTALL
    )
    if not pattern.search(text):
        raise SystemExit(f"{path}: no <!-- generated:{name} --> block to fill")
    path.write_text(
        pattern.sub(lambda m: m.group(1) + body + "\n" + m.group(2), text), encoding="utf-8"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.security_table")
    parser.add_argument("--run", action="store_true", help="run the recording suites first")
    args = parser.parse_args(argv)
    if args.run:
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", *SUITES], cwd=ROOT)
        if done.returncode != 0:
            print("the suites failed: the docs keep their last figures", file=sys.stderr)
            return 1
    fill(ROOT / "docs" / "security.md", "attacks", security_table(security_results()))
    fill(
        ROOT / "docs" / "reliability.md",
        "figures",
        reliability_figures(
            load_results("load"), load_results("fuzz_krpc"), load_results("fuzz_ws")
        ),
    )
    print("wrote docs/security.md and docs/reliability.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
