"""Revocation that reaches every service, not only verify-hub.

A session token is a signed promise good until its ``exp`` (15 minutes for a user
session): a service that only checks signatures keeps accepting it after ``logout``, after
verify-hub caught a refresh token being replayed, or after the admin suspended the user.
Upstream has no answer for that; ours is a small shared list:

- verify-hub publishes the sessions it revoked, and the users whose state is no longer
  ``active``, as one JSON value in system_config under :data:`REVOCATIONS_KEY`::

      {"sessions": {"<session key>": <listed until, unix s>, ...},
       "users": {"<user id>": "<state>", ...},
       "updated_at": <unix s>}

  A session key is verify-hub's own (``<sub>_<app_instance_id or appid>_<session id>``,
  :func:`session_key_of`); a session stays listed until its last session token expired
  (the issue time plus the token life and leeway), so the list stays small.
- every service holds a :class:`RevocationSet` and consults it for each verified token
  issued by verify-hub (``Authorizer``, system_config).  system_config feeds its set
  straight from its own store (a write of the key, or of a user's settings, takes effect
  at once); other services poll the key (:class:`RevocationPoller`, every 2 s by default),
  so a revocation reaches them within the poll interval plus verify-hub's own delay.

Only verify-hub-issued tokens are judged: owner- and device-signed tokens have no session
at verify-hub to revoke.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final

from buckyos.runtime.errors import ConfigError, InvalidTokenError
from buckyos.runtime.security.session_token import SessionToken
from buckyos.runtime.security.trust_keys import KeyKind

__all__ = [
    "POLL_INTERVAL",
    "REVOCATIONS_KEY",
    "REVOKED_SESSION",
    "RevocationPoller",
    "RevocationSet",
    "Revocations",
    "session_key_of",
    "verify_hub_session_key",
]

REVOCATIONS_KEY: Final = "system/verify-hub/revoked"
"""The system_config key verify-hub publishes its revocations under."""

REVOKED_SESSION: Final = (
    "session revoked (logged out, or an old refresh token was replayed): log in again"
)
"""The detail of ``Invalid token:`` for a revoked session (verify-hub's ``verify_token``
answers the same)."""

POLL_INTERVAL: Final = 2.0
"""Seconds between two reads of :data:`REVOCATIONS_KEY` by a :class:`RevocationPoller`."""

_EMPTY: Final[Mapping[str, Any]] = MappingProxyType({})
_log: Final = logging.getLogger(__name__)


def verify_hub_session_key(sub: str, scope: str, session_id: str) -> str:
    """verify-hub's session key: ``<user>_<app_instance_id or appid>_<session id>``."""
    return f"{sub}_{scope}_{session_id}"


def _session_id(value: int | str | None) -> str | None:
    if isinstance(value, int):
        return str(value) if value >= 0 else None
    if isinstance(value, str) and value.isdigit():
        return str(int(value))  # "007" and 7 name the same session
    return None


def session_key_of(token: SessionToken) -> str | None:
    """The verify-hub session a token belongs to; ``None`` when it names none."""
    if token.appid is None:
        return None
    session_id = _session_id(token.session)
    if session_id is None:
        return None
    scope = token.app_instance_id if token.app_instance_id is not None else token.appid
    return verify_hub_session_key(token.sub, scope, session_id)


def _str_map(value: object, what: str) -> dict[str, Any]:
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise ConfigError(f"{REVOCATIONS_KEY}: {what} must be a JSON object")
    return value


@dataclass(frozen=True, slots=True)
class Revocations:
    """One published list: revoked sessions (key -> listed until) and users not active
    (user id -> state)."""

    sessions: Mapping[str, int] = field(default_factory=dict)
    users: Mapping[str, str] = field(default_factory=dict)
    updated_at: int = 0

    @classmethod
    def from_json(cls, text: str) -> Revocations:
        """Parse the published value; a malformed one is a ``ConfigError`` naming the part."""
        try:
            data = json.loads(text)
        except ValueError as err:
            raise ConfigError(f"{REVOCATIONS_KEY} is not valid JSON: {err}") from None
        data = _str_map(data, "the value")
        sessions = _str_map(data.get("sessions", {}), "sessions")
        users = _str_map(data.get("users", {}), "users")
        for key, until in sessions.items():
            if isinstance(until, bool) or not isinstance(until, int):
                raise ConfigError(
                    f"{REVOCATIONS_KEY}: sessions[{key!r}] must be a unix time (integer)"
                )
        for user, state in users.items():
            if not isinstance(state, str):
                raise ConfigError(f"{REVOCATIONS_KEY}: users[{user!r}] must be a state string")
        updated = data.get("updated_at", 0)
        if isinstance(updated, bool) or not isinstance(updated, int):
            raise ConfigError(f"{REVOCATIONS_KEY}: updated_at must be a unix time (integer)")
        return cls(sessions=dict(sessions), users=dict(users), updated_at=updated)

    def to_json(self) -> str:
        return json.dumps(
            {
                "sessions": dict(sorted(self.sessions.items())),
                "users": dict(sorted(self.users.items())),
                "updated_at": self.updated_at,
            },
            separators=(",", ":"),
        )

    def pruned(self, now: float) -> Revocations:
        """Without the sessions whose tokens have all expired by ``now``."""
        sessions = {k: until for k, until in self.sessions.items() if until >= now}
        return Revocations(sessions, dict(self.users), math.floor(now))


