"""The seam between the wires (kRPC/HTTP, gRPC, in-process) and a served binding.

A wire adapter decodes its framing, finds the verb with :meth:`Dispatcher.lookup`, and
hands the typed message plus the caller's raw token to :meth:`Dispatcher.call`, which
authenticates, authorises and runs the handler.  A wire that carries JSON params turns
them into the message with :func:`decode_checked`, which lets a dispatcher that can
decode them in the binder's order (token, LOA, params) do so.  Errors come back as ``RPCError``; the
adapter writes them in its own framing (kRPC ``error`` text, gRPC status + details).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from google.protobuf.message import Message

from buckyos.runtime.descriptor import MethodDescriptor, ServiceDescriptor
from buckyos.runtime.errors import RPCError
from buckyos.runtime.wire.events import LinkScope
from buckyos.runtime.wire.jsonmap import decode_params

__all__ = [
    "FORWARDED_CLIENT_HEADER",
    "REVISION_HEADER",
    "CallInfo",
    "Dispatcher",
    "decode_checked",
    "parse_revision",
]

FORWARDED_CLIENT_HEADER = "x-buckyos-client"
"""The HTTP header (and gRPC metadata key) in which a node gateway names the client it
forwards a call for: a compact EdDSA JWT signed by the gateway's device key, claims
``{iss, sub: <device>, client_addr, iat, exp}``.  The wires pass it on raw
(:attr:`CallInfo.forwarded_client`); whoever uses it must verify it."""


REVISION_HEADER = "x-buckyos-revision"
"""Reading one's own writes across the instances of an api whose store is shared (a zone
of several nodes, system_config on etcd).  On an answer (HTTP header, gRPC trailing
metadata): the store revision the answer reflects.  On a call: the highest such revision
the caller has seen from that api; the instance answers only once its copy of the store
has reached it.  A decimal number; upstream's clients send none and ignore it."""

_REVISION_DIGITS = 19
"""A revision is below 2**63 (etcd's is an int64)."""


def parse_revision(text: str) -> int:
    """The revision an ``x-buckyos-revision`` value names; ``ValueError`` saying what is
    wrong when it is not a decimal number below 2**63."""
    if not (0 < len(text) <= _REVISION_DIGITS and text.isascii() and text.isdigit()):
        raise ValueError(
            f"{REVISION_HEADER} {text[:32]!r} is not a revision (a decimal number below 2**63)"
        )
    revision = int(text)
    if revision >= 2**63:
        raise ValueError(f"{REVISION_HEADER} {text!r} is not below 2**63")
    return revision


@dataclass(slots=True)  # not frozen: a frozen dataclass costs ~1 us more per call to build
class CallInfo:
    """What the wire knows about a call besides its message."""

    token: str | None = None
    trace_id: str | None = None
    transport: str = "inprocess"
    """``krpc``, ``grpc``, ``ws``, ``grpc-link`` or ``inprocess``."""
    params: Any = None
    """The raw kRPC params when the call came as JSON, else ``None``."""
    peer: str | None = None
    seq: int | None = None
    link: LinkScope | None = None
    """The call's connection when it came over a streaming link (for ``req.subscribe``)."""
    forwarded_client: str | None = None
    """The raw ``x-buckyos-client`` header (gRPC metadata) a node gateway adds: a JWT
    naming the client's address, signed by the gateway's device key.  Not checked here:
    only a service that cares (verify-hub's login throttle) verifies and believes it."""
    min_revision: int = 0
    """The ``x-buckyos-revision`` the caller sent (0: none): answer from a store copy at
    least this far."""
    revision: int | None = None
    """Set by the dispatcher: the store revision the answer reflects, for the wire to send
    back (``None``: the api has no shared store revision)."""


class Dispatcher(Protocol):
    """What a wire adapter needs from the server side."""

    def services(self) -> tuple[ServiceDescriptor, ...]:
        """The apis served (for routing, health and reflection)."""
        ...

    def lookup(self, api: str, krpc: str) -> MethodDescriptor[Any, Any] | None:
        """The verb ``krpc`` of ``api``, or ``None`` when there is no such verb."""
        ...

    async def call(
        self, method: MethodDescriptor[Any, Any], message: Message, info: CallInfo
    ) -> Message:
        """Authenticate, authorise and run one verb; raise ``RPCError`` on failure."""
        ...


def decode_checked(
    dispatcher: Dispatcher, method: MethodDescriptor[Any, Any], params: Any, token: str | None
) -> Message:
    """The request message of kRPC ``params``, in the binder's order: the token before the
    params.

    A dispatcher with ``decode(method, params, token)`` (as
    :class:`~buckyos.runtime.server.binding.Binding` has) decodes them itself: it checks
    the token and LOA before it refuses the params, and before an api's own params check.
    Otherwise the params are decoded here; when they do not decode, a dispatcher that can
    (``authenticate(method, token)``) first refuses a missing or bad token."""
    decode = getattr(dispatcher, "decode", None)
    if decode is not None:
        decoded: Message = decode(method, params, token)
        return decoded
    try:
        message: Message = decode_params(method, params)
    except RPCError:
        authenticate = getattr(dispatcher, "authenticate", None)
        if authenticate is not None:
            authenticate(method, token)
        raise
    return message
