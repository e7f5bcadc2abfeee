"""Failover over real sockets: two real instances of a Binding, one stopped mid-run."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

import pytest
from google.protobuf import empty_pb2

from buckyos.generated import system_config_pb2 as sc
from buckyos.generated.system_config_rpc import (
    AsyncSystemConfigStub,
    SystemConfigServicer,
    SystemConfigStub,
)
from buckyos.runtime.client.resolve import Endpoint
from buckyos.runtime.client.routing import Router, never_sent, should_fail_over
from buckyos.runtime.errors import KeyNotExistError, NoPermissionError, TransportError
from buckyos.runtime.security.keys import generate_key_pair
from buckyos.runtime.security.rbac import RbacEnforcer
from buckyos.runtime.security.token_signing import sign_token
from buckyos.runtime.security.token_verifier import TokenVerifier
from buckyos.runtime.security.trust_keys import TrustKeyStore
from buckyos.runtime.server.binding import Binding
from buckyos.runtime.server.request import Request
from buckyos.runtime.server.serve import serving
from buckyos.runtime.wire import registry
from buckyos.runtime.wire.dispatch import Dispatcher
from tests.loop_thread import LoopThread
from tests.wire_fixtures import RawHttpServer, free_port, http_response

T = TypeVar("T")

OWN_KEY = "users/alice/apps/notes/settings"
BOB_KEY = "users/bob/apps/notes/settings"


class Config(SystemConfigServicer):
    """One instance's store; Get answers ``<instance>:<caller>`` so a test sees who
    served the call and with which token."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.calls: list[str] = []
        self.created: list[str] = []

    def Get(self, request: sc.KeyRequest, req: Request) -> sc.GetResult:
        req.enforce("read", f"obj://config/{request.key}")
        self.calls.append(f"get {request.key}")
        return sc.GetResult(value=f"{self.name}:{req.caller.user_id}", version=1)

    def Set(self, request: sc.SetRequest, req: Request) -> empty_pb2.Empty:
        req.enforce("write", f"obj://config/{request.key}")
        self.calls.append(f"set {request.key}")
        return empty_pb2.Empty()

    def Create(self, request: sc.SetRequest, req: Request) -> empty_pb2.Empty:
        req.enforce("write", f"obj://config/{request.key}")
        self.calls.append(f"create {request.key}")
        self.created.append(request.key)
        return empty_pb2.Empty()

    def Delete(self, request: sc.KeyRequest, req: Request) -> empty_pb2.Empty:
        raise KeyNotExistError(request.key)


class Instance:
    """One real instance (kRPC over HTTP and gRPC on loopback) of the system_config api."""

    def __init__(self, name: str, zone: Zone) -> None:
        self.config = Config(name)
        self.zone = zone
        self.krpc_port = 0
        self.grpc_port = 0
        self._stack: contextlib.AsyncExitStack | None = None

    def binding(self) -> Binding:
        binding = Binding(
            "system_config",
            verifier=TokenVerifier(self.zone.trust),
            rbac=RbacEnforcer(tail="g, alice, users\ng, bob, users\ng, notes, app"),
        )
        binding.add_service(self.config)
        return binding

    def start(self) -> Instance:
        async def start() -> None:
            stack = contextlib.AsyncExitStack()
            info = await stack.enter_async_context(
                serving(
                    self.binding(),
                    krpc_port=self.krpc_port,
                    grpc_port=self.grpc_port,
                    log_level="warning",
                    grace=0.5,
                )
            )
            # A restart comes back on the same ports, as a restarted service would.
            assert info.krpc_port is not None and info.grpc_port is not None
            self.krpc_port, self.grpc_port = info.krpc_port, info.grpc_port
            self._stack = stack

        self.zone.loop.run(start())
        return self

    def stop(self) -> None:
        stack, self._stack = self._stack, None
        if stack is not None:
            self.zone.loop.run(stack.aclose())

    @property
    def krpc(self) -> Endpoint:
        return Endpoint(
            "krpc",
            f"http://127.0.0.1:{self.krpc_port}/kapi/system_config",
            "direct",
            self.config.name,
        )

    @property
    def grpc(self) -> Endpoint:
        return Endpoint("grpc", f"127.0.0.1:{self.grpc_port}", "direct", self.config.name)


