"""system_config storage: key rules, JSON paths, and the store's contract on both backends.

The ``store`` tests run against :class:`SqliteStore` (a real file) and :class:`EtcdStore`
(a real etcd on free loopback ports, started once for this module, each test under a
prefix of its own); tests of one backend's own matters name it.

Revision and error texts are upstream's (``sys_config_service`` ``kv_provider.rs`` and
``sled_provider.rs``), written out literally.
"""

from __future__ import annotations

import contextlib
import random
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from buckyos.runtime.errors import ReasonError
from buckyos.services.system_config.etcd_store import EtcdStore
from buckyos.services.system_config.jsonpath import REMOVE, JsonPathError, set_by_path, split_path
from buckyos.services.system_config.keys import is_meta_key, normalize_key, reloads_security
from buckyos.services.system_config.store import (
    Entry,
    InvalidValueError,
    KeyExistsError,
    KeyNotFoundError,
    OpKind,
    Quota,
    QuotaExceededError,
    RevisionMismatchError,
    SqliteStore,
    Store,
    StoreError,
    StoreFullError,
    TxOp,
    Usage,
)
from tests.etcd import EtcdMember


class Backend:
    """Opens (and opens again) one store of one kind: a SQLite file or an etcd prefix."""

    def __init__(self, kind: str, tmp_path: Path, member: EtcdMember | None) -> None:
        self.kind = kind
        self.path = tmp_path / "config.db"
        self.member = member
        self.prefix = f"/test/{uuid.uuid4().hex}/"

    def open(self) -> Store:
        if self.member is not None:
            return EtcdStore(self.member.url, prefix=self.prefix)
        return SqliteStore(self.path)

    def rows(self, store: Store) -> list[tuple[str, str | None]]:
        """Every row (a deleted key's value: None), read from the backend itself."""
        if isinstance(store, EtcdStore):
            return list(store.rows().items())
        return _raw_rows(self.path)


@pytest.fixture(params=["sqlite", "etcd"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    member = request.getfixturevalue("etcd_member") if request.param == "etcd" else None
    return Backend(request.param, tmp_path, member)


@pytest.fixture
def store(backend: Backend) -> Iterator[Store]:
    opened = backend.open()
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[SqliteStore]:
    opened = SqliteStore(tmp_path / "config.db")
    try:
        yield opened
    finally:
        opened.close()


# --------------------------------------------------------------------------- keys


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("users/alice/settings", "users/alice/settings"),
        ("obj://config/boot/config", "boot/config"),
        ("obj://config/obj://config/boot/config", "boot/config"),
        ("/config/system/rbac/policy", "system/rbac/policy"),
        ("kv://users/alice/doc", "users/alice/doc"),
        ("///users//alice/./settings/", "users/alice/settings"),
        ("users/alice/../bob/settings", "users/bob/settings"),
        ("\\users\\alice", "users/alice"),
        ("users/did:bns:demo.root/x", "users/did:bns:demo.root/x"),
    ],
)
def test_normalize_key(raw: str, key: str) -> None:
    assert normalize_key(raw) == key


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (
            "../boot/config",
            "Failed due to reason: invalid key \"../boot/config\": '..' climbs above the root of the config tree",
        ),
        (
            "users/../../x",
            "Failed due to reason: invalid key \"users/../../x\": '..' climbs above the root of the config tree",
        ),
        (
            "users/alice\n",
            'Failed due to reason: invalid key "users/alice\\x0a": control character \\x0a at position 11 is not allowed in a key',
        ),
        (
            "a\x7fb",
            'Failed due to reason: invalid key "a\\x7fb": control character \\x7f at position 1 is not allowed in a key',
        ),
        (
            "obj://config/",
            'Failed due to reason: invalid key "obj://config/": it names the root, not an entry (a key looks like users/alice/settings)',
        ),
        (
            "a" * 300 + "\x00",
            f'Failed due to reason: invalid key "{"a" * 256}"... (301 characters): control character \\x00 at position 300 is not allowed in a key',
        ),
        (
            "users/\ud800",
            'Failed due to reason: invalid key "users/\\ud800": a key must be valid UTF-8 text (it holds a lone surrogate)',
        ),
    ],
)
def test_normalize_key_refusals(raw: str, text: str) -> None:
    with pytest.raises(ReasonError) as caught:
        normalize_key(raw)
    assert str(caught.value) == text


