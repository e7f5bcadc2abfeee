"""``python -m buckyos.services.verify_hub``: run verify-hub as a process.

Prints ``kRPC listening on <http://host:port>`` and ``gRPC listening on <host:port>`` (one
line each, flushed) once both listen; append ``/kapi/verify-hub`` to the first for the
endpoint.  With ``--node-tls ZONE --node-key PEM`` (a zone of several nodes) it also serves
kRPC and gRPC over TLS for the other nodes (``kRPC+TLS``/``gRPC+TLS listening on ...``),
pinned to ``devices/<node>/doc`` read from system_config.  ``--state-etcd https://...``
also needs ``--etcd-anchors FILE`` (the zone devices' anchors) and ``--node-tls``/
``--node-key``, whose device key certifies this node to etcd.  Stops cleanly and exits 0 on
SIGTERM or SIGINT; bad options or key files exit 2 with a message saying what to fix, a
port in use exits 1.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from buckyos.generated.system_config_rpc import SYSTEM_CONFIG, AsyncSystemConfigStub
from buckyos.generated.verify_hub_rpc import VERIFY_HUB
from buckyos.runtime import ConfigError, RPCError, serve
from buckyos.runtime.client import KrpcTransport
from buckyos.runtime.security import (
    Ed25519PublicKey,
    load_private_key_file,
    load_public_key,
    public_key_to_jwk,
)
from buckyos.runtime.server import (
    ServerInfo,
    add_server_options,
    describe_listeners,
    print_ready,
    run_service,
    server_listeners,
)

from ..etcd_calls import endpoints_of
from ..launch import launched
from ..node_tls_serve import add_node_tls_options, node_tls, pins_kept, tls_listeners
from .app import build_binding, service_of
from .directory import DeviceCredentials, SystemConfigDirectory
from .etcd_state import DEFAULT_PREFIX as ETCD_STATE_PREFIX, EtcdSessionState
from .state import SessionState, SessionStore, StateError

__all__ = ["main", "parse_args"]

_log = logging.getLogger("buckyos.verify_hub")


class _StartError(Exception):
    """What stops verify-hub from starting that is not a bad option (exit 1)."""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m buckyos.services.verify_hub",
        description=f"{VERIFY_HUB.api}: the zone's login and token service "
        f"(kRPC api {VERIFY_HUB.api}).",
    )
    parser.add_argument(
        "--key",
        required=True,
        type=Path,
        help="verify-hub's Ed25519 private key (PKCS#8 PEM); its public key must be "
        "boot/config verify_hub_info.public_key",
    )
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument(
        "--state",
        type=Path,
        help="SQLite file for sessions (created if missing): a zone of one node",
    )
    where.add_argument(
        "--state-etcd",
        metavar="URL[,URL...]",
        help="etcd client URLs (http(s)://HOST:PORT) holding sessions, used nonces and login "
        "counts, shared by every verify-hub of a zone of several nodes",
    )
    parser.add_argument(
        "--etcd-anchors",
        metavar="FILE",
        help="with --state-etcd https://...: the zone devices' anchors (PEM) the members' "
        "certificates chain to; this node presents a certificate from --node-key",
    )
    parser.add_argument(
        "--state-etcd-prefix",
        default=ETCD_STATE_PREFIX,
        metavar="PREFIX",
        help=f"where in etcd the state lives (default {ETCD_STATE_PREFIX}; the same on "
        "every node of a zone)",
    )
    parser.add_argument(
        "--system-config",
        required=True,
        metavar="URL",
        help=f"{SYSTEM_CONFIG.api}'s kRPC URL (http://127.0.0.1:{SYSTEM_CONFIG.port} or "
        f".../kapi/{SYSTEM_CONFIG.api})",
    )
    parser.add_argument(
        "--device-name", required=True, help="this node's device name (kid of its tokens)"
    )
    parser.add_argument(
        "--device-key", required=True, type=Path, help="this node's Ed25519 private key (PEM)"
    )
    parser.add_argument(
        "--owner-key",
        required=True,
        metavar="JWK_OR_PATH",
        help="the zone owner's public key: a JWK, or a file holding a JWK, a DID document, "
        "node_identity.json or a PEM public key",
    )
    add_server_options(parser, ports={"krpc": VERIFY_HUB.port})
    add_node_tls_options(parser)
    return parser.parse_args(argv)


async def _check_boot_config(directory: SystemConfigDirectory, key: Ed25519PublicKey) -> None:
    """Warn when boot/config names another verify-hub key: every token we sign would be
    refused by the zone's other services."""
    try:
        raw = await directory.get("boot/config")
    except RPCError as err:
        _log.warning("cannot read boot/config from system_config yet: %s", err)
        return
    if raw is None:
        _log.warning("boot/config is not set yet: cannot check verify_hub_info.public_key")
        return
    try:
        published = json.loads(raw).get("verify_hub_info", {}).get("public_key")
    except (ValueError, AttributeError):
        _log.warning("boot/config is not a JSON object")
        return
    if published != public_key_to_jwk(key):
        _log.warning(
            "boot/config verify_hub_info.public_key is not the public key of --key: "
            "services will refuse the tokens this verify-hub signs"
        )


