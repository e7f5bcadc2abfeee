"""A zone's identity and options: created once, all or nothing, clear refusals."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from buckyos.runtime.errors import ConfigError
from buckyos.runtime.security.keys import public_key_from_doc, public_key_to_raw
from buckyos.runtime.security.passwords import password_hash
from buckyos.services.zone import (
    ZoneLayout,
    create_identity,
    load_identity,
    parse_ports,
)
from buckyos.services.zone.zone import _check_free


def test_the_zone_stores_upstreams_password_formula() -> None:
    # base64(sha256("secret" + "alice" + ".buckyos")), computed independently
    assert password_hash("alice", "secret") == "gQCBWe80s6UjLNR3Whuy4PCjpffV9XE+OyLc/mgt5Rw="


def test_create_then_load_round_trip(tmp_path: Path) -> None:
    layout = ZoneLayout(tmp_path / "zone")
    made = create_identity(layout, admin="alice", password="pw")
    loaded = load_identity(layout)
    assert loaded.admin == "alice" and loaded.admin_password == "pw"
    assert loaded.device_name == "ood1"
    raw = public_key_to_raw
    assert raw(loaded.owner_key.public_key()) == raw(made.owner_key.public_key())
    identity = json.loads(layout.node_identity.read_text())
    assert identity["zone_did"] == "did:web:test.buckyos.localhost"
    assert identity["device_name"] == "ood1"
    owner = public_key_from_doc(identity, what="node_identity.json")
    assert raw(owner) == raw(made.owner_key.public_key())
    # the AppClient files: the admin's document and key are the zone owner's
    doc = json.loads(layout.user_config.read_text())
    assert doc["name"] == "alice"
    assert raw(public_key_from_doc(doc)) == raw(made.owner_key.public_key())
    assert json.loads(layout.machine.read_text())["force_https"] is False
    for secret in (layout.user_key, layout.device_key, layout.verify_hub_key, layout.zone_file):
        assert secret.stat().st_mode & 0o077 == 0, secret
    assert not list(layout.root.glob(".etc-partial-*"))


def test_create_twice_is_refused(tmp_path: Path) -> None:
    layout = ZoneLayout(tmp_path)
    create_identity(layout)
    with pytest.raises(ConfigError, match="already has an identity"):
        create_identity(layout)


def test_half_written_root_is_named(tmp_path: Path) -> None:
    layout = ZoneLayout(tmp_path)
    layout.etc.mkdir()
    (layout.etc / "node_identity.json").write_text("{}")
    with pytest.raises(ConfigError, match=r"is half-written: .* has no zone\.json\. Remove"):
        load_identity(layout)
    with pytest.raises(ConfigError, match="is half-written"):
        create_identity(layout)


def test_missing_zone_says_how_to_create_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no zone at .*buckyos zone up --root"):
        load_identity(ZoneLayout(tmp_path / "nothing"))


def test_failed_creation_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    layout = ZoneLayout(tmp_path)

    def broken(*_: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("buckyos.services.zone.identity.os.rename", broken)
    with pytest.raises(OSError, match="disk full"):
        create_identity(layout)
    assert not layout.etc.exists()
    assert not list(tmp_path.glob(".etc-partial-*"))


def test_parse_ports() -> None:
    assert parse_ports(None)["gateway"] == 3180
    assert set(parse_ports("auto").values()) == {0}
    ports = parse_ports("gateway=4180, verify-hub=4300")
    assert ports["gateway"] == 4180 and ports["verify_hub"] == 4300
    assert ports["system_config"] == 3200
    with pytest.raises(ConfigError, match="is not NAME=PORT with NAME one of system_config"):
        parse_ports("web=1")
    with pytest.raises(ConfigError, match="'x' for gateway is not a port number"):
        parse_ports("gateway=x")
    with pytest.raises(ConfigError, match="70000 for gateway is out of range"):
        parse_ports("gateway=70000")


def test_port_in_use_is_named() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(ConfigError, match=rf"port {port} \(gateway\) on 127.0.0.1 is in use"):
            _check_free("127.0.0.1", {"gateway": port, "system_config": 0})
