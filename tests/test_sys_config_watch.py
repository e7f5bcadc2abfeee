"""``sys_config_watch`` over real sockets, on SQLite and on etcd.

A watcher's link (WebSocket or gRPC link) gets every change under its key committed after
it subscribed, in order, with revisions, and nothing its token may not read; a token that
stops verifying (expired, its user disabled) ends the watch with one ``end`` event; on
etcd, a write on one system_config process reaches a watcher on another.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from buckyos.generated.system_config_rpc import AsyncSystemConfigStub, SystemConfigStub
from buckyos.runtime.client.krpc_client import KrpcTransport
from buckyos.runtime.client.link_client import GrpcLink, Link, WsLink
from buckyos.runtime.errors import ReasonError
from buckyos.runtime.security.keys import generate_key_pair, private_key_to_pem, public_key_to_jwk
from buckyos.runtime.security.token_signing import sign_token
from buckyos.services.system_config import EtcdStore, SqliteStore, Store
from buckyos.services.system_config.etcd_api import rpc_pb2
from buckyos.services.system_config.store import Change
from buckyos.services.system_config.watch import Watches
from tests.etcd import EtcdMember
from tests.test_sys_config_process import Process
from tests.test_sys_config_service import Zone


@pytest.fixture(params=["sqlite", "etcd"])
def zone(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Zone]:
    etcd = request.getfixturevalue("etcd_member").url if request.param == "etcd" else None
    started = Zone(tmp_path, etcd)
    try:
        started.seed()
        yield started
    finally:
        started.close()


async def _write(zone: Zone, verb: str, params: dict[str, Any], token: str) -> None:
    await asyncio.to_thread(zone.ok, verb, params, token)


async def _events_until(link: Link, name: str, last_key: str) -> list[dict[str, Any]]:
    """The data of event ``name`` up to the change of ``last_key`` (bounded: 10 s, 500)."""
    got: list[dict[str, Any]] = []
    for _ in range(500):
        event, data = await link.next_event(timeout=10)
        assert event == name, (event, data)
        got.append(data)
        if data.get("key") == last_key or "end" in data:
            return got
    raise AssertionError(f"no change of {last_key} in 500 events: {got[-5:]}")


def _changes(events: list[dict[str, Any]]) -> list[tuple[str, int, str, str | None]]:
    return [(e["key"], e["revision"], e["op"], e["value"]) for e in events]


def test_a_watcher_sees_every_change_it_may_read_in_order(zone: Zone) -> None:
    """Over the WebSocket link, alice watches the root: her keys (written by her and by
    the owner), in commit order with revisions, deletes with a null value; never bob's
    keys nor system keys; nothing committed before she subscribed."""
    alice = zone.token("alice", "notes")
    mine = "users/alice/apps/notes/settings"
    zone.ok("sys_config_set", {"key": mine, "value": "before"}, zone.root)

    async def run() -> list[dict[str, Any]]:
        async with WsLink(zone.info.krpc_url or "", token=alice) as link:
            result = await link.call("system_config", "sys_config_watch", {"key": "/"})
            assert result["key"] == "" and result["event"].startswith("system_config/watch/")
            await _write(zone, "sys_config_set", {"key": mine, "value": "1"}, alice)
            await _write(
                zone, "sys_config_set", {"key": "users/bob/secret", "value": "b"}, zone.root
            )
            await _write(zone, "sys_config_set", {"key": "system/x", "value": "s"}, zone.root)
            await _write(zone, "sys_config_append", {"key": mine, "append_value": "2"}, alice)
            tx = {
                "actions": {
                    "users/alice/profile": {"action": "create", "value": "p"},
                    "users/bob/profile": {"action": "create", "value": "q"},
                }
            }
            await _write(zone, "sys_config_exec_tx", tx, zone.root)
            await _write(zone, "sys_config_delete", {"key": mine}, zone.root)
            await _write(zone, "sys_config_set", {"key": "boot/config", "value": "{}"}, zone.root)
            return await _events_until(link, result["event"], "boot/config")

    events = asyncio.run(run())
    # Exactly what sys_config_get lets alice (app notes) read: not her profile either.
    for key in ("users/alice/profile", "users/bob/secret", "system/x"):
        assert zone.error("sys_config_get", {"key": key}, alice) == (
            "No permission:No read permission"
        )
    assert zone.ok("sys_config_get", {"key": "boot/config"}, alice)["value"] == "{}"
    assert _changes(events) == [
        (mine, 2, "set", "1"),
        (mine, 3, "set", "12"),
        (mine, 4, "delete", None),
        ("boot/config", 1, "set", "{}"),
    ]


def test_a_stub_on_the_grpc_link_watches_a_prefix(zone: Zone) -> None:
    """The generated async stub over a GrpcLink: one call subscribes; only keys under the
    prefix (``users/alice`` is the subtree: not ``users/alicex``); a sudo-free root token
    reads everything, so the filter is the prefix alone."""

    async def run() -> list[dict[str, Any]]:
        async with GrpcLink(zone.info.grpc_target or "", token=zone.root) as link:
            result = await AsyncSystemConfigStub(link).Watch(key="users/alice/")
            assert result.key == "users/alice"
            for n in range(20):
                await _write(
                    zone, "sys_config_set", {"key": "users/alicex/k", "value": "x"}, zone.root
                )
                await _write(
                    zone, "sys_config_set", {"key": "users/alice/k", "value": str(n)}, zone.root
                )
            await _write(zone, "sys_config_set", {"key": "users/alice", "value": "end"}, zone.root)
            return await _events_until(link, result.event, "users/alice")

    events = asyncio.run(run())
    expected = [("users/alice/k", n + 1, "set", str(n)) for n in range(20)]
    assert _changes(events) == [*expected, ("users/alice", 1, "set", "end")]


def test_watch_needs_a_link_and_a_token(zone: Zone) -> None:
    # Over plain kRPC there is no connection to hold the subscription.
    assert zone.error("sys_config_watch", {"key": "/"}, zone.root).startswith(
        "Failed due to reason: events need a streaming link"
    )
    assert zone.error("sys_config_watch", {"key": "/"}, None) == "No permission:No session token"
    assert zone.error("sys_config_watch", {}, zone.root) == "Failed due to reason: Missing key"

    async def run() -> None:
        async with WsLink(zone.info.krpc_url or "", token=zone.root) as link:
            with pytest.raises(ReasonError, match="internal metadata key is reserved"):
                await link.call("system_config", "sys_config_watch", {"key": "__meta/x"})

    asyncio.run(run())


def test_unwatch_ends_a_watch_on_its_own_link_only(zone: Zone) -> None:
    """``sys_config_unwatch``: alice's gRPC link ends its watch with the generated stub,
    gets its ``end`` event before the reply and nothing more as that event (her second
    watch's event comes first); her WebSocket
    link cannot end the gRPC link's watch and keeps its own; the slot is free at once
    (the next watch gets its name)."""
    alice = zone.token("alice", "notes")
    key, marker = "users/alice/apps/notes/settings", "users/alice/apps/notes/info"

    async def run() -> None:
        async with (
            GrpcLink(zone.info.grpc_target or "", token=alice) as grpc_link,
            WsLink(zone.info.krpc_url or "", token=alice) as ws_link,
        ):
            stub = AsyncSystemConfigStub(grpc_link)
            watched = (await stub.Watch(key=key)).event
            flag = (await stub.Watch(key=marker)).event
            other = await ws_link.call("system_config", "sys_config_watch", {"key": key})
            with pytest.raises(ReasonError, match="is not a watch this link holds"):
                await ws_link.call("system_config", "sys_config_unwatch", {"event": watched})
            await _write(zone, "sys_config_set", {"key": key, "value": "1"}, alice)
            assert await grpc_link.next_event(timeout=10) == (
                watched,
                {"key": key, "revision": 1, "op": "set", "value": "1"},
            )

            await stub.Unwatch(event=watched)
            # Its end came before the reply: the link already holds it.
            assert await grpc_link.next_event(timeout=0.001) == (
                watched,
                {"end": "unwatched: sys_config_unwatch ended this watch"},
            )
            with pytest.raises(ReasonError, match="is not a watch this link holds"):
                await stub.Unwatch(event=watched)  # once only
            # Its slot is free at once: the next watch gets the name (of a key not written).
            spec = "users/alice/apps/notes/spec"
            assert (await stub.Watch(key=spec)).event == watched
            await _write(zone, "sys_config_set", {"key": key, "value": "2"}, alice)
            await _write(zone, "sys_config_set", {"key": marker, "value": "m"}, alice)
            # Pushed in commit order: had the watch lived, its change of `key` came first.
            name, data = await grpc_link.next_event(timeout=10)
            assert (name, data["key"]) == (flag, marker)
            # The WebSocket link's watch of the same key lives on: both changes.
            events = await _events_until(ws_link, other["event"], key)
            assert [e["value"] for e in events] == ["1"]
            events = await _events_until(ws_link, other["event"], key)
            assert [e["value"] for e in events] == ["2"]

    asyncio.run(run())


def test_unwatch_refusals(zone: Zone) -> None:
    # Over plain kRPC no link holds a watch; the texts name what is wrong.
    assert zone.error("sys_config_unwatch", {"event": "system_config/watch/0"}, zone.root) == (
        "Failed due to reason: 'system_config/watch/0' is not a watch this link holds: "
        "unwatch the event that sys_config_watch answered, on the link that called it"
    )
    assert zone.error("sys_config_unwatch", {}, zone.root) == "Failed due to reason: Missing event"
    assert zone.error("sys_config_unwatch", {"event": "x"}, None) == (
        "No permission:No session token"
    )

    async def run() -> None:
        async with WsLink(zone.info.krpc_url or "", token=zone.root) as link:
            for name in ("system_config/watch/", "system_config/watch/07", "kevent/x", ""):
                with pytest.raises(ReasonError):
                    await link.call("system_config", "sys_config_unwatch", {"event": name})
            # The link still serves: a watch and its unwatch go through.
            event = (await link.call("system_config", "sys_config_watch", {"key": "/"}))["event"]
            assert await link.call("system_config", "sys_config_unwatch", {"event": event}) is None

    asyncio.run(run())


def test_an_expired_or_disabled_token_stops_receiving(zone: Zone) -> None:
    """The token is checked again for every change: once it expired (leeway 0 here), or
    its user is disabled, the watch ends with one ``end`` event and nothing more comes."""
    zone.binding.authorizer.verifier.leeway = 0
    hub, hub_public = generate_key_pair()
    boot = {"verify_hub_info": {"public_key": public_key_to_jwk(hub_public)}}
    zone.ok("sys_config_set", {"key": "boot/config", "value": json.dumps(boot)}, zone.root)
    session = zone.token("alice", "notes", key=hub, kid="verify-hub", iss="verify-hub")
    expires = int(time.time()) + 2
    brief = zone.token("alice", "notes", exp=expires)
    mine = "users/alice/apps/notes/settings"

    async def run() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        async with WsLink(zone.info.krpc_url or "", token=session) as link:
            long = await link.call("system_config", "sys_config_watch", {"key": mine})
            short = await link.call("system_config", "sys_config_watch", {"key": mine}, token=brief)
            await _write(zone, "sys_config_set", {"key": mine, "value": "1"}, zone.root)
            first = [await link.next_event(timeout=10) for _ in range(2)]
            await asyncio.sleep(max(0.0, expires + 0.3 - time.time()))
            await _write(zone, "sys_config_set", {"key": mine, "value": "2"}, zone.root)
            settings = json.dumps({"state": "disabled"})
            await _write(
                zone,
                "sys_config_set",
                {"key": "users/alice/settings", "value": settings},
                zone.root,
            )
            await _write(zone, "sys_config_set", {"key": mine, "value": "3"}, zone.root)
            await _write(zone, "sys_config_set", {"key": mine, "value": "4"}, zone.root)
            rest: list[tuple[str, Any]] = []
            while True:
                try:
                    rest.append(await link.next_event(timeout=1.0))
                except TimeoutError:
                    break
                assert len(rest) < 10
            by_name: dict[str, list[dict[str, Any]]] = {long["event"]: [], short["event"]: []}
            for name, data in [*first, *rest]:
                by_name[name].append(data)
            return by_name[long["event"]], by_name[short["event"]]

    long_events, short_events = asyncio.run(run())
    assert short_events[0] == {"key": mine, "revision": 1, "op": "set", "value": "1"}
    assert "ExpiredSignature" in short_events[1]["end"], short_events
    assert len(short_events) == 2
    assert long_events[0]["value"] == "1" and long_events[1]["value"] == "2", long_events
    assert long_events[-1].keys() == {"end"} and "disabled" in long_events[-1]["end"]
    assert all(e.get("value") not in ("3", "4") for e in long_events), long_events


class _Event:
    """A stand-in for a binder event: what the watch pushes."""

    name = "system_config/watch/0"
    subscribers = 1

    def __init__(self) -> None:
        self.pushed: list[Any] = []

    def push(self, data: Any = None) -> int:
        self.pushed.append(data)
        return 1


class _Caller:
    token = "t"


class _Req:
    caller = _Caller()

    def subscribe(self, event: Any) -> bool:
        return True


def _no_check(token: str | None) -> Any:
    raise AssertionError("no change may reach the token check")


def test_a_slow_feed_ends_the_watches_not_the_writers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store's listener only queues: past ``max_pending`` queued changes the queue is
    dropped for one marker that ends every watch (its subscriber re-reads), and the
    writer never waited."""
    store = SqliteStore(tmp_path / "c.db")
    event = _Event()
    try:
        watches = Watches(
            store,
            make_event=lambda name: event,  # type: ignore[arg-type,return-value]
            verify=_no_check,
            rbac=None,  # type: ignore[arg-type]
            max_pending=3,
        )
        monkeypatch.setattr(watches, "_start", lambda: None)  # no push thread: it only fills
        assert watches.watch(_Req(), "") == "system_config/watch/0"  # type: ignore[arg-type]
        for n in range(5):
            store.set(f"k{n}", "v")
        assert watches.dropped == 4 and len(watches._queue) == 2
        while watches._queue:
            watches._deliver(*watches._queue.popleft())
        assert len(event.pushed) == 1 and "fell behind" in event.pushed[0]["end"], event.pushed
    finally:
        store.close()


def test_changes_missed_on_etcd_end_the_watches(etcd_member: EtcdMember) -> None:
    """When etcd compacted past a store's copy (it is listed again, changes were missed),
    every watch on that node ends with a reason, and nothing is pushed as a change."""
    prefix = f"/test/{uuid.uuid4().hex}/"
    lagging = EtcdStore(etcd_member.url, prefix=prefix)
    writer = EtcdStore(etcd_member.url, prefix=prefix)
    event = _Event()
    watches = Watches(
        lagging,
        make_event=lambda name: event,  # type: ignore[arg-type,return-value]
        verify=_no_check,
        rbac=None,  # type: ignore[arg-type]
    )
    try:
        writer.set("a/k", "1")
        lagging.sync()
        watches.watch(_Req(), "a")  # type: ignore[arg-type]
        # As in test_sys_config_etcd: the lagging watch breaks at an old revision while
        # the store moves on and etcd compacts its history.
        with lagging._copy.cond:
            lagging._copy.revision = 1
            assert lagging._call is not None
            lagging._call.cancel()
            writer.set("a/k", "2")
            compact = writer._channel.unary_unary(
                "/etcdserverpb.KV/Compact",
                request_serializer=rpc_pb2.CompactionRequest.SerializeToString,
                response_deserializer=rpc_pb2.CompactionResponse.FromString,
            )
            compact(rpc_pb2.CompactionRequest(revision=writer.sync(), physical=True), timeout=10)
        deadline = time.monotonic() + 10
        while not event.pushed:
            assert time.monotonic() < deadline, "the watch was not ended"
            time.sleep(0.02)
        time.sleep(0.1)
        assert lagging.reloads == 1
        assert len(event.pushed) == 1 and "changes were missed" in event.pushed[0]["end"]
    finally:
        watches.close()
        lagging.close()
        writer.close()


@pytest.mark.parametrize("backend", ["sqlite", "etcd"])
def test_commit_listeners_get_one_change_per_key(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """``Store.on_commit``, the watch's feed: one list per commit, one change per key
    written, the same on both stores (on etcd, heard by another store on the prefix)."""
    got: list[Any] = []
    if backend == "sqlite":
        store: Store = SqliteStore(tmp_path / "c.db")
        heard: Store = store
    else:
        url = request.getfixturevalue("etcd_member").url
        prefix = f"/test/{uuid.uuid4().hex}/"
        store, heard = EtcdStore(url, prefix=prefix), EtcdStore(url, prefix=prefix)
    try:
        heard.on_commit(got.append)
        store.set("a", "1")
        store.transaction({"b": _op("create", "2")}, main_key=("a", 1))
        store.delete("a")
        store.transaction({"c": _op("remove")})  # removing a missing key changes nothing
        store.set("d", "last")
        expected = [
            [Change("a", 1, "1")],
            [Change("b", 1, "2"), Change("a", 2, "1")],
            [Change("a", 3, None)],
            [Change("d", 1, "last")],
        ]
        deadline = time.monotonic() + 10
        while len(got) < len(expected):
            assert time.monotonic() < deadline, got
            time.sleep(0.02)
        assert [sorted(c, key=lambda c: c.key) for c in got] == [
            sorted(c, key=lambda c: c.key) for c in expected
        ]
    finally:
        store.close()
        if heard is not store:
            heard.close()


def _op(kind: str, value: str | None = None) -> Any:
    from buckyos.services.system_config.store import OpKind, TxOp

    return TxOp(OpKind(kind), value)


def test_a_write_on_one_etcd_node_reaches_a_watcher_on_the_other(
    etcd_member: EtcdMember, tmp_path: Path
) -> None:
    """Two ``python -m buckyos.services.system_config --etcd`` processes on one prefix: a
    watcher on the second gets the first's writes, in order, with their revisions."""
    owner, owner_public = generate_key_pair()
    device, _ = generate_key_pair()
    owner_file = tmp_path / "owner.jwk"
    owner_file.write_text(json.dumps(public_key_to_jwk(owner_public)))
    device_file = tmp_path / "device.pem"
    device_file.write_text(private_key_to_pem(device))
    args = [
        "--etcd", etcd_member.url,
        "--etcd-prefix", f"/test/{uuid.uuid4().hex}/",
        "--owner-key", str(owner_file),
        "--device-name", "ood1",
        "--device-key", str(device_file),
        "--krpc-port", "0",
        "--no-grpc",
        "--log-level", "warning",
    ]  # fmt: skip
    root = sign_token(
        {"sub": "root", "appid": "kernel", "exp": int(time.time()) + 600}, owner, kid="root"
    )
    with (tmp_path / "stderr.log").open("w") as stderr:
        first, second = Process(args, stderr), Process(args, stderr)
        try:
            first_url, second_url = first.ready_krpc(), second.ready_krpc()

            async def run() -> list[dict[str, Any]]:
                async with WsLink(second_url, token=root) as link:
                    watch = await AsyncSystemConfigStub(link).Watch(key="services")
                    with KrpcTransport(first_url, token=root) as transport:
                        stub = SystemConfigStub(transport)

                        def write() -> None:
                            for n in range(5):
                                stub.Set(key="services/a/info", value=str(n))
                            stub.Delete(key="services/a/info")
                            stub.Set(key="boot/x", value="not watched")
                            stub.Set(key="services/b/info", value="last")

                        await asyncio.to_thread(write)
                    return await _events_until(link, watch.event, "services/b/info")

            events = asyncio.run(run())
        finally:
            first.stop()
            second.stop()
    assert _changes(events) == [
        *(("services/a/info", n + 1, "set", str(n)) for n in range(5)),
        ("services/a/info", 6, "delete", None),
        ("services/b/info", 1, "set", "last"),
    ]
