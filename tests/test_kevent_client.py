"""The kevent client (``runtime/client/kevent.py``) and kevent's wire (``runtime/wire/kevent.py``).

The names, patterns and texts are upstream's (``buckyos-api/src/kevent_client.rs``).  The
client runs over real sockets on 127.0.0.1 against the reference kevent
(``services/kevent``, ``tests/kevent_server.py``: publish and subscribe, the bounded
queue, the docs' examples), and against ``tests/kevent_fake.py``, a small fake, for what
the real server does not do on demand: dropped or silent streams and reconnects, refusals
and error frames with upstream's codes, the headers each request carried; sync and
asyncio.  Every wait is bounded (a few seconds at most).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

from buckyos.runtime.client import (
    AsyncKEventClient,
    KEvent,
    KEventClient,
    KEventError,
    KEventReconnect,
)
from buckyos.runtime.client.kevent_core import StreamState, Target, answer_error, kevent_base_url
from buckyos.runtime.errors import BuckyOSError, ConfigError
from buckyos.runtime.program import BuckyOSRuntime, RuntimeConfig, RuntimeType
from buckyos.runtime.program.kevent import akevent_client, kevent_client, kevent_url
from buckyos.runtime.wire import jsontext
from buckyos.runtime.wire.kevent import (
    MAX_EVENT_DATA_BYTES,
    AckFrame,
    ErrorFrame,
    EventFrame,
    KeepaliveFrame,
    KEventFrame,
    check_publish,
    encode_frame,
    event_data_size,
    match_pattern,
    normalize_patterns,
    parse_frame,
    pattern_subsumes,
    validate_eventid,
    validate_pattern,
)
from tests.kevent_fake import FakeKEvent, served_kevent
from tests.kevent_server import NODE, KEventServer, served_kevent as served_real_kevent

WAIT = 5.0
# Short keep-alives: a silent stream is dead after 3 periods (0.3 s).
KEEPALIVE_MS = 100
FAST = KEventReconnect(tries=3, first_delay=0.02, max_delay=0.1)


def until(check: Callable[[], bool], what: str, within: float = WAIT) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


async def auntil(check: Callable[[], bool], what: str, within: float = WAIT) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.01)


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
def fake() -> Iterator[FakeKEvent]:
    with served_kevent() as server:
        yield server


@pytest.fixture
def real() -> Iterator[KEventServer]:
    with served_real_kevent() as server:
        yield server


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("pattern", "text"),
    [
        ("", "empty pattern"),
        ("/", "global id/pattern must not be '/'"),
        ("/a//b", "global id/pattern contains empty segment"),
        ("/a/", "global id/pattern contains empty segment"),
        ("/a/b*", "wildcard must be a full segment '*' or '**'"),
        ("/a/***", "wildcard must be a full segment '*' or '**'"),
        ("/a b", "invalid segment 'a b'"),
        ("/é", "invalid segment 'é'"),
        ("/1/2/3/4/5/6/7/8/9", "global id/pattern depth must be <= 8"),
        ("/" + "a" * 256, "global id/pattern length must be <= 256"),
        ("x*", "local id/pattern has invalid char"),
        ("a/b", "local id/pattern must not contain '/'"),
        ("a" * 129, "local id/pattern length must be <= 128"),
    ],
)
def test_invalid_patterns_carry_upstreams_texts(pattern: str, text: str) -> None:
    with pytest.raises(KEventError) as caught:
        validate_pattern(pattern)
    assert caught.value.code == "INVALID_PATTERN"
    assert caught.value.detail == text
    assert str(caught.value) == f"INVALID_PATTERN: {text}"


def test_valid_ids_and_patterns() -> None:
    for name in ("/a", "/task_mgr/t-9a12", "/a.b/C-d/e_f", "/1/2/3/4/5/6/7/8", "local.x"):
        validate_eventid(name)
        validate_pattern(name)
    for pattern in ("/a/*", "/a/**", "/**", "/*/b/**/c"):
        validate_pattern(pattern)
    validate_eventid("/" + "a" * 255)
    with pytest.raises(KEventError, match=r"^INVALID_EVENTID: wildcard must be a full segment"):
        validate_eventid("/a/*")
    with pytest.raises(KEventError, match=r"^INVALID_EVENTID: empty eventid$"):
        validate_eventid("")


@pytest.mark.parametrize(
    ("pattern", "eventid", "matches"),
    [
        ("/a/*", "/a/b", True),
        ("/a/*", "/a", False),
        ("/a/*", "/a/b/c", False),
        ("/a/**", "/a", True),
        ("/a/**", "/a/b/c", True),
        ("/a/**", "/ab", False),
        ("/**", "/x/y", True),
        ("/**/c", "/c", True),
        ("/**/c", "/a/b/c", True),
        ("/**/c", "/a/b/c/d", False),
        ("/*/**/c", "/c", False),
        ("/a/*/c", "/a/b/c", True),
        ("/a/**/b/**/c", "/a/x/b/y/z/c", True),
        ("/a/**/b/**/c", "/a/x/c/b", False),
        ("local", "local", True),
        ("local", "/local", False),
        ("/local", "local", False),
    ],
)
def test_match_pattern(pattern: str, eventid: str, matches: bool) -> None:
    assert match_pattern(pattern, eventid) is matches


def _reference_match(pattern: list[str], event: list[str]) -> bool:
    """Upstream's recursive ``match_global_segments``, transcribed."""
    if not pattern:
        return not event
    head = pattern[0]
    if head == "**":
        return _reference_match(pattern[1:], event) or (
            bool(event) and _reference_match(pattern, event[1:])
        )
    if not event or (head != "*" and head != event[0]):
        return False
    return _reference_match(pattern[1:], event[1:])


