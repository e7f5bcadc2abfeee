"""The shared machinery of every benchmark: budgets, timing loops, server processes, table.

Rules it enforces, so that each comparison module cannot get them wrong:

- every loop is bounded in count **and** in seconds (:class:`Budget`), with a warm-up
  first (connections opened, caches filled, code paths taken once);
- the two sides of a ratio are measured alternately ``rounds`` times in the same run and
  the best of each is kept (:func:`best_of`): on a shared 2-core machine the noise is one
  sided (a neighbour only ever makes a run slower), so the best run is the cleanest one;
- servers run in their own process (:class:`ServerProcess`, ``python -m bench.servers``),
  so the load generator and the server never share a GIL; they listen on 127.0.0.1,
  port 0, and are always stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import math
import os
import selectors
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, TypeVar

__all__ = [
    "FULL",
    "QUICK",
    "Budget",
    "Measurement",
    "Row",
    "ServerPool",
    "ServerProcess",
    "UnavailableError",
    "best_of",
    "format_table",
    "measure_async",
    "measure_sync",
    "new_loop",
    "run_async",
]

T = TypeVar("T")

_ROOT: Final = Path(__file__).resolve().parent.parent


class UnavailableError(Exception):
    """A comparison that cannot run here (a service not built yet, a missing extra)."""


@dataclass(frozen=True, slots=True)
class Budget:
    """How long one measurement may run: at most ``calls`` calls and ``seconds`` seconds,
    after ``warmup`` calls; each ratio is measured ``rounds`` times per side."""

    calls: int
    seconds: float
    warmup: int
    rounds: int

    def __post_init__(self) -> None:
        if self.calls < 1 or self.seconds <= 0 or self.warmup < 0 or self.rounds < 1:
            raise ValueError(f"a budget needs calls >= 1, seconds > 0, rounds >= 1: {self}")


QUICK: Final = Budget(calls=400, seconds=0.25, warmup=20, rounds=1)
"""The smoke run: every row once, a few hundred calls each (the whole bench in ~30 s)."""

FULL: Final = Budget(calls=30_000, seconds=2.0, warmup=300, rounds=3)
"""The recorded run: a few minutes on 2 cores."""


@dataclass(slots=True)
class Measurement:
    """``calls`` calls completed in ``seconds`` wall time, with each call's latency (ns)."""

    label: str
    calls: int
    seconds: float
    latencies_ns: list[int] = field(repr=False)
    concurrency: int = 1

    @property
    def rate(self) -> float:
        """Calls per second."""
        return self.calls / self.seconds if self.seconds > 0 else 0.0

    @property
    def mean_us(self) -> float:
        """Wall time per call in microseconds (1 / rate; for sequential loops, the cost)."""
        return 1e6 / self.rate if self.rate > 0 else math.inf

    def percentile_us(self, q: float) -> float:
        """Latency at quantile ``q`` (0..1) in microseconds (nearest rank)."""
        if not self.latencies_ns:
            return 0.0
        ordered = sorted(self.latencies_ns)
        rank = min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))
        return ordered[rank] / 1000.0

    @property
    def p50_us(self) -> float:
        return self.percentile_us(0.50)

    @property
    def p99_us(self) -> float:
        return self.percentile_us(0.99)


def measure_sync(label: str, call: Callable[[], object], budget: Budget) -> Measurement:
    """Call ``call`` back to back: ``budget.warmup`` calls, then until count or time runs out."""
    for _ in range(budget.warmup):
        call()
    clock = time.perf_counter_ns
    latencies: list[int] = []
    record = latencies.append
    limit = budget.calls
    start = clock()
    deadline = start + int(budget.seconds * 1e9)
    now = start
    while len(latencies) < limit and now < deadline:
        call()
        after = clock()
        record(after - now)
        now = after
    return Measurement(label, len(latencies), (now - start) / 1e9, latencies)


async def measure_async(
    label: str,
    call: Callable[[], Awaitable[object]],
    budget: Budget,
    *,
    concurrency: int,
) -> Measurement:
    """``concurrency`` tasks calling ``call`` in a loop, sharing one count and one deadline.

    Warm-up first runs ``max(warmup, 2 * concurrency)`` calls with the same concurrency, so
    that every connection a client opens lazily is open before the clock starts.
    """
    clock = time.perf_counter_ns
    latencies: list[int] = []
    record = latencies.append
    launched = [0]

    async def worker(limit: int, deadline: int, keep: bool) -> None:
        # Both bounds are shared by all tasks: the count of calls launched, the deadline.
        while launched[0] < limit and clock() < deadline:
            launched[0] += 1
            before = clock()
            await call()
            if keep:
                record(clock() - before)

    warm_limit = max(budget.warmup, 2 * concurrency)
    warm_deadline = clock() + int(max(budget.seconds, 1.0) * 1e9)
    await asyncio.gather(*(worker(warm_limit, warm_deadline, False) for _ in range(concurrency)))
    launched[0] = 0
    start = clock()
    deadline = start + int(budget.seconds * 1e9)
    await asyncio.gather(*(worker(budget.calls, deadline, True) for _ in range(concurrency)))
    seconds = (clock() - start) / 1e9
    return Measurement(label, len(latencies), seconds, latencies, concurrency)


