"""The runner side of task-dispatcher as a served contract: a test app subclasses the
generated TaskRunnerServicer, serves it over kRPC and gRPC, and our own stub calls it the
way task-dispatcher does (offer_task with its three answers, then activate_task), with
the per-lease delivery token in the token slot. The params are the JSON upstream's
dispatcher sends (OfferTaskReq, ActivateTaskReq in task_dispatcher.rs)."""

from __future__ import annotations

import asyncio
import json
import re
import threading
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from google.protobuf import struct_pb2

from buckyos.generated import (
    task_dispatcher_pb2 as td,
    task_runner_pb2 as tr,
    task_runner_rpc as rpc,
)
from buckyos.runtime.client.grpc_client import GrpcTransport
from buckyos.runtime.client.krpc_client import KrpcTransport
from buckyos.runtime.errors import NoPermissionError, ReasonError
from buckyos.runtime.security.rbac import RbacEnforcer
from buckyos.runtime.security.token_verifier import TokenVerifier
from buckyos.runtime.security.trust_keys import TrustKeyStore
from buckyos.runtime.server import Binding, Request
from buckyos.runtime.server.serve import serving
from buckyos.runtime.wire.jsonmap import decode_params, decode_result, encode_params, encode_result

AUTH: dict[str, Any] = {
    "requested_by_user": "alice",
    "requested_by_app": "workflow",
    "on_behalf_of": "alice",
    "zone_trusted_caller": True,
    "input_digest": "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
    "created_at": 1760000000000,
}


def offer(delivery_id: str, schema_id: str = "photos.import/v1") -> dict[str, Any]:
    """offer_task's params as the dispatcher writes them."""
    return {
        "delivery_id": delivery_id,
        "task_id": "t-p1",
        "schema_id": schema_id,
        "schema_version": 1,
        "target_id": "photos",
        "input": {},
        "input_digest": "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
        "auth": AUTH,
        "lease_epoch": 4,
        "deadline_at": 1760000015000,
    }


ACTIVATE: dict[str, Any] = {
    "delivery_id": "dsp-1#1",
    "task_id": "t-p1",
    "runner_epoch": 1,
    "reservation_token": "res-dsp-1#1",
}

# offer_task's three answers (OfferTaskResp, #[serde(tag = "kind")]).
ACCEPTED = {
    "kind": "OfferAccepted",
    "app_instance_id": "photos@ood1",
    "reservation_token": "res-dsp-1#1",
}
BUSY = {"kind": "Busy", "retry_after_ms": 500}
REJECTED = {
    "kind": "Rejected",
    "stable_reason": "unsupported_operation",
    "detail": "schema raw/v1 not supported",
}


class PhotoRunner(rpc.TaskRunnerServicer):
    """A target's instance: one slot of capacity, photos.import/v1 only, idempotent per
    delivery id (a replayed offer answers its first decision)."""

    def __init__(self, delivery_token: str = "dlv-9b1c") -> None:
        self._lock = threading.Lock()
        self.reserved: dict[str, tuple[str, str]] = {}  # delivery_id -> (task_id, token)
        self.started: list[tuple[str, int]] = []
        self.delivery_token = delivery_token
        """The current lease's token (attach_instance gave it): the only one accepted."""

    def _check_delivery(self, req: Request) -> None:
        # Not a session token: the runtime cannot verify it (req.caller is anonymous), the
        # runner compares it with its lease's, as opendan does.
        if req.presented_token != self.delivery_token:
            raise NoPermissionError("invalid delivery token")

    def OfferTask(self, request: tr.OfferTaskRequest, req: Request) -> tr.OfferTaskResult:
        self._check_delivery(req)
        if request.schema_id != "photos.import/v1":
            return tr.OfferTaskResult(
                rejected=tr.OfferRejected(
                    stable_reason=td.DISPATCH_REJECT_REASON_UNSUPPORTED_OPERATION,
                    detail=f"schema {request.schema_id} not supported",
                )
            )
        with self._lock:
            known = self.reserved.get(request.delivery_id)
            if known is None and self.reserved:
                return tr.OfferTaskResult(busy=tr.OfferBusy(retry_after_ms=500))
            token = f"res-{request.delivery_id}"
            self.reserved[request.delivery_id] = (request.task_id, token)
        return tr.OfferTaskResult(
            offer_accepted=tr.OfferAccepted(app_instance_id="photos@ood1", reservation_token=token)
        )

    async def ActivateTask(
        self, request: tr.ActivateTaskRequest, req: Request
    ) -> tr.ActivateTaskResult:
        self._check_delivery(req)
        with self._lock:
            reserved = self.reserved.get(request.delivery_id)
            if reserved != (request.task_id, request.reservation_token):
                raise ReasonError(f"reservation mismatch for delivery {request.delivery_id}")
            if (request.task_id, request.runner_epoch) not in self.started:
                self.started.append((request.task_id, request.runner_epoch))
        return tr.ActivateTaskResult(activated=True)


