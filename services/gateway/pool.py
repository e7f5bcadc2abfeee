"""The gateway's view of each service's instances: cached, refreshed, dead ones skipped.

No request waits for system_config except the first one for a service (or one that
follows a failed lookup): a list older than ``ttl`` is still used while one background
task re-reads it, and a list whose every instance failed is re-read at once (at most every
``min_gap`` seconds), so a restarted instance on a new port is found on the failing call.

An instance that refused a connection is marked dead for ``dead_for`` seconds and skipped
meanwhile; once the mark lapses it is tried again.  Instances are tried in a weighted
random order (upstream's ``selector_type: random`` with node weights).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import KW_ONLY, dataclass, field
from typing import Final

from buckyos.runtime import RPCError, ServiceNotValidError

from .instances import Instance, InstanceSource

__all__ = ["DEFAULT_DEAD_FOR", "DEFAULT_TTL", "InstancePool"]

_MAX_ENTRIES: Final = 1024
"""Services whose lookup failed are cached only while the table holds fewer entries."""

DEFAULT_TTL: Final = 5.0
"""Seconds a looked-up instance list is fresh."""
DEFAULT_DEAD_FOR: Final = 3.0
"""Seconds an instance that refused a connection is skipped."""
_MIN_GAP: Final = 0.5
_FAILED_RETRY: Final = 1.0

_log = logging.getLogger("buckyos.services.gateway.pool")


@dataclass(slots=True)
class _Entry:
    instances: tuple[Instance, ...]
    error: ServiceNotValidError | None
    fetched_at: float


@dataclass(slots=True)
class InstancePool:
    """Instance lists per service from ``source``, with caching and dead marks."""

    source: InstanceSource
    _: KW_ONLY
    ttl: float = DEFAULT_TTL
    dead_for: float = DEFAULT_DEAD_FOR
    min_gap: float = _MIN_GAP
    clock: Callable[[], float] = time.monotonic
    rng: random.Random | None = None
    _random: Callable[[], float] = field(init=False)
    _entries: dict[str, _Entry] = field(init=False, default_factory=dict)
    _lookups: dict[str, asyncio.Task[_Entry]] = field(init=False, default_factory=dict)
    _dead_until: dict[str, float] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self._random = self.rng.random if self.rng is not None else random.random

    # --- lookups ------------------------------------------------------------------------

    async def _fetch(self, service: str, previous: _Entry | None) -> _Entry:
        now = self.clock()
        try:
            found = tuple(await self.source.instances(service))
        except ServiceNotValidError as exc:
            # Unknown today may be registered in a moment: look again after a second.
            return _Entry((), exc, now - self.ttl + _FAILED_RETRY)
        except Exception as exc:
            if isinstance(exc, RPCError):
                text = exc.text
            else:
                # Not an error kind the source promises: a bug, but the gateway keeps going.
                _log.exception("looking up the instances of %s failed", service)
                text = f"{type(exc).__name__}: {exc}"
            # Re-read soon rather than after a whole ttl.
            retry_at = now - self.ttl + _FAILED_RETRY
            if previous is not None and previous.error is None:
                # system_config is unreachable: keep routing to what we knew.
                _log.warning(
                    "re-reading the instances of %s failed, keeping the old list: %s",
                    service,
                    text,
                )
                return _Entry(previous.instances, None, retry_at)
            reason = f"cannot read the instances of {service} from system_config: {text}"
            return _Entry((), ServiceNotValidError(reason), retry_at)
        return _Entry(found, None, now)

    def _lookup(self, service: str) -> asyncio.Task[_Entry]:
        """The one lookup in flight for ``service`` (started when there is none)."""
        task = self._lookups.get(service)
        if task is None:
            task = asyncio.create_task(self._run_lookup(service), name=f"gateway-lookup:{service}")
            self._lookups[service] = task
        return task

    async def _run_lookup(self, service: str) -> _Entry:
        try:
            entry = await self._fetch(service, self._entries.get(service))
            # Service names come from request paths: an answer for a name that does not
            # exist is not kept once the table is full, so random paths cannot grow it.
            if entry.error is None or service in self._entries or len(self._entries) < _MAX_ENTRIES:
                self._entries[service] = entry
            return entry
        finally:
            self._lookups.pop(service, None)

    async def instances(self, service: str) -> tuple[Instance, ...]:
        """The instances of ``service``: cached, refreshed in the background when stale.

        Raises ``ServiceNotValidError`` when the service is unknown or unreadable.
        """
        entry = self._entries.get(service)
        if entry is None or (entry.error is not None and self._stale(entry)):
            # asyncio.shield: one caller giving up must not cancel the others' lookup.
            entry = await asyncio.shield(self._lookup(service))
        elif self._stale(entry):
            self._lookup(service)
        if entry.error is not None:
            raise entry.error
        return entry.instances

    async def refresh(self, service: str) -> tuple[Instance, ...] | None:
        """Re-read ``service`` now (after every instance failed); ``None`` when the list
        was read less than ``min_gap`` ago, or the service is unknown now."""
        entry = self._entries.get(service)
        if entry is not None and self.clock() - entry.fetched_at < self.min_gap:
            return None
        entry = await asyncio.shield(self._lookup(service))
        return None if entry.error is not None else entry.instances

    def _stale(self, entry: _Entry) -> bool:
        return self.clock() - entry.fetched_at >= self.ttl

    # --- dead marks and order -----------------------------------------------------------

    def mark_dead(self, instance: Instance) -> None:
        """Skip ``instance`` for ``dead_for`` seconds."""
        self._dead_until[instance.url] = self.clock() + self.dead_for

    def is_dead(self, instance: Instance) -> bool:
        """True while ``instance`` is marked dead."""
        until = self._dead_until.get(instance.url)
        if until is None:
            return False
        if self.clock() >= until:
            del self._dead_until[instance.url]
            return False
        return True

    def order(self, instances: Sequence[Instance], *, skip: Collection[str] = ()) -> list[Instance]:
        """The live instances not in ``skip`` (URLs), in weighted random order."""
        live = [i for i in instances if i.url not in skip and not self.is_dead(i)]
        if len(live) < 2:
            return live
        # Efraimidis-Spirakis: sorting by u ** (1 / w) is a weighted shuffle; weight 0 last.
        draw = self._random
        return sorted(
            live,
            key=lambda i: draw() ** (1.0 / i.weight) if i.weight > 0 else -1.0,
            reverse=True,
        )

    async def aclose(self) -> None:
        """Stop lookups in flight and close the source."""
        tasks = list(self._lookups.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.source.aclose()