def test_root_only_where_allowed_and_meta_and_reload_keys() -> None:
    assert normalize_key("/", allow_root=True) == ""
    assert normalize_key("obj://config/", allow_root=True) == ""
    assert is_meta_key("__meta") and is_meta_key("__meta/revision/x")
    assert not is_meta_key("users/__meta/x") and not is_meta_key("__metadata")
    assert normalize_key("a/../__meta/x") == "__meta/x"  # caught by the verbs after normalising
    assert reloads_security("boot/config") and reloads_security("system/rbac/policy")
    assert reloads_security("devices/ood1/doc")
    assert not reloads_security("boot/config2") and not reloads_security("devices/ood1/info")


# --------------------------------------------------------------------------- JSON paths


def test_split_path_quotes_and_escapes() -> None:
    assert split_path("/a/b/c") == ["a", "b", "c"]
    assert split_path('/a/"b/c"/d') == ["a", "b/c", "d"]
    assert split_path('/a/\\"x') == ["a", '"x']
    assert split_path("//a/ b /") == ["a", "b"]
    assert split_path("") == [] and split_path("/") == []


def test_set_by_path_creates_removes_and_refuses() -> None:
    doc = {"a": {"keep": 1}, "s": "text"}
    assert set_by_path(doc, "/a/b/c", 2) == {"a": {"keep": 1, "b": {"c": 2}}, "s": "text"}
    assert doc == {"a": {"keep": 1}, "s": "text"}  # the input is not modified
    assert set_by_path(doc, "/a/keep", REMOVE) == {"a": {}, "s": "text"}
    assert set_by_path(doc, "/", [1]) == [1]
    with pytest.raises(JsonPathError) as caught:
        set_by_path(doc, "/s/x", 1)
    assert str(caught.value) == "cannot set /s/x: /s is a string, not an object"
    with pytest.raises(JsonPathError) as caught:
        set_by_path([1], "/x", 1)
    assert str(caught.value) == "cannot set /x: the value is an array, not an object"


# --------------------------------------------------------------------------- the store, both backends


def test_revisions_follow_upstream(store: Store) -> None:
    key = "users/alice/profile"
    assert store.revision(key) == 0
    assert store.create(key, '{"name":"alice"}') == 1
    assert store.set(key, '{"name":"alice-2"}') == 2
    assert store.set_by_path(key, "/name", "alice-3") == 3
    assert store.get(key) == Entry('{"name":"alice-3"}', 3)
    assert store.append(key, " ") == 4
    assert store.delete(key) == 5
    assert store.get(key) is None
    assert store.revision(key) == 5  # delete keeps the revision
    assert store.create(key, "again") == 6


def test_store_error_texts(store: Store) -> None:
    store.create("a/b", "1")
    cases: list[tuple[type[StoreError], str, TxOp]] = [
        (KeyExistsError, "key exist : a/b", TxOp(OpKind.CREATE, "2")),
        (KeyNotFoundError, "key not found : a/missing", TxOp(OpKind.DELETE)),
        (KeyNotFoundError, "key not found : a/missing", TxOp(OpKind.APPEND, "x")),
        (KeyNotFoundError, "key not found : a/missing", TxOp(OpKind.SET_PATHS, paths=(("/x", 1),))),
    ]
    for kind, text, op in cases:
        key = "a/b" if kind is KeyExistsError else "a/missing"
        with pytest.raises(kind) as caught:
            store.transaction({key: op})
        assert str(caught.value) == text
    assert store.get("a/b") == Entry("1", 1)
    assert store.revision("a/missing") == 0