_SEGMENTS = st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=6)
_PATTERNS = st.lists(st.sampled_from(["a", "b", "*", "**"]), min_size=1, max_size=6)


@settings(max_examples=400, deadline=None)
@given(pattern=_PATTERNS, event=_SEGMENTS)
def test_matching_is_upstreams(pattern: list[str], event: list[str]) -> None:
    expected = _reference_match(pattern, event)
    assert match_pattern("/" + "/".join(pattern), "/" + "/".join(event)) is expected


@settings(max_examples=200, deadline=None)
@given(broad=_PATTERNS, narrow=_PATTERNS, event=_SEGMENTS)
def test_subsumption_never_claims_too_much(
    broad: list[str], narrow: list[str], event: list[str]
) -> None:
    b, n, e = ("/" + "/".join(x) for x in (broad, narrow, event))
    if pattern_subsumes(b, n) and match_pattern(n, e):
        assert match_pattern(b, e)


def test_normalize_patterns_keeps_the_broadest_in_order() -> None:
    assert normalize_patterns(["/a/b", "/a/**", "/a/*", "/c", "/c"]) == ["/a/**", "/c"]
    assert normalize_patterns(["/x/*", "/x/y", "/**/z"]) == ["/x/*", "/**/z"]


def test_the_data_cap_is_64_kib_of_compact_json() -> None:
    at_cap = "x" * (MAX_EVENT_DATA_BYTES - 2)  # two quotes
    assert event_data_size(at_cap) == MAX_EVENT_DATA_BYTES
    check_publish("/a", at_cap)
    with pytest.raises(KEventError) as caught:
        check_publish("/a", at_cap + "x")
    assert caught.value.text == "INVALID_EVENTID: event data too large: 65537 bytes, max 65536"
    assert event_data_size({"k": [1, 2]}) == len(b'{"k":[1,2]}')
    assert event_data_size("é") == 4  # raw UTF-8, as serde_json writes it
    with pytest.raises(KEventError, match=r"^INVALID_EVENTID: daemon only accepts global eventid$"):
        check_publish("local", None)


# --------------------------------------------------------------------------- the wire


EVENT_JSON = (
    b'{"eventid":"/task_mgr/t-9a12","source_node":"task-manager","source_pid":4242,'
    b'"ingress_node":"ood1","timestamp":1760000000000,"data":{"k":"v"}}'
)


