"""The kevent the reference task-manager publishes after each committed mutation
(upstream-services.md 2.4.7), observed through a fake publisher: ids, audience, replays,
and a publisher that fails never fails the call."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format, struct_pb2

from buckyos.generated import task_manager_pb2 as tm
from buckyos.services.task_manager.events import QueuedPublisher
from tests.task_manager_zone import TaskZone, task_zone


@pytest.fixture
def zone(tmp_path: Path) -> Any:
    with task_zone(tmp_path / "tasks.db") as z:
        yield z


def value(obj: Any) -> struct_pb2.Value:
    return json_format.ParseDict(obj, struct_pb2.Value())


def test_ids_audience_and_replays(zone: TaskZone) -> None:
    alice = zone.stub(zone.user_token("alice", "photos"))
    root = alice.CreateTask(
        name="root",
        schema_id="raw/v1",
        input=value({}),
        executor=tm.CreateTaskExecutor(self_app=tm.SelfAppExecutor()),
        idempotency_key="root",
    ).task
    child = alice.CreateTask(
        name="approve",
        schema_id="human.approval/v1",
        input=value({}),
        executor=tm.CreateTaskExecutor(human_set=tm.HumanSetExecutor(assignees=["carol"])),
        idempotency_key="child",
        parent_id=root.task_id,
    ).task
    spec = tm.TaskAclGrantSpec(
        actions=[tm.TASK_ACTION_READ_META],
        scope=tm.TASK_GRANT_SCOPE_SUBTREE,
        data_scope=tm.TASK_DATA_SCOPE_META_ONLY,
    )
    spec.subject.app.app_id = "viewer"
    root = alice.GrantTaskAccess(task_id=root.task_id, grant=spec, expected_revision=1).task
    child = alice.UpdateAssignees(task_id=child.task_id, add=["bob"], expected_revision=1).task

    # a root's events go to its own id only; a child's to its id and its tree's
    ids = zone.published.ids()
    assert ids == [
        f"/task_mgr/{root.task_id}",
        f"/task_mgr/{child.task_id}",
        f"/task_mgr/tree/{root.task_id}",
        f"/task_mgr/{root.task_id}",
        f"/task_mgr/{child.task_id}",
        f"/task_mgr/tree/{root.task_id}",
    ]
    audience = zone.published.events[-1][2]
    # the child's creator and its root's, the root's runner app, the assignees, and the
    # grant on the chain (App viewer)
    assert audience == {"users": ["alice", "bob", "carol"], "apps": ["photos", "viewer"]}
    data = zone.published.of(f"/task_mgr/tree/{root.task_id}")[-1]
    assert (data["task_id"], data["root_id"], data["event_type"]) == (
        child.task_id,
        root.task_id,
        "AssigneesChanged",
    )
    assert data["wait_reason"] == "HumanInput"

    # an idempotent replay publishes again, with event_id "" and the task's created_at
    before = len(zone.published.events)
    alice.CreateTask(
        name="root",
        schema_id="raw/v1",
        input=value({}),
        executor=tm.CreateTaskExecutor(self_app=tm.SelfAppExecutor()),
        idempotency_key="root",
    )
    replay = zone.published.events[before][1]
    assert replay["event_id"] == "" and replay["created_at"] == root.created_at
    assert replay["revision"] == root.revision

    # notes and reads publish nothing
    before = len(zone.published.events)
    alice.AddTaskNote(task_id=root.task_id, content="note")
    alice.GetTask(task_id=root.task_id)
    alice.ListTasks()
    assert len(zone.published.events) == before


def test_a_failing_publisher_never_fails_the_call(zone: TaskZone) -> None:
    zone.published.fail = True
    alice = zone.stub(zone.user_token("alice", "photos"))
    task = alice.CreateTask(
        name="x",
        schema_id="raw/v1",
        input=value({}),
        executor=tm.CreateTaskExecutor(self_app=tm.SelfAppExecutor()),
        idempotency_key="x",
    ).task
    assert alice.GetTask(task_id=task.task_id).task.revision == 1
    assert zone.published.events == []


def test_queued_publisher_keeps_order_and_drops_the_oldest() -> None:
    gate = threading.Event()
    seen: list[str] = []

    def slow(eventid: str, data: dict[str, Any], audience: dict[str, list[str]]) -> None:
        gate.wait(10)
        seen.append(eventid)

    publisher = QueuedPublisher(slow, size=3)
    start = time.monotonic()
    for n in range(10):
        publisher(f"/e/{n}", {}, {"users": [], "apps": []})
    assert time.monotonic() - start < 2  # never waits for the slow publish
    gate.set()
    publisher.close()
    # the first was taken before the queue filled; of the rest, the newest three remain
    assert seen[-3:] == ["/e/7", "/e/8", "/e/9"]
    assert seen == sorted(seen, key=lambda e: int(e.rsplit("/", 1)[1]))
    assert len(seen) <= 5
