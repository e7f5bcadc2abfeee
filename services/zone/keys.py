"""A local zone's public keys, in the forms a server of the zone needs them.

``buckyos serve --trust-key KID=PATH`` and the notes example's ``$NOTES_OWNER_KEY`` read a
public key from a file (a JWK, PEM or DID document); :func:`zone_keys` lists the zone's
(the owner, its device, verify-hub) with the kid each signs under, and
:func:`write_key_files` writes them as JWK files.  Only public keys leave ``etc/``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from buckyos.runtime import ConfigError
from buckyos.runtime.security import public_key_to_jwk

from .identity import load_identity
from .layout import ZoneLayout

__all__ = ["ZoneKey", "write_key_files", "zone_keys"]


@dataclass(frozen=True, slots=True)
class ZoneKey:
    """One public key: who holds it, the kid its tokens carry, and ``--trust-key``'s
    name for it (``root``, ``device:<name>``, ``verify-hub``)."""

    role: str
    name: str
    kid: str
    trust_kid: str
    jwk: dict[str, str]
    file_name: str

    def to_json(self, path: Path | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "role": self.role,
            "name": self.name,
            "kid": self.kid,
            "trust_key": self.trust_kid,
            "jwk": self.jwk,
        }
        if path is not None:
            data["path"] = str(path)
        return data


def zone_keys(root: Path) -> list[ZoneKey]:
    """The public keys of the zone at ``root`` (read from its ``etc/``)."""
    ident = load_identity(ZoneLayout(root.resolve()))
    device = ident.device_name
    return [
        ZoneKey("owner", ident.admin, "root", "root", ident.owner_jwk(), "owner.jwk"),
        ZoneKey(
            "device", device, device, f"device:{device}", ident.device_jwk(), f"device-{device}.jwk"
        ),
        ZoneKey(
            "verify-hub",
            "verify-hub",
            "verify-hub",
            "verify-hub",
            public_key_to_jwk(ident.verify_hub_key.public_key()),
            "verify-hub.jwk",
        ),
    ]


def write_key_files(keys: list[ZoneKey], folder: Path) -> dict[str, Path]:
    """Write each key as ``<folder>/<file_name>`` (a JWK); ``{trust kid: path}``."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        written: dict[str, Path] = {}
        for key in keys:
            path = folder / key.file_name
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_text(json.dumps(key.jwk) + "\n", encoding="utf-8")
            os.replace(tmp, path)
            written[key.trust_kid] = path.resolve()
    except OSError as exc:
        raise ConfigError(
            f"cannot write the key files into {folder}: {exc.strerror or exc}; give a "
            "writable folder"
        ) from None
    return written
