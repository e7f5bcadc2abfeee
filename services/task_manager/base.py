"""The task-manager servicer's common part: identity, the ACL as the verbs ask it, the
answer after a commit and schema resolution, and the module helpers the verb groups share.
The verbs are grouped in :mod:`.control_verbs`, :mod:`.runner_verbs`, :mod:`.promise_verbs`
and :mod:`.service` (whose docstring gives the semantics)."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from buckyos.generated import task_manager_pb2 as tm
from buckyos.generated.task_manager_rpc import (
    ControlAlreadyPendingError,
    ControlNotAvailableError,
    InputSchemaMismatchError,
    InvalidTaskPhaseError,
    PermissionDeniedError,
    TaskAlreadyCompletedError,
    TaskManagerServicer,
    TaskSchemaNotFoundError,
)
from buckyos.runtime import InvalidTokenError, NoPermissionError
from buckyos.runtime.security import RbacEnforcer
from buckyos.runtime.server import Request

from . import acl, schemas
from .events import (
    Audience,
    Publisher,
    audience_of,
    publish_outcome,
)
from .store import (
    Change,
    Outcome,
    TaskStore,
    enum_text,
    executor_kind_of,
    to_value,
)

__all__ = [
    "BUILTIN_SCHEMAS",
    "MAX_RECURSIVE_CONTROL_NODES",
    "POLICY_PRESET",
    "SERVICE_NAME",
    "TaskManagerBase",
    "Who",
    "builtin_schemas",
]


_log = logging.getLogger("buckyos.services.task_manager")

POLICY_PRESET: Final = "collaborative-tree/v1"
MAX_RECURSIVE_CONTROL_NODES: Final = 512
SERVICE_NAME: Final = "task-manager"

_UNBOUND = tm.TASK_EXECUTOR_KIND_UNBOUND
_APP = tm.TASK_EXECUTOR_KIND_APP
_HUMAN = tm.TASK_EXECUTOR_KIND_HUMAN_SET
_TERMINAL = tm.TASK_PHASE_TERMINAL

# (schema_id, publisher, executor kinds) of upstream's builtin_task_schemas() after raw/v1
# and human.approval/v1; input and output {"type": "object"}.
_ANY_RUN = (_UNBOUND, _APP)
BUILTIN_SCHEMAS: Final[tuple[tuple[str, str, tuple[int, ...]], ...]] = (
    ("download/v1", SERVICE_NAME, _ANY_RUN),
    ("scheduler.dispatch_thunk/v1", "scheduler", _ANY_RUN),
    ("workflow.run_tree/v1", "workflow", _ANY_RUN),
    ("workflow.step/v1", "workflow", _ANY_RUN),
    ("workflow.map_shard/v1", "workflow", _ANY_RUN),
    ("workflow.thunk/v1", "workflow", _ANY_RUN),
    ("workflow.schedule/v1", "workflow", _ANY_RUN),
    ("workflow.send_message/v1", "workflow", _ANY_RUN),
    ("workflow.execute_rpc/v1", "workflow", _ANY_RUN),
    ("workflow.run/v1", "workflow", _ANY_RUN),
    ("agent.delegate/v1", "opendan", _ANY_RUN),
    ("human.input/v1", "opendan", (_HUMAN,)),
    ("opendan.async_tool/v1", "opendan", _ANY_RUN),
    ("opendan.command/v1", "opendan", _ANY_RUN),
    ("tool.exec_bash/v1", "opendan", _ANY_RUN),
    ("aicc.compute/v1", "aicc", _ANY_RUN),
    ("app.install/v1", "control-panel", _ANY_RUN),
    ("app.uninstall/v1", "control-panel", _ANY_RUN),
    ("app.start/v1", "control-panel", _ANY_RUN),
    ("app.update/v1", "control-panel", _ANY_RUN),
    ("app.update_batch/v1", "control-panel", _ANY_RUN),
)


def _schema(
    schema_id: str, kinds: Sequence[int], publisher: str, input_schema: Any, output_schema: Any
) -> tm.TaskSchemaDefinition:
    return tm.TaskSchemaDefinition(
        schema_id=schema_id,
        schema_version=1,
        input_schema=to_value(input_schema),
        output_schema=to_value(output_schema),
        allowed_executor_kinds=list(kinds),  # type: ignore[arg-type]
        user_creatable=False,
        publisher_app_id=publisher,
        enabled=True,
        created_at=0,
    )


def builtin_schemas() -> list[tm.TaskSchemaDefinition]:
    """Upstream's ``builtin_task_schemas()``, seeded at start."""
    out = [
        _schema("raw/v1", (_UNBOUND, _APP, _HUMAN), SERVICE_NAME, {}, {}),
        _schema(
            "human.approval/v1",
            (_HUMAN,),
            SERVICE_NAME,
            {
                "type": "object",
                "properties": {
                    "title": {"type": "string"},
                    "description": {"type": "string"},
                    "context": {},
                },
            },
            {
                "type": "object",
                "required": ["decision"],
                "properties": {
                    "decision": {"enum": ["Approve", "Reject"]},
                    "comment": {"type": "string"},
                },
            },
        ),
    ]
    obj = {"type": "object"}
    out.extend(_schema(sid, kinds, pub, obj, obj) for sid, pub, kinds in BUILTIN_SCHEMAS)
    return out


