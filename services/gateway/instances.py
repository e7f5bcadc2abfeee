"""Where a service runs: the instances the gateway may forward ``/kapi/<service>`` to.

An :class:`InstanceSource` answers "which started instances does ``<service>`` have?".
Two are here:

* :class:`StaticInstanceSource`: a fixed map from service name to endpoint URLs (tests,
  a gateway configured by hand);
* :class:`SystemConfigInstanceSource`: reads system_config through the generated
  ``AsyncSystemConfigStub`` over any async invoker, the way upstream's scheduler and
  node-daemon publish services (``buckyos-protocol.md`` section 4):

  - ``services/<svc>/info``: ``{"selector_type": "random", "node_list": {"<node>":
    {"node_did", "node_net_id", "state": "started", "weight": 100,
    "service_port": {"www": 3300}}}}``, the scheduler's placement;
  - ``services/<svc>/instances/<node>``: ``{"instance_id", "node_id", "state":
    "started", "service_ports": {"www": port}, "expires_at": now+90, ...}``, what each
    node reports about its running instance.

  A node is used when the placement says ``started`` with a ``www`` port; when the node
  also has an instance record, the record is the live truth and must say ``started``, carry
  a ``www`` port (which wins over the placement's) and not be expired.  A gateway that
  knows its own node (``this_node``) reaches another node's instance only over node TLS:
  its ``www_tls`` port instead of ``www``, an ``https`` URL pinned to that node's device
  key (:mod:`buckyos.runtime.security.node_tls`); another node without one is skipped.
  The choice is by node name, never by address.  A node with a live
  record but no placement entry is used too (a service that registered itself).  A
  missing info is upstream's ``Service not valid: service info not found``.

  What a record may route to is bounded (records are written by node-daemons, but also
  by anyone RBAC lets write ``services/<svc>/instances/<node>``): the host is never taken
  from a record or a placement, only from the gateway's own configuration (``node_hosts``,
  else ``default_host``, loopback); the port must be an integer 1-65535; the node name
  must be a plain name (letters, digits, ``-``, ``_``, ``.``; 64 at most).  Anything else is
  skipped with a warning.  A record pointing at the gateway itself is caught by the app
  (its hop header), not here.

Service ``system_config`` is the exception: its info lives in itself, so it is reached at
the URL the gateway was configured with.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import urllib.parse
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol, runtime_checkable

from buckyos.generated.system_config_rpc import SYSTEM_CONFIG, AsyncSystemConfigStub
from buckyos.runtime import AsyncUnaryInvoker, KeyNotExistError, RPCError, ServiceNotValidError
from buckyos.runtime.client import WWW_TLS_PORT

__all__ = [
    "INFO_NOT_FOUND",
    "SYSTEM_CONFIG_API",
    "Instance",
    "InstanceSource",
    "StaticInstanceSource",
    "SystemConfigInstanceSource",
    "endpoint_url",
    "instances_from_config",
]

INFO_NOT_FOUND: Final = "service info not found"
"""Upstream's reason when ``services/<svc>/info`` is missing (``control_panel.rs``)."""

SYSTEM_CONFIG_API: Final = SYSTEM_CONFIG.api
"""system_config's kRPC api name (with an underscore, unlike ``verify-hub``)."""

_STARTED: Final = "started"
_WWW: Final = "www"
_WWW_TLS: Final = WWW_TLS_PORT
_DEFAULT_WEIGHT: Final = 100
_READ_TIMEOUT: Final = 5.0
_NODE_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}")
"""A node name the gateway routes to: it picks the host (``host_of``) and shows in errors."""

_log = logging.getLogger("buckyos.services.gateway.instances")


@dataclass(frozen=True, slots=True)
class Instance:
    """One started instance: the node it runs on and its kRPC endpoint URL."""

    node: str
    url: str
    """The full endpoint, ``http://host:port/kapi/<service>`` (``https`` with ``tls``)."""
    weight: int = _DEFAULT_WEIGHT
    tls: bool = False
    """On another node: called over node TLS, pinned to ``node``'s device key."""

    def describe(self) -> str:
        """``node@host:port``, for messages that say what was tried."""
        netloc = urllib.parse.urlsplit(self.url).netloc
        return f"{self.node}@{netloc}" if self.node else netloc


@runtime_checkable
class InstanceSource(Protocol):
    """Finds the started instances of a service.

    ``instances`` raises ``ServiceNotValidError`` when the service is unknown (with
    :data:`INFO_NOT_FOUND` when it has no info at all) and any other ``RPCError`` when the
    source itself could not be read; an empty result means "known, none started".
    """

    async def instances(self, service: str) -> Sequence[Instance]: ...

    async def aclose(self) -> None: ...


