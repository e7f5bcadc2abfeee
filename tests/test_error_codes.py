"""Coded errors declared per contract ((buckyos.api).errors), scheduler's own unknown-method
text and workflow's ok:false envelopes: typed on the client, byte-identical on the wire,
over kRPC and gRPC (real servers on loopback) and the in-memory loopback."""

from __future__ import annotations

import asyncio
import inspect
import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from google.protobuf.message import Message

from buckyos.runtime.client.grpc_client import GrpcTransport
from buckyos.runtime.client.krpc_client import KrpcTransport
from buckyos.runtime.descriptor import MethodDescriptor, ServiceDescriptor
from buckyos.runtime.errors import (
    CodedError,
    NoPermissionError,
    NotOkError,
    ReasonError,
    RPCError,
    error_from_grpc,
    error_from_text,
    refine_error,
)
from buckyos.runtime.server.request import Request
from buckyos.runtime.server.serve import serving
from buckyos.runtime.testing import LoopbackTransport
from buckyos.runtime.transport import AsyncUnaryInvoker
from buckyos.runtime.wire.dispatch import CallInfo
from tests.generated import serde_shapes_pb2 as ss, serde_shapes_rpc as rpc

CODED: tuple[type[CodedError], ...] = rpc.SERDE_SHAPES_ERRORS.classes


def test_every_declared_code_has_its_class() -> None:
    assert len(CODED) == 16
    assert {cls.code for cls in CODED} >= {
        "task_not_found",
        "permission_denied",
        "revision_conflict",
        "stale_runner_epoch",
        "idempotency_conflict",
        "task_schema_not_found",
        "unknown scheduler method",
    }
    assert rpc.TaskNotFoundError.__doc__ == (
        "``task_not_found``: No such task, or the caller may not see it."
    )
    assert issubclass(rpc.TaskNotFoundError, ReasonError)
    assert issubclass(rpc.PermissionDeniedError, NoPermissionError)
    assert rpc.SERDE_SHAPES_GET_TASK.errors is rpc.SERDE_SHAPES_ERRORS
    assert rpc.SERDE_SHAPES.spec()["errors"][0] == {
        "code": "task_not_found",
        "kind": "ReasonError",
        "class": "TaskNotFoundError",
    }


@pytest.mark.parametrize(
    ("text", "cls", "message"),
    [
        ("Failed due to reason: task_not_found: t-1b2c", rpc.TaskNotFoundError, "t-1b2c"),
        (
            "Failed due to reason: revision_conflict: expected revision 3, found 5",
            rpc.RevisionConflictError,
            "expected revision 3, found 5",
        ),
        (
            "No permission:permission_denied: missing Control on task t-1",
            rpc.PermissionDeniedError,
            "missing Control on task t-1",
        ),
        (
            "Failed due to reason: stale_runner_epoch: runner epoch 1 != current 2",
            rpc.StaleRunnerEpochError,
            "runner epoch 1 != current 2",
        ),
        (
            "Failed due to reason: task_schema_not_found: foo/v1@None",
            rpc.TaskSchemaNotFoundError,
            "foo/v1@None",
        ),
        ("Failed due to reason: task_not_found", rpc.TaskNotFoundError, ""),
        ("Failed due to reason: task_not_found:t-1", rpc.TaskNotFoundError, "t-1"),
        (
            "Failed due to reason: unknown scheduler method: run_thunks",
            rpc.UnknownSchedulerMethodError,
            "run_thunks",
        ),
    ],
)
def test_received_texts_become_coded_errors(text: str, cls: type[CodedError], message: str) -> None:
    error = refine_error(rpc.SERDE_SHAPES_GET_TASK, error_from_text(text))
    assert type(error) is cls
    assert error.message == message
    assert error.text == text  # byte for byte, whatever the spacing after the code
    assert str(error) == text


@pytest.mark.parametrize(
    "text",
    [
        "Failed due to reason: task_not_found_anywhere: t-1",  # the code, then not ':'
        "Failed due to reason: not task_not_found: t-1",
        "No permission:task_not_found: t-1",  # a ReasonError code under another kind
        "Failed due to reason: permission_denied: x",  # a NoPermission code as a reason
        "Unknown method: task_not_found",
    ],
)
def test_texts_that_are_not_a_declared_code_stay_as_they_are(text: str) -> None:
    received = error_from_text(text)
    assert refine_error(rpc.SERDE_SHAPES_GET_TASK, received) is received


