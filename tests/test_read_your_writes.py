"""Reading one's own writes on any node: ``x-buckyos-revision`` both ways, over real
sockets.

First the wire and the runtime with a stand-in store whose revision the test moves: an
answer says the revision it reflects (kRPC header, gRPC trailing metadata), a call carrying
one waits for it, a bad one is refused, the Router carries what one node answered to the
next.  Then system_config on a real etcd, two nodes on one prefix, the second's copy held
back: a write through the first is read through the second, and the control without the
revision reads the old value.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from typing import Any

import aiohttp
import grpc
import pytest

from buckyos.generated import system_config_pb2 as sc
from buckyos.generated.system_config_rpc import (
    AsyncSystemConfigStub,
    SystemConfigServicer,
    SystemConfigStub,
)
from buckyos.runtime.client import Endpoint, Router, SeenRevisions
from buckyos.runtime.client.krpc_client import KrpcTransport
from buckyos.runtime.errors import ReasonError, ServiceNotValidError, TransportError
from buckyos.runtime.security.keys import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
    generate_key_pair,
    public_key_to_jwk,
)
from buckyos.runtime.security.rbac import RbacEnforcer
from buckyos.runtime.security.token_signing import sign_token
from buckyos.runtime.security.token_verifier import TokenVerifier
from buckyos.runtime.security.trust_keys import TrustKeyStore
from buckyos.runtime.server import Binding, Request
from buckyos.services.gateway.app import GatewayApp
from buckyos.services.gateway.instances import Instance, StaticInstanceSource
from buckyos.services.gateway.pool import InstancePool
from buckyos.services.gateway.server import gateway_serving
from buckyos.services.system_config import EtcdStore, build_binding
from tests.contract_json import Served, served
from tests.etcd import EtcdMember


class FakeRevisions:
    """A shared store's revision as the test sets it; ``reach`` waits for it."""

    def __init__(self, at: int, *, stuck: bool = False) -> None:
        self.at = at
        self.stuck = stuck
        self.reached: list[int] = []
        self._cond = threading.Condition()

    def copy_revision(self) -> int:
        return self.at

    def reach(self, revision: int, timeout: float) -> None:
        self.reached.append(revision)
        if self.stuck:
            raise ServiceNotValidError(f"the copy is stuck at {self.at}")
        with self._cond:
            if not self._cond.wait_for(lambda: self.at >= revision, timeout):
                raise ServiceNotValidError(f"not at {revision} in {timeout:g} s")

    def advance(self, to: int) -> None:
        with self._cond:
            self.at = to
            self._cond.notify_all()

    def advance_later(self, to: int, delay: float) -> threading.Timer:
        timer = threading.Timer(delay, self.advance, args=(to,))
        timer.start()
        return timer


class Config(SystemConfigServicer):
    """Get over a dict, upstream's read check."""

    def __init__(self) -> None:
        self.data = {"boot/config": "v1"}

    def Get(self, request: sc.KeyRequest, req: Request) -> sc.GetResult:
        req.enforce("read", f"obj://config/{request.key}")
        value = self.data.get(request.key)
        return sc.GetResult() if value is None else sc.GetResult(value=value, version=1)