def test_the_contract() -> None:
    service = rpc.TASK_RUNNER
    assert service.api == "task-runner"
    assert [m.krpc for m in service.methods] == ["offer_task", "activate_task"]
    # The dispatcher's delivery token is not a session token: the handler checks it.
    assert {m.auth_text for m in service.methods} == {"yes"}
    assert all(m.idempotent for m in service.methods)
    method = rpc.TASK_RUNNER_OFFER_TASK
    for answer in (ACCEPTED, BUSY, {"kind": "Busy"}, REJECTED, {**REJECTED, "detail": None}):
        message = decode_result(method, answer)
        expected = {k: v for k, v in answer.items() if v is not None}
        assert encode_result(method, message) == expected
    params = offer("dsp-1#1")
    assert encode_params(method, decode_params(method, params)) == params
    activate = rpc.TASK_RUNNER_ACTIVATE_TASK
    assert encode_params(activate, decode_params(activate, ACTIVATE)) == ACTIVATE
    assert encode_result(activate, decode_result(activate, {"activated": True})) == {
        "activated": True
    }


async def deliver(stub: rpc.AsyncTaskRunnerStub, prefix: str) -> None:
    """What the dispatcher does: offer, then activate what was accepted."""
    request = decode_params(rpc.TASK_RUNNER_OFFER_TASK, offer(f"{prefix}#1"))
    accepted = await stub.OfferTask(request)
    assert accepted.WhichOneof("result") == "offer_accepted"
    assert accepted.offer_accepted.reservation_token == f"res-{prefix}#1"
    assert await stub.OfferTask(request) == accepted  # a replay: the same decision
    busy = await stub.OfferTask(decode_params(rpc.TASK_RUNNER_OFFER_TASK, offer(f"{prefix}#2")))
    assert busy.busy.retry_after_ms == 500
    rejected = await stub.OfferTask(
        decode_params(rpc.TASK_RUNNER_OFFER_TASK, offer(f"{prefix}#3", schema_id="raw/v1"))
    )
    assert rejected.rejected.stable_reason == td.DISPATCH_REJECT_REASON_UNSUPPORTED_OPERATION
    assert rejected.rejected.detail == "schema raw/v1 not supported"
    done = await stub.ActivateTask(
        delivery_id=f"{prefix}#1",
        task_id="t-p1",
        runner_epoch=1,
        reservation_token=accepted.offer_accepted.reservation_token,
    )
    assert done.activated
    with pytest.raises(ReasonError) as mismatch:
        await stub.ActivateTask(
            delivery_id=f"{prefix}#1", task_id="t-p1", runner_epoch=1, reservation_token="forged"
        )
    assert mismatch.value.text == (
        f"Failed due to reason: reservation mismatch for delivery {prefix}#1"
    )


async def refused(stub: rpc.AsyncTaskRunnerStub) -> None:
    """A lease's old token (or none) is refused by the runner's own check, both verbs."""
    request = decode_params(rpc.TASK_RUNNER_OFFER_TASK, offer("dsp-x#1"))
    with pytest.raises(NoPermissionError) as offered:
        await stub.OfferTask(request)
    assert offered.value.text == "No permission:invalid delivery token"
    with pytest.raises(NoPermissionError):
        await stub.ActivateTask(
            delivery_id="dsp-x#1", task_id="t-x", runner_epoch=1, reservation_token="r"
        )