def test_a_coded_error_raised_by_a_server_is_upstreams_text() -> None:
    assert rpc.TaskNotFoundError("t-1").text == "Failed due to reason: task_not_found: t-1"
    assert rpc.PermissionDeniedError("missing Control on task t-1").text == (
        "No permission:permission_denied: missing Control on task t-1"
    )
    assert rpc.TaskNotFoundError().text == "Failed due to reason: task_not_found"
    assert repr(rpc.TaskNotFoundError("t-1")) == "TaskNotFoundError('t-1')"
    error = rpc.RevisionConflictError("task t-1 was modified concurrently")
    assert error.code == "revision_conflict" and error.grpc_status == "UNKNOWN"
    assert rpc.PermissionDeniedError("x").grpc_status == "PERMISSION_DENIED"


# --- over the wires ----------------------------------------------------------------------

# What the handler raises (by task_id), and what the client must see.
RAISED: dict[str, RPCError] = {
    **{cls.code: cls(f"detail of {cls.code}") for cls in CODED},
    "bare-code": ReasonError("task_already_completed"),
    "no-space": ReasonError("task_not_found:t-1"),
    "not-a-code": ReasonError("task_not_found_x: y"),
    "plain-permission": NoPermissionError("task-manager requires a session token"),
}


class Shapes(rpc.SerdeShapesServicer):
    def GetTask(self, request: ss.TaskIdRequest, req: Request) -> ss.TaskResult:
        raise RAISED[request.task_id]

    async def GetScheduledTask(
        self, request: ss.ScheduleIdRequest, req: Request
    ) -> ss.ScheduleResult:
        if request.schedule_id == "archived":
            raise NotOkError("workflow wf-1 is archived", code="definition_archived")
        if request.schedule_id == "missing":
            raise NotOkError(envelope={"ok": False, "error": "workflow_not_found", "id": "wf-1"})
        return ss.ScheduleResult(schedule=ss.Schedule(schedule_id=request.schedule_id, name="n"))


@dataclass
class ServicerDispatcher:
    """The smallest Dispatcher: one servicer, no auth."""

    servicer: Shapes = field(default_factory=Shapes)

    def services(self) -> tuple[ServiceDescriptor, ...]:
        return (self.servicer.SERVICE,)

    def lookup(self, api: str, krpc: str) -> MethodDescriptor[Any, Any] | None:
        service = self.servicer.SERVICE
        return service.by_krpc.get(krpc) if api == service.api else None

    async def call(
        self, method: MethodDescriptor[Any, Any], message: Message, info: CallInfo
    ) -> Message:
        req = Request(method=method, message=message, params=info.params, transport=info.transport)
        result = self.servicer.handler_for(method)(message, req)
        if inspect.isawaitable(result):
            result = await result
        assert isinstance(result, Message)
        return result


def expected(key: str) -> tuple[str, str]:
    """(class name, wire text) the client must see for ``RAISED[key]``."""
    raised = RAISED[key]
    if key == "not-a-code" or key == "plain-permission":
        return type(raised).__name__, raised.text
    if key == "bare-code":
        return "TaskAlreadyCompletedError", raised.text
    if key == "no-space":
        return "TaskNotFoundError", raised.text
    return type(raised).__name__, raised.text


async def outcomes(stub: rpc.AsyncSerdeShapesStub) -> dict[str, tuple[str, str, str]]:
    seen: dict[str, tuple[str, str, str]] = {}
    for key in RAISED:
        try:
            await stub.GetTask(task_id=key)
        except RPCError as exc:
            code = getattr(exc, "code", "")
            seen[key] = (type(exc).__name__, exc.text, code)
        else:  # pragma: no cover - the handler always raises
            seen[key] = ("no error", "", "")
    for schedule_id in ("archived", "missing"):
        try:
            await stub.GetScheduledTask(schedule_id=schedule_id)
        except NotOkError as exc:
            seen[schedule_id] = (type(exc).__name__, exc.text, exc.code)
    return seen


