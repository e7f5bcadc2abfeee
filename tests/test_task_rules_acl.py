"""The task ACL of services/task_manager/acl.py against upstream's table
(upstream-services.md 2.4.1, acl.rs): the implicit rows of collaborative-tree/v1, the
owner view, the tree-participant row, the permission boundary, explicit grants and
their scopes and subjects, the coded refusals, and get_task's trimming. Pure unit tests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import pytest
from google.protobuf import struct_pb2

from buckyos.generated import task_manager_pb2 as tm, task_manager_rpc as rpc
from buckyos.runtime.errors import NoPermissionError, ReasonError
from buckyos.runtime.wire.jsonmap import encode_result
from buckyos.services.task_manager.acl import (
    MAX_CHAIN_HOPS,
    ZONE_TRUSTED_ROLE,
    Caller,
    Chain,
    Permission,
    action_name,
    check,
    compute_permission,
    memo_owner_view,
    permission_chain,
    task_collection_resource,
    trim_task,
)

A = tm.TaskAction
READ_META = A.TASK_ACTION_READ_META
READ_INPUT = A.TASK_ACTION_READ_INPUT
READ_RESULT = A.TASK_ACTION_READ_RESULT
REPORT_PROGRESS = A.TASK_ACTION_REPORT_PROGRESS
CONTROL = A.TASK_ACTION_CONTROL
COMMIT = A.TASK_ACTION_COMMIT
CREATE_CHILD = A.TASK_ACTION_CREATE_CHILD
REASSIGN = A.TASK_ACTION_REASSIGN
GRANT = A.TASK_ACTION_GRANT
ARCHIVE = A.TASK_ACTION_ARCHIVE
META_ONLY = tm.TaskDataScope.TASK_DATA_SCOPE_META_ONLY
PAYLOAD = tm.TaskDataScope.TASK_DATA_SCOPE_PAYLOAD
FULL = tm.TaskDataScope.TASK_DATA_SCOPE_FULL
SELF_ONLY = tm.TaskGrantScope.TASK_GRANT_SCOPE_SELF_ONLY
SUBTREE = tm.TaskGrantScope.TASK_GRANT_SCOPE_SUBTREE
WHOLE_TREE = tm.TaskGrantScope.TASK_GRANT_SCOPE_WHOLE_TREE

ROOT_CREATOR = {READ_META, READ_INPUT, READ_RESULT, CONTROL, CREATE_CHILD, REASSIGN, GRANT, ARCHIVE}
CREATOR = {READ_META, READ_INPUT, READ_RESULT}
RUNNER = {READ_META, READ_INPUT, REPORT_PROGRESS, COMMIT, CREATE_CHILD}
ASSIGNEE = {READ_META, READ_INPUT, COMMIT, REASSIGN}

ALICE = Caller("alice", "photos")


def make_task(
    task_id: str,
    *,
    parent: str | None = None,
    root: str | None = None,
    creator: tuple[str, str] = ("alice", "photos"),
    runner_app: str | None = None,
    assignees: Iterable[str] = (),
    boundary: bool = False,
) -> tm.Task:
    task = tm.Task(
        task_id=task_id,
        root_id=root or task_id,
        creator=tm.ActorRef(user_id=creator[0], app_id=creator[1]),
        assignees=list(assignees),
        permission_boundary=boundary,
    )
    if parent is not None:
        task.parent_id = parent
    if runner_app is not None:
        task.executor.app.app_id = runner_app
    elif task.assignees:
        task.executor.human_set.SetInParent()
    else:
        task.executor.unbound.SetInParent()
    return task


class Tree:
    """An in-memory store: tasks by id, grants, and the answers the servicer would give."""

    def __init__(self, *tasks: tm.Task) -> None:
        self.tasks = {t.task_id: t for t in tasks}
        self.grants: list[tm.TaskAclGrant] = []
        self.owner_view_calls: list[str] = []
        self.participant_calls = 0

    def parent_of(self, task_id: str) -> tm.Task | None:
        return self.tasks.get(task_id)

    def grant(
        self,
        anchor: str,
        actions: Iterable[Any],
        *,
        scope: Any = SELF_ONLY,
        data_scope: Any = FULL,
        revoked: bool = False,
        **subject: Any,
    ) -> tm.TaskAclGrant:
        (kind, value), *_ = subject.items()
        grant = tm.TaskAclGrant(
            grant_id=f"g-{len(self.grants)}",
            task_id=anchor,
            actions=list(actions),
            scope=scope,
            data_scope=data_scope,
        )
        if kind == "user":
            grant.subject.user.user_id = value
        elif kind == "app":
            grant.subject.app.app_id = value
        elif kind == "principal":
            grant.subject.principal.user_id, grant.subject.principal.app_id = value
        elif kind == "system_role":
            grant.subject.system_role.role = value
        else:  # root_creator, creator, runner, assignees
            getattr(grant.subject, kind).SetInParent()
        if revoked:
            grant.revoked_at = 5
        self.grants.append(grant)
        return grant

    def permission(
        self,
        task_id: str,
        caller: Caller,
        *,
        owner_view: Callable[[str], bool] | None = None,
        participant: bool = False,
        grants: Sequence[tm.TaskAclGrant] | None = None,
    ) -> Permission:
        target = self.tasks[task_id]
        chain = permission_chain(target, self.parent_of)

        def view(user_id: str) -> bool:
            self.owner_view_calls.append(user_id)
            return owner_view(user_id) if owner_view is not None else False

        def tree_participant() -> bool:
            self.participant_calls += 1
            return participant

        anchored = [g for g in self.grants if g.task_id in chain.task_ids]
        return compute_permission(
            target,
            chain,
            anchored if grants is None else grants,
            caller,
            owner_view=view,
            tree_participant=tree_participant,
        )


def family() -> Tree:
    """root (alice/photos) -> child (bob/editor, run by app "worker") -> grandchild
    (carol/notes, HumanSet dave); a sibling of child."""
    return Tree(
        make_task("t-root"),
        make_task(
            "t-child",
            parent="t-root",
            root="t-root",
            creator=("bob", "editor"),
            runner_app="worker",
        ),
        make_task(
            "t-grand",
            parent="t-child",
            root="t-root",
            creator=("carol", "notes"),
            assignees=["dave"],
        ),
        make_task("t-sib", parent="t-root", root="t-root", creator=("bob", "editor")),
    )


# --- the implicit rows of collaborative-tree/v1 ----------------------------------------


def test_root_creator_has_every_tree_right_on_root_and_descendants() -> None:
    tree = family()
    for task_id in ("t-root", "t-child", "t-grand"):
        permission = tree.permission(task_id, ALICE)
        assert permission.actions == ROOT_CREATOR, task_id
        assert permission.data_scope == FULL


def test_root_creator_needs_user_and_app() -> None:
    tree = family()
    for caller in (Caller("alice", "other-app"), Caller("mallory", "photos")):
        assert not tree.permission("t-child", caller).visible
        assert tree.permission("t-child", caller).data_scope is None


def test_creator_of_a_child_may_only_read_it() -> None:
    tree = family()
    permission = tree.permission("t-child", Caller("bob", "editor"))
    assert permission.actions == CREATOR and permission.data_scope == FULL
    for action in (CONTROL, ARCHIVE, GRANT, CREATE_CHILD, REASSIGN):
        with pytest.raises(rpc.PermissionDeniedError) as caught:
            check(permission, action, "t-child")
        assert caught.value.text == (
            f"No permission:permission_denied: missing {action_name(action)} on task t-child"
        )


def test_creator_needs_user_and_app() -> None:
    tree = family()
    assert not tree.permission("t-child", Caller("bob", "photos")).visible


def test_runner_app_needs_a_proven_app_id() -> None:
    """Upstream makes any token that names the runner app its runner.  Here the app id
    must be proven: a zone-trusted token (the app's service) runs any user's task; a
    user's own session, whose app id the user named at login, only its user's tasks."""
    tree = family()
    for caller in (Caller("svc", "worker", zone_trusted=True), Caller("bob", "worker")):
        permission = tree.permission("t-child", caller)  # bob created t-child
        assert permission.actions == RUNNER and permission.data_scope == FULL, caller
    # Another user naming the app gets nothing: not even that the task exists.
    assert not tree.permission("t-child", Caller("someone", "worker")).visible
    # Only an App executor has a runner: the HumanSet grandchild has none.
    assert not tree.permission("t-grand", Caller("x", "worker", zone_trusted=True)).visible


def test_assignee_with_any_app() -> None:
    tree = family()
    for app in ("notes", "control-panel"):
        permission = tree.permission("t-grand", Caller("dave", app))
        assert permission.actions == ASSIGNEE and permission.data_scope == FULL
    assert not tree.permission("t-child", Caller("dave", "notes")).visible


def test_rows_union() -> None:
    # The child's creator also runs it (its own SelfApp task): CREATOR | RUNNER.
    tree = family()
    tree.tasks["t-child"].executor.app.app_id = "editor"
    assert tree.permission("t-child", Caller("bob", "editor")).actions == CREATOR | RUNNER
    # The root creator naming the child's runner app is not its runner: another user
    # (bob) created the child, and a user's session proves no app.
    tree.tasks["t-child"].executor.app.app_id = "photos"
    assert tree.permission("t-child", ALICE).actions == ROOT_CREATOR


def test_zone_trusted_caller_gets_no_implicit_rights() -> None:
    tree = family()
    caller = Caller("root", "task-manager", zone_trusted=True, sudo=True)
    assert caller.roles == {ZONE_TRUSTED_ROLE}
    assert Caller("root", "x").roles == frozenset()
    assert not tree.permission("t-root", caller).visible


def test_policy_preset_is_ignored() -> None:
    tree = family()
    tree.tasks["t-root"].policy_preset = "locked-down/v9"
    assert tree.permission("t-root", ALICE).actions == ROOT_CREATOR


# --- owner view ------------------------------------------------------------------------


def test_owner_view_reads_the_creators_tasks_with_full_scope() -> None:
    tree = family()
    panel = Caller("bob", "control-panel")
    permission = tree.permission("t-child", panel, owner_view=lambda user: user == "bob")
    assert permission.actions == CREATOR and permission.data_scope == FULL
    assert tree.owner_view_calls == ["bob"]  # asked about the creator's user
    # Not bob's task: no view.
    assert not tree.permission("t-grand", panel, owner_view=lambda user: user == "bob").visible
    assert tree.owner_view_calls[-1] == "carol"


def test_owner_view_is_not_cut_by_a_boundary() -> None:
    tree = family()
    tree.tasks["t-child"].permission_boundary = True
    permission = tree.permission("t-grand", Caller("x", "y"), owner_view=lambda user: True)
    assert permission.actions == CREATOR


def test_memo_owner_view_asks_once_per_user() -> None:
    asked: list[str] = []

    def rbac(user: str) -> bool:
        asked.append(user)
        return user == "alice"

    view = memo_owner_view(rbac)
    assert [view("alice"), view("bob"), view("alice"), view("bob")] == [True, False, True, False]
    assert asked == ["alice", "bob"]
    assert task_collection_resource("alice") == "obj://task/alice"


# --- tree participant --------------------------------------------------------------------


def test_tree_participant_reads_meta_only() -> None:
    tree = family()
    permission = tree.permission("t-sib", Caller("dave", "x"), participant=True)
    assert permission.actions == {READ_META} and permission.data_scope == META_ONLY
    assert tree.participant_calls == 1


def test_tree_participant_not_asked_when_already_visible() -> None:
    tree = family()
    tree.permission("t-child", Caller("bob", "editor"), participant=True)
    tree.permission("t-child", Caller("bob", "cp"), owner_view=lambda u: True, participant=True)
    assert tree.participant_calls == 0


def test_tree_participant_off_below_a_boundary() -> None:
    tree = family()
    tree.tasks["t-child"].permission_boundary = True
    assert not tree.permission("t-grand", Caller("z", "z"), participant=True).visible
    assert not tree.permission("t-child", Caller("z", "z"), participant=True).visible
    assert tree.participant_calls == 0
    # The sibling's chain is not cut.
    assert tree.permission("t-sib", Caller("z", "z"), participant=True).visible


def test_tree_participant_and_grant_scope_is_the_max() -> None:
    tree = family()
    tree.grant("t-sib", [READ_RESULT], data_scope=PAYLOAD, user="z")
    permission = tree.permission("t-sib", Caller("z", "z"), participant=True)
    assert permission.actions == {READ_META, READ_RESULT} and permission.data_scope == PAYLOAD


# --- the permission boundary ----------------------------------------------------------


def test_boundary_cuts_root_creator_at_the_node_and_below() -> None:
    tree = family()
    tree.tasks["t-child"].permission_boundary = True
    assert not tree.permission("t-child", ALICE).visible
    assert not tree.permission("t-grand", ALICE).visible
    assert tree.permission("t-sib", ALICE).actions == ROOT_CREATOR
    assert tree.permission("t-root", ALICE).actions == ROOT_CREATOR


def test_boundary_keeps_the_nodes_own_relations() -> None:
    tree = family()
    tree.tasks["t-child"].permission_boundary = True
    assert tree.permission("t-child", Caller("bob", "editor")).actions == CREATOR
    worker = Caller("q", "worker", zone_trusted=True)
    assert tree.permission("t-child", worker).actions == RUNNER
    tree.tasks["t-grand"].permission_boundary = True
    assert tree.permission("t-grand", Caller("dave", "q")).actions == ASSIGNEE


def test_boundary_on_a_root_changes_nothing() -> None:
    tree = family()
    tree.tasks["t-root"].permission_boundary = True
    assert tree.permission("t-grand", ALICE).actions == ROOT_CREATOR
    chain = permission_chain(tree.tasks["t-root"], tree.parent_of)
    assert chain.root_reachable and chain.task_ids == ("t-root",)


def test_boundary_ignores_grants_above_and_keeps_its_own() -> None:
    tree = family()
    tree.tasks["t-child"].permission_boundary = True
    tree.grant("t-root", [READ_META, CONTROL], scope=SUBTREE, user="erin")
    tree.grant("t-child", [READ_META, ARCHIVE], scope=SUBTREE, user="erin")
    assert tree.permission("t-grand", Caller("erin", "a")).actions == {READ_META, ARCHIVE}
    assert tree.permission("t-child", Caller("erin", "a")).actions == {READ_META, ARCHIVE}
    assert tree.permission("t-sib", Caller("erin", "a")).actions == {READ_META, CONTROL}
    chain = permission_chain(tree.tasks["t-grand"], tree.parent_of)
    assert chain == Chain(("t-grand", "t-child"), None) and not chain.root_reachable


def test_boundary_on_the_target_itself() -> None:
    tree = family()
    tree.tasks["t-grand"].permission_boundary = True
    tree.grant("t-child", [READ_META], scope=SUBTREE, user="erin")
    assert not tree.permission("t-grand", Caller("erin", "a")).visible
    assert not tree.permission("t-grand", ALICE).visible
    assert permission_chain(tree.tasks["t-grand"], tree.parent_of).task_ids == ("t-grand",)


# --- the parent chain -------------------------------------------------------------------


def line(depth: int) -> Tree:
    """t-0 (root) <- t-1 <- ... <- t-<depth>."""
    tasks = [make_task("t-0")]
    tasks += [make_task(f"t-{i}", parent=f"t-{i - 1}", root="t-0") for i in range(1, depth + 1)]
    return Tree(*tasks)


def test_chain_of_128_hops_reaches_the_root() -> None:
    tree = line(MAX_CHAIN_HOPS)
    chain = permission_chain(tree.tasks[f"t-{MAX_CHAIN_HOPS}"], tree.parent_of)
    assert chain.root_reachable and chain.root is tree.tasks["t-0"]
    assert len(chain.task_ids) == MAX_CHAIN_HOPS + 1
    assert chain.task_ids[0] == f"t-{MAX_CHAIN_HOPS}" and chain.task_ids[-1] == "t-0"
    assert tree.permission(f"t-{MAX_CHAIN_HOPS}", ALICE).actions == ROOT_CREATOR


def test_chain_of_129_hops_is_refused() -> None:
    tree = line(MAX_CHAIN_HOPS + 1)
    with pytest.raises(ReasonError) as caught:
        permission_chain(tree.tasks[f"t-{MAX_CHAIN_HOPS + 1}"], tree.parent_of)
    assert caught.value.text == "Failed due to reason: task parent chain too deep or cyclic"
    # A boundary on the way stops the walk before the limit.
    tree.tasks["t-5"].permission_boundary = True
    chain = permission_chain(tree.tasks[f"t-{MAX_CHAIN_HOPS + 1}"], tree.parent_of)
    assert chain.task_ids[-1] == "t-5" and not chain.root_reachable


def test_cyclic_chain_is_refused() -> None:
    tree = Tree(make_task("t-a", parent="t-b", root="t-a"), make_task("t-b", parent="t-a"))
    with pytest.raises(ReasonError, match="task parent chain too deep or cyclic"):
        permission_chain(tree.tasks["t-a"], tree.parent_of)


def test_missing_parent_ends_the_chain_without_a_root() -> None:
    tree = Tree(make_task("t-orphan", parent="t-gone", root="t-gone"))
    chain = permission_chain(tree.tasks["t-orphan"], tree.parent_of)
    assert chain == Chain(("t-orphan",), None)
    assert tree.permission("t-orphan", ALICE).actions == CREATOR  # creator, not root creator


# --- explicit grants ---------------------------------------------------------------------


def test_self_only_counts_only_on_its_anchor() -> None:
    tree = family()
    tree.grant("t-child", [READ_META, CONTROL], scope=SELF_ONLY, user="erin")
    erin = Caller("erin", "any")
    assert tree.permission("t-child", erin).actions == {READ_META, CONTROL}
    assert not tree.permission("t-grand", erin).visible


@pytest.mark.parametrize("scope", [SUBTREE, WHOLE_TREE])
def test_subtree_and_whole_tree_cover_the_anchor_and_descendants_only(scope: Any) -> None:
    tree = family()
    tree.grant("t-child", [READ_META, CONTROL], scope=scope, data_scope=PAYLOAD, user="erin")
    erin = Caller("erin", "any")
    for task_id in ("t-child", "t-grand"):
        permission = tree.permission(task_id, erin)
        assert permission.actions == {READ_META, CONTROL} and permission.data_scope == PAYLOAD
    # WholeTree behaves as Subtree: never the anchor's siblings or ancestors.
    assert not tree.permission("t-sib", erin).visible
    assert not tree.permission("t-root", erin).visible


def test_revoked_grants_and_grants_off_the_chain_are_ignored() -> None:
    tree = family()
    tree.grant("t-child", [READ_META], scope=SUBTREE, revoked=True, user="erin")
    tree.grant("t-sib", [READ_META], scope=SUBTREE, user="erin")
    erin = Caller("erin", "any")
    # Hand every grant in, as a careless store might: still not counted.
    assert not tree.permission("t-grand", erin, grants=tree.grants).visible


def test_grant_subjects() -> None:
    tree = family()
    tree.grant("t-grand", [READ_META], user="u1")
    tree.grant("t-grand", [CONTROL], app="a1")
    tree.grant("t-grand", [ARCHIVE], principal=("u2", "a2"))
    tree.grant("t-grand", [GRANT], system_role=ZONE_TRUSTED_ROLE)
    tree.grant("t-grand", [READ_META, REASSIGN], system_role="auditor")
    assert tree.permission("t-grand", Caller("u1", "zz")).actions == {READ_META}
    # An app subject: the app's zone-trusted service, or a session of the task's creator
    # user naming that app; never another user's session naming it (stricter than upstream).
    assert tree.permission("t-grand", Caller("carol", "a1")).actions == {CONTROL}
    assert tree.permission("t-grand", Caller("zz", "a1", zone_trusted=True)).actions == {
        CONTROL,
        GRANT,
    }
    assert not tree.permission("t-grand", Caller("zz", "a1")).actions
    assert tree.permission("t-grand", Caller("u2", "a2")).actions == {ARCHIVE}
    assert not tree.permission("t-grand", Caller("u2", "zz")).actions
    assert not tree.permission("t-grand", Caller("zz", "a2")).actions
    trusted = Caller("svc", "dispatcher", zone_trusted=True)
    assert tree.permission("t-grand", trusted).actions == {GRANT}
    assert not tree.permission("t-grand", Caller("svc", "dispatcher")).actions
    auditor = Caller("x", "y", extra_roles=frozenset({"auditor"}))
    assert tree.permission("t-grand", auditor).actions == {READ_META, REASSIGN}


def test_relation_subjects_are_evaluated_on_the_target() -> None:
    tree = family()
    # Anchored on the child, Subtree: "Creator" means the creator of the task asked about.
    tree.grant("t-child", [CONTROL], scope=SUBTREE, creator=True)
    tree.grant("t-child", [ARCHIVE], scope=SUBTREE, runner=True)
    tree.grant("t-child", [GRANT], scope=SUBTREE, assignees=True)
    tree.grant("t-child", [REPORT_PROGRESS], scope=SUBTREE, root_creator=True)
    assert tree.permission("t-child", Caller("bob", "editor")).actions == CREATOR | {CONTROL}
    assert tree.permission("t-grand", Caller("bob", "editor")).actions == set()
    assert tree.permission("t-grand", Caller("carol", "notes")).actions == CREATOR | {CONTROL}
    worker = Caller("q", "worker", zone_trusted=True)
    assert tree.permission("t-child", worker).actions == RUNNER | {ARCHIVE}
    assert tree.permission("t-grand", Caller("dave", "q")).actions == ASSIGNEE | {GRANT}
    assert tree.permission("t-grand", ALICE).actions == ROOT_CREATOR | {REPORT_PROGRESS}


def test_actions_union_and_scope_max_over_grants() -> None:
    tree = family()
    tree.grant("t-root", [READ_META], scope=SUBTREE, data_scope=META_ONLY, user="erin")
    tree.grant("t-child", [READ_INPUT], scope=SUBTREE, data_scope=PAYLOAD, principal=("erin", "x"))
    tree.grant("t-grand", [READ_RESULT], data_scope=META_ONLY, user="erin")
    permission = tree.permission("t-grand", Caller("erin", "x"))
    assert permission.actions == {READ_META, READ_INPUT, READ_RESULT}
    assert permission.data_scope == PAYLOAD
    # Order-independent.
    tree.grants.reverse()
    assert tree.permission("t-grand", Caller("erin", "x")) == permission


def test_a_grant_without_read_meta_leaves_the_task_invisible() -> None:
    tree = family()
    tree.grant("t-grand", [CONTROL], user="erin")
    permission = tree.permission("t-grand", Caller("erin", "x"))
    assert permission.actions == {CONTROL} and not permission.visible
    with pytest.raises(rpc.TaskNotFoundError):
        check(permission, CONTROL, "t-grand")


def test_an_unset_grant_scope_counts_as_meta_only() -> None:
    tree = family()
    tree.grant("t-grand", [READ_META, READ_INPUT], data_scope=0, user="erin")
    permission = tree.permission("t-grand", Caller("erin", "x"))
    assert permission.data_scope == META_ONLY
    assert trim_task(tree.tasks["t-grand"], permission).input.WhichOneof("kind") == "null_value"


# --- check --------------------------------------------------------------------------------


def test_check_without_read_meta_is_task_not_found() -> None:
    with pytest.raises(rpc.TaskNotFoundError) as caught:
        check(Permission(), READ_META, "t-1b2c")
    error = caught.value
    assert isinstance(error, ReasonError)
    assert error.code == "task_not_found" and error.message == "t-1b2c"
    assert error.text == "Failed due to reason: task_not_found: t-1b2c"


def test_check_missing_action_is_permission_denied() -> None:
    permission = Permission(frozenset({READ_META}), META_ONLY)
    check(permission, READ_META, "t-1")
    with pytest.raises(rpc.PermissionDeniedError) as caught:
        check(permission, CONTROL, "t-1")
    assert isinstance(caught.value, NoPermissionError)
    assert caught.value.text == "No permission:permission_denied: missing Control on task t-1"


def test_action_names_are_upstreams() -> None:
    names = [action_name(a) for a in sorted(ROOT_CREATOR | RUNNER | ASSIGNEE)]
    assert names == [
        "ReadMeta",
        "ReadInput",
        "ReadResult",
        "ReportProgress",
        "Control",
        "Commit",
        "CreateChild",
        "Reassign",
        "Grant",
        "Archive",
    ]


# --- trimming -------------------------------------------------------------------------------


def full_task() -> tm.Task:
    task = make_task("t-1", runner_app="photos")
    task.input.struct_value.update({"album": "x"})
    task.input_digest = "c5c2"
    task.idempotency_key = "import-1"
    task.origin_ref.kind, task.origin_ref.id = "dispatch", "dsp-1"
    task.progress.struct_value.update({"done": 3})
    task.message = "copying"
    task.result.struct_value.update({"count": 10})
    task.error.code, task.error.message = "x", "y"
    task.error.detail.struct_value.update({"why": 1})
    task.wait_reason.kind = tm.TaskWaitReasonKind.TASK_WAIT_REASON_KIND_EXTERNAL
    task.pending_control.request_id = "ctl-1"
    task.creator.app_instance_id = "photos@alice"
    task.assignees.append("bob")
    return task


def perm(scope: Any, *actions: Any) -> Permission:
    return Permission(frozenset(actions), scope)


def test_trim_full_scope_with_reads_keeps_everything() -> None:
    task = full_task()
    trimmed = trim_task(task, perm(FULL, READ_META, READ_INPUT, READ_RESULT))
    expected = tm.Task()
    expected.CopyFrom(task)
    expected.data_scope = FULL
    assert trimmed == expected


def test_trim_input_needs_payload_scope_and_read_input() -> None:
    task = full_task()
    for permission in (perm(META_ONLY, READ_INPUT), perm(PAYLOAD, READ_META), perm(None)):
        assert trim_task(task, permission).input.WhichOneof("kind") == "null_value"
    assert trim_task(task, perm(PAYLOAD, READ_INPUT)).input == task.input


def test_trim_result_and_error_need_payload_scope_and_read_result() -> None:
    task = full_task()
    for permission in (perm(META_ONLY, READ_RESULT), perm(FULL, READ_META, READ_INPUT)):
        trimmed = trim_task(task, permission)
        assert not trimmed.HasField("result")
        assert trimmed.error == tm.TaskError(code="x", message="")
    kept = trim_task(task, perm(PAYLOAD, READ_RESULT))
    assert kept.result == task.result and kept.error == task.error
    # No error: nothing to reduce.
    task.ClearField("error")
    assert not trim_task(task, perm(META_ONLY)).HasField("error")


def test_trim_idempotency_key_and_origin_ref_below_full() -> None:
    task = full_task()
    for scope in (META_ONLY, PAYLOAD):
        trimmed = trim_task(task, perm(scope, READ_META, READ_INPUT, READ_RESULT))
        assert trimmed.idempotency_key == "" and not trimmed.HasField("origin_ref")
    trimmed = trim_task(task, perm(FULL))
    assert trimmed.idempotency_key == "import-1" and trimmed.origin_ref.id == "dsp-1"


def test_trim_progress_only_at_meta_only() -> None:
    task = full_task()
    assert not trim_task(task, perm(META_ONLY, READ_META)).HasField("progress")
    assert not trim_task(task, perm(None)).HasField("progress")
    assert trim_task(task, perm(PAYLOAD)).progress == task.progress


def test_trim_sets_data_scope_and_keeps_the_rest() -> None:
    task = full_task()
    trimmed = trim_task(task, perm(None))
    assert trimmed.HasField("data_scope") and trimmed.data_scope == META_ONLY
    assert trim_task(task, perm(PAYLOAD)).data_scope == PAYLOAD
    for field in (
        "input_digest",
        "message",
        "wait_reason",
        "pending_control",
        "creator",
        "executor",
        "assignees",
    ):
        assert getattr(trimmed, field) == getattr(task, field), field
    # A copy: the stored task is untouched.
    assert task.input.struct_value["album"] == "x" and not task.HasField("data_scope")


def test_trimmed_task_on_the_wire() -> None:
    task = full_task()
    trimmed = trim_task(task, perm(META_ONLY, READ_META))
    wire = encode_result(rpc.TASK_MANAGER.by_krpc["get_task"], tm.TaskResult(task=trimmed))
    shown = wire["task"]
    assert shown["input"] is None
    assert "result" not in shown and "origin_ref" not in shown and "progress" not in shown
    assert shown["error"] == {"code": "x", "message": ""}
    assert shown["idempotency_key"] == "" and shown["data_scope"] == "MetaOnly"
    assert shown["input_digest"] == "c5c2" and shown["message"] == "copying"


def test_struct_null_is_what_trimming_writes() -> None:
    trimmed = trim_task(full_task(), perm(None))
    assert trimmed.input == struct_pb2.Value(null_value=struct_pb2.NULL_VALUE)
