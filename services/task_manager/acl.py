"""The task ACL (upstream ``task_manager/src/acl.rs``): who may do what on a task, and how
a snapshot is trimmed for a reader.

Pure: no SQLite, no I/O. The store hands in what upstream's ``compute_permission`` reads
from its database (the parent chain, the active grants on it, the owner-view RBAC answer,
the tree-participant answer) and gets a :class:`Permission` back. Facts:
``upstream-services.md`` 2.4.1.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from google.protobuf import struct_pb2

from buckyos.generated.task_manager_pb2 import (
    Task,
    TaskAclGrant,
    TaskAction,
    TaskDataScope,
    TaskGrantScope,
)
from buckyos.generated.task_manager_rpc import PermissionDeniedError, TaskNotFoundError
from buckyos.runtime import ReasonError

__all__ = [
    "MAX_CHAIN_HOPS",
    "ZONE_TRUSTED_ROLE",
    "Caller",
    "Chain",
    "Permission",
    "action_name",
    "app_proven",
    "check",
    "compute_permission",
    "memo_owner_view",
    "permission_chain",
    "task_collection_resource",
    "trim_task",
]

ZONE_TRUSTED_ROLE = "zone-trusted"
"""The system role a zone-trusted caller carries (for ``SystemRole`` grants); upstream
``SYSTEM_ROLE_ZONE_TRUSTED``."""

MAX_CHAIN_HOPS = 128
"""Parent hops :func:`permission_chain` walks before ``task parent chain too deep or cyclic``."""


@dataclass(frozen=True)
class Caller:
    """Who asks, from the verified token (never from the params).

    ``zone_trusted``: a token not issued by verify-hub, or one whose ``principal_kind`` is
    ``device``/``service`` (2.4.5); it grants no implicit rights, only the role
    ``"zone-trusted"`` for ``SystemRole`` grants. ``sudo`` only feeds the owner view's RBAC
    question (the servicer asks it; see ``owner_view`` of :func:`compute_permission`).
    ``extra_roles`` are further roles for ``SystemRole`` grants (upstream has none).
    """

    user_id: str
    app_id: str
    zone_trusted: bool = False
    sudo: bool = False
    extra_roles: frozenset[str] = frozenset()

    @property
    def roles(self) -> frozenset[str]:
        """The caller's roles for ``SystemRole`` grants."""
        return self.extra_roles | {ZONE_TRUSTED_ROLE} if self.zone_trusted else self.extra_roles


@dataclass(frozen=True)
class Permission:
    """The caller's effective rights on one task: the union of the matching allow-rows'
    actions and the max of their data scopes (``None`` when no row matched)."""

    actions: frozenset[TaskAction] = frozenset()
    data_scope: TaskDataScope | None = None

    def allows(self, action: TaskAction) -> bool:
        """Whether ``action`` is among the granted actions."""
        return action in self.actions

    @property
    def visible(self) -> bool:
        """ReadMeta: the task exists for this caller."""
        return TaskAction.TASK_ACTION_READ_META in self.actions


@dataclass(frozen=True)
class Chain:
    """The target's parent chain as the ACL reads it.

    ``task_ids``: the target first, then its ancestors, up to the root or the first node
    with ``permission_boundary`` (that node included): the anchors whose grants count.
    ``root``: the root task when the walk reached it (no boundary cut, no missing
    parent), else ``None`` (RootCreator and the tree-participant row are then off).
    """

    task_ids: tuple[str, ...]
    root: Task | None

    @property
    def root_reachable(self) -> bool:
        """The walk reached the root without a boundary cut."""
        return self.root is not None


def task_collection_resource(owner_user_id: str) -> str:
    """The RBAC resource of a user's tasks, ``obj://task/<user>`` (the owner view asks
    ``read`` on it)."""
    return f"obj://task/{owner_user_id}"


def memo_owner_view(check: Callable[[str], bool]) -> Callable[[str], bool]:
    """``check`` (creator user id -> RBAC allows reading ``obj://task/<user>``) memoized
    per user, as upstream memoizes it per request: build one per request."""
    memo: dict[str, bool] = {}

    def owner_view(owner_user_id: str) -> bool:
        if owner_user_id not in memo:
            memo[owner_user_id] = check(owner_user_id)
        return memo[owner_user_id]

    return owner_view


def permission_chain(task: Task, parent_of: Callable[[str], Task | None]) -> Chain:
    """Walk from ``task`` up its parents (``parent_of(id)``: the task or ``None`` when
    missing), stopping at the root or at the first node with ``permission_boundary``.

    More than :data:`MAX_CHAIN_HOPS` hops raises ``ReasonError("task parent chain too deep
    or cyclic")`` (upstream's text, no code). Upstream loads the whole chain before it
    cuts it at the boundary, so a task more than 128 hops deep fails there even under a
    boundary; this walk stops at the boundary and asks for no parent above it.
    """
    ids = [task.task_id]
    node = task
    hops = 0
    while True:
        if not node.parent_id:
            return Chain(tuple(ids), node)
        if node.permission_boundary:
            return Chain(tuple(ids), None)
        if hops >= MAX_CHAIN_HOPS:
            raise ReasonError("task parent chain too deep or cyclic")
        parent = parent_of(node.parent_id)
        if parent is None:
            return Chain(tuple(ids), None)
        hops += 1
        ids.append(parent.task_id)
        node = parent


