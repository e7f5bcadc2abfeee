# mypy: disable-error-code="misc,type-arg,no-untyped-def"
from buckyos.generated import options_pb2 as _options_pb2
from google.protobuf import empty_pb2 as _empty_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Color(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    COLOR_UNSPECIFIED: _ClassVar[Color]
    RED: _ClassVar[Color]
    GREEN: _ClassVar[Color]
COLOR_UNSPECIFIED: Color
RED: Color
GREEN: Color

class EchoRequest(_message.Message):
    __slots__ = ("owner", "name", "note", "count")
    OWNER_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    owner: str
    name: str
    note: str
    count: int
    def __init__(self, owner: _Optional[str] = ..., name: _Optional[str] = ..., note: _Optional[str] = ..., count: _Optional[int] = ...) -> None: ...

class EchoResult(_message.Message):
    __slots__ = ("text", "kind", "maybe")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    MAYBE_FIELD_NUMBER: _ClassVar[int]
    text: str
    kind: str
    maybe: str
    def __init__(self, text: _Optional[str] = ..., kind: _Optional[str] = ..., maybe: _Optional[str] = ...) -> None: ...

class NameParam(_message.Message):
    __slots__ = ("prefix",)
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    prefix: str
    def __init__(self, prefix: _Optional[str] = ...) -> None: ...

class NameList(_message.Message):
    __slots__ = ("names",)
    NAMES_FIELD_NUMBER: _ClassVar[int]
    names: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, names: _Optional[_Iterable[str]] = ...) -> None: ...

class Found(_message.Message):
    __slots__ = ("value", "version")
    VALUE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    value: str
    version: int
    def __init__(self, value: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class Inner(_message.Message):
    __slots__ = ("label", "numbers")
    LABEL_FIELD_NUMBER: _ClassVar[int]
    NUMBERS_FIELD_NUMBER: _ClassVar[int]
    label: str
    numbers: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, label: _Optional[str] = ..., numbers: _Optional[_Iterable[int]] = ...) -> None: ...

class AllTypes(_message.Message):
    __slots__ = ("s", "b", "flag", "i32", "i64", "u32", "u64", "d", "f", "color", "inner", "inners", "tags", "labels", "by_name", "by_number", "extra", "any", "maybe_number")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class ByNameEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: Inner
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[Inner, _Mapping]] = ...) -> None: ...
    class ByNumberEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: int
        value: str
        def __init__(self, key: _Optional[int] = ..., value: _Optional[str] = ...) -> None: ...
    S_FIELD_NUMBER: _ClassVar[int]
    B_FIELD_NUMBER: _ClassVar[int]
    FLAG_FIELD_NUMBER: _ClassVar[int]
    I32_FIELD_NUMBER: _ClassVar[int]
    I64_FIELD_NUMBER: _ClassVar[int]
    U32_FIELD_NUMBER: _ClassVar[int]
    U64_FIELD_NUMBER: _ClassVar[int]
    D_FIELD_NUMBER: _ClassVar[int]
    F_FIELD_NUMBER: _ClassVar[int]
    COLOR_FIELD_NUMBER: _ClassVar[int]
    INNER_FIELD_NUMBER: _ClassVar[int]
    INNERS_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    BY_NAME_FIELD_NUMBER: _ClassVar[int]
    BY_NUMBER_FIELD_NUMBER: _ClassVar[int]
    EXTRA_FIELD_NUMBER: _ClassVar[int]
    ANY_FIELD_NUMBER: _ClassVar[int]
    MAYBE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    FROM_FIELD_NUMBER: _ClassVar[int]
    s: str
    b: bytes
    flag: bool
    i32: int
    i64: int
    u32: int
    u64: int
    d: float
    f: float
    color: Color
    inner: Inner
    inners: _containers.RepeatedCompositeFieldContainer[Inner]
    tags: _containers.RepeatedScalarFieldContainer[str]
    labels: _containers.ScalarMap[str, str]
    by_name: _containers.MessageMap[str, Inner]
    by_number: _containers.ScalarMap[int, str]
    extra: _struct_pb2.Struct
    any: _struct_pb2.Value
    maybe_number: int
    def __init__(self, s: _Optional[str] = ..., b: _Optional[bytes] = ..., flag: _Optional[bool] = ..., i32: _Optional[int] = ..., i64: _Optional[int] = ..., u32: _Optional[int] = ..., u64: _Optional[int] = ..., d: _Optional[float] = ..., f: _Optional[float] = ..., color: _Optional[_Union[Color, str]] = ..., inner: _Optional[_Union[Inner, _Mapping]] = ..., inners: _Optional[_Iterable[_Union[Inner, _Mapping]]] = ..., tags: _Optional[_Iterable[str]] = ..., labels: _Optional[_Mapping[str, str]] = ..., by_name: _Optional[_Mapping[str, Inner]] = ..., by_number: _Optional[_Mapping[int, str]] = ..., extra: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., any: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., maybe_number: _Optional[int] = ..., **kwargs) -> None: ...
