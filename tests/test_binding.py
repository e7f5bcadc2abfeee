"""Binding: the binder's verb table over Dispatcher.call, with real keys and real casbin.

The kitchen-sink contract (``tests/proto/buckyos_test/kitchen_sink.proto``) carries every
auth node kind and session flag; ``tools`` and the lifecycle apis are registered by hand.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar, cast

import pytest
from google.protobuf import empty_pb2
from google.protobuf.message import Message

from buckyos.runtime.descriptor import MethodDescriptor, SessionFlags
from buckyos.runtime.errors import (
    ContractError,
    InternalError,
    InvalidTokenError,
    KeyNotExistError,
    NoPermissionError,
    ParseRequestError,
    RPCError,
    ServiceNotValidError,
    UnknownMethodError,
)
from buckyos.runtime.security.rbac import RbacEnforcer
from buckyos.runtime.security.token_signing import sign_token
from buckyos.runtime.server.binding import Binding
from buckyos.runtime.server.request import Request
from buckyos.runtime.wire.dispatch import CallInfo, Dispatcher
from tests.generated import kitchen_sink_pb2 as ks
from tests.generated.kitchen_sink_rpc import (
    KITCHEN_SINK,
    KITCHEN_SINK_CLOSE,
    KITCHEN_SINK_DO_NOTHING,
    KITCHEN_SINK_ECHO,
    KITCHEN_SINK_EVERYTHING,
    KITCHEN_SINK_FIND,
    KITCHEN_SINK_NAMES,
    KitchenSinkServicer,
)
from tests.test_authz import NOW, ZONE_TAIL, Zone

ReqT = TypeVar("ReqT", bound=Message)
RespT = TypeVar("RespT", bound=Message)

EchoVerb = MethodDescriptor[ks.EchoRequest, ks.EchoResult]


def hand_verb(api: str, krpc: str, auth: str = "yes", **flags: Any) -> EchoVerb:
    return MethodDescriptor.build(
        api=api,
        service=f"buckyos_test.{api.title().replace('-', '')}",
        name="".join(part.title() for part in krpc.split("_")),
        krpc=krpc,
        request_type=ks.EchoRequest,
        response_type=ks.EchoResult,
        auth=auth,
        session=SessionFlags(**flags) if flags else None,
    )


# Hand-registered verbs added to the (noconcurrency) kitchen-sink api.
KS_RAISE_LOA = hand_verb("kitchen-sink", "ks_raise_loa", "token")
KS_ASLEEP = hand_verb("kitchen-sink", "ks_asleep")
KS_ASUB = hand_verb("kitchen-sink", "ks_asub", "token")
KS_STUCK = hand_verb("kitchen-sink", "ks_stuck", "token")
# A plain concurrent api, registered by hand.
WHOAMI = hand_verb("tools", "whoami")
ASK = hand_verb("tools", "ask")
AASK = hand_verb("tools", "aask")
BOOM = hand_verb("tools", "boom")
WRONG = hand_verb("tools", "wrong")
KEY_MISSING = hand_verb("tools", "key_missing")
SLOW_ASYNC = hand_verb("tools", "slow_async")
SLOW_SYNC = hand_verb("tools", "slow_sync")
NAP = hand_verb("tools", "nap")
REMEMBER = hand_verb("tools", "remember")
# An api nobody in this process serves.
ELSEWHERE = hand_verb("elsewhere", "el_whoami")


def _who(req: Request) -> str:
    caller = req.caller
    return f"{caller.user_id}/{caller.app_id}/{caller.loa}"


class Sink(KitchenSinkServicer):
    """Implements every kitchen-sink verb but Everything; notes steer what Echo does."""

    def __init__(self) -> None:
        self.order: list[int] = []
        self.active = 0
        self.max_active = 0
        self.released: list[Any] = []
        self.seen_in_close: list[Any] = []
        self.hooks: list[str] = []
        self.events: list[tuple[str, Any]] = []
        self._lock = threading.Lock()

    # lifecycle hooks
    def preinit(self, binding: Binding) -> None:
        self.hooks.append("preinit")

    async def init(self, binding: Binding) -> None:
        self.hooks.append("init")

    def onevent(self, name: str, data: Any) -> None:
        self.events.append((name, data))

    def _enter(self, index: int) -> None:
        with self._lock:
            self.order.append(index)
            self.active += 1
            self.max_active = max(self.max_active, self.active)

    def _leave(self) -> None:
        with self._lock:
            self.active -= 1

    def Echo(self, request: ks.EchoRequest, req: Request) -> ks.EchoResult:
        note = request.note
        if note.startswith("order:"):
            self._enter(request.count)
            time.sleep(0.002 * (10 - request.count % 10))
            self._leave()
        elif note.startswith("ctx:"):
            previous = req.context_get("none")
            req.context_set(note[4:], self.released.append)
            return ks.EchoResult(text=str(previous), kind=_who(req))
        elif note.startswith("sub"):
            owner = note[4:] or request.owner
            inner = req.subcall(KITCHEN_SINK_ECHO, ks.EchoRequest(owner=owner, name=request.name))
            return ks.EchoResult(text=f"outer({inner.kind})", kind=_who(req))
        return ks.EchoResult(text=note, kind=_who(req))

    async def DoNothing(self, request: empty_pb2.Empty, req: Request) -> empty_pb2.Empty:
        return empty_pb2.Empty()

    def Close(self, request: ks.EchoRequest, req: Request) -> empty_pb2.Empty:
        self.seen_in_close.append(req.context_get())
        return empty_pb2.Empty()

    def Names(self, request: ks.NameParam, req: Request) -> ks.NameList:
        return ks.NameList(names=["never"])  # auth "no": never reached

    async def Find(self, request: ks.EchoRequest, req: Request) -> ks.Found:
        return ks.Found(value=_who(req))


class FakeInvoker:
    """A remote runtime: records the token each call carried."""

    def __init__(self, calls: list[str | None] | None = None, token: str | None = None) -> None:
        self.calls: list[str | None] = [] if calls is None else calls
        self.token = token

    def with_token(self, token: str | None) -> FakeInvoker:
        return FakeInvoker(self.calls, token)

    def invoke(
        self, method: MethodDescriptor[ReqT, RespT], request: ReqT, *, timeout: float | None = None
    ) -> RespT:
        self.calls.append(self.token)
        return cast(RespT, ks.EchoResult(text=f"remote:{method.krpc}"))

    async def ainvoke(
        self, method: MethodDescriptor[ReqT, RespT], request: ReqT, *, timeout: float | None = None
    ) -> RespT:
        return self.invoke(method, request, timeout=timeout)


class PlainInvoker:
    """An invoker that can only use its own credentials (no ``with_token``)."""

    def __init__(self) -> None:
        self.calls = 0

    def invoke(
        self, method: MethodDescriptor[ReqT, RespT], request: ReqT, *, timeout: float | None = None
    ) -> RespT:
        self.calls += 1
        return cast(RespT, ks.EchoResult(text="plain"))


class World:
    """A zone, a binding serving kitchen-sink and tools, and some callers' tokens."""

    def __init__(self, **binding_args: Any) -> None:
        self.zone = zone = Zone()
        self.bob = zone.device_token(session=5)  # LOA 1
        self.bob_login = zone.user_token(session=6)  # LOA 2
        self.own = zone.device_token(sub="system-config", appid=None)
        self.sink = Sink()
        self.binding = Binding(
            "test",
            verifier=zone.verifier,
            rbac=zone.rbac,
            own_token=self.own,
            **binding_args,
        )
        self.binding.add_service(self.sink)
        self._add_hand_verbs()

    def _add_hand_verbs(self) -> None:
        b = self.binding

        def raise_loa(request: ks.EchoRequest, req: Request) -> ks.EchoResult:
            return ks.EchoResult(text=str(req.set_loa(int(request.count))))

        async def asleep(request: ks.EchoRequest, req: Request) -> ks.EchoResult:
            self.sink._enter(request.count)
            await asyncio.sleep(0.002 * (10 - request.count % 10))
            self.sink._leave()
            return ks.EchoResult(text="slept")

        async def asub(request: ks.EchoRequest, req: Request) -> ks.EchoResult:
            inner = await req.asubcall(KITCHEN_SINK_ECHO, ks.EchoRequest(owner="bob", name="n"))
            return ks.EchoResult(text=f"outer({inner.kind})")

        b.add_verb(KS_RAISE_LOA, raise_loa)
        b.add_verb(KS_ASLEEP, asleep)
        b.add_verb(KS_ASUB, asub)
        b.add_api("tools")

        def whoami(request: ks.EchoRequest, req: Request) -> ks.EchoResult:
            return ks.EchoResult(text=_who(req))

        def ask(request: ks.EchoRequest, req: Request) -> ks.EchoResult:
            target = ELSEWHERE if request.note == "remote" else WHOAMI
            mine = req.subcall(target, ks.EchoRequest())
            own = req.call(target, ks.EchoRequest())
            return ks.EchoResult(text=f"{mine.text}|{own.text}")

        async def aask(request: ks.EchoRequest, req: Request) -> ks.EchoResult:
            target = ELSEWHERE if request.note == "remote" else WHOAMI
            mine = await req.asubcall(target, ks.EchoRequest())
            own = await req.acall(target, ks.EchoRequest())
            return ks.EchoResult(text=f"{mine.text}|{own.text}")

        def boom(request: ks.EchoRequest, req: Request) -> ks.EchoResult:
            raise ValueError("boom")

        def wrong(request: ks.EchoRequest, req: Request) -> ks.EchoResult:
            return cast(ks.EchoResult, ks.Found())

        async def key_missing(request: ks.EchoRequest, req: Request) -> ks.EchoResult:
            raise KeyNotExistError("users/bob/x")

        async def slow_async(request: ks.EchoRequest, req: Request) -> ks.EchoResult:
            await asyncio.sleep(request.count / 1000)
            return ks.EchoResult(text="late")

        def slow_sync(request: ks.EchoRequest, req: Request) -> ks.EchoResult:
            time.sleep(request.count / 1000)
            return ks.EchoResult(text="late")

        async def nap(request: ks.EchoRequest, req: Request) -> ks.EchoResult:
            self.sink._enter(request.count)
            await asyncio.sleep(0.002 * (10 - request.count % 10))
            self.sink._leave()
            return ks.EchoResult(text="napped")

        def remember(request: ks.EchoRequest, req: Request) -> ks.EchoResult:
            before = req.context_get("nothing")
            if request.note:
                req.context_set(request.note)
            return ks.EchoResult(text=str(before))

        for method, handler in (
            (WHOAMI, whoami),
            (ASK, ask),
            (AASK, aask),
            (BOOM, boom),
            (WRONG, wrong),
            (KEY_MISSING, key_missing),
            (SLOW_ASYNC, slow_async),
            (SLOW_SYNC, slow_sync),
            (NAP, nap),
            (REMEMBER, remember),
        ):
            b.add_verb(method, cast(Callable[[ks.EchoRequest, Request], Any], handler))

    async def call(
        self,
        method: MethodDescriptor[Any, RespT],
        message: Message,
        token: str | None = None,
        trace_id: str | None = None,
    ) -> RespT:
        info = CallInfo(token=token, trace_id=trace_id, transport="inprocess")
        return cast(RespT, await self.binding.call(method, message, info))

    async def fails(
        self, method: MethodDescriptor[Any, Any], message: Message, token: str | None = None
    ) -> RPCError:
        with pytest.raises(RPCError) as info:
            await self.call(method, message, token)
        return info.value