class Zone:
    """Keys, tokens and the server loop shared by a test's instances."""

    def __init__(self) -> None:
        private, public = generate_key_pair()
        self.trust = TrustKeyStore()
        self.trust.set_owner_key(public)
        exp = int(time.time()) + 600
        self.alice = sign_token({"sub": "alice", "appid": "notes", "exp": exp}, private, kid=None)
        self.bob = sign_token({"sub": "bob", "appid": "notes", "exp": exp}, private, kid=None)
        self.loop = LoopThread(timeout=15)
        self.instances: list[Instance] = []

    def instance(self, name: str) -> Instance:
        instance = Instance(name, self)
        self.instances.append(instance)
        return instance.start()


@pytest.fixture
def zone(monkeypatch: pytest.MonkeyPatch) -> Iterator[Zone]:
    # Two instances of one api share this process, which a real zone never does: only
    # the first registers for in-process calls (the registry refuses a second server).
    register = registry.register

    def register_first(
        dispatcher: Dispatcher, *, loop: asyncio.AbstractEventLoop | None = None
    ) -> None:
        apis = [service.api for service in dispatcher.services()]
        if all(registry.lookup(api) in (None, dispatcher) for api in apis):
            register(dispatcher, loop=loop)

    monkeypatch.setattr(registry, "register", register_first)
    zone = Zone()
    try:
        yield zone
    finally:
        for instance in zone.instances:
            instance.stop()
        zone.loop.stop()


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def fixed(*endpoints: Endpoint) -> Callable[[str], Sequence[Endpoint]]:
    def candidates(api: str) -> Sequence[Endpoint]:
        assert api == "system_config"
        return endpoints

    return candidates


def dead_krpc() -> Endpoint:
    return Endpoint("krpc", f"http://127.0.0.1:{free_port()}/kapi/system_config", "direct", "gone")


# --- failover -----------------------------------------------------------------------------


def test_idempotent_calls_survive_an_instance_stopped_mid_run(zone: Zone) -> None:
    a, b = zone.instance("a"), zone.instance("b")
    clock = FakeClock()
    router = Router(fixed(a.krpc, b.krpc), token=zone.alice, dead_for=10.0, clock=clock)
    stub = SystemConfigStub(router)
    answers: list[str] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def worker() -> None:
        deadline = time.monotonic() + 10
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                answers.append(stub.Get(key=OWN_KEY).value)
            except BaseException as exc:  # any error fails the test
                errors.append(exc)
                return

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    try:
        limit = time.monotonic() + 5
        while len(answers) < 30 and time.monotonic() < limit:
            time.sleep(0.01)
        a.stop()  # mid-run: calls are in flight on kept-alive connections
        stopped_at = len(answers)
        while len(answers) < stopped_at + 30 and time.monotonic() < limit + 5:
            time.sleep(0.01)
    finally:
        stop.set()
        for thread in threads:
            thread.join(10)
    assert errors == []
    assert answers[:20] == ["a:alice"] * 20
    assert answers[-10:] == ["b:alice"] * 10
    assert a.krpc in router.dead()

    # a comes back on its port, but stays skipped until dead_for has passed ...
    a.start()
    served_by_a = len(a.config.calls)
    assert [stub.Get(key=OWN_KEY).value for _ in range(3)] == ["b:alice"] * 3
    assert len(a.config.calls) == served_by_a
    # ... then it is tried again, first in line
    clock.now += 10.0
    assert stub.Get(key=OWN_KEY).value == "a:alice"
    assert router.dead() == {}
    router.close()


def test_non_idempotent_call_moves_on_only_when_never_sent(zone: Zone) -> None:
    b = zone.instance("b")
    gone = dead_krpc()
    router = Router(fixed(gone, b.krpc), token=zone.alice)
    SystemConfigStub(router).Create(key=OWN_KEY, value="v")
    assert b.config.created == [OWN_KEY]  # refused before sending: safe to move on
    assert gone in router.dead()

    # An endpoint that took the request and never answered may have acted on it.
    with RawHttpServer(lambda request: None) as silent:
        hang = Endpoint("krpc", f"{silent.url}/kapi/system_config", "direct", "silent")
        router = Router(fixed(hang, b.krpc), token=zone.alice, timeout=0.3)
        with pytest.raises(TransportError) as info:
            SystemConfigStub(router).Create(key=OWN_KEY + "2", value="v")
        assert str(info.value) == (
            f"Failed due to reason: timeout: no answer from {silent.url}/kapi/system_config in 0.3s"
        )
        assert b.config.created == [OWN_KEY]
        assert len(silent.requests) == 1
        # the same silence on an idempotent verb moves on
        SystemConfigStub(router).Set(key=OWN_KEY, value="v")
        assert b.config.calls[-1] == f"set {OWN_KEY}"
        router.close()


