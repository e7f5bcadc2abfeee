"""The security zone the attack suites share: system_config and verify-hub on real sockets.

A small zone on 127.0.0.1: system_config (SQLite file, Ed25519 trust keys, casbin RBAC)
and verify-hub (SQLite session state, reading users and devices from that system_config as
node ``ood1``), seeded as a local zone seeds itself.  Each attack is made on both wires and
must be refused with the text written out in its test, and write nothing: both SQLite
files are read directly (not through our code) before and after, and must be equal, except
where refusing *is* a write.

Each suite records its cases with :func:`check_refused` into ``zone.results`` and saves
them as ``tests/.results/security-<suite>.json`` (:func:`zone_for`);
``python -m tests.security_table`` merges every such file into the table of
``docs/security.md``.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from buckyos.generated.system_config_rpc import SystemConfigStub
from buckyos.generated.verify_hub_rpc import VerifyHubStub
from buckyos.runtime.client.grpc_client import GrpcTransport
from buckyos.runtime.client.krpc_client import KrpcTransport
from buckyos.runtime.errors import RPCError
from buckyos.runtime.security.keys import (
    b64url_encode,
    did_document,
    generate_private_key,
    public_key_to_jwk,
)
from buckyos.runtime.security.revocation import REVOCATIONS_KEY
from buckyos.runtime.security.token_signing import sign_token
from buckyos.runtime.server.serve import ServerInfo, serving
from buckyos.services.system_config import SqliteStore, build_binding as build_system_config
from buckyos.services.verify_hub import (
    DeviceCredentials,
    SystemConfigDirectory,
    build_binding as build_verify_hub,
    service_of,
)
from tests.loop_thread import LoopThread
from tests.reliability_fixtures import save_results
from tests.verify_hub_fakes import Clock, login_hash, now_ms

T = TypeVar("T")

WIRES = ("krpc", "grpc")
TARGET = "users/alice/apps/notes/settings"  # alice (role users) with app notes may write it
POLICY = "g, alice, users\ng, bob, users\ng, notes, app\ng, todo, app\ng, ood1, ood"


def b64(value: dict[str, Any]) -> str:
    return b64url_encode(json.dumps(value, separators=(",", ":")).encode())


def rows(path: Path, query: str) -> list[tuple[Any, ...]]:
    """Rows read straight from a SQLite file (WAL included), not through our code."""
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        return sorted(db.execute(query).fetchall())


class SecurityZone:
    """system_config and verify-hub served on 127.0.0.1 (kRPC and gRPC), seeded."""

    def __init__(self, folder: Path) -> None:
        self.owner = generate_private_key()
        self.device = generate_private_key()
        self.hub_key = generate_private_key()
        self.alice_key = generate_private_key()
        self.stranger = generate_private_key()
        self.hub_clock = Clock()
        self.sc_db = folder / "config.db"
        self.hub_db = folder / "verify-hub.db"
        self.store = SqliteStore(self.sc_db)
        self.loop = LoopThread()
        self.results: list[dict[str, Any]] = []
        self._stack = contextlib.AsyncExitStack()
        self.sc_binding = build_system_config(
            self.store,
            owner_key=self.owner.public_key(),
            owner_did="did:bns:owner",
            device_name="ood1",
            device_key=self.device.public_key(),
        )
        self.sc = self.loop.run(self._serve(self.sc_binding))
        assert self.sc.krpc_url is not None
        self.sc_url = f"{self.sc.krpc_url}/kapi/system_config"
        self.root = sign_token(
            {"sub": "root", "appid": "kernel", "exp": int(time.time()) + 3600},
            self.owner,
            kid="root",
        )
        self._seed()
        self._directory_transport = KrpcTransport(self.sc_url)
        directory = SystemConfigDirectory(
            self._directory_transport,
            owner_key=self.owner.public_key(),
            credentials=DeviceCredentials(self.device, "ood1"),
        )
        self.hub_binding = build_verify_hub(
            signing_key=self.hub_key, state=self.hub_db, directory=directory, clock=self.hub_clock
        )
        self.hub = self.loop.run(self._serve(self.hub_binding))
        assert self.hub.krpc_url is not None
        self.hub_url = f"{self.hub.krpc_url}/kapi/verify-hub"

    async def _serve(self, binding: Any) -> ServerInfo:
        return await self._stack.enter_async_context(
            serving(binding, krpc_port=0, grpc_port=0, log_level="error", grace=0.5)
        )

    def _seed(self) -> None:
        def settings(user: str, password: str) -> str:
            stored = hashlib.sha256(f"{password}{user}.buckyos".encode()).digest()
            return json.dumps(
                {
                    "user_id": user,
                    "type": "user",
                    "state": "active",
                    "password": base64.b64encode(stored).decode(),
                }
            )

        writes = {
            "boot/config": json.dumps(
                {
                    "zone_did": "did:web:zone.test",
                    "verify_hub_info": {
                        "port": 3300,
                        "node_name": "ood1",
                        "public_key": public_key_to_jwk(self.hub_key.public_key()),
                    },
                }
            ),
            "system/rbac/policy": POLICY,
            "devices/ood1/doc": json.dumps(
                did_document("did:dev:ood1", self.device.public_key(), name="ood1")
            ),
            "users/alice/settings": settings("alice", "alice-pw"),
            "users/alice/doc": json.dumps(
                did_document("did:bns:alice", self.alice_key.public_key(), name="alice")
            ),
            "users/bob/settings": settings("bob", "bob-pw"),
        }
        with KrpcTransport(self.sc_url, token=self.root) as transport:
            stub = SystemConfigStub(transport)
            for key, value in writes.items():
                stub.Set(key=key, value=value)

    def close(self) -> None:
        try:
            self.loop.run(service_of(self.hub_binding).aclose())
            self.loop.run(self._stack.aclose())
            self.loop.run(self._directory_transport.aclose())
        finally:
            self.loop.stop()
            self.sc_binding.close()
            self.hub_binding.close()
            self.store.close()

    # -- what is stored ---------------------------------------------------------------------

    def snapshot(
        self,
    ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """Every system_config row, every verify-hub session row and used-once row.

        Not the revocation list verify-hub publishes in system_config: it is verify-hub's
        own write, made in the background whenever it revokes a session.
        """
        return (
            rows(
                self.sc_db,
                f"SELECT key, value, revision FROM config WHERE key != '{REVOCATIONS_KEY}'",
            ),
            rows(self.hub_db, "SELECT * FROM sessions"),
            rows(self.hub_db, "SELECT kind, key FROM used_once"),
        )

    # -- calls ------------------------------------------------------------------------------

    @contextlib.contextmanager
    def sc_stub(self, wire: str, token: str | None) -> Iterator[SystemConfigStub]:
        transport: KrpcTransport | GrpcTransport
        if wire == "krpc":
            transport = KrpcTransport(self.sc_url, token=token)
        else:
            assert self.sc.grpc_target is not None
            transport = GrpcTransport(self.sc.grpc_target, token=token)
        with transport:
            yield SystemConfigStub(transport, timeout=10)

    @contextlib.contextmanager
    def hub_stub(self, wire: str) -> Iterator[VerifyHubStub]:
        transport: KrpcTransport | GrpcTransport
        if wire == "krpc":
            transport = KrpcTransport(self.hub_url)
        else:
            assert self.hub.grpc_target is not None
            transport = GrpcTransport(self.hub.grpc_target)
        with transport:
            yield VerifyHubStub(transport, timeout=10)

    def password_login(
        self, wire: str, *, user: str = "alice", app: str = "notes", sudo: bool = False
    ) -> Any:
        """A real login at verify-hub on its (possibly moved) clock."""
        nonce = int(self.hub_clock() * 1000) if self.hub_clock.offset else now_ms()
        params: dict[str, Any] = {
            "username": user,
            "password": login_hash(user, f"{user}-pw", nonce),
            "appid": app,
            "app_instance_id": f"{app}@{user}",
            "login_nonce": nonce,
        }
        with self.hub_stub(wire) as hub:
            return hub.SudoByPassword(**params) if sudo else hub.LoginByPassword(**params)

    def device_token(self) -> str:
        """A token node ``ood1`` signs for itself (kernel rights, zone-trusted)."""
        claims = {"sub": "ood1", "appid": "kernel", "iss": "ood1", "exp": int(time.time()) + 3600}
        return sign_token(claims, self.device, kid="ood1")

    def claims(self, **extra: Any) -> dict[str, Any]:
        return {"sub": "alice", "appid": "notes", "exp": int(time.time()) + 600, **extra}


def zone_for(suite: str, generated_by: str) -> Callable[..., Iterator[SecurityZone]]:
    """A module-scoped ``zone`` fixture whose cases are saved as ``security-<suite>``."""

    @pytest.fixture(scope="module")
    def zone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecurityZone]:
        started = SecurityZone(tmp_path_factory.mktemp(f"security-{suite}"))
        try:
            yield started
        finally:
            started.close()
            save_results(
                f"security-{suite}",
                {
                    "generated_by": generated_by,
                    "run_at": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
                    "cases": started.results,
                },
            )

    return zone


@dataclass(frozen=True)
class Case:
    """One attack: what it is, the expected answer (literal), and the test citing it."""

    id: str
    attack: str
    expected: str
    also: str = ""
    store: str = "unchanged"


def record(
    zone: SecurityZone, case: Case, wire: str, observed: str, matched: bool, unchanged: bool
) -> None:
    zone.results.append(
        {
            "id": case.id,
            "attack": case.attack,
            "wire": wire,
            "expected": case.expected,
            "observed": observed,
            "refused_as_expected": matched,
            "store": case.store if unchanged else "CHANGED",
            "also": case.also,
        }
    )


def refusal(call: Callable[[], object]) -> str:
    try:
        result = call()
    except RPCError as exc:
        return str(exc)
    return f"ACCEPTED: {result!r}"


def check_refused(
    zone: SecurityZone,
    case: Case,
    wire: str,
    call: Callable[[], object],
    *,
    match: str = "exact",
    allowed_change: Callable[[Any, Any], bool] | None = None,
) -> None:
    """Make the call, record the outcome, then assert: the text and nothing written."""
    before = zone.snapshot()
    observed = refusal(call)
    after = zone.snapshot()
    unchanged = before == after if allowed_change is None else allowed_change(before, after)
    if match == "exact":
        matched = observed == case.expected
    else:  # the expected text is a prefix: the rest names a library's own wording
        matched = observed.startswith(case.expected)
    record(zone, case, wire, observed, matched, unchanged)
    assert matched, f"{case.id} over {wire}: {observed!r} != {case.expected!r}"
    assert unchanged, f"{case.id} over {wire}: the store changed"


def write_target(
    zone: SecurityZone, wire: str, token: str, key: str = TARGET
) -> Callable[[], object]:
    def call() -> object:
        with zone.sc_stub(wire, token) as stub:
            return stub.Set(key=key, value='{"pwned": true}')

    return call


def only_revoked(before: Any, after: Any) -> bool:
    """The one change a refresh-token reuse makes (an ``allowed_change`` of
    :func:`check_refused`): one verify-hub sessions row gains ``revoked_at`` (column 4)."""
    changed = set(after[1]) - set(before[1])
    return (
        before[0] == after[0]
        and before[2] == after[2]
        and len(changed) == 1
        and next(iter(changed))[4] is not None
    )


def hub_call(zone: SecurityZone, wire: str, verb: str, **params: Any) -> Any:
    """One verify-hub verb over ``wire``."""
    with zone.hub_stub(wire) as hub:
        return getattr(hub, verb)(**params)
