"""task-manager's SQLite store on its own: WAL and synchronous=FULL, one transaction per
mutation (a failing one leaves nothing), cursors, a file that is not a store."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from buckyos.generated import task_manager_pb2 as tm
from buckyos.generated.task_manager_rpc import RevisionConflictError, TaskNotFoundError
from buckyos.runtime.errors import ConfigError, ParseRequestError
from buckyos.services.task_manager.store import Change, TaskStore, Tx, to_value


def new_task(key: str = "k") -> tm.Task:
    task = tm.Task(name="t", schema_id="raw/v1", schema_version=1, idempotency_key=key)
    task.input.CopyFrom(to_value({}))
    task.creator.CopyFrom(tm.ActorRef(user_id="alice", app_id="photos"))
    task.executor.app.app_id = "photos"
    task.phase = tm.TASK_PHASE_ACCEPTED
    return task


def test_durability_settings(tmp_path: Path) -> None:
    with TaskStore(tmp_path / "t.db") as store:
        assert store.pragma("journal_mode") == "wal"
        assert store.pragma("synchronous") == 2  # FULL


def test_a_failing_mutation_leaves_nothing(tmp_path: Path) -> None:
    with TaskStore(tmp_path / "t.db") as store:
        task = store.create_task(new_task()).task

        def half(current: tm.Task, tx: Tx) -> Change:
            grant = tm.TaskAclGrant(grant_id="g-1", task_id=current.task_id, created_at=1)
            tx.add_grant(grant)
            current.message = "changed"
            raise RuntimeError("boom after the grant row")

        with pytest.raises(RuntimeError):
            store.mutate(task.task_id, 1, half, actor=None)
        assert store.all_grants(task.task_id) == []
        again = store.require_task(task.task_id)
        assert again.revision == 1 and not again.HasField("message")
        assert len(store.list_events(task.task_id, None, None, 100)) == 1

        with pytest.raises(RevisionConflictError) as err:
            store.mutate(task.task_id, 5, half, actor=None)
        assert err.value.message == "expected revision 5, found 1"
        with pytest.raises(TaskNotFoundError):
            store.mutate("t-none", None, half, actor=None)

        ok = store.mutate(
            task.task_id,
            1,
            lambda current, tx: Change(tm.TASK_EVENT_TYPE_PROGRESS_REPORTED, {"message": None}),
            actor=tm.ActorRef(user_id="alice", app_id="photos"),
        )
        assert ok.task.revision == 2 and ok.event.task_revision == 2


def test_cursors(tmp_path: Path) -> None:
    with TaskStore(tmp_path / "t.db") as store:
        for n in range(5):
            store.create_task(new_task(f"k{n}"))
        page, cursor = store.list_tasks(tm.ListTasksRequest(limit=2))
        assert len(page) == 2 and cursor == f"{page[-1].created_at}:{page[-1].task_id}"
        seen = [t.task_id for t in page]
        while cursor is not None:
            page, cursor = store.list_tasks(tm.ListTasksRequest(limit=2, cursor=cursor))
            seen += [t.task_id for t in page]
        assert len(seen) == len(set(seen)) == 5
        for bad in ("nocolon", "x:t-1"):
            with pytest.raises(ParseRequestError) as err:
                store.list_tasks(tm.ListTasksRequest(cursor=bad))
            assert err.value.detail == f"invalid cursor: {bad}"


def test_a_file_that_is_not_a_store(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
        conn.execute("INSERT INTO meta VALUES ('schema', '99')")
    with pytest.raises(ConfigError) as err:
        TaskStore(path)
    assert "point --db at a new file" in str(err.value)


def test_a_tree_participant_runs_a_task_only_where_its_app_is_proven(tmp_path: Path) -> None:
    # alice/camera created the root, run by app "photos": a zone-trusted photos service
    # and alice's own photos session run it; bob naming "photos" in his own session does
    # not (a user's session proves no app).
    with TaskStore(tmp_path / "t.db") as store:
        task = new_task()
        task.creator.app_id = "camera"
        root = store.create_task(task).task
        assert store.is_tree_participant(root.root_id, "svc", "photos", zone_trusted=True)
        assert store.is_tree_participant(root.root_id, "alice", "photos")
        assert not store.is_tree_participant(root.root_id, "bob", "photos")
        assert not store.is_tree_participant(root.root_id, "bob", "other", zone_trusted=True)
