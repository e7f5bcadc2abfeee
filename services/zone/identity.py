"""A zone's identity, created once: owner key, device key, verify-hub key, admin password.

Creation is all or nothing: every file is written into a fresh folder next to ``etc/``
which is renamed into place only when complete, and ``etc/zone.json`` (the marker) is part
of it.  An ``etc/`` without the marker is a half-written root, reported as such rather than
patched up.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from buckyos.runtime import ConfigError
from buckyos.runtime.security import (
    Ed25519PrivateKey,
    did_document,
    generate_private_key,
    load_private_key_file,
    private_key_to_pem,
    public_key_to_jwk,
)

from .layout import ZoneLayout

__all__ = ["ZoneIdentity", "create_identity", "load_identity"]

_MARKER_VERSION = 1


@dataclass(frozen=True, slots=True)
class ZoneIdentity:
    """What a zone is: its names and keys (loaded from ``<root>/etc``)."""

    layout: ZoneLayout
    zone_host: str
    admin: str
    admin_password: str
    device_name: str
    owner_key: Ed25519PrivateKey
    device_key: Ed25519PrivateKey
    verify_hub_key: Ed25519PrivateKey

    @property
    def zone_did(self) -> str:
        return f"did:web:{self.zone_host}"

    @property
    def owner_did(self) -> str:
        return f"did:bns:{self.admin}"

    @property
    def device_did(self) -> str:
        return "did:dev:" + public_key_to_jwk(self.device_key.public_key())["x"]

    def owner_jwk(self) -> dict[str, str]:
        return public_key_to_jwk(self.owner_key.public_key())

    def device_jwk(self) -> dict[str, str]:
        return public_key_to_jwk(self.device_key.public_key())

    def verify_hub_jwk(self) -> dict[str, str]:
        return public_key_to_jwk(self.verify_hub_key.public_key())

    def owner_doc(self) -> dict[str, Any]:
        return did_document(
            self.owner_did, self.owner_key.public_key(), name=self.admin, full_name=self.admin
        )

    def device_doc(self) -> dict[str, Any]:
        return did_document(
            self.device_did,
            self.device_key.public_key(),
            name=self.device_name,
            owner=self.owner_did,
            zone_did=self.zone_did,
        )


def _write(path: Path, text: str, *, private: bool = False) -> None:
    path.write_text(text, encoding="utf-8")
    if private:
        path.chmod(0o600)


def create_identity(
    layout: ZoneLayout,
    *,
    admin: str = "admin",
    device_name: str = "ood1",
    zone_host: str = "test.buckyos.localhost",
    password: str | None = None,
) -> ZoneIdentity:
    """Create the zone's ``etc/`` in one rename; refuse if one (or half of one) is there."""
    if layout.etc.exists():
        if layout.zone_file.exists():
            raise ConfigError(f"zone root {layout.root} already has an identity")
        raise _half_written(layout)
    layout.root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".etc-partial-", dir=layout.root))
    try:
        owner, device, hub = generate_private_key(), generate_private_key(), generate_private_key()
        admin_password = password if password is not None else secrets.token_urlsafe(12)
        ident = ZoneIdentity(
            layout, zone_host, admin, admin_password, device_name, owner, device, hub
        )
        files = {
            layout.user_key.name: (private_key_to_pem(owner), True),
            layout.device_key.name: (private_key_to_pem(device), True),
            layout.verify_hub_key.name: (private_key_to_pem(hub), True),
            layout.node_identity.name: (
                json.dumps(
                    {
                        "zone_did": ident.zone_did,
                        "owner_did": ident.owner_did,
                        "owner_public_key": ident.owner_jwk(),
                        "device_name": device_name,
                        "device_did": ident.device_did,
                        "zone_iat": int(time.time()),
                    },
                    indent=2,
                ),
                False,
            ),
            layout.user_config.name: (json.dumps(ident.owner_doc(), indent=2), False),
            layout.machine.name: (
                json.dumps({"web3_bridge": {}, "trust_did": [], "force_https": False}, indent=2),
                False,
            ),
            # The marker goes last, in the same rename as everything else.
            layout.zone_file.name: (
                json.dumps(
                    {
                        "version": _MARKER_VERSION,
                        "zone_host": zone_host,
                        "admin": admin,
                        "admin_password": admin_password,
                        "device_name": device_name,
                    },
                    indent=2,
                ),
                True,
            ),
        }
        for name, (text, private) in files.items():
            _write(staging / name, text, private=private)
        os.rename(staging, layout.etc)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return ident


def _half_written(layout: ZoneLayout) -> ConfigError:
    return ConfigError(
        f"zone root {layout.root} is half-written: {layout.etc} exists but has no "
        f"{layout.zone_file.name}. Remove {layout.etc} (or use another --root) and run "
        "`buckyos zone up` again."
    )


def load_identity(layout: ZoneLayout) -> ZoneIdentity:
    """The identity in ``<root>/etc``; a ``ConfigError`` naming the file that is wrong."""
    if not layout.etc.exists():
        raise ConfigError(
            f"no zone at {layout.root}: {layout.etc} does not exist (run `buckyos zone up "
            f"--root {layout.root}` to create one)"
        )
    if not layout.zone_file.exists():
        raise _half_written(layout)
    try:
        marker = json.loads(layout.zone_file.read_text(encoding="utf-8"))
        zone_host = str(marker["zone_host"])
        admin = str(marker["admin"])
        password = str(marker["admin_password"])
        device_name = str(marker["device_name"])
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ConfigError(f"{layout.zone_file} is unreadable or incomplete: {err!r}") from err
    return ZoneIdentity(
        layout,
        zone_host,
        admin,
        password,
        device_name,
        load_private_key_file(layout.user_key),
        load_private_key_file(layout.device_key),
        load_private_key_file(layout.verify_hub_key),
    )
