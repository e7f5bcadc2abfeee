"""A real Binding with event verbs, served on real sockets, for the event and link tests.

The api ``ev`` (hand-written verbs, the binder's table shape) subscribes, unsubscribes and
pushes the event named by the request's ``key``; tokens are real Ed25519 JWTs checked by
the real verifier, permissions by the real casbin.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import empty_pb2

from buckyos.generated import system_config_pb2 as sc
from buckyos.runtime.auth import parse_auth
from buckyos.runtime.descriptor import JsonShape, MethodDescriptor
from buckyos.runtime.security.keys import generate_key_pair
from buckyos.runtime.security.rbac import RbacEnforcer
from buckyos.runtime.security.token_signing import sign_token
from buckyos.runtime.security.token_verifier import TokenVerifier
from buckyos.runtime.security.trust_keys import TrustKeyStore
from buckyos.runtime.server.binding import Binding
from buckyos.runtime.server.request import Request
from buckyos.runtime.server.serve import ServerInfo, serving

__all__ = [
    "EV_LATE",
    "EV_PUSH",
    "EV_READ",
    "EV_SUB",
    "EV_SUB_SYNC",
    "EV_UNSUB",
    "World",
    "make_world",
    "served",
    "wait_until",
]


def _verb(
    name: str,
    krpc: str,
    request: Any,
    response: Any,
    auth: str = "token",
    result: JsonShape = JsonShape.OBJECT,
) -> MethodDescriptor[Any, Any]:
    return MethodDescriptor(
        api="ev",
        service="buckyos_test.Ev",
        name=name,
        krpc=krpc,
        request_type=request,
        response_type=response,
        auth=parse_auth(auth),
        result_shape=result,
    )


EV_SUB = _verb("Sub", "ev_sub", sc.KeyRequest, sc.GetResult)
"""Subscribe to ``ev/<key>``; value ``new`` or ``again``."""
EV_SUB_SYNC = _verb("SubSync", "ev_sub_sync", sc.KeyRequest, sc.GetResult)
"""The same from a sync handler (a worker thread), which then pushes ``{"from": "thread"}``."""
EV_UNSUB = _verb("Unsub", "ev_unsub", sc.KeyRequest, sc.GetResult)
"""Unsubscribe; value ``was`` or ``not``."""
EV_PUSH = _verb("Push", "ev_push", sc.SetRequest, sc.GetResult, auth="yes")
"""Push ``{"value": value}`` to ``ev/<key>``; value: how many took it."""
EV_LATE = _verb("Late", "ev_late", sc.KeyRequest, empty_pb2.Empty, result=JsonShape.NULL)
"""Replies first, subscribes afterwards (refused: recorded in ``World.late``)."""
EV_READ = _verb("Read", "ev_read", sc.KeyRequest, sc.GetResult)
"""An RBAC-checked read of ``obj://config/<key>`` (for the auth error texts)."""


@dataclass
class World:
    binding: Binding
    alice: str
    bob: str
    forged: str
    onevent: list[tuple[str, Any]] = field(default_factory=list)
    late: list[BaseException] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def make_world() -> World:
    private, public = generate_key_pair()
    trust = TrustKeyStore()
    trust.set_owner_key(public)
    binding = Binding(
        "events",
        verifier=TokenVerifier(trust),
        rbac=RbacEnforcer(tail="g, alice, users\ng, bob, users\ng, notes, app"),
        timeout=5.0,
    )
    exp = int(time.time()) + 600
    forged_private, _ = generate_key_pair()
    world = World(
        binding=binding,
        alice=sign_token({"sub": "alice", "appid": "notes", "exp": exp}, private, kid=None),
        bob=sign_token({"sub": "bob", "appid": "notes", "exp": exp}, private, kid=None),
        forged=sign_token({"sub": "alice", "appid": "notes", "exp": exp}, forged_private, kid=None),
    )

    def onevent(name: str, data: Any) -> None:
        with world.lock:
            world.onevent.append((name, data))

    binding.add_api("ev", service="buckyos_test.Ev", onevent=onevent)

    async def sub(request: sc.KeyRequest, req: Request) -> sc.GetResult:
        new = req.subscribe(binding.make_event(request.key))
        return sc.GetResult(value="new" if new else "again")

    def sub_sync(request: sc.KeyRequest, req: Request) -> sc.GetResult:
        event = binding.make_event(request.key)
        new = req.subscribe(event)
        count = event.push({"from": "thread"})
        return sc.GetResult(value="new" if new else "again", version=count)

    async def unsub(request: sc.KeyRequest, req: Request) -> sc.GetResult:
        was = req.unsubscribe(binding.make_event(request.key))
        return sc.GetResult(value="was" if was else "not")

    async def push(request: sc.SetRequest, req: Request) -> sc.GetResult:
        count = binding.make_event(request.key).push({"value": request.value})
        return sc.GetResult(value=str(count))

    async def late(request: sc.KeyRequest, req: Request) -> empty_pb2.Empty:
        async def after() -> None:
            await asyncio.sleep(0.05)
            try:
                req.subscribe(binding.make_event(request.key))
            except Exception as exc:
                world.late.append(exc)

        binding.queue_job(after)
        return empty_pb2.Empty()

    async def read(request: sc.KeyRequest, req: Request) -> sc.GetResult:
        req.enforce("read", f"obj://config/{request.key}")
        return sc.GetResult(value="ok")

    binding.add_verb(EV_SUB, sub)
    binding.add_verb(EV_SUB_SYNC, sub_sync)
    binding.add_verb(EV_UNSUB, unsub)
    binding.add_verb(EV_PUSH, push)
    binding.add_verb(EV_LATE, late)
    binding.add_verb(EV_READ, read)
    return world


@asynccontextmanager
async def served(world: World) -> AsyncIterator[ServerInfo]:
    """Both wires on free loopback ports while the block runs; the binding closed after."""
    try:
        async with serving(
            world.binding, krpc_port=0, grpc_port=0, log_level="warning", grace=0.5
        ) as info:
            yield info
    finally:
        world.binding.close()


async def wait_until(
    predicate: Callable[[], bool], timeout: float = 15.0, what: str = "condition"
) -> None:
    """Poll ``predicate`` every 10 ms until it holds; ``AssertionError`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.01)
