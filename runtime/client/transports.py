"""The client wires a :class:`~buckyos.runtime.client.routing.Router` knows, by endpoint
kind.

A wire registers itself when its module is imported: the ``Endpoint.kind`` it serves and
a factory making one :class:`~buckyos.runtime.transport.Transport` per endpoint.  The
Router looks the kind up for each endpoint it tries, so a new wire is one new module
(``krpc_client``, ``grpc_client`` and ``inprocess`` register ``krpc``, ``grpc`` and
``inprocess`` this way)::

    register_transport("mywire", lambda endpoint, settings: MyTransport(endpoint.address))
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from buckyos.runtime.client.resolve import Endpoint
from buckyos.runtime.client.revisions import SeenRevisions
from buckyos.runtime.errors import RPCError
from buckyos.runtime.transport import Transport

if TYPE_CHECKING:
    from buckyos.runtime.security.node_tls import NodeTls

__all__ = [
    "TransportFactory",
    "TransportKind",
    "TransportSettings",
    "register_transport",
    "transport_kind",
    "transport_kinds",
    "unregister_transport",
]


@dataclass(frozen=True, slots=True)
class TransportSettings:
    """What a Router tells the transports it makes."""

    timeout: float
    """Each call's default seconds."""
    dead_for: float
    """Seconds an endpoint that failed to answer is skipped."""
    options: Mapping[str, tuple[tuple[str, Any], ...]] = field(default_factory=dict)
    """Options by kind (``"grpc"``: channel options)."""
    tls: NodeTls | None = None
    """This node's TLS, for endpoints on other nodes (``Endpoint.tls``); ``None``: a
    caller without a device key, which cannot call them."""
    revisions: SeenRevisions | None = None
    """The store revisions the Router's answers carried, per api (read your own writes
    on any node); ``None``: none kept or sent."""


TransportFactory = Callable[[Endpoint, TransportSettings], Transport]
"""Makes the transport of one endpoint (the Router pools it)."""


@dataclass(frozen=True, slots=True)
class TransportKind:
    """One registered wire."""

    kind: str
    factory: TransportFactory
    absent: Callable[[str], RPCError | None] | None = None
    """``api -> error`` when the wire can tell without a call that the api is not there
    (in-process: not in the process registry); the Router then skips the endpoint."""
    marks_dead: bool = True
    """Whether an endpoint that failed to answer is skipped for a while (not in-process:
    there is nothing to revive)."""


_KINDS: dict[str, TransportKind] = {}


def register_transport(
    kind: str,
    factory: TransportFactory,
    *,
    absent: Callable[[str], RPCError | None] | None = None,
    marks_dead: bool = True,
    replace: bool = False,
) -> TransportKind:
    """Make ``factory`` the wire of endpoints of ``kind``; a kind is registered once
    unless ``replace``."""
    if not kind:
        raise ValueError("a transport kind must be a non-empty name")
    if kind in _KINDS and not replace:
        raise ValueError(f"transport kind {kind!r} is registered already")
    entry = _KINDS[kind] = TransportKind(kind, factory, absent, marks_dead)
    return entry


def unregister_transport(kind: str) -> None:
    """Forget the wire of ``kind`` (a test's fake, say); unknown kinds are ignored."""
    _KINDS.pop(kind, None)


def transport_kind(endpoint: Endpoint) -> TransportKind:
    """The wire registered for ``endpoint``'s kind."""
    entry = _KINDS.get(endpoint.kind)
    if entry is None:
        raise ValueError(f"unknown endpoint kind {endpoint.kind!r} in {endpoint!r}")
    return entry


def transport_kinds() -> tuple[str, ...]:
    """The kinds registered, in the order they were."""
    return tuple(_KINDS)
