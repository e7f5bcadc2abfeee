"""A session token's format: EdDSA JWTs read strictly, and their claims as :class:`SessionToken`.

Wire facts (upstream ``buckyos-api`` / ``verify_hub``):

- Header ``{"alg": "EdDSA"}`` plus ``kid`` when given, and no ``typ``.
- Claims: ``sub`` (old name ``userid``), ``appid``, ``jti`` (old name ``nonce``), ``iss``,
  ``exp``, ``session``, ``principal_kind``, ``app_instance_id``, ``app_owner_user_id``,
  ``sudo``; a refresh token also carries ``aud: "verify-hub"``.

Upstream calls a token "zone-trusted" when its ``iss`` claim is not ``verify-hub``, which
the signer chooses; here it depends on the key that verified it
(:class:`~buckyos.runtime.security.trust_keys.KeyKind`, recorded on the token as
:attr:`SessionToken.signer`): trust beyond the user is proven, never declared.

Nothing here checks a signature: :mod:`~buckyos.runtime.security.token_verifier` does, with
the strict parsing below (its ``_`` helpers are shared with it);
:mod:`~buckyos.runtime.security.token_signing` signs.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final, TypeAlias

import jwt

from buckyos.runtime.errors import InvalidTokenError
from buckyos.runtime.security.keys import b64url_decode
from buckyos.runtime.security.trust_keys import VERIFY_HUB_KID, KeyKind

__all__ = [
    "ALGORITHM",
    "MAX_TOKEN_BYTES",
    "REFRESH_AUDIENCE",
    "ZONE_TRUSTED_PRINCIPAL_KINDS",
    "Clock",
    "SessionToken",
    "decode_unverified",
    "parse_unverified",
]

ALGORITHM: Final = "EdDSA"
MAX_TOKEN_BYTES: Final = 8192
REFRESH_AUDIENCE: Final = "verify-hub"
ZONE_TRUSTED_PRINCIPAL_KINDS: Final = frozenset({"device", "service"})
"""The ``principal_kind`` values that make a verify-hub token zone-trusted (upstream's
``app_availability.rs``): verify-hub issued it for a device, or for a service a device
vouched for; ``user`` (a login) never is."""

Clock: TypeAlias = Callable[[], float]
"""What tokens' times are read by: unix seconds (``time.time``)."""

_TOKEN_CHARS: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
_DECODE: Final = "JWT decode error:"
_DECODE_HEADER: Final = "JWT decode header error : "

# A JWS engine that knows EdDSA and nothing else: even if the verifier's algorithm check
# were skipped, pyjwt could not fall back to "none" or HMAC.
_JWS: Final = jwt.PyJWS(algorithms=[ALGORITHM])


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _load_json_object(data: bytes) -> dict[str, Any]:
    """Strict JSON: no NaN/Infinity, no duplicate keys, must be an object."""
    try:
        text = data.decode("utf-8")
        value = json.loads(text, object_pairs_hook=_unique_object, parse_constant=_refuse_constant)
    except UnicodeDecodeError as err:
        raise ValueError(f"UTF-8 error: {err.reason}") from err
    except (ValueError, RecursionError) as err:
        raise ValueError(f"JSON error: {err}") from err
    if not isinstance(value, dict):
        raise ValueError(f"JSON error: expected an object, got {type(value).__name__}")
    return value


def _check_shape(token: object) -> str:
    """Cheap checks before any parsing: type, size, ASCII, alphabet, three segments."""
    if not isinstance(token, str):
        raise InvalidTokenError(f"token must be a string, got {type(token).__name__}")
    if not token:
        raise InvalidTokenError("Token is empty")
    if len(token) > MAX_TOKEN_BYTES:
        raise InvalidTokenError(f"token too large ({len(token)} bytes > {MAX_TOKEN_BYTES})")
    if not token.isascii():
        raise InvalidTokenError("token contains non-ASCII characters")
    if not _TOKEN_CHARS.issuperset(token):
        raise InvalidTokenError("token contains characters outside base64url and '.'")
    if token.count(".") != 2:
        raise InvalidTokenError(f"{_DECODE}InvalidToken (expected 3 segments)")
    return token


def _decode_header(token: str) -> dict[str, Any]:
    segment = token.split(".", 1)[0]
    try:
        header = _load_json_object(b64url_decode(segment))
    except ValueError as err:
        raise InvalidTokenError(f"{_DECODE_HEADER}{err}") from err
    kid = header.get("kid")
    if "kid" in header and not isinstance(kid, str):
        raise InvalidTokenError(f"{_DECODE_HEADER}kid must be a string")
    if "crit" in header:
        raise InvalidTokenError(f"{_DECODE_HEADER}critical header extensions are not supported")
    if header.get("b64", True) is not True:
        raise InvalidTokenError(f"{_DECODE_HEADER}unencoded payload (b64) is not supported")
    return header


def _decode_claims_segment(segment: str | bytes) -> dict[str, Any]:
    try:
        raw = b64url_decode(segment)
    except ValueError as err:
        raise InvalidTokenError(f"{_DECODE}Base64 error: {err}") from err
    try:
        return _load_json_object(raw)
    except ValueError as err:
        raise InvalidTokenError(f"{_DECODE}{err}") from err


