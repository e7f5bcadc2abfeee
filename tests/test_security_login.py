"""Login attacks against the real verify-hub (reading users from the real system_config),
over kRPC/HTTP and gRPC: the attacker is bob, a normal user (type ``user``, role ``users``).

Each attack is answered with the text written out here and writes nothing to either SQLite
file (:func:`tests.security_zone.check_refused`); this suite's cases are saved as
``tests/.results/security-login.json``.  The parts are unit-tested in
``tests/test_verify_hub_parts.py`` and ``tests/test_verify_hub_service.py``.
"""

from __future__ import annotations

import http.client
import json
import math
import secrets
import time
import urllib.parse
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import grpc
import pytest

from buckyos.generated import verify_hub_pb2 as pb
from buckyos.generated.verify_hub_rpc import VERIFY_HUB_LOGIN_BY_PASSWORD
from buckyos.runtime.errors import RPCError, error_from_text
from buckyos.runtime.security.keys import Ed25519PrivateKey, did_document, generate_private_key
from buckyos.runtime.security.session_token import decode_unverified
from buckyos.runtime.security.token_signing import make_service_login_jwt, sign_token
from buckyos.services.verify_hub import SessionState, service_of, stored_password_hash
from tests.security_zone import (
    WIRES,
    Case,
    SecurityZone,
    check_refused,
    hub_call,
    only_revoked,
    zone_for,
)
from tests.verify_hub_fakes import login_hash

zone = zone_for("login", "tests/test_security_login.py")

BOB_KEY = generate_private_key()
HUB_ERR = "Failed due to reason: "


# --------------------------------------------------------------------------- the zone, seeded


def _set(zone: SecurityZone, key: str, value: str | None) -> None:
    """Write (or delete, ``None``) a system_config key as the zone owner."""
    with zone.sc_stub("krpc", zone.root) as stub:
        if value is None:
            stub.Delete(key=key)
        else:
            stub.Set(key=key, value=value)


def _settings(user: str, password: str) -> str:
    stored = stored_password_hash(user, password)
    return json.dumps({"user_id": user, "type": "user", "state": "active", "password": stored})


BOB_DOC = json.dumps(did_document("did:bns:bob", BOB_KEY.public_key(), name="bob"))


@pytest.fixture(scope="module", autouse=True)
def _seeded(zone: SecurityZone) -> None:
    # bob gets a DID document (his own signing key), and two accounts an operator should
    # never have made: named like an RBAC role and like a kernel app.
    _set(zone, "users/bob/doc", BOB_DOC)
    _set(zone, "users/users/settings", _settings("users", "users-pw"))
    _set(zone, "users/node-daemon/settings", _settings("node-daemon", "node-daemon-pw"))


@pytest.fixture(autouse=True)
def _fresh(zone: SecurityZone) -> Iterator[None]:
    zone.hub_clock.offset = 0.0
    yield
    zone.hub_clock.offset = 0.0
    service_of(zone.hub_binding).throttle.clear()


# --------------------------------------------------------------------------- helpers

_last_nonce = 0


def nonce(zone: SecurityZone) -> int:
    """A fresh nonce on verify-hub's (possibly moved) clock, never repeated."""
    global _last_nonce
    _last_nonce = max(int(zone.hub_clock() * 1000), _last_nonce + 1)
    return _last_nonce


def pw(
    zone: SecurityZone,
    user: str,
    password: str,
    *,
    app: str = "notes",
    at: int | None = None,
    name: str | None = None,
) -> dict[str, Any]:
    """Password-login params for ``user`` (sent under ``name`` when given)."""
    n = nonce(zone) if at is None else at
    return {
        "username": user if name is None else name,
        "password": login_hash(user, password, n),
        "appid": app,
        "app_instance_id": f"{app}@{user}",
        "login_nonce": n,
    }


def bob_jwt(**claims: Any) -> str:
    body = {
        "iss": "bob",
        "sub": "bob",
        "appid": "notes",
        "jti": secrets.token_hex(8),
        "exp": int(time.time()) + 600,
        **claims,
    }
    return sign_token(body, BOB_KEY, kid="bob")


