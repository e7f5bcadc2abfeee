"""Where a service can be reached: endpoints, zone host names and service info, no I/O.

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
:class:`ServiceInfoCache`, which caches it briefly) and decides per runtime type which
endpoints to offer, best first (:func:`kernel_candidates` is upstream's order plus the
failover upstream lacks); :class:`~buckyos.runtime.client.routing.Router` calls through them.
"""

from __future__ import annotations

import functools
import json
import re
import threading
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from buckyos.runtime.errors import ConfigError, ServiceNotValidError
from buckyos.runtime.wire.jsonmap import json_type_name

__all__ = [
    "DEFAULT_GATEWAY_PORT",
    "Endpoint",
    "InstanceRecord",
    "ServiceInfo",
    "ServiceInfoCache",
    "ServiceNode",
    "direct_endpoints",
    "gateway_endpoint",
    "kernel_candidates",
    "parse_instance",
    "parse_service_info",
    "public_endpoint",
    "service_info_key",
    "zone_host",
]

_json_type: Final = functools.partial(json_type_name, article=True)

DEFAULT_GATEWAY_PORT: Final = 3180
"""The node gateway (cyfs-gateway) port every BuckyOS node listens on."""

EndpointKind = Literal["inprocess", "krpc", "grpc"]
EndpointVia = Literal["inprocess", "direct", "gateway", "public"]


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One place a call can go.

    ``address`` is, for ``krpc``, a base URL (``http://127.0.0.1:3200``: calls go to
    ``/kapi/<api>``) or a full endpoint URL (``.../kapi/<api>``, what this module makes);
    for ``grpc`` a ``host:port`` target; for ``inprocess`` empty.  ``via`` says which of
    the modes found it and ``node`` names the node of a direct instance.
    """

    kind: EndpointKind
    address: str
    via: EndpointVia
    node: str | None = None

    def __str__(self) -> str:
        where = self.address or "this process"
        node = f" on {self.node}" if self.node else ""
        return f"{self.via} {self.kind} {where}{node}"


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


def _check_api(api: str) -> str:
    if not api or "/" in api or any(ch.isspace() for ch in api):
        raise ValueError(f"not an api name: {api!r}")
    return api


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


# --- services/<api>/info -------------------------------------------------------------------


def service_info_key(api: str) -> str:
    """The system_config key holding ``api``'s service info."""
    return f"services/{_check_api(api)}/info"


@dataclass(frozen=True, slots=True)
class ServiceNode:
    """One node's entry in ``node_list`` (upstream's ``ServiceNode``)."""

    name: str
    """The node name (the key in ``node_list``, the device name)."""
    node_did: str
    state: str
    """``started``, ``stopped``, ``exited``, ``deploying`` or ``notexist``."""
    weight: int = 0
    service_port: Mapping[str, int] = field(default_factory=dict)
    """Port per protocol name: ``www`` is kRPC over HTTP; ``grpc`` is our extension."""
    node_net_id: str | None = None

    @property
    def started(self) -> bool:
        return self.state == "started"


@dataclass(frozen=True, slots=True)
class ServiceInfo:
    """``services/<api>/info`` as the scheduler writes it (upstream's ``ServiceInfo``)."""

    api: str
    selector_type: str
    node_list: Mapping[str, ServiceNode]
    """Node name to entry, in the JSON's order."""

    def started(self) -> list[ServiceNode]:
        """The entries whose state is ``started``, in ``node_list`` order."""
        return [node for node in self.node_list.values() if node.started]


def _malformed(what: str, problem: str) -> ServiceNotValidError:
    return ServiceNotValidError(
        f"{what} is malformed: {problem}; the scheduler writes it, so check the "
        "scheduler or rewrite the key"
    )


