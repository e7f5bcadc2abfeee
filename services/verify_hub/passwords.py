"""Upstream's password scheme, both halves (``verify_hub/src/main.rs``); the two formulas
are the runtime's (:mod:`buckyos.runtime.security.passwords`), which clients use too.

- Stored in ``users/<user>/settings`` ``password``: ``base64(sha256(password + username +
  ".buckyos"))``, standard base64 with padding.
- Sent by a client for one login: ``base64(sha256(stored + str(login_nonce)))`` where
  ``login_nonce`` is the client's time in milliseconds; the server recomputes it from the
  stored form, so the clear password never travels and a captured hash is good for one
  nonce only (the service refuses a nonce twice and outside its freshness window).
"""

from __future__ import annotations

import base64
import binascii
import hmac
from typing import Final

from buckyos.runtime import ReasonError
from buckyos.runtime.security import (
    password_hash as stored_password_hash,
    password_proof as login_password_hash,
)

__all__ = [
    "NONCE_WINDOW_MS",
    "check_login_password",
    "login_password_hash",
    "nonce_is_fresh",
    "stored_password_hash",
]

NONCE_WINDOW_MS: Final = 28_800
"""Upstream's freshness window: |server ms - nonce| <= 28,800 (its comment says 8 hours,
its code compares milliseconds against the seconds constant; we keep what the code does)."""

_SHA256_BYTES: Final = 32


def check_login_password(sent: str, stored: str, login_nonce: int) -> bool:
    """Whether ``sent`` is the login hash of ``stored`` for ``login_nonce``.

    Raises ``ReasonError`` when ``sent`` is not standard base64 of a SHA-256 digest (upstream
    fails the same way before comparing); the comparison runs in constant time.
    """
    try:
        given = base64.b64decode(sent.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as err:
        raise ReasonError(
            f"password must be base64(sha256(stored + login_nonce)), not decodable: {err}"
        ) from None
    if len(given) != _SHA256_BYTES:
        raise ReasonError(
            f"password must be base64 of a 32-byte SHA-256 digest, got {len(given)} bytes"
        )
    expected = base64.b64decode(login_password_hash(stored, login_nonce))
    return hmac.compare_digest(given, expected)


def nonce_is_fresh(login_nonce: int, now_ms: int, window_ms: int = NONCE_WINDOW_MS) -> bool:
    """Upstream's check: the nonce is within ``window_ms`` of the server clock, either way."""
    return abs(now_ms - login_nonce) <= window_ms
