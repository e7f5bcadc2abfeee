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

class MailboxKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MAILBOX_KIND_UNSPECIFIED: _ClassVar[MailboxKind]
    MAILBOX_KIND_INBOX: _ClassVar[MailboxKind]
    MAILBOX_KIND_SENT: _ClassVar[MailboxKind]
    MAILBOX_KIND_GROUP_INBOX: _ClassVar[MailboxKind]
    MAILBOX_KIND_REQUEST_BOX: _ClassVar[MailboxKind]

class RecipientState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RECIPIENT_STATE_UNSPECIFIED: _ClassVar[RecipientState]
    RECIPIENT_STATE_UNREAD: _ClassVar[RecipientState]
    RECIPIENT_STATE_READING: _ClassVar[RecipientState]
    RECIPIENT_STATE_READ: _ClassVar[RecipientState]
    RECIPIENT_STATE_ARCHIVED: _ClassVar[RecipientState]
    RECIPIENT_STATE_DELETED: _ClassVar[RecipientState]

class DeliveryState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DELIVERY_STATE_UNSPECIFIED: _ClassVar[DeliveryState]
    DELIVERY_STATE_WAIT: _ClassVar[DeliveryState]
    DELIVERY_STATE_SENDING: _ClassVar[DeliveryState]
    DELIVERY_STATE_SENT: _ClassVar[DeliveryState]
    DELIVERY_STATE_FAILED: _ClassVar[DeliveryState]
    DELIVERY_STATE_DEAD: _ClassVar[DeliveryState]

class ReadReceiptState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    READ_RECEIPT_STATE_UNSPECIFIED: _ClassVar[ReadReceiptState]
    READ_RECEIPT_STATE_UNREAD: _ClassVar[ReadReceiptState]
    READ_RECEIPT_STATE_READING: _ClassVar[ReadReceiptState]
    READ_RECEIPT_STATE_READED: _ClassVar[ReadReceiptState]
    READ_RECEIPT_STATE_ACCEPTED: _ClassVar[ReadReceiptState]
    READ_RECEIPT_STATE_REJECTED: _ClassVar[ReadReceiptState]
    READ_RECEIPT_STATE_QUARANTINED: _ClassVar[ReadReceiptState]

class MsgObjKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MSG_OBJ_KIND_UNSPECIFIED: _ClassVar[MsgObjKind]
    MSG_OBJ_KIND_CHAT: _ClassVar[MsgObjKind]
    MSG_OBJ_KIND_GROUP_MSG: _ClassVar[MsgObjKind]
    MSG_OBJ_KIND_DELIVER: _ClassVar[MsgObjKind]
    MSG_OBJ_KIND_NOTIFY: _ClassVar[MsgObjKind]
    MSG_OBJ_KIND_EVENT: _ClassVar[MsgObjKind]
    MSG_OBJ_KIND_OPERATION: _ClassVar[MsgObjKind]

class ContactSource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONTACT_SOURCE_UNSPECIFIED: _ClassVar[ContactSource]
    CONTACT_SOURCE_MANUAL_IMPORT: _ClassVar[ContactSource]
    CONTACT_SOURCE_MANUAL_CREATE: _ClassVar[ContactSource]
    CONTACT_SOURCE_AUTO_INFERRED: _ClassVar[ContactSource]
    CONTACT_SOURCE_SHARED: _ClassVar[ContactSource]

class AccessGroupLevel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACCESS_GROUP_LEVEL_UNSPECIFIED: _ClassVar[AccessGroupLevel]
    ACCESS_GROUP_LEVEL_BLOCK: _ClassVar[AccessGroupLevel]
    ACCESS_GROUP_LEVEL_STRANGER: _ClassVar[AccessGroupLevel]
    ACCESS_GROUP_LEVEL_TEMPORARY: _ClassVar[AccessGroupLevel]
    ACCESS_GROUP_LEVEL_FRIEND: _ClassVar[AccessGroupLevel]

