"""docs/client.md's examples run as written against a real local zone (processes), made
the way the page says: its shell lines (`zone up`, then `user add alice --config-dir`)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parents[1] / "docs" / "client.md"
# The password example continues the sync one: it uses that one's imports.
IMPORTS = "from buckyos.runtime.program.runtime import RuntimeType, init_buckyos_api_runtime\n"


BIN = Path(sys.executable).parent


def _example(heading: str, language: str = "python") -> str:
    section = PAGE.read_text(encoding="utf-8").split(f"## {heading}\n", 1)[1]
    found = re.search(rf"```{language}\n(.*?)```", section, re.DOTALL)
    assert found is not None, heading
    return found.group(1)


def _clean_env(cwd: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUCKYOS_")}
    env["HOME"] = str(cwd)  # no ~/.buckycli of the machine
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


@pytest.fixture(scope="module")
def zone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The page's shell lines, run as written in a fresh folder; the environment they
    leave (``BUCKYOS_DEV_HOME``, alice's folder)."""
    cwd = tmp_path_factory.mktemp("docs-client")
    env = _clean_env(cwd)
    script = _example("On a local zone", "sh") + 'echo "BUCKYOS_DEV_HOME=$BUCKYOS_DEV_HOME"\n'
    try:
        done = subprocess.run(["bash", "-euc", script], cwd=cwd, env=env,
                              capture_output=True, text=True, timeout=120)  # fmt: skip
        assert done.returncode == 0, done.stderr
        name, _, value = done.stdout.strip().splitlines()[-1].partition("=")
        assert name == "BUCKYOS_DEV_HOME" and value == str(cwd / "alice")
        yield {**env, "BUCKYOS_DEV_HOME": value}
    finally:
        subprocess.run([str(BIN / "buckyos"), "zone", "down", "--root", "./zone"],
                       cwd=cwd, env=env, capture_output=True, timeout=60)  # fmt: skip


def _run(env: dict[str, str], code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )


def test_sync_example(zone: dict[str, str]) -> None:
    done = _run(zone, _example("Sync"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == '{"theme": "dark"}'


def test_asyncio_example(zone: dict[str, str]) -> None:
    done = _run(zone, _example("asyncio"))
    assert done.returncode == 0, done.stderr


def test_password_example(zone: dict[str, str]) -> None:
    code = IMPORTS + _example("Password login (CLI, scripts)")
    done = _run(zone, code + "print(rt.token_info().sub)\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "alice"
