# mypy: disable-error-code="misc,type-arg,no-untyped-def"
from google.protobuf import descriptor_pb2 as _descriptor_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class JsonShape(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OBJECT: _ClassVar[JsonShape]
    NULL: _ClassVar[JsonShape]
    TRUE: _ClassVar[JsonShape]
    UNWRAP: _ClassVar[JsonShape]
    NULLABLE: _ClassVar[JsonShape]
OBJECT: JsonShape
NULL: JsonShape
TRUE: JsonShape
UNWRAP: JsonShape
NULLABLE: JsonShape
VERB_FIELD_NUMBER: _ClassVar[int]
verb: _descriptor.FieldDescriptor
API_FIELD_NUMBER: _ClassVar[int]
api: _descriptor.FieldDescriptor
JSON_FIELD_NUMBER: _ClassVar[int]
json: _descriptor.FieldDescriptor
FIELD_FIELD_NUMBER: _ClassVar[int]
field: _descriptor.FieldDescriptor

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
    __slots__ = ("krpc", "auth", "session", "params", "result", "doc")
    KRPC_FIELD_NUMBER: _ClassVar[int]
    AUTH_FIELD_NUMBER: _ClassVar[int]
    SESSION_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    DOC_FIELD_NUMBER: _ClassVar[int]
    krpc: str
    auth: str
    session: SessionFlags
    params: JsonShape
    result: JsonShape
    doc: str
    def __init__(self, krpc: _Optional[str] = ..., auth: _Optional[str] = ..., session: _Optional[_Union[SessionFlags, _Mapping]] = ..., params: _Optional[_Union[JsonShape, str]] = ..., result: _Optional[_Union[JsonShape, str]] = ..., doc: _Optional[str] = ...) -> None: ...

class ApiOptions(_message.Message):
    __slots__ = ("name", "port", "noconcurrency", "derive_krpc_names", "default_auth")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PORT_FIELD_NUMBER: _ClassVar[int]
    NOCONCURRENCY_FIELD_NUMBER: _ClassVar[int]
    DERIVE_KRPC_NAMES_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_AUTH_FIELD_NUMBER: _ClassVar[int]
    name: str
    port: int
    noconcurrency: bool
    derive_krpc_names: bool
    default_auth: str
    def __init__(self, name: _Optional[str] = ..., port: _Optional[int] = ..., noconcurrency: _Optional[bool] = ..., derive_krpc_names: _Optional[bool] = ..., default_auth: _Optional[str] = ...) -> None: ...

class JsonFieldOptions(_message.Message):
    __slots__ = ("json", "null_when_unset")
    JSON_FIELD_NUMBER: _ClassVar[int]
    NULL_WHEN_UNSET_FIELD_NUMBER: _ClassVar[int]
    json: str
    null_when_unset: bool
    def __init__(self, json: _Optional[str] = ..., null_when_unset: _Optional[bool] = ...) -> None: ...

class FieldRules(_message.Message):
    __slots__ = ("required",)
    REQUIRED_FIELD_NUMBER: _ClassVar[int]
    required: bool
    def __init__(self, required: _Optional[bool] = ...) -> None: ...
