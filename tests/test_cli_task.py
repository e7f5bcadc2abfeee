"""``buckyos task list|get|cancel`` against the in-test task-manager
(``tests/task_fixtures.py``), with the session token in the environment and ``--url``
pinning the service.

Most commands call ``main()`` in this process with stdout/stderr captured and a clean
environment (no ``BUCKYOS_*`` but the token, a tmp ``HOME``); two run the ``buckyos``
console script as real processes.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from google.protobuf import json_format

from buckyos.cli.main import main
from buckyos.generated import task_manager_pb2 as tm
from buckyos.runtime.client.krpc_client import KrpcTransport
from buckyos.runtime.program import TaskManagerClient
from tests.task_fixtures import TaskZone, served_tasks

ROOT = Path(__file__).resolve().parent.parent
BUCKYOS = str(ROOT / ".venv" / "bin" / "buckyos")
TOKEN_ENV = "BUCKYOS_APPCLIENT_SESSION_TOKEN"


@dataclass(frozen=True)
class Done:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def zone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TaskZone]:
    for name in list(os.environ):
        if name.startswith("BUCKYOS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))
    with served_tasks() as served:
        monkeypatch.setenv(TOKEN_ENV, served.alice)
        yield served


def buckyos(zone: TaskZone, *argv: str) -> Done:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([*argv, "--url", zone.task_manager_url])
    return Done(code, out.getvalue(), err.getvalue())


def create(zone: TaskZone, key: str) -> tm.Task:
    with KrpcTransport(zone.task_manager_url, token=zone.alice) as transport:
        return (
            TaskManagerClient(transport)
            .CreateTask(
                name=f"import {key}",
                schema_id="raw/v1",
                input=json_format.ParseDict({"album": key}, tm.Task().input),
                executor=tm.CreateTaskExecutor(
                    self_app=tm.SelfAppExecutor(app_instance_id="photos@alice")
                ),
                idempotency_key=key,
            )
            .task
        )


def test_list(zone: TaskZone) -> None:
    one, two = create(zone, "a"), create(zone, "b")
    zone.tasks.finish(two.task_id)
    done = buckyos(zone, "task", "list")
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.splitlines() == [
        f"{one.task_id}  Accepted  import a",
        f"{two.task_id}  Terminal/Succeeded  import b",
    ]
    done = buckyos(zone, "task", "list", "--phase", "Terminal", "--json")
    page = json.loads(done.stdout)
    assert [row["task_id"] for row in page["tasks"]] == [two.task_id]
    assert page["tasks"][0]["phase"] == "Terminal" and page["tasks"][0]["outcome"] == "Succeeded"
    first = buckyos(zone, "task", "list", "--limit", "1")
    assert first.stdout.splitlines() == [f"{one.task_id}  Accepted  import a"]
    assert first.stderr == "more: --cursor 1\n"
    rest = buckyos(zone, "task", "list", "--limit", "1", "--cursor", "1")
    assert (rest.stdout, rest.stderr) == (f"{two.task_id}  Terminal/Succeeded  import b\n", "")
    # nothing to list: no output (--json: the empty page)
    none = buckyos(zone, "task", "list", "--phase", "Paused")
    assert (none.returncode, none.stdout) == (0, "")
    assert json.loads(buckyos(zone, "task", "list", "--phase", "Paused", "--json").stdout) == {
        "tasks": []
    }


def test_get(zone: TaskZone) -> None:
    task = create(zone, "g")
    done = buckyos(zone, "task", "get", task.task_id)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[:3] == [f"task_id: {task.task_id}", "name: import g", "phase: Accepted"]
    assert 'executor: {"kind":"App","app_id":"photos","app_instance_id":"photos@alice"}' in lines
    assert "revision: 1" in lines
    as_json = json.loads(buckyos(zone, "task", "get", task.task_id, "--json").stdout)
    assert as_json["task_id"] == task.task_id and as_json["input"] == {"album": "g"}
    assert as_json["executor"] == {
        "kind": "App",
        "app_id": "photos",
        "app_instance_id": "photos@alice",
    }


def test_cancel(zone: TaskZone) -> None:
    task = create(zone, "c")
    done = buckyos(zone, "task", "cancel", task.task_id)
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(
        rf"{task.task_id}  cancel requested \(ctl-[0-9a-f]{{32}}\); the runner applies it\n",
        done.stdout,
    )
    recursive = buckyos(zone, "task", "cancel", task.task_id, "--recursive")
    assert recursive.stdout.splitlines() == [
        f"requested: {task.task_id}",
        "skipped_by_policy: -",
        "denied: -",
        "already_terminal: -",
    ]
    as_json = json.loads(buckyos(zone, "task", "cancel", "--json", task.task_id).stdout)
    assert as_json["kind"] == "Task" and as_json["task"]["pending_control"]["action"] == "Cancel"
    assert [c.recursive for c in zone.tasks.controls] == [False, True, False]


def test_errors(zone: TaskZone, monkeypatch: pytest.MonkeyPatch) -> None:
    done = buckyos(zone, "task", "get", "t-none")
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr.startswith(
        "buckyos task get: error: Failed due to reason: task_not_found: t-none"
    )
    assert done.stderr.count("\n") == 1
    task = create(zone, "hidden")
    monkeypatch.setenv(TOKEN_ENV, zone.mallory)  # another user: not visible to them
    assert "task_not_found" in buckyos(zone, "task", "cancel", task.task_id).stderr
    for argv in (("list", "--limit", "0"), ("get", ""), ("list", "--phase", "Done")):
        assert buckyos(zone, "task", *argv).returncode == 2, argv


def test_as_real_processes(zone: TaskZone) -> None:
    task = create(zone, "p")
    env = {**os.environ, TOKEN_ENV: zone.alice}
    url = ("--url", zone.task_manager_url)
    got = subprocess.run(
        [BUCKYOS, "task", "get", task.task_id, "--json", *url],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout)["revision"] == 1
    canceled = subprocess.run(
        [BUCKYOS, "task", "cancel", task.task_id, *url],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert canceled.returncode == 0, canceled.stderr
    assert canceled.stdout.startswith(f"{task.task_id}  cancel requested (ctl-")
