"""What a refusal means for this program: the hints the runtime adds to errors it receives.

A service answers with upstream's texts (``No permission:No read permission``), which say
neither whose call was refused nor why.  The runtime knows the rest, the key it asked for,
the user and app of its session, where its token came from, and adds it as the error's
hint (:meth:`~buckyos.runtime.errors.RPCError.with_hint`): ``str(error)`` gains a second
part, ``error.text`` (and so every wire) keeps upstream's text.

The causes named are those of upstream's default RBAC policy, which every zone starts from
(:data:`~buckyos.runtime.security.rbac.DEFAULT_RBAC_POLICY`): an app reaches its own
``users/<user>/apps/<app>/settings`` and ``info`` (``spec`` read-only), ``boot/`` and
``services/*/info``; a user reaches its own ``users/<user>/`` subtree; the whole tree
takes the zone owner's key.
"""

from __future__ import annotations

import datetime
import re
from typing import Final

__all__ = [
    "expired_message",
    "given_token",
    "permission_hint",
    "token_hint",
]

_SYSTEM_CONFIG: Final = "system_config"
_READS: Final = frozenset({"sys_config_get", "sys_config_list"})
_KEY_IN_TEXT: Final = re.compile(r"for key: (\S+)")
_OWN_APP_KEYS: Final = frozenset({"settings", "info", "spec"})
_OWNER_LOGIN: Final = (
    "the zone owner (`buckyos login --owner`; a program: a token signed with the owner's key)"
)
_ROLE_FIX: Final = (
    "a local zone gives an app the app role with `buckyos zone up --app APP` or "
    "`buckyos user add USER --app APP`, and a user a role with `buckyos user add USER`"
)


def given_token(source: str) -> tuple[str, str] | None:
    """For a session token the program was given (the environment, ``session_token=``):
    ``(where it is, what to do about it)``; ``None`` for one the runtime made itself."""
    if source.startswith("env "):
        var = source[4:]
        return f"the session token in ${var}", f"log in again or unset {var}"
    if source == "explicit":
        return "the session token passed as session_token=", "pass a fresh one"
    return None


def _duration(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    if seconds < 172800:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} days"


def expired_message(source: str, exp: int, now: float) -> str:
    """``the session token in $X expired at <UTC> (<n> ago); log in again or unset X``."""
    where, fix = given_token(source) or ("the session token", "log in again")
    stamp = datetime.datetime.fromtimestamp(exp, datetime.UTC)
    ago = _duration(max(0, int(now - exp)))
    return f"{where} expired at {stamp:%Y-%m-%d %H:%M:%S} UTC ({ago} ago); {fix}"


def token_hint(source: str, exp: int | None, now: float, expired: bool) -> str | None:
    """The hint of a refused token the program was given; ``None`` for its own tokens
    (the runtime renews those, and their refusal says enough)."""
    found = given_token(source)
    if found is None:
        return None
    where, fix = found
    if expired and exp is not None:
        return expired_message(source, exp, now)
    return f"{where} was refused (nothing fell back to another identity); {fix}"


def _parts(key: str) -> list[str]:
    return [part for part in key.split("/") if part not in ("", ".")]


def permission_hint(
    api: str, krpc: str, key: str | None, detail: str, user: str | None, app: str | None
) -> str:
    """What a ``No permission`` answer to ``api``/``krpc`` on ``key`` likely means for a
    session of ``user`` and ``app``."""
    who = f"user {user!r}, app {app!r}" if user else "a call without a session"
    if api != _SYSTEM_CONFIG:
        return f"refused for {who} by {api}'s RBAC policy"
    if key is None:
        found = _KEY_IN_TEXT.search(detail)
        key = found.group(1) if found else None
    action = "read" if krpc in _READS else "write"
    if key is None:
        return f"{action} refused for {who}"
    parts = _parts(key)
    head = f"{action} of {'/'.join(parts) or 'the root'} refused for {who}"
    if not user:
        return f"{head}: log in first"
    if not parts:
        return f"{head}: only {_OWNER_LOGIN} reads the whole tree"
    if parts[0] == "boot" or (parts[0] == "services" and parts[-1] == "info" and action == "read"):
        return (
            f"{head}: every user and app role may read it, so {user!r} or {app!r} has no "
            f"role in the zone's RBAC policy (system/rbac/policy): {_ROLE_FIX}"
        )
    if parts[0] == "users" and len(parts) > 1 and parts[1] != user:
        return f"{head}: a user's session reaches only its own subtree users/{user}/"
    own = f"users/{user}/apps/{app}/"
    if parts[0] == "users" and len(parts) > 3 and parts[2] == "apps" and parts[3] != app:
        return (
            f"{head}: a session for app {app!r} reaches only {own} (app {parts[3]!r}'s keys "
            "need a session for that app)"
        )
    if parts[0] == "users" and len(parts) == 5 and parts[2] == "apps":
        if parts[4] in _OWN_APP_KEYS:
            return (
                f"{head}: its own app key, so {app!r} (or {user!r}) has no role in the "
                f"zone's RBAC policy: {_ROLE_FIX}"
            )
    return (
        f"{head}: an app reaches only {own}settings and info (spec read-only), boot/ and "
        f"services/*/info, a user only users/{user}/ (check the key); other keys need an "
        f"app with a wider role (the CLI's buckycli) and an admin, or {_OWNER_LOGIN}"
    )
