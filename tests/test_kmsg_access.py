"""kmsg's access rules (services/kmsg/access.py), stricter than upstream, which checks no
token at all: every verb needs a verified session token; create_queue's appid/app_owner
and subscribe's userid/appid must be the token's; the queue's other_*_can_* flags decide
who else reads and writes; only the owner manages a queue and only a subscription's
owner uses it; zone-trusted callers (owner, device) may act for others.  Each refusal is
checked by its exact wire text, on kRPC and gRPC, and leaves the store unchanged."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from buckyos.generated import kmsg_pb2 as km, kmsg_rpc as rpc
from buckyos.runtime.errors import RPCError
from buckyos.runtime.security.keys import generate_private_key
from buckyos.runtime.security.token_signing import sign_token
from tests.kmsg_fixtures import WIRES, KmsgServer, kmsg_server

EARLIEST = km.SubPosition(earliest={})
NO = "No permission:"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KmsgServer]:
    with kmsg_server(tmp_path_factory.mktemp("kmsg-access")) as running:
        yield running


def refused(call: Callable[[], object]) -> str:
    with pytest.raises(RPCError) as err:
        call()
    return err.value.text


def _queue(server: KmsgServer, wire: str, name: str, **flags: bool) -> str:
    """alice/photos's queue ``name`` with these flags, holding one message."""
    with server.stub(wire, server.keys.user("alice", "photos")) as alice:
        urn = alice.CreateQueue(
            name=name, appid="photos", app_owner="alice", config=km.QueueConfig(**flags)
        ).queue_urn
        alice.PostMessage(queue_urn=urn, message=km.Message(payload=b"hi"))
    return urn


def _snapshot(server: KmsgServer) -> dict[str, int]:
    return server.store.counts()


@pytest.mark.parametrize("wire", WIRES)
def test_every_verb_needs_a_verified_token(server: KmsgServer, wire: str) -> None:
    urn = _queue(server, wire, f"tokenless-{wire}", other_app_can_read=True)
    stranger = generate_private_key()
    forged = sign_token(
        {"sub": "alice", "appid": "photos", "exp": 9_999_999_999}, stranger, kid="verify-hub"
    )
    before = _snapshot(server)
    for token in (None, forged):
        with server.stub(wire, token) as kmsg:
            calls: list[Callable[[], object]] = [
                lambda: kmsg.CreateQueue(
                    name="x", appid="photos", app_owner="alice", config=km.QueueConfig()
                ),
                lambda: kmsg.DeleteQueue(queue_urn=urn),
                lambda: kmsg.GetQueueStats(queue_urn=urn),
                lambda: kmsg.UpdateQueueConfig(queue_urn=urn, config=km.QueueConfig()),
                lambda: kmsg.PostMessage(queue_urn=urn, message=km.Message(payload=b"x")),
                lambda: kmsg.Subscribe(
                    queue_urn=urn, user_id="alice", app_id="photos", position=EARLIEST
                ),
                lambda: kmsg.Unsubscribe(sub_id="sub-1"),
                lambda: kmsg.FetchMessages(sub_id="sub-1", length=1, auto_commit=True),
                lambda: kmsg.ReadMessage(queue_urn=urn, cursor=0, length=1),
                lambda: kmsg.CommitAck(sub_id="sub-1", index=1),
                lambda: kmsg.Seek(sub_id="sub-1", index=EARLIEST),
                lambda: kmsg.DeleteMessageBefore(queue_urn=urn, index=9),
            ]
            for call in calls:
                assert refused(call) == "No permission:No session token"
    assert _snapshot(server) == before
    answer = server.raw("get_queue_stats", {"queue_urn": urn}, None)
    assert answer["error"] == "No permission:No session token"


@pytest.mark.parametrize("wire", WIRES)
def test_params_must_match_the_token(server: KmsgServer, wire: str) -> None:
    urn = _queue(server, wire, f"params-{wire}", other_app_can_read=True, other_user_can_read=True)
    before = _snapshot(server)
    with server.stub(wire, server.keys.user("bob", "notes")) as bob:
        config = km.QueueConfig()
        cases: list[tuple[Callable[[], object], str]] = [
            (
                lambda: bob.CreateQueue(name="q", appid="photos", app_owner="bob", config=config),
                "appid photos does not match the session token's app notes",
            ),
            (
                lambda: bob.CreateQueue(name="q", appid="notes", app_owner="alice", config=config),
                "app_owner alice does not match the session token's user bob",
            ),
            (
                lambda: bob.CreateQueue(
                    name="notes::alice::q", appid="notes", app_owner="bob", config=config
                ),
                "queue name notes::alice::q names another owner: a name with :: must be "
                "notes::bob::<name> (the caller's own appid and user)",
            ),
            (
                lambda: bob.CreateQueue(
                    name="notes::bob::a::b", appid="notes", app_owner="bob", config=config
                ),
                "queue name notes::bob::a::b names another owner: a name with :: must be "
                "notes::bob::<name> (the caller's own appid and user)",
            ),
            (
                lambda: bob.Subscribe(
                    queue_urn=urn, user_id="alice", app_id="notes", position=EARLIEST
                ),
                "userid alice does not match the session token's user bob",
            ),
            (
                lambda: bob.Subscribe(
                    queue_urn=urn, user_id="bob", app_id="photos", position=EARLIEST
                ),
                "appid photos does not match the session token's app notes",
            ),
        ]
        for call, text in cases:
            assert refused(call) == NO + text
        assert _snapshot(server) == before
        # his own names are fine, the verbatim forms included
        for name, expected in (
            ("q", "notes::bob::q"),
            ("notes::bob::legacy", "notes::bob::legacy"),
            (f"/bob/{wire}/inbox", f"/bob/{wire}/inbox"),
        ):
            made = bob.CreateQueue(name=name, appid="notes", app_owner="bob", config=config)
            assert made.queue_urn == expected
            bob.DeleteQueue(queue_urn=expected)
        sub = bob.Subscribe(queue_urn=urn, user_id="bob", app_id="notes", position=EARLIEST)
        bob.Unsubscribe(sub_id=sub.sub_id)


