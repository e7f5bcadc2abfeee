"""``buckyos login``, ``sys-config``, ``call`` and ``token verify --hub`` against a real zone.

One zone per module (``buckyos zone up --ports auto`` in a tmp root, three real service
processes), always stopped with ``buckyos zone down``.  Commands run with a clean
environment (no ``~/.buckycli``, no ``BUCKYOS_*``), so the zone is found through
``--root`` or ``BUCKYOS_DEV_HOME`` only.  The main paths run the ``buckyos`` console
script as a real process (``process=True``); the rest call ``main()`` in this process
with stdin/stdout/stderr swapped (the same code after the entry point, without paying a
second of interpreter start-up each), against the same real services.  Expected texts
are upstream's wire texts written out (``buckyos-protocol.md`` sections 2, 5 and 6).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import stat
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from buckyos.cli.main import main
from buckyos.runtime.security.keys import generate_private_key
from buckyos.runtime.security.token_signing import sign_token

ROOT = Path(__file__).resolve().parent.parent
BUCKYOS = str(ROOT / ".venv" / "bin" / "buckyos")
SETTINGS = "users/admin/apps/buckycli/settings"
INFO = "users/admin/apps/buckycli/info"
SESSION = "buckyos-cli-session.json"


@dataclass(frozen=True)
class Zone:
    root: Path
    info: dict[str, Any]
    home: Path

    @property
    def password(self) -> str:
        return str(self.info["admin"]["password"])

    @property
    def session_file(self) -> Path:
        return self.root / "etc" / SESSION

    def session(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.session_file.read_text())
        return data


@dataclass(frozen=True)
class Done:
    """A finished command: exit code, stdout, stderr."""

    returncode: int
    stdout: str
    stderr: str


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUCKYOS_")}
    env["HOME"] = str(home)
    env.update(extra)
    return env


def buckyos(
    zone: Zone,
    *argv: str,
    stdin: str | None = None,
    root: bool = True,
    process: bool = False,
    **env: str,
) -> Done:
    """``buckyos ARGV [--root ROOT]``: a real process, or ``main()`` in this one."""
    args = [*argv, *(["--root", str(zone.root)] if root else [])]
    environ = clean_env(zone.home, **env)
    if process:
        done = subprocess.run(
            [BUCKYOS, *args], input=stdin, capture_output=True, text=True, timeout=60, env=environ
        )
        return Done(done.returncode, done.stdout, done.stderr)
    out, err = io.StringIO(), io.StringIO()
    with (
        mock.patch.dict(os.environ, environ, clear=True),
        mock.patch("sys.stdin", io.StringIO(stdin or "")),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        code = main(args)
    return Done(code, out.getvalue(), err.getvalue())


@pytest.fixture(scope="module")
def zone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Zone]:
    base = tmp_path_factory.mktemp("cli-session")
    root, home = base / "zone", base / "home"
    home.mkdir()
    env = clean_env(home)
    try:
        up = subprocess.run(
            [BUCKYOS, "zone", "up", "--root", str(root), "--ports", "auto", "--json"],
            capture_output=True,
            text=True,
            timeout=90,
            env=env,
        )
        assert up.returncode == 0, up.stderr
        yield Zone(root, json.loads(up.stdout), home)
    finally:
        subprocess.run(
            [BUCKYOS, "zone", "down", "--root", str(root)],
            capture_output=True,
            timeout=60,
            env=env,
        )


def login(zone: Zone) -> None:
    done = buckyos(zone, "login", "-u", "admin", "--password-stdin", stdin=zone.password + "\n")
    assert done.returncode == 0, done.stderr


def expired_token() -> str:
    """A session token verify-hub never issued, expired two minutes ago."""
    claims = {"sub": "admin", "appid": "buckycli", "exp": int(time.time()) - 120}
    return sign_token(claims, generate_private_key(), kid="verify-hub")


def write_session(zone: Zone, **changes: Any) -> None:
    data = zone.session()
    data.update(changes)
    zone.session_file.write_text(json.dumps(data))


# --------------------------------------------------------------------------- login


def test_not_logged_in_says_run_login(zone: Zone) -> None:
    zone.session_file.unlink(missing_ok=True)
    done = buckyos(zone, "sys-config", "get", "boot/config", process=True)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.startswith("buckyos sys-config get: error: not logged in")
    assert "run `buckyos login`" in done.stderr


def test_login_by_password_saves_a_private_session(zone: Zone) -> None:
    done = buckyos(
        zone,
        "login",
        "-u",
        "admin",
        "--password-stdin",
        "--json",
        stdin=zone.password + "\n",
        process=True,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["user_id"] == "admin"
    assert result["user_type"] == "admin"
    assert result["app_id"] == "buckycli"
    assert result["zone_did"] == zone.info["zone_did"]
    assert result["session_file"] == str(zone.session_file)
    assert 800 < result["expires_in"] <= 900
    assert stat.S_IMODE(zone.session_file.stat().st_mode) == 0o600
    saved = zone.session()
    assert saved["user_id"] == "admin" and saved["app_id"] == "buckycli"
    assert saved["session_token"].count(".") == 2 and saved["refresh_token"]


def test_wrong_password_and_unknown_user_are_refused(zone: Zone) -> None:
    wrong = buckyos(zone, "login", "-u", "admin", "-p", "not-the-password")
    assert wrong.returncode == 1
    assert wrong.stderr.strip() == (
        "buckyos login: error: Invalid password; check the user name and password"
    )
    nobody = buckyos(zone, "login", "-u", "nobody", "-p", "x")
    assert nobody.returncode == 1
    assert "error: User Not Found:nobody" in nobody.stderr


def test_login_option_conflicts_are_usage_errors(zone: Zone) -> None:
    both = buckyos(zone, "login", "-u", "admin", "-p", "x", "--password-stdin")
    assert both.returncode == 2
    assert "not allowed with argument" in both.stderr
    bad_root = buckyos(zone, "login", "--root", str(zone.root / "missing"), root=False)
    assert bad_root.returncode == 1
    assert "missing/etc does not exist" in bad_root.stderr


def test_login_with_the_user_key_through_dev_home(zone: Zone) -> None:
    # No --root: BUCKYOS_DEV_HOME, as `zone up` prints; no password: the user key there.
    done = buckyos(zone, "login", root=False, BUCKYOS_DEV_HOME=str(zone.root / "etc"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"logged in to {zone.info['zone_did']} as admin for app")
    assert zone.session()["refresh_token"]
    got = buckyos(zone, "sys-config", "get", "boot/config", root=False,
                  BUCKYOS_DEV_HOME=str(zone.root / "etc"))  # fmt: skip
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout)["zone_did"] == zone.info["zone_did"]


# --------------------------------------------------------------------------- sys-config


def test_sys_config_verbs_end_to_end(zone: Zone) -> None:
    login(zone)
    done = buckyos(zone, "sys-config", "set", SETTINGS, '{"theme": "dark"}', process=True)
    assert done.returncode == 0, done.stderr
    got = buckyos(zone, "sys-config", "get", SETTINGS, "--json", process=True)
    assert got.returncode == 0, got.stderr
    first = json.loads(got.stdout)
    assert first["key"] == SETTINGS and first["value"] == '{"theme": "dark"}'
    done = buckyos(zone, "sys-config", "set-path", SETTINGS, "/font/size", "12")
    assert done.returncode == 0, done.stderr
    text = buckyos(zone, "sys-config", "get", SETTINGS)
    assert json.loads(text.stdout) == {"theme": "dark", "font": {"size": 12}}
    assert (
        json.loads(buckyos(zone, "sys-config", "get", SETTINGS, "--json").stdout)["version"]
        == first["version"] + 1
    )

    assert buckyos(zone, "sys-config", "create", INFO, "ab").returncode == 0
    assert buckyos(zone, "sys-config", "append", INFO, "cd").returncode == 0
    assert buckyos(zone, "sys-config", "get", INFO).stdout == "abcd\n"
    listed = buckyos(zone, "sys-config", "list", "users/admin/apps/buckycli")
    assert listed.stdout.split() == ["info", "settings"]
    assert json.loads(buckyos(zone, "sys-config", "list", "users/admin/apps/buckycli",
                              "--json").stdout) == ["info", "settings"]  # fmt: skip

    exists = buckyos(zone, "sys-config", "create", INFO, "x")
    assert exists.returncode == 1
    assert exists.stderr.strip() == (
        "buckyos sys-config create: error: Failed due to reason: key exist : "
        "users/admin/apps/buckycli/info"
    )
    assert buckyos(zone, "sys-config", "delete", INFO).returncode == 0
    gone = buckyos(zone, "sys-config", "delete", INFO)
    assert gone.returncode == 1
    assert "error: Failed due to reason: key not found : users/admin/apps/buckycli/info" in (
        gone.stderr
    )
    missing = buckyos(zone, "sys-config", "append", INFO, "x")
    assert missing.returncode == 1
    assert "error: Key not exist: users/admin/apps/buckycli/info" in missing.stderr
    denied = buckyos(zone, "sys-config", "set", "boot/config", "{}")
    assert denied.returncode == 1
    assert "error: No permission:No write permission for key: boot/config" in denied.stderr


def test_get_of_a_missing_key_exits_1(zone: Zone) -> None:
    login(zone)
    text = buckyos(zone, "sys-config", "get", "users/admin/apps/buckycli/nothing")
    assert text.returncode == 1
    assert text.stdout == ""
    assert text.stderr.startswith(
        "buckyos sys-config get: error: key not found: users/admin/apps/buckycli/nothing"
    )
    as_json = buckyos(zone, "sys-config", "get", "users/admin/apps/buckycli/nothing", "--json")
    assert as_json.returncode == 1
    assert as_json.stdout == "null\n"


def test_set_from_a_file_and_stdin(zone: Zone, tmp_path: Path) -> None:
    login(zone)
    source = tmp_path / "value.json"
    source.write_text('{"from": "file"}')
    assert buckyos(zone, "sys-config", "set", SETTINGS, "--file", str(source)).returncode == 0
    assert buckyos(zone, "sys-config", "get", SETTINGS).stdout == '{"from": "file"}\n'
    piped = buckyos(zone, "sys-config", "set", SETTINGS, "--file", "-", stdin="piped")
    assert piped.returncode == 0, piped.stderr
    assert buckyos(zone, "sys-config", "get", SETTINGS).stdout == "piped\n"
    neither = buckyos(zone, "sys-config", "set", SETTINGS)
    assert neither.returncode == 2
    assert "give the VALUE (or --file PATH" in neither.stderr


def test_tx_is_atomic_and_checks_the_main_key(zone: Zone) -> None:
    login(zone)
    buckyos(zone, "sys-config", "set", SETTINGS, "{}")
    revision = json.loads(buckyos(zone, "sys-config", "get", SETTINGS, "--json").stdout)["version"]
    actions = json.dumps({INFO: {"action": "create", "value": "tx"},
                          SETTINGS: {"action": "update", "value": '{"n": 1}'}})  # fmt: skip
    stale = buckyos(zone, "sys-config", "tx", actions, "--main-key", SETTINGS,
                    "--revision", str(revision + 5))  # fmt: skip
    assert stale.returncode == 1
    assert (
        f"error: Failed due to reason: revision mismatch for key {SETTINGS}: expected "
        f"{revision + 5}, actual {revision}"
    ) in stale.stderr
    assert buckyos(zone, "sys-config", "get", INFO).returncode == 1  # nothing was written
    done = buckyos(zone, "sys-config", "tx", "-", "--main-key", SETTINGS,
                   "--revision", str(revision), stdin=actions)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert buckyos(zone, "sys-config", "get", INFO).stdout == "tx\n"
    assert buckyos(zone, "sys-config", "get", SETTINGS).stdout == '{"n": 1}\n'
    buckyos(zone, "sys-config", "delete", INFO)
    malformed = buckyos(zone, "sys-config", "tx", '{"k": "not an object"}')
    assert malformed.returncode == 2
    assert "ACTIONS_JSON: field `actions.k`: expected object, got string" in malformed.stderr


# --------------------------------------------------------------------------- call


def test_call_prints_the_json_result(zone: Zone) -> None:
    login(zone)
    buckyos(zone, "sys-config", "set", SETTINGS, "called")
    done = buckyos(zone, "call", "system_config", "sys_config_get",
                   json.dumps({"key": SETTINGS}), "--json", process=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["value"] == "called" and isinstance(result["version"], int)
    unknown = buckyos(zone, "call", "system_config", "no_such_method", "{}")
    assert unknown.returncode == 1
    assert unknown.stderr.strip() == "buckyos call: error: Unknown method: no_such_method"
    bad = buckyos(zone, "call", "system_config", "sys_config_get", "{key")
    assert bad.returncode == 2
    assert "error: PARAMS is not valid JSON" in bad.stderr


def test_call_without_a_token_and_a_pinned_url(zone: Zone) -> None:
    token = zone.session()["session_token"] if zone.session_file.exists() else ""
    if not token:
        login(zone)
        token = zone.session()["session_token"]
    hub = zone.info["services"]["verify-hub"]["krpc_url"]
    # Straight to verify-hub's own port, no session: verify_token needs none.
    done = buckyos(zone, "call", "verify-hub", "verify_token",
                   json.dumps({"session_token": token}), "--no-token",
                   "--url", f"{hub}/kapi/verify-hub")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == "true\n"
    forged = sign_token({"sub": "admin", "appid": "buckycli", "exp": int(time.time()) + 600},
                        generate_private_key(), kid="verify-hub")  # fmt: skip
    refused = buckyos(zone, "call", "verify-hub", "verify_token",
                      json.dumps({"session_token": forged}), "--no-token")  # fmt: skip
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        "buckyos call: error: Failed due to reason: JWT verify error: JWT decode "
        "error:InvalidSignature"
    )
    no_zone = buckyos(zone, "call", "system_config", "sys_config_get", "{}",
                      "--url", "http://127.0.0.1:1")  # fmt: skip
    assert no_zone.returncode == 1
    assert "connection refused: http://127.0.0.1:1/kapi/system_config" in no_zone.stderr


# --------------------------------------------------------------------------- sessions


def test_a_session_near_expiry_is_refreshed_and_saved(zone: Zone) -> None:
    login(zone)
    before = zone.session()
    write_session(zone, session_token=expired_token())
    done = buckyos(zone, "sys-config", "get", "boot/config", process=True)
    assert done.returncode == 0, done.stderr
    after = zone.session()
    assert after["session_token"] not in (before["session_token"], expired_token())
    assert after["refresh_token"] != before["refresh_token"]  # rotated
    assert stat.S_IMODE(zone.session_file.stat().st_mode) == 0o600
    # The new pair is good: the next command uses it without refreshing again.
    again = buckyos(zone, "sys-config", "get", "boot/config")
    assert again.returncode == 0
    assert zone.session()["refresh_token"] == after["refresh_token"]


def test_a_revoked_session_says_run_login(zone: Zone) -> None:
    login(zone)
    refresh = zone.session()["refresh_token"]
    out = buckyos(zone, "call", "verify-hub", "logout",
                  json.dumps({"refresh_token": refresh}), "--no-token")  # fmt: skip
    assert out.returncode == 0, out.stderr
    write_session(zone, session_token=expired_token())
    done = buckyos(zone, "sys-config", "get", "boot/config")
    assert done.returncode == 1
    assert done.stderr.startswith("buckyos sys-config get: error: verify-hub refused the saved")
    assert done.stderr.rstrip().endswith("run `buckyos login`")
    assert not zone.session_file.exists()  # refused for good: forgotten


def test_a_session_the_zone_refuses_says_run_login(zone: Zone) -> None:
    login(zone)
    forged = sign_token({"sub": "admin", "appid": "buckycli", "exp": int(time.time()) + 600},
                        generate_private_key(), kid="verify-hub")  # fmt: skip
    write_session(zone, session_token=forged)
    done = buckyos(zone, "sys-config", "get", "boot/config")
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "buckyos sys-config get: error: the zone refused the saved session (Invalid token: "
        "JWT decode error:InvalidSignature); run `buckyos login`"
    )


def test_token_verify_at_the_hub(zone: Zone) -> None:
    login(zone)
    token = zone.session()["session_token"]
    done = buckyos(zone, "token", "verify", token, "--hub", process=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("valid (verify-hub): sub admin, appid buckycli, iss verify-hub")
    refresh = buckyos(zone, "token", "verify", zone.session()["refresh_token"], "--hub")
    assert refresh.returncode == 1
    assert refresh.stderr.strip() == (
        "buckyos token verify: error: Invalid token: refresh token cannot be used as session token"
    )


def test_no_configuration_says_how_to_point_at_a_zone(zone: Zone) -> None:
    done = buckyos(zone, "sys-config", "get", "boot/config", root=False,
                   BUCKYOS_ROOT=str(zone.root / "nowhere"))  # fmt: skip
    assert done.returncode == 1
    line = done.stderr.strip()
    assert line.startswith("buckyos sys-config get: error: AppClient configuration directory ")
    assert line.endswith(
        "(for a local zone: pass --root ZONE_ROOT, or export the BUCKYOS_DEV_HOME that "
        "`buckyos zone up` prints)"
    )


def test_a_gateway_url_given_at_login_is_reused(zone: Zone) -> None:
    gateway = zone.info["services"]["gateway"]["krpc_url"]
    done = buckyos(zone, "login", "-u", "admin", "--password-stdin", "--url", gateway,
                   stdin=zone.password)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert zone.session()["urls"] == [gateway]
    got = buckyos(zone, "sys-config", "get", "boot/config")
    assert got.returncode == 0, got.stderr
    # An explicit --url overrides the saved one: nothing listens on port 1.
    moved = buckyos(zone, "sys-config", "get", "boot/config", "--url", "http://127.0.0.1:1")
    assert moved.returncode == 1
    assert "connection refused: http://127.0.0.1:1/kapi/system_config" in moved.stderr
