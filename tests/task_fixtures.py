"""A small task-manager zone for the client, route and CLI tests of the task conveniences.

One Binding serves, on one kRPC port and one gRPC port (as upstream's task-manager
process serves both paths on 3380):

- ``task-manager``: :class:`Tasks`, the contract tests' ``MiniTaskManager`` plus the verbs
  the conveniences and ``buckyos task`` call (``report_running``, ``report_waiting``,
  ``fail_task``, ``request_control``, ``list_tasks``), a publish to kevent
  ``/task_mgr/<id>`` after each change (when given a kevent), a count of reads per task,
  and ``conflicts``: that many runner writes meet a concurrent write first (their
  ``expected_revision`` is then stale: ``revision_conflict``);
- ``task-dispatcher``: :class:`Dispatcher`, whose ``list_dispatches`` answers a cursor
  naming it (so a test sees which path answered);
- ``system_config``: :class:`Records`, ``sys_config_get`` of the service records a test
  sets (``services/task-manager/info``).

Tokens are owner-signed (``alice`` of the app ``photos``, ``mallory`` of ``other``).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from google.protobuf import struct_pb2

from buckyos.generated import (
    system_config_pb2 as sc,
    task_dispatcher_pb2 as td,
    task_manager_pb2 as tm,
    task_manager_rpc as rpc,
)
from buckyos.generated.system_config_rpc import SystemConfigServicer
from buckyos.generated.task_dispatcher_rpc import TaskDispatcherServicer
from buckyos.runtime.errors import ReasonError
from buckyos.runtime.security.keys import generate_key_pair
from buckyos.runtime.security.rbac import RbacEnforcer
from buckyos.runtime.security.token_signing import sign_token
from buckyos.runtime.security.token_verifier import TokenVerifier
from buckyos.runtime.security.trust_keys import TrustKeyStore
from buckyos.runtime.server import Binding, Request
from buckyos.runtime.server.serve import ServerInfo, serving
from tests.kevent_fake import FakeKEvent
from tests.test_contract_task_manager import MiniTaskManager

__all__ = ["Dispatcher", "Records", "TaskZone", "Tasks", "served_tasks"]

WAIT = 10.0


def _now() -> int:
    return int(time.time() * 1000)


class Tasks(MiniTaskManager):
    """See the module docstring."""

    def __init__(self, kevent: FakeKEvent | None = None) -> None:
        super().__init__()
        self.kevent = kevent
        self.conflicts = 0
        self.reads: Counter[str] = Counter()
        self.writes: list[str] = []
        self.controls: list[tm.RequestControlRequest] = []

    # -- what every change does

    def _changed(self, task: tm.Task) -> None:
        if self.kevent is not None:
            self.kevent.publish(
                f"/task_mgr/{task.task_id}",
                {
                    "task_id": task.task_id,
                    "root_id": task.root_id,
                    "revision": task.revision,
                    "phase": tm.TaskPhase.Name(task.phase),
                },
            )

    def _runner_write(
        self, envelope: tm.RunnerWriteEnvelope, req: Request, apply: Any
    ) -> tm.TaskResult:
        with self._lock:
            self.writes.append(envelope.task_id)
            task = self.tasks.get(envelope.task_id)
            if task is not None and self.conflicts > 0:
                self.conflicts -= 1
                task.revision += 1  # someone else wrote in between
        result = super()._runner_write(envelope, req, apply)
        self._changed(result.task)
        return result

    def change(self, task_id: str, apply: Any) -> tm.Task:
        """Change a task from outside (another party), as a mutation does."""
        with self._lock:
            task = self.tasks[task_id]
            apply(task)
            task.revision += 1
            task.updated_at = _now()
        self._changed(task)
        return task

    def finish(self, task_id: str) -> tm.Task:
        def done(task: tm.Task) -> None:
            task.phase = tm.TASK_PHASE_TERMINAL
            task.outcome = tm.TASK_OUTCOME_SUCCEEDED
            task.result.CopyFrom(struct_pb2.Value(string_value="done"))
            task.completed_at = _now()

        return self.change(task_id, done)

    # -- verbs

    def GetTask(self, request: tm.GetTaskRequest, req: Request) -> tm.TaskResult:
        if request.task_id == "t-slow":
            time.sleep(1.0)
        with self._lock:
            self.reads[request.task_id] += 1
        return super().GetTask(request, req)

    def ReportRunning(self, request: tm.ReportRunningRequest, req: Request) -> tm.TaskResult:
        def run(task: tm.Task) -> None:
            if task.phase not in (tm.TASK_PHASE_WAITING, tm.TASK_PHASE_ACCEPTED):
                raise rpc.InvalidTaskPhaseError("report_running requires Waiting/Accepted")
            task.phase = tm.TASK_PHASE_RUNNING
            task.ClearField("wait_reason")

        return self._runner_write(request.envelope, req, run)

    def ReportWaiting(self, request: tm.ReportWaitingRequest, req: Request) -> tm.TaskResult:
        def wait(task: tm.Task) -> None:
            if task.phase not in (tm.TASK_PHASE_ACCEPTED, tm.TASK_PHASE_RUNNING):
                raise rpc.InvalidTaskPhaseError("report_waiting requires Accepted/Running")
            task.phase = tm.TASK_PHASE_WAITING
            task.wait_reason.CopyFrom(request.reason)

        return self._runner_write(request.envelope, req, wait)

    def FailTask(self, request: tm.FailTaskRequest, req: Request) -> tm.TaskResult:
        def fail(task: tm.Task) -> None:
            task.phase = tm.TASK_PHASE_TERMINAL
            task.outcome = tm.TASK_OUTCOME_FAILED
            task.error.CopyFrom(request.error)
            task.completed_at = _now()

        return self._runner_write(request.envelope, req, fail)

    def RequestControl(
        self, request: tm.RequestControlRequest, req: Request
    ) -> tm.RequestControlResult:
        with self._lock:
            self.controls.append(request)
            task = self.tasks.get(request.task_id)
            if task is None or task.creator.user_id != req.caller.user_id:
                raise rpc.TaskNotFoundError(request.task_id)
        if request.recursive:
            batch = tm.BatchControlResult(requested=[request.task_id])
            return tm.RequestControlResult(batch=tm.BatchControl(result=batch))

        def pending(task: tm.Task) -> None:
            task.pending_control.CopyFrom(
                tm.TaskControlRequest(
                    request_id=request.request_id,
                    action=request.action,
                    requested_by=tm.ActorRef(
                        user_id=req.caller.user_id or "", app_id=req.caller.app_id or ""
                    ),
                    requested_at=_now(),
                )
            )

        changed = self.change(request.task_id, pending)
        return tm.RequestControlResult(task=tm.TaskResult(task=changed))

    def ListTasks(self, request: tm.ListTasksRequest, req: Request) -> tm.TaskSummaryPage:
        with self._lock:
            rows = [
                task
                for task in self.tasks.values()
                if task.creator.user_id == req.caller.user_id
                and (not request.HasField("phase") or task.phase == request.phase)
            ]
        start = int(request.cursor) if request.HasField("cursor") else 0
        limit = request.limit if request.HasField("limit") else 100
        page = rows[start : start + limit]
        summaries = [
            tm.TaskSummary(
                task_id=task.task_id,
                name=task.name,
                root_id=task.root_id,
                schema_id=task.schema_id,
                schema_version=task.schema_version,
                creator=task.creator,
                executor_kind=tm.TASK_EXECUTOR_KIND_APP,
                phase=task.phase,
                outcome=task.outcome if task.HasField("outcome") else None,
                message=task.message if task.HasField("message") else None,
                revision=task.revision,
                created_at=task.created_at,
                updated_at=task.updated_at,
            )
            for task in page
        ]
        more = start + limit < len(rows)
        return tm.TaskSummaryPage(tasks=summaries, next_cursor=str(start + limit) if more else None)


class Dispatcher(TaskDispatcherServicer):
    """``list_dispatches`` answers ``next_cursor`` = this dispatcher's ``name``."""

    def __init__(self, name: str = "task-dispatcher") -> None:
        self.name = name
        self.calls = 0

    def ListDispatches(
        self, request: td.ListDispatchesRequest, req: Request
    ) -> td.ListDispatchesResult:
        self.calls += 1
        return td.ListDispatchesResult(next_cursor=self.name)


