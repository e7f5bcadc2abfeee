# mypy: disable-error-code="misc,type-arg,no-untyped-def"
from buckyos.generated import options_pb2 as _options_pb2
from buckyos.generated import task_manager_pb2 as _task_manager_pb2
from google.protobuf import empty_pb2 as _empty_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DispatchStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DISPATCH_STATUS_UNSPECIFIED: _ClassVar[DispatchStatus]
    DISPATCH_STATUS_CREATING_TASK: _ClassVar[DispatchStatus]
    DISPATCH_STATUS_PENDING_APPROVAL: _ClassVar[DispatchStatus]
    DISPATCH_STATUS_QUEUED: _ClassVar[DispatchStatus]
    DISPATCH_STATUS_WAITING_FOR_TARGET: _ClassVar[DispatchStatus]
    DISPATCH_STATUS_OFFERING: _ClassVar[DispatchStatus]
    DISPATCH_STATUS_BINDING: _ClassVar[DispatchStatus]
    DISPATCH_STATUS_ACTIVATING: _ClassVar[DispatchStatus]
    DISPATCH_STATUS_ACCEPTED: _ClassVar[DispatchStatus]
    DISPATCH_STATUS_REJECTED: _ClassVar[DispatchStatus]
    DISPATCH_STATUS_FAILED: _ClassVar[DispatchStatus]
    DISPATCH_STATUS_CANCELED: _ClassVar[DispatchStatus]
    DISPATCH_STATUS_EXPIRED: _ClassVar[DispatchStatus]

class DispatchRejectReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DISPATCH_REJECT_REASON_UNSPECIFIED: _ClassVar[DispatchRejectReason]
    DISPATCH_REJECT_REASON_SCHEMA_MISMATCH: _ClassVar[DispatchRejectReason]
    DISPATCH_REJECT_REASON_AUTH_DENIED: _ClassVar[DispatchRejectReason]
    DISPATCH_REJECT_REASON_POLICY_DENIED: _ClassVar[DispatchRejectReason]
    DISPATCH_REJECT_REASON_PRECONDITION_FAILED: _ClassVar[DispatchRejectReason]
    DISPATCH_REJECT_REASON_UNSUPPORTED_OPERATION: _ClassVar[DispatchRejectReason]
    DISPATCH_REJECT_REASON_TARGET_DISABLED: _ClassVar[DispatchRejectReason]
    DISPATCH_REJECT_REASON_INVALID_INPUT: _ClassVar[DispatchRejectReason]
    DISPATCH_REJECT_REASON_APPROVAL_DENIED: _ClassVar[DispatchRejectReason]

