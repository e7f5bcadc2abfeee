"""Binder events: named events, subscriptions per link connection, push and broadcast.

The AGL binder's model (``binding-model.md``, Events), kept as is:

- ``binding.make_event("changed")`` gives the event ``<api>/changed``;
- a verb called over a streaming link subscribes its caller's connection with
  ``req.subscribe(event)`` (twice counts once), before it replies;
- ``event.push(data)`` sends to every subscribed connection and returns how many took it;
  ``event.broadcast(data)`` sends to every connected link and every api's ``onevent``;
- subscriptions belong to the connection and vanish with it: a closed connection is
  detached first, so nothing is ever delivered to it afterwards (a known binder pitfall).

Connections are :class:`Listener` objects (a link's session, see
:mod:`buckyos.runtime.wire.link`) whose ``deliver`` never blocks: a slow consumer cannot hold up
a push for the others.  The registry is guarded by one lock, so pushing is safe from async
handlers, from sync handlers in worker threads and from outside any request (a timer).
Event data is encoded to JSON once per push, before anything is delivered, so bad data is
a clear ``TypeError``/``ValueError`` for the pusher and nobody gets half of it.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any, Final, NamedTuple, Protocol

from buckyos.runtime.errors import ReasonError
from buckyos.runtime.wire import jsontext

__all__ = [
    "GRPC_LINK_METHOD",
    "WS_LINK_PATH",
    "WS_SUBPROTOCOL",
    "BroadcastHook",
    "BroadcastResult",
    "Event",
    "EventHub",
    "LinkScope",
    "Listener",
    "Mirror",
    "link_hub",
    "no_link_error",
]

WS_LINK_PATH: Final = "/kapi/link"
"""Where the WebSocket link listens, on the kRPC HTTP port."""
WS_SUBPROTOCOL: Final = "x-afb-ws-json1"
"""The binder's WebSocket subprotocol, accepted when the client offers it."""
GRPC_LINK_METHOD: Final = "/buckyos.Link/Connect"
"""The gRPC link: one bidirectional stream of ``buckyos.LinkFrame``."""

_EVENT_NAME: Final = re.compile(r"[A-Za-z0-9_.:-][A-Za-z0-9_.:/-]*")


def no_link_error(transport: str, api: str, verb: str) -> ReasonError:
    """The refusal for ``subscribe`` on a request that has no connection to hold it."""
    return ReasonError(
        f"events need a streaming link: this {transport} request cannot hold a subscription; "
        f"call {api}/{verb} over the WebSocket link (ws://<host>:<krpc port>{WS_LINK_PATH}, "
        f"subprotocol {WS_SUBPROTOCOL}) or the gRPC link ({GRPC_LINK_METHOD})"
    )


class Listener(Protocol):
    """A connection events are delivered to (a link session)."""

    def deliver(self, name: str, data: str) -> bool:
        """Queue event ``name`` with JSON text ``data``; never block.  Whether it was taken."""
        ...


Mirror = Callable[[str, str], None]
"""Where an api's events are copied besides the links: called with ``api/name`` and the
data's JSON text, from the pusher's thread; it must return at once."""


class BroadcastResult(NamedTuple):
    """What a broadcast reached: links it was queued to, ``onevent`` hooks it was given."""

    links: int
    hooks: int

    @property
    def total(self) -> int:
        return self.links + self.hooks


BroadcastHook = Callable[[str, Any], int]
"""Gives a broadcast event to the binding's ``onevent`` hooks; how many it reached."""


class Event:
    """A named event of one api (``api/name``), made by ``Binding.make_event``."""

    __slots__ = ("_hub", "api", "name", "short")

    def __init__(self, hub: EventHub, api: str, short: str) -> None:
        self._hub = hub
        self.api = api
        self.short = short
        self.name = f"{api}/{short}"
        """The full name, as event frames carry it."""

    def __repr__(self) -> str:
        return f"<Event {self.name} subscribers={self.subscribers}>"

    @property
    def hub(self) -> EventHub:
        return self._hub

    @property
    def subscribers(self) -> int:
        """How many connections are subscribed now."""
        return self._hub.subscriber_count(self.name)

    def push(self, data: Any = None) -> int:
        """Send ``data`` to every subscribed connection; how many took it (thread-safe)."""
        return self._hub.push(self.name, data)

    def broadcast(self, data: Any = None) -> BroadcastResult:
        """Send ``data`` to every connected link and every api's ``onevent`` hook."""
        return self._hub.broadcast(self.name, data)


