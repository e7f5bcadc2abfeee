"""TLS between the nodes of a zone: certificates from device keys, pinned to device docs.

The owner's private key is not on the nodes, so no zone CA can sign node certificates.
Instead each node certifies its own TLS key with its **device key** (the Ed25519 key whose
public half is in ``devices/<node>/doc``), and a peer pins that key:

- **The leaf** (:func:`make_node_certificate`): a fresh ECDSA P-256 key, certified for a
  short time (a day by default, renewed at half its life) by the node's Ed25519 device key;
  subject ``CN=<node>, O=<zone>``, issuer ``CN=<node>, OU=device, O=<zone>``, the node name
  as its DNS name.  ECDSA, not Ed25519, for the handshake key: grpcio's BoringSSL offers no
  Ed25519 handshake signature (``NO_COMMON_SIGNATURE_ALGORITHMS``, grpcio 1.85), while both
  OpenSSL 3 and BoringSSL verify the Ed25519 signature *on* the certificate.
- **The pin** (:func:`device_anchor`): a peer makes, from the device's public key alone, a
  trust anchor named as the leaf's issuer and carrying that key.  A verifier never checks a
  trust anchor's own signature (OpenSSL 3 and BoringSSL alike), so the anchor is signed with
  a fixed throwaway key, and it is a pure function of ``(zone, node, device key)``.  The
  only certificate that chains to it is one the device key signed: the TLS stack's own
  chain check (signature, validity, CA flags) *is* the pin check.  No CA, no host name check
  (every node of a test zone is on loopback), no callback.

:class:`NodeTls` is one node's side: its leaf, renewed in place, and the pins of the zone's
devices (:class:`DevicePins`, from the device docs).  It makes the ``ssl.SSLContext`` of a
server (mutual: a peer must present a leaf of a zone device) and of a client calling one
given node (only that node's pin is trusted, so node A cannot pose as node B), and the
grpcio credentials for the same.  TLS 1.3 only.

**etcd** (:func:`make_etcd_certificate`) uses the same scheme for its members and
clients: a leaf signed by the node's device key, for a year (etcd reads it from a file),
named with the member's addresses and :data:`ETCD_SERVER_NAME` (a client's leaf has no
names); members and clients trust the anchors of every zone device
(:meth:`DevicePins.anchors_pem`), as etcd cannot pin one device per connection.

A caller without a device key (an app client) has no leaf, so it cannot open a node's TLS
port: the handshake fails with ``certificate required``.  It reaches other nodes through
its own node's gateway (same node, plain), which forwards over TLS.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import logging
import re
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from buckyos.runtime.errors import ConfigError
from buckyos.runtime.security.keys import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
    as_public_key,
    public_key_from_doc,
    public_key_to_raw,
)

if TYPE_CHECKING:
    import grpc

__all__ = [
    "ETCD_LEAF_LIFETIME",
    "ETCD_SERVER_NAME",
    "LEAF_LIFETIME",
    "DevicePins",
    "NodeLeaf",
    "NodeTls",
    "device_anchor",
    "make_etcd_certificate",
    "make_node_certificate",
    "peer_node",
]

_log = logging.getLogger("buckyos.runtime.security.node_tls")

LEAF_LIFETIME: Final = 24 * 3600.0
"""Seconds a node's TLS certificate is valid; it is renewed at half of that."""
ETCD_LEAF_LIFETIME: Final = 365 * 24 * 3600.0
"""Seconds an etcd certificate (:func:`make_etcd_certificate`) is valid: etcd reads it
from a file, which a zone writes anew at each start."""
ETCD_SERVER_NAME: Final = "etcd.buckyos"
"""The DNS name every etcd member's certificate carries: what a client checks (as gRPC's
``ssl_target_name_override``), whichever member it reaches."""
_CLOCK_SKEW: Final = 300.0
"""A leaf is valid from five minutes before it was made (peers' clocks differ)."""
_NODE_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}")
_ANCHOR_FROM: Final = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
_ANCHOR_TO: Final = dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.UTC)
# Signs the anchors, whose own signature no verifier checks (see the module): fixed, so an
# anchor is the same bytes every time it is made.
_ANCHOR_SIGNER: Final = Ed25519PrivateKey.from_private_bytes(
    hashlib.sha256(b"buckyos node tls anchor").digest()
)


