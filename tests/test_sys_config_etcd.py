"""EtcdStore's own matters, on a real etcd: concurrent writers, the watch-fed copy,
read-your-write, etcd's limits, ambiguous failures and an etcd restart.

The contract shared with SqliteStore is in ``test_sys_config_store.py``.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import grpc
import pytest

from buckyos.generated import system_config_pb2 as sc
from buckyos.generated.system_config_rpc import SystemConfigStub
from buckyos.runtime.client.krpc_client import KrpcTransport
from buckyos.runtime.errors import RPCError
from buckyos.runtime.security.keys import generate_key_pair, private_key_to_pem, public_key_to_jwk
from buckyos.runtime.security.token_signing import sign_token
from buckyos.services.system_config.etcd_api import rpc_pb2
from buckyos.services.system_config.etcd_store import (
    AmbiguousWriteError,
    EtcdStore,
    EtcdUnavailableError,
)
from buckyos.services.system_config.store import (
    Entry,
    OpKind,
    Quota,
    StoreError,
    StoreFullError,
    TxOp,
    format_size,
)
from tests.etcd import EtcdCluster, EtcdMember, kill_safe, require_etcd
from tests.test_sys_config_process import Process


@pytest.fixture
def prefix() -> str:
    return f"/test/{uuid.uuid4().hex}/"


def _open(etcd_member: EtcdMember, prefix: str, **options: Any) -> EtcdStore:
    return EtcdStore(etcd_member.url, prefix=prefix, **options)


def test_concurrent_writers_on_two_stores_lose_nothing(
    etcd_member: EtcdMember, prefix: str
) -> None:
    """Two stores (two nodes) and 8 threads append to one key and count in another:
    every conflict is replanned, nothing is applied twice, revisions count every write."""
    first, second = _open(etcd_member, prefix), _open(etcd_member, prefix)
    try:
        first.create("users/bob/log", "")
        first.create("users/bob/count", '{"n":0}')
        errors: list[BaseException] = []

        def writer(n: int) -> None:
            store = first if n % 2 else second
            try:
                for i in range(12):
                    store.append(
                        "users/bob/log", f"<{n}.{i}>", quota=Quota("users/bob/", 1 << 20, 10)
                    )
                    entry = store.get("users/bob/count")
                    assert entry is not None
                    store.transaction(
                        {"users/bob/count": TxOp(OpKind.UPDATE, f'{{"n":{n * 100 + i}}}')},
                        main_key=None,
                    )
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not any(thread.is_alive() for thread in threads)
        assert errors == []
        for store in (first, second):
            store.sync()
            log = store.get("users/bob/log")
            assert log is not None
            pieces = log.value.split(">")[:-1]
            assert sorted(pieces) == sorted(f"<{n}.{i}" for n in range(8) for i in range(12))
            assert log.revision == 1 + 96
            count = store.get("users/bob/count")
            assert count is not None and count.revision == 1 + 96
            assert store.usage("users/bob/").keys == 2
            assert store.usage("users/bob/").bytes == len("users/bob/log") + len(log.value) + len(
                "users/bob/count"
            ) + len(count.value)
    finally:
        first.close()
        second.close()


def test_main_key_guard_serialises_two_nodes(etcd_member: EtcdMember, prefix: str) -> None:
    """exec_tx guarded by a main key: of two nodes racing on the same revision, one wins."""
    first, second = _open(etcd_member, prefix), _open(etcd_member, prefix)
    try:
        first.create("jobs/lock", "free")
        second.sync()
        results: list[str] = []

        def take(store: EtcdStore, name: str) -> None:
            try:
                store.transaction(
                    {"jobs/owner": TxOp(OpKind.UPDATE, name)}, main_key=("jobs/lock", 1)
                )
                results.append(name)
            except StoreError as exc:
                results.append(str(exc))

        threads = [
            threading.Thread(target=take, args=(first, "first")),
            threading.Thread(target=take, args=(second, "second")),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        winners = [r for r in results if r in ("first", "second")]
        assert len(winners) == 1, results
        loser = next(r for r in results if r not in ("first", "second"))
        assert loser == "revision mismatch for key jobs/lock: expected 1, actual 2"
        assert first.revision("jobs/lock") == 2
    finally:
        first.close()
        second.close()


def test_the_copy_catches_up_and_a_writer_reads_its_write(
    etcd_member: EtcdMember, prefix: str
) -> None:
    writer, reader = _open(etcd_member, prefix), _open(etcd_member, prefix)
    try:
        for n in range(30):
            revision = writer.set("apps/x/config", f"v{n}")
            # Read-your-write: the writer's copy has the write when set() returns.
            assert writer.get("apps/x/config") == Entry(f"v{n}", revision)
        # Another store's copy is fed by its watch: it gets there by itself, bounded...
        deadline = time.monotonic() + 10
        while reader.get("apps/x/config") != Entry("v29", 30):
            assert time.monotonic() < deadline, reader.get("apps/x/config")
            time.sleep(0.01)
        # ...and at once after a linearizable sync.
        writer.set("apps/x/config", "last")
        reader.sync()
        assert reader.get("apps/x/config") == Entry("last", 31)
        assert reader.list("apps") == ["x"]
        # A store opened later lists what is there at one revision.
        late = _open(etcd_member, prefix)
        try:
            assert late.get("apps/x/config") == Entry("last", 31)
        finally:
            late.close()
    finally:
        writer.close()
        reader.close()


def test_etcd_limits_give_clear_errors_and_write_nothing(
    etcd_member: EtcdMember, prefix: str
) -> None:
    store = _open(etcd_member, prefix)
    try:
        many = {f"bulk/k{n:03d}": TxOp(OpKind.CREATE, "x") for n in range(130)}
        with pytest.raises(StoreError) as caught:
            store.transaction(many)
        assert str(caught.value) == (
            "this transaction of 130 keys needs 131 etcd operations, above etcd's --max-txn-ops "
            "(128); write fewer keys at once or raise --max-txn-ops on every etcd member (and "
            "give the store the same limit)"
        )
        assert store.list("bulk") == []
        with pytest.raises(StoreError, match=r"above its --max-request-bytes \(1\.5 MiB\)"):
            store.set("big/one", "x" * (1600 * 1024))
        store.set("big/grows", "x" * (1000 * 1024))
        with pytest.raises(StoreError, match="--max-request-bytes"):
            store.append("big/grows", "y" * (600 * 1024))
        entry = store.get("big/grows")
        assert entry is not None and entry.revision == 1 and len(entry.value) == 1000 * 1024
        # A store holding more than gRPC's 4 MiB receive limit is listed in pages.
        for n in range(5):
            store.set(f"big/k{n}", str(n) * (1000 * 1024))
        late = _open(etcd_member, prefix)
        try:
            dumped = late.dump(("big/",))
            assert sorted(dumped) == ["big/grows", *(f"big/k{n}" for n in range(5))]
            assert all(len(value) == 1000 * 1024 for value in dumped.values())
        finally:
            late.close()
    finally:
        store.close()


def test_the_store_limit_of_ops_follows_the_cluster(tmp_path: Path) -> None:
    """A cluster started with a higher --max-txn-ops takes a bigger exec_tx."""
    member = EtcdMember(require_etcd(), tmp_path / "wide", extra=["--max-txn-ops=512"])
    member.start()
    try:
        store = EtcdStore(member.url, max_txn_ops=512)
        try:
            revisions = store.transaction(
                {f"bulk/k{n:03d}": TxOp(OpKind.CREATE, "x") for n in range(200)}
            )
            assert set(revisions.values()) == {1} and len(store.list("bulk")) == 200
        finally:
            store.close()
    finally:
        member.stop()


class _Lost(grpc.RpcError):
    """What a deadline looks like to the store, raised after etcd applied the write."""

    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.DEADLINE_EXCEEDED

    def details(self) -> str:
        return "Deadline Exceeded"


def _answer_lost_once(store: EtcdStore, before_resend: Any = None) -> list[int]:
    """Make the next transaction commit but its answer get lost (a deadline)."""
    calls: list[int] = []
    real = store._txn

    def txn(request: Any, timeout: float | None) -> Any:
        calls.append(1)
        reply = real(request, timeout)
        if len(calls) == 1:
            if before_resend is not None:
                before_resend()
            raise _Lost()
        return reply

    store._txn = txn
    return calls


def test_an_ambiguous_write_is_not_applied_twice(etcd_member: EtcdMember, prefix: str) -> None:
    store = _open(etcd_member, prefix)
    try:
        store.create("log/a", "1")
        calls = _answer_lost_once(store)
        assert store.append("log/a", "2") == 2  # resent as is: its compares fail, its id shows
        assert len(calls) == 2
        assert store.get("log/a") == Entry("12", 2)
    finally:
        store.close()


def test_an_ambiguous_write_overwritten_since_is_reported(
    etcd_member: EtcdMember, prefix: str
) -> None:
    store, other = _open(etcd_member, prefix), _open(etcd_member, prefix)
    try:
        store.create("log/a", "1")
        other.sync()
        _answer_lost_once(store, before_resend=lambda: other.set("log/a", "other"))
        with pytest.raises(AmbiguousWriteError) as caught:
            store.append("log/a", "2")
        assert str(caught.value) == (
            "the write of log/a met an etcd failure (DEADLINE_EXCEEDED) and another writer "
            "changed the keys since: it may or may not have been applied; read the keys, then "
            "write again if needed"
        )
        other.sync()
        assert other.get("log/a") == Entry("other", 3)  # applied once, then overwritten
    finally:
        store.close()
        other.close()


@pytest.mark.parametrize("how", ["stop", "kill"])
def test_an_etcd_restart_loses_no_acknowledged_write(tmp_path: Path, how: str) -> None:
    """Writers keep writing while etcd stops (SIGTERM, or kill -9 where that is safe) and
    starts again: reads answer from the copy meanwhile, every acknowledged write is there
    afterwards, the watch reconnects and the copy follows new writes."""
    binary = require_etcd()
    sig = signal.SIGTERM
    if how == "kill" and kill_safe(binary):
        sig = signal.SIGKILL  # etcd 3.5.0-3.5.2 can lose writes on kill -9: stop it there
    member = EtcdMember(binary, tmp_path / "member")
    member.start()
    store = EtcdStore(member.url, timeout=1.0)
    acknowledged: dict[str, str] = {}
    maybe: dict[str, set[str]] = {}  # written since the last acknowledgement, ambiguously
    failures: list[str] = []
    stop = threading.Event()
    try:
        store.set("steady/key", "there")

        def writer(n: int) -> None:
            i = 0
            while not stop.is_set() and i < 2000:
                key, value = f"w{n}/k{i % 20}", f"{n}-{i}"
                try:
                    store.set(key, value)
                    acknowledged[key] = value
                    maybe.pop(key, None)
                except (EtcdUnavailableError, AmbiguousWriteError) as exc:
                    if isinstance(exc, AmbiguousWriteError):
                        maybe.setdefault(key, set()).add(value)
                    failures.append(type(exc).__name__)
                    time.sleep(0.05)
                i += 1

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        time.sleep(0.5)
        member.stop(sig)
        down_reads = [store.get("steady/key") for _ in range(100)]
        assert down_reads == [Entry("there", 1)] * 100  # the copy answers while etcd is down
        with pytest.raises(EtcdUnavailableError, match="did not answer a read"):
            store.sync(timeout=0.3)  # a linearizable read does not
        time.sleep(0.5)
        member.start()
        deadline = time.monotonic() + 20
        while not store.watching:
            assert time.monotonic() < deadline, "the watch did not reconnect"
            time.sleep(0.05)
        time.sleep(0.5)
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        assert not any(thread.is_alive() for thread in threads)
        assert acknowledged  # (writes during the outage wait or fail: both are fine)
        store.sync()
        fresh = EtcdStore(member.url)
        try:
            for key, value in acknowledged.items():
                for reader in (store, fresh):
                    entry = reader.get(key)
                    assert entry is not None, key
                    assert entry.value in {value, *maybe.get(key, ())}, (key, value, entry)
        finally:
            fresh.close()
        assert store.set("after/restart", "ok") == 1
        assert store.get("after/restart") == Entry("ok", 1)
    finally:
        stop.set()
        store.close()
        member.stop()


def test_the_service_on_etcd_over_krpc(
    etcd_member: EtcdMember, prefix: str, tmp_path: Path
) -> None:
    """``python -m buckyos.services.system_config --etcd URL``: Set, Get and ExecTx over real
    kRPC; a second process on the same etcd prefix (another node) reads what the first
    wrote; a restarted one has everything."""
    owner, owner_public = generate_key_pair()
    device, _ = generate_key_pair()
    owner_file = tmp_path / "owner.jwk"
    owner_file.write_text(json.dumps(public_key_to_jwk(owner_public)))
    device_file = tmp_path / "device.pem"
    device_file.write_text(private_key_to_pem(device))
    args = [
        "--etcd", etcd_member.url,
        "--etcd-prefix", prefix,
        "--owner-key", str(owner_file),
        "--device-name", "ood1",
        "--device-key", str(device_file),
        "--krpc-port", "0",
        "--no-grpc",
        "--log-level", "warning",
    ]  # fmt: skip
    token = sign_token(
        {"sub": "root", "appid": "kernel", "exp": int(time.time()) + 600}, owner, kid="root"
    )
    with (tmp_path / "stderr.log").open("w") as stderr:
        first, second = Process(args, stderr), Process(args, stderr)
        try:
            first_url, second_url = first.ready_krpc(), second.ready_krpc()
            with (
                KrpcTransport(first_url, token=token) as one,
                KrpcTransport(second_url, token=token) as two,
            ):
                stub, other = SystemConfigStub(one), SystemConfigStub(two)
                stub.Set(key="services/a/info", value='{"n":1}')
                stub.Set(key="services/a/info", value='{"n":2}')
                got = stub.Get(key="services/a/info")
                assert (got.value, got.version) == ('{"n":2}', 2)
                stub.ExecTx(
                    actions={
                        "services/b/info": sc.TxAction(action="create", value="b"),
                        "services/a/info": sc.TxAction(action="append", value="!"),
                    },
                    main_key=sc.MainKey(key="services/a/info", revision=2),
                )
                with pytest.raises(RPCError, match="revision mismatch for key services/a/info"):
                    other.ExecTx(
                        actions={"services/c/info": sc.TxAction(action="create", value="c")},
                        main_key=sc.MainKey(key="services/a/info", revision=2),
                    )
                deadline = time.monotonic() + 10
                while other.Get(key="services/b/info").value != "b":
                    assert time.monotonic() < deadline
                    time.sleep(0.02)
                got = other.Get(key="services/a/info")
                assert (got.value, got.version) == ('{"n":2}!', 3)
                assert list(other.List(key="services").keys) == ["a", "b"]
                # The RBAC policy one node writes, the other applies (its watch reloads it).
                alice = sign_token(
                    {"sub": "alice", "appid": "notes", "exp": int(time.time()) + 600},
                    owner,
                    kid="root",
                )
                own = "users/alice/apps/notes/settings"
                with KrpcTransport(second_url, token=alice) as as_alice:
                    alice_two = SystemConfigStub(as_alice)
                    with pytest.raises(RPCError, match="No read permission"):
                        alice_two.Get(key=own)
                    policy = "g, alice, users\ng, notes, app\ng, ood1, ood"
                    stub.Set(key="system/rbac/policy", value=policy)
                    deadline = time.monotonic() + 10
                    while True:
                        try:
                            assert alice_two.Get(key=own).value == ""
                            break
                        except RPCError:
                            assert time.monotonic() < deadline, "node two kept the old policy"
                            time.sleep(0.05)
        finally:
            first.stop()
            second.stop()
        third = Process(args, stderr)
        try:
            with KrpcTransport(third.ready_krpc(), token=token) as transport:
                got = SystemConfigStub(transport).Get(key="services/b/info")
                assert (got.value, got.version) == ("b", 1)
            third.proc.send_signal(signal.SIGTERM)
            assert third.proc.wait(15) == 0
        finally:
            third.stop()


def test_a_capped_etcd_store_keeps_its_reserve(etcd_member: EtcdMember, prefix: str) -> None:
    """``max_bytes`` caps etcd's dbSizeInUse as SqliteStore's caps its file: ordinary
    writes stop at the reserve, zone-trusted ones at the cap, deletes always go through."""
    probe = _open(etcd_member, prefix)
    try:
        probe.set("probe/k", "x")
        status = probe._status(rpc_pb2.StatusRequest(), None)
        used = status.dbSizeInUse or status.dbSize
    finally:
        probe.close()
    chunk = "v" * (64 * 1024)
    # The reserve starts below what etcd holds now; the cap 256 KiB above it.
    store = _open(
        etcd_member, prefix, max_bytes=used + 256 * 1024, reserve_bytes=256 * 1024 + used // 2
    )
    ordinary = Quota("users/bob/", 1 << 30, 1 << 20)
    try:
        with pytest.raises(StoreFullError) as caught:
            store.set("users/bob/k", chunk, quota=ordinary)
        assert str(caught.value).startswith("config store is nearly full: ")
        assert store.get("users/bob/k") is None
        store.set("system/zone/k", chunk)  # the zone's own writes use the reserve...
        with pytest.raises(StoreFullError) as caught:
            for n in range(32):  # ...up to the cap (each write grows etcd by at least 64 KiB)
                store.set(f"system/zone/k{n}", chunk)
                time.sleep(0.15)  # etcd's size follows its backend's commits (every 100 ms)
        assert str(caught.value) == (
            f"config store is full (capped at {format_size(used + 256 * 1024, exact=True)}) "
            "or its disk is: nothing was written; delete keys, free disk space or ask the "
            "admin to raise --max-db-bytes"
        )
        store.delete("system/zone/k", quota=ordinary)  # a delete never needs room
    finally:
        store.close()


def test_the_copy_is_listed_again_when_compaction_outran_its_watch(
    etcd_member: EtcdMember, prefix: str
) -> None:
    lagging, writer = _open(etcd_member, prefix), _open(etcd_member, prefix)
    try:
        writer.set("a/k", "1")
        lagging.sync()
        # The lagging store's watch breaks while its copy is at an old revision...
        with lagging._copy.cond:
            old = lagging._copy.revision
            lagging._copy.revision = 1  # (as if it had seen nothing since)
            call = lagging._call
            assert call is not None
            call.cancel()
            # ...and meanwhile the store moves on and etcd compacts its history.
            writer.set("a/k", "2")
            writer.set("a/other", "3")
            compact = writer._channel.unary_unary(
                "/etcdserverpb.KV/Compact",
                request_serializer=rpc_pb2.CompactionRequest.SerializeToString,
                response_deserializer=rpc_pb2.CompactionResponse.FromString,
            )
            compact(rpc_pb2.CompactionRequest(revision=writer.sync(), physical=True), timeout=10)
        deadline = time.monotonic() + 10
        while lagging.get("a/other") is None:
            assert time.monotonic() < deadline, "the copy was not listed again"
            time.sleep(0.02)
        assert lagging.reloads == 1 and lagging.copy_revision > old
        assert lagging.get("a/k") == Entry("2", 2)
        writer.set("a/k", "4")
        lagging.sync()
        assert lagging.get("a/k") == Entry("4", 3)  # and the new watch follows
    finally:
        lagging.close()
        writer.close()


def test_bad_or_unreachable_etcd_is_said_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="give http://HOST:PORT or https://HOST:PORT"):
        EtcdStore("ftp://127.0.0.1:2379")
    with pytest.raises(ValueError, match="https:// etcd endpoints need --etcd-anchors FILE"):
        EtcdStore("https://127.0.0.1:2379")  # TLS: tests/test_etcd_tls.py
    with pytest.raises(ValueError, match="several endpoints must be IPv4 addresses"):
        EtcdStore("http://a.example:2379,http://b.example:2379")
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        started = time.monotonic()
        with pytest.raises(EtcdUnavailableError) as caught:
            EtcdStore(f"http://127.0.0.1:{port}", connect_timeout=1.0, timeout=0.5)
    assert time.monotonic() - started < 10
    assert str(caught.value).startswith(
        f"etcd at http://127.0.0.1:{port} did not answer the listing of the store ("
    )
    assert str(caught.value).endswith("check that the etcd cluster is up and has a leader")
    # The process: a bad endpoint exits 2 with one line, as any bad option does.
    _, device_public = generate_key_pair()
    device_jwk = json.dumps(public_key_to_jwk(device_public))
    done = subprocess.run(
        [
            sys.executable, "-m", "buckyos.services.system_config",
            "--etcd", "ftp://127.0.0.1:2379",
            "--owner-key", device_jwk, "--device-name", "ood1", "--device-key", device_jwk,
        ],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stderr == (
        "python -m buckyos.services.system_config: --etcd: etcd endpoint 'ftp://127.0.0.1:2379': "
        "give http://HOST:PORT or https://HOST:PORT\n"
    )


def test_our_etcd_messages_cannot_clash_with_an_etcd_client_library() -> None:
    """An etcd client library registers etcd's protos (package ``etcdserverpb``) in
    protobuf's default pool; ours live under ``buckyos_etcd.*``, so both load in one
    process, while a second registration of the same names is what fails."""
    from google.protobuf import descriptor_pb2, descriptor_pool

    assert rpc_pb2.DESCRIPTOR.package == "buckyos_etcd.etcdserverpb"
    assert rpc_pb2.DESCRIPTOR.name == "buckyos_etcd/rpc.proto"
    library = descriptor_pb2.FileDescriptorProto(
        name=f"etcd/api/etcdserverpb/rpc-{uuid.uuid4().hex}.proto", package="etcdserverpb"
    )
    library.message_type.add(name="RangeRequest")
    pool = descriptor_pool.Default()
    pool.Add(library)  # what `import etcd3` does: fine next to ours
    assert pool.FindMessageTypeByName("etcdserverpb.RangeRequest").name == "RangeRequest"
    assert pool.FindMessageTypeByName("buckyos_etcd.etcdserverpb.RangeRequest") is not None
    again = descriptor_pb2.FileDescriptorProto()
    again.CopyFrom(library)
    again.name = f"etcd/other-{uuid.uuid4().hex}.proto"
    with pytest.raises(TypeError, match=r"duplicate symbol 'etcdserverpb\.RangeRequest'"):
        pool.Add(again)  # a second library (or stubs under etcd's names): duplicate symbol
    # Same field numbers as etcd's: our messages read etcd's bytes.
    raw = rpc_pb2.RangeRequest(key=b"k", range_end=b"l", limit=3, revision=9).SerializeToString()
    assert raw == bytes.fromhex("0a016b12016c1803" + "2009")


def test_killing_the_etcd_leader_of_three_loses_no_acknowledged_write(tmp_path: Path) -> None:
    """A store given the three members' URLs, 4 writers: the leader dies (kill -9; SIGTERM on
    etcd 3.5.0-3.5.2), the others elect a new one, writes go on through another member,
    reads never fail, every acknowledged write is there, revisions count per key."""
    binary = require_etcd()
    sig = signal.SIGKILL if kill_safe(binary) else signal.SIGTERM
    cluster = EtcdCluster(binary, tmp_path)
    cluster.start()
    store: EtcdStore | None = None
    stop = threading.Event()
    try:
        store = EtcdStore(cluster.urls, timeout=1.0)
        store.set("steady/key", "there")
        acknowledged: dict[str, tuple[str, int]] = {}
        maybe: dict[str, set[str]] = {}
        after_kill: list[str] = []
        errors: list[BaseException] = []
        killed = threading.Event()

        def writer(n: int, writing: EtcdStore) -> None:
            try:
                write(n, writing)
            except BaseException as exc:
                errors.append(exc)

        def write(n: int, writing: EtcdStore) -> None:
            i = 0
            while not stop.is_set() and i < 3000:
                key, value = f"w{n}/k{i % 10}", f"{n}-{i}"
                try:
                    revision = writing.set(key, value)
                    before = acknowledged.get(key)
                    assert before is None or revision > before[1], (key, before, revision)
                    acknowledged[key] = (value, revision)
                    maybe.pop(key, None)
                    if killed.is_set():
                        after_kill.append(key)
                except AmbiguousWriteError:
                    maybe.setdefault(key, set()).add(value)
                except EtcdUnavailableError:
                    pass
                i += 1

        threads = [threading.Thread(target=writer, args=(n, store)) for n in range(4)]
        for thread in threads:
            thread.start()
        time.sleep(0.5)
        leader = cluster.leader()
        leader.stop(sig)
        killed.set()
        reads = [store.get("steady/key") for _ in range(200)]
        assert reads == [Entry("there", 1)] * 200  # reads never fail, never wait
        deadline = time.monotonic() + 20
        while len(after_kill) < 20:
            assert time.monotonic() < deadline, "writes did not resume on the other members"
            time.sleep(0.05)
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        assert not any(thread.is_alive() for thread in threads)
        assert errors == []
        store.sync()
        survivors = [m.url for m in cluster.members if m is not leader]
        fresh = EtcdStore(survivors)
        try:
            for key, (value, revision) in acknowledged.items():
                for reader in (store, fresh):
                    entry = reader.get(key)
                    assert entry is not None, key
                    if entry.value == value:
                        assert entry.revision == revision
                    else:  # a later write whose answer was lost may have landed
                        assert entry.value in maybe.get(key, ()), (key, value, entry)
        finally:
            fresh.close()
    finally:
        stop.set()
        if store is not None:
            store.close()
        cluster.stop()


def test_change_listeners_hear_every_node_write(etcd_member: EtcdMember, prefix: str) -> None:
    """``on_change``: what a later watch verb and the trust/policy reload build on."""
    writer, listening = _open(etcd_member, prefix), _open(etcd_member, prefix)
    heard: list[list[str]] = []
    got = threading.Event()

    def listener(names: Any) -> None:
        heard.append(list(names))
        if "system/rbac/policy" in names:
            got.set()
        raise RuntimeError("a failing listener is logged, the copy goes on")

    try:
        listening.on_change(listener)
        writer.set("users/bob/a", "1")
        writer.transaction(
            {"boot/config": TxOp(OpKind.UPDATE, "{}"), "users/bob/a": TxOp(OpKind.DELETE)}
        )
        writer.set("system/rbac/policy", "p")
        assert got.wait(10)
        # One call per batch of events (writes close together may come in one), in order.
        firsts = list(dict.fromkeys(name for names in heard for name in names))
        assert firsts == ["users/bob/a", "boot/config", "system/rbac/policy"], heard
        assert 1 <= len(heard) <= 3
        assert listening.get("system/rbac/policy") == Entry("p", 1)  # the copy has it by then
    finally:
        writer.close()
        listening.close()
