"""Tokens, trust keys and the verifier: real Ed25519 keys, every refusal, exact wire texts."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from buckyos.runtime.errors import (
    ConfigError,
    InvalidTokenError,
    NoPermissionError,
    TokenExpiredError,
    error_from_text,
)
from buckyos.runtime.security.keys import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
    b64url_decode,
    b64url_encode,
    generate_key_pair,
    generate_private_key,
    load_private_key_file,
    private_key_from_pem,
    private_key_to_pem,
    public_key_from_jwk,
    public_key_from_raw,
    public_key_to_jwk,
    public_key_to_raw,
)
from buckyos.runtime.security.session_token import (
    MAX_TOKEN_BYTES,
    SessionToken,
    decode_unverified,
    parse_unverified,
)
from buckyos.runtime.security.token_signing import (
    make_service_login_jwt,
    make_user_login_jwt,
    sign_token,
)
from buckyos.runtime.security.token_verifier import TokenVerifier, is_expiry_error
from buckyos.runtime.security.trust_keys import KeyKind, TrustKeyStore

NOW = 1_760_000_000


class FakeClock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _b64(obj: Any) -> str:
    return b64url_encode(json.dumps(obj, separators=(",", ":")).encode())


def _segments(token: str) -> list[str]:
    return token.split(".")


def _raw_header(token: str) -> bytes:
    return b64url_decode(_segments(token)[0])


class Zone:
    """An owner, a device, verify-hub and an outsider, each with real keys."""

    def __init__(self) -> None:
        self.owner, self.owner_pub = generate_key_pair()
        self.device, self.device_pub = generate_key_pair()
        self.hub, self.hub_pub = generate_key_pair()
        self.stranger, self.stranger_pub = generate_key_pair()
        self.trust = TrustKeyStore()
        self.trust.set_owner_key(public_key_to_jwk(self.owner_pub), owner_did="did:bns:alice")
        self.trust.add_device("ood1", self.device_pub, did="did:dev:ood1key")
        self.trust.set_verify_hub_key_from_boot_config(
            {"verify_hub_info": {"port": 3300, "public_key": public_key_to_jwk(self.hub_pub)}}
        )
        self.clock = FakeClock()
        self.verifier = TokenVerifier(self.trust, clock=self.clock)

    def claims(self, **extra: Any) -> dict[str, Any]:
        base: dict[str, Any] = {
            "sub": "alice",
            "appid": "control-panel",
            "jti": "j-1",
            "iss": "verify-hub",
            "exp": NOW + 900,
            "session": 42,
            "principal_kind": "user",
        }
        base.update(extra)
        return {k: v for k, v in base.items() if v is not None}

    def hub_token(self, **extra: Any) -> str:
        return sign_token(self.claims(**extra), self.hub, kid="verify-hub")


@pytest.fixture
def zone() -> Zone:
    return Zone()


def _invalid(verifier: TokenVerifier, token: str, **kwargs: Any) -> str:
    with pytest.raises(InvalidTokenError) as info:
        verifier.verify(token, **kwargs)
    return str(info.value)


# --------------------------------------------------------------------------- keys


def test_private_key_pem_round_trip(tmp_path: Path) -> None:
    key = generate_private_key()
    pem = private_key_to_pem(key)
    assert pem.startswith("-----BEGIN PRIVATE KEY-----")  # PKCS#8, not "OPENSSH" or raw
    again = private_key_from_pem(pem)
    assert public_key_to_raw(again.public_key()) == public_key_to_raw(key.public_key())
    path = tmp_path / "node_private_key.pem"
    path.write_text(pem)
    loaded = load_private_key_file(path)
    assert public_key_to_raw(loaded.public_key()) == public_key_to_raw(key.public_key())


def test_private_key_pem_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="empty"):
        private_key_from_pem("   ")
    with pytest.raises(ConfigError, match="not PEM"):
        private_key_from_pem("hello")
    with pytest.raises(ConfigError, match="not a readable PKCS#8"):
        private_key_from_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    rsa_pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    with pytest.raises(ConfigError, match="expected an Ed25519 private key"):
        private_key_from_pem(rsa_pem)
    missing = tmp_path / "nope.pem"
    with pytest.raises(ConfigError, match=str(missing)):
        load_private_key_file(missing)


def test_public_key_jwk_round_trip() -> None:
    _, public = generate_key_pair()
    jwk = public_key_to_jwk(public)
    assert set(jwk) == {"kty", "crv", "x"}
    assert jwk["kty"] == "OKP" and jwk["crv"] == "Ed25519"
    assert "=" not in jwk["x"] and len(jwk["x"]) == 43
    again = public_key_from_jwk(jwk)
    assert public_key_to_raw(again) == public_key_to_raw(public)
    assert public_key_to_raw(public_key_from_jwk(json.dumps(jwk))) == public_key_to_raw(public)
    assert public_key_to_raw(public_key_from_raw(public_key_to_raw(public))) == (
        public_key_to_raw(public)
    )


@pytest.mark.parametrize(
    ("jwk", "message"),
    [
        ({"kty": "EC", "crv": "Ed25519", "x": "AAAA"}, "kty must be 'OKP'"),
        ({"kty": "OKP", "crv": "X25519", "x": "AAAA"}, "crv must be 'Ed25519'"),
        ({"kty": "OKP", "crv": "Ed25519"}, "missing or non-string 'x'"),
        ({"kty": "OKP", "crv": "Ed25519", "x": 5}, "missing or non-string 'x'"),
        ({"kty": "OKP", "crv": "Ed25519", "x": "a+b/"}, "not base64url"),
        ({"kty": "OKP", "crv": "Ed25519", "x": "AAAA"}, "32 bytes, got 3"),
        ({"kty": "OKP", "crv": "Ed25519", "x": "A" * 43, "d": "A" * 43}, "private part"),
        ([1, 2], "must be a JSON object"),
        ("{not json", "not valid JSON"),
    ],
)
def test_public_key_jwk_errors(jwk: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        public_key_from_jwk(jwk)


def test_public_key_raw_wrong_length() -> None:
    with pytest.raises(ConfigError, match="32 bytes, got 31"):
        public_key_from_raw(b"\x00" * 31)


# --------------------------------------------------------------------------- signing


def test_header_is_literally_alg_and_kid_without_typ(zone: Zone) -> None:
    with_kid = sign_token({"sub": "alice", "exp": NOW}, zone.device, kid="ood1")
    assert _raw_header(with_kid) == b'{"alg":"EdDSA","kid":"ood1"}'
    without_kid = sign_token({"sub": "alice", "exp": NOW}, zone.owner, kid=None)
    assert _raw_header(without_kid) == b'{"alg":"EdDSA"}'
    header, claims = decode_unverified(with_kid)
    assert header == {"alg": "EdDSA", "kid": "ood1"}
    assert claims == {"sub": "alice", "exp": NOW}


def test_sign_refuses_wrong_key_type(zone: Zone) -> None:
    with pytest.raises(TypeError):
        sign_token({"sub": "a"}, zone.owner_pub, kid=None)  # type: ignore[arg-type]


def test_round_trip_all_claims(zone: Zone) -> None:
    token = zone.hub_token(
        app_instance_id="cp-1", app_owner_user_id="alice", iat=NOW - 5, nbf=NOW - 5
    )
    verified = zone.verifier.verify(token)
    assert isinstance(verified, SessionToken)
    assert verified.token == token
    assert verified.sub == verified.user_id == "alice"
    assert verified.appid == verified.app_id == "control-panel"
    assert verified.jti == "j-1"
    assert verified.iss == "verify-hub" and verified.issued_by_verify_hub
    assert verified.exp == NOW + 900 and verified.iat == NOW - 5 and verified.nbf == NOW - 5
    assert verified.aud == () and not verified.is_refresh
    assert verified.session == 42 and verified.session_key == "42"
    assert verified.sudo is False
    assert verified.principal_kind == "user"
    assert verified.app_instance_id == "cp-1" and verified.app_owner_user_id == "alice"
    assert verified.kid == "verify-hub"
    assert verified.claims["session"] == 42
    assert dict(verified.claims) == json.loads(b64url_decode(_segments(token)[1]))
    with pytest.raises(TypeError):
        verified.claims["sub"] = "mallory"  # type: ignore[index]
    assert token not in repr(verified)


def test_defaults_for_absent_claims(zone: Zone) -> None:
    token = sign_token({"sub": "bob", "exp": NOW + 60, "sudo": True}, zone.owner, kid=None)
    verified = zone.verifier.verify(token)
    assert verified.appid is None and verified.app_id == "kernel"
    assert verified.session is None and verified.session_key == "bob"
    assert verified.jti is None and verified.iss is None and verified.kid is None
    assert verified.sudo is True


def test_old_claim_names_userid_and_nonce(zone: Zone) -> None:
    token = sign_token(
        {"userid": "alice", "appid": "kernel", "nonce": 1234567, "exp": NOW + 60},
        zone.owner,
        kid="root",
    )
    verified = zone.verifier.verify(token)
    assert verified.sub == "alice" and verified.user_id == "alice"
    assert verified.jti == "1234567"


def test_sub_and_userid_must_agree(zone: Zone) -> None:
    token = sign_token({"sub": "alice", "userid": "root", "exp": NOW + 60}, zone.owner, kid=None)
    assert _invalid(zone.verifier, token) == "Invalid token: sub and userid disagree"


def test_missing_subject(zone: Zone) -> None:
    token = sign_token({"appid": "x", "exp": NOW + 60}, zone.owner, kid=None)
    assert _invalid(zone.verifier, token) == "Invalid token: Missing userid"


# --------------------------------------------------------------------------- trust keys


@pytest.mark.parametrize(
    ("kid", "signer"),
    [
        (None, "owner"),
        ("root", "owner"),
        ("$default", "owner"),
        ("did:bns:alice", "owner"),
        ("ood1", "device"),
        ("did:dev:ood1key", "device"),
        ("verify-hub", "hub"),
    ],
)
def test_kid_selects_key(zone: Zone, kid: str | None, signer: str) -> None:
    key: Ed25519PrivateKey = getattr(zone, signer)
    token = sign_token({"sub": "alice", "exp": NOW + 60}, key, kid=kid)
    assert zone.verifier.verify(token).kid == kid


def test_lookup_missing_kid_means_root(zone: Zone) -> None:
    root = zone.trust.lookup("root")
    assert public_key_to_raw(zone.trust.lookup(None)) == public_key_to_raw(root)
    assert public_key_to_raw(root) == public_key_to_raw(zone.owner_pub)


def test_unknown_kid_exact_text(zone: Zone) -> None:
    token = sign_token({"sub": "alice", "exp": NOW + 60}, zone.owner, kid="nobody")
    with pytest.raises(NoPermissionError) as info:
        zone.verifier.verify(token)
    assert info.value.detail == "kid nobody not found"
    assert str(info.value) == "No permission:kid nobody not found"
    assert error_from_text(str(info.value)) == info.value
    assert zone.verifier.signature_checks == 0


def test_kid_of_another_principal_fails_signature(zone: Zone) -> None:
    token = sign_token({"sub": "root", "exp": NOW + 60}, zone.device, kid="root")
    assert _invalid(zone.verifier, token) == "Invalid token: JWT decode error:InvalidSignature"


def test_untrusted_key_fails_signature(zone: Zone) -> None:
    token = sign_token({"sub": "alice", "exp": NOW + 60}, zone.stranger, kid="verify-hub")
    assert _invalid(zone.verifier, token) == "Invalid token: JWT decode error:InvalidSignature"


def test_tampered_payload_with_original_signature(zone: Zone) -> None:
    token = zone.hub_token()
    header, _payload, signature = _segments(token)
    forged = _b64(zone.claims(sub="root", appid="kernel"))
    tampered = f"{header}.{forged}.{signature}"
    assert _invalid(zone.verifier, tampered) == "Invalid token: JWT decode error:InvalidSignature"


def test_trust_store_remove_and_replace(zone: Zone) -> None:
    trust = zone.trust
    assert {"root", "$default", "did:bns:alice", "ood1", "did:dev:ood1key"} <= trust.kids()
    assert trust.remove("did:dev:ood1key") is True
    assert "ood1" not in trust and "did:dev:ood1key" not in trust
    assert trust.remove("ood1") is False
    # Replacing the owner drops the old owner DID.
    _, new_owner = generate_key_pair()
    trust.set_owner_key(new_owner, owner_did="did:bns:bob")
    assert "did:bns:alice" not in trust and "did:bns:bob" in trust
    assert public_key_to_raw(trust.lookup("$default")) == public_key_to_raw(new_owner)
    assert trust.remove("root") is True
    assert "$default" not in trust and "did:bns:bob" not in trust
    trust.add_key("custom", zone.stranger_pub)
    assert isinstance(trust.lookup("custom"), Ed25519PublicKey)
    with pytest.raises(NoPermissionError, match="kid root not found"):
        trust.lookup(None)
    with pytest.raises(NoPermissionError) as info:
        trust.lookup("")
    assert str(info.value) == "No permission:kid  not found"


def test_trust_store_config_errors(zone: Zone) -> None:
    with pytest.raises(ConfigError, match="verify_hub_info"):
        zone.trust.set_verify_hub_key_from_boot_config({"zone_document": "x"})
    with pytest.raises(ConfigError, match="verify-hub public key: public key JWK: crv"):
        zone.trust.set_verify_hub_key({"kty": "OKP", "crv": "Ed448", "x": "AAAA"})
    with pytest.raises(ConfigError, match="device name"):
        zone.trust.add_device("", zone.device_pub)


def test_zone_trusted_follows_the_key_that_verified(zone: Zone) -> None:
    """Trust beyond the user is proven by the verifying key, never declared by a claim."""
    verify = zone.verifier.verify
    owner = sign_token({"sub": "root", "appid": "kernel", "exp": NOW + 60}, zone.owner, kid=None)
    device = sign_token({"sub": "x", "exp": NOW + 60}, zone.device, kid="did:dev:ood1key")
    cases: list[tuple[str, KeyKind, bool]] = [
        (owner, KeyKind.OWNER, True),
        (device, KeyKind.DEVICE, True),
        (zone.hub_token(principal_kind="service"), KeyKind.VERIFY_HUB, True),
        (zone.hub_token(principal_kind="device"), KeyKind.VERIFY_HUB, True),
        (zone.hub_token(), KeyKind.VERIFY_HUB, False),  # principal_kind user
        (zone.hub_token(principal_kind=None), KeyKind.VERIFY_HUB, False),
        (zone.hub_token(principal_kind="Service"), KeyKind.VERIFY_HUB, False),
        # upstream's rule ("iss is not verify-hub") would trust these two:
        (zone.hub_token(iss="ood1"), KeyKind.VERIFY_HUB, False),
        (zone.hub_token(iss=None, appid="kernel"), KeyKind.VERIFY_HUB, False),
    ]
    for token, kind, trusted in cases:
        verified = verify(token)
        assert (verified.signer, verified.zone_trusted) == (kind, trusted), dict(verified.claims)
    # A key added under an arbitrary kid verifies, but vouches for nothing beyond its user,
    # even when its kid is an owner's or verify-hub's name.
    for kid in ("custom", "root", "verify-hub"):
        trust = TrustKeyStore()
        trust.add_key(kid, zone.stranger_pub)
        claims = {"sub": "x", "appid": "kernel", "exp": NOW + 60, "principal_kind": "service"}
        verified = TokenVerifier(trust, clock=zone.clock).verify(
            sign_token(claims, zone.stranger, kid=kid)
        )
        assert verified.signer is KeyKind.OTHER and not verified.zone_trusted
    # Only parsed, never verified: no signer, not trusted.
    parsed = parse_unverified(owner)
    assert parsed.signer is None and not parsed.zone_trusted
    assert zone.trust.kind_of(None) is KeyKind.OWNER and zone.trust.kind_of("nope") is None


def test_a_cached_token_keeps_its_signer_and_a_key_change_drops_it(zone: Zone) -> None:
    token = sign_token({"sub": "x", "exp": NOW + 60}, zone.device, kid="ood1")
    assert zone.verifier.verify(token).zone_trusted
    assert zone.verifier.verify(token).signer is KeyKind.DEVICE  # from the cache
    # The same key re-added under the same kid as an arbitrary key: no longer trusted.
    zone.trust.remove("ood1")
    zone.trust.add_key("ood1", zone.device_pub)
    assert zone.verifier.verify(token).signer is KeyKind.OTHER
    assert not zone.verifier.verify(token).zone_trusted


def test_a_device_cannot_take_an_owner_or_verify_hub_kid(zone: Zone) -> None:
    for name, did in (
        ("root", None),
        ("$default", None),
        ("verify-hub", None),
        ("x", "did:bns:alice"),
    ):
        with pytest.raises(ConfigError) as info:
            zone.trust.add_device(name, zone.stranger_pub, did=did)
        assert "is a reserved kid" in str(info.value)
    assert zone.trust.kind_of("root") is KeyKind.OWNER
    assert zone.trust.kind_of("verify-hub") is KeyKind.VERIFY_HUB
    assert "x" not in zone.trust


def test_generation_changes_on_every_change(zone: Zone) -> None:
    trust = zone.trust
    seen = [trust.generation]
    trust.add_key("a", zone.stranger_pub)
    seen.append(trust.generation)
    trust.set_verify_hub_key(zone.hub_pub)
    seen.append(trust.generation)
    trust.remove("a")
    seen.append(trust.generation)
    assert seen == sorted(set(seen))


# --------------------------------------------------------------------------- algorithms


def test_alg_none_refused(zone: Zone) -> None:
    token = f"{_b64({'alg': 'none'})}.{_b64(zone.claims())}."
    text = _invalid(zone.verifier, token)
    assert "'none' is not allowed" in text
    assert text.startswith("Invalid token: JWT decode error:InvalidAlgorithm")
    for alg in ("None", "NONE", ""):
        token = f"{_b64({'alg': alg, 'kid': 'root'})}.{_b64(zone.claims())}."
        assert "is not allowed" in _invalid(zone.verifier, token)
    no_alg = f"{_b64({'kid': 'root'})}.{_b64(zone.claims())}."
    assert "None is not allowed" in _invalid(zone.verifier, no_alg)
    assert zone.verifier.signature_checks == 0


def test_hs256_with_public_key_bytes_refused(zone: Zone) -> None:
    for kid in ("verify-hub", None):
        header: dict[str, Any] = {"alg": "HS256", "typ": "JWT"}
        if kid:
            header["kid"] = kid
        signing_input = f"{_b64(header)}.{_b64(zone.claims())}"
        secret = public_key_to_raw(zone.hub_pub if kid else zone.owner_pub)
        mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        token = f"{signing_input}.{b64url_encode(mac)}"
        text = _invalid(zone.verifier, token)
        assert "'HS256' is not allowed" in text
    # Also the PEM form of the public key, the classic confusion secret.
    pem = zone.hub_pub.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signing_input = f"{_b64({'alg': 'HS256', 'kid': 'verify-hub'})}.{_b64(zone.claims())}"
    mac = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    assert "is not allowed" in _invalid(zone.verifier, f"{signing_input}.{b64url_encode(mac)}")
    assert zone.verifier.signature_checks == 0


def test_rs256_and_es256_refused_before_kid_lookup(zone: Zone) -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    for alg, key in (("RS256", rsa_key), ("ES256", ec_key)):
        for kid in ("root", "nobody"):
            token = jwt.encode(zone.claims(), key, algorithm=alg, headers={"kid": kid})
            assert jwt.get_unverified_header(token)["alg"] == alg
            text = _invalid(zone.verifier, token)
            assert f"'{alg}' is not allowed (EdDSA only)" in text
    assert zone.verifier.signature_checks == 0


# --------------------------------------------------------------------------- times


def test_expired_beyond_leeway_exact_text(zone: Zone) -> None:
    token = zone.hub_token(exp=NOW - 61)
    with pytest.raises(InvalidTokenError) as info:
        zone.verifier.verify(token)
    assert str(info.value) == "Invalid token: JWT decode error:ExpiredSignature"
    assert info.value.detail == "JWT decode error:ExpiredSignature"
    assert error_from_text(str(info.value)) == info.value
    assert is_expiry_error(info.value)
    assert is_expiry_error(error_from_text(str(info.value)))
    assert is_expiry_error(TokenExpiredError("eyJ..."))
    assert not is_expiry_error(InvalidTokenError("JWT decode error:InvalidSignature"))


def test_expired_within_leeway_accepted(zone: Zone) -> None:
    assert zone.verifier.verify(zone.hub_token(exp=NOW - 30)).exp == NOW - 30
    assert zone.verifier.verify(zone.hub_token(exp=NOW - 60)).exp == NOW - 60


def test_custom_leeway(zone: Zone) -> None:
    strict = TokenVerifier(zone.trust, leeway=0, clock=zone.clock)
    assert _invalid(strict, zone.hub_token(exp=NOW - 1)).endswith("ExpiredSignature")


def test_nbf_in_future_refused(zone: Zone) -> None:
    text = _invalid(zone.verifier, zone.hub_token(nbf=NOW + 120))
    assert text == "Invalid token: JWT decode error:ImmatureSignature"
    assert zone.verifier.verify(zone.hub_token(nbf=NOW + 30)).nbf == NOW + 30


def test_iat_in_future_refused(zone: Zone) -> None:
    text = _invalid(zone.verifier, zone.hub_token(iat=NOW + 120))
    assert text.startswith("Invalid token: JWT decode error:ImmatureSignature")


def test_missing_exp_refused(zone: Zone) -> None:
    token = sign_token({"sub": "alice", "appid": "x"}, zone.owner, kid=None)
    text = _invalid(zone.verifier, token)
    assert text == "Invalid token: JWT decode error:Missing required claim: exp"


@pytest.mark.parametrize("bad", ["soon", True, None, [1]])
def test_exp_must_be_a_number(zone: Zone, bad: Any) -> None:
    claims = zone.claims()
    claims["exp"] = bad
    token = sign_token(claims, zone.hub, kid="verify-hub")
    _invalid(zone.verifier, token)


# --------------------------------------------------------------------------- refresh tokens


@pytest.mark.parametrize("aud", ["verify-hub", ["verify-hub"], ["other", "verify-hub"]])
def test_aud_refused_unless_allow_refresh(zone: Zone, aud: str | list[str]) -> None:
    token = zone.hub_token(aud=aud)
    text = _invalid(zone.verifier, token)
    assert text == "Invalid token: refresh token cannot be used as session token"
    verified = zone.verifier.verify(token, allow_refresh=True)
    assert verified.is_refresh
    assert "verify-hub" in verified.aud and isinstance(verified.aud, tuple)
    # Cached now, and still refused as a session token.
    assert "refresh token cannot be used" in _invalid(zone.verifier, token)


def test_any_aud_refused_as_session_token(zone: Zone) -> None:
    token = zone.hub_token(aud="someone-else")
    assert "refresh token cannot be used as session token" in _invalid(zone.verifier, token)
    assert not zone.verifier.verify(token, allow_refresh=True).is_refresh


# --------------------------------------------------------------------------- shape


def test_oversized_token_refused_before_parsing(zone: Zone) -> None:
    token = zone.hub_token(pad="x" * MAX_TOKEN_BYTES)
    assert len(token) > MAX_TOKEN_BYTES
    assert "too large" in _invalid(zone.verifier, token)
    with pytest.raises(InvalidTokenError, match="too large"):
        decode_unverified(token)
    assert zone.verifier.signature_checks == 0


def test_non_ascii_token_refused(zone: Zone) -> None:
    token = zone.hub_token()
    header, payload, signature = _segments(token)
    assert "non-ASCII" in _invalid(zone.verifier, f"{header}.{payload}é.{signature}")
    assert "non-ASCII" in _invalid(zone.verifier, "ǅ" * 10)
    with pytest.raises(InvalidTokenError, match="non-ASCII"):
        decode_unverified(f"{header}.{payload}.{signature}\u200b")


@pytest.mark.parametrize(
    "token",
    ["", "abc", "a.b", "a.b.c.d", "a b.c.d", "e30.e30.e30=", "!!!.e30.", "AAAA.e30.", "W10.e30."],
)
def test_malformed_tokens(zone: Zone, token: str) -> None:
    _invalid(zone.verifier, token)
    with pytest.raises(InvalidTokenError):
        decode_unverified(token)


def test_bad_header_json_names_the_header(zone: Zone) -> None:
    token = f"{b64url_encode(b'{oops')}.{_b64(zone.claims())}.AAAA"
    assert _invalid(zone.verifier, token).startswith("Invalid token: JWT decode header error : ")


def test_duplicate_claims_refused(zone: Zone) -> None:
    payload = b'{"sub":"alice","sub":"root","exp":%d}' % (NOW + 60)
    header = b'{"alg":"EdDSA"}'
    signing_input = f"{b64url_encode(header)}.{b64url_encode(payload)}"
    signature = zone.owner.sign(signing_input.encode())
    token = f"{signing_input}.{b64url_encode(signature)}"
    assert "duplicate key 'sub'" in _invalid(zone.verifier, token)


def test_non_string_token_refused(zone: Zone) -> None:
    with pytest.raises(InvalidTokenError, match="must be a string"):
        zone.verifier.verify(b"abc.def.ghi")  # type: ignore[arg-type]


def test_parse_unverified_does_not_check_signature(zone: Zone) -> None:
    token = sign_token(zone.claims(exp=NOW - 10_000), zone.stranger, kid="whoever")
    parsed = parse_unverified(token)
    assert parsed.sub == "alice" and parsed.kid == "whoever" and parsed.session == 42


# --------------------------------------------------------------------------- cache


def test_second_verify_uses_cache(zone: Zone) -> None:
    token = zone.hub_token()
    first = zone.verifier.verify(token)
    assert zone.verifier.signature_checks == 1
    second = zone.verifier.verify(token)
    assert zone.verifier.signature_checks == 1
    assert zone.verifier.cache_hits == 1
    assert second is first


def test_failures_are_not_cached(zone: Zone) -> None:
    token = sign_token(zone.claims(), zone.stranger, kid="verify-hub")
    for _ in range(2):
        _invalid(zone.verifier, token)
    assert zone.verifier.signature_checks == 2
    assert zone.verifier.cache_len() == 0


def test_cache_cleared_on_trust_change(zone: Zone) -> None:
    token = zone.hub_token()
    zone.verifier.verify(token)
    zone.trust.add_key("unrelated", zone.stranger_pub)
    zone.verifier.verify(token)
    assert zone.verifier.signature_checks == 2
    # Revoking verify-hub's key takes effect on the very next call.
    zone.trust.set_verify_hub_key(zone.stranger_pub)
    assert _invalid(zone.verifier, token) == "Invalid token: JWT decode error:InvalidSignature"
    zone.trust.remove("verify-hub")
    with pytest.raises(NoPermissionError, match="kid verify-hub not found"):
        zone.verifier.verify(token)


def test_expired_cached_token_not_served(zone: Zone) -> None:
    token = zone.hub_token(exp=NOW + 100)
    zone.verifier.verify(token)
    zone.clock.now = NOW + 100 + 60  # last second within leeway: still served from cache
    zone.verifier.verify(token)
    assert zone.verifier.signature_checks == 1
    zone.clock.now = NOW + 100 + 61
    assert _invalid(zone.verifier, token) == "Invalid token: JWT decode error:ExpiredSignature"
    assert zone.verifier.signature_checks == 2
    assert zone.verifier.cache_len() == 0


def test_cache_is_bounded(zone: Zone) -> None:
    verifier = TokenVerifier(zone.trust, cache_size=2, clock=zone.clock)
    tokens = [zone.hub_token(jti=f"j-{i}") for i in range(3)]
    for token in tokens:
        verifier.verify(token)
    assert verifier.cache_len() == 2
    verifier.verify(tokens[2])  # most recent: still cached
    assert verifier.signature_checks == 3
    verifier.verify(tokens[0])  # evicted first: verified again
    assert verifier.signature_checks == 4


def test_cache_disabled(zone: Zone) -> None:
    verifier = TokenVerifier(zone.trust, cache_size=0, clock=zone.clock)
    token = zone.hub_token()
    verifier.verify(token)
    verifier.verify(token)
    assert verifier.signature_checks == 2 and verifier.cache_len() == 0


def test_key_change_during_verification_is_not_cached(zone: Zone) -> None:
    calls = 0

    def clock() -> float:
        nonlocal calls
        calls += 1
        if calls == 2:  # the read after the signature check
            zone.trust.add_key("late", zone.stranger_pub)
        return NOW

    verifier = TokenVerifier(zone.trust, clock=clock)
    verifier.verify(zone.hub_token())
    assert verifier.cache_len() == 0


def test_concurrent_verification(zone: Zone) -> None:
    tokens = [zone.hub_token(jti=f"j-{i}") for i in range(8)]
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(20):
                for token in tokens:
                    assert zone.verifier.verify(token).sub == "alice"
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert zone.verifier.signature_checks <= 4 * len(tokens)


# --------------------------------------------------------------------------- login JWTs


def test_user_login_jwt(zone: Zone) -> None:
    token = make_user_login_jwt(
        zone.owner, user_id="alice", app_id="buckycli", jti="j1", clock=zone.clock
    )
    assert _raw_header(token) == b'{"alg":"EdDSA"}'
    _, claims = decode_unverified(token)
    assert claims == {
        "appid": "buckycli", "sub": "alice", "iss": "alice", "exp": NOW + 900, "jti": "j1"
    }  # fmt: skip
    other = make_user_login_jwt(zone.owner, user_id="alice", app_id="buckycli")
    assert decode_unverified(other)[1]["jti"] != decode_unverified(token)[1]["jti"]
    verified = zone.verifier.verify(token)
    assert verified.app_id == "buckycli" and verified.kid is None


def test_service_login_jwt(zone: Zone) -> None:
    token = make_service_login_jwt(
        zone.device, device_name="ood1", subject="ood1", app_id="node-daemon", clock=zone.clock
    )
    header, claims = decode_unverified(token)
    assert header == {"alg": "EdDSA", "kid": "ood1"}
    assert set(claims) == {"sub", "appid", "iss", "jti", "exp"}
    assert claims["iss"] == "ood1" and claims["exp"] == NOW + 1200
    assert isinstance(claims["jti"], str) and len(claims["jti"]) >= 16
    other = make_service_login_jwt(
        zone.device, device_name="ood1", subject="ood1", app_id="node-daemon", clock=zone.clock
    )
    assert decode_unverified(other)[1]["jti"] != claims["jti"]
    assert zone.verifier.verify(token).sub == "ood1"
    fixed = make_service_login_jwt(
        zone.device, device_name="ood1", subject="x", app_id="y", jti="n-1", clock=zone.clock
    )
    assert decode_unverified(fixed)[1]["jti"] == "n-1"


def test_b64url_helpers() -> None:
    assert b64url_encode(b"\xfb\xff") == "-_8"
    assert b64url_decode("-_8") == b"\xfb\xff"
    assert b64url_decode("-_8=") == b"\xfb\xff"
    for bad in ("+/8", "A", "-_9"):
        with pytest.raises(ValueError):
            b64url_decode(bad)
    assert base64.urlsafe_b64decode("-_8=") == b"\xfb\xff"


def test_device_token_source_renews_before_expiry() -> None:
    from buckyos.runtime.security.token_signing import DeviceTokenSource

    key = generate_private_key()
    now = [1_700_000_000.0]
    source = DeviceTokenSource(
        key, "ood1", app_id="node-daemon", ttl=1200, renew_before=100, clock=lambda: now[0]
    )
    first = source.token()
    header, claims = decode_unverified(first)
    assert header == {"alg": "EdDSA", "kid": "ood1"}
    assert (claims["sub"], claims["iss"], claims["appid"]) == ("ood1", "ood1", "node-daemon")
    assert claims["exp"] == 1_700_001_200
    now[0] += 1099  # 101 s left: kept
    assert source.token() == first
    now[0] += 2  # 99 s left: signed anew
    assert decode_unverified(source.token())[1]["exp"] == 1_700_002_301
    other = DeviceTokenSource(key, "ood1", app_id="x", subject="kernel")
    assert decode_unverified(other.token())[1]["sub"] == "kernel"
    with pytest.raises(ValueError, match="device_name"):
        DeviceTokenSource(key, "", app_id="x")
    with pytest.raises(ValueError, match=r"renew_before \(1200\) must be below ttl \(1200\)"):
        DeviceTokenSource(key, "ood1", app_id="x", ttl=1200, renew_before=1200)
