"""verify-hub's password scheme (upstream ``verify_hub``), the one copy both sides use.

The zone stores ``base64(sha256(password + username + ".buckyos"))`` in
``users/<user>/settings``; for one login the client sends
``base64(sha256(stored + str(login_nonce)))``, so the password itself never travels.
"""

from __future__ import annotations

import base64
import hashlib

__all__ = ["password_hash", "password_proof"]


def password_hash(username: str, password: str) -> str:
    """What verify-hub stores: ``base64(sha256(password + username + ".buckyos"))``."""
    digest = hashlib.sha256(f"{password}{username}.buckyos".encode()).digest()
    return base64.b64encode(digest).decode("ascii")


def password_proof(stored_hash: str, nonce_ms: int) -> str:
    """What the client sends: ``base64(sha256(stored + str(nonce_ms)))``."""
    digest = hashlib.sha256(f"{stored_hash}{nonce_ms}".encode()).digest()
    return base64.b64encode(digest).decode("ascii")
