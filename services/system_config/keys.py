"""Config keys: how a key given by a caller becomes the key stored, and what is refused.

Upstream (``sys_config_service/src/main.rs`` ``strip_config_key_prefix`` and
``buckyos_kit::normalize_path``) strips ``obj://config/``, then ``/config/``, then leading
slashes, and resolves ``.``/``..`` the way a file path is.  We also strip the classic
``kv://`` prefix, and refuse, with a ``Failed due to reason:`` text naming the key and the
rule, what upstream lets through:

- control characters (below 0x20, and 0x7f): the RBAC matcher's ``$`` would let
  ``obj://config/x\\n`` match rules it should not, and log lines could be forged;
- ``..`` that climbs above the root (upstream keeps a literal ``..`` segment);
- text that is not valid UTF-8 (a lone surrogate from ``\\ud800`` in JSON);
- a key that names the root itself, except for ``sys_config_list`` (which lists it).

``__meta`` and everything under ``__meta/`` are reserved for the store (upstream keeps
revisions there); the check runs on the normalised key so ``a/../__meta/x`` is caught too.
"""

from __future__ import annotations

import re
from typing import Final

from buckyos.runtime import ReasonError

__all__ = [
    "CONFIG_RESOURCE_PREFIX",
    "META_PREFIX",
    "PLAIN_NAME_RULE",
    "SCHEDULER_DUMP_PREFIXES",
    "USERS_PREFIX",
    "check_user_name",
    "device_of_doc_key",
    "is_meta_key",
    "is_plain_name",
    "normalize_key",
    "printable_key",
    "reloads_security",
    "resource_of",
    "user_account_of",
]

CONFIG_RESOURCE_PREFIX: Final = "obj://config/"
"""RBAC resources of config keys are ``obj://config/<normalized key>``."""

META_PREFIX: Final = "__meta/"
"""Keys under this prefix are the store's own; callers may not name them."""

SCHEDULER_DUMP_PREFIXES: Final = ("boot/", "devices/", "users/", "services/", "system/", "nodes/")
"""What ``dump_configs_for_scheduler`` returns, upstream's list."""

USERS_PREFIX: Final = "users/"
"""Each user's subtree is ``users/<name>/``: the unit of quotas."""

PLAIN_NAME_RULE: Final = (
    "letters, digits, '_', '-' and '.', not starting with '.', at most 64 characters"
)
"""What a user name in a key may be, in words (the texts of refusals quote it)."""

# ASCII only: a name is a key segment, a casbin subject and a login name at verify-hub;
# look-alike letters or invisible characters would make two names that read the same.
_PLAIN_NAME: Final = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}\Z")

_CLASSIC_PREFIX: Final = "kv://"
_CONFIG_PATH_PREFIX: Final = "/config/"
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")
_META_NAME: Final = "__meta"


_SHOWN: Final = 256
"""How much of a key an error text quotes: a 1 MiB key must not come back as 4 MiB."""


def printable_key(raw: str) -> str:
    """``raw`` quoted, with control characters and lone surrogates escaped (safe to log);
    a key longer than 256 characters is cut, saying how long it was."""
    more = ""
    if len(raw) > _SHOWN:
        raw, more = raw[:_SHOWN], f"... ({len(raw)} characters)"
    escaped = _CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}", raw)
    escaped = escaped.encode("utf-8", "backslashreplace").decode("utf-8")
    return f'"{escaped}"{more}'


def _invalid(raw: str, rule: str) -> ReasonError:
    return ReasonError(f"invalid key {printable_key(raw)}: {rule}")


def _strip_prefixes(raw: str) -> str:
    key = raw
    # trim_start_matches upstream: the prefix is stripped as many times as it repeats.
    while key.startswith(CONFIG_RESOURCE_PREFIX):
        key = key[len(CONFIG_RESOURCE_PREFIX) :]
    while key.startswith(_CLASSIC_PREFIX):
        key = key[len(_CLASSIC_PREFIX) :]
    if key.startswith(_CONFIG_PATH_PREFIX):
        key = key[len(_CONFIG_PATH_PREFIX) :]
    return key.replace("\\", "/").lstrip("/")


def normalize_key(raw: str, *, allow_root: bool = False) -> str:
    """The stored form of a caller's key, or ``ReasonError`` naming the key and the rule.

    ``allow_root`` lets the key resolve to ``""`` (the root, for ``sys_config_list``).
    """
    found = _CONTROL.search(raw)
    if found is not None:
        where = found.start()
        raise _invalid(
            raw,
            f"control character \\x{ord(found.group(0)):02x} at position {where} "
            "is not allowed in a key",
        )
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError:
        raise _invalid(raw, "a key must be valid UTF-8 text (it holds a lone surrogate)") from None
    parts: list[str] = []
    for segment in _strip_prefixes(raw).split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if not parts:
                raise _invalid(raw, "'..' climbs above the root of the config tree")
            parts.pop()
            continue
        parts.append(segment)
    key = "/".join(parts)
    if not key and not allow_root:
        raise _invalid(
            raw, "it names the root, not an entry (a key looks like users/alice/settings)"
        )
    return key


def is_meta_key(key: str) -> bool:
    """Whether a normalised key is the store's reserved ``__meta`` or below it."""
    return key == _META_NAME or key.startswith(META_PREFIX)


def resource_of(key: str) -> str:
    """The RBAC resource of a normalised key."""
    return CONFIG_RESOURCE_PREFIX + key


def reloads_security(key: str) -> bool:
    """Whether writing ``key`` changes trust keys or the RBAC policy.

    Upstream reloads on ``boot/config`` and ``system/rbac/*``; device documents
    (``devices/<name>/doc``) carry trusted device keys too, so they reload as well.
    """
    return (
        key == "boot/config" or key.startswith("system/rbac/") or device_of_doc_key(key) is not None
    )


def device_of_doc_key(key: str) -> str | None:
    """The device name of ``devices/<name>/doc``, else ``None``."""
    parts = key.split("/")
    if len(parts) == 3 and parts[0] == "devices" and parts[2] == "doc" and parts[1]:
        return parts[1]
    return None


def is_plain_name(name: str) -> bool:
    """Whether ``name`` is a plain name (:data:`PLAIN_NAME_RULE`)."""
    return _PLAIN_NAME.match(name) is not None


def _user_segment(key: str) -> str | None:
    if not key.startswith(USERS_PREFIX):
        return None
    name = key[len(USERS_PREFIX) :].split("/", 1)[0]
    return name or None


def check_user_name(key: str) -> None:
    """Refuse (``ReasonError``) a write under ``users/<name>/`` whose name is not plain.

    A user's name is a key segment, an RBAC subject and a login name: one that is not
    plain (a space, a ``:``, a leading dot, look-alike letters...) is refused where the
    user's keys would be created, whoever writes them.  Deletes are not checked, so old
    keys under such a name can still be cleaned up.
    """
    name = _user_segment(key)
    if name is not None and not is_plain_name(name):
        rule = f"user name {printable_key(name)} is not a plain name ({PLAIN_NAME_RULE})"
        raise _invalid(key, rule)


def user_account_of(key: str) -> str | None:
    """The quota account of a key under ``users/<name>/`` (``"users/<name>/"``), else None."""
    name = _user_segment(key)
    return None if name is None else f"{USERS_PREFIX}{name}/"
