"""BuckyOS session tokens: EdDSA JWTs, trust keys by kid, and a caching verifier.

Wire facts (upstream ``buckyos-api`` / ``verify_hub``):

- Header ``{"alg": "EdDSA"}`` plus ``kid`` when given, and no ``typ``.
- Claims: ``sub`` (old name ``userid``), ``appid``, ``jti`` (old name ``nonce``), ``iss``,
  ``exp``, ``session``, ``principal_kind``, ``app_instance_id``, ``app_owner_user_id``,
  ``sudo``; a refresh token also carries ``aud: "verify-hub"``.
- The key is chosen by ``kid`` (a missing kid means ``root``); an unknown kid is
  ``No permission:kid <kid> not found``; decode failures are ``Invalid token: JWT decode
  error:<kind>`` (``ExpiredSignature``, ``InvalidSignature``...), 60 s leeway.

We do better than upstream on two points: upstream verifies with the algorithm the token
names; we accept **EdDSA only** and refuse anything else before any key is touched.  And
upstream calls a token "zone-trusted" when its ``iss`` claim is not ``verify-hub``, which
the signer chooses; here it depends on the key that verified it (:class:`KeyKind`, recorded
on the token as :attr:`SessionToken.signer`): trust beyond the user is proven, never
declared.
"""

from __future__ import annotations

import enum
import json
import math
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final, TypeAlias

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from buckyos.runtime.errors import (
    ConfigError,
    InvalidTokenError,
    NoPermissionError,
    TokenExpiredError,
)
from buckyos.runtime.security.keys import as_public_key, b64url_decode

__all__ = [
    "ALGORITHM",
    "DEFAULT_LEEWAY",
    "MAX_TOKEN_BYTES",
    "OWNER_KIDS",
    "REFRESH_AUDIENCE",
    "SERVICE_LOGIN_TTL",
    "USER_LOGIN_TTL",
    "VERIFY_HUB_KID",
    "ZONE_TRUSTED_PRINCIPAL_KINDS",
    "Clock",
    "DeviceTokenSource",
    "KeyKind",
    "PublicKeyLike",
    "SessionToken",
    "TokenVerifier",
    "TrustKeyStore",
    "decode_unverified",
    "is_expiry_error",
    "make_service_login_jwt",
    "make_user_login_jwt",
    "parse_unverified",
    "sign_token",
]

ALGORITHM: Final = "EdDSA"
DEFAULT_LEEWAY: Final = 60
MAX_TOKEN_BYTES: Final = 8192
VERIFY_HUB_KID: Final = "verify-hub"
REFRESH_AUDIENCE: Final = "verify-hub"
OWNER_KIDS: Final = ("root", "$default")
USER_LOGIN_TTL: Final = 900
SERVICE_LOGIN_TTL: Final = 1200
ZONE_TRUSTED_PRINCIPAL_KINDS: Final = frozenset({"device", "service"})
"""The ``principal_kind`` values that make a verify-hub token zone-trusted (upstream's
``app_availability.rs``): verify-hub issued it for a device, or for a service a device
vouched for; ``user`` (a login) never is."""


class KeyKind(enum.Enum):
    """Which kind of trusted key a kid names, so which kind verified a token."""

    OWNER = "owner"
    """The zone owner's key (``root``, ``$default``, the owner DID)."""
    DEVICE = "device"
    """A zone device's key (its name, its DID)."""
    VERIFY_HUB = "verify-hub"
    """verify-hub's signing key: it signs users' sessions as well as services'."""
    OTHER = "other"
    """A key trusted under an arbitrary kid (:meth:`TrustKeyStore.add_key`): it may verify
    tokens, but vouches for nothing beyond their user."""


Clock: TypeAlias = Callable[[], float]
PublicKeyLike: TypeAlias = Ed25519PublicKey | Mapping[str, Any]
"""An Ed25519 public key object, or its JWK (``{"kty":"OKP","crv":"Ed25519","x":...}``)."""

_TOKEN_CHARS: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
_DECODE: Final = "JWT decode error:"
_EXPIRED: Final = "JWT decode error:ExpiredSignature"
_DECODE_HEADER: Final = "JWT decode header error : "

# A JWS engine that knows EdDSA and nothing else: even if a check above were skipped, pyjwt
# could not fall back to "none" or HMAC.
_JWS: Final = jwt.PyJWS(algorithms=[ALGORITHM])


# --------------------------------------------------------------------------- signing


