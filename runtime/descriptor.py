"""The contract between generated code and the runtime: one frozen descriptor per verb.

Generated modules hold nothing but these descriptors and thin stubs over them; every
behaviour (auth, JSON mapping, transports) lives in the runtime and reads them.  A
binding registered by hand builds the same descriptors with :func:`verb`.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Generic, TypeVar

from google.protobuf.message import Message

from buckyos.runtime.auth import AuthNode, needs_token, parse_auth, placeholders
from buckyos.runtime.errors import ContractError, ErrorCodes

__all__ = [
    "JsonShape",
    "MethodDescriptor",
    "ServiceDescriptor",
    "SessionFlags",
]

ReqT = TypeVar("ReqT", bound=Message)
"""A request message type (every module typing calls imports these two from here)."""
RespT = TypeVar("RespT", bound=Message)


class JsonShape(enum.IntEnum):
    """How a message travels as kRPC JSON; values match ``buckyos.JsonShape``."""

    OBJECT = 0
    NULL = 1
    TRUE = 2
    UNWRAP = 3
    NULLABLE = 4
    ENVELOPE = 5
    UNWRAP_OR_NULL = 6


@dataclass(frozen=True, slots=True)
class SessionFlags:
    """Binder session flags: CHECK, CLOSE, REFRESH and the LOA level a verb needs."""

    check: bool = False
    close: bool = False
    refresh: bool = False
    loa: int = 0

    def __str__(self) -> str:
        parts = [name for name in ("check", "close", "refresh") if getattr(self, name)]
        if self.loa:
            parts.append(f"loa={self.loa}")
        return ",".join(parts) or "none"


@dataclass(frozen=True, slots=True, eq=False)
class MethodDescriptor(Generic[ReqT, RespT]):
    """One verb of a service: the binder's verb-table entry plus its wire names."""

    api: str
    """The api (binding) name, the path segment of ``/kapi/<api>``."""
    service: str
    """The proto service's full name, e.g. ``buckyos.system_config.SystemConfig``."""
    name: str
    """The proto method name (``Get``)."""
    krpc: str
    """The kRPC method name on the wire (``sys_config_get``)."""
    request_type: type[ReqT]
    response_type: type[RespT]
    auth: AuthNode
    session: SessionFlags = SessionFlags()
    params_shape: JsonShape = JsonShape.OBJECT
    result_shape: JsonShape = JsonShape.OBJECT
    idempotent: bool = False
    """Safe to retry or fail over (proto ``idempotency_level`` is set)."""
    doc: str = ""
    required: tuple[str, ...] = ()
    """Request fields the contract marks ``(buckyos.field).required``: a stub refuses a
    call that leaves one out (:func:`buckyos.runtime.stub.build_request`)."""
    required_present: tuple[str, ...] = field(init=False, repr=False)
    """The ``required`` fields that track presence, checked in a request message too."""
    errors: ErrorCodes | None = None
    """The contract's coded errors (``(buckyos.api).errors``): a stub raises the coded
    class for a received error that leads with one (``errors.refine_error``)."""
    aliases: tuple[str, ...] = ()
    """Other kRPC names a server answers with this verb (``(buckyos.verb).aliases``); a
    client always sends ``krpc``."""

    def __post_init__(self) -> None:
        if self.result_shape is JsonShape.UNWRAP_OR_NULL:
            _check_unwrap_or_null(self)
        if not self.required:
            object.__setattr__(self, "required_present", ())
            return
        fields = self.request_type.DESCRIPTOR.fields_by_name
        unknown = [name for name in self.required if name not in fields]
        if unknown:
            raise ContractError(
                f"verb {self.krpc}: required field {unknown[0]!r} is not a field of "
                f"{self.request_type.DESCRIPTOR.full_name} (fields: {sorted(fields)})"
            )
        present = tuple(name for name in self.required if fields[name].has_presence)
        object.__setattr__(self, "required_present", present)

    @property
    def grpc_path(self) -> str:
        return f"/{self.service}/{self.name}"

    @property
    def auth_text(self) -> str:
        return str(self.auth)

    @property
    def needs_token(self) -> bool:
        """Binder rule: any session flag, Token or Permission node implies a token check."""
        return (
            self.session.check
            or self.session.loa > 0
            or self.session.close
            or needs_token(self.auth)
        )

    def __repr__(self) -> str:
        return f"<MethodDescriptor {self.api}/{self.krpc} ({self.service}.{self.name})>"

    def spec(self) -> dict[str, Any]:
        """A JSON-ready description (the binder's ``specification`` of this verb)."""
        return {
            "name": self.name,
            "krpc": self.krpc,
            "grpc": self.grpc_path,
            "auth": self.auth_text,
            "session": {
                "check": self.session.check,
                "close": self.session.close,
                "refresh": self.session.refresh,
                "loa": self.session.loa,
            },
            "params": self.params_shape.name,
            "result": self.result_shape.name,
            "request_type": self.request_type.DESCRIPTOR.full_name,
            "response_type": self.response_type.DESCRIPTOR.full_name,
            "idempotent": self.idempotent,
            "doc": self.doc,
            "required": list(self.required),
            **({"aliases": list(self.aliases)} if self.aliases else {}),
        }

    @staticmethod
    def build(
        *,
        api: str,
        service: str,
        name: str,
        krpc: str,
        request_type: type[ReqT],
        response_type: type[RespT],
        auth: str | AuthNode = "",
        session: SessionFlags | None = None,
        params_shape: JsonShape = JsonShape.OBJECT,
        result_shape: JsonShape = JsonShape.OBJECT,
        idempotent: bool = False,
        doc: str = "",
        required: Iterable[str] = (),
        errors: ErrorCodes | None = None,
        aliases: Iterable[str] = (),
    ) -> MethodDescriptor[ReqT, RespT]:
        """Build and validate a descriptor (what a hand-written binding uses)."""
        node = parse_auth(auth) if isinstance(auth, str) else auth
        fields = {f.name for f in request_type.DESCRIPTOR.fields}
        missing = [p for p in placeholders(node) if p not in fields]
        if missing:
            raise ContractError(
                f"verb {krpc}: placeholder {{{missing[0]}}} in auth {str(node)!r} is not a "
                f"field of {request_type.DESCRIPTOR.full_name} (fields: {sorted(fields)})"
            )
        return MethodDescriptor(
            api=api,
            service=service,
            name=name,
            krpc=krpc,
            request_type=request_type,
            response_type=response_type,
            auth=node,
            session=session or SessionFlags(),
            params_shape=params_shape,
            result_shape=result_shape,
            idempotent=idempotent,
            doc=doc,
            required=tuple(required),
            errors=errors,
            aliases=tuple(aliases),
        )


