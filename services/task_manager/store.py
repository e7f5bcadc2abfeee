"""task-manager's durable store: tasks, their events, notes, ACL grants and task schemas in
one SQLite file (WAL, ``synchronous=FULL``), upstream's ``task_store.rs`` semantics.

- Every mutation is one ``BEGIN IMMEDIATE`` transaction under one lock: load the row, run
  the verb's checks on it, compare ``expected_revision`` (``revision_conflict: expected
  revision E, found F``), apply, ``UPDATE ... WHERE revision = old`` (0 rows:
  ``revision_conflict: task <id> was modified concurrently``), bump ``revision`` and
  ``updated_at``, insert exactly one event row, commit.  A failure rolls the whole
  transaction back: nothing is half-written, and a write answered survives kill -9
  (the WAL is fsynced at each commit).
- Creates are idempotent per ``(creator_user_id, creator_app_id, idempotency_key)`` (a
  unique index) and per ``(origin_kind, origin_id)``: the lookup and the insert share
  one transaction, so two racing creates with one key make one task.
- Lists are ordered by ``(created_at, task_id)`` with the cursor
  ``"<created_at_ms>:<task_id>"`` of the last raw row; ``limit + 1`` rows are read and
  ``next_cursor`` is set iff there were more (2.4.6).  Events are ordered by ``event_id``
  (``e<13-digit ms>-<6-digit seq>-<4 hex>``).

A task is kept as its protobuf message (``body``) beside the columns the queries use.
Every method is thread-safe; handlers call it from worker threads.  A failing SQLite call
is a :class:`StoreError` (``task store error: ...``, upstream's prefix).
"""

from __future__ import annotations

import itertools
import json
import logging
import secrets
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, TypeVar

from google.protobuf import json_format, struct_pb2

from buckyos.generated import task_manager_pb2 as tm
from buckyos.generated.task_manager_rpc import (
    IdempotencyConflictError,
    RevisionConflictError,
    TaskNotFoundError,
    TaskSchemaNotFoundError,
)
from buckyos.runtime import ParseRequestError, ReasonError

from ..sqlite_file import open_sqlite, read_pragma, write

__all__ = [
    "Outcome",
    "StoreError",
    "TaskStore",
    "Tx",
    "enum_text",
    "executor_kind_of",
    "from_value",
    "to_value",
]

T = TypeVar("T")

_log = logging.getLogger("buckyos.services.task_manager.store")

