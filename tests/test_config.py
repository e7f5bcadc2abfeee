"""Configuration discovery: every source, its precedence, and every failure's message."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from buckyos.runtime.errors import ConfigError
from buckyos.runtime.program.config import (
    DeviceConfig,
    RuntimeType,
    find_buckyos_root,
    full_app_id,
    load_config,
    session_token_env_key,
    token_env_keys,
)
from buckyos.runtime.security.keys import (
    did_document,
    generate_key_pair,
    private_key_to_pem,
    public_key_to_jwk,
    public_key_to_raw,
)

OWNER_PRIVATE, OWNER_PUBLIC = generate_key_pair()
DEVICE_PRIVATE, DEVICE_PUBLIC = generate_key_pair()
USER_PRIVATE, USER_PUBLIC = generate_key_pair()


def write_etc(
    folder: Path,
    *,
    zone: str = "did:web:home.example.com",
    device: str = "ood1",
    machine: dict[str, Any] | None = None,
    device_key: bool = False,
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    identity = {
        "zone_did": zone,
        "owner_did": "did:bns:alice",
        "owner_public_key": public_key_to_jwk(OWNER_PUBLIC),
        "device_name": device,
        "device_did": f"did:web:{device}.home.example.com",
        "zone_iat": 1700000000,
    }
    (folder / "node_identity.json").write_text(json.dumps(identity))
    if machine is not None:
        (folder / "machine.json").write_text(json.dumps(machine))
    if device_key:
        (folder / "node_private_key.pem").write_text(private_key_to_pem(DEVICE_PRIVATE))
    return folder


def write_user(folder: Path, *, name: str = "alice", zone: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    doc: dict[str, Any] = {"name": name}
    if zone is not None:
        doc["default_zone_did"] = zone
    (folder / "user_config.json").write_text(json.dumps(doc))
    (folder / "user_private_key.pem").write_text(private_key_to_pem(USER_PRIVATE))
    return folder


# --- naming -----------------------------------------------------------------------------


def test_full_app_id_and_token_env_names_follow_upstream() -> None:
    assert full_app_id("my-app", "alice") == "alice-my-app"
    assert session_token_env_key("alice-my-app", app_service=True) == "ALICE_MY_APP_TOKEN"
    assert session_token_env_key("repo-service", app_service=False) == "REPO_SERVICE_SESSION_TOKEN"
    assert token_env_keys(RuntimeType.KERNEL_SERVICE, "repo-service", None) == (
        "REPO_SERVICE_SESSION_TOKEN",
    )
    assert token_env_keys(RuntimeType.FRAME_SERVICE, "my-app", "alice") == (
        "ALICE_MY_APP_TOKEN",
        "MY_APP_SESSION_TOKEN",
    )
    assert token_env_keys(RuntimeType.APP_SERVICE, "my-app", "alice") == (
        "ALICE_MY_APP_TOKEN",
        "MY_APP_TOKEN",
    )
    assert token_env_keys(RuntimeType.APP_CLIENT, "buckycli", "alice") == (
        "BUCKYOS_APPCLIENT_SESSION_TOKEN",
    )
    assert token_env_keys(RuntimeType.KERNEL, "node-daemon", None) == ()
    assert [t.value for t in RuntimeType] == [
        "AppClient",
        "AppService",
        "FrameService",
        "KernelService",
        "Kernel",
    ]


def test_buckyos_root_env_then_applist_walk_then_default(tmp_path: Path) -> None:
    assert find_buckyos_root({"BUCKYOS_ROOT": str(tmp_path)})[0] == tmp_path
    install = tmp_path / "install"
    program = install / "bin" / "tool" / "main.py"
    program.parent.mkdir(parents=True)
    program.write_text("")
    (install / "applist.json").write_text("{}")
    root, why = find_buckyos_root({}, program=program)
    assert root == install and "applist.json" in why
    elsewhere = tmp_path / "other" / "prog.py"
    elsewhere.parent.mkdir()
    elsewhere.write_text("")
    assert find_buckyos_root({}, program=elsewhere)[0] == Path("/opt/buckyos")


# --- the standard directory, chosen as a whole ----------------------------------------------


def test_appclient_dev_home_is_used_whole_and_never_merged_with_etc(tmp_path: Path) -> None:
    root = tmp_path / "root"
    write_etc(root / "etc", zone="did:web:from-etc.example.com")
    dev = write_user(tmp_path / "dev", zone="did:web:from-dev.example.com")
    env = {"BUCKYOS_ROOT": str(root), "BUCKYOS_DEV_HOME": str(dev)}
    config = load_config(RuntimeType.APP_CLIENT, "buckycli", environ=env, home=tmp_path)
    assert config.config_dir == dev
    assert config.sources["config_dir"] == "env BUCKYOS_DEV_HOME"
    # node_identity.json in etc is NOT read: the directory is chosen as a whole.
    assert config.zone_did == "did:web:from-dev.example.com"
    assert config.device is None
    assert config.owner_user_id == config.user_id == "alice"
    assert config.user_private_key is not None
    assert public_key_to_raw(config.user_private_key.public_key()) == public_key_to_raw(USER_PUBLIC)
    assert config.full_app_id == "alice-buckycli"


def test_appclient_uses_home_buckycli_then_root_etc(tmp_path: Path) -> None:
    root = tmp_path / "root"
    write_etc(root / "etc")
    home = tmp_path / "home"
    home.mkdir()
    env = {"BUCKYOS_ROOT": str(root)}
    config = load_config(RuntimeType.APP_CLIENT, "buckycli", "bob", environ=env, home=home)
    assert config.config_dir == root / "etc"
    assert config.zone_did == "did:web:home.example.com"
    assert config.device == DeviceConfig("ood1", "did:web:ood1.home.example.com")
    write_user(home / ".buckycli", zone="did:web:cli.example.com")
    config = load_config(RuntimeType.APP_CLIENT, "buckycli", "bob", environ=env, home=home)
    assert config.config_dir == home / ".buckycli"
    assert config.zone_did == "did:web:cli.example.com"
    assert config.owner_user_id == "bob"  # explicit beats user_config.json's name


def test_a_missing_directory_names_itself_and_what_to_set(tmp_path: Path) -> None:
    env = {"BUCKYOS_ROOT": str(tmp_path / "nowhere")}
    with pytest.raises(ConfigError) as info:
        load_config(RuntimeType.KERNEL_SERVICE, "repo-service", environ=env)
    text = str(info.value)
    assert str(tmp_path / "nowhere" / "etc") in text
    assert "does not exist" in text and "BUCKYOS_ROOT" in text and "config_dir=" in text
    env["BUCKYOS_DEV_HOME"] = str(tmp_path / "no-dev")
    with pytest.raises(ConfigError, match="BUCKYOS_DEV_HOME") as info:
        load_config(RuntimeType.APP_CLIENT, "buckycli", environ=env, home=tmp_path)
    assert str(tmp_path / "no-dev") in str(info.value)


def test_appclient_with_a_token_in_env_needs_no_directory(tmp_path: Path) -> None:
    env = {
        "BUCKYOS_ROOT": str(tmp_path / "nowhere"),
        "BUCKYOS_APPCLIENT_SESSION_TOKEN": "tok-from-env",
        "BUCKYOS_ZONE_CONFIG": json.dumps({"id": "did:web:z.example.com"}),
    }
    config = load_config(RuntimeType.APP_CLIENT, "buckycli", environ=env, home=tmp_path)
    assert config.config_dir is None
    assert config.session_token == "tok-from-env"
    assert config.sources["session_token"] == "env BUCKYOS_APPCLIENT_SESSION_TOKEN"
    assert config.zone_did == "did:web:z.example.com"


# --- services -------------------------------------------------------------------------------


def test_kernel_service_reads_identity_and_its_token_env(tmp_path: Path) -> None:
    write_etc(tmp_path / "etc", machine={"web3_bridge": {"bns": "web3.example.net"}})
    env = {"BUCKYOS_ROOT": str(tmp_path), "REPO_SERVICE_SESSION_TOKEN": "t1"}
    config = load_config(RuntimeType.KERNEL_SERVICE, "repo-service", environ=env)
    assert config.session_token == "t1"
    assert config.zone_did == "did:web:home.example.com"
    assert config.owner_did == "did:bns:alice"
    assert config.owner_public_key is not None
    assert config.device is not None and config.device.name == "ood1"
    assert config.web3_bridge == {"bns": "web3.example.net"}
    assert config.force_https is True
    assert config.full_app_id == "repo-service"


def test_a_service_without_token_lists_the_keys_tried(tmp_path: Path) -> None:
    write_etc(tmp_path / "etc")
    env = {"BUCKYOS_ROOT": str(tmp_path)}
    with pytest.raises(ConfigError) as info:
        load_config(RuntimeType.FRAME_SERVICE, "my-app", "alice", environ=env)
    text = str(info.value)
    assert "ALICE_MY_APP_TOKEN, MY_APP_SESSION_TOKEN" in text
    assert "session_token=" in text
    # The second name is read when the first is absent.
    env["MY_APP_SESSION_TOKEN"] = "t2"
    config = load_config(RuntimeType.FRAME_SERVICE, "my-app", "alice", environ=env)
    assert config.session_token == "t2"
    assert config.sources["session_token"] == "env MY_APP_SESSION_TOKEN"


def test_app_service_takes_identity_from_app_instance_config_and_reads_no_files(
    tmp_path: Path,
) -> None:
    instance = {"app_spec": {"app_doc": {"name": "notes"}, "user_id": "alice"}}
    env = {
        "BUCKYOS_ROOT": str(tmp_path / "missing"),
        "app_instance_config": json.dumps(instance),
        "ALICE_NOTES_TOKEN": "tok",
        "BUCKYOS_HOST_GATEWAY": "10.0.0.1",
        "BUCKYOS_THIS_DEVICE": json.dumps(
            did_document("did:web:ood1.z", DEVICE_PUBLIC, name="ood1")
        ),
    }
    config = load_config(RuntimeType.APP_SERVICE, "", environ=env)
    assert (config.app_id, config.owner_user_id, config.user_id) == ("notes", "alice", "alice")
    assert config.config_dir is None
    assert config.session_token == "tok"
    assert config.host_gateway == "10.0.0.1"
    assert config.device is not None and config.device.did == "did:web:ood1.z"
    assert config.device.public_key is not None


def test_app_service_needs_an_owner(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="owner_user_id is required for an AppService"):
        load_config(RuntimeType.APP_SERVICE, "notes", environ={"NOTES_TOKEN": "t"})


def test_kernel_loads_the_device_key_file_or_says_where_it_looked(tmp_path: Path) -> None:
    etc = write_etc(tmp_path / "etc")
    env = {"BUCKYOS_ROOT": str(tmp_path)}
    with pytest.raises(ConfigError) as info:
        load_config(RuntimeType.KERNEL, "node-daemon", environ=env)
    assert str(etc / "node_private_key.pem") in str(info.value)
    assert "device_private_key=" in str(info.value)
    write_etc(etc, device_key=True)
    config = load_config(RuntimeType.KERNEL, "node-daemon", environ=env)
    assert config.device_private_key is not None
    # The device's public key comes from the private key when no document gives it.
    assert config.device is not None and config.device.public_key is not None
    assert public_key_to_raw(config.device.public_key) == public_key_to_raw(DEVICE_PUBLIC)


# --- precedence -----------------------------------------------------------------------------


def test_explicit_beats_env_beats_files(tmp_path: Path) -> None:
    write_etc(tmp_path / "etc", machine={"force_https": True})
    env = {
        "BUCKYOS_ROOT": str(tmp_path),
        "REPO_SERVICE_SESSION_TOKEN": "env-token",
        "BUCKYOS_ZONE_CONFIG": json.dumps({"id": "did:web:env.example.com"}),
        "BUCKYOS_THIS_DEVICE": json.dumps({"name": "node-env", "id": "did:web:node-env.x"}),
    }
    config = load_config(RuntimeType.KERNEL_SERVICE, "repo-service", environ=env)
    assert config.zone_did == "did:web:env.example.com"
    assert config.sources["zone_did"] == "env BUCKYOS_ZONE_CONFIG"
    assert config.device is not None and config.device.name == "node-env"
    assert config.session_token == "env-token"
    config = load_config(
        RuntimeType.KERNEL_SERVICE,
        "repo-service",
        environ=env,
        zone_did="did:web:explicit.example.com",
        device={"name": "node-x"},
        session_token="explicit-token",
        force_https=False,
    )
    assert config.zone_did == "did:web:explicit.example.com"
    assert config.device is not None and config.device.name == "node-x"
    assert config.session_token == "explicit-token"
    assert config.sources["session_token"] == "explicit"
    assert config.force_https is False


# --- malformed pieces -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("file", "content", "expected"),
    [
        ("node_identity.json", "{not json", "node_identity.json is not valid JSON"),
        ("node_identity.json", "[]", "must be a JSON object"),
        ("node_identity.json", '{"zone_did": "did:web:x"}', "device_name is missing"),
        (
            "node_identity.json",
            '{"zone_did": "did:web:x", "device_name": "d", "owner_public_key": {"kty": "RSA"}}',
            "owner_public_key: public key JWK: kty must be 'OKP'",
        ),
        ("machine.json", '{"force_https": "yes"}', "force_https must be true or false"),
        ("machine.json", '{"web3_bridge": ["bns"]}', "web3_bridge must map DID methods"),
    ],
)
def test_malformed_files_name_the_file_and_the_problem(
    tmp_path: Path, file: str, content: str, expected: str
) -> None:
    etc = write_etc(tmp_path / "etc")
    (etc / file).write_text(content)
    env = {"BUCKYOS_ROOT": str(tmp_path), "REPO_SERVICE_SESSION_TOKEN": "t"}
    with pytest.raises(ConfigError) as info:
        load_config(RuntimeType.KERNEL_SERVICE, "repo-service", environ=env)
    assert expected in str(info.value)
    assert str(etc / file) in str(info.value)


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("BUCKYOS_ZONE_CONFIG", "{", "env BUCKYOS_ZONE_CONFIG is not valid JSON"),
        ("BUCKYOS_ZONE_CONFIG", '{"name": "z"}', "names no zone DID"),
        ("BUCKYOS_THIS_DEVICE", "[1]", "env BUCKYOS_THIS_DEVICE must be a JSON object"),
        ("BUCKYOS_THIS_DEVICE", '{"id": "did:x:y"}', "env BUCKYOS_THIS_DEVICE 'name' is missing"),
    ],
)
def test_malformed_env_names_the_variable(
    tmp_path: Path, name: str, value: str, expected: str
) -> None:
    write_etc(tmp_path / "etc")
    env = {"BUCKYOS_ROOT": str(tmp_path), "REPO_SERVICE_SESSION_TOKEN": "t", name: value}
    with pytest.raises(ConfigError, match=expected) as info:
        load_config(RuntimeType.KERNEL_SERVICE, "repo-service", environ=env)
    assert f"set {name}" in str(info.value)


def test_malformed_app_instance_config_says_what_to_set() -> None:
    env = {"app_instance_config": '{"app_spec": {"app_doc": {"name": "notes"}}}'}
    with pytest.raises(ConfigError, match=r"app_spec\.user_id is missing") as info:
        load_config(RuntimeType.APP_SERVICE, "", environ=env)
    assert "set app_instance_config" in str(info.value)


def test_a_bad_key_file_names_its_path(tmp_path: Path) -> None:
    etc = write_etc(tmp_path / "etc")
    (etc / "node_private_key.pem").write_text("not a key")
    with pytest.raises(ConfigError) as info:
        load_config(RuntimeType.KERNEL, "node-daemon", environ={"BUCKYOS_ROOT": str(tmp_path)})
    assert str(etc / "node_private_key.pem") in str(info.value)
    assert "not PEM" in str(info.value)
