"""Where system_config keeps its keys: a small store interface and its SQLite implementation.

The verbs only talk to :class:`Store`: four primitives (``get``/``revision``, ``list``,
``dump`` and an atomic ``transaction``) that a distributed store such as etcd also has
(``txn`` with a revision compare), and the single-key writes built on ``transaction``.
Keys arrive normalised (see :mod:`.keys`); values are text.

Revisions follow upstream's sled store: every write of a key (create, set, append,
set-by-path, delete) bumps that key's revision by one, starting from 0 for a key never
written, so a first create gives 1; a delete keeps the revision (a later create goes on
from it); an ``exec_tx`` guarded by ``main_key`` checks that key's revision first and bumps
it too, written or not.

The error texts are upstream's ``KVStoreErrors`` (``key exist : K``, ``key not found : K``,
``revision mismatch for key K: expected E, actual A``); the service sends them as
``Failed due to reason: <text>``.

:class:`SqliteStore` runs every write as one SQLite transaction in WAL mode with
``synchronous=FULL``: once a write returned, it is on disk and survives a ``kill -9`` (or a
power cut).
"""

from __future__ import annotations

import abc
import enum
import sqlite3
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from .jsonpath import JsonPathError, dumps_compact, loads_strict, set_by_path
from .keys import is_meta_key

__all__ = [
    "Check",
    "Entry",
    "InvalidValueError",
    "KeyExistsError",
    "KeyNotFoundError",
    "OpKind",
    "RevisionMismatchError",
    "SqliteStore",
    "Store",
    "StoreError",
    "TxOp",
    "apply_op",
]

Check = Callable[[str, str | None], None]
"""Called with each written key and its new value (``None``: deleted) before the commit;
raising aborts the whole write, so nothing is stored."""


class StoreError(Exception):
    """A write or read the store refused; ``str(error)`` is the reason sent to the caller."""


class KeyExistsError(StoreError):
    def __init__(self, key: str) -> None:
        super().__init__(f"key exist : {key}")
        self.key = key


class KeyNotFoundError(StoreError):
    def __init__(self, key: str) -> None:
        super().__init__(f"key not found : {key}")
        self.key = key


class RevisionMismatchError(StoreError):
    def __init__(self, key: str, expected: int, actual: int) -> None:
        super().__init__(f"revision mismatch for key {key}: expected {expected}, actual {actual}")
        self.key = key
        self.expected = expected
        self.actual = actual


class InvalidValueError(StoreError):
    """A value the write cannot produce (not JSON, a path through a string, ...)."""


@dataclass(frozen=True, slots=True)
class Entry:
    """A stored value and its revision."""

    value: str
    revision: int


class OpKind(enum.Enum):
    CREATE = "create"
    """Write a key that must not exist."""
    UPDATE = "update"
    """Write a key, existing or not (``sys_config_set``, ``exec_tx`` ``update``)."""
    APPEND = "append"
    """Concatenate to an existing key's value."""
    SET_PATHS = "set_by_path"
    """Set paths inside an existing key's JSON value."""
    REMOVE = "remove"
    """Delete a key if it exists (``exec_tx`` ``remove``)."""
    DELETE = "delete"
    """Delete a key that must exist (``sys_config_delete``)."""


@dataclass(frozen=True, slots=True)
class TxOp:
    """One write of a transaction.

    ``value`` for create/update/append; ``paths`` for set_by_path: ``(path, json value)``
    pairs applied in order, :data:`~.jsonpath.REMOVE` as the value deletes that path.
    """

    kind: OpKind
    value: str | None = None
    paths: tuple[tuple[str, Any], ...] = ()

    def __post_init__(self) -> None:
        needs_value = self.kind in (OpKind.CREATE, OpKind.UPDATE, OpKind.APPEND)
        if needs_value and self.value is None:
            raise ValueError(f"a {self.kind.value} operation needs a value")