@dataclass(frozen=True, slots=True)
class Who:
    """The caller as the service sees it, from the verified token."""

    user_id: str
    app_id: str
    zone_trusted: bool
    sudo: bool

    def actor(self) -> tm.ActorRef:
        return tm.ActorRef(user_id=self.user_id, app_id=self.app_id)

    def acl(self) -> acl.Caller:
        return acl.Caller(self.user_id, self.app_id, self.zone_trusted, self.sudo)


def _phase(task: tm.Task) -> str:
    return enum_text(tm.TaskPhase, task.phase)


def _opt(message: Any, name: str) -> Any:
    return getattr(message, name) if message.HasField(name) else None


def _rust_some(value: str | None) -> str:
    """Rust's ``{:?}`` of an ``Option<String>``."""
    return "None" if value is None else f"Some({json.dumps(value, ensure_ascii=False)})"


def _baseline_profile() -> tm.TaskControlProfile:
    profile = tm.TaskControlProfile()
    profile.pause.unavailable.SetInParent()
    profile.resume.unavailable.SetInParent()
    profile.cancel.interrupt.SetInParent()
    return profile


def _default_policy() -> tm.ChildControlPolicy:
    return tm.ChildControlPolicy(follow_pause=True, follow_resume=True, follow_cancel=True)


def _close(task: tm.Task, outcome: int, by: tm.ActorRef, now: int) -> None:
    """Terminal with ``outcome``: pending control and wait reason cleared."""
    task.phase = _TERMINAL
    task.outcome = outcome  # type: ignore[assignment]
    task.ClearField("pending_control")
    task.ClearField("wait_reason")
    task.completed_by.CopyFrom(by)
    task.completed_at = now


def _summary(task: tm.Task) -> tm.TaskSummary:
    """upstream ``summarize_task``."""
    s = tm.TaskSummary(
        task_id=task.task_id,
        name=task.name,
        root_id=task.root_id,
        schema_id=task.schema_id,
        schema_version=task.schema_version,
        executor_kind=executor_kind_of(task),  # type: ignore[arg-type]
        phase=task.phase,
        revision=task.revision,
        created_at=task.created_at,
        updated_at=task.updated_at,
    )
    s.creator.CopyFrom(task.creator)
    for name in ("parent_id", "message", "outcome", "completed_at", "archived_at"):
        if task.HasField(name):
            setattr(s, name, getattr(task, name))
    if task.HasField("wait_reason"):
        s.wait_reason.CopyFrom(task.wait_reason)
    if task.HasField("pending_control"):
        s.pending_control_action = task.pending_control.action
    return s


