"""The reference kevent (``services/kevent``) over real sockets on 127.0.0.1.

Upstream's wire (the op protocol, publish, the stream, its refusals), the bounded reader
queues (a stream client that never reads slows nobody), the bounds on readers, and our
authentication and policy: who may publish and read what, tokens forged, expired or of
another user, and requests that only pretend to be local.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from buckyos.runtime.client import AsyncKEventClient, KEvent, KEventClient, KEventError
from buckyos.runtime.wire import EventFrame, encode_frame
from buckyos.services.kevent import MAX_BODY
from tests.kevent_server import NODE, KEventServer, served_kevent

WAIT = 10.0
Answer = tuple[int, str, bytes]


def post(
    base: str,
    path: str,
    body: Any,
    headers: dict[str, str] | None = None,
    *,
    method: str = "POST",
    timeout: float = WAIT,
) -> Answer:
    """One request; ``(status, content type, body)``."""
    host, port = base.removeprefix("http://").rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        conn.request(
            method, path, body=data, headers={"Content-Type": "application/json", **(headers or {})}
        )
        response = conn.getresponse()
        return response.status, response.getheader("Content-Type") or "", response.read()
    finally:
        conn.close()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def op(server: KEventServer, body: dict[str, Any], token: str | None = None) -> Any:
    status, _, answer = post(server.base, "/kapi/kevent", body, bearer(token) if token else None)
    assert status == 200, answer
    return json.loads(answer)


class RawStream:
    """A stream read line by line from a plain socket (or never read at all)."""

    def __init__(self, base: str, body: dict[str, Any], headers: dict[str, str] | None = None):
        host, port = base.removeprefix("http://").rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=WAIT)
        data = json.dumps(body).encode()
        head = f"POST /kapi/kevent/stream HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        for name, value in (headers or {}).items():
            head += f"{name}: {value}\r\n"
        head += f"Content-Length: {len(data)}\r\n\r\n"
        self.sock.sendall(head.encode() + data)
        self.file = self.sock.makefile("rb")

    def head(self) -> tuple[int, dict[str, str]]:
        status = int(self.file.readline().split()[1])
        headers: dict[str, str] = {}
        while (line := self.file.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            headers[name.strip().lower()] = value.strip()
        return status, headers

    def line(self) -> bytes:
        """The next NDJSON line (chunked encoding undone: one frame per chunk)."""
        while True:
            size = int(self.file.readline().strip(), 16)
            if size == 0:
                return b""
            chunk = self.file.read(size)
            self.file.readline()
            if chunk:
                return chunk

    def close(self) -> None:
        self.file.close()
        self.sock.close()


@pytest.fixture
def server() -> Iterator[KEventServer]:
    with served_kevent() as served:
        yield served


# --------------------------------------------------------------------------- the wire


def test_publish_and_stream_round_trip(server: KEventServer) -> None:
    with KEventClient(server.url) as client:  # local: directly on 127.0.0.1, no token
        one = client.subscribe(["/app/*"], keepalive_ms=200)
        deep = client.subscribe(["/app/**"], keepalive_ms=200)
        client.publish("/app/a", {"n": 1})
        client.publish("/app/a/b", [1, 2])
        client.publish("/other/a", None)
        event = one.get(WAIT)
        assert event is not None and (event.eventid, event.data) == ("/app/a", {"n": 1})
        assert (event.source_node, event.ingress_node, event.source_pid) == (
            NODE,
            NODE,
            os.getpid(),
        )
        assert abs(event.timestamp - time.time() * 1000) < 10_000
        assert [e.eventid for e in (deep.get(WAIT), deep.get(WAIT))] == ["/app/a", "/app/a/b"]  # type: ignore[union-attr]
        assert one.get(0.3) is None and deep.get(0.05) is None
    server.wait_readers(0)


def test_the_stream_frames_on_the_wire(server: KEventServer) -> None:
    stream = RawStream(server.base, {"patterns": ["/w/*"], "keepalive_ms": 150})
    try:
        status, headers = stream.head()
        assert (status, headers["content-type"]) == (200, "application/x-ndjson")
        assert (
            stream.line() == b'{"type":"ack","connection_id":"http_stream_1","keepalive_ms":150}\n'
        )
        started = time.monotonic()
        keepalive = json.loads(stream.line())
        assert keepalive["type"] == "keepalive" and set(keepalive) == {"type", "at_ms"}
        assert 0.1 < time.monotonic() - started < 2.0
        assert post(server.base, "/kapi/kevent/publish", {"eventid": "/w/x", "data": [1]})[0] == 200
        line = stream.line()
        event = KEvent.from_json(json.loads(line)["event"])
        assert line == encode_frame(EventFrame(event))  # upstream's frame, byte for byte
    finally:
        stream.close()
    stream = RawStream(server.base, {"patterns": ["/w"]})
    try:
        assert stream.head()[0] == 200
        assert json.loads(stream.line())["keepalive_ms"] == 15000  # the default
    finally:
        stream.close()
    server.wait_readers(0)


def test_the_op_protocol(server: KEventServer) -> None:
    ok = {"status": "ok"}
    assert op(server, {"op": "register_reader", "reader_id": "r1", "patterns": ["/t/*"]}) == ok
    assert op(server, {"op": "pull_event", "reader_id": "r1", "timeout_ms": 0}) == ok
    started = time.monotonic()
    assert op(server, {"op": "pull_event", "reader_id": "r1", "timeout_ms": 300}) == ok
    assert 0.25 < time.monotonic() - started < 3.0
    event = {
        "eventid": "/t/1",
        "source_node": "me",
        "source_pid": 7,
        "timestamp": 5,
        "data": {"a": 1},
    }
    assert op(server, {"op": "publish_global", "event": event}) == ok
    assert op(server, {"op": "pull_event", "reader_id": "r1", "timeout_ms": 0}) == {
        "status": "ok",
        "event": {**event, "ingress_node": NODE},
    }
    # a waiting pull is woken by a publish (HTTP publish here), on the bare path "/"
    threading.Timer(0.2, post, (server.base, "/kapi/kevent/publish", {"eventid": "/t/2"})).start()
    answer = op(server, {"op": "pull_event", "reader_id": "r1", "timeout_ms": 5000})
    assert answer["event"]["eventid"] == "/t/2"
    # patterns: /t/* does not match /t/a/b until ** is added; removed again
    assert (
        op(server, {"op": "update_reader", "reader_id": "r1", "add": ["/t/**"], "remove": ["/t/*"]})
        == ok
    )
    assert post(server.base, "/publish", {"eventid": "/t/a/b"})[0] == 200
    assert (
        op(server, {"op": "pull_event", "reader_id": "r1", "timeout_ms": 0})["event"]["eventid"]
        == "/t/a/b"
    )
    assert (
        op(server, {"op": "update_reader", "reader_id": "r1", "add": [], "remove": ["/t/**"]}) == ok
    )
    assert post(server.base, "/publish", {"eventid": "/t/a/c"})[0] == 200
    assert op(server, {"op": "pull_event", "reader_id": "r1", "timeout_ms": 0}) == ok
    assert op(server, {"op": "unregister_reader", "reader_id": "r1"}) == ok
    closed = {"status": "err", "code": "READER_CLOSED", "message": "READER_CLOSED: r1"}
    assert op(server, {"op": "pull_event", "reader_id": "r1", "timeout_ms": 0}) == closed
    # a reader unregistered while a pull waits: READER_CLOSED
    assert op(server, {"op": "register_reader", "reader_id": "r2", "patterns": ["/z"]}) == ok
    threading.Timer(0.2, op, (server, {"op": "unregister_reader", "reader_id": "r2"})).start()
    answer = op(server, {"op": "pull_event", "reader_id": "r2", "timeout_ms": 5000})
    assert answer == {"status": "err", "code": "READER_CLOSED", "message": "READER_CLOSED: r2"}
    assert op(server, {"op": "register_reader", "reader_id": "r3", "patterns": ["/a/b*"]}) == {
        "status": "err",
        "code": "INVALID_PATTERN",
        "message": "INVALID_PATTERN: wildcard must be a full segment '*' or '**'",
    }
    local = {"eventid": "x", "source_node": "me", "source_pid": 7, "timestamp": 5, "data": None}
    assert op(server, {"op": "publish_global", "event": local}) == {
        "status": "err",
        "code": "INVALID_EVENTID",
        "message": "INVALID_EVENTID: daemon only accepts global eventid",
    }
    server.wait_readers(0)


def test_refusals_on_the_wire(server: KEventServer) -> None:
    base = server.base
    assert post(base, "/kapi/kevent/publish", b"", method="GET") == (
        400,
        "text/plain; charset=utf-8",
        b"Method not allowed",
    )
    assert post(base, "/kapi/other", {}) == (
        400,
        "application/json",
        b'{"error":"Unsupported kevent path: /kapi/other"}',
    )
    for path in ("/kapi/kevent/publish", "/kapi/kevent/stream", "/kapi/kevent"):
        status, kind, body = post(base, path, b"{not json")
        assert (status, kind) == (400, "text/plain; charset=utf-8"), body
        assert body.startswith(b"Invalid kevent ")
    status, kind, body = post(
        base, "/kapi/kevent/publish", {"eventid": "/big", "data": "x" * 65535}
    )
    assert (status, body) == (
        400,
        b'{"status":"err","code":"INVALID_EVENTID","message":"INVALID_EVENTID: event data too large: 65537 bytes, max 65536"}',
    )
    assert post(base, "/kapi/kevent/publish", {"eventid": "/big", "data": "x" * 65534})[0] == 200
    assert post(base, "/kapi/kevent/publish", {"eventid": "/a/", "data": 1})[2] == (
        b'{"status":"err","code":"INVALID_EVENTID",'
        b'"message":"INVALID_EVENTID: global id/pattern contains empty segment"}'
    )
    assert post(base, "/kapi/kevent/stream", {"patterns": ["/a/b*"]})[:3:2] == (
        400,
        b"{\"error\":\"INVALID_PATTERN: wildcard must be a full segment '*' or '**'\"}",
    )
    too_many = {"patterns": [f"/p/{n}" for n in range(257)]}
    assert post(base, "/kapi/kevent/stream", too_many)[:3:2] == (
        400,
        b'{"error":"INVALID_PATTERN: too many patterns (257 > 256)"}',
    )
    status, _, body = post(base, "/kapi/kevent/publish", b"x" * (MAX_BODY + 1))
    assert status == 413, body


def test_a_stream_that_never_reads_slows_nobody() -> None:
    events, size = 300, 60_000
    with served_kevent() as server:
        stalled = RawStream(server.base, {"patterns": ["/load/**"]})
        stalled.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        with KEventClient(server.url) as client:
            reader = client.subscribe(["/load/*"], queue_size=events)
            server.wait_readers(2)
            host, port = server.base.removeprefix("http://").rsplit(":", 1)
            conn = http.client.HTTPConnection(host, int(port), timeout=WAIT)
            slowest = 0.0
            started = time.monotonic()
            for n in range(events):
                body = json.dumps({"eventid": f"/load/{n}", "data": "x" * size})
                sent = time.monotonic()
                conn.request("POST", "/kapi/kevent/publish", body=body)
                response = conn.getresponse()
                assert (response.status, response.read()) == (200, b'{"status":"ok"}')
                slowest = max(slowest, time.monotonic() - sent)
            took = time.monotonic() - started
            conn.close()
            got = [reader.get(WAIT) for _ in range(events)]
            assert [e.eventid for e in got if e is not None] == [
                f"/load/{n}" for n in range(events)
            ]
            assert reader.dropped == 0
        # 18 MB went to a stream whose client reads nothing: its queue (2 MiB) lost the
        # oldest, the publisher never waited for it.
        assert server.dropped() > events // 2
        assert slowest < 5.0 and took < 60.0, (slowest, took)  # bounded, even on a busy machine
        stalled.close()
        server.wait_readers(0)


def test_a_reader_is_told_what_its_queue_lost() -> None:
    with served_kevent(capacity=3) as server:
        register = {"op": "register_reader", "reader_id": "slow", "patterns": ["/q/*"]}
        assert op(server, register) == {"status": "ok"}
        for n in range(8):
            assert post(server.base, "/kapi/kevent/publish", {"eventid": f"/q/{n}"})[0] == 200
        pulls = [
            op(server, {"op": "pull_event", "reader_id": "slow", "timeout_ms": 0}) for _ in range(4)
        ]
        # the oldest five went; each answer says how many so far (an extra key)
        assert [(p["event"]["eventid"], p["dropped"]) for p in pulls[:3]] == [
            ("/q/5", 5),
            ("/q/6", 5),
            ("/q/7", 5),
        ]
        assert pulls[3] == {"status": "ok"}
        assert server.dropped() == 5


def test_a_stream_that_reads_nothing_is_cut() -> None:
    with served_kevent(stall_timeout=1.0) as server:
        stalled = RawStream(server.base, {"patterns": ["/s/*"]})
        stalled.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        try:
            server.wait_readers(1)
            for n in range(200):  # 12 MB: more than the socket buffers take
                body = {"eventid": f"/s/{n}", "data": "x" * 60_000}
                assert post(server.base, "/kapi/kevent/publish", body)[0] == 200
            server.wait_readers(0, within=8.0)  # its write waited 1 s: cut, slot freed
        finally:
            stalled.close()


def test_readers_are_bounded() -> None:
    with served_kevent(max_readers=3, max_per_owner=2) as server:
        alice = bearer(server.token())
        first = RawStream(server.base, {"patterns": ["/notes/**"]}, alice)
        second = RawStream(server.base, {"patterns": ["/notes/**"]}, alice)
        assert first.head()[0] == second.head()[0] == 200
        status, _, body = post(server.base, "/kapi/kevent/stream", {"patterns": ["/notes"]}, alice)
        assert status == 503
        assert json.loads(body)["error"].startswith(
            "DAEMON_UNAVAILABLE: too many readers for a token of user alice, app notes (2)"
        )
        third = RawStream(server.base, {"patterns": ["/x"]})  # local: the last one
        assert third.head()[0] == 200
        answer = op(server, {"op": "register_reader", "reader_id": "r", "patterns": ["/x"]})
        assert (
            answer["code"] == "DAEMON_UNAVAILABLE" and "too many readers (3)" in answer["message"]
        )
        for stream in (first, second, third):
            stream.close()
        server.wait_readers(0)
        assert op(server, {"op": "register_reader", "reader_id": "r", "patterns": ["/x"]}) == {
            "status": "ok"
        }


# --------------------------------------------------------------------------- auth


def _refused(answer: Answer) -> tuple[int, str]:
    status, _, body = answer
    value = json.loads(body)
    return status, value.get("message") or value.get("error")


def test_tokens_that_are_refused(server: KEventServer) -> None:
    cases = {
        "forged": (
            bearer(server.token(signer="stranger")),
            "Invalid token: JWT decode error:InvalidSignature",
        ),
        "expired": (
            bearer(server.token(ttl=-120)),
            "Invalid token: JWT decode error:ExpiredSignature",
        ),
        "not bearer": (
            {"Authorization": "Basic YWxpY2U6eA=="},
            "Invalid token: the Authorization header must be 'Bearer <session token>'",
        ),
        "garbage": (
            bearer("not-a-token"),
            "Invalid token: JWT decode error:InvalidToken (expected 3 segments)",
        ),
    }
    for name, (headers, text) in cases.items():
        for path, body in (
            ("/kapi/kevent/publish", {"eventid": "/notes/a"}),
            ("/kapi/kevent/stream", {"patterns": ["/notes/a"]}),
            ("/kapi/kevent", {"op": "register_reader", "reader_id": "r", "patterns": ["/a"]}),
        ):
            assert _refused(post(server.base, path, body, headers)) == (401, text), (name, path)
    assert server.readers() == 0


def test_what_an_app_token_may_publish_and_read(server: KEventServer) -> None:
    alice = server.token("alice", "notes")
    bob = server.token("bob", "photos")
    with (
        KEventClient(server.url, token=alice) as as_alice,
        KEventClient(server.url, token=bob) as as_bob,
        KEventClient(server.url, token=server.trusted()) as as_service,
    ):
        alice_sees = as_alice.subscribe(["/**"], keepalive_ms=200)
        bob_sees = as_bob.subscribe(["/**"], keepalive_ms=200)
        all_seen = as_service.subscribe(["/**"], keepalive_ms=200)
        as_alice.publish("/notes/n1", 1)  # its own app's ids
        with pytest.raises(KEventError) as caught:
            as_alice.publish("/photos/p1", 1)
        assert (caught.value.status, caught.value.code) == (403, "NO_PERMISSION")
        assert caught.value.detail == (
            "No permission:a token of user alice, app notes may publish only under /notes/**, "
            "not /photos/p1; publish under the app's own id or use a zone-trusted token"
        )
        as_service.publish("/task_mgr/t-1", "nobody named")
        for n, audience in enumerate(({"users": ["alice"]}, {"apps": ["photos"]})):
            status, _, body = post(
                server.base,
                "/kapi/kevent/publish",
                {"eventid": f"/task_mgr/t-{n + 2}", "data": n, "audience": audience},
                bearer(server.trusted()),
            )
            assert (status, body) == (200, b'{"status":"ok"}')
        # an app token may not name an audience
        status, _, body = post(
            server.base,
            "/kapi/kevent/publish",
            {"eventid": "/notes/n2", "audience": {"users": ["bob"]}},
            bearer(alice),
        )
        assert status == 403 and b"may not name an audience" in body
        as_service.publish("/notes/n3", "the app's, from a service")

        def ids(sub: Any, count: int) -> list[str]:
            got = [sub.get(WAIT) for _ in range(count)]
            assert sub.get(0.3) is None
            return [e.eventid for e in got]

        assert ids(alice_sees, 3) == ["/notes/n1", "/task_mgr/t-2", "/notes/n3"]
        # bob's session names app "photos", which proves nothing: t-3's apps audience
        # does not reach it (stricter than upstream).
        assert ids(bob_sees, 0) == []
        assert ids(all_seen, 5) == [
            "/notes/n1",
            "/task_mgr/t-1",
            "/task_mgr/t-2",
            "/task_mgr/t-3",
            "/notes/n3",
        ]
    server.wait_readers(0)


def test_the_audience_never_reaches_readers(server: KEventServer) -> None:
    stream = RawStream(server.base, {"patterns": ["/a"]})
    try:
        assert stream.head()[0] == 200 and b'"ack"' in stream.line()
        body = {"eventid": "/a", "data": 1, "audience": {"users": ["alice"], "apps": []}}
        assert post(server.base, "/kapi/kevent/publish", body)[0] == 200
        event = json.loads(stream.line())["event"]
        assert set(event) == {
            "eventid",
            "source_node",
            "source_pid",
            "ingress_node",
            "timestamp",
            "data",
        }
    finally:
        stream.close()
    bad = {"eventid": "/a", "audience": {"users": "alice"}}
    assert post(server.base, "/kapi/kevent/publish", bad)[:3:2] == (
        400,
        b"Invalid kevent publish request: audience.users must be a list of strings",
    )


def test_another_callers_reader_is_unknown(server: KEventServer) -> None:
    alice, bob = server.token("alice", "notes"), server.token("bob", "notes")
    assert op(
        server, {"op": "register_reader", "reader_id": "mine", "patterns": ["/notes/**"]}, alice
    ) == {"status": "ok"}
    closed = {"status": "err", "code": "READER_CLOSED", "message": "READER_CLOSED: mine"}
    assert op(server, {"op": "pull_event", "reader_id": "mine", "timeout_ms": 0}, bob) == closed
    assert op(server, {"op": "pull_event", "reader_id": "mine", "timeout_ms": 0}) == closed  # local
    assert op(server, {"op": "unregister_reader", "reader_id": "mine"}, bob) == {"status": "ok"}
    assert op(server, {"op": "pull_event", "reader_id": "mine", "timeout_ms": 0}, alice) == {
        "status": "ok"
    }
    taken = op(server, {"op": "register_reader", "reader_id": "mine", "patterns": ["/x"]}, bob)
    assert taken["code"] == "INTERNAL" and "taken by another caller" in taken["message"]
    # a publish_global from an app token cannot claim another source
    event = {
        "eventid": "/notes/z",
        "source_node": "task-manager",
        "source_pid": 1,
        "timestamp": 2,
        "data": None,
    }
    assert op(server, {"op": "publish_global", "event": event}, alice) == {"status": "ok"}
    pulled = op(server, {"op": "pull_event", "reader_id": "mine", "timeout_ms": 0}, alice)
    assert pulled["event"]["source_node"] == "notes"


def test_a_stream_ends_when_its_token_expires() -> None:
    with served_kevent(leeway=0) as server:
        token = bearer(server.token(ttl=1.5))
        stream = RawStream(server.base, {"patterns": ["/notes/*"], "keepalive_ms": 100}, token)
        try:
            assert stream.head()[0] == 200
            started = time.monotonic()
            lines = 0
            while stream.line():  # ack, keep-alives, then the clean end (a 0 chunk)
                lines += 1
                assert time.monotonic() - started < 5.0
            assert lines >= 2 and time.monotonic() - started < 5.0
        finally:
            stream.close()
        server.wait_readers(0)


def test_a_stream_ends_when_its_session_is_revoked(server: KEventServer) -> None:
    stream = RawStream(
        server.base, {"patterns": ["/notes/*"], "keepalive_ms": 100}, bearer(server.token())
    )
    try:
        assert stream.head()[0] == 200 and b'"ack"' in stream.line()
        assert server.app.revocations is not None
        server.app.revocations.set_user_state("alice", "disabled")
        started = time.monotonic()
        while stream.line():  # keep-alives, then the clean end
            assert time.monotonic() - started < 5.0
        server.wait_readers(0)
        # and the token is refused from now on
        status, text = _refused(
            post(
                server.base, "/kapi/kevent/publish", {"eventid": "/notes/a"}, bearer(server.token())
            )
        )
        assert status == 401 and "alice" in text and "not active" in text
    finally:
        stream.close()


def test_requests_that_only_pretend_to_be_local(server: KEventServer) -> None:
    # directly on the loopback, but marked as forwarded: not local
    for header in ("x-buckyos-forwarded", "X-Forwarded-For", "x-buckyos-gateway", "Forwarded"):
        status, text = _refused(
            post(server.base, "/kapi/kevent/publish", {"eventid": "/a"}, {header: "1"})
        )
        assert status == 401 and text.startswith("No permission:No session token;"), header


def test_through_the_gateway() -> None:
    with served_kevent(gateway=True) as server:
        gw = server.gateway_base
        assert gw is not None
        # no token through the gateway: never local, whatever the client sends
        for headers in ({}, {"x-buckyos-forwarded": "0"}, {"X-Forwarded-For": "127.0.0.1"}):
            status, kind, body = post(gw, "/kapi/kevent/publish", {"eventid": "/a"}, headers)
            assert (status, kind) == (401, "application/json"), body
            assert json.loads(body)["code"] == "UNAUTHORIZED"
        status, _, body = post(gw, "/kapi/kevent/stream", {"patterns": ["/a"]})
        assert status == 401 and json.loads(body)["error"].startswith(
            "No permission:No session token"
        )
        # the caller's token goes on, and the policy applies to it
        alice = server.token("alice", "notes")
        with (
            KEventClient(server.gateway_url, token=alice) as via_gateway,
            KEventClient(server.gateway_url, token=server.trusted()) as service,
        ):
            sub = via_gateway.subscribe(["/notes/**", "/task_mgr/**"], keepalive_ms=200)
            via_gateway.publish("/notes/g1", "through")
            with pytest.raises(KEventError) as caught:
                via_gateway.publish("/task_mgr/t", 1)
            assert (caught.value.status, caught.value.code) == (403, "NO_PERMISSION")
            service.publish("/task_mgr/t", "the service's")
            event = sub.get(WAIT)
            assert event is not None and (event.eventid, event.data) == ("/notes/g1", "through")
            assert sub.get(0.3) is None  # the stream stays open; nothing more for alice
            service.publish("/notes/g2", "later")  # flows through the open stream
            event = sub.get(WAIT)
            assert event is not None and event.eventid == "/notes/g2"
            assert server.readers() == 1
        server.wait_readers(0)  # the client went: the gateway closed kevent's side too
        # the op protocol goes through as well (a pull that waits included)
        trusted = bearer(server.trusted())
        register = {"op": "register_reader", "reader_id": "g", "patterns": ["/x"]}
        assert post(gw, "/kapi/kevent", register, trusted)[2] == b'{"status":"ok"}'
        status, _, body = post(
            gw, "/kapi/kevent", {"op": "pull_event", "reader_id": "g", "timeout_ms": 200}, trusted
        )
        assert (status, body) == (200, b'{"status":"ok"}')
        assert post(gw, "/kapi/kevent/nope", {}, trusted)[:3:2] == (
            400,
            b'{"error":"Unsupported kevent path: /kapi/kevent/nope"}',
        )


def test_the_gateway_without_kevent() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with served_kevent(gateway=True, gateway_to=dead) as server:
        gw = server.gateway_base
        assert gw is not None
        trusted = bearer(server.trusted())
        status, kind, body = post(gw, "/kapi/kevent/publish", {"eventid": "/a"}, trusted)
        assert (status, kind) == (503, "application/json")
        assert json.loads(body)["code"] == "DAEMON_UNAVAILABLE"
        assert "is not reachable from the gateway" in json.loads(body)["message"]
        with KEventClient(server.gateway_url, token=server.trusted()) as client:
            with pytest.raises(KEventError) as caught:
                client.publish("/a", 1)
            assert caught.value.code == "DAEMON_UNAVAILABLE" and caught.value.retryable


def test_the_client_gets_refusals_as_codes(server: KEventServer) -> None:
    with KEventClient(server.url, token=server.token(signer="stranger")) as client:
        for call in (lambda: client.subscribe(["/notes/a"]), lambda: client.publish("/notes/a")):
            with pytest.raises(KEventError) as caught:
                call()
            error = caught.value
            assert (error.code, error.status, error.retryable) == ("UNAUTHORIZED", 401, False)
            assert error.detail == "Invalid token: JWT decode error:InvalidSignature"
    assert server.readers() == 0


def test_open_streams_do_not_hold_a_stop() -> None:
    """Stopping the gateway and kevent ends their open streams at once (cleanly), well
    within a long grace period."""
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(served_kevent(gateway=True, grace=10.0))
        direct = RawStream(server.base, {"patterns": ["/s"]})
        through = RawStream(
            server.gateway_base or "", {"patterns": ["/s"]}, bearer(server.trusted())
        )
        try:
            for stream in (direct, through):
                assert stream.head()[0] == 200 and b'"ack"' in stream.line()
            server.wait_readers(2)
            started = time.monotonic()
            stack.close()  # stops the gateway, then kevent
            took = time.monotonic() - started
            assert took < 3.0, took
            assert direct.line() == b"" and through.line() == b""  # both ended cleanly
        finally:
            direct.close()
            through.close()


def test_the_clients_name_an_audience(server: KEventServer) -> None:
    bob = server.token("bob", "photos")
    with (
        KEventClient(server.url, token=bob) as as_bob,
        KEventClient(server.url, token=server.trusted()) as service,
    ):
        sub = as_bob.subscribe(["/task_mgr/**"], keepalive_ms=200)
        service.publish("/task_mgr/t-9", {"n": 1}, audience={"users": ["bob"], "apps": []})
        service.publish("/task_mgr/t-10", 2, audience={"users": ["carol"]})

        async def publish_async() -> None:
            async with AsyncKEventClient(server.url, token=server.trusted()) as client:
                await client.publish("/task_mgr/t-11", 3, audience={"apps": ["photos"]})

        asyncio.run(publish_async())
        # t-11 names bob's app, not bob: a user's session proves no app, so it is not his.
        got = sub.get(WAIT)
        assert got is not None and got.eventid == "/task_mgr/t-9"
        assert sub.get(0.3) is None
        with pytest.raises(KEventError) as caught:  # an app token may not name one
            as_bob.publish("/photos/x", 1, audience={"users": ["alice"]})
        assert (caught.value.status, caught.value.code) == (403, "NO_PERMISSION")
        with pytest.raises(TypeError, match="audience must be"):
            service.publish("/x", 1, audience={"users": "bob"})
