"""Bounds on what an HTTP/1 client may make our uvicorn servers hold: head size, header
lines, the time to send a head and a body, open connections.

uvicorn (0.55) puts no bound on a request head with httptools: an unfinished 16 MiB
header line is buffered whole by the parser for as long as the client keeps the
connection open, an 8 MiB header is served, and a connection that sends nothing, or half
a head, is never timed out (its keep-alive timer only runs between requests).  Every
server we run on :class:`~buckyos.runtime.server.serve.AsgiServer` (the kRPC wire and its
WebSocket link of system_config and verify-hub, the node gateway) uses the protocol
classes made here instead:

- a request head (request line and header lines) over ``max_head_bytes`` (64 KiB) or
  with more than ``max_header_lines`` (100) header lines is answered ``431`` with a text
  body and ``Connection: close``; the connection is then half-closed, whatever the client
  still sends is discarded, and it is closed at most a second later (closing at once,
  with unread bytes, would reset it and the client could lose the 431);
- a head not complete ``head_timeout`` seconds (10) after the connection opened, or after
  its first byte arrived on a kept-alive connection, is closed (``408`` when part of a
  head had arrived); idle kept-alive connections keep uvicorn's own 5 s timeout;
- a request body not complete ``body_timeout`` seconds (30) after its head is answered
  ``408`` (the app reading it hears a disconnect) and the connection closed, so a body
  trickled a byte at a time cannot hold a connection (or the app's call) for ever; time
  in which the server itself holds the body up is not counted (uvicorn pauses reading
  while the app has not taken 64 KiB it was given, or while an earlier pipelined request
  is answered; an ``Expect: 100-continue`` client waits until the app first reads), so a
  slow handler is never the client's fault;
- a connection beyond ``max_connections`` (1,024, WebSocket links included) is answered
  ``503`` and closed without being read, so the heads held at once are bounded too
  (1,024 x 64 KiB).

The request path stays O(1): the head is measured with a few integer additions in the
parser's callbacks, the body clock is two assignments (head complete, message complete),
and no timer is armed per request; one sweep per server (``AsgiServer``'s tick, at most
once a second) closes the heads and bodies that ran out of time.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar, Final

from uvicorn.protocols.http.flow_control import FlowControl

__all__ = ["HttpLimits", "protocol_class", "sweep"]

_LINGER: Final = 1.0
"""Seconds a refused connection is kept half-closed, its input discarded, so that the
client reads the refusal rather than a reset."""

_REASONS: Final = {
    408: b"Request Timeout",
    431: b"Request Header Fields Too Large",
    503: b"Service Unavailable",
}

_log = logging.getLogger("buckyos.runtime.server.http_limits")


@dataclass(frozen=True, slots=True)
class HttpLimits:
    """What one client connection may make an HTTP/1 server hold (see the module)."""

    max_head_bytes: int = 64 * 1024
    """Request line plus header lines, in bytes; beyond: 431 and close."""
    max_header_lines: int = 100
    """Header lines of one request; beyond: 431 and close."""
    head_timeout: float = 10.0
    """Seconds to send a whole head, from the connection's opening or the head's first
    byte; beyond: the connection is closed."""
    max_connections: int = 1024
    """Open connections (WebSocket links included); one more is answered 503 and closed."""
    body_timeout: float = 30.0
    """Seconds to send a whole body once its head is complete (time the server does not
    read excluded); beyond: 408 and the connection is closed."""

    def __post_init__(self) -> None:
        if self.max_head_bytes < 1024 or self.max_header_lines < 1:
            raise ValueError("HttpLimits: max_head_bytes >= 1024 and max_header_lines >= 1")
        if self.head_timeout <= 0 or self.max_connections < 1:
            raise ValueError("HttpLimits: head_timeout > 0 and max_connections >= 1")
        if self.body_timeout <= 0:
            raise ValueError("HttpLimits: body_timeout > 0")

    @property
    def sweep_every(self) -> float:
        """Seconds between two sweeps: a fifth of the shorter timeout, at most one, so a
        late head or body is closed within 20% of its timeout."""
        return min(1.0, min(self.head_timeout, self.body_timeout) / 5)

    def head_too_large(self) -> str:
        return (
            f"Request Header Fields Too Large: the request head is over {self.max_head_bytes} bytes"
        )

    def too_many_lines(self) -> str:
        return (
            f"Request Header Fields Too Large: the request has over "
            f"{self.max_header_lines} header lines"
        )

    def too_many_connections(self) -> str:
        return (
            f"Service Unavailable: the server holds at most {self.max_connections} "
            "connections; try again later"
        )

    def head_timed_out(self) -> str:
        return f"Request Timeout: the request head was not complete within {self.head_timeout:g}s"

    def body_timed_out(self) -> str:
        return (
            f"Request Timeout: the request body was not complete within "
            f"{self.body_timeout:g}s of its head"
        )


class _HeadRefusedError(Exception):
    """Raised from a parser callback to stop parsing a head that is over a limit."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