def test_every_code_over_krpc_grpc_and_loopback() -> None:
    async def run() -> dict[str, dict[str, tuple[str, str, str]]]:
        by_wire: dict[str, dict[str, tuple[str, str, str]]] = {}
        dispatcher = ServicerDispatcher()
        async with serving(dispatcher, krpc_port=0, grpc_port=0, log_level="warning") as info:
            assert info.krpc_url is not None and info.grpc_target is not None
            krpc = KrpcTransport(info.krpc_url)
            grpc = GrpcTransport(info.grpc_target)
            transports: dict[str, AsyncUnaryInvoker] = {
                "krpc": krpc,
                "grpc": grpc,
                "loopback": LoopbackTransport(dispatcher.servicer),
            }
            try:
                for wire, transport in transports.items():
                    by_wire[wire] = await outcomes(rpc.AsyncSerdeShapesStub(transport))
                ok = await rpc.AsyncSerdeShapesStub(krpc).GetScheduledTask(schedule_id="s-1")
                assert ok.schedule.name == "n"
            finally:
                await krpc.aclose()
                await grpc.aclose()
        return by_wire

    by_wire = asyncio.run(run())
    krpc = by_wire["krpc"]
    for key in RAISED:
        name, text = expected(key)
        assert krpc[key][:2] == (name, text), key
    assert krpc["revision_conflict"] == (
        "RevisionConflictError",
        "Failed due to reason: revision_conflict: detail of revision_conflict",
        "revision_conflict",
    )
    assert krpc["permission_denied"][1] == (
        "No permission:permission_denied: detail of permission_denied"
    )
    assert krpc["unknown scheduler method"][0] == "UnknownSchedulerMethodError"
    # kRPC carries the whole envelope; gRPC and the loopback only the text.
    assert krpc["archived"] == (
        "NotOkError",
        "Failed due to reason: workflow wf-1 is archived",
        "definition_archived",
    )
    assert krpc["missing"] == (
        "NotOkError",
        "Failed due to reason: workflow_not_found",
        "workflow_not_found",
    )
    for wire in ("grpc", "loopback"):
        other = by_wire[wire]
        assert {k: v for k, v in other.items() if k not in ("archived", "missing")} == {
            k: v for k, v in krpc.items() if k not in ("archived", "missing")
        }, wire
        assert other["archived"][:2] == krpc["archived"][:2]
        assert other["missing"][:2] == krpc["missing"][:2]


def test_krpc_server_writes_the_ok_false_envelope() -> None:
    async def run() -> tuple[Any, Any]:
        import aiohttp

        async with serving(
            ServicerDispatcher(), krpc_port=0, grpc_port=None, log_level="warning"
        ) as info:
            assert info.krpc_url is not None
            url = f"{info.krpc_url}/kapi/serde-shapes"
            async with aiohttp.ClientSession() as session:
                answers = []
                for schedule_id in ("missing", "archived"):
                    body = {
                        "method": "get_scheduled_task",
                        "params": {"schedule_id": schedule_id},
                        "sys": [1],
                    }
                    async with session.post(url, data=json.dumps(body)) as response:
                        answers.append(await response.json())
                return answers[0], answers[1]

    missing, archived = asyncio.run(run())
    assert missing == {
        "result": {"ok": False, "error": "workflow_not_found", "id": "wf-1"},
        "sys": [1],
    }
    assert archived["result"] == {
        "ok": False,
        "error": "definition_archived",
        "message": "workflow wf-1 is archived",
    }


def test_grpc_details_carry_the_same_text() -> None:
    text = "Failed due to reason: stale_runner_epoch: runner epoch 1 != current 2"
    received = error_from_grpc("UNKNOWN", text)
    refined = refine_error(rpc.SERDE_SHAPES_REPORT_PROGRESS, received)
    assert type(refined) is rpc.StaleRunnerEpochError and refined.text == text
    denied = error_from_grpc("PERMISSION_DENIED", "No permission:permission_denied: no")
    assert type(refine_error(rpc.SERDE_SHAPES_GET_TASK, denied)) is rpc.PermissionDeniedError
