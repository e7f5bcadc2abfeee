"""Read a ``CodeGeneratorRequest`` into a validated model of the bindings it declares.

The ``buckyos.*`` options are read through a descriptor pool built from the request
itself, so the plugin sees exactly the ``options.proto`` that protoc compiled (no stale
generated module).  Every problem is collected with ``file:line`` and what to fix; the
caller refuses to write anything when there is one.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.compiler import plugin_pb2

from buckyos.runtime.auth import AuthNode, Permission, parse_auth, walk
from buckyos.runtime.descriptor import JsonShape, SessionFlags
from buckyos.runtime.errors import ContractError

__all__ = [
    "ContractProblem",
    "FileModel",
    "MethodModel",
    "ModuleMap",
    "ServiceModel",
    "read_request",
]

_FDP = descriptor_pb2.FieldDescriptorProto
_KRPC_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")
_API_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*")
# Field numbers in descriptor.proto, for source locations.
_FILE_MESSAGE, _FILE_SERVICE = 4, 6
_SERVICE_METHOD, _SERVICE_OPTIONS = 2, 3
_METHOD_OPTIONS = 4
_MESSAGE_FIELD = 2


@dataclass(frozen=True)
class ContractProblem:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass(frozen=True)
class ModuleMap:
    """Proto directory prefix to Python package, e.g. ``buckyos/`` -> ``buckyos.generated``."""

    rules: tuple[tuple[str, str], ...] = ()

    @staticmethod
    def parse(parameter: str) -> ModuleMap:
        rules: list[tuple[str, str]] = []
        for item in filter(None, (p.strip() for p in parameter.split(","))):
            key, sep, value = item.partition("=")
            if key == "module_map":
                continue
            if not sep or not key.endswith("/"):
                raise ContractError(
                    f"plugin parameter {item!r}: write <proto dir>/=<python package>, "
                    "e.g. buckyos/=buckyos.generated"
                )
            rules.append((key, value))
        if not any(prefix == "buckyos/" for prefix, _ in rules):
            # The shipped contracts are installed as buckyos.generated: implied, so that a
            # plain `protoc --buckyos_out=.` writes imports that work.
            rules.append(("buckyos/", "buckyos.generated"))
        return ModuleMap(tuple(rules))

    def module(self, proto_file: str) -> str:
        """The Python module protoc's ``_pb2`` for ``proto_file`` ends up as."""
        stem = proto_file.removesuffix(".proto")
        for prefix, package in self.rules:
            if stem.startswith(prefix):
                rest = stem[len(prefix) :].replace("/", ".")
                return f"{package}.{rest}_pb2" if package else f"{rest}_pb2"
        return stem.replace("/", ".").replace("-", "_") + "_pb2"


@dataclass(frozen=True)
class TypeRef:
    module: str
    """Python module of the ``_pb2`` that defines the message."""
    path: str
    """Dotted path inside that module (``Outer.Inner``)."""
    full_name: str


@dataclass(frozen=True)
class FieldModel:
    name: str
    annotation: str
    """Type of the stub keyword argument, with modules as ``{module}`` markers resolved."""
    refs: tuple[TypeRef, ...] = ()
    required: bool = False
    """``(buckyos.field).required``: a stub call must give it."""


@dataclass(frozen=True)
class MethodModel:
    name: str
    krpc: str
    auth: AuthNode
    session: SessionFlags
    params: JsonShape
    result: JsonShape
    idempotent: bool
    doc: str
    request: TypeRef
    response: TypeRef
    fields: tuple[FieldModel, ...]


@dataclass(frozen=True)
class ServiceModel:
    name: str
    full_name: str
    api: str
    port: int
    noconcurrency: bool
    doc: str
    methods: tuple[MethodModel, ...]


@dataclass
class FileModel:
    proto: str
    services: list[ServiceModel] = field(default_factory=list)


class _Locator:
    def __init__(self, fdp: descriptor_pb2.FileDescriptorProto) -> None:
        self.file = fdp.name
        self.lines: dict[tuple[int, ...], int] = {}
        self.comments: dict[tuple[int, ...], str] = {}
        for loc in fdp.source_code_info.location:
            path = tuple(loc.path)
            if path not in self.lines and loc.span:
                self.lines[path] = loc.span[0] + 1
            if loc.leading_comments and path not in self.comments:
                self.comments[path] = loc.leading_comments.strip()

    def line(self, path: tuple[int, ...]) -> int:
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return 1