def gateway_header(
    zone: SecurityZone,
    addr: str,
    *,
    key: Ed25519PrivateKey | None = None,
    device: str = "ood1",
    ttl: int = 120,
) -> str:
    """The ``x-buckyos-client`` JWT a node gateway adds (by default genuinely ood1's)."""
    now = int(zone.hub_clock())
    claims = {"iss": device, "sub": device, "client_addr": addr, "iat": now, "exp": now + ttl}
    return sign_token(claims, zone.device if key is None else key, kid=device)


def login_via(zone: SecurityZone, wire: str, header: str | None, params: dict[str, Any]) -> Any:
    """``login_by_password`` with an ``x-buckyos-client`` header (gRPC: metadata key), as
    the gateway would forward it; errors come back as the client runtime raises them."""
    if wire == "krpc":
        url = urllib.parse.urlsplit(zone.hub_url)
        conn = http.client.HTTPConnection(url.hostname or "", url.port, timeout=10)
        headers = {"Content-Type": "application/json"}
        if header is not None:
            headers["x-buckyos-client"] = header
        try:
            body = {"method": "login_by_password", "params": params, "sys": [1]}
            conn.request("POST", url.path, json.dumps(body).encode(), headers)
            answer = json.loads(conn.getresponse().read())
        finally:
            conn.close()
        if "error" in answer:
            raise error_from_text(answer["error"])
        return answer["result"]
    assert zone.hub.grpc_target is not None
    with grpc.insecure_channel(zone.hub.grpc_target) as channel:
        call = channel.unary_unary(
            VERIFY_HUB_LOGIN_BY_PASSWORD.grpc_path,
            request_serializer=pb.LoginByPasswordRequest.SerializeToString,
            response_deserializer=pb.LoginByPasswordResult.FromString,
        )
        metadata = () if header is None else (("x-buckyos-client", header),)
        try:
            return call(pb.LoginByPasswordRequest(**params), metadata=metadata, timeout=10)
        except grpc.RpcError as err:
            raise error_from_text(err.details() or "") from None


def answer(call: Callable[[], object]) -> str:
    try:
        call()
    except RPCError as err:
        return str(err)
    return "accepted"


def login(zone: SecurityZone, wire: str, verb: str = "LoginByPassword", **params: Any) -> Any:
    return hub_call(zone, wire, verb, **params)


# --------------------------------------------------------------------------- 1. kernel app ids

RESERVED_TEXT = (
    "No permission:app id {!r} is for zone-trusted services (devices) only: a user's own "
    "login may not claim kernel, node-daemon or scheduler"
)
UNIT_APPS = "tests/test_verify_hub_service.py::test_user_logins_may_not_claim_kernel_app_ids"
APP_CASES = [
    (
        Case(
            f"user-login-appid-{app}",
            f"bob's password login claiming app id `{app}`",
            RESERVED_TEXT.format(app),
            UNIT_APPS,
        ),
        "LoginByPassword",
        app,
    )
    for app in ("kernel", "scheduler", "node-daemon")
] + [
    (
        Case(
            "sudo-appid-kernel",
            "bob's `sudo_by_password` claiming app id `kernel`",
            RESERVED_TEXT.format("kernel"),
            UNIT_APPS,
        ),
        "SudoByPassword",
        "kernel",
    ),
    (
        Case(
            "user-jwt-appid-kernel",
            "a login JWT bob signs with his own key (`users/bob/doc`) claiming app id `kernel`",
            RESERVED_TEXT.format("kernel"),
            UNIT_APPS,
        ),
        "LoginByJwt",
        "kernel",
    ),
    (
        Case(
            "user-jwt-appid-scheduler",
            "a login JWT bob signs with his own key claiming app id `scheduler`",
            RESERVED_TEXT.format("scheduler"),
            UNIT_APPS,
        ),
        "LoginByJwt",
        "scheduler",
    ),
]


