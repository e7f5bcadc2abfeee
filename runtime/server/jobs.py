"""Where a binding's work runs, in order: its loop and thread pool, ``queue_job`` groups
and the ``noconcurrency`` FIFO.

What the AGL binder taught, and how it is kept here:

- **Jobs**: ``queue_job(callback, group, timeout)`` runs the jobs of one group in order; a
  sync callback runs in the thread pool, an async one on the loop; one that overruns is
  cancelled and its task raises ``TimeoutError``.
- **noconcurrency**: requests to such an api run one at a time in strict arrival order (a
  FIFO lock that hands ownership over, so no late comer can barge in).  The binder's known
  deadlock, a verb of the api calling the same api synchronously, is avoided: the call
  chain that holds the lock is recorded in a context variable (carried into the handler's
  worker thread and back), and a re-entrant call runs at once.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import inspect
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any, Final, TypeVar, overload

from buckyos.runtime.errors import ServiceNotValidError

__all__ = ["HELD", "JobGroup", "Jobs", "Serial", "in_order", "running_loop"]

T = TypeVar("T")

HELD: Final[contextvars.ContextVar[frozenset[object]]] = contextvars.ContextVar(
    "buckyos_binding_held", default=frozenset()
)
"""The noconcurrency locks the current call chain owns (re-entrant subcalls bypass them)."""


class Serial:
    """A FIFO lock that hands ownership to the next waiter on release (no barging).

    ``enqueue`` is synchronous, so the order of arrival is the order of calls to it.
    """

    __slots__ = ("_waiters", "owner")

    def __init__(self) -> None:
        self.owner: object | None = None
        self._waiters: deque[tuple[asyncio.Future[None], object]] = deque()

    def enqueue(self, owner: object) -> asyncio.Future[None] | None:
        """Take the lock now (``None``) or a future that resolves once it is ``owner``'s."""
        if self.owner is None and not self._waiters:
            self.owner = owner
            return None
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((waiter, owner))
        return waiter

    async def wait(self, waiter: asyncio.Future[None], owner: object) -> None:
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release(owner)  # ownership arrived just as we were cancelled
            else:
                waiter.cancel()
            raise

    def release(self, owner: object) -> None:
        if self.owner is not owner:
            return
        while self._waiters:
            waiter, next_owner = self._waiters.popleft()
            if not waiter.done():
                self.owner = next_owner
                waiter.set_result(None)
                return
        self.owner = None

    @property
    def idle(self) -> bool:
        return self.owner is None and not self._waiters


async def in_order(serial: Serial, run: Callable[..., Awaitable[T]], *args: Any) -> T:
    """``await run(*args)`` once ``serial`` is this call chain's: a noconcurrency api's
    requests one at a time, in arrival order; a call chain that already holds it (a verb
    calling its own api) runs at once."""
    held = HELD.get()
    if serial.owner is not None and serial.owner in held:
        return await run(*args)  # re-entrant: this call chain holds the api
    owner = object()
    waiter = serial.enqueue(owner)
    if waiter is not None:
        await serial.wait(waiter, owner)
    reset = HELD.set(held | {owner})
    try:
        return await run(*args)
    finally:
        HELD.reset(reset)
        serial.release(owner)


class JobGroup:
    """The jobs of one ``queue_job`` group: their lock and how many are queued."""

    __slots__ = ("pending", "serial")

    def __init__(self) -> None:
        self.serial = Serial()
        self.pending = 0


def running_loop() -> asyncio.AbstractEventLoop | None:
    """The running event loop, or ``None`` outside one."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class Jobs:
    """The binding's loop and thread pool, and ``queue_job`` (see the module docstring).

    The base of every part of a binding (through
    :class:`~buckyos.runtime.server.core.BindingCore`).
    """

    name: str
    _executor: Executor | None
    _max_workers: int

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        """The loop the binding serves on (set by ``init`` or the first job)."""
        self._groups: dict[Hashable, JobGroup] = {}

    def _pool(self) -> Executor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(
                max_workers=self._max_workers, thread_name_prefix=f"buckyos-{self.name}"
            )
        return self._executor

    def _in_thread(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """Run ``fn(*args)`` in the thread pool with this task's context variables.

        A plain function (no coroutine frame of its own): it sits on the sync handler path.
        """
        context = contextvars.copy_context()
        return asyncio.get_running_loop().run_in_executor(self._pool(), context.run, fn, *args)

    def _loop_for_threads(self) -> asyncio.AbstractEventLoop:
        """The binding's loop, for a worker thread to run a coroutine on."""
        loop = self._loop
        if loop is None:
            raise ServiceNotValidError(f"binding {self.name} is not serving yet")
        if running_loop() is loop:
            raise RuntimeError(
                "a sync call on the event loop thread would block it: "
                "use `await req.asubcall(...)` / `await req.acall(...)` in async handlers"
            )
        return loop

    @overload
    def queue_job(
        self,
        callback: Callable[[], Awaitable[T]],
        group: Hashable | None = None,
        timeout: float | None = None,
    ) -> asyncio.Task[T]: ...

    @overload
    def queue_job(
        self,
        callback: Callable[[], T],
        group: Hashable | None = None,
        timeout: float | None = None,
    ) -> asyncio.Task[T]: ...

    def queue_job(
        self,
        callback: Callable[[], Any],
        group: Hashable | None = None,
        timeout: float | None = None,
    ) -> asyncio.Task[Any]:
        """Run ``callback`` as a job; jobs of one ``group`` run one at a time, in order.

        A sync callback runs in the thread pool, an async one on the loop.  After
        ``timeout`` seconds the job is cancelled (an async one really stops; a sync one can
        only be abandoned) and its task raises ``TimeoutError``; the group moves on.  Call
        from the event loop; from a worker thread use :meth:`queue_job_threadsafe`.
        """
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = loop
        return loop.create_task(self._job(callback, group, timeout))

    def queue_job_threadsafe(
        self,
        callback: Callable[[], Any],
        group: Hashable | None = None,
        timeout: float | None = None,
    ) -> concurrent.futures.Future[Any]:
        """:meth:`queue_job` from a thread (a sync handler); a concurrent future."""
        loop = self._loop_for_threads()
        return asyncio.run_coroutine_threadsafe(self._job(callback, group, timeout), loop)

    async def _job(
        self, callback: Callable[[], Any], group: Hashable | None, timeout: float | None
    ) -> Any:
        entry: JobGroup | None = None
        owner = object()
        if group is not None:
            entry = self._groups.get(group)
            if entry is None:
                entry = self._groups[group] = JobGroup()
            entry.pending += 1
        try:
            if entry is not None:
                waiter = entry.serial.enqueue(owner)
                if waiter is not None:
                    await entry.serial.wait(waiter, owner)
            scope = asyncio.timeout(timeout)
            try:
                async with scope:
                    if inspect.iscoroutinefunction(callback):
                        return await callback()
                    result = await self._in_thread(callback)
                    if inspect.isawaitable(result):
                        result = await result
                    return result
            except TimeoutError:
                if scope.expired():
                    raise TimeoutError(
                        f"job {callback!r} of group {group!r} timed out after {timeout:g}s"
                    ) from None
                raise
        finally:
            if entry is not None:
                entry.serial.release(owner)
                entry.pending -= 1
                if entry.pending == 0 and self._groups.get(group) is entry:
                    del self._groups[group]
