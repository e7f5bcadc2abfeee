"""The kmsg contract (proto/buckyos/kmsg.proto) against upstream's wire
(upstream-services.md section 7): every verb's params and result written out literally,
decoded into our messages and encoded back to the same JSON; upstream's error texts as
typed errors; a small servicer called through the generated stub over a real kRPC server;
the example of docs/services-messaging.md run against it."""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from buckyos.generated import kmsg_pb2 as km, kmsg_rpc as rpc
from buckyos.runtime.client.krpc_client import KrpcTransport
from buckyos.runtime.descriptor import MethodDescriptor
from buckyos.runtime.errors import ParseRequestError, ReasonError, RPCError, error_from_text
from buckyos.runtime.security import RbacEnforcer, TokenVerifier, TrustKeyStore
from buckyos.runtime.server import Binding, Request
from buckyos.runtime.server.serve import serving
from buckyos.runtime.testing import LoopbackTransport
from buckyos.runtime.wire.jsonmap import decode_params, decode_result, encode_params, encode_result

PAGE = Path(__file__).resolve().parents[1] / "docs" / "services-messaging.md"


def same_json(again: Any, original: Any) -> None:
    assert json.dumps(again, sort_keys=True) == json.dumps(original, sort_keys=True), (
        again,
        original,
    )
    if isinstance(original, dict):
        assert list(again) == list(original)


def params_round_trip(method: MethodDescriptor[Any, Any], params: Any) -> Any:
    message = decode_params(method, params)
    same_json(encode_params(method, message), params)
    return message


def result_round_trip(method: MethodDescriptor[Any, Any], result: Any) -> Any:
    message = decode_result(method, result)
    same_json(encode_result(method, message), result)
    return message


def refused(method: MethodDescriptor[Any, Any], params: Any) -> str:
    with pytest.raises(ParseRequestError) as err:
        decode_params(method, params)
    return str(err.value)


# upstream-services.md section 7, literally.
CONFIG: dict[str, Any] = {
    "max_messages": None,
    "retention_seconds": None,
    "sync_write": False,
    "other_app_can_read": True,
    "other_app_can_write": False,
    "other_user_can_read": False,
    "other_user_can_write": False,
}
MESSAGE: dict[str, Any] = {
    "index": 0,
    "created_at": 0,
    "payload": [104, 105],
    "headers": {"content-type": "text/plain"},
}
URN = "photos::alice::uploads"


# --- every verb, both directions --------------------------------------------------------


def test_verb_table() -> None:
    assert rpc.KMSG.api == "kmsg"
    assert [m.krpc for m in rpc.KMSG.methods] == [
        "create_queue",
        "delete_queue",
        "get_queue_stats",
        "update_queue_config",
        "post_message",
        "subscribe",
        "unsubscribe",
        "fetch_messages",
        "read_message",
        "commit_ack",
        "seek",
        "delete_message_before",
    ]
    # upstream checks no token on any verb
    assert all(m.spec()["auth"] == "yes" for m in rpc.KMSG.methods)
    reads = {m.krpc for m in rpc.KMSG.methods if m.idempotent}
    assert {"get_queue_stats", "read_message"} <= reads


def test_create_queue() -> None:
    method = rpc.KMSG_CREATE_QUEUE
    request = params_round_trip(
        method, {"name": "uploads", "appid": "photos", "app_owner": "alice", "config": CONFIG}
    )
    assert request.config.other_app_can_read and not request.config.HasField("max_messages")
    # upstream's client writes an absent name as null
    unnamed = params_round_trip(
        method, {"name": None, "appid": "photos", "app_owner": "alice", "config": CONFIG}
    )
    assert not unnamed.HasField("name")
    limited = {**CONFIG, "max_messages": 1000, "retention_seconds": 86400, "sync_write": True}
    params_round_trip(method, {"name": "q", "appid": "a", "app_owner": "o", "config": limited})
    # the options may be left out on input (serde's Option); bools may not
    bare = {k: v for k, v in CONFIG.items() if v is not None}
    assert decode_params(method, {"appid": "a", "app_owner": "o", "config": bare}).config == (
        km.QueueConfig(other_app_can_read=True)
    )
    assert refused(method, {"appid": "a", "app_owner": "o", "config": {}}) == (
        "Parse Request Error: Missing config.sync_write"
    )
    assert result_round_trip(method, URN) == km.QueueUrn(queue_urn=URN)
    path_urn = "/jarvis.test.buckyos.io/sessions/tg:x:1/msg"
    assert result_round_trip(method, path_urn).queue_urn == path_urn


