"""TLS between nodes over real sockets: two "nodes" (two device keys) on loopback, kRPC and
gRPC, mutual TLS pinned to ``devices/<node>/doc``; wrong pins, plain callers, expired and
other-zone certificates and a man in the middle are refused; routing picks TLS by node."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from cryptography import x509

from buckyos.generated import system_config_pb2 as sc
from buckyos.generated.system_config_rpc import (
    AsyncSystemConfigStub,
    SystemConfigServicer,
    SystemConfigStub,
)
from buckyos.runtime.client.grpc_client import GrpcTransport
from buckyos.runtime.client.krpc_client import KrpcTransport
from buckyos.runtime.client.resolve import Endpoint, kernel_candidates
from buckyos.runtime.client.routing import Router, never_sent
from buckyos.runtime.client.service_records import parse_service_info
from buckyos.runtime.errors import ConfigError, RPCError, TransportError
from buckyos.runtime.security.keys import (
    Ed25519PrivateKey,
    did_document,
    generate_key_pair,
    generate_private_key,
    private_key_to_pem,
)
from buckyos.runtime.security.node_tls import (
    DevicePins,
    NodeLeaf,
    NodeTls,
    device_anchor,
    make_node_certificate,
    peer_node,
)
from buckyos.runtime.security.rbac import RbacEnforcer
from buckyos.runtime.security.token_signing import sign_token
from buckyos.runtime.security.token_verifier import TokenVerifier
from buckyos.runtime.security.trust_keys import TrustKeyStore
from buckyos.runtime.server.binding import Binding
from buckyos.runtime.server.listeners import (
    GrpcListener,
    GrpcTlsListener,
    KrpcListener,
    KrpcTlsListener,
)
from buckyos.runtime.server.request import Request
from buckyos.runtime.server.serve import ServerInfo, serving
from buckyos.services.node_tls_serve import add_node_tls_options, node_tls, tls_listeners
from tests.loop_thread import LoopThread
from tests.wire_fixtures import free_port

ZONE = "test.buckyos.io"
API = "system_config"


class Config(SystemConfigServicer):
    """Get answers ``<node>:<caller>``: a test sees which node served the call."""

    def __init__(self, node: str) -> None:
        self.node = node

    def Get(self, request: sc.KeyRequest, req: Request) -> sc.GetResult:
        return sc.GetResult(value=f"{self.node}:{req.caller.user_id}", version=1)


class Zone:
    """Two nodes' device keys, their docs, a user token and the servers' loop."""

    def __init__(self) -> None:
        owner, owner_public = generate_key_pair()
        self.trust = TrustKeyStore()
        self.trust.set_owner_key(owner_public)
        exp = int(time.time()) + 600
        self.token = sign_token({"sub": "alice", "appid": "notes", "exp": exp}, owner, kid=None)
        self.keys = {"ood1": generate_private_key(), "ood2": generate_private_key()}
        # What system_config holds at devices/<node>/doc.
        self.docs = {
            node: json.dumps(did_document(f"did:dev:{node}", key.public_key(), name=node))
            for node, key in self.keys.items()
        }
        self.pins = DevicePins.from_docs(ZONE, self.docs)
        self.loop = LoopThread(timeout=20)
        self._stacks: list[contextlib.AsyncExitStack] = []

    def tls(self, node: str, key: Ed25519PrivateKey | None = None, **kw: Any) -> NodeTls:
        return NodeTls(ZONE, node, key or self.keys[node], self.pins, **kw)

    def serve(
        self,
        node: str,
        *,
        tls: NodeTls | None = None,
        plain: bool = True,
        tls_host: str | None = None,
    ) -> ServerInfo:
        """``node``'s instance: plain kRPC and gRPC (unless ``plain=False``), and TLS
        kRPC and gRPC with ``tls`` (default: the node's own), bound to ``tls_host``
        (default: the plain wires' 127.0.0.1)."""
        binding = Binding(API, verifier=TokenVerifier(self.trust), rbac=RbacEnforcer())
        binding.add_service(Config(node))
        listeners: list[Any] = [KrpcListener(), GrpcListener()] if plain else []
        node_tls = tls or self.tls(node)
        listeners += [
            KrpcTlsListener(tls=node_tls, host=tls_host),
            GrpcTlsListener(tls=node_tls, host=tls_host),
        ]

        async def start() -> ServerInfo:
            stack = contextlib.AsyncExitStack()
            info = await stack.enter_async_context(
                serving(
                    binding, listeners=listeners, log_level="warning", grace=0.5, register=False
                )
            )
            self._stacks.append(stack)
            return info

        return self.loop.run(start())

    def close(self) -> None:
        for stack in reversed(self._stacks):
            self.loop.run(stack.aclose())
        self.loop.stop()


@pytest.fixture
def zone() -> Iterator[Zone]:
    zone = Zone()
    try:
        yield zone
    finally:
        zone.close()


def tls_endpoints(info: ServerInfo, node: str) -> tuple[Endpoint, Endpoint]:
    krpc = Endpoint("krpc", f"{info.addresses['krpc_tls']}/kapi/{API}", "direct", node, True)
    grpc_ = Endpoint("grpc", info.addresses["grpc_tls"], "direct", node, True)
    return krpc, grpc_


def call(endpoint: Endpoint, token: str, tls: NodeTls | None) -> str:
    router = Router(lambda api: [endpoint], token=token, tls=tls, timeout=5, dead_for=0.1)
    try:
        return SystemConfigStub(router).Get(key="boot/config").value
    finally:
        router.close()


async def acall(endpoint: Endpoint, token: str, tls: NodeTls | None) -> str:
    router = Router(lambda api: [endpoint], token=token, tls=tls, timeout=5, dead_for=0.1)
    try:
        return (await AsyncSystemConfigStub(router).Get(key="boot/config")).value
    finally:
        await router.aclose()


# --- the pure pieces ------------------------------------------------------------------------


def test_a_leaf_is_signed_by_the_device_key_and_checked_against_the_doc(zone: Zone) -> None:
    leaf = make_node_certificate(ZONE, "ood2", zone.keys["ood2"])
    assert peer_node(leaf.cert_pem, zone.pins) == "ood2"
    cert = x509.load_pem_x509_certificate(leaf.cert_pem)
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    # Another key posing as ood2, another zone, an expired leaf: not a node of this zone.
    forged = make_node_certificate(ZONE, "ood2", generate_private_key())
    with pytest.raises(ConfigError, match="not signed by the device key of ood2"):
        peer_node(forged.cert_pem, zone.pins)
    other_zone = make_node_certificate("other.zone", "ood2", zone.keys["ood2"])
    with pytest.raises(ConfigError, match="not issued by a device of"):
        peer_node(other_zone.cert_pem, zone.pins)
    old = make_node_certificate(ZONE, "ood2", zone.keys["ood2"], lifetime=60, now=1e9)
    with pytest.raises(ConfigError, match="expired"):
        peer_node(old.cert_pem, zone.pins)
    # The anchor is a pure function of (zone, node, key): every peer makes the same one.
    key = zone.keys["ood1"].public_key()
    assert device_anchor(ZONE, "ood1", key) == device_anchor(ZONE, "ood1", key)
    with pytest.raises(ConfigError, match="no device key"):
        zone.pins.anchor_pem("ood9")
    with pytest.raises(ConfigError, match="cannot name a TLS certificate"):
        make_node_certificate(ZONE, "bad name", zone.keys["ood1"])


def test_the_leaf_is_renewed_at_half_its_life_and_servers_pick_it_up(zone: Zone) -> None:
    now = [time.time()]
    tls = zone.tls("ood2", lifetime=100, clock=lambda: now[0])
    first = tls.leaf()
    now[0] += 40
    assert tls.leaf() is first
    now[0] += 20
    second = tls.leaf()
    assert second is not first and second.not_after > first.not_after
    # A running server serves the renewed leaf at the next handshake (no SNI on loopback).
    info = zone.serve("ood2", tls=tls, plain=False)
    port = info.ports["krpc_tls"]
    context = zone.tls("ood1").client_context("ood2")
    serials = []
    for _ in range(2):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
            with context.wrap_socket(raw) as conn:
                der = conn.getpeercert(binary_form=True)
                assert der is not None
                serials.append(x509.load_der_x509_certificate(der).serial_number)
        now[0] += 60
    assert serials[0] != serials[1]


async def aget(router: Router) -> str:
    try:
        return (await AsyncSystemConfigStub(router).Get(key="boot/config")).value
    finally:
        await router.aclose()


def test_a_renewed_leaf_reaches_the_transports_a_router_keeps(zone: Zone) -> None:
    info = zone.serve("ood2", plain=False)
    for endpoint in tls_endpoints(info, "ood2"):
        # ood1's first leaf is an hour old and long expired: ood2 refuses it.
        clock = Clock(time.time() - 3600)
        ood1 = zone.tls("ood1", lifetime=60, clock=clock)
        router = Router(fixed(endpoint), token=zone.token, tls=ood1, timeout=5)
        try:
            stub = SystemConfigStub(router)
            with pytest.raises(TransportError, match=SERVER_REFUSED):
                stub.Get(key="boot/config")
            with pytest.raises(TransportError, match=SERVER_REFUSED):
                asyncio.run(aget(router))
            # Renewed (the clock moved on): the same router and transports are answered.
            clock.now = time.time()
            assert stub.Get(key="boot/config").value == "ood2:alice"
            assert asyncio.run(aget(router)) == "ood2:alice"
        finally:
            router.close()


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def fixed(endpoint: Endpoint) -> Callable[[str], list[Endpoint]]:
    return lambda api: [endpoint]


# --- two nodes, both wires ------------------------------------------------------------------


def test_krpc_and_grpc_between_two_nodes_sync_and_async(zone: Zone) -> None:
    info = zone.serve("ood2")
    ood1 = zone.tls("ood1")
    for endpoint in tls_endpoints(info, "ood2"):
        assert call(endpoint, zone.token, ood1) == "ood2:alice"
        assert asyncio.run(acall(endpoint, zone.token, ood1)) == "ood2:alice"


def wrong(
    zone: Zone, info: ServerInfo, client: NodeTls, match: str, control: NodeTls | None = None
) -> None:
    """Both TLS wires of ``info`` refuse ``client`` (sync and async) with ``match``; with
    ``control``, the same server answers that client, so the refusal is ``client``'s."""
    for endpoint in tls_endpoints(info, "ood2"):
        with pytest.raises(TransportError, match=match):
            call(endpoint, zone.token, client)
        with pytest.raises(TransportError, match=match):
            asyncio.run(acall(endpoint, zone.token, client))
        if control is not None:
            assert call(endpoint, zone.token, control) == "ood2:alice"


# The client refused the server's certificate (OpenSSL and BoringSSL say the same).
CLIENT_REFUSED = "CERTIFICATE_VERIFY_FAILED"
# The server refused the client's: it closes the connection during the handshake.
SERVER_REFUSED = r"(?i)eof|socket closed|closed the connection|connection reset"


def test_a_server_whose_key_is_not_the_nodes_device_key_is_refused(zone: Zone) -> None:
    # ood2's listener certified by some other key (its doc says otherwise): wrong pin.
    info = zone.serve("ood2", tls=zone.tls("ood2", key=generate_private_key()), plain=False)
    wrong(zone, info, zone.tls("ood1"), CLIENT_REFUSED)
    # The client refused before sending the call: any call may fail over.
    for endpoint in tls_endpoints(info, "ood2"):
        with pytest.raises(TransportError) as refused:
            call(endpoint, zone.token, zone.tls("ood1"))
        assert never_sent(refused.value.__cause__ or refused.value)


def test_a_caller_that_is_not_a_device_of_the_zone_is_refused(zone: Zone) -> None:
    info = zone.serve("ood2", plain=False)
    # A caller claiming to be ood1 with a key that is not ood1's device key.
    wrong(
        zone, info, zone.tls("ood1", key=generate_private_key()), SERVER_REFUSED, zone.tls("ood1")
    )
    # A node of another zone (same node name and device key, issued in its own zone).
    leaf = make_node_certificate("other.zone", "ood1", zone.keys["ood1"])
    anchor = zone.pins.anchor_pem("ood2")
    krpc_tls, grpc_tls = tls_endpoints(info, "ood2")
    with KrpcTransport(
        krpc_tls.address, token=zone.token, timeout=5, ssl_context=leaf_context(leaf, anchor)
    ) as krpc:
        with pytest.raises(TransportError, match=SERVER_REFUSED):
            SystemConfigStub(krpc).Get(key="boot/config")
    credentials = grpc.ssl_channel_credentials(anchor, leaf.key_pem, leaf.cert_pem)
    with GrpcTransport(
        grpc_tls.address,
        token=zone.token,
        timeout=5,
        options=NodeTls.grpc_options("ood2"),
        credentials=credentials,
    ) as grpc_client:
        with pytest.raises(TransportError, match=SERVER_REFUSED):
            SystemConfigStub(grpc_client).Get(key="boot/config")
    # The same transport shape with ood1's own leaf of this zone is answered.
    own = NodeTls(ZONE, "ood1", zone.keys["ood1"], zone.pins).leaf()
    with KrpcTransport(
        krpc_tls.address, token=zone.token, timeout=5, ssl_context=leaf_context(own, anchor)
    ) as krpc:
        assert SystemConfigStub(krpc).Get(key="boot/config").value == "ood2:alice"


def leaf_context(leaf: NodeLeaf | None, anchor: bytes) -> ssl.SSLContext:
    """A client context trusting ``anchor`` and presenting ``leaf`` (none: an app client)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.load_verify_locations(cadata=anchor.decode())
    if leaf is not None:
        with tempfile.TemporaryDirectory() as folder:
            cert, key = Path(folder, "c.pem"), Path(folder, "k.pem")
            cert.write_bytes(leaf.cert_pem)
            key.write_bytes(leaf.key_pem)
            context.load_cert_chain(cert, key)
    return context


def test_an_expired_certificate_is_refused_both_ways(zone: Zone) -> None:
    long_ago = time.time() - 3600
    info = zone.serve("ood2", plain=False)
    expired_client = zone.tls("ood1", lifetime=60, clock=lambda: long_ago)
    wrong(zone, info, expired_client, SERVER_REFUSED, zone.tls("ood1"))
    stale = zone.serve("ood2", tls=zone.tls("ood2", lifetime=60, clock=lambda: long_ago))
    wrong(zone, stale, zone.tls("ood1"), rf"{CLIENT_REFUSED}.*expired")


def test_plain_and_certificateless_callers_cannot_use_a_tls_port(zone: Zone) -> None:
    info = zone.serve("ood2", plain=False)
    krpc_tls, grpc_tls = tls_endpoints(info, "ood2")
    # Plain HTTP and an insecure gRPC channel to the TLS ports.
    plain_url = info.addresses["krpc_tls"].replace("https://", "http://")
    with KrpcTransport(plain_url, token=zone.token, timeout=5) as krpc:
        with pytest.raises(TransportError):
            SystemConfigStub(krpc).Get(key="boot/config")
    with GrpcTransport(grpc_tls.address, token=zone.token, timeout=5) as plain_grpc:
        with pytest.raises(TransportError, match=r"(?i)unavailable"):
            SystemConfigStub(plain_grpc).Get(key="boot/config")
    # An app client: TLS that pins ood2 but has no device key, so no certificate.
    context = leaf_context(None, zone.pins.anchor_pem("ood2"))
    with KrpcTransport(krpc_tls.address, token=zone.token, timeout=5, ssl_context=context) as app:
        with pytest.raises(TransportError, match=r"(?i)certificate required|eof|reset|closed"):
            SystemConfigStub(app).Get(key="boot/config")
    anchor = zone.pins.anchor_pem("ood2")
    options = NodeTls.grpc_options("ood2")
    credentials = grpc.ssl_channel_credentials(root_certificates=anchor)
    with GrpcTransport(
        grpc_tls.address, token=zone.token, timeout=5, options=options, credentials=credentials
    ) as app_grpc:
        with pytest.raises(TransportError):
            SystemConfigStub(app_grpc).Get(key="boot/config")
    # A Router without a device key never calls another node's endpoint (nor plain).
    with pytest.raises(TransportError, match="needs node TLS"):
        call(krpc_tls, zone.token, None)


# --- routing: plain on this node, TLS to another -----------------------------------------


def service_info(nodes: dict[str, dict[str, int]]) -> str:
    return json.dumps(
        {
            "selector_type": "random",
            "node_list": {
                node: {"node_did": f"did:dev:{node}", "state": "started", "service_port": ports}
                for node, ports in nodes.items()
            },
        }
    )


def test_routing_picks_tls_by_node_not_by_address(zone: Zone) -> None:
    # Every node on loopback: the node name decides, and ood2's plain ports lead nowhere.
    ood1 = zone.serve("ood1")
    ood2 = zone.serve("ood2")
    dead = free_port()
    text = service_info(
        {
            "ood1": {
                "www": ood1.ports["krpc"],
                "grpc": ood1.ports["grpc"],
                "www_tls": ood1.ports["krpc_tls"],
                "grpc_tls": ood1.ports["grpc_tls"],
            },
            "ood2": {
                "www": dead,
                "grpc": dead,
                "www_tls": ood2.ports["krpc_tls"],
                "grpc_tls": ood2.ports["grpc_tls"],
            },
            "ood3": {"www": dead},  # another node with no TLS port: never listed
        }
    )
    info = parse_service_info(API, text)

    def endpoints(prefer: Any) -> list[Endpoint]:
        found = kernel_candidates(
            API,
            info,
            this_node="ood1",
            prefer=prefer,
            node_host=lambda node: "127.0.0.1",
            gateway_port=dead,
        )
        return [e for e in found if e.via == "direct"]

    listed = endpoints("krpc")
    assert [(e.node, e.kind, e.tls) for e in listed] == [
        ("ood1", "krpc", False),
        ("ood1", "grpc", False),
        ("ood2", "krpc", True),
        ("ood2", "grpc", True),
    ]
    assert listed[0].address.startswith("http://") and listed[2].address.startswith("https://")
    assert str(listed[2]).endswith("on ood2 over TLS")
    # Through a Router: this node's instance plain, the other node's over TLS.
    tls = zone.tls("ood1")
    for prefer in ("krpc", "grpc"):
        found = endpoints(prefer)
        for endpoint in found[:2]:
            assert call(endpoint, zone.token, tls) == "ood1:alice"
        for endpoint in found[2:]:
            assert call(endpoint, zone.token, tls) == "ood2:alice"
            assert asyncio.run(acall(endpoint, zone.token, tls)) == "ood2:alice"
    # The whole candidate list through one Router: this node's instance gone (its ports
    # refuse), the call fails over to ood2, over TLS.
    gone = parse_service_info(
        API,
        service_info(
            {
                "ood1": {"www": dead, "grpc": dead},
                "ood2": {"www_tls": ood2.ports["krpc_tls"], "grpc_tls": ood2.ports["grpc_tls"]},
            }
        ),
    )
    router = Router(
        lambda api: kernel_candidates(
            api, gone, this_node="ood1", node_host=lambda n: "127.0.0.1", gateway_port=dead
        ),
        token=zone.token,
        tls=tls,
        timeout=5,
    )
    try:
        assert SystemConfigStub(router).Get(key="k").value == "ood2:alice"
        assert {e.node for e in router.dead()} == {"ood1"}
    finally:
        router.close()


# --- a man in the middle ----------------------------------------------------------------------


class Relay:
    """A TCP relay on loopback in front of ``port``: optionally terminating TLS itself with
    its own certificate (``mitm``), else passing bytes through and keeping a copy."""

    def __init__(self, port: int, mitm: ssl.SSLContext | None = None) -> None:
        self.port = port
        self.mitm = mitm
        self.seen = bytearray()
        self.handshakes = 0
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(8)
        self._sock.settimeout(0.2)
        self.address = f"127.0.0.1:{self._sock.getsockname()[1]}"
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._conns: list[socket.socket] = []
        thread = threading.Thread(target=self._accept, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _accept(self) -> None:
        deadline = time.monotonic() + 30
        while not self._stop.is_set() and time.monotonic() < deadline:
            try:
                client, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(5)
            self._conns.append(client)
            thread = threading.Thread(target=self._serve, args=(client,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, client: socket.socket) -> None:
        try:
            if self.mitm is not None:
                client = self.mitm.wrap_socket(client, server_side=True)
                self.handshakes += 1
            upstream = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            self._conns.append(upstream)
        except OSError:
            client.close()
            return
        back = threading.Thread(target=self._pipe, args=(upstream, client), daemon=True)
        back.start()
        self._threads.append(back)
        self._pipe(client, upstream)

    def _pipe(self, source: socket.socket, target: socket.socket) -> None:
        for _ in range(10_000):
            try:
                data = source.recv(65536)
            except OSError:
                data = b""
            if not data:
                with contextlib.suppress(OSError):
                    target.shutdown(socket.SHUT_WR)
                return
            self.seen += data
            try:
                target.sendall(data)
            except OSError:
                return

    def close(self) -> None:
        self._stop.set()
        self._sock.close()
        for conn in self._conns:
            with contextlib.suppress(OSError):
                conn.close()
        for thread in self._threads:
            thread.join(5)


@contextlib.contextmanager
def relay(port: int, mitm: ssl.SSLContext | None = None) -> Iterator[Relay]:
    relay = Relay(port, mitm)
    try:
        yield relay
    finally:
        relay.close()


def via(endpoint: Endpoint, address: str) -> Endpoint:
    scheme = "https://" if endpoint.kind == "krpc" else ""
    path = f"/kapi/{API}" if endpoint.kind == "krpc" else ""
    return Endpoint(endpoint.kind, f"{scheme}{address}{path}", "direct", endpoint.node, True)


def test_a_man_in_the_middle_with_its_own_certificate_is_refused(zone: Zone) -> None:
    info = zone.serve("ood2", plain=False)
    ood1 = zone.tls("ood1")
    # The attacker certifies its own key as "ood2" of this zone: not ood2's device key.
    attacker = NodeTls(ZONE, "ood2", generate_private_key(), zone.pins)
    for endpoint in tls_endpoints(info, "ood2"):
        port = int(endpoint.address.rsplit(":", 1)[1].split("/")[0])
        with relay(port, attacker.server_context()) as mitm:
            with pytest.raises(TransportError, match=CLIENT_REFUSED):
                call(via(endpoint, mitm.address), zone.token, ood1)
            assert b"alice" not in mitm.seen and b"boot/config" not in mitm.seen
        # A relay that only passes bytes on sees no token, key or answer: all encrypted.
        with relay(port) as passive:
            assert call(via(endpoint, passive.address), zone.token, ood1) == "ood2:alice"
            seen = bytes(passive.seen)
            assert len(seen) > 500
            for secret in (zone.token.encode()[-40:], b"boot/config", b"ood2:alice"):
                assert secret not in seen


# --- the gateway: forwarding to another node's instance ---------------------------------------


def test_the_gateway_forwards_to_another_nodes_instance_over_tls(zone: Zone) -> None:
    from buckyos.services.gateway.app import GatewayApp
    from buckyos.services.gateway.instances import StaticInstanceSource, instances_from_config
    from buckyos.services.gateway.pool import InstancePool
    from buckyos.services.gateway.server import gateway_serving

    ood2 = zone.serve("ood2")
    dead = free_port()
    # ood2's plain port leads nowhere: only its TLS port can answer.
    info = json.loads(
        service_info({"ood2": {"www": dead, "www_tls": ood2.ports["krpc_tls"]}, "ood3": {"www": 1}})
    )
    found = instances_from_config(
        API, info, {}, now=time.time(), host_of=lambda node: "127.0.0.1", this_node="ood1"
    )
    assert [(i.node, i.tls, i.url.split(":")[0]) for i in found] == [("ood2", True, "https")]
    # On ood2 itself the same record is plain (this node's own instance).
    local = instances_from_config(
        API, info, {}, now=time.time(), host_of=lambda node: "127.0.0.1", this_node="ood2"
    )
    assert [(i.node, i.tls, i.url.split(":")[0]) for i in local] == [("ood2", False, "http")]

    async def through(tls: NodeTls | None) -> str:
        app = GatewayApp(InstancePool(StaticInstanceSource({API: found})), tls=tls, timeout=5)
        async with gateway_serving(app, port=0, log_level="warning", grace=1) as url:
            async with KrpcTransport(f"{url}/kapi/{API}", token=zone.token, timeout=10) as krpc:
                return (await AsyncSystemConfigStub(krpc).Get(key="boot/config")).value

    assert asyncio.run(through(zone.tls("ood1"))) == "ood2:alice"
    with pytest.raises(RPCError, match="no node TLS"):
        asyncio.run(through(None))
    # A gateway whose pin of ood2 is another key (ood2 is not who it says): refused.
    pins = DevicePins(
        ZONE, {"ood1": zone.keys["ood1"].public_key(), "ood2": generate_private_key().public_key()}
    )
    misled = NodeTls(ZONE, "ood1", zone.keys["ood1"], pins)
    with pytest.raises(RPCError, match=r"(?i)certificate verify failed"):
        asyncio.run(through(misled))


def test_the_gateway_process_with_a_zone_forwards_to_another_node_over_tls(
    tmp_path: Path,
) -> None:
    from buckyos.runtime.security.keys import private_key_to_pem
    from tests.generated import kitchen_sink_pb2 as ks
    from tests.test_gateway import WHOAMI, Config as FakeConfig, Node, make_keys
    from tests.test_gateway_main import _GATEWAY, _ready_line, _stop

    keys = make_keys()  # the owner, alice, and ood1's device key (trusted as ood1)
    ood2_key = generate_private_key()
    key_file = tmp_path / "node_private_key.pem"
    key_file.write_text(private_key_to_pem(keys.device))
    docs = {
        "ood1": json.dumps(did_document("did:dev:ood1", keys.device.public_key())),
        "ood2": json.dumps(did_document("did:dev:ood2", ood2_key.public_key())),
    }
    ood2_tls = NodeTls(ZONE, "ood2", ood2_key, DevicePins.from_docs(ZONE, docs))

    async def main() -> None:
        listeners = [KrpcTlsListener(tls=ood2_tls)]
        async with serving(
            Node("b", keys).binding(), listeners=listeners, log_level="warning", register=False
        ) as ood2:
            # ood2's plain port leads nowhere: the gateway must take www_tls, over TLS.
            ports = {"www": free_port(), "www_tls": ood2.ports["krpc_tls"]}
            data = {
                "services/notes/info": service_info({"ood2": ports}),
                "boot/config": "{}",
                **{f"devices/{node}/doc": doc for node, doc in docs.items()},
            }
            config = Binding(
                "system_config",
                verifier=TokenVerifier(keys.trust),
                rbac=RbacEnforcer(tail="g, alice, users\ng, notes, app"),
            )
            config.add_service(FakeConfig(data))
            async with serving(config, krpc_port=0, log_level="warning", register=False) as sc:
                assert sc.krpc_url is not None
                process = await asyncio.create_subprocess_exec(
                    *_GATEWAY,
                    "--system-config",
                    sc.krpc_url,
                    "--device-name",
                    "ood1",
                    "--device-key",
                    str(key_file),
                    "--zone",
                    ZONE,
                    "--port",
                    "0",
                    "--log-level",
                    "warning",
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.PIPE,
                )
                try:
                    line = await _ready_line(process, time.monotonic() + 20)
                    assert line.startswith("gateway listening on http://127.0.0.1:"), line
                    gateway = line.removeprefix("gateway listening on ")
                    async with KrpcTransport(gateway, token=keys.alice, timeout=10) as client:
                        result = await client.ainvoke(WHOAMI, ks.EchoRequest(name="p"))
                        assert result.text == "b:alice:p"
                finally:
                    code = await _stop(process)
                assert code == 0
                assert process.stderr is not None
                errors = (await process.stderr.read()).decode()
                assert "Traceback" not in errors, errors

    asyncio.run(asyncio.wait_for(main(), 60))


def test_the_links_between_nodes_run_over_tls(zone: Zone) -> None:
    from buckyos.runtime.client.link_client import GrpcLink, WsLink

    info = zone.serve("ood2", plain=False)
    ood1 = zone.tls("ood1")

    async def main() -> None:
        url = info.addresses["krpc_tls"]
        async with WsLink(url, token=zone.token, ssl_context=ood1.client_context("ood2")) as ws:
            got = await ws.call(API, "sys_config_get", {"key": "k"}, timeout=5)
            assert got["value"] == "ood2:alice"
        channel = grpc.aio.secure_channel(
            info.addresses["grpc_tls"],
            ood1.grpc_channel_credentials("ood2"),
            options=NodeTls.grpc_options("ood2"),
        )
        async with channel, GrpcLink("", token=zone.token, channel=channel) as link:
            got = await link.call(API, "sys_config_get", {"key": "k"}, timeout=5)
            assert got["value"] == "ood2:alice"
        # A link from a key that is not a zone device's is refused.
        stranger = zone.tls("ood1", key=generate_private_key())
        with pytest.raises(TransportError):
            async with WsLink(url, ssl_context=stranger.client_context("ood2")) as ws:
                await ws.call(API, "sys_config_get", {"key": "k"}, timeout=5)

    asyncio.run(asyncio.wait_for(main(), 30))


def test_the_tls_wires_bind_the_nodes_address_and_the_plain_ones_stay_on_loopback(
    zone: Zone,
) -> None:
    """``--tls-host``: what other machines reach is TLS only.  127.0.0.2 stands for the
    node's LAN address (Linux routes all of 127/8 to loopback)."""
    info = zone.serve("ood2", tls_host="127.0.0.2")
    assert info.addresses["krpc"].startswith("http://127.0.0.1:")
    assert info.addresses["krpc_tls"].startswith("https://127.0.0.2:")
    assert info.addresses["grpc_tls"].startswith("127.0.0.2:")
    krpc, grpc_ = tls_endpoints(info, "ood2")
    assert call(krpc, zone.token, zone.tls("ood1")) == "ood2:alice"
    assert call(grpc_, zone.token, zone.tls("ood1")) == "ood2:alice"
    for wire in ("krpc", "grpc", "krpc_tls", "grpc_tls"):
        port = info.ports[wire]
        other = "127.0.0.1" if wire.endswith("_tls") else "127.0.0.2"
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((other, port), timeout=2).close()


def test_tls_host_option_reaches_the_listeners(tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    add_node_tls_options(parser)
    key = tmp_path / "node.pem"
    key.write_text(private_key_to_pem(generate_private_key()))
    args = parser.parse_args(["--node-tls", ZONE, "--node-key", str(key), "--tls-host", "10.0.0.2"])
    listeners = tls_listeners(args, node_tls(args, "ood1"))
    assert [(type(x).__name__, x.host) for x in listeners] == [
        ("KrpcTlsListener", "10.0.0.2"),
        ("GrpcTlsListener", "10.0.0.2"),
    ]
    plain = parser.parse_args(["--node-tls", ZONE, "--node-key", str(key)])
    assert [x.host for x in tls_listeners(plain, node_tls(plain, "ood1"))] == [None, None]
