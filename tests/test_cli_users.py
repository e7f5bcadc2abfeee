"""Users and keys of a real zone, the zone owner's login, refusals that say what to do, and
no silent identity switch (issue 16, items 4 to 7).

One zone per module (``buckyos zone up --ports auto`` in a tmp root: three real service
processes), always stopped with ``buckyos zone down``.  Commands run in this process
through ``main()`` (the helper of ``test_cli_session``) with a clean environment, and one
per feature as the real console script.  Python programs run the runtime in this process
against the same zone.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from buckyos.generated.system_config_rpc import SystemConfigStub
from buckyos.runtime import ConfigError, InvalidTokenError, NoPermissionError
from buckyos.runtime.program import BuckyOSRuntime, RuntimeType, load_config
from buckyos.runtime.security import (
    load_private_key_file,
    make_user_login_jwt,
    parse_unverified,
    public_key_from_jwk,
    sign_token,
)
from tests.test_cli_session import BUCKYOS, Zone, buckyos, clean_env

ENV = "BUCKYOS_APPCLIENT_SESSION_TOKEN"


@pytest.fixture(scope="module")
def zone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Zone]:
    base = tmp_path_factory.mktemp("cli-users")
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


@pytest.fixture(scope="module")
def alice(zone: Zone, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """alice, a user of the zone with the app my-app, and her configuration directory."""
    folder = tmp_path_factory.mktemp("alice-home") / "alice"
    done = buckyos(zone, "user", "add", "alice", "--app", "my-app", "--password-stdin",
                   "--config-dir", str(folder), stdin="alice-pw\n", process=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("added user alice (role users) to did:web:")
    assert "app role given to my-app" in done.stdout
    return folder


def app_client(folder: Path, app: str = "my-app", **kwargs: Any) -> BuckyOSRuntime:
    env = {"BUCKYOS_DEV_HOME": str(folder), **kwargs.pop("environ", {})}
    config = load_config(RuntimeType.APP_CLIENT, app, kwargs.pop("owner", None), environ=env)
    return BuckyOSRuntime(config, inprocess=False, **kwargs)


def hub_token(zone: Zone, sub: str, exp: int, app: str = "buckycli") -> str:
    """A session token as verify-hub issues them, signed with the zone's verify-hub key."""
    key = load_private_key_file(zone.root / "etc" / "verify_hub_private_key.pem")
    claims = {"sub": sub, "appid": app, "iss": "verify-hub", "exp": exp, "jti": "t1",
              "session": "s1", "principal_kind": "user"}  # fmt: skip
    return sign_token(claims, key, kid="verify-hub")


def owner_jwk(zone: Zone) -> dict[str, Any]:
    identity = json.loads((zone.root / "etc" / "node_identity.json").read_text())
    jwk: dict[str, Any] = identity["owner_public_key"]
    return jwk


# --------------------------------------------------------------------------- users


