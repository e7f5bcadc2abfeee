"""The task-dispatcher contract (proto/buckyos/task_dispatcher.proto) against upstream's
JSON (upstream-services.md section 3, composed from its field tables; the types'
defaults read from upstream's task_dispatcher.rs): every verb's params and result
decoded and encoded back to the same JSON, every error code typed with upstream's text,
and a small servicer behind a real Binding over kRPC and gRPC."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from google.protobuf import empty_pb2, json_format

from buckyos.generated import (
    task_dispatcher_pb2 as td,
    task_dispatcher_rpc as rpc,
    task_manager_pb2 as tm,
)
from buckyos.runtime.client.grpc_client import GrpcTransport
from buckyos.runtime.client.krpc_client import KrpcTransport
from buckyos.runtime.errors import (
    CodedError,
    NoPermissionError,
    ParseRequestError,
    ParseResponseError,
    ReasonError,
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
from buckyos.runtime.wire.jsonmap import decode_params, decode_result, encode_params, encode_result
from tests.test_contract_task_manager import PROMISED


def same_json(again: Any, original: Any) -> None:
    assert json.dumps(again, sort_keys=True) == json.dumps(original, sort_keys=True), (
        again,
        original,
    )
    if isinstance(original, dict):
        assert list(again) == list(original)


# --- upstream's JSON ---------------------------------------------------------------------

# DeliveryPolicy's defaults (section 3), literally.
DELIVERY: dict[str, Any] = json.loads(
    '{"rpc_timeout_ms":15000,"backoff_base_ms":2000,"backoff_max_ms":300000,'
    '"max_attempts":10,"instance_selection":"RoundRobin"}'
)
# The TargetRegistration of section 3, with the delivery policy filled in.
REGISTRATION: dict[str, Any] = {
    "target_id": "jarvis",
    "owner_user_id": "alice",
    "owner_app_id": "jarvis",
    "functions": [
        {
            "schema_id": "agent.delegate/v1",
            "min_schema_version": 0,
            "max_schema_version": 4294967295,
            "offer_method": "offer_task",
            "activate_method": "activate_task",
        }
    ],
    "auth_policy": "ZoneUsers",
    "approval_policy": "Never",
    "delivery_policy": DELIVERY,
    "max_concurrency": 1,
    "enabled": True,
    "registration_revision": 0,
}
AUTH: dict[str, Any] = {
    "requested_by_user": "alice",
    "requested_by_app": "workflow",
    "on_behalf_of": "alice",
    "zone_trusted_caller": True,
    "workflow_ref": {"workflow_id": "wf-1", "run_id": "run-1", "step_id": "step-1"},
    "input_digest": "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
    "created_at": 1760000000000,
    "expires_at": 1760003600000,
}
RECORD: dict[str, Any] = {
    "dispatch_id": "dsp-1",
    "requested_target_id": "jarvis",
    "target_id": "jarvis",
    "target_selection": "Explicit",
    "schema_id": "agent.delegate/v1",
    "schema_version": 1,
    "registration_revision": 1,
    "delivery_policy": DELIVERY,
    "status": "Queued",
    "task_id": "t-p1",
    "input": {},
    "auth": AUTH,
    "priority": 0,
    "ready_at": 1760000000000,
    "attempt_count": 0,
    "created_at": 1760000000000,
    "updated_at": 1760000000000,
}
ROUTED: dict[str, Any] = {
    "dispatch_id": "dsp-2",
    "target_id": "jarvis",
    "target_selection": {"DefaultRoute": {"route_revision": 3}},
    "schema_id": "agent.delegate/v1",
    "schema_version": 1,
    "registration_revision": 1,
    "delivery_policy": DELIVERY,
    "status": "Rejected",
    "task_id": "t-p2",
    "input": {"prompt": "sum up"},
    "auth": {k: v for k, v in AUTH.items() if k not in ("workflow_ref", "expires_at")},
    "priority": -5,
    "ready_at": 0,
    "attempt_count": 3,
    "reject_reason": "approval_denied",
    "approval": {
        "decision": "Denied",
        "decided_by_user": "root",
        "decided_by_app": "control-panel",
        "decided_at": 1760000001000,
        "note": "not now",
    },
    "message": "denied by root",
    "expires_at": 1760003600000,
    "created_at": 1760000000000,
    "updated_at": 1760000001000,
}
INSTANCE: dict[str, Any] = {
    "target_id": "jarvis",
    "instance_id": "jarvis@ood1",
    "endpoint": "http://127.0.0.1:10016/kapi/opendan-task-runner",
    "lease_epoch": 4,
    "lease_expires_at": 1760000060000,
    "capacity": 4,
    "available_capacity": 3,
}
ROUTE: dict[str, Any] = {
    "schema_id": "agent.delegate/v1",
    "default_target_id": "jarvis",
    "revision": 3,
    "enabled": True,
}

CASES: list[tuple[str, Any, Any]] = [
    (
        "dispatch_task",
        {
            "target_id": "jarvis",
            "schema_id": "agent.delegate/v1",
            "schema_version": 1,
            "name": "delegate",
            "input": {"prompt": "sum up"},
            "idempotency_key": "step-1",
            "priority": 5,
            "expires_at": 1760003600000,
            "on_behalf_of": "alice",
            "workflow_ref": {"workflow_id": "wf-1", "run_id": "run-1", "step_id": "step-1"},
            "parent_task_id": "t-root",
        },
        {"task_id": "t-p1", "dispatch_id": "dsp-1", "status": "Queued", "task": PROMISED},
    ),
    (
        "dispatch_task",
        {"schema_id": "agent.delegate/v1", "input": {}, "idempotency_key": "k-2"},
        {"task_id": "t-p2", "dispatch_id": "dsp-2", "status": "PendingApproval", "task": PROMISED},
    ),
    ("get_dispatch", {"dispatch_id": "dsp-1"}, {"record": RECORD}),
    ("get_dispatch", {"task_id": "t-p2"}, {"record": ROUTED}),
    (
        "list_dispatches",
        {
            "status": "WaitingForTarget",
            "target_id": "jarvis",
            "schema_id": "agent.delegate/v1",
            "limit": 20,
            "cursor": "c-1",
        },
        {"records": [RECORD, ROUTED], "next_cursor": "c-2"},
    ),
    ("list_dispatches", {}, {"records": []}),
    ("cancel_dispatch", {"dispatch_id": "dsp-1"}, {"record": {**RECORD, "status": "Canceled"}}),
    (
        "approve_dispatch",
        {"dispatch_id": "dsp-2", "decision": "Denied", "note": "not now"},
        {"record": ROUTED},
    ),
    ("approve_dispatch", {"dispatch_id": "dsp-1", "decision": "Approved"}, {"record": RECORD}),
    (
        "register_target",
        {"registration": REGISTRATION},
        {**REGISTRATION, "registration_revision": 1},
    ),
    (
        # What a registering app sends: the defaults left out.
        "register_target",
        {
            "registration": {
                "target_id": "jarvis",
                "functions": [{"schema_id": "agent.delegate/v1"}],
            }
        },
        REGISTRATION,
    ),
    ("disable_target", {"target_id": "jarvis"}, {}),
    (
        "attach_instance",
        {
            "target_id": "jarvis",
            "instance_id": "jarvis@ood1",
            "endpoint": "http://127.0.0.1:10016/kapi/opendan-task-runner",
            "capacity": 4,
            "available_capacity": 4,
            "lease_ms": 60000,
        },
        {
            "lease_epoch": 4,
            "lease_expires_at": 1760000060000,
            "target_key": "jarvis-5f0e9a1c",
            "delivery_token": "dlv-9b1c",
        },
    ),
    (
        "renew_instance",
        {
            "target_id": "jarvis",
            "instance_id": "jarvis@ood1",
            "lease_epoch": 4,
            "available_capacity": 3,
            "lease_ms": 60000,
        },
        {"lease_epoch": 4, "lease_expires_at": 1760000120000, "delivery_token": "dlv-9b1c"},
    ),
    (
        "detach_instance",
        {"target_id": "jarvis", "instance_id": "jarvis@ood1", "lease_epoch": 4},
        {},
    ),
    (
        "get_target",
        {"target_id": "jarvis"},
        {"registration": REGISTRATION, "instances": [INSTANCE]},
    ),
    ("list_targets", {}, {"targets": [REGISTRATION]}),
    (
        "set_operation_route",
        {"schema_id": "agent.delegate/v1", "default_target_id": "jarvis"},
        ROUTE,
    ),
    ("disable_operation_route", {"schema_id": "agent.delegate/v1"}, {}),
    ("get_operation_route", {"schema_id": "agent.delegate/v1"}, {"route": ROUTE}),
    ("get_operation_route", {"schema_id": "raw/v1"}, {}),
    ("list_operation_routes", {}, {"routes": [ROUTE, {**ROUTE, "enabled": False}]}),
]


def test_the_verb_table() -> None:
    service = rpc.TASK_DISPATCHER
    verbs = [m.krpc for m in service.methods]
    assert service.api == "task-dispatcher" and service.port == 3380
    assert len(verbs) == 16
    assert {krpc for krpc, _, _ in CASES} == set(verbs)
    assert {m.auth_text for m in service.methods} == {"token"}
    trusted = {m.krpc for m in service.methods if m.doc.startswith("Zone-trusted only")}
    assert trusted == {
        "disable_target",
        "get_target",
        "list_targets",
        "set_operation_route",
        "disable_operation_route",
        "get_operation_route",
        "list_operation_routes",
    }
    assert rpc.TASK_DISPATCHER_DISPATCH_TASK.required == ("schema_id", "input", "idempotency_key")


@pytest.mark.parametrize(("krpc", "params", "result"), CASES, ids=[c[0] for c in CASES])
def test_every_verb_round_trips_upstreams_json(krpc: str, params: Any, result: Any) -> None:
    method = rpc.TASK_DISPATCHER.by_krpc[krpc]
    request = decode_params(method, params)
    same_json(encode_params(method, request), params)
    response = decode_result(method, result)
    # Task.assignees is left out when empty, as upstream leaves out None (omit_empty).
    same_json(encode_result(method, response), result)


def test_shapes() -> None:
    record = decode_result(rpc.TASK_DISPATCHER_GET_DISPATCH, {"record": RECORD}).record
    assert record.target_selection.WhichOneof("selection") == "explicit"
    assert record.status == td.DISPATCH_STATUS_QUEUED
    assert record.auth.workflow_ref.step_id == "step-1"
    routed = decode_result(rpc.TASK_DISPATCHER_GET_DISPATCH, {"record": ROUTED}).record
    assert routed.target_selection.default_route.route_revision == 3
    assert routed.reject_reason == td.DISPATCH_REJECT_REASON_APPROVAL_DENIED
    assert routed.approval.decision == td.APPROVAL_DECISION_DENIED
    # Every reject reason travels snake_case.
    names = [
        "schema_mismatch",
        "auth_denied",
        "policy_denied",
        "precondition_failed",
        "unsupported_operation",
        "target_disabled",
        "invalid_input",
        "approval_denied",
    ]
    for number, name in enumerate(names, start=1):
        again = decode_result(
            rpc.TASK_DISPATCHER_GET_DISPATCH, {"record": {**ROUTED, "reject_reason": name}}
        )
        assert again.record.reject_reason == number
    statuses = [
        "CreatingTask",
        "PendingApproval",
        "Queued",
        "WaitingForTarget",
        "Offering",
        "Binding",
        "Activating",
        "Accepted",
        "Rejected",
        "Failed",
        "Canceled",
        "Expired",
    ]
    for number, name in enumerate(statuses, start=1):
        params = decode_params(rpc.TASK_DISPATCHER_LIST_DISPATCHES, {"status": name})
        assert params.status == number
    bare = decode_params(rpc.TASK_DISPATCHER_REGISTER_TARGET, CASES[10][1]).registration.functions[
        0
    ]
    assert not bare.HasField("offer_method") and not bare.HasField("max_schema_version")
    with pytest.raises(ParseResponseError, match="unknown variant `Default`"):
        decode_result(
            rpc.TASK_DISPATCHER_GET_DISPATCH, {"record": {**RECORD, "target_selection": "Default"}}
        )
    with pytest.raises(ParseRequestError, match="unknown variant `schema_mismatch`"):
        decode_params(rpc.TASK_DISPATCHER_LIST_DISPATCHES, {"status": "schema_mismatch"})
    assert encode_params(rpc.TASK_DISPATCHER_LIST_TARGETS, empty_pb2.Empty()) == {}


# --- errors ----------------------------------------------------------------------------

CODED: tuple[type[CodedError], ...] = rpc.TASK_DISPATCHER_ERRORS.classes


def test_every_code_is_declared() -> None:
    assert [cls.code for cls in CODED] == [
        "default_target_not_configured",
        "idempotency_conflict",
        "target_not_registered",
        "target_disabled",
        "unsupported_schema",
        "stale_instance",
        "dispatch_already_terminal",
        "dispatch_pending_approval",
        "dispatch_not_pending_approval",
        "dispatch_approval_denied",
        "delivery_exhausted",
        "runner_rejected",
    ]
    assert all(issubclass(cls, ReasonError) for cls in CODED)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Failed due to reason: target_not_registered: jarvis", "target_not_registered"),
        ("Failed due to reason: unsupported_schema: agent.delegate/v1@2", "unsupported_schema"),
        ("Failed due to reason: dispatch_already_terminal: Accepted", "dispatch_already_terminal"),
        ("Failed due to reason: stale_instance: lease epoch 3 != 4", "stale_instance"),
        (
            "Failed due to reason: default_target_not_configured: raw/v1",
            "default_target_not_configured",
        ),
    ],
)
def test_upstreams_texts_become_typed_errors(text: str, code: str) -> None:
    error = refine_error(rpc.TASK_DISPATCHER_GET_DISPATCH, error_from_text(text))
    assert isinstance(error, CodedError) and error.code == code and error.text == text


@pytest.mark.parametrize(
    "text",
    [
        "Failed due to reason: dispatch record not found",
        "No permission:only the submitter or a zone-trusted service may view a dispatch",
        "No permission:list_targets requires a zone-trusted service identity",
    ],
)
def test_uncoded_texts_stay_plain(text: str) -> None:
    received = error_from_text(text)
    assert refine_error(rpc.TASK_DISPATCHER_GET_DISPATCH, received) is received


class Raising(rpc.TaskDispatcherServicer):
    def CancelDispatch(
        self, request: td.CancelDispatchRequest, req: Request
    ) -> td.DispatchRecordResult:
        for cls in CODED:
            if cls.code == request.dispatch_id:
                raise cls(f"detail of {cls.code}")
        raise ReasonError("dispatch record not found")


def test_every_code_reaches_the_client_typed() -> None:
    stub = rpc.TaskDispatcherStub(LoopbackTransport(Raising()))
    for cls in CODED:
        with pytest.raises(cls) as err:
            stub.CancelDispatch(dispatch_id=cls.code)
        assert err.value.text == f"Failed due to reason: {cls.code}: detail of {cls.code}"
        assert err.value.code == cls.code
    with pytest.raises(ReasonError) as plain:
        stub.CancelDispatch(dispatch_id="dsp-404")
    assert type(plain.value) is ReasonError


# --- end to end ---------------------------------------------------------------------------


class MiniDispatcher(rpc.TaskDispatcherServicer):
    """register_target, dispatch_task and get_dispatch, with upstream's checks."""

    def __init__(self) -> None:
        self.targets: dict[str, td.TargetRegistration] = {}
        self.records: dict[str, td.DispatchRecord] = {}

    def RegisterTarget(
        self, request: td.RegisterTargetRequest, req: Request
    ) -> td.TargetRegistration:
        assert req.caller.user_id is not None and req.caller.app_id is not None
        registration = td.TargetRegistration()
        registration.CopyFrom(request.registration)
        old = self.targets.get(registration.target_id)
        if old is not None and old.owner_app_id != req.caller.app_id:
            raise NoPermissionError(
                f"target {registration.target_id} is owned by app {old.owner_app_id}"
            )
        registration.owner_user_id = req.caller.user_id
        registration.owner_app_id = req.caller.app_id
        registration.registration_revision = (old.registration_revision if old else 0) + 1
        self.targets[registration.target_id] = registration
        return registration

    def DispatchTask(self, request: td.DispatchTaskRequest, req: Request) -> td.DispatchTaskResult:
        if not request.HasField("target_id"):
            raise rpc.DefaultTargetNotConfiguredError(request.schema_id)
        target = self.targets.get(request.target_id)
        if target is None:
            raise rpc.TargetNotRegisteredError(request.target_id)
        dispatch_id = f"dsp-{len(self.records) + 1}"
        task = decode_result(rpc.TASK_DISPATCHER_DISPATCH_TASK, CASES[0][2]).task
        record = td.DispatchRecord(
            dispatch_id=dispatch_id,
            target_id=target.target_id,
            target_selection=td.TargetSelection(explicit={}),
            schema_id=request.schema_id,
            status=td.DISPATCH_STATUS_QUEUED,
            task_id=task.task_id,
            input=request.input,
        )
        self.records[dispatch_id] = record
        return td.DispatchTaskResult(
            task_id=task.task_id, dispatch_id=dispatch_id, status=record.status, task=task
        )

    async def GetDispatch(
        self, request: td.GetDispatchRequest, req: Request
    ) -> td.DispatchRecordResult:
        record = self.records.get(request.dispatch_id)
        if record is None:
            raise ReasonError("dispatch record not found")
        return td.DispatchRecordResult(record=record)


