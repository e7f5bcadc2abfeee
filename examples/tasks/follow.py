"""``python -m examples.tasks.follow USER < password``: the example of docs/tasks-and-events.md.

An app ("photos") runs an import as a task at the zone's task-manager: it creates the task
with itself as the executor (SelfApp), reports progress and commits the result.  The same
program follows the task on kevent, woken by each change instead of polling, and reads
the final snapshot from task-manager, which is the truth (kevent only says "look again").

Run it with the ``export`` lines of ``buckyos zone up`` in the environment.
"""

from __future__ import annotations

import sys
import time

from google.protobuf import json_format, struct_pb2

from buckyos.generated import task_manager_pb2 as tm
from buckyos.runtime.program import (
    RuntimeType,
    get_task_manager_client,
    init_buckyos_api_runtime,
    kevent_client,
)


def main() -> int:
    user, password = sys.argv[1], sys.stdin.readline().strip()
    rt = init_buckyos_api_runtime("photos", user, RuntimeType.APP_CLIENT)
    rt.login_by_password(user, password)
    tasks = get_task_manager_client(rt)

    # Subscribe first: an event published before the subscription is acknowledged is
    # not kept for anyone (kevent has no replay).
    with kevent_client(rt) as kevent, kevent.subscribe(["/task_mgr/*"]) as events:
        # --8<-- [start:run]
        task = tasks.CreateTask(
            name="import album",
            schema_id="raw/v1",  # a built-in schema: any JSON input and result
            input=json_format.ParseDict({"album": "summer"}, struct_pb2.Value()),
            executor=tm.CreateTaskExecutor(self_app=tm.SelfAppExecutor()),
            idempotency_key=f"import-summer-{time.time_ns()}",  # a retry creates no twin
        ).task
        tasks.runner_start(task.task_id)  # Accepted -> Running
        for done in (1, 2, 3):
            tasks.runner_progress(task.task_id, {"done": done, "total": 3}, f"{done}/3")
        tasks.runner_complete(task.task_id, {"photos": 3})  # Terminal, Succeeded
        # --8<-- [end:run]

        # --8<-- [start:follow]
        while True:
            event = events.get(timeout=10)
            if event is None:
                print("no event for 10 s", file=sys.stderr)
                return 1
            if event.data["task_id"] != task.task_id:
                continue  # another task of this user
            print(event.data["event_type"], event.data["phase"], "revision", event.data["revision"])
            if event.data["phase"] == "Terminal":
                break
        # --8<-- [end:follow]

    # --8<-- [start:final]
    final = tasks.wait_for_task_end(task.task_id, timeout=10)  # already ended: one read
    outcome = tm.TaskOutcome.Name(final.outcome)
    print("final", outcome, json_format.MessageToDict(final.result))
    # --8<-- [end:final]
    rt.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
