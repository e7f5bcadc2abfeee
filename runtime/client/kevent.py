"""The kevent client: publish events, and subscribe over the HTTP stream (sync and asyncio).

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
Both modes share everything but their I/O: the URL and headers (:class:`_Target`), the
answers' errors (:func:`answer_error`) and the subscription's state (:class:`_StreamState`).
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import random
import select
import socket
import ssl
import threading
import time
import urllib.parse
import weakref
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Final, TypeAlias

import aiohttp

from buckyos.runtime.errors import KEventError
from buckyos.runtime.wire import jsontext
from buckyos.runtime.wire.kevent import (
    DEFAULT_KEEPALIVE_MS,
    DEFAULT_READER_CAPACITY,
    KEVENT_API,
    AckFrame,
    ErrorFrame,
    EventFrame,
    KEvent,
    KEventFrame,
    check_publish,
    check_stream_patterns,
    parse_frame,
    publish_body,
    stream_body,
)

__all__ = [
    "DEFAULT_TIMEOUT",
    "AsyncKEventClient",
    "AsyncKEventSubscription",
    "KEvent",
    "KEventClient",
    "KEventError",
    "KEventReconnect",
    "KEventSubscription",
    "TokenSource",
    "answer_error",
    "kevent_base_url",
]

DEFAULT_TIMEOUT: Final = 15.0
"""Seconds to connect, to publish, and for a new stream's acknowledgement."""
DEAD_AFTER: Final = 3
"""A stream silent for this many keep-alive periods is dead, and reopened."""
MAX_LINE: Final = 1 << 20
"""The longest stream line read (an event holds at most 64 KiB of data)."""

TokenSource: TypeAlias = str | Callable[[], str | None] | None
"""The session token: a string, or a callable asked before each request (a runtime's
``current_token``, so a renewed token is used), or ``None`` for no header."""

_PREVIEW = 300


@dataclass(frozen=True, slots=True)
class KEventReconnect:
    """How a subscription reopens its stream: after the ``n``-th failure in a row it waits
    ``first_delay * 2**(n-1)`` seconds (at most ``max_delay``, less up to 20% jitter), and
    after ``tries`` failures in a row (``None``: never) it gives up with
    ``DAEMON_UNAVAILABLE``.  A stream that delivered a frame after its ack counts as a
    success."""

    tries: int | None = 8
    first_delay: float = 0.2
    max_delay: float = 5.0

    def __post_init__(self) -> None:
        if self.tries is not None and self.tries < 0:
            raise ValueError(f"tries must be >= 0 or None, got {self.tries}")
        if self.first_delay < 0 or self.max_delay < self.first_delay:
            raise ValueError("need 0 <= first_delay <= max_delay")

    def delay(self, failures: int) -> float:
        """Seconds to wait after the ``failures``-th failure in a row."""
        base: float = min(self.max_delay, self.first_delay * 2.0 ** min(failures - 1, 30))
        return base * random.uniform(0.8, 1.0)

    def gives_up(self, failures: int) -> bool:
        return self.tries is not None and failures > self.tries


def kevent_base_url(url: str) -> str:
    """``http(s)://host[:port]`` (then ``/kapi/kevent`` is added) or a URL ending in
    ``/kapi/kevent``; ``ValueError`` for anything else."""
    parts = urllib.parse.urlsplit(url)
    path = parts.path.rstrip("/")
    suffix = f"/kapi/{KEVENT_API}"
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
        raise ValueError(f"a kevent URL is http(s)://host[:port][{suffix}], not {url!r}")
    if not path:
        path = suffix
    elif not path.endswith(suffix):
        raise ValueError(
            f"a kevent URL is http(s)://host[:port][{suffix}] (the node's port 3181 or a "
            f"gateway's), not {url!r}"
        )
    return f"{parts.scheme}://{parts.netloc}{path}"


