"""Service resolution, pure: zone hosts, endpoints, service info and its cache."""

from __future__ import annotations

import asyncio
import json

import pytest

from buckyos.runtime.client.resolve import (
    Endpoint,
    direct_endpoints,
    gateway_endpoint,
    kernel_candidates,
    public_endpoint,
    zone_host,
)
from buckyos.runtime.client.service_info_cache import ServiceInfoCache
from buckyos.runtime.client.service_records import ServiceNode, parse_instance, parse_service_info
from buckyos.runtime.errors import ConfigError, ServiceNotValidError, TransportError

# upstream's ServiceInfo as the scheduler writes it (buckyos-protocol.md section 4)
UPSTREAM_INFO = """{
  "selector_type": "random",
  "node_list": {
    "ood1": {
      "node_did": "did:dev:gubVIszw-u_d5PVTh-oc8CKAhM9C-ne5G_yUK5BDaXc",
      "node_net_id": "lan1",
      "state": "started",
      "weight": 100,
      "service_port": {"www": 3300}
    }
  }
}"""

BRIDGE = {"bns": "web3.buckyos.ai"}


# --- zone_host ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "host"),
    [
        ("did:web:example.com", "example.com"),
        ("did:web:example.com%3A8443", "example.com:8443"),
        ("did:web:example.com:alice", "example.com"),
        ("did:bns:alice", "alice.web3.buckyos.ai"),
        ("alice.bns.did", "alice.web3.buckyos.ai"),
        ("test.buckyos.io", "test.buckyos.io"),
        ("  did:web:zone.example  ", "zone.example"),
    ],
)
def test_zone_host(zone: str, host: str) -> None:
    assert zone_host(zone, BRIDGE) == host


def test_zone_host_without_a_bridge_says_what_to_add() -> None:
    with pytest.raises(ConfigError) as info:
        zone_host("did:bns:alice", {})
    message = str(info.value)
    assert "did:bns" in message
    assert "machine.json" in message
    assert '"bns": "<bridge host>"' in message
    with pytest.raises(ConfigError, match=r"known: bns: web3\.buckyos\.ai"):
        zone_host("did:ens:alice", BRIDGE)


@pytest.mark.parametrize(
    ("zone", "complaint"),
    [
        ("", "the zone id is empty"),
        ("did:bns", "is not a DID"),
        ("did::alice", "is not a DID"),
        ("did:bns:", "is not a DID"),
        ("did:BNS:alice", "DID method 'BNS'"),
        ("not a host/name", "is not a host name"),
        ("did:web:bad%2Fhost", "is not a host name"),
    ],
)
def test_zone_host_refuses_what_is_not_a_zone(zone: str, complaint: str) -> None:
    with pytest.raises(ConfigError) as info:
        zone_host(zone, BRIDGE)
    assert complaint in str(info.value)


# --- fixed endpoints ----------------------------------------------------------------------


def test_public_and_gateway_endpoints_are_upstreams_urls() -> None:
    assert public_endpoint("system_config", "alice.web3.buckyos.ai") == Endpoint(
        "krpc", "https://alice.web3.buckyos.ai/kapi/system_config", "public"
    )
    assert public_endpoint("verify-hub", "zone.example", force_https=False).address == (
        "http://zone.example/kapi/verify-hub"
    )
    assert gateway_endpoint("verify-hub") == Endpoint(
        "krpc", "http://127.0.0.1:3180/kapi/verify-hub", "gateway"
    )
    assert gateway_endpoint("system_config", host="host.docker.internal").address == (
        "http://host.docker.internal:3180/kapi/system_config"
    )
    assert gateway_endpoint("kmsg", host="::1", port=3181).address == (
        "http://[::1]:3181/kapi/kmsg"
    )
    with pytest.raises(ValueError, match="not an api name"):
        gateway_endpoint("a/b")


# --- service info -------------------------------------------------------------------------


def test_upstream_service_info_parses() -> None:
    info = parse_service_info("verify-hub", UPSTREAM_INFO)
    assert info.selector_type == "random"
    node = info.node_list["ood1"]
    assert node == ServiceNode(
        name="ood1",
        node_did="did:dev:gubVIszw-u_d5PVTh-oc8CKAhM9C-ne5G_yUK5BDaXc",
        state="started",
        weight=100,
        service_port={"www": 3300},
        node_net_id="lan1",
    )
    assert node.started
    assert info.started() == [node]


