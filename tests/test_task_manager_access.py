"""The reference task-manager's task ACL over real kRPC: invisible tasks answer
task_not_found, grants open them and are trimmed by data scope, child tasks and recursive
control follow the tree, HumanSet tasks are committed by assignees against the output
schema, zone-trusted verbs need a zone-trusted token (never a claim in the params)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format, struct_pb2

from buckyos.generated import task_manager_pb2 as tm
from buckyos.generated.task_manager_rpc import (
    PermissionDeniedError,
    ResultSchemaMismatchError,
    TaskManagerStub,
    TaskNotFoundError,
)
from buckyos.runtime.errors import ParseRequestError
from tests.task_manager_zone import TaskZone, task_zone


@pytest.fixture
def zone(tmp_path: Path) -> Any:
    with task_zone(tmp_path / "tasks.db") as z:
        yield z


def value(obj: Any) -> struct_pb2.Value:
    return json_format.ParseDict(obj, struct_pb2.Value())


def plain(v: struct_pb2.Value) -> Any:
    return json_format.MessageToDict(v)


def self_app() -> tm.CreateTaskExecutor:
    return tm.CreateTaskExecutor(self_app=tm.SelfAppExecutor())


def finished(stub: TaskManagerStub, key: str = "k", **extra: Any) -> tm.Task:
    """A task run to Succeeded with progress and a result."""
    task = stub.CreateTask(
        name="import",
        schema_id="raw/v1",
        input=value({"album": "x"}),
        executor=self_app(),
        idempotency_key=key,
        **extra,
    ).task
    env = tm.RunnerWriteEnvelope(task_id=task.task_id, runner_epoch=1, expected_revision=1)
    task = stub.ReportProgress(envelope=env, progress=value({"done": 1})).task
    return stub.CommitResult(
        task_id=task.task_id, result=value({"count": 1}), runner_epoch=1, expected_revision=2
    ).task


def grant(
    stub: TaskManagerStub, task: tm.Task, user: str, actions: list[int], scope: int
) -> tm.Task:
    spec = tm.TaskAclGrantSpec(
        actions=actions,  # type: ignore[arg-type]
        scope=tm.TASK_GRANT_SCOPE_SELF_ONLY,
        data_scope=scope,  # type: ignore[arg-type]
    )
    spec.subject.user.user_id = user
    return stub.GrantTaskAccess(
        task_id=task.task_id, grant=spec, expected_revision=task.revision
    ).task


def test_a_caller_without_a_grant_sees_task_not_found(zone: TaskZone) -> None:
    alice = zone.stub(zone.user_token("alice", "photos"))
    bob = zone.stub(zone.user_token("bob", "viewer"))
    task = finished(alice)
    with pytest.raises(TaskNotFoundError) as err:
        bob.GetTask(task_id=task.task_id)
    assert err.value.text == f"Failed due to reason: task_not_found: {task.task_id}"
    # the same answer as for a task that does not exist
    with pytest.raises(TaskNotFoundError):
        bob.GetTask(task_id="t-nothere")
    assert [t.task_id for t in bob.ListTasks().tasks] == []
    assert [t.task_id for t in alice.ListTasks().tasks] == [task.task_id]
    with pytest.raises(TaskNotFoundError):
        bob.ListTaskEvents(task_id=task.task_id)
    with pytest.raises(TaskNotFoundError):
        bob.AddTaskNote(task_id=task.task_id, content="hi")


@pytest.mark.parametrize("wire", ["krpc", "grpc"])
def test_a_user_naming_another_users_runner_app_runs_nothing(zone: TaskZone, wire: str) -> None:
    """Stricter than upstream: a user's session names its app id itself at login, so it
    proves nothing about the app.  Bob logged in as app "photos" neither sees nor runs
    alice's photos task; alice's own session runs it; the app's zone-trusted service
    session runs any user's (a delegated task)."""
    alice = zone.stub(zone.user_token("alice", "photos"), wire)
    bob = zone.stub(zone.user_token("bob", "photos"), wire)
    task = alice.CreateTask(
        name="import",
        schema_id="raw/v1",
        input=value({"album": "x"}),
        executor=self_app(),
        idempotency_key="own",
    ).task
    env = tm.RunnerWriteEnvelope(task_id=task.task_id, runner_epoch=1, expected_revision=1)
    with pytest.raises(TaskNotFoundError):
        bob.GetTask(task_id=task.task_id)
    with pytest.raises(PermissionDeniedError) as err:
        bob.ReportProgress(envelope=env, progress=value({"done": 1}))
    assert err.value.text == (
        "No permission:permission_denied: caller app photos is not the bound runner photos "
        "of another user's task: a user's session (bob) runs only the tasks its user "
        "created; run it with the app's zone-trusted service token"
    )
    with pytest.raises(PermissionDeniedError):
        bob.CommitResult(
            task_id=task.task_id,
            result=value({"forged": True}),
            runner_epoch=1,
            expected_revision=1,
        )
    # Nothing of bob's reached the task; alice's own session runs it.
    assert alice.GetTask(task_id=task.task_id).task.revision == 1
    alice.ReportProgress(envelope=env, progress=value({"done": 1}))
    done = alice.CommitResult(
        task_id=task.task_id, result=value({"count": 1}), runner_epoch=1, expected_revision=2
    ).task
    assert plain(done.result) == {"count": 1}

    # The app's own service (a zone-trusted token) runs another user's task.
    service = zone.stub(zone.service_token("agent"), wire)
    delegated = service.CreateDelegatedTask(
        name="delegated",
        schema_id="raw/v1",
        input=value({}),
        creator=tm.ActorRef(user_id="alice", app_id="control-panel"),
        idempotency_key="d-run",
    ).task
    env = tm.RunnerWriteEnvelope(
        task_id=delegated.task_id, runner_epoch=delegated.runner_epoch, expected_revision=1
    )
    assert service.ReportProgress(envelope=env, progress=value({"done": 1})).task.revision == 2
    # ... and bob, naming the service's app id, does not.
    impostor = zone.stub(zone.user_token("bob", "agent"), wire)
    with pytest.raises(TaskNotFoundError):
        impostor.GetTask(task_id=delegated.task_id)