def answer_error(status: int, body: bytes, url: str) -> KEventError:
    """The error an answer says: upstream's ``{"status":"err","code","message"}`` or
    ``{"error":"CODE: detail"}``, else the HTTP layer's text (no code)."""
    try:
        value = jsontext.loads(body) if body.strip() else None
    except (ValueError, UnicodeDecodeError):
        value = None
    if isinstance(value, dict):
        message, error = value.get("message"), value.get("error")
        if value.get("status") == "err" and isinstance(message, str):
            found = KEventError.from_text(message, status=status)
            code = value.get("code")
            if not found.code and isinstance(code, str) and code:
                found = KEventError(code, message, status=status)
            return found
        if isinstance(error, str):
            return KEventError.from_text(error, status=status)
    text = body.decode("utf-8", "replace").strip()
    if len(text) > _PREVIEW:
        text = text[:_PREVIEW] + "..."
    where = f"HTTP {status} from {url}"
    return KEventError("", f"{where}: {text}" if text else where, status=status)


def _reason(error: KEventError) -> str:
    """An error as the reason a stream failed (its text, without the hint)."""
    return error.text


def _transient_status(status: int) -> bool:
    """A refusal another try may get past: the server's or a gateway's trouble."""
    return status >= 500 or status in (408, 429)


class _FatalError(Exception):
    """The reader stops: ``error`` goes to the consumer."""

    def __init__(self, error: KEventError) -> None:
        super().__init__(str(error))
        self.error = error


def _reader_error(exc: Exception) -> KEventError:
    """What a reader that stopped on ``exc`` tells its consumer."""
    if isinstance(exc, _FatalError):
        return exc.error
    error = KEventError("", f"the kevent stream reader failed: {type(exc).__name__}: {exc}")
    error.__cause__ = exc
    return error


class _Target:
    """Where a client sends, and what it sends (no I/O)."""

    def __init__(self, url: str, token: TokenSource, timeout: float) -> None:
        if timeout <= 0:
            raise ValueError(f"timeout must be > 0, got {timeout}")
        self.url = kevent_base_url(url)
        parts = urllib.parse.urlsplit(self.url)
        self.https = parts.scheme == "https"
        self.host = parts.hostname or ""
        self.port = parts.port or (443 if self.https else 80)
        self.path = parts.path
        self.publish_url = f"{self.url}/publish"
        self.stream_url = f"{self.url}/stream"
        self.token = token
        self.timeout = timeout

    def headers(self, *, stream: bool = False) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if stream:
            headers["Accept"] = "application/x-ndjson"
        token = self.token() if callable(self.token) else self.token
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return headers

    def publish_request(self, eventid: str, data: Any) -> bytes:
        check_publish(eventid, data)
        return publish_body(eventid, data)

    def publish_answer(self, status: int, body: bytes) -> None:
        if status == 200:
            try:
                value = jsontext.loads(body)
            except (ValueError, UnicodeDecodeError):
                value = None
            if isinstance(value, dict) and value.get("status") == "ok":
                return
        error = answer_error(status, body, self.publish_url)
        if not error.code and status == 200:
            error = KEventError("", f"unexpected answer from {self.publish_url}: {error.detail}")
        raise error

    def unreachable(self, url: str, exc: BaseException) -> KEventError:
        reason = str(exc) or type(exc).__name__
        return KEventError(
            "DAEMON_UNAVAILABLE",
            f"cannot reach {url}: {reason}",
            hint="is kevent running there (node-daemon's port 3181, or the gateway's "
            "/kapi/kevent)?",
        )


