# mypy: disable-error-code="misc,type-arg,no-untyped-def"
from buckyos.generated import options_pb2 as _options_pb2
from buckyos.generated import task_dispatcher_pb2 as _task_dispatcher_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class OfferTaskRequest(_message.Message):
    __slots__ = ("delivery_id", "task_id", "schema_id", "schema_version", "target_id", "input", "input_digest", "auth", "lease_epoch", "deadline_at")
    DELIVERY_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_ID_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_VERSION_FIELD_NUMBER: _ClassVar[int]
    TARGET_ID_FIELD_NUMBER: _ClassVar[int]
    INPUT_FIELD_NUMBER: _ClassVar[int]
    INPUT_DIGEST_FIELD_NUMBER: _ClassVar[int]
    AUTH_FIELD_NUMBER: _ClassVar[int]
    LEASE_EPOCH_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_AT_FIELD_NUMBER: _ClassVar[int]
    delivery_id: str
    task_id: str
    schema_id: str
    schema_version: int
    target_id: str
    input: _struct_pb2.Value
    input_digest: str
    auth: _task_dispatcher_pb2.DispatchAuthEnvelope
    lease_epoch: int
    deadline_at: int
    def __init__(self, delivery_id: _Optional[str] = ..., task_id: _Optional[str] = ..., schema_id: _Optional[str] = ..., schema_version: _Optional[int] = ..., target_id: _Optional[str] = ..., input: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., input_digest: _Optional[str] = ..., auth: _Optional[_Union[_task_dispatcher_pb2.DispatchAuthEnvelope, _Mapping]] = ..., lease_epoch: _Optional[int] = ..., deadline_at: _Optional[int] = ...) -> None: ...

class OfferAccepted(_message.Message):
    __slots__ = ("app_instance_id", "reservation_token")
    APP_INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    RESERVATION_TOKEN_FIELD_NUMBER: _ClassVar[int]
    app_instance_id: str
    reservation_token: str
    def __init__(self, app_instance_id: _Optional[str] = ..., reservation_token: _Optional[str] = ...) -> None: ...

class OfferBusy(_message.Message):
    __slots__ = ("retry_after_ms",)
    RETRY_AFTER_MS_FIELD_NUMBER: _ClassVar[int]
    retry_after_ms: int
    def __init__(self, retry_after_ms: _Optional[int] = ...) -> None: ...

class OfferRejected(_message.Message):
    __slots__ = ("stable_reason", "detail")
    STABLE_REASON_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    stable_reason: _task_dispatcher_pb2.DispatchRejectReason
    detail: str
    def __init__(self, stable_reason: _Optional[_Union[_task_dispatcher_pb2.DispatchRejectReason, str]] = ..., detail: _Optional[str] = ...) -> None: ...

class OfferTaskResult(_message.Message):
    __slots__ = ("offer_accepted", "busy", "rejected")
    OFFER_ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    BUSY_FIELD_NUMBER: _ClassVar[int]
    REJECTED_FIELD_NUMBER: _ClassVar[int]
    offer_accepted: OfferAccepted
    busy: OfferBusy
    rejected: OfferRejected
    def __init__(self, offer_accepted: _Optional[_Union[OfferAccepted, _Mapping]] = ..., busy: _Optional[_Union[OfferBusy, _Mapping]] = ..., rejected: _Optional[_Union[OfferRejected, _Mapping]] = ...) -> None: ...

class ActivateTaskRequest(_message.Message):
    __slots__ = ("delivery_id", "task_id", "runner_epoch", "reservation_token")
    DELIVERY_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    RUNNER_EPOCH_FIELD_NUMBER: _ClassVar[int]
    RESERVATION_TOKEN_FIELD_NUMBER: _ClassVar[int]
    delivery_id: str
    task_id: str
    runner_epoch: int
    reservation_token: str
    def __init__(self, delivery_id: _Optional[str] = ..., task_id: _Optional[str] = ..., runner_epoch: _Optional[int] = ..., reservation_token: _Optional[str] = ...) -> None: ...

class ActivateTaskResult(_message.Message):
    __slots__ = ("activated",)
    ACTIVATED_FIELD_NUMBER: _ClassVar[int]
    activated: bool
    def __init__(self, activated: _Optional[bool] = ...) -> None: ...