def test_users_add_list_passwd_and_log_in(zone: Zone, alice: Path) -> None:
    listed = buckyos(zone, "user", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = {row["user_id"]: row for row in json.loads(listed.stdout)}
    assert rows["alice"] == {"user_id": "alice", "type": "user", "state": "active",
                             "role": "users"}  # fmt: skip
    assert rows["admin"]["role"] == "admin"
    assert "password" not in listed.stdout
    login = buckyos(zone, "login", "-u", "alice", "--password-stdin", "--app", "my-app",
                    stdin="alice-pw\n")  # fmt: skip
    assert login.returncode == 0, login.stderr
    assert "as alice (user) for app my-app" in login.stdout
    again = buckyos(zone, "user", "add", "alice", "-p", "x")
    assert again.returncode == 1
    assert "user 'alice' already exists; `buckyos user passwd alice`" in again.stderr
    changed = buckyos(zone, "user", "passwd", "alice", "--password-stdin", stdin="new-pw\n")
    assert changed.returncode == 0, changed.stderr
    old = buckyos(zone, "login", "-u", "alice", "-p", "alice-pw", "--app", "my-app")
    assert old.returncode == 1 and "Invalid password" in old.stderr
    new = buckyos(zone, "login", "-u", "alice", "-p", "new-pw", "--app", "my-app")
    assert new.returncode == 0, new.stderr
    buckyos(zone, "user", "passwd", "alice", "-p", "alice-pw")


def test_user_names_and_apps_are_checked_before_anything_is_sent(zone: Zone) -> None:
    for name in ("kernel", "root", "su_bob", "a/b", "node-daemon"):
        done = buckyos(zone, "user", "add", name, "-p", "x")
        assert done.returncode == 2, (name, done.stderr)
    bad_app = buckyos(zone, "user", "add", "carol", "--app", "a,b", "-p", "x")
    assert bad_app.returncode == 2 and "is not an app id" in bad_app.stderr
    nobody = buckyos(zone, "user", "passwd", "nobody", "-p", "x")
    assert nobody.returncode == 1
    assert "no user 'nobody' in this zone; `buckyos user add nobody`" in nobody.stderr


def test_the_client_docs_example_runs_as_alice(zone: Zone, alice: Path) -> None:
    # docs/client.md's sync example, with alice's folder from `user add --config-dir`.
    rt = app_client(alice, owner="alice")
    try:
        rt.login()
        config = SystemConfigStub(rt)
        config.Set(key="users/alice/apps/my-app/settings", value='{"theme": "dark"}')
        assert config.Get(key="users/alice/apps/my-app/settings").value == '{"theme": "dark"}'
        assert rt.token_info() is not None and rt.token_info().sub == "alice"  # type: ignore[union-attr]
    finally:
        rt.close()


# --------------------------------------------------------------------------- refusals


def test_a_refusal_names_key_user_app_and_cause(zone: Zone, alice: Path) -> None:
    rt = app_client(alice, owner="alice")
    try:
        rt.login()
        config = SystemConfigStub(rt)
        with pytest.raises(NoPermissionError) as other_user:
            config.Get(key="users/admin/settings")
        assert other_user.value.text == "No permission:No read permission"  # the wire's
        assert str(other_user.value) == (
            "No permission:No read permission; read of users/admin/settings refused for user "
            "'alice', app 'my-app': a user's session reaches only its own subtree users/alice/"
        )
        with pytest.raises(NoPermissionError) as other_app:
            config.Set(key="users/alice/apps/todo/settings", value="{}")
        assert other_app.value.text == (
            "No permission:No write permission for key: users/alice/apps/todo/settings"
        )
        assert "a session for app 'my-app' reaches only users/alice/apps/my-app/" in str(
            other_app.value
        )
        with pytest.raises(NoPermissionError) as typo:
            config.Get(key="users/alice/apps/my-app/setting")
        assert "an app reaches only users/alice/apps/my-app/settings and info" in str(typo.value)
    finally:
        rt.close()


def test_an_app_without_a_role_fails_login_saying_so(zone: Zone, alice: Path) -> None:
    # `zone up` without --app (no `g, no-role-app, app`): login's read of boot/config.
    rt = app_client(alice, app="no-role-app", owner="alice")
    try:
        with pytest.raises(NoPermissionError) as refused:
            rt.login()
        message = str(refused.value)
        assert message.startswith("No permission:No read permission; read of boot/config")
        assert "'no-role-app' has no role in the zone's RBAC policy" in message
        assert "`buckyos zone up --app APP`" in message
    finally:
        rt.close()


def test_sys_config_list_with_no_key_and_its_refusal(zone: Zone) -> None:
    password = zone.password
    login = buckyos(zone, "login", "-u", "admin", "--password-stdin", stdin=password + "\n")
    assert login.returncode == 0, login.stderr
    refused = buckyos(zone, "sys-config", "list")
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        "buckyos sys-config list: error: No permission:No read permission; read of the root "
        "refused for user 'admin', app 'buckycli': only the zone owner (`buckyos login "
        "--owner`; a program: a token signed with the owner's key) reads the whole tree"
    )
    owner = buckyos(zone, "login", "--owner", "--json", process=True)
    assert owner.returncode == 0, owner.stderr
    result = json.loads(owner.stdout)
    assert result["user_id"] == "root" and result["app_id"] == "kernel" and result["owner"]
    listed = buckyos(zone, "sys-config", "list", "--timeout", "5", process=True)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split() == ["boot", "devices", "services", "system", "users"]
    # Options anywhere, also before the optional KEY.
    users = buckyos(zone, "sys-config", "list", "--json", "users")
    assert users.returncode == 0, users.stderr
    assert "admin" in json.loads(users.stdout)
    bad = buckyos(zone, "sys-config", "get", "boot/config", "--timeout", "0")
    assert bad.returncode == 2 and "--timeout must be > 0" in bad.stderr


