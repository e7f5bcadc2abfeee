"""Calling etcd over gRPC with our own stubs (``system_config/etcd_api``): what
system_config's store and verify-hub's state share.

The channel (:func:`open_channel`: plain for ``http://`` endpoints, TLS for ``https://``
ones) and its options, the gRPC target for a list of endpoints, the status codes after
which a write's outcome is unknown (:data:`AMBIGUOUS`: resend the same transaction, never a
fresh write), reading a failed call's code and details, and the end of a key prefix
(etcd's ``range_end``).

**TLS** (a zone of several nodes, ``docs/zone-nodes.md`` "What etcd must be"): the members
present certificates signed by their nodes' device keys and trust the zone's devices'
anchors (:func:`~buckyos.runtime.security.device_anchor`, one PEM bundle file written at
zone set-up: the device docs live in system_config, which lives in etcd).  A client
(:class:`EtcdTls`) trusts the same bundle, expects the name every member's certificate
carries (:data:`~buckyos.runtime.security.ETCD_SERVER_NAME`), and presents a certificate
its own device key signed.  No zone CA; the owner's key is not needed.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import ssl
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

import grpc
from cryptography import x509

from buckyos.runtime import ConfigError
from buckyos.runtime.security import (
    ETCD_LEAF_LIFETIME,
    ETCD_SERVER_NAME,
    load_private_key_file,
    make_etcd_certificate,
)

__all__ = [
    "AMBIGUOUS",
    "CHANNEL_OPTIONS",
    "EtcdTls",
    "attempt_timeout",
    "check_members",
    "code_name",
    "code_of",
    "details",
    "endpoints_of",
    "endpoints_scheme",
    "etcd_tls",
    "grpc_target",
    "open_channel",
    "parse_endpoints",
    "prefix_end",
]

_TLS_OPTIONS: Final = "--etcd-anchors FILE with --node-tls ZONE and --node-key PEM"

_FIRST_ATTEMPT: Final = 2.0
"""Seconds a write's first attempt may take before the same transaction goes again (etcd
commits in milliseconds; its own slow-apply warning is at 100 ms, a slow fsync's at 1 s)."""
_RESEND_ATTEMPT: Final = 1.0
"""Seconds one resend of an ambiguous write may take before it goes again."""


def attempt_timeout(timeout: float, resend: bool) -> float:
    """The deadline of one attempt of a write transaction, at most ``timeout``.

    A proposal lost with its leader (killed mid-write) is answered only at the member's own
    request timeout (5 s and more), so a write that waited its whole timeout stalled that
    long; with short attempts the very same transaction goes again (its compares let it
    commit at most once) and lands as soon as a leader is elected.  A resend is most likely
    mid-election: shorter still."""
    return min(timeout, _RESEND_ATTEMPT if resend else _FIRST_ATTEMPT)


CHANNEL_OPTIONS: Final = (
    ("grpc.keepalive_time_ms", 10_000),
    ("grpc.keepalive_timeout_ms", 5_000),
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 1_000),
)
"""Keep-alive and quick reconnects: a member that went away is noticed and left soon."""

AMBIGUOUS: Final = frozenset(
    {
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.CANCELLED,
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.INTERNAL,
    }
)


def prefix_end(prefix: bytes) -> bytes:
    """The first key after every key starting with ``prefix`` (etcd's range_end)."""
    end = bytearray(prefix)
    while end:
        if end[-1] < 0xFF:
            end[-1] += 1
            return bytes(end)
        end.pop()
    return b"\x00"


def parse_endpoints(endpoints: Sequence[str] | str) -> list[str]:
    """The endpoints given as a list or as one comma-separated string (``--etcd``: empty
    pieces dropped), each stripped."""
    if isinstance(endpoints, str):
        endpoints = [e for e in endpoints.split(",") if e.strip()]
    return [e.strip() for e in endpoints]


def _split(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url if "//" in url else f"http://{url}")
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
        raise ValueError(f"etcd endpoint {url!r}: give http://HOST:PORT or https://HOST:PORT")
    return parts.scheme, parts.hostname, parts.port or 2379


