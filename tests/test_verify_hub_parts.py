"""verify-hub's parts on their own: password hashing, the SQLite state, the directory's
parsing and credentials, app instance ids."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest

from buckyos.runtime.errors import ConfigError, ParseRequestError, ReasonError
from buckyos.runtime.keys import did_document, generate_private_key, public_key_to_jwk
from buckyos.runtime.tokens import TokenVerifier, TrustKeyStore, decode_unverified, sign_token
from buckyos.services.verify_hub import (
    DeviceCredentials,
    MemoryDirectory,
    login_password_hash,
    stored_password_hash,
)
from buckyos.services.verify_hub.directory import check_name, parse_document, parse_user_settings
from buckyos.services.verify_hub.passwords import check_login_password, nonce_is_fresh
from buckyos.services.verify_hub.service import parse_app_instance_id
from buckyos.services.verify_hub.state import Check, SessionState
from tests.verify_hub_fakes import Clock

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
        assert state.check_refresh("alice_app@system_1", "j1") is Check.CURRENT
        assert state.rotate("alice_app@system_1", "j1", "j2", int(time.time()) + 100) is (
            Check.CURRENT
        )
        row = state.session("alice_app@system_1")
        assert row is not None and (row.refresh_jti, row.generation, row.revoked) == (
            "j2",
            2,
            False,
        )
        # The old one again: reuse, and the session is revoked in the same transaction.
        assert state.rotate("alice_app@system_1", "j1", "j3", 0) is Check.REUSED
        assert state.check_refresh("alice_app@system_1", "j2") is Check.REVOKED
        assert state.check_refresh("nobody_x_1", "j") is Check.UNKNOWN
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


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "a\nb", "a\x7f"])
def test_names_must_be_one_key_segment(name: str) -> None:
    with pytest.raises(ReasonError, match="must be one non-empty key segment"):
        check_name(name, "user")


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
