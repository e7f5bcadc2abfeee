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

class AccountType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACCOUNT_TYPE_USER: _ClassVar[AccountType]
    ACCOUNT_TYPE_GROUP: _ClassVar[AccountType]

class TaskPhase(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TASK_PHASE_UNSPECIFIED: _ClassVar[TaskPhase]
    TASK_PHASE_PROMISED: _ClassVar[TaskPhase]
    TASK_PHASE_ACCEPTED: _ClassVar[TaskPhase]
    TASK_PHASE_RUNNING: _ClassVar[TaskPhase]
    TASK_PHASE_WAITING: _ClassVar[TaskPhase]
    TASK_PHASE_PAUSED: _ClassVar[TaskPhase]
    TASK_PHASE_TERMINAL: _ClassVar[TaskPhase]

class TaskOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TASK_OUTCOME_UNSPECIFIED: _ClassVar[TaskOutcome]
    SUCCEEDED: _ClassVar[TaskOutcome]
    FAILED: _ClassVar[TaskOutcome]
    CANCELED: _ClassVar[TaskOutcome]

class DispatchRejectReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DISPATCH_REJECT_REASON_UNSPECIFIED: _ClassVar[DispatchRejectReason]
    DISPATCH_REJECT_REASON_SCHEMA_MISMATCH: _ClassVar[DispatchRejectReason]
    DISPATCH_REJECT_REASON_AUTH_DENIED: _ClassVar[DispatchRejectReason]
    DISPATCH_REJECT_REASON_POLICY_DENIED: _ClassVar[DispatchRejectReason]
    DISPATCH_REJECT_REASON_TARGET_DISABLED: _ClassVar[DispatchRejectReason]

class ExecutorKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EXECUTOR_KIND_UNSPECIFIED: _ClassVar[ExecutorKind]
    EXECUTOR_KIND_UNBOUND: _ClassVar[ExecutorKind]
    EXECUTOR_KIND_APP: _ClassVar[ExecutorKind]
    EXECUTOR_KIND_HUMAN_SET: _ClassVar[ExecutorKind]

class DispatchStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DISPATCH_STATUS_UNSPECIFIED: _ClassVar[DispatchStatus]
    DISPATCH_STATUS_QUEUED: _ClassVar[DispatchStatus]
    DISPATCH_STATUS_REJECTED: _ClassVar[DispatchStatus]
ACCOUNT_TYPE_USER: AccountType
ACCOUNT_TYPE_GROUP: AccountType
TASK_PHASE_UNSPECIFIED: TaskPhase
TASK_PHASE_PROMISED: TaskPhase
TASK_PHASE_ACCEPTED: TaskPhase
TASK_PHASE_RUNNING: TaskPhase
TASK_PHASE_WAITING: TaskPhase
TASK_PHASE_PAUSED: TaskPhase
TASK_PHASE_TERMINAL: TaskPhase
TASK_OUTCOME_UNSPECIFIED: TaskOutcome
SUCCEEDED: TaskOutcome
FAILED: TaskOutcome
CANCELED: TaskOutcome
DISPATCH_REJECT_REASON_UNSPECIFIED: DispatchRejectReason
DISPATCH_REJECT_REASON_SCHEMA_MISMATCH: DispatchRejectReason
DISPATCH_REJECT_REASON_AUTH_DENIED: DispatchRejectReason
DISPATCH_REJECT_REASON_POLICY_DENIED: DispatchRejectReason
DISPATCH_REJECT_REASON_TARGET_DISABLED: DispatchRejectReason
EXECUTOR_KIND_UNSPECIFIED: ExecutorKind
EXECUTOR_KIND_UNBOUND: ExecutorKind
EXECUTOR_KIND_APP: ExecutorKind
EXECUTOR_KIND_HUMAN_SET: ExecutorKind
DISPATCH_STATUS_UNSPECIFIED: DispatchStatus
DISPATCH_STATUS_QUEUED: DispatchStatus
DISPATCH_STATUS_REJECTED: DispatchStatus

class DeliveryOutcome(_message.Message):
    __slots__ = ("status", "retryable")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    RETRYABLE_FIELD_NUMBER: _ClassVar[int]
    status: str
    retryable: bool
    def __init__(self, status: _Optional[str] = ..., retryable: _Optional[bool] = ...) -> None: ...

class ReportDeliveryRequest(_message.Message):
    __slots__ = ("delivery_id", "outcome", "attempts")
    DELIVERY_ID_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    delivery_id: str
    outcome: DeliveryOutcome
    attempts: int
    def __init__(self, delivery_id: _Optional[str] = ..., outcome: _Optional[_Union[DeliveryOutcome, _Mapping]] = ..., attempts: _Optional[int] = ...) -> None: ...

class DeliveryState(_message.Message):
    __slots__ = ("delivery_id", "attempts", "duplicate_risk", "account_id", "account_type", "tags", "labels", "log")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    DELIVERY_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_RISK_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_TYPE_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    LOG_FIELD_NUMBER: _ClassVar[int]
    delivery_id: str
    attempts: int
    duplicate_risk: bool
    account_id: str
    account_type: AccountType
    tags: _containers.RepeatedScalarFieldContainer[str]
    labels: _containers.ScalarMap[str, str]
    log: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, delivery_id: _Optional[str] = ..., attempts: _Optional[int] = ..., duplicate_risk: _Optional[bool] = ..., account_id: _Optional[str] = ..., account_type: _Optional[_Union[AccountType, str]] = ..., tags: _Optional[_Iterable[str]] = ..., labels: _Optional[_Mapping[str, str]] = ..., log: _Optional[_Iterable[str]] = ...) -> None: ...