def test_gateway_502_moves_idempotent_calls_only(zone: Zone) -> None:
    b = zone.instance("b")
    with RawHttpServer(lambda request: http_response(502, b"Bad Gateway")) as gateway:
        front = Endpoint("krpc", f"{gateway.url}/kapi/system_config", "gateway")
        router = Router(fixed(front, b.krpc), token=zone.alice)
        assert SystemConfigStub(router).Get(key=OWN_KEY).value == "b:alice"
        router = Router(fixed(front, b.krpc), token=zone.alice)
        with pytest.raises(TransportError, match="HTTP 502 from"):
            SystemConfigStub(router).Create(key=OWN_KEY, value="v")
        assert b.config.created == []
        router.close()


def test_service_errors_are_never_retried(zone: Zone) -> None:
    a, b = zone.instance("a"), zone.instance("b")
    router = Router(fixed(a.krpc, b.krpc), token=zone.alice)
    stub = SystemConfigStub(router)
    with pytest.raises(NoPermissionError) as info:
        stub.Get(key=BOB_KEY)
    assert str(info.value) == (
        "No permission:enforce failed,userid:alice,appid:notes,"
        "resource:obj://config/users/bob/apps/notes/settings,action:read"
    )
    with pytest.raises(KeyNotExistError, match=r"^Key not exist: x$"):
        stub.Delete(key="x")
    assert b.config.calls == []
    assert router.dead() == {}  # an answer is not a dead endpoint
    router.close()


def test_all_dead_lists_what_was_tried() -> None:
    first, second = dead_krpc(), Endpoint("grpc", f"127.0.0.1:{free_port()}", "gateway")
    router = Router(fixed(first, second), token="t")
    with pytest.raises(TransportError) as info:
        SystemConfigStub(router).Get(key="k")
    message = str(info.value)
    assert message.startswith(
        "Failed due to reason: unavailable: failed to connect to all addresses"
    )
    assert "[all 2 endpoints of system_config failed for sys_config_get: " in message
    assert (
        f"direct krpc {first.address} on gone: Failed due to reason: connection refused: "
        in message
    )
    assert f"gateway grpc {second.address}: Failed due to reason: unavailable: " in message
    assert isinstance(info.value.__cause__, TransportError)
    # both dead now; still tried (nothing else is left), dead ones in revival order
    with pytest.raises(TransportError, match="all 2 endpoints"):
        SystemConfigStub(router).Get(key="k")
    router.close()


def test_grpc_and_krpc_mixed(zone: Zone) -> None:
    a, b = zone.instance("a"), zone.instance("b")
    router = Router(fixed(a.grpc, b.krpc, b.grpc), token=zone.alice)
    stub = SystemConfigStub(router)
    assert stub.Get(key=OWN_KEY).value == "a:alice"
    a.stop()
    assert [stub.Get(key=OWN_KEY).value for _ in range(5)] == ["b:alice"] * 5
    assert set(router.dead()) == {a.grpc}
    stub.Create(key=OWN_KEY, value="v")  # gRPC "failed to connect": never sent
    assert b.config.created == [OWN_KEY]
    router.close()


# --- tokens -------------------------------------------------------------------------------


