"""Messages to upstream's kRPC JSON and back.

Protobuf's canonical JSON is not upstream's: it writes 64-bit integers as strings, renames
fields to camelCase and drops default values.  Upstream (serde) writes numbers and
snake_case names and includes every field its struct has, leaving out only ``Option``
fields it skips.  So the mapping here is our own:

* a field's JSON key is its proto name, or its ``(buckyos.json).json`` option;
* a field without presence is always written, a field with presence (``optional``, a
  message) only when set, or as ``null`` with ``(buckyos.json).null_when_unset``; a list
  or map with ``(buckyos.json).omit_empty`` is left out when empty (a missing list or map
  always reads as empty);
* 64-bit integers are JSON numbers; ``google.protobuf.Struct``/``Value``/``ListValue``
  carry arbitrary JSON; bytes are standard base64;
* on input unknown keys are ignored and ``null`` means unset, as serde does; a missing
  field without presence, or a message field marked ``(buckyos.field).required`` (serde: a
  struct that is neither ``Option`` nor defaulted), is refused as ``Missing <key>`` (a
  required ``Value`` only when the key is missing: ``null`` is a JSON value), unless it is
  ``(buckyos.field).default`` (serde's ``#[serde(default)]``: it takes its default); a
  wrong type names the field.

A verb's ``JsonShape`` then wraps the object: bare ``null``, ``true``, the only field
unwrapped (or ``null`` when that field is unset), ``null`` for a message with nothing
set, or an ``{"ok": true, ...}`` envelope.  serde's other conventions (tagged enums,
flattened structs, enum names, bytes as arrays) are declared in the contract and compiled
by ``wire.serde``.  Codecs are compiled once per message class and cached; encode and
decode are plain dict work, no ``json_format``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any, TypeVar

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import DecodeError, Message

from buckyos.runtime.descriptor import JsonShape, MethodDescriptor
from buckyos.runtime.errors import (
    ContractError,
    NotOkError,
    ParseRequestError,
    ParseResponseError,
    RPCError,
)
from buckyos.runtime.wire import serde
from buckyos.runtime.wire.jsontext import json_type_name
from buckyos.runtime.wire.jsonwkt import WKT_JSON, message_class, wkt_decoder, wkt_to_json
from buckyos.runtime.wire.serde import JsonInvalidError as _InvalidError, expect as _expect

__all__ = [
    "MessageCodec",
    "codec_for",
    "decode_params",
    "decode_result",
    "encode_params",
    "encode_result",
    "envelope_of",
]

M = TypeVar("M", bound=Message)
Encoder = Callable[[Any], Any]
Decoder = Callable[[Any, str], Any]  # (json value, field path) -> python value for the message

_INT_RANGES = {
    FieldDescriptor.CPPTYPE_INT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.CPPTYPE_INT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.CPPTYPE_UINT32: (0, 2**32 - 1),
    FieldDescriptor.CPPTYPE_UINT64: (0, 2**64 - 1),
}


def _json_options(field: Any) -> tuple[str, bool]:
    ext = serde.field_json(field)
    if ext is not None:
        return (ext.json or field.name, ext.null_when_unset)
    return (field.name, False)


def _flag(field: Any, name: str) -> bool:
    """A boolean ``(buckyos.json)`` option of ``field``."""
    ext = serde.field_json(field)
    return ext is not None and bool(getattr(ext, name))


def _rule(field: Any, name: str) -> bool:
    """A boolean ``(buckyos.field)`` rule of ``field``."""
    rules = serde.field_rules(field)
    return rules is not None and bool(getattr(rules, name))


def _is_repeated(field: Any) -> bool:
    return bool(field.is_repeated)


def _is_map(field: Any) -> bool:
    return bool(
        _is_repeated(field)
        and field.message_type is not None
        and field.message_type.GetOptions().map_entry
    )


# --- scalar converters -----------------------------------------------------------------


# Scalars taken only as exactly this JSON type (no bool for a string, no 1 for true).
_EXACT_TYPES: dict[int, tuple[type, str]] = {
    FieldDescriptor.CPPTYPE_STRING: (str, "string"),
    FieldDescriptor.CPPTYPE_BOOL: (bool, "boolean"),
}


def _scalar_decoder(field: Any) -> Decoder:
    cpp = field.cpp_type
    if field.type == FieldDescriptor.TYPE_BYTES:
        if _flag(field, "bytes_as_array"):
            return serde.byte_array_decoder

        def dec_bytes(value: Any, path: str) -> bytes:
            if not isinstance(value, str):
                raise _expect("base64 string", value, path)
            try:
                return base64.b64decode(value, validate=True)
            except binascii.Error:
                raise _InvalidError(f"field `{path}`: not valid base64") from None

        return dec_bytes
    exact = _EXACT_TYPES.get(cpp)
    if exact is not None:
        want, what = exact

        def dec_exact(value: Any, path: str) -> Any:
            if type(value) is not want:
                raise _expect(what, value, path)
            return value

        return dec_exact
    if cpp in _INT_RANGES:
        low, high = _INT_RANGES[cpp]
        kind = "unsigned integer" if low == 0 else "integer"

        def dec_int(value: Any, path: str) -> int:
            number: int
            if type(value) is int:
                number = value
            elif type(value) is float and value.is_integer():
                number = int(value)
            else:
                raise _expect(kind, value, path)
            if not low <= number <= high:
                raise _InvalidError(f"field `{path}`: {number} is out of range for {kind}")
            return number

        return dec_int
    if cpp in (FieldDescriptor.CPPTYPE_DOUBLE, FieldDescriptor.CPPTYPE_FLOAT):

        def dec_float(value: Any, path: str) -> float:
            if type(value) not in (int, float):
                raise _expect("number", value, path)
            return float(value)

        return dec_float
    if cpp == FieldDescriptor.CPPTYPE_ENUM:
        enum_type = field.enum_type
        named = serde.enum_codec(enum_type)
        if named is not None:
            return named[1]

        def dec_enum(value: Any, path: str) -> int:
            if type(value) is str and value in enum_type.values_by_name:
                number: int = enum_type.values_by_name[value].number
                return number
            if type(value) is int and value in enum_type.values_by_number:
                return value
            names = ", ".join(enum_type.values_by_name)
            raise _InvalidError(f"field `{path}`: expected one of {names}")

        return dec_enum
    raise ContractError(
        f"field {field.full_name}: unsupported type {field.type}"
    )  # pragma: no cover


def _scalar_encoder(field: Any) -> Encoder | None:
    """None means "the Python value is already the JSON value"."""
    if field.type == FieldDescriptor.TYPE_BYTES:
        if _flag(field, "bytes_as_array"):
            return serde.byte_array_encoder
        return lambda value: base64.b64encode(value).decode("ascii")
    if field.cpp_type == FieldDescriptor.CPPTYPE_ENUM:
        enum_type = field.enum_type
        named = serde.enum_codec(enum_type)
        if named is not None:
            return named[0]
        return lambda value: (
            enum_type.values_by_number[value].name if value in enum_type.values_by_number else value
        )
    return None


# --- codecs ------------------------------------------------------------------------------


class MessageCodec:
    """Compiled JSON mapping of one message class."""

    __slots__ = (
        "_decoders",
        "_encoders",
        "_flat",
        "_required",
        "_required_keys",
        "cls",
        "keys",
        "presence",
    )

    def __init__(self, cls: type[Message]) -> None:
        self.cls = cls
        self.keys: tuple[str, ...] = ()
        self.presence: bool = True
        self._encoders: list[Callable[[Message, dict[str, Any]], None]] = []
        self._decoders: dict[str, tuple[str, Decoder]] = {}
        self._required: tuple[tuple[str, str], ...] = ()
        self._required_keys: tuple[str, ...] = ()
        """Required ``Value`` fields: ``null`` is a value, only a missing key is refused."""
        self._flat: tuple[tuple[str, Decoder], ...] = ()
        """Flattened fields: (name, decoder of the whole object)."""

    def _compile(self) -> None:
        descriptor: Any = self.cls.DESCRIPTOR
        keys: list[str] = []
        required: list[tuple[str, str]] = []
        values: list[tuple[str, str]] = []
        flat: list[tuple[str, Decoder]] = []
        for field in descriptor.fields:
            if _flag(field, "flatten"):
                self._encoders.append(_flat_encoder(field))
                flat.append((field.name, _value_decoder(field)))
                continue
            key, null_when_unset = _json_options(field)
            keys.append(key)
            self._encoders.append(_field_encoder(field, key, null_when_unset))
            self._decoders[key] = (field.name, _field_decoder(field))
            if not field.has_presence and not _is_repeated(field) and not _rule(field, "default"):
                required.append((key, field.name))
            elif (
                field.message_type is not None
                and not _is_repeated(field)
                and _rule(field, "required")
            ):
                # A required struct (serde: neither Option nor default) is refused missing
                # like a scalar; a required serde Value may be `null`, only not missing.
                if field.message_type.full_name == "google.protobuf.Value":
                    values.append((key, field.name))
                else:
                    required.append((key, field.name))
            if not field.has_presence:
                self.presence = False
        self.keys = tuple(keys)
        self._required = tuple(required)
        self._required_keys = tuple(key for key, _ in values)
        self._flat = tuple(flat)

    def to_json(self, message: Message) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for encode in self._encoders:
            encode(message, out)
        return out

    def from_json(self, value: Any, path: str = "") -> Message:
        if type(value) is not dict:
            raise _expect("object", value, path or "params")
        kwargs: dict[str, Any] = {}
        decoders = self._decoders
        for key, item in value.items():
            entry = decoders.get(key)
            if entry is None or item is None:
                continue
            name, decode = entry
            kwargs[name] = decode(item, f"{path}.{key}" if path else key)
        if self._flat:
            for name, decode in self._flat:
                kwargs[name] = decode(value, path)
        for key, name in self._required:
            if name not in kwargs and value.get(key) is None:
                raise _InvalidError(f"Missing {f'{path}.{key}' if path else key}")
        for key in self._required_keys:
            if key not in value:
                raise _InvalidError(f"Missing {f'{path}.{key}' if path else key}")
        try:
            return self.cls(**kwargs)
        except DecodeError as exc:
            # upb refuses messages nested deeper than its limit (a Struct about 32 deep)
            # when they are copied in: the caller's input, not a crash.
            raise _InvalidError(f"{path or 'params'}: nested too deeply ({exc})") from None
        except (TypeError, ValueError) as exc:  # pragma: no cover - decoders check types
            raise _InvalidError(f"{path or 'params'}: {exc}") from None


_CODECS: dict[type[Message], MessageCodec | serde.TaggedCodec] = {}


def codec_for(cls: type[Message]) -> MessageCodec | serde.TaggedCodec:
    """The cached codec of a message class (compiled on first use)."""
    codec = _CODECS.get(cls)
    if codec is None:
        tagged = serde.tagged_oneof(cls.DESCRIPTOR)
        if tagged is not None:
            # Built whole (its members' codecs are looked up lazily, on use).
            codec = _CODECS[cls] = serde.TaggedCodec(
                cls, tagged[0], tagged[1], _value_encoder, _value_decoder
            )
            return codec
        codec = MessageCodec(cls)
        # Registered before compiling so that recursive message types terminate.
        _CODECS[cls] = codec
        try:
            codec._compile()
        except BaseException:
            del _CODECS[cls]
            raise
    return codec


def _value_encoder(field: Any) -> Encoder | None:
    """Encoder for one element (a map value, a list item or a singular value)."""
    if field.cpp_type == FieldDescriptor.CPPTYPE_MESSAGE:
        if field.message_type.full_name in WKT_JSON:
            return wkt_to_json
        sub_cls = message_class(field.message_type)
        return lambda value: codec_for(sub_cls).to_json(value)
    return _scalar_encoder(field)


def _value_decoder(field: Any) -> Decoder:
    if field.cpp_type == FieldDescriptor.CPPTYPE_MESSAGE:
        if field.message_type.full_name in WKT_JSON:
            return wkt_decoder(field.message_type)
        sub_cls = message_class(field.message_type)
        return lambda value, path: codec_for(sub_cls).from_json(value, path)
    return _scalar_decoder(field)


def _flat_encoder(field: Any) -> Callable[[Message, dict[str, Any]], None]:
    """A flattened message field: its keys merged into the parent's object."""
    name = field.name
    sub_cls = message_class(field.message_type)

    def enc_flat(message: Message, out: dict[str, Any]) -> None:
        out.update(codec_for(sub_cls).to_json(getattr(message, name)))

    return enc_flat


