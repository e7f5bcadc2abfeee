"""Bases of generated client stubs: build the request, hand it to the invoker.

Generated methods are one line over :meth:`Stub._call`; all behaviour is here.
"""

from __future__ import annotations

from typing import Any, ClassVar, Generic, Self, TypeVar

from buckyos.runtime.descriptor import MethodDescriptor, ReqT, RespT
from buckyos.runtime.transport import AsyncUnaryInvoker, UnaryInvoker

__all__ = ["AsyncStub", "Stub", "build_request"]


def build_request(
    method: MethodDescriptor[ReqT, Any], request: ReqT | None, fields: dict[str, Any]
) -> ReqT:
    """The request message from either a message or keyword fields (``None`` = not given)."""
    given = {name: value for name, value in fields.items() if value is not None}
    if request is not None:
        if given:
            raise TypeError(
                f"{method.name}() takes a request message or keyword fields, not both "
                f"(got a message and {sorted(given)})"
            )
        if not isinstance(request, method.request_type):
            raise TypeError(
                f"{method.name}() expects {method.request_type.DESCRIPTOR.full_name}, "
                f"got {type(request).__name__}"
            )
        return request
    return method.request_type(**given)


InvokerT = TypeVar("InvokerT", UnaryInvoker, AsyncUnaryInvoker)
"""The sync or the asyncio invoker interface."""


class _StubBase(Generic[InvokerT]):
    """What both stub bases hold: the invoker (checked for ``_needs``) and the timeout."""

    __slots__ = ("_invoker", "_timeout")

    _invoker: InvokerT
    _timeout: float | None
    _needs: ClassVar[str]
    _otherwise: ClassVar[str]

    def __init__(self, invoker: InvokerT, *, timeout: float | None = None) -> None:
        if not callable(getattr(invoker, self._needs, None)):
            raise TypeError(
                f"{type(self).__name__} needs a runtime or transport with .{self._needs}(); "
                f"got {type(invoker).__name__} ({self._otherwise})"
            )
        self._invoker = invoker
        self._timeout = timeout

    def with_timeout(self, timeout: float | None) -> Self:
        """A copy of this stub whose calls use ``timeout`` seconds."""
        return type(self)(self._invoker, timeout=timeout)


class Stub(_StubBase[UnaryInvoker]):
    """Base of generated sync stubs, e.g. ``SystemConfigStub(rt)``."""

    __slots__ = ()
    _needs = "invoke"
    _otherwise = "for asyncio use the Async stub"

    def _call(
        self, method: MethodDescriptor[ReqT, RespT], request: ReqT | None, fields: dict[str, Any]
    ) -> RespT:
        message = build_request(method, request, fields)
        return self._invoker.invoke(method, message, timeout=self._timeout)


class AsyncStub(_StubBase[AsyncUnaryInvoker]):
    """Base of generated asyncio stubs, e.g. ``AsyncSystemConfigStub(rt)``."""

    __slots__ = ()
    _needs = "ainvoke"
    _otherwise = "for sync code use the plain stub"

    async def _call(
        self, method: MethodDescriptor[ReqT, RespT], request: ReqT | None, fields: dict[str, Any]
    ) -> RespT:
        message = build_request(method, request, fields)
        return await self._invoker.ainvoke(method, message, timeout=self._timeout)
