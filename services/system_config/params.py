"""Upstream's texts for kRPC params that are missing or of the wrong shape.

The runtime's JSON mapping would answer a missing ``key`` with
``Parse Request Error: Missing key``; upstream's system_config answers
``Failed due to reason: Missing key``, and only after it checked the token.  So for this
api the kRPC params are checked here (after the token, see :mod:`.app`) and decoded only
then.  A field of the wrong JSON type keeps the mapping's text
(``Parse Request Error: field `key`: expected string, got number``), which names the field;
upstream panics on most of those.

Over gRPC and in-process there is no JSON: an empty ``key`` (or ``json_path``, or an empty
``action``) counts as missing and the verbs give the same texts.
"""

from __future__ import annotations

from typing import Any, Final

from buckyos.runtime import ParseRequestError, ReasonError

from .keys import normalize_key

__all__ = ["check_params"]

_REQUIRED: Final[dict[str, tuple[str, ...]]] = {
    "sys_config_get": ("key",),
    "sys_config_set": ("key", "value"),
    "sys_config_create": ("key", "value"),
    "sys_config_delete": ("key",),
    "sys_config_append": ("key", "append_value"),
    "sys_config_set_by_json_path": ("key", "value", "json_path"),
    "sys_config_list": ("key",),
    "sys_config_watch": ("key",),
    "sys_config_unwatch": ("event",),
}


def _missing(params: dict[str, Any], name: str) -> bool:
    return params.get(name) is None  # serde: absent and null are both "not there"


def _tx_key(raw: str) -> str:
    try:
        return normalize_key(raw)
    except ReasonError:
        return raw  # the verb refuses the key itself, with its own text, later


def _check_tx(params: dict[str, Any]) -> None:
    actions = params.get("actions")
    if actions is None:
        raise ReasonError("Missing actions")
    if not isinstance(actions, dict):
        raise ReasonError("Actions must be an object")
    for raw, action in actions.items():
        kind = action.get("action") if isinstance(action, dict) else None
        if kind is None:
            raise ReasonError(f"Missing action type for key: {_tx_key(raw)}")
        if not isinstance(kind, str):
            raise ReasonError("Action type must be string")
    main_key = params.get("main_key")
    if main_key is None:
        return
    if not isinstance(main_key, dict):
        raise ParseRequestError("main_key must be an object")
    key = main_key.get("key")
    if not isinstance(key, str) or not key:
        raise ParseRequestError("main_key.key is required")
    revision = main_key.get("revision")
    if isinstance(revision, bool) or not isinstance(revision, int) or not 0 <= revision < 2**64:
        raise ParseRequestError("main_key.revision must be a u64")


def check_params(krpc: str, params: Any) -> None:
    """Raise upstream's error for missing or mis-shaped ``params`` of verb ``krpc``.

    Params that are not a JSON object are left to the JSON mapping (it names the problem).
    """
    if not isinstance(params, dict):
        return
    if krpc == "sys_config_exec_tx":
        _check_tx(params)
        return
    for name in _REQUIRED.get(krpc, ()):
        if _missing(params, name):
            raise ReasonError(f"Missing {name}")