class Records(SystemConfigServicer):
    """``sys_config_get`` of ``data`` (the service records a test writes)."""

    def __init__(self) -> None:
        self.data: dict[str, str] = {}

    def Get(self, request: sc.KeyRequest, req: Request) -> sc.GetResult:
        value = self.data.get(request.key)
        return sc.GetResult() if value is None else sc.GetResult(value=value, version=1)


class TaskZone:
    """The served binding's parts, addresses and tokens."""

    def __init__(self, kevent: FakeKEvent | None) -> None:
        private, public = generate_key_pair()
        self.trust = TrustKeyStore()
        self.trust.set_owner_key(public)
        exp = int(time.time()) + 600
        self.alice = sign_token({"sub": "alice", "appid": "photos", "exp": exp}, private, kid=None)
        self.mallory = sign_token(
            {"sub": "mallory", "appid": "other", "exp": exp}, private, kid=None
        )
        self.tasks = Tasks(kevent)
        self.dispatcher = Dispatcher()
        self.records = Records()
        self.info = ServerInfo()

    @property
    def krpc_url(self) -> str:
        assert self.info.krpc_url is not None
        return self.info.krpc_url

    @property
    def krpc_port(self) -> int:
        port = self.info.krpc_port
        assert port is not None
        return port

    @property
    def grpc_target(self) -> str:
        assert self.info.grpc_target is not None
        return self.info.grpc_target

    @property
    def grpc_port(self) -> int:
        port = self.info.grpc_port
        assert port is not None
        return port

    @property
    def task_manager_url(self) -> str:
        return f"{self.krpc_url}/kapi/task-manager"

    def binding(self) -> Binding:
        binding = Binding(
            "task-manager", verifier=TokenVerifier(self.trust), rbac=RbacEnforcer(), timeout=5.0
        )
        binding.add_service(self.tasks)
        binding.add_service(self.dispatcher)
        binding.add_service(self.records)
        return binding


@contextmanager
def served_tasks(kevent: FakeKEvent | None = None) -> Iterator[TaskZone]:
    """A :class:`TaskZone` served over kRPC and gRPC on free ports, in a thread."""
    zone = TaskZone(kevent)
    ready = threading.Event()
    stop: list[asyncio.Event] = []
    loop = asyncio.new_event_loop()

    async def main() -> None:
        stop.append(asyncio.Event())
        async with serving(
            zone.binding(),
            krpc_port=0,
            grpc_port=0,
            log_level="warning",
            register=False,
            info=zone.info,
            grace=1.0,
        ):
            ready.set()
            await stop[0].wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    try:
        if not ready.wait(WAIT):
            raise ReasonError("the task-manager test server did not start")
        yield zone
    finally:
        if stop:
            loop.call_soon_threadsafe(stop[0].set)
        thread.join(WAIT)
        loop.close()
        assert not thread.is_alive()
