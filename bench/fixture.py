"""What every benchmark measures against: one verb, its data, the keys and the token.

The verb is ``system_config.Get`` (``sys_config_get``) from the real contract, served by
a real :class:`~buckyos.runtime.server.binding.Binding` with token enforcement (the contract's
``default_auth: "token"``, Ed25519, cached after the first call).  The handler is a dict
lookup so that what is measured is the runtime, not a store.  Two keys: ``bench/small``
holds a ~100 B value and ``bench/large`` a 64 KB value.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from google.protobuf import empty_pb2

from buckyos.generated import system_config_pb2 as sc
from buckyos.generated.system_config_rpc import SystemConfigServicer
from buckyos.runtime.security import (
    RbacEnforcer,
    TokenVerifier,
    TrustKeyStore,
    generate_key_pair,
    public_key_from_jwk,
    public_key_to_jwk,
    sign_token,
)
from buckyos.runtime.server import Binding, Request

__all__ = [
    "API",
    "GET_PATH",
    "LARGE_KEY",
    "SMALL_KEY",
    "BenchKeys",
    "BenchService",
    "build_binding",
    "check_small",
    "krpc_body",
    "values",
]

API: Final = "system_config"
GET_PATH: Final = "/kapi/system_config"
SMALL_KEY: Final = "bench/small"
LARGE_KEY: Final = "bench/large"
SMALL_SIZE: Final = 100
LARGE_SIZE: Final = 64 * 1024


def values() -> dict[str, str]:
    """The stored data: ASCII so the JSON and protobuf sizes match the nominal ones."""
    return {
        SMALL_KEY: ("s" * SMALL_SIZE),
        LARGE_KEY: ("L" * LARGE_SIZE),
    }


def check_small(answer: object, who: str) -> None:
    """Refuse an answer to ``Get(SMALL_KEY)`` that is not the stored value."""
    if not isinstance(answer, sc.GetResult) or answer.value != values()[SMALL_KEY]:
        raise RuntimeError(f"unexpected answer from {who}: {answer!r}")


class BenchService(SystemConfigServicer):
    """``Get`` and ``Set`` on a dict: the cheapest honest handler (async, on the loop)."""

    def __init__(self, data: dict[str, str] | None = None) -> None:
        self.data: dict[str, str] = dict(values() if data is None else data)

    async def Get(self, request: sc.KeyRequest, req: Request) -> sc.GetResult:
        value = self.data.get(request.key)
        return sc.GetResult() if value is None else sc.GetResult(value=value, version=1)

    async def Set(self, request: sc.SetRequest, req: Request) -> empty_pb2.Empty:
        self.data[request.key] = request.value
        return empty_pb2.Empty()


def build_binding(owner_jwk: dict[str, Any]) -> Binding:
    """The served binding: trusts the owner key, upstream's RBAC, :class:`BenchService`."""
    trust = TrustKeyStore()
    trust.set_owner_key(public_key_from_jwk(owner_jwk))
    binding = Binding(API, verifier=TokenVerifier(trust), rbac=RbacEnforcer())
    binding.add_service(BenchService())
    return binding


@dataclass(frozen=True, slots=True)
class BenchKeys:
    """The owner key pair of the run: the servers trust the public half, clients sign."""

    private: Ed25519PrivateKey
    owner_jwk: dict[str, str]

    @classmethod
    def generate(cls) -> BenchKeys:
        private, public = generate_key_pair()
        return cls(private, public_key_to_jwk(public))

    def token(self, *, nonce: int = 0, ttl: int = 3600) -> str:
        """A session token for user ``alice`` of app ``bench`` (``nonce`` makes it unique)."""
        claims: dict[str, Any] = {"sub": "alice", "appid": "bench", "exp": int(time.time()) + ttl}
        if nonce:
            claims["jti"] = f"bench-{nonce}"
        return sign_token(claims, self.private, kid=None)

    def server_config(self) -> dict[str, Any]:
        """What ``bench.servers`` reads from stdin."""
        return {"owner_jwk": self.owner_jwk}


def krpc_body(key: str, token: str, seq: int = 1) -> bytes:
    """The kRPC request our stub sends for ``Get(key)``, byte for byte (raw clients post it)."""
    request = {"method": "sys_config_get", "params": {"key": key}, "sys": [seq, token]}
    return json.dumps(request, separators=(",", ":"), ensure_ascii=False).encode()
