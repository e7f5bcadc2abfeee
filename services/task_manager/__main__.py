"""``python -m buckyos.services.task_manager``: run task-manager as a process.

In a zone (``--root`` or ``$BUCKYOS_ROOT``) it logs in with the node's device key and
checks callers against the zone's trust keys, policy and revocations
(:mod:`buckyos.services.kernel`); outside one, ``--trust-key KID=PATH`` names the keys it
trusts (``root=``: the owner's, zone-trusted; ``device:NAME=``: a device's, zone-trusted;
``verify-hub=``; any other kid vouches for its own user only).  ``--kevent URL``
publishes each committed change to kevent (with the service's session token in a zone);
without it nothing is published.

Prints ``kRPC listening on <http://host:port>`` and ``gRPC listening on <host:port>`` (one
line each, flushed) once both listen; append ``/kapi/task-manager`` to the first for the
endpoint.  Stops cleanly and exits 0 on SIGTERM or SIGINT; bad options or an unusable
``--db`` exit 2 with a message saying what to fix, a port in use exits 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from buckyos.generated.task_manager_rpc import TASK_MANAGER
from buckyos.runtime import ConfigError
from buckyos.runtime.client import KEventClient
from buckyos.runtime.server import (
    add_server_options,
)

from ..kernel import add_kernel_options, open_kernel, run_kernel_service, serve_kernel
from ..launch import launched
from .app import build_binding
from .events import QueuedPublisher, kevent_publisher
from .store import TaskStore

__all__ = ["main", "parse_args"]


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m buckyos.services.task_manager",
        description=f"{TASK_MANAGER.api}: the zone's task store (kRPC api {TASK_MANAGER.api}).",
    )
    parser.add_argument(
        "--db",
        required=True,
        type=Path,
        help="SQLite file for tasks, events, notes, grants and schemas (created if missing)",
    )
    parser.add_argument(
        "--kevent",
        metavar="URL",
        default=None,
        help="kevent's URL (http://127.0.0.1:3181/kapi/kevent) to publish task events to; "
        "default: publish nothing",
    )
    add_kernel_options(parser, app_id=TASK_MANAGER.api)
    add_server_options(parser, ports={"krpc": TASK_MANAGER.port})
    return parser.parse_args(argv)


async def _main(args: argparse.Namespace) -> int:
    store = TaskStore(args.db)
    try:
        kernel = await open_kernel(args)
        client = publisher = None
        try:
            if args.kevent is not None:
                try:
                    client = KEventClient(args.kevent, token=kernel.session_token)
                except ValueError as err:
                    raise ConfigError(f"--kevent: {err}") from None
                publisher = QueuedPublisher(kevent_publisher(client))
            binding = build_binding(
                verifier=kernel.verifier,
                rbac=kernel.rbac,
                revocations=kernel.revocations,
                store_or_path=store,
                publish=publisher,
            )
            await serve_kernel(kernel, binding, args)
        finally:
            if publisher is not None:
                publisher.close()
            if client is not None:
                client.close()
            await kernel.aclose()
    finally:
        store.close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    return run_kernel_service(args, lambda: _main(args), name=TASK_MANAGER.api)


if __name__ == "__main__":
    sys.exit(launched(main))
