"""The gateway's own credentials for reading system_config.

The gateway is a kernel program (upstream's ``cyfs-gateway``, in RBAC group ``kernel``).
It holds this node's device key and signs its own session token, the way node-daemon signs
its boot token: claims ``{sub: "kernel", appid: "cyfs-gateway", iss: <device>, jti, exp}``
with ``kid`` = the device name (``token_signing.make_service_login_jwt``).  system_config trusts
the device key by that kid.  :class:`DeviceTokenInvoker` wraps a transport and re-signs
the token before it expires, so the gateway never needs verify-hub.

The same key vouches for the clients whose calls the gateway forwards to verify-hub
(:class:`ClientAddressSigner`): verify-hub throttles logins per client address, and
behind the gateway every call comes from the gateway's own address.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, field
from typing import Final, TypeVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from google.protobuf.message import Message

from buckyos.runtime import MethodDescriptor, TokenInvoker, Transport
from buckyos.runtime.security import SERVICE_LOGIN_TTL, DeviceTokenSource, sign_token

__all__ = [
    "CLIENT_TOKEN_RENEW",
    "CLIENT_TOKEN_TTL",
    "GATEWAY_APP_ID",
    "GATEWAY_SUBJECT",
    "ClientAddressSigner",
    "DeviceTokenInvoker",
    "TokenCarrier",
]

GATEWAY_APP_ID: Final = "cyfs-gateway"
"""The gateway's app id: a member of the ``kernel`` RBAC group."""
GATEWAY_SUBJECT: Final = "kernel"
"""The subject node-daemon's device-signed tokens carry (the ``kernel`` role)."""

CLIENT_TOKEN_TTL: Final = 120
"""Seconds an ``x-buckyos-client`` token lives: a captured one is not good for long."""
CLIENT_TOKEN_RENEW: Final = 60
"""A cached ``x-buckyos-client`` token is signed anew once fewer seconds than this remain."""
_CLIENT_CACHE: Final = 4096

ReqT = TypeVar("ReqT", bound=Message)
RespT = TypeVar("RespT", bound=Message)


TokenCarrier = Transport
"""A transport whose session token is the settable ``token`` attribute
(``KrpcTransport``, ``GrpcTransport``)."""


class DeviceTokenInvoker(TokenInvoker):
    """``transport`` with a device-signed token that is re-signed before it expires.

    A fresh token lives ``ttl`` seconds and is replaced once less than ``renew_before``
    seconds remain, so a call never carries a token about to lapse in flight.
    """

    def __init__(
        self,
        transport: TokenCarrier,
        device_key: Ed25519PrivateKey,
        device_name: str,
        *,
        app_id: str = GATEWAY_APP_ID,
        subject: str = GATEWAY_SUBJECT,
        ttl: int = SERVICE_LOGIN_TTL,
        renew_before: int = 300,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._transport = transport
        self._source = DeviceTokenSource(
            device_key,
            device_name,
            app_id=app_id,
            subject=subject,
            ttl=ttl,
            renew_before=renew_before,
            clock=clock,
        )

    @property
    def transport(self) -> TokenCarrier:
        return self._transport

    def token(self) -> str:
        """The current token, signed anew when it is missing or close to expiry."""
        current = self._source.token()
        self._transport.token = current
        return current

    def current_token(self) -> str:
        """What a call carries: a token that is valid for a while yet."""
        return self.token()

    def _send(
        self,
        method: MethodDescriptor[ReqT, RespT],
        request: ReqT,
        timeout: float | None,
        token: str | None,
    ) -> RespT:
        return self._transport.invoke_as(token, method, request, timeout=timeout)

    async def _asend(
        self,
        method: MethodDescriptor[ReqT, RespT],
        request: ReqT,
        timeout: float | None,
        token: str | None,
    ) -> RespT:
        return await self._transport.ainvoke_as(token, method, request, timeout=timeout)

    def close(self) -> None:
        """Close the transport's sync connections."""
        self._transport.close()

    async def aclose(self) -> None:
        """Close the transport."""
        await self._transport.aclose()


@dataclass(slots=True)
class ClientAddressSigner:
    """The ``x-buckyos-client`` header value for a client address: a compact EdDSA JWT
    signed by this node's device key, header ``kid`` = the device name, claims ``{"iss":
    <device>, "sub": <device>, "client_addr": <ip>, "iat": now, "exp": now + ttl}``.

    Signing costs about as much as forwarding a call, so tokens are cached per address
    and signed anew once fewer than ``renew_before`` seconds remain; the cache holds at
    most ``max_entries`` addresses (the oldest entry goes first), so clients spraying
    addresses cannot grow it.  Used from the gateway's event loop only (no lock).
    """

    device_key: Ed25519PrivateKey
    device_name: str
    _: KW_ONLY
    ttl: int = CLIENT_TOKEN_TTL
    renew_before: int = CLIENT_TOKEN_RENEW
    max_entries: int = _CLIENT_CACHE
    clock: Callable[[], float] = time.time
    _cache: dict[str, tuple[str, int]] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        if not self.device_name:
            raise ValueError("device_name must name this node's device (the token's kid)")
        if not 0 <= self.renew_before < self.ttl:
            raise ValueError(f"renew_before ({self.renew_before}) must be below ttl ({self.ttl})")
        if self.max_entries < 1:
            raise ValueError("max_entries must be at least 1")

    def header(self, client_addr: str) -> str:
        """The token naming ``client_addr``, valid for at least ``renew_before`` seconds."""
        now = self.clock()
        cache = self._cache
        cached = cache.pop(client_addr, None)
        if cached is not None and cached[1] - now >= self.renew_before:
            cache[client_addr] = cached  # back in, as the youngest entry
            return cached[0]
        iat = int(now)
        exp = iat + self.ttl
        name = self.device_name
        claims = {"iss": name, "sub": name, "client_addr": client_addr, "iat": iat, "exp": exp}
        token = sign_token(claims, self.device_key, kid=name)
        if len(cache) >= self.max_entries:
            del cache[next(iter(cache))]  # dicts keep insertion order: the oldest
        cache[client_addr] = (token, exp)
        return token

    def __len__(self) -> int:
        return len(self._cache)
