"""Client transports: kRPC request bytes, response checks, failures, and wire parity."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from google.protobuf.message import Message

from buckyos.generated import system_config_pb2 as sc
from buckyos.generated.system_config_rpc import (
    SYSTEM_CONFIG_GET,
    AsyncSystemConfigStub,
    SystemConfigStub,
)
from buckyos.runtime.client.grpc_client import GrpcTransport
from buckyos.runtime.client.inprocess import InProcessTransport
from buckyos.runtime.client.krpc_client import KrpcTransport
from buckyos.runtime.errors import (
    InternalError,
    InvalidTokenError,
    KeyNotExistError,
    NoPermissionError,
    ParseRequestError,
    ParseResponseError,
    ReasonError,
    RPCError,
    ServiceNotValidError,
    TokenExpiredError,
    TransportError,
    UnknownMethodError,
)
from buckyos.runtime.server.serve import ServerInfo
from buckyos.runtime.transport import AsyncUnaryInvoker, UnaryInvoker
from tests.generated import kitchen_sink_pb2 as ks
from tests.generated.kitchen_sink_rpc import (
    KITCHEN_SINK_ECHO,
    AsyncKitchenSinkStub,
    KitchenSinkStub,
)
from tests.wire_fixtures import (
    GOOD_TOKEN,
    Captured,
    FakeDispatcher,
    RawHttpServer,
    ServerThread,
    free_port,
    http_response,
)


def answer_with_seq(result: str = "null") -> Callable[[Captured], bytes]:
    """A responder that answers ``{"result": <result>, "sys": [<the request's seq>]}``."""

    def respond(request: Captured) -> bytes:
        seq = json.loads(request.body)["sys"][0]
        return http_response(200, f'{{"result":{result},"sys":[{seq}]}}'.encode())

    return respond


# --- the kRPC client's request bytes ------------------------------------------------------


def test_krpc_request_bytes_are_upstreams_shape() -> None:
    with RawHttpServer(answer_with_seq('{"text":"t","type":"k","maybe":null}')) as server:
        before = int(time.time()) * 1_000_000
        with KrpcTransport(server.url, token="tok") as transport:
            stub = KitchenSinkStub(transport)
            assert stub.Echo(owner="a", name="b") == ks.EchoResult(text="t", kind="k")
            transport.trace_id = "tr-1"
            stub.Echo(owner="\u00e9", name="b", note="n", count=2)
            transport.token = None
            stub.Echo(owner="a", name="b")
            transport.trace_id = None
            stub.Echo(owner="a", name="b")
        first = server.requests[0]
        assert (first.method, first.path) == ("POST", "/kapi/kitchen-sink")
        assert first.headers["content-type"] == "application/json"
        assert int(first.headers["content-length"]) == len(first.body)
        seq = json.loads(first.body)["sys"][0]
        # Unix seconds x 1,000,000, pre-incremented: the first call is start + 1.
        assert before < seq <= int(time.time()) * 1_000_000 + 1
        assert [r.body for r in server.requests] == [
            b'{"method":"ks_echo","params":{"owner":"a","name":"b","count":0},'
            b'"sys":[%d,"tok"]}' % seq,
            '{"method":"ks_echo","params":{"owner":"\u00e9","name":"b","note":"n","count":2},'
            '"sys":[%d,"tok","tr-1"]}'.encode()
            % (seq + 1),
            b'{"method":"ks_echo","params":{"owner":"a","name":"b","count":0},'
            b'"sys":[%d,null,"tr-1"]}' % (seq + 2),
            b'{"method":"ks_echo","params":{"owner":"a","name":"b","count":0},'
            b'"sys":[%d]}' % (seq + 3),
        ]
        # One persistent connection carried all four calls.
        assert {r.connection for r in server.requests} == {1}


@pytest.mark.asyncio
async def test_async_krpc_request_bytes_are_the_same() -> None:
    with RawHttpServer(answer_with_seq('["x"]')) as server:
        async with KrpcTransport(f"{server.url}/", token="tok") as transport:
            assert await AsyncKitchenSinkStub(transport).Names(prefix="p") == ks.NameList(
                names=["x"]
            )
        (request,) = server.requests
        seq = json.loads(request.body)["sys"][0]
        assert (request.method, request.path) == ("POST", "/kapi/kitchen-sink")
        assert request.headers["content-type"] == "application/json"
        assert request.body == b'{"method":"ks_names","params":"p","sys":[%d,"tok"]}' % seq


def test_an_endpoint_url_is_used_as_is() -> None:
    with RawHttpServer(answer_with_seq()) as server:
        with KrpcTransport(f"{server.url}/gateway/kapi/system_config", token="t") as transport:
            SystemConfigStub(transport).Set(key="k", value="v")
        assert server.requests[0].path == "/gateway/kapi/system_config"
    with pytest.raises(ValueError, match="http"):
        KrpcTransport("ftp://x")


# --- the kRPC client's response checks ----------------------------------------------------


def fixed(status: int, body: bytes, content_type: str = "application/json") -> Any:
    return lambda request: http_response(status, body, content_type=content_type)


def seq_of(request: Captured) -> int:
    seq: int = json.loads(request.body)["sys"][0]
    return seq


@pytest.mark.parametrize(
    ("respond", "error"),
    [
        (fixed(200, b'{"result":null,"sys":[1]}'), ParseResponseError),
        (fixed(200, b'{"result":null}'), ParseResponseError),
        (fixed(200, b"not json"), ParseResponseError),
        (fixed(200, b"[1]"), ParseResponseError),
        (lambda r: http_response(200, b'{"sys":[%d]}' % seq_of(r)), ParseResponseError),
        (lambda r: http_response(200, b'{"error":5,"sys":[%d]}' % seq_of(r)), ParseResponseError),
        (fixed(400, b"Bad Request: x", "text/plain"), ParseRequestError),
        (fixed(413, b"Payload Too Large", "text/plain"), ParseRequestError),
        (fixed(404, b"Not Found", "text/plain"), ServiceNotValidError),
        (fixed(403, b"", "text/plain"), NoPermissionError),
        (fixed(502, b"Bad Gateway", "text/plain"), TransportError),
        (fixed(500, b"oops", "text/plain"), ReasonError),
    ],
)
def test_bad_answers_raise_the_matching_kind(respond: Any, error: type[RPCError]) -> None:
    with RawHttpServer(respond) as server, KrpcTransport(server.url) as transport:
        with pytest.raises(error) as caught:
            KitchenSinkStub(transport).Names(prefix="p")
    assert type(caught.value) is error


def test_seq_mismatch_is_a_parse_response_error_sync_and_async() -> None:
    with RawHttpServer(fixed(200, b'{"result":["x"],"sys":[1,"tr"]}')) as server:
        with KrpcTransport(server.url) as transport:
            with pytest.raises(ParseResponseError) as caught:
                KitchenSinkStub(transport).Names(prefix="p")
            seq = seq_of(server.requests[0])
            assert str(caught.value) == f"Parse Response Error: seq not match: 1!={seq}"

            async def call() -> None:
                async with transport:
                    await AsyncKitchenSinkStub(transport).Names(prefix="p")

            import asyncio

            with pytest.raises(ParseResponseError, match="seq not match: 1!="):
                asyncio.run(call())


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("Key not exist: boot/config", KeyNotExistError("boot/config")),
        ("No permission:No read permission", NoPermissionError("No read permission")),
        ("Token expired:abc", TokenExpiredError("abc")),
        ("Unknown method: x", UnknownMethodError("x")),
        ("rpc call error: boom", ReasonError("rpc call error: boom")),
    ],
)
def test_error_texts_map_back_to_kinds(text: str, error: RPCError) -> None:
    def respond(request: Captured) -> bytes:
        body = json.dumps({"error": text, "sys": [seq_of(request)]}).encode()
        return http_response(200, body)

    with RawHttpServer(respond) as server, KrpcTransport(server.url) as transport:
        with pytest.raises(RPCError) as caught:
            KitchenSinkStub(transport).Names(prefix="p")
    assert caught.value == error


