"""task-manager's client with upstream's conveniences (``task_mgr.rs``, ``runtime.rs``).

:class:`TaskManagerClient` and :class:`AsyncTaskManagerClient` are the generated stubs
(every verb, typed errors) plus what upstream's client adds on top of the verbs:

- :meth:`~TaskManagerClient.cancel_task`: ``request_control`` Cancel with a fresh
  ``request_id`` ``"ctl-<uuid, simple form>"``;
- the runner helpers, for an app running its own (SelfApp or bound) task: each reads
  ``get_task`` and fills the runner envelope from that snapshot (``app_instance_id`` from
  the App executor, ``runner_epoch``, ``expected_revision = revision``); a
  ``revision_conflict`` (someone wrote in between) reads the task again and retries
  once.  As upstream: :meth:`~TaskManagerClient.runner_start` moves Accepted or Waiting
  to Running and passes other phases through (an ``invalid_task_phase`` answers the
  fresh snapshot); :meth:`~TaskManagerClient.runner_wait` starts the task first; the
  others leave a Terminal task as it is and return it;
- :meth:`~TaskManagerClient.wait_for_task_end`: subscribe to kevent
  ``/task_mgr/<task_id>`` (task-manager publishes there after every change), read
  ``get_task`` at once and again on each event, at least every 30 s (the first wait
  500 ms); without kevent (none given, unreachable, or its stream gave up) every 500 ms.
  kevent only wakes the reader: the snapshot ``get_task`` answers is the truth.

Both clients share their decisions: the runner helpers are sans-IO flows
(:mod:`~buckyos.runtime.program.flow`) driven through the stub (so errors arrive typed,
with the stub's timeout), and the wait's schedule is :class:`EndWait`.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any, Final, Self

from google.protobuf import json_format, struct_pb2

from buckyos.generated import task_manager_pb2 as tm
from buckyos.generated.task_manager_rpc import (
    TASK_MANAGER_COMMIT_RESULT,
    TASK_MANAGER_FAIL_TASK,
    TASK_MANAGER_GET_TASK,
    TASK_MANAGER_REPORT_PROGRESS,
    TASK_MANAGER_REPORT_RUNNING,
    TASK_MANAGER_REPORT_STARTED,
    TASK_MANAGER_REPORT_WAITING,
    AsyncTaskManagerStub,
    InvalidTaskPhaseError,
    RevisionConflictError,
    TaskManagerStub,
)
from buckyos.runtime.client.kevent import KEventClient, KEventSubscription
from buckyos.runtime.client.kevent_async import AsyncKEventClient, AsyncKEventSubscription
from buckyos.runtime.client.kevent_core import KEventReconnect
from buckyos.runtime.descriptor import MethodDescriptor, ReqT, RespT
from buckyos.runtime.errors import KEventError
from buckyos.runtime.program.flow import Flow, adrive, call, drive
from buckyos.runtime.transport import AsyncUnaryInvoker, UnaryInvoker

__all__ = [
    "FIRST_SWEEP",
    "KEVENT_SWEEP",
    "POLL_SWEEP",
    "AsyncTaskManagerClient",
    "EndWait",
    "TaskManagerClient",
    "control_request_id",
    "runner_envelope",
    "task_event_path",
]

FIRST_SWEEP: Final = 0.5
"""Seconds before the second read of :meth:`TaskManagerClient.wait_for_task_end`."""
KEVENT_SWEEP: Final = 30.0
"""Seconds between reads while kevent watches the task (a read also follows each event)."""
POLL_SWEEP: Final = 0.5
"""Seconds between reads without kevent."""
_STREAM_TRIES: Final = 1
"""Reopenings of a failed kevent stream before the wait polls instead (after ~0.2 s)."""
_DRAIN: Final = 64
"""Queued events taken at once after a wake-up (one read answers them all)."""

_log = logging.getLogger("buckyos.runtime.program.tasks")

JsonLike = Any
"""A JSON value (dict, list, str, number, bool, None) or a ``struct_pb2.Value``."""


# --------------------------------------------------------------------------- pure parts


def task_event_path(task_id: str) -> str:
    """The kevent id task-manager publishes a task's changes to: ``/task_mgr/<task_id>``."""
    return f"/task_mgr/{task_id}"


