"""Generated stubs and server bases through the in-memory kRPC loopback, sync and async."""

from __future__ import annotations

import asyncio

import pytest
from google.protobuf import empty_pb2

from buckyos.generated import system_config_pb2 as sc
from buckyos.generated.system_config_rpc import (
    AsyncSystemConfigStub,
    SystemConfigServicer,
    SystemConfigStub,
)
from buckyos.runtime.errors import (
    InternalError,
    KeyNotExistError,
    NoPermissionError,
    UnknownMethodError,
)
from buckyos.runtime.server.request import Request
from buckyos.runtime.testing import LoopbackTransport


class MemoryConfig(SystemConfigServicer):
    """A toy system_config: sync Get/Set, async List, Append raising upstream's error."""

    def __init__(self) -> None:
        self.data: dict[str, tuple[str, int]] = {}

    def Get(self, request: sc.KeyRequest, req: Request) -> sc.GetResult:
        if request.key.startswith("secret/"):
            raise NoPermissionError("No read permission")
        found = self.data.get(request.key)
        return sc.GetResult() if found is None else sc.GetResult(value=found[0], version=found[1])

    def Set(self, request: sc.SetRequest, req: Request) -> empty_pb2.Empty:
        version = self.data.get(request.key, ("", 0))[1] + 1
        self.data[request.key] = (request.value, version)
        return empty_pb2.Empty()

    async def List(self, request: sc.KeyRequest, req: Request) -> sc.ListResult:
        await asyncio.sleep(0)
        prefix = request.key.rstrip("/") + "/"
        return sc.ListResult(
            keys=sorted(k[len(prefix) :] for k in self.data if k.startswith(prefix))
        )

    def Append(self, request: sc.AppendRequest, req: Request) -> empty_pb2.Empty:
        raise KeyNotExistError(request.key)

    def Delete(self, request: sc.KeyRequest, req: Request) -> empty_pb2.Empty:
        raise ValueError("boom")


def test_sync_stub_round_trip() -> None:
    transport = LoopbackTransport(MemoryConfig())
    stub = SystemConfigStub(transport)
    assert stub.Get(key="users/alice/a") == sc.GetResult()
    assert transport.last_result is None  # upstream's bare null for a missing key
    assert stub.Set(key="users/alice/a", value="1") == empty_pb2.Empty()
    assert transport.last_params == {"key": "users/alice/a", "value": "1"}
    stub.Set(sc.SetRequest(key="users/alice/a", value="2"))
    result = stub.Get(key="users/alice/a")
    assert (result.value, result.version) == ("2", 2)
    assert transport.last_result == {"value": "2", "version": 2}
    # An async handler served to a sync caller.
    assert list(stub.List(key="users/alice").keys) == ["a"]


def test_async_stub_round_trip() -> None:
    async def run() -> None:
        stub = AsyncSystemConfigStub(LoopbackTransport(MemoryConfig()))
        await stub.Set(key="k/x", value="v")
        got = await stub.Get(key="k/x")
        assert (got.value, got.version) == ("v", 1)
        assert list((await stub.List(key="k")).keys) == ["x"]

    asyncio.run(run())


def test_errors_come_back_as_the_same_kind() -> None:
    stub = SystemConfigStub(LoopbackTransport(MemoryConfig()))
    with pytest.raises(NoPermissionError) as denied:
        stub.Get(key="secret/x")
    assert str(denied.value) == "No permission:No read permission"
    with pytest.raises(KeyNotExistError) as missing:
        stub.Append(key="nope", append_value="x")
    assert str(missing.value) == "Key not exist: nope"
    with pytest.raises(InternalError) as internal:
        stub.Delete(key="x")
    assert str(internal.value) == "Failed due to reason: ValueError: boom"
    with pytest.raises(UnknownMethodError) as unknown:
        stub.ExecTx(actions={})
    assert str(unknown.value) == "Unknown method: sys_config_exec_tx"


def test_request_message_or_fields_not_both() -> None:
    stub = SystemConfigStub(LoopbackTransport(MemoryConfig()))
    with pytest.raises(TypeError, match="not both"):
        stub.Get(sc.KeyRequest(key="a"), key="b")
    with pytest.raises(TypeError, match=r"expects buckyos\.system_config\.KeyRequest"):
        stub.Get(sc.SetRequest(key="a"))  # type: ignore[arg-type]


def test_stub_refuses_the_wrong_invoker_kind() -> None:
    with pytest.raises(TypeError, match=r"needs a runtime or transport with \.invoke\(\)"):
        SystemConfigStub(object())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"\.ainvoke\(\)"):
        AsyncSystemConfigStub(object())  # type: ignore[arg-type]


def test_servicer_reports_what_it_implements() -> None:
    names = [m.name for m in MemoryConfig().implemented()]
    assert names == ["Get", "Set", "Delete", "Append", "List"]
