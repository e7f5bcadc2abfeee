"""serving() options: a second instance of an api in one process stays off the registry."""

from __future__ import annotations

import asyncio
import time

import pytest

from buckyos.runtime.errors import ConfigError
from buckyos.runtime.server.serve import AsgiServer, serving
from buckyos.runtime.wire import registry
from tests.wire_fixtures import FakeDispatcher


def test_second_instance_serves_without_registering() -> None:
    first, second = FakeDispatcher(), FakeDispatcher()
    api = first.services()[0].api

    async def run() -> None:
        async with serving(first, krpc_port=0, grpc_port=None, log_level="warning"):
            assert registry.lookup(api) is first
            with pytest.raises(ConfigError, match=f"api '{api}' is already served"):
                async with serving(second, krpc_port=0, grpc_port=None, log_level="warning"):
                    pass
            async with serving(
                second, krpc_port=0, grpc_port=None, log_level="warning", register=False
            ) as info:
                assert info.krpc_port and registry.lookup(api) is first
        assert registry.lookup(api) is None

    asyncio.run(run())


def test_asgi_server_reports_a_taken_port_and_stops_twice() -> None:
    async def app(scope: dict[str, object], receive: object, send: object) -> None:
        if scope["type"] == "lifespan":
            return

    async def run() -> None:
        server = AsgiServer(app, log_level="warning")
        port = await server.start("127.0.0.1", 0)
        with pytest.raises(OSError):
            await AsgiServer(app, log_level="warning").start("127.0.0.1", port)
        with pytest.raises(RuntimeError, match="called twice"):
            await server.start("127.0.0.1", 0)
        await server.stop()
        await server.stop()  # idempotent

    asyncio.run(run())


def test_a_binding_takes_calls_again_after_its_server_stopped() -> None:
    """A Binding drains its own calls when its server stops; once that server is gone it
    answers in-process calls (and a later server) again, and while a second server still
    serves it, the first one stopping ends nothing."""
    from buckyos.generated import system_config_pb2 as sc
    from buckyos.generated.system_config_rpc import SystemConfigServicer, SystemConfigStub
    from buckyos.runtime.client.inprocess import InProcessTransport
    from buckyos.runtime.errors import ServiceNotValidError
    from buckyos.runtime.security.keys import generate_key_pair
    from buckyos.runtime.security.rbac import RbacEnforcer
    from buckyos.runtime.security.token_signing import sign_token
    from buckyos.runtime.security.token_verifier import TokenVerifier
    from buckyos.runtime.security.trust_keys import TrustKeyStore
    from buckyos.runtime.server.binding import Binding
    from buckyos.runtime.server.request import Request

    class Open(SystemConfigServicer):
        def Get(self, request: sc.KeyRequest, req: Request) -> sc.GetResult:
            return sc.GetResult(value="v", version=1)

    private, public = generate_key_pair()
    trust = TrustKeyStore()
    trust.set_owner_key(public)
    binding = Binding("system_config", verifier=TokenVerifier(trust), rbac=RbacEnforcer())
    binding.add_service(Open())
    claims = {"sub": "root", "appid": "kernel", "exp": int(time.time()) + 600}
    token = sign_token(claims, private, kid="root")

    async def get() -> str:
        return await asyncio.to_thread(
            lambda: SystemConfigStub(InProcessTransport(binding, token=token)).Get(key="k").value
        )

    async def run() -> None:
        async with serving(binding, krpc_port=0, grpc_port=None, log_level="warning"):
            async with serving(
                binding, krpc_port=0, grpc_port=None, log_level="warning", register=False
            ):
                pass  # the second server stops while the first still serves: nothing ends
            assert await get() == "v"
        assert await get() == "v"  # no server left: the binding answers again
        await binding.drain(0.0)  # a drain with no server attached refuses, until detached
        with pytest.raises(ServiceNotValidError, match="the server is stopping"):
            await get()
        binding.attach_server()
        binding.detach_server()
        assert await get() == "v"

    asyncio.run(run())