def apply_op(key: str, op: TxOp, current: str | None) -> str | None:
    """The value ``key`` has after ``op`` when it had ``current`` (``None``: absent).

    Pure, so every store implementation gives the same results and errors.
    """
    kind = op.kind
    new: str | None
    if kind is OpKind.CREATE:
        if current is not None:
            raise KeyExistsError(key)
        new = op.value
    elif kind is OpKind.UPDATE:
        new = op.value
    elif kind is OpKind.APPEND:
        if current is None:
            raise KeyNotFoundError(key)
        new = current + (op.value or "")
    elif kind is OpKind.SET_PATHS:
        if current is None:
            raise KeyNotFoundError(key)
        try:
            document = loads_strict(current)
        except ValueError as exc:
            raise InvalidValueError(
                f"the value of key {key} is not JSON ({exc}); set_by_json_path edits JSON values"
            ) from None
        try:
            for path, value in op.paths:
                document = set_by_path(document, path, value)
        except JsonPathError as exc:
            raise InvalidValueError(f"key {key}: {exc}") from None
        new = dumps_compact(document)
    elif kind is OpKind.DELETE:
        if current is None:
            raise KeyNotFoundError(key)
        new = None
    else:
        new = None
    if new is not None:
        try:
            new.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidValueError(
                f"the value for key {key} is not valid UTF-8 text (it holds a lone surrogate)"
            ) from None
    return new


class Store(abc.ABC):
    """The storage behind system_config.  Implementations must be thread-safe."""

    @abc.abstractmethod
    def get(self, key: str) -> Entry | None:
        """The value and revision of ``key``, or ``None`` when it is absent (or deleted)."""

    @abc.abstractmethod
    def revision(self, key: str) -> int:
        """The revision of ``key`` (0 if never written; a deleted key keeps its revision)."""

    @abc.abstractmethod
    def list(self, prefix: str) -> list[str]:
        """Names of the direct children of ``prefix`` (``""``: the root), in key order,
        without ``__meta``."""

    @abc.abstractmethod
    def dump(self, prefixes: Iterable[str]) -> dict[str, str]:
        """Every key (and value) starting with one of ``prefixes``, without ``__meta/``."""

    @abc.abstractmethod
    def transaction(
        self,
        ops: Mapping[str, TxOp],
        *,
        main_key: tuple[str, int] | None = None,
        check: Check | None = None,
    ) -> dict[str, int]:
        """Apply ``ops`` atomically: all or nothing; the new revision of each key written.

        ``main_key`` ``(key, revision)``: refuse with :class:`RevisionMismatchError` unless
        ``key`` is at that revision, and bump it.  ``check`` sees every new value first.
        """

    def close(self) -> None:  # noqa: B027 - optional for stores without resources
        """Release the store's resources."""

    # -- single-key writes, each one transaction

    def set(self, key: str, value: str, *, check: Check | None = None) -> int:
        return self.transaction({key: TxOp(OpKind.UPDATE, value)}, check=check)[key]

    def create(self, key: str, value: str, *, check: Check | None = None) -> int:
        return self.transaction({key: TxOp(OpKind.CREATE, value)}, check=check)[key]

    def delete(self, key: str, *, check: Check | None = None) -> int:
        return self.transaction({key: TxOp(OpKind.DELETE)}, check=check)[key]

    def append(self, key: str, value: str, *, check: Check | None = None) -> int:
        return self.transaction({key: TxOp(OpKind.APPEND, value)}, check=check)[key]

    def set_by_path(self, key: str, path: str, value: Any, *, check: Check | None = None) -> int:
        op = TxOp(OpKind.SET_PATHS, paths=((path, value),))
        return self.transaction({key: op}, check=check)[key]


_SCHEMA_VERSION: Final = 1


