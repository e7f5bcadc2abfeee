"""``<root>/run/zone.lock``: held while anything of the zone runs.

``zone up`` takes the lock (``flock``, exclusive, never waiting) before it starts
anything and hands the locked file to every service it starts, so the lock stays held
until the last of them exits, whatever happened to ``zone up`` or to the run file.  A
second ``zone up`` that finds it held refuses: two system_config processes never share
one SQLite file.  :func:`lock_holders` names the processes that hold it, so ``zone
down`` also stops services no run file lists (a ``zone up`` killed with SIGKILL).
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

__all__ = ["ZoneLock", "lock_held", "lock_holders"]


class ZoneLock:
    """The zone's lock, taken by :meth:`acquire` and released when the block ends (the
    services that inherited :attr:`fd` keep holding it)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None

    def acquire(self) -> bool:
        """Take the lock; ``False`` when someone holds it (``OSError`` if the file cannot
        be made)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            for attempt in range(5):  # a `zone status` may hold it for a moment
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    if attempt == 4:
                        os.close(fd)
                        return False
                    time.sleep(0.02)
                else:
                    break
        except BaseException:
            os.close(fd)
            raise
        self.fd = fd
        return True

    def __enter__(self) -> ZoneLock:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fd is not None:
            os.close(self.fd)  # the services that inherited it still hold the lock
            self.fd = None


def lock_held(path: Path) -> bool:
    """Whether some process holds the lock at ``path`` (no file: nobody)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)
    return False


def lock_holders(path: Path) -> list[int]:
    """The pids (other than this one) with ``path`` open, read from ``/proc/*/fd``; empty
    without ``/proc`` or when the file is not there."""
    try:
        target = os.path.realpath(path, strict=True)
        pids = [int(name) for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return []
    found: list[int] = []
    for pid in pids:
        if pid == os.getpid():
            continue
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == target:
                    found.append(pid)
                    break
            except OSError:
                continue
    return found
