"""verify-hub's persisted state: sessions and their refresh-token generation, used login JWT
ids and password nonces.  One SQLite file (WAL, ``synchronous=FULL``, one transaction per
change), so an answered login, refresh or logout survives a crash or restart.

Upstream keeps all of this in memory, so a verify-hub restart breaks every refresh
(upstream issue #516) and forgets which login JWTs were already used.  Here:

- ``sessions``: one row per session key (``<user>_<app scope>_<session id>``, upstream's
  form) holding the ``jti`` of the one refresh token that may still be used, its generation
  (bumped by each rotation) and expiry, and ``revoked_at`` once logged out or caught reusing
  an old refresh token.  A row is kept until its refresh token would have expired anyway.
  The last rotation is remembered too (``prev_jti``, ``rotated_at`` and the new pair's
  session-token ``session_jti``) so that a client whose refresh answer was lost can retry
  the same refresh token within a short window and get the same pair again
  (:class:`Reissue`): verify-hub re-signs it from these values, Ed25519 signatures being
  deterministic, so no token is ever stored.
- ``used_once``: login JWT ids (``kind='jti'``) and password nonces (``kind='nonce'``),
  each kept until the thing it protects could no longer be accepted.

Every method is atomic and thread-safe (one connection behind a lock); callers on an event
loop run them in a worker thread.  A failing SQLite call (a full disk, an I/O error) is a
:class:`StateError` saying so; a write that fails leaves nothing half-written (its
transaction is rolled back, and the rollback never hides the first error).
"""

from __future__ import annotations

import enum
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Protocol, TypeVar, runtime_checkable

from buckyos.runtime import ReasonError

from ..sqlite_file import open_sqlite, read_pragma, write

__all__ = [
    "Check",
    "Reissue",
    "SessionRow",
    "SessionState",
    "SessionStore",
    "StateError",
    "Verdict",
    "judge",
]

T = TypeVar("T")

_log = logging.getLogger("buckyos.services.verify_hub.state")

_SCHEMA_VERSION: Final = "2"
_SCHEMA: Final = (
    """CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS sessions (
        session_key TEXT PRIMARY KEY,
        refresh_jti TEXT NOT NULL,
        generation INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        revoked_at INTEGER,
        prev_jti TEXT,
        rotated_at INTEGER,
        session_jti TEXT
    )""",
    """CREATE INDEX IF NOT EXISTS sessions_expiry ON sessions (expires_at)""",
    """CREATE TABLE IF NOT EXISTS used_once (
        kind TEXT NOT NULL,
        key TEXT NOT NULL,
        expires_at INTEGER NOT NULL,
        PRIMARY KEY (kind, key)
    )""",
    """CREATE INDEX IF NOT EXISTS used_once_expiry ON used_once (expires_at)""",
)
# Version 1 (before the refresh retry window) lacks the last rotation's columns; a row
# migrated from it has NULLs there, which simply means "no retry possible".
_MIGRATE_FROM_1: Final = (
    "ALTER TABLE sessions ADD COLUMN prev_jti TEXT",
    "ALTER TABLE sessions ADD COLUMN rotated_at INTEGER",
    "ALTER TABLE sessions ADD COLUMN session_jti TEXT",
)
_PRUNE_EVERY: Final = 60.0  # seconds between prunes triggered by writes


class StateError(ReasonError):
    """SQLite could not read or write the state (disk full, I/O error, locked too long).

    The text names what failed and SQLite's reason, and says that nothing was changed:
    a failed write is rolled back whole."""

    def __init__(self, doing: str, err: sqlite3.Error) -> None:
        super().__init__(
            f"verify-hub cannot {doing} its state ({err}): nothing was changed; retry later"
        )


class Check(enum.Enum):
    """What the state says about a presented refresh token."""

    CURRENT = "current"
    """It is the session's one live refresh token."""
    UNKNOWN = "unknown"
    """No such session (never opened, pruned after expiry)."""
    REVOKED = "revoked"
    """The session was logged out or revoked for reuse."""
    REUSED = "reused"
    """An older refresh token of a live session: the session is revoked now."""
    RETRY = "retry"
    """The refresh token traded last, presented again within the retry window: the
    caller lost the answer; it gets the same pair again (:attr:`Verdict.reissue`)."""


