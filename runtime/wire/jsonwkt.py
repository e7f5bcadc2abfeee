"""The JSON of protobuf's JSON types (``Struct``, ``Value``, ``ListValue``): opaque JSON
fields of a contract, carried as the JSON they hold.

Numbers come back as serde writes them (an integral double as an integer); decoding
refuses a non-object for a ``Struct`` and a non-array for a ``ListValue``, naming the
field path as the rest of the mapping does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from google.protobuf import json_format
from google.protobuf.message import Message

from buckyos.runtime.wire.serde import JsonInvalidError as _InvalidError, expect as _expect

__all__ = ["WKT_JSON", "message_class", "wkt_decoder", "wkt_to_json"]

WKT_JSON: Final = {
    "google.protobuf.Struct",
    "google.protobuf.Value",
    "google.protobuf.ListValue",
}
"""The message types whose JSON is any JSON value."""


def message_class(descriptor: Any) -> type[Message]:
    from google.protobuf import message_factory

    return message_factory.GetMessageClass(descriptor)


def _json_number(number: float) -> int | float:
    # Struct numbers are doubles; upstream (serde) tells 1 from 1.0, so integral values
    # in the exactly-representable range go back out as integers.
    if number.is_integer() and abs(number) <= 2**53:
        return int(number)
    return number


def _value_to_json(value: Any) -> Any:
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        return value.string_value
    if kind == "number_value":
        return _json_number(value.number_value)
    if kind == "bool_value":
        return value.bool_value
    if kind == "struct_value":
        return {k: _value_to_json(v) for k, v in value.struct_value.fields.items()}
    if kind == "list_value":
        return [_value_to_json(v) for v in value.list_value.values]
    return None


def wkt_to_json(message: Any) -> Any:
    name = message.DESCRIPTOR.full_name
    if name == "google.protobuf.Struct":
        return {k: _value_to_json(v) for k, v in message.fields.items()}
    if name == "google.protobuf.ListValue":
        return [_value_to_json(v) for v in message.values]
    return _value_to_json(message)


def wkt_decoder(descriptor: Any) -> Callable[[Any, str], Message]:
    cls = message_class(descriptor)
    full_name = descriptor.full_name

    def decode(value: Any, path: str) -> Message:
        if full_name == "google.protobuf.Struct" and type(value) is not dict:
            raise _expect("object", value, path)
        if full_name == "google.protobuf.ListValue" and type(value) is not list:
            raise _expect("array", value, path)
        message = cls()
        try:
            json_format.ParseDict(value, message)
        except json_format.ParseError as exc:
            raise _InvalidError(f"field `{path}`: {exc}") from None
        return message

    return decode
