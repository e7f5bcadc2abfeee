"""Bases of generated client stubs: build the request, hand it to the invoker.

Generated methods are one line over :meth:`Stub._call`; all behaviour is here, including
the one error hook: a received error becomes the contract's coded class (or an ENVELOPE
verb's ``NotOkError``) through :func:`~buckyos.runtime.errors.refine_error`, whatever
the wire.
"""

from __future__ import annotations

import keyword
from collections.abc import Mapping
from typing import Any, ClassVar, Final, Generic, Self, TypeVar

from google.protobuf import json_format
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from buckyos.runtime.descriptor import MethodDescriptor, ReqT, RespT
from buckyos.runtime.errors import RPCError, refine_error
from buckyos.runtime.transport import AsyncUnaryInvoker, UnaryInvoker

__all__ = ["AsyncStub", "Stub", "build_request"]


def build_request(
    method: MethodDescriptor[ReqT, Any], request: ReqT | None, fields: dict[str, Any]
) -> ReqT:
    """The request message from either a message or keyword fields (``None`` = not given).

    A field the contract marks required must be given, and a value of the wrong type is a
    ``TypeError`` that names the field and what to pass; both before anything is sent.
    The happy path costs one length comparison over protobuf's own constructor.
    """
    given = {name: value for name, value in fields.items() if value is not None}
    if request is not None:
        if given:
            raise TypeError(
                f"{method.name}() takes a request message or keyword fields, not both "
                f"(got a message and {sorted(given)})"
            )
        if not isinstance(request, method.request_type):
            raise TypeError(
                f"{method.name}() expects {method.request_type.DESCRIPTOR.full_name}, "
                f"got {type(request).__name__}"
            )
        for name in method.required_present:
            if not request.HasField(name):
                raise TypeError(_missing(method, name, in_message=True))
        return request
    if len(given) != len(fields):
        for name in method.required:
            if fields.get(name) is None:
                raise TypeError(_missing(method, name))
    json_fields = _json_fields(method.request_type)
    if json_fields:
        _to_json_messages(method, given, json_fields)
    try:
        return method.request_type(**given)
    except (TypeError, ValueError) as exc:
        raise TypeError(_wrong_value(method, given, exc)) from None


# Opaque JSON fields: a stub keyword for one takes plain JSON (dict, list, str, number,
# bool) as well as the message, as the kRPC JSON of the field is that value.
_JSON_TYPES: Final = frozenset(
    {"google.protobuf.Value", "google.protobuf.Struct", "google.protobuf.ListValue"}
)
_json_fields_of: dict[type[Message], tuple[tuple[str, type[Message]], ...]] = {}


def _json_fields(cls: type[Message]) -> tuple[tuple[str, type[Message]], ...]:
    """The singular Value/Struct/ListValue fields of ``cls`` and their classes (cached)."""
    found = _json_fields_of.get(cls)
    if found is None:
        empty = cls()
        found = tuple(
            (field.name, type(getattr(empty, field.name)))
            for field in cls.DESCRIPTOR.fields
            if field.message_type is not None
            and field.message_type.full_name in _JSON_TYPES
            and not field.is_repeated
        )
        _json_fields_of[cls] = found
    return found


def _to_json_messages(
    method: MethodDescriptor[Any, Any],
    given: dict[str, Any],
    json_fields: tuple[tuple[str, type[Message]], ...],
) -> None:
    """Turn plain JSON given for an opaque JSON field into its message, in place."""
    for name, cls in json_fields:
        value = given.get(name)
        if value is None or isinstance(value, Message):
            continue
        try:
            given[name] = json_format.ParseDict(value, cls())
        except (json_format.ParseError, TypeError, ValueError) as exc:
            kind = cls.DESCRIPTOR.name
            raise TypeError(
                f"{method.name}(): {_keyword(name)} must be JSON for a {kind} "
                f"(dict, list, str, number, bool) or a {kind} message: {exc}"
            ) from None


def _keyword(name: str) -> str:
    """The stub's keyword argument for a field (codegen's ``py_name``)."""
    return f"{name}_" if keyword.iskeyword(name) or keyword.issoftkeyword(name) else name


def _missing(method: MethodDescriptor[Any, Any], name: str, *, in_message: bool = False) -> str:
    full = f"{method.request_type.DESCRIPTOR.full_name}.{name}"
    if in_message:
        return f"{method.name}(): set {name} in the request: the contract marks {full} required"
    return f"{method.name}() needs {_keyword(name)}=...: the contract marks {full} required"


_INTS = {
    FieldDescriptor.CPPTYPE_INT32: "int (int32)",
    FieldDescriptor.CPPTYPE_INT64: "int (int64)",
    FieldDescriptor.CPPTYPE_UINT32: "int (uint32, 0 or more)",
    FieldDescriptor.CPPTYPE_UINT64: "int (uint64, 0 or more)",
}


def _expected(field: Any) -> str:
    """What a stub keyword for ``field`` takes, in words."""
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        key = _expected(field.message_type.fields_by_name["key"])
        value = _expected(field.message_type.fields_by_name["value"])
        return f"a mapping of {key} to {value}"
    if field.is_repeated:
        return f"an iterable of {_scalar(field)}"
    return _scalar(field)