def _check_name(node: str) -> str:
    if not isinstance(node, str) or _NODE_NAME.fullmatch(node) is None:
        raise ConfigError(
            f"node name {node!r} cannot name a TLS certificate: use letters, digits, '-', "
            "'_' and '.' (64 at most)"
        )
    return node


def _check_zone(zone: str) -> str:
    if not isinstance(zone, str) or not zone or len(zone) > 64:
        raise ConfigError(f"zone id {zone!r}: a node certificate needs 1-64 characters")
    return zone


def _device_name(zone: str, node: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, zone),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "device"),
            x509.NameAttribute(NameOID.COMMON_NAME, node),
        ]
    )


def _leaf_name(zone: str, node: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, zone),
            x509.NameAttribute(NameOID.COMMON_NAME, node),
        ]
    )


def device_anchor(zone: str, node: str, device_key: Ed25519PublicKey) -> x509.Certificate:
    """The trust anchor that pins ``node``'s device key: a CA certificate named
    ``CN=<node>, OU=device, O=<zone>`` with ``device_key`` in it (pure: same input, same
    bytes).  A certificate chains to it only when ``device_key`` signed it."""
    name = _device_name(_check_zone(zone), _check_name(node))
    serial = int.from_bytes(hashlib.sha256(public_key_to_raw(device_key)).digest()[:16]) >> 1
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(device_key)
        .serial_number(serial or 1)
        .not_valid_before(_ANCHOR_FROM)
        .not_valid_after(_ANCHOR_TO)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(device_key), critical=False)
    )
    return builder.sign(_ANCHOR_SIGNER, None)


@dataclass(frozen=True, slots=True)
class NodeLeaf:
    """A node's TLS key and certificate (PEM), and when the certificate ends (unix s)."""

    key_pem: bytes
    cert_pem: bytes
    not_after: float
    made_at: float


def make_node_certificate(
    zone: str,
    node: str,
    device_key: Ed25519PrivateKey,
    *,
    lifetime: float = LEAF_LIFETIME,
    now: float | None = None,
) -> NodeLeaf:
    """A fresh TLS key for ``node`` and its certificate signed by ``device_key``, valid
    from five minutes before ``now`` for ``lifetime`` seconds (see the module)."""
    return _make_leaf(zone, node, device_key, [x509.DNSName(node)], lifetime, now)


def make_etcd_certificate(
    zone: str,
    node: str,
    device_key: Ed25519PrivateKey,
    *,
    hosts: Sequence[str] = (),
    lifetime: float = ETCD_LEAF_LIFETIME,
    now: float | None = None,
) -> NodeLeaf:
    """A certificate for etcd traffic, signed by ``node``'s device key like a node's leaf
    (it chains to :func:`device_anchor`), for ``lifetime`` seconds (a year by default:
    etcd reads it from a file, see ``docs/zone-nodes.md``).

    With ``hosts`` (the member's IP addresses or DNS names): an etcd member's certificate,
    for its client and peer listeners, whose names are ``hosts`` plus
    :data:`ETCD_SERVER_NAME` (the name every member shares, which clients expect).  Without:
    a client's certificate with no names at all (etcd checks a client certificate's names,
    when it has some, against the address the client connects from).
    """
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(_check_name(host)))
    if names:
        names.append(x509.DNSName(ETCD_SERVER_NAME))
    return _make_leaf(zone, node, device_key, names, lifetime, now, both_ways=True)


