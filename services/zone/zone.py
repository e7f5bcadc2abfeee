"""A local BuckyOS zone on loopback: ``up`` (create once, start, seed), ``down``, ``status``.

``up`` starts system_config and verify-hub as separate processes (see :mod:`.supervisor`),
writes what a zone needs into system_config over kRPC with a token signed by the zone
owner's key (``boot/config`` with verify-hub's public key, the device and admin
documents, the admin's settings (password), the RBAC tail), then starts the kernel
services (kevent, task-manager, kmsg: they log in with the device key) and the node
gateway, and writes ``services/<svc>/info`` for each kRPC service (:mod:`.processes`
says which, in which order, with which arguments).  Anything that fails stops what was
started.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from buckyos.generated.system_config_rpc import SystemConfigStub
from buckyos.runtime import ConfigError, RPCError
from buckyos.runtime.client import KrpcTransport
from buckyos.runtime.security import password_hash, public_key_to_jwk, sign_token

from .identity import ZoneIdentity, create_identity, load_identity
from .layout import ZoneLayout
from .lock import ZoneLock, lock_held, lock_holders
from .nodes import (
    ETCD,
    MAX_NODES,
    NODE_SERVICES,
    EtcdPorts,
    Node,
    etcd_args,
    find_etcd,
    load_nodes,
    node_gateway_args,
    node_process,
    node_system_config_args,
    node_verify_hub_args,
    runs_process,
    start_etcd_member,
    wait_etcd_healthy,
    write_etcd_tls,
)
from .processes import (
    DEFAULT_PORTS,
    GATEWAY,
    KERNEL_SERVICES,
    KEVENT,
    MODULES,
    PORT_NAMES,
    SYSTEM_CONFIG,
    VERIFY_HUB,
    gateway_args,
    kernel_service_args,
    system_config_args,
    verify_hub_args,
)
from .supervisor import (
    Interrupted,
    SignalGuard,
    Started,
    alive,
    start_service,
    stop_pid,
)

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


class ZoneRunningError(ConfigError):
    """``zone up`` on a root whose zone is already running (or starting)."""


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
    nodes: list[str] = field(default_factory=list)
    """A zone of several nodes: their device names (empty for one node)."""
    etcd: list[str] = field(default_factory=list)
    """A zone of several nodes: its etcd members' client URLs."""

    def to_json(self) -> dict[str, Any]:
        several = {"nodes": self.nodes, "etcd": self.etcd} if self.nodes else {}
        return {
            **several,
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


def _in_the_way(path: Path) -> Path | None:
    """The first folder on the way to ``path`` that exists as something other than a
    folder (a file where the zone needs a folder)."""
    for candidate in reversed(path.parents):
        if candidate.exists() and not candidate.is_dir():
            return candidate
    return None


def _not_a_folder(layout: ZoneLayout, path: Path, *, creating: bool) -> ConfigError | None:
    """Why ``path`` (below the zone's root) cannot be reached, when a file is in the way."""
    blocker = _in_the_way(path)
    root = layout.root
    if blocker is None:
        return None
    if blocker == root and not creating:
        return ConfigError(f"no zone at {root}: it is a file, not a zone's folder")
    if blocker == root:
        return ConfigError(
            f"{root} is a file, not a folder: give --root a folder for the zone (a new one "
            "is created)"
        )
    if blocker in root.parents:
        return ConfigError(f"{root} cannot be a folder: {blocker} is a file; give --root a folder")
    return ConfigError(
        f"{blocker} is a file where the zone at {root} needs a folder: move it away, or "
        "give --root another folder"
    )


def _read_run(layout: ZoneLayout) -> dict[str, Any] | None:
    try:
        data = json.loads(layout.run_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        blocked = _not_a_folder(layout, layout.run_file, creating=False)
        if blocked is not None:
            raise blocked from None
        raise
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


def _policy(
    ident: ZoneIdentity, apps: Sequence[str], existing: str, nodes: Sequence[str] = ()
) -> str:
    """The zone's RBAC tail: its own lines (each node as ``ood``), each app as ``app``,
    and what was there."""
    lines = [f"g, {ident.admin}, admin", f"g, {ident.device_name}, ood", "g, buckycli, kernel"]
    lines += [f"g, {node}, ood" for node in nodes]
    lines += [f"g, {app}, app" for app in apps]
    lines += [line.strip() for line in existing.splitlines() if line.strip()]
    return "\n".join(dict.fromkeys(lines))  # keep order, drop repeats


def _service_infos(ident: ZoneIdentity, started: Mapping[str, Started]) -> dict[str, Any]:
    """``services/<svc>/info`` of each started kRPC service (kevent and the gateway are
    reached by their own routes, not by a service record)."""
    return {
        f"services/{name}/info": _service_info(ident, item)
        for name, item in started.items()
        if name not in (KEVENT, GATEWAY)
    }


def register(ident: ZoneIdentity, url: str, started: Mapping[str, Started]) -> None:
    """Write the service records of ``started`` into system_config at ``url``."""
    with KrpcTransport(url, token=_root_token(ident)) as transport:
        stub = SystemConfigStub(transport)
        for key, value in _service_infos(ident, started).items():
            stub.Set(key=key, value=json.dumps(value))


def seed(ident: ZoneIdentity, started: Mapping[str, Started], apps: Sequence[str] = ()) -> None:
    """Write the zone's keys into system_config (settings only when missing).

    ``apps`` are app ids given the ``app`` role (as installing them would).
    """
    _seed(
        ident,
        started[SYSTEM_CONFIG].addresses["kRPC"],
        _port_of(started[VERIFY_HUB].addresses["kRPC"]),
        {ident.device_name: ident.device_doc()},
        _service_infos(ident, started),
        apps,
    )


def _seed_devices(
    ident: ZoneIdentity, url: str, devices: Mapping[str, Any], apps: Sequence[str]
) -> None:
    """Through the system_config at ``url``: every node's ``devices/<node>/doc`` and the
    RBAC tail naming each node an ``ood`` (so a node's own token may read the docs)."""
    with KrpcTransport(url, token=_root_token(ident)) as transport:
        stub = SystemConfigStub(transport)
        for name, doc in devices.items():
            stub.Set(
                key=f"devices/{name}/doc", value=doc if isinstance(doc, str) else json.dumps(doc)
            )
        existing = stub.Get(key="system/rbac/policy")
        policy = _policy(ident, apps, existing.value, list(devices))
        stub.Set(key="system/rbac/policy", value=policy)


def _seed(
    ident: ZoneIdentity,
    url: str,
    hub_port: int,
    devices: Mapping[str, Any],
    infos: Mapping[str, Any],
    apps: Sequence[str],
) -> None:
    """Seed through the system_config at ``url``: ``boot/config`` (verify-hub on
    ``ident.device_name`` at ``hub_port``), each device's doc, the admin, ``infos``, the
    RBAC tail (every device an ``ood``), the admin's settings when missing."""
    boot = {
        "zone_did": ident.zone_did,
        "owner_did": ident.owner_did,
        "owner_public_key": ident.owner_jwk(),
        "verify_hub_info": {
            "port": hub_port,
            "node_name": ident.device_name,
            "public_key": public_key_to_jwk(ident.verify_hub_key.public_key()),
        },
    }
    _seed_devices(ident, url, devices, apps)
    writes: dict[str, Any] = {
        "boot/config": boot,
        f"users/{ident.admin}/doc": ident.owner_doc(),
        **infos,
    }
    settings = {
        "user_id": ident.admin,
        "show_name": ident.admin,
        "type": "admin",
        "state": "active",
        "password": password_hash(ident.admin, ident.admin_password),
    }
    with KrpcTransport(url, token=_root_token(ident)) as transport:
        stub = SystemConfigStub(transport)
        for key, value in writes.items():
            stub.Set(key=key, value=value if isinstance(value, str) else json.dumps(value))
        if stub.Get(key=f"users/{ident.admin}/settings").HasField("value"):
            return  # the admin may have changed the password since: keep it
        stub.Create(key=f"users/{ident.admin}/settings", value=json.dumps(settings))


def _running(run: Mapping[str, Any]) -> dict[str, int]:
    """The services the run file lists that still run (by pid and by program)."""
    return {name: pid for name, pid in _pids(run).items() if runs_process(pid, name)}


def _strays(layout: ZoneLayout, known: Mapping[str, int]) -> dict[str, int]:
    """Services of this zone that hold its lock but no run file lists, by name
    (``<service>@<pid>`` when one name appears twice)."""
    found: dict[str, int] = {}
    for pid in lock_holders(layout.lock_file):
        if pid in known.values():
            continue
        for name in (*MODULES, ETCD):
            if runs_process(pid, name):
                found[name if name not in found else f"{name}@{pid}"] = pid
                break
    return found


def _running_error(layout: ZoneLayout, run: Mapping[str, Any] | None) -> ZoneRunningError:
    """Why ``zone up`` cannot start at ``layout`` (its lock is held)."""
    root = layout.root
    down = f"`buckyos zone down --root {root}`"
    running = _running(run) if run is not None else {}
    up_pid = run.get("up_pid") if run is not None else None
    if (
        run is not None
        and run.get("state") == "starting"
        and isinstance(up_pid, int)
        and alive(up_pid)
    ):
        return ZoneRunningError(
            f"another `buckyos zone up` (pid {up_pid}) is starting the zone at {root}: wait "
            f"for it, or stop it and what it started with {down}"
        )
    if running:
        return ZoneRunningError(
            f"a zone is already running at {root} (pids "
            + ", ".join(f"{n} {p}" for n, p in running.items())
            + f"): run {down} first"
        )
    strays = _strays(layout, {})
    if strays:
        return ZoneRunningError(
            f"services of the zone at {root} still run though no run file lists them (pids "
            + ", ".join(f"{n} {p}" for n, p in strays.items())
            + f"): run {down} first"
        )
    return ZoneRunningError(
        f"the zone at {root} is locked by another process ({layout.lock_file}): wait for "
        f"it to finish, then check with `buckyos zone status --root {root}`"
    )


def _prepare_root(layout: ZoneLayout) -> None:
    """The zone's folder and its ``run/`` exist; a ``ConfigError`` that says why not."""
    blocked = _not_a_folder(layout, layout.lock_file, creating=True)
    if blocked is not None:
        raise blocked
    try:
        layout.lock_file.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise _cannot_create(layout, err) from None


def _refused(what: str, err: RPCError, log: Path) -> ConfigError:
    """zone up's error when system_config refused ``what`` it was given to keep."""
    return ConfigError(f"{SYSTEM_CONFIG} refused {what} ({err}); see {log}")


def _cannot_create(layout: ZoneLayout, err: OSError) -> ConfigError:
    why = err.strerror or str(err)
    where = f" ({err.filename})" if err.filename and Path(err.filename) != layout.root else ""
    return ConfigError(
        f"cannot create the zone in {layout.root}: {why}{where}; choose a folder you can write"
    )


def zone_up(
    root: Path,
    *,
    ports: Mapping[str, int] | None = None,
    host: str = "127.0.0.1",
    admin: str = "admin",
    password: str | None = None,
    apps: Sequence[str] = (),
    timeout: float = 30.0,
    nodes: int = 1,
) -> ZoneInfo:
    """Create the zone at ``root`` once, start its services and seed system_config.

    ``apps``: app ids to give the ``app`` role (kept across later ``up`` calls).

    ``nodes`` above 1: a zone of that many nodes on this machine (``ood1``...), its
    configuration in an etcd cluster of as many members (:mod:`.nodes`); each node runs
    system_config (on etcd), verify-hub and a gateway.  ``ports`` then apply to ``ood1``
    (its kRPC and gRPC ports, its gateway); the other nodes take free ports.  One node keeps
    SQLite and the kernel services.

    Each service is recorded in the run file as soon as its process exists, before the
    next one starts; a failure, or a stop signal (SIGINT, SIGTERM, SIGHUP: raised as
    :class:`~.supervisor.Interrupted`, a ``KeyboardInterrupt``, with ``stopped`` naming
    what was stopped), stops every process started so far and removes the run file.  The
    zone's lock (``run/zone.lock``, held by every service) refuses a second ``up`` while
    anything of the zone runs.
    """
    if not 1 <= nodes <= MAX_NODES:
        raise ConfigError(f"--nodes {nodes}: a local zone has 1 to {MAX_NODES} nodes")
    layout = ZoneLayout(root.resolve())
    _prepare_root(layout)
    with ZoneLock(layout.lock_file) as lock:
        try:
            locked = lock.acquire()
        except OSError as err:
            raise _cannot_create(layout, err) from None
        if not locked:
            raise _running_error(layout, _read_run(layout))
        try:
            if nodes != 1:
                return _up_nodes_locked(
                    layout, lock, ports, host, admin, password, apps, timeout, nodes
                )
            return _up_locked(layout, lock, ports, host, admin, password, apps, timeout)
        except OSError as err:
            raise _cannot_create(layout, err) from err


def _prelude(
    layout: ZoneLayout,
    ports: Mapping[str, int] | None,
    host: str,
    admin: str,
    password: str | None,
) -> tuple[ZoneIdentity, dict[str, int], list[str]]:
    """Before anything starts: a stale run file gone, the ports free, the identity
    (created the first time; the zone DID names the gateway's port); warnings to show."""
    run = _read_run(layout)
    if run is not None:
        running = _running(run)
        if running:  # a zone started without the lock (by hand, or an older version)
            raise _running_error(layout, run)
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
    return ident, wanted, warnings


def _recording(
    layout: ZoneLayout,
) -> tuple[dict[str, int], dict[str, Any], Callable[[str], Callable[[int], None]]]:
    """The pids spawned so far, the "starting" run record holding them, and
    ``recorder(name)``: the ``spawned`` callback that records ``name``'s pid at once."""
    spawned: dict[str, int] = {}
    record: dict[str, Any] = {
        "state": "starting",
        "up_pid": os.getpid(),
        "pids": spawned,
        "started_at": int(time.time()),
    }

    def recorder(name: str) -> Callable[[int], None]:
        def spawned_as(pid: int) -> None:
            spawned[name] = pid
            _write_json(layout.run_file, record)

        return spawned_as

    return spawned, record, recorder


@contextlib.contextmanager
def _starting(layout: ZoneLayout, spawned: Mapping[str, int]) -> Iterator[SignalGuard]:
    """A zone's start, all or nothing: the block runs under a :class:`SignalGuard`; when it
    raises, or a stop signal arrived while the run file was written, every process it
    spawned is stopped again."""
    with SignalGuard() as guard:
        try:
            yield guard
        except BaseException as exc:
            with guard.closing():
                _stop_all(layout, spawned, grace=5.0)
            if isinstance(exc, Interrupted):
                exc.stopped = tuple(spawned)
            raise
        if guard.pending is not None:  # arrived while the run file was written
            with guard.closing():
                _stop_all(layout, spawned, grace=5.0)
            raise Interrupted(guard.pending, stopped=tuple(spawned))


def _record_up(
    layout: ZoneLayout,
    guard: SignalGuard,
    record: Mapping[str, Any],
    pids: Mapping[str, int],
    info: ZoneInfo,
) -> None:
    """The run file of a zone that is up (written with stop signals held)."""
    with guard.held():
        _write_json(
            layout.run_file,
            {
                "state": "up",
                "pids": dict(pids),
                "info": info.to_json(),
                "started_at": record["started_at"],
            },
        )


def _up_locked(
    layout: ZoneLayout,
    lock: ZoneLock,
    ports: Mapping[str, int] | None,
    host: str,
    admin: str,
    password: str | None,
    apps: Sequence[str],
    timeout: float,
) -> ZoneInfo:
    ident, wanted, warnings = _prelude(layout, ports, host, admin, password)
    assert lock.fd is not None
    spawned, record, recorder = _recording(layout)

    def start(name: str, args: list[str], expect: tuple[str, ...]) -> Started:
        return start_service(
            name,
            MODULES[name],
            args,
            layout.log(name),
            expect=expect,
            timeout=timeout,
            spawned=recorder(name),
            guard=guard,
            pass_fds=(lock.fd,) if lock.fd is not None else (),
        )

    started: dict[str, Started] = {}
    with _starting(layout, spawned) as guard:
        started[SYSTEM_CONFIG] = start(
            SYSTEM_CONFIG, system_config_args(ident, host, wanted), ("kRPC", "gRPC")
        )
        urls = {SYSTEM_CONFIG: started[SYSTEM_CONFIG].addresses["kRPC"]}
        started[VERIFY_HUB] = start(
            VERIFY_HUB,
            verify_hub_args(ident, host, wanted, urls[SYSTEM_CONFIG]),
            ("kRPC", "gRPC"),
        )
        # Seeded before the kernel services start: they log in at verify-hub, whose
        # key boot/config names, and load the RBAC policy.
        try:
            seed(ident, started, apps)
        except RPCError as err:
            raise _refused("the zone's seed", err, layout.log(SYSTEM_CONFIG)) from err
        for process in KERNEL_SERVICES:
            args = kernel_service_args(process, ident, host, wanted, urls)
            started[process.name] = start(process.name, args, process.expect)
            urls[process.name] = started[process.name].addresses["kRPC"]
        kernel = {process.name: started[process.name] for process in KERNEL_SERVICES}
        register(ident, urls[SYSTEM_CONFIG], kernel)
        started[GATEWAY] = start(GATEWAY, gateway_args(ident, host, wanted, urls), ("gateway",))
        info = _info(ident, started)
        info.warnings = warnings
        _record_up(layout, guard, record, {name: item.pid for name, item in started.items()}, info)
    return info


def _node_infos(host: str, nodes: Sequence[Node], started: Mapping[str, Started]) -> dict[str, Any]:
    """``services/<svc>/info`` of system_config and verify-hub naming every node."""
    infos: dict[str, Any] = {}
    for service in (SYSTEM_CONFIG, VERIFY_HUB):
        node_list: dict[str, Any] = {}
        for node in nodes:
            item = started[node_process(service, node.name)]
            ports = {"www": _port_of(item.addresses["kRPC"])}
            for label, port_name in (
                ("gRPC", "grpc"),
                ("kRPC+TLS", "www_tls"),
                ("gRPC+TLS", "grpc_tls"),
            ):
                if label in item.addresses:
                    ports[port_name] = _port_of(item.addresses[label])
            node_list[node.name] = {
                "node_did": node.did,
                "node_net_id": host,
                "state": "started",
                "weight": 100,
                "service_port": ports,
            }
        infos[f"services/{service}/info"] = {"selector_type": "random", "node_list": node_list}
    return infos


def _up_nodes_locked(
    layout: ZoneLayout,
    lock: ZoneLock,
    ports: Mapping[str, int] | None,
    host: str,
    admin: str,
    password: str | None,
    apps: Sequence[str],
    timeout: float,
    count: int,
) -> ZoneInfo:
    """``zone_up`` for ``count`` nodes: etcd members, then per node system_config (all
    first), verify-hub, the seed through ``ood1``, then the gateways."""
    ident, wanted, warnings = _prelude(layout, ports, host, admin, password)
    binary = find_etcd()
    nodes = load_nodes(ident, count)
    etcd = EtcdPorts.load_or_create(layout, host, count)
    assert lock.fd is not None
    fds = (lock.fd,)
    spawned, record, recorder = _recording(layout)
    first = nodes[0].name

    def node_ports(node: Node, service: str) -> tuple[int, int]:
        if node.name != first:
            return 0, 0
        key = service.replace("-", "_")
        return wanted.get(key, 0), wanted.get(f"{key}_grpc", 0)

    def start(name: str, args: list[str], expect: tuple[str, ...]) -> Started:
        return start_service(
            name,
            MODULES[name.partition("@")[0]],
            args,
            layout.log(name),
            expect=expect,
            timeout=timeout,
            spawned=recorder(name),
            guard=guard,
            pass_fds=fds,
        )

    started: dict[str, Started] = {}
    with _starting(layout, spawned) as guard:
        members = {}
        tls = write_etcd_tls(layout, ident, nodes, etcd)
        for member in etcd.members:
            name = f"{ETCD}@{member}"
            args = etcd_args(binary, layout, etcd, member, tls)
            members[member] = start_etcd_member(
                args, layout.log(name), spawned=recorder(name), guard=guard, pass_fds=fds
            )
        for member, proc in members.items():
            name = f"{ETCD}@{member}"
            wait_etcd_healthy(etcd.metrics_url(member), proc, layout.log(name), timeout=timeout)
        urls: dict[str, str] = {}
        for node in nodes:
            name = node_process(SYSTEM_CONFIG, node.name)
            krpc, grpc = node_ports(node, SYSTEM_CONFIG)
            args = node_system_config_args(ident, node, host, etcd, krpc, grpc)
            started[name] = start(name, args, NODE_SERVICES[SYSTEM_CONFIG])
            urls[node.name] = started[name].addresses["kRPC"]
        devices = {node.name: node.doc(ident) for node in nodes}
        try:
            # Before verify-hub starts: it pins its TLS peers to these docs, read at start
            # and then only every few seconds, so its TLS port would refuse the other
            # nodes until its next read.  (The seed below writes them again.)
            _seed_devices(ident, urls[first], devices, apps)
        except RPCError as err:
            log = layout.log(node_process(SYSTEM_CONFIG, first))
            raise _refused("the nodes' device docs", err, log) from err
        for node in nodes:
            name = node_process(VERIFY_HUB, node.name)
            krpc, grpc = node_ports(node, VERIFY_HUB)
            args = node_verify_hub_args(ident, node, host, urls[node.name], etcd, krpc, grpc)
            started[name] = start(name, args, NODE_SERVICES[VERIFY_HUB])
        try:
            _seed(
                ident,
                urls[first],
                _port_of(started[node_process(VERIFY_HUB, first)].addresses["kRPC"]),
                devices,
                _node_infos(host, nodes, started),
                apps,
            )
        except RPCError as err:
            log = layout.log(node_process(SYSTEM_CONFIG, first))
            raise _refused("the zone's seed", err, log) from err
        for node in nodes:
            name = node_process(GATEWAY, node.name)
            port = wanted[GATEWAY] if node.name == first else 0
            args = node_gateway_args(ident, node, host, urls[node.name], port)
            started[name] = start(name, args, NODE_SERVICES[GATEWAY])
        info = _info(ident, started)
        info.warnings = warnings
        info.nodes = [node.name for node in nodes]
        info.etcd = etcd.urls
        for member, proc in members.items():
            info.services[f"{ETCD}@{member}"] = {
                "pid": proc.pid,
                "log": str(layout.log(f"{ETCD}@{member}")),
                "client_url": etcd.url(member),
                "metrics_url": etcd.metrics_url(member),
            }
        _record_up(layout, guard, record, dict(spawned), info)
    return info


def _stop_all(layout: ZoneLayout, pids: Mapping[str, int], *, grace: float) -> dict[str, bool]:
    """Stop ``pids`` (the last started first); then the run file goes."""
    stopped: dict[str, bool] = {}
    for name, pid in reversed(list(pids.items())):
        ours = runs_process(pid, name)
        stopped[name] = stop_pid(pid, grace=grace) if ours else False
    layout.run_file.unlink(missing_ok=True)
    return stopped


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
        if "kRPC+TLS" in item.addresses:  # for the zone's other nodes
            entry["krpc_tls_url"] = item.addresses["kRPC+TLS"]
            entry["grpc_tls_target"] = item.addresses["gRPC+TLS"]
        info.services[name] = entry
    return info


def zone_down(root: Path, *, grace: float = 10.0) -> dict[str, bool]:
    """Stop a zone's processes (gateway first); which were running.  Error if none known.

    Also stops services of the zone that hold its lock though the run file does not list
    them (a ``zone up`` killed before it could record or stop them).
    """
    layout = ZoneLayout(root.resolve())
    run = _read_run(layout)
    pids = _pids(run) if run is not None else {}
    strays = _strays(layout, pids)
    if run is None and not strays:
        raise ConfigError(f"no zone is running at {layout.root} (no {layout.run_file})")
    return _stop_all(layout, {**pids, **strays}, grace=grace)


def zone_status(root: Path) -> dict[str, Any]:
    """``{"root", "running": bool, "state", "services": {name: {"pid", "alive", ...}}}``.

    ``state`` is ``"up"``, ``"starting"`` (a ``zone up`` is at work), ``"interrupted"``
    (the ``zone up`` that wrote the run file is gone before it finished) or ``"down"``;
    services holding the zone's lock that no run file lists show up with ``"stray": true``.
    """
    layout = ZoneLayout(root.resolve())
    run = _read_run(layout)
    pids = _pids(run) if run is not None else {}
    strays = _strays(layout, pids)
    if run is None and not strays:
        return {"root": str(layout.root), "running": False, "state": "down", "services": {}}
    run = run if run is not None else {}
    info = run.get("info", {})
    services: dict[str, Any] = {}
    for name, pid in pids.items():
        entry = dict(info.get("services", {}).get(name, {}))
        entry.update(pid=pid, alive=runs_process(pid, name))
        services[name] = entry
    for name, pid in strays.items():
        services[name] = {"pid": pid, "alive": True, "stray": True}
    state = run.get("state", "up")
    up_pid = run.get("up_pid")
    if state == "starting" and not (isinstance(up_pid, int) and alive(up_pid)):
        state = "interrupted"
    if not run:
        state = "interrupted"
    return {
        "root": str(layout.root),
        "running": state == "up" and bool(services) and all(s["alive"] for s in services.values()),
        "state": state,
        "services": services,
        "info": info,
        "locked": lock_held(layout.lock_file),
    }