def _field_encoder(
    field: Any, key: str, null_when_unset: bool
) -> Callable[[Message, dict[str, Any]], None]:
    name = field.name
    omit_empty = _flag(field, "omit_empty")
    if _is_map(field):
        value_field = field.message_type.fields_by_name["value"]
        enc_value = _value_encoder(value_field)

        def enc_map(message: Message, out: dict[str, Any]) -> None:
            items = getattr(message, name)
            if omit_empty and not items:
                return
            if enc_value is None:
                out[key] = dict(items)
            else:
                out[key] = {k: enc_value(v) for k, v in items.items()}

        return enc_map
    enc = _value_encoder(field)
    if _is_repeated(field):

        def enc_list(message: Message, out: dict[str, Any]) -> None:
            items = getattr(message, name)
            if omit_empty and not items:
                return
            out[key] = list(items) if enc is None else [enc(v) for v in items]

        return enc_list
    if field.has_presence:

        def enc_optional(message: Message, out: dict[str, Any]) -> None:
            if message.HasField(name):
                value = getattr(message, name)
                out[key] = value if enc is None else enc(value)
            elif null_when_unset:
                out[key] = None

        return enc_optional
    if enc is None:

        def enc_plain(message: Message, out: dict[str, Any]) -> None:
            out[key] = getattr(message, name)

        return enc_plain

    def enc_converted(message: Message, out: dict[str, Any]) -> None:
        out[key] = enc(getattr(message, name))

    return enc_converted