def test_delete_queue_and_null_results() -> None:
    request = params_round_trip(rpc.KMSG_DELETE_QUEUE, {"queue_urn": URN})
    assert request.queue_urn == URN
    for method in (
        rpc.KMSG_DELETE_QUEUE,
        rpc.KMSG_UPDATE_QUEUE_CONFIG,
        rpc.KMSG_UNSUBSCRIBE,
        rpc.KMSG_COMMIT_ACK,
        rpc.KMSG_SEEK,
    ):
        assert encode_result(method, decode_result(method, None)) is None, method.krpc


def test_get_queue_stats() -> None:
    params_round_trip(rpc.KMSG_GET_QUEUE_STATS, {"queue_urn": URN})
    stats = result_round_trip(
        rpc.KMSG_GET_QUEUE_STATS,
        {"message_count": 2, "first_index": 1, "last_index": 2, "size_bytes": 4},
    )
    assert stats.last_index == 2
    result_round_trip(
        rpc.KMSG_GET_QUEUE_STATS,
        {"message_count": 0, "first_index": 0, "last_index": 0, "size_bytes": 0},
    )


def test_update_queue_config() -> None:
    request = params_round_trip(
        rpc.KMSG_UPDATE_QUEUE_CONFIG, {"queue_urn": URN, "config": {**CONFIG, "sync_write": True}}
    )
    assert request.config.sync_write


def test_post_message_vec_u8_payload_and_headers() -> None:
    method = rpc.KMSG_POST_MESSAGE
    request = params_round_trip(method, {"queue_urn": URN, "message": MESSAGE})
    assert request.message.payload == b"hi"
    assert dict(request.message.headers) == {"content-type": "text/plain"}
    assert result_round_trip(method, 1) == km.MsgIndex(index=1)
    # ALL four fields of Message are required on input
    for key in ("index", "created_at", "payload"):
        message = {k: v for k, v in MESSAGE.items() if k != key}
        assert refused(method, {"queue_urn": URN, "message": message}) == (
            f"Parse Request Error: Missing message.{key}"
        )
    assert refused(method, {"queue_urn": URN, "message": {**MESSAGE, "payload": "aGk="}}) == (
        "Parse Request Error: field `message.payload`: expected array of bytes "
        "(integers 0..255), got string"
    )


@pytest.mark.parametrize(
    ("position", "member"),
    [("Earliest", "earliest"), ("Latest", "latest"), ({"At": 42}, "at")],
)
def test_subscribe_positions(position: Any, member: str) -> None:
    params = {
        "queue_urn": URN,
        "userid": "alice",
        "appid": "photos",
        "sub_id": "uploads-worker",
        "position": position,
    }
    request = params_round_trip(rpc.KMSG_SUBSCRIBE, params)
    assert request.user_id == "alice" and request.app_id == "photos"
    assert request.position.WhichOneof("position") == member
    # no sub_id: upstream's client writes null, the server picks `sub-<n>`
    unnamed = params_round_trip(rpc.KMSG_SUBSCRIBE, {**params, "sub_id": None})
    assert not unnamed.HasField("sub_id")
    assert result_round_trip(rpc.KMSG_SUBSCRIBE, "sub-1") == km.SubscriptionId(sub_id="sub-1")