class Node:
    """One instance: a Binding of :class:`Config` served over kRPC and gRPC."""

    def __init__(
        self,
        stack: ExitStack,
        revisions: FakeRevisions | None,
        owner: tuple[Ed25519PrivateKey, Ed25519PublicKey] | None = None,
    ) -> None:
        private, owner_public = owner or generate_key_pair()
        trust = TrustKeyStore()
        trust.set_owner_key(owner_public, "did:bns:alice")
        self.binding = Binding("rw", verifier=TokenVerifier(trust), rbac=RbacEnforcer())
        self.binding.add_service(Config(), revisions=revisions)
        stack.callback(self.binding.close)
        self.served: Served = stack.enter_context(served(self.binding))
        self.revisions = revisions
        self.token = sign_token(
            {"sub": "root", "appid": "kernel", "exp": int(time.time()) + 600}, private, kid="root"
        )

    def post(
        self, headers: dict[str, str], token: str | None = "own"
    ) -> tuple[http.client.HTTPResponse, str]:
        """A raw kRPC ``sys_config_get`` of ``boot/config``: the answer and its body."""
        token = self.token if token == "own" else token
        host, port = self.served.krpc_url.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        body = {"method": "sys_config_get", "params": {"key": "boot/config"}, "sys": [1, token]}
        conn.request(
            "POST",
            "/kapi/system_config",
            json.dumps(body),
            {"Content-Type": "application/json", **headers},
        )
        response = conn.getresponse()
        text = response.read().decode("utf-8")
        conn.close()
        return response, text

    def grpc_get(
        self, metadata: Sequence[tuple[str, str]] = (), token: str | None = "own"
    ) -> tuple[sc.GetResult, dict[str, str]]:
        """A raw gRPC ``Get``: the answer and its trailing metadata."""
        token = self.token if token == "own" else token
        auth = () if token is None else (("authorization", f"Bearer {token}"),)
        with grpc.insecure_channel(self.served.grpc_target) as channel:
            call = channel.unary_unary(
                "/buckyos.system_config.SystemConfig/Get",
                request_serializer=sc.KeyRequest.SerializeToString,
                response_deserializer=sc.GetResult.FromString,
            )
            answer, done = call.with_call(
                sc.KeyRequest(key="boot/config"), timeout=10, metadata=(*auth, *metadata)
            )
        trailing = done.trailing_metadata() or ()
        return answer, {key: str(value) for key, value in trailing}


@pytest.fixture
def stack() -> Iterator[ExitStack]:
    with ExitStack() as resources:
        yield resources


def test_an_answer_says_the_revision_it_reflects_on_both_wires(stack: ExitStack) -> None:
    node = Node(stack, FakeRevisions(42))
    response, text = node.post({})
    assert response.status == 200
    assert json.loads(text)["result"]["value"] == "v1"
    assert response.getheader("x-buckyos-revision") == "42"
    answer, trailing = node.grpc_get()
    assert answer.value == "v1"
    assert trailing["x-buckyos-revision"] == "42"
    assert node.revisions is not None and node.revisions.reached == []


def test_an_api_without_a_shared_store_says_no_revision(stack: ExitStack) -> None:
    node = Node(stack, None)
    response, _ = node.post({"x-buckyos-revision": "7"})  # asked, and nothing to wait for
    assert response.status == 200
    assert response.getheader("x-buckyos-revision") is None
    answer, trailing = node.grpc_get([("x-buckyos-revision", "7")])
    assert answer.value == "v1"
    assert "x-buckyos-revision" not in trailing


@pytest.mark.parametrize("wire", ["krpc", "grpc"])
def test_a_call_waits_until_the_store_has_the_revision_its_caller_saw(
    stack: ExitStack, wire: str
) -> None:
    revisions = FakeRevisions(42)
    node = Node(stack, revisions)
    timer = revisions.advance_later(50, 0.3)
    stack.callback(timer.cancel)
    started = time.monotonic()
    if wire == "krpc":
        response, _ = node.post({"x-buckyos-revision": "50"})
        assert response.status == 200
        said = response.getheader("x-buckyos-revision")
    else:
        _, trailing = node.grpc_get([("x-buckyos-revision", "50")])
        said = trailing["x-buckyos-revision"]
    assert time.monotonic() - started >= 0.25
    assert said == "50"
    assert revisions.reached == [50]
    # A revision the store has reached already is not waited for.
    assert node.post({"x-buckyos-revision": "49"})[0].status == 200
    assert revisions.reached == [50]