@pytest.mark.parametrize("wire", WIRES)
def test_user_logins_may_not_claim_kernel_app_ids(zone: SecurityZone, wire: str) -> None:
    for case, verb, app in APP_CASES:
        if verb == "LoginByJwt":
            token = bob_jwt(appid=app)
            check_refused(zone, case, wire, partial(login, zone, wire, verb, jwt=token))
        else:
            params = pw(zone, "bob", "bob-pw", app=app)
            check_refused(zone, case, wire, partial(login, zone, wire, verb, **params))
    # Other kernel-group apps stay open to users (RBAC checks the user there too) ...
    assert login(zone, wire, **pw(zone, "bob", "bob-pw", app="buckycli")).session_token
    assert login(zone, wire, "LoginByJwt", jwt=bob_jwt(appid="buckycli")).session_token
    # ... and the zone owner and devices may still claim the reserved ones.
    owner = sign_token(
        {"iss": "root", "sub": "bob", "appid": "kernel", "jti": secrets.token_hex(8),
         "exp": int(time.time()) + 600},
        zone.owner,
        kid="root",
    )  # fmt: skip
    assert login(zone, wire, "LoginByJwt", jwt=owner).session_token
    device = make_service_login_jwt(
        zone.device, device_name="ood1", subject="ood1", app_id="node-daemon"
    )
    claims = decode_unverified(login(zone, wire, "LoginByJwt", jwt=device).session_token)[1]
    assert (claims["appid"], claims["principal_kind"]) == ("node-daemon", "device")


# --------------------------------------------------------------------------- 3. signing for others

FOR_OTHER = (
    "No permission:a user signs login JWTs only for itself: 'bob' cannot sign for {!r} "
    "(only the zone owner or a zone device signs for another subject)"
)
UNIT_SUB = "tests/test_verify_hub_service.py::test_a_user_signs_login_jwts_only_for_itself"
SUB_CASES = [
    Case(
        f"user-jwt-sub-{sub}",
        f"bob signs a login JWT with his own key for `sub: {sub}` (app `buckycli`)",
        FOR_OTHER.format(sub),
        UNIT_SUB,
    )
    for sub in ("admin", "ood1", "kernel", "alice")
]
RESERVED_NAME = (
    "No permission:{!r} is a reserved RBAC name (a role, a system app id or a sudo subject), "
    "not a user name: verify-hub issues no user session for it"
)
NAME_CASES = [
    Case(
        f"reserved-user-name-{name}",
        f"password login of an account an operator named `{name}` (an RBAC "
        f"{'role' if name == 'users' else 'kernel app id'})",
        RESERVED_NAME.format(name),
        UNIT_SUB,
    )
    for name in ("users", "node-daemon")
]


@pytest.mark.parametrize("wire", WIRES)
def test_a_user_signs_login_jwts_only_for_itself(zone: SecurityZone, wire: str) -> None:
    for case, sub in zip(SUB_CASES, ("admin", "ood1", "kernel", "alice"), strict=True):
        token = bob_jwt(sub=sub, appid="buckycli")
        check_refused(zone, case, wire, partial(login, zone, wire, "LoginByJwt", jwt=token))
    for case, name in zip(NAME_CASES, ("users", "node-daemon"), strict=True):
        params = pw(zone, name, f"{name}-pw")
        check_refused(zone, case, wire, partial(login, zone, wire, **params))
    pair = login(zone, wire, "LoginByJwt", jwt=bob_jwt(appid="buckycli"))
    assert decode_unverified(pair.session_token)[1]["sub"] == "bob"


# --------------------------------------------------------------------------- 6. respelled names

