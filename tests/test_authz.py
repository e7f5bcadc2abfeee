"""Authorizer: upstream's enforce texts and the binder's auth-tree evaluation.

Real Ed25519 keys sign every token, and RBAC is the real casbin enforcer with upstream's
default model and policy plus a zone tail.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from buckyos.runtime.auth import Not, Permission, Yes
from buckyos.runtime.descriptor import MethodDescriptor, SessionFlags
from buckyos.runtime.errors import InvalidTokenError, NoPermissionError
from buckyos.runtime.security.keys import generate_key_pair
from buckyos.runtime.security.rbac import RbacEnforcer
from buckyos.runtime.security.revocation import REVOKED_SESSION, Revocations, RevocationSet
from buckyos.runtime.security.session_token import SessionToken
from buckyos.runtime.security.token_signing import sign_token
from buckyos.runtime.security.token_verifier import TokenVerifier
from buckyos.runtime.security.trust_keys import TrustKeyStore
from buckyos.runtime.server.authz import Authorizer, Verdict
from buckyos.runtime.server.binding import Binding
from buckyos.runtime.server.request import ANONYMOUS, Caller
from tests.generated import kitchen_sink_pb2 as ks

NOW = 1_760_000_000

ZONE_TAIL = """
g, alice, admin
g, bob, users
g, demo, app
p, app, obj://sink/*, read|write, allow
p, users, obj://sink/{users}/*, read, allow
p, admin, obj://sink/*, all, allow
"""


class FakeClock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Zone:
    """An owner, a device (ood1), verify-hub and a stranger, each with a real key pair."""

    def __init__(self) -> None:
        self.owner, owner_pub = generate_key_pair()
        self.device, device_pub = generate_key_pair()
        self.hub, hub_pub = generate_key_pair()
        self.stranger, _ = generate_key_pair()
        self.trust = TrustKeyStore()
        self.trust.set_owner_key(owner_pub)
        self.trust.add_device("ood1", device_pub)
        self.trust.set_verify_hub_key(hub_pub)
        self.clock = FakeClock()
        self.verifier = TokenVerifier(self.trust, clock=self.clock)
        self.rbac = RbacEnforcer(tail=ZONE_TAIL)

    def user_token(self, sub: str = "bob", appid: str | None = "demo", **extra: Any) -> str:
        """An interactive login from verify-hub (LOA 2)."""
        claims: dict[str, Any] = {
            "sub": sub,
            "appid": appid,
            "jti": f"j-{sub}",
            "iss": "verify-hub",
            "exp": NOW + 900,
            "session": 7,
            "principal_kind": "user",
        }
        claims.update(extra)
        return sign_token(
            {k: v for k, v in claims.items() if v is not None}, self.hub, kid="verify-hub"
        )

    def device_token(self, sub: str = "bob", appid: str | None = "demo", **extra: Any) -> str:
        """A token a device signed itself (LOA 1)."""
        claims: dict[str, Any] = {"sub": sub, "appid": appid, "iss": "ood1", "exp": NOW + 900}
        claims.update(extra)
        return sign_token(
            {k: v for k, v in claims.items() if v is not None}, self.device, kid="ood1"
        )


@pytest.fixture
def zone() -> Zone:
    return Zone()


@pytest.fixture
def authz(zone: Zone) -> Authorizer:
    return Authorizer(zone.verifier, zone.rbac)


def verb(auth: str, **session: Any) -> MethodDescriptor[ks.EchoRequest, ks.EchoResult]:
    return MethodDescriptor.build(
        api="kitchen-sink",
        service="buckyos_test.KitchenSink",
        name="Probe",
        krpc="ks_probe",
        request_type=ks.EchoRequest,
        response_type=ks.EchoResult,
        auth=auth,
        session=SessionFlags(**session),
    )


def denied(
    authz: Authorizer, method: MethodDescriptor[Any, Any], token: str | None, **kw: Any
) -> str:
    message = kw.pop("message", ks.EchoRequest(owner="bob", name="n1"))
    with pytest.raises(NoPermissionError) as info:
        authz.authorize(method, message, token, **kw)
    return str(info.value)


# --------------------------------------------------------------------------- enforce


def test_enforce_allows_and_names_user_and_app(zone: Zone, authz: Authorizer) -> None:
    assert authz.enforce(zone.user_token(), "read", "obj://sink/bob/x") == ("bob", "demo")
    # No appid: the app is "kernel", which in a device-signed token skips the user check
    # (the user has no role at all).
    token = zone.device_token(sub="mallory", appid=None)
    assert authz.enforce(token, "write", "obj://config/security/x") == ("mallory", "kernel")


def test_kernel_app_skips_the_user_check_only_for_zone_trusted_tokens(
    zone: Zone, authz: Authorizer
) -> None:
    resource = "obj://config/security/x"
    owner = sign_token(
        {"sub": "mallory", "appid": "kernel", "exp": NOW + 60}, zone.owner, kid="root"
    )
    trusted = {
        "owner": owner,
        "device": zone.device_token(sub="mallory", appid="kernel"),
        "verify-hub service": zone.user_token(
            sub="mallory", appid="kernel", principal_kind="service"
        ),
        "verify-hub device": zone.user_token(
            sub="mallory", appid="kernel", principal_kind="device"
        ),
    }
    for name, token in trusted.items():
        assert zone.verifier.verify(token).zone_trusted, name
        assert authz.enforce(token, "write", resource) == ("mallory", "kernel"), name
    # A user's session claiming app kernel (or no app), and a token whose claims say
    # iss "ood1" but which verify-hub's key signed: the user check applies.
    zone.trust.add_key("other", zone.stranger.public_key())
    untrusted = {
        "user session": zone.user_token(sub="mallory", appid="kernel"),
        "user session, no appid": zone.user_token(sub="mallory", appid=None),
        "no principal_kind": zone.user_token(sub="mallory", appid="kernel", principal_kind=None),
        "iss claims a device": zone.user_token(sub="mallory", appid="kernel", iss="ood1"),
        "kind other": sign_token(
            {"sub": "mallory", "appid": "kernel", "exp": NOW + 60}, zone.stranger, kid="other"
        ),
    }
    for name, token in untrusted.items():
        assert not zone.verifier.verify(token).zone_trusted, name
        with pytest.raises(NoPermissionError) as info:
            authz.enforce(token, "write", resource)
        assert str(info.value) == (
            "No permission:enforce failed,userid:mallory,appid:kernel,"
            "resource:obj://config/security/x,action:write"
        ), name
    # ...and a user's session for app kernel still has that user's own rights.
    assert authz.enforce(zone.user_token(appid="kernel"), "read", "obj://sink/bob/x") == (
        "bob",
        "kernel",
    )


def test_enforce_refusals_carry_upstream_texts(zone: Zone, authz: Authorizer) -> None:
    cases: list[tuple[str | None, type[Exception], str]] = [
        (None, NoPermissionError, "No permission:No session token"),
        (
            sign_token({"sub": "bob", "exp": NOW + 60}, zone.stranger, kid="nobody"),
            NoPermissionError,
            "No permission:kid nobody not found",
        ),
        (
            zone.user_token(exp=NOW - 61),
            InvalidTokenError,
            "Invalid token: JWT decode error:ExpiredSignature",
        ),
        (
            zone.user_token(aud="verify-hub"),
            InvalidTokenError,
            "Invalid token: refresh token cannot be used as session token",
        ),
        (
            sign_token({"sub": "bob", "exp": NOW + 60}, zone.stranger, kid="verify-hub"),
            InvalidTokenError,
            "Invalid token: JWT decode error:InvalidSignature",
        ),
    ]
    for token, kind, text in cases:
        with pytest.raises(kind) as info:
            authz.enforce(token, "read", "obj://sink/bob/x")
        assert str(info.value) == text
    # 60 s of leeway, as upstream.
    assert authz.enforce(zone.user_token(exp=NOW - 59), "read", "obj://sink/bob/x")[0] == "bob"


def test_enforce_denial_text(zone: Zone, authz: Authorizer) -> None:
    with pytest.raises(NoPermissionError) as info:
        authz.enforce(zone.user_token(), "read", "obj://sink/carol/x")
    assert str(info.value) == (
        "No permission:enforce failed,userid:bob,appid:demo,resource:obj://sink/carol/x,action:read"
    )


def test_enforce_sudo_is_checked_as_su_user(zone: Zone, authz: Authorizer) -> None:
    resource = "obj://config/system/x"
    plain = zone.user_token(sub="admin", appid="control-panel")
    with pytest.raises(NoPermissionError):
        authz.enforce(plain, "write", resource)  # user "admin" has no role of its own
    sudo = zone.user_token(sub="admin", appid="control-panel", sudo=True)
    assert authz.enforce(sudo, "write", resource) == ("admin", "control-panel")  # su_admin
    with pytest.raises(NoPermissionError):
        authz.enforce(zone.user_token(sudo=True), "read", "obj://sink/bob/x")  # su_bob: none


# --------------------------------------------------------------------------- auth trees


def test_yes_needs_nothing_and_identifies_a_valid_token(zone: Zone, authz: Authorizer) -> None:
    method = verb("yes")
    assert authz.authorize(method, ks.EchoRequest(), None) is ANONYMOUS
    caller = authz.authorize(method, ks.EchoRequest(), zone.user_token())
    assert (caller.user_id, caller.app_id, caller.loa) == ("bob", "demo", 2)
    assert caller.session == "7@bob"
    # A token the verb does not need and that fails is ignored, not an error.
    expired = zone.user_token(exp=NOW - 3600)
    assert authz.authorize(method, ks.EchoRequest(), expired) is ANONYMOUS


def test_no_denies_everyone(zone: Zone, authz: Authorizer) -> None:
    text = denied(authz, verb("no"), zone.user_token(sudo=True))
    assert text == "No permission:ks_probe is closed to every caller (auth: no)"


def test_token_node_requires_a_valid_token(zone: Zone, authz: Authorizer) -> None:
    method = verb("token")
    assert denied(authz, method, None) == "No permission:No session token"
    with pytest.raises(InvalidTokenError):
        authz.authorize(method, ks.EchoRequest(), zone.user_token(exp=NOW - 3600))
    assert authz.authorize(method, ks.EchoRequest(), zone.device_token()).loa == 1


def test_permission_fills_placeholders_from_the_message(zone: Zone, authz: Authorizer) -> None:
    method = verb("obj://sink/{owner}/{name}:read")
    ok = ks.EchoRequest(owner="bob", name="n1")
    assert authz.authorize(method, ok, zone.device_token()).user_id == "bob"
    text = denied(authz, method, zone.device_token(), message=ks.EchoRequest(owner="carol"))
    assert text == (
        "No permission:enforce failed,userid:bob,appid:demo,resource:obj://sink/carol/,action:read"
    )
    assert denied(authz, method, None) == "No permission:No session token"


def test_loa_levels(zone: Zone, authz: Authorizer) -> None:
    method = verb("loa>=2")
    assert (
        denied(authz, method, None) == "No permission:ks_probe needs LOA 2, the session has LOA 0"
    )
    assert denied(authz, method, zone.device_token()) == (
        "No permission:ks_probe needs LOA 2, the session has LOA 1"
    )
    assert authz.authorize(method, ks.EchoRequest(), zone.user_token()).loa == 2
    # A verify-hub token for a device or service is not an interactive login.
    assert denied(authz, method, zone.user_token(principal_kind="service")).endswith("LOA 1")
    sudo = authz.authorize(verb("loa>=3"), ks.EchoRequest(), zone.user_token(sudo=True))
    assert sudo.loa == 3 and sudo.sudo


def test_session_flag_loa_is_checked_before_the_tree(zone: Zone, authz: Authorizer) -> None:
    method = verb("yes", loa=2)
    assert denied(authz, method, None) == "No permission:No session token"
    assert denied(authz, method, zone.device_token()) == (
        "No permission:ks_probe needs LOA 2, the session has LOA 1"
    )
    # A level raised in the session counts, for that session and api only.
    raised = {("0@bob", "kitchen-sink"): 2}

    def session_loa(session: str, api: str) -> int:
        return raised.get((session, api), 0)

    token = zone.device_token(session=0)
    assert authz.authorize(method, ks.EchoRequest(), token, session_loa=session_loa).loa == 2
    other = zone.device_token(sub="alice", session=0)
    assert denied(authz, method, other, session_loa=session_loa).endswith("LOA 1")


@pytest.mark.parametrize("auth", ["token", "check-token", "obj://sink/{owner}/{name}:read"])
def test_session_flag_loa_alone_refuses_what_the_tree_grants(
    zone: Zone, authz: Authorizer, auth: str
) -> None:
    """No later check stands in for the session flags' LOA: each tree here grants a device
    token (LOA 1), so only the LOA check can refuse it, on both entry points."""
    message = ks.EchoRequest(owner="bob", name="n1")
    token = zone.device_token()
    assert authz.authorize(verb(auth), message, token).loa == 1  # the tree grants it
    expected = "No permission:ks_probe needs LOA 2, the session has LOA 1"
    assert denied(authz, verb(auth, loa=2), token, message=message) == expected
    with pytest.raises(NoPermissionError) as info:
        authz.authenticate(verb(auth, loa=2), token)
    assert str(info.value) == expected
    assert authz.authorize(verb(auth, loa=2), message, zone.user_token()).loa == 2
    # Cached callers do not carry a level past the check: the same token, refused again.
    assert denied(authz, verb(auth, loa=2), token, message=message) == expected


def test_check_and_close_flags_need_a_token(zone: Zone, authz: Authorizer) -> None:
    for flags in ({"check": True}, {"close": True}, {"loa": 1}):
        assert denied(authz, verb("yes", **flags), None) == "No permission:No session token"
        assert authz.authorize(verb("yes", **flags), ks.EchoRequest(), zone.device_token())


def test_and_or_not_short_circuit(zone: Zone, authz: Authorizer) -> None:
    token = zone.device_token()
    message = ks.EchoRequest(owner="carol", name="n1")  # bob may not read carol's sink
    assert authz.authorize(verb("yes or no"), message, token)
    assert authz.authorize(verb("no or yes"), message, token)
    assert denied(authz, verb("yes and no"), token).endswith("(auth: no)")
    assert authz.authorize(verb("not no"), message, token)
    assert (
        denied(authz, verb("not yes"), token) == "No permission:ks_probe: denied by auth 'not yes'"
    )
    assert authz.authorize(verb("not (no and token)"), message, token)
    # The denial reported is the last check that failed.
    text = denied(authz, verb("loa>=3 or obj://sink/{owner}/{name}:read"), token, message=message)
    assert text.startswith("No permission:enforce failed,userid:bob")
    # Permission counts as granted after a short-circuit without calling RBAC.
    calls: list[tuple[str, ...]] = []

    class Counting(RbacEnforcer):
        def enforce_raw(self, *request: str) -> bool:
            calls.append(request)
            return super().enforce_raw(*request)

    counting = Authorizer(zone.verifier, Counting(tail=ZONE_TAIL))
    assert counting.authorize(verb("yes or obj://sink/{owner}/{name}:read"), message, token)
    assert counting.authorize(verb("not (no and obj://sink/x:read)"), message, token)
    assert calls == []


class BrokenRbac(RbacEnforcer):
    """An RBAC backend that is down."""

    def enforce(self, *args: Any, **kwargs: Any) -> bool:
        raise RuntimeError("policy store unreachable")


def test_an_error_while_evaluating_denies_even_under_not(
    zone: Zone, caplog: pytest.LogCaptureFixture
) -> None:
    authz = Authorizer(zone.verifier, BrokenRbac(tail=ZONE_TAIL))
    token = zone.device_token()
    perm = "obj://sink/{owner}/{name}:read"
    with caplog.at_level(logging.WARNING, logger="buckyos.runtime.server.authz"):
        text = denied(authz, verb(f"not {perm}"), token)
    assert text == f"No permission:ks_probe: cannot check {perm} (RuntimeError)"
    assert "policy store unreachable" in caplog.text  # logged, not sent to the caller
    assert "unreachable" not in text
    # An error is not a denial that a second negation could flip either.
    assert denied(authz, verb(f"not not {perm}"), token).endswith("(RuntimeError)")
    assert denied(authz, verb(f"not ({perm} or no)"), token).endswith("(RuntimeError)")
    assert denied(authz, verb(f"not ({perm} and yes)"), token).endswith("(RuntimeError)")
    assert denied(authz, verb(f"{perm} or not {perm}"), token).endswith("(RuntimeError)")
    # ...but a sibling that grants still grants in an Or.
    assert authz.authorize(verb(f"{perm} or yes"), ks.EchoRequest(), token)
    caller = Caller("bob", "demo", "s", 1, token, zone.verifier.verify(token))
    verdict, reason = authz.evaluate(verb(f"not {perm}"), ks.EchoRequest(), caller)
    assert verdict is Verdict.ERROR and reason


def test_a_placeholder_the_message_lacks_is_an_error_not_a_grant(
    zone: Zone, authz: Authorizer
) -> None:
    # Built without MethodDescriptor.build's validation, as a careless hand binding might.
    method: MethodDescriptor[ks.EchoRequest, ks.EchoResult] = MethodDescriptor(
        api="kitchen-sink",
        service="buckyos_test.KitchenSink",
        name="Bad",
        krpc="ks_bad",
        request_type=ks.EchoRequest,
        response_type=ks.EchoResult,
        auth=Not(Permission.of("obj://sink/{nope}", "read")),
    )
    text = denied(authz, method, zone.device_token())
    assert text == "No permission:ks_bad: cannot check obj://sink/{nope}:read (AttributeError)"


def test_enforce_inside_a_handler_uses_the_verified_claims(zone: Zone, authz: Authorizer) -> None:
    caller = authz.authorize(verb("token"), ks.EchoRequest(), zone.device_token())
    assert isinstance(caller.claims, SessionToken)
    authz.check_caller(caller, "read", "obj://sink/bob/a")
    with pytest.raises(NoPermissionError, match="No session token"):
        authz.check_caller(ANONYMOUS, "read", "obj://sink/bob/a")
    with pytest.raises(NoPermissionError, match="resource:obj://sink/carol/a,action:read"):
        authz.check_caller(caller, "read", "obj://sink/carol/a")


def test_yes_and_token_verbs_skip_the_tree(zone: Zone) -> None:
    authz = Authorizer(zone.verifier, BrokenRbac(tail=ZONE_TAIL))  # any RBAC call would fail
    assert authz.authorize(verb(""), ks.EchoRequest(), None) is ANONYMOUS
    assert isinstance(verb("").auth, Yes)
    caller = authz.authorize(verb("check-token"), ks.EchoRequest(), zone.device_token())
    assert caller.user_id == "bob"


def test_a_fault_while_checking_the_caller_is_a_denial(zone: Zone, authz: Authorizer) -> None:
    def broken_session_loa(session: str, api: str) -> int:
        raise OSError("session store gone")

    text = denied(authz, verb("token"), zone.device_token(), session_loa=broken_session_loa)
    assert text == "No permission:ks_probe: cannot check the caller (OSError)"


def test_revocations_are_checked_right_after_the_token_verifies(zone: Zone) -> None:
    revoked = RevocationSet(clock=zone.clock)
    authz = Authorizer(zone.verifier, zone.rbac, revocations=revoked)
    token = zone.user_token()  # bob, app demo, session 7
    assert authz.enforce(token, "read", "obj://sink/bob/x") == ("bob", "demo")
    revoked.replace(Revocations(sessions={"bob_demo_7": NOW + 900}))
    for resource in ("obj://sink/bob/x", "obj://sink/carol/x"):  # before RBAC: same answer
        with pytest.raises(InvalidTokenError) as info:
            authz.enforce(token, "read", resource)
        assert str(info.value) == f"Invalid token: {REVOKED_SESSION}"
    with pytest.raises(InvalidTokenError):
        authz.authorize(verb("token"), ks.EchoRequest(), token)
    with pytest.raises(InvalidTokenError):
        authz.authenticate(verb("token"), token)
    # A verb that needs no token treats a revoked one as none.
    assert authz.authorize(verb("yes"), ks.EchoRequest(), token) is ANONYMOUS
    # Another session of bob, and tokens not issued by verify-hub, are not affected...
    assert authz.enforce(zone.user_token(session=8), "read", "obj://sink/bob/x")[0] == "bob"
    assert authz.enforce(zone.device_token(), "read", "obj://sink/bob/x")[0] == "bob"
    # ...but a user who is not active loses every session.
    revoked.set_user_state("bob", "suspended")
    with pytest.raises(InvalidTokenError, match="user 'bob' is suspended"):
        authz.enforce(zone.user_token(session=8), "read", "obj://sink/bob/x")
    # Without a set nothing is consulted.
    assert Authorizer(zone.verifier, zone.rbac).enforce(token, "read", "obj://sink/bob/x")


def test_a_binding_passes_its_revocations_to_its_authorizer(zone: Zone) -> None:
    revoked = RevocationSet()
    binding = Binding("kitchen-sink", verifier=zone.verifier, rbac=zone.rbac, revocations=revoked)
    try:
        assert binding.authorizer.revocations is revoked
    finally:
        binding.close()
    plain = Binding("kitchen-sink", verifier=zone.verifier, rbac=zone.rbac)
    try:
        assert plain.authorizer.revocations is None
    finally:
        plain.close()
