"""kmsg's values, as the store and the access rules see them: a queue's config and owner,
a subscription, a message, stats, a position, and upstream's URN rule."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass

__all__ = [
    "Position",
    "QueueConfig",
    "QueueGuard",
    "QueueInfo",
    "QueueStats",
    "StoredMessage",
    "SubGuard",
    "SubInfo",
    "calc_queue_urn",
]


def calc_queue_urn(appid: str, app_owner: str, name: str) -> str:
    """Upstream ``calc_queue_urn``: the trimmed name when it starts with ``/`` or holds
    ``::``, else ``<appid>::<app_owner>::<name>``."""
    normalized = name.strip()
    if normalized.startswith("/") or "::" in normalized:
        return normalized
    return f"{appid}::{app_owner}::{normalized}"


@dataclass(frozen=True, slots=True)
class QueueConfig:
    """A queue's config, as ``QueueConfig`` on the wire (limits ``None`` = no limit)."""

    max_messages: int | None = None
    retention_seconds: int | None = None
    sync_write: bool = False
    other_app_can_read: bool = False
    other_app_can_write: bool = False
    other_user_can_read: bool = False
    other_user_can_write: bool = False


@dataclass(frozen=True, slots=True)
class QueueInfo:
    """A queue as the guards see it: its URN, owner (``appid``, ``app_owner``) and config."""

    urn: str
    appid: str
    app_owner: str
    config: QueueConfig


@dataclass(frozen=True, slots=True)
class SubInfo:
    """A subscription: its queue, owner (``user_id``, ``app_id``) and cursor."""

    sub_id: str
    queue_urn: str
    user_id: str
    app_id: str
    cursor: int


@dataclass(frozen=True, slots=True)
class StoredMessage:
    index: int
    created_at: int
    payload: bytes
    headers: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class QueueStats:
    message_count: int = 0
    first_index: int = 0
    last_index: int = 0
    size_bytes: int = 0


class Position(enum.Enum):
    """Where a subscription starts or seeks to (with an index for ``AT``)."""

    EARLIEST = "Earliest"
    LATEST = "Latest"
    AT = "At"


QueueGuard = Callable[[QueueInfo], None]
"""Raises (e.g. ``NoPermissionError``) when the caller may not do this to the queue."""
SubGuard = Callable[[SubInfo, QueueInfo], None]
"""Raises when the caller may not use this subscription (on this queue)."""