@pytest.mark.parametrize("wire", WIRES)
def test_access_flags(server: KmsgServer, wire: str) -> None:
    keys = server.keys
    closed = _queue(server, wire, f"closed-{wire}")
    apps = _queue(server, wire, f"apps-{wire}", other_app_can_read=True)
    users = _queue(
        server, wire, f"users-{wire}", other_user_can_read=True, other_user_can_write=True
    )
    both = _queue(server, wire, f"both-{wire}", other_app_can_read=True, other_user_can_read=True)

    def reads(user: str, app: str, urn: str) -> str | None:
        with server.stub(wire, keys.user(user, app)) as kmsg:
            try:
                kmsg.ReadMessage(queue_urn=urn, cursor=0, length=1)
                kmsg.GetQueueStats(queue_urn=urn)
                sub = kmsg.Subscribe(queue_urn=urn, user_id=user, app_id=app, position=EARLIEST)
                page = kmsg.FetchMessages(sub_id=sub.sub_id, length=1, auto_commit=True)
                assert [m.payload for m in page.messages] == [b"hi"]
                kmsg.Unsubscribe(sub_id=sub.sub_id)
            except RPCError as err:
                return err.text
        return None

    def writes(user: str, app: str, urn: str) -> str | None:
        with server.stub(wire, keys.user(user, app)) as kmsg:
            try:
                kmsg.PostMessage(queue_urn=urn, message=km.Message(payload=b"w"))
            except RPCError as err:
                return err.text
        kmsg_ok = server.store.read(urn, 0, 1000)[-1]
        assert kmsg_ok.payload == b"w"
        server.store.delete_before(urn, kmsg_ok.index + 1)  # back to empty... then one
        server.store.post(urn, created_at=0, payload=b"hi", headers={})
        return None

    def no_app(mode: str, urn: str, app: str) -> str:
        return (
            f"{NO}cannot {mode} queue {urn}: app {app} is not the queue's app photos and "
            f"other_app_can_{mode} is false"
        )

    def no_user(mode: str, urn: str, user: str) -> str:
        return (
            f"{NO}cannot {mode} queue {urn}: user {user} is not the queue's owner alice and "
            f"other_user_can_{mode} is false"
        )

    # the owner: everything, whatever the flags
    assert reads("alice", "photos", closed) is None
    assert writes("alice", "photos", closed) is None
    # same user, another app
    assert reads("alice", "notes", closed) == no_app("read", closed, "notes")
    assert reads("alice", "notes", apps) is None
    assert writes("alice", "notes", apps) == no_app("write", apps, "notes")
    assert reads("alice", "notes", users) == no_app("read", users, "notes")
    # same app, another user
    assert reads("bob", "photos", closed) == no_user("read", closed, "bob")
    assert reads("bob", "photos", apps) == no_user("read", apps, "bob")
    assert reads("bob", "photos", users) is None
    assert writes("bob", "photos", users) is None
    assert writes("bob", "photos", both) == no_user("write", both, "bob")
    # another user and another app: both flags
    assert reads("bob", "notes", users) == no_app("read", users, "notes")
    assert reads("bob", "notes", apps) == no_user("read", apps, "bob")
    assert reads("bob", "notes", both) is None