def test_subscribe_input_aliases_are_not_declared() -> None:
    """Upstream also takes `user_id`/`app_id`; the options cannot say so (kmsg.proto)."""
    params = {"queue_urn": URN, "user_id": "alice", "app_id": "photos", "position": "Latest"}
    assert refused(rpc.KMSG_SUBSCRIBE, params) == "Parse Request Error: Missing userid"


def test_unsubscribe() -> None:
    assert params_round_trip(rpc.KMSG_UNSUBSCRIBE, {"sub_id": "sub-1"}).sub_id == "sub-1"


def test_fetch_and_read_messages_bare_lists() -> None:
    fetch = params_round_trip(
        rpc.KMSG_FETCH_MESSAGES, {"sub_id": "sub-1", "length": 10, "auto_commit": True}
    )
    assert fetch.length == 10 and fetch.auto_commit
    read = params_round_trip(rpc.KMSG_READ_MESSAGE, {"queue_urn": URN, "cursor": 1, "length": 10})
    assert read.cursor == 1
    page = [
        {"index": 1, "created_at": 1760000000, "payload": [104, 105], "headers": {}},
        {"index": 2, "created_at": 1760000001, "payload": [], "headers": {"k": "v"}},
    ]
    for method in (rpc.KMSG_FETCH_MESSAGES, rpc.KMSG_READ_MESSAGE):
        listed = result_round_trip(method, page)
        assert [m.index for m in listed.messages] == [1, 2]
        assert listed.messages[0].payload == b"hi"
        assert result_round_trip(method, []) == km.MessageList()


def test_commit_ack_and_seek() -> None:
    ack = params_round_trip(rpc.KMSG_COMMIT_ACK, {"sub_id": "sub-1", "index": 2})
    assert ack.index == 2
    for position in ("Earliest", "Latest", {"At": 5}):
        params_round_trip(rpc.KMSG_SEEK, {"sub_id": "sub-1", "index": position})
    assert refused(rpc.KMSG_SEEK, {"sub_id": "sub-1", "index": "At"}) == (
        'Parse Request Error: field `index`: variant `At` carries a value: write {"At": ...}'
    )


def test_delete_message_before() -> None:
    request = params_round_trip(rpc.KMSG_DELETE_MESSAGE_BEFORE, {"queue_urn": URN, "index": 3})
    assert request.index == 3
    assert result_round_trip(rpc.KMSG_DELETE_MESSAGE_BEFORE, 2) == km.DeletedCount(count=2)


# --- errors -----------------------------------------------------------------------------

TEXTS = [
    (rpc.QueueNotFoundError, URN, f"Failed due to reason: Queue not found: {URN}"),
    (rpc.QueueAlreadyExistsError, URN, f"Failed due to reason: Queue already exists: {URN}"),
    (rpc.SubscriptionNotFoundError, "sub-9", "Failed due to reason: Subscription not found: sub-9"),
    (
        rpc.SubscriptionAlreadyExistsError,
        "sub-1",
        "Failed due to reason: Subscription already exists: sub-1",
    ),
]


@pytest.mark.parametrize(("cls", "detail", "text"), TEXTS)
def test_error_texts_are_upstreams(cls: type[ReasonError], detail: str, text: str) -> None:
    raised = cls(detail)
    assert raised.text == text
    assert isinstance(raised, ReasonError)
    received = rpc.KMSG_GET_QUEUE_STATS.errors
    assert received is not None
    refined = received.refine(error_from_text(text))
    assert type(refined) is cls
    assert refined.message == detail  # type: ignore[attr-defined]


def test_storage_failures_stay_plain_reason_errors() -> None:
    errors = rpc.KMSG_ERRORS
    text = "Failed due to reason: Failed to decode queue meta: EOF while parsing"
    assert type(errors.refine(error_from_text(text))) is ReasonError


