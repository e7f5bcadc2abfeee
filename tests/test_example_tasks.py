"""docs/tasks-and-events.md: its quoted code is ``examples/tasks/follow.py``, which runs
against a real zone (task-manager, kevent, the gateway, each its own process), and the
events of one user's task reach that user, not another.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from buckyos.generated.system_config_rpc import SystemConfigStub
from buckyos.runtime.client import KEventClient, KrpcTransport
from buckyos.services.zone import ZoneInfo, parse_ports, zone_down, zone_up
from buckyos.services.zone.identity import load_identity
from buckyos.services.zone.layout import ZoneLayout
from buckyos.services.zone.users import add_user
from buckyos.services.zone.zone import _root_token

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "tasks-and-events.md"
EXAMPLE = ROOT / "examples" / "tasks" / "follow.py"

_QUOTE = re.compile(
    r"<!-- quote: (?P<path>[^#\s]+)#(?P<region>[\w-]+) -->\n```python\n(?P<body>.*?)```",
    re.DOTALL,
)


@pytest.fixture(scope="module")
def zone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ZoneInfo]:
    root = tmp_path_factory.mktemp("tasks-zone") / "root"
    info = zone_up(root, ports=parse_ports("auto"))
    try:
        ident = load_identity(ZoneLayout(root))
        with KrpcTransport(
            info.services["system_config"]["krpc_url"], token=_root_token(ident)
        ) as transport:
            add_user(SystemConfigStub(transport), "bob", "bob-password-1")
        yield info
    finally:
        zone_down(root)


def _region(text: str, region: str) -> str:
    start = text.index(f"# --8<-- [start:{region}]\n")
    end = text.index(f"# --8<-- [end:{region}]")
    lines = text[start:end].splitlines()[1:]
    indent = min(len(line) - len(line.lstrip()) for line in lines if line.strip())
    return "".join(line[indent:] + "\n" for line in lines)


def test_the_page_quotes_the_example() -> None:
    page, example = PAGE.read_text(), EXAMPLE.read_text()
    quotes = list(_QUOTE.finditer(page))
    assert {q["region"] for q in quotes} == {"run", "follow", "final"}
    for quote in quotes:
        assert quote["path"] == "examples/tasks/follow.py"
        assert quote["body"] == _region(example, quote["region"]), quote["region"]


def _environ(info: ZoneInfo) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUCKYOS_")}
    env.update(info.env())
    return env


def _bob_token(info: ZoneInfo) -> str:
    from buckyos.runtime import RuntimeType, init_buckyos_api_runtime, reset_buckyos_api_runtime

    gateway = info.services["gateway"]["krpc_url"]
    rt = init_buckyos_api_runtime(
        "notes",
        "bob",
        RuntimeType.APP_CLIENT,
        root=info.root,
        config_dir=Path(info.root) / "etc",
        service_urls={"verify-hub": f"{gateway}/kapi/verify-hub"},
    )
    try:
        rt.login_by_password("bob", "bob-password-1")
        token = rt.current_token()
        assert token is not None
        return token
    finally:
        rt.close()
        reset_buckyos_api_runtime()


def test_the_example_runs_a_task_and_follows_it_on_kevent(zone: ZoneInfo) -> None:
    gateway = zone.services["gateway"]["krpc_url"]
    # bob, with another app on the same zone, must not hear of the admin's task.  (With
    # the app "photos" he would: the task ACL lets every user of a task's runner app read
    # it, as upstream's does, and kevent follows the ACL's audience.)
    with (
        KEventClient(f"{gateway}/kapi/kevent", token=_bob_token(zone)) as bobs,
        bobs.subscribe(["/task_mgr/**", "/notes/**"]) as bob_events,
    ):
        done = subprocess.run(
            [sys.executable, "-m", "examples.tasks.follow", zone.admin_user],
            input=zone.admin_password + "\n",
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=_environ(zone),
            timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        lines = done.stdout.splitlines()
        assert lines[0] == "TaskCreated Accepted revision 1"
        assert lines[1] == "PhaseChanged Running revision 2"
        assert lines[2:5] == [f"ProgressReported Running revision {n}" for n in (3, 4, 5)]
        assert lines[5] == "ResultCommitted Terminal revision 6"
        assert lines[6] == "final TASK_OUTCOME_SUCCEEDED {'photos': 3.0}"
        # Six events went by for the admin; bob's stream, open all along, got none of
        # them, and it works: his own app's event arrives.
        bobs.publish("/notes/ping", {"n": 1})
        got = bob_events.get(timeout=5.0)
        assert got is not None and got.eventid == "/notes/ping", got
    shown = re.search(r"<!-- output -->\n```text\n(.*?)```", PAGE.read_text(), re.DOTALL)
    assert shown is not None and shown[1].splitlines() == lines  # the page shows the run