def test_event_json_both_ways() -> None:
    event = KEvent.from_json(jsontext.loads(EVENT_JSON))
    assert event == KEvent(
        "/task_mgr/t-9a12", "task-manager", 4242, 1760000000000, {"k": "v"}, "ood1"
    )
    assert jsontext.dumps(event.to_json()) == EVENT_JSON
    bare = KEvent("/a", "n", 1, 2)
    assert bare.to_json() == {
        "eventid": "/a",
        "source_node": "n",
        "source_pid": 1,
        "timestamp": 2,
        "data": None,
    }
    broken_ones: list[Any] = [
        {"eventid": 1},
        {**event.to_json(), "source_pid": -1},
        [],
        {**event.to_json(), "timestamp": True},
    ]
    for broken in broken_ones:
        with pytest.raises(ValueError):
            KEvent.from_json(broken)


def test_frames_both_ways() -> None:
    lines: dict[bytes, KEventFrame] = {
        b'{"type":"ack","connection_id":"http_stream_7","keepalive_ms":15000}\n': AckFrame(
            "http_stream_7", 15000
        ),
        b'{"type":"keepalive","at_ms":1760000015000}\n': KeepaliveFrame(1760000015000),
        b'{"type":"error","error":"READER_CLOSED: r1"}\n': ErrorFrame("READER_CLOSED: r1"),
        b'{"type":"event","event":' + EVENT_JSON + b"}\n": EventFrame(
            KEvent.from_json(jsontext.loads(EVENT_JSON))
        ),
        # our reference server's extra key: events the stream's server queue lost so far
        b'{"type":"event","event":' + EVENT_JSON + b',"dropped":3}\n': EventFrame(
            KEvent.from_json(jsontext.loads(EVENT_JSON)), 3
        ),
    }
    for line, frame in lines.items():
        assert parse_frame(line) == frame
        assert encode_frame(frame) == line
    assert parse_frame(b'{"type":"hello"}') is None  # a newer server's frame: skipped
    for bad in (b"nope", b"[]", b"{}", b'{"type":"ack"}'):
        with pytest.raises(ValueError):
            parse_frame(bad)


def test_the_servers_drops_are_counted_across_streams() -> None:
    state = StreamState(Target("http://127.0.0.1:1", None, 1.0), ["/a"], None, 8, FAST)
    event = b'{"type":"event","event":' + EVENT_JSON
    for line in (
        b'{"type":"ack","connection_id":"s1","keepalive_ms":100}',
        event + b"}",
        event + b',"dropped":3}',
        event + b',"dropped":5}',
        event + b',"dropped":5}',
        b'{"type":"ack","connection_id":"s2","keepalive_ms":100}',  # reopened: from 0
        event + b',"dropped":2}',
        event + b',"dropped":-1}',  # nonsense is ignored
    ):
        state.on_line(line)
    assert (state.server_dropped, state.dropped, state.received) == (7, 0, 6)


@pytest.mark.parametrize(
    ("status", "body", "code", "detail"),
    [
        (
            400,
            b'{"status":"err","code":"INVALID_EVENTID","message":"INVALID_EVENTID: empty eventid"}',
            "INVALID_EVENTID",
            "empty eventid",
        ),
        (
            503,
            b'{"status":"err","code":"DAEMON_UNAVAILABLE","message":"DAEMON_UNAVAILABLE: down"}',
            "DAEMON_UNAVAILABLE",
            "down",
        ),
        (
            410,
            b'{"status":"err","code":"READER_CLOSED","message":"READER_CLOSED: r1"}',
            "READER_CLOSED",
            "r1",
        ),
        (500, b'{"status":"err","code":"INTERNAL","message":"INTERNAL: boom"}', "INTERNAL", "boom"),
        (
            400,
            b'{"error":"INVALID_PATTERN: patterns must not be empty"}',
            "INVALID_PATTERN",
            "patterns must not be empty",
        ),
        (
            400,
            b'{"error":"Unsupported kevent path: /kapi/kevent/x"}',
            "",
            "Unsupported kevent path: /kapi/kevent/x",
        ),
        (
            400,
            b"Invalid kevent stream request: missing field `patterns`",
            "",
            "HTTP 400 from U: Invalid kevent stream request: missing field `patterns`",
        ),
        (502, b"", "", "HTTP 502 from U"),
    ],
)
def test_answers_map_to_kevent_errors(status: int, body: bytes, code: str, detail: str) -> None:
    error = answer_error(status, body, "U")
    assert (error.code, error.detail, error.status) == (code, detail, status)
    assert isinstance(error, BuckyOSError)
    assert error.retryable is (code == "DAEMON_UNAVAILABLE")


