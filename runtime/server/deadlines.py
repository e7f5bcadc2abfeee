"""Many per-request deadlines on one event-loop timer.

``asyncio.timeout`` around every verb creates, reschedules and cancels a timer handle per
call, which costs more than a small verb itself.  A binding's verbs share one timeout
value in the common case, so one timer armed for the earliest deadline serves them all:
per call, entering is a dict insert and leaving a dict delete.  When the timer fires it
cancels the tasks whose deadline passed (recording which calls expired, so that the
caller can tell its own timeout from any other cancellation) and re-arms itself for the
next earliest deadline.
"""

from __future__ import annotations

import asyncio
import math
from typing import Final

from buckyos.runtime.server.drain import IdleSignal

__all__ = ["Deadlines"]

_NEVER: Final = math.inf


class Deadlines:
    """Deadlines of running calls on ``loop``; use only from that loop's thread."""

    __slots__ = ("_calls", "_cut", "_expired", "_handle", "_idle", "_wake", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._calls: dict[object, tuple[asyncio.Task[object], float]] = {}
        self._expired: set[object] = set()
        self._cut: set[object] = set()
        self._idle = IdleSignal()
        self._handle: asyncio.TimerHandle | None = None
        self._wake = _NEVER

    def __len__(self) -> int:
        return len(self._calls)

    def add(self, call: object, task: asyncio.Task[object], timeout: float) -> None:
        """Cancel ``task`` if ``call`` is still running ``timeout`` seconds from now."""
        deadline = self.loop.time() + timeout
        self._calls[call] = (task, deadline)
        if deadline < self._wake:
            self._arm(deadline)

    def done(self, call: object) -> bool:
        """``call`` finished; whether its deadline had passed (it was cancelled for it)."""
        calls = self._calls
        calls.pop(call, None)
        self._idle.ended(bool(calls))
        if self._expired:
            try:
                self._expired.remove(call)
            except KeyError:
                return False
            return True
        return False

    def was_cut(self, call: object) -> bool:
        """Whether :meth:`cut_all` cancelled ``call`` (asked once, after it ended)."""
        if not self._cut:
            return False
        try:
            self._cut.remove(call)
        except KeyError:
            return False
        return True

    async def wait_idle(self, timeout: float) -> None:
        """Return once no call runs, or after ``timeout`` seconds."""
        await self._idle.wait(bool(self._calls), timeout)

    def cut_all(self, reason: str) -> None:
        """Cancel every running call (each then asks :meth:`was_cut`)."""
        for call, (task, _) in list(self._calls.items()):
            self._cut.add(call)
            task.cancel(reason)

    def _arm(self, when: float) -> None:
        if self._handle is not None:
            self._handle.cancel()
        self._wake = when
        self._handle = self.loop.call_at(when, self._fire)

    def _fire(self) -> None:
        self._handle = None
        self._wake = _NEVER
        now = self.loop.time()
        upcoming = _NEVER
        for call, (task, deadline) in list(self._calls.items()):
            if deadline <= now:
                del self._calls[call]
                self._expired.add(call)
                task.cancel()
            elif deadline < upcoming:
                upcoming = deadline
        if upcoming != _NEVER:
            self._arm(upcoming)

    def close(self) -> None:
        """Disarm the timer (running calls are left alone)."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self._wake = _NEVER
