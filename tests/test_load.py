"""64 concurrent clients on each wire of a real system_config process (short in CI).

kRPC over HTTP, gRPC and the WebSocket link, each for a bounded time: zero errors, every
value read back, p99 reported (``tests/.results/load.json``), the server's memory flat
across the run (after a warm-up, it may not grow by more than a bound while the calls go
on) and a clean shutdown (SIGTERM, exit 0).  ``BUCKYOS_SOAK=long`` (or a number of
seconds per wire) makes it a soak; ``python -m tests.soak`` prints the figures.
"""

from __future__ import annotations

from pathlib import Path

from tests.load_runner import HEADER, WIRES, run_wire, stop_cleanly
from tests.reliability_fixtures import ScProcess, budget, rss_kb, save_results

CLIENTS = 64
SECONDS = budget("BUCKYOS_SOAK", 3, 120)
WARM_UP = 1.0
RSS_GROWTH_LIMIT_KB = 24 * 1024  # a leak of even 1 KiB per call would pass this in seconds


def test_64_clients_per_wire_no_errors_flat_memory_clean_exit(tmp_path: Path) -> None:
    process = ScProcess(tmp_path / "sc").start()
    try:
        for wire in WIRES:  # warm-up: connections, caches and allocator arenas
            warm = run_wire(process, wire, clients=CLIENTS, seconds=WARM_UP)
            assert warm.errors == 0, warm.first_errors
        rss_start = rss_kb(process.pid)
        figures = [run_wire(process, wire, clients=CLIENTS, seconds=SECONDS) for wire in WIRES]
        rss_end = rss_kb(process.pid)
        print("\n" + HEADER)
        for item in figures:
            print(item.row())
        save_results(
            "load",
            {
                "clients": CLIENTS,
                "seconds_per_wire": SECONDS,
                "rss_after_warm_up_kb": rss_start,
                "rss_end_kb": rss_end,
                "wires": [item.to_json() for item in figures],
            },
        )
        for item in figures:
            assert item.errors == 0, (item.wire, item.first_errors)
            assert item.calls > CLIENTS * 2, item  # every client got calls through
            assert item.p99_ms > 0
        assert rss_end - rss_start < RSS_GROWTH_LIMIT_KB, (rss_start, rss_end)
        assert stop_cleanly(process) == 0
    finally:
        process.stop(grace=2.0)
