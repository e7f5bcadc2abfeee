"""server: serve a binding.

Public names (``__all__``, pinned by ``tests/test_facades.py``), each loaded from its
module on first use, so that building a ``Binding`` does not load uvicorn::

    binding      Binding: the verb table, jobs, lifecycle, outgoing calls
    request      Request and Caller: what a verb handler receives
    authz / session   Authorizer (token, LOA and RBAC checks), SessionStore
    revisions    StoreRevisions: an api's shared store, so callers read their own writes on
                 any of its instances
    serve        serving() (every listener on one loop), ServerInfo, the command-line options
    listeners    KrpcListener, GrpcListener: the wires; a wire of one's own is a Listener;
                 KrpcTlsListener, GrpcTlsListener: the same over TLS between nodes
    asgi_server  AsgiServer (uvicorn for any ASGI app)
    krpc_server  KrpcApp, the kRPC ASGI app, and its body limit
    http_limits / grpc_server   HttpLimits, GrpcLimits
    process      a service's main: run_service, run_async, stop_signals, print_ready,
                 process_stop (a second stop signal exits at once), StopSignal
    drain        CUT_AT: the share of the grace period after which calls still running
                 are cut short, IdleSignal (wait until none runs); the node gateway
                 drains its forwarded calls the same way

The function ``serve`` is ``buckyos.runtime.serve``: here ``serve`` names the module
``buckyos.runtime.server.serve``, and a facade name never shadows one of its modules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from buckyos.runtime.lazy import lazy_names, lazy_table

if TYPE_CHECKING:
    from buckyos.runtime.server.asgi_server import AsgiServer as AsgiServer
    from buckyos.runtime.server.authz import Authorizer as Authorizer
    from buckyos.runtime.server.binding import (
        DEFAULT_TIMEOUT as DEFAULT_TIMEOUT,
        Binding as Binding,
    )
    from buckyos.runtime.server.drain import CUT_AT as CUT_AT, IdleSignal as IdleSignal
    from buckyos.runtime.server.grpc_server import GrpcLimits as GrpcLimits
    from buckyos.runtime.server.http_limits import HttpLimits as HttpLimits
    from buckyos.runtime.server.krpc_server import MAX_BODY as MAX_BODY, KrpcApp as KrpcApp
    from buckyos.runtime.server.listeners import (
        GrpcListener as GrpcListener,
        GrpcTlsListener as GrpcTlsListener,
        KrpcListener as KrpcListener,
        KrpcTlsListener as KrpcTlsListener,
        Listener as Listener,
        Server as Server,
        Started as Started,
        register_listener as register_listener,
        unregister_listener as unregister_listener,
    )
    from buckyos.runtime.server.process import (
        EXIT_CONFIG as EXIT_CONFIG,
        EXIT_LISTEN as EXIT_LISTEN,
        EXIT_OK as EXIT_OK,
        StopSignal as StopSignal,
        print_ready as print_ready,
        process_stop as process_stop,
        run_async as run_async,
        run_service as run_service,
        stop_signals as stop_signals,
    )
    from buckyos.runtime.server.request import Caller as Caller, Request as Request
    from buckyos.runtime.server.revisions import StoreRevisions as StoreRevisions
    from buckyos.runtime.server.serve import (
        LOG_LEVELS as LOG_LEVELS,
        ServerInfo as ServerInfo,
        add_server_options as add_server_options,
        describe_listeners as describe_listeners,
        server_listeners as server_listeners,
        serving as serving,
    )
    from buckyos.runtime.server.session import SessionStore as SessionStore

# module -> the names it lends the facade, loaded on first use (PEP 562)
_LAZY: Final = lazy_table(
    {
        ".asgi_server": "AsgiServer",
        ".authz": "Authorizer",
        ".binding": "DEFAULT_TIMEOUT Binding",
        ".drain": "CUT_AT IdleSignal",
        ".grpc_server": "GrpcLimits",
        ".http_limits": "HttpLimits",
        ".krpc_server": "MAX_BODY KrpcApp",
        ".process": (
            "EXIT_CONFIG EXIT_LISTEN EXIT_OK StopSignal print_ready process_stop run_async "
            "run_service stop_signals"
        ),
        ".request": "Caller Request",
        ".listeners": (
            "GrpcListener GrpcTlsListener KrpcListener KrpcTlsListener Listener Server Started "
            "register_listener unregister_listener"
        ),
        ".serve": (
            "LOG_LEVELS ServerInfo add_server_options describe_listeners server_listeners serving"
        ),
        ".revisions": "StoreRevisions",
        ".session": "SessionStore",
    }
)


__getattr__, __dir__ = lazy_names(__name__, _LAZY)


__all__ = sorted(_LAZY)
