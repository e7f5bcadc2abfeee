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
    tokens/keys  Ed25519 JWTs and keys;  rbac  casbin with upstream's model
    config       where a program's identity and zone come from (upstream's precedence)
    runtime      the program's runtime: login, tokens, service routes; an invoker
    keepalive    the background token renewal and instance records
    events       binder events; link / ws_link / grpc_link / link_client  the streaming links
    resolve      where a service can be reached;  routing  calls with failover
    krpc_client / grpc_client / inprocess   the three client transports
    krpc_server / grpc_server / serve       the two server wires, on one loop
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Final

from .auth import And, AuthNode, Loa, No, Not, Or, Permission, Token, Yes, parse_auth
from .descriptor import JsonShape, MethodDescriptor, ServiceDescriptor, SessionFlags
from .errors import (
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
from .stub import AsyncStub, Stub
from .transport import AsyncUnaryInvoker, UnaryInvoker

if TYPE_CHECKING:
    from .authz import Authorizer
    from .binding import Binding
    from .config import RuntimeConfig, RuntimeType, load_config
    from .events import Event
    from .grpc_client import GrpcTransport
    from .inprocess import InProcessTransport
    from .keepalive import RuntimeHealth
    from .krpc_client import KrpcTransport
    from .link_client import GrpcLink, WsLink
    from .request import Caller, Request
    from .resolve import Endpoint
    from .routing import Router
    from .runtime import (
        BuckyOSRuntime,
        get_buckyos_api_runtime,
        init_buckyos_api_runtime,
        is_buckyos_api_runtime_set,
        reset_buckyos_api_runtime,
        set_buckyos_api_runtime,
    )
    from .serve import ServerInfo, serve, serving
    from .servicer import ServiceBase
    from .session import SessionStore

# Everything else loads on first use (PEP 562): importing the package (which generated
# code does) stays cheap, a client never pulls in the server's uvicorn or gRPC health and
# reflection (the `server` extra), and `runtime`, which builds on generated stubs, cannot
# make `import buckyos.generated.x_rpc` circular.
_LAZY: Final[dict[str, str]] = {
    "Authorizer": ".authz",
    "Binding": ".binding",
    "RuntimeConfig": ".config",
    "RuntimeType": ".config",
    "load_config": ".config",
    "Event": ".events",
    "GrpcTransport": ".grpc_client",
    "InProcessTransport": ".inprocess",
    "RuntimeHealth": ".keepalive",
    "KrpcTransport": ".krpc_client",
    "GrpcLink": ".link_client",
    "WsLink": ".link_client",
    "Caller": ".request",
    "Request": ".request",
    "Endpoint": ".resolve",
    "Router": ".routing",
    "BuckyOSRuntime": ".runtime",
    "get_buckyos_api_runtime": ".runtime",
    "init_buckyos_api_runtime": ".runtime",
    "is_buckyos_api_runtime_set": ".runtime",
    "reset_buckyos_api_runtime": ".runtime",
    "set_buckyos_api_runtime": ".runtime",
    "ServerInfo": ".serve",
    "serve": ".serve",
    "serving": ".serve",
    "ServiceBase": ".servicer",
    "SessionStore": ".session",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


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
