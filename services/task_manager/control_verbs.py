"""Control requests: pause, resume and cancel asked of a task (recursively, under each
child's policy), directly or by the trusted control plane (upstream-services.md 2.4.4)."""

from __future__ import annotations

from buckyos.generated import task_manager_pb2 as tm
from buckyos.generated.task_manager_rpc import (
    TaskAlreadyCompletedError,
)
from buckyos.runtime import ParseRequestError, RPCError
from buckyos.runtime.server import Request

from .base import (
    _TERMINAL,
    MAX_RECURSIVE_CONTROL_NODES,
    TaskManagerBase,
    Who,
    _close,
    _control_change,
    _follows,
    _opt,
    _ReplayError,
    _replays,
)
from .store import (
    Change,
    Outcome,
    Tx,
    to_value,
)

__all__ = ["ControlVerbs"]


class ControlVerbs(TaskManagerBase):
    """The control verbs (see the module docstring)."""

    # -- control -----------------------------------------------------------------------------

    def _control_single(
        self,
        who: Who,
        task: tm.Task,
        action: int,
        request_id: str,
        expected_revision: int | None,
    ) -> Outcome:
        """upstream ``request_control_single``.  ``task`` is the row the caller's ACL was
        checked on; the control checks run again on the row the write replaces, inside its
        transaction, so a request is never recorded on a state they did not see."""
        actor = who.actor()
        if _replays(task, request_id):
            return self._control_replay(task, actor)
        planned: list[Change] = []

        def check(current: tm.Task, tx: Tx) -> None:
            if _replays(current, request_id):
                raise _ReplayError(current)
            planned.append(_control_change(current, action, request_id))

        def apply(current: tm.Task, tx: Tx) -> Change:
            change = planned[-1]
            if change.event_type == tm.TASK_EVENT_TYPE_TASK_CANCELED:
                if current.HasField("result"):
                    raise TaskAlreadyCompletedError("result already committed")
                _close(current, tm.TASK_OUTCOME_CANCELED, actor, tx.now_ms)
                return change
            current.pending_control.CopyFrom(
                tm.TaskControlRequest(
                    request_id=request_id,
                    action=action,  # type: ignore[arg-type]
                    requested_by=actor,
                    requested_at=tx.now_ms,
                )
            )
            return change

        try:
            return self.store.mutate(
                task.task_id, expected_revision, apply, actor=actor, check=check
            )
        except _ReplayError as replay:
            return self._control_replay(replay.task, actor)

    def _control_replay(self, task: tm.Task, actor: tm.ActorRef) -> Outcome:
        """The answer to a request id still pending: the task as it is, nothing written,
        a kevent with ``event_id: ""``."""
        event = tm.TaskEvent(
            event_id="",
            task_id=task.task_id,
            root_id=task.root_id,
            task_revision=task.revision,
            event_type=tm.TASK_EVENT_TYPE_CONTROL_REQUESTED,
            payload=to_value({"replayed": True}),
            created_at=self.store.now_ms(),
        )
        event.actor.CopyFrom(actor)
        return Outcome(task, event)

    def RequestControl(
        self, request: tm.RequestControlRequest, req: Request
    ) -> tm.RequestControlResult:
        who = self._who(req)
        if not request.request_id.strip():
            raise ParseRequestError("request_id is required")
        caller = who.acl()
        task, _ = self._require(caller, request.task_id, tm.TASK_ACTION_CONTROL)
        if not request.recursive:
            outcome = self._control_single(
                who, task, request.action, request.request_id, _opt(request, "expected_revision")
            )
            return tm.RequestControlResult(task=tm.TaskResult(task=self._published(outcome)))
        batch = tm.BatchControlResult()
        for node in self.store.collect_subtree(task, MAX_RECURSIVE_CONTROL_NODES):
            is_target = node.task_id == task.task_id
            if not is_target and not _follows(node.child_control_policy, request.action):
                batch.skipped_by_policy.append(node.task_id)
                continue
            if node.phase == _TERMINAL:
                batch.already_terminal.append(node.task_id)
                continue
            if not self._permission(caller, node).allows(tm.TASK_ACTION_CONTROL):
                batch.denied.append(node.task_id)
                continue
            request_id = request.request_id if is_target else f"{request.request_id}:{node.task_id}"
            try:
                outcome = self._control_single(who, node, request.action, request_id, None)
            except RPCError as err:
                code = getattr(err, "code", None)
                if code == "task_already_completed":
                    batch.already_terminal.append(node.task_id)
                elif code in (
                    "control_not_available",
                    "control_already_pending",
                    "invalid_task_phase",
                ):
                    batch.skipped_by_policy.append(node.task_id)
                elif code == "permission_denied":
                    batch.denied.append(node.task_id)
                else:
                    raise
                continue
            self._published(outcome)
            batch.requested.append(node.task_id)
        result = tm.RequestControlResult()
        result.batch.result.CopyFrom(batch)
        return result

    def RequestDelegatedControl(
        self, request: tm.RequestDelegatedControlRequest, req: Request
    ) -> tm.RequestControlResult:
        service = self._who(req)
        self._require_trusted(service, "request_delegated_control")
        c = request.controller
        if not request.request_id.strip() or not c.user_id.strip() or not c.app_id.strip():
            raise ParseRequestError("controller and request_id are required")
        controller = Who(c.user_id, c.app_id, zone_trusted=False, sudo=False)
        task, _ = self._require(controller.acl(), request.task_id, tm.TASK_ACTION_CONTROL)
        outcome = self._control_single(
            controller,
            task,
            request.action,
            request.request_id,
            _opt(request, "expected_revision"),
        )
        return tm.RequestControlResult(task=tm.TaskResult(task=self._published(outcome)))
