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
    <root>/data/<service>/<service>.db   task-manager's and kmsg's
    <root>/logs/<service>.log
    <root>/run/zone.json              while up (and while starting): pids, ports and URLs
    <root>/run/zone.lock              locked while `zone up` runs and while any service it
                                      started lives (each inherits the lock)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["ZoneLayout"]


class _Below:
    """A path below the zone's root, read like a property."""

    def __init__(self, *parts: str) -> None:
        self.parts = parts

    def __get__(self, layout: ZoneLayout, owner: type[ZoneLayout]) -> Path:
        return layout.root.joinpath(*self.parts)


@dataclass(frozen=True, slots=True)
class ZoneLayout:
    """The paths of a zone rooted at ``root``."""

    root: Path

    etc = _Below("etc")
    node_identity = _Below("etc", "node_identity.json")
    device_key = _Below("etc", "node_private_key.pem")
    machine = _Below("etc", "machine.json")
    user_config = _Below("etc", "user_config.json")
    user_key = _Below("etc", "user_private_key.pem")
    verify_hub_key = _Below("etc", "verify_hub_private_key.pem")
    zone_file = _Below("etc", "zone.json")
    system_config_db = _Below("data", "system_config", "config.db")
    verify_hub_state = _Below("data", "verify-hub", "state.db")
    logs = _Below("logs")
    run_file = _Below("run", "zone.json")
    lock_file = _Below("run", "zone.lock")

    def service_db(self, service: str) -> Path:
        return self.root / "data" / service / f"{service}.db"

    def log(self, service: str) -> Path:
        return self.logs / f"{service}.log"
