"""Token attacks against the real system_config and verify-hub, over kRPC/HTTP and gRPC.

The zone and the recording are :mod:`tests.security_zone`'s; this suite's cases are saved
as ``tests/.results/security-tokens.json``.  Unit tests of the verifier alone
(``tests/test_tokens.py``) and of verify-hub's refusals (``tests/test_verify_hub_service.py``)
are cited in the table, not repeated here.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from buckyos.runtime.security.keys import b64url_encode, public_key_to_raw
from buckyos.runtime.security.token_signing import make_user_login_jwt, sign_token
from tests.security_zone import (
    WIRES,
    Case,
    SecurityZone,
    b64,
    check_refused,
    hub_call,
    only_revoked,
    write_target,
    zone_for,
)
from tests.verify_hub_fakes import login_hash, now_ms

zone = zone_for("tokens", "tests/test_security_tokens.py")


# --------------------------------------------------------------------------- forged tokens

ALG_NONE = Case(
    "alg-none",
    "`alg: none`, no signature (kid `root`, claims root/kernel)",
    "Invalid token: JWT decode error:InvalidAlgorithm: algorithm 'none' is not allowed (EdDSA only)",
    "tests/test_tokens.py::test_alg_none_refused",
)
HS256 = Case(
    "hs256-public-key",
    "HS256 signed with the owner's public key bytes (kid `root`)",
    "Invalid token: JWT decode error:InvalidAlgorithm: algorithm 'HS256' is not allowed (EdDSA only)",
    "tests/test_tokens.py::test_hs256_with_public_key_bytes_refused",
)
RS256 = Case(
    "rs256",
    "RS256 token (RSA key of the attacker, kid `root`)",
    "Invalid token: JWT decode error:InvalidAlgorithm: algorithm 'RS256' is not allowed (EdDSA only)",
    "tests/test_tokens.py::test_rs256_and_es256_refused_before_kid_lookup",
)
ES256 = Case(
    "es256",
    "ES256 token (P-256 key of the attacker, kid `root`)",
    "Invalid token: JWT decode error:InvalidAlgorithm: algorithm 'ES256' is not allowed (EdDSA only)",
    "tests/test_tokens.py::test_rs256_and_es256_refused_before_kid_lookup",
)
EXPIRED = Case(
    "expired",
    "owner-signed token, `exp` 61 s ago (beyond the 60 s leeway)",
    "Invalid token: JWT decode error:ExpiredSignature",
    "tests/test_tokens.py::test_expired_beyond_leeway_exact_text",
)
EXPIRED_HUB = Case(
    "expired-session",
    "a real verify-hub session token 961 s after issue (900 s life + 60 s leeway)",
    "Invalid token: JWT decode error:ExpiredSignature",
)
NBF = Case(
    "nbf-future",
    "`nbf` 120 s in the future",
    "Invalid token: JWT decode error:ImmatureSignature",
    "tests/test_tokens.py::test_nbf_in_future_refused",
)
IAT = Case(
    "iat-future",
    "`iat` 120 s in the future",
    "Invalid token: JWT decode error:ImmatureSignature (iat in the future)",
    "tests/test_tokens.py::test_iat_in_future_refused",
)
UNKNOWN_KID = Case(
    "unknown-kid",
    "kid `nobody`",
    "No permission:kid nobody not found",
    "tests/test_tokens.py::test_unknown_kid_exact_text",
)
OTHER_KID = Case(
    "kid-of-another-principal",
    "signed by the device key, kid `root` (the owner's), claims root/kernel",
    "Invalid token: JWT decode error:InvalidSignature",
    "tests/test_tokens.py::test_kid_of_another_principal_fails_signature",
)
TAMPERED = Case(
    "tampered-payload",
    "alice's real session token with its payload changed to root/kernel, original signature",
    "Invalid token: JWT decode error:InvalidSignature",
    "tests/test_tokens.py::test_tampered_payload_with_original_signature",
)
UNTRUSTED = Case(
    "untrusted-key",
    "valid Ed25519 signature by a key the zone does not trust (kid `verify-hub`)",
    "Invalid token: JWT decode error:InvalidSignature",
    "tests/test_tokens.py::test_untrusted_key_fails_signature",
)
OVERSIZED = Case(
    "oversized",
    "a validly signed token of about 12 KB (over the 8 KiB cap)",
    "Invalid token: token too large (12",
    "tests/test_tokens.py::test_oversized_token_refused_before_parsing",
)
OVERSIZED_GRPC = Case(
    "oversized",
    "a validly signed token of about 27 KB, as gRPC metadata",
    # grpcio's metadata limit (16 KiB, GrpcLimits.max_metadata_bytes, soft = hard) refuses
    # the headers before the service sees them; under it, the service's text above comes.
    "Failed due to reason: received metadata size exceeds hard limit (",
)
NON_ASCII = Case(
    "non-ascii",
    "a real session token with a non-ASCII character appended",
    "Invalid token: token contains non-ASCII characters",
    "tests/test_tokens.py::test_non_ascii_token_refused",
)
NON_ASCII_GRPC = Case(
    "non-ascii",
    "a real session token with a non-ASCII character appended, as gRPC metadata",
    "Failed due to reason: Invalid metadata",  # grpcio will not send it: ASCII only
)


def _forged(zone: SecurityZone) -> dict[Case, str]:
    now = int(time.time())
    root_claims = {"sub": "root", "appid": "kernel", "exp": now + 600}
    none = f"{b64({'alg': 'none', 'kid': 'root'})}.{b64(root_claims)}."
    signing_input = f"{b64({'alg': 'HS256', 'kid': 'root'})}.{b64(root_claims)}"
    secret = public_key_to_raw(zone.owner.public_key())
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    return {
        ALG_NONE: none,
        HS256: f"{signing_input}.{b64url_encode(mac)}",
        RS256: jwt.encode(root_claims, rsa_key, algorithm="RS256", headers={"kid": "root"}),
        ES256: jwt.encode(root_claims, ec_key, algorithm="ES256", headers={"kid": "root"}),
        EXPIRED: sign_token(zone.claims(exp=now - 61), zone.owner, kid="root"),
        NBF: sign_token(zone.claims(nbf=now + 120), zone.owner, kid="root"),
        IAT: sign_token(zone.claims(iat=now + 120), zone.owner, kid="root"),
        UNKNOWN_KID: sign_token(zone.claims(), zone.owner, kid="nobody"),
        OTHER_KID: sign_token(root_claims, zone.device, kid="root"),
        UNTRUSTED: sign_token(root_claims, zone.stranger, kid="verify-hub"),
        OVERSIZED: sign_token(zone.claims(pad="x" * 9000), zone.owner, kid="root"),
        OVERSIZED_GRPC: sign_token(zone.claims(pad="x" * 20000), zone.owner, kid="root"),
    }


@pytest.mark.parametrize("wire", WIRES)
def test_forged_tokens_are_refused_and_write_nothing(zone: SecurityZone, wire: str) -> None:
    # The control: a genuine token of the same principal may write a sibling key.
    with zone.sc_stub(wire, sign_token(zone.claims(), zone.owner, kid="root")) as stub:
        stub.Set(key="users/alice/apps/notes/info", value="{}")
    for case, token in _forged(zone).items():
        if case is (OVERSIZED_GRPC if wire == "krpc" else OVERSIZED):
            continue
        match = "prefix" if case in (OVERSIZED, OVERSIZED_GRPC) else "exact"
        check_refused(zone, case, wire, write_target(zone, wire, token), match=match)


@pytest.mark.parametrize("wire", WIRES)
def test_tampered_and_non_ascii_real_tokens(zone: SecurityZone, wire: str) -> None:
    pair = zone.password_login(wire)
    header, payload, signature = pair.session_token.split(".")
    claims = json.loads(jwt.utils.base64url_decode(payload))
    claims.update(sub="root", appid="kernel")
    tampered = f"{header}.{b64(claims)}.{signature}"
    check_refused(zone, TAMPERED, wire, write_target(zone, wire, tampered))
    non_ascii = NON_ASCII if wire == "krpc" else NON_ASCII_GRPC
    check_refused(zone, non_ascii, wire, write_target(zone, wire, pair.session_token + "é"))


@pytest.mark.parametrize("wire", WIRES)
def test_expired_real_session_token(zone: SecurityZone, wire: str) -> None:
    zone.hub_clock.offset = -961.0
    try:
        pair = zone.password_login(wire)
    finally:
        zone.hub_clock.offset = 0.0
    check_refused(zone, EXPIRED_HUB, wire, write_target(zone, wire, pair.session_token))


# --------------------------------------------------------------------------- real tokens misused

REFRESH_AS_SESSION = Case(
    "refresh-as-session",
    "a real refresh token (`aud: verify-hub`) sent as the session token",
    "Invalid token: refresh token cannot be used as session token",
    "tests/test_tokens.py::test_aud_refused_unless_allow_refresh",
)
REFRESH_AT_VERIFY = Case(
    "refresh-to-verify_token",
    "a real refresh token given to verify-hub `verify_token`",
    "Invalid token: refresh token cannot be used as session token",
    "tests/test_verify_hub_service.py::test_verify_token_refusals",
)
SUDO_EXPIRED = Case(
    "sudo-expired",
    "a real sudo token 241 s after issue (180 s life + 60 s leeway)",
    "Invalid token: JWT decode error:ExpiredSignature",
    "tests/test_verify_hub_service.py::test_sudo_token_is_short_and_marked",
)
APP_B = Case(
    "app-a-on-app-b",
    "alice's session for app `notes` writing `users/alice/apps/todo/settings`",
    "No permission:No write permission for key: users/alice/apps/todo/settings",
)
OTHER_USER = Case(
    "other-users-subtree",
    "alice's session writing `users/bob/apps/notes/settings`",
    "No permission:No write permission for key: users/bob/apps/notes/settings",
    "tests/test_sys_config_service.py::test_rbac_per_key_with_system_config_texts",
)
OTHER_USER_READ = Case(
    "other-users-subtree-read",
    "alice's session reading `users/bob/settings` (bob's password hash)",
    "No permission:No read permission",
)


@pytest.mark.parametrize("wire", WIRES)
def test_real_tokens_used_where_they_do_not_belong(zone: SecurityZone, wire: str) -> None:
    pair = zone.password_login(wire)
    check_refused(zone, REFRESH_AS_SESSION, wire, write_target(zone, wire, pair.refresh_token))

    def verify_refresh() -> object:
        with zone.hub_stub(wire) as hub:
            return hub.VerifyToken(session_token=pair.refresh_token)

    check_refused(zone, REFRESH_AT_VERIFY, wire, verify_refresh)
    todo = "users/alice/apps/todo/settings"
    check_refused(zone, APP_B, wire, write_target(zone, wire, pair.session_token, todo))
    bob = "users/bob/apps/notes/settings"
    check_refused(zone, OTHER_USER, wire, write_target(zone, wire, pair.session_token, bob))

    def read_bob() -> object:
        with zone.sc_stub(wire, pair.session_token) as stub:
            return stub.Get(key="users/bob/settings")

    check_refused(zone, OTHER_USER_READ, wire, read_bob)
    # and the genuine use still works: the refusals above are about the key, not the token
    with zone.sc_stub(wire, pair.session_token) as stub:
        stub.Set(key="users/alice/apps/notes/info", value=f'"{wire}"')
        assert stub.Get(key="users/alice/apps/notes/info").value == f'"{wire}"'


@pytest.mark.parametrize("wire", WIRES)
def test_sudo_token_after_its_life(zone: SecurityZone, wire: str) -> None:
    zone.hub_clock.offset = -241.0
    try:
        sudo = zone.password_login(wire, sudo=True)
    finally:
        zone.hub_clock.offset = 0.0
    claims = json.loads(jwt.utils.base64url_decode(sudo.session_token.split(".")[1]))
    assert claims["sudo"] is True and claims["exp"] == pytest.approx(time.time() - 61, abs=3)
    check_refused(zone, SUDO_EXPIRED, wire, write_target(zone, wire, sudo.session_token))


# --------------------------------------------------------------------------- replays at verify-hub

LOGIN_JWT_REPLAY = Case(
    "login-jwt-replay",
    "alice's self-signed login JWT presented a second time",
    "Failed due to reason: Login JWT already used",
    "tests/test_verify_hub_service.py::test_login_by_jwt_refusals",
)
NONCE_REPLAY = Case(
    "password-nonce-replay",
    "a password login replayed with the same nonce and hash",
    "Failed due to reason: Login nonce already used",
    "tests/test_verify_hub_service.py::test_password_login_refusals",
)
REFRESH_REUSE = Case(
    "refresh-reuse",
    "a refresh token presented again 31 s after it was traded (past the 30 s retry window)",
    "Failed due to reason: Invalid refresh token jti",
    "tests/test_verify_hub_service.py::test_refresh_rotates_and_reuse_revokes_the_session",
    store="session revoked (by design); nothing else",
)
REFRESH_AFTER_REVOKE = Case(
    "refresh-after-revoke",
    "the newest refresh token of a session revoked by a reuse",
    "Failed due to reason: Refresh token not found or already invalidated",
    "tests/test_verify_hub_process.py::test_restart_keeps_sessions_and_replay_memory",
)
SESSION_AFTER_REVOKE = Case(
    "session-after-revoke",
    "a session token of that revoked session given to `verify_token`",
    "Invalid token: session revoked (logged out, or an old refresh token was replayed): "
    "log in again",
)


@pytest.mark.parametrize("wire", WIRES)
def test_replays_at_verify_hub(zone: SecurityZone, wire: str) -> None:
    login_jwt = make_user_login_jwt(zone.alice_key, user_id="alice", app_id="notes")
    with zone.hub_stub(wire) as hub:
        assert hub.LoginByJwt(jwt=login_jwt).session_token
    check_refused(
        zone, LOGIN_JWT_REPLAY, wire, lambda: hub_call(zone, wire, "LoginByJwt", jwt=login_jwt)
    )

    nonce = now_ms()
    params = {
        "username": "alice",
        "password": login_hash("alice", "alice-pw", nonce),
        "appid": "notes",
        "app_instance_id": "notes@alice",
        "login_nonce": nonce,
    }
    first = hub_call(zone, wire, "LoginByPassword", **params)
    check_refused(
        zone, NONCE_REPLAY, wire, lambda: hub_call(zone, wire, "LoginByPassword", **params)
    )

    second = hub_call(zone, wire, "RefreshToken", refresh_token=first.refresh_token)

    # Within 30 s the same token is a retry of a lost answer (same pair, see
    # tests/test_security_login.py); after the window it is a theft.
    zone.hub_clock.offset = 31.0
    try:
        check_refused(
            zone,
            REFRESH_REUSE,
            wire,
            lambda: hub_call(zone, wire, "RefreshToken", refresh_token=first.refresh_token),
            allowed_change=only_revoked,
        )
        check_refused(
            zone,
            REFRESH_AFTER_REVOKE,
            wire,
            lambda: hub_call(zone, wire, "RefreshToken", refresh_token=second.refresh_token),
        )
        check_refused(
            zone,
            SESSION_AFTER_REVOKE,
            wire,
            lambda: hub_call(zone, wire, "VerifyToken", session_token=second.session_token),
        )
    finally:
        zone.hub_clock.offset = 0.0