def test_an_owner_session_is_signed_again_near_expiry(zone: Zone) -> None:
    assert buckyos(zone, "login", "--owner").returncode == 0
    data = zone.session()
    near = parse_unverified(data["session_token"])
    claims = {"sub": "root", "appid": "kernel", "exp": int(time.time()) + 5}
    owner_key = load_private_key_file(zone.root / "etc" / "user_private_key.pem")
    data["session_token"] = sign_token(claims, owner_key, kid="root")
    zone.session_file.write_text(json.dumps(data))
    done = buckyos(zone, "sys-config", "get", "system/rbac/policy")
    assert done.returncode == 0, done.stderr
    assert parse_unverified(zone.session()["session_token"]).exp >= near.exp
    conflict = buckyos(zone, "login", "--owner", "-u", "admin")
    assert conflict.returncode == 2


def test_owner_login_needs_the_owner_key(zone: Zone, alice: Path) -> None:
    done = buckyos(zone, "login", "--owner", root=False, BUCKYOS_DEV_HOME=str(alice))
    assert done.returncode == 1
    assert "is not the zone owner's" in done.stderr


# --------------------------------------------------------------------------- no silent switch


def test_an_expired_env_token_is_an_error_not_the_admin(zone: Zone) -> None:
    # bob's expired session in the environment, admin's key in the configuration folder.
    expired = hub_token(zone, "bob", int(time.time()) - 120)
    done = buckyos(zone, "sys-config", "get", "users/admin/apps/buckycli/settings",
                   process=True, BUCKYOS_APPCLIENT_SESSION_TOKEN=expired)  # fmt: skip
    assert done.returncode == 1
    assert done.stdout == ""
    line = done.stderr.strip()
    assert line.startswith(f"buckyos sys-config get: error: the session token in ${ENV} expired at")
    assert f"ago); log in again or unset {ENV}" in line
    # In a program: login refuses it before sending anything.
    rt = app_client(zone.root / "etc", app="buckycli", environ={ENV: expired})
    try:
        with pytest.raises(ConfigError, match=rf"^the session token in \${ENV} expired at .*"):
            rt.login()
        assert rt.token_info() is not None and rt.token_info().sub == "bob"  # type: ignore[union-attr]
    finally:
        rt.close()


