"""The scheduler contract (proto/buckyos/scheduler.proto) against upstream's wire
(upstream-services.md section 9, scheduler_client.rs, thunk_object.rs): both verbs'
params and results written out literally, decoded into our messages and encoded back to
the same JSON, every variant of FunctionObject's enums; scheduler's own error texts as
coded errors; a small servicer over real kRPC and gRPC servers; the page's example."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from google.protobuf import struct_pb2

from buckyos.generated import scheduler_pb2 as pb, scheduler_rpc as rpc
from buckyos.runtime.client.grpc_client import GrpcTransport
from buckyos.runtime.client.krpc_client import KrpcTransport
from buckyos.runtime.errors import (
    CodedError,
    ReasonError,
    RPCError,
    error_from_grpc,
    error_from_text,
    refine_error,
)
from buckyos.runtime.security import RbacEnforcer, TokenVerifier, TrustKeyStore
from buckyos.runtime.server import Binding, Request
from buckyos.runtime.testing import LoopbackTransport
from tests.contract_json import (
    page_example,
    params_refused,
    params_round_trip,
    result_refused,
    result_round_trip,
    served,
)

PAGE = "services-repo-scheduler-workflow.md"

# scheduler_client.rs SchedulerRunThunkRequest, as upstream's client writes it.
FUNCTION: dict[str, Any] = {
    "func_type": {"script": "python"},
    "content": "def main(image, width):\n    return resize(image, width)\n",
    "is_pure": True,
    "timeout": 30,
    "requirements": {"cpu": 1000, "memory": 268435456},
    "best_run_weight": {"cpu": 2},
    "affinity_type": "Input",
    "params_type": {"image": {"ObjId": "cyfile"}, "width": {"Fixed": "number"}},
    "result_type": {"Object": "cyfile"},
}
RUN_THUNK: dict[str, Any] = {
    "task_id": 42,
    "thunk": {
        "fun_id": "func:8c1f0d",
        "params": {"image": "cyfile:77aa01", "width": 640},
        "metadata": {"caller": "photos"},
    },
    "function_object": FUNCTION,
}
DISPATCHED: dict[str, Any] = {
    "thunk_obj_id": "thunk:3b7a9e",
    "status": "dispatched",
    "dispatch": {
        "node_id": "ood1",
        "dispatch_type": "external_task",
        "task_id": 42,
        "runner": "script-runner:python",
        "function_hint_source": "provided_function_object",
        "details": {
            "task_id": 42,
            "thunk_obj_id": "thunk:3b7a9e",
            "fun_id": "func:8c1f0d",
            "function_type": "script",
            "node_id": "ood1",
            "runner": "script-runner:python",
            "network_zone": "lan",
            "affinity_type": "input",
            "affinity_selectors": [],
            "available_resources": {"cpu": 4000},
            "next_step": "external dispatcher should bind task to runner/node",
        },
    },
}


def test_verb_table() -> None:
    service = rpc.SCHEDULER
    assert (service.api, service.port) == ("scheduler", 3400)
    assert sorted(service.by_krpc) == ["refresh_rbac", "run_thunk"]
    assert {m.auth_text for m in service.methods} == {"yes"}  # no auth upstream
    assert not rpc.SCHEDULER_RUN_THUNK.idempotent and rpc.SCHEDULER_REFRESH_RBAC.idempotent
    assert rpc.SCHEDULER_RUN_THUNK.required == ("task_id", "thunk", "function_object")
    assert [e["code"] for e in service.spec()["errors"]] == [
        "unknown scheduler method",
        "invalid run_thunk request payload",
    ]


# --- run_thunk ---------------------------------------------------------------------------


def test_run_thunk_params() -> None:
    request = params_round_trip(rpc.SCHEDULER_RUN_THUNK, RUN_THUNK)
    function = request.function_object
    assert request.task_id == 42
    assert function.func_type.script == "python"
    assert function.timeout == 30
    assert function.affinity_type.WhichOneof("affinity") == "input"
    assert function.params_type["image"].obj_id == "cyfile"
    assert function.params_type["width"].fixed == "number"
    assert function.result_type.object == "cyfile"
    assert request.thunk.params["width"].number_value == 640
    assert dict(function.requirements) == {"cpu": 1000, "memory": 268435456}


@pytest.mark.parametrize(
    ("func_type", "member"),
    [
        ("exec_pkg", "exec_pkg"),
        ({"script": "python"}, "script"),
        # serde's snake_case of `OPTask` is `o_p_task` (not the doc's `op_task`).
        ({"o_p_task": "lua"}, "op_task"),
        ("operator", "operator"),
    ],
)
def test_function_types(func_type: Any, member: str) -> None:
    params = {**RUN_THUNK, "function_object": {**FUNCTION, "func_type": func_type}}
    request = params_round_trip(rpc.SCHEDULER_RUN_THUNK, params)
    assert request.function_object.func_type.WhichOneof("func_type") == member


def test_op_task_is_spelled_as_serde_does() -> None:
    params = {**RUN_THUNK, "function_object": {**FUNCTION, "func_type": {"op_task": "lua"}}}
    assert params_refused(rpc.SCHEDULER_RUN_THUNK, params) == (
        "Parse Request Error: field `function_object.func_type`: unknown variant `op_task`, "
        "expected one of `exec_pkg`, `script`, `o_p_task`, `operator`"
    )
    params = {**RUN_THUNK, "function_object": {**FUNCTION, "func_type": "script"}}
    assert params_refused(rpc.SCHEDULER_RUN_THUNK, params) == (
        "Parse Request Error: field `function_object.func_type`: variant `script` carries a "
        'value: write {"script": ...}'
    )


@pytest.mark.parametrize(
    ("affinity", "member"),
    [("Input", "input"), ("Result", "result"), ({"Custom": ["/data/photos", "gpu"]}, "custom")],
)
def test_affinity_types(affinity: Any, member: str) -> None:
    params = {**RUN_THUNK, "function_object": {**FUNCTION, "affinity_type": affinity}}
    request = params_round_trip(rpc.SCHEDULER_RUN_THUNK, params)
    assert request.function_object.affinity_type.WhichOneof("affinity") == member


@pytest.mark.parametrize(
    ("result_type", "member"),
    [
        ({"Fixed": "json"}, "fixed"),
        ({"Object": "cyfile"}, "object"),
        ({"Stream": "bytes"}, "stream"),
        ({"Iterator": {"element_schema": "cyfile", "seekable": True}}, "iterator"),
    ],
)
def test_result_types(result_type: Any, member: str) -> None:
    params = {**RUN_THUNK, "function_object": {**FUNCTION, "result_type": result_type}}
    request = params_round_trip(rpc.SCHEDULER_RUN_THUNK, params)
    assert request.function_object.result_type.WhichOneof("result_type") == member


def test_param_types_and_no_timeout() -> None:
    # `timeout: Option<u64>` has no skip_serializing_if: null when unset.
    function = {
        **FUNCTION,
        "func_type": "exec_pkg",
        "timeout": None,
        "params_type": {"input": {"CheckByRunner": "cyfile"}},
        "requirements": {},
        "best_run_weight": {},
    }
    request = params_round_trip(rpc.SCHEDULER_RUN_THUNK, {**RUN_THUNK, "function_object": function})
    assert not request.function_object.HasField("timeout")
    assert request.function_object.params_type["input"].check_by_runner == "cyfile"


def test_thunk_metadata_is_always_written() -> None:
    # ThunkObject.metadata is a serde Value (not an Option): null when empty.
    params = {**RUN_THUNK, "thunk": {"fun_id": "func:1", "params": {}, "metadata": None}}
    request = params_round_trip(rpc.SCHEDULER_RUN_THUNK, params)
    assert not request.thunk.HasField("metadata")


def test_run_thunk_results() -> None:
    result = result_round_trip(rpc.SCHEDULER_RUN_THUNK, DISPATCHED)
    assert result.status == pb.RUN_THUNK_STATUS_DISPATCHED
    assert result.dispatch.runner == "script-runner:python"
    assert result.dispatch.details.struct_value["next_step"].startswith("external")
    for reason in ("params_not_ready", "no_executor_node_available"):
        rejected = {"thunk_obj_id": "thunk:3b7a9e", "status": "rejected", "reason": reason}
        result = result_round_trip(rpc.SCHEDULER_RUN_THUNK, rejected)
        assert result.status == pb.RUN_THUNK_STATUS_REJECTED
        assert not result.HasField("dispatch")
    # A receipt without its Options and without details (null details are left out).
    bare = {
        "thunk_obj_id": "thunk:1",
        "status": "dispatched",
        "dispatch": {"node_id": "ood1", "dispatch_type": "mock"},
    }
    assert not result_round_trip(rpc.SCHEDULER_RUN_THUNK, bare).dispatch.HasField("task_id")
    assert result_refused(rpc.SCHEDULER_RUN_THUNK, {**bare, "status": "Dispatched"}) == (
        "Parse Response Error: field `status`: unknown variant `Dispatched`, expected one of "
        "`unspecified`, `dispatched`, `rejected`"
    )


# --- refresh_rbac ------------------------------------------------------------------------


def test_refresh_rbac() -> None:
    # Upstream's client sends `{}`.
    assert params_round_trip(rpc.SCHEDULER_REFRESH_RBAC, {}) == pb.RefreshRbacRequest()
    result = result_round_trip(rpc.SCHEDULER_REFRESH_RBAC, {"updated": True, "tx_action_count": 3})
    assert result.updated and result.tx_action_count == 3
    result_round_trip(rpc.SCHEDULER_REFRESH_RBAC, {"updated": False, "tx_action_count": 0})


# --- coded errors ------------------------------------------------------------------------

PAYLOAD_DETAIL = "missing field `function_object` at line 1 column 58"


@pytest.mark.parametrize(
    ("text", "cls", "message"),
    [
        (
            "Failed due to reason: unknown scheduler method: run_thunks",
            rpc.UnknownSchedulerMethodError,
            "run_thunks",
        ),
        (
            f"Failed due to reason: invalid run_thunk request payload: {PAYLOAD_DETAIL}",
            rpc.InvalidRunThunkPayloadError,
            PAYLOAD_DETAIL,
        ),
    ],
)
def test_received_texts_become_coded_errors(text: str, cls: type[CodedError], message: str) -> None:
    for method in (rpc.SCHEDULER_RUN_THUNK, rpc.SCHEDULER_REFRESH_RBAC):
        for received in (error_from_text(text), error_from_grpc("UNKNOWN", text)):
            error = refine_error(method, received)
            assert type(error) is cls and isinstance(error, ReasonError)
            assert error.message == message
            assert error.text == text


def test_other_texts_stay_plain() -> None:
    for text in (
        "Unknown method: run_thunks",  # what other services say
        "Failed due to reason: dump_configs_for_scheduler failed",
    ):
        received = error_from_text(text)
        assert refine_error(rpc.SCHEDULER_RUN_THUNK, received) is received


def test_raised_coded_errors_are_upstreams_text() -> None:
    assert rpc.UnknownSchedulerMethodError("run_thunks").text == (
        "Failed due to reason: unknown scheduler method: run_thunks"
    )
    assert rpc.InvalidRunThunkPayloadError(PAYLOAD_DETAIL).text == (
        f"Failed due to reason: invalid run_thunk request payload: {PAYLOAD_DETAIL}"
    )
    assert rpc.UnknownSchedulerMethodError("m").code == "unknown scheduler method"


class Refusing(rpc.SchedulerServicer):
    def RunThunk(self, request: pb.RunThunkRequest, req: Request) -> pb.RunThunkResponse:
        raise rpc.InvalidRunThunkPayloadError(PAYLOAD_DETAIL)

    def RefreshRbac(self, request: pb.RefreshRbacRequest, req: Request) -> pb.RefreshRbacResponse:
        raise rpc.UnknownSchedulerMethodError("refresh_rbacs")


def test_a_required_nested_struct_is_refused_missing() -> None:
    # FunctionObject.func_type (serde: neither Option nor default) missing: the decoder
    # refuses it like a missing scalar, with the field's path.
    function = {k: v for k, v in FUNCTION.items() if k != "func_type"}
    params = {**RUN_THUNK, "function_object": function}
    assert (
        params_refused(rpc.SCHEDULER_RUN_THUNK, params)
        == "Parse Request Error: Missing function_object.func_type"
    )
    # null is missing too (serde refuses null for a struct).
    params = {**RUN_THUNK, "function_object": {**FUNCTION, "func_type": None}}
    assert params_refused(rpc.SCHEDULER_RUN_THUNK, params).endswith(
        "Missing function_object.func_type"
    )


def test_codes_over_the_loopback() -> None:
    stub = rpc.SchedulerStub(LoopbackTransport(Refusing()))
    with pytest.raises(rpc.InvalidRunThunkPayloadError) as payload:
        stub.RunThunk(params_round_trip(rpc.SCHEDULER_RUN_THUNK, RUN_THUNK))
    assert payload.value.message == PAYLOAD_DETAIL
    with pytest.raises(rpc.UnknownSchedulerMethodError) as unknown:
        stub.RefreshRbac()
    assert unknown.value.text == "Failed due to reason: unknown scheduler method: refresh_rbacs"


# --- a servicer over real kRPC and gRPC servers ------------------------------------------

RUNNERS = {
    "exec_pkg": "package-runner",
    "script": "script-runner:{}",
    "op_task": "op-task-runner:{}",
    "operator": "operator-runner",
}


class MiniScheduler(rpc.SchedulerServicer):
    """run_thunk on one node with 4000 MHz of cpu; refresh_rbac changes once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.refreshed = False

    def RunThunk(self, request: pb.RunThunkRequest, req: Request) -> pb.RunThunkResponse:
        function = request.function_object
        kind = function.func_type.WhichOneof("func_type")
        if kind is None:
            raise rpc.InvalidRunThunkPayloadError("missing field `func_type`")
        thunk_obj_id = f"thunk:{request.thunk.fun_id.split(':')[-1]}-{request.task_id}"
        if function.requirements.get("cpu", 0) > 4000:
            return pb.RunThunkResponse(
                thunk_obj_id=thunk_obj_id,
                status=pb.RUN_THUNK_STATUS_REJECTED,
                reason="no_executor_node_available",
            )
        language = getattr(function.func_type, kind) if kind in ("script", "op_task") else ""
        details = struct_pb2.Value()
        details.struct_value.update({"node_id": "ood1", "function_type": kind})
        receipt = pb.DispatchReceipt(
            node_id="ood1",
            dispatch_type="external_task",
            task_id=request.task_id,
            runner=RUNNERS[kind].format(language),
            function_hint_source="provided_function_object",
            details=details,
        )
        return pb.RunThunkResponse(
            thunk_obj_id=thunk_obj_id, status=pb.RUN_THUNK_STATUS_DISPATCHED, dispatch=receipt
        )

    def RefreshRbac(self, request: pb.RefreshRbacRequest, req: Request) -> pb.RefreshRbacResponse:
        with self.lock:
            first, self.refreshed = not self.refreshed, True
        return pb.RefreshRbacResponse(updated=first, tx_action_count=2 if first else 0)


