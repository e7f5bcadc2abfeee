"""system_config storage: key rules, JSON paths, and SqliteStore on real files.

Revision and error texts are upstream's (``sys_config_service`` ``kv_provider.rs`` and
``sled_provider.rs``), written out literally.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from buckyos.runtime.errors import ReasonError
from buckyos.services.system_config.jsonpath import REMOVE, JsonPathError, set_by_path, split_path
from buckyos.services.system_config.keys import is_meta_key, normalize_key, reloads_security
from buckyos.services.system_config.store import (
    Entry,
    InvalidValueError,
    KeyExistsError,
    KeyNotFoundError,
    OpKind,
    RevisionMismatchError,
    SqliteStore,
    StoreError,
    TxOp,
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
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


# --------------------------------------------------------------------------- SqliteStore


def test_revisions_follow_upstream(store: SqliteStore) -> None:
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


def test_store_error_texts(store: SqliteStore) -> None:
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


def test_set_by_path_on_a_value_that_is_not_json(store: SqliteStore) -> None:
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


def test_transaction_is_all_or_nothing(store: SqliteStore) -> None:
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


def test_main_key_guard(store: SqliteStore) -> None:
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


def test_list_direct_children_and_dump(store: SqliteStore) -> None:
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


def test_lone_surrogate_value_is_refused(store: SqliteStore) -> None:
    with pytest.raises(InvalidValueError) as caught:
        store.set("a/b", "x\ud800")
    assert (
        str(caught.value)
        == "the value for key a/b is not valid UTF-8 text (it holds a lone surrogate)"
    )
    assert store.get("a/b") is None
