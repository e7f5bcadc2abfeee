"""client: reach a service.

Public names (``__all__``, pinned by ``tests/test_facades.py``), each loaded from its
module on first use, so that a kRPC client does not load gRPC, and no client loads the
server's uvicorn::

    krpc_client / grpc_client / inprocess   the three transports
    link_client     WsLink and GrpcLink, the streaming links that carry events
    resolve         Endpoint: where a service can be reached, and the gateway's address
    routing         Router: calls with failover over resolved endpoints
    transports      the Router's wires by endpoint kind: register_transport(kind, factory)
                    adds one (a factory makes the Transport of one endpoint)

Service records and their cache are the program runtime's own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from buckyos.runtime.lazy import lazy_names

if TYPE_CHECKING:
    from buckyos.runtime.client.grpc_client import GrpcTransport
    from buckyos.runtime.client.inprocess import InProcessTransport
    from buckyos.runtime.client.krpc_client import KrpcTransport
    from buckyos.runtime.client.link_client import GrpcLink, WsLink
    from buckyos.runtime.client.resolve import (
        DEFAULT_GATEWAY_PORT,
        Endpoint,
        direct_endpoints,
        gateway_endpoint,
        public_endpoint,
        zone_host,
    )
    from buckyos.runtime.client.routing import Router
    from buckyos.runtime.client.transports import (
        TransportFactory,
        TransportSettings,
        register_transport,
        unregister_transport,
    )

# name -> module it lives in; loaded on first use (PEP 562)
_LAZY: Final[dict[str, str]] = {
    "GrpcTransport": ".grpc_client",
    "InProcessTransport": ".inprocess",
    "KrpcTransport": ".krpc_client",
    "GrpcLink": ".link_client",
    "WsLink": ".link_client",
    "DEFAULT_GATEWAY_PORT": ".resolve",
    "Endpoint": ".resolve",
    "direct_endpoints": ".resolve",
    "gateway_endpoint": ".resolve",
    "public_endpoint": ".resolve",
    "zone_host": ".resolve",
    "Router": ".routing",
    "TransportFactory": ".transports",
    "TransportSettings": ".transports",
    "register_transport": ".transports",
    "unregister_transport": ".transports",
}


__getattr__, __dir__ = lazy_names(__name__, _LAZY)


__all__ = [
    "DEFAULT_GATEWAY_PORT",
    "Endpoint",
    "GrpcLink",
    "GrpcTransport",
    "InProcessTransport",
    "KrpcTransport",
    "Router",
    "TransportFactory",
    "TransportSettings",
    "WsLink",
    "direct_endpoints",
    "gateway_endpoint",
    "public_endpoint",
    "register_transport",
    "unregister_transport",
    "zone_host",
]
