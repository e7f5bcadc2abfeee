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

class TaskExecutorKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TASK_EXECUTOR_KIND_UNSPECIFIED: _ClassVar[TaskExecutorKind]
    TASK_EXECUTOR_KIND_UNBOUND: _ClassVar[TaskExecutorKind]
    TASK_EXECUTOR_KIND_APP: _ClassVar[TaskExecutorKind]
    TASK_EXECUTOR_KIND_HUMAN_SET: _ClassVar[TaskExecutorKind]

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
    TASK_OUTCOME_SUCCEEDED: _ClassVar[TaskOutcome]
    TASK_OUTCOME_FAILED: _ClassVar[TaskOutcome]
    TASK_OUTCOME_CANCELED: _ClassVar[TaskOutcome]

class TaskWaitReasonKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TASK_WAIT_REASON_KIND_UNSPECIFIED: _ClassVar[TaskWaitReasonKind]
    TASK_WAIT_REASON_KIND_DISPATCH: _ClassVar[TaskWaitReasonKind]
    TASK_WAIT_REASON_KIND_CAPACITY: _ClassVar[TaskWaitReasonKind]
    TASK_WAIT_REASON_KIND_AUTHORIZATION: _ClassVar[TaskWaitReasonKind]
    TASK_WAIT_REASON_KIND_HUMAN_INPUT: _ClassVar[TaskWaitReasonKind]
    TASK_WAIT_REASON_KIND_CHILD_TASK: _ClassVar[TaskWaitReasonKind]
    TASK_WAIT_REASON_KIND_DEPENDENCY: _ClassVar[TaskWaitReasonKind]
    TASK_WAIT_REASON_KIND_EXTERNAL: _ClassVar[TaskWaitReasonKind]
    TASK_WAIT_REASON_KIND_OTHER: _ClassVar[TaskWaitReasonKind]

class TaskControlAction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TASK_CONTROL_ACTION_UNSPECIFIED: _ClassVar[TaskControlAction]
    TASK_CONTROL_ACTION_PAUSE: _ClassVar[TaskControlAction]
    TASK_CONTROL_ACTION_RESUME: _ClassVar[TaskControlAction]
    TASK_CONTROL_ACTION_CANCEL: _ClassVar[TaskControlAction]

class TaskAction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TASK_ACTION_UNSPECIFIED: _ClassVar[TaskAction]
    TASK_ACTION_READ_META: _ClassVar[TaskAction]
    TASK_ACTION_READ_INPUT: _ClassVar[TaskAction]
    TASK_ACTION_READ_RESULT: _ClassVar[TaskAction]
    TASK_ACTION_REPORT_PROGRESS: _ClassVar[TaskAction]
    TASK_ACTION_CONTROL: _ClassVar[TaskAction]
    TASK_ACTION_COMMIT: _ClassVar[TaskAction]
    TASK_ACTION_CREATE_CHILD: _ClassVar[TaskAction]
    TASK_ACTION_REASSIGN: _ClassVar[TaskAction]
    TASK_ACTION_GRANT: _ClassVar[TaskAction]
    TASK_ACTION_ARCHIVE: _ClassVar[TaskAction]

