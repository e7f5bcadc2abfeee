"""Start a service as its own process and learn where it listens; stop it again.

A zone's services outlive the ``buckyos zone up`` that started them, so each runs in its
own session with its output going to a log file, and the address it bound (port 0 picks a
free one) is read back from the ``... listening on <address>`` lines it prints there.

Whoever starts services must be able to stop them whatever happens: ``spawned(pid)`` is
called as soon as a process exists (before it is ready), and :class:`SignalGuard` turns
SIGINT, SIGTERM and SIGHUP into :class:`Interrupted` everywhere except between a process's
start and that call, and while the started processes are being stopped.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Final

from buckyos.runtime import ConfigError

__all__ = [
    "Interrupted",
    "SignalGuard",
    "Started",
    "alive",
    "runs_module",
    "start_service",
    "stop_pid",
]

_LISTENING: Final = re.compile(
    r"^(kRPC|gRPC|kRPC\+TLS|gRPC\+TLS|gateway) listening on (\S+)\s*$", re.MULTILINE
)


@dataclass(frozen=True, slots=True)
class Started:
    """A started service: its pid and the addresses it printed (``kRPC``/``gRPC``/
    ``kRPC+TLS``/``gRPC+TLS``/``gateway``)."""

    name: str
    pid: int
    addresses: dict[str, str]
    log: Path


class Interrupted(KeyboardInterrupt):
    """A stop signal (SIGINT, SIGTERM, SIGHUP) arrived while a :class:`SignalGuard` held."""

    def __init__(self, signum: int, stopped: tuple[str, ...] = ()) -> None:
        self.signum = signum
        self.signame = signal.Signals(signum).name
        self.stopped = stopped
        """What was started and is stopped again (set by whoever stopped it)."""
        super().__init__(self.signame)


_GUARDED: Final = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class SignalGuard:
    """While entered (in the main thread; elsewhere it does nothing): a stop signal raises
    :class:`Interrupted`, except inside :meth:`held` (raised when the outermost ``held``
    block ends) and after :meth:`closing` (only noted: stopping what was started is
    bounded and must not be cut short).  The previous handlers are put back on exit."""

    def __init__(self) -> None:
        self._held = 0
        self._closing = False
        self.pending: int | None = None
        """The first signal that arrived while it could not be raised."""
        self._previous: dict[signal.Signals, signal._HANDLER] = {}

    def __enter__(self) -> SignalGuard:
        if threading.current_thread() is threading.main_thread():
            for sig in _GUARDED:
                self._previous[sig] = signal.signal(sig, self._on_signal)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, previous if previous is not None else signal.SIG_DFL)
        self._previous.clear()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self._held or self._closing:
            if self.pending is None:
                self.pending = signum
            return
        raise Interrupted(signum)

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """A block no stop signal cuts in two (a start and its record)."""
        self._held += 1
        try:
            yield
        finally:
            self._held -= 1
        if not self._held and not self._closing and self.pending is not None:
            raise Interrupted(self.pending)

    @contextlib.contextmanager
    def closing(self) -> Iterator[None]:
        """From here on signals are only noted (``pending``)."""
        self._closing = True
        yield


def alive(pid: int) -> bool:
    """Whether ``pid`` is a running (not zombie) process."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def runs_module(pid: int, module: str) -> bool:
    """Whether ``pid`` is alive and runs ``python -m <module>`` (so a recorded pid that
    the system gave to another program since is not taken for a service).  Without
    ``/proc`` only whether it is alive."""
    if not alive(pid):
        return False
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = f.read().split(b"\0")
    except FileNotFoundError:  # gone since, or a system without /proc
        return not os.path.isdir("/proc/self")
    except OSError:
        return True
    return module.encode() in argv


def start_service(
    name: str,
    module: str,
    args: Sequence[str],
    log: Path,
    *,
    expect: Sequence[str],
    timeout: float = 30.0,
    env: dict[str, str] | None = None,
    spawned: Callable[[int], None] | None = None,
    guard: SignalGuard | None = None,
    pass_fds: Sequence[int] = (),
) -> Started:
    """Run ``python -m <module> <args>`` detached; wait until it printed each of ``expect``.

    ``spawned(pid)`` is called as soon as the process exists, inside ``guard.held()`` with
    the start (a stop signal cannot fall between them); a failure or an interruption after
    that leaves stopping the process to whoever recorded it.  ``pass_fds`` stay open in
    the process (a lock it holds while it lives).

    A process that exits first, or stays silent past ``timeout``, is a ``ConfigError``
    quoting the end of its log (a port in use shows up there), and is not left running.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    start_at = log.stat().st_size if log.exists() else 0
    with guard.held() if guard is not None else contextlib.nullcontext():
        with open(log, "ab") as out:
            proc = subprocess.Popen(  # the zone outlives this process: its own session
                [sys.executable, "-m", module, *args],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env=env,
                pass_fds=tuple(pass_fds),
            )
        if spawned is not None:
            spawned(proc.pid)
    deadline = time.monotonic() + timeout
    found: dict[str, str] = {}
    while True:
        text = _read_from(log, start_at)
        found = {kind: address for kind, address in _LISTENING.findall(text)}
        if all(kind in found for kind in expect):
            return Started(name, proc.pid, found, log)
        code = proc.poll()
        if code is not None or time.monotonic() > deadline:
            if code is None:
                stop_pid(proc.pid, grace=2.0)
            why = f"exited with status {code}" if code is not None else f"not ready in {timeout:g}s"
            raise ConfigError(f"{name} {why}; the end of {log}:\n{_tail(text)}")
        time.sleep(0.05)


def _read_from(path: Path, offset: int) -> str:
    with open(path, "rb") as f:
        f.seek(offset)
        return f.read().decode("utf-8", "replace")


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join("    " + line for line in text.strip().splitlines()[-lines:]) or "    (empty)"


def stop_pid(pid: int, *, grace: float = 10.0) -> bool:
    """SIGTERM ``pid`` (its whole session), SIGKILL after ``grace`` seconds; True if it ran."""
    if not alive(pid):
        _reap(pid)
        return False
    _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        _reap(pid)
        if not alive(pid):
            return True
        time.sleep(0.05)
    _signal(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5.0
    while alive(pid) and time.monotonic() < deadline:
        _reap(pid)
        time.sleep(0.05)
    return True


def _signal(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)  # started with start_new_session: pid is its group
    except (ProcessLookupError, PermissionError):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def _reap(pid: int) -> None:
    """Collect the exit status when ``pid`` is our child (a zone started in this process)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