def control_request_id() -> str:
    """A fresh control ``request_id``, as upstream's ``cancel_task``: ``ctl-<uuid hex>``."""
    return f"ctl-{uuid.uuid4().hex}"


def runner_envelope(task: tm.Task) -> tm.RunnerWriteEnvelope:
    """The runner envelope from a snapshot (upstream ``snapshot_envelope``)."""
    app = task.executor.app if task.executor.WhichOneof("executor") == "app" else None
    return tm.RunnerWriteEnvelope(
        task_id=task.task_id,
        app_instance_id=app.app_instance_id if app is not None and app.app_instance_id else None,
        runner_epoch=task.runner_epoch,
        expected_revision=task.revision,
    )


def _value(value: JsonLike) -> struct_pb2.Value:
    if isinstance(value, struct_pb2.Value):
        return value
    return json_format.ParseDict(value, struct_pb2.Value())


def _terminal(task: tm.Task) -> bool:
    return task.phase == tm.TASK_PHASE_TERMINAL


def _phase(task: tm.Task) -> str:
    phase = tm.TaskPhase.Name(task.phase).removeprefix("TASK_PHASE_").title()
    if task.HasField("outcome"):
        phase += "/" + tm.TaskOutcome.Name(task.outcome).removeprefix("TASK_OUTCOME_").title()
    return phase


Write = tuple[MethodDescriptor[Any, tm.TaskResult], Any]
"""One runner write: the verb and its request."""
Plan = Callable[[tm.Task], Write | None]
"""What to write for a snapshot; ``None``: nothing (the snapshot is the answer)."""


def _read(task_id: str) -> Flow[tm.Task]:
    answer = yield from call(TASK_MANAGER_GET_TASK, tm.GetTaskRequest(task_id=task_id))
    return answer.task


def _write_once_more(
    task: tm.Task, plan: Plan, *, phase_error_reads: bool = False
) -> Flow[tm.Task]:
    """Write what ``plan`` says for ``task``; on ``revision_conflict`` read the task again
    and write once more (a second conflict is raised).  ``phase_error_reads``: an
    ``invalid_task_phase`` answers the fresh snapshot (upstream's ``runner_start``)."""
    for attempt in (1, 2):
        write = plan(task)
        if write is None:
            return task
        method, request = write
        try:
            answer = yield from call(method, request)
            return answer.task
        except RevisionConflictError:
            if attempt == 2:
                raise
        except InvalidTaskPhaseError:
            if not phase_error_reads:
                raise
            return (yield from _read(task.task_id))
        task = yield from _read(task.task_id)
    raise AssertionError("unreachable")  # pragma: no cover


def _start_plan(task: tm.Task) -> Write | None:
    if task.phase == tm.TASK_PHASE_ACCEPTED:
        return TASK_MANAGER_REPORT_STARTED, tm.ReportStartedRequest(envelope=runner_envelope(task))
    if task.phase == tm.TASK_PHASE_WAITING:
        return TASK_MANAGER_REPORT_RUNNING, tm.ReportRunningRequest(envelope=runner_envelope(task))
    return None


def start_flow(task_id: str) -> Flow[tm.Task]:
    """``runner_start``: Accepted -> Running (``report_started``), Waiting -> Running
    (``report_running``); other phases pass through."""
    task = yield from _read(task_id)
    return (yield from _write_once_more(task, _start_plan, phase_error_reads=True))


def progress_flow(task_id: str, progress: JsonLike | None, message: str | None) -> Flow[tm.Task]:
    """``runner_progress``: ``report_progress`` unless the task is Terminal."""
    value = None if progress is None else _value(progress)

    def plan(task: tm.Task) -> Write | None:
        if _terminal(task):
            return None
        request = tm.ReportProgressRequest(
            envelope=runner_envelope(task), progress=value, message=message
        )
        return TASK_MANAGER_REPORT_PROGRESS, request

    task = yield from _read(task_id)
    return (yield from _write_once_more(task, plan))


