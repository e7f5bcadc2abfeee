"""system_config's store on an etcd cluster: the semantics of :class:`~.store.SqliteStore`.

Keys live under a ``prefix`` (default ``/buckyos/system_config/``):

- ``<prefix>k/<key>\\x00d``: a live key, ``<account>\\x00<write id>\\x00<value>``;
- ``<prefix>k/<key>\\x00b``: its *base*, ``<base>\\x00<account>\\x00<write id>``, written
  when the key is deleted (or gets a row without a value: ``remove`` of a missing key, an
  ``exec_tx`` guard on a key never written);
- ``<prefix>u/<account>``: that account's usage, ``<bytes>\\x00<keys>``;
- ``<prefix>w``: the id of the last write (every transaction puts it, none compares it:
  its ``mod_revision`` is the store's last write, for :meth:`EtcdStore.sync`).

A key's revision is its base (0 without one) plus etcd's ``version`` of its data key
(which counts the puts since the key was last created): every write bumps it by one, a
delete keeps it, as upstream's sled store does.  Keys cannot hold ``\\x00`` (:mod:`.keys`),
so the two records of a key are the only etcd keys in ``[<key>\\x00, <key>\\x01)``.

**Writes** are read, apply, one etcd ``Txn``: one compare per key (``mod_revision`` over
its two records below the revision it was read at: a record written since, or created,
fails it), one per usage record, then the puts and deletes.  A failed compare means
another writer came first: the copy catches up to the revision etcd answered with and the
write is planned again (at most :data:`MAX_ATTEMPTS` times).

**Ambiguous failures** (a deadline, an unavailable or restarted member) are not retried
as fresh writes: the *same* transaction is sent again (its compares let it commit at most
once), and when its compares then fail, its write id tells whether the first attempt
committed; when another writer has overwritten that key since, the write is reported as
ambiguous (:class:`AmbiguousWriteError`), never applied twice.

**Reads** come from an in-memory copy of the prefix, listed at one revision and then fed
by a watch (as Kubernetes' informers): ``get``/``list``/``dump``/``revision``/``usage`` cost
no round trip.  A write returns once the copy has reached its revision, so the writer (and
every reader of this store object) reads it.  :meth:`EtcdStore.sync` is the linearizable
read: it asks etcd's leader for the store's last write and waits until the copy has it;
``row_account`` (the ownership check before a write) uses it, and another node can ask for
:meth:`EtcdStore.wait_for` with the revision a client saw.  While etcd is unreachable the
copy keeps answering reads (stale), writes fail.

**Limits.**  etcd refuses a ``Txn`` of more than ``--max-txn-ops`` (default 128) compares or
operations and a request over ``--max-request-bytes`` (default 1.5 MiB): both are checked
before sending, with an error that says which.  The copy is listed in pages (the 4 MiB gRPC
receive limit), the watch asks for fragmented responses.  ``max_bytes`` caps etcd's
``dbSizeInUse`` (from ``Status``, updated at each backend commit: approximate) as
``SqliteStore``'s caps its file.
"""

from __future__ import annotations

import bisect
import builtins
import logging
import os
import queue
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

import grpc
from google.protobuf.message import Message

from ..etcd_calls import (
    AMBIGUOUS as _AMBIGUOUS,
    CHANNEL_OPTIONS,
    EtcdTls,
    attempt_timeout,
    code_name as _code_name,
    code_of as _code,
    details as _details,
    open_channel,
    parse_endpoints,
    prefix_end as _prefix_end,
)
from .etcd_api import kv_pb2, rpc_pb2
from .keys import is_meta_key, user_account_of
from .store import (
    Change,
    Check,
    CommitListener,
    Entry,
    Quota,
    QuotaExceededError,
    RevisionMismatchError,
    Store,
    StoreError,
    StoreFullError,
    TxOp,
    Usage,
    _children,
    _Delta,
    _size,
    apply_op,
    format_size,
    reserve_of,
    tell_commit,
)

__all__ = [
    "DEFAULT_PREFIX",
    "MAX_ATTEMPTS",
    "AmbiguousWriteError",
    "EtcdStore",
    "EtcdUnavailableError",
    "RevisionAheadError",
]

_log = logging.getLogger("buckyos.services.system_config.etcd_store")

DEFAULT_PREFIX: Final = "/buckyos/system_config/"
MAX_ATTEMPTS: Final = 64
"""Conflicts a write replans before it gives up (each one: another writer came first)."""
_PAGE: Final = 512
_RECEIVE_LIMIT: Final = 4 << 20
_Req = TypeVar("_Req", bound=Message)
_Resp = TypeVar("_Resp", bound=Message)


