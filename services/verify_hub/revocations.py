"""verify-hub's half of revocation: publish what it revoked, so every service refuses it.

verify-hub alone knows which sessions ended early (``logout``, a replayed refresh token);
each service checks tokens by signature alone and would accept a session token of such a
session until it expires (15 minutes).  So verify-hub writes the list
(:mod:`buckyos.runtime.security.revocation`) to system_config under
:data:`~buckyos.runtime.security.revocation.REVOCATIONS_KEY`, right after each revocation and again
every ``interval`` seconds with the users who are no longer active (suspended, banned,
deleted: read from their settings, as a login reads them).  system_config applies the key
as soon as it is written; other services poll it.

A revoked session stays listed until every session token it could have issued before the
revocation expired: ``revoked_at + token life + leeway``.  A failed write is retried on
the next tick; the service's answer to ``logout`` does not wait for the write to succeed
(the session is already dead at verify-hub itself, and ``verify_token`` says so).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Final

from buckyos.runtime.security import POLL_INTERVAL, Revocations

__all__ = ["RevocationPublisher"]

_log: Final = logging.getLogger("buckyos.services.verify_hub.revocations")


@dataclass(slots=True, kw_only=True)
class RevocationPublisher:
    """Keeps the published list in step with verify-hub's state.

    ``revoked_since(t)`` returns ``{session_key: revoked_at}`` for sessions revoked at or
    after unix time ``t`` (read from the state file, so a restart republishes them);
    ``user_states()`` the users whose state is not ``active`` (``None``: not scanned);
    ``write(text)`` stores the value in system_config.  ``listed_for`` is how long after
    its revocation a session stays listed (the session token life plus leeway).
    """

    revoked_since: Callable[[int], Mapping[str, int]]
    write: Callable[[str], Awaitable[None]]
    listed_for: int
    user_states: Callable[[], Awaitable[Mapping[str, str]]] | None = None
    interval: float = POLL_INTERVAL
    clock: Callable[[], float] = time.time
    _users: Mapping[str, str] = field(init=False, default_factory=dict)
    _published: Revocations | None = field(init=False, default=None)
    _lock: asyncio.Lock = field(init=False, default_factory=asyncio.Lock)
    _loop: asyncio.AbstractEventLoop | None = field(init=False, default=None)
    _timer: asyncio.TimerHandle | None = field(init=False, default=None)
    _running: asyncio.Task[None] | None = field(init=False, default=None)
    _again: bool = field(init=False, default=False)
    _failing: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        if self.interval <= 0:
            raise ValueError("interval must be > 0")

    def current(self) -> Revocations:
        """The list as it should be published now."""
        now = int(self.clock())
        revoked = self.revoked_since(now - self.listed_for)
        sessions = {key: at + self.listed_for for key, at in revoked.items()}
        return Revocations(sessions, dict(self._users), now)

    async def publish(self) -> bool:
        """Write the list if it changed since the last write; whether it is published."""
        async with self._lock:
            listed = await asyncio.to_thread(self.current)
            if self._published is not None and _same(self._published, listed):
                return True
            try:
                await self.write(listed.to_json())
            except Exception as err:  # retried on the next tick
                if not self._failing:
                    _log.warning("cannot publish revocations (retrying): %s", err)
                self._failing = True
                return False
            if self._failing:
                _log.info("revocations published again")
            self._failing = False
            self._published = listed
            return True

    def notify(self) -> None:
        """A session was just revoked: publish now rather than at the next tick.

        Called from the loop :meth:`start` ran in (a verb handler)."""
        if self._loop is None:
            return
        if self._running is None:
            self._run_tick()
        else:
            self._again = True  # the round in flight may have read the state before it

    async def _scan_users(self) -> None:
        if self.user_states is None:
            return
        try:
            self._users = dict(await self.user_states())
        except Exception as err:  # keep the last known states
            _log.warning("cannot read user states for revocations: %s", err)

    async def tick(self) -> None:
        """One round: read the users' states, publish if anything changed."""
        await self._scan_users()
        await self.publish()

    # Ticks are timer callbacks that each run one short task, not a task looping forever: a
    # loop closed under us (an embedding program that never calls stop) drops a pending
    # timer silently, where a pending task would be reported as destroyed.
    def _run_tick(self) -> None:
        loop = self._loop
        if loop is None:
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._running = loop.create_task(self.tick(), name="revocation-publisher")
        self._running.add_done_callback(self._ticked)

    def _ticked(self, task: asyncio.Task[None]) -> None:
        self._running = None
        if not task.cancelled() and task.exception() is not None:
            _log.warning("revocation publisher round failed: %r", task.exception())
        if self._loop is None:
            return
        if self._again:
            self._again = False
            self._run_tick()
        else:
            self._timer = self._loop.call_later(self.interval, self._run_tick)

    def start(self) -> None:
        """Publish from the running loop (a first round now) until :meth:`stop`."""
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
            self._run_tick()

    async def stop(self) -> None:
        self._loop = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        task, self._running = self._running, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def _same(published: Revocations, listed: Revocations) -> bool:
    """The same sessions and users (``updated_at`` alone changing is not worth a write)."""
    return dict(published.sessions) == dict(listed.sessions) and dict(published.users) == dict(
        listed.users
    )
