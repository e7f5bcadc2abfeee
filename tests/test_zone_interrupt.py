"""``buckyos zone up`` interrupted or failing at each step leaves nothing running.

Each test runs the console script as a real process on free ports, waits (polling the run
file and the services' logs, bounded) until ``zone up`` reached a step, then signals it.
What runs afterwards is read from ``/proc``, not from the code under test: every service
of a zone has the zone's root in its command line.  ``zone status`` and ``zone down``
must then agree that nothing runs, and a ``zone up`` killed outright (SIGKILL, no chance to
clean up) must never let a second one start another system_config on the same SQLite file.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BUCKYOS = str(ROOT / ".venv" / "bin" / "buckyos")
DEADLINE = 30.0


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("BUCKYOS_")}


def zone_processes(root: Path, *, but: int | None = None) -> dict[int, str]:
    """pid -> the service module of every live process whose command line names ``root``
    (the zone's services all do), but ``but`` (the ``zone up`` itself)."""
    found: dict[int, str] = {}
    needle = str(root).encode()
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) in (os.getpid(), but):
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
            with open(f"/proc/{name}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    continue
        except OSError:
            continue
        if any(needle in arg for arg in argv) and b"-m" in argv:
            module = argv[argv.index(b"-m") + 1].decode()
            if module.startswith("buckyos.services."):
                found[int(name)] = module
    return found


def system_configs_on(db: Path) -> list[int]:
    """The live system_config processes serving ``db``."""
    return [
        pid
        for pid, module in zone_processes(db.parents[2]).items()
        if module == "buckyos.services.system_config"
    ]


def run_cli(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BUCKYOS, *argv], capture_output=True, text=True, timeout=90, env=clean_env()
    )


def wait_for(what: str, check: Callable[[], bool], deadline: float = DEADLINE) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if check():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def wait_none_left(root: Path, but: int | None = None, deadline: float = 15.0) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if not zone_processes(root, but=but):
            return
        time.sleep(0.05)
    raise AssertionError(f"left running: {zone_processes(root, but=but)}")


def run_pids(root: Path) -> dict[str, int]:
    try:
        data = json.loads((root / "run" / "zone.json").read_text())
    except (OSError, ValueError):  # not there yet, or being replaced
        return {}
    pids = data.get("pids", {})
    return {str(k): int(v) for k, v in pids.items()}


def logged(root: Path, service: str, *needles: str) -> bool:
    try:
        text = (root / "logs" / f"{service}.log").read_text()
    except OSError:
        return False
    return all(needle in text for needle in needles)


