# mypy: disable-error-code="misc,type-arg,no-untyped-def"
from buckyos.generated import options_pb2 as _options_pb2
from google.protobuf import empty_pb2 as _empty_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class QueueConfig(_message.Message):
    __slots__ = ("max_messages", "retention_seconds", "sync_write", "other_app_can_read", "other_app_can_write", "other_user_can_read", "other_user_can_write")
    MAX_MESSAGES_FIELD_NUMBER: _ClassVar[int]
    RETENTION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    SYNC_WRITE_FIELD_NUMBER: _ClassVar[int]
    OTHER_APP_CAN_READ_FIELD_NUMBER: _ClassVar[int]
    OTHER_APP_CAN_WRITE_FIELD_NUMBER: _ClassVar[int]
    OTHER_USER_CAN_READ_FIELD_NUMBER: _ClassVar[int]
    OTHER_USER_CAN_WRITE_FIELD_NUMBER: _ClassVar[int]
    max_messages: int
    retention_seconds: int
    sync_write: bool
    other_app_can_read: bool
    other_app_can_write: bool
    other_user_can_read: bool
    other_user_can_write: bool
    def __init__(self, max_messages: _Optional[int] = ..., retention_seconds: _Optional[int] = ..., sync_write: _Optional[bool] = ..., other_app_can_read: _Optional[bool] = ..., other_app_can_write: _Optional[bool] = ..., other_user_can_read: _Optional[bool] = ..., other_user_can_write: _Optional[bool] = ...) -> None: ...

class Message(_message.Message):
    __slots__ = ("index", "created_at", "payload", "headers")
    class HeadersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    INDEX_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    HEADERS_FIELD_NUMBER: _ClassVar[int]
    index: int
    created_at: int
    payload: bytes
    headers: _containers.ScalarMap[str, str]
    def __init__(self, index: _Optional[int] = ..., created_at: _Optional[int] = ..., payload: _Optional[bytes] = ..., headers: _Optional[_Mapping[str, str]] = ...) -> None: ...

class SubPosition(_message.Message):
    __slots__ = ("earliest", "latest", "at")
    EARLIEST_FIELD_NUMBER: _ClassVar[int]
    LATEST_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    earliest: _empty_pb2.Empty
    latest: _empty_pb2.Empty
    at: int
    def __init__(self, earliest: _Optional[_Union[_empty_pb2.Empty, _Mapping]] = ..., latest: _Optional[_Union[_empty_pb2.Empty, _Mapping]] = ..., at: _Optional[int] = ...) -> None: ...

class QueueStats(_message.Message):
    __slots__ = ("message_count", "first_index", "last_index", "size_bytes")
    MESSAGE_COUNT_FIELD_NUMBER: _ClassVar[int]
    FIRST_INDEX_FIELD_NUMBER: _ClassVar[int]
    LAST_INDEX_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    message_count: int
    first_index: int
    last_index: int
    size_bytes: int
    def __init__(self, message_count: _Optional[int] = ..., first_index: _Optional[int] = ..., last_index: _Optional[int] = ..., size_bytes: _Optional[int] = ...) -> None: ...

class CreateQueueRequest(_message.Message):
    __slots__ = ("name", "appid", "app_owner", "config")
    NAME_FIELD_NUMBER: _ClassVar[int]
    APPID_FIELD_NUMBER: _ClassVar[int]
    APP_OWNER_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    name: str
    appid: str
    app_owner: str
    config: QueueConfig
    def __init__(self, name: _Optional[str] = ..., appid: _Optional[str] = ..., app_owner: _Optional[str] = ..., config: _Optional[_Union[QueueConfig, _Mapping]] = ...) -> None: ...

class QueueUrn(_message.Message):
    __slots__ = ("queue_urn",)
    QUEUE_URN_FIELD_NUMBER: _ClassVar[int]
    queue_urn: str
    def __init__(self, queue_urn: _Optional[str] = ...) -> None: ...

class QueueUrnRequest(_message.Message):
    __slots__ = ("queue_urn",)
    QUEUE_URN_FIELD_NUMBER: _ClassVar[int]
    queue_urn: str
    def __init__(self, queue_urn: _Optional[str] = ...) -> None: ...

