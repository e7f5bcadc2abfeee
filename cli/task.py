"""``buckyos task list|get|cancel``: task-manager from the shell, with the session of
``buckyos login``.

The calls go where the zone options point (``--url http://host:port`` a gateway,
``--url http://host:3380/kapi/task-manager`` the service itself, else the zone's URL), as
the runtime's :func:`~buckyos.runtime.program.get_task_manager_client`.

- ``list``: the tasks this session may see, one per line, ``<task_id> <phase>[/<outcome>]
  <name>``; filters ``--phase``, ``--tree ROOT_ID``, ``--schema``, ``--app`` (the creator's app);
  ``--archived`` includes archived tasks; ``--limit N`` (100) and ``--cursor C`` page
  (``more: --cursor C`` on stderr when there is more).
- ``get TASK_ID``: the task, one ``field: value`` per line (JSON values compact).
- ``cancel TASK_ID``: ask for Cancel (a fresh ``ctl-<uuid>`` request id); the runner
  applies it, or for a HumanSet or unbound task it is done at once.  ``--recursive``
  asks it for the whole subtree and prints what each task got.

``--json`` prints upstream's JSON of the answer (``get``: the task; ``list``:
``{"tasks", "next_cursor"?}``; ``cancel``: ``{"kind": "Task"|"Batch", ...}``), one line.
Exit codes: 0 done; 1 the service refused (``task_not_found: t-1``, ``No permission:...``)
or could not be reached; 2 a malformed command line.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from .argparsing import intermixed
from .command import Commands
from .output import EXIT_OK, EXIT_USAGE, CliError, emit
from .session import connect

if TYPE_CHECKING:
    from buckyos.runtime.program import BuckyOSRuntime

__all__ = ["register", "run"]

_API: Final = "task-manager"
_PHASES: Final = ("Promised", "Accepted", "Running", "Waiting", "Paused", "Terminal")

_TEXT = """list, show and cancel task-manager tasks

List the tasks this session may see, show one, or ask to cancel one
(with the session of `buckyos login`)."""

_EXAMPLES = """examples:
  buckyos task list --phase Running
  buckyos task get t-4f0c... --json
  buckyos task cancel t-4f0c... --recursive"""

# get: the fields shown, in this order (the rest of the task stays for --json)
_FIELDS: Final = (
    "task_id name phase outcome message progress result error wait_reason pending_control "
    "schema_id root_id parent_id creator executor runner_epoch revision created_at "
    "updated_at completed_at archived_at"
).split()


def register(commands: Commands) -> None:
    """Add ``task list|get|cancel`` to the ``buckyos`` parser."""
    verbs = commands.group("task", _TEXT)

    def add(name: str, text: str) -> argparse.ArgumentParser:
        parser = intermixed(verbs.add(name, run, text, zone=True, epilog=_EXAMPLES))
        parser.add_argument(
            "--timeout", type=float, default=15.0, metavar="S", help="seconds to wait (15)"
        )
        parser.add_argument("--json", action="store_true", help="print upstream's JSON")
        return parser

    listing = add("list", "list the tasks this session may see")
    listing.add_argument("--phase", choices=_PHASES, help="only tasks in this phase")
    listing.add_argument("--tree", metavar="ROOT_ID", help="only the tree of this root task")
    listing.add_argument("--schema", metavar="SCHEMA_ID", help="only this schema, e.g. raw/v1")
    listing.add_argument("--app", metavar="APP_ID", help="only tasks created by this app")
    listing.add_argument("--archived", action="store_true", help="include archived tasks")
    listing.add_argument("--limit", type=int, default=100, metavar="N", help="at most N (100)")
    listing.add_argument("--cursor", metavar="C", help="the page after C (from `more:`)")

    get = add("get", "show one task")
    get.add_argument("task_id", metavar="TASK_ID")

    cancel = add("cancel", "ask for a task to be canceled")
    cancel.add_argument("task_id", metavar="TASK_ID")
    cancel.add_argument("--recursive", action="store_true", help="cancel the task's whole subtree")


def _compact(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _phase(row: Mapping[str, Any]) -> str:
    outcome = row.get("outcome")
    return f"{row.get('phase', '?')}/{outcome}" if outcome else str(row.get("phase", "?"))


def _task_lines(task: Mapping[str, Any]) -> str:
    return "\n".join(f"{name}: {_compact(task[name])}" for name in _FIELDS if name in task)


def _list_lines(page: Mapping[str, Any]) -> str:
    return "\n".join(
        f"{row['task_id']}  {_phase(row)}  {row.get('name', '')}" for row in page["tasks"]
    )


def _cancel_text(answer: Mapping[str, Any]) -> str:
    if answer.get("kind") == "Batch":
        result = answer.get("result", {})
        return "\n".join(
            f"{key}: {' '.join(result.get(key, [])) or '-'}"
            for key in ("requested", "skipped_by_policy", "denied", "already_terminal")
        )
    task = answer.get("task", {})
    pending = task.get("pending_control")
    if pending and pending.get("action") == "Cancel":
        state = f"cancel requested ({pending.get('request_id')}); the runner applies it"
    else:
        state = _phase(task)
    return f"{task.get('task_id')}  {state}"


def _do(args: argparse.Namespace, rt: BuckyOSRuntime) -> int:
    from buckyos.generated import task_manager_pb2 as tm
    from buckyos.generated.task_manager_rpc import (
        TASK_MANAGER_GET_TASK,
        TASK_MANAGER_LIST_TASKS,
        TASK_MANAGER_REQUEST_CONTROL,
    )
    from buckyos.runtime.program import get_task_manager_client
    from buckyos.runtime.wire import encode_result

    client = get_task_manager_client(rt, timeout=args.timeout)
    verb: str = args.verb
    if verb == "list":
        page = client.ListTasks(
            phase=None
            if args.phase is None
            else tm.TaskPhase.Value(f"TASK_PHASE_{args.phase.upper()}"),
            root_id=args.tree,
            schema_id=args.schema,
            creator_app_id=args.app,
            include_archived=True if args.archived else None,
            limit=args.limit,
            cursor=args.cursor,
        )
        data = encode_result(TASK_MANAGER_LIST_TASKS, page)
        if args.json or data["tasks"]:
            emit(data, as_json=args.json, text=_list_lines)
        if not args.json and data.get("next_cursor"):
            print(f"more: --cursor {data['next_cursor']}", file=sys.stderr)
    elif verb == "get":
        result = client.GetTask(task_id=args.task_id)
        task = encode_result(TASK_MANAGER_GET_TASK, result)["task"]
        emit(task, as_json=args.json, text=_task_lines)
    else:
        answer = client.cancel_task(args.task_id, recursive=args.recursive)
        emit(
            encode_result(TASK_MANAGER_REQUEST_CONTROL, answer),
            as_json=args.json,
            text=_cancel_text,
        )
    return EXIT_OK


def run(args: argparse.Namespace) -> int:
    """The ``task`` subcommands: check the command line, then one call."""
    if not args.timeout > 0:
        raise CliError("--timeout must be > 0", EXIT_USAGE)
    if getattr(args, "limit", 1) < 1:
        raise CliError("--limit must be >= 1 (task-manager answers at most 500)", EXIT_USAGE)
    if getattr(args, "task_id", "x") == "":
        raise CliError("TASK_ID is empty; give a task id such as t-4f0c...", EXIT_USAGE)
    with connect(args, apis=(_API,), timeout=args.timeout) as conn:
        return conn.call(lambda rt: _do(args, rt))
