"""The reference kmsg (services/kmsg) over real kRPC and gRPC servers: upstream's semantics
of every verb (upstream-services.md 7.1), the limits we enforce where upstream does not
(max_messages, retention_seconds, a page cap), and the wire against the literal JSON of
section 7."""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from buckyos.generated import kmsg_pb2 as km, kmsg_rpc as rpc
from buckyos.runtime.errors import ReasonError
from buckyos.services.kmsg import MAX_PAGE, KmsgStore, Position, QueueConfig
from tests.kmsg_fixtures import WIRES, KmsgServer, kmsg_server

PAGE = Path(__file__).resolve().parents[1] / "docs" / "services-messaging.md"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[KmsgServer]:
    with kmsg_server(tmp_path) as running:
        yield running


def _post(stub: rpc.KmsgStub, urn: str, text: str, created_at: int = 0) -> int:
    message = km.Message(created_at=created_at, payload=text.encode(), headers={"k": text})
    return stub.PostMessage(queue_urn=urn, message=message).index


def _stats(stub: rpc.KmsgStub, urn: str) -> tuple[int, int, int, int]:
    s = stub.GetQueueStats(queue_urn=urn)
    return s.message_count, s.first_index, s.last_index, s.size_bytes


def _texts(page: km.MessageList) -> list[str]:
    return [m.payload.decode() for m in page.messages]


EARLIEST = km.SubPosition(earliest={})
LATEST = km.SubPosition(latest={})


def _at(n: int) -> km.SubPosition:
    return km.SubPosition(at=n)


@pytest.mark.parametrize("wire", WIRES)
def test_queue_life_cycle(server: KmsgServer, wire: str) -> None:
    with server.stub(wire, server.keys.user("alice", "photos")) as kmsg:
        config = km.QueueConfig()
        urn = kmsg.CreateQueue(name=" jobs ", appid="photos", app_owner="alice", config=config)
        assert urn.queue_urn == "photos::alice::jobs"  # the name is trimmed
        with pytest.raises(rpc.QueueAlreadyExistsError) as err:
            kmsg.CreateQueue(name="jobs", appid="photos", app_owner="alice", config=config)
        assert err.value.text == "Failed due to reason: Queue already exists: photos::alice::jobs"
        # generated names from one global counter, burnt even when the call fails
        first = kmsg.CreateQueue(appid="photos", app_owner="alice", config=config).queue_urn
        assert first == "photos::alice::queue-1"
        kmsg.CreateQueue(name="queue-3", appid="photos", app_owner="alice", config=config)
        second = kmsg.CreateQueue(appid="photos", app_owner="alice", config=config).queue_urn
        assert second == "photos::alice::queue-2"
        with pytest.raises(rpc.QueueAlreadyExistsError):
            kmsg.CreateQueue(appid="photos", app_owner="alice", config=config)  # queue-3
        assert kmsg.CreateQueue(appid="photos", app_owner="alice", config=config).queue_urn == (
            "photos::alice::queue-4"
        )
        path = kmsg.CreateQueue(
            name="/photos/alice/inbox", appid="photos", app_owner="alice", config=config
        ).queue_urn
        assert path == "/photos/alice/inbox"

        u = urn.queue_urn
        assert _stats(kmsg, u) == (0, 0, 0, 0)
        assert _post(kmsg, u, "one") == 1
        assert _post(kmsg, u, "two!", created_at=1_700_000_000) == 2
        assert _stats(kmsg, u) == (2, 1, 2, 7)  # payload bytes only
        page = kmsg.ReadMessage(queue_urn=u, cursor=0, length=10)
        assert [(m.index, m.created_at) for m in page.messages] == [
            (1, int(server.clock.now)),  # created_at 0 -> now, in seconds
            (2, 1_700_000_000),
        ]
        assert dict(page.messages[0].headers) == {"k": "one"}
        assert _texts(kmsg.ReadMessage(queue_urn=u, cursor=1, length=10)) == ["one", "two!"]
        assert _texts(kmsg.ReadMessage(queue_urn=u, cursor=2, length=0)) == ["two!"]  # 0 -> 1
        assert kmsg.ReadMessage(queue_urn=u, cursor=3, length=10) == km.MessageList()

        kmsg.UpdateQueueConfig(queue_urn=u, config=km.QueueConfig(sync_write=True))
        assert kmsg.DeleteMessageBefore(queue_urn=u, index=2).count == 1
        assert kmsg.DeleteMessageBefore(queue_urn=u, index=2).count == 0
        assert _stats(kmsg, u) == (1, 2, 2, 4)
        assert kmsg.DeleteMessageBefore(queue_urn=u, index=99).count == 1
        assert _stats(kmsg, u) == (0, 0, 0, 0)
        assert _post(kmsg, u, "three") == 3  # indexes are never reused
        assert _stats(kmsg, u) == (1, 3, 3, 5)

        kmsg.DeleteQueue(queue_urn=u)
        for call in (
            lambda: kmsg.GetQueueStats(queue_urn=u),
            lambda: kmsg.DeleteQueue(queue_urn=u),
            lambda: _post(kmsg, u, "x"),
            lambda: kmsg.ReadMessage(queue_urn=u, cursor=0, length=1),
        ):
            with pytest.raises(rpc.QueueNotFoundError) as missing:
                call()
            assert missing.value.text == f"Failed due to reason: Queue not found: {u}"
        # re-created, the URN starts again at index 1
        kmsg.CreateQueue(name="jobs", appid="photos", app_owner="alice", config=config)
        assert _post(kmsg, u, "again") == 1


