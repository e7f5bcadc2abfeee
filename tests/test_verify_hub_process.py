"""verify-hub as a real process: a restart (kill -9 or SIGTERM) keeps every session
refreshable, a used login JWT stays used, a refresh whose answer was lost can be retried
after a restart (same pair), and reuse of an older refresh token still revokes the session
across restarts."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from buckyos.generated.verify_hub_rpc import VerifyHubStub
from buckyos.runtime.client.krpc_client import KrpcTransport
from buckyos.runtime.errors import RPCError
from buckyos.runtime.security.keys import private_key_to_pem, public_key_to_jwk
from buckyos.runtime.security.session_token import decode_unverified
from buckyos.runtime.security.token_signing import make_service_login_jwt
from tests.verify_hub_fakes import (
    ServerThread,
    Zone,
    fake_system_config,
    login_hash,
    make_zone,
    now_ms,
)

START_TIMEOUT = 20.0


class HubProcess:
    """``python -m buckyos.services.verify_hub`` on a free port; stopped by the test."""

    def __init__(self, args: list[str], log: Path) -> None:
        self.log = log
        self._err = open(log, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "buckyos.services.verify_hub", *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._err,
        )
        self.url = self._wait_for_url()

    def _wait_for_url(self) -> str:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + START_TIMEOUT
        seen = b""
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.2)
            if ready:
                line = self.proc.stdout.readline()
                if not line:
                    break
                seen += line
                if line.startswith(b"kRPC listening on "):
                    return line.decode().split(" on ", 1)[1].strip()
            elif self.proc.poll() is not None:
                break
        self.stop(signal.SIGKILL)
        raise AssertionError(
            f"verify-hub did not start: stdout {seen!r}, log {self.log.read_text()[-2000:]}"
        )

    def stop(self, sig: signal.Signals) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=15)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(5)
            if self.proc.stdout is not None:
                self.proc.stdout.close()
            self._err.close()
        return code


@pytest.fixture()
def zone_files(tmp_path: Path) -> Iterator[tuple[Zone, list[str]]]:
    zone = make_zone()
    binding, _ = fake_system_config(zone)
    (tmp_path / "hub.pem").write_text(private_key_to_pem(zone.hub))
    (tmp_path / "device.pem").write_text(private_key_to_pem(zone.device))
    with ServerThread((binding, 0, None)) as sc:
        args = [
            "--key",
            str(tmp_path / "hub.pem"),
            "--state",
            str(tmp_path / "state" / "verify-hub.db"),
            "--system-config",
            str(sc.infos[0].krpc_url),
            "--device-name",
            "ood1",
            "--device-key",
            str(tmp_path / "device.pem"),
            "--owner-key",
            json.dumps(public_key_to_jwk(zone.owner.public_key())),
            "--krpc-port",
            "0",
            "--no-grpc",
            "--log-level",
            "warning",
        ]
        yield zone, args


def _stub(url: str) -> tuple[VerifyHubStub, KrpcTransport]:
    transport = KrpcTransport(url)
    return VerifyHubStub(transport), transport


def test_restart_keeps_sessions_and_replay_memory(
    zone_files: tuple[Zone, list[str]], tmp_path: Path
) -> None:
    zone, args = zone_files
    log = tmp_path / "verify-hub.log"

    first = HubProcess(args, log)
    stub, transport = _stub(first.url)
    try:
        nonce = now_ms()
        pair1 = stub.LoginByPassword(
            username="alice",
            password=login_hash("alice", "alice-pw", nonce),
            appid="control-panel",
            app_instance_id="control-panel@system",
            login_nonce=nonce,
        )
        login_jwt = make_service_login_jwt(
            zone.device, device_name="ood1", subject="ood1", app_id="node-daemon"
        )
        stub.LoginByJwt(jwt=login_jwt)
    finally:
        transport.close()
        first.stop(signal.SIGKILL)  # no chance to flush anything: only committed state counts

    second = HubProcess(args, log)
    stub, transport = _stub(second.url)
    try:
        pair2 = stub.RefreshToken(refresh_token=pair1.refresh_token)
        assert (
            decode_unverified(pair2.session_token)[1]["session"]
            == decode_unverified(pair1.session_token)[1]["session"]
        )
        with pytest.raises(RPCError) as replay:
            stub.LoginByJwt(jwt=login_jwt)
        assert str(replay.value) == "Failed due to reason: Login JWT already used"
        with pytest.raises(RPCError) as nonce_replay:
            stub.LoginByPassword(
                username="alice",
                password=login_hash("alice", "alice-pw", nonce),
                appid="control-panel",
                app_instance_id="control-panel@system",
                login_nonce=nonce,
            )
        assert str(nonce_replay.value) == "Failed due to reason: Login nonce already used"
    finally:
        transport.close()
        assert second.stop(signal.SIGTERM) == 0

    third = HubProcess(args, log)
    stub, transport = _stub(third.url)
    try:
        stub.VerifyToken(session_token=pair2.session_token)
        # pair1's refresh token again, within 30 s of its trade (say the answer was lost
        # when the verify-hub went down): the same pair, re-made after the restart.
        again = stub.RefreshToken(refresh_token=pair1.refresh_token)
        assert (again.session_token, again.refresh_token) == (
            pair2.session_token,
            pair2.refresh_token,
        )
        pair3 = stub.RefreshToken(refresh_token=pair2.refresh_token)
        # pair1's is two rotations old now: reuse revokes the session.
        with pytest.raises(RPCError) as reuse:
            stub.RefreshToken(refresh_token=pair1.refresh_token)
        assert str(reuse.value) == "Failed due to reason: Invalid refresh token jti"
        with pytest.raises(RPCError) as revoked:
            stub.RefreshToken(refresh_token=pair3.refresh_token)
        assert str(revoked.value) == (
            "Failed due to reason: Refresh token not found or already invalidated"
        )
    finally:
        transport.close()
        assert third.stop(signal.SIGTERM) == 0


def test_bad_key_file_exits_2_with_the_path(
    zone_files: tuple[Zone, list[str]], tmp_path: Path
) -> None:
    _, args = zone_files
    missing = tmp_path / "nope.pem"
    args = [missing.as_posix() if a.endswith("hub.pem") else a for a in args]
    result = subprocess.run(
        [sys.executable, "-m", "buckyos.services.verify_hub", *args],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ},
    )
    assert result.returncode == 2
    assert result.stderr.startswith(f"verify-hub: cannot read private key file {missing}")
    assert result.stdout == ""
