"""Setting one path inside a JSON value, as upstream's ``buckyos_kit::set_json_by_path``.

A path is ``/a/b/c``: segments split on ``/``, except inside double quotes
(``/a/"b/c"`` has the segments ``a`` and ``b/c``); a backslash escapes ``"`` or ``\\``;
each segment is trimmed and empty segments are dropped, so ``""`` and ``/`` name the whole
value.  Missing intermediate objects are created.  Setting :data:`REMOVE` deletes the last
segment (an ``exec_tx`` ``all_set`` entry whose value is ``null``).

Upstream panics (and drops the connection) when an intermediate value is not an object and
silently does nothing when the parent of the last segment is not one; here both are a
:class:`JsonPathError` naming the path, and nothing is changed.
"""

from __future__ import annotations

import copy
import functools
from typing import Any, Final

from buckyos.runtime.wire import json_type_name

__all__ = ["REMOVE", "JsonPathError", "set_by_path", "split_path"]

_kind: Final = functools.partial(json_type_name, article=True)


class _Remove:
    __slots__ = ()

    def __repr__(self) -> str:
        return "REMOVE"


REMOVE: Final = _Remove()
"""The value that removes a path instead of setting it."""


class JsonPathError(ValueError):
    """A path that cannot be set in this value; the message says which part and why."""


def split_path(path: str) -> list[str]:
    """The segments of ``path`` (upstream ``split_json_path``)."""
    parts: list[str] = []
    current: list[str] = []
    in_quotes = False
    escaped = False
    for char in path:
        if char == "\\" and not escaped:
            escaped = True
            continue
        if char == '"' and not escaped:
            in_quotes = not in_quotes
            continue
        if char == "/" and not in_quotes and not escaped:
            if current:
                parts.append("".join(current).strip())
                current = []
            continue
        if escaped and char not in ('"', "\\"):
            current.append("\\")
        current.append(char)
        escaped = False
    if current:
        parts.append("".join(current).strip())
    return [part for part in parts if part]


def set_by_path(document: Any, path: str, value: Any) -> Any:
    """A copy of ``document`` with ``value`` at ``path`` (``REMOVE`` deletes it)."""
    parts = split_path(path)
    if not parts:
        return None if value is REMOVE else copy.deepcopy(value)
    result = copy.deepcopy(document)
    current = result
    walked = ""
    for part in parts[:-1]:
        if not isinstance(current, dict):
            raise JsonPathError(
                f"cannot set {path}: {walked or 'the value'} is {_kind(current)}, not an object"
            )
        walked += "/" + part
        current = current.setdefault(part, {})
    if not isinstance(current, dict):
        raise JsonPathError(
            f"cannot set {path}: {walked or 'the value'} is {_kind(current)}, not an object"
        )
    if value is REMOVE:
        current.pop(parts[-1], None)
    else:
        current[parts[-1]] = copy.deepcopy(value)
    return result


# loads_strict (imported above): JSON text to a value, refusing NaN and Infinity.
"""Compact JSON, UTF-8 kept as is (serde_json's ``to_vec`` form); a lone surrogate is
written escaped, the only form SQLite can store."""
