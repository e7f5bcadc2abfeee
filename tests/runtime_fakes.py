"""A small fake zone for the runtime tests: system_config and verify-hub as real Bindings.

The real services are other modules' work; these fakes keep only what the runtime
relies on, with upstream's wire facts: Ed25519 tokens with upstream's claims (verify-hub
signs with kid ``verify-hub``, ``login_by_jwt`` picks the key by ``iss``, a ``jti`` is
single-use, refresh tokens rotate), and system_config checks tokens and RBAC with the
real TokenVerifier and casbin.  Both are served by ``ServerThread`` on real sockets.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from google.protobuf import empty_pb2

from buckyos.generated import system_config_pb2 as sc, verify_hub_pb2 as vh
from buckyos.generated.system_config_rpc import SystemConfigServicer
from buckyos.generated.verify_hub_rpc import VerifyHubServicer
from buckyos.runtime.errors import InvalidPasswordError, InvalidTokenError, ReasonError
from buckyos.runtime.program.runtime import password_hash, password_proof
from buckyos.runtime.security.keys import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
    did_document,
    generate_key_pair,
    private_key_to_pem,
    public_key_to_jwk,
)
from buckyos.runtime.security.rbac import RbacEnforcer
from buckyos.runtime.security.session_token import decode_unverified
from buckyos.runtime.security.token_signing import sign_token
from buckyos.runtime.security.token_verifier import TokenVerifier
from buckyos.runtime.security.trust_keys import TrustKeyStore
from buckyos.runtime.server.binding import Binding
from buckyos.runtime.server.request import Request
from buckyos.runtime.server.serve import ServerInfo
from tests.wire_fixtures import ServerThread

ZONE_TAIL = "\n".join(
    [
        "g, alice, admin",
        "g, ood1, ood",
        "g, my-app, app",
        "g, notes, app",
        "g, test-kernel-svc, kernel",
    ]
)


class Clock:
    """Unix time plus an offset the tests move forward: every party reads it."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@dataclass
class Keys:
    owner: tuple[Ed25519PrivateKey, Ed25519PublicKey] = field(default_factory=generate_key_pair)
    device: tuple[Ed25519PrivateKey, Ed25519PublicKey] = field(default_factory=generate_key_pair)
    hub: tuple[Ed25519PrivateKey, Ed25519PublicKey] = field(default_factory=generate_key_pair)
    alice: tuple[Ed25519PrivateKey, Ed25519PublicKey] = field(default_factory=generate_key_pair)


class FakeConfig(SystemConfigServicer):
    """system_config's Get/Set over a dict, with upstream's RBAC checks."""

    def __init__(self) -> None:
        self.data: dict[str, str] = {}
        self.tokens: list[str | None] = []
        self.fail_next: list[Exception] = []
        self.lock = threading.Lock()

    def _enter(self, req: Request) -> None:
        with self.lock:
            self.tokens.append(req.caller.token)
            failure = self.fail_next.pop(0) if self.fail_next else None
        if failure is not None:
            raise failure

    def Get(self, request: sc.KeyRequest, req: Request) -> sc.GetResult:
        self._enter(req)
        req.enforce("read", f"obj://config/{request.key}")
        value = self.data.get(request.key)
        return sc.GetResult() if value is None else sc.GetResult(value=value, version=1)

    def Set(self, request: sc.SetRequest, req: Request) -> empty_pb2.Empty:
        self._enter(req)
        req.enforce("write", f"obj://config/{request.key}")
        self.data[request.key] = request.value
        return empty_pb2.Empty()


