"""verify-hub's parts on their own: password hashing, the SQLite state, the directory's
parsing and credentials, app instance ids, the login throttle; and, through an in-process
binding, the order of its checks (a replay is refused before the directory is read)."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from buckyos.generated.verify_hub_rpc import VerifyHubStub
from buckyos.runtime.client.inprocess import InProcessTransport
from buckyos.runtime.errors import ConfigError, ParseRequestError, ReasonError, RPCError
from buckyos.runtime.security.keys import did_document, generate_private_key, public_key_to_jwk
from buckyos.runtime.security.session_token import decode_unverified
from buckyos.runtime.security.token_signing import sign_token
from buckyos.runtime.security.token_verifier import TokenVerifier
from buckyos.runtime.security.trust_keys import TrustKeyStore
from buckyos.services.verify_hub import (
    DeviceCredentials,
    MemoryDirectory,
    StateError,
    UserSettings,
    build_binding,
    login_password_hash,
    stored_password_hash,
)
from buckyos.services.verify_hub.directory import check_name, parse_document, parse_user_settings
from buckyos.services.verify_hub.passwords import check_login_password, nonce_is_fresh
from buckyos.services.verify_hub.service import RESERVED_SUBJECTS, parse_app_instance_id
from buckyos.services.verify_hub.state import Check, Reissue, SessionState
from buckyos.services.verify_hub.throttle import (
    FailureCounter,
    LoginThrottle,
    address_key,
    client_address,
)
from tests.verify_hub_fakes import Clock, login_hash, now_ms

# --------------------------------------------------------------------------- passwords

# Computed with openssl, independently of the code under test:
#   printf 'secretalice.buckyos' | openssl dgst -sha256 -binary | base64
STORED = "gQCBWe80s6UjLNR3Whuy4PCjpffV9XE+OyLc/mgt5Rw="
#   printf '%s1763777000000' "$STORED" | openssl dgst -sha256 -binary | base64
SENT = "qlgpmU1T8rOnh54KAw7qx05V7lu1gGzLYbqF+FtNTMA="


def test_password_hashes_match_upstream_vectors() -> None:
    assert stored_password_hash("alice", "secret") == STORED
    assert login_password_hash(STORED, 1763777000000) == SENT
    assert check_login_password(SENT, STORED, 1763777000000)
    assert not check_login_password(SENT, STORED, 1763777000001)


def test_password_that_is_not_a_digest_is_refused_with_a_reason() -> None:
    with pytest.raises(ReasonError) as bad:
        check_login_password("%%%", STORED, 1)
    assert str(bad.value).startswith(
        "Failed due to reason: password must be base64(sha256(stored + login_nonce))"
    )
    with pytest.raises(ReasonError) as short:
        check_login_password("YWJj", STORED, 1)
    assert str(short.value) == (
        "Failed due to reason: password must be base64 of a 32-byte SHA-256 digest, got 3 bytes"
    )


def test_nonce_window_is_28800_ms_either_way() -> None:
    assert nonce_is_fresh(1_000_000, 1_028_800)
    assert nonce_is_fresh(1_028_800, 1_000_000)
    assert not nonce_is_fresh(1_000_000, 1_028_801)
    assert not nonce_is_fresh(1_028_801, 1_000_000)


# --------------------------------------------------------------------------- state


def test_state_rotation_reuse_and_revocation(tmp_path: Path) -> None:
    with SessionState(tmp_path / "s.db") as state:
        state.open_session("alice_app@system_1", "j1", int(time.time()) + 100)
        assert state.check_refresh("alice_app@system_1", "j1").check is Check.CURRENT
        rotated = state.rotate("alice_app@system_1", "j1", "j2", int(time.time()) + 100)
        assert rotated.check is Check.CURRENT
        row = state.session("alice_app@system_1")
        assert row is not None and (row.refresh_jti, row.generation, row.revoked) == (
            "j2",
            2,
            False,
        )
        # The old one again (no retry window asked): reuse, and the session is revoked in
        # the same transaction.
        assert state.rotate("alice_app@system_1", "j1", "j3", 0).check is Check.REUSED
        assert state.check_refresh("alice_app@system_1", "j2").check is Check.REVOKED
        assert state.check_refresh("nobody_x_1", "j").check is Check.UNKNOWN
        with pytest.raises(ValueError, match="already exists"):
            state.open_session("alice_app@system_1", "j9", 1)


def test_state_one_time_values_and_login_atomicity(tmp_path: Path) -> None:
    with SessionState(tmp_path / "s.db") as state:
        assert state.claim("nonce", "alice/1", int(time.time()) + 60)
        assert not state.claim("nonce", "alice/1", int(time.time()) + 60)
        assert state.is_used("nonce", "alice/1")
        assert not state.is_used("jti", "alice/1")  # kinds are separate
        exp = int(time.time()) + 60
        assert state.claim_and_open("jti", "alice/j", exp, "k1", "r1", exp)
        # A replay writes nothing: no second session appears.
        assert not state.claim_and_open("jti", "alice/j", exp, "k2", "r2", exp)
        assert state.session("k2") is None
        assert state.counts() == {"sessions": 1, "used_once": 2}


def test_state_survives_reopen_and_prunes_only_what_expired(tmp_path: Path) -> None:
    clock = Clock()
    path = tmp_path / "deep" / "state.db"
    now = int(time.time())
    with SessionState(path, clock=clock) as state:
        state.open_session("live", "j1", now + 1000)
        state.open_session("old", "j1", now + 10)
        state.claim("jti", "old", now + 10)
        state.claim("jti", "live", now + 1000)
        state.rotate("live", "j1", "j2", now + 1000)
    with SessionState(path, clock=clock) as again:
        row = again.session("live")
        assert row is not None and row.refresh_jti == "j2"
        clock.offset = 100
        assert again.prune() == 2
        assert again.session("old") is None
        assert again.is_used("jti", "live") and not again.is_used("jti", "old")
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_state_refuses_a_file_that_is_not_ours(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database, just bytes " * 100)
    with pytest.raises(ConfigError) as info:
        SessionState(junk)
    assert str(info.value).startswith(f"verify-hub state file {junk} is not usable")
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
        conn.execute("INSERT INTO meta VALUES ('schema', '99')")
    with pytest.raises(ConfigError, match="schema version 99"):
        SessionState(other)


def test_state_retry_window(tmp_path: Path) -> None:
    clock = Clock()
    with SessionState(tmp_path / "s.db", clock=clock) as state:
        exp = int(time.time()) + 1000
        state.open_session("k", "r1", exp)
        issued = int(clock())
        first = state.rotate("k", "r1", "r2", exp, session_jti="s2", issued_at=issued, window=30)
        assert first.check is Check.CURRENT
        # r1 again within 30 s: a retry, answered with what r2's pair was made of.
        for offset in (0.0, 30.0):
            clock.offset = offset
            retry = state.check_refresh("k", "r1", window=30)
            assert (retry.check, retry.reissue) == (Check.RETRY, Reissue("r2", "s2", issued))
        # A concurrent refresh with r1 that lost the rotation gets the winner's pair too.
        lost = state.rotate("k", "r1", "r9", exp, session_jti="s9", window=30)
        assert (lost.check, lost.reissue) == (Check.RETRY, Reissue("r2", "s2", issued))
        row = state.session("k")
        assert row is not None and (row.refresh_jti, row.generation) == ("r2", 2)
        # Two rotations back is no retry, even within the window: the session ends.
        clock.offset = 0.0
        assert state.rotate("k", "r2", "r3", exp, session_jti="s3", window=30).check is (
            Check.CURRENT
        )
        assert state.check_refresh("k", "r1", window=30).check is Check.REUSED
        assert state.check_refresh("k", "r3", window=30).check is Check.REVOKED
        # After the window, the token traded last is a reuse too.
        state.open_session("k2", "a1", exp)
        state.rotate("k2", "a1", "a2", exp, session_jti="b2", issued_at=issued, window=30)
        clock.offset = 31.0
        assert state.check_refresh("k2", "a1", window=30).check is Check.REUSED
        assert state.check_refresh("k2", "a2", window=30).check is Check.REVOKED
        # No window asked (window=0): no retry, even in the same second.
        clock.offset = 0.0
        state.open_session("k3", "c1", exp)
        state.rotate("k3", "c1", "c2", exp, session_jti="d2", issued_at=int(clock()))
        assert state.check_refresh("k3", "c1").check is Check.REUSED


V1_SCHEMA = (
    "CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE sessions (session_key TEXT PRIMARY KEY, refresh_jti TEXT NOT NULL, "
    "generation INTEGER NOT NULL, expires_at INTEGER NOT NULL, revoked_at INTEGER)",
    "CREATE INDEX sessions_expiry ON sessions (expires_at)",
    "CREATE TABLE used_once (kind TEXT NOT NULL, key TEXT NOT NULL, "
    "expires_at INTEGER NOT NULL, PRIMARY KEY (kind, key))",
    "CREATE INDEX used_once_expiry ON used_once (expires_at)",
    "INSERT INTO meta VALUES ('schema', '1')",
)


def test_state_migrates_a_version_1_file(tmp_path: Path) -> None:
    path = tmp_path / "v1.db"
    exp = int(time.time()) + 1000
    with contextlib.closing(sqlite3.connect(path)) as raw, raw:
        for statement in V1_SCHEMA:
            raw.execute(statement)
        raw.execute("INSERT INTO sessions VALUES ('k', 'r1', 3, ?, NULL)", (exp,))
        raw.execute("INSERT INTO used_once VALUES ('jti', 'alice/j', ?)", (exp,))
    with SessionState(path) as state:
        row = state.session("k")
        assert row is not None and (row.refresh_jti, row.generation) == ("r1", 3)
        assert state.is_used("jti", "alice/j")
        # A migrated session has no last rotation to retry, and rotates as before.
        assert state.check_refresh("k", "r0", window=30).check is Check.REUSED
        state.open_session("k2", "r1", exp)
        assert state.rotate("k2", "r1", "r2", exp, session_jti="s2", window=30).check is (
            Check.CURRENT
        )
        assert state.check_refresh("k2", "r1", window=30).check is Check.RETRY
    with contextlib.closing(sqlite3.connect(path)) as raw:
        assert raw.execute("SELECT value FROM meta").fetchone() == ("2",)
    with SessionState(path) as again:  # opening a migrated file again changes nothing
        assert again.session("k2") is not None


def test_state_full_disk_is_a_clear_error_and_writes_nothing(tmp_path: Path) -> None:
    with SessionState(tmp_path / "s.db") as state:
        exp = int(time.time()) + 1000
        conn = state._conn  # the cap is per connection: the state's own one
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count={pages}")
        error: StateError | None = None
        for i in range(5000):  # a page holds a few dozen rows: the file must grow soon
            before = state.counts()
            try:
                state.claim_and_open("nonce", f"alice/{i:08d}", exp, f"s{i:08d}", "r", exp)
            except StateError as exc:
                error = exc
                break
        assert error is not None, "the state never filled up"
        # SQLite's own reason, not the failed ROLLBACK's "no transaction is active".
        assert str(error) == (
            "Failed due to reason: verify-hub cannot write its state (database or disk is "
            "full): nothing was changed; retry later"
        )
        assert state.counts() == before  # neither the used nonce nor the session
        assert not state.is_used("nonce", f"alice/{i:08d}")
        assert state.session("s00000000") is not None  # reads still answer
        conn.execute("PRAGMA max_page_count=1073741823")
        assert state.claim_and_open("nonce", f"alice/{i:08d}", exp, f"s{i:08d}", "r", exp)


def test_state_is_wal_and_fsynced_at_each_commit(tmp_path: Path) -> None:
    with SessionState(tmp_path / "s.db") as state:
        assert state.pragma("synchronous") == 2  # FULL (OFF is 0, NORMAL 1)
        assert state.pragma("journal_mode") == "wal"
        with pytest.raises(ValueError, match="not a pragma name"):
            state.pragma("synchronous=OFF")


# --------------------------------------------------------------------------- throttle


def test_failure_counter_delays_forgets_and_stays_bounded() -> None:
    counter = FailureCounter()
    now = 1000.0
    waits = []
    for _ in range(12):
        counter.fail("bob", now)
        waits.append(counter.wait("bob", now))
    # 5 failures free, then 1, 2, 4, 8, 16 s, and never more than 30 s.
    assert waits == [0, 0, 0, 0, 1, 2, 4, 8, 16, 30, 30, 30]
    assert counter.wait("bob", now + 29.5) == pytest.approx(0.5)
    assert counter.wait("bob", now + 30) == 0
    assert counter.wait("bob", now - 3600) == 30  # a clock stepped back: 30 s at most
    assert counter.failures("bob") == 12
    # Forgotten 15 minutes after the last failure.
    assert counter.wait("bob", now + 15 * 60 + 1) == 0
    assert counter.failures("bob") == 0
    # Bounded: the oldest last failure goes first.
    small = FailureCounter(max_entries=3)
    for i, key in enumerate("abcd"):
        small.fail(key, now + i)
    assert len(small) == 3 and small.failures("a") == 0 and small.failures("d") == 1
    small.fail("b", now + 10)
    small.fail("e", now + 11)
    assert small.failures("b") == 2 and small.failures("c") == 0


def test_login_throttle_texts_and_reset() -> None:
    clock = Clock()
    throttle = LoginThrottle(clock=clock)
    for _ in range(5):
        throttle.check_address("10.0.0.1")
        throttle.check_user("bob")
        throttle.failed("10.0.0.1", "bob")
    with pytest.raises(ReasonError) as info:
        throttle.check_user("bob")
    assert str(info.value) == "Failed due to reason: too many failed logins for bob; retry in 1 s"
    with pytest.raises(ReasonError) as info:
        throttle.check_address("10.0.0.1")
    assert str(info.value) == (
        "Failed due to reason: too many failed logins from 10.0.0.1; retry in 1 s"
    )
    throttle.succeeded("bob")  # clears the user's count, not the address's
    throttle.check_user("bob")
    with pytest.raises(ReasonError):
        throttle.check_address("10.0.0.1")
    throttle.failed("10.0.0.2", None)  # an unknown user counts against the address only
    assert len(throttle.users) == 0 and throttle.addresses.failures("10.0.0.2") == 1


def test_client_addresses() -> None:
    assert client_address("127.0.0.1:5555") == "127.0.0.1"
    assert client_address("ipv4:10.1.2.3:443") == "10.1.2.3"
    assert client_address("ipv6:[2001:db8:1:2:3:4:5:6]:443") == "2001:db8:1:2::/64"
    assert client_address("2001:db8:1:2:3:4:5:6:443") == "2001:db8:1:2::/64"
    assert client_address("[::ffff:10.0.0.9]:80") == "10.0.0.9"
    assert client_address(None) == "unknown"
    assert client_address("unix:/run/x.sock") == "unix"
    # One host of a /64 is the whole /64: an attacker cannot spray its 2**64 addresses.
    assert address_key("2001:db8::1") == address_key("2001:db8::ffff:1") == "2001:db8::/64"
    assert address_key("x" * 100) == "x" * 64


# --------------------------------------------------------------------------- the order of checks


class CountingDirectory(MemoryDirectory):
    """A MemoryDirectory that counts the reads verify-hub makes."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    async def user_settings(self, name: str) -> UserSettings | None:
        self.reads += 1
        return await super().user_settings(name)

    async def user_doc(self, name: str) -> Mapping[str, Any] | None:
        self.reads += 1
        return await super().user_doc(name)

    async def device_doc(self, name: str) -> Mapping[str, Any] | None:
        self.reads += 1
        return await super().device_doc(name)


