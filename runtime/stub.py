"""Bases of generated client stubs: build the request, hand it to the invoker.

Generated methods are one line over :meth:`Stub._call`; all behaviour is here.
"""

from __future__ import annotations

from typing import Any, Self

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


class Stub:
    """Base of generated sync stubs, e.g. ``SystemConfigStub(rt)``."""

    __slots__ = ("_invoker", "_timeout")

    def __init__(self, invoker: UnaryInvoker, *, timeout: float | None = None) -> None:
        if not callable(getattr(invoker, "invoke", None)):
            raise TypeError(
                f"{type(self).__name__} needs a runtime or transport with .invoke(); "
                f"got {type(invoker).__name__} (for asyncio use the Async stub)"
            )
        self._invoker = invoker
        self._timeout = timeout

    def with_timeout(self, timeout: float | None) -> Self:
        """A copy of this stub whose calls use ``timeout`` seconds."""
        return type(self)(self._invoker, timeout=timeout)

    def _call(
        self, method: MethodDescriptor[ReqT, RespT], request: ReqT | None, fields: dict[str, Any]
    ) -> RespT:
        message = build_request(method, request, fields)
        return self._invoker.invoke(method, message, timeout=self._timeout)


class AsyncStub:
    """Base of generated asyncio stubs, e.g. ``AsyncSystemConfigStub(rt)``."""

    __slots__ = ("_invoker", "_timeout")

    def __init__(self, invoker: AsyncUnaryInvoker, *, timeout: float | None = None) -> None:
        if not callable(getattr(invoker, "ainvoke", None)):
            raise TypeError(
                f"{type(self).__name__} needs a runtime or transport with .ainvoke(); "
                f"got {type(invoker).__name__} (for sync code use the plain stub)"
            )
        self._invoker = invoker
        self._timeout = timeout

    def with_timeout(self, timeout: float | None) -> Self:
        """A copy of this stub whose calls use ``timeout`` seconds."""
        return type(self)(self._invoker, timeout=timeout)

    async def _call(
        self, method: MethodDescriptor[ReqT, RespT], request: ReqT | None, fields: dict[str, Any]
    ) -> RespT:
        message = build_request(method, request, fields)
        return await self._invoker.ainvoke(method, message, timeout=self._timeout)
