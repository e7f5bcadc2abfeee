"""Asyncio clients for both streaming links: calls and events on one connection.

::

    async with WsLink(info.krpc_url, token=token) as link:        # or GrpcLink(target, ...)
        await link.call("notes", "notes_watch", {"owner": "alice"})
        async for name, data in link.events():
            ...

A link is also an asyncio invoker (:meth:`Link.ainvoke`): a generated ``Async...Stub(link)``
calls its verbs over it, so a verb that subscribes (``sys_config_watch``) subscribes this
link.  ``call`` returns the verb's kRPC JSON result, or raises the error hierarchy's class for
the error text (the same class kRPC and gRPC clients raise).  Events wait in a bounded
queue (``event_queue``); when it is full the link stops reading, which holds up replies
too and, past the server's own limit, gets the link closed: a client that subscribes
must read its events.  When the link closes, calls waiting get a ``TransportError`` with
the reason and ``events()`` ends.

The WebSocket client uses aiohttp (already a dependency), the gRPC one grpc.aio.  The
bookkeeping (ids, pending calls, the event queue, closing) is shared in :class:`Link`;
each wire only sends a call and feeds back what it reads.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import ssl
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Any, Final, Self

import aiohttp
import grpc
import grpc.aio

from buckyos.generated import link_pb2
from buckyos.runtime.descriptor import MethodDescriptor, ReqT, RespT
from buckyos.runtime.errors import TransportError, error_from_text
from buckyos.runtime.wire.events import GRPC_LINK_METHOD, WS_LINK_PATH, WS_SUBPROTOCOL
from buckyos.runtime.wire.jsonmap import decode_result, encode_params
from buckyos.runtime.wire.jsontext import dumps_text
from buckyos.runtime.wire.link import (
    ERROR,
    MAX_FRAME,
    REPLY,
    FrameId,
    encode_call,
    loads,
    parse_out,
)

__all__ = ["GrpcLink", "Link", "WsLink"]

_log: Final = logging.getLogger("buckyos.runtime.client.link_client")

_CLOSED: Final = object()
_WS_END: Final = (aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)


class Link:
    """What both link clients share: ids, calls waiting for their answer, events.

    Subclasses implement :meth:`_open`, :meth:`_send_call` and :meth:`_shutdown`, and
    feed what they read to :meth:`_on_reply`, :meth:`_on_error`, :meth:`_on_event` and
    finally :meth:`_on_closed`.
    """

    def __init__(self, *, token: str | None = None, event_queue: int = 1024) -> None:
        self.token = token
        self._ids = itertools.count(1)
        self._pending: dict[str, asyncio.Future[Any]] = {}
        self._events: asyncio.Queue[object] = asyncio.Queue(maxsize=event_queue)
        self._closed: str | None = None
        self.close_code: int | None = None
        """Why the server closed the link: a WebSocket code, or a gRPC status value."""
        self.orphan_errors: list[str] = []
        """Error frames the server sent without a call id (a frame it could not read)."""

    # -- the user's side

    async def __aenter__(self) -> Self:
        await self._open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    @property
    def closed(self) -> str | None:
        """Why the link closed, or ``None`` while it is open."""
        return self._closed

    async def call(
        self,
        api: str,
        verb: str,
        params: Any = None,
        *,
        token: str | None = None,
        timeout: float | None = 30.0,
    ) -> Any:
        """Call ``api``/``verb`` (its kRPC name) with kRPC JSON ``params``; the JSON result.

        ``token`` overrides the link's token for this call.  Raises the error hierarchy's
        class for the server's error text, ``TransportError`` on timeout or a closed link.
        """
        if self._closed is not None:
            raise TransportError(f"link closed: {self._closed}")
        frame_id = str(next(self._ids))
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[frame_id] = future
        try:
            await self._send_call(frame_id, f"{api}/{verb}", params, token)
            async with asyncio.timeout(timeout):
                return await future
        except TimeoutError:
            raise TransportError(f"timeout: {api}/{verb} after {timeout:g}s") from None
        finally:
            self._pending.pop(frame_id, None)

    async def ainvoke(
        self,
        method: MethodDescriptor[ReqT, RespT],
        request: ReqT,
        *,
        timeout: float | None = 30.0,
    ) -> RespT:
        """:meth:`call` for a contract's method: a link is an asyncio invoker, so a
        generated stub calls over it (``AsyncSystemConfigStub(link).Watch(key="/")``) and
        the subscription lands on this link.  The kRPC JSON mapping both ways."""
        result = await self.call(
            method.api, method.krpc, encode_params(method, request), timeout=timeout
        )
        return decode_result(method, result)

    async def next_event(self, timeout: float | None = None) -> tuple[str, Any]:
        """The next event ``(name, data)``; ``TimeoutError`` after ``timeout`` seconds,
        ``TransportError`` once the link closed and no event is left."""
        if self._closed is not None and self._events.empty():
            raise TransportError(f"link closed: {self._closed}")
        async with asyncio.timeout(timeout):
            item = await self._events.get()
        if item is _CLOSED:
            self._events.put_nowait(_CLOSED)  # keep the end visible to other readers
            raise TransportError(f"link closed: {self._closed}")
        assert isinstance(item, tuple)
        return item

    async def events(self) -> AsyncIterator[tuple[str, Any]]:
        """Every event ``(name, data)`` until the link closes."""
        while True:
            try:
                yield await self.next_event()
            except TransportError:
                return

    async def aclose(self) -> None:
        """Close the connection (idempotent); calls still waiting get ``TransportError``."""
        try:
            await self._shutdown()
        finally:
            self._on_closed("closed by the client")

    # -- what the wires implement

    async def _open(self) -> None:
        raise NotImplementedError

    async def _send_call(
        self, frame_id: str, api_verb: str, params: Any, token: str | None
    ) -> None:
        raise NotImplementedError

    async def _shutdown(self) -> None:
        raise NotImplementedError

    # -- what the wires feed back

    def _on_reply(self, frame_id: FrameId | None, result: Any) -> None:
        future = self._pending.get(str(frame_id))
        if future is not None and not future.done():
            future.set_result(result)

    def _on_error(self, frame_id: FrameId | None, text: str) -> None:
        future = None if frame_id in (None, "") else self._pending.get(str(frame_id))
        if future is None:
            _log.warning("link: error frame for no call: %s", text)
            self.orphan_errors.append(text)
            return
        if not future.done():
            future.set_exception(error_from_text(text))

    async def _on_event(self, name: str, data: Any) -> None:
        await self._events.put((name, data))  # a full queue holds up reading (back-pressure)

    def _on_closed(self, reason: str, code: int | None = None) -> None:
        if self._closed is not None:
            return
        self._closed = reason
        self.close_code = code
        for future in self._pending.values():
            if not future.done():
                future.set_exception(TransportError(f"link closed: {reason}"))
        # Wakes a reader waiting on an empty queue; a full one is read to its end first.
        with contextlib.suppress(asyncio.QueueFull):
            self._events.put_nowait(_CLOSED)


def _ws_url(url: str) -> str:
    """``http://host:port`` (a kRPC base URL) or a ``ws://`` URL, as the link's URL."""
    for plain, secure in (("http://", "ws://"), ("https://", "wss://")):
        if url.startswith(plain):
            url = secure + url[len(plain) :]
            break
    scheme, sep, rest = url.partition("://")
    if not sep or scheme not in ("ws", "wss"):
        raise ValueError(f"not an http(s) or ws(s) URL: {url!r}")
    if "/" not in rest:
        return url + WS_LINK_PATH
    host, _, path = rest.partition("/")
    return url if path else f"{scheme}://{host}{WS_LINK_PATH}"


