"""kmsg as a real process (``python -m buckyos.services.kmsg`` outside a zone, with
``--trust-key``): it prints both ready lines, every post it acknowledged survives a
``kill -9`` in the middle of a stream of posts (with the cursors and the id counters),
SIGTERM exits 0, and an unusable ``--db`` exits 2 saying so."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from buckyos.generated import kmsg_pb2 as km
from buckyos.generated.kmsg_rpc import KmsgStub
from buckyos.runtime.client.grpc_client import GrpcTransport
from buckyos.runtime.client.krpc_client import KrpcTransport
from buckyos.runtime.errors import RPCError
from buckyos.runtime.security.keys import public_key_to_jwk
from tests.kmsg_fixtures import Keys

START_TIMEOUT = 20.0


class KmsgProcess:
    """``python -m buckyos.services.kmsg`` on free ports; stopped by the test."""

    def __init__(self, args: list[str], log: Path) -> None:
        self.log = log
        self._err = open(log, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "buckyos.services.kmsg", *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._err,
        )
        self.lines = self._wait_ready()
        self.url = self.lines["kRPC"] + "/kapi/kmsg"
        self.grpc = self.lines["gRPC"]

    def _wait_ready(self) -> dict[str, str]:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + START_TIMEOUT
        found: dict[str, str] = {}
        seen = b""
        while time.monotonic() < deadline and len(found) < 2:
            ready, _, _ = select.select([fd], [], [], 0.2)
            if ready:
                chunk = os.read(fd, 4096)  # unbuffered: both lines may come in one read
                if not chunk:
                    break
                seen += chunk
                for line in seen.decode(errors="replace").splitlines():
                    label, sep, address = line.strip().partition(" listening on ")
                    if sep:
                        found[label] = address
            elif self.proc.poll() is not None:
                break
        if len(found) < 2:
            self.stop(signal.SIGKILL)
            raise AssertionError(
                f"kmsg did not start: stdout {seen!r}, log {self.log.read_text()[-2000:]}"
            )
        return found

    def stop(self, sig: signal.Signals) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=15)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(5)
            if self.proc.stdout is not None:
                self.proc.stdout.close()
            self._err.close()
        return code


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Keys, list[str]]:
    keys = Keys()
    hub = tmp_path / "verify-hub.jwk"
    hub.write_text(json.dumps(public_key_to_jwk(keys.hub_key.public_key())))
    device = tmp_path / "ood1.jwk"
    device.write_text(json.dumps(public_key_to_jwk(keys.device_key.public_key())))
    args = [
        "--db",
        str(tmp_path / "data" / "kmsg.db"),
        "--trust-key",
        f"verify-hub={hub}",
        "--trust-key",
        f"device:ood1={device}",
        "--krpc-port",
        "0",
        "--grpc-port",
        "0",
        "--log-level",
        "warning",
    ]
    return keys, args


def test_acknowledged_posts_survive_kill_9(tmp_path: Path, setup: tuple[Keys, list[str]]) -> None:
    keys, args = setup
    alice = keys.user("alice", "photos")
    first = KmsgProcess(args, tmp_path / "kmsg-1.log")
    acked: dict[int, bytes] = {}
    failed: list[str] = []
    try:
        with KrpcTransport(first.url, token=alice) as transport:
            kmsg = KmsgStub(transport, timeout=10)
            urn = kmsg.CreateQueue(
                appid="photos", app_owner="alice", config=km.QueueConfig()
            ).queue_urn
            assert urn == "photos::alice::queue-1"
            sub = kmsg.Subscribe(
                queue_urn=urn, user_id="alice", app_id="photos", position=km.SubPosition(at=1)
            ).sub_id
            for n in range(1, 11):
                kmsg.PostMessage(queue_urn=urn, message=km.Message(payload=b"m%d" % n))
                acked[n] = b"m%d" % n
            kmsg.CommitAck(sub_id=sub, index=4)

        # a writer posts as fast as it can; kill -9 lands in the middle of its stream
        enough = threading.Event()
        stop = threading.Event()

        def writer() -> None:
            with KrpcTransport(first.url, token=alice) as transport:
                stub = KmsgStub(transport, timeout=5)
                for n in range(1000):  # bounded; killed long before
                    if stop.is_set():
                        return
                    payload = b"w%d" % n
                    try:
                        index = stub.PostMessage(queue_urn=urn, message=km.Message(payload=payload))
                    except (RPCError, OSError) as err:
                        failed.append(repr(err))
                        return
                    acked[index.index] = payload
                    if len(acked) >= 40:
                        enough.set()

        thread = threading.Thread(target=writer, daemon=True)
        thread.start()
        assert enough.wait(20), "the writer got no acknowledgements"
    finally:
        first.stop(signal.SIGKILL)
    stop.set()
    thread.join(15)
    assert not thread.is_alive()
    # the writer's last post (if it was in flight) failed: the process was gone
    assert all("Permission" not in text for text in failed), failed

    second = KmsgProcess(args, tmp_path / "kmsg-2.log")
    try:
        with GrpcTransport(second.grpc, token=alice) as grpc_transport:
            kmsg = KmsgStub(grpc_transport, timeout=10)
            kept: dict[int, bytes] = {}
            cursor = 1
            for _ in range(100):  # pages of 1000 at most; bounded
                page = kmsg.ReadMessage(queue_urn=urn, cursor=cursor, length=1000).messages
                if not page:
                    break
                kept.update((m.index, m.payload) for m in page)
                cursor = page[-1].index + 1
            # every acknowledged post is there, with its payload (one more may be: the
            # process stored it and died before answering)
            assert {i: kept.get(i) for i in acked} == acked
            assert len(kept) - len(acked) in (0, 1)
            last = max(kept)
            assert kmsg.GetQueueStats(queue_urn=urn).last_index == last
            # the cursor and the counters outlived the process
            page = kmsg.FetchMessages(sub_id=sub, length=2, auto_commit=True).messages
            assert [m.payload for m in page] == [b"m5", b"m6"]
            again = kmsg.PostMessage(queue_urn=urn, message=km.Message(payload=b"after"))
            assert again.index == last + 1
            assert kmsg.CreateQueue(
                appid="photos", app_owner="alice", config=km.QueueConfig()
            ).queue_urn == ("photos::alice::queue-2")
            other = kmsg.Subscribe(
                queue_urn=urn, user_id="alice", app_id="photos", position=km.SubPosition(latest={})
            )
            assert other.sub_id == "sub-2"
    finally:
        assert second.stop(signal.SIGTERM) == 0


def test_sigterm_exits_0_and_tokens_are_checked(
    tmp_path: Path, setup: tuple[Keys, list[str]]
) -> None:
    keys, args = setup
    proc = KmsgProcess(args, tmp_path / "kmsg.log")
    try:
        with KrpcTransport(proc.url, token=keys.device()) as transport:
            zone = KmsgStub(transport, timeout=10)
            urn = zone.CreateQueue(
                name="q", appid="photos", app_owner="alice", config=km.QueueConfig()
            ).queue_urn
        with KrpcTransport(proc.url, token=keys.user("bob", "photos")) as transport:
            with pytest.raises(RPCError) as err:
                KmsgStub(transport, timeout=10).GetQueueStats(queue_urn=urn)
            assert err.value.text == (
                "No permission:cannot read queue photos::alice::q: user bob is not the "
                "queue's owner alice and other_user_can_read is false"
            )
    finally:
        assert proc.stop(signal.SIGTERM) == 0


def test_an_unusable_db_exits_2(tmp_path: Path, setup: tuple[Keys, list[str]]) -> None:
    _, args = setup
    folder = tmp_path / "a-folder"
    folder.mkdir()
    bad = [*args]
    bad[bad.index("--db") + 1] = str(folder)
    done = subprocess.run(
        [sys.executable, "-m", "buckyos.services.kmsg", *bad],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done
    assert done.stderr.decode().startswith(f"kmsg: cannot open kmsg store {folder}"), done.stderr
    assert done.stdout == b""
