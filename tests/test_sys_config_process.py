"""``python -m buckyos.services.system_config`` as a real process.

An acknowledged write survives ``kill -9``: the process is killed right after the last
reply and restarted on the same SQLite file, and every key is there.  SIGTERM exits 0; bad
options exit 2 with a one-line reason.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

from buckyos.generated.system_config_rpc import SystemConfigStub
from buckyos.runtime.client.krpc_client import KrpcTransport
from buckyos.runtime.errors import RPCError
from buckyos.runtime.security.keys import (
    Ed25519PrivateKey,
    generate_key_pair,
    private_key_to_pem,
    public_key_to_jwk,
)
from buckyos.runtime.security.token_signing import sign_token

N_KEYS = 40


class Process:
    """The service process, its ready lines read with a deadline."""

    def __init__(self, args: list[str], stderr: IO[str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "buckyos.services.system_config", *args],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def ready(self, deadline: float = 20.0) -> tuple[str, str]:
        """The kRPC URL and gRPC target from the two ready lines."""
        end = time.monotonic() + deadline
        found: dict[str, str] = {}
        while len(found) < 2:
            remaining = end - time.monotonic()
            if remaining <= 0 or self.proc.poll() is not None:
                raise AssertionError(f"not ready: exit={self.proc.poll()} lines={found}")
            try:
                line = self.lines.get(timeout=min(remaining, 0.2))
            except queue.Empty:
                continue
            for wire in ("kRPC", "gRPC"):
                prefix = f"{wire} listening on "
                if line.startswith(prefix):
                    found[wire] = line[len(prefix) :]
        return found["kRPC"], found["gRPC"]

    def ready_krpc(self, deadline: float = 20.0) -> str:
        """The kRPC URL from its ready line (a process started with ``--no-grpc``)."""
        end = time.monotonic() + deadline
        prefix = "kRPC listening on "
        while True:
            remaining = end - time.monotonic()
            if remaining <= 0 or self.proc.poll() is not None:
                raise AssertionError(f"not ready: exit={self.proc.poll()}")
            try:
                line = self.lines.get(timeout=min(remaining, 0.2))
            except queue.Empty:
                continue
            if line.startswith(prefix):
                return line[len(prefix) :]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)


@pytest.fixture
def keys(tmp_path: Path) -> Iterator[tuple[Ed25519PrivateKey, list[str]]]:
    owner, owner_public = generate_key_pair()
    device, _ = generate_key_pair()
    owner_file = tmp_path / "owner.jwk"
    owner_file.write_text(json.dumps(public_key_to_jwk(owner_public)))
    device_file = tmp_path / "device.pem"
    device_file.write_text(private_key_to_pem(device))
    args = [
        "--db", str(tmp_path / "config.db"),
        "--owner-key", str(owner_file),
        "--owner-did", "did:bns:owner",
        "--device-name", "ood1",
        "--device-key", str(device_file),
        "--krpc-port", "0",
        "--grpc-port", "0",
        "--log-level", "warning",
    ]  # fmt: skip
    yield owner, args


def test_acknowledged_writes_survive_kill_9(
    tmp_path: Path, keys: tuple[Ed25519PrivateKey, list[str]]
) -> None:
    owner, args = keys
    token = sign_token(
        {"sub": "root", "appid": "kernel", "exp": int(time.time()) + 600}, owner, kid="root"
    )
    with (tmp_path / "stderr.log").open("w") as stderr:
        first = Process(args, stderr)
        try:
            krpc_url, grpc_target = first.ready()
            assert krpc_url.startswith("http://127.0.0.1:") and grpc_target.startswith("127.0.0.1:")
            with KrpcTransport(krpc_url, token=token) as transport:
                stub = SystemConfigStub(transport)
                for index in range(N_KEYS):
                    stub.Set(key=f"services/s{index}/info", value=f'{{"n":{index}}}')
                stub.Set(key="services/s0/info", value="last")
            first.proc.send_signal(signal.SIGKILL)  # right after the last acknowledgement
            assert first.proc.wait(10) == -signal.SIGKILL
        finally:
            first.stop()
        second = Process(args, stderr)
        try:
            krpc_url, _ = second.ready()
            with KrpcTransport(krpc_url, token=token) as transport:
                stub = SystemConfigStub(transport)
                got = {i: stub.Get(key=f"services/s{i}/info") for i in range(N_KEYS)}
                assert got[0].value == "last" and got[0].version == 2
                for index in range(1, N_KEYS):
                    assert got[index].value == f'{{"n":{index}}}' and got[index].version == 1
                assert len(stub.List(key="services").keys) == N_KEYS
            second.proc.send_signal(signal.SIGTERM)
            assert second.proc.wait(15) == 0
        finally:
            second.stop()


def test_bad_options_exit_2_with_a_reason(tmp_path: Path) -> None:
    _, device_public = generate_key_pair()
    device_jwk = json.dumps(public_key_to_jwk(device_public))
    base = [sys.executable, "-m", "buckyos.services.system_config", "--db", str(tmp_path / "c.db")]
    cases = [
        (
            ["--owner-key", '{"kty":"RSA"}', "--device-name", "ood1", "--device-key", device_jwk],
            "python -m buckyos.services.system_config: --owner-key: public key JWK: kty must be 'OKP', got 'RSA'\n",
        ),
        (
            [
                "--owner-key",
                str(tmp_path / "missing.jwk"),
                "--device-name",
                "ood1",
                "--device-key",
                device_jwk,
            ],
            f"python -m buckyos.services.system_config: --owner-key: cannot read {tmp_path / 'missing.jwk'} "
            "(No such file or directory); give a key file or the JWK JSON itself\n",
        ),
    ]
    for extra, text in cases:
        done = subprocess.run(
            [*base, *extra], capture_output=True, text=True, timeout=30, env={**os.environ}
        )
        assert done.returncode == 2, done.stderr
        assert done.stderr == text
        assert done.stdout == ""
    assert not (tmp_path / "c.db").exists()  # nothing created for a refused start


def test_port_in_use_exits_1_with_a_reason(tmp_path: Path) -> None:
    _, public = generate_key_pair()
    jwk = json.dumps(public_key_to_jwk(public))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "buckyos.services.system_config",
                "--db",
                str(tmp_path / "c.db"),
                "--owner-key",
                jwk,
                "--device-name",
                "ood1",
                "--device-key",
                jwk,
                "--krpc-port",
                str(port),
                "--no-grpc",
                "--log-level",
                "error",
            ],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == (
        f"python -m buckyos.services.system_config: cannot listen on 127.0.0.1 (kRPC port {port}): "
        "[Errno 98] Address already in use; choose free ports (0 picks one)\n"
    )


def test_user_quota_options_hold_across_a_restart(
    tmp_path: Path, keys: tuple[Ed25519PrivateKey, list[str]]
) -> None:
    owner, args = keys
    args = [*args, "--user-quota-bytes", "1KiB", "--user-quota-keys", "3"]
    hub, hub_public = generate_key_pair()
    root = sign_token(
        {"sub": "root", "appid": "kernel", "exp": int(time.time()) + 600}, owner, kid="root"
    )
    bob = sign_token(
        {"sub": "bob", "appid": "kernel", "iss": "verify-hub", "principal_kind": "user",
         "session": 1, "exp": int(time.time()) + 600},
        hub,
        kid="verify-hub",
    )  # fmt: skip
    boot = {"verify_hub_info": {"public_key": public_key_to_jwk(hub_public)}}
    value = "x" * 500
    with (tmp_path / "stderr.log").open("w") as stderr:
        first = Process(args, stderr)
        try:
            krpc_url, _ = first.ready()
            with KrpcTransport(krpc_url, token=root) as transport:
                stub = SystemConfigStub(transport)
                stub.Set(key="boot/config", value=json.dumps(boot))
                stub.Set(key="system/rbac/policy", value="g, bob, users")
            with KrpcTransport(krpc_url, token=bob) as transport:
                SystemConfigStub(transport).Set(key="users/bob/apps/a/one", value=value)
            first.proc.send_signal(signal.SIGTERM)
            assert first.proc.wait(15) == 0
        finally:
            first.stop()
        second = Process(args, stderr)
        try:
            krpc_url, _ = second.ready()
            with KrpcTransport(krpc_url, token=bob) as transport:
                stub = SystemConfigStub(transport)
                with pytest.raises(RPCError) as caught:
                    stub.Set(key="users/bob/apps/a/two", value=value)
                used = len("users/bob/apps/a/one") + 500
                assert str(caught.value) == (
                    f"Failed due to reason: quota exceeded for users/bob/: {used} bytes of 1 KiB "
                    "used, this write adds 520 bytes; delete keys or ask the admin to raise "
                    "--user-quota-bytes"
                )
                stub.Delete(key="users/bob/apps/a/one")
                stub.Set(key="users/bob/apps/a/two", value=value)
        finally:
            second.stop()


def test_bad_limit_options_exit_2(tmp_path: Path) -> None:
    _, public = generate_key_pair()
    jwk = json.dumps(public_key_to_jwk(public))
    base = [
        sys.executable, "-m", "buckyos.services.system_config", "--db", str(tmp_path / "c.db"),
        "--owner-key", jwk, "--device-name", "ood1", "--device-key", jwk, "--no-grpc",
    ]  # fmt: skip
    cases = [
        (["--user-quota-bytes", "0"], "argument --user-quota-bytes: '0': a size must be above 0"),
        (
            ["--user-quota-bytes", "12XB"],
            "argument --user-quota-bytes: '12XB' is not a size (bytes, or a whole number with "
            "KiB, MiB or GiB)",
        ),
        (["--user-quota-keys", "-1"], "argument --user-quota-keys: '-1': must be above 0"),
        (
            ["--db-reserve-bytes", "1MiB"],
            "--db-reserve-bytes needs --max-db-bytes, and must be below it",
        ),
        (
            ["--max-db-bytes", "1MiB", "--db-reserve-bytes", "1MiB"],
            "--db-reserve-bytes needs --max-db-bytes, and must be below it",
        ),
    ]
    for extra, reason in cases:
        done = subprocess.run([*base, *extra], capture_output=True, text=True, timeout=30)
        assert done.returncode == 2, done.stderr
        assert done.stderr.splitlines()[-1].endswith(reason), done.stderr
    assert not (tmp_path / "c.db").exists()
