"""The reference task-manager publishing to the reference kevent (``services/kevent``)
through the production publisher (the kevent HTTP client behind the queued publisher): a
zone-trusted reader of ``/task_mgr/**`` sees every committed change, in order, as 2.4.7
writes it; a kevent that is down costs the calls nothing."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from google.protobuf import json_format, struct_pb2

from buckyos.generated import task_manager_pb2 as tm
from buckyos.runtime.client import KEvent, KEventClient
from buckyos.services.task_manager.events import QueuedPublisher, kevent_publisher
from tests.kevent_server import served_kevent
from tests.task_manager_zone import task_zone


def value(obj: Any) -> struct_pb2.Value:
    return json_format.ParseDict(obj, struct_pb2.Value())


def test_changes_reach_a_kevent_reader(tmp_path: Path) -> None:
    with served_kevent() as kevent:
        client = KEventClient(kevent.url, token=kevent.trusted(), timeout=5)
        publisher = QueuedPublisher(kevent_publisher(client))
        reader = KEventClient(kevent.url, token=kevent.trusted(), timeout=5)
        try:
            with (
                reader.subscribe(["/task_mgr/**"]) as events,
                task_zone(tmp_path / "tasks.db", publish=publisher) as zone,
            ):
                alice = zone.stub(zone.user_token("alice", "photos"))
                task = alice.CreateTask(
                    name="import",
                    schema_id="raw/v1",
                    input=value({}),
                    executor=tm.CreateTaskExecutor(self_app=tm.SelfAppExecutor()),
                    idempotency_key="k",
                ).task
                env = tm.RunnerWriteEnvelope(
                    task_id=task.task_id, runner_epoch=1, expected_revision=1
                )
                task = alice.ReportStarted(envelope=env).task
                alice.CommitResult(
                    task_id=task.task_id, result=value({}), runner_epoch=1, expected_revision=2
                )
                got: list[KEvent] = []
                deadline = time.monotonic() + 10
                while len(got) < 3 and time.monotonic() < deadline:
                    event = events.get(timeout=0.5)
                    if event is not None:
                        got.append(event)
                assert [e.eventid for e in got] == [f"/task_mgr/{task.task_id}"] * 3
                assert [(e.data["revision"], e.data["event_type"]) for e in got] == [
                    (1, "TaskCreated"),
                    (2, "PhaseChanged"),
                    (3, "ResultCommitted"),
                ]
                assert got[-1].data["outcome"] == "Succeeded"
        finally:
            publisher.close()
            client.close()
            reader.close()


def test_kevent_down_costs_the_calls_nothing(tmp_path: Path) -> None:
    # a port nothing listens on: every publish fails, in the publisher's thread
    client = KEventClient("http://127.0.0.1:9/kapi/kevent", timeout=2)
    publisher = QueuedPublisher(kevent_publisher(client))
    try:
        with task_zone(tmp_path / "tasks.db", publish=publisher) as zone:
            alice = zone.stub(zone.user_token("alice", "photos"))
            start = time.monotonic()
            for n in range(5):
                alice.CreateTask(
                    name="x",
                    schema_id="raw/v1",
                    input=value({}),
                    executor=tm.CreateTaskExecutor(self_app=tm.SelfAppExecutor()),
                    idempotency_key=f"k{n}",
                )
            assert time.monotonic() - start < 5
            assert len(alice.ListTasks().tasks) == 5
    finally:
        publisher.close(timeout=10)
        client.close()