def _scalar(field: Any) -> str:
    cpp = field.cpp_type
    if cpp == FieldDescriptor.CPPTYPE_STRING:
        return "bytes" if field.type == FieldDescriptor.TYPE_BYTES else "str"
    if cpp == FieldDescriptor.CPPTYPE_BOOL:
        return "bool"
    if cpp in (FieldDescriptor.CPPTYPE_FLOAT, FieldDescriptor.CPPTYPE_DOUBLE):
        return "float"
    if cpp == FieldDescriptor.CPPTYPE_ENUM:
        return f"an int or a value name of {field.enum_type.full_name}"
    if cpp == FieldDescriptor.CPPTYPE_MESSAGE:
        return f"a {field.message_type.full_name} message (or a dict of its fields)"
    return _INTS.get(cpp, "int")


def _wrong_value(method: MethodDescriptor[Any, Any], given: dict[str, Any], exc: Exception) -> str:
    """Which keyword protobuf refused, what it takes and what to do (the slow path)."""
    fields = method.request_type.DESCRIPTOR.fields_by_name
    for name, value in given.items():
        try:
            method.request_type(**{name: value})
        except (TypeError, ValueError) as own:
            reason = str(own)
        else:
            continue
        field = fields[name]
        expected = _expected(field)
        got = type(value).__name__
        text = f"{method.name}(): {_keyword(name)} must be {expected}"
        container = field.is_repeated or field.message_type is not None
        if container and isinstance(value, Mapping | list | tuple):
            return f"{text}; inside it: {reason}"
        if expected == "str" and isinstance(value, Mapping | list | tuple):
            return f"{text} (JSON text); use json.dumps(...), not a {got}"
        if expected == "str" and isinstance(value, bytes):
            return f"{text}, not bytes; decode it (value.decode())"
        if isinstance(value, int | float) and not isinstance(value, bool) and "int" in expected:
            return f"{text}; {value!r} is out of range or not whole"
        return f"{text}, not {got}"
    return f"{method.name}(): {exc}"


InvokerT = TypeVar("InvokerT", UnaryInvoker, AsyncUnaryInvoker)
"""The sync or the asyncio invoker interface."""


class _StubBase(Generic[InvokerT]):
    """What both stub bases hold: the invoker (checked for ``_needs``) and the timeout."""

    __slots__ = ("_invoker", "_timeout")

    _invoker: InvokerT
    _timeout: float | None
    _needs: ClassVar[str]
    _otherwise: ClassVar[str]

    def __init__(self, invoker: InvokerT, *, timeout: float | None = None) -> None:
        if not callable(getattr(invoker, self._needs, None)):
            raise TypeError(
                f"{type(self).__name__} needs a runtime or transport with .{self._needs}(); "
                f"got {type(invoker).__name__} ({self._otherwise})"
            )
        self._invoker = invoker
        self._timeout = timeout

    def with_timeout(self, timeout: float | None) -> Self:
        """A copy of this stub whose calls use ``timeout`` seconds."""
        return type(self)(self._invoker, timeout=timeout)


def _or_none(response: RespT) -> RespT | None:
    """None for an UNWRAP_OR_NULL answer whose only field is unset (upstream's null; over
    gRPC the field's presence carries it), else the answer."""
    return response if response.ListFields() else None


class Stub(_StubBase[UnaryInvoker]):
    """Base of generated sync stubs, e.g. ``SystemConfigStub(rt)``."""

    __slots__ = ()
    _needs = "invoke"
    _otherwise = "for asyncio use the Async stub"

    def _call(
        self, method: MethodDescriptor[ReqT, RespT], request: ReqT | None, fields: dict[str, Any]
    ) -> RespT:
        message = build_request(method, request, fields)
        try:
            return self._invoker.invoke(method, message, timeout=self._timeout)
        except RPCError as exc:
            refined = refine_error(method, exc)
            if refined is exc:
                raise
            raise refined.with_traceback(exc.__traceback__) from None

    def _call_or_none(
        self, method: MethodDescriptor[ReqT, RespT], request: ReqT | None, fields: dict[str, Any]
    ) -> RespT | None:
        """``_call`` for an UNWRAP_OR_NULL verb: None when upstream answered null."""
        return _or_none(self._call(method, request, fields))


class AsyncStub(_StubBase[AsyncUnaryInvoker]):
    """Base of generated asyncio stubs, e.g. ``AsyncSystemConfigStub(rt)``."""

    __slots__ = ()
    _needs = "ainvoke"
    _otherwise = "for sync code use the plain stub"

    async def _call(
        self, method: MethodDescriptor[ReqT, RespT], request: ReqT | None, fields: dict[str, Any]
    ) -> RespT:
        message = build_request(method, request, fields)
        try:
            return await self._invoker.ainvoke(method, message, timeout=self._timeout)
        except RPCError as exc:
            refined = refine_error(method, exc)
            if refined is exc:
                raise
            raise refined.with_traceback(exc.__traceback__) from None

    async def _call_or_none(
        self, method: MethodDescriptor[ReqT, RespT], request: ReqT | None, fields: dict[str, Any]
    ) -> RespT | None:
        """``_call`` for an UNWRAP_OR_NULL verb: None when upstream answered null."""
        return _or_none(await self._call(method, request, fields))
