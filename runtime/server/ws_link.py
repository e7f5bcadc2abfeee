"""The WebSocket link: binder frames over an ASGI ``websocket`` connection.

Served by :class:`~buckyos.runtime.server.krpc_server.KrpcApp` on the kRPC port at
``/kapi/link``; the binder's subprotocol ``x-afb-ws-json1`` is accepted when offered.
The token comes from ``Authorization: Bearer <token>`` on the upgrade request, and a call
frame may carry its own as a 5th item (for clients, like browsers, that cannot set
headers on an upgrade).

Reading and writing are separate: this coroutine reads frames and starts calls, one
writer task writes what the session's outbox gives, so a slow handler never stops other
calls of the connection, and nothing but the writer touches ``send``.  A frame that
cannot be read is answered with an error frame and the link goes on; a frame over the
cap, which cannot be skipped safely, closes the link with code 1009 and the reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Final

from buckyos.runtime.errors import ParseRequestError
from buckyos.runtime.wire.asgi import ASGIReceive, ASGIScope, ASGISend
from buckyos.runtime.wire.dispatch import Dispatcher
from buckyos.runtime.wire.events import WS_LINK_PATH, WS_SUBPROTOCOL, EventHub
from buckyos.runtime.wire.link import (
    CLOSE_TOO_LARGE,
    DEFAULT_LIMITS,
    FrameError,
    LinkLimits,
    LinkSession,
    Outbox,
    bearer_token,
    encode_out,
    frame_too_large,
    parse_call,
)

__all__ = ["serve_ws_link"]

_log: Final = logging.getLogger("buckyos.runtime.server.ws_link")

_BINARY: Final = FrameError(
    None,
    ParseRequestError('binary frame: the link takes JSON text frames [2, id, "api/verb", args]'),
)


async def _deny(scope: ASGIScope, send: ASGISend, status: int, text: str) -> None:
    """Refuse the upgrade with an HTTP answer when the server can, else a bare close."""
    if "websocket.http.response" in scope.get("extensions", {}):
        body = text.encode("utf-8")
        await send(
            {
                "type": "websocket.http.response.start",
                "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8")],
            }
        )
        await send({"type": "websocket.http.response.body", "body": body})
    else:
        await send({"type": "websocket.close", "code": 1008, "reason": text[:120]})


async def _write(outbox: Outbox, send: ASGISend) -> None:
    """Write frames until the outbox closes; then close the socket if the server chose to."""
    try:
        while (frame := await outbox.get()) is not None:
            await send({"type": "websocket.send", "text": encode_out(frame)})
        if outbox.close_code is not None:
            reason = outbox.close_reason.encode("utf-8")[:123].decode("utf-8", "ignore")
            await send({"type": "websocket.close", "code": outbox.close_code, "reason": reason})
    except OSError:  # uvicorn's ClientDisconnected: the peer is gone, nothing to write to
        pass


def _too_large(text: str, limit: int) -> bool:
    # Characters are at most 4 bytes: only a long text needs encoding to be measured.
    return len(text) > limit // 4 and len(text.encode("utf-8", "surrogatepass")) > limit


async def serve_ws_link(
    dispatcher: Dispatcher,
    hub: EventHub,
    scope: ASGIScope,
    receive: ASGIReceive,
    send: ASGISend,
    limits: LinkLimits = DEFAULT_LIMITS,
) -> None:
    """Serve one WebSocket connection as a link until either side closes it."""
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    if scope["path"] != WS_LINK_PATH:
        await _deny(scope, send, 404, f"Not Found: the WebSocket link is at {WS_LINK_PATH}")
        return
    token: str | None = None
    for name, value in scope["headers"]:
        if name == b"authorization":
            token = bearer_token(value)
    offered = scope.get("subprotocols") or ()
    await send(
        {
            "type": "websocket.accept",
            "subprotocol": WS_SUBPROTOCOL if WS_SUBPROTOCOL in offered else None,
        }
    )
    client = scope.get("client")
    session = LinkSession(
        dispatcher,
        hub,
        token=token,
        transport="ws",
        peer=f"{client[0]}:{client[1]}" if client else None,
        limits=limits,
    )
    outbox = session.outbox
    writer = asyncio.get_running_loop().create_task(_write(outbox, send))
    try:
        while not outbox.closed:
            message = await receive()
            kind = message["type"]
            if kind == "websocket.disconnect":
                break
            if kind != "websocket.receive":
                continue
            text = message.get("text")
            if text is None:
                session.refuse(_BINARY)
                continue
            if _too_large(text, limits.max_frame):
                outbox.close(CLOSE_TOO_LARGE, frame_too_large(limits.max_frame).text)
                break
            try:
                frame = parse_call(text)
            except FrameError as error:
                session.refuse(error)
                continue
            await session.submit(frame)
    finally:
        # Subscriptions go first, so that nothing is pushed to a connection that is closing.
        closing = outbox.close_code is not None
        await session.aclose()
        if closing:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(writer, 5.0)  # it sends the close frame
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await writer
