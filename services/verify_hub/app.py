"""Build verify-hub's :class:`~buckyos.runtime.server.binding.Binding`, for the process entry, for
programs that run verify-hub in process, and for tests."""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable
from pathlib import Path

from buckyos.generated.verify_hub_rpc import VERIFY_HUB
from buckyos.runtime.security import (
    DEFAULT_LEEWAY,
    POLL_INTERVAL,
    REVOCATIONS_KEY,
    Ed25519PrivateKey,
    RbacEnforcer,
    TokenVerifier,
    TrustKeyStore,
)
from buckyos.runtime.server import Binding

from .directory import Directory, SystemConfigDirectory
from .etcd_state import EtcdSessionState
from .revocations import RevocationPublisher
from .service import SESSION_TOKEN_TTL, VerifyHubService
from .state import SessionState, SessionStore
from .throttle import LoginThrottle

__all__ = ["build_binding", "service_of"]

# Which servicer each built binding serves, so that its owner (a test, an embedding
# program) can reach the state and the login throttle.  Weak: a binding dropped is forgotten.
_SERVICES: weakref.WeakKeyDictionary[Binding, VerifyHubService] = weakref.WeakKeyDictionary()


def build_binding(
    *,
    signing_key: Ed25519PrivateKey,
    state: SessionStore | str | Path,
    directory: Directory,
    clock: Callable[[], float] = time.time,
    timeout: float | None = 20.0,
    throttle: LoginThrottle | None = None,
    publish_interval: float | None = POLL_INTERVAL,
) -> Binding:
    """A Binding serving the ``verify-hub`` api.

    ``signing_key`` is verify-hub's Ed25519 private key; ``state`` an open
    :class:`SessionStore` (yours to close: :class:`SessionState` on SQLite, or
    :class:`~.etcd_state.EtcdSessionState` shared by the verify-hubs of a zone of several
    nodes) or the path of a SQLite file (opened here and kept open for the life of the
    process; every change is committed as it is answered, so nothing depends on closing
    it); ``directory`` where users and devices are read; ``throttle`` the failed-login
    counters (default: a new one on ``clock``, in memory, or kept in etcd next to an
    :class:`~.etcd_state.EtcdSessionState` so that every node counts the same failures).

    With a :class:`SystemConfigDirectory`, revoked sessions and inactive users are
    published to system_config (:mod:`.revocations`) every ``publish_interval`` seconds
    and right after each revocation, from the first call on (or from ``binding.init()``);
    ``None`` publishes nothing.  Stop it with ``await service_of(binding).aclose()``.

    Every verb is ``auth: yes`` (credentials travel in the params), so the binding's own
    token check only has verify-hub's key to know: a caller that sends one of our session
    tokens in ``sys`` is identified by it, anyone else is anonymous.
    """
    store = state if isinstance(state, SessionStore) else SessionState(state, clock=clock)
    if throttle is None and isinstance(store, EtcdSessionState):
        throttle = store.login_throttle(clock)
    trust = TrustKeyStore()
    trust.set_verify_hub_key(signing_key.public_key())
    binding = Binding(
        VERIFY_HUB.api,
        verifier=TokenVerifier(trust, clock=clock),
        rbac=RbacEnforcer(),
        timeout=timeout,
    )
    publisher = None
    if publish_interval is not None and isinstance(directory, SystemConfigDirectory):
        publisher = RevocationPublisher(
            revoked_since=store.revoked_since,
            write=lambda text: directory.set(REVOCATIONS_KEY, text),
            user_states=directory.user_states,
            # a session token issued just before the revocation lives this long after it
            listed_for=SESSION_TOKEN_TTL + DEFAULT_LEEWAY,
            interval=publish_interval,
            clock=clock,
        )
    service = VerifyHubService(
        signing_key=signing_key,
        state=store,
        directory=directory,
        clock=clock,
        throttle=throttle,
        publisher=publisher,
    )
    binding.add_service(service)
    _SERVICES[binding] = service
    return binding


def service_of(binding: Binding) -> VerifyHubService:
    """The :class:`VerifyHubService` a binding from :func:`build_binding` serves."""
    try:
        return _SERVICES[binding]
    except KeyError:
        raise ValueError(f"{binding!r} was not built by verify_hub.build_binding") from None
