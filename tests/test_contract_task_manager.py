"""The task-manager contract (proto/buckyos/task_manager.proto) against upstream's JSON.

For every verb, the params and the result as upstream writes them
(upstream-services.md section 2: the examples of 2.2 and 2.3 literally, the other verbs
composed from their field tables) are decoded into our messages and encoded back to the
same JSON. Every stable error code reaches a client typed, with upstream's exact text;
an in-process servicer behind a real Binding is called over kRPC and gRPC; the example of
docs/services-tasks.md runs against it.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format, struct_pb2

from buckyos.generated import task_manager_pb2 as tm, task_manager_rpc as rpc
from buckyos.runtime.client.grpc_client import GrpcTransport
from buckyos.runtime.client.krpc_client import KrpcTransport
from buckyos.runtime.descriptor import MethodDescriptor
from buckyos.runtime.errors import (
    CodedError,
    NoPermissionError,
    ParseRequestError,
    ReasonError,
    RPCError,
    error_from_text,
    refine_error,
)
from buckyos.runtime.security.keys import generate_key_pair
from buckyos.runtime.security.rbac import RbacEnforcer
from buckyos.runtime.security.token_signing import sign_token
from buckyos.runtime.security.token_verifier import TokenVerifier
from buckyos.runtime.security.trust_keys import TrustKeyStore
from buckyos.runtime.server import Binding, Request
from buckyos.runtime.server.serve import serving
from buckyos.runtime.testing import LoopbackTransport
from buckyos.runtime.wire.jsonmap import (
    codec_for,
    decode_params,
    decode_result,
    encode_params,
    encode_result,
)

PAGE = Path(__file__).resolve().parent.parent / "docs" / "services-tasks.md"


def same_json(again: Any, original: Any) -> None:
    """``again`` is ``original``: the same JSON, and the top object's keys in the same
    order (keys inside opaque JSON come out in protobuf's map order)."""
    assert json.dumps(again, sort_keys=True) == json.dumps(original, sort_keys=True), (
        again,
        original,
    )
    if isinstance(original, dict):
        assert list(again) == list(original)


def params_round_trip(method: MethodDescriptor[Any, Any], params: Any) -> Any:
    message = decode_params(method, params)
    same_json(encode_params(method, message), params)
    return message


def result_round_trip(method: MethodDescriptor[Any, Any], result: Any, written: Any = None) -> Any:
    """The result message of ``result``; encoded, it is ``result`` again (or ``written``
    where our encoding knowingly differs)."""
    message = decode_result(method, result)
    same_json(encode_result(method, message), result if written is None else written)
    return message


def value(obj: Any) -> struct_pb2.Value:
    return json_format.ParseDict(obj, struct_pb2.Value())


# --- upstream's JSON ---------------------------------------------------------------------

# The Task example of upstream-services.md 2.2, literally.
TASK: dict[str, Any] = json.loads("""
{"task_id": "t-4f0c...", "name": "import album", "parent_id": "t-root" , "root_id": "t-root",
 "child_control_policy": {"follow_pause": true, "follow_resume": true, "follow_cancel": true},
 "schema_id": "raw/v1", "schema_version": 1, "input": {"album": "x"}, "input_digest": "<sha256 hex>",
 "creator": {"user_id": "alice", "app_id": "photos"}, "idempotency_key": "import-1",
 "origin_ref": {"kind": "dispatch", "id": "dsp-1"}, "retry_of": "t-old", "supersedes": "t-old",
 "executor": {"kind": "App", "app_id": "photos", "app_instance_id": "photos@alice"},
 "runner_epoch": 1, "assignees": ["bob"],
 "phase": "Running", "wait_reason": {"kind": "External"},
 "pending_control": {"request_id": "ctl-1", "action": "Pause", "requested_by": {"user_id": "alice", "app_id": "control-panel"}, "requested_at": 1760000000000},
 "control_profile": {"pause": {"kind": "Available"}, "resume": {"kind": "Available"}, "cancel": {"kind": "Safe"}, "updated_at": 1760000000000},
 "progress": {"done": 3, "total": 10}, "message": "copying",
 "outcome": "Succeeded", "result": {"count": 10}, "error": {"code": "x", "message": "y"},
 "completed_by": {"user_id": "alice", "app_id": "photos"},
 "policy_preset": "collaborative-tree/v1", "permission_boundary": false, "revision": 7,
 "data_scope": "Full",
 "created_at": 1760000000000, "updated_at": 1760000005000, "completed_at": 1760000005000, "archived_at": 1760000009000}
""")

BASELINE_PROFILE = {
    "pause": {"kind": "Unavailable"},
    "resume": {"kind": "Unavailable"},
    "cancel": {"kind": "Interrupt"},
    "updated_at": 1760000000000,
}
ALL_FOLLOW = {"follow_pause": True, "follow_resume": True, "follow_cancel": True}

# The task create_task answers in 2.3's example ({"task_id":"t-9a..","phase":"Accepted",
# "revision":1,"runner_epoch":1,...}), the "..." filled from the Task table. No
# assignees: upstream leaves the key out (Option<Vec<String>> = None).
CREATED: dict[str, Any] = {
    "task_id": "t-9a..",
    "name": "import album",
    "root_id": "t-9a..",
    "child_control_policy": ALL_FOLLOW,
    "schema_id": "raw/v1",
    "schema_version": 1,
    "input": {"album": "x"},
    "input_digest": "c5c2d67cc7aca5aa4246a1561db57efdeeb98d02bb51f74f902e10a495bc3755",
    "creator": {"user_id": "alice", "app_id": "photos"},
    "idempotency_key": "import-x",
    "executor": {"kind": "App", "app_id": "photos", "app_instance_id": "photos@alice"},
    "runner_epoch": 1,
    "phase": "Accepted",
    "control_profile": BASELINE_PROFILE,
    "policy_preset": "collaborative-tree/v1",
    "permission_boundary": False,
    "revision": 1,
    "created_at": 1760000000000,
    "updated_at": 1760000000000,
}

# A HumanSet task (update_assignees answers one).
HUMAN_TASK: dict[str, Any] = {
    **CREATED,
    "task_id": "t-h1",
    "root_id": "t-h1",
    "schema_id": "human.approval/v1",
    "input": {"title": "trip"},
    "executor": {"kind": "HumanSet"},
    "runner_epoch": 0,
    "assignees": ["carol"],
    "phase": "Waiting",
    "wait_reason": {"kind": "HumanInput"},
    "revision": 3,
}
# Keys in upstream's order: assignees after runner_epoch, wait_reason after phase.
HUMAN_TASK = {k: HUMAN_TASK[k] for k in TASK if k in HUMAN_TASK}

# A promised task (create_promised_task): Unbound, phase Promised, epoch 0, origin_ref.
PROMISED: dict[str, Any] = {
    **CREATED,
    "task_id": "t-p1",
    "root_id": "t-p1",
    "schema_id": "agent.delegate/v1",
    "origin_ref": {"kind": "dispatch", "id": "dsp-1"},
    "executor": {"kind": "Unbound"},
    "runner_epoch": 0,
    "phase": "Promised",
    "wait_reason": {"kind": "Dispatch"},
}
PROMISED = {k: PROMISED[k] for k in TASK if k in PROMISED}

# get_task for a caller with MetaOnly scope (acl.rs trim_task): input null, result
# dropped, error message "" and detail dropped, idempotency_key "", origin_ref and
# progress dropped, data_scope set.
TRIMMED: dict[str, Any] = {
    k: v for k, v in TASK.items() if k not in ("origin_ref", "progress", "result")
}
TRIMMED.update(
    input=None, idempotency_key="", error={"code": "x", "message": ""}, data_scope="MetaOnly"
)


SUMMARY: dict[str, Any] = {
    "task_id": "t-4f0c...",
    "name": "import album",
    "parent_id": "t-root",
    "root_id": "t-root",
    "schema_id": "raw/v1",
    "schema_version": 1,
    "creator": {"user_id": "alice", "app_id": "photos"},
    "executor_kind": "App",
    "phase": "Running",
    "wait_reason": {"kind": "External"},
    "pending_control_action": "Pause",
    "outcome": "Succeeded",
    "message": "copying",
    "revision": 7,
    "created_at": 1760000000000,
    "updated_at": 1760000005000,
    "completed_at": 1760000005000,
    "archived_at": 1760000009000,
}
ROOT_SUMMARY: dict[str, Any] = {
    "task_id": "t-root",
    "name": "albums",
    "root_id": "t-root",
    "schema_id": "raw/v1",
    "schema_version": 1,
    "creator": {"user_id": "alice", "app_id": "photos", "app_instance_id": "photos@alice"},
    "executor_kind": "HumanSet",
    "phase": "Waiting",
    "revision": 2,
    "created_at": 1759990000000,
    "updated_at": 1759990000001,
}

# The TaskSchemaDefinition example of 2.2, literally (comment dropped).
SCHEMA: dict[str, Any] = json.loads("""
{"schema_id": "photos.import/v1", "schema_version": 1, "input_schema": {"type": "object"},
 "output_schema": {"type": "object"}, "presentation_schema": {},
 "allowed_executor_kinds": ["Unbound", "App", "HumanSet"], "user_creatable": false,
 "publisher_app_id": "photos", "enabled": true, "created_at": 0}
""")
RAW_SCHEMA: dict[str, Any] = {
    "schema_id": "raw/v1",
    "schema_version": 1,
    "input_schema": {},
    "output_schema": {},
    "allowed_executor_kinds": ["Unbound", "App", "HumanSet"],
    "user_creatable": False,
    "publisher_app_id": "task-manager",
    "enabled": True,
    "created_at": 0,
}

GRANT_SPEC: dict[str, Any] = json.loads("""
{"subject": {"kind": "User", "user_id": "bob"}, "actions": ["ReadMeta", "ReadResult"],
 "scope": "SelfOnly", "data_scope": "Payload"}
""")
GRANTS: list[dict[str, Any]] = [
    {
        "grant_id": "g-1",
        "task_id": "t-4f0c...",
        **GRANT_SPEC,
        "created_by": {"user_id": "alice", "app_id": "photos"},
        "created_at": 1760000001000,
    },
    {
        "grant_id": "g-2",
        "task_id": "t-4f0c...",
        "subject": {"kind": "Principal", "user_id": "carol", "app_id": "viewer"},
        "actions": ["ReadMeta", "ReadInput", "Control"],
        "scope": "Subtree",
        "data_scope": "Full",
        "created_by": {"user_id": "alice", "app_id": "photos"},
        "created_at": 1760000002000,
        "revoked_at": 1760000003000,
    },
    {
        "grant_id": "g-3",
        "task_id": "t-4f0c...",
        "subject": {"kind": "SystemRole", "role": "zone-trusted"},
        "actions": ["ReportProgress", "Commit", "CreateChild", "Reassign", "Grant", "Archive"],
        "scope": "WholeTree",
        "data_scope": "MetaOnly",
        "created_by": {"user_id": "alice", "app_id": "photos"},
        "created_at": 1760000004000,
    },
]

ENVELOPE: dict[str, Any] = {
    "task_id": "t-9a..",
    "app_instance_id": "photos@alice",
    "runner_epoch": 1,
    "expected_revision": 2,
}
NOTE: dict[str, Any] = {
    "id": 12,
    "task_id": "t-9a..",
    "note_type": "human",
    "content": "looks good",
    "data": {"rating": 5},
    "author_user_id": "bob",
    "author_app_id": "control-panel",
    "created_at": 1760000006000,
    "updated_at": 1760000006000,
}
EVENTS: list[dict[str, Any]] = [
    {
        "event_id": "e1760000000000-000040-0a1b",
        "task_id": "t-9a..",
        "root_id": "t-9a..",
        "task_revision": 1,
        "event_type": "TaskCreated",
        "actor": {"user_id": "alice", "app_id": "photos"},
        "payload": {
            "schema_id": "raw/v1",
            "schema_version": 1,
            "phase": "Accepted",
            "executor_kind": "App",
            "parent_id": None,
        },
        "created_at": 1760000000000,
    },
    {
        "event_id": "e1760000000000-000042-9f3a",
        "task_id": "t-9a..",
        "root_id": "t-9a..",
        "task_revision": 3,
        "event_type": "ControlRequested",
        "actor": {"user_id": "alice", "app_id": "photos"},
        "payload": {"action": "Pause", "request_id": "ctl-1"},
        "created_at": 1760000000000,
    },
    {
        "event_id": "e1760000001000-000043-77c0",
        "task_id": "t-9a..",
        "root_id": "t-9a..",
        "task_revision": 4,
        "event_type": "ResultCommitted",
        "payload": {},
        "created_at": 1760000001000,
    },
]

# (verb, params, result) per verb, and the variants each shape needs.
CASES: list[tuple[str, Any, Any]] = [
    # 2.3's example, literally.
    (
        "create_task",
        json.loads("""{"name":"import album","schema_id":"raw/v1","input":{"album":"x"},
 "executor":{"kind":"SelfApp","app_instance_id":"photos@alice"},"idempotency_key":"import-x"}"""),
        {"task": CREATED},
    ),
    (
        "create_task",
        {
            "name": "approve trip",
            "schema_id": "human.approval/v1",
            "schema_version": 1,
            "input": {"title": "trip"},
            "executor": {"kind": "HumanSet", "assignees": ["carol"]},
            "parent_id": "t-root",
            "child_control_policy": {
                "follow_pause": False,
                "follow_resume": True,
                "follow_cancel": True,
            },
            "policy_preset": "collaborative-tree/v1",
            "permission_boundary": True,
            "idempotency_key": "trip-1",
            "retry_of": "t-old",
            "supersedes": "t-old",
            "message": "please approve",
        },
        {"task": HUMAN_TASK},
    ),
    (
        "create_delegated_task",
        {
            "name": "import album",
            "schema_id": "raw/v1",
            "schema_version": 1,
            "input": {"album": "x"},
            "creator": {"user_id": "alice", "app_id": "control-panel"},
            "runner_app_instance_id": "photos@alice",
            "parent_id": "t-root",
            "child_control_policy": ALL_FOLLOW,
            "policy_preset": "collaborative-tree/v1",
            "permission_boundary": False,
            "idempotency_key": "import-1",
            "retry_of": "t-old",
            "supersedes": "t-old",
            "message": "queued",
        },
        {"task": TASK},
    ),
    ("get_task", {"task_id": "t-4f0c..."}, {"task": TASK}),
    ("get_task", {"task_id": "t-4f0c..."}, {"task": TRIMMED}),
    (
        "list_tasks",
        {
            "creator_user_id": "alice",
            "creator_app_id": "photos",
            "schema_id": "raw/v1",
            "phase": "Running",
            "root_id": "t-root",
            "executor_kind": "App",
            "runner_app_id": "photos",
            "runner_target_id": "tgt-1",
            "created_after": 1760000000000,
            "created_before": 1760000009000,
            "include_archived": True,
            "cursor": "1759990000000:t-root",
            "limit": 50,
        },
        {"tasks": [SUMMARY], "next_cursor": "1760000000000:t-4f0c..."},
    ),
    ("list_tasks", {}, {"tasks": []}),
    (
        "get_task_tree",
        {"root_id": "t-root", "depth": 2, "cursor": "1759990000000:t-root", "limit": 200},
        {"tasks": [ROOT_SUMMARY, SUMMARY], "next_cursor": "1760000000000:t-4f0c..."},
    ),
    ("get_subtasks", {"task_id": "t-root", "limit": 100}, {"tasks": [SUMMARY]}),
    ("archive_task", {"task_id": "t-4f0c...", "expected_revision": 7}, {"task": TASK}),
    (
        "request_control",
        {"task_id": "t-4f0c...", "action": "Pause", "request_id": "ctl-1", "expected_revision": 6},
        {"kind": "Task", "task": TASK},
    ),
    (
        "request_control",
        {"task_id": "t-root", "action": "Cancel", "request_id": "ctl-2", "recursive": True},
        {
            "kind": "Batch",
            "result": {
                "requested": ["t-root", "t-4f0c..."],
                "skipped_by_policy": ["t-5"],
                "denied": ["t-6"],
                "already_terminal": [],
            },
        },
    ),
    (
        "request_delegated_control",
        {
            "controller": {"user_id": "alice", "app_id": "control-panel"},
            "task_id": "t-4f0c...",
            "action": "Resume",
            "request_id": "ctl-3",
            "expected_revision": 7,
        },
        {"kind": "Task", "task": TASK},
    ),
    (
        "update_assignees",
        {"task_id": "t-h1", "add": ["carol"], "remove": ["bob"], "expected_revision": 2},
        {"task": HUMAN_TASK},
    ),
    (
        "grant_task_access",
        {"task_id": "t-4f0c...", "grant": GRANT_SPEC, "expected_revision": 7},
        {"task": TASK},
    ),
    (
        "revoke_task_access",
        {"task_id": "t-4f0c...", "grant_id": "g-1", "expected_revision": 8},
        {"task": TASK},
    ),
    ("list_task_access", {"task_id": "t-4f0c..."}, {"grants": GRANTS}),
    # 2.3's example, literally.
    (
        "report_started",
        json.loads(
            '{"task_id":"t-9a..","app_instance_id":"photos@alice","runner_epoch":1,'
            '"expected_revision":1}'
        ),
        {"task": {**CREATED, "phase": "Running", "revision": 2}},
    ),
    # 2.3's example, literally.
    (
        "report_progress",
        json.loads(
            '{"task_id":"t-9a..","app_instance_id":"photos@alice","runner_epoch":1,'
            '"expected_revision":2,"progress":{"done":3,"total":10}}'
        ),
        {"task": TASK},
    ),
    (
        "report_progress",
        {"task_id": "t-9a..", "runner_epoch": 1, "expected_revision": 2, "message": "copying"},
        {"task": TASK},
    ),
    (
        "report_waiting",
        {
            **ENVELOPE,
            "reason": {
                "kind": "HumanInput",
                "code": "need_approval",
                "related_task_id": "t-2",
                "message": "...",
            },
        },
        {"task": TASK},
    ),
    ("report_running", ENVELOPE, {"task": TASK}),
    (
        "update_control_profile",
        {
            **ENVELOPE,
            # 2.2's TaskControlProfile example, literally (comments dropped).
            "profile": json.loads("""{"pause": {"kind": "Available"},
 "resume": {"kind": "Unavailable", "reason": "not yet started"},
 "cancel": {"kind": "Interrupt"}, "updated_at": 1760000000000}"""),
        },
        {"task": TASK},
    ),
    (
        "ack_control",
        {**ENVELOPE, "request_id": "ctl-1", "applied": False, "reject_reason": "busy writing"},
        {"task": TASK},
    ),
    ("ack_control", {**ENVELOPE, "request_id": "ctl-1", "applied": True}, {"task": TASK}),
    # 2.3's example, literally.
    (
        "commit_result",
        json.loads(
            '{"task_id":"t-9a..","result":{"count":10},"app_instance_id":"photos@alice",'
            '"runner_epoch":1,"expected_revision":3}'
        ),
        {"task": TASK},
    ),
    (
        "commit_result",
        {"task_id": "t-h1", "result": {"decision": "Approve"}, "expected_revision": 3},
        {"task": HUMAN_TASK},
    ),
    (
        "fail_task",
        # 2.2's TaskError example, literally.
        {**ENVELOPE, "error": {"code": "download_failed", "message": "404", "detail": {}}},
        {"task": TASK},
    ),
    (
        "create_promised_task",
        {
            "name": "delegate",
            "schema_id": "agent.delegate/v1",
            "schema_version": 1,
            "input": {"prompt": "sum up"},
            "creator": {"user_id": "alice", "app_id": "workflow"},
            "expected_input_digest": "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
            "origin_ref": {"kind": "dispatch", "id": "dsp-1"},
            "parent_id": "t-root",
            "child_control_policy": ALL_FOLLOW,
            "policy_preset": "collaborative-tree/v1",
            "permission_boundary": False,
            "idempotency_key": "dsp-1",
            "wait_reason": {"kind": "Dispatch"},
            "message": "queued",
        },
        {"task": PROMISED},
    ),
    (
        "set_promise_wait",
        {
            "task_id": "t-p1",
            "wait_reason": {"kind": "Capacity", "code": "no_instance"},
            "expected_revision": 1,
        },
        {"task": PROMISED},
    ),
    (
        "bind_app_executor",
        {
            "task_id": "t-p1",
            "target_id": "tgt-1",
            "app_id": "photos",
            "app_instance_id": "photos@alice",
            "delivery_id": "dsp-1#1",
            "expected_revision": 2,
        },
        {"task": TASK},
    ),
    (
        "release_app_executor",
        {
            "task_id": "t-4f0c...",
            "expected_instance_id": "photos@alice",
            "expected_runner_epoch": 1,
            "reason": {"kind": "Dispatch"},
            "expected_revision": 7,
        },
        {"task": TASK},
    ),
    (
        "finish_promise_failure",
        {
            "task_id": "t-p1",
            "error": {"code": "delivery_exhausted", "message": "10 attempts"},
            "expected_revision": 4,
        },
        {"task": PROMISED},
    ),
    ("cancel_promised_task", {"task_id": "t-p1", "expected_revision": 2}, {"task": PROMISED}),
    ("register_task_schema", {"definition": SCHEMA}, SCHEMA),
    ("get_task_schema", {"schema_id": "photos.import/v1", "schema_version": 1}, SCHEMA),
    ("get_task_schema", {"schema_id": "raw/v1"}, RAW_SCHEMA),
    (
        "list_task_schemas",
        {"user_creatable_only": False, "include_disabled": True},
        {"schemas": [RAW_SCHEMA, SCHEMA]},
    ),
    ("list_task_schemas", {}, {"schemas": []}),
    (
        "set_task_schema_enabled",
        {"schema_id": "photos.import/v1", "schema_version": 1, "enabled": False},
        {**SCHEMA, "enabled": False},
    ),
    (
        "list_task_events",
        {"task_id": "t-9a..", "after_event_id": "e1759999999999-000001-0000", "limit": 100},
        {"events": EVENTS, "next_cursor": "e1760000001000-000043-77c0"},
    ),
    ("list_task_events", {"root_id": "t-9a.."}, {"events": []}),
    (
        "add_task_note",
        {"task_id": "t-9a..", "note_type": "human", "content": "looks good", "data": {"rating": 5}},
        {"note_id": 12, "note": NOTE},
    ),
    ("list_task_notes", {"task_id": "t-9a.."}, {"notes": [NOTE]}),
]

VERBS = [m.krpc for m in rpc.TASK_MANAGER.methods]


def test_the_verb_table() -> None:
    service = rpc.TASK_MANAGER
    assert service.api == "task-manager"
    assert len(VERBS) == 34 == len(set(VERBS))
    # Every verb needs a session token; identity never comes from the params.
    assert {m.auth_text for m in service.methods} == {"token"}
    assert {krpc for krpc, _, _ in CASES} == set(VERBS)
    reads = {m.krpc for m in service.methods if m.idempotent and "list" in m.krpc}
    assert reads >= {"list_tasks", "list_task_access", "list_task_events", "list_task_notes"}
    assert rpc.TASK_MANAGER_GET_TASK.idempotent
    assert rpc.TASK_MANAGER_CREATE_TASK.required == (
        "name",
        "schema_id",
        "input",
        "executor",
        "idempotency_key",
    )
    assert rpc.TASK_MANAGER_REPORT_STARTED.required == ("envelope",)
    # The zone-trusted-only verbs say so.
    trusted = {m.krpc for m in service.methods if m.doc.startswith("Zone-trusted only")}
    assert trusted == {
        "create_delegated_task",
        "request_delegated_control",
        "create_promised_task",
        "set_promise_wait",
        "bind_app_executor",
        "finish_promise_failure",
        "cancel_promised_task",
        "set_task_schema_enabled",
    }


@pytest.mark.parametrize(("krpc", "params", "result"), CASES, ids=[c[0] for c in CASES])
def test_every_verb_round_trips_upstreams_json(krpc: str, params: Any, result: Any) -> None:
    method = rpc.TASK_MANAGER.by_krpc[krpc]
    params_round_trip(method, params)
    # Task.assignees is left out when empty, as upstream leaves out None (omit_empty).
    result_round_trip(method, result)


def test_the_task_example_field_by_field() -> None:
    task = decode_result(rpc.TASK_MANAGER_GET_TASK, {"task": TASK}).task
    # Keys come back in upstream's order.
    assert list(codec_for(tm.Task).to_json(task)) == list(TASK)
    assert task.executor.WhichOneof("executor") == "app"
    assert task.executor.app == tm.AppExecutor(app_id="photos", app_instance_id="photos@alice")
    assert task.phase == tm.TASK_PHASE_RUNNING
    assert task.outcome == tm.TASK_OUTCOME_SUCCEEDED
    assert task.wait_reason.kind == tm.TASK_WAIT_REASON_KIND_EXTERNAL
    assert task.pending_control.action == tm.TASK_CONTROL_ACTION_PAUSE
    assert task.control_profile.cancel.WhichOneof("capability") == "safe"
    assert task.control_profile.pause.WhichOneof("availability") == "available"
    assert json_format.MessageToDict(task.progress) == {"done": 3, "total": 10}
    assert task.data_scope == tm.TASK_DATA_SCOPE_FULL
    assert not task.permission_boundary and task.HasField("archived_at")
    assert not task.error.HasField("detail")


def test_a_trimmed_task_keeps_input_null() -> None:
    task = decode_result(rpc.TASK_MANAGER_GET_TASK, {"task": TRIMMED}).task
    assert not task.HasField("input") and not task.HasField("result")
    assert codec_for(tm.Task).to_json(task)["input"] is None


def test_tagged_shapes() -> None:
    create = decode_params(rpc.TASK_MANAGER_CREATE_TASK, CASES[0][1])
    assert create.executor.self_app.app_instance_id == "photos@alice"
    assert not create.HasField("schema_version") and not create.HasField("permission_boundary")
    human = decode_params(rpc.TASK_MANAGER_CREATE_TASK, CASES[1][1])
    assert list(human.executor.human_set.assignees) == ["carol"]
    assert encode_params(
        rpc.TASK_MANAGER_CREATE_TASK,
        tm.CreateTaskRequest(executor=tm.CreateTaskExecutor(self_app=tm.SelfAppExecutor())),
    )["executor"] == {"kind": "SelfApp"}
    batch = decode_result(rpc.TASK_MANAGER_REQUEST_CONTROL, CASES[11][2])
    assert batch.WhichOneof("result") == "batch"
    assert list(batch.batch.result.denied) == ["t-6"]
    single = decode_result(rpc.TASK_MANAGER_REQUEST_CONTROL, {"kind": "Task", "task": TASK})
    assert single.task.task.revision == 7
    grants = decode_result(rpc.TASK_MANAGER_LIST_TASK_ACCESS, {"grants": GRANTS}).grants
    assert [g.subject.WhichOneof("subject") for g in grants] == ["user", "principal", "system_role"]
    units = [{"kind": k} for k in ("RootCreator", "Creator", "Runner", "Assignees")] + [
        {"kind": "App", "app_id": "photos"}
    ]
    for subject in units:
        spec = {**GRANT_SPEC, "subject": subject}
        params_round_trip(
            rpc.TASK_MANAGER_GRANT_TASK_ACCESS,
            {"task_id": "t-1", "grant": spec, "expected_revision": 1},
        )


def test_the_runner_envelope_is_flattened() -> None:
    request = decode_params(rpc.TASK_MANAGER_REPORT_PROGRESS, CASES[18][1])
    assert request.envelope == tm.RunnerWriteEnvelope(
        task_id="t-9a..", app_instance_id="photos@alice", runner_epoch=1, expected_revision=2
    )
    built = tm.ReportProgressRequest(
        envelope=tm.RunnerWriteEnvelope(task_id="t-1", runner_epoch=1, expected_revision=5),
        progress=value({"done": 1}),
    )
    assert encode_params(rpc.TASK_MANAGER_REPORT_PROGRESS, built) == {
        "task_id": "t-1",
        "runner_epoch": 1,
        "expected_revision": 5,
        "progress": {"done": 1},
    }
    with pytest.raises(ParseRequestError, match="runner_epoch"):
        decode_params(rpc.TASK_MANAGER_REPORT_STARTED, {"task_id": "t-1", "expected_revision": 1})


def test_serde_refusals() -> None:
    with pytest.raises(ParseRequestError, match="unknown variant `App`"):
        decode_params(
            rpc.TASK_MANAGER_CREATE_TASK,
            {**CASES[0][1], "executor": {"kind": "App", "app_id": "photos"}},
        )
    with pytest.raises(ParseRequestError, match="idempotency_key"):
        decode_params(
            rpc.TASK_MANAGER_CREATE_TASK,
            {k: v for k, v in CASES[0][1].items() if k != "idempotency_key"},
        )
    with pytest.raises(ParseRequestError, match="Running"):
        decode_params(rpc.TASK_MANAGER_LIST_TASKS, {"phase": "running"})


# --- errors ----------------------------------------------------------------------------

CODED: tuple[type[CodedError], ...] = rpc.TASK_MANAGER_ERRORS.classes

# upstream-services.md 2.1's examples, and one text per remaining code (2.4).
UPSTREAM_TEXTS: list[tuple[str, type[CodedError]]] = [
    ("Failed due to reason: task_not_found: t-1b2c", rpc.TaskNotFoundError),
    (
        "Failed due to reason: revision_conflict: expected revision 3, found 5",
        rpc.RevisionConflictError,
    ),
    (
        "Failed due to reason: revision_conflict: task t-1 was modified concurrently",
        rpc.RevisionConflictError,
    ),
    ("No permission:permission_denied: missing Control on task t-1", rpc.PermissionDeniedError),
    (
        "Failed due to reason: stale_runner_epoch: runner epoch 1 != current 2",
        rpc.StaleRunnerEpochError,
    ),
    (
        "Failed due to reason: idempotency_conflict: idempotency key K maps to a different "
        "immutable request",
        rpc.IdempotencyConflictError,
    ),
    ("Failed due to reason: task_schema_not_found: foo/v1@None", rpc.TaskSchemaNotFoundError),
    (
        "Failed due to reason: invalid_task_phase: report_started requires Accepted, found Running",
        rpc.InvalidTaskPhaseError,
    ),
    (
        "Failed due to reason: control_not_available: runner does not currently support pause",
        rpc.ControlNotAvailableError,
    ),
    (
        "Failed due to reason: control_already_pending: a cancel request is already pending",
        rpc.ControlAlreadyPendingError,
    ),
    (
        "Failed due to reason: task_already_completed: task already terminal",
        rpc.TaskAlreadyCompletedError,
    ),
    (
        "Failed due to reason: input_schema_mismatch: $.url: expected type string, found number",
        rpc.InputSchemaMismatchError,
    ),
    (
        "Failed due to reason: result_schema_mismatch: $: missing required property 'code'",
        rpc.ResultSchemaMismatchError,
    ),
    (
        "No permission:permission_denied: create_promised_task requires a zone-trusted "
        "service identity",
        rpc.PermissionDeniedError,
    ),
]


def test_every_code_is_declared_with_its_kind() -> None:
    assert [cls.code for cls in CODED] == [
        "task_not_found",
        "permission_denied",
        "revision_conflict",
        "stale_runner_epoch",
        "invalid_task_phase",
        "control_not_available",
        "control_already_pending",
        "task_already_completed",
        "input_schema_mismatch",
        "result_schema_mismatch",
        "idempotency_conflict",
        "task_schema_not_found",
    ]
    for cls in CODED:
        kind = NoPermissionError if cls.code == "permission_denied" else ReasonError
        assert issubclass(cls, kind), cls
    assert {cls for _, cls in UPSTREAM_TEXTS} == set(CODED)


@pytest.mark.parametrize(("text", "cls"), UPSTREAM_TEXTS)
def test_upstreams_texts_become_typed_errors(text: str, cls: type[CodedError]) -> None:
    error = refine_error(rpc.TASK_MANAGER_GET_TASK, error_from_text(text))
    assert type(error) is cls
    assert error.text == text
    assert text.endswith(f"{cls.code}: {error.message}")


@pytest.mark.parametrize(
    "text",
    [
        "Parse Request Error: task name is required",
        "No permission:task-manager requires a session token",
        "Invalid token: session token has an empty subject",
        "Unknown method: run_task",
    ],
)
def test_plain_texts_stay_plain(text: str) -> None:
    received = error_from_text(text)
    assert refine_error(rpc.TASK_MANAGER_GET_TASK, received) is received


class Raising(rpc.TaskManagerServicer):
    """Raises the coded error named by the task id."""

    def GetTask(self, request: tm.GetTaskRequest, req: Request) -> tm.TaskResult:
        for cls in CODED:
            if cls.code == request.task_id:
                raise cls(f"detail of {cls.code}")
        raise ReasonError("task store error: disk full")


def test_every_code_reaches_the_client_typed() -> None:
    stub = rpc.TaskManagerStub(LoopbackTransport(Raising()))
    for cls in CODED:
        with pytest.raises(cls) as err:
            stub.GetTask(task_id=cls.code)
        prefix = "No permission:" if cls.code == "permission_denied" else "Failed due to reason: "
        assert err.value.text == f"{prefix}{cls.code}: detail of {cls.code}"
        assert err.value.code == cls.code and err.value.message == f"detail of {cls.code}"
    with pytest.raises(ReasonError) as plain:
        stub.GetTask(task_id="other")
    assert type(plain.value) is ReasonError


# --- end to end ---------------------------------------------------------------------------


class MiniTaskManager(rpc.TaskManagerServicer):
    """Enough of task-manager for an app that runs its own task: create_task (SelfApp),
    get_task, report_started, report_progress, commit_result, with upstream's checks and
    texts."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.tasks: dict[str, tm.Task] = {}

    def CreateTask(self, request: tm.CreateTaskRequest, req: Request) -> tm.TaskResult:
        if request.executor.WhichOneof("executor") != "self_app":
            raise ReasonError("not in this test")
        assert req.caller.user_id is not None and req.caller.app_id is not None
        now = int(time.time() * 1000)
        with self._lock:
            for task in self.tasks.values():
                if task.idempotency_key == request.idempotency_key:
                    return tm.TaskResult(task=task)
            task_id = f"t-{len(self.tasks) + 1}"
            unavailable = tm.ControlAvailability(unavailable=tm.ControlUnavailable())
            task = tm.Task(
                task_id=task_id,
                name=request.name,
                root_id=task_id,
                child_control_policy=tm.ChildControlPolicy(
                    follow_pause=True, follow_resume=True, follow_cancel=True
                ),
                schema_id=request.schema_id,
                schema_version=request.schema_version or 1,
                input=request.input,
                creator=tm.ActorRef(user_id=req.caller.user_id, app_id=req.caller.app_id),
                idempotency_key=request.idempotency_key,
                executor=tm.TaskExecutor(
                    app=tm.AppExecutor(
                        app_id=req.caller.app_id,
                        app_instance_id=request.executor.self_app.app_instance_id or None,
                    )
                ),
                runner_epoch=1,
                phase=tm.TASK_PHASE_ACCEPTED,
                control_profile=tm.TaskControlProfile(
                    pause=unavailable,
                    resume=unavailable,
                    cancel=tm.CancelCapability(interrupt={}),
                    updated_at=now,
                ),
                policy_preset="collaborative-tree/v1",
                revision=1,
                created_at=now,
                updated_at=now,
            )
            self.tasks[task_id] = task
        return tm.TaskResult(task=task)

    def GetTask(self, request: tm.GetTaskRequest, req: Request) -> tm.TaskResult:
        with self._lock:
            task = self.tasks.get(request.task_id)
            if task is None or task.creator.user_id != req.caller.user_id:
                raise rpc.TaskNotFoundError(request.task_id)
            return tm.TaskResult(task=task)

    def _runner_write(
        self, envelope: tm.RunnerWriteEnvelope, req: Request, apply: Any
    ) -> tm.TaskResult:
        with self._lock:
            task = self.tasks.get(envelope.task_id)
            if task is None:
                raise rpc.TaskNotFoundError(envelope.task_id)
            if task.executor.app.app_id != req.caller.app_id:
                raise rpc.PermissionDeniedError(
                    f"caller app {req.caller.app_id} is not the bound runner "
                    f"{task.executor.app.app_id}"
                )
            if envelope.runner_epoch != task.runner_epoch:
                raise rpc.StaleRunnerEpochError(
                    f"runner epoch {envelope.runner_epoch} != current {task.runner_epoch}"
                )
            if task.phase == tm.TASK_PHASE_TERMINAL:
                raise rpc.TaskAlreadyCompletedError("task already terminal")
            if envelope.expected_revision != task.revision:
                raise rpc.RevisionConflictError(
                    f"expected revision {envelope.expected_revision}, found {task.revision}"
                )
            updated = tm.Task()
            updated.CopyFrom(task)
            apply(updated)
            updated.revision += 1
            updated.updated_at = int(time.time() * 1000)
            self.tasks[task.task_id] = updated
            return tm.TaskResult(task=updated)

    def ReportStarted(self, request: tm.ReportStartedRequest, req: Request) -> tm.TaskResult:
        def start(task: tm.Task) -> None:
            if task.phase != tm.TASK_PHASE_ACCEPTED:
                raise rpc.InvalidTaskPhaseError("report_started requires Accepted")
            task.phase = tm.TASK_PHASE_RUNNING

        return self._runner_write(request.envelope, req, start)

    def ReportProgress(self, request: tm.ReportProgressRequest, req: Request) -> tm.TaskResult:
        def progress(task: tm.Task) -> None:
            if request.HasField("progress"):
                task.progress.CopyFrom(request.progress)
            if request.HasField("message"):
                task.message = request.message

        return self._runner_write(request.envelope, req, progress)

    def CommitResult(self, request: tm.CommitResultRequest, req: Request) -> tm.TaskResult:
        if not request.HasField("runner_epoch"):
            raise ParseRequestError("runner_epoch is required for App runner commits")
        envelope = tm.RunnerWriteEnvelope(
            task_id=request.task_id,
            app_instance_id=request.app_instance_id
            if request.HasField("app_instance_id")
            else None,
            runner_epoch=request.runner_epoch,
            expected_revision=request.expected_revision,
        )

        def commit(task: tm.Task) -> None:
            task.result.CopyFrom(request.result)
            task.phase = tm.TASK_PHASE_TERMINAL
            task.outcome = tm.TASK_OUTCOME_SUCCEEDED
            task.completed_at = int(time.time() * 1000)

        return self._runner_write(envelope, req, commit)


class Zone:
    """A MiniTaskManager behind a real Binding (owner-signed tokens), served over kRPC and
    gRPC on free ports in a thread of its own."""

    def __init__(self) -> None:
        private, public = generate_key_pair()
        self.trust = TrustKeyStore()
        self.trust.set_owner_key(public)
        exp = int(time.time()) + 600
        self.alice = sign_token({"sub": "alice", "appid": "photos", "exp": exp}, private, kid=None)
        self.mallory = sign_token(
            {"sub": "mallory", "appid": "other", "exp": exp}, private, kid=None
        )
        self.service = MiniTaskManager()
        self.krpc_url = ""
        self.grpc_target = ""


@pytest.fixture
def zone() -> Iterator[Zone]:
    z = Zone()
    ready = threading.Event()
    stop: list[asyncio.Event] = []
    loop = asyncio.new_event_loop()

    async def main() -> None:
        binding = Binding(
            "task-manager", verifier=TokenVerifier(z.trust), rbac=RbacEnforcer(), timeout=5.0
        )
        binding.add_service(z.service)
        stop.append(asyncio.Event())
        async with serving(
            binding, krpc_port=0, grpc_port=0, log_level="warning", register=False
        ) as info:
            assert info.krpc_url is not None and info.grpc_target is not None
            z.krpc_url, z.grpc_target = info.krpc_url, info.grpc_target
            ready.set()
            await stop[0].wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    try:
        assert ready.wait(10), "the task-manager test server did not start"
        yield z
    finally:
        if stop:
            loop.call_soon_threadsafe(stop[0].set)
        thread.join(10)
        loop.close()
        assert not thread.is_alive()


def run_own_task(stub: rpc.TaskManagerStub, key: str) -> tm.Task:
    created = stub.CreateTask(
        name="import album",
        schema_id="raw/v1",
        input=value({"album": "x"}),
        executor=tm.CreateTaskExecutor(self_app=tm.SelfAppExecutor(app_instance_id="photos@alice")),
        idempotency_key=key,
    ).task
    assert (created.phase, created.revision, created.runner_epoch) == (tm.TASK_PHASE_ACCEPTED, 1, 1)

    def envelope(task: tm.Task) -> tm.RunnerWriteEnvelope:
        return tm.RunnerWriteEnvelope(
            task_id=task.task_id,
            app_instance_id=task.executor.app.app_instance_id,
            runner_epoch=task.runner_epoch,
            expected_revision=task.revision,
        )

    started = stub.ReportStarted(envelope=envelope(created)).task
    assert started.phase == tm.TASK_PHASE_RUNNING
    progressed = stub.ReportProgress(
        envelope=envelope(started), progress=value({"done": 3, "total": 10})
    ).task
    with pytest.raises(rpc.RevisionConflictError) as stale:
        stub.ReportProgress(envelope=envelope(started), message="again")
    assert stale.value.text == (
        "Failed due to reason: revision_conflict: expected revision 2, found 3"
    )
    done = stub.CommitResult(
        task_id=progressed.task_id,
        result=value({"count": 10}),
        app_instance_id="photos@alice",
        runner_epoch=progressed.runner_epoch,
        expected_revision=progressed.revision,
    ).task
    assert (done.phase, done.outcome, done.revision) == (
        tm.TASK_PHASE_TERMINAL,
        tm.TASK_OUTCOME_SUCCEEDED,
        4,
    )
    assert json_format.MessageToDict(done.result) == {"count": 10}
    with pytest.raises(rpc.TaskAlreadyCompletedError):
        stub.ReportStarted(envelope=envelope(done))
    return done


def test_end_to_end_over_krpc_and_grpc(zone: Zone) -> None:
    with KrpcTransport(f"{zone.krpc_url}/kapi/task-manager", token=zone.alice) as krpc:
        done = run_own_task(rpc.TaskManagerStub(krpc), "import-krpc")
        assert rpc.TaskManagerStub(krpc).GetTask(task_id=done.task_id).task == done
    with GrpcTransport(zone.grpc_target, token=zone.alice) as grpc:
        run_own_task(rpc.TaskManagerStub(grpc), "import-grpc")
    with GrpcTransport(zone.grpc_target, token=zone.mallory) as grpc:
        with pytest.raises(rpc.TaskNotFoundError) as hidden:
            rpc.TaskManagerStub(grpc).GetTask(task_id=done.task_id)
        assert hidden.value.text == f"Failed due to reason: task_not_found: {done.task_id}"
    with KrpcTransport(f"{zone.krpc_url}/kapi/task-manager") as anonymous:
        with pytest.raises(NoPermissionError):
            rpc.TaskManagerStub(anonymous).GetTask(task_id=done.task_id)


class Created(rpc.TaskManagerServicer):
    def CreateTask(self, request: tm.CreateTaskRequest, req: Request) -> tm.TaskResult:
        return decode_result(rpc.TASK_MANAGER_CREATE_TASK, {"task": CREATED})


def test_the_wire_carries_upstreams_params() -> None:
    """The stub's params are 2.3's example byte for byte (what upstream's server reads)."""
    transport = LoopbackTransport(Created())
    stub = rpc.TaskManagerStub(transport)
    stub.CreateTask(
        name="import album",
        schema_id="raw/v1",
        input=value({"album": "x"}),
        executor=tm.CreateTaskExecutor(self_app=tm.SelfAppExecutor(app_instance_id="photos@alice")),
        idempotency_key="import-x",
    )
    assert json.dumps(transport.last_params, separators=(",", ":")) == (
        '{"name":"import album","schema_id":"raw/v1","input":{"album":"x"},'
        '"executor":{"kind":"SelfApp","app_instance_id":"photos@alice"},'
        '"idempotency_key":"import-x"}'
    )
    assert transport.last_result == {"task": CREATED}


def _page_example(heading: str) -> str:
    section = PAGE.read_text(encoding="utf-8").split(f"## {heading}\n", 1)[1]
    found = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert found is not None, heading
    return found.group(1)


def test_docs_example(zone: Zone, capsys: pytest.CaptureFixture[str]) -> None:
    code = _page_example("task-manager: an app running its own task")
    namespace = {
        "TASK_MANAGER_URL": f"{zone.krpc_url}/kapi/task-manager",
        "SESSION_TOKEN": zone.alice,
    }
    exec(compile(code, str(PAGE), "exec"), namespace)
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "t-1 Accepted revision 1",
        "t-1 Running revision 3",
        "t-1 Terminal Succeeded {'count': 10.0}",
    ]


def test_errors_are_rpc_errors() -> None:
    assert all(issubclass(cls, RPCError) for cls in CODED)