def test_missing_service_info_is_upstreams_error() -> None:
    with pytest.raises(ServiceNotValidError) as info:
        parse_service_info("verify-hub", None)
    assert str(info.value) == "Service not valid: service info not found"


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("{not json", "services/verify-hub/info is malformed: not JSON"),
        ("[]", "services/verify-hub/info is malformed: expected a JSON object, got an array"),
        ('{"selector_type":"random"}', "node_list is missing"),
        ('{"node_list":[]}', "node_list must be an object, got an array"),
        ('{"node_list":{"ood1":3}}', "node_list.ood1 is malformed: expected an object"),
        (
            '{"node_list":{"ood1":{"node_did":"did:x:y","service_port":{"www":1}}}}',
            "node_list.ood1 is malformed: state is missing",
        ),
        (
            '{"node_list":{"ood1":{"node_did":"d","state":"started","service_port":{"www":"80"}}}}',
            'service_port.www must be a port (1..65535), got "80"',
        ),
        (
            '{"node_list":{"ood1":{"node_did":"d","state":"started","service_port":{"www":70000}}}}',
            "service_port.www must be a port (1..65535), got 70000",
        ),
        (
            '{"node_list":{"ood1":{"node_did":"d","state":"started","weight":-1,'
            '"service_port":{}}}}',
            "weight must be an integer in 0..4294967295, got -1",
        ),
        ('{"selector_type":1,"node_list":{}}', "selector_type must be a string, got a number"),
    ],
)
def test_malformed_service_info_names_the_problem(text: str, complaint: str) -> None:
    with pytest.raises(ServiceNotValidError) as info:
        parse_service_info("verify-hub", text)
    message = str(info.value)
    assert message.startswith("Service not valid: services/verify-hub/info")
    assert complaint in message


def info_of(nodes: dict[str, dict[str, object]]) -> str:
    return json.dumps({"selector_type": "random", "node_list": nodes})


def test_direct_endpoints_started_only_this_node_first() -> None:
    info = parse_service_info(
        "notes",
        info_of(
            {
                "ood2": {
                    "node_did": "did:dev:b",
                    "state": "started",
                    "weight": 100,
                    "service_port": {"www": 4101, "grpc": 4102, "www_tls": 4111, "grpc_tls": 4112},
                },
                "ood1": {
                    "node_did": "did:dev:a",
                    "state": "started",
                    "weight": 100,
                    "service_port": {"www": 4100, "grpc": 4200},
                },
                "ood3": {
                    "node_did": "did:dev:c",
                    "state": "stopped",
                    "weight": 100,
                    "service_port": {"www": 4103},
                },
            }
        ),
    )
    # kRPC first by default (the benchmarks' evidence), the other wire next for failover
    assert direct_endpoints("notes", info, this_node="ood1") == [
        Endpoint("krpc", "http://127.0.0.1:4100/kapi/notes", "direct", "ood1"),
        Endpoint("grpc", "127.0.0.1:4200", "direct", "ood1"),
    ]
    assert direct_endpoints("notes", info, this_node="ood1", prefer="grpc", host="10.0.0.2") == [
        Endpoint("grpc", "10.0.0.2:4200", "direct", "ood1"),
        Endpoint("krpc", "http://10.0.0.2:4100/kapi/notes", "direct", "ood1"),
    ]
    # upstream also checks the node's DID; another device with our name is not us
    assert direct_endpoints("notes", info, this_node="ood1", this_node_did="did:dev:x") == []
    # other nodes only when the zone says how to reach them, and only over TLS (their
    # www_tls/grpc_tls ports, pinned to the node); stopped ones never
    hosts = {"ood2": "10.0.0.3", "ood3": "10.0.0.4"}
    remote = direct_endpoints(
        "notes", info, this_node="ood1", prefer="krpc", node_host=lambda n: hosts.get(n.name)
    )
    assert [str(e) for e in remote] == [
        "direct krpc http://127.0.0.1:4100/kapi/notes on ood1",
        "direct grpc 127.0.0.1:4200 on ood1",
        "direct krpc https://10.0.0.3:4111/kapi/notes on ood2 over TLS",
        "direct grpc 10.0.0.3:4112 on ood2 over TLS",
    ]
    assert all(e.tls for e in remote[2:]) and not any(e.tls for e in remote[:2])
    assert direct_endpoints("notes", info, this_node="ood3") == []


def test_kernel_candidates_in_process_then_direct_then_gateway() -> None:
    info = parse_service_info("verify-hub", UPSTREAM_INFO)
    assert kernel_candidates("verify-hub", info, this_node="ood1", in_process=True) == [
        Endpoint("inprocess", "", "inprocess"),
        Endpoint("krpc", "http://127.0.0.1:3300/kapi/verify-hub", "direct", "ood1"),
        Endpoint("krpc", "http://127.0.0.1:3180/kapi/verify-hub", "gateway"),
    ]
    assert kernel_candidates("verify-hub", None, this_node="ood1", host="host.docker.internal") == [
        Endpoint("krpc", "http://host.docker.internal:3180/kapi/verify-hub", "gateway")
    ]
    # another node: upstream goes through the gateway
    assert kernel_candidates("verify-hub", info, this_node="node2") == [
        Endpoint("krpc", "http://127.0.0.1:3180/kapi/verify-hub", "gateway")
    ]


# --- instance records ---------------------------------------------------------------------