@pytest.mark.parametrize(
    "value", ["abc", "-1", "", "5 5", "1e3", "9223372036854775808", "99999999999999999999", "٣"]
)
def test_a_revision_that_is_not_one_is_refused_and_the_server_serves_on(
    stack: ExitStack, value: str
) -> None:
    node = Node(stack, FakeRevisions(42))
    # http.client sends a header as latin-1: "٣" (an Arabic-Indic three) goes as its UTF-8.
    response, text = node.post({"x-buckyos-revision": value.encode("utf-8").decode("latin-1")})
    assert response.status == 400
    assert text.startswith("Bad Request: x-buckyos-revision ")
    if value == "abc":
        assert text == (
            "Bad Request: x-buckyos-revision 'abc' is not a revision (a decimal number below 2**63)"
        )
    if value.isascii() and value:  # grpc metadata values: ASCII
        with pytest.raises(grpc.RpcError) as err:
            node.grpc_get([("x-buckyos-revision", value)])
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert (err.value.details() or "").startswith("Parse Request Error: x-buckyos-revision ")
    assert node.post({})[0].status == 200
    assert node.grpc_get()[0].value == "v1"


def test_a_caller_without_a_token_cannot_make_an_instance_wait(stack: ExitStack) -> None:
    revisions = FakeRevisions(42)
    node = Node(stack, revisions)
    response, text = node.post({"x-buckyos-revision": "999"}, token=None)
    assert response.status == 200
    assert json.loads(text)["error"] == "No permission:No session token"
    with pytest.raises(grpc.RpcError) as err:
        node.grpc_get([("x-buckyos-revision", "999")], token=None)
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    response, text = node.post({"x-buckyos-revision": "999"}, token="forged.jwt.token")
    assert json.loads(text)["error"].startswith("Invalid token:")
    assert revisions.reached == []


def _router(
    endpoints: list[Endpoint], token: str, **options: Any
) -> tuple[Router, Callable[[list[Endpoint]], None]]:
    """A Router whose candidates the test switches (the node a call goes to)."""
    current = [endpoints]

    def candidates(api: str) -> Sequence[Endpoint]:
        return current[0]

    def switch(to: list[Endpoint]) -> None:
        current[0] = to

    return Router(candidates, token=token, timeout=10.0, **options), switch


def _endpoint(node: Node, kind: str) -> Endpoint:
    if kind == "krpc":
        return Endpoint("krpc", node.served.krpc_url, "direct", node="n")
    return Endpoint("grpc", node.served.grpc_target, "direct", node="n")


@pytest.mark.parametrize("kind", ["krpc", "grpc"])
def test_a_router_carries_what_one_node_answered_to_the_next(stack: ExitStack, kind: str) -> None:
    first_revisions, second_revisions = FakeRevisions(42), FakeRevisions(10)
    owner = generate_key_pair()  # one owner: both nodes trust the same tokens
    first, second = Node(stack, first_revisions, owner), Node(stack, second_revisions, owner)
    router, switch = _router([_endpoint(first, kind)], first.token)
    stack.callback(router.close)
    stub = SystemConfigStub(router)
    assert stub.Get(key="boot/config").value == "v1"
    assert router.revisions is not None and router.revisions.get("system_config") == 42
    switch([_endpoint(second, kind)])
    timer = second_revisions.advance_later(42, 0.2)
    stack.callback(timer.cancel)
    assert stub.Get(key="boot/config").value == "v1"
    assert second_revisions.reached == [42]
    # asyncio too: the second answers at 42 now; a later revision is carried back.
    second_revisions.advance(60)

    async def run() -> None:
        astub = AsyncSystemConfigStub(router)
        assert (await astub.Get(key="boot/config")).value == "v1"
        await router.aclose()

    asyncio.run(run())
    assert router.revisions.get("system_config") == 60
    switch([_endpoint(first, kind)])
    first_revisions.advance_later(60, 0.2)
    assert stub.Get(key="boot/config").value == "v1"
    assert first_revisions.reached == [60]


