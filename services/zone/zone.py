"""A local BuckyOS zone on loopback: ``up`` (create once, start, seed), ``down``, ``status``.

``up`` starts system_config, verify-hub and the node gateway as separate processes (see
:mod:`.supervisor`), then writes what a zone needs into system_config over kRPC with a
token signed by the zone owner's key: ``boot/config`` (with verify-hub's public key), the
device and admin documents, the admin's settings (password), the RBAC tail and
``services/<svc>/info`` for each service.  Anything that fails stops what was started.
"""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from buckyos.generated import system_config_rpc, verify_hub_rpc
from buckyos.generated.system_config_rpc import SystemConfigStub
from buckyos.runtime import ConfigError, RPCError
from buckyos.runtime.client import DEFAULT_GATEWAY_PORT, KrpcTransport
from buckyos.runtime.security import password_hash, public_key_to_jwk, sign_token

from .identity import ZoneIdentity, create_identity, load_identity
from .layout import ZoneLayout
from .supervisor import Started, alive, start_service, stop_pid

__all__ = [
    "DEFAULT_PORTS",
    "PORT_NAMES",
    "ZoneInfo",
    "ZoneRunningError",
    "parse_ports",
    "zone_down",
    "zone_status",
    "zone_up",
]

SYSTEM_CONFIG: Final = system_config_rpc.SYSTEM_CONFIG.api
VERIFY_HUB: Final = verify_hub_rpc.VERIFY_HUB.api
GATEWAY: Final = "gateway"

DEFAULT_PORTS: Final[Mapping[str, int]] = {
    "system_config": system_config_rpc.SYSTEM_CONFIG.port,
    "system_config_grpc": system_config_rpc.SYSTEM_CONFIG.port + 1,
    "verify_hub": verify_hub_rpc.VERIFY_HUB.port,
    "verify_hub_grpc": verify_hub_rpc.VERIFY_HUB.port + 1,
    "gateway": DEFAULT_GATEWAY_PORT,
}
"""Upstream's ports, the contracts' (``(buckyos.api).port``; gRPC next to each kRPC port)
and the node gateway's, keyed by the ``--ports`` names; ``--ports auto`` picks free ones."""
PORT_NAMES: Final = tuple(DEFAULT_PORTS)


class ZoneRunningError(ConfigError):
    """``zone up`` on a root whose zone is already running."""


@dataclass(slots=True)
class ZoneInfo:
    """A running zone: where each service listens and how to log in (``--json`` output)."""

    root: str
    zone_did: str
    device_name: str
    admin_user: str
    admin_password: str
    services: dict[str, dict[str, Any]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "warnings": self.warnings,
            "root": self.root,
            "zone_did": self.zone_did,
            "device_name": self.device_name,
            "admin": {"username": self.admin_user, "password": self.admin_password},
            "services": self.services,
            "env": self.env(),
        }

    def env(self) -> dict[str, str]:
        """The environment that points a program (or the ``buckyos`` CLI) at this zone.

        ``BUCKYOS_ROOT`` for service runtimes; ``BUCKYOS_DEV_HOME`` for AppClients, whose
        zone DID (``did:web:127.0.0.1%3A<gateway port>``) routes them to the gateway.
        """
        return {"BUCKYOS_ROOT": self.root, "BUCKYOS_DEV_HOME": str(Path(self.root) / "etc")}


def parse_ports(text: str | None) -> dict[str, int]:
    """``None``/``default``: upstream's ports; ``auto``: free ports; else ``name=port,...``.

    Names not given keep their default; ``0`` picks a free port for that one.
    """
    if text is None or text == "default":
        return dict(DEFAULT_PORTS)
    if text == "auto":
        return dict.fromkeys(PORT_NAMES, 0)
    ports = dict(DEFAULT_PORTS)
    for item in text.split(","):
        name, sep, value = item.strip().partition("=")
        name = name.strip().replace("-", "_")
        if not sep or name not in ports:
            raise ConfigError(
                f"--ports: {item!r} is not NAME=PORT with NAME one of {', '.join(PORT_NAMES)} "
                "(or give 'auto' for free ports)"
            )
        try:
            port = int(value)
        except ValueError:
            raise ConfigError(f"--ports: {value!r} for {name} is not a port number") from None
        if not 0 <= port <= 65535:
            raise ConfigError(f"--ports: {port} for {name} is out of range 0-65535")
        ports[name] = port
    return ports


