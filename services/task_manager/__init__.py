"""task-manager: the zone's task store (upstream's TaskMgr 2.0), its service and its rules.

:func:`build_binding` serves it (:mod:`.app`); ``python -m buckyos.services.task_manager``
runs it as a process; :mod:`.store` is the SQLite store, :mod:`.service` the servicer,
:mod:`.events` the kevent it publishes; :mod:`.acl`, :mod:`.schemas` and :mod:`.digest`
are its rules.
"""

from .app import build_binding, service_of
from .service import TaskManagerService
from .store import TaskStore

__all__ = ["TaskManagerService", "TaskStore", "build_binding", "service_of"]