def test_set_by_path_on_a_value_that_is_not_json(store: Store) -> None:
    store.set("k/plain", "not json")
    with pytest.raises(InvalidValueError) as caught:
        store.set_by_path("k/plain", "/a", 1)
    assert str(caught.value).startswith("the value of key k/plain is not JSON (")
    store.set("k/obj", '{"s":"x"}')
    with pytest.raises(InvalidValueError) as caught:
        store.set_by_path("k/obj", "/s/t", 1)
    assert str(caught.value) == "key k/obj: cannot set /s/t: /s is a string, not an object"
    assert store.get("k/plain") == Entry("not json", 1)
    assert store.get("k/obj") == Entry('{"s":"x"}', 1)


def test_transaction_is_all_or_nothing(store: Store) -> None:
    store.create("t/exists", "old")
    ops = {
        "t/new": TxOp(OpKind.CREATE, "n"),
        "t/upd": TxOp(OpKind.UPDATE, "u"),
        "t/exists": TxOp(OpKind.CREATE, "clash"),
    }
    with pytest.raises(KeyExistsError):
        store.transaction(ops)
    assert store.get("t/new") is None and store.get("t/upd") is None
    assert store.get("t/exists") == Entry("old", 1)
    assert store.revision("t/new") == 0

    def refuse(key: str, value: str | None) -> None:
        if key == "t/upd":
            raise InvalidValueError("refused by the check")

    with pytest.raises(InvalidValueError):
        store.transaction(
            {"t/new": TxOp(OpKind.CREATE, "n"), "t/upd": TxOp(OpKind.UPDATE, "u")}, check=refuse
        )
    assert store.get("t/new") is None and store.get("t/upd") is None

    revisions = store.transaction(
        {
            "t/new": TxOp(OpKind.CREATE, "n"),
            "t/exists": TxOp(OpKind.APPEND, "+"),
            "t/gone": TxOp(OpKind.REMOVE),  # removing a missing key is fine in a transaction
        }
    )
    assert revisions == {"t/new": 1, "t/exists": 2, "t/gone": 1}
    assert store.get("t/exists") == Entry("old+", 2)


def test_main_key_guard(store: Store) -> None:
    store.create("users/alice/guard", "v1")
    store.transaction(
        {"users/alice/data": TxOp(OpKind.CREATE, "payload-1")}, main_key=("users/alice/guard", 1)
    )
    assert store.revision("users/alice/guard") == 2  # bumped although not written
    assert store.get("users/alice/guard") == Entry("v1", 2)
    with pytest.raises(RevisionMismatchError) as caught:
        store.transaction(
            {"users/alice/data": TxOp(OpKind.UPDATE, "payload-2")},
            main_key=("users/alice/guard", 1),
        )
    assert str(caught.value) == "revision mismatch for key users/alice/guard: expected 1, actual 2"
    assert store.get("users/alice/data") == Entry("payload-1", 1)
    # A guard that was never written is at revision 0.
    store.transaction({"x/y": TxOp(OpKind.UPDATE, "1")}, main_key=("x/guard", 0))
    assert store.revision("x/guard") == 1 and store.get("x/guard") is None


def test_list_direct_children_and_dump(store: Store) -> None:
    for key in (
        "users/bob/settings",
        "users/alice/settings",
        "users/alice/apps/notes/settings",
        "users0/x",
        "users.x",
        "boot/config",
        "__meta/revision/users/alice/settings",
    ):
        store.set(key, key.upper())
    store.set("users/carol/doc", "c")
    store.delete("users/carol/doc")
    assert store.list("users") == ["alice", "bob"]
    assert store.list("users/") == ["alice", "bob"]
    assert store.list("users/alice") == ["apps", "settings"]
    assert store.list("users/alice/settings") == []
    # key order ("users.x" < "users/..." < "users0/..."), __meta hidden
    assert store.list("") == ["boot", "users.x", "users", "users0"]
    assert store.dump(("users/", "boot/", "__meta/")) == {
        "users/alice/apps/notes/settings": "USERS/ALICE/APPS/NOTES/SETTINGS",
        "users/alice/settings": "USERS/ALICE/SETTINGS",
        "users/bob/settings": "USERS/BOB/SETTINGS",
        "boot/config": "BOOT/CONFIG",
    }


