"""The kmsg server the ``tests/test_kmsg_*.py`` suites share: the reference kmsg
(:mod:`buckyos.services.kmsg`) on a SQLite file, served over kRPC and gRPC on free
loopback ports, with test keys that mint the tokens of each kind of caller:

- ``user(name, app)``: a verify-hub session of a user (``principal_kind: user``), not
  zone-trusted;
- ``device()``: a token node ``ood1`` signs (zone-trusted);
- ``owner()``: a token the zone owner signs (zone-trusted).

Its store's clock is :attr:`KmsgServer.clock` (a settable :class:`Clock`), so retention
is tested without waiting.
"""

from __future__ import annotations

import contextlib
import json
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from buckyos.generated.kmsg_rpc import KmsgStub
from buckyos.runtime.client.grpc_client import GrpcTransport
from buckyos.runtime.client.krpc_client import KrpcTransport
from buckyos.runtime.security import RbacEnforcer, TokenVerifier, TrustKeyStore
from buckyos.runtime.security.keys import generate_private_key
from buckyos.runtime.security.token_signing import sign_token
from buckyos.runtime.server.serve import ServerInfo, serving
from buckyos.services.kmsg import KmsgStore, build_binding, service_of
from tests.loop_thread import LoopThread

WIRES = ("krpc", "grpc")


class Clock:
    """Unix seconds, moved by the test (starts at the real time)."""

    def __init__(self) -> None:
        self.now = float(int(time.time()))

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Keys:
    """The zone's keys and tokens of each kind of caller."""

    def __init__(self) -> None:
        self.owner_key = generate_private_key()
        self.device_key = generate_private_key()
        self.hub_key = generate_private_key()
        self._seq = 0

    def trust(self) -> TrustKeyStore:
        trust = TrustKeyStore()
        trust.set_owner_key(self.owner_key.public_key())
        trust.set_verify_hub_key(self.hub_key.public_key())
        trust.add_device("ood1", self.device_key.public_key())
        return trust

    def user(self, name: str, app: str) -> str:
        """A user's session as verify-hub issues it (not zone-trusted)."""
        self._seq += 1
        claims = {
            "sub": name,
            "appid": app,
            "iss": "verify-hub",
            "principal_kind": "user",
            "session": self._seq,
            "jti": f"j{self._seq}",
            "exp": int(time.time()) + 600,
        }
        return sign_token(claims, self.hub_key, kid="verify-hub")

    def device(self) -> str:
        """Node ``ood1``'s own token (zone-trusted)."""
        claims = {"sub": "ood1", "appid": "kernel", "iss": "ood1", "exp": int(time.time()) + 600}
        return sign_token(claims, self.device_key, kid="ood1")

    def owner(self) -> str:
        """The zone owner's token (zone-trusted)."""
        claims = {"sub": "root", "appid": "kernel", "exp": int(time.time()) + 600}
        return sign_token(claims, self.owner_key, kid="root")


class KmsgServer:
    """kmsg on ``folder/kmsg.db``, served on both wires until :meth:`close`."""

    def __init__(self, folder: Path) -> None:
        self.keys = Keys()
        self.clock = Clock()
        self.db = folder / "kmsg.db"
        self.loop = LoopThread()
        self._stack = contextlib.AsyncExitStack()
        self.binding = build_binding(
            verifier=TokenVerifier(self.keys.trust()),
            rbac=RbacEnforcer(),
            store_or_path=self.db,
            clock=self.clock,
        )
        self.store: KmsgStore = service_of(self.binding).store
        self.info: ServerInfo = self.loop.run(self._serve())
        assert self.info.krpc_url is not None and self.info.grpc_target is not None
        self.url = f"{self.info.krpc_url}/kapi/kmsg"

    async def _serve(self) -> ServerInfo:
        return await self._stack.enter_async_context(
            serving(self.binding, krpc_port=0, grpc_port=0, log_level="error", grace=0.5)
        )

    def close(self) -> None:
        try:
            self.loop.run(self._stack.aclose())
        finally:
            self.loop.stop()
            self.binding.close()
            self.store.close()

    @contextlib.contextmanager
    def stub(self, wire: str, token: str | None) -> Iterator[KmsgStub]:
        transport: KrpcTransport | GrpcTransport
        if wire == "krpc":
            transport = KrpcTransport(self.url, token=token)
        else:
            assert self.info.grpc_target is not None
            transport = GrpcTransport(self.info.grpc_target, token=token)
        with transport:
            yield KmsgStub(transport, timeout=10)

    def raw(self, method: str, params: Any, token: str | None) -> Any:
        """One kRPC call as upstream's client sends it: the whole answer object."""
        sys_field: list[Any] = [7] if token is None else [7, token]
        body = json.dumps({"method": method, "params": params, "sys": sys_field}).encode()
        request = urllib.request.Request(
            self.url, data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())


@contextlib.contextmanager
def kmsg_server(folder: Path) -> Iterator[KmsgServer]:
    server = KmsgServer(folder)
    try:
        yield server
    finally:
        server.close()
