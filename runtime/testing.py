"""In-memory transport for tests: a full kRPC JSON round trip without a socket.

``LoopbackTransport(servicer)`` serves a generated server base in the same process the
way a kRPC server would: the request is encoded to upstream's params JSON, serialised,
parsed and decoded again, the handler runs, and the result (or the error's wire text)
travels back the same way.  So a test through it exercises the stub, the JSON mapping in
both directions and the error hierarchy, like grpclib's ``ChannelFor``.  No auth: the
real server side enforces the verb table.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from typing import Any

from google.protobuf.message import Message

from buckyos.runtime.descriptor import JsonShape, MethodDescriptor, ReqT, RespT
from buckyos.runtime.errors import InternalError, RPCError, UnknownMethodError, error_from_text
from buckyos.runtime.server.request import Request
from buckyos.runtime.servicer import ServiceBase
from buckyos.runtime.transport import Method, Transport
from buckyos.runtime.wire.jsonmap import decode_params, decode_result, encode_params, encode_result

__all__ = ["LoopbackTransport"]


class LoopbackTransport(Transport):
    """Sync and async invoker that serves ``servicer`` through kRPC JSON in memory.

    The token and trace id are not looked at (no auth here).
    """

    def __init__(self, servicer: ServiceBase) -> None:
        self.token = None
        self.trace_id = None
        self.servicer = servicer
        self.service = servicer.SERVICE
        self.last_params: Any = None
        """The params JSON of the last call, as it would travel on the wire."""
        self.last_result: Any = None
        """The result JSON of the last successful call."""

    @contextmanager
    def _serving(self, method: MethodDescriptor[Any, Any], request: Message) -> Iterator[object]:
        """The handler's answer (maybe awaitable) to ``request`` after its params' JSON
        round trip; what fails from the handler's call to the end of the block travels
        back as its wire text."""
        if self.service.by_krpc.get(method.krpc) is not method:
            raise UnknownMethodError(method.krpc)
        params = json.loads(json.dumps(encode_params(method, request)))
        self.last_params = params
        message = decode_params(method, params)
        req = Request(method=method, message=message, params=params, transport="inmemory")
        try:
            yield self.servicer.handler_for(method)(req.message, req)
        except Exception as exc:
            raise self._as_wire_error(exc) from None

    def _reply(self, method: MethodDescriptor[Any, RespT], response: object) -> RespT:
        if response is None and method.result_shape is JsonShape.UNWRAP_OR_NULL:
            response = method.response_type()  # a servicer's None: the null
        if not isinstance(response, method.response_type):
            raise InternalError(
                f"{method.krpc} returned {type(response).__name__}, "
                f"expected {method.response_type.DESCRIPTOR.full_name}"
            )
        result = json.loads(json.dumps(encode_result(method, response)))
        self.last_result = result
        return decode_result(method, result)

    @staticmethod
    def _as_wire_error(exc: BaseException) -> RPCError:
        if isinstance(exc, RPCError):
            # What a client sees is only the text: rebuild the error from it.
            return error_from_text(str(exc))
        return InternalError(f"{type(exc).__name__}: {exc}")

    def _send(
        self, method: Method[ReqT, RespT], request: ReqT, timeout: float | None, token: str | None
    ) -> RespT:
        with self._serving(method, request) as response:
            if inspect.isawaitable(response):
                response = asyncio.run(_await(response))
        return self._reply(method, response)

    async def _asend(
        self, method: Method[ReqT, RespT], request: ReqT, timeout: float | None, token: str | None
    ) -> RespT:
        with self._serving(method, request) as response:
            if inspect.isawaitable(response):
                response = await asyncio.wait_for(response, timeout)
        return self._reply(method, response)


async def _await(awaitable: Awaitable[Message]) -> Message:
    return await awaitable
