"""Building the system_config binding: store, identity, trust keys, RBAC and the verbs.

``build_binding(store, owner_key=..., device_name=..., device_key=...)`` gives a
:class:`~buckyos.runtime.server.binding.Binding` ready for ``runtime.serve`` (``serving``/``serve``)
or for in-process calls.  Trust keys and the policy are loaded from the store before it is
returned.

Upstream's system_config checks the session token first and then answers missing params
with its own texts (``Failed due to reason: Missing key``), while the JSON mapping would
refuse them first with its own.  So the api registers :func:`.params.check_params` as its
params check: for calls with JSON params (kRPC, the links) the binding verifies the token,
runs the check, and only then decodes.  gRPC and in-process calls are unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from buckyos.generated.system_config_rpc import SYSTEM_CONFIG
from buckyos.runtime import ConfigError, ReasonError, ServiceNotValidError
from buckyos.runtime.security import (
    DEFAULT_LEEWAY,
    Ed25519PublicKey,
    RbacEnforcer,
    TokenVerifier,
    TrustKeyStore,
    as_public_key,
)
from buckyos.runtime.server import DEFAULT_TIMEOUT, Binding

from .etcd_store import EtcdStore, EtcdUnavailableError, RevisionAheadError
from .keys import reloads_security
from .params import check_params
from .revoked import StoreRevocations
from .security import Identity, SecurityState
from .service import DEFAULT_USER_QUOTA_BYTES, DEFAULT_USER_QUOTA_KEYS, SystemConfigService
from .store import Store
from .watch import Watches

__all__ = ["build_binding"]


class _EtcdRevisions:
    """The binding's view of an etcd store for read-your-writes across nodes (a
    ``StoreRevisions``): the copy's revision, and waiting for it with the wire's errors."""

    __slots__ = ("_store",)

    def __init__(self, store: EtcdStore) -> None:
        self._store = store

    def copy_revision(self) -> int:
        return self._store.copy_revision

    def reach(self, revision: int, timeout: float) -> None:
        try:
            self._store.reach(revision, timeout)
        except RevisionAheadError as exc:
            raise ReasonError(f"x-buckyos-revision: {exc}") from None
        except EtcdUnavailableError as exc:
            # This node's copy (or its etcd) is behind: another node may answer.
            raise ServiceNotValidError(f"system_config: {exc}") from None


def build_binding(
    store: Store,
    *,
    owner_key: Ed25519PublicKey | Mapping[str, Any],
    device_name: str,
    device_key: Ed25519PublicKey | Mapping[str, Any],
    owner_did: str | None = None,
    device_did: str | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
    leeway: float = DEFAULT_LEEWAY,
    logger: logging.Logger | None = None,
    user_quota_bytes: int = DEFAULT_USER_QUOTA_BYTES,
    user_quota_keys: int = DEFAULT_USER_QUOTA_KEYS,
) -> Binding:
    """The system_config binding over ``store`` for a zone owner and this device.

    ``owner_key``/``device_key`` are Ed25519 public keys or their JWKs.  The caller keeps
    ownership of ``store`` (close it after the binding stopped serving).
    ``user_quota_bytes``/``user_quota_keys`` bound what each user's writes may hold
    (zone-trusted callers are not held to them; see ``docs/system-config.md``).
    """
    if not device_name:
        raise ConfigError("device_name must be a non-empty string (the kid of this device)")
    identity = Identity(
        owner_key=as_public_key(owner_key, "owner key"),
        device_name=device_name,
        device_key=as_public_key(device_key, "device key"),
        owner_did=owner_did,
        device_did=device_did,
    )
    trust = TrustKeyStore()
    rbac = RbacEnforcer()
    security = SecurityState(store, identity, trust=trust, rbac=rbac)
    security.reload()
    # Revoked sessions and inactive users: applied as soon as their keys are written here.
    revoked = StoreRevocations(store)
    revoked.load()

    def changed(keys: Sequence[str]) -> None:
        # Another node wrote to the shared store (EtcdStore): apply what this one must.
        revoked.written(keys)
        if any(reloads_security(key) for key in keys):
            security.reload()

    store.on_change(changed)
    binding = Binding(
        SYSTEM_CONFIG.api,
        verifier=TokenVerifier(trust, leeway=leeway),
        rbac=rbac,
        revocations=revoked.revocations,
        timeout=timeout,
        logger=logger,
    )
    watches = Watches(
        store,
        make_event=lambda name: binding.events.event(SYSTEM_CONFIG.api, name),
        verify=binding.authorizer.verify,
        rbac=rbac,
    )
    binding.add_service(
        SystemConfigService(
            store,
            security,
            user_quota_bytes=user_quota_bytes,
            user_quota_keys=user_quota_keys,
            revoked=revoked,
            watches=watches,
        ),
        check_params=check_params,  # upstream's order: the token, then its params texts
        # On etcd every node answers from its own copy: callers read their own writes on
        # any node by the revisions the answers carry (x-buckyos-revision).
        revisions=_EtcdRevisions(store) if isinstance(store, EtcdStore) else None,
    )
    return binding
