"""Server-side sessions: per-api context and level of assurance, as the AGL binder keeps them.

A BuckyOS session is named by its token: the ``session`` claim verify-hub puts in every
token of one login (kept across refreshes), else the subject.  The key is scoped by the
subject too (``<session>@<sub>``), so two principals whose tokens happen to carry the same
``session`` number (say one from verify-hub and one self-signed by a device) never share a
context.  Each session holds, per api:

- a **context** value, with a release hook the binder calls ``free_value``: it runs when
  the value is replaced, cleared, or the session is closed or evicted, so a handler can
  keep a resource (a cursor, a subscription) for a session and have it freed;
- a **LOA** (level of assurance) a verb may raise with ``req.set_loa(n)`` for the later
  calls of the session.

``close(session, api)`` is the binder's CLOSE session flag: the api's context and LOA are
dropped (the binding applies it after the verb replied).  The store is bounded (least
recently used sessions are evicted) and thread-safe: sync handlers run in worker threads.
Release hooks always run outside the lock, and one that raises is logged, never
propagated, so a faulty hook cannot wedge the store or fail an unrelated call.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any, Final

from buckyos.runtime.security.session_token import SessionToken
from buckyos.runtime.security.trust_keys import VERIFY_HUB_KID

__all__ = [
    "DEFAULT_MAX_SESSIONS",
    "MAX_LOA",
    "ReleaseHook",
    "SessionStore",
    "loa_of_token",
    "session_key_of",
]

DEFAULT_MAX_SESSIONS: Final = 10_000
MAX_LOA: Final = 3

ReleaseHook = Callable[[Any], object]
"""Called with the context value being dropped (replaced, cleared, closed or evicted)."""

_log = logging.getLogger(__name__)


def session_key_of(token: SessionToken) -> str:
    """The session a verified token belongs to: ``<session>@<sub>``, else ``<sub>``.

    Scoping by the subject keeps principals apart even if two issuers reuse a number.
    """
    if token.session is None:
        return token.sub
    return f"{token.session}@{token.sub}"


def loa_of_token(token: SessionToken | None) -> int:
    """The level of assurance a token alone gives (binder LOA mapped to BuckyOS).

    0 = no token; 1 = a valid token; 2 = a user's interactive login (issued by verify-hub
    for a ``principal_kind`` of ``user``); 3 = a sudo token.
    """
    if token is None:
        return 0
    if token.sudo:
        return 3
    if token.iss == VERIFY_HUB_KID and token.principal_kind == "user":
        return 2
    return 1


class _Slot:
    """One api's state inside one session."""

    __slots__ = ("has_value", "loa", "release", "value")

    def __init__(self) -> None:
        self.has_value = False
        self.value: Any = None
        self.release: ReleaseHook | None = None
        self.loa = 0

    def take(self) -> tuple[Any, ReleaseHook] | None:
        """Empty the context; what to release (value, hook), if anything."""
        out = (self.value, self.release) if self.has_value and self.release else None
        self.has_value = False
        self.value = None
        self.release = None
        return out

    def empty(self) -> bool:
        return not self.has_value and self.loa == 0


_Pending = list[tuple[Any, ReleaseHook]]


def _run_releases(pending: _Pending) -> None:
    for value, hook in pending:
        try:
            hook(value)
        except Exception:
            _log.exception("session context release hook %r raised", hook)


