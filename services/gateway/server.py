"""Run the gateway app under uvicorn (httptools when installed) on one listening socket.

``gateway_serving`` is an async context manager for tests and embedding: it binds the
socket itself (so a port in use is a plain ``OSError`` and port 0 resolves at once), waits
until uvicorn has started (lifespan included), yields the base URL and stops uvicorn on
exit, which closes the app's connections and instance pool through the lifespan.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from typing import Any, Final

import uvicorn

__all__ = ["DEFAULT_PORT", "gateway_serving"]

DEFAULT_PORT: Final = 3180
"""The node gateway's port (``buckyos-protocol.md`` section 4)."""

ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling (the caller owns signals) and with an event
    set once it listens."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.listening = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self.listening.set()


def _listen_socket(host: str, port: int) -> socket.socket:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except BaseException:
        sock.close()
        raise
    return sock


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
    http = "httptools" if importlib.util.find_spec("httptools") is not None else "auto"
    config = uvicorn.Config(
        app,
        http=http,
        lifespan="on",
        log_level=log_level,
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=grace,
    )
    server = _Server(config)
    sock = _listen_socket(host, port)
    bound: int = sock.getsockname()[1]
    task = asyncio.create_task(server.serve(sockets=[sock]), name=f"gateway:{bound}")
    listening = asyncio.create_task(server.listening.wait())
    try:
        await asyncio.wait((task, listening), return_when=asyncio.FIRST_COMPLETED)
    finally:
        listening.cancel()
    if task.done():
        sock.close()
        error = None if task.cancelled() else task.exception()
        raise RuntimeError(f"the gateway did not start on {host}:{port}") from error
    try:
        yield _url(host, bound)
    finally:
        server.should_exit = True
        with contextlib.suppress(SystemExit):
            await task
        sock.close()
