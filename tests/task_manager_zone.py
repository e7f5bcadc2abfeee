"""A task-manager zone for the task-manager service tests: the reference task-manager
(``buckyos.services.task_manager``) on a SQLite file, served over kRPC and gRPC on free
ports from a loop thread, with the zone's keys to mint tokens and a fake kevent publisher
that records what would be published.

- users' sessions are verify-hub tokens (``iss: verify-hub``, ``principal_kind: user``):
  never zone-trusted;
- services' are owner-signed (zone-trusted), as a device- or owner-signed kernel
  service's token is in a zone.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from buckyos.generated.task_manager_rpc import TaskManagerStub
from buckyos.runtime.client.grpc_client import GrpcTransport
from buckyos.runtime.client.krpc_client import KrpcTransport
from buckyos.runtime.security.keys import generate_key_pair
from buckyos.runtime.security.rbac import RbacEnforcer
from buckyos.runtime.security.token_signing import sign_token
from buckyos.runtime.security.token_verifier import TokenVerifier
from buckyos.runtime.security.trust_keys import TrustKeyStore
from buckyos.runtime.server.serve import ServerInfo, serving
from buckyos.services.task_manager import build_binding
from buckyos.services.task_manager.events import Publisher
from buckyos.services.task_manager.store import TaskStore
from tests.loop_thread import LoopThread

__all__ = ["Published", "TaskZone", "task_zone"]

POLICY_TAIL = "g, alice, users\ng, bob, users\ng, carol, users\ng, photos, app\ng, viewer, app"


@dataclass
class Published:
    """A fake kevent publisher: every ``(eventid, data, audience)`` published, in order."""

    events: list[tuple[str, dict[str, Any], dict[str, list[str]]]] = field(default_factory=list)
    fail: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, eventid: str, data: dict[str, Any], audience: dict[str, list[str]]) -> None:
        if self.fail:
            raise OSError("kevent is down")
        with self.lock:
            self.events.append((eventid, data, audience))

    def ids(self) -> list[str]:
        with self.lock:
            return [e[0] for e in self.events]

    def of(self, eventid: str) -> list[dict[str, Any]]:
        with self.lock:
            return [e[1] for e in self.events if e[0] == eventid]


class TaskZone:
    """Keys, the store file, the served addresses; :meth:`stub` for a caller."""

    def __init__(self, db: Path) -> None:
        self.db = db
        self.owner_private, owner_public = generate_key_pair()
        self.hub_private, hub_public = generate_key_pair()
        self.trust = TrustKeyStore()
        self.trust.set_owner_key(owner_public)
        self.trust.set_verify_hub_key(hub_public)
        self.rbac = RbacEnforcer(tail=POLICY_TAIL)
        self.published = Published()
        self.info = ServerInfo()
        self.store = TaskStore(db)
        self.transports: list[KrpcTransport | GrpcTransport] = []

    def user_token(self, user: str, app: str, **extra: Any) -> str:
        claims = {
            "sub": user,
            "appid": app,
            "iss": "verify-hub",
            "principal_kind": "user",
            "session": 1,
            "exp": int(time.time()) + 600,
            **extra,
        }
        return sign_token(claims, self.hub_private, kid="verify-hub")

    def service_token(self, app: str, user: str = "root") -> str:
        claims = {"sub": user, "appid": app, "exp": int(time.time()) + 600}
        return sign_token(claims, self.owner_private, kid=None)

    @property
    def krpc_url(self) -> str:
        assert self.info.krpc_url is not None
        return f"{self.info.krpc_url}/kapi/task-manager"

    def stub(self, token: str, wire: str = "krpc") -> TaskManagerStub:
        transport: KrpcTransport | GrpcTransport
        if wire == "krpc":
            transport = KrpcTransport(self.krpc_url, token=token)
        else:
            assert self.info.grpc_target is not None
            transport = GrpcTransport(self.info.grpc_target, token=token)
        self.transports.append(transport)
        return TaskManagerStub(transport, timeout=10)

    def close(self) -> None:
        for transport in self.transports:
            transport.close()
        self.store.close()


@contextmanager
def task_zone(db: Path, publish: Publisher | None = None) -> Iterator[TaskZone]:
    """A :class:`TaskZone` served on free ports for the block; ``publish`` replaces the
    fake publisher (``zone.published``)."""
    zone = TaskZone(db)
    binding = build_binding(
        verifier=TokenVerifier(zone.trust),
        rbac=zone.rbac,
        store_or_path=zone.store,
        publish=zone.published if publish is None else publish,
        timeout=10.0,
    )
    loop = LoopThread()
    stop = threading.Event()
    started = threading.Event()

    async def run() -> None:
        async with serving(
            binding,
            krpc_port=0,
            grpc_port=0,
            log_level="warning",
            register=False,
            info=zone.info,
            grace=1.0,
        ):
            started.set()
            while not stop.is_set():
                await asyncio.sleep(0.02)

    future = asyncio.run_coroutine_threadsafe(run(), loop.loop)
    try:
        assert started.wait(10), "the task-manager test server did not start"
        yield zone
    finally:
        stop.set()
        future.result(timeout=10)
        binding.close()
        zone.close()
        loop.stop()
