"""serde's conventions in the kRPC JSON mapping, as a contract declares them.

``jsonmap`` compiles every message into a codec; what upstream's Rust (serde) writes
beyond plain structs is compiled here, from the options of ``buckyos/options.proto``:

* a oneof with ``(buckyos.tagged)`` is a serde enum: its message travels as the chosen
  variant, internally tagged (``{"kind": "App", "app_id": ...}``), adjacently tagged
  (``{"kind": "Action", "value": {...}}``) or externally tagged (``"Earliest"`` /
  ``{"At": 42}``); a member whose message has no fields is a unit variant;
* a proto enum with ``(buckyos.enum_json)`` or ``(buckyos.value)`` travels as its
  declared names (``TASK_PHASE_RUNNING`` -> ``"Running"``, ``"schema_mismatch"``);
* a bytes field with ``(buckyos.json).bytes_as_array`` is an array of integers;
* an ``ENVELOPE`` result is an object with ``"ok": true`` in front; ``ok: false`` is a
  :class:`~buckyos.runtime.errors.NotOkError`.

Codegen has checked every declaration (``codegen/contract.py``), so nothing here
re-validates a contract; refusals of the *input* name the field path in serde's words
(``missing field `kind```, ``unknown variant `X`, expected one of `A`, `B```).  All of
it is resolved once per message class: encode and decode are dict work.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from google.protobuf.message import Message

from buckyos.runtime.errors import NotOkError
from buckyos.runtime.wire.jsontext import json_type_name

__all__ = [
    "JsonInvalidError",
    "TaggedCodec",
    "byte_array_decoder",
    "byte_array_encoder",
    "decode_envelope",
    "encode_envelope",
    "enum_codec",
    "expect",
    "field_json",
    "field_rules",
    "rename",
    "tagged_oneof",
]

Encoder = Callable[[Any], Any]
Decoder = Callable[[Any, str], Any]
FieldEncoder = Callable[[Any], "Encoder | None"]
FieldDecoder = Callable[[Any], Decoder]

# NameCase values of options.proto.
_DEFAULT, _AS_WRITTEN, _PASCAL, _SNAKE = 0, 1, 2, 3


class JsonInvalidError(Exception):
    """A decoding problem; turned into the caller's error kind with the field path."""


def expect(what: str, value: Any, path: str) -> JsonInvalidError:
    return JsonInvalidError(f"field `{path}`: expected {what}, got {json_type_name(value)}")


def _where(path: str) -> str:
    return f"field `{path}`: " if path else ""


def _options() -> Any:
    # Imported lazily: the options module is generated code, and importing it at module
    # load would tie this module's import order to the generated package.
    from buckyos.generated import options_pb2

    return options_pb2


def field_json(field: Any) -> Any | None:
    """The field's ``(buckyos.json)`` options, or None."""
    options: Any = field.GetOptions()
    ext = _options().json
    return options.Extensions[ext] if options.HasExtension(ext) else None


def field_rules(field: Any) -> Any | None:
    """The field's ``(buckyos.field)`` rules, or None."""
    options: Any = field.GetOptions()
    ext = _options().field
    return options.Extensions[ext] if options.HasExtension(ext) else None


def tagged_oneof(descriptor: Any) -> tuple[Any, Any] | None:
    """``(oneof, its (buckyos.tagged) options)`` when ``descriptor`` is a serde enum."""
    ext = _options().tagged
    for oneof in descriptor.oneofs:
        options: Any = oneof.GetOptions()
        if options.HasExtension(ext):
            return oneof, options.Extensions[ext]
    return None


# --- names -------------------------------------------------------------------------------


