"""system_config's own revocation list, fed from its store at once.

Every service refuses the session tokens of revoked sessions and of users who are not
active (:mod:`buckyos.runtime.security.revocation`).  Other services poll the list verify-hub
publishes; system_config holds the store, so it applies a write of that list, or of a
user's settings, the moment it commits it, and reads both at start.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Final

from buckyos.runtime import ConfigError
from buckyos.runtime.security import REVOCATIONS_KEY, RevocationSet

from .store import Store, StoreError

__all__ = ["StoreRevocations"]

_log: Final = logging.getLogger("buckyos.services.system_config.revoked")


def _user_of_settings(key: str) -> str | None:
    parts = key.split("/")
    if len(parts) == 3 and parts[0] == "users" and parts[2] == "settings" and parts[1]:
        return parts[1]
    return None


def _state(value: str | None) -> str | None:
    """A user's state from its settings.  No settings, or unreadable ones, give no
    opinion: verify-hub logs nobody in without readable settings and refuses to refresh
    their sessions, so their session tokens die within their 15 minutes; a state is what
    an admin sets to end them now."""
    if value is None:
        return None
    try:
        state = json.loads(value).get("state")
    except (ValueError, AttributeError):
        return None
    return state if isinstance(state, str) else None


class StoreRevocations:
    """Keeps ``revocations`` in step with ``store``: :meth:`load` at start,
    :meth:`written` after each committed write."""

    def __init__(self, store: Store, revocations: RevocationSet | None = None) -> None:
        self.store = store
        self.revocations = revocations if revocations is not None else RevocationSet()

    def load(self) -> None:
        """Read the published list and every user's state."""
        self._load_list()
        try:
            names = self.store.list("users")
        except StoreError as err:
            _log.error("cannot read users for revocations: %s", err)
            return
        for name in names:
            self._load_user(name)

    def written(self, keys: Iterable[str]) -> None:
        """Apply the keys a write just changed."""
        for key in keys:
            if key == REVOCATIONS_KEY:
                self._load_list()
            else:
                user = _user_of_settings(key)
                if user is not None:
                    self._load_user(user)

    def _load_list(self) -> None:
        try:
            entry = self.store.get(REVOCATIONS_KEY)
            self.revocations.load_json(None if entry is None else entry.value)
        except (StoreError, ConfigError) as err:
            # keep the last list: a bad write must not un-revoke anything
            _log.error("%s not applied: %s", REVOCATIONS_KEY, err)

    def _load_user(self, user: str) -> None:
        try:
            entry = self.store.get(f"users/{user}/settings")
        except StoreError as err:
            _log.error("cannot read users/%s/settings for revocations: %s", user, err)
            return
        self.revocations.set_user_state(user, _state(None if entry is None else entry.value))
