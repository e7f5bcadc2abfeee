"""Ed25519 key helpers, in the formats upstream BuckyOS stores keys in.

- Private keys (device and user keys) travel as **PKCS#8 PEM** (``-----BEGIN PRIVATE KEY-----``).
- Public keys travel as an Ed25519 **JWK**: ``{"kty": "OKP", "crv": "Ed25519", "x": <b64url>}``
  with ``x`` the 32 raw key bytes, base64url without padding (RFC 8037).

Malformed input raises :class:`~buckyos.runtime.errors.ConfigError` whose message says what
was wrong (never the key material itself).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from buckyos.runtime.errors import ConfigError
from buckyos.runtime.wire.jsontext import json_object

__all__ = [
    "Ed25519PrivateKey",
    "Ed25519PublicKey",
    "as_public_key",
    "b64url_decode",
    "b64url_encode",
    "did_document",
    "generate_key_pair",
    "generate_private_key",
    "load_private_key_file",
    "load_public_key",
    "private_key_from_pem",
    "private_key_to_pem",
    "public_key_from_doc",
    "public_key_from_jwk",
    "public_key_from_raw",
    "public_key_to_jwk",
    "public_key_to_raw",
]

_B64URL_RE = re.compile(r"^[A-Za-z0-9_-]*={0,2}$")
_ED25519_KEY_BYTES = 32


def b64url_encode(data: bytes) -> str:
    """Base64url without padding (the JOSE form)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str | bytes) -> bytes:
    """Decode base64url, with or without padding; anything outside the alphabet is refused.

    Raises ``ValueError`` (callers translate it into their own error kind).
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("ascii")
        except UnicodeDecodeError as err:
            raise ValueError("not ASCII") from err
    if not _B64URL_RE.match(text):
        raise ValueError("characters outside the base64url alphabet")
    stripped = text.rstrip("=")
    if len(stripped) % 4 == 1:
        raise ValueError("impossible base64url length")
    try:
        decoded = base64.urlsafe_b64decode(stripped + "=" * (-len(stripped) % 4))
    except (binascii.Error, ValueError) as err:
        raise ValueError(f"bad base64url: {err}") from err
    # Refuse non-canonical encodings (stray bits in the last character).
    if b64url_encode(decoded) != stripped:
        raise ValueError("non-canonical base64url")
    return decoded


def generate_private_key() -> Ed25519PrivateKey:
    """A fresh Ed25519 private key."""
    return Ed25519PrivateKey.generate()


def generate_key_pair() -> tuple[Ed25519PrivateKey, Ed25519PublicKey]:
    """A fresh Ed25519 key pair ``(private, public)``."""
    private = Ed25519PrivateKey.generate()
    return private, private.public_key()


def private_key_to_pem(private_key: Ed25519PrivateKey) -> str:
    """PKCS#8 PEM, unencrypted, as upstream writes ``*_private_key.pem`` files."""
    if not isinstance(private_key, Ed25519PrivateKey):
        raise TypeError(f"expected an Ed25519 private key, got {type(private_key).__name__}")
    return private_key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    ).decode("ascii")


def private_key_from_pem(
    pem: str | bytes, *, password: bytes | None = None, source: str = "PEM data"
) -> Ed25519PrivateKey:
    """Load an Ed25519 private key from PKCS#8 PEM.

    ``source`` names where the text came from (a path, say) for the error message.
    """
    data = pem.encode("utf-8") if isinstance(pem, str) else pem
    if not data.strip():
        raise ConfigError(f"{source}: empty, expected an Ed25519 PKCS#8 PEM private key")
    if b"-----BEGIN" not in data:
        raise ConfigError(f"{source}: not PEM (no '-----BEGIN' line)")
    try:
        key = serialization.load_pem_private_key(data, password=password)
    except TypeError as err:
        # Encrypted without a password, or a password for an unencrypted key.
        raise ConfigError(f"{source}: {err}") from err
    except (ValueError, UnsupportedAlgorithm) as err:
        raise ConfigError(
            f"{source}: not a readable PKCS#8 PEM private key ({type(err).__name__})"
        ) from err
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"{source}: expected an Ed25519 private key, got {type(key).__name__}")
    return key