class ErrorsKmsg(rpc.KmsgServicer):
    def GetQueueStats(self, request: km.QueueUrnRequest, req: Request) -> km.QueueStats:
        raise rpc.QueueNotFoundError(request.queue_urn)

    def CreateQueue(self, request: km.CreateQueueRequest, req: Request) -> km.QueueUrn:
        raise rpc.QueueAlreadyExistsError(f"{request.appid}::{request.app_owner}::{request.name}")

    def FetchMessages(self, request: km.FetchMessagesRequest, req: Request) -> km.MessageList:
        raise rpc.SubscriptionNotFoundError(request.sub_id)

    def Subscribe(self, request: km.SubscribeRequest, req: Request) -> km.SubscriptionId:
        raise rpc.SubscriptionAlreadyExistsError(request.sub_id)


def test_every_code_reaches_the_client_typed() -> None:
    transport = LoopbackTransport(ErrorsKmsg())
    stub = rpc.KmsgStub(transport)
    calls: list[Callable[[], object]] = [
        lambda: stub.GetQueueStats(queue_urn=URN),
        lambda: stub.CreateQueue(
            name="uploads", appid="photos", app_owner="alice", config=km.QueueConfig()
        ),
        lambda: stub.Subscribe(
            queue_urn=URN,
            user_id="alice",
            app_id="photos",
            sub_id="sub-1",
            position=km.SubPosition(latest={}),
        ),
        lambda: stub.FetchMessages(sub_id="sub-9", length=1, auto_commit=False),
    ]
    seen: dict[type[RPCError], str] = {}
    for call in calls:
        with pytest.raises(RPCError) as err:
            call()
        seen[type(err.value)] = err.value.text
    assert seen == {
        rpc.QueueNotFoundError: f"Failed due to reason: Queue not found: {URN}",
        rpc.QueueAlreadyExistsError: f"Failed due to reason: Queue already exists: {URN}",
        rpc.SubscriptionAlreadyExistsError: (
            "Failed due to reason: Subscription already exists: sub-1"
        ),
        rpc.SubscriptionNotFoundError: "Failed due to reason: Subscription not found: sub-9",
    }


# --- a servicer over a real kRPC server -------------------------------------------------


