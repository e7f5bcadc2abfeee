"""kmsg, the zone's durable message queue (kRPC api ``kmsg``, port 4030).

Upstream ``src/kernel/kmsg`` (upstream-services.md section 7), every verb, on SQLite, with
the queue limits and access flags upstream stores but ignores enforced::

    model       the values: queue config and owner, subscription, message, URN rule
    store       SQLite: queues, messages, subscriptions, cursors, seek, limits
    access      who may do what: the verified token against params, owners and flags
    service     the servicer: every verb of proto/buckyos/kmsg.proto
    app         build_binding(): the Binding serving it
    __main__    ``python -m buckyos.services.kmsg``

See ``docs/services-messaging.md``.
"""

from .access import Actor
from .app import build_binding, service_of
from .model import (
    Position,
    QueueConfig,
    QueueInfo,
    QueueStats,
    StoredMessage,
    SubInfo,
    calc_queue_urn,
)
from .service import KmsgService
from .store import MAX_PAGE, KmsgStore, StoreError

__all__ = [
    "MAX_PAGE",
    "Actor",
    "KmsgService",
    "KmsgStore",
    "Position",
    "QueueConfig",
    "QueueInfo",
    "QueueStats",
    "StoreError",
    "StoredMessage",
    "SubInfo",
    "build_binding",
    "calc_queue_urn",
    "service_of",
]