@pytest.mark.parametrize("wire", WIRES)
def test_subscriptions_cursors_and_seek(server: KmsgServer, wire: str) -> None:
    with server.stub(wire, server.keys.user("alice", "photos")) as kmsg:
        u = kmsg.CreateQueue(
            name="feed", appid="photos", app_owner="alice", config=km.QueueConfig()
        ).queue_urn

        def subscribe(position: km.SubPosition, sub_id: str | None = None) -> str:
            return kmsg.Subscribe(
                queue_urn=u, user_id="alice", app_id="photos", sub_id=sub_id, position=position
            ).sub_id

        # an empty queue: Earliest and Latest both start at 1
        early = subscribe(EARLIEST)
        assert early == "sub-1"
        for text in ("a", "b", "c"):
            _post(kmsg, u, text)
        late = subscribe(LATEST)
        named = subscribe(_at(2), "mine")
        assert late == "sub-2" and named == "mine"
        with pytest.raises(rpc.SubscriptionAlreadyExistsError) as err:
            subscribe(EARLIEST, "mine")
        assert err.value.text == "Failed due to reason: Subscription already exists: mine"
        with pytest.raises(rpc.QueueNotFoundError):
            kmsg.Subscribe(
                queue_urn="photos::alice::nope", user_id="alice", app_id="photos", position=EARLIEST
            )

        def fetch(sub: str, n: int, commit: bool) -> list[str]:
            return _texts(kmsg.FetchMessages(sub_id=sub, length=n, auto_commit=commit))

        assert fetch(early, 2, False) == ["a", "b"]  # no commit: the cursor stays
        assert fetch(early, 2, True) == ["a", "b"]
        assert fetch(early, 0, True) == ["c"]  # length 0 reads one
        assert fetch(early, 5, True) == []  # at the end: [] and the cursor stays
        assert fetch(late, 5, True) == []
        assert fetch(named, 5, False) == ["b", "c"]
        _post(kmsg, u, "d")
        assert fetch(late, 5, True) == ["d"]

        kmsg.CommitAck(sub_id=early, index=1)  # back: the cursor is 2
        assert fetch(early, 1, False) == ["b"]
        kmsg.CommitAck(sub_id=early, index=99)  # past the end: unchecked
        assert fetch(early, 5, False) == []
        kmsg.CommitAck(sub_id=early, index=(1 << 64) - 1)  # u64::MAX + 1 wraps to 0
        assert fetch(early, 1, False) == ["a"]
        kmsg.Seek(sub_id=early, index=LATEST)
        assert fetch(early, 5, False) == []
        kmsg.Seek(sub_id=early, index=EARLIEST)
        assert fetch(early, 1, False) == ["a"]
        kmsg.Seek(sub_id=early, index=_at(3))
        assert fetch(early, 5, False) == ["c", "d"]
        kmsg.Seek(sub_id=early, index=_at((1 << 64) - 1))  # far past any index
        assert fetch(early, 5, False) == []

        kmsg.Unsubscribe(sub_id=late)
        for call in (
            lambda: fetch(late, 1, False),
            lambda: kmsg.CommitAck(sub_id=late, index=1),
            lambda: kmsg.Seek(sub_id=late, index=EARLIEST),
            lambda: kmsg.Unsubscribe(sub_id=late),
        ):
            with pytest.raises(rpc.SubscriptionNotFoundError) as gone:
                call()
            assert gone.value.text == f"Failed due to reason: Subscription not found: {late}"
        # deleting the queue deletes its subscriptions; sub ids are never reused
        kmsg.DeleteQueue(queue_urn=u)
        with pytest.raises(rpc.SubscriptionNotFoundError):
            fetch(named, 1, False)
        kmsg.CreateQueue(name="feed", appid="photos", app_owner="alice", config=km.QueueConfig())
        assert subscribe(EARLIEST) == "sub-3"


