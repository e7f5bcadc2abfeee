"""Attacks on the servers themselves: heads too large, too many, too slow; bodies too slow.

Every HTTP server we run is uvicorn on ``runtime.serve.AsgiServer`` (the kRPC wire and
WebSocket link of system_config and verify-hub, and the node gateway), bounded by
``runtime.http_limits``: a request head over 64 KiB or 100 header lines is answered 431
and closed, a head not complete in 10 s is closed, a body not complete 30 s after its
head is answered 408 and closed, a connection beyond 1,024 is answered 503 and closed.
Each attack here is made over a raw socket on 127.0.0.1, against both of uvicorn's
parsers (httptools, and h11 for when httptools is missing), with smaller limits where
waiting for the real ones would only slow the test; the server must keep serving
ordinary calls during and after.

The gRPC wire (``runtime.grpc_server.GrpcServer``) has the same bounds in grpcio's terms
(``GrpcLimits``): 10 s to handshake, idle connections closed, 1,024 connections, 1,024
calls at once, 16 KiB of metadata; they are attacked the same way at the end.
"""

from __future__ import annotations

import asyncio
import http.client
import select
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import ExitStack, asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import grpc
import grpc.aio
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc  # type: ignore[import-untyped]

from buckyos.runtime.client.grpc_client import GrpcTransport
from buckyos.runtime.client.link_client import GrpcLink
from buckyos.runtime.client.routing import never_sent
from buckyos.runtime.errors import ReasonError, TransportError
from buckyos.runtime.server.grpc_server import GrpcLimits, GrpcServer
from buckyos.runtime.server.http_limits import HttpLimits
from buckyos.runtime.server.serve import AsgiServer, serving
from buckyos.runtime.wire.asgi import (
    ASGIReceive,
    ASGIScope,
    ASGISend,
    DisconnectedError,
    lifespan,
    read_body,
    respond,
)
from buckyos.services.gateway import GatewayApp, InstancePool, StaticInstanceSource
from buckyos.services.gateway.server import gateway_serving
from tests.event_fixtures import make_world
from tests.generated import kitchen_sink_pb2 as ks
from tests.generated.kitchen_sink_rpc import AsyncKitchenSinkStub
from tests.reliability_fixtures import ScProcess
from tests.wire_fixtures import FakeDispatcher

PARSERS = ("httptools", "h11")
KIB = 1024


DISCONNECTS: list[str] = []
"""Paths of the requests whose body the app was told was cut (``http.disconnect``)."""


async def _app(scope: ASGIScope, receive: ASGIReceive, send: ASGISend) -> None:
    """``ok <body length> <client address>``; ``/slow`` answers a second after the body
    came, ``/late`` starts reading it after a second, ``/noread`` answers at once without
    reading it."""
    if scope["type"] == "lifespan":
        await lifespan(receive, send)
        return
    path = scope["path"]
    if path == "/noread":
        await respond(send, 200, b"text/plain", b"not read")
        return
    if path == "/late":
        await asyncio.sleep(1.0)
    try:
        body = await read_body(scope, receive, 4 << 20)
    except DisconnectedError:
        DISCONNECTS.append(path)
        return
    if path == "/slow":
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


# --- bodies too slow ----------------------------------------------------------------------

SLOW_BODY = HttpLimits(body_timeout=0.5)


@pytest.mark.parametrize("parser", PARSERS)
@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_a_body_not_complete_in_time_is_408_and_closed(parser: str, framing: str) -> None:
    """A complete head, then a body dripped a byte every 50 ms: every byte is progress and
    the body is far under the size cap, yet the connection (and the app's call) must not be
    held for ever.  The app hears a disconnect; ordinary calls are served meanwhile."""
    if framing == "chunked":
        head = b"POST /drip HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
        drop = b"1\r\nx\r\n"
    else:
        head = b"POST /drip HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n"
        drop = b"x"
    DISCONNECTS.clear()
    with _served(http=parser, limits=SLOW_BODY) as port, _connect(port) as sock:
        sock.sendall(head)
        start = time.monotonic()
        dripped = 0
        while time.monotonic() - start < 3.0 and not select.select([sock], [], [], 0.05)[0]:
            try:
                sock.sendall(drop)
            except (BrokenPipeError, ConnectionResetError):
                break
            dripped += 1
            if dripped == 3:
                assert _get(port) == (200, "ok 0 127.0.0.1")  # served meanwhile
        answer = _until_closed(sock)
        closed = time.monotonic() - start
        assert 0.4 <= closed < 2.0, closed
        assert dripped >= 5
        assert _status(answer) == 408, answer[:300]
        assert _body(answer) == (
            "Request Timeout: the request body was not complete within 0.5s of its head"
        )
        # The 408 and the app's disconnect come in one callback; the app runs just after.
        deadline = time.monotonic() + 2.0
        while not DISCONNECTS and time.monotonic() < deadline:
            time.sleep(0.01)
        assert DISCONNECTS == ["/drip"]
        assert _get(port) == (200, "ok 0 127.0.0.1")