def test_error_texts_parse_back_to_codes() -> None:
    for code in KEventError.CODES:
        error = KEventError.from_text(f"{code}: x: y")
        assert (error.code, error.detail, error.text) == (code, "x: y", f"{code}: x: y")
    assert KEventError.from_text("SOMETHING: else").code == ""
    assert KEventError("INTERNAL", "x", hint="do y").text == "INTERNAL: x"
    assert str(KEventError("INTERNAL", "x", hint="do y")) == "INTERNAL: x; do y"


def test_urls() -> None:
    assert kevent_base_url("http://h:3181") == "http://h:3181/kapi/kevent"
    assert kevent_base_url("http://h:3180/kapi/kevent/") == "http://h:3180/kapi/kevent"
    assert kevent_base_url("https://zone.example/kapi/kevent") == "https://zone.example/kapi/kevent"
    for bad in (
        "h:3181",
        "ftp://h/kapi/kevent",
        "http://h/kapi/system_config",
        "http:///kapi/kevent",
    ):
        with pytest.raises(ValueError, match="kevent URL"):
            kevent_base_url(bad)


# --------------------------------------------------------------------------- sync client


def test_publish_and_subscribe_with_wildcards(real: KEventServer) -> None:
    with KEventClient(real.url, token=real.trusted()) as client:
        one = client.subscribe(["/app/*"], keepalive_ms=KEEPALIVE_MS)
        deep = client.subscribe(["/app/**"], keepalive_ms=KEEPALIVE_MS)
        assert one.connection_id != deep.connection_id
        client.publish("/app/a", {"n": 1})
        client.publish("/app/a/b", [1, 2])
        client.publish("/app", "top")
        client.publish("/other/a", None)
        got_one = one.get(WAIT)
        assert got_one is not None
        assert (got_one.eventid, got_one.data) == ("/app/a", {"n": 1})
        assert (got_one.source_node, got_one.ingress_node) == (NODE, NODE)
        assert abs(got_one.timestamp - time.time() * 1000) < 60_000
        deep_ids = [e.eventid for e in (deep.get(WAIT), deep.get(WAIT), deep.get(WAIT))]  # type: ignore[union-attr]
        assert deep_ids == ["/app/a", "/app/a/b", "/app"]
        # nothing else came: /app/a/b and /app are not /app/*, /other/a matches neither
        assert one.get(0.3) is None
        assert deep.get(0.05) is None
    real.wait_readers(0)


def test_the_token_is_asked_for_each_request(fake: FakeKEvent) -> None:
    tokens = iter(["t1", "t2", "t3"])
    with KEventClient(fake.url, token=lambda: next(tokens)) as client:
        sub = client.subscribe(["/a"], keepalive_ms=KEEPALIVE_MS, reconnect=FAST)
        client.publish("/a", 1)
        fake.end_streams()
        fake.wait_streams(1, opened=2)
        sub.close()
    assert [h.get("authorization") for _, h in fake.requests] == [
        "Bearer t1",
        "Bearer t2",
        "Bearer t3",
    ]
    with KEventClient(fake.url) as client:
        client.publish("/a", 1)
    assert "authorization" not in fake.requests[-1][1]


def test_a_dropped_stream_is_reopened(fake: FakeKEvent) -> None:
    with KEventClient(fake.url) as client:
        sub = client.subscribe(["/x/**"], keepalive_ms=KEEPALIVE_MS, reconnect=FAST)
        first = sub.connection_id
        assert fake.end_streams() == 1
        fake.wait_streams(1, opened=2)
        until(lambda: sub.reconnects == 1, "the reconnect")
        assert sub.connection_id != first
        client.publish("/x/y", "after")
        event = sub.get(WAIT)
        assert event is not None and event.data == "after"
        # a stream refused with 503 (a gateway with kevent down) is tried again
        fake.refuse("stream", 503, b"Service Unavailable", count=2)
        fake.end_streams()
        fake.wait_streams(1, opened=3)
        until(lambda: sub.reconnects == 2, "the second reconnect")
        client.publish("/x/z", "again")
        event = sub.get(WAIT)
        assert event is not None and event.data == "again"


