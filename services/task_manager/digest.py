"""A task's ``input_digest``: upstream's canonical bytes of the input, SHA-256, lowercase hex.

Pure (no I/O). Upstream: ``compute_task_input_digest`` in ``buckyos-api/src/task_mgr.rs``;
facts and test vectors in ``upstream-services.md`` 2.4.2.
"""

from __future__ import annotations

from typing import Any

__all__ = ["canonical_bytes", "input_digest", "json_value"]


def json_value(value: Any) -> Any:
    """``value`` as plain JSON (dict, list, str, int, float, bool, None).

    A protobuf ``Value``/``Struct``/``ListValue`` (a request's ``input``) is converted as
    the wire codec does (an integral double up to 2**53 becomes an int); anything else is
    returned as is.
    """
    raise NotImplementedError


def canonical_bytes(value: Any) -> bytes:
    """Upstream's canonical byte string of a JSON value (what :func:`input_digest` hashes)."""
    raise NotImplementedError


def input_digest(value: Any) -> str:
    """Lowercase hex SHA-256 of :func:`canonical_bytes` of ``value`` (plain JSON or a
    protobuf ``Value``). Raises ``ValueError`` for what JSON cannot hold (NaN, infinity,
    non-string keys)."""
    raise NotImplementedError
