"""Sustained load on a real system_config process: N concurrent clients per wire.

Shared by ``tests/test_load.py`` (short, CI) and ``tests/soak.py`` (long, ``make soak``).
Each client has its own connection (a ``KrpcTransport``, a ``GrpcTransport`` or a
``WsLink``) and loops ``Set`` then ``Get`` of its own key for the given time, checking
every value read back.  The figures: calls, errors, calls/s, p50/p99/max latency, and the
server's resident memory before, between and after the wires.
"""

from __future__ import annotations

import asyncio
import os
import signal
import statistics
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Final

from buckyos.generated.system_config_rpc import AsyncSystemConfigStub
from buckyos.runtime.client.grpc_client import GrpcTransport
from buckyos.runtime.client.krpc_client import KrpcTransport
from buckyos.runtime.client.link_client import WsLink
from tests.reliability_fixtures import ScProcess, rss_kb

__all__ = ["HEADER", "WIRES", "WireFigures", "run_wire", "stop_cleanly"]

WIRES: Final = ("krpc", "grpc", "ws")


@dataclass
class WireFigures:
    """What one wire did under load."""

    wire: str
    clients: int
    seconds: float
    calls: int = 0
    errors: int = 0
    first_errors: list[str] = field(default_factory=list)
    calls_per_s: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    rss_before_kb: int = 0
    rss_after_kb: int = 0

    def row(self) -> str:
        return (
            f"{self.wire:<5} {self.clients:>7} {self.seconds:>6.0f} {self.calls:>8} "
            f"{self.errors:>6} {self.calls_per_s:>8.0f} {self.p50_ms:>7.2f} {self.p99_ms:>7.2f} "
            f"{self.max_ms:>8.2f} {self.rss_before_kb / 1024:>8.1f} "
            f"{self.rss_after_kb / 1024:>8.1f}"
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


HEADER: Final = (
    "wire  clients      s    calls errors  calls/s  p50 ms  p99 ms   max ms  RSS0 MiB  RSS1 MiB"
)


async def _client(
    process: ScProcess,
    wire: str,
    index: int,
    until: float,
    figures: WireFigures,
    samples: list[float],
) -> None:
    key = f"load/{wire}/c{index}"
    token = process.root_token
    if wire == "ws":
        async with WsLink(process.krpc_url, token=token) as link:
            n = 0
            while time.monotonic() < until:
                value = f"{index}.{n}"
                try:
                    start = time.perf_counter()
                    await link.call("system_config", "sys_config_set", {"key": key, "value": value})
                    got = await link.call("system_config", "sys_config_get", {"key": key})
                    samples.append(time.perf_counter() - start)
                    if not isinstance(got, dict) or got.get("value") != value:
                        raise AssertionError(f"read back {got!r} after writing {value!r}")
                    figures.calls += 2
                except Exception as exc:
                    figures.errors += 1
                    if len(figures.first_errors) < 5:
                        figures.first_errors.append(f"{type(exc).__name__}: {exc}")
                n += 1
        return
    transport: KrpcTransport | GrpcTransport
    if wire == "krpc":
        transport = KrpcTransport(process.krpc_url, token=token)
    else:
        transport = GrpcTransport(process.grpc_target, token=token)
    stub = AsyncSystemConfigStub(transport, timeout=15)
    try:
        n = 0
        while time.monotonic() < until:
            value = f"{index}.{n}"
            try:
                start = time.perf_counter()
                await stub.Set(key=key, value=value)
                got = await stub.Get(key=key)
                samples.append(time.perf_counter() - start)
                if got.value != value:
                    raise AssertionError(f"read back {got.value!r} after writing {value!r}")
                figures.calls += 2
            except Exception as exc:
                figures.errors += 1
                if len(figures.first_errors) < 5:
                    figures.first_errors.append(f"{type(exc).__name__}: {exc}")
            n += 1
    finally:
        await transport.aclose()


def run_wire(process: ScProcess, wire: str, *, clients: int, seconds: float) -> WireFigures:
    """``clients`` concurrent clients on ``wire`` for ``seconds``; latencies per Set+Get pair
    halved into per-call figures."""
    figures = WireFigures(wire, clients, seconds, rss_before_kb=rss_kb(process.pid))
    samples: list[float] = []

    async def main() -> None:
        until = time.monotonic() + seconds
        await asyncio.gather(
            *(_client(process, wire, i, until, figures, samples) for i in range(clients))
        )

    started = time.monotonic()
    asyncio.run(main())
    elapsed = time.monotonic() - started
    figures.rss_after_kb = rss_kb(process.pid)
    figures.calls_per_s = figures.calls / elapsed if elapsed > 0 else 0.0
    if samples:
        ms = sorted(s * 1000 / 2 for s in samples)  # a sample is one Set plus one Get
        figures.p50_ms = statistics.median(ms)
        figures.p99_ms = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
        figures.max_ms = ms[-1]
    return figures


def stop_cleanly(process: ScProcess, timeout: float = 15.0) -> int | None:
    """SIGTERM; the exit status (``None``: not ours to reap, or still running after
    ``timeout``, in which case it is killed)."""
    pid = process.pid
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return None
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.02)
    process.kill()
    return None
