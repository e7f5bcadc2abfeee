"""Two verify-hub processes on one etcd (``--state-etcd``), as two nodes of one zone.

Over real sockets: a session opened on one node is refreshed on the other, a refresh retried
on the other gets the same pair, a refresh token replayed on the other is refused and
revokes the session, a used nonce or login JWT is used for both, and failed logins on
either node slow logins on both.  One etcd and one pair of processes for the module; the
back-off test runs last (it throttles the loopback address for the rest of the module).
"""

from __future__ import annotations

import json
import re
import signal
import time
import uuid
from collections.abc import Iterator

import pytest

from buckyos.generated.verify_hub_rpc import VerifyHubStub
from buckyos.runtime.client.krpc_client import KrpcTransport
from buckyos.runtime.errors import InvalidPasswordError, RPCError
from buckyos.runtime.security.keys import private_key_to_pem, public_key_to_jwk
from buckyos.runtime.security.session_token import decode_unverified
from buckyos.runtime.security.token_signing import make_service_login_jwt
from buckyos.services.verify_hub.etcd_state import EtcdSessionState
from tests.etcd import EtcdMember, require_etcd
from tests.test_verify_hub_process import HubProcess
from tests.verify_hub_fakes import (
    ServerThread,
    Zone,
    fake_system_config,
    login_hash,
    make_zone,
    now_ms,
)


class Nodes:
    def __init__(self, zone: Zone, stubs: list[VerifyHubStub], etcd_url: str, prefix: str):
        self.zone = zone
        self.stubs = stubs
        self.etcd_url = etcd_url
        self.prefix = prefix


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nodes]:
    root = tmp_path_factory.mktemp("hubs")
    member = EtcdMember(require_etcd(), root / "etcd")
    member.start()
    zone = make_zone()
    binding, _ = fake_system_config(zone)
    (root / "hub.pem").write_text(private_key_to_pem(zone.hub))
    (root / "device.pem").write_text(private_key_to_pem(zone.device))
    prefix = f"/test/{uuid.uuid4().hex}/verify_hub/"
    hubs: list[HubProcess] = []
    transports: list[KrpcTransport] = []
    try:
        with ServerThread((binding, 0, None)) as sc:
            args = [
                "--key",
                str(root / "hub.pem"),
                "--state-etcd",
                member.url,
                "--state-etcd-prefix",
                prefix,
                "--system-config",
                str(sc.infos[0].krpc_url),
                "--device-name",
                "ood1",
                "--device-key",
                str(root / "device.pem"),
                "--owner-key",
                json.dumps(public_key_to_jwk(zone.owner.public_key())),
                "--krpc-port",
                "0",
                "--no-grpc",
                "--log-level",
                "warning",
            ]
            for n in range(2):
                hubs.append(HubProcess(args, root / f"hub{n}.log"))
            transports = [KrpcTransport(hub.url) for hub in hubs]
            yield Nodes(zone, [VerifyHubStub(t) for t in transports], member.url, prefix)
    finally:
        for transport in transports:
            transport.close()
        codes = [hub.stop(signal.SIGTERM) for hub in hubs]
        member.stop()
    assert codes == [0, 0]


def test_a_session_opened_on_one_node_is_refreshed_retried_and_revoked_on_the_other(
    nodes: Nodes,
) -> None:
    one, two = nodes.stubs
    pair1 = one.LoginByPassword(
        username="alice",
        password=login_hash("alice", "alice-pw", nonce := now_ms()),
        appid="control-panel",
        app_instance_id="control-panel@system",
        login_nonce=nonce,
    )
    pair2 = two.RefreshToken(refresh_token=pair1.refresh_token)
    session = decode_unverified(pair1.session_token)[1]["session"]
    assert decode_unverified(pair2.session_token)[1]["session"] == session
    # The answer of that refresh was lost: the client retries on the first node, within
    # the window, and gets the very same pair (re-signed there from the shared record).
    again = one.RefreshToken(refresh_token=pair1.refresh_token)
    assert (again.session_token, again.refresh_token) == (pair2.session_token, pair2.refresh_token)
    pair3 = one.RefreshToken(refresh_token=pair2.refresh_token)
    one.VerifyToken(session_token=pair3.session_token)
    # pair1's refresh token is two rotations old: replayed on the second node it is refused
    # and the whole session ends, on both nodes.
    with pytest.raises(RPCError) as reuse:
        two.RefreshToken(refresh_token=pair1.refresh_token)
    assert str(reuse.value) == "Failed due to reason: Invalid refresh token jti"
    with pytest.raises(RPCError) as revoked:
        one.RefreshToken(refresh_token=pair3.refresh_token)
    assert str(revoked.value) == (
        "Failed due to reason: Refresh token not found or already invalidated"
    )
    with pytest.raises(RPCError, match="revoked"):
        two.VerifyToken(session_token=pair3.session_token)
    # The revoked set is in etcd, where every node publishes it from.
    with EtcdSessionState(nodes.etcd_url, prefix=nodes.prefix) as state:
        assert any(key.endswith(f"_{session}") for key in state.revoked_since(0))