def test_replays_are_refused_before_the_directory_is_read(tmp_path: Path) -> None:
    alice = generate_private_key()
    directory = CountingDirectory()
    directory.add_user(
        "alice",
        password_hash=stored_password_hash("alice", "alice-pw"),
        doc=did_document("did:bns:alice", alice.public_key(), name="alice"),
    )
    clock = Clock()
    binding = build_binding(
        signing_key=generate_private_key(),
        state=tmp_path / "s.db",
        directory=directory,
        clock=clock,
    )
    hub = VerifyHubStub(InProcessTransport(binding))
    try:
        login_jwt = sign_token(
            {"iss": "alice", "sub": "alice", "appid": "notes", "jti": "j-1",
             "exp": int(time.time()) + 600},
            alice,
            kid="alice",
        )  # fmt: skip
        hub.LoginByJwt(jwt=login_jwt)
        nonce = now_ms()
        params: dict[str, Any] = {
            "username": "alice",
            "password": login_hash("alice", "alice-pw", nonce),
            "appid": "notes",
            "app_instance_id": "notes@alice",
            "login_nonce": nonce,
        }
        hub.LoginByPassword(**params)
        clock.offset = 31.0  # the issuer key cache (30 s) no longer helps
        directory.reads = 0
        with pytest.raises(RPCError) as replay:
            hub.LoginByJwt(jwt=login_jwt)
        assert str(replay.value) == "Failed due to reason: Login JWT already used"
        clock.offset = 0.0
        with pytest.raises(RPCError) as replay:
            hub.LoginByPassword(**params)
        assert str(replay.value) == "Failed due to reason: Login nonce already used"
        assert directory.reads == 0
        # The same, once alice is gone from the directory: still "already used".
        directory.user_docs.clear()
        directory.settings.clear()
        with pytest.raises(RPCError) as replay:
            hub.LoginByPassword(**params)
        assert str(replay.value) == "Failed due to reason: Login nonce already used"
        clock.offset = 31.0
        with pytest.raises(RPCError) as replay:
            hub.LoginByJwt(jwt=login_jwt)
        assert str(replay.value) == "Failed due to reason: Login JWT already used"
    finally:
        binding.close()


