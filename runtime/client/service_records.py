"""What system_config holds about a service, parsed: ``services/<api>/info`` (the
scheduler's :class:`ServiceInfo`) and ``services/<api>/instances/<node>`` (an instance's
own :class:`InstanceRecord`), no I/O.

A malformed record is a ``ServiceNotValidError`` naming the key and what is wrong with it;
:mod:`~buckyos.runtime.client.resolve` turns the info into endpoints and
:mod:`~buckyos.runtime.client.service_info_cache` keeps it briefly.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from buckyos.runtime.errors import ServiceNotValidError
from buckyos.runtime.wire.jsontext import json_type_name

__all__ = [
    "InstanceRecord",
    "ServiceInfo",
    "ServiceNode",
    "parse_instance",
    "parse_service_info",
    "service_info_key",
]

_json_type: Final = functools.partial(json_type_name, article=True)


def _check_api(api: str) -> str:
    if not api or "/" in api or any(ch.isspace() for ch in api):
        raise ValueError(f"not an api name: {api!r}")
    return api


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
