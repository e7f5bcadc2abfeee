"""Run system_config as a process.

    python -m buckyos.services.system_config (--db PATH | --etcd URL[,URL...])
        [--etcd-prefix PREFIX] --owner-key JWK_OR_PATH [--owner-did DID]
        --device-name NAME --device-key JWK_OR_PATH [--device-did DID]
        [--host 127.0.0.1] [--krpc-port 3200] [--grpc-port N | --no-grpc]
        [--user-quota-bytes 64MiB] [--user-quota-keys 10000]
        [--max-db-bytes SIZE [--db-reserve-bytes SIZE]] [--log-level info]
        [--node-tls ZONE --node-key PEM [--krpc-tls-port 0] [--grpc-tls-port 0]]
        [--etcd-anchors FILE]

``--etcd http://127.0.0.1:2379[,...]`` keeps the store in an etcd cluster instead of a
SQLite file (``--etcd-prefix``, default ``/buckyos/system_config/``; see
``docs/system-config.md`` "Running on etcd"); ``--max-db-bytes`` then caps etcd's database.
``https://`` endpoints need ``--etcd-anchors FILE`` (the zone devices' anchors, PEM) and
``--node-tls``/``--node-key``: this node presents a certificate its device key signed
(``docs/zone-nodes.md`` "What etcd must be").

A key is given as JWK text (``{"kty":"OKP",...}``) or as the path of a file holding a JWK,
a DID document (key at ``verificationMethod[0].publicKeyJwk``), a public key PEM or a
PKCS#8 private key PEM (only its public half is used).  ``--grpc-port`` defaults to 0 (a
free port); port numbers actually bound are printed once every wire listens::

    kRPC listening on http://127.0.0.1:3200
    gRPC listening on 127.0.0.1:40123

``--node-tls`` (a zone of several nodes) also serves kRPC and gRPC over TLS for the other
nodes, pinned to the ``devices/<node>/doc`` in this store (``buckyos.services.node_tls_serve``).

Exit codes: 0 after SIGTERM/SIGINT, 2 for bad options or keys (a one-line message on
stderr), 1 when the store cannot be opened or a port cannot be bound.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from buckyos.generated.system_config_rpc import SYSTEM_CONFIG
from buckyos.runtime import BuckyOSError, ConfigError, serve
from buckyos.runtime.security import load_public_key
from buckyos.runtime.server import (
    add_server_options,
    describe_listeners,
    print_ready,
    run_service,
    server_listeners,
)

from ..etcd_calls import endpoints_of
from ..launch import launched
from ..node_tls_serve import (
    PinsChanged,
    add_node_tls_options,
    node_tls,
    pins_kept,
    tls_listeners,
)
from .app import build_binding
from .etcd_store import DEFAULT_PREFIX, EtcdStore
from .service import DEFAULT_USER_QUOTA_BYTES, DEFAULT_USER_QUOTA_KEYS
from .store import SqliteStore, Store, StoreError

__all__ = ["main"]

_PROG = "python -m buckyos.services.system_config"
_UNITS = {"": 1, "b": 1, "k": 1 << 10, "kib": 1 << 10, "m": 1 << 20, "mib": 1 << 20,
          "g": 1 << 30, "gib": 1 << 30}  # fmt: skip


def _size(text: str) -> int:
    """A positive size: bytes, or a number with KiB/MiB/GiB (also k, m, g)."""
    raw = text.strip().lower().replace(" ", "")
    number = raw.rstrip("abcdefghijklmnopqrstuvwxyz")
    unit = raw[len(number) :]
    try:
        size = int(number) * _UNITS[unit]
    except (ValueError, KeyError):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a size (bytes, or a whole number with KiB, MiB or GiB)"
        ) from None
    if size <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: a size must be above 0")
    return size


def _count(text: str) -> int:
    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if count <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: must be above 0")
    return count


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=_PROG,
        description=f"Serve the zone's configuration store (kRPC api {SYSTEM_CONFIG.api}).",
    )
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--db", help="SQLite file of the store (created if new)")
    where.add_argument(
        "--etcd", metavar="URL[,URL...]", help="keep the store in this etcd cluster instead"
    )
    parser.add_argument(
        "--etcd-prefix",
        default=DEFAULT_PREFIX,
        help=f"with --etcd: where the keys live (default {DEFAULT_PREFIX})",
    )
    parser.add_argument(
        "--etcd-anchors",
        metavar="FILE",
        help="with --etcd https://...: the zone devices' anchors (PEM) the members' "
        "certificates chain to; this node presents a certificate from --node-key",
    )
    parser.add_argument(
        "--owner-key", required=True, help="zone owner public key: JWK text or a file"
    )
    parser.add_argument("--owner-did", help="zone owner DID (also a kid of the owner key)")
    parser.add_argument("--device-name", required=True, help="this device's name (its kid)")
    parser.add_argument(
        "--device-key", required=True, help="this device's public key: JWK text or a file"
    )
    parser.add_argument("--device-did", help="this device's DID (also a kid of its key)")
    parser.add_argument(
        "--user-quota-bytes",
        type=_size,
        default=DEFAULT_USER_QUOTA_BYTES,
        help="what each user's writes may hold, keys + values (default 64MiB); "
        "zone services are not held to it",
    )
    parser.add_argument(
        "--user-quota-keys",
        type=_count,
        default=DEFAULT_USER_QUOTA_KEYS,
        help="how many keys each user's writes may hold (default 10000)",
    )
    parser.add_argument(
        "--max-db-bytes",
        type=_size,
        help="cap the store file at this size (default: no cap, the disk is the limit)",
    )
    parser.add_argument(
        "--db-reserve-bytes",
        type=_size,
        help="with --max-db-bytes: the last bytes kept for deletes and zone services "
        "(default: a tenth of the cap)",
    )
    add_server_options(parser, ports={"krpc": SYSTEM_CONFIG.port})
    add_node_tls_options(parser)
    return parser


async def _serve(args: argparse.Namespace) -> int:
    owner_key = load_public_key(args.owner_key, what="--owner-key")
    device_key = load_public_key(args.device_key, what="--device-key")
    if args.db_reserve_bytes is not None and (
        args.max_db_bytes is None or args.db_reserve_bytes >= args.max_db_bytes
    ):
        raise ConfigError("--db-reserve-bytes needs --max-db-bytes, and must be below it")
    store: Store
    etcd = endpoints_of("--etcd", args.etcd, args)
    if etcd is not None:
        endpoints, etcd_client_tls = etcd
        try:
            store = EtcdStore(
                endpoints,
                prefix=args.etcd_prefix,
                max_bytes=args.max_db_bytes,
                reserve_bytes=args.db_reserve_bytes,
                tls=etcd_client_tls,
            )
        except ValueError as exc:
            raise ConfigError(f"--etcd: {exc}") from None
    else:
        store = SqliteStore(
            args.db, max_bytes=args.max_db_bytes, reserve_bytes=args.db_reserve_bytes
        )
    binding = None
    tls = node_tls(args, args.device_name)
    changed = PinsChanged()

    async def device_docs() -> dict[str, str]:
        def read() -> dict[str, str]:
            docs: dict[str, str] = {}
            for child in store.list("devices"):
                name = child.rsplit("/", 1)[-1]
                entry = store.get(f"devices/{name}/doc")
                if name and entry is not None:
                    docs[name] = entry.value
            return docs

        return await asyncio.to_thread(read)

    store.on_change(lambda keys: changed() if any(k.startswith("devices/") for k in keys) else None)
    try:
        binding = build_binding(
            store,
            owner_key=owner_key,
            owner_did=args.owner_did,
            device_name=args.device_name,
            device_key=device_key,
            device_did=args.device_did,
            user_quota_bytes=args.user_quota_bytes,
            user_quota_keys=args.user_quota_keys,
        )
        async with pins_kept(tls, device_docs, changed):
            await serve(
                binding,
                host=args.host,
                listeners=[*server_listeners(args), *tls_listeners(args, tls)],
                log_level=args.log_level,
                on_ready=lambda info: print_ready(info.listening_lines()),
            )
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
    return run_service(
        lambda: _serve(args),
        name=_PROG,
        cannot_listen=lambda exc: (
            f"cannot listen on {describe_listeners(args.host, server_listeners(args))}: {exc}; "
            "choose free ports (0 picks one)"
        ),
        errors=((StoreError, 1), (BuckyOSError, 1)),
    )


if __name__ == "__main__":
    sys.exit(launched(main))
