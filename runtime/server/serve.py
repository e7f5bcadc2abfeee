"""Serve one dispatcher on every wire at once, in one event loop.

``serve`` runs uvicorn (httptools, with the kRPC ASGI app and its WebSocket link) and a
``grpc.aio`` server (with the gRPC link) side by side in the caller's event loop,
registers the dispatcher for in-process calls, and stops all three cleanly on
SIGTERM/SIGINT or when its task is cancelled.  One loop, not one per wire: the binding
behind the dispatcher is asyncio code with loop-bound state,
and both servers were checked to share a loop (plain asyncio or uvloop, grpcio 1.85).

``serving`` is the same as an async context manager, for tests and for programs that run
other things next to the servers; ``run`` is the blocking entry point for a service's
``main`` (uvloop when installed).  What a service process adds around them (its exit
code, its ready lines) is :mod:`buckyos.runtime.server.process`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import math
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from dataclasses import dataclass
from typing import Any, Final

import uvicorn

from buckyos.runtime.server.grpc_server import GrpcServer
from buckyos.runtime.server.http_limits import HttpLimits, protocol_class, sweep
from buckyos.runtime.server.krpc_server import KrpcApp
from buckyos.runtime.server.process import run_async, stop_signals
from buckyos.runtime.wire import registry
from buckyos.runtime.wire.dispatch import Dispatcher
from buckyos.runtime.wire.link import MAX_FRAME

__all__ = [
    "LOG_LEVELS",
    "AsgiServer",
    "HttpLimits",
    "ServerInfo",
    "add_server_options",
    "run",
    "serve",
    "serving",
]

LOG_LEVELS: Final = ("critical", "error", "warning", "info", "debug")

_log = logging.getLogger("buckyos.runtime.server.serve")


@dataclass(slots=True)
class ServerInfo:
    """Where the servers listen: the bound ports (a port given as 0 is resolved here)."""

    host: str = "127.0.0.1"
    krpc_port: int | None = None
    grpc_port: int | None = None
    apis: tuple[str, ...] = ()

    @property
    def krpc_url(self) -> str | None:
        """``http://host:port``; append ``/kapi/<api>`` for an endpoint."""
        if self.krpc_port is None:
            return None
        return f"http://{_url_host(self.host)}:{self.krpc_port}"

    @property
    def grpc_target(self) -> str | None:
        """``host:port`` as grpc channels take it."""
        if self.grpc_port is None:
            return None
        return f"{_url_host(self.host)}:{self.grpc_port}"

    def listening_lines(self) -> list[str]:
        """``kRPC listening on <url>`` / ``gRPC listening on <target>``: what a service
        process prints once ready, and what a supervisor (``buckyos zone``) reads back."""
        lines = []
        if self.krpc_url is not None:
            lines.append(f"kRPC listening on {self.krpc_url}")
        if self.grpc_target is not None:
            lines.append(f"gRPC listening on {self.grpc_target}")
        return lines


def add_server_options(parser: argparse.ArgumentParser, *, krpc_port: int) -> None:
    """The options every service process takes: ``--host``, ``--krpc-port`` (default
    ``krpc_port``), ``--grpc-port`` (default 0: a free one) or ``--no-grpc``,
    ``--log-level``."""
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument(
        "--krpc-port", type=int, default=krpc_port, help=f"kRPC port ({krpc_port}; 0: any free)"
    )
    grpc = parser.add_mutually_exclusive_group()
    grpc.add_argument("--grpc-port", type=int, default=0, help="gRPC port (default 0: any free)")
    grpc.add_argument("--no-grpc", action="store_true", help="do not serve gRPC")
    parser.add_argument(
        "--log-level", default="info", choices=LOG_LEVELS, help="log level (logs go to stderr)"
    )


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


class _Uvicorn(uvicorn.Server):
    """uvicorn without its signal capture (``serve`` owns the signals), with a startup
    event, so the bound port is known before anyone is told we are ready, and with the
    sweep that closes connections whose request head or body took too long
    (``http_limits``)."""

    def __init__(self, config: uvicorn.Config, limits: HttpLimits) -> None:
        super().__init__(config)
        self.bound = asyncio.Event()
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
    ``"h11"``.

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
    ) -> None:
        limits = limits if limits is not None else HttpLimits()
        options: dict[str, Any] = {} if ws_max_size is None else {"ws_max_size": ws_max_size}
        config = uvicorn.Config(
            app,
            http=protocol_class(limits, http),
            h11_max_incomplete_event_size=limits.max_head_bytes,
            proxy_headers=False,
            lifespan="on",
            log_level=log_level,
            access_log=False,
            server_header=False,
            timeout_graceful_shutdown=math.ceil(grace),
            **options,
        )
        self._server = _Uvicorn(config, limits)
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


