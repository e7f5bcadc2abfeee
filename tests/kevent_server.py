"""The reference kevent (``services/kevent``) served for tests, with keys to sign tokens.

:func:`served_kevent` serves a :class:`KEventApp` on a free port of 127.0.0.1, on a loop in
a thread (:class:`~tests.loop_thread.LoopThread`), optionally behind a node gateway
(``services/gateway``) forwarding ``/kapi/kevent/*`` to it.  The zone's trust store knows
an owner key (``root``), a device (``ood1``) and verify-hub; :meth:`KEventServer.token`
signs the tokens the tests need: zone-trusted ones (the owner's, a device's, verify-hub's
for a service) and app ones (verify-hub's for a user's login).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from typing import Any, Literal

from buckyos.runtime.client import KEventClient
from buckyos.runtime.security import (
    RevocationSet,
    TokenVerifier,
    TrustKeyStore,
    generate_private_key,
    sign_token,
)
from buckyos.services.gateway import (
    GatewayApp,
    InstancePool,
    StaticInstanceSource,
    gateway_serving,
)
from buckyos.services.kevent import Bus, KEventApp, kevent_serving
from tests.loop_thread import LoopThread

__all__ = ["NODE", "KEventServer", "served_kevent"]

NODE = "test-node"
WAIT = 10.0

Signer = Literal["owner", "device", "hub", "stranger"]


class KEventServer:
    """A served kevent: where it is, its app (its bus), and tokens to call it with."""

    def __init__(self, loop: LoopThread, app: KEventApp) -> None:
        self.loop = loop
        self.app = app
        self.base = ""
        self.gateway_base: str | None = None
        self.owner = generate_private_key()
        self.device = generate_private_key()
        self.hub = generate_private_key()
        self.stranger = generate_private_key()
        trust = TrustKeyStore()
        trust.set_owner_key(self.owner.public_key())
        trust.add_device("ood1", self.device.public_key())
        trust.set_verify_hub_key(self.hub.public_key())
        self.trust = trust

    @property
    def url(self) -> str:
        """kevent's own ``.../kapi/kevent``."""
        return f"{self.base}/kapi/kevent"

    @property
    def port(self) -> int:
        return int(self.base.rsplit(":", 1)[1])

    @property
    def gateway_url(self) -> str:
        """The gateway's ``.../kapi/kevent``."""
        assert self.gateway_base is not None, "served without a gateway"
        return f"{self.gateway_base}/kapi/kevent"

    def token(
        self,
        user: str = "alice",
        app: str | None = "notes",
        *,
        signer: Signer = "hub",
        kind: str | None = "user",
        ttl: float = 600,
        **claims: Any,
    ) -> str:
        """A signed session token: ``signer`` ``hub`` with ``kind`` ``user`` is an app
        principal's; ``hub`` with ``service``/``device``, ``owner`` and ``device`` are
        zone-trusted; ``stranger`` is signed by a key nobody trusts (kid ``root``)."""
        body: dict[str, Any] = {"sub": user, "exp": int(time.time() + ttl), **claims}
        if app is not None:
            body["appid"] = app
        if signer == "hub":
            body["iss"] = "verify-hub"
            if kind is not None:
                body["principal_kind"] = kind
            return sign_token(body, self.hub, kid="verify-hub")
        if signer == "owner":
            return sign_token(body, self.owner, kid="root")
        if signer == "device":
            return sign_token(body, self.device, kid="ood1")
        return sign_token(body, self.stranger, kid="root")

    def trusted(self) -> str:
        """A zone-trusted token (a service's, from verify-hub)."""
        return self.token("task-manager", "task-manager", kind="service")

    # -- the bus, read on its loop

    def _on_loop(self, what: Any) -> Any:
        async def read() -> Any:
            return what()

        return self.loop.run(read())

    def readers(self) -> int:
        return int(self._on_loop(lambda: self.app.bus.readers))

    def dropped(self) -> int:
        return int(self._on_loop(self.app.bus.dropped))

    def opened(self) -> int:
        """Streams opened so far."""
        return int(self._on_loop(lambda: self.app.bus.streams_opened))

    def publish(self, eventid: str, data: Any = None) -> None:
        """Publish as a node-local process does (no token)."""
        with KEventClient(self.url) as client:
            client.publish(eventid, data)

    def wait_readers(self, count: int, within: float = WAIT) -> None:
        deadline = time.monotonic() + within
        while self.readers() != count:
            assert time.monotonic() < deadline, f"{self.readers()} readers, expected {count}"
            time.sleep(0.02)


@contextlib.contextmanager
def served_kevent(
    *,
    gateway: bool = False,
    gateway_to: str | None = None,
    leeway: float = 60,
    grace: float = 1.0,
    stall_timeout: float = 60.0,
    **bus: Any,
) -> Iterator[KEventServer]:
    """A :class:`KEventServer` on 127.0.0.1 (and a gateway in front when ``gateway``,
    forwarding to kevent or to ``gateway_to``); ``leeway`` the verifier's (seconds past
    ``exp``), ``grace`` both servers' stop grace, ``stall_timeout`` the app's, ``bus``
    :class:`Bus` options.  The app checks a :class:`RevocationSet` (empty at first)."""
    loop = LoopThread(timeout=WAIT)
    stop: asyncio.Event | None = None
    runner: Any = None
    try:
        server: KEventServer | None = None
        ready = asyncio.Event()

        async def serve() -> None:
            nonlocal stop, server
            stop = asyncio.Event()
            app = KEventApp(
                node_name=NODE,
                verifier=None,
                revocations=RevocationSet(),
                bus=Bus(**bus),
                stall_timeout=stall_timeout,
            )
            server = KEventServer(loop, app)
            app.verifier = TokenVerifier(server.trust, leeway=leeway)
            async with contextlib.AsyncExitStack() as stack:
                server.base = await stack.enter_async_context(
                    kevent_serving(app, port=0, log_level="warning", grace=grace)
                )
                if gateway:
                    front = GatewayApp(
                        InstancePool(StaticInstanceSource({})), kevent=gateway_to or server.base
                    )
                    server.gateway_base = await stack.enter_async_context(
                        gateway_serving(front, port=0, log_level="warning", grace=grace)
                    )
                ready.set()
                await stop.wait()

        runner = asyncio.run_coroutine_threadsafe(serve(), loop.loop)

        async def started() -> None:
            await asyncio.wait_for(ready.wait(), WAIT)

        loop.run(started())
        assert server is not None
        yield server
    finally:
        if stop is not None:
            loop.loop.call_soon_threadsafe(stop.set)
        if runner is not None:
            runner.result(WAIT)
        loop.stop()
