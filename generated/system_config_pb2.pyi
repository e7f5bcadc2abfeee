# mypy: disable-error-code="misc,type-arg,no-untyped-def"
from buckyos.generated import options_pb2 as _options_pb2
from google.protobuf import empty_pb2 as _empty_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class KeyRequest(_message.Message):
    __slots__ = ("key",)
    KEY_FIELD_NUMBER: _ClassVar[int]
    key: str
    def __init__(self, key: _Optional[str] = ...) -> None: ...

class GetResult(_message.Message):
    __slots__ = ("value", "version")
    VALUE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    value: str
    version: int
    def __init__(self, value: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class SetRequest(_message.Message):
    __slots__ = ("key", "value")
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    key: str
    value: str
    def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...

class AppendRequest(_message.Message):
    __slots__ = ("key", "append_value")
    KEY_FIELD_NUMBER: _ClassVar[int]
    APPEND_VALUE_FIELD_NUMBER: _ClassVar[int]
    key: str
    append_value: str
    def __init__(self, key: _Optional[str] = ..., append_value: _Optional[str] = ...) -> None: ...

class SetByJsonPathRequest(_message.Message):
    __slots__ = ("key", "json_path", "value")
    KEY_FIELD_NUMBER: _ClassVar[int]
    JSON_PATH_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    key: str
    json_path: str
    value: str
    def __init__(self, key: _Optional[str] = ..., json_path: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...

class ListResult(_message.Message):
    __slots__ = ("keys",)
    KEYS_FIELD_NUMBER: _ClassVar[int]
    keys: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, keys: _Optional[_Iterable[str]] = ...) -> None: ...

class TxAction(_message.Message):
    __slots__ = ("action", "value", "all_set")
    ACTION_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    ALL_SET_FIELD_NUMBER: _ClassVar[int]
    action: str
    value: str
    all_set: _struct_pb2.Struct
    def __init__(self, action: _Optional[str] = ..., value: _Optional[str] = ..., all_set: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class MainKey(_message.Message):
    __slots__ = ("key", "revision")
    KEY_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    key: str
    revision: int
    def __init__(self, key: _Optional[str] = ..., revision: _Optional[int] = ...) -> None: ...

class ExecTxRequest(_message.Message):
    __slots__ = ("actions", "main_key")
    class ActionsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: TxAction
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[TxAction, _Mapping]] = ...) -> None: ...
    ACTIONS_FIELD_NUMBER: _ClassVar[int]
    MAIN_KEY_FIELD_NUMBER: _ClassVar[int]
    actions: _containers.MessageMap[str, TxAction]
    main_key: MainKey
    def __init__(self, actions: _Optional[_Mapping[str, TxAction]] = ..., main_key: _Optional[_Union[MainKey, _Mapping]] = ...) -> None: ...

class DumpConfigsResult(_message.Message):
    __slots__ = ("configs",)
    class ConfigsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    CONFIGS_FIELD_NUMBER: _ClassVar[int]
    configs: _containers.ScalarMap[str, str]
    def __init__(self, configs: _Optional[_Mapping[str, str]] = ...) -> None: ...

class UnwatchRequest(_message.Message):
    __slots__ = ("event",)
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: str
    def __init__(self, event: _Optional[str] = ...) -> None: ...

class WatchResult(_message.Message):
    __slots__ = ("event", "key")
    EVENT_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    event: str
    key: str
    def __init__(self, event: _Optional[str] = ..., key: _Optional[str] = ...) -> None: ...
