"""The transport interface generated stubs call, sync and async twins, and the base the
transports share.

A transport (kRPC over HTTP, gRPC, in-process, in-memory) and the runtime that picks one
per service both offer it; stubs never know which they talk to.  Like httpx's transport,
it is a single method.

:class:`TokenInvoker` is that method written once for every invoker that carries a
session token: ``invoke`` / ``ainvoke`` carry the current token, ``invoke_as`` /
``ainvoke_as`` one given for that call only.  A wire's :class:`Transport` (one per
endpoint, ``token`` and ``trace_id`` plain attributes) writes only its two hooks.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Protocol, Self, runtime_checkable

from buckyos.runtime.descriptor import MethodDescriptor, ReqT, RespT

__all__ = ["AsyncUnaryInvoker", "Method", "TokenInvoker", "Transport", "UnaryInvoker"]


Method = MethodDescriptor
"""Short for :class:`MethodDescriptor` in the hooks' signatures."""


@runtime_checkable
class UnaryInvoker(Protocol):
    """Calls one verb and returns its response, or raises an ``RPCError``."""

    def invoke(
        self,
        method: MethodDescriptor[ReqT, RespT],
        request: ReqT,
        *,
        timeout: float | None = None,
    ) -> RespT: ...


@runtime_checkable
class AsyncUnaryInvoker(Protocol):
    """The asyncio twin of :class:`UnaryInvoker`."""

    async def ainvoke(
        self,
        method: MethodDescriptor[ReqT, RespT],
        request: ReqT,
        *,
        timeout: float | None = None,
    ) -> RespT: ...


class TokenInvoker(ABC):
    """Base of invokers that carry a session token: the four ways to call, written once.

    ``invoke`` / ``ainvoke`` carry :meth:`current_token`; ``invoke_as`` / ``ainvoke_as``
    carry the token given, for that call only (nothing is changed, so threads calling
    with different tokens share the invoker safely).  A subclass writes what is its own:
    :meth:`current_token` and the hooks :meth:`_send` and :meth:`_asend`, which get the
    caller's ``timeout`` (``None``: the invoker's default) and the token to carry.
    :meth:`close` and :meth:`aclose` (also as context managers) free what it holds.
    """

    __slots__ = ()

    @abstractmethod
    def current_token(self) -> str | None:
        """The token the next :meth:`invoke` / :meth:`ainvoke` carries."""

    @abstractmethod
    def _send(
        self, method: Method[ReqT, RespT], request: ReqT, timeout: float | None, token: str | None
    ) -> RespT:
        """Call one verb carrying ``token``: the invoker's own work."""

    @abstractmethod
    async def _asend(
        self, method: Method[ReqT, RespT], request: ReqT, timeout: float | None, token: str | None
    ) -> RespT:
        """The asyncio twin of :meth:`_send`."""

    def invoke(
        self,
        method: MethodDescriptor[ReqT, RespT],
        request: ReqT,
        *,
        timeout: float | None = None,
    ) -> RespT:
        """Call one verb carrying :meth:`current_token`."""
        return self._send(method, request, timeout, self.current_token())

    def invoke_as(
        self,
        token: str | None,
        method: MethodDescriptor[ReqT, RespT],
        request: ReqT,
        *,
        timeout: float | None = None,
    ) -> RespT:
        """:meth:`invoke` carrying ``token`` for this call only."""
        return self._send(method, request, timeout, token)

    async def ainvoke(
        self,
        method: MethodDescriptor[ReqT, RespT],
        request: ReqT,
        *,
        timeout: float | None = None,
    ) -> RespT:
        """The asyncio twin of :meth:`invoke`."""
        return await self._asend(method, request, timeout, self.current_token())

    async def ainvoke_as(
        self,
        token: str | None,
        method: MethodDescriptor[ReqT, RespT],
        request: ReqT,
        *,
        timeout: float | None = None,
    ) -> RespT:
        """:meth:`ainvoke` carrying ``token`` for this call only."""
        return await self._asend(method, request, timeout, token)

    def close(self) -> None:  # noqa: B027 - holding nothing is a fine default
        """Free the sync connections (they reopen on the next call); nothing by default."""

    async def aclose(self) -> None:
        """Free the running loop's connections and the sync ones."""
        self.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


class Transport(TokenInvoker):
    """Base of a client wire's transport, one per endpoint.

    ``token`` and ``trace_id`` are plain attributes the subclass sets: a runtime that
    renews its session token sets ``transport.token``; :meth:`current_token` reads it.
    """

    __slots__ = ("token", "trace_id")

    token: str | None
    trace_id: str | None

    def current_token(self) -> str | None:
        return self.token
