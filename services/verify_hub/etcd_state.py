"""verify-hub's state on etcd, shared by every verify-hub of a zone of several nodes.

The same :class:`~.state.SessionStore` as the SQLite :class:`~.state.SessionState` (the
behaviour tests run on both), so any instance refreshes, retries or revokes any session,
and a used nonce or login JWT is used for all.  With it come the login back-off counters
(:class:`EtcdFailureCounter`), so switching nodes does not reset them.

Keys, under ``prefix`` (default ``/buckyos/verify_hub/``), each a JSON object with
``exp`` (unix seconds after which it may be pruned) and ``w`` (the id of the write that
put it):

- ``s/<session key>``: a session: ``r`` the live refresh ``jti``, ``g`` its generation,
  ``rev`` when revoked (else absent), and the last rotation (``pj``, ``ra``, ``sj``) that
  a retry within the window re-signs;
- ``r/<session key>``: the revoked-session set (``at``), written in the same transaction
  as the revocation, read by :meth:`EtcdSessionState.revoked_since` without a scan of
  every session;
- ``o/<kind>/<key>``: a used login JWT id (``jti``) or password nonce (``nonce``);
- ``t/<table>/<key>``: a login back-off count (``n`` failures, the last at ``at``).

**Every change is one etcd transaction with compares** (``mod_revision`` of each record
as read, ``0`` for "absent": create-if-absent): a claim of a nonce, a login (claim and
open in one), a rotation (compare on the session's record: two nodes rotating the same
token, one wins and the other gets the winner's pair, as on one node), a revocation, a
failure count.  A failed compare means another node came first: the record is read again
and judged again (bounded).  Reads are linearizable ``Range`` calls (etcd's leader
answers), so a node sees what another node committed before it.

**An ambiguous failure** (deadline, unavailable) is never retried as a fresh write: the
*same* transaction is sent again, whose compares let it commit at most once.  If it then
fails its compares, the record read back tells whether the first attempt committed (it
carries this write's id); if not, the change is judged again from the record as it is now,
which is what a compare failure means anyway.  When etcd stays unreachable the verb fails
with :class:`EtcdStateError` ("retry later"), never half-applied.

**Expiry**: no leases (one more round trip per write, and a lost lease would drop a
session early); each record has ``exp`` and :meth:`EtcdSessionState.prune` (every 60 s,
from writes, on whichever node writes) deletes expired ones, each delete compared on the
record's ``mod_revision`` so a record rewritten meanwhile stays.  As in SQLite, a value is
"used" until pruned.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import grpc

from buckyos.runtime import ReasonError

from ..etcd_calls import (
    AMBIGUOUS as _AMBIGUOUS,
    CHANNEL_OPTIONS,
    EtcdTls,
    attempt_timeout,
    code_name as _code_name,
    details as _details,
    open_channel,
    parse_endpoints,
    prefix_end as _prefix_end,
)
from ..system_config.etcd_api import rpc_pb2
from .state import Check, SessionRow, StateError, Verdict, judge
from .throttle import FailureCounter, LoginThrottle

__all__ = [
    "DEFAULT_PREFIX",
    "EtcdFailureCounter",
    "EtcdSessionState",
    "EtcdStateError",
]

_log = logging.getLogger("buckyos.services.verify_hub.etcd_state")

DEFAULT_PREFIX: Final = "/buckyos/verify_hub/"
_ATTEMPTS: Final = 32  # compare failures (another node came first) before giving up
_PRUNE_EVERY: Final = 60.0
_PRUNE_BATCH: Final = 60  # deletes (and as many compares) per txn, below --max-txn-ops 128

_MOD: Final = rpc_pb2.Compare.CompareTarget.MOD
_EQUAL: Final = rpc_pb2.Compare.CompareResult.EQUAL


class EtcdStateError(StateError):
    """etcd did not answer or refused: nothing was changed, or (said so) it is not known."""

    def __init__(self, text: str) -> None:
        ReasonError.__init__(self, text)


@dataclass(slots=True)
class _Record:
    value: dict[str, Any]
    mod_revision: int


class EtcdSessionState:
    """verify-hub's :class:`~.state.SessionStore` on an etcd cluster.

    ``endpoints``: ``http://HOST:PORT`` client URLs (a list, or comma-separated text);
    ``https://`` ones with ``tls`` (:func:`~buckyos.services.etcd_calls.etcd_tls`).
    ``prefix``: where the keys live (verify-hubs of one zone share it).  ``timeout``: each
    etcd call's deadline; ``clock`` unix seconds (injectable for tests).
    """

    def __init__(
        self,
        endpoints: Sequence[str] | str,
        *,
        prefix: str = DEFAULT_PREFIX,
        timeout: float = 5.0,
        connect_timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
        tls: EtcdTls | None = None,
    ) -> None:
        self.endpoints = parse_endpoints(endpoints)
        if not prefix.endswith("/"):
            prefix += "/"
        self.prefix = prefix
        self._p = prefix.encode("utf-8")
        self.timeout = timeout
        self._clock = clock
        self._last_prune = 0.0
        self._prune_lock = threading.Lock()
        self._channel = open_channel(self.endpoints, CHANNEL_OPTIONS, tls)
        self._range_call = self._channel.unary_unary(
            "/etcdserverpb.KV/Range",
            request_serializer=rpc_pb2.RangeRequest.SerializeToString,
            response_deserializer=rpc_pb2.RangeResponse.FromString,
        )
        self._txn_call = self._channel.unary_unary(
            "/etcdserverpb.KV/Txn",
            request_serializer=rpc_pb2.TxnRequest.SerializeToString,
            response_deserializer=rpc_pb2.TxnResponse.FromString,
        )
        try:  # fail at start, with the endpoints, rather than at the first login
            self._range(rpc_pb2.RangeRequest(key=self._p + b"s/", count_only=True), connect_timeout)
        except BaseException:
            self._channel.close()
            raise

    def __repr__(self) -> str:
        return f"<EtcdSessionState {','.join(self.endpoints)} {self.prefix}>"

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> EtcdSessionState:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- etcd calls ----------------------------------------------------------------------------

    def _now(self) -> int:
        return int(self._clock())

    def _failed(self, exc: grpc.RpcError, what: str) -> EtcdStateError:
        return EtcdStateError(
            f"verify-hub's state in etcd at {','.join(self.endpoints)}: cannot {what} "
            f"({_code_name(exc)}: {_details(exc)}): nothing was changed; retry later"
        )

    def _range(
        self, request: rpc_pb2.RangeRequest, timeout: float | None = None
    ) -> rpc_pb2.RangeResponse:
        try:
            reply: rpc_pb2.RangeResponse = self._range_call(
                request, timeout=timeout or self.timeout, wait_for_ready=True
            )
        except grpc.RpcError as exc:
            raise self._failed(exc, "read") from None
        return reply

    def _key(self, *parts: str) -> bytes:
        return self._p + "/".join(parts).encode("utf-8")

    def _get(self, key: bytes) -> _Record | None:
        reply = self._range(rpc_pb2.RangeRequest(key=key))
        if not reply.kvs:
            return None
        kv = reply.kvs[0]
        return _Record(json.loads(kv.value), kv.mod_revision)

    def _scan(self, prefix: bytes) -> list[tuple[bytes, _Record]]:
        """Every record under ``prefix``, read at one revision, in pages."""
        found: list[tuple[bytes, _Record]] = []
        start, end, revision = prefix, _prefix_end(prefix), 0
        while True:
            reply = self._range(
                rpc_pb2.RangeRequest(key=start, range_end=end, limit=500, revision=revision)
            )
            revision = revision or reply.header.revision
            for kv in reply.kvs:
                found.append((kv.key, _Record(json.loads(kv.value), kv.mod_revision)))
            if not reply.more or not reply.kvs:
                return found
            start = reply.kvs[-1].key + b"\x00"

    @staticmethod
    def _same(key: bytes, mod_revision: int) -> rpc_pb2.Compare:
        """The record is as read (``0``: still absent)."""
        return rpc_pb2.Compare(key=key, target=_MOD, result=_EQUAL, mod_revision=mod_revision)

    @staticmethod
    def _put(key: bytes, value: dict[str, Any]) -> rpc_pb2.RequestOp:
        data = json.dumps(value, separators=(",", ":")).encode("utf-8")
        return rpc_pb2.RequestOp(request_put=rpc_pb2.PutRequest(key=key, value=data))

    @staticmethod
    def _delete(key: bytes) -> rpc_pb2.RequestOp:
        return rpc_pb2.RequestOp(request_delete_range=rpc_pb2.DeleteRangeRequest(key=key))

    def _commit(
        self,
        compares: list[rpc_pb2.Compare],
        ops: list[rpc_pb2.RequestOp],
        *,
        mine: bytes,
        write_id: str,
        what: str,
    ) -> bool:
        """One transaction: ``True`` committed, ``False`` a compare failed (another
        writer came first: read again and judge again).

        A deadline or an unavailable member sends the *same* transaction again (its
        compares let it commit at most once); if that one fails its compares, record
        ``mine`` says whether the first attempt committed (it carries ``write_id``).  Each
        attempt is short (``etcd_calls.attempt_timeout``): a leader's death stalls a write
        for the election, not for the member's request timeout."""
        request = rpc_pb2.TxnRequest(compare=compares, success=ops)
        deadline = time.monotonic() + self.timeout * 3
        ambiguous: grpc.RpcError | None = None
        while True:
            try:
                reply: rpc_pb2.TxnResponse = self._txn_call(
                    request,
                    timeout=attempt_timeout(self.timeout, ambiguous is not None),
                    wait_for_ready=True,
                )
            except grpc.RpcError as exc:
                if exc.code() not in _AMBIGUOUS:
                    raise self._failed(exc, what) from None
                ambiguous = exc
                if time.monotonic() < deadline:
                    time.sleep(0.1)
                    continue
                raise EtcdStateError(
                    f"verify-hub could not {what} in etcd at {','.join(self.endpoints)} "
                    f"({_code_name(exc)}): it may or may not have been applied; retry later"
                ) from None
            if reply.succeeded:
                return True
            if ambiguous is None:
                return False
            record = self._get(mine)
            return record is not None and record.value.get("w") == write_id

    # -- pruning -----------------------------------------------------------------------------

    def _maybe_prune(self) -> None:
        now = self._clock()
        if now - self._last_prune < _PRUNE_EVERY or not self._prune_lock.acquire(blocking=False):
            return
        try:
            self._last_prune = now
            self._prune(int(now))
        except StateError as err:  # the next write tries again; the write itself goes on
            _log.warning("pruning verify-hub state in etcd failed: %s", err)
        finally:
            self._prune_lock.release()

    def _prune(self, now: int) -> int:
        gone = 0
        for part in ("s/", "r/", "o/", "t/"):
            expired = [
                (key, record)
                for key, record in self._scan(self._p + part.encode())
                if int(record.value.get("exp", 0)) < now
            ]
            for start in range(0, len(expired), _PRUNE_BATCH):
                batch = expired[start : start + _PRUNE_BATCH]
                request = rpc_pb2.TxnRequest(
                    compare=[self._same(key, record.mod_revision) for key, record in batch],
                    success=[self._delete(key) for key, _ in batch],
                )
                try:
                    reply = self._txn_call(request, timeout=self.timeout, wait_for_ready=True)
                except grpc.RpcError as exc:  # deletes: sending them again is harmless
                    raise self._failed(exc, "prune") from None
                if reply.succeeded:
                    gone += len(batch)
                # else: one of them was rewritten meanwhile; the next prune sees it again
        return gone

    def prune(self) -> int:
        """Drop expired sessions, one-time values and counts now; how many records went."""
        with self._prune_lock:
            self._last_prune = self._clock()
            return self._prune(self._now())

    # -- one-time values -----------------------------------------------------------------------

    def is_used(self, kind: str, key: str) -> bool:
        return self._get(self._key("o", kind, key)) is not None

    def claim(self, kind: str, key: str, expires_at: int) -> bool:
        self._maybe_prune()
        record = self._key("o", kind, key)
        write_id = secrets.token_hex(8)
        return self._commit(
            [self._same(record, 0)],
            [self._put(record, {"exp": expires_at, "w": write_id})],
            mine=record,
            write_id=write_id,
            what=f"claim {kind} {key}",
        )

    def claim_and_open(
        self,
        kind: str,
        key: str,
        used_until: int,
        session_key: str,
        refresh_jti: str,
        refresh_expires_at: int,
    ) -> bool:
        self._maybe_prune()
        used = self._key("o", kind, key)
        session = self._key("s", session_key)
        write_id = secrets.token_hex(8)
        if self._commit(
            [self._same(used, 0), self._same(session, 0)],
            [
                self._put(used, {"exp": used_until, "w": write_id}),
                self._put(session, _new_session(refresh_jti, refresh_expires_at, write_id)),
            ],
            mine=used,
            write_id=write_id,
            what=f"open session {session_key}",
        ):
            return True
        if self._get(used) is not None:
            return False
        raise ValueError(f"session {session_key} already exists")

    # -- sessions ------------------------------------------------------------------------------

    def open_session(self, session_key: str, refresh_jti: str, expires_at: int) -> None:
        self._maybe_prune()
        session = self._key("s", session_key)
        write_id = secrets.token_hex(8)
        if not self._commit(
            [self._same(session, 0)],
            [self._put(session, _new_session(refresh_jti, expires_at, write_id))],
            mine=session,
            write_id=write_id,
            what=f"open session {session_key}",
        ):
            # Session ids are random or single-use nonces: a clash is a bug or an attack.
            raise ValueError(f"session {session_key} already exists")

    def session(self, session_key: str) -> SessionRow | None:
        record = self._get(self._key("s", session_key))
        if record is None:
            return None
        v = record.value
        return SessionRow(session_key, v["r"], int(v["g"]), int(v["exp"]), v.get("rev"))

    def _revoke_ops(
        self, session_key: str, value: dict[str, Any], now: int
    ) -> list[rpc_pb2.RequestOp]:
        """Mark the session revoked and add it to the revoked set (one transaction)."""
        value["rev"] = now
        return [
            self._put(self._key("s", session_key), value),
            self._put(
                self._key("r", session_key), {"at": now, "exp": value["exp"], "w": value["w"]}
            ),
        ]

    def _change(
        self,
        session_key: str,
        jti: str,
        window: int,
        then: Callable[[dict[str, Any], int], list[rpc_pb2.RequestOp]] | None,
        what: str,
    ) -> Verdict:
        """Judge ``jti`` and write what follows (a reuse revokes; ``then`` builds a
        rotation's ops when ``CURRENT``) in one compared transaction, judged again when
        another node changed the session meanwhile."""
        key = self._key("s", session_key)
        for _ in range(_ATTEMPTS):
            record = self._get(key)
            if record is None:
                return Verdict(Check.UNKNOWN)
            v = record.value
            now = self._now()
            verdict = judge(
                jti,
                refresh_jti=v["r"],
                revoked_at=v.get("rev"),
                prev_jti=v.get("pj"),
                rotated_at=v.get("ra"),
                session_jti=v.get("sj"),
                now=now,
                window=window,
            )
            write_id = secrets.token_hex(8)
            value = dict(v, w=write_id)
            if verdict.check is Check.REUSED:
                ops = self._revoke_ops(session_key, value, now)
            elif verdict.check is Check.CURRENT and then is not None:
                ops = then(value, now)
            else:
                return verdict
            if self._commit(
                [self._same(key, record.mod_revision)],
                ops,
                mine=key,
                write_id=write_id,
                what=f"{what} session {session_key}",
            ):
                return verdict
        raise EtcdStateError(
            f"verify-hub could not {what} session {session_key}: it changed {_ATTEMPTS} times "
            "while being written; retry later"
        )

    def check_refresh(self, session_key: str, jti: str, *, window: int = 0) -> Verdict:
        return self._change(session_key, jti, window, None, "check")

    def rotate(
        self,
        session_key: str,
        old_jti: str,
        new_jti: str,
        expires_at: int,
        *,
        session_jti: str | None = None,
        issued_at: int | None = None,
        window: int = 0,
    ) -> Verdict:
        self._maybe_prune()

        def rotation(value: dict[str, Any], now: int) -> list[rpc_pb2.RequestOp]:
            value.update(
                r=new_jti,
                g=int(value["g"]) + 1,
                exp=expires_at,
                pj=old_jti,
                ra=now if issued_at is None else issued_at,
                sj=session_jti,
            )
            return [self._put(self._key("s", session_key), value)]

        return self._change(session_key, old_jti, window, rotation, "rotate")

    def revoke(self, session_key: str) -> bool:
        key = self._key("s", session_key)
        for _ in range(_ATTEMPTS):
            record = self._get(key)
            if record is None or record.value.get("rev") is not None:
                return False
            write_id = secrets.token_hex(8)
            value = dict(record.value, w=write_id)
            if self._commit(
                [self._same(key, record.mod_revision)],
                self._revoke_ops(session_key, value, self._now()),
                mine=key,
                write_id=write_id,
                what=f"revoke session {session_key}",
            ):
                return True
        raise EtcdStateError(
            f"verify-hub could not revoke session {session_key}: it changed {_ATTEMPTS} "
            "times while being written; retry later"
        )

    def revoked_since(self, since: int) -> dict[str, int]:
        start = len(self._p) + 2
        found = {}
        for key, record in self._scan(self._p + b"r/"):
            at = int(record.value["at"])
            if at >= since:
                found[key[start:].decode("utf-8")] = at
        return found

    def counts(self) -> dict[str, int]:
        def count(part: bytes) -> int:
            prefix = self._p + part
            reply = self._range(
                rpc_pb2.RangeRequest(key=prefix, range_end=_prefix_end(prefix), count_only=True)
            )
            return int(reply.count)

        return {"sessions": count(b"s/"), "used_once": count(b"o/")}

    # -- login back-off ------------------------------------------------------------------------

    def counter(self, table: str, rules: FailureCounter | None = None) -> EtcdFailureCounter:
        """Failure counts of ``table`` (``users``, ``addresses``) shared through etcd,
        with the delays of ``rules`` (default: :class:`~.throttle.FailureCounter`'s)."""
        return EtcdFailureCounter(self, table, rules if rules is not None else FailureCounter())

    def login_throttle(self, clock: Callable[[], float] = time.time) -> LoginThrottle:
        """A :class:`~.throttle.LoginThrottle` whose counts every node shares."""
        return LoginThrottle(
            clock=clock,
            users=self.counter("users"),
            addresses=self.counter("addresses"),
            blocking=True,
        )