@pytest.fixture
def world() -> Iterator[World]:
    w = World()
    yield w
    w.binding.close()


def echo(owner: str = "bob", name: str = "n1", note: str = "", count: int = 0) -> ks.EchoRequest:
    return ks.EchoRequest(owner=owner, name=name, note=note, count=count)


# --------------------------------------------------------------------------- verb table


def test_binding_is_a_dispatcher_with_the_contracts_table(world: World) -> None:
    dispatcher: Dispatcher = world.binding
    apis = {service.api: service for service in dispatcher.services()}
    assert set(apis) == {"kitchen-sink", "tools"}
    sink = apis["kitchen-sink"]
    assert sink.noconcurrency and sink.port == KITCHEN_SINK.port
    assert [m.krpc for m in sink.methods] == [
        *(m.krpc for m in KITCHEN_SINK.methods),
        "ks_raise_loa",
        "ks_asleep",
        "ks_asub",
    ]
    assert dispatcher.lookup("kitchen-sink", "ks_echo") is KITCHEN_SINK_ECHO
    assert dispatcher.lookup("tools", "whoami") is WHOAMI
    assert dispatcher.lookup("kitchen-sink", "ks_everything") is None  # not implemented
    assert dispatcher.lookup("nowhere", "ks_echo") is None
    with pytest.raises(ContractError, match="already served"):
        world.binding.add_verb(WHOAMI, lambda request, req: ks.EchoResult())
    with pytest.raises(ContractError, match="already served"):
        world.binding.add_service(Sink())


