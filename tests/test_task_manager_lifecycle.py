"""The reference task-manager over real kRPC and gRPC servers: a task's life cycle end to
end, runners racing one revision, stale epochs, idempotent creates, control requests."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format, struct_pb2

from buckyos.generated import task_manager_pb2 as tm
from buckyos.generated.task_manager_rpc import (
    ControlAlreadyPendingError,
    ControlNotAvailableError,
    IdempotencyConflictError,
    RevisionConflictError,
    StaleRunnerEpochError,
    TaskManagerStub,
)
from tests.task_manager_zone import TaskZone, task_zone

WIRES = ("krpc", "grpc")


@pytest.fixture
def zone(tmp_path: Path) -> Any:
    with task_zone(tmp_path / "tasks.db") as z:
        yield z


def value(obj: Any) -> struct_pb2.Value:
    return json_format.ParseDict(obj, struct_pb2.Value())


def plain(v: struct_pb2.Value) -> Any:
    return json_format.MessageToDict(v)


def create(stub: TaskManagerStub, key: str = "import-x", **extra: Any) -> tm.Task:
    return stub.CreateTask(
        name="import album",
        schema_id="raw/v1",
        input=value({"album": "x"}),
        executor=tm.CreateTaskExecutor(self_app=tm.SelfAppExecutor(app_instance_id="photos@alice")),
        idempotency_key=key,
        **extra,
    ).task


def envelope(task: tm.Task) -> tm.RunnerWriteEnvelope:
    return tm.RunnerWriteEnvelope(
        task_id=task.task_id,
        app_instance_id=task.executor.app.app_instance_id,
        runner_epoch=task.runner_epoch,
        expected_revision=task.revision,
    )


@pytest.mark.parametrize("wire", WIRES)
def test_life_cycle_end_to_end(zone: TaskZone, wire: str) -> None:
    alice = zone.stub(zone.user_token("alice", "photos"), wire)
    task = create(alice)
    assert task.task_id.startswith("t-") and task.root_id == task.task_id
    assert task.phase == tm.TASK_PHASE_ACCEPTED
    assert (task.revision, task.runner_epoch) == (1, 1)
    assert task.executor.app.app_id == "photos"
    assert task.input_digest == "c5c2d67cc7aca5aa4246a1561db57efdeeb98d02bb51f74f902e10a495bc3755"

    task = alice.ReportStarted(envelope=envelope(task)).task
    assert (task.phase, task.revision) == (tm.TASK_PHASE_RUNNING, 2)
    task = alice.ReportProgress(
        envelope=envelope(task), progress=value({"done": 3, "total": 10}), message="copying"
    ).task
    assert plain(task.progress) == {"done": 3, "total": 10} and task.message == "copying"
    task = alice.CommitResult(
        task_id=task.task_id,
        result=value({"count": 10}),
        app_instance_id="photos@alice",
        runner_epoch=task.runner_epoch,
        expected_revision=task.revision,
    ).task
    assert task.phase == tm.TASK_PHASE_TERMINAL
    assert task.outcome == tm.TASK_OUTCOME_SUCCEEDED
    assert task.revision == 4 and task.HasField("completed_at")

    final = alice.GetTask(task_id=task.task_id).task
    assert plain(final.result) == {"count": 10}
    assert final.data_scope == tm.TASK_DATA_SCOPE_FULL
    assert final.completed_by.user_id == "alice"

    events = alice.ListTaskEvents(task_id=task.task_id).events
    assert [tm.TaskEventType.Name(e.event_type) for e in events] == [
        "TASK_EVENT_TYPE_TASK_CREATED",
        "TASK_EVENT_TYPE_PHASE_CHANGED",
        "TASK_EVENT_TYPE_PROGRESS_REPORTED",
        "TASK_EVENT_TYPE_RESULT_COMMITTED",
    ]
    assert [e.task_revision for e in events] == [1, 2, 3, 4]
    published = zone.published.of(f"/task_mgr/{task.task_id}")
    assert [(p["revision"], p["event_type"], p["phase"]) for p in published] == [
        (1, "TaskCreated", "Accepted"),
        (2, "PhaseChanged", "Running"),
        (3, "ProgressReported", "Running"),
        (4, "ResultCommitted", "Terminal"),
    ]
    assert published[-1]["outcome"] == "Succeeded"


@pytest.mark.parametrize("wire", WIRES)
def test_two_runners_race_one_revision(zone: TaskZone, wire: str) -> None:
    alice = zone.stub(zone.user_token("alice", "photos"), wire)
    task = alice.ReportStarted(envelope=envelope(create(alice))).task
    runners = [zone.stub(zone.user_token("alice", "photos"), wire) for _ in range(2)]
    results: list[Any] = [None, None]
    barrier = threading.Barrier(2, timeout=10)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = (
                runners[i].ReportProgress(envelope=envelope(task), message=f"runner {i}").task
            )
        except RevisionConflictError as err:
            results[i] = err

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    wins = [r for r in results if isinstance(r, tm.Task)]
    losses = [r for r in results if isinstance(r, RevisionConflictError)]
    assert len(wins) == 1 and len(losses) == 1, results
    assert losses[0].text == "Failed due to reason: revision_conflict: expected revision 2, found 3"
    assert alice.GetTask(task_id=task.task_id).task.revision == 3


def test_stale_runner_epoch_refused(zone: TaskZone) -> None:
    alice = zone.stub(zone.user_token("alice", "photos"))
    task = create(alice)
    stale = envelope(task)
    stale.runner_epoch = 2
    with pytest.raises(StaleRunnerEpochError) as err:
        alice.ReportStarted(envelope=stale)
    assert err.value.text == "Failed due to reason: stale_runner_epoch: runner epoch 2 != current 1"
    other = envelope(task)
    other.app_instance_id = "photos@bob"
    with pytest.raises(StaleRunnerEpochError) as err:
        alice.ReportStarted(envelope=other)
    assert err.value.message == (
        'instance Some("photos@bob") is not the bound instance photos@alice'
    )
    # nothing was written
    assert alice.GetTask(task_id=task.task_id).task.revision == 1


@pytest.mark.parametrize("wire", WIRES)
def test_idempotent_create_replays_and_conflicts(zone: TaskZone, wire: str) -> None:
    alice = zone.stub(zone.user_token("alice", "photos"), wire)
    first = create(alice, key="k1")
    again = create(alice, key="k1", message="another message is not compared")
    assert again.task_id == first.task_id and again.revision == 1
    assert len(alice.ListTaskEvents(task_id=first.task_id).events) == 1
    replays = zone.published.of(f"/task_mgr/{first.task_id}")
    assert [p["event_id"] for p in replays][1] == ""
    with pytest.raises(IdempotencyConflictError) as err:
        alice.CreateTask(
            name="import album",
            schema_id="raw/v1",
            input=value({"album": "y"}),
            executor=tm.CreateTaskExecutor(self_app=tm.SelfAppExecutor()),
            idempotency_key="k1",
        )
    assert err.value.text == (
        "Failed due to reason: idempotency_conflict: idempotency key k1 maps to a "
        "different immutable request"
    )
    # another app of the same user has its own keys
    other = zone.stub(zone.user_token("alice", "viewer"), wire)
    assert create(other, key="k1").task_id != first.task_id


def test_control_pause_resume_cancel(zone: TaskZone) -> None:
    alice = zone.stub(zone.user_token("alice", "photos"))
    task = alice.ReportStarted(envelope=envelope(create(alice))).task
    with pytest.raises(ControlNotAvailableError) as err:
        alice.RequestControl(
            task_id=task.task_id, action=tm.TASK_CONTROL_ACTION_PAUSE, request_id="p1"
        )
    assert err.value.message == "runner does not currently support pause"
    profile = tm.TaskControlProfile()
    profile.pause.available.SetInParent()
    profile.resume.available.SetInParent()
    profile.cancel.safe.SetInParent()
    task = alice.UpdateControlProfile(envelope=envelope(task), profile=profile).task
    task = alice.RequestControl(
        task_id=task.task_id, action=tm.TASK_CONTROL_ACTION_PAUSE, request_id="p1"
    ).task.task
    assert task.pending_control.request_id == "p1"
    replay = alice.RequestControl(
        task_id=task.task_id, action=tm.TASK_CONTROL_ACTION_PAUSE, request_id="p1"
    ).task.task
    assert replay.revision == task.revision
    with pytest.raises(ControlAlreadyPendingError) as pending:
        alice.RequestControl(
            task_id=task.task_id, action=tm.TASK_CONTROL_ACTION_PAUSE, request_id="p2"
        )
    assert pending.value.message == "pending Pause request p1"
    # a Cancel supersedes the pending Pause; the runner rejects it, then pauses
    task = alice.RequestControl(
        task_id=task.task_id, action=tm.TASK_CONTROL_ACTION_CANCEL, request_id="c0"
    ).task.task
    assert task.pending_control.request_id == "c0"
    superseded = alice.ListTaskEvents(task_id=task.task_id).events[-1]
    assert plain(superseded.payload) == {
        "superseded_request_id": "p1",
        "superseded_action": "Pause",
        "action": "Cancel",
        "request_id": "c0",
    }
    task = alice.AckControl(
        envelope=envelope(task), request_id="c0", applied=False, reject_reason="busy"
    ).task
    assert task.phase == tm.TASK_PHASE_RUNNING and not task.HasField("pending_control")
    task = alice.RequestControl(
        task_id=task.task_id, action=tm.TASK_CONTROL_ACTION_PAUSE, request_id="p1"
    ).task.task
    task = alice.AckControl(envelope=envelope(task), request_id="p1", applied=True).task
    assert task.phase == tm.TASK_PHASE_PAUSED and not task.HasField("pending_control")
    task = alice.RequestControl(
        task_id=task.task_id, action=tm.TASK_CONTROL_ACTION_RESUME, request_id="r1"
    ).task.task
    task = alice.AckControl(envelope=envelope(task), request_id="r1", applied=True).task
    assert task.phase == tm.TASK_PHASE_RUNNING
    task = alice.RequestControl(
        task_id=task.task_id, action=tm.TASK_CONTROL_ACTION_CANCEL, request_id="c1"
    ).task.task
    task = alice.AckControl(envelope=envelope(task), request_id="c1", applied=True).task
    assert (task.phase, task.outcome) == (tm.TASK_PHASE_TERMINAL, tm.TASK_OUTCOME_CANCELED)
    last = alice.ListTaskEvents(task_id=task.task_id).events[-1]
    assert plain(last.payload) == {"action": "Cancel", "request_id": "c1", "cancel_mode": "safe"}


def test_racing_creates_with_one_key_make_one_task(zone: TaskZone) -> None:
    stubs = [zone.stub(zone.user_token("alice", "photos")) for _ in range(6)]
    barrier = threading.Barrier(len(stubs), timeout=10)
    ids: list[str] = []
    lock = threading.Lock()

    def run(stub: TaskManagerStub) -> None:
        barrier.wait()
        task_id = create(stub, key="same").task_id
        with lock:
            ids.append(task_id)

    threads = [threading.Thread(target=run, args=(s,)) for s in stubs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert len(ids) == len(stubs) and len(set(ids)) == 1
    assert len(stubs[0].ListTasks().tasks) == 1
    assert len(stubs[0].ListTaskEvents(task_id=ids[0]).events) == 1
