"""The keep-alive over real sockets: trade, renewal across expiry, re-login, the instance
record, degraded health and recovery, and clean shutdown.  Time travels by moving the
shared clock forward (every party reads it), never by sleeping through token lifetimes."""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from buckyos.generated.system_config_rpc import SystemConfigStub
from buckyos.runtime.errors import InvalidTokenError
from buckyos.runtime.program.config import RuntimeType, load_config
from buckyos.runtime.program.keepalive import renew_action
from buckyos.runtime.program.runtime import BuckyOSRuntime, RetryPolicy
from buckyos.runtime.security.session_token import parse_unverified
from buckyos.runtime.security.token_signing import make_service_login_jwt
from tests.runtime_fakes import Zone, fake_zone

FAST = RetryPolicy(1, 0.01, 0.01, 0.0)
QUICK = {"tick": 0.02, "backoff_base": 0.01, "backoff_max": 0.02}


@pytest.fixture
def zone() -> Iterator[Zone]:
    with fake_zone() as made:
        yield made


def wait_for(condition: Callable[[], bool], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


def node_daemon(zone: Zone, tmp_path: Path) -> BuckyOSRuntime:
    """A Kernel runtime: it holds the device key, so it can sign a new login."""
    zone.write_etc(tmp_path / "etc", device_key=True)
    config = load_config(RuntimeType.KERNEL, "node-daemon", environ={"BUCKYOS_ROOT": str(tmp_path)})
    rt = BuckyOSRuntime(
        config,
        system_config_url=zone.url,
        service_urls={"verify-hub": zone.url},
        login_retry=FAST,
        clock=zone.clock,
    )
    rt.login()
    return rt


def test_renew_decisions() -> None:
    hub = parse_unverified(
        "eyJhbGciOiJFZERTQSIsImtpZCI6InZlcmlmeS1odWIifQ."
        "eyJzdWIiOiJhbGljZSIsImlzcyI6InZlcmlmeS1odWIiLCJleHAiOjEwMDB9.c2ln"
    )
    own = parse_unverified("eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJhbGljZSIsImV4cCI6MTAwMH0.c2ln")
    assert renew_action(None, False, 0, 30) == "none"
    assert renew_action(own, False, 0, 30) == "trade"
    assert renew_action(hub, True, 900, 30) == "none"
    assert renew_action(hub, True, 975, 30) == "refresh"
    assert renew_action(hub, False, 975, 30) == "relogin"
    assert renew_action(hub, True, 5000, 30) == "refresh"  # expired: the refresh token lives on


def test_trade_then_renew_across_expiry(zone: Zone, tmp_path: Path) -> None:
    rt = node_daemon(zone, tmp_path)
    keepalive = rt.keepalive(**QUICK)
    keepalive.run_once()
    assert zone.hub.calls == ["login_by_jwt"]
    first = rt.session_token or ""
    assert parse_unverified(first).iss == "verify-hub"
    keepalive.run_once()
    assert zone.hub.calls == ["login_by_jwt"]  # fresh: nothing to do
    # Past the first token's expiry (and the verifier's 60 s leeway).
    zone.clock.offset += 2000
    keepalive.run_once()
    assert zone.hub.calls == ["login_by_jwt", "refresh_token"]
    second = rt.session_token or ""
    assert parse_unverified(second).exp > parse_unverified(first).exp
    assert SystemConfigStub(rt).Get(key="boot/config").HasField("value")
    assert zone.config.tokens[-1] == second
    with pytest.raises(InvalidTokenError, match="ExpiredSignature"):
        SystemConfigStub(rt.with_token(first)).Get(key="boot/config")
    assert rt.health().state == "stopped"  # run by hand: no thread, no task
    assert rt.health().token_expires_at == parse_unverified(second).exp
    rt.close()


def test_relogin_when_the_refresh_is_refused(zone: Zone, tmp_path: Path) -> None:
    rt = node_daemon(zone, tmp_path)
    keepalive = rt.keepalive(**QUICK)
    keepalive.run_once()
    before = rt.session_token
    zone.hub.refuse_refresh = True  # as after a verify-hub restart (upstream #516)
    zone.clock.offset += 890
    keepalive.run_once()
    assert zone.hub.calls == ["login_by_jwt", "refresh_token", "login_by_jwt"]
    assert rt.session_token != before
    assert parse_unverified(rt.session_token or "").iss == "verify-hub"
    assert keepalive.tasks["renew_token"].failures == 0
    rt.close()


def test_degraded_then_recovered_in_the_background_thread(zone: Zone, tmp_path: Path) -> None:
    rt = node_daemon(zone, tmp_path)
    keepalive = rt.start_keepalive(degrade_after=3, **QUICK)
    try:
        wait_for(lambda: zone.hub.calls == ["login_by_jwt"] and rt.health().state == "ok")
        zone.hub.unavailable = True
        zone.clock.offset += 890
        wait_for(lambda: rt.health().state == "degraded")
        health = rt.health()
        assert health.last_error is not None
        assert "verify-hub temporarily unavailable" in health.last_error
        assert health.tasks["renew_token"].failures >= 3
        # Retryable failures back off and never trigger a new login.
        assert "login_by_jwt" not in zone.hub.calls[1:]
        zone.hub.unavailable = False
        wait_for(lambda: rt.health().state == "ok")
        assert rt.health().last_error is None
        assert parse_unverified(rt.session_token or "").exp > zone.clock() + 800
    finally:
        rt.close()
    assert not keepalive.running
    assert rt.health().state == "stopped"


def test_services_write_their_instance_record(zone: Zone, tmp_path: Path) -> None:
    zone.write_etc(tmp_path / "etc")
    handed = make_service_login_jwt(
        zone.keys.device[0], device_name="ood1", subject="ood1", app_id="test-kernel-svc"
    )
    env = {"BUCKYOS_ROOT": str(tmp_path), "TEST_KERNEL_SVC_SESSION_TOKEN": handed}
    config = load_config(RuntimeType.KERNEL_SERVICE, "test-kernel-svc", environ=env)
    rt = BuckyOSRuntime(
        config,
        system_config_url=zone.url,
        service_urls={"verify-hub": zone.url},
        login_retry=FAST,
        clock=zone.clock,
    )
    rt.login()
    rt.set_main_service_port(4100, grpc_port=4101)
    keepalive = rt.keepalive(**QUICK)
    keepalive.run_once()
    key = "services/test-kernel-svc/instances/ood1"
    record = json.loads(zone.config.data[key])
    assert record["instance_id"] == "test-kernel-svc-ood1"
    assert (record["node_id"], record["node_did"]) == ("ood1", "did:web:ood1.zone")
    assert record["state"] == "started" and record["health"] == "healthy"
    assert record["service_ports"] == {"www": 4100, "grpc": 4101}
    assert record["pid"] == os.getpid()
    assert record["expires_at"] - record["last_update_time"] == 90
    # The record was written with the verify-hub session, after the trade.
    assert parse_unverified(zone.config.tokens[-1] or "").iss == "verify-hub"
    zone.config.data[key] = "marker"
    keepalive.run_once()
    assert zone.config.data[key] == "marker"  # next write in 30 s, not every tick
    zone.clock.offset += 31
    keepalive.run_once()
    assert json.loads(zone.config.data[key])["last_update_time"] >= int(zone.clock()) - 1
    rt.close()


def test_a_failing_instance_record_degrades_at_once(zone: Zone, tmp_path: Path) -> None:
    zone.write_etc(tmp_path / "etc")
    handed = make_service_login_jwt(
        zone.keys.device[0], device_name="ood1", subject="ood1", app_id="test-kernel-svc"
    )
    env = {"BUCKYOS_ROOT": str(tmp_path), "TEST_KERNEL_SVC_SESSION_TOKEN": handed}
    rt = BuckyOSRuntime(
        load_config(RuntimeType.KERNEL_SERVICE, "test-kernel-svc", environ=env),
        system_config_url=zone.url,
        service_urls={"verify-hub": zone.url},
        clock=zone.clock,
    )
    rt.login()
    keepalive = rt.start_keepalive(**QUICK)
    try:
        wait_for(lambda: "services/test-kernel-svc/instances/ood1" in zone.config.data)
        zone.config.fail_next = [InvalidTokenError("boom")]
        zone.clock.offset += 31
        wait_for(lambda: keepalive.tasks["update_service_instance_info"].failures >= 1)
        assert rt.health().state == "degraded"
        wait_for(lambda: rt.health().state == "ok")  # the next write succeeds
    finally:
        rt.close()


def test_thread_stops_cleanly_and_does_not_spin(zone: Zone, tmp_path: Path) -> None:
    rt = node_daemon(zone, tmp_path)
    keepalive = rt.start_keepalive(tick=0.05)
    assert any(t.name == "buckyos-keepalive" for t in threading.enumerate())
    started = time.monotonic()
    wait_for(lambda: keepalive.ticks >= 3)
    time.sleep(0.2)
    elapsed = time.monotonic() - started
    assert keepalive.ticks <= elapsed / 0.05 + 2
    rt.close()
    assert not any(t.name == "buckyos-keepalive" for t in threading.enumerate())
    assert rt.health().state == "stopped"


def test_task_mode_in_asyncio_stops_cleanly(zone: Zone, tmp_path: Path) -> None:
    rt = node_daemon(zone, tmp_path)

    async def main() -> None:
        keepalive = rt.start_keepalive(tick=0.02)
        assert keepalive._task is not None and keepalive._thread is None
        for _ in range(200):
            if zone.hub.calls:
                break
            await asyncio.sleep(0.01)
        assert zone.hub.calls == ["login_by_jwt"]
        assert rt.health().state == "ok"
        await rt.aclose()
        assert keepalive._task.done()
        assert rt.health().state == "stopped"

    asyncio.run(main())
