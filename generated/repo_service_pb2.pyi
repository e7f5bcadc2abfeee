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

class ActionObject(_message.Message):
    __slots__ = ("subject", "action", "target", "base_on", "details", "iat", "exp")
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    BASE_ON_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    IAT_FIELD_NUMBER: _ClassVar[int]
    EXP_FIELD_NUMBER: _ClassVar[int]
    subject: str
    action: str
    target: str
    base_on: str
    details: _struct_pb2.Value
    iat: int
    exp: int
    def __init__(self, subject: _Optional[str] = ..., action: _Optional[str] = ..., target: _Optional[str] = ..., base_on: _Optional[str] = ..., details: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., iat: _Optional[int] = ..., exp: _Optional[int] = ...) -> None: ...

class RepoProof(_message.Message):
    __slots__ = ("action", "collection")
    ACTION_FIELD_NUMBER: _ClassVar[int]
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    action: ActionObject
    collection: _struct_pb2.Struct
    def __init__(self, action: _Optional[_Union[ActionObject, _Mapping]] = ..., collection: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class ContentIdRequest(_message.Message):
    __slots__ = ("content_id",)
    CONTENT_ID_FIELD_NUMBER: _ClassVar[int]
    content_id: str
    def __init__(self, content_id: _Optional[str] = ...) -> None: ...

class ObjIdResult(_message.Message):
    __slots__ = ("obj_id",)
    OBJ_ID_FIELD_NUMBER: _ClassVar[int]
    obj_id: str
    def __init__(self, obj_id: _Optional[str] = ...) -> None: ...

class ContentIdResult(_message.Message):
    __slots__ = ("content_id",)
    CONTENT_ID_FIELD_NUMBER: _ClassVar[int]
    content_id: str
    def __init__(self, content_id: _Optional[str] = ...) -> None: ...

class CollectRequest(_message.Message):
    __slots__ = ("content_meta", "referral_proof")
    CONTENT_META_FIELD_NUMBER: _ClassVar[int]
    REFERRAL_PROOF_FIELD_NUMBER: _ClassVar[int]
    content_meta: _struct_pb2.Value
    referral_proof: ActionObject
    def __init__(self, content_meta: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., referral_proof: _Optional[_Union[ActionObject, _Mapping]] = ...) -> None: ...

class PinRequest(_message.Message):
    __slots__ = ("content_id", "download_proof")
    CONTENT_ID_FIELD_NUMBER: _ClassVar[int]
    DOWNLOAD_PROOF_FIELD_NUMBER: _ClassVar[int]
    content_id: str
    download_proof: ActionObject
    def __init__(self, content_id: _Optional[str] = ..., download_proof: _Optional[_Union[ActionObject, _Mapping]] = ...) -> None: ...

class UnpinRequest(_message.Message):
    __slots__ = ("content_id", "force")
    CONTENT_ID_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    content_id: str
    force: bool
    def __init__(self, content_id: _Optional[str] = ..., force: _Optional[bool] = ...) -> None: ...

class UncollectRequest(_message.Message):
    __slots__ = ("content_id", "force")
    CONTENT_ID_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    content_id: str
    force: bool
    def __init__(self, content_id: _Optional[str] = ..., force: _Optional[bool] = ...) -> None: ...

class AddProofRequest(_message.Message):
    __slots__ = ("proof",)
    PROOF_FIELD_NUMBER: _ClassVar[int]
    proof: RepoProof
    def __init__(self, proof: _Optional[_Union[RepoProof, _Mapping]] = ...) -> None: ...

class ProofIdResult(_message.Message):
    __slots__ = ("proof_id",)
    PROOF_ID_FIELD_NUMBER: _ClassVar[int]
    proof_id: str
    def __init__(self, proof_id: _Optional[str] = ...) -> None: ...

class ProofFilter(_message.Message):
    __slots__ = ("proof_type", "from_did", "to_did", "start_ts", "end_ts")
    PROOF_TYPE_FIELD_NUMBER: _ClassVar[int]
    FROM_DID_FIELD_NUMBER: _ClassVar[int]
    TO_DID_FIELD_NUMBER: _ClassVar[int]
    START_TS_FIELD_NUMBER: _ClassVar[int]
    END_TS_FIELD_NUMBER: _ClassVar[int]
    proof_type: str
    from_did: str
    to_did: str
    start_ts: int
    end_ts: int
    def __init__(self, proof_type: _Optional[str] = ..., from_did: _Optional[str] = ..., to_did: _Optional[str] = ..., start_ts: _Optional[int] = ..., end_ts: _Optional[int] = ...) -> None: ...

class GetProofsRequest(_message.Message):
    __slots__ = ("content_id", "filter")
    CONTENT_ID_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    content_id: str
    filter: ProofFilter
    def __init__(self, content_id: _Optional[str] = ..., filter: _Optional[_Union[ProofFilter, _Mapping]] = ...) -> None: ...

class ProofList(_message.Message):
    __slots__ = ("proofs",)
    PROOFS_FIELD_NUMBER: _ClassVar[int]
    proofs: _containers.RepeatedCompositeFieldContainer[RepoProof]
    def __init__(self, proofs: _Optional[_Iterable[_Union[RepoProof, _Mapping]]] = ...) -> None: ...

class ResolveRequest(_message.Message):
    __slots__ = ("content_name",)
    CONTENT_NAME_FIELD_NUMBER: _ClassVar[int]
    content_name: str
    def __init__(self, content_name: _Optional[str] = ...) -> None: ...

class ObjIdList(_message.Message):
    __slots__ = ("obj_ids",)
    OBJ_IDS_FIELD_NUMBER: _ClassVar[int]
    obj_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, obj_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ListFilter(_message.Message):
    __slots__ = ("status", "origin", "content_name", "owner_did")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    CONTENT_NAME_FIELD_NUMBER: _ClassVar[int]
    OWNER_DID_FIELD_NUMBER: _ClassVar[int]
    status: str
    origin: str
    content_name: str
    owner_did: str
    def __init__(self, status: _Optional[str] = ..., origin: _Optional[str] = ..., content_name: _Optional[str] = ..., owner_did: _Optional[str] = ...) -> None: ...

class ListRequest(_message.Message):
    __slots__ = ("filter",)
    FILTER_FIELD_NUMBER: _ClassVar[int]
    filter: ListFilter
    def __init__(self, filter: _Optional[_Union[ListFilter, _Mapping]] = ...) -> None: ...

class RepoRecord(_message.Message):
    __slots__ = ("content_id", "content_name", "status", "origin", "meta", "owner_did", "author", "access_policy", "price", "content_size", "collected_at", "pinned_at", "updated_at")
    CONTENT_ID_FIELD_NUMBER: _ClassVar[int]
    CONTENT_NAME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    META_FIELD_NUMBER: _ClassVar[int]
    OWNER_DID_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_FIELD_NUMBER: _ClassVar[int]
    ACCESS_POLICY_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_SIZE_FIELD_NUMBER: _ClassVar[int]
    COLLECTED_AT_FIELD_NUMBER: _ClassVar[int]
    PINNED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    content_id: str
    content_name: str
    status: str
    origin: str
    meta: _struct_pb2.Value
    owner_did: str
    author: str
    access_policy: str
    price: str
    content_size: int
    collected_at: int
    pinned_at: int
    updated_at: int
    def __init__(self, content_id: _Optional[str] = ..., content_name: _Optional[str] = ..., status: _Optional[str] = ..., origin: _Optional[str] = ..., meta: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., owner_did: _Optional[str] = ..., author: _Optional[str] = ..., access_policy: _Optional[str] = ..., price: _Optional[str] = ..., content_size: _Optional[int] = ..., collected_at: _Optional[int] = ..., pinned_at: _Optional[int] = ..., updated_at: _Optional[int] = ...) -> None: ...

class RecordList(_message.Message):
    __slots__ = ("records",)
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    records: _containers.RepeatedCompositeFieldContainer[RepoRecord]
    def __init__(self, records: _Optional[_Iterable[_Union[RepoRecord, _Mapping]]] = ...) -> None: ...

class StatRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RepoStat(_message.Message):
    __slots__ = ("total_objects", "collected_objects", "pinned_objects", "local_objects", "remote_objects", "total_content_bytes", "total_proofs")
    TOTAL_OBJECTS_FIELD_NUMBER: _ClassVar[int]
    COLLECTED_OBJECTS_FIELD_NUMBER: _ClassVar[int]
    PINNED_OBJECTS_FIELD_NUMBER: _ClassVar[int]
    LOCAL_OBJECTS_FIELD_NUMBER: _ClassVar[int]
    REMOTE_OBJECTS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_CONTENT_BYTES_FIELD_NUMBER: _ClassVar[int]
    TOTAL_PROOFS_FIELD_NUMBER: _ClassVar[int]
    total_objects: int
    collected_objects: int
    pinned_objects: int
    local_objects: int
    remote_objects: int
    total_content_bytes: int
    total_proofs: int
    def __init__(self, total_objects: _Optional[int] = ..., collected_objects: _Optional[int] = ..., pinned_objects: _Optional[int] = ..., local_objects: _Optional[int] = ..., remote_objects: _Optional[int] = ..., total_content_bytes: _Optional[int] = ..., total_proofs: _Optional[int] = ...) -> None: ...

class ServeRequestContext(_message.Message):
    __slots__ = ("requester_did", "requester_device_id", "receipt", "extra")
    REQUESTER_DID_FIELD_NUMBER: _ClassVar[int]
    REQUESTER_DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_FIELD_NUMBER: _ClassVar[int]
    EXTRA_FIELD_NUMBER: _ClassVar[int]
    requester_did: str
    requester_device_id: str
    receipt: _struct_pb2.Value
    extra: _struct_pb2.Value
    def __init__(self, requester_did: _Optional[str] = ..., requester_device_id: _Optional[str] = ..., receipt: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., extra: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ...) -> None: ...

class ServeRequest(_message.Message):
    __slots__ = ("content_id", "request_context")
    CONTENT_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_CONTEXT_FIELD_NUMBER: _ClassVar[int]
    content_id: str
    request_context: ServeRequestContext
    def __init__(self, content_id: _Optional[str] = ..., request_context: _Optional[_Union[ServeRequestContext, _Mapping]] = ...) -> None: ...

class ContentRef(_message.Message):
    __slots__ = ("content_id", "access_url", "metadata")
    CONTENT_ID_FIELD_NUMBER: _ClassVar[int]
    ACCESS_URL_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    content_id: str
    access_url: str
    metadata: _struct_pb2.Value
    def __init__(self, content_id: _Optional[str] = ..., access_url: _Optional[str] = ..., metadata: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ...) -> None: ...

class ServeResult(_message.Message):
    __slots__ = ("status", "content_ref", "download_proof", "reject_code", "reject_reason")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CONTENT_REF_FIELD_NUMBER: _ClassVar[int]
    DOWNLOAD_PROOF_FIELD_NUMBER: _ClassVar[int]
    REJECT_CODE_FIELD_NUMBER: _ClassVar[int]
    REJECT_REASON_FIELD_NUMBER: _ClassVar[int]
    status: str
    content_ref: ContentRef
    download_proof: ActionObject
    reject_code: str
    reject_reason: str
    def __init__(self, status: _Optional[str] = ..., content_ref: _Optional[_Union[ContentRef, _Mapping]] = ..., download_proof: _Optional[_Union[ActionObject, _Mapping]] = ..., reject_code: _Optional[str] = ..., reject_reason: _Optional[str] = ...) -> None: ...
