"""Revocation reaches every service (issue 11, finding 9), over real sockets.

Before: after ``logout`` system_config accepted the session token until it expired (up to
15 minutes), and a suspended user's token kept working.  Now verify-hub publishes what it
revoked (``system/verify-hub/revoked``), system_config applies it (and its own users'
states) at once, and any other service polls it: each must refuse within 5 s.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from buckyos.generated import system_config_pb2 as sc
from buckyos.generated.system_config_rpc import (
    AsyncSystemConfigStub,
    SystemConfigServicer,
    SystemConfigStub,
)
from buckyos.runtime.client.krpc_client import KrpcTransport
from buckyos.runtime.errors import RPCError
from buckyos.runtime.security.rbac import RbacEnforcer
from buckyos.runtime.security.revocation import REVOCATIONS_KEY, RevocationPoller, RevocationSet
from buckyos.runtime.security.token_verifier import TokenVerifier
from buckyos.runtime.security.trust_keys import TrustKeyStore
from buckyos.runtime.server.binding import Binding
from buckyos.runtime.server.request import Request
from buckyos.runtime.server.serve import ServerInfo, serving
from tests.security_zone import (
    WIRES,
    Case,
    SecurityZone,
    check_refused,
    hub_call,
    refusal,
    zone_for,
)

zone = zone_for("revocation", "tests/test_security_revocation.py")

DEADLINE = 5.0  # the promise: a revocation reaches every service within 5 s
ALICE_KEY = "users/alice/apps/notes/settings"

LOGGED_OUT = Case(
    "logged-out-session-at-system_config",
    "alice's session token used at system_config after she logged out",
    "Invalid token: session revoked (logged out, or an old refresh token was replayed): "
    "log in again",
)
SUSPENDED = Case(
    "suspended-user-at-system_config",
    "bob's session token used at system_config after the admin suspended him",
    "Invalid token: user 'bob' is suspended: the sessions of a user who is not active "
    "no longer work; ask the zone admin",
)
LOGGED_OUT_ELSEWHERE = Case(
    "logged-out-session-at-another-service",
    "alice's session token used at another service (polling the list) after logout",
    "Invalid token: session revoked (logged out, or an old refresh token was replayed): "
    "log in again",
)


def _read(zone: SecurityZone, wire: str, token: str, key: str = ALICE_KEY) -> Callable[[], Any]:
    def call() -> Any:
        with zone.sc_stub(wire, token) as stub:
            return stub.Get(key=key)

    return call


def _refused_within(call: Callable[[], Any], deadline: float) -> float:
    """Seconds until ``call`` is refused (polled every 0.1 s); fails after ``deadline``."""
    start = time.monotonic()
    while True:
        answer = refusal(call)
        if not answer.startswith("ACCEPTED"):
            return time.monotonic() - start
        assert time.monotonic() - start < deadline, f"still accepted after {deadline} s"
        time.sleep(0.1)


@pytest.mark.parametrize("wire", WIRES)
def test_logout_reaches_system_config(zone: SecurityZone, wire: str) -> None:
    pair = zone.password_login(wire)
    read = _read(zone, wire, pair.session_token)
    read()  # the control: it works before the logout
    hub_call(zone, wire, "Logout", refresh_token=pair.refresh_token)
    _refused_within(read, DEADLINE)
    check_refused(zone, LOGGED_OUT, wire, read)
    # alice's other sessions are not touched
    other = zone.password_login(wire)
    _read(zone, wire, other.session_token)()


def _set_state(zone: SecurityZone, user: str, state: str) -> None:
    with zone.sc_stub("krpc", zone.root) as stub:
        settings = json.loads(stub.Get(key=f"users/{user}/settings").value)
        settings["state"] = state
        stub.Set(key=f"users/{user}/settings", value=json.dumps(settings))


@pytest.mark.parametrize("wire", WIRES)
def test_suspension_reaches_system_config_at_once(zone: SecurityZone, wire: str) -> None:
    pair = zone.password_login(wire, user="bob")
    read = _read(zone, wire, pair.session_token, "users/bob/apps/notes/settings")
    read()
    _set_state(zone, "bob", "suspended:abuse")
    try:
        check_refused(zone, SUSPENDED, wire, read)  # no waiting: system_config wrote it
    finally:
        _set_state(zone, "bob", "active")
    read()  # reinstated: the same token works again


class _Probe(SystemConfigServicer):
    """Another service of the zone: answers Get for any verified caller."""

    async def Get(self, request: sc.KeyRequest, req: Request) -> sc.GetResult:
        return sc.GetResult(value=req.caller.user_id)


@contextlib.contextmanager
def _other_service(zone: SecurityZone) -> Iterator[str]:
    """A service trusting verify-hub's key, polling the list from system_config with the
    node's device token; yields its kRPC URL."""
    trust = TrustKeyStore()
    trust.set_verify_hub_key(zone.hub_key.public_key())
    revoked = RevocationSet()
    binding = Binding(
        "probe", verifier=TokenVerifier(trust), rbac=RbacEnforcer(), revocations=revoked
    )
    binding.add_service(_Probe())
    reader = KrpcTransport(zone.sc_url, token=zone.device_token())

    async def fetch() -> str | None:
        result = await AsyncSystemConfigStub(reader, timeout=5).Get(key=REVOCATIONS_KEY)
        return result.value if result.HasField("value") else None

    poller = RevocationPoller(revoked, fetch, interval=0.5)
    stack = contextlib.AsyncExitStack()

    async def start() -> ServerInfo:
        info = await stack.enter_async_context(
            serving(
                binding,
                krpc_port=0,
                grpc_port=None,
                log_level="error",
                grace=0.2,
                register=False,
            )
        )
        poller.start()
        return info

    info = zone.loop.run(start())
    try:
        assert info.krpc_url is not None
        yield f"{info.krpc_url}/kapi/system_config"
    finally:
        zone.loop.run(poller.stop())
        zone.loop.run(stack.aclose())
        zone.loop.run(reader.aclose())
        binding.close()


def test_logout_reaches_another_service_within_5_s(zone: SecurityZone) -> None:
    with _other_service(zone) as url:
        pair = zone.password_login("krpc")

        def call() -> Any:
            with KrpcTransport(url, token=pair.session_token) as transport:
                return SystemConfigStub(transport, timeout=5).Get(key="x")

        assert call().value == "alice"
        hub_call(zone, "krpc", "Logout", refresh_token=pair.refresh_token)
        took = _refused_within(call, DEADLINE)
        check_refused(zone, LOGGED_OUT_ELSEWHERE, "krpc", call)
        assert took < DEADLINE
        # the published list names the session, and only until its tokens expire
        with zone.sc_stub("krpc", zone.root) as stub:
            listed = json.loads(stub.Get(key=REVOCATIONS_KEY).value)
        assert listed["sessions"], listed
        assert all(until <= time.time() + 961 for until in listed["sessions"].values())


def test_a_user_cannot_unrevoke_by_writing_the_list(zone: SecurityZone) -> None:
    pair = zone.password_login("krpc")
    try:
        with zone.sc_stub("krpc", pair.session_token) as stub:
            stub.Set(key=REVOCATIONS_KEY, value='{"sessions": {}, "users": {}}')
    except RPCError as err:
        assert str(err).startswith("No permission:No write permission"), str(err)
    else:
        pytest.fail("a user wrote the revocation list")