def scheduler_binding() -> Binding:
    binding = Binding(
        "scheduler", verifier=TokenVerifier(TrustKeyStore()), rbac=RbacEnforcer(), timeout=5.0
    )
    binding.add_service(MiniScheduler(), check_params=run_thunk_payload_check)
    return binding


def run_thunk_payload_check(krpc: str, params: Any) -> None:
    """Upstream's run_thunk decodes its params itself and words a missing field as its
    code; without this check the decoder would refuse a FunctionObject without its
    required func_type as `Parse Request Error: Missing function_object.func_type`."""
    if krpc == "run_thunk" and isinstance(params, dict):
        function = params.get("function_object")
        if isinstance(function, dict) and function.get("func_type") is None:
            raise rpc.InvalidRunThunkPayloadError("missing field `func_type`")


def function_object(**changes: Any) -> pb.FunctionObject:
    function = pb.FunctionObject(
        func_type=pb.FunctionType(script="python"),
        content="print('hi')",
        is_pure=True,
        requirements={"cpu": 1000},
        affinity_type=pb.AffinityType(input={}),
        result_type=pb.FunctionResultType(fixed="json"),
    )
    for name, value in changes.items():
        field = getattr(function, name)
        if hasattr(field, "CopyFrom"):
            field.CopyFrom(value)
        else:
            field.update(value)
    return function