def endpoint_url(base_url: str, service: str) -> str:
    """``base_url`` as the endpoint of ``service``: ``/kapi/<service>`` is appended unless
    the URL already names an endpoint (as upstream clients take it)."""
    parts = urllib.parse.urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"instance URL must be http(s)://host[:port][/path]: {base_url!r}")
    path = parts.path.rstrip("/")
    if path.rsplit("/", 2)[-2:-1] == ["kapi"]:
        return f"{parts.scheme}://{parts.netloc}{path}"
    return f"{parts.scheme}://{parts.netloc}{path}/kapi/{service}"


class StaticInstanceSource:
    """A fixed map ``service -> [URL or Instance, ...]``; unknown services have no info.

    URLs may be servers (``http://127.0.0.1:4001``) or endpoints; nodes are named
    ``static-<n>`` unless an :class:`Instance` is given.
    """

    def __init__(self, services: Mapping[str, Iterable[str | Instance]]) -> None:
        table: dict[str, tuple[Instance, ...]] = {}
        for service, entries in services.items():
            found: list[Instance] = []
            for index, entry in enumerate(entries):
                if isinstance(entry, Instance):
                    found.append(entry)
                else:
                    found.append(Instance(f"static-{index}", endpoint_url(entry, service)))
            table[service] = tuple(found)
        self._table = table

    async def instances(self, service: str) -> Sequence[Instance]:
        """The configured instances, or ``Service not valid: service info not found``."""
        found = self._table.get(service)
        if found is None:
            raise ServiceNotValidError(INFO_NOT_FOUND)
        return found

    async def aclose(self) -> None:
        """Nothing to release."""


def _port(ports: object, name: str = _WWW) -> int | None:
    """The ``name`` port (``www``, or ``www_tls`` for another node) of a
    ``service_port``/``service_ports`` map, if it is a real port."""
    if not isinstance(ports, Mapping):
        return None
    port = ports.get(name)
    if type(port) is not int or not 0 < port < 65536:
        return None
    return port


def _weight(entry: Mapping[str, Any]) -> int:
    weight = entry.get("weight", _DEFAULT_WEIGHT)
    return weight if type(weight) is int and weight >= 0 else _DEFAULT_WEIGHT


def _record_port(record: object, now: float, name: str = _WWW) -> int | None:
    """The ``name`` port of a live instance record; ``None`` when the record says dead."""
    if not isinstance(record, Mapping) or record.get("state") != _STARTED:
        return None
    expires_at = record.get("expires_at")
    # A record without expires_at predates expiry; one in the past is a dead node's.
    if isinstance(expires_at, int | float) and not isinstance(expires_at, bool):
        if expires_at <= now:
            return None
    return _port(record.get("service_ports"), name)


def _plain_node(service: str, node: object) -> bool:
    if isinstance(node, str) and _NODE_NAME.fullmatch(node) is not None:
        return True
    _log.warning("services/%s: node name %.80r is not a plain name: skipped", service, node)
    return False


def instances_from_config(
    service: str,
    info: Mapping[str, Any],
    records: Mapping[str, object],
    *,
    now: float,
    host_of: Callable[[str], str],
    this_node: str | None = None,
) -> tuple[Instance, ...]:
    """The started instances described by a parsed ``info`` and instance ``records``
    (node name -> parsed record), ordered by node name; pure, for both sources and tests.
    With ``this_node``, every other node is reached on its ``www_tls`` port over TLS.

    Raises ``ServiceNotValidError`` when ``info`` has no ``node_list`` object.
    """
    node_list = info.get("node_list")
    if not isinstance(node_list, Mapping):
        raise ServiceNotValidError(
            f"services/{service}/info has no node_list object; fix the record in system_config"
        )

    def remote(node: str) -> bool:
        return this_node is not None and node != this_node

    ports: dict[str, tuple[int, int]] = {}
    for node, entry in node_list.items():
        if not isinstance(entry, Mapping) or entry.get("state") != _STARTED:
            continue
        if not _plain_node(service, node):
            continue
        name = _WWW_TLS if remote(node) else _WWW
        port = _port(entry.get("service_port"), name)
        if port is None:
            continue
        if node in records:
            port = _record_port(records[node], now, name)
            if port is None:
                continue
        ports[node] = (port, _weight(entry))
    for node, record in records.items():
        if node not in ports and node not in node_list and _plain_node(service, node):
            port = _record_port(record, now, _WWW_TLS if remote(node) else _WWW)
            if port is not None:
                ports[node] = (port, _DEFAULT_WEIGHT)
    found: list[Instance] = []
    for node in sorted(ports):
        port, weight = ports[node]
        host = host_of(node)
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        tls = remote(node)
        scheme = "https" if tls else "http"
        found.append(Instance(node, f"{scheme}://{host}:{port}/kapi/{service}", weight, tls))
    return tuple(found)