@pytest.mark.asyncio
async def test_unimplemented_verb_answers_unknown_method(world: World) -> None:
    error = await world.fails(KITCHEN_SINK_EVERYTHING, ks.AllTypes(), world.bob)
    assert isinstance(error, UnknownMethodError)
    assert str(error) == "Unknown method: ks_everything"
    assert str(await world.fails(ELSEWHERE, echo(), world.bob)) == "Unknown method: el_whoami"


@pytest.mark.asyncio
async def test_wrong_message_type_is_a_parse_error(world: World) -> None:
    error = await world.fails(KITCHEN_SINK_ECHO, ks.Found(), world.bob)
    assert isinstance(error, ParseRequestError)
    assert str(error) == "Parse Request Error: ks_echo expects buckyos_test.EchoRequest, got Found"


@pytest.mark.asyncio
async def test_lifecycle_hooks_of_the_servicer_run_once_before_serving(world: World) -> None:
    assert world.sink.hooks == []
    # The first call starts the binding itself.
    await world.call(KITCHEN_SINK_DO_NOTHING, empty_pb2.Empty(), world.bob)
    assert world.sink.hooks == ["preinit", "init"]
    await world.binding.init()
    world.binding.preinit()
    assert world.sink.hooks == ["preinit", "init"]
    assert world.binding.started
    with pytest.raises(ContractError, match="once started"):
        world.binding.add_api("late")
    assert await world.binding.onevent("kitchen-sink/changed", {"k": 1}) == 1
    assert world.sink.events == [("kitchen-sink/changed", {"k": 1})]


