"""A zone brought up again keeps the gateway where its DID says AppClients find it."""

from __future__ import annotations

import socket
from pathlib import Path

from buckyos.services.zone import parse_ports, zone_down, zone_up


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def test_up_again_on_free_ports_keeps_the_gateway_port(tmp_path: Path) -> None:
    root = tmp_path / "zone"
    first = zone_up(root, ports=parse_ports("auto"))
    gateway = _port(first.services["gateway"]["krpc_url"])
    assert first.zone_did == f"did:web:127.0.0.1%3A{gateway}"
    zone_down(root)
    again = zone_up(root, ports=parse_ports("auto"))
    try:
        assert again.zone_did == first.zone_did
        assert _port(again.services["gateway"]["krpc_url"]) == gateway
        assert again.warnings == []
    finally:
        zone_down(root)
    with socket.socket() as probe:  # a port that is free now, and not the DID's
        probe.bind(("127.0.0.1", 0))
        other = probe.getsockname()[1]
    moved = zone_up(
        root,
        ports=parse_ports(
            f"gateway={other},system_config=0,system_config_grpc=0,verify_hub=0,verify_hub_grpc=0"
        ),
    )
    try:
        assert _port(moved.services["gateway"]["krpc_url"]) == other
        assert moved.warnings == [
            f"the zone DID {first.zone_did} names gateway port {gateway}, but the gateway now "
            f"listens on {other}: AppClients need service_urls (or start the zone with that port)"
        ]
        assert moved.to_json()["warnings"] == moved.warnings
    finally:
        zone_down(root)