@dataclass(frozen=True, slots=True)
class Reissue:
    """What re-signs the pair of the last rotation, byte for byte: the new refresh and
    session tokens' ``jti`` and the time they were issued (their ``exp`` follows)."""

    refresh_jti: str
    session_jti: str
    issued_at: int


@dataclass(frozen=True, slots=True)
class Verdict:
    """A refresh token judged: :class:`Check`, and the pair to re-sign for ``RETRY``."""

    check: Check
    reissue: Reissue | None = None


@dataclass(frozen=True, slots=True)
class SessionRow:
    """One session as stored."""

    session_key: str
    refresh_jti: str
    generation: int
    expires_at: int
    revoked_at: int | None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


def judge(
    jti: str,
    *,
    refresh_jti: str,
    revoked_at: int | None,
    prev_jti: str | None,
    rotated_at: int | None,
    session_jti: str | None,
    now: int,
    window: int,
) -> Verdict:
    """A presented refresh token ``jti`` against its stored session (both backends).

    ``REUSED`` means the caller must revoke the session in the same transaction."""
    if revoked_at is not None:
        return Verdict(Check.REVOKED)
    if refresh_jti == jti:
        return Verdict(Check.CURRENT)
    if (
        window > 0
        and jti == prev_jti
        and rotated_at is not None
        and session_jti is not None
        # abs(): a clock stepped back a little must not turn a retry into a theft
        and abs(now - rotated_at) <= window
    ):
        # The token traded last, again, soon after: the answer was lost on the way
        # (a dropped connection, a verify-hub restart).  Same pair, nothing changes.
        return Verdict(Check.RETRY, Reissue(refresh_jti, session_jti, rotated_at))
    # Someone holds a refresh token that was already traded: the thief or the
    # owner, we cannot tell which, so the whole session ends (RFC 6819 5.2.2.3).
    return Verdict(Check.REUSED)


@runtime_checkable
class SessionStore(Protocol):
    """What verify-hub needs of its state, whatever holds it: :class:`SessionState`
    (SQLite, one node) or :class:`~.etcd_state.EtcdSessionState` (etcd, a zone of several
    nodes).  The behaviour tests (``tests/test_verify_hub_state.py``) run on both."""

    def close(self) -> None: ...
    def is_used(self, kind: str, key: str) -> bool: ...
    def claim(self, kind: str, key: str, expires_at: int) -> bool: ...
    def claim_and_open(
        self,
        kind: str,
        key: str,
        used_until: int,
        session_key: str,
        refresh_jti: str,
        refresh_expires_at: int,
    ) -> bool: ...
    def open_session(self, session_key: str, refresh_jti: str, expires_at: int) -> None: ...
    def session(self, session_key: str) -> SessionRow | None: ...
    def check_refresh(self, session_key: str, jti: str, *, window: int = 0) -> Verdict: ...
    def rotate(
        self,
        session_key: str,
        old_jti: str,
        new_jti: str,
        expires_at: int,
        *,
        session_jti: str | None = None,
        issued_at: int | None = None,
        window: int = 0,
    ) -> Verdict: ...
    def revoke(self, session_key: str) -> bool: ...
    def revoked_since(self, since: int) -> dict[str, int]: ...
    def prune(self) -> int: ...
    def counts(self) -> dict[str, int]: ...


