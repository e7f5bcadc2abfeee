"""Calls in flight when a server stops: they get the grace period, then an answer.

:func:`~buckyos.runtime.server.serve.serving` hands its listeners a :class:`Draining`
dispatcher in front of the real one.  It knows which calls are running (the task of each),
so that a stopping server can wait for them and end the ones that overrun: at
:data:`CUT_AT` of the grace period each call still running is cancelled and answered
``ServiceNotValidError`` (``Service not valid: <api>/<verb> was cut short: the server is
stopping``) over its own wire, while the listeners are still there to send it; a call
that arrives after that cut is refused the same way at once.  A client thus gets an
answer within the grace period, never a dropped connection or an HTTP 500, and an
idempotent call moves on to another instance (the router's rule for that error).

A sync handler's thread cannot be stopped: its call is answered, the thread runs on, and
the process decides how long it waits for it (:mod:`~buckyos.runtime.server.process`).
"""

from __future__ import annotations

import asyncio
from typing import Any, Final, Protocol, cast

from google.protobuf.message import Message

from buckyos.runtime.descriptor import MethodDescriptor, ServiceDescriptor
from buckyos.runtime.errors import ServiceNotValidError
from buckyos.runtime.wire.dispatch import CallInfo, Dispatcher

__all__ = ["CUT_AT", "Drainable", "Draining", "IdleSignal", "drainable", "stopping_error"]

CUT_AT: Final = 0.8
"""The share of the grace period after which calls still running are cut short."""


_FORWARDED: Final = ("lookup", "services", "decode", "authenticate", "events")


class IdleSignal:
    """What a stopping server waits on: "nothing is in flight any more", for a while.

    The code that tracks calls says :meth:`ended` when one finishes (with whether any is
    left); :meth:`wait` returns at once when none runs, else when the last one ends or
    ``timeout`` seconds passed, whichever comes first.
    """

    __slots__ = ("_event",)

    def __init__(self) -> None:
        self._event: asyncio.Event | None = None

    def ended(self, busy: bool) -> None:
        """A call finished; ``busy``: whether others still run."""
        if not busy and self._event is not None:
            self._event.set()

    async def wait(self, busy: bool, timeout: float) -> None:
        if not busy:
            return
        self._event = asyncio.Event()
        try:
            await asyncio.wait_for(self._event.wait(), max(0.0, timeout))
        except TimeoutError:
            pass
        finally:
            self._event = None


def stopping_error(method: MethodDescriptor[Any, Any]) -> ServiceNotValidError:
    """The answer of a call cut short, or refused, because its server is stopping."""
    return ServiceNotValidError(f"{method.api}/{method.krpc} was cut short: the server is stopping")


class Draining:
    """A dispatcher that forwards every call (and any other attribute) to ``dispatcher``
    and can end the calls in flight (:meth:`drain`)."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher
        # What the wires look up on every call, bound here once: a forwarding method is a
        # frame more per call, and __getattr__ (the fallback for anything else) a failed
        # lookup each time.
        for name in _FORWARDED:
            value = getattr(dispatcher, name, None)
            if value is not None:
                setattr(self, name, value)
        self._running: dict[asyncio.Task[Any], int] = {}
        self._cut: set[asyncio.Task[Any]] = set()
        self._closed = False
        self._idle = IdleSignal()

    def __getattr__(self, name: str) -> Any:  # decode, authenticate, events, ...
        return getattr(self.dispatcher, name)

    def services(self) -> tuple[ServiceDescriptor, ...]:
        return self.dispatcher.services()

    def lookup(self, api: str, krpc: str) -> MethodDescriptor[Any, Any] | None:
        return self.dispatcher.lookup(api, krpc)

    @property
    def in_flight(self) -> int:
        """How many calls are running."""
        return sum(self._running.values())

    async def call(
        self, method: MethodDescriptor[Any, Any], message: Message, info: CallInfo
    ) -> Message:
        if self._closed:
            raise stopping_error(method)
        task = asyncio.current_task()
        if task is None:  # pragma: no cover - a call always runs in a task
            return await self.dispatcher.call(method, message, info)
        running = self._running
        running[task] = running.get(task, 0) + 1
        try:
            return await self.dispatcher.call(method, message, info)
        except asyncio.CancelledError:
            if task in self._cut and task.uncancel() == 0:
                self._cut.discard(task)
                raise stopping_error(method) from None
            raise
        finally:
            left = running[task] - 1
            if left:
                running[task] = left
            else:
                del running[task]
                self._idle.ended(bool(running))

    def attach_server(self) -> None:
        """Nothing to count: this wrapper belongs to one server."""

    def detach_server(self) -> None:
        """Nothing to reopen: the wrapper goes with its server."""

    async def drain(self, grace: float) -> None:
        """Wait up to ``CUT_AT * grace`` seconds for the calls in flight, then cut the
        ones still running (and refuse new ones) with ``ServiceNotValidError``."""
        await self._idle.wait(bool(self._running), grace * CUT_AT)
        self._closed = True
        for task in list(self._running):
            self._cut.add(task)
            task.cancel("the server is stopping")


_DRAINABLE: Final = ("drain", "attach_server", "detach_server")


class Drainable(Dispatcher, Protocol):
    """A dispatcher that can end its own calls in flight when its server stops."""

    async def drain(self, grace: float) -> None: ...

    def attach_server(self) -> None: ...

    def detach_server(self) -> None: ...


def drainable(dispatcher: Dispatcher) -> Drainable:
    """``dispatcher`` itself when it drains its own calls (a ``Binding`` does, on the
    records its per-call deadlines keep anyway: nothing more per call), else a
    :class:`Draining` in front of it (a frame and a task lookup per call)."""
    if all(callable(getattr(dispatcher, name, None)) for name in _DRAINABLE):
        return cast(Drainable, dispatcher)
    return Draining(dispatcher)
