"""A real Binding (Ed25519 tokens, casbin RBAC) behind the real servers, over every wire.

The same calls must give the same results and the same errors over kRPC/HTTP, gRPC and
in-process.
"""

from __future__ import annotations

import asyncio
import time

from google.protobuf import empty_pb2

from buckyos.generated import system_config_pb2 as sc
from buckyos.generated.system_config_rpc import AsyncSystemConfigStub, SystemConfigServicer
from buckyos.runtime.binding import Binding
from buckyos.runtime.errors import NoPermissionError, RPCError
from buckyos.runtime.grpc_client import GrpcTransport
from buckyos.runtime.inprocess import InProcessTransport
from buckyos.runtime.keys import generate_key_pair
from buckyos.runtime.krpc_client import KrpcTransport
from buckyos.runtime.rbac import RbacEnforcer
from buckyos.runtime.request import Request
from buckyos.runtime.serve import serving
from buckyos.runtime.tokens import TokenVerifier, TrustKeyStore, sign_token
from buckyos.runtime.transport import AsyncUnaryInvoker


class Config(SystemConfigServicer):
    def __init__(self) -> None:
        self.data: dict[str, str] = {}

    async def Get(self, request: sc.KeyRequest, req: Request) -> sc.GetResult:
        req.enforce("read", f"obj://config/{request.key}")
        value = self.data.get(request.key)
        return sc.GetResult() if value is None else sc.GetResult(value=value, version=1)

    def Set(self, request: sc.SetRequest, req: Request) -> empty_pb2.Empty:
        req.enforce("write", f"obj://config/{request.key}")
        self.data[request.key] = request.value
        return empty_pb2.Empty()


def test_same_results_and_errors_on_every_wire() -> None:
    private, public = generate_key_pair()
    trust = TrustKeyStore()
    trust.set_owner_key(public)
    binding = Binding(
        "system_config",
        verifier=TokenVerifier(trust),
        rbac=RbacEnforcer(tail="g, alice, users\ng, notes, app"),
    )
    binding.add_service(Config())
    exp = int(time.time()) + 600
    alice = sign_token({"sub": "alice", "appid": "notes", "exp": exp}, private, kid=None)
    forged_private, _ = generate_key_pair()
    forged = sign_token({"sub": "alice", "appid": "notes", "exp": exp}, forged_private, kid=None)
    own_key = "users/alice/apps/notes/settings"

    async def run() -> None:
        async with serving(binding, krpc_port=0, grpc_port=0, log_level="warning") as info:
            krpc_url, grpc_target = info.krpc_url, info.grpc_target
            assert krpc_url is not None and grpc_target is not None

            opened: list[KrpcTransport | GrpcTransport] = []

            def make(wire: str, token: str | None) -> AsyncUnaryInvoker:
                if wire == "krpc":
                    opened.append(KrpcTransport(krpc_url, token=token))
                    return opened[-1]
                if wire == "grpc":
                    opened.append(GrpcTransport(grpc_target, token=token))
                    return opened[-1]
                return InProcessTransport(binding, token=token)

            outcomes: dict[str, list[object]] = {}
            for wire in ("krpc", "grpc", "inprocess"):
                seen: list[object] = []
                for token, call in (
                    (alice, ("Set", own_key, "v1")),
                    (alice, ("Get", own_key, None)),
                    (alice, ("Get", "users/bob/apps/notes/settings", None)),
                    (None, ("Get", own_key, None)),
                    (forged, ("Get", own_key, None)),
                ):
                    stub = AsyncSystemConfigStub(make(wire, token))
                    try:
                        if call[0] == "Set":
                            result: object = await stub.Set(key=call[1], value=call[2])
                        else:
                            result = await stub.Get(key=call[1])
                        seen.append(result)
                    except RPCError as exc:
                        seen.append((type(exc).__name__, str(exc)))
                outcomes[wire] = seen
            for transport in opened:
                await transport.aclose()
            assert outcomes["krpc"] == outcomes["grpc"] == outcomes["inprocess"], outcomes
            first = outcomes["krpc"]
            assert first[1] == sc.GetResult(value="v1", version=1)
            assert first[2] == (
                "NoPermissionError",
                "No permission:enforce failed,userid:alice,appid:notes,"
                "resource:obj://config/users/bob/apps/notes/settings,action:read",
            )
            assert first[3] == ("NoPermissionError", "No permission:No session token")
            assert isinstance(first[4], tuple) and first[4][1].startswith("Invalid token: ")

    asyncio.run(run())
    assert issubclass(NoPermissionError, RPCError)