class _StreamState:
    """One subscription's state, fed by its reader and drained by its consumer; the
    sync subscription guards it with a lock, the async one runs it on one loop."""

    def __init__(
        self,
        target: _Target,
        patterns: Sequence[str],
        keepalive_ms: int | None,
        queue_size: int,
        reconnect: KEventReconnect,
    ) -> None:
        if isinstance(patterns, str):
            raise TypeError("patterns is a list of patterns, not one string")
        patterns = list(patterns)
        check_stream_patterns(patterns)
        if keepalive_ms is not None and keepalive_ms < 1:
            raise ValueError(f"keepalive_ms must be >= 1, got {keepalive_ms}")
        if queue_size < 1:
            raise ValueError(f"queue_size must be >= 1, got {queue_size}")
        self.target = target
        self.patterns = patterns
        self.keepalive_ms = keepalive_ms if keepalive_ms is not None else DEFAULT_KEEPALIVE_MS
        self.body = stream_body(patterns, keepalive_ms)
        self.queue_size = queue_size
        self.reconnect = reconnect
        self.events: deque[KEvent] = deque()
        self.dropped = 0
        self.received = 0
        self.acks = 0
        self.connection_id: str | None = None
        self.failures = 0
        self.last_failure = ""
        self.error: KEventError | None = None
        self.closed = False
        self._acked = False

    @property
    def ready(self) -> bool:
        return self.acks > 0

    def opened(self) -> None:
        """A new stream was sent for (its ack is awaited)."""
        self._acked = False

    def read_timeout(self) -> float:
        """How long a line may take: the answer's time before the ack, then three
        keep-alive periods (any line proves the stream lives)."""
        if not self._acked:
            return self.target.timeout
        return DEAD_AFTER * self.keepalive_ms / 1000

    def on_line(self, line: bytes) -> None:
        """One stream line; ``_FatalError`` for an ``error`` frame or a line that is no frame."""
        if not line.strip():
            return
        try:
            frame: KEventFrame | None = parse_frame(line)
        except ValueError as exc:
            text = line[:_PREVIEW].decode("utf-8", "replace").strip()
            raise _FatalError(
                KEventError(
                    "",
                    f"malformed kevent stream line from {self.target.stream_url}: {exc} ({text!r})",
                )
            ) from None
        if isinstance(frame, EventFrame):
            if not self._acked:
                raise _FatalError(
                    KEventError("", f"{self.target.stream_url} sent an event before its ack")
                )
            self.failures = 0
            self.received += 1
            if len(self.events) >= self.queue_size:
                self.events.popleft()
                self.dropped += 1
            self.events.append(frame.event)
        elif isinstance(frame, AckFrame):
            self._acked = True
            self.acks += 1
            self.connection_id = frame.connection_id
            self.keepalive_ms = max(1, frame.keepalive_ms)
        elif isinstance(frame, ErrorFrame):
            raise _FatalError(KEventError.from_text(frame.error))
        elif frame is not None:  # a keep-alive: the stream lives
            self.failures = 0

    def failed(self, reason: str) -> float | None:
        """The stream ended or failed: seconds to wait before reopening it, or ``None``
        when the policy gives up (``error`` is then set)."""
        self.failures += 1
        self.last_failure = reason
        if self.reconnect.gives_up(self.failures):
            self.error = KEventError(
                "DAEMON_UNAVAILABLE",
                f"the kevent stream at {self.target.stream_url} failed {self.failures} times "
                f"in a row (last: {reason})",
                hint="is kevent running there? subscribe again when it is back",
            )
            return None
        return self.reconnect.delay(self.failures)

    def no_ack(self, within: float) -> KEventError:
        last = f" (last: {self.last_failure})" if self.last_failure else ""
        return KEventError(
            "DAEMON_UNAVAILABLE",
            f"no acknowledgement from {self.target.stream_url} within {within:g} s{last}",
            hint="is kevent running there (node-daemon's port 3181, or the gateway's "
            "/kapi/kevent)?",
        )

    def take(self) -> KEvent | None:
        """The oldest queued event; the reader's error once the queue is empty."""
        if self.events:
            return self.events.popleft()
        if self.error is not None:
            raise self.error
        return None


class _Counters:
    """What both subscriptions tell of their stream."""

    _state: _StreamState

    @property
    def patterns(self) -> list[str]:
        return list(self._state.patterns)

    @property
    def dropped(self) -> int:
        """Events the full queue lost (the oldest go first)."""
        return self._state.dropped

    @property
    def received(self) -> int:
        """Events taken in from the stream, dropped ones included."""
        return self._state.received

    @property
    def reconnects(self) -> int:
        """How often the stream was reopened and acknowledged again."""
        return max(0, self._state.acks - 1)

    @property
    def connection_id(self) -> str | None:
        """The server's name of the current stream (``http_stream_7``)."""
        return self._state.connection_id

    @property
    def closed(self) -> bool:
        return self._state.closed


