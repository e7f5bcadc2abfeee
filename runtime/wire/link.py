"""The streaming link, wire-independent: binder frames, one connection's calls and events.

Both links (WebSocket in :mod:`~buckyos.runtime.server.ws_link`, gRPC in
:mod:`~buckyos.runtime.server.grpc_link`) carry the AGL binder's ``x-afb-ws-json1`` frames::

    [2, id, "api/verb", args]        call (client to server); optional 5th item: a token
    [3, id, result]                  the call's result
    [4, id, "error text"]            the call's error (upstream's text); id null when the
                                     frame itself could not be read
    [5, "api/event", data]           an event

This module parses and encodes the JSON form, and runs a connection
(:class:`LinkSession`): each call frame goes through the same ``Dispatcher.call`` as kRPC
(same auth, same errors, same JSON mapping), with a :class:`~buckyos.runtime.wire.events.LinkScope`
so that the verb can subscribe the connection.  Frames out of a connection wait in an
:class:`Outbox`: thread-safe, and bounded for events so that a slow reader cannot hold up
a push for anyone else.  When a reader falls ``queue_limit`` frames behind, the link is
closed (WebSocket code 1013, gRPC ``RESOURCE_EXHAUSTED``) rather than silently losing
events: the client learns it missed some and can reconnect and resynchronise.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any, Final, NamedTuple

from buckyos.runtime.errors import InternalError, ParseRequestError, RPCError, UnknownMethodError
from buckyos.runtime.wire import jsontext
from buckyos.runtime.wire.dispatch import CallInfo, Dispatcher, decode_checked
from buckyos.runtime.wire.events import (
    GRPC_LINK_METHOD,
    WS_LINK_PATH,
    WS_SUBPROTOCOL,
    EventHub,
    LinkScope,
)
from buckyos.runtime.wire.jsonmap import encode_result
from buckyos.runtime.wire.jsontext import dumps_text

__all__ = [
    "CALL",
    "CLOSE_OVERFLOW",
    "CLOSE_TOO_LARGE",
    "DEFAULT_LIMITS",
    "ERROR",
    "EVENT",
    "GRPC_LINK_METHOD",
    "MAX_FRAME",
    "REPLY",
    "WS_LINK_PATH",
    "WS_SUBPROTOCOL",
    "CallFrame",
    "FrameError",
    "FrameId",
    "LinkLimits",
    "LinkSession",
    "OutFrame",
    "Outbox",
    "bearer_token",
    "encode_call",
    "encode_out",
    "frame_too_large",
    "loads",
    "parse_call",
    "parse_out",
    "split_api_verb",
]

CALL: Final = 2
REPLY: Final = 3
ERROR: Final = 4
EVENT: Final = 5

MAX_FRAME: Final = 1024 * 1024
"""The frame cap, the same 1 MiB as a kRPC body."""

CLOSE_TOO_LARGE: Final = 1009
"""WebSocket close code for a frame over the cap (RFC 6455 "message too big")."""
CLOSE_OVERFLOW: Final = 1013
"""WebSocket close code for a reader too slow for its events ("try again later")."""

FrameId = str | int
"""A call id: the client's choice, echoed back as given."""

_log: Final = logging.getLogger("buckyos.runtime.wire.link")

_SHAPE: Final = 'a call frame is a JSON array [2, id, "api/verb", args] (optional 5th: token)'


@dataclass(frozen=True, slots=True)
class LinkLimits:
    """Per-connection bounds."""

    max_frame: int = MAX_FRAME
    """Bytes in one incoming frame."""
    queue_limit: int = 1024
    """Frames waiting to be written before the link counts as too slow and is closed."""
    max_in_flight: int = 64
    """Calls of one connection running at once; further frames wait to be read."""


DEFAULT_LIMITS: Final = LinkLimits()


@dataclass(frozen=True, slots=True)
class CallFrame:
    """``[2, id, "api/verb", args, token?]``."""

    id: FrameId
    api: str
    verb: str
    args: Any = None
    token: str | None = None
    """The call's own token; ``None``: the connection's."""