def test_without_read_your_writes_a_router_sends_no_revision(stack: ExitStack) -> None:
    first_revisions, second_revisions = FakeRevisions(42), FakeRevisions(10)
    owner = generate_key_pair()  # one owner: both nodes trust the same tokens
    first, second = Node(stack, first_revisions, owner), Node(stack, second_revisions, owner)
    router, switch = _router([_endpoint(first, "krpc")], first.token, read_your_writes=False)
    stack.callback(router.close)
    stub = SystemConfigStub(router)
    stub.Get(key="boot/config")
    switch([_endpoint(second, "krpc")])
    stub.Get(key="boot/config")
    assert router.revisions is None
    assert second_revisions.reached == []


def test_a_stuck_node_is_passed_over_for_the_next(stack: ExitStack) -> None:
    """A node whose copy cannot reach the revision answers ServiceNotValidError (it has
    not run the call): a read moves on to the next node."""
    first_revisions, stuck = FakeRevisions(42), FakeRevisions(10, stuck=True)
    owner = generate_key_pair()  # one owner: both nodes trust the same tokens
    first, second = Node(stack, first_revisions, owner), Node(stack, stuck, owner)
    router, switch = _router([_endpoint(first, "krpc")], first.token)
    stack.callback(router.close)
    stub = SystemConfigStub(router)
    stub.Get(key="boot/config")
    switch([_endpoint(second, "krpc"), _endpoint(first, "grpc")])
    assert stub.Get(key="boot/config").value == "v1"
    assert stuck.reached == [42]
    with pytest.raises(ServiceNotValidError, match="the copy is stuck at 10"):
        switch([_endpoint(second, "grpc")])
        stub.Get(key="boot/config")


def test_the_gateway_passes_the_revision_both_ways(stack: ExitStack) -> None:
    revisions = FakeRevisions(42)
    node = Node(stack, revisions)
    instance = Instance("ood1", f"{node.served.krpc_url}/kapi/system_config")
    app = GatewayApp(InstancePool(StaticInstanceSource({"system_config": [instance]})))
    body = json.dumps(
        {"method": "sys_config_get", "params": {"key": "boot/config"}, "sys": [1, node.token]}
    ).encode()
    gateway = ""

    async def post(revision: str | None) -> tuple[int, str, str | None]:
        headers = {"Content-Type": "application/json"}
        if revision is not None:
            headers["x-buckyos-revision"] = revision
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{gateway}/kapi/system_config", data=body, headers=headers) as answer,
        ):
            return answer.status, await answer.text(), answer.headers.get("x-buckyos-revision")

    async def main() -> list[tuple[int, str, str | None]]:
        nonlocal gateway
        async with gateway_serving(app, port=0, log_level="warning", grace=1) as url:
            gateway = url
            plain = await post(None)
            timer = revisions.advance_later(50, 0.3)
            try:
                waited = await post("50")
            finally:
                timer.cancel()
            bad = await post("5x")
            return [plain, waited, bad]

    plain, waited, bad = asyncio.run(asyncio.wait_for(main(), 30))
    assert plain[0] == 200 and json.loads(plain[1])["result"]["value"] == "v1"
    assert plain[2] == "42"
    assert waited[0] == 200 and waited[2] == "50"
    assert revisions.reached == [50]  # the gateway passed the caller's revision on
    assert bad == (
        400,
        "Bad Request: x-buckyos-revision '5x' is not a revision (a decimal number below 2**63)",
        None,
    )
    assert revisions.reached == [50]  # refused at the gateway: never forwarded


# --- system_config on etcd ------------------------------------------------------------------


