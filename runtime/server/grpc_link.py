"""The gRPC link: binder frames on one bidirectional stream, ``/buckyos.Link/Connect``.

Why one bidirectional stream rather than a server stream for events plus unary calls:
a subscription belongs to a connection, and on a bidirectional stream the connection is
the stream itself, exactly as on the WebSocket link: the calls that subscribe travel on
it, the events come back on it, and when the stream ends the subscriptions end with it.
A separate event stream would need a handshake tying unary calls to it, and a unary call
racing the stream's end could subscribe a connection that is already gone.

Frames are ``buckyos.LinkFrame`` messages (``proto/buckyos/link.proto``) with JSON text
for the kRPC values, so both links share :class:`~buckyos.runtime.wire.link.LinkSession`.
The token is the stream's metadata ``authorization: Bearer <token>`` (as for unary
calls), or a call's own ``token``.  When the client half-closes, the calls in flight are
answered and the stream ends with OK; a reader too slow for its events gets
``RESOURCE_EXHAUSTED``.

The service is declared here, not in ``link.proto``: our codegen reads every service
under ``proto/buckyos/`` as a binding's verb table, and a transport is not one.  It is
added to the default descriptor pool as ``buckyos/link_service.proto`` so that server
reflection describes it like any other service.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Final, TypeAlias

import grpc
import grpc.aio
from google.protobuf import descriptor_pb2, descriptor_pool
from google.protobuf.message import DecodeError

from buckyos.generated import link_pb2
from buckyos.runtime.errors import ParseRequestError
from buckyos.runtime.wire.dispatch import Dispatcher
from buckyos.runtime.wire.events import EventHub
from buckyos.runtime.wire.link import (
    CLOSE_OVERFLOW,
    DEFAULT_LIMITS,
    ERROR,
    EVENT,
    REPLY,
    CallFrame,
    FrameError,
    LinkLimits,
    LinkSession,
    OutFrame,
    bearer_token,
    frame_too_large,
    loads,
    split_api_verb,
)

__all__ = [
    "LINK_FILE",
    "LINK_SERVICE",
    "add_link",
    "frame_to_proto",
    "link_descriptor",
    "link_handler",
]

LINK_SERVICE: Final = "buckyos.Link"
LINK_FILE: Final = "buckyos/link_service.proto"

_log: Final = logging.getLogger("buckyos.runtime.server.grpc_link")

_Context: TypeAlias = "grpc.aio.ServicerContext[bytes, link_pb2.LinkFrame]"


def link_descriptor() -> descriptor_pb2.FileDescriptorProto:
    """The file declaring ``service Link { rpc Connect(stream LinkFrame) returns (stream
    LinkFrame); }``, added to the default pool on first use (for reflection)."""
    pool = descriptor_pool.Default()
    proto = descriptor_pb2.FileDescriptorProto(
        name=LINK_FILE,
        package="buckyos",
        syntax="proto3",
        dependency=[link_pb2.DESCRIPTOR.name],
    )
    service = proto.service.add(name="Link")
    service.method.add(
        name="Connect",
        input_type=".buckyos.LinkFrame",
        output_type=".buckyos.LinkFrame",
        client_streaming=True,
        server_streaming=True,
    )
    try:
        pool.FindFileByName(LINK_FILE)
    except KeyError:
        pool.AddSerializedFile(proto.SerializeToString())
    return proto


def frame_to_proto(frame: OutFrame) -> link_pb2.LinkFrame:
    """A frame to the client as a ``LinkFrame``."""
    kind, key, payload = frame
    if kind == REPLY:
        return link_pb2.LinkFrame(reply=link_pb2.LinkReply(id=str(key), result=payload))
    if kind == ERROR:
        return link_pb2.LinkFrame(
            error=link_pb2.LinkError(id="" if key is None else str(key), text=payload)
        )
    if kind == EVENT:
        return link_pb2.LinkFrame(event=link_pb2.LinkEvent(event=str(key), data=payload))
    raise ValueError(f"not a frame to the client: kind {kind}")


def _call_from_bytes(data: bytes, limit: int) -> CallFrame:
    try:
        frame = link_pb2.LinkFrame.FromString(data)
    except DecodeError as exc:
        raise FrameError(None, ParseRequestError(f"buckyos.LinkFrame: {exc}")) from None
    if frame.WhichOneof("kind") != "call":
        raise FrameError(
            None, ParseRequestError("a client sends call frames (LinkFrame.call) only")
        )
    call = frame.call
    if len(data) > limit:
        raise FrameError(call.id, frame_too_large(limit))
    parts = split_api_verb(call.api_verb)
    if parts is None:
        raise FrameError(
            call.id, ParseRequestError(f'the call names {call.api_verb!r}; write "<api>/<verb>"')
        )
    try:
        args = loads(call.args) if call.args else None
    except ValueError as exc:
        raise FrameError(call.id, ParseRequestError(f"args are not JSON ({exc})")) from None
    token = call.token if call.HasField("token") else None
    return CallFrame(call.id, parts[0], parts[1], args, token)


def _metadata_token(context: _Context) -> str | None:
    for key, value in context.invocation_metadata() or ():
        if key == "authorization" and isinstance(value, str):
            return bearer_token(value)
    return None


async def _read(requests: AsyncIterator[bytes], session: LinkSession, limit: int) -> None:
    async for data in requests:
        try:
            frame = _call_from_bytes(data, limit)
        except FrameError as error:
            session.refuse(error)
            continue
        await session.submit(frame)


def link_handler(
    dispatcher: Dispatcher, hub: EventHub, limits: LinkLimits = DEFAULT_LIMITS
) -> grpc.RpcMethodHandler[bytes, link_pb2.LinkFrame]:
    """The ``Connect`` handler: one :class:`LinkSession` per stream."""

    async def connect(requests: AsyncIterator[bytes], context: _Context) -> None:
        session = LinkSession(
            dispatcher,
            hub,
            token=_metadata_token(context),
            transport="grpc-link",
            peer=context.peer(),
            limits=limits,
        )
        outbox = session.outbox
        loop = asyncio.get_running_loop()
        reader = loop.create_task(_read(requests, session, limits.max_frame))

        def half_closed(task: asyncio.Task[None]) -> None:
            # The client sent its last frame: answer what runs, then end the stream.
            if not task.cancelled() and task.exception() is None:
                finish = loop.create_task(session.drain(timeout=60.0))
                finish.add_done_callback(lambda _: outbox.end())
                tasks.add(finish)
            elif not task.cancelled():
                _log.warning("gRPC link %s: reading failed: %r", session, task.exception())
                outbox.close()

        tasks: set[asyncio.Task[None]] = set()
        reader.add_done_callback(half_closed)
        try:
            while (frame := await outbox.get()) is not None:
                await context.write(frame_to_proto(frame))
        finally:
            reader.cancel()
            for task in tasks:
                task.cancel()
            await session.aclose()
        if outbox.close_code == CLOSE_OVERFLOW:
            await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, outbox.close_reason)

    return grpc.stream_stream_rpc_method_handler(
        connect, response_serializer=link_pb2.LinkFrame.SerializeToString
    )


def add_link(
    server: grpc.aio.Server,
    dispatcher: Dispatcher,
    hub: EventHub,
    limits: LinkLimits = DEFAULT_LIMITS,
) -> str:
    """Serve the link on ``server``; returns its service name (for health, reflection)."""
    link_descriptor()
    handlers = {"Connect": link_handler(dispatcher, hub, limits)}
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(LINK_SERVICE, handlers),))
    server.add_registered_method_handlers(LINK_SERVICE, handlers)
    return LINK_SERVICE
