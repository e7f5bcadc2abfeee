"""verify-hub over real sockets: every verb, every refusal text, replays, refresh rotation,
sudo lifetime, what a user's own login may claim, the login JWT lifetime cap and whose
``x-buckyos-client`` header is believed.  Users and devices come from a fake system_config
served over kRPC, read with verify-hub's own device credentials."""

from __future__ import annotations

import http.client
import json
import secrets
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from buckyos.generated.verify_hub_rpc import VerifyHubStub
from buckyos.runtime.client.grpc_client import GrpcTransport
from buckyos.runtime.client.krpc_client import KrpcTransport
from buckyos.runtime.errors import RPCError
from buckyos.runtime.security.keys import Ed25519PrivateKey, generate_private_key
from buckyos.runtime.security.session_token import decode_unverified
from buckyos.runtime.security.token_signing import make_service_login_jwt, sign_token
from buckyos.services.verify_hub import (
    DeviceCredentials,
    SessionState,
    SystemConfigDirectory,
    VerifyHubService,
    build_binding,
    service_of,
)
from tests.verify_hub_fakes import (
    Clock,
    FakeConfig,
    ServerThread,
    Zone,
    login_hash,
    make_zone,
    now_ms,
)

WEEK = 7 * 24 * 3600


@dataclass
class Hub:
    zone: Zone
    clock: Clock
    config: FakeConfig
    state: SessionState
    service: VerifyHubService
    krpc_url: str
    grpc_target: str
    stub: VerifyHubStub
    grpc: VerifyHubStub


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    from tests.verify_hub_fakes import fake_system_config

    zone = make_zone()
    clock = Clock()
    sc_binding, config = fake_system_config(zone)
    with ServerThread((sc_binding, 0, None)) as sc_server:
        sc_url = sc_server.infos[0].krpc_url
        assert sc_url is not None
        sc_transport = KrpcTransport(sc_url)
        directory = SystemConfigDirectory(
            sc_transport,
            owner_key=zone.owner.public_key(),
            credentials=DeviceCredentials(zone.device, "ood1"),
        )
        state = SessionState(Path(tmp_path_factory.mktemp("vh")) / "state.db", clock=clock)
        binding = build_binding(signing_key=zone.hub, state=state, directory=directory, clock=clock)
        with ServerThread((binding, 0, 0)) as vh_server:
            info = vh_server.infos[0]
            assert info.krpc_url is not None and info.grpc_target is not None
            krpc = KrpcTransport(info.krpc_url)
            grpc = GrpcTransport(info.grpc_target)
            try:
                yield Hub(
                    zone=zone,
                    clock=clock,
                    config=config,
                    state=state,
                    service=service_of(binding),
                    krpc_url=info.krpc_url,
                    grpc_target=info.grpc_target,
                    stub=VerifyHubStub(krpc),
                    grpc=VerifyHubStub(grpc),
                )
            finally:
                krpc.close()
                grpc.close()
        sc_transport.close()
        state.close()


@pytest.fixture(autouse=True)
def _reset_clock(hub: Hub) -> Iterator[None]:
    hub.clock.offset = 0.0
    yield
    hub.clock.offset = 0.0
    hub.service.throttle.clear()  # each test's wrong passwords are its own


# --------------------------------------------------------------------------- helpers