@contextlib.asynccontextmanager
async def serving(
    dispatcher: Dispatcher,
    *,
    host: str = "127.0.0.1",
    krpc_port: int | None,
    grpc_port: int | None,
    log_level: str = "info",
    grace: float = 5.0,
    info: ServerInfo | None = None,
    register: bool = True,
) -> AsyncIterator[ServerInfo]:
    """Run the servers while the block runs; ``None`` turns a wire off, 0 picks a port.

    ``info`` (or a new :class:`ServerInfo`) is filled with the bound ports and yielded.
    ``register=False`` keeps the dispatcher out of the in-process registry (a second
    instance of an api in one process, as tests of failover need).  On exit the
    in-process registration goes first, then both servers stop together, giving calls in
    flight ``grace`` seconds.
    """
    info = info if info is not None else ServerInfo()
    info.host = host
    info.apis = tuple(service.api for service in dispatcher.services())
    grpc_server: GrpcServer | None = None
    krpc: AsgiServer | None = None
    registered = False
    try:
        if grpc_port is not None:
            grpc_server = GrpcServer(dispatcher)
            info.grpc_port = await grpc_server.start(host, grpc_port)
        if krpc_port is not None:
            # The WebSocket link's frame cap is enforced while reading (close 1009).
            krpc = AsgiServer(
                KrpcApp(dispatcher), log_level=log_level, grace=grace, ws_max_size=MAX_FRAME
            )
            info.krpc_port = await krpc.start(host, krpc_port)
        if register:
            registry.register(dispatcher)
            registered = True
        _log.info(
            "serving %s: kRPC %s, gRPC %s, in-process %s",
            ", ".join(info.apis),
            info.krpc_url or "off",
            info.grpc_target or "off",
            "on" if registered else "off",
        )
        yield info
    finally:
        if registered:
            registry.unregister(dispatcher)
        stops: list[Any] = []
        if krpc is not None:
            stops.append(krpc.stop())
        if grpc_server is not None:
            stops.append(grpc_server.stop(grace))
        if stops:
            await asyncio.gather(*stops)


async def serve(
    dispatcher: Dispatcher,
    *,
    host: str = "127.0.0.1",
    krpc_port: int | None,
    grpc_port: int | None,
    log_level: str = "info",
    ready: asyncio.Event | None = None,
    info: ServerInfo | None = None,
    grace: float = 5.0,
    handle_signals: bool = True,
    on_ready: Callable[[ServerInfo], Awaitable[None] | None] | None = None,
) -> ServerInfo:
    """Serve ``dispatcher`` until SIGTERM/SIGINT or cancellation, then stop cleanly.

    ``ready`` is set once every wire listens; by then ``info`` (if given) holds the bound
    ports.  ``on_ready(info)`` is called then too: a service process prints its ready
    lines there (``process.print_ready(info.listening_lines())``); an exception it raises
    stops the servers and propagates.  When it returns an awaitable (an ``async def``),
    that runs next to the servers (startup work that needs them listening) and is
    cancelled when they stop; its failure is logged.  Signals are handled only in the
    main thread (where Python delivers them) and the handlers are removed on return.
    """
    with stop_signals(handle_signals) as stop:
        async with serving(
            dispatcher,
            host=host,
            krpc_port=krpc_port,
            grpc_port=grpc_port,
            log_level=log_level,
            grace=grace,
            info=info,
        ) as served:
            if ready is not None:
                ready.set()
            started = on_ready(served) if on_ready is not None else None
            after = asyncio.ensure_future(started) if started is not None else None
            try:
                await stop.wait()
                _log.info("stopping: signal received")
            finally:
                if after is not None:
                    await _cancel(after)
    return served


async def _cancel(task: asyncio.Future[None]) -> None:
    """Cancel ``on_ready``'s work and wait for it; log how it failed, if it did."""
    task.cancel()
    await asyncio.wait((task,))
    if not task.cancelled() and task.exception() is not None:
        _log.error("startup after ready failed", exc_info=task.exception())


def run(
    dispatcher: Dispatcher,
    *,
    host: str = "127.0.0.1",
    krpc_port: int | None,
    grpc_port: int | None,
    log_level: str = "info",
    grace: float = 5.0,
) -> ServerInfo:
    """Blocking ``serve`` for a service's ``main``: a fresh loop, uvloop when installed
    (:func:`~buckyos.runtime.server.process.run_service` adds the ready lines and the
    exit code)."""
    return run_async(
        lambda: serve(
            dispatcher,
            host=host,
            krpc_port=krpc_port,
            grpc_port=grpc_port,
            log_level=log_level,
            grace=grace,
        )
    )