def _check_unwrap_or_null(method: MethodDescriptor[Any, Any]) -> None:
    """An UNWRAP_OR_NULL result is one field that tracks presence (codegen checks the
    same with the contract's file and line; this is for hand-built descriptors)."""
    fields = method.response_type.DESCRIPTOR.fields
    name = method.response_type.DESCRIPTOR.full_name
    if len(fields) != 1:
        raise ContractError(
            f"verb {method.krpc}: result UNWRAP_OR_NULL needs a message with exactly one "
            f"field; {name} has {len(fields)}"
        )
    only = fields[0]
    message = only.message_type.full_name if only.message_type is not None else ""
    if only.is_repeated or not only.has_presence or message == "google.protobuf.Value":
        raise ContractError(
            f"verb {method.krpc}: result UNWRAP_OR_NULL needs a field that tells unset from "
            f"empty; {name}.{only.name} does not (declare it `optional`, or a message other "
            "than google.protobuf.Value, not a list)"
        )


@dataclass(frozen=True, slots=True, eq=False)
class ServiceDescriptor:
    """A binding's api: its name, default port and verb table."""

    api: str
    service: str
    methods: tuple[MethodDescriptor[Any, Any], ...]
    port: int = 0
    noconcurrency: bool = False
    doc: str = ""
    errors: ErrorCodes | None = None
    """The api's coded errors (the table its verbs carry)."""
    aliases: tuple[str, ...] = ()
    """Other api names a kRPC server answers at (``(buckyos.api).aliases``)."""
    by_krpc: Mapping[str, MethodDescriptor[Any, Any]] = field(init=False, repr=False)
    """Every kRPC name a server answers to (verb aliases included) to its verb."""
    by_name: Mapping[str, MethodDescriptor[Any, Any]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        by_krpc: dict[str, MethodDescriptor[Any, Any]] = {}
        by_name: dict[str, MethodDescriptor[Any, Any]] = {}
        for method in self.methods:
            for krpc in (method.krpc, *method.aliases):
                if krpc in by_krpc:
                    raise ContractError(
                        f"api {self.api}: kRPC name {krpc!r} is used by both "
                        f"{by_krpc[krpc].name} and {method.name}"
                    )
                by_krpc[krpc] = method
            by_name[method.name] = method
        object.__setattr__(self, "by_krpc", MappingProxyType(by_krpc))
        object.__setattr__(self, "by_name", MappingProxyType(by_name))

    def __repr__(self) -> str:
        return f"<ServiceDescriptor {self.api} ({self.service}, {len(self.methods)} verbs)>"

    def spec(self) -> dict[str, Any]:
        spec = {
            "api": self.api,
            "service": self.service,
            "port": self.port,
            "noconcurrency": self.noconcurrency,
            "doc": self.doc,
            "verbs": [m.spec() for m in self.methods],
        }
        if self.aliases:
            spec["aliases"] = list(self.aliases)
        if self.errors is not None:
            spec["errors"] = self.errors.spec()
        return spec

    @staticmethod
    def of(
        api: str,
        service: str,
        methods: Iterable[MethodDescriptor[Any, Any]],
        *,
        port: int = 0,
        noconcurrency: bool = False,
        doc: str = "",
        errors: ErrorCodes | None = None,
        aliases: Iterable[str] = (),
    ) -> ServiceDescriptor:
        return ServiceDescriptor(
            api=api,
            service=service,
            methods=tuple(methods),
            port=port,
            noconcurrency=noconcurrency,
            doc=doc,
            errors=errors,
            aliases=tuple(aliases),
        )