class SessionStore:
    """Per-session, per-api context and LOA; bounded LRU, thread-safe.

    ``session`` is a key from :func:`session_key_of`; ``api`` the api name.  Reading a
    session that does not exist never creates it.
    """

    def __init__(self, max_sessions: int = DEFAULT_MAX_SESSIONS) -> None:
        if max_sessions < 1:
            raise ValueError("max_sessions must be >= 1")
        self.max_sessions = max_sessions
        self._lock = threading.Lock()
        self._sessions: OrderedDict[str, dict[str, _Slot]] = OrderedDict()

    # -- internals (call with the lock held)

    def _find(self, session: str, api: str) -> _Slot | None:
        apis = self._sessions.get(session)
        if apis is None:
            return None
        self._sessions.move_to_end(session)
        return apis.get(api)

    def _slot(self, session: str, api: str, pending: _Pending) -> _Slot:
        apis = self._sessions.get(session)
        if apis is None:
            apis = self._sessions[session] = {}
            while len(self._sessions) > self.max_sessions:
                _, evicted = self._sessions.popitem(last=False)
                pending.extend(self._drain(evicted.values()))
        else:
            self._sessions.move_to_end(session)
        slot = apis.get(api)
        if slot is None:
            slot = apis[api] = _Slot()
        return slot

    @staticmethod
    def _drain(slots: Iterable[_Slot]) -> _Pending:
        return [item for slot in slots if (item := slot.take()) is not None]

    def _prune(self, session: str, api: str) -> None:
        apis = self._sessions.get(session)
        if apis is None:
            return
        slot = apis.get(api)
        if slot is not None and slot.empty():
            del apis[api]
        if not apis:
            del self._sessions[session]

    # -- context

    def context_get(self, session: str, api: str, default: Any = None) -> Any:
        """The api's context value in ``session``, or ``default`` when none is set."""
        with self._lock:
            slot = self._find(session, api)
            if slot is None or not slot.has_value:
                return default
            return slot.value

    def context_set(
        self, session: str, api: str, value: Any, release: ReleaseHook | None = None
    ) -> None:
        """Set the api's context; the value it replaces (if another object) is released."""
        pending: _Pending = []
        with self._lock:
            slot = self._slot(session, api, pending)
            if slot.has_value and slot.value is not value and slot.release is not None:
                pending.append((slot.value, slot.release))
            slot.has_value = True
            slot.value = value
            slot.release = release
        _run_releases(pending)

    def context_clear(self, session: str, api: str) -> bool:
        """Drop the api's context (releasing it); whether there was one."""
        with self._lock:
            slot = self._find(session, api)
            if slot is None or not slot.has_value:
                return False
            pending = self._drain((slot,))
            self._prune(session, api)
        _run_releases(pending)
        return True

    # -- level of assurance

    def get_loa(self, session: str, api: str) -> int:
        """The LOA raised for the api in ``session`` (0 when never set)."""
        if session not in self._sessions:  # the common case, without the lock
            return 0
        with self._lock:
            slot = self._find(session, api)
            return 0 if slot is None else slot.loa

    def set_loa(self, session: str, api: str, level: int) -> None:
        """Set the api's LOA in ``session`` (0..3) for its later calls."""
        if isinstance(level, bool) or not isinstance(level, int) or not 0 <= level <= MAX_LOA:
            raise ValueError(f"LOA must be an integer from 0 to {MAX_LOA}, got {level!r}")
        pending: _Pending = []
        with self._lock:
            self._slot(session, api, pending).loa = level
            if level == 0:
                self._prune(session, api)
        _run_releases(pending)

    # -- closing

    def close(self, session: str, api: str) -> None:
        """Binder CLOSE: drop the api's context (released) and LOA in ``session``."""
        with self._lock:
            apis = self._sessions.get(session)
            slot = None if apis is None else apis.pop(api, None)
            if apis is not None and not apis:
                del self._sessions[session]
            pending = [] if slot is None else self._drain((slot,))
        _run_releases(pending)

    def close_session(self, session: str) -> None:
        """Drop every api's context and LOA in ``session`` (e.g. on logout)."""
        with self._lock:
            apis = self._sessions.pop(session, None)
            pending = [] if apis is None else self._drain(apis.values())
        _run_releases(pending)

    def clear(self) -> None:
        """Drop every session, releasing every context (on shutdown)."""
        with self._lock:
            every = list(self._sessions.values())
            self._sessions.clear()
            pending = [item for apis in every for item in self._drain(apis.values())]
        _run_releases(pending)

    # -- introspection

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)

    def __contains__(self, session: object) -> bool:
        with self._lock:
            return session in self._sessions
