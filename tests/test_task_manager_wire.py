"""The reference task-manager's answers on the wire, against the literal JSON of
upstream-services.md section 2: raw kRPC requests (2.3's example, byte for byte) and the
results the server writes, keys in upstream's order; the kevent data of 2.4.7."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.task_manager_zone import TaskZone, task_zone


@pytest.fixture
def zone(tmp_path: Path) -> Any:
    with task_zone(tmp_path / "tasks.db") as z:
        yield z


def call(zone: TaskZone, token: str, method: str, params: Any, seq: int = 1) -> Any:
    body = json.dumps({"method": method, "params": params, "sys": [seq, token]}).encode()
    request = urllib.request.Request(
        zone.krpc_url, body, {"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        out = json.loads(answer.read())
    assert out["sys"][0] == seq
    return out


def ordered(got: dict[str, Any], expected: dict[str, Any]) -> None:
    assert got == expected
    assert list(got) == list(expected)


def test_self_app_life_cycle_as_upstream_writes_it(zone: TaskZone) -> None:
    token = zone.user_token("alice", "photos")
    # 2.3's example, literally.
    params = json.loads(
        """{"name":"import album","schema_id":"raw/v1","input":{"album":"x"},
 "executor":{"kind":"SelfApp","app_instance_id":"photos@alice"},"idempotency_key":"import-x"}"""
    )
    task = call(zone, token, "create_task", params)["result"]["task"]
    tid, now = task["task_id"], task["created_at"]
    ordered(
        task,
        {
            "task_id": tid,
            "name": "import album",
            "root_id": tid,
            "child_control_policy": {
                "follow_pause": True,
                "follow_resume": True,
                "follow_cancel": True,
            },
            "schema_id": "raw/v1",
            "schema_version": 1,
            "input": {"album": "x"},
            "input_digest": "c5c2d67cc7aca5aa4246a1561db57efdeeb98d02bb51f74f902e10a495bc3755",
            # upstream's create_task records the SelfApp instance on the creator too
            "creator": {"user_id": "alice", "app_id": "photos", "app_instance_id": "photos@alice"},
            "idempotency_key": "import-x",
            "executor": {"kind": "App", "app_id": "photos", "app_instance_id": "photos@alice"},
            "runner_epoch": 1,
            "phase": "Accepted",
            "control_profile": {
                "pause": {"kind": "Unavailable"},
                "resume": {"kind": "Unavailable"},
                "cancel": {"kind": "Interrupt"},
                "updated_at": now,
            },
            "policy_preset": "collaborative-tree/v1",
            "permission_boundary": False,
            "revision": 1,
            "created_at": now,
            "updated_at": now,
        },
    )
    env = {"task_id": tid, "app_instance_id": "photos@alice", "runner_epoch": 1}
    started = call(zone, token, "report_started", {**env, "expected_revision": 1})
    assert started["result"]["task"]["phase"] == "Running"
    progress = call(
        zone,
        token,
        "report_progress",
        {**env, "expected_revision": 2, "progress": {"done": 3, "total": 10}},
    )["result"]["task"]
    assert progress["progress"] == {"done": 3, "total": 10} and progress["revision"] == 3
    done = call(
        zone,
        token,
        "commit_result",
        {"task_id": tid, "result": {"count": 10}, **env, "expected_revision": 3},
    )["result"]["task"]
    keys = list(done)
    assert keys.index("outcome") < keys.index("result") < keys.index("completed_by")
    assert (done["phase"], done["outcome"], done["result"]) == (
        "Terminal",
        "Succeeded",
        {"count": 10},
    )
    assert "wait_reason" not in done and "pending_control" not in done
    got = call(zone, token, "get_task", {"task_id": tid})["result"]["task"]
    assert got["data_scope"] == "Full" and list(got)[-4:] == [
        "data_scope",
        "created_at",
        "updated_at",
        "completed_at",
    ]

    # 2.4.7: the kevent data, every key present.
    data = zone.published.of(f"/task_mgr/{tid}")[-1]
    assert list(data) == [
        "event_id",
        "task_id",
        "root_id",
        "revision",
        "event_type",
        "actor",
        "phase",
        "outcome",
        "wait_reason",
        "pending_control",
        "created_at",
    ]
    assert data["actor"] == {"user_id": "alice", "app_id": "photos"}
    assert (data["revision"], data["event_type"], data["outcome"]) == (
        4,
        "ResultCommitted",
        "Succeeded",
    )
    assert data["wait_reason"] is None and data["pending_control"] is None

    events = call(zone, token, "list_task_events", {"task_id": tid})["result"]
    first = events["events"][0]
    ordered(
        first,
        {
            "event_id": first["event_id"],
            "task_id": tid,
            "root_id": tid,
            "task_revision": 1,
            "event_type": "TaskCreated",
            "actor": {"user_id": "alice", "app_id": "photos", "app_instance_id": "photos@alice"},
            "payload": {
                "schema_id": "raw/v1",
                "schema_version": 1,
                "phase": "Accepted",
                "executor_kind": "App",
                "parent_id": None,
            },
            "created_at": now,
        },
    )
    assert events["next_cursor"] == events["events"][-1]["event_id"]
    assert [e["event_id"] for e in events["events"]] == sorted(
        e["event_id"] for e in events["events"]
    )

    page = call(zone, token, "list_tasks", {})["result"]
    assert list(page) == ["tasks"]  # no next_cursor on the last page
    ordered(
        page["tasks"][0],
        {
            "task_id": tid,
            "name": "import album",
            "root_id": tid,
            "schema_id": "raw/v1",
            "schema_version": 1,
            "creator": {"user_id": "alice", "app_id": "photos", "app_instance_id": "photos@alice"},
            "executor_kind": "App",
            "phase": "Terminal",
            "outcome": "Succeeded",
            "revision": 4,
            "created_at": now,
            "updated_at": done["updated_at"],
            "completed_at": done["completed_at"],
        },
    )


def test_errors_as_upstream_writes_them(zone: TaskZone) -> None:
    token = zone.user_token("alice", "photos")
    base = {
        "name": "x",
        "schema_id": "raw/v1",
        "input": {},
        "executor": {"kind": "SelfApp"},
        "idempotency_key": "k",
    }
    assert call(zone, token, "create_task", {**base, "name": " "}) == {
        "error": "Parse Request Error: task name is required",
        "sys": [1],
    }
    assert call(zone, token, "create_task", {**base, "schema_id": "nope/v1"})["error"] == (
        "Failed due to reason: task_schema_not_found: nope/v1@None"
    )
    assert call(zone, token, "create_task", {**base, "schema_id": "raw/v1", "schema_version": 2})[
        "error"
    ] == ("Failed due to reason: task_schema_not_found: raw/v1@Some(2)")
    assert call(zone, token, "create_task", {**base, "schema_id": "human.input/v1"})["error"] == (
        "Failed due to reason: input_schema_mismatch: schema human.input/v1 does not allow "
        "executor kind App"
    )
    assert call(zone, token, "create_task", {**base, "schema_id": "download/v1", "input": 5})[
        "error"
    ] == ("Failed due to reason: input_schema_mismatch: $: expected type object, found number")
    tid = call(zone, token, "create_task", base)["result"]["task"]["task_id"]
    env = {"task_id": tid, "runner_epoch": 1, "expected_revision": 1}
    assert call(zone, token, "report_running", {**env, "expected_revision": 7})["error"] == (
        "Failed due to reason: revision_conflict: expected revision 7, found 1"
    )
    assert call(zone, token, "ack_control", {**env, "request_id": "r", "applied": True})[
        "error"
    ] == ("Failed due to reason: invalid_task_phase: no pending control request")
    call(zone, token, "fail_task", {**env, "error": {"code": "boom", "message": "404"}})
    assert call(zone, token, "report_started", {**env, "expected_revision": 2})["error"] == (
        "Failed due to reason: task_already_completed: task already terminal"
    )
    other = zone.user_token("bob", "other")
    assert call(zone, other, "report_started", {**env, "expected_revision": 2})["error"] == (
        "No permission:permission_denied: caller app other is not the bound runner photos"
    )
    assert call(zone, token, "list_tasks", {"cursor": "nocolon"})["error"] == (
        "Parse Request Error: invalid cursor: nocolon"
    )
    assert call(zone, token, "list_task_events", {})["error"] == (
        "Parse Request Error: task_id or root_id is required"
    )
    assert call(zone, token, "archive_task", {"task_id": tid, "expected_revision": 1})["error"] == (
        "Failed due to reason: revision_conflict: expected revision 1, found 2"
    )
    archived = call(zone, token, "archive_task", {"task_id": tid, "expected_revision": 2})
    assert "archived_at" in archived["result"]["task"]
    assert call(zone, token, "list_tasks", {})["result"] == {"tasks": []}
    assert len(call(zone, token, "list_tasks", {"include_archived": True})["result"]["tasks"]) == 1