def test_a_dropped_keep_alive_connection_is_replaced() -> None:
    respond = answer_with_seq('["x"]')
    with RawHttpServer(respond, hang_up=True) as server, KrpcTransport(server.url) as transport:
        stub = KitchenSinkStub(transport)
        for _ in range(3):
            assert stub.Names(prefix="p") == ks.NameList(names=["x"])
            time.sleep(0.05)  # the hang-up has arrived: seen before sending
        for _ in range(3):
            # Maybe not arrived yet: an idempotent verb is retried once on a fresh one.
            assert stub.Names(prefix="p") == ks.NameList(names=["x"])
        assert len(server.requests) >= 6
        assert server.connections >= 6


def test_a_close_announced_by_the_server_is_honoured() -> None:
    def respond(request: Captured) -> bytes:
        body = b'{"result":null,"sys":[%d]}' % seq_of(request)
        return http_response(200, body, close=True)

    with RawHttpServer(respond) as server, KrpcTransport(server.url, token="t") as transport:
        stub = SystemConfigStub(transport)
        for _ in range(3):
            stub.Set(key="k", value="v")  # not idempotent: never retried, never needed
        assert [r.connection for r in server.requests] == [1, 2, 3]


# --- transport failures -------------------------------------------------------------------


def test_connection_refused_is_a_transport_error_on_every_client() -> None:
    port = free_port()
    with KrpcTransport(f"http://127.0.0.1:{port}") as transport:
        with pytest.raises(TransportError) as caught:
            KitchenSinkStub(transport).Names(prefix="p")
        assert str(caught.value) == (
            f"Failed due to reason: connection refused: http://127.0.0.1:{port}/kapi/kitchen-sink"
        )
        assert caught.value.retryable
    with GrpcTransport(f"127.0.0.1:{port}", timeout=5) as grpc_transport:
        with pytest.raises(TransportError) as caught:
            KitchenSinkStub(grpc_transport).Names(prefix="p")
        assert caught.value.retryable

    import asyncio

    async def both() -> None:
        async with KrpcTransport(f"http://127.0.0.1:{port}") as transport:
            with pytest.raises(TransportError, match="connection refused"):
                await AsyncKitchenSinkStub(transport).Names(prefix="p")
        async with GrpcTransport(f"127.0.0.1:{port}", timeout=5) as grpc_transport:
            with pytest.raises(TransportError):
                await AsyncKitchenSinkStub(grpc_transport).Names(prefix="p")

    asyncio.run(both())


