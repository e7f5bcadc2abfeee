"""Attacks on the HTTP servers themselves: heads too large, too many, too slow.

Every HTTP server we run is uvicorn on ``runtime.serve.AsgiServer`` (the kRPC wire and
WebSocket link of system_config and verify-hub, and the node gateway), bounded by
``runtime.http_limits``: a request head over 64 KiB or 100 header lines is answered 431
and closed, a head not complete in 10 s is closed, a connection beyond 1,024 is answered
503 and closed.  Each attack here is made over a raw socket on 127.0.0.1, against both of
uvicorn's parsers (httptools, and h11 for when httptools is missing), with smaller limits
where waiting for the real ones would only slow the test; the server must keep serving
ordinary calls during and after.
"""

from __future__ import annotations

import asyncio
import http.client
import select
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest

from buckyos.runtime.asgi import (
    ASGIReceive,
    ASGIScope,
    ASGISend,
    lifespan,
    read_body,
    respond,
)
from buckyos.runtime.http_limits import HttpLimits
from buckyos.runtime.serve import AsgiServer, serving
from buckyos.services.gateway import GatewayApp, InstancePool, StaticInstanceSource
from buckyos.services.gateway.server import gateway_serving
from tests.reliability_fixtures import ScProcess
from tests.wire_fixtures import FakeDispatcher

PARSERS = ("httptools", "h11")
KIB = 1024


async def _app(scope: ASGIScope, receive: ASGIReceive, send: ASGISend) -> None:
    """``ok <body length> <client address>``; ``/slow`` answers after a second."""
    if scope["type"] == "lifespan":
        await lifespan(receive, send)
        return
    body = await read_body(scope, receive, 1 << 20)
    if scope["path"] == "/slow":
        await asyncio.sleep(1.0)
    text = f"ok {len(body)} {scope['client'][0]}"
    await respond(send, 200, b"text/plain", text.encode())


@contextmanager
def _served(app: Any = _app, **options: Any) -> Iterator[int]:
    """``AsgiServer(app, **options)`` in a thread with its own loop; yields the port."""
    started = threading.Event()
    state: dict[str, Any] = {}

    def run() -> None:
        async def main() -> None:
            server = AsgiServer(app, log_level="error", grace=1.0, **options)
            state["port"] = await server.start("127.0.0.1", 0)
            stop = state["stop"] = asyncio.Event()
            state["loop"] = asyncio.get_running_loop()
            started.set()
            try:
                await stop.wait()
            finally:
                await server.stop()

        try:
            asyncio.run(main())
        except BaseException as exc:  # reported by the test thread
            state["error"] = exc
        finally:
            started.set()

    thread = threading.Thread(target=run, name="test-asgi-server", daemon=True)
    thread.start()
    assert started.wait(10), "server did not start"
    if "error" in state:
        raise state["error"]
    try:
        yield state["port"]
    finally:
        state["loop"].call_soon_threadsafe(state["stop"].set)
        thread.join(10)
        assert not thread.is_alive(), "server did not stop"
    assert "error" not in state, state.get("error")


def _connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=5)


def _until_closed(sock: socket.socket, within: float = 5.0) -> bytes:
    """Everything the server sends until it closes the connection; fails when it does not
    close it within ``within`` seconds."""
    data = b""
    deadline = time.monotonic() + within
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"the server kept the connection open; it sent {data[:200]!r}")
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        except ConnectionResetError:
            return data
        if not chunk:
            return data
        data += chunk


def _one_response(sock: socket.socket) -> bytes:
    """One whole response (head and ``content-length`` body) off a kept-alive connection."""
    data = b""
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline:
        head, sep, rest = data.partition(b"\r\n\r\n")
        if sep:
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(rest) >= length:
                return data
        chunk = sock.recv(65536)
        assert chunk, f"closed mid-response: {data[:200]!r}"
        data += chunk
    raise AssertionError(f"no whole response in 5 s: {data[:200]!r}")


def _status(answer: bytes) -> int:
    line = answer.split(b"\r\n", 1)[0]
    assert line.startswith(b"HTTP/1.1 "), answer[:200]
    return int(line.split()[1])


def _body(answer: bytes) -> str:
    return answer.partition(b"\r\n\r\n")[2].decode("utf-8")


