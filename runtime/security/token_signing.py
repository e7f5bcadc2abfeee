"""Signing tokens: EdDSA JWTs (:func:`sign_token`), the login JWTs a user's or a device's
key makes, and :class:`DeviceTokenSource`, this node's own credentials, renewed in time.

The header is upstream's: ``{"alg": "EdDSA"}`` plus ``kid`` when given, and no ``typ``.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Mapping
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from buckyos.runtime.security.session_token import _JWS, ALGORITHM, Clock

__all__ = [
    "SERVICE_LOGIN_TTL",
    "USER_LOGIN_TTL",
    "DeviceTokenSource",
    "make_service_login_jwt",
    "make_user_login_jwt",
    "sign_token",
]

USER_LOGIN_TTL: Final = 900
SERVICE_LOGIN_TTL: Final = 1200


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
    claims = {"appid": app_id, "sub": user_id, "iss": user_id}
    return _login_jwt(claims, private_key, None, ttl=ttl, jti=jti, clock=clock)


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
    claims = {"sub": subject, "appid": app_id, "iss": device_name}
    return _login_jwt(claims, device_private_key, device_name, ttl=ttl, jti=jti, clock=clock)


def _login_jwt(
    claims: dict[str, Any],
    key: Ed25519PrivateKey,
    kid: str | None,
    *,
    ttl: int,
    jti: str | None,
    clock: Clock,
) -> str:
    """A login JWT: ``claims`` with ``exp`` (now + ``ttl``) and a ``jti`` (random unless
    given; verify-hub refuses a replayed one), signed."""
    claims["exp"] = int(clock()) + ttl
    claims["jti"] = jti if jti is not None else secrets.token_urlsafe(16)
    return sign_token(claims, key, kid=kid)


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
