"""kmsg's durable state: queues, messages, subscriptions (cursors) and the two id counters,
in one SQLite file (WAL, ``synchronous=FULL``, one immediate transaction per verb), so an
answered post, subscribe or cursor move survives a crash (``kill -9``) or power loss.

Upstream (``src/kernel/kmsg/src/sled_msg_queue.rs``, upstream-services.md 7.1) keeps the
same things in sled trees; the semantics here are upstream's, with two additions:

- **limits enforced**: ``max_messages`` keeps at most that many messages (each post that
  goes over drops the oldest, i.e. the lowest indexes); ``retention_seconds`` drops
  messages stored longer ago than that.  Age is measured from the time the server
  *stored* the message (``stored_at``), not from its ``created_at``, which the poster may
  set to anything.  Limits are applied in the transaction of each post, of each read of
  the queue (stats, read, fetch, subscribe, seek) and of ``update_queue_config``, and by
  :meth:`KmsgStore.sweep` (called every :data:`SWEEP_EVERY` seconds from writes), so an
  expired message is never answered.  Indexes are never reused: a cursor that pointed at
  a removed message reads on from the oldest message still kept.
- **guards**: every verb takes a callback the service uses to check the caller against
  the queue (its owner and access flags) or the subscription (its owner) inside the same
  transaction, so a config change cannot slip between the check and the act.

Every method is atomic and thread-safe (one connection behind a lock).  A failing SQLite
call is a :class:`StoreError` saying so; a failed write leaves nothing written.  Numbers on
the wire are u64; SQLite integers are i64, so cursors and ``created_at`` are stored
wrapped (two's complement) and read back unsigned.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Final, TypeVar

from buckyos.generated.kmsg_rpc import (
    QueueAlreadyExistsError,
    QueueNotFoundError,
    SubscriptionAlreadyExistsError,
    SubscriptionNotFoundError,
)
from buckyos.runtime import ReasonError

from ..sqlite_file import open_sqlite, read_pragma, rollback
from .model import (
    Position,
    QueueConfig,
    QueueGuard,
    QueueInfo,
    QueueStats,
    StoredMessage,
    SubGuard,
    SubInfo,
    calc_queue_urn,
)

__all__ = [
    "MAX_PAGE",
    "SWEEP_EVERY",
    "KmsgStore",
    "StoreError",
]

T = TypeVar("T")

_log = logging.getLogger("buckyos.services.kmsg.store")

_SCHEMA_VERSION: Final = "1"
_SCHEMA: Final = (
    """CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS queues (
        qid INTEGER PRIMARY KEY AUTOINCREMENT,
        urn TEXT NOT NULL UNIQUE,
        appid TEXT NOT NULL,
        app_owner TEXT NOT NULL,
        max_messages INTEGER,
        retention_seconds INTEGER,
        sync_write INTEGER NOT NULL,
        other_app_can_read INTEGER NOT NULL,
        other_app_can_write INTEGER NOT NULL,
        other_user_can_read INTEGER NOT NULL,
        other_user_can_write INTEGER NOT NULL,
        next_index INTEGER NOT NULL,
        message_count INTEGER NOT NULL,
        size_bytes INTEGER NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS messages (
        qid INTEGER NOT NULL,
        idx INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        stored_at REAL NOT NULL,
        payload BLOB NOT NULL,
        headers TEXT NOT NULL,
        PRIMARY KEY (qid, idx)
    ) WITHOUT ROWID""",
    """CREATE INDEX IF NOT EXISTS messages_age ON messages (qid, stored_at)""",
    """CREATE TABLE IF NOT EXISTS subs (
        sub_id TEXT PRIMARY KEY,
        qid INTEGER NOT NULL,
        user_id TEXT NOT NULL,
        app_id TEXT NOT NULL,
        cursor INTEGER NOT NULL
    )""",
    """CREATE INDEX IF NOT EXISTS subs_queue ON subs (qid)""",
)

MAX_PAGE: Final = 1000
"""At most this many messages in one fetch_messages / read_message answer (upstream: no
cap); a client pages on with its cursor."""
SWEEP_EVERY: Final = 60.0
"""Seconds between the retention sweeps over every queue that writes trigger."""

_U64: Final = 1 << 64
_I64_MAX: Final = (1 << 63) - 1


def _to_db(value: int) -> int:
    """A u64 as SQLite's i64 (two's complement)."""
    value %= _U64
    return value - _U64 if value > _I64_MAX else value


def _from_db(value: int) -> int:
    return value + _U64 if value < 0 else value


def _clamp(value: int | None) -> int | None:
    return None if value is None else min(value, _I64_MAX)


class StoreError(ReasonError):
    """SQLite could not read or write kmsg's file (disk full, I/O error, locked too long).

    The text names what failed and SQLite's reason, and says nothing was changed."""

    def __init__(self, doing: str, err: sqlite3.Error) -> None:
        super().__init__(f"kmsg cannot {doing} its store ({err}): nothing was changed; retry later")


