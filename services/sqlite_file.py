"""One SQLite file a service keeps its state in: opened the same way, written the same way.

verify-hub's sessions, task-manager's tasks and kmsg's queues each live in one SQLite file
that this module opens: created with its folder when missing, WAL with
``synchronous=FULL`` (the WAL is fsynced at each commit, so an answered change survives a
``kill -9`` or a power cut), a 5 s busy timeout, the schema created in one transaction and
its version checked (older versions migrated when the service knows how).  Writes run as
one ``BEGIN IMMEDIATE ... COMMIT`` each (:func:`write`): a failure rolls back everything
the body did, without the rollback's own error hiding the first one (SQLite rolls back by
itself on ``SQLITE_FULL``/``SQLITE_IOERR``, and a second ``ROLLBACK`` then fails).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TypeVar

from buckyos.runtime import ConfigError

__all__ = ["open_sqlite", "read_pragma", "rollback", "write"]

_log = logging.getLogger("buckyos.services.sqlite_file")

T = TypeVar("T")


def open_sqlite(
    path: Path,
    *,
    what: str,
    option: str,
    schema: Sequence[str],
    version: str,
    migrations: Mapping[str, Sequence[str]] | None = None,
) -> sqlite3.Connection:
    """The connection to ``path`` (autocommit: every change opens its own transaction),
    set up as the module docstring says.

    ``what`` names the file in errors (``verify-hub state file``), ``option`` the command
    line option that chose it (``--state``); ``migrations`` maps an older schema version
    to the statements that bring it to ``version``.  A file that cannot be opened or is not
    this service's is a :class:`ConfigError` saying what to do.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    except (OSError, sqlite3.Error) as err:
        raise ConfigError(f"cannot open {what} {path}: {err}") from err
    try:
        _setup(conn, path, what, schema, version, migrations or {})
    except sqlite3.Error as err:
        conn.close()
        raise ConfigError(
            f"{what} {path} is not usable ({err}); point {option} at a new file or at one "
            "this service wrote"
        ) from err
    return conn


def _setup(
    conn: sqlite3.Connection,
    path: Path,
    what: str,
    schema: Sequence[str],
    version: str,
    migrations: Mapping[str, Sequence[str]],
) -> None:
    mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise sqlite3.OperationalError(f"journal_mode WAL refused (got {mode})")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA busy_timeout=5000")
    conn.execute("BEGIN IMMEDIATE")
    try:
        for statement in schema:
            conn.execute(statement)
        row = conn.execute("SELECT value FROM meta WHERE name='schema'").fetchone()
        if row is None:
            conn.execute("INSERT INTO meta VALUES ('schema', ?)", (version,))
        elif row[0] in migrations:
            for statement in migrations[row[0]]:
                conn.execute(statement)
            conn.execute("UPDATE meta SET value=? WHERE name='schema'", (version,))
            _log.info("%s %s migrated from schema %s to %s", what, path, row[0], version)
        elif row[0] != version:
            known = f" (and migrates {', '.join(sorted(migrations))})" if migrations else ""
            raise sqlite3.DatabaseError(
                f"schema version {row[0]}, this service knows {version}{known}"
            )
        conn.execute("COMMIT")
    except BaseException:
        rollback(conn)
        raise


def rollback(conn: sqlite3.Connection) -> None:
    """Undo an open transaction without hiding the error that got us here: roll back only
    what is open, and only log a failure to."""
    if not conn.in_transaction:
        return
    try:
        conn.execute("ROLLBACK")
    except sqlite3.Error as err:
        _log.error("rollback failed (the first error stands): %s", err)


def write(
    conn: sqlite3.Connection,
    body: Callable[[sqlite3.Connection], T],
    failed: Callable[[sqlite3.Error], Exception],
) -> T:
    """Run ``body`` in one immediate transaction (the caller holds its lock); anything it
    raises rolls everything back, and a SQLite failure is raised as ``failed(err)``."""
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = body(conn)
            conn.execute("COMMIT")
        except BaseException:
            rollback(conn)
            raise
    except sqlite3.Error as err:
        raise failed(err) from err
    return result


def read_pragma(conn: sqlite3.Connection, name: str) -> object:
    """``PRAGMA <name>`` (checks and logs: ``synchronous`` must be 2, FULL;
    ``journal_mode`` ``wal``); a name that is not an identifier is a ``ValueError``."""
    if not name.isidentifier():
        raise ValueError(f"not a pragma name: {name!r}")
    row = conn.execute(f"PRAGMA {name}").fetchone()
    return None if row is None else row[0]
