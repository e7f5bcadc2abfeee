"""Public keys found in owner, user and device documents the way upstream reads them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from buckyos.runtime.errors import ConfigError
from buckyos.runtime.security.keys import (
    did_document,
    generate_key_pair,
    public_key_from_doc,
    public_key_to_jwk,
    public_key_to_raw,
)


def test_doc_round_trip_in_upstream_shape() -> None:
    _, public = generate_key_pair()
    doc = did_document("did:bns:alice", public, name="alice")
    # the place upstream's get_auth_key reads, spelled out
    assert doc["verificationMethod"][0]["publicKeyJwk"] == public_key_to_jwk(public)
    assert doc["authentication"] == ["#main_key"]
    assert doc["name"] == "alice"
    found = public_key_from_doc(json.dumps(doc))
    assert public_key_to_raw(found) == public_key_to_raw(public)


def test_authentication_names_the_method() -> None:
    _, first = generate_key_pair()
    _, second = generate_key_pair()
    doc: dict[str, Any] = {
        "verificationMethod": [
            {"id": "#a", "publicKeyJwk": public_key_to_jwk(first)},
            {"id": "#b", "publicKeyJwk": public_key_to_jwk(second)},
        ],
        "authentication": ["#b"],
    }
    assert public_key_to_raw(public_key_from_doc(doc)) == public_key_to_raw(second)


def test_flat_node_identity_form() -> None:
    _, public = generate_key_pair()
    identity = {"zone_did": "did:web:z", "owner_public_key": public_key_to_jwk(public)}
    assert public_key_to_raw(public_key_from_doc(identity)) == public_key_to_raw(public)


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ("{", "device doc is not valid JSON"),
        ("[]", "device doc must be a JSON object"),
        ({"verificationMethod": [{"id": "#k"}]}, "verificationMethod has no publicKeyJwk"),
        ({"name": "x"}, "device doc carries no Ed25519 key"),
        ({"public_key": {"kty": "RSA"}}, "kty must be 'OKP'"),
    ],
)
def test_doc_errors_say_what_is_wrong(doc: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        public_key_from_doc(doc, what="device doc")


def test_load_public_key_every_form(tmp_path: Any) -> None:
    from cryptography.hazmat.primitives import serialization

    from buckyos.runtime.security.keys import (
        generate_private_key,
        load_public_key,
        private_key_to_pem,
    )

    private = generate_private_key()
    public = private.public_key()
    raw = public_key_to_raw(public)
    jwk = json.dumps(public_key_to_jwk(public))
    files = {
        "key.jwk": jwk,
        "doc.json": json.dumps(did_document("did:dev:x", public)),
        "identity.json": json.dumps({"owner_public_key": public_key_to_jwk(public)}),
        "public.pem": public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode(),
        "private.pem": private_key_to_pem(private),
    }
    assert public_key_to_raw(load_public_key(jwk, what="--key")) == raw  # inline
    for name, text in files.items():
        path = tmp_path / name
        path.write_text(text)
        assert public_key_to_raw(load_public_key(path)) == raw, name
    with pytest.raises(ConfigError, match=r"^--key .*private\.pem holds a private key; give"):
        load_public_key(tmp_path / "private.pem", what="--key", allow_private=False)
    with pytest.raises(ConfigError, match=r"^--key: cannot read .*nothing \(No such file"):
        load_public_key(tmp_path / "nothing", what="--key")
    (tmp_path / "junk").write_text("junk")
    with pytest.raises(ConfigError, match="expected a JWK, a DID document or a PEM"):
        load_public_key(tmp_path / "junk", what="--key")