def test_a_silent_stream_is_dead_after_three_keepalives(fake: FakeKEvent) -> None:
    with KEventClient(fake.url) as client:
        sub = client.subscribe(["/x"], keepalive_ms=KEEPALIVE_MS, reconnect=FAST)
        time.sleep(0.5)  # keep-alives alone keep it open
        assert (sub.reconnects, fake.opened) == (0, 1)
        silenced = time.monotonic()
        assert fake.silence_streams() == 1
        fake.wait_streams(1, opened=2)  # the client gave up on the silent one
        # 3 periods after the last line, which came at most one period before silence
        took = time.monotonic() - silenced
        assert 0.15 <= took < 2.0, took
        until(lambda: sub.reconnects == 1, "the reconnect")
        client.publish("/x", 1)
        assert sub.get(WAIT) is not None


def test_a_full_queue_drops_the_oldest(real: KEventServer) -> None:
    with KEventClient(real.url) as client:
        sub = client.subscribe(["/q/*"], keepalive_ms=KEEPALIVE_MS, queue_size=3)
        for n in range(10):
            client.publish(f"/q/e{n}", n)
        until(lambda: sub.received == 10, "ten events in")
        assert sub.dropped == 7
        assert [sub.get(WAIT).data for _ in range(3)] == [7, 8, 9]  # type: ignore[union-attr]
        assert sub.get(0.05) is None


def test_an_error_frame_raises_after_the_queued_events(fake: FakeKEvent) -> None:
    with KEventClient(fake.url) as client:
        sub = client.subscribe(["/e"], keepalive_ms=KEEPALIVE_MS)
        client.publish("/e", "before")
        until(lambda: sub.received == 1, "the event")
        assert fake.error_streams("READER_CLOSED: http_stream_1") == 1
        event = sub.get(WAIT)
        assert event is not None and event.data == "before"
        with pytest.raises(KEventError) as caught:
            sub.get(WAIT)
        assert (caught.value.code, caught.value.detail) == ("READER_CLOSED", "http_stream_1")
        with pytest.raises(KEventError):  # and again: the stream is over
            next(iter(sub))
        assert fake.opened == 1  # not reopened


def test_refused_streams_raise_at_subscribe(fake: FakeKEvent) -> None:
    with KEventClient(fake.url) as client:
        with pytest.raises(KEventError) as caught:  # checked here, nothing sent
            client.subscribe(["/a/b*"])
        assert caught.value.text == "INVALID_PATTERN: wildcard must be a full segment '*' or '**'"
        with pytest.raises(KEventError, match=r"^INVALID_PATTERN: patterns must not be empty$"):
            client.subscribe([])
        with pytest.raises(KEventError, match=r"^INVALID_PATTERN: daemon only supports global"):
            client.subscribe(["local"])
        assert fake.requests == []
        # what the server refuses comes back with its code and status
        fake.refuse("stream", 400, b'{"error":"INVALID_PATTERN: too many patterns"}')
        with pytest.raises(KEventError) as caught:
            client.subscribe(["/a"])
        assert (caught.value.code, caught.value.detail, caught.value.status) == (
            "INVALID_PATTERN",
            "too many patterns",
            400,
        )
        fake.refuse("stream", 403, b"No permission:kevent")
        with pytest.raises(KEventError) as caught:
            client.subscribe(["/a"])
        assert (caught.value.code, caught.value.status) == ("", 403)
        assert "No permission:kevent" in str(caught.value)
        fake.wait_streams(0)