@pytest.mark.parametrize("parser", PARSERS)
def test_whole_bodies_and_slow_handlers_are_not_cut(parser: str) -> None:
    """The body clock runs only while the server reads: a body sent at once, a handler
    slower than the body timeout once it has the body, a handler that waits before it
    reads a 3 MiB body (uvicorn stops reading after 64 KiB until the app takes it), a
    client waiting for ``100 Continue`` until such a handler reads, and a kept-alive
    connection idle between requests are all served."""
    big = b"b" * (3 << 20)
    DISCONNECTS.clear()
    with _served(http=parser, limits=SLOW_BODY) as port, _connect(port) as sock:
        for path, body, expect in (
            ("/", b"abcd", False),
            ("/slow", b"abcd", False),
            ("/late", big, False),
            ("/late", big, True),
            ("/", big, False),
        ):
            start = time.monotonic()
            sock.sendall(
                b"POST %s HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n%s\r\n"
                % (path.encode(), len(body), b"Expect: 100-continue\r\n" if expect else b"")
            )
            if expect:
                sock.settimeout(5)
                assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
                assert time.monotonic() - start >= 1.0  # when the app first read
            sock.sendall(body)
            answer = _one_response(sock)
            assert _status(answer) == 200, (path, answer[:300])
            assert _body(answer) == f"ok {len(body)} 127.0.0.1"
            if path in ("/slow", "/late"):
                assert time.monotonic() - start >= 1.0
            time.sleep(0.7)  # idle between requests is no body time either
        # A GET asking for an upgrade the server does not speak is an ordinary request.
        sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: upgrade\r\nUpgrade: x\r\n\r\n")
        assert _status(_one_response(sock)) == 200
        time.sleep(1.0)
        sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        assert _status(_one_response(sock)) == 200
        assert DISCONNECTS == []


@pytest.mark.parametrize("parser", PARSERS)
def test_a_body_still_dripping_after_the_answer_is_closed_without_a_second_answer(
    parser: str,
) -> None:
    """An app may answer before reading the body; a client that goes on dripping it would
    otherwise hold the kept-alive connection (each byte cancels uvicorn's keep-alive
    timer).  It is closed, and nothing follows the app's answer."""
    with _served(http=parser, limits=SLOW_BODY) as port, _connect(port) as sock:
        sock.sendall(b"POST /noread HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n")
        start = time.monotonic()
        while time.monotonic() - start < 3.0:
            try:
                sock.sendall(b"x")
            except (BrokenPipeError, ConnectionResetError):
                break
            if select.select([sock], [], [], 0.05)[0]:
                break
        answer = _until_closed(sock)
        assert time.monotonic() - start < 2.0
        assert _status(answer) == 200 and _body(answer) == "not read", answer[:300]


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
    with pytest.raises(ValueError, match="body_timeout > 0"):
        HttpLimits(body_timeout=0)
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


# --- the gRPC server --------------------------------------------------------------------


@asynccontextmanager
async def _grpc_served(
    dispatcher: Any = None,
    limits: GrpcLimits | None = None,
    options: Sequence[tuple[str, Any]] = (),
) -> AsyncIterator[GrpcServer]:
    """A ``GrpcServer`` on a free loopback port in the running loop."""
    server = GrpcServer(
        dispatcher if dispatcher is not None else FakeDispatcher(), limits=limits, options=options
    )
    await server.start("127.0.0.1", 0)
    try:
        yield server
    finally:
        await server.stop(0.5)


def _grpc_run(coro: Any) -> None:
    asyncio.run(asyncio.wait_for(coro, 60))