def _make_leaf(
    zone: str,
    node: str,
    device_key: Ed25519PrivateKey,
    names: list[x509.GeneralName],
    lifetime: float,
    now: float | None,
    *,
    both_ways: bool = False,
) -> NodeLeaf:
    if not isinstance(device_key, Ed25519PrivateKey):
        raise ConfigError("a node certificate is signed by the node's Ed25519 device key")
    if lifetime <= 0:
        raise ConfigError(f"a node certificate's lifetime must be > 0 seconds, got {lifetime}")
    _check_zone(zone)
    _check_name(node)
    made = time.time() if now is None else now
    key = ec.generate_private_key(ec.SECP256R1())
    start = dt.datetime.fromtimestamp(made - _CLOCK_SKEW, dt.UTC)
    end = dt.datetime.fromtimestamp(made + lifetime, dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_leaf_name(zone, node))
        .issuer_name(_device_name(zone, node))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(device_key.public_key()),
            critical=False,
        )
    )
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    if both_ways:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
    cert = builder.sign(device_key, None)
    return NodeLeaf(
        key_pem=key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
        cert_pem=cert.public_bytes(serialization.Encoding.PEM),
        not_after=end.timestamp(),
        made_at=made,
    )


class DevicePins(Mapping[str, Ed25519PublicKey]):
    """The device keys of a zone's nodes, by node name: what peers are pinned to.

    Made from the keys (:meth:`__init__`) or from the device docs as system_config holds
    them, ``devices/<node>/doc`` (:meth:`from_docs`).
    """

    __slots__ = ("_anchors", "_keys", "zone")

    def __init__(self, zone: str, keys: Mapping[str, Ed25519PublicKey | Mapping[str, Any]]):
        self.zone = _check_zone(zone)
        self._keys = {
            _check_name(node): as_public_key(key, f"device key of {node}")
            for node, key in keys.items()
        }
        self._anchors: dict[str, bytes] = {}

    @classmethod
    def from_docs(
        cls, zone: str, docs: Mapping[str, Mapping[str, Any] | str], *, strict: bool = True
    ) -> DevicePins:
        """Pins from device docs (node name -> ``devices/<node>/doc`` value).  A doc
        without a readable key is a ``ConfigError``, or with ``strict=False`` left out
        (logged): one bad doc must not cut a node off from every other."""
        keys: dict[str, Ed25519PublicKey] = {}
        for node, doc in docs.items():
            try:
                _check_name(node)
                keys[node] = public_key_from_doc(doc, what=f"devices/{node}/doc")
            except ConfigError as exc:
                if strict:
                    raise
                _log.warning("no TLS pin for %.80r: %s", node, exc)
        return cls(zone, keys)

    def __getitem__(self, node: str) -> Ed25519PublicKey:
        return self._keys[node]

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def same_keys(self, other: DevicePins) -> bool:
        """Whether ``other`` pins the same nodes to the same keys (a refresh that changed
        nothing)."""
        return self.zone == other.zone and {
            node: public_key_to_raw(key) for node, key in self._keys.items()
        } == {node: public_key_to_raw(key) for node, key in other._keys.items()}

    def anchor_pem(self, node: str) -> bytes:
        """The PEM trust anchor pinning ``node`` (a ``ConfigError`` for an unknown node)."""
        pem = self._anchors.get(node)
        if pem is None:
            key = self._keys.get(node)
            if key is None:
                raise ConfigError(
                    f"node {node!r} has no device key in zone {self.zone!r}: add "
                    f"devices/{node}/doc to system_config, or reach it through the gateway"
                )
            pem = device_anchor(self.zone, node, key).public_bytes(serialization.Encoding.PEM)
            self._anchors[node] = pem
        return pem

    def anchors_pem(self) -> bytes:
        """Every node's anchor, one PEM bundle (what a server trusts callers against)."""
        return b"".join(self.anchor_pem(node) for node in sorted(self._keys))


