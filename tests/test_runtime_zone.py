"""Every runtime type logs in and calls system_config against a real zone (processes)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from buckyos.generated.system_config_rpc import SystemConfigStub
from buckyos.runtime import RuntimeType, init_buckyos_api_runtime
from buckyos.runtime.errors import ConfigError, NoPermissionError
from buckyos.runtime.security.token_signing import make_service_login_jwt
from buckyos.services.zone import (
    ZoneInfo,
    ZoneLayout,
    load_identity,
    parse_ports,
    zone_down,
    zone_up,
)


@pytest.fixture(scope="module")
def zone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ZoneInfo]:
    root = tmp_path_factory.mktemp("zone") / "root"
    info = zone_up(root, ports=parse_ports("auto"), apps=("my-app",))
    try:
        yield info
    finally:
        zone_down(root)


def _handed_over(info: ZoneInfo, subject: str, app_id: str) -> str:
    """The token node-daemon hands a service it starts: device-signed, traded later."""
    ident = load_identity(ZoneLayout(Path(info.root)))
    return make_service_login_jwt(
        ident.device_key, device_name=ident.device_name, subject=subject, app_id=app_id
    )


def _environ(info: ZoneInfo, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUCKYOS_")}
    env.update(BUCKYOS_ROOT=info.root, **extra)
    return env


def _urls(info: ZoneInfo) -> dict[str, str]:
    """Ports are free ones here, so name the routes (a default zone needs none)."""
    gateway = info.services["gateway"]["krpc_url"]
    return {
        "system_config": info.services["system_config"]["krpc_url"],
        "verify-hub": f"{gateway}/kapi/verify-hub",
    }


@pytest.mark.parametrize(
    ("runtime_type", "app_id", "owner", "env_key", "subject", "readable", "denied"),
    [
        (RuntimeType.KERNEL_SERVICE, "scheduler", None, "SCHEDULER_SESSION_TOKEN", "kernel",
         "system/rbac/policy", None),
        (RuntimeType.FRAME_SERVICE, "repo-service", None, "REPO_SERVICE_SESSION_TOKEN",
         "repo-service", "services/verify-hub/info", "boot/config"),
        (RuntimeType.APP_SERVICE, "my-app", "admin", "ADMIN_MY_APP_TOKEN", "admin",
         "users/admin/apps/my-app/settings", "users/admin/apps/other-app/settings"),
    ],
)  # fmt: skip
def test_service_types_log_in_with_the_handed_over_token(
    zone: ZoneInfo,
    runtime_type: RuntimeType,
    app_id: str,
    owner: str | None,
    env_key: str,
    subject: str,
    readable: str,
    denied: str | None,
) -> None:
    token = _handed_over(zone, subject, app_id)
    # A container gets its zone config from the environment (upstream does the same).
    zone_config = json.dumps({"id": zone.zone_did})
    rt = init_buckyos_api_runtime(
        app_id,
        owner,
        runtime_type,
        environ=_environ(
            zone,
            **{env_key: token},
            BUCKYOS_HOST_GATEWAY="127.0.0.1",
            BUCKYOS_ZONE_CONFIG=zone_config,
        ),
        service_urls=_urls(zone),
    )
    try:
        rt.login()
        info = rt.token_info()
        assert info is not None and info.app_id == app_id
        assert rt.boot_config is not None and "verify_hub_info" in rt.boot_config
        SystemConfigStub(rt).Get(key=readable)  # allowed for this role: no error
        if denied is not None:
            with pytest.raises(NoPermissionError, match=f"No write permission for key: {denied}"):
                SystemConfigStub(rt).Set(key=denied, value="{}")
    finally:
        rt.close()


def test_kernel_signs_with_the_node_key(zone: ZoneInfo) -> None:
    rt = init_buckyos_api_runtime(
        "node-daemon", None, RuntimeType.KERNEL, environ=_environ(zone), service_urls=_urls(zone)
    )
    try:
        rt.login()
        info = rt.token_info()
        assert info is not None and info.kid == "ood1" and info.app_id == "node-daemon"
        stub = SystemConfigStub(rt)
        stub.Set(key="nodes/ood1/config", value='{"ok": true}')
        assert stub.Get(key="nodes/ood1/config").value == '{"ok": true}'
    finally:
        rt.close()


def test_service_type_without_a_token_names_the_keys_tried(zone: ZoneInfo) -> None:
    with pytest.raises(ConfigError, match="SCHEDULER_SESSION_TOKEN"):
        rt = init_buckyos_api_runtime(
            "scheduler", None, RuntimeType.KERNEL_SERVICE, environ=_environ(zone)
        )
        rt.login()


def test_gateway_url_moves_the_gateway_route(zone: ZoneInfo) -> None:
    gateway = zone.services["gateway"]["krpc_url"]
    rt = init_buckyos_api_runtime(
        "node-daemon", None, RuntimeType.KERNEL, environ=_environ(zone), gateway_url=gateway
    )
    try:
        route = rt._routes.gateway("verify-hub")
        assert (route.kind, route.address, route.via) == (
            "krpc",
            f"{gateway}/kapi/verify-hub",
            "gateway",
        )
    finally:
        rt.close()
    with pytest.raises(ConfigError, match="gateway_url 'ftp://x': expected http"):
        init_buckyos_api_runtime(
            "node-daemon", None, RuntimeType.KERNEL, environ=_environ(zone), gateway_url="ftp://x"
        )
