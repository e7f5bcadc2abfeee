"""The gRPC link over real sockets: one bidirectional stream of binder frames."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import grpc
import grpc.aio
import pytest
from google.protobuf import descriptor_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc  # type: ignore[import-untyped]
from grpc_reflection.v1alpha import (  # type: ignore[import-untyped]
    reflection_pb2,
    reflection_pb2_grpc,
)

from buckyos.generated import link_pb2
from buckyos.runtime.client.link_client import GrpcLink, WsLink
from buckyos.runtime.errors import (
    InvalidTokenError,
    NoPermissionError,
    TransportError,
    UnknownMethodError,
)
from tests.event_fixtures import World, make_world, served, wait_until

pytestmark = pytest.mark.asyncio


@asynccontextmanager
async def world_and_target() -> AsyncIterator[tuple[World, str, str]]:
    world = make_world()
    async with served(world) as info:
        assert info.grpc_target is not None and info.krpc_url is not None
        yield world, info.grpc_target, info.krpc_url


def open_stream(channel: grpc.aio.Channel, token: str) -> Any:
    """A raw link stream: bytes written as given, LinkFrame messages read."""
    connect: Any = channel.stream_stream(
        "/buckyos.Link/Connect", response_deserializer=link_pb2.LinkFrame.FromString
    )
    return connect(metadata=(("authorization", f"Bearer {token}"),))


def call_frame(frame_id: str, api_verb: str, args: str) -> bytes:
    call = link_pb2.LinkCall(id=frame_id, api_verb=api_verb, args=args)
    return link_pb2.LinkFrame(call=call).SerializeToString()


async def test_subscribe_push_two_clients_unsubscribe_and_close() -> None:
    async with world_and_target() as (world, target, _):
        changed = world.binding.make_event("changed")
        async with (
            GrpcLink(target, token=world.alice) as one,
            GrpcLink(target, token=world.bob) as two,
        ):
            assert await one.call("ev", "ev_sub", {"key": "changed"}) == {"value": "new"}
            assert await one.call("ev", "ev_sub", {"key": "changed"}) == {"value": "again"}
            assert await two.call("ev", "ev_sub", {"key": "changed"}) == {"value": "new"}
            assert changed.subscribers == 2
            assert await two.call("ev", "ev_push", {"key": "changed", "value": "a"}) == {
                "value": "2"
            }
            assert changed.push({"value": "b"}) == 2
            for link in (one, two):
                assert await link.next_event(3) == ("ev/changed", {"value": "a"})
                assert await link.next_event(3) == ("ev/changed", {"value": "b"})
            assert await one.call("ev", "ev_unsub", {"key": "changed"}) == {"value": "was"}
            assert changed.push({"value": "c"}) == 1
            assert await two.next_event(3) == ("ev/changed", {"value": "c"})
            with pytest.raises(TimeoutError):
                await one.next_event(0.2)
            assert await one.call("ev", "ev_sub_sync", {"key": "t"}) == {
                "value": "new",
                "version": 1,
            }
            assert await one.next_event(3) == ("ev/t", {"from": "thread"})
        await wait_until(lambda: changed.subscribers == 0, what="subscriptions to vanish")
        assert changed.push({"value": "d"}) == 0


async def test_a_cancelled_stream_drops_its_subscription() -> None:
    async with world_and_target() as (world, target, _):
        changed = world.binding.make_event("changed")
        async with grpc.aio.insecure_channel(target) as channel:
            stream = open_stream(channel, world.alice)
            await stream.write(call_frame("1", "ev/ev_sub", '{"key":"changed"}'))
            reply = await stream.read()
            assert reply.reply == link_pb2.LinkReply(id="1", result='{"value":"new"}')
            assert changed.push([1]) == 1
            assert (await stream.read()).event == link_pb2.LinkEvent(event="ev/changed", data="[1]")
            stream.cancel()
            await wait_until(lambda: changed.subscribers == 0, what="the cancel to count")
            assert changed.push([2]) == 0


async def test_broadcast_reaches_links_of_both_wires_and_onevent() -> None:
    async with world_and_target() as (world, target, url):
        async with GrpcLink(target) as over_grpc, WsLink(url) as over_ws:
            await over_grpc.call("ev", "ev_push", {"key": "warm", "value": "up"})
            await over_ws.call("ev", "ev_push", {"key": "warm", "value": "up"})
            assert world.binding.broadcast("ev/all", "hello") == (2, 1)
            assert await over_grpc.next_event(3) == ("ev/all", "hello")
            assert await over_ws.next_event(3) == ("ev/all", "hello")
            await wait_until(lambda: world.onevent == [("ev/all", "hello")], what="onevent")


async def test_link_errors_are_krpc_texts_and_classes() -> None:
    async with world_and_target() as (world, target, _):
        cases: list[tuple[str | None, str, dict[str, Any], str]] = [
            (None, "ev_sub", {"key": "x"}, "No permission:No session token"),
            (world.alice, "nope", {}, "Unknown method: nope"),
            (
                world.alice,
                "ev_read",
                {"key": "users/bob/apps/notes/settings"},
                "No permission:enforce failed,userid:alice,appid:notes,"
                "resource:obj://config/users/bob/apps/notes/settings,action:read",
            ),
        ]
        for token, verb, params, text in cases:
            async with GrpcLink(target, token=token) as link:
                with pytest.raises((NoPermissionError, UnknownMethodError)) as caught:
                    await link.call("ev", verb, params)
                assert str(caught.value) == text
        async with GrpcLink(target, token=world.forged) as link:
            with pytest.raises(InvalidTokenError) as invalid:
                await link.call("ev", "ev_sub", {"key": "x"})
            assert str(invalid.value).startswith("Invalid token: ")
            assert await link.call("ev", "ev_sub", {"key": "x"}, token=world.alice) == {
                "value": "new"
            }
            # The override was for that call only: the stream's token is still the forged one.
            with pytest.raises(InvalidTokenError):
                await link.call("ev", "ev_read", {"key": "users/alice/apps/notes/s"})


async def test_malformed_frames_get_error_frames_and_the_stream_goes_on() -> None:
    async with world_and_target() as (world, target, _):
        async with grpc.aio.insecure_channel(target) as channel:
            stream = open_stream(channel, world.alice)
            await stream.write(b"\xff\xff\xff")
            await stream.write(
                link_pb2.LinkFrame(event=link_pb2.LinkEvent(event="a/b")).SerializeToString()
            )
            await stream.write(call_frame("a", "ev_sub", "{}"))
            await stream.write(call_frame("b", "ev/ev_sub", "{oops"))
            await stream.write(call_frame("c", "ev/ev_sub", "x" * (1 << 20)))
            await stream.write(call_frame("d", "ev/ev_sub", '{"key":"k"}'))
            got = [await stream.read() for _ in range(6)]
            errors = [(f.error.id, f.error.text) for f in got[:5]]
            assert errors[0][0] == "" and errors[0][1].startswith(
                "Parse Request Error: buckyos.LinkFrame: "
            )
            assert errors[1:] == [
                ("", "Parse Request Error: a client sends call frames (LinkFrame.call) only"),
                ("a", "Parse Request Error: the call names 'ev_sub'; write \"<api>/<verb>\""),
                (
                    "b",
                    "Parse Request Error: args are not JSON (Expecting property name enclosed in double quotes: line 1 column 2 (char 1))",
                ),
                ("c", "Parse Request Error: the frame is over 1048576 bytes"),
            ]
            assert got[5].reply == link_pb2.LinkReply(id="d", result='{"value":"new"}')
            await stream.done_writing()
            assert await stream.read() == grpc.aio.EOF
            assert await stream.code() == grpc.StatusCode.OK


async def test_half_close_answers_calls_in_flight_then_ends() -> None:
    async with world_and_target() as (world, target, _):
        async with grpc.aio.insecure_channel(target) as channel:
            stream = open_stream(channel, world.alice)
            # The sync verb runs in a worker thread: it is still running at the half-close.
            await stream.write(call_frame("1", "ev/ev_sub_sync", '{"key":"x"}'))
            await stream.done_writing()
            # Pushed before the reply, so it comes first; then the reply; then the end.
            assert (await stream.read()).event == link_pb2.LinkEvent(
                event="ev/x", data='{"from":"thread"}'
            )
            assert (await stream.read()).reply == link_pb2.LinkReply(
                id="1", result='{"value":"new","version":1}'
            )
            assert await stream.read() == grpc.aio.EOF
            assert await stream.code() == grpc.StatusCode.OK
        await wait_until(lambda: world.binding.events.links == 0, what="the stream to end")


async def test_a_reader_too_slow_gets_resource_exhausted_and_others_go_on() -> None:
    async with world_and_target() as (world, target, _):
        flood = world.binding.make_event("flood")
        async with GrpcLink(target, token=world.alice) as slow, GrpcLink(target) as other:
            await slow.call("ev", "ev_sub", {"key": "flood"})
            counts = [flood.push(i) for i in range(1100)]
            assert counts == [1] * 1024 + [0] * 76
            with pytest.raises(TransportError):
                while True:
                    await slow.next_event(3)
            assert slow.closed is not None and slow.closed.startswith(
                "RESOURCE_EXHAUSTED: event queue overflow: over 1024 frames unread"
            )
            assert await other.call("ev", "ev_push", {"key": "flood", "value": "v"}) == {
                "value": "0"
            }


async def test_reflection_and_health_know_the_link() -> None:
    async with world_and_target() as (_, target, _), grpc.aio.insecure_channel(target) as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        requests = [
            reflection_pb2.ServerReflectionRequest(list_services=""),
            reflection_pb2.ServerReflectionRequest(file_containing_symbol="buckyos.Link"),
        ]
        answers = [answer async for answer in stub.ServerReflectionInfo(iter(requests))]
        listed = {s.name for s in answers[0].list_services_response.service}
        assert {"buckyos.Link", "buckyos_test.Ev"} <= listed
        files = {
            (proto := descriptor_pb2.FileDescriptorProto.FromString(raw)).name: proto
            for raw in answers[1].file_descriptor_response.file_descriptor_proto
        }
        method = files["buckyos/link_service.proto"].service[0].method[0]
        assert (method.name, method.input_type, method.output_type) == (
            "Connect",
            ".buckyos.LinkFrame",
            ".buckyos.LinkFrame",
        )
        assert method.client_streaming and method.server_streaming
        assert "buckyos/link.proto" in files
        health = health_pb2_grpc.HealthStub(channel)
        answer = await health.Check(health_pb2.HealthCheckRequest(service="buckyos.Link"))
        assert answer.status == health_pb2.HealthCheckResponse.SERVING