class EtcdNodes:
    """Two system_config nodes on one etcd prefix, one owner; the second's watch can be
    held back (its copy then lags behind etcd)."""

    def __init__(self, stack: ExitStack, url: str) -> None:
        owner, owner_public = generate_key_pair()
        _, device_public = generate_key_pair()
        prefix = f"/test/{uuid.uuid4().hex}/"
        self.stores: list[EtcdStore] = []
        self.served: list[Served] = []
        for _ in range(2):
            store = EtcdStore(url, prefix=prefix)
            stack.callback(store.close)
            binding = build_binding(
                store,
                owner_key=owner_public,
                device_name="ood1",
                device_key=public_key_to_jwk(device_public),
            )
            stack.callback(binding.close)
            self.stores.append(store)
            self.served.append(stack.enter_context(served(binding)))
        self.token = sign_token(
            {"sub": "root", "appid": "kernel", "exp": int(time.time()) + 600}, owner, kid="root"
        )
        self.held = threading.Event()
        self.held.set()
        second = self.stores[1]
        apply = second._apply

        def held_back(events: Any) -> None:
            self.held.wait(30)
            apply(events)

        second._apply = held_back  # type: ignore[method-assign]
        stack.callback(self.held.set)

    def endpoint(self, index: int, kind: str) -> Endpoint:
        found = self.served[index]
        if kind == "krpc":
            return Endpoint("krpc", found.krpc_url, "direct", node=f"ood{index + 1}")
        return Endpoint("grpc", found.grpc_target, "direct", node=f"ood{index + 1}")


@pytest.mark.parametrize("kind", ["krpc", "grpc"])
def test_a_write_through_one_node_is_read_through_another_whose_copy_lags(
    stack: ExitStack, etcd_member: EtcdMember, kind: str
) -> None:
    nodes = EtcdNodes(stack, etcd_member.url)
    router, switch = _router([nodes.endpoint(0, kind)], nodes.token)
    blind, blind_switch = _router([nodes.endpoint(0, kind)], nodes.token, read_your_writes=False)
    stack.callback(router.close)
    stack.callback(blind.close)
    stub, blind_stub = SystemConfigStub(router), SystemConfigStub(blind)
    stub.Set(key="users/alice/note", value="old")
    nodes.stores[1].sync()  # the second node has "old"
    nodes.held.clear()  # from now on the second node's copy lags
    stub.Set(key="users/alice/note", value="new")
    wrote = nodes.stores[0].copy_revision
    assert router.revisions is not None and router.revisions.get("system_config") >= wrote
    switch([nodes.endpoint(1, kind)])
    blind_switch([nodes.endpoint(1, kind)])
    # Control: without the revision the second node answers from its lagging copy.
    assert blind_stub.Get(key="users/alice/note").value == "old"
    release = threading.Timer(0.3, nodes.held.set)
    release.start()
    stack.callback(release.cancel)
    started = time.monotonic()
    assert stub.Get(key="users/alice/note").value == "new"
    assert time.monotonic() - started >= 0.2


def test_a_revision_made_elsewhere_in_the_cluster_is_reached_without_waiting(
    stack: ExitStack, etcd_member: EtcdMember
) -> None:
    """A copy's revision moves only with its own prefix: a revision listed by another
    node after writes to other prefixes is reached by asking etcd, not by waiting for an
    event that never comes."""
    nodes = EtcdNodes(stack, etcd_member.url)
    router, switch = _router([nodes.endpoint(0, "krpc")], nodes.token)
    stack.callback(router.close)
    stub = SystemConfigStub(router)
    stub.Set(key="users/alice/note", value="x")
    other = EtcdStore(etcd_member.url, prefix=f"/test/{uuid.uuid4().hex}/")
    stack.callback(other.close)
    for n in range(3):
        other.set(f"users/bob/k{n}", "y")  # etcd's revision moves on, this prefix's not
    ahead = other.copy_revision
    assert ahead > nodes.stores[1].copy_revision
    router.revisions.saw("system_config", ahead)  # type: ignore[union-attr]
    switch([nodes.endpoint(1, "krpc")])
    assert stub.Get(key="users/alice/note").value == "x"
    # Answered, not ServiceNotValidError: the copy was not left waiting for an event (the
    # router has no other node to move on to).
    assert nodes.stores[1].copy_revision >= ahead
    assert router.revisions.get("system_config") >= ahead  # type: ignore[union-attr]