class LinkScope:
    """One call's handle on its connection: what ``req.subscribe`` works through.

    Made by the link for each call frame and finished once the call is answered, after
    which subscribing is refused (the binder's "before the reply" rule).
    """

    __slots__ = ("_hub", "_listener", "_open", "transport")

    def __init__(self, hub: EventHub, listener: Listener, transport: str) -> None:
        self._hub = hub
        self._listener = listener
        self._open = True
        self.transport = transport

    def subscribe(self, event: Event, where: str) -> bool:
        """Subscribe the connection; ``False`` when it already was."""
        return self._hub.subscribe(self, event, where)

    def unsubscribe(self, event: Event, where: str, last: Any = None) -> bool:
        """Unsubscribe the connection; whether it was subscribed (``last``: see the hub)."""
        return self._hub.unsubscribe(self, event, where, last)

    def finish(self) -> None:
        """The call is answered: no more subscription changes through this scope."""
        with self._hub.lock:
            self._open = False


class EventHub:
    """The event registry of one binding: events, connected links, subscriptions."""

    __slots__ = ("_events", "_links", "_mirrors", "_subs", "lock", "on_broadcast")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._events: dict[str, Event] = {}
        # Connected links, each with the events it is subscribed to.
        self._links: dict[Listener, set[str]] = {}
        # Event name -> subscribed links (a dict keeps subscription order).
        self._subs: dict[str, dict[Listener, None]] = {}
        self.on_broadcast: BroadcastHook | None = None
        """Called by :meth:`broadcast` for the binding's ``onevent`` hooks."""
        # api -> where its events are copied (kevent, for an api that opted in).
        self._mirrors: dict[str, Mirror] = {}

    def __repr__(self) -> str:
        return f"<EventHub events={len(self._events)} links={len(self._links)}>"

    # -- events

    def event(self, api: str, name: str) -> Event:
        """The event ``api/name`` (made on first use; the same object afterwards)."""
        if not isinstance(name, str) or not _EVENT_NAME.fullmatch(name):
            raise ValueError(
                f"event name {name!r} is not valid: use letters, digits and _ . : - / "
                "(not starting with /)"
            )
        full = f"{api}/{name}"
        with self.lock:
            event = self._events.get(full)
            if event is None:
                event = self._events[full] = Event(self, api, name)
            return event

    def events(self) -> tuple[Event, ...]:
        """Every event made so far."""
        with self.lock:
            return tuple(self._events.values())

    # -- connections

    def attach(self, listener: Listener) -> None:
        """A link connected: it receives broadcasts and may subscribe."""
        with self.lock:
            self._links.setdefault(listener, set())

    def detach(self, listener: Listener) -> int:
        """A link closed: drop it and every subscription it held; how many there were."""
        with self.lock:
            names = self._links.pop(listener, None)
            if not names:
                return 0
            for name in names:
                subs = self._subs.get(name)
                if subs is not None:
                    subs.pop(listener, None)
                    if not subs:
                        del self._subs[name]
            return len(names)

    @property
    def links(self) -> int:
        """How many links are connected."""
        with self.lock:
            return len(self._links)

    def scope(self, listener: Listener, transport: str) -> LinkScope:
        """A call's handle on its connection (see :class:`LinkScope`)."""
        return LinkScope(self, listener, transport)

    # -- subscriptions

    def _check(self, scope: LinkScope, event: Event, what: str, where: str) -> set[str]:
        """The scope's subscription set, or the reason it cannot change (lock held)."""
        if not isinstance(event, Event):
            raise TypeError(f"{what} takes an Event (from binding.make_event), not {event!r}")
        if event.hub is not self:
            raise ReasonError(f"{where}: event {event.name} belongs to another binding")
        if not scope._open:
            raise ReasonError(
                f"{where}: {what}({event.name}) after the reply; "
                "a verb must (un)subscribe before it answers"
            )
        names = self._links.get(scope._listener)
        if names is None:
            raise ReasonError(f"{where}: the caller's link closed; nothing to {what}")
        return names

    def subscribe(self, scope: LinkScope, event: Event, where: str) -> bool:
        """Subscribe ``scope``'s connection to ``event``; ``False`` when it already was."""
        with self.lock:
            names = self._check(scope, event, "subscribe", where)
            if event.name in names:
                return False
            names.add(event.name)
            self._subs.setdefault(event.name, {})[scope._listener] = None
            return True

    def unsubscribe(self, scope: LinkScope, event: Event, where: str, last: Any = None) -> bool:
        """Unsubscribe ``scope``'s connection from ``event``; whether it was subscribed.

        If it was and ``last`` is not ``None``, ``last`` goes to that connection alone as
        one last event of ``event`` (not mirrored: it is this link's, not the event's).
        """
        text = None if last is None else jsontext.dumps_text(last)
        with self.lock:
            names = self._check(scope, event, "unsubscribe", where)
            if event.name not in names:
                return False
            names.discard(event.name)
            subs = self._subs.get(event.name)
            if subs is not None:
                subs.pop(scope._listener, None)
                if not subs:
                    del self._subs[event.name]
        if text is not None:
            scope._listener.deliver(event.name, text)
        return True

    def subscriber_count(self, name: str) -> int:
        """How many connections are subscribed to the event ``name``."""
        with self.lock:
            subs = self._subs.get(name)
            return 0 if subs is None else len(subs)

    def set_mirror(self, api: str, mirror: Mirror | None) -> None:
        """Copy every event of ``api`` pushed or broadcast (``None``: stop) to ``mirror``,
        called with the event's name and JSON text; it must not block."""
        with self.lock:
            if mirror is None:
                self._mirrors.pop(api, None)
            else:
                self._mirrors[api] = mirror

    def _mirror(self, name: str, text: str) -> None:
        mirror = self._mirrors.get(name.partition("/")[0])
        if mirror is not None:
            mirror(name, text)

    # -- delivery

    def push(self, name: str, data: Any = None) -> int:
        """Send to the subscribers of ``name``; how many took it."""
        text = jsontext.dumps_text(data)
        self._mirror(name, text)
        with self.lock:
            subs = self._subs.get(name)
            if not subs:
                return 0
            targets = tuple(subs)
        # Delivery outside the lock: a listener's queue has its own lock and never blocks.
        return sum(1 for listener in targets if listener.deliver(name, text))

    def broadcast_links(self, name: str, data: Any = None) -> int:
        """Send to every connected link, subscribed or not; how many took it."""
        text = jsontext.dumps_text(data)
        self._mirror(name, text)
        with self.lock:
            targets = tuple(self._links)
        return sum(1 for listener in targets if listener.deliver(name, text))

    def broadcast(self, name: str, data: Any = None) -> BroadcastResult:
        """Send to every connected link and to the ``onevent`` hooks (:attr:`on_broadcast`)."""
        links = self.broadcast_links(name, data)
        hook = self.on_broadcast
        return BroadcastResult(links, 0 if hook is None else hook(name, data))


def link_hub(dispatcher: object, link: bool | None) -> EventHub | None:
    """The event hub a link of ``dispatcher`` attaches to, or ``None`` for no link.

    ``None`` (auto) serves the link when the dispatcher has a hub (``events``, as a
    Binding has); ``True`` always does (a hub of its own when the dispatcher has none:
    calls work, events made elsewhere cannot be subscribed); ``False`` never.
    """
    if link is False:
        return None
    hub = getattr(dispatcher, "events", None)
    if isinstance(hub, EventHub):
        return hub
    return EventHub() if link else None
