"""The event bus: readers with bounded queues, and delivery to them.

Everything here runs on one event loop (the server's) and never waits: publishing an
event puts it on the queue of each reader whose patterns match and whose principal may
read it (:func:`.policy.may_read`), and returns.  A reader's queue is bounded in events
(``capacity``, upstream's 1024) and in bytes (``max_queue_bytes``); a reader that does
not keep up (a slow stream client, one that never reads, an op reader nobody pulls) loses
its own **oldest** events, counted in :attr:`Reader.dropped`, and never slows the
publisher or another reader.

The number of readers is bounded too (``max_readers`` in all, ``max_per_owner`` for one
token's user and app); op readers (``register_reader``) that nobody pulled for
``idle_after`` seconds are dropped, as upstream never reclaims them.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final

from buckyos.runtime.client import KEventError
from buckyos.runtime.wire import (
    DEFAULT_READER_CAPACITY,
    KEvent,
    check_stream_patterns,
    dumps,
    match_patterns,
    normalize_patterns,
    validate_pattern,
)

from .policy import Audience, Principal, may_read

__all__ = [
    "DEFAULT_IDLE_AFTER",
    "DEFAULT_MAX_PER_OWNER",
    "DEFAULT_MAX_QUEUE_BYTES",
    "DEFAULT_MAX_READERS",
    "MAX_PATTERNS",
    "MAX_READER_ID",
    "Bus",
    "Delivery",
    "Reader",
]

DEFAULT_MAX_READERS: Final = 512
DEFAULT_MAX_PER_OWNER: Final = 64
DEFAULT_MAX_QUEUE_BYTES: Final = 2 * 1024 * 1024
DEFAULT_IDLE_AFTER: Final = 300.0
MAX_PATTERNS: Final = 256
"""Patterns one reader may hold."""
MAX_READER_ID: Final = 128


@dataclass(frozen=True, slots=True)
class Delivery:
    """One published event, encoded once and shared by every queue it is put on."""

    event: KEvent
    json: bytes
    audience: Audience | None = None

    @classmethod
    def of(cls, event: KEvent, audience: Audience | None = None) -> Delivery:
        return cls(event, dumps(event.to_json()), audience)


@dataclass(eq=False)
class Reader:
    """A stream or an op reader: its patterns and its bounded queue."""

    reader_id: str
    principal: Principal
    patterns: list[str]
    capacity: int
    max_bytes: int
    stream: bool
    last_used: float = 0.0
    queue: deque[Delivery] = field(default_factory=deque)
    queued_bytes: int = 0
    dropped: int = 0
    """Events lost off the front of the full queue, since the reader began."""
    delivered: int = 0
    closed: bool = False
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    def offer(self, delivery: Delivery) -> None:
        size = len(delivery.json)
        queue = self.queue
        while queue and (len(queue) >= self.capacity or self.queued_bytes + size > self.max_bytes):
            self.queued_bytes -= len(queue.popleft().json)
            self.dropped += 1
        queue.append(delivery)
        self.queued_bytes += size
        self.delivered += 1
        self.wake.set()

    def take(self) -> Delivery | None:
        if not self.queue:
            return None
        delivery = self.queue.popleft()
        self.queued_bytes -= len(delivery.json)
        return delivery

    def close(self) -> None:
        self.closed = True
        self.wake.set()


def _check_reader_id(reader_id: object) -> str:
    if not isinstance(reader_id, str) or not reader_id or len(reader_id) > MAX_READER_ID:
        raise KEventError("INVALID_PATTERN", f"reader_id must be 1..{MAX_READER_ID} characters")
    return reader_id


def _check_patterns(patterns: Sequence[str], *, allow_empty: bool = False) -> None:
    if len(patterns) > MAX_PATTERNS:
        raise KEventError(
            "INVALID_PATTERN", f"too many patterns ({len(patterns)} > {MAX_PATTERNS})"
        )
    if allow_empty:
        for pattern in patterns:
            validate_pattern(pattern)
            if not pattern.startswith("/"):
                raise KEventError("INVALID_PATTERN", "daemon only supports global patterns")
    else:
        check_stream_patterns(patterns)


class Bus:
    """The readers of one kevent server (see the module docstring)."""

    def __init__(
        self,
        *,
        capacity: int = DEFAULT_READER_CAPACITY,
        max_queue_bytes: int = DEFAULT_MAX_QUEUE_BYTES,
        max_readers: int = DEFAULT_MAX_READERS,
        max_per_owner: int = DEFAULT_MAX_PER_OWNER,
        idle_after: float = DEFAULT_IDLE_AFTER,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if capacity < 1 or max_queue_bytes < 1 or max_readers < 1 or max_per_owner < 1:
            raise ValueError("capacity, max_queue_bytes, max_readers, max_per_owner must be >= 1")
        self.capacity = capacity
        self.max_queue_bytes = max_queue_bytes
        self.max_readers = max_readers
        self.max_per_owner = max_per_owner
        self.idle_after = idle_after
        self._clock = clock
        self._ops: dict[str, Reader] = {}
        self._streams: set[Reader] = set()
        self._per_owner: dict[str, int] = {}
        self._stream_seq = 0
        self.published = 0
        self.closed = False

    # -- counts

    @property
    def readers(self) -> int:
        """Open readers, streams and op readers."""
        return len(self._ops) + len(self._streams)

    @property
    def streams(self) -> list[Reader]:
        return list(self._streams)

    @property
    def streams_opened(self) -> int:
        """Streams opened since the bus began (the ``n`` of the last ``http_stream_<n>``)."""
        return self._stream_seq

    def op_reader_ids(self) -> list[str]:
        return list(self._ops)

    def dropped(self) -> int:
        """Events dropped by the open readers' queues, all together."""
        return sum(r.dropped for r in (*self._ops.values(), *self._streams))

    # -- readers

    def _admit(self, principal: Principal) -> None:
        if self.closed:
            raise KEventError("DAEMON_UNAVAILABLE", "kevent is stopping")
        if self.readers >= self.max_readers:
            self.reap_idle()
        if self.readers >= self.max_readers:
            raise KEventError(
                "DAEMON_UNAVAILABLE",
                f"too many readers ({self.max_readers}); close a stream or reader and retry",
            )
        if not principal.local and self._per_owner.get(principal.owner, 0) >= self.max_per_owner:
            raise KEventError(
                "DAEMON_UNAVAILABLE",
                f"too many readers for {principal.describe()} ({self.max_per_owner}); "
                "close one and retry",
            )

    def _counted(self, reader: Reader, delta: int) -> None:
        owner = reader.principal.owner
        count = self._per_owner.get(owner, 0) + delta
        if count > 0:
            self._per_owner[owner] = count
        else:
            self._per_owner.pop(owner, None)

    def open_stream(self, principal: Principal, patterns: Sequence[str]) -> Reader:
        """A new stream reader (``http_stream_<n>``); ``KEventError`` for bad patterns or
        when the readers are at their bound."""
        _check_patterns(patterns)
        self._admit(principal)
        self._stream_seq += 1
        reader = Reader(
            f"http_stream_{self._stream_seq}",
            principal,
            normalize_patterns(patterns),
            self.capacity,
            self.max_queue_bytes,
            stream=True,
            last_used=self._clock(),
        )
        self._streams.add(reader)
        self._counted(reader, 1)
        return reader

    def close_stream(self, reader: Reader) -> None:
        if reader in self._streams:
            self._streams.discard(reader)
            self._counted(reader, -1)
        reader.close()

    def register(self, principal: Principal, reader_id: object, patterns: Sequence[str]) -> None:
        """``register_reader``: a new op reader, or new patterns for one's own."""
        reader_id = _check_reader_id(reader_id)
        _check_patterns(patterns)
        existing = self._ops.get(reader_id)
        if existing is not None:
            if existing.principal.owner != principal.owner:
                raise KEventError("INTERNAL", f"reader id {reader_id} is taken by another caller")
            existing.patterns = normalize_patterns(patterns)
            existing.last_used = self._clock()
            return
        self._admit(principal)
        reader = Reader(
            reader_id,
            principal,
            normalize_patterns(patterns),
            self.capacity,
            self.max_queue_bytes,
            stream=False,
            last_used=self._clock(),
        )
        self._ops[reader_id] = reader
        self._counted(reader, 1)

    def op_reader(self, principal: Principal, reader_id: object) -> Reader:
        """``principal``'s op reader ``reader_id``, else ``READER_CLOSED`` (another
        caller's reader is as unknown as a missing one)."""
        reader_id = _check_reader_id(reader_id)
        reader = self._ops.get(reader_id)
        if reader is None or reader.principal.owner != principal.owner:
            raise KEventError("READER_CLOSED", reader_id)
        reader.last_used = self._clock()
        return reader

    def update(
        self, principal: Principal, reader_id: object, add: Sequence[str], remove: Sequence[str]
    ) -> None:
        """``update_reader``: patterns added and removed."""
        reader = self.op_reader(principal, reader_id)
        _check_patterns(add, allow_empty=True)
        gone = set(remove)
        kept = [p for p in reader.patterns if p not in gone]
        _check_patterns([*kept, *add], allow_empty=True)
        reader.patterns = normalize_patterns([*kept, *add])

    def unregister(self, principal: Principal, reader_id: object) -> None:
        """``unregister_reader``: ``principal``'s reader goes (an unknown one is fine)."""
        reader_id = _check_reader_id(reader_id)
        reader = self._ops.get(reader_id)
        if reader is not None and reader.principal.owner == principal.owner:
            self._drop_op(reader)

    def _drop_op(self, reader: Reader) -> None:
        if self._ops.get(reader.reader_id) is reader:
            del self._ops[reader.reader_id]
            self._counted(reader, -1)
        reader.close()

    def reap_idle(self) -> int:
        """Drop op readers nobody used for ``idle_after`` seconds; how many."""
        limit = self._clock() - self.idle_after
        stale = [r for r in self._ops.values() if r.last_used < limit]
        for reader in stale:
            self._drop_op(reader)
        return len(stale)

    # -- delivery

    def publish(self, delivery: Delivery) -> int:
        """Put ``delivery`` on every reader that matches and may read it; how many."""
        self.published += 1
        eventid = delivery.event.eventid
        count = 0
        for reader in (*self._streams, *self._ops.values()):
            if match_patterns(reader.patterns, eventid) and may_read(
                reader.principal, eventid, delivery.audience
            ):
                reader.offer(delivery)
                count += 1
        return count

    def close(self) -> None:
        """Close every reader (streams end, pulls return); no reader is admitted after."""
        self.closed = True
        for reader in list(self._streams):
            self.close_stream(reader)
        for reader in list(self._ops.values()):
            self._drop_op(reader)
