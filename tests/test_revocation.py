"""The revocation list every service consults: parsing, checks, the poller."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest

from buckyos.runtime.errors import ConfigError, InvalidTokenError
from buckyos.runtime.security.keys import generate_private_key
from buckyos.runtime.security.revocation import (
    REVOKED_SESSION,
    RevocationPoller,
    Revocations,
    RevocationSet,
    session_key_of,
)
from buckyos.runtime.security.session_token import parse_unverified
from buckyos.runtime.security.token_signing import sign_token

KEY = generate_private_key()


def token(**claims: Any) -> Any:
    base = {
        "sub": "bob",
        "appid": "notes",
        "iss": "verify-hub",
        "exp": int(time.time()) + 900,
        "session": 42,
        "principal_kind": "user",
        "app_instance_id": "notes@bob",
    }
    base.update(claims)
    return parse_unverified(
        sign_token({k: v for k, v in base.items() if v is not None}, KEY, kid="verify-hub")
    )


def test_session_key_is_verify_hubs() -> None:
    assert session_key_of(token()) == "bob_notes@bob_42"
    assert session_key_of(token(app_instance_id=None)) == "bob_notes_42"
    assert session_key_of(token(session="0042")) == "bob_notes@bob_42"
    assert session_key_of(token(session=None)) is None
    assert session_key_of(token(session="x1")) is None


def test_revoked_session_refused_until_listed_time() -> None:
    now = [1000.0]
    revoked = RevocationSet(clock=lambda: now[0])
    revoked.check(token())  # nothing listed
    revoked.replace(Revocations(sessions={"bob_notes@bob_42": 1500}))
    with pytest.raises(InvalidTokenError) as err:
        revoked.check(token())
    assert str(err.value) == f"Invalid token: {REVOKED_SESSION}"
    revoked.check(token(session=43))  # another session of bob
    revoked.check(token(iss="root"))  # not verify-hub's: no session to revoke
    now[0] = 1501.0
    revoked.check(token())  # every token of it expired by then: the listing lapsed


def test_inactive_users_from_either_source() -> None:
    revoked = RevocationSet()
    revoked.replace(Revocations(users={"bob": "suspended:abuse"}))
    with pytest.raises(InvalidTokenError, match="user 'bob' is suspended"):
        revoked.check(token())
    revoked.check(token(sub="alice"))
    revoked.check(token(principal_kind="service"))  # a device session named bob is not the user
    revoked.set_user_state("alice", "banned")
    with pytest.raises(InvalidTokenError, match="user 'alice' is banned"):
        revoked.check(token(sub="alice"))
    # a new published list does not erase first-hand knowledge, and the reverse
    revoked.replace(Revocations())
    with pytest.raises(InvalidTokenError):
        revoked.check(token(sub="alice"))
    revoked.check(token())
    revoked.set_user_state("alice", "active")
    revoked.check(token(sub="alice"))


def test_json_round_trip_pruning_and_refusals() -> None:
    listed = Revocations({"a_x_1": 2000, "b_x_2": 900}, {"carol": "suspended"}).pruned(1000)
    assert dict(listed.sessions) == {"a_x_1": 2000}  # b's was already over
    text = listed.to_json()
    assert json.loads(text) == {
        "sessions": {"a_x_1": 2000},
        "users": {"carol": "suspended"},
        "updated_at": 1000,
    }
    assert Revocations.from_json(text) == listed
    for bad, part in (
        ("[]", "the value"),
        ('{"sessions": []}', "sessions"),
        ('{"sessions": {"k": "soon"}}', "sessions['k']"),
        ('{"sessions": {"k": true}}', "sessions['k']"),
        ('{"users": {"u": 1}}', "users['u']"),
        ("{", "not valid JSON"),
    ):
        with pytest.raises(ConfigError, match=part.replace("[", r"\[")):
            Revocations.from_json(bad)


def test_malformed_list_keeps_the_current_one() -> None:
    revoked = RevocationSet()
    revoked.load_json('{"sessions": {"bob_notes@bob_42": 9999999999}}')
    with pytest.raises(ConfigError):
        revoked.load_json('{"sessions": 1}')
    with pytest.raises(InvalidTokenError):
        revoked.check(token())
    revoked.load_json(None)  # nothing published: nothing revoked
    revoked.check(token())


def test_poller_follows_the_key_and_survives_failures() -> None:
    values: list[object] = [
        '{"sessions": {"bob_notes@bob_42": 9999999999}}',
        OSError("system_config down"),
        "not json",
        None,
    ]

    async def fetch() -> str | None:
        value = values.pop(0)
        if isinstance(value, Exception):
            raise value
        return value  # type: ignore[return-value]

    async def run() -> None:
        revoked = RevocationSet()
        poller = RevocationPoller(revoked, fetch, interval=0.01)
        assert await poller.poll_once()
        with pytest.raises(InvalidTokenError):
            revoked.check(token())
        assert not await poller.poll_once()  # down: the last list stays
        assert not await poller.poll_once()  # malformed: the last list stays
        with pytest.raises(InvalidTokenError):
            revoked.check(token())
        values.append('{"users": {"bob": "deleted"}}')
        poller.start()
        for _ in range(200):
            if not values:
                break
            await asyncio.sleep(0.01)
        await poller.stop()
        assert not values
        with pytest.raises(InvalidTokenError, match="user 'bob' is deleted"):
            revoked.check(token())

    asyncio.run(run())
