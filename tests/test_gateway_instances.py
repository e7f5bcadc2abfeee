"""The gateway's pure parts: instance records, the cached pool, its token, the sys echo."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from typing import TypeVar

import pytest
from google.protobuf.message import Message

from buckyos.generated import system_config_pb2 as sc
from buckyos.generated.system_config_rpc import SYSTEM_CONFIG_GET
from buckyos.runtime.errors import NoPermissionError, ServiceNotValidError, TransportError
from buckyos.runtime.security.keys import generate_key_pair
from buckyos.runtime.security.session_token import decode_unverified
from buckyos.runtime.security.token_verifier import TokenVerifier
from buckyos.runtime.security.trust_keys import TrustKeyStore
from buckyos.runtime.transport import Method, Transport
from buckyos.services.gateway.app import echo_sys
from buckyos.services.gateway.credentials import DeviceTokenInvoker
from buckyos.services.gateway.instances import (
    Instance,
    StaticInstanceSource,
    endpoint_url,
    instances_from_config,
)
from buckyos.services.gateway.pool import InstancePool

NOW = 1_700_000_000.0
ReqT = TypeVar("ReqT", bound=Message)
RespT = TypeVar("RespT", bound=Message)


def _hosts(node: str) -> str:
    return {"ood2": "10.0.0.2", "ood6": "fd00::6"}.get(node, "127.0.0.1")


def _info(**nodes: dict[str, object]) -> dict[str, object]:
    return {"selector_type": "random", "node_list": nodes}


def _node(state: str = "started", port: object = 3300, weight: object = 100) -> dict[str, object]:
    return {
        "node_did": "did:bns:x",
        "state": state,
        "weight": weight,
        "service_port": {"www": port},
    }


def _record(state: str = "started", port: object = 3301, expires: float = NOW + 90) -> object:
    return {
        "instance_id": "notes-x",
        "node_id": "x",
        "state": state,
        "service_ports": {"www": port},
        "expires_at": expires,
        "health": "healthy",
    }


def test_instances_from_info_and_records() -> None:
    info = _info(
        ood1=_node(port=4001),
        ood2=_node(port=4002, weight=7),
        ood3=_node(state="stopped", port=4003),
        ood4=_node(port="4004"),  # not a port
        ood5=_node(port=4005),  # its record says it exited
        ood6=_node(port=4006),
        ood7=_node(port=4007),  # its record expired
    )
    records = {
        "ood1": _record(port=5001),  # the live record's port wins
        "ood5": _record(state="exited"),
        "ood7": _record(expires=NOW - 1),
        "ood8": _record(port=5008),  # registered itself, no placement
        "ood9": _record(expires=NOW - 1),
        "ood10": None,  # unreadable record: dead
    }
    found = instances_from_config("notes", info, records, now=NOW, host_of=_hosts)
    assert found == (
        Instance("ood1", "http://127.0.0.1:5001/kapi/notes", 100),
        Instance("ood2", "http://10.0.0.2:4002/kapi/notes", 7),
        Instance("ood6", "http://[fd00::6]:4006/kapi/notes", 100),
        Instance("ood8", "http://127.0.0.1:5008/kapi/notes", 100),
    )
    assert found[1].describe() == "ood2@10.0.0.2:4002"


def test_records_cannot_route_the_gateway_anywhere_unsafe() -> None:
    """Records are written by node-daemons but also by whoever RBAC lets write
    ``services/<svc>/instances/<node>``: the host is never theirs to choose (only the
    gateway's ``host_of``), ports are 1-65535 integers, node names plain names."""
    metadata = _record(port=5001)
    assert isinstance(metadata, dict)
    metadata.update(host="169.254.169.254", url="http://169.254.169.254/", node_id="evil")
    placed = _node(port=4003)
    placed.update(node_net_id="169.254.169.254", host="10.9.9.9")
    info = _info(ood3=placed, **{"evil.example:80@": _node(port=4004)})
    records: dict[str, object] = {
        "ood1": metadata,
        "ood2": _record(port=0),
        "ood4": _record(port=65536),
        "ood5": _record(port=True),
        "ood7": _record(port="127.0.0.1:22"),
        "ood8": _record(port=-1),
        "ood9": _record(port=80.0),
        "10.0.0.9:22/": _record(port=5009),
        "a" * 65: _record(port=5010),
        "ood10": _record(port=65535),
    }
    found = instances_from_config("notes", info, records, now=NOW, host_of=_hosts)
    assert found == (
        Instance("ood1", "http://127.0.0.1:5001/kapi/notes", 100),
        Instance("ood10", "http://127.0.0.1:65535/kapi/notes", 100),
        Instance("ood3", "http://127.0.0.1:4003/kapi/notes", 100),
    )


def test_info_without_node_list_is_refused_with_what_to_fix() -> None:
    with pytest.raises(ServiceNotValidError) as caught:
        instances_from_config("notes", {"selector_type": "random"}, {}, now=NOW, host_of=_hosts)
    assert str(caught.value) == (
        "Service not valid: services/notes/info has no node_list object; "
        "fix the record in system_config"
    )


def test_endpoint_url() -> None:
    assert endpoint_url("http://127.0.0.1:3200", "system_config") == (
        "http://127.0.0.1:3200/kapi/system_config"
    )
    assert endpoint_url("http://127.0.0.1:3200/", "x") == "http://127.0.0.1:3200/kapi/x"
    assert endpoint_url("http://h:1/kapi/system_config/", "other") == (
        "http://h:1/kapi/system_config"
    )
    with pytest.raises(ValueError, match="http"):
        endpoint_url("ftp://h/", "x")


def test_static_source() -> None:
    source = StaticInstanceSource({"notes": ["http://127.0.0.1:1", "http://127.0.0.1:2/"]})

    async def run() -> None:
        found = await source.instances("notes")
        assert [i.url for i in found] == [
            "http://127.0.0.1:1/kapi/notes",
            "http://127.0.0.1:2/kapi/notes",
        ]
        with pytest.raises(ServiceNotValidError) as caught:
            await source.instances("other")
        assert str(caught.value) == "Service not valid: service info not found"

    asyncio.run(run())


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class _Source:
    """Answers from a table; counts lookups; can fail like an unreachable system_config."""

    def __init__(self) -> None:
        self.table: dict[str, tuple[Instance, ...]] = {}
        self.calls = 0
        self.down = False
        self.closed = False

    async def instances(self, service: str) -> Sequence[Instance]:
        self.calls += 1
        await asyncio.sleep(0)
        if self.down:
            raise TransportError("connection refused: http://127.0.0.1:3200/kapi/system_config")
        if service not in self.table:
            raise ServiceNotValidError("service info not found")
        return self.table[service]

    async def aclose(self) -> None:
        self.closed = True


A = Instance("a", "http://127.0.0.1:1/kapi/notes")
B = Instance("b", "http://127.0.0.1:2/kapi/notes")
C = Instance("c", "http://127.0.0.1:3/kapi/notes")


def test_pool_caches_and_refreshes_in_the_background() -> None:
    source, clock = _Source(), _Clock()
    source.table["notes"] = (A,)
    pool = InstancePool(source, ttl=5.0, clock=clock)

    async def run() -> None:
        # Concurrent first lookups share one read.
        results = await asyncio.gather(*(pool.instances("notes") for _ in range(5)))
        assert results == [(A,)] * 5 and source.calls == 1
        clock.now += 4.9
        assert await pool.instances("notes") == (A,) and source.calls == 1
        source.table["notes"] = (B,)
        clock.now += 0.2
        # Stale: answered at once from the old list while one lookup runs behind it.
        assert await pool.instances("notes") == (A,)
        for _ in range(20):
            await asyncio.sleep(0)
        assert source.calls == 2
        assert await pool.instances("notes") == (B,)
        # system_config down: the old list is kept, and re-read after about a second.
        source.down = True
        clock.now += 5.1
        await pool.instances("notes")
        for _ in range(20):
            await asyncio.sleep(0)
        assert source.calls == 3 and await pool.instances("notes") == (B,)
        clock.now += 1.1
        await pool.instances("notes")
        for _ in range(20):
            await asyncio.sleep(0)
        assert source.calls == 4
        await pool.aclose()
        assert source.closed

    asyncio.run(run())


def test_pool_errors_are_cached_briefly_and_named() -> None:
    source, clock = _Source(), _Clock()
    pool = InstancePool(source, clock=clock)

    async def run() -> None:
        for _ in range(3):
            with pytest.raises(ServiceNotValidError) as caught:
                await pool.instances("notes")
            assert str(caught.value) == "Service not valid: service info not found"
        assert source.calls == 1
        source.table["notes"] = (A,)
        clock.now += 1.1  # a newly registered service is found within about a second
        assert await pool.instances("notes") == (A,)
        source.down = True
        with pytest.raises(ServiceNotValidError) as caught:
            await pool.instances("other")
        assert str(caught.value) == (
            "Service not valid: cannot read the instances of other from system_config: "
            "Failed due to reason: connection refused: http://127.0.0.1:3200/kapi/system_config"
        )

    asyncio.run(run())


def test_random_service_names_cannot_grow_the_table() -> None:
    """Names come from request paths; failed lookups stop being kept once it is full."""
    source, clock = _Source(), _Clock()
    source.table["notes"] = (A,)
    pool = InstancePool(source, clock=clock)

    async def run() -> None:
        for index in range(1500):
            with pytest.raises(ServiceNotValidError):
                await pool.instances(f"no-such-{index}")
        assert len(pool._entries) == 1024  # white-box: the bound held
        assert await pool.instances("notes") == (A,)  # a real service is still cached
        assert len(pool._entries) == 1025

    asyncio.run(run())


def test_pool_refresh_after_failure_has_a_minimum_gap() -> None:
    source, clock = _Source(), _Clock()
    source.table["notes"] = (A,)
    pool = InstancePool(source, ttl=60.0, min_gap=0.5, clock=clock)

    async def run() -> None:
        await pool.instances("notes")
        source.table["notes"] = (C,)
        assert await pool.refresh("notes") is None  # read just now
        clock.now += 0.6
        assert await pool.refresh("notes") == (C,)
        assert source.calls == 2
        del source.table["notes"]
        clock.now += 0.6
        assert await pool.refresh("notes") is None  # unknown now

    asyncio.run(run())


def test_dead_marks_lapse_and_order_is_weighted() -> None:
    clock = _Clock()
    pool = InstancePool(_Source(), dead_for=3.0, clock=clock, rng=random.Random(7))
    pool.mark_dead(A)
    assert pool.order([A, B]) == [B]
    assert pool.order([A, B], skip={B.url}) == []
    clock.now += 3.0
    assert not pool.is_dead(A)
    assert sorted(i.node for i in pool.order([A, B])) == ["a", "b"]
    heavy = Instance("heavy", "http://127.0.0.1:9/kapi/notes", 1000)
    light = Instance("light", "http://127.0.0.1:8/kapi/notes", 1)
    never = Instance("never", "http://127.0.0.1:7/kapi/notes", 0)
    firsts = [pool.order([light, never, heavy])[0].node for _ in range(200)]
    assert firsts.count("heavy") > 180 and "never" not in firsts
    assert pool.order([never, light])[-1] is never


class _Carrier(Transport):
    """A transport that records the token each call carried."""

    def __init__(self) -> None:
        self.token: str | None = None
        self.trace_id: str | None = None
        self.seen: list[str | None] = []

    def _send(
        self, method: Method[ReqT, RespT], request: ReqT, timeout: float | None, token: str | None
    ) -> RespT:
        self.seen.append(token)
        return method.response_type()

    async def _asend(
        self, method: Method[ReqT, RespT], request: ReqT, timeout: float | None, token: str | None
    ) -> RespT:
        assert token == self.token  # the transport's own token is the one signed last
        return self._send(method, request, timeout, token)


def test_device_token_is_kernel_gateway_and_re_signed_before_expiry() -> None:
    private, public = generate_key_pair()
    trust = TrustKeyStore()
    trust.add_device("ood1", public)
    clock = _Clock()
    clock.now = 1_700_000_000.0
    carrier = _Carrier()
    invoker = DeviceTokenInvoker(carrier, private, "ood1", ttl=1200, renew_before=300, clock=clock)

    async def run() -> None:
        await invoker.ainvoke(SYSTEM_CONFIG_GET, sc.KeyRequest(key="boot/config"))
        first = carrier.seen[-1]
        assert first is not None
        header, claims = decode_unverified(first)
        assert header == {"alg": "EdDSA", "kid": "ood1"}
        assert claims["sub"] == "kernel" and claims["appid"] == "cyfs-gateway"
        assert claims["iss"] == "ood1" and claims["exp"] == 1_700_001_200
        session = TokenVerifier(trust, clock=clock).verify(first)
        assert (session.user_id, session.app_id) == ("kernel", "cyfs-gateway")
        clock.now += 899
        await invoker.ainvoke(SYSTEM_CONFIG_GET, sc.KeyRequest(key="boot/config"))
        assert carrier.seen[-1] == first
        clock.now += 2
        await invoker.ainvoke(SYSTEM_CONFIG_GET, sc.KeyRequest(key="boot/config"))
        assert carrier.seen[-1] != first
        assert decode_unverified(carrier.seen[-1] or "")[1]["exp"] == 1_700_002_101

    asyncio.run(run())
    forged, _ = generate_key_pair()
    other = DeviceTokenInvoker(_Carrier(), forged, "ood9")
    with pytest.raises(NoPermissionError, match="kid ood9 not found"):
        TokenVerifier(trust).verify(other.token())
    with pytest.raises(ValueError, match="device_name"):
        DeviceTokenInvoker(_Carrier(), private, "")


def test_echo_sys() -> None:
    assert echo_sys(b'{"method":"m","params":{},"sys":[42]}') == [42]
    assert echo_sys(b'{"method":"m","params":{},"sys":[42,"tok","tr-1"]}') == [42, "tr-1"]
    assert echo_sys(b'{"method":"m","params":{},"sys":[42,null,null]}') == [42]
    assert echo_sys(b'{"method":"m","params":{}}') == [0]
    assert echo_sys(b'{"sys":[-1]}') == [0]
    assert echo_sys(b'{"sys":[18446744073709551616]}') == [0]
    assert echo_sys(b"[1,2]") == [0]
    assert echo_sys(b"\xff not json") == [0]