def _response(status: int, text: str) -> bytes:
    body = text.encode("utf-8")
    return b"".join(
        (
            b"HTTP/1.1 %d %s\r\n" % (status, _REASONS[status]),
            b"content-type: text/plain; charset=utf-8\r\n",
            b"content-length: %d\r\nconnection: close\r\n\r\n" % len(body),
            body,
        )
    )


class _ClockedFlow(FlowControl):
    """uvicorn's flow control of one connection, telling it when reading is paused: the
    server not reading is no time the client takes to send a body."""

    def __init__(self, transport: asyncio.Transport, owner: _Guarded) -> None:
        super().__init__(transport)
        self._owner = owner

    def pause_reading(self) -> None:
        if not self.read_paused:
            self._owner._paused_at = self._owner.loop.time()
        super().pause_reading()

    def resume_reading(self) -> None:
        if self.read_paused:
            self._owner._reading_resumed()
        super().resume_reading()


class _Guarded(asyncio.Protocol):
    """State and refusals shared by both protocol classes (mixed in before uvicorn's).

    ``_head_since`` is the loop time a head started to be awaited (``None``: not reading
    a head, or its clock not started); ``_body_since`` the loop time a body started to be
    awaited, moved on by the time reading was paused (``None``: not reading a body);
    ``_paused_at`` when reading was paused (``None``: reading).  The sweep reads them.
    """

    limits: ClassVar[HttpLimits]
    transport: asyncio.Transport
    loop: asyncio.AbstractEventLoop
    connections: set[Any]
    flow: FlowControl
    cycle: Any
    _head_since: float | None
    _body_since: float | None
    _paused_at: float | None
    _refused: bool

    def _guard_init(self) -> None:
        self._head_since = None
        self._body_since = None
        self._paused_at = None
        self._refused = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)  # uvicorn's, next in the protocol class's MRO
        # Its flow control, clocked (request cycles take it from the protocol when they
        # are made, later); then the connection cap.
        self.flow = _ClockedFlow(transport, self)
        self._over_capacity()

    def _reading_resumed(self) -> None:
        paused, self._paused_at = self._paused_at, None
        since = self._body_since
        if since is not None and paused is not None:
            self._body_since = since + (self.loop.time() - paused)

    def _over_capacity(self) -> bool:
        """After uvicorn's ``connection_made``: refuse a connection beyond the cap."""
        limits = self.limits
        if len(self.connections) > limits.max_connections:
            _log.warning("refusing a connection: %d open", len(self.connections) - 1)
            self._refuse(503, limits.too_many_connections())
            return True
        self._head_since = self.loop.time()
        return False

    def _response_pending(self) -> bool:
        cycle = self.cycle
        return cycle is not None and not cycle.response_complete

    def _refuse(self, status: int, text: str) -> None:
        """Answer ``status`` with ``text``, half-close, discard input, close soon."""
        self._refused = True
        self._head_since = self._body_since = None
        transport = self.transport
        if transport.is_closing():
            return
        if self._response_pending():
            # A pipelined head went over a limit while the previous answer is still being
            # written: nothing can be said on this connection any more.
            transport.close()
            return
        self._answer_and_linger(status, text)

    def _answer_and_linger(self, status: int, text: str) -> None:
        transport = self.transport
        transport.write(_response(status, text))
        if transport.can_write_eof():
            transport.write_eof()
        self.loop.call_later(_LINGER, transport.close)

    def head_timed_out(self, started_head: bool) -> None:
        """Called by the sweep: the head took too long."""
        self._head_since = None
        if self.transport.is_closing():
            return
        if started_head:
            self._refused = True
            self.transport.write(_response(408, self.limits.head_timed_out()))
        self.transport.close()

    def body_timed_out(self) -> None:
        """Called by the sweep: the body took too long.  The app waiting for it hears a
        disconnect (and whatever it sends is dropped); the client gets a 408 unless an
        answer was already under way, then the connection is closed."""
        self._body_since = None
        transport = self.transport
        if self._refused or transport.is_closing():
            return
        self._refused = True  # discard what still comes
        cycle = self.cycle
        answered = cycle is not None and cycle.response_started
        if cycle is not None and not cycle.response_complete:
            cycle.disconnected = True
            cycle.message_event.set()
        if answered:
            transport.close()
        else:
            self._answer_and_linger(408, self.limits.body_timed_out())

    def _started_head(self) -> bool:
        raise NotImplementedError