class SessionState:
    """The state file.  ``path`` is created (with its folder) when missing.

    ``clock`` gives unix seconds (injectable for tests).  Close with :meth:`close`.
    """

    def __init__(self, path: str | Path, *, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self._clock = clock
        self._lock = threading.Lock()
        self._last_prune = 0.0
        self._conn = open_sqlite(
            self.path,
            what="verify-hub state file",
            option="--state",
            schema=_SCHEMA,
            version=_SCHEMA_VERSION,
            migrations={"1": _MIGRATE_FROM_1},
        )

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> SessionState:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals ---------------------------------------------------------------------------

    def _now(self) -> int:
        return int(self._clock())

    def _write(self, body: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``body`` in one immediate transaction (under the lock); a SQLite failure
        is a :class:`StateError` and leaves nothing written."""
        return write(self._conn, body, self._failed)

    def _failed(self, err: sqlite3.Error) -> StateError:
        _log.error("verify-hub state %s: write failed: %s", self.path, err)
        return StateError("write", err)

    def _read(self, body: Callable[[sqlite3.Connection], T]) -> T:
        """Run a read (under the lock); a SQLite failure is a :class:`StateError`."""
        try:
            return body(self._conn)
        except sqlite3.Error as err:
            _log.error("verify-hub state %s: read failed: %s", self.path, err)
            raise StateError("read", err) from err

    def pragma(self, name: str) -> object:
        """The value of ``PRAGMA <name>`` on the live connection (for checks and logs:
        ``synchronous`` must be 2, FULL; ``journal_mode`` must be ``wal``)."""
        with self._lock:
            return self._read(lambda conn: read_pragma(conn, name))

    def _maybe_prune(self) -> None:
        now = self._clock()
        if now - self._last_prune >= _PRUNE_EVERY:
            self._last_prune = now
            self._prune_locked(int(now))

    def _prune_locked(self, now: int) -> int:
        def body(conn: sqlite3.Connection) -> int:
            a = conn.execute("DELETE FROM sessions WHERE expires_at < ?", (now,)).rowcount
            b = conn.execute("DELETE FROM used_once WHERE expires_at < ?", (now,)).rowcount
            return int(a) + int(b)

        return self._write(body)

    # -- one-time values ---------------------------------------------------------------------

    def is_used(self, kind: str, key: str) -> bool:
        """Whether ``key`` of ``kind`` (``jti``, ``nonce``) was used and is not yet pruned."""
        with self._lock:
            row = self._read(
                lambda conn: conn.execute(
                    "SELECT 1 FROM used_once WHERE kind=? AND key=?", (kind, key)
                ).fetchone()
            )
        return row is not None

    def claim(self, kind: str, key: str, expires_at: int) -> bool:
        """Mark ``key`` used until ``expires_at``; ``False`` when it already was."""
        with self._lock:
            self._maybe_prune()

            def body(conn: sqlite3.Connection) -> bool:
                cur = conn.execute(
                    "INSERT OR IGNORE INTO used_once VALUES (?, ?, ?)", (kind, key, expires_at)
                )
                return cur.rowcount == 1

            return self._write(body)

    def claim_and_open(
        self,
        kind: str,
        key: str,
        used_until: int,
        session_key: str,
        refresh_jti: str,
        refresh_expires_at: int,
    ) -> bool:
        """:meth:`claim` and :meth:`open_session` in one transaction; ``False`` (and nothing
        written) when ``key`` was already used."""
        with self._lock:
            self._maybe_prune()

            def body(conn: sqlite3.Connection) -> bool:
                cur = conn.execute(
                    "INSERT OR IGNORE INTO used_once VALUES (?, ?, ?)", (kind, key, used_until)
                )
                if cur.rowcount != 1:
                    return False
                self._insert_session(conn, session_key, refresh_jti, refresh_expires_at)
                return True

            return self._write(body)

    # -- sessions ----------------------------------------------------------------------------

    @staticmethod
    def _insert_session(
        conn: sqlite3.Connection, session_key: str, refresh_jti: str, expires_at: int
    ) -> None:
        try:
            conn.execute(
                "INSERT INTO sessions (session_key, refresh_jti, generation, expires_at) "
                "VALUES (?, ?, 1, ?)",
                (session_key, refresh_jti, expires_at),
            )
        except sqlite3.IntegrityError:
            # Session ids are random (JWT logins) or single-use nonces (password logins): a
            # clash means a bug or an attack, never something to overwrite.
            raise ValueError(f"session {session_key} already exists") from None

    def open_session(self, session_key: str, refresh_jti: str, expires_at: int) -> None:
        """A new session whose live refresh token is ``refresh_jti``."""
        with self._lock:
            self._maybe_prune()
            self._write(
                lambda conn: self._insert_session(conn, session_key, refresh_jti, expires_at)
            )

    def session(self, session_key: str) -> SessionRow | None:
        """The stored session, or ``None``."""
        with self._lock:
            row = self._read(
                lambda conn: conn.execute(
                    "SELECT session_key, refresh_jti, generation, expires_at, revoked_at "
                    "FROM sessions WHERE session_key=?",
                    (session_key,),
                ).fetchone()
            )
        return None if row is None else SessionRow(*row)

    @staticmethod
    def _check_locked(
        conn: sqlite3.Connection, session_key: str, jti: str, now: int, window: int
    ) -> Verdict:
        row = conn.execute(
            "SELECT refresh_jti, revoked_at, prev_jti, rotated_at, session_jti "
            "FROM sessions WHERE session_key=?",
            (session_key,),
        ).fetchone()
        if row is None:
            return Verdict(Check.UNKNOWN)
        refresh_jti, revoked_at, prev_jti, rotated_at, session_jti = row
        verdict = judge(
            jti,
            refresh_jti=refresh_jti,
            revoked_at=revoked_at,
            prev_jti=prev_jti,
            rotated_at=rotated_at,
            session_jti=session_jti,
            now=now,
            window=window,
        )
        if verdict.check is Check.REUSED:
            conn.execute("UPDATE sessions SET revoked_at=? WHERE session_key=?", (now, session_key))
        return verdict

    def check_refresh(self, session_key: str, jti: str, *, window: int = 0) -> Verdict:
        """Judge a presented refresh token; a reused one revokes its session here.

        ``window``: seconds after a rotation during which the refresh token it traded is
        a retry (``RETRY``, with the pair to re-sign) rather than a reuse."""
        with self._lock:
            now = self._now()
            return self._write(lambda conn: self._check_locked(conn, session_key, jti, now, window))

    def rotate(
        self,
        session_key: str,
        old_jti: str,
        new_jti: str,
        expires_at: int,
        *,
        session_jti: str | None = None,
        issued_at: int | None = None,
        window: int = 0,
    ) -> Verdict:
        """Replace the live refresh token ``old_jti`` by ``new_jti`` (atomic compare-and-set),
        remembering ``old_jti``, ``issued_at`` and the new pair's ``session_jti`` for a retry.

        Returns ``CURRENT`` when rotated; any other answer means nothing was rotated:
        ``RETRY`` when a concurrent refresh with the same token won (its pair is the answer),
        ``REUSED`` when the session is revoked now.
        """
        with self._lock:
            now = self._now()
            issued = now if issued_at is None else issued_at

            def body(conn: sqlite3.Connection) -> Verdict:
                verdict = self._check_locked(conn, session_key, old_jti, now, window)
                if verdict.check is Check.CURRENT:
                    conn.execute(
                        "UPDATE sessions SET refresh_jti=?, generation=generation+1, "
                        "expires_at=?, prev_jti=?, rotated_at=?, session_jti=? "
                        "WHERE session_key=?",
                        (new_jti, expires_at, old_jti, issued, session_jti, session_key),
                    )
                return verdict

            return self._write(body)

    def revoke(self, session_key: str) -> bool:
        """End a session (logout); whether a live session was revoked."""
        with self._lock:
            now = self._now()
            cur = self._write(
                lambda conn: conn.execute(
                    "UPDATE sessions SET revoked_at=? WHERE session_key=? AND revoked_at IS NULL",
                    (now, session_key),
                )
            )
            return cur.rowcount == 1

    def revoked_since(self, since: int) -> dict[str, int]:
        """``{session_key: revoked_at}`` of the sessions revoked at or after ``since``
        (what verify-hub publishes for the other services to refuse)."""
        with self._lock:
            rows = self._read(
                lambda conn: conn.execute(
                    "SELECT session_key, revoked_at FROM sessions "
                    "WHERE revoked_at IS NOT NULL AND revoked_at >= ?",
                    (since,),
                ).fetchall()
            )
        return {str(key): int(at) for key, at in rows}

    def prune(self) -> int:
        """Drop expired sessions and one-time values now; how many rows went."""
        with self._lock:
            self._last_prune = self._clock()
            return self._prune_locked(self._now())

    def counts(self) -> dict[str, int]:
        """Rows per table (for logs and tests)."""
        with self._lock:
            sessions, used = self._read(
                lambda conn: (
                    conn.execute("SELECT COUNT(*) FROM sessions").fetchone()[0],
                    conn.execute("SELECT COUNT(*) FROM used_once").fetchone()[0],
                )
            )
        return {"sessions": int(sessions), "used_once": int(used)}
