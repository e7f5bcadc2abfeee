"""The gateway's own credentials for reading system_config.

The gateway is a kernel program (upstream's ``cyfs-gateway``, in RBAC group ``kernel``).
It holds this node's device key and signs its own session token, the way node-daemon signs
its boot token: claims ``{sub: "kernel", appid: "cyfs-gateway", iss: <device>, jti, exp}``
with ``kid`` = the device name (``tokens.make_service_login_jwt``).  system_config trusts
the device key by that kid.  :class:`DeviceTokenInvoker` wraps a transport and re-signs
the token before it expires, so the gateway never needs verify-hub.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final, Protocol, TypeVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from google.protobuf.message import Message

from buckyos.runtime.descriptor import MethodDescriptor
from buckyos.runtime.tokens import SERVICE_LOGIN_TTL, DeviceTokenSource
from buckyos.runtime.transport import AsyncUnaryInvoker

__all__ = ["GATEWAY_APP_ID", "GATEWAY_SUBJECT", "DeviceTokenInvoker", "TokenCarrier"]

GATEWAY_APP_ID: Final = "cyfs-gateway"
"""The gateway's app id: a member of the ``kernel`` RBAC group."""
GATEWAY_SUBJECT: Final = "kernel"
"""The subject node-daemon's device-signed tokens carry (the ``kernel`` role)."""

ReqT = TypeVar("ReqT", bound=Message)
RespT = TypeVar("RespT", bound=Message)


class TokenCarrier(AsyncUnaryInvoker, Protocol):
    """An async invoker whose session token is the settable ``token`` attribute
    (``KrpcTransport``, ``GrpcTransport``)."""

    token: str | None


class DeviceTokenInvoker:
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

    async def ainvoke(
        self,
        method: MethodDescriptor[ReqT, RespT],
        request: ReqT,
        *,
        timeout: float | None = None,
    ) -> RespT:
        """Call through the transport with a token that is valid for a while yet."""
        self.token()
        return await self._transport.ainvoke(method, request, timeout=timeout)

    async def aclose(self) -> None:
        """Close the transport when it can be closed."""
        close = getattr(self._transport, "aclose", None)
        if close is not None:
            await close()
