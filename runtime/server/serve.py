"""Serve one dispatcher on every wire at once, in one event loop.

A server is a dispatcher and its listeners (:mod:`~buckyos.runtime.server.listeners`):
by default uvicorn (httptools, with the kRPC ASGI app and its WebSocket link) and a
``grpc.aio`` server (with the gRPC link) side by side in the caller's event loop.
``serving`` starts them, registers the dispatcher for in-process calls, and stops all of
them cleanly.  One loop, not one per wire: the binding behind the dispatcher is asyncio
code with loop-bound state, and both servers were checked to share a loop (plain asyncio
or uvloop, grpcio 1.85).

``serve`` adds SIGTERM/SIGINT and a ready callback; ``run`` is the blocking entry point
for a service's ``main`` (uvloop when installed).  What a service process adds around
them (its exit code, its ready lines) is :mod:`buckyos.runtime.server.process`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, TypedDict, Unpack

from buckyos.runtime.errors import ConfigError
from buckyos.runtime.server.asgi_server import AsgiServer
from buckyos.runtime.server.drain import drainable
from buckyos.runtime.server.http_limits import HttpLimits
from buckyos.runtime.server.listeners import (
    GrpcListener,
    KrpcListener,
    Listener,
    Started,
    listener_kinds,
)
from buckyos.runtime.server.process import run_async, stop_signals
from buckyos.runtime.wire import registry
from buckyos.runtime.wire.dispatch import Dispatcher

__all__ = [
    "LOG_LEVELS",
    "AsgiServer",
    "HttpLimits",
    "ServeOptions",
    "ServerInfo",
    "add_server_options",
    "describe_listeners",
    "run",
    "serve",
    "server_listeners",
    "serving",
]

LOG_LEVELS: Final = ("critical", "error", "warning", "info", "debug")

_log = logging.getLogger("buckyos.runtime.server.serve")


@dataclass(slots=True)
class ServerInfo:
    """Where the servers listen, by wire (a port given as 0 is resolved here)."""

    host: str = "127.0.0.1"
    apis: tuple[str, ...] = ()
    ports: dict[str, int] = field(default_factory=dict)
    """Wire (``"krpc"``, ``"grpc"``, ...) -> the bound port."""
    addresses: dict[str, str] = field(default_factory=dict)
    """Wire -> how a client names it (``http://host:port``, ``host:port``)."""
    labels: dict[str, str] = field(default_factory=dict)
    """Wire -> its name in the ready lines (``kRPC``, ``gRPC``)."""

    @property
    def krpc_port(self) -> int | None:
        return self.ports.get(KrpcListener.wire)

    @property
    def grpc_port(self) -> int | None:
        return self.ports.get(GrpcListener.wire)

    @property
    def krpc_url(self) -> str | None:
        """``http://host:port``; append ``/kapi/<api>`` for an endpoint."""
        return self.addresses.get(KrpcListener.wire)

    @property
    def grpc_target(self) -> str | None:
        """``host:port`` as grpc channels take it."""
        return self.addresses.get(GrpcListener.wire)

    def listening_lines(self) -> list[str]:
        """``kRPC listening on <url>`` / ``gRPC listening on <target>``: what a service
        process prints once ready, and what a supervisor (``buckyos zone``) reads back."""
        return [
            f"{self.labels[wire]} listening on {address}"
            for wire, address in self.addresses.items()
        ]

    def _bound(self, listener: Listener[Any], started: Started) -> None:
        self.ports[listener.wire] = started.port
        self.addresses[listener.wire] = started.address
        self.labels[listener.wire] = listener.label


def add_server_options(
    parser: argparse.ArgumentParser, *, ports: Mapping[str, int] | None = None
) -> None:
    """The options every service process takes: ``--host``, then per wire
    ``--<wire>-port`` (default ``ports[wire]``, else 0: a free one) or ``--no-<wire>``,
    and ``--log-level``.  :func:`server_listeners` reads them back."""
    defaults = ports or {}
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    for kind in listener_kinds():
        default = defaults.get(kind.wire, 0)
        wire = parser.add_mutually_exclusive_group()
        wire.add_argument(
            f"--{kind.wire}-port",
            type=int,
            default=default,
            metavar="PORT",
            help=f"{kind.label} port ({default}; 0: any free)",
        )
        wire.add_argument(
            f"--no-{kind.wire}", action="store_true", help=f"do not serve {kind.label}"
        )
    parser.add_argument(
        "--log-level", default="info", choices=LOG_LEVELS, help="log level (logs go to stderr)"
    )


def server_listeners(args: argparse.Namespace) -> list[Listener[Any]]:
    """The listeners :func:`add_server_options`' options ask for."""
    listeners = [
        kind(port=getattr(args, f"{kind.wire}_port"))
        for kind in listener_kinds()
        if not getattr(args, f"no_{kind.wire}")
    ]
    if not listeners:
        flags = " and ".join(f"--no-{kind.wire}" for kind in listener_kinds())
        raise ConfigError(f"{flags} leave nothing to serve; drop one")
    return listeners


def describe_listeners(host: str, listeners: Sequence[Listener[Any]]) -> str:
    """``127.0.0.1 (kRPC port 3200, gRPC port 0)``: where a server tried to listen."""
    wires = ", ".join(f"{listener.label} port {listener.port}" for listener in listeners)
    return f"{host} ({wires})"


def _listeners(
    listeners: Sequence[Listener[Any]] | None, krpc_port: int | None, grpc_port: int | None
) -> list[Listener[Any]]:
    if listeners is None:
        chosen: list[Listener[Any]] = []
        if krpc_port is not None:
            chosen.append(KrpcListener(krpc_port))
        if grpc_port is not None:
            chosen.append(GrpcListener(grpc_port))
        return chosen
    if krpc_port is not None or grpc_port is not None:
        raise TypeError("give listeners or the krpc_port/grpc_port shorthand, not both")
    return list(listeners)


@contextlib.asynccontextmanager
async def serving(
    dispatcher: Dispatcher,
    *,
    host: str = "127.0.0.1",
    listeners: Sequence[Listener[Any]] | None = None,
    krpc_port: int | None = None,
    grpc_port: int | None = None,
    log_level: str = "info",
    grace: float = 5.0,
    info: ServerInfo | None = None,
    register: bool = True,
) -> AsyncIterator[ServerInfo]:
    """Run the servers while the block runs.

    ``listeners`` are the wires (:class:`~buckyos.runtime.server.listeners.KrpcListener`,
    :class:`~buckyos.runtime.server.listeners.GrpcListener`, a wire of one's own), started
    in order; ``krpc_port`` / ``grpc_port`` are the shorthand for the two built-in ones
    (``None`` leaves a wire off, 0 picks a port).  ``info`` (or a new
    :class:`ServerInfo`) is filled with the bound ports and yielded.  ``register=False``
    keeps the dispatcher out of the in-process registry (a second instance of an api in
    one process, as tests of failover need).  On exit the in-process registration goes
    first, then every listener stops together, giving calls in flight ``grace`` seconds:
    the ones still running at 80% of it are cut short and answered
    ``ServiceNotValidError`` (:mod:`~buckyos.runtime.server.drain`).
    """
    chosen = _listeners(listeners, krpc_port, grpc_port)
    info = info if info is not None else ServerInfo()
    info.host = host
    info.apis = tuple(service.api for service in dispatcher.services())
    running: list[Started] = []
    registered = False
    draining = drainable(dispatcher)  # what the listeners call: it can end calls in flight
    draining.attach_server()
    try:
        for listener in chosen:
            started = await listener.start(
                draining, listener.host or host, log_level=log_level, grace=grace
            )
            running.append(started)
            info._bound(listener, started)
        if register:
            registry.register(dispatcher)
            registered = True
        wires = ", ".join(f"{info.labels[w]} {a}" for w, a in info.addresses.items()) or "none"
        _log.info(
            "serving %s: %s, in-process %s",
            ", ".join(info.apis),
            wires,
            "on" if registered else "off",
        )
        yield info
    finally:
        if registered:
            registry.unregister(dispatcher)
        try:
            if running:
                cut = asyncio.ensure_future(draining.drain(grace))
                try:
                    await asyncio.gather(*(started.stop() for started in running))
                finally:
                    cut.cancel()
                    await asyncio.wait((cut,))
        finally:
            draining.detach_server()


class ServeOptions(TypedDict, total=False):
    """What :func:`serving` takes besides the dispatcher, as :func:`serve` and :func:`run`
    pass it on (the defaults are :func:`serving`'s)."""

    host: str
    listeners: Sequence[Listener[Any]] | None
    krpc_port: int | None
    grpc_port: int | None
    log_level: str
    grace: float
    info: ServerInfo | None
    register: bool


async def serve(
    dispatcher: Dispatcher,
    *,
    ready: asyncio.Event | None = None,
    handle_signals: bool = True,
    on_ready: Callable[[ServerInfo], Awaitable[None] | None] | None = None,
    **options: Unpack[ServeOptions],
) -> ServerInfo:
    """Serve ``dispatcher`` until SIGTERM/SIGINT or cancellation, then stop cleanly.

    ``options`` are :func:`serving`'s (listeners, host, grace, ...).  ``ready`` is set
    once every wire listens; by then ``info`` (if given) holds the bound ports.
    ``on_ready(info)`` is called then too: a service process prints its ready lines there
    (``process.print_ready(info.listening_lines())``); an exception it raises stops the
    servers and propagates.  When it returns an awaitable (an ``async def``), that runs
    next to the servers (startup work that needs them listening) and is cancelled when
    they stop; its failure is logged.  Signals are handled only in the main thread (where
    Python delivers them) and the handlers are removed on return.
    """
    with stop_signals(handle_signals) as stop:
        async with serving(dispatcher, **options) as served:
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


def run(dispatcher: Dispatcher, **options: Unpack[ServeOptions]) -> ServerInfo:
    """Blocking ``serve`` for a service's ``main``: a fresh loop, uvloop when installed
    (:func:`~buckyos.runtime.server.process.run_service` adds the ready lines and the
    exit code)."""
    return run_async(lambda: serve(dispatcher, **options))