def new_loop() -> asyncio.AbstractEventLoop:
    """The client-side event loop: uvloop when installed (what ``serve.run`` uses too)."""
    if importlib.util.find_spec("uvloop") is not None:
        import uvloop

        return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion on a fresh client loop (see :func:`new_loop`)."""
    with asyncio.Runner(loop_factory=new_loop) as runner:
        return runner.run(coro)


def best_of(budget: Budget, *sides: Callable[[], Measurement]) -> tuple[Measurement, ...]:
    """Measure each side ``budget.rounds`` times, alternating, and keep each side's best."""
    best: list[Measurement | None] = [None] * len(sides)
    for _ in range(budget.rounds):
        for index, side in enumerate(sides):
            measured = side()
            current = best[index]
            if current is None or measured.rate > current.rate:
                best[index] = measured
    return tuple(m for m in best if m is not None)


# --- results -----------------------------------------------------------------------------


@dataclass(slots=True)
class Row:
    """One line of the table: ``ours`` against ``base``.

    ``metric`` says how they are compared: ``"ratio"`` is ours.rate / base.rate (higher is
    better, ``target`` a minimum); ``"overhead_us"`` is ours.mean_us - base.mean_us (lower is
    better, ``target`` a maximum); ``"cost_ratio"`` is ours.mean_us / base.mean_us (higher
    is better: how many times cheaper ``base`` is).
    """

    item: str
    title: str
    ours: Measurement
    base: Measurement
    metric: str = "ratio"
    target: float | None = None
    note: str = ""

    @property
    def value(self) -> float:
        if self.metric == "overhead_us":
            return self.ours.mean_us - self.base.mean_us
        if self.metric == "cost_ratio":
            return self.ours.mean_us / self.base.mean_us if self.base.mean_us > 0 else 0.0
        return self.ours.rate / self.base.rate if self.base.rate > 0 else 0.0

    @property
    def met(self) -> bool | None:
        """Whether the target is met; ``None`` when the row has no target."""
        if self.target is None:
            return None
        if self.metric == "overhead_us":
            return self.value <= self.target
        return self.value >= self.target

    def value_text(self) -> str:
        if self.metric == "overhead_us":
            return f"+{self.value:.1f} us"
        return f"{self.value:.2f}x"

    def target_text(self) -> str:
        if self.target is None:
            return "-"
        if self.metric == "overhead_us":
            return f"<= {self.target:g} us"
        return f">= {self.target:g}x"

    def as_dict(self) -> dict[str, Any]:
        """The row as plain data (``--json``)."""

        def side(m: Measurement) -> dict[str, Any]:
            return {
                "label": m.label,
                "calls": m.calls,
                "seconds": round(m.seconds, 4),
                "rate": round(m.rate, 1),
                "p50_us": round(m.p50_us, 1),
                "p99_us": round(m.p99_us, 1),
                "concurrency": m.concurrency,
            }

        return {
            "item": self.item,
            "title": self.title,
            "metric": self.metric,
            "value": round(self.value, 4),
            "target": self.target,
            "met": self.met,
            "ours": side(self.ours),
            "base": side(self.base),
            "note": self.note,
        }


def _rate(m: Measurement) -> str:
    return f"{m.rate:,.0f}" if m.rate >= 100 else f"{m.rate:,.1f}"