class EtcdUnavailableError(StoreError):
    """etcd did not answer; the write was not sent or is known not to have committed."""


class RevisionAheadError(StoreError):
    """A revision asked for that this etcd cluster has not made."""


class AmbiguousWriteError(StoreError):
    """etcd may or may not have applied a write (it failed mid-way and was overwritten)."""


@dataclass(slots=True)
class _Raw:
    """One etcd record as the copy (or a read) saw it."""

    value: bytes
    mod_revision: int
    version: int


@dataclass(slots=True)
class _Row:
    """A key as the store sees it, read from its two records."""

    value: str | None
    revision: int
    account: str | None
    exists: bool
    bound: int
    """The highest mod_revision of its records (0: none): the compare's ``< bound + 1``."""
    data: _Raw | None
    base: int


@dataclass(slots=True)
class _Plan:
    compares: list[rpc_pb2.Compare] = field(default_factory=list)
    ops: list[rpc_pb2.RequestOp] = field(default_factory=list)
    revisions: dict[str, int] = field(default_factory=dict)
    reads: list[rpc_pb2.RequestOp] = field(default_factory=list)
    """The failure branch: read back every record compared (what the other writer did)."""
    written: list[bytes] = field(default_factory=list)
    """The records carrying the write id (to tell whether an ambiguous attempt committed)."""
    grows: int = 0
    write_id: str = ""


def _split(raw: bytes, parts: int) -> list[str]:
    return raw.decode("utf-8").split("\x00", parts - 1)


