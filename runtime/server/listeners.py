"""Listeners: the wires a server answers on, one object each.

A server is a dispatcher and a list of listeners: :func:`~buckyos.runtime.server.serve.
serving` starts each, fills :class:`~buckyos.runtime.server.serve.ServerInfo` with what it
bound, and stops them together.  The two wires of BuckyOS are :class:`KrpcListener`
(kRPC over HTTP, with the WebSocket link, under uvicorn) and :class:`GrpcListener`
(``grpc.aio``, with the gRPC link).  A new wire is a new :class:`Listener` subclass;
:func:`register_listener` also gives it the command-line options of every service process
(``--<wire>-port``, ``--no-<wire>``), so nothing else has to learn its name.

Between the nodes of a zone the two wires also run over TLS, pinned to device keys
(:mod:`~buckyos.runtime.security.node_tls`): :class:`KrpcTlsListener` (``https``/``wss``)
and :class:`GrpcTlsListener`, each given the node's
:class:`~buckyos.runtime.security.node_tls.NodeTls`.  A server lists them beside its plain
listeners (plain for callers on its own node, TLS for other nodes) or instead of them.  They
are not command-line wires: a process that has its device key adds them itself.
"""

from __future__ import annotations

import abc
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar

if TYPE_CHECKING:
    # Named in the string subscripts Listener["HttpLimits"] / ["GrpcLimits"], which
    # keep uvicorn and grpc unloaded until a listener starts.
    from buckyos.runtime.security.node_tls import NodeTls
    from buckyos.runtime.server.grpc_server import GrpcLimits, GrpcServer  # noqa: F401
    from buckyos.runtime.server.http_limits import HttpLimits  # noqa: F401
    from buckyos.runtime.wire.dispatch import Dispatcher

LimitsT = TypeVar("LimitsT")

__all__ = [
    "GrpcListener",
    "GrpcTlsListener",
    "KrpcListener",
    "KrpcTlsListener",
    "Listener",
    "Server",
    "Started",
    "listener_kinds",
    "register_listener",
    "unregister_listener",
    "url_host",
]


@dataclass(frozen=True, slots=True)
class Started:
    """A listener that is serving: the port it bound and how to stop it."""

    port: int
    address: str
    """How a client names it: ``http://host:port`` for kRPC, ``host:port`` for gRPC."""
    stop: Callable[[], Awaitable[None]]
    """Stop serving; calls in flight get the server's grace period."""


class Server(Protocol):
    """What a listener runs: a server that binds, then serves until stopped."""

    async def start(self, host: str, port: int) -> int:
        """Bind ``host:port`` (0: a free port) and serve; the bound port.  A port that
        cannot be bound is an ``OSError``, raised before anything serves."""
        ...

    async def stop(self) -> None:
        """Stop serving; calls in flight get the server's grace period."""
        ...


@dataclass(frozen=True, slots=True)
class Listener(abc.ABC, Generic[LimitsT]):
    """One wire of a server: its port (0 picks a free one), its limits (``None``: the
    wire's defaults) and the address it binds (``None``: the server's ``host``; node TLS
    listeners bind the node's address for other nodes while the plain wires stay on
    loopback).  A subclass names the wire and says how to make its :class:`Server` and how
    a client writes its address."""

    wire: ClassVar[str]
    """The wire's key: in :attr:`ServerInfo.ports` and the options ``--<wire>-port``."""
    label: ClassVar[str]
    """The wire's name in ready lines and errors (``kRPC listening on ...``)."""
    port: int = 0
    limits: LimitsT | None = None
    host: str | None = None

    @abc.abstractmethod
    def server(self, dispatcher: Dispatcher, *, log_level: str, grace: float) -> Server:
        """The wire's server in front of ``dispatcher``, not started yet."""

    @abc.abstractmethod
    def address(self, host: str, port: int) -> str:
        """How a client names ``host:port`` on this wire."""

    async def start(
        self, dispatcher: Dispatcher, host: str, *, log_level: str, grace: float
    ) -> Started:
        """Bind ``host:port`` and serve ``dispatcher`` until :attr:`Started.stop`."""
        server = self.server(dispatcher, log_level=log_level, grace=grace)
        port = await server.start(host, self.port)
        return Started(port, self.address(host, port), server.stop)