def test_end_to_end_over_krpc_and_grpc() -> None:
    private, public = generate_key_pair()
    trust = TrustKeyStore()
    trust.set_owner_key(public)
    exp = int(time.time()) + 600
    jarvis = sign_token({"sub": "alice", "appid": "jarvis", "exp": exp}, private, kid=None)
    other = sign_token({"sub": "bob", "appid": "other", "exp": exp}, private, kid=None)
    binding = Binding("task-dispatcher", verifier=TokenVerifier(trust), rbac=RbacEnforcer())
    binding.add_service(MiniDispatcher())

    async def run() -> None:
        async with serving(
            binding, krpc_port=0, grpc_port=0, log_level="warning", register=False
        ) as info:
            assert info.krpc_url is not None and info.grpc_target is not None
            url = f"{info.krpc_url}/kapi/task-dispatcher"
            wires: list[tuple[KrpcTransport | GrpcTransport, KrpcTransport | GrpcTransport]] = [
                (KrpcTransport(url, token=jarvis), KrpcTransport(url, token=other)),
                (
                    GrpcTransport(info.grpc_target, token=jarvis),
                    GrpcTransport(info.grpc_target, token=other),
                ),
            ]
            try:
                for number, (mine, theirs) in enumerate(wires, start=1):
                    stub = rpc.AsyncTaskDispatcherStub(mine)
                    registered = await stub.RegisterTarget(
                        registration=td.TargetRegistration(
                            target_id="jarvis",
                            functions=[td.RunnerFunctionDescriptor(schema_id="agent.delegate/v1")],
                        )
                    )
                    assert (registered.owner_user_id, registered.owner_app_id) == (
                        "alice",
                        "jarvis",
                    )
                    assert registered.registration_revision == number
                    with pytest.raises(NoPermissionError) as owned:
                        await rpc.AsyncTaskDispatcherStub(theirs).RegisterTarget(
                            registration=registered
                        )
                    assert owned.value.text == "No permission:target jarvis is owned by app jarvis"
                    dispatched = await stub.DispatchTask(
                        target_id="jarvis",
                        schema_id="agent.delegate/v1",
                        input=json_format.ParseDict({"prompt": "sum up"}, tm.Task().input),
                        idempotency_key=f"k-{number}",
                    )
                    assert dispatched.status == td.DISPATCH_STATUS_QUEUED
                    assert dispatched.task.phase == tm.TASK_PHASE_PROMISED
                    record = (await stub.GetDispatch(dispatch_id=dispatched.dispatch_id)).record
                    assert json_format.MessageToDict(record.input) == {"prompt": "sum up"}
                    with pytest.raises(rpc.DefaultTargetNotConfiguredError) as no_route:
                        await stub.DispatchTask(
                            schema_id="raw/v1", input=record.input, idempotency_key="k"
                        )
                    assert no_route.value.text == (
                        "Failed due to reason: default_target_not_configured: raw/v1"
                    )
                    with pytest.raises(rpc.TargetNotRegisteredError):
                        await stub.DispatchTask(
                            target_id="nobody",
                            schema_id="raw/v1",
                            input=record.input,
                            idempotency_key="k",
                        )
            finally:
                for mine, theirs in wires:
                    await mine.aclose()
                    await theirs.aclose()

    asyncio.run(run())