def load_private_key_file(path: str | Path, *, password: bytes | None = None) -> Ed25519PrivateKey:
    """Read a PKCS#8 PEM Ed25519 private key file; errors name the path."""
    file = Path(path)
    try:
        data = file.read_bytes()
    except OSError as err:
        raise ConfigError(f"cannot read private key file {file}: {err.strerror or err}") from err
    return private_key_from_pem(data, password=password, source=str(file))


def public_key_to_raw(public_key: Ed25519PublicKey) -> bytes:
    """The 32 raw public key bytes."""
    return public_key.public_bytes(
        encoding=serialization.Encoding.Raw, format=serialization.PublicFormat.Raw
    )


def public_key_from_raw(raw: bytes) -> Ed25519PublicKey:
    """An Ed25519 public key from its 32 raw bytes."""
    if len(raw) != _ED25519_KEY_BYTES:
        raise ConfigError(
            f"Ed25519 public key must be {_ED25519_KEY_BYTES} bytes, got {len(raw)} bytes"
        )
    try:
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError as err:
        raise ConfigError(f"invalid Ed25519 public key bytes: {err}") from err


def public_key_to_jwk(public_key: Ed25519PublicKey) -> dict[str, str]:
    """``{"kty": "OKP", "crv": "Ed25519", "x": <b64url no padding>}``."""
    if not isinstance(public_key, Ed25519PublicKey):
        raise TypeError(f"expected an Ed25519 public key, got {type(public_key).__name__}")
    return {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(public_key_to_raw(public_key))}


def public_key_from_jwk(jwk: Mapping[str, Any] | str) -> Ed25519PublicKey:
    """An Ed25519 public key from a JWK (a mapping, or its JSON text).

    ``kty`` must be ``OKP``, ``crv`` ``Ed25519`` and ``x`` base64url of 32 bytes. A JWK that
    also carries the private part ``d`` is refused: a public key slot must not hold a secret.
    """
    parsed = json_object(jwk, "public key JWK", ConfigError)
    kty = parsed.get("kty")
    if kty != "OKP":
        raise ConfigError(f"public key JWK: kty must be 'OKP', got {kty!r}")
    crv = parsed.get("crv")
    if crv != "Ed25519":
        raise ConfigError(f"public key JWK: crv must be 'Ed25519', got {crv!r}")
    if "d" in parsed:
        raise ConfigError("public key JWK carries a private part 'd'; refusing it")
    x = parsed.get("x")
    if not isinstance(x, str) or not x:
        raise ConfigError("public key JWK: missing or non-string 'x'")
    try:
        raw = b64url_decode(x)
    except ValueError as err:
        raise ConfigError(f"public key JWK: 'x' is not base64url ({err})") from err
    if len(raw) != _ED25519_KEY_BYTES:
        raise ConfigError(
            f"public key JWK: 'x' must decode to {_ED25519_KEY_BYTES} bytes, got {len(raw)}"
        )
    return public_key_from_raw(raw)


def did_document(did: str, public_key: Ed25519PublicKey, **fields: Any) -> dict[str, Any]:
    """A minimal DID document as upstream stores owner, user and device docs.

    The key sits at ``verificationMethod[0].publicKeyJwk`` with id ``#main_key``, where
    upstream's ``get_auth_key`` reads it; ``fields`` (``name``, ``exp``, ...) are added as is.
    """
    return {
        "@context": ["https://www.w3.org/ns/did/v1"],
        "id": did,
        "verificationMethod": [
            {
                "type": "Ed25519VerificationKey2020",
                "id": "#main_key",
                "controller": did,
                "publicKeyJwk": public_key_to_jwk(public_key),
            }
        ],
        "authentication": ["#main_key"],
        "assertion_method": ["#main_key"],
        **fields,
    }