class WsLink(Link):
    """The WebSocket link: ``url`` is the kRPC base URL (``http://host:port``, the link's
    path is added) or the link's own ``ws://.../kapi/link``; ``https``/``wss`` with
    ``ssl_context`` (another node: ``NodeTls.client_context(node)``)."""

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        event_queue: int = 1024,
        connect_timeout: float = 10.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        super().__init__(token=token, event_queue=event_queue)
        self.url = _ws_url(url)
        self._connect_timeout = connect_timeout
        self._ssl: ssl.SSLContext | bool = True if ssl_context is None else ssl_context
        self._session: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None

    @property
    def subprotocol(self) -> str | None:
        """The subprotocol the server accepted."""
        return None if self._ws is None else self._ws.protocol

    async def _open(self) -> None:
        headers = {} if self.token is None else {"Authorization": f"Bearer {self.token}"}
        self._session = aiohttp.ClientSession()
        try:
            self._ws = await self._session.ws_connect(
                self.url,
                protocols=(WS_SUBPROTOCOL,),
                headers=headers,
                max_msg_size=MAX_FRAME * 4,
                timeout=aiohttp.ClientWSTimeout(ws_close=5.0),
                autoping=True,
                ssl=self._ssl,
            )
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            await self._session.close()
            self._session = None
            raise TransportError(f"cannot open the WebSocket link {self.url}: {exc}") from exc
        self._reader = asyncio.get_running_loop().create_task(self._read(self._ws))

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        reason = "the server closed the link"
        code: int | None = None
        try:
            while True:
                message = await ws.receive()
                if message.type == aiohttp.WSMsgType.TEXT:
                    try:
                        kind, key, value = parse_out(message.data)
                    except ValueError as exc:
                        _log.warning("link %s: unreadable frame: %s", self.url, exc)
                        continue
                    if kind == REPLY:
                        self._on_reply(key, value)
                    elif kind == ERROR:
                        self._on_error(key, value)
                    else:
                        await self._on_event(str(key), value)
                elif message.type == aiohttp.WSMsgType.CLOSE:
                    code = message.data
                    reason = f"code {code}" + (f": {message.extra}" if message.extra else "")
                    break
                elif message.type in _WS_END:
                    code = ws.close_code
                    if message.type == aiohttp.WSMsgType.ERROR:
                        reason = f"connection error: {ws.exception()}"
                    break
        finally:
            self._on_closed(reason, code)

    async def _send_call(
        self, frame_id: str, api_verb: str, params: Any, token: str | None
    ) -> None:
        ws = self._ws
        if ws is None or ws.closed:
            raise TransportError(f"link closed: {self._closed or 'not open'}")
        try:
            await ws.send_str(encode_call(frame_id, api_verb, params, token))
        except (aiohttp.ClientError, ConnectionError) as exc:
            raise TransportError(f"link {self.url}: {exc}") from exc

    async def send_raw(self, text: str) -> None:
        """Send a text frame as is (for tests of the server's refusals)."""
        if self._ws is None:
            raise TransportError("link not open")
        await self._ws.send_str(text)

    async def _shutdown(self) -> None:
        ws, self._ws = self._ws, None
        if ws is not None:
            with contextlib.suppress(aiohttp.ClientError, OSError, TimeoutError):
                await ws.close()
        reader, self._reader = self._reader, None
        if reader is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(reader), 5.0)
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        session, self._session = self._session, None
        if session is not None:
            await session.close()