def test_logout_on_one_node_ends_the_session_on_the_other(nodes: Nodes) -> None:
    one, two = nodes.stubs
    nonce = now_ms()
    pair = one.LoginByPassword(
        username="alice",
        password=login_hash("alice", "alice-pw", nonce),
        appid="control-panel",
        app_instance_id="control-panel@system",
        login_nonce=nonce,
    )
    two.Logout(refresh_token=pair.refresh_token)
    with pytest.raises(RPCError, match="already invalidated"):
        one.RefreshToken(refresh_token=pair.refresh_token)


def test_a_nonce_or_login_jwt_used_on_one_node_is_refused_on_the_other(nodes: Nodes) -> None:
    one, two = nodes.stubs
    nonce = now_ms()
    one.LoginByPassword(
        username="alice",
        password=login_hash("alice", "alice-pw", nonce),
        appid="control-panel",
        app_instance_id="control-panel@system",
        login_nonce=nonce,
    )
    with pytest.raises(RPCError) as replay:
        two.LoginByPassword(
            username="alice",
            password=login_hash("alice", "alice-pw", nonce),
            appid="control-panel",
            app_instance_id="control-panel@system",
            login_nonce=nonce,
        )
    assert str(replay.value) == "Failed due to reason: Login nonce already used"
    login_jwt = make_service_login_jwt(
        nodes.zone.device, device_name="ood1", subject="ood1", app_id="node-daemon"
    )
    two.LoginByJwt(jwt=login_jwt)
    with pytest.raises(RPCError) as jwt_replay:
        one.LoginByJwt(jwt=login_jwt)
    assert str(jwt_replay.value) == "Failed due to reason: Login JWT already used"


_RETRY_IN = re.compile(r"too many failed logins .*; retry in (\d+) s")


def test_failed_logins_on_one_node_slow_logins_on_the_other(nodes: Nodes) -> None:
    """Six wrong passwords alternating between the nodes (three each: below the five free
    failures of either node alone) throttle both: the next try is refused at once."""
    failed = 0
    attempts = 0
    while failed < 6:
        attempts += 1
        assert attempts <= 12, f"only {failed} failures counted in {attempts - 1} attempts"
        stub = nodes.stubs[attempts % 2]
        try:
            stub.LoginByPassword(
                username="dave",
                password=login_hash("dave", "wrong", nonce := now_ms()),
                appid="control-panel",
                app_instance_id="control-panel@system",
                login_nonce=nonce,
            )
        except RPCError as err:
            waited = _RETRY_IN.search(str(err))
            if waited is None:
                assert isinstance(err, InvalidPasswordError), err
                failed += 1
            else:  # a slow machine let a delay start: wait it out, bounded by the cap
                assert int(waited.group(1)) <= 30
                time.sleep(int(waited.group(1)) + 0.1)
        else:
            raise AssertionError("a wrong password was accepted")
    # Now (2 s to wait after the sixth failure) even the right password is refused fast,
    # on both nodes, before it is looked at.
    for stub in nodes.stubs:
        with pytest.raises(RPCError) as throttled:
            stub.LoginByPassword(
                username="dave",
                password=login_hash("dave", "dave-pw", nonce := now_ms()),
                appid="control-panel",
                app_instance_id="control-panel@system",
                login_nonce=nonce,
            )
        assert _RETRY_IN.search(str(throttled.value)), throttled.value