def _allow(_: object, *__: object) -> None:
    return None


_QUEUE_COLUMNS: Final = (
    "qid, urn, appid, app_owner, max_messages, retention_seconds, sync_write, "
    "other_app_can_read, other_app_can_write, other_user_can_read, other_user_can_write"
)


def _queue_of(row: tuple[object, ...]) -> tuple[int, QueueInfo]:
    qid, urn, appid, app_owner, max_messages, retention, *flags = row
    config = QueueConfig(
        max_messages if isinstance(max_messages, int) else None,
        retention if isinstance(retention, int) else None,
        *(bool(flag) for flag in flags),
    )
    assert isinstance(qid, int)
    return qid, QueueInfo(str(urn), str(appid), str(app_owner), config)


class KmsgStore:
    """The store file.  ``path`` is created (with its folder) when missing.

    ``clock`` gives unix seconds (injectable for tests: retention and ``created_at``
    follow it).  Close with :meth:`close`.
    """

    def __init__(self, path: str | Path, *, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self._clock = clock
        self._lock = threading.Lock()
        self._last_sweep = 0.0
        # FULL whatever a queue's sync_write says (upstream flushes only when it is set).
        self._conn = open_sqlite(
            self.path,
            what="kmsg store",
            option="--db",
            schema=_SCHEMA,
            version=_SCHEMA_VERSION,
        )

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> KmsgStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def pragma(self, name: str) -> object:
        """``PRAGMA <name>`` on the live connection (checks: ``synchronous`` 2, ``wal``)."""
        with self._lock:
            return self._tx(lambda conn: read_pragma(conn, name))

    # -- internals ---------------------------------------------------------------------------

    def _tx(self, body: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``body`` in one immediate transaction (the caller holds the lock).

        An exception from ``body`` rolls back, except :class:`_CommitError`, which commits what
        was done (a burnt id counter) and raises the error it carries."""
        conn = self._conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = body(conn)
                conn.execute("COMMIT")
            except _CommitError as done:
                try:
                    conn.execute("COMMIT")
                except BaseException:
                    rollback(conn)
                    raise
                raise done.error from None
            except BaseException:
                rollback(conn)
                raise
        except sqlite3.Error as err:
            _log.error("kmsg store %s: transaction failed: %s", self.path, err)
            raise StoreError("use", err) from err
        return result

    def _run(self, body: Callable[[sqlite3.Connection], T]) -> T:
        with self._lock:
            result = self._tx(body)
            self._maybe_sweep()
            return result

    def _maybe_sweep(self) -> None:
        now = self._clock()
        if now - self._last_sweep >= SWEEP_EVERY:
            self._last_sweep = now
            try:
                self._tx(lambda conn: self._sweep(conn, now))
            except StoreError:
                pass  # logged; the next write tries again, and reads expire by themselves

    def _sweep(self, conn: sqlite3.Connection, now: float) -> int:
        rows = conn.execute(
            f"SELECT {_QUEUE_COLUMNS} FROM queues WHERE retention_seconds IS NOT NULL"
        ).fetchall()
        return sum(self._enforce(conn, *_queue_of(row), now) for row in rows)

    @staticmethod
    def _queue(conn: sqlite3.Connection, urn: str) -> tuple[int, QueueInfo]:
        row = conn.execute(f"SELECT {_QUEUE_COLUMNS} FROM queues WHERE urn=?", (urn,)).fetchone()
        if row is None:
            raise QueueNotFoundError(urn)
        return _queue_of(row)

    def _sub(self, conn: sqlite3.Connection, sub_id: str) -> tuple[int, SubInfo, QueueInfo]:
        row = conn.execute(
            "SELECT s.qid, q.urn, s.user_id, s.app_id, s.cursor FROM subs s "
            "JOIN queues q ON q.qid = s.qid WHERE s.sub_id=?",
            (sub_id,),
        ).fetchone()
        if row is None:
            raise SubscriptionNotFoundError(sub_id)
        qid, urn, user_id, app_id, cursor = row
        _, queue = self._queue(conn, urn)
        return qid, SubInfo(sub_id, urn, user_id, app_id, _from_db(cursor)), queue

    @staticmethod
    def _next_id(conn: sqlite3.Connection, counter: str) -> int:
        row = conn.execute("SELECT value FROM meta WHERE name=?", (counter,)).fetchone()
        value = (int(row[0]) if row is not None else 0) + 1
        conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (counter, str(value)))
        return value

    @staticmethod
    def _delete(conn: sqlite3.Connection, qid: int, where: str, args: tuple[object, ...]) -> int:
        """Delete the queue's messages matching ``where``; keep its counters right."""
        count, size = conn.execute(
            f"SELECT COUNT(*), COALESCE(SUM(LENGTH(payload)), 0) FROM messages "
            f"WHERE qid=? AND {where}",
            (qid, *args),
        ).fetchone()
        if count:
            conn.execute(f"DELETE FROM messages WHERE qid=? AND {where}", (qid, *args))
            conn.execute(
                "UPDATE queues SET message_count=MAX(message_count-?, 0), "
                "size_bytes=MAX(size_bytes-?, 0) WHERE qid=?",
                (count, size, qid),
            )
        return int(count)

    def _enforce(self, conn: sqlite3.Connection, qid: int, queue: QueueInfo, now: float) -> int:
        """Apply the queue's limits; how many messages went."""
        gone = 0
        retention = queue.config.retention_seconds
        if retention is not None:
            gone += self._delete(conn, qid, "stored_at < ?", (now - retention,))
        limit = queue.config.max_messages
        if limit is not None:
            (count,) = conn.execute(
                "SELECT message_count FROM queues WHERE qid=?", (qid,)
            ).fetchone()
            if count > limit:
                (keep_from,) = conn.execute(
                    "SELECT idx FROM messages WHERE qid=? ORDER BY idx LIMIT 1 OFFSET ?",
                    (qid, count - limit),
                ).fetchone()
                gone += self._delete(conn, qid, "idx < ?", (keep_from,))
        return gone

    def _expire(self, conn: sqlite3.Connection, qid: int, queue: QueueInfo) -> None:
        """Before a read: drop what retention has expired."""
        if queue.config.retention_seconds is not None:
            self._enforce(conn, qid, queue, self._clock())

    @staticmethod
    def _stats(conn: sqlite3.Connection, qid: int) -> QueueStats:
        count, size = conn.execute(
            "SELECT message_count, size_bytes FROM queues WHERE qid=?", (qid,)
        ).fetchone()
        first, last = conn.execute(
            "SELECT MIN(idx), MAX(idx) FROM messages WHERE qid=?", (qid,)
        ).fetchone()
        return QueueStats(int(count), int(first or 0), int(last or 0), int(size))

    def _position(self, conn: sqlite3.Connection, qid: int, position: Position, at: int) -> int:
        if position is Position.AT:
            return at
        stats = self._stats(conn, qid)
        if position is Position.EARLIEST:
            return stats.first_index or 1
        return stats.last_index + 1

    @staticmethod
    def _page(conn: sqlite3.Connection, qid: int, cursor: int, length: int) -> list[StoredMessage]:
        if cursor > _I64_MAX:
            return []  # past every index there will ever be
        rows = conn.execute(
            "SELECT idx, created_at, payload, headers FROM messages "
            "WHERE qid=? AND idx>=? ORDER BY idx LIMIT ?",
            (qid, cursor, min(max(length, 1), MAX_PAGE)),
        ).fetchall()
        return [
            StoredMessage(int(idx), _from_db(created), bytes(payload), json.loads(headers))
            for idx, created, payload, headers in rows
        ]

    # -- queues ------------------------------------------------------------------------------

    def create_queue(
        self, name: str | None, appid: str, app_owner: str, config: QueueConfig
    ) -> str:
        """Create a queue owned by ``(appid, app_owner)``; its URN.  A ``None`` name is
        ``queue-<n>`` (the number is burnt even when the URN then clashes)."""

        def body(conn: sqlite3.Connection) -> str:
            burnt = name is None
            label = f"queue-{self._next_id(conn, 'queue_id')}" if name is None else name
            urn = calc_queue_urn(appid, app_owner, label)
            if conn.execute("SELECT 1 FROM queues WHERE urn=?", (urn,)).fetchone():
                error = QueueAlreadyExistsError(urn)
                raise _CommitError(error) if burnt else error
            conn.execute(
                "INSERT INTO queues (urn, appid, app_owner, max_messages, retention_seconds, "
                "sync_write, other_app_can_read, other_app_can_write, other_user_can_read, "
                "other_user_can_write, next_index, message_count, size_bytes) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, 0, 0)",
                (urn, appid, app_owner, *_config_row(config)),
            )
            return urn

        return self._run(body)

    def queue(self, urn: str) -> QueueInfo:
        """The queue (``QueueNotFoundError`` when there is none)."""
        with self._lock:
            return self._tx(lambda conn: self._queue(conn, urn)[1])

    def delete_queue(self, urn: str, guard: QueueGuard = _allow) -> None:
        """Delete the queue, its messages and every subscription on it."""

        def body(conn: sqlite3.Connection) -> None:
            qid, queue = self._queue(conn, urn)
            guard(queue)
            conn.execute("DELETE FROM messages WHERE qid=?", (qid,))
            conn.execute("DELETE FROM subs WHERE qid=?", (qid,))
            conn.execute("DELETE FROM queues WHERE qid=?", (qid,))

        self._run(body)

    def stats(self, urn: str, guard: QueueGuard = _allow) -> QueueStats:
        def body(conn: sqlite3.Connection) -> QueueStats:
            qid, queue = self._queue(conn, urn)
            guard(queue)
            self._expire(conn, qid, queue)
            return self._stats(conn, qid)

        return self._run(body)

    def update_config(self, urn: str, config: QueueConfig, guard: QueueGuard = _allow) -> None:
        """Replace the config; its limits apply at once."""

        def body(conn: sqlite3.Connection) -> None:
            qid, queue = self._queue(conn, urn)
            guard(queue)
            conn.execute(
                "UPDATE queues SET max_messages=?, retention_seconds=?, sync_write=?, "
                "other_app_can_read=?, other_app_can_write=?, other_user_can_read=?, "
                "other_user_can_write=? WHERE qid=?",
                (*_config_row(config), qid),
            )
            updated = QueueInfo(queue.urn, queue.appid, queue.app_owner, config)
            self._enforce(conn, qid, updated, self._clock())

        self._run(body)

    # -- messages ----------------------------------------------------------------------------

    def post(
        self,
        urn: str,
        *,
        created_at: int,
        payload: bytes,
        headers: Mapping[str, str],
        guard: QueueGuard = _allow,
    ) -> int:
        """Append a message; its index.  ``created_at`` 0 becomes now (seconds).  The
        queue's limits are applied in the same transaction (the new message may be the one
        retention drops, when its queue keeps nothing that old: it is still answered)."""

        def body(conn: sqlite3.Connection) -> int:
            qid, queue = self._queue(conn, urn)
            guard(queue)
            now = self._clock()
            (index,) = conn.execute("SELECT next_index FROM queues WHERE qid=?", (qid,)).fetchone()
            conn.execute(
                "INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?)",
                (
                    qid,
                    index,
                    _to_db(created_at or int(now)),
                    now,
                    payload,
                    json.dumps(dict(headers), ensure_ascii=False, sort_keys=True),
                ),
            )
            conn.execute(
                "UPDATE queues SET next_index=next_index+1, message_count=message_count+1, "
                "size_bytes=size_bytes+? WHERE qid=?",
                (len(payload), qid),
            )
            self._enforce(conn, qid, queue, now)
            return int(index)

        return self._run(body)

    def read(
        self, urn: str, cursor: int, length: int, guard: QueueGuard = _allow
    ) -> list[StoredMessage]:
        """Up to ``length`` (1..:data:`MAX_PAGE`) messages from index ``cursor`` on."""

        def body(conn: sqlite3.Connection) -> list[StoredMessage]:
            qid, queue = self._queue(conn, urn)
            guard(queue)
            self._expire(conn, qid, queue)
            return self._page(conn, qid, cursor, length)

        return self._run(body)

    def delete_before(self, urn: str, index: int, guard: QueueGuard = _allow) -> int:
        """Delete the messages with an index below ``index``; how many went."""

        def body(conn: sqlite3.Connection) -> int:
            qid, queue = self._queue(conn, urn)
            guard(queue)
            return self._delete(conn, qid, "idx < ?", (min(index, _I64_MAX),))

        return self._run(body)

    # -- subscriptions -----------------------------------------------------------------------

    def subscribe(
        self,
        urn: str,
        *,
        sub_id: str | None,
        user_id: str,
        app_id: str,
        position: Position,
        at: int = 0,
        guard: QueueGuard = _allow,
    ) -> str:
        """A cursor on the queue for ``(user_id, app_id)``; its id (``sub-<n>`` when
        ``sub_id`` is ``None``, the number burnt even when it then clashes)."""

        def body(conn: sqlite3.Connection) -> str:
            qid, queue = self._queue(conn, urn)
            guard(queue)
            burnt = sub_id is None
            chosen = f"sub-{self._next_id(conn, 'sub_id')}" if sub_id is None else sub_id
            if conn.execute("SELECT 1 FROM subs WHERE sub_id=?", (chosen,)).fetchone():
                error = SubscriptionAlreadyExistsError(chosen)
                raise _CommitError(error) if burnt else error
            self._expire(conn, qid, queue)
            cursor = self._position(conn, qid, position, at)
            conn.execute(
                "INSERT INTO subs VALUES (?, ?, ?, ?, ?)",
                (chosen, qid, user_id, app_id, _to_db(cursor)),
            )
            return chosen

        return self._run(body)

    def subscription(self, sub_id: str) -> SubInfo:
        with self._lock:
            return self._tx(lambda conn: self._sub(conn, sub_id)[1])

    def unsubscribe(self, sub_id: str, guard: SubGuard = _allow) -> None:
        def body(conn: sqlite3.Connection) -> None:
            _, sub, queue = self._sub(conn, sub_id)
            guard(sub, queue)
            conn.execute("DELETE FROM subs WHERE sub_id=?", (sub_id,))

        self._run(body)

    def fetch(
        self, sub_id: str, length: int, auto_commit: bool, guard: SubGuard = _allow
    ) -> list[StoredMessage]:
        """Up to ``length`` messages from the cursor; ``auto_commit`` moves the cursor past
        the last one answered (never when none is)."""

        def body(conn: sqlite3.Connection) -> list[StoredMessage]:
            qid, sub, queue = self._sub(conn, sub_id)
            guard(sub, queue)
            self._expire(conn, qid, queue)
            page = self._page(conn, qid, sub.cursor, length)
            if auto_commit and page:
                conn.execute(
                    "UPDATE subs SET cursor=? WHERE sub_id=?",
                    (_to_db(page[-1].index + 1), sub_id),
                )
            return page

        return self._run(body)

    def commit_ack(self, sub_id: str, index: int, guard: SubGuard = _allow) -> None:
        """cursor = index + 1, unchecked (upstream: it may go back, past the end, or wrap
        u64::MAX to 0)."""

        def body(conn: sqlite3.Connection) -> None:
            _, sub, queue = self._sub(conn, sub_id)
            guard(sub, queue)
            conn.execute("UPDATE subs SET cursor=? WHERE sub_id=?", (_to_db(index + 1), sub_id))

        self._run(body)

    def seek(self, sub_id: str, position: Position, at: int = 0, guard: SubGuard = _allow) -> None:
        def body(conn: sqlite3.Connection) -> None:
            qid, sub, queue = self._sub(conn, sub_id)
            guard(sub, queue)
            self._expire(conn, qid, queue)
            cursor = self._position(conn, qid, position, at)
            conn.execute("UPDATE subs SET cursor=? WHERE sub_id=?", (_to_db(cursor), sub_id))

        self._run(body)

    # -- upkeep ------------------------------------------------------------------------------

    def sweep(self) -> int:
        """Apply every queue's retention now; how many messages went."""
        with self._lock:
            now = self._clock()
            self._last_sweep = now
            return self._tx(lambda conn: self._sweep(conn, now))

    def counts(self) -> dict[str, int]:
        """Rows per table (for logs and tests)."""
        with self._lock:
            return self._tx(
                lambda conn: {
                    table: int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
                    for table in ("queues", "messages", "subs")
                }
            )


class _CommitError(Exception):
    """Raised inside a transaction: commit what was done, then raise ``error``."""

    def __init__(self, error: ReasonError) -> None:
        super().__init__(str(error))
        self.error = error


def _config_row(config: QueueConfig) -> tuple[object, ...]:
    return (
        _clamp(config.max_messages),
        _clamp(config.retention_seconds),
        int(config.sync_write),
        int(config.other_app_can_read),
        int(config.other_app_can_write),
        int(config.other_user_can_read),
        int(config.other_user_can_write),
    )
