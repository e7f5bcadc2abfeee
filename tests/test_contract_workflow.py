"""The workflow contract (proto/buckyos/workflow.proto) against upstream's wire
(upstream-services.md section 10, workflow_service.rs, the server's server.rs and
scheduled_task_manager.rs): the ten scheduled-task verbs' params and envelope results
written out literally, decoded into our messages and encoded back to the same JSON;
`ok: false` envelopes as NotOkError, over real kRPC and gRPC servers too; a small
servicer with tokens; the page's example."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from google.protobuf import struct_pb2

from buckyos.generated import workflow_pb2 as pb, workflow_rpc as rpc
from buckyos.runtime.client.grpc_client import GrpcTransport
from buckyos.runtime.client.krpc_client import KrpcTransport
from buckyos.runtime.descriptor import MethodDescriptor
from buckyos.runtime.errors import NoPermissionError, NotOkError, RPCError
from buckyos.runtime.security import (
    Ed25519PrivateKey,
    RbacEnforcer,
    TokenVerifier,
    TrustKeyStore,
    generate_key_pair,
    sign_token,
)
from buckyos.runtime.server import Binding, Request
from buckyos.runtime.testing import LoopbackTransport
from buckyos.runtime.wire.jsonmap import decode_params, decode_result, encode_params, encode_result
from tests.contract_json import (
    page_example,
    params_refused,
    params_round_trip,
    result_refused,
    result_round_trip,
    same_json,
    served,
)

PAGE = "services-repo-scheduler-workflow.md"

OWNER = {"user_id": "alice", "app_id": "photos"}
# ScheduleSpec: serde writes the variants' Options as null (#[serde(default)], no skip).
CRON: dict[str, Any] = {
    "kind": "cron",
    "expr": "0 9 * * *",
    "timezone": "Asia/Shanghai",
    "calendar": None,
    "start_at": None,
    "end_at": None,
}
ONCE: dict[str, Any] = {"kind": "once", "run_at": 1760000000, "timezone": None}
EVERY: dict[str, Any] = {
    "kind": "run_every",
    "every_sec": 3600,
    "start_at": 1760000000,
    "end_at": None,
    "timezone": "UTC",
}
TARGET: dict[str, Any] = {
    "task_type": "workflow.run",
    "name_template": "daily digest ${fire.fire_time}",
    "data_template": {"workflow_run": {"workflow_id": "wf-digest", "input": {"limit": 10}}},
}
POLICY: dict[str, Any] = {
    "misfire": "skip",
    "max_parallel_runs": 1,
    "catch_up_limit": 1,
    "jitter_sec": 0,
}
# WorkflowSchedule::to_value() as the server writes it at HEAD: its own status names and
# string task ids; every Option written (null when none).
SCHEDULE: dict[str, Any] = {
    "schedule_id": "sch-5d0c",
    "owner": OWNER,
    "name": "daily digest",
    "description": None,
    "status": "Running",
    "schedule": CRON,
    "target": TARGET,
    "state": {
        "next_fire_at": 1760058000,
        "last_fire_at": 1759971600,
        "last_task_id": "t-8e2a",
        "last_run_id": "run-77",
        "consecutive_failures": 0,
        "last_error": None,
    },
    "policy": POLICY,
    "task_mirror": {"root_task_id": "t-root", "root_id": "t-root"},
    "created_at": 1759900000,
    "updated_at": 1759971600,
}
FIRE: dict[str, Any] = {
    "fire_id": "fire-1a",
    "schedule_id": "sch-5d0c",
    "fire_key": "sch-5d0c:1760000000",
    "fire_time": 1760000000,
    "manual": True,
    "status": "task_created",
    "task_id": "t-9f00",
    "run_id": "run-78",
    "error": None,
    "created_at": 1760000000,
    "updated_at": 1760000001,
}
NOT_FOUND = {"ok": False, "error": "schedule_not_found", "id": "sch-404"}

ALL = (
    rpc.WORKFLOW_CREATE_SCHEDULED_TASK,
    rpc.WORKFLOW_UPDATE_SCHEDULED_TASK,
    rpc.WORKFLOW_GET_SCHEDULED_TASK,
    rpc.WORKFLOW_PAUSE_SCHEDULED_TASK,
    rpc.WORKFLOW_RESUME_SCHEDULED_TASK,
    rpc.WORKFLOW_ARCHIVE_SCHEDULED_TASK,
    rpc.WORKFLOW_LIST_SCHEDULED_TASKS,
    rpc.WORKFLOW_RUN_SCHEDULED_TASK_NOW,
    rpc.WORKFLOW_GET_SCHEDULED_TASK_HISTORY,
    rpc.WORKFLOW_VALIDATE_SCHEDULED_TASK,
)


def test_verb_table() -> None:
    service = rpc.WORKFLOW
    assert (service.api, service.port) == ("workflow", 4070)
    # Every verb answers its bare name and the `service.` / `workflow.` prefixed ones.
    assert {f"{p}{m.krpc}" for m in ALL for p in ("", "service.", "workflow.")} == set(
        service.by_krpc
    )
    assert rpc.WORKFLOW_GET_SCHEDULED_TASK.aliases == (
        "service.get_scheduled_task",
        "workflow.get_scheduled_task",
    )
    assert len(service.methods) == 10
    assert {m.result_shape.name for m in service.methods} == {"ENVELOPE"}
    # The server verifies the caller on every schedule verb but validate.
    assert {m.krpc: m.auth_text for m in service.methods if m.auth_text != "token"} == {
        "validate_scheduled_task": "yes"
    }
    assert not rpc.WORKFLOW_CREATE_SCHEDULED_TASK.idempotent
    assert not rpc.WORKFLOW_RUN_SCHEDULED_TASK_NOW.idempotent
    assert rpc.WORKFLOW_CREATE_SCHEDULED_TASK.required == (
        "owner",
        "name",
        "schedule",
        "target",
    )
    # The server-only verbs are not in the contract (listed in its comments and the docs).
    assert "submit_definition" not in service.by_krpc
    assert service.by_krpc["service.get_scheduled_task"] is rpc.WORKFLOW_GET_SCHEDULED_TASK


# --- every verb, both directions --------------------------------------------------------


def test_create_scheduled_task() -> None:
    # WorkflowCreateScheduledTaskReq as upstream's client writes it: the request's own
    # Options left out (skip_serializing_if), the schedule's written as null.
    params = {"owner": OWNER, "name": "daily digest", "schedule": CRON, "target": TARGET}
    request = params_round_trip(rpc.WORKFLOW_CREATE_SCHEDULED_TASK, params)
    assert request.schedule.cron.expr == "0 9 * * *"
    assert not request.schedule.cron.HasField("calendar")
    assert not request.HasField("policy") and not request.HasField("status")
    full = {
        **params,
        "description": "the morning digest",
        "policy": POLICY,
        "status": "Paused",
    }
    full = {k: full[k] for k in ("owner", "name", "description", "schedule", "target",
                                  "policy", "status")}  # fmt: skip
    request = params_round_trip(rpc.WORKFLOW_CREATE_SCHEDULED_TASK, full)
    assert request.status == pb.SCHEDULED_TASK_STATUS_SERVER_PAUSED
    assert request.policy.misfire == pb.MISFIRE_POLICY_SKIP
    # The server answers the new id beside the schedule; the doc's form has the schedule.
    answer = {"ok": True, "schedule_id": "sch-5d0c", "schedule": SCHEDULE}
    result = result_round_trip(rpc.WORKFLOW_CREATE_SCHEDULED_TASK, answer)
    assert result.schedule_id == "sch-5d0c"
    assert result.schedule.status == pb.SCHEDULED_TASK_STATUS_RUNNING
    assert result.schedule.state.last_task_id.string_value == "t-8e2a"
    short = result_round_trip(
        rpc.WORKFLOW_CREATE_SCHEDULED_TASK, {"ok": True, "schedule": SCHEDULE}
    )
    assert not short.HasField("schedule_id")


def test_update_scheduled_task() -> None:
    method = rpc.WORKFLOW_UPDATE_SCHEDULED_TASK
    params = {"schedule_id": "sch-5d0c", "name": "evening digest", "schedule": ONCE}
    request = params_round_trip(method, params)
    assert request.schedule.once.run_at == 1760000000
    assert not request.HasField("target") and not request.HasField("description")
    params_round_trip(method, {"schedule_id": "sch-5d0c", "target": TARGET, "policy": POLICY})
    result_round_trip(method, {"ok": True, "schedule": {**SCHEDULE, "schedule": ONCE}})


@pytest.mark.parametrize(
    ("method", "status", "value"),
    [
        (rpc.WORKFLOW_GET_SCHEDULED_TASK, "Running", pb.SCHEDULED_TASK_STATUS_RUNNING),
        (rpc.WORKFLOW_PAUSE_SCHEDULED_TASK, "Paused", pb.SCHEDULED_TASK_STATUS_SERVER_PAUSED),
        (rpc.WORKFLOW_RESUME_SCHEDULED_TASK, "Running", pb.SCHEDULED_TASK_STATUS_RUNNING),
        (rpc.WORKFLOW_ARCHIVE_SCHEDULED_TASK, "Canceled", pb.SCHEDULED_TASK_STATUS_CANCELED),
        # The client's own names (WorkflowScheduledTaskStatus, snake_case).
        (rpc.WORKFLOW_GET_SCHEDULED_TASK, "enabled", pb.SCHEDULED_TASK_STATUS_ENABLED),
        (rpc.WORKFLOW_PAUSE_SCHEDULED_TASK, "paused", pb.SCHEDULED_TASK_STATUS_PAUSED),
        (rpc.WORKFLOW_ARCHIVE_SCHEDULED_TASK, "archived", pb.SCHEDULED_TASK_STATUS_ARCHIVED),
        (rpc.WORKFLOW_GET_SCHEDULED_TASK, "error", pb.SCHEDULED_TASK_STATUS_ERROR),
        (rpc.WORKFLOW_GET_SCHEDULED_TASK, "Failed", pb.SCHEDULED_TASK_STATUS_FAILED),
    ],
)
def test_schedule_id_verbs(method: MethodDescriptor[Any, Any], status: str, value: int) -> None:
    assert params_round_trip(method, {"schedule_id": "sch-5d0c"}).schedule_id == "sch-5d0c"
    result = result_round_trip(method, {"ok": True, "schedule": {**SCHEDULE, "status": status}})
    assert result.schedule.status == value


def test_consecutive_failures_may_be_missing() -> None:
    # #[serde(default)] on the state's counter: a state without it reads as 0, and our
    # answer writes it.
    state = {k: v for k, v in SCHEDULE["state"].items() if k != "consecutive_failures"}
    answer = {"ok": True, "schedule": {**SCHEDULE, "state": state}}
    result = decode_result(rpc.WORKFLOW_GET_SCHEDULED_TASK, answer)
    assert result.schedule.state.consecutive_failures == 0
    again = encode_result(rpc.WORKFLOW_GET_SCHEDULED_TASK, result)
    assert again["schedule"]["state"]["consecutive_failures"] == 0


def test_client_typed_task_ids_are_numbers() -> None:
    # The client's types say i64 for task ids; numbers decode as well as strings.
    schedule = {
        **SCHEDULE,
        "status": "enabled",
        "state": {**SCHEDULE["state"], "last_task_id": 1024},
        "task_mirror": {"root_task_id": 1000, "root_id": None},
    }
    result = result_round_trip(rpc.WORKFLOW_GET_SCHEDULED_TASK, {"ok": True, "schedule": schedule})
    assert result.schedule.state.last_task_id.number_value == 1024
    assert not result.schedule.task_mirror.HasField("root_id")


def test_list_scheduled_tasks() -> None:
    method = rpc.WORKFLOW_LIST_SCHEDULED_TASKS
    assert params_round_trip(method, {}) == pb.ListScheduledTasksRequest()
    params = {
        "owner": OWNER,
        "status": "Running",
        "workflow_id": "wf-digest",
        "name": "daily digest",
    }
    request = params_round_trip(method, params)
    assert request.owner.app_id == "photos" and request.status == pb.SCHEDULED_TASK_STATUS_RUNNING
    every = {**SCHEDULE, "schedule_id": "sch-2", "schedule": EVERY, "status": "Paused"}
    listed = result_round_trip(method, {"ok": True, "schedules": [SCHEDULE, every]})
    assert [s.schedule.WhichOneof("spec") for s in listed.schedules] == ["cron", "run_every"]
    assert result_round_trip(method, {"ok": True, "schedules": []}) == pb.ScheduleList()


def test_run_scheduled_task_now() -> None:
    method = rpc.WORKFLOW_RUN_SCHEDULED_TASK_NOW
    assert not params_round_trip(method, {"schedule_id": "sch-5d0c"}).HasField("fire_time")
    params_round_trip(method, {"schedule_id": "sch-5d0c", "fire_time": 1760000000})
    # The server's answer: the fire's ids beside it (null when none), then the fire.
    answer = {
        "ok": True,
        "fire_id": "fire-1a",
        "task_id": "t-9f00",
        "run_id": "run-78",
        "fire": FIRE,
    }
    result = result_round_trip(method, answer)
    assert result.fire.status == pb.SCHEDULE_FIRE_STATUS_TASK_CREATED
    assert result.fire.task_id.string_value == "t-9f00"
    skipped = {
        **FIRE,
        "manual": False,
        "status": "skipped",
        "task_id": None,
        "run_id": None,
        "error": "previous_run_still_active",
    }
    answer = {"ok": True, "fire_id": "fire-1a", "task_id": None, "run_id": None, "fire": skipped}
    result = result_round_trip(method, answer)
    assert not result.HasField("task_id") and not result.fire.HasField("task_id")
    assert result.fire.error == "previous_run_still_active"


@pytest.mark.parametrize(
    ("status", "value"),
    [
        ("created", pb.SCHEDULE_FIRE_STATUS_CREATED),
        ("task_created", pb.SCHEDULE_FIRE_STATUS_TASK_CREATED),
        ("run_created", pb.SCHEDULE_FIRE_STATUS_RUN_CREATED),  # serde's alias
        ("skipped", pb.SCHEDULE_FIRE_STATUS_SKIPPED),
        ("failed", pb.SCHEDULE_FIRE_STATUS_FAILED),
    ],
)
def test_get_scheduled_task_history(status: str, value: int) -> None:
    method = rpc.WORKFLOW_GET_SCHEDULED_TASK_HISTORY
    request = params_round_trip(method, {"schedule_id": "sch-5d0c", "limit": 20})
    assert request.limit == 20
    answer = {"ok": True, "schedule_id": "sch-5d0c", "fires": [{**FIRE, "status": status}]}
    assert result_round_trip(method, answer).fires[0].status == value


def test_validate_scheduled_task() -> None:
    method = rpc.WORKFLOW_VALIDATE_SCHEDULED_TASK
    request = params_round_trip(method, {"schedule": CRON, "target": TARGET})
    assert request.target.data_template.struct_value["workflow_run"]["workflow_id"] == "wf-digest"
    params_round_trip(method, {"schedule": EVERY})
    answer = {
        "ok": True,
        "valid": True,
        "normalized_expr": "0 9 * * *",
        "timezone": "Asia/Shanghai",
        "next_fire_times": [
            "2025-10-10T01:00:00+00:00",
            "2025-10-11T01:00:00+00:00",
            "2025-10-12T01:00:00+00:00",
        ],
        "warnings": [],
    }
    result = result_round_trip(method, answer)
    assert result.valid and len(result.next_fire_times) == 3
    once = {**answer, "normalized_expr": None, "timezone": "UTC", "next_fire_times": []}
    assert not result_round_trip(method, once).HasField("normalized_expr")


# --- serde shapes and refusals ------------------------------------------------------------


def test_the_doc_s_short_schedule_forms_decode() -> None:
    # upstream-services.md writes the schedule without its null Options; serde reads that
    # too, and it goes back out as serde writes it.
    method = rpc.WORKFLOW_VALIDATE_SCHEDULED_TASK
    short = {"schedule": {"kind": "cron", "expr": "0 9 * * *", "timezone": "Asia/Shanghai"}}
    same_json(encode_params(method, decode_params(method, short)), {"schedule": CRON})
    once = decode_params(method, {"schedule": {"kind": "once", "run_at": 1760000000}})
    assert once.schedule.once.run_at == 1760000000


@pytest.mark.parametrize(
    ("schedule", "text"),
    [
        ({"kind": "Cron", "expr": "x", "timezone": "UTC"},
         "field `schedule`: unknown variant `Cron`, expected one of `cron`, `once`, `run_every`"),
        ({"expr": "0 9 * * *", "timezone": "UTC"}, "field `schedule`: missing field `kind`"),
        ({"kind": "cron", "expr": "0 9 * * *"}, "Missing schedule.timezone"),
        ({"kind": "run_every", "every_sec": -5},
         "field `schedule.every_sec`: -5 is out of range for unsigned integer"),
    ],
)  # fmt: skip
def test_schedule_refusals(schedule: Any, text: str) -> None:
    assert params_refused(rpc.WORKFLOW_VALIDATE_SCHEDULED_TASK, {"schedule": schedule}) == (
        f"Parse Request Error: {text}"
    )


def test_misfire_and_status_names() -> None:
    method = rpc.WORKFLOW_GET_SCHEDULED_TASK
    for misfire in ("skip", "run_once", "catch_up", "manual"):
        schedule = {**SCHEDULE, "policy": {**POLICY, "misfire": misfire}}
        result_round_trip(method, {"ok": True, "schedule": schedule})
    bad = {**SCHEDULE, "policy": {**POLICY, "misfire": "RunOnce"}}
    assert result_refused(method, {"ok": True, "schedule": bad}) == (
        "Parse Response Error: field `schedule.policy.misfire`: unknown variant `RunOnce`, "
        "expected one of `unspecified`, `skip`, `run_once`, `catch_up`, `manual`"
    )
    assert "`enabled`" in result_refused(
        method, {"ok": True, "schedule": {**SCHEDULE, "status": "Enabled"}}
    )


# --- ok: false ---------------------------------------------------------------------------


@pytest.mark.parametrize("method", ALL, ids=lambda m: m.krpc)
def test_ok_false_is_a_not_ok_error_on_every_verb(method: MethodDescriptor[Any, Any]) -> None:
    with pytest.raises(NotOkError) as err:
        decode_result(method, NOT_FOUND)
    assert err.value.code == "schedule_not_found"
    assert err.value.text == "Failed due to reason: schedule_not_found"
    assert err.value.envelope == NOT_FOUND


def test_ok_false_with_a_message() -> None:
    failed = {
        "ok": False,
        "error": "schedule_fire_failed",
        "schedule_id": "sch-5d0c",
        "message": "workflow_not_found",
    }
    with pytest.raises(NotOkError) as err:
        decode_result(rpc.WORKFLOW_RUN_SCHEDULED_TASK_NOW, failed)
    assert (err.value.code, err.value.detail) == ("schedule_fire_failed", "workflow_not_found")
    assert err.value.text == "Failed due to reason: workflow_not_found"


def test_the_envelope_is_written_with_ok_first() -> None:
    message = pb.ScheduleFireList(schedule_id="sch-5d0c")
    encoded = encode_result(rpc.WORKFLOW_GET_SCHEDULED_TASK_HISTORY, message)
    assert list(encoded) == ["ok", "schedule_id", "fires"] and encoded["ok"] is True


# --- a servicer with tokens over real kRPC and gRPC servers ------------------------------


class MiniWorkflow(rpc.WorkflowServicer):
    """create, get and validate, in memory, with upstream's rules for them."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.schedules: dict[str, pb.WorkflowScheduledTask] = {}

    def CreateScheduledTask(
        self, request: pb.CreateScheduledTaskRequest, req: Request
    ) -> pb.CreateScheduledTaskResult:
        caller = (req.caller.user_id, req.caller.app_id)
        if (request.owner.user_id, request.owner.app_id) != caller:
            raise NoPermissionError(
                f"schedule owner {request.owner.user_id}:{request.owner.app_id} does not "
                f"match authenticated caller {caller[0]}:{caller[1]}"
            )
        with self.lock:
            schedule_id = f"sch-{len(self.schedules) + 1}"
            schedule = pb.WorkflowScheduledTask(
                schedule_id=schedule_id,
                owner=request.owner,
                name=request.name,
                status=request.status
                if request.HasField("status")
                else pb.SCHEDULED_TASK_STATUS_RUNNING,
                schedule=request.schedule,
                target=request.target,
                state=pb.ScheduleState(next_fire_at=1760058000),
                policy=request.policy
                if request.HasField("policy")
                else pb.SchedulePolicy(
                    misfire=pb.MISFIRE_POLICY_RUN_ONCE, max_parallel_runs=1, catch_up_limit=1
                ),
                task_mirror=pb.ScheduleTaskMirror(),
                created_at=1760000000,
                updated_at=1760000000,
            )
            if request.HasField("description"):
                schedule.description = request.description
            self.schedules[schedule_id] = schedule
        return pb.CreateScheduledTaskResult(schedule_id=schedule_id, schedule=schedule)

    def GetScheduledTask(self, request: pb.ScheduleIdRequest, req: Request) -> pb.ScheduleResult:
        with self.lock:
            schedule = self.schedules.get(request.schedule_id)
        if schedule is None:
            raise NotOkError(
                envelope={"ok": False, "error": "schedule_not_found", "id": request.schedule_id}
            )
        if (schedule.owner.user_id, schedule.owner.app_id) != (
            req.caller.user_id,
            req.caller.app_id,
        ):
            raise NoPermissionError(
                f"caller {req.caller.user_id}:{req.caller.app_id} may not access schedule "
                f"{request.schedule_id}"
            )
        return pb.ScheduleResult(schedule=schedule)

    def ValidateScheduledTask(
        self, request: pb.ValidateScheduledTaskRequest, req: Request
    ) -> pb.ValidateScheduledTaskResult:
        spec = request.schedule
        kind = spec.WhichOneof("spec")
        if kind == "cron":
            return pb.ValidateScheduledTaskResult(
                valid=True, normalized_expr=spec.cron.expr, timezone=spec.cron.timezone
            )
        zone = getattr(spec, kind or "once").timezone
        return pb.ValidateScheduledTaskResult(valid=True, timezone=zone or "UTC")


