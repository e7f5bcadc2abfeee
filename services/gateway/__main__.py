"""``python -m buckyos.services.gateway``: the node gateway as a process.

::

    python -m buckyos.services.gateway --system-config http://127.0.0.1:3200 \\
        --device-name ood1 --device-key /opt/buckyos/etc/node_private_key.pem \\
        [--host 127.0.0.1] [--port 3180] [--log-level info] [--node-host ood2=10.0.0.2] \\
        [--kevent http://127.0.0.1:3181] [--zone test.buckyos.io]

Prints ``gateway listening on <URL>`` (flushed) once it accepts connections, and exits 0
on SIGTERM or SIGINT after closing its connections: calls in flight get their instance's
answer within the grace period (5 s), or a kRPC error saying the gateway cut them short
at 80% of it (``GatewayApp.drain``); a second signal exits at once (130/143).  A bad
argument, an unreadable key or a port in use exits 2 with a message that says what to fix.

With ``--zone`` the gateway knows it is node ``--device-name`` of that zone: an instance on
another node is reached only over node TLS (its ``www_tls`` port, pinned to
``devices/<node>/doc``, this node's certificate made from ``--device-key``;
``docs/security.md``, "Between nodes").  The device docs are read at start and every
minute after (every 5 s while system_config does not answer).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from collections.abc import AsyncIterator, Sequence

from buckyos.generated.system_config_rpc import SYSTEM_CONFIG
from buckyos.runtime import ConfigError, RPCError
from buckyos.runtime.client import KrpcTransport
from buckyos.runtime.security import DevicePins, NodeTls, load_private_key_file
from buckyos.runtime.server import LOG_LEVELS, print_ready, run_service, stop_signals
from buckyos.runtime.wire import KEVENT_PORT

from ..launch import launched
from .app import DEFAULT_TIMEOUT, GatewayApp
from .credentials import ClientAddressSigner, DeviceTokenInvoker
from .instances import SystemConfigInstanceSource
from .pool import DEFAULT_TTL, InstancePool
from .server import DEFAULT_PORT, gateway_serving

__all__ = ["main", "parse_args"]


def _node_host(text: str) -> tuple[str, str]:
    node, sep, host = text.partition("=")
    if not sep or not node or not host:
        raise argparse.ArgumentTypeError(f"expected NODE=HOST, got {text!r}")
    return node, host


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line; ``--help`` describes every option."""
    parser = argparse.ArgumentParser(
        prog="python -m buckyos.services.gateway",
        description="BuckyOS node gateway: forwards POST /kapi/<service> to a started "
        f"instance found in {SYSTEM_CONFIG.api}.",
    )
    parser.add_argument(
        "--system-config",
        required=True,
        metavar="URL",
        help=f"{SYSTEM_CONFIG.api}'s kRPC URL, e.g. http://127.0.0.1:{SYSTEM_CONFIG.port}",
    )
    parser.add_argument(
        "--device-name", required=True, help="this node's device name (the token's kid)"
    )
    parser.add_argument(
        "--device-key", required=True, metavar="PATH", help="this node's Ed25519 PKCS#8 PEM key"
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port (0 picks one)")
    parser.add_argument("--log-level", default="info", choices=LOG_LEVELS)
    parser.add_argument(
        "--node-host",
        action="append",
        type=_node_host,
        default=[],
        metavar="NODE=HOST",
        help="where a node's instances listen (default: 127.0.0.1); repeatable",
    )
    parser.add_argument(
        "--ttl", type=float, default=DEFAULT_TTL, help="seconds an instance list is reused"
    )
    parser.add_argument(
        "--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds an instance may take"
    )
    parser.add_argument(
        "--kevent",
        metavar="URL",
        default=f"http://127.0.0.1:{KEVENT_PORT}",
        help="this node's kevent, where /kapi/kevent/* is forwarded (default: upstream's "
        f"http://127.0.0.1:{KEVENT_PORT}); 'none' answers those paths 503",
    )
    parser.add_argument(
        "--zone",
        metavar="ZONE",
        default=None,
        help="the zone id: turns node TLS on (other nodes' instances over TLS pinned to "
        "devices/<node>/doc); without it every instance is called plain",
    )
    return parser.parse_args(argv)


_PINS_EVERY = 60.0
_PINS_RETRY = 5.0
_log = logging.getLogger("buckyos.services.gateway")


async def _refresh_pins(source: SystemConfigInstanceSource, tls: NodeTls) -> bool:
    """Read the device docs into ``tls``'s pins; False when system_config did not answer."""
    try:
        docs = await source.device_docs()
    except RPCError as exc:
        _log.warning("cannot read devices/*/doc for node TLS (retrying): %s", exc)
        return False
    pins = DevicePins.from_docs(tls.zone, docs, strict=False)
    if not pins.same_keys(tls.pins):
        tls.set_pins(pins)
        _log.info("node TLS pins: %s", ", ".join(sorted(pins)) or "none")
    return True


async def _keep_pins(
    source: SystemConfigInstanceSource, tls: NodeTls, *, retry_first: bool
) -> None:
    """Refresh the pins every minute (5 s after a failed read), until cancelled."""
    ok = not retry_first
    while True:
        await asyncio.sleep(_PINS_EVERY if ok else _PINS_RETRY)
        ok = await _refresh_pins(source, tls)


@contextlib.asynccontextmanager
async def _pins_kept(
    source: SystemConfigInstanceSource, tls: NodeTls | None
) -> AsyncIterator[None]:
    """Node TLS pins read once before serving, then kept fresh beside it."""
    task = None
    if tls is not None:
        first = await _refresh_pins(source, tls)
        task = asyncio.create_task(_keep_pins(source, tls, retry_first=not first))
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            await asyncio.wait((task,))


async def _serve(args: argparse.Namespace) -> None:
    try:
        key = load_private_key_file(args.device_key)
        transport = KrpcTransport(args.system_config)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    invoker = DeviceTokenInvoker(transport, key, args.device_name)
    tls = None
    if args.zone is not None:
        tls = NodeTls(args.zone, args.device_name, key, DevicePins(args.zone, {}))
    source = SystemConfigInstanceSource(
        invoker,
        system_config_url=args.system_config,
        node_hosts=dict(args.node_host),
        this_node=None if tls is None else args.device_name,
    )
    app = GatewayApp(
        InstancePool(source, ttl=args.ttl),
        timeout=args.timeout,
        client_signer=ClientAddressSigner(key, args.device_name),
        kevent=None if args.kevent == "none" else args.kevent,
        tls=tls,
    )
    with stop_signals() as stop:
        async with (
            _pins_kept(source, tls),
            gateway_serving(app, host=args.host, port=args.port, log_level=args.log_level) as url,
        ):
            print_ready([f"gateway listening on {url}"])
            await stop.wait()
            logging.getLogger("buckyos.services.gateway").info("stopping: signal received")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the gateway until SIGTERM/SIGINT; the exit status."""
    args = parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    return run_service(
        lambda: _serve(args),
        name="gateway",
        cannot_listen=lambda exc: f"cannot listen on {args.host}:{args.port}: {exc}",
        listen_exit=2,
    )


if __name__ == "__main__":
    sys.exit(launched(main))
