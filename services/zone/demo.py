"""``make demo``: a whole zone on loopback, used the three ways a program can use it.

1. ``buckyos zone up`` in a temporary root (system_config, verify-hub, node gateway as
   separate processes, free ports);
2. an **AppClient** logs in by password at verify-hub and calls system_config through the
   generated ``SystemConfigStub`` over kRPC/HTTP, via the node gateway;
3. a **KernelService** (the token a node-daemon hands it, traded at verify-hub) does the
   same over **gRPC** straight to the instance, and **in-process** to a system_config
   binding living in its own process;
4. long work as a **task**: the AppClient creates a task with a SelfApp executor at
   task-manager, reports progress and commits a result, while a second client follows it
   on kevent (no polling: each change wakes it) and, when an event says the task ended,
   reads the final snapshot;
5. a transcript with per-transport call latency, then a clean teardown.

Exit 0 when every step worked; otherwise 1 with the step and the reason.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google.protobuf import json_format, struct_pb2

from buckyos.generated import task_manager_pb2 as tm
from buckyos.generated.system_config_rpc import SYSTEM_CONFIG, SystemConfigStub
from buckyos.generated.task_manager_rpc import TASK_MANAGER
from buckyos.generated.verify_hub_rpc import VERIFY_HUB
from buckyos.runtime import (
    BuckyOSError,
    RuntimeType,
    get_buckyos_api_runtime,
    init_buckyos_api_runtime,
    reset_buckyos_api_runtime,
    set_buckyos_api_runtime,
)
from buckyos.runtime.client import KEventClient
from buckyos.runtime.program import get_task_manager_client
from buckyos.runtime.security import make_service_login_jwt
from buckyos.runtime.server import serving
from buckyos.services.system_config import SqliteStore, build_binding

from .identity import load_identity
from .layout import ZoneLayout
from .zone import ZoneInfo, parse_ports, zone_down, zone_up

__all__ = ["main"]

DEMO_APP = "demo-app"
KERNEL_APP = "node-daemon"


class StepFailedError(Exception):
    """A demo step that did not do what it should; the message says which and why."""


@dataclass
class Timing:
    transport: str
    samples: list[float]

    def row(self) -> str:
        ms = sorted(s * 1000 for s in self.samples)
        p99 = ms[min(len(ms) - 1, round(len(ms) * 0.99))]
        return (
            f"  {self.transport:<34} {len(ms):>5} {statistics.fmean(ms):>8.2f} "
            f"{statistics.median(ms):>8.2f} {p99:>8.2f}"
        )


_SAY_LOCK = threading.Lock()


def _say(text: str) -> None:
    # One write per line under a lock: print() writes the text and its newline apart, so
    # the follower thread's lines could land between them (a CI run saw "created t-..."
    # and a follower line on one line).
    with _SAY_LOCK:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()


@contextlib.contextmanager
def _step(title: str) -> Iterator[None]:
    _say(f"- {title}")
    try:
        yield
    except BuckyOSError as err:
        raise StepFailedError(f"{title}: {type(err).__name__}: {err}") from err


def _round_trips(stub: SystemConfigStub, key: str, label: str, calls: int) -> Timing:
    """Set then Get ``calls`` times, checking every value read back; the per-call times."""
    samples: list[float] = []
    for i in range(calls):
        value = json.dumps({"writer": label, "n": i})
        start = time.perf_counter()
        stub.Set(key=key, value=value)
        middle = time.perf_counter()
        got = stub.Get(key=key)
        end = time.perf_counter()
        if got.value != value:
            raise StepFailedError(f"{label}: read back {got.value!r} after writing {value!r}")
        samples += [middle - start, end - middle]
    return Timing(label, samples)


def _app_client(info: ZoneInfo, calls: int) -> Timing:
    gateway = info.services["gateway"]["krpc_url"]
    with _step(f"AppClient {DEMO_APP}: log in by password as {info.admin_user}"):
        rt = init_buckyos_api_runtime(
            DEMO_APP,
            owner_user_id=info.admin_user,
            runtime_type=RuntimeType.APP_CLIENT,
            root=info.root,
            config_dir=Path(info.root) / "etc",
            service_urls={
                api: f"{gateway}/kapi/{api}" for api in (SYSTEM_CONFIG.api, VERIFY_HUB.api)
            },
        )
        result = rt.login_by_password(info.admin_user, info.admin_password)
        set_buckyos_api_runtime(rt)
        token = rt.token_info()
        assert token is not None
        _say(
            f"    logged in: user {result.user_info.user_id} ({result.user_info.user_type}), "
            f"session {token.session}, token expires in {int(token.expires_in(time.time()))} s"
        )
    key = f"users/{info.admin_user}/apps/{DEMO_APP}/settings"
    try:
        with _step(f"AppClient: SystemConfigStub Set/Get {key} over kRPC via the node gateway"):
            timing = _round_trips(
                SystemConfigStub(get_buckyos_api_runtime()), key, "kRPC/HTTP via gateway", calls
            )
            got = SystemConfigStub(get_buckyos_api_runtime()).Get(key=key)
            _say(f"    {key} = {got.value}  (revision {got.version})")
    finally:
        reset_buckyos_api_runtime()
    return timing


def _app_runtime(info: ZoneInfo) -> Any:
    """The demo app, logged in by password as the admin, reaching every service through
    the node gateway."""
    gateway = info.services["gateway"]["krpc_url"]
    apis = (SYSTEM_CONFIG.api, VERIFY_HUB.api, TASK_MANAGER.api, "kevent")
    rt = init_buckyos_api_runtime(
        DEMO_APP,
        owner_user_id=info.admin_user,
        runtime_type=RuntimeType.APP_CLIENT,
        root=info.root,
        config_dir=Path(info.root) / "etc",
        service_urls={api: f"{gateway}/kapi/{api}" for api in apis},
    )
    rt.login_by_password(info.admin_user, info.admin_password)
    return rt


def _follow(events: Any, tasks: Any, seen: list[str], done: threading.Event) -> None:
    """The second client: woken by each kevent of the task; at its end, reads it.  What
    went wrong is the last entry of ``seen``, for the main thread to report."""
    try:
        for event in events:
            # The event says what changed (the runner does not wait for the follower, so
            # the task may already be further on); at the end event, the task read from
            # task-manager is the truth.
            data = event.data
            change = f"{data['event_type']} -> {str(data['phase']).lower()}"
            seen.append(f"{change} (revision {data['revision']})")
            _say(f"    follower: kevent {event.eventid} {seen[-1]}")
            if data["phase"] == "Terminal":
                task = tasks.GetTask(task_id=data["task_id"]).task
                outcome = tm.TaskOutcome.Name(task.outcome).removeprefix("TASK_OUTCOME_")
                result = json_format.MessageToJson(task.result, indent=None)
                _say(f"    follower: final snapshot {outcome.lower()}, result {result}")
                done.set()
                return
    except Exception as exc:  # reported by the main thread, which waits on `done`
        seen.append(f"failed: {type(exc).__name__}: {exc}")


def _task_demo(info: ZoneInfo) -> None:
    with _step(f"AppClient {DEMO_APP}: log in again, for task-manager and kevent"):
        rt = _app_runtime(info)
    try:
        tasks = get_task_manager_client(rt)
        done = threading.Event()
        seen: list[str] = []
        gateway = info.services["gateway"]["krpc_url"]
        with (
            _step("follower: subscribe to /task_mgr/* on kevent via the node gateway"),
            KEventClient(f"{gateway}/kapi/kevent", token=rt.current_token) as kevent,
            kevent.subscribe(["/task_mgr/*"]) as events,
        ):
            follower = threading.Thread(
                target=_follow, args=(events, tasks, seen, done), daemon=True
            )
            follower.start()
            with _step("AppClient: create a task (SelfApp executor), run it, commit"):
                album = struct_pb2.Value()
                album.struct_value.update({"album": "summer"})
                task = tasks.CreateTask(
                    name="import album",
                    schema_id="raw/v1",  # one of task-manager's built-in schemas: any JSON
                    input=album,
                    executor=tm.CreateTaskExecutor(self_app=tm.SelfAppExecutor()),
                    idempotency_key=f"demo-import-{time.time_ns()}",
                ).task
                _say(f"    created {task.task_id}")
                tasks.runner_start(task.task_id)
                for done_count in (1, 2, 3):
                    tasks.runner_progress(
                        task.task_id, {"done": done_count, "total": 3}, f"copied {done_count}/3"
                    )
                tasks.runner_complete(task.task_id, {"photos": 3})
            with _step("follower: woken by kevent up to the task's end"):
                if not done.wait(15):
                    last = f" (last: {seen[-1]})" if seen else ""
                    raise StepFailedError(
                        f"the follower saw {len(seen)} events and not the task's end in 15 s{last}"
                    )
            follower.join(5)
    finally:
        rt.close()


def _kernel_runtime(info: ZoneInfo, service_urls: dict[str, str], *, inprocess: bool) -> Any:
    ident = load_identity(ZoneLayout(Path(info.root)))
    # What node-daemon does for a kernel service it starts: a device-signed login JWT.
    handed_over = make_service_login_jwt(
        ident.device_key, device_name=ident.device_name, subject="kernel", app_id=KERNEL_APP
    )
    rt = init_buckyos_api_runtime(
        KERNEL_APP,
        runtime_type=RuntimeType.KERNEL_SERVICE,
        root=info.root,
        config_dir=Path(info.root) / "etc",
        session_token=handed_over,
        service_urls=service_urls,
        inprocess=inprocess,
    )
    rt.login()
    return rt


def _kernel_grpc(info: ZoneInfo, calls: int) -> Timing:
    sc = info.services[SYSTEM_CONFIG.api]
    with _step(f"KernelService {KERNEL_APP}: log in with the token node-daemon hands over"):
        rt = _kernel_runtime(
            info, {SYSTEM_CONFIG.api: f"grpc://{sc['grpc_target']}"}, inprocess=False
        )
        set_buckyos_api_runtime(rt, tick=0.2)
        _wait_for(lambda: _traded(rt), 10)
        token = rt.token_info()
        assert token is not None
        _say(f"    token traded at verify-hub: iss {token.iss}, session {token.session}")
    try:
        key = f"services/{KERNEL_APP}/settings"
        with _step(f"KernelService: SystemConfigStub Set/Get {key} over gRPC, direct"):
            timing = _round_trips(SystemConfigStub(rt), key, "gRPC direct", calls)
            _say(f"    {key} = {SystemConfigStub(rt).Get(key=key).value}")
    finally:
        reset_buckyos_api_runtime()
    return timing


def _traded(rt: Any) -> bool:
    token = rt.token_info()
    return token is not None and bool(token.issued_by_verify_hub)


def _wait_for(done: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() > deadline:
            raise StepFailedError(f"gave up waiting after {seconds:g} s")
        time.sleep(0.05)


@contextlib.contextmanager
def _in_process_system_config(info: ZoneInfo) -> Iterator[None]:
    """A system_config binding in this process, on the zone's own database file."""
    ident = load_identity(ZoneLayout(Path(info.root)))
    store = SqliteStore(ident.layout.system_config_db)
    binding = build_binding(
        store,
        owner_key=ident.owner_key.public_key(),
        owner_did=ident.owner_did,
        device_name=ident.device_name,
        device_key=ident.device_key.public_key(),
        device_did=ident.device_did,
    )
    ready = threading.Event()
    stop: asyncio.Event | None = None
    loop: asyncio.AbstractEventLoop | None = None

    async def host() -> None:
        nonlocal stop, loop
        stop, loop = asyncio.Event(), asyncio.get_running_loop()
        async with serving(binding, krpc_port=None, grpc_port=None):
            await binding.init()
            ready.set()
            await stop.wait()

    thread = threading.Thread(target=asyncio.run, args=(host(),), daemon=True)
    thread.start()
    if not ready.wait(15):
        raise StepFailedError("the in-process system_config did not start in 15 s")
    try:
        yield
    finally:
        if loop is not None and stop is not None:
            loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        binding.close()
        store.close()


