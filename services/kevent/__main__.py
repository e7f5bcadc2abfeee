"""``python -m buckyos.services.kevent``: the node's kevent as a process.

::

    python -m buckyos.services.kevent --root ZONE_ROOT [--node-name ood1] \\
        [--host 127.0.0.1] [--port 3181] [--log-level info]
    python -m buckyos.services.kevent --trust-key root=owner.pub.pem ...   # no zone

Prints ``kRPC listening on http://host:port`` (flushed) once it accepts connections (the
line a zone supervisor waits for; kevent is plain HTTP, not kRPC), and exits 0 on SIGTERM
or SIGINT after ending its streams.  Tokens are verified with the zone's keys (``--root``,
see ``services/kernel.py``) or the ``--trust-key`` ones; with neither, ``$BUCKYOS_ROOT``.
Bad options exit 2 with a message saying what to fix, a port in use exits 1.
"""

from __future__ import annotations

import argparse
import logging
import socket
import sys
from collections.abc import Sequence

from buckyos.runtime.server import LOG_LEVELS, print_ready, run_service, stop_signals

from ..kernel import add_kernel_options, open_kernel
from ..launch import launched
from .app import KEventApp
from .bus import DEFAULT_MAX_PER_OWNER, DEFAULT_MAX_READERS, Bus
from .server import DEFAULT_PORT, kevent_serving

__all__ = ["APP_ID", "main", "parse_args"]

APP_ID = "node-daemon"
"""The app id kevent logs in to the zone as: upstream's kevent is node-daemon's (its HTTP
side, port 3181), whose app id is in the default RBAC policy's ``kernel`` group.  The
process holds this node's device key anyway (``--root``), as node-daemon does."""
_log = logging.getLogger("buckyos.services.kevent")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line; ``--help`` describes every option."""
    parser = argparse.ArgumentParser(
        prog="python -m buckyos.services.kevent",
        description="kevent: the node's event bus (HTTP /kapi/kevent, /publish, /stream), "
        "with bounded reader queues and token checks.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port (0 picks one)")
    parser.add_argument(
        "--node-name",
        default=None,
        help="this node's name, the events' ingress_node (default: the zone's device "
        "name, else the host name)",
    )
    parser.add_argument(
        "--max-readers", type=int, default=DEFAULT_MAX_READERS, help="open readers in all"
    )
    parser.add_argument(
        "--max-readers-per-token",
        type=int,
        default=DEFAULT_MAX_PER_OWNER,
        help="open readers of one token's user and app",
    )
    parser.add_argument("--log-level", default="info", choices=LOG_LEVELS)
    add_kernel_options(parser, app_id=APP_ID)
    return parser.parse_args(argv)


def _node_name(args: argparse.Namespace, device_name: str | None) -> str:
    if args.node_name:
        return str(args.node_name)
    return device_name or socket.gethostname()


async def _serve(args: argparse.Namespace) -> None:
    kernel = await open_kernel(args)
    try:
        device_name = kernel.runtime.device_name if kernel.runtime is not None else None
        app = KEventApp(
            node_name=_node_name(args, device_name),
            verifier=kernel.verifier,
            revocations=kernel.revocations,
            bus=Bus(max_readers=args.max_readers, max_per_owner=args.max_readers_per_token),
        )
        await kernel.start()
        with stop_signals() as stop:
            async with kevent_serving(
                app, host=args.host, port=args.port, log_level=args.log_level
            ) as url:
                print_ready([f"kRPC listening on {url}"])
                await stop.wait()
                _log.info("stopping: signal received")
    finally:
        await kernel.aclose()


def main(argv: Sequence[str] | None = None) -> int:
    """Run kevent until SIGTERM/SIGINT; the exit status."""
    args = parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    return run_service(
        lambda: _serve(args),
        name="kevent",
        cannot_listen=lambda exc: f"cannot listen on {args.host}:{args.port}: {exc}",
    )


if __name__ == "__main__":
    sys.exit(launched(main))