def _get(port: int, path: str = "/") -> tuple[int, str]:
    """An ordinary call on a fresh connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


def _head(lines: int, extra: bytes = b"") -> bytes:
    """A GET head with a Host line and ``lines - 1`` more header lines."""
    others = b"".join(b"x-h%d: v\r\n" % i for i in range(lines - 1))
    return b"GET / HTTP/1.1\r\nHost: t\r\n" + others + extra + b"\r\n"


# --- heads too large --------------------------------------------------------------------


@pytest.mark.parametrize("parser", PARSERS)
@pytest.mark.parametrize("where", ["header", "request-line"])
def test_a_70_kib_head_is_431_and_closed(parser: str, where: str) -> None:
    if where == "header":
        request = b"GET / HTTP/1.1\r\nHost: t\r\nx-big: " + b"a" * (70 * KIB) + b"\r\n\r\n"
    else:
        request = b"GET /" + b"a" * (70 * KIB) + b" HTTP/1.1\r\nHost: t\r\n\r\n"
    with _served(http=parser) as port, _connect(port) as sock:
        sock.sendall(request)
        answer = _until_closed(sock)
        assert _status(answer) == 431, answer[:300]
        assert b"connection: close" in answer.lower()
        assert _body(answer) == (
            "Request Header Fields Too Large: the request head is over 65536 bytes"
        )
        assert _get(port) == (200, "ok 0 127.0.0.1")


@pytest.mark.parametrize("parser", PARSERS)
def test_101_header_lines_are_431_and_100_are_served(parser: str) -> None:
    with _served(http=parser) as port:
        with _connect(port) as sock:
            sock.sendall(_head(101))
            answer = _until_closed(sock)
        assert _status(answer) == 431, answer[:300]
        assert _body(answer) == (
            "Request Header Fields Too Large: the request has over 100 header lines"
        )
        with _connect(port) as sock:
            sock.sendall(_head(100))
            answer = _one_response(sock)
        assert _status(answer) == 200, answer[:300]


@pytest.mark.parametrize("parser", PARSERS)
def test_an_unfinished_16_mib_header_line_is_refused_at_the_cap(parser: str) -> None:
    """The attack that held 160 MiB with 8 connections: a header line that never ends.
    The server must answer as soon as the cap is passed, not buffer what follows."""
    piece = b"a" * (16 * KIB)
    with _served(http=parser) as port, _connect(port) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\nx-endless: ")
        sent = 0
        while sent < 16 * KIB * KIB and not select.select([sock], [], [], 0)[0]:
            try:
                sock.sendall(piece)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(piece)
        answer = _until_closed(sock)
        # The answer came long before the 16 MiB were sent (loopback buffers hold some MiB).
        assert sent < 8 * KIB * KIB, sent
        assert _status(answer) == 431, answer[:300]
        assert _get(port) == (200, "ok 0 127.0.0.1")


# --- heads too slow ---------------------------------------------------------------------

FAST = HttpLimits(head_timeout=0.5)


@pytest.mark.parametrize("parser", PARSERS)
def test_a_head_not_complete_in_time_is_closed(parser: str) -> None:
    """Silent, half-sent and dripping (slowloris) connections are closed after the head
    timeout, while ordinary calls are served."""
    with _served(http=parser, limits=FAST) as port, ExitStack() as stack:
        silent = stack.enter_context(_connect(port))
        half = stack.enter_context(_connect(port))
        drip = stack.enter_context(_connect(port))
        start = time.monotonic()
        half.sendall(b"POST / HTTP/1.1\r\nHost: t\r\n")
        drip.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n")
        assert _get(port) == (200, "ok 0 127.0.0.1")  # served meanwhile
        dripped = 0
        # One header byte every 50 ms: every byte is progress, none resets the clock.
        while time.monotonic() - start < 3.0 and not select.select([drip], [], [], 0.05)[0]:
            try:
                drip.sendall(b"x")
            except (BrokenPipeError, ConnectionResetError):
                break
            dripped += 1
        drip_answer = _until_closed(drip)
        drip_closed = time.monotonic() - start
        assert 0.4 <= drip_closed < 2.0, drip_closed
        assert _status(drip_answer) == 408, drip_answer[:300]
        assert _body(drip_answer) == (
            "Request Timeout: the request head was not complete within 0.5s"
        )
        assert dripped >= 5
        assert _status(_until_closed(half, 2.0)) == 408
        assert _until_closed(silent, 2.0) == b""  # nothing was asked: closed silently
        assert time.monotonic() - start < 2.5
        assert _get(port) == (200, "ok 0 127.0.0.1")


@pytest.mark.parametrize("parser", PARSERS)
def test_the_head_clock_runs_per_request_on_a_kept_alive_connection(parser: str) -> None:
    """Idle time between requests is not head time (uvicorn's 5 s keep-alive governs it);
    a head started later and left unfinished is closed."""
    request = b"GET / HTTP/1.1\r\nHost: t\r\n\r\n"
    with _served(http=parser, limits=FAST) as port, _connect(port) as sock:
        sock.sendall(request)
        assert _status(_one_response(sock)) == 200
        time.sleep(0.8)  # longer than the head timeout, shorter than the keep-alive
        sock.sendall(request)
        assert _status(_one_response(sock)) == 200
        start = time.monotonic()
        sock.sendall(b"GET / HTTP/1.1\r\nHo")
        answer = _until_closed(sock, 3.0)
        assert _status(answer) == 408, answer[:300]
        assert 0.4 <= time.monotonic() - start < 2.0


@pytest.mark.parametrize("parser", PARSERS)
def test_slow_handlers_and_slow_bodies_are_not_cut(parser: str) -> None:
    """The clock stops when the head is complete: a handler or a body taking longer
    than the head timeout is not the head's business."""
    with _served(http=parser, limits=FAST) as port:
        assert _get(port, "/slow") == (200, "ok 0 127.0.0.1")
        with _connect(port) as sock:
            sock.sendall(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nab")
            time.sleep(0.8)
            sock.sendall(b"cd")
            answer = _one_response(sock)
        assert _status(answer) == 200 and _body(answer) == "ok 4 127.0.0.1", answer


# --- too many connections ---------------------------------------------------------------


@pytest.mark.parametrize("parser", PARSERS)
def test_a_connection_beyond_the_cap_is_503_and_closed(parser: str) -> None:
    with _served(http=parser, limits=HttpLimits(max_connections=4)) as port:
        held = [_connect(port) for _ in range(4)]
        try:
            # A round trip on each: all four are accepted and counted by the server.
            for sock in held:
                sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
                assert _status(_one_response(sock)) == 200
            with _connect(port) as extra:
                answer = _until_closed(extra, 3.0)
            assert _status(answer) == 503, answer[:300]
            assert _body(answer) == (
                "Service Unavailable: the server holds at most 4 connections; try again later"
            )
        finally:
            held.pop().close()
        # One slot is free again once the server saw the close.
        deadline = time.monotonic() + 3.0
        status = 0
        while time.monotonic() < deadline:
            status = _get(port)[0]
            if status == 200:
                break
            time.sleep(0.05)
        for sock in held:
            sock.close()
        assert status == 200


def test_limits_are_checked() -> None:
    with pytest.raises(ValueError, match="max_head_bytes >= 1024"):
        HttpLimits(max_head_bytes=10)
    with pytest.raises(ValueError, match="head_timeout > 0"):
        HttpLimits(head_timeout=0)
    with pytest.raises(ValueError, match="'httptools' or 'h11'"):
        AsgiServer(_app, http="zttp")


def test_a_client_cannot_choose_its_address_with_x_forwarded_for() -> None:
    """uvicorn trusts X-Forwarded-For from 127.0.0.1 by default; ours does not, so the
    address an app sees (verify-hub's login throttle) is the peer's."""
    with _served() as port, _connect(port) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\nX-Forwarded-For: 10.9.8.7\r\n\r\n")
        answer = _one_response(sock)
    assert _body(answer) == "ok 0 127.0.0.1", answer


# --- every server we run ----------------------------------------------------------------


def _refused_and_serving(port: int, ordinary: Any) -> None:
    with _connect(port) as sock:
        sock.sendall(
            b"POST /kapi/x HTTP/1.1\r\nHost: t\r\nx-big: " + b"a" * (70 * KIB) + b"\r\n\r\n"
        )
        assert _status(_until_closed(sock)) == 431
    with _connect(port) as sock:
        sock.sendall(_head(101))
        assert _status(_until_closed(sock)) == 431
    ordinary()


def test_the_krpc_wire_and_the_gateway_are_bounded() -> None:
    """``serving`` (every service's kRPC wire) and ``gateway_serving`` use the limits."""

    def call(port: int, service: str) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        body = b'{"method":"sys_config_get","params":{"key":"k"},"sys":[7,"good-token"]}'
        conn.request("POST", f"/kapi/{service}", body, {"Content-Type": "application/json"})
        response = conn.getresponse()
        answer = response.read()
        conn.close()
        assert response.status == 200 and b'"sys":[7]' in answer, answer

    async def run() -> None:
        loop = asyncio.get_running_loop()
        async with serving(
            FakeDispatcher(), krpc_port=0, grpc_port=None, log_level="error"
        ) as info:
            assert info.krpc_port is not None
            krpc_port = info.krpc_port
            await loop.run_in_executor(
                None, _refused_and_serving, krpc_port, lambda: call(krpc_port, "system_config")
            )
            source = StaticInstanceSource({"system_config": [str(info.krpc_url)]})
            gateway = GatewayApp(InstancePool(source))
            async with gateway_serving(gateway, port=0, log_level="error") as url:
                port = int(url.rsplit(":", 1)[1])
                await loop.run_in_executor(
                    None, _refused_and_serving, port, lambda: call(port, "system_config")
                )

    asyncio.run(run())


def test_a_system_config_process_is_bounded(tmp_path: Path) -> None:
    process = ScProcess(tmp_path).start()
    try:

        def call() -> None:
            conn = http.client.HTTPConnection("127.0.0.1", process.krpc_port, timeout=5)
            body = (
                b'{"method":"sys_config_get","params":{"key":"boot/config"},"sys":[3,"'
                + process.root_token.encode()
                + b'"]}'
            )
            conn.request("POST", "/kapi/system_config", body)
            response = conn.getresponse()
            answer = response.read()
            conn.close()
            assert response.status == 200 and b'"result"' in answer, answer

        _refused_and_serving(process.krpc_port, call)
        assert process.alive()
    finally:
        process.stop()
