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

**Usage and limits.**  Every row has an *account*, the user it counts against: a key under
``users/<name>/`` is ``users/<name>/``'s; another key is the account of whoever created it
with a :class:`Quota` (its ``payer``, e.g. a user writing the routing record of his own
app), else none.  The store keeps, per account and in the same transaction as the write,
the bytes (key + value, UTF-8; a deleted key keeps its row, so its key still counts) and
the number of live keys (:meth:`Store.usage`).  A write given a ``quota`` (an ordinary,
not zone-trusted caller) is refused when it would take an account beyond
``quota.max_bytes``/``max_keys`` (:class:`QuotaExceededError`), and, on a store with
``max_bytes``, when the store would grow past ``max_bytes - reserve_bytes``
(:class:`StoreFullError`): the reserve stays for deletes and for the zone's own writes.
A write that does not grow an account is never refused for room: a delete always works.
"""

from __future__ import annotations

import abc
import enum
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableSequence, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from buckyos.runtime.wire import dumps_text, loads_strict

from .jsonpath import JsonPathError, set_by_path
from .keys import is_meta_key, user_account_of

__all__ = [
    "Change",
    "Check",
    "CommitListener",
    "Entry",
    "InvalidValueError",
    "KeyExistsError",
    "KeyNotFoundError",
    "OpKind",
    "Quota",
    "QuotaExceededError",
    "RevisionMismatchError",
    "SqliteStore",
    "Store",
    "StoreError",
    "StoreFullError",
    "TxOp",
    "Usage",
    "apply_op",
    "format_size",
    "reserve_of",
]

_log = logging.getLogger("buckyos.services.system_config.store")


def format_size(size: int, *, exact: bool = False) -> str:
    """``512 bytes``, ``250.3 KiB``, ``64.0 MiB``; ``exact`` drops a ``.0`` (for limits)."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            text = f"{size / scale:.1f}"
            if exact and text.endswith(".0"):
                text = text[:-2]
            return f"{text} {unit}"
    return f"{size} bytes"


def reserve_of(max_bytes: int | None, reserve_bytes: int | None) -> int:
    """A store's reserve for ``max_bytes``/``reserve_bytes`` (both stores take them): 0
    without a cap, a tenth of it by default; a ``ValueError`` for a cap that is not positive
    or a reserve not below it."""
    if max_bytes is not None and max_bytes <= 0:
        raise ValueError(f"max_bytes must be a positive number of bytes, not {max_bytes}")
    if reserve_bytes is not None and (max_bytes is None or not 0 <= reserve_bytes < max_bytes):
        raise ValueError(
            f"reserve_bytes ({reserve_bytes}) needs max_bytes and must be below it ({max_bytes})"
        )
    if max_bytes is None:
        return 0
    return max_bytes // 10 if reserve_bytes is None else reserve_bytes


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


class QuotaExceededError(StoreError):
    """The write would take an account beyond its quota; nothing was written."""

    def __init__(self, account: str, what: str, used: int, adds: int, limit: int) -> None:
        if what == "keys":
            amounts = f"{used} of {limit} keys used, this write adds {adds}"
            option = "--user-quota-keys"
        else:
            amounts = (
                f"{format_size(used)} of {format_size(limit, exact=True)} used, "
                f"this write adds {format_size(adds)}"
            )
            option = "--user-quota-bytes"
        super().__init__(
            f"quota exceeded for {account}: {amounts}; "
            f"delete keys or ask the admin to raise {option}"
        )
        self.account = account
        self.what = what


class StoreFullError(StoreError):
    """The store has no room for this write; nothing was written."""


@dataclass(frozen=True, slots=True)
class Usage:
    """What one account holds: bytes (keys + values, UTF-8) and live keys."""

    bytes: int = 0
    keys: int = 0


@dataclass(frozen=True, slots=True)
class Quota:
    """The limits of an ordinary (not zone-trusted) write.

    ``payer`` is the account a row created outside ``users/`` counts against (the caller's
    ``users/<name>/``); each account the write grows must stay within ``max_bytes`` and
    ``max_keys``, and the write must fit below the store's reserve.
    """

    payer: str | None
    max_bytes: int
    max_keys: int


