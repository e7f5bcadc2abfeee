"""gRPC, server side, over a real loopback socket: verbs, errors, health, reflection."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import grpc
import grpc.aio
import pytest
from google.protobuf import empty_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc  # type: ignore[import-untyped]
from grpc_reflection.v1alpha import (  # type: ignore[import-untyped]
    reflection_pb2,
    reflection_pb2_grpc,
)

from buckyos.generated import system_config_pb2 as sc
from buckyos.runtime.client.grpc_client import GrpcTransport
from buckyos.runtime.errors import (
    InternalError,
    KeyNotExistError,
    NoPermissionError,
    ReasonError,
    TokenExpiredError,
)
from buckyos.runtime.server.grpc_server import GrpcServer
from buckyos.runtime.server.serve import serving
from tests.generated import kitchen_sink_pb2 as ks
from tests.generated.kitchen_sink_rpc import AsyncKitchenSinkStub
from tests.wire_fixtures import GOOD_TOKEN, FakeDispatcher


@asynccontextmanager
async def grpc_server(
    dispatcher: FakeDispatcher | None = None,
) -> AsyncIterator[tuple[grpc.aio.Channel, FakeDispatcher]]:
    dispatcher = dispatcher or FakeDispatcher()
    async with serving(dispatcher, krpc_port=None, grpc_port=0, grace=0.5) as info:
        assert info.grpc_target is not None
        async with grpc.aio.insecure_channel(info.grpc_target) as channel:
            yield channel, dispatcher


def raw(channel: grpc.aio.Channel, path: str, response: Any) -> Any:
    """An untyped multicallable: bytes in, ``response`` message out."""
    return channel.unary_unary(path, response_deserializer=response.FromString)


GOOD = (("authorization", f"Bearer {GOOD_TOKEN}"),)


@pytest.mark.asyncio
async def test_verbs_answer_with_messages_and_read_metadata() -> None:
    async with grpc_server() as (channel, dispatcher):
        echo = raw(channel, "/buckyos_test.KitchenSink/Echo", ks.EchoResult)
        request = ks.EchoRequest(owner="alice", name="box", count=3).SerializeToString()
        call = echo(request, metadata=(*GOOD, ("x-trace-id", "trace-9")), timeout=5)
        assert await call == ks.EchoResult(text="alice/box x3", kind="echo")
        assert ("x-trace-id", "trace-9") in tuple(await call.trailing_metadata() or ())
        name, info = dispatcher.calls[-1]
        assert name == "kitchen-sink/ks_echo"
        assert (info.transport, info.token, info.trace_id, info.params) == (
            "grpc",
            GOOD_TOKEN,
            "trace-9",
            None,
        )
        assert info.peer is not None and "127.0.0.1" in info.peer

        names = raw(channel, "/buckyos_test.KitchenSink/Names", ks.NameList)
        assert await names(ks.NameParam(prefix="al").SerializeToString(), timeout=5) == (
            ks.NameList(names=["alpha", "alpine"])
        )
        setter = raw(channel, "/buckyos.system_config.SystemConfig/Set", empty_pb2.Empty)
        await setter(sc.SetRequest(key="k", value="v").SerializeToString(), metadata=GOOD)
        getter = raw(channel, "/buckyos.system_config.SystemConfig/Get", sc.GetResult)
        got = await getter(sc.KeyRequest(key="k").SerializeToString(), metadata=GOOD)
        assert got == sc.GetResult(value="v", version=1)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("path", "request_", "metadata", "code", "details"),
    [
        ("/buckyos.system_config.SystemConfig/Get", sc.KeyRequest(key="a"), (),
         grpc.StatusCode.PERMISSION_DENIED, "No permission:No session token"),
        ("/buckyos.system_config.SystemConfig/Get", sc.KeyRequest(key="a"),
         (("authorization", "Bearer expired-token"),),
         grpc.StatusCode.UNAUTHENTICATED, "Token expired:expired-token"),
        ("/buckyos.system_config.SystemConfig/Get", sc.KeyRequest(key="a"),
         (("authorization", "Basic abc"),),
         grpc.StatusCode.PERMISSION_DENIED, "No permission:No session token"),
        ("/buckyos.system_config.SystemConfig/Delete", sc.KeyRequest(key="nope"), GOOD,
         grpc.StatusCode.UNKNOWN, "Failed due to reason: key not found : nope"),
        ("/buckyos.system_config.SystemConfig/Append",
         sc.AppendRequest(key="nope", append_value="x"), GOOD,
         grpc.StatusCode.NOT_FOUND, "Key not exist: nope"),
        ("/buckyos_test.KitchenSink/Find", ks.EchoRequest(owner="o", name="boom"), GOOD,
         grpc.StatusCode.INTERNAL, "Failed due to reason: internal error in kitchen-sink/ks_find"),
        ("/buckyos_test.KitchenSink/Find", ks.EchoRequest(owner="o", name="wrong-type"), GOOD,
         grpc.StatusCode.INTERNAL, "Failed due to reason: kitchen-sink/ks_find returned "
         "NameList, expected buckyos_test.Found"),
    ],
)  # fmt: skip
async def test_errors_are_status_codes_with_the_krpc_text(
    path: str, request_: Any, metadata: Any, code: grpc.StatusCode, details: str
) -> None:
    async with grpc_server() as (channel, _):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await raw(channel, path, empty_pb2.Empty)(
                request_.SerializeToString(), metadata=metadata, timeout=5
            )
        assert caught.value.code() == code
        assert caught.value.details() == details


@pytest.mark.asyncio
async def test_undecodable_bytes_are_invalid_argument_and_unknown_paths_unimplemented() -> None:
    async with grpc_server() as (channel, _):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await raw(channel, "/buckyos_test.KitchenSink/Echo", ks.EchoResult)(
                b"\xff\xff\xff", metadata=GOOD, timeout=5
            )
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert (caught.value.details() or "").startswith(
            "Parse Request Error: buckyos_test.EchoRequest: "
        )
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await raw(channel, "/buckyos_test.KitchenSink/Nope", ks.EchoResult)(b"", timeout=5)
        assert caught.value.code() == grpc.StatusCode.UNIMPLEMENTED


@pytest.mark.asyncio
async def test_client_transport_raises_the_same_error_classes() -> None:
    dispatcher = FakeDispatcher()
    async with serving(dispatcher, krpc_port=None, grpc_port=0, grace=0.5) as info:
        assert info.grpc_target is not None
        transport = GrpcTransport(info.grpc_target)
        try:
            stub = AsyncKitchenSinkStub(transport)
            with pytest.raises(NoPermissionError) as denied:
                await stub.Find(owner="o", name="hit")
            assert denied.value == NoPermissionError("No session token")
            transport.token = "expired-token"
            with pytest.raises(TokenExpiredError):
                await stub.Find(owner="o", name="hit")
            transport.token = GOOD_TOKEN
            assert await stub.Find(owner="o", name="hit") == ks.Found(value="found", version=7)
            with pytest.raises(InternalError) as internal:
                await stub.Find(owner="o", name="boom")
            assert str(internal.value) == (
                "Failed due to reason: internal error in kitchen-sink/ks_find"
            )
            assert isinstance(internal.value, ReasonError)
        finally:
            await transport.aclose()
        from buckyos.generated.system_config_rpc import AsyncSystemConfigStub

        async with GrpcTransport(info.grpc_target, token=GOOD_TOKEN) as transport:
            with pytest.raises(KeyNotExistError) as missing:
                await AsyncSystemConfigStub(transport).Append(key="nope", append_value="x")
            assert missing.value == KeyNotExistError("nope")


@pytest.mark.asyncio
async def test_health_is_serving_for_every_api_and_the_server() -> None:
    async with grpc_server() as (channel, _):
        health = health_pb2_grpc.HealthStub(channel)
        for service in ("", "buckyos_test.KitchenSink", "buckyos.system_config.SystemConfig"):
            answer = await health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
            assert answer.status == health_pb2.HealthCheckResponse.SERVING
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await health.Check(health_pb2.HealthCheckRequest(service="nope"), timeout=5)
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND


@pytest.mark.asyncio
async def test_reflection_lists_the_services_and_serves_their_files() -> None:
    async with grpc_server() as (channel, _):
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        requests = [
            reflection_pb2.ServerReflectionRequest(list_services=""),
            reflection_pb2.ServerReflectionRequest(
                file_containing_symbol="buckyos_test.KitchenSink"
            ),
        ]
        answers = [answer async for answer in stub.ServerReflectionInfo(iter(requests))]
        listed = {s.name for s in answers[0].list_services_response.service}
        assert listed == {
            "buckyos_test.KitchenSink",
            "buckyos.system_config.SystemConfig",
            "grpc.health.v1.Health",
            "grpc.reflection.v1alpha.ServerReflection",
        }
        files = answers[1].file_descriptor_response.file_descriptor_proto
        from google.protobuf import descriptor_pb2

        names = {descriptor_pb2.FileDescriptorProto.FromString(f).name for f in files}
        assert "buckyos_test/kitchen_sink.proto" in names


@pytest.mark.asyncio
async def test_grpc_server_reports_its_port_and_stops() -> None:
    server = GrpcServer(FakeDispatcher(), health=False, reflection=False)
    port = await server.start("127.0.0.1", 0)
    assert port > 0 and server.port == port
    assert server.services == ("buckyos_test.KitchenSink", "buckyos.system_config.SystemConfig")
    with pytest.raises(RuntimeError):
        await server.start()
    # A taken port is an OSError, not a silently shared port.
    other = GrpcServer(FakeDispatcher())
    with pytest.raises(OSError):
        await other.start("127.0.0.1", port)
    await server.stop()
    await server.stop()  # idempotent
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await raw(channel, "/buckyos_test.KitchenSink/Names", ks.NameList)(b"", timeout=2)
        assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
