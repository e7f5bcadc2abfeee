"""Binder events published to kevent, for an api that opts in.

A Binding's events (``make_event``, ``push``, ``broadcast``) reach the binder's links
only: the callers connected to this service.  An api whose events others should hear
(another app, a UI on kevent) opts in::

    mirror = publish_events_to_kevent(binding, kevent_client(rt), api="notes")
    ...
    mirror.close()   # at shutdown: publishes what is queued (bounded), then stops

From then on every event of ``notes`` pushed or broadcast is also published to kevent as
``/notes/<name>`` with the same data.  Pushing never waits for kevent: events go to a
bounded queue (the oldest dropped when it is full, counted in :attr:`KEventMirror.dropped`)
that one thread publishes from; a publish that fails is logged and counted
(:attr:`~KEventMirror.failed`), never retried (an event sent twice would be two events).
An event whose name is not a kevent id (a ``:``, more than 8 segments, over 256
characters) is skipped and counted (:attr:`~KEventMirror.skipped`).

kevent decides who may publish what: an app's token publishes only under ``/<its app
id>/**`` there, so an api mirrored with an app's token should be named after the app.
"""

from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Callable
from typing import Any, Final, Protocol

import orjson

from buckyos.runtime.client.kevent import KEventClient
from buckyos.runtime.errors import BuckyOSError
from buckyos.runtime.wire.events import Mirror
from buckyos.runtime.wire.kevent import validate_eventid

__all__ = ["KEventMirror", "KEventPublishQueue", "publish_events_to_kevent"]

_log = logging.getLogger("buckyos.runtime.kevent_mirror")

DEFAULT_QUEUE: Final = 1024
CLOSE_WAIT: Final = 5.0
"""Seconds :meth:`KEventPublishQueue.close` gives the queue to drain."""


class Mirrored(Protocol):
    """What is mirrored: a :class:`~buckyos.runtime.server.Binding` (named here without
    importing the server)."""

    def mirror_events(self, mirror: Mirror | None, api: str | None = None) -> str: ...


class KEventPublishQueue:
    """Publishes from one thread of its own, in order, so a slow or absent kevent never
    holds up whoever hands it an event: :meth:`put` queues ``publish``'s arguments and
    returns at once.  At most ``queue_size`` wait; a new one then drops the oldest
    (counted in :attr:`dropped`, logged).  A publish that raises is logged and counted
    (:attr:`failed`), never retried: an event sent twice is two events.  Shared by the
    binder-event mirror and task-manager's task events."""

    def __init__(
        self,
        publish: Callable[..., object],
        *,
        queue_size: int = DEFAULT_QUEUE,
        name: str = "kevent-publish",
    ) -> None:
        if queue_size < 1:
            raise ValueError("queue_size must be >= 1")
        self._publish = publish
        self.name = name
        self._queue: collections.deque[tuple[Any, ...]] = collections.deque(maxlen=queue_size)
        self._wake = threading.Condition()
        self._closing = False
        self.published = 0
        self.dropped = 0
        self.failed = 0
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def put(self, *args: Any) -> None:
        """Queue one ``publish(*args)`` (the first argument names the event in logs);
        ignored once closing."""
        with self._wake:
            if self._closing:
                return
            if len(self._queue) == self._queue.maxlen:
                self.dropped += 1  # the deque drops the oldest as this one goes in
                _log.warning("%s: queue full, dropped %s", self.name, self._queue[0][0])
            self._queue.append(args)
            self._wake.notify()

    def _next(self) -> tuple[Any, ...] | None:
        with self._wake:
            while not self._queue and not self._closing:
                self._wake.wait()
            return self._queue.popleft() if self._queue else None

    def _run(self) -> None:
        while (item := self._next()) is not None:
            try:
                self._publish(*item)
                self.published += 1
            except Exception as err:  # kevent down or refusing: this event is lost
                self.failed += 1
                _log.warning("%s: cannot publish %s to kevent: %s", self.name, item[0], err)

    def pending(self) -> int:
        """Events queued and not yet published."""
        with self._wake:
            return len(self._queue)

    def close(self, timeout: float = CLOSE_WAIT) -> None:
        """Stop taking events, publish what is queued (at most ``timeout`` seconds), stop."""
        with self._wake:
            self._closing = True
            self._wake.notify()
        self._thread.join(timeout)


class KEventMirror(KEventPublishQueue):
    """Publishes the events handed to it (by a Binding's event hub) to kevent; see the
    module docstring."""

    def __init__(self, client: KEventClient, *, queue_size: int = DEFAULT_QUEUE) -> None:
        self.client = client
        self.skipped = 0
        super().__init__(self._send, queue_size=queue_size, name="kevent-mirror")

    def _send(self, eventid: str, text: str) -> None:
        self.client.publish(eventid, orjson.loads(text))

    def __call__(self, name: str, text: str) -> None:
        eventid = "/" + name
        try:
            validate_eventid(eventid)
        except BuckyOSError as err:
            self.skipped += 1
            _log.warning("event %s is not published to kevent: %s", name, err)
            return
        self.put(eventid, text)


def publish_events_to_kevent(
    binding: Mirrored,
    client: KEventClient,
    *,
    api: str | None = None,
    queue_size: int = DEFAULT_QUEUE,
) -> KEventMirror:
    """Publish ``api``'s events (default: the binding's only api) to kevent through
    ``client`` as well as to the links; :meth:`~KEventMirror.close` on the returned
    mirror stops it (``binding.mirror_events(None, api)`` detaches it)."""
    mirror = KEventMirror(client, queue_size=queue_size)
    try:
        binding.mirror_events(mirror, api)
    except BaseException:
        mirror.close()
        raise
    return mirror
