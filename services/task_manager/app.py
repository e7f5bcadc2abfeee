"""Build task-manager's :class:`~buckyos.runtime.server.binding.Binding`, for the process
entry, for programs that run task-manager in process, and for tests."""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable
from pathlib import Path

from buckyos.generated.task_manager_rpc import TASK_MANAGER
from buckyos.runtime.security import RbacEnforcer, RevocationSet, TokenVerifier
from buckyos.runtime.server import Binding

from .events import Publisher
from .service import TaskManagerService
from .store import TaskStore

__all__ = ["build_binding", "service_of"]

_SERVICES: weakref.WeakKeyDictionary[Binding, TaskManagerService] = weakref.WeakKeyDictionary()


def build_binding(
    *,
    verifier: TokenVerifier,
    rbac: RbacEnforcer,
    store_or_path: TaskStore | str | Path,
    publish: Publisher | None = None,
    clock: Callable[[], float] = time.time,
    revocations: RevocationSet | None = None,
    timeout: float | None = 20.0,
) -> Binding:
    """A Binding serving the ``task-manager`` api.

    ``verifier`` checks callers' tokens (the zone's trust keys: a zone-trusted caller is
    one whose token the owner's or a zone device's key verified, or verify-hub's for a
    device or service session), ``rbac`` is the zone's policy (the task ACL's owner view
    asks it ``obj://task/<user>``, ``read``), ``revocations`` the logged-out sessions to
    refuse too.  ``store_or_path`` is an open :class:`TaskStore` (yours to close) or the
    path of its SQLite file (opened here with ``clock``; every change is committed before
    it is answered, so nothing depends on closing it; ``service_of(binding).store.close()``
    closes it).  Upstream's built-in task schemas are registered.  ``publish`` receives the
    kevent of each committed mutation (:mod:`.events`; ``None``: nothing is published).
    """
    store = (
        store_or_path
        if isinstance(store_or_path, TaskStore)
        else TaskStore(store_or_path, clock=clock)
    )
    binding = Binding(
        TASK_MANAGER.api, verifier=verifier, rbac=rbac, revocations=revocations, timeout=timeout
    )
    service = TaskManagerService(store, rbac=rbac, publish=publish)
    service.seed_builtin_schemas()
    binding.add_service(service)
    _SERVICES[binding] = service
    return binding


def service_of(binding: Binding) -> TaskManagerService:
    """The :class:`TaskManagerService` a binding from :func:`build_binding` serves."""
    try:
        return _SERVICES[binding]
    except KeyError:
        raise ValueError(f"{binding!r} was not built by task_manager.build_binding") from None
