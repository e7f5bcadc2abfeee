"""Transports on one base, and the Router's registry of transports by endpoint kind."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import pytest
from google.protobuf.message import Message

from buckyos.generated import system_config_pb2 as sc
from buckyos.generated.system_config_rpc import SYSTEM_CONFIG_GET, SystemConfigStub
from buckyos.runtime import AsyncUnaryInvoker, UnaryInvoker
from buckyos.runtime.client import transports
from buckyos.runtime.client.grpc_client import GrpcTransport
from buckyos.runtime.client.inprocess import InProcessTransport
from buckyos.runtime.client.krpc_client import KrpcTransport
from buckyos.runtime.client.resolve import Endpoint
from buckyos.runtime.client.routing import Router
from buckyos.runtime.client.transports import TransportSettings
from buckyos.runtime.errors import NoPermissionError, ServiceNotValidError, TransportError
from buckyos.runtime.transport import Method, TokenInvoker, Transport

ReqT = TypeVar("ReqT", bound=Message)
RespT = TypeVar("RespT", bound=Message)

FAKE = "fake-wire"


def refused(address: str) -> TransportError:
    """What a wire raises when nothing listens: certainly never sent."""
    try:
        raise ConnectionRefusedError(111, "refused")
    except ConnectionRefusedError as exc:
        error = TransportError(f"connection refused: {address}")
        error.__cause__ = exc
        return error


@dataclass
class Wire:
    """What the fake wire's transports saw."""

    calls: list[tuple[str, str | None, float | None, str]] = field(default_factory=list)
    made: list[tuple[Endpoint, TransportSettings]] = field(default_factory=list)
    down: set[str] = field(default_factory=set)
    closed: list[str] = field(default_factory=list)


class FakeTransport(Transport):
    """A transport of the fake kind: answers ``<address>:<token>``, or fails when down."""

    def __init__(self, address: str, wire: Wire) -> None:
        self.token = None
        self.trace_id = None
        self.address = address
        self.wire = wire

    def _send(
        self, method: Method[ReqT, RespT], request: ReqT, timeout: float | None, token: str | None
    ) -> RespT:
        self.wire.calls.append((self.address, token, timeout, "sync"))
        return self._answer(method, token)

    async def _asend(
        self, method: Method[ReqT, RespT], request: ReqT, timeout: float | None, token: str | None
    ) -> RespT:
        self.wire.calls.append((self.address, token, timeout, "async"))
        return self._answer(method, token)

    def _answer(self, method: Method[ReqT, RespT], token: str | None) -> RespT:
        if self.address in self.wire.down:
            raise refused(self.address)
        if token is None:
            raise NoPermissionError("No session token")
        answer = method.response_type()
        assert isinstance(answer, sc.GetResult)
        answer.value = f"{self.address}:{token}"
        return answer

    def close(self) -> None:
        self.wire.closed.append(self.address)


@pytest.fixture
def wire() -> Iterator[Wire]:
    seen = Wire()

    def factory(endpoint: Endpoint, settings: TransportSettings) -> Transport:
        seen.made.append((endpoint, settings))
        return FakeTransport(endpoint.address, seen)

    transports.register_transport(FAKE, factory)
    try:
        yield seen
    finally:
        transports.unregister_transport(FAKE)


def fixed(*endpoints: Endpoint) -> Router:
    return Router(lambda api: endpoints, token="tok", timeout=7.0, dead_for=30.0)


def fake(address: str) -> Endpoint:
    return Endpoint(FAKE, address, "direct")


# --- the registry -------------------------------------------------------------------------


def test_built_in_kinds_are_registered_by_their_modules() -> None:
    assert {"krpc", "grpc", "inprocess"} <= set(transports.transport_kinds())
    assert transports.transport_kind(Endpoint("inprocess", "", "inprocess")).marks_dead is False
    assert transports.transport_kind(Endpoint("krpc", "http://h", "direct")).marks_dead is True
    made = transports.transport_kind(Endpoint("grpc", "h:1", "direct")).factory(
        Endpoint("grpc", "h:1", "direct"), TransportSettings(3.0, 20.0, {"grpc": (("a", 1),)})
    )
    assert isinstance(made, GrpcTransport) and made.timeout == 3.0
    assert ("grpc.max_reconnect_backoff_ms", 20000) in made._options
    assert ("a", 1) in made._options


def test_a_registered_kind_is_used_by_the_router(wire: Wire) -> None:
    assert FAKE in transports.transport_kinds()
    router = fixed(fake("one"))
    stub = SystemConfigStub(router)
    assert stub.Get(key="k").value == "one:tok"
    assert stub.Get(key="k").value == "one:tok"
    (endpoint, settings), *more = wire.made
    assert not more, "one transport per endpoint, pooled"
    assert endpoint == fake("one") and (settings.timeout, settings.dead_for) == (7.0, 30.0)
    assert wire.calls[-1] == ("one", "tok", 7.0, "sync")
    # the public transport interface: a token for one call, and the async twin
    assert router.invoke_as("other", SYSTEM_CONFIG_GET, sc.KeyRequest()).value == "one:other"
    answer = asyncio.run(router.ainvoke(SYSTEM_CONFIG_GET, sc.KeyRequest(), timeout=2.0))
    assert answer.value == "one:tok" and wire.calls[-1] == ("one", "tok", 2.0, "async")
    router.close()
    assert wire.closed == ["one"]


