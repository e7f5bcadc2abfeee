"""Which keys the zone trusts, by kid, and what kind of key each is.

Wire facts (upstream ``buckyos-api`` / ``verify_hub``): the key that verifies a token is
chosen by its ``kid`` (a missing kid means ``root``); an unknown kid is
``No permission:kid <kid> not found``.

The :class:`KeyKind` a kid was added as, not any claim, decides whether a token it verifies
is zone-trusted (:attr:`~buckyos.runtime.security.session_token.SessionToken.zone_trusted`).
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Iterable, Mapping
from typing import Any, Final, TypeAlias

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from buckyos.runtime.errors import ConfigError, NoPermissionError
from buckyos.runtime.security.keys import as_public_key
from buckyos.runtime.wire.jsontext import json_object

__all__ = [
    "OWNER_KIDS",
    "VERIFY_HUB_KID",
    "KeyKind",
    "PublicKeyLike",
    "TrustKeyStore",
]

VERIFY_HUB_KID: Final = "verify-hub"
OWNER_KIDS: Final = ("root", "$default")


class KeyKind(enum.Enum):
    """Which kind of trusted key a kid names, so which kind verified a token."""

    OWNER = "owner"
    """The zone owner's key (``root``, ``$default``, the owner DID)."""
    DEVICE = "device"
    """A zone device's key (its name, its DID)."""
    VERIFY_HUB = "verify-hub"
    """verify-hub's signing key: it signs users' sessions as well as services'."""
    OTHER = "other"
    """A key trusted under an arbitrary kid (:meth:`TrustKeyStore.add_key`): it may verify
    tokens, but vouches for nothing beyond their user."""


PublicKeyLike: TypeAlias = Ed25519PublicKey | Mapping[str, Any]
"""An Ed25519 public key object, or its JWK (``{"kty":"OKP","crv":"Ed25519","x":...}``)."""


def _check_kid(kid: object, what: str) -> str:
    if not isinstance(kid, str) or not kid:
        raise ConfigError(f"{what} must be a non-empty string")
    return kid