def _field_decoder(field: Any) -> Decoder:
    if _is_map(field):
        key_dec = _scalar_decoder(field.message_type.fields_by_name["key"])
        key_is_str = field.message_type.fields_by_name["key"].type == FieldDescriptor.TYPE_STRING
        value_dec = _value_decoder(field.message_type.fields_by_name["value"])

        def dec_map(value: Any, path: str) -> dict[Any, Any]:
            if type(value) is not dict:
                raise _expect("object", value, path)
            out: dict[Any, Any] = {}
            for k, v in value.items():
                item_path = f"{path}.{k}"
                if key_is_str:
                    mk: Any = k
                else:
                    try:
                        mk = key_dec(int(k), item_path)
                    except ValueError:
                        raise _InvalidError(
                            f"field `{item_path}`: map key is not a number"
                        ) from None
                if v is None:
                    raise _InvalidError(f"field `{item_path}`: null is not allowed in a map")
                out[mk] = value_dec(v, item_path)
            return out

        return dec_map
    dec = _value_decoder(field)
    if _is_repeated(field):

        def dec_list(value: Any, path: str) -> list[Any]:
            if type(value) is not list:
                raise _expect("array", value, path)
            return [dec(v, f"{path}[{i}]") for i, v in enumerate(value)]

        return dec_list
    return dec


