"""Events without a socket (registry, queue, framing) and the refusals every non-link wire gets."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from buckyos.generated import system_config_pb2 as sc
from buckyos.runtime.client.inprocess import InProcessTransport
from buckyos.runtime.client.krpc_client import KrpcTransport
from buckyos.runtime.errors import ContractError, ParseRequestError, ReasonError
from buckyos.runtime.wire.events import EventHub
from buckyos.runtime.wire.link import (
    CLOSE_OVERFLOW,
    EVENT,
    REPLY,
    CallFrame,
    FrameError,
    LinkSession,
    Outbox,
    OutFrame,
    encode_call,
    encode_out,
    parse_call,
    parse_out,
)
from tests.event_fixtures import EV_LATE, EV_SUB, make_world, served, wait_until

NO_LINK = (
    "Failed due to reason: events need a streaming link: this {wire} request cannot hold a "
    "subscription; call ev/ev_sub over the WebSocket link (ws://<host>:<krpc port>/kapi/link, "
    "subprotocol x-afb-ws-json1) or the gRPC link (/buckyos.Link/Connect)"
)


class Inbox:
    """A listener that records what it is given (and can refuse, like a full queue)."""

    def __init__(self, accept: bool = True) -> None:
        self.got: list[tuple[str, str]] = []
        self.accept = accept

    def deliver(self, name: str, data: str) -> bool:
        if self.accept:
            self.got.append((name, data))
        return self.accept


def test_event_names_and_push_counts_per_connection() -> None:
    hub = EventHub()
    changed = hub.event("notes", "changed")
    assert changed.name == "notes/changed" and hub.event("notes", "changed") is changed
    one, two, full = Inbox(), Inbox(), Inbox(accept=False)
    for inbox in (one, two, full):
        hub.attach(inbox)
    scopes = [hub.scope(inbox, "ws") for inbox in (one, two, full)]
    assert [scope.subscribe(changed, "notes/watch") for scope in scopes] == [True] * 3
    assert scopes[0].subscribe(changed, "notes/watch") is False  # twice counts once
    assert changed.subscribers == 3
    # A listener that cannot take it (full) is not counted.
    assert changed.push({"id": 1}) == 2
    assert one.got == two.got == [("notes/changed", '{"id":1}')]
    assert scopes[1].unsubscribe(changed, "notes/unwatch") is True
    assert scopes[1].unsubscribe(changed, "notes/unwatch") is False
    assert changed.push(None) == 1 and two.got == [("notes/changed", '{"id":1}')]
    assert one.got == [("notes/changed", '{"id":1}'), ("notes/changed", "null")]
    # Closing a connection drops its subscriptions, and nothing reaches it afterwards.
    assert hub.detach(one) == 1
    assert changed.subscribers == 1 and changed.push("x") == 0
    assert one.got == [("notes/changed", '{"id":1}'), ("notes/changed", "null")]
    with pytest.raises(ReasonError, match="the caller's link closed; nothing to subscribe"):
        scopes[0].subscribe(changed, "notes/watch")
    with pytest.raises(ValueError, match="not valid"):
        hub.event("notes", "")
    with pytest.raises(ValueError, match="not valid"):
        hub.event("notes", "/abs")


def test_unsubscribe_with_a_last_event_reaches_that_connection_alone() -> None:
    hub = EventHub()
    changed = hub.event("notes", "changed")
    mirrored: list[tuple[str, str]] = []
    hub.set_mirror("notes", lambda name, text: mirrored.append((name, text)))
    one, two = Inbox(), Inbox()
    scopes = []
    for inbox in (one, two):
        hub.attach(inbox)
        scopes.append(hub.scope(inbox, "ws"))
        scopes[-1].subscribe(changed, "notes/watch")
    assert scopes[0].unsubscribe(changed, "notes/unwatch", {"end": "bye"}) is True
    assert one.got == [("notes/changed", '{"end":"bye"}')] and two.got == []
    assert mirrored == []  # one link's farewell, not an event of the api
    # Not subscribed any more: no second last event, and nothing pushed reaches it.
    assert scopes[0].unsubscribe(changed, "notes/unwatch", {"end": "again"}) is False
    assert changed.push(1) == 1
    assert one.got == [("notes/changed", '{"end":"bye"}')]
    assert two.got == [("notes/changed", "1")]


def test_subscribe_after_the_reply_and_foreign_events_are_refused() -> None:
    hub, other = EventHub(), EventHub()
    inbox = Inbox()
    hub.attach(inbox)
    scope = hub.scope(inbox, "ws")
    with pytest.raises(ReasonError) as foreign:
        scope.subscribe(other.event("a", "b"), "a/watch")
    assert (
        str(foreign.value) == "Failed due to reason: a/watch: event a/b belongs to another binding"
    )
    scope.finish()
    with pytest.raises(ReasonError) as late:
        scope.subscribe(hub.event("a", "b"), "a/watch")
    assert str(late.value) == (
        "Failed due to reason: a/watch: subscribe(a/b) after the reply; "
        "a verb must (un)subscribe before it answers"
    )


def test_bad_event_data_is_refused_before_anyone_gets_it() -> None:
    hub = EventHub()
    inbox = Inbox()
    hub.attach(inbox)
    event = hub.event("a", "b")
    hub.scope(inbox, "ws").subscribe(event, "a/watch")
    with pytest.raises(TypeError):
        event.push({"when": object()})
    with pytest.raises(ValueError):
        event.push(float("nan"))
    assert inbox.got == []
    assert event.push("\ud800") == 1  # a lone surrogate travels escaped, as valid UTF-8
    assert inbox.got == [("a/b", '"\\ud800"')]


def test_push_from_many_threads_counts_every_delivery() -> None:
    hub = EventHub()
    inboxes = [Inbox() for _ in range(4)]
    event = hub.event("a", "tick")
    for inbox in inboxes:
        hub.attach(inbox)
        hub.scope(inbox, "ws").subscribe(event, "a/watch")
    counts: list[int] = []
    lock = threading.Lock()

    def pusher(n: int) -> None:
        for i in range(200):
            delivered = event.push([n, i])
            with lock:
                counts.append(delivered)

    threads = [threading.Thread(target=pusher, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert counts == [4] * 800
    assert all(len(inbox.got) == 800 for inbox in inboxes)


@pytest.mark.asyncio
async def test_outbox_overflow_closes_instead_of_blocking_or_losing_silently() -> None:
    outbox = Outbox(limit=2)
    assert outbox.offer(OutFrame(EVENT, "a/b", "1")) and outbox.offer(OutFrame(EVENT, "a/b", "2"))
    assert outbox.offer(OutFrame(EVENT, "a/b", "3")) is False  # the third would overflow
    assert outbox.closed and outbox.close_code == CLOSE_OVERFLOW
    assert outbox.close_reason.startswith("event queue overflow: over 2 frames unread")
    assert await outbox.get() is None  # what waited is dropped: nothing after the close
    assert outbox.put(OutFrame(REPLY, 1, "null")) is False


@pytest.mark.asyncio
async def test_outbox_wakes_its_writer_from_another_thread() -> None:
    outbox = Outbox(limit=8)
    getter = asyncio.create_task(outbox.get())
    await asyncio.sleep(0.01)
    thread = threading.Thread(target=outbox.offer, args=(OutFrame(EVENT, "a/b", "[]"),))
    thread.start()
    assert await asyncio.wait_for(getter, 2) == OutFrame(EVENT, "a/b", "[]")
    thread.join(timeout=5)


def test_frames_parse_and_encode_as_the_binder_writes_them() -> None:
    assert parse_call('[2,"7","notes/get",{"id":1}]') == CallFrame("7", "notes", "get", {"id": 1})
    assert parse_call('[2,8,"a/b/c",null,"tok"]') == CallFrame(8, "a", "b/c", None, "tok")
    assert encode_call("1", "a/b", {"k": "v"}) == '[2,"1","a/b",{"k":"v"}]'
    assert encode_call(2, "a/b", None, "t") == '[2,2,"a/b",null,"t"]'
    assert encode_out(OutFrame(REPLY, "7", '{"x":1}')) == '[3,"7",{"x":1}]'
    assert encode_out(OutFrame(4, None, "Unknown method: x")) == '[4,null,"Unknown method: x"]'
    assert encode_out(OutFrame(EVENT, "a/b", "[1]")) == '[5,"a/b",[1]]'
    assert parse_out('[5,"a/b",[1]]') == (5, "a/b", [1])
    cases = {
        "nope": (
            None,
            "Parse Request Error: the frame is not JSON (Expecting value: line 1 column 1 (char 0))",
        ),
        "{}": (
            None,
            'Parse Request Error: a call frame is a JSON array [2, id, "api/verb", args] (optional 5th: token)',
        ),
        '[3,"1",null]': (
            "1",
            'Parse Request Error: a client sends call frames (2), not 3; a call frame is a JSON array [2, id, "api/verb", args] (optional 5th: token)',
        ),
        '[2,"1","a/b"]': (
            "1",
            'Parse Request Error: 3 items; a call frame is a JSON array [2, id, "api/verb", args] (optional 5th: token)',
        ),
        '[2,true,"a/b",null]': (
            None,
            "Parse Request Error: the call id must be a string or an integer",
        ),
        '[2,"1","ab",null]': (
            "1",
            "Parse Request Error: the call names 'ab'; write \"<api>/<verb>\"",
        ),
        '[2,"1","a/b",null,5]': ("1", "Parse Request Error: the token (5th item) must be a string"),
        '[2,"1","a/b",NaN]': (
            None,
            "Parse Request Error: the frame is not JSON (NaN is not valid JSON)",
        ),
    }
    for text, (frame_id, message) in cases.items():
        with pytest.raises(FrameError) as caught:
            parse_call(text)
        assert (caught.value.id, caught.value.error.text) == (frame_id, message), text
        assert isinstance(caught.value.error, ParseRequestError)


def test_make_event_names_the_api_like_require_api() -> None:
    world = make_world()
    binding = world.binding
    assert binding.make_event("changed").name == "ev/changed"  # the only api served
    binding.add_api("other")
    with pytest.raises(ContractError, match=r"make_event needs api=\.\.\. to say which one"):
        binding.make_event("changed")
    assert binding.make_event("changed", api="other").name == "other/changed"
    with pytest.raises(ContractError, match="no api nope"):
        binding.make_event("changed", api="nope")


@pytest.mark.asyncio
async def test_subscribe_over_krpc_and_in_process_gets_a_clear_error() -> None:
    world = make_world()
    async with served(world) as info:
        assert info.krpc_url is not None
        for transport, wire in (
            (KrpcTransport(info.krpc_url, token=world.alice), "krpc"),
            (InProcessTransport(world.binding, token=world.alice), "inprocess"),
        ):
            with pytest.raises(ReasonError) as caught:
                await transport.ainvoke(EV_SUB, sc.KeyRequest(key="changed"))
            assert str(caught.value) == NO_LINK.format(wire=wire)
            aclose = getattr(transport, "aclose", None)
            if aclose is not None:
                await aclose()
        assert world.binding.make_event("changed").subscribers == 0


@pytest.mark.asyncio
async def test_broadcast_reaches_onevent_from_the_loop_and_from_a_thread() -> None:
    world = make_world()
    binding = world.binding
    await binding.init()
    event = binding.make_event("all")
    assert event.broadcast({"n": 1}) == (0, 1)  # no link yet; the one onevent hook
    done = threading.Event()
    results: list[Any] = []

    def from_thread() -> None:
        results.append(binding.broadcast("ev/all", {"n": 2}))
        done.set()

    threading.Thread(target=from_thread).start()
    await wait_until(lambda: len(world.onevent) == 2, what="both hooks ran")
    assert done.is_set() and results[0].total == 1
    assert world.onevent == [("ev/all", {"n": 1}), ("ev/all", {"n": 2})]
    assert await binding.abroadcast(event, 3) == (0, 1)
    assert world.onevent[-1] == ("ev/all", 3)
    with pytest.raises(ValueError, match="an Event or an 'api/name' string"):
        binding.broadcast("all", 1)
    binding.close()


@pytest.mark.asyncio
async def test_late_subscribe_in_a_job_after_the_reply_is_refused_in_process() -> None:
    world = make_world()
    await InProcessTransport(world.binding, token=world.alice).ainvoke(
        EV_LATE, sc.KeyRequest(key="x")
    )
    await wait_until(lambda: len(world.late) == 1, what="the late subscribe")
    assert isinstance(world.late[0], ReasonError)
    assert "events need a streaming link: this inprocess request" in str(world.late[0])
    world.binding.close()


class Gate:
    """A dispatcher whose calls wait until the test opens the gate."""

    def __init__(self) -> None:
        self.open = asyncio.Event()

    def services(self) -> tuple[Any, ...]:
        return ()

    def lookup(self, api: str, krpc: str) -> Any:
        return EV_SUB if (api, krpc) == ("ev", "ev_sub") else None

    async def call(self, method: Any, message: Any, info: Any) -> Any:
        await self.open.wait()
        return sc.GetResult(value=info.token)


@pytest.mark.asyncio
async def test_a_session_refuses_an_id_in_flight_and_answers_in_its_own_time() -> None:
    gate = Gate()
    session = LinkSession(gate, EventHub(), token="conn", transport="ws")
    await session.submit(CallFrame("1", "ev", "ev_sub", {"key": "k"}))
    await session.submit(CallFrame("1", "ev", "ev_sub", {"key": "k"}, token="own"))
    await session.submit(CallFrame(2, "zz", "nope", None))
    assert await asyncio.wait_for(session.outbox.get(), 2) == OutFrame(
        4, "1", "Parse Request Error: call id '1' is already in flight"
    )
    assert await asyncio.wait_for(session.outbox.get(), 2) == OutFrame(
        4, 2, "Unknown method: zz/nope"
    )
    gate.open.set()
    assert await asyncio.wait_for(session.outbox.get(), 2) == OutFrame(3, "1", '{"value":"conn"}')
    await session.submit(CallFrame("1", "ev", "ev_sub", {"key": "k"}, token="own"))
    assert await asyncio.wait_for(session.outbox.get(), 2) == OutFrame(3, "1", '{"value":"own"}')
    await session.aclose()
    assert await session.outbox.get() is None
