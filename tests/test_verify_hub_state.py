"""verify-hub's state: the same behaviour on SQLite (one node) and on etcd (a zone of several).

Every ``backend`` test runs against :class:`SessionState` (a real file) and
:class:`EtcdSessionState` (a real etcd on free loopback ports, started once for this module,
each test under a prefix of its own).  "Another node" is a second store object on the same
file or prefix.  Tests of one backend's own matters name it.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from buckyos.runtime.errors import ReasonError
from buckyos.services.verify_hub.etcd_state import EtcdSessionState, EtcdStateError
from buckyos.services.verify_hub.state import (
    Check,
    Reissue,
    SessionState,
    SessionStore,
    StateError,
)
from buckyos.services.verify_hub.throttle import Counts, FailureCounter, LoginThrottle
from tests.etcd import EtcdMember
from tests.verify_hub_fakes import Clock


class Backend:
    """Opens (and opens again, as another node would) one state: a file or an etcd prefix."""

    def __init__(self, kind: str, tmp_path: Path, member: EtcdMember | None) -> None:
        self.kind = kind
        self.path = tmp_path / "state.db"
        self.member = member
        self.prefix = f"/test/{uuid.uuid4().hex}/"
        self.opened: list[SessionStore] = []

    def open(self, clock: Callable[[], float] = time.time) -> SessionStore:
        state: SessionStore
        if self.member is not None:
            state = EtcdSessionState(self.member.url, prefix=self.prefix, clock=clock)
        else:
            state = SessionState(self.path, clock=clock)
        self.opened.append(state)
        return state

    def counter(self, state: SessionStore) -> Counts:
        """The users' failure counts as this backend keeps them."""
        if isinstance(state, EtcdSessionState):
            return state.counter("users")
        return FailureCounter()