class FakeHub(VerifyHubServicer):
    """verify-hub's login_by_jwt, refresh_token and login_by_password."""

    def __init__(self, keys: Keys, clock: Clock, *, session_ttl: int = 900) -> None:
        self.keys = keys
        self.clock = clock
        self.session_ttl = session_ttl
        self.users: dict[str, tuple[Ed25519PublicKey, str]] = {
            "alice": (keys.alice[1], password_hash("alice", "secret"))
        }
        self.devices: dict[str, Ed25519PublicKey] = {"ood1": keys.device[1]}
        self.used_jti: set[str] = set()
        self.sessions: dict[str, str] = {}  # session id -> the live refresh token's jti
        self.calls: list[str] = []
        self.refuse_refresh = False
        self.unavailable = False
        self.lock = threading.Lock()

    def _enter(self, name: str) -> None:
        with self.lock:
            self.calls.append(name)
        if self.unavailable:
            raise ReasonError("verify-hub temporarily unavailable")

    def _pair(self, sub: str, appid: str, kind: str, session: str | None = None) -> vh.TokenPair:
        now = int(self.clock())
        session = session or secrets.token_hex(8)
        hub_key = self.keys.hub[0]
        claims = {
            "appid": appid,
            "jti": secrets.token_hex(8),
            "sub": sub,
            "iss": "verify-hub",
            "exp": now + self.session_ttl,
            "session": session,
            "principal_kind": kind,
        }
        refresh_jti = secrets.token_hex(8)
        refresh = dict(claims, jti=refresh_jti, exp=now + 7 * 86400, aud="verify-hub")
        with self.lock:
            self.sessions[session] = refresh_jti
        return vh.TokenPair(
            session_token=sign_token(claims, hub_key, kid="verify-hub"),
            refresh_token=sign_token(refresh, hub_key, kid="verify-hub"),
        )

    def _decode(self, token: str, key: Ed25519PublicKey) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=["EdDSA"],
                options={"verify_aud": False, "verify_exp": False},
            )
        except jwt.PyJWTError as err:
            raise InvalidTokenError(f"JWT decode error:{type(err).__name__}") from None
        if claims.get("exp", 0) < self.clock():
            raise InvalidTokenError("JWT decode error:ExpiredSignature")
        return claims

    def LoginByJwt(self, request: vh.LoginByJwtRequest, req: Request) -> vh.TokenPair:
        self._enter("login_by_jwt")
        _, unverified = decode_unverified(request.jwt)
        iss = unverified.get("iss")
        if iss == "root":
            key = self.keys.owner[1]
        elif iss in self.users:
            key = self.users[iss][0]
        elif iss in self.devices:
            key = self.devices[iss]
        else:
            raise InvalidTokenError(f"unknown issuer {iss}")
        claims = self._decode(request.jwt, key)
        jti = claims.get("jti")
        if jti is not None:
            with self.lock:
                if jti in self.used_jti:
                    raise ReasonError("Login JWT already used")
                self.used_jti.add(jti)
        kind = "user" if iss in self.users else ("device" if claims["sub"] == iss else "service")
        return self._pair(claims["sub"], claims.get("appid", "kernel"), kind)

    def RefreshToken(self, request: vh.RefreshTokenRequest, req: Request) -> vh.TokenPair:
        self._enter("refresh_token")
        if self.refuse_refresh:
            raise InvalidTokenError("refresh token is not valid (session unknown)")
        claims = self._decode(request.refresh_token, self.keys.hub[1])
        session = claims["session"]
        with self.lock:
            live = self.sessions.get(session)
        if claims.get("aud") != "verify-hub" or live != claims["jti"]:
            raise InvalidTokenError("refresh token revoked")
        return self._pair(claims["sub"], claims["appid"], claims["principal_kind"], session)

    def LoginByPassword(
        self, request: vh.LoginByPasswordRequest, req: Request
    ) -> vh.LoginByPasswordResult:
        self._enter("login_by_password")
        user = self.users.get(request.username)
        if user is None:
            raise InvalidPasswordError()
        expected = password_proof(user[1], request.login_nonce)
        if request.password != expected or abs(self.clock() * 1000 - request.login_nonce) > 28800:
            raise InvalidPasswordError()
        pair = self._pair(request.username, request.appid, "user")
        return vh.LoginByPasswordResult(
            user_info=vh.UserInfo(
                show_name=request.username,
                user_id=request.username,
                state="active",
                user_type="admin",
            ),
            session_token=pair.session_token,
            refresh_token=pair.refresh_token,
        )


@dataclass
class Zone:
    """The fake zone: keys, the two services, and where they listen."""

    keys: Keys
    clock: Clock
    config: FakeConfig
    hub: FakeHub
    info: ServerInfo
    zone_did: str

    @property
    def url(self) -> str:
        assert self.info.krpc_url is not None
        return self.info.krpc_url

    def boot_config(self) -> str:
        return json.dumps(
            {
                "id": self.zone_did,
                "owner": "did:bns:alice",
                "owner_public_key": public_key_to_jwk(self.keys.owner[1]),
                "verify_hub_info": {
                    "port": 3300,
                    "node_name": "ood1",
                    "public_key": public_key_to_jwk(self.keys.hub[1]),
                },
            }
        )

    def write_etc(
        self, folder: Path, *, device_key: bool = False, force_https: bool = False
    ) -> Path:
        """``node_identity.json`` and ``machine.json`` (and the device key) in ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        identity = {
            "zone_did": self.zone_did,
            "owner_did": "did:bns:alice",
            "owner_public_key": public_key_to_jwk(self.keys.owner[1]),
            "device_name": "ood1",
            "device_did": "did:web:ood1.zone",
            "zone_iat": 1700000000,
        }
        (folder / "node_identity.json").write_text(json.dumps(identity))
        (folder / "machine.json").write_text(json.dumps({"force_https": force_https}))
        if device_key:
            pem = private_key_to_pem(self.keys.device[0])
            (folder / "node_private_key.pem").write_text(pem)
        return folder

    def write_user(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "user_config.json").write_text(
            json.dumps({"name": "alice", "default_zone_did": self.zone_did})
        )
        (folder / "user_private_key.pem").write_text(private_key_to_pem(self.keys.alice[0]))
        (folder / "machine.json").write_text(json.dumps({"force_https": False}))
        return folder


@contextmanager
def fake_zone(*, session_ttl: int = 900, grpc: bool = False) -> Iterator[Zone]:
    """Both fakes in one Binding on one port (so the zone's public URL reaches both),
    with a zone DID ``did:web:127.0.0.1%3A<port>`` whose host is that server."""
    keys, clock = Keys(), Clock()
    trust = TrustKeyStore()
    trust.set_owner_key(keys.owner[1], "did:bns:alice")
    trust.add_device("ood1", keys.device[1], "did:web:ood1.zone")
    trust.set_verify_hub_key(keys.hub[1])
    binding = Binding(
        "fake-zone",
        verifier=TokenVerifier(trust, clock=clock),
        rbac=RbacEnforcer(tail=ZONE_TAIL),
        timeout=5.0,
    )
    config, hub = FakeConfig(), FakeHub(keys, clock, session_ttl=session_ttl)
    binding.add_service(config)
    binding.add_service(hub)
    server = ServerThread(binding, krpc=True, grpc=grpc)
    info = server.start()
    try:
        zone = Zone(keys, clock, config, hub, info, f"did:web:127.0.0.1%3A{info.krpc_port}")
        config.data["boot/config"] = zone.boot_config()
        config.data["system/rbac/policy"] = ZONE_TAIL
        config.data["devices/ood1/doc"] = json.dumps(
            did_document("did:web:ood1.zone", keys.device[1], name="ood1")
        )
        yield zone
    finally:
        server.stop()
        binding.close()