def wait_flow(task_id: str, reason: tm.TaskWaitReason) -> Flow[tm.Task]:
    """``runner_wait``: start the task, then Running -> Waiting with ``reason``."""

    def plan(task: tm.Task) -> Write | None:
        if task.phase != tm.TASK_PHASE_RUNNING:
            return None
        request = tm.ReportWaitingRequest(envelope=runner_envelope(task), reason=reason)
        return TASK_MANAGER_REPORT_WAITING, request

    task = yield from start_flow(task_id)
    return (yield from _write_once_more(task, plan))


def complete_flow(task_id: str, result: JsonLike) -> Flow[tm.Task]:
    """``runner_complete``: ``commit_result`` unless the task is Terminal."""
    value = _value(result)

    def plan(task: tm.Task) -> Write | None:
        if _terminal(task):
            return None
        envelope = runner_envelope(task)
        request = tm.CommitResultRequest(
            task_id=task.task_id,
            result=value,
            app_instance_id=envelope.app_instance_id
            if envelope.HasField("app_instance_id")
            else None,
            runner_epoch=task.runner_epoch,
            expected_revision=task.revision,
        )
        return TASK_MANAGER_COMMIT_RESULT, request

    task = yield from _read(task_id)
    return (yield from _write_once_more(task, plan))


def fail_flow(task_id: str, error: tm.TaskError) -> Flow[tm.Task]:
    """``runner_fail``: ``fail_task`` unless the task is Terminal."""

    def plan(task: tm.Task) -> Write | None:
        if _terminal(task):
            return None
        return TASK_MANAGER_FAIL_TASK, tm.FailTaskRequest(
            envelope=runner_envelope(task), error=error
        )

    task = yield from _read(task_id)
    return (yield from _write_once_more(task, plan))


def _task_error(code: str, message: str, detail: JsonLike | None) -> tm.TaskError:
    if not code:
        raise ValueError("runner_fail needs an error code (a stable snake_case name)")
    return tm.TaskError(
        code=code, message=message, detail=None if detail is None else _value(detail)
    )


def _cancel_request(task_id: str, recursive: bool) -> tm.RequestControlRequest:
    return tm.RequestControlRequest(
        task_id=task_id,
        action=tm.TASK_CONTROL_ACTION_CANCEL,
        request_id=control_request_id(),
        recursive=recursive,
    )


