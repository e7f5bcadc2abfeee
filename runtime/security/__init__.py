"""security: tokens, keys, RBAC, passwords, revocation.

Public names (``__all__``, pinned by ``tests/test_facades.py``), each loaded from its
module on first use, so that hashing a password does not load casbin::

    keys            Ed25519 keys: make, load, convert (PEM, JWK, raw, DID documents)
    passwords       verify-hub's password formulas
    rbac            RbacEnforcer: casbin with upstream's model and policy
    revocation      the revocation list a server checks and verify-hub publishes
    session_token   SessionToken: the JWT format and claims; reading a token unverified
    token_signing   signing tokens, and a device's service login tokens
    token_verifier  TokenVerifier: checks a token against the trusted keys
    trust_keys      TrustKeyStore: the trusted keys by kid

A server's ``Binding(verifier=TokenVerifier(TrustKeyStore()), rbac=RbacEnforcer())`` is
built from these names and ``buckyos.runtime.server``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from buckyos.runtime.lazy import lazy_names

if TYPE_CHECKING:
    from buckyos.runtime.security.keys import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
        as_public_key,
        did_document,
        generate_key_pair,
        generate_private_key,
        load_private_key_file,
        load_public_key,
        private_key_from_pem,
        private_key_to_pem,
        public_key_from_doc,
        public_key_from_jwk,
        public_key_from_raw,
        public_key_to_jwk,
        public_key_to_raw,
    )
    from buckyos.runtime.security.passwords import password_hash, password_proof
    from buckyos.runtime.security.rbac import DEFAULT_RBAC_MODEL, DEFAULT_RBAC_POLICY, RbacEnforcer
    from buckyos.runtime.security.revocation import (
        POLL_INTERVAL,
        REVOCATIONS_KEY,
        REVOKED_SESSION,
        RevocationPoller,
        Revocations,
        RevocationSet,
        verify_hub_session_key,
    )
    from buckyos.runtime.security.session_token import (
        ALGORITHM,
        REFRESH_AUDIENCE,
        SessionToken,
        decode_unverified,
        parse_unverified,
    )
    from buckyos.runtime.security.token_signing import (
        SERVICE_LOGIN_TTL,
        USER_LOGIN_TTL,
        DeviceTokenSource,
        make_service_login_jwt,
        make_user_login_jwt,
        sign_token,
    )
    from buckyos.runtime.security.token_verifier import (
        DEFAULT_LEEWAY,
        TokenVerifier,
        is_expiry_error,
    )
    from buckyos.runtime.security.trust_keys import (
        OWNER_KIDS,
        VERIFY_HUB_KID,
        KeyKind,
        PublicKeyLike,
        TrustKeyStore,
    )

# name -> module it lives in; loaded on first use (PEP 562)
_LAZY: Final[dict[str, str]] = {
    "Ed25519PrivateKey": ".keys",
    "Ed25519PublicKey": ".keys",
    "as_public_key": ".keys",
    "did_document": ".keys",
    "generate_key_pair": ".keys",
    "generate_private_key": ".keys",
    "load_private_key_file": ".keys",
    "load_public_key": ".keys",
    "private_key_from_pem": ".keys",
    "private_key_to_pem": ".keys",
    "public_key_from_doc": ".keys",
    "public_key_from_jwk": ".keys",
    "public_key_from_raw": ".keys",
    "public_key_to_jwk": ".keys",
    "public_key_to_raw": ".keys",
    "password_hash": ".passwords",
    "password_proof": ".passwords",
    "DEFAULT_RBAC_MODEL": ".rbac",
    "DEFAULT_RBAC_POLICY": ".rbac",
    "RbacEnforcer": ".rbac",
    "POLL_INTERVAL": ".revocation",
    "REVOCATIONS_KEY": ".revocation",
    "REVOKED_SESSION": ".revocation",
    "RevocationPoller": ".revocation",
    "RevocationSet": ".revocation",
    "Revocations": ".revocation",
    "verify_hub_session_key": ".revocation",
    "ALGORITHM": ".session_token",
    "REFRESH_AUDIENCE": ".session_token",
    "SessionToken": ".session_token",
    "decode_unverified": ".session_token",
    "parse_unverified": ".session_token",
    "SERVICE_LOGIN_TTL": ".token_signing",
    "USER_LOGIN_TTL": ".token_signing",
    "DeviceTokenSource": ".token_signing",
    "make_service_login_jwt": ".token_signing",
    "make_user_login_jwt": ".token_signing",
    "sign_token": ".token_signing",
    "DEFAULT_LEEWAY": ".token_verifier",
    "TokenVerifier": ".token_verifier",
    "is_expiry_error": ".token_verifier",
    "OWNER_KIDS": ".trust_keys",
    "VERIFY_HUB_KID": ".trust_keys",
    "KeyKind": ".trust_keys",
    "PublicKeyLike": ".trust_keys",
    "TrustKeyStore": ".trust_keys",
}


__getattr__, __dir__ = lazy_names(__name__, _LAZY)


__all__ = [
    "ALGORITHM",
    "DEFAULT_LEEWAY",
    "DEFAULT_RBAC_MODEL",
    "DEFAULT_RBAC_POLICY",
    "OWNER_KIDS",
    "POLL_INTERVAL",
    "REFRESH_AUDIENCE",
    "REVOCATIONS_KEY",
    "REVOKED_SESSION",
    "SERVICE_LOGIN_TTL",
    "USER_LOGIN_TTL",
    "VERIFY_HUB_KID",
    "DeviceTokenSource",
    "Ed25519PrivateKey",
    "Ed25519PublicKey",
    "KeyKind",
    "PublicKeyLike",
    "RbacEnforcer",
    "RevocationPoller",
    "RevocationSet",
    "Revocations",
    "SessionToken",
    "TokenVerifier",
    "TrustKeyStore",
    "as_public_key",
    "decode_unverified",
    "did_document",
    "generate_key_pair",
    "generate_private_key",
    "is_expiry_error",
    "load_private_key_file",
    "load_public_key",
    "make_service_login_jwt",
    "make_user_login_jwt",
    "parse_unverified",
    "password_hash",
    "password_proof",
    "private_key_from_pem",
    "private_key_to_pem",
    "public_key_from_doc",
    "public_key_from_jwk",
    "public_key_from_raw",
    "public_key_to_jwk",
    "public_key_to_raw",
    "sign_token",
    "verify_hub_session_key",
]