class TrustKeyStore:
    """kid -> Ed25519 public key, with upstream's naming rules. Thread-safe.

    - ``root``, ``$default`` and the owner DID give the zone owner key;
    - a device's name and its DID give the device key;
    - ``verify-hub`` gives verify-hub's key (``boot/config`` ``verify_hub_info.public_key``);
    - any other kid may be added explicitly (:meth:`add_key`, kind ``OTHER``).

    Each kid remembers the :class:`KeyKind` it was added as, which the verifier records on
    the tokens it verifies (:attr:`~.session_token.SessionToken.signer`).  The owner's kids and
    ``verify-hub`` are reserved for their setters: a device may not be named after them.

    A missing kid (``None``) means ``root``. Every change bumps :attr:`generation`,
    which :class:`~.token_verifier.TokenVerifier` watches to drop its cache.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._keys: dict[str, Ed25519PublicKey] = {}
        self._kinds: dict[str, KeyKind] = {}
        self._owner_kids: tuple[str, ...] = ()
        self._devices: dict[str, tuple[str, ...]] = {}  # device name -> its kids
        self._generation = 0

    # -- reading

    @property
    def generation(self) -> int:
        """Bumped on every change; read on every cached verification, so without the lock
        (an int attribute read is atomic)."""
        return self._generation

    def kids(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._keys)

    def __contains__(self, kid: object) -> bool:
        with self._lock:
            return kid in self._keys

    def __len__(self) -> int:
        with self._lock:
            return len(self._keys)

    def lookup(self, kid: str | None) -> Ed25519PublicKey:
        """The key for ``kid`` (None means ``root``).

        Raises ``NoPermissionError`` (``No permission:kid <kid> not found``).
        """
        return self.lookup_with_generation(kid)[0]

    def lookup_with_generation(self, kid: str | None) -> tuple[Ed25519PublicKey, int]:
        """The key and the generation it was read at, atomically."""
        key, _, generation = self.lookup_entry(kid)
        return key, generation

    def lookup_entry(self, kid: str | None) -> tuple[Ed25519PublicKey, KeyKind, int]:
        """The key, the kind it was added as, and the generation read, atomically."""
        name = "root" if kid is None else kid
        with self._lock:
            key = self._keys.get(name)
            if key is None:
                raise NoPermissionError(f"kid {name} not found")
            return key, self._kinds[name], self._generation

    def kind_of(self, kid: str | None) -> KeyKind | None:
        """The kind of key ``kid`` names (None means ``root``), or ``None`` if untrusted."""
        with self._lock:
            return self._kinds.get("root" if kid is None else kid)

    # -- writing

    def _changed(self) -> None:
        self._generation += 1

    def _drop(self, kids: Iterable[str]) -> None:
        for kid in kids:
            self._keys.pop(kid, None)
            self._kinds.pop(kid, None)

    def _put(self, kid: str, key: Ed25519PublicKey, kind: KeyKind) -> None:
        self._keys[kid] = key
        self._kinds[kid] = kind

    def set_owner_key(self, key: PublicKeyLike, owner_did: str | None = None) -> None:
        """The zone owner key, under ``root``, ``$default`` and ``owner_did``."""
        public = as_public_key(key, "owner public key")
        kids: tuple[str, ...] = OWNER_KIDS
        if owner_did is not None:
            kids = (*kids, _check_kid(owner_did, "owner DID"))
        with self._lock:
            self._drop(self._owner_kids)
            self._owner_kids = kids
            for kid in kids:
                self._put(kid, public, KeyKind.OWNER)
            self._changed()

    def add_device(self, name: str, key: PublicKeyLike, did: str | None = None) -> None:
        """A device key, under the device name and (when given) its DID.

        A device named like an owner kid or ``verify-hub`` is refused (``ConfigError``): its
        tokens would be zone-trusted under a name that promises something else.
        """
        _check_kid(name, "device name")
        public = as_public_key(key, f"device {name} public key")
        kids: tuple[str, ...] = (name,)
        if did is not None:
            kids = (name, _check_kid(did, "device DID"))
        with self._lock:
            for kid in kids:
                if kid == VERIFY_HUB_KID or kid in OWNER_KIDS or kid in self._owner_kids:
                    raise ConfigError(
                        f"device {name}: {kid!r} is a reserved kid (the zone owner's or "
                        "verify-hub's); give the device its own name"
                    )
            self._drop(self._devices.pop(name, ()))
            self._devices[name] = kids
            for kid in kids:
                self._put(kid, public, KeyKind.DEVICE)
            self._changed()

    def set_verify_hub_key(self, key: PublicKeyLike) -> None:
        """verify-hub's key (kid ``verify-hub``)."""
        public = as_public_key(key, "verify-hub public key")
        with self._lock:
            self._put(VERIFY_HUB_KID, public, KeyKind.VERIFY_HUB)
            self._changed()

    def set_verify_hub_key_from_boot_config(self, boot_config: Mapping[str, Any] | str) -> None:
        """Read ``verify_hub_info.public_key`` (a JWK) from ``boot/config`` (object or JSON)."""
        config = json_object(boot_config, "boot/config", ConfigError)
        info = config.get("verify_hub_info")
        if not isinstance(info, Mapping):
            raise ConfigError("boot/config has no verify_hub_info object")
        jwk = info.get("public_key")
        if not isinstance(jwk, Mapping):
            raise ConfigError("boot/config verify_hub_info.public_key is missing or not a JWK")
        self.set_verify_hub_key(jwk)

    def add_key(self, kid: str, key: PublicKeyLike) -> None:
        """Trust ``key`` under an arbitrary ``kid`` (replacing what was there), as kind
        :attr:`KeyKind.OTHER`: tokens it verifies are valid but not zone-trusted, even under
        kid ``root`` or ``verify-hub`` (use :meth:`set_owner_key`, :meth:`add_device` or
        :meth:`set_verify_hub_key` for those)."""
        _check_kid(kid, "kid")
        public = as_public_key(key, f"public key for kid {kid}")
        with self._lock:
            self._put(kid, public, KeyKind.OTHER)
            self._changed()

    def remove(self, kid: str) -> bool:
        """Stop trusting ``kid``; returns whether anything was removed.

        An owner alias (``root``, ``$default``, owner DID) removes the owner key under all its
        names; a device name or DID removes that device under both.
        """
        with self._lock:
            if kid in self._owner_kids:
                group = self._owner_kids
                self._owner_kids = ()
            else:
                device = next((n for n, ks in self._devices.items() if kid in ks), None)
                group = self._devices.pop(device) if device is not None else (kid,)
            removed = any(k in self._keys for k in group)
            self._drop(group)
            if removed:
                self._changed()
            return removed

    def clear(self) -> None:
        with self._lock:
            self._keys.clear()
            self._kinds.clear()
            self._owner_kids = ()
            self._devices.clear()
            self._changed()
