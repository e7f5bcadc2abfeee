"""kevent, the node's event bus, as a reference server (``python -m buckyos.services.kevent``).

Upstream's HTTP wire (``POST /kapi/kevent`` ops, ``/kapi/kevent/publish``,
``/kapi/kevent/stream``) over a bus with bounded per-reader queues (:mod:`.bus`), with
authentication and a policy for who publishes and reads what (:mod:`.policy`), which
upstream has not.  :class:`KEventApp` is the ASGI app, :func:`kevent_serving` serves it.
See ``docs/kevent.md``.
"""

from __future__ import annotations

from .app import MAX_BODY, MAX_PULL_MS, KEventApp
from .bus import Bus, Delivery, Reader
from .policy import (
    FORWARDED_HEADER,
    LOCAL,
    Audience,
    Principal,
    is_local_request,
    may_read,
    parse_audience,
    principal_of,
    publish_refusal,
)
from .server import DEFAULT_PORT, kevent_serving, url_of

__all__ = [
    "DEFAULT_PORT",
    "FORWARDED_HEADER",
    "LOCAL",
    "MAX_BODY",
    "MAX_PULL_MS",
    "Audience",
    "Bus",
    "Delivery",
    "KEventApp",
    "Principal",
    "Reader",
    "is_local_request",
    "kevent_serving",
    "may_read",
    "parse_audience",
    "principal_of",
    "publish_refusal",
    "url_of",
]
