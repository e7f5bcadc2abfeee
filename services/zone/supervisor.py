"""Start a service as its own process and learn where it listens; stop it again.

A zone's services outlive the ``buckyos zone up`` that started them, so each runs in its
own session with its output going to a log file, and the address it bound (port 0 picks a
free one) is read back from the ``... listening on <address>`` lines it prints there.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from buckyos.runtime import ConfigError

__all__ = ["Started", "alive", "start_service", "stop_pid"]

_LISTENING: Final = re.compile(r"^(kRPC|gRPC|gateway) listening on (\S+)\s*$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Started:
    """A started service: its pid and the addresses it printed (``kRPC``/``gRPC``/...)."""

    name: str
    pid: int
    addresses: dict[str, str]
    log: Path


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


def start_service(
    name: str,
    module: str,
    args: Sequence[str],
    log: Path,
    *,
    expect: Sequence[str],
    timeout: float = 30.0,
    env: dict[str, str] | None = None,
) -> Started:
    """Run ``python -m <module> <args>`` detached; wait until it printed each of ``expect``.

    A process that exits first, or stays silent past ``timeout``, is a ``ConfigError``
    quoting the end of its log (a port in use shows up there), and is not left running.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    start_at = log.stat().st_size if log.exists() else 0
    with open(log, "ab") as out:
        proc = subprocess.Popen(  # the zone outlives this process: its own session
            [sys.executable, "-m", module, *args],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=env,
        )
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