def test_end_to_end_over_krpc_and_grpc() -> None:
    thunk = pb.ThunkObject(fun_id="func:8c1f0d")
    with served(scheduler_binding()) as server:
        seen: list[Any] = []
        with KrpcTransport(server.krpc_url) as krpc:
            scheduler = rpc.SchedulerStub(krpc)
            seen.append(
                scheduler.RunThunk(task_id=7, thunk=thunk, function_object=function_object())
            )
            seen.append(scheduler.RefreshRbac())
            seen.append(scheduler.RefreshRbac())
            try:
                scheduler.RunThunk(task_id=8, thunk=thunk, function_object=pb.FunctionObject())
            except RPCError as exc:
                seen.append(exc)
        with GrpcTransport(server.grpc_target) as grpc:
            heavy = function_object(
                func_type=pb.FunctionType(op_task="lua"), requirements={"cpu": 8000}
            )
            seen.append(
                rpc.SchedulerStub(grpc).RunThunk(task_id=9, thunk=thunk, function_object=heavy)
            )
    dispatched, first, second, refused, rejected = seen
    assert dispatched.status == pb.RUN_THUNK_STATUS_DISPATCHED
    assert (dispatched.dispatch.runner, dispatched.dispatch.task_id) == ("script-runner:python", 7)
    assert (first.updated, first.tx_action_count, second.updated) == (True, 2, False)
    assert type(refused) is rpc.InvalidRunThunkPayloadError
    assert refused.text == (
        "Failed due to reason: invalid run_thunk request payload: missing field `func_type`"
    )
    assert rejected.status == pb.RUN_THUNK_STATUS_REJECTED
    assert rejected.reason == "no_executor_node_available"


def test_docs_example(capsys: pytest.CaptureFixture[str]) -> None:
    code = page_example(PAGE, "scheduler: an example")
    with served(scheduler_binding()) as server:
        exec(compile(code, PAGE, "exec"), {"SCHEDULER_URL": f"{server.krpc_url}/kapi/scheduler"})
    assert capsys.readouterr().out.splitlines() == [
        "dispatched ood1 script-runner:python",
        "rbac updated: True",
    ]