def compute_permission(
    target: Task,
    chain: Chain,
    grants: Sequence[TaskAclGrant],
    caller: Caller,
    *,
    owner_view: Callable[[str], bool],
    tree_participant: Callable[[], bool],
) -> Permission:
    """The caller's :class:`Permission` on ``target`` (upstream ``compute_permission``).

    ``target.assignees`` must hold the active assignees. ``chain`` is
    ``permission_chain(target, ...)``; ``grants`` the grants anchored on ``chain.task_ids``
    (revoked ones and others are ignored here anyway). ``owner_view(creator_user_id)``
    answers the zone RBAC question ``(caller user, caller app, obj://task/<user>, read)``
    (sudo-aware; wrap it in :func:`memo_owner_view`); ``tree_participant()`` whether the
    caller created (user+app), runs (app) or is an active assignee of any task with
    ``target.root_id``; each is called only when upstream would ask.  The app-only
    relations (the runner, a grant to an app) hold only where :func:`app_proven`.
    """
    rows = _Rows()
    is_creator = _same_principal(target, caller)
    app_proven_here = app_proven(caller, target)
    is_runner = (
        app_proven_here
        and target.executor.WhichOneof("executor") == "app"
        and target.executor.app.app_id == caller.app_id
    )
    is_assignee = caller.user_id in target.assignees
    root = chain.root
    is_root_creator = root is not None and _same_principal(root, caller)

    # collaborative-tree/v1, whatever policy_preset says (upstream expands it always).
    if is_root_creator:
        rows.add(_ROOT_CREATOR_ACTIONS, TaskDataScope.TASK_DATA_SCOPE_FULL)
    if is_creator:
        rows.add(_READ_ALL, TaskDataScope.TASK_DATA_SCOPE_FULL)
    if is_runner:
        rows.add(_RUNNER_ACTIONS, TaskDataScope.TASK_DATA_SCOPE_FULL)
    if is_assignee:
        rows.add(_ASSIGNEE_ACTIONS, TaskDataScope.TASK_DATA_SCOPE_FULL)
    if owner_view(target.creator.user_id):
        rows.add(_READ_ALL, TaskDataScope.TASK_DATA_SCOPE_FULL)
    if chain.root_reachable and _READ_META not in rows.actions and tree_participant():
        rows.add((_READ_META,), TaskDataScope.TASK_DATA_SCOPE_META_ONLY)

    anchors = set(chain.task_ids)
    roles = caller.roles
    for grant in grants:
        if grant.HasField("revoked_at") or grant.task_id not in anchors:
            continue
        if grant.task_id != target.task_id and grant.scope not in _INHERITED_SCOPES:
            continue
        subject = grant.subject
        kind = subject.WhichOneof("subject")
        if kind == "root_creator":
            matches = is_root_creator
        elif kind == "creator":
            matches = is_creator
        elif kind == "runner":
            matches = is_runner
        elif kind == "assignees":
            matches = is_assignee
        elif kind == "user":
            matches = subject.user.user_id == caller.user_id
        elif kind == "app":
            matches = app_proven_here and subject.app.app_id == caller.app_id
        elif kind == "principal":
            matches = (
                subject.principal.user_id == caller.user_id
                and subject.principal.app_id == caller.app_id
            )
        elif kind == "system_role":
            matches = subject.system_role.role in roles
        else:
            matches = False
        if matches:
            rows.add(grant.actions, grant.data_scope)
    return Permission(frozenset(rows.actions), rows.data_scope)


def app_proven(caller: Caller, task: Task) -> bool:
    """Whether ``caller``'s app id may stand for that app on ``task`` (stricter than
    upstream, which trusts it everywhere).

    In a zone-trusted token the zone signed the app id (an app's own service session).  In
    a user's own session it is what the user named at login: it proves nothing about the
    app, so it stands for it only on the tasks that user created (an app client running
    its user's ``SelfApp`` task), never on another user's (running it, or a grant to the
    app).
    """
    return caller.zone_trusted or caller.user_id == task.creator.user_id


def action_name(action: TaskAction) -> str:
    """The action as upstream spells it (``ReadMeta``, ``CreateChild``, ...)."""
    try:
        return _ACTION_NAMES[action]
    except KeyError:
        return str(int(action))


def check(permission: Permission, action: TaskAction, task_id: str) -> None:
    """Raise unless ``permission`` allows ``action``: no ReadMeta ->
    ``TaskNotFoundError(task_id)`` (``task_not_found: <id>``), else a missing action ->
    ``PermissionDeniedError`` (``permission_denied: missing <Action> on task <id>``)."""
    if not permission.visible:
        raise TaskNotFoundError(task_id)
    if not permission.allows(action):
        raise PermissionDeniedError(f"missing {action_name(action)} on task {task_id}")


