"""security: tokens, keys, RBAC, passwords, revocation.

Public names (``__all__``, pinned by ``tests/test_facades.py``), each loaded from its
module on first use, so that hashing a password does not load casbin::

    keys            Ed25519 keys: make, load, convert (PEM, JWK, raw, DID documents)
    node_tls        NodeTls: TLS between nodes, certificates from device keys, pinned
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

from buckyos.runtime.lazy import lazy_names, lazy_table

if TYPE_CHECKING:
    from buckyos.runtime.security.keys import (
        Ed25519PrivateKey as Ed25519PrivateKey,
        Ed25519PublicKey as Ed25519PublicKey,
        as_public_key as as_public_key,
        did_document as did_document,
        generate_key_pair as generate_key_pair,
        generate_private_key as generate_private_key,
        load_private_key_file as load_private_key_file,
        load_public_key as load_public_key,
        private_key_from_pem as private_key_from_pem,
        private_key_to_pem as private_key_to_pem,
        public_key_from_doc as public_key_from_doc,
        public_key_from_jwk as public_key_from_jwk,
        public_key_from_raw as public_key_from_raw,
        public_key_to_jwk as public_key_to_jwk,
        public_key_to_raw as public_key_to_raw,
    )
    from buckyos.runtime.security.node_tls import (
        ETCD_LEAF_LIFETIME as ETCD_LEAF_LIFETIME,
        ETCD_SERVER_NAME as ETCD_SERVER_NAME,
        LEAF_LIFETIME as LEAF_LIFETIME,
        DevicePins as DevicePins,
        NodeLeaf as NodeLeaf,
        NodeTls as NodeTls,
        device_anchor as device_anchor,
        make_etcd_certificate as make_etcd_certificate,
        make_node_certificate as make_node_certificate,
        peer_node as peer_node,
    )
    from buckyos.runtime.security.passwords import (
        password_hash as password_hash,
        password_proof as password_proof,
    )
    from buckyos.runtime.security.rbac import (
        DEFAULT_RBAC_MODEL as DEFAULT_RBAC_MODEL,
        DEFAULT_RBAC_POLICY as DEFAULT_RBAC_POLICY,
        RbacEnforcer as RbacEnforcer,
    )
    from buckyos.runtime.security.revocation import (
        POLL_INTERVAL as POLL_INTERVAL,
        REVOCATIONS_KEY as REVOCATIONS_KEY,
        REVOKED_SESSION as REVOKED_SESSION,
        RevocationPoller as RevocationPoller,
        Revocations as Revocations,
        RevocationSet as RevocationSet,
        verify_hub_session_key as verify_hub_session_key,
    )
    from buckyos.runtime.security.session_token import (
        ALGORITHM as ALGORITHM,
        REFRESH_AUDIENCE as REFRESH_AUDIENCE,
        SessionToken as SessionToken,
        decode_unverified as decode_unverified,
        parse_unverified as parse_unverified,
    )
    from buckyos.runtime.security.token_signing import (
        SERVICE_LOGIN_TTL as SERVICE_LOGIN_TTL,
        USER_LOGIN_TTL as USER_LOGIN_TTL,
        DeviceTokenSource as DeviceTokenSource,
        make_service_login_jwt as make_service_login_jwt,
        make_user_login_jwt as make_user_login_jwt,
        sign_token as sign_token,
    )
    from buckyos.runtime.security.token_verifier import (
        DEFAULT_LEEWAY as DEFAULT_LEEWAY,
        TokenVerifier as TokenVerifier,
        is_expiry_error as is_expiry_error,
    )
    from buckyos.runtime.security.trust_keys import (
        OWNER_KIDS as OWNER_KIDS,
        VERIFY_HUB_KID as VERIFY_HUB_KID,
        KeyKind as KeyKind,
        PublicKeyLike as PublicKeyLike,
        TrustKeyStore as TrustKeyStore,
    )

# module -> the names it lends the facade, loaded on first use (PEP 562)
_LAZY: Final = lazy_table(
    {
        ".keys": (
            "Ed25519PrivateKey Ed25519PublicKey as_public_key did_document generate_key_pair "
            "generate_private_key load_private_key_file load_public_key private_key_from_pem "
            "private_key_to_pem public_key_from_doc public_key_from_jwk public_key_from_raw "
            "public_key_to_jwk public_key_to_raw"
        ),
        ".node_tls": (
            "ETCD_LEAF_LIFETIME ETCD_SERVER_NAME LEAF_LIFETIME DevicePins NodeLeaf NodeTls "
            "device_anchor make_etcd_certificate make_node_certificate peer_node"
        ),
        ".passwords": "password_hash password_proof",
        ".rbac": "DEFAULT_RBAC_MODEL DEFAULT_RBAC_POLICY RbacEnforcer",
        ".revocation": (
            "POLL_INTERVAL REVOCATIONS_KEY REVOKED_SESSION RevocationPoller RevocationSet "
            "Revocations verify_hub_session_key"
        ),
        ".session_token": (
            "ALGORITHM REFRESH_AUDIENCE SessionToken decode_unverified parse_unverified"
        ),
        ".token_signing": (
            "SERVICE_LOGIN_TTL USER_LOGIN_TTL DeviceTokenSource make_service_login_jwt "
            "make_user_login_jwt sign_token"
        ),
        ".token_verifier": "DEFAULT_LEEWAY TokenVerifier is_expiry_error",
        ".trust_keys": "OWNER_KIDS VERIFY_HUB_KID KeyKind PublicKeyLike TrustKeyStore",
    }
)


__getattr__, __dir__ = lazy_names(__name__, _LAZY)


__all__ = sorted(_LAZY)