def test_reserved_subjects_come_from_the_default_policy() -> None:
    assert {"kernel", "ood", "root", "system", "frame", "app", "agent", "users"} <= (
        RESERVED_SUBJECTS
    )
    assert {"node-daemon", "scheduler", "buckycli", "control-panel", "aicc"} <= RESERVED_SUBJECTS
    assert "admin" not in RESERVED_SUBJECTS  # a zone's first user is commonly "admin"
    assert "su_admin" in RESERVED_SUBJECTS


# --------------------------------------------------------------------------- directory


def test_user_settings_parsing_names_the_bad_field() -> None:
    settings = parse_user_settings(
        "alice",
        json.dumps({"user_id": "alice", "type": "admin", "password": STORED, "state": "active"}),
    )
    assert settings.active
    assert not parse_user_settings(
        "bob", {"type": "user", "password": "x", "state": "suspended:spam"}
    ).active
    assert not parse_user_settings(
        "g", {"type": "guest", "password": "x", "state": "active"}
    ).active
    with pytest.raises(ReasonError) as bad:
        parse_user_settings("alice", {"type": "wizard", "password": "x", "state": "active"})
    assert str(bad.value) == (
        "Failed due to reason: users/alice/settings: type must be one of "
        "['admin', 'guest', 'limited', 'root', 'user'], got 'wizard'"
    )
    with pytest.raises(ReasonError, match="users/alice/settings is not valid JSON"):
        parse_user_settings("alice", "{")


