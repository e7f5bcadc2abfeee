# mypy: disable-error-code="misc,type-arg,no-untyped-def"
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class LinkFrame(_message.Message):
    __slots__ = ("call", "reply", "error", "event")
    CALL_FIELD_NUMBER: _ClassVar[int]
    REPLY_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    call: LinkCall
    reply: LinkReply
    error: LinkError
    event: LinkEvent
    def __init__(self, call: _Optional[_Union[LinkCall, _Mapping]] = ..., reply: _Optional[_Union[LinkReply, _Mapping]] = ..., error: _Optional[_Union[LinkError, _Mapping]] = ..., event: _Optional[_Union[LinkEvent, _Mapping]] = ...) -> None: ...

class LinkCall(_message.Message):
    __slots__ = ("id", "api_verb", "args", "token")
    ID_FIELD_NUMBER: _ClassVar[int]
    API_VERB_FIELD_NUMBER: _ClassVar[int]
    ARGS_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    id: str
    api_verb: str
    args: str
    token: str
    def __init__(self, id: _Optional[str] = ..., api_verb: _Optional[str] = ..., args: _Optional[str] = ..., token: _Optional[str] = ...) -> None: ...

class LinkReply(_message.Message):
    __slots__ = ("id", "result")
    ID_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    id: str
    result: str
    def __init__(self, id: _Optional[str] = ..., result: _Optional[str] = ...) -> None: ...

class LinkError(_message.Message):
    __slots__ = ("id", "text")
    ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    id: str
    text: str
    def __init__(self, id: _Optional[str] = ..., text: _Optional[str] = ...) -> None: ...

class LinkEvent(_message.Message):
    __slots__ = ("event", "data")
    EVENT_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    event: str
    data: str
    def __init__(self, event: _Optional[str] = ..., data: _Optional[str] = ...) -> None: ...
