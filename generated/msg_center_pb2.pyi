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

class DidEntityKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DID_ENTITY_KIND_UNSPECIFIED: _ClassVar[DidEntityKind]
    DID_ENTITY_KIND_SINGLE_ENTITY: _ClassVar[DidEntityKind]
    DID_ENTITY_KIND_DID_COLLECTION: _ClassVar[DidEntityKind]

class DidMemberKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DID_MEMBER_KIND_UNSPECIFIED: _ClassVar[DidMemberKind]
    DID_MEMBER_KIND_UNKNOWN: _ClassVar[DidMemberKind]
    DID_MEMBER_KIND_SINGLE_ENTITY: _ClassVar[DidMemberKind]
    DID_MEMBER_KIND_COLLECTION_ENTITY: _ClassVar[DidMemberKind]

class MembershipVisibility(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MEMBERSHIP_VISIBILITY_UNSPECIFIED: _ClassVar[MembershipVisibility]
    MEMBERSHIP_VISIBILITY_PRIVATE: _ClassVar[MembershipVisibility]
    MEMBERSHIP_VISIBILITY_MEMBERS_ONLY: _ClassVar[MembershipVisibility]
    MEMBERSHIP_VISIBILITY_PUBLIC_WITH_PROOF: _ClassVar[MembershipVisibility]

class NestedGroupPolicy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    NESTED_GROUP_POLICY_UNSPECIFIED: _ClassVar[NestedGroupPolicy]
    NESTED_GROUP_POLICY_DISALLOW: _ClassVar[NestedGroupPolicy]
    NESTED_GROUP_POLICY_ALLOW_AS_OPAQUE_MEMBER: _ClassVar[NestedGroupPolicy]
    NESTED_GROUP_POLICY_ALLOW_WITH_RECURSIVE_EXPANSION: _ClassVar[NestedGroupPolicy]

class GroupExpansionPolicy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    GROUP_EXPANSION_POLICY_UNSPECIFIED: _ClassVar[GroupExpansionPolicy]
    GROUP_EXPANSION_POLICY_NO_AUTO_EXPANSION: _ClassVar[GroupExpansionPolicy]
    GROUP_EXPANSION_POLICY_EXPAND_FOR_DELIVERY: _ClassVar[GroupExpansionPolicy]
    GROUP_EXPANSION_POLICY_EXPAND_FOR_PERMISSION_CHECK: _ClassVar[GroupExpansionPolicy]
    GROUP_EXPANSION_POLICY_EXPAND_FOR_PUBLIC_VIEW: _ClassVar[GroupExpansionPolicy]

class GroupAttributionMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    GROUP_ATTRIBUTION_MODE_UNSPECIFIED: _ClassVar[GroupAttributionMode]
    GROUP_ATTRIBUTION_MODE_OPAQUE_GROUP_DID: _ClassVar[GroupAttributionMode]
    GROUP_ATTRIBUTION_MODE_PUBLIC_MEMBERS: _ClassVar[GroupAttributionMode]
    GROUP_ATTRIBUTION_MODE_EXTERNAL_CONTRACT: _ClassVar[GroupAttributionMode]

class JoinPolicy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    JOIN_POLICY_UNSPECIFIED: _ClassVar[JoinPolicy]
    JOIN_POLICY_INVITE_ONLY: _ClassVar[JoinPolicy]
    JOIN_POLICY_REQUEST_AND_ADMIN_APPROVE: _ClassVar[JoinPolicy]

class HistoryVisibility(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    HISTORY_VISIBILITY_UNSPECIFIED: _ClassVar[HistoryVisibility]
    HISTORY_VISIBILITY_NEW_MEMBERS_ONLY: _ClassVar[HistoryVisibility]
    HISTORY_VISIBILITY_ALL_HISTORY: _ClassVar[HistoryVisibility]

class GroupDeliveryPreference(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    GROUP_DELIVERY_PREFERENCE_UNSPECIFIED: _ClassVar[GroupDeliveryPreference]
    GROUP_DELIVERY_PREFERENCE_DEFAULT: _ClassVar[GroupDeliveryPreference]
    GROUP_DELIVERY_PREFERENCE_NATIVE_ONLY: _ClassVar[GroupDeliveryPreference]
    GROUP_DELIVERY_PREFERENCE_TUNNEL_ONLY: _ClassVar[GroupDeliveryPreference]
    GROUP_DELIVERY_PREFERENCE_MUTE: _ClassVar[GroupDeliveryPreference]

class GroupRole(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    GROUP_ROLE_UNSPECIFIED: _ClassVar[GroupRole]
    GROUP_ROLE_OWNER: _ClassVar[GroupRole]
    GROUP_ROLE_ADMIN: _ClassVar[GroupRole]
    GROUP_ROLE_MEMBER: _ClassVar[GroupRole]
    GROUP_ROLE_GUEST: _ClassVar[GroupRole]

class GroupMemberState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    GROUP_MEMBER_STATE_UNSPECIFIED: _ClassVar[GroupMemberState]
    GROUP_MEMBER_STATE_INVITED: _ClassVar[GroupMemberState]
    GROUP_MEMBER_STATE_PENDING_MEMBER_SIGNATURE: _ClassVar[GroupMemberState]
    GROUP_MEMBER_STATE_PENDING_ADMIN_APPROVAL: _ClassVar[GroupMemberState]
    GROUP_MEMBER_STATE_ACTIVE: _ClassVar[GroupMemberState]
    GROUP_MEMBER_STATE_MUTED: _ClassVar[GroupMemberState]
    GROUP_MEMBER_STATE_LEFT: _ClassVar[GroupMemberState]
    GROUP_MEMBER_STATE_REMOVED: _ClassVar[GroupMemberState]
    GROUP_MEMBER_STATE_BLOCKED: _ClassVar[GroupMemberState]

class GroupMemberProofScope(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    GROUP_MEMBER_PROOF_SCOPE_UNSPECIFIED: _ClassVar[GroupMemberProofScope]
    GROUP_MEMBER_PROOF_SCOPE_JOIN_AS_SELF: _ClassVar[GroupMemberProofScope]
    GROUP_MEMBER_PROOF_SCOPE_JOIN_AS_COLLECTION_ENTITY: _ClassVar[GroupMemberProofScope]

class GroupExpansionPurpose(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    GROUP_EXPANSION_PURPOSE_UNSPECIFIED: _ClassVar[GroupExpansionPurpose]
    GROUP_EXPANSION_PURPOSE_DELIVERY: _ClassVar[GroupExpansionPurpose]
    GROUP_EXPANSION_PURPOSE_PERMISSION_CHECK: _ClassVar[GroupExpansionPurpose]
    GROUP_EXPANSION_PURPOSE_PUBLIC_VIEW: _ClassVar[GroupExpansionPurpose]
    GROUP_EXPANSION_PURPOSE_ATTRIBUTION: _ClassVar[GroupExpansionPurpose]
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
DID_ENTITY_KIND_UNSPECIFIED: DidEntityKind
DID_ENTITY_KIND_SINGLE_ENTITY: DidEntityKind
DID_ENTITY_KIND_DID_COLLECTION: DidEntityKind
DID_MEMBER_KIND_UNSPECIFIED: DidMemberKind
DID_MEMBER_KIND_UNKNOWN: DidMemberKind
DID_MEMBER_KIND_SINGLE_ENTITY: DidMemberKind
DID_MEMBER_KIND_COLLECTION_ENTITY: DidMemberKind
MEMBERSHIP_VISIBILITY_UNSPECIFIED: MembershipVisibility
MEMBERSHIP_VISIBILITY_PRIVATE: MembershipVisibility
MEMBERSHIP_VISIBILITY_MEMBERS_ONLY: MembershipVisibility
MEMBERSHIP_VISIBILITY_PUBLIC_WITH_PROOF: MembershipVisibility
NESTED_GROUP_POLICY_UNSPECIFIED: NestedGroupPolicy
NESTED_GROUP_POLICY_DISALLOW: NestedGroupPolicy
NESTED_GROUP_POLICY_ALLOW_AS_OPAQUE_MEMBER: NestedGroupPolicy
NESTED_GROUP_POLICY_ALLOW_WITH_RECURSIVE_EXPANSION: NestedGroupPolicy
GROUP_EXPANSION_POLICY_UNSPECIFIED: GroupExpansionPolicy
GROUP_EXPANSION_POLICY_NO_AUTO_EXPANSION: GroupExpansionPolicy
GROUP_EXPANSION_POLICY_EXPAND_FOR_DELIVERY: GroupExpansionPolicy
GROUP_EXPANSION_POLICY_EXPAND_FOR_PERMISSION_CHECK: GroupExpansionPolicy
GROUP_EXPANSION_POLICY_EXPAND_FOR_PUBLIC_VIEW: GroupExpansionPolicy
GROUP_ATTRIBUTION_MODE_UNSPECIFIED: GroupAttributionMode
GROUP_ATTRIBUTION_MODE_OPAQUE_GROUP_DID: GroupAttributionMode
GROUP_ATTRIBUTION_MODE_PUBLIC_MEMBERS: GroupAttributionMode
GROUP_ATTRIBUTION_MODE_EXTERNAL_CONTRACT: GroupAttributionMode
JOIN_POLICY_UNSPECIFIED: JoinPolicy
JOIN_POLICY_INVITE_ONLY: JoinPolicy
JOIN_POLICY_REQUEST_AND_ADMIN_APPROVE: JoinPolicy
HISTORY_VISIBILITY_UNSPECIFIED: HistoryVisibility
HISTORY_VISIBILITY_NEW_MEMBERS_ONLY: HistoryVisibility
HISTORY_VISIBILITY_ALL_HISTORY: HistoryVisibility
GROUP_DELIVERY_PREFERENCE_UNSPECIFIED: GroupDeliveryPreference
GROUP_DELIVERY_PREFERENCE_DEFAULT: GroupDeliveryPreference
GROUP_DELIVERY_PREFERENCE_NATIVE_ONLY: GroupDeliveryPreference
GROUP_DELIVERY_PREFERENCE_TUNNEL_ONLY: GroupDeliveryPreference
GROUP_DELIVERY_PREFERENCE_MUTE: GroupDeliveryPreference
GROUP_ROLE_UNSPECIFIED: GroupRole
GROUP_ROLE_OWNER: GroupRole
GROUP_ROLE_ADMIN: GroupRole
GROUP_ROLE_MEMBER: GroupRole
GROUP_ROLE_GUEST: GroupRole
GROUP_MEMBER_STATE_UNSPECIFIED: GroupMemberState
GROUP_MEMBER_STATE_INVITED: GroupMemberState
GROUP_MEMBER_STATE_PENDING_MEMBER_SIGNATURE: GroupMemberState
GROUP_MEMBER_STATE_PENDING_ADMIN_APPROVAL: GroupMemberState
GROUP_MEMBER_STATE_ACTIVE: GroupMemberState
GROUP_MEMBER_STATE_MUTED: GroupMemberState
GROUP_MEMBER_STATE_LEFT: GroupMemberState
GROUP_MEMBER_STATE_REMOVED: GroupMemberState
GROUP_MEMBER_STATE_BLOCKED: GroupMemberState
GROUP_MEMBER_PROOF_SCOPE_UNSPECIFIED: GroupMemberProofScope
GROUP_MEMBER_PROOF_SCOPE_JOIN_AS_SELF: GroupMemberProofScope
GROUP_MEMBER_PROOF_SCOPE_JOIN_AS_COLLECTION_ENTITY: GroupMemberProofScope
GROUP_EXPANSION_PURPOSE_UNSPECIFIED: GroupExpansionPurpose
GROUP_EXPANSION_PURPOSE_DELIVERY: GroupExpansionPurpose
GROUP_EXPANSION_PURPOSE_PERMISSION_CHECK: GroupExpansionPurpose
GROUP_EXPANSION_PURPOSE_PUBLIC_VIEW: GroupExpansionPurpose
GROUP_EXPANSION_PURPOSE_ATTRIBUTION: GroupExpansionPurpose

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

class MaybeDid(_message.Message):
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

class GroupPurpose(_message.Message):
    __slots__ = ("conversation", "notification", "collaboration", "permission_scope", "organization", "custom")
    CONVERSATION_FIELD_NUMBER: _ClassVar[int]
    NOTIFICATION_FIELD_NUMBER: _ClassVar[int]
    COLLABORATION_FIELD_NUMBER: _ClassVar[int]
    PERMISSION_SCOPE_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_FIELD_NUMBER: _ClassVar[int]
    CUSTOM_FIELD_NUMBER: _ClassVar[int]
    conversation: _empty_pb2.Empty
    notification: _empty_pb2.Empty
    collaboration: _empty_pb2.Empty
    permission_scope: _empty_pb2.Empty
    organization: _empty_pb2.Empty
    custom: str
    def __init__(self, conversation: _Optional[_Union[_empty_pb2.Empty, _Mapping]] = ..., notification: _Optional[_Union[_empty_pb2.Empty, _Mapping]] = ..., collaboration: _Optional[_Union[_empty_pb2.Empty, _Mapping]] = ..., permission_scope: _Optional[_Union[_empty_pb2.Empty, _Mapping]] = ..., organization: _Optional[_Union[_empty_pb2.Empty, _Mapping]] = ..., custom: _Optional[str] = ...) -> None: ...

class RetentionPolicy(_message.Message):
    __slots__ = ("default", "forever", "days")
    DEFAULT_FIELD_NUMBER: _ClassVar[int]
    FOREVER_FIELD_NUMBER: _ClassVar[int]
    DAYS_FIELD_NUMBER: _ClassVar[int]
    default: _empty_pb2.Empty
    forever: _empty_pb2.Empty
    days: int
    def __init__(self, default: _Optional[_Union[_empty_pb2.Empty, _Mapping]] = ..., forever: _Optional[_Union[_empty_pb2.Empty, _Mapping]] = ..., days: _Optional[int] = ...) -> None: ...

class PostPolicy(_message.Message):
    __slots__ = ("all_members", "admin_only", "role_based")
    ALL_MEMBERS_FIELD_NUMBER: _ClassVar[int]
    ADMIN_ONLY_FIELD_NUMBER: _ClassVar[int]
    ROLE_BASED_FIELD_NUMBER: _ClassVar[int]
    all_members: _empty_pb2.Empty
    admin_only: _empty_pb2.Empty
    role_based: RoleBasedPostPolicy
    def __init__(self, all_members: _Optional[_Union[_empty_pb2.Empty, _Mapping]] = ..., admin_only: _Optional[_Union[_empty_pb2.Empty, _Mapping]] = ..., role_based: _Optional[_Union[RoleBasedPostPolicy, _Mapping]] = ...) -> None: ...

class RoleBasedPostPolicy(_message.Message):
    __slots__ = ("roles",)
    ROLES_FIELD_NUMBER: _ClassVar[int]
    roles: _containers.RepeatedScalarFieldContainer[GroupRole]
    def __init__(self, roles: _Optional[_Iterable[_Union[GroupRole, str]]] = ...) -> None: ...

class GroupCollectionPolicy(_message.Message):
    __slots__ = ("nested_group_policy", "expansion_policy", "max_expansion_depth", "reject_cycles")
    NESTED_GROUP_POLICY_FIELD_NUMBER: _ClassVar[int]
    EXPANSION_POLICY_FIELD_NUMBER: _ClassVar[int]
    MAX_EXPANSION_DEPTH_FIELD_NUMBER: _ClassVar[int]
    REJECT_CYCLES_FIELD_NUMBER: _ClassVar[int]
    nested_group_policy: NestedGroupPolicy
    expansion_policy: GroupExpansionPolicy
    max_expansion_depth: int
    reject_cycles: bool
    def __init__(self, nested_group_policy: _Optional[_Union[NestedGroupPolicy, str]] = ..., expansion_policy: _Optional[_Union[GroupExpansionPolicy, str]] = ..., max_expansion_depth: _Optional[int] = ..., reject_cycles: _Optional[bool] = ...) -> None: ...

class GroupSplitRule(_message.Message):
    __slots__ = ("did", "weight")
    DID_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    did: str
    weight: int
    def __init__(self, did: _Optional[str] = ..., weight: _Optional[int] = ...) -> None: ...

class GroupAttributionPolicy(_message.Message):
    __slots__ = ("attribution_mode", "revenue_split_ref", "split_hint", "public_attribution")
    ATTRIBUTION_MODE_FIELD_NUMBER: _ClassVar[int]
    REVENUE_SPLIT_REF_FIELD_NUMBER: _ClassVar[int]
    SPLIT_HINT_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_ATTRIBUTION_FIELD_NUMBER: _ClassVar[int]
    attribution_mode: GroupAttributionMode
    revenue_split_ref: str
    split_hint: _containers.RepeatedCompositeFieldContainer[GroupSplitRule]
    public_attribution: MembershipVisibility
    def __init__(self, attribution_mode: _Optional[_Union[GroupAttributionMode, str]] = ..., revenue_split_ref: _Optional[str] = ..., split_hint: _Optional[_Iterable[_Union[GroupSplitRule, _Mapping]]] = ..., public_attribution: _Optional[_Union[MembershipVisibility, str]] = ...) -> None: ...

class GroupEndpoints(_message.Message):
    __slots__ = ("message_center", "group_mgr", "inbox_path", "subgroup_inbox_prefix", "join_path", "submit_member_proof_path", "expand_members_path", "admin_operation_path")
    MESSAGE_CENTER_FIELD_NUMBER: _ClassVar[int]
    GROUP_MGR_FIELD_NUMBER: _ClassVar[int]
    INBOX_PATH_FIELD_NUMBER: _ClassVar[int]
    SUBGROUP_INBOX_PREFIX_FIELD_NUMBER: _ClassVar[int]
    JOIN_PATH_FIELD_NUMBER: _ClassVar[int]
    SUBMIT_MEMBER_PROOF_PATH_FIELD_NUMBER: _ClassVar[int]
    EXPAND_MEMBERS_PATH_FIELD_NUMBER: _ClassVar[int]
    ADMIN_OPERATION_PATH_FIELD_NUMBER: _ClassVar[int]
    message_center: str
    group_mgr: str
    inbox_path: str
    subgroup_inbox_prefix: str
    join_path: str
    submit_member_proof_path: str
    expand_members_path: str
    admin_operation_path: str
    def __init__(self, message_center: _Optional[str] = ..., group_mgr: _Optional[str] = ..., inbox_path: _Optional[str] = ..., subgroup_inbox_prefix: _Optional[str] = ..., join_path: _Optional[str] = ..., submit_member_proof_path: _Optional[str] = ..., expand_members_path: _Optional[str] = ..., admin_operation_path: _Optional[str] = ...) -> None: ...

class GroupPolicy(_message.Message):
    __slots__ = ("join_policy", "post_policy", "history_visibility", "retention_policy", "default_delivery")
    JOIN_POLICY_FIELD_NUMBER: _ClassVar[int]
    POST_POLICY_FIELD_NUMBER: _ClassVar[int]
    HISTORY_VISIBILITY_FIELD_NUMBER: _ClassVar[int]
    RETENTION_POLICY_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_DELIVERY_FIELD_NUMBER: _ClassVar[int]
    join_policy: JoinPolicy
    post_policy: PostPolicy
    history_visibility: HistoryVisibility
    retention_policy: RetentionPolicy
    default_delivery: GroupDeliveryPreference
    def __init__(self, join_policy: _Optional[_Union[JoinPolicy, str]] = ..., post_policy: _Optional[_Union[PostPolicy, _Mapping]] = ..., history_visibility: _Optional[_Union[HistoryVisibility, str]] = ..., retention_policy: _Optional[_Union[RetentionPolicy, _Mapping]] = ..., default_delivery: _Optional[_Union[GroupDeliveryPreference, str]] = ...) -> None: ...

class GroupDoc(_message.Message):
    __slots__ = ("obj_type", "schema_version", "group_did", "entity_kind", "did_doc_id", "doc_version", "host_zone", "owner", "name", "avatar", "description", "purpose", "created_at_ms", "updated_at_ms", "profile_version", "policy", "collection_policy", "attribution_policy", "public_membership", "public_admins", "endpoints", "proof")
    OBJ_TYPE_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_VERSION_FIELD_NUMBER: _ClassVar[int]
    GROUP_DID_FIELD_NUMBER: _ClassVar[int]
    ENTITY_KIND_FIELD_NUMBER: _ClassVar[int]
    DID_DOC_ID_FIELD_NUMBER: _ClassVar[int]
    DOC_VERSION_FIELD_NUMBER: _ClassVar[int]
    HOST_ZONE_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    AVATAR_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    PROFILE_VERSION_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    COLLECTION_POLICY_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTION_POLICY_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_MEMBERSHIP_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_ADMINS_FIELD_NUMBER: _ClassVar[int]
    ENDPOINTS_FIELD_NUMBER: _ClassVar[int]
    PROOF_FIELD_NUMBER: _ClassVar[int]
    obj_type: str
    schema_version: int
    group_did: str
    entity_kind: DidEntityKind
    did_doc_id: str
    doc_version: int
    host_zone: str
    owner: str
    name: str
    avatar: str
    description: str
    purpose: GroupPurpose
    created_at_ms: int
    updated_at_ms: int
    profile_version: int
    policy: GroupPolicy
    collection_policy: GroupCollectionPolicy
    attribution_policy: GroupAttributionPolicy
    public_membership: MembershipVisibility
    public_admins: MembershipVisibility
    endpoints: GroupEndpoints
    proof: str
    def __init__(self, obj_type: _Optional[str] = ..., schema_version: _Optional[int] = ..., group_did: _Optional[str] = ..., entity_kind: _Optional[_Union[DidEntityKind, str]] = ..., did_doc_id: _Optional[str] = ..., doc_version: _Optional[int] = ..., host_zone: _Optional[str] = ..., owner: _Optional[str] = ..., name: _Optional[str] = ..., avatar: _Optional[str] = ..., description: _Optional[str] = ..., purpose: _Optional[_Union[GroupPurpose, _Mapping]] = ..., created_at_ms: _Optional[int] = ..., updated_at_ms: _Optional[int] = ..., profile_version: _Optional[int] = ..., policy: _Optional[_Union[GroupPolicy, _Mapping]] = ..., collection_policy: _Optional[_Union[GroupCollectionPolicy, _Mapping]] = ..., attribution_policy: _Optional[_Union[GroupAttributionPolicy, _Mapping]] = ..., public_membership: _Optional[_Union[MembershipVisibility, str]] = ..., public_admins: _Optional[_Union[MembershipVisibility, str]] = ..., endpoints: _Optional[_Union[GroupEndpoints, _Mapping]] = ..., proof: _Optional[str] = ...) -> None: ...

class MaybeGroupDoc(_message.Message):
    __slots__ = ("doc",)
    DOC_FIELD_NUMBER: _ClassVar[int]
    doc: GroupDoc
    def __init__(self, doc: _Optional[_Union[GroupDoc, _Mapping]] = ...) -> None: ...

class GroupMemberRecord(_message.Message):
    __slots__ = ("group_did", "member_did", "member_kind", "role", "state", "joined_at_ms", "updated_at_ms", "invited_by", "approved_by", "member_proof_id", "mute_until_ms", "delivery_preference")
    GROUP_DID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_DID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_KIND_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    JOINED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    INVITED_BY_FIELD_NUMBER: _ClassVar[int]
    APPROVED_BY_FIELD_NUMBER: _ClassVar[int]
    MEMBER_PROOF_ID_FIELD_NUMBER: _ClassVar[int]
    MUTE_UNTIL_MS_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_PREFERENCE_FIELD_NUMBER: _ClassVar[int]
    group_did: str
    member_did: str
    member_kind: DidMemberKind
    role: GroupRole
    state: GroupMemberState
    joined_at_ms: int
    updated_at_ms: int
    invited_by: str
    approved_by: str
    member_proof_id: str
    mute_until_ms: int
    delivery_preference: GroupDeliveryPreference
    def __init__(self, group_did: _Optional[str] = ..., member_did: _Optional[str] = ..., member_kind: _Optional[_Union[DidMemberKind, str]] = ..., role: _Optional[_Union[GroupRole, str]] = ..., state: _Optional[_Union[GroupMemberState, str]] = ..., joined_at_ms: _Optional[int] = ..., updated_at_ms: _Optional[int] = ..., invited_by: _Optional[str] = ..., approved_by: _Optional[str] = ..., member_proof_id: _Optional[str] = ..., mute_until_ms: _Optional[int] = ..., delivery_preference: _Optional[_Union[GroupDeliveryPreference, str]] = ...) -> None: ...

class GroupMemberRecordList(_message.Message):
    __slots__ = ("members",)
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    members: _containers.RepeatedCompositeFieldContainer[GroupMemberRecord]
    def __init__(self, members: _Optional[_Iterable[_Union[GroupMemberRecord, _Mapping]]] = ...) -> None: ...

class GroupMemberProof(_message.Message):
    __slots__ = ("obj_type", "schema_version", "group_did", "member_did", "member_kind", "role", "proof_scope", "invite_id", "request_id", "nonce", "issued_at_ms", "expires_at_ms", "signer", "member_zone", "reverse_proof_uri", "proof")
    OBJ_TYPE_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_VERSION_FIELD_NUMBER: _ClassVar[int]
    GROUP_DID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_DID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_KIND_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    PROOF_SCOPE_FIELD_NUMBER: _ClassVar[int]
    INVITE_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    NONCE_FIELD_NUMBER: _ClassVar[int]
    ISSUED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_MS_FIELD_NUMBER: _ClassVar[int]
    SIGNER_FIELD_NUMBER: _ClassVar[int]
    MEMBER_ZONE_FIELD_NUMBER: _ClassVar[int]
    REVERSE_PROOF_URI_FIELD_NUMBER: _ClassVar[int]
    PROOF_FIELD_NUMBER: _ClassVar[int]
    obj_type: str
    schema_version: int
    group_did: str
    member_did: str
    member_kind: DidMemberKind
    role: GroupRole
    proof_scope: GroupMemberProofScope
    invite_id: str
    request_id: str
    nonce: str
    issued_at_ms: int
    expires_at_ms: int
    signer: str
    member_zone: str
    reverse_proof_uri: str
    proof: str
    def __init__(self, obj_type: _Optional[str] = ..., schema_version: _Optional[int] = ..., group_did: _Optional[str] = ..., member_did: _Optional[str] = ..., member_kind: _Optional[_Union[DidMemberKind, str]] = ..., role: _Optional[_Union[GroupRole, str]] = ..., proof_scope: _Optional[_Union[GroupMemberProofScope, str]] = ..., invite_id: _Optional[str] = ..., request_id: _Optional[str] = ..., nonce: _Optional[str] = ..., issued_at_ms: _Optional[int] = ..., expires_at_ms: _Optional[int] = ..., signer: _Optional[str] = ..., member_zone: _Optional[str] = ..., reverse_proof_uri: _Optional[str] = ..., proof: _Optional[str] = ...) -> None: ...

class GroupSettings(_message.Message):
    __slots__ = ("group_did", "join_policy", "post_policy", "history_visibility", "retention_policy", "default_delivery", "collection_policy", "attribution_policy")
    GROUP_DID_FIELD_NUMBER: _ClassVar[int]
    JOIN_POLICY_FIELD_NUMBER: _ClassVar[int]
    POST_POLICY_FIELD_NUMBER: _ClassVar[int]
    HISTORY_VISIBILITY_FIELD_NUMBER: _ClassVar[int]
    RETENTION_POLICY_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_DELIVERY_FIELD_NUMBER: _ClassVar[int]
    COLLECTION_POLICY_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTION_POLICY_FIELD_NUMBER: _ClassVar[int]
    group_did: str
    join_policy: JoinPolicy
    post_policy: PostPolicy
    history_visibility: HistoryVisibility
    retention_policy: RetentionPolicy
    default_delivery: GroupDeliveryPreference
    collection_policy: GroupCollectionPolicy
    attribution_policy: GroupAttributionPolicy
    def __init__(self, group_did: _Optional[str] = ..., join_policy: _Optional[_Union[JoinPolicy, str]] = ..., post_policy: _Optional[_Union[PostPolicy, _Mapping]] = ..., history_visibility: _Optional[_Union[HistoryVisibility, str]] = ..., retention_policy: _Optional[_Union[RetentionPolicy, _Mapping]] = ..., default_delivery: _Optional[_Union[GroupDeliveryPreference, str]] = ..., collection_policy: _Optional[_Union[GroupCollectionPolicy, _Mapping]] = ..., attribution_policy: _Optional[_Union[GroupAttributionPolicy, _Mapping]] = ...) -> None: ...

class GroupSubgroup(_message.Message):
    __slots__ = ("group_did", "subgroup_id", "name", "description", "member_dids", "created_by", "created_at_ms", "updated_at_ms")
    GROUP_DID_FIELD_NUMBER: _ClassVar[int]
    SUBGROUP_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    MEMBER_DIDS_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    group_did: str
    subgroup_id: str
    name: str
    description: str
    member_dids: _containers.RepeatedScalarFieldContainer[str]
    created_by: str
    created_at_ms: int
    updated_at_ms: int
    def __init__(self, group_did: _Optional[str] = ..., subgroup_id: _Optional[str] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., member_dids: _Optional[_Iterable[str]] = ..., created_by: _Optional[str] = ..., created_at_ms: _Optional[int] = ..., updated_at_ms: _Optional[int] = ...) -> None: ...

class GroupSubgroupList(_message.Message):
    __slots__ = ("subgroups",)
    SUBGROUPS_FIELD_NUMBER: _ClassVar[int]
    subgroups: _containers.RepeatedCompositeFieldContainer[GroupSubgroup]
    def __init__(self, subgroups: _Optional[_Iterable[_Union[GroupSubgroup, _Mapping]]] = ...) -> None: ...

class ExpandedDid(_message.Message):
    __slots__ = ("did", "member_kind", "via_path", "role")
    DID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_KIND_FIELD_NUMBER: _ClassVar[int]
    VIA_PATH_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    did: str
    member_kind: DidMemberKind
    via_path: _containers.RepeatedScalarFieldContainer[str]
    role: GroupRole
    def __init__(self, did: _Optional[str] = ..., member_kind: _Optional[_Union[DidMemberKind, str]] = ..., via_path: _Optional[_Iterable[str]] = ..., role: _Optional[_Union[GroupRole, str]] = ...) -> None: ...

class GroupExpansionSnapshot(_message.Message):
    __slots__ = ("obj_type", "schema_version", "operation_id", "root_group_did", "purpose", "requested_by", "created_at_ms", "max_depth", "expanded_members", "opaque_members", "visited_groups", "truncated_groups", "cycle_paths", "policy_digest", "proof_digest")
    OBJ_TYPE_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_VERSION_FIELD_NUMBER: _ClassVar[int]
    OPERATION_ID_FIELD_NUMBER: _ClassVar[int]
    ROOT_GROUP_DID_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_BY_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    MAX_DEPTH_FIELD_NUMBER: _ClassVar[int]
    EXPANDED_MEMBERS_FIELD_NUMBER: _ClassVar[int]
    OPAQUE_MEMBERS_FIELD_NUMBER: _ClassVar[int]
    VISITED_GROUPS_FIELD_NUMBER: _ClassVar[int]
    TRUNCATED_GROUPS_FIELD_NUMBER: _ClassVar[int]
    CYCLE_PATHS_FIELD_NUMBER: _ClassVar[int]
    POLICY_DIGEST_FIELD_NUMBER: _ClassVar[int]
    PROOF_DIGEST_FIELD_NUMBER: _ClassVar[int]
    obj_type: str
    schema_version: int
    operation_id: str
    root_group_did: str
    purpose: GroupExpansionPurpose
    requested_by: str
    created_at_ms: int
    max_depth: int
    expanded_members: _containers.RepeatedCompositeFieldContainer[ExpandedDid]
    opaque_members: _containers.RepeatedScalarFieldContainer[str]
    visited_groups: _containers.RepeatedScalarFieldContainer[str]
    truncated_groups: _containers.RepeatedScalarFieldContainer[str]
    cycle_paths: _containers.RepeatedCompositeFieldContainer[_struct_pb2.ListValue]
    policy_digest: str
    proof_digest: str
    def __init__(self, obj_type: _Optional[str] = ..., schema_version: _Optional[int] = ..., operation_id: _Optional[str] = ..., root_group_did: _Optional[str] = ..., purpose: _Optional[_Union[GroupExpansionPurpose, str]] = ..., requested_by: _Optional[str] = ..., created_at_ms: _Optional[int] = ..., max_depth: _Optional[int] = ..., expanded_members: _Optional[_Iterable[_Union[ExpandedDid, _Mapping]]] = ..., opaque_members: _Optional[_Iterable[str]] = ..., visited_groups: _Optional[_Iterable[str]] = ..., truncated_groups: _Optional[_Iterable[str]] = ..., cycle_paths: _Optional[_Iterable[_Union[_struct_pb2.ListValue, _Mapping]]] = ..., policy_digest: _Optional[str] = ..., proof_digest: _Optional[str] = ...) -> None: ...

class GroupSummary(_message.Message):
    __slots__ = ("group_did", "name", "avatar", "host_zone", "owner", "purpose", "entity_kind", "member_count", "is_hosted_by_self", "can_message", "updated_at_ms")
    GROUP_DID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    AVATAR_FIELD_NUMBER: _ClassVar[int]
    HOST_ZONE_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    ENTITY_KIND_FIELD_NUMBER: _ClassVar[int]
    MEMBER_COUNT_FIELD_NUMBER: _ClassVar[int]
    IS_HOSTED_BY_SELF_FIELD_NUMBER: _ClassVar[int]
    CAN_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    group_did: str
    name: str
    avatar: str
    host_zone: str
    owner: str
    purpose: GroupPurpose
    entity_kind: DidEntityKind
    member_count: int
    is_hosted_by_self: bool
    can_message: bool
    updated_at_ms: int
    def __init__(self, group_did: _Optional[str] = ..., name: _Optional[str] = ..., avatar: _Optional[str] = ..., host_zone: _Optional[str] = ..., owner: _Optional[str] = ..., purpose: _Optional[_Union[GroupPurpose, _Mapping]] = ..., entity_kind: _Optional[_Union[DidEntityKind, str]] = ..., member_count: _Optional[int] = ..., is_hosted_by_self: _Optional[bool] = ..., can_message: _Optional[bool] = ..., updated_at_ms: _Optional[int] = ...) -> None: ...

class GroupSummaryList(_message.Message):
    __slots__ = ("groups",)
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    groups: _containers.RepeatedCompositeFieldContainer[GroupSummary]
    def __init__(self, groups: _Optional[_Iterable[_Union[GroupSummary, _Mapping]]] = ...) -> None: ...

class GroupCreateProfile(_message.Message):
    __slots__ = ("name", "avatar", "description", "purpose", "group_did", "host_zone", "public_membership", "public_admins", "endpoints")
    NAME_FIELD_NUMBER: _ClassVar[int]
    AVATAR_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    GROUP_DID_FIELD_NUMBER: _ClassVar[int]
    HOST_ZONE_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_MEMBERSHIP_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_ADMINS_FIELD_NUMBER: _ClassVar[int]
    ENDPOINTS_FIELD_NUMBER: _ClassVar[int]
    name: str
    avatar: str
    description: str
    purpose: GroupPurpose
    group_did: str
    host_zone: str
    public_membership: MembershipVisibility
    public_admins: MembershipVisibility
    endpoints: GroupEndpoints
    def __init__(self, name: _Optional[str] = ..., avatar: _Optional[str] = ..., description: _Optional[str] = ..., purpose: _Optional[_Union[GroupPurpose, _Mapping]] = ..., group_did: _Optional[str] = ..., host_zone: _Optional[str] = ..., public_membership: _Optional[_Union[MembershipVisibility, str]] = ..., public_admins: _Optional[_Union[MembershipVisibility, str]] = ..., endpoints: _Optional[_Union[GroupEndpoints, _Mapping]] = ...) -> None: ...

class GroupProfilePatch(_message.Message):
    __slots__ = ("name", "avatar", "description", "purpose", "public_membership", "public_admins", "endpoints")
    NAME_FIELD_NUMBER: _ClassVar[int]
    AVATAR_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_MEMBERSHIP_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_ADMINS_FIELD_NUMBER: _ClassVar[int]
    ENDPOINTS_FIELD_NUMBER: _ClassVar[int]
    name: str
    avatar: str
    description: str
    purpose: GroupPurpose
    public_membership: MembershipVisibility
    public_admins: MembershipVisibility
    endpoints: GroupEndpoints
    def __init__(self, name: _Optional[str] = ..., avatar: _Optional[str] = ..., description: _Optional[str] = ..., purpose: _Optional[_Union[GroupPurpose, _Mapping]] = ..., public_membership: _Optional[_Union[MembershipVisibility, str]] = ..., public_admins: _Optional[_Union[MembershipVisibility, str]] = ..., endpoints: _Optional[_Union[GroupEndpoints, _Mapping]] = ...) -> None: ...

class GroupSubgroupPatch(_message.Message):
    __slots__ = ("name", "description", "member_dids")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    MEMBER_DIDS_FIELD_NUMBER: _ClassVar[int]
    name: str
    description: str
    member_dids: _struct_pb2.ListValue
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ..., member_dids: _Optional[_Union[_struct_pb2.ListValue, _Mapping]] = ...) -> None: ...

class GroupAccessDecision(_message.Message):
    __slots__ = ("action", "allowed", "reason", "effective_role")
    ACTION_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_ROLE_FIELD_NUMBER: _ClassVar[int]
    action: str
    allowed: bool
    reason: str
    effective_role: GroupRole
    def __init__(self, action: _Optional[str] = ..., allowed: _Optional[bool] = ..., reason: _Optional[str] = ..., effective_role: _Optional[_Union[GroupRole, str]] = ...) -> None: ...

class GroupCreateRequest(_message.Message):
    __slots__ = ("owner_did", "profile", "settings", "host_owner")
    OWNER_DID_FIELD_NUMBER: _ClassVar[int]
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    HOST_OWNER_FIELD_NUMBER: _ClassVar[int]
    owner_did: str
    profile: GroupCreateProfile
    settings: GroupSettings
    host_owner: str
    def __init__(self, owner_did: _Optional[str] = ..., profile: _Optional[_Union[GroupCreateProfile, _Mapping]] = ..., settings: _Optional[_Union[GroupSettings, _Mapping]] = ..., host_owner: _Optional[str] = ...) -> None: ...

class GroupGetDocRequest(_message.Message):
    __slots__ = ("group_did", "host_owner")
    GROUP_DID_FIELD_NUMBER: _ClassVar[int]
    HOST_OWNER_FIELD_NUMBER: _ClassVar[int]
    group_did: str
    host_owner: str
    def __init__(self, group_did: _Optional[str] = ..., host_owner: _Optional[str] = ...) -> None: ...

class GroupUpdateProfileRequest(_message.Message):
    __slots__ = ("actor_did", "group_did", "patch", "host_owner")
    ACTOR_DID_FIELD_NUMBER: _ClassVar[int]
    GROUP_DID_FIELD_NUMBER: _ClassVar[int]
    PATCH_FIELD_NUMBER: _ClassVar[int]
    HOST_OWNER_FIELD_NUMBER: _ClassVar[int]
    actor_did: str
    group_did: str
    patch: GroupProfilePatch
    host_owner: str
    def __init__(self, actor_did: _Optional[str] = ..., group_did: _Optional[str] = ..., patch: _Optional[_Union[GroupProfilePatch, _Mapping]] = ..., host_owner: _Optional[str] = ...) -> None: ...

class GroupInviteMemberRequest(_message.Message):
    __slots__ = ("actor_did", "group_did", "member_did", "role", "member_kind", "invite_id", "host_owner")
    ACTOR_DID_FIELD_NUMBER: _ClassVar[int]
    GROUP_DID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_DID_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    MEMBER_KIND_FIELD_NUMBER: _ClassVar[int]
    INVITE_ID_FIELD_NUMBER: _ClassVar[int]
    HOST_OWNER_FIELD_NUMBER: _ClassVar[int]
    actor_did: str
    group_did: str
    member_did: str
    role: GroupRole
    member_kind: DidMemberKind
    invite_id: str
    host_owner: str
    def __init__(self, actor_did: _Optional[str] = ..., group_did: _Optional[str] = ..., member_did: _Optional[str] = ..., role: _Optional[_Union[GroupRole, str]] = ..., member_kind: _Optional[_Union[DidMemberKind, str]] = ..., invite_id: _Optional[str] = ..., host_owner: _Optional[str] = ...) -> None: ...

class GroupSubmitMemberProofRequest(_message.Message):
    __slots__ = ("group_did", "proof", "host_owner")
    GROUP_DID_FIELD_NUMBER: _ClassVar[int]
    PROOF_FIELD_NUMBER: _ClassVar[int]
    HOST_OWNER_FIELD_NUMBER: _ClassVar[int]
    group_did: str
    proof: GroupMemberProof
    host_owner: str
    def __init__(self, group_did: _Optional[str] = ..., proof: _Optional[_Union[GroupMemberProof, _Mapping]] = ..., host_owner: _Optional[str] = ...) -> None: ...

class GroupRequestJoinRequest(_message.Message):
    __slots__ = ("member_did", "group_did", "proof", "host_owner")
    MEMBER_DID_FIELD_NUMBER: _ClassVar[int]
    GROUP_DID_FIELD_NUMBER: _ClassVar[int]
    PROOF_FIELD_NUMBER: _ClassVar[int]
    HOST_OWNER_FIELD_NUMBER: _ClassVar[int]
    member_did: str
    group_did: str
    proof: GroupMemberProof
    host_owner: str
    def __init__(self, member_did: _Optional[str] = ..., group_did: _Optional[str] = ..., proof: _Optional[_Union[GroupMemberProof, _Mapping]] = ..., host_owner: _Optional[str] = ...) -> None: ...

class GroupApproveMemberRequest(_message.Message):
    __slots__ = ("actor_did", "group_did", "member_did", "host_owner")
    ACTOR_DID_FIELD_NUMBER: _ClassVar[int]
    GROUP_DID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_DID_FIELD_NUMBER: _ClassVar[int]
    HOST_OWNER_FIELD_NUMBER: _ClassVar[int]
    actor_did: str
    group_did: str
    member_did: str
    host_owner: str
    def __init__(self, actor_did: _Optional[str] = ..., group_did: _Optional[str] = ..., member_did: _Optional[str] = ..., host_owner: _Optional[str] = ...) -> None: ...

class GroupRejectMemberRequest(_message.Message):
    __slots__ = ("actor_did", "group_did", "member_did", "reason", "host_owner")
    ACTOR_DID_FIELD_NUMBER: _ClassVar[int]
    GROUP_DID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_DID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    HOST_OWNER_FIELD_NUMBER: _ClassVar[int]
    actor_did: str
    group_did: str
    member_did: str
    reason: str
    host_owner: str
    def __init__(self, actor_did: _Optional[str] = ..., group_did: _Optional[str] = ..., member_did: _Optional[str] = ..., reason: _Optional[str] = ..., host_owner: _Optional[str] = ...) -> None: ...

class GroupRemoveMemberRequest(_message.Message):
    __slots__ = ("actor_did", "group_did", "member_did", "reason", "host_owner")
    ACTOR_DID_FIELD_NUMBER: _ClassVar[int]
    GROUP_DID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_DID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    HOST_OWNER_FIELD_NUMBER: _ClassVar[int]
    actor_did: str
    group_did: str
    member_did: str
    reason: str
    host_owner: str
    def __init__(self, actor_did: _Optional[str] = ..., group_did: _Optional[str] = ..., member_did: _Optional[str] = ..., reason: _Optional[str] = ..., host_owner: _Optional[str] = ...) -> None: ...

class GroupUpdateMemberRoleRequest(_message.Message):
    __slots__ = ("actor_did", "group_did", "member_did", "role", "host_owner")
    ACTOR_DID_FIELD_NUMBER: _ClassVar[int]
    GROUP_DID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_DID_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    HOST_OWNER_FIELD_NUMBER: _ClassVar[int]
    actor_did: str
    group_did: str
    member_did: str
    role: GroupRole
    host_owner: str
    def __init__(self, actor_did: _Optional[str] = ..., group_did: _Optional[str] = ..., member_did: _Optional[str] = ..., role: _Optional[_Union[GroupRole, str]] = ..., host_owner: _Optional[str] = ...) -> None: ...

class GroupListMembersRequest(_message.Message):
    __slots__ = ("group_did", "state_filter", "role_filter", "limit", "offset", "host_owner")
    GROUP_DID_FIELD_NUMBER: _ClassVar[int]
    STATE_FILTER_FIELD_NUMBER: _ClassVar[int]
    ROLE_FILTER_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    HOST_OWNER_FIELD_NUMBER: _ClassVar[int]
    group_did: str
    state_filter: _struct_pb2.ListValue
    role_filter: _struct_pb2.ListValue
    limit: int
    offset: int
    host_owner: str
    def __init__(self, group_did: _Optional[str] = ..., state_filter: _Optional[_Union[_struct_pb2.ListValue, _Mapping]] = ..., role_filter: _Optional[_Union[_struct_pb2.ListValue, _Mapping]] = ..., limit: _Optional[int] = ..., offset: _Optional[int] = ..., host_owner: _Optional[str] = ...) -> None: ...

class GroupCreateSubgroupRequest(_message.Message):
    __slots__ = ("actor_did", "group_did", "name", "description", "member_dids", "host_owner")
    ACTOR_DID_FIELD_NUMBER: _ClassVar[int]
    GROUP_DID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    MEMBER_DIDS_FIELD_NUMBER: _ClassVar[int]
    HOST_OWNER_FIELD_NUMBER: _ClassVar[int]
    actor_did: str
    group_did: str
    name: str
    description: str
    member_dids: _containers.RepeatedScalarFieldContainer[str]
    host_owner: str
    def __init__(self, actor_did: _Optional[str] = ..., group_did: _Optional[str] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., member_dids: _Optional[_Iterable[str]] = ..., host_owner: _Optional[str] = ...) -> None: ...

class GroupUpdateSubgroupRequest(_message.Message):
    __slots__ = ("actor_did", "group_did", "subgroup_id", "patch", "host_owner")
    ACTOR_DID_FIELD_NUMBER: _ClassVar[int]
    GROUP_DID_FIELD_NUMBER: _ClassVar[int]
    SUBGROUP_ID_FIELD_NUMBER: _ClassVar[int]
    PATCH_FIELD_NUMBER: _ClassVar[int]
    HOST_OWNER_FIELD_NUMBER: _ClassVar[int]
    actor_did: str
    group_did: str
    subgroup_id: str
    patch: GroupSubgroupPatch
    host_owner: str
    def __init__(self, actor_did: _Optional[str] = ..., group_did: _Optional[str] = ..., subgroup_id: _Optional[str] = ..., patch: _Optional[_Union[GroupSubgroupPatch, _Mapping]] = ..., host_owner: _Optional[str] = ...) -> None: ...

class GroupListSubgroupsRequest(_message.Message):
    __slots__ = ("group_did", "host_owner")
    GROUP_DID_FIELD_NUMBER: _ClassVar[int]
    HOST_OWNER_FIELD_NUMBER: _ClassVar[int]
    group_did: str
    host_owner: str
    def __init__(self, group_did: _Optional[str] = ..., host_owner: _Optional[str] = ...) -> None: ...

class GroupUpdateCollectionPolicyRequest(_message.Message):
    __slots__ = ("actor_did", "group_did", "policy", "host_owner")
    ACTOR_DID_FIELD_NUMBER: _ClassVar[int]
    GROUP_DID_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    HOST_OWNER_FIELD_NUMBER: _ClassVar[int]
    actor_did: str
    group_did: str
    policy: GroupCollectionPolicy
    host_owner: str
    def __init__(self, actor_did: _Optional[str] = ..., group_did: _Optional[str] = ..., policy: _Optional[_Union[GroupCollectionPolicy, _Mapping]] = ..., host_owner: _Optional[str] = ...) -> None: ...

class GroupUpdateAttributionPolicyRequest(_message.Message):
    __slots__ = ("actor_did", "group_did", "policy", "host_owner")
    ACTOR_DID_FIELD_NUMBER: _ClassVar[int]
    GROUP_DID_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    HOST_OWNER_FIELD_NUMBER: _ClassVar[int]
    actor_did: str
    group_did: str
    policy: GroupAttributionPolicy
    host_owner: str
    def __init__(self, actor_did: _Optional[str] = ..., group_did: _Optional[str] = ..., policy: _Optional[_Union[GroupAttributionPolicy, _Mapping]] = ..., host_owner: _Optional[str] = ...) -> None: ...

class GroupExpandMembersRequest(_message.Message):
    __slots__ = ("group_did", "purpose", "actor_did", "max_depth", "host_owner")
    GROUP_DID_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    ACTOR_DID_FIELD_NUMBER: _ClassVar[int]
    MAX_DEPTH_FIELD_NUMBER: _ClassVar[int]
    HOST_OWNER_FIELD_NUMBER: _ClassVar[int]
    group_did: str
    purpose: GroupExpansionPurpose
    actor_did: str
    max_depth: int
    host_owner: str
    def __init__(self, group_did: _Optional[str] = ..., purpose: _Optional[_Union[GroupExpansionPurpose, str]] = ..., actor_did: _Optional[str] = ..., max_depth: _Optional[int] = ..., host_owner: _Optional[str] = ...) -> None: ...

class GroupListByMemberRequest(_message.Message):
    __slots__ = ("member_did", "host_owner")
    MEMBER_DID_FIELD_NUMBER: _ClassVar[int]
    HOST_OWNER_FIELD_NUMBER: _ClassVar[int]
    member_did: str
    host_owner: str
    def __init__(self, member_did: _Optional[str] = ..., host_owner: _Optional[str] = ...) -> None: ...

class GroupListParentsRequest(_message.Message):
    __slots__ = ("child_group_did", "host_owner")
    CHILD_GROUP_DID_FIELD_NUMBER: _ClassVar[int]
    HOST_OWNER_FIELD_NUMBER: _ClassVar[int]
    child_group_did: str
    host_owner: str
    def __init__(self, child_group_did: _Optional[str] = ..., host_owner: _Optional[str] = ...) -> None: ...

class GroupCheckAccessRequest(_message.Message):
    __slots__ = ("group_did", "actor_did", "action", "host_owner")
    GROUP_DID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_DID_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    HOST_OWNER_FIELD_NUMBER: _ClassVar[int]
    group_did: str
    actor_did: str
    action: str
    host_owner: str
    def __init__(self, group_did: _Optional[str] = ..., actor_did: _Optional[str] = ..., action: _Optional[str] = ..., host_owner: _Optional[str] = ...) -> None: ...
