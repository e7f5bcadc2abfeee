"""SessionStore: per-api context with release hooks, per-api LOA, CLOSE, LRU, threads."""

from __future__ import annotations

import logging
import threading
from typing import Any

import pytest

from buckyos.runtime.security.keys import generate_private_key
from buckyos.runtime.security.session_token import parse_unverified
from buckyos.runtime.security.token_signing import sign_token
from buckyos.runtime.server.session import SessionStore, loa_of_token, session_key_of


def token(**claims: Any) -> Any:
    base: dict[str, Any] = {"sub": "bob", "exp": 2_000_000_000}
    base.update(claims)
    return parse_unverified(sign_token(base, generate_private_key(), kid="k"))


class Released:
    """A release hook that records what it was given."""

    def __init__(self) -> None:
        self.values: list[Any] = []

    def __call__(self, value: Any) -> None:
        self.values.append(value)


def test_session_key_is_the_session_claim_scoped_by_subject() -> None:
    assert session_key_of(token(session=42)) == "42@bob"
    assert session_key_of(token(session="abc", sub="alice")) == "abc@alice"
    assert session_key_of(token()) == "bob"


def test_loa_of_token() -> None:
    assert loa_of_token(None) == 0
    assert loa_of_token(token(iss="ood1")) == 1
    assert loa_of_token(token(iss="verify-hub", principal_kind="service")) == 1
    assert loa_of_token(token(iss="bob", principal_kind="user")) == 1  # self-signed: not a login
    assert loa_of_token(token(iss="verify-hub", principal_kind="user")) == 2
    assert loa_of_token(token(iss="verify-hub", sudo=True)) == 3


def test_context_is_per_session_and_per_api() -> None:
    store = SessionStore()
    assert store.context_get("s1", "a") is None
    assert store.context_get("s1", "a", "dflt") == "dflt"
    assert "s1" not in store  # reading never creates a session
    store.context_set("s1", "a", {"n": 1})
    store.context_set("s1", "b", "other api")
    store.context_set("s2", "a", "other session")
    assert store.context_get("s1", "a") == {"n": 1}
    assert store.context_get("s1", "b") == "other api"
    assert store.context_get("s2", "a") == "other session"
    store.context_set("s1", "a", None)  # None is a value, not "unset"
    assert store.context_get("s1", "a", "dflt") is None


def test_release_hook_on_replace_clear_and_not_on_same_value() -> None:
    store = SessionStore()
    released = Released()
    first, second = object(), object()
    store.context_set("s", "a", first, released)
    store.context_set("s", "a", first, released)  # same object: nothing to free
    assert released.values == []
    store.context_set("s", "a", second, released)
    assert released.values == [first]
    assert store.context_clear("s", "a") is True
    assert released.values == [first, second]
    assert store.context_clear("s", "a") is False
    assert store.context_get("s", "a") is None
    assert len(store) == 0  # an empty session goes away


def test_close_drops_the_apis_context_and_loa_only() -> None:
    store = SessionStore()
    released = Released()
    store.context_set("s", "a", "ctx-a", released)
    store.context_set("s", "b", "ctx-b", released)
    store.set_loa("s", "a", 3)
    store.set_loa("s", "b", 2)
    store.close("s", "a")
    assert released.values == ["ctx-a"]
    assert store.context_get("s", "a") is None and store.get_loa("s", "a") == 0
    assert store.context_get("s", "b") == "ctx-b" and store.get_loa("s", "b") == 2
    store.close("s", "nothing-there")
    store.close("nobody", "a")
    store.close_session("s")
    assert released.values == ["ctx-a", "ctx-b"]
    assert "s" not in store


def test_loa_per_session_and_api() -> None:
    store = SessionStore()
    assert store.get_loa("s", "a") == 0
    store.set_loa("s", "a", 2)
    assert store.get_loa("s", "a") == 2
    assert store.get_loa("s", "b") == 0
    assert store.get_loa("t", "a") == 0
    for bad in (-1, 4, True, "2"):
        with pytest.raises(ValueError, match="LOA must be an integer from 0 to 3"):
            store.set_loa("s", "a", bad)  # type: ignore[arg-type]
    store.set_loa("s", "a", 0)
    assert len(store) == 0


def test_lru_eviction_releases_the_oldest_session() -> None:
    store = SessionStore(max_sessions=2)
    released = Released()
    store.context_set("s1", "a", "one", released)
    store.context_set("s2", "a", "two", released)
    assert store.context_get("s1", "a") == "one"  # s1 is now the most recently used
    store.context_set("s3", "a", "three", released)
    assert released.values == ["two"]
    assert "s2" not in store and "s1" in store and "s3" in store
    store.clear()
    assert sorted(released.values) == ["one", "three", "two"]
    assert len(store) == 0
    with pytest.raises(ValueError):
        SessionStore(max_sessions=0)


def test_a_failing_release_hook_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    store = SessionStore()

    def broken(value: Any) -> None:
        raise RuntimeError("cannot free")

    store.context_set("s", "a", "v", broken)
    with caplog.at_level(logging.ERROR, logger="buckyos.runtime.server.session"):
        store.context_set("s", "a", "w")
    assert "release hook" in caplog.text and "cannot free" in caplog.text
    assert store.context_get("s", "a") == "w"


def test_release_hooks_run_outside_the_lock() -> None:
    store = SessionStore()

    def reentrant(value: Any) -> None:  # would deadlock if called under the store's lock
        store.context_set("s", "log", f"released {value}")

    store.context_set("s", "a", "v", reentrant)
    store.close("s", "a")
    assert store.context_get("s", "log") == "released v"


def test_thread_safe_under_concurrent_use() -> None:
    store = SessionStore(max_sessions=50)
    released = Released()
    lock = threading.Lock()
    sets = [0]

    def worker(n: int) -> None:
        for i in range(300):
            session = f"s{(n * 7 + i) % 80}"
            store.context_set(session, "a", (n, i), released)
            with lock:
                sets[0] += 1
            store.get_loa(session, "a")
            if i % 5 == 0:
                store.close(session, "a")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(store) <= 50
    store.clear()
    # Every value set was released exactly once: replaced, closed, evicted or cleared.
    assert len(released.values) == sets[0] == 8 * 300
    assert len(set(released.values)) == len(released.values)