def trim_task(task: Task, permission: Permission) -> Task:
    """A copy of ``task`` trimmed to ``permission`` (upstream ``trim_task``; only get_task
    trims): ``input`` null unless Payload/Full scope and ReadInput; ``result`` dropped and
    ``error`` reduced to its code unless Payload/Full and ReadResult; below Full,
    ``idempotency_key`` "" and ``origin_ref`` dropped; MetaOnly drops ``progress``;
    ``data_scope`` set (MetaOnly when no row matched)."""
    trimmed = Task()
    trimmed.CopyFrom(task)
    scope = (
        TaskDataScope.TASK_DATA_SCOPE_META_ONLY
        if permission.data_scope is None
        else permission.data_scope
    )
    payload = scope != TaskDataScope.TASK_DATA_SCOPE_META_ONLY
    if not (payload and permission.allows(TaskAction.TASK_ACTION_READ_INPUT)):
        trimmed.input.Clear()
        trimmed.input.null_value = struct_pb2.NULL_VALUE
    if not (payload and permission.allows(TaskAction.TASK_ACTION_READ_RESULT)):
        trimmed.ClearField("result")
        if trimmed.HasField("error"):
            trimmed.error.message = ""
            trimmed.error.ClearField("detail")
    if scope != TaskDataScope.TASK_DATA_SCOPE_FULL:
        trimmed.idempotency_key = ""
        trimmed.ClearField("origin_ref")
    if scope == TaskDataScope.TASK_DATA_SCOPE_META_ONLY:
        trimmed.ClearField("progress")
    trimmed.data_scope = scope
    return trimmed


_READ_META = TaskAction.TASK_ACTION_READ_META
_READ_ALL = (
    TaskAction.TASK_ACTION_READ_META,
    TaskAction.TASK_ACTION_READ_INPUT,
    TaskAction.TASK_ACTION_READ_RESULT,
)
_ROOT_CREATOR_ACTIONS = (
    *_READ_ALL,
    TaskAction.TASK_ACTION_CONTROL,
    TaskAction.TASK_ACTION_CREATE_CHILD,
    TaskAction.TASK_ACTION_REASSIGN,
    TaskAction.TASK_ACTION_GRANT,
    TaskAction.TASK_ACTION_ARCHIVE,
)
_RUNNER_ACTIONS = (
    TaskAction.TASK_ACTION_READ_META,
    TaskAction.TASK_ACTION_READ_INPUT,
    TaskAction.TASK_ACTION_REPORT_PROGRESS,
    TaskAction.TASK_ACTION_COMMIT,
    TaskAction.TASK_ACTION_CREATE_CHILD,
)
_ASSIGNEE_ACTIONS = (
    TaskAction.TASK_ACTION_READ_META,
    TaskAction.TASK_ACTION_READ_INPUT,
    TaskAction.TASK_ACTION_COMMIT,
    TaskAction.TASK_ACTION_REASSIGN,
)
_INHERITED_SCOPES = (
    TaskGrantScope.TASK_GRANT_SCOPE_SUBTREE,
    TaskGrantScope.TASK_GRANT_SCOPE_WHOLE_TREE,
)
_ACTION_NAMES: dict[int, str] = {
    TaskAction.TASK_ACTION_READ_META: "ReadMeta",
    TaskAction.TASK_ACTION_READ_INPUT: "ReadInput",
    TaskAction.TASK_ACTION_READ_RESULT: "ReadResult",
    TaskAction.TASK_ACTION_REPORT_PROGRESS: "ReportProgress",
    TaskAction.TASK_ACTION_CONTROL: "Control",
    TaskAction.TASK_ACTION_COMMIT: "Commit",
    TaskAction.TASK_ACTION_CREATE_CHILD: "CreateChild",
    TaskAction.TASK_ACTION_REASSIGN: "Reassign",
    TaskAction.TASK_ACTION_GRANT: "Grant",
    TaskAction.TASK_ACTION_ARCHIVE: "Archive",
}


def _same_principal(task: Task, caller: Caller) -> bool:
    return task.creator.user_id == caller.user_id and task.creator.app_id == caller.app_id


class _Rows:
    """The union of matched allow-rows: actions, and the max data scope."""

    def __init__(self) -> None:
        self.actions: set[TaskAction] = set()
        self.data_scope: TaskDataScope | None = None

    def add(self, actions: Iterable[TaskAction], scope: TaskDataScope) -> None:
        self.actions.update(actions)
        # An unset scope (0) reads as the least one, never as "more than MetaOnly".
        scope = max(scope, TaskDataScope.TASK_DATA_SCOPE_META_ONLY)
        self.data_scope = scope if self.data_scope is None else max(self.data_scope, scope)
