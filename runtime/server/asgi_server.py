"""uvicorn for any ASGI app, in the running event loop: the kRPC wire and the node
gateway both run on :class:`AsgiServer`."""

from __future__ import annotations

import asyncio
import contextlib
import math
import socket
import ssl
from collections.abc import Generator
from typing import Any

import uvicorn

from buckyos.runtime.server.http_limits import HttpLimits, protocol_class, sweep

__all__ = ["AsgiServer"]


class _Uvicorn(uvicorn.Server):
    """uvicorn without its signal capture (``serve`` owns the signals), with a startup
    event, so the bound port is known before anyone is told we are ready, and with the
    sweep that closes connections whose request head or body took too long
    (``http_limits``)."""

    def __init__(
        self, config: uvicorn.Config, limits: HttpLimits, ssl_context: ssl.SSLContext | None
    ) -> None:
        super().__init__(config)
        self.bound = asyncio.Event()
        self._ssl = ssl_context
        # uvicorn ticks every 0.1 s; sweeping once per fifth of the shorter timeout (at
        # most once a second) closes a late head or body within 20% of its timeout.
        self._sweep_every = max(1, round(limits.sweep_every / 0.1))

    async def on_tick(self, counter: int) -> bool:
        if counter % self._sweep_every == 0:
            sweep(self.server_state.connections, asyncio.get_running_loop().time())
        return await super().on_tick(counter)

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        if self._ssl is not None:
            # uvicorn builds a context from files only; a ready one (node TLS, made in
            # memory and renewed in place) is handed to the listening sockets here.
            self.config.ssl = self._ssl
        await super().startup(sockets=sockets)
        self.bound.set()


def _bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound here so that a taken port is a plain ``OSError``
    (uvicorn would log and ``sys.exit``) and port 0 resolves before start."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.set_inheritable(True)
    except BaseException:
        sock.close()
        raise
    return sock


class AsgiServer:
    """Any ASGI app under uvicorn (httptools when installed) in the running loop.

    The kRPC wire and the node gateway both run on it.  ``start`` binds the socket itself
    (a taken port is a plain ``OSError``, port 0 resolves at once), waits until uvicorn has
    started (lifespan included) and returns the bound port; ``stop`` lets calls in flight
    finish for ``grace`` seconds.

    ``limits`` bounds what a client may make the server hold (:class:`HttpLimits`: 64 KiB
    and 100 header lines per request head, answered 431 beyond; 10 s to send a head and
    30 s more for its body, 408 beyond; 1,024 open connections, one more answered 503).
    ``http`` picks uvicorn's parser, ``"httptools"`` (the default when installed) or
    ``"h11"``.  ``ssl_context`` serves TLS (``https``/``wss``) instead of plain HTTP.

    ``X-Forwarded-For`` is not trusted (uvicorn trusts it from 127.0.0.1 by default): a
    client on the same host could otherwise choose the address the app sees.
    """

    def __init__(
        self,
        app: Any,
        *,
        log_level: str = "info",
        grace: float = 5.0,
        ws_max_size: int | None = None,
        limits: HttpLimits | None = None,
        http: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        limits = limits if limits is not None else HttpLimits()
        options: dict[str, Any] = {} if ws_max_size is None else {"ws_max_size": ws_max_size}
        config = uvicorn.Config(
            app,
            http=protocol_class(limits, http),
            h11_max_incomplete_event_size=limits.max_head_bytes,
            proxy_headers=False,
            lifespan="on",
            # uvicorn's own start and stop lines ("Started server process", "Waiting for
            # application startup", ...) repeat what the server says itself: debug only.
            log_level="warning" if log_level == "info" else log_level,
            access_log=False,
            server_header=False,
            timeout_graceful_shutdown=math.ceil(grace),
            **options,
        )
        self._server = _Uvicorn(config, limits, ssl_context)
        self._task: asyncio.Task[None] | None = None
        self._sock: socket.socket | None = None

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Listen on ``host:port``; the bound port once uvicorn has started."""
        if self._task is not None:
            raise RuntimeError("AsgiServer.start() called twice")
        sock = _bind(host, port)
        bound_port: int = sock.getsockname()[1]
        task = asyncio.create_task(self._server.serve(sockets=[sock]), name=f"uvicorn:{bound_port}")
        bound = asyncio.create_task(self._server.bound.wait())
        try:
            await asyncio.wait((task, bound), return_when=asyncio.FIRST_COMPLETED)
        finally:
            bound.cancel()
        if task.done():
            sock.close()
            error = task.exception() if not task.cancelled() else None
            raise RuntimeError(f"ASGI server did not start on {host}:{port}") from error
        self._task, self._sock = task, sock
        return bound_port

    async def stop(self) -> None:
        """Stop serving (calls in flight get the grace period); idempotent."""
        task, sock = self._task, self._sock
        if task is None:
            return
        self._server.should_exit = True
        try:
            await task
        except SystemExit:  # pragma: no cover - uvicorn's startup failure path
            pass
        finally:
            self._task = self._sock = None
            if sock is not None:
                sock.close()