def endpoints_scheme(endpoints: Sequence[str]) -> str:
    """``"http"`` or ``"https"``: the one scheme of ``endpoints`` (mixed ones are an
    error: a cluster is plain or TLS)."""
    schemes = {_split(url)[0] for url in endpoints}
    if not schemes:
        raise ValueError("give at least one etcd endpoint (http://HOST:PORT or https://...)")
    if len(schemes) > 1:
        raise ValueError(
            f"etcd endpoints {','.join(endpoints)}: all http:// or all https://, not both"
        )
    return schemes.pop()


def grpc_target(endpoints: Sequence[str]) -> str:
    """A gRPC target for ``http(s)://host:port`` URLs (several only as IP addresses)."""
    hosts = [_split(url)[1:] for url in endpoints]
    if not hosts:
        raise ValueError("give at least one etcd endpoint (http://HOST:PORT)")
    if len(hosts) == 1:
        host, port = hosts[0]
        return f"dns:///{host}:{port}" if not host.replace(".", "").isdigit() else f"{host}:{port}"
    for host, _ in hosts:
        if not host.replace(".", "").isdigit():
            raise ValueError(
                f"etcd endpoints: several endpoints must be IPv4 addresses, not {host!r} "
                "(or give one DNS name that resolves to every member)"
            )
    return "ipv4:" + ",".join(f"{host}:{port}" for host, port in hosts)


@dataclass(frozen=True, slots=True)
class EtcdTls:
    """A client's TLS to etcd: the anchors it trusts members against (PEM bundle, read
    from ``anchors_file``), the certificate it presents (signed by its device key) and its
    key, and the name members' certificates carry."""

    anchors_pem: bytes
    cert_pem: bytes
    key_pem: bytes
    anchors_file: str = ""
    server_name: str = ETCD_SERVER_NAME

    def credentials(self) -> grpc.ChannelCredentials:
        return grpc.ssl_channel_credentials(
            root_certificates=self.anchors_pem,
            private_key=self.key_pem,
            certificate_chain=self.cert_pem,
        )

    def ssl_context(self) -> ssl.SSLContext:
        """The same trust for Python's ``ssl`` (:func:`check_members`)."""
        context = ssl.create_default_context(cadata=self.anchors_pem.decode("ascii"))
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        with tempfile.TemporaryDirectory(prefix="buckyos-etcd-") as folder:
            cert, key = os.path.join(folder, "cert.pem"), os.path.join(folder, "key.pem")
            fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(self.key_pem)
            Path(cert).write_bytes(self.cert_pem)
            context.load_cert_chain(cert, key)
        context.set_alpn_protocols(["h2"])
        return context


def _read_anchors(path: str) -> bytes:
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise ValueError(
            f"etcd anchors file {path} does not exist: it is written at zone set-up "
            "(etc/etcd/anchors.pem of the zone), one device anchor per node"
        ) from None
    except OSError as exc:
        raise ValueError(f"etcd anchors file {path}: {exc.strerror or exc}") from None
    try:
        anchors = x509.load_pem_x509_certificates(data)
    except ValueError:
        anchors = []
    if not anchors:
        raise ValueError(f"etcd anchors file {path} holds no PEM certificate")
    return data


def etcd_tls(
    endpoints: Sequence[str],
    *,
    anchors_file: str | None,
    zone: str | None,
    node: str,
    node_key_file: str | None,
    lifetime: float = ETCD_LEAF_LIFETIME,
) -> EtcdTls | None:
    """The TLS a service needs for ``endpoints`` (``None`` for plain ``http://`` ones):
    ``anchors_file`` (``--etcd-anchors``), this node's certificate made from its device key
    (``--node-key``) for ``zone`` (``--node-tls``).  A ``ValueError`` says what is missing."""
    scheme = endpoints_scheme(endpoints)
    if scheme == "http":
        if anchors_file is not None:
            raise ValueError(
                "--etcd-anchors is for https:// endpoints: give https://HOST:PORT, or drop it"
            )
        return None
    if anchors_file is None or zone is None or node_key_file is None:
        raise ValueError(f"https:// etcd endpoints need {_TLS_OPTIONS}")
    anchors = _read_anchors(anchors_file)
    try:
        key = load_private_key_file(node_key_file)
    except (OSError, ValueError) as exc:
        raise ValueError(f"--node-key: {exc}") from None
    leaf = make_etcd_certificate(zone, node, key, lifetime=lifetime)
    return EtcdTls(anchors, leaf.cert_pem, leaf.key_pem, anchors_file)