# --- shapes ------------------------------------------------------------------------------


_UNWRAP_KEYS: dict[type[Message], str] = {}


def _unwrap_key(cls: type[Message]) -> str:
    """The JSON key of an UNWRAP message's only field (cached: it sits on the hot path)."""
    key = _UNWRAP_KEYS.get(cls)
    if key is None:
        key = _UNWRAP_KEYS[cls] = _json_options(_only_field(cls))[0]
    return key


def _only_field(cls: type[Message]) -> Any:
    fields = cls.DESCRIPTOR.fields
    if len(fields) != 1:
        raise ContractError(
            f"UNWRAP needs a message with exactly one field; {cls.DESCRIPTOR.full_name} "
            f"has {len(fields)}"
        )
    return fields[0]


def _encode(shape: JsonShape, message: Message) -> Any:
    if shape is JsonShape.OBJECT:
        return codec_for(type(message)).to_json(message)
    if shape is JsonShape.NULL:
        return None
    if shape is JsonShape.TRUE:
        return True
    if shape is JsonShape.NULLABLE:
        if not message.ListFields():
            return None
        return codec_for(type(message)).to_json(message)
    if shape is JsonShape.ENVELOPE:
        return serde.encode_envelope(codec_for(type(message)).to_json(message))
    if shape is JsonShape.UNWRAP_OR_NULL and not message.ListFields():
        return None  # its only field tracks presence: unset is the null
    # UNWRAP
    return codec_for(type(message)).to_json(message)[_unwrap_key(type(message))]


