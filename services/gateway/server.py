"""Run the gateway app with the runtime's :class:`~buckyos.runtime.server.serve.AsgiServer`.

``gateway_serving`` is an async context manager for tests and embedding: it listens on
``host:port`` (a port in use is a plain ``OSError``, port 0 resolves at once), waits until
uvicorn has started (lifespan included), yields the base URL and stops on exit, which
closes the app's connections and instance pool through the lifespan.
"""

from __future__ import annotations

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
    grace: int = 5,
) -> AsyncIterator[str]:
    """Serve ``app`` (a ``GatewayApp``, or any ASGI app) on ``host:port`` (0 picks a port)
    while the block runs; yields ``http://host:port``.  Raises ``OSError`` when the port is
    taken."""
    server = AsgiServer(app, log_level=log_level, grace=grace)
    bound = await server.start(host, port)
    try:
        yield _url(host, bound)
    finally:
        await server.stop()
