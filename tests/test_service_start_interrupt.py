"""Ctrl-C while a service process is still importing: one line and 130, no traceback.

``python -m buckyos.services.<service>`` (each of the zone's) imports for a few hundred
milliseconds before its ``main`` installs the process's stop policy.  A SIGINT (SIGTERM)
in that time ends it with ``<module>: interrupted by SIGINT while starting`` and exit 130
(143), the guard ``buckyos.services.launch`` installs first thing.  Real processes, real
signals, at 0.1, 0.2 and 0.3 s after the start.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from buckyos.runtime.security.keys import (
    generate_key_pair,
    generate_private_key,
    private_key_to_pem,
    public_key_to_jwk,
)
from buckyos.services.launch import launched_module

DELAYS = (0.1, 0.2, 0.3)
_LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ \S+: ")
SERVICES = ("system_config", "verify_hub", "gateway", "kevent", "task_manager", "kmsg")
DEAD_URL = "http://127.0.0.1:9"  # nothing listens: the services start without it


def _args(service: str, root: Path) -> list[str]:
    device = ["--device-name", "ood1", "--device-key", str(root / "device.pem")]
    if service == "system_config":
        return [
            "--db", str(root / "sc.db"), "--owner-key", str(root / "owner.jwk"), *device,
            "--krpc-port", "0", "--no-grpc",
        ]  # fmt: skip
    if service == "verify_hub":
        return [
            "--key", str(root / "verify_hub.pem"), "--state", str(root / "vh.db"),
            "--system-config", DEAD_URL, "--owner-key", str(root / "owner.jwk"), *device,
            "--krpc-port", "0", "--no-grpc",
        ]  # fmt: skip
    standalone = ["--trust-key", f"root={root / 'owner.jwk'}"]
    if service == "kevent":
        return [*standalone, "--port", "0"]
    if service in ("task_manager", "kmsg"):
        return [
            "--db", str(root / f"{service}.db"), *standalone, "--krpc-port", "0", "--no-grpc"
        ]  # fmt: skip
    return ["--system-config", DEAD_URL, *device, "--port", "0"]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    _, owner = generate_key_pair()
    (tmp_path / "owner.jwk").write_text(json.dumps(public_key_to_jwk(owner)))
    (tmp_path / "device.pem").write_text(private_key_to_pem(generate_private_key()))
    (tmp_path / "verify_hub.pem").write_text(private_key_to_pem(generate_private_key()))
    return tmp_path


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("BUCKYOS_")}


def _interrupt(service: str, root: Path, delay: float, sig: signal.Signals) -> tuple[int, str, str]:
    """Start the service, send ``sig`` ``delay`` s later: (exit code, stdout, stderr)."""
    module = f"buckyos.services.{service}"
    process = subprocess.Popen(
        [sys.executable, "-m", module, *_args(service, root)],
        cwd=root,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(delay)
        process.send_signal(sig)
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:  # still running: a failure, never left behind
            process.kill()
            process.communicate()
    return process.returncode, out, err


@pytest.mark.parametrize("service", SERVICES)
def test_ctrl_c_while_importing_is_one_line_and_130(root: Path, service: str) -> None:
    module = f"buckyos.services.{service}"
    guarded = []
    for delay in DELAYS:
        code, out, err = _interrupt(service, root, delay, signal.SIGINT)
        assert "Traceback" not in err, (delay, err)
        assert "KeyboardInterrupt" not in err, (delay, err)
        if "listening on" in out or "stopping: signal received" in err:
            # A very fast start: it served (perhaps before printing its ready lines), and
            # stopped gracefully.
            assert code == 0, (delay, code, err)
            continue
        assert code == 130, (delay, code, out, err)
        # The service's own log lines (casbin's model at INFO, ...) are not what is
        # checked here: no traceback, and one line or none of our own.
        lines = [line for line in err.strip().splitlines() if not _LOG_LINE.match(line)]
        if lines == [f"{module}: interrupted by SIGINT while starting"]:
            guarded.append(delay)
        else:  # past its imports: the service's own stop policy, which says nothing
            assert lines == [], (delay, err)
    # 0.1 s is well inside the imports (about 0.3 s on an idle machine).
    assert DELAYS[0] in guarded, guarded


def test_sigterm_while_importing_is_one_line_and_143(root: Path) -> None:
    code, out, err = _interrupt("gateway", root, 0.1, signal.SIGTERM)
    assert (code, out) == (143, "")
    assert err == "buckyos.services.gateway: interrupted by SIGTERM while starting\n"


def test_importing_the_services_as_a_library_leaves_signals_alone(root: Path) -> None:
    probe = (
        "import signal, buckyos.services.gateway, buckyos.services.system_config; "
        "print(signal.getsignal(signal.SIGINT) is signal.default_int_handler, "
        "signal.getsignal(signal.SIGTERM) is signal.SIG_DFL)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], env=_env(), capture_output=True, text=True, timeout=30
    )
    assert done.stdout.split() == ["True", "True"], done.stderr


@pytest.mark.parametrize(
    ("argv", "module"),
    [
        (["python", "-m", "buckyos.services.gateway", "--port", "0"], "buckyos.services.gateway"),
        (["python", "-mbuckyos.services.verify_hub"], "buckyos.services.verify_hub"),
        (["python", "-u", "-X", "dev", "-W", "ignore", "-m", "pkg", "-m", "x"], "pkg"),
        (["python", "script.py", "-m", "buckyos.services.gateway"], None),
        (["python", "-c", "pass", "-m", "buckyos.services.gateway"], None),
        (["python", "-m"], None),
    ],
)
def test_launched_module_reads_the_interpreter_command_line(
    argv: list[str], module: str | None
) -> None:
    assert launched_module(argv) == module