def _check_free(host: str, ports: Mapping[str, int]) -> None:
    for name, port in ports.items():
        if port == 0:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError as err:
                raise ConfigError(
                    f"port {port} ({name}) on {host} is in use ({err.strerror}): stop what "
                    f"uses it or choose others, e.g. --ports auto or --ports {name}=<port>"
                ) from None


def _did_port(zone_host: str) -> int | None:
    """The port in a local zone's ``did:web`` host (``127.0.0.1%3A3180``), if any."""
    _, sep, port = zone_host.rpartition("%3A")
    return int(port) if sep and port.isdigit() else None


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _read_run(layout: ZoneLayout) -> dict[str, Any] | None:
    try:
        data = json.loads(layout.run_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as err:
        raise ConfigError(f"{layout.run_file} is unreadable ({err}); remove it") from err
    return data if isinstance(data, dict) else None


def _pids(run: Mapping[str, Any]) -> dict[str, int]:
    pids = run.get("pids", {})
    return {str(k): int(v) for k, v in pids.items()} if isinstance(pids, dict) else {}


def _write_json(path: Path, value: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(value, indent=2), encoding="utf-8")
    tmp.replace(path)


def _root_token(ident: ZoneIdentity, ttl: int = 600) -> str:
    """The zone owner acting as the kernel: what a node-daemon would use to seed."""
    claims = {"sub": "root", "appid": "kernel", "exp": int(time.time()) + ttl}
    return sign_token(claims, ident.owner_key, kid="root")


def _port_of(address: str) -> int:
    return int(address.rsplit(":", 1)[1].split("/", 1)[0])


def _service_info(ident: ZoneIdentity, started: Started) -> dict[str, Any]:
    ports = {"www": _port_of(started.addresses["kRPC"])}
    if "gRPC" in started.addresses:
        ports["grpc"] = _port_of(started.addresses["gRPC"])
    node = {
        "node_did": ident.device_did,
        "node_net_id": "127.0.0.1",
        "state": "started",
        "weight": 100,
        "service_port": ports,
    }
    return {"selector_type": "random", "node_list": {ident.device_name: node}}


def _policy(ident: ZoneIdentity, apps: Sequence[str], existing: str) -> str:
    """The zone's RBAC tail: its own lines, each app as ``app``, and what was there."""
    lines = [f"g, {ident.admin}, admin", f"g, {ident.device_name}, ood", "g, buckycli, kernel"]
    lines += [f"g, {app}, app" for app in apps]
    lines += [line.strip() for line in existing.splitlines() if line.strip()]
    return "\n".join(dict.fromkeys(lines))  # keep order, drop repeats


def seed(ident: ZoneIdentity, started: Mapping[str, Started], apps: Sequence[str] = ()) -> None:
    """Write the zone's keys into system_config (settings only when missing).

    ``apps`` are app ids given the ``app`` role (as installing them would).
    """
    hub = started[VERIFY_HUB]
    boot = {
        "zone_did": ident.zone_did,
        "owner_did": ident.owner_did,
        "owner_public_key": ident.owner_jwk(),
        "verify_hub_info": {
            "port": _port_of(hub.addresses["kRPC"]),
            "node_name": ident.device_name,
            "public_key": public_key_to_jwk(ident.verify_hub_key.public_key()),
        },
    }
    writes: dict[str, Any] = {
        "boot/config": boot,
        f"devices/{ident.device_name}/doc": ident.device_doc(),
        f"users/{ident.admin}/doc": ident.owner_doc(),
        f"services/{SYSTEM_CONFIG}/info": _service_info(ident, started[SYSTEM_CONFIG]),
        f"services/{VERIFY_HUB}/info": _service_info(ident, hub),
    }
    settings = {
        "user_id": ident.admin,
        "show_name": ident.admin,
        "type": "admin",
        "state": "active",
        "password": password_hash(ident.admin, ident.admin_password),
    }
    url = started[SYSTEM_CONFIG].addresses["kRPC"]
    with KrpcTransport(url, token=_root_token(ident)) as transport:
        stub = SystemConfigStub(transport)
        existing = stub.Get(key="system/rbac/policy")
        writes["system/rbac/policy"] = _policy(ident, apps, existing.value)
        for key, value in writes.items():
            stub.Set(key=key, value=value if isinstance(value, str) else json.dumps(value))
        if stub.Get(key=f"users/{ident.admin}/settings").HasField("value"):
            return  # the admin may have changed the password since: keep it
        stub.Create(key=f"users/{ident.admin}/settings", value=json.dumps(settings))


def _server_args(host: str, ports: Mapping[str, int], name: str) -> list[str]:
    """A service process's ``add_server_options``: its address and its two ports."""
    return [
        "--host", host,
        "--krpc-port", str(ports[name]),
        "--grpc-port", str(ports[f"{name}_grpc"]),
    ]  # fmt: skip


def _system_config_args(ident: ZoneIdentity, host: str, ports: Mapping[str, int]) -> list[str]:
    layout = ident.layout
    layout.system_config_db.parent.mkdir(parents=True, exist_ok=True)
    return [
        "--db", str(layout.system_config_db),
        "--owner-key", json.dumps(ident.owner_jwk()),
        "--owner-did", ident.owner_did,
        "--device-name", ident.device_name,
        "--device-key", json.dumps(ident.device_jwk()),
        "--device-did", ident.device_did,
        *_server_args(host, ports, "system_config"),
    ]  # fmt: skip


def _verify_hub_args(
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
        *_server_args(host, ports, "verify_hub"),
    ]  # fmt: skip


def _gateway_args(
    ident: ZoneIdentity, host: str, ports: Mapping[str, int], system_config_url: str
) -> list[str]:
    return [
        "--system-config", system_config_url,
        "--device-name", ident.device_name,
        "--device-key", str(ident.layout.device_key),
        "--host", host,
        "--port", str(ports["gateway"]),
    ]  # fmt: skip


@contextlib.contextmanager
def _stop_on_failure(started: dict[str, Started]) -> Iterator[None]:
    try:
        yield
    except BaseException:
        for item in reversed(list(started.values())):
            stop_pid(item.pid, grace=5.0)
        raise


def zone_up(
    root: Path,
    *,
    ports: Mapping[str, int] | None = None,
    host: str = "127.0.0.1",
    admin: str = "admin",
    password: str | None = None,
    apps: Sequence[str] = (),
    timeout: float = 30.0,
) -> ZoneInfo:
    """Create the zone at ``root`` once, start its three services and seed system_config.

    ``apps``: app ids to give the ``app`` role (kept across later ``up`` calls).
    """
    layout = ZoneLayout(root.resolve())
    run = _read_run(layout)
    if run is not None:
        running = {name: pid for name, pid in _pids(run).items() if alive(pid)}
        if running:
            raise ZoneRunningError(
                f"a zone is already running at {layout.root} (pids "
                + ", ".join(f"{n} {p}" for n, p in running.items())
                + f"): run `buckyos zone down --root {layout.root}` first"
            )
        layout.run_file.unlink()  # a stale record of a zone that died
    wanted = dict(ports if ports is not None else DEFAULT_PORTS)
    _check_free(host, wanted)
    warnings: list[str] = []
    if layout.zone_file.exists():
        ident = load_identity(layout)
        did_port = _did_port(ident.zone_host)
        if did_port is not None and wanted["gateway"] == 0:
            # The zone DID routes AppClients to this port: keep the gateway there.
            wanted["gateway"] = did_port
            _check_free(host, {"gateway": did_port})
        elif did_port is not None and wanted["gateway"] != did_port:
            warnings.append(
                f"the zone DID {ident.zone_did} names gateway port {did_port}, but the "
                f"gateway now listens on {wanted['gateway']}: AppClients need "
                "service_urls (or start the zone with that port)"
            )
    else:
        if wanted["gateway"] == 0:
            wanted["gateway"] = _free_port(host)
        # did:web with the gateway's port: an AppClient's "public" route (http, since
        # machine.json says force_https false) then is this zone's node gateway.
        zone_host = f"{host}%3A{wanted['gateway']}"
        ident = create_identity(layout, admin=admin, password=password, zone_host=zone_host)
    started: dict[str, Started] = {}
    with _stop_on_failure(started):
        started[SYSTEM_CONFIG] = start_service(
            SYSTEM_CONFIG,
            "buckyos.services.system_config",
            _system_config_args(ident, host, wanted),
            layout.log(SYSTEM_CONFIG),
            expect=("kRPC", "gRPC"),
            timeout=timeout,
        )
        sc_url = started[SYSTEM_CONFIG].addresses["kRPC"]
        started[VERIFY_HUB] = start_service(
            VERIFY_HUB,
            "buckyos.services.verify_hub",
            _verify_hub_args(ident, host, wanted, sc_url),
            layout.log(VERIFY_HUB),
            expect=("kRPC", "gRPC"),
            timeout=timeout,
        )
        started[GATEWAY] = start_service(
            GATEWAY,
            "buckyos.services.gateway",
            _gateway_args(ident, host, wanted, sc_url),
            layout.log(GATEWAY),
            expect=("gateway",),
            timeout=timeout,
        )
        try:
            seed(ident, started, apps)
        except RPCError as err:
            raise ConfigError(
                f"{SYSTEM_CONFIG} refused the zone's seed ({err}); see {layout.log(SYSTEM_CONFIG)}"
            ) from err
        info = _info(ident, started)
        info.warnings = warnings
        _write_json(
            layout.run_file,
            {
                "pids": {name: item.pid for name, item in started.items()},
                "info": info.to_json(),
                "started_at": int(time.time()),
            },
        )
    return info


def _info(ident: ZoneIdentity, started: Mapping[str, Started]) -> ZoneInfo:
    info = ZoneInfo(
        str(ident.layout.root),
        ident.zone_did,
        ident.device_name,
        ident.admin,
        ident.admin_password,
    )
    for name, item in started.items():
        entry: dict[str, Any] = {"pid": item.pid, "log": str(item.log)}
        entry["krpc_url"] = item.addresses.get("kRPC") or item.addresses.get("gateway")
        if "gRPC" in item.addresses:
            entry["grpc_target"] = item.addresses["gRPC"]
        info.services[name] = entry
    return info


def zone_down(root: Path, *, grace: float = 10.0) -> dict[str, bool]:
    """Stop a zone's processes (gateway first); which were running.  Error if none known."""
    layout = ZoneLayout(root.resolve())
    run = _read_run(layout)
    if run is None:
        raise ConfigError(f"no zone is running at {layout.root} (no {layout.run_file})")
    stopped: dict[str, bool] = {}
    for name, pid in reversed(list(_pids(run).items())):
        stopped[name] = stop_pid(pid, grace=grace)
    layout.run_file.unlink(missing_ok=True)
    return stopped


def zone_status(root: Path) -> dict[str, Any]:
    """``{"root", "running": bool, "services": {name: {"pid", "alive", ...}}}``."""
    layout = ZoneLayout(root.resolve())
    run = _read_run(layout)
    if run is None:
        return {"root": str(layout.root), "running": False, "services": {}}
    info = run.get("info", {})
    services: dict[str, Any] = {}
    for name, pid in _pids(run).items():
        entry = dict(info.get("services", {}).get(name, {}))
        entry.update(pid=pid, alive=alive(pid))
        services[name] = entry
    return {
        "root": str(layout.root),
        "running": all(s["alive"] for s in services.values()) and bool(services),
        "services": services,
        "info": info,
    }