# --------------------------------------------------------------------------- auth


@pytest.mark.asyncio
async def test_each_token_refusal_through_call(world: World) -> None:
    zone = world.zone
    cases: list[tuple[str | None, type[RPCError], str]] = [
        (None, NoPermissionError, "No permission:No session token"),
        (
            sign_token({"sub": "bob", "exp": NOW + 60}, zone.stranger, kid="nobody"),
            NoPermissionError,
            "No permission:kid nobody not found",
        ),
        (
            zone.user_token(exp=NOW - 120),
            InvalidTokenError,
            "Invalid token: JWT decode error:ExpiredSignature",
        ),
        (
            zone.user_token(aud="verify-hub"),
            InvalidTokenError,
            "Invalid token: refresh token cannot be used as session token",
        ),
        (
            sign_token({"sub": "bob", "exp": NOW + 60}, zone.stranger, kid="verify-hub"),
            InvalidTokenError,
            "Invalid token: JWT decode error:InvalidSignature",
        ),
    ]
    for method, message in ((KITCHEN_SINK_DO_NOTHING, empty_pb2.Empty()), (KS_RAISE_LOA, echo())):
        for token, kind, text in cases:
            error = await world.fails(method, message, token)
            assert type(error) is kind
            assert str(error) == text
    assert await world.call(KITCHEN_SINK_DO_NOTHING, empty_pb2.Empty(), world.bob) == (
        empty_pb2.Empty()
    )


@pytest.mark.asyncio
async def test_permission_from_message_fields_and_rbac_denial_text(world: World) -> None:
    result = await world.call(KITCHEN_SINK_ECHO, echo(note="hi"), world.bob)
    assert (result.text, result.kind) == ("hi", "bob/demo/1")
    error = await world.fails(KITCHEN_SINK_ECHO, echo(owner="carol", name="n2"), world.bob)
    assert str(error) == (
        "No permission:enforce failed,userid:bob,appid:demo,"
        "resource:obj://sink/carol/n2,action:read"
    )
    # Session flags CHECK + LOA 1 come first: no token, no tree.
    assert str(await world.fails(KITCHEN_SINK_ECHO, echo())) == "No permission:No session token"


@pytest.mark.asyncio
async def test_no_node_denies_even_a_sudo_token(world: World) -> None:
    sudo = world.zone.user_token(sub="admin", appid="control-panel", sudo=True)
    error = await world.fails(KITCHEN_SINK_NAMES, ks.NameParam(prefix="x"), sudo)
    assert str(error) == "No permission:ks_names is closed to every caller (auth: no)"


@pytest.mark.asyncio
async def test_loa_levels_and_set_loa_for_later_calls_of_the_session(world: World) -> None:
    zone = world.zone
    # Find: "loa 2 or obj://sink/{name}:write"; bob may read his sink but not write.
    denial = await world.fails(KITCHEN_SINK_FIND, echo(name="x"), world.bob)
    assert str(denial) == (
        "No permission:enforce failed,userid:bob,appid:demo,resource:obj://sink/x,action:write"
    )
    assert (await world.call(KITCHEN_SINK_FIND, echo(), world.bob_login)).value == "bob/demo/2"
    sudo = zone.user_token(sudo=True)
    assert (await world.call(KITCHEN_SINK_FIND, echo(), sudo)).value == "bob/demo/3"
    # A verb of the api raises the level for the rest of this session...
    assert (await world.call(KS_RAISE_LOA, echo(count=2), world.bob)).text == "2"
    assert (await world.call(KITCHEN_SINK_FIND, echo(name="x"), world.bob)).value == "bob/demo/2"
    # ...even with another token of the same session (a refreshed one)...
    refreshed = zone.device_token(session=5, jti="after-refresh")
    assert (await world.call(KITCHEN_SINK_FIND, echo(), refreshed)).value == "bob/demo/2"
    # ...but not for another session or another api.
    other = zone.device_token(session=99)
    assert isinstance(await world.fails(KITCHEN_SINK_FIND, echo(), other), NoPermissionError)
    assert (await world.call(WHOAMI, echo(), world.bob)).text == "bob/demo/1"
    # The level a token gives cannot be lowered by the session.
    assert (await world.call(KS_RAISE_LOA, echo(count=0), world.bob_login)).text == "2"