def test_reopen_keeps_everything_and_sets_wal(tmp_path: Path) -> None:
    path = tmp_path / "config.db"
    first = SqliteStore(path)
    first.create("a/b", "1")
    first.set("a/b", "2")
    first.close()
    second = SqliteStore(path)
    try:
        assert second.get("a/b") == Entry("2", 2)
    finally:
        second.close()
    raw = sqlite3.connect(path)
    try:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        raw.close()


def test_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "config.db"
    path.write_bytes(b"this is not sqlite, just some text that is long enough" * 20)
    with pytest.raises(StoreError) as caught:
        SqliteStore(path)
    assert str(caught.value) == (
        f"cannot open config store {path}: file is not a database "
        "(is it a system_config SQLite file?)"
    )


def test_lone_surrogate_value_is_refused(store: Store) -> None:
    with pytest.raises(InvalidValueError) as caught:
        store.set("a/b", "x\ud800")
    assert (
        str(caught.value)
        == "the value for key a/b is not valid UTF-8 text (it holds a lone surrogate)"
    )
    assert store.get("a/b") is None


# --------------------------------------------------------------------------- durability


def test_synchronous_full_on_the_live_connection(sqlite_store: SqliteStore) -> None:
    """Acknowledged writes survive a power cut only with synchronous=FULL (2) in WAL mode;
    the kill -9 test would pass with OFF too, so the setting is read back from the very
    connection the store writes through."""
    db = sqlite_store._db  # white-box on purpose: a fresh connection would not show it
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 2
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


# --------------------------------------------------------------------------- usage and limits

BOB = "users/bob/"


def _raw_rows(path: Path) -> list[tuple[str, str | None]]:
    with contextlib.closing(sqlite3.connect(path)) as db:
        return db.execute("SELECT key, value FROM config").fetchall()


def _counted(all_rows: list[tuple[str, str | None]], keys: Callable[[str], bool]) -> Usage:
    """Bytes and live keys of the rows whose key passes ``keys``, read from the backend."""
    rows = [(k, v) for k, v in all_rows if keys(k)]
    size = sum(len(k.encode()) + len((v or "").encode()) for k, v in rows)
    return Usage(size, sum(v is not None for _, v in rows))


def test_usage_follows_every_write_and_survives_a_restart(backend: Backend) -> None:
    store = backend.open()
    bob = Quota(BOB, 1 << 20, 100)
    store.create("users/bob/a", "12345")
    store.set("users/bob/a", "h\u00e9llo \u4e16\u754c")  # UTF-8 bytes count, not characters
    store.append("users/bob/a", "!")
    store.create("users/bob/j", '{"x":1}')
    store.set_by_path("users/bob/j", "/y", [1, 2])
    store.create("users/bob/gone", "soon deleted")
    store.delete("users/bob/gone")  # the row stays, its key counts
    store.transaction({"users/bob/ghost": TxOp(OpKind.REMOVE)})  # a row for a missing key
    store.transaction({"users/bob/b": TxOp(OpKind.CREATE, "b")}, main_key=("users/bob/guard", 0))
    # Outside users/: a row an ordinary write creates counts for its payer, and keeps
    # counting for him when the zone rewrites it; a zone-trusted row counts for no one.
    store.set("services/bobapp/instances/n1", '{"port":1}', quota=bob)
    store.set("services/bobapp/instances/n1", '{"port":22}')
    store.set("services/verify-hub/info", "{}")
    store.set("users/alice/settings", "{}", quota=Quota("users/alice/", 1 << 20, 100))

    def bobs(key: str) -> bool:
        return key.startswith(BOB) or key == "services/bobapp/instances/n1"

    expected = _counted(backend.rows(store), bobs)
    assert expected.keys == 4  # a, j, b, the instance record
    assert store.row_account("services/bobapp/instances/n1") == (True, BOB)
    assert store.row_account("services/verify-hub/info") == (True, None)
    assert store.row_account("users/bob/gone") == (True, BOB)
    assert store.row_account("services/none") == (False, None)
    assert store.usage(BOB) == expected
    assert store.usage("users/alice/") == _counted(
        backend.rows(store), lambda k: k.startswith("users/alice/")
    )
    store.close()
    again = backend.open()
    try:
        assert again.usage(BOB) == expected
        again.delete("services/bobapp/instances/n1")
        assert again.usage(BOB) == _counted(backend.rows(again), bobs)
    finally:
        again.close()