def test_trimming_by_data_scope(zone: TaskZone) -> None:
    alice = zone.stub(zone.user_token("alice", "photos"))
    bob = zone.stub(zone.user_token("bob", "viewer"))
    task = finished(alice)
    task = grant(
        alice,
        task,
        "bob",
        [tm.TASK_ACTION_READ_META, tm.TASK_ACTION_READ_RESULT],
        tm.TASK_DATA_SCOPE_PAYLOAD,
    )
    seen = bob.GetTask(task_id=task.task_id).task
    assert seen.data_scope == tm.TASK_DATA_SCOPE_PAYLOAD
    assert not seen.HasField("input")  # null: no ReadInput
    assert plain(seen.result) == {"count": 1}  # ReadResult with Payload
    assert seen.idempotency_key == ""  # below Full
    assert plain(seen.progress) == {"done": 1}
    assert seen.input_digest == task.input_digest  # never trimmed
    # bob may read, not control
    with pytest.raises(PermissionDeniedError) as err:
        bob.RequestControl(
            task_id=task.task_id, action=tm.TASK_CONTROL_ACTION_CANCEL, request_id="c"
        )
    assert err.value.text == (
        f"No permission:permission_denied: missing Control on task {task.task_id}"
    )

    carol = zone.stub(zone.user_token("carol", "viewer"))
    task = grant(alice, task, "carol", [tm.TASK_ACTION_READ_META], tm.TASK_DATA_SCOPE_META_ONLY)
    meta = carol.GetTask(task_id=task.task_id).task
    assert meta.data_scope == tm.TASK_DATA_SCOPE_META_ONLY
    assert not meta.HasField("result") and not meta.HasField("progress")
    # the owner's own read is untrimmed
    full = alice.GetTask(task_id=task.task_id).task
    assert full.data_scope == tm.TASK_DATA_SCOPE_FULL and full.idempotency_key == "k"

    grants = alice.ListTaskAccess(task_id=task.task_id).grants
    assert [g.subject.user.user_id for g in grants] == ["bob", "carol"]
    task = alice.RevokeTaskAccess(
        task_id=task.task_id, grant_id=grants[0].grant_id, expected_revision=task.revision
    ).task
    with pytest.raises(TaskNotFoundError):
        bob.GetTask(task_id=task.task_id)
    with pytest.raises(TaskNotFoundError) as gone:
        alice.RevokeTaskAccess(
            task_id=task.task_id, grant_id=grants[0].grant_id, expected_revision=task.revision
        )
    assert gone.value.message == f"active grant {grants[0].grant_id} on task {task.task_id}"
    # the grant event names the subject as upstream writes it
    granted = [
        plain(e.payload)
        for e in alice.ListTaskEvents(task_id=task.task_id).events
        if e.event_type == tm.TASK_EVENT_TYPE_ACCESS_GRANTED
    ]
    assert granted[0]["subject"] == {"kind": "User", "user_id": "bob"}
    assert granted[0]["actions"] == ["ReadMeta", "ReadResult"]
    assert granted[0]["data_scope"] == "Payload"


