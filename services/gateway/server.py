"""Run the gateway app with the runtime's :class:`~buckyos.runtime.server.serve.AsgiServer`.

``gateway_serving`` is an async context manager for tests and embedding: it listens on
``host:port`` (a port in use is a plain ``OSError``, port 0 resolves at once), waits until
uvicorn has started (lifespan included), yields the base URL and stops on exit, which
closes the app's connections and instance pool through the lifespan.

Stopping drains: the app's ``drain(grace)`` (``GatewayApp.drain``: new calls refused,
calls in flight answered by their instance or, at 80% of the grace, cut short with a kRPC
error) runs beside uvicorn's shutdown, which stops accepting connections at once and
waits up to ``grace`` seconds for the answers to go out.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Final

from buckyos.runtime.client import DEFAULT_GATEWAY_PORT
from buckyos.runtime.server import AsgiServer

__all__ = ["DEFAULT_PORT", "gateway_serving"]

DEFAULT_PORT: Final = DEFAULT_GATEWAY_PORT
"""The node gateway's port (``buckyos-protocol.md`` section 4), where the runtime's
clients look for it."""

ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]


def _url(host: str, port: int) -> str:
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


@contextlib.asynccontextmanager
async def gateway_serving(
    app: ASGIApp,
    *,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    log_level: str = "info",
    grace: float = 5.0,
) -> AsyncIterator[str]:
    """Serve ``app`` (a ``GatewayApp``, or any ASGI app) on ``host:port`` (0 picks a port)
    while the block runs; yields ``http://host:port``.  Raises ``OSError`` when the port is
    taken.  On exit, an app with a ``drain(grace)`` coroutine method (``GatewayApp``)
    drains its requests in flight while the server stops (see the module docstring)."""
    server = AsgiServer(app, log_level=log_level, grace=grace)
    bound = await server.start(host, port)
    try:
        yield _url(host, bound)
    finally:
        drain: Callable[[float], Awaitable[None]] | None = getattr(app, "drain", None)
        cut = asyncio.ensure_future(drain(grace)) if drain is not None else None
        try:
            await server.stop()
        finally:
            if cut is not None:
                cut.cancel()
                await asyncio.wait((cut,))
