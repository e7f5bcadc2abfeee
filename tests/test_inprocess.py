"""In-process calls: the registry, sync and async invocation, loop affinity."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from google.protobuf.message import Message

from buckyos.generated.system_config_rpc import AsyncSystemConfigStub, SystemConfigStub
from buckyos.runtime.client.grpc_client import GrpcTransport
from buckyos.runtime.client.inprocess import InProcessTransport
from buckyos.runtime.client.krpc_client import KrpcTransport
from buckyos.runtime.descriptor import MethodDescriptor
from buckyos.runtime.errors import (
    ConfigError,
    InternalError,
    KeyNotExistError,
    NoPermissionError,
    ServiceNotValidError,
    TransportError,
    UnknownMethodError,
)
from buckyos.runtime.server.serve import ServerInfo, serve, serving
from buckyos.runtime.wire import registry
from buckyos.runtime.wire.dispatch import CallInfo
from tests.generated import kitchen_sink_pb2 as ks
from tests.generated.kitchen_sink_rpc import (
    KITCHEN_SINK_ECHO,
    AsyncKitchenSinkStub,
    KitchenSinkStub,
)
from tests.wire_fixtures import GOOD_TOKEN, FakeDispatcher, ServerThread


class LoopRecorder(FakeDispatcher):
    """Remembers the loop and thread every call ran on."""

    def __init__(self) -> None:
        super().__init__()
        self.ran_on: list[tuple[asyncio.AbstractEventLoop, threading.Thread]] = []

    async def call(
        self, method: MethodDescriptor[Any, Any], message: Message, info: CallInfo
    ) -> Message:
        self.ran_on.append((asyncio.get_running_loop(), threading.current_thread()))
        return await super().call(method, message, info)


@pytest.fixture(autouse=True)
def clean_registry() -> Iterator[None]:
    before = registry.registered()
    yield
    assert registry.registered() == before


def test_registry_register_lookup_unregister() -> None:
    first, second = FakeDispatcher(), FakeDispatcher()
    assert registry.lookup("kitchen-sink") is None
    registry.register(first)
    try:
        assert registry.lookup("kitchen-sink") is first
        assert registry.lookup("system_config") is first
        assert {"kitchen-sink", "system_config"} <= set(registry.registered())
        registry.register(first)  # the same dispatcher again is fine
        with pytest.raises(ConfigError, match="'kitchen-sink' is already served"):
            registry.register(second)
        registry.unregister(second)  # not registered: nothing happens
        assert registry.lookup("kitchen-sink") is first
    finally:
        registry.unregister(first)
    assert registry.lookup("kitchen-sink") is None
    assert registry.lookup("system_config") is None


def test_sync_invoke_from_plain_code_passes_messages_and_the_token() -> None:
    dispatcher = LoopRecorder()
    stub = KitchenSinkStub(InProcessTransport(dispatcher, token=GOOD_TOKEN, trace_id="tr"))
    assert stub.Echo(owner="a", name="b", count=2) == ks.EchoResult(text="a/b x2", kind="echo")
    name, info = dispatcher.calls[-1]
    assert name == "kitchen-sink/ks_echo"
    assert (info.transport, info.token, info.trace_id, info.params, info.seq) == (
        "inprocess",
        GOOD_TOKEN,
        "tr",
        None,
        None,
    )
    # No loop of its own and none registered: the call ran on the private loop thread.
    _, thread = dispatcher.ran_on[-1]
    assert thread is not threading.current_thread()
    assert thread.name == "buckyos-inprocess"

    # The handler gets its own copy of the request, never the caller's object.
    request = ks.AllTypes(s="x", tags=["a"], labels={"k": "v"})
    echoed = stub.Everything(request)
    assert echoed == request
    assert echoed is not request
    assert stub.Names(prefix="be") == ks.NameList(names=["beta"])


def test_sync_errors_are_the_same_classes_as_on_the_wires() -> None:
    dispatcher = FakeDispatcher()
    stub = SystemConfigStub(InProcessTransport(dispatcher))
    with pytest.raises(NoPermissionError) as denied:
        stub.Get(key="a")
    assert str(denied.value) == "No permission:No session token"
    stub = SystemConfigStub(InProcessTransport(dispatcher, token=GOOD_TOKEN))
    with pytest.raises(KeyNotExistError) as missing:
        stub.Append(key="nope", append_value="x")
    assert str(missing.value) == "Key not exist: nope"
    sink = KitchenSinkStub(InProcessTransport(dispatcher, token=GOOD_TOKEN))
    with pytest.raises(InternalError) as internal:
        sink.Find(owner="o", name="boom")
    assert str(internal.value) == "Failed due to reason: internal error in kitchen-sink/ks_find"
    with pytest.raises(InternalError, match="returned NameList"):
        sink.Find(owner="o", name="wrong-type")


def test_unknown_verb_timeout_and_missing_api() -> None:
    class Narrow(FakeDispatcher):
        def lookup(self, api: str, krpc: str) -> MethodDescriptor[Any, Any] | None:
            return None if krpc == "ks_echo" else super().lookup(api, krpc)

    with pytest.raises(UnknownMethodError) as unknown:
        InProcessTransport(Narrow()).invoke(KITCHEN_SINK_ECHO, ks.EchoRequest())
    assert str(unknown.value) == "Unknown method: ks_echo"

    slow = FakeDispatcher(delay=1.0)
    with pytest.raises(TransportError, match=r"^Failed due to reason: timeout: "):
        InProcessTransport(slow, token=GOOD_TOKEN).invoke(
            KITCHEN_SINK_ECHO, ks.EchoRequest(), timeout=0.05
        )
    assert TransportError("timeout").retryable

    with pytest.raises(ServiceNotValidError) as invalid:
        InProcessTransport().invoke(KITCHEN_SINK_ECHO, ks.EchoRequest())
    assert str(invalid.value) == "Service not valid: kitchen-sink is not served in this process"


@pytest.mark.asyncio
async def test_async_invoke_runs_on_the_callers_loop() -> None:
    dispatcher = LoopRecorder()
    stub = AsyncKitchenSinkStub(InProcessTransport(dispatcher, token=GOOD_TOKEN))
    assert await stub.Names(prefix="al") == ks.NameList(names=["alpha", "alpine"])
    assert await stub.Find(owner="o", name="hit") == ks.Found(value="found", version=7)
    assert dispatcher.ran_on[-1] == (asyncio.get_running_loop(), threading.current_thread())
    with pytest.raises(NoPermissionError):
        await AsyncSystemConfigStub(InProcessTransport(dispatcher)).Get(key="a")


@pytest.mark.asyncio
async def test_sync_invoke_inside_a_running_loop_is_refused() -> None:
    stub = KitchenSinkStub(InProcessTransport(FakeDispatcher()))
    with pytest.raises(RuntimeError, match="use the async stub"):
        stub.Names(prefix="a")


@pytest.mark.asyncio
async def test_serving_registers_in_process_and_unregisters_on_exit() -> None:
    dispatcher = LoopRecorder()
    async with serving(dispatcher, krpc_port=None, grpc_port=None) as info:
        assert info.apis == ("kitchen-sink", "system_config")
        assert registry.lookup("system_config") is dispatcher
        stub = AsyncSystemConfigStub(InProcessTransport(token=GOOD_TOKEN))
        await stub.Set(key="a/b", value="1")
        assert (await stub.Get(key="a/b")).value == "1"
    assert registry.lookup("system_config") is None


def test_sync_calls_run_on_the_loop_that_serves_the_dispatcher() -> None:
    dispatcher = LoopRecorder()
    with ServerThread(dispatcher, krpc=False, grpc=False) as _:
        stub = SystemConfigStub(InProcessTransport(token=GOOD_TOKEN))  # via the registry
        stub.Set(key="x", value="1")
        assert stub.Get(key="x").value == "1"
        loop, thread = dispatcher.ran_on[-1]
        assert thread.name == "test-server"

        # An async caller on another loop is also served on the dispatcher's home loop.
        async def from_another_loop() -> str:
            got = await AsyncSystemConfigStub(InProcessTransport(token=GOOD_TOKEN)).Get(key="x")
            return got.value

        assert asyncio.run(from_another_loop()) == "1"
        assert dispatcher.ran_on[-1] == (loop, thread)
    assert registry.lookup("system_config") is None


async def wait_ready(task: asyncio.Task[ServerInfo], ready: asyncio.Event) -> None:
    waiter = asyncio.create_task(ready.wait())
    await asyncio.wait((task, waiter), timeout=10, return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    if task.done():
        task.result()  # raises what stopped it
    assert ready.is_set()


# --- serve: both wires in one loop, clean stops -------------------------------------------


@pytest.mark.asyncio
async def test_serve_stops_cleanly_on_sigterm_and_on_cancel() -> None:

    previous = signal.getsignal(signal.SIGTERM)
    info = ServerInfo()
    ready = asyncio.Event()
    task = asyncio.create_task(
        serve(FakeDispatcher(), krpc_port=0, grpc_port=0, ready=ready, info=info, grace=0.5,
              log_level="warning")
    )  # fmt: skip
    await wait_ready(task, ready)
    assert info.krpc_port and info.grpc_port and info.krpc_url and info.grpc_target
    assert registry.lookup("kitchen-sink") is not None
    async with KrpcTransport(info.krpc_url) as krpc, GrpcTransport(info.grpc_target) as grpc_:
        for transport in (krpc, grpc_):
            assert await AsyncKitchenSinkStub(transport).Names(prefix="be") == ks.NameList(
                names=["beta"]
            )
    os.kill(os.getpid(), signal.SIGTERM)
    assert await asyncio.wait_for(task, 10) is info
    assert signal.getsignal(signal.SIGTERM) is previous
    assert registry.lookup("kitchen-sink") is None
    for port in (info.krpc_port, info.grpc_port):
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()

    ready = asyncio.Event()
    task = asyncio.create_task(
        serve(FakeDispatcher(), krpc_port=0, grpc_port=None, ready=ready, log_level="warning")
    )
    await wait_ready(task, ready)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert registry.lookup("kitchen-sink") is None


def test_run_serves_until_sigint_in_a_fresh_process() -> None:

    code = (
        "import logging; logging.basicConfig(level=logging.INFO);"
        "from buckyos.runtime.server.serve import run; from tests.wire_fixtures import FakeDispatcher;"
        "run(FakeDispatcher(), krpc_port=0, grpc_port=0, log_level='warning')"
    )
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    process = subprocess.Popen(
        [sys.executable, "-c", code], cwd=root, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": root},
    )  # fmt: skip
    try:
        assert process.stderr is not None
        line = ""
        deadline = time.monotonic() + 20
        while "serving kitchen-sink, system_config" not in line:
            assert time.monotonic() < deadline
            line = process.stderr.readline()
            assert line, "the server exited before serving"
        url = line.split("kRPC ", 1)[1].split(",", 1)[0]
        with KrpcTransport(url) as transport:
            assert KitchenSinkStub(transport).Names(prefix="al").names == ["alpha", "alpine"]
        process.send_signal(signal.SIGINT)
        assert process.wait(20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()