_SCHEMA_VERSION: Final = "1"
_SCHEMA: Final = (
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS tasks (
        task_id TEXT PRIMARY KEY,
        parent_id TEXT,
        root_id TEXT NOT NULL,
        creator_user_id TEXT NOT NULL,
        creator_app_id TEXT NOT NULL,
        idempotency_key TEXT NOT NULL,
        origin_kind TEXT,
        origin_id TEXT,
        schema_id TEXT NOT NULL,
        phase TEXT NOT NULL,
        executor_kind TEXT NOT NULL,
        runner_app_id TEXT,
        runner_target_id TEXT,
        permission_boundary INTEGER NOT NULL,
        revision INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        archived_at INTEGER,
        body BLOB NOT NULL
    )""",
    """CREATE UNIQUE INDEX IF NOT EXISTS tasks_idempotency
        ON tasks (creator_user_id, creator_app_id, idempotency_key)""",
    "CREATE UNIQUE INDEX IF NOT EXISTS tasks_origin ON tasks (origin_kind, origin_id)",
    "CREATE INDEX IF NOT EXISTS tasks_order ON tasks (created_at, task_id)",
    "CREATE INDEX IF NOT EXISTS tasks_root ON tasks (root_id, created_at, task_id)",
    "CREATE INDEX IF NOT EXISTS tasks_parent ON tasks (parent_id, created_at, task_id)",
    """CREATE TABLE IF NOT EXISTS assignees (
        task_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        granted_by_user_id TEXT NOT NULL,
        granted_by_app_id TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        revoked_at INTEGER,
        PRIMARY KEY (task_id, user_id)
    )""",
    "CREATE INDEX IF NOT EXISTS assignees_user ON assignees (user_id)",
    """CREATE TABLE IF NOT EXISTS events (
        event_id TEXT PRIMARY KEY,
        task_id TEXT NOT NULL,
        root_id TEXT NOT NULL,
        body BLOB NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS events_task ON events (task_id, event_id)",
    "CREATE INDEX IF NOT EXISTS events_root ON events (root_id, event_id)",
    """CREATE TABLE IF NOT EXISTS grants (
        grant_id TEXT PRIMARY KEY,
        task_id TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        revoked_at INTEGER,
        body BLOB NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS grants_task ON grants (task_id, created_at)",
    """CREATE TABLE IF NOT EXISTS schemas (
        schema_id TEXT NOT NULL,
        schema_version INTEGER NOT NULL,
        enabled INTEGER NOT NULL,
        user_creatable INTEGER NOT NULL,
        body BLOB NOT NULL,
        PRIMARY KEY (schema_id, schema_version)
    )""",
    """CREATE TABLE IF NOT EXISTS notes (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        task_id TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        body BLOB NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS notes_task ON notes (task_id, created_at, id)",
)

_TERMINAL: Final = tm.TASK_PHASE_TERMINAL
_EVENT_SEQ = itertools.count()


class StoreError(ReasonError):
    """SQLite could not read or write the task store (disk full, I/O error, locked too
    long).  A failed write is rolled back whole: nothing was changed."""

    def __init__(self, doing: str, err: sqlite3.Error) -> None:
        super().__init__(f"task store error: cannot {doing} ({err}): nothing was changed")


# -- small helpers shared with the service ---------------------------------------------------


def enum_text(enum_type: Any, number: int) -> str:
    """Upstream's spelling of a contract enum value: ``TASK_PHASE_RUNNING`` -> ``Running``,
    ``TASK_EXECUTOR_KIND_HUMAN_SET`` -> ``HumanSet``."""
    name: str = enum_type.Name(number)
    prefix = {
        "TaskPhase": "TASK_PHASE_",
        "TaskOutcome": "TASK_OUTCOME_",
        "TaskExecutorKind": "TASK_EXECUTOR_KIND_",
        "TaskEventType": "TASK_EVENT_TYPE_",
        "TaskControlAction": "TASK_CONTROL_ACTION_",
        "TaskWaitReasonKind": "TASK_WAIT_REASON_KIND_",
        "TaskAction": "TASK_ACTION_",
        "TaskGrantScope": "TASK_GRANT_SCOPE_",
        "TaskDataScope": "TASK_DATA_SCOPE_",
    }[enum_type.DESCRIPTOR.name]
    return name.removeprefix(prefix).title().replace("_", "")


def executor_kind_of(task: tm.Task) -> int:
    """The :class:`tm.TaskExecutorKind` of a task's executor (Unbound when unset)."""
    which = task.executor.WhichOneof("executor")
    if which == "app":
        return tm.TASK_EXECUTOR_KIND_APP
    if which == "human_set":
        return tm.TASK_EXECUTOR_KIND_HUMAN_SET
    return tm.TASK_EXECUTOR_KIND_UNBOUND


def to_value(obj: Any) -> struct_pb2.Value:
    """A JSON value as a ``google.protobuf.Value``."""
    return json_format.ParseDict(obj, struct_pb2.Value())


def from_value(value: struct_pb2.Value) -> Any:
    """A ``google.protobuf.Value`` as plain JSON."""
    return json_format.MessageToDict(value)


def _now_ms(clock: Callable[[], float]) -> int:
    return int(clock() * 1000)


def new_event_id(now_ms: int) -> str:
    """``e<13-digit ms>-<6-digit seq>-<4 hex>`` (upstream's form; the seq is per process)."""
    return f"e{now_ms:013d}-{next(_EVENT_SEQ) % 1_000_000:06d}-{secrets.randbits(16):04x}"


def new_task_id() -> str:
    return f"t-{uuid.uuid4().hex}"


def new_grant_id() -> str:
    return f"g-{uuid.uuid4().hex}"


def make_cursor(created_at: int, task_id: str) -> str:
    return f"{created_at}:{task_id}"


def parse_cursor(cursor: str) -> tuple[int, str]:
    """``"<created_at_ms>:<task_id>"``, else upstream's ``invalid cursor: <c>``."""
    head, sep, task_id = cursor.partition(":")
    try:
        if not sep:
            raise ValueError(cursor)
        created_at = int(head)
    except ValueError:
        raise ParseRequestError(f"invalid cursor: {cursor}") from None
    return created_at, task_id


def clamp_limit(limit: int | None, default: int) -> int:
    return max(1, min(500, default if limit is None else limit))


@dataclass(frozen=True, slots=True)
class Outcome:
    """A committed mutation: the task after it and the event row written (a replay's
    event has ``event_id == ""`` and was not stored)."""

    task: tm.Task
    event: tm.TaskEvent


@dataclass(slots=True)
class Change:
    """What a mutation's ``apply`` answers: the event row to write."""

    event_type: int
    payload: Any = field(default_factory=dict)


class Tx:
    """The side tables a mutation may write in its transaction (assignees, grants) and the
    schema it may read."""

    def __init__(self, conn: sqlite3.Connection, now_ms: int) -> None:
        self.conn = conn
        self.now_ms = now_ms

    def active_assignees(self, task_id: str) -> list[str]:
        return _active_assignees(self.conn, task_id)

    def set_assignees(
        self, task_id: str, add: Sequence[str], remove: Sequence[str], by: tm.ActorRef
    ) -> None:
        """Revoke ``remove``, then (re)activate ``add``."""
        for user in remove:
            self.conn.execute(
                "UPDATE assignees SET revoked_at=? WHERE task_id=? AND user_id=? "
                "AND revoked_at IS NULL",
                (self.now_ms, task_id, user),
            )
        for user in add:
            cur = self.conn.execute(
                "UPDATE assignees SET revoked_at=NULL, granted_by_user_id=?, "
                "granted_by_app_id=?, created_at=? WHERE task_id=? AND user_id=?",
                (by.user_id, by.app_id, self.now_ms, task_id, user),
            )
            if cur.rowcount == 0:
                self.conn.execute(
                    "INSERT INTO assignees (task_id, user_id, granted_by_user_id, "
                    "granted_by_app_id, created_at) VALUES (?, ?, ?, ?, ?)",
                    (task_id, user, by.user_id, by.app_id, self.now_ms),
                )

    def add_grant(self, grant: tm.TaskAclGrant) -> None:
        self.conn.execute(
            "INSERT INTO grants (grant_id, task_id, created_at, revoked_at, body) "
            "VALUES (?, ?, ?, NULL, ?)",
            (grant.grant_id, grant.task_id, grant.created_at, _blob(grant)),
        )

    def revoke_grant(self, task_id: str, grant_id: str) -> bool:
        """Revoke an active grant of the task; ``False`` when there is none."""
        row = self.conn.execute(
            "SELECT body FROM grants WHERE grant_id=? AND task_id=? AND revoked_at IS NULL",
            (grant_id, task_id),
        ).fetchone()
        if row is None:
            return False
        grant = tm.TaskAclGrant.FromString(row[0])
        grant.revoked_at = self.now_ms
        self.conn.execute(
            "UPDATE grants SET revoked_at=?, body=? WHERE grant_id=?",
            (self.now_ms, _blob(grant), grant_id),
        )
        return True

    def schema(self, schema_id: str, version: int | None) -> tm.TaskSchemaDefinition:
        return _get_schema(self.conn, schema_id, version)


def _blob(message: Any) -> bytes:
    data: bytes = message.SerializeToString(deterministic=True)
    return data


def _active_assignees(conn: sqlite3.Connection, task_id: str) -> list[str]:
    rows = conn.execute(
        "SELECT user_id FROM assignees WHERE task_id=? AND revoked_at IS NULL ORDER BY user_id",
        (task_id,),
    ).fetchall()
    return [str(r[0]) for r in rows]


def _version_debug(version: int | None) -> str:
    """Rust's ``{:?}`` of an ``Option<u32>``: ``None`` / ``Some(2)``."""
    return "None" if version is None else f"Some({version})"


def _get_schema(
    conn: sqlite3.Connection, schema_id: str, version: int | None
) -> tm.TaskSchemaDefinition:
    if version is None:
        row = conn.execute(
            "SELECT body FROM schemas WHERE schema_id=? AND enabled=1 "
            "ORDER BY schema_version DESC LIMIT 1",
            (schema_id,),
        ).fetchone()
    else:
        row = conn.execute(
            "SELECT body FROM schemas WHERE schema_id=? AND schema_version=?",
            (schema_id, version),
        ).fetchone()
    if row is None:
        raise TaskSchemaNotFoundError(f"{schema_id}@{_version_debug(version)}")
    return tm.TaskSchemaDefinition.FromString(row[0])


def _task_columns(task: tm.Task) -> dict[str, Any]:
    kind = executor_kind_of(task)
    app = task.executor.app if kind == tm.TASK_EXECUTOR_KIND_APP else None
    return {
        "phase": enum_text(tm.TaskPhase, task.phase),
        "executor_kind": enum_text(tm.TaskExecutorKind, kind),
        "runner_app_id": app.app_id if app is not None else None,
        "runner_target_id": app.target_id
        if app is not None and app.HasField("target_id")
        else None,
        "revision": task.revision,
        "archived_at": task.archived_at if task.HasField("archived_at") else None,
        "body": _blob(task),
    }


def _same_request(existing: tm.Task, new: tm.Task) -> bool:
    """Upstream's "same immutable request" (2.4.2)."""
    return (
        existing.schema_id == new.schema_id
        and existing.schema_version == new.schema_version
        and existing.input_digest == new.input_digest
        and (existing.parent_id if existing.HasField("parent_id") else None)
        == (new.parent_id if new.HasField("parent_id") else None)
        and executor_kind_of(existing) == executor_kind_of(new)
    )


class TaskStore:
    """The store file; created (with its folder) when missing.  ``clock`` gives unix
    seconds.  Close with :meth:`close`."""

    def __init__(self, path: str | Path, *, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self._clock = clock
        self._lock = threading.RLock()
        self._conn = open_sqlite(
            self.path,
            what="task-manager store",
            option="--db",
            schema=_SCHEMA,
            version=_SCHEMA_VERSION,
        )

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> TaskStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def now_ms(self) -> int:
        return _now_ms(self._clock)

    def pragma(self, name: str) -> object:
        """``PRAGMA <name>`` on the live connection (``synchronous`` is 2, FULL)."""
        return self._read(lambda conn: read_pragma(conn, name))

    # -- transactions -------------------------------------------------------------------------

    def _write(self, body: Callable[[sqlite3.Connection], T]) -> T:
        with self._lock:
            return write(self._conn, body, self._failed)

    def _failed(self, err: sqlite3.Error) -> StoreError:
        _log.error("task store %s: write failed: %s", self.path, err)
        return StoreError("write", err)

    def _read(self, body: Callable[[sqlite3.Connection], T]) -> T:
        with self._lock:
            try:
                return body(self._conn)
            except sqlite3.Error as err:
                _log.error("task store %s: read failed: %s", self.path, err)
                raise StoreError("read", err) from err

    # -- tasks: reads -------------------------------------------------------------------------

    @staticmethod
    def _load(conn: sqlite3.Connection, task_id: str) -> tm.Task | None:
        row = conn.execute("SELECT body FROM tasks WHERE task_id=?", (task_id,)).fetchone()
        return None if row is None else tm.Task.FromString(row[0])

    def get_task(self, task_id: str) -> tm.Task | None:
        return self._read(lambda conn: self._load(conn, task_id))

    def require_task(self, task_id: str) -> tm.Task:
        """The task, else ``task_not_found: <id>``."""
        task = self.get_task(task_id)
        if task is None:
            raise TaskNotFoundError(task_id)
        return task

    def active_assignees(self, task_id: str) -> list[str]:
        return self._read(lambda conn: _active_assignees(conn, task_id))

    def task_chain(self, task_id: str) -> list[tuple[str, str | None, bool]]:
        """``[(task_id, parent_id, permission_boundary), ...]`` from the task up to its
        root (missing rows end it); more than 128 hops is ``task parent chain too deep or
        cyclic``."""

        def body(conn: sqlite3.Connection) -> list[tuple[str, str | None, bool]]:
            chain: list[tuple[str, str | None, bool]] = []
            current: str | None = task_id
            while current is not None:
                if len(chain) > 128:
                    raise ReasonError("task parent chain too deep or cyclic")
                row = conn.execute(
                    "SELECT parent_id, permission_boundary FROM tasks WHERE task_id=?",
                    (current,),
                ).fetchone()
                if row is None:
                    break
                chain.append((current, row[0], bool(row[1])))
                current = row[0]
            return chain

        return self._read(body)

    def active_grants_for(self, task_ids: Iterable[str]) -> list[tm.TaskAclGrant]:
        """Active grants anchored on any of ``task_ids``."""
        ids = list(task_ids)

        def body(conn: sqlite3.Connection) -> list[tm.TaskAclGrant]:
            out: list[tm.TaskAclGrant] = []
            for task_id in ids:
                rows = conn.execute(
                    "SELECT body FROM grants WHERE task_id=? AND revoked_at IS NULL "
                    "ORDER BY created_at, grant_id",
                    (task_id,),
                ).fetchall()
                out.extend(tm.TaskAclGrant.FromString(r[0]) for r in rows)
            return out

        return self._read(body)

    def all_grants(self, task_id: str) -> list[tm.TaskAclGrant]:
        """Every grant of the task, revoked ones included, by creation time."""
        rows = self._read(
            lambda conn: conn.execute(
                "SELECT body FROM grants WHERE task_id=? ORDER BY created_at, grant_id",
                (task_id,),
            ).fetchall()
        )
        return [tm.TaskAclGrant.FromString(r[0]) for r in rows]

    def is_tree_participant(
        self, root_id: str, user_id: str, app_id: str, *, zone_trusted: bool = False
    ) -> bool:
        """Whether the caller created (user and app), runs (app) or is an active assignee
        (user) of any task of the tree.  It runs a task only where its app id is proven
        (:func:`.acl.app_proven`): any, zone-trusted; its own user's, otherwise."""

        def body(conn: sqlite3.Connection) -> bool:
            hit = conn.execute(
                "SELECT 1 FROM tasks WHERE root_id=? AND ((creator_user_id=? AND "
                "creator_app_id=?) OR (runner_app_id=? AND (? OR creator_user_id=?))) LIMIT 1",
                (root_id, user_id, app_id, app_id, zone_trusted, user_id),
            ).fetchone()
            if hit is not None:
                return True
            hit = conn.execute(
                "SELECT 1 FROM assignees a JOIN tasks t ON a.task_id=t.task_id "
                "WHERE t.root_id=? AND a.user_id=? AND a.revoked_at IS NULL LIMIT 1",
                (root_id, user_id),
            ).fetchone()
            return hit is not None

        return self._read(body)

    def _page(
        self, where: list[str], params: list[Any], cursor: str | None, limit: int
    ) -> tuple[list[tm.Task], str | None]:
        if cursor is not None:
            created_at, task_id = parse_cursor(cursor)
            where.append("(created_at > ? OR (created_at = ? AND task_id > ?))")
            params.extend((created_at, created_at, task_id))
        sql = "SELECT body FROM tasks"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created_at ASC, task_id ASC LIMIT ?"
        params.append(limit + 1)
        rows = self._read(lambda conn: conn.execute(sql, params).fetchall())
        tasks = [tm.Task.FromString(r[0]) for r in rows]
        if len(tasks) > limit:
            del tasks[limit:]
            last = tasks[-1]
            return tasks, make_cursor(last.created_at, last.task_id)
        return tasks, None

    def list_tasks(
        self, request: tm.ListTasksRequest, *, limit: int | None = None
    ) -> tuple[list[tm.Task], str | None]:
        """list_tasks' raw rows (no visibility filter yet) and the next cursor."""
        where: list[str] = []
        params: list[Any] = []
        r = request
        for name, column in (
            ("creator_user_id", "creator_user_id"),
            ("creator_app_id", "creator_app_id"),
            ("schema_id", "schema_id"),
            ("root_id", "root_id"),
            ("runner_app_id", "runner_app_id"),
            ("runner_target_id", "runner_target_id"),
        ):
            if r.HasField(name):
                where.append(f"{column} = ?")
                params.append(getattr(r, name))
        if r.HasField("phase"):
            where.append("phase = ?")
            params.append(enum_text(tm.TaskPhase, r.phase))
        if r.HasField("executor_kind"):
            where.append("executor_kind = ?")
            params.append(enum_text(tm.TaskExecutorKind, r.executor_kind))
        if r.HasField("created_after"):
            where.append("created_at >= ?")
            params.append(r.created_after)
        if r.HasField("created_before"):
            where.append("created_at < ?")
            params.append(r.created_before)
        if not r.include_archived:
            where.append("archived_at IS NULL")
        cursor = r.cursor if r.HasField("cursor") else None
        n = (
            limit
            if limit is not None
            else clamp_limit(r.limit if r.HasField("limit") else None, 100)
        )
        return self._page(where, params, cursor, n)

    def list_tree(
        self, root_id: str, cursor: str | None, limit: int
    ) -> tuple[list[tm.Task], str | None]:
        """A tree's rows, archived included."""
        return self._page(["root_id = ?"], [root_id], cursor, clamp_limit(limit, 200))

    def list_children(
        self, parent_id: str, cursor: str | None, limit: int
    ) -> tuple[list[tm.Task], str | None]:
        """A task's direct children, archived included."""
        return self._page(["parent_id = ?"], [parent_id], cursor, clamp_limit(limit, 100))

    def collect_subtree(self, task: tm.Task, max_nodes: int) -> list[tm.Task]:
        """The task and its descendants among the first ``min(max_nodes, 500)`` rows of
        its tree, in upstream's walk order (target, its children in tree order, then
        depth-first from the last one found); truncation is silent."""
        tree, _ = self.list_tree(task.root_id, None, max_nodes)
        result = [task]
        frontier = [task.task_id]
        while frontier:
            current = frontier.pop()
            for node in tree:
                if node.HasField("parent_id") and node.parent_id == current:
                    result.append(node)
                    frontier.append(node.task_id)
                    if len(result) >= max_nodes:
                        return result
        return result

    # -- tasks: writes --------------------------------------------------------------------------

    def _event(
        self,
        conn: sqlite3.Connection,
        task: tm.Task,
        change: Change,
        actor: tm.ActorRef | None,
        now: int,
    ) -> tm.TaskEvent:
        event = tm.TaskEvent(
            event_id=new_event_id(now),
            task_id=task.task_id,
            root_id=task.root_id,
            task_revision=task.revision,
            event_type=change.event_type,  # type: ignore[arg-type]
            payload=to_value(change.payload),
            created_at=now,
        )
        if actor is not None:
            event.actor.CopyFrom(actor)
        conn.execute(
            "INSERT INTO events (event_id, task_id, root_id, body) VALUES (?, ?, ?, ?)",
            (event.event_id, event.task_id, event.root_id, _blob(event)),
        )
        return event

    @staticmethod
    def _replay(existing: tm.Task, new: tm.Task, actor: tm.ActorRef) -> Outcome:
        if not _same_request(existing, new):
            raise IdempotencyConflictError(
                f"idempotency key {new.idempotency_key} maps to a different immutable request"
            )
        event = tm.TaskEvent(
            event_id="",
            task_id=existing.task_id,
            root_id=existing.root_id,
            task_revision=existing.revision,
            event_type=tm.TASK_EVENT_TYPE_TASK_CREATED,
            payload=to_value({"replayed": True}),
            created_at=existing.created_at,
        )
        event.actor.CopyFrom(actor)
        return Outcome(existing, event)

    def create_task(
        self,
        task: tm.Task,
        *,
        assignees: Sequence[str] = (),
    ) -> Outcome:
        """Insert ``task`` (everything but ``task_id``, ``root_id``, the control profile's
        time, ``revision`` and the times, which are set here) with its assignees and its
        TaskCreated event; or, when its creator already used its idempotency key (or its
        origin_ref exists), the stored task if the immutable request is the same, else
        ``idempotency_conflict``.  A parent that does not exist is ``task_not_found: parent
        task <id>``."""
        actor = task.creator

        def body(conn: sqlite3.Connection) -> Outcome:
            row = conn.execute(
                "SELECT body FROM tasks WHERE creator_user_id=? AND creator_app_id=? "
                "AND idempotency_key=?",
                (task.creator.user_id, task.creator.app_id, task.idempotency_key),
            ).fetchone()
            if row is not None:
                return self._replay(tm.Task.FromString(row[0]), task, actor)
            if task.HasField("origin_ref"):
                row = conn.execute(
                    "SELECT body FROM tasks WHERE origin_kind=? AND origin_id=?",
                    (task.origin_ref.kind, task.origin_ref.id),
                ).fetchone()
                if row is not None:
                    return self._replay(tm.Task.FromString(row[0]), task, actor)
            now = self.now_ms()
            new = tm.Task()
            new.CopyFrom(task)
            new.task_id = new_task_id()
            if new.HasField("parent_id"):
                parent = self._load(conn, new.parent_id)
                if parent is None:
                    raise TaskNotFoundError(f"parent task {new.parent_id}")
                new.root_id = parent.root_id
            else:
                new.root_id = new.task_id
            new.control_profile.updated_at = now
            new.revision = 1
            new.created_at = now
            new.updated_at = now
            if len(set(assignees)) != len(assignees):
                raise ParseRequestError("a HumanSet task lists an assignee twice")
            del new.assignees[:]
            new.assignees.extend(sorted(assignees))
            cols = _task_columns(new)
            conn.execute(
                "INSERT INTO tasks (task_id, parent_id, root_id, creator_user_id, "
                "creator_app_id, idempotency_key, origin_kind, origin_id, schema_id, phase, "
                "executor_kind, runner_app_id, runner_target_id, permission_boundary, "
                "revision, created_at, archived_at, body) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    new.task_id,
                    new.parent_id if new.HasField("parent_id") else None,
                    new.root_id,
                    new.creator.user_id,
                    new.creator.app_id,
                    new.idempotency_key,
                    new.origin_ref.kind if new.HasField("origin_ref") else None,
                    new.origin_ref.id if new.HasField("origin_ref") else None,
                    new.schema_id,
                    cols["phase"],
                    cols["executor_kind"],
                    cols["runner_app_id"],
                    cols["runner_target_id"],
                    int(new.permission_boundary),
                    new.revision,
                    new.created_at,
                    None,
                    cols["body"],
                ),
            )
            Tx(conn, now).set_assignees(new.task_id, list(assignees), (), new.creator)
            change = Change(
                tm.TASK_EVENT_TYPE_TASK_CREATED,
                {
                    "schema_id": new.schema_id,
                    "schema_version": new.schema_version,
                    "phase": enum_text(tm.TaskPhase, new.phase),
                    "executor_kind": enum_text(tm.TaskExecutorKind, executor_kind_of(new)),
                    "parent_id": new.parent_id if new.HasField("parent_id") else None,
                },
            )
            event = self._event(conn, new, change, actor, now)
            return Outcome(new, event)

        return self._write(body)

    def mutate(
        self,
        task_id: str,
        expected_revision: int | None,
        apply: Callable[[tm.Task, Tx], Change],
        *,
        actor: tm.ActorRef | None,
        check: Callable[[tm.Task, Tx], None] | None = None,
    ) -> Outcome:
        """One guarded mutation: load (``task_not_found: <id>``), ``check`` (the verb's
        checks on the current row, before the revision), ``expected_revision``, ``apply``
        (edits the task in place, may write side tables through the :class:`Tx`, answers
        the event), CAS update, event row; all in one transaction."""

        def body(conn: sqlite3.Connection) -> Outcome:
            task = self._load(conn, task_id)
            if task is None:
                raise TaskNotFoundError(task_id)
            tx = Tx(conn, self.now_ms())
            if check is not None:
                check(task, tx)
            if expected_revision is not None and task.revision != expected_revision:
                raise RevisionConflictError(
                    f"expected revision {expected_revision}, found {task.revision}"
                )
            before = task.revision
            change = apply(task, tx)
            if executor_kind_of(task) == tm.TASK_EXECUTOR_KIND_HUMAN_SET:
                del task.assignees[:]
                task.assignees.extend(tx.active_assignees(task_id))
            task.revision = before + 1
            task.updated_at = tx.now_ms
            cols = _task_columns(task)
            cur = conn.execute(
                "UPDATE tasks SET phase=?, executor_kind=?, runner_app_id=?, "
                "runner_target_id=?, revision=?, archived_at=?, body=? "
                "WHERE task_id=? AND revision=?",
                (
                    cols["phase"],
                    cols["executor_kind"],
                    cols["runner_app_id"],
                    cols["runner_target_id"],
                    cols["revision"],
                    cols["archived_at"],
                    cols["body"],
                    task_id,
                    before,
                ),
            )
            if cur.rowcount != 1:
                raise RevisionConflictError(f"task {task_id} was modified concurrently")
            event = self._event(conn, task, change, actor, tx.now_ms)
            return Outcome(task, event)

        return self._write(body)

    # -- events and notes ---------------------------------------------------------------------

    def list_events(
        self, task_id: str | None, root_id: str | None, after: str | None, limit: int
    ) -> list[tm.TaskEvent]:
        if (task_id is None) == (root_id is None):
            raise ParseRequestError("exactly one of task_id / root_id is required")
        column, key = ("task_id", task_id) if task_id is not None else ("root_id", root_id)
        sql = f"SELECT body FROM events WHERE {column} = ?"
        params: list[Any] = [key]
        if after is not None:
            sql += " AND event_id > ?"
            params.append(after)
        sql += " ORDER BY event_id ASC LIMIT ?"
        params.append(clamp_limit(limit, 100))
        rows = self._read(lambda conn: conn.execute(sql, params).fetchall())
        return [tm.TaskEvent.FromString(r[0]) for r in rows]

    def add_note(self, note: tm.TaskNote) -> tm.TaskNote:
        """Store a note (its ``id`` assigned here)."""

        def body(conn: sqlite3.Connection) -> tm.TaskNote:
            cur = conn.execute(
                "INSERT INTO notes (task_id, created_at, body) VALUES (?, ?, x'')",
                (note.task_id, note.created_at),
            )
            stored = tm.TaskNote()
            stored.CopyFrom(note)
            stored.id = int(cur.lastrowid or 0)
            conn.execute("UPDATE notes SET body=? WHERE id=?", (_blob(stored), stored.id))
            return stored

        return self._write(body)

    def list_notes(self, task_id: str) -> list[tm.TaskNote]:
        rows = self._read(
            lambda conn: conn.execute(
                "SELECT body FROM notes WHERE task_id=? ORDER BY created_at, id", (task_id,)
            ).fetchall()
        )
        return [tm.TaskNote.FromString(r[0]) for r in rows]

    # -- schemas ------------------------------------------------------------------------------

    def register_schema(self, definition: tm.TaskSchemaDefinition) -> tm.TaskSchemaDefinition:
        """Publish ``(schema_id, schema_version)``; the same content again answers the stored
        row, other content is ``idempotency_conflict``.  ``created_at`` is set here."""

        def body(conn: sqlite3.Connection) -> tm.TaskSchemaDefinition:
            row = conn.execute(
                "SELECT body FROM schemas WHERE schema_id=? AND schema_version=?",
                (definition.schema_id, definition.schema_version),
            ).fetchone()
            if row is not None:
                existing = tm.TaskSchemaDefinition.FromString(row[0])
                if not _same_schema(existing, definition):
                    raise IdempotencyConflictError(
                        f"task schema {definition.schema_id}@{definition.schema_version} "
                        "already published with different content"
                    )
                return existing
            stored = tm.TaskSchemaDefinition()
            stored.CopyFrom(definition)
            stored.created_at = self.now_ms()
            conn.execute(
                "INSERT INTO schemas (schema_id, schema_version, enabled, user_creatable, "
                "body) VALUES (?, ?, ?, ?, ?)",
                (
                    stored.schema_id,
                    stored.schema_version,
                    int(stored.enabled),
                    int(stored.user_creatable),
                    _blob(stored),
                ),
            )
            return stored

        return self._write(body)

    def get_schema(self, schema_id: str, version: int | None) -> tm.TaskSchemaDefinition:
        """A version, or (``None``) the highest enabled one; else ``task_schema_not_found:
        <id>@None`` / ``<id>@Some(<v>)``."""
        return self._read(lambda conn: _get_schema(conn, schema_id, version))

    def list_schemas(
        self, user_creatable_only: bool, include_disabled: bool
    ) -> list[tm.TaskSchemaDefinition]:
        sql = "SELECT body FROM schemas"
        where = []
        if user_creatable_only:
            where.append("user_creatable = 1")
        if not include_disabled:
            where.append("enabled = 1")
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY schema_id, schema_version"
        rows = self._read(lambda conn: conn.execute(sql).fetchall())
        return [tm.TaskSchemaDefinition.FromString(r[0]) for r in rows]

    def set_schema_enabled(
        self, schema_id: str, version: int, enabled: bool
    ) -> tm.TaskSchemaDefinition:
        def body(conn: sqlite3.Connection) -> tm.TaskSchemaDefinition:
            row = conn.execute(
                "SELECT body FROM schemas WHERE schema_id=? AND schema_version=?",
                (schema_id, version),
            ).fetchone()
            if row is None:
                raise TaskSchemaNotFoundError(f"{schema_id}@{version}")
            stored = tm.TaskSchemaDefinition.FromString(row[0])
            stored.enabled = enabled
            conn.execute(
                "UPDATE schemas SET enabled=?, body=? WHERE schema_id=? AND schema_version=?",
                (int(enabled), _blob(stored), schema_id, version),
            )
            return stored

        return self._write(body)


def _same_schema(a: tm.TaskSchemaDefinition, b: tm.TaskSchemaDefinition) -> bool:
    def js(v: Any, has: bool) -> str | None:
        return json.dumps(from_value(v), sort_keys=True) if has else None

    return (
        js(a.input_schema, a.HasField("input_schema"))
        == js(b.input_schema, b.HasField("input_schema"))
        and js(a.output_schema, a.HasField("output_schema"))
        == js(b.output_schema, b.HasField("output_schema"))
        and js(a.presentation_schema, a.HasField("presentation_schema"))
        == js(b.presentation_schema, b.HasField("presentation_schema"))
        and list(a.allowed_executor_kinds) == list(b.allowed_executor_kinds)
        and a.publisher_app_id == b.publisher_app_id
    )
