"""A small fake kevent HTTP server, for the client tests that need a fault on demand.

The client's ordinary paths run against the reference kevent (``services/kevent``, served
by ``tests/kevent_server.py``); this fake stays for what the real one does not do when a
test asks: end or silence open streams, send an error frame, refuse the next requests
with a given status, and record every request's headers.

It speaks upstream's HTTP wire (``kevent/src/http.rs``): ``POST /kapi/kevent/publish``
and ``POST /kapi/kevent/stream`` (and the bare ``/publish`` and ``/stream``), with the
checks, texts and statuses of ``buckyos.runtime.wire.kevent``; a bounded queue per
stream (the oldest event dropped, as upstream's readers); ``keepalive`` frames after
``keepalive_ms`` without an event.  It runs as an ASGI app on ``AsgiServer``, on its own
loop in a thread, and lets a test break things: end every stream, make the open ones go
silent, send them an ``error`` frame, or refuse the next requests with a status.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import threading
import time
from collections import deque
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from buckyos.runtime.errors import KEventError
from buckyos.runtime.server import AsgiServer
from buckyos.runtime.wire import jsontext
from buckyos.runtime.wire.asgi import (
    JSON,
    TEXT_HEADER,
    ASGIReceive,
    ASGIScope,
    ASGISend,
    lifespan,
    read_body,
    respond,
)
from buckyos.runtime.wire.kevent import (
    DEFAULT_KEEPALIVE_MS,
    DEFAULT_READER_CAPACITY,
    KEVENT_HTTP_STATUS,
    AckFrame,
    ErrorFrame,
    EventFrame,
    KeepaliveFrame,
    KEvent,
    check_publish,
    check_stream_patterns,
    encode_frame,
    match_patterns,
    normalize_patterns,
)

__all__ = ["FakeKEvent", "served_kevent"]

T = TypeVar("T")
WAIT = 5.0
"""Seconds any control call or wait of the fake may take."""


@dataclass
class _Reader:
    """One open stream: its patterns, its bounded queue and what the test made of it."""

    reader_id: str
    patterns: list[str]
    keepalive_ms: int
    capacity: int
    queue: deque[KEvent] = field(default_factory=deque)
    dropped: int = 0
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    ended: bool = False
    silent: bool = False
    error: str | None = None
    gone: bool = False

    def push(self, event: KEvent) -> None:
        if len(self.queue) >= self.capacity:
            self.queue.popleft()
            self.dropped += 1
        self.queue.append(event)
        self.wake.set()


class FakeKEvent:
    """The server's state and the test's controls (each safe to call from the test
    thread; the state itself lives on the server's loop)."""

    def __init__(self, *, node: str = "test-node", capacity: int = DEFAULT_READER_CAPACITY):
        self.node = node
        self.capacity = capacity
        self.port = 0
        self.requests: list[tuple[str, dict[str, str]]] = []
        """``(path, headers)`` of every HTTP request, in order."""
        self.opened = 0
        """Streams acknowledged so far."""
        self._readers: dict[str, _Reader] = {}
        self._refusals: dict[str, deque[tuple[int, bytes, bytes]]] = {
            "stream": deque(),
            "publish": deque(),
        }
        self._seq = itertools.count(1)
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/kapi/kevent"

    # -- controls (from the test thread)

    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        assert self._loop is not None, "the fake is not running"
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(WAIT)

    def open_streams(self) -> int:
        """How many streams are open now."""

        async def count() -> int:
            return sum(1 for r in self._readers.values() if not r.ended and not r.gone)

        return self._call(count())

    def wait_streams(self, count: int, *, opened: int | None = None) -> None:
        """Wait (at most :data:`WAIT` s) until ``count`` streams are open, and at least
        ``opened`` were acknowledged in all."""
        deadline = time.monotonic() + WAIT
        while self.open_streams() != count or (opened is not None and self.opened < opened):
            assert time.monotonic() < deadline, (
                f"{self.open_streams()} streams open ({self.opened} opened), "
                f"expected {count} ({opened})"
            )
            time.sleep(0.02)

    def _each_open(self, change: str, value: Any = True) -> int:
        async def apply() -> int:
            readers = [r for r in self._readers.values() if not r.ended and not r.gone]
            for reader in readers:
                setattr(reader, change, value)
                reader.wake.set()
            return len(readers)

        return self._call(apply())

    def end_streams(self) -> int:
        """End every open stream (a clean end of the response); how many."""
        return self._each_open("ended")

    def silence_streams(self) -> int:
        """Make the open streams send nothing more (no event, no keep-alive), while their
        connections stay open; streams opened later are normal."""
        return self._each_open("silent")

    def error_streams(self, text: str) -> int:
        """Send ``{"type":"error","error":text}`` on every open stream, then end it."""
        return self._each_open("error", text)

    def refuse(self, route: str, status: int, body: bytes, *, count: int = 1) -> None:
        """Answer the next ``count`` requests to ``route`` (``"stream"`` or ``"publish"``)
        with ``status`` and ``body`` (JSON when it starts with ``{``, else text)."""
        kind = JSON if body.startswith(b"{") else TEXT_HEADER[1]

        async def add() -> None:
            self._refusals[route].extend([(status, kind, body)] * count)

        self._call(add())

    def publish(self, eventid: str, data: Any = None) -> int:
        """Publish as the daemon itself does; to how many streams it went."""

        async def go() -> int:
            return self._distribute(self._event(eventid, data))

        return self._call(go())

    def dropped(self) -> int:
        """Events the streams' queues dropped, all streams together."""

        async def total() -> int:
            return sum(r.dropped for r in self._readers.values())

        return self._call(total())

    # -- the server (on its loop)

    def _event(self, eventid: str, data: Any) -> KEvent:
        return KEvent(eventid, self.node, os.getpid(), int(time.time() * 1000), data, self.node)

    def _distribute(self, event: KEvent) -> int:
        readers = [
            r
            for r in self._readers.values()
            if not r.ended and not r.gone and match_patterns(r.patterns, event.eventid)
        ]
        for reader in readers:
            reader.push(event)
        return len(readers)

    async def app(self, scope: ASGIScope, receive: ASGIReceive, send: ASGISend) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        self.requests.append((path, headers))
        if scope["method"] != "POST":
            await respond(send, 400, TEXT_HEADER[1], b"Method not allowed")
            return
        body = await read_body(scope, receive, 1 << 20)
        route = path.rstrip("/") if path != "/" else path
        name = route.rpartition("/")[2]
        if route in ("/publish", "/kapi/kevent/publish", "/stream", "/kapi/kevent/stream"):
            if self._refusals[name]:
                status, kind, text = self._refusals[name].popleft()
                await respond(send, status, kind, text)
            elif name == "publish":
                await self._publish(body, send)
            else:
                await self._stream(body, receive, send)
        elif route in ("/", "/kapi/kevent"):
            error = KEventError("NOT_SUPPORTED", "the test server has no native ops")
            answer = {"status": "err", "code": error.code, "message": error.text}
            await respond(send, 200, JSON, jsontext.dumps(answer))
        else:
            error_body = jsontext.dumps({"error": f"Unsupported kevent path: {path}"})
            await respond(send, 400, JSON, error_body)

    async def _publish(self, body: bytes, send: ASGISend) -> None:
        try:
            request = jsontext.loads(body)
            if not isinstance(request, dict) or not isinstance(request.get("eventid"), str):
                raise ValueError("missing field `eventid`")
        except ValueError as exc:
            await respond(
                send, 400, TEXT_HEADER[1], f"Invalid kevent publish request: {exc}".encode()
            )
            return
        eventid, data = request["eventid"], request.get("data")
        try:
            check_publish(eventid, data)
        except KEventError as error:
            answer = {"status": "err", "code": error.code, "message": error.text}
            await respond(send, KEVENT_HTTP_STATUS[error.code], JSON, jsontext.dumps(answer))
            return
        self._distribute(self._event(eventid, data))
        await respond(send, 200, JSON, b'{"status":"ok"}')

    async def _stream(self, body: bytes, receive: ASGIReceive, send: ASGISend) -> None:
        try:
            request = jsontext.loads(body)
            patterns = request.get("patterns") if isinstance(request, dict) else None
            keepalive = request.get("keepalive_ms") if isinstance(request, dict) else None
            if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
                raise ValueError("missing field `patterns`")
            if keepalive is not None and (not isinstance(keepalive, int) or keepalive < 0):
                raise ValueError("invalid type: keepalive_ms")
        except ValueError as exc:
            await respond(
                send, 400, TEXT_HEADER[1], f"Invalid kevent stream request: {exc}".encode()
            )
            return
        try:
            check_stream_patterns(patterns)
        except KEventError as error:
            answer = jsontext.dumps({"error": error.text})
            await respond(send, KEVENT_HTTP_STATUS[error.code], JSON, answer)
            return
        reader = _Reader(
            f"http_stream_{next(self._seq)}",
            normalize_patterns(patterns),
            max(1, keepalive if keepalive is not None else DEFAULT_KEEPALIVE_MS),
            self.capacity,
        )
        self._readers[reader.reader_id] = reader
        watcher = asyncio.create_task(self._watch(reader, receive))
        try:
            await self._serve_stream(reader, send)
        finally:
            watcher.cancel()
            del self._readers[reader.reader_id]

    async def _watch(self, reader: _Reader, receive: ASGIReceive) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        reader.gone = True
        reader.wake.set()

    async def _serve_stream(self, reader: _Reader, send: ASGISend) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"application/x-ndjson"),
                    (b"cache-control", b"no-store"),
                ],
            }
        )

        async def line(frame: Any) -> None:
            await send(
                {"type": "http.response.body", "body": encode_frame(frame), "more_body": True}
            )

        await line(AckFrame(reader.reader_id, reader.keepalive_ms))
        self.opened += 1
        while not reader.ended and not reader.gone:
            if reader.error is not None:
                await line(ErrorFrame(reader.error))
                break
            if reader.queue and not reader.silent:
                await line(EventFrame(reader.queue.popleft()))
                continue
            reader.wake.clear()
            try:
                await asyncio.wait_for(reader.wake.wait(), reader.keepalive_ms / 1000)
            except TimeoutError:
                if not reader.silent:
                    await line(KeepaliveFrame(int(time.time() * 1000)))
        if not reader.gone:
            await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _shutdown(self) -> None:
        for reader in self._readers.values():
            reader.ended = True
            reader.wake.set()


