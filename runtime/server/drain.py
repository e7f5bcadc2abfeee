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
from typing import Any, Final

from google.protobuf.message import Message

from buckyos.runtime.descriptor import MethodDescriptor, ServiceDescriptor
from buckyos.runtime.errors import ServiceNotValidError
from buckyos.runtime.wire.dispatch import CallInfo, Dispatcher

__all__ = ["CUT_AT", "Draining"]

CUT_AT: Final = 0.8
"""The share of the grace period after which calls still running are cut short."""


def _stopping(method: MethodDescriptor[Any, Any]) -> ServiceNotValidError:
    return ServiceNotValidError(f"{method.api}/{method.krpc} was cut short: the server is stopping")


class Draining:
    """A dispatcher that forwards every call (and any other attribute) to ``dispatcher``
    and can end the calls in flight (:meth:`drain`)."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher
        self._running: dict[asyncio.Task[Any], int] = {}
        self._cut: set[asyncio.Task[Any]] = set()
        self._closed = False
        self._idle: asyncio.Event | None = None

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
            raise _stopping(method)
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
                raise _stopping(method) from None
            raise
        finally:
            left = running[task] - 1
            if left:
                running[task] = left
            else:
                del running[task]
                if not running and self._idle is not None:
                    self._idle.set()

    async def drain(self, grace: float) -> None:
        """Wait up to ``CUT_AT * grace`` seconds for the calls in flight, then cut the
        ones still running (and refuse new ones) with ``ServiceNotValidError``."""
        if self._running:
            self._idle = asyncio.Event()
            try:
                await asyncio.wait_for(self._idle.wait(), max(0.0, grace * CUT_AT))
            except TimeoutError:
                pass
        self._closed = True
        for task in list(self._running):
            self._cut.add(task)
            task.cancel("the server is stopping")