BAD_NAME = (
    "Failed due to reason: invalid user name {}: a name is one key segment of at most 128 "
    "characters, without '/', '\\', whitespace or control characters, and not '.' or '..'"
)
SPELLINGS = ("bob\\", "\\bob", "x\\..\\bob", "bob\u200b")
RESPELL_CASES = [
    Case(
        f"respelled-name-{i}",
        f"bob's used password proof replayed under the name {name!r} (system_config would "
        "read bob's settings under it)",
        BAD_NAME.format(repr(name)),
        "tests/test_verify_hub_parts.py::test_names_must_be_one_key_segment",
    )
    for i, name in enumerate(SPELLINGS, 1)
]


@pytest.mark.parametrize("wire", WIRES)
def test_a_respelled_user_name_cannot_replay_a_proof(zone: SecurityZone, wire: str) -> None:
    params = pw(zone, "bob", "bob-pw")
    assert login(zone, wire, **params).session_token
    assert answer(partial(login, zone, wire, **params)) == HUB_ERR + "Login nonce already used"
    for case, name in zip(RESPELL_CASES, SPELLINGS, strict=True):
        replay = {**params, "username": name}
        check_refused(zone, case, wire, partial(login, zone, wire, **replay))


# --------------------------------------------------------------------------- 7. brute force

USER_THROTTLED = Case(
    "guess-per-user",
    "bob's password guessed from 5 addresses (via the gateway), then the right one from a "
    "6th, at once",
    HUB_ERR + "too many failed logins for bob; retry in 1 s",
    "tests/test_verify_hub_parts.py::test_failure_counter_delays_forgets_and_stays_bounded",
)
ADDRESS_THROTTLED = Case(
    "guess-per-address",
    "5 unknown user names tried from 127.0.0.1, then alice's right password from there",
    HUB_ERR + "too many failed logins from 127.0.0.1; retry in 1 s",
    "tests/test_verify_hub_parts.py::test_failure_counter_delays_forgets_and_stays_bounded",
)
RAPID = Case(
    "guess-rapid",
    "30 wrong passwords for bob from one address as fast as they go, then the right one",
    HUB_ERR + "too many failed logins from 127.0.0.1; retry in 1 s",
)
FORGED_FORWARD = Case(
    "forged-x-buckyos-client",
    "while 127.0.0.1 is throttled, `x-buckyos-client` claiming 10.9.9.9, signed by a key "
    "that is no device's (kid `ood1`)",
    HUB_ERR + "too many failed logins from 127.0.0.1; retry in 1 s",
    "tests/test_verify_hub_service.py::test_forwarded_client_is_believed_only_from_a_device",
)
USER_FORWARD = Case(
    "user-signed-x-buckyos-client",
    "the same, `x-buckyos-client` signed by bob's own key (iss/kid `bob`)",
    HUB_ERR + "too many failed logins from 127.0.0.1; retry in 1 s",
    "tests/test_verify_hub_service.py::test_forwarded_client_is_believed_only_from_a_device",
)
EXPIRED_FORWARD = Case(
    "expired-x-buckyos-client",
    "the same, a genuine `x-buckyos-client` of ood1 expired 61 s ago",
    HUB_ERR + "too many failed logins from 127.0.0.1; retry in 1 s",
)


@pytest.mark.parametrize("wire", WIRES)
def test_password_guesses_slow_down_per_user(zone: SecurityZone, wire: str) -> None:
    # Each guess from another address (as the gateway vouches): only bob's count stops him.
    for i in range(5):
        params = pw(zone, "bob", f"guess-{i}")
        header = gateway_header(zone, f"10.0.0.{i + 1}")
        assert answer(partial(login_via, zone, wire, header, params)) == "Invalid password"
    right = pw(zone, "bob", "bob-pw")
    header = gateway_header(zone, "10.0.0.6")
    check_refused(zone, USER_THROTTLED, wire, lambda: login_via(zone, wire, header, right))
    # One second later the next guess is answered; after it the wait doubles.
    zone.hub_clock.offset += 1.0
    wrong = pw(zone, "bob", "guess-6")
    assert answer(lambda: login_via(zone, wire, header, wrong)) == "Invalid password"
    right = pw(zone, "bob", "bob-pw")
    assert answer(lambda: login_via(zone, wire, header, right)).startswith(
        HUB_ERR + "too many failed logins for bob; retry in "
    )
    # Once the wait is over the right password works, and clears bob's count.
    zone.hub_clock.offset += 2.0
    assert login_via(zone, wire, header, pw(zone, "bob", "bob-pw"))
    wrong = pw(zone, "bob", "guess-7")
    assert answer(lambda: login_via(zone, wire, header, wrong)) == "Invalid password"
    assert login_via(zone, wire, header, pw(zone, "bob", "bob-pw"))