class MiniKmsg(rpc.KmsgServicer):
    """A few verbs of kmsg, in memory, with upstream's rules for them."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.queues: dict[str, list[km.Message]] = {}
        self.subs: dict[str, tuple[str, int]] = {}
        self.next_sub = 0

    def CreateQueue(self, request: km.CreateQueueRequest, req: Request) -> km.QueueUrn:
        name = request.name.strip()
        urn = (
            name
            if name.startswith("/") or "::" in name
            else f"{request.appid}::{request.app_owner}::{name}"
        )
        with self.lock:
            if urn in self.queues:
                raise rpc.QueueAlreadyExistsError(urn)
            self.queues[urn] = []
        return km.QueueUrn(queue_urn=urn)

    def PostMessage(self, request: km.PostMessageRequest, req: Request) -> km.MsgIndex:
        with self.lock:
            queue = self.queues.get(request.queue_urn)
            if queue is None:
                raise rpc.QueueNotFoundError(request.queue_urn)
            message = km.Message()
            message.CopyFrom(request.message)
            message.index = len(queue) + 1
            message.created_at = message.created_at or 1760000000
            queue.append(message)
            return km.MsgIndex(index=message.index)

    def Subscribe(self, request: km.SubscribeRequest, req: Request) -> km.SubscriptionId:
        with self.lock:
            queue = self.queues.get(request.queue_urn)
            if queue is None:
                raise rpc.QueueNotFoundError(request.queue_urn)
            if request.HasField("sub_id"):
                sub_id = request.sub_id
            else:
                self.next_sub += 1
                sub_id = f"sub-{self.next_sub}"
            if sub_id in self.subs:
                raise rpc.SubscriptionAlreadyExistsError(sub_id)
            position = request.position
            which = position.WhichOneof("position")
            cursor = {"earliest": 1, "latest": len(queue) + 1}.get(which or "", position.at)
            self.subs[sub_id] = (request.queue_urn, cursor)
        return km.SubscriptionId(sub_id=sub_id)

    def FetchMessages(self, request: km.FetchMessagesRequest, req: Request) -> km.MessageList:
        with self.lock:
            if request.sub_id not in self.subs:
                raise rpc.SubscriptionNotFoundError(request.sub_id)
            urn, cursor = self.subs[request.sub_id]
            page = [m for m in self.queues[urn] if m.index >= cursor][: max(request.length, 1)]
            if request.auto_commit and page:
                self.subs[request.sub_id] = (urn, page[-1].index + 1)
        return km.MessageList(messages=page)


@pytest.fixture
def kmsg_url() -> Iterator[str]:
    """A MiniKmsg served over kRPC on a free port; its base URL (no path)."""
    ready = threading.Event()
    stop: list[asyncio.Event] = []
    urls: list[str] = []
    loop = asyncio.new_event_loop()

    async def main() -> None:
        binding = Binding(
            "kmsg", verifier=TokenVerifier(TrustKeyStore()), rbac=RbacEnforcer(), timeout=5.0
        )
        binding.add_service(MiniKmsg())
        stop.append(asyncio.Event())
        async with serving(binding, krpc_port=0, log_level="warning", register=False) as info:
            assert info.krpc_url is not None
            urls.append(info.krpc_url)
            ready.set()
            await stop[0].wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    try:
        assert ready.wait(10), "the kmsg test server did not start"
        yield urls[0]
    finally:
        if stop:
            loop.call_soon_threadsafe(stop[0].set)
        thread.join(10)
        loop.close()
        assert not thread.is_alive()


def test_end_to_end_over_krpc(kmsg_url: str) -> None:
    with KrpcTransport(f"{kmsg_url}/kapi/kmsg") as transport:
        stub = rpc.KmsgStub(transport)
        config = km.QueueConfig(other_app_can_read=True)
        urn = stub.CreateQueue(name="jobs", appid="photos", app_owner="alice", config=config)
        assert urn.queue_urn == "photos::alice::jobs"
        with pytest.raises(rpc.QueueAlreadyExistsError) as err:
            stub.CreateQueue(name="jobs", appid="photos", app_owner="alice", config=config)
        assert err.value.text == "Failed due to reason: Queue already exists: photos::alice::jobs"
        sub = stub.Subscribe(
            queue_urn=urn.queue_urn,
            user_id="alice",
            app_id="photos",
            position=km.SubPosition(earliest={}),
        )
        assert sub.sub_id == "sub-1"
        for text in ("one", "two"):
            posted = stub.PostMessage(
                queue_urn=urn.queue_urn,
                message=km.Message(payload=text.encode(), headers={"content-type": "text/plain"}),
            )
            assert posted.index in (1, 2)
        page = stub.FetchMessages(sub_id=sub.sub_id, length=10, auto_commit=True)
        assert [m.payload for m in page.messages] == [b"one", b"two"]
        assert stub.FetchMessages(sub_id=sub.sub_id, length=10, auto_commit=True) == (
            km.MessageList()
        )
        with pytest.raises(rpc.SubscriptionNotFoundError):
            stub.FetchMessages(sub_id="sub-404", length=1, auto_commit=False)


def _page_example(heading: str) -> str:
    section = PAGE.read_text(encoding="utf-8").split(f"## {heading}\n", 1)[1]
    found = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert found is not None, heading
    return found.group(1)


def test_docs_example(kmsg_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = _page_example("kmsg: an example")
    exec(compile(code, str(PAGE), "exec"), {"KMSG_URL": f"{kmsg_url}/kapi/kmsg"})
    assert capsys.readouterr().out.splitlines() == [
        "photos::alice::jobs",
        "1 b'resize 1.jpg' text/plain",
        "2 b'resize 2.jpg' text/plain",
    ]
