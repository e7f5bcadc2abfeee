"""The WebSocket link over real sockets: calls, subscriptions, events, refusals."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest

from buckyos.runtime.client.link_client import WsLink
from buckyos.runtime.errors import (
    InvalidTokenError,
    NoPermissionError,
    ReasonError,
    TransportError,
    UnknownMethodError,
)
from tests.event_fixtures import World, make_world, served, wait_until

pytestmark = pytest.mark.asyncio


@asynccontextmanager
async def world_and_url() -> AsyncIterator[tuple[World, str]]:
    world = make_world()
    async with served(world) as info:
        assert info.krpc_url is not None
        yield world, info.krpc_url


@asynccontextmanager
async def raw_ws(url: str, **kwargs: Any) -> AsyncIterator[aiohttp.ClientWebSocketResponse]:
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(url.replace("http://", "ws://") + "/kapi/link", **kwargs) as ws,
    ):
        yield ws


async def frames(ws: aiohttp.ClientWebSocketResponse, count: int) -> list[Any]:
    return [json.loads(await ws.receive_str(timeout=3)) for _ in range(count)]


async def test_subscribe_push_two_clients_unsubscribe_and_close() -> None:
    async with world_and_url() as (world, url):
        changed = world.binding.make_event("changed")
        async with WsLink(url, token=world.alice) as one, WsLink(url, token=world.bob) as two:
            assert one.subprotocol == "x-afb-ws-json1"
            assert await one.call("ev", "ev_sub", {"key": "changed"}) == {"value": "new"}
            assert await one.call("ev", "ev_sub", {"key": "changed"}) == {"value": "again"}
            assert await two.call("ev", "ev_sub", {"key": "changed"}) == {"value": "new"}
            assert changed.subscribers == 2  # twice counted once
            # Pushed from a verb over the link, then from outside any request.
            assert await two.call("ev", "ev_push", {"key": "changed", "value": "a"}) == {
                "value": "2"
            }
            assert changed.push({"value": "b"}) == 2
            for link in (one, two):
                assert await link.next_event(3) == ("ev/changed", {"value": "a"})
                assert await link.next_event(3) == ("ev/changed", {"value": "b"})
            assert await one.call("ev", "ev_unsub", {"key": "changed"}) == {"value": "was"}
            assert await one.call("ev", "ev_unsub", {"key": "changed"}) == {"value": "not"}
            assert changed.push({"value": "c"}) == 1
            assert await two.next_event(3) == ("ev/changed", {"value": "c"})
            with pytest.raises(TimeoutError):
                await one.next_event(0.2)
            # A sync handler (worker thread) subscribes and pushes before it replies.
            assert await one.call("ev", "ev_sub_sync", {"key": "t"}) == {
                "value": "new",
                "version": 1,
            }
            assert await one.next_event(3) == ("ev/t", {"from": "thread"})
        await wait_until(lambda: changed.subscribers == 0, what="subscriptions to vanish")
        assert changed.push({"value": "d"}) == 0
        assert world.binding.events.links == 0


async def test_disconnect_drops_the_subscription_and_nothing_arrives_after() -> None:
    async with world_and_url() as (world, url):
        changed = world.binding.make_event("changed")
        async with WsLink(url, token=world.alice) as stays:
            await stays.call("ev", "ev_sub", {"key": "changed"})
            async with raw_ws(url, headers={"Authorization": f"Bearer {world.bob}"}) as leaves:
                await leaves.send_str('[2,"s","ev/ev_sub",{"key":"changed"}]')
                assert await frames(leaves, 1) == [[3, "s", {"value": "new"}]]
                assert changed.push(1) == 2
                assert await frames(leaves, 1) == [[5, "ev/changed", 1]]
            # The raw socket hung up without unsubscribing: the count goes down by itself.
            await wait_until(lambda: changed.subscribers == 1, what="the hang-up to count")
            assert changed.push(2) == 1
            assert await stays.next_event(3) == ("ev/changed", 1)
            assert await stays.next_event(3) == ("ev/changed", 2)


async def test_broadcast_reaches_every_link_and_onevent() -> None:
    async with world_and_url() as (world, url):
        async with WsLink(url, token=world.alice) as one, WsLink(url) as anonymous:
            # Neither subscribed: a broadcast goes to every connected link anyway.
            await one.call("ev", "ev_push", {"key": "warm", "value": "up"})
            result = world.binding.broadcast(world.binding.make_event("all"), {"n": 1})
            assert (result.links, result.hooks) == (2, 1)
            assert await one.next_event(3) == ("ev/all", {"n": 1})
            assert await anonymous.next_event(3) == ("ev/all", {"n": 1})
            await wait_until(lambda: world.onevent == [("ev/all", {"n": 1})], what="onevent")


async def test_link_errors_are_krpc_texts_and_classes() -> None:
    async with world_and_url() as (world, url):
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
        async with aiohttp.ClientSession() as http:
            for token, verb, params, text in cases:
                body = {"method": verb, "params": params, "sys": [1, token]}
                async with http.post(f"{url}/kapi/ev", json=body) as answer:
                    assert (await answer.json())["error"] == text
                async with WsLink(url, token=token) as link:
                    with pytest.raises((NoPermissionError, UnknownMethodError)) as caught:
                        await link.call("ev", verb, params)
                    assert str(caught.value) == text
        async with WsLink(url, token=world.forged) as link:
            with pytest.raises(InvalidTokenError) as invalid:
                await link.call("ev", "ev_sub", {"key": "x"})
            assert str(invalid.value).startswith("Invalid token: ")
            # A call's own token (5th item) overrides the connection's.
            assert await link.call("ev", "ev_sub", {"key": "x"}, token=world.alice) == {
                "value": "new"
            }
            with pytest.raises(UnknownMethodError) as no_api:
                await link.call("zz", "nope")
            assert str(no_api.value) == "Unknown method: zz/nope"


async def test_subscribe_after_the_reply_is_refused() -> None:
    async with world_and_url() as (world, url):
        async with WsLink(url, token=world.alice) as link:
            assert await link.call("ev", "ev_late", {"key": "late"}) is None
            await wait_until(lambda: len(world.late) == 1, what="the late subscribe")
        assert isinstance(world.late[0], ReasonError)
        assert str(world.late[0]) == (
            "Failed due to reason: ev/ev_late: subscribe(ev/late) after the reply; "
            "a verb must (un)subscribe before it answers"
        )
        assert world.binding.make_event("late").subscribers == 0


async def test_malformed_frames_get_error_frames_and_the_link_goes_on() -> None:
    async with world_and_url() as (world, url):
        async with raw_ws(url, headers={"Authorization": f"Bearer {world.alice}"}) as ws:
            await ws.send_str("not json")
            await ws.send_str('{"method":"ev_sub"}')
            await ws.send_str('[2,"a","ev_sub",{"key":"x"}]')
            await ws.send_str('[2,"b","ev/ev_sub"]')
            await ws.send_bytes(b'[2,"c","ev/ev_sub",{"key":"x"}]')
            await ws.send_str('[2,"d","ev/ev_sub",{"key":7}]')
            await ws.send_str('[2,"e","ev/ev_sub",{"key":"x"}]')
            assert await frames(ws, 7) == [
                [
                    4,
                    None,
                    "Parse Request Error: the frame is not JSON (Expecting value: line 1 column 1 (char 0))",
                ],
                [
                    4,
                    None,
                    'Parse Request Error: a call frame is a JSON array [2, id, "api/verb", args] (optional 5th: token)',
                ],
                [4, "a", "Parse Request Error: the call names 'ev_sub'; write \"<api>/<verb>\""],
                [
                    4,
                    "b",
                    'Parse Request Error: 3 items; a call frame is a JSON array [2, id, "api/verb", args] (optional 5th: token)',
                ],
                [
                    4,
                    None,
                    'Parse Request Error: binary frame: the link takes JSON text frames [2, id, "api/verb", args]',
                ],
                [4, "d", "Parse Request Error: field `key`: expected string, got number"],
                [3, "e", {"value": "new"}],
            ]


async def test_a_frame_over_the_cap_closes_the_link_and_the_server_serves_on() -> None:
    async with world_and_url() as (world, url):
        async with raw_ws(url, max_msg_size=0) as ws:
            await ws.send_str('[2,"1","ev/ev_push",{"key":"k","value":"' + "x" * (1 << 20) + '"}]')
            message = await ws.receive(timeout=5)
            assert message.type == aiohttp.WSMsgType.CLOSE
            assert message.data == 1009
        async with WsLink(url, token=world.alice) as link:
            assert await link.call("ev", "ev_sub", {"key": "k"}) == {"value": "new"}


async def test_a_reader_too_slow_for_its_events_is_closed_and_others_go_on() -> None:
    async with world_and_url() as (world, url):
        flood = world.binding.make_event("flood")
        async with WsLink(url, token=world.alice) as slow, WsLink(url, token=world.bob) as other:
            await slow.call("ev", "ev_sub", {"key": "flood"})
            await other.call("ev", "ev_sub", {"key": "other"})
            # One burst, with no chance for the writer to drain: past 1024 waiting frames
            # the slow link is closed and counted out; pushing never blocks.
            counts = [flood.push(i) for i in range(1100)]
            assert counts == [1] * 1024 + [0] * 76
            with pytest.raises(TransportError):
                while True:
                    await slow.next_event(3)
            assert slow.close_code == 1013
            assert "event queue overflow: over 1024 frames unread" in (slow.closed or "")
            assert await other.call("ev", "ev_push", {"key": "other", "value": "v"}) == {
                "value": "1"
            }
            assert await other.next_event(3) == ("ev/other", {"value": "v"})
        assert flood.subscribers == 0


async def test_only_the_link_path_upgrades() -> None:
    async with world_and_url() as (_, url):
        async with aiohttp.ClientSession() as session:
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await session.ws_connect(url.replace("http://", "ws://") + "/kapi/ev")
            assert refused.value.status == 404
        # Without the binder's subprotocol the link still works (none is chosen).
        async with raw_ws(url) as ws:
            assert ws.protocol is None
            await ws.send_str('[2,1,"ev/ev_push",{"key":"k","value":"v"}]')
            assert await frames(ws, 1) == [[3, 1, {"value": "0"}]]


async def test_server_shutdown_ends_the_link_for_the_client() -> None:
    world = make_world()
    async with served(world) as info:
        assert info.krpc_url is not None
        link = WsLink(info.krpc_url, token=world.alice)
        await link.__aenter__()
        await link.call("ev", "ev_sub", {"key": "x"})
    try:
        with pytest.raises(TransportError):
            await link.next_event(3)
        with pytest.raises(TransportError):
            await link.call("ev", "ev_sub", {"key": "x"})
    finally:
        await link.aclose()