def test_a_self_signed_env_token_near_expiry_is_not_replaced_by_the_folder_key(
    zone: Zone, alice: Path
) -> None:
    # alice's own login JWT, about to expire: the runtime used to sign a new one with the
    # key of its folder (the zone owner's, user admin) and call as admin.
    alice_key = load_private_key_file(alice / "user_private_key.pem")
    token = make_user_login_jwt(alice_key, user_id="alice", app_id="buckycli",
                                clock=lambda: time.time() - 895)  # fmt: skip
    rt = app_client(zone.root / "etc", app="buckycli", environ={ENV: token})
    try:
        assert rt.current_token() == token
        with pytest.raises(ConfigError, match="does not switch to 'admin'"):
            rt.sign_login_jwt()
        with pytest.raises(InvalidTokenError) as refused:
            SystemConfigStub(rt).Get(key="users/admin/apps/buckycli/settings")
        assert f"the session token in ${ENV}" in str(refused.value)
    finally:
        rt.close()
    # Asked for: token_fallback=True logs in with the folder's key.
    expired = hub_token(zone, "bob", int(time.time()) - 120)
    with mock.patch("buckyos.runtime.program.runtime._log"):
        fallback = app_client(zone.root / "etc", app="buckycli", environ={ENV: expired},
                              token_fallback=True)  # fmt: skip
        try:
            fallback.login()
            assert fallback.authenticated_user_id == "admin"
        finally:
            fallback.close()


def test_a_refused_env_token_says_where_it_came_from(zone: Zone) -> None:
    forged = hub_token(zone, "bob", int(time.time()) + 600).rsplit(".", 1)[0] + ".AAAA"
    rt = app_client(zone.root / "etc", app="buckycli", environ={ENV: forged})
    try:
        with pytest.raises(InvalidTokenError) as refused:
            rt.login()
        assert refused.value.text.startswith("Invalid token: ")
        assert str(refused.value).endswith(
            f"the session token in ${ENV} was refused (nothing fell back to another "
            f"identity); log in again or unset {ENV}"
        )
    finally:
        rt.close()
    cli = buckyos(zone, "sys-config", "get", "boot/config", BUCKYOS_APPCLIENT_SESSION_TOKEN=forged)
    assert cli.returncode == 1
    assert f"(the token in ${ENV}; nothing fell back to another identity)" in cli.stderr


# --------------------------------------------------------------------------- call, keys


def test_call_suggests_verbs_and_services_and_takes_options_anywhere(zone: Zone) -> None:
    assert buckyos(zone, "login", "--owner").returncode == 0
    verb = buckyos(zone, "call", "system_config", "sys_config_gte", "{}", process=True)
    assert verb.returncode == 1
    assert verb.stderr.strip() == (
        "buckyos call: error: Unknown method: sys_config_gte; did you mean sys_config_get?"
    )
    service = buckyos(zone, "call", "system_confg", "sys_config_get", "{}")
    assert service.returncode == 1
    assert service.stderr.rstrip().endswith("; did you mean system_config?")
    # --no-token between METHOD and PARAMS (argparse used to spend PARAMS before it).
    hub = zone.info["services"]["verify-hub"]["krpc_url"]
    token = zone.session()["session_token"]
    done = buckyos(zone, "call", "verify-hub", "verify_token", "--no-token",
                   json.dumps({"session_token": "x" + token}), "--url",
                   f"{hub}/kapi/verify-hub", root=False, process=True)  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "unrecognized arguments" not in done.stderr
    assert done.stderr.startswith("buckyos call: error: Failed due to reason:")


def test_zone_keys_prints_the_files_serve_and_the_notes_example_read(
    zone: Zone, tmp_path: Path
) -> None:
    done = buckyos(zone, "zone", "keys", "--out", str(tmp_path / "keys"), "--json", process=True)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    by_role = {key["role"]: key for key in data["keys"]}
    assert by_role["owner"]["jwk"] == owner_jwk(zone)
    assert by_role["device"]["trust_key"] == "device:ood1"
    owner_path = Path(data["env"]["NOTES_OWNER_KEY"])
    assert public_key_from_jwk(owner_path.read_text()) is not None
    assert json.loads(owner_path.read_text()) == owner_jwk(zone)
    assert data["serve_args"][:2] == ["--trust-key", f"root={owner_path}"]
    text = buckyos(zone, "zone", "keys")
    assert text.returncode == 0, text.stderr
    assert f"export NOTES_OWNER_KEY={zone.root.resolve() / 'keys' / 'owner.jwk'}" in text.stdout