class _Copy:
    """The prefix's records at a known revision; thread-safe, waited on by writers."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.records: dict[bytes, _Raw] = {}
        self.live: list[str] = []
        """Keys with a data record, sorted (UTF-8 order equals code point order)."""
        self.revision = 0


class EtcdStore(Store):
    """The system_config :class:`~.store.Store` on etcd (3.4+; 3.5.3+ in production).

    ``endpoints``: ``http://HOST:PORT`` client URLs of the cluster's members.  ``prefix``:
    where the keys live (several zones can share a cluster with different prefixes).
    ``timeout``: each etcd call's deadline.  ``max_txn_ops``/``max_request_bytes``: the
    cluster's ``--max-txn-ops``/``--max-request-bytes``.  ``max_bytes``/``reserve_bytes``:
    as :class:`~.store.SqliteStore`'s, measured on etcd's ``dbSizeInUse``.  ``tls``: for
    ``https://`` endpoints (:func:`~buckyos.services.etcd_calls.etcd_tls`).
    """

    def __init__(
        self,
        endpoints: Sequence[str] | str,
        *,
        prefix: str = DEFAULT_PREFIX,
        timeout: float = 5.0,
        connect_timeout: float = 10.0,
        max_txn_ops: int = 128,
        max_request_bytes: int = 1536 * 1024,
        max_bytes: int | None = None,
        reserve_bytes: int | None = None,
        tls: EtcdTls | None = None,
    ) -> None:
        self.endpoints = parse_endpoints(endpoints)
        self.reserve_bytes = reserve_of(max_bytes, reserve_bytes)
        self.max_bytes = max_bytes
        if not prefix.endswith("/"):
            prefix += "/"
        self.prefix = prefix
        self._p = prefix.encode("utf-8")
        self._keys = self._p + b"k/"
        self._usage = self._p + b"u/"
        self._last = self._p + b"w"
        self.timeout = timeout
        self.max_txn_ops = max_txn_ops
        self.max_request_bytes = max_request_bytes
        self._channel = open_channel(
            self.endpoints,
            [
                ("grpc.max_receive_message_length", _RECEIVE_LIMIT),
                ("grpc.max_send_message_length", max(max_request_bytes * 2, 4 << 20)),
                *CHANNEL_OPTIONS,
            ],
            tls,
        )
        self._range = self._method("/etcdserverpb.KV/Range", rpc_pb2.RangeResponse)
        self._txn = self._method("/etcdserverpb.KV/Txn", rpc_pb2.TxnResponse)
        self._status = self._method("/etcdserverpb.Maintenance/Status", rpc_pb2.StatusResponse)
        self._watch = self._channel.stream_stream(
            "/etcdserverpb.Watch/Watch",
            request_serializer=rpc_pb2.WatchRequest.SerializeToString,
            response_deserializer=rpc_pb2.WatchResponse.FromString,
        )
        self._copy = _Copy()
        self._closed = threading.Event()
        self._requests: queue.Queue[rpc_pb2.WatchRequest | None] = queue.Queue()
        self._call: Any = None
        self._watching = threading.Event()
        self._listeners: list[Callable[[Sequence[str]], None]] = []
        self._commit_listeners: list[CommitListener] = []
        self.reloads = 0
        """How often the copy was listed again (after a compaction outran the watch)."""
        try:
            self._load(deadline=time.monotonic() + connect_timeout)
        except BaseException:
            self._channel.close()
            raise
        self._thread = threading.Thread(target=self._run, name="etcd-store-watch", daemon=True)
        self._thread.start()

    def __repr__(self) -> str:
        return f"<EtcdStore {','.join(self.endpoints)} {self.prefix}>"

    # -- etcd calls

    def _method(self, path: str, response: type[_Resp]) -> Callable[[Message, float | None], _Resp]:
        call: grpc.UnaryUnaryMultiCallable[Message, _Resp] = self._channel.unary_unary(
            path,
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=response.FromString,
        )

        def invoke(request: Message, timeout: float | None = None) -> _Resp:
            result: _Resp = call(request, timeout=timeout or self.timeout, wait_for_ready=True)
            return result

        return invoke

    def _unavailable(self, exc: grpc.RpcError, what: str) -> StoreError:
        code = _code(exc)
        detail = _details(exc)
        name = code.name if code is not None else "error"
        return EtcdUnavailableError(
            f"etcd at {','.join(self.endpoints)} did not {what} ({name}: {detail}); "
            "check that the etcd cluster is up and has a leader"
        )

    def close(self) -> None:
        if self._closed.is_set():
            return
        self._closed.set()
        self._requests.put(None)
        call = self._call
        if call is not None:
            call.cancel()
        self._thread.join(timeout=5)
        self._channel.close()

    # -- the copy

    def _load(self, *, deadline: float) -> None:
        """List the prefix at one revision, in pages, into a fresh copy."""
        records: dict[bytes, _Raw] = {}
        start, end = self._p, _prefix_end(self._p)
        revision = 0
        limit = _PAGE
        while True:
            request = rpc_pb2.RangeRequest(key=start, range_end=end, limit=limit, revision=revision)
            try:
                left = max(0.5, deadline - time.monotonic())
                reply = self._range(request, min(left, max(self.timeout, 1.0)))
            except grpc.RpcError as exc:
                code = _code(exc)
                if code is grpc.StatusCode.RESOURCE_EXHAUSTED and limit > 1:
                    limit = max(1, limit // 4)  # a page beyond the 4 MiB receive limit
                    continue
                if code in _AMBIGUOUS and time.monotonic() < deadline:
                    time.sleep(0.1)
                    continue
                raise self._unavailable(exc, "answer the listing of the store") from None
            if revision == 0:
                revision = reply.header.revision
            for kv in reply.kvs:
                records[kv.key] = _Raw(kv.value, kv.mod_revision, kv.version)
            if not reply.more or not reply.kvs:
                break
            start = reply.kvs[-1].key + b"\x00"
        live = sorted(
            self._name(k) for k in records if k.startswith(self._keys) and k.endswith(b"\x00d")
        )
        copy = self._copy
        with copy.cond:
            copy.records = records
            copy.live = live
            copy.revision = max(copy.revision, revision)
            copy.cond.notify_all()

    def _name(self, record: bytes) -> str:
        return record[len(self._keys) : -2].decode("utf-8")

    def _run(self) -> None:
        """The watch: apply every change to the copy; reconnect (and relist) as needed."""
        backoff = 0.05
        while not self._closed.is_set():
            try:
                self._watch_once()
            except grpc.RpcError as exc:
                if self._closed.is_set():
                    return
                # Said once per outage (when an established watch broke), not per retry.
                log = _log.warning if self._watching.is_set() else _log.debug
                log("etcd watch interrupted (%s); reconnecting", _code(exc) or exc)
            except _CompactedError:
                _log.warning("etcd compacted past the copy's revision; listing the store again")
                try:
                    with self._copy.cond:
                        before = set(self._copy.records)
                    self._load(deadline=time.monotonic() + 30)
                    self.reloads += 1
                    with self._copy.cond:
                        every = before | set(self._copy.records)
                    tell_commit(self._commit_listeners, None)
                    self._tell(sorted({self._name(k) for k in every if k.startswith(self._keys)}))
                except StoreError as exc:
                    _log.warning("%s", exc)
            except Exception:  # keep the copy alive whatever happens; logged
                _log.exception("etcd watch failed; reconnecting")
            if self._watching.is_set():
                backoff = 0.05  # it was up: reconnect at once
            self._watching.clear()
            self._closed.wait(backoff)
            backoff = min(1.0, backoff * 2)

    def _watch_once(self) -> None:
        copy = self._copy
        with copy.cond:
            start = copy.revision + 1
        requests: queue.Queue[rpc_pb2.WatchRequest | None] = queue.Queue()
        self._requests = requests
        requests.put(
            rpc_pb2.WatchRequest(
                create_request=rpc_pb2.WatchCreateRequest(
                    key=self._p,
                    range_end=_prefix_end(self._p),
                    start_revision=start,
                    fragment=True,
                )
            )
        )

        def outgoing() -> Iterator[rpc_pb2.WatchRequest]:
            while True:
                item = requests.get()
                if item is None:
                    return
                yield item

        call = self._watch(outgoing())
        self._call = call
        if self._closed.is_set():
            call.cancel()
            return
        pending: list[kv_pb2.Event] = []
        try:
            for reply in call:
                if reply.compact_revision:
                    raise _CompactedError
                if reply.canceled:
                    raise StoreError(f"etcd cancelled the watch: {reply.cancel_reason}")
                if reply.created:
                    self._watching.set()
                pending.extend(reply.events)
                if reply.fragment:
                    continue
                # Only events move the copy's revision: etcd before 3.4.25/3.5.8 can send a
                # progress notification ahead of events still to come (etcd issue 15220).
                self._apply(pending)
                pending = []
        finally:
            requests.put(None)
            call.cancel()

    def _apply(self, events: Sequence[kv_pb2.Event]) -> None:
        copy = self._copy
        keys = self._keys
        changed: dict[str, None] = {}
        commits: list[list[Change]] = []
        # The data records each etcd transaction (one mod_revision) put or deleted: one
        # Change per key once the whole transaction is in the copy.
        written: dict[str, None] = {}
        at = 0
        with copy.cond:
            top = copy.revision
            for event in events:
                kv = event.kv
                if kv.mod_revision != at:
                    self._changes(written, commits)
                    at = kv.mod_revision
                top = max(top, kv.mod_revision)
                if kv.key.startswith(keys):
                    changed.setdefault(self._name(kv.key), None)
                is_data = kv.key.startswith(keys) and kv.key.endswith(b"\x00d")
                if is_data:
                    written.setdefault(self._name(kv.key), None)
                if event.type == kv_pb2.Event.DELETE:
                    if copy.records.pop(kv.key, None) is not None and is_data:
                        name = self._name(kv.key)
                        at_live = bisect.bisect_left(copy.live, name)
                        if at_live < len(copy.live) and copy.live[at_live] == name:
                            del copy.live[at_live]
                else:
                    if kv.key not in copy.records and is_data:
                        bisect.insort(copy.live, self._name(kv.key))
                    copy.records[kv.key] = _Raw(kv.value, kv.mod_revision, kv.version)
            self._changes(written, commits)
            copy.revision = top
            copy.cond.notify_all()
        for commit in commits:
            tell_commit(self._commit_listeners, commit)
        if changed:
            self._tell(list(changed))

    def _changes(self, written: dict[str, None], commits: list[list[Change]]) -> None:
        """One commit: the :class:`Change` of each key in ``written`` as the copy has it
        (``written`` is emptied)."""
        if written:
            rows = ((name, self._row_in(self._copy.records, name)) for name in written)
            commits.append([Change(name, row.revision, row.value) for name, row in rows])
            written.clear()

    def on_commit(self, listener: CommitListener) -> None:
        """Every node's commits, in etcd's revision order, from the watch's thread once the
        copy has them; ``None`` after the copy was listed again (changes were missed)."""
        self._commit_listeners.append(listener)

    def on_change(self, listener: Callable[[Sequence[str]], None]) -> None:
        """Call ``listener`` with the keys written (by any node), once the copy has them.

        Called from the watch's thread, in revision order, after every batch of changes (a
        write, or several); after the copy was listed again, with every key it had or has.
        For a later watch verb, and for reloading trust keys and the policy when another
        node changed them.  A listener must be quick; its exceptions are logged.
        """
        self._listeners.append(listener)

    def _tell(self, names: Sequence[str]) -> None:
        for listener in list(self._listeners):
            try:
                listener(names)
            except Exception:
                _log.exception("an etcd store change listener failed")

    @property
    def watching(self) -> bool:
        """Whether the watch that feeds the copy is established now."""
        return self._watching.is_set()

    @property
    def copy_revision(self) -> int:
        """The etcd revision the copy has reached."""
        with self._copy.cond:
            return self._copy.revision

    def wait_for(self, revision: int, timeout: float = 10.0) -> None:
        """Return once the copy has reached ``revision`` (a revision of this etcd cluster);
        :class:`EtcdUnavailableError` after ``timeout`` seconds."""
        copy = self._copy
        deadline = time.monotonic() + timeout
        with copy.cond:
            while copy.revision < revision:
                now = time.monotonic()
                if now >= deadline:
                    raise EtcdUnavailableError(
                        f"the etcd copy is at revision {copy.revision}, not yet at {revision}, "
                        f"after {timeout:g} s; check that etcd is up (the watch reconnects)"
                    )
                copy.cond.wait(min(0.05, deadline - now))

    def sync(self, timeout: float | None = None) -> int:
        """A linearizable read: the last revision that changed this store (asked of etcd's
        leader), once the copy has reached it; that revision."""
        # Every write also puts <prefix>w (never compared, so it makes no conflict): its
        # mod_revision is the store's last write.
        request = rpc_pb2.RangeRequest(key=self._last, keys_only=True)
        try:
            reply = self._range(request, timeout)
        except grpc.RpcError as exc:
            raise self._unavailable(exc, "answer a read") from None
        revision = reply.kvs[0].mod_revision if reply.kvs else 0
        self.wait_for(revision, timeout or self.timeout)
        return revision

    def reach(self, revision: int, timeout: float) -> None:
        """Return once the copy reflects etcd at ``revision`` or later: the revision a
        client saw on another node (read your own writes, ``x-buckyos-revision``).

        The copy's revision moves only with this store's own changes, so a revision made
        by another prefix of the cluster (or listed by another node's copy) may never be
        reached by events.  Hence, when the copy is behind: one linearizable read gives
        etcd's revision now and this store's last write; once the copy has that write, it
        *is* the store at etcd's revision now, and says so.
        :class:`RevisionAheadError` for a revision etcd has not made (another cluster's,
        or made up); :class:`EtcdUnavailableError` when etcd or the copy is not there in
        ``timeout`` seconds."""
        copy = self._copy
        with copy.cond:
            if copy.revision >= revision:
                return
        request = rpc_pb2.RangeRequest(key=self._last, keys_only=True)
        try:
            reply = self._range(request, timeout)
        except grpc.RpcError as exc:
            raise self._unavailable(exc, "tell its revision") from None
        now = reply.header.revision
        if revision > now:
            raise RevisionAheadError(
                f"revision {revision} is ahead of this etcd cluster (at {now}): it was not "
                "made by this store"
            )
        self.wait_for(reply.kvs[0].mod_revision if reply.kvs else 0, timeout)
        with copy.cond:
            if copy.revision < now:
                # No change of this store since its last write, up to now: the same state.
                copy.revision = now
                copy.cond.notify_all()

    # -- reads (from the copy)

    def _row_in(self, records: Mapping[bytes, _Raw], key: str) -> _Row:
        base_key = self._record(key, b"b")
        data = records.get(self._record(key, b"d"))
        side = records.get(base_key)
        base, side_account = 0, None
        if side is not None:
            parts = _split(side.value, 3)
            base, side_account = int(parts[0]), parts[1] or None
        bound = max(data.mod_revision if data else 0, side.mod_revision if side else 0)
        if data is not None:
            account, _, value = _split(data.value, 3)
            return _Row(value, base + data.version, account or None, True, bound, data, base)
        return _Row(None, base, side_account, side is not None, bound, None, base)

    def _record(self, key: str, kind: bytes) -> bytes:
        return self._keys + key.encode("utf-8") + b"\x00" + kind

    def get(self, key: str) -> Entry | None:
        with self._copy.cond:
            row = self._row_in(self._copy.records, key)
        return None if row.value is None else Entry(row.value, row.revision)

    def revision(self, key: str) -> int:
        with self._copy.cond:
            return self._row_in(self._copy.records, key).revision

    def usage(self, account: str) -> Usage:
        with self._copy.cond:
            raw = self._copy.records.get(self._usage + account.encode("utf-8"))
        if raw is None:
            return Usage()
        size, keys = _split(raw.value, 2)
        return Usage(int(size), int(keys))

    def row_account(self, key: str) -> tuple[bool, str | None]:
        # Decides who may write a key: read at etcd's current revision, not a stale copy.
        self.sync()
        with self._copy.cond:
            row = self._row_in(self._copy.records, key)
        return row.exists, row.account

    def rows(self) -> dict[str, str | None]:
        """Every row (a deleted key's: ``None``), for tests and audits."""
        out: dict[str, str | None] = {}
        with self._copy.cond:
            names = {self._name(k) for k in self._copy.records if k.startswith(self._keys)}
            for name in sorted(names):
                out[name] = self._row_in(self._copy.records, name).value
        return out

    def _live_from(self, prefix: str) -> list[str]:
        with self._copy.cond:
            live = self._copy.live
            at = bisect.bisect_left(live, prefix)
            out = []
            for name in live[at:]:
                if not name.startswith(prefix):
                    break
                out.append(name)
            return out

    def list(self, prefix: str) -> list[str]:
        below = f"{prefix}/" if prefix and not prefix.endswith("/") else prefix
        return _children(below, self._child_keys(below))

    def _child_keys(self, below: str) -> Sequence[str]:
        """One key per child of ``below``, in key order, skipping over each child's keys
        as SqliteStore does: ``list("users")`` costs the number of users, not of keys."""
        keys: builtins.list[str] = []
        seen: set[str] = set()
        with self._copy.cond:
            live = self._copy.live
            at = bisect.bisect_left(live, below)
            while at < len(live):
                name = live[at]
                if not name.startswith(below):
                    break
                child = name[len(below) :].split("/", 1)[0]
                if child in seen:
                    # Its "/" range was reached: skip past it ("c0" follows "c/...").
                    at = bisect.bisect_left(live, f"{below}{child}0", at)
                    continue
                seen.add(child)
                keys.append(name)
                at += 1
        return keys

    def dump(self, prefixes: Iterable[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for prefix in prefixes:
            names = self._live_from(prefix)
            with self._copy.cond:
                for name in names:
                    if is_meta_key(name):
                        continue
                    value = self._row_in(self._copy.records, name).value
                    if value is not None:
                        out[name] = value
        return out

    # -- writes

    def transaction(
        self,
        ops: Mapping[str, TxOp],
        *,
        main_key: tuple[str, int] | None = None,
        check: Check | None = None,
        quota: Quota | None = None,
    ) -> dict[str, int]:
        if not ops and main_key is None:
            return {}
        write_id = os.urandom(9).hex()
        synced = False
        for _attempt in range(MAX_ATTEMPTS):
            try:
                with self._copy.cond:  # the watch waits while the write is planned
                    plan = self._plan(self._copy.records, ops, main_key, check, quota, write_id)
            except StoreError:
                # Refused on what the copy says (key exists, not found, revision, quota):
                # the copy may lag behind another node's write; refuse only on a fresh one.
                if synced:
                    raise
                self.sync()
                synced = True
                continue
            if plan.grows > 0 and self.max_bytes is not None:
                self._check_room(plan.grows, ordinary=quota is not None)
            request = rpc_pb2.TxnRequest(
                compare=plan.compares, success=plan.ops, failure=plan.reads
            )
            self._check_limits(request, ops)
            reply = self._send(request, plan)
            if reply is not None and reply.succeeded:
                self._settle(reply.header.revision)
                return plan.revisions
            if reply is None:
                # An ambiguous attempt was found committed (see _send).
                return plan.revisions
            # Another writer came first: catch up to what it wrote, and plan again.  After
            # a few lost rounds, wait a random moment first (growing, at most 0.2 s), so
            # writers racing on one key take turns instead of one losing every round.
            self.wait_for(_newest(reply), self.timeout)
            if _attempt >= 2:
                self._closed.wait(random.uniform(0, min(0.2, 0.002 * 2**_attempt)))
        raise StoreError(
            f"the write of {', '.join(ops) or main_key} lost to other writers {MAX_ATTEMPTS} "
            "times in a row; retry later"
        )

    def _settle(self, revision: int) -> None:
        """Wait until the copy has the write (so this store reads it); bounded."""
        try:
            self.wait_for(revision, self.timeout)
        except EtcdUnavailableError:
            _log.warning("write at etcd revision %d committed; the copy lags behind it", revision)

    def _send(self, request: rpc_pb2.TxnRequest, plan: _Plan) -> rpc_pb2.TxnResponse | None:
        """The transaction's answer; ``None`` when an ambiguous first attempt committed."""
        deadline = time.monotonic() + self.timeout * 3
        ambiguous: grpc.RpcError | None = None
        while True:
            try:
                reply = self._txn(request, attempt_timeout(self.timeout, ambiguous is not None))
            except grpc.RpcError as exc:
                code = _code(exc)
                if code in _AMBIGUOUS:
                    # Not known whether it committed: send the very same transaction again
                    # (its compares let it commit at most once).
                    ambiguous = exc
                    if time.monotonic() < deadline:
                        self._closed.wait(0.1)
                        continue
                    raise AmbiguousWriteError(
                        f"etcd did not answer the write of {self._names(plan)} "
                        f"({code.name if code else exc}); it may or may not have been applied: "
                        "read the keys, then write again if needed"
                    ) from None
                raise self._refused(exc) from None
            if reply.succeeded or ambiguous is None:
                return reply
            # The resent transaction failed its compares: did the first attempt commit?
            # (The failure branch read the keys' records as they are now.)
            now = {
                kv.key: _Raw(kv.value, kv.mod_revision, kv.version)
                for op in reply.responses
                for kv in op.response_range.kvs
            }
            mine = [(key, now.get(key)) for key in plan.written]
            if any(raw is not None and _written_by(key, raw, plan.write_id) for key, raw in mine):
                self._settle(_newest(reply))
                return None
            raise AmbiguousWriteError(
                f"the write of {self._names(plan)} met an etcd failure "
                f"({_code_name(ambiguous)}) "
                "and another writer changed the keys since: it may or may not have been "
                "applied; read the keys, then write again if needed"
            )

    def _names(self, plan: _Plan) -> str:
        return ", ".join(plan.revisions) or "the keys"

    def _refused(self, exc: grpc.RpcError) -> StoreError:
        code = _code(exc)
        detail = _details(exc)
        if "too many operations" in (detail or ""):
            return StoreError(
                f"etcd refused the transaction: {detail} (--max-txn-ops, {self.max_txn_ops} "
                "here); write fewer keys at once or raise --max-txn-ops on every member"
            )
        if "request is too large" in (detail or ""):
            return StoreError(
                f"etcd refused the write: {detail} (--max-request-bytes); write less at once"
            )
        if "database space exceeded" in (detail or ""):
            return StoreFullError(
                "etcd's database is full (its --quota-backend-bytes, NOSPACE alarm): nothing "
                "was written; delete keys, compact and defragment etcd, then disarm the alarm"
            )
        return StoreError(f"etcd refused the write ({code.name if code else 'error'}: {detail})")

    def _check_limits(self, request: rpc_pb2.TxnRequest, ops: Mapping[str, TxOp]) -> None:
        count = max(len(request.compare), len(request.success), len(request.failure))
        if count > self.max_txn_ops:
            raise StoreError(
                f"this transaction of {len(ops)} keys needs {count} etcd operations, above "
                f"etcd's --max-txn-ops ({self.max_txn_ops}); write fewer keys at once or raise "
                "--max-txn-ops on every etcd member (and give the store the same limit)"
            )
        size = request.ByteSize()
        if size > self.max_request_bytes:
            raise StoreError(
                f"this write is {format_size(size)} for etcd, above its --max-request-bytes "
                f"({format_size(self.max_request_bytes, exact=True)}); write smaller values "
                "or fewer keys at once"
            )

    def _check_room(self, grows: int, *, ordinary: bool) -> None:
        """Refuse a write that grows the store past the cap (an ordinary one: into the
        reserve), measured on etcd's ``dbSizeInUse`` (history not yet compacted counts)."""
        assert self.max_bytes is not None
        try:
            status = self._status(rpc_pb2.StatusRequest(), None)
        except grpc.RpcError as exc:
            raise self._unavailable(exc, "report its size") from None
        used = status.dbSizeInUse or status.dbSize
        if not ordinary:
            if used + grows > self.max_bytes:
                cap = format_size(self.max_bytes, exact=True)
                raise StoreFullError(
                    f"config store is full (capped at {cap}) or its disk is: nothing was "
                    "written; delete keys, free disk space or ask the admin to raise "
                    "--max-db-bytes"
                )
            return
        soft = self.max_bytes - self.reserve_bytes
        if used + grows > soft:
            raise StoreFullError(
                f"config store is nearly full: {format_size(used)} of "
                f"{format_size(self.max_bytes, exact=True)} used, the last "
                f"{format_size(self.reserve_bytes, exact=True)} are kept for deletes and zone "
                "services; delete keys or ask the admin to raise --max-db-bytes"
            )

    def _plan(
        self,
        records: Mapping[bytes, _Raw],
        ops: Mapping[str, TxOp],
        main_key: tuple[str, int] | None,
        check: Check | None,
        quota: Quota | None,
        write_id: str,
    ) -> _Plan:
        """The compares and writes of one attempt, from ``records`` (SqliteStore._write)."""
        plan = _Plan(write_id=write_id)
        payer = None if quota is None else quota.payer
        delta = _Delta()
        rows: dict[str, _Row] = {}
        guard_only: str | None = None
        guard_account: str | None = None
        if main_key is not None:
            guard, expected = main_key
            row = rows[guard] = self._row_in(records, guard)
            if row.revision != expected:
                raise RevisionMismatchError(guard, expected, row.revision)
            plan.revisions[guard] = row.revision + 1
            if guard not in ops:
                guard_only = guard
                guard_account = row.account
                if not row.exists:
                    guard_account = user_account_of(guard) or payer
                    delta.add(guard_account, _size(guard, None), 0)
        values: dict[str, tuple[str | None, str | None]] = {}
        for key, op in ops.items():
            row = rows.get(key) or self._row_in(records, key)
            rows[key] = row
            new = apply_op(key, op, row.value)
            new_account = user_account_of(key) or row.account or payer
            if row.exists:
                delta.add(row.account, -_size(key, row.value), -(row.value is not None))
            delta.add(new_account, _size(key, new), new is not None)
            values[key] = (new, new_account)
            plan.revisions.setdefault(key, row.revision + 1)
        if check is not None:
            for key, (value, _) in values.items():
                check(key, value)
        usage: dict[str, tuple[Usage, _Raw | None]] = {}
        for account, (size, keys) in delta.accounts.items():
            if not (size or keys):
                continue
            raw = records.get(self._usage + account.encode("utf-8"))
            now = Usage() if raw is None else Usage(*map(int, _split(raw.value, 2)))
            usage[account] = (now, raw)
            if quota is not None and (size > 0 or keys > 0):
                if keys > 0 and now.keys + keys > quota.max_keys:
                    raise QuotaExceededError(account, "keys", now.keys, keys, quota.max_keys)
                if size > 0 and now.bytes + size > quota.max_bytes:
                    raise QuotaExceededError(account, "bytes", now.bytes, size, quota.max_bytes)
        plan.grows = delta.total
        # The store's last write (see sync), never compared.
        plan.ops.append(
            rpc_pb2.RequestOp(
                request_put=rpc_pb2.PutRequest(key=self._last, value=write_id.encode())
            )
        )
        # Compares: each key's two records unchanged since read, each usage record too.
        for key, row in rows.items():
            record = self._keys + key.encode("utf-8") + b"\x00"
            plan.compares.append(
                rpc_pb2.Compare(
                    result=rpc_pb2.Compare.LESS,
                    target=rpc_pb2.Compare.MOD,
                    key=record,
                    range_end=record[:-1] + b"\x01",
                    mod_revision=row.bound + 1,
                )
            )
            plan.reads.append(
                rpc_pb2.RequestOp(
                    request_range=rpc_pb2.RangeRequest(key=record, range_end=record[:-1] + b"\x01")
                )
            )
        for key, (value, owner) in values.items():
            row = rows[key]
            if value is not None:
                self._put(plan, self._record(key, b"d"), f"{owner or ''}\x00{write_id}\x00{value}")
            else:
                # Deleted (or a row without value): the base keeps the revision.
                if row.data is not None:
                    plan.ops.append(
                        rpc_pb2.RequestOp(
                            request_delete_range=rpc_pb2.DeleteRangeRequest(
                                key=self._record(key, b"d")
                            )
                        )
                    )
                base = plan.revisions[key]
                self._put(plan, self._record(key, b"b"), f"{base}\x00{owner or ''}\x00{write_id}")
        if guard_only is not None:
            row = rows[guard_only]
            if row.data is not None and row.value is not None:
                # A live guard: written again as it is, its version (so revision) goes up.
                account = row.account or ""
                self._put(
                    plan, self._record(guard_only, b"d"), f"{account}\x00{write_id}\x00{row.value}"
                )
            else:
                base = plan.revisions[guard_only]
                self._put(
                    plan,
                    self._record(guard_only, b"b"),
                    f"{base}\x00{guard_account or ''}\x00{write_id}",
                )
        for account, (now, raw) in usage.items():
            size, keys = delta.accounts[account]
            record = self._usage + account.encode("utf-8")
            plan.compares.append(
                rpc_pb2.Compare(
                    result=rpc_pb2.Compare.EQUAL,
                    target=rpc_pb2.Compare.MOD,
                    key=record,
                    mod_revision=0 if raw is None else raw.mod_revision,
                )
            )
            plan.reads.append(rpc_pb2.RequestOp(request_range=rpc_pb2.RangeRequest(key=record)))
            plan.ops.append(
                rpc_pb2.RequestOp(
                    request_put=rpc_pb2.PutRequest(
                        key=record, value=f"{now.bytes + size}\x00{now.keys + keys}".encode()
                    )
                )
            )
        return plan

    def _put(self, plan: _Plan, key: bytes, value: str) -> None:
        plan.ops.append(
            rpc_pb2.RequestOp(request_put=rpc_pb2.PutRequest(key=key, value=value.encode("utf-8")))
        )
        plan.written.append(key)


class _CompactedError(Exception):
    """The watch's start revision was compacted away."""


def _newest(reply: rpc_pb2.TxnResponse) -> int:
    """The newest revision among the records a failed transaction read back."""
    return max(
        (kv.mod_revision for op in reply.responses for kv in op.response_range.kvs), default=0
    )


def _written_by(key: bytes, raw: _Raw, write_id: str) -> bool:
    """Whether record ``key`` was last written by the write ``write_id``."""
    parts = raw.value.split(b"\x00", 2)
    at = 2 if key.endswith(b"\x00b") else 1  # base: base, account, id; data: account, id, value
    return len(parts) > at and parts[at] == write_id.encode()
