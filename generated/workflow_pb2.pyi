# mypy: disable-error-code="misc,type-arg,no-untyped-def"
from buckyos.generated import options_pb2 as _options_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ScheduledTaskStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SCHEDULED_TASK_STATUS_UNSPECIFIED: _ClassVar[ScheduledTaskStatus]
    SCHEDULED_TASK_STATUS_ENABLED: _ClassVar[ScheduledTaskStatus]
    SCHEDULED_TASK_STATUS_PAUSED: _ClassVar[ScheduledTaskStatus]
    SCHEDULED_TASK_STATUS_ARCHIVED: _ClassVar[ScheduledTaskStatus]
    SCHEDULED_TASK_STATUS_ERROR: _ClassVar[ScheduledTaskStatus]
    SCHEDULED_TASK_STATUS_RUNNING: _ClassVar[ScheduledTaskStatus]
    SCHEDULED_TASK_STATUS_SERVER_PAUSED: _ClassVar[ScheduledTaskStatus]
    SCHEDULED_TASK_STATUS_FAILED: _ClassVar[ScheduledTaskStatus]
    SCHEDULED_TASK_STATUS_CANCELED: _ClassVar[ScheduledTaskStatus]

class MisfirePolicy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MISFIRE_POLICY_UNSPECIFIED: _ClassVar[MisfirePolicy]
    MISFIRE_POLICY_SKIP: _ClassVar[MisfirePolicy]
    MISFIRE_POLICY_RUN_ONCE: _ClassVar[MisfirePolicy]
    MISFIRE_POLICY_CATCH_UP: _ClassVar[MisfirePolicy]
    MISFIRE_POLICY_MANUAL: _ClassVar[MisfirePolicy]

class ScheduleFireStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SCHEDULE_FIRE_STATUS_UNSPECIFIED: _ClassVar[ScheduleFireStatus]
    SCHEDULE_FIRE_STATUS_CREATED: _ClassVar[ScheduleFireStatus]
    SCHEDULE_FIRE_STATUS_TASK_CREATED: _ClassVar[ScheduleFireStatus]
    SCHEDULE_FIRE_STATUS_SKIPPED: _ClassVar[ScheduleFireStatus]
    SCHEDULE_FIRE_STATUS_FAILED: _ClassVar[ScheduleFireStatus]
    SCHEDULE_FIRE_STATUS_RUN_CREATED: _ClassVar[ScheduleFireStatus]
SCHEDULED_TASK_STATUS_UNSPECIFIED: ScheduledTaskStatus
SCHEDULED_TASK_STATUS_ENABLED: ScheduledTaskStatus
SCHEDULED_TASK_STATUS_PAUSED: ScheduledTaskStatus
SCHEDULED_TASK_STATUS_ARCHIVED: ScheduledTaskStatus
SCHEDULED_TASK_STATUS_ERROR: ScheduledTaskStatus
SCHEDULED_TASK_STATUS_RUNNING: ScheduledTaskStatus
SCHEDULED_TASK_STATUS_SERVER_PAUSED: ScheduledTaskStatus
SCHEDULED_TASK_STATUS_FAILED: ScheduledTaskStatus
SCHEDULED_TASK_STATUS_CANCELED: ScheduledTaskStatus
MISFIRE_POLICY_UNSPECIFIED: MisfirePolicy
MISFIRE_POLICY_SKIP: MisfirePolicy
MISFIRE_POLICY_RUN_ONCE: MisfirePolicy
MISFIRE_POLICY_CATCH_UP: MisfirePolicy
MISFIRE_POLICY_MANUAL: MisfirePolicy
SCHEDULE_FIRE_STATUS_UNSPECIFIED: ScheduleFireStatus
SCHEDULE_FIRE_STATUS_CREATED: ScheduleFireStatus
SCHEDULE_FIRE_STATUS_TASK_CREATED: ScheduleFireStatus
SCHEDULE_FIRE_STATUS_SKIPPED: ScheduleFireStatus
SCHEDULE_FIRE_STATUS_FAILED: ScheduleFireStatus
SCHEDULE_FIRE_STATUS_RUN_CREATED: ScheduleFireStatus

class WorkflowOwner(_message.Message):
    __slots__ = ("user_id", "app_id")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    APP_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    app_id: str
    def __init__(self, user_id: _Optional[str] = ..., app_id: _Optional[str] = ...) -> None: ...

