"""A task's ``input_digest``: upstream's canonical bytes of the input, SHA-256, lowercase hex.

Pure (no I/O). Upstream: ``compute_task_input_digest`` in ``buckyos-api/src/task_mgr.rs``;
facts and test vectors in ``upstream-services.md`` 2.4.2.

The canonical bytes are not RFC 8785 nor ``json.dumps(sort_keys=True)``: an object is
``{`` + ``key:value,`` per member (keys sorted byte-wise, written raw: unquoted,
unescaped) + ``}``; an array ``[`` + ``item,`` per item + ``]``; a scalar is serde_json's
compact text: ``null``, ``true``, strings quoted with only ``"``, ``\\`` and control
characters escaped (non-ASCII raw), integers in decimal, floats as serde_json (ryu)
writes them: ``1.0``, ``100.0``, ``1e16``, ``1e-7``, ``0.0001`` (Python's ``repr`` says
``1e+16``, ``1e-07``).

serde_json reads an integer literal beyond the i64/u64 range as a float, so such an int
is hashed as that float (``2**64`` -> ``1.8446744073709552e19``). What cannot be told
apart after a protobuf ``Value`` (``1`` and ``1.0``, ``-0`` and ``-0.0``) is hashed as
the wire codec decodes it: an integral double up to 2**53 as an integer.
"""

from __future__ import annotations

import hashlib
import json
import math
from decimal import Decimal
from typing import Any

from google.protobuf import struct_pb2

__all__ = ["canonical_bytes", "input_digest", "json_value"]

_I64_MIN = -(2**63)
_U64_MAX = 2**64 - 1


def json_value(value: Any) -> Any:
    """``value`` as plain JSON (dict, list, str, int, float, bool, None).

    A protobuf ``Value``/``Struct``/``ListValue`` (a request's ``input``) is converted as
    the wire codec does (an integral double up to 2**53 becomes an int); anything else is
    returned as is.
    """
    if isinstance(value, struct_pb2.Value):
        kind = value.WhichOneof("kind")
        if kind == "string_value":
            return value.string_value
        if kind == "number_value":
            number = value.number_value
            if number.is_integer() and abs(number) <= 2**53:
                return int(number)
            return number
        if kind == "bool_value":
            return value.bool_value
        if kind == "struct_value":
            return json_value(value.struct_value)
        if kind == "list_value":
            return json_value(value.list_value)
        return None
    if isinstance(value, struct_pb2.Struct):
        return {key: json_value(item) for key, item in value.fields.items()}
    if isinstance(value, struct_pb2.ListValue):
        return [json_value(item) for item in value.values]
    return value


def _float_text(number: float) -> str:
    """``number`` as serde_json writes an f64 (ryu's ``format64``)."""
    if not math.isfinite(number):
        raise ValueError(f"JSON has no {number!r}: the input must be finite numbers only")
    if number == 0.0:
        return "-0.0" if math.copysign(1.0, number) < 0 else "0.0"
    # repr() gives the shortest round-tripping digits, as ryu does; only the layout differs.
    _, digits_tuple, exponent = Decimal(repr(abs(number))).as_tuple()
    digits = "".join(map(str, digits_tuple)).rstrip("0")
    exponent = int(exponent) + (len(digits_tuple) - len(digits))
    length = len(digits)
    point = length + exponent  # 10^(point-1) <= |number| < 10^point
    head = "-" if number < 0 else ""
    if 0 <= exponent and point <= 16:
        return f"{head}{digits}{'0' * exponent}.0"  # 1234e7 -> 12340000000.0
    if 0 < point <= 16:
        return f"{head}{digits[:point]}.{digits[point:]}"  # 1234e-2 -> 12.34
    if -5 < point <= 0:
        return f"{head}0.{'0' * -point}{digits}"  # 1234e-6 -> 0.001234
    if length == 1:
        return f"{head}{digits}e{point - 1}"  # 1e30
    return f"{head}{digits[0]}.{digits[1:]}e{point - 1}"  # 1234e30 -> 1.234e33


def _scalar_text(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        if _I64_MIN <= value <= _U64_MAX:
            return str(value)
        return _float_text(float(value))
    if isinstance(value, float):
        return _float_text(value)
    if isinstance(value, str):
        # json.dumps escapes exactly what serde_json does: '"', '\\', \b \f \n \r \t and
        # the other controls as \u00XX (lowercase hex); DEL and non-ASCII stay raw.
        return json.dumps(value, ensure_ascii=False)
    raise ValueError(f"not a JSON value: {type(value).__name__}")


def _write(value: Any, out: list[str]) -> None:
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise ValueError(f"JSON object keys are strings, not {type(key).__name__}")
        out.append("{")
        # Python orders str by code point, which is UTF-8's byte order (Rust's String sort).
        for key in sorted(value):
            out.append(key)
            out.append(":")
            _write(value[key], out)
            out.append(",")
        out.append("}")
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for item in value:
            _write(item, out)
            out.append(",")
        out.append("]")
    else:
        out.append(_scalar_text(value))


def canonical_bytes(value: Any) -> bytes:
    """Upstream's canonical byte string of a JSON value (what :func:`input_digest` hashes)."""
    out: list[str] = []
    _write(json_value(value), out)
    return "".join(out).encode("utf-8")


def input_digest(value: Any) -> str:
    """Lowercase hex SHA-256 of :func:`canonical_bytes` of ``value`` (plain JSON or a
    protobuf ``Value``). Raises ``ValueError`` for what JSON cannot hold (NaN, infinity,
    non-string keys)."""
    return hashlib.sha256(canonical_bytes(value)).hexdigest()