def test_children_and_recursive_control_with_policy(zone: TaskZone) -> None:
    alice = zone.stub(zone.user_token("alice", "photos"))
    root = alice.CreateTask(
        name="albums",
        schema_id="raw/v1",
        input=value({}),
        executor=self_app(),
        idempotency_key="root",
    ).task
    kids = []
    for n, follow in enumerate((True, False)):
        kids.append(
            alice.CreateTask(
                name=f"album {n}",
                schema_id="raw/v1",
                input=value({"n": n}),
                executor=self_app(),
                idempotency_key=f"kid-{n}",
                parent_id=root.task_id,
                child_control_policy=tm.ChildControlPolicy(
                    follow_pause=True, follow_resume=True, follow_cancel=follow
                ),
            ).task
        )
    assert {k.root_id for k in kids} == {root.task_id}
    tree = alice.GetTaskTree(root_id=root.task_id).tasks
    assert [t.task_id for t in tree] == [root.task_id] + [k.task_id for k in kids]
    subs = alice.GetSubtasks(task_id=root.task_id, limit=1)
    assert len(subs.tasks) == 1 and subs.next_cursor
    rest = alice.GetSubtasks(task_id=root.task_id, cursor=subs.next_cursor)
    assert [t.task_id for t in rest.tasks] == [kids[1].task_id] and not rest.HasField("next_cursor")
    # bob may not create a child under alice's task
    bob = zone.stub(zone.user_token("bob", "viewer"))
    with pytest.raises(TaskNotFoundError):
        bob.CreateTask(
            name="x",
            schema_id="raw/v1",
            input=value({}),
            executor=self_app(),
            idempotency_key="x",
            parent_id=root.task_id,
        )
    batch = alice.RequestControl(
        task_id=root.task_id,
        action=tm.TASK_CONTROL_ACTION_CANCEL,
        request_id="stop",
        recursive=True,
    ).batch.result
    assert list(batch.requested) == [root.task_id, kids[0].task_id]
    assert list(batch.skipped_by_policy) == [kids[1].task_id]
    pending = alice.GetTask(task_id=kids[0].task_id).task.pending_control
    assert pending.request_id == f"stop:{kids[0].task_id}"
    # the tree id carries the children's events
    tree_events = zone.published.of(f"/task_mgr/tree/{root.task_id}")
    assert {e["task_id"] for e in tree_events} == {k.task_id for k in kids}
    assert not zone.published.of(f"/task_mgr/tree/{root.task_id}") == []


