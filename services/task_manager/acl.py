"""The task ACL (upstream ``task_manager/src/acl.rs``): who may do what on a task, and how
a snapshot is trimmed for a reader.

Pure: no SQLite, no I/O. The store hands in what upstream's ``compute_permission`` reads
from its database (the parent chain, the active grants on it, the owner-view RBAC answer,
the tree-participant answer) and gets a :class:`Permission` back. Facts:
``upstream-services.md`` 2.4.1.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from buckyos.generated.task_manager_pb2 import Task, TaskAclGrant, TaskAction, TaskDataScope

__all__ = [
    "MAX_CHAIN_HOPS",
    "ZONE_TRUSTED_ROLE",
    "Caller",
    "Chain",
    "Permission",
    "action_name",
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
        raise NotImplementedError


@dataclass(frozen=True)
class Permission:
    """The caller's effective rights on one task: the union of the matching allow-rows'
    actions and the max of their data scopes (``None`` when no row matched)."""

    actions: frozenset[TaskAction] = frozenset()
    data_scope: TaskDataScope | None = None

    def allows(self, action: TaskAction) -> bool:
        """Whether ``action`` is among the granted actions."""
        raise NotImplementedError

    @property
    def visible(self) -> bool:
        """ReadMeta: the task exists for this caller."""
        raise NotImplementedError


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
    raise NotImplementedError


def memo_owner_view(check: Callable[[str], bool]) -> Callable[[str], bool]:
    """``check`` (creator user id -> RBAC allows reading ``obj://task/<user>``) memoized
    per user, as upstream memoizes it per request: build one per request."""
    raise NotImplementedError


def permission_chain(task: Task, parent_of: Callable[[str], Task | None]) -> Chain:
    """Walk from ``task`` up its parents (``parent_of(id)``: the task or ``None`` when
    missing), stopping at the root or at the first node with ``permission_boundary``.

    More than :data:`MAX_CHAIN_HOPS` hops raises ``ReasonError("task parent chain too deep
    or cyclic")`` (upstream's text, no code).
    """
    raise NotImplementedError


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
    ``target.root_id``; each is called only when upstream would ask.
    """
    raise NotImplementedError


def action_name(action: TaskAction) -> str:
    """The action as upstream spells it (``ReadMeta``, ``CreateChild``, ...)."""
    raise NotImplementedError


def check(permission: Permission, action: TaskAction, task_id: str) -> None:
    """Raise unless ``permission`` allows ``action``: no ReadMeta ->
    ``TaskNotFoundError(task_id)`` (``task_not_found: <id>``), else a missing action ->
    ``PermissionDeniedError`` (``permission_denied: missing <Action> on task <id>``)."""
    raise NotImplementedError


def trim_task(task: Task, permission: Permission) -> Task:
    """A copy of ``task`` trimmed to ``permission`` (upstream ``trim_task``; only get_task
    trims): ``input`` null unless Payload/Full scope and ReadInput; ``result`` dropped and
    ``error`` reduced to its code unless Payload/Full and ReadResult; below Full,
    ``idempotency_key`` "" and ``origin_ref`` dropped; MetaOnly drops ``progress``;
    ``data_scope`` set (MetaOnly when no row matched)."""
    raise NotImplementedError
