"""The runtime's service clients (``program/clients.py``), task-manager's conveniences
(``program/tasks.py``) and the task-dispatcher route rule (``program/routes.py``).

Against ``tests/task_fixtures.py``: task-manager, task-dispatcher and system_config in one
Binding on real kRPC and gRPC ports, and the in-test kevent (``tests/kevent_fake.py``).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format

from buckyos.generated import task_manager_pb2 as tm, task_manager_rpc as rpc
from buckyos.generated.aicc_rpc import AiccStub, AsyncAiccStub
from buckyos.generated.kmsg_rpc import AsyncKmsgStub, KmsgStub
from buckyos.generated.msg_center_rpc import AsyncMsgCenterStub, MsgCenterStub
from buckyos.generated.repo_service_rpc import AsyncRepoServiceStub, RepoServiceStub
from buckyos.generated.scheduler_rpc import AsyncSchedulerStub, SchedulerStub
from buckyos.generated.task_dispatcher_rpc import (
    TASK_DISPATCHER,
    AsyncTaskDispatcherStub,
    TaskDispatcherStub,
)
from buckyos.generated.workflow_rpc import AsyncWorkflowStub, WorkflowStub
from buckyos.runtime.client.krpc_client import KrpcTransport
from buckyos.runtime.client.resolve import Endpoint
from buckyos.runtime.errors import ConfigError, TransportError
from buckyos.runtime.program import (
    SERVICE_TIMEOUTS,
    AsyncTaskManagerClient,
    BuckyOSRuntime,
    DeviceConfig,
    RuntimeConfig,
    RuntimeType,
    TaskManagerClient,
    get_aicc_client,
    get_async_aicc_client,
    get_async_kmsg_client,
    get_async_msg_center_client,
    get_async_repo_service_client,
    get_async_scheduler_client,
    get_async_task_dispatcher_client,
    get_async_task_manager_client,
    get_async_workflow_client,
    get_kmsg_client,
    get_msg_center_client,
    get_repo_service_client,
    get_scheduler_client,
    get_task_dispatcher_client,
    get_task_manager_client,
    get_workflow_client,
    reset_buckyos_api_runtime,
    set_buckyos_api_runtime,
)
from buckyos.runtime.program.tasks import EndWait, runner_envelope
from buckyos.runtime.wire import registry
from tests.kevent_fake import FakeKEvent, served_kevent
from tests.task_fixtures import TaskZone, served_tasks
from tests.wire_fixtures import free_port

ROOT = Path(__file__).resolve().parent.parent
WAIT = 10.0


@pytest.fixture
def kevent() -> Iterator[FakeKEvent]:
    with served_kevent() as server:
        yield server


@pytest.fixture
def zone(kevent: FakeKEvent) -> Iterator[TaskZone]:
    with served_tasks(kevent) as served:
        yield served


def make_runtime(
    token: str | None,
    runtime_type: RuntimeType = RuntimeType.APP_CLIENT,
    *,
    zone_did: str | None = None,
    device: DeviceConfig | None = None,
    **options: Any,
) -> BuckyOSRuntime:
    config = RuntimeConfig(
        runtime_type,
        "task-test",
        None,
        "alice",
        Path("/nonexistent-buckyos-root"),
        None,
        zone_did=zone_did,
        device=device,
        force_https=False,
        session_token=token,
    )
    return BuckyOSRuntime(config, inprocess=False, **options)


@pytest.fixture
def rt(zone: TaskZone, kevent: FakeKEvent) -> Iterator[BuckyOSRuntime]:
    urls = {"task-manager": zone.task_manager_url, "kevent": kevent.url}
    with make_runtime(zone.alice, service_urls=urls) as runtime:
        yield runtime


def create(client: rpc.TaskManagerStub, key: str) -> tm.Task:
    return client.CreateTask(
        name="import album",
        schema_id="raw/v1",
        input=json_format.ParseDict({"album": "x"}, tm.Task().input),
        executor=tm.CreateTaskExecutor(self_app=tm.SelfAppExecutor(app_instance_id="photos@alice")),
        idempotency_key=key,
    ).task


async def acreate(client: rpc.AsyncTaskManagerStub, key: str) -> tm.Task:
    """A task with no instance bound (SelfApp without app_instance_id)."""
    answer = await client.CreateTask(
        name=key,
        schema_id="raw/v1",
        input=json_format.ParseDict({}, tm.Task().input),
        executor=tm.CreateTaskExecutor(self_app=tm.SelfAppExecutor()),
        idempotency_key=key,
    )
    return answer.task


def later(seconds: float, action: Callable[[], object]) -> threading.Thread:
    def run() -> None:
        time.sleep(seconds)
        action()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


# --------------------------------------------------------------------------- accessors


def test_every_accessor_gives_its_stub_with_the_services_timeout(rt: BuckyOSRuntime) -> None:
    sync: dict[str, tuple[Any, type[Any]]] = {
        "task-manager": (get_task_manager_client, TaskManagerClient),
        "task-dispatcher": (get_task_dispatcher_client, TaskDispatcherStub),
        "aicc": (get_aicc_client, AiccStub),
        "msg-center": (get_msg_center_client, MsgCenterStub),
        "kmsg": (get_kmsg_client, KmsgStub),
        "repo-service": (get_repo_service_client, RepoServiceStub),
        "scheduler": (get_scheduler_client, SchedulerStub),
        "workflow": (get_workflow_client, WorkflowStub),
    }
    asynchronous: dict[str, tuple[Any, type[Any]]] = {
        "task-manager": (get_async_task_manager_client, AsyncTaskManagerClient),
        "task-dispatcher": (get_async_task_dispatcher_client, AsyncTaskDispatcherStub),
        "aicc": (get_async_aicc_client, AsyncAiccStub),
        "msg-center": (get_async_msg_center_client, AsyncMsgCenterStub),
        "kmsg": (get_async_kmsg_client, AsyncKmsgStub),
        "repo-service": (get_async_repo_service_client, AsyncRepoServiceStub),
        "scheduler": (get_async_scheduler_client, AsyncSchedulerStub),
        "workflow": (get_async_workflow_client, AsyncWorkflowStub),
    }
    assert set(sync) == set(asynchronous) == set(SERVICE_TIMEOUTS)
    assert SERVICE_TIMEOUTS["aicc"] == 120.0
    assert {t for api, t in SERVICE_TIMEOUTS.items() if api != "aicc"} == {15.0}
    for table in (sync, asynchronous):
        for api, (accessor, cls) in table.items():
            client = accessor(rt)
            assert type(client) is cls, api
            assert client._invoker is rt and client._timeout == SERVICE_TIMEOUTS[api], api
            assert accessor(rt, timeout=3.0)._timeout == 3.0
    with pytest.raises(ValueError, match="timeout must be > 0"):
        get_aicc_client(rt, timeout=0)


def test_the_timeout_bounds_each_call(rt: BuckyOSRuntime) -> None:
    started = time.monotonic()
    with pytest.raises(TransportError, match=r"timed out|timeout"):
        get_task_manager_client(rt, timeout=0.3).GetTask(task_id="t-slow")
    assert time.monotonic() - started < 0.9
    # with_timeout keeps the conveniences (and the kevent the wait uses)
    client = get_task_manager_client(rt).with_timeout(2.0)
    assert type(client) is TaskManagerClient and client._kevent is not None


def test_the_registered_runtime_is_the_default(zone: TaskZone) -> None:
    runtime = make_runtime(zone.alice, service_urls={"task-manager": zone.task_manager_url})
    with pytest.raises(ConfigError, match="not initialized"):
        get_task_manager_client()
    set_buckyos_api_runtime(runtime)  # no zone: no keep-alive
    try:
        task = create(get_task_manager_client(), "default-rt")
        assert get_task_manager_client().GetTask(task_id=task.task_id).task == task
    finally:
        assert reset_buckyos_api_runtime() is runtime


# --------------------------------------------------------------------------- conveniences


def test_cancel_task(zone: TaskZone, rt: BuckyOSRuntime) -> None:
    client = get_task_manager_client(rt)
    task = create(client, "cancel")
    answer = client.cancel_task(task.task_id)
    assert answer.WhichOneof("result") == "task"
    pending = answer.task.task.pending_control
    assert pending.action == tm.TASK_CONTROL_ACTION_CANCEL
    assert re.fullmatch(r"ctl-[0-9a-f]{32}", pending.request_id)
    batch = client.cancel_task(task.task_id, recursive=True)
    assert list(batch.batch.result.requested) == [task.task_id]
    first, second = zone.tasks.controls
    assert (first.recursive, second.recursive) == (False, True)
    assert first.request_id != second.request_id  # a fresh id per request
    with pytest.raises(rpc.TaskNotFoundError):
        client.cancel_task("t-none")


def test_runner_helpers_fill_the_envelope_from_the_snapshot(
    zone: TaskZone, rt: BuckyOSRuntime
) -> None:
    client = get_task_manager_client(rt)
    task = create(client, "runner")
    assert runner_envelope(task) == tm.RunnerWriteEnvelope(
        task_id=task.task_id, app_instance_id="photos@alice", runner_epoch=1, expected_revision=1
    )
    started = client.runner_start(task.task_id)
    assert (started.phase, started.revision) == (tm.TASK_PHASE_RUNNING, 2)
    writes = len(zone.tasks.writes)
    assert client.runner_start(task.task_id) == started  # Running: passes, nothing written
    assert len(zone.tasks.writes) == writes
    progressed = client.runner_progress(task.task_id, {"done": 3, "total": 10}, "copying")
    assert json_format.MessageToDict(progressed.progress) == {"done": 3, "total": 10}
    assert progressed.message == "copying"
    waiting = client.runner_wait(
        task.task_id, tm.TaskWaitReason(kind=tm.TASK_WAIT_REASON_KIND_EXTERNAL)
    )
    assert waiting.phase == tm.TASK_PHASE_WAITING
    assert waiting.wait_reason.kind == tm.TASK_WAIT_REASON_KIND_EXTERNAL
    assert client.runner_start(task.task_id).phase == tm.TASK_PHASE_RUNNING  # report_running
    done = client.runner_complete(task.task_id, {"count": 10})
    assert (done.phase, done.outcome) == (tm.TASK_PHASE_TERMINAL, tm.TASK_OUTCOME_SUCCEEDED)
    assert json_format.MessageToDict(done.result) == {"count": 10}
    writes = len(zone.tasks.writes)
    assert client.runner_complete(task.task_id, {"count": 11}) == done  # Terminal: as it is
    assert client.runner_fail(task.task_id, "late") == done
    assert client.runner_progress(task.task_id, message="x") == done
    assert len(zone.tasks.writes) == writes

    other = create(client, "runner-fail")
    failed = client.runner_fail(other.task_id, "download_failed", "404", {"url": "x"})
    assert (failed.phase, failed.outcome) == (tm.TASK_PHASE_TERMINAL, tm.TASK_OUTCOME_FAILED)
    assert (failed.error.code, failed.error.message) == ("download_failed", "404")
    assert json_format.MessageToDict(failed.error.detail) == {"url": "x"}
    with pytest.raises(ValueError, match="needs an error code"):
        client.runner_fail(other.task_id, "")


def test_a_revision_conflict_is_retried_once(zone: TaskZone, rt: BuckyOSRuntime) -> None:
    client = get_task_manager_client(rt)
    task = create(client, "conflict")
    client.runner_start(task.task_id)
    reads = zone.tasks.reads[task.task_id]
    zone.tasks.conflicts = 1  # the first write meets a concurrent one
    progressed = client.runner_progress(task.task_id, message="after a race")
    assert progressed.message == "after a race"
    assert progressed.revision == 4  # 2 (started) + the concurrent write + ours
    assert zone.tasks.reads[task.task_id] == reads + 2  # read, conflict, read again
    zone.tasks.conflicts = 2  # raced twice: the second conflict is the caller's
    with pytest.raises(rpc.RevisionConflictError) as err:
        client.runner_progress(task.task_id, message="raced twice")
    assert err.value.text == "Failed due to reason: revision_conflict: expected revision 5, found 6"
    zone.tasks.conflicts = 1
    done = client.runner_complete(task.task_id, "ok")
    assert done.phase == tm.TASK_PHASE_TERMINAL and zone.tasks.conflicts == 0


def test_wait_for_task_end_wakes_on_kevent(zone: TaskZone, rt: BuckyOSRuntime) -> None:
    client = get_task_manager_client(rt)
    task = create(client, "wait-kevent")
    started = time.monotonic()
    finisher = later(2.0, lambda: zone.tasks.finish(task.task_id))
    ended = client.wait_for_task_end(task.task_id, timeout=WAIT)
    elapsed = time.monotonic() - started
    finisher.join(WAIT)
    assert (ended.phase, ended.outcome) == (tm.TASK_PHASE_TERMINAL, tm.TASK_OUTCOME_SUCCEEDED)
    assert 1.9 < elapsed < 5.0
    # read at once, after the first 500 ms, then only on the event (30 s sweeps)
    assert zone.tasks.reads[task.task_id] == 3
    # an ended task: one read, no wait
    assert client.wait_for_task_end(task.task_id, timeout=WAIT) == ended


def test_wait_for_task_end_polls_when_kevent_is_down(zone: TaskZone) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    urls = {"task-manager": zone.task_manager_url, "kevent": dead}
    with make_runtime(zone.alice, service_urls=urls) as runtime:
        client = get_task_manager_client(runtime)
        task = create(client, "wait-poll")
        finisher = later(2.0, lambda: zone.tasks.finish(task.task_id))
        started = time.monotonic()
        ended = client.wait_for_task_end(task.task_id, timeout=WAIT)
        elapsed = time.monotonic() - started
        finisher.join(WAIT)
    assert ended.phase == tm.TASK_PHASE_TERMINAL
    assert 1.9 < elapsed < 3.5
    assert 4 <= zone.tasks.reads[task.task_id] <= 7  # every 500 ms


def test_wait_for_task_end_times_out(zone: TaskZone, rt: BuckyOSRuntime) -> None:
    client = get_task_manager_client(rt)
    task = create(client, "wait-timeout")
    client.runner_start(task.task_id)
    started = time.monotonic()
    with pytest.raises(TimeoutError) as err:
        client.wait_for_task_end(task.task_id, timeout=0.8)
    assert 0.7 < time.monotonic() - started < 3.0
    assert str(err.value) == (
        f"task {task.task_id} did not end within 0.8 s (still Running, revision 2); "
        "wait longer, or cancel it (cancel_task)"
    )


def test_wait_for_task_end_falls_back_when_the_stream_dies(
    zone: TaskZone, kevent: FakeKEvent, rt: BuckyOSRuntime
) -> None:
    client = get_task_manager_client(rt)
    task = create(client, "wait-stream-dies")
    kevent.refuse("stream", 503, b'{"error":"DAEMON_UNAVAILABLE: down"}', count=10)
    kevent.wait_streams(0)
    result: list[tm.Task] = []
    waiter = threading.Thread(
        target=lambda: result.append(client.wait_for_task_end(task.task_id, timeout=WAIT))
    )
    waiter.start()
    waiter.join(3.0)
    assert not result  # still waiting, by polling
    zone.tasks.finish(task.task_id)
    waiter.join(WAIT)
    assert result and result[0].phase == tm.TASK_PHASE_TERMINAL
    assert zone.tasks.reads[task.task_id] >= 4


def test_the_wait_schedule() -> None:
    now = [100.0]
    wait = EndWait("t-1", 40.0, clock=lambda: now[0])
    assert wait.pattern == "/task_mgr/t-1"
    assert not wait.done(tm.Task(task_id="t-1", phase=tm.TASK_PHASE_RUNNING, revision=3))
    assert wait.next_wait(True) == 0.5 and wait.next_wait(False) == 0.5  # the first sweep
    wait.done(tm.Task(task_id="t-1", phase=tm.TASK_PHASE_RUNNING, revision=3))
    assert (wait.next_wait(True), wait.next_wait(False)) == (30.0, 0.5)
    now[0] = 125.0
    assert wait.next_wait(True) == 15.0  # cut at the deadline
    now[0] = 140.0
    assert wait.next_wait(True) is None
    assert "still Running, revision 3" in str(wait.timed_out())
    assert EndWait("t-1", None).next_wait(True) == 0.5
    assert wait.done(tm.Task(phase=tm.TASK_PHASE_TERMINAL))
    with pytest.raises(ValueError):
        EndWait("", 1.0)


@pytest.mark.asyncio
async def test_the_async_client(zone: TaskZone, kevent: FakeKEvent) -> None:
    urls = {"task-manager": zone.task_manager_url, "kevent": kevent.url}
    async with make_runtime(zone.alice, service_urls=urls) as runtime:
        client = get_async_task_manager_client(runtime)
        task = await acreate(client, "async")
        assert not runner_envelope(task).HasField("app_instance_id")  # none bound
        assert (await client.runner_start(task.task_id)).phase == tm.TASK_PHASE_RUNNING
        zone.tasks.conflicts = 1
        progressed = await client.runner_progress(task.task_id, [1, 2])
        assert json.loads(json_format.MessageToJson(progressed.progress)) == [1, 2]
        reason = tm.TaskWaitReason(kind=tm.TASK_WAIT_REASON_KIND_HUMAN_INPUT, code="approve")
        assert (await client.runner_wait(task.task_id, reason)).wait_reason == reason
        answer = await client.cancel_task(task.task_id)
        assert answer.task.task.pending_control.request_id.startswith("ctl-")
        loop = asyncio.get_running_loop()
        loop.call_later(1.5, lambda: later(0, lambda: zone.tasks.finish(task.task_id)))
        started = loop.time()
        ended = await client.wait_for_task_end(task.task_id, timeout=WAIT)
        assert ended.phase == tm.TASK_PHASE_TERMINAL and loop.time() - started < 4.0
        assert (await client.runner_fail(task.task_id, "x")) == ended
        assert (await client.runner_complete(task.task_id, 1)) == ended

        other = await acreate(client, "async-2")
        with pytest.raises(TimeoutError, match=r"did not end within 0\.6 s"):
            await client.wait_for_task_end(other.task_id, timeout=0.6)
        done = await client.runner_complete(other.task_id, {"n": 1})
        assert done.outcome == tm.TASK_OUTCOME_SUCCEEDED


@pytest.mark.asyncio
async def test_the_async_wait_polls_when_kevent_is_down(zone: TaskZone) -> None:
    urls = {"task-manager": zone.task_manager_url, "kevent": f"http://127.0.0.1:{free_port()}"}
    async with make_runtime(zone.alice, service_urls=urls) as runtime:
        client = get_async_task_manager_client(runtime)
        task = await acreate(client, "async-poll")
        later(1.5, lambda: zone.tasks.finish(task.task_id))
        ended = await client.wait_for_task_end(task.task_id, timeout=WAIT)
        assert ended.phase == tm.TASK_PHASE_TERMINAL
        assert zone.tasks.reads[task.task_id] >= 4


def test_a_client_on_a_plain_transport_polls(zone: TaskZone) -> None:
    with KrpcTransport(zone.task_manager_url, token=zone.alice) as transport:
        client = TaskManagerClient(transport)
        task = create(client, "plain")
        later(1.0, lambda: zone.tasks.finish(task.task_id))
        assert client.wait_for_task_end(task.task_id, timeout=WAIT).phase == (
            tm.TASK_PHASE_TERMINAL
        )


# --------------------------------------------------------------------------- the dispatcher's routes


def dispatched(runtime: BuckyOSRuntime) -> str:
    """Which dispatcher answered (over the runtime's routes), by its cursor."""
    page = get_task_dispatcher_client(runtime).ListDispatches()
    return page.next_cursor


def info_record(zone: TaskZone, node: str = "ood1") -> str:
    return json.dumps(
        {
            "selector_type": "random",
            "node_list": {
                node: {
                    "node_did": f"did:web:{node}.zone",
                    "node_net_id": "lan",
                    "state": "started",
                    "weight": 100,
                    "service_port": {"www": zone.krpc_port, "grpc": zone.grpc_port},
                }
            },
        }
    )


def test_the_dispatcher_is_where_a_pinned_task_manager_is(zone: TaskZone) -> None:
    cases = {
        zone.task_manager_url: Endpoint("krpc", f"{zone.krpc_url}/kapi/task-dispatcher", "direct"),
        zone.krpc_url: Endpoint("krpc", zone.krpc_url, "direct"),  # a base URL: /kapi/<api>
        f"grpc://{zone.grpc_target}": Endpoint("grpc", zone.grpc_target, "direct"),
    }
    for pinned, expected in cases.items():
        urls = {"task-manager": pinned}
        with make_runtime(zone.alice, RuntimeType.KERNEL_SERVICE, service_urls=urls) as runtime:
            assert runtime._routes.candidates("task-dispatcher") == [expected]
            assert dispatched(runtime) == "task-dispatcher", pinned
    assert zone.dispatcher.calls == 3
    # pinned apart, the dispatcher's own pin wins
    urls = {"task-manager": "http://127.0.0.1:1/kapi/task-manager"}
    urls["task-dispatcher"] = f"{zone.krpc_url}/kapi/task-dispatcher"
    with make_runtime(zone.alice, service_urls=urls) as runtime:
        assert dispatched(runtime) == "task-dispatcher"


def test_the_dispatcher_is_behind_the_gateway_and_the_instances(zone: TaskZone) -> None:
    options: dict[str, Any] = {
        "system_config_url": zone.krpc_url,
        "gateway_url": zone.krpc_url,  # the server stands for the node gateway
        "device": DeviceConfig("ood1"),
    }
    # no services/task-manager/info: the gateway, at the dispatcher's path
    with make_runtime(zone.alice, RuntimeType.KERNEL_SERVICE, **options) as runtime:
        assert runtime._routes.candidates("task-dispatcher") == [
            Endpoint("krpc", f"{zone.krpc_url}/kapi/task-dispatcher", "gateway")
        ]
        assert dispatched(runtime) == "task-dispatcher"
    # task-manager's instance on this node: reached directly, on both wires
    zone.records.data["services/task-manager/info"] = info_record(zone)
    with make_runtime(zone.alice, RuntimeType.KERNEL_SERVICE, **options) as runtime:
        here = f"http://127.0.0.1:{zone.krpc_port}"
        assert runtime._routes.candidates("task-dispatcher") == [
            Endpoint("krpc", f"{here}/kapi/task-dispatcher", "direct", "ood1"),
            Endpoint("grpc", f"127.0.0.1:{zone.grpc_port}", "direct", "ood1"),
            Endpoint("krpc", f"{zone.krpc_url}/kapi/task-dispatcher", "gateway"),
        ]
        assert dispatched(runtime) == "task-dispatcher"
        assert runtime._routes.candidates("task-manager")[0].address == (
            f"{here}/kapi/task-manager"
        )
    with make_runtime(zone.alice, RuntimeType.KERNEL_SERVICE, prefer="grpc", **options) as rt:
        assert rt._routes.candidates("task-dispatcher")[0] == Endpoint(
            "grpc", f"127.0.0.1:{zone.grpc_port}", "direct", "ood1"
        )
        assert dispatched(rt) == "task-dispatcher"
    assert zone.dispatcher.calls == 3


@pytest.mark.asyncio
async def test_the_async_routes_derive_alike(zone: TaskZone) -> None:
    zone.records.data["services/task-manager/info"] = info_record(zone)
    options: dict[str, Any] = {
        "system_config_url": zone.krpc_url,
        "gateway_url": zone.krpc_url,
        "device": DeviceConfig("ood1"),
    }
    async with make_runtime(zone.alice, RuntimeType.KERNEL_SERVICE, **options) as runtime:
        found = await runtime._routes.acandidates("task-dispatcher")
        assert found == runtime._routes.candidates("task-dispatcher")
        page = await get_async_task_dispatcher_client(runtime).ListDispatches()
        assert page.next_cursor == "task-dispatcher"


def test_an_app_client_reaches_the_dispatcher_at_the_zones_url(zone: TaskZone) -> None:
    zone_did = f"did:web:127.0.0.1%3A{zone.krpc_port}"
    with make_runtime(zone.alice, zone_did=zone_did) as runtime:
        assert runtime._routes.candidates("task-dispatcher") == [
            Endpoint("krpc", f"{zone.krpc_url}/kapi/task-dispatcher", "public")
        ]
        assert dispatched(runtime) == "task-dispatcher"
        # and task-manager's own verbs at its own path
        assert create(get_task_manager_client(runtime), "public").phase == (tm.TASK_PHASE_ACCEPTED)


class _Serves:
    """A dispatcher stand-in for the in-process registry: the apis it names."""

    def __init__(self, *descriptors: Any) -> None:
        self._descriptors = descriptors

    def services(self) -> tuple[Any, ...]:
        return self._descriptors


def test_in_process_only_when_the_dispatcher_itself_is_served_here() -> None:
    config_options: dict[str, Any] = {
        "gateway_url": "http://127.0.0.1:4180",
        "system_config_url": f"http://127.0.0.1:{free_port()}",  # no records: the gateway
    }
    manager_only = _Serves(rpc.TASK_MANAGER)
    registry.register(manager_only)  # type: ignore[arg-type]
    try:
        runtime = make_runtime("t", RuntimeType.KERNEL_SERVICE, **config_options)
        runtime.use_inprocess = True
        assert runtime._routes.candidates("task-manager")[0].kind == "inprocess"
        assert runtime._routes.candidates("task-dispatcher") == [
            Endpoint("krpc", "http://127.0.0.1:4180/kapi/task-dispatcher", "gateway")
        ]
        both = _Serves(TASK_DISPATCHER)
        registry.register(both)  # type: ignore[arg-type]
        try:
            assert runtime._routes.candidates("task-dispatcher")[0] == Endpoint(
                "inprocess", "", "inprocess"
            )
        finally:
            registry.unregister(both)  # type: ignore[arg-type]
        runtime.close()
    finally:
        registry.unregister(manager_only)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- the docs


def test_docs_example(
    zone: TaskZone,
    kevent: FakeKEvent,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name in list(os.environ):
        if name.startswith("BUCKYOS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))
    page = ROOT / "docs" / "services-tasks.md"
    section = page.read_text(encoding="utf-8").split(
        "## task-manager from a program: the runtime's client\n", 1
    )[1]
    found = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert found is not None
    namespace = {
        "TASK_MANAGER_URL": zone.task_manager_url,
        "KEVENT_URL": kevent.url,
        "SESSION_TOKEN": zone.alice,
    }
    exec(compile(found.group(1), str(page), "exec"), namespace)
    assert capsys.readouterr().out.splitlines() == [
        "t-1 TASK_OUTCOME_SUCCEEDED revision 4",
        "t-2 TASK_CONTROL_ACTION_CANCEL",
    ]
    assert zone.tasks.reads["t-1"] == 4  # three helpers and the wait: one read each