def _words(name: str) -> list[str]:
    """``human_set``, ``HUMAN_SET``, ``HumanSet`` -> ``["human", "set"]``."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    return [w.lower() for w in spaced.split("_") if w]


def rename(name: str, case: int, *, default: int) -> str:
    """``name`` spelled per a NameCase value (``NAME_CASE_DEFAULT`` -> ``default``)."""
    case = case or default
    if case == _PASCAL:
        return "".join(w[:1].upper() + w[1:] for w in _words(name))
    if case == _SNAKE:
        return "_".join(_words(name))
    return name


def enum_prefix(enum_type: Any) -> str:
    """``TaskPhase`` -> ``TASK_PHASE_``, the prefix ``strip_prefix`` drops."""
    return "_".join(w.upper() for w in _words(enum_type.name)) + "_"


def enum_json_names(enum_type: Any) -> dict[int, str] | None:
    """The JSON string of each value number, or None for an enum without JSON options."""
    options_pb2 = _options()
    enum_options: Any = enum_type.GetOptions()
    rule = (
        enum_options.Extensions[options_pb2.enum_json]
        if enum_options.HasExtension(options_pb2.enum_json)
        else None
    )
    names: dict[int, str] = {}
    declared = rule is not None
    prefix = enum_prefix(enum_type) if rule is not None and rule.strip_prefix else ""
    for value in enum_type.values:
        value_options: Any = value.GetOptions()
        if (
            value_options.HasExtension(options_pb2.value)
            and value_options.Extensions[options_pb2.value].json
        ):
            declared = True
            name = value_options.Extensions[options_pb2.value].json
        else:
            name = value.name.removeprefix(prefix) if prefix else value.name
            if rule is not None:
                name = rename(name, rule.rename_all, default=_AS_WRITTEN)
        names.setdefault(value.number, name)
    return names if declared else None


def _unknown_variant(value: Any, names: Any, path: str) -> JsonInvalidError:
    expected = ", ".join(f"`{n}`" for n in names)
    return JsonInvalidError(f"{_where(path)}unknown variant `{value}`, expected one of {expected}")


def enum_codec(enum_type: Any) -> tuple[Encoder, Decoder] | None:
    """Encoder and decoder of a proto enum with declared JSON names, else None."""
    names = enum_json_names(enum_type)
    if names is None:
        return None
    numbers = {name: number for number, name in names.items()}

    def encode(number: int) -> Any:
        return names.get(number, number)

    def decode(value: Any, path: str) -> int:
        if type(value) is not str:
            raise expect("string", value, path)
        number = numbers.get(value)
        if number is None:
            raise _unknown_variant(value, numbers, path)
        return number

    return encode, decode


# --- bytes as an array -------------------------------------------------------------------


def byte_array_encoder(value: bytes) -> list[int]:
    return list(value)


def byte_array_decoder(value: Any, path: str) -> bytes:
    if type(value) is not list:
        raise expect("array of bytes (integers 0..255)", value, path)
    for index, item in enumerate(value):
        if type(item) is not int or not 0 <= item <= 255:
            if type(item) is int:
                raise JsonInvalidError(
                    f"field `{path}[{index}]`: {item} is out of range for a byte"
                )
            raise expect("byte (integer 0..255)", item, f"{path}[{index}]")
    return bytes(value)


# --- tagged oneofs -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Variant:
    """One member of a tagged oneof: its field, its JSON name and its codecs."""

    field: str
    name: str
    unit: type[Message] | None
    """The member's message class for a unit variant (no fields), else None."""
    encode: Encoder | None
    decode: Decoder


