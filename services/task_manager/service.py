"""The task-manager servicer: every verb of ``proto/buckyos/task_manager.proto`` with
upstream's semantics (``src/kernel/task_manager/src/server.rs``; facts in
upstream-services.md section 2).

- Identity comes from the verified session token only (``req.caller``), never from the
  params.  Zone-trusted (2.4.5) is decided by the key that verified the token
  (:attr:`~buckyos.runtime.security.SessionToken.zone_trusted`: the owner's or a zone
  device's key, or verify-hub's for a ``device``/``service`` session), stricter than
  upstream's ``iss`` claim test.
- The task ACL is :mod:`.acl` (the rules), fed from the store: the parent chain, the
  active grants on it, the owner view asked of the zone's RBAC, the tree participant.
- Every mutation is one transaction of :mod:`.store`; the verb's checks on the task row
  run inside it (so a runner's epoch, the task's phase and ``expected_revision`` are read
  from the same row the write replaces); after the commit the kevent of :mod:`.events`
  is published, best effort.
- Schemas are checked by :mod:`.schemas`, input digests computed by :mod:`.digest`.

Handlers are synchronous: the binding runs them in its worker threads, where the SQLite
commits (fsynced) belong.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from buckyos.generated import task_manager_pb2 as tm
from buckyos.generated.task_manager_rpc import (
    ControlAlreadyPendingError,
    ControlNotAvailableError,
    InputSchemaMismatchError,
    InvalidTaskPhaseError,
    PermissionDeniedError,
    StaleRunnerEpochError,
    TaskAlreadyCompletedError,
    TaskManagerServicer,
    TaskNotFoundError,
    TaskSchemaNotFoundError,
)
from buckyos.runtime import InvalidTokenError, NoPermissionError, ParseRequestError, RPCError
from buckyos.runtime.security import RbacEnforcer
from buckyos.runtime.server import Request

from . import acl, digest, schemas
from .events import (
    Audience,
    Publisher,
    audience_of,
    grant_subject_json,
    publish_outcome,
)
from .store import (
    Change,
    Outcome,
    TaskStore,
    Tx,
    clamp_limit,
    enum_text,
    executor_kind_of,
    new_grant_id,
    to_value,
)

__all__ = ["BUILTIN_SCHEMAS", "TaskManagerService", "Who", "builtin_schemas"]

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


class TaskManagerService(TaskManagerServicer):
    """See the module docstring.  ``publish`` is the kevent :data:`~.events.Publisher`
    (``None``: publish nothing)."""

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
                task.root_id, who.user_id, who.app_id
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

    # -- creates ---------------------------------------------------------------------------

    @staticmethod
    def _new_task(
        *,
        name: str,
        schema: tm.TaskSchemaDefinition,
        value: Any,
        creator: tm.ActorRef,
        idempotency_key: str,
        request: Any,
        executor: tm.TaskExecutor,
        phase: int,
        wait_reason: tm.TaskWaitReason | None,
    ) -> tm.Task:
        task = tm.Task(
            name=name,
            schema_id=schema.schema_id,
            schema_version=schema.schema_version,
            input_digest=digest.input_digest(value),
            idempotency_key=idempotency_key,
            runner_epoch=1 if executor.WhichOneof("executor") == "app" else 0,
            phase=phase,  # type: ignore[arg-type]
            policy_preset=request.policy_preset
            if request.HasField("policy_preset")
            else POLICY_PRESET,
            permission_boundary=request.permission_boundary,
        )
        task.input.CopyFrom(value)
        task.creator.CopyFrom(creator)
        task.executor.CopyFrom(executor)
        task.control_profile.CopyFrom(_baseline_profile())
        if request.HasField("child_control_policy"):
            task.child_control_policy.CopyFrom(request.child_control_policy)
        else:
            task.child_control_policy.CopyFrom(_default_policy())
        for opt in ("parent_id", "retry_of", "supersedes", "message"):
            if opt in request.DESCRIPTOR.fields_by_name and request.HasField(opt):
                setattr(task, opt, getattr(request, opt))
        if wait_reason is not None:
            task.wait_reason.CopyFrom(wait_reason)
        return task

    def CreateTask(self, request: tm.CreateTaskRequest, req: Request) -> tm.TaskResult:
        who = self._who(req)
        if not request.name.strip():
            raise ParseRequestError("task name is required")
        if not request.idempotency_key.strip():
            raise ParseRequestError("idempotency_key is required")
        which = request.executor.WhichOneof("executor")
        executor = tm.TaskExecutor()
        assignees: list[str] = []
        creator = who.actor()
        wait_reason = None
        if which == "self_app":
            executor.app.app_id = who.app_id
            if request.executor.self_app.HasField("app_instance_id"):
                instance = request.executor.self_app.app_instance_id
                executor.app.app_instance_id = instance
                creator.app_instance_id = instance
            phase = tm.TASK_PHASE_ACCEPTED
        elif which == "human_set":
            assignees = [a.strip() for a in request.executor.human_set.assignees if a.strip()]
            if not assignees:
                raise ParseRequestError("a HumanSet task needs at least one assignee")
            executor.human_set.SetInParent()
            phase = tm.TASK_PHASE_WAITING
            wait_reason = tm.TaskWaitReason(kind=tm.TASK_WAIT_REASON_KIND_HUMAN_INPUT)
        else:
            raise ParseRequestError("Failed to parse CreateTaskReq: executor needs a kind")
        schema = self._resolve_schema(
            request.schema_id,
            _opt(request, "schema_version"),
            request.input,
            executor_kind_of(tm.Task(executor=executor)),
        )
        if request.HasField("parent_id"):
            _, permission = self._visible(who.acl(), request.parent_id)
            if not permission.allows(tm.TASK_ACTION_CREATE_CHILD):
                raise PermissionDeniedError(f"missing CreateChild on parent {request.parent_id}")
        task = self._new_task(
            name=request.name,
            schema=schema,
            value=request.input,
            creator=creator,
            idempotency_key=request.idempotency_key,
            request=request,
            executor=executor,
            phase=phase,
            wait_reason=wait_reason,
        )
        return self._answer(self.store.create_task(task, assignees=assignees))

    def CreateDelegatedTask(
        self, request: tm.CreateDelegatedTaskRequest, req: Request
    ) -> tm.TaskResult:
        who = self._who(req)
        self._require_trusted(who, "create_delegated_task")
        if not request.name.strip() or not request.idempotency_key.strip():
            raise ParseRequestError("name and idempotency_key are required")
        if not request.creator.user_id.strip() or not request.creator.app_id.strip():
            raise ParseRequestError("delegated creator envelope is incomplete")
        schema = self._resolve_schema(
            request.schema_id, _opt(request, "schema_version"), request.input, _APP
        )
        executor = tm.TaskExecutor()
        executor.app.app_id = who.app_id
        if request.HasField("runner_app_instance_id"):
            executor.app.app_instance_id = request.runner_app_instance_id
        task = self._new_task(
            name=request.name,
            schema=schema,
            value=request.input,
            creator=request.creator,
            idempotency_key=request.idempotency_key,
            request=request,
            executor=executor,
            phase=tm.TASK_PHASE_ACCEPTED,
            wait_reason=None,
        )
        return self._answer(self.store.create_task(task))

    def CreatePromisedTask(
        self, request: tm.CreatePromisedTaskRequest, req: Request
    ) -> tm.TaskResult:
        who = self._who(req)
        self._require_trusted(who, "create_promised_task")
        if not request.name.strip() or not request.idempotency_key.strip():
            raise ParseRequestError("name and idempotency_key are required")
        if not request.creator.user_id.strip() or not request.creator.app_id.strip():
            raise ParseRequestError("delegated creator envelope is incomplete")
        if request.HasField("expected_input_digest"):
            if digest.input_digest(request.input) != request.expected_input_digest:
                raise InputSchemaMismatchError(
                    "input digest does not match the control plane's frozen copy"
                )
        schema = self._resolve_schema(
            request.schema_id, _opt(request, "schema_version"), request.input, _UNBOUND
        )
        executor = tm.TaskExecutor()
        executor.unbound.SetInParent()
        wait = (
            request.wait_reason
            if request.HasField("wait_reason")
            else tm.TaskWaitReason(kind=tm.TASK_WAIT_REASON_KIND_DISPATCH)
        )
        task = self._new_task(
            name=request.name,
            schema=schema,
            value=request.input,
            creator=request.creator,
            idempotency_key=request.idempotency_key,
            request=request,
            executor=executor,
            phase=tm.TASK_PHASE_PROMISED,
            wait_reason=wait,
        )
        if request.HasField("origin_ref"):
            task.origin_ref.CopyFrom(request.origin_ref)
        return self._answer(self.store.create_task(task))

    # -- reads -------------------------------------------------------------------------------

    def GetTask(self, request: tm.GetTaskRequest, req: Request) -> tm.TaskResult:
        who = self._who(req)
        task, permission = self._visible(who.acl(), request.task_id)
        return tm.TaskResult(task=acl.trim_task(task, permission))

    def ListTasks(self, request: tm.ListTasksRequest, req: Request) -> tm.TaskSummaryPage:
        who = self._who(req)
        tasks, cursor = self.store.list_tasks(request)
        return tm.TaskSummaryPage(tasks=self._visible_rows(who, tasks), next_cursor=cursor)

    def GetTaskTree(self, request: tm.GetTaskTreeRequest, req: Request) -> tm.TaskSummaryPage:
        who = self._who(req)
        tasks, cursor = self.store.list_tree(
            request.root_id,
            _opt(request, "cursor"),
            clamp_limit(_opt(request, "limit"), 200),
        )
        return tm.TaskSummaryPage(tasks=self._visible_rows(who, tasks), next_cursor=cursor)

    def GetSubtasks(self, request: tm.GetSubtasksRequest, req: Request) -> tm.TaskSummaryPage:
        who = self._who(req)
        self._visible(who.acl(), request.task_id)
        tasks, cursor = self.store.list_children(
            request.task_id,
            _opt(request, "cursor"),
            clamp_limit(_opt(request, "limit"), 100),
        )
        return tm.TaskSummaryPage(tasks=self._visible_rows(who, tasks), next_cursor=cursor)

    # -- tree owner's verbs ------------------------------------------------------------------

    def ArchiveTask(self, request: tm.ArchiveTaskRequest, req: Request) -> tm.TaskResult:
        who = self._who(req)
        task, _ = self._require(who.acl(), request.task_id, tm.TASK_ACTION_ARCHIVE)
        if task.phase != _TERMINAL:
            raise InvalidTaskPhaseError("only terminal tasks can be archived")

        def apply(task: tm.Task, tx: Tx) -> Change:
            if not task.HasField("archived_at"):
                task.archived_at = tx.now_ms
            return Change(tm.TASK_EVENT_TYPE_TASK_ARCHIVED, {})

        return self._answer(
            self.store.mutate(request.task_id, request.expected_revision, apply, actor=who.actor())
        )

    def UpdateAssignees(self, request: tm.UpdateAssigneesRequest, req: Request) -> tm.TaskResult:
        who = self._who(req)
        self._require(who.acl(), request.task_id, tm.TASK_ACTION_REASSIGN)
        add = [a.strip() for a in request.add if a.strip()]
        remove = [r.strip() for r in request.remove if r.strip()]
        actor = who.actor()

        def check(task: tm.Task, tx: Tx) -> None:
            if executor_kind_of(task) != _HUMAN:
                raise InvalidTaskPhaseError("update_assignees only applies to HumanSet tasks")
            if task.phase == _TERMINAL:
                raise TaskAlreadyCompletedError("task already terminal")

        def apply(task: tm.Task, tx: Tx) -> Change:
            current = [u for u in tx.active_assignees(task.task_id) if u not in remove]
            for user in add:
                if user not in current:
                    current.append(user)
            if not current:
                raise InvalidTaskPhaseError(
                    "a HumanSet task must keep at least one active assignee"
                )
            tx.set_assignees(task.task_id, add, remove, actor)
            return Change(
                tm.TASK_EVENT_TYPE_ASSIGNEES_CHANGED,
                {"add": add, "remove": remove, "active": current},
            )

        return self._answer(
            self.store.mutate(
                request.task_id, request.expected_revision, apply, actor=actor, check=check
            )
        )

    def GrantTaskAccess(self, request: tm.GrantTaskAccessRequest, req: Request) -> tm.TaskResult:
        who = self._who(req)
        self._require(who.acl(), request.task_id, tm.TASK_ACTION_GRANT)
        spec = request.grant
        if not spec.actions:
            raise ParseRequestError("a grant needs at least one action")
        actor = who.actor()

        def apply(task: tm.Task, tx: Tx) -> Change:
            grant = tm.TaskAclGrant(
                grant_id=new_grant_id(),
                task_id=task.task_id,
                actions=list(spec.actions),
                scope=spec.scope,
                data_scope=spec.data_scope,
                created_at=tx.now_ms,
            )
            grant.subject.CopyFrom(spec.subject)
            grant.created_by.CopyFrom(actor)
            tx.add_grant(grant)
            return Change(
                tm.TASK_EVENT_TYPE_ACCESS_GRANTED,
                {
                    "grant_id": grant.grant_id,
                    "subject": grant_subject_json(grant.subject),
                    "actions": [enum_text(tm.TaskAction, a) for a in grant.actions],
                    "scope": enum_text(tm.TaskGrantScope, grant.scope),
                    "data_scope": enum_text(tm.TaskDataScope, grant.data_scope),
                },
            )

        return self._answer(
            self.store.mutate(request.task_id, request.expected_revision, apply, actor=actor)
        )

    def RevokeTaskAccess(self, request: tm.RevokeTaskAccessRequest, req: Request) -> tm.TaskResult:
        who = self._who(req)
        self._require(who.acl(), request.task_id, tm.TASK_ACTION_GRANT)

        def apply(task: tm.Task, tx: Tx) -> Change:
            if not tx.revoke_grant(task.task_id, request.grant_id):
                raise TaskNotFoundError(
                    f"active grant {request.grant_id} on task {request.task_id}"
                )
            return Change(tm.TASK_EVENT_TYPE_ACCESS_REVOKED, {"grant_id": request.grant_id})

        return self._answer(
            self.store.mutate(request.task_id, request.expected_revision, apply, actor=who.actor())
        )

    def ListTaskAccess(
        self, request: tm.ListTaskAccessRequest, req: Request
    ) -> tm.ListTaskAccessResult:
        who = self._who(req)
        self._require(who.acl(), request.task_id, tm.TASK_ACTION_GRANT)
        return tm.ListTaskAccessResult(grants=self.store.all_grants(request.task_id))

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

    # -- schemas -----------------------------------------------------------------------------

    def RegisterTaskSchema(
        self, request: tm.RegisterTaskSchemaRequest, req: Request
    ) -> tm.TaskSchemaDefinition:
        who = self._who(req)
        definition = request.definition
        if not definition.schema_id.strip():
            raise ParseRequestError("schema_id is required")
        if not definition.allowed_executor_kinds:
            raise ParseRequestError("allowed_executor_kinds must not be empty")
        if not who.zone_trusted and definition.publisher_app_id != who.app_id:
            raise PermissionDeniedError("publisher_app_id must match the caller app")
        return self.store.register_schema(definition)

    def GetTaskSchema(
        self, request: tm.GetTaskSchemaRequest, req: Request
    ) -> tm.TaskSchemaDefinition:
        self._who(req)
        return self.store.get_schema(request.schema_id, _opt(request, "schema_version"))

    def ListTaskSchemas(
        self, request: tm.ListTaskSchemasRequest, req: Request
    ) -> tm.ListTaskSchemasResult:
        self._who(req)
        return tm.ListTaskSchemasResult(
            schemas=self.store.list_schemas(request.user_creatable_only, request.include_disabled)
        )

    def SetTaskSchemaEnabled(
        self, request: tm.SetTaskSchemaEnabledRequest, req: Request
    ) -> tm.TaskSchemaDefinition:
        who = self._who(req)
        self._require_trusted(who, "set_task_schema_enabled")
        return self.store.set_schema_enabled(
            request.schema_id, request.schema_version, request.enabled
        )

    # -- events and notes --------------------------------------------------------------------

    def ListTaskEvents(
        self, request: tm.ListTaskEventsRequest, req: Request
    ) -> tm.ListTaskEventsResult:
        who = self._who(req)
        task_id = _opt(request, "task_id")
        root_id = _opt(request, "root_id")
        anchor = task_id if task_id is not None else root_id
        if anchor is None:
            raise ParseRequestError("task_id or root_id is required")
        self._visible(who.acl(), anchor)
        events = self.store.list_events(
            task_id,
            root_id,
            _opt(request, "after_event_id"),
            clamp_limit(_opt(request, "limit"), 100),
        )
        result = tm.ListTaskEventsResult(events=events)
        if events:
            result.next_cursor = events[-1].event_id
        return result

    def AddTaskNote(self, request: tm.AddTaskNoteRequest, req: Request) -> tm.AddTaskNoteResult:
        who = self._who(req)
        content = request.content.strip()
        if not content:
            raise ParseRequestError("note content is required")
        self._visible(who.acl(), request.task_id)
        note_type = request.note_type.strip() if request.HasField("note_type") else ""
        now = self.store.now_ms()
        note = tm.TaskNote(
            task_id=request.task_id,
            note_type=note_type or "human",
            content=content,
            author_user_id=who.user_id,
            author_app_id=who.app_id,
            created_at=now,
            updated_at=now,
        )
        note.data.CopyFrom(request.data if request.HasField("data") else to_value({}))
        stored = self.store.add_note(note)
        return tm.AddTaskNoteResult(note_id=stored.id, note=stored)

    def ListTaskNotes(
        self, request: tm.ListTaskNotesRequest, req: Request
    ) -> tm.ListTaskNotesResult:
        who = self._who(req)
        self._visible(who.acl(), request.task_id)
        return tm.ListTaskNotesResult(notes=self.store.list_notes(request.task_id))
