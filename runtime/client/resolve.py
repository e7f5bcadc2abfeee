"""Where a service can be reached: endpoints and zone host names, no I/O.

BuckyOS offers three ways to reach a service (``buckyos-protocol.md`` section 4):

- **public**: ``https://<zone host>/kapi/<api>`` (:func:`public_endpoint`, with
  :func:`zone_host` turning the zone DID into a host name the way upstream's ``name-lib``
  does);
- **node gateway**: ``http://127.0.0.1:3180/kapi/<api>``, which forwards to a real
  instance (:func:`gateway_endpoint`);
- **direct**: an instance listed as ``started`` in ``services/<api>/info`` on this node,
  called on its own port (:func:`direct_endpoints`), or in process when the service lives
  in the calling process.

Everything here is pure: the caller reads ``services/<api>/info`` (through
:class:`~buckyos.runtime.client.service_info_cache.ServiceInfoCache`, which caches it
briefly; :mod:`~buckyos.runtime.client.service_records` parses it) and decides per runtime
type which endpoints to offer, best first (:func:`kernel_candidates` is upstream's order
plus the failover upstream lacks); :class:`~buckyos.runtime.client.routing.Router` calls
through them.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Final, Literal

from buckyos.runtime.client.service_records import ServiceInfo, ServiceNode, _check_api
from buckyos.runtime.errors import ConfigError

__all__ = [
    "DEFAULT_GATEWAY_PORT",
    "GRPC_TLS_PORT",
    "WWW_TLS_PORT",
    "Endpoint",
    "direct_endpoints",
    "gateway_endpoint",
    "kernel_candidates",
    "public_endpoint",
    "zone_host",
]

DEFAULT_GATEWAY_PORT: Final = 3180
"""The node gateway (cyfs-gateway) port every BuckyOS node listens on."""
WWW_TLS_PORT: Final = "www_tls"
"""The ``service_port`` name of an instance's kRPC-over-TLS port (for other nodes)."""
GRPC_TLS_PORT: Final = "grpc_tls"
"""The ``service_port`` name of an instance's gRPC-over-TLS port (for other nodes)."""

