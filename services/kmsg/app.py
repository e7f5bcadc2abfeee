"""Build kmsg's :class:`~buckyos.runtime.server.binding.Binding`, for the process entry, for
programs that run kmsg in process, and for tests."""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable
from pathlib import Path

from buckyos.generated.kmsg_rpc import KMSG
from buckyos.runtime.security import RbacEnforcer, RevocationSet, TokenVerifier
from buckyos.runtime.server import Binding

from .service import KmsgService
from .store import KmsgStore

__all__ = ["build_binding", "service_of"]

_SERVICES: weakref.WeakKeyDictionary[Binding, KmsgService] = weakref.WeakKeyDictionary()


def build_binding(
    *,
    verifier: TokenVerifier,
    rbac: RbacEnforcer,
    store_or_path: KmsgStore | str | Path,
    clock: Callable[[], float] = time.time,
    revocations: RevocationSet | None = None,
    timeout: float | None = 20.0,
) -> Binding:
    """A Binding serving the ``kmsg`` api.

    ``verifier`` checks callers' tokens (the zone's trust keys; a zone-trusted token is
    one its owner or device key verified, see :mod:`.access`), ``rbac`` is the zone's
    policy (the Binding's, for ``req.enforce``; kmsg's own rights are its access flags),
    ``revocations`` the logged-out sessions to refuse too.  ``store_or_path`` is an open
    :class:`KmsgStore` (yours to close) or the path of its SQLite file (opened here with
    ``clock`` and kept open for the life of the process: every change is committed as it
    is answered, so nothing depends on closing it; ``service_of(binding).store.close()``
    closes it).
    """
    store = (
        store_or_path
        if isinstance(store_or_path, KmsgStore)
        else KmsgStore(store_or_path, clock=clock)
    )
    binding = Binding(
        KMSG.api, verifier=verifier, rbac=rbac, revocations=revocations, timeout=timeout
    )
    service = KmsgService(store)
    binding.add_service(service)
    _SERVICES[binding] = service
    return binding


def service_of(binding: Binding) -> KmsgService:
    """The :class:`KmsgService` a binding from :func:`build_binding` serves."""
    try:
        return _SERVICES[binding]
    except KeyError:
        raise ValueError(f"{binding!r} was not built by kmsg.build_binding") from None
