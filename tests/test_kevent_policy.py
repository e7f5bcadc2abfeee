"""kevent's policy (``services/kevent/policy.py``): who is local, who may publish and read.

Pure decisions; the same rules over real sockets are in ``test_kevent_server.py``.
"""

from __future__ import annotations

import time

import pytest

from buckyos.runtime.security import TokenVerifier, TrustKeyStore, generate_private_key, sign_token
from buckyos.services.kevent import (
    LOCAL,
    Audience,
    Principal,
    is_local_request,
    may_read,
    parse_audience,
    principal_of,
    publish_refusal,
)
from buckyos.services.kevent.policy import is_loopback

ALICE = Principal(local=False, trusted=False, user_id="alice", app_id="notes")
SERVICE = Principal(local=False, trusted=True, user_id="task-manager", app_id="task-manager")


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("127.0.0.2", False),  # a gateway may connect from there to be told apart
        ("10.0.0.1", False),
        ("0.0.0.0", False),
        ("localhost", False),  # an address, never a name
        ("", False),
        (None, False),
        ("not an address", False),
    ],
)
def test_loopback(host: str | None, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_a_local_request_carries_no_proxy_mark() -> None:
    assert is_local_request("127.0.0.1", ["content-type", "host", "content-length"])
    for mark in ("x-buckyos-forwarded", "x-buckyos-gateway", "x-forwarded-for", "forwarded"):
        assert not is_local_request("127.0.0.1", ["host", mark]), mark
    assert not is_local_request("192.168.1.9", ["host"])


def test_who_may_publish() -> None:
    assert publish_refusal(LOCAL, "/anything/at/all", Audience(users=frozenset({"a"}))) is None
    assert publish_refusal(SERVICE, "/task_mgr/t-1", Audience(apps=frozenset({"x"}))) is None
    assert publish_refusal(ALICE, "/notes", None) is None
    assert publish_refusal(ALICE, "/notes/a/b", None) is None
    refusal = publish_refusal(ALICE, "/notesx/a", None)
    assert refusal is not None and "may publish only under /notes/**, not /notesx/a" in refusal
    refusal = publish_refusal(ALICE, "/notes/a", Audience())
    assert refusal is not None and "may not name an audience" in refusal


def test_an_app_named_like_a_system_service_gets_nothing_of_its_ids() -> None:
    """A user's login may carry any app id verify-hub allows, ``task_mgr`` too: that must
    not make every task's events its own, to read or to forge."""
    squatter = Principal(local=False, trusted=False, user_id="mallory", app_id="task_mgr")
    for eventid in ("/task_mgr/t-1", "/task_mgr/tree/t-1"):
        assert not may_read(squatter, eventid, None)
        refusal = publish_refusal(squatter, eventid, None)
        assert refusal is not None and "is the zone's own services'" in refusal
    for name in ("task_dispatcher", "msg_center", "kevent"):
        other = Principal(local=False, trusted=False, user_id="mallory", app_id=name)
        assert not may_read(other, f"/{name}/x", None)
        assert publish_refusal(other, f"/{name}/x", None) is not None
    # named in an audience, as any user: then it reads it like anyone named
    assert may_read(squatter, "/task_mgr/t-1", Audience(users=frozenset({"mallory"})))
    assert publish_refusal(SERVICE, "/task_mgr/t-1", None) is None


def test_who_may_read() -> None:
    assert may_read(LOCAL, "/task_mgr/t-1", None)
    assert may_read(SERVICE, "/anything", None)
    assert may_read(ALICE, "/notes/x", None)
    assert not may_read(ALICE, "/task_mgr/t-1", None)
    assert not may_read(ALICE, "/notesx", None)
    assert may_read(ALICE, "/task_mgr/t-1", Audience(users=frozenset({"alice"})))
    # An app named in an audience reaches no user's session: its app id is its user's
    # claim, so naming "notes" would let any user read another's (stricter than upstream).
    assert not may_read(ALICE, "/task_mgr/t-1", Audience(apps=frozenset({"notes"})))
    assert not may_read(
        ALICE, "/task_mgr/t-1", Audience(users=frozenset({"bob"}), apps=frozenset({"photos"}))
    )


def test_parse_audience() -> None:
    assert parse_audience(None) is None
    assert parse_audience({}) == Audience()
    assert parse_audience({"users": ["a", "b"], "apps": None}) == Audience(
        users=frozenset({"a", "b"})
    )
    for bad, text in (
        ([], "audience must be an object"),
        ({"users": "a"}, "audience.users must be a list of strings"),
        ({"apps": [1]}, "audience.apps must hold non-empty strings"),
        ({"apps": [""]}, "audience.apps must hold non-empty strings"),
        ({"groups": []}, "audience has unknown field 'groups'"),
        ({"users": ["u"] * 257}, "audience.users names 257 entries, at most 256"),
    ):
        with pytest.raises(ValueError, match=text):
            parse_audience(bad)


def test_principals_of_verified_tokens() -> None:
    owner, hub = generate_private_key(), generate_private_key()
    trust = TrustKeyStore()
    trust.set_owner_key(owner.public_key())
    trust.set_verify_hub_key(hub.public_key())
    verifier = TokenVerifier(trust)
    exp = int(time.time()) + 600

    def hub_token(**claims: object) -> str:
        return sign_token({"exp": exp, "iss": "verify-hub", **claims}, hub, kid="verify-hub")

    user = verifier.verify(hub_token(sub="alice", appid="notes", principal_kind="user"))
    assert principal_of(user) == ALICE
    # a user's login claiming another iss or an app id of a service is still an app
    # principal: the key and principal_kind decide, not what the token claims
    sneaky = verifier.verify(hub_token(sub="alice", appid="task-manager", principal_kind="user"))
    assert not principal_of(sneaky).trusted
    service = verifier.verify(
        hub_token(sub="task-manager", appid="task-manager", principal_kind="service")
    )
    assert principal_of(service) == SERVICE
    root = verifier.verify(sign_token({"sub": "root", "exp": exp}, owner, kid="root"))
    assert principal_of(root).trusted and principal_of(root).app_id == "kernel"
    assert principal_of(user).owner != principal_of(service).owner != LOCAL.owner
