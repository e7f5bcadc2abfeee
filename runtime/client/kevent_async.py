"""The asyncio kevent client: :mod:`.kevent`'s twin on aiohttp (a reader task per
stream), with the same behaviour and the same shared logic (:mod:`.kevent_core`)."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import weakref
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

import aiohttp

from buckyos.runtime.client import kevent_core as core
from buckyos.runtime.errors import KEventError
from buckyos.runtime.wire.kevent import DEFAULT_KEEPALIVE_MS, DEFAULT_READER_CAPACITY, KEvent

__all__ = ["AsyncKEventClient", "AsyncKEventSubscription"]


class AsyncKEventClient:
    """The asyncio twin of :class:`KEventClient` (aiohttp; a task reads each stream).

    Use it from one event loop; :meth:`aclose` closes its subscriptions and its session.
    """

    def __init__(
        self,
        url: str,
        *,
        token: core.TokenSource = None,
        timeout: float = core.DEFAULT_TIMEOUT,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._target = core.Target(url, token, timeout)
        self._ssl: ssl.SSLContext | bool = ssl_context if ssl_context is not None else True
        self._session: aiohttp.ClientSession | None = None
        self._subscriptions: weakref.WeakSet[AsyncKEventSubscription] = weakref.WeakSet()

    @property
    def url(self) -> str:
        return self._target.url

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                read_bufsize=core.MAX_LINE,
                timeout=aiohttp.ClientTimeout(total=None, connect=self._target.timeout),
            )
        return self._session

    async def publish(
        self,
        eventid: str,
        data: Any = None,
        *,
        audience: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        """Publish one event (a global id, JSON data of at most 64 KiB); ``audience`` as
        :meth:`KEventClient.publish <buckyos.runtime.client.KEventClient.publish>`."""
        target = self._target
        body = target.publish_request(eventid, data, audience)
        try:
            async with self._http().post(
                target.publish_url,
                data=body,
                headers=target.headers(),
                timeout=aiohttp.ClientTimeout(total=target.timeout),
                ssl=self._ssl,
                allow_redirects=False,
            ) as response:
                status, answer = response.status, await response.read()
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise target.unreachable(target.publish_url, exc) from exc
        target.publish_answer(status, answer)

    async def subscribe(
        self,
        patterns: Sequence[str],
        *,
        keepalive_ms: int | None = DEFAULT_KEEPALIVE_MS,
        queue_size: int = DEFAULT_READER_CAPACITY,
        reconnect: core.KEventReconnect | None = None,
    ) -> AsyncKEventSubscription:
        """:meth:`KEventClient.subscribe`, awaited: returns once the stream is
        acknowledged; ``async for event in subscription``."""
        state = core.StreamState(
            self._target, patterns, keepalive_ms, queue_size, reconnect or core.KEventReconnect()
        )
        subscription = AsyncKEventSubscription(self, state)
        self._subscriptions.add(subscription)
        await subscription._start(self._target.timeout)
        return subscription

    async def aclose(self) -> None:
        """Close every open subscription and the HTTP session."""
        for subscription in list(self._subscriptions):
            await subscription.aclose()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> AsyncKEventClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


class AsyncKEventSubscription(core.Counters):
    """:class:`KEventSubscription` for asyncio: ``async for``, ``await get(timeout)``,
    ``await aclose()``; the same counters."""

    def __init__(self, client: AsyncKEventClient, state: core.StreamState) -> None:
        self._client = client
        self._state = state
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def _start(self, within: float) -> None:
        self._task = asyncio.create_task(
            self._run(), name=f"kevent-stream {self._state.patterns[0]}"
        )
        deadline = asyncio.get_running_loop().time() + within
        state = self._state
        while not state.ready and state.error is None:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                break
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), left)
        error = state.error
        if error is None and not state.ready:
            error = state.no_ack(within)
        if error is not None:
            await self.aclose()
            raise error

    async def get(self, timeout: float | None = None) -> KEvent | None:
        """The next event; ``None`` after ``timeout`` seconds or once closed."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            event = self._state.take()
            if event is not None:
                return event
            if self._state.closed:
                return None
            left = None if deadline is None else deadline - loop.time()
            if left is not None and left <= 0:
                return None
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), left)
            except TimeoutError:
                return None

    def __aiter__(self) -> AsyncIterator[KEvent]:
        return self

    async def __anext__(self) -> KEvent:
        event = await self.get()
        if event is None:
            raise StopAsyncIteration
        return event

    async def aclose(self) -> None:
        """Stop reading; idempotent."""
        self._state.closed = True
        self._changed.set()
        task, self._task = self._task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def __aenter__(self) -> AsyncKEventSubscription:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- the reader task

    async def _run(self) -> None:
        state = self._state
        while not state.closed:
            try:
                reason = await self._read_stream()
            except Exception as exc:  # FatalStreamError, or a bug (a token callable's error)
                if not state.closed:
                    state.error = core.reader_error(exc)
                self._changed.set()
                return
            if state.closed:
                return
            delay = state.failed(reason)
            self._changed.set()
            if delay is None:
                return
            await asyncio.sleep(delay)

    async def _read_stream(self) -> str:
        state, target = self._state, self._state.target
        state.opened()
        try:
            async with self._client._http().post(
                target.stream_url,
                data=state.body,
                headers=target.headers(stream=True),
                ssl=self._client._ssl,
                allow_redirects=False,
                # the answer's head within timeout; each line is timed below
                timeout=aiohttp.ClientTimeout(
                    total=None,
                    connect=target.timeout,
                    sock_read=max(target.timeout, core.DEAD_AFTER * state.keepalive_ms / 1000),
                ),
            ) as response:
                if response.status != 200:
                    body = await response.content.read(1 << 16)
                    error = core.answer_error(response.status, body, target.stream_url)
                    if core.transient_status(response.status):
                        return core.failure_reason(error)
                    raise core.FatalStreamError(error)
                while True:
                    line = await asyncio.wait_for(response.content.readline(), state.read_timeout())
                    if not line:
                        return "the server ended the stream"
                    state.on_line(line)
                    self._changed.set()
        except TimeoutError:
            return f"no line for {state.read_timeout():g} s (dead stream)"
        except ValueError as exc:  # aiohttp: a line over its buffer
            raise core.FatalStreamError(KEventError("", f"{target.stream_url}: {exc}")) from exc
        except (aiohttp.ClientError, OSError) as exc:
            return core.failure_reason(target.unreachable(target.stream_url, exc))