@pytest.mark.parametrize("wire", WIRES)
def test_only_the_owner_manages_a_queue(server: KmsgServer, wire: str) -> None:
    flags = dict.fromkeys(
        (
            "other_app_can_read",
            "other_app_can_write",
            "other_user_can_read",
            "other_user_can_write",
        ),
        True,
    )
    urn = _queue(server, wire, f"open-{wire}", **flags)
    before = _snapshot(server)
    for user, app in (("bob", "photos"), ("alice", "notes")):
        with server.stub(wire, server.keys.user(user, app)) as kmsg:
            for verb, call in (
                ("delete_queue", lambda: kmsg.DeleteQueue(queue_urn=urn)),
                (
                    "update_queue_config",
                    lambda: kmsg.UpdateQueueConfig(queue_urn=urn, config=km.QueueConfig()),
                ),
                (
                    "delete_message_before",
                    lambda: kmsg.DeleteMessageBefore(queue_urn=urn, index=99),
                ),
            ):
                assert refused(call) == (
                    f"{NO}cannot {verb} {urn}: only its owner (appid photos, app_owner alice) "
                    f"or a zone-trusted caller may; the caller is user {user}, app {app}"
                )
            # the flags let them post and read all the same
            kmsg.PostMessage(queue_urn=urn, message=km.Message(payload=b"x"))
            server.store.delete_before(urn, 1 << 40)
            server.store.post(urn, created_at=0, payload=b"hi", headers={})
    after = _snapshot(server)
    assert after == before


@pytest.mark.parametrize("wire", WIRES)
def test_a_subscription_is_its_owners(server: KmsgServer, wire: str) -> None:
    urn = _queue(server, wire, f"shared-{wire}", other_user_can_read=True)
    keys = server.keys
    with server.stub(wire, keys.user("bob", "photos")) as bob:
        sub = bob.Subscribe(queue_urn=urn, user_id="bob", app_id="photos", position=EARLIEST)
    owned = f"{NO}subscription {sub.sub_id} belongs to userid bob, appid photos; the caller is"
    for user, app in (("carol", "photos"), ("bob", "notes"), ("alice", "photos")):
        with server.stub(wire, keys.user(user, app)) as other:
            for call in (
                lambda: other.FetchMessages(sub_id=sub.sub_id, length=1, auto_commit=True),
                lambda: other.CommitAck(sub_id=sub.sub_id, index=5),
                lambda: other.Seek(sub_id=sub.sub_id, index=km.SubPosition(latest={})),
                lambda: other.Unsubscribe(sub_id=sub.sub_id),
            ):
                assert refused(call) == f"{owned} user {user}, app {app}"
    assert server.store.subscription(sub.sub_id).cursor == 1
    # the queue's owner closes it to other users: bob's open subscription reads no more
    with server.stub(wire, keys.user("alice", "photos")) as alice:
        alice.UpdateQueueConfig(queue_urn=urn, config=km.QueueConfig())
    with server.stub(wire, keys.user("bob", "photos")) as bob:
        assert refused(
            lambda: bob.FetchMessages(sub_id=sub.sub_id, length=1, auto_commit=True)
        ) == (
            f"{NO}cannot read queue {urn}: user bob is not the queue's owner alice and "
            "other_user_can_read is false"
        )
        bob.Unsubscribe(sub_id=sub.sub_id)


@pytest.mark.parametrize("wire", WIRES)
@pytest.mark.parametrize("who", ["device", "owner"])
def test_zone_trusted_callers_act_for_others(server: KmsgServer, wire: str, who: str) -> None:
    keys = server.keys
    trusted = keys.device() if who == "device" else keys.owner()
    with server.stub(wire, trusted) as zone:
        # a queue for alice's photos app, a subscription for bob's notes app
        urn = zone.CreateQueue(
            name=f"made-{who}-{wire}", appid="photos", app_owner="alice", config=km.QueueConfig()
        ).queue_urn
        zone.CreateQueue(
            name=f"bob::x::{who}-{wire}", appid="photos", app_owner="alice", config=km.QueueConfig()
        )
        zone.PostMessage(queue_urn=urn, message=km.Message(payload=b"from the zone"))
        sub = zone.Subscribe(queue_urn=urn, user_id="bob", app_id="notes", position=EARLIEST)
        assert zone.GetQueueStats(queue_urn=urn).message_count == 1
    # the queue is alice's: she manages it
    with server.stub(wire, keys.user("alice", "photos")) as alice:
        alice.UpdateQueueConfig(queue_urn=urn, config=km.QueueConfig(other_user_can_read=True))
    # the subscription is bob's (in his notes app), and the flags now let him read
    with server.stub(wire, keys.user("bob", "notes")) as bob:
        assert refused(
            lambda: bob.FetchMessages(sub_id=sub.sub_id, length=5, auto_commit=True)
        ) == (
            f"{NO}cannot read queue {urn}: app notes is not the queue's app photos and "
            "other_app_can_read is false"
        )
    with server.stub(wire, keys.user("alice", "photos")) as alice:
        alice.UpdateQueueConfig(
            queue_urn=urn, config=km.QueueConfig(other_user_can_read=True, other_app_can_read=True)
        )
    with server.stub(wire, keys.user("bob", "notes")) as bob:
        page = bob.FetchMessages(sub_id=sub.sub_id, length=5, auto_commit=True)
        assert [m.payload for m in page.messages] == [b"from the zone"]
    with server.stub(wire, trusted) as zone:
        zone.Seek(sub_id=sub.sub_id, index=EARLIEST)  # any subscription
        zone.DeleteQueue(queue_urn=urn)  # any queue
    with pytest.raises(rpc.SubscriptionNotFoundError):
        server.store.subscription(sub.sub_id)
