"""``make soak``: 64 clients per wire against a real system_config process, for minutes.

    python -m tests.soak [--seconds 120] [--clients 64]

Prints one row per wire (calls, errors, calls/s, p50/p99/max latency, server RSS before
and after), the memory growth across the whole run and the exit status of the SIGTERM
shutdown; saves them to ``tests/.results/soak.json``.  Exit 1 when any call failed, the
memory grew by more than ``--rss-limit-mib`` or the shutdown was not clean.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from tests.load_runner import HEADER, WIRES, run_wire, stop_cleanly
from tests.reliability_fixtures import ScProcess, rss_kb, save_results

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.soak", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--seconds", type=float, default=120.0, help="per wire")
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--rss-limit-mib", type=float, default=24.0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="buckyos-soak-") as tmp:
        process = ScProcess(Path(tmp)).start()
        try:
            for wire in WIRES:
                run_wire(process, wire, clients=args.clients, seconds=1.0)  # warm-up
            rss_start = rss_kb(process.pid)
            print(HEADER, flush=True)
            figures = []
            for wire in WIRES:
                figures.append(run_wire(process, wire, clients=args.clients, seconds=args.seconds))
                print(figures[-1].row(), flush=True)
            rss_end = rss_kb(process.pid)
            code = stop_cleanly(process)
        finally:
            process.stop(grace=2.0)
    growth = (rss_end - rss_start) / 1024
    print(f"server RSS {rss_start / 1024:.1f} -> {rss_end / 1024:.1f} MiB ({growth:+.1f} MiB)")
    print(f"SIGTERM shutdown: exit {code}")
    save_results(
        "soak",
        {
            "clients": args.clients,
            "seconds_per_wire": args.seconds,
            "rss_after_warm_up_kb": rss_start,
            "rss_end_kb": rss_end,
            "exit_code": code,
            "wires": [item.to_json() for item in figures],
        },
    )
    errors = sum(item.errors for item in figures)
    ok = errors == 0 and growth < args.rss_limit_mib and code == 0
    print("soak OK" if ok else f"soak FAILED: {errors} errors, {growth:+.1f} MiB, exit {code}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