class InstanceSelection(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INSTANCE_SELECTION_UNSPECIFIED: _ClassVar[InstanceSelection]
    INSTANCE_SELECTION_ROUND_ROBIN: _ClassVar[InstanceSelection]
    INSTANCE_SELECTION_LEAST_LOADED: _ClassVar[InstanceSelection]

class DispatchAuthPolicy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DISPATCH_AUTH_POLICY_UNSPECIFIED: _ClassVar[DispatchAuthPolicy]
    DISPATCH_AUTH_POLICY_ZONE_USERS: _ClassVar[DispatchAuthPolicy]
    DISPATCH_AUTH_POLICY_ZONE_TRUSTED_ONLY: _ClassVar[DispatchAuthPolicy]

class DispatchApprovalPolicy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DISPATCH_APPROVAL_POLICY_UNSPECIFIED: _ClassVar[DispatchApprovalPolicy]
    DISPATCH_APPROVAL_POLICY_NEVER: _ClassVar[DispatchApprovalPolicy]
    DISPATCH_APPROVAL_POLICY_INTERACTIVE_CALLERS: _ClassVar[DispatchApprovalPolicy]
    DISPATCH_APPROVAL_POLICY_ALL_CALLERS: _ClassVar[DispatchApprovalPolicy]

class ApprovalDecision(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    APPROVAL_DECISION_UNSPECIFIED: _ClassVar[ApprovalDecision]
    APPROVAL_DECISION_APPROVED: _ClassVar[ApprovalDecision]
    APPROVAL_DECISION_DENIED: _ClassVar[ApprovalDecision]
DISPATCH_STATUS_UNSPECIFIED: DispatchStatus
DISPATCH_STATUS_CREATING_TASK: DispatchStatus
DISPATCH_STATUS_PENDING_APPROVAL: DispatchStatus
DISPATCH_STATUS_QUEUED: DispatchStatus
DISPATCH_STATUS_WAITING_FOR_TARGET: DispatchStatus
DISPATCH_STATUS_OFFERING: DispatchStatus
DISPATCH_STATUS_BINDING: DispatchStatus
DISPATCH_STATUS_ACTIVATING: DispatchStatus
DISPATCH_STATUS_ACCEPTED: DispatchStatus
DISPATCH_STATUS_REJECTED: DispatchStatus
DISPATCH_STATUS_FAILED: DispatchStatus
DISPATCH_STATUS_CANCELED: DispatchStatus
DISPATCH_STATUS_EXPIRED: DispatchStatus
DISPATCH_REJECT_REASON_UNSPECIFIED: DispatchRejectReason
DISPATCH_REJECT_REASON_SCHEMA_MISMATCH: DispatchRejectReason
DISPATCH_REJECT_REASON_AUTH_DENIED: DispatchRejectReason
DISPATCH_REJECT_REASON_POLICY_DENIED: DispatchRejectReason
DISPATCH_REJECT_REASON_PRECONDITION_FAILED: DispatchRejectReason
DISPATCH_REJECT_REASON_UNSUPPORTED_OPERATION: DispatchRejectReason
DISPATCH_REJECT_REASON_TARGET_DISABLED: DispatchRejectReason
DISPATCH_REJECT_REASON_INVALID_INPUT: DispatchRejectReason
DISPATCH_REJECT_REASON_APPROVAL_DENIED: DispatchRejectReason
INSTANCE_SELECTION_UNSPECIFIED: InstanceSelection
INSTANCE_SELECTION_ROUND_ROBIN: InstanceSelection
INSTANCE_SELECTION_LEAST_LOADED: InstanceSelection
DISPATCH_AUTH_POLICY_UNSPECIFIED: DispatchAuthPolicy
DISPATCH_AUTH_POLICY_ZONE_USERS: DispatchAuthPolicy
DISPATCH_AUTH_POLICY_ZONE_TRUSTED_ONLY: DispatchAuthPolicy
DISPATCH_APPROVAL_POLICY_UNSPECIFIED: DispatchApprovalPolicy
DISPATCH_APPROVAL_POLICY_NEVER: DispatchApprovalPolicy
DISPATCH_APPROVAL_POLICY_INTERACTIVE_CALLERS: DispatchApprovalPolicy
DISPATCH_APPROVAL_POLICY_ALL_CALLERS: DispatchApprovalPolicy
APPROVAL_DECISION_UNSPECIFIED: ApprovalDecision
APPROVAL_DECISION_APPROVED: ApprovalDecision
APPROVAL_DECISION_DENIED: ApprovalDecision

class DeliveryPolicy(_message.Message):
    __slots__ = ("rpc_timeout_ms", "backoff_base_ms", "backoff_max_ms", "max_attempts", "instance_selection")
    RPC_TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    BACKOFF_BASE_MS_FIELD_NUMBER: _ClassVar[int]
    BACKOFF_MAX_MS_FIELD_NUMBER: _ClassVar[int]
    MAX_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_SELECTION_FIELD_NUMBER: _ClassVar[int]
    rpc_timeout_ms: int
    backoff_base_ms: int
    backoff_max_ms: int
    max_attempts: int
    instance_selection: InstanceSelection
    def __init__(self, rpc_timeout_ms: _Optional[int] = ..., backoff_base_ms: _Optional[int] = ..., backoff_max_ms: _Optional[int] = ..., max_attempts: _Optional[int] = ..., instance_selection: _Optional[_Union[InstanceSelection, str]] = ...) -> None: ...

class DispatchApproval(_message.Message):
    __slots__ = ("decision", "decided_by_user", "decided_by_app", "decided_at", "note")
    DECISION_FIELD_NUMBER: _ClassVar[int]
    DECIDED_BY_USER_FIELD_NUMBER: _ClassVar[int]
    DECIDED_BY_APP_FIELD_NUMBER: _ClassVar[int]
    DECIDED_AT_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    decision: ApprovalDecision
    decided_by_user: str
    decided_by_app: str
    decided_at: int
    note: str
    def __init__(self, decision: _Optional[_Union[ApprovalDecision, str]] = ..., decided_by_user: _Optional[str] = ..., decided_by_app: _Optional[str] = ..., decided_at: _Optional[int] = ..., note: _Optional[str] = ...) -> None: ...

class RunnerFunctionDescriptor(_message.Message):
    __slots__ = ("schema_id", "min_schema_version", "max_schema_version", "offer_method", "activate_method")
    SCHEMA_ID_FIELD_NUMBER: _ClassVar[int]
    MIN_SCHEMA_VERSION_FIELD_NUMBER: _ClassVar[int]
    MAX_SCHEMA_VERSION_FIELD_NUMBER: _ClassVar[int]
    OFFER_METHOD_FIELD_NUMBER: _ClassVar[int]
    ACTIVATE_METHOD_FIELD_NUMBER: _ClassVar[int]
    schema_id: str
    min_schema_version: int
    max_schema_version: int
    offer_method: str
    activate_method: str
    def __init__(self, schema_id: _Optional[str] = ..., min_schema_version: _Optional[int] = ..., max_schema_version: _Optional[int] = ..., offer_method: _Optional[str] = ..., activate_method: _Optional[str] = ...) -> None: ...

class TargetRegistration(_message.Message):
    __slots__ = ("target_id", "owner_user_id", "owner_app_id", "functions", "auth_policy", "approval_policy", "delivery_policy", "max_concurrency", "enabled", "registration_revision")
    TARGET_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_USER_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_APP_ID_FIELD_NUMBER: _ClassVar[int]
    FUNCTIONS_FIELD_NUMBER: _ClassVar[int]
    AUTH_POLICY_FIELD_NUMBER: _ClassVar[int]
    APPROVAL_POLICY_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_POLICY_FIELD_NUMBER: _ClassVar[int]
    MAX_CONCURRENCY_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    REGISTRATION_REVISION_FIELD_NUMBER: _ClassVar[int]
    target_id: str
    owner_user_id: str
    owner_app_id: str
    functions: _containers.RepeatedCompositeFieldContainer[RunnerFunctionDescriptor]
    auth_policy: DispatchAuthPolicy
    approval_policy: DispatchApprovalPolicy
    delivery_policy: DeliveryPolicy
    max_concurrency: int
    enabled: bool
    registration_revision: int
    def __init__(self, target_id: _Optional[str] = ..., owner_user_id: _Optional[str] = ..., owner_app_id: _Optional[str] = ..., functions: _Optional[_Iterable[_Union[RunnerFunctionDescriptor, _Mapping]]] = ..., auth_policy: _Optional[_Union[DispatchAuthPolicy, str]] = ..., approval_policy: _Optional[_Union[DispatchApprovalPolicy, str]] = ..., delivery_policy: _Optional[_Union[DeliveryPolicy, _Mapping]] = ..., max_concurrency: _Optional[int] = ..., enabled: _Optional[bool] = ..., registration_revision: _Optional[int] = ...) -> None: ...

class OperationRoute(_message.Message):
    __slots__ = ("schema_id", "default_target_id", "revision", "enabled")
    SCHEMA_ID_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_TARGET_ID_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    schema_id: str
    default_target_id: str
    revision: int
    enabled: bool
    def __init__(self, schema_id: _Optional[str] = ..., default_target_id: _Optional[str] = ..., revision: _Optional[int] = ..., enabled: _Optional[bool] = ...) -> None: ...

class TargetInstance(_message.Message):
    __slots__ = ("target_id", "instance_id", "endpoint", "lease_epoch", "lease_expires_at", "capacity", "available_capacity")
    TARGET_ID_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    LEASE_EPOCH_FIELD_NUMBER: _ClassVar[int]
    LEASE_EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_CAPACITY_FIELD_NUMBER: _ClassVar[int]
    target_id: str
    instance_id: str
    endpoint: str
    lease_epoch: int
    lease_expires_at: int
    capacity: int
    available_capacity: int
    def __init__(self, target_id: _Optional[str] = ..., instance_id: _Optional[str] = ..., endpoint: _Optional[str] = ..., lease_epoch: _Optional[int] = ..., lease_expires_at: _Optional[int] = ..., capacity: _Optional[int] = ..., available_capacity: _Optional[int] = ...) -> None: ...

class WorkflowStepRef(_message.Message):
    __slots__ = ("workflow_id", "run_id", "step_id")
    WORKFLOW_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    STEP_ID_FIELD_NUMBER: _ClassVar[int]
    workflow_id: str
    run_id: str
    step_id: str
    def __init__(self, workflow_id: _Optional[str] = ..., run_id: _Optional[str] = ..., step_id: _Optional[str] = ...) -> None: ...

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

class DispatchAuthEnvelope(_message.Message):
    __slots__ = ("requested_by_user", "requested_by_app", "on_behalf_of", "zone_trusted_caller", "workflow_ref", "input_digest", "created_at", "expires_at")
    REQUESTED_BY_USER_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_BY_APP_FIELD_NUMBER: _ClassVar[int]
    ON_BEHALF_OF_FIELD_NUMBER: _ClassVar[int]
    ZONE_TRUSTED_CALLER_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_REF_FIELD_NUMBER: _ClassVar[int]
    INPUT_DIGEST_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    requested_by_user: str
    requested_by_app: str
    on_behalf_of: str
    zone_trusted_caller: bool
    workflow_ref: WorkflowStepRef
    input_digest: str
    created_at: int
    expires_at: int
    def __init__(self, requested_by_user: _Optional[str] = ..., requested_by_app: _Optional[str] = ..., on_behalf_of: _Optional[str] = ..., zone_trusted_caller: _Optional[bool] = ..., workflow_ref: _Optional[_Union[WorkflowStepRef, _Mapping]] = ..., input_digest: _Optional[str] = ..., created_at: _Optional[int] = ..., expires_at: _Optional[int] = ...) -> None: ...

class DispatchRecord(_message.Message):
    __slots__ = ("dispatch_id", "requested_target_id", "target_id", "target_selection", "schema_id", "schema_version", "registration_revision", "delivery_policy", "status", "task_id", "input", "auth", "priority", "ready_at", "attempt_count", "reject_reason", "approval", "message", "expires_at", "created_at", "updated_at")
    DISPATCH_ID_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_TARGET_ID_FIELD_NUMBER: _ClassVar[int]
    TARGET_ID_FIELD_NUMBER: _ClassVar[int]
    TARGET_SELECTION_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_ID_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_VERSION_FIELD_NUMBER: _ClassVar[int]
    REGISTRATION_REVISION_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_POLICY_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    INPUT_FIELD_NUMBER: _ClassVar[int]
    AUTH_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    READY_AT_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_COUNT_FIELD_NUMBER: _ClassVar[int]
    REJECT_REASON_FIELD_NUMBER: _ClassVar[int]
    APPROVAL_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    dispatch_id: str
    requested_target_id: str
    target_id: str
    target_selection: TargetSelection
    schema_id: str
    schema_version: int
    registration_revision: int
    delivery_policy: DeliveryPolicy
    status: DispatchStatus
    task_id: str
    input: _struct_pb2.Value
    auth: DispatchAuthEnvelope
    priority: int
    ready_at: int
    attempt_count: int
    reject_reason: DispatchRejectReason
    approval: DispatchApproval
    message: str
    expires_at: int
    created_at: int
    updated_at: int
    def __init__(self, dispatch_id: _Optional[str] = ..., requested_target_id: _Optional[str] = ..., target_id: _Optional[str] = ..., target_selection: _Optional[_Union[TargetSelection, _Mapping]] = ..., schema_id: _Optional[str] = ..., schema_version: _Optional[int] = ..., registration_revision: _Optional[int] = ..., delivery_policy: _Optional[_Union[DeliveryPolicy, _Mapping]] = ..., status: _Optional[_Union[DispatchStatus, str]] = ..., task_id: _Optional[str] = ..., input: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., auth: _Optional[_Union[DispatchAuthEnvelope, _Mapping]] = ..., priority: _Optional[int] = ..., ready_at: _Optional[int] = ..., attempt_count: _Optional[int] = ..., reject_reason: _Optional[_Union[DispatchRejectReason, str]] = ..., approval: _Optional[_Union[DispatchApproval, _Mapping]] = ..., message: _Optional[str] = ..., expires_at: _Optional[int] = ..., created_at: _Optional[int] = ..., updated_at: _Optional[int] = ...) -> None: ...

class DispatchTaskRequest(_message.Message):
    __slots__ = ("target_id", "schema_id", "schema_version", "name", "input", "idempotency_key", "priority", "expires_at", "on_behalf_of", "workflow_ref", "parent_task_id")
    TARGET_ID_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_ID_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_VERSION_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    INPUT_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    ON_BEHALF_OF_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_REF_FIELD_NUMBER: _ClassVar[int]
    PARENT_TASK_ID_FIELD_NUMBER: _ClassVar[int]
    target_id: str
    schema_id: str
    schema_version: int
    name: str
    input: _struct_pb2.Value
    idempotency_key: str
    priority: int
    expires_at: int
    on_behalf_of: str
    workflow_ref: WorkflowStepRef
    parent_task_id: str
    def __init__(self, target_id: _Optional[str] = ..., schema_id: _Optional[str] = ..., schema_version: _Optional[int] = ..., name: _Optional[str] = ..., input: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., idempotency_key: _Optional[str] = ..., priority: _Optional[int] = ..., expires_at: _Optional[int] = ..., on_behalf_of: _Optional[str] = ..., workflow_ref: _Optional[_Union[WorkflowStepRef, _Mapping]] = ..., parent_task_id: _Optional[str] = ...) -> None: ...

class DispatchTaskResult(_message.Message):
    __slots__ = ("task_id", "dispatch_id", "status", "task")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    DISPATCH_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TASK_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    dispatch_id: str
    status: DispatchStatus
    task: _task_manager_pb2.Task
    def __init__(self, task_id: _Optional[str] = ..., dispatch_id: _Optional[str] = ..., status: _Optional[_Union[DispatchStatus, str]] = ..., task: _Optional[_Union[_task_manager_pb2.Task, _Mapping]] = ...) -> None: ...

class GetDispatchRequest(_message.Message):
    __slots__ = ("dispatch_id", "task_id")
    DISPATCH_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    dispatch_id: str
    task_id: str
    def __init__(self, dispatch_id: _Optional[str] = ..., task_id: _Optional[str] = ...) -> None: ...

class DispatchRecordResult(_message.Message):
    __slots__ = ("record",)
    RECORD_FIELD_NUMBER: _ClassVar[int]
    record: DispatchRecord
    def __init__(self, record: _Optional[_Union[DispatchRecord, _Mapping]] = ...) -> None: ...

class ListDispatchesRequest(_message.Message):
    __slots__ = ("status", "target_id", "schema_id", "limit", "cursor")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TARGET_ID_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    status: DispatchStatus
    target_id: str
    schema_id: str
    limit: int
    cursor: str
    def __init__(self, status: _Optional[_Union[DispatchStatus, str]] = ..., target_id: _Optional[str] = ..., schema_id: _Optional[str] = ..., limit: _Optional[int] = ..., cursor: _Optional[str] = ...) -> None: ...

class ListDispatchesResult(_message.Message):
    __slots__ = ("records", "next_cursor")
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    records: _containers.RepeatedCompositeFieldContainer[DispatchRecord]
    next_cursor: str
    def __init__(self, records: _Optional[_Iterable[_Union[DispatchRecord, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class CancelDispatchRequest(_message.Message):
    __slots__ = ("dispatch_id",)
    DISPATCH_ID_FIELD_NUMBER: _ClassVar[int]
    dispatch_id: str
    def __init__(self, dispatch_id: _Optional[str] = ...) -> None: ...

class ApproveDispatchRequest(_message.Message):
    __slots__ = ("dispatch_id", "decision", "note")
    DISPATCH_ID_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    dispatch_id: str
    decision: ApprovalDecision
    note: str
    def __init__(self, dispatch_id: _Optional[str] = ..., decision: _Optional[_Union[ApprovalDecision, str]] = ..., note: _Optional[str] = ...) -> None: ...

class RegisterTargetRequest(_message.Message):
    __slots__ = ("registration",)
    REGISTRATION_FIELD_NUMBER: _ClassVar[int]
    registration: TargetRegistration
    def __init__(self, registration: _Optional[_Union[TargetRegistration, _Mapping]] = ...) -> None: ...

class DisableTargetRequest(_message.Message):
    __slots__ = ("target_id",)
    TARGET_ID_FIELD_NUMBER: _ClassVar[int]
    target_id: str
    def __init__(self, target_id: _Optional[str] = ...) -> None: ...

class AttachInstanceRequest(_message.Message):
    __slots__ = ("target_id", "instance_id", "endpoint", "capacity", "available_capacity", "lease_ms")
    TARGET_ID_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_CAPACITY_FIELD_NUMBER: _ClassVar[int]
    LEASE_MS_FIELD_NUMBER: _ClassVar[int]
    target_id: str
    instance_id: str
    endpoint: str
    capacity: int
    available_capacity: int
    lease_ms: int
    def __init__(self, target_id: _Optional[str] = ..., instance_id: _Optional[str] = ..., endpoint: _Optional[str] = ..., capacity: _Optional[int] = ..., available_capacity: _Optional[int] = ..., lease_ms: _Optional[int] = ...) -> None: ...

class AttachInstanceResult(_message.Message):
    __slots__ = ("lease_epoch", "lease_expires_at", "target_key", "delivery_token")
    LEASE_EPOCH_FIELD_NUMBER: _ClassVar[int]
    LEASE_EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    TARGET_KEY_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_TOKEN_FIELD_NUMBER: _ClassVar[int]
    lease_epoch: int
    lease_expires_at: int
    target_key: str
    delivery_token: str
    def __init__(self, lease_epoch: _Optional[int] = ..., lease_expires_at: _Optional[int] = ..., target_key: _Optional[str] = ..., delivery_token: _Optional[str] = ...) -> None: ...

class RenewInstanceRequest(_message.Message):
    __slots__ = ("target_id", "instance_id", "lease_epoch", "available_capacity", "lease_ms")
    TARGET_ID_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    LEASE_EPOCH_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_CAPACITY_FIELD_NUMBER: _ClassVar[int]
    LEASE_MS_FIELD_NUMBER: _ClassVar[int]
    target_id: str
    instance_id: str
    lease_epoch: int
    available_capacity: int
    lease_ms: int
    def __init__(self, target_id: _Optional[str] = ..., instance_id: _Optional[str] = ..., lease_epoch: _Optional[int] = ..., available_capacity: _Optional[int] = ..., lease_ms: _Optional[int] = ...) -> None: ...

class RenewInstanceResult(_message.Message):
    __slots__ = ("lease_epoch", "lease_expires_at", "delivery_token")
    LEASE_EPOCH_FIELD_NUMBER: _ClassVar[int]
    LEASE_EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_TOKEN_FIELD_NUMBER: _ClassVar[int]
    lease_epoch: int
    lease_expires_at: int
    delivery_token: str
    def __init__(self, lease_epoch: _Optional[int] = ..., lease_expires_at: _Optional[int] = ..., delivery_token: _Optional[str] = ...) -> None: ...

class DetachInstanceRequest(_message.Message):
    __slots__ = ("target_id", "instance_id", "lease_epoch")
    TARGET_ID_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    LEASE_EPOCH_FIELD_NUMBER: _ClassVar[int]
    target_id: str
    instance_id: str
    lease_epoch: int
    def __init__(self, target_id: _Optional[str] = ..., instance_id: _Optional[str] = ..., lease_epoch: _Optional[int] = ...) -> None: ...

class GetTargetRequest(_message.Message):
    __slots__ = ("target_id",)
    TARGET_ID_FIELD_NUMBER: _ClassVar[int]
    target_id: str
    def __init__(self, target_id: _Optional[str] = ...) -> None: ...

class GetTargetResult(_message.Message):
    __slots__ = ("registration", "instances")
    REGISTRATION_FIELD_NUMBER: _ClassVar[int]
    INSTANCES_FIELD_NUMBER: _ClassVar[int]
    registration: TargetRegistration
    instances: _containers.RepeatedCompositeFieldContainer[TargetInstance]
    def __init__(self, registration: _Optional[_Union[TargetRegistration, _Mapping]] = ..., instances: _Optional[_Iterable[_Union[TargetInstance, _Mapping]]] = ...) -> None: ...

class ListTargetsResult(_message.Message):
    __slots__ = ("targets",)
    TARGETS_FIELD_NUMBER: _ClassVar[int]
    targets: _containers.RepeatedCompositeFieldContainer[TargetRegistration]
    def __init__(self, targets: _Optional[_Iterable[_Union[TargetRegistration, _Mapping]]] = ...) -> None: ...

class SetOperationRouteRequest(_message.Message):
    __slots__ = ("schema_id", "default_target_id")
    SCHEMA_ID_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_TARGET_ID_FIELD_NUMBER: _ClassVar[int]
    schema_id: str
    default_target_id: str
    def __init__(self, schema_id: _Optional[str] = ..., default_target_id: _Optional[str] = ...) -> None: ...

class DisableOperationRouteRequest(_message.Message):
    __slots__ = ("schema_id",)
    SCHEMA_ID_FIELD_NUMBER: _ClassVar[int]
    schema_id: str
    def __init__(self, schema_id: _Optional[str] = ...) -> None: ...

class GetOperationRouteRequest(_message.Message):
    __slots__ = ("schema_id",)
    SCHEMA_ID_FIELD_NUMBER: _ClassVar[int]
    schema_id: str
    def __init__(self, schema_id: _Optional[str] = ...) -> None: ...

class GetOperationRouteResult(_message.Message):
    __slots__ = ("route",)
    ROUTE_FIELD_NUMBER: _ClassVar[int]
    route: OperationRoute
    def __init__(self, route: _Optional[_Union[OperationRoute, _Mapping]] = ...) -> None: ...

class ListOperationRoutesResult(_message.Message):
    __slots__ = ("routes",)
    ROUTES_FIELD_NUMBER: _ClassVar[int]
    routes: _containers.RepeatedCompositeFieldContainer[OperationRoute]
    def __init__(self, routes: _Optional[_Iterable[_Union[OperationRoute, _Mapping]]] = ...) -> None: ...
