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
"""

from .auth import And, AuthNode, Loa, No, Not, Or, Permission, Token, Yes, parse_auth
from .authz import Authorizer
from .binding import Binding
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
from .request import Caller, Request
from .servicer import ServiceBase
from .session import SessionStore
from .stub import AsyncStub, Stub
from .transport import AsyncUnaryInvoker, UnaryInvoker

__all__ = [
    "And",
    "AsyncStub",
    "AsyncUnaryInvoker",
    "AuthNode",
    "Authorizer",
    "Binding",
    "BuckyOSError",
    "Caller",
    "ConfigError",
    "ContractError",
    "InternalError",
    "InvalidPasswordError",
    "InvalidTokenError",
    "JsonShape",
    "KeyNotExistError",
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
    "Yes",
    "parse_auth",
]