def test_no_answer_in_time_is_a_transport_timeout() -> None:
    with RawHttpServer(lambda request: None) as server:
        with KrpcTransport(server.url, timeout=0.2) as transport:
            with pytest.raises(TransportError, match=r"timeout: no answer from .* in 0.2s"):
                KitchenSinkStub(transport).Names(prefix="p")

            import asyncio

            async def call() -> None:
                async with transport:
                    await AsyncKitchenSinkStub(transport).Names(prefix="p")

            with pytest.raises(TransportError, match="timeout"):
                asyncio.run(call())


# --- one server, every wire: the same answers ---------------------------------------------


@pytest.fixture(scope="module")
def live() -> Iterator[tuple[ServerInfo, FakeDispatcher]]:
    dispatcher = FakeDispatcher()
    with ServerThread(dispatcher) as info:
        yield info, dispatcher


def transports(info: ServerInfo, dispatcher: FakeDispatcher, token: str | None) -> list[Any]:
    assert info.krpc_url is not None and info.grpc_target is not None
    return [
        KrpcTransport(info.krpc_url, token=token),
        GrpcTransport(info.grpc_target, token=token),
        InProcessTransport(dispatcher, token=token),
        InProcessTransport(token=token),  # found through the in-process registry
    ]


def close_all(items: list[Any]) -> None:
    for item in items:
        if hasattr(item, "close"):
            item.close()


CALLS: list[tuple[str, Callable[[Any], Message]]] = [
    ("echo", lambda s: s.Echo(owner="o", name="n", note="hi", count=3)),
    ("names", lambda s: s.Names(prefix="al")),
    ("nothing", lambda s: s.DoNothing()),
    ("close", lambda s: s.Close(owner="o", name="n")),
    ("find", lambda s: s.Find(owner="o", name="hit")),
    ("miss", lambda s: s.Find(owner="o", name="miss")),
    (
        "everything",
        lambda s: s.Everything(
            s="\u6f22", b=b"\x00\xff", flag=True, i64=-(2**63), u64=2**64 - 1, d=1.5,
            color=ks.GREEN, inner=ks.Inner(label="l", numbers=[1, -2]), tags=["a", "b"],
            labels={"k": "v"}, by_number={7: "seven"}, maybe_number=-3, from_="f",
        ),
    ),
]  # fmt: skip


def test_every_wire_gives_the_same_results(live: tuple[ServerInfo, FakeDispatcher]) -> None:
    info, dispatcher = live
    items = transports(info, dispatcher, GOOD_TOKEN)
    try:
        for label, call in CALLS:
            results = [call(KitchenSinkStub(t)) for t in items]
            assert all(r == results[0] for r in results), label
        assert CALLS[0][1](KitchenSinkStub(items[0])) == ks.EchoResult(
            text="o/n x3", kind="echo", maybe="hi"
        )
    finally:
        close_all(items)


ERRORS: list[tuple[str | None, Callable[[Any], Message], RPCError]] = [
    (None, lambda s: s.Get(key="a"), NoPermissionError("No session token")),
    ("expired-token", lambda s: s.Get(key="a"), TokenExpiredError("expired-token")),
    ("forged", lambda s: s.Get(key="a"), InvalidTokenError("unknown token forged")),
    (GOOD_TOKEN, lambda s: s.Append(key="nope", append_value="x"), KeyNotExistError("nope")),
    (GOOD_TOKEN, lambda s: s.Delete(key="nope"), ReasonError("key not found : nope")),
    (GOOD_TOKEN, lambda s: s.ExecTx(actions={}), ReasonError("not implemented by the fake")),
]