@pytest.fixture(params=["sqlite", "etcd"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    member = request.getfixturevalue("etcd_member") if request.param == "etcd" else None
    opened = Backend(request.param, tmp_path, member)
    try:
        yield opened
    finally:
        for state in opened.opened:
            state.close()


def test_rotation_reuse_and_revocation(backend: Backend) -> None:
    state = backend.open()
    exp = int(time.time()) + 100
    state.open_session("alice_app@system_1", "j1", exp)
    assert state.check_refresh("alice_app@system_1", "j1").check is Check.CURRENT
    assert state.rotate("alice_app@system_1", "j1", "j2", exp).check is Check.CURRENT
    row = state.session("alice_app@system_1")
    assert row is not None and (row.refresh_jti, row.generation, row.revoked) == ("j2", 2, False)
    # The old one again (no retry window asked): reuse, and the session is revoked with it.
    assert state.rotate("alice_app@system_1", "j1", "j3", 0).check is Check.REUSED
    assert state.check_refresh("alice_app@system_1", "j2").check is Check.REVOKED
    assert state.check_refresh("nobody_x_1", "j").check is Check.UNKNOWN
    with pytest.raises(ValueError, match="already exists"):
        state.open_session("alice_app@system_1", "j9", 1)
    assert not state.revoke("alice_app@system_1")  # already revoked
    assert not state.revoke("nobody_x_1")


def test_one_time_values_and_login_atomicity(backend: Backend) -> None:
    state = backend.open()
    other = backend.open()  # another node
    exp = int(time.time()) + 60
    assert state.claim("nonce", "alice/1", exp)
    assert not other.claim("nonce", "alice/1", exp)
    assert other.is_used("nonce", "alice/1")
    assert not other.is_used("jti", "alice/1")  # kinds are separate
    assert state.claim_and_open("jti", "alice/j", exp, "k1", "r1", exp)
    # A replay on the other node writes nothing: no second session appears.
    assert not other.claim_and_open("jti", "alice/j", exp, "k2", "r2", exp)
    assert other.session("k2") is None
    # A session key that exists is never overwritten, and the claim is not kept either.
    with pytest.raises(ValueError, match="already exists"):
        other.claim_and_open("jti", "bob/j", exp, "k1", "r3", exp)
    assert not state.is_used("jti", "bob/j")
    assert state.counts() == {"sessions": 1, "used_once": 2}


def test_a_session_opened_on_one_node_is_refreshed_and_revoked_on_another(
    backend: Backend,
) -> None:
    one, two = backend.open(), backend.open()
    exp = int(time.time()) + 1000
    one.open_session("k", "r1", exp)
    assert two.rotate("k", "r1", "r2", exp, session_jti="s2", window=30).check is Check.CURRENT
    retry = one.check_refresh("k", "r1", window=30)  # the answer was lost: same pair
    assert retry.check is Check.RETRY and retry.reissue is not None
    assert retry.reissue.refresh_jti == "r2"
    since = int(time.time()) - 1
    assert one.revoked_since(since) == {}
    assert one.revoke("k")
    assert two.check_refresh("k", "r2").check is Check.REVOKED
    revoked = two.revoked_since(since)
    assert list(revoked) == ["k"] and revoked["k"] >= since
    assert two.revoked_since(int(time.time()) + 10) == {}


def test_retry_window(backend: Backend) -> None:
    clock = Clock()
    state = backend.open(clock)
    exp = int(time.time()) + 1000
    state.open_session("k", "r1", exp)
    issued = int(clock())
    first = state.rotate("k", "r1", "r2", exp, session_jti="s2", issued_at=issued, window=30)
    assert first.check is Check.CURRENT
    for offset in (0.0, 30.0):
        clock.offset = offset
        retry = state.check_refresh("k", "r1", window=30)
        assert (retry.check, retry.reissue) == (Check.RETRY, Reissue("r2", "s2", issued))
    lost = state.rotate("k", "r1", "r9", exp, session_jti="s9", window=30)
    assert (lost.check, lost.reissue) == (Check.RETRY, Reissue("r2", "s2", issued))
    row = state.session("k")
    assert row is not None and (row.refresh_jti, row.generation) == ("r2", 2)
    clock.offset = 0.0
    assert state.rotate("k", "r2", "r3", exp, session_jti="s3", window=30).check is Check.CURRENT
    assert state.check_refresh("k", "r1", window=30).check is Check.REUSED
    assert state.check_refresh("k", "r3", window=30).check is Check.REVOKED
    state.open_session("k2", "a1", exp)
    state.rotate("k2", "a1", "a2", exp, session_jti="b2", issued_at=issued, window=30)
    clock.offset = 31.0
    assert state.check_refresh("k2", "a1", window=30).check is Check.REUSED
    assert state.check_refresh("k2", "a2", window=30).check is Check.REVOKED


def test_concurrent_rotations_of_one_token_on_two_nodes_have_one_winner(
    backend: Backend,
) -> None:
    nodes = [backend.open(), backend.open()]
    exp = int(time.time()) + 1000
    nodes[0].open_session("k", "r0", exp)
    results: list[tuple[str, Any]] = []
    lock = threading.Lock()

    def refresh(n: int) -> None:
        verdict = nodes[n % 2].rotate("k", "r0", f"r{n + 1}", exp, session_jti=f"s{n}", window=30)
        with lock:
            results.append((f"r{n + 1}", verdict))

    threads = [threading.Thread(target=refresh, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(results) == 6
    winners = [new for new, verdict in results if verdict.check is Check.CURRENT]
    assert len(winners) == 1
    row = nodes[1].session("k")
    assert row is not None and (row.refresh_jti, row.generation) == (winners[0], 2)
    # Every loser is answered with the winner's pair (a retry), none revokes the session.
    for new, verdict in results:
        if new != winners[0]:
            assert verdict.check is Check.RETRY and verdict.reissue is not None
            assert verdict.reissue.refresh_jti == winners[0]
    assert not row.revoked


def test_prune_drops_only_what_expired(backend: Backend) -> None:
    clock = Clock()
    state = backend.open(clock)
    now = int(time.time())
    state.open_session("live", "j1", now + 1000)
    state.open_session("old", "j1", now + 10)
    state.claim("jti", "old", now + 10)
    state.claim("jti", "live", now + 1000)
    state.rotate("live", "j1", "j2", now + 1000)
    clock.offset = 100
    assert state.prune() == 2
    assert state.session("old") is None
    row = state.session("live")
    assert row is not None and row.refresh_jti == "j2"
    assert state.is_used("jti", "live") and not state.is_used("jti", "old")


def test_login_counts_are_shared_and_delay_as_on_one_node(backend: Backend) -> None:
    state = backend.open()
    counter = backend.counter(state)
    now = time.time()
    waits = []
    for _ in range(7):
        counter.fail("bob", now)
        waits.append(counter.wait("bob", now))
    assert waits == [0, 0, 0, 0, 1, 2, 4]
    assert counter.wait("bob", now + 3.5) == pytest.approx(0.5)
    assert counter.failures("bob") == 7 and len(counter) == 1
    assert counter.wait("bob", now + 15 * 60 + 1) == 0  # forgotten after 15 minutes
    counter.reset("bob")
    assert counter.failures("bob") == 0
    counter.fail("eve", now)
    counter.clear()
    assert len(counter) == 0


# --------------------------------------------------------------------------- etcd's own


@pytest.fixture
def etcd_backend(etcd_member: EtcdMember, tmp_path: Path) -> Iterator[Backend]:
    opened = Backend("etcd", tmp_path, etcd_member)
    try:
        yield opened
    finally:
        for state in opened.opened:
            state.close()


def _etcd(backend: Backend) -> EtcdSessionState:
    state = backend.open()
    assert isinstance(state, EtcdSessionState)
    return state


def test_etcd_failed_logins_on_two_nodes_add_up(etcd_backend: Backend) -> None:
    one, two = _etcd(etcd_backend), _etcd(etcd_backend)
    throttles = [one.login_throttle(), two.login_throttle()]
    assert all(t.blocking for t in throttles)

    def guess(n: int) -> None:
        for _ in range(5):
            throttles[n].failed("10.0.0.9", "bob")

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # Ten failures, counted on two nodes at once, none lost: the user waits 2**5 capped.
    assert throttles[0].users.failures("bob") == 10
    assert throttles[1].addresses.failures("10.0.0.9") == 10
    with pytest.raises(ReasonError, match="too many failed logins for bob; retry in"):
        throttles[1].check_user("bob")
    throttles[0].succeeded("bob")
    throttles[1].check_user("bob")  # a success on one node clears the user everywhere
    with pytest.raises(ReasonError, match=r"from 10\.0\.0\.9"):
        throttles[1].check_address("10.0.0.9")


def test_etcd_shares_nothing_across_prefixes(etcd_member: EtcdMember, tmp_path: Path) -> None:
    zone_a = Backend("etcd", tmp_path, etcd_member)
    zone_b = Backend("etcd", tmp_path, etcd_member)
    try:
        exp = int(time.time()) + 60
        assert zone_a.open().claim("nonce", "n", exp)
        assert zone_b.open().claim("nonce", "n", exp)
    finally:
        for state in zone_a.opened + zone_b.opened:
            state.close()


class _Lost(grpc.RpcError):
    """The answer of a call that did reach etcd, lost on the way back."""

    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.UNAVAILABLE

    def details(self) -> str:
        return "connection reset (test)"


def _lose_first_answer(state: EtcdSessionState) -> list[int]:
    """Make the next transaction commit but lose its answer; counts the calls."""
    real = state._txn_call
    calls: list[int] = []

    def call(request: Any, **kwargs: Any) -> Any:
        reply = real(request, **kwargs)
        calls.append(1)
        if len(calls) == 1:
            raise _Lost()
        return reply

    state._txn_call = call  # type: ignore[assignment]
    return calls


def test_etcd_an_ambiguous_write_is_resent_as_is_and_applied_once(
    etcd_backend: Backend,
) -> None:
    state = _etcd(etcd_backend)
    exp = int(time.time()) + 100
    state.open_session("k", "r1", exp)
    calls = _lose_first_answer(state)
    # The rotation committed, its answer was lost: the same transaction again fails its
    # compare, the record carries this write's id, so it is reported done: no second
    # rotation, no "reuse" of r1 that would revoke the session.
    verdict = state.rotate("k", "r1", "r2", exp, session_jti="s2", window=30)
    assert verdict.check is Check.CURRENT and len(calls) == 2
    row = state.session("k")
    assert row is not None and (row.refresh_jti, row.generation, row.revoked) == ("r2", 2, False)
    calls = _lose_first_answer(state)
    assert state.claim("nonce", "alice/7", exp)  # claimed once, not "already used"
    assert len(calls) == 2
    assert not state.claim("nonce", "alice/7", exp)


def test_etcd_unreachable_is_a_clear_error(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(EtcdStateError) as info:
        EtcdSessionState(f"http://127.0.0.1:{port}", timeout=0.5, connect_timeout=0.5)
    assert isinstance(info.value, StateError)
    text = str(info.value)
    assert f"etcd at http://127.0.0.1:{port}: cannot read" in text
    assert text.endswith("nothing was changed; retry later")
    with pytest.raises(ValueError, match="give http://HOST:PORT"):
        EtcdSessionState("ftp://127.0.0.1:1")
    with pytest.raises(ValueError, match="https:// etcd endpoints need --etcd-anchors FILE"):
        EtcdSessionState("https://127.0.0.1:1")  # TLS: tests/test_etcd_tls.py


def test_throttle_default_is_in_memory() -> None:
    assert not LoginThrottle().blocking
