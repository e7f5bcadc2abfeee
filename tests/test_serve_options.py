"""serving() options: a second instance of an api in one process stays off the registry."""

from __future__ import annotations

import asyncio

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
