"""Listeners: a server's wires as objects; a wire of one's own needs no new parameters.

The custom wire here is kRPC under uvicorn's h11 parser instead of httptools: a real
second HTTP server on its own port, registered once, then offered by every service
process's options and served by ``serving`` next to the built-in wires.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from buckyos.generated.system_config_rpc import SystemConfigStub
from buckyos.runtime.client.krpc_client import KrpcTransport
from buckyos.runtime.errors import ConfigError
from buckyos.runtime.server import (
    AsgiServer,
    GrpcListener,
    KrpcApp,
    KrpcListener,
    Listener,
    Server,
    ServerInfo,
    add_server_options,
    describe_listeners,
    register_listener,
    server_listeners,
    serving,
    unregister_listener,
)
from buckyos.runtime.server.listeners import listener_kinds
from buckyos.runtime.wire.dispatch import Dispatcher
from tests.wire_fixtures import GOOD_TOKEN, FakeDispatcher


class H11Listener(Listener[None]):
    """kRPC over HTTP parsed by h11: a wire the runtime does not know."""

    wire = "h11"
    label = "kRPC/h11"

    def server(self, dispatcher: Dispatcher, *, log_level: str, grace: float) -> Server:
        return AsgiServer(KrpcApp(dispatcher), log_level=log_level, grace=grace, http="h11")

    def address(self, host: str, port: int) -> str:
        return f"http://{host}:{port}"


@pytest.fixture
def h11_wire() -> Iterator[None]:
    register_listener(H11Listener)
    try:
        yield
    finally:
        unregister_listener(H11Listener.wire)


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_server_options(parser, ports={"krpc": 3200})
    return parser.parse_args(argv)


def test_options_name_every_registered_wire(h11_wire: None) -> None:
    args = _parse(["--grpc-port", "7001", "--h11-port", "7002"])
    assert server_listeners(args) == [KrpcListener(3200), GrpcListener(7001), H11Listener(7002)]
    args = _parse(["--no-grpc", "--no-h11"])
    assert server_listeners(args) == [KrpcListener(3200)]
    with pytest.raises(ConfigError, match="--no-krpc and --no-grpc and --no-h11 leave nothing"):
        server_listeners(_parse(["--no-krpc", "--no-grpc", "--no-h11"]))
    assert describe_listeners("::1", server_listeners(args)) == "::1 (kRPC port 3200)"


def test_options_forget_an_unregistered_wire() -> None:
    assert [kind.wire for kind in listener_kinds()] == ["krpc", "grpc"]
    with pytest.raises(SystemExit):
        _parse(["--h11-port", "1"])
    with pytest.raises(ValueError, match="built-in"):
        unregister_listener("krpc")


def test_a_wire_is_registered_once(h11_wire: None) -> None:
    register_listener(H11Listener)  # the same class again: nothing changes

    class Other(H11Listener):
        pass

    with pytest.raises(ValueError, match="'h11' is registered already"):
        register_listener(Other)


def test_a_wire_of_ones_own_serves_next_to_the_built_in_ones() -> None:
    dispatcher = FakeDispatcher()
    info = ServerInfo()

    async def run() -> None:
        listeners: list[Listener[Any]] = [KrpcListener(0), H11Listener(0), GrpcListener(0)]
        async with serving(dispatcher, listeners=listeners, log_level="warning", info=info):
            assert list(info.ports) == ["krpc", "h11", "grpc"]
            assert len(set(info.ports.values())) == 3
            lines = info.listening_lines()
            assert lines[1] == f"kRPC/h11 listening on http://127.0.0.1:{info.ports['h11']}"
            assert lines[0] == f"kRPC listening on {info.krpc_url}"
            assert lines[2] == f"gRPC listening on {info.grpc_target}"

            def call(url: str) -> None:
                with KrpcTransport(f"{url}/kapi/system_config", token=GOOD_TOKEN) as client:
                    stub = SystemConfigStub(client)
                    stub.Set(key="k", value=url)
                    assert stub.Get(key="k").value == url

            await asyncio.to_thread(call, info.addresses["h11"])
            await asyncio.to_thread(call, info.addresses["krpc"])

    asyncio.run(run())
    assert dispatcher.store["k"][0] == info.addresses["krpc"]


def test_listeners_and_the_port_shorthand_do_not_mix() -> None:
    async def run() -> None:
        async with serving(FakeDispatcher(), listeners=[KrpcListener(0)], krpc_port=0):
            pass

    with pytest.raises(TypeError, match="not both"):
        asyncio.run(run())


def test_a_taken_port_stops_the_listeners_already_started() -> None:
    """The second listener cannot bind: the first one is stopped, its port free again."""

    async def run() -> None:
        async with serving(FakeDispatcher(), krpc_port=0, log_level="warning") as taken:
            port = taken.krpc_port
            assert port
            first = ServerInfo()
            with pytest.raises(OSError):
                async with serving(
                    FakeDispatcher(),
                    listeners=[GrpcListener(0), KrpcListener(port)],
                    log_level="warning",
                    info=first,
                    register=False,
                ):
                    pass
            grpc_port = first.grpc_port
            assert grpc_port
        # the gRPC listener that did start is closed: its port binds again
        async with serving(
            FakeDispatcher(), listeners=[GrpcListener(grpc_port)], log_level="warning"
        ) as again:
            assert again.grpc_port == grpc_port

    asyncio.run(run())