async def _main(args: argparse.Namespace) -> int:
    signing_key = load_private_key_file(args.key)
    device_key = load_private_key_file(args.device_key)
    owner_key = load_public_key(args.owner_key, what="--owner-key")
    state: SessionStore
    etcd = endpoints_of("--state-etcd", args.state_etcd, args)
    if etcd is not None:
        endpoints, etcd_client_tls = etcd
        try:
            state = EtcdSessionState(endpoints, prefix=args.state_etcd_prefix, tls=etcd_client_tls)
        except ValueError as err:
            raise ConfigError(f"--state-etcd: {err}") from None
        except StateError as err:  # etcd unreachable: exit 1 with one line, as a port in use
            raise _StartError(f"--state-etcd: {err.detail}") from None
    else:
        state = SessionState(args.state)
    try:
        transport = KrpcTransport(args.system_config)
    except ValueError as err:
        raise ConfigError(f"--system-config: {err}") from None
    directory = SystemConfigDirectory(
        transport,
        owner_key=owner_key,
        credentials=DeviceCredentials(device_key, args.device_name),
    )
    binding = build_binding(signing_key=signing_key, state=state, directory=directory)
    tls = node_tls(args, args.device_name)
    pins_reader = KrpcTransport(args.system_config)
    credentials = DeviceCredentials(device_key, args.device_name)

    async def device_docs() -> dict[str, str]:
        """Every devices/<node>/doc, for node TLS's pins."""
        pins_reader.token = credentials.token()
        stub = AsyncSystemConfigStub(pins_reader, timeout=10)
        docs: dict[str, str] = {}
        for child in (await stub.List(key="devices")).keys:
            name = child.rsplit("/", 1)[-1]
            result = await stub.Get(key=f"devices/{name}/doc")
            if name and result.HasField("value"):
                docs[name] = result.value
        return docs

    async def started(info: ServerInfo) -> None:
        print_ready(info.listening_lines())
        await binding.init()  # starts publishing revocations before the first login
        await _check_boot_config(directory, signing_key.public_key())

    try:
        async with pins_kept(tls, device_docs):
            await serve(
                binding,
                host=args.host,
                listeners=[*server_listeners(args), *tls_listeners(args, tls)],
                log_level=args.log_level,
                on_ready=started,
            )
    finally:
        await pins_reader.aclose()
        pins_reader.close()
        await service_of(binding).aclose()
        binding.close()
        await transport.aclose()
        transport.close()
        state.close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    return run_service(
        lambda: _main(args),
        name=VERIFY_HUB.api,
        cannot_listen=lambda exc: (
            f"cannot listen on {describe_listeners(args.host, server_listeners(args))}: {exc}"
        ),
        errors=((_StartError, 1),),
    )


if __name__ == "__main__":
    sys.exit(launched(main))