def _kernel_inprocess(info: ZoneInfo, calls: int) -> Timing:
    with _step("KernelService: a system_config binding in this process, registered in-process"):
        hosting = _in_process_system_config(info)
        hosting.__enter__()
    try:
        rt = _kernel_runtime(info, {}, inprocess=True)
        set_buckyos_api_runtime(rt, tick=0.2)
        try:
            key = f"services/{KERNEL_APP}/settings"
            with _step(f"KernelService: SystemConfigStub Set/Get {key} in-process"):
                timing = _round_trips(SystemConfigStub(rt), key, "in-process", calls)
        finally:
            reset_buckyos_api_runtime()
    finally:
        hosting.__exit__(None, None, None)
    return timing


def run(root: Path, calls: int) -> None:
    with _step(f"zone up in {root} (free ports)"):
        info = zone_up(root, ports=parse_ports("auto"), apps=(DEMO_APP,))
    try:
        for name, entry in info.services.items():
            grpc = f", gRPC {entry['grpc_target']}" if "grpc_target" in entry else ""
            _say(f"    {name:<14} kRPC {entry['krpc_url']}{grpc}  (pid {entry['pid']})")
        _say(f"    admin user {info.admin_user}, password {info.admin_password}")
        timings = [
            _app_client(info, calls),
            _kernel_grpc(info, calls),
            _kernel_inprocess(info, calls),
        ]
        _task_demo(info)
    finally:
        with _step("zone down"):
            stopped = zone_down(root)
            _say("    stopped " + ", ".join(name for name, ran in stopped.items() if ran))
    _say("")
    _say(f"  {'call latency (Set and Get, ms)':<34} {'calls':>5} {'mean':>8} {'p50':>8} {'p99':>8}")
    for timing in timings:
        _say(timing.row())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make demo", description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100, help="Set+Get pairs per transport")
    parser.add_argument("--root", type=Path, help="zone root (default: a temporary folder)")
    args = parser.parse_args(argv)
    _say("BuckyOS local zone demo")
    try:
        if args.root is not None:
            run(args.root, args.calls)
        else:
            with tempfile.TemporaryDirectory(prefix="buckyos-demo-") as tmp:
                run(Path(tmp) / "zone", args.calls)
    except (StepFailedError, BuckyOSError) as err:
        print(f"demo FAILED: {err}", file=sys.stderr, flush=True)
        return 1
    _say("demo OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