@pytest.fixture
def root(tmp_path: Path) -> Iterator[Path]:
    zone = (tmp_path / "zone").resolve()
    try:
        yield zone
    finally:  # whatever a failed test left: kill it
        for pid in zone_processes(zone):
            try:
                os.kill(pid, signal.SIGCONT)
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def start_up(root: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [BUCKYOS, "zone", "up", "--root", str(root), "--ports", "auto"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(),
    )


def finish(up: subprocess.Popen[str]) -> tuple[int, str, str]:
    try:
        out, err = up.communicate(timeout=DEADLINE)
    except subprocess.TimeoutExpired:
        up.kill()
        out, err = up.communicate()
        raise AssertionError(f"zone up did not stop: {err}") from None
    return up.returncode, out, err


def assert_nothing_runs(root: Path) -> None:
    """``zone status`` and ``zone down`` agree with /proc: no zone here."""
    assert zone_processes(root) == {}
    assert not (root / "run" / "zone.json").exists()
    status = run_cli("zone", "status", "--root", str(root))
    assert status.returncode == 1
    assert status.stderr == (
        f"buckyos zone status: error: no zone is running at {root}; start it with "
        f"`buckyos zone up --root {root}`\n"
    )
    down = run_cli("zone", "down", "--root", str(root))
    assert down.returncode == 1
    assert "no zone is running" in down.stderr


# (step name, what to wait for) -- a step is reached when its check holds.
STEPS: dict[str, Callable[[Path], bool]] = {
    "system_config started": lambda r: "system_config" in run_pids(r),
    "system_config ready": lambda r: logged(r, "system_config", "kRPC listening", "gRPC listening"),
    "verify-hub started": lambda r: "verify-hub" in run_pids(r),
    "verify-hub ready": lambda r: logged(r, "verify-hub", "kRPC listening", "gRPC listening"),
    "task-manager started": lambda r: "task-manager" in run_pids(r),
    "gateway started": lambda r: "gateway" in run_pids(r),
}


@pytest.mark.parametrize(
    ("step", "sig"),
    [
        ("system_config started", signal.SIGINT),
        ("system_config ready", signal.SIGINT),
        ("verify-hub started", signal.SIGINT),
        ("verify-hub ready", signal.SIGTERM),
        ("task-manager started", signal.SIGTERM),
        ("gateway started", signal.SIGINT),
    ],
)
def test_interrupted_at_a_step_stops_what_it_started(
    root: Path, step: str, sig: signal.Signals
) -> None:
    up = start_up(root)
    try:
        wait_for(step, lambda: STEPS[step](root) or up.poll() is not None)
        assert up.poll() is None, up.stderr.read() if up.stderr else ""
        up.send_signal(sig)
        code, out, err = finish(up)
    finally:
        if up.poll() is None:
            up.kill()
            up.wait()
    assert code == 128 + sig, err
    assert out == ""
    assert err.count("\n") == 1, err  # one line, no traceback
    assert err.startswith(f"buckyos zone up: error: interrupted by {sig.name}: stopped what it had")
    assert err.endswith("; nothing of the zone runs\n")
    assert "system_config" in err
    wait_none_left(root)
    assert_nothing_runs(root)


def test_interrupted_while_seeding(root: Path) -> None:
    # system_config is paused (SIGSTOP) once verify-hub starts: the seed, which talks to
    # it once verify-hub is ready, then waits, and the interrupt lands during the seed.
    up = start_up(root)
    paused: int | None = None
    try:
        wait_for(
            "verify-hub started", lambda: "verify-hub" in run_pids(root) or up.poll() is not None
        )
        paused = run_pids(root)["system_config"]
        os.kill(paused, signal.SIGSTOP)
        wait_for("verify-hub ready", lambda: logged(root, "verify-hub", "kRPC listening"))
        time.sleep(0.3)
        assert up.poll() is None
        assert not (root / "run" / "zone.json").read_text().count('"state": "up"')
        up.send_signal(signal.SIGINT)
        time.sleep(0.2)
        os.kill(paused, signal.SIGCONT)
        code, out, err = finish(up)
    finally:
        if paused is not None:
            try:
                os.kill(paused, signal.SIGCONT)
            except ProcessLookupError:
                pass
        if up.poll() is None:
            up.kill()
            up.wait()
    assert code == 130, err
    assert out == ""
    assert err == (
        "buckyos zone up: error: interrupted by SIGINT: stopped what it had started "
        "(system_config, verify-hub); nothing of the zone runs\n"
    )
    wait_none_left(root)
    assert_nothing_runs(root)
    # The root is fine for the next zone up.
    again = run_cli("zone", "up", "--root", str(root), "--ports", "auto")
    try:
        assert again.returncode == 0, again.stderr
        assert len(zone_processes(root)) == 6
    finally:
        run_cli("zone", "down", "--root", str(root))
    wait_none_left(root)


def test_a_failing_later_step_stops_the_earlier_services(root: Path) -> None:
    # verify-hub's state file is a folder: it exits at start, after system_config is up.
    (root / "data" / "verify-hub" / "state.db").mkdir(parents=True)
    done = run_cli("zone", "up", "--root", str(root), "--ports", "auto")
    assert done.returncode == 1
    assert done.stderr.startswith("buckyos zone up: error: verify-hub exited with status ")
    assert "Traceback" not in done.stderr.split("the end of", 1)[0]
    wait_none_left(root)
    assert_nothing_runs(root)


def test_a_killed_zone_up_never_gets_a_second_system_config(root: Path) -> None:
    db = root / "data" / "system_config" / "config.db"
    up = start_up(root)
    try:
        # Killed as soon as system_config is recorded: zone up waits for it to be ready
        # before it starts verify-hub, so system_config is the one process left behind
        # (killing it at "ready" raced with verify-hub's start on a loaded machine).
        wait_for("system_config started", lambda: STEPS["system_config started"](root))
        up.kill()  # SIGKILL: nothing is cleaned up
        up.wait(timeout=DEADLINE)
    finally:
        if up.poll() is None:
            up.kill()
            up.wait()
    assert up.stdout is not None and up.stderr is not None
    up.stdout.close()
    up.stderr.close()
    orphan = system_configs_on(db)
    assert len(orphan) == 1
    # status tells what is left and how to stop it
    status = run_cli("zone", "status", "--root", str(root))
    assert status.returncode == 1
    assert f"zone at {root}: left half-started by an interrupted `buckyos zone up`" in (
        status.stdout
    )
    assert status.stderr.endswith(
        f"left system_config running; stop it with `buckyos zone down --root {root}`\n"
    )
    # a second zone up refuses, naming the process
    again = run_cli("zone", "up", "--root", str(root), "--ports", "auto")
    assert again.returncode == 1
    assert again.stderr == (
        f"buckyos zone up: error: a zone is already running at {root} (pids system_config "
        f"{orphan[0]}): run `buckyos zone down --root {root}` first\n"
    )
    assert system_configs_on(db) == orphan
    # ... also once the run file is gone: the lock the service holds still says so
    (root / "run" / "zone.json").unlink()
    lost = run_cli("zone", "up", "--root", str(root), "--ports", "auto")
    assert lost.returncode == 1
    assert lost.stderr == (
        f"buckyos zone up: error: services of the zone at {root} still run though no run "
        f"file lists them (pids system_config {orphan[0]}): run `buckyos zone down --root "
        f"{root}` first\n"
    )
    assert system_configs_on(db) == orphan
    stray = run_cli("zone", "status", "--root", str(root), "--json")
    assert stray.returncode == 1
    assert json.loads(stray.stdout)["services"] == {
        "system_config": {"pid": orphan[0], "alive": True, "stray": True}
    }
    # zone down finds and stops it
    down = run_cli("zone", "down", "--root", str(root))
    assert down.returncode == 0, down.stderr
    assert down.stdout == f"stopped system_config at {root}\n"
    wait_none_left(root)
    assert_nothing_runs(root)