EndpointKind = str
"""A transport kind registered in :mod:`~buckyos.runtime.client.transports`; built in:
``krpc``, ``grpc`` and ``inprocess``."""
EndpointVia = Literal["inprocess", "direct", "gateway", "public"]


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One place a call can go.

    ``kind`` names the wire (a registered transport kind).  ``address`` is, for ``krpc``,
    a base URL (``http://127.0.0.1:3200``: calls go to ``/kapi/<api>``) or a full endpoint
    URL (``.../kapi/<api>``, what this module makes); for ``grpc`` a ``host:port`` target;
    for ``inprocess`` empty.  ``via`` says which of
    the modes found it and ``node`` names the node of a direct instance.  ``tls`` marks an
    instance on another node, called over node TLS pinned to ``node``'s device key
    (:mod:`~buckyos.runtime.security.node_tls`; the kRPC address is then ``https``).
    """

    kind: EndpointKind
    address: str
    via: EndpointVia
    node: str | None = None
    tls: bool = False

    def __str__(self) -> str:
        where = self.address or "this process"
        node = f" on {self.node}" if self.node else ""
        tls = " over TLS" if self.tls else ""
        return f"{self.via} {self.kind} {where}{node}{tls}"


# --- zone host and the fixed endpoints ---------------------------------------------------

_METHOD = re.compile(r"^[a-z0-9]+$")
# A host name or IP literal, with an optional port: what may sit between :// and /kapi.
_HOST = re.compile(
    r"^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?)(?::\d+)?$"
)


def _check_host(host: str, what: str) -> str:
    if not _HOST.match(host):
        raise ConfigError(
            f"{what} gives the host name {host!r}, which is not a host name; "
            "check the zone id (zone_did in node_identity.json or BUCKYOS_ZONE_CONFIG)"
        )
    return host


def zone_host(zone_did: str, web3_bridge: Mapping[str, str]) -> str:
    """The zone's host name, as upstream's ``DID::to_host_name``.

    ``did:web:X`` gives ``X`` (``%3A`` decoded, so ``did:web:example.com%3A8443`` gives
    ``example.com:8443``, as the did:web spec says); ``did:<m>:<id>`` gives
    ``<id>.<web3_bridge[m]>`` (``machine.json``'s ``web3_bridge``, upstream's default
    being ``{"bns": "web3.buckyos.ai"}``).  Like upstream, a zone id that is not a DID is
    a host name already, and ``<id>.<m>.did`` stands for ``did:<m>:<id>``.  Where upstream
    would fall back to the ``<id>.<m>.did`` pseudo host, which DNS cannot resolve, this
    raises ``ConfigError`` saying which bridge to configure.
    """
    zone = zone_did.strip()
    if not zone:
        raise ConfigError(
            "the zone id is empty; set zone_did in node_identity.json (or BUCKYOS_ZONE_CONFIG)"
        )
    if not zone.startswith("did:"):
        labels = zone.split(".")
        if len(labels) == 3 and labels[2] == "did":
            zone = f"did:{labels[1]}:{labels[0]}"
        else:
            return _check_host(zone, f"zone id {zone_did!r}")
    parts = zone.split(":")
    if len(parts) < 3 or not parts[1] or not parts[2]:
        raise ConfigError(
            f"zone id {zone_did!r} is not a DID: expected did:<method>:<id> "
            "(did:web:example.com or did:bns:alice)"
        )
    method, real_id = parts[1], parts[2]
    if not _METHOD.match(method):
        raise ConfigError(
            f"zone id {zone_did!r} has the DID method {method!r}; a method is lowercase "
            "letters and digits (web, bns, ...)"
        )
    if method == "web":
        return _check_host(urllib.parse.unquote(real_id), f"zone id {zone_did!r}")
    bridge = web3_bridge.get(method)
    if not bridge:
        known = ", ".join(f"{m}: {b}" for m, b in sorted(web3_bridge.items())) or "none"
        raise ConfigError(
            f"zone id {zone_did!r} needs a web3 bridge for did:{method}, and machine.json "
            f'web3_bridge has none (known: {known}); add "{method}": "<bridge host>" to '
            'web3_bridge (upstream\'s default is "bns": "web3.buckyos.ai")'
        )
    return _check_host(f"{real_id}.{bridge}", f"zone id {zone_did!r}")


def public_endpoint(api: str, zone_host: str, *, force_https: bool = True) -> Endpoint:
    """``https://<zone_host>/kapi/<api>`` (``http`` when ``force_https`` is false)."""
    scheme = "https" if force_https else "http"
    host = _check_host(zone_host, "the zone")
    return Endpoint("krpc", f"{scheme}://{host}/kapi/{_check_api(api)}", "public")


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def gateway_endpoint(
    api: str, *, host: str = "127.0.0.1", port: int = DEFAULT_GATEWAY_PORT
) -> Endpoint:
    """The node gateway's ``http://<host>:<port>/kapi/<api>``.

    ``host`` is ``127.0.0.1``, or for AppService/FrameService ``BUCKYOS_HOST_GATEWAY``
    (a container reaches its node through it), as upstream's
    ``resolve_local_service_host``.
    """
    return Endpoint("krpc", f"http://{_url_host(host)}:{port}/kapi/{_check_api(api)}", "gateway")


# --- direct endpoints and the kernel candidate list ---------------------------------------


def direct_endpoints(
    api: str,
    info: ServiceInfo,
    *,
    this_node: str | None,
    host: str = "127.0.0.1",
    prefer: Literal["grpc", "krpc"] = "krpc",
    this_node_did: str | None = None,
    node_host: Callable[[ServiceNode], str | None] | None = None,
) -> list[Endpoint]:
    """The started instances of ``api`` that can be called directly, this node's first.

    An instance's ``www`` port gives a kRPC endpoint and a ``grpc`` port (our extension,
    next to ``www`` in ``service_port``) a gRPC one; with both, ``prefer`` goes first.
    This node's instance is reached on ``host``, plain; like upstream it counts as this
    node's only when its ``node_did`` matches ``this_node_did`` (when given).  Other
    nodes' instances are listed only when ``node_host`` gives an address for them
    (upstream reaches them through the gateway only; a zone whose nodes can reach each
    other may say how), in ``node_list`` order, and only over TLS: their ``www_tls`` and
    ``grpc_tls`` ports give ``tls`` endpoints (``https``), pinned to that node's device
    key; an instance on another node without them is not listed (the gateway forwards).
    The choice is by node name, never by address (a test zone has every node on
    loopback).
    """
    _check_api(api)
    local: list[ServiceNode] = []
    remote: list[tuple[ServiceNode, str]] = []
    for node in info.started():
        if node.name == this_node and (this_node_did is None or node.node_did == this_node_did):
            local.append(node)
        elif node_host is not None:
            address = node_host(node)
            if address:
                remote.append((node, address))
    endpoints: list[Endpoint] = []
    for node in local:
        endpoints.extend(_node_endpoints(api, node, host, prefer, tls=False))
    for node, address in remote:
        endpoints.extend(_node_endpoints(api, node, address, prefer, tls=True))
    return endpoints


def _node_endpoints(
    api: str, node: ServiceNode, host: str, prefer: Literal["grpc", "krpc"], *, tls: bool
) -> list[Endpoint]:
    """``node``'s endpoints: plain (``www``, ``grpc``) or TLS (``www_tls``, ``grpc_tls``)."""
    found: list[Endpoint] = []
    www = node.service_port.get(WWW_TLS_PORT if tls else "www")
    if www:
        scheme = "https" if tls else "http"
        url = f"{scheme}://{_url_host(host)}:{www}/kapi/{api}"
        found.append(Endpoint("krpc", url, "direct", node.name, tls))
    grpc_port = node.service_port.get(GRPC_TLS_PORT if tls else "grpc")
    if grpc_port:
        endpoint = Endpoint("grpc", f"{_url_host(host)}:{grpc_port}", "direct", node.name, tls)
        found.insert(0 if prefer == "grpc" else len(found), endpoint)
    return found


def kernel_candidates(
    api: str,
    info: ServiceInfo | None,
    *,
    this_node: str | None,
    host: str = "127.0.0.1",
    gateway_port: int = DEFAULT_GATEWAY_PORT,
    in_process: bool = False,
    prefer: Literal["grpc", "krpc"] = "krpc",
    this_node_did: str | None = None,
    node_host: Callable[[ServiceNode], str | None] | None = None,
) -> list[Endpoint]:
    """Every type but AppClient: in process (when served here), the started instances
    (this node's first), then the node gateway.

    Upstream takes this node's instance or else the gateway, one URL and no failover;
    here the list is what :class:`~buckyos.runtime.client.routing.Router` fails over along.
    ``info=None`` (no service info could be read) leaves the gateway, which forwards.
    """
    endpoints: list[Endpoint] = []
    if in_process:
        endpoints.append(Endpoint("inprocess", "", "inprocess"))
    if info is not None:
        endpoints.extend(
            direct_endpoints(
                api,
                info,
                this_node=this_node,
                host=host,
                prefer=prefer,
                this_node_did=this_node_did,
                node_host=node_host,
            )
        )
    endpoints.append(gateway_endpoint(api, host=host, port=gateway_port))
    return _unique(endpoints)


def _unique(endpoints: Iterable[Endpoint]) -> list[Endpoint]:
    """Without repeats, first place kept (a gateway given as a node must not be tried
    twice)."""
    return list(dict.fromkeys(endpoints))