async def _names(target: str, metadata: Any = (), timeout: float = 5) -> Any:
    """One ordinary unary call on a fresh channel."""
    async with grpc.aio.insecure_channel(target) as channel:
        call: Any = channel.unary_unary(
            "/buckyos_test.KitchenSink/Names", response_deserializer=ks.NameList.FromString
        )
        return await call(b"", metadata=metadata, timeout=timeout)


NAMES = ks.NameList(names=["alpha", "alpine", "beta"])


def test_a_grpc_connection_that_does_not_handshake_is_closed() -> None:
    """grpcio holds a connection that has not sent its HTTP/2 preface and settings for
    120 s by default; ours closes a silent one and a half-sent preface after the handshake
    timeout, while calls are served."""

    async def main() -> None:
        async with _grpc_served(limits=GrpcLimits(handshake_timeout=0.5)) as server:
            port = server.port
            assert port is not None

            def attack() -> float:
                with _connect(port) as silent, _connect(port) as half:
                    half.sendall(b"PRI * HTTP/2.0\r\n")  # half the client preface
                    start = time.monotonic()
                    _until_closed(silent, 3.0)
                    _until_closed(half, 3.0)
                    return time.monotonic() - start

            attacked = asyncio.get_running_loop().run_in_executor(None, attack)
            assert await _names(f"127.0.0.1:{port}") == NAMES  # served meanwhile
            assert 0.3 <= await attacked < 2.0
            assert await _names(f"127.0.0.1:{port}") == NAMES

    _grpc_run(main())


def test_a_grpc_connection_beyond_the_cap_is_closed_unread() -> None:
    """grpcio has a cap (``grpc.max_allowed_incoming_connections``) but sets none; ours
    closes a connection beyond it at once, and a client's call through it fails as never
    sent, so the router may take it elsewhere."""

    async def main() -> None:
        async with _grpc_served(limits=GrpcLimits(max_connections=2)) as server:
            port = server.port
            assert port is not None
            loop = asyncio.get_running_loop()
            held = [_connect(port), _connect(port)]
            try:
                for sock in held:  # both accepted: the server greets them with SETTINGS
                    sock.settimeout(5)
                    assert sock.recv(9)
                with _connect(port) as extra:
                    assert await loop.run_in_executor(None, _until_closed, extra, 2.0) == b""
                async with GrpcTransport(f"127.0.0.1:{port}", timeout=5) as transport:
                    with pytest.raises(TransportError) as refused:
                        await AsyncKitchenSinkStub(transport).Names(prefix="")
                assert never_sent(refused.value), refused.value
            finally:
                for sock in held:
                    sock.close()
            deadline = time.monotonic() + 5.0
            while True:  # a slot is free once the server saw a close
                try:
                    assert await _names(f"127.0.0.1:{port}", timeout=1) == NAMES
                    break
                except grpc.aio.AioRpcError:
                    if time.monotonic() > deadline:
                        raise
                    await asyncio.sleep(0.1)

    _grpc_run(main())


def test_grpc_calls_beyond_the_concurrent_cap_are_refused_at_once() -> None:
    """The call over ``max_concurrent_rpcs`` is answered RESOURCE_EXHAUSTED without
    running (the client raises a retryable ``ReasonError``), the calls under it finish,
    and the server serves again once they did."""
    # The slow calls hold their slots for 3 s: a refusal "at once" (under 1.5 s, with room
    # for a busy CI machine) cannot be a call that waited for a slot.
    dispatcher = FakeDispatcher(delay=3.0)

    async def main() -> None:
        limits = GrpcLimits(max_concurrent_rpcs=2)
        async with _grpc_served(dispatcher, limits=limits) as server:
            target = f"127.0.0.1:{server.port}"
            slow = [asyncio.create_task(_names(target)) for _ in range(2)]
            deadline = time.monotonic() + 5.0
            while len(dispatcher.calls) < 2:  # both are in their handler
                assert time.monotonic() < deadline, "the calls did not start"
                await asyncio.sleep(0.01)
            async with GrpcTransport(target, timeout=5) as transport:
                start = time.monotonic()
                with pytest.raises(ReasonError) as refused:
                    await AsyncKitchenSinkStub(transport).Names(prefix="")
                assert time.monotonic() - start < 1.5
            assert type(refused.value) is ReasonError
            assert refused.value == ReasonError("Concurrent RPC limit exceeded!")
            assert refused.value.retryable
            assert len(dispatcher.calls) == 2  # it did not run
            assert await asyncio.gather(*slow) == [NAMES, NAMES]
            dispatcher.delay = 0.0
            assert await _names(target) == NAMES

    _grpc_run(main())


