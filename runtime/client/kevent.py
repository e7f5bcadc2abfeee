"""The kevent client: publish events, and subscribe over the HTTP stream.

kevent is BuckyOS's node-local event bus (``docs/kevent.md``); it is not kRPC.  A client
talks to node-daemon's HTTP side, on the node's port (``http://<node>:3181/kapi/kevent``)
or through a gateway (``http://<host>:3180/kapi/kevent``), with the session token in an
``Authorization: Bearer`` header:

- :meth:`KEventClient.publish` posts ``{"eventid","data"}`` to ``.../publish``.  The id
  and the data are checked here first, with upstream's texts (a global id; data of at
  most 64 KiB: ``event data too large: N bytes, max 65536``).  Nothing is retried: kevent
  is best-effort, and an event sent twice is two events.
- :meth:`KEventClient.subscribe` posts the patterns to ``.../stream`` and returns once
  the server acknowledged them (a refused pattern raises there).  A reader (a thread, or
  an asyncio task) takes the stream's lines into a bounded queue, which drops the oldest
  event when full (counted in ``dropped``), as upstream's readers do.  A stream that ends,
  fails, or is silent for three keep-alive periods is reopened, after a bounded backoff,
  until :class:`KEventReconnect` gives up; events published while it was down are lost
  (kevent has no replay: re-read the authoritative source after ``reconnects`` grows).

Every failure is a :class:`~buckyos.runtime.errors.KEventError` with upstream's code
(``INVALID_PATTERN``, ``DAEMON_UNAVAILABLE`` for a server that cannot be reached, ...).
This module is the blocking client (``http.client``, a reader thread per stream);
:mod:`.kevent_async` is its asyncio twin (aiohttp, a reader task per stream); both share
everything but their I/O (:mod:`.kevent_core`).
"""

from __future__ import annotations

import contextlib
import http.client
import select
import socket
import ssl
import threading
import time
import weakref
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from buckyos.runtime.client.kevent_core import (
    DEFAULT_TIMEOUT,
    MAX_LINE,
    Counters,
    FatalStreamError,
    KEventReconnect,
    StreamState,
    Target,
    TokenSource,
    answer_error,
    failure_reason,
    reader_error,
    transient_status,
)
from buckyos.runtime.errors import KEventError
from buckyos.runtime.wire.kevent import DEFAULT_KEEPALIVE_MS, DEFAULT_READER_CAPACITY, KEvent

__all__ = [
    "DEFAULT_TIMEOUT",
    "KEvent",
    "KEventClient",
    "KEventError",
    "KEventReconnect",
    "KEventSubscription",
    "TokenSource",
]


def _dropped(sock: socket.socket | None) -> bool:
    """True when an idle kept-alive socket is readable: the server closed it."""
    if sock is None:
        return True
    try:
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return True


