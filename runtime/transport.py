"""The transport interface generated stubs call, sync and async twins.

A transport (kRPC over HTTP, gRPC, in-process, in-memory) and the runtime that picks one
per service both offer it; stubs never know which they talk to.  Like httpx's transport,
it is a single method.
"""

from __future__ import annotations

from typing import Protocol, TypeVar, runtime_checkable

from google.protobuf.message import Message

from buckyos.runtime.descriptor import MethodDescriptor

__all__ = ["AsyncUnaryInvoker", "UnaryInvoker"]

ReqT = TypeVar("ReqT", bound=Message)
RespT = TypeVar("RespT", bound=Message)


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