def peer_node(cert: bytes | x509.Certificate, pins: DevicePins, *, now: float | None = None) -> str:
    """The node whose device key signed ``cert`` (DER, PEM or parsed), checked as the TLS
    stack does: issued under this zone's name for that node, signed by its pinned key,
    inside its validity.  A ``ConfigError`` says why a certificate is not a zone node's."""
    if not isinstance(cert, x509.Certificate):
        cert = (
            x509.load_pem_x509_certificate(cert)
            if cert.lstrip().startswith(b"-----")
            else x509.load_der_x509_certificate(cert)
        )
    at = time.time() if now is None else now
    if not cert.not_valid_before_utc.timestamp() <= at <= cert.not_valid_after_utc.timestamp():
        raise ConfigError("the peer's certificate is expired or not yet valid")
    issuer = cert.issuer
    nodes = issuer.get_attributes_for_oid(NameOID.COMMON_NAME)
    node = str(nodes[0].value) if nodes else ""
    if node not in pins or issuer != _device_name(pins.zone, node):
        raise ConfigError(f"the peer's certificate is not issued by a device of {pins.zone}")
    try:
        cert.verify_directly_issued_by(device_anchor(pins.zone, node, pins[node]))
    except (InvalidSignature, ValueError, TypeError) as exc:
        raise ConfigError(
            f"the peer's certificate is not signed by the device key of {node}"
        ) from exc
    return node