def test_a_registered_kind_fails_over_and_is_marked_dead(wire: Wire) -> None:
    router = fixed(fake("one"), fake("two"))
    wire.down.add("one")
    assert SystemConfigStub(router).Get(key="k").value == "two:tok"
    assert list(router.dead()) == [fake("one")]
    wire.down.add("two")
    with pytest.raises(TransportError, match=r"\[all 2 endpoints of system_config failed"):
        SystemConfigStub(router).Get(key="k")


def test_a_kind_that_says_absent_is_skipped_and_never_marked_dead() -> None:
    wire = Wire()
    transports.register_transport(
        FAKE,
        lambda endpoint, settings: FakeTransport(endpoint.address, wire),
        absent=lambda api: ServiceNotValidError(f"{api} is not here"),
        marks_dead=False,
    )
    try:
        router = fixed(fake("one"))
        with pytest.raises(ServiceNotValidError, match="system_config is not here"):
            SystemConfigStub(router).Get(key="k")
        assert wire.calls == [] and router.dead() == {}
    finally:
        transports.unregister_transport(FAKE)


def test_registering_twice_needs_replace_and_unknown_kinds_are_named(wire: Wire) -> None:
    def factory(endpoint: Endpoint, settings: TransportSettings) -> Transport:
        return FakeTransport("replaced", wire)

    with pytest.raises(ValueError, match="registered already"):
        transports.register_transport(FAKE, factory)
    with pytest.raises(ValueError, match="non-empty"):
        transports.register_transport("", factory)
    assert transports.register_transport(FAKE, factory, replace=True).factory is factory
    assert SystemConfigStub(fixed(fake("x"))).Get(key="k").value == "replaced:tok"
    transports.unregister_transport(FAKE)
    with pytest.raises(ValueError, match=r"^unknown endpoint kind 'fake-wire' in Endpoint\("):
        SystemConfigStub(fixed(fake("x"))).Get(key="k")


# --- the base -----------------------------------------------------------------------------


class Recorder(TokenInvoker):
    def __init__(self) -> None:
        self.sent: list[tuple[str | None, float | None, bool]] = []
        self.closed = 0

    def current_token(self) -> str | None:
        return "current"

    def _send(
        self, method: Method[ReqT, RespT], request: ReqT, timeout: float | None, token: str | None
    ) -> RespT:
        self.sent.append((token, timeout, False))
        return method.response_type()

    async def _asend(
        self, method: Method[ReqT, RespT], request: ReqT, timeout: float | None, token: str | None
    ) -> RespT:
        self.sent.append((token, timeout, True))
        return method.response_type()

    def close(self) -> None:
        self.closed += 1


def test_token_invoker_carries_the_current_or_the_given_token() -> None:
    rec = Recorder()
    request = sc.KeyRequest(key="k")
    assert isinstance(rec, UnaryInvoker) and isinstance(rec, AsyncUnaryInvoker)
    rec.invoke(SYSTEM_CONFIG_GET, request)
    rec.invoke_as(None, SYSTEM_CONFIG_GET, request, timeout=1.0)

    async def run() -> None:
        async with rec:
            await rec.ainvoke(SYSTEM_CONFIG_GET, request, timeout=2.0)
            await rec.ainvoke_as("given", SYSTEM_CONFIG_GET, request)

    asyncio.run(run())
    with rec:
        pass
    assert rec.sent == [
        ("current", None, False),
        (None, 1.0, False),
        ("current", 2.0, True),
        ("given", None, True),
    ]
    assert rec.closed == 2  # aclose() closes by default, as does leaving `with`


@pytest.mark.parametrize(
    "transport",
    [
        lambda: KrpcTransport("http://127.0.0.1:9", token="t", trace_id="r"),
        lambda: GrpcTransport("127.0.0.1:9", token="t", trace_id="r"),
        lambda: InProcessTransport(token="t", trace_id="r"),
    ],
)
def test_wires_share_the_base(transport: Callable[[], Transport]) -> None:
    made = transport()
    assert isinstance(made, Transport)
    assert (made.token, made.trace_id, made.current_token()) == ("t", "r", "t")
    made.token = "renewed"
    assert made.current_token() == "renewed"
    with made:
        pass


def test_grpc_metadata_follows_token_and_trace_changes() -> None:
    transport = GrpcTransport("127.0.0.1:9", token="t")
    bearer = ("authorization", "Bearer t")
    assert transport._metadata_for("t", "api") == (bearer,)
    assert transport._metadata_for(None, "api") == ()
    assert transport._metadata_for("t", "api") == (bearer,)
    transport.trace_id = "r"
    assert transport._metadata_for("t", "api") == (bearer, ("x-trace-id", "r"))
    assert transport._metadata_for("u", "api") == (
        ("authorization", "Bearer u"),
        ("x-trace-id", "r"),
    )
    transport.token = None
    assert transport._metadata_for(None, "api") == (("x-trace-id", "r"),)
    transport.close()


def test_candidates_are_asked_per_call(wire: Wire) -> None:
    asked: list[str] = []

    def candidates(api: str) -> Sequence[Endpoint]:
        asked.append(api)
        return (fake("one"),)

    router = Router(candidates, token=lambda: "fresh")
    assert SystemConfigStub(router).Get(key="k").value == "one:fresh"
    assert asked == ["system_config"]
