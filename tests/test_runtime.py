"""The client runtime over real sockets: lifecycle, each runtime type's login, routes,
retries, and the bytes a call puts on the wire."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from buckyos.generated import system_config_pb2 as sc
from buckyos.generated.system_config_rpc import AsyncSystemConfigStub, SystemConfigStub
from buckyos.runtime.client.resolve import Endpoint
from buckyos.runtime.errors import (
    ConfigError,
    InvalidPasswordError,
    NoPermissionError,
    ReasonError,
)
from buckyos.runtime.program.config import RuntimeType, load_config
from buckyos.runtime.program.runtime import (
    BuckyOSRuntime,
    RetryPolicy,
    get_buckyos_api_runtime,
    init_buckyos_api_runtime,
    is_buckyos_api_runtime_set,
    password_hash,
    password_proof,
    reset_buckyos_api_runtime,
    set_buckyos_api_runtime,
)
from buckyos.runtime.security.session_token import parse_unverified
from buckyos.runtime.security.token_signing import make_service_login_jwt
from tests.runtime_fakes import Zone, fake_zone
from tests.wire_fixtures import Captured, RawHttpServer, http_response

FAST = RetryPolicy(3, 0.01, 0.02, 0.0)


@pytest.fixture(autouse=True)
def no_registered_runtime() -> Iterator[None]:
    reset_buckyos_api_runtime()
    try:
        yield
    finally:
        reset_buckyos_api_runtime()


@pytest.fixture
def zone() -> Iterator[Zone]:
    with fake_zone() as made:
        yield made


def app_client(zone: Zone, tmp_path: Path, **kwargs: Any) -> BuckyOSRuntime:
    dev = zone.write_user(tmp_path / "dev")
    env = {"BUCKYOS_DEV_HOME": str(dev), "BUCKYOS_ROOT": str(tmp_path)}
    # The fake zone is served in this process too; go through its sockets.
    kwargs.setdefault("inprocess", False)
    return init_buckyos_api_runtime(
        "my-app", "alice", RuntimeType.APP_CLIENT, environ=env, home=tmp_path, **kwargs
    )


# --- lifecycle ------------------------------------------------------------------------------


def test_the_issue_example_appclient_with_a_user_key(zone: Zone, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="BuckyOSRuntime is not initialized"):
        get_buckyos_api_runtime()
    rt = app_client(zone, tmp_path, login_retry=FAST)
    # AppClient: the zone's public URL (http, machine.json says force_https false).
    assert rt._routes.candidates("system_config") == [
        Endpoint("krpc", f"{zone.url}/kapi/system_config", "public")
    ]
    rt.login()
    # The self-signed user JWT (no kid) was traded at verify-hub first, then boot/config read.
    assert zone.hub.calls == ["login_by_jwt"]
    token = parse_unverified(rt.session_token or "")
    assert (token.iss, token.sub, token.appid) == ("verify-hub", "alice", "my-app")
    assert rt.zone_did == zone.zone_did
    assert rt.full_app_id == "alice-my-app"
    set_buckyos_api_runtime(rt, tick=0.05)
    key = "users/alice/apps/my-app/settings"
    SystemConfigStub(get_buckyos_api_runtime()).Set(key=key, value='{"a":1}')
    assert zone.config.data[key] == '{"a":1}'
    assert rt.get_system_config_client().Get(key=key) == sc.GetResult(value='{"a":1}', version=1)
    with pytest.raises(ConfigError, match="already registered"):
        set_buckyos_api_runtime(rt)
    with pytest.raises(ConfigError, match="already initialized"):
        init_buckyos_api_runtime("other", "alice", RuntimeType.APP_CLIENT)
    assert is_buckyos_api_runtime_set()
    assert reset_buckyos_api_runtime() is rt
    assert rt.health().state == "stopped"


def test_the_same_in_asyncio(zone: Zone, tmp_path: Path) -> None:
    rt = app_client(zone, tmp_path, login_retry=FAST)

    async def main() -> None:
        await rt.alogin()
        set_buckyos_api_runtime(rt, tick=0.05)
        key = "users/alice/apps/my-app/settings"
        await AsyncSystemConfigStub(get_buckyos_api_runtime()).Set(key=key, value="v")
        assert await rt.get_async_system_config_client().Get(key=key) == sc.GetResult(
            value="v", version=1
        )
        assert rt.health().state == "ok"  # the keep-alive runs as a task on this loop
        await rt.aclose()
        assert rt.health().state == "stopped"

    asyncio.run(main())
    assert zone.hub.calls[0] == "login_by_jwt"


def test_appclient_token_from_env_is_used_as_is_and_must_match_the_app(
    zone: Zone, tmp_path: Path
) -> None:
    pair = zone.hub._pair("alice", "my-app", "user")
    env = {
        "BUCKYOS_APPCLIENT_SESSION_TOKEN": pair.session_token,
        "BUCKYOS_ZONE_CONFIG": json.dumps({"id": zone.zone_did}),
        "BUCKYOS_ROOT": str(tmp_path / "none"),
    }
    rt = init_buckyos_api_runtime(
        "my-app",
        "alice",
        environ=env,
        home=tmp_path,
        force_https=False,
        login_retry=FAST,
        inprocess=False,
    )
    rt.login()
    assert rt.session_token == pair.session_token
    assert zone.hub.calls == []  # nothing to trade
    assert zone.config.tokens[-1] == pair.session_token
    wrong = init_buckyos_api_runtime(
        "buckycli", "alice", environ=env, home=tmp_path, force_https=False, inprocess=False
    )
    with pytest.raises(ConfigError) as info:
        wrong.login()
    text = str(info.value)
    assert "env BUCKYOS_APPCLIENT_SESSION_TOKEN" in text
    assert "'my-app'" in text and "'buckycli'" in text and "Session token is not valid" in text


def test_password_login_uses_verify_hubs_nonce_scheme(zone: Zone, tmp_path: Path) -> None:
    # stored = base64(sha256("secret" + "alice" + ".buckyos")), computed independently.
    assert password_hash("alice", "secret") == "gQCBWe80s6UjLNR3Whuy4PCjpffV9XE+OyLc/mgt5Rw="
    # base64(sha256("abc" + "1700000000000")), from openssl.
    assert password_proof("abc", 1700000000000) == "RfU0W6zw+XC4dyQbKD1sFvKBiqrYmdIMhW6WKioD318="
    env = {"BUCKYOS_ZONE_CONFIG": json.dumps({"id": zone.zone_did})}
    rt = init_buckyos_api_runtime(
        "my-app",
        environ=env,
        home=tmp_path,
        root=tmp_path,
        config_dir=tmp_path,
        force_https=False,
        inprocess=False,
    )
    with pytest.raises(InvalidPasswordError, match=r"^Invalid password$"):
        rt.login_by_password("alice", "wrong")
    result = rt.login_by_password("alice", "secret")
    assert result.user_info.user_id == "alice"
    assert parse_unverified(rt.session_token or "").sub == "alice"
    key = "users/alice/apps/my-app/settings"
    SystemConfigStub(rt).Set(key=key, value="pw")
    assert zone.config.data[key] == "pw"
    rt.close()


def test_kernel_service_logs_in_with_the_token_node_daemon_handed_over(
    zone: Zone, tmp_path: Path
) -> None:
    etc = zone.write_etc(tmp_path / "etc")
    handed = make_service_login_jwt(
        zone.keys.device[0], device_name="ood1", subject="ood1", app_id="test-kernel-svc"
    )
    env = {"BUCKYOS_ROOT": str(tmp_path), "TEST_KERNEL_SVC_SESSION_TOKEN": handed}
    zone.config.data["services/verify-hub/info"] = json.dumps(
        {
            "selector_type": "random",
            "node_list": {
                "ood1": {
                    "node_did": "did:web:ood1.zone",
                    "node_net_id": "lan",
                    "state": "started",
                    "weight": 100,
                    "service_port": {"www": zone.info.krpc_port},
                }
            },
        }
    )
    rt = init_buckyos_api_runtime(
        "test-kernel-svc",
        runtime_type=RuntimeType.KERNEL_SERVICE,
        environ=env,
        system_config_url=zone.url,
        inprocess=False,
        login_retry=FAST,
    )
    assert rt.config.config_dir == etc
    rt.login()
    # boot/config, the RBAC tail and this device's document, with the handed-over token
    assert zone.config.tokens[-3:] == [handed] * 3
    # Serving material: the zone tail, and trust in verify-hub's key from boot/config.
    assert rt.rbac_enforcer().policy_tail == zone.config.data["system/rbac/policy"]
    hub_token = zone.hub._pair("alice", "my-app", "user").session_token
    assert rt.token_verifier().verify(hub_token).sub == "alice"
    assert rt.token_verifier().verify(handed).sub == "ood1"
    # verify-hub is found through services/verify-hub/info: this node's started instance.
    routes = rt._routes.candidates("verify-hub")
    assert routes[0] == Endpoint("krpc", f"{zone.url}/kapi/verify-hub", "direct", "ood1")
    assert routes[-1] == Endpoint("krpc", "http://127.0.0.1:3180/kapi/verify-hub", "gateway")
    # Served in this very process, the api is called in process first (unless disabled).
    rt.use_inprocess = True
    assert rt._routes.candidates("verify-hub")[0] == Endpoint("inprocess", "", "inprocess")
    rt.use_inprocess = False
    keepalive = rt.keepalive(tick=0.05)
    keepalive.run_once()  # trades the handed-over token through that route
    assert zone.hub.calls == ["login_by_jwt"]
    assert parse_unverified(rt.session_token or "").iss == "verify-hub"
    rt.close()


def test_kernel_signs_with_the_device_key_from_its_files(zone: Zone, tmp_path: Path) -> None:
    zone.write_etc(tmp_path / "etc", device_key=True)
    rt = init_buckyos_api_runtime(
        "node-daemon",
        runtime_type=RuntimeType.KERNEL,
        environ={"BUCKYOS_ROOT": str(tmp_path)},
        system_config_url=zone.url,
        login_retry=FAST,
    )
    rt.login()
    token = zone.config.tokens[-1]
    assert token is not None
    claims = parse_unverified(token)
    assert (claims.kid, claims.iss, claims.sub, claims.appid) == (
        "ood1",
        "ood1",
        "ood1",
        "node-daemon",
    )
    assert claims.jti and claims.exp - time.time() == pytest.approx(1200, abs=5)
    rt.close()


def test_frame_service_needs_a_device_config(tmp_path: Path) -> None:
    env = {
        "ALICE_MY_FRAME_TOKEN": "x.y.z",
        "BUCKYOS_ZONE_CONFIG": json.dumps({"id": "did:web:z.example.com"}),
    }
    (tmp_path / "etc").mkdir()
    rt = init_buckyos_api_runtime(
        "my-frame", "alice", RuntimeType.FRAME_SERVICE, environ=env, root=tmp_path
    )
    with pytest.raises(ConfigError, match="FrameService needs this device's config"):
        rt.login()


def test_login_without_a_valid_zone_says_what_to_set(tmp_path: Path) -> None:
    rt = init_buckyos_api_runtime(
        "my-app", environ={}, home=tmp_path, root=tmp_path, config_dir=tmp_path
    )
    with pytest.raises(ConfigError, match="zone id None is not valid") as info:
        rt.login()
    assert "node_identity.json" in str(info.value)


def test_app_service_routes_through_the_host_gateway(tmp_path: Path) -> None:
    env = {
        "app_instance_config": json.dumps(
            {"app_spec": {"app_doc": {"name": "notes"}, "user_id": "alice"}}
        ),
        "ALICE_NOTES_TOKEN": "t",
        "BUCKYOS_HOST_GATEWAY": "172.17.0.1",
    }
    rt = BuckyOSRuntime(load_config(RuntimeType.APP_SERVICE, "", environ=env))
    assert rt._routes.candidates("system_config") == [
        Endpoint("krpc", "http://172.17.0.1:3180/kapi/system_config", "gateway")
    ]
    # Paths and folders, as upstream names them.
    assert rt.settings_path() == "users/alice/apps/notes/settings"
    assert rt.data_folder() == rt.config.root / "data" / "alice" / "notes"
    assert rt.cache_folder() == rt.config.root / "cache" / "alice" / "notes"
    assert rt.local_cache_folder() == rt.config.root / "tmp" / "alice" / "notes"
    client = BuckyOSRuntime(
        load_config(RuntimeType.APP_CLIENT, "cli", environ={}, config_dir=tmp_path)
    )
    with pytest.raises(ReasonError, match="NotSupported: runtime_type AppClient"):
        client.settings_path()
    with pytest.raises(ReasonError, match="does not support get_data_folder"):
        client.data_folder()


def test_a_missing_service_record_still_leaves_the_gateway(zone: Zone, tmp_path: Path) -> None:
    zone.write_etc(tmp_path / "etc")
    handed = make_service_login_jwt(
        zone.keys.device[0], device_name="ood1", subject="ood1", app_id="test-kernel-svc"
    )
    rt = init_buckyos_api_runtime(
        "test-kernel-svc",
        runtime_type=RuntimeType.KERNEL_SERVICE,
        environ={"BUCKYOS_ROOT": str(tmp_path), "TEST_KERNEL_SVC_SESSION_TOKEN": handed},
        system_config_url=zone.url,
        inprocess=False,
    )
    # Upstream dies with "Service not valid: service info not found" (#573); we go on.
    assert rt._routes.candidates("task-manager") == [
        Endpoint("krpc", "http://127.0.0.1:3180/kapi/task-manager", "gateway")
    ]
    rt.close()


# --- retries --------------------------------------------------------------------------------


def test_login_retries_retryable_errors_only(zone: Zone, tmp_path: Path) -> None:
    rt = app_client(zone, tmp_path, login_retry=FAST)
    zone.config.fail_next = [ReasonError("503 temporarily unavailable")] * 2
    rt.login()
    assert len(zone.config.tokens) == 3  # boot/config read three times
    assert zone.hub.calls == ["login_by_jwt"]  # the traded session is kept across tries
    reset_buckyos_api_runtime()
    other = app_client(zone, tmp_path / "b", login_retry=FAST)
    zone.config.fail_next = [NoPermissionError("No read permission")]
    before = len(zone.config.tokens)
    with pytest.raises(NoPermissionError, match="No read permission"):
        other.login()
    assert len(zone.config.tokens) == before + 1  # not retried


def test_login_gives_up_after_three_tries(zone: Zone, tmp_path: Path) -> None:
    rt = app_client(zone, tmp_path, login_retry=FAST)
    zone.config.fail_next = [ReasonError("connection reset by leader")] * 5
    before = len(zone.config.tokens)
    with pytest.raises(ReasonError, match="connection reset by leader"):
        rt.login()
    assert len(zone.config.tokens) == before + 3


# --- the wire -------------------------------------------------------------------------------


def test_a_runtime_call_is_byte_compatible_with_upstream(tmp_path: Path) -> None:
    def respond(request: Captured) -> bytes:
        seq = json.loads(request.body)["sys"][0]
        body = f'{{"result":{{"value":"v","version":3}},"sys":[{seq}]}}'
        return http_response(200, body.encode())

    with RawHttpServer(respond) as server:
        rt = init_buckyos_api_runtime(
            "my-app",
            "alice",
            environ={},
            config_dir=tmp_path,
            session_token="aaa.bbb.ccc",
            system_config_url=server.url,
        )
        result = SystemConfigStub(rt).Get(key="boot/config")
        rt.close()
    assert result == sc.GetResult(value="v", version=3)
    (request,) = server.requests
    seq = json.loads(request.body)["sys"][0]
    assert (request.method, request.path) == ("POST", "/kapi/system_config")
    assert request.headers["content-type"] == "application/json"
    assert request.body == (
        b'{"method":"sys_config_get","params":{"key":"boot/config"},"sys":[%d,"aaa.bbb.ccc"]}' % seq
    )


def test_init_refuses_a_keyword_it_does_not_know() -> None:
    """Config overrides and route options travel as one typed **options; a misspelt key
    is refused, not silently dropped."""
    with pytest.raises(TypeError, match=r"unexpected keyword arguments \['servise_urls'\]"):
        init_buckyos_api_runtime("app", servise_urls={})  # type: ignore[call-arg]
