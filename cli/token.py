"""``buckyos token sign|inspect|verify``: BuckyOS session tokens (EdDSA JWTs) by hand.

- ``sign --key PEM [--kid K] CLAIMS_JSON``: sign the claims with the Ed25519 private key
  in PEM (header ``{"alg":"EdDSA"}`` plus ``kid``, no ``typ``, as upstream); ``exp`` is
  added as now + ``--ttl`` (900 s) when the claims have none.  Prints the token.
- ``inspect TOKEN``: header and claims decoded **without** verification, and the expiry
  in words.  ``--json``: ``{"header", "claims", "expires_at", "expires_in", "expired"}``.
- ``verify TOKEN --key KEY [--kid K]``: check the signature and times (60 s leeway) as
  a BuckyOS service does.  KEY is a file holding a PEM (public or private key), a JWK or
  a DID document, or the JWK/document JSON itself.  The key is trusted under ``--kid``
  (default: the kid the token names, ``root`` when none), so ``--kid`` also checks that
  the token names it.  A refresh token is refused as a session token unless
  ``--refresh``.
- ``verify TOKEN --hub``: ask the zone's verify-hub (``verify_token``; no login needed).

``TOKEN`` and ``CLAIMS_JSON`` may be ``-`` (stdin) or ``@FILE``.  Exit codes: 0 signed,
decoded or valid; 1 the token is malformed or invalid (upstream's text, e.g. ``Invalid
token: JWT decode error:ExpiredSignature``, ``No permission:kid x not found``) or a key
cannot be read; 2 the command line (claims not a JSON object, ``--key`` with ``--hub``).
"""

from __future__ import annotations

import argparse
import datetime
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .command import Commands
from .output import EXIT_OK, EXIT_USAGE, CliError, emit
from .session import connect
from .sys_config import json_arg, read_text_arg

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from buckyos.runtime.security import SessionToken

__all__ = ["describe_expiry", "load_verify_key", "register", "run"]

_DEFAULT_TTL = 900


def register(commands: Commands) -> None:
    """Add ``token`` and its subcommands to the ``buckyos`` parser."""
    verbs = commands.group(
        "token",
        "sign, inspect and verify session tokens\n\n"
        "Sign, inspect and verify BuckyOS session tokens (EdDSA JWTs).",
    )
    sign = verbs.add(
        "sign",
        run,
        "sign claims with an Ed25519 private key\n\n"
        "Sign CLAIMS_JSON as an EdDSA JWT and print the token.",
        epilog='example:\n  buckyos token sign --key owner.pem --kid root \'{"sub": "alice", '
        '"appid": "buckycli"}\'',
    )
    sign.add_argument("claims", metavar="CLAIMS_JSON", help="a JSON object; '-' stdin, @FILE")
    sign.add_argument("--key", required=True, metavar="PEM", help="Ed25519 private key (PEM)")
    sign.add_argument("--kid", metavar="K", help="the header's kid (none: verifiers use root)")
    sign.add_argument(
        "--ttl",
        type=int,
        default=_DEFAULT_TTL,
        metavar="S",
        help=f"exp = now + S when the claims have no exp ({_DEFAULT_TTL})",
    )

    inspect = verbs.add(
        "inspect",
        run,
        "decode a token without verifying it\n\n"
        "Print a token's header and claims, NOT verified, and when it expires.",
    )
    inspect.add_argument("token", metavar="TOKEN", help="the token; '-' stdin, @FILE")
    inspect.add_argument("--json", action="store_true", help="print one JSON object")

    verify = verbs.add(
        "verify",
        run,
        "verify a token with a key, or at verify-hub\n\n"
        "Verify TOKEN's signature and times with --key, or ask verify-hub with --hub.",
        zone=True,
        epilog='examples:\n  buckyos token verify "$TOKEN" --key owner.pub.pem --kid root\n'
        '  buckyos token verify "$TOKEN" --hub --root ./zone',
    )
    verify.add_argument("token", metavar="TOKEN", help="the token; '-' stdin, @FILE")
    how = verify.add_mutually_exclusive_group(required=True)
    how.add_argument(
        "--key",
        metavar="KEY",
        help="a PEM (public or private), JWK or DID document: a file or the JSON itself",
    )
    how.add_argument("--hub", action="store_true", help="ask the zone's verify-hub")
    verify.add_argument(
        "--kid", metavar="K", help="trust --key under K (default: the token's kid, else root)"
    )
    verify.add_argument(
        "--refresh", action="store_true", help="accept a refresh token (aud verify-hub)"
    )
    verify.add_argument("--appid", metavar="APP", help="with --hub: the appid it must carry")
    verify.add_argument("--json", action="store_true", help="print the claims as JSON")


# --------------------------------------------------------------------------- helpers


def _span(seconds: float) -> str:
    """``3 h 2 min``, ``14 min 59 s``, ``5 s``: the two largest units."""
    left = int(abs(seconds))
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        if left >= size or (unit == "s" and not parts):
            parts.append(f"{left // size} {unit}")
            left %= size
        if len(parts) == 2:
            break
    return " ".join(parts)


def describe_expiry(exp: int, now: float) -> str:
    """``expires in 14 min 59 s (2026-01-01 10:00:00 UTC)`` or ``expired 3 h 2 min ago
    (...)``."""
    when = datetime.datetime.fromtimestamp(exp, tz=datetime.UTC).strftime("%Y-%m-%d %H:%M:%S")
    left = exp - now
    if left >= 0:
        return f"expires in {_span(left)} ({when} UTC)"
    return f"expired {_span(left)} ago ({when} UTC)"