@pytest.mark.asyncio
async def test_close_drops_context_and_loa_after_the_reply(world: World) -> None:
    binding, sink = world.binding, world.sink
    first = await world.call(KITCHEN_SINK_ECHO, echo(note="ctx:cursor-1"), world.bob)
    assert first.text == "none"
    second = await world.call(KITCHEN_SINK_ECHO, echo(note="ctx:cursor-2"), world.bob)
    assert second.text == "cursor-1"
    assert sink.released == ["cursor-1"]  # replaced: released
    await world.call(KS_RAISE_LOA, echo(count=3), world.bob)
    assert binding.sessions.get_loa("5@bob", "kitchen-sink") == 3
    await world.call(REMEMBER, echo(note="tools-ctx"), world.bob)
    # Close: the handler still sees the context; it is dropped once the reply exists.
    await world.call(KITCHEN_SINK_CLOSE, echo(), world.bob)
    assert sink.seen_in_close == ["cursor-2"]
    assert sink.released == ["cursor-1", "cursor-2"]
    assert binding.sessions.get_loa("5@bob", "kitchen-sink") == 0
    again = await world.call(KITCHEN_SINK_ECHO, echo(note="ctx:cursor-3"), world.bob)
    assert again.text == "none"
    # Only this api's context went: the tools api of the same session kept its own.
    assert (await world.call(REMEMBER, echo(), world.bob)).text == "tools-ctx"
    # CLOSE implies a token check.
    assert str(await world.fails(KITCHEN_SINK_CLOSE, echo())) == "No permission:No session token"


@pytest.mark.asyncio
async def test_anonymous_callers_have_no_session_context(world: World) -> None:
    assert (await world.call(REMEMBER, echo())).text == "nothing"
    error = await world.fails(REMEMBER, echo(note="x"))
    assert str(error) == "No permission:context_set needs a session token (the caller sent none)"
    assert (await world.call(WHOAMI, echo())).text == "None/None/0"


@pytest.mark.asyncio
async def test_an_rbac_failure_denies_through_call_even_under_not() -> None:
    class DownRbac(RbacEnforcer):
        def enforce(self, *args: Any, **kwargs: Any) -> bool:
            raise RuntimeError("policy store unreachable")

    zone = Zone()
    binding = Binding("down", verifier=zone.verifier, rbac=DownRbac(tail=ZONE_TAIL))
    guarded = hand_verb("tools", "guarded", "not obj://sink/{owner}/{name}:read")
    binding.add_verb(guarded, lambda request, req: ks.EchoResult(text="granted?!"))
    with pytest.raises(NoPermissionError) as info:
        await binding.call(guarded, echo(), CallInfo(token=zone.device_token()))
    assert str(info.value) == (
        "No permission:guarded: cannot check obj://sink/{owner}/{name}:read (RuntimeError)"
    )
    binding.close()


# --------------------------------------------------------------------------- jobs


@pytest.mark.asyncio
async def test_timeout_is_an_internal_error_and_the_server_keeps_serving() -> None:
    world = World(timeout=0.2)

    async def stuck(request: ks.EchoRequest, req: Request) -> ks.EchoResult:
        await asyncio.sleep(5)
        return ks.EchoResult()

    world.binding.add_verb(KS_STUCK, stuck)
    try:
        error = await world.fails(SLOW_ASYNC, echo(count=3000))
        assert isinstance(error, InternalError)
        assert str(error) == "Failed due to reason: tools/slow_async timed out after 0.2s"
        assert (await world.call(WHOAMI, echo())).text == "None/None/0"
        started = time.monotonic()
        error = await world.fails(SLOW_SYNC, echo(count=3000))
        assert str(error) == "Failed due to reason: tools/slow_sync timed out after 0.2s"
        assert time.monotonic() - started < 2.0  # the 3 s worker was not waited for
        # The abandoned worker thread does not block the next call.
        assert (await world.call(WHOAMI, echo())).text == "None/None/0"
        assert (await world.call(SLOW_SYNC, echo(count=1))).text == "late"
        # A noconcurrency api is freed by the timeout too.
        error = await world.fails(KS_STUCK, echo(), world.bob)
        assert str(error) == "Failed due to reason: kitchen-sink/ks_stuck timed out after 0.2s"
        assert (await world.call(KITCHEN_SINK_ECHO, echo(note="ok"), world.bob)).text == "ok"
    finally:
        world.binding.close()


