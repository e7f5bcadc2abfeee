"""Where a local zone keeps its files: one root folder, laid out like ``$BUCKYOS_ROOT``.

::

    <root>/etc/node_identity.json     zone_did, owner_did, owner_public_key, device_name, device_did
    <root>/etc/node_private_key.pem   this node's device key (PKCS#8 PEM)
    <root>/etc/machine.json           force_https false: a local zone speaks plain HTTP
    <root>/etc/user_config.json       the admin's owner document (for AppClient runtimes)
    <root>/etc/user_private_key.pem   the admin's (zone owner's) key
    <root>/etc/verify_hub_private_key.pem
    <root>/etc/zone.json              written last: the zone exists (and the admin password)
    <root>/data/system_config/config.db, <root>/data/verify-hub/state.db
    <root>/logs/<service>.log
    <root>/run/zone.json              while up: pids, ports and URLs
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["ZoneLayout"]


@dataclass(frozen=True, slots=True)
class ZoneLayout:
    """The paths of a zone rooted at ``root``."""

    root: Path

    @property
    def etc(self) -> Path:
        return self.root / "etc"

    @property
    def node_identity(self) -> Path:
        return self.etc / "node_identity.json"

    @property
    def device_key(self) -> Path:
        return self.etc / "node_private_key.pem"

    @property
    def machine(self) -> Path:
        return self.etc / "machine.json"

    @property
    def user_config(self) -> Path:
        return self.etc / "user_config.json"

    @property
    def user_key(self) -> Path:
        return self.etc / "user_private_key.pem"

    @property
    def verify_hub_key(self) -> Path:
        return self.etc / "verify_hub_private_key.pem"

    @property
    def zone_file(self) -> Path:
        return self.etc / "zone.json"

    @property
    def system_config_db(self) -> Path:
        return self.root / "data" / "system_config" / "config.db"

    @property
    def verify_hub_state(self) -> Path:
        return self.root / "data" / "verify-hub" / "state.db"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    def log(self, service: str) -> Path:
        return self.logs / f"{service}.log"

    @property
    def run_file(self) -> Path:
        return self.root / "run" / "zone.json"