class _Reader:
    def __init__(self, request: plugin_pb2.CodeGeneratorRequest, modules: ModuleMap) -> None:
        self.modules = modules
        self.problems: list[ContractProblem] = []
        self.pool = descriptor_pool.DescriptorPool()
        for fdp in request.proto_file:
            self.pool.Add(fdp)
        self.by_name = {fdp.name: fdp for fdp in request.proto_file}
        self.verb_ext: Any
        self.api_ext: Any
        self.json_ext: Any
        try:
            self.verb_ext = self.pool.FindExtensionByName("buckyos.verb")
            self.api_ext = self.pool.FindExtensionByName("buckyos.api")
            self.json_ext = self.pool.FindExtensionByName("buckyos.json")
        except KeyError:
            self.verb_ext = self.api_ext = self.json_ext = None
        self.field_ext: Any
        try:  # newer than the others: a contract compiled with an older options.proto
            self.field_ext = self.pool.FindExtensionByName("buckyos.field")
        except KeyError:
            self.field_ext = None
        self.checked_rules: set[str] = set()
        self.method_options = self._options_class("google.protobuf.MethodOptions")
        self.service_options = self._options_class("google.protobuf.ServiceOptions")
        self.field_options = self._options_class("google.protobuf.FieldOptions")

    def _options_class(self, name: str) -> Any:
        try:
            return message_factory.GetMessageClass(self.pool.FindMessageTypeByName(name))
        except KeyError:
            return None

    def problem(self, loc: _Locator, path: tuple[int, ...], message: str) -> None:
        self.problems.append(ContractProblem(loc.file, loc.line(path), message))

    def _ext(self, options_cls: Any, ext: Any, raw: Any) -> Any | None:
        if options_cls is None or ext is None:
            return None
        options = options_cls.FromString(raw.SerializeToString())
        if not options.HasExtension(ext):
            return None
        return options.Extensions[ext]

    # --- types ---------------------------------------------------------------------------

    def type_ref(self, full_name: str) -> TypeRef:
        desc = self.pool.FindMessageTypeByName(full_name.lstrip("."))
        parts = []
        d: Any = desc
        while d is not None:
            parts.append(d.name)
            d = d.containing_type
        return TypeRef(
            module=self.modules.module(desc.file.name),
            path=".".join(reversed(parts)),
            full_name=desc.full_name,
        )

    def field_annotation(self, fdesc: Any) -> FieldModel:
        refs: list[TypeRef] = []

        def scalar(fd: Any) -> str:
            t = fd.type
            if t == _FDP.TYPE_STRING:
                return "str"
            if t == _FDP.TYPE_BYTES:
                return "bytes"
            if t == _FDP.TYPE_BOOL:
                return "bool"
            if t in (_FDP.TYPE_DOUBLE, _FDP.TYPE_FLOAT):
                return "float"
            if t == _FDP.TYPE_ENUM:
                return "int"
            if t in (_FDP.TYPE_MESSAGE, _FDP.TYPE_GROUP):
                ref = self.type_ref(fd.message_type.full_name)
                refs.append(ref)
                return f"{{{ref.module}}}.{ref.path}"
            return "int"

        if fdesc.message_type is not None and fdesc.message_type.GetOptions().map_entry:
            key = scalar(fdesc.message_type.fields_by_name["key"])
            value = scalar(fdesc.message_type.fields_by_name["value"])
            annotation = f"Mapping[{key}, {value}]"
        elif fdesc.is_repeated:
            annotation = f"Iterable[{scalar(fdesc)}]"
        else:
            annotation = scalar(fdesc)
        return FieldModel(fdesc.name, annotation, tuple(refs), self.is_required(fdesc))

    def is_required(self, fdesc: Any) -> bool:
        rules = self._ext(self.field_options, self.field_ext, fdesc.GetOptions())
        return rules is not None and bool(rules.required)

    def check_field_rules(self, msg: Any) -> None:
        """``(buckyos.field)`` of every field of ``msg`` and the messages it holds."""
        if msg.full_name in self.checked_rules:
            return
        self.checked_rules.add(msg.full_name)
        fdp = self.by_name.get(msg.file.name)
        for index, f in enumerate(msg.fields):
            if self.is_required(f) and f.containing_oneof is not None and fdp is not None:
                kind = "`optional`" if f.name == f.containing_oneof.name[1:] else "a oneof member"
                self.problem(
                    _Locator(fdp),
                    (*self.message_path(fdp, msg), _MESSAGE_FIELD, index),
                    f"{msg.full_name}.{f.name} is {kind} and (buckyos.field).required; "
                    "drop one (a required field is always given)",
                )
            if f.message_type is not None:
                self.check_field_rules(f.message_type)

    # --- validation ----------------------------------------------------------------------

    def check_shape(
        self, loc: _Locator, path: tuple[int, ...], role: str, shape: JsonShape, msg: Any
    ) -> None:
        fields = list(msg.fields)
        where = f"{role} {shape.name} for {msg.full_name}"
        if shape in (JsonShape.NULL, JsonShape.TRUE) and fields:
            self.problem(
                loc,
                path,
                f"{where}: the message must have no fields (use google.protobuf.Empty)",
            )
        elif shape is JsonShape.UNWRAP and len(fields) != 1:
            self.problem(
                loc, path, f"{where}: the message must have exactly one field, it has {len(fields)}"
            )
        elif shape is JsonShape.NULLABLE:
            for f in fields:
                if not f.has_presence or f.is_repeated:
                    self.problem(
                        loc,
                        path,
                        f"{where}: field {f.name} has no presence; declare it `optional` "
                        "(or a message) so that null and an empty value differ",
                    )

    def check_json_keys(self, msg: Any, seen: set[str]) -> None:
        if msg.full_name in seen:
            return
        seen.add(msg.full_name)
        fdp = self.by_name.get(msg.file.name)
        loc = _Locator(fdp) if fdp is not None else None
        keys: dict[str, str] = {}
        for index, f in enumerate(msg.fields):
            key = f.name
            ext = self._ext(self.field_options, self.json_ext, f.GetOptions())
            if ext is not None and ext.json:
                key = ext.json
            if key in keys and loc is not None:
                self.problem(
                    loc,
                    (*self.message_path(fdp, msg), _MESSAGE_FIELD, index),
                    f"{msg.full_name}: JSON key {key!r} is used by both {keys[key]} and "
                    f"{f.name}; change one (buckyos.json).json",
                )
            keys[key] = f.name
            if f.message_type is not None:
                self.check_json_keys(f.message_type, seen)

    def message_path(self, fdp: Any, msg: Any) -> tuple[int, ...]:
        chain = []
        d = msg
        while d.containing_type is not None:
            parent = d.containing_type
            chain.append((3, [n.name for n in parent.nested_types].index(d.name)))
            d = parent
        top = [m.name for m in fdp.message_type].index(d.name)
        path: tuple[int, ...] = (_FILE_MESSAGE, top)
        for number, index in reversed(chain):
            path += (number, index)
        return path

    # --- reading -------------------------------------------------------------------------

    def read_file(self, fdp: descriptor_pb2.FileDescriptorProto) -> FileModel:
        loc = _Locator(fdp)
        model = FileModel(fdp.name)
        for si, sdp in enumerate(fdp.service):
            service = self.read_service(loc, fdp, si, sdp)
            if service is not None:
                model.services.append(service)
        return model

    def read_service(
        self,
        loc: _Locator,
        fdp: descriptor_pb2.FileDescriptorProto,
        si: int,
        sdp: descriptor_pb2.ServiceDescriptorProto,
    ) -> ServiceModel | None:
        spath = (_FILE_SERVICE, si)
        full_name = f"{fdp.package}.{sdp.name}" if fdp.package else sdp.name
        api = self._ext(self.service_options, self.api_ext, sdp.options)
        if api is None or not api.name:
            self.problem(
                loc,
                spath,
                f"service {sdp.name} has no api name: add "
                'option (buckyos.api) = { name: "<api>" }; (import "buckyos/options.proto")',
            )
            return None
        if not _API_NAME.fullmatch(api.name):
            self.problem(loc, (*spath, _SERVICE_OPTIONS), f"api name {api.name!r} is not valid")
        default_auth = api.default_auth
        methods: list[MethodModel] = []
        krpc_lines: dict[str, int] = {}
        for mi, mdp in enumerate(sdp.method):
            mpath = (*spath, _SERVICE_METHOD, mi)
            method = self.read_method(loc, mpath, sdp.name, mdp, api, default_auth)
            if method is None:
                continue
            if method.krpc in krpc_lines:
                self.problem(
                    loc,
                    mpath,
                    f"{sdp.name}.{mdp.name}: kRPC name {method.krpc!r} is already used at line "
                    f"{krpc_lines[method.krpc]}; every verb needs its own name",
                )
            krpc_lines.setdefault(method.krpc, loc.line(mpath))
            methods.append(method)
        return ServiceModel(
            name=sdp.name,
            full_name=full_name,
            api=api.name,
            port=api.port,
            noconcurrency=api.noconcurrency,
            doc=loc.comments.get(spath, ""),
            methods=tuple(methods),
        )

    def read_method(
        self,
        loc: _Locator,
        mpath: tuple[int, ...],
        service: str,
        mdp: descriptor_pb2.MethodDescriptorProto,
        api: Any,
        default_auth: str,
    ) -> MethodModel | None:
        opath = (*mpath, _METHOD_OPTIONS)
        label = f"{service}.{mdp.name}"
        if mdp.client_streaming or mdp.server_streaming:
            self.problem(
                loc,
                mpath,
                f"{label}: streaming verbs are not supported; events are delivered by the "
                "runtime (subscribe from a unary verb)",
            )
            return None
        verb = self._ext(self.method_options, self.verb_ext, mdp.options)
        krpc = verb.krpc if verb is not None else ""
        if not krpc:
            if api.derive_krpc_names:
                krpc = re.sub(r"(?<!^)(?=[A-Z])", "_", mdp.name).lower()
            else:
                self.problem(
                    loc,
                    mpath,
                    f'{label}: no kRPC name; add option (buckyos.verb) = {{ krpc: "<name>" }} '
                    "or set derive_krpc_names in the service's (buckyos.api)",
                )
                return None
        if not _KRPC_NAME.fullmatch(krpc):
            self.problem(loc, opath, f"{label}: kRPC name {krpc!r} is not a valid method name")
        auth_text = verb.auth if verb is not None and verb.auth else default_auth
        request_desc = self.pool.FindMessageTypeByName(mdp.input_type.lstrip("."))
        response_desc = self.pool.FindMessageTypeByName(mdp.output_type.lstrip("."))
        try:
            auth = parse_auth(auth_text)
        except ContractError as exc:
            self.problem(loc, opath, f"{label}: {exc}")
            return None
        top_level = {f.name: f for f in request_desc.fields}
        for node in walk(auth):
            if not isinstance(node, Permission):
                continue
            for name in node.placeholders:
                f = top_level.get(name)
                if f is None:
                    self.problem(
                        loc,
                        opath,
                        f"{label}: unknown placeholder {{{name}}} in auth {auth_text!r}; "
                        f"{request_desc.full_name} has fields {sorted(top_level) or 'none'}",
                    )
                elif f.is_repeated or f.message_type is not None:
                    self.problem(
                        loc,
                        opath,
                        f"{label}: placeholder {{{name}}} must name a scalar field, "
                        f"{request_desc.full_name}.{name} is not",
                    )
        session = SessionFlags()
        params = result = JsonShape.OBJECT
        doc = ""
        if verb is not None:
            s = verb.session
            if s.loa > 3:
                self.problem(loc, opath, f"{label}: session LOA {s.loa} is above 3")
            session = SessionFlags(check=s.check, close=s.close, refresh=s.refresh, loa=s.loa)
            params = JsonShape(verb.params)
            result = JsonShape(verb.result)
            doc = verb.doc
        self.check_shape(loc, opath, "params", params, request_desc)
        self.check_shape(loc, opath, "result", result, response_desc)
        seen: set[str] = set()
        self.check_json_keys(request_desc, seen)
        self.check_json_keys(response_desc, seen)
        self.check_field_rules(request_desc)
        self.check_field_rules(response_desc)
        idempotent = (
            mdp.options.idempotency_level != descriptor_pb2.MethodOptions.IDEMPOTENCY_UNKNOWN
        )
        fields = tuple(self.field_annotation(f) for f in request_desc.fields)
        return MethodModel(
            name=mdp.name,
            krpc=krpc,
            auth=auth,
            session=session,
            params=params,
            result=result,
            idempotent=idempotent,
            doc=doc or loc.comments.get(mpath, ""),
            request=self.type_ref(mdp.input_type),
            response=self.type_ref(mdp.output_type),
            fields=fields,
        )


def read_request(
    request: plugin_pb2.CodeGeneratorRequest, modules: ModuleMap
) -> tuple[list[FileModel], list[ContractProblem]]:
    """The models of the files to generate, and every problem found in them."""
    reader = _Reader(request, modules)
    files = []
    for name in request.file_to_generate:
        files.append(reader.read_file(reader.by_name[name]))
    return files, reader.problems


def py_name(name: str) -> str:
    """A field name usable as a Python keyword argument."""
    return f"{name}_" if keyword.iskeyword(name) or keyword.issoftkeyword(name) else name