UPSTREAM_INSTANCE = (
    '{"instance_id":"verify-hub-ood1","node_id":"ood1","node_did":"did:dev:abc",'
    '"state":"started","service_ports":{"www":3300},"last_update_time":1760000000,'
    '"start_time":1759990000,"pid":4242,"instance_epoch":"e1","node_session_id":"s1",'
    '"observed_at":1760000000,"expires_at":1760000090,"health":"healthy"}'
)


def test_instance_record_round_trips_upstreams_json() -> None:
    record = parse_instance(UPSTREAM_INSTANCE)
    assert record.instance_id == "verify-hub-ood1"
    assert record.service_ports == {"www": 3300}
    assert record.pid == 4242 and record.health == "healthy" and record.started
    assert not record.expired(1760000089) and record.expired(1760000090)
    assert record.to_json() == UPSTREAM_INSTANCE
    with_extra = json.loads(UPSTREAM_INSTANCE)
    with_extra["deployment_error"] = {"code": "x", "message": "y"}
    again = parse_instance(json.dumps(with_extra))
    assert json.loads(again.to_json())["deployment_error"] == {"code": "x", "message": "y"}


def test_malformed_instance_record_names_the_field() -> None:
    with pytest.raises(
        ServiceNotValidError, match="service instance record is malformed: node_id is missing"
    ):
        parse_instance('{"instance_id":"a","node_did":"d","state":"started","service_ports":{}}')
    with pytest.raises(ServiceNotValidError, match="pid must be an integer"):
        parse_instance(
            '{"instance_id":"a","node_id":"n","node_did":"d","state":"started",'
            '"service_ports":{},"pid":"12"}'
        )


# --- the cache ----------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_cache_keeps_info_for_ttl() -> None:
    clock = FakeClock()
    reads: list[str] = []
    values = {"services/verify-hub/info": UPSTREAM_INFO}

    def fetch(key: str) -> str | None:
        reads.append(key)
        return values.get(key)

    cache = ServiceInfoCache(fetch, ttl=10.0, clock=clock)
    first = cache.get("verify-hub")
    clock.now += 9.9
    assert cache.get("verify-hub") is first
    assert reads == ["services/verify-hub/info"]
    clock.now += 0.1
    assert cache.get("verify-hub") == first
    assert len(reads) == 2
    cache.invalidate("verify-hub")
    cache.get("verify-hub")
    assert len(reads) == 3


def test_cache_forgets_errors_quickly() -> None:
    clock = FakeClock()
    values: dict[str, str] = {}
    reads: list[str] = []

    def fetch(key: str) -> str | None:
        reads.append(key)
        return values.get(key)

    cache = ServiceInfoCache(fetch, ttl=10.0, clock=clock, error_ttl=1.0)
    for _ in range(3):
        with pytest.raises(
            ServiceNotValidError, match=r"^Service not valid: service info not found$"
        ):
            cache.get("notes")
    assert len(reads) == 1  # the error is remembered briefly, not refetched per call
    values["services/notes/info"] = "{broken"
    clock.now += 1.0
    with pytest.raises(ServiceNotValidError, match="services/notes/info is malformed: not JSON"):
        cache.get("notes")
    values["services/notes/info"] = UPSTREAM_INFO
    clock.now += 1.0
    assert cache.get("notes").node_list["ood1"].service_port == {"www": 3300}


def test_cache_serves_last_good_info_while_system_config_is_unreachable() -> None:
    clock = FakeClock()
    down = False

    def fetch(key: str) -> str | None:
        if down:
            raise TransportError("connection refused: http://127.0.0.1:3200/kapi/system_config")
        return UPSTREAM_INFO

    cache = ServiceInfoCache(fetch, ttl=10.0, clock=clock, max_stale=60.0)
    good = cache.get("verify-hub")
    down = True
    clock.now += 30
    assert cache.get("verify-hub") is good  # stale but usable
    clock.now += 41  # past ttl + max_stale since the last good read
    with pytest.raises(TransportError, match="connection refused"):
        cache.get("verify-hub")
    fresh = ServiceInfoCache(fetch, clock=clock)
    with pytest.raises(TransportError):
        fresh.get("verify-hub")  # nothing to fall back on: the real cause, not "not found"


def test_cache_async_twin_shares_entries() -> None:
    clock = FakeClock()
    reads: list[str] = []

    async def afetch(key: str) -> str | None:
        reads.append(key)
        return UPSTREAM_INFO if key == "services/verify-hub/info" else None

    def fetch(key: str) -> str | None:
        raise AssertionError("sync fetch must not be used")

    cache = ServiceInfoCache(fetch, clock=clock)

    async def run() -> None:
        info = await cache.aget("verify-hub", afetch)
        assert await cache.aget("verify-hub", afetch) is info
        assert cache.get("verify-hub") is info
        with pytest.raises(ServiceNotValidError, match="service info not found"):
            await cache.aget("kmsg", afetch)

    asyncio.run(run())
    assert reads == ["services/verify-hub/info", "services/kmsg/info"]
