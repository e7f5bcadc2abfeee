"""The binding's events: ``make_event``, ``broadcast`` and the apis' ``onevent`` hooks.

``make_event(name)`` gives ``<api>/<name>``; ``push`` reaches the link connections a verb
subscribed (``req.subscribe``), ``broadcast`` every link and every api's ``onevent``
hook.  Both are thread-safe and never wait for a slow reader (see
:mod:`~buckyos.runtime.wire.events`); the links themselves are served by the kRPC app
(WebSocket) and the gRPC server (a bidirectional stream).
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

from buckyos.runtime.server.core import BindingCore
from buckyos.runtime.server.jobs import running_loop
from buckyos.runtime.wire.events import BroadcastResult, Event, EventHub, Mirror

__all__ = ["BindingEvents"]


class BindingEvents(BindingCore):
    """Events of the apis served (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__()
        self.events = EventHub()
        """Events, link connections and their subscriptions (the links attach here)."""
        self.events.on_broadcast = self._schedule_onevent
        self._hook_tasks: set[asyncio.Task[int]] = set()

    async def onevent(self, name: str, data: Any) -> int:
        """Give an event to every api's ``onevent`` hook; how many took it.

        A hook that raises is logged and does not stop the others.
        """
        delivered = 0
        for api in list(self._apis.values()):
            hook = api.onevent
            if hook is None:
                continue
            try:
                result = hook(name, data)
                if inspect.isawaitable(result):
                    await result
                delivered += 1
            except Exception:
                self.logger.exception("api %s: onevent(%r) raised", api.name, name)
        return delivered

    def make_event(self, name: str, api: str | None = None) -> Event:
        """The event ``<api>/<name>`` (the same object when made again).

        ``api`` defaults as in :meth:`require_api`: the api whose hook is running, else the
        only api served.  Push it from anywhere (handlers, threads, timer tasks).
        """
        return self.events.event(self._owner_api(api, "make_event").name, name)

    def mirror_events(self, mirror: Mirror | None, api: str | None = None) -> str:
        """Copy every event of ``api`` (defaulting as in :meth:`make_event`) pushed or
        broadcast to ``mirror`` as well (``None``: no more); the api's name.  The opt-in
        behind :func:`~buckyos.runtime.program.publish_events_to_kevent`."""
        name = self._owner_api(api, "mirror_events").name
        self.events.set_mirror(name, mirror)
        return name

    def broadcast(self, event: Event | str, data: Any = None) -> BroadcastResult:
        """Send ``event`` (an :class:`Event` or a full ``api/name``) to every link and hook.

        Links get it at once; the ``onevent`` hooks run as a task on the binding's loop
        (from any thread), so ``hooks`` counts the hooks it was handed to.  Use
        :meth:`abroadcast` to wait for them.
        """
        return self.events.broadcast(self._event_name(event), data)

    async def abroadcast(self, event: Event | str, data: Any = None) -> BroadcastResult:
        """:meth:`broadcast`, awaiting the hooks; ``hooks`` counts those that did not raise."""
        name = self._event_name(event)
        links = self.events.broadcast_links(name, data)
        return BroadcastResult(links, await self.onevent(name, data))

    def _event_name(self, event: Event | str) -> str:
        if isinstance(event, Event):
            if event.hub is not self.events:
                raise ValueError(f"event {event.name} belongs to another binding")
            return event.name
        if not isinstance(event, str) or "/" not in event:
            raise ValueError(f"broadcast takes an Event or an 'api/name' string, not {event!r}")
        return event

    def _schedule_onevent(self, name: str, data: Any) -> int:
        """Hand a broadcast to the ``onevent`` hooks on the binding's loop; how many."""
        count = sum(1 for api in self._apis.values() if api.onevent is not None)
        if count == 0:
            return 0
        running = running_loop()
        loop = self._loop or running
        if loop is None or loop.is_closed():
            self.logger.warning("broadcast %s: no event loop yet, onevent hooks skipped", name)
            return 0
        if running is loop:
            task = loop.create_task(self.onevent(name, data))
            self._hook_tasks.add(task)  # a strong reference until it ran
            task.add_done_callback(self._hook_tasks.discard)
        else:
            asyncio.run_coroutine_threadsafe(self.onevent(name, data), loop)
        return count