class KEventClient:
    """Publish and subscribe, blocking (``http.client``; a thread reads each stream).

    ``url``: the node's ``http://host:3181/kapi/kevent`` or a gateway's
    ``http://host:3180/kapi/kevent`` (``http://host:port`` gets the path added).
    ``token``: :data:`TokenSource`.  ``timeout``: seconds to connect, publish, and get a
    stream's ack.  :meth:`close` closes the publish connection and every subscription;
    the client is a context manager.
    """

    def __init__(
        self,
        url: str,
        *,
        token: TokenSource = None,
        timeout: float = DEFAULT_TIMEOUT,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._target = Target(url, token, timeout)
        self._ssl = ssl_context
        self._lock = threading.Lock()
        self._conn: http.client.HTTPConnection | None = None
        self._subscriptions: weakref.WeakSet[KEventSubscription] = weakref.WeakSet()

    @property
    def url(self) -> str:
        return self._target.url

    def _connection(self) -> http.client.HTTPConnection:
        target = self._target
        if target.https:
            return http.client.HTTPSConnection(
                target.host, target.port, timeout=target.timeout, context=self._ssl
            )
        return http.client.HTTPConnection(target.host, target.port, timeout=target.timeout)

    def publish(
        self,
        eventid: str,
        data: Any = None,
        *,
        audience: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        """Publish one event (a global id, JSON data of at most 64 KiB).  ``audience``
        (``{"users": [...], "apps": [...]}``) names readers besides the id's own app, for
        our reference kevent; only a zone-trusted or node-local publisher may send one."""
        target = self._target
        body = target.publish_request(eventid, data, audience)
        with self._lock:
            conn = self._conn
            if conn is not None and _dropped(conn.sock):
                conn.close()
                conn = None
            if conn is None:
                conn = self._conn = self._connection()
            try:
                conn.request("POST", f"{target.path}/publish", body, target.headers())
                response = conn.getresponse()
                answer = response.read()
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                self._conn = None
                raise target.unreachable(target.publish_url, exc) from exc
            if response.will_close:
                conn.close()
                self._conn = None
        target.publish_answer(response.status, answer)

    def subscribe(
        self,
        patterns: Sequence[str],
        *,
        keepalive_ms: int | None = DEFAULT_KEEPALIVE_MS,
        queue_size: int = DEFAULT_READER_CAPACITY,
        reconnect: KEventReconnect | None = None,
    ) -> KEventSubscription:
        """Open a stream for ``patterns`` and return once the server acknowledged it
        (``INVALID_PATTERN`` and other refusals raise here; no answer within ``timeout``
        is ``DAEMON_UNAVAILABLE``).  Iterate the subscription, or :meth:`~KEventSubscription.get`
        with a timeout; close it when done."""
        state = StreamState(
            self._target, patterns, keepalive_ms, queue_size, reconnect or KEventReconnect()
        )
        subscription = KEventSubscription(self, state)
        self._subscriptions.add(subscription)
        subscription._start(self._target.timeout)
        return subscription

    def close(self) -> None:
        """Close the publish connection and every open subscription."""
        for subscription in list(self._subscriptions):
            subscription.close()
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> KEventClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class KEventSubscription(Counters):
    """The events of one stream: iterate (blocks; ends when closed) or :meth:`get`.

    ``dropped`` counts events the full queue lost, ``received`` every event taken in,
    ``reconnects`` how often the stream was reopened, ``connection_id`` the server's name
    of the current one.  An ``error`` frame, a refusal, or the reconnect policy giving up
    raises :class:`KEventError` from the consumer's next call, after the queued events.
    """

    def __init__(self, client: KEventClient, state: StreamState) -> None:
        self._client = client
        self._state = state
        self._cond = threading.Condition()
        self._closing = threading.Event()
        self._conn: http.client.HTTPConnection | None = None
        self._thread = threading.Thread(
            target=self._run, name=f"kevent-stream {state.patterns[0]}", daemon=True
        )

    def _start(self, within: float) -> None:
        self._thread.start()
        deadline = time.monotonic() + within
        with self._cond:
            while not self._state.ready and self._state.error is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            error = self._state.error
            if error is None and not self._state.ready:
                error = self._state.no_ack(within)
        if error is not None:
            self.close()
            raise error

    def get(self, timeout: float | None = None) -> KEvent | None:
        """The next event; ``None`` after ``timeout`` seconds or once closed."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while True:
                event = self._state.take()
                if event is not None:
                    return event
                if self._state.closed:
                    return None
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return None
                self._cond.wait(left)

    def __iter__(self) -> Iterator[KEvent]:
        return self

    def __next__(self) -> KEvent:
        event = self.get()
        if event is None:
            raise StopIteration
        return event

    def close(self) -> None:
        """Stop reading (the reader thread ends within a few seconds); idempotent."""
        with self._cond:
            self._state.closed = True
            self._cond.notify_all()
            conn = self._conn
        self._closing.set()
        if conn is not None and conn.sock is not None:
            with contextlib.suppress(OSError):
                conn.sock.shutdown(socket.SHUT_RDWR)
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(5.0)

    def __enter__(self) -> KEventSubscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the reader thread

    def _run(self) -> None:
        state = self._state
        while not self._closing.is_set():
            try:
                reason = self._read_stream()
            except Exception as exc:  # FatalStreamError, or a bug (a token callable's error)
                with self._cond:
                    if not state.closed:
                        state.error = reader_error(exc)
                    self._cond.notify_all()
                return
            finally:
                with self._cond:
                    conn, self._conn = self._conn, None
                if conn is not None:
                    conn.close()
            with self._cond:
                if state.closed:
                    return
                delay = state.failed(reason)
                self._cond.notify_all()
            if delay is None or self._closing.wait(delay):
                return

    def _read_stream(self) -> str:
        """Open one stream and read it to its end; why it ended (``FatalStreamError`` to stop)."""
        state, target = self._state, self._state.target
        conn = self._client._connection()
        try:
            conn.connect()
        except OSError as exc:
            conn.close()
            return failure_reason(target.unreachable(target.stream_url, exc))
        with self._cond:
            if state.closed:  # closed while connecting: close() did not see this one
                conn.close()
                return "closed"
            self._conn = conn
            state.opened()
        try:
            conn.request("POST", f"{target.path}/stream", state.body, target.headers(stream=True))
            response = conn.getresponse()
            if response.status != 200:
                error = answer_error(response.status, response.read(1 << 16), target.stream_url)
                if transient_status(response.status):
                    return failure_reason(error)
                raise FatalStreamError(error)
            while True:
                if conn.sock is not None:
                    conn.sock.settimeout(state.read_timeout())
                line = response.readline(MAX_LINE)
                if not line:
                    return "the server ended the stream"
                if not line.endswith(b"\n") and len(line) >= MAX_LINE:
                    raise FatalStreamError(
                        KEventError("", f"a line over {MAX_LINE} bytes from {target.stream_url}")
                    )
                with self._cond:
                    state.on_line(line)
                    self._cond.notify_all()
        except TimeoutError:
            return f"no line for {state.read_timeout():g} s (dead stream)"
        except (OSError, http.client.HTTPException) as exc:
            return failure_reason(target.unreachable(target.stream_url, exc))