def _load_object(text: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise _malformed(what, f"not JSON ({exc})") from None
    if type(value) is not dict:
        raise _malformed(what, f"expected a JSON object, got {_json_type(value)}")
    return value


def _string(obj: Mapping[str, Any], key: str, what: str, *, optional: bool = False) -> str | None:
    if key not in obj or obj[key] is None:
        if optional:
            return None
        raise _malformed(what, f"{key} is missing")
    value = obj[key]
    if type(value) is not str:
        raise _malformed(what, f"{key} must be a string, got {_json_type(value)}")
    return value


def _uint(
    obj: Mapping[str, Any], key: str, what: str, *, default: int | None = None, limit: int = 2**64
) -> int:
    if key not in obj or obj[key] is None:
        if default is not None:
            return default
        raise _malformed(what, f"{key} is missing")
    value = obj[key]
    if type(value) is not int or not 0 <= value < limit:
        raise _malformed(
            what, f"{key} must be an integer in 0..{limit - 1}, got {json.dumps(value)}"
        )
    return value


def _ports(obj: Mapping[str, Any], key: str, what: str) -> dict[str, int]:
    if key not in obj:
        raise _malformed(what, f"{key} is missing")
    value = obj[key]
    if type(value) is not dict:
        raise _malformed(
            what,
            f"{key} must be an object of name: port, got {_json_type(value)}",
        )
    ports: dict[str, int] = {}
    for name, port in value.items():
        if type(port) is not int or not 0 < port < 65536:
            raise _malformed(
                what, f"{key}.{name} must be a port (1..65535), got {json.dumps(port)}"
            )
        ports[name] = port
    return ports


def parse_service_info(api: str, text: str | None) -> ServiceInfo:
    """Parse the raw value of ``services/<api>/info``.

    ``None`` (the key is missing) is upstream's ``Service not valid: service info not
    found``.  Anything malformed is a ``ServiceNotValidError`` naming the key and what is
    wrong with it.  Fields we do not use are ignored, as upstream's serde does.
    """
    if text is None:
        raise ServiceNotValidError("service info not found")
    what = service_info_key(api)
    raw = _load_object(text, what)
    selector = _string(raw, "selector_type", what, optional=True) or "random"
    node_list = raw.get("node_list")
    if type(node_list) is not dict:
        problem = (
            "is missing" if node_list is None else f"must be an object, got {_json_type(node_list)}"
        )
        raise _malformed(what, f"node_list {problem}")
    nodes: dict[str, ServiceNode] = {}
    for name, entry in node_list.items():
        where = f"{what} node_list.{name}"
        if type(entry) is not dict:
            raise _malformed(where, f"expected an object, got {_json_type(entry)}")
        node_did = _string(entry, "node_did", where)
        state = _string(entry, "state", where)
        assert node_did is not None and state is not None
        nodes[name] = ServiceNode(
            name=name,
            node_did=node_did,
            state=state,
            weight=_uint(entry, "weight", where, default=0, limit=2**32),
            service_port=_ports(entry, "service_port", where),
            node_net_id=_string(entry, "node_net_id", where, optional=True),
        )
    return ServiceInfo(api=api, selector_type=selector, node_list=nodes)


# --- services/<api>/instances/<node> -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InstanceRecord:
    """``services/<api>/instances/<node>``: what a running instance reports about itself
    (upstream's ``ServiceInstanceReportInfo``).  :meth:`to_json` writes upstream's shape."""

    instance_id: str
    node_id: str
    node_did: str
    state: str
    service_ports: Mapping[str, int]
    last_update_time: int = 0
    start_time: int = 0
    pid: int = 0
    instance_epoch: str = ""
    node_session_id: str = ""
    observed_at: int = 0
    expires_at: int = 0
    health: str = "unknown"
    """``unknown``, ``healthy``, ``unhealthy``, ``materialized`` or ``gateway_ready``."""
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Other fields (``deployment``, ``deployment_error``, ...), kept to write back."""

    @property
    def started(self) -> bool:
        return self.state == "started"

    def expired(self, now: float | None = None) -> bool:
        """True once ``expires_at`` (unix seconds) has passed; 0 never expires."""
        if not self.expires_at:
            return False
        return (time.time() if now is None else now) >= self.expires_at

    def to_json(self) -> str:
        """Upstream's JSON for this record (field order as upstream's serde writes it)."""
        body: dict[str, Any] = {
            "instance_id": self.instance_id,
            "node_id": self.node_id,
            "node_did": self.node_did,
            "state": self.state,
            "service_ports": dict(self.service_ports),
            "last_update_time": self.last_update_time,
            "start_time": self.start_time,
            "pid": self.pid,
        }
        if "deployment" in self.extra:
            body["deployment"] = self.extra["deployment"]
        body.update(
            instance_epoch=self.instance_epoch,
            node_session_id=self.node_session_id,
            observed_at=self.observed_at,
            expires_at=self.expires_at,
            health=self.health,
        )
        for key, value in self.extra.items():
            body.setdefault(key, value)
        return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


_INSTANCE_FIELDS: Final = frozenset(
    (
        "instance_id",
        "node_id",
        "node_did",
        "state",
        "service_ports",
        "last_update_time",
        "start_time",
        "pid",
        "instance_epoch",
        "node_session_id",
        "observed_at",
        "expires_at",
        "health",
    )
)


def parse_instance(text: str) -> InstanceRecord:
    """Parse the raw value of ``services/<api>/instances/<node>``.

    ``instance_id``, ``node_id``, ``node_did``, ``state`` and ``service_ports`` are
    required; the times, pid and health default to zero/``unknown`` (older upstream
    records lack some).  A malformed record is a ``ServiceNotValidError`` naming the field.
    """
    what = "service instance record"
    raw = _load_object(text, what)
    strings = {
        key: _string(raw, key, what) for key in ("instance_id", "node_id", "node_did", "state")
    }
    instance_id, node_id, node_did, state = (strings[k] or "" for k in strings)
    return InstanceRecord(
        instance_id=instance_id,
        node_id=node_id,
        node_did=node_did,
        state=state,
        service_ports=_ports(raw, "service_ports", what),
        last_update_time=_uint(raw, "last_update_time", what, default=0),
        start_time=_uint(raw, "start_time", what, default=0),
        pid=_uint(raw, "pid", what, default=0, limit=2**32),
        instance_epoch=_string(raw, "instance_epoch", what, optional=True) or "",
        node_session_id=_string(raw, "node_session_id", what, optional=True) or "",
        observed_at=_uint(raw, "observed_at", what, default=0),
        expires_at=_uint(raw, "expires_at", what, default=0),
        health=_string(raw, "health", what, optional=True) or "unknown",
        extra={k: v for k, v in raw.items() if k not in _INSTANCE_FIELDS},
    )


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
    This node's instance is reached on ``host``; like upstream it counts as this node's
    only when its ``node_did`` matches ``this_node_did`` (when given).  Other nodes'
    instances are listed only when ``node_host`` gives an address for them (upstream
    reaches them through the gateway only; a zone whose nodes can reach each other may
    say how), in ``node_list`` order.
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
    for node, address in [(node, host) for node in local] + remote:
        endpoints.extend(_node_endpoints(api, node, address, prefer))
    return endpoints


def _node_endpoints(
    api: str, node: ServiceNode, host: str, prefer: Literal["grpc", "krpc"]
) -> list[Endpoint]:
    found: list[Endpoint] = []
    www = node.service_port.get("www")
    if www:
        found.append(
            Endpoint("krpc", f"http://{_url_host(host)}:{www}/kapi/{api}", "direct", node.name)
        )
    grpc_port = node.service_port.get("grpc")
    if grpc_port:
        endpoint = Endpoint("grpc", f"{_url_host(host)}:{grpc_port}", "direct", node.name)
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


# --- the cache ------------------------------------------------------------------------------


@dataclass(slots=True)
class _Entry:
    until: float
    info: ServiceInfo | None = None
    error: BaseException | None = None
    good: ServiceInfo | None = None
    """The last good info, served while a refresh fails for lack of an answer."""
    good_until: float = 0.0


class ServiceInfoCache:
    """``services/<api>/info`` read through ``fetch`` and kept for ``ttl`` seconds.

    ``fetch(key)`` returns the raw system_config value of ``services/<api>/info`` (``None``
    when the key is missing).  A missing or malformed info is remembered only for
    ``error_ttl`` seconds, so a service that appears is found quickly.  When a refresh
    fails because system_config did not answer (``fetch`` raised), the last good info is
    served for up to ``max_stale`` seconds more: routing should survive a system_config
    restart.  Thread-safe; ``aget`` is the asyncio twin (same entries).
    """

    def __init__(
        self,
        fetch: Callable[[str], str | None],
        *,
        ttl: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        error_ttl: float = 1.0,
        max_stale: float = 300.0,
    ) -> None:
        self._fetch = fetch
        self.ttl = ttl
        self.error_ttl = min(error_ttl, ttl)
        self.max_stale = max_stale
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}

    def _cached(self, api: str) -> ServiceInfo | None:
        """The fresh cached answer (raising a fresh cached error), or ``None`` to fetch."""
        with self._lock:
            entry = self._entries.get(api)
        if entry is None or self._clock() >= entry.until:
            return None
        if entry.error is not None:
            # The same object raised again: drop the old traceback rather than grow it.
            raise entry.error.with_traceback(None)
        return entry.info

    def _store(self, api: str, text: str | None, failure: BaseException | None) -> ServiceInfo:
        """Record one fetch's outcome and return the info to use (or raise)."""
        now = self._clock()
        with self._lock:
            previous = self._entries.get(api)
            if failure is not None:
                # No answer from system_config: keep routing on what we knew.
                if previous is not None and previous.good is not None and now < previous.good_until:
                    previous.until = now + self.error_ttl
                    previous.info, previous.error = previous.good, None
                    return previous.good
                self._entries[api] = _Entry(now + self.error_ttl, error=failure)
                raise failure
            try:
                info = parse_service_info(api, text)
            except ServiceNotValidError as exc:
                self._entries[api] = _Entry(now + self.error_ttl, error=exc)
                raise
            self._entries[api] = _Entry(
                now + self.ttl, info=info, good=info, good_until=now + self.ttl + self.max_stale
            )
            return info

    def get(self, api: str) -> ServiceInfo:
        """The service info of ``api``; raises ``ServiceNotValidError`` when missing or
        malformed, or what ``fetch`` raised when there is no earlier info to fall back on."""
        cached = self._cached(api)
        if cached is not None:
            return cached
        try:
            text = self._fetch(service_info_key(api))
        except Exception as exc:
            return self._store(api, None, exc)
        return self._store(api, text, None)

    async def aget(self, api: str, afetch: Callable[[str], Awaitable[str | None]]) -> ServiceInfo:
        """:meth:`get` with an async ``afetch(key)`` (same cache)."""
        cached = self._cached(api)
        if cached is not None:
            return cached
        try:
            text = await afetch(service_info_key(api))
        except Exception as exc:
            return self._store(api, None, exc)
        return self._store(api, text, None)

    def invalidate(self, api: str | None = None) -> None:
        """Forget ``api``'s info (all when ``None``); the next ``get`` reads it again."""
        with self._lock:
            if api is None:
                self._entries.clear()
            else:
                self._entries.pop(api, None)
