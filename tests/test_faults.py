"""Faults with real processes: kill -9, restarts, a stopped gateway.

1. system_config is killed (``kill -9``) while four clients stream writes over kRPC and
   gRPC; restarted on the same file, it has every write that was acknowledged.
   (``test_sys_config_process.py`` kills it *after* the last reply; here writes are in
   flight.)
2. Two system_config processes share one store; one is killed while clients call
   through a ``Router``: idempotent calls fail over and no caller sees an error.
   (``test_routing.py`` stops an in-process instance gracefully; here it is ``kill -9``.)
3. A zone's verify-hub is killed and restarted while an AppClient's keep-alive refreshes
   its session: the same session keeps refreshing, no re-login.
   (``test_verify_hub_process.py`` checks one refresh after a restart, without a runtime.)
4. The zone's node gateway is stopped: a KernelService (best performance: direct
   instances first, gateway last) keeps calling verify-hub without an error.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from buckyos.generated.system_config_rpc import SystemConfigStub
from buckyos.generated.verify_hub_rpc import VerifyHubStub
from buckyos.runtime.client.grpc_client import GrpcTransport
from buckyos.runtime.client.krpc_client import KrpcTransport
from buckyos.runtime.client.resolve import Endpoint
from buckyos.runtime.client.routing import Router
from buckyos.runtime.errors import BuckyOSError, RPCError
from buckyos.runtime.program.runtime import (
    RuntimeType,
    init_buckyos_api_runtime,
    reset_buckyos_api_runtime,
    set_buckyos_api_runtime,
)
from buckyos.runtime.security.session_token import parse_unverified
from buckyos.runtime.security.token_signing import make_service_login_jwt
from buckyos.services.zone import (
    ZoneInfo,
    ZoneLayout,
    load_identity,
    parse_ports,
    zone_down,
    zone_up,
)
from buckyos.services.zone.supervisor import start_service, stop_pid
from tests.reliability_fixtures import ScProcess, kill_9

WRITERS = 4


def wait_for(done: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {seconds:g} s waiting for {what}")
        time.sleep(0.02)


# --------------------------------------------------------------------------- 1. kill -9 mid-stream


def test_kill_9_during_a_stream_of_writes_loses_no_acknowledged_write(tmp_path: Path) -> None:
    process = ScProcess(tmp_path / "sc").start()
    acked: dict[str, str] = {}
    failed: list[str] = []
    lock = threading.Lock()

    def writer(index: int) -> None:
        transport: KrpcTransport | GrpcTransport
        if index % 2:
            transport = GrpcTransport(process.grpc_target, token=process.root_token)
        else:
            transport = KrpcTransport(process.krpc_url, token=process.root_token)
        stub = SystemConfigStub(transport, timeout=5)
        deadline = time.monotonic() + 20
        with transport:
            for n in itertools.count():
                key, value = f"stream/w{index}/k{n}", f"value {index}.{n}"
                try:
                    stub.Set(key=key, value=value)
                except RPCError as exc:  # the kill: this write's fate is unknown
                    with lock:
                        failed.append(f"{key}: {exc}")
                    return
                with lock:
                    acked[key] = value
                if time.monotonic() > deadline:
                    return

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
    try:
        for thread in threads:
            thread.start()
        wait_for(lambda: len(acked) >= 200, 20, "200 acknowledged writes")
        process.kill()  # while the writers are mid-call
        for thread in threads:
            thread.join(15)
        assert not any(thread.is_alive() for thread in threads)
        assert len(failed) == WRITERS, failed  # every writer saw the kill
        process.start()  # same file, same ports
        with KrpcTransport(process.krpc_url, token=process.root_token) as transport:
            stub = SystemConfigStub(transport)
            lost = {k: v for k, v in acked.items() if stub.Get(key=k).value != v}
        assert lost == {}, f"{len(lost)} of {len(acked)} acknowledged writes lost"
    finally:
        process.stop()


# --------------------------------------------------------------------------- 2. instance killed


def test_an_instance_killed_under_load_costs_idempotent_callers_nothing(tmp_path: Path) -> None:
    first = ScProcess(tmp_path / "a").start()
    second = ScProcess(tmp_path / "b", owner=first.owner, db=first.db).start()
    try:
        with KrpcTransport(first.krpc_url, token=first.root_token) as transport:
            SystemConfigStub(transport).Set(key="services/notes/settings", value="shared")
        endpoints = (
            Endpoint("krpc", first.url, "direct", "a"),
            Endpoint("grpc", second.grpc_target, "direct", "b"),
        )

        def candidates(api: str) -> Sequence[Endpoint]:
            return endpoints

        router = Router(candidates, token=first.root_token, timeout=5)
        answers: list[str] = []
        errors: list[BaseException] = []
        stop = threading.Event()

        def caller() -> None:
            stub = SystemConfigStub(router)
            deadline = time.monotonic() + 20
            while not stop.is_set() and time.monotonic() < deadline:
                try:
                    answers.append(stub.Get(key="services/notes/settings").value)
                except BaseException as exc:  # any error fails the test
                    errors.append(exc)
                    return

        threads = [threading.Thread(target=caller) for _ in range(WRITERS)]
        for thread in threads:
            thread.start()
        try:
            wait_for(lambda: len(answers) >= 100, 15, "100 answers before the kill")
            first.kill()
            killed_at = len(answers)
            wait_for(lambda: len(answers) >= killed_at + 200, 15, "200 answers after the kill")
        finally:
            stop.set()
            for thread in threads:
                thread.join(10)
        assert errors == []
        assert set(answers) == {"shared"}
        assert endpoints[0] in router.dead()
        router.close()
    finally:
        first.stop()
        second.stop()


# --------------------------------------------------------------------------- a zone for 3 and 4


@pytest.fixture(scope="module")
def zone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ZoneInfo]:
    root = tmp_path_factory.mktemp("faults") / "zone"
    info = zone_up(root, ports=parse_ports("auto"), apps=("notes",))
    try:
        yield info
    finally:
        reset_buckyos_api_runtime()
        zone_down(root, grace=5.0)


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/", 1)[0])


def restart_verify_hub(info: ZoneInfo) -> None:
    """kill -9 verify-hub, then start it again with the same options on the same ports."""
    entry = info.services["verify-hub"]
    with open(f"/proc/{entry['pid']}/cmdline", "rb") as f:
        argv = [a.decode() for a in f.read().split(b"\0") if a]
    args = argv[argv.index("buckyos.services.verify_hub") + 1 :]
    ports = {"--krpc-port": _port(entry["krpc_url"]), "--grpc-port": _port(entry["grpc_target"])}
    args = [
        str(ports[args[i - 1]]) if i and args[i - 1] in ports else a for i, a in enumerate(args)
    ]
    kill_9(entry["pid"])
    started = start_service(
        "verify-hub",
        "buckyos.services.verify_hub",
        args,
        Path(entry["log"]),
        expect=("kRPC", "gRPC"),
    )
    assert started.addresses["kRPC"] == entry["krpc_url"]
    entry["pid"] = started.pid
    # zone_down stops the pids its run file names: point it at the new process.
    run_file = ZoneLayout(Path(info.root)).run_file
    run = json.loads(run_file.read_text())
    run["pids"]["verify-hub"] = started.pid
    run_file.write_text(json.dumps(run))


def test_verify_hub_restart_keeps_the_session_refreshing(zone: ZoneInfo) -> None:
    sc = zone.services["system_config"]["krpc_url"]
    hub = zone.services["verify-hub"]["krpc_url"]
    rt = init_buckyos_api_runtime(
        "notes",
        owner_user_id=zone.admin_user,
        runtime_type=RuntimeType.APP_CLIENT,
        root=zone.root,
        config_dir=Path(zone.root) / "etc",
        service_urls={
            "system_config": f"{sc}/kapi/system_config",
            "verify-hub": f"{hub}/kapi/verify-hub",
        },
    )
    try:
        rt.login_by_password(zone.admin_user, zone.admin_password)
        session = parse_unverified(rt.session_token or "").session
        refreshed: list[str] = []

        def count() -> int:
            token = rt.refresh_token or ""
            if not refreshed or refreshed[-1] != token:
                refreshed.append(token)
            return len(refreshed)

        # The keep-alive's clock runs 880 s ahead: every session token it sees expires
        # within its 30 s renewal window, so it refreshes on every tick.
        set_buckyos_api_runtime(
            rt, tick=0.05, backoff_base=0.1, backoff_max=0.3, clock=lambda: time.time() + 880
        )
        wait_for(lambda: count() >= 4, 10, "refreshes before the restart")
        restart_verify_hub(zone)
        after = count()
        wait_for(lambda: count() >= after + 4, 20, "refreshes after the restart")
        token = parse_unverified(rt.session_token or "")
        assert token.session == session  # refreshed, not logged in again
        assert token.issued_by_verify_hub
        wait_for(lambda: rt.health().state == "ok", 5, "a healthy runtime")
        VerifyHubStub(rt).VerifyToken(session_token=rt.session_token or "")
    finally:
        reset_buckyos_api_runtime()


# --------------------------------------------------------------------------- 4. gateway stopped


def test_best_performance_callers_outlive_the_gateway(
    zone: ZoneInfo,
) -> None:
    gateway = zone.services["gateway"]
    ident = load_identity(ZoneLayout(Path(zone.root)))
    handed_over = make_service_login_jwt(
        ident.device_key, device_name=ident.device_name, subject="kernel", app_id="node-daemon"
    )
    rt = init_buckyos_api_runtime(
        "node-daemon",
        runtime_type=RuntimeType.KERNEL_SERVICE,
        root=zone.root,
        config_dir=Path(zone.root) / "etc",
        session_token=handed_over,
        system_config_url=zone.services["system_config"]["krpc_url"],
        # A node's gateway listens on 3180; this zone's on a free port.
        gateway_url=gateway["krpc_url"],
        inprocess=False,
    )
    try:
        rt.login()
        routes = rt._routes.candidates("verify-hub")
        assert [e.via for e in routes] == ["direct", "direct", "gateway"], routes
        hub = VerifyHubStub(rt)
        pair = hub.LoginByJwt(jwt=handed_over)
        errors: list[BaseException] = []
        calls = [0]
        stop = threading.Event()

        def caller() -> None:
            deadline = time.monotonic() + 20
            while not stop.is_set() and time.monotonic() < deadline:
                try:
                    hub.VerifyToken(session_token=pair.session_token)
                    calls[0] += 1
                except BaseException as exc:
                    errors.append(exc)
                    return

        threads = [threading.Thread(target=caller) for _ in range(WRITERS)]
        for thread in threads:
            thread.start()
        try:
            wait_for(lambda: calls[0] >= 50, 10, "calls before the gateway stops")
            assert stop_pid(gateway["pid"], grace=5.0)
            stopped_at = calls[0]
            # The maximum-compatibility route is really gone ...
            with pytest.raises(BuckyOSError), KrpcTransport(gateway["krpc_url"]) as direct:
                VerifyHubStub(direct, timeout=2).VerifyToken(session_token=pair.session_token)
            # ... and the best-performance callers did not notice.
            wait_for(lambda: calls[0] >= stopped_at + 100, 10, "calls after the gateway stopped")
        finally:
            stop.set()
            for thread in threads:
                thread.join(10)
        assert errors == []
    finally:
        reset_buckyos_api_runtime()
        rt.close()