def _us(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def format_table(rows: list[Row], skipped: list[tuple[str, str, str]]) -> str:
    """The results as one Markdown table (and the comparisons that could not run)."""
    header = (
        "| # | comparison | ours | calls/s | p50 us | p99 us | baseline | calls/s | p50 us "
        "| p99 us | result | target | met |"
    )
    lines = [header, "|" + "---|" * 13]
    for row in rows:
        met = {None: "", True: "yes", False: "**no**"}[row.met]
        lines.append(
            f"| {row.item} | {row.title} | {row.ours.label} | {_rate(row.ours)} "
            f"| {_us(row.ours.p50_us)} | {_us(row.ours.p99_us)} | {row.base.label} "
            f"| {_rate(row.base)} | {_us(row.base.p50_us)} | {_us(row.base.p99_us)} "
            f"| {row.value_text()} | {row.target_text()} | {met} |"
        )
    for item, title, reason in skipped:
        lines.append(f"| {item} | {title} | not run: {reason} |" + " |" * 10)
    return "\n".join(lines)


# --- server processes --------------------------------------------------------------------


class ServerProcess:
    """One ``python -m bench.servers KIND`` process: started, awaited, always stopped.

    The child prints one JSON line (its bound addresses) once it listens; the parent
    waits for it with a deadline, and stops the child with SIGTERM (then SIGKILL).  The
    configuration goes through stdin as JSON, so keys never appear on a command line.
    """

    def __init__(
        self,
        argv: list[str],
        *,
        config: dict[str, Any] | None = None,
        ready: Callable[[str], dict[str, Any] | None] | None = None,
        start_timeout: float = 30.0,
        name: str = "server",
    ) -> None:
        self.argv = argv
        self.config = config
        self.name = name
        self.start_timeout = start_timeout
        self._ready = ready if ready is not None else _json_line
        self._proc: subprocess.Popen[bytes] | None = None
        self.info: dict[str, Any] = {}
        self._output: list[str] = []

    def start(self) -> dict[str, Any]:
        env = dict(os.environ)
        # The bench runs from the repository root: make `bench` importable in the child.
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_ROOT), env.get("PYTHONPATH", "")) if p)
        self._proc = subprocess.Popen(
            self.argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=_ROOT,
            env=env,
        )
        try:
            assert self._proc.stdin is not None
            if self.config is not None:
                self._proc.stdin.write(json.dumps(self.config).encode())
            self._proc.stdin.close()
            self.info = self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self.info

    def _wait_ready(self) -> dict[str, Any]:
        proc = self._proc
        assert proc is not None and proc.stdout is not None
        # Raw reads on the fd: a buffered readline could hold lines select() cannot see.
        fd = proc.stdout.fileno()
        pending = b""
        deadline = time.monotonic() + self.start_timeout
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while time.monotonic() < deadline:
                if not sel.select(timeout=min(max(deadline - time.monotonic(), 0), 0.2)):
                    if proc.poll() is not None:
                        break
                    continue
                chunk = os.read(fd, 65536)
                if not chunk:
                    proc.wait(timeout=5)
                    break
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for raw in lines:
                    line = raw.decode("utf-8", "replace")
                    self._output.append(line)
                    info = self._ready(line)
                    if info is not None:
                        self._drain(fd)
                        return info
        if pending:
            self._output.append(pending.decode("utf-8", "replace"))
        output = "\n".join(self._output[-20:])
        raise RuntimeError(
            f"{self.name} ({' '.join(self.argv[1:])}) did not become ready in "
            f"{self.start_timeout:g}s (exit code {proc.poll()}); its output:\n{output}"
        )

    def _drain(self, fd: int) -> None:
        """Keep reading the child's output (its last lines) so that it never blocks on a
        full pipe while it serves."""

        def read() -> None:
            while True:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    return
                if not chunk:
                    return
                self._output.extend(chunk.decode("utf-8", "replace").splitlines())
                del self._output[:-50]

        threading.Thread(target=read, name=f"bench-{self.name}-output", daemon=True).start()

    @property
    def output(self) -> list[str]:
        """The last lines the process printed."""
        return list(self._output)

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()

    def __enter__(self) -> dict[str, Any]:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _json_line(line: str) -> dict[str, Any] | None:
    line = line.strip()
    if not line.startswith("{"):
        return None
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) and value.get("ready") else None


class ServerPool:
    """The bench servers of one run, started on first use and all stopped at the end."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self._servers: dict[str, tuple[ServerProcess, dict[str, Any]]] = {}
        self._stack = contextlib.ExitStack()

    def get(self, kind: str) -> dict[str, Any]:
        """The addresses of the ``kind`` server (see ``bench.servers``), starting it."""
        entry = self._servers.get(kind)
        if entry is None:
            proc = ServerProcess(
                [sys.executable, "-m", "bench.servers", kind], config=self.config, name=kind
            )
            info = proc.start()
            self._stack.callback(proc.stop)
            entry = self._servers[kind] = (proc, info)
        return entry[1]

    def add(self, proc: ServerProcess) -> dict[str, Any]:
        """Start another process (a service under test) and stop it with the pool."""
        info = proc.start()
        self._stack.callback(proc.stop)
        return info

    def close(self) -> None:
        self._servers.clear()
        self._stack.close()

    def __enter__(self) -> ServerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