def sign_token(
    claims: Mapping[str, Any], private_key: Ed25519PrivateKey, *, kid: str | None
) -> str:
    """Sign ``claims`` as an EdDSA JWT: header ``{"alg":"EdDSA"}`` (+ ``kid``), no ``typ``."""
    if not isinstance(private_key, Ed25519PrivateKey):
        raise TypeError(
            f"sign_token needs an Ed25519 private key, got {type(private_key).__name__}"
        )
    if kid is not None and (not isinstance(kid, str) or not kid):
        raise ValueError("kid must be a non-empty string or None")
    try:
        payload = json.dumps(
            dict(claims), separators=(",", ":"), ensure_ascii=True, allow_nan=False
        ).encode("ascii")
    except (TypeError, ValueError) as err:
        raise ValueError(f"token claims are not JSON-serializable: {err}") from err
    # typ=None makes pyjwt drop its default "typ": "JWT".
    headers: dict[str, Any] = {"typ": None}
    if kid is not None:
        headers["kid"] = kid
    return _JWS.encode(payload, private_key, algorithm=ALGORITHM, headers=headers)


def make_user_login_jwt(
    private_key: Ed25519PrivateKey,
    *,
    user_id: str,
    app_id: str,
    ttl: int = USER_LOGIN_TTL,
    jti: str | None = None,
    clock: Clock = time.time,
) -> str:
    """The self-signed login JWT of an AppClient holding a user key.

    Claims ``{appid, sub: user, iss: user, exp: now+900, jti}``, no ``kid`` (so the
    verifier looks the key up as ``root`` or by ``iss``).  Upstream's client sends no
    ``jti``, but verify-hub's ``login_by_jwt`` requires one (it refuses replays by it), so
    we add a random one: verifiers that do not read it ignore it.
    """
    now = int(clock())
    claims = {
        "appid": app_id,
        "sub": user_id,
        "iss": user_id,
        "exp": now + ttl,
        "jti": jti if jti is not None else secrets.token_urlsafe(16),
    }
    return sign_token(claims, private_key, kid=None)


def make_service_login_jwt(
    device_private_key: Ed25519PrivateKey,
    *,
    device_name: str,
    subject: str,
    app_id: str,
    ttl: int = SERVICE_LOGIN_TTL,
    jti: str | None = None,
    clock: Clock = time.time,
) -> str:
    """A device-signed service login JWT, traded with verify-hub ``login_by_jwt``.

    Claims ``{sub, appid, iss: device_name, jti: random, exp: now+1200}``, kid = device name.
    """
    now = int(clock())
    claims = {
        "sub": subject,
        "appid": app_id,
        "iss": device_name,
        "jti": jti if jti is not None else secrets.token_urlsafe(16),
        "exp": now + ttl,
    }
    return sign_token(claims, device_private_key, kid=device_name)


class DeviceTokenSource:
    """This node's own credentials: a device-signed service login JWT
    (:func:`make_service_login_jwt`; ``subject`` defaults to the device name), signed anew
    once less than ``renew_before`` seconds of its ``ttl`` remain, so that no call carries
    a token about to lapse in flight.  Thread-safe.
    """

    def __init__(
        self,
        device_key: Ed25519PrivateKey,
        device_name: str,
        *,
        app_id: str,
        subject: str | None = None,
        ttl: int = SERVICE_LOGIN_TTL,
        renew_before: int = 120,
        clock: Clock = time.time,
    ) -> None:
        if not device_name:
            raise ValueError("device_name must name this node's device (the token's kid)")
        if not 0 <= renew_before < ttl:
            raise ValueError(f"renew_before ({renew_before}) must be below ttl ({ttl})")
        self.device_key = device_key
        self.device_name = device_name
        self.app_id = app_id
        self.subject = subject if subject is not None else device_name
        self.ttl = ttl
        self.renew_before = renew_before
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._exp = 0.0

    def token(self) -> str:
        """A token valid for at least ``renew_before`` seconds more."""
        with self._lock:
            now = self._clock()
            if self._token is None or self._exp - now < self.renew_before:
                self._token = make_service_login_jwt(
                    self.device_key,
                    device_name=self.device_name,
                    subject=self.subject,
                    app_id=self.app_id,
                    ttl=self.ttl,
                    clock=lambda: now,
                )
                self._exp = int(now) + self.ttl
            return self._token


