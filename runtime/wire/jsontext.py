"""JSON text for the wire: compact UTF-8 bytes out, values in, fast on the hot path.

kRPC bodies are JSON on both sides of every call, so their encoding shows in every
benchmark: orjson encodes a small response ~10x faster than the stdlib's C encoder and
parses ~2x faster.  The stdlib stays the fallback for what orjson refuses (integers
beyond 64 bits, lone surrogates from a ``\\ud800`` escape: written ``\\ud800`` again, as
ASCII) and the source of parse error messages, so answers never depend on which one ran.
The output is serde_json's shape: no spaces, raw UTF-8, ``NaN``/infinities as ``null``;
parsing, like serde_json's, reads an integer beyond 64 bits as a float.

``loads_strict`` and ``dumps_text`` are the stdlib-only, text-level pair for what must
refuse rather than repair: ``NaN``/``Infinity`` are errors both ways (serde_json refuses
them), and parse errors carry the stdlib's exact messages (the wire's 400 texts).
"""

from __future__ import annotations

import json
import json.scanner
import math
from collections.abc import Callable, Mapping
from typing import Any, Final

import orjson

__all__ = [
    "dumps",
    "dumps_text",
    "fast_loads",
    "json_object",
    "json_type_name",
    "loads",
    "loads_strict",
]


def _stdlib_encoder(ascii_only: bool) -> Callable[[Any], str]:
    """The stdlib's C encoder built once (``JSONEncoder.encode`` builds it per call)."""
    escape = json.encoder.encode_basestring_ascii if ascii_only else json.encoder.encode_basestring
    fallback = json.JSONEncoder(separators=(",", ":"), ensure_ascii=ascii_only)
    make_encoder: Any = getattr(json.encoder, "c_make_encoder", None)
    if make_encoder is None:  # pragma: no cover - CPython always has _json
        return fallback.encode
    iterencode = make_encoder(None, fallback.default, escape, None, ":", ",", False, False, True)

    def encode(value: Any) -> str:
        return "".join(iterencode(value, 0))

    return encode


_ascii: Final = _stdlib_encoder(True)


def _finite(value: Any) -> Any:
    """``value`` with non-finite floats as ``None`` (serde writes them as null)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def dumps(value: Any) -> bytes:
    """Compact JSON bytes of ``value`` (dicts with string keys, lists, scalars)."""
    try:
        return orjson.dumps(value)
    except (orjson.JSONEncodeError, TypeError):
        # Lone surrogates cannot be UTF-8 and big integers are beyond orjson: the
        # stdlib writes both (surrogates escaped, hence ASCII).
        return _ascii(_finite(value)).encode("ascii")


_stdlib_loads: Final = json.JSONDecoder().decode

fast_loads: Final[Callable[[bytes | str], Any]] = orjson.loads
"""Strict RFC 8259 parsing; ``ValueError`` (``orjson.JSONDecodeError``) for anything else,
so a caller with its own error wording can retry with the stdlib for the message."""


def loads(data: bytes | str) -> Any:
    """The value of JSON text; ``ValueError`` with the stdlib's message when malformed."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        return _stdlib_loads(text)  # raises with the message callers expect


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


_strict: Final = json.JSONDecoder(parse_constant=_reject_constant)
# json.scanner.make_scanner is the C scanner when available; typeshed types it oddly.
_scan_once: Final[Callable[[str, int], tuple[Any, int]]] = json.scanner.make_scanner(_strict)  # type: ignore[arg-type]


def loads_strict(text: str) -> Any:
    """The value of JSON ``text``; ``NaN``/``Infinity`` refused.  ``ValueError`` with the
    stdlib's message when malformed (``RecursionError`` when nested too deeply).

    The scanner is what ``JSONDecoder.decode`` runs after skipping whitespace; anything
    unusual (leading whitespace, an error) takes the full decoder for its exact message.
    """
    try:
        value, end = _scan_once(text, 0)
    except StopIteration:
        return _strict.decode(text)
    if end != len(text) and text[end:].strip(" \t\n\r"):
        return _strict.decode(text)
    return value


_text: Final = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode
_text_ascii: Final = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode


def dumps_text(value: Any) -> str:
    """Compact JSON text that is always valid UTF-8 (serde_json's shape).

    Raises ``TypeError`` for a value JSON cannot hold and ``ValueError`` for NaN or
    infinities (upstream's serde_json refuses them too).
    """
    text = _text(value)
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: only the escaped form is valid UTF-8
        return _text_ascii(value)
    return text


def json_type_name(value: Any, *, article: bool = False) -> str:
    """The JSON kind of a parsed value for error texts: ``string``, or with ``article``
    ``a string`` (``null`` either way)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        name = "boolean"
    elif isinstance(value, int | float):
        name = "number"
    elif isinstance(value, str):
        name = "string"
    elif isinstance(value, list):
        name = "array"
    elif isinstance(value, dict):
        name = "object"
    else:
        return type(value).__name__
    if not article:
        return name
    return f"an {name}" if name[0] in "aeiou" else f"a {name}"


def json_object(
    doc: str | Mapping[str, Any],
    what: str,
    error: Callable[[str], Exception] = ValueError,
    *,
    fix: str = "",
) -> dict[str, Any]:
    """The JSON object ``doc`` holds (text), or ``doc`` itself (already parsed).

    Anything else raises ``error(text)``, the text naming ``what`` and how it was wrong
    (``<what> is not valid JSON: <why>``, ``<what> must be a JSON object, got an array``),
    then ``; <fix>`` when a fix is given: every reader of a JSON object from a file, a
    variable or a stored key says it the same way, in its own error class.
    """
    tail = f"; {fix}" if fix else ""
    value: object = doc
    if isinstance(doc, str):
        try:
            value = json.loads(doc)
        except ValueError as err:
            raise error(f"{what} is not valid JSON: {err}{tail}") from None
    if not isinstance(value, Mapping):
        raise error(
            f"{what} must be a JSON object, got {json_type_name(value, article=True)}{tail}"
        )
    return dict(value)