def workflow_binding(owner_public: Any) -> Binding:
    trust = TrustKeyStore()
    trust.set_owner_key(owner_public)
    binding = Binding("workflow", verifier=TokenVerifier(trust), rbac=RbacEnforcer(), timeout=5.0)
    binding.add_service(MiniWorkflow())
    return binding


def session_token(owner: Ed25519PrivateKey, user: str, app: str = "photos") -> str:
    claims = {"sub": user, "appid": app, "exp": int(time.time()) + 600}
    return sign_token(claims, owner, kid=None)


def _cron() -> pb.ScheduleSpec:
    return pb.ScheduleSpec(cron=pb.CronSchedule(expr="0 9 * * *", timezone="Asia/Shanghai"))


def _target() -> pb.ScheduleTarget:
    data = struct_pb2.Value()
    data.struct_value.update({"workflow_run": {"workflow_id": "wf-digest"}})
    return pb.ScheduleTarget(task_type="workflow.run", name_template="digest", data_template=data)


def test_end_to_end_over_krpc_and_grpc() -> None:
    owner, public = generate_key_pair()
    alice, bob = session_token(owner, "alice"), session_token(owner, "bob")
    with served(workflow_binding(public)) as server:
        seen: dict[str, Any] = {}
        with KrpcTransport(server.krpc_url, token=alice) as krpc:
            wf = rpc.WorkflowStub(krpc)
            created = wf.CreateScheduledTask(
                owner=pb.WorkflowOwner(user_id="alice", app_id="photos"),
                name="daily digest",
                schedule=_cron(),
                target=_target(),
            )
            seen["created"] = created
            seen["got"] = wf.GetScheduledTask(schedule_id=created.schedule_id)
            calls: dict[str, Callable[[], object]] = {
                "missing": lambda: wf.GetScheduledTask(schedule_id="sch-404"),
                "not-owner": lambda: wf.CreateScheduledTask(
                    owner=pb.WorkflowOwner(user_id="bob", app_id="photos"),
                    name="x",
                    schedule=_cron(),
                    target=_target(),
                ),
            }
            for name, call in calls.items():
                try:
                    call()
                except RPCError as exc:
                    seen[name] = exc
        with KrpcTransport(server.krpc_url) as anonymous:
            # validate needs no token; the others do.
            seen["valid"] = rpc.WorkflowStub(anonymous).ValidateScheduledTask(schedule=_cron())
            try:
                rpc.WorkflowStub(anonymous).GetScheduledTask(schedule_id="sch-1")
            except RPCError as exc:
                seen["no-token"] = exc
        with GrpcTransport(server.grpc_target, token=bob) as grpc:
            for name, schedule_id in (("grpc-missing", "sch-404"), ("grpc-other", "sch-1")):
                try:
                    rpc.WorkflowStub(grpc).GetScheduledTask(schedule_id=schedule_id)
                except RPCError as exc:
                    seen[name] = exc
        raw = post_raw(server.krpc_url, "get_scheduled_task", {"schedule_id": "sch-404"}, alice)
        # The prefixed aliases are answered exactly like the verb (upstream's
        # canonical_method); an unknown prefix is not.
        aliased = {
            name: post_raw(server.krpc_url, name, {"schedule_id": "sch-1"}, alice)
            for name in (
                "get_scheduled_task",
                "service.get_scheduled_task",
                "workflow.get_scheduled_task",
                "flow.get_scheduled_task",
            )
        }
    assert seen["created"].schedule_id == "sch-1"
    assert seen["created"].schedule.status == pb.SCHEDULED_TASK_STATUS_RUNNING
    assert seen["got"].schedule == seen["created"].schedule
    missing = seen["missing"]
    assert type(missing) is NotOkError and missing.code == "schedule_not_found"
    assert missing.envelope == {"ok": False, "error": "schedule_not_found", "id": "sch-404"}
    assert type(seen["not-owner"]) is NoPermissionError
    assert seen["not-owner"].text == (
        "No permission:schedule owner bob:photos does not match authenticated caller alice:photos"
    )
    assert seen["valid"].normalized_expr == "0 9 * * *"
    assert isinstance(seen["no-token"], NoPermissionError)
    # Over gRPC the ok:false text travels, and the stub makes it a NotOkError again.
    grpc_missing = seen["grpc-missing"]
    assert type(grpc_missing) is NotOkError
    assert grpc_missing.text == "Failed due to reason: schedule_not_found"
    assert (
        seen["grpc-other"].text == "No permission:caller bob:photos may not access schedule sch-1"
    )
    # On the kRPC wire an ok:false envelope is a result, as upstream's server answers it.
    assert raw["result"] == {"ok": False, "error": "schedule_not_found", "id": "sch-404"}
    assert "error" not in raw
    answer = aliased["get_scheduled_task"]
    assert answer["result"]["ok"] is True and answer["result"]["schedule"]["schedule_id"] == "sch-1"
    assert aliased["service.get_scheduled_task"] == answer
    assert aliased["workflow.get_scheduled_task"] == answer
    assert aliased["flow.get_scheduled_task"]["error"] == "Unknown method: flow.get_scheduled_task"


def post_raw(base_url: str, method: str, params: Any, token: str) -> Any:
    body = json.dumps({"method": method, "params": params, "sys": [7, token]}).encode()
    request = urllib.request.Request(
        f"{base_url}/kapi/workflow", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_ok_false_over_the_loopback() -> None:
    stub = rpc.WorkflowStub(LoopbackTransport(MiniWorkflow()))
    with pytest.raises(NotOkError) as err:
        stub.GetScheduledTask(schedule_id="sch-404")
    assert err.value.code == "schedule_not_found"


def test_docs_example(capsys: pytest.CaptureFixture[str]) -> None:
    owner, public = generate_key_pair()
    code = page_example(PAGE, "workflow: an example")
    with served(workflow_binding(public)) as server:
        env = {
            "WORKFLOW_URL": f"{server.krpc_url}/kapi/workflow",
            "TOKEN": session_token(owner, "alice"),
        }
        exec(compile(code, PAGE, "exec"), env)
    assert capsys.readouterr().out.splitlines() == [
        "created sch-1 SCHEDULED_TASK_STATUS_RUNNING",
        "next fire 1760058000",
        "not ok: schedule_not_found {'ok': False, 'error': 'schedule_not_found', 'id': 'sch-404'}",
    ]