class TaskIdRequest(_message.Message):
    __slots__ = ("task_id",)
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    def __init__(self, task_id: _Optional[str] = ...) -> None: ...

class ActorRef(_message.Message):
    __slots__ = ("user_id", "app_id", "app_instance_id")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    APP_ID_FIELD_NUMBER: _ClassVar[int]
    APP_INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    app_id: str
    app_instance_id: str
    def __init__(self, user_id: _Optional[str] = ..., app_id: _Optional[str] = ..., app_instance_id: _Optional[str] = ...) -> None: ...

class AppExecutor(_message.Message):
    __slots__ = ("target_id", "app_id", "app_instance_id")
    TARGET_ID_FIELD_NUMBER: _ClassVar[int]
    APP_ID_FIELD_NUMBER: _ClassVar[int]
    APP_INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    target_id: str
    app_id: str
    app_instance_id: str
    def __init__(self, target_id: _Optional[str] = ..., app_id: _Optional[str] = ..., app_instance_id: _Optional[str] = ...) -> None: ...

class TaskExecutor(_message.Message):
    __slots__ = ("unbound", "human_set", "app")
    UNBOUND_FIELD_NUMBER: _ClassVar[int]
    HUMAN_SET_FIELD_NUMBER: _ClassVar[int]
    APP_FIELD_NUMBER: _ClassVar[int]
    unbound: _empty_pb2.Empty
    human_set: _empty_pb2.Empty
    app: AppExecutor
    def __init__(self, unbound: _Optional[_Union[_empty_pb2.Empty, _Mapping]] = ..., human_set: _Optional[_Union[_empty_pb2.Empty, _Mapping]] = ..., app: _Optional[_Union[AppExecutor, _Mapping]] = ...) -> None: ...

class Progress(_message.Message):
    __slots__ = ("done", "total")
    DONE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    done: int
    total: int
    def __init__(self, done: _Optional[int] = ..., total: _Optional[int] = ...) -> None: ...

