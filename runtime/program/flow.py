"""Sans-IO flows: the runtime's conversations with the zone, written once for both modes.

A flow is a generator, as httpx's ``auth_flow``: it yields the next :class:`Call` to make
(or a :class:`Pause` before a retry) and receives the call's response at the ``yield``, or
has the call's error raised there, where it can catch it.  :func:`drive` runs a flow from
sync code and :func:`adrive` from asyncio; the decisions (what to call next, what an error
means, when to retry) live in the flow, so login and the keep-alive's rounds have no
hand-written sync and async twins.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any, Generic, TypeAlias, TypeVar

from buckyos.runtime.descriptor import MethodDescriptor, ReqT, RespT
from buckyos.runtime.transport import AsyncUnaryInvoker, UnaryInvoker

__all__ = ["Call", "Flow", "Pause", "Step", "adrive", "call", "drive"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Call(Generic[ReqT, RespT]):
    """Call ``method`` with ``request`` on the driver's invoker (no timeout of its own)."""

    method: MethodDescriptor[ReqT, RespT]
    request: ReqT


@dataclass(frozen=True, slots=True)
class Pause:
    """Wait ``seconds`` (``time.sleep`` or ``asyncio.sleep``), as between two retries."""

    seconds: float


Step: TypeAlias = Call[Any, Any] | Pause
Flow = Generator[Step, Any, T]
"""A flow that returns a ``T``."""


def call(method: MethodDescriptor[ReqT, RespT], request: ReqT) -> Flow[RespT]:
    """``answer = yield from call(METHOD, request)``: one call, with its response typed."""
    answer: RespT = yield Call(method, request)
    return answer


class _Resume(Generic[T]):
    """A driver's hold on ``flow``: the last step's answer (or error), sent in at the next."""

    def __init__(self, flow: Flow[T]) -> None:
        self.flow = flow
        self.answer: Any = None
        self.error: BaseException | None = None

    def next_step(self) -> Step | None:
        """Resume the flow with the last answer (or raise the last error there): its next
        step, or ``None`` once it has returned (its value is then ``result``)."""
        answer, error = self.answer, self.error
        self.answer = self.error = None
        try:
            return self.flow.send(answer) if error is None else self.flow.throw(error)
        except StopIteration as done:
            self.result: T = done.value
            return None


def drive(flow: Flow[T], invoker: UnaryInvoker) -> T:
    """Run ``flow`` from sync code: its calls on ``invoker``, its pauses with a sleep."""
    resume = _Resume(flow)
    while (step := resume.next_step()) is not None:
        try:
            if isinstance(step, Pause):
                time.sleep(step.seconds)
            else:
                resume.answer = invoker.invoke(step.method, step.request)
        except BaseException as exc:
            resume.error = exc
    return resume.result


async def adrive(flow: Flow[T], invoker: AsyncUnaryInvoker) -> T:
    """The asyncio twin of :func:`drive` (a cancellation is raised in the flow, too)."""
    resume = _Resume(flow)
    while (step := resume.next_step()) is not None:
        try:
            if isinstance(step, Pause):
                await asyncio.sleep(step.seconds)
            else:
                resume.answer = await invoker.ainvoke(step.method, step.request)
        except BaseException as exc:
            resume.error = exc
    return resume.result
