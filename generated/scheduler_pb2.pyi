# mypy: disable-error-code="misc,type-arg,no-untyped-def"
from buckyos.generated import options_pb2 as _options_pb2
from google.protobuf import empty_pb2 as _empty_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RunThunkStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RUN_THUNK_STATUS_UNSPECIFIED: _ClassVar[RunThunkStatus]
    RUN_THUNK_STATUS_DISPATCHED: _ClassVar[RunThunkStatus]
    RUN_THUNK_STATUS_REJECTED: _ClassVar[RunThunkStatus]
RUN_THUNK_STATUS_UNSPECIFIED: RunThunkStatus
RUN_THUNK_STATUS_DISPATCHED: RunThunkStatus
RUN_THUNK_STATUS_REJECTED: RunThunkStatus

class RunThunkRequest(_message.Message):
    __slots__ = ("task_id", "thunk", "function_object")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    THUNK_FIELD_NUMBER: _ClassVar[int]
    FUNCTION_OBJECT_FIELD_NUMBER: _ClassVar[int]
    task_id: int
    thunk: ThunkObject
    function_object: FunctionObject
    def __init__(self, task_id: _Optional[int] = ..., thunk: _Optional[_Union[ThunkObject, _Mapping]] = ..., function_object: _Optional[_Union[FunctionObject, _Mapping]] = ...) -> None: ...

class ThunkObject(_message.Message):
    __slots__ = ("fun_id", "params", "metadata")
    class ParamsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _struct_pb2.Value
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ...) -> None: ...
    FUN_ID_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    fun_id: str
    params: _containers.MessageMap[str, _struct_pb2.Value]
    metadata: _struct_pb2.Value
    def __init__(self, fun_id: _Optional[str] = ..., params: _Optional[_Mapping[str, _struct_pb2.Value]] = ..., metadata: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ...) -> None: ...

class FunctionType(_message.Message):
    __slots__ = ("exec_pkg", "script", "op_task", "operator")
    EXEC_PKG_FIELD_NUMBER: _ClassVar[int]
    SCRIPT_FIELD_NUMBER: _ClassVar[int]
    OP_TASK_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    exec_pkg: _empty_pb2.Empty
    script: str
    op_task: str
    operator: _empty_pb2.Empty
    def __init__(self, exec_pkg: _Optional[_Union[_empty_pb2.Empty, _Mapping]] = ..., script: _Optional[str] = ..., op_task: _Optional[str] = ..., operator: _Optional[_Union[_empty_pb2.Empty, _Mapping]] = ...) -> None: ...

class FunctionParamType(_message.Message):
    __slots__ = ("fixed", "obj_id", "check_by_runner")
    FIXED_FIELD_NUMBER: _ClassVar[int]
    OBJ_ID_FIELD_NUMBER: _ClassVar[int]
    CHECK_BY_RUNNER_FIELD_NUMBER: _ClassVar[int]
    fixed: str
    obj_id: str
    check_by_runner: str
    def __init__(self, fixed: _Optional[str] = ..., obj_id: _Optional[str] = ..., check_by_runner: _Optional[str] = ...) -> None: ...

class IteratorResult(_message.Message):
    __slots__ = ("element_schema", "seekable")
    ELEMENT_SCHEMA_FIELD_NUMBER: _ClassVar[int]
    SEEKABLE_FIELD_NUMBER: _ClassVar[int]
    element_schema: str
    seekable: bool
    def __init__(self, element_schema: _Optional[str] = ..., seekable: _Optional[bool] = ...) -> None: ...

class FunctionResultType(_message.Message):
    __slots__ = ("fixed", "object", "stream", "iterator")
    FIXED_FIELD_NUMBER: _ClassVar[int]
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    STREAM_FIELD_NUMBER: _ClassVar[int]
    ITERATOR_FIELD_NUMBER: _ClassVar[int]
    fixed: str
    object: str
    stream: str
    iterator: IteratorResult
    def __init__(self, fixed: _Optional[str] = ..., object: _Optional[str] = ..., stream: _Optional[str] = ..., iterator: _Optional[_Union[IteratorResult, _Mapping]] = ...) -> None: ...