@pytest.mark.parametrize(("token", "call", "expected"), ERRORS)
def test_every_wire_raises_the_same_errors(
    live: tuple[ServerInfo, FakeDispatcher],
    token: str | None,
    call: Callable[[Any], Message],
    expected: RPCError,
) -> None:
    info, dispatcher = live
    items = transports(info, dispatcher, token)
    try:
        for transport in items:
            with pytest.raises(RPCError) as caught:
                call(SystemConfigStub(transport))
            assert caught.value == expected, transport
            assert str(caught.value) == str(expected)
    finally:
        close_all(items)


def test_internal_errors_keep_their_text_on_every_wire(
    live: tuple[ServerInfo, FakeDispatcher],
) -> None:
    info, dispatcher = live
    items = transports(info, dispatcher, GOOD_TOKEN)
    try:
        for transport in items:
            with pytest.raises(ReasonError) as caught:
                KitchenSinkStub(transport).Find(owner="o", name="boom")
            assert str(caught.value) == (
                "Failed due to reason: internal error in kitchen-sink/ks_find"
            )
            # kRPC carries only the text, so it cannot say "internal"; gRPC's status can.
            if not isinstance(transport, KrpcTransport):
                assert isinstance(caught.value, InternalError)
    finally:
        close_all(items)


@pytest.mark.asyncio
async def test_async_clients_against_the_live_server(
    live: tuple[ServerInfo, FakeDispatcher],
) -> None:
    info, dispatcher = live
    items = transports(info, dispatcher, GOOD_TOKEN)
    for transport in items:
        assert isinstance(transport, AsyncUnaryInvoker) and isinstance(transport, UnaryInvoker)
        stub = AsyncSystemConfigStub(transport)
        await stub.Set(key=f"async/{type(transport).__name__}", value="v")
        got = await stub.Get(key=f"async/{type(transport).__name__}")
        assert got.value == "v"
        with pytest.raises(KeyNotExistError):
            await stub.Append(key="nope", append_value="x")
        if hasattr(transport, "aclose"):
            await transport.aclose()


def test_grpc_metadata_carries_token_and_trace(live: tuple[ServerInfo, FakeDispatcher]) -> None:
    info, dispatcher = live
    assert info.grpc_target is not None
    with GrpcTransport(info.grpc_target, token=GOOD_TOKEN, trace_id="tr-g") as transport:
        result = transport.invoke(SYSTEM_CONFIG_GET, sc.KeyRequest(key="zz"))
        assert result == sc.GetResult()
    name, seen = dispatcher.calls[-1]
    assert (name, seen.transport, seen.token, seen.trace_id) == (
        "system_config/sys_config_get",
        "grpc",
        GOOD_TOKEN,
        "tr-g",
    )
    with KrpcTransport(info.krpc_url or "", token=GOOD_TOKEN, trace_id="tr-k") as krpc:
        krpc.invoke(KITCHEN_SINK_ECHO, ks.EchoRequest(owner="o", name="n"))
    name, seen = dispatcher.calls[-1]
    assert (seen.transport, seen.token, seen.trace_id) == ("krpc", GOOD_TOKEN, "tr-k")


def test_async_session_of_a_finished_loop_is_closed_by_close() -> None:
    """asyncio.run() ends before anyone awaited aclose(): close() must still release the
    aiohttp session, or the GC warns "Unclosed client session" at exit."""
    import subprocess
    import sys

    code = """
import asyncio, gc
from buckyos.generated.system_config_rpc import AsyncSystemConfigStub
from buckyos.runtime.client.krpc_client import KrpcTransport
from buckyos.runtime.server.serve import serving
from tests.wire_fixtures import GOOD_TOKEN, FakeDispatcher

holder = []
async def main():
    async with serving(FakeDispatcher(), krpc_port=0, grpc_port=None, log_level="warning") as info:
        transport = KrpcTransport(info.krpc_url, token=GOOD_TOKEN)
        holder.append(transport)
        await AsyncSystemConfigStub(transport).Get(key="a")
asyncio.run(main())
holder[0].close()
holder.clear()
gc.collect()
print("ok")
"""
    done = subprocess.run(
        [sys.executable, "-W", "always", "-c", code], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
    assert "Unclosed" not in done.stderr, done.stderr