@pytest.mark.parametrize("wire", WIRES)
def test_password_guesses_slow_down_per_address(zone: SecurityZone, wire: str) -> None:
    for i in range(5):
        params = pw(zone, f"nobody{i}", "x")
        assert answer(partial(login, zone, wire, **params)) == f"User Not Found:nobody{i}"
    right = pw(zone, "alice", "alice-pw")
    check_refused(zone, ADDRESS_THROTTLED, wire, lambda: login(zone, wire, **right))
    # A header the gateway did not sign is not believed: the peer is counted.
    for case, header in (
        (FORGED_FORWARD, gateway_header(zone, "10.9.9.9", key=zone.stranger)),
        (USER_FORWARD, gateway_header(zone, "10.9.9.9", key=BOB_KEY, device="bob")),
        (EXPIRED_FORWARD, gateway_header(zone, "10.9.9.9", ttl=-61)),
    ):
        params = pw(zone, "alice", "alice-pw")
        check_refused(zone, case, wire, partial(login_via, zone, wire, header, params))
    # ood1's genuine header is believed: alice behind the gateway is another address.
    header = gateway_header(zone, "10.1.2.3")
    assert login_via(zone, wire, header, pw(zone, "alice", "alice-pw"))
    zone.hub_clock.offset += 1.0
    assert login(zone, wire, **pw(zone, "alice", "alice-pw")).session_token


@pytest.mark.parametrize("wire", WIRES)
def test_rapid_guessing_is_refused_fast(zone: SecurityZone, wire: str) -> None:
    answers = [answer(partial(login, zone, wire, **pw(zone, "bob", f"g{i}"))) for i in range(30)]
    assert answers[:5] == ["Invalid password"] * 5
    assert all(a.startswith(HUB_ERR + "too many failed logins from 127.0.0.1") for a in answers[5:])
    right = pw(zone, "bob", "bob-pw")
    check_refused(zone, RAPID, wire, lambda: login(zone, wire, **right))


@pytest.mark.parametrize("wire", WIRES)
def test_parallel_guesses_are_counted_as_they_come(zone: SecurityZone, wire: str) -> None:
    # 40 at once: each is checked against the failures answered before it (no await
    # between the check, the comparison and the count), so only 5 get an answer.
    def guess(i: int) -> str:
        return answer(partial(login, zone, wire, **pw(zone, f"nobody-{i}", "x")))

    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(guess, range(40)))
    assert sum(a.startswith("User Not Found:") for a in answers) == 5
    assert sum(
        a.startswith(HUB_ERR + "too many failed logins from 127.0.0.1") for a in answers
    ) == (35)


# --------------------------------------------------------------------------- 11. refresh retry

REUSE_AFTER_WINDOW = Case(
    "refresh-retry-after-window",
    "a refresh token presented again 31 s after it was traded (the retry window is 30 s)",
    HUB_ERR + "Invalid refresh token jti",
    "tests/test_verify_hub_parts.py::test_state_retry_window",
    store="session revoked (by design); nothing else",
)
REUSE_TWO_BACK = Case(
    "refresh-reuse-two-back",
    "a refresh token two rotations old, presented within 30 s",
    HUB_ERR + "Invalid refresh token jti",
    "tests/test_verify_hub_parts.py::test_state_retry_window",
    store="session revoked (by design); nothing else",
)


