"""In-process calls: a transport that hands messages straight to a :class:`Dispatcher`.

The seed's "best performance" mode: when a service lives in the calling process, a stub
talks to it with no socket and no JSON.  The call still goes through
``Dispatcher.call`` (auth, RBAC, the verb table), so it behaves like the wires; only the
framing is gone.

The dispatcher serving an api is found in the process registry
(:mod:`buckyos.runtime.wire.registry`), with its home loop: calls are run on that loop,
because a binding may hold loop-bound state (locks, queues, executors) that another loop
must not touch.  Sync calls from plain code run there too, or, when the dispatcher has no
home loop, on one private event-loop thread.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from buckyos.runtime.client.resolve import Endpoint
from buckyos.runtime.client.transports import TransportSettings, register_transport
from buckyos.runtime.descriptor import MethodDescriptor, ReqT, RespT
from buckyos.runtime.errors import (
    InternalError,
    RPCError,
    ServiceNotValidError,
    TransportError,
    UnknownMethodError,
)
from buckyos.runtime.transport import Method, Transport
from buckyos.runtime.wire.dispatch import CallInfo, Dispatcher
from buckyos.runtime.wire.registry import home_loop, lookup

__all__ = ["InProcessTransport"]

T = TypeVar("T")

_log = logging.getLogger("buckyos.runtime.client.inprocess")


class _LoopThread:
    """One daemon thread running an event loop, for sync calls with no home loop."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._loop.is_closed():
                loop = asyncio.new_event_loop()
                started = threading.Event()
                thread = threading.Thread(
                    target=self._run, args=(loop, started), name="buckyos-inprocess", daemon=True
                )
                thread.start()
                started.wait()
                self._loop, self._thread = loop, thread
            return self._loop

    @staticmethod
    def _run(loop: asyncio.AbstractEventLoop, started: threading.Event) -> None:
        asyncio.set_event_loop(loop)
        loop.call_soon(started.set)
        try:
            loop.run_forever()
        finally:
            loop.close()

    def stop(self) -> None:
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is not None and thread is not None and not loop.is_closed():
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=5)


_private = _LoopThread()
atexit.register(_private.stop)


class InProcessTransport(Transport):
    """``invoke``/``ainvoke`` straight into a dispatcher, no socket, no JSON.

    ``dispatcher=None`` looks the api up in the process registry on every call (a
    missing api is ``ServiceNotValidError``).  ``token`` and ``trace_id`` are plain
    attributes: a runtime that renews its session token sets ``transport.token``.

    The request is copied before the call: the handler owns its message (it may keep or
    change it), exactly as it would after a wire, and the caller may reuse its own.
    """

    __slots__ = ("dispatcher",)

    def __init__(
        self,
        dispatcher: Dispatcher | None = None,
        *,
        token: str | None = None,
        trace_id: str | None = None,
    ) -> None:
        self.dispatcher = dispatcher
        self.token = token
        self.trace_id = trace_id

    def __repr__(self) -> str:
        target = repr(self.dispatcher) if self.dispatcher is not None else "registry"
        return f"<InProcessTransport {target}>"

    def _target(self, method: MethodDescriptor[Any, Any]) -> Dispatcher:
        dispatcher = self.dispatcher
        if dispatcher is None:
            dispatcher = lookup(method.api)
            if dispatcher is None:
                raise _not_served(method.api)
        return dispatcher

    async def _call(
        self,
        dispatcher: Dispatcher,
        method: MethodDescriptor[ReqT, RespT],
        request: ReqT,
        timeout: float | None,
        token: str | None,
    ) -> RespT:
        served = dispatcher.lookup(method.api, method.krpc)
        if served is None:
            raise UnknownMethodError(method.krpc)
        if not isinstance(request, served.request_type):
            raise TypeError(
                f"{method.krpc} expects {served.request_type.DESCRIPTOR.full_name}, "
                f"got {type(request).__name__}"
            )
        message = type(request)()
        message.CopyFrom(request)
        info = CallInfo(token=token, trace_id=self.trace_id, transport="inprocess")
        # No scope at all without a timeout: entering one costs more than the call itself.
        deadline = asyncio.timeout(timeout) if timeout is not None else None
        try:
            if deadline is None:
                response = await dispatcher.call(served, message, info)
            else:
                async with deadline:
                    response = await dispatcher.call(served, message, info)
        except RPCError:
            raise
        except Exception as exc:
            if isinstance(exc, TimeoutError) and deadline is not None and deadline.expired():
                raise TransportError(
                    f"timeout: {method.api}/{method.krpc} took over {timeout}s"
                ) from None
            # The same answer a wire would give, so callers need not know the transport.
            _log.exception("in-process %s/%s failed", method.api, method.krpc)
            raise InternalError(f"internal error in {method.api}/{method.krpc}") from exc
        if not isinstance(response, method.response_type):
            raise InternalError(
                f"{method.api}/{method.krpc} returned {type(response).__name__}, "
                f"expected {method.response_type.DESCRIPTOR.full_name}"
            )
        return response

    async def _asend(
        self, method: Method[ReqT, RespT], request: ReqT, timeout: float | None, token: str | None
    ) -> RespT:
        """One call; runs on the dispatcher's home loop when that is another loop."""
        dispatcher = self._target(method)
        home = home_loop(dispatcher, method.api)
        coro = self._call(dispatcher, method, request, timeout, token)
        if home is None or home is asyncio.get_running_loop():
            return await coro
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, home))

    def _send(
        self, method: Method[ReqT, RespT], request: ReqT, timeout: float | None, token: str | None
    ) -> RespT:
        """One call from sync code (a thread with no running event loop).

        Blocking inside a running loop would stall it, and deadlock when the dispatcher
        lives on it; such callers use :meth:`ainvoke` (the async stub).
        """
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            raise RuntimeError(
                "InProcessTransport.invoke() called from a running event loop; "
                "use the async stub (ainvoke) there"
            )
        dispatcher = self._target(method)
        home = home_loop(dispatcher, method.api) or _private.loop()
        return _run_on(home, self._call(dispatcher, method, request, timeout, token))


def _not_served(api: str) -> ServiceNotValidError:
    return ServiceNotValidError(f"{api} is not served in this process")


def _absent(api: str) -> ServiceNotValidError | None:
    """Nothing to call when ``api`` is not registered in this process."""
    return _not_served(api) if lookup(api) is None else None


def _for_endpoint(endpoint: Endpoint, settings: TransportSettings) -> InProcessTransport:
    return InProcessTransport()


# Failures here say nothing of an endpoint to revive: it is never marked dead.
register_transport("inprocess", _for_endpoint, absent=_absent, marks_dead=False)


def _run_on(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, T]) -> T:
    future = asyncio.run_coroutine_threadsafe(coro, loop)
    try:
        return future.result()
    except BaseException:
        future.cancel()
        raise