def test_publish_errors(fake: FakeKEvent) -> None:
    with KEventClient(fake.url) as client:
        sub = client.subscribe(["/big"], keepalive_ms=KEEPALIVE_MS)
        sent = len(fake.requests)
        with pytest.raises(KEventError) as caught:
            client.publish("/big", "x" * MAX_EVENT_DATA_BYTES)
        assert caught.value.text == "INVALID_EVENTID: event data too large: 65538 bytes, max 65536"
        with pytest.raises(KEventError, match=r"^INVALID_EVENTID: daemon only accepts global"):
            client.publish("big", 1)
        assert len(fake.requests) == sent  # refused here: nothing went out
        client.publish("/big", "x" * (MAX_EVENT_DATA_BYTES - 2))  # at the cap: fine
        event = sub.get(WAIT)
        assert event is not None and len(event.data) == MAX_EVENT_DATA_BYTES - 2
        for status, code in (
            (503, "DAEMON_UNAVAILABLE"),
            (410, "READER_CLOSED"),
            (500, "INTERNAL"),
        ):
            body = f'{{"status":"err","code":"{code}","message":"{code}: no"}}'.encode()
            fake.refuse("publish", status, body)
            with pytest.raises(KEventError) as caught:
                client.publish("/big", 1)
            assert (caught.value.code, caught.value.detail, caught.value.status) == (
                code,
                "no",
                status,
            )
        fake.refuse("publish", 200, b'{"status":"maybe"}')
        with pytest.raises(KEventError, match="unexpected answer"):
            client.publish("/big", 1)
        client.publish("/big", 2)  # the connection is still good


def test_an_unreachable_kevent() -> None:
    url = f"http://127.0.0.1:{free_port()}/kapi/kevent"
    with KEventClient(url, timeout=2.0) as client:
        with pytest.raises(KEventError) as caught:
            client.publish("/a", 1)
        assert caught.value.code == "DAEMON_UNAVAILABLE" and caught.value.retryable
        assert url in str(caught.value)
        started = time.monotonic()
        with pytest.raises(KEventError) as caught:
            client.subscribe(["/a"], reconnect=KEventReconnect(tries=2, first_delay=0.01))
        assert caught.value.code == "DAEMON_UNAVAILABLE"
        assert "failed 3 times in a row" in str(caught.value)
        assert time.monotonic() - started < 2.0
        with pytest.raises(KEventError, match="no acknowledgement"):
            client.subscribe(["/a"], reconnect=KEventReconnect(tries=None, first_delay=0.05))


def test_giving_up_after_the_stream_was_up(fake: FakeKEvent) -> None:
    with KEventClient(fake.url) as client:
        sub = client.subscribe(
            ["/g"], keepalive_ms=KEEPALIVE_MS, reconnect=KEventReconnect(tries=2, first_delay=0.01)
        )
        client.publish("/g", "last")
        until(lambda: sub.received == 1, "the event")
        fake.refuse("stream", 502, b"Bad Gateway", count=5)
        fake.end_streams()
        events = []
        with pytest.raises(KEventError) as caught:
            for event in sub:
                events.append(event.data)
        assert events == ["last"]
        assert caught.value.code == "DAEMON_UNAVAILABLE"
        assert "HTTP 502" in str(caught.value)


def _token_once() -> Callable[[], str]:
    calls: list[int] = []

    def token() -> str:
        calls.append(1)
        if len(calls) > 1:
            raise RuntimeError("the token store is gone")
        return "t"

    return token


def test_a_failing_reader_reaches_the_consumer(fake: FakeKEvent) -> None:
    """A reader that stops on a bug (here the token callable) does not leave its
    consumer waiting forever."""
    with KEventClient(fake.url, token=_token_once()) as client:
        sub = client.subscribe(["/f"], keepalive_ms=KEEPALIVE_MS, reconnect=FAST)
        fake.end_streams()
        with pytest.raises(KEventError, match="RuntimeError: the token store is gone"):
            sub.get(WAIT)


@pytest.mark.asyncio
async def test_a_failing_async_reader_reaches_the_consumer(fake: FakeKEvent) -> None:
    async with AsyncKEventClient(fake.url, token=_token_once()) as client:
        sub = await client.subscribe(["/f"], keepalive_ms=KEEPALIVE_MS, reconnect=FAST)
        await asyncio.to_thread(fake.end_streams)
        with pytest.raises(KEventError, match="RuntimeError: the token store is gone"):
            await sub.get(WAIT)


