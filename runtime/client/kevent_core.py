"""What the kevent clients share: everything but their I/O.

:mod:`.kevent` (blocking, a reader thread per stream) and :mod:`.kevent_async` (asyncio,
a reader task per stream) differ only in how they send and read; this module holds the
rest, written once: the URL and the headers of a request (:class:`Target`), the errors an
answer says (:func:`answer_error`), the reconnect policy (:class:`KEventReconnect`) and a
subscription's state (:class:`StreamState`: the stream's lines in, the bounded queue,
the counters, when a stream is dead and when to give up).  The checks of ids, patterns
and data, and the frames, are the wire's (:mod:`buckyos.runtime.wire.kevent`).
"""

from __future__ import annotations

import random
import urllib.parse
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, TypeAlias

from buckyos.runtime.errors import KEventError
from buckyos.runtime.wire import jsontext
from buckyos.runtime.wire.kevent import (
    DEFAULT_KEEPALIVE_MS,
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
    "DEAD_AFTER",
    "DEFAULT_TIMEOUT",
    "MAX_LINE",
    "Counters",
    "FatalStreamError",
    "KEventReconnect",
    "StreamState",
    "Target",
    "TokenSource",
    "answer_error",
    "failure_reason",
    "kevent_base_url",
    "reader_error",
    "transient_status",
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
            found = KEventError.from_text(error, status=status)
            code = value.get("code")  # our server's refusals add one beside "error"
            if not found.code and isinstance(code, str) and code:
                found = KEventError(code, error, status=status)
            return found
    text = body.decode("utf-8", "replace").strip()
    if len(text) > _PREVIEW:
        text = text[:_PREVIEW] + "..."
    where = f"HTTP {status} from {url}"
    return KEventError("", f"{where}: {text}" if text else where, status=status)


def failure_reason(error: KEventError) -> str:
    """An error as the reason a stream failed (its text, without the hint)."""
    return error.text


def transient_status(status: int) -> bool:
    """A refusal another try may get past: the server's or a gateway's trouble."""
    return status >= 500 or status in (408, 429)


class FatalStreamError(Exception):
    """The reader stops: ``error`` goes to the consumer."""

    def __init__(self, error: KEventError) -> None:
        super().__init__(str(error))
        self.error = error


def reader_error(exc: Exception) -> KEventError:
    """What a reader that stopped on ``exc`` tells its consumer."""
    if isinstance(exc, FatalStreamError):
        return exc.error
    error = KEventError("", f"the kevent stream reader failed: {type(exc).__name__}: {exc}")
    error.__cause__ = exc
    return error


class Target:
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

    def publish_request(
        self, eventid: str, data: Any, audience: Mapping[str, Sequence[str]] | None = None
    ) -> bytes:
        check_publish(eventid, data)
        if audience is not None and (
            not isinstance(audience, Mapping)
            or not all(
                isinstance(names, Sequence) and not isinstance(names, str)
                for names in audience.values()
            )
        ):
            raise TypeError('audience must be {"users": [...], "apps": [...]}')
        return publish_body(eventid, data, audience)

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


class StreamState:
    """One subscription's state, fed by its reader and drained by its consumer; the
    sync subscription guards it with a lock, the async one runs it on one loop."""

    def __init__(
        self,
        target: Target,
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
        self.server_dropped = 0
        self._stream_dropped = 0
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
        """One stream line; ``FatalStreamError`` for an ``error`` frame or a line that is
        no frame."""
        if not line.strip():
            return
        try:
            frame: KEventFrame | None = parse_frame(line)
        except ValueError as exc:
            text = line[:_PREVIEW].decode("utf-8", "replace").strip()
            raise FatalStreamError(
                KEventError(
                    "",
                    f"malformed kevent stream line from {self.target.stream_url}: {exc} ({text!r})",
                )
            ) from None
        if isinstance(frame, EventFrame):
            if not self._acked:
                raise FatalStreamError(
                    KEventError("", f"{self.target.stream_url} sent an event before its ack")
                )
            self.failures = 0
            self.received += 1
            if frame.dropped > self._stream_dropped:  # the server's queue lost some
                self.server_dropped += frame.dropped - self._stream_dropped
                self._stream_dropped = frame.dropped
            if len(self.events) >= self.queue_size:
                self.events.popleft()
                self.dropped += 1
            self.events.append(frame.event)
        elif isinstance(frame, AckFrame):
            self._acked = True
            self._stream_dropped = 0  # a new stream counts from 0
            self.acks += 1
            self.connection_id = frame.connection_id
            self.keepalive_ms = max(1, frame.keepalive_ms)
        elif isinstance(frame, ErrorFrame):
            raise FatalStreamError(KEventError.from_text(frame.error))
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


class Counters:
    """What both subscriptions tell of their stream."""

    _state: StreamState

    @property
    def patterns(self) -> list[str]:
        return list(self._state.patterns)

    @property
    def dropped(self) -> int:
        """Events the full queue lost (the oldest go first)."""
        return self._state.dropped

    @property
    def server_dropped(self) -> int:
        """Events the server's queue for this subscription lost before sending them (the
        reader did not keep up), as our reference kevent reports them; upstream reports
        none."""
        return self._state.server_dropped

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