class SessionMessageDirection(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SESSION_MESSAGE_DIRECTION_UNSPECIFIED: _ClassVar[SessionMessageDirection]
    SESSION_MESSAGE_DIRECTION_IN: _ClassVar[SessionMessageDirection]
    SESSION_MESSAGE_DIRECTION_OUT: _ClassVar[SessionMessageDirection]

class SessionDeliveryOverall(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SESSION_DELIVERY_OVERALL_UNSPECIFIED: _ClassVar[SessionDeliveryOverall]
    SESSION_DELIVERY_OVERALL_SENDING: _ClassVar[SessionDeliveryOverall]
    SESSION_DELIVERY_OVERALL_DELIVERED: _ClassVar[SessionDeliveryOverall]
    SESSION_DELIVERY_OVERALL_PARTIAL_FAILED: _ClassVar[SessionDeliveryOverall]
    SESSION_DELIVERY_OVERALL_FAILED: _ClassVar[SessionDeliveryOverall]
MAILBOX_KIND_UNSPECIFIED: MailboxKind
MAILBOX_KIND_INBOX: MailboxKind
MAILBOX_KIND_SENT: MailboxKind
MAILBOX_KIND_GROUP_INBOX: MailboxKind
MAILBOX_KIND_REQUEST_BOX: MailboxKind
RECIPIENT_STATE_UNSPECIFIED: RecipientState
RECIPIENT_STATE_UNREAD: RecipientState
RECIPIENT_STATE_READING: RecipientState
RECIPIENT_STATE_READ: RecipientState
RECIPIENT_STATE_ARCHIVED: RecipientState
RECIPIENT_STATE_DELETED: RecipientState
DELIVERY_STATE_UNSPECIFIED: DeliveryState
DELIVERY_STATE_WAIT: DeliveryState
DELIVERY_STATE_SENDING: DeliveryState
DELIVERY_STATE_SENT: DeliveryState
DELIVERY_STATE_FAILED: DeliveryState
DELIVERY_STATE_DEAD: DeliveryState
READ_RECEIPT_STATE_UNSPECIFIED: ReadReceiptState
READ_RECEIPT_STATE_UNREAD: ReadReceiptState
READ_RECEIPT_STATE_READING: ReadReceiptState
READ_RECEIPT_STATE_READED: ReadReceiptState
READ_RECEIPT_STATE_ACCEPTED: ReadReceiptState
READ_RECEIPT_STATE_REJECTED: ReadReceiptState
READ_RECEIPT_STATE_QUARANTINED: ReadReceiptState
MSG_OBJ_KIND_UNSPECIFIED: MsgObjKind
MSG_OBJ_KIND_CHAT: MsgObjKind
MSG_OBJ_KIND_GROUP_MSG: MsgObjKind
MSG_OBJ_KIND_DELIVER: MsgObjKind
MSG_OBJ_KIND_NOTIFY: MsgObjKind
MSG_OBJ_KIND_EVENT: MsgObjKind
MSG_OBJ_KIND_OPERATION: MsgObjKind
CONTACT_SOURCE_UNSPECIFIED: ContactSource
CONTACT_SOURCE_MANUAL_IMPORT: ContactSource
CONTACT_SOURCE_MANUAL_CREATE: ContactSource
CONTACT_SOURCE_AUTO_INFERRED: ContactSource
CONTACT_SOURCE_SHARED: ContactSource
ACCESS_GROUP_LEVEL_UNSPECIFIED: AccessGroupLevel
ACCESS_GROUP_LEVEL_BLOCK: AccessGroupLevel
ACCESS_GROUP_LEVEL_STRANGER: AccessGroupLevel
ACCESS_GROUP_LEVEL_TEMPORARY: AccessGroupLevel
ACCESS_GROUP_LEVEL_FRIEND: AccessGroupLevel
SESSION_MESSAGE_DIRECTION_UNSPECIFIED: SessionMessageDirection
SESSION_MESSAGE_DIRECTION_IN: SessionMessageDirection
SESSION_MESSAGE_DIRECTION_OUT: SessionMessageDirection
SESSION_DELIVERY_OVERALL_UNSPECIFIED: SessionDeliveryOverall
SESSION_DELIVERY_OVERALL_SENDING: SessionDeliveryOverall
SESSION_DELIVERY_OVERALL_DELIVERED: SessionDeliveryOverall
SESSION_DELIVERY_OVERALL_PARTIAL_FAILED: SessionDeliveryOverall
SESSION_DELIVERY_OVERALL_FAILED: SessionDeliveryOverall

class TransportKind(_message.Message):
    __slots__ = ("native", "tunnel")
    NATIVE_FIELD_NUMBER: _ClassVar[int]
    TUNNEL_FIELD_NUMBER: _ClassVar[int]
    native: _empty_pb2.Empty
    tunnel: TunnelTransport
    def __init__(self, native: _Optional[_Union[_empty_pb2.Empty, _Mapping]] = ..., tunnel: _Optional[_Union[TunnelTransport, _Mapping]] = ...) -> None: ...

class TunnelTransport(_message.Message):
    __slots__ = ("platform", "tunnel_instance_id")
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    TUNNEL_INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    platform: str
    tunnel_instance_id: str
    def __init__(self, platform: _Optional[str] = ..., tunnel_instance_id: _Optional[str] = ...) -> None: ...

class IngressContext(_message.Message):
    __slots__ = ("transport_did", "platform", "chat_id", "source_account_id", "context_id", "contact_mgr_owner", "extra")
    TRANSPORT_DID_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    CHAT_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_ID_FIELD_NUMBER: _ClassVar[int]
    CONTACT_MGR_OWNER_FIELD_NUMBER: _ClassVar[int]
    EXTRA_FIELD_NUMBER: _ClassVar[int]
    transport_did: str
    platform: str
    chat_id: str
    source_account_id: str
    context_id: str
    contact_mgr_owner: str
    extra: _struct_pb2.Value
    def __init__(self, transport_did: _Optional[str] = ..., platform: _Optional[str] = ..., chat_id: _Optional[str] = ..., source_account_id: _Optional[str] = ..., context_id: _Optional[str] = ..., contact_mgr_owner: _Optional[str] = ..., extra: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ...) -> None: ...

class MailboxRecord(_message.Message):
    __slots__ = ("record_id", "owner", "box_kind", "msg_id", "msg_kind", "state", "from_name", "to", "session_id", "sort_key", "tags", "ingress", "created_at_ms", "updated_at_ms")
    RECORD_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    BOX_KIND_FIELD_NUMBER: _ClassVar[int]
    MSG_ID_FIELD_NUMBER: _ClassVar[int]
    MSG_KIND_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    FROM_FIELD_NUMBER: _ClassVar[int]
    FROM_NAME_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    SORT_KEY_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    INGRESS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    record_id: str
    owner: str
    box_kind: MailboxKind
    msg_id: str
    msg_kind: MsgObjKind
    state: RecipientState
    from_name: str
    to: str
    session_id: str
    sort_key: int
    tags: _containers.RepeatedScalarFieldContainer[str]
    ingress: IngressContext
    created_at_ms: int
    updated_at_ms: int
    def __init__(self, record_id: _Optional[str] = ..., owner: _Optional[str] = ..., box_kind: _Optional[_Union[MailboxKind, str]] = ..., msg_id: _Optional[str] = ..., msg_kind: _Optional[_Union[MsgObjKind, str]] = ..., state: _Optional[_Union[RecipientState, str]] = ..., from_name: _Optional[str] = ..., to: _Optional[str] = ..., session_id: _Optional[str] = ..., sort_key: _Optional[int] = ..., tags: _Optional[_Iterable[str]] = ..., ingress: _Optional[_Union[IngressContext, _Mapping]] = ..., created_at_ms: _Optional[int] = ..., updated_at_ms: _Optional[int] = ..., **kwargs) -> None: ...

class MailboxRecordWithObject(_message.Message):
    __slots__ = ("record", "msg")
    RECORD_FIELD_NUMBER: _ClassVar[int]
    MSG_FIELD_NUMBER: _ClassVar[int]
    record: MailboxRecord
    msg: _struct_pb2.Struct
    def __init__(self, record: _Optional[_Union[MailboxRecord, _Mapping]] = ..., msg: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class MaybeMailboxRecord(_message.Message):
    __slots__ = ("record",)
    RECORD_FIELD_NUMBER: _ClassVar[int]
    record: MailboxRecordWithObject
    def __init__(self, record: _Optional[_Union[MailboxRecordWithObject, _Mapping]] = ...) -> None: ...

class MailboxRecordList(_message.Message):
    __slots__ = ("records",)
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    records: _containers.RepeatedCompositeFieldContainer[MailboxRecordWithObject]
    def __init__(self, records: _Optional[_Iterable[_Union[MailboxRecordWithObject, _Mapping]]] = ...) -> None: ...

class MailboxRecordPage(_message.Message):
    __slots__ = ("items", "next_cursor_sort_key", "next_cursor_record_id")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_SORT_KEY_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_RECORD_ID_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[MailboxRecordWithObject]
    next_cursor_sort_key: int
    next_cursor_record_id: str
    def __init__(self, items: _Optional[_Iterable[_Union[MailboxRecordWithObject, _Mapping]]] = ..., next_cursor_sort_key: _Optional[int] = ..., next_cursor_record_id: _Optional[str] = ...) -> None: ...

class DeliverySnapshot(_message.Message):
    __slots__ = ("platform", "account_id", "account_type", "chat_id", "address", "ext_ids", "extra")
    class ExtIdsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_TYPE_FIELD_NUMBER: _ClassVar[int]
    CHAT_ID_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    EXT_IDS_FIELD_NUMBER: _ClassVar[int]
    EXTRA_FIELD_NUMBER: _ClassVar[int]
    platform: str
    account_id: str
    account_type: str
    chat_id: str
    address: str
    ext_ids: _containers.ScalarMap[str, str]
    extra: _struct_pb2.Value
    def __init__(self, platform: _Optional[str] = ..., account_id: _Optional[str] = ..., account_type: _Optional[str] = ..., chat_id: _Optional[str] = ..., address: _Optional[str] = ..., ext_ids: _Optional[_Mapping[str, str]] = ..., extra: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ...) -> None: ...

class DeliveryEnvelope(_message.Message):
    __slots__ = ("msg_id", "target_did", "transport_did", "transport", "address")
    MSG_ID_FIELD_NUMBER: _ClassVar[int]
    TARGET_DID_FIELD_NUMBER: _ClassVar[int]
    TRANSPORT_DID_FIELD_NUMBER: _ClassVar[int]
    TRANSPORT_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    msg_id: str
    target_did: str
    transport_did: str
    transport: TransportKind
    address: DeliverySnapshot
    def __init__(self, msg_id: _Optional[str] = ..., target_did: _Optional[str] = ..., transport_did: _Optional[str] = ..., transport: _Optional[_Union[TransportKind, _Mapping]] = ..., address: _Optional[_Union[DeliverySnapshot, _Mapping]] = ...) -> None: ...

class DeliveryError(_message.Message):
    __slots__ = ("error_code", "message", "retryable", "duplicate_risk")
    ERROR_CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    RETRYABLE_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_RISK_FIELD_NUMBER: _ClassVar[int]
    error_code: str
    message: str
    retryable: bool
    duplicate_risk: bool
    def __init__(self, error_code: _Optional[str] = ..., message: _Optional[str] = ..., retryable: _Optional[bool] = ..., duplicate_risk: _Optional[bool] = ...) -> None: ...

class DeliveryRecord(_message.Message):
    __slots__ = ("delivery_id", "envelope", "state", "attempts", "next_retry_at_ms", "external_msg_id", "delivered_at_ms", "last_error", "created_at_ms", "updated_at_ms")
    DELIVERY_ID_FIELD_NUMBER: _ClassVar[int]
    ENVELOPE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_RETRY_AT_MS_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_MSG_ID_FIELD_NUMBER: _ClassVar[int]
    DELIVERED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    delivery_id: str
    envelope: DeliveryEnvelope
    state: DeliveryState
    attempts: int
    next_retry_at_ms: int
    external_msg_id: str
    delivered_at_ms: int
    last_error: DeliveryError
    created_at_ms: int
    updated_at_ms: int
    def __init__(self, delivery_id: _Optional[str] = ..., envelope: _Optional[_Union[DeliveryEnvelope, _Mapping]] = ..., state: _Optional[_Union[DeliveryState, str]] = ..., attempts: _Optional[int] = ..., next_retry_at_ms: _Optional[int] = ..., external_msg_id: _Optional[str] = ..., delivered_at_ms: _Optional[int] = ..., last_error: _Optional[_Union[DeliveryError, _Mapping]] = ..., created_at_ms: _Optional[int] = ..., updated_at_ms: _Optional[int] = ...) -> None: ...

class DeliveryRecordWithObject(_message.Message):
    __slots__ = ("record", "msg")
    RECORD_FIELD_NUMBER: _ClassVar[int]
    MSG_FIELD_NUMBER: _ClassVar[int]
    record: DeliveryRecord
    msg: _struct_pb2.Struct
    def __init__(self, record: _Optional[_Union[DeliveryRecord, _Mapping]] = ..., msg: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class MaybeDeliveryRecord(_message.Message):
    __slots__ = ("record",)
    RECORD_FIELD_NUMBER: _ClassVar[int]
    record: DeliveryRecordWithObject
    def __init__(self, record: _Optional[_Union[DeliveryRecordWithObject, _Mapping]] = ...) -> None: ...

class SessionSummary(_message.Message):
    __slots__ = ("session_id", "last_record", "unread_count", "updated_at_ms")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    LAST_RECORD_FIELD_NUMBER: _ClassVar[int]
    UNREAD_COUNT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    last_record: MailboxRecordWithObject
    unread_count: int
    updated_at_ms: int
    def __init__(self, session_id: _Optional[str] = ..., last_record: _Optional[_Union[MailboxRecordWithObject, _Mapping]] = ..., unread_count: _Optional[int] = ..., updated_at_ms: _Optional[int] = ...) -> None: ...

class SessionSummaryPage(_message.Message):
    __slots__ = ("items", "next_cursor_updated_at_ms", "next_cursor_session_id")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_UPDATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[SessionSummary]
    next_cursor_updated_at_ms: int
    next_cursor_session_id: str
    def __init__(self, items: _Optional[_Iterable[_Union[SessionSummary, _Mapping]]] = ..., next_cursor_updated_at_ms: _Optional[int] = ..., next_cursor_session_id: _Optional[str] = ...) -> None: ...

class SessionDeliveryTarget(_message.Message):
    __slots__ = ("target_did", "state", "attempts", "external_msg_id", "last_error")
    TARGET_DID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_MSG_ID_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    target_did: str
    state: DeliveryState
    attempts: int
    external_msg_id: str
    last_error: DeliveryError
    def __init__(self, target_did: _Optional[str] = ..., state: _Optional[_Union[DeliveryState, str]] = ..., attempts: _Optional[int] = ..., external_msg_id: _Optional[str] = ..., last_error: _Optional[_Union[DeliveryError, _Mapping]] = ...) -> None: ...

class SessionDeliveryView(_message.Message):
    __slots__ = ("overall", "per_target")
    OVERALL_FIELD_NUMBER: _ClassVar[int]
    PER_TARGET_FIELD_NUMBER: _ClassVar[int]
    overall: SessionDeliveryOverall
    per_target: _containers.RepeatedCompositeFieldContainer[SessionDeliveryTarget]
    def __init__(self, overall: _Optional[_Union[SessionDeliveryOverall, str]] = ..., per_target: _Optional[_Iterable[_Union[SessionDeliveryTarget, _Mapping]]] = ...) -> None: ...

class SessionMessageItem(_message.Message):
    __slots__ = ("record_id", "msg_id", "direction", "box_kind", "sort_key", "to", "recipient_state", "delivery", "msg")
    RECORD_ID_FIELD_NUMBER: _ClassVar[int]
    MSG_ID_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    BOX_KIND_FIELD_NUMBER: _ClassVar[int]
    SORT_KEY_FIELD_NUMBER: _ClassVar[int]
    FROM_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    RECIPIENT_STATE_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_FIELD_NUMBER: _ClassVar[int]
    MSG_FIELD_NUMBER: _ClassVar[int]
    record_id: str
    msg_id: str
    direction: SessionMessageDirection
    box_kind: MailboxKind
    sort_key: int
    to: str
    recipient_state: RecipientState
    delivery: SessionDeliveryView
    msg: _struct_pb2.Struct
    def __init__(self, record_id: _Optional[str] = ..., msg_id: _Optional[str] = ..., direction: _Optional[_Union[SessionMessageDirection, str]] = ..., box_kind: _Optional[_Union[MailboxKind, str]] = ..., sort_key: _Optional[int] = ..., to: _Optional[str] = ..., recipient_state: _Optional[_Union[RecipientState, str]] = ..., delivery: _Optional[_Union[SessionDeliveryView, _Mapping]] = ..., msg: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., **kwargs) -> None: ...

class SessionMessagePage(_message.Message):
    __slots__ = ("items", "next_cursor_sort_key", "next_cursor_record_id")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_SORT_KEY_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_RECORD_ID_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[SessionMessageItem]
    next_cursor_sort_key: int
    next_cursor_record_id: str
    def __init__(self, items: _Optional[_Iterable[_Union[SessionMessageItem, _Mapping]]] = ..., next_cursor_sort_key: _Optional[int] = ..., next_cursor_record_id: _Optional[str] = ...) -> None: ...

class MsgReceiptObj(_message.Message):
    __slots__ = ("msg_id", "iss", "reader", "group_id", "at_ms", "status", "reason")
    MSG_ID_FIELD_NUMBER: _ClassVar[int]
    ISS_FIELD_NUMBER: _ClassVar[int]
    READER_FIELD_NUMBER: _ClassVar[int]
    GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    AT_MS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    msg_id: str
    iss: str
    reader: str
    group_id: str
    at_ms: int
    status: ReadReceiptState
    reason: str
    def __init__(self, msg_id: _Optional[str] = ..., iss: _Optional[str] = ..., reader: _Optional[str] = ..., group_id: _Optional[str] = ..., at_ms: _Optional[int] = ..., status: _Optional[_Union[ReadReceiptState, str]] = ..., reason: _Optional[str] = ...) -> None: ...

class MsgReceiptList(_message.Message):
    __slots__ = ("receipts",)
    RECEIPTS_FIELD_NUMBER: _ClassVar[int]
    receipts: _containers.RepeatedCompositeFieldContainer[MsgReceiptObj]
    def __init__(self, receipts: _Optional[_Iterable[_Union[MsgReceiptObj, _Mapping]]] = ...) -> None: ...

class MsgObjectResult(_message.Message):
    __slots__ = ("msg",)
    MSG_FIELD_NUMBER: _ClassVar[int]
    msg: _struct_pb2.Struct
    def __init__(self, msg: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class UiSessionStateEntry(_message.Message):
    __slots__ = ("session_id", "key", "value", "updated_at_ms")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    key: str
    value: _struct_pb2.Value
    updated_at_ms: int
    def __init__(self, session_id: _Optional[str] = ..., key: _Optional[str] = ..., value: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., updated_at_ms: _Optional[int] = ...) -> None: ...

class MaybeUiSessionStateEntry(_message.Message):
    __slots__ = ("entry",)
    ENTRY_FIELD_NUMBER: _ClassVar[int]
    entry: UiSessionStateEntry
    def __init__(self, entry: _Optional[_Union[UiSessionStateEntry, _Mapping]] = ...) -> None: ...

class UiSessionStateList(_message.Message):
    __slots__ = ("entries",)
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[UiSessionStateEntry]
    def __init__(self, entries: _Optional[_Iterable[_Union[UiSessionStateEntry, _Mapping]]] = ...) -> None: ...

class AccountBinding(_message.Message):
    __slots__ = ("platform", "account_id", "display_id", "tunnel_instance_id", "account_type", "endpoint_did", "last_active_at", "meta")
    class MetaEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_ID_FIELD_NUMBER: _ClassVar[int]
    TUNNEL_INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_TYPE_FIELD_NUMBER: _ClassVar[int]
    ENDPOINT_DID_FIELD_NUMBER: _ClassVar[int]
    LAST_ACTIVE_AT_FIELD_NUMBER: _ClassVar[int]
    META_FIELD_NUMBER: _ClassVar[int]
    platform: str
    account_id: str
    display_id: str
    tunnel_instance_id: str
    account_type: str
    endpoint_did: str
    last_active_at: int
    meta: _containers.ScalarMap[str, str]
    def __init__(self, platform: _Optional[str] = ..., account_id: _Optional[str] = ..., display_id: _Optional[str] = ..., tunnel_instance_id: _Optional[str] = ..., account_type: _Optional[str] = ..., endpoint_did: _Optional[str] = ..., last_active_at: _Optional[int] = ..., meta: _Optional[_Mapping[str, str]] = ...) -> None: ...

class TemporaryGrant(_message.Message):
    __slots__ = ("context_id", "granted_at", "expires_at")
    CONTEXT_ID_FIELD_NUMBER: _ClassVar[int]
    GRANTED_AT_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    context_id: str
    granted_at: int
    expires_at: int
    def __init__(self, context_id: _Optional[str] = ..., granted_at: _Optional[int] = ..., expires_at: _Optional[int] = ...) -> None: ...

class Contact(_message.Message):
    __slots__ = ("did", "name", "avatar", "note", "source", "is_verified", "bindings", "access_level", "temp_grants", "groups", "tags", "created_at", "updated_at")
    DID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    AVATAR_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    IS_VERIFIED_FIELD_NUMBER: _ClassVar[int]
    BINDINGS_FIELD_NUMBER: _ClassVar[int]
    ACCESS_LEVEL_FIELD_NUMBER: _ClassVar[int]
    TEMP_GRANTS_FIELD_NUMBER: _ClassVar[int]
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    did: str
    name: str
    avatar: str
    note: str
    source: ContactSource
    is_verified: bool
    bindings: _containers.RepeatedCompositeFieldContainer[AccountBinding]
    access_level: AccessGroupLevel
    temp_grants: _containers.RepeatedCompositeFieldContainer[TemporaryGrant]
    groups: _containers.RepeatedScalarFieldContainer[str]
    tags: _containers.RepeatedScalarFieldContainer[str]
    created_at: int
    updated_at: int
    def __init__(self, did: _Optional[str] = ..., name: _Optional[str] = ..., avatar: _Optional[str] = ..., note: _Optional[str] = ..., source: _Optional[_Union[ContactSource, str]] = ..., is_verified: _Optional[bool] = ..., bindings: _Optional[_Iterable[_Union[AccountBinding, _Mapping]]] = ..., access_level: _Optional[_Union[AccessGroupLevel, str]] = ..., temp_grants: _Optional[_Iterable[_Union[TemporaryGrant, _Mapping]]] = ..., groups: _Optional[_Iterable[str]] = ..., tags: _Optional[_Iterable[str]] = ..., created_at: _Optional[int] = ..., updated_at: _Optional[int] = ...) -> None: ...

class MaybeContact(_message.Message):
    __slots__ = ("contact",)
    CONTACT_FIELD_NUMBER: _ClassVar[int]
    contact: Contact
    def __init__(self, contact: _Optional[_Union[Contact, _Mapping]] = ...) -> None: ...

class ContactList(_message.Message):
    __slots__ = ("contacts",)
    CONTACTS_FIELD_NUMBER: _ClassVar[int]
    contacts: _containers.RepeatedCompositeFieldContainer[Contact]
    def __init__(self, contacts: _Optional[_Iterable[_Union[Contact, _Mapping]]] = ...) -> None: ...

class Did(_message.Message):
    __slots__ = ("did",)
    DID_FIELD_NUMBER: _ClassVar[int]
    did: str
    def __init__(self, did: _Optional[str] = ...) -> None: ...

class DidList(_message.Message):
    __slots__ = ("dids",)
    DIDS_FIELD_NUMBER: _ClassVar[int]
    dids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, dids: _Optional[_Iterable[str]] = ...) -> None: ...

class DispatchRequest(_message.Message):
    __slots__ = ("msg", "ingress_ctx", "idempotency_key")
    MSG_FIELD_NUMBER: _ClassVar[int]
    INGRESS_CTX_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    msg: _struct_pb2.Struct
    ingress_ctx: IngressContext
    idempotency_key: str
    def __init__(self, msg: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., ingress_ctx: _Optional[_Union[IngressContext, _Mapping]] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class DispatchResult(_message.Message):
    __slots__ = ("ok", "msg_id", "delivered_recipients", "dropped_recipients", "delivered_group", "delivered_agents", "reason")
    OK_FIELD_NUMBER: _ClassVar[int]
    MSG_ID_FIELD_NUMBER: _ClassVar[int]
    DELIVERED_RECIPIENTS_FIELD_NUMBER: _ClassVar[int]
    DROPPED_RECIPIENTS_FIELD_NUMBER: _ClassVar[int]
    DELIVERED_GROUP_FIELD_NUMBER: _ClassVar[int]
    DELIVERED_AGENTS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ok: bool
    msg_id: str
    delivered_recipients: _containers.RepeatedScalarFieldContainer[str]
    dropped_recipients: _containers.RepeatedScalarFieldContainer[str]
    delivered_group: str
    delivered_agents: _containers.RepeatedScalarFieldContainer[str]
    reason: str
    def __init__(self, ok: _Optional[bool] = ..., msg_id: _Optional[str] = ..., delivered_recipients: _Optional[_Iterable[str]] = ..., dropped_recipients: _Optional[_Iterable[str]] = ..., delivered_group: _Optional[str] = ..., delivered_agents: _Optional[_Iterable[str]] = ..., reason: _Optional[str] = ...) -> None: ...

class PostSendRequest(_message.Message):
    __slots__ = ("msg", "idempotency_key")
    MSG_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    msg: _struct_pb2.Struct
    idempotency_key: str
    def __init__(self, msg: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class PostSendDelivery(_message.Message):
    __slots__ = ("delivery_id", "transport_did", "target_did", "transport")
    DELIVERY_ID_FIELD_NUMBER: _ClassVar[int]
    TRANSPORT_DID_FIELD_NUMBER: _ClassVar[int]
    TARGET_DID_FIELD_NUMBER: _ClassVar[int]
    TRANSPORT_FIELD_NUMBER: _ClassVar[int]
    delivery_id: str
    transport_did: str
    target_did: str
    transport: TransportKind
    def __init__(self, delivery_id: _Optional[str] = ..., transport_did: _Optional[str] = ..., target_did: _Optional[str] = ..., transport: _Optional[_Union[TransportKind, _Mapping]] = ...) -> None: ...

class PostSendResult(_message.Message):
    __slots__ = ("ok", "msg_id", "deliveries", "reason")
    OK_FIELD_NUMBER: _ClassVar[int]
    MSG_ID_FIELD_NUMBER: _ClassVar[int]
    DELIVERIES_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ok: bool
    msg_id: str
    deliveries: _containers.RepeatedCompositeFieldContainer[PostSendDelivery]
    reason: str
    def __init__(self, ok: _Optional[bool] = ..., msg_id: _Optional[str] = ..., deliveries: _Optional[_Iterable[_Union[PostSendDelivery, _Mapping]]] = ..., reason: _Optional[str] = ...) -> None: ...

class GetNextRequest(_message.Message):
    __slots__ = ("owner", "box_kind", "state_filter", "lock_on_take", "with_object")
    OWNER_FIELD_NUMBER: _ClassVar[int]
    BOX_KIND_FIELD_NUMBER: _ClassVar[int]
    STATE_FILTER_FIELD_NUMBER: _ClassVar[int]
    LOCK_ON_TAKE_FIELD_NUMBER: _ClassVar[int]
    WITH_OBJECT_FIELD_NUMBER: _ClassVar[int]
    owner: str
    box_kind: MailboxKind
    state_filter: _struct_pb2.ListValue
    lock_on_take: bool
    with_object: bool
    def __init__(self, owner: _Optional[str] = ..., box_kind: _Optional[_Union[MailboxKind, str]] = ..., state_filter: _Optional[_Union[_struct_pb2.ListValue, _Mapping]] = ..., lock_on_take: _Optional[bool] = ..., with_object: _Optional[bool] = ...) -> None: ...

class GetNextDeliveryRequest(_message.Message):
    __slots__ = ("transport_did", "lock_on_take", "with_object")
    TRANSPORT_DID_FIELD_NUMBER: _ClassVar[int]
    LOCK_ON_TAKE_FIELD_NUMBER: _ClassVar[int]
    WITH_OBJECT_FIELD_NUMBER: _ClassVar[int]
    transport_did: str
    lock_on_take: bool
    with_object: bool
    def __init__(self, transport_did: _Optional[str] = ..., lock_on_take: _Optional[bool] = ..., with_object: _Optional[bool] = ...) -> None: ...

class PeekBoxRequest(_message.Message):
    __slots__ = ("owner", "box_kind", "state_filter", "limit", "with_object")
    OWNER_FIELD_NUMBER: _ClassVar[int]
    BOX_KIND_FIELD_NUMBER: _ClassVar[int]
    STATE_FILTER_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    WITH_OBJECT_FIELD_NUMBER: _ClassVar[int]
    owner: str
    box_kind: MailboxKind
    state_filter: _struct_pb2.ListValue
    limit: int
    with_object: bool
    def __init__(self, owner: _Optional[str] = ..., box_kind: _Optional[_Union[MailboxKind, str]] = ..., state_filter: _Optional[_Union[_struct_pb2.ListValue, _Mapping]] = ..., limit: _Optional[int] = ..., with_object: _Optional[bool] = ...) -> None: ...

class ListBoxByTimeRequest(_message.Message):
    __slots__ = ("owner", "box_kind", "state_filter", "limit", "cursor_sort_key", "cursor_record_id", "descending", "with_object")
    OWNER_FIELD_NUMBER: _ClassVar[int]
    BOX_KIND_FIELD_NUMBER: _ClassVar[int]
    STATE_FILTER_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_SORT_KEY_FIELD_NUMBER: _ClassVar[int]
    CURSOR_RECORD_ID_FIELD_NUMBER: _ClassVar[int]
    DESCENDING_FIELD_NUMBER: _ClassVar[int]
    WITH_OBJECT_FIELD_NUMBER: _ClassVar[int]
    owner: str
    box_kind: MailboxKind
    state_filter: _struct_pb2.ListValue
    limit: int
    cursor_sort_key: int
    cursor_record_id: str
    descending: bool
    with_object: bool
    def __init__(self, owner: _Optional[str] = ..., box_kind: _Optional[_Union[MailboxKind, str]] = ..., state_filter: _Optional[_Union[_struct_pb2.ListValue, _Mapping]] = ..., limit: _Optional[int] = ..., cursor_sort_key: _Optional[int] = ..., cursor_record_id: _Optional[str] = ..., descending: _Optional[bool] = ..., with_object: _Optional[bool] = ...) -> None: ...

class ListSessionsRequest(_message.Message):
    __slots__ = ("owner", "limit", "cursor_updated_at_ms", "cursor_session_id", "with_object")
    OWNER_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_UPDATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    CURSOR_SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    WITH_OBJECT_FIELD_NUMBER: _ClassVar[int]
    owner: str
    limit: int
    cursor_updated_at_ms: int
    cursor_session_id: str
    with_object: bool
    def __init__(self, owner: _Optional[str] = ..., limit: _Optional[int] = ..., cursor_updated_at_ms: _Optional[int] = ..., cursor_session_id: _Optional[str] = ..., with_object: _Optional[bool] = ...) -> None: ...

class ListSessionRequest(_message.Message):
    __slots__ = ("owner", "session_id", "limit", "cursor_sort_key", "cursor_record_id", "descending", "with_object")
    OWNER_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_SORT_KEY_FIELD_NUMBER: _ClassVar[int]
    CURSOR_RECORD_ID_FIELD_NUMBER: _ClassVar[int]
    DESCENDING_FIELD_NUMBER: _ClassVar[int]
    WITH_OBJECT_FIELD_NUMBER: _ClassVar[int]
    owner: str
    session_id: str
    limit: int
    cursor_sort_key: int
    cursor_record_id: str
    descending: bool
    with_object: bool
    def __init__(self, owner: _Optional[str] = ..., session_id: _Optional[str] = ..., limit: _Optional[int] = ..., cursor_sort_key: _Optional[int] = ..., cursor_record_id: _Optional[str] = ..., descending: _Optional[bool] = ..., with_object: _Optional[bool] = ...) -> None: ...

class UpdateRecordStateRequest(_message.Message):
    __slots__ = ("record_id", "new_state")
    RECORD_ID_FIELD_NUMBER: _ClassVar[int]
    NEW_STATE_FIELD_NUMBER: _ClassVar[int]
    record_id: str
    new_state: RecipientState
    def __init__(self, record_id: _Optional[str] = ..., new_state: _Optional[_Union[RecipientState, str]] = ...) -> None: ...

class UpdateRecordSessionRequest(_message.Message):
    __slots__ = ("record_id", "session_id")
    RECORD_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    record_id: str
    session_id: str
    def __init__(self, record_id: _Optional[str] = ..., session_id: _Optional[str] = ...) -> None: ...

class DeliveryReportResult(_message.Message):
    __slots__ = ("ok", "external_msg_id", "delivered_at_ms", "error_code", "error_message", "retry_after_ms", "retryable")
    OK_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_MSG_ID_FIELD_NUMBER: _ClassVar[int]
    DELIVERED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    ERROR_CODE_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    RETRY_AFTER_MS_FIELD_NUMBER: _ClassVar[int]
    RETRYABLE_FIELD_NUMBER: _ClassVar[int]
    ok: bool
    external_msg_id: str
    delivered_at_ms: int
    error_code: str
    error_message: str
    retry_after_ms: int
    retryable: bool
    def __init__(self, ok: _Optional[bool] = ..., external_msg_id: _Optional[str] = ..., delivered_at_ms: _Optional[int] = ..., error_code: _Optional[str] = ..., error_message: _Optional[str] = ..., retry_after_ms: _Optional[int] = ..., retryable: _Optional[bool] = ...) -> None: ...

class ReportDeliveryRequest(_message.Message):
    __slots__ = ("delivery_id", "result")
    DELIVERY_ID_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    delivery_id: str
    result: DeliveryReportResult
    def __init__(self, delivery_id: _Optional[str] = ..., result: _Optional[_Union[DeliveryReportResult, _Mapping]] = ...) -> None: ...

class SetReadStateRequest(_message.Message):
    __slots__ = ("group_id", "msg_id", "reader_did", "status", "reason", "at_ms")
    GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    MSG_ID_FIELD_NUMBER: _ClassVar[int]
    READER_DID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    AT_MS_FIELD_NUMBER: _ClassVar[int]
    group_id: str
    msg_id: str
    reader_did: str
    status: ReadReceiptState
    reason: str
    at_ms: int
    def __init__(self, group_id: _Optional[str] = ..., msg_id: _Optional[str] = ..., reader_did: _Optional[str] = ..., status: _Optional[_Union[ReadReceiptState, str]] = ..., reason: _Optional[str] = ..., at_ms: _Optional[int] = ...) -> None: ...

class ListReadReceiptsRequest(_message.Message):
    __slots__ = ("msg_id", "group_id", "reader", "limit", "offset")
    MSG_ID_FIELD_NUMBER: _ClassVar[int]
    GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    READER_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    msg_id: str
    group_id: str
    reader: str
    limit: int
    offset: int
    def __init__(self, msg_id: _Optional[str] = ..., group_id: _Optional[str] = ..., reader: _Optional[str] = ..., limit: _Optional[int] = ..., offset: _Optional[int] = ...) -> None: ...

class GetRecordRequest(_message.Message):
    __slots__ = ("record_id", "with_object")
    RECORD_ID_FIELD_NUMBER: _ClassVar[int]
    WITH_OBJECT_FIELD_NUMBER: _ClassVar[int]
    record_id: str
    with_object: bool
    def __init__(self, record_id: _Optional[str] = ..., with_object: _Optional[bool] = ...) -> None: ...

class GetMessageRequest(_message.Message):
    __slots__ = ("msg_id",)
    MSG_ID_FIELD_NUMBER: _ClassVar[int]
    msg_id: str
    def __init__(self, msg_id: _Optional[str] = ...) -> None: ...

class UpdateUiSessionStateRequest(_message.Message):
    __slots__ = ("session_id", "key", "value")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    key: str
    value: _struct_pb2.Value
    def __init__(self, session_id: _Optional[str] = ..., key: _Optional[str] = ..., value: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ...) -> None: ...

class GetUiSessionStateRequest(_message.Message):
    __slots__ = ("session_id", "key")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    key: str
    def __init__(self, session_id: _Optional[str] = ..., key: _Optional[str] = ...) -> None: ...

class ListUiSessionStateRequest(_message.Message):
    __slots__ = ("session_id",)
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    def __init__(self, session_id: _Optional[str] = ...) -> None: ...

class ResolveDidRequest(_message.Message):
    __slots__ = ("platform", "account_id", "profile_hint", "contact_mgr_owner")
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    PROFILE_HINT_FIELD_NUMBER: _ClassVar[int]
    CONTACT_MGR_OWNER_FIELD_NUMBER: _ClassVar[int]
    platform: str
    account_id: str
    profile_hint: _struct_pb2.Value
    contact_mgr_owner: str
    def __init__(self, platform: _Optional[str] = ..., account_id: _Optional[str] = ..., profile_hint: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., contact_mgr_owner: _Optional[str] = ...) -> None: ...

class ResolveEndpointDidRequest(_message.Message):
    __slots__ = ("platform", "account_id", "account_type", "tunnel_instance_id", "contact_mgr_owner")
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_TYPE_FIELD_NUMBER: _ClassVar[int]
    TUNNEL_INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    CONTACT_MGR_OWNER_FIELD_NUMBER: _ClassVar[int]
    platform: str
    account_id: str
    account_type: str
    tunnel_instance_id: str
    contact_mgr_owner: str
    def __init__(self, platform: _Optional[str] = ..., account_id: _Optional[str] = ..., account_type: _Optional[str] = ..., tunnel_instance_id: _Optional[str] = ..., contact_mgr_owner: _Optional[str] = ...) -> None: ...

class ResolveTargetRequest(_message.Message):
    __slots__ = ("contact_did", "selector", "contact_mgr_owner")
    CONTACT_DID_FIELD_NUMBER: _ClassVar[int]
    SELECTOR_FIELD_NUMBER: _ClassVar[int]
    CONTACT_MGR_OWNER_FIELD_NUMBER: _ClassVar[int]
    contact_did: str
    selector: str
    contact_mgr_owner: str
    def __init__(self, contact_did: _Optional[str] = ..., selector: _Optional[str] = ..., contact_mgr_owner: _Optional[str] = ...) -> None: ...

class ResolveContactForEndpointRequest(_message.Message):
    __slots__ = ("endpoint_did", "contact_mgr_owner")
    ENDPOINT_DID_FIELD_NUMBER: _ClassVar[int]
    CONTACT_MGR_OWNER_FIELD_NUMBER: _ClassVar[int]
    endpoint_did: str
    contact_mgr_owner: str
    def __init__(self, endpoint_did: _Optional[str] = ..., contact_mgr_owner: _Optional[str] = ...) -> None: ...

class ResolveCanonicalDidRequest(_message.Message):
    __slots__ = ("did", "contact_mgr_owner")
    DID_FIELD_NUMBER: _ClassVar[int]
    CONTACT_MGR_OWNER_FIELD_NUMBER: _ClassVar[int]
    did: str
    contact_mgr_owner: str
    def __init__(self, did: _Optional[str] = ..., contact_mgr_owner: _Optional[str] = ...) -> None: ...

class ListAliasDidsRequest(_message.Message):
    __slots__ = ("canonical_did", "contact_mgr_owner")
    CANONICAL_DID_FIELD_NUMBER: _ClassVar[int]
    CONTACT_MGR_OWNER_FIELD_NUMBER: _ClassVar[int]
    canonical_did: str
    contact_mgr_owner: str
    def __init__(self, canonical_did: _Optional[str] = ..., contact_mgr_owner: _Optional[str] = ...) -> None: ...

class ContactDidRequest(_message.Message):
    __slots__ = ("did", "contact_mgr_owner")
    DID_FIELD_NUMBER: _ClassVar[int]
    CONTACT_MGR_OWNER_FIELD_NUMBER: _ClassVar[int]
    did: str
    contact_mgr_owner: str
    def __init__(self, did: _Optional[str] = ..., contact_mgr_owner: _Optional[str] = ...) -> None: ...

class CheckAccessPermissionRequest(_message.Message):
    __slots__ = ("did", "context_id", "contact_mgr_owner")
    DID_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_ID_FIELD_NUMBER: _ClassVar[int]
    CONTACT_MGR_OWNER_FIELD_NUMBER: _ClassVar[int]
    did: str
    context_id: str
    contact_mgr_owner: str
    def __init__(self, did: _Optional[str] = ..., context_id: _Optional[str] = ..., contact_mgr_owner: _Optional[str] = ...) -> None: ...

class AccessDecision(_message.Message):
    __slots__ = ("level", "allow_delivery", "target_box", "temporary_expires_at_ms", "reason")
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    ALLOW_DELIVERY_FIELD_NUMBER: _ClassVar[int]
    TARGET_BOX_FIELD_NUMBER: _ClassVar[int]
    TEMPORARY_EXPIRES_AT_MS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    level: AccessGroupLevel
    allow_delivery: bool
    target_box: str
    temporary_expires_at_ms: int
    reason: str
    def __init__(self, level: _Optional[_Union[AccessGroupLevel, str]] = ..., allow_delivery: _Optional[bool] = ..., target_box: _Optional[str] = ..., temporary_expires_at_ms: _Optional[int] = ..., reason: _Optional[str] = ...) -> None: ...

class GrantTemporaryAccessRequest(_message.Message):
    __slots__ = ("dids", "context_id", "duration_secs", "contact_mgr_owner")
    DIDS_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_ID_FIELD_NUMBER: _ClassVar[int]
    DURATION_SECS_FIELD_NUMBER: _ClassVar[int]
    CONTACT_MGR_OWNER_FIELD_NUMBER: _ClassVar[int]
    dids: _containers.RepeatedScalarFieldContainer[str]
    context_id: str
    duration_secs: int
    contact_mgr_owner: str
    def __init__(self, dids: _Optional[_Iterable[str]] = ..., context_id: _Optional[str] = ..., duration_secs: _Optional[int] = ..., contact_mgr_owner: _Optional[str] = ...) -> None: ...

class TemporaryGrantOutcome(_message.Message):
    __slots__ = ("did", "granted", "expires_at_ms", "reason")
    DID_FIELD_NUMBER: _ClassVar[int]
    GRANTED_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_MS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    did: str
    granted: bool
    expires_at_ms: int
    reason: str
    def __init__(self, did: _Optional[str] = ..., granted: _Optional[bool] = ..., expires_at_ms: _Optional[int] = ..., reason: _Optional[str] = ...) -> None: ...

class GrantTemporaryAccessResult(_message.Message):
    __slots__ = ("updated",)
    UPDATED_FIELD_NUMBER: _ClassVar[int]
    updated: _containers.RepeatedCompositeFieldContainer[TemporaryGrantOutcome]
    def __init__(self, updated: _Optional[_Iterable[_Union[TemporaryGrantOutcome, _Mapping]]] = ...) -> None: ...

class BlockContactRequest(_message.Message):
    __slots__ = ("did", "reason", "contact_mgr_owner")
    DID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    CONTACT_MGR_OWNER_FIELD_NUMBER: _ClassVar[int]
    did: str
    reason: str
    contact_mgr_owner: str
    def __init__(self, did: _Optional[str] = ..., reason: _Optional[str] = ..., contact_mgr_owner: _Optional[str] = ...) -> None: ...

class ImportContactEntry(_message.Message):
    __slots__ = ("name", "avatar", "note", "bindings", "groups", "tags")
    NAME_FIELD_NUMBER: _ClassVar[int]
    AVATAR_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    BINDINGS_FIELD_NUMBER: _ClassVar[int]
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    name: str
    avatar: str
    note: str
    bindings: _containers.RepeatedCompositeFieldContainer[AccountBinding]
    groups: _containers.RepeatedScalarFieldContainer[str]
    tags: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., avatar: _Optional[str] = ..., note: _Optional[str] = ..., bindings: _Optional[_Iterable[_Union[AccountBinding, _Mapping]]] = ..., groups: _Optional[_Iterable[str]] = ..., tags: _Optional[_Iterable[str]] = ...) -> None: ...

class ImportContactsRequest(_message.Message):
    __slots__ = ("contacts", "upgrade_to_friend", "contact_mgr_owner")
    CONTACTS_FIELD_NUMBER: _ClassVar[int]
    UPGRADE_TO_FRIEND_FIELD_NUMBER: _ClassVar[int]
    CONTACT_MGR_OWNER_FIELD_NUMBER: _ClassVar[int]
    contacts: _containers.RepeatedCompositeFieldContainer[ImportContactEntry]
    upgrade_to_friend: bool
    contact_mgr_owner: str
    def __init__(self, contacts: _Optional[_Iterable[_Union[ImportContactEntry, _Mapping]]] = ..., upgrade_to_friend: _Optional[bool] = ..., contact_mgr_owner: _Optional[str] = ...) -> None: ...

class ImportReport(_message.Message):
    __slots__ = ("imported", "upgraded_shadow", "merged", "created", "skipped", "failed", "errors", "affected_dids")
    IMPORTED_FIELD_NUMBER: _ClassVar[int]
    UPGRADED_SHADOW_FIELD_NUMBER: _ClassVar[int]
    MERGED_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    AFFECTED_DIDS_FIELD_NUMBER: _ClassVar[int]
    imported: int
    upgraded_shadow: int
    merged: int
    created: int
    skipped: int
    failed: int
    errors: _containers.RepeatedScalarFieldContainer[str]
    affected_dids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, imported: _Optional[int] = ..., upgraded_shadow: _Optional[int] = ..., merged: _Optional[int] = ..., created: _Optional[int] = ..., skipped: _Optional[int] = ..., failed: _Optional[int] = ..., errors: _Optional[_Iterable[str]] = ..., affected_dids: _Optional[_Iterable[str]] = ...) -> None: ...

class MergeContactsRequest(_message.Message):
    __slots__ = ("target_did", "source_did", "contact_mgr_owner")
    TARGET_DID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_DID_FIELD_NUMBER: _ClassVar[int]
    CONTACT_MGR_OWNER_FIELD_NUMBER: _ClassVar[int]
    target_did: str
    source_did: str
    contact_mgr_owner: str
    def __init__(self, target_did: _Optional[str] = ..., source_did: _Optional[str] = ..., contact_mgr_owner: _Optional[str] = ...) -> None: ...

class ContactPatch(_message.Message):
    __slots__ = ("name", "avatar", "note", "access_level", "source", "is_verified", "groups", "tags")
    NAME_FIELD_NUMBER: _ClassVar[int]
    AVATAR_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    ACCESS_LEVEL_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    IS_VERIFIED_FIELD_NUMBER: _ClassVar[int]
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    name: str
    avatar: str
    note: str
    access_level: AccessGroupLevel
    source: ContactSource
    is_verified: bool
    groups: _struct_pb2.ListValue
    tags: _struct_pb2.ListValue
    def __init__(self, name: _Optional[str] = ..., avatar: _Optional[str] = ..., note: _Optional[str] = ..., access_level: _Optional[_Union[AccessGroupLevel, str]] = ..., source: _Optional[_Union[ContactSource, str]] = ..., is_verified: _Optional[bool] = ..., groups: _Optional[_Union[_struct_pb2.ListValue, _Mapping]] = ..., tags: _Optional[_Union[_struct_pb2.ListValue, _Mapping]] = ...) -> None: ...

class UpdateContactRequest(_message.Message):
    __slots__ = ("did", "patch", "contact_mgr_owner")
    DID_FIELD_NUMBER: _ClassVar[int]
    PATCH_FIELD_NUMBER: _ClassVar[int]
    CONTACT_MGR_OWNER_FIELD_NUMBER: _ClassVar[int]
    did: str
    patch: ContactPatch
    contact_mgr_owner: str
    def __init__(self, did: _Optional[str] = ..., patch: _Optional[_Union[ContactPatch, _Mapping]] = ..., contact_mgr_owner: _Optional[str] = ...) -> None: ...

class ContactQuery(_message.Message):
    __slots__ = ("source", "access_level", "keyword", "limit", "offset")
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    ACCESS_LEVEL_FIELD_NUMBER: _ClassVar[int]
    KEYWORD_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    source: ContactSource
    access_level: AccessGroupLevel
    keyword: str
    limit: int
    offset: int
    def __init__(self, source: _Optional[_Union[ContactSource, str]] = ..., access_level: _Optional[_Union[AccessGroupLevel, str]] = ..., keyword: _Optional[str] = ..., limit: _Optional[int] = ..., offset: _Optional[int] = ...) -> None: ...

class ListContactsRequest(_message.Message):
    __slots__ = ("query", "contact_mgr_owner")
    QUERY_FIELD_NUMBER: _ClassVar[int]
    CONTACT_MGR_OWNER_FIELD_NUMBER: _ClassVar[int]
    query: ContactQuery
    contact_mgr_owner: str
    def __init__(self, query: _Optional[_Union[ContactQuery, _Mapping]] = ..., contact_mgr_owner: _Optional[str] = ...) -> None: ...

class GetGroupSubscribersRequest(_message.Message):
    __slots__ = ("group_id", "limit", "offset", "contact_mgr_owner")
    GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    CONTACT_MGR_OWNER_FIELD_NUMBER: _ClassVar[int]
    group_id: str
    limit: int
    offset: int
    contact_mgr_owner: str
    def __init__(self, group_id: _Optional[str] = ..., limit: _Optional[int] = ..., offset: _Optional[int] = ..., contact_mgr_owner: _Optional[str] = ...) -> None: ...

class SetGroupSubscribersRequest(_message.Message):
    __slots__ = ("group_id", "subscribers", "contact_mgr_owner")
    GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIBERS_FIELD_NUMBER: _ClassVar[int]
    CONTACT_MGR_OWNER_FIELD_NUMBER: _ClassVar[int]
    group_id: str
    subscribers: _containers.RepeatedScalarFieldContainer[str]
    contact_mgr_owner: str
    def __init__(self, group_id: _Optional[str] = ..., subscribers: _Optional[_Iterable[str]] = ..., contact_mgr_owner: _Optional[str] = ...) -> None: ...

class SetGroupSubscribersResult(_message.Message):
    __slots__ = ("group_id", "subscriber_count")
    GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIBER_COUNT_FIELD_NUMBER: _ClassVar[int]
    group_id: str
    subscriber_count: int
    def __init__(self, group_id: _Optional[str] = ..., subscriber_count: _Optional[int] = ...) -> None: ...