class AffinityType(_message.Message):
    __slots__ = ("input", "result", "custom")
    INPUT_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    CUSTOM_FIELD_NUMBER: _ClassVar[int]
    input: _empty_pb2.Empty
    result: _empty_pb2.Empty
    custom: _struct_pb2.ListValue
    def __init__(self, input: _Optional[_Union[_empty_pb2.Empty, _Mapping]] = ..., result: _Optional[_Union[_empty_pb2.Empty, _Mapping]] = ..., custom: _Optional[_Union[_struct_pb2.ListValue, _Mapping]] = ...) -> None: ...

class FunctionObject(_message.Message):
    __slots__ = ("func_type", "content", "is_pure", "timeout", "requirements", "best_run_weight", "affinity_type", "params_type", "result_type")
    class RequirementsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class BestRunWeightEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class ParamsTypeEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: FunctionParamType
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[FunctionParamType, _Mapping]] = ...) -> None: ...
    FUNC_TYPE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    IS_PURE_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    REQUIREMENTS_FIELD_NUMBER: _ClassVar[int]
    BEST_RUN_WEIGHT_FIELD_NUMBER: _ClassVar[int]
    AFFINITY_TYPE_FIELD_NUMBER: _ClassVar[int]
    PARAMS_TYPE_FIELD_NUMBER: _ClassVar[int]
    RESULT_TYPE_FIELD_NUMBER: _ClassVar[int]
    func_type: FunctionType
    content: str
    is_pure: bool
    timeout: int
    requirements: _containers.ScalarMap[str, int]
    best_run_weight: _containers.ScalarMap[str, int]
    affinity_type: AffinityType
    params_type: _containers.MessageMap[str, FunctionParamType]
    result_type: FunctionResultType
    def __init__(self, func_type: _Optional[_Union[FunctionType, _Mapping]] = ..., content: _Optional[str] = ..., is_pure: _Optional[bool] = ..., timeout: _Optional[int] = ..., requirements: _Optional[_Mapping[str, int]] = ..., best_run_weight: _Optional[_Mapping[str, int]] = ..., affinity_type: _Optional[_Union[AffinityType, _Mapping]] = ..., params_type: _Optional[_Mapping[str, FunctionParamType]] = ..., result_type: _Optional[_Union[FunctionResultType, _Mapping]] = ...) -> None: ...

class DispatchReceipt(_message.Message):
    __slots__ = ("node_id", "dispatch_type", "task_id", "runner", "function_hint_source", "details")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    DISPATCH_TYPE_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    RUNNER_FIELD_NUMBER: _ClassVar[int]
    FUNCTION_HINT_SOURCE_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    dispatch_type: str
    task_id: int
    runner: str
    function_hint_source: str
    details: _struct_pb2.Value
    def __init__(self, node_id: _Optional[str] = ..., dispatch_type: _Optional[str] = ..., task_id: _Optional[int] = ..., runner: _Optional[str] = ..., function_hint_source: _Optional[str] = ..., details: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ...) -> None: ...

class RunThunkResponse(_message.Message):
    __slots__ = ("thunk_obj_id", "status", "reason", "dispatch")
    THUNK_OBJ_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    DISPATCH_FIELD_NUMBER: _ClassVar[int]
    thunk_obj_id: str
    status: RunThunkStatus
    reason: str
    dispatch: DispatchReceipt
    def __init__(self, thunk_obj_id: _Optional[str] = ..., status: _Optional[_Union[RunThunkStatus, str]] = ..., reason: _Optional[str] = ..., dispatch: _Optional[_Union[DispatchReceipt, _Mapping]] = ...) -> None: ...

class RefreshRbacRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RefreshRbacResponse(_message.Message):
    __slots__ = ("updated", "tx_action_count")
    UPDATED_FIELD_NUMBER: _ClassVar[int]
    TX_ACTION_COUNT_FIELD_NUMBER: _ClassVar[int]
    updated: bool
    tx_action_count: int
    def __init__(self, updated: _Optional[bool] = ..., tx_action_count: _Optional[int] = ...) -> None: ...
