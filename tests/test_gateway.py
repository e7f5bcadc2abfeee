"""The node gateway over real sockets: real Bindings (Ed25519 tokens, casbin RBAC) as
instances, served on port 0, and the gateway in front of them under uvicorn."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest

from buckyos.generated import system_config_pb2 as sc
from buckyos.generated.system_config_rpc import AsyncSystemConfigStub, SystemConfigServicer
from buckyos.runtime.client.krpc_client import KrpcTransport
from buckyos.runtime.descriptor import MethodDescriptor
from buckyos.runtime.errors import (
    NoPermissionError,
    RPCError,
    ServiceNotValidError,
    UnknownMethodError,
)
from buckyos.runtime.security.keys import Ed25519PrivateKey, generate_key_pair
from buckyos.runtime.security.rbac import RbacEnforcer
from buckyos.runtime.security.token_signing import sign_token
from buckyos.runtime.security.token_verifier import TokenVerifier
from buckyos.runtime.security.trust_keys import TrustKeyStore
from buckyos.runtime.server.binding import Binding
from buckyos.runtime.server.krpc_server import KrpcApp
from buckyos.runtime.server.request import Request
from buckyos.runtime.server.serve import serving
from buckyos.services.gateway.app import GatewayApp
from buckyos.services.gateway.credentials import DeviceTokenInvoker
from buckyos.services.gateway.instances import (
    Instance,
    StaticInstanceSource,
    SystemConfigInstanceSource,
)
from buckyos.services.gateway.pool import InstancePool
from buckyos.services.gateway.server import gateway_serving
from tests.generated import kitchen_sink_pb2 as ks

Echo = MethodDescriptor[ks.EchoRequest, ks.EchoResult]


def _verb(krpc: str, auth: str) -> Echo:
    return MethodDescriptor.build(
        api="notes",
        service="test.Notes",
        name="".join(part.title() for part in krpc.split("_")),
        krpc=krpc,
        request_type=ks.EchoRequest,
        response_type=ks.EchoResult,
        auth=auth,
    )


PARAMS = {"owner": "o", "name": "n", "count": 1}
WHOAMI = _verb("notes_whoami", "token")
SLOW = _verb("notes_slow", "yes")
PRIVATE = _verb("notes_private", "token")


@dataclass
class Keys:
    owner: Ed25519PrivateKey
    trust: TrustKeyStore
    alice: str
    device: Ed25519PrivateKey


def make_keys() -> Keys:
    owner, owner_public = generate_key_pair()
    device, device_public = generate_key_pair()
    trust = TrustKeyStore()
    trust.set_owner_key(owner_public)
    trust.add_device("ood1", device_public)
    exp = int(time.time()) + 600
    alice = sign_token({"sub": "alice", "appid": "notes", "exp": exp}, owner, kid=None)
    return Keys(owner, trust, alice, device)


class Config(SystemConfigServicer):
    """A tiny system_config: Get and List over a dict, checked with real RBAC."""

    def __init__(self, data: dict[str, str] | None = None) -> None:
        self.data = dict(data or {})

    async def Get(self, request: sc.KeyRequest, req: Request) -> sc.GetResult:
        req.enforce("read", f"obj://config/{request.key}")
        value = self.data.get(request.key)
        return sc.GetResult() if value is None else sc.GetResult(value=value, version=1)

    async def List(self, request: sc.KeyRequest, req: Request) -> sc.ListResult:
        req.enforce("read", f"obj://config/{request.key}")
        prefix = request.key.rstrip("/") + "/"
        names = {k[len(prefix) :].split("/", 1)[0] for k in self.data if k.startswith(prefix)}
        return sc.ListResult(keys=sorted(names))


@dataclass
class Node:
    """One instance of the ``notes`` api: says who it is, counts its calls."""

    name: str
    keys: Keys
    calls: list[str] = field(default_factory=list)

    def binding(self) -> Binding:
        binding = Binding(
            f"notes-{self.name}",
            verifier=TokenVerifier(self.keys.trust),
            rbac=RbacEnforcer(tail="g, alice, users\ng, notes, app"),
        )

        def whoami(request: ks.EchoRequest, req: Request) -> ks.EchoResult:
            self.calls.append("whoami")
            return ks.EchoResult(text=f"{self.name}:{req.caller.user_id}:{request.name}")

        async def slow(request: ks.EchoRequest, req: Request) -> ks.EchoResult:
            self.calls.append("slow")
            await asyncio.sleep(0.8)
            return ks.EchoResult(text=self.name)

        def private(request: ks.EchoRequest, req: Request) -> ks.EchoResult:
            req.enforce("read", "obj://config/users/bob/apps/notes/settings")
            return ks.EchoResult(text="unreachable")

        binding.add_verb(WHOAMI, whoami)
        binding.add_verb(SLOW, slow)
        binding.add_verb(PRIVATE, private)
        return binding


class Instances:
    """Start and stop ``notes`` instances by name while a test runs."""

    def __init__(self, keys: Keys) -> None:
        self.keys = keys
        self.nodes: dict[str, Node] = {}
        self.urls: dict[str, str] = {}
        self._stacks: dict[str, contextlib.AsyncExitStack] = {}

    async def start(self, name: str) -> str:
        # The real kRPC app of a real Binding; not through serve.serving(), which also
        # registers the api for in-process calls, where one process may serve it once.
        node = Node(name, self.keys)
        stack = contextlib.AsyncExitStack()
        url = await stack.enter_async_context(
            gateway_serving(KrpcApp(node.binding()), port=0, log_level="warning", grace=1)
        )
        self.nodes[name], self._stacks[name], self.urls[name] = node, stack, url
        return url

    async def stop(self, name: str) -> None:
        await self._stacks.pop(name).aclose()

    async def stop_all(self) -> None:
        for name in list(self._stacks):
            await self.stop(name)

    def instance(self, name: str) -> Instance:
        return Instance(name, f"{self.urls[name]}/kapi/notes")


class MutableSource:
    """A static source whose table the test edits (a stand-in for system_config)."""

    def __init__(self, table: dict[str, Sequence[Instance]]) -> None:
        self.table = table

    async def instances(self, service: str) -> Sequence[Instance]:
        return await StaticInstanceSource(self.table).instances(service)

    async def aclose(self) -> None:
        pass


@contextlib.asynccontextmanager
async def running_gateway(app: GatewayApp) -> AsyncIterator[str]:
    async with gateway_serving(app, port=0, log_level="warning", grace=1) as url:
        yield url


async def post(url: str, body: bytes, **headers: str) -> tuple[int, bytes, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body, headers=headers or {"Content-Type": "application/json"}) as r,
    ):
        return r.status, await r.read(), r.headers


def request(method: str, params: object, *sys: object) -> bytes:
    return json.dumps({"method": method, "params": params, "sys": list(sys)}).encode()


def run(coro: Any) -> None:
    asyncio.run(asyncio.wait_for(coro, 30))


def test_forwarded_bytes_equal_direct_and_seq_trace_pass_through() -> None:
    keys = make_keys()

    async def main() -> None:
        nodes = Instances(keys)
        try:
            await nodes.start("a")
            await nodes.start("b")
            source = MutableSource({"notes": [nodes.instance("a"), nodes.instance("b")]})
            app = GatewayApp(InstancePool(source))
            async with running_gateway(app) as gw:
                # A body with odd spacing and key order: forwarded as is, never re-encoded.
                body = (
                    b'{ "params" : {"owner":"o", "name":"x\\u00e9", "count":1}, "method":"notes_whoami",'
                    b' "sys":[4242, "' + keys.alice.encode() + b'", "trace-7"] }'
                )
                status, via, headers = await post(f"{gw}/kapi/notes", body)
                assert status == 200 and headers["Content-Type"] == "application/json"
                assert b"result" in via, via
                answered = json.loads(via)["result"]["text"].split(":")[0]
                direct = await post(f"{nodes.urls[answered]}/kapi/notes", body)
                assert via == direct[1]
                assert (
                    via
                    == (
                        '{"result":{"text":"'
                        + answered
                        + ':alice:x\u00e9","type":"","maybe":null},'
                        '"sys":[4242,"trace-7"]}'
                    ).encode()
                )
                # The typed client through the gateway and direct agree too.
                through = KrpcTransport(f"{gw}/kapi/notes", token=keys.alice)
                seen = set()
                for _ in range(8):
                    result = await through.ainvoke(WHOAMI, ks.EchoRequest(name="n"))
                    seen.add(result.text)
                await through.aclose()
                assert seen <= {"a:alice:n", "b:alice:n"} and seen
                direct_t = KrpcTransport(nodes.urls["a"], token=keys.alice)
                assert (await direct_t.ainvoke(WHOAMI, ks.EchoRequest(name="n"))).text == (
                    "a:alice:n"
                )
                await direct_t.aclose()
        finally:
            await nodes.stop_all()

    run(main())


def test_errors_from_the_service_pass_through_unchanged() -> None:
    keys = make_keys()

    async def main() -> None:
        nodes = Instances(keys)
        try:
            await nodes.start("a")
            app = GatewayApp(InstancePool(MutableSource({"notes": [nodes.instance("a")]})))
            async with running_gateway(app) as gw:
                body = request("notes_private", PARAMS, 9, keys.alice)
                status, via, _ = await post(f"{gw}/kapi/notes", body)
                assert status == 200 and via == (
                    b'{"error":"No permission:enforce failed,userid:alice,appid:notes,'
                    b'resource:obj://config/users/bob/apps/notes/settings,action:read",'
                    b'"sys":[9]}'
                )
                assert via == (await post(f"{nodes.urls['a']}/kapi/notes", body))[1]
                async with KrpcTransport(gw, token=keys.alice) as client:
                    with pytest.raises(NoPermissionError):
                        await client.ainvoke(PRIVATE, ks.EchoRequest())
                    stranger = _verb("notes_nothing", "yes")
                    with pytest.raises(UnknownMethodError) as caught:
                        await client.ainvoke(stranger, ks.EchoRequest())
                    assert str(caught.value) == "Unknown method: notes_nothing"
                # The instance's own 400 for a body that is not JSON comes back as is.
                status, text, _ = await post(f"{gw}/kapi/notes", b"{nope")
                assert status == 400 and text.startswith(b"Bad Request: body is not JSON")
        finally:
            await nodes.stop_all()

    run(main())


def test_a_stopped_instance_is_skipped_and_calls_keep_working() -> None:
    keys = make_keys()

    async def main() -> None:
        nodes = Instances(keys)
        try:
            await nodes.start("a")
            await nodes.start("b")
            a, b = nodes.instance("a"), nodes.instance("b")
            pool = InstancePool(
                MutableSource({"notes": [a, b]}), dead_for=30.0, rng=random.Random(1)
            )
            async with running_gateway(GatewayApp(pool)) as gw:
                async with KrpcTransport(gw, token=keys.alice) as client:
                    await client.ainvoke(WHOAMI, ks.EchoRequest(name="warm"))
                    await nodes.stop("a")
                    texts = [
                        (await client.ainvoke(WHOAMI, ks.EchoRequest(name=str(i)))).text
                        for i in range(12)
                    ]
                assert texts == [f"b:alice:{i}" for i in range(12)]
                assert pool.is_dead(a) and not pool.is_dead(b)
                assert pool.order([a, b]) == [b]
        finally:
            await nodes.stop_all()

    run(main())


def test_spec_is_forwarded_from_a_live_instance() -> None:
    keys = make_keys()

    async def main() -> None:
        nodes = Instances(keys)
        try:
            await nodes.start("a")
            await nodes.start("b")
            a, b = nodes.instance("a"), nodes.instance("b")
            pool = InstancePool(MutableSource({"notes": [a, b]}), rng=random.Random(1))
            async with (
                running_gateway(GatewayApp(pool)) as gw,
                aiohttp.ClientSession() as session,
            ):
                async with session.get(f"{nodes.urls['b']}/kapi/notes/spec") as r:
                    direct = await r.read()
                await nodes.stop("a")  # a dead instance is passed over for a read
                async with session.get(f"{gw}/kapi/notes/spec") as r:
                    assert (r.status, await r.read()) == (200, direct)
                assert json.loads(direct)["api"] == "notes"
                await nodes.stop("b")
                async with session.get(f"{gw}/kapi/notes/spec") as r:
                    text = await r.text()
                    assert r.status == 503
                    assert text.startswith(
                        "Service not valid: no instance of notes gave its spec ("
                    )
                async with session.get(f"{gw}/kapi/nothing/spec") as r:
                    assert (r.status, await r.text()) == (
                        503,
                        "Service not valid: service info not found",
                    )
        finally:
            await nodes.stop_all()

    run(main())


def test_no_instance_alive_answers_service_not_valid_with_seq_echoed() -> None:
    keys = make_keys()

    async def main() -> None:
        nodes = Instances(keys)
        try:
            await nodes.start("a")
            await nodes.start("b")
            a, b = nodes.instance("a"), nodes.instance("b")
            hosts = {n: nodes.urls[n].removeprefix("http://") for n in ("a", "b")}
            await nodes.stop_all()
            source = MutableSource({"notes": [a, b], "empty": []})
            pool = InstancePool(source, rng=random.Random(3))
            async with running_gateway(GatewayApp(pool)) as gw:
                body = request("notes_whoami", PARAMS, 77, keys.alice, "trace-9")
                status, answer, _ = await post(f"{gw}/kapi/notes", body)
                assert status == 200
                refused = [f"{n}@{hosts[n]}: connection refused" for n in ("a", "b")]
                assert answer in {
                    (
                        '{"error":"Service not valid: no started instance of notes (tried '
                        + "; ".join(order)
                        + ')","sys":[77,"trace-9"]}'
                    ).encode()
                    for order in (refused, refused[::-1])
                }
                # Right after: both are marked dead, so nothing is dialled again.
                _, again, _ = await post(f"{gw}/kapi/notes", request("m", {}, 78))
                assert json.loads(again) == {
                    "error": "Service not valid: no started instance of notes (tried "
                    f"a@{hosts['a']}: skipped, refused a connection recently; "
                    f"b@{hosts['b']}: skipped, refused a connection recently)",
                    "sys": [78],
                }
                _, empty, _ = await post(f"{gw}/kapi/empty", request("m", {}, 79))
                assert empty == (
                    b'{"error":"Service not valid: no started instance of empty '
                    b'(tried none, no node of empty is started)","sys":[79]}'
                )
                _, unknown, _ = await post(f"{gw}/kapi/nosuch", request("m", {}, 7))
                assert unknown == (
                    b'{"error":"Service not valid: service info not found","sys":[7]}'
                )
                _, garbled, _ = await post(f"{gw}/kapi/nosuch", b"\x00 not json")
                assert garbled == (
                    b'{"error":"Service not valid: service info not found","sys":[0]}'
                )
                async with KrpcTransport(gw, token=keys.alice) as client:
                    with pytest.raises(ServiceNotValidError) as caught:
                        await client.ainvoke(WHOAMI, ks.EchoRequest())
                    assert str(caught.value).startswith(
                        "Service not valid: no started instance of notes (tried "
                    )
        finally:
            await nodes.stop_all()

    run(main())


def test_failed_list_is_re_read_and_a_moved_instance_found() -> None:
    keys = make_keys()

    async def main() -> None:
        nodes = Instances(keys)
        try:
            await nodes.start("a")
            source = MutableSource({"notes": [nodes.instance("a")]})
            pool = InstancePool(source, ttl=600.0, min_gap=0.0)
            async with running_gateway(GatewayApp(pool)) as gw:
                async with KrpcTransport(gw, token=keys.alice) as client:
                    first = await client.ainvoke(WHOAMI, ks.EchoRequest(name="1"))
                    assert first.text == "a:alice:1"
                    # "a" restarts elsewhere as "c"; the cached list (ttl 600 s) is stale.
                    await nodes.stop("a")
                    await nodes.start("c")
                    source.table["notes"] = [nodes.instance("c")]
                    second = await client.ainvoke(WHOAMI, ks.EchoRequest(name="2"))
                    assert second.text == "c:alice:2"
        finally:
            await nodes.stop_all()

    run(main())


def test_a_call_that_timed_out_is_not_retried_elsewhere() -> None:
    keys = make_keys()

    async def main() -> None:
        nodes = Instances(keys)
        try:
            await nodes.start("a")
            await nodes.start("b")
            source = MutableSource({"notes": [nodes.instance("a"), nodes.instance("b")]})
            app = GatewayApp(InstancePool(source), timeout=0.3)
            async with running_gateway(app) as gw:
                status, answer, _ = await post(f"{gw}/kapi/notes", request("notes_slow", PARAMS, 5))
                assert status == 200
                calls = {n: nodes.nodes[n].calls.count("slow") for n in ("a", "b")}
                assert sorted(calls.values()) == [0, 1]
                ran = "a" if calls["a"] else "b"
                host = nodes.urls[ran].removeprefix("http://")
                assert json.loads(answer) == {
                    "error": f"Failed due to reason: timeout after 0.3s: notes instance "
                    f"{ran}@{host} got the call and gave no answer; not retried elsewhere "
                    "because it may have run",
                    "sys": [5],
                }
        finally:
            await nodes.stop_all()

    run(main())


def test_transport_refusals_404_405_413() -> None:
    async def main() -> None:
        app = GatewayApp(InstancePool(StaticInstanceSource({})))
        async with running_gateway(app) as gw, aiohttp.ClientSession() as session:
            async with session.get(f"{gw}/kapi/notes") as r:
                assert (r.status, await r.text(), r.headers["Allow"]) == (
                    405,
                    "Method Not Allowed: kRPC takes POST",
                    "POST",
                )
            for path in ("/other", "/kapi/", "/kapi/a/b", "/kapi/a%20b", "/"):
                async with session.post(f"{gw}{path}", data=b"{}") as r:
                    assert r.status == 404, path
                    assert (await r.text()).startswith(
                        "Not Found: the gateway forwards /kapi/<service>"
                    )
            big = b"x" * (1024 * 1024 + 1)
            async with session.post(f"{gw}/kapi/notes", data=big) as r:
                assert (r.status, await r.text()) == (
                    413,
                    "Payload Too Large: the body is over 1048576 bytes",
                )

            async def chunks() -> AsyncIterator[bytes]:
                for _ in range(40):
                    yield b"y" * 65536

            async with session.post(f"{gw}/kapi/notes", data=chunks()) as r:
                assert r.status == 413
            async with session.post(f"{gw}/kapi/notes", data=b"x" * (1024 * 1024)) as r:
                # Exactly the cap is accepted (and answered as a kRPC error: no such service).
                assert r.status == 200
                assert await r.read() == (
                    b'{"error":"Service not valid: service info not found","sys":[0]}'
                )

    run(main())


def test_instances_from_a_real_system_config() -> None:
    keys = make_keys()

    async def main() -> None:
        nodes = Instances(keys)
        config = Binding(
            "system_config",
            verifier=TokenVerifier(keys.trust),
            rbac=RbacEnforcer(tail="g, alice, users\ng, notes, app"),
        )
        now = int(time.time())
        try:
            await nodes.start("a")
            await nodes.start("b")
            port = {n: int(nodes.urls[n].rsplit(":", 1)[1]) for n in ("a", "b")}
            data = {
                "services/notes/info": json.dumps(
                    {
                        "selector_type": "random",
                        "node_list": {
                            n: {
                                "node_did": f"did:bns:{n}",
                                "node_net_id": "lan",
                                "state": "started",
                                "weight": 100,
                                "service_port": {"www": port[n]},
                            }
                            for n in ("a", "b")
                        },
                    }
                ),
                "services/notes/instances/a": json.dumps(
                    {
                        "instance_id": "notes-a",
                        "node_id": "a",
                        "node_did": "did:bns:a",
                        "state": "started",
                        "service_ports": {"www": port["a"]},
                        "last_update_time": now,
                        "start_time": now - 5,
                        "pid": 1,
                        "health": "healthy",
                        "expires_at": now + 90,
                    }
                ),
                # b's record expired: b is dead even though the placement lists it.
                "services/notes/instances/b": json.dumps(
                    {
                        "instance_id": "notes-b",
                        "node_id": "b",
                        "state": "started",
                        "service_ports": {"www": port["b"]},
                        "expires_at": now - 10,
                    }
                ),
                "boot/config": '{"name":"zone"}',
            }
            config.add_service(Config(data))
            async with serving(config, krpc_port=0, grpc_port=None, log_level="warning") as sc_info:
                assert sc_info.krpc_url is not None
                source = SystemConfigInstanceSource(
                    DeviceTokenInvoker(KrpcTransport(sc_info.krpc_url), keys.device, "ood1"),
                    system_config_url=sc_info.krpc_url,
                )
                async with running_gateway(GatewayApp(InstancePool(source))) as gw:
                    async with KrpcTransport(gw, token=keys.alice) as client:
                        texts = {
                            (await client.ainvoke(WHOAMI, ks.EchoRequest(name="n"))).text
                            for _ in range(6)
                        }
                        assert texts == {"a:alice:n"}
                        # system_config itself is reached at its configured URL.
                        got = await AsyncSystemConfigStub(client).Get(key="boot/config")
                        assert got == sc.GetResult(value='{"name":"zone"}', version=1)
                        with pytest.raises(RPCError) as caught:
                            await AsyncSystemConfigStub(client).Get(key="system/secret")
                        assert isinstance(caught.value, NoPermissionError)
                    _, unknown, _ = await post(f"{gw}/kapi/nosuch", request("m", {}, 3))
                    assert unknown == (
                        b'{"error":"Service not valid: service info not found","sys":[3]}'
                    )
        finally:
            await nodes.stop_all()

    run(main())