class RevocationSet:
    """What a service consults for every verified token; thread-safe, O(1) per check.

    Two sources, kept apart so neither erases the other: the published list
    (:meth:`replace`, :meth:`load_json`) and what the service knows first-hand about a
    user's state (:meth:`set_user_state`, used by system_config, which holds the users'
    settings itself).
    """

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._sessions: Mapping[str, int] = _EMPTY
        self._feed_users: Mapping[str, str] = _EMPTY
        self._local_users: dict[str, str] = {}
        self._users: Mapping[str, str] = _EMPTY  # the union, rebuilt on change

    def replace(self, revocations: Revocations) -> None:
        """Install a published list (the previous one is dropped whole)."""
        with self._lock:
            self._sessions = MappingProxyType(dict(revocations.sessions))
            self._feed_users = MappingProxyType(dict(revocations.users))
            self._rebuild_users()

    def load_json(self, text: str | None) -> None:
        """Install the value of :data:`REVOCATIONS_KEY` (``None``: nothing published).

        A malformed value raises ``ConfigError`` and keeps the current list.
        """
        self.replace(Revocations() if text is None else Revocations.from_json(text))

    def set_user_state(self, user_id: str, state: str | None) -> None:
        """First-hand knowledge of a user's state; ``None`` or ``active`` clears it."""
        with self._lock:
            if state is None or state == "active":
                if self._local_users.pop(user_id, None) is None:
                    return
            else:
                self._local_users[user_id] = state
            self._rebuild_users()

    def _rebuild_users(self) -> None:
        merged = {**self._feed_users, **self._local_users}
        self._users = MappingProxyType(merged) if merged else _EMPTY

    def check(self, token: SessionToken) -> None:
        """Raise ``InvalidTokenError`` when ``token`` belongs to a revoked session or to a
        user who is not active; tokens not issued by verify-hub pass."""
        sessions, users = self._sessions, self._users
        if not sessions and not users:
            return
        # By the key that verified it; by its claim only for a token nobody verified.
        signer = token.signer
        if signer is not KeyKind.VERIFY_HUB and (
            signer is not None or not token.issued_by_verify_hub
        ):
            return
        state = users.get(token.sub)
        if state is not None and token.principal_kind in (None, "user"):
            raise InvalidTokenError(
                f"user '{token.sub}' is {state.split(':', 1)[0]}: the sessions of a user "
                "who is not active no longer work; ask the zone admin"
            )
        if sessions:
            key = session_key_of(token)
            if key is not None:
                until = sessions.get(key)
                if until is not None and until >= self._clock():
                    raise InvalidTokenError(REVOKED_SESSION)


class RevocationPoller:
    """Keeps a :class:`RevocationSet` in step with the published list, for a service that
    does not hold system_config's store itself.

    ``fetch`` returns the current value of :data:`REVOCATIONS_KEY` (``None`` when unset),
    e.g. ``AsyncSystemConfigStub(invoker).Get(key=REVOCATIONS_KEY)`` with a kernel
    identity.  A failed or malformed read keeps the last list (and is logged once per
    failure streak): a service never drops revocations because system_config blinked.
    """

    def __init__(
        self,
        revocations: RevocationSet,
        fetch: Callable[[], Awaitable[str | None]],
        *,
        interval: float = POLL_INTERVAL,
    ) -> None:
        if interval <= 0:
            raise ValueError("interval must be > 0")
        self.revocations = revocations
        self._fetch = fetch
        self._interval = interval
        self._task: asyncio.Task[None] | None = None
        self._failing = False

    async def poll_once(self) -> bool:
        """One read; whether the set was updated."""
        try:
            text = await self._fetch()
            self.revocations.load_json(text)
        except Exception as err:  # any failure keeps the last list; the loop goes on
            if not self._failing:
                _log.warning("cannot read %s (keeping the last list): %s", REVOCATIONS_KEY, err)
            self._failing = True
            return False
        if self._failing:
            _log.info("%s read again", REVOCATIONS_KEY)
        self._failing = False
        return True

    async def _run(self) -> None:
        while True:
            await self.poll_once()
            await asyncio.sleep(self._interval)

    def start(self) -> None:
        """Poll in the running loop until :meth:`stop`."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name="revocation-poller"
            )

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