def test_close_ends_iteration_and_the_reader(real: KEventServer) -> None:
    client = KEventClient(real.url)
    sub = client.subscribe(["/c"], keepalive_ms=KEEPALIVE_MS)
    seen: list[Any] = []
    consumer = threading.Thread(target=lambda: seen.extend(e.data for e in sub))
    consumer.start()
    client.publish("/c", 1)
    until(lambda: seen == [1], "the event")
    client.close()  # closes the subscription too
    consumer.join(WAIT)
    assert not consumer.is_alive() and sub.closed
    assert not sub._thread.is_alive()
    assert sub.get(0.01) is None
    real.wait_readers(0)


# --------------------------------------------------------------------------- asyncio client


@pytest.mark.asyncio
async def test_async_publish_subscribe_and_reconnect(fake: FakeKEvent) -> None:
    async with AsyncKEventClient(fake.url, token=lambda: "atok") as client:
        sub = await client.subscribe(["/a/**"], keepalive_ms=KEEPALIVE_MS, reconnect=FAST)
        star = await client.subscribe(["/a/*"], keepalive_ms=KEEPALIVE_MS)
        await client.publish("/a/b/c", {"deep": True})
        await client.publish("/a/b", "one")
        got = [await sub.get(WAIT), await sub.get(WAIT), await star.get(WAIT)]
        assert [e.eventid for e in got if e is not None] == ["/a/b/c", "/a/b", "/a/b"]
        await star.aclose()
        # dropped stream
        await asyncio.to_thread(fake.end_streams)
        await auntil(lambda: sub.reconnects == 1, "the reconnect")
        await client.publish("/a/x", 1)
        event = await sub.get(WAIT)
        assert event is not None and event.data == 1
        # silent stream
        silenced = time.monotonic()
        await asyncio.to_thread(fake.silence_streams)
        await auntil(lambda: sub.reconnects == 2, "the reconnect after silence")
        assert 0.15 <= time.monotonic() - silenced < 2.0
        await client.publish("/a/y", 2)
        async for event in sub:
            assert event.data == 2
            break
    assert fake.requests and all(h.get("authorization") == "Bearer atok" for _, h in fake.requests)
    await asyncio.to_thread(fake.wait_streams, 0)


@pytest.mark.asyncio
async def test_async_queue_errors_and_refusals(fake: FakeKEvent) -> None:
    async with AsyncKEventClient(fake.url) as client:
        sub = await client.subscribe(["/q/*"], keepalive_ms=KEEPALIVE_MS, queue_size=2)
        for n in range(5):
            await client.publish(f"/q/{n}", n)
        await auntil(lambda: sub.received == 5, "five events in")
        assert sub.dropped == 3
        assert [(await sub.get(WAIT)).data for _ in range(2)] == [3, 4]  # type: ignore[union-attr]
        assert await sub.get(0.05) is None
        await asyncio.to_thread(fake.error_streams, "INTERNAL: reader failed")
        with pytest.raises(KEventError) as caught:
            await sub.get(WAIT)
        assert (caught.value.code, caught.value.detail) == ("INTERNAL", "reader failed")

        with pytest.raises(KEventError, match=r"^INVALID_PATTERN: invalid segment 'a b'$"):
            await client.subscribe(["/a b"])
        await asyncio.to_thread(
            fake.refuse, "stream", 400, b'{"error":"INVALID_PATTERN: server says no"}'
        )
        with pytest.raises(KEventError) as caught:
            await client.subscribe(["/a"])
        assert (caught.value.code, caught.value.detail, caught.value.status) == (
            "INVALID_PATTERN",
            "server says no",
            400,
        )
        with pytest.raises(KEventError, match="event data too large: 65538 bytes, max 65536"):
            await client.publish("/q/big", "x" * MAX_EVENT_DATA_BYTES)
        await asyncio.to_thread(
            fake.refuse,
            "publish",
            503,
            b'{"status":"err","code":"DAEMON_UNAVAILABLE","message":"DAEMON_UNAVAILABLE: busy"}',
        )
        with pytest.raises(KEventError) as caught:
            await client.publish("/q/x", 1)
        assert (caught.value.code, caught.value.status) == ("DAEMON_UNAVAILABLE", 503)


@pytest.mark.asyncio
async def test_async_unreachable() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    async with AsyncKEventClient(url, timeout=2.0) as client:
        with pytest.raises(KEventError) as caught:
            await client.publish("/a", 1)
        assert caught.value.code == "DAEMON_UNAVAILABLE"
        with pytest.raises(KEventError, match="failed 2 times in a row"):
            await client.subscribe(["/a"], reconnect=KEventReconnect(tries=1, first_delay=0.01))