def _dropped(sock: socket.socket | None) -> bool:
    """True when an idle kept-alive socket is readable: the server closed it."""
    if sock is None:
        return True
    try:
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return True


# --------------------------------------------------------------------------- sync


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
        self._target = _Target(url, token, timeout)
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

    def publish(self, eventid: str, data: Any = None) -> None:
        """Publish one event (a global id, JSON data of at most 64 KiB)."""
        target = self._target
        body = target.publish_request(eventid, data)
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
        state = _StreamState(
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


class KEventSubscription(_Counters):
    """The events of one stream: iterate (blocks; ends when closed) or :meth:`get`.

    ``dropped`` counts events the full queue lost, ``received`` every event taken in,
    ``reconnects`` how often the stream was reopened, ``connection_id`` the server's name
    of the current one.  An ``error`` frame, a refusal, or the reconnect policy giving up
    raises :class:`KEventError` from the consumer's next call, after the queued events.
    """

    def __init__(self, client: KEventClient, state: _StreamState) -> None:
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
            except Exception as exc:  # _FatalError, or a bug (a token callable's error)
                with self._cond:
                    if not state.closed:
                        state.error = _reader_error(exc)
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
        """Open one stream and read it to its end; why it ended (``_FatalError`` to stop)."""
        state, target = self._state, self._state.target
        conn = self._client._connection()
        try:
            conn.connect()
        except OSError as exc:
            conn.close()
            return _reason(target.unreachable(target.stream_url, exc))
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
                if _transient_status(response.status):
                    return _reason(error)
                raise _FatalError(error)
            while True:
                if conn.sock is not None:
                    conn.sock.settimeout(state.read_timeout())
                line = response.readline(MAX_LINE)
                if not line:
                    return "the server ended the stream"
                if not line.endswith(b"\n") and len(line) >= MAX_LINE:
                    raise _FatalError(
                        KEventError("", f"a line over {MAX_LINE} bytes from {target.stream_url}")
                    )
                with self._cond:
                    state.on_line(line)
                    self._cond.notify_all()
        except TimeoutError:
            return f"no line for {state.read_timeout():g} s (dead stream)"
        except (OSError, http.client.HTTPException) as exc:
            return _reason(target.unreachable(target.stream_url, exc))


# --------------------------------------------------------------------------- asyncio


class AsyncKEventClient:
    """The asyncio twin of :class:`KEventClient` (aiohttp; a task reads each stream).

    Use it from one event loop; :meth:`aclose` closes its subscriptions and its session.
    """

    def __init__(
        self,
        url: str,
        *,
        token: TokenSource = None,
        timeout: float = DEFAULT_TIMEOUT,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._target = _Target(url, token, timeout)
        self._ssl: ssl.SSLContext | bool = ssl_context if ssl_context is not None else True
        self._session: aiohttp.ClientSession | None = None
        self._subscriptions: weakref.WeakSet[AsyncKEventSubscription] = weakref.WeakSet()

    @property
    def url(self) -> str:
        return self._target.url

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                read_bufsize=MAX_LINE,
                timeout=aiohttp.ClientTimeout(total=None, connect=self._target.timeout),
            )
        return self._session

    async def publish(self, eventid: str, data: Any = None) -> None:
        """Publish one event (a global id, JSON data of at most 64 KiB)."""
        target = self._target
        body = target.publish_request(eventid, data)
        try:
            async with self._http().post(
                target.publish_url,
                data=body,
                headers=target.headers(),
                timeout=aiohttp.ClientTimeout(total=target.timeout),
                ssl=self._ssl,
                allow_redirects=False,
            ) as response:
                status, answer = response.status, await response.read()
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise target.unreachable(target.publish_url, exc) from exc
        target.publish_answer(status, answer)

    async def subscribe(
        self,
        patterns: Sequence[str],
        *,
        keepalive_ms: int | None = DEFAULT_KEEPALIVE_MS,
        queue_size: int = DEFAULT_READER_CAPACITY,
        reconnect: KEventReconnect | None = None,
    ) -> AsyncKEventSubscription:
        """:meth:`KEventClient.subscribe`, awaited: returns once the stream is
        acknowledged; ``async for event in subscription``."""
        state = _StreamState(
            self._target, patterns, keepalive_ms, queue_size, reconnect or KEventReconnect()
        )
        subscription = AsyncKEventSubscription(self, state)
        self._subscriptions.add(subscription)
        await subscription._start(self._target.timeout)
        return subscription

    async def aclose(self) -> None:
        """Close every open subscription and the HTTP session."""
        for subscription in list(self._subscriptions):
            await subscription.aclose()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> AsyncKEventClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


class AsyncKEventSubscription(_Counters):
    """:class:`KEventSubscription` for asyncio: ``async for``, ``await get(timeout)``,
    ``await aclose()``; the same counters."""

    def __init__(self, client: AsyncKEventClient, state: _StreamState) -> None:
        self._client = client
        self._state = state
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def _start(self, within: float) -> None:
        self._task = asyncio.create_task(
            self._run(), name=f"kevent-stream {self._state.patterns[0]}"
        )
        deadline = asyncio.get_running_loop().time() + within
        state = self._state
        while not state.ready and state.error is None:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                break
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), left)
        error = state.error
        if error is None and not state.ready:
            error = state.no_ack(within)
        if error is not None:
            await self.aclose()
            raise error

    async def get(self, timeout: float | None = None) -> KEvent | None:
        """The next event; ``None`` after ``timeout`` seconds or once closed."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            event = self._state.take()
            if event is not None:
                return event
            if self._state.closed:
                return None
            left = None if deadline is None else deadline - loop.time()
            if left is not None and left <= 0:
                return None
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), left)
            except TimeoutError:
                return None

    def __aiter__(self) -> AsyncIterator[KEvent]:
        return self

    async def __anext__(self) -> KEvent:
        event = await self.get()
        if event is None:
            raise StopAsyncIteration
        return event

    async def aclose(self) -> None:
        """Stop reading; idempotent."""
        self._state.closed = True
        self._changed.set()
        task, self._task = self._task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def __aenter__(self) -> AsyncKEventSubscription:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- the reader task

    async def _run(self) -> None:
        state = self._state
        while not state.closed:
            try:
                reason = await self._read_stream()
            except Exception as exc:  # _FatalError, or a bug (a token callable's error)
                if not state.closed:
                    state.error = _reader_error(exc)
                self._changed.set()
                return
            if state.closed:
                return
            delay = state.failed(reason)
            self._changed.set()
            if delay is None:
                return
            await asyncio.sleep(delay)

    async def _read_stream(self) -> str:
        state, target = self._state, self._state.target
        state.opened()
        try:
            async with self._client._http().post(
                target.stream_url,
                data=state.body,
                headers=target.headers(stream=True),
                ssl=self._client._ssl,
                allow_redirects=False,
                # the answer's head within timeout; each line is timed below
                timeout=aiohttp.ClientTimeout(
                    total=None,
                    connect=target.timeout,
                    sock_read=max(target.timeout, DEAD_AFTER * state.keepalive_ms / 1000),
                ),
            ) as response:
                if response.status != 200:
                    body = await response.content.read(1 << 16)
                    error = answer_error(response.status, body, target.stream_url)
                    if _transient_status(response.status):
                        return _reason(error)
                    raise _FatalError(error)
                while True:
                    line = await asyncio.wait_for(response.content.readline(), state.read_timeout())
                    if not line:
                        return "the server ended the stream"
                    state.on_line(line)
                    self._changed.set()
        except TimeoutError:
            return f"no line for {state.read_timeout():g} s (dead stream)"
        except ValueError as exc:  # aiohttp: a line over its buffer
            raise _FatalError(KEventError("", f"{target.stream_url}: {exc}")) from exc
        except (aiohttp.ClientError, OSError) as exc:
            return _reason(target.unreachable(target.stream_url, exc))