def test_a_schema_1_store_is_upgraded_with_its_usage_counted(tmp_path: Path) -> None:
    path = tmp_path / "config.db"
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute(
            "CREATE TABLE config (key TEXT PRIMARY KEY NOT NULL, value TEXT,"
            " revision INTEGER NOT NULL) WITHOUT ROWID"
        )
        db.executemany(
            "INSERT INTO config VALUES (?, ?, ?)",
            [
                ("users/bob/settings", "{}", 1),
                ("users/bob/apps/x/settings", "x" * 100, 3),
                ("users/bob/deleted", None, 2),
                ("users/bobby/settings", "{}", 1),
                ("users/bob", "the key itself", 1),
                ("boot/config", "{}", 1),
            ],
        )
        db.execute("PRAGMA user_version=1")
        db.commit()
    store = SqliteStore(path)
    try:
        rows = _raw_rows(path)
        assert store.usage(BOB) == _counted(rows, lambda k: k == "users/bob" or k.startswith(BOB))
        assert store.usage(BOB).keys == 3
        assert store.usage("users/bobby/") == Usage(len("users/bobby/settings{}"), 1)
        assert store.get("users/bob/apps/x/settings") == Entry("x" * 100, 3)
    finally:
        store.close()
    with contextlib.closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 2


def test_quota_refusals_write_nothing(store: Store) -> None:
    quota = Quota(BOB, 100, 2)
    store.set("users/bob/a", "x" * 40, quota=quota)  # 51 bytes
    before = store.usage(BOB)
    with pytest.raises(QuotaExceededError) as caught:
        store.set("users/bob/b", "y" * 40, quota=quota)  # 51 more: 102 > 100
    assert str(caught.value) == (
        "quota exceeded for users/bob/: 51 bytes of 100 bytes used, this write adds 51 bytes; "
        "delete keys or ask the admin to raise --user-quota-bytes"
    )
    assert store.get("users/bob/b") is None and store.revision("users/bob/b") == 0
    assert store.usage(BOB) == before
    store.set("users/bob/b", "y", quota=quota)
    with pytest.raises(QuotaExceededError) as caught:
        store.transaction({"users/bob/c": TxOp(OpKind.CREATE, "z")}, quota=quota)
    assert str(caught.value) == (
        "quota exceeded for users/bob/: 2 of 2 keys used, this write adds 1; "
        "delete keys or ask the admin to raise --user-quota-keys"
    )
    # A tombstone is a row too: removing a missing key or guarding on a new one counts.
    with pytest.raises(QuotaExceededError):
        store.transaction({"users/bob/" + "g" * 60: TxOp(OpKind.REMOVE)}, quota=quota)
    with pytest.raises(QuotaExceededError):
        store.transaction({}, main_key=("users/bob/" + "g" * 60, 0), quota=quota)
    # Over the quota (lowered), a write that shrinks and a delete still go through.
    tight = Quota(BOB, 10, 1)
    store.set("users/bob/a", "short", quota=tight)
    store.delete("users/bob/b", quota=tight)
    # Without a quota (a zone-trusted write) nothing is counted against a limit.
    store.set("users/bob/big", "x" * 500)
    # The payer's quota holds for rows outside users/ as well; other accounts are separate.
    with pytest.raises(QuotaExceededError, match="quota exceeded for users/bob/"):
        store.set("services/bobapp/instances/n1", "{}", quota=quota)
    store.set("users/alice/a", "x" * 40, quota=Quota("users/alice/", 100, 2))
    # A transaction growing two accounts is refused for the one beyond its quota.
    with pytest.raises(QuotaExceededError, match="users/bob/"):
        store.transaction(
            {"users/alice/b": TxOp(OpKind.CREATE, "1"), "users/bob/c": TxOp(OpKind.CREATE, "1")},
            quota=quota,
        )
    assert store.get("users/alice/b") is None