@pytest.mark.asyncio
async def test_handler_errors_become_internal_errors_and_are_logged(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="buckyos.binding.test"):
        with pytest.raises(InternalError) as info:
            await world.call(BOOM, echo(), world.bob, trace_id="t-9")
    assert str(info.value) == "Failed due to reason: ValueError: boom"
    record = next(r for r in caplog.records if "handler raised" in r.getMessage())
    assert record.getMessage() == "[tools/boom caller=bob/demo trace=t-9] handler raised ValueError"
    assert record.exc_info is not None and "Traceback" in caplog.text
    assert getattr(record, "trace_id", None) == "t-9" and getattr(record, "verb", None) == "boom"
    error = await world.fails(WRONG, echo())
    assert str(error) == (
        "Failed due to reason: wrong returned Found, expected buckyos_test.EchoResult"
    )
    # An RPCError raised on purpose reaches the caller as it is.
    error = await world.fails(KEY_MISSING, echo())
    assert type(error) is KeyNotExistError and str(error) == "Key not exist: users/bob/x"


@pytest.mark.asyncio
async def test_noconcurrency_runs_in_strict_arrival_order(world: World) -> None:
    sink = world.sink
    calls: list[Awaitable[Any]] = []
    for i in range(12):
        # Sync and async verbs of the api interleaved; earlier ones sleep longer.
        if i % 2:
            calls.append(world.call(KS_ASLEEP, echo(count=i), world.bob))
        else:
            calls.append(world.call(KITCHEN_SINK_ECHO, echo(note="order:", count=i), world.bob))
    await asyncio.gather(*calls)
    assert sink.order == list(range(12))
    assert sink.max_active == 1
    # The same load on a concurrent api overlaps.
    sink.order.clear()
    sink.max_active = 0
    await asyncio.gather(*(world.call(NAP, echo(count=i)) for i in range(12)))
    assert sink.max_active > 1


@pytest.mark.asyncio
async def test_same_api_subcall_does_not_deadlock(world: World) -> None:
    # A sync verb calls its own (noconcurrency) api synchronously, with the caller's token.
    result = await asyncio.wait_for(
        world.call(KITCHEN_SINK_ECHO, echo(note="sub"), world.bob), timeout=3
    )
    assert (result.text, result.kind) == ("outer(bob/demo/1)", "bob/demo/1")
    # The same from an async verb, and while other calls queue behind it.
    results = await asyncio.wait_for(
        asyncio.gather(
            world.call(KS_ASUB, echo(), world.bob),
            world.call(KITCHEN_SINK_ECHO, echo(note="sub"), world.bob),
            world.call(KITCHEN_SINK_ECHO, echo(note="plain"), world.bob),
            world.call(KS_ASUB, echo(), world.bob_login),
        ),
        timeout=3,
    )
    assert [r.text for r in results] == [
        "outer(bob/demo/1)",
        "outer(bob/demo/1)",
        "plain",
        "outer(bob/demo/2)",
    ]
    # The subcall is checked with the caller's token: bob may not read carol's sink.
    error = await world.fails(KITCHEN_SINK_ECHO, echo(note="sub:carol"), world.bob)
    assert type(error) is NoPermissionError
    assert str(error) == (
        "No permission:enforce failed,userid:bob,appid:demo,"
        "resource:obj://sink/carol/n1,action:read"
    )


@pytest.mark.asyncio
async def test_subcall_carries_the_callers_token_and_call_the_services_own(world: World) -> None:
    for verb in (ASK, AASK):
        result = await world.call(verb, echo(), world.bob)
        assert result.text == "bob/demo/1|system-config/kernel/1"
    # Anonymous caller: the subcall is anonymous too, the service call is not.
    assert (await world.call(ASK, echo())).text == "None/None/0|system-config/kernel/1"