class Task(_message.Message):
    __slots__ = ("task_id", "name", "parent_id", "root_id", "input", "creator", "executor", "runner_epoch", "assignees", "phase", "progress", "message", "outcome", "result", "revision", "created_at", "updated_at", "completed_at")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PARENT_ID_FIELD_NUMBER: _ClassVar[int]
    ROOT_ID_FIELD_NUMBER: _ClassVar[int]
    INPUT_FIELD_NUMBER: _ClassVar[int]
    CREATOR_FIELD_NUMBER: _ClassVar[int]
    EXECUTOR_FIELD_NUMBER: _ClassVar[int]
    RUNNER_EPOCH_FIELD_NUMBER: _ClassVar[int]
    ASSIGNEES_FIELD_NUMBER: _ClassVar[int]
    PHASE_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_AT_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    name: str
    parent_id: str
    root_id: str
    input: _struct_pb2.Value
    creator: ActorRef
    executor: TaskExecutor
    runner_epoch: int
    assignees: _containers.RepeatedScalarFieldContainer[str]
    phase: TaskPhase
    progress: Progress
    message: str
    outcome: TaskOutcome
    result: _struct_pb2.Value
    revision: int
    created_at: int
    updated_at: int
    completed_at: int
    def __init__(self, task_id: _Optional[str] = ..., name: _Optional[str] = ..., parent_id: _Optional[str] = ..., root_id: _Optional[str] = ..., input: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., creator: _Optional[_Union[ActorRef, _Mapping]] = ..., executor: _Optional[_Union[TaskExecutor, _Mapping]] = ..., runner_epoch: _Optional[int] = ..., assignees: _Optional[_Iterable[str]] = ..., phase: _Optional[_Union[TaskPhase, str]] = ..., progress: _Optional[_Union[Progress, _Mapping]] = ..., message: _Optional[str] = ..., outcome: _Optional[_Union[TaskOutcome, str]] = ..., result: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., revision: _Optional[int] = ..., created_at: _Optional[int] = ..., updated_at: _Optional[int] = ..., completed_at: _Optional[int] = ...) -> None: ...

class TaskResult(_message.Message):
    __slots__ = ("task",)
    TASK_FIELD_NUMBER: _ClassVar[int]
    task: Task
    def __init__(self, task: _Optional[_Union[Task, _Mapping]] = ...) -> None: ...

class RunnerWriteEnvelope(_message.Message):
    __slots__ = ("task_id", "app_instance_id", "runner_epoch", "expected_revision")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    APP_INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    RUNNER_EPOCH_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_REVISION_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    app_instance_id: str
    runner_epoch: int
    expected_revision: int
    def __init__(self, task_id: _Optional[str] = ..., app_instance_id: _Optional[str] = ..., runner_epoch: _Optional[int] = ..., expected_revision: _Optional[int] = ...) -> None: ...

class ReportProgressRequest(_message.Message):
    __slots__ = ("envelope", "progress", "message")
    ENVELOPE_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    envelope: RunnerWriteEnvelope
    progress: _struct_pb2.Value
    message: str
    def __init__(self, envelope: _Optional[_Union[RunnerWriteEnvelope, _Mapping]] = ..., progress: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., message: _Optional[str] = ...) -> None: ...

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
    auth: _struct_pb2.Struct
    lease_epoch: int
    deadline_at: int
    def __init__(self, delivery_id: _Optional[str] = ..., task_id: _Optional[str] = ..., schema_id: _Optional[str] = ..., schema_version: _Optional[int] = ..., target_id: _Optional[str] = ..., input: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., input_digest: _Optional[str] = ..., auth: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., lease_epoch: _Optional[int] = ..., deadline_at: _Optional[int] = ...) -> None: ...

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
    stable_reason: DispatchRejectReason
    detail: str
    def __init__(self, stable_reason: _Optional[_Union[DispatchRejectReason, str]] = ..., detail: _Optional[str] = ...) -> None: ...

class OfferTaskResult(_message.Message):
    __slots__ = ("accepted", "busy", "rejected")
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    BUSY_FIELD_NUMBER: _ClassVar[int]
    REJECTED_FIELD_NUMBER: _ClassVar[int]
    accepted: OfferAccepted
    busy: OfferBusy
    rejected: OfferRejected
    def __init__(self, accepted: _Optional[_Union[OfferAccepted, _Mapping]] = ..., busy: _Optional[_Union[OfferBusy, _Mapping]] = ..., rejected: _Optional[_Union[OfferRejected, _Mapping]] = ...) -> None: ...

