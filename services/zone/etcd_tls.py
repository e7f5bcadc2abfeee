"""The files of etcd over TLS for a zone on several machines (``docs/zone-nodes.md``).

    python -m buckyos.services.zone.etcd_tls anchors --zone ZONE \\
        --device ood1=KEY --device ood2=KEY ... --out anchors.pem
    python -m buckyos.services.zone.etcd_tls member --zone ZONE --node ood2 \\
        --node-key PEM --host 10.0.0.2 [--host ...] --cert FILE --key FILE [--days 365]

``anchors``: the trust of every member and every client, one device anchor per node of
the zone (``KEY``: a device's public key as JWK text, or a file with a JWK, its DID
document or a PEM); it holds no secret and is the same file on every machine.
``member``: run on the node beside which the member runs, with that node's own device key
(the owner's key and no other node's key are needed): the member's TLS key and a
certificate signed by the device key for the member's addresses (``--host``, what peers
and clients connect to) and the name every member shares
(:data:`~buckyos.runtime.security.ETCD_SERVER_NAME`).  etcd reads the files again at each
handshake: run ``member`` again before ``--days`` are over, no restart needed.

``zone up --nodes N`` writes the same files itself (``etc/etcd/``).  Exit 0, or 2 with one
line saying what was wrong.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from buckyos.runtime import ConfigError
from buckyos.runtime.security import (
    DevicePins,
    load_private_key_file,
    load_public_key,
    make_etcd_certificate,
)

from .nodes import replace_file

__all__ = ["main"]

_PROG = "python -m buckyos.services.zone.etcd_tls"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=_PROG, description="Make the TLS files of a zone's etcd members."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    anchors = sub.add_parser("anchors", help="the anchors bundle (every zone device)")
    anchors.add_argument("--zone", required=True, help="the zone id (as --node-tls)")
    anchors.add_argument(
        "--device",
        action="append",
        required=True,
        metavar="NODE=KEY",
        help="a node and its device's public key (JWK text or file); once per node",
    )
    anchors.add_argument("--out", required=True, type=Path, help="the PEM bundle to write")
    member = sub.add_parser("member", help="a member's certificate, from its node's device key")
    member.add_argument("--zone", required=True, help="the zone id (as --node-tls)")
    member.add_argument("--node", required=True, help="the node beside which the member runs")
    member.add_argument("--node-key", required=True, help="that node's device key (PEM)")
    member.add_argument(
        "--host",
        action="append",
        required=True,
        help="an IP address or DNS name clients and peers reach the member at; repeatable",
    )
    member.add_argument("--cert", required=True, type=Path, help="the certificate to write")
    member.add_argument("--key", required=True, type=Path, help="the TLS key to write (0600)")
    member.add_argument("--days", type=float, default=365.0, help="lifetime (default 365)")
    return parser


def _run(args: argparse.Namespace) -> str:
    if args.command == "anchors":
        keys = {}
        for item in args.device:
            node, sep, key = item.partition("=")
            if not sep or not node or not key:
                raise ConfigError(f"--device {item!r}: give NODE=KEY")
            keys[node] = load_public_key(key, what=f"--device {node}")
        replace_file(args.out, DevicePins(args.zone, keys).anchors_pem(), 0o644)
        return f"wrote {args.out}: anchors of {', '.join(sorted(keys))}"
    if args.days <= 0:
        raise ConfigError(f"--days {args.days:g}: give a number of days above 0")
    try:
        device_key = load_private_key_file(args.node_key)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"--node-key: {exc}") from None
    leaf = make_etcd_certificate(
        args.zone, args.node, device_key, hosts=args.host, lifetime=args.days * 86400
    )
    replace_file(args.key, leaf.key_pem, 0o600)
    replace_file(args.cert, leaf.cert_pem, 0o644)
    return f"wrote {args.cert} and {args.key}: {args.node}'s member, {args.days:g} days"


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        print(_run(args))
    except (ConfigError, OSError) as exc:
        print(f"{_PROG}: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