def _parse_json(text: str, what: str) -> object:
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ServiceNotValidError(
            f"{what} is not valid JSON ({exc}); fix it in system_config"
        ) from None


class SystemConfigInstanceSource:
    """Instances read from system_config through ``AsyncSystemConfigStub(invoker)``.

    ``invoker`` is any async invoker (a ``KrpcTransport``, possibly wrapped to carry a
    renewed token).  Node names map to hosts with ``node_hosts``; any other node is
    ``default_host`` (a local zone runs every node on loopback).  With ``this_node`` (the
    gateway's own node), other nodes' instances are reached over node TLS (their
    ``www_tls`` ports; the app needs ``tls=``).  ``system_config_url``
    answers for system_config itself.  Each lookup reads the info, lists the instance
    records and reads them concurrently: callers cache (see ``pool.InstancePool``).
    """

    def __init__(
        self,
        invoker: AsyncUnaryInvoker,
        *,
        system_config_url: str | None = None,
        node_hosts: Mapping[str, str] | None = None,
        default_host: str = "127.0.0.1",
        read_timeout: float = _READ_TIMEOUT,
        clock: Callable[[], float] = time.time,
        this_node: str | None = None,
    ) -> None:
        self._this_node = this_node
        self._stub = AsyncSystemConfigStub(invoker, timeout=read_timeout)
        self._invoker = invoker
        self._self: tuple[Instance, ...] | None = None
        self._zone_read = False
        if system_config_url is not None:
            url = endpoint_url(system_config_url, SYSTEM_CONFIG_API)
            self._self = (Instance(SYSTEM_CONFIG_API, url),)
        self._node_hosts = dict(node_hosts or {})
        self._default_host = default_host
        self._clock = clock

    def _host_of(self, node: str) -> str:
        return self._node_hosts.get(node, self._default_host)

    async def _get(self, key: str) -> str | None:
        try:
            result = await self._stub.Get(key=key)
        except KeyNotExistError:
            # Upstream's system_config answers a missing key with an error, ours with null.
            return None
        return result.value if result.HasField("value") else None

    async def _list(self, key: str) -> list[str]:
        try:
            return list((await self._stub.List(key=key)).keys)
        except KeyNotExistError:
            return []

    async def instances(self, service: str) -> Sequence[Instance]:
        """The started, unexpired instances of ``service`` (see the module docstring)."""
        if service == SYSTEM_CONFIG_API and self._self is not None:
            if self._this_node is None:
                return self._self
            # A zone of several nodes: every node's system_config, so that a call fails
            # over to another node's when this node's is gone.  Until the records are
            # read once, this node's; after that a failed read is raised (the pool keeps
            # the list it had).
            try:
                found = await self._read(service)
            except RPCError:
                if self._zone_read:
                    raise
                return self._self
            self._zone_read = bool(found)
            return found or self._self
        return await self._read(service)

    async def _read(self, service: str) -> Sequence[Instance]:
        info_key = f"services/{service}/info"
        info_text, nodes = await asyncio.gather(
            self._get(info_key), self._list(f"services/{service}/instances")
        )
        if info_text is None:
            raise ServiceNotValidError(INFO_NOT_FOUND)
        info = _parse_json(info_text, info_key)
        if not isinstance(info, Mapping):
            raise ServiceNotValidError(f"{info_key} is not a JSON object; fix it in system_config")
        # list answers child names; tolerate full keys from other implementations.
        names = [name.rsplit("/", 1)[-1] for name in nodes if name]
        texts = await asyncio.gather(
            *(self._get(f"services/{service}/instances/{name}") for name in names)
        )
        records: dict[str, object] = {}
        for name, text in zip(names, texts, strict=True):
            if text is None:
                continue
            try:
                records[name] = json.loads(text)
            except (ValueError, RecursionError) as exc:
                # One node's bad record must not hide the others: count it as dead.
                _log.warning(
                    "services/%s/instances/%s is not JSON (%s): skipped", service, name, exc
                )
                records[name] = None
        return instances_from_config(
            service,
            info,
            records,
            now=self._clock(),
            host_of=self._host_of,
            this_node=self._this_node,
        )

    async def device_docs(self) -> dict[str, str]:
        """Every ``devices/<node>/doc`` (node name -> the doc's text): what node TLS pins
        peers to (``DevicePins.from_docs``)."""
        names = [name.rsplit("/", 1)[-1] for name in await self._list("devices") if name]
        texts = await asyncio.gather(*(self._get(f"devices/{name}/doc") for name in names))
        return {name: text for name, text in zip(names, texts, strict=True) if text is not None}

    async def aclose(self) -> None:
        """Close the invoker when it can be closed (a ``KrpcTransport``'s session)."""
        close = getattr(self._invoker, "aclose", None)
        if close is not None:
            await close()