class UpdateQueueConfigRequest(_message.Message):
    __slots__ = ("queue_urn", "config")
    QUEUE_URN_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    queue_urn: str
    config: QueueConfig
    def __init__(self, queue_urn: _Optional[str] = ..., config: _Optional[_Union[QueueConfig, _Mapping]] = ...) -> None: ...

class PostMessageRequest(_message.Message):
    __slots__ = ("queue_urn", "message")
    QUEUE_URN_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    queue_urn: str
    message: Message
    def __init__(self, queue_urn: _Optional[str] = ..., message: _Optional[_Union[Message, _Mapping]] = ...) -> None: ...

class MsgIndex(_message.Message):
    __slots__ = ("index",)
    INDEX_FIELD_NUMBER: _ClassVar[int]
    index: int
    def __init__(self, index: _Optional[int] = ...) -> None: ...

class SubscribeRequest(_message.Message):
    __slots__ = ("queue_urn", "user_id", "app_id", "sub_id", "position")
    QUEUE_URN_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    APP_ID_FIELD_NUMBER: _ClassVar[int]
    SUB_ID_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    queue_urn: str
    user_id: str
    app_id: str
    sub_id: str
    position: SubPosition
    def __init__(self, queue_urn: _Optional[str] = ..., user_id: _Optional[str] = ..., app_id: _Optional[str] = ..., sub_id: _Optional[str] = ..., position: _Optional[_Union[SubPosition, _Mapping]] = ...) -> None: ...

class SubscriptionId(_message.Message):
    __slots__ = ("sub_id",)
    SUB_ID_FIELD_NUMBER: _ClassVar[int]
    sub_id: str
    def __init__(self, sub_id: _Optional[str] = ...) -> None: ...

class SubIdRequest(_message.Message):
    __slots__ = ("sub_id",)
    SUB_ID_FIELD_NUMBER: _ClassVar[int]
    sub_id: str
    def __init__(self, sub_id: _Optional[str] = ...) -> None: ...

class FetchMessagesRequest(_message.Message):
    __slots__ = ("sub_id", "length", "auto_commit")
    SUB_ID_FIELD_NUMBER: _ClassVar[int]
    LENGTH_FIELD_NUMBER: _ClassVar[int]
    AUTO_COMMIT_FIELD_NUMBER: _ClassVar[int]
    sub_id: str
    length: int
    auto_commit: bool
    def __init__(self, sub_id: _Optional[str] = ..., length: _Optional[int] = ..., auto_commit: _Optional[bool] = ...) -> None: ...

class ReadMessageRequest(_message.Message):
    __slots__ = ("queue_urn", "cursor", "length")
    QUEUE_URN_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    LENGTH_FIELD_NUMBER: _ClassVar[int]
    queue_urn: str
    cursor: int
    length: int
    def __init__(self, queue_urn: _Optional[str] = ..., cursor: _Optional[int] = ..., length: _Optional[int] = ...) -> None: ...

class MessageList(_message.Message):
    __slots__ = ("messages",)
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    messages: _containers.RepeatedCompositeFieldContainer[Message]
    def __init__(self, messages: _Optional[_Iterable[_Union[Message, _Mapping]]] = ...) -> None: ...

class CommitAckRequest(_message.Message):
    __slots__ = ("sub_id", "index")
    SUB_ID_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    sub_id: str
    index: int
    def __init__(self, sub_id: _Optional[str] = ..., index: _Optional[int] = ...) -> None: ...

class SeekRequest(_message.Message):
    __slots__ = ("sub_id", "index")
    SUB_ID_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    sub_id: str
    index: SubPosition
    def __init__(self, sub_id: _Optional[str] = ..., index: _Optional[_Union[SubPosition, _Mapping]] = ...) -> None: ...

class DeleteMessageBeforeRequest(_message.Message):
    __slots__ = ("queue_urn", "index")
    QUEUE_URN_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    queue_urn: str
    index: int
    def __init__(self, queue_urn: _Optional[str] = ..., index: _Optional[int] = ...) -> None: ...

class DeletedCount(_message.Message):
    __slots__ = ("count",)
    COUNT_FIELD_NUMBER: _ClassVar[int]
    count: int
    def __init__(self, count: _Optional[int] = ...) -> None: ...