def _children(prefix: str, keys: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    start = len(prefix)
    for key in keys:
        if is_meta_key(key):
            continue
        child = key[start:].split("/", 1)[0]
        if child:
            seen.setdefault(child, None)
    return list(seen)


def _upper_bound(prefix: str) -> str:
    # Every key starting with "p/" sorts below "p0" ('0' follows '/'), in SQLite's
    # BINARY collation (UTF-8 bytes) as in Python's code-point order.
    return prefix[:-1] + "0"


class SqliteStore(Store):
    """The default store: one SQLite file, WAL, ``synchronous=FULL``, one transaction per
    write.  One connection behind a lock: writes are serialised, as upstream's are."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(
                str(self.path), isolation_level=None, check_same_thread=False, timeout=10.0
            )
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open config store {self.path}: {exc}") from exc
        try:
            self._setup()
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise StoreError(
                f"cannot open config store {self.path}: {exc} (is it a system_config SQLite file?)"
            ) from exc
        except StoreError:
            self._db.close()
            raise

    def _setup(self) -> None:
        db = self._db
        mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise StoreError(
                f"config store {self.path}: SQLite refused WAL mode ({mode}); "
                "put the file on a local file system"
            )
        db.execute("PRAGMA synchronous=FULL")
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > _SCHEMA_VERSION:
            raise StoreError(
                f"config store {self.path} has schema version {version}; this program knows "
                f"up to {_SCHEMA_VERSION} (use a newer buckyos)"
            )
        db.execute(
            "CREATE TABLE IF NOT EXISTS config ("
            " key TEXT PRIMARY KEY NOT NULL,"
            " value TEXT,"  # NULL: deleted, the row keeps the revision
            " revision INTEGER NOT NULL"
            ") WITHOUT ROWID"
        )
        if version == 0:
            db.execute(f"PRAGMA user_version={_SCHEMA_VERSION}")

    def __repr__(self) -> str:
        return f"<SqliteStore {self.path}>"

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- reads

    def _read(self, sql: str, args: tuple[Any, ...]) -> list[Any]:
        with self._lock:
            try:
                return self._db.execute(sql, args).fetchall()
            except sqlite3.Error as exc:
                raise StoreError(f"config store error: {exc}") from exc

    def get(self, key: str) -> Entry | None:
        rows = self._read("SELECT value, revision FROM config WHERE key = ?", (key,))
        if not rows or rows[0][0] is None:
            return None
        return Entry(rows[0][0], rows[0][1])

    def revision(self, key: str) -> int:
        rows = self._read("SELECT revision FROM config WHERE key = ?", (key,))
        return int(rows[0][0]) if rows else 0

    def _scan(self, prefix: str) -> list[tuple[str, str]]:
        if not prefix:
            sql = "SELECT key, value FROM config WHERE value IS NOT NULL ORDER BY key"
            return [(k, v) for k, v in self._read(sql, ())]
        sql = (
            "SELECT key, value FROM config"
            " WHERE value IS NOT NULL AND key > ? AND key < ? ORDER BY key"
        )
        return [(k, v) for k, v in self._read(sql, (prefix, _upper_bound(prefix)))]

    def list(self, prefix: str) -> list[str]:
        below = f"{prefix}/" if prefix and not prefix.endswith("/") else prefix
        return _children(below, (key for key, _ in self._scan(below)))

    def dump(self, prefixes: Iterable[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for prefix in prefixes:
            for key, value in self._scan(prefix):
                if not is_meta_key(key) and key.startswith(prefix):
                    out[key] = value
        return out

    # -- writes

    def transaction(
        self,
        ops: Mapping[str, TxOp],
        *,
        main_key: tuple[str, int] | None = None,
        check: Check | None = None,
    ) -> dict[str, int]:
        with self._lock:
            db = self._db
            try:
                db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise StoreError(f"config store error: {exc}") from exc
            try:
                revisions = self._write(ops, main_key, check)
                db.execute("COMMIT")
            except BaseException as exc:
                try:
                    db.execute("ROLLBACK")
                except sqlite3.Error:
                    pass  # the transaction is gone already (e.g. the disk failed)
                if isinstance(exc, sqlite3.Error):
                    raise StoreError(f"config store error: {exc}") from exc
                raise
            return revisions

    def _row(self, key: str) -> tuple[str | None, int]:
        row = self._db.execute(
            "SELECT value, revision FROM config WHERE key = ?", (key,)
        ).fetchone()
        return (None, 0) if row is None else (row[0], int(row[1]))

    def _write(
        self, ops: Mapping[str, TxOp], main_key: tuple[str, int] | None, check: Check | None
    ) -> dict[str, int]:
        revisions: dict[str, int] = {}
        if main_key is not None:
            guard, expected = main_key
            actual = self._row(guard)[1]
            if actual != expected:
                raise RevisionMismatchError(guard, expected, actual)
            revisions[guard] = actual + 1
        values: dict[str, str | None] = {}
        for key, op in ops.items():
            current, revision = self._row(key)
            values[key] = apply_op(key, op, current)
            revisions.setdefault(key, revision + 1)
        if check is not None:
            for key, value in values.items():
                check(key, value)
        for key, value in values.items():
            self._db.execute(
                "INSERT INTO config (key, value, revision) VALUES (?, ?, ?)"
                " ON CONFLICT(key) DO UPDATE SET value = excluded.value,"
                " revision = excluded.revision",
                (key, value, revisions[key]),
            )
        if main_key is not None and main_key[0] not in values:
            self._db.execute(
                "INSERT INTO config (key, value, revision) VALUES (?, NULL, ?)"
                " ON CONFLICT(key) DO UPDATE SET revision = excluded.revision",
                (main_key[0], revisions[main_key[0]]),
            )
        return revisions