@contextmanager
def served_kevent(**options: Any) -> Iterator[FakeKEvent]:
    """A :class:`FakeKEvent` serving on a free port of 127.0.0.1, stopped on exit."""
    fake = FakeKEvent(**options)
    started = threading.Event()
    state: dict[str, Any] = {}

    def run() -> None:
        async def main() -> None:
            async def app(scope: ASGIScope, receive: ASGIReceive, send: ASGISend) -> None:
                await fake.app(scope, receive, send)  # a function: uvicorn sees ASGI 3

            server = AsgiServer(app, log_level="error", grace=1.0)
            fake.port = await server.start("127.0.0.1", 0)
            stop = state["stop"] = asyncio.Event()
            fake._loop = asyncio.get_running_loop()
            started.set()
            try:
                await stop.wait()
            finally:
                await fake._shutdown()
                await server.stop()

        try:
            asyncio.run(main())
        except BaseException as exc:  # reported to the test thread
            state["error"] = exc
        finally:
            started.set()

    thread = threading.Thread(target=run, name="kevent-fake", daemon=True)
    thread.start()
    assert started.wait(10), "the kevent fake did not start"
    if "error" in state:
        raise state["error"]
    try:
        yield fake
    finally:
        assert fake._loop is not None
        fake._loop.call_soon_threadsafe(state["stop"].set)
        thread.join(10)
        assert not thread.is_alive(), "the kevent fake did not stop"
    assert "error" not in state, state.get("error")