def endpoints_of(
    option: str, value: str | None, args: argparse.Namespace
) -> tuple[list[str], EtcdTls | None] | None:
    """A service's etcd, from its command line: the endpoints ``option`` (``--etcd``,
    ``--state-etcd``) gave as ``value`` and the TLS they need (:func:`etcd_tls` from
    ``--etcd-anchors``, ``--node-tls``, ``--node-key`` and ``--device-name``); ``None``
    without ``value`` (the service keeps its own file).  A ``ConfigError`` names ``option``
    (or ``--etcd-anchors`` given without it)."""
    if value is None:
        if args.etcd_anchors is not None:
            raise ConfigError(f"--etcd-anchors goes with {option} https://...")
        return None
    try:
        endpoints = parse_endpoints(value)
        tls = etcd_tls(
            endpoints,
            anchors_file=args.etcd_anchors,
            zone=args.node_tls,
            node=args.device_name,
            node_key_file=args.node_key,
        )
    except ValueError as exc:
        raise ConfigError(f"{option}: {exc}") from None
    return endpoints, tls


def _probe(url: str, context: ssl.SSLContext, server_name: str, timeout: float) -> str | None:
    """Why the member at ``url`` cannot be used (its certificate, or it refusing ours);
    ``None`` when it is fine or cannot be reached (down members are gRPC's business)."""
    _, host, port = _split(url)
    try:
        raw = socket.create_connection((host, port), timeout=timeout)
    except OSError:
        return None
    with raw:
        try:
            with context.wrap_socket(raw, server_hostname=server_name) as conn:
                # TLS 1.3: a server refusing our certificate says so after the handshake.
                conn.settimeout(min(timeout, 0.3))
                with contextlib.suppress(TimeoutError, socket.timeout):
                    conn.recv(1)
        except ssl.SSLCertVerificationError as exc:
            return (
                f"etcd member {url}: its certificate is not one of a zone device's for "
                f"{server_name} ({exc.verify_message}): is it a member of this zone, and is "
                "its node's device in the anchors file?"
            )
        except ssl.SSLError as exc:
            if "ALERT" in str(exc).upper():
                return (
                    f"etcd member {url} refused this node's certificate ({exc.reason}): "
                    "add this node's device anchor to the member's --trusted-ca-file"
                )
            return f"etcd member {url}: TLS failed ({exc.reason or exc})"
        except OSError:
            return None
    return None


def check_members(endpoints: Sequence[str], tls: EtcdTls, *, timeout: float = 3.0) -> None:
    """A ``ValueError`` naming the first member whose certificate does not chain to the
    anchors (or which refuses this node's); members that cannot be reached are skipped."""
    context = tls.ssl_context()
    source = f" (anchors: {tls.anchors_file})" if tls.anchors_file else ""
    for url in endpoints:
        problem = _probe(url, context, tls.server_name, timeout)
        if problem is not None:
            raise ValueError(problem + source)


def open_channel(
    endpoints: Sequence[str], options: Sequence[tuple[str, Any]], tls: EtcdTls | None
) -> grpc.Channel:
    """A channel to the cluster: plain for ``http://`` endpoints, TLS (``tls``, checked
    against every reachable member first: :func:`check_members`) for ``https://``."""
    scheme = endpoints_scheme(endpoints)
    target = grpc_target(endpoints)
    if scheme == "http":
        if tls is not None:
            raise ValueError("TLS to etcd needs https:// endpoints")
        return grpc.insecure_channel(target, options=list(options))
    if tls is None:
        raise ValueError(f"https:// etcd endpoints need {_TLS_OPTIONS}")
    check_members(endpoints, tls)
    return grpc.secure_channel(
        target,
        tls.credentials(),
        options=[*options, ("grpc.ssl_target_name_override", tls.server_name)],
    )


def code_of(exc: grpc.RpcError) -> grpc.StatusCode | None:
    """The status code of a failed call (``None`` for an error without one)."""
    code = getattr(exc, "code", None)
    result = code() if callable(code) else None
    return result if isinstance(result, grpc.StatusCode) else None


def code_name(exc: grpc.RpcError) -> str:
    code = code_of(exc)
    return code.name if code is not None else str(exc)


def details(exc: grpc.RpcError) -> str:
    details = getattr(exc, "details", None)
    text = details() if callable(details) else None
    return text if isinstance(text, str) else str(exc)