class EtcdFailureCounter:
    """:class:`~.throttle.FailureCounter`'s counts, kept in etcd (``t/<table>/<key>``).

    Each failure is a compare-and-set of the count (read, add one, put if unchanged), so
    failures on several nodes add up; a count is pruned ``forget_after`` after its last
    failure.  ``rules`` gives the delays (free failures, cap, forget time); its own
    in-memory bound (``max_entries``) does not apply: etcd holds what the prune leaves."""

    def __init__(self, state: EtcdSessionState, table: str, rules: FailureCounter) -> None:
        self._state = state
        self._table = table
        self.rules = rules

    def _key(self, key: str) -> bytes:
        return self._state._key("t", self._table, key)

    def __len__(self) -> int:
        prefix = self._state._key("t", self._table) + b"/"
        reply = self._state._range(
            rpc_pb2.RangeRequest(key=prefix, range_end=_prefix_end(prefix), count_only=True)
        )
        return int(reply.count)

    def _live(self, key: str, now: float) -> tuple[int, float]:
        record = self._state._get(self._key(key))
        if record is None or now - float(record.value["at"]) > self.rules.forget_after:
            return 0, 0.0
        return int(record.value["n"]), float(record.value["at"])

    def wait(self, key: str, now: float) -> float:
        failures, last = self._live(key, now)
        if failures == 0:
            return 0.0
        delay = self.rules.delay(failures)
        return max(0.0, min(delay, last + delay - now))

    def fail(self, key: str, now: float) -> None:
        self._state._maybe_prune()
        name = self._key(key)
        for _ in range(_ATTEMPTS):
            record = self._state._get(name)
            failures = 0
            if record is not None and now - float(record.value["at"]) <= self.rules.forget_after:
                failures = int(record.value["n"])
            write_id = secrets.token_hex(8)
            value = {
                "n": failures + 1,
                "at": now,
                "exp": int(now + self.rules.forget_after) + 1,
                "w": write_id,
            }
            if self._state._commit(
                [self._state._same(name, 0 if record is None else record.mod_revision)],
                [self._state._put(name, value)],
                mine=name,
                write_id=write_id,
                what=f"count a failed login of {key}",
            ):
                return
        raise EtcdStateError(
            f"verify-hub could not count a failed login of {key}: the count changed "
            f"{_ATTEMPTS} times while being written; retry later"
        )

    def reset(self, key: str) -> None:
        try:
            self._state._txn_call(
                rpc_pb2.TxnRequest(success=[self._state._delete(self._key(key))]),
                timeout=self._state.timeout,
                wait_for_ready=True,
            )
        except grpc.RpcError as exc:  # a delete sent again is harmless, but say so
            raise self._state._failed(exc, "reset login counts") from None

    def failures(self, key: str) -> int:
        """The stored count (until pruned, as the in-memory one until it is next read)."""
        record = self._state._get(self._key(key))
        return 0 if record is None else int(record.value["n"])

    def clear(self) -> None:
        prefix = self._state._key("t", self._table) + b"/"
        request = rpc_pb2.DeleteRangeRequest(key=prefix, range_end=_prefix_end(prefix))
        try:
            self._state._txn_call(
                rpc_pb2.TxnRequest(success=[rpc_pb2.RequestOp(request_delete_range=request)]),
                timeout=self._state.timeout,
                wait_for_ready=True,
            )
        except grpc.RpcError as exc:
            raise self._state._failed(exc, "reset login counts") from None


def _new_session(refresh_jti: str, expires_at: int, write_id: str) -> dict[str, Any]:
    return {"r": refresh_jti, "g": 1, "exp": expires_at, "w": write_id}