class CronSchedule(_message.Message):
    __slots__ = ("expr", "timezone", "calendar", "start_at", "end_at")
    EXPR_FIELD_NUMBER: _ClassVar[int]
    TIMEZONE_FIELD_NUMBER: _ClassVar[int]
    CALENDAR_FIELD_NUMBER: _ClassVar[int]
    START_AT_FIELD_NUMBER: _ClassVar[int]
    END_AT_FIELD_NUMBER: _ClassVar[int]
    expr: str
    timezone: str
    calendar: str
    start_at: int
    end_at: int
    def __init__(self, expr: _Optional[str] = ..., timezone: _Optional[str] = ..., calendar: _Optional[str] = ..., start_at: _Optional[int] = ..., end_at: _Optional[int] = ...) -> None: ...

class OnceSchedule(_message.Message):
    __slots__ = ("run_at", "timezone")
    RUN_AT_FIELD_NUMBER: _ClassVar[int]
    TIMEZONE_FIELD_NUMBER: _ClassVar[int]
    run_at: int
    timezone: str
    def __init__(self, run_at: _Optional[int] = ..., timezone: _Optional[str] = ...) -> None: ...

class RunEverySchedule(_message.Message):
    __slots__ = ("every_sec", "start_at", "end_at", "timezone")
    EVERY_SEC_FIELD_NUMBER: _ClassVar[int]
    START_AT_FIELD_NUMBER: _ClassVar[int]
    END_AT_FIELD_NUMBER: _ClassVar[int]
    TIMEZONE_FIELD_NUMBER: _ClassVar[int]
    every_sec: int
    start_at: int
    end_at: int
    timezone: str
    def __init__(self, every_sec: _Optional[int] = ..., start_at: _Optional[int] = ..., end_at: _Optional[int] = ..., timezone: _Optional[str] = ...) -> None: ...

class ScheduleSpec(_message.Message):
    __slots__ = ("cron", "once", "run_every")
    CRON_FIELD_NUMBER: _ClassVar[int]
    ONCE_FIELD_NUMBER: _ClassVar[int]
    RUN_EVERY_FIELD_NUMBER: _ClassVar[int]
    cron: CronSchedule
    once: OnceSchedule
    run_every: RunEverySchedule
    def __init__(self, cron: _Optional[_Union[CronSchedule, _Mapping]] = ..., once: _Optional[_Union[OnceSchedule, _Mapping]] = ..., run_every: _Optional[_Union[RunEverySchedule, _Mapping]] = ...) -> None: ...

class ScheduleTarget(_message.Message):
    __slots__ = ("task_type", "name_template", "data_template")
    TASK_TYPE_FIELD_NUMBER: _ClassVar[int]
    NAME_TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    DATA_TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    task_type: str
    name_template: str
    data_template: _struct_pb2.Value
    def __init__(self, task_type: _Optional[str] = ..., name_template: _Optional[str] = ..., data_template: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ...) -> None: ...

class SchedulePolicy(_message.Message):
    __slots__ = ("misfire", "max_parallel_runs", "catch_up_limit", "jitter_sec")
    MISFIRE_FIELD_NUMBER: _ClassVar[int]
    MAX_PARALLEL_RUNS_FIELD_NUMBER: _ClassVar[int]
    CATCH_UP_LIMIT_FIELD_NUMBER: _ClassVar[int]
    JITTER_SEC_FIELD_NUMBER: _ClassVar[int]
    misfire: MisfirePolicy
    max_parallel_runs: int
    catch_up_limit: int
    jitter_sec: int
    def __init__(self, misfire: _Optional[_Union[MisfirePolicy, str]] = ..., max_parallel_runs: _Optional[int] = ..., catch_up_limit: _Optional[int] = ..., jitter_sec: _Optional[int] = ...) -> None: ...

class ScheduleState(_message.Message):
    __slots__ = ("next_fire_at", "last_fire_at", "last_task_id", "last_run_id", "consecutive_failures", "last_error")
    NEXT_FIRE_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_FIRE_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_TASK_ID_FIELD_NUMBER: _ClassVar[int]
    LAST_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    CONSECUTIVE_FAILURES_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    next_fire_at: int
    last_fire_at: int
    last_task_id: _struct_pb2.Value
    last_run_id: str
    consecutive_failures: int
    last_error: str
    def __init__(self, next_fire_at: _Optional[int] = ..., last_fire_at: _Optional[int] = ..., last_task_id: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., last_run_id: _Optional[str] = ..., consecutive_failures: _Optional[int] = ..., last_error: _Optional[str] = ...) -> None: ...