class GrpcLink(Link):
    """The gRPC link: one ``buckyos.Link/Connect`` stream to ``target`` (``host:port``)."""

    def __init__(
        self,
        target: str,
        *,
        token: str | None = None,
        event_queue: int = 1024,
        channel: grpc.aio.Channel | None = None,
    ) -> None:
        super().__init__(token=token, event_queue=event_queue)
        self.target = target
        self._channel = channel
        self._own_channel = channel is None
        self._call: Any = None
        self._reader: asyncio.Task[None] | None = None

    async def _open(self) -> None:
        if self._channel is None:
            self._channel = grpc.aio.insecure_channel(self.target)
        connect = self._channel.stream_stream(
            GRPC_LINK_METHOD,
            request_serializer=link_pb2.LinkFrame.SerializeToString,
            response_deserializer=link_pb2.LinkFrame.FromString,
        )
        metadata = () if self.token is None else (("authorization", f"Bearer {self.token}"),)
        self._call = connect(metadata=metadata)
        self._reader = asyncio.get_running_loop().create_task(self._read(self._call))

    async def _read(self, call: Any) -> None:
        reason = "the server ended the stream"
        code: int | None = None
        try:
            async for frame in call:
                kind = frame.WhichOneof("kind")
                if kind == "reply":
                    try:
                        result = loads(frame.reply.result) if frame.reply.result else None
                    except ValueError as exc:
                        self._on_error(frame.reply.id, f"Parse Response Error: {exc}")
                        continue
                    self._on_reply(frame.reply.id, result)
                elif kind == "error":
                    self._on_error(frame.error.id, frame.error.text)
                elif kind == "event":
                    try:
                        data = loads(frame.event.data) if frame.event.data else None
                    except ValueError as exc:
                        _log.warning("link %s: event %s: %s", self.target, frame.event.event, exc)
                        continue
                    await self._on_event(frame.event.event, data)
        except grpc.aio.AioRpcError as exc:
            status = exc.code()
            code = status.value[0]
            reason = f"{status.name}: {exc.details()}"
        finally:
            self._on_closed(reason, code)

    async def _send_call(
        self, frame_id: str, api_verb: str, params: Any, token: str | None
    ) -> None:
        call = self._call
        if call is None or call.done():
            raise TransportError(f"link closed: {self._closed or 'not open'}")
        frame = link_pb2.LinkCall(id=frame_id, api_verb=api_verb, args=dumps_text(params))
        if token is not None:
            frame.token = token
        try:
            await call.write(link_pb2.LinkFrame(call=frame))
        except (grpc.aio.AioRpcError, grpc.aio.UsageError, asyncio.InvalidStateError) as exc:
            raise TransportError(f"link {self.target}: {exc}") from exc

    async def send_raw(self, frame: link_pb2.LinkFrame) -> None:
        """Send a frame as is (for tests of the server's refusals)."""
        if self._call is None:
            raise TransportError("link not open")
        await self._call.write(frame)

    async def _shutdown(self) -> None:
        call, self._call = self._call, None
        reader, self._reader = self._reader, None
        if call is not None:
            with contextlib.suppress(grpc.aio.AioRpcError, grpc.aio.UsageError):
                await call.done_writing()  # the server answers what runs, then ends
        if reader is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(reader), 5.0)
            if call is not None:
                call.cancel()
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        channel, self._channel = self._channel, None
        if channel is not None and self._own_channel:
            await channel.close()