@pytest.mark.parametrize("wire", WIRES)
def test_max_messages_drops_the_oldest(server: KmsgServer, wire: str) -> None:
    with server.stub(wire, server.keys.user("alice", "photos")) as kmsg:
        config = km.QueueConfig(max_messages=3)
        u = kmsg.CreateQueue(name="last3", appid="photos", app_owner="alice", config=config)
        u_urn = u.queue_urn
        reader = kmsg.Subscribe(
            queue_urn=u_urn, user_id="alice", app_id="photos", position=EARLIEST
        ).sub_id
        assert [_post(kmsg, u_urn, t) for t in ("a", "b", "c", "d", "e")] == [1, 2, 3, 4, 5]
        assert _stats(kmsg, u_urn) == (3, 3, 5, 3)
        assert _texts(kmsg.ReadMessage(queue_urn=u_urn, cursor=1, length=10)) == ["c", "d", "e"]
        # a cursor on a dropped message reads on from the oldest one kept
        page = kmsg.FetchMessages(sub_id=reader, length=10, auto_commit=True)
        assert [m.index for m in page.messages] == [3, 4, 5]
        # a lower limit applies at once
        kmsg.UpdateQueueConfig(queue_urn=u_urn, config=km.QueueConfig(max_messages=1))
        assert _stats(kmsg, u_urn) == (1, 5, 5, 1)
        kmsg.Seek(sub_id=reader, index=EARLIEST)
        assert _texts(kmsg.FetchMessages(sub_id=reader, length=10, auto_commit=False)) == ["e"]
        # lifting it keeps what is left and drops nothing more
        kmsg.UpdateQueueConfig(queue_urn=u_urn, config=km.QueueConfig())
        for t in ("f", "g"):
            _post(kmsg, u_urn, t)
        assert _stats(kmsg, u_urn) == (3, 5, 7, 3)


@pytest.mark.parametrize("wire", WIRES)
def test_retention_by_age(server: KmsgServer, wire: str) -> None:
    clock = server.clock
    with server.stub(wire, server.keys.user("alice", "photos")) as kmsg:
        config = km.QueueConfig(retention_seconds=60)
        u = kmsg.CreateQueue(
            name="recent", appid="photos", app_owner="alice", config=config
        ).queue_urn
        sub = kmsg.Subscribe(
            queue_urn=u, user_id="alice", app_id="photos", position=EARLIEST
        ).sub_id
        _post(kmsg, u, "old")
        clock.advance(30)
        # age counts from when the server stored it, not from the created_at it was sent
        _post(kmsg, u, "new", created_at=1)
        clock.advance(30)  # "old" is 60 s old: still kept (older than 60 s goes)
        assert _stats(kmsg, u) == (2, 1, 2, 6)
        clock.advance(1)
        assert _stats(kmsg, u) == (1, 2, 2, 3)
        assert _texts(kmsg.ReadMessage(queue_urn=u, cursor=0, length=10)) == ["new"]
        assert _texts(kmsg.FetchMessages(sub_id=sub, length=10, auto_commit=False)) == ["new"]
        clock.advance(30)
        # everything expired: no message is ever answered, the queue reads as empty
        assert kmsg.FetchMessages(sub_id=sub, length=10, auto_commit=True) == km.MessageList()
        assert _stats(kmsg, u) == (0, 0, 0, 0)
        late = kmsg.Subscribe(queue_urn=u, user_id="alice", app_id="photos", position=LATEST)
        assert _post(kmsg, u, "next") == 3  # indexes go on; Latest (1) still gets it
        page = kmsg.FetchMessages(sub_id=late.sub_id, length=10, auto_commit=True)
        assert [m.index for m in page.messages] == [3]
        assert _texts(kmsg.FetchMessages(sub_id=sub, length=10, auto_commit=True)) == ["next"]
        # retention set later applies at once
        clock.advance(10)
        kmsg.UpdateQueueConfig(queue_urn=u, config=km.QueueConfig(retention_seconds=5))
        assert _stats(kmsg, u) == (0, 0, 0, 0)