class OutFrame(NamedTuple):
    """A frame to the client: ``kind`` is REPLY, ERROR or EVENT.

    ``key`` is the call id (REPLY, ERROR; ``None`` for an unreadable frame) or the event
    name; ``payload`` is JSON text (REPLY, EVENT) or the error text (ERROR).
    """

    kind: int
    key: FrameId | None
    payload: str


class FrameError(Exception):
    """A frame that cannot be run; answered ``[4, id, error.text]``."""

    def __init__(self, frame_id: FrameId | None, error: RPCError) -> None:
        super().__init__(error.text)
        self.id = frame_id
        self.error = error


def frame_too_large(limit: int) -> ParseRequestError:
    return ParseRequestError(f"the frame is over {limit} bytes")


def loads(text: str) -> Any:
    """Strict JSON (no NaN/Infinity, as serde_json); ``ValueError`` otherwise."""
    try:
        return jsontext.loads_strict(text)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def _is_id(value: Any) -> bool:
    return type(value) is str or type(value) is int


def split_api_verb(text: str) -> tuple[str, str] | None:
    """``"api/verb"`` split at its first slash; ``None`` unless both parts are there."""
    api, sep, verb = text.partition("/")
    if not sep or not api or not verb:
        return None
    return api, verb


def parse_call(text: str) -> CallFrame:
    """A call frame from the client, or :class:`FrameError` saying what is wrong."""
    try:
        frame = loads(text)
    except ValueError as exc:
        raise FrameError(None, ParseRequestError(f"the frame is not JSON ({exc})")) from None
    if type(frame) is not list or not frame or type(frame[0]) is not int:
        raise FrameError(None, ParseRequestError(_SHAPE))
    frame_id = frame[1] if len(frame) > 1 and _is_id(frame[1]) else None
    if frame[0] != CALL:
        raise FrameError(
            frame_id,
            ParseRequestError(f"a client sends call frames (2), not {frame[0]}; {_SHAPE}"),
        )
    if len(frame) not in (4, 5):
        raise FrameError(frame_id, ParseRequestError(f"{len(frame)} items; {_SHAPE}"))
    if frame_id is None:
        raise FrameError(None, ParseRequestError("the call id must be a string or an integer"))
    target = frame[2]
    parts = split_api_verb(target) if type(target) is str else None
    if parts is None:
        raise FrameError(
            frame_id, ParseRequestError(f'the call names {target!r}; write "<api>/<verb>"')
        )
    token = frame[4] if len(frame) == 5 else None
    if token is not None and type(token) is not str:
        raise FrameError(frame_id, ParseRequestError("the token (5th item) must be a string"))
    return CallFrame(frame_id, parts[0], parts[1], frame[3], token)


def encode_call(frame_id: FrameId, api_verb: str, args: Any, token: str | None = None) -> str:
    """``[2,id,"api/verb",args]`` (with the token as 5th item when given)."""
    items: list[Any] = [CALL, frame_id, api_verb, args]
    if token is not None:
        items.append(token)
    return dumps_text(items)


def encode_out(frame: OutFrame) -> str:
    """The JSON text of a frame to the client; the payload's JSON is spliced in as is."""
    kind, key, payload = frame
    if kind == ERROR:
        return f"[4,{dumps_text(key)},{dumps_text(payload)}]"
    return f"[{kind},{dumps_text(key)},{payload}]"


def parse_out(text: str) -> tuple[int, FrameId | None, Any]:
    """A frame from the server: ``(kind, id or event name, value or error text)``."""
    frame = loads(text)
    if type(frame) is not list or len(frame) != 3 or frame[0] not in (REPLY, ERROR, EVENT):
        raise ValueError(f"not a reply, error or event frame: {text[:200]}")
    kind, key, value = frame
    if kind == EVENT and type(key) is not str:
        raise ValueError(f"an event frame without a name: {text[:200]}")
    if kind != EVENT and key is not None and not _is_id(key):
        raise ValueError(f"a frame id that is neither string nor integer: {text[:200]}")
    if kind == ERROR and type(value) is not str:
        raise ValueError(f"an error frame without a text: {text[:200]}")
    return kind, key, value


