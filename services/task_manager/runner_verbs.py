"""The bound runner's verbs: started, progress, waiting, running, the control profile and
acks, the result or the failure, each fenced by the runner envelope (2.4.3)."""

from __future__ import annotations

from collections.abc import Callable

from buckyos.generated import task_manager_pb2 as tm
from buckyos.generated.task_manager_rpc import (
    InvalidTaskPhaseError,
    PermissionDeniedError,
    StaleRunnerEpochError,
    TaskAlreadyCompletedError,
)
from buckyos.runtime import ParseRequestError
from buckyos.runtime.server import Request

from . import acl, schemas
from .base import (
    _APP,
    _HUMAN,
    _TERMINAL,
    TaskManagerBase,
    Who,
    _close,
    _opt,
    _phase,
    _rust_some,
)
from .store import (
    Change,
    Tx,
    enum_text,
    executor_kind_of,
)

__all__ = ["RunnerVerbs"]


class RunnerVerbs(TaskManagerBase):
    """The runner's verbs (see the module docstring)."""

    # -- the bound runner --------------------------------------------------------------------

    @staticmethod
    def _runner_check(
        who: Who, env: tm.RunnerWriteEnvelope, phase_check: Callable[[tm.Task], None] | None
    ) -> Callable[[tm.Task, Tx], None]:
        """upstream ``verify_app_runner_write``, then the verb's phase check."""

        def check(task: tm.Task, tx: Tx) -> None:
            if executor_kind_of(task) != _APP:
                raise InvalidTaskPhaseError("task has no App executor")
            app = task.executor.app
            if app.app_id != who.app_id:
                raise PermissionDeniedError(
                    f"caller app {who.app_id} is not the bound runner {app.app_id}"
                )
            if not acl.app_proven(who.acl(), task):
                # Stricter than upstream: a user's own login names its app id itself.
                raise PermissionDeniedError(
                    f"caller app {who.app_id} is not the bound runner {app.app_id} of "
                    f"another user's task: a user's session ({who.user_id}) runs only the "
                    "tasks its user created; run it with the app's zone-trusted service token"
                )
            if app.HasField("app_instance_id"):
                given = _opt(env, "app_instance_id")
                if given != app.app_instance_id:
                    raise StaleRunnerEpochError(
                        f"instance {_rust_some(given)} is not the bound instance "
                        f"{app.app_instance_id}"
                    )
            if env.runner_epoch != task.runner_epoch:
                raise StaleRunnerEpochError(
                    f"runner epoch {env.runner_epoch} != current {task.runner_epoch}"
                )
            if task.phase == _TERMINAL:
                raise TaskAlreadyCompletedError("task already terminal")
            if phase_check is not None:
                phase_check(task)

        return check

    def _runner_write(
        self,
        req: Request,
        env: tm.RunnerWriteEnvelope,
        apply: Callable[[tm.Task, Tx, Who], Change],
        phase_check: Callable[[tm.Task], None] | None = None,
    ) -> tm.TaskResult:
        who = self._who(req)
        return self._answer(
            self.store.mutate(
                env.task_id,
                env.expected_revision,
                lambda task, tx: apply(task, tx, who),
                actor=who.actor(),
                check=self._runner_check(who, env, phase_check),
            )
        )

    def ReportStarted(self, request: tm.ReportStartedRequest, req: Request) -> tm.TaskResult:
        def phase(task: tm.Task) -> None:
            if task.phase != tm.TASK_PHASE_ACCEPTED:
                raise InvalidTaskPhaseError(
                    f"report_started requires Accepted, found {_phase(task)}"
                )

        def apply(task: tm.Task, tx: Tx, who: Who) -> Change:
            task.phase = tm.TASK_PHASE_RUNNING
            task.ClearField("wait_reason")
            return Change(
                tm.TASK_EVENT_TYPE_PHASE_CHANGED,
                {"from": "Accepted", "to": "Running", "via": "report_started"},
            )

        return self._runner_write(req, request.envelope, apply, phase)

    def ReportProgress(self, request: tm.ReportProgressRequest, req: Request) -> tm.TaskResult:
        message = _opt(request, "message")

        def apply(task: tm.Task, tx: Tx, who: Who) -> Change:
            if request.HasField("progress"):
                task.progress.CopyFrom(request.progress)
            if message is not None:
                task.message = message
            return Change(tm.TASK_EVENT_TYPE_PROGRESS_REPORTED, {"message": message})

        return self._runner_write(req, request.envelope, apply)

    def ReportWaiting(self, request: tm.ReportWaitingRequest, req: Request) -> tm.TaskResult:
        def phase(task: tm.Task) -> None:
            if task.phase not in (tm.TASK_PHASE_ACCEPTED, tm.TASK_PHASE_RUNNING):
                raise InvalidTaskPhaseError(
                    f"report_waiting requires Accepted/Running, found {_phase(task)}"
                )

        def apply(task: tm.Task, tx: Tx, who: Who) -> Change:
            before = _phase(task)
            task.phase = tm.TASK_PHASE_WAITING
            task.wait_reason.CopyFrom(request.reason)
            return Change(
                tm.TASK_EVENT_TYPE_WAIT_REASON_CHANGED,
                {"from": before, "kind": enum_text(tm.TaskWaitReasonKind, request.reason.kind)},
            )

        return self._runner_write(req, request.envelope, apply, phase)

    def ReportRunning(self, request: tm.ReportRunningRequest, req: Request) -> tm.TaskResult:
        def phase(task: tm.Task) -> None:
            if task.phase not in (tm.TASK_PHASE_WAITING, tm.TASK_PHASE_ACCEPTED):
                raise InvalidTaskPhaseError(
                    f"report_running requires Waiting/Accepted, found {_phase(task)}"
                )

        def apply(task: tm.Task, tx: Tx, who: Who) -> Change:
            before = _phase(task)
            task.phase = tm.TASK_PHASE_RUNNING
            task.ClearField("wait_reason")
            return Change(
                tm.TASK_EVENT_TYPE_PHASE_CHANGED,
                {"from": before, "to": "Running", "via": "report_running"},
            )

        return self._runner_write(req, request.envelope, apply, phase)

    def UpdateControlProfile(
        self, request: tm.UpdateControlProfileRequest, req: Request
    ) -> tm.TaskResult:
        def apply(task: tm.Task, tx: Tx, who: Who) -> Change:
            task.control_profile.CopyFrom(request.profile)
            task.control_profile.updated_at = tx.now_ms
            return Change(tm.TASK_EVENT_TYPE_CONTROL_PROFILE_CHANGED, {})

        return self._runner_write(req, request.envelope, apply)

    def AckControl(self, request: tm.AckControlRequest, req: Request) -> tm.TaskResult:
        def pending(task: tm.Task) -> None:
            if not task.HasField("pending_control"):
                raise InvalidTaskPhaseError("no pending control request")
            if task.pending_control.request_id != request.request_id:
                raise InvalidTaskPhaseError(
                    f"pending request is {task.pending_control.request_id}, "
                    f"not {request.request_id}"
                )

        def apply(task: tm.Task, tx: Tx, who: Who) -> Change:
            action = task.pending_control.action
            action_text = enum_text(tm.TaskControlAction, action)
            mode = (
                "safe"
                if task.control_profile.cancel.WhichOneof("capability") == "safe"
                else "interrupt"
            )
            task.ClearField("pending_control")
            if not request.applied:
                return Change(
                    tm.TASK_EVENT_TYPE_CONTROL_REJECTED,
                    {
                        "action": action_text,
                        "request_id": request.request_id,
                        "reject_reason": _opt(request, "reject_reason"),
                    },
                )
            payload = {"action": action_text, "request_id": request.request_id, "cancel_mode": mode}
            if action == tm.TASK_CONTROL_ACTION_PAUSE:
                task.phase = tm.TASK_PHASE_PAUSED
            elif action == tm.TASK_CONTROL_ACTION_RESUME:
                task.phase = tm.TASK_PHASE_RUNNING
                task.ClearField("wait_reason")
            else:
                if task.HasField("result"):
                    raise TaskAlreadyCompletedError("result already committed")
                _close(task, tm.TASK_OUTCOME_CANCELED, who.actor(), tx.now_ms)
                return Change(tm.TASK_EVENT_TYPE_TASK_CANCELED, payload)
            return Change(tm.TASK_EVENT_TYPE_CONTROL_APPLIED, payload)

        return self._runner_write(req, request.envelope, apply, pending)

    def CommitResult(self, request: tm.CommitResultRequest, req: Request) -> tm.TaskResult:
        who = self._who(req)
        actor = who.actor()

        def check(task: tm.Task, tx: Tx) -> None:
            kind = executor_kind_of(task)
            if kind == _APP:
                if not request.HasField("runner_epoch"):
                    raise ParseRequestError("runner_epoch is required for App runner commits")
                env = tm.RunnerWriteEnvelope(
                    task_id=request.task_id,
                    runner_epoch=request.runner_epoch,
                    expected_revision=request.expected_revision,
                )
                if request.HasField("app_instance_id"):
                    env.app_instance_id = request.app_instance_id
                self._runner_check(who, env, None)(task, tx)
            elif kind == _HUMAN:
                if who.user_id not in tx.active_assignees(task.task_id):
                    raise PermissionDeniedError(f"{who.user_id} is not an active assignee")
                if task.phase == _TERMINAL:
                    raise TaskAlreadyCompletedError("task already terminal")
            else:
                raise InvalidTaskPhaseError("an unbound task has no committer")
            schema = tx.schema(task.schema_id, task.schema_version)
            schemas.check_result(schema.output_schema, request.result)

        def apply(task: tm.Task, tx: Tx) -> Change:
            if task.phase == _TERMINAL or task.HasField("result"):
                raise TaskAlreadyCompletedError("result already committed or task terminal")
            task.result.CopyFrom(request.result)
            _close(task, tm.TASK_OUTCOME_SUCCEEDED, actor, tx.now_ms)
            return Change(tm.TASK_EVENT_TYPE_RESULT_COMMITTED, {})

        return self._answer(
            self.store.mutate(
                request.task_id, request.expected_revision, apply, actor=actor, check=check
            )
        )

    def FailTask(self, request: tm.FailTaskRequest, req: Request) -> tm.TaskResult:
        def apply(task: tm.Task, tx: Tx, who: Who) -> Change:
            if task.HasField("result"):
                raise TaskAlreadyCompletedError("task already terminal")
            task.error.CopyFrom(request.error)
            _close(task, tm.TASK_OUTCOME_FAILED, who.actor(), tx.now_ms)
            return Change(
                tm.TASK_EVENT_TYPE_TASK_FAILED,
                {"code": request.error.code, "message": request.error.message},
            )

        return self._runner_write(req, request.envelope, apply)
