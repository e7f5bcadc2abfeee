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

The verbs live in groups: creates, reads, the tree owner's verbs, schemas, events and notes
here; control requests in :mod:`.control_verbs`, the runner's in :mod:`.runner_verbs`, the
control plane's in :mod:`.promise_verbs`, over :mod:`.base`.

Handlers are synchronous: the binding runs them in its worker threads, where the SQLite
commits (fsynced) belong.
"""

from __future__ import annotations

from typing import Any

from buckyos.generated import task_manager_pb2 as tm
from buckyos.generated.task_manager_rpc import (
    InputSchemaMismatchError,
    InvalidTaskPhaseError,
    PermissionDeniedError,
    TaskAlreadyCompletedError,
    TaskNotFoundError,
)
from buckyos.runtime import ParseRequestError
from buckyos.runtime.server import Request

from . import acl, digest
from .base import (
    _APP,
    _HUMAN,
    _TERMINAL,
    _UNBOUND,
    BUILTIN_SCHEMAS,
    POLICY_PRESET,
    Who,
    _baseline_profile,
    _default_policy,
    _opt,
    builtin_schemas,
)
from .control_verbs import ControlVerbs
from .events import (
    grant_subject_json,
)
from .promise_verbs import PromiseVerbs
from .runner_verbs import RunnerVerbs
from .store import (
    Change,
    Tx,
    clamp_limit,
    enum_text,
    executor_kind_of,
    new_grant_id,
    to_value,
)

__all__ = ["BUILTIN_SCHEMAS", "TaskManagerService", "Who", "builtin_schemas"]


class TaskManagerService(ControlVerbs, RunnerVerbs, PromiseVerbs):
    """See the module docstring.  ``publish`` is the kevent :data:`~.events.Publisher`
    (``None``: publish nothing)."""

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