def _follows(policy: tm.ChildControlPolicy, action: int) -> bool:
    if action == tm.TASK_CONTROL_ACTION_PAUSE:
        return policy.follow_pause
    if action == tm.TASK_CONTROL_ACTION_RESUME:
        return policy.follow_resume
    return policy.follow_cancel


class _ReplayError(Exception):
    """The request id is the pending one: answer the task, write nothing."""

    def __init__(self, task: tm.Task) -> None:
        super().__init__(task.task_id)
        self.task = task


def _replays(task: tm.Task, request_id: str) -> bool:
    return task.HasField("pending_control") and task.pending_control.request_id == request_id


def _control_change(task: tm.Task, action: int, request_id: str) -> Change:
    """The checks of a control request on ``task`` (2.4.4) and the event it writes: a
    direct close (TaskCanceled) for a HumanSet or un-promised Unbound cancel, else
    ControlRequested / ControlSuperseded."""
    if task.phase == _TERMINAL:
        raise TaskAlreadyCompletedError("task already terminal")
    kind = executor_kind_of(task)
    if action == tm.TASK_CONTROL_ACTION_CANCEL:
        path = None
        if kind == _HUMAN:
            path = "human_set"
        elif kind == _UNBOUND and not task.HasField("origin_ref"):
            path = "unbound"
        if path is not None:
            return Change(
                tm.TASK_EVENT_TYPE_TASK_CANCELED, {"cancel_mode": "interrupt", "path": path}
            )
    profile = task.control_profile
    if action == tm.TASK_CONTROL_ACTION_PAUSE:
        if profile.pause.WhichOneof("availability") != "available":
            raise ControlNotAvailableError("runner does not currently support pause")
    elif action == tm.TASK_CONTROL_ACTION_RESUME:
        if task.phase != tm.TASK_PHASE_PAUSED:
            raise InvalidTaskPhaseError("resume requires a Paused task")
        if profile.resume.WhichOneof("availability") != "available":
            raise ControlNotAvailableError("runner does not currently support resume")
    elif profile.cancel.WhichOneof("capability") == "unavailable" and kind == _APP:
        raise ControlNotAvailableError("runner does not currently support cancel")
    action_text = enum_text(tm.TaskControlAction, action)
    if not task.HasField("pending_control"):
        return Change(
            tm.TASK_EVENT_TYPE_CONTROL_REQUESTED, {"action": action_text, "request_id": request_id}
        )
    pending = task.pending_control
    pending_text = enum_text(tm.TaskControlAction, pending.action)
    if pending.action == tm.TASK_CONTROL_ACTION_CANCEL:
        raise ControlAlreadyPendingError("a cancel request is already pending")
    if action != tm.TASK_CONTROL_ACTION_CANCEL:
        raise ControlAlreadyPendingError(f"pending {pending_text} request {pending.request_id}")
    return Change(
        tm.TASK_EVENT_TYPE_CONTROL_SUPERSEDED,
        {
            "superseded_request_id": pending.request_id,
            "superseded_action": pending_text,
            "action": action_text,
            "request_id": request_id,
        },
    )