def public_key_from_doc(
    doc: Mapping[str, Any] | str, *, what: str = "document"
) -> Ed25519PublicKey:
    """The Ed25519 auth key of an owner, user or device document (a mapping or JSON text).

    Looked up as upstream's ``get_auth_key`` does: the verification method that
    ``authentication[0]`` names (else the first one) and its ``publicKeyJwk``.  Flat forms
    some configs carry are accepted too: a top-level ``publicKeyJwk``, ``public_key`` or
    ``owner_public_key`` JWK (``node_identity.json`` uses the last).
    """
    parsed = json_object(doc, what, ConfigError)
    methods = parsed.get("verificationMethod")
    if isinstance(methods, list) and methods:
        wanted = None
        auth = parsed.get("authentication")
        if isinstance(auth, list) and auth and isinstance(auth[0], str):
            wanted = auth[0]
        chosen = next(
            (m for m in methods if isinstance(m, Mapping) and m.get("id") == wanted),
            methods[0],
        )
        if isinstance(chosen, Mapping) and "publicKeyJwk" in chosen:
            return public_key_from_jwk(chosen["publicKeyJwk"])
        raise ConfigError(f"{what}: verificationMethod has no publicKeyJwk")
    for name in ("publicKeyJwk", "public_key", "owner_public_key"):
        jwk = parsed.get(name)
        if isinstance(jwk, Mapping | str):
            return public_key_from_jwk(jwk)
    raise ConfigError(
        f"{what} carries no Ed25519 key: expected verificationMethod[0].publicKeyJwk "
        "or a public_key JWK"
    )


def load_public_key(
    value: str | Path, *, what: str = "public key", allow_private: bool = True
) -> Ed25519PublicKey:
    """An Ed25519 public key as command lines and config files give one.

    ``value`` is JWK or DID-document JSON given inline (it starts with ``{``), or a path to
    a file holding a JWK, a DID document (``node_identity.json`` too), a ``PUBLIC KEY`` PEM
    or, unless ``allow_private`` is false, a private key PEM (its public half is used).
    ``what`` names the value in errors (``--owner-key``); every failure is a
    :class:`ConfigError` saying what was wrong.
    """
    text = str(value).strip()
    source = what
    if not text.startswith("{"):
        path = Path(text).expanduser()
        try:
            text = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as err:
            reason = err.strerror if isinstance(err, OSError) and err.strerror else err
            raise ConfigError(
                f"{what}: cannot read {path} ({reason}); give a key file or the JWK JSON itself"
            ) from None
        source = f"{what} {path}"
    if "PRIVATE KEY-----" in text:
        if not allow_private:
            raise ConfigError(
                f"{source} holds a private key; give the public half "
                "(PEM 'PUBLIC KEY', a JWK or a DID document)"
            )
        return private_key_from_pem(text, source=source).public_key()
    if text.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_public_key(text.encode("ascii"))
        except (ValueError, UnicodeEncodeError, UnsupportedAlgorithm) as err:
            raise ConfigError(f"{source}: not a readable public key PEM ({err})") from None
        if not isinstance(key, Ed25519PublicKey):
            raise ConfigError(f"{source}: a {type(key).__name__}; BuckyOS keys are Ed25519")
        return key
    try:
        parsed = json.loads(text)
    except ValueError as err:
        raise ConfigError(f"{source}: expected a JWK, a DID document or a PEM ({err})") from None
    if isinstance(parsed, Mapping) and "kty" in parsed:
        try:
            return public_key_from_jwk(parsed)
        except ConfigError as err:
            raise ConfigError(f"{source}: {err}") from None
    return public_key_from_doc(parsed, what=source)


def as_public_key(key: Ed25519PublicKey | Mapping[str, Any], what: str) -> Ed25519PublicKey:
    """``key`` itself, or the key of its JWK; a ``ConfigError`` naming ``what`` otherwise."""
    if isinstance(key, Ed25519PublicKey):
        return key
    if isinstance(key, Mapping):
        try:
            return public_key_from_jwk(key)
        except ConfigError as err:
            raise ConfigError(f"{what}: {err}") from err
    raise ConfigError(f"{what}: expected an Ed25519 public key or JWK, got {type(key).__name__}")
