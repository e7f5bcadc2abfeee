"""``make demo`` end to end: a real zone in processes, three transports, clean teardown."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest


def test_demo_runs_every_step_and_tears_down(tmp_path: Path) -> None:
    root = tmp_path / "zone"
    done = subprocess.run(
        [sys.executable, "-m", "buckyos.services.zone.demo", "--calls", "3", "--root", str(root)],
        capture_output=True,
        text=True,
        timeout=180,
    )
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert "logged in: user admin (admin)" in out
    assert "token traded at verify-hub: iss verify-hub" in out
    assert '= {"writer": "kRPC/HTTP via gateway", "n": 2}  (revision 3)' in out
    assert '= {"writer": "gRPC direct", "n": 2}' in out
    assert "stopped gateway, kmsg, task-manager, kevent, verify-hub, system_config" in out
    # The task: created, run and committed by the app; the follower woken by kevent for
    # each change (through the gateway) reads the task then, up to its final snapshot.
    task_id = re.search(r"^    created (t-[0-9a-f]{32})$", out, re.MULTILINE)
    assert task_id is not None, out
    followed = re.findall(rf"follower: kevent /task_mgr/{task_id[1]} (\w+) -> (\w+)", out)
    assert followed[0] == ("TaskCreated", "accepted"), followed
    assert followed[-1] == ("ResultCommitted", "terminal"), followed
    assert followed.count(("ProgressReported", "running")) == 3, followed
    assert 'follower: final snapshot succeeded, result {"photos": 3' in out
    for transport in ("kRPC/HTTP via gateway", "gRPC direct", "in-process"):
        assert re.search(rf"^  {re.escape(transport)} +6 ", out, re.MULTILINE), out
    assert out.rstrip().endswith("demo OK")
    assert not (root / "run" / "zone.json").exists()  # nothing left running


def test_demo_failure_says_which_step(tmp_path: Path) -> None:
    root = tmp_path / "zone"
    (root / "etc").mkdir(parents=True)  # a half-written root: the zone cannot come up
    done = subprocess.run(
        [sys.executable, "-m", "buckyos.services.zone.demo", "--calls", "1", "--root", str(root)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "demo FAILED: zone up in" in done.stderr
    assert "is half-written" in done.stderr


class _SlowPipe(io.StringIO):
    """stdout as a pipe is: a write may give up the GIL (a full buffer goes to the OS)."""

    def write(self, text: str) -> int:
        time.sleep(0)
        return super().write(text)


def test_demo_lines_from_two_threads_never_share_a_line(monkeypatch: pytest.MonkeyPatch) -> None:
    # The follower thread and the main thread both report; a CI run once read "created
    # t-..." and a follower line on one line, and the task id was not found.
    from buckyos.services.zone import demo

    out = _SlowPipe()
    monkeypatch.setattr(sys, "stdout", out)

    def report(n: int) -> None:
        for i in range(500):
            demo._say(f"line {n} {i}")

    threads = [threading.Thread(target=report, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    lines = out.getvalue().splitlines()
    torn = [line for line in lines if not re.fullmatch(r"line \d \d+", line)]
    assert not torn, torn[:5]
    assert len(lines) == 2000