class TaskGrantScope(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TASK_GRANT_SCOPE_UNSPECIFIED: _ClassVar[TaskGrantScope]
    TASK_GRANT_SCOPE_SELF_ONLY: _ClassVar[TaskGrantScope]
    TASK_GRANT_SCOPE_SUBTREE: _ClassVar[TaskGrantScope]
    TASK_GRANT_SCOPE_WHOLE_TREE: _ClassVar[TaskGrantScope]

class TaskDataScope(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TASK_DATA_SCOPE_UNSPECIFIED: _ClassVar[TaskDataScope]
    TASK_DATA_SCOPE_META_ONLY: _ClassVar[TaskDataScope]
    TASK_DATA_SCOPE_PAYLOAD: _ClassVar[TaskDataScope]
    TASK_DATA_SCOPE_FULL: _ClassVar[TaskDataScope]

class TaskEventType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TASK_EVENT_TYPE_UNSPECIFIED: _ClassVar[TaskEventType]
    TASK_EVENT_TYPE_TASK_CREATED: _ClassVar[TaskEventType]
    TASK_EVENT_TYPE_RUNNER_BOUND: _ClassVar[TaskEventType]
    TASK_EVENT_TYPE_RUNNER_RELEASED: _ClassVar[TaskEventType]
    TASK_EVENT_TYPE_PHASE_CHANGED: _ClassVar[TaskEventType]
    TASK_EVENT_TYPE_WAIT_REASON_CHANGED: _ClassVar[TaskEventType]
    TASK_EVENT_TYPE_PROGRESS_REPORTED: _ClassVar[TaskEventType]
    TASK_EVENT_TYPE_CONTROL_PROFILE_CHANGED: _ClassVar[TaskEventType]
    TASK_EVENT_TYPE_CONTROL_REQUESTED: _ClassVar[TaskEventType]
    TASK_EVENT_TYPE_CONTROL_SUPERSEDED: _ClassVar[TaskEventType]
    TASK_EVENT_TYPE_CONTROL_APPLIED: _ClassVar[TaskEventType]
    TASK_EVENT_TYPE_CONTROL_REJECTED: _ClassVar[TaskEventType]
    TASK_EVENT_TYPE_ASSIGNEES_CHANGED: _ClassVar[TaskEventType]
    TASK_EVENT_TYPE_ACCESS_GRANTED: _ClassVar[TaskEventType]
    TASK_EVENT_TYPE_ACCESS_REVOKED: _ClassVar[TaskEventType]
    TASK_EVENT_TYPE_RESULT_COMMITTED: _ClassVar[TaskEventType]
    TASK_EVENT_TYPE_TASK_FAILED: _ClassVar[TaskEventType]
    TASK_EVENT_TYPE_TASK_CANCELED: _ClassVar[TaskEventType]
    TASK_EVENT_TYPE_TASK_ARCHIVED: _ClassVar[TaskEventType]
    TASK_EVENT_TYPE_PAYLOAD_REDACTED: _ClassVar[TaskEventType]
TASK_EXECUTOR_KIND_UNSPECIFIED: TaskExecutorKind
TASK_EXECUTOR_KIND_UNBOUND: TaskExecutorKind
TASK_EXECUTOR_KIND_APP: TaskExecutorKind
TASK_EXECUTOR_KIND_HUMAN_SET: TaskExecutorKind
TASK_PHASE_UNSPECIFIED: TaskPhase
TASK_PHASE_PROMISED: TaskPhase
TASK_PHASE_ACCEPTED: TaskPhase
TASK_PHASE_RUNNING: TaskPhase
TASK_PHASE_WAITING: TaskPhase
TASK_PHASE_PAUSED: TaskPhase
TASK_PHASE_TERMINAL: TaskPhase
TASK_OUTCOME_UNSPECIFIED: TaskOutcome
TASK_OUTCOME_SUCCEEDED: TaskOutcome
TASK_OUTCOME_FAILED: TaskOutcome
TASK_OUTCOME_CANCELED: TaskOutcome
TASK_WAIT_REASON_KIND_UNSPECIFIED: TaskWaitReasonKind
TASK_WAIT_REASON_KIND_DISPATCH: TaskWaitReasonKind
TASK_WAIT_REASON_KIND_CAPACITY: TaskWaitReasonKind
TASK_WAIT_REASON_KIND_AUTHORIZATION: TaskWaitReasonKind
TASK_WAIT_REASON_KIND_HUMAN_INPUT: TaskWaitReasonKind
TASK_WAIT_REASON_KIND_CHILD_TASK: TaskWaitReasonKind
TASK_WAIT_REASON_KIND_DEPENDENCY: TaskWaitReasonKind
TASK_WAIT_REASON_KIND_EXTERNAL: TaskWaitReasonKind
TASK_WAIT_REASON_KIND_OTHER: TaskWaitReasonKind
TASK_CONTROL_ACTION_UNSPECIFIED: TaskControlAction
TASK_CONTROL_ACTION_PAUSE: TaskControlAction
TASK_CONTROL_ACTION_RESUME: TaskControlAction
TASK_CONTROL_ACTION_CANCEL: TaskControlAction
TASK_ACTION_UNSPECIFIED: TaskAction
TASK_ACTION_READ_META: TaskAction
TASK_ACTION_READ_INPUT: TaskAction
TASK_ACTION_READ_RESULT: TaskAction
TASK_ACTION_REPORT_PROGRESS: TaskAction
TASK_ACTION_CONTROL: TaskAction
TASK_ACTION_COMMIT: TaskAction
TASK_ACTION_CREATE_CHILD: TaskAction
TASK_ACTION_REASSIGN: TaskAction
TASK_ACTION_GRANT: TaskAction
TASK_ACTION_ARCHIVE: TaskAction
TASK_GRANT_SCOPE_UNSPECIFIED: TaskGrantScope
TASK_GRANT_SCOPE_SELF_ONLY: TaskGrantScope
TASK_GRANT_SCOPE_SUBTREE: TaskGrantScope
TASK_GRANT_SCOPE_WHOLE_TREE: TaskGrantScope
TASK_DATA_SCOPE_UNSPECIFIED: TaskDataScope
TASK_DATA_SCOPE_META_ONLY: TaskDataScope
TASK_DATA_SCOPE_PAYLOAD: TaskDataScope
TASK_DATA_SCOPE_FULL: TaskDataScope
TASK_EVENT_TYPE_UNSPECIFIED: TaskEventType
TASK_EVENT_TYPE_TASK_CREATED: TaskEventType
TASK_EVENT_TYPE_RUNNER_BOUND: TaskEventType
TASK_EVENT_TYPE_RUNNER_RELEASED: TaskEventType
TASK_EVENT_TYPE_PHASE_CHANGED: TaskEventType
TASK_EVENT_TYPE_WAIT_REASON_CHANGED: TaskEventType
TASK_EVENT_TYPE_PROGRESS_REPORTED: TaskEventType
TASK_EVENT_TYPE_CONTROL_PROFILE_CHANGED: TaskEventType
TASK_EVENT_TYPE_CONTROL_REQUESTED: TaskEventType
TASK_EVENT_TYPE_CONTROL_SUPERSEDED: TaskEventType
TASK_EVENT_TYPE_CONTROL_APPLIED: TaskEventType
TASK_EVENT_TYPE_CONTROL_REJECTED: TaskEventType
TASK_EVENT_TYPE_ASSIGNEES_CHANGED: TaskEventType
TASK_EVENT_TYPE_ACCESS_GRANTED: TaskEventType
TASK_EVENT_TYPE_ACCESS_REVOKED: TaskEventType
TASK_EVENT_TYPE_RESULT_COMMITTED: TaskEventType
TASK_EVENT_TYPE_TASK_FAILED: TaskEventType
TASK_EVENT_TYPE_TASK_CANCELED: TaskEventType
TASK_EVENT_TYPE_TASK_ARCHIVED: TaskEventType
TASK_EVENT_TYPE_PAYLOAD_REDACTED: TaskEventType

class ActorRef(_message.Message):
    __slots__ = ("user_id", "app_id", "app_instance_id")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    APP_ID_FIELD_NUMBER: _ClassVar[int]
    APP_INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    app_id: str
    app_instance_id: str
    def __init__(self, user_id: _Optional[str] = ..., app_id: _Optional[str] = ..., app_instance_id: _Optional[str] = ...) -> None: ...

class TaskOriginRef(_message.Message):
    __slots__ = ("kind", "id")
    KIND_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    kind: str
    id: str
    def __init__(self, kind: _Optional[str] = ..., id: _Optional[str] = ...) -> None: ...

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
    __slots__ = ("unbound", "app", "human_set")
    UNBOUND_FIELD_NUMBER: _ClassVar[int]
    APP_FIELD_NUMBER: _ClassVar[int]
    HUMAN_SET_FIELD_NUMBER: _ClassVar[int]
    unbound: _empty_pb2.Empty
    app: AppExecutor
    human_set: _empty_pb2.Empty
    def __init__(self, unbound: _Optional[_Union[_empty_pb2.Empty, _Mapping]] = ..., app: _Optional[_Union[AppExecutor, _Mapping]] = ..., human_set: _Optional[_Union[_empty_pb2.Empty, _Mapping]] = ...) -> None: ...

class TaskWaitReason(_message.Message):
    __slots__ = ("kind", "code", "related_task_id", "message")
    KIND_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    RELATED_TASK_ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    kind: TaskWaitReasonKind
    code: str
    related_task_id: str
    message: str
    def __init__(self, kind: _Optional[_Union[TaskWaitReasonKind, str]] = ..., code: _Optional[str] = ..., related_task_id: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class TaskError(_message.Message):
    __slots__ = ("code", "message", "detail")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    code: str
    message: str
    detail: _struct_pb2.Value
    def __init__(self, code: _Optional[str] = ..., message: _Optional[str] = ..., detail: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ...) -> None: ...

class TaskControlRequest(_message.Message):
    __slots__ = ("request_id", "action", "requested_by", "requested_at")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_BY_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_AT_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    action: TaskControlAction
    requested_by: ActorRef
    requested_at: int
    def __init__(self, request_id: _Optional[str] = ..., action: _Optional[_Union[TaskControlAction, str]] = ..., requested_by: _Optional[_Union[ActorRef, _Mapping]] = ..., requested_at: _Optional[int] = ...) -> None: ...

class ControlUnavailable(_message.Message):
    __slots__ = ("reason",)
    REASON_FIELD_NUMBER: _ClassVar[int]
    reason: str
    def __init__(self, reason: _Optional[str] = ...) -> None: ...

class ControlAvailability(_message.Message):
    __slots__ = ("available", "unavailable")
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    UNAVAILABLE_FIELD_NUMBER: _ClassVar[int]
    available: _empty_pb2.Empty
    unavailable: ControlUnavailable
    def __init__(self, available: _Optional[_Union[_empty_pb2.Empty, _Mapping]] = ..., unavailable: _Optional[_Union[ControlUnavailable, _Mapping]] = ...) -> None: ...

class CancelCapability(_message.Message):
    __slots__ = ("unavailable", "interrupt", "safe")
    UNAVAILABLE_FIELD_NUMBER: _ClassVar[int]
    INTERRUPT_FIELD_NUMBER: _ClassVar[int]
    SAFE_FIELD_NUMBER: _ClassVar[int]
    unavailable: ControlUnavailable
    interrupt: _empty_pb2.Empty
    safe: _empty_pb2.Empty
    def __init__(self, unavailable: _Optional[_Union[ControlUnavailable, _Mapping]] = ..., interrupt: _Optional[_Union[_empty_pb2.Empty, _Mapping]] = ..., safe: _Optional[_Union[_empty_pb2.Empty, _Mapping]] = ...) -> None: ...

class TaskControlProfile(_message.Message):
    __slots__ = ("pause", "resume", "cancel", "updated_at")
    PAUSE_FIELD_NUMBER: _ClassVar[int]
    RESUME_FIELD_NUMBER: _ClassVar[int]
    CANCEL_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    pause: ControlAvailability
    resume: ControlAvailability
    cancel: CancelCapability
    updated_at: int
    def __init__(self, pause: _Optional[_Union[ControlAvailability, _Mapping]] = ..., resume: _Optional[_Union[ControlAvailability, _Mapping]] = ..., cancel: _Optional[_Union[CancelCapability, _Mapping]] = ..., updated_at: _Optional[int] = ...) -> None: ...

class ChildControlPolicy(_message.Message):
    __slots__ = ("follow_pause", "follow_resume", "follow_cancel")
    FOLLOW_PAUSE_FIELD_NUMBER: _ClassVar[int]
    FOLLOW_RESUME_FIELD_NUMBER: _ClassVar[int]
    FOLLOW_CANCEL_FIELD_NUMBER: _ClassVar[int]
    follow_pause: bool
    follow_resume: bool
    follow_cancel: bool
    def __init__(self, follow_pause: _Optional[bool] = ..., follow_resume: _Optional[bool] = ..., follow_cancel: _Optional[bool] = ...) -> None: ...

class BatchControlResult(_message.Message):
    __slots__ = ("requested", "skipped_by_policy", "denied", "already_terminal")
    REQUESTED_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_BY_POLICY_FIELD_NUMBER: _ClassVar[int]
    DENIED_FIELD_NUMBER: _ClassVar[int]
    ALREADY_TERMINAL_FIELD_NUMBER: _ClassVar[int]
    requested: _containers.RepeatedScalarFieldContainer[str]
    skipped_by_policy: _containers.RepeatedScalarFieldContainer[str]
    denied: _containers.RepeatedScalarFieldContainer[str]
    already_terminal: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, requested: _Optional[_Iterable[str]] = ..., skipped_by_policy: _Optional[_Iterable[str]] = ..., denied: _Optional[_Iterable[str]] = ..., already_terminal: _Optional[_Iterable[str]] = ...) -> None: ...

class GrantUser(_message.Message):
    __slots__ = ("user_id",)
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    def __init__(self, user_id: _Optional[str] = ...) -> None: ...

class GrantApp(_message.Message):
    __slots__ = ("app_id",)
    APP_ID_FIELD_NUMBER: _ClassVar[int]
    app_id: str
    def __init__(self, app_id: _Optional[str] = ...) -> None: ...

class GrantPrincipal(_message.Message):
    __slots__ = ("user_id", "app_id")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    APP_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    app_id: str
    def __init__(self, user_id: _Optional[str] = ..., app_id: _Optional[str] = ...) -> None: ...

class GrantSystemRole(_message.Message):
    __slots__ = ("role",)
    ROLE_FIELD_NUMBER: _ClassVar[int]
    role: str
    def __init__(self, role: _Optional[str] = ...) -> None: ...

class TaskGrantSubject(_message.Message):
    __slots__ = ("root_creator", "creator", "runner", "assignees", "user", "app", "principal", "system_role")
    ROOT_CREATOR_FIELD_NUMBER: _ClassVar[int]
    CREATOR_FIELD_NUMBER: _ClassVar[int]
    RUNNER_FIELD_NUMBER: _ClassVar[int]
    ASSIGNEES_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    APP_FIELD_NUMBER: _ClassVar[int]
    PRINCIPAL_FIELD_NUMBER: _ClassVar[int]
    SYSTEM_ROLE_FIELD_NUMBER: _ClassVar[int]
    root_creator: _empty_pb2.Empty
    creator: _empty_pb2.Empty
    runner: _empty_pb2.Empty
    assignees: _empty_pb2.Empty
    user: GrantUser
    app: GrantApp
    principal: GrantPrincipal
    system_role: GrantSystemRole
    def __init__(self, root_creator: _Optional[_Union[_empty_pb2.Empty, _Mapping]] = ..., creator: _Optional[_Union[_empty_pb2.Empty, _Mapping]] = ..., runner: _Optional[_Union[_empty_pb2.Empty, _Mapping]] = ..., assignees: _Optional[_Union[_empty_pb2.Empty, _Mapping]] = ..., user: _Optional[_Union[GrantUser, _Mapping]] = ..., app: _Optional[_Union[GrantApp, _Mapping]] = ..., principal: _Optional[_Union[GrantPrincipal, _Mapping]] = ..., system_role: _Optional[_Union[GrantSystemRole, _Mapping]] = ...) -> None: ...

class TaskAclGrantSpec(_message.Message):
    __slots__ = ("subject", "actions", "scope", "data_scope")
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    ACTIONS_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    DATA_SCOPE_FIELD_NUMBER: _ClassVar[int]
    subject: TaskGrantSubject
    actions: _containers.RepeatedScalarFieldContainer[TaskAction]
    scope: TaskGrantScope
    data_scope: TaskDataScope
    def __init__(self, subject: _Optional[_Union[TaskGrantSubject, _Mapping]] = ..., actions: _Optional[_Iterable[_Union[TaskAction, str]]] = ..., scope: _Optional[_Union[TaskGrantScope, str]] = ..., data_scope: _Optional[_Union[TaskDataScope, str]] = ...) -> None: ...

class TaskAclGrant(_message.Message):
    __slots__ = ("grant_id", "task_id", "subject", "actions", "scope", "data_scope", "created_by", "created_at", "revoked_at")
    GRANT_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    ACTIONS_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    DATA_SCOPE_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    REVOKED_AT_FIELD_NUMBER: _ClassVar[int]
    grant_id: str
    task_id: str
    subject: TaskGrantSubject
    actions: _containers.RepeatedScalarFieldContainer[TaskAction]
    scope: TaskGrantScope
    data_scope: TaskDataScope
    created_by: ActorRef
    created_at: int
    revoked_at: int
    def __init__(self, grant_id: _Optional[str] = ..., task_id: _Optional[str] = ..., subject: _Optional[_Union[TaskGrantSubject, _Mapping]] = ..., actions: _Optional[_Iterable[_Union[TaskAction, str]]] = ..., scope: _Optional[_Union[TaskGrantScope, str]] = ..., data_scope: _Optional[_Union[TaskDataScope, str]] = ..., created_by: _Optional[_Union[ActorRef, _Mapping]] = ..., created_at: _Optional[int] = ..., revoked_at: _Optional[int] = ...) -> None: ...

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
    allowed_executor_kinds: _containers.RepeatedScalarFieldContainer[TaskExecutorKind]
    user_creatable: bool
    publisher_app_id: str
    enabled: bool
    created_at: int
    def __init__(self, schema_id: _Optional[str] = ..., schema_version: _Optional[int] = ..., input_schema: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., output_schema: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., presentation_schema: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., allowed_executor_kinds: _Optional[_Iterable[_Union[TaskExecutorKind, str]]] = ..., user_creatable: _Optional[bool] = ..., publisher_app_id: _Optional[str] = ..., enabled: _Optional[bool] = ..., created_at: _Optional[int] = ...) -> None: ...

class Task(_message.Message):
    __slots__ = ("task_id", "name", "parent_id", "root_id", "child_control_policy", "schema_id", "schema_version", "input", "input_digest", "creator", "idempotency_key", "origin_ref", "retry_of", "supersedes", "executor", "runner_epoch", "assignees", "phase", "wait_reason", "pending_control", "control_profile", "progress", "message", "outcome", "result", "error", "completed_by", "policy_preset", "permission_boundary", "revision", "data_scope", "created_at", "updated_at", "completed_at", "archived_at")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PARENT_ID_FIELD_NUMBER: _ClassVar[int]
    ROOT_ID_FIELD_NUMBER: _ClassVar[int]
    CHILD_CONTROL_POLICY_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_ID_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_VERSION_FIELD_NUMBER: _ClassVar[int]
    INPUT_FIELD_NUMBER: _ClassVar[int]
    INPUT_DIGEST_FIELD_NUMBER: _ClassVar[int]
    CREATOR_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_REF_FIELD_NUMBER: _ClassVar[int]
    RETRY_OF_FIELD_NUMBER: _ClassVar[int]
    SUPERSEDES_FIELD_NUMBER: _ClassVar[int]
    EXECUTOR_FIELD_NUMBER: _ClassVar[int]
    RUNNER_EPOCH_FIELD_NUMBER: _ClassVar[int]
    ASSIGNEES_FIELD_NUMBER: _ClassVar[int]
    PHASE_FIELD_NUMBER: _ClassVar[int]
    WAIT_REASON_FIELD_NUMBER: _ClassVar[int]
    PENDING_CONTROL_FIELD_NUMBER: _ClassVar[int]
    CONTROL_PROFILE_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_BY_FIELD_NUMBER: _ClassVar[int]
    POLICY_PRESET_FIELD_NUMBER: _ClassVar[int]
    PERMISSION_BOUNDARY_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    DATA_SCOPE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_AT_FIELD_NUMBER: _ClassVar[int]
    ARCHIVED_AT_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    name: str
    parent_id: str
    root_id: str
    child_control_policy: ChildControlPolicy
    schema_id: str
    schema_version: int
    input: _struct_pb2.Value
    input_digest: str
    creator: ActorRef
    idempotency_key: str
    origin_ref: TaskOriginRef
    retry_of: str
    supersedes: str
    executor: TaskExecutor
    runner_epoch: int
    assignees: _containers.RepeatedScalarFieldContainer[str]
    phase: TaskPhase
    wait_reason: TaskWaitReason
    pending_control: TaskControlRequest
    control_profile: TaskControlProfile
    progress: _struct_pb2.Value
    message: str
    outcome: TaskOutcome
    result: _struct_pb2.Value
    error: TaskError
    completed_by: ActorRef
    policy_preset: str
    permission_boundary: bool
    revision: int
    data_scope: TaskDataScope
    created_at: int
    updated_at: int
    completed_at: int
    archived_at: int
    def __init__(self, task_id: _Optional[str] = ..., name: _Optional[str] = ..., parent_id: _Optional[str] = ..., root_id: _Optional[str] = ..., child_control_policy: _Optional[_Union[ChildControlPolicy, _Mapping]] = ..., schema_id: _Optional[str] = ..., schema_version: _Optional[int] = ..., input: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., input_digest: _Optional[str] = ..., creator: _Optional[_Union[ActorRef, _Mapping]] = ..., idempotency_key: _Optional[str] = ..., origin_ref: _Optional[_Union[TaskOriginRef, _Mapping]] = ..., retry_of: _Optional[str] = ..., supersedes: _Optional[str] = ..., executor: _Optional[_Union[TaskExecutor, _Mapping]] = ..., runner_epoch: _Optional[int] = ..., assignees: _Optional[_Iterable[str]] = ..., phase: _Optional[_Union[TaskPhase, str]] = ..., wait_reason: _Optional[_Union[TaskWaitReason, _Mapping]] = ..., pending_control: _Optional[_Union[TaskControlRequest, _Mapping]] = ..., control_profile: _Optional[_Union[TaskControlProfile, _Mapping]] = ..., progress: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., message: _Optional[str] = ..., outcome: _Optional[_Union[TaskOutcome, str]] = ..., result: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., error: _Optional[_Union[TaskError, _Mapping]] = ..., completed_by: _Optional[_Union[ActorRef, _Mapping]] = ..., policy_preset: _Optional[str] = ..., permission_boundary: _Optional[bool] = ..., revision: _Optional[int] = ..., data_scope: _Optional[_Union[TaskDataScope, str]] = ..., created_at: _Optional[int] = ..., updated_at: _Optional[int] = ..., completed_at: _Optional[int] = ..., archived_at: _Optional[int] = ...) -> None: ...

class TaskSummary(_message.Message):
    __slots__ = ("task_id", "name", "parent_id", "root_id", "schema_id", "schema_version", "creator", "executor_kind", "phase", "wait_reason", "pending_control_action", "outcome", "message", "revision", "created_at", "updated_at", "completed_at", "archived_at")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PARENT_ID_FIELD_NUMBER: _ClassVar[int]
    ROOT_ID_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_ID_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_VERSION_FIELD_NUMBER: _ClassVar[int]
    CREATOR_FIELD_NUMBER: _ClassVar[int]
    EXECUTOR_KIND_FIELD_NUMBER: _ClassVar[int]
    PHASE_FIELD_NUMBER: _ClassVar[int]
    WAIT_REASON_FIELD_NUMBER: _ClassVar[int]
    PENDING_CONTROL_ACTION_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_AT_FIELD_NUMBER: _ClassVar[int]
    ARCHIVED_AT_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    name: str
    parent_id: str
    root_id: str
    schema_id: str
    schema_version: int
    creator: ActorRef
    executor_kind: TaskExecutorKind
    phase: TaskPhase
    wait_reason: TaskWaitReason
    pending_control_action: TaskControlAction
    outcome: TaskOutcome
    message: str
    revision: int
    created_at: int
    updated_at: int
    completed_at: int
    archived_at: int
    def __init__(self, task_id: _Optional[str] = ..., name: _Optional[str] = ..., parent_id: _Optional[str] = ..., root_id: _Optional[str] = ..., schema_id: _Optional[str] = ..., schema_version: _Optional[int] = ..., creator: _Optional[_Union[ActorRef, _Mapping]] = ..., executor_kind: _Optional[_Union[TaskExecutorKind, str]] = ..., phase: _Optional[_Union[TaskPhase, str]] = ..., wait_reason: _Optional[_Union[TaskWaitReason, _Mapping]] = ..., pending_control_action: _Optional[_Union[TaskControlAction, str]] = ..., outcome: _Optional[_Union[TaskOutcome, str]] = ..., message: _Optional[str] = ..., revision: _Optional[int] = ..., created_at: _Optional[int] = ..., updated_at: _Optional[int] = ..., completed_at: _Optional[int] = ..., archived_at: _Optional[int] = ...) -> None: ...

class TaskSummaryPage(_message.Message):
    __slots__ = ("tasks", "next_cursor")
    TASKS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    tasks: _containers.RepeatedCompositeFieldContainer[TaskSummary]
    next_cursor: str
    def __init__(self, tasks: _Optional[_Iterable[_Union[TaskSummary, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class TaskEvent(_message.Message):
    __slots__ = ("event_id", "task_id", "root_id", "task_revision", "event_type", "actor", "payload", "created_at")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    ROOT_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_REVISION_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    task_id: str
    root_id: str
    task_revision: int
    event_type: TaskEventType
    actor: ActorRef
    payload: _struct_pb2.Value
    created_at: int
    def __init__(self, event_id: _Optional[str] = ..., task_id: _Optional[str] = ..., root_id: _Optional[str] = ..., task_revision: _Optional[int] = ..., event_type: _Optional[_Union[TaskEventType, str]] = ..., actor: _Optional[_Union[ActorRef, _Mapping]] = ..., payload: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., created_at: _Optional[int] = ...) -> None: ...

class TaskNote(_message.Message):
    __slots__ = ("id", "task_id", "note_type", "content", "data", "author_user_id", "author_app_id", "created_at", "updated_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    NOTE_TYPE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_USER_ID_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_APP_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    id: int
    task_id: str
    note_type: str
    content: str
    data: _struct_pb2.Value
    author_user_id: str
    author_app_id: str
    created_at: int
    updated_at: int
    def __init__(self, id: _Optional[int] = ..., task_id: _Optional[str] = ..., note_type: _Optional[str] = ..., content: _Optional[str] = ..., data: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., author_user_id: _Optional[str] = ..., author_app_id: _Optional[str] = ..., created_at: _Optional[int] = ..., updated_at: _Optional[int] = ...) -> None: ...

class TaskResult(_message.Message):
    __slots__ = ("task",)
    TASK_FIELD_NUMBER: _ClassVar[int]
    task: Task
    def __init__(self, task: _Optional[_Union[Task, _Mapping]] = ...) -> None: ...

class SelfAppExecutor(_message.Message):
    __slots__ = ("app_instance_id",)
    APP_INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    app_instance_id: str
    def __init__(self, app_instance_id: _Optional[str] = ...) -> None: ...

class HumanSetExecutor(_message.Message):
    __slots__ = ("assignees",)
    ASSIGNEES_FIELD_NUMBER: _ClassVar[int]
    assignees: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, assignees: _Optional[_Iterable[str]] = ...) -> None: ...

class CreateTaskExecutor(_message.Message):
    __slots__ = ("self_app", "human_set")
    SELF_APP_FIELD_NUMBER: _ClassVar[int]
    HUMAN_SET_FIELD_NUMBER: _ClassVar[int]
    self_app: SelfAppExecutor
    human_set: HumanSetExecutor
    def __init__(self, self_app: _Optional[_Union[SelfAppExecutor, _Mapping]] = ..., human_set: _Optional[_Union[HumanSetExecutor, _Mapping]] = ...) -> None: ...

class CreateTaskRequest(_message.Message):
    __slots__ = ("name", "schema_id", "schema_version", "input", "executor", "parent_id", "child_control_policy", "policy_preset", "permission_boundary", "idempotency_key", "retry_of", "supersedes", "message")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_ID_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_VERSION_FIELD_NUMBER: _ClassVar[int]
    INPUT_FIELD_NUMBER: _ClassVar[int]
    EXECUTOR_FIELD_NUMBER: _ClassVar[int]
    PARENT_ID_FIELD_NUMBER: _ClassVar[int]
    CHILD_CONTROL_POLICY_FIELD_NUMBER: _ClassVar[int]
    POLICY_PRESET_FIELD_NUMBER: _ClassVar[int]
    PERMISSION_BOUNDARY_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    RETRY_OF_FIELD_NUMBER: _ClassVar[int]
    SUPERSEDES_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    name: str
    schema_id: str
    schema_version: int
    input: _struct_pb2.Value
    executor: CreateTaskExecutor
    parent_id: str
    child_control_policy: ChildControlPolicy
    policy_preset: str
    permission_boundary: bool
    idempotency_key: str
    retry_of: str
    supersedes: str
    message: str
    def __init__(self, name: _Optional[str] = ..., schema_id: _Optional[str] = ..., schema_version: _Optional[int] = ..., input: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., executor: _Optional[_Union[CreateTaskExecutor, _Mapping]] = ..., parent_id: _Optional[str] = ..., child_control_policy: _Optional[_Union[ChildControlPolicy, _Mapping]] = ..., policy_preset: _Optional[str] = ..., permission_boundary: _Optional[bool] = ..., idempotency_key: _Optional[str] = ..., retry_of: _Optional[str] = ..., supersedes: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class CreateDelegatedTaskRequest(_message.Message):
    __slots__ = ("name", "schema_id", "schema_version", "input", "creator", "runner_app_instance_id", "parent_id", "child_control_policy", "policy_preset", "permission_boundary", "idempotency_key", "retry_of", "supersedes", "message")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_ID_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_VERSION_FIELD_NUMBER: _ClassVar[int]
    INPUT_FIELD_NUMBER: _ClassVar[int]
    CREATOR_FIELD_NUMBER: _ClassVar[int]
    RUNNER_APP_INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    PARENT_ID_FIELD_NUMBER: _ClassVar[int]
    CHILD_CONTROL_POLICY_FIELD_NUMBER: _ClassVar[int]
    POLICY_PRESET_FIELD_NUMBER: _ClassVar[int]
    PERMISSION_BOUNDARY_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    RETRY_OF_FIELD_NUMBER: _ClassVar[int]
    SUPERSEDES_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    name: str
    schema_id: str
    schema_version: int
    input: _struct_pb2.Value
    creator: ActorRef
    runner_app_instance_id: str
    parent_id: str
    child_control_policy: ChildControlPolicy
    policy_preset: str
    permission_boundary: bool
    idempotency_key: str
    retry_of: str
    supersedes: str
    message: str
    def __init__(self, name: _Optional[str] = ..., schema_id: _Optional[str] = ..., schema_version: _Optional[int] = ..., input: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., creator: _Optional[_Union[ActorRef, _Mapping]] = ..., runner_app_instance_id: _Optional[str] = ..., parent_id: _Optional[str] = ..., child_control_policy: _Optional[_Union[ChildControlPolicy, _Mapping]] = ..., policy_preset: _Optional[str] = ..., permission_boundary: _Optional[bool] = ..., idempotency_key: _Optional[str] = ..., retry_of: _Optional[str] = ..., supersedes: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class GetTaskRequest(_message.Message):
    __slots__ = ("task_id",)
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    def __init__(self, task_id: _Optional[str] = ...) -> None: ...

class ListTasksRequest(_message.Message):
    __slots__ = ("creator_user_id", "creator_app_id", "schema_id", "phase", "root_id", "executor_kind", "runner_app_id", "runner_target_id", "created_after", "created_before", "include_archived", "cursor", "limit")
    CREATOR_USER_ID_FIELD_NUMBER: _ClassVar[int]
    CREATOR_APP_ID_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_ID_FIELD_NUMBER: _ClassVar[int]
    PHASE_FIELD_NUMBER: _ClassVar[int]
    ROOT_ID_FIELD_NUMBER: _ClassVar[int]
    EXECUTOR_KIND_FIELD_NUMBER: _ClassVar[int]
    RUNNER_APP_ID_FIELD_NUMBER: _ClassVar[int]
    RUNNER_TARGET_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AFTER_FIELD_NUMBER: _ClassVar[int]
    CREATED_BEFORE_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_ARCHIVED_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    creator_user_id: str
    creator_app_id: str
    schema_id: str
    phase: TaskPhase
    root_id: str
    executor_kind: TaskExecutorKind
    runner_app_id: str
    runner_target_id: str
    created_after: int
    created_before: int
    include_archived: bool
    cursor: str
    limit: int
    def __init__(self, creator_user_id: _Optional[str] = ..., creator_app_id: _Optional[str] = ..., schema_id: _Optional[str] = ..., phase: _Optional[_Union[TaskPhase, str]] = ..., root_id: _Optional[str] = ..., executor_kind: _Optional[_Union[TaskExecutorKind, str]] = ..., runner_app_id: _Optional[str] = ..., runner_target_id: _Optional[str] = ..., created_after: _Optional[int] = ..., created_before: _Optional[int] = ..., include_archived: _Optional[bool] = ..., cursor: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class GetTaskTreeRequest(_message.Message):
    __slots__ = ("root_id", "depth", "cursor", "limit")
    ROOT_ID_FIELD_NUMBER: _ClassVar[int]
    DEPTH_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    root_id: str
    depth: int
    cursor: str
    limit: int
    def __init__(self, root_id: _Optional[str] = ..., depth: _Optional[int] = ..., cursor: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class GetSubtasksRequest(_message.Message):
    __slots__ = ("task_id", "cursor", "limit")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    cursor: str
    limit: int
    def __init__(self, task_id: _Optional[str] = ..., cursor: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class ArchiveTaskRequest(_message.Message):
    __slots__ = ("task_id", "expected_revision")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_REVISION_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    expected_revision: int
    def __init__(self, task_id: _Optional[str] = ..., expected_revision: _Optional[int] = ...) -> None: ...

class RequestControlRequest(_message.Message):
    __slots__ = ("task_id", "action", "request_id", "recursive", "expected_revision")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    RECURSIVE_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_REVISION_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    action: TaskControlAction
    request_id: str
    recursive: bool
    expected_revision: int
    def __init__(self, task_id: _Optional[str] = ..., action: _Optional[_Union[TaskControlAction, str]] = ..., request_id: _Optional[str] = ..., recursive: _Optional[bool] = ..., expected_revision: _Optional[int] = ...) -> None: ...

class RequestDelegatedControlRequest(_message.Message):
    __slots__ = ("controller", "task_id", "action", "request_id", "expected_revision")
    CONTROLLER_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_REVISION_FIELD_NUMBER: _ClassVar[int]
    controller: ActorRef
    task_id: str
    action: TaskControlAction
    request_id: str
    expected_revision: int
    def __init__(self, controller: _Optional[_Union[ActorRef, _Mapping]] = ..., task_id: _Optional[str] = ..., action: _Optional[_Union[TaskControlAction, str]] = ..., request_id: _Optional[str] = ..., expected_revision: _Optional[int] = ...) -> None: ...

class BatchControl(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: BatchControlResult
    def __init__(self, result: _Optional[_Union[BatchControlResult, _Mapping]] = ...) -> None: ...

class RequestControlResult(_message.Message):
    __slots__ = ("task", "batch")
    TASK_FIELD_NUMBER: _ClassVar[int]
    BATCH_FIELD_NUMBER: _ClassVar[int]
    task: TaskResult
    batch: BatchControl
    def __init__(self, task: _Optional[_Union[TaskResult, _Mapping]] = ..., batch: _Optional[_Union[BatchControl, _Mapping]] = ...) -> None: ...

class UpdateAssigneesRequest(_message.Message):
    __slots__ = ("task_id", "add", "remove", "expected_revision")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    ADD_FIELD_NUMBER: _ClassVar[int]
    REMOVE_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_REVISION_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    add: _containers.RepeatedScalarFieldContainer[str]
    remove: _containers.RepeatedScalarFieldContainer[str]
    expected_revision: int
    def __init__(self, task_id: _Optional[str] = ..., add: _Optional[_Iterable[str]] = ..., remove: _Optional[_Iterable[str]] = ..., expected_revision: _Optional[int] = ...) -> None: ...

class GrantTaskAccessRequest(_message.Message):
    __slots__ = ("task_id", "grant", "expected_revision")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    GRANT_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_REVISION_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    grant: TaskAclGrantSpec
    expected_revision: int
    def __init__(self, task_id: _Optional[str] = ..., grant: _Optional[_Union[TaskAclGrantSpec, _Mapping]] = ..., expected_revision: _Optional[int] = ...) -> None: ...

class RevokeTaskAccessRequest(_message.Message):
    __slots__ = ("task_id", "grant_id", "expected_revision")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    GRANT_ID_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_REVISION_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    grant_id: str
    expected_revision: int
    def __init__(self, task_id: _Optional[str] = ..., grant_id: _Optional[str] = ..., expected_revision: _Optional[int] = ...) -> None: ...

class ListTaskAccessRequest(_message.Message):
    __slots__ = ("task_id",)
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    def __init__(self, task_id: _Optional[str] = ...) -> None: ...

class ListTaskAccessResult(_message.Message):
    __slots__ = ("grants",)
    GRANTS_FIELD_NUMBER: _ClassVar[int]
    grants: _containers.RepeatedCompositeFieldContainer[TaskAclGrant]
    def __init__(self, grants: _Optional[_Iterable[_Union[TaskAclGrant, _Mapping]]] = ...) -> None: ...

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

class ReportStartedRequest(_message.Message):
    __slots__ = ("envelope",)
    ENVELOPE_FIELD_NUMBER: _ClassVar[int]
    envelope: RunnerWriteEnvelope
    def __init__(self, envelope: _Optional[_Union[RunnerWriteEnvelope, _Mapping]] = ...) -> None: ...

class ReportProgressRequest(_message.Message):
    __slots__ = ("envelope", "progress", "message")
    ENVELOPE_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    envelope: RunnerWriteEnvelope
    progress: _struct_pb2.Value
    message: str
    def __init__(self, envelope: _Optional[_Union[RunnerWriteEnvelope, _Mapping]] = ..., progress: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., message: _Optional[str] = ...) -> None: ...

class ReportWaitingRequest(_message.Message):
    __slots__ = ("envelope", "reason")
    ENVELOPE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    envelope: RunnerWriteEnvelope
    reason: TaskWaitReason
    def __init__(self, envelope: _Optional[_Union[RunnerWriteEnvelope, _Mapping]] = ..., reason: _Optional[_Union[TaskWaitReason, _Mapping]] = ...) -> None: ...

class ReportRunningRequest(_message.Message):
    __slots__ = ("envelope",)
    ENVELOPE_FIELD_NUMBER: _ClassVar[int]
    envelope: RunnerWriteEnvelope
    def __init__(self, envelope: _Optional[_Union[RunnerWriteEnvelope, _Mapping]] = ...) -> None: ...

class UpdateControlProfileRequest(_message.Message):
    __slots__ = ("envelope", "profile")
    ENVELOPE_FIELD_NUMBER: _ClassVar[int]
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    envelope: RunnerWriteEnvelope
    profile: TaskControlProfile
    def __init__(self, envelope: _Optional[_Union[RunnerWriteEnvelope, _Mapping]] = ..., profile: _Optional[_Union[TaskControlProfile, _Mapping]] = ...) -> None: ...

class AckControlRequest(_message.Message):
    __slots__ = ("envelope", "request_id", "applied", "reject_reason")
    ENVELOPE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    APPLIED_FIELD_NUMBER: _ClassVar[int]
    REJECT_REASON_FIELD_NUMBER: _ClassVar[int]
    envelope: RunnerWriteEnvelope
    request_id: str
    applied: bool
    reject_reason: str
    def __init__(self, envelope: _Optional[_Union[RunnerWriteEnvelope, _Mapping]] = ..., request_id: _Optional[str] = ..., applied: _Optional[bool] = ..., reject_reason: _Optional[str] = ...) -> None: ...

class CommitResultRequest(_message.Message):
    __slots__ = ("task_id", "result", "app_instance_id", "runner_epoch", "expected_revision")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    APP_INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    RUNNER_EPOCH_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_REVISION_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    result: _struct_pb2.Value
    app_instance_id: str
    runner_epoch: int
    expected_revision: int
    def __init__(self, task_id: _Optional[str] = ..., result: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., app_instance_id: _Optional[str] = ..., runner_epoch: _Optional[int] = ..., expected_revision: _Optional[int] = ...) -> None: ...

class FailTaskRequest(_message.Message):
    __slots__ = ("envelope", "error")
    ENVELOPE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    envelope: RunnerWriteEnvelope
    error: TaskError
    def __init__(self, envelope: _Optional[_Union[RunnerWriteEnvelope, _Mapping]] = ..., error: _Optional[_Union[TaskError, _Mapping]] = ...) -> None: ...

class CreatePromisedTaskRequest(_message.Message):
    __slots__ = ("name", "schema_id", "schema_version", "input", "creator", "expected_input_digest", "origin_ref", "parent_id", "child_control_policy", "policy_preset", "permission_boundary", "idempotency_key", "wait_reason", "message")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_ID_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_VERSION_FIELD_NUMBER: _ClassVar[int]
    INPUT_FIELD_NUMBER: _ClassVar[int]
    CREATOR_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_INPUT_DIGEST_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_REF_FIELD_NUMBER: _ClassVar[int]
    PARENT_ID_FIELD_NUMBER: _ClassVar[int]
    CHILD_CONTROL_POLICY_FIELD_NUMBER: _ClassVar[int]
    POLICY_PRESET_FIELD_NUMBER: _ClassVar[int]
    PERMISSION_BOUNDARY_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    WAIT_REASON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    name: str
    schema_id: str
    schema_version: int
    input: _struct_pb2.Value
    creator: ActorRef
    expected_input_digest: str
    origin_ref: TaskOriginRef
    parent_id: str
    child_control_policy: ChildControlPolicy
    policy_preset: str
    permission_boundary: bool
    idempotency_key: str
    wait_reason: TaskWaitReason
    message: str
    def __init__(self, name: _Optional[str] = ..., schema_id: _Optional[str] = ..., schema_version: _Optional[int] = ..., input: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., creator: _Optional[_Union[ActorRef, _Mapping]] = ..., expected_input_digest: _Optional[str] = ..., origin_ref: _Optional[_Union[TaskOriginRef, _Mapping]] = ..., parent_id: _Optional[str] = ..., child_control_policy: _Optional[_Union[ChildControlPolicy, _Mapping]] = ..., policy_preset: _Optional[str] = ..., permission_boundary: _Optional[bool] = ..., idempotency_key: _Optional[str] = ..., wait_reason: _Optional[_Union[TaskWaitReason, _Mapping]] = ..., message: _Optional[str] = ...) -> None: ...

class SetPromiseWaitRequest(_message.Message):
    __slots__ = ("task_id", "wait_reason", "expected_revision")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    WAIT_REASON_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_REVISION_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    wait_reason: TaskWaitReason
    expected_revision: int
    def __init__(self, task_id: _Optional[str] = ..., wait_reason: _Optional[_Union[TaskWaitReason, _Mapping]] = ..., expected_revision: _Optional[int] = ...) -> None: ...

class BindAppExecutorRequest(_message.Message):
    __slots__ = ("task_id", "target_id", "app_id", "app_instance_id", "delivery_id", "expected_revision")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    TARGET_ID_FIELD_NUMBER: _ClassVar[int]
    APP_ID_FIELD_NUMBER: _ClassVar[int]
    APP_INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_ID_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_REVISION_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    target_id: str
    app_id: str
    app_instance_id: str
    delivery_id: str
    expected_revision: int
    def __init__(self, task_id: _Optional[str] = ..., target_id: _Optional[str] = ..., app_id: _Optional[str] = ..., app_instance_id: _Optional[str] = ..., delivery_id: _Optional[str] = ..., expected_revision: _Optional[int] = ...) -> None: ...

class ReleaseAppExecutorRequest(_message.Message):
    __slots__ = ("task_id", "expected_instance_id", "expected_runner_epoch", "reason", "expected_revision")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_RUNNER_EPOCH_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_REVISION_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    expected_instance_id: str
    expected_runner_epoch: int
    reason: TaskWaitReason
    expected_revision: int
    def __init__(self, task_id: _Optional[str] = ..., expected_instance_id: _Optional[str] = ..., expected_runner_epoch: _Optional[int] = ..., reason: _Optional[_Union[TaskWaitReason, _Mapping]] = ..., expected_revision: _Optional[int] = ...) -> None: ...

class FinishPromiseFailureRequest(_message.Message):
    __slots__ = ("task_id", "error", "expected_revision")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_REVISION_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    error: TaskError
    expected_revision: int
    def __init__(self, task_id: _Optional[str] = ..., error: _Optional[_Union[TaskError, _Mapping]] = ..., expected_revision: _Optional[int] = ...) -> None: ...

class CancelPromisedTaskRequest(_message.Message):
    __slots__ = ("task_id", "expected_revision")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_REVISION_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    expected_revision: int
    def __init__(self, task_id: _Optional[str] = ..., expected_revision: _Optional[int] = ...) -> None: ...

class RegisterTaskSchemaRequest(_message.Message):
    __slots__ = ("definition",)
    DEFINITION_FIELD_NUMBER: _ClassVar[int]
    definition: TaskSchemaDefinition
    def __init__(self, definition: _Optional[_Union[TaskSchemaDefinition, _Mapping]] = ...) -> None: ...

class GetTaskSchemaRequest(_message.Message):
    __slots__ = ("schema_id", "schema_version")
    SCHEMA_ID_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_VERSION_FIELD_NUMBER: _ClassVar[int]
    schema_id: str
    schema_version: int
    def __init__(self, schema_id: _Optional[str] = ..., schema_version: _Optional[int] = ...) -> None: ...

class ListTaskSchemasRequest(_message.Message):
    __slots__ = ("user_creatable_only", "include_disabled")
    USER_CREATABLE_ONLY_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_DISABLED_FIELD_NUMBER: _ClassVar[int]
    user_creatable_only: bool
    include_disabled: bool
    def __init__(self, user_creatable_only: _Optional[bool] = ..., include_disabled: _Optional[bool] = ...) -> None: ...

class ListTaskSchemasResult(_message.Message):
    __slots__ = ("schemas",)
    SCHEMAS_FIELD_NUMBER: _ClassVar[int]
    schemas: _containers.RepeatedCompositeFieldContainer[TaskSchemaDefinition]
    def __init__(self, schemas: _Optional[_Iterable[_Union[TaskSchemaDefinition, _Mapping]]] = ...) -> None: ...

class SetTaskSchemaEnabledRequest(_message.Message):
    __slots__ = ("schema_id", "schema_version", "enabled")
    SCHEMA_ID_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_VERSION_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    schema_id: str
    schema_version: int
    enabled: bool
    def __init__(self, schema_id: _Optional[str] = ..., schema_version: _Optional[int] = ..., enabled: _Optional[bool] = ...) -> None: ...

class ListTaskEventsRequest(_message.Message):
    __slots__ = ("task_id", "root_id", "after_event_id", "limit")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    ROOT_ID_FIELD_NUMBER: _ClassVar[int]
    AFTER_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    root_id: str
    after_event_id: str
    limit: int
    def __init__(self, task_id: _Optional[str] = ..., root_id: _Optional[str] = ..., after_event_id: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class ListTaskEventsResult(_message.Message):
    __slots__ = ("events", "next_cursor")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[TaskEvent]
    next_cursor: str
    def __init__(self, events: _Optional[_Iterable[_Union[TaskEvent, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class AddTaskNoteRequest(_message.Message):
    __slots__ = ("task_id", "note_type", "content", "data")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    NOTE_TYPE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    note_type: str
    content: str
    data: _struct_pb2.Value
    def __init__(self, task_id: _Optional[str] = ..., note_type: _Optional[str] = ..., content: _Optional[str] = ..., data: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ...) -> None: ...

class AddTaskNoteResult(_message.Message):
    __slots__ = ("note_id", "note")
    NOTE_ID_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    note_id: int
    note: TaskNote
    def __init__(self, note_id: _Optional[int] = ..., note: _Optional[_Union[TaskNote, _Mapping]] = ...) -> None: ...

class ListTaskNotesRequest(_message.Message):
    __slots__ = ("task_id",)
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    def __init__(self, task_id: _Optional[str] = ...) -> None: ...

class ListTaskNotesResult(_message.Message):
    __slots__ = ("notes",)
    NOTES_FIELD_NUMBER: _ClassVar[int]
    notes: _containers.RepeatedCompositeFieldContainer[TaskNote]
    def __init__(self, notes: _Optional[_Iterable[_Union[TaskNote, _Mapping]]] = ...) -> None: ...
