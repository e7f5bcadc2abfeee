"""buckyos-api-runtime for Python: reach BuckyOS services, and serve your own.

The public surface is what ``__all__`` lists (pinned by ``tests/test_public_api.py``);
everything else lives in modules named for their one job::

    errors       the one error hierarchy, upstream's kRPC texts
    auth         auth trees of the AGL binder and their textual form
    descriptor   the verb table generated code and runtime share
    jsonmap      messages to upstream's kRPC JSON and back
    transport    the invoker interface stubs call (sync and async)
    stub         bases of generated client stubs
    servicer     base of generated server classes
    request      what a verb handler receives
    testing      an in-memory kRPC loopback for tests
    authz        auth-tree evaluation and upstream's enforce()
    session      per-session, per-api context and LOA
    binding      a served binding: verb table, lifecycle, the dispatcher the wires call
    session_token / token_signing / token_verifier / trust_keys
                 Ed25519 JWTs: claims, signing, verifying, the trusted keys by kid
    keys         Ed25519 keys;  rbac  casbin with upstream's model
    config       where a program's identity and zone come from (upstream's precedence)
    runtime      the program's runtime (an invoker) and the process-wide singleton
    login / trust / routes / paths   its login and token signing, the keys and RBAC it
                 trusts, the routes to services, its folders and settings keys
    keepalive    the background token renewal and instance records
    flow         sans-IO flows: login and keep-alive written once, a sync and an async driver
    events       binder events; link / ws_link / grpc_link / link_client  the streaming links
    resolve      where a service can be reached;  routing  calls with failover
    service_records / service_info_cache   services/<api>/info, parsed and cached
    krpc_client / grpc_client / inprocess   the three client transports
    krpc_server / grpc_server / serve       the two server wires, on one loop
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from buckyos.runtime.auth import And, AuthNode, Loa, No, Not, Or, Permission, Token, Yes, parse_auth
from buckyos.runtime.descriptor import JsonShape, MethodDescriptor, ServiceDescriptor, SessionFlags
from buckyos.runtime.errors import (
    BuckyOSError,
    ConfigError,
    ContractError,
    InternalError,
    InvalidPasswordError,
    InvalidTokenError,
    KeyNotExistError,
    NoPermissionError,
    ParseRequestError,
    ParseResponseError,
    ReasonError,
    RPCError,
    ServiceNotValidError,
    TokenExpiredError,
    TransportError,
    UnknownMethodError,
    UserNotFoundError,
)
from buckyos.runtime.lazy import lazy_names
from buckyos.runtime.stub import AsyncStub, Stub
from buckyos.runtime.transport import AsyncUnaryInvoker, TokenInvoker, Transport, UnaryInvoker

if TYPE_CHECKING:
    from buckyos.runtime.client.grpc_client import GrpcTransport
    from buckyos.runtime.client.inprocess import InProcessTransport
    from buckyos.runtime.client.krpc_client import KrpcTransport
    from buckyos.runtime.client.link_client import GrpcLink, WsLink
    from buckyos.runtime.client.resolve import Endpoint
    from buckyos.runtime.client.routing import Router
    from buckyos.runtime.program.config import RuntimeConfig, RuntimeType, load_config
    from buckyos.runtime.program.keepalive import RuntimeHealth
    from buckyos.runtime.program.runtime import (
        BuckyOSRuntime,
        get_buckyos_api_runtime,
        init_buckyos_api_runtime,
        is_buckyos_api_runtime_set,
        reset_buckyos_api_runtime,
        set_buckyos_api_runtime,
    )
    from buckyos.runtime.server.authz import Authorizer
    from buckyos.runtime.server.binding import Binding
    from buckyos.runtime.server.request import Caller, Request
    from buckyos.runtime.server.serve import ServerInfo, serve, serving
    from buckyos.runtime.server.session import SessionStore
    from buckyos.runtime.servicer import ServiceBase
    from buckyos.runtime.wire.events import Event

# Everything else loads on first use (PEP 562): importing the package (which generated
# code does) stays cheap, a client never pulls in the server's uvicorn or gRPC health and
# reflection (the `server` extra), and `runtime`, which builds on generated stubs, cannot
# make `import buckyos.generated.x_rpc` circular.
_LAZY: Final[dict[str, str]] = {
    "Authorizer": ".server.authz",
    "Binding": ".server.binding",
    "RuntimeConfig": ".program.config",
    "RuntimeType": ".program.config",
    "load_config": ".program.config",
    "Event": ".wire.events",
    "GrpcTransport": ".client.grpc_client",
    "InProcessTransport": ".client.inprocess",
    "RuntimeHealth": ".program.keepalive",
    "KrpcTransport": ".client.krpc_client",
    "GrpcLink": ".client.link_client",
    "WsLink": ".client.link_client",
    "Caller": ".server.request",
    "Request": ".server.request",
    "Endpoint": ".client.resolve",
    "Router": ".client.routing",
    "BuckyOSRuntime": ".program.runtime",
    "get_buckyos_api_runtime": ".program.runtime",
    "init_buckyos_api_runtime": ".program.runtime",
    "is_buckyos_api_runtime_set": ".program.runtime",
    "reset_buckyos_api_runtime": ".program.runtime",
    "set_buckyos_api_runtime": ".program.runtime",
    "ServerInfo": ".server.serve",
    "serve": ".server.serve",
    "serving": ".server.serve",
    "ServiceBase": ".servicer",
    "SessionStore": ".server.session",
}


__getattr__, __dir__ = lazy_names(__name__, _LAZY)


__all__ = [
    "And",
    "AsyncStub",
    "AsyncUnaryInvoker",
    "AuthNode",
    "Authorizer",
    "Binding",
    "BuckyOSError",
    "BuckyOSRuntime",
    "Caller",
    "ConfigError",
    "ContractError",
    "Endpoint",
    "Event",
    "GrpcLink",
    "GrpcTransport",
    "InProcessTransport",
    "InternalError",
    "InvalidPasswordError",
    "InvalidTokenError",
    "JsonShape",
    "KeyNotExistError",
    "KrpcTransport",
    "Loa",
    "MethodDescriptor",
    "No",
    "NoPermissionError",
    "Not",
    "Or",
    "ParseRequestError",
    "ParseResponseError",
    "Permission",
    "RPCError",
    "ReasonError",
    "Request",
    "Router",
    "RuntimeConfig",
    "RuntimeHealth",
    "RuntimeType",
    "ServerInfo",
    "ServiceBase",
    "ServiceDescriptor",
    "ServiceNotValidError",
    "SessionFlags",
    "SessionStore",
    "Stub",
    "Token",
    "TokenExpiredError",
    "TokenInvoker",
    "Transport",
    "TransportError",
    "UnaryInvoker",
    "UnknownMethodError",
    "UserNotFoundError",
    "WsLink",
    "Yes",
    "get_buckyos_api_runtime",
    "init_buckyos_api_runtime",
    "is_buckyos_api_runtime_set",
    "load_config",
    "parse_auth",
    "reset_buckyos_api_runtime",
    "serve",
    "serving",
    "set_buckyos_api_runtime",
]
