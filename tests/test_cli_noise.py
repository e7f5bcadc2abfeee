"""Each error once, in one line, with what to do; nothing else on stderr.

- A zone that is down: the call's error is printed once (not repeated inside an
  ``[all 1 endpoint ...]`` list), with a hint to ``buckyos zone status``; the runtime's
  own log lines (an endpoint going dead, a retry) appear only with ``--debug``.
- A gRPC port in use: our one line, no line from grpc's C core.
- ``zone up`` with a root it cannot use: one line each (a folder it cannot create, a file
  in the way, an empty ``--root``), no traceback and nothing written elsewhere.
- An ``OSError`` a command does not explain itself is one line too.

Real processes for the zone and ``serve``; ``main()`` in this process for the rest.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from buckyos.cli.main import main

ROOT = Path(__file__).resolve().parent.parent
BUCKYOS = str(ROOT / ".venv" / "bin" / "buckyos")


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("BUCKYOS_")}


def run_cli(*argv: str, stdin: str | None = None, cwd: Path | None = None) -> Any:
    return subprocess.run(
        [BUCKYOS, *argv],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=90,
        env=clean_env(),
        cwd=cwd,
    )


def in_process(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with (
        mock.patch.dict(os.environ, clean_env(), clear=True),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def one_line(text: str) -> str:
    assert text.count("\n") == 1 and text.endswith("\n"), text
    assert "Traceback" not in text
    return text.strip()


def wait_dead(pid: int, deadline: float = 10.0) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    raise AssertionError(f"pid {pid} still alive")


@pytest.fixture(scope="module")
def zone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Any]]]:
    """A zone that was up (admin logged in), then stopped: its session points at it."""
    root = (tmp_path_factory.mktemp("noise") / "zone").resolve()
    up = run_cli("zone", "up", "--root", str(root), "--ports", "auto", "--json")
    try:
        assert up.returncode == 0, up.stderr
        info = json.loads(up.stdout)
        login = run_cli(
            "login", "--root", str(root), "-u", "admin", "--password-stdin",
            stdin=info["admin"]["password"] + "\n",
        )  # fmt: skip
        assert login.returncode == 0, login.stderr
        yield root, info
    finally:
        run_cli("zone", "down", "--root", str(root))


def test_with_the_zone_down_an_error_is_one_line_with_a_hint(
    zone: tuple[Path, dict[str, Any]],
) -> None:
    root, info = zone
    # verify-hub gone, the gateway still up: the gateway says no instance is started
    hub = info["services"]["verify-hub"]["pid"]
    os.kill(hub, signal.SIGTERM)
    wait_dead(hub)
    login = run_cli(
        "login", "--root", str(root), "-u", "admin", "--password-stdin", stdin="wrong\n"
    )
    assert login.returncode == 1
    line = one_line(login.stderr)  # no routing warning before it
    assert line.startswith("buckyos login: error: Service not valid: no started instance of ")
    assert line.endswith(f"; is the zone running? check with `buckyos zone status --root {root}`")
    debug = run_cli(
        "--debug", "login", "--root", str(root), "-u", "admin", "--password-stdin",
        stdin="wrong\n",
    )  # fmt: skip
    assert "WARNING buckyos.runtime.client.routing: " in debug.stderr  # --debug shows them

    # all of it down: connection refused, said once
    down = run_cli("zone", "down", "--root", str(root))
    assert down.returncode == 0, down.stderr
    get = run_cli("sys-config", "get", "boot/config", "--root", str(root))
    assert get.returncode == 1
    line = one_line(get.stderr)
    assert line.startswith("buckyos sys-config get: error: Failed due to reason: connection ")
    assert line.count("connection refused") == 1, line
    assert "[all 1 endpoint" not in line
    assert line.endswith(
        f"; nothing answers there: is the zone running? check with `buckyos zone status "
        f"--root {root}`"
    )
    login = run_cli(
        "login", "--root", str(root), "-u", "admin", "--password-stdin", stdin="wrong\n"
    )
    assert login.returncode == 1
    assert one_line(login.stderr).count("connection refused") == 1


def test_a_grpc_port_in_use_is_our_one_line_only(tmp_path: Path) -> None:
    (tmp_path / "target.py").write_text(
        "from buckyos.runtime.security.rbac import RbacEnforcer\n"
        "from buckyos.runtime.security.token_verifier import TokenVerifier\n"
        "from buckyos.runtime.security.trust_keys import TrustKeyStore\n"
        "from buckyos.runtime.server import Binding\n"
        "from buckyos.generated.system_config_rpc import SystemConfigServicer\n"
        "binding = Binding('system_config', verifier=TokenVerifier(TrustKeyStore()),\n"
        "                  rbac=RbacEnforcer())\n"
        "binding.add_service(SystemConfigServicer())\n"
    )
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_cli(
            "serve", "target:binding", "--app-dir", str(tmp_path), "--krpc-port", "0",
            "--grpc-port", str(port), cwd=tmp_path,
        )  # fmt: skip
    assert done.returncode == 1
    assert one_line(done.stderr) == (
        f"buckyos serve: error: cannot listen on 127.0.0.1 (kRPC port 0, gRPC port {port}): "
        f"gRPC server cannot bind 127.0.0.1:{port}: Address already in use; free the port or "
        "choose another with --krpc-port/--grpc-port (0 picks a free one)"
    )


NO_SUCH_FOLDER = "cannot create the zone in /proc/x: No such file or directory"


@pytest.mark.parametrize(
    ("root", "expected"),
    [("/proc/x", NO_SUCH_FOLDER), ("/proc/self/zone", "cannot create the zone in ")],
)
def test_a_root_it_cannot_create_is_one_line(root: str, expected: str) -> None:
    code, out, err = in_process("zone", "up", "--root", root, "--ports", "auto")
    assert code == 1
    assert out == ""
    line = one_line(err)
    assert line.startswith(f"buckyos zone up: error: {expected}")
    assert line.endswith("; choose a folder you can write")


def test_a_read_only_root_is_one_line() -> None:
    done = run_cli("zone", "up", "--root", "/sys/zone", "--ports", "auto")
    assert done.returncode == 1
    line = one_line(done.stderr)
    assert line.startswith("buckyos zone up: error: cannot create the zone in /sys/zone: ")
    assert line.endswith("; choose a folder you can write")


def test_a_file_in_the_way_gets_accurate_advice(tmp_path: Path) -> None:
    afile = tmp_path / "afile"
    afile.write_text("mine")
    code, _, err = in_process("zone", "up", "--root", str(afile), "--ports", "auto")
    assert code == 1
    assert one_line(err) == (
        f"buckyos zone up: error: {afile} is a file, not a folder: give --root a folder for "
        "the zone (a new one is created)"
    )
    for verb in ("status", "down"):
        code, _, err = in_process("zone", verb, "--root", str(afile))
        assert code == 1
        assert one_line(err) == (
            f"buckyos zone {verb}: error: no zone at {afile}: it is a file, not a zone's folder"
        )
    code, _, err = in_process("zone", "up", "--root", str(afile / "zone"), "--ports", "auto")
    assert code == 1
    assert one_line(err) == (
        f"buckyos zone up: error: {afile / 'zone'} cannot be a folder: {afile} is a file; "
        "give --root a folder"
    )
    root = tmp_path / "zone"
    root.mkdir()
    (root / "run").write_text("not a folder")
    code, _, err = in_process("zone", "up", "--root", str(root), "--ports", "auto")
    assert code == 1
    assert one_line(err) == (
        f"buckyos zone up: error: {root / 'run'} is a file where the zone at {root} needs a "
        "folder: move it away, or give --root another folder"
    )
    assert "remove" not in err
    assert afile.read_text() == "mine"


def test_an_empty_root_is_refused_and_writes_nothing(tmp_path: Path) -> None:
    done = run_cli("zone", "up", "--root", "", "--ports", "auto", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == (
        "buckyos zone up: error: argument --root: an empty folder name would put the zone in "
        "the current folder; give a folder, e.g. --root ./zone (or leave --root out for "
        "./.buckyos-zone)"
    )
    assert list(tmp_path.iterdir()) == []


def test_an_unexplained_os_error_is_one_line() -> None:
    def fails(args: object) -> int:
        raise PermissionError(13, "Permission denied", "/somewhere/file")

    with mock.patch("buckyos.cli.zone.run", fails):
        code, _, err = in_process("zone", "status")
    assert code == 1
    assert one_line(err) == (
        "buckyos zone status: error: /somewhere/file: Permission denied; check that path and "
        "its permissions"
    )


def test_an_interrupt_is_one_line() -> None:
    def interrupted(args: object) -> int:
        raise KeyboardInterrupt

    with mock.patch("buckyos.cli.zone.run", interrupted):
        code, _, err = in_process("zone", "status")
    assert code == 130
    assert one_line(err) == "buckyos zone status: error: interrupted"
    assert sys.exc_info() == (None, None, None)