def _decode_value(shape: JsonShape, cls: type[M], value: Any) -> M:
    if shape is JsonShape.OBJECT:
        return codec_for(cls).from_json(value)  # type: ignore[return-value]
    if shape is JsonShape.NULL:
        # Upstream clients ignore the result of a null-result verb; so do we.
        return cls()
    if shape is JsonShape.TRUE:
        if value is not True:
            raise _InvalidError(
                f"expected true, got {json_type_name(value) if value is not False else 'false'}"
            )
        return cls()
    if shape is JsonShape.NULLABLE:
        if value is None:
            return cls()
        return codec_for(cls).from_json(value)  # type: ignore[return-value]
    if shape is JsonShape.ENVELOPE:
        return codec_for(cls).from_json(serde.decode_envelope(value))  # type: ignore[return-value]
    key = _unwrap_key(cls)
    if value is None:
        if shape is JsonShape.UNWRAP_OR_NULL:
            return cls()
        raise _InvalidError(f"expected the value of `{key}`, got null")
    return codec_for(cls).from_json({key: value})  # type: ignore[return-value]


def _decode(shape: JsonShape, cls: type[M], value: Any, kind: type[RPCError]) -> M:
    """``_decode_value``, its refusal raised as ``kind`` (the parse error of that side)."""
    try:
        return _decode_value(shape, cls, value)
    except _InvalidError as exc:
        raise kind(str(exc)) from None


def encode_params(method: MethodDescriptor[M, Any], request: M) -> Any:
    """The kRPC ``params`` for a request message."""
    return _encode(method.params_shape, request)


def encode_result(method: MethodDescriptor[Any, M], response: M) -> Any:
    """The kRPC ``result`` for a response message."""
    return _encode(method.result_shape, response)


def decode_params(method: MethodDescriptor[M, Any], params: Any) -> M:
    """A request message from kRPC ``params``; ``ParseRequestError`` when malformed."""
    return _decode(method.params_shape, method.request_type, params, ParseRequestError)


def envelope_of(method: MethodDescriptor[Any, Any], error: RPCError) -> dict[str, Any] | None:
    """The ``{"ok": false, ...}`` result a kRPC server answers for ``error`` raised by an
    ENVELOPE verb's handler (a ``NotOkError``), else None (an error answer)."""
    if method.result_shape is JsonShape.ENVELOPE and isinstance(error, NotOkError):
        return error.envelope
    return None


def decode_result(method: MethodDescriptor[Any, M], result: Any) -> M:
    """A response message from a kRPC ``result``; ``ParseResponseError`` when malformed."""
    return _decode(method.result_shape, method.response_type, result, ParseResponseError)