def decode_unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(header, claims)`` of a token WITHOUT checking its signature or times.

    For inspection (CLI, logging, reading one's own token); never for authorization.
    """
    token = _check_shape(token)
    header = _decode_header(token)
    claims = _decode_claims_segment(token.split(".")[1])
    return header, claims


def _opt_str(claims: Mapping[str, Any], name: str) -> str | None:
    value = claims.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidTokenError(f"Invalid {name}")
    return value


def _opt_time(claims: Mapping[str, Any], name: str) -> int | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidTokenError(f"{_DECODE}{name} must be a number")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidTokenError(f"{_DECODE}{name} must be a number")
        return math.floor(value)
    return value


def _user_id(claims: Mapping[str, Any]) -> str:
    sub = claims.get("sub")
    userid = claims.get("userid")
    if sub is not None and userid is not None and sub != userid:
        raise InvalidTokenError("sub and userid disagree")
    value = sub if sub is not None else userid
    if value is None:
        raise InvalidTokenError("Missing userid")
    if not isinstance(value, str) or not value:
        raise InvalidTokenError("Invalid userid")
    return value


def _jti(claims: Mapping[str, Any]) -> str | None:
    value = claims.get("jti")
    if value is None:
        value = claims.get("nonce")  # classic era: a number
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidTokenError("Invalid jti")
    return str(value)


def _audience(claims: Mapping[str, Any]) -> tuple[str, ...]:
    aud = claims.get("aud")
    if aud is None:
        return ()
    if isinstance(aud, str):
        return (aud,)
    if isinstance(aud, list) and all(isinstance(item, str) for item in aud):
        return tuple(aud)
    raise InvalidTokenError(f"{_DECODE}InvalidAudience")


def _session(claims: Mapping[str, Any]) -> int | str | None:
    value = claims.get("session")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InvalidTokenError("Invalid session")
    return value


def _sudo(claims: Mapping[str, Any]) -> bool:
    value = claims.get("sudo", False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise InvalidTokenError("Invalid sudo")
    return value


@dataclass(frozen=True, slots=True)
class SessionToken:
    """The claims of a token, parsed (and, from :class:`~.token_verifier.TokenVerifier`,
    verified).

    ``token`` is the raw string; it is kept out of ``repr`` so it does not leak into logs.
    ``claims`` is a read-only view of every claim (``dict(t.claims)`` for a copy).
    """

    token: str = field(repr=False)
    sub: str
    appid: str | None
    jti: str | None
    iss: str | None
    exp: int
    iat: int | None
    nbf: int | None
    aud: tuple[str, ...]
    session: int | str | None
    sudo: bool
    principal_kind: str | None
    app_instance_id: str | None
    app_owner_user_id: str | None
    kid: str | None
    claims: Mapping[str, Any] = field(repr=False, compare=False, hash=False)
    signer: KeyKind | None = None
    """The kind of key that verified the signature (:class:`~.token_verifier.TokenVerifier`);
    ``None`` for a token that was only parsed (:func:`parse_unverified`)."""

    @classmethod
    def from_parts(
        cls,
        token: str,
        header: Mapping[str, Any],
        claims: Mapping[str, Any],
        *,
        signer: KeyKind | None = None,
    ) -> SessionToken:
        """Build from a decoded header and claims (no signature or time check here);
        ``signer`` is the kind of key that verified it, when one did."""
        exp = _opt_time(claims, "exp")
        if exp is None:
            raise InvalidTokenError(f"{_DECODE}Missing required claim: exp")
        kid = header.get("kid")
        return cls(
            token=token,
            sub=_user_id(claims),
            appid=_opt_str(claims, "appid"),
            jti=_jti(claims),
            iss=_opt_str(claims, "iss"),
            exp=exp,
            iat=_opt_time(claims, "iat"),
            nbf=_opt_time(claims, "nbf"),
            aud=_audience(claims),
            session=_session(claims),
            sudo=_sudo(claims),
            principal_kind=_opt_str(claims, "principal_kind"),
            app_instance_id=_opt_str(claims, "app_instance_id"),
            app_owner_user_id=_opt_str(claims, "app_owner_user_id"),
            kid=kid if isinstance(kid, str) else None,
            claims=MappingProxyType(dict(claims)),
            signer=signer,
        )

    @property
    def user_id(self) -> str:
        return self.sub

    @property
    def app_id(self) -> str:
        """``appid``, else ``kernel`` (upstream's default)."""
        return self.appid if self.appid is not None else "kernel"

    @property
    def session_key(self) -> str:
        """The ``session`` claim when present (as text), else the subject."""
        return str(self.session) if self.session is not None else self.sub

    @property
    def is_refresh(self) -> bool:
        return REFRESH_AUDIENCE in self.aud

    @property
    def issued_by_verify_hub(self) -> bool:
        return self.iss == VERIFY_HUB_KID

    @property
    def zone_trusted(self) -> bool:
        """Whether the token speaks for the zone itself, not just for its user.

        True when the zone owner's key or a zone device's key verified it, or verify-hub's
        key did and the session is a device's or a service's (``principal_kind``).  Upstream
        (``task_manager`` ``is_zone_trusted``) trusts any token whose ``iss`` claim is not
        ``verify-hub``; a claim is what the signer says, so here the verifying key decides:
        a user's session (``principal_kind: user``) is never zone-trusted, whatever app id
        or ``iss`` it claims, nor is a token only parsed or verified by a key of kind
        :attr:`~.trust_keys.KeyKind.OTHER`.
        """
        signer = self.signer
        if signer is KeyKind.OWNER or signer is KeyKind.DEVICE:
            return True
        return signer is KeyKind.VERIFY_HUB and self.principal_kind in ZONE_TRUSTED_PRINCIPAL_KINDS

    def expires_in(self, now: float) -> float:
        """Seconds until ``exp`` (negative once past)."""
        return self.exp - now


def parse_unverified(token: str) -> SessionToken:
    """A :class:`SessionToken` WITHOUT verification: for reading one's own token only."""
    header, claims = decode_unverified(token)
    return SessionToken.from_parts(token, header, claims)
