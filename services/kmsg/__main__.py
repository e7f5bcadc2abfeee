"""``python -m buckyos.services.kmsg``: run kmsg as a process.

In a zone (``--root`` or ``$BUCKYOS_ROOT``) it logs in with the node's device key and
checks callers against the zone's trust keys, policy and revocations
(:mod:`buckyos.services.kernel`); outside one, ``--trust-key KID=PATH`` names the keys it
trusts (``root=``: the owner's, zone-trusted; ``device:NAME=``: a device's, zone-trusted;
``verify-hub=``; any other kid vouches for its own user only).

Prints ``kRPC listening on <http://host:port>`` and ``gRPC listening on <host:port>`` (one
line each, flushed) once both listen; append ``/kapi/kmsg`` to the first for the
endpoint.  Stops cleanly and exits 0 on SIGTERM or SIGINT; bad options or an unusable
``--db`` exit 2 with a message saying what to fix, a port in use exits 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from buckyos.generated.kmsg_rpc import KMSG
from buckyos.runtime.server import (
    add_server_options,
)

from ..kernel import add_kernel_options, open_kernel, run_kernel_service, serve_kernel
from ..launch import launched
from .app import build_binding
from .store import KmsgStore

__all__ = ["main", "parse_args"]


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m buckyos.services.kmsg",
        description=f"{KMSG.api}: the zone's durable message queue (kRPC api {KMSG.api}).",
    )
    parser.add_argument(
        "--db",
        required=True,
        type=Path,
        help="SQLite file for queues, messages and subscriptions (created if missing)",
    )
    add_kernel_options(parser, app_id=KMSG.api)
    add_server_options(parser, ports={"krpc": KMSG.port})
    return parser.parse_args(argv)


async def _main(args: argparse.Namespace) -> int:
    store = KmsgStore(args.db)
    try:
        kernel = await open_kernel(args)
        try:
            binding = build_binding(
                verifier=kernel.verifier,
                rbac=kernel.rbac,
                revocations=kernel.revocations,
                store_or_path=store,
            )
            await serve_kernel(kernel, binding, args)
        finally:
            await kernel.aclose()
    finally:
        store.close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    return run_kernel_service(args, lambda: _main(args), name=KMSG.api)


if __name__ == "__main__":
    sys.exit(launched(main))
