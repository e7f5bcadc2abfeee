"""The kRPC client's safety rules, each against a real socket whose server misbehaves:

- a non-idempotent call is never sent twice, even when a kept-alive connection drops
  right after the server read it (an idempotent one is retried once, on a fresh one);
- an answer must carry the request's seq;
- a redirect is never followed (a 307 would re-post the body, token included, to
  wherever the server says).
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from buckyos.generated import system_config_pb2 as sc
from buckyos.generated.system_config_rpc import (
    SYSTEM_CONFIG_CREATE,
    SYSTEM_CONFIG_SET,
    AsyncSystemConfigStub,
    SystemConfigStub,
)
from buckyos.runtime.client.krpc_client import KrpcTransport
from buckyos.runtime.errors import (
    NoPermissionError,
    ParseResponseError,
    ReasonError,
    RPCError,
    TransportError,
)

Arrival = tuple[str, int]
"""(kRPC method, number of the connection it came on: 1, 2, ...)."""
Plan = Callable[[str, int, int], "bytes | None"]
"""(method, connection number, seq) -> the response bytes, or None: close without one."""


def _response(body: bytes, *, status: str = "200 OK", extra: str = "") -> bytes:
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n{extra}\r\n"
    )
    return head.encode("ascii") + body


def _ok(seq: int, result: str = "null") -> bytes:
    return _response(b'{"result":%s,"sys":[%d]}' % (result.encode(), seq))


class Server:
    """A keep-alive HTTP/1.1 server on a raw socket, one thread per connection, that
    records each kRPC request (method, connection) and answers as ``plan`` says."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.arrivals: list[Arrival] = []
        self.bodies: list[bytes] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.port: int = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._accepted = 0

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._accepted += 1
            thread = threading.Thread(
                target=self._connection, args=(conn, self._accepted), daemon=True
            )
            self._threads.append(thread)
            thread.start()

    def _connection(self, conn: socket.socket, number: int) -> None:
        conn.settimeout(5)
        buffer = b""
        with conn:
            while not self._stop.is_set():
                while b"\r\n\r\n" not in buffer:
                    try:
                        chunk = conn.recv(65536)
                    except OSError:
                        return
                    if not chunk:
                        return
                    buffer += chunk
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                while len(buffer) < length:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buffer += chunk
                body, buffer = buffer[:length], buffer[length:]
                self.bodies.append(body)
                try:
                    request = json.loads(body)
                    method, seq = request["method"], request["sys"][0]
                except (ValueError, KeyError, IndexError, TypeError):
                    # Not a kRPC request (a redirected GET has no body): recorded, refused.
                    self.arrivals.append(("", number))
                    conn.sendall(_response(b"not a kRPC request", status="400 Bad Request"))
                    continue
                self.arrivals.append((method, number))
                answer = self.plan(method, number, seq)
                if answer is None:
                    return  # read the whole request, then drop the connection unanswered
                conn.sendall(answer)

    @contextmanager
    def running(self) -> Iterator[Server]:
        thread = threading.Thread(target=self._serve, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            thread.join(5)
            self._listener.close()
            for worker in self._threads:
                worker.join(5)

    def count(self, method: str) -> int:
        return sum(1 for name, _ in self.arrivals if name == method)


def _drop_on_connection_1(method: str) -> Plan:
    """Answer everything, except ``method`` on the first connection: read, then drop."""

    def plan(name: str, connection: int, seq: int) -> bytes | None:
        if name == method and connection == 1:
            return None
        return _ok(seq)

    return plan


# --- never resend a call that is not idempotent ------------------------------------------


def test_a_non_idempotent_call_is_sent_once_when_the_kept_alive_connection_drops() -> None:
    assert not SYSTEM_CONFIG_CREATE.idempotent
    server = Server(_drop_on_connection_1("sys_config_create"))
    with server.running(), KrpcTransport(server.url, token="t") as transport:
        stub = SystemConfigStub(transport)
        stub.Get(key="k")  # opens the connection that Create will find kept alive
        with pytest.raises(TransportError) as caught:
            stub.Create(key="k", value="v")
        assert str(caught.value) == (
            f"Failed due to reason: eof: {server.url}/kapi/system_config closed the "
            "connection without an answer"
        )
        assert server.count("sys_config_create") == 1  # it may have run: not sent again
        assert server.arrivals == [("sys_config_get", 1), ("sys_config_create", 1)]
        stub.Get(key="k")  # the next call opens a fresh connection
        assert server.arrivals[-1] == ("sys_config_get", 2)


def test_an_idempotent_call_is_retried_once_on_a_fresh_connection() -> None:
    assert SYSTEM_CONFIG_SET.idempotent
    server = Server(_drop_on_connection_1("sys_config_set"))
    with server.running(), KrpcTransport(server.url, token="t") as transport:
        stub = SystemConfigStub(transport)
        stub.Get(key="k")
        stub.Set(key="k", value="v")  # dropped on connection 1, answered on connection 2
        assert server.arrivals == [
            ("sys_config_get", 1),
            ("sys_config_set", 1),
            ("sys_config_set", 2),
        ]


def test_an_idempotent_call_is_retried_only_once() -> None:
    def plan(name: str, connection: int, seq: int) -> bytes | None:
        return None if name == "sys_config_set" else _ok(seq)

    server = Server(plan)
    with server.running(), KrpcTransport(server.url, token="t") as transport:
        stub = SystemConfigStub(transport)
        stub.Get(key="k")
        with pytest.raises(TransportError, match=r"eof: .* closed the connection"):
            stub.Set(key="k", value="v")
        assert server.count("sys_config_set") == 2  # once, then once more on a fresh one


# --- the answer's seq must be the request's ----------------------------------------------


def _wrong_seq(payload: str) -> Plan:
    def plan(name: str, connection: int, seq: int) -> bytes:
        return _response(b'{%s,"sys":[%d]}' % (payload.encode(), seq + 1))

    return plan


@pytest.mark.parametrize(
    "payload",
    [
        '"result":{"value":"v","version":1}',  # a well-formed answer in every other way
        '"error":"No permission:not yours"',  # an error is not believed either
    ],
)
def test_an_answer_with_another_seq_is_refused(payload: str) -> None:
    server = Server(_wrong_seq(payload))
    with server.running(), KrpcTransport(server.url, token="t") as transport:
        stub = SystemConfigStub(transport)
        with pytest.raises(RPCError) as caught:
            stub.Get(key="k")
        assert type(caught.value) is ParseResponseError, caught.value
        sent = json.loads(server.bodies[-1])["sys"][0]
        assert str(caught.value) == f"Parse Response Error: seq not match: {sent + 1}!={sent}"
        with pytest.raises(ParseResponseError, match="seq not match"):
            transport.call_json("system_config", "sys_config_get", {"key": "k"})

        async def async_call() -> None:
            async with KrpcTransport(server.url, token="t") as async_transport:
                with pytest.raises(RPCError) as caught:
                    await AsyncSystemConfigStub(async_transport).Get(key="k")
                assert type(caught.value) is ParseResponseError, caught.value

        asyncio.run(async_call())
    # The same answers with the right seq are accepted: only the seq is wrong above.
    right = Server(
        lambda name, connection, seq: _response(b'{%s,"sys":[%d]}' % (payload.encode(), seq))
    )
    with right.running(), KrpcTransport(right.url, token="t") as transport:
        if payload.startswith('"result"'):
            assert SystemConfigStub(transport).Get(key="k") == sc.GetResult(value="v", version=1)
        else:
            with pytest.raises(NoPermissionError):
                SystemConfigStub(transport).Get(key="k")


# --- redirects are not followed ----------------------------------------------------------


@pytest.mark.parametrize(
    "status", ["302 Found", "307 Temporary Redirect", "308 Permanent Redirect"]
)
def test_a_redirect_is_not_followed_and_the_token_goes_nowhere_else(status: str) -> None:
    secret = Server(lambda name, connection, seq: _ok(seq))
    with secret.running():
        location = f"Location: {secret.url}/kapi/system_config\r\n"

        def plan(name: str, connection: int, seq: int) -> bytes:
            return _response(b"", status=status, extra=location)

        server = Server(plan)
        with server.running(), KrpcTransport(server.url, token="secret-token") as transport:
            code = status.split()[0]
            with pytest.raises(ReasonError, match=f"HTTP {code} from {server.url}"):
                SystemConfigStub(transport).Get(key="k")

            async def async_call() -> None:
                async with KrpcTransport(server.url, token="secret-token") as async_transport:
                    with pytest.raises(ReasonError, match=f"HTTP {code} from {server.url}"):
                        await AsyncSystemConfigStub(async_transport).Get(key="k")

            asyncio.run(async_call())
        assert server.count("sys_config_get") == 2
    assert secret.arrivals == []  # neither client went where the redirect said
