"""Build task-manager's :class:`~buckyos.runtime.server.binding.Binding`, for the process
entry, for programs that run task-manager in process, and for tests."""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable
from pathlib import Path

from buckyos.generated.task_manager_rpc import TASK_MANAGER
from buckyos.runtime.security import RbacEnforcer, TokenVerifier
from buckyos.runtime.server import Binding

from .events import Publisher
from .service import TaskManagerService
from .store import TaskStore

__all__ = ["build_binding", "service_of"]

_SERVICES: weakref.WeakKeyDictionary[Binding, TaskManagerService] = weakref.WeakKeyDictionary()


def build_binding(
    *,
    rbac: RbacEnforcer,
    store: TaskStore | str | Path,
    verifier: TokenVerifier | None = None,
    binding: Binding | None = None,
    publish: Publisher | None = None,
    clock: Callable[[], float] = time.time,
    timeout: float | None = 20.0,
) -> Binding:
    """A Binding serving the ``task-manager`` api.

    Callers are checked with ``verifier`` (the zone's trust keys) on a new Binding, or by
    the ready ``binding`` given (e.g. :meth:`buckyos.services.kernel.Kernel.binding`,
    which also refuses revoked sessions); ``rbac`` is the zone's policy, which the task
    ACL's owner view asks (``obj://task/<user>``, ``read``).  ``store`` is an open
    :class:`TaskStore` (yours to close) or the path of its SQLite file (opened here; every
    change is committed before it is answered).  Upstream's built-in task schemas are
    registered.  ``publish`` receives the kevent of each committed mutation
    (:mod:`.events`; ``None``: none is published).
    """
    if (verifier is None) == (binding is None):
        raise TypeError("build_binding takes a verifier or a binding, exactly one")
    task_store = store if isinstance(store, TaskStore) else TaskStore(store, clock=clock)
    if binding is None:
        assert verifier is not None
        binding = Binding(TASK_MANAGER.api, verifier=verifier, rbac=rbac, timeout=timeout)
    service = TaskManagerService(task_store, rbac=rbac, publish=publish)
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