def error_of(call: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(RPCError) as info:
        call(*args, **kwargs)
    return str(info.value)


def claims(token: str) -> dict[str, Any]:
    header, body = decode_unverified(token)
    assert header == {"alg": "EdDSA", "kid": "verify-hub"}
    return body


def password_login(
    stub: VerifyHubStub,
    user: str = "alice",
    password: str = "alice-pw",
    appid: str = "control-panel",
    instance: str = "control-panel@system",
) -> Any:
    nonce = now_ms()
    return stub.LoginByPassword(
        type="password",
        username=user,
        password=login_hash(user, password, nonce),
        appid=appid,
        app_instance_id=instance,
        login_nonce=nonce,
    )


def jwt(key: Ed25519PrivateKey, kid: str | None = None, **claims_: Any) -> str:
    body = {"exp": int(time.time()) + 600, "jti": secrets.token_hex(8), **claims_}
    return sign_token({k: v for k, v in body.items() if v is not None}, key, kid=kid)


def raw_krpc(url: str, body: dict[str, Any]) -> dict[str, Any]:
    """One kRPC request, byte for byte, without our client."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        conn.request(
            "POST",
            "/kapi/verify-hub",
            json.dumps(body).encode(),
            {"Content-Type": "application/json"},
        )
        response = conn.getresponse()
        assert response.status == 200
        data: dict[str, Any] = json.loads(response.read())
        return data
    finally:
        conn.close()


# --------------------------------------------------------------------------- login_by_password


def test_password_login_gives_upstream_claims_and_lifetimes(hub: Hub) -> None:
    before = int(time.time())
    nonce = now_ms()
    result = hub.stub.LoginByPassword(
        type="password",
        username="alice",
        password=login_hash("alice", "alice-pw", nonce),
        appid="control-panel",
        app_instance_id="control-panel@system",
        login_nonce=nonce,
    )
    after = int(time.time())
    assert result.user_info.show_name == "alice"
    assert result.user_info.user_id == "alice"
    assert result.user_info.state == "active"
    assert result.user_info.user_type == "admin"
    session = claims(result.session_token)
    refresh = claims(result.refresh_token)
    assert set(session) == {
        "appid",
        "jti",
        "sub",
        "iss",
        "exp",
        "session",
        "principal_kind",
        "app_instance_id",
    }
    assert session["appid"] == "control-panel"
    assert session["sub"] == "alice"
    assert session["iss"] == "verify-hub"
    assert session["principal_kind"] == "user"
    assert session["app_instance_id"] == "control-panel@system"
    assert session["session"] == nonce  # upstream: a password session's id is its nonce
    assert before + 900 <= session["exp"] <= after + 900
    assert set(refresh) == set(session) | {"aud"}
    assert refresh["aud"] == "verify-hub"
    assert refresh["session"] == nonce
    assert before + WEEK <= refresh["exp"] <= after + WEEK
    assert refresh["jti"] != session["jti"]
    hub.stub.VerifyToken(session_token=result.session_token, appid="control-panel")


def test_password_login_for_an_app_owned_by_a_user_names_the_owner(hub: Hub) -> None:
    result = password_login(hub.stub, appid="notes", instance="notes@alice")
    session = claims(result.session_token)
    assert session["app_instance_id"] == "notes@alice"
    assert session["app_owner_user_id"] == "alice"
    hub.stub.VerifyToken(
        session_token=result.session_token, appid="notes", app_instance_id="notes@alice"
    )


def test_password_login_wire_json_and_nonce_from_seq(hub: Hub) -> None:
    # No login_nonce: the kRPC seq is the nonce, in microseconds above 1e13 (Rust client).
    nonce = now_ms()
    seq = nonce * 1000
    params = {
        "type": "password",
        "username": "alice",
        "password": login_hash("alice", "alice-pw", nonce),
        "appid": "control-panel",
        "app_instance_id": "control-panel@system",
    }
    answer = raw_krpc(hub.krpc_url, {"method": "login_by_password", "params": params, "sys": [seq]})
    assert answer["sys"] == [seq]
    assert set(answer) == {"result", "sys"}
    assert answer["result"]["user_info"] == {
        "show_name": "alice",
        "user_id": "alice",
        "state": "active",
        "user_type": "admin",
    }
    assert set(answer["result"]) == {"user_info", "session_token", "refresh_token"}
    assert claims(answer["result"]["session_token"])["session"] == nonce
    # The same seq again is the same nonce: a replay.
    again = raw_krpc(hub.krpc_url, {"method": "login_by_password", "params": params, "sys": [seq]})
    assert again == {"error": "Failed due to reason: Login nonce already used", "sys": [seq]}
    # A seq below 1e13 is taken as milliseconds already.
    nonce = now_ms()
    params["password"] = login_hash("alice", "alice-pw", nonce)
    answer = raw_krpc(
        hub.krpc_url, {"method": "login_by_password", "params": params, "sys": [nonce]}
    )
    assert claims(answer["result"]["session_token"])["session"] == nonce


def test_password_login_refusals(hub: Hub) -> None:
    stub = hub.stub
    nonce = now_ms()

    def attempt(**overrides: Any) -> str:
        params: dict[str, Any] = {
            "username": "alice",
            "password": login_hash("alice", "alice-pw", nonce),
            "appid": "control-panel",
            "app_instance_id": "control-panel@system",
            "login_nonce": nonce,
        }
        params.update(overrides)
        return error_of(stub.LoginByPassword, **params)

    assert attempt(password=login_hash("alice", "wrong", nonce)) == "Invalid password"
    assert attempt(password="not base64!").startswith("Failed due to reason: password must be")
    assert (
        attempt(username="nobody", password=login_hash("nobody", "x", nonce))
        == "User Not Found:nobody"
    )
    assert (
        attempt(username="bob", password=login_hash("bob", "bob-pw", nonce))
        == "No permission:user 'bob' is not active"
    )
    assert (
        attempt(username="gus", password=login_hash("gus", "gus-pw", nonce))
        == "No permission:user 'gus' is not active"
    )
    assert (
        attempt(username="root")
        == "No permission:verify-hub does not issue session tokens for root"
    )
    assert attempt(login_nonce=nonce - 28_801) == "Parse Request Error: Invalid nonce"
    assert attempt(login_nonce=nonce + 60_000) == "Parse Request Error: Invalid nonce"
    assert attempt(appid="notes") == "No permission:AppAccessDenied"
    assert (
        attempt(app_instance_id="control-panel")
        == "Parse Request Error: app_instance_id must be `<app_id>@<owner_user_id>`"
    )
    assert attempt(type="jwt") == "Parse Request Error: login type must be password"
    # Failed attempts did not use the nonce up: the right password still gets in, once.
    result = stub.LoginByPassword(
        username="alice",
        password=login_hash("alice", "alice-pw", nonce),
        appid="control-panel",
        app_instance_id="control-panel@system",
        login_nonce=nonce,
    )
    assert claims(result.session_token)["session"] == nonce
    assert attempt() == "Failed due to reason: Login nonce already used"
    # ...even when the replay names another app instance (upstream let that through).
    assert attempt(appid="notes", app_instance_id="notes@alice") == (
        "Failed due to reason: Login nonce already used"
    )


def test_password_login_missing_params_are_named(hub: Hub) -> None:
    answer = raw_krpc(
        hub.krpc_url,
        {"method": "login_by_password", "params": {"type": "password"}, "sys": [7]},
    )
    assert answer["error"].startswith("Parse Request Error: Missing ")
    assert answer["sys"] == [7]


def test_password_login_nonce_window_follows_the_server_clock(hub: Hub) -> None:
    nonce = now_ms()
    hub.clock.offset = 27.0  # 27,000 ms (plus the call's latency): inside 28,800
    result = hub.stub.LoginByPassword(
        username="dave",
        password=login_hash("dave", "dave-pw", nonce),
        appid="control-panel",
        app_instance_id="control-panel@system",
        login_nonce=nonce,
    )
    assert claims(result.session_token)["sub"] == "dave"
    nonce = now_ms()
    hub.clock.offset = 30.0
    assert (
        error_of(
            hub.stub.LoginByPassword,
            username="dave",
            password=login_hash("dave", "dave-pw", nonce),
            appid="control-panel",
            app_instance_id="control-panel@system",
            login_nonce=nonce,
        )
        == "Parse Request Error: Invalid nonce"
    )


# --------------------------------------------------------------------------- sudo_by_password


def test_sudo_token_is_short_and_marked(hub: Hub) -> None:
    nonce = now_ms()
    params = {
        "username": "alice",
        "password": login_hash("alice", "alice-pw", nonce),
        "appid": "control-panel",
        "app_instance_id": "control-panel@system",
        "login_nonce": nonce,
    }
    before = int(time.time())
    answer = raw_krpc(hub.krpc_url, {"method": "sudo_by_password", "params": params, "sys": [1]})
    after = int(time.time())
    assert set(answer["result"]) == {"session_token"}  # no refresh token for sudo
    token = claims(answer["result"]["session_token"])
    assert token["sudo"] is True
    assert token["sub"] == "alice"
    assert token["principal_kind"] == "user"
    assert token["session"] == nonce
    assert "aud" not in token
    assert before + 180 <= token["exp"] <= after + 180
    hub.stub.VerifyToken(session_token=answer["result"]["session_token"])
    again = raw_krpc(hub.krpc_url, {"method": "sudo_by_password", "params": params, "sys": [2]})
    assert again == {"error": "Failed due to reason: Login nonce already used", "sys": [2]}
    # aud is passed through when asked for.
    nonce = now_ms()
    result = hub.stub.SudoByPassword(
        username="alice",
        password=login_hash("alice", "alice-pw", nonce),
        appid="control-panel",
        app_instance_id="control-panel@system",
        aud="system-config",
        login_nonce=nonce,
    )
    assert claims(result.session_token)["aud"] == "system-config"
    wrong = now_ms()
    assert (
        error_of(
            hub.stub.SudoByPassword,
            username="alice",
            password=login_hash("alice", "nope", wrong),
            appid="control-panel",
            app_instance_id="control-panel@system",
            login_nonce=wrong,
        )
        == "Invalid password"
    )


# --------------------------------------------------------------------------- login_by_jwt


def test_login_by_jwt_principals(hub: Hub) -> None:
    zone = hub.zone
    # A user signs for herself (her key is in users/alice/doc).
    pair = hub.stub.LoginByJwt(
        type="jwt", jwt=jwt(zone.alice, iss="alice", sub="alice", appid="control-panel")
    )
    session = claims(pair.session_token)
    assert session["principal_kind"] == "user"
    assert session["app_instance_id"] == "control-panel@system"
    assert claims(pair.refresh_token)["aud"] == "verify-hub"
    assert claims(pair.refresh_token)["session"] == session["session"]
    # The owner signs (iss root) for a user; the login param names the app instance.
    pair = hub.stub.LoginByJwt(
        jwt=jwt(zone.owner, iss="root", sub="alice", appid="notes"),
        app_instance_id="notes@alice",
    )
    session = claims(pair.session_token)
    assert (session["principal_kind"], session["app_owner_user_id"]) == ("user", "alice")
    # A device signs for itself: a device session, no app instance.
    token = make_service_login_jwt(
        zone.device, device_name="ood1", subject="ood1", app_id="node-daemon"
    )
    session = claims(hub.stub.LoginByJwt(jwt=token).session_token)
    assert session["principal_kind"] == "device"
    assert session["sub"] == "ood1"
    assert "app_instance_id" not in session
    # A device signs for another subject: a service session.
    token = make_service_login_jwt(zone.ood2, device_name="ood2", subject="alice", app_id="aicc")
    session = claims(hub.stub.LoginByJwt(jwt=token).session_token)
    assert (session["principal_kind"], session["sub"], session["appid"]) == (
        "service",
        "alice",
        "aicc",
    )


def test_login_by_jwt_refusals(hub: Hub) -> None:
    zone = hub.zone
    login = hub.stub.LoginByJwt
    once = jwt(zone.alice, iss="alice", sub="alice", appid="control-panel")
    login(jwt=once)
    assert error_of(login, jwt=once) == "Failed due to reason: Login JWT already used"
    assert error_of(login, jwt=once, app_instance_id="control-panel@alice") == (
        "Failed due to reason: Login JWT already used"
    )
    assert (
        # upstream's AppClient JWT shape, which carries no jti
        error_of(login, jwt=jwt(zone.alice, iss="alice", sub="alice", appid="kernel", jti=None))
        == "Failed due to reason: Missing jti"
    )
    assert (
        error_of(login, jwt=jwt(zone.alice, iss="mallory", sub="mallory", appid="x"))
        == "Failed due to reason: User or device config not found"
    )
    forged = jwt(generate_private_key(), iss="alice", sub="alice", appid="control-panel")
    assert error_of(login, jwt=forged) == (
        "Failed due to reason: JWT verify error: JWT decode error:InvalidSignature"
    )
    expired = jwt(
        zone.alice, iss="alice", sub="alice", appid="control-panel", exp=int(time.time()) - 61
    )
    assert error_of(login, jwt=expired) == (
        "Failed due to reason: JWT verify error: JWT decode error:ExpiredSignature"
    )
    no_exp = sign_token(
        {"iss": "alice", "sub": "alice", "appid": "x", "jti": "j1"}, zone.alice, kid=None
    )
    assert error_of(login, jwt=no_exp) == (
        "Failed due to reason: JWT verify error: JWT decode error:Missing required claim: exp"
    )
    assert error_of(login, jwt=jwt(zone.alice, iss="alice", appid="x")) == (
        "Failed due to reason: Missing sub"
    )
    assert error_of(login, jwt=jwt(zone.alice, iss="alice", sub="alice")) == (
        "Failed due to reason: Missing appid"
    )
    assert error_of(login, jwt=jwt(zone.owner, iss="root", sub="Root", appid="x")) == (
        "No permission:verify-hub does not issue session tokens for root"
    )
    assert error_of(login, jwt=jwt(zone.alice, sub="alice", appid="x")).startswith(
        "Failed due to reason: Missing iss"
    )
    assert (
        error_of(
            login,
            jwt=jwt(zone.alice, iss="alice", sub="alice", appid="notes"),
            app_instance_id="control-panel@system",
        )
        == "No permission:AppAccessDenied"
    )
    hs256 = "eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJhbGljZSJ9.c2ln"
    assert error_of(login, jwt=hs256) == "Failed due to reason: JWT algorithm not allowed"
    assert error_of(login, jwt="garbage").startswith(
        "Failed due to reason: JWT decode header error"
    )
    assert error_of(login, type="password", jwt=once) == (
        "Parse Request Error: login type must be jwt"
    )


# --------------------------------------------------------------------------- what a login may claim

RESERVED_APP = (
    "No permission:app id {!r} is for zone-trusted services (devices) only: a user's own "
    "login may not claim kernel, node-daemon or scheduler"
)


def test_user_logins_may_not_claim_kernel_app_ids(hub: Hub) -> None:
    zone = hub.zone
    for app in ("kernel", "scheduler", "node-daemon", "Kernel"):
        assert error_of(
            password_login, hub.stub, appid=app, instance=f"{app}@alice"
        ) == RESERVED_APP.format(app)
        nonce = now_ms()
        assert error_of(
            hub.stub.SudoByPassword,
            username="alice",
            password=login_hash("alice", "alice-pw", nonce),
            appid=app,
            app_instance_id=f"{app}@alice",
            login_nonce=nonce,
        ) == RESERVED_APP.format(app)
        own = jwt(zone.alice, iss="alice", sub="alice", appid=app)
        assert error_of(hub.stub.LoginByJwt, jwt=own) == RESERVED_APP.format(app)
    # Refused before the password is looked at: a wrong one gets the same answer.
    assert error_of(
        password_login, hub.stub, password="wrong", appid="kernel", instance="kernel@alice"
    ) == RESERVED_APP.format("kernel")
    # Any other app id, kernel-group ones included, works as before.
    for app in ("buckycli", "verify-hub", "notes"):
        assert claims(password_login(hub.stub, appid=app, instance=f"{app}@alice").session_token)
    # The zone owner and the zone's devices may name the reserved ones.
    by_owner = hub.stub.LoginByJwt(jwt=jwt(zone.owner, iss="root", sub="alice", appid="kernel"))
    assert claims(by_owner.session_token)["appid"] == "kernel"
    by_device = make_service_login_jwt(
        zone.ood2, device_name="ood2", subject="alice", app_id="scheduler"
    )
    assert claims(hub.stub.LoginByJwt(jwt=by_device).session_token)["appid"] == "scheduler"


RESERVED_NAME = (
    "No permission:{!r} is a reserved RBAC name (a role, a system app id or a sudo subject), "
    "not a user name: verify-hub issues no user session for it"
)


def test_a_user_signs_login_jwts_only_for_itself(hub: Hub) -> None:
    zone = hub.zone
    for sub in ("dave", "ood1", "kernel", "admin"):
        assert error_of(
            hub.stub.LoginByJwt, jwt=jwt(zone.alice, iss="alice", sub=sub, appid="notes")
        ) == (
            f"No permission:a user signs login JWTs only for itself: 'alice' cannot sign for "
            f"{sub!r} (only the zone owner or a zone device signs for another subject)"
        )
    # No user session for a reserved RBAC name, whoever signs.
    for sub in ("kernel", "Users", "su_alice", "node-daemon", "ood"):
        token = jwt(zone.owner, iss="root", sub=sub, appid="notes")
        assert error_of(hub.stub.LoginByJwt, jwt=token) == RESERVED_NAME.format(sub)
    # A device signing for a service subject is not a user session: allowed.
    token = make_service_login_jwt(zone.device, device_name="ood1", subject="kernel", app_id="x")
    assert claims(hub.stub.LoginByJwt(jwt=token).session_token)["principal_kind"] == "service"
    # Nor is there a password login for an account named so.
    hub.zone.data["users/users/settings"] = hub.zone.data["users/dave/settings"]
    try:
        assert error_of(
            password_login, hub.stub, user="users", password="dave-pw"
        ) == RESERVED_NAME.format("users")
    finally:
        del hub.zone.data["users/users/settings"]


def test_a_user_is_spelt_one_way(hub: Hub) -> None:
    # users/dave/settings naming another user_id: the name is not dave's only spelling.
    saved = hub.zone.data["users/dave/settings"]
    hub.zone.data["users/dave/settings"] = saved.replace('"user_id": "dave"', '"user_id": "Dave"')
    try:
        assert error_of(password_login, hub.stub, user="dave", password="dave-pw") == (
            "Failed due to reason: users/dave/settings names user_id 'Dave', not 'dave': a "
            "user's settings must carry its own name as user_id; fix the settings"
        )
    finally:
        hub.zone.data["users/dave/settings"] = saved
    for name in ("dave\\", "\\dave", "x\\..\\dave", "dave "):
        assert error_of(password_login, hub.stub, user=name, password="dave-pw").startswith(
            f"Failed due to reason: invalid user name {name!r}: a name is one key segment"
        )
    # A signer's name is checked the same way (users/alice\/doc would read alice's key).
    signer = jwt(hub.zone.alice, iss="alice\\", sub="alice\\", appid="notes")
    assert error_of(hub.stub.LoginByJwt, jwt=signer).startswith(
        "Failed due to reason: invalid login JWT issuer name 'alice\\\\'"
    )


FAR = (
    "Failed due to reason: login JWT expires too far ahead: its exp is more than 3600 s after "
    "verify-hub's clock; sign login JWTs that expire within 1 hour (upstream signs them for "
    "900 s, 1200 s for a service)"
)


def test_login_jwt_lifetime_is_capped(hub: Hub) -> None:
    zone = hub.zone
    now = int(time.time())
    for exp in (2**63, 2**80, now + 100 * 365 * 86400, now + 3700):
        token = jwt(zone.alice, iss="alice", sub="alice", appid="notes", exp=exp)
        assert error_of(hub.stub.LoginByJwt, jwt=token) == FAR
    device = jwt(zone.device, iss="ood1", sub="ood1", appid="node-daemon", exp=now + 7200)
    assert error_of(hub.stub.LoginByJwt, jwt=device) == FAR
    ok = jwt(zone.alice, iss="alice", sub="alice", appid="notes", exp=now + 3500)
    assert claims(hub.stub.LoginByJwt(jwt=ok).session_token)
    # The used-once row lives until exp + leeway, so an hour at most.
    assert hub.state.counts()["used_once"] > 0


def _header(key: Ed25519PrivateKey, **claims_: Any) -> str:
    now = int(time.time())
    body = {"iss": "ood1", "sub": "ood1", "client_addr": "10.7.7.7", "iat": now, "exp": now + 120}
    body.update(claims_)
    kid = str(body.pop("kid", body["iss"]))
    return sign_token({k: v for k, v in body.items() if v is not None}, key, kid=kid)


def _login_with(hub: Hub, header: str | None, password: str = "dave-pw") -> dict[str, Any]:
    nonce = now_ms()
    params = {
        "username": "dave",
        "password": login_hash("dave", password, nonce),
        "appid": "notes",
        "app_instance_id": "notes@dave",
        "login_nonce": nonce,
    }
    parts = urllib.parse.urlsplit(hub.krpc_url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    headers = {"Content-Type": "application/json"}
    if header is not None:
        headers["x-buckyos-client"] = header
    try:
        body = {"method": "login_by_password", "params": params, "sys": [1]}
        conn.request("POST", "/kapi/verify-hub", json.dumps(body).encode(), headers)
        answer: dict[str, Any] = json.loads(conn.getresponse().read())
        return answer
    finally:
        conn.close()


def test_forwarded_client_is_believed_only_from_a_device(hub: Hub) -> None:
    zone = hub.zone
    genuine = _header(zone.device)
    # 10.7.7.7 (as ood1 vouches) guesses 5 times; dave's count is cleared each time below.
    for _ in range(5):
        assert _login_with(hub, genuine, "wrong")["error"] == "Invalid password"
        hub.service.throttle.users.clear()
    throttled = "Failed due to reason: too many failed logins from 10.7.7.7; retry in 1 s"
    assert _login_with(hub, genuine)["error"] == throttled
    # Another device of the zone vouching for the same address: believed too.
    assert _login_with(hub, _header(zone.ood2, iss="ood2", sub="ood2"))["error"] == throttled
    # Not believed (the peer, 127.0.0.1, is counted instead, and is not throttled):
    untrusted = {
        "a key that is no device's": _header(generate_private_key()),
        "a user's key (alice)": _header(zone.alice, iss="alice", sub="alice"),
        "kid of another device": _header(zone.device, kid="ood2"),
        "sub not the device": _header(zone.device, sub="alice"),
        "expired": _header(zone.device, exp=int(time.time()) - 61),
        "valid for an hour": _header(zone.device, exp=int(time.time()) + 3600),
        "no client_addr": _header(zone.device, client_addr=None),
        "client_addr not an address": _header(zone.device, client_addr="evil.example"),
        "not a JWT": "10.7.7.8",
        "alg none": "eyJhbGciOiJub25lIn0.eyJpc3MiOiJvb2QxIn0.",
    }
    for what, header in untrusted.items():
        answer = _login_with(hub, header)
        assert "result" in answer, f"{what}: {answer}"
    # An IPv6 client counts by its /64.
    v6 = _header(zone.device, client_addr="2001:db8:5:6::1")
    for _ in range(5):
        assert _login_with(hub, v6, "wrong")["error"] == "Invalid password"
        hub.service.throttle.users.clear()
    other_host = _header(zone.device, client_addr="2001:db8:5:6:ffff::9")
    assert _login_with(hub, other_host)["error"] == (
        "Failed due to reason: too many failed logins from 2001:db8:5:6::/64; retry in 1 s"
    )


def test_directory_reads_system_config_as_this_device(hub: Hub) -> None:
    assert hub.config.callers, "verify-hub never asked system_config"
    assert set(hub.config.callers) == {("ood1", "verify-hub")}


# --------------------------------------------------------------------------- refresh and logout


def test_refresh_rotates_and_reuse_revokes_the_session(hub: Hub) -> None:
    first = password_login(hub.stub)
    second = hub.stub.RefreshToken(refresh_token=first.refresh_token)
    assert second.session_token != first.session_token
    assert second.refresh_token != first.refresh_token
    s1, s2 = claims(first.session_token), claims(second.session_token)
    assert s2["session"] == s1["session"]
    assert (s2["sub"], s2["appid"], s2["app_instance_id"]) == (
        "alice",
        "control-panel",
        "control-panel@system",
    )
    hub.stub.VerifyToken(session_token=second.session_token)
    third = hub.stub.RefreshToken(refresh_token=second.refresh_token)
    # The first refresh token was traded already: using it again ends the whole session.
    assert error_of(hub.stub.RefreshToken, refresh_token=first.refresh_token) == (
        "Failed due to reason: Invalid refresh token jti"
    )
    assert error_of(hub.stub.RefreshToken, refresh_token=third.refresh_token) == (
        "Failed due to reason: Refresh token not found or already invalidated"
    )
    assert error_of(hub.stub.VerifyToken, session_token=third.session_token) == (
        "Invalid token: session revoked (logged out, or an old refresh token was replayed): "
        "log in again"
    )


def test_a_session_token_cannot_refresh_nor_end_the_session(hub: Hub) -> None:
    pair = password_login(hub.stub)
    for call in (hub.stub.RefreshToken, hub.stub.Logout):
        assert error_of(call, refresh_token=pair.session_token) == (
            "Failed due to reason: not a refresh token: pass the refresh_token of the pair "
            "(aud verify-hub), not the session token"
        )
    assert claims(hub.stub.RefreshToken(refresh_token=pair.refresh_token).session_token)


def test_refresh_rechecks_the_user(hub: Hub) -> None:
    pair = password_login(hub.stub, user="dave", password="dave-pw")
    saved = hub.zone.data["users/dave/settings"]
    hub.zone.data["users/dave/settings"] = saved.replace('"active"', '"banned:abuse"')
    try:
        assert error_of(hub.stub.RefreshToken, refresh_token=pair.refresh_token) == (
            "No permission:user 'dave' is not active"
        )
    finally:
        hub.zone.data["users/dave/settings"] = saved
    # Refused, not consumed: once dave is back the same refresh token works.
    assert claims(hub.stub.RefreshToken(refresh_token=pair.refresh_token).session_token)


def test_device_session_refreshes(hub: Hub) -> None:
    token = make_service_login_jwt(
        hub.zone.device, device_name="ood1", subject="ood1", app_id="node-daemon"
    )
    pair = hub.stub.LoginByJwt(jwt=token)
    new = hub.stub.RefreshToken(refresh_token=pair.refresh_token)
    assert claims(new.session_token)["principal_kind"] == "device"


def test_logout_revokes(hub: Hub) -> None:
    pair = password_login(hub.stub)
    answer = raw_krpc(
        hub.krpc_url,
        {"method": "logout", "params": {"refresh_token": pair.refresh_token}, "sys": [42]},
    )
    assert answer == {"result": True, "sys": [42]}  # no session token needed in sys
    assert error_of(hub.stub.RefreshToken, refresh_token=pair.refresh_token) == (
        "Failed due to reason: Refresh token not found or already invalidated"
    )
    assert error_of(hub.stub.Logout, refresh_token=pair.refresh_token) == (
        "Failed due to reason: Refresh token not found or already invalidated"
    )
    assert error_of(hub.stub.VerifyToken, session_token=pair.session_token).startswith(
        "Invalid token: session revoked"
    )


def test_refresh_after_the_refresh_token_expired(hub: Hub) -> None:
    pair = password_login(hub.stub)
    hub.clock.offset = WEEK + 61.0
    assert error_of(hub.stub.RefreshToken, refresh_token=pair.refresh_token) == (
        "Failed due to reason: JWT verify error: JWT decode error:ExpiredSignature"
    )


# --------------------------------------------------------------------------- verify_token


def test_verify_token_refusals(hub: Hub) -> None:
    pair = password_login(hub.stub)
    verify = hub.stub.VerifyToken
    answer = raw_krpc(
        hub.krpc_url,
        {"method": "verify_token", "params": {"session_token": pair.session_token}, "sys": [3]},
    )
    assert answer == {"result": True, "sys": [3]}
    assert error_of(verify, session_token=pair.refresh_token) == (
        "Invalid token: refresh token cannot be used as session token"
    )
    assert error_of(verify, session_token="opaque") == "Invalid token: not a jwt token"
    assert error_of(verify, session_token=pair.session_token, appid="notes") == (
        "Invalid token: appid mismatch"
    )
    assert (
        error_of(verify, session_token=pair.session_token, app_instance_id="control-panel@alice")
        == "Invalid token: app_instance_id mismatch"
    )
    foreign = jwt(hub.zone.alice, kid="alice", iss="alice", sub="alice", appid="x")
    assert error_of(verify, session_token=foreign) == "Failed due to reason: JWT kid not allowed"
    forged = jwt(
        generate_private_key(),
        kid="verify-hub",
        iss="verify-hub",
        sub="alice",
        appid="x",
        session=1,
        principal_kind="user",
    )
    assert error_of(verify, session_token=forged) == (
        "Failed due to reason: JWT verify error: JWT decode error:InvalidSignature"
    )
    no_kind = jwt(hub.zone.hub, kid="verify-hub", iss="verify-hub", sub="alice", appid="x")
    assert error_of(verify, session_token=no_kind) == (
        "Invalid token: Missing or invalid principal_kind"
    )
    mismatch = jwt(
        hub.zone.hub,
        kid="verify-hub",
        iss="verify-hub",
        sub="alice",
        appid="x",
        principal_kind="user",
        app_instance_id="y@system",
    )
    assert error_of(verify, session_token=mismatch) == (
        "Invalid token: appid and app_instance_id claims do not match"
    )
    owner = jwt(
        hub.zone.hub,
        kid="verify-hub",
        iss="verify-hub",
        sub="alice",
        appid="notes",
        principal_kind="user",
        app_instance_id="notes@alice",
    )
    assert error_of(verify, session_token=owner) == (
        "Invalid token: app owner claim does not match app_instance_id"
    )
    service = hub.stub.LoginByJwt(
        jwt=make_service_login_jwt(
            hub.zone.ood2, device_name="ood2", subject="alice", app_id="aicc"
        )
    )
    verify(session_token=service.session_token, appid="aicc")
    assert (
        error_of(verify, session_token=service.session_token, app_instance_id="aicc@system")
        == "Invalid token: missing app_instance_id claim"
    )
    hub.clock.offset = 900 + 61.0
    assert error_of(verify, session_token=pair.session_token) == (
        "Failed due to reason: JWT verify error: JWT decode error:ExpiredSignature"
    )


def test_unknown_method(hub: Hub) -> None:
    answer = raw_krpc(hub.krpc_url, {"method": "login", "params": {}, "sys": [5]})
    assert answer == {"error": "Unknown method: login", "sys": [5]}


# --------------------------------------------------------------------------- gRPC


def test_grpc_gives_the_same_answers(hub: Hub) -> None:
    pair = password_login(hub.grpc)
    new = hub.grpc.RefreshToken(refresh_token=pair.refresh_token)
    hub.grpc.VerifyToken(session_token=new.session_token, appid="control-panel")
    again = hub.grpc.RefreshToken(refresh_token=pair.refresh_token)  # a retry: same pair
    assert (again.session_token, again.refresh_token) == (new.session_token, new.refresh_token)
    hub.clock.offset = 31.0  # past the retry window: a reuse
    assert error_of(hub.grpc.RefreshToken, refresh_token=pair.refresh_token) == (
        "Failed due to reason: Invalid refresh token jti"
    )
    hub.clock.offset = 0.0
    assert error_of(hub.grpc.VerifyToken, session_token=new.refresh_token) == (
        "Invalid token: refresh token cannot be used as session token"
    )
    nonce = now_ms()
    assert (
        error_of(
            hub.grpc.LoginByPassword,
            username="alice",
            password=login_hash("alice", "bad", nonce),
            appid="control-panel",
            app_instance_id="control-panel@system",
            login_nonce=nonce,
        )
        == "Invalid password"
    )
    other = password_login(hub.stub)
    hub.grpc.Logout(refresh_token=other.refresh_token)  # no session token in the metadata
    assert error_of(hub.stub.RefreshToken, refresh_token=other.refresh_token) == (
        "Failed due to reason: Refresh token not found or already invalidated"
    )