def test_documents_as_json_or_jwt() -> None:
    key = generate_private_key()
    doc = did_document("did:dev:ood1", key.public_key(), name="ood1")
    assert parse_document(json.dumps(doc), "devices/ood1/doc")["id"] == "did:dev:ood1"
    as_jwt = sign_token(doc, key, kid=None)
    parsed = parse_document(as_jwt, "devices/ood1/doc")
    assert parsed["verificationMethod"][0]["publicKeyJwk"] == public_key_to_jwk(key.public_key())
    with pytest.raises(ReasonError, match="devices/x/doc is neither JSON nor a JWT document"):
        parse_document("not a doc", "devices/x/doc")


BAD_NAMES = [
    "",
    ".",
    "..",
    "a/b",
    "a\nb",
    "a\x7f",
    # system_config reads a backslash as '/': each of these is bob's key, spelt anew
    "bob\\",
    "\\bob",
    "x\\..\\bob",
    # look-alikes: whitespace, zero-width (format) characters, a lone surrogate
    " bob",
    "bob\t",
    "bo\u00a0b",
    "bob\u200b",
    "bob\u2028",
    "bob\ud800",
    "b" * 129,
]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_names_must_be_one_key_segment(name: str) -> None:
    with pytest.raises(ReasonError) as info:
        check_name(name, "user")
    shown = repr(name[:128]) + ("..." if len(name) > 128 else "")
    assert str(info.value) == (
        f"Failed due to reason: invalid user name {shown}: a name is one key segment of at "
        "most 128 characters, without '/', '\\', whitespace or control characters, and not "
        "'.' or '..'"
    )


