"""gRPC, server side: a ``grpc.aio`` server in front of a :class:`Dispatcher`.

Every verb of every api the dispatcher serves becomes a unary method at its
``/<proto service>/<Method>`` path.  The wire carries what kRPC carries, in gRPC's own
places:

* the session token in metadata ``authorization: Bearer <token>``;
* the trace id in metadata ``x-trace-id`` (echoed in the trailing metadata);
* an error as the kind's status code (``RPCError.grpc_status``) with the exact kRPC text
  as details, so a client rebuilds the same exception class over either wire.

The standard health service (``grpc.health.v1``, SERVING for every api and for ``""``)
and server reflection (``grpc.reflection.v1alpha``) come with it, so stock tools
(``grpc_health_probe``, ``grpcurl``) work against a BuckyOS service unchanged.  So does
the streaming link for events, ``buckyos.Link`` (:mod:`~buckyos.runtime.server.grpc_link`), when
the dispatcher has an event hub.

What one client may make the server hold is bounded by :class:`GrpcLimits`, the gRPC
counterpart of :class:`~buckyos.runtime.server.http_limits.HttpLimits` (grpcio's own defaults
are in brackets):

- a connection that has not sent its HTTP/2 preface and settings ``handshake_timeout``
  seconds (10; [120]) after it was accepted is closed, so silent and half-sent
  connections cannot pile up;
- a connection with no call in progress for ``idle_timeout`` seconds (300; [never]) is
  sent GOAWAY and closed; a channel reconnects on its next call, and an open stream (the
  event link ``buckyos.Link``) is a call in progress however quiet it is;
- a connection beyond ``max_connections`` (1,024, handshaking ones included; [no cap]) is
  closed at once, unread: the client sees ``UNAVAILABLE`` (failed to connect), which
  the router counts as never sent;
- a call beyond ``max_concurrent_rpcs`` (1,024 at once, streams included; [no cap]) is
  answered ``RESOURCE_EXHAUSTED`` ``Concurrent RPC limit exceeded!`` at once, without
  running; :class:`~buckyos.runtime.client.grpc_client.GrpcTransport` raises it as
  ``ReasonError("Concurrent RPC limit exceeded!")``, a retryable reason;
- a call's metadata over ``max_metadata_bytes`` (16 KiB, the token included; [8 KiB soft,
  refused at random up to 16 KiB hard]) is answered ``RESOURCE_EXHAUSTED`` every time.

A caller's ``options`` (grpc channel arguments) override these: they are merged by key,
the caller's value last, because grpcio keeps the *first* of two arguments of one name.
"""

from __future__ import annotations

import logging
import math
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeAlias

import grpc
import grpc.aio
from google.protobuf.message import DecodeError, Message
from grpc_health.v1 import (  # type: ignore[import-untyped]
    health as _health,
    health_pb2 as _health_pb2,
    health_pb2_grpc as _health_pb2_grpc,
)
from grpc_reflection.v1alpha import reflection as _reflection  # type: ignore[import-untyped]

from buckyos.runtime.descriptor import MethodDescriptor, ServiceDescriptor
from buckyos.runtime.errors import InternalError, ParseRequestError, RPCError
from buckyos.runtime.server.grpc_link import add_link
from buckyos.runtime.wire.dispatch import (
    FORWARDED_CLIENT_HEADER,
    REVISION_HEADER,
    CallInfo,
    Dispatcher,
    parse_revision,
)
from buckyos.runtime.wire.events import link_hub
from buckyos.runtime.wire.link import DEFAULT_LIMITS, LinkLimits

__all__ = ["GrpcLimits", "GrpcServer", "add_dispatcher", "merge_options", "method_handlers"]

_log = logging.getLogger("buckyos.runtime.server.grpc_server")

_AUTHORIZATION = "authorization"
_TRACE = "x-trace-id"
_BEARER = "bearer "
_STATUS: dict[str, grpc.StatusCode] = {code.name: code for code in grpc.StatusCode}