def url_host(host: str) -> str:
    """``host`` as a URL writes it: an IPv6 address in brackets."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


class KrpcListener(Listener["HttpLimits"]):
    """kRPC over HTTP (``POST /kapi/<api>``) and the WebSocket link, under uvicorn."""

    __slots__ = ()
    wire = "krpc"
    label = "kRPC"

    def server(self, dispatcher: Dispatcher, *, log_level: str, grace: float) -> Server:
        from buckyos.runtime.server.asgi_server import AsgiServer
        from buckyos.runtime.server.krpc_server import KrpcApp
        from buckyos.runtime.wire.link import MAX_FRAME

        # The WebSocket link's frame cap is enforced while reading (close 1009).
        app = KrpcApp(dispatcher)
        return AsgiServer(
            app, log_level=log_level, grace=grace, ws_max_size=MAX_FRAME, limits=self.limits
        )

    def address(self, host: str, port: int) -> str:
        return f"http://{url_host(host)}:{port}"


class GrpcListener(Listener["GrpcLimits"]):
    """gRPC (``grpc.aio``), with health, reflection and the gRPC link."""

    __slots__ = ()
    wire = "grpc"
    label = "gRPC"

    def server(self, dispatcher: Dispatcher, *, log_level: str, grace: float) -> Server:
        from buckyos.runtime.server.grpc_server import GrpcServer

        return _WithGrace(GrpcServer(dispatcher, limits=self.limits), grace)

    def address(self, host: str, port: int) -> str:
        return f"{url_host(host)}:{port}"


def _node_tls(listener: KrpcTlsListener | GrpcTlsListener) -> NodeTls:
    if listener.tls is None:
        raise ValueError(f"{listener.label} listener needs the node's NodeTls (tls=...)")
    return listener.tls


@dataclass(frozen=True, slots=True)
class KrpcTlsListener(KrpcListener):
    """kRPC over HTTPS (and the link over ``wss``) for other nodes: mutual TLS, a caller
    must present a leaf of a zone device (:class:`~buckyos.runtime.security.node_tls.
    NodeTls`).  Its port is published as ``www_tls`` next to ``www``."""

    wire = "krpc_tls"
    label = "kRPC+TLS"
    tls: NodeTls | None = None

    def server(self, dispatcher: Dispatcher, *, log_level: str, grace: float) -> Server:
        from buckyos.runtime.server.asgi_server import AsgiServer
        from buckyos.runtime.server.krpc_server import KrpcApp
        from buckyos.runtime.wire.link import MAX_FRAME

        context = _node_tls(self).server_context()
        return AsgiServer(
            KrpcApp(dispatcher),
            log_level=log_level,
            grace=grace,
            ws_max_size=MAX_FRAME,
            limits=self.limits,
            ssl_context=context,
        )

    def address(self, host: str, port: int) -> str:
        return f"https://{url_host(host)}:{port}"


@dataclass(frozen=True, slots=True)
class GrpcTlsListener(GrpcListener):
    """gRPC over TLS for other nodes: mutual TLS against the zone's device pins.  Its port
    is published as ``grpc_tls`` next to ``grpc``."""

    wire = "grpc_tls"
    label = "gRPC+TLS"
    tls: NodeTls | None = None

    def server(self, dispatcher: Dispatcher, *, log_level: str, grace: float) -> Server:
        from buckyos.runtime.server.grpc_server import GrpcServer

        credentials = _node_tls(self).grpc_server_credentials()
        server = GrpcServer(dispatcher, limits=self.limits, credentials=credentials)
        return _WithGrace(server, grace)


@dataclass(slots=True)
class _WithGrace:
    """A gRPC server whose ``stop`` takes the grace period: given it once, here."""

    server: GrpcServer
    grace: float

    async def start(self, host: str, port: int) -> int:
        return await self.server.start(host, port)

    async def stop(self) -> None:
        await self.server.stop(self.grace)


_KINDS: dict[str, type[Listener[Any]]] = {"krpc": KrpcListener, "grpc": GrpcListener}


def register_listener(kind: type[Listener[Any]]) -> None:
    """Make ``kind`` a wire every service process offers (``--<wire>-port``,
    ``--no-<wire>``); its ``wire`` must be new."""
    if kind.wire in _KINDS and _KINDS[kind.wire] is not kind:
        raise ValueError(f"a listener for wire {kind.wire!r} is registered already")
    _KINDS[kind.wire] = kind


def unregister_listener(wire: str) -> None:
    """Forget the wire :func:`register_listener` added; kRPC and gRPC stay."""
    if wire in (KrpcListener.wire, GrpcListener.wire):
        raise ValueError(f"{wire!r} is a built-in wire")
    _KINDS.pop(wire, None)


def listener_kinds() -> tuple[type[Listener[Any]], ...]:
    """The registered wires, kRPC and gRPC first."""
    return tuple(_KINDS.values())
