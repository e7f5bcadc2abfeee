"""``buckyos token sign|inspect|verify`` with real Ed25519 keys in files.

The main path (sign, inspect, verify) runs the console script as real processes; the
refusals call ``main()`` in this process.  ``verify --hub`` is tested against a real
verify-hub in ``test_cli_session.py``.  Expected error texts are upstream's
(``buckyos-protocol.md`` section 7), written out.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import pytest
from cryptography.hazmat.primitives import serialization

from buckyos.cli.main import main
from buckyos.cli.token import describe_expiry
from buckyos.runtime.security.keys import (
    Ed25519PrivateKey,
    did_document,
    generate_private_key,
    private_key_to_pem,
    public_key_to_jwk,
)
from buckyos.runtime.security.token_signing import sign_token

ROOT = Path(__file__).resolve().parent.parent
BUCKYOS = str(ROOT / ".venv" / "bin" / "buckyos")


@dataclass(frozen=True)
class Done:
    returncode: int
    stdout: str
    stderr: str


def buckyos(*argv: str, stdin: str = "", process: bool = False) -> Done:
    """``buckyos ARGV``: a real process, or ``main()`` in this one."""
    if process:
        done = subprocess.run(
            [BUCKYOS, *argv], input=stdin, capture_output=True, text=True, timeout=60
        )
        return Done(done.returncode, done.stdout, done.stderr)
    out, err = io.StringIO(), io.StringIO()
    with (
        mock.patch("sys.stdin", io.StringIO(stdin)),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        code = main(list(argv))
    return Done(code, out.getvalue(), err.getvalue())


@dataclass(frozen=True)
class Keys:
    private: Ed25519PrivateKey
    private_pem: Path
    public_pem: Path
    jwk: Path
    doc: Path


@pytest.fixture
def keys(tmp_path: Path) -> Keys:
    private = generate_private_key()
    public = private.public_key()
    private_pem = tmp_path / "owner.pem"
    private_pem.write_text(private_key_to_pem(private))
    os.chmod(private_pem, 0o600)
    public_pem = tmp_path / "owner.pub.pem"
    public_pem.write_bytes(
        public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    jwk = tmp_path / "owner.jwk"
    jwk.write_text(json.dumps(public_key_to_jwk(public)))
    doc = tmp_path / "owner.doc.json"
    doc.write_text(json.dumps(did_document("did:bns:alice", public)))
    return Keys(private, private_pem, public_pem, jwk, doc)


def segment(token: str, index: int) -> dict[str, object]:
    part = token.split(".")[index]
    loaded: dict[str, object] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return loaded


def test_sign_inspect_verify_as_processes(keys: Keys) -> None:
    claims = json.dumps({"sub": "alice", "appid": "notes"})
    signed = buckyos("token", "sign", "--key", str(keys.private_pem), "--kid", "root", claims,
                     process=True)  # fmt: skip
    assert signed.returncode == 0, signed.stderr
    token = signed.stdout.strip()
    assert segment(token, 0) == {"alg": "EdDSA", "kid": "root"}  # no typ, as upstream
    body = segment(token, 1)
    assert body["sub"] == "alice" and body["appid"] == "notes"
    assert abs(int(str(body["exp"])) - (time.time() + 900)) < 30

    shown = buckyos("token", "inspect", "-", stdin=token + "\n", process=True)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith('header: {"alg": "EdDSA", "kid": "root"}\nclaims:\n')
    assert '  sub: "alice"\n' in shown.stdout
    assert re.search(r"^expires in 1[45] min \d+ s \(\d{4}-\d\d-\d\d ", shown.stdout, re.M)
    assert "not verified" in shown.stdout

    checked = buckyos("token", "verify", token, "--key", str(keys.public_pem), process=True)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.startswith("valid (kid root): sub alice, appid notes, iss -, kid root;")


@pytest.mark.parametrize("which", ["public_pem", "private_pem", "jwk", "doc"])
def test_verify_takes_every_key_form(keys: Keys, which: str) -> None:
    token = sign_token({"sub": "alice", "exp": int(time.time()) + 60}, keys.private, kid=None)
    done = buckyos("token", "verify", token, "--key", str(getattr(keys, which)), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["sub"] == "alice"


def test_verify_takes_an_inline_jwk(keys: Keys) -> None:
    token = sign_token({"sub": "bob", "exp": int(time.time()) + 60}, keys.private, kid="k1")
    done = buckyos("token", "verify", token, "--key", keys.jwk.read_text())
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("valid (kid k1): sub bob, appid kernel,")


def test_verify_failures_print_upstreams_text(keys: Keys) -> None:
    now = int(time.time())
    token = sign_token({"sub": "alice", "exp": now + 60}, keys.private, kid="root")
    other = generate_private_key()
    forged = sign_token({"sub": "alice", "exp": now + 60}, other, kid="root")
    bad = buckyos("token", "verify", forged, "--key", str(keys.public_pem))
    assert bad.returncode == 1
    assert bad.stdout == ""
    assert bad.stderr == (
        "buckyos token verify: error: Invalid token: JWT decode error:InvalidSignature\n"
    )
    wrong_kid = buckyos("token", "verify", token, "--key", str(keys.jwk), "--kid", "device1")
    assert wrong_kid.returncode == 1
    assert wrong_kid.stderr == "buckyos token verify: error: No permission:kid root not found\n"
    expired = sign_token({"sub": "alice", "exp": now - 3600}, keys.private, kid="root")
    late = buckyos("token", "verify", expired, "--key", str(keys.jwk))
    assert late.returncode == 1
    assert late.stderr == (
        "buckyos token verify: error: Invalid token: JWT decode error:ExpiredSignature\n"
    )
    refresh = sign_token({"sub": "alice", "exp": now + 60, "aud": "verify-hub"}, keys.private,
                         kid="verify-hub")  # fmt: skip
    refused = buckyos("token", "verify", refresh, "--key", str(keys.jwk))
    assert refused.returncode == 1
    assert refused.stderr == (
        "buckyos token verify: error: Invalid token: refresh token cannot be used as "
        "session token\n"
    )
    accepted = buckyos("token", "verify", refresh, "--key", str(keys.jwk), "--refresh")
    assert accepted.returncode == 0, accepted.stderr


def test_inspect_expired_and_malformed(keys: Keys) -> None:
    now = time.time()
    expired = sign_token({"sub": "alice", "exp": int(now) - 7300}, keys.private, kid=None)
    shown = buckyos("token", "inspect", expired, "--json")
    assert shown.returncode == 0
    data = json.loads(shown.stdout)
    assert data["header"] == {"alg": "EdDSA"}
    assert data["expired"] is True and data["expires_in"] < -7200
    text = buckyos("token", "inspect", expired)
    assert re.search(r"^expired 2 h [01] min ago \(", text.stdout, re.MULTILINE)
    broken = buckyos("token", "inspect", "not-a-token")
    assert broken.returncode == 1
    assert broken.stderr == (
        "buckyos token inspect: error: Invalid token: JWT decode error:InvalidToken "
        "(expected 3 segments)\n"
    )


def test_describe_expiry_in_words() -> None:
    assert describe_expiry(1_000_000, 1_000_000 - 899.5).startswith("expires in 14 min 59 s (")
    assert describe_expiry(1_000_000, 1_000_000 + 90_061) == (
        "expired 1 d 1 h ago (1970-01-12 13:46:40 UTC)"
    )
    assert describe_expiry(1_000_000, 1_000_000).startswith("expires in 0 s")


def test_command_line_errors(keys: Keys, tmp_path: Path) -> None:
    not_json = buckyos("token", "sign", "--key", str(keys.private_pem), "{sub")
    assert not_json.returncode == 2
    assert "CLAIMS_JSON is not valid JSON" in not_json.stderr
    array = buckyos("token", "sign", "--key", str(keys.private_pem), "[]")
    assert array.returncode == 2
    assert array.stderr == "buckyos token sign: error: CLAIMS_JSON must be a JSON object\n"
    missing = buckyos("token", "sign", "--key", str(tmp_path / "none.pem"), "{}")
    assert missing.returncode == 1
    assert "cannot read private key file" in missing.stderr
    public_only = buckyos("token", "sign", "--key", str(keys.public_pem), "{}")
    assert public_only.returncode == 1
    assert "not a readable PKCS#8 PEM private key" in public_only.stderr
    both = buckyos("token", "verify", "a.b.c", "--key", str(keys.jwk), "--hub")
    assert both.returncode == 2
    neither = buckyos("token", "verify", "a.b.c")
    assert neither.returncode == 2
    unreadable = buckyos("token", "verify", "a.b.c", "--key", str(tmp_path / "none.jwk"))
    assert unreadable.returncode == 1
    assert "--key: cannot read " in unreadable.stderr
    assert "(No such file or directory); give a key file or the JWK JSON itself" in (
        unreadable.stderr
    )