class TaggedCodec:
    """Compiled JSON mapping of a message that is one ``(buckyos.tagged)`` oneof."""

    __slots__ = ("_by_field", "_by_name", "cls", "content", "external", "oneof", "tag")

    def __init__(
        self,
        cls: type[Message],
        oneof: Any,
        options: Any,
        value_encoder: FieldEncoder,
        value_decoder: FieldDecoder,
    ) -> None:
        from google.protobuf import message_factory

        self.cls = cls
        self.oneof: str = oneof.name
        self.tag: str = options.tag
        self.content: str = options.content
        self.external: bool = options.external
        self._by_field: dict[str, _Variant] = {}
        self._by_name: dict[str, _Variant] = {}
        for member in oneof.fields:
            ext = field_json(member)
            name = ext.json if ext is not None and ext.json else ""
            name = name or rename(member.name, options.rename_all, default=_PASCAL)
            unit: type[Message] | None = None
            if member.message_type is not None and not member.message_type.fields:
                unit = message_factory.GetMessageClass(member.message_type)
            variant = _Variant(
                member.name, name, unit, value_encoder(member), value_decoder(member)
            )
            self._by_field[member.name] = variant
            self._by_name[name] = variant

    def to_json(self, message: Message) -> Any:
        which = message.WhichOneof(self.oneof)
        if which is None:
            return None  # no variant chosen: serde has no word for it
        variant = self._by_field[which]
        if self.external:
            if variant.unit is not None:
                return variant.name
            value = getattr(message, which)
            return {variant.name: value if variant.encode is None else variant.encode(value)}
        out: dict[str, Any] = {self.tag: variant.name}
        if variant.unit is None:
            value = getattr(message, which)
            encoded = value if variant.encode is None else variant.encode(value)
            if self.content:
                out[self.content] = encoded
            else:
                out.update(encoded)
        return out

    def from_json(self, value: Any, path: str = "") -> Message:
        if self.external:
            variant, inner, inner_path = self._external(value, path)
        else:
            if type(value) is not dict:
                raise expect("object", value, path or "params")
            name = value.get(self.tag)
            if name is None:
                raise JsonInvalidError(f"{_where(path)}missing field `{self.tag}`")
            variant = self._variant(name, f"{path}.{self.tag}" if path else self.tag, path)
            if self.content:
                inner = value.get(self.content)
                inner_path = f"{path}.{self.content}" if path else self.content
                if inner is None and variant.unit is None:
                    raise JsonInvalidError(f"{_where(path)}missing field `{self.content}`")
            else:
                inner, inner_path = value, path
        if variant.unit is not None:
            return self.cls(**{variant.field: variant.unit()})
        return self.cls(**{variant.field: variant.decode(inner, inner_path)})

    def _variant(self, name: Any, name_path: str, path: str) -> _Variant:
        if type(name) is not str:
            raise expect("string", name, name_path)
        variant = self._by_name.get(name)
        if variant is None:
            raise _unknown_variant(name, self._by_name, path)
        return variant

    def _external(self, value: Any, path: str) -> tuple[_Variant, Any, str]:
        if type(value) is str:
            variant = self._variant(value, path, path)
            if variant.unit is None:
                raise JsonInvalidError(
                    f'{_where(path)}variant `{value}` carries a value: write {{"{value}": ...}}'
                )
            return variant, None, path
        if type(value) is not dict or len(value) != 1:
            what = "a variant name or an object with one key"
            if type(value) is dict:
                raise JsonInvalidError(f"{_where(path)}expected {what}, got {len(value)} keys")
            raise expect(what, value, path or "params")
        ((name, inner),) = value.items()
        variant = self._variant(name, path, path)
        if inner is None and variant.unit is None:
            raise JsonInvalidError(f"{_where(path)}variant `{name}` needs a value, got null")
        return variant, inner, f"{path}.{name}" if path else name


# --- envelopes ---------------------------------------------------------------------------


def encode_envelope(body: Any) -> dict[str, Any]:
    """``{"ok": true, ...body}``."""
    return {"ok": True, **body}


def decode_envelope(value: Any) -> Any:
    """The object of an envelope (``ok`` true or absent); ``ok: false`` raises
    :class:`NotOkError`."""
    if type(value) is not dict:
        raise expect("object", value, "result")
    ok = value.get("ok", True)
    if ok is False:
        raise NotOkError.from_envelope(value)
    if ok is not True:
        raise expect("boolean", ok, "ok")
    return value