# --------------------------------------------------------------------------- the runtime's client


def _runtime(runtime_type: RuntimeType, **options: Any) -> BuckyOSRuntime:
    config = RuntimeConfig(
        runtime_type,
        "kevent-test",
        None,
        "alice",
        Path("/nonexistent-buckyos-root"),
        None,
        zone_did="did:web:zone.example",
        force_https=False,
        session_token="tok-a",
    )
    return BuckyOSRuntime(config, **options)


def test_where_a_runtime_reaches_kevent() -> None:
    with _runtime(RuntimeType.APP_CLIENT) as rt:
        assert kevent_url(rt) == "http://zone.example/kapi/kevent"  # the zone's public URL
    with _runtime(RuntimeType.KERNEL_SERVICE) as rt:
        assert kevent_url(rt) == "http://127.0.0.1:3180/kapi/kevent"  # the node gateway
    with _runtime(RuntimeType.KERNEL_SERVICE, gateway_url="http://127.0.0.1:4180") as rt:
        assert kevent_url(rt) == "http://127.0.0.1:4180/kapi/kevent"
    with _runtime(RuntimeType.APP_CLIENT, service_urls={"kevent": "http://n1:3181"}) as rt:
        assert kevent_url(rt) == "http://n1:3181"
        assert kevent_client(rt).url == "http://n1:3181/kapi/kevent"
    with _runtime(RuntimeType.KERNEL_SERVICE, service_urls={"kevent": "grpc://n1:3183"}) as rt:
        with pytest.raises(ConfigError, match="kevent is reached over HTTP"):
            kevent_url(rt)


def test_the_runtimes_client_carries_its_current_token(fake: FakeKEvent) -> None:
    with _runtime(RuntimeType.KERNEL_SERVICE, service_urls={"kevent": fake.url}) as rt:
        with kevent_client(rt) as client:
            client.publish("/rt/a", 1)
            rt.set_tokens("tok-b", None, source="test")
            client.publish("/rt/a", 2)
    assert [h.get("authorization") for _, h in fake.requests] == ["Bearer tok-a", "Bearer tok-b"]


@pytest.mark.asyncio
async def test_the_runtimes_async_client(fake: FakeKEvent) -> None:
    with _runtime(RuntimeType.KERNEL_SERVICE, service_urls={"kevent": fake.url}) as rt:
        async with akevent_client(rt) as client:
            sub = await client.subscribe(["/rt/**"], keepalive_ms=KEEPALIVE_MS)
            await client.publish("/rt/b/c", "x")
            event = await sub.get(WAIT)
            assert event is not None and event.eventid == "/rt/b/c"
    assert {h.get("authorization") for _, h in fake.requests} == {"Bearer tok-a"}


# --------------------------------------------------------------------------- docs/kevent.md


def _docs_example(heading: str) -> str:
    page = (Path(__file__).resolve().parents[1] / "docs" / "kevent.md").read_text("utf-8")
    section = page.split(f"{heading}\n", 1)[1]
    found = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert found is not None, heading
    return found.group(1)


@pytest.mark.parametrize(
    ("heading", "printed"),
    [
        ("## Publish and subscribe", r"^/my_app/jobs/j-1/done \{'ok': True\} test-node \d{13}\n$"),
        ("### asyncio", r"^/my_app/ping \[1, 2\]\n$"),
    ],
)
def test_the_docs_examples_run(real: KEventServer, heading: str, printed: str) -> None:
    code = _docs_example(heading)
    assert "http://127.0.0.1:3181/kapi/kevent" in code
    code = code.replace("http://127.0.0.1:3181", f"http://127.0.0.1:{real.port}")
    # the reference kevent checks tokens: the example's placeholder becomes a real one
    code = code.replace('"my-session-token"', repr(real.trusted()))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, f"docs/kevent.md {heading}", "exec"), {"__name__": "docs_example"})
    assert re.match(printed, out.getvalue()), out.getvalue()
    real.wait_readers(0)