def test_a_sweep_expires_queues_nobody_reads(tmp_path: Path) -> None:
    now = [1_000_000.0]
    with KmsgStore(tmp_path / "k.db", clock=lambda: now[0]) as store:
        kept = store.create_queue("kept", "photos", "alice", QueueConfig())
        short = store.create_queue("short", "photos", "alice", QueueConfig(retention_seconds=10))
        for urn in (kept, short):
            store.post(urn, created_at=0, payload=b"x", headers={})
        assert store.counts()["messages"] == 2
        now[0] += 11
        assert store.counts()["messages"] == 2  # nothing read the queue yet
        assert store.sweep() == 1
        assert store.counts() == {"queues": 2, "messages": 1, "subs": 0}
        # writes sweep by themselves every SWEEP_EVERY seconds
        store.post(short, created_at=0, payload=b"y", headers={})
        now[0] += 61
        store.post(kept, created_at=0, payload=b"z", headers={})
        assert store.counts()["messages"] == 2
        assert store.pragma("journal_mode") == "wal" and store.pragma("synchronous") == 2


def test_a_page_is_capped(tmp_path: Path) -> None:
    with KmsgStore(tmp_path / "k.db") as store:
        urn = store.create_queue("big", "photos", "alice", QueueConfig())
        for _ in range(MAX_PAGE + 5):
            store.post(urn, created_at=1, payload=b"", headers={})
        assert len(store.read(urn, 0, 10 * MAX_PAGE)) == MAX_PAGE
        sub = store.subscribe(
            urn, sub_id=None, user_id="alice", app_id="photos", position=Position.EARLIEST
        )
        assert len(store.fetch(sub, 10 * MAX_PAGE, True)) == MAX_PAGE
        assert [m.index for m in store.fetch(sub, 10 * MAX_PAGE, True)] == list(
            range(MAX_PAGE + 1, MAX_PAGE + 6)
        )


@pytest.mark.parametrize("wire", WIRES)
def test_a_limit_of_zero_is_refused(server: KmsgServer, wire: str) -> None:
    with server.stub(wire, server.keys.user("alice", "photos")) as kmsg:
        for config, text in (
            (km.QueueConfig(max_messages=0), "max_messages must be at least 1 (null: no limit)"),
            (
                km.QueueConfig(retention_seconds=0),
                "retention_seconds must be at least 1 (null: keep forever)",
            ),
        ):
            with pytest.raises(ReasonError) as err:
                kmsg.CreateQueue(name="z", appid="photos", app_owner="alice", config=config)
            assert err.value.text == f"Failed due to reason: Invalid queue config: {text}"
        assert server.store.counts()["queues"] == 0


# --- the wire, literally (upstream-services.md section 7) ---------------------------------

CONFIG: dict[str, Any] = {
    "max_messages": None,
    "retention_seconds": None,
    "sync_write": False,
    "other_app_can_read": True,
    "other_app_can_write": False,
    "other_user_can_read": False,
    "other_user_can_write": False,
}


def test_wire_shapes(server: KmsgServer) -> None:
    token = server.keys.user("alice", "photos")

    def call(method: str, params: Any) -> Any:
        answer = server.raw(method, params, token)
        assert set(answer) == {"result", "sys"}, answer
        return answer["result"]

    create = {"name": "uploads", "appid": "photos", "app_owner": "alice", "config": CONFIG}
    assert call("create_queue", create) == "photos::alice::uploads"
    assert call("create_queue", {**create, "name": None}) == "photos::alice::queue-1"
    urn = "photos::alice::uploads"
    assert call("get_queue_stats", {"queue_urn": urn}) == {
        "message_count": 0,
        "first_index": 0,
        "last_index": 0,
        "size_bytes": 0,
    }
    message = {
        "index": 0,
        "created_at": 0,
        "payload": [104, 105],
        "headers": {"content-type": "text/plain"},
    }
    assert call("post_message", {"queue_urn": urn, "message": message}) == 1
    assert call("post_message", {"queue_urn": urn, "message": {**message, "created_at": 5}}) == 2
    assert (
        call("update_queue_config", {"queue_urn": urn, "config": {**CONFIG, "sync_write": True}})
        is None
    )
    sub = {
        "queue_urn": urn,
        "userid": "alice",
        "appid": "photos",
        "sub_id": None,
        "position": "Earliest",
    }
    assert call("subscribe", sub) == "sub-1"
    assert call("subscribe", {**sub, "sub_id": "w", "position": {"At": 2}}) == "w"
    assert call("subscribe", {**sub, "sub_id": "l", "position": "Latest"}) == "l"
    now = int(server.clock.now)
    page = call("fetch_messages", {"sub_id": "sub-1", "length": 10, "auto_commit": True})
    assert page == [
        {
            "index": 1,
            "created_at": now,
            "payload": [104, 105],
            "headers": {"content-type": "text/plain"},
        },
        {
            "index": 2,
            "created_at": 5,
            "payload": [104, 105],
            "headers": {"content-type": "text/plain"},
        },
    ]
    assert call("fetch_messages", {"sub_id": "sub-1", "length": 10, "auto_commit": True}) == []
    assert call("read_message", {"queue_urn": urn, "cursor": 2, "length": 10}) == page[1:]
    assert call("commit_ack", {"sub_id": "sub-1", "index": 0}) is None
    assert call("seek", {"sub_id": "w", "index": "Earliest"}) is None
    assert call("seek", {"sub_id": "w", "index": {"At": 7}}) is None
    assert call("unsubscribe", {"sub_id": "l"}) is None
    assert call("delete_message_before", {"queue_urn": urn, "index": 2}) == 1
    assert call("get_queue_stats", {"queue_urn": urn}) == {
        "message_count": 1,
        "first_index": 2,
        "last_index": 2,
        "size_bytes": 2,
    }
    assert call("delete_queue", {"queue_urn": urn}) is None
    errors = [
        ("get_queue_stats", {"queue_urn": urn}, f"Failed due to reason: Queue not found: {urn}"),
        ("unsubscribe", {"sub_id": "w"}, "Failed due to reason: Subscription not found: w"),
        (
            "create_queue",
            {**create, "name": "queue-1"},
            "Failed due to reason: Queue already exists: photos::alice::queue-1",
        ),
    ]
    for method, params, text in errors:
        answer = server.raw(method, params, token)
        assert answer["error"] == text, answer