class SubPosition(_message.Message):
    __slots__ = ("earliest", "latest", "at")
    EARLIEST_FIELD_NUMBER: _ClassVar[int]
    LATEST_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    earliest: _empty_pb2.Empty
    latest: _empty_pb2.Empty
    at: int
    def __init__(self, earliest: _Optional[_Union[_empty_pb2.Empty, _Mapping]] = ..., latest: _Optional[_Union[_empty_pb2.Empty, _Mapping]] = ..., at: _Optional[int] = ...) -> None: ...

class SeekRequest(_message.Message):
    __slots__ = ("sub_id", "index")
    SUB_ID_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    sub_id: str
    index: SubPosition
    def __init__(self, sub_id: _Optional[str] = ..., index: _Optional[_Union[SubPosition, _Mapping]] = ...) -> None: ...

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
    details: _struct_pb2.Struct
    iat: int
    exp: int
    def __init__(self, subject: _Optional[str] = ..., action: _Optional[str] = ..., target: _Optional[str] = ..., base_on: _Optional[str] = ..., details: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., iat: _Optional[int] = ..., exp: _Optional[int] = ...) -> None: ...

class RepoProof(_message.Message):
    __slots__ = ("action", "collection")
    ACTION_FIELD_NUMBER: _ClassVar[int]
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    action: ActionObject
    collection: _struct_pb2.Struct
    def __init__(self, action: _Optional[_Union[ActionObject, _Mapping]] = ..., collection: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class AddProofRequest(_message.Message):
    __slots__ = ("proof",)
    PROOF_FIELD_NUMBER: _ClassVar[int]
    proof: RepoProof
    def __init__(self, proof: _Optional[_Union[RepoProof, _Mapping]] = ...) -> None: ...

class ProofId(_message.Message):
    __slots__ = ("proof_id",)
    PROOF_ID_FIELD_NUMBER: _ClassVar[int]
    proof_id: str
    def __init__(self, proof_id: _Optional[str] = ...) -> None: ...

class QueueMessage(_message.Message):
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

class PostMessageRequest(_message.Message):
    __slots__ = ("queue_urn", "message")
    QUEUE_URN_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    queue_urn: str
    message: QueueMessage
    def __init__(self, queue_urn: _Optional[str] = ..., message: _Optional[_Union[QueueMessage, _Mapping]] = ...) -> None: ...

class MessageIndex(_message.Message):
    __slots__ = ("index",)
    INDEX_FIELD_NUMBER: _ClassVar[int]
    index: int
    def __init__(self, index: _Optional[int] = ...) -> None: ...

class FetchRequest(_message.Message):
    __slots__ = ("sub_id", "length", "auto_commit")
    SUB_ID_FIELD_NUMBER: _ClassVar[int]
    LENGTH_FIELD_NUMBER: _ClassVar[int]
    AUTO_COMMIT_FIELD_NUMBER: _ClassVar[int]
    sub_id: str
    length: int
    auto_commit: bool
    def __init__(self, sub_id: _Optional[str] = ..., length: _Optional[int] = ..., auto_commit: _Optional[bool] = ...) -> None: ...

class MessageList(_message.Message):
    __slots__ = ("messages",)
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    messages: _containers.RepeatedCompositeFieldContainer[QueueMessage]
    def __init__(self, messages: _Optional[_Iterable[_Union[QueueMessage, _Mapping]]] = ...) -> None: ...

class TaskSchemaDefinition(_message.Message):
    __slots__ = ("schema_id", "schema_version", "input_schema", "output_schema", "presentation_schema", "allowed_executor_kinds", "user_creatable", "publisher_app_id", "enabled", "created_at")
    SCHEMA_ID_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_VERSION_FIELD_NUMBER: _ClassVar[int]
    INPUT_SCHEMA_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_SCHEMA_FIELD_NUMBER: _ClassVar[int]
    PRESENTATION_SCHEMA_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_EXECUTOR_KINDS_FIELD_NUMBER: _ClassVar[int]
    USER_CREATABLE_FIELD_NUMBER: _ClassVar[int]
    PUBLISHER_APP_ID_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    schema_id: str
    schema_version: int
    input_schema: _struct_pb2.Value
    output_schema: _struct_pb2.Value
    presentation_schema: _struct_pb2.Value
    allowed_executor_kinds: _containers.RepeatedScalarFieldContainer[ExecutorKind]
    user_creatable: bool
    publisher_app_id: str
    enabled: bool
    created_at: int
    def __init__(self, schema_id: _Optional[str] = ..., schema_version: _Optional[int] = ..., input_schema: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., output_schema: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., presentation_schema: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., allowed_executor_kinds: _Optional[_Iterable[_Union[ExecutorKind, str]]] = ..., user_creatable: _Optional[bool] = ..., publisher_app_id: _Optional[str] = ..., enabled: _Optional[bool] = ..., created_at: _Optional[int] = ...) -> None: ...

class RegisterSchemaRequest(_message.Message):
    __slots__ = ("definition",)
    DEFINITION_FIELD_NUMBER: _ClassVar[int]
    definition: TaskSchemaDefinition
    def __init__(self, definition: _Optional[_Union[TaskSchemaDefinition, _Mapping]] = ...) -> None: ...

class DispatchIdRequest(_message.Message):
    __slots__ = ("dispatch_id",)
    DISPATCH_ID_FIELD_NUMBER: _ClassVar[int]
    dispatch_id: str
    def __init__(self, dispatch_id: _Optional[str] = ...) -> None: ...

class DefaultRoute(_message.Message):
    __slots__ = ("route_revision",)
    ROUTE_REVISION_FIELD_NUMBER: _ClassVar[int]
    route_revision: int
    def __init__(self, route_revision: _Optional[int] = ...) -> None: ...

class TargetSelection(_message.Message):
    __slots__ = ("explicit", "default_route")
    EXPLICIT_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_ROUTE_FIELD_NUMBER: _ClassVar[int]
    explicit: _empty_pb2.Empty
    default_route: DefaultRoute
    def __init__(self, explicit: _Optional[_Union[_empty_pb2.Empty, _Mapping]] = ..., default_route: _Optional[_Union[DefaultRoute, _Mapping]] = ...) -> None: ...

class DispatchRecord(_message.Message):
    __slots__ = ("dispatch_id", "requested_target_id", "target_id", "target_selection", "status", "reject_reason", "counters")
    class CountersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: Progress
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[Progress, _Mapping]] = ...) -> None: ...
    DISPATCH_ID_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_TARGET_ID_FIELD_NUMBER: _ClassVar[int]
    TARGET_ID_FIELD_NUMBER: _ClassVar[int]
    TARGET_SELECTION_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REJECT_REASON_FIELD_NUMBER: _ClassVar[int]
    COUNTERS_FIELD_NUMBER: _ClassVar[int]
    dispatch_id: str
    requested_target_id: str
    target_id: str
    target_selection: TargetSelection
    status: DispatchStatus
    reject_reason: DispatchRejectReason
    counters: _containers.MessageMap[str, Progress]
    def __init__(self, dispatch_id: _Optional[str] = ..., requested_target_id: _Optional[str] = ..., target_id: _Optional[str] = ..., target_selection: _Optional[_Union[TargetSelection, _Mapping]] = ..., status: _Optional[_Union[DispatchStatus, str]] = ..., reject_reason: _Optional[_Union[DispatchRejectReason, str]] = ..., counters: _Optional[_Mapping[str, Progress]] = ...) -> None: ...

class ScheduleIdRequest(_message.Message):
    __slots__ = ("schedule_id",)
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    schedule_id: str
    def __init__(self, schedule_id: _Optional[str] = ...) -> None: ...

class Schedule(_message.Message):
    __slots__ = ("schedule_id", "name", "description")
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    schedule_id: str
    name: str
    description: str
    def __init__(self, schedule_id: _Optional[str] = ..., name: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class ScheduleResult(_message.Message):
    __slots__ = ("schedule",)
    SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    schedule: Schedule
    def __init__(self, schedule: _Optional[_Union[Schedule, _Mapping]] = ...) -> None: ...