def test_token_callable_is_read_per_call(zone: Zone) -> None:
    a = zone.instance("a")
    current = [zone.alice]
    router = Router(fixed(a.krpc, a.grpc), token=lambda: current[0])
    stub = SystemConfigStub(router)
    assert stub.Get(key=OWN_KEY).value == "a:alice"
    current[0] = zone.bob
    assert stub.Get(key=BOB_KEY).value == "a:bob"
    with pytest.raises(NoPermissionError, match="userid:bob"):
        stub.Get(key=OWN_KEY)

    # gRPC carries it too, and with_token shares the pools without mixing tokens
    grpc_first = Router(fixed(a.grpc), token=lambda: current[0])
    alice = grpc_first.with_token(zone.alice)
    seen: list[tuple[str, str]] = []

    def calls(router: Router, key: str, who: str) -> None:
        for _ in range(20):
            seen.append((who, SystemConfigStub(router).Get(key=key).value))

    threads = [
        threading.Thread(target=calls, args=(grpc_first, BOB_KEY, "a:bob")),
        threading.Thread(target=calls, args=(alice, OWN_KEY, "a:alice")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(seen) == 40 and all(expected == got for expected, got in seen)
    assert grpc_first._pool is alice._pool

    # in process too (a is registered here)
    here = Router(fixed(Endpoint("inprocess", "", "inprocess")), token=lambda: current[0])
    assert SystemConfigStub(here).Get(key=BOB_KEY).value == "a:bob"
    current[0] = zone.alice
    assert SystemConfigStub(here).Get(key=OWN_KEY).value == "a:alice"
    router.close()
    grpc_first.close()


def test_unauthenticated_without_token(zone: Zone) -> None:
    a = zone.instance("a")
    router = Router(fixed(a.krpc))
    with pytest.raises(NoPermissionError, match=r"^No permission:No session token$"):
        SystemConfigStub(router).Get(key=OWN_KEY)
    router.close()


# --- in process and asyncio ---------------------------------------------------------------


def test_in_process_first_then_the_wire(zone: Zone) -> None:
    a, b = zone.instance("a"), zone.instance("b")
    here = Endpoint("inprocess", "", "inprocess")
    router = Router(fixed(here, b.krpc), token=zone.alice)
    stub = SystemConfigStub(router)
    assert stub.Get(key=OWN_KEY).value == "a:alice"  # a registered in this process
    a.stop()
    assert stub.Get(key=OWN_KEY).value == "b:alice"
    stub.Create(key=OWN_KEY, value="v")  # nothing registered: nothing sent, move on
    assert b.config.created == [OWN_KEY]
    router.close()


def test_async_failover_with_async_candidates(zone: Zone) -> None:
    a, b = zone.instance("a"), zone.instance("b")
    asked: list[str] = []

    async def acandidates(api: str) -> Sequence[Endpoint]:
        asked.append(api)
        return (a.grpc, a.krpc, b.krpc)

    def sync_candidates(api: str) -> Sequence[Endpoint]:
        raise AssertionError("ainvoke must use acandidates")

    current = [zone.alice]
    router = Router(sync_candidates, acandidates=acandidates, token=lambda: current[0])

    async def run() -> None:
        stub = AsyncSystemConfigStub(router)
        first = await asyncio.gather(*(stub.Get(key=OWN_KEY) for _ in range(10)))
        assert {r.value for r in first} == {"a:alice"}
        await asyncio.to_thread(a.stop)
        results = await asyncio.gather(*(stub.Get(key=OWN_KEY) for _ in range(20)))
        assert {r.value for r in results} == {"b:alice"}
        current[0] = zone.bob
        assert (await stub.Get(key=BOB_KEY)).value == "b:bob"
        await stub.Create(key=BOB_KEY, value="v")
        with pytest.raises(NoPermissionError):
            await stub.Get(key=OWN_KEY)
        await router.aclose()

    asyncio.run(run())
    assert b.config.created == [BOB_KEY]
    assert set(asked) == {"system_config"} and len(asked) == 33
    assert set(router.dead()) == {a.grpc, a.krpc}


# --- classification -----------------------------------------------------------------------


def test_classification_rules() -> None:
    from buckyos.runtime.errors import (
        InternalError,
        InvalidTokenError,
        ReasonError,
        ServiceNotValidError,
        TokenExpiredError,
    )

    refused = TransportError("connection refused: http://x/kapi/a")
    refused.__cause__ = ConnectionRefusedError(111, "Connection refused")
    assert never_sent(refused) and should_fail_over(refused, idempotent=False)
    # the same words from a server are not proof of anything
    assert not never_sent(ReasonError("connection refused: upstream"))
    assert should_fail_over(ReasonError("connection refused: upstream"), idempotent=True)
    assert not should_fail_over(ReasonError("connection refused: upstream"), idempotent=False)
    reset = TransportError("connection reset: http://x/kapi/a")
    assert should_fail_over(reset, idempotent=True)
    assert not should_fail_over(reset, idempotent=False)
    assert should_fail_over(ServiceNotValidError("service info not found"), idempotent=True)
    assert should_fail_over(InternalError("internal error in a/b"), idempotent=False) is False
    assert not should_fail_over(ReasonError("invalid format"), idempotent=True)
    for answer in (
        NoPermissionError("x"),
        InvalidTokenError("x"),
        KeyNotExistError("x"),
        TokenExpiredError("x"),
    ):
        assert not should_fail_over(answer, idempotent=True)
    assert not should_fail_over(ValueError("bug"), idempotent=True)