def sweep(connections: Iterable[object], now: float) -> int:
    """Close the connections in ``connections`` whose head or body has been awaited
    longer than their limits allow; how many were closed."""
    closed = 0
    for connection in list(connections):
        if isinstance(connection, _Guarded):
            limits = connection.limits
            since = connection._head_since
            if since is not None and now - since >= limits.head_timeout:
                connection.head_timed_out(connection._started_head())
                closed += 1
                continue
            since = connection._body_since
            if since is None or connection._paused_at is not None:
                continue
            cycle = connection.cycle
            if cycle is not None and cycle.waiting_for_100_continue:
                # The client waits for our "100 Continue" (sent when the app first reads,
                # cleared when it answers): its body time has not begun.
                connection._body_since = now
            elif now - since >= limits.body_timeout:
                connection.body_timed_out()
                closed += 1
    return closed


def _httptools_class(limits: HttpLimits) -> type[asyncio.Protocol]:
    import httptools
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    max_head = limits.max_head_bytes
    max_lines = limits.max_header_lines

    class LimitedHttpToolsProtocol(_Guarded, HttpToolsProtocol):
        """uvicorn's httptools protocol, head bounded in size, lines and time."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._guard_init()
            # Raw bytes received of the head being read (None: in a body or a response).
            self._head_used: int | None = 0
            # The head as parsed: request target plus header lines, and their number.
            self._head_size = 0
            self._header_lines = 0

        def _started_head(self) -> bool:
            return bool(self._head_used)

        def data_received(self, data: bytes) -> None:
            # uvicorn's data_received, with the head counted and refusals told apart.
            if self._refused:
                return  # lingering after a refusal: discard
            self._unset_keepalive_if_required()
            used = self._head_used
            if used is not None:
                if self._head_since is None:
                    self._head_since = self.loop.time()
                self._head_used = used + len(data)
            try:
                self.parser.feed_data(data)
            except httptools.HttpParserError as exc:
                cause = exc.__context__
                if isinstance(cause, _HeadRefusedError):
                    self._refuse(431, cause.text)
                    return
                msg = "Invalid HTTP request received."
                self.logger.warning(msg)
                self.send_400_response(msg)
                return
            except httptools.HttpParserUpgrade:
                if self._should_upgrade():
                    self.handle_websocket_upgrade()
                else:
                    self._unsupported_upgrade_warning()
                return
            used = self._head_used
            # Still in a head after all of this chunk: an unfinished line is buffered by
            # the parser, so the raw count is what bounds memory.
            if used is not None and used > max_head:
                self._refuse(431, limits.head_too_large())

        def on_message_begin(self) -> None:
            self._head_size = 0
            self._header_lines = 0
            super().on_message_begin()

        def on_url(self, url: bytes) -> None:
            size = self._head_size + len(url)
            self._head_size = size
            if size > max_head:
                raise _HeadRefusedError(limits.head_too_large())
            super().on_url(url)

        def on_header(self, name: bytes, value: bytes) -> None:
            lines = self._header_lines + 1
            size = self._head_size + len(name) + len(value) + 4
            self._header_lines = lines
            self._head_size = size
            if lines > max_lines:
                raise _HeadRefusedError(limits.too_many_lines())
            if size > max_head:
                raise _HeadRefusedError(limits.head_too_large())
            super().on_header(name, value)

        def on_headers_complete(self) -> None:
            self._head_used = None
            self._head_since = None
            # Without a body, on_message_complete follows in the same feed_data call.
            self._body_since = self.loop.time()
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            # Whatever follows is the next head; its clock starts with its first byte.
            self._head_used = 0
            self._body_since = None
            super().on_message_complete()

    LimitedHttpToolsProtocol.limits = limits
    return LimitedHttpToolsProtocol


def _h11_class(limits: HttpLimits) -> type[asyncio.Protocol]:
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    max_head = limits.max_head_bytes
    max_lines = limits.max_header_lines

    class LimitedH11Protocol(_Guarded, H11Protocol):
        """uvicorn's h11 protocol (when httptools is missing), bounded the same way.

        h11 bounds the head's bytes itself (``max_incomplete_event_size``, set by
        ``AsgiServer``) and answers that with an error hinting 431; header lines are
        counted on each parsed request.
        """

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._guard_init()
            self._refusal: str | None = None
            protocol = self
            parse = self.conn.next_event

            def next_event() -> Any:
                try:
                    event = parse()
                except h11.RemoteProtocolError as exc:
                    if exc.error_status_hint == 431:
                        protocol._refusal = limits.head_too_large()
                    raise
                if type(event) is h11.EndOfMessage:
                    protocol._body_since = None
                elif type(event) is h11.Request:
                    protocol._head_since = None
                    protocol._body_since = protocol.loop.time()
                    headers = event.headers
                    refusal = None
                    if len(headers) > max_lines:
                        refusal = limits.too_many_lines()
                    # h11 bounds only a head still incomplete; one that came whole in a
                    # single read is measured here.
                    elif (
                        len(event.target) + sum(len(n) + len(v) + 4 for n, v in headers) > max_head
                    ):
                        refusal = limits.head_too_large()
                    if refusal is not None:
                        protocol._refusal = refusal
                        raise h11.RemoteProtocolError(refusal, error_status_hint=431)
                return event

            # uvicorn calls conn.next_event in its loop; this wraps it on this connection.
            self.conn.next_event = next_event  # type: ignore[method-assign]

        def _started_head(self) -> bool:
            return self.conn.their_state is h11.IDLE and bool(self.conn.trailing_data[0])

        def data_received(self, data: bytes) -> None:
            if self._refused:
                return
            if self._head_since is None and self.conn.their_state is h11.IDLE:
                self._head_since = self.loop.time()
            super().data_received(data)

        def send_400_response(self, msg: str) -> None:
            refusal, self._refusal = self._refusal, None
            if refusal is not None:
                self._refuse(431, refusal)
            else:
                super().send_400_response(msg)

    LimitedH11Protocol.limits = limits
    return LimitedH11Protocol


_CLASSES: dict[tuple[str, HttpLimits], type[asyncio.Protocol]] = {}


def protocol_class(limits: HttpLimits, http: str | None = None) -> type[asyncio.Protocol]:
    """uvicorn's HTTP/1 protocol class bounded by ``limits``: ``http`` is ``"httptools"``
    or ``"h11"``; ``None`` takes httptools when it is installed."""
    if http is None:
        http = "httptools" if importlib.util.find_spec("httptools") is not None else "h11"
    if http not in ("httptools", "h11"):
        raise ValueError(f"http must be 'httptools' or 'h11', not {http!r}")
    key = (http, limits)
    found = _CLASSES.get(key)
    if found is None:
        found = _httptools_class(limits) if http == "httptools" else _h11_class(limits)
        _CLASSES[key] = found
    return found
