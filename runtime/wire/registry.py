"""The in-process registry: which dispatcher serves an api in this process, and its loop.

``serve`` registers each binding it serves; the in-process transport and the runtime's
router look apis up here.  It also remembers the event loop a dispatcher was registered
from (the loop ``serve`` runs in): in-process calls are run on that loop, because a binding
may hold loop-bound state (locks, queues, executors) that another loop must not touch.
It sits below both sides, so that neither the server nor the client imports the other.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass

from buckyos.runtime.errors import ConfigError
from buckyos.runtime.wire.dispatch import Dispatcher

__all__ = ["home_loop", "lookup", "register", "registered", "unregister"]


@dataclass(frozen=True, slots=True)
class _Entry:
    dispatcher: Dispatcher
    loop: asyncio.AbstractEventLoop | None


_lock = threading.Lock()
_registry: dict[str, _Entry] = {}


def register(dispatcher: Dispatcher, *, loop: asyncio.AbstractEventLoop | None = None) -> None:
    """Serve every api of ``dispatcher`` in this process.

    ``loop`` is the dispatcher's home loop; by default the loop running this call, if any.
    An api already registered by another dispatcher is a ``ConfigError``: two servers for
    one name in one process is a bug, not a failover.
    """
    if loop is None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
    apis = [service.api for service in dispatcher.services()]
    with _lock:
        for api in apis:
            entry = _registry.get(api)
            if entry is not None and entry.dispatcher is not dispatcher:
                raise ConfigError(
                    f"api {api!r} is already served in this process by {entry.dispatcher!r}"
                )
        for api in apis:
            _registry[api] = _Entry(dispatcher, loop)


def unregister(dispatcher: Dispatcher) -> None:
    """Forget every api ``dispatcher`` serves (no error when it was not registered)."""
    with _lock:
        for api in [api for api, entry in _registry.items() if entry.dispatcher is dispatcher]:
            del _registry[api]


def lookup(api: str) -> Dispatcher | None:
    """The dispatcher serving ``api`` in this process, or ``None``."""
    entry = _registry.get(api)
    return entry.dispatcher if entry is not None else None


def registered() -> tuple[str, ...]:
    """The apis served in this process, sorted."""
    with _lock:
        return tuple(sorted(_registry))


def home_loop(dispatcher: Dispatcher, api: str) -> asyncio.AbstractEventLoop | None:
    entry = _registry.get(api)
    if entry is None or entry.dispatcher is not dispatcher:
        return None
    loop = entry.loop
    if loop is None or loop.is_closed() or not loop.is_running():
        return None
    return loop
