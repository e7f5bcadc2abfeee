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
from buckyos.runtime.client.grpc_client import GrpcTransport
from buckyos.runtime.client.inprocess import InProcessTransport
from buckyos.runtime.client.krpc_client import KrpcTransport
from buckyos.runtime.errors import NoPermissionError, RPCError
from buckyos.runtime.security.keys import generate_key_pair
from buckyos.runtime.security.rbac import RbacEnforcer
from buckyos.runtime.security.token_signing import sign_token
from buckyos.runtime.security.token_verifier import TokenVerifier
from buckyos.runtime.security.trust_keys import TrustKeyStore
from buckyos.runtime.server.binding import Binding
from buckyos.runtime.server.request import Request
from buckyos.runtime.server.serve import serving
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


def test_token_is_checked_before_the_params() -> None:
    """The binder's order: the token, then the verb reads its arguments."""
    import json
    import urllib.request

    private, public = generate_key_pair()
    trust = TrustKeyStore()
    trust.set_owner_key(public)
    binding = Binding("system_config", verifier=TokenVerifier(trust), rbac=RbacEnforcer())
    binding.add_service(Config())
    root = sign_token(
        {"sub": "root", "appid": "kernel", "exp": int(time.time()) + 600}, private, kid=None
    )

    def post(url: str, token: str | None) -> object:
        sys: list[object] = [7] if token is None else [7, token]
        body = json.dumps({"method": "sys_config_get", "params": {"key": 5}, "sys": sys})
        request = urllib.request.Request(
            url + "/kapi/system_config", body.encode(), {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    async def run() -> None:
        async with serving(binding, krpc_port=0, grpc_port=None, log_level="warning") as info:
            url = info.krpc_url
            assert url is not None
            no_token = await asyncio.to_thread(post, url, None)
            assert no_token == {"error": "No permission:No session token", "sys": [7]}
            forged = await asyncio.to_thread(post, url, "not.a.token")
            assert isinstance(forged, dict) and forged["error"].startswith("Invalid token: ")
            with_token = await asyncio.to_thread(post, url, root)
            assert with_token == {
                "error": "Parse Request Error: field `key`: expected string, got number",
                "sys": [7],
            }

    asyncio.run(run())
    binding.close()