@pytest.mark.parametrize("wire", WIRES)
def test_a_lost_refresh_answer_can_be_retried(zone: SecurityZone, wire: str) -> None:
    first = login(zone, wire, **pw(zone, "alice", "alice-pw"))
    second = hub_call(zone, wire, "RefreshToken", refresh_token=first.refresh_token)
    # The answer was lost: the client sends the same refresh token again, and again.
    for _ in range(2):
        again = hub_call(zone, wire, "RefreshToken", refresh_token=first.refresh_token)
        assert (again.session_token, again.refresh_token) == (
            second.session_token,
            second.refresh_token,
        )
    hub_call(zone, wire, "VerifyToken", session_token=second.session_token)
    third = hub_call(zone, wire, "RefreshToken", refresh_token=second.refresh_token)
    hub_call(zone, wire, "VerifyToken", session_token=third.session_token)
    # A client that sends one refresh twice at once (two tabs) gets one pair, not a revoked
    # session: whichever rotation loses is answered with the winner's pair.
    pair = login(zone, wire, **pw(zone, "alice", "alice-pw"))

    def refresh(_: int) -> tuple[str, str]:
        new = hub_call(zone, wire, "RefreshToken", refresh_token=pair.refresh_token)
        return new.session_token, new.refresh_token

    with ThreadPoolExecutor(8) as pool:
        assert len(set(pool.map(refresh, range(16)))) == 1
    # Two rotations back is no lost answer: the session ends.
    check_refused(
        zone,
        REUSE_TWO_BACK,
        wire,
        lambda: hub_call(zone, wire, "RefreshToken", refresh_token=first.refresh_token),
        allowed_change=only_revoked,
    )
    # After the window, the token traded last is a theft too.
    pair = login(zone, wire, **pw(zone, "alice", "alice-pw"))
    newer = hub_call(zone, wire, "RefreshToken", refresh_token=pair.refresh_token)
    zone.hub_clock.offset = 31.0
    check_refused(
        zone,
        REUSE_AFTER_WINDOW,
        wire,
        lambda: hub_call(zone, wire, "RefreshToken", refresh_token=pair.refresh_token),
        allowed_change=only_revoked,
    )
    assert answer(
        lambda: hub_call(zone, wire, "RefreshToken", refresh_token=newer.refresh_token)
    ) == (HUB_ERR + "Refresh token not found or already invalidated")


# --------------------------------------------------------------------------- 12. exp, full disk

FAR_EXP = (
    HUB_ERR + "login JWT expires too far ahead: its exp is more than 3600 s after "
    "verify-hub's clock; sign login JWTs that expire within 1 hour (upstream signs them for "
    "900 s, 1200 s for a service)"
)
EXP_CASES = [
    Case("login-jwt-exp-2^63", "bob's login JWT with `exp` 2^63", FAR_EXP,
         "tests/test_verify_hub_service.py::test_login_jwt_lifetime_is_capped"),
    Case("login-jwt-exp-100y", "bob's login JWT expiring in 100 years", FAR_EXP,
         "tests/test_verify_hub_service.py::test_login_jwt_lifetime_is_capped"),
]  # fmt: skip
DISK_FULL = Case(
    "state-disk-full",
    "a password login while verify-hub's state cannot grow (SQLite max_page_count reached)",
    HUB_ERR + "verify-hub cannot write its state (database or disk is full): nothing was "
    "changed; retry later",
    "tests/test_verify_hub_parts.py::test_state_full_disk_is_a_clear_error_and_writes_nothing",
)


@pytest.mark.parametrize("wire", WIRES)
def test_login_jwt_lifetime_is_capped(zone: SecurityZone, wire: str) -> None:
    for case, exp in zip(EXP_CASES, (2**63, int(time.time()) + 100 * 365 * 86400), strict=True):
        token = bob_jwt(exp=exp)
        check_refused(zone, case, wire, partial(login, zone, wire, "LoginByJwt", jwt=token))
    assert login(zone, wire, "LoginByJwt", jwt=bob_jwt(exp=int(time.time()) + 3000))