def test_human_set_commit_checked_against_the_output_schema(zone: TaskZone) -> None:
    alice = zone.stub(zone.user_token("alice", "photos"))
    task = alice.CreateTask(
        name="approve trip",
        schema_id="human.approval/v1",
        input=value({"title": "trip"}),
        executor=tm.CreateTaskExecutor(human_set=tm.HumanSetExecutor(assignees=["carol"])),
        idempotency_key="trip",
    ).task
    assert (task.phase, task.runner_epoch) == (tm.TASK_PHASE_WAITING, 0)
    assert list(task.assignees) == ["carol"]
    assert task.wait_reason.kind == tm.TASK_WAIT_REASON_KIND_HUMAN_INPUT
    bob = zone.stub(zone.user_token("bob", "viewer"))
    with pytest.raises(PermissionDeniedError) as err:
        bob.CommitResult(
            task_id=task.task_id, result=value({"decision": "Approve"}), expected_revision=1
        )
    assert err.value.message == "bob is not an active assignee"
    carol = zone.stub(zone.user_token("carol", "viewer"))
    # an assignee sees the task (any app of hers)
    assert carol.GetTask(task_id=task.task_id).task.task_id == task.task_id
    with pytest.raises(ResultSchemaMismatchError) as err2:
        carol.CommitResult(
            task_id=task.task_id, result=value({"decision": "Maybe"}), expected_revision=1
        )
    assert err2.value.text == (
        "Failed due to reason: result_schema_mismatch: $.decision: value not in enum"
    )
    task = alice.UpdateAssignees(task_id=task.task_id, add=["bob"], expected_revision=1).task
    assert list(task.assignees) == ["bob", "carol"]
    done = bob.CommitResult(
        task_id=task.task_id, result=value({"decision": "Approve"}), expected_revision=2
    ).task
    assert done.outcome == tm.TASK_OUTCOME_SUCCEEDED and done.completed_by.user_id == "bob"
    with pytest.raises(ParseRequestError) as err3:
        alice.CreateTask(
            name="x",
            schema_id="human.approval/v1",
            input=value({}),
            executor=tm.CreateTaskExecutor(human_set=tm.HumanSetExecutor(assignees=[" "])),
            idempotency_key="y",
        )
    assert err3.value.text == "Parse Request Error: a HumanSet task needs at least one assignee"


def test_zone_trusted_verbs_follow_the_verified_token(zone: TaskZone) -> None:
    params: dict[str, Any] = {
        "name": "delegated",
        "schema_id": "raw/v1",
        "input": value({}),
        "creator": tm.ActorRef(user_id="alice", app_id="control-panel"),
        "idempotency_key": "d1",
    }
    # A user's session (verify-hub's key, principal_kind user) is not zone-trusted, even
    # with another iss claim (upstream trusts any iss but verify-hub's).
    lying = zone.user_token("alice", "photos", iss="alice")
    with pytest.raises(PermissionDeniedError) as err:
        zone.stub(lying).CreateDelegatedTask(**params)
    assert err.value.text == (
        "No permission:permission_denied: create_delegated_task requires a zone-trusted "
        "service identity"
    )
    service = zone.stub(zone.service_token("agent"))
    task = service.CreateDelegatedTask(**params).task
    assert task.creator.app_id == "control-panel" and task.executor.app.app_id == "agent"
    # the delegated creator (alice/control-panel) sees it; the service runs it
    panel = zone.stub(zone.user_token("alice", "control-panel"))
    assert panel.GetTask(task_id=task.task_id).task.task_id == task.task_id
    promised = service.CreatePromisedTask(
        name="p",
        schema_id="agent.delegate/v1",
        input=value({}),
        creator=tm.ActorRef(user_id="alice", app_id="photos"),
        origin_ref=tm.TaskOriginRef(kind="dispatch", id="dsp-1"),
        idempotency_key="p1",
    ).task
    assert promised.phase == tm.TASK_PHASE_PROMISED
    assert promised.wait_reason.kind == tm.TASK_WAIT_REASON_KIND_DISPATCH
    bound = service.BindAppExecutor(
        task_id=promised.task_id,
        app_id="agent",
        app_instance_id="agent@1",
        expected_revision=promised.revision,
    ).task
    assert (bound.phase, bound.runner_epoch) == (tm.TASK_PHASE_ACCEPTED, 1)


def test_notes(zone: TaskZone) -> None:
    alice = zone.stub(zone.user_token("alice", "photos"))
    task = finished(alice)
    added = alice.AddTaskNote(task_id=task.task_id, content=" looks good ")
    assert added.note_id == added.note.id and added.note.note_type == "human"
    assert added.note.content == "looks good" and plain(added.note.data) == {}
    notes = alice.ListTaskNotes(task_id=task.task_id).notes
    assert [n.content for n in notes] == ["looks good"]
    # notes bump nothing and publish nothing
    assert alice.GetTask(task_id=task.task_id).task.revision == task.revision
    with pytest.raises(ParseRequestError):
        alice.AddTaskNote(task_id=task.task_id, content="  ")
