"""docs/client.md's examples run as written against a real local zone (processes)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from buckyos.services.zone import ZoneInfo, parse_ports, zone_down, zone_up

PAGE = Path(__file__).resolve().parents[1] / "docs" / "client.md"
# The password example continues the sync one: it uses that one's imports.
IMPORTS = "from buckyos.runtime.program.runtime import RuntimeType, init_buckyos_api_runtime\n"


def _example(heading: str) -> str:
    section = PAGE.read_text(encoding="utf-8").split(f"## {heading}\n", 1)[1]
    found = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert found is not None, heading
    return found.group(1)


@pytest.fixture(scope="module")
def zone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ZoneInfo]:
    root = tmp_path_factory.mktemp("zone") / "root"
    # the examples' names: user alice (password "secret"), app my-app
    info = zone_up(
        root, ports=parse_ports("auto"), admin="alice", password="secret", apps=("my-app",)
    )
    try:
        yield info
    finally:
        zone_down(root)


def _run(zone: ZoneInfo, code: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUCKYOS_")}
    env.update(zone.env())
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )


def test_sync_example(zone: ZoneInfo) -> None:
    done = _run(zone, _example("Sync"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == '{"theme": "dark"}'


def test_asyncio_example(zone: ZoneInfo) -> None:
    done = _run(zone, _example("asyncio"))
    assert done.returncode == 0, done.stderr


def test_password_example(zone: ZoneInfo) -> None:
    code = IMPORTS + _example("Password login (CLI, scripts)")
    done = _run(zone, code + "print(rt.token_info().sub)\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "alice"
