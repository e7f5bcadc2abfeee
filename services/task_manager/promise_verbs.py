"""The trusted control plane's verbs on promised tasks: wait, bind and release an app
executor, finish a failed or canceled promise (zone-trusted callers only, 2.4.5)."""

from __future__ import annotations

from buckyos.generated import task_manager_pb2 as tm
from buckyos.generated.task_manager_rpc import (
    InvalidTaskPhaseError,
    StaleRunnerEpochError,
    TaskAlreadyCompletedError,
)
from buckyos.runtime.server import Request

from .base import (
    _APP,
    _TERMINAL,
    _UNBOUND,
    TaskManagerBase,
    _close,
    _opt,
)
from .store import (
    Change,
    Tx,
    enum_text,
    executor_kind_of,
)

__all__ = ["PromiseVerbs"]


class PromiseVerbs(TaskManagerBase):
    """The control plane's verbs (see the module docstring)."""

    # -- the trusted control plane -----------------------------------------------------------

    def SetPromiseWait(self, request: tm.SetPromiseWaitRequest, req: Request) -> tm.TaskResult:
        who = self._who(req)
        self._require_trusted(who, "set_promise_wait")

        def apply(task: tm.Task, tx: Tx) -> Change:
            if task.phase != tm.TASK_PHASE_PROMISED:
                raise InvalidTaskPhaseError("set_promise_wait requires a Promised task")
            task.wait_reason.CopyFrom(request.wait_reason)
            return Change(
                tm.TASK_EVENT_TYPE_WAIT_REASON_CHANGED,
                {"kind": enum_text(tm.TaskWaitReasonKind, request.wait_reason.kind)},
            )

        return self._answer(
            self.store.mutate(request.task_id, request.expected_revision, apply, actor=who.actor())
        )

    def BindAppExecutor(self, request: tm.BindAppExecutorRequest, req: Request) -> tm.TaskResult:
        who = self._who(req)
        self._require_trusted(who, "bind_app_executor")
        target = _opt(request, "target_id")

        def apply(task: tm.Task, tx: Tx) -> Change:
            kind = executor_kind_of(task)
            if kind == _UNBOUND:
                if task.phase != tm.TASK_PHASE_PROMISED:
                    raise InvalidTaskPhaseError("bind requires a Promised/Unbound task")
            elif kind == _APP:
                if task.executor.app.HasField("app_instance_id"):
                    raise InvalidTaskPhaseError("task already has a bound instance")
                if _opt(task.executor.app, "target_id") != target:
                    raise InvalidTaskPhaseError("logical target is frozen after the first bind")
            else:
                raise InvalidTaskPhaseError("cannot bind an App executor on a HumanSet task")
            if task.phase == _TERMINAL:
                raise TaskAlreadyCompletedError("task already terminal")
            task.executor.app.CopyFrom(
                tm.AppExecutor(app_id=request.app_id, app_instance_id=request.app_instance_id)
            )
            if target is not None:
                task.executor.app.target_id = target
            task.runner_epoch += 1
            task.phase = tm.TASK_PHASE_ACCEPTED
            task.ClearField("wait_reason")
            return Change(
                tm.TASK_EVENT_TYPE_RUNNER_BOUND,
                {
                    "target_id": target,
                    "app_id": request.app_id,
                    "app_instance_id": request.app_instance_id,
                    "delivery_id": _opt(request, "delivery_id"),
                },
            )

        return self._answer(
            self.store.mutate(request.task_id, request.expected_revision, apply, actor=who.actor())
        )

    def ReleaseAppExecutor(
        self, request: tm.ReleaseAppExecutorRequest, req: Request
    ) -> tm.TaskResult:
        who = self._who(req)
        if not who.zone_trusted:
            self._require(who.acl(), request.task_id, tm.TASK_ACTION_REASSIGN)

        def apply(task: tm.Task, tx: Tx) -> Change:
            if executor_kind_of(task) != _APP:
                raise InvalidTaskPhaseError("task has no App executor")
            if task.phase == _TERMINAL:
                raise TaskAlreadyCompletedError("task already terminal")
            app = task.executor.app
            if _opt(app, "app_instance_id") != request.expected_instance_id:
                raise StaleRunnerEpochError("bound instance does not match")
            if task.runner_epoch != request.expected_runner_epoch:
                raise StaleRunnerEpochError("runner epoch does not match")
            app.ClearField("app_instance_id")
            task.runner_epoch += 1
            task.phase = tm.TASK_PHASE_WAITING
            task.wait_reason.CopyFrom(request.reason)
            return Change(
                tm.TASK_EVENT_TYPE_RUNNER_RELEASED,
                {
                    "instance_id": request.expected_instance_id,
                    "reason": enum_text(tm.TaskWaitReasonKind, request.reason.kind),
                },
            )

        return self._answer(
            self.store.mutate(request.task_id, request.expected_revision, apply, actor=who.actor())
        )

    def FinishPromiseFailure(
        self, request: tm.FinishPromiseFailureRequest, req: Request
    ) -> tm.TaskResult:
        who = self._who(req)
        self._require_trusted(who, "finish_promise_failure")
        actor = who.actor()

        def apply(task: tm.Task, tx: Tx) -> Change:
            if executor_kind_of(task) != _UNBOUND:
                raise InvalidTaskPhaseError("finish_promise_failure requires an Unbound task")
            if task.phase == _TERMINAL:
                raise TaskAlreadyCompletedError("task already terminal")
            task.error.CopyFrom(request.error)
            _close(task, tm.TASK_OUTCOME_FAILED, actor, tx.now_ms)
            return Change(
                tm.TASK_EVENT_TYPE_TASK_FAILED,
                {"code": request.error.code, "message": request.error.message, "path": "promise"},
            )

        return self._answer(
            self.store.mutate(request.task_id, request.expected_revision, apply, actor=actor)
        )

    def CancelPromisedTask(
        self, request: tm.CancelPromisedTaskRequest, req: Request
    ) -> tm.TaskResult:
        who = self._who(req)
        self._require_trusted(who, "cancel_promised_task")
        actor = who.actor()

        def apply(task: tm.Task, tx: Tx) -> Change:
            if executor_kind_of(task) != _UNBOUND:
                raise InvalidTaskPhaseError("cancel_promised_task requires an Unbound task")
            if task.phase == _TERMINAL:
                raise TaskAlreadyCompletedError("task already terminal")
            _close(task, tm.TASK_OUTCOME_CANCELED, actor, tx.now_ms)
            return Change(
                tm.TASK_EVENT_TYPE_TASK_CANCELED, {"cancel_mode": "interrupt", "path": "promise"}
            )

        return self._answer(
            self.store.mutate(request.task_id, request.expected_revision, apply, actor=actor)
        )
