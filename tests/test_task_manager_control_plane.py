"""The reference task-manager's other verbs over real kRPC: the trusted control plane
(promise, bind, release, fail, cancel), schemas, delegated control, the runner's waiting
and running reports, HumanSet direct cancel, permission boundaries; and the runtime's task
conveniences (runner_start/progress/complete, cancel_task, wait_for_task_end) against it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format, struct_pb2

from buckyos.generated import task_manager_pb2 as tm
from buckyos.generated.task_manager_rpc import (
    IdempotencyConflictError,
    InvalidTaskPhaseError,
    PermissionDeniedError,
    StaleRunnerEpochError,
    TaskManagerStub,
    TaskNotFoundError,
    TaskSchemaNotFoundError,
)
from buckyos.runtime.client.krpc_client import KrpcTransport
from buckyos.runtime.program import TaskManagerClient
from tests.task_manager_zone import TaskZone, task_zone


@pytest.fixture
def zone(tmp_path: Path) -> Any:
    with task_zone(tmp_path / "tasks.db") as z:
        yield z


def value(obj: Any) -> struct_pb2.Value:
    return json_format.ParseDict(obj, struct_pb2.Value())


def plain(v: struct_pb2.Value) -> Any:
    return json_format.MessageToDict(v)


def events(stub: TaskManagerStub, task_id: str) -> list[tuple[str, Any]]:
    return [
        (tm.TaskEventType.Name(e.event_type).removeprefix("TASK_EVENT_TYPE_"), plain(e.payload))
        for e in stub.ListTaskEvents(task_id=task_id).events
    ]


def test_promise_bind_release_and_close(zone: TaskZone) -> None:
    plane = zone.stub(zone.service_token("task-dispatcher"))
    creator = tm.ActorRef(user_id="alice", app_id="photos")
    task = plane.CreatePromisedTask(
        name="delegate",
        schema_id="agent.delegate/v1",
        input=value({"q": 1}),
        creator=creator,
        origin_ref=tm.TaskOriginRef(kind="dispatch", id="dsp-1"),
        idempotency_key="p1",
    ).task
    # the same origin under another key replays against that origin's task
    again = plane.CreatePromisedTask(
        name="delegate",
        schema_id="agent.delegate/v1",
        input=value({"q": 1}),
        creator=creator,
        origin_ref=tm.TaskOriginRef(kind="dispatch", id="dsp-1"),
        idempotency_key="p2",
    ).task
    assert again.task_id == task.task_id
    wait = tm.TaskWaitReason(kind=tm.TASK_WAIT_REASON_KIND_CAPACITY)
    task = plane.SetPromiseWait(task_id=task.task_id, wait_reason=wait, expected_revision=1).task
    task = plane.BindAppExecutor(
        task_id=task.task_id,
        target_id="tgt-1",
        app_id="agent",
        app_instance_id="agent@1",
        delivery_id="dl-1",
        expected_revision=2,
    ).task
    assert (task.phase, task.runner_epoch) == (tm.TASK_PHASE_ACCEPTED, 1)
    assert not task.HasField("wait_reason")
    agent = zone.stub(zone.user_token("alice", "agent"))
    env = tm.RunnerWriteEnvelope(
        task_id=task.task_id, app_instance_id="agent@1", runner_epoch=1, expected_revision=3
    )
    task = agent.ReportWaiting(
        envelope=env, reason=tm.TaskWaitReason(kind=tm.TASK_WAIT_REASON_KIND_EXTERNAL)
    ).task
    env.expected_revision = task.revision
    task = agent.ReportRunning(envelope=env).task
    assert task.phase == tm.TASK_PHASE_RUNNING
    # the control plane releases the instance: the old runner is fenced off
    task = plane.ReleaseAppExecutor(
        task_id=task.task_id,
        expected_instance_id="agent@1",
        expected_runner_epoch=1,
        reason=tm.TaskWaitReason(kind=tm.TASK_WAIT_REASON_KIND_DISPATCH),
        expected_revision=task.revision,
    ).task
    assert (task.phase, task.runner_epoch) == (tm.TASK_PHASE_WAITING, 2)
    env.expected_revision = task.revision
    with pytest.raises(StaleRunnerEpochError) as err:
        agent.ReportRunning(envelope=env)
    assert err.value.message == "runner epoch 1 != current 2"
    with pytest.raises(InvalidTaskPhaseError) as err2:
        plane.BindAppExecutor(
            task_id=task.task_id,
            target_id="tgt-2",
            app_id="agent",
            app_instance_id="agent@2",
            expected_revision=task.revision,
        )
    assert err2.value.message == "logical target is frozen after the first bind"
    task = plane.BindAppExecutor(
        task_id=task.task_id,
        target_id="tgt-1",
        app_id="agent",
        app_instance_id="agent@2",
        expected_revision=task.revision,
    ).task
    assert task.runner_epoch == 3
    env = tm.RunnerWriteEnvelope(
        task_id=task.task_id,
        app_instance_id="agent@2",
        runner_epoch=3,
        expected_revision=task.revision,
    )
    err_value = tm.TaskError(code="boom", message="no route")
    task = agent.FailTask(envelope=env, error=err_value).task
    assert (task.outcome, task.error.code) == (tm.TASK_OUTCOME_FAILED, "boom")
    # the control plane has no implicit rights on the task (upstream): its creator reads it
    owner = zone.stub(zone.user_token("alice", "photos"))
    with pytest.raises(TaskNotFoundError):
        plane.GetTask(task_id=task.task_id)
    kinds = [kind for kind, _ in events(owner, task.task_id)]
    assert kinds == [
        "TASK_CREATED",
        "WAIT_REASON_CHANGED",
        "RUNNER_BOUND",
        "WAIT_REASON_CHANGED",
        "PHASE_CHANGED",
        "RUNNER_RELEASED",
        "RUNNER_BOUND",
        "TASK_FAILED",
    ]
    assert events(owner, task.task_id)[2][1] == {
        "target_id": "tgt-1",
        "app_id": "agent",
        "app_instance_id": "agent@1",
        "delivery_id": "dl-1",
    }

    other = plane.CreatePromisedTask(
        name="x", schema_id="raw/v1", input=value({}), creator=creator, idempotency_key="p3"
    ).task
    failed = plane.FinishPromiseFailure(
        task_id=other.task_id,
        error=tm.TaskError(code="no_target", message="none"),
        expected_revision=1,
    ).task
    assert failed.outcome == tm.TASK_OUTCOME_FAILED
    third = plane.CreatePromisedTask(
        name="y", schema_id="raw/v1", input=value({}), creator=creator, idempotency_key="p4"
    ).task
    canceled = plane.CancelPromisedTask(task_id=third.task_id, expected_revision=1).task
    assert canceled.outcome == tm.TASK_OUTCOME_CANCELED
    # a user may not act as the control plane
    alice = zone.stub(zone.user_token("alice", "photos"))
    with pytest.raises(PermissionDeniedError) as err3:
        alice.CancelPromisedTask(task_id=third.task_id, expected_revision=2)
    assert err3.value.message == "cancel_promised_task requires a zone-trusted service identity"


def test_schemas(zone: TaskZone) -> None:
    photos = zone.stub(zone.user_token("alice", "photos"))
    definition = tm.TaskSchemaDefinition(
        schema_id="photos.import/v1",
        schema_version=1,
        input_schema=value({"type": "object", "required": ["album"]}),
        output_schema=value({"type": "object"}),
        allowed_executor_kinds=[tm.TASK_EXECUTOR_KIND_APP],
        publisher_app_id="photos",
        enabled=True,
    )
    stored = photos.RegisterTaskSchema(definition=definition)
    assert stored.created_at > 0
    assert photos.RegisterTaskSchema(definition=definition).created_at == stored.created_at
    changed = tm.TaskSchemaDefinition()
    changed.CopyFrom(definition)
    changed.output_schema.CopyFrom(value({"type": "string"}))
    with pytest.raises(IdempotencyConflictError) as err:
        photos.RegisterTaskSchema(definition=changed)
    assert err.value.message == (
        "task schema photos.import/v1@1 already published with different content"
    )
    changed.publisher_app_id = "other"
    with pytest.raises(PermissionDeniedError):
        photos.RegisterTaskSchema(definition=changed)
    assert photos.GetTaskSchema(schema_id="photos.import/v1").schema_version == 1
    ids = [s.schema_id for s in photos.ListTaskSchemas().schemas]
    assert "raw/v1" in ids and "photos.import/v1" in ids and len(ids) == 24
    with pytest.raises(PermissionDeniedError):
        photos.SetTaskSchemaEnabled(schema_id="photos.import/v1", schema_version=1, enabled=False)
    plane = zone.stub(zone.service_token("control-panel"))
    off = plane.SetTaskSchemaEnabled(schema_id="photos.import/v1", schema_version=1, enabled=False)
    assert not off.enabled
    with pytest.raises(TaskSchemaNotFoundError) as err2:
        photos.GetTaskSchema(schema_id="photos.import/v1")
    assert err2.value.message == "photos.import/v1@None"
    with pytest.raises(TaskSchemaNotFoundError) as err3:
        photos.CreateTask(
            name="x",
            schema_id="photos.import/v1",
            schema_version=1,
            input=value({"album": "x"}),
            executor=tm.CreateTaskExecutor(self_app=tm.SelfAppExecutor()),
            idempotency_key="x",
        )
    assert err3.value.message == "schema photos.import/v1 is disabled"
    assert len(photos.ListTaskSchemas(include_disabled=True).schemas) == 24


def test_delegated_control_human_cancel_and_boundaries(zone: TaskZone) -> None:
    alice = zone.stub(zone.user_token("alice", "photos"))
    root = alice.CreateTask(
        name="trip",
        schema_id="human.approval/v1",
        input=value({}),
        executor=tm.CreateTaskExecutor(human_set=tm.HumanSetExecutor(assignees=["carol"])),
        idempotency_key="trip",
    ).task
    plane = zone.stub(zone.service_token("control-panel"))
    # the controller's ACL is what counts: bob may not, alice may
    with pytest.raises(TaskNotFoundError):
        plane.RequestDelegatedControl(
            controller=tm.ActorRef(user_id="bob", app_id="photos"),
            task_id=root.task_id,
            action=tm.TASK_CONTROL_ACTION_CANCEL,
            request_id="c1",
        )
    done = plane.RequestDelegatedControl(
        controller=tm.ActorRef(user_id="alice", app_id="photos"),
        task_id=root.task_id,
        action=tm.TASK_CONTROL_ACTION_CANCEL,
        request_id="c1",
    ).task.task
    # HumanSet cancel closes directly, completed by the controller
    assert (done.phase, done.outcome) == (tm.TASK_PHASE_TERMINAL, tm.TASK_OUTCOME_CANCELED)
    assert done.completed_by.user_id == "alice"
    assert events(alice, root.task_id)[-1] == (
        "TASK_CANCELED",
        {"cancel_mode": "interrupt", "path": "human_set"},
    )

    # a permission boundary cuts the root creator off a subtree
    bob = zone.stub(zone.user_token("bob", "viewer"))
    top = alice.CreateTask(
        name="top",
        schema_id="raw/v1",
        input=value({}),
        executor=tm.CreateTaskExecutor(self_app=tm.SelfAppExecutor()),
        idempotency_key="top",
    ).task
    spec = tm.TaskAclGrantSpec(
        actions=[tm.TASK_ACTION_READ_META, tm.TASK_ACTION_CREATE_CHILD],
        scope=tm.TASK_GRANT_SCOPE_SUBTREE,
        data_scope=tm.TASK_DATA_SCOPE_FULL,
    )
    spec.subject.user.user_id = "bob"
    alice.GrantTaskAccess(task_id=top.task_id, grant=spec, expected_revision=1)
    walled = bob.CreateTask(
        name="walled",
        schema_id="raw/v1",
        input=value({}),
        executor=tm.CreateTaskExecutor(self_app=tm.SelfAppExecutor()),
        idempotency_key="walled",
        parent_id=top.task_id,
        permission_boundary=True,
    ).task
    # alice, the root's creator, is cut off by the boundary; bob created it
    with pytest.raises(TaskNotFoundError):
        alice.GetTask(task_id=walled.task_id)
    assert bob.GetTask(task_id=walled.task_id).task.permission_boundary


def test_runtime_conveniences_against_the_server(zone: TaskZone) -> None:
    token = zone.user_token("alice", "photos")
    with KrpcTransport(zone.krpc_url, token=token) as transport:
        tasks = TaskManagerClient(transport, timeout=10)
        task = tasks.CreateTask(
            name="import album",
            schema_id="raw/v1",
            input=value({"album": "x"}),
            executor=tm.CreateTaskExecutor(
                self_app=tm.SelfAppExecutor(app_instance_id="photos@alice")
            ),
            idempotency_key="import-x",
        ).task
        assert tasks.runner_start(task.task_id).phase == tm.TASK_PHASE_RUNNING
        tasks.runner_progress(task.task_id, {"done": 3, "total": 10}, "copying")
        done = tasks.runner_complete(task.task_id, {"count": 10})
        assert done.outcome == tm.TASK_OUTCOME_SUCCEEDED and done.revision == 4
        assert tasks.wait_for_task_end(task.task_id, timeout=5).revision == 4
        other = tasks.CreateTask(
            name="import more",
            schema_id="raw/v1",
            input=value({"album": "y"}),
            executor=tm.CreateTaskExecutor(self_app=tm.SelfAppExecutor()),
            idempotency_key="import-y",
        ).task
        asked = tasks.cancel_task(other.task_id)
        assert asked.task.task.pending_control.action == tm.TASK_CONTROL_ACTION_CANCEL
        assert asked.task.task.pending_control.request_id.startswith("ctl-")
