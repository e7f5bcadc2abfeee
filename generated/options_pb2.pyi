# mypy: disable-error-code="misc,type-arg,no-untyped-def"
from google.protobuf import descriptor_pb2 as _descriptor_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class JsonShape(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OBJECT: _ClassVar[JsonShape]
    NULL: _ClassVar[JsonShape]
    TRUE: _ClassVar[JsonShape]
    UNWRAP: _ClassVar[JsonShape]
    NULLABLE: _ClassVar[JsonShape]
    ENVELOPE: _ClassVar[JsonShape]
    UNWRAP_OR_NULL: _ClassVar[JsonShape]

class ErrorKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REASON: _ClassVar[ErrorKind]
    NO_PERMISSION: _ClassVar[ErrorKind]

class NameCase(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    NAME_CASE_DEFAULT: _ClassVar[NameCase]
    AS_WRITTEN: _ClassVar[NameCase]
    PASCAL_CASE: _ClassVar[NameCase]
    SNAKE_CASE: _ClassVar[NameCase]
OBJECT: JsonShape
NULL: JsonShape
TRUE: JsonShape
UNWRAP: JsonShape
NULLABLE: JsonShape
ENVELOPE: JsonShape
UNWRAP_OR_NULL: JsonShape
REASON: ErrorKind
NO_PERMISSION: ErrorKind
NAME_CASE_DEFAULT: NameCase
AS_WRITTEN: NameCase
PASCAL_CASE: NameCase
SNAKE_CASE: NameCase
VERB_FIELD_NUMBER: _ClassVar[int]
verb: _descriptor.FieldDescriptor
API_FIELD_NUMBER: _ClassVar[int]
api: _descriptor.FieldDescriptor
JSON_FIELD_NUMBER: _ClassVar[int]
json: _descriptor.FieldDescriptor
FIELD_FIELD_NUMBER: _ClassVar[int]
field: _descriptor.FieldDescriptor
TAGGED_FIELD_NUMBER: _ClassVar[int]
tagged: _descriptor.FieldDescriptor
ENUM_JSON_FIELD_NUMBER: _ClassVar[int]
enum_json: _descriptor.FieldDescriptor
VALUE_FIELD_NUMBER: _ClassVar[int]
value: _descriptor.FieldDescriptor

class SessionFlags(_message.Message):
    __slots__ = ("check", "close", "refresh", "loa")
    CHECK_FIELD_NUMBER: _ClassVar[int]
    CLOSE_FIELD_NUMBER: _ClassVar[int]
    REFRESH_FIELD_NUMBER: _ClassVar[int]
    LOA_FIELD_NUMBER: _ClassVar[int]
    check: bool
    close: bool
    refresh: bool
    loa: int
    def __init__(self, check: _Optional[bool] = ..., close: _Optional[bool] = ..., refresh: _Optional[bool] = ..., loa: _Optional[int] = ...) -> None: ...

class VerbOptions(_message.Message):
    __slots__ = ("krpc", "auth", "session", "params", "result", "doc", "aliases")
    KRPC_FIELD_NUMBER: _ClassVar[int]
    AUTH_FIELD_NUMBER: _ClassVar[int]
    SESSION_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    DOC_FIELD_NUMBER: _ClassVar[int]
    ALIASES_FIELD_NUMBER: _ClassVar[int]
    krpc: str
    auth: str
    session: SessionFlags
    params: JsonShape
    result: JsonShape
    doc: str
    aliases: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, krpc: _Optional[str] = ..., auth: _Optional[str] = ..., session: _Optional[_Union[SessionFlags, _Mapping]] = ..., params: _Optional[_Union[JsonShape, str]] = ..., result: _Optional[_Union[JsonShape, str]] = ..., doc: _Optional[str] = ..., aliases: _Optional[_Iterable[str]] = ...) -> None: ...

class ApiOptions(_message.Message):
    __slots__ = ("name", "port", "noconcurrency", "derive_krpc_names", "default_auth", "errors", "aliases")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PORT_FIELD_NUMBER: _ClassVar[int]
    NOCONCURRENCY_FIELD_NUMBER: _ClassVar[int]
    DERIVE_KRPC_NAMES_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_AUTH_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    ALIASES_FIELD_NUMBER: _ClassVar[int]
    name: str
    port: int
    noconcurrency: bool
    derive_krpc_names: bool
    default_auth: str
    errors: _containers.RepeatedCompositeFieldContainer[ErrorCode]
    aliases: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., port: _Optional[int] = ..., noconcurrency: _Optional[bool] = ..., derive_krpc_names: _Optional[bool] = ..., default_auth: _Optional[str] = ..., errors: _Optional[_Iterable[_Union[ErrorCode, _Mapping]]] = ..., aliases: _Optional[_Iterable[str]] = ...) -> None: ...

class ErrorCode(_message.Message):
    __slots__ = ("code", "kind", "name", "doc")
    CODE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DOC_FIELD_NUMBER: _ClassVar[int]
    code: str
    kind: ErrorKind
    name: str
    doc: str
    def __init__(self, code: _Optional[str] = ..., kind: _Optional[_Union[ErrorKind, str]] = ..., name: _Optional[str] = ..., doc: _Optional[str] = ...) -> None: ...

class TaggedOneof(_message.Message):
    __slots__ = ("tag", "content", "external", "rename_all")
    TAG_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_FIELD_NUMBER: _ClassVar[int]
    RENAME_ALL_FIELD_NUMBER: _ClassVar[int]
    tag: str
    content: str
    external: bool
    rename_all: NameCase
    def __init__(self, tag: _Optional[str] = ..., content: _Optional[str] = ..., external: _Optional[bool] = ..., rename_all: _Optional[_Union[NameCase, str]] = ...) -> None: ...

class EnumJson(_message.Message):
    __slots__ = ("strip_prefix", "rename_all")
    STRIP_PREFIX_FIELD_NUMBER: _ClassVar[int]
    RENAME_ALL_FIELD_NUMBER: _ClassVar[int]
    strip_prefix: bool
    rename_all: NameCase
    def __init__(self, strip_prefix: _Optional[bool] = ..., rename_all: _Optional[_Union[NameCase, str]] = ...) -> None: ...

class EnumValueJson(_message.Message):
    __slots__ = ("json",)
    JSON_FIELD_NUMBER: _ClassVar[int]
    json: str
    def __init__(self, json: _Optional[str] = ...) -> None: ...

class JsonFieldOptions(_message.Message):
    __slots__ = ("json", "null_when_unset", "flatten", "bytes_as_array", "omit_empty")
    JSON_FIELD_NUMBER: _ClassVar[int]
    NULL_WHEN_UNSET_FIELD_NUMBER: _ClassVar[int]
    FLATTEN_FIELD_NUMBER: _ClassVar[int]
    BYTES_AS_ARRAY_FIELD_NUMBER: _ClassVar[int]
    OMIT_EMPTY_FIELD_NUMBER: _ClassVar[int]
    json: str
    null_when_unset: bool
    flatten: bool
    bytes_as_array: bool
    omit_empty: bool
    def __init__(self, json: _Optional[str] = ..., null_when_unset: _Optional[bool] = ..., flatten: _Optional[bool] = ..., bytes_as_array: _Optional[bool] = ..., omit_empty: _Optional[bool] = ...) -> None: ...

class FieldRules(_message.Message):
    __slots__ = ("required", "default")
    REQUIRED_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_FIELD_NUMBER: _ClassVar[int]
    required: bool
    default: bool
    def __init__(self, required: _Optional[bool] = ..., default: _Optional[bool] = ...) -> None: ...