# grpc.aio.ServicerContext is generic only in the stubs, hence a string alias.
_Context: TypeAlias = "grpc.aio.ServicerContext[bytes, Message]"


@dataclass(frozen=True, slots=True)
class GrpcLimits:
    """What clients may make a gRPC server hold (see the module)."""

    handshake_timeout: float = 10.0
    """Seconds from accepting a connection to the client's HTTP/2 settings; beyond: the
    connection is closed."""
    idle_timeout: float = 300.0
    """Seconds a connection may have no call in progress (an open stream is one); beyond:
    GOAWAY and closed."""
    max_connections: int = 1024
    """Open connections, handshaking ones included; one more is closed at once."""
    max_concurrent_rpcs: int = 1024
    """Calls in progress on the server, streams included; one more is answered
    ``RESOURCE_EXHAUSTED`` without running."""
    max_metadata_bytes: int = 16 * 1024
    """A call's metadata; beyond: ``RESOURCE_EXHAUSTED`` (grpcio's soft and hard limit
    alike, so that no call under it is refused at random)."""

    def __post_init__(self) -> None:
        if self.handshake_timeout <= 0 or self.idle_timeout <= 0:
            raise ValueError("GrpcLimits: handshake_timeout > 0 and idle_timeout > 0")
        if self.max_connections < 1 or self.max_concurrent_rpcs < 1:
            raise ValueError("GrpcLimits: max_connections >= 1 and max_concurrent_rpcs >= 1")
        if self.max_metadata_bytes < 1024:
            raise ValueError("GrpcLimits: max_metadata_bytes >= 1024")

    def options(self) -> list[tuple[str, int]]:
        """The grpc server arguments that carry these limits (all but the RPC cap, which
        is ``grpc.aio.server``'s ``maximum_concurrent_rpcs``)."""
        return [
            ("grpc.server_handshake_timeout_ms", _ms(self.handshake_timeout)),
            ("grpc.max_connection_idle_ms", _ms(self.idle_timeout)),
            ("grpc.max_allowed_incoming_connections", self.max_connections),
            ("grpc.max_metadata_size", self.max_metadata_bytes),
            ("grpc.absolute_max_metadata_size", self.max_metadata_bytes),
        ]


def _ms(seconds: float) -> int:
    return max(1, math.ceil(seconds * 1000))