def test_a_capped_store_keeps_its_reserve_for_deletes_and_zone_writes(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "config.db", max_bytes=256 * 1024, reserve_bytes=64 * 1024)
    ordinary = Quota(BOB, 1 << 30, 1 << 20)
    try:
        chunk = "v" * 16384
        written = 0
        with pytest.raises(StoreFullError) as caught:
            for n in range(64):
                store.set(f"users/bob/k{n}", chunk, quota=ordinary)
                written += 1
        text = str(caught.value)
        assert text.startswith("config store is nearly full: ")
        assert text.endswith(
            " of 256 KiB used, the last 64 KiB are kept for deletes and zone services; "
            "delete keys or ask the admin to raise --max-db-bytes"
        )
        assert 8 <= written <= 12 and store.get(f"users/bob/k{written}") is None
        assert store.used_bytes() <= 192 * 1024
        # Zone-trusted writes use the reserve, up to the cap, where even they stop.
        trusted = 0
        with pytest.raises(StoreFullError) as caught:
            for n in range(64):
                store.set(f"system/verify-hub/r{n}", chunk)
                trusted += 1
        assert trusted >= 2
        assert str(caught.value) == (
            "config store is full (capped at 256 KiB) or its disk is: nothing was written; "
            "delete keys, free disk space or ask the admin to raise --max-db-bytes"
        )
        assert store.get(f"system/verify-hub/r{trusted}") is None
        # A delete needs no room, even an ordinary one at the cap; then there is room again.
        for n in range(written):
            store.delete(f"users/bob/k{n}", quota=ordinary)
        store.set("users/bob/again", chunk, quota=ordinary)
    finally:
        store.close()


def test_store_options_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="max_bytes must be a positive"):
        SqliteStore(tmp_path / "a.db", max_bytes=0)
    with pytest.raises(ValueError, match="reserve_bytes"):
        SqliteStore(tmp_path / "a.db", max_bytes=100, reserve_bytes=100)
    with pytest.raises(ValueError, match="reserve_bytes"):
        SqliteStore(tmp_path / "a.db", reserve_bytes=10)
    capped = SqliteStore(tmp_path / "b.db", max_bytes=1 << 20)
    try:
        assert capped.reserve_bytes == (1 << 20) // 10
    finally:
        capped.close()


def test_list_skips_over_children_and_matches_a_full_scan(store: Store) -> None:
    rng = random.Random(11)
    names = ["a", "a-x", "a!", "a0", "a.b", "ab", "b", "\u00e9", "__meta", "a/b"]
    keys = set()
    for _ in range(300):
        depth = rng.randint(1, 4)
        keys.add("/".join(rng.choice(names) for _ in range(depth)))
    ordered = sorted(keys)
    for start in range(0, len(ordered), 40):  # etcd's default: 128 operations per txn
        store.transaction({key: TxOp(OpKind.UPDATE, "v") for key in ordered[start : start + 40]})
    for key in rng.sample(sorted(keys), 60):
        store.delete(key)
    live = [k for k in sorted(keys) if store.get(k) is not None]
    for prefix in ("", "a", "a-x", "a/a", "a!", "\u00e9", "zzz"):
        below = f"{prefix}/" if prefix else ""
        expected: dict[str, None] = {}
        for key in live:
            if key.startswith(below) and not key.startswith("__meta"):
                child = key[len(below) :].split("/", 1)[0]
                if child and not (below == "" and child == "__meta"):
                    expected.setdefault(child, None)
        assert store.list(prefix) == list(expected), prefix


def test_quota_texts_in_mib() -> None:
    mib = 1 << 20
    text = str(QuotaExceededError("users/bob/", "bytes", 64 * mib - 100, 256 * 1024, 64 * mib))
    assert text == (
        "quota exceeded for users/bob/: 64.0 MiB of 64 MiB used, this write adds 256.0 KiB; "
        "delete keys or ask the admin to raise --user-quota-bytes"
    )