class ScheduleTaskMirror(_message.Message):
    __slots__ = ("root_task_id", "root_id")
    ROOT_TASK_ID_FIELD_NUMBER: _ClassVar[int]
    ROOT_ID_FIELD_NUMBER: _ClassVar[int]
    root_task_id: _struct_pb2.Value
    root_id: str
    def __init__(self, root_task_id: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., root_id: _Optional[str] = ...) -> None: ...

class WorkflowScheduledTask(_message.Message):
    __slots__ = ("schedule_id", "owner", "name", "description", "status", "schedule", "target", "state", "policy", "task_mirror", "created_at", "updated_at")
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    TASK_MIRROR_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    schedule_id: str
    owner: WorkflowOwner
    name: str
    description: str
    status: ScheduledTaskStatus
    schedule: ScheduleSpec
    target: ScheduleTarget
    state: ScheduleState
    policy: SchedulePolicy
    task_mirror: ScheduleTaskMirror
    created_at: int
    updated_at: int
    def __init__(self, schedule_id: _Optional[str] = ..., owner: _Optional[_Union[WorkflowOwner, _Mapping]] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., status: _Optional[_Union[ScheduledTaskStatus, str]] = ..., schedule: _Optional[_Union[ScheduleSpec, _Mapping]] = ..., target: _Optional[_Union[ScheduleTarget, _Mapping]] = ..., state: _Optional[_Union[ScheduleState, _Mapping]] = ..., policy: _Optional[_Union[SchedulePolicy, _Mapping]] = ..., task_mirror: _Optional[_Union[ScheduleTaskMirror, _Mapping]] = ..., created_at: _Optional[int] = ..., updated_at: _Optional[int] = ...) -> None: ...

class ScheduleFire(_message.Message):
    __slots__ = ("fire_id", "schedule_id", "fire_key", "fire_time", "manual", "status", "task_id", "run_id", "error", "created_at", "updated_at")
    FIRE_ID_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    FIRE_KEY_FIELD_NUMBER: _ClassVar[int]
    FIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    MANUAL_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    fire_id: str
    schedule_id: str
    fire_key: str
    fire_time: int
    manual: bool
    status: ScheduleFireStatus
    task_id: _struct_pb2.Value
    run_id: str
    error: str
    created_at: int
    updated_at: int
    def __init__(self, fire_id: _Optional[str] = ..., schedule_id: _Optional[str] = ..., fire_key: _Optional[str] = ..., fire_time: _Optional[int] = ..., manual: _Optional[bool] = ..., status: _Optional[_Union[ScheduleFireStatus, str]] = ..., task_id: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., run_id: _Optional[str] = ..., error: _Optional[str] = ..., created_at: _Optional[int] = ..., updated_at: _Optional[int] = ...) -> None: ...

class CreateScheduledTaskRequest(_message.Message):
    __slots__ = ("owner", "name", "description", "schedule", "target", "policy", "status")
    OWNER_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    owner: WorkflowOwner
    name: str
    description: str
    schedule: ScheduleSpec
    target: ScheduleTarget
    policy: SchedulePolicy
    status: ScheduledTaskStatus
    def __init__(self, owner: _Optional[_Union[WorkflowOwner, _Mapping]] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., schedule: _Optional[_Union[ScheduleSpec, _Mapping]] = ..., target: _Optional[_Union[ScheduleTarget, _Mapping]] = ..., policy: _Optional[_Union[SchedulePolicy, _Mapping]] = ..., status: _Optional[_Union[ScheduledTaskStatus, str]] = ...) -> None: ...

class CreateScheduledTaskResult(_message.Message):
    __slots__ = ("schedule_id", "schedule")
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    schedule_id: str
    schedule: WorkflowScheduledTask
    def __init__(self, schedule_id: _Optional[str] = ..., schedule: _Optional[_Union[WorkflowScheduledTask, _Mapping]] = ...) -> None: ...

