"""server: serve a binding.

Public names (``__all__``, pinned by ``tests/test_facades.py``), each loaded from its
module on first use, so that building a ``Binding`` does not load uvicorn::

    binding      Binding: the verb table, jobs, lifecycle, outgoing calls
    request      Request and Caller: what a verb handler receives
    authz / session   Authorizer (token, LOA and RBAC checks), SessionStore
    serve        serving() (both wires on one loop), ServerInfo, the command-line options,
                 AsgiServer (uvicorn for any ASGI app)
    krpc_server  KrpcApp, the kRPC ASGI app, and its body limit
    http_limits / grpc_server   HttpLimits, GrpcLimits
    process      a service's main: run_service, run_async, stop_signals, print_ready

The function ``serve`` is ``buckyos.runtime.serve``: here ``serve`` names the module
``buckyos.runtime.server.serve``, and a facade name never shadows one of its modules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from buckyos.runtime.lazy import lazy_names

if TYPE_CHECKING:
    from buckyos.runtime.server.authz import Authorizer
    from buckyos.runtime.server.binding import DEFAULT_TIMEOUT, Binding
    from buckyos.runtime.server.grpc_server import GrpcLimits
    from buckyos.runtime.server.http_limits import HttpLimits
    from buckyos.runtime.server.krpc_server import MAX_BODY, KrpcApp
    from buckyos.runtime.server.process import (
        EXIT_CONFIG,
        EXIT_LISTEN,
        EXIT_OK,
        print_ready,
        run_async,
        run_service,
        stop_signals,
    )
    from buckyos.runtime.server.request import Caller, Request
    from buckyos.runtime.server.serve import (
        LOG_LEVELS,
        AsgiServer,
        ServerInfo,
        add_server_options,
        serving,
    )
    from buckyos.runtime.server.session import SessionStore

# name -> module it lives in; loaded on first use (PEP 562)
_LAZY: Final[dict[str, str]] = {
    "Authorizer": ".authz",
    "DEFAULT_TIMEOUT": ".binding",
    "Binding": ".binding",
    "GrpcLimits": ".grpc_server",
    "HttpLimits": ".http_limits",
    "MAX_BODY": ".krpc_server",
    "KrpcApp": ".krpc_server",
    "EXIT_CONFIG": ".process",
    "EXIT_LISTEN": ".process",
    "EXIT_OK": ".process",
    "print_ready": ".process",
    "run_async": ".process",
    "run_service": ".process",
    "stop_signals": ".process",
    "Caller": ".request",
    "Request": ".request",
    "LOG_LEVELS": ".serve",
    "AsgiServer": ".serve",
    "ServerInfo": ".serve",
    "add_server_options": ".serve",
    "serving": ".serve",
    "SessionStore": ".session",
}


__getattr__, __dir__ = lazy_names(__name__, _LAZY)


__all__ = [
    "DEFAULT_TIMEOUT",
    "EXIT_CONFIG",
    "EXIT_LISTEN",
    "EXIT_OK",
    "LOG_LEVELS",
    "MAX_BODY",
    "AsgiServer",
    "Authorizer",
    "Binding",
    "Caller",
    "GrpcLimits",
    "HttpLimits",
    "KrpcApp",
    "Request",
    "ServerInfo",
    "SessionStore",
    "add_server_options",
    "print_ready",
    "run_async",
    "run_service",
    "serving",
    "stop_signals",
]