def test_an_idle_grpc_connection_is_closed_and_a_quiet_link_is_not() -> None:
    """grpcio keeps an idle connection for ever by default; ours says GOAWAY after the idle
    timeout (the channel reconnects on its next call).  An open event link is a call in
    progress: quiet for longer than the timeout, it still gets its events."""

    async def main() -> None:
        world = make_world()
        changed = world.binding.make_event("changed")
        limits = GrpcLimits(idle_timeout=0.5)
        try:
            async with _grpc_served(world.binding, limits=limits) as server:
                target = f"127.0.0.1:{server.port}"
                # Its own connection: channels of one process share them otherwise, and
                # the link's stream would keep this one busy.
                local = (("grpc.use_local_subchannel_pool", 1),)
                async with (
                    grpc.aio.insecure_channel(target, options=local) as channel,
                    GrpcLink(target, token=world.alice) as link,
                ):
                    health = health_pb2_grpc.HealthStub(channel)
                    await health.Check(health_pb2.HealthCheckRequest(service=""), timeout=5)
                    assert channel.get_state() == grpc.ChannelConnectivity.READY
                    assert await link.call("ev", "ev_sub", {"key": "changed"}) == {"value": "new"}
                    deadline = time.monotonic() + 5.0
                    while channel.get_state() == grpc.ChannelConnectivity.READY:
                        assert time.monotonic() < deadline, "the idle connection stayed open"
                        await asyncio.sleep(0.05)
                    await asyncio.sleep(1.0)  # the link, quiet for three idle timeouts
                    assert changed.push({"value": "late"}) == 1
                    assert await link.next_event(3) == ("ev/changed", {"value": "late"})
                    assert await link.call("ev", "ev_sub", {"key": "changed"}) == {"value": "again"}
                    answer = await health.Check(health_pb2.HealthCheckRequest(service=""))
                    assert answer.status == health_pb2.HealthCheckResponse.SERVING
        finally:
            world.binding.close()

    _grpc_run(main())


def test_grpc_metadata_is_capped_at_16_kib_every_time() -> None:
    """grpcio's default refuses metadata between 8 and 16 KiB at random (a soft limit);
    ours serves every call under 16 KiB and refuses every call over."""

    async def main() -> None:
        async with _grpc_served() as server:
            target = f"127.0.0.1:{server.port}"
            under = (("x-pad", "a" * (12 * KIB)),)
            over = (("x-pad", "a" * (17 * KIB)),)
            for _ in range(10):
                assert await _names(target, under) == NAMES
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await _names(target, over)
            assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert "exceeds hard limit" in (refused.value.details() or "")

    _grpc_run(main())


def test_grpc_options_override_the_limits() -> None:
    """grpcio keeps the first of two arguments of one name; a caller's option must still
    win over the limits' (merged by name)."""
    options = [("grpc.server_handshake_timeout_ms", 500), ("grpc.so_reuseport", 0)]
    server = GrpcServer(FakeDispatcher(), options=options)
    names = [name for name, _ in server.options]
    assert len(names) == len(set(names))
    assert dict(server.options)["grpc.server_handshake_timeout_ms"] == 500
    assert dict(server.options)["grpc.max_connection_idle_ms"] == 300_000

    async def main() -> None:
        async with _grpc_served(options=options) as served:  # default limits: 10 s
            port = served.port
            assert port is not None

            def silent() -> float:
                with _connect(port) as sock:
                    start = time.monotonic()
                    _until_closed(sock, 3.0)
                    return time.monotonic() - start

            assert await asyncio.get_running_loop().run_in_executor(None, silent) < 2.0

    _grpc_run(main())


def test_grpc_limits_are_checked() -> None:
    with pytest.raises(ValueError, match="handshake_timeout > 0"):
        GrpcLimits(handshake_timeout=0)
    with pytest.raises(ValueError, match="max_concurrent_rpcs >= 1"):
        GrpcLimits(max_concurrent_rpcs=0)
    with pytest.raises(ValueError, match="max_metadata_bytes >= 1024"):
        GrpcLimits(max_metadata_bytes=10)
