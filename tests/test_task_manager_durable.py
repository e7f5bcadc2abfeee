"""kill -9 of the task-manager PROCESS while it writes: every change it answered is still
there after a restart on the same SQLite file, with its event rows (nothing half-written)."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from google.protobuf import json_format, struct_pb2

from buckyos.generated import task_manager_pb2 as tm
from buckyos.generated.task_manager_rpc import TaskManagerStub
from buckyos.runtime.client.krpc_client import KrpcTransport
from buckyos.runtime.errors import RPCError
from buckyos.runtime.security.keys import generate_key_pair
from buckyos.runtime.security.token_signing import sign_token

READY_WITHIN = 30.0


class Process:
    """``python -m buckyos.services.task_manager`` standalone (``--trust-key``)."""

    def __init__(self, db: Path, owner_pub: Path) -> None:
        self.popen = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "buckyos.services.task_manager",
                "--db",
                str(db),
                "--trust-key",
                f"root={owner_pub}",
                "--krpc-port",
                "0",
                "--no-grpc",
                "--log-level",
                "warning",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        lines: queue.Queue[str] = queue.Queue()
        stdout = self.popen.stdout
        assert stdout is not None

        def pump() -> None:
            for line in stdout:
                lines.put(line)

        threading.Thread(target=pump, daemon=True).start()
        deadline = time.monotonic() + READY_WITHIN
        self.url = ""
        while not self.url:
            left = deadline - time.monotonic()
            assert left > 0, "task-manager printed no ready line"
            try:
                line = lines.get(timeout=left)
            except queue.Empty:
                continue
            if line.startswith("kRPC listening on "):
                self.url = line.removeprefix("kRPC listening on ").strip() + "/kapi/task-manager"

    def kill9(self) -> None:
        os.kill(self.popen.pid, signal.SIGKILL)
        self.popen.wait(10)

    def stop(self) -> int:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                return self.popen.wait(10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(10)
        return self.popen.returncode


def test_kill_9_during_writes_loses_no_acknowledged_change(tmp_path: Path) -> None:
    private, public = generate_key_pair()
    pub = tmp_path / "owner.pub.pem"
    pub.write_bytes(
        public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    token = sign_token(
        {"sub": "alice", "appid": "photos", "exp": int(time.time()) + 600}, private, kid=None
    )
    db = tmp_path / "tasks.db"
    created: dict[str, int] = {}  # task id -> the last revision answered
    process = Process(db, pub)
    try:
        transport = KrpcTransport(process.url, token=token)
        stub = TaskManagerStub(transport, timeout=5)
        stop = threading.Event()
        errors: list[BaseException] = []

        def write() -> None:
            n = 0
            try:
                while not stop.is_set() and n < 10_000:
                    n += 1
                    task = stub.CreateTask(
                        name=f"job {n}",
                        schema_id="raw/v1",
                        input=json_format.ParseDict({"n": n}, struct_pb2.Value()),
                        executor=tm.CreateTaskExecutor(self_app=tm.SelfAppExecutor()),
                        idempotency_key=f"job-{n}",
                    ).task
                    created[task.task_id] = task.revision
                    env = tm.RunnerWriteEnvelope(
                        task_id=task.task_id, runner_epoch=1, expected_revision=task.revision
                    )
                    task = stub.ReportStarted(envelope=env).task
                    created[task.task_id] = task.revision
                    env.expected_revision = task.revision
                    task = stub.ReportProgress(envelope=env, message=f"step {n}").task
                    created[task.task_id] = task.revision
            except RPCError as err:
                errors.append(err)

        writer = threading.Thread(target=write)
        writer.start()
        deadline = time.monotonic() + 20
        while len(created) < 20 and time.monotonic() < deadline and writer.is_alive():
            time.sleep(0.05)
        process.kill9()
        stop.set()
        writer.join(30)
        assert not writer.is_alive()
        assert errors, "the writer should have seen the process die"
        transport.close()
        assert len(created) >= 20, created
    finally:
        process.stop()

    again = Process(db, pub)
    try:
        with KrpcTransport(again.url, token=token) as transport:
            stub = TaskManagerStub(transport, timeout=5)
            for task_id, revision in created.items():
                task = stub.GetTask(task_id=task_id).task
                assert task.revision >= revision, (task_id, task.revision, revision)
                events = stub.ListTaskEvents(task_id=task_id).events
                # one event row per revision, none missing, none extra
                assert [e.task_revision for e in events] == list(range(1, task.revision + 1))
    finally:
        assert again.stop() == 0