def _token_arg(text: str) -> str:
    token = read_text_arg(text, "TOKEN").strip()
    if not token:
        raise CliError("TOKEN is empty", EXIT_USAGE)
    return token


def load_verify_key(text: str) -> Ed25519PublicKey:
    """An Ed25519 public key from a file (PEM public or private, JWK, DID document) or
    from JWK/document JSON given inline."""
    from buckyos.runtime import ConfigError
    from buckyos.runtime.security import load_public_key

    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            json.loads(stripped)
        except ValueError as exc:
            raise CliError(f"--key JSON is not valid ({exc})", EXIT_USAGE) from None
    try:
        return load_public_key(stripped, what="--key")
    except ConfigError as exc:
        raise CliError(str(exc)) from exc


def _inspect_data(token: str) -> dict[str, Any]:
    from buckyos.runtime.security import decode_unverified

    header, claims = decode_unverified(token)
    exp = claims.get("exp")
    now = time.time()
    data: dict[str, Any] = {"header": header, "claims": claims}
    if isinstance(exp, int | float) and not isinstance(exp, bool):
        data.update(expires_at=int(exp), expires_in=int(exp - now), expired=exp < now)
    else:
        data.update(expires_at=None, expires_in=None, expired=None)
    return data


def _inspect_text(data: dict[str, Any]) -> str:
    lines = ["header: " + json.dumps(data["header"], sort_keys=True)]
    lines.append("claims:")
    lines += [f"  {k}: {json.dumps(v)}" for k, v in sorted(data["claims"].items())]
    exp = data["expires_at"]
    lines.append(
        describe_expiry(exp, time.time()) if exp is not None else "no exp claim: never expires"
    )
    lines.append("(not verified: use `buckyos token verify` to check the signature)")
    return "\n".join(lines)


def _valid_text(info: SessionToken, how: str) -> str:
    return (
        f"valid ({how}): sub {info.sub}, appid {info.app_id}, iss {info.iss or '-'}, "
        f"kid {info.kid or '-'}; {describe_expiry(info.exp, time.time())}"
    )


# --------------------------------------------------------------------------- commands


def _sign(args: argparse.Namespace) -> int:
    from buckyos.runtime import ConfigError
    from buckyos.runtime.security import load_private_key_file, sign_token

    claims = json_arg(read_text_arg(args.claims, "CLAIMS_JSON"), "CLAIMS_JSON")
    if not isinstance(claims, dict):
        raise CliError("CLAIMS_JSON must be a JSON object", EXIT_USAGE)
    if args.ttl <= 0:
        raise CliError("--ttl must be > 0", EXIT_USAGE)
    if args.kid is not None and not args.kid:
        raise CliError("--kid must not be empty", EXIT_USAGE)
    claims.setdefault("exp", int(time.time()) + args.ttl)
    try:
        key = load_private_key_file(Path(args.key).expanduser())
    except ConfigError as exc:
        raise CliError(f"--key: {exc} (give the Ed25519 private key, PKCS#8 PEM)") from exc
    try:
        token = sign_token(claims, key, kid=args.kid)
    except ValueError as exc:
        raise CliError(str(exc), EXIT_USAGE) from exc
    emit(token, as_json=False)
    return EXIT_OK


def _verify_with_key(args: argparse.Namespace, token: str) -> int:
    from buckyos.runtime.security import TokenVerifier, TrustKeyStore, decode_unverified

    key = load_verify_key(args.key)
    header, _ = decode_unverified(token)  # malformed: the decode error, exit 1
    named = header.get("kid")
    kid = args.kid or (named if isinstance(named, str) and named else "root")
    trust = TrustKeyStore()
    trust.add_key(kid, key)
    info = TokenVerifier(trust, cache_size=0).verify(token, allow_refresh=args.refresh)
    emit(dict(info.claims), as_json=args.json, text=lambda _: _valid_text(info, f"kid {kid}"))
    return EXIT_OK


def _verify_at_hub(args: argparse.Namespace, token: str) -> int:
    from buckyos.generated.verify_hub_rpc import VERIFY_HUB, VerifyHubStub
    from buckyos.runtime.security import parse_unverified

    if args.kid is not None or args.refresh:
        raise CliError("--kid and --refresh go with --key, not --hub", EXIT_USAGE)
    info = parse_unverified(token)  # a malformed token: its decode error, nothing sent
    with connect(args, apis=(VERIFY_HUB.api,), need_session=False) as conn:
        VerifyHubStub(conn.runtime.with_token(None)).VerifyToken(
            session_token=token, appid=args.appid
        )
    emit(dict(info.claims), as_json=args.json, text=lambda _: _valid_text(info, VERIFY_HUB.api))
    return EXIT_OK


def run(args: argparse.Namespace) -> int:
    """The ``token`` subcommands."""
    verb: str = args.verb
    if verb == "sign":
        return _sign(args)
    token = _token_arg(args.token)
    if verb == "inspect":
        emit(_inspect_data(token), as_json=args.json, text=_inspect_text)
        return EXIT_OK
    if args.hub:
        return _verify_at_hub(args, token)
    if args.appid is not None:
        raise CliError("--appid goes with --hub", EXIT_USAGE)
    return _verify_with_key(args, token)