def test_concurrent_posts_get_each_index_once(server: KmsgServer) -> None:
    token = server.keys.user("alice", "photos")
    with server.stub("krpc", token) as kmsg:
        urn = kmsg.CreateQueue(
            name="busy", appid="photos", app_owner="alice", config=km.QueueConfig()
        ).queue_urn
    got: list[int] = []
    lock = threading.Lock()

    def poster(n: int) -> None:
        with server.stub("krpc" if n % 2 else "grpc", token) as stub:
            for i in range(25):
                index = _post(stub, urn, f"{n}-{i}")
                with lock:
                    got.append(index)

    threads = [threading.Thread(target=poster, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads)
    assert sorted(got) == list(range(1, 201))
    stored = server.store.read(urn, 0, MAX_PAGE)
    assert {m.payload.decode() for m in stored} == {f"{n}-{i}" for n in range(8) for i in range(25)}


def test_a_full_disk_is_a_clear_error_and_writes_nothing(tmp_path: Path) -> None:
    with KmsgStore(tmp_path / "k.db") as store:
        urn = store.create_queue("q", "photos", "alice", QueueConfig(max_messages=10_000))
        sub = store.subscribe(
            urn, sub_id=None, user_id="alice", app_id="photos", position=Position.EARLIEST
        )
        conn = store._conn
        with store._lock:
            store._last_sweep = math.inf
            pages = conn.execute("PRAGMA page_count").fetchone()[0]
            conn.execute(f"PRAGMA max_page_count={pages}")
        acked = 0
        try:
            for _ in range(5000):  # a page holds a few; the first post needing one fails
                store.post(urn, created_at=0, payload=b"x" * 200, headers={})
                acked += 1
            raise AssertionError("the capped file never filled")
        except ReasonError as err:
            assert err.text == (
                "Failed due to reason: kmsg cannot use its store (database or disk is full): "
                "nothing was changed; retry later"
            )
        stats = store.stats(urn)
        assert (stats.message_count, stats.last_index) == (acked, acked)
        assert len(store.fetch(sub, MAX_PAGE, False)) == acked
        with store._lock:
            conn.execute("PRAGMA max_page_count=1073741823")
        assert store.post(urn, created_at=0, payload=b"y", headers={}) == acked + 1


def test_docs_example(server: KmsgServer, capsys: pytest.CaptureFixture[str]) -> None:
    section = PAGE.read_text(encoding="utf-8").split("## kmsg: the reference server\n", 1)[1]
    found = re.search(r"```python\n(.*?)```", section.split("\n## ", 1)[0], re.DOTALL)
    assert found is not None
    keys = server.keys
    names = {"KMSG_URL": server.url, "ALICE": keys.user("alice", "photos")}
    names["BOB"] = keys.user("bob", "photos")
    exec(compile(found.group(1), str(PAGE), "exec"), names)
    assert capsys.readouterr().out.splitlines() == [
        "[2, 3]",
        "No permission:cannot read queue photos::alice::last2: user bob is not the queue's "
        "owner alice and other_user_can_read is false",
    ]
