"""Calls out of a verb: ``req.subcall`` carries the caller's token, ``req.call`` the
service's own.

An api served by this binding is called in process (through the binding's own checks),
anything else through the ``invoker``.  To carry a token other than its own an invoker
needs a ``with_token(token)`` method returning an invoker; without one a subcall is
refused rather than silently made with the service's credentials.

:meth:`OutgoingCalls.invoke_for` (a sync handler's worker thread) and
:meth:`OutgoingCalls.ainvoke_for` (an async handler) share :meth:`OutgoingCalls._route`,
which picks the token and where the call goes; each then only waits in its own way.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar, cast

from buckyos.runtime.descriptor import MethodDescriptor, ReqT, RespT
from buckyos.runtime.errors import ServiceNotValidError, TransportError
from buckyos.runtime.server.core import BindingCore
from buckyos.runtime.server.jobs import HELD
from buckyos.runtime.server.request import Outcall, Request
from buckyos.runtime.transport import AsyncUnaryInvoker, UnaryInvoker
from buckyos.runtime.wire.dispatch import CallInfo

__all__ = ["OutgoingCalls"]

T = TypeVar("T")

_Remote = UnaryInvoker | AsyncUnaryInvoker


class OutgoingCalls(BindingCore):
    """What a :class:`Request` calls for ``subcall``/``call`` (see the module docstring)."""

    own_token: str | None

    def _route(self, req: Request, out: Outcall[Any, Any]) -> tuple[str | None, _Remote | None]:
        """The token a call carries, and its invoker (``None``: served here, in process)."""
        token = self.own_token if out.own else req.caller.token
        if out.method.api in self._apis:
            return token, None
        invoker = self._remote(out.method, token, out.own)
        if not isinstance(invoker, (UnaryInvoker, AsyncUnaryInvoker)):
            raise ServiceNotValidError(
                f"{type(invoker).__name__} has neither invoke() nor ainvoke()"
            )
        return token, invoker

    def _remote(self, method: MethodDescriptor[Any, Any], token: str | None, own: bool) -> object:
        invoker = self.invoker
        if invoker is None:
            raise ServiceNotValidError(
                f"{method.api}: not served by binding {self.name} and no invoker is configured "
                "(give Binding(invoker=...) a runtime or transport)"
            )
        with_token = getattr(invoker, "with_token", None)
        if with_token is not None and (token is not None or not own):
            return with_token(token)
        if own:
            return invoker  # the invoker's own credentials are the service's
        raise ServiceNotValidError(
            f"{method.api}: the invoker {type(invoker).__name__} cannot carry the caller's "
            "token (it needs a with_token(token) method)"
        )

    async def _local(
        self, out: Outcall[ReqT, RespT], token: str | None, trace_id: str | None
    ) -> RespT:
        method, timeout = out.method, out.timeout
        info = CallInfo(token=token, trace_id=trace_id, transport="inprocess")
        if timeout is None:
            return cast(RespT, await self.call(method, out.message, info))
        scope = asyncio.timeout(timeout)
        try:
            async with scope:
                return cast(RespT, await self.call(method, out.message, info))
        except TimeoutError:
            if scope.expired():
                raise TransportError(
                    f"timeout: {method.api}/{method.krpc} after {timeout:g}s"
                ) from None
            raise

    async def _local_held(
        self,
        held: frozenset[object],
        out: Outcall[ReqT, RespT],
        token: str | None,
        trace_id: str | None,
    ) -> RespT:
        HELD.set(held)  # a fresh task: carry the worker's chain over explicitly
        return await self._local(out, token, trace_id)

    def _on_loop(self, make: Callable[[], Coroutine[Any, Any, T]]) -> T:
        """Run ``make()`` on the binding's loop and wait for it (from a worker thread)."""
        loop = self._loop_for_threads()
        return asyncio.run_coroutine_threadsafe(make(), loop).result()

    def invoke_for(self, req: Request, out: Outcall[ReqT, RespT]) -> RespT:
        """``req.subcall``/``req.call`` from a sync handler's worker thread."""
        token, remote = self._route(req, out)
        if remote is None:
            held = HELD.get()
            trace_id = req.trace_id
            return self._on_loop(lambda: self._local_held(held, out, token, trace_id))
        if isinstance(remote, UnaryInvoker):
            return remote.invoke(out.method, out.message, timeout=out.timeout)
        return self._on_loop(lambda: remote.ainvoke(out.method, out.message, timeout=out.timeout))

    async def ainvoke_for(self, req: Request, out: Outcall[ReqT, RespT]) -> RespT:
        """``req.asubcall``/``req.acall`` from an async handler."""
        token, remote = self._route(req, out)
        if remote is None:
            return await self._local(out, token, req.trace_id)
        if isinstance(remote, AsyncUnaryInvoker):
            return await remote.ainvoke(out.method, out.message, timeout=out.timeout)
        return await self._in_thread(
            functools.partial(remote.invoke, out.method, out.message, timeout=out.timeout)
        )