@pytest.mark.parametrize("name", ["alice", "ood1", "a.b", "x-y_z", "b" * 128, "\u674e\u96f7"])
def test_good_names_pass(name: str) -> None:
    assert check_name(name, "user") == name


def test_memory_directory() -> None:
    import asyncio

    directory = MemoryDirectory()
    directory.add_user("alice", password_hash=STORED, user_type="admin")

    async def read() -> tuple[object, object, object]:
        return (
            await directory.user_settings("alice"),
            await directory.user_settings("bob"),
            await directory.owner_key(),
        )

    alice, bob, owner = asyncio.run(read())
    assert getattr(alice, "password", None) == STORED
    assert bob is None and owner is None


def test_device_credentials_sign_as_the_device_and_renew_before_expiry() -> None:
    key = generate_private_key()
    clock = Clock()
    creds = DeviceCredentials(key, "ood1", ttl=1200, renew_before=120, clock=clock)
    first = creds.token()
    header, claims = decode_unverified(first)
    assert header == {"alg": "EdDSA", "kid": "ood1"}
    assert (claims["sub"], claims["iss"], claims["appid"]) == ("ood1", "ood1", "verify-hub")
    trust = TrustKeyStore()
    trust.add_device("ood1", key.public_key())
    assert TokenVerifier(trust, clock=clock).verify(first).sub == "ood1"
    clock.offset = 1000  # 200 s left: still used
    assert creds.token() == first
    clock.offset = 1100  # 100 s left: re-signed
    second = creds.token()
    assert second != first
    assert decode_unverified(second)[1]["exp"] > claims["exp"]


# --------------------------------------------------------------------------- app instances


def test_app_instance_ids() -> None:
    assert parse_app_instance_id(" notes@alice ") == ("notes", "alice")
    cases = {
        "notes": "app_instance_id must be `<app_id>@<owner_user_id>`",
        "@alice": "app_instance_id must contain non-empty app and owner ids",
        "notes@": "app_instance_id must contain non-empty app and owner ids",
        "notes@al ice": "app_instance_id contains invalid owner characters",
        "no tes@alice": "app_instance_id contains invalid app characters",
        "a@b@system": "app_instance_id contains invalid app characters",
    }
    for value, text in cases.items():
        with pytest.raises(ParseRequestError) as info:
            parse_app_instance_id(value)
        assert str(info.value) == f"Parse Request Error: {text}"