def merge_options(*groups: Iterable[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """Grpc channel arguments with one entry per name, a later group's value winning.

    grpcio keeps the first of two arguments of one name (checked with
    ``grpc.server_handshake_timeout_ms``, grpcio 1.85), so an override appended to a list
    of defaults would be silently ignored.
    """
    merged: dict[str, Any] = {}
    for group in groups:
        for key, value in group:
            merged[key] = value
    return list(merged.items())


def _read_metadata(context: _Context) -> tuple[str | None, str | None, str | None, int]:
    """``(token, trace_id, forwarded_client, min_revision)`` from the call's metadata (raw,
    unchecked; a revision that is not one raises ``ParseRequestError``)."""
    token: str | None = None
    trace_id: str | None = None
    forwarded: str | None = None
    revision = 0
    metadata = context.invocation_metadata()
    if metadata:
        for key, value in metadata:
            if key == _AUTHORIZATION and isinstance(value, str):
                if value[:7].lower() == _BEARER:
                    token = value[7:].strip() or None
            elif key == _TRACE and isinstance(value, str):
                trace_id = value
            elif key == FORWARDED_CLIENT_HEADER and isinstance(value, str):
                forwarded = value  # the last one wins, as on the kRPC wire
            elif key == REVISION_HEADER and isinstance(value, str):
                try:
                    revision = parse_revision(value)
                except ValueError as exc:
                    raise ParseRequestError(str(exc)) from None
    return token, trace_id, forwarded, revision


def _handler(
    dispatcher: Dispatcher, method: MethodDescriptor[Any, Any]
) -> grpc.RpcMethodHandler[bytes, Message]:
    request_type: type[Message] = method.request_type
    response_type: type[Message] = method.response_type
    where = f"{method.api}/{method.krpc}"

    async def handle(data: bytes, context: _Context) -> Message:
        trailing: tuple[tuple[str, str], ...] = ()
        error: RPCError
        try:
            token, trace_id, forwarded, min_revision = _read_metadata(context)
            if trace_id is not None:
                trailing = ((_TRACE, trace_id),)
            # Decoded here rather than by grpc so that bad bytes are a ParseRequestError
            # (INVALID_ARGUMENT) like malformed params on kRPC, not grpc's INTERNAL.
            request = request_type.FromString(data)
        except DecodeError as exc:
            error = ParseRequestError(f"{request_type.DESCRIPTOR.full_name}: {exc}")
        except ParseRequestError as exc:
            error = exc
        else:
            info = CallInfo(
                token=token,
                trace_id=trace_id,
                transport="grpc",
                peer=context.peer(),
                forwarded_client=forwarded,
                min_revision=min_revision,
            )
            try:
                response = await dispatcher.call(method, request, info)
            except RPCError as exc:
                error = exc
            except Exception:
                _log.exception("gRPC %s failed outside the dispatcher's errors", where)
                error = InternalError(f"internal error in {where}")
            else:
                if isinstance(response, response_type):
                    if info.revision is not None:
                        trailing = (*trailing, (REVISION_HEADER, str(info.revision)))
                    if trailing:
                        context.set_trailing_metadata(trailing)
                    return response
                error = InternalError(
                    f"{where} returned {type(response).__name__}, "
                    f"expected {response_type.DESCRIPTOR.full_name}"
                )
        await context.abort(
            _STATUS.get(error.grpc_status, grpc.StatusCode.UNKNOWN), error.text, trailing
        )

    return grpc.unary_unary_rpc_method_handler(
        handle, response_serializer=response_type.SerializeToString
    )


def method_handlers(
    dispatcher: Dispatcher, service: ServiceDescriptor
) -> dict[str, grpc.RpcMethodHandler[Any, Any]]:
    """The grpc method handlers of one api, keyed by proto method name."""
    return {method.name: _handler(dispatcher, method) for method in service.methods}


def add_dispatcher(server: grpc.aio.Server, dispatcher: Dispatcher) -> tuple[str, ...]:
    """Register every api of ``dispatcher`` on ``server``; returns the proto service names.

    For a server you build yourself; :class:`GrpcServer` does this plus health and
    reflection.  Methods are added both as a generic handler and as registered methods
    (grpcio's faster lookup path), as grpcio's own generated code does.
    """
    names: list[str] = []
    for service in dispatcher.services():
        handlers = method_handlers(dispatcher, service)
        server.add_generic_rpc_handlers(
            (grpc.method_handlers_generic_handler(service.service, handlers),)
        )
        server.add_registered_method_handlers(service.service, handlers)
        names.append(service.service)
    return tuple(names)


def _address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"


def _check_bindable(host: str, port: int) -> None:
    """A taken port as a plain one-line ``OSError`` before grpc tries it: grpc's C core
    would print a log line of its own on stderr (``add_port.cc ... Failed to add port``)."""
    if port == 0:
        return
    try:
        infos = socket.getaddrinfo(
            host.strip("[]"), port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except OSError:
        return  # grpc says what it thinks of the name
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            why = exc.strerror or str(exc)
            raise OSError(f"gRPC server cannot bind {_address(host, port)}: {why}") from None


@dataclass(frozen=True, slots=True)
class _Extras:
    """What a gRPC server serves beside the dispatcher's own services."""

    health: bool
    reflection: bool
    link: bool | None
    link_limits: LinkLimits


class GrpcServer:
    """A ``grpc.aio`` server for one dispatcher, with health checking and reflection.

    Create and start it inside the event loop that should run it (grpc.aio binds the
    server to the running loop).  ``link`` serves the event link ``buckyos.Link``:
    ``None`` when the dispatcher has an event hub (a Binding), ``True``/``False`` always
    or never; ``link_limits`` bounds each of its streams.

    ``limits`` bounds what clients may make it hold (:class:`GrpcLimits`: 10 s to
    handshake, idle connections closed after 5 minutes, 1,024 connections, 1,024 calls at
    once, 16 KiB of metadata per call).  ``options`` are grpc channel arguments; one that
    names an argument the limits set (``grpc.server_handshake_timeout_ms`` ...) overrides
    it.  ``credentials`` serve TLS instead of plain (node TLS:
    :meth:`~buckyos.runtime.security.node_tls.NodeTls.grpc_server_credentials`).
    """

    def __init__(
        self,
        dispatcher: Dispatcher,
        *,
        health: bool = True,
        reflection: bool = True,
        options: Iterable[tuple[str, Any]] = (),
        link: bool | None = None,
        link_limits: LinkLimits = DEFAULT_LIMITS,
        limits: GrpcLimits | None = None,
        credentials: grpc.ServerCredentials | None = None,
    ) -> None:
        self.dispatcher = dispatcher
        self._credentials = credentials
        self._extras = _Extras(health, reflection, link, link_limits)
        self.limits = limits if limits is not None else GrpcLimits()
        self.link_service: str | None = None
        """``buckyos.Link`` once started with the link, else ``None``."""
        # SO_REUSEPORT off: a second server on a taken port must fail, not share it.
        self.options: list[tuple[str, Any]] = merge_options(
            [("grpc.so_reuseport", 0)], self.limits.options(), options
        )
        """The channel arguments the server is made with, one per name."""
        self._server: grpc.aio.Server | None = None
        self._health: Any = None
        self.port: int | None = None
        """The bound port once started."""
        self.services: tuple[str, ...] = ()
        """The proto service names served (without health and reflection)."""

    @property
    def server(self) -> grpc.aio.Server:
        if self._server is None:
            raise RuntimeError("GrpcServer is not started")
        return self._server

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Bind ``host:port`` (0 = a free port), start serving, return the bound port."""
        if self._server is not None:
            raise RuntimeError("GrpcServer is already started")
        _check_bindable(host, port)
        server = grpc.aio.server(
            options=self.options, maximum_concurrent_rpcs=self.limits.max_concurrent_rpcs
        )
        self.services = add_dispatcher(server, self.dispatcher)
        names: list[str] = list(self.services)
        hub = link_hub(self.dispatcher, self._extras.link)
        if hub is not None:
            self.link_service = add_link(server, self.dispatcher, hub, self._extras.link_limits)
            names.append(self.link_service)
        if self._extras.health:
            self._health = _health.aio.HealthServicer()
            _health_pb2_grpc.add_HealthServicer_to_server(self._health, server)
            names.append(_health.SERVICE_NAME)
        if self._extras.reflection:
            names.append(_reflection.SERVICE_NAME)
            _reflection.enable_server_reflection(names, server)
        address = _address(host, port)
        try:
            if self._credentials is None:
                bound = server.add_insecure_port(address)
            else:
                bound = server.add_secure_port(address, self._credentials)
        except RuntimeError as exc:
            raise OSError(f"gRPC server cannot bind {address}: {exc}") from exc
        if not bound:
            raise OSError(f"gRPC server cannot bind {address}")
        await server.start()
        self._server = server
        self.port = bound
        if self._health is not None:
            link = () if self.link_service is None else (self.link_service,)
            for name in ("", *self.services, *link):
                await self._health.set(name, _health_pb2.HealthCheckResponse.SERVING)
        return bound

    async def stop(self, grace: float | None = 1.0) -> None:
        """Report NOT_SERVING, then stop; calls in flight get ``grace`` seconds."""
        server, self._server = self._server, None
        if server is None:
            return
        if self._health is not None:
            await self._health.enter_graceful_shutdown()
        await server.stop(grace)

    def __repr__(self) -> str:
        state = f"port {self.port}" if self._server is not None else "stopped"
        return f"<GrpcServer {', '.join(self.services) or '-'} ({state})>"