def bearer_token(value: str | bytes | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` value (case-insensitive scheme)."""
    if value is None:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    if text[:7].lower() != "bearer ":
        return None
    return text[7:].strip() or None


class Outbox:
    """A connection's frames to write: thread-safe, never blocking the side that adds.

    Replies are always taken (a connection has at most ``max_in_flight`` calls); an event
    finding ``limit`` frames waiting closes the outbox instead (code
    :data:`CLOSE_OVERFLOW`).  Once closed nothing more is taken and what waited is
    dropped, so nothing reaches a connection after it closed.  Create it on the loop that
    writes; :meth:`get` runs there.
    """

    __slots__ = (
        "_ending",
        "_items",
        "_lock",
        "_loop",
        "_ready",
        "_thread",
        "_waiting",
        "close_code",
        "close_reason",
        "closed",
        "limit",
    )

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("the queue limit must be at least 1")
        self.limit = limit
        self._items: deque[OutFrame] = deque()
        self._lock = threading.Lock()
        self._loop = asyncio.get_running_loop()
        self._thread = threading.get_ident()
        self._ready = asyncio.Event()
        self._waiting = False
        self._ending = False
        self.closed = False
        self.close_code: int | None = None
        """Why the server closes the link (a WebSocket code); ``None``: a plain close."""
        self.close_reason = ""

    def __len__(self) -> int:
        return len(self._items)

    def _wake(self) -> None:
        # Called with the lock held; only a waiting writer needs waking.
        if not self._waiting:
            return
        self._waiting = False
        if threading.get_ident() == self._thread:
            self._ready.set()
        else:
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody to wake
                self._loop.call_soon_threadsafe(self._ready.set)

    def put(self, frame: OutFrame) -> bool:
        """Queue a reply or an error frame; ``False`` once closed."""
        with self._lock:
            if self.closed:
                return False
            self._items.append(frame)
            self._wake()
            return True

    def offer(self, frame: OutFrame) -> bool:
        """Queue an event unless ``limit`` frames wait already (that closes the outbox)."""
        with self._lock:
            if self.closed or self._ending:
                return False
            if len(self._items) >= self.limit:
                self._close(
                    CLOSE_OVERFLOW,
                    f"event queue overflow: over {self.limit} frames unread; "
                    "read events promptly, then reconnect and resubscribe",
                )
                return False
            self._items.append(frame)
            self._wake()
            return True

    def end(self) -> None:
        """A graceful close: no more events; :meth:`get` gives what waits, then ``None``."""
        with self._lock:
            if self.closed:
                return
            self._ending = True
            self._waiting = True  # force the wake-up: the writer must see the end
            self._wake()

    def close(self, code: int | None = None, reason: str = "") -> None:
        """Take nothing more; drop what waits.  The first close's code and reason stay."""
        with self._lock:
            self._close(code, reason)

    def _close(self, code: int | None, reason: str) -> None:
        if self.closed:
            return
        self.closed = True
        self.close_code = code
        self.close_reason = reason
        self._items.clear()
        self._waiting = True  # force the wake-up: the writer must see the close
        self._wake()

    async def get(self) -> OutFrame | None:
        """The next frame to write; ``None`` once closed."""
        while True:
            with self._lock:
                if self.closed:
                    return None
                if self._items:
                    return self._items.popleft()
                if self._ending:
                    self.closed = True
                    return None
                self._ready.clear()
                self._waiting = True
            await self._ready.wait()


class LinkSession:
    """One link connection: runs its call frames, receives its events.

    The wire feeds it frames (:meth:`submit`, :meth:`refuse`) and writes what
    :attr:`outbox` gives; :meth:`aclose` when the connection ends drops every
    subscription first, then the frames not yet written, then cancels the calls still
    running.  It is the connection's :class:`~buckyos.runtime.wire.events.Listener`.
    """

    __slots__ = (
        "_dispatcher",
        "_hub",
        "_ids",
        "_slots",
        "_tasks",
        "outbox",
        "peer",
        "token",
        "transport",
    )

    def __init__(
        self,
        dispatcher: Dispatcher,
        hub: EventHub,
        *,
        token: str | None,
        transport: str,
        peer: str | None = None,
        limits: LinkLimits = DEFAULT_LIMITS,
    ) -> None:
        self._dispatcher = dispatcher
        self._hub = hub
        self.token = token
        self.transport = transport
        self.peer = peer
        self.outbox = Outbox(limits.queue_limit)
        self._slots = asyncio.Semaphore(limits.max_in_flight)
        self._tasks: set[asyncio.Task[None]] = set()
        self._ids: set[FrameId] = set()
        hub.attach(self)

    def __repr__(self) -> str:
        return f"<LinkSession {self.transport} {self.peer or '-'} calls={len(self._ids)}>"

    def deliver(self, name: str, data: str) -> bool:
        """An event for this connection (from any thread)."""
        return self.outbox.offer(OutFrame(EVENT, name, data))

    def refuse(self, error: FrameError) -> None:
        """Answer a frame that could not be read with its error frame."""
        self.outbox.put(OutFrame(ERROR, error.id, error.error.text))

    async def submit(self, frame: CallFrame) -> None:
        """Start a call; waits while ``max_in_flight`` calls run (back-pressure on reading)."""
        if frame.id in self._ids:
            self.refuse(
                FrameError(
                    frame.id, ParseRequestError(f"call id {frame.id!r} is already in flight")
                )
            )
            return
        await self._slots.acquire()
        if self.outbox.closed:
            self._slots.release()
            return
        self._ids.add(frame.id)
        task = asyncio.get_running_loop().create_task(self._run(frame))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, frame: CallFrame) -> None:
        scope = self._hub.scope(self, self.transport)
        try:
            out = OutFrame(REPLY, frame.id, await self._call(frame, scope))
        except RPCError as exc:
            out = OutFrame(ERROR, frame.id, exc.text)
        except Exception:
            where = f"{frame.api}/{frame.verb}"
            _log.exception("link %s: %s failed outside the dispatcher's errors", self, where)
            out = OutFrame(ERROR, frame.id, InternalError(f"internal error in {where}").text)
        finally:
            # Before the reply is queued: no subscribing after it, and the id is free again.
            scope.finish()
            self._ids.discard(frame.id)
            self._slots.release()
        self.outbox.put(out)

    async def _call(self, frame: CallFrame, scope: LinkScope) -> str:
        dispatcher = self._dispatcher
        method = dispatcher.lookup(frame.api, frame.verb)
        if method is None:
            if any(service.api == frame.api for service in dispatcher.services()):
                raise UnknownMethodError(frame.verb)  # kRPC's text for a verb of an api
            raise UnknownMethodError(f"{frame.api}/{frame.verb}")
        token = self.token if frame.token is None else frame.token
        message = decode_checked(dispatcher, method, frame.args, token)
        info = CallInfo(
            token=token,
            transport=self.transport,
            params=frame.args,
            peer=self.peer,
            link=scope,
        )
        response = await dispatcher.call(method, message, info)
        if not isinstance(response, method.response_type):
            raise InternalError(
                f"{frame.api}/{frame.verb} returned {type(response).__name__}, "
                f"expected {method.response_type.DESCRIPTOR.full_name}"
            )
        return dumps_text(encode_result(method, response))

    @property
    def in_flight(self) -> int:
        """Calls running now."""
        return len(self._tasks)

    async def drain(self, timeout: float) -> None:
        """Wait (at most ``timeout`` seconds) for the calls running to answer."""
        if self._tasks:
            await asyncio.wait(tuple(self._tasks), timeout=timeout)

    async def aclose(self) -> None:
        """The connection ended: unsubscribe, drop unwritten frames, cancel running calls."""
        self._hub.detach(self)
        self.outbox.close()
        tasks = tuple(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=5.0)
