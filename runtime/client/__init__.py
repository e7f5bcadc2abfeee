"""client: reach a service.

Public names (``__all__``, pinned by ``tests/test_facades.py``), each loaded from its
module on first use, so that a kRPC client does not load gRPC, and no client loads the
server's uvicorn::

    krpc_client / grpc_client / inprocess   the three transports
    link_client     WsLink and GrpcLink, the streaming links that carry events
    resolve         Endpoint: where a service can be reached, and the gateway's address
    routing         Router: calls with failover over resolved endpoints
    revisions       SeenRevisions: the store revisions answers carried, sent back (read
                    your own writes on any node)
    transports      the Router's wires by endpoint kind: register_transport(kind, factory)
                    adds one (a factory makes the Transport of one endpoint)

Service records and their cache are the program runtime's own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from buckyos.runtime.lazy import lazy_names, lazy_table

if TYPE_CHECKING:
    from buckyos.runtime.client.grpc_client import GrpcTransport as GrpcTransport
    from buckyos.runtime.client.inprocess import InProcessTransport as InProcessTransport
    from buckyos.runtime.client.kevent import (
        KEvent as KEvent,
        KEventClient as KEventClient,
        KEventError as KEventError,
        KEventReconnect as KEventReconnect,
        KEventSubscription as KEventSubscription,
        TokenSource as TokenSource,
    )
    from buckyos.runtime.client.kevent_async import (
        AsyncKEventClient as AsyncKEventClient,
        AsyncKEventSubscription as AsyncKEventSubscription,
    )
    from buckyos.runtime.client.krpc_client import KrpcTransport as KrpcTransport
    from buckyos.runtime.client.link_client import GrpcLink as GrpcLink, WsLink as WsLink
    from buckyos.runtime.client.resolve import (
        DEFAULT_GATEWAY_PORT as DEFAULT_GATEWAY_PORT,
        GRPC_TLS_PORT as GRPC_TLS_PORT,
        WWW_TLS_PORT as WWW_TLS_PORT,
        Endpoint as Endpoint,
        direct_endpoints as direct_endpoints,
        gateway_endpoint as gateway_endpoint,
        public_endpoint as public_endpoint,
        zone_host as zone_host,
    )
    from buckyos.runtime.client.revisions import SeenRevisions as SeenRevisions
    from buckyos.runtime.client.routing import Router as Router
    from buckyos.runtime.client.transports import (
        TransportFactory as TransportFactory,
        TransportSettings as TransportSettings,
        register_transport as register_transport,
        unregister_transport as unregister_transport,
    )

# module -> the names it lends the facade, loaded on first use (PEP 562)
_LAZY: Final = lazy_table(
    {
        ".grpc_client": "GrpcTransport",
        ".inprocess": "InProcessTransport",
        ".kevent": "KEvent KEventClient KEventError KEventReconnect KEventSubscription TokenSource",
        ".kevent_async": "AsyncKEventClient AsyncKEventSubscription",
        ".krpc_client": "KrpcTransport",
        ".link_client": "GrpcLink WsLink",
        ".resolve": (
            "DEFAULT_GATEWAY_PORT GRPC_TLS_PORT WWW_TLS_PORT Endpoint direct_endpoints "
            "gateway_endpoint public_endpoint zone_host"
        ),
        ".revisions": "SeenRevisions",
        ".routing": "Router",
        ".transports": (
            "TransportFactory TransportSettings register_transport unregister_transport"
        ),
    }
)


__getattr__, __dir__ = lazy_names(__name__, _LAZY)


__all__ = sorted(_LAZY)
