"""Shared pieces of the verify-hub tests: a zone's keys and records, a tiny fake
system_config (a real Binding serving ``sys_config_get`` from a dict, checking tokens and
RBAC like the real one), servers run in a background thread, and a movable clock."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from buckyos.generated import system_config_pb2 as sc
from buckyos.generated.system_config_rpc import SystemConfigServicer
from buckyos.runtime.security.keys import (
    Ed25519PrivateKey,
    did_document,
    generate_private_key,
)
from buckyos.runtime.security.rbac import RbacEnforcer
from buckyos.runtime.security.token_verifier import TokenVerifier
from buckyos.runtime.security.trust_keys import TrustKeyStore
from buckyos.runtime.server.binding import Binding
from buckyos.runtime.server.request import Request
from buckyos.runtime.server.serve import ServerInfo, serving

__all__ = [
    "Clock",
    "FakeConfig",
    "ServerThread",
    "Zone",
    "fake_system_config",
    "login_hash",
    "make_zone",
    "now_ms",
]


class Clock:
    """Real time plus an offset the test moves."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


def _stored(username: str, password: str) -> str:
    # Written out here rather than imported, so the tests check the service's hashing.
    digest = hashlib.sha256((password + username + ".buckyos").encode()).digest()
    return base64.b64encode(digest).decode()


def login_hash(username: str, password: str, nonce: int) -> str:
    """The client side of upstream's scheme, written out independently of the service."""
    stored = _stored(username, password)
    return base64.b64encode(hashlib.sha256(f"{stored}{nonce}".encode()).digest()).decode()


_last_nonce = 0


def now_ms() -> int:
    """A fresh, never repeated client nonce (time in ms)."""
    global _last_nonce
    _last_nonce = max(int(time.time() * 1000), _last_nonce + 1)
    return _last_nonce


@dataclass
class Zone:
    """Keys and system_config records of a small zone."""

    owner: Ed25519PrivateKey
    device: Ed25519PrivateKey
    hub: Ed25519PrivateKey
    alice: Ed25519PrivateKey
    ood2: Ed25519PrivateKey
    data: dict[str, str] = field(default_factory=dict)


def make_zone() -> Zone:
    zone = Zone(
        owner=generate_private_key(),
        device=generate_private_key(),
        hub=generate_private_key(),
        alice=generate_private_key(),
        ood2=generate_private_key(),
    )

    def settings(user: str, password: str, kind: str, state: str) -> str:
        return json.dumps(
            {
                "user_id": user,
                "type": kind,
                "password": _stored(user, password),
                "state": state,
                "res_pool_id": "default",
            }
        )

    zone.data.update(
        {
            "users/alice/settings": settings("alice", "alice-pw", "admin", "active"),
            "users/alice/doc": json.dumps(
                did_document("did:bns:alice", zone.alice.public_key(), name="alice")
            ),
            "users/bob/settings": settings("bob", "bob-pw", "user", "suspended:spam"),
            "users/gus/settings": settings("gus", "gus-pw", "guest", "active"),
            "users/dave/settings": settings("dave", "dave-pw", "user", "active"),
            "devices/ood1/doc": json.dumps(
                did_document("did:dev:ood1", zone.device.public_key(), name="ood1")
            ),
            "devices/ood2/doc": json.dumps(
                did_document("did:dev:ood2", zone.ood2.public_key(), name="ood2")
            ),
        }
    )
    return zone


class FakeConfig(SystemConfigServicer):
    """``sys_config_get`` from a dict, with the real token check and RBAC per key."""

    def __init__(self, data: dict[str, str]) -> None:
        self.data = data
        self.callers: list[tuple[str | None, str | None]] = []

    async def Get(self, request: sc.KeyRequest, req: Request) -> sc.GetResult:
        req.enforce("read", f"obj://config/{request.key}")
        self.callers.append((req.caller.user_id, req.caller.app_id))
        value = self.data.get(request.key)
        return sc.GetResult() if value is None else sc.GetResult(value=value, version=1)


def fake_system_config(zone: Zone) -> tuple[Binding, FakeConfig]:
    """A system_config Binding trusting the owner and device ``ood1`` (RBAC: ood1 is ood)."""
    trust = TrustKeyStore()
    trust.set_owner_key(zone.owner.public_key())
    trust.add_device("ood1", zone.device.public_key())
    binding = Binding(
        "system_config", verifier=TokenVerifier(trust), rbac=RbacEnforcer(tail="g, ood1, ood")
    )
    config = FakeConfig(zone.data)
    binding.add_service(config)
    return binding, config


class ServerThread:
    """Serve bindings (``(binding, krpc_port, grpc_port)``) on a loop in a thread."""

    def __init__(self, *specs: tuple[Binding, int | None, int | None]) -> None:
        self.specs = specs
        self.infos: list[ServerInfo] = []
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="servers", daemon=True)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:
            self._error = exc
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with contextlib.AsyncExitStack() as stack:
            for binding, krpc_port, grpc_port in self.specs:
                info = await stack.enter_async_context(
                    serving(binding, krpc_port=krpc_port, grpc_port=grpc_port, log_level="warning")
                )
                self.infos.append(info)
            self._ready.set()
            await self._stop.wait()

    def __enter__(self) -> ServerThread:
        self._thread.start()
        if not self._ready.wait(15):
            raise RuntimeError("servers did not start within 15 s")
        if self._error is not None:
            raise RuntimeError(f"servers failed to start: {self._error!r}")
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(15)
        for binding, _, _ in self.specs:
            binding.close()