# --------------------------------------------------------------------------- parsing


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
    """The claims of a token, parsed (and, from :class:`TokenVerifier`, verified).

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
    """The kind of key that verified the signature (:class:`TokenVerifier`); ``None`` for a
    token that was only parsed (:func:`parse_unverified`)."""

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
        :attr:`KeyKind.OTHER`.
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


def is_expiry_error(error: BaseException) -> bool:
    """Whether ``error`` means "the token expired, renew it".

    Upstream words it ``Invalid token: JWT decode error:ExpiredSignature`` today and
    ``Token expired:<token>`` in the classic era; clients treat both the same.
    """
    if isinstance(error, TokenExpiredError):
        return True
    return isinstance(error, InvalidTokenError) and error.detail == _EXPIRED


# --------------------------------------------------------------------------- trust keys


def _check_kid(kid: object, what: str) -> str:
    if not isinstance(kid, str) or not kid:
        raise ConfigError(f"{what} must be a non-empty string")
    return kid


class TrustKeyStore:
    """kid -> Ed25519 public key, with upstream's naming rules. Thread-safe.

    - ``root``, ``$default`` and the owner DID give the zone owner key;
    - a device's name and its DID give the device key;
    - ``verify-hub`` gives verify-hub's key (``boot/config`` ``verify_hub_info.public_key``);
    - any other kid may be added explicitly (:meth:`add_key`, kind ``OTHER``).

    Each kid remembers the :class:`KeyKind` it was added as, which the verifier records on
    the tokens it verifies (:attr:`SessionToken.signer`).  The owner's kids and
    ``verify-hub`` are reserved for their setters: a device may not be named after them.

    A missing kid (``None``) means ``root``. Every change bumps :attr:`generation`,
    which :class:`TokenVerifier` watches to drop its cache.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._keys: dict[str, Ed25519PublicKey] = {}
        self._kinds: dict[str, KeyKind] = {}
        self._owner_kids: tuple[str, ...] = ()
        self._devices: dict[str, tuple[str, ...]] = {}  # device name -> its kids
        self._generation = 0

    # -- reading

    @property
    def generation(self) -> int:
        """Bumped on every change; read on every cached verification, so without the lock
        (an int attribute read is atomic)."""
        return self._generation

    def kids(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._keys)

    def __contains__(self, kid: object) -> bool:
        with self._lock:
            return kid in self._keys

    def __len__(self) -> int:
        with self._lock:
            return len(self._keys)

    def lookup(self, kid: str | None) -> Ed25519PublicKey:
        """The key for ``kid`` (None means ``root``).

        Raises ``NoPermissionError`` (``No permission:kid <kid> not found``).
        """
        return self.lookup_with_generation(kid)[0]

    def lookup_with_generation(self, kid: str | None) -> tuple[Ed25519PublicKey, int]:
        """The key and the generation it was read at, atomically."""
        key, _, generation = self.lookup_entry(kid)
        return key, generation

    def lookup_entry(self, kid: str | None) -> tuple[Ed25519PublicKey, KeyKind, int]:
        """The key, the kind it was added as, and the generation read, atomically."""
        name = "root" if kid is None else kid
        with self._lock:
            key = self._keys.get(name)
            if key is None:
                raise NoPermissionError(f"kid {name} not found")
            return key, self._kinds[name], self._generation

    def kind_of(self, kid: str | None) -> KeyKind | None:
        """The kind of key ``kid`` names (None means ``root``), or ``None`` if untrusted."""
        with self._lock:
            return self._kinds.get("root" if kid is None else kid)

    # -- writing

    def _changed(self) -> None:
        self._generation += 1

    def _drop(self, kids: Iterable[str]) -> None:
        for kid in kids:
            self._keys.pop(kid, None)
            self._kinds.pop(kid, None)

    def _put(self, kid: str, key: Ed25519PublicKey, kind: KeyKind) -> None:
        self._keys[kid] = key
        self._kinds[kid] = kind

    def set_owner_key(self, key: PublicKeyLike, owner_did: str | None = None) -> None:
        """The zone owner key, under ``root``, ``$default`` and ``owner_did``."""
        public = as_public_key(key, "owner public key")
        kids: tuple[str, ...] = OWNER_KIDS
        if owner_did is not None:
            kids = (*kids, _check_kid(owner_did, "owner DID"))
        with self._lock:
            self._drop(self._owner_kids)
            self._owner_kids = kids
            for kid in kids:
                self._put(kid, public, KeyKind.OWNER)
            self._changed()

    def add_device(self, name: str, key: PublicKeyLike, did: str | None = None) -> None:
        """A device key, under the device name and (when given) its DID.

        A device named like an owner kid or ``verify-hub`` is refused (``ConfigError``): its
        tokens would be zone-trusted under a name that promises something else.
        """
        _check_kid(name, "device name")
        public = as_public_key(key, f"device {name} public key")
        kids: tuple[str, ...] = (name,)
        if did is not None:
            kids = (name, _check_kid(did, "device DID"))
        with self._lock:
            for kid in kids:
                if kid == VERIFY_HUB_KID or kid in OWNER_KIDS or kid in self._owner_kids:
                    raise ConfigError(
                        f"device {name}: {kid!r} is a reserved kid (the zone owner's or "
                        "verify-hub's); give the device its own name"
                    )
            self._drop(self._devices.pop(name, ()))
            self._devices[name] = kids
            for kid in kids:
                self._put(kid, public, KeyKind.DEVICE)
            self._changed()

    def set_verify_hub_key(self, key: PublicKeyLike) -> None:
        """verify-hub's key (kid ``verify-hub``)."""
        public = as_public_key(key, "verify-hub public key")
        with self._lock:
            self._put(VERIFY_HUB_KID, public, KeyKind.VERIFY_HUB)
            self._changed()

    def set_verify_hub_key_from_boot_config(self, boot_config: Mapping[str, Any] | str) -> None:
        """Read ``verify_hub_info.public_key`` (a JWK) from ``boot/config`` (object or JSON)."""
        config: object = boot_config
        if isinstance(boot_config, str):
            try:
                config = json.loads(boot_config)
            except ValueError as err:
                raise ConfigError(f"boot/config is not valid JSON: {err}") from err
        if not isinstance(config, Mapping):
            raise ConfigError("boot/config must be a JSON object")
        info = config.get("verify_hub_info")
        if not isinstance(info, Mapping):
            raise ConfigError("boot/config has no verify_hub_info object")
        jwk = info.get("public_key")
        if not isinstance(jwk, Mapping):
            raise ConfigError("boot/config verify_hub_info.public_key is missing or not a JWK")
        self.set_verify_hub_key(jwk)

    def add_key(self, kid: str, key: PublicKeyLike) -> None:
        """Trust ``key`` under an arbitrary ``kid`` (replacing what was there), as kind
        :attr:`KeyKind.OTHER`: tokens it verifies are valid but not zone-trusted, even under
        kid ``root`` or ``verify-hub`` (use :meth:`set_owner_key`, :meth:`add_device` or
        :meth:`set_verify_hub_key` for those)."""
        _check_kid(kid, "kid")
        public = as_public_key(key, f"public key for kid {kid}")
        with self._lock:
            self._put(kid, public, KeyKind.OTHER)
            self._changed()

    def remove(self, kid: str) -> bool:
        """Stop trusting ``kid``; returns whether anything was removed.

        An owner alias (``root``, ``$default``, owner DID) removes the owner key under all its
        names; a device name or DID removes that device under both.
        """
        with self._lock:
            if kid in self._owner_kids:
                group = self._owner_kids
                self._owner_kids = ()
            else:
                device = next((n for n, ks in self._devices.items() if kid in ks), None)
                group = self._devices.pop(device) if device is not None else (kid,)
            removed = any(k in self._keys for k in group)
            self._drop(group)
            if removed:
                self._changed()
            return removed

    def clear(self) -> None:
        with self._lock:
            self._keys.clear()
            self._kinds.clear()
            self._owner_kids = ()
            self._devices.clear()
            self._changed()


