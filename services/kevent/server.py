"""Serve a :class:`~.app.KEventApp` with the runtime's ``AsgiServer``.

:func:`kevent_serving` is an async context manager for the process entry, tests and
embedding: it listens on ``host:port`` (a port in use is a plain ``OSError``; 0 picks a
free one), yields ``http://host:port`` once uvicorn has started, and on exit first ends
every stream and pull (:meth:`KEventApp.close`, so an open stream does not hold the stop
for its grace), then stops the server.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Final

from buckyos.runtime.server import AsgiServer
from buckyos.runtime.wire import KEVENT_PORT

from .app import KEventApp

__all__ = ["DEFAULT_PORT", "kevent_serving", "url_of"]

DEFAULT_PORT: Final = KEVENT_PORT
"""node-daemon's kevent port upstream (3181), where the node gateway forwards
``/kapi/kevent/*``."""


def url_of(host: str, port: int) -> str:
    """``http://host:port`` (an IPv6 host in brackets)."""
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


@contextlib.asynccontextmanager
async def kevent_serving(
    app: KEventApp,
    *,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    log_level: str = "info",
    grace: float = 5.0,
) -> AsyncIterator[str]:
    """Serve ``app`` on ``host:port`` while the block runs; yields its base URL."""
    server = AsgiServer(app, log_level=log_level, grace=grace)
    bound = await server.start(host, port)
    try:
        yield url_of(host, bound)
    finally:
        app.close()
        await server.stop()