def test_served_and_called_over_krpc_and_grpc() -> None:
    runners: dict[str, PhotoRunner] = {}

    async def run() -> tuple[Any, Any]:
        answers: list[Any] = []
        for wire in ("krpc", "grpc", "raw"):
            runner = runners[wire] = PhotoRunner()
            binding = Binding(
                "task-runner", verifier=TokenVerifier(TrustKeyStore()), rbac=RbacEnforcer()
            )
            binding.add_service(runner)
            async with serving(
                binding, krpc_port=0, grpc_port=0, log_level="warning", register=False
            ) as info:
                assert info.krpc_url is not None and info.grpc_target is not None
                endpoint = f"{info.krpc_url}/kapi/task-runner"
                if wire == "krpc":
                    # The per-lease delivery token rides in the token slot.
                    async with KrpcTransport(endpoint, token="dlv-9b1c") as krpc:
                        await deliver(rpc.AsyncTaskRunnerStub(krpc), "dsp-1")
                    async with KrpcTransport(endpoint, token="dlv-old") as stale:
                        await refused(rpc.AsyncTaskRunnerStub(stale))
                elif wire == "grpc":
                    async with GrpcTransport(info.grpc_target, token="dlv-9b1c") as grpc:
                        await deliver(rpc.AsyncTaskRunnerStub(grpc), "dsp-1")
                    async with GrpcTransport(info.grpc_target) as none:
                        await refused(rpc.AsyncTaskRunnerStub(none))
                else:
                    # Upstream's dispatcher on the wire: kRPC JSON with sys [seq, token].
                    async with aiohttp.ClientSession() as session:
                        for method, params in (
                            ("offer_task", offer("dsp-1#1")),
                            ("activate_task", ACTIVATE),
                        ):
                            body = {"method": method, "params": params, "sys": [7, "dlv-9b1c"]}
                            async with session.post(endpoint, data=json.dumps(body)) as response:
                                answers.append(await response.json())
        return answers[0], answers[1]

    offered, activated = asyncio.run(run())
    assert offered == {"result": ACCEPTED, "sys": [7]}
    assert activated == {"result": {"activated": True}, "sys": [7]}
    for runner in runners.values():
        assert runner.started == [("t-p1", 1)]


def test_input_is_any_json() -> None:
    request = decode_params(rpc.TASK_RUNNER_OFFER_TASK, {**offer("d#1"), "input": [1, "x"]})
    assert [v.number_value for v in request.input.list_value.values[:1]] == [1]
    assert encode_params(rpc.TASK_RUNNER_OFFER_TASK, request)["input"] == [1, "x"]
    built = tr.OfferTaskRequest(input=struct_pb2.Value(string_value="s"))
    assert encode_params(rpc.TASK_RUNNER_OFFER_TASK, built)["input"] == "s"


PAGE = Path(__file__).resolve().parent.parent / "docs" / "services-tasks.md"


def test_docs_example(capsys: pytest.CaptureFixture[str]) -> None:
    """The page's Runner, served and called like the dispatcher calls it."""
    section = PAGE.read_text(encoding="utf-8").split(
        "## The task runner: serving offer_task and activate_task\n", 1
    )[1]
    found = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert found is not None
    namespace: dict[str, Any] = {}
    exec(compile(found.group(1), str(PAGE), "exec"), namespace)
    runner = namespace["Runner"]("dlv-1")
    assert isinstance(runner, rpc.TaskRunnerServicer)
    binding = Binding("task-runner", verifier=TokenVerifier(TrustKeyStore()), rbac=RbacEnforcer())
    binding.add_service(runner)

    async def run() -> None:
        async with serving(binding, krpc_port=0, log_level="warning", register=False) as info:
            assert info.krpc_url is not None
            async with KrpcTransport(f"{info.krpc_url}/kapi/task-runner", token="dlv-1") as t:
                await deliver(rpc.AsyncTaskRunnerStub(t), "dsp-9")
            async with KrpcTransport(f"{info.krpc_url}/kapi/task-runner", token="dlv-0") as t:
                await refused(rpc.AsyncTaskRunnerStub(t))

    asyncio.run(run())
    assert capsys.readouterr().out.splitlines() == ["start t-p1 at epoch 1"]
