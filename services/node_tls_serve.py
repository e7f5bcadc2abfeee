"""Node TLS for a service process: its options, its TLS listeners, its pins kept fresh.

A service of a zone of several nodes serves, beside its plain listeners (for callers on
its own node), kRPC over TLS and gRPC over TLS for the other nodes (``docs/security.md``,
"Between nodes"):

    --node-tls ZONE --node-key PATH [--krpc-tls-port 0] [--grpc-tls-port 0] [--tls-host ADDR]

``--node-key`` is this node's device key (Ed25519 PKCS#8 PEM), which certifies the TLS key;
peers are pinned to ``devices/<node>/doc``, read by the process's own means (its store,
or system_config) at start, when told they changed, and every minute (every 5 s while the
read fails or finds no device).  The ready lines name the TLS wires ``kRPC+TLS`` and
``gRPC+TLS``; a zone publishes their ports as ``www_tls`` and ``grpc_tls``.  ``--tls-host``
is the address the TLS listeners bind (default: ``--host``): on machines of their own, the
node's address for the other nodes, with ``--host 127.0.0.1`` keeping the plain wires to
this node's own callers, so nothing plain is reachable from another machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, Final

from buckyos.runtime import ConfigError
from buckyos.runtime.security import DevicePins, NodeTls, load_private_key_file
from buckyos.runtime.server import GrpcTlsListener, KrpcTlsListener, Listener

__all__ = ["PinsChanged", "add_node_tls_options", "node_tls", "pins_kept", "tls_listeners"]

_EVERY: Final = 60.0
_RETRY: Final = 5.0
_log = logging.getLogger("buckyos.services.node_tls")

DeviceDocs = Callable[[], Awaitable[Mapping[str, Any]]]
"""Reads every ``devices/<node>/doc``: node name -> the doc (text or object)."""


def add_node_tls_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("node TLS (a zone of several nodes)")
    group.add_argument(
        "--node-tls",
        metavar="ZONE",
        help="the zone id: also serve kRPC and gRPC over TLS for the zone's other nodes, "
        "callers pinned to devices/<node>/doc (needs --node-key)",
    )
    group.add_argument(
        "--node-key", metavar="PATH", help="with --node-tls: this node's device key (PEM)"
    )
    group.add_argument("--krpc-tls-port", type=int, default=0, metavar="PORT")
    group.add_argument("--grpc-tls-port", type=int, default=0, metavar="PORT")
    group.add_argument(
        "--tls-host",
        metavar="ADDR",
        help="the address the TLS listeners bind (default: --host): the node's address for "
        "the other nodes, while --host 127.0.0.1 keeps the plain wires to this node",
    )


def node_tls(args: argparse.Namespace, node: str) -> NodeTls | None:
    """This node's :class:`NodeTls` (pinned to itself until :func:`pins_kept` reads the
    zone's devices) when ``--node-tls`` is given."""
    if args.node_tls is None:
        if args.node_key is not None:
            raise ConfigError("--node-key needs --node-tls ZONE")
        return None
    if args.node_key is None:
        raise ConfigError("--node-tls needs --node-key (this node's device key, a PEM file)")
    try:
        key = load_private_key_file(args.node_key)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"--node-key: {exc}") from None
    # Pinned to itself until the zone's device docs are read (a TLS server needs a pin).
    return NodeTls(args.node_tls, node, key, DevicePins(args.node_tls, {node: key.public_key()}))


def tls_listeners(args: argparse.Namespace, tls: NodeTls | None) -> list[Listener[Any]]:
    """The kRPC+TLS and gRPC+TLS listeners (none without node TLS)."""
    if tls is None:
        return []
    host = getattr(args, "tls_host", None)
    return [
        KrpcTlsListener(args.krpc_tls_port, host=host, tls=tls),
        GrpcTlsListener(args.grpc_tls_port, host=host, tls=tls),
    ]


class PinsChanged:
    """Wakes :func:`pins_kept` early (e.g. from a store's change listener, any thread)."""

    def __init__(self) -> None:
        self._event: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def bind(self) -> asyncio.Event:
        self._loop = asyncio.get_running_loop()
        self._event = asyncio.Event()
        return self._event

    def __call__(self) -> None:
        if self._loop is not None and self._event is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed
                self._loop.call_soon_threadsafe(self._event.set)


async def _refresh(tls: NodeTls, docs: DeviceDocs) -> bool:
    """Read the device docs into ``tls``'s pins; False when the read failed or found none."""
    try:
        found = await docs()
    except Exception as exc:  # a background refresh: logged, retried
        _log.warning("cannot read devices/*/doc for node TLS (retrying): %s", exc)
        return False
    pins = DevicePins.from_docs(tls.zone, found, strict=False)
    if not pins:  # not seeded yet: keep the pins there are
        return False
    if not pins.same_keys(tls.pins):
        tls.set_pins(pins)
        _log.info("node TLS pins: %s", ", ".join(sorted(pins)) or "none")
    return len(pins) > 0


@contextlib.asynccontextmanager
async def pins_kept(
    tls: NodeTls | None, docs: DeviceDocs, changed: PinsChanged | None = None
) -> AsyncIterator[None]:
    """While the block runs: ``tls``'s pins read once before it starts (so that a server
    started in it knows the zone's nodes from its first call, when their docs are there),
    then on ``changed`` and every minute (5 s after a failed or empty read)."""
    if tls is None:
        yield
        return
    event = (changed or PinsChanged()).bind()
    try:
        ok = await asyncio.wait_for(_refresh(tls, docs), _RETRY)
    except TimeoutError:
        _log.warning("devices/*/doc not read in %g s for node TLS (retrying)", _RETRY)
        ok = False

    async def keep(ok: bool) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), _EVERY if ok else _RETRY)
            event.clear()
            ok = await _refresh(tls, docs)

    task = asyncio.create_task(keep(ok))
    try:
        yield
    finally:
        task.cancel()
        await asyncio.wait((task,))
