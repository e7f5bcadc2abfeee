"""Whom a program trusts: the keys and RBAC policy a server built on the runtime needs.

Upstream's ``refresh_trust_keys``: this device, the zone owner and verify-hub, from the
configuration and ``boot/config``; a serving runtime also loads the RBAC policy tail
(``system/rbac/policy``) and, when no configuration gave it, this device's key from its
document (``devices/<name>/doc``) at login.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from buckyos.runtime.errors import ConfigError
from buckyos.runtime.program.config import DeviceConfig, RuntimeConfig
from buckyos.runtime.security.keys import public_key_from_doc
from buckyos.runtime.security.rbac import RbacEnforcer
from buckyos.runtime.security.trust_keys import TrustKeyStore

__all__ = ["load_rbac", "trust_device_doc", "trust_from_boot", "trust_from_config"]

_log = logging.getLogger("buckyos.runtime")


def trust_from_config(store: TrustKeyStore, config: RuntimeConfig) -> None:
    """The owner's and this device's keys, when the configuration holds them."""
    if config.owner_public_key is not None:
        store.set_owner_key(config.owner_public_key, config.owner_did)
    device = config.device
    if device is not None and device.public_key is not None:
        store.add_device(device.name, device.public_key, device.did)


def trust_from_boot(
    store: TrustKeyStore, boot: Mapping[str, Any] | None, owner_did: str | None
) -> None:
    """verify-hub's and the owner's keys from ``boot/config`` (``owner_did`` when it names
    no owner)."""
    if not boot:
        return
    info = boot.get("verify_hub_info")
    if isinstance(info, Mapping) and isinstance(info.get("public_key"), Mapping):
        store.set_verify_hub_key_from_boot_config(boot)
    else:
        _log.warning("boot/config has no verify_hub_info.public_key; verify-hub tokens fail")
    owner_jwk = boot.get("owner_public_key")
    if owner_jwk is None and isinstance(boot.get("zone_document"), Mapping):
        owner_jwk = boot["zone_document"].get("owner_public_key")
    if isinstance(owner_jwk, Mapping):
        owner = boot.get("owner")
        store.set_owner_key(owner_jwk, owner if isinstance(owner, str) and owner else owner_did)


def trust_device_doc(store: TrustKeyStore, device: DeviceConfig, device_doc: str) -> None:
    """This device's key from its document; a bad document is logged, not fatal."""
    try:
        key = public_key_from_doc(device_doc, what=f"devices/{device.name}/doc")
    except ConfigError as exc:
        _log.warning("cannot trust this device's key: %s", exc)
    else:
        store.add_device(device.name, key, device.did)


def load_rbac(enforcer: RbacEnforcer | None, policy_text: str | None) -> RbacEnforcer:
    """``enforcer`` (a new one when ``None``) with the zone's policy tail."""
    enforcer = enforcer or RbacEnforcer()
    enforcer.set_policy_tail(policy_text or "")
    return enforcer
