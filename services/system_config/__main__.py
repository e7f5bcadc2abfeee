"""Run system_config as a process.

    python -m buckyos.services.system_config --db PATH --owner-key JWK_OR_PATH
        [--owner-did DID] --device-name NAME --device-key JWK_OR_PATH [--device-did DID]
        [--host 127.0.0.1] [--krpc-port 3200] [--grpc-port N | --no-grpc]
        [--log-level info]

A key is given as JWK text (``{"kty":"OKP",...}``) or as the path of a file holding a JWK,
a DID document (key at ``verificationMethod[0].publicKeyJwk``), a public key PEM or a
PKCS#8 private key PEM (only its public half is used).  ``--grpc-port`` defaults to 0 (a
free port); port numbers actually bound are printed once every wire listens::

    kRPC listening on http://127.0.0.1:3200
    gRPC listening on 127.0.0.1:40123

Exit codes: 0 after SIGTERM/SIGINT, 2 for bad options or keys (a one-line message on
stderr), 1 when the store cannot be opened or a port cannot be bound.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from buckyos.runtime.errors import BuckyOSError, ConfigError
from buckyos.runtime.keys import load_public_key
from buckyos.runtime.serve import ServerInfo, add_server_options, serve

from .app import build_binding
from .store import SqliteStore, StoreError

__all__ = ["main"]

_PROG = "python -m buckyos.services.system_config"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=_PROG,
        description="Serve the zone's configuration store (kRPC api system_config).",
    )
    parser.add_argument("--db", required=True, help="SQLite file of the store (created if new)")
    parser.add_argument(
        "--owner-key", required=True, help="zone owner public key: JWK text or a file"
    )
    parser.add_argument("--owner-did", help="zone owner DID (also a kid of the owner key)")
    parser.add_argument("--device-name", required=True, help="this device's name (its kid)")
    parser.add_argument(
        "--device-key", required=True, help="this device's public key: JWK text or a file"
    )
    parser.add_argument("--device-did", help="this device's DID (also a kid of its key)")
    add_server_options(parser, krpc_port=3200)
    return parser


async def _serve(args: argparse.Namespace) -> int:
    owner_key = load_public_key(args.owner_key, what="--owner-key")
    device_key = load_public_key(args.device_key, what="--device-key")
    store = SqliteStore(args.db)
    binding = None
    try:
        binding = build_binding(
            store,
            owner_key=owner_key,
            owner_did=args.owner_did,
            device_name=args.device_name,
            device_key=device_key,
            device_did=args.device_did,
        )
        ready = asyncio.Event()
        info = ServerInfo()
        task = asyncio.create_task(
            serve(
                binding,
                host=args.host,
                krpc_port=args.krpc_port,
                grpc_port=None if args.no_grpc else args.grpc_port,
                log_level=args.log_level,
                ready=ready,
                info=info,
            )
        )
        waiter = asyncio.create_task(ready.wait())
        try:
            await asyncio.wait((task, waiter), return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
        if ready.is_set():
            print("\n".join(info.listening_lines()), flush=True)
        await task
        return 0
    finally:
        if binding is not None:
            binding.close()
        store.close()


def main(argv: list[str] | None = None) -> int:
    """The process entry; returns the exit code."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return asyncio.run(_serve(args))
    except ConfigError as exc:
        print(f"{_PROG}: {exc}", file=sys.stderr)
        return 2
    except StoreError as exc:
        print(f"{_PROG}: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        grpc = "off" if args.no_grpc else f"port {args.grpc_port}"
        print(
            f"{_PROG}: cannot listen on {args.host} (kRPC port {args.krpc_port}, gRPC {grpc}): "
            f"{exc}; choose free ports (0 picks one)",
            file=sys.stderr,
        )
        return 1
    except BuckyOSError as exc:
        print(f"{_PROG}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