class NodeTls:
    """One node's TLS: its leaf (made from ``device_key``, renewed at half its life) and
    the zone's device pins.

    - :meth:`server_context` / :meth:`grpc_server_credentials`: a TLS listener; a peer must
      present a leaf of one of the pinned devices (mutual TLS);
    - :meth:`client_context` / :meth:`grpc_channel_credentials` + :meth:`grpc_options`:
      calling ``node``, trusting only that node's pin and presenting this node's leaf.

    Contexts are cached; a renewed leaf or new pins (:meth:`set_pins`) reach a server's
    next handshake and a client's next connection.  Thread-safe.
    """

    def __init__(
        self,
        zone: str,
        node: str,
        device_key: Ed25519PrivateKey,
        pins: DevicePins,
        *,
        lifetime: float = LEAF_LIFETIME,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if pins.zone != zone:
            raise ConfigError(f"pins are for zone {pins.zone!r}, this node is in {zone!r}")
        self.zone = _check_zone(zone)
        self.node = _check_name(node)
        self._device_key = device_key
        self._lifetime = lifetime
        self._clock = clock
        self._lock = threading.Lock()
        self._pins = pins
        self._leaf = make_node_certificate(zone, node, device_key, lifetime=lifetime, now=clock())
        self._generation = 0
        self._server: tuple[int, ssl.SSLContext] | None = None
        self._clients: dict[str, tuple[DevicePins, ssl.SSLContext]] = {}

    def __repr__(self) -> str:
        return f"<NodeTls {self.node} of {self.zone}, {len(self._pins)} pins>"

    @property
    def pins(self) -> DevicePins:
        return self._pins

    def set_pins(self, pins: DevicePins) -> None:
        """New device pins (a device joined or left); new handshakes use them."""
        if pins.zone != self.zone:
            raise ConfigError(f"pins are for zone {pins.zone!r}, this node is in {self.zone!r}")
        with self._lock:
            self._pins = pins
            self._generation += 1

    @property
    def generation(self) -> int:
        """Bumped when the leaf is renewed (checked here) or the pins change: a client
        whose credentials are older rebuilds them (gRPC channels cannot swap a leaf)."""
        return self._state()

    def leaf(self) -> NodeLeaf:
        """The current leaf, renewed first when past half its life."""
        self._state()
        return self._leaf

    def _state(self) -> int:
        """The generation of (leaf, pins), renewing the leaf when due.  A renewed leaf is
        also loaded into every client context already handed out, so a transport that
        keeps its context presents the new leaf on its next connection."""
        leaf = self._leaf
        now = self._clock()
        if now < leaf.made_at + self._lifetime / 2:
            return self._generation
        with self._lock:
            if now >= self._leaf.made_at + self._lifetime / 2:
                self._leaf = make_node_certificate(
                    self.zone, self.node, self._device_key, lifetime=self._lifetime, now=now
                )
                self._generation += 1
                for _, context in self._clients.values():
                    self._load_leaf(context)
            return self._generation

    def _load_leaf(self, context: ssl.SSLContext) -> None:
        # ssl loads a certificate chain from files only; an in-memory pipe would block.
        import os
        import tempfile

        leaf = self._leaf
        with tempfile.TemporaryDirectory(prefix="buckyos-tls-") as folder:
            cert, key = os.path.join(folder, "cert.pem"), os.path.join(folder, "key.pem")
            fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(leaf.key_pem)
            with open(cert, "wb") as out:
                out.write(leaf.cert_pem)
            context.load_cert_chain(cert, key)

    def _server_context(self) -> ssl.SSLContext:
        generation = self._state()
        cached = self._server
        if cached is not None and cached[0] == generation:
            return cached[1]
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_3
        context.verify_mode = ssl.CERT_REQUIRED
        self._load_leaf(context)
        context.load_verify_locations(cadata=self._pins.anchors_pem().decode("ascii"))
        context.sni_callback = self._on_hello
        self._server = (generation, context)
        return context

    def _on_hello(self, sock: ssl.SSLObject | ssl.SSLSocket, name: str | None, _: Any) -> None:
        # Called at every ClientHello (with or without SNI): a renewed leaf or new pins
        # take effect at the next handshake of a running server.
        current = self._server_context()
        if sock.context is not current:
            sock.context = current

    def server_context(self) -> ssl.SSLContext:
        """A TLS 1.3 server context: this node's leaf; a client must present a leaf of a
        pinned device."""
        return self._server_context()

    def client_context(self, node: str) -> ssl.SSLContext:
        """A TLS 1.3 context for calling ``node``: only ``node``'s pin is trusted; this
        node's leaf is presented (a renewed leaf is loaded into it in place).  A
        ``ConfigError`` when ``node`` has no pin."""
        self._state()
        pins = self._pins
        cached = self._clients.get(node)
        if cached is not None and cached[0] is pins:
            return cached[1]
        anchor = pins.anchor_pem(node)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.minimum_version = ssl.TLSVersion.TLSv1_3
        context.check_hostname = False  # the pin is the check (loopback has no names)
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(cadata=anchor.decode("ascii"))
        with self._lock:
            self._load_leaf(context)
            self._clients[node] = (pins, context)
        return context

    def grpc_server_credentials(self) -> grpc.ServerCredentials:
        """grpcio server credentials with client authentication required against the
        pins; renewed leaves and new pins are fetched at each new connection."""
        import grpc

        served = [-1]

        def configuration() -> grpc.ServerCertificateConfiguration:
            leaf = self._leaf
            return grpc.ssl_server_certificate_configuration(
                [(leaf.key_pem, leaf.cert_pem)], root_certificates=self._pins.anchors_pem()
            )

        def fetch() -> grpc.ServerCertificateConfiguration | None:
            generation = self._state()
            if generation == served[0]:
                return None
            served[0] = generation
            return configuration()

        served[0] = self._state()
        # grpcio calls ``fetch`` at each new connection; None keeps the configuration
        # (its documented contract; the stubs leave None out).
        return grpc.dynamic_ssl_server_credentials(
            configuration(),
            fetch,  # type: ignore[arg-type]
            require_client_authentication=True,
        )

    def grpc_channel_credentials(self, node: str) -> grpc.ChannelCredentials:
        """grpcio channel credentials for calling ``node`` (use with :meth:`grpc_options`):
        only ``node``'s pin is trusted; this node's leaf is presented."""
        import grpc

        leaf = self.leaf()
        return grpc.ssl_channel_credentials(
            root_certificates=self._pins.anchor_pem(node),
            private_key=leaf.key_pem,
            certificate_chain=leaf.cert_pem,
        )

    @staticmethod
    def grpc_options(node: str) -> tuple[tuple[str, str], ...]:
        """The channel options a TLS channel to ``node`` needs: grpc checks the server's
        name, so it is told to expect the node name the leaf carries."""
        return (("grpc.ssl_target_name_override", _check_name(node)),)
