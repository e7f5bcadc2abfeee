"""Which processes a local zone runs, in which order, with which arguments.

The start order follows what each needs: system_config first; verify-hub reads it; the
zone is seeded then (``boot/config`` names verify-hub's key, the RBAC policy, the admin);
kevent, task-manager and kmsg are kernel services that log in at verify-hub with the
node's device key (:mod:`buckyos.services.kernel`), task-manager publishing its task
events to kevent; the node gateway last, forwarding ``/kapi/<service>`` by the service
records and ``/kapi/kevent/*`` to the node's kevent.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from buckyos.generated import kmsg_rpc, system_config_rpc, task_manager_rpc, verify_hub_rpc
from buckyos.runtime.client import DEFAULT_GATEWAY_PORT

from .identity import ZoneIdentity

__all__ = [
    "DEFAULT_PORTS",
    "GATEWAY",
    "KERNEL_SERVICES",
    "KEVENT",
    "KEVENT_PORT",
    "KMSG",
    "MODULES",
    "PORT_NAMES",
    "SYSTEM_CONFIG",
    "TASK_MANAGER",
    "VERIFY_HUB",
    "ZoneProcess",
    "gateway_args",
    "kernel_service_args",
    "system_config_args",
    "verify_hub_args",
]

SYSTEM_CONFIG: Final = system_config_rpc.SYSTEM_CONFIG.api
VERIFY_HUB: Final = verify_hub_rpc.VERIFY_HUB.api
KEVENT: Final = "kevent"
TASK_MANAGER: Final = task_manager_rpc.TASK_MANAGER.api
KMSG: Final = kmsg_rpc.KMSG.api
GATEWAY: Final = "gateway"
KEVENT_PORT: Final = 3181
"""Upstream's node-daemon serves kevent's HTTP side on 3181."""

MODULES: Final[Mapping[str, str]] = {
    SYSTEM_CONFIG: "buckyos.services.system_config",
    VERIFY_HUB: "buckyos.services.verify_hub",
    KEVENT: "buckyos.services.kevent",
    TASK_MANAGER: "buckyos.services.task_manager",
    KMSG: "buckyos.services.kmsg",
    GATEWAY: "buckyos.services.gateway",
}
"""Each service's module, started as ``python -m <module>``, in start order."""


def _port_key(service: str) -> str:
    return service.replace("-", "_")


DEFAULT_PORTS: Final[Mapping[str, int]] = {
    "system_config": system_config_rpc.SYSTEM_CONFIG.port,
    "system_config_grpc": system_config_rpc.SYSTEM_CONFIG.port + 1,
    "verify_hub": verify_hub_rpc.VERIFY_HUB.port,
    "verify_hub_grpc": verify_hub_rpc.VERIFY_HUB.port + 1,
    "kevent": KEVENT_PORT,
    "task_manager": task_manager_rpc.TASK_MANAGER.port,
    "task_manager_grpc": task_manager_rpc.TASK_MANAGER.port + 1,
    "kmsg": kmsg_rpc.KMSG.port,
    "kmsg_grpc": kmsg_rpc.KMSG.port + 1,
    "gateway": DEFAULT_GATEWAY_PORT,
}
"""Upstream's ports, the contracts' (``(buckyos.api).port``; gRPC next to each kRPC port),
kevent's and the node gateway's, keyed by the ``--ports`` names; ``--ports auto`` picks
free ones."""
PORT_NAMES: Final = tuple(DEFAULT_PORTS)


@dataclass(frozen=True, slots=True)
class ZoneProcess:
    """A kernel service the zone starts after seeding: its name, the ready lines it
    prints, whether it has a ``--db`` and whether it publishes to kevent."""

    name: str
    expect: tuple[str, ...]
    db: bool
    publishes: bool


KERNEL_SERVICES: Final = (
    ZoneProcess(KEVENT, ("kRPC",), db=False, publishes=False),
    ZoneProcess(TASK_MANAGER, ("kRPC", "gRPC"), db=True, publishes=True),
    ZoneProcess(KMSG, ("kRPC", "gRPC"), db=True, publishes=False),
)
"""The kernel services, in start order (kevent first: task-manager publishes to it)."""


def _server_args(host: str, ports: Mapping[str, int], name: str) -> list[str]:
    """A service process's ``add_server_options``: its address and its two ports."""
    key = _port_key(name)
    return [
        "--host", host,
        "--krpc-port", str(ports[key]),
        "--grpc-port", str(ports[f"{key}_grpc"]),
    ]  # fmt: skip


def system_config_args(ident: ZoneIdentity, host: str, ports: Mapping[str, int]) -> list[str]:
    layout = ident.layout
    layout.system_config_db.parent.mkdir(parents=True, exist_ok=True)
    return [
        "--db", str(layout.system_config_db),
        "--owner-key", json.dumps(ident.owner_jwk()),
        "--owner-did", ident.owner_did,
        "--device-name", ident.device_name,
        "--device-key", json.dumps(ident.device_jwk()),
        "--device-did", ident.device_did,
        *_server_args(host, ports, SYSTEM_CONFIG),
    ]  # fmt: skip


def verify_hub_args(
    ident: ZoneIdentity, host: str, ports: Mapping[str, int], system_config_url: str
) -> list[str]:
    layout = ident.layout
    layout.verify_hub_state.parent.mkdir(parents=True, exist_ok=True)
    return [
        "--key", str(layout.verify_hub_key),
        "--state", str(layout.verify_hub_state),
        "--system-config", system_config_url,
        "--device-name", ident.device_name,
        "--device-key", str(layout.device_key),
        "--owner-key", json.dumps(ident.owner_jwk()),
        *_server_args(host, ports, VERIFY_HUB),
    ]  # fmt: skip


def kernel_service_args(
    process: ZoneProcess,
    ident: ZoneIdentity,
    host: str,
    ports: Mapping[str, int],
    urls: Mapping[str, str],
) -> list[str]:
    """A kernel service's arguments: the zone it logs in to (``--root``,
    ``--system-config``), its database, kevent's URL when it publishes, its ports."""
    args = ["--root", str(ident.layout.root), "--system-config", urls[SYSTEM_CONFIG]]
    if process.db:
        path = ident.layout.service_db(process.name)
        path.parent.mkdir(parents=True, exist_ok=True)
        args += ["--db", str(path)]
    if process.publishes:
        args += ["--kevent", urls[KEVENT]]
    if process.name == KEVENT:  # an HTTP service of its own: one port
        args += ["--node-name", ident.device_name]
        args += ["--host", host, "--port", str(ports[_port_key(process.name)])]
    else:
        args += _server_args(host, ports, process.name)
    return args


def gateway_args(
    ident: ZoneIdentity, host: str, ports: Mapping[str, int], urls: Mapping[str, str]
) -> list[str]:
    return [
        "--system-config", urls[SYSTEM_CONFIG],
        "--kevent", urls[KEVENT],
        "--device-name", ident.device_name,
        "--device-key", str(ident.layout.device_key),
        "--host", host,
        "--port", str(ports[GATEWAY]),
    ]  # fmt: skip