class EndWait:
    """The schedule of one :meth:`TaskManagerClient.wait_for_task_end`, without I/O.

    The caller reads the task, asks :meth:`done` and, when it is not, waits
    :meth:`next_wait` seconds (on kevent, or asleep when ``watching`` is false) before the
    next read; ``None`` means the time is up (:meth:`timed_out` is the error).
    """

    def __init__(
        self,
        task_id: str,
        timeout: float | None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not task_id:
            raise ValueError("wait_for_task_end needs a task id")
        if timeout is not None and timeout < 0:
            raise ValueError(f"timeout must be >= 0 seconds or None, got {timeout}")
        self.task_id = task_id
        self.timeout = timeout
        self.clock = clock
        self.deadline = None if timeout is None else clock() + timeout
        self.reads = 0
        self.last: tm.Task | None = None

    @property
    def pattern(self) -> str:
        return task_event_path(self.task_id)

    def done(self, task: tm.Task) -> bool:
        """Book one read; True when the task has ended (phase Terminal)."""
        self.reads += 1
        self.last = task
        return _terminal(task)

    def next_wait(self, watching: bool) -> float | None:
        """Seconds until the next read (500 ms first; 30 s while kevent watches, 500 ms
        otherwise), cut at the deadline; ``None`` when it has passed."""
        sweep = FIRST_SWEEP if self.reads <= 1 else (KEVENT_SWEEP if watching else POLL_SWEEP)
        if self.deadline is None:
            return sweep
        left = self.deadline - self.clock()
        if left <= 0:
            return None
        return min(sweep, left)

    def timed_out(self) -> TimeoutError:
        where = f" (still {_phase(self.last)}, revision {self.last.revision})" if self.last else ""
        return TimeoutError(
            f"task {self.task_id} did not end within {self.timeout:g} s{where}; wait "
            "longer, or cancel it (cancel_task)"
        )


# --------------------------------------------------------------------------- clients


class _Calls:
    """An invoker that makes a flow's calls through a stub: errors come typed and the
    stub's timeout applies."""

    __slots__ = ("_stub",)

    def __init__(self, stub: Any) -> None:
        self._stub = stub

    def invoke(
        self, method: MethodDescriptor[ReqT, RespT], request: ReqT, *, timeout: float | None = None
    ) -> RespT:
        answer: RespT = self._stub._call(method, request, {})
        return answer

    async def ainvoke(
        self, method: MethodDescriptor[ReqT, RespT], request: ReqT, *, timeout: float | None = None
    ) -> RespT:
        answer: RespT = await self._stub._call(method, request, {})
        return answer


class TaskManagerClient(TaskManagerStub):
    """:class:`~buckyos.generated.task_manager_rpc.TaskManagerStub` with upstream's
    conveniences (see the module).  ``kevent``: makes the kevent client
    :meth:`wait_for_task_end` subscribes with (``None``: it polls)."""

    __slots__ = ("_kevent",)

    def __init__(
        self,
        invoker: UnaryInvoker,
        *,
        timeout: float | None = None,
        kevent: Callable[[], KEventClient] | None = None,
    ) -> None:
        super().__init__(invoker, timeout=timeout)
        self._kevent = kevent

    def with_timeout(self, timeout: float | None) -> Self:
        return type(self)(self._invoker, timeout=timeout, kevent=self._kevent)

    def cancel_task(self, task_id: str, recursive: bool = False) -> tm.RequestControlResult:
        """Ask for Cancel with a fresh ``request_id``; ``recursive``: the whole subtree
        (the answer is then a Batch)."""
        return self.RequestControl(_cancel_request(task_id, recursive))

    def runner_start(self, task_id: str) -> tm.Task:
        """Move the task to Running (from Accepted or Waiting); other phases pass."""
        return drive(start_flow(task_id), _Calls(self))

    def runner_progress(
        self, task_id: str, progress: JsonLike | None = None, message: str | None = None
    ) -> tm.Task:
        """Replace the task's progress (any JSON) and/or message."""
        return drive(progress_flow(task_id, progress, message), _Calls(self))

    def runner_wait(self, task_id: str, reason: tm.TaskWaitReason) -> tm.Task:
        """Park the task in Waiting with ``reason`` (starting it first)."""
        return drive(wait_flow(task_id, reason), _Calls(self))

    def runner_complete(self, task_id: str, result: JsonLike) -> tm.Task:
        """Commit the one-shot result (any JSON): Terminal/Succeeded."""
        return drive(complete_flow(task_id, result), _Calls(self))

    def runner_fail(
        self, task_id: str, code: str, message: str = "", detail: JsonLike | None = None
    ) -> tm.Task:
        """Close the task as Terminal/Failed with a stable error ``code``."""
        return drive(fail_flow(task_id, _task_error(code, message, detail)), _Calls(self))

    def wait_for_task_end(self, task_id: str, timeout: float | None = None) -> tm.Task:
        """The task's snapshot once it is Terminal; ``TimeoutError`` after ``timeout``
        seconds (``None``: no limit).  See the module for kevent and polling."""
        wait = EndWait(task_id, timeout)
        client, sub = self._subscribe(wait.pattern)
        try:
            while not wait.done(self.GetTask(task_id=task_id).task):
                seconds = wait.next_wait(sub is not None)
                if seconds is None:
                    raise wait.timed_out()
                if sub is None:
                    time.sleep(seconds)
                    continue
                try:
                    if sub.get(seconds) is not None:
                        for _ in range(_DRAIN):
                            if sub.get(0) is None:
                                break
                except KEventError as exc:
                    _log.info("kevent stopped watching %s (%s); polling", task_id, exc)
                    sub.close()
                    sub = None
            assert wait.last is not None
            return wait.last
        finally:
            if client is not None:
                client.close()

    def _subscribe(self, pattern: str) -> tuple[KEventClient | None, KEventSubscription | None]:
        if self._kevent is None:
            return None, None
        client: KEventClient | None = None
        try:
            client = self._kevent()
            sub = client.subscribe([pattern], reconnect=KEventReconnect(tries=_STREAM_TRIES))
        except (KEventError, ValueError) as exc:
            _log.info("no kevent for %s (%s); polling every %g s", pattern, exc, POLL_SWEEP)
            if client is not None:
                client.close()
            return None, None
        return client, sub


class AsyncTaskManagerClient(AsyncTaskManagerStub):
    """The asyncio twin of :class:`TaskManagerClient`."""

    __slots__ = ("_kevent",)

    def __init__(
        self,
        invoker: AsyncUnaryInvoker,
        *,
        timeout: float | None = None,
        kevent: Callable[[], AsyncKEventClient] | None = None,
    ) -> None:
        super().__init__(invoker, timeout=timeout)
        self._kevent = kevent

    def with_timeout(self, timeout: float | None) -> Self:
        return type(self)(self._invoker, timeout=timeout, kevent=self._kevent)

    async def cancel_task(self, task_id: str, recursive: bool = False) -> tm.RequestControlResult:
        """:meth:`TaskManagerClient.cancel_task`, awaited."""
        return await self.RequestControl(_cancel_request(task_id, recursive))

    async def runner_start(self, task_id: str) -> tm.Task:
        """:meth:`TaskManagerClient.runner_start`, awaited."""
        return await adrive(start_flow(task_id), _Calls(self))

    async def runner_progress(
        self, task_id: str, progress: JsonLike | None = None, message: str | None = None
    ) -> tm.Task:
        """:meth:`TaskManagerClient.runner_progress`, awaited."""
        return await adrive(progress_flow(task_id, progress, message), _Calls(self))

    async def runner_wait(self, task_id: str, reason: tm.TaskWaitReason) -> tm.Task:
        """:meth:`TaskManagerClient.runner_wait`, awaited."""
        return await adrive(wait_flow(task_id, reason), _Calls(self))

    async def runner_complete(self, task_id: str, result: JsonLike) -> tm.Task:
        """:meth:`TaskManagerClient.runner_complete`, awaited."""
        return await adrive(complete_flow(task_id, result), _Calls(self))

    async def runner_fail(
        self, task_id: str, code: str, message: str = "", detail: JsonLike | None = None
    ) -> tm.Task:
        """:meth:`TaskManagerClient.runner_fail`, awaited."""
        return await adrive(fail_flow(task_id, _task_error(code, message, detail)), _Calls(self))

    async def wait_for_task_end(self, task_id: str, timeout: float | None = None) -> tm.Task:
        """:meth:`TaskManagerClient.wait_for_task_end`, awaited."""
        wait = EndWait(task_id, timeout, clock=asyncio.get_running_loop().time)
        client, sub = await self._subscribe(wait.pattern)
        try:
            while not wait.done((await self.GetTask(task_id=task_id)).task):
                seconds = wait.next_wait(sub is not None)
                if seconds is None:
                    raise wait.timed_out()
                if sub is None:
                    await asyncio.sleep(seconds)
                    continue
                try:
                    if await sub.get(seconds) is not None:
                        for _ in range(_DRAIN):
                            if await sub.get(0) is None:
                                break
                except KEventError as exc:
                    _log.info("kevent stopped watching %s (%s); polling", task_id, exc)
                    await sub.aclose()
                    sub = None
            assert wait.last is not None
            return wait.last
        finally:
            if client is not None:
                await client.aclose()

    async def _subscribe(
        self, pattern: str
    ) -> tuple[AsyncKEventClient | None, AsyncKEventSubscription | None]:
        if self._kevent is None:
            return None, None
        client: AsyncKEventClient | None = None
        try:
            client = self._kevent()
            sub = await client.subscribe([pattern], reconnect=KEventReconnect(tries=_STREAM_TRIES))
        except (KEventError, ValueError) as exc:
            _log.info("no kevent for %s (%s); polling every %g s", pattern, exc, POLL_SWEEP)
            if client is not None:
                await client.aclose()
            return None, None
        return client, sub