# --------------------------------------------------------------------------- verifying


@dataclass(frozen=True, slots=True)
class _CacheEntry:
    token: SessionToken
    valid_until: float
    generation: int


class TokenVerifier:
    """Verify session tokens against a :class:`TrustKeyStore`. Thread-safe.

    EdDSA only; ``exp`` required; ``exp``/``nbf``/``iat`` checked with ``leeway`` seconds;
    a token with ``aud`` (a refresh token) is refused unless ``allow_refresh``.

    Verified tokens are cached by their exact string until ``exp + leeway`` (bounded LRU of
    ``cache_size``; 0 disables); the cache is emptied whenever the trust store changes.
    :attr:`signature_checks` counts real signature verifications.
    """

    def __init__(
        self,
        trust: TrustKeyStore,
        *,
        leeway: float = DEFAULT_LEEWAY,
        cache_size: int = 4096,
        clock: Clock = time.time,
    ) -> None:
        if leeway < 0:
            raise ValueError("leeway must be >= 0")
        if cache_size < 0:
            raise ValueError("cache_size must be >= 0")
        self.trust = trust
        self.leeway = leeway
        self.cache_size = cache_size
        self._clock = clock
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, _CacheEntry] = OrderedDict()
        self._generation = trust.generation
        self._signature_checks = 0
        self._cache_hits = 0

    @property
    def signature_checks(self) -> int:
        with self._lock:
            return self._signature_checks

    @property
    def cache_hits(self) -> int:
        with self._lock:
            return self._cache_hits

    def cache_len(self) -> int:
        with self._lock:
            return len(self._cache)

    def clear_cache(self) -> None:
        with self._lock:
            self._cache.clear()

    def verify(self, token: str, *, allow_refresh: bool = False) -> SessionToken:
        """Verify ``token`` and return its claims, or raise.

        Raises ``InvalidTokenError`` (malformed, wrong algorithm, bad signature, expired,
        not yet valid, refresh token) or ``NoPermissionError`` (kid not trusted).
        """
        # The hot path: a token seen before, read without the lock (a dict read is atomic
        # under the GIL; writers hold the lock).  A cached token already passed the shape
        # check; a stale generation or an expired entry takes the locked path below.
        entry = self._cache.get(token) if type(token) is str else None
        if (
            entry is not None
            and entry.generation == self.trust.generation
            and self._clock() <= entry.valid_until
        ):
            self._cache_hits += 1  # a statistic: a lost increment under threads is harmless
            result = entry.token
        else:
            token = _check_shape(token)
            result = self._from_cache(token) or self._verify_fresh(token)
        if result.aud and not allow_refresh:
            raise InvalidTokenError("refresh token cannot be used as session token")
        return result

    def _sync_generation_locked(self) -> int:
        generation = self.trust.generation
        if generation != self._generation:
            self._cache.clear()
            self._generation = generation
        return generation

    def _from_cache(self, token: str) -> SessionToken | None:
        if self.cache_size == 0:
            return None
        now = self._clock()
        with self._lock:
            self._sync_generation_locked()
            entry = self._cache.get(token)
            if entry is None:
                return None
            if now > entry.valid_until:
                del self._cache[token]
                return None
            self._cache.move_to_end(token)
            self._cache_hits += 1
            return entry.token

    def _verify_fresh(self, token: str) -> SessionToken:
        header = _decode_header(token)
        alg = header.get("alg")
        if alg != ALGORITHM:
            raise InvalidTokenError(
                f"{_DECODE}InvalidAlgorithm: algorithm {alg!r} is not allowed (EdDSA only)"
            )
        kid = header.get("kid")
        key, kind, generation = self.trust.lookup_entry(kid)
        with self._lock:
            self._signature_checks += 1
        try:
            decoded = _JWS.decode_complete(token, key=key, algorithms=[ALGORITHM])
        except jwt.InvalidSignatureError as err:
            raise InvalidTokenError(f"{_DECODE}InvalidSignature") from err
        except jwt.InvalidAlgorithmError as err:
            raise InvalidTokenError(
                f"{_DECODE}InvalidAlgorithm: algorithm {alg!r} is not allowed (EdDSA only)"
            ) from err
        except jwt.PyJWTError as err:
            raise InvalidTokenError(f"{_DECODE}InvalidToken ({err})") from err
        payload: bytes = decoded["payload"]
        try:
            claims = _load_json_object(payload)
        except ValueError as err:
            raise InvalidTokenError(f"{_DECODE}{err}") from err
        session = SessionToken.from_parts(token, header, claims, signer=kind)
        now = self._clock()
        self._check_times(session, now)
        self._remember(token, session, generation, now)
        return session

    def _check_times(self, session: SessionToken, now: float) -> None:
        # Upstream (jsonwebtoken): expired when exp < now - leeway.
        if session.exp < now - self.leeway:
            raise InvalidTokenError(_EXPIRED)
        if session.nbf is not None and session.nbf > now + self.leeway:
            raise InvalidTokenError(f"{_DECODE}ImmatureSignature")
        if session.iat is not None and session.iat > now + self.leeway:
            raise InvalidTokenError(f"{_DECODE}ImmatureSignature (iat in the future)")

    def _remember(self, token: str, session: SessionToken, generation: int, now: float) -> None:
        if self.cache_size == 0:
            return
        valid_until = session.exp + self.leeway
        with self._lock:
            # Keys changed while we verified: this result may rest on a key no longer trusted.
            if self._sync_generation_locked() != generation:
                return
            self._cache[token] = _CacheEntry(session, valid_until, generation)
            self._cache.move_to_end(token)
            if len(self._cache) > self.cache_size:
                # Full: first drop what has expired anyway, then the least recently used.
                for stale in [k for k, e in self._cache.items() if now > e.valid_until]:
                    del self._cache[stale]
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
