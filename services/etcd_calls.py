"""Calling etcd over gRPC with our own stubs (``system_config/etcd_api``): what
system_config's store and verify-hub's state share.

The channel's options, the gRPC target for a list of ``http://host:port`` endpoints, the
status codes after which a write's outcome is unknown (:data:`AMBIGUOUS`: resend the same
transaction, never a fresh write), reading a failed call's code and details, and the end
of a key prefix (etcd's ``range_end``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final
from urllib.parse import urlsplit

import grpc

__all__ = [
    "AMBIGUOUS",
    "CHANNEL_OPTIONS",
    "code_name",
    "code_of",
    "details",
    "grpc_target",
    "prefix_end",
]

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


def grpc_target(endpoints: Sequence[str]) -> str:
    """A gRPC target for ``http://host:port`` URLs (several only as IP addresses)."""
    hosts = []
    for url in endpoints:
        parts = urlsplit(url if "//" in url else f"http://{url}")
        if parts.scheme not in ("http", "") or not parts.hostname or parts.path not in ("", "/"):
            raise ValueError(
                f"etcd endpoint {url!r}: give http://HOST:PORT (TLS to etcd is not supported yet)"
            )
        hosts.append((parts.hostname, parts.port or 2379))
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