@pytest.mark.parametrize("wire", WIRES)
def test_a_full_state_is_a_clear_answer_and_writes_nothing(zone: SecurityZone, wire: str) -> None:
    state = service_of(zone.hub_binding).state
    assert isinstance(state, SessionState)  # the zone's verify-hub keeps its state in SQLite
    before = login(zone, wire, **pw(zone, "alice", "alice-pw"))
    conn = state._conn  # the service's own connection: the cap is per connection
    # A prune (every 60 s, run by the next write) frees expired rows' space: one landing
    # between the refusals below let a login through in CI.  Prune now, then hold it off.
    state.prune()
    with state._lock:
        state._last_prune = math.inf
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count={pages}")

    def fill() -> None:
        # Logins fill the free space of the file's pages: one whose rows need a new page
        # fails.  A later one may still fit (a session row lands in whichever B-tree leaf
        # its random key sorts into, and a leaf may have room): so fill until 20 logins
        # in a row are refused, each refusal with the exact text, at most 2,000 tries.
        refused = 0
        for _ in range(2000):
            text = answer(lambda: login(zone, wire, **pw(zone, "alice", "alice-pw")))
            if text == "accepted":
                refused = 0
                continue
            assert text == DISK_FULL.expected
            refused += 1
            if refused == 20:
                return
        raise AssertionError("the capped state never refused 20 logins in a row")

    try:
        fill()
        check_refused(
            zone, DISK_FULL, wire, lambda: login(zone, wire, **pw(zone, "alice", "alice-pw"))
        )
        # Everything that only reads still answers, and writes are still refused.
        hub_call(zone, wire, "VerifyToken", session_token=before.session_token)
        fill()
    finally:
        with state._lock:
            conn.execute("PRAGMA max_page_count=1073741823")
            state._last_prune = 0.0
    assert login(zone, wire, **pw(zone, "alice", "alice-pw")).session_token
    assert hub_call(zone, wire, "RefreshToken", refresh_token=before.refresh_token)


# --------------------------------------------------------------------------- 15, 17

JWT_REPLAY_KEY_GONE = Case(
    "login-jwt-replay-signer-gone",
    "bob's used login JWT replayed after his key (`users/bob/doc`) was removed",
    HUB_ERR + "Login JWT already used",
    "tests/test_verify_hub_parts.py::test_replays_are_refused_before_the_directory_is_read",
)
NONCE_REPLAY_USER_GONE = Case(
    "password-replay-user-gone",
    "a used password proof replayed after the user's settings were removed",
    HUB_ERR + "Login nonce already used",
    "tests/test_verify_hub_parts.py::test_replays_are_refused_before_the_directory_is_read",
)


def test_state_is_fsynced_at_each_commit(zone: SecurityZone) -> None:
    state = service_of(zone.hub_binding).state
    assert isinstance(state, SessionState)  # the zone's verify-hub keeps its state in SQLite
    assert state.pragma("synchronous") == 2  # FULL: an answered login survives power loss
    assert state.pragma("journal_mode") == "wal"


@pytest.mark.parametrize("wire", WIRES)
def test_replays_are_refused_before_the_signer_is_looked_up(zone: SecurityZone, wire: str) -> None:
    token = bob_jwt()
    assert login(zone, wire, "LoginByJwt", jwt=token).session_token
    params = pw(zone, "carol", "carol-pw")
    _set(zone, "users/carol/settings", _settings("carol", "carol-pw"))
    assert login(zone, wire, **params).session_token
    _set(zone, "users/carol/settings", None)
    check_refused(zone, NONCE_REPLAY_USER_GONE, wire, partial(login, zone, wire, **params))
    _set(zone, "users/bob/doc", None)
    zone.hub_clock.offset = 31.0  # past verify-hub's 30 s key cache
    try:
        check_refused(
            zone, JWT_REPLAY_KEY_GONE, wire, partial(login, zone, wire, "LoginByJwt", jwt=token)
        )
    finally:
        _set(zone, "users/bob/doc", BOB_DOC)