@pytest.mark.asyncio
async def test_calls_to_apis_served_elsewhere_need_an_invoker(world: World) -> None:
    for verb in (ASK, AASK):
        error = await world.fails(verb, echo(note="remote"), world.bob)
        assert type(error) is ServiceNotValidError
        assert str(error) == (
            "Service not valid: elsewhere: not served by binding test and no invoker is "
            "configured (give Binding(invoker=...) a runtime or transport)"
        )
    invoker = FakeInvoker()
    with_invoker = World(invoker=invoker)
    try:
        for verb in (ASK, AASK):
            result = await with_invoker.call(verb, echo(note="remote"), with_invoker.bob)
            assert result.text == "remote:el_whoami|remote:el_whoami"
        assert invoker.calls == [with_invoker.bob, with_invoker.own] * 2
    finally:
        with_invoker.binding.close()
    plain = PlainInvoker()
    refusing = World(invoker=plain)
    try:
        error = await refusing.fails(ASK, echo(note="remote"), refusing.bob)
        assert str(error) == (
            "Service not valid: elsewhere: the invoker PlainInvoker cannot carry the "
            "caller's token (it needs a with_token(token) method)"
        )
        assert plain.calls == 0  # never silently made with the service's credentials
    finally:
        refusing.binding.close()


# --------------------------------------------------------------------------- lifecycle


def _lifecycle(name: str = "life", **kwargs: Any) -> tuple[Binding, list[str]]:
    zone = Zone()
    return Binding(name, verifier=zone.verifier, rbac=zone.rbac, **kwargs), []


@pytest.mark.asyncio
async def test_require_api_orders_init() -> None:
    binding, order = _lifecycle()
    preinits: list[str] = []

    def preinit_a(b: Binding) -> None:
        preinits.append("a")
        b.require_api(["b"])

    def preinit_b(b: Binding) -> None:
        preinits.append("b")
        b.require_api("c", initialized=True)

    async def init_b(b: Binding) -> None:
        await asyncio.sleep(0)
        order.append("b")
        # An api already initialized can be called from a later init.
        ping = await b.call(hand_verb("c", "c_ping"), echo(note="from b"), CallInfo())
        order.append(cast(ks.EchoResult, ping).text)

    binding.add_api("a", preinit=preinit_a, init=lambda b: order.append("a"))
    binding.add_api("b", preinit=preinit_b, init=init_b)
    binding.add_api("c", init=lambda b: order.append("c"))
    binding.add_verb(hand_verb("c", "c_ping"), lambda request, req: ks.EchoResult(text="pong"))
    binding.preinit()
    assert binding.start_order() == ["c", "b", "a"]
    await binding.init()
    await binding.init()
    assert order == ["c", "b", "pong", "a"]
    assert preinits == ["a", "b"]
    binding.close()


@pytest.mark.asyncio
async def test_require_api_cycle_is_refused_at_start() -> None:
    binding, order = _lifecycle("cyc")
    binding.add_api("a", init=lambda b: order.append("a"))
    binding.add_api("b", init=lambda b: order.append("b"))
    binding.add_api("c")
    binding.add_verb(hand_verb("a", "a_ping"), lambda request, req: ks.EchoResult())
    binding.require_api("b", api="a")
    binding.require_api(["c"], api="b")
    binding.require_api("a", api="c")
    with pytest.raises(ContractError, match=r"^require_api cycle between apis: a -> b -> c -> a$"):
        await binding.init()
    assert order == []  # nothing was initialized
    error = None
    try:
        await binding.call(hand_verb("a", "a_ping"), echo(), CallInfo())
    except ServiceNotValidError as exc:
        error = exc
    assert str(error) == (
        "Service not valid: a: binding cyc failed to start "
        "(ContractError: require_api cycle between apis: a -> b -> c -> a)"
    )
    binding.close()


def test_require_api_checks_what_can_be_required() -> None:
    binding, _ = _lifecycle("req")
    binding.add_api("a")
    binding.require_api("ghost", api="a")
    with pytest.raises(ContractError, match="api a requires ghost initialized, but binding req"):
        binding.start_order()
    binding, _ = _lifecycle("req")
    binding.add_api("a")
    binding.require_api("ghost", initialized=False)  # the only api: "a"
    with pytest.raises(ContractError, match="no invoker is configured to reach"):
        binding.start_order()
    binding, _ = _lifecycle("req", invoker=FakeInvoker())
    binding.add_api("a")
    binding.require_api("ghost", initialized=False)  # reachable through the invoker
    assert binding.start_order() == ["a"]
    binding.add_api("b")
    with pytest.raises(ContractError, match="needs api="):
        binding.require_api("a")
    with pytest.raises(ContractError, match="cannot require itself"):
        binding.require_api("a", api="a")


