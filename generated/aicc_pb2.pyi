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

class Capability(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CAPABILITY_UNSPECIFIED: _ClassVar[Capability]
    CAPABILITY_LLM: _ClassVar[Capability]
    CAPABILITY_EMBEDDING: _ClassVar[Capability]
    CAPABILITY_RERANK: _ClassVar[Capability]
    CAPABILITY_IMAGE: _ClassVar[Capability]
    CAPABILITY_VISION: _ClassVar[Capability]
    CAPABILITY_AUDIO: _ClassVar[Capability]
    CAPABILITY_VIDEO: _ClassVar[Capability]
    CAPABILITY_AGENT: _ClassVar[Capability]

class RespFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RESP_FORMAT_TEXT: _ClassVar[RespFormat]
    RESP_FORMAT_JSON: _ClassVar[RespFormat]

class RoutePolicyProfile(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ROUTE_POLICY_PROFILE_BALANCED: _ClassVar[RoutePolicyProfile]
    ROUTE_POLICY_PROFILE_CHEAP: _ClassVar[RoutePolicyProfile]
    ROUTE_POLICY_PROFILE_FAST: _ClassVar[RoutePolicyProfile]
    ROUTE_POLICY_PROFILE_QUALITY: _ClassVar[RoutePolicyProfile]

class AiRole(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AI_ROLE_UNSPECIFIED: _ClassVar[AiRole]
    AI_ROLE_SYSTEM: _ClassVar[AiRole]
    AI_ROLE_USER: _ClassVar[AiRole]
    AI_ROLE_ASSISTANT: _ClassVar[AiRole]
    AI_ROLE_TOOL: _ClassVar[AiRole]
    AI_ROLE_DEVELOPER: _ClassVar[AiRole]

class AiMethodStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AI_METHOD_STATUS_UNSPECIFIED: _ClassVar[AiMethodStatus]
    AI_METHOD_STATUS_SUCCEEDED: _ClassVar[AiMethodStatus]
    AI_METHOD_STATUS_RUNNING: _ClassVar[AiMethodStatus]
    AI_METHOD_STATUS_FAILED: _ClassVar[AiMethodStatus]

class DriverMetadataUpdateStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DRIVER_METADATA_UPDATE_STATUS_UNSPECIFIED: _ClassVar[DriverMetadataUpdateStatus]
    DRIVER_METADATA_UPDATE_STATUS_DISABLED: _ClassVar[DriverMetadataUpdateStatus]
    DRIVER_METADATA_UPDATE_STATUS_IDLE: _ClassVar[DriverMetadataUpdateStatus]
    DRIVER_METADATA_UPDATE_STATUS_UPDATING: _ClassVar[DriverMetadataUpdateStatus]
    DRIVER_METADATA_UPDATE_STATUS_HEALTHY: _ClassVar[DriverMetadataUpdateStatus]
    DRIVER_METADATA_UPDATE_STATUS_DEGRADED: _ClassVar[DriverMetadataUpdateStatus]
    DRIVER_METADATA_UPDATE_STATUS_ERROR: _ClassVar[DriverMetadataUpdateStatus]
CAPABILITY_UNSPECIFIED: Capability
CAPABILITY_LLM: Capability
CAPABILITY_EMBEDDING: Capability
CAPABILITY_RERANK: Capability
CAPABILITY_IMAGE: Capability
CAPABILITY_VISION: Capability
CAPABILITY_AUDIO: Capability
CAPABILITY_VIDEO: Capability
CAPABILITY_AGENT: Capability
RESP_FORMAT_TEXT: RespFormat
RESP_FORMAT_JSON: RespFormat
ROUTE_POLICY_PROFILE_BALANCED: RoutePolicyProfile
ROUTE_POLICY_PROFILE_CHEAP: RoutePolicyProfile
ROUTE_POLICY_PROFILE_FAST: RoutePolicyProfile
ROUTE_POLICY_PROFILE_QUALITY: RoutePolicyProfile
AI_ROLE_UNSPECIFIED: AiRole
AI_ROLE_SYSTEM: AiRole
AI_ROLE_USER: AiRole
AI_ROLE_ASSISTANT: AiRole
AI_ROLE_TOOL: AiRole
AI_ROLE_DEVELOPER: AiRole
AI_METHOD_STATUS_UNSPECIFIED: AiMethodStatus
AI_METHOD_STATUS_SUCCEEDED: AiMethodStatus
AI_METHOD_STATUS_RUNNING: AiMethodStatus
AI_METHOD_STATUS_FAILED: AiMethodStatus
DRIVER_METADATA_UPDATE_STATUS_UNSPECIFIED: DriverMetadataUpdateStatus
DRIVER_METADATA_UPDATE_STATUS_DISABLED: DriverMetadataUpdateStatus
DRIVER_METADATA_UPDATE_STATUS_IDLE: DriverMetadataUpdateStatus
DRIVER_METADATA_UPDATE_STATUS_UPDATING: DriverMetadataUpdateStatus
DRIVER_METADATA_UPDATE_STATUS_HEALTHY: DriverMetadataUpdateStatus
DRIVER_METADATA_UPDATE_STATUS_DEGRADED: DriverMetadataUpdateStatus
DRIVER_METADATA_UPDATE_STATUS_ERROR: DriverMetadataUpdateStatus

class OpaqueObject(_message.Message):
    __slots__ = ("value",)
    VALUE_FIELD_NUMBER: _ClassVar[int]
    value: _struct_pb2.Struct
    def __init__(self, value: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class UrlResource(_message.Message):
    __slots__ = ("url", "mime_hint")
    URL_FIELD_NUMBER: _ClassVar[int]
    MIME_HINT_FIELD_NUMBER: _ClassVar[int]
    url: str
    mime_hint: str
    def __init__(self, url: _Optional[str] = ..., mime_hint: _Optional[str] = ...) -> None: ...

class Base64Resource(_message.Message):
    __slots__ = ("mime", "data_base64")
    MIME_FIELD_NUMBER: _ClassVar[int]
    DATA_BASE64_FIELD_NUMBER: _ClassVar[int]
    mime: str
    data_base64: str
    def __init__(self, mime: _Optional[str] = ..., data_base64: _Optional[str] = ...) -> None: ...

class NamedObjectResource(_message.Message):
    __slots__ = ("obj_id",)
    OBJ_ID_FIELD_NUMBER: _ClassVar[int]
    obj_id: str
    def __init__(self, obj_id: _Optional[str] = ...) -> None: ...

class ResourceRef(_message.Message):
    __slots__ = ("url", "base64", "named_object")
    URL_FIELD_NUMBER: _ClassVar[int]
    BASE64_FIELD_NUMBER: _ClassVar[int]
    NAMED_OBJECT_FIELD_NUMBER: _ClassVar[int]
    url: UrlResource
    base64: Base64Resource
    named_object: NamedObjectResource
    def __init__(self, url: _Optional[_Union[UrlResource, _Mapping]] = ..., base64: _Optional[_Union[Base64Resource, _Mapping]] = ..., named_object: _Optional[_Union[NamedObjectResource, _Mapping]] = ...) -> None: ...

class TextBlock(_message.Message):
    __slots__ = ("text",)
    TEXT_FIELD_NUMBER: _ClassVar[int]
    text: str
    def __init__(self, text: _Optional[str] = ...) -> None: ...

class ImageBlock(_message.Message):
    __slots__ = ("source",)
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    source: ResourceRef
    def __init__(self, source: _Optional[_Union[ResourceRef, _Mapping]] = ...) -> None: ...

class DocumentBlock(_message.Message):
    __slots__ = ("source", "title")
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    source: ResourceRef
    title: str
    def __init__(self, source: _Optional[_Union[ResourceRef, _Mapping]] = ..., title: _Optional[str] = ...) -> None: ...

class ToolUseBlock(_message.Message):
    __slots__ = ("call_id", "name", "args")
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ARGS_FIELD_NUMBER: _ClassVar[int]
    call_id: str
    name: str
    args: _struct_pb2.Struct
    def __init__(self, call_id: _Optional[str] = ..., name: _Optional[str] = ..., args: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class AiToolResultContent(_message.Message):
    __slots__ = ("text", "image", "document")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    text: TextBlock
    image: ImageBlock
    document: DocumentBlock
    def __init__(self, text: _Optional[_Union[TextBlock, _Mapping]] = ..., image: _Optional[_Union[ImageBlock, _Mapping]] = ..., document: _Optional[_Union[DocumentBlock, _Mapping]] = ...) -> None: ...

class ToolResultBlock(_message.Message):
    __slots__ = ("call_id", "content", "is_error")
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    IS_ERROR_FIELD_NUMBER: _ClassVar[int]
    call_id: str
    content: _containers.RepeatedCompositeFieldContainer[AiToolResultContent]
    is_error: bool
    def __init__(self, call_id: _Optional[str] = ..., content: _Optional[_Iterable[_Union[AiToolResultContent, _Mapping]]] = ..., is_error: _Optional[bool] = ...) -> None: ...

class ThinkingBlock(_message.Message):
    __slots__ = ("summary", "text", "provider_metadata")
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_METADATA_FIELD_NUMBER: _ClassVar[int]
    summary: str
    text: str
    provider_metadata: _struct_pb2.Value
    def __init__(self, summary: _Optional[str] = ..., text: _Optional[str] = ..., provider_metadata: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ...) -> None: ...

class ProviderStateBlock(_message.Message):
    __slots__ = ("provider", "value")
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    provider: str
    value: _struct_pb2.Value
    def __init__(self, provider: _Optional[str] = ..., value: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ...) -> None: ...

class AiContent(_message.Message):
    __slots__ = ("text", "image", "document", "tool_use", "tool_result", "thinking", "provider_state")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    TOOL_USE_FIELD_NUMBER: _ClassVar[int]
    TOOL_RESULT_FIELD_NUMBER: _ClassVar[int]
    THINKING_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_STATE_FIELD_NUMBER: _ClassVar[int]
    text: TextBlock
    image: ImageBlock
    document: DocumentBlock
    tool_use: ToolUseBlock
    tool_result: ToolResultBlock
    thinking: ThinkingBlock
    provider_state: ProviderStateBlock
    def __init__(self, text: _Optional[_Union[TextBlock, _Mapping]] = ..., image: _Optional[_Union[ImageBlock, _Mapping]] = ..., document: _Optional[_Union[DocumentBlock, _Mapping]] = ..., tool_use: _Optional[_Union[ToolUseBlock, _Mapping]] = ..., tool_result: _Optional[_Union[ToolResultBlock, _Mapping]] = ..., thinking: _Optional[_Union[ThinkingBlock, _Mapping]] = ..., provider_state: _Optional[_Union[ProviderStateBlock, _Mapping]] = ...) -> None: ...

class AiMessage(_message.Message):
    __slots__ = ("role", "content")
    ROLE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    role: AiRole
    content: _containers.RepeatedCompositeFieldContainer[AiContent]
    def __init__(self, role: _Optional[_Union[AiRole, str]] = ..., content: _Optional[_Iterable[_Union[AiContent, _Mapping]]] = ...) -> None: ...

class AiToolSpec(_message.Message):
    __slots__ = ("name", "description", "args_schema", "output_schema")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    ARGS_SCHEMA_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_SCHEMA_FIELD_NUMBER: _ClassVar[int]
    name: str
    description: str
    args_schema: _struct_pb2.Struct
    output_schema: _struct_pb2.Value
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ..., args_schema: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., output_schema: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ...) -> None: ...

class AiToolCall(_message.Message):
    __slots__ = ("name", "args", "call_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ARGS_FIELD_NUMBER: _ClassVar[int]
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    args: _struct_pb2.Struct
    call_id: str
    def __init__(self, name: _Optional[str] = ..., args: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., call_id: _Optional[str] = ...) -> None: ...

class ModelSpec(_message.Message):
    __slots__ = ("alias", "provider_model_hint")
    ALIAS_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_MODEL_HINT_FIELD_NUMBER: _ClassVar[int]
    alias: str
    provider_model_hint: str
    def __init__(self, alias: _Optional[str] = ..., provider_model_hint: _Optional[str] = ...) -> None: ...

class ModelRequirement(_message.Message):
    __slots__ = ("streaming", "tool_call", "json_schema", "web_search", "vision", "min_context_tokens")
    STREAMING_FIELD_NUMBER: _ClassVar[int]
    TOOL_CALL_FIELD_NUMBER: _ClassVar[int]
    JSON_SCHEMA_FIELD_NUMBER: _ClassVar[int]
    WEB_SEARCH_FIELD_NUMBER: _ClassVar[int]
    VISION_FIELD_NUMBER: _ClassVar[int]
    MIN_CONTEXT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    streaming: bool
    tool_call: bool
    json_schema: bool
    web_search: bool
    vision: bool
    min_context_tokens: int
    def __init__(self, streaming: _Optional[bool] = ..., tool_call: _Optional[bool] = ..., json_schema: _Optional[bool] = ..., web_search: _Optional[bool] = ..., vision: _Optional[bool] = ..., min_context_tokens: _Optional[int] = ...) -> None: ...

class Requirements(_message.Message):
    __slots__ = ("required", "must_features", "max_latency_ms", "max_cost_usd", "resp_format", "extra")
    REQUIRED_FIELD_NUMBER: _ClassVar[int]
    MUST_FEATURES_FIELD_NUMBER: _ClassVar[int]
    MAX_LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    MAX_COST_USD_FIELD_NUMBER: _ClassVar[int]
    RESP_FORMAT_FIELD_NUMBER: _ClassVar[int]
    EXTRA_FIELD_NUMBER: _ClassVar[int]
    required: ModelRequirement
    must_features: _containers.RepeatedScalarFieldContainer[str]
    max_latency_ms: int
    max_cost_usd: float
    resp_format: RespFormat
    extra: _struct_pb2.Value
    def __init__(self, required: _Optional[_Union[ModelRequirement, _Mapping]] = ..., must_features: _Optional[_Iterable[str]] = ..., max_latency_ms: _Optional[int] = ..., max_cost_usd: _Optional[float] = ..., resp_format: _Optional[_Union[RespFormat, str]] = ..., extra: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ...) -> None: ...

class ModelDisable(_message.Message):
    __slots__ = ("streaming", "tool_call", "json_schema", "web_search", "vision", "min_context_tokens")
    STREAMING_FIELD_NUMBER: _ClassVar[int]
    TOOL_CALL_FIELD_NUMBER: _ClassVar[int]
    JSON_SCHEMA_FIELD_NUMBER: _ClassVar[int]
    WEB_SEARCH_FIELD_NUMBER: _ClassVar[int]
    VISION_FIELD_NUMBER: _ClassVar[int]
    MIN_CONTEXT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    streaming: bool
    tool_call: bool
    json_schema: bool
    web_search: bool
    vision: bool
    min_context_tokens: int
    def __init__(self, streaming: _Optional[bool] = ..., tool_call: _Optional[bool] = ..., json_schema: _Optional[bool] = ..., web_search: _Optional[bool] = ..., vision: _Optional[bool] = ..., min_context_tokens: _Optional[int] = ...) -> None: ...

class AiPayload(_message.Message):
    __slots__ = ("input_json", "resources", "options")
    INPUT_JSON_FIELD_NUMBER: _ClassVar[int]
    RESOURCES_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    input_json: _struct_pb2.Struct
    resources: _containers.RepeatedCompositeFieldContainer[ResourceRef]
    options: _struct_pb2.Struct
    def __init__(self, input_json: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., resources: _Optional[_Iterable[_Union[ResourceRef, _Mapping]]] = ..., options: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class RoutePolicy(_message.Message):
    __slots__ = ("profile", "local_only", "allow_fallback", "runtime_failover", "explain", "allowed_provider_instances", "blocked_provider_instances", "max_cost_usd", "max_latency_ms")
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    LOCAL_ONLY_FIELD_NUMBER: _ClassVar[int]
    ALLOW_FALLBACK_FIELD_NUMBER: _ClassVar[int]
    RUNTIME_FAILOVER_FIELD_NUMBER: _ClassVar[int]
    EXPLAIN_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_PROVIDER_INSTANCES_FIELD_NUMBER: _ClassVar[int]
    BLOCKED_PROVIDER_INSTANCES_FIELD_NUMBER: _ClassVar[int]
    MAX_COST_USD_FIELD_NUMBER: _ClassVar[int]
    MAX_LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    profile: RoutePolicyProfile
    local_only: bool
    allow_fallback: bool
    runtime_failover: bool
    explain: bool
    allowed_provider_instances: _containers.RepeatedScalarFieldContainer[str]
    blocked_provider_instances: _containers.RepeatedScalarFieldContainer[str]
    max_cost_usd: float
    max_latency_ms: int
    def __init__(self, profile: _Optional[_Union[RoutePolicyProfile, str]] = ..., local_only: _Optional[bool] = ..., allow_fallback: _Optional[bool] = ..., runtime_failover: _Optional[bool] = ..., explain: _Optional[bool] = ..., allowed_provider_instances: _Optional[_Iterable[str]] = ..., blocked_provider_instances: _Optional[_Iterable[str]] = ..., max_cost_usd: _Optional[float] = ..., max_latency_ms: _Optional[int] = ...) -> None: ...

class AiTaskOptions(_message.Message):
    __slots__ = ("parent_id",)
    PARENT_ID_FIELD_NUMBER: _ClassVar[int]
    parent_id: str
    def __init__(self, parent_id: _Optional[str] = ...) -> None: ...

class AiMethodRequest(_message.Message):
    __slots__ = ("capability", "model", "requirements", "disable", "payload", "policy", "idempotency_key", "task_options")
    CAPABILITY_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    REQUIREMENTS_FIELD_NUMBER: _ClassVar[int]
    DISABLE_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    TASK_OPTIONS_FIELD_NUMBER: _ClassVar[int]
    capability: Capability
    model: ModelSpec
    requirements: Requirements
    disable: ModelDisable
    payload: AiPayload
    policy: RoutePolicy
    idempotency_key: str
    task_options: AiTaskOptions
    def __init__(self, capability: _Optional[_Union[Capability, str]] = ..., model: _Optional[_Union[ModelSpec, _Mapping]] = ..., requirements: _Optional[_Union[Requirements, _Mapping]] = ..., disable: _Optional[_Union[ModelDisable, _Mapping]] = ..., payload: _Optional[_Union[AiPayload, _Mapping]] = ..., policy: _Optional[_Union[RoutePolicy, _Mapping]] = ..., idempotency_key: _Optional[str] = ..., task_options: _Optional[_Union[AiTaskOptions, _Mapping]] = ...) -> None: ...

class AiUsage(_message.Message):
    __slots__ = ("input_tokens", "output_tokens", "total_tokens", "request_units")
    INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_TOKENS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_UNITS_FIELD_NUMBER: _ClassVar[int]
    input_tokens: int
    output_tokens: int
    total_tokens: int
    request_units: int
    def __init__(self, input_tokens: _Optional[int] = ..., output_tokens: _Optional[int] = ..., total_tokens: _Optional[int] = ..., request_units: _Optional[int] = ...) -> None: ...

class AiCost(_message.Message):
    __slots__ = ("amount", "currency")
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    amount: float
    currency: str
    def __init__(self, amount: _Optional[float] = ..., currency: _Optional[str] = ...) -> None: ...

class AiResponse(_message.Message):
    __slots__ = ("message", "usage", "cost", "finish_reason", "provider_task_ref", "extra")
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    FINISH_REASON_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_TASK_REF_FIELD_NUMBER: _ClassVar[int]
    EXTRA_FIELD_NUMBER: _ClassVar[int]
    message: AiMessage
    usage: AiUsage
    cost: AiCost
    finish_reason: str
    provider_task_ref: str
    extra: _struct_pb2.Value
    def __init__(self, message: _Optional[_Union[AiMessage, _Mapping]] = ..., usage: _Optional[_Union[AiUsage, _Mapping]] = ..., cost: _Optional[_Union[AiCost, _Mapping]] = ..., finish_reason: _Optional[str] = ..., provider_task_ref: _Optional[str] = ..., extra: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ...) -> None: ...

class AiMethodResponse(_message.Message):
    __slots__ = ("task_id", "status", "result", "event_ref")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    EVENT_REF_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    status: AiMethodStatus
    result: AiResponse
    event_ref: str
    def __init__(self, task_id: _Optional[str] = ..., status: _Optional[_Union[AiMethodStatus, str]] = ..., result: _Optional[_Union[AiResponse, _Mapping]] = ..., event_ref: _Optional[str] = ...) -> None: ...

class LlmChatInvokeRequest(_message.Message):
    __slots__ = ("exact_model", "messages", "tools", "response_format", "temperature", "max_output_tokens", "payload", "provider_options", "idempotency_key", "task_options")
    EXACT_MODEL_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    TOOLS_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_FORMAT_FIELD_NUMBER: _ClassVar[int]
    TEMPERATURE_FIELD_NUMBER: _ClassVar[int]
    MAX_OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_OPTIONS_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    TASK_OPTIONS_FIELD_NUMBER: _ClassVar[int]
    exact_model: str
    messages: _containers.RepeatedCompositeFieldContainer[AiMessage]
    tools: _containers.RepeatedCompositeFieldContainer[AiToolSpec]
    response_format: RespFormat
    temperature: float
    max_output_tokens: int
    payload: AiPayload
    provider_options: _struct_pb2.Value
    idempotency_key: str
    task_options: AiTaskOptions
    def __init__(self, exact_model: _Optional[str] = ..., messages: _Optional[_Iterable[_Union[AiMessage, _Mapping]]] = ..., tools: _Optional[_Iterable[_Union[AiToolSpec, _Mapping]]] = ..., response_format: _Optional[_Union[RespFormat, str]] = ..., temperature: _Optional[float] = ..., max_output_tokens: _Optional[int] = ..., payload: _Optional[_Union[AiPayload, _Mapping]] = ..., provider_options: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., idempotency_key: _Optional[str] = ..., task_options: _Optional[_Union[AiTaskOptions, _Mapping]] = ...) -> None: ...

class LlmChatInvokeResponse(_message.Message):
    __slots__ = ("task_id", "status", "message", "tool_calls", "usage", "cost", "finish_reason", "provider_task_ref", "route_trace", "event_ref")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    TOOL_CALLS_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    FINISH_REASON_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_TASK_REF_FIELD_NUMBER: _ClassVar[int]
    ROUTE_TRACE_FIELD_NUMBER: _ClassVar[int]
    EVENT_REF_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    status: AiMethodStatus
    message: AiMessage
    tool_calls: _containers.RepeatedCompositeFieldContainer[AiToolCall]
    usage: AiUsage
    cost: AiCost
    finish_reason: str
    provider_task_ref: str
    route_trace: _struct_pb2.Value
    event_ref: str
    def __init__(self, task_id: _Optional[str] = ..., status: _Optional[_Union[AiMethodStatus, str]] = ..., message: _Optional[_Union[AiMessage, _Mapping]] = ..., tool_calls: _Optional[_Iterable[_Union[AiToolCall, _Mapping]]] = ..., usage: _Optional[_Union[AiUsage, _Mapping]] = ..., cost: _Optional[_Union[AiCost, _Mapping]] = ..., finish_reason: _Optional[str] = ..., provider_task_ref: _Optional[str] = ..., route_trace: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., event_ref: _Optional[str] = ...) -> None: ...

class TextToImageInvokeRequest(_message.Message):
    __slots__ = ("exact_model", "prompt", "negative_prompt", "size", "quality", "style", "seed", "output", "payload", "provider_options", "idempotency_key", "task_options")
    EXACT_MODEL_FIELD_NUMBER: _ClassVar[int]
    PROMPT_FIELD_NUMBER: _ClassVar[int]
    NEGATIVE_PROMPT_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    STYLE_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_OPTIONS_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    TASK_OPTIONS_FIELD_NUMBER: _ClassVar[int]
    exact_model: str
    prompt: str
    negative_prompt: str
    size: str
    quality: str
    style: str
    seed: int
    output: _struct_pb2.Value
    payload: AiPayload
    provider_options: _struct_pb2.Value
    idempotency_key: str
    task_options: AiTaskOptions
    def __init__(self, exact_model: _Optional[str] = ..., prompt: _Optional[str] = ..., negative_prompt: _Optional[str] = ..., size: _Optional[str] = ..., quality: _Optional[str] = ..., style: _Optional[str] = ..., seed: _Optional[int] = ..., output: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., payload: _Optional[_Union[AiPayload, _Mapping]] = ..., provider_options: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., idempotency_key: _Optional[str] = ..., task_options: _Optional[_Union[AiTaskOptions, _Mapping]] = ...) -> None: ...

class AiArtifact(_message.Message):
    __slots__ = ("name", "resource", "mime", "metadata")
    NAME_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_FIELD_NUMBER: _ClassVar[int]
    MIME_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    name: str
    resource: ResourceRef
    mime: str
    metadata: _struct_pb2.Value
    def __init__(self, name: _Optional[str] = ..., resource: _Optional[_Union[ResourceRef, _Mapping]] = ..., mime: _Optional[str] = ..., metadata: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ...) -> None: ...

class TextToImageInvokeResponse(_message.Message):
    __slots__ = ("task_id", "status", "artifacts", "usage", "cost", "provider_task_ref", "route_trace", "event_ref")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ARTIFACTS_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_TASK_REF_FIELD_NUMBER: _ClassVar[int]
    ROUTE_TRACE_FIELD_NUMBER: _ClassVar[int]
    EVENT_REF_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    status: AiMethodStatus
    artifacts: _containers.RepeatedCompositeFieldContainer[AiArtifact]
    usage: AiUsage
    cost: AiCost
    provider_task_ref: str
    route_trace: _struct_pb2.Value
    event_ref: str
    def __init__(self, task_id: _Optional[str] = ..., status: _Optional[_Union[AiMethodStatus, str]] = ..., artifacts: _Optional[_Iterable[_Union[AiArtifact, _Mapping]]] = ..., usage: _Optional[_Union[AiUsage, _Mapping]] = ..., cost: _Optional[_Union[AiCost, _Mapping]] = ..., provider_task_ref: _Optional[str] = ..., route_trace: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., event_ref: _Optional[str] = ...) -> None: ...

class RouteResolveRequest(_message.Message):
    __slots__ = ("request_id", "api_type", "logical_model", "requirements", "disable", "policy", "estimated_input_tokens", "estimated_output_tokens", "session_overlay")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    API_TYPE_FIELD_NUMBER: _ClassVar[int]
    LOGICAL_MODEL_FIELD_NUMBER: _ClassVar[int]
    REQUIREMENTS_FIELD_NUMBER: _ClassVar[int]
    DISABLE_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    SESSION_OVERLAY_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    api_type: str
    logical_model: str
    requirements: Requirements
    disable: ModelDisable
    policy: RoutePolicy
    estimated_input_tokens: int
    estimated_output_tokens: int
    session_overlay: _struct_pb2.Struct
    def __init__(self, request_id: _Optional[str] = ..., api_type: _Optional[str] = ..., logical_model: _Optional[str] = ..., requirements: _Optional[_Union[Requirements, _Mapping]] = ..., disable: _Optional[_Union[ModelDisable, _Mapping]] = ..., policy: _Optional[_Union[RoutePolicy, _Mapping]] = ..., estimated_input_tokens: _Optional[int] = ..., estimated_output_tokens: _Optional[int] = ..., session_overlay: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class RouteFallbackAttempt(_message.Message):
    __slots__ = ("exact_model", "provider_instance_name", "provider_model_id", "provider_options")
    EXACT_MODEL_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_INSTANCE_NAME_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_OPTIONS_FIELD_NUMBER: _ClassVar[int]
    exact_model: str
    provider_instance_name: str
    provider_model_id: str
    provider_options: _struct_pb2.Value
    def __init__(self, exact_model: _Optional[str] = ..., provider_instance_name: _Optional[str] = ..., provider_model_id: _Optional[str] = ..., provider_options: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ...) -> None: ...

class RouteResolveResponse(_message.Message):
    __slots__ = ("selected_exact_model", "provider_instance_name", "provider_driver", "provider_model_id", "provider_options", "enabled_capabilities", "disabled_capabilities", "fallback_attempts", "route_trace", "inventory_revision")
    SELECTED_EXACT_MODEL_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_INSTANCE_NAME_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_DRIVER_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_OPTIONS_FIELD_NUMBER: _ClassVar[int]
    ENABLED_CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    DISABLED_CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    FALLBACK_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    ROUTE_TRACE_FIELD_NUMBER: _ClassVar[int]
    INVENTORY_REVISION_FIELD_NUMBER: _ClassVar[int]
    selected_exact_model: str
    provider_instance_name: str
    provider_driver: str
    provider_model_id: str
    provider_options: _struct_pb2.Value
    enabled_capabilities: _containers.RepeatedScalarFieldContainer[str]
    disabled_capabilities: _containers.RepeatedScalarFieldContainer[str]
    fallback_attempts: _containers.RepeatedCompositeFieldContainer[RouteFallbackAttempt]
    route_trace: _struct_pb2.Value
    inventory_revision: str
    def __init__(self, selected_exact_model: _Optional[str] = ..., provider_instance_name: _Optional[str] = ..., provider_driver: _Optional[str] = ..., provider_model_id: _Optional[str] = ..., provider_options: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., enabled_capabilities: _Optional[_Iterable[str]] = ..., disabled_capabilities: _Optional[_Iterable[str]] = ..., fallback_attempts: _Optional[_Iterable[_Union[RouteFallbackAttempt, _Mapping]]] = ..., route_trace: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., inventory_revision: _Optional[str] = ...) -> None: ...

class CancelRequest(_message.Message):
    __slots__ = ("task_id",)
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    def __init__(self, task_id: _Optional[str] = ...) -> None: ...

class CancelResponse(_message.Message):
    __slots__ = ("task_id", "accepted")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    accepted: bool
    def __init__(self, task_id: _Optional[str] = ..., accepted: _Optional[bool] = ...) -> None: ...

class ModelsListRequest(_message.Message):
    __slots__ = ("logical_path",)
    LOGICAL_PATH_FIELD_NUMBER: _ClassVar[int]
    logical_path: str
    def __init__(self, logical_path: _Optional[str] = ...) -> None: ...

class ReloadSettingsResult(_message.Message):
    __slots__ = ("ok", "providers_registered")
    OK_FIELD_NUMBER: _ClassVar[int]
    PROVIDERS_REGISTERED_FIELD_NUMBER: _ClassVar[int]
    ok: bool
    providers_registered: int
    def __init__(self, ok: _Optional[bool] = ..., providers_registered: _Optional[int] = ...) -> None: ...

class DriverMetadataUpdateSetReq(_message.Message):
    __slots__ = ("enabled", "source_url", "interval_secs")
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    SOURCE_URL_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_SECS_FIELD_NUMBER: _ClassVar[int]
    enabled: bool
    source_url: str
    interval_secs: int
    def __init__(self, enabled: _Optional[bool] = ..., source_url: _Optional[str] = ..., interval_secs: _Optional[int] = ...) -> None: ...

class DriverMetadataUpdateView(_message.Message):
    __slots__ = ("enabled", "source_url", "source_configured", "interval_secs", "status", "active_revision", "last_attempt_at_ms", "last_success_at_ms", "last_error", "consecutive_failures")
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    SOURCE_URL_FIELD_NUMBER: _ClassVar[int]
    SOURCE_CONFIGURED_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_SECS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_REVISION_FIELD_NUMBER: _ClassVar[int]
    LAST_ATTEMPT_AT_MS_FIELD_NUMBER: _ClassVar[int]
    LAST_SUCCESS_AT_MS_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    CONSECUTIVE_FAILURES_FIELD_NUMBER: _ClassVar[int]
    enabled: bool
    source_url: str
    source_configured: bool
    interval_secs: int
    status: DriverMetadataUpdateStatus
    active_revision: int
    last_attempt_at_ms: int
    last_success_at_ms: int
    last_error: str
    consecutive_failures: int
    def __init__(self, enabled: _Optional[bool] = ..., source_url: _Optional[str] = ..., source_configured: _Optional[bool] = ..., interval_secs: _Optional[int] = ..., status: _Optional[_Union[DriverMetadataUpdateStatus, str]] = ..., active_revision: _Optional[int] = ..., last_attempt_at_ms: _Optional[int] = ..., last_success_at_ms: _Optional[int] = ..., last_error: _Optional[str] = ..., consecutive_failures: _Optional[int] = ...) -> None: ...

class DriverMetadataRuntimeApply(_message.Message):
    __slots__ = ("ok", "refresh_scheduled", "error")
    OK_FIELD_NUMBER: _ClassVar[int]
    REFRESH_SCHEDULED_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    ok: bool
    refresh_scheduled: bool
    error: str
    def __init__(self, ok: _Optional[bool] = ..., refresh_scheduled: _Optional[bool] = ..., error: _Optional[str] = ...) -> None: ...

class DriverMetadataUpdateSetResponse(_message.Message):
    __slots__ = ("ok", "settings_revision", "settings", "runtime_apply")
    OK_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_REVISION_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    RUNTIME_APPLY_FIELD_NUMBER: _ClassVar[int]
    ok: bool
    settings_revision: int
    settings: DriverMetadataUpdateView
    runtime_apply: DriverMetadataRuntimeApply
    def __init__(self, ok: _Optional[bool] = ..., settings_revision: _Optional[int] = ..., settings: _Optional[_Union[DriverMetadataUpdateView, _Mapping]] = ..., runtime_apply: _Optional[_Union[DriverMetadataRuntimeApply, _Mapping]] = ...) -> None: ...