class TaskManagerBase(TaskManagerServicer):
    """What every verb group needs (see :mod:`.service`).  ``publish`` is the kevent
    :data:`~.events.Publisher` (``None``: publish nothing)."""

    def __init__(
        self,
        store: TaskStore,
        *,
        rbac: RbacEnforcer,
        publish: Publisher | None = None,
    ) -> None:
        self.store = store
        self.rbac = rbac
        self.publish = publish

    def seed_builtin_schemas(self) -> None:
        """Register upstream's built-in schemas (each failure logged and skipped)."""
        for definition in builtin_schemas():
            try:
                self.store.register_schema(definition)
            except Exception as exc:
                _log.error(
                    "task-manager: seeding built-in schema %s failed: %s",
                    definition.schema_id,
                    exc,
                )

    # -- identity and ACL --------------------------------------------------------------------

    @staticmethod
    def _who(req: Request) -> Who:
        claims = req.caller.claims
        if claims is None or not claims.token.strip():
            raise NoPermissionError("task-manager requires a session token")
        user_id = claims.sub
        app_id = claims.app_id
        if not user_id.strip():
            raise InvalidTokenError("session token has an empty subject")
        if not app_id.strip():
            raise InvalidTokenError("session token has an empty app id")
        return Who(user_id, app_id, claims.zone_trusted, claims.sudo)

    @staticmethod
    def _require_trusted(who: Who, verb: str) -> None:
        if not who.zone_trusted:
            raise PermissionDeniedError(f"{verb} requires a zone-trusted service identity")

    def _permission(self, who: acl.Caller, task: tm.Task) -> acl.Permission:
        """upstream ``compute_permission`` for ``who`` on ``task``."""
        store = self.store
        chain = acl.permission_chain(task, store.get_task)
        grants = store.active_grants_for(chain.task_ids)

        def owner_view(creator_user_id: str) -> bool:
            return self.rbac.enforce(
                who.user_id,
                who.app_id,
                acl.task_collection_resource(creator_user_id),
                "read",
                sudo=who.sudo,
                trusted=who.zone_trusted,
            )

        return acl.compute_permission(
            task,
            chain,
            grants,
            who,
            owner_view=acl.memo_owner_view(owner_view),
            tree_participant=lambda: store.is_tree_participant(
                task.root_id, who.user_id, who.app_id, zone_trusted=who.zone_trusted
            ),
        )

    def _visible(self, who: acl.Caller, task_id: str) -> tuple[tm.Task, acl.Permission]:
        """The task and the caller's permission; ``task_not_found`` when it may not see
        it (or it does not exist)."""
        task = self.store.require_task(task_id)
        permission = self._permission(who, task)
        acl.check(permission, tm.TASK_ACTION_READ_META, task_id)
        return task, permission

    def _require(
        self, who: acl.Caller, task_id: str, action: int
    ) -> tuple[tm.Task, acl.Permission]:
        task, permission = self._visible(who, task_id)
        acl.check(permission, action, task_id)  # type: ignore[arg-type]
        return task, permission

    def _visible_rows(self, who: Who, tasks: list[tm.Task]) -> list[tm.TaskSummary]:
        caller = who.acl()
        return [_summary(t) for t in tasks if self._permission(caller, t).visible]

    # -- after a commit --------------------------------------------------------------------

    def _audience(self, task: tm.Task) -> Audience:
        tasks = [task]
        if task.root_id != task.task_id:
            root = self.store.get_task(task.root_id)
            if root is not None:
                tasks.append(root)
        ids = [row[0] for row in self.store.task_chain(task.task_id)]
        return audience_of(tasks, self.store.active_grants_for(ids))

    def _published(self, outcome: Outcome) -> tm.Task:
        if self.publish is not None:
            try:
                audience = self._audience(outcome.task)
            except Exception as exc:  # the write is committed: never fail the answer
                _log.warning("task_mgr.publish: cannot compute the audience: %s", exc)
                audience = {"users": [], "apps": []}
            publish_outcome(self.publish, outcome, audience)
        return outcome.task

    def _answer(self, outcome: Outcome) -> tm.TaskResult:
        return tm.TaskResult(task=self._published(outcome))

    # -- schemas ---------------------------------------------------------------------------

    def _resolve_schema(
        self, schema_id: str, version: int | None, value: Any, kind: int
    ) -> tm.TaskSchemaDefinition:
        schema = self.store.get_schema(schema_id, version)
        if not schema.enabled:
            raise TaskSchemaNotFoundError(f"schema {schema_id} is disabled")
        if kind not in schema.allowed_executor_kinds:
            raise InputSchemaMismatchError(
                f"schema {schema_id} does not allow executor kind "
                f"{enum_text(tm.TaskExecutorKind, kind)}"
            )
        schemas.check_input(schema.input_schema, value)
        return schema