# --------------------------------------------------------------------------- queue_job


@pytest.mark.asyncio
async def test_queue_job_runs_a_group_in_order() -> None:
    binding, order = _lifecycle()
    lock = threading.Lock()

    def sync_job(tag: str, delay: float) -> Callable[[], str]:
        def run() -> str:
            time.sleep(delay)
            with lock:
                order.append(tag)
            return tag

        return run

    def async_job(tag: str, delay: float) -> Callable[[], Awaitable[str]]:
        async def run() -> str:
            await asyncio.sleep(delay)
            order.append(tag)
            return tag

        return run

    tasks: list[asyncio.Task[str]] = []
    for i in range(6):
        delay = 0.03 - 0.005 * i  # earlier jobs take longer, sync and async interleaved
        if i % 2:
            tasks.append(binding.queue_job(sync_job(f"g{i}", delay), group="g"))
        else:
            tasks.append(binding.queue_job(async_job(f"g{i}", delay), group="g"))
        tasks.append(binding.queue_job(async_job(f"h{i}", delay), group="h"))
    results = await asyncio.gather(*tasks)
    assert [r for r in results if r.startswith("g")] == [f"g{i}" for i in range(6)]
    assert [t for t in order if t.startswith("g")] == [f"g{i}" for i in range(6)]
    assert [t for t in order if t.startswith("h")] == [f"h{i}" for i in range(6)]
    # The two groups ran side by side: each finished a job before the other was done
    # (in series, one group's six jobs would all come before the other's first).
    assert order.index("h0") < order.index("g5") and order.index("g0") < order.index("h5")
    # A job without a group runs at once, whatever the groups do.
    assert await binding.queue_job(lambda: "free") == "free"
    # From a worker thread.
    future = await asyncio.to_thread(binding.queue_job_threadsafe, lambda: "threaded", "g")
    assert await asyncio.wrap_future(future) == "threaded"
    binding.close()


@pytest.mark.asyncio
async def test_queue_job_timeout_cancels_and_the_group_moves_on() -> None:
    binding, order = _lifecycle()
    cancelled: list[bool] = []

    async def stuck() -> str:
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise
        return "never"

    async def after() -> str:
        order.append("after")
        return "after"

    first = binding.queue_job(stuck, group="g", timeout=0.05)
    second = binding.queue_job(after, group="g", timeout=1)
    with pytest.raises(TimeoutError, match=r"of group 'g' timed out after 0.05s"):
        await first
    assert await second == "after"
    assert cancelled == [True]
    sync_stuck = binding.queue_job(lambda: time.sleep(0.3), group="s", timeout=0.05)
    with pytest.raises(TimeoutError):
        await sync_stuck
    assert await binding.queue_job(lambda: "next", group="s") == "next"
    binding.close()


@pytest.mark.asyncio
async def test_sync_subcall_from_the_loop_thread_is_refused_not_deadlocked(world: World) -> None:
    async def bad(request: ks.EchoRequest, req: Request) -> ks.EchoResult:
        return req.subcall(WHOAMI, ks.EchoRequest())  # sync call inside an async handler

    world.binding.add_verb(hand_verb("tools", "bad"), bad)
    error = await asyncio.wait_for(world.fails(hand_verb("tools", "bad"), echo()), timeout=2)
    assert str(error) == (
        "Failed due to reason: RuntimeError: a sync call on the event loop thread would block "
        "it: use `await req.asubcall(...)` / `await req.acall(...)` in async handlers"
    )


def test_a_request_built_without_a_binding_says_what_it_cannot_do(
    caplog: pytest.LogCaptureFixture,
) -> None:
    req = Request(WHOAMI, echo(), params={"owner": "bob"}, transport="inmemory")
    assert req.caller.anonymous and req.api == "tools" and req.verb == "whoami"
    assert req.context_get("dflt") == "dflt"
    assert req.context_clear() is False
    with pytest.raises(ServiceNotValidError) as info:
        req.context_set("x")
    assert str(info.value) == (
        "Service not valid: tools: context_set needs a request served by a Binding "
        "(this one is not)"
    )
    with pytest.raises(ServiceNotValidError, match="subcall needs a request served by a Binding"):
        req.subcall(ELSEWHERE, echo())
    with caplog.at_level(logging.INFO, logger="buckyos.request"):
        req.logger.info("hello %s", "there")
    assert caplog.records[-1].getMessage() == (
        "[tools/whoami caller=anonymous trace=-] hello there"
    )