def test_a_revision_ahead_of_the_cluster_is_refused(
    stack: ExitStack, etcd_member: EtcdMember
) -> None:
    nodes = EtcdNodes(stack, etcd_member.url)
    with KrpcTransport(nodes.served[1].krpc_url, token=nodes.token) as transport:
        stub = SystemConfigStub(transport)
        stub.Set(key="users/alice/note", value="x")
        with pytest.raises(ReasonError) as err:
            transport.revisions = _seen(10**15)
            stub.Get(key="users/alice/note")
        assert err.value.text.startswith(
            "Failed due to reason: x-buckyos-revision: revision 1000000000000000 is ahead of "
            "this etcd cluster (at "
        )
        assert err.value.text.endswith("): it was not made by this store")
        transport.revisions = None
        assert stub.Get(key="users/alice/note").value == "x"


@pytest.mark.parametrize("kind", ["krpc", "grpc"])
def test_a_router_forgets_a_revision_its_zone_never_made(
    stack: ExitStack, etcd_member: EtcdMember, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A client that outlived its zone (made anew: etcd's revisions start again) holds a
    revision the new cluster never made.  The instance refuses it without running the
    call; the Router forgets it and sends the call once more without it, so the call
    (a create here: it would fail had it run twice) goes through once, and later calls
    carry the new cluster's revisions."""
    nodes = EtcdNodes(stack, etcd_member.url)
    router, _ = _router([nodes.endpoint(1, kind)], nodes.token)
    stack.callback(router.close)
    assert router.revisions is not None
    router.revisions.saw("system_config", 10**15)  # from the zone before
    stub = SystemConfigStub(router)
    with caplog.at_level(logging.WARNING, "buckyos.runtime.client.revisions"):
        stub.Create(key="users/alice/once", value="1")
    assert "revision 1000000000000000 is ahead of this etcd cluster" in caplog.text
    kept = router.revisions.get("system_config")
    assert 0 < kept <= nodes.stores[1].copy_revision
    assert stub.Get(key="users/alice/once").value == "1"

    async def run() -> None:  # the asyncio path takes the same turn
        router.revisions.saw("system_config", 10**15)  # type: ignore[union-attr]
        astub = AsyncSystemConfigStub(router)
        assert (await astub.Get(key="users/alice/once")).value == "1"
        await router.aclose()

    asyncio.run(run())
    assert 0 < router.revisions.get("system_config") <= nodes.stores[1].copy_revision


def test_only_a_revision_refused_as_never_made_is_forgotten() -> None:
    made_up = (
        "x-buckyos-revision: revision 99 is ahead of this etcd cluster (at 7): it was not "
        "made by this store"
    )
    seen = _seen(99)
    # Another reason, the same words as a transport failure, another api: kept.
    assert not seen.refused("system_config", ReasonError("key not found : k"))
    assert not seen.refused("system_config", TransportError(made_up))
    assert not seen.refused("verify-hub", ReasonError(made_up))
    assert seen.get("system_config") == 99
    assert seen.refused("system_config", ReasonError(made_up))
    assert seen.get("system_config") == 0
    # Nothing kept any more: nothing to forget, so no second resend.
    assert not seen.refused("system_config", ReasonError(made_up))


def _seen(revision: int) -> SeenRevisions:
    seen = SeenRevisions()
    seen.saw("system_config", revision)
    return seen


def test_a_bad_revision_on_grpc_is_a_parse_request_error(stack: ExitStack) -> None:
    node = Node(stack, FakeRevisions(1))
    with pytest.raises(grpc.RpcError) as err:
        node.grpc_get([("x-buckyos-revision", "x")])
    assert err.value.details() == (
        "Parse Request Error: x-buckyos-revision 'x' is not a revision "
        "(a decimal number below 2**63)"
    )
    # The runtime's own client raises the same class.
    with KrpcTransport(node.served.krpc_url, token=node.token) as transport:
        transport.revisions = _seen(0)
        assert SystemConfigStub(transport).Get(key="boot/config").value == "v1"
