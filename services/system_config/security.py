"""Trust keys and the RBAC policy of system_config, rebuilt from its own keys.

What is trusted (kid -> key), as upstream's ``handle_refresh_trust_keys``:

- the zone owner key as ``root``, ``$default`` and the owner DID, and this device's key as
  its name and DID: both from the process's identity options (upstream: ``boot/config``'s
  zone document and ``BUCKYOS_THIS_DEVICE``);
- ``verify-hub``: ``boot/config`` ``verify_hub_info.public_key`` (a JWK);
- each zone device whose document is at ``devices/<name>/doc``, as kid ``<name>``.
  Upstream loads such a document lazily when a token names an unknown issuer, and only
  for device type ``ood`` or ``node``; we load them with the rest and apply the same type
  rule when the document states a type.  A document cannot claim a name that is already
  a kid of the owner, verify-hub or this device.

The RBAC policy is upstream's default with ``system/rbac/policy`` appended.

Everything is reloaded at start, on ``sys_refresh_trust_keys`` and after every write that
touches ``boot/config``, ``system/rbac/*`` or a device document.  Unlike upstream, a value
that would break the reload (``boot/config`` that is not a JSON object or holds a bad
verify-hub JWK, a policy tail casbin cannot load) is refused before it is written, so the
service never ends up unable to check tokens or rules.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from buckyos.runtime import ConfigError, ContractError
from buckyos.runtime.security import (
    OWNER_KIDS,
    VERIFY_HUB_KID,
    Ed25519PublicKey,
    RbacEnforcer,
    TrustKeyStore,
    public_key_from_doc,
    public_key_from_jwk,
)
from buckyos.runtime.wire import json_object

from .keys import device_of_doc_key
from .store import InvalidValueError, Store

__all__ = ["BOOT_CONFIG_KEY", "RBAC_POLICY_KEY", "Identity", "SecurityState"]

BOOT_CONFIG_KEY: Final = "boot/config"
RBAC_POLICY_KEY: Final = "system/rbac/policy"
_TRUSTED_DEVICE_TYPES: Final = ("ood", "node")

_log = logging.getLogger("buckyos.services.system_config.security")


@dataclass(frozen=True, slots=True)
class Identity:
    """Who this zone and this device are: the keys trusted from the start."""

    owner_key: Ed25519PublicKey
    device_name: str
    device_key: Ed25519PublicKey
    owner_did: str | None = None
    device_did: str | None = None


def _verify_hub_jwk(boot_config: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The verify-hub JWK of a ``boot/config`` object; ``None`` when it names none."""
    info = boot_config.get("verify_hub_info")
    if info is None:
        return None
    if not isinstance(info, Mapping):
        raise ValueError("verify_hub_info must be an object")
    jwk = info.get("public_key")
    if not isinstance(jwk, Mapping):
        raise ValueError("verify_hub_info.public_key must be an Ed25519 JWK object")
    try:
        public_key_from_jwk(jwk)
    except ConfigError as exc:
        raise ValueError(f"verify_hub_info.public_key: {exc}") from None
    return jwk


class SecurityState:
    """The trust store and RBAC enforcer of one system_config, kept in step with its keys."""

    def __init__(
        self,
        store: Store,
        identity: Identity,
        *,
        trust: TrustKeyStore | None = None,
        rbac: RbacEnforcer | None = None,
    ) -> None:
        self.store = store
        self.identity = identity
        self.trust = trust if trust is not None else TrustKeyStore()
        self.rbac = rbac if rbac is not None else RbacEnforcer()
        self._lock = threading.Lock()
        self._doc_devices: set[str] = set()

    def _reserved_kids(self) -> set[str]:
        identity = self.identity
        kids = {*OWNER_KIDS, VERIFY_HUB_KID, identity.device_name}
        kids.update(kid for kid in (identity.owner_did, identity.device_did) if kid)
        return kids

    # -- validation before a write

    def check(self, key: str, value: str | None) -> None:
        """Refuse (``InvalidValueError``) a new value that the reload could not use."""
        if value is None:
            return
        if key == BOOT_CONFIG_KEY:
            try:
                _verify_hub_jwk(json_object(value, "the value"))
            except ValueError as exc:
                raise InvalidValueError(f"{key}: {exc}; nothing was written") from None
        elif key == RBAC_POLICY_KEY:
            try:
                RbacEnforcer(self.rbac.model, tail=value, cache_size=0)
            except ContractError as exc:
                raise InvalidValueError(
                    f"{key} is not a valid RBAC policy tail ({exc}); nothing was written"
                ) from None

    # -- reload

    def reload(self) -> None:
        """Rebuild trust keys and the policy from the store (serialised)."""
        with self._lock:
            identity = self.identity
            self.trust.set_owner_key(identity.owner_key, identity.owner_did)
            self.trust.add_device(identity.device_name, identity.device_key, identity.device_did)
            self._load_verify_hub()
            self._load_devices()
            self._load_policy()

    def _load_verify_hub(self) -> None:
        entry = self.store.get(BOOT_CONFIG_KEY)
        jwk = None
        if entry is not None:
            try:
                jwk = _verify_hub_jwk(json_object(entry.value, "the stored value"))
            except ValueError as exc:
                _log.error("boot/config: %s; verify-hub tokens are not trusted", exc)
        if jwk is None:
            self.trust.remove(VERIFY_HUB_KID)
            if entry is not None:
                _log.warning("boot/config names no verify_hub_info.public_key")
            return
        self.trust.set_verify_hub_key(jwk)

    def _device_key(self, name: str, value: str) -> Ed25519PublicKey | None:
        try:
            doc = json_object(value, f"devices/{name}/doc")
            kind = doc.get("device_type")
            if kind is not None and kind not in _TRUSTED_DEVICE_TYPES:
                _log.info(
                    "device %s is a %r, not an ood or node: its key is not trusted", name, kind
                )
                return None
            return public_key_from_doc(doc, what=f"devices/{name}/doc")
        except (ValueError, ConfigError) as exc:
            _log.warning("devices/%s/doc: %s; its key is not trusted", name, exc)
            return None

    def _load_devices(self) -> None:
        reserved = self._reserved_kids()
        found: dict[str, Ed25519PublicKey] = {}
        for key, value in self.store.dump(("devices/",)).items():
            name = device_of_doc_key(key)
            if name is None:
                continue
            if name in reserved:
                if name != self.identity.device_name:
                    _log.warning("devices/%s/doc: %s is a reserved kid, not trusted", name, name)
                continue
            public = self._device_key(name, value)
            if public is not None:
                found[name] = public
        for name in self._doc_devices - found.keys():
            self.trust.remove(name)
        for name, public in found.items():
            self.trust.add_device(name, public)
        self._doc_devices = set(found)

    def _load_policy(self) -> None:
        entry = self.store.get(RBAC_POLICY_KEY)
        tail = "" if entry is None else entry.value
        if tail.strip() == self.rbac.policy_tail:
            return
        try:
            self.rbac.set_policy_tail(tail)
        except ContractError as exc:
            _log.error(
                "%s is not a valid policy tail, keeping the previous one: %s", RBAC_POLICY_KEY, exc
            )