class UpdateScheduledTaskRequest(_message.Message):
    __slots__ = ("schedule_id", "name", "description", "schedule", "target", "policy")
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    schedule_id: str
    name: str
    description: str
    schedule: ScheduleSpec
    target: ScheduleTarget
    policy: SchedulePolicy
    def __init__(self, schedule_id: _Optional[str] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., schedule: _Optional[_Union[ScheduleSpec, _Mapping]] = ..., target: _Optional[_Union[ScheduleTarget, _Mapping]] = ..., policy: _Optional[_Union[SchedulePolicy, _Mapping]] = ...) -> None: ...

class ScheduleIdRequest(_message.Message):
    __slots__ = ("schedule_id",)
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    schedule_id: str
    def __init__(self, schedule_id: _Optional[str] = ...) -> None: ...

class ScheduleResult(_message.Message):
    __slots__ = ("schedule",)
    SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    schedule: WorkflowScheduledTask
    def __init__(self, schedule: _Optional[_Union[WorkflowScheduledTask, _Mapping]] = ...) -> None: ...

class ListScheduledTasksRequest(_message.Message):
    __slots__ = ("owner", "status", "workflow_id", "name")
    OWNER_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    owner: WorkflowOwner
    status: ScheduledTaskStatus
    workflow_id: str
    name: str
    def __init__(self, owner: _Optional[_Union[WorkflowOwner, _Mapping]] = ..., status: _Optional[_Union[ScheduledTaskStatus, str]] = ..., workflow_id: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class ScheduleList(_message.Message):
    __slots__ = ("schedules",)
    SCHEDULES_FIELD_NUMBER: _ClassVar[int]
    schedules: _containers.RepeatedCompositeFieldContainer[WorkflowScheduledTask]
    def __init__(self, schedules: _Optional[_Iterable[_Union[WorkflowScheduledTask, _Mapping]]] = ...) -> None: ...

class RunScheduledTaskNowRequest(_message.Message):
    __slots__ = ("schedule_id", "fire_time")
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    FIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    schedule_id: str
    fire_time: int
    def __init__(self, schedule_id: _Optional[str] = ..., fire_time: _Optional[int] = ...) -> None: ...

class RunScheduledTaskNowResult(_message.Message):
    __slots__ = ("fire_id", "task_id", "run_id", "fire")
    FIRE_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    FIRE_FIELD_NUMBER: _ClassVar[int]
    fire_id: str
    task_id: _struct_pb2.Value
    run_id: str
    fire: ScheduleFire
    def __init__(self, fire_id: _Optional[str] = ..., task_id: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., run_id: _Optional[str] = ..., fire: _Optional[_Union[ScheduleFire, _Mapping]] = ...) -> None: ...

class GetScheduledTaskHistoryRequest(_message.Message):
    __slots__ = ("schedule_id", "limit")
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    schedule_id: str
    limit: int
    def __init__(self, schedule_id: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class ScheduleFireList(_message.Message):
    __slots__ = ("schedule_id", "fires")
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    FIRES_FIELD_NUMBER: _ClassVar[int]
    schedule_id: str
    fires: _containers.RepeatedCompositeFieldContainer[ScheduleFire]
    def __init__(self, schedule_id: _Optional[str] = ..., fires: _Optional[_Iterable[_Union[ScheduleFire, _Mapping]]] = ...) -> None: ...

class ValidateScheduledTaskRequest(_message.Message):
    __slots__ = ("schedule", "target")
    SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    schedule: ScheduleSpec
    target: ScheduleTarget
    def __init__(self, schedule: _Optional[_Union[ScheduleSpec, _Mapping]] = ..., target: _Optional[_Union[ScheduleTarget, _Mapping]] = ...) -> None: ...

class ValidateScheduledTaskResult(_message.Message):
    __slots__ = ("valid", "normalized_expr", "timezone", "next_fire_times", "warnings")
    VALID_FIELD_NUMBER: _ClassVar[int]
    NORMALIZED_EXPR_FIELD_NUMBER: _ClassVar[int]
    TIMEZONE_FIELD_NUMBER: _ClassVar[int]
    NEXT_FIRE_TIMES_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    valid: bool
    normalized_expr: str
    timezone: str
    next_fire_times: _containers.RepeatedScalarFieldContainer[str]
    warnings: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, valid: _Optional[bool] = ..., normalized_expr: _Optional[str] = ..., timezone: _Optional[str] = ..., next_fire_times: _Optional[_Iterable[str]] = ..., warnings: _Optional[_Iterable[str]] = ...) -> None: ...