@dataclass(frozen=True, slots=True)
class Entry:
    """A stored value and its revision."""

    value: str
    revision: int


@dataclass(frozen=True, slots=True)
class Change:
    """One key as a committed write left it: its new revision and value (``None``:
    deleted).  What :meth:`Store.on_commit` listeners get, one per key written."""

    key: str
    revision: int
    value: str | None


CommitListener = Callable[[Sequence[Change] | None], None]
"""Called with the changes of each commit, in commit order; ``None`` when changes were
missed (the etcd copy was listed again after a compaction): re-read what you follow."""


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
        new = dumps_text(document)
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
    def usage(self, account: str) -> Usage:
        """What ``account`` (``users/<name>/``) holds now."""

    @abc.abstractmethod
    def row_account(self, key: str) -> tuple[bool, str | None]:
        """Whether ``key`` has a row (live or deleted), and the account it counts against
        (``None``: none, e.g. a row the zone created)."""

    @abc.abstractmethod
    def transaction(
        self,
        ops: Mapping[str, TxOp],
        *,
        main_key: tuple[str, int] | None = None,
        check: Check | None = None,
        quota: Quota | None = None,
    ) -> dict[str, int]:
        """Apply ``ops`` atomically: all or nothing; the new revision of each key written.

        ``main_key`` ``(key, revision)``: refuse with :class:`RevisionMismatchError` unless
        ``key`` is at that revision, and bump it.  ``check`` sees every new value first.
        ``quota`` (an ordinary caller's write): refuse with :class:`QuotaExceededError` or
        :class:`StoreFullError` a write that grows an account beyond it or the store into
        its reserve; ``None`` (a zone-trusted write) is held to the store's hard size only.
        """

    def close(self) -> None:  # noqa: B027 - optional for stores without resources
        """Release the store's resources."""

    def on_change(self, listener: Callable[[Sequence[str]], None]) -> None:  # noqa: B027
        """Call ``listener`` with the keys other writers (other nodes) change; a store only
        this process writes (SQLite) has none, so by default nothing is ever called."""

    @abc.abstractmethod
    def on_commit(self, listener: CommitListener) -> None:
        """Call ``listener`` with the :class:`Change` list of every committed write (this
        process's and, on a shared store, every node's), in commit order, from the thread
        that commits (SQLite, under the store's lock) or applies it (etcd's watch).  A
        listener must be quick and must not call the store; its exceptions are logged."""

    # -- single-key writes, each one transaction

    def write(
        self, key: str, op: TxOp, *, check: Check | None = None, quota: Quota | None = None
    ) -> int:
        """``op`` on ``key`` alone, as one transaction; the key's new revision."""
        return self.transaction({key: op}, check=check, quota=quota)[key]

    def set(
        self, key: str, value: str, *, check: Check | None = None, quota: Quota | None = None
    ) -> int:
        return self.write(key, TxOp(OpKind.UPDATE, value), check=check, quota=quota)

    def create(
        self, key: str, value: str, *, check: Check | None = None, quota: Quota | None = None
    ) -> int:
        return self.write(key, TxOp(OpKind.CREATE, value), check=check, quota=quota)

    def delete(self, key: str, *, check: Check | None = None, quota: Quota | None = None) -> int:
        return self.write(key, TxOp(OpKind.DELETE), check=check, quota=quota)

    def append(
        self, key: str, value: str, *, check: Check | None = None, quota: Quota | None = None
    ) -> int:
        return self.write(key, TxOp(OpKind.APPEND, value), check=check, quota=quota)

    def set_by_path(
        self,
        key: str,
        path: str,
        value: Any,
        *,
        check: Check | None = None,
        quota: Quota | None = None,
    ) -> int:
        op = TxOp(OpKind.SET_PATHS, paths=((path, value),))
        return self.write(key, op, check=check, quota=quota)


_SCHEMA_VERSION: Final = 2
"""1: ``config(key, value, revision)``; 2 adds ``config.account`` and ``usage``."""


