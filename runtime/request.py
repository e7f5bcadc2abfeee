"""What a verb handler receives besides its message: the call's identity and context."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from google.protobuf.message import Message

from .descriptor import MethodDescriptor

__all__ = ["Caller", "Request"]


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling: from the verified session token, or anonymous."""

    user_id: str | None = None
    app_id: str | None = None
    session: str | None = None
    loa: int = 0
    token: str | None = None


@dataclass(slots=True)
class Request:
    """One call as a handler sees it: the typed message, the raw params, the caller."""

    method: MethodDescriptor[Any, Any]
    message: Message
    params: Any = None
    caller: Caller = field(default_factory=Caller)
    trace_id: str | None = None
    transport: str = "inmemory"
    logger: logging.LoggerAdapter[logging.Logger] | None = None

    @property
    def api(self) -> str:
        return self.method.api

    @property
    def verb(self) -> str:
        return self.method.krpc
