"""``buckyos zone up|down|status``: a real zone in processes, and each refusal as one line.

One zone per module (``zone up --ports auto`` as a real process, its text output read),
always stopped with ``zone down``.  Refusals that start nothing (a malformed ``--ports``,
no zone at a root) call ``main()`` in this process; the ones that touch a real zone or
real ports run the console script.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import pytest

from buckyos.cli.main import main
from buckyos.generated.system_config_rpc import SystemConfigStub
from buckyos.runtime.client.grpc_client import GrpcTransport
from buckyos.runtime.client.krpc_client import KrpcTransport
from buckyos.runtime.errors import NoPermissionError
from buckyos.runtime.security.keys import load_private_key_file
from buckyos.runtime.security.token_signing import sign_token

ROOT = Path(__file__).resolve().parent.parent
BUCKYOS = str(ROOT / ".venv" / "bin" / "buckyos")


@dataclass(frozen=True)
class Done:
    returncode: int
    stdout: str
    stderr: str


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUCKYOS_")}
    env.update(extra)
    return env


def buckyos(*argv: str, process: bool = False, **env: str) -> Done:
    """``buckyos ARGV``: a real process, or ``main()`` in this one."""
    environ = clean_env(**env)
    if process:
        done = subprocess.run(
            [BUCKYOS, *argv], capture_output=True, text=True, timeout=90, env=environ
        )
        return Done(done.returncode, done.stdout, done.stderr)
    out, err = io.StringIO(), io.StringIO()
    with (
        mock.patch.dict(os.environ, environ, clear=True),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        code = main(list(argv))
    return Done(code, out.getvalue(), err.getvalue())


def one_line(text: str) -> str:
    assert text.count("\n") == 1 and text.endswith("\n"), text
    return text.strip()


@dataclass(frozen=True)
class Zone:
    root: Path
    up: Done


@pytest.fixture(scope="module")
def zone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Zone]:
    root = tmp_path_factory.mktemp("cli-zone") / "zone"
    try:
        up = buckyos("zone", "up", "--root", str(root), "--ports", "auto", "--app", "notes",
                     process=True)  # fmt: skip
        assert up.returncode == 0, up.stderr
        yield Zone(root, up)
    finally:
        buckyos("zone", "down", "--root", str(root), process=True)


def test_up_prints_endpoints_password_and_env(zone: Zone) -> None:
    out = zone.up.stdout
    root = zone.root.resolve()
    assert re.match(rf"^zone did:web:127\.0\.0\.1%3A\d+ is up at {re.escape(str(root))} ", out)
    urls = dict(re.findall(r"^  (\S+) +kRPC (http://127\.0\.0\.1:\d+)", out, re.MULTILINE))
    assert set(urls) == {"system_config", "verify-hub", "kevent", "task-manager", "kmsg", "gateway"}
    grpc = re.findall(r"gRPC (grpc://127\.0\.0\.1:\d+)", out)
    # system_config, verify-hub, task-manager, kmsg, in the URL form service_urls take
    assert len(grpc) == 4
    password = re.search(r"^admin user: admin  password: (\S+)$", out, re.MULTILINE)
    assert password is not None and len(password.group(1)) >= 12
    assert f"export BUCKYOS_DEV_HOME={root}/etc\n" in out
    assert f"export BUCKYOS_ROOT={root}\n" in out
    # The printed URL is a live system_config that wants a token.
    with KrpcTransport(urls["system_config"]) as transport, pytest.raises(NoPermissionError) as e:
        transport.call_json("system_config", "sys_config_get", {"key": "boot/config"})
    assert str(e.value) == "No permission:No session token"
    # So is the printed gRPC URL, as GrpcTransport takes it.
    with GrpcTransport(grpc[0]) as channel, pytest.raises(NoPermissionError):
        SystemConfigStub(channel).Get(key="boot/config")


def test_status_running_and_json(zone: Zone) -> None:
    text = buckyos("zone", "status", "--root", str(zone.root), process=True)
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith(f"zone at {zone.root.resolve()}: running\n")
    assert text.stdout.count(" up ") == 6
    # BUCKYOS_ZONE_ROOT is the default root.
    data = buckyos("zone", "status", "--json", BUCKYOS_ZONE_ROOT=str(zone.root))
    assert data.returncode == 0
    status = json.loads(data.stdout)
    assert status["running"] is True
    assert {name: s["alive"] for name, s in status["services"].items()} == {
        "system_config": True,
        "verify-hub": True,
        "kevent": True,
        "task-manager": True,
        "kmsg": True,
        "gateway": True,
    }
    assert status["info"]["root"] == str(zone.root.resolve())


def test_up_gives_apps_the_app_role(zone: Zone) -> None:
    info = json.loads((zone.root / "run" / "zone.json").read_text())["info"]
    owner = load_private_key_file(zone.root / "etc" / "user_private_key.pem")
    token = sign_token({"sub": "root", "appid": "kernel", "exp": int(time.time()) + 60},
                       owner, kid="root")  # fmt: skip
    url = info["services"]["system_config"]["krpc_url"]
    with KrpcTransport(url, token=token) as transport:
        got = transport.call_json("system_config", "sys_config_get", {"key": "system/rbac/policy"})
    assert "g, notes, app" in got["value"].splitlines()


def test_up_twice_is_refused(zone: Zone) -> None:
    again = buckyos("zone", "up", "--root", str(zone.root), "--ports", "auto", process=True)
    assert again.returncode == 1
    assert again.stdout == ""
    line = one_line(again.stderr)
    root = zone.root.resolve()
    assert line.startswith(f"buckyos zone up: error: a zone is already running at {root} (pids ")
    assert line.endswith(f"run `buckyos zone down --root {root}` first")


def test_a_port_in_use_is_refused_and_creates_nothing(tmp_path: Path) -> None:
    root = tmp_path / "zone"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        ports = "system_config=0,system_config_grpc=0,verify_hub=0,verify_hub_grpc=0"
        done = buckyos("zone", "up", "--root", str(root), "--ports", f"{ports},gateway={port}",
                       process=True)  # fmt: skip
    assert done.returncode == 1
    assert one_line(done.stderr) == (
        f"buckyos zone up: error: port {port} (gateway) on 127.0.0.1 is in use (Address "
        "already in use): stop what uses it or choose others, e.g. --ports auto or "
        "--ports gateway=<port>"
    )
    assert not (root / "etc").exists()


def test_a_half_written_root_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "zone"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "node_identity.json").write_text("{}")
    done = buckyos("zone", "up", "--root", str(root), "--ports", "auto", process=True)
    assert done.returncode == 1
    line = one_line(done.stderr)
    assert line.startswith(f"buckyos zone up: error: zone root {root} is half-written: ")
    assert "Remove" in line and "`buckyos zone up` again." in line
    assert (root / "etc" / "node_identity.json").read_text() == "{}"  # left as it was
    assert not (root / "run" / "zone.json").exists()


def test_malformed_ports_are_a_usage_error(tmp_path: Path) -> None:
    done = buckyos("zone", "up", "--root", str(tmp_path), "--ports", "gateway=http")
    assert done.returncode == 2
    assert one_line(done.stderr) == (
        "buckyos zone up: error: --ports: 'http' for gateway is not a port number"
    )
    unknown = buckyos("zone", "up", "--root", str(tmp_path), "--ports", "web=80")
    assert unknown.returncode == 2
    assert "'web=80' is not NAME=PORT with NAME one of system_config," in unknown.stderr
    assert not (tmp_path / "etc").exists()


def test_ports_help_spells_the_zones_defaults() -> None:
    # cli/zone.py spells the default ports out (importing the contracts for them would slow
    # every command's start): they must stay the ones zone_up uses.
    from buckyos.cli import zone as cli_zone
    from buckyos.services.zone import DEFAULT_PORTS

    done = buckyos("zone", "up", "--help")
    assert done.returncode == 0
    names, ports = ", ".join(DEFAULT_PORTS), ", ".join(map(str, DEFAULT_PORTS.values()))
    assert f"{names} (default: upstream's {ports})" in " ".join(done.stdout.split())
    p = list(DEFAULT_PORTS.values())
    spelled = f"({p[0]}/{p[1]}, {p[2]}/{p[3]}, {p[4]}, {p[5]}/{p[6]}, {p[7]}/{p[8]}, {p[9]})"
    assert spelled in " ".join((cli_zone.__doc__ or "").split())


def test_status_and_down_without_a_zone(tmp_path: Path) -> None:
    status = buckyos("zone", "status", "--root", str(tmp_path))
    assert status.returncode == 1
    assert status.stdout == ""
    assert one_line(status.stderr) == (
        f"buckyos zone status: error: no zone is running at {tmp_path}; start it with "
        f"`buckyos zone up --root {tmp_path}`"
    )
    down = buckyos("zone", "down", "--root", str(tmp_path))
    assert down.returncode == 1
    assert one_line(down.stderr) == (
        f"buckyos zone down: error: no zone is running at {tmp_path} (no {tmp_path}/run/zone.json)"
    )


def wait_dead(pid: int, deadline: float = 10.0) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        with open(f"/proc/{pid}/stat") as stat:
            if stat.read().rsplit(")", 1)[1].split()[0] == "Z":
                return
        time.sleep(0.05)
    raise AssertionError(f"pid {pid} still alive after {deadline}s")


def test_a_dead_service_shows_then_down_stops_the_rest(zone: Zone) -> None:
    # Runs last in this module: it takes the zone down.
    info = json.loads((zone.root / "run" / "zone.json").read_text())
    pid = info["pids"]["gateway"]
    os.kill(pid, signal.SIGTERM)
    wait_dead(pid)
    status = buckyos("zone", "status", "--root", str(zone.root))
    assert status.returncode == 1
    assert re.search(r"^  gateway +DEAD pid \d+", status.stdout, re.MULTILINE)
    root = zone.root.resolve()
    assert one_line(status.stderr) == (
        f"buckyos zone status: error: the zone at {root} is partly dead (gateway not "
        f"running, see {root}/logs); restart it: `buckyos zone down --root {root}` then "
        f"`buckyos zone up --root {root}`"
    )
    down = buckyos("zone", "down", "--root", str(zone.root), process=True)
    assert down.returncode == 0, down.stderr
    assert down.stdout == (
        "stopped kmsg, task-manager, kevent, verify-hub, system_config (gateway had already "
        f"exited) at {root}\n"
    )
    assert buckyos("zone", "status", "--root", str(zone.root)).returncode == 1