def tell_commit(listeners: Sequence[CommitListener], changes: Sequence[Change] | None) -> None:
    """Give ``changes`` (``None``: some were missed) to each listener; log what raises."""
    if changes is not None and not changes:
        return
    for listener in list(listeners):
        try:
            listener(changes)
        except Exception:
            _log.exception("a store commit listener failed")


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


def _size(key: str, value: str | None) -> int:
    """What a row counts for: its key and value in UTF-8 (a deleted key: its key)."""
    return len(key.encode("utf-8")) + (0 if value is None else len(value.encode("utf-8")))


class _Delta:
    """How one transaction changes each account."""

    __slots__ = ("accounts", "total")

    def __init__(self) -> None:
        self.accounts: dict[str, list[int]] = {}
        self.total = 0

    def add(self, account: str | None, size: int, keys: int) -> None:
        self.total += size
        if account is not None:
            entry = self.accounts.setdefault(account, [0, 0])
            entry[0] += size
            entry[1] += keys


class SqliteStore(Store):
    """The default store: one SQLite file, WAL, ``synchronous=FULL``, one transaction per
    write.  One connection behind a lock: writes are serialised, as upstream's are.

    ``max_bytes`` caps the database file (SQLite's ``max_page_count``: beyond it even a
    zone-trusted write is refused, as on a full disk); ordinary writes (those given a
    :class:`Quota`) stop ``reserve_bytes`` earlier (default: a tenth of ``max_bytes``), so
    that deletes and the zone's own writes (verify-hub's revocations, the scheduler, the
    owner fixing things) still have room when users filled the rest.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        max_bytes: int | None = None,
        reserve_bytes: int | None = None,
    ) -> None:
        self.path = Path(path)
        self.reserve_bytes = reserve_of(max_bytes, reserve_bytes)
        self.max_bytes = max_bytes
        self._page_size = 4096
        self._lock = threading.Lock()
        self._commit_listeners: list[CommitListener] = []
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
        if version < _SCHEMA_VERSION:
            db.execute("BEGIN IMMEDIATE")
            try:
                self._migrate(version)
                db.execute(f"PRAGMA user_version={_SCHEMA_VERSION}")
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        self._page_size = int(db.execute("PRAGMA page_size").fetchone()[0])
        if self.max_bytes is not None:
            # Per connection, not stored: the cap is the option of this process.  SQLite
            # never sets it below the pages the file already has.
            db.execute(f"PRAGMA max_page_count={max(1, self.max_bytes // self._page_size)}")

    def _migrate(self, version: int) -> None:
        db = self._db
        if version == 0:
            # A new file, or one written before the schema was versioned (same table).
            db.execute(
                "CREATE TABLE IF NOT EXISTS config ("
                " key TEXT PRIMARY KEY NOT NULL,"
                " value TEXT,"  # NULL: deleted, the row keeps the revision
                " revision INTEGER NOT NULL"
                ") WITHOUT ROWID"
            )
        # Version 2: each row's account, and the usage of each account, counted once here
        # and kept up to date by every write (in its transaction) from then on.
        db.execute("ALTER TABLE config ADD COLUMN account TEXT")
        db.execute(
            "CREATE TABLE usage ("
            " account TEXT PRIMARY KEY NOT NULL,"
            " bytes INTEGER NOT NULL,"
            " keys INTEGER NOT NULL"
            ") WITHOUT ROWID"
        )
        totals: dict[str, list[int]] = {}
        rows = db.execute(
            "SELECT key, value FROM config WHERE key >= ? AND key < ?", ("users/", "users0")
        ).fetchall()
        for key, value in rows:
            account = user_account_of(key)
            if account is None:
                continue
            db.execute("UPDATE config SET account = ? WHERE key = ?", (account, key))
            entry = totals.setdefault(account, [0, 0])
            entry[0] += _size(key, value)
            entry[1] += value is not None
        db.executemany(
            "INSERT INTO usage (account, bytes, keys) VALUES (?, ?, ?)",
            ((account, size, keys) for account, (size, keys) in totals.items()),
        )
        if rows:
            _log.info("config store %s: usage of %d accounts counted", self.path, len(totals))

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

    def usage(self, account: str) -> Usage:
        rows = self._read("SELECT bytes, keys FROM usage WHERE account = ?", (account,))
        return Usage(int(rows[0][0]), int(rows[0][1])) if rows else Usage()

    def row_account(self, key: str) -> tuple[bool, str | None]:
        rows = self._read("SELECT account FROM config WHERE key = ?", (key,))
        return (True, rows[0][0]) if rows else (False, None)

    def used_bytes(self) -> int:
        """Bytes of the database file in use (its pages, less the free ones)."""
        with self._lock:
            return self._used_bytes()

    def _used_bytes(self) -> int:
        pages = int(self._db.execute("PRAGMA page_count").fetchone()[0])
        free = int(self._db.execute("PRAGMA freelist_count").fetchone()[0])
        return (pages - free) * self._page_size

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
        return _children(below, self._child_keys(below))

    def _child_keys(self, below: str) -> Iterator[str]:
        """One key per child of ``below``, in key order, without reading the keys under
        each child (a skip-scan: ``list("users")`` costs the number of users, not keys).

        Keys of child ``c`` are ``below+c`` and ``below+c/...``; between those two, keys of
        other children that start with ``c`` (``c-x``, ``c!``) sort, so a child seen again
        means its ``/`` range was reached: skip to past it (``below+c0``).
        """
        upper = _upper_bound(below) if below else None
        cursor, inclusive = below, False
        seen: set[str] = set()
        sql = "SELECT key FROM config WHERE value IS NOT NULL AND key {op} ?{upper}"
        sql += " ORDER BY key LIMIT 1"
        bound = " AND key < ?" if upper is not None else ""
        after = sql.format(op=">", upper=bound)
        from_ = sql.format(op=">=", upper=bound)
        while True:
            args: tuple[str, ...] = (cursor,) if upper is None else (cursor, upper)
            rows = self._read(from_ if inclusive else after, args)
            if not rows:
                return
            key: str = rows[0][0]
            child = key[len(below) :].split("/", 1)[0]
            if child in seen:
                cursor, inclusive = f"{below}{child}0", True
                continue
            seen.add(child)
            yield key
            cursor, inclusive = key, False

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
        quota: Quota | None = None,
    ) -> dict[str, int]:
        with self._lock:
            db = self._db
            try:
                db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise self._error(exc) from exc
            changes: list[Change] = []
            try:
                revisions = self._write(ops, main_key, check, quota, changes)
                db.execute("COMMIT")
            except BaseException as exc:
                try:
                    db.execute("ROLLBACK")
                except sqlite3.Error:
                    pass  # the transaction is gone already (e.g. the disk failed)
                if isinstance(exc, sqlite3.Error):
                    raise self._error(exc) from exc
                raise
            # Under the lock: listeners see the commits in their order.
            tell_commit(self._commit_listeners, changes)
            return revisions

    def on_commit(self, listener: CommitListener) -> None:
        self._commit_listeners.append(listener)

    def _error(self, exc: sqlite3.Error) -> StoreError:
        if getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
            cap = ""
            if self.max_bytes is not None:
                cap = f" (capped at {format_size(self.max_bytes, exact=True)})"
            return StoreFullError(
                f"config store is full{cap} or its disk is: nothing was written; delete keys, "
                "free disk space or ask the admin to raise --max-db-bytes"
            )
        return StoreError(f"config store error: {exc}")

    def _row(self, key: str) -> tuple[str | None, int, str | None, bool]:
        """``(value, revision, account, exists)`` of a row (a deleted key's row exists)."""
        row = self._db.execute(
            "SELECT value, revision, account FROM config WHERE key = ?", (key,)
        ).fetchone()
        if row is None:
            return None, 0, None, False
        return row[0], int(row[1]), row[2], True

    def _write(
        self,
        ops: Mapping[str, TxOp],
        main_key: tuple[str, int] | None,
        check: Check | None,
        quota: Quota | None,
        changes: MutableSequence[Change],
    ) -> dict[str, int]:
        revisions: dict[str, int] = {}
        payer = None if quota is None else quota.payer
        delta = _Delta()
        guard_row: tuple[str, int, str | None] | None = None
        if main_key is not None:
            guard, expected = main_key
            _, actual, account, exists = self._row(guard)
            if actual != expected:
                raise RevisionMismatchError(guard, expected, actual)
            revisions[guard] = actual + 1
            if guard not in ops and not exists:
                # The guard's revision is kept in a row of its own (a deleted key's row).
                account = user_account_of(guard) or payer
                delta.add(account, _size(guard, None), 0)
                guard_row = (guard, actual + 1, account)
        values: dict[str, tuple[str | None, str | None]] = {}
        was: dict[str, str | None] = {}
        for key, op in ops.items():
            current, revision, account, exists = self._row(key)
            was[key] = current
            new = apply_op(key, op, current)
            # A key keeps the account it has; a new one (or one without) is its user's, or
            # else counts against whoever creates it.
            new_account = user_account_of(key) or account or payer
            if exists:
                delta.add(account, -_size(key, current), -(current is not None))
            delta.add(new_account, _size(key, new), new is not None)
            values[key] = (new, new_account)
            revisions.setdefault(key, revision + 1)
        if check is not None:
            for key, (value, _) in values.items():
                check(key, value)
        if quota is not None:
            self._check_quota(delta, quota)
        for key, (value, account) in values.items():
            self._db.execute(
                "INSERT INTO config (key, value, revision, account) VALUES (?, ?, ?, ?)"
                " ON CONFLICT(key) DO UPDATE SET value = excluded.value,"
                " revision = excluded.revision, account = excluded.account",
                (key, value, revisions[key], account),
            )
        for key, (value, _) in values.items():
            if value is not None or was[key] is not None:
                changes.append(Change(key, revisions[key], value))
        if main_key is not None and main_key[0] not in values:
            guard_value = self._row(main_key[0])[0]
            if guard_value is not None:  # a live guard: its revision moved, value kept
                changes.append(Change(main_key[0], revisions[main_key[0]], guard_value))
            if guard_row is not None:
                self._db.execute(
                    "INSERT INTO config (key, value, revision, account) VALUES (?, NULL, ?, ?)",
                    guard_row,
                )
            else:
                self._db.execute(
                    "UPDATE config SET revision = ? WHERE key = ?",
                    (revisions[main_key[0]], main_key[0]),
                )
        for account, (size, keys) in delta.accounts.items():
            if size or keys:
                self._db.execute(
                    "INSERT INTO usage (account, bytes, keys) VALUES (?, ?, ?)"
                    " ON CONFLICT(account) DO UPDATE SET bytes = bytes + excluded.bytes,"
                    " keys = keys + excluded.keys",
                    (account, size, keys),
                )
        if quota is not None and delta.total > 0 and self.max_bytes is not None:
            self._check_room()
        return revisions

    def _check_quota(self, delta: _Delta, quota: Quota) -> None:
        for account, (size, keys) in delta.accounts.items():
            if size <= 0 and keys <= 0:
                continue  # shrinking, or moving bytes around: always allowed
            row = self._db.execute(
                "SELECT bytes, keys FROM usage WHERE account = ?", (account,)
            ).fetchone()
            used_bytes, used_keys = (0, 0) if row is None else (int(row[0]), int(row[1]))
            if keys > 0 and used_keys + keys > quota.max_keys:
                raise QuotaExceededError(account, "keys", used_keys, keys, quota.max_keys)
            if size > 0 and used_bytes + size > quota.max_bytes:
                raise QuotaExceededError(account, "bytes", used_bytes, size, quota.max_bytes)

    def _check_room(self) -> None:
        """After an ordinary write that grew the store: refuse it if it reached the reserve.

        Measured on the file's pages (not the accounts): page overhead and deleted keys
        count, and the pages this transaction just took are in the count already.
        """
        assert self.max_bytes is not None
        soft = self.max_bytes - self.reserve_bytes
        used = self._used_bytes()
        if used > soft:
            raise StoreFullError(
                f"config store is nearly full: {format_size(used)} of "
                f"{format_size(self.max_bytes, exact=True)} used, the last "
                f"{format_size(self.reserve_bytes, exact=True)} are kept for deletes and zone "
                "services; delete keys or ask the admin to raise --max-db-bytes"
            )
