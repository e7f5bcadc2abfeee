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
from buckyos.runtime.wire.serde import enum_prefix, rename

__all__ = [
    "ContractProblem",
    "ErrorModel",
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
_MESSAGE_ENUM, _MESSAGE_ONEOF = 4, 8
_FILE_ENUM, _ENUM_VALUE = 5, 2
_API_ERRORS = 6  # ApiOptions.errors, under the (buckyos.api) extension
_WKT_JSON = {"google.protobuf.Struct", "google.protobuf.Value", "google.protobuf.ListValue"}
_NAME_CASE_PASCAL = 2
_ERROR_KINDS = {0: "ReasonError", 1: "NoPermissionError"}


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
    aliases: tuple[str, ...] = ()
    """``(buckyos.verb).aliases``: other kRPC names the server answers to."""


@dataclass(frozen=True)
class ErrorModel:
    """One ``(buckyos.api).errors`` entry: a generated exception class."""

    code: str
    kind: str
    """The runtime class it subclasses: ``ReasonError`` or ``NoPermissionError``."""
    name: str
    doc: str


@dataclass(frozen=True)
class ServiceModel:
    name: str
    full_name: str
    api: str
    port: int
    noconcurrency: bool
    doc: str
    methods: tuple[MethodModel, ...]
    errors: tuple[ErrorModel, ...] = ()
    aliases: tuple[str, ...] = ()
    """``(buckyos.api).aliases``: other api names the kRPC server answers at."""


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
        # serde conventions (newer still; absent from an older options.proto).
        self.tagged_ext = self._extension("buckyos.tagged")
        self.enum_json_ext = self._extension("buckyos.enum_json")
        self.value_ext = self._extension("buckyos.value")
        self.oneof_options = self._options_class("google.protobuf.OneofOptions")
        self.enum_options = self._options_class("google.protobuf.EnumOptions")
        self.value_options = self._options_class("google.protobuf.EnumValueOptions")
        self.checked_serde: set[str] = set()
        self.error_names: dict[str, str] = {}
        """Generated error class name -> ``file:line`` of its declaration (one namespace per
        ``_rpc.py``, reset per file)."""

    def _extension(self, name: str) -> Any:
        try:
            return self.pool.FindExtensionByName(name)
        except KeyError:
            return None

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
            rules = self._ext(self.field_options, self.field_ext, f.GetOptions())
            if rules is not None and getattr(rules, "default", False) and fdp is not None:
                self.check_default(fdp, msg, index, f, rules)
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

    def check_default(self, fdp: Any, msg: Any, index: int, f: Any, rules: Any) -> None:
        """``(buckyos.field).default``: only where a missing field would be refused."""
        label = f"{msg.full_name}.{f.name}"
        why = ""
        if rules.required:
            why = "is both required and default; a serde field is one or the other, drop one"
        elif f.is_repeated:
            why = "is a list or map, which may always be missing (it reads as empty); drop default"
        elif f.has_presence:
            kind = "a message field" if f.message_type is not None else "`optional` or in a oneof"
            why = f"is {kind}, which may always be missing (it reads as unset); drop default"
        if why:
            self.problem(
                _Locator(fdp),
                (*self.message_path(fdp, msg), _MESSAGE_FIELD, index),
                f"{label} (buckyos.field).default: the field {why}",
            )

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
        elif shape is not JsonShape.OBJECT and self.tagged(msg) is not None and fields:
            self.problem(
                loc,
                path,
                f"{where}: the message is a tagged oneof (its JSON is the variant); use OBJECT",
            )
        elif shape is JsonShape.ENVELOPE and role != "result":
            self.problem(loc, path, f"{where}: ENVELOPE is a result shape; use it on result")
        elif shape is JsonShape.ENVELOPE and "ok" in self.object_keys(msg):
            self.problem(
                loc,
                path,
                f"{where}: the envelope writes its own `ok`; field "
                f"{self.object_keys(msg)['ok']} must use another key",
            )
        elif shape is JsonShape.UNWRAP_OR_NULL:
            self.check_unwrap_or_null(loc, path, where, role, fields)
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

    def check_unwrap_or_null(
        self, loc: _Locator, path: tuple[int, ...], where: str, role: str, fields: list[Any]
    ) -> None:
        """The only field, bare, or null when unset: it must tell unset from empty."""
        if role != "result":
            self.problem(loc, path, f"{where}: UNWRAP_OR_NULL is a result shape; use UNWRAP")
            return
        if len(fields) != 1:
            self.problem(
                loc,
                path,
                f"{where}: the message must have exactly one field (the value), it has "
                f"{len(fields)}",
            )
            return
        f = fields[0]
        opts = self.json_of(f)
        if f.is_repeated:
            why = "is a list or map, whose empty value is [] or {}, not null; use UNWRAP"
        elif f.message_type is not None and f.message_type.full_name == "google.protobuf.Value":
            why = (
                "is a google.protobuf.Value, whose own null would read back as unset; "
                "use UNWRAP (the Value carries the null)"
            )
        elif not f.has_presence:
            why = "has no presence; declare it `optional` so that null and an empty value differ"
        elif opts is not None and opts.flatten:
            why = "is flattened; the bare value is the field itself, drop (buckyos.json).flatten"
        else:
            return
        self.problem(loc, path, f"{where}: field {f.name} {why}")

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

    # --- serde conventions ---------------------------------------------------------------

    def json_of(self, f: Any) -> Any | None:
        return self._ext(self.field_options, self.json_ext, f.GetOptions())

    def tagged(self, msg: Any) -> tuple[int, Any, Any] | None:
        """``(index, oneof, options)`` of the ``(buckyos.tagged)`` oneof of ``msg``."""
        for index, oneof in enumerate(msg.oneofs):
            opts = self._ext(self.oneof_options, self.tagged_ext, oneof.GetOptions())
            if opts is not None:
                return index, oneof, opts
        return None

    def json_key(self, f: Any) -> str:
        ext = self.json_of(f)
        return str(ext.json) if ext is not None and ext.json else str(f.name)

    def object_keys(self, msg: Any, stack: tuple[str, ...] = ()) -> dict[str, str]:
        """The keys of ``msg``'s JSON object (flattened fields' keys included), each with
        the field that writes it."""
        keys: dict[str, str] = {}
        if msg.full_name in stack:
            return keys
        for f in msg.fields:
            ext = self.json_of(f)
            if ext is not None and ext.flatten and f.message_type is not None:
                for key, owner in self.object_keys(f.message_type, (*stack, msg.full_name)).items():
                    keys.setdefault(key, f"{f.name}.{owner}")
            else:
                keys.setdefault(self.json_key(f), f.name)
        return keys

    def check_serde(self, msg: Any) -> None:
        """Tagged oneofs, flattened fields, byte arrays and enum names of ``msg`` and of
        every message and enum it holds."""
        if msg.full_name in self.checked_serde:
            return
        self.checked_serde.add(msg.full_name)
        fdp = self.by_name.get(msg.file.name)
        if fdp is None:
            return
        loc = _Locator(fdp)
        mpath = self.message_path(fdp, msg)
        tagged = self.tagged(msg)
        if tagged is not None:
            self.check_tagged(loc, mpath, msg, *tagged)
        owners: dict[str, str] = {}
        for index, f in enumerate(msg.fields):
            fpath = (*mpath, _MESSAGE_FIELD, index)
            ext = self.json_of(f)
            label = f"{msg.full_name}.{f.name}"
            if ext is not None and ext.bytes_as_array and f.type != _FDP.TYPE_BYTES:
                self.problem(
                    loc, fpath, f"{label}: bytes_as_array is for a bytes field; drop it here"
                )
            if ext is not None and getattr(ext, "omit_empty", False) and not f.is_repeated:
                self.problem(
                    loc,
                    fpath,
                    f"{label}: omit_empty is for a repeated or map field (an unset optional "
                    "field is left out anyway); drop it here",
                )
            if ext is not None and ext.flatten:
                if self.check_flatten(loc, fpath, label, f, ext):
                    sub = self.object_keys(f.message_type)
                    for key, owner in sub.items():
                        if key in owners:
                            self.problem(
                                loc,
                                fpath,
                                f"{label}: the flattened key {key!r} ({f.name}.{owner}) is "
                                f"also written by {owners[key]}; rename one",
                            )
                        owners.setdefault(key, f"{f.name}.{owner}")
            else:
                key = self.json_key(f)
                if key in owners and "." in owners[key]:
                    self.problem(
                        loc,
                        fpath,
                        f"{label}: the key {key!r} is also written by the flattened "
                        f"{owners[key]}; rename one",
                    )
                owners.setdefault(key, f.name)
            if f.enum_type is not None:
                self.check_enum(f.enum_type)
            if f.message_type is not None:
                self.check_serde(f.message_type)

    def check_flatten(
        self, loc: _Locator, fpath: tuple[int, ...], label: str, f: Any, ext: Any
    ) -> bool:
        """Whether a ``flatten`` field can be flattened (a problem is recorded if not)."""
        sub = f.message_type
        why = ""
        if sub is None or f.is_repeated:
            why = "flatten needs a singular message field"
        elif f.containing_oneof is not None:
            why = (
                "a flattened field cannot be `optional` or in a oneof (its keys are always written)"
            )
        elif sub.full_name in _WKT_JSON:
            why = f"flatten of {sub.full_name} is not supported; flatten a message of your own"
        elif self.tagged(sub) is not None:
            why = "flatten of a tagged oneof message is not supported; flatten a plain message"
        elif ext.json or ext.null_when_unset:
            why = "a flattened field has no key of its own; drop json / null_when_unset"
        if why:
            self.problem(loc, fpath, f"{label}: {why}")
        return not why

    def check_tagged(
        self, loc: _Locator, mpath: tuple[int, ...], msg: Any, index: int, oneof: Any, opts: Any
    ) -> None:
        opath = (*mpath, _MESSAGE_ONEOF, index)
        label = f"{msg.full_name}.{oneof.name}"
        if opts.external and (opts.tag or opts.content):
            self.problem(loc, opath, f"{label}: external: true takes no tag or content; drop one")
            return
        if not opts.external and not opts.tag:
            self.problem(
                loc,
                opath,
                f'{label}: say how the oneof travels: tag: "kind" (internally tagged), '
                'tag and content: "value" (adjacently tagged) or external: true',
            )
            return
        if opts.tag and opts.tag == opts.content:
            self.problem(loc, opath, f"{label}: tag and content are both {opts.tag!r}")
        others = [f.name for f in msg.fields if f.containing_oneof is not oneof]
        if others:
            self.problem(
                loc,
                opath,
                f"{label}: a tagged oneof must be its message's only content; move "
                f"{', '.join(others)} into the variants or out of {msg.name}",
            )
        internal = bool(opts.tag) and not opts.content
        names: dict[str, str] = {}
        for member in oneof.fields:
            fi = list(msg.fields).index(member)
            fpath = (*mpath, _MESSAGE_FIELD, fi)
            ext = self.json_of(member)
            name = ext.json if ext is not None and ext.json else ""
            name = name or rename(member.name, opts.rename_all, default=_NAME_CASE_PASCAL)
            if name in names:
                self.problem(
                    loc,
                    fpath,
                    f"{label}: variant name {name!r} is used by both {names[name]} and "
                    f"{member.name}; set (buckyos.json).json on one",
                )
            names.setdefault(name, member.name)
            sub = member.message_type
            if not internal or (sub is not None and not sub.fields):
                continue  # adjacent and external variants carry any value; units anything
            if sub is None or sub.full_name in _WKT_JSON or self.tagged(sub) is not None:
                kind = sub.full_name if sub is not None else "a scalar"
                self.problem(
                    loc,
                    fpath,
                    f"{label}: variant {name} is {kind}; an internally tagged variant must be "
                    "a message of your own (its keys sit beside the tag), or use tag and "
                    "content (adjacently tagged)",
                )
                continue
            keys = self.object_keys(sub)
            if opts.tag in keys:
                self.problem(
                    loc,
                    fpath,
                    f"{label}: the tag key {opts.tag!r} collides with field "
                    f"{sub.full_name}.{keys[opts.tag]} of variant {name}; rename one",
                )

    def enum_path(self, fdp: Any, enum: Any) -> tuple[int, ...]:
        if enum.containing_type is None:
            return (_FILE_ENUM, [e.name for e in fdp.enum_type].index(enum.name))
        parent = enum.containing_type
        index = [e.name for e in parent.enum_types].index(enum.name)
        return (*self.message_path(fdp, parent), _MESSAGE_ENUM, index)

    def check_enum(self, enum: Any) -> None:
        if enum.full_name in self.checked_serde:
            return
        self.checked_serde.add(enum.full_name)
        fdp = self.by_name.get(enum.file.name)
        if fdp is None:
            return
        loc = _Locator(fdp)
        epath = self.enum_path(fdp, enum)
        rule = self._ext(self.enum_options, self.enum_json_ext, enum.GetOptions())
        prefix = enum_prefix(enum) if rule is not None and rule.strip_prefix else ""
        names: dict[str, str] = {}
        for vi, value in enumerate(enum.values):
            vpath = (*epath, _ENUM_VALUE, vi)
            own = self._ext(self.value_options, self.value_ext, value.GetOptions())
            if own is not None and own.json:
                name = own.json
            elif rule is None:
                name = value.name
            else:
                if prefix and not value.name.startswith(prefix):
                    self.problem(
                        loc,
                        vpath,
                        f"{enum.full_name}.{value.name}: strip_prefix wants every value to start "
                        f"with {prefix!r}; rename it or give it (buckyos.value).json",
                    )
                name = rename(value.name.removeprefix(prefix), rule.rename_all, default=1)
            if name in names:
                self.problem(
                    loc,
                    vpath,
                    f"{enum.full_name}: JSON name {name!r} is used by both {names[name]} and "
                    f"{value.name}; give one (buckyos.value).json",
                )
            names.setdefault(name, value.name)

    def read_errors(
        self, loc: _Locator, spath: tuple[int, ...], service: str, api: Any
    ) -> tuple[ErrorModel, ...]:
        models: list[ErrorModel] = []
        seen: set[tuple[str, str]] = set()
        for index, entry in enumerate(api.errors):
            epath = (*spath, _SERVICE_OPTIONS, 51200, _API_ERRORS, index)
            code = entry.code
            label = f"{service}: errors[{index}]"
            kind = _ERROR_KINDS.get(entry.kind, "ReasonError")
            if not code or code != code.strip() or ":" in code:
                self.problem(
                    loc,
                    epath,
                    f"{label}: code {code!r} must be non-empty text without ':' or edge spaces "
                    "(the code is what leads the detail before ':')",
                )
                continue
            words = [w for w in re.split(r"[^A-Za-z0-9]+", code) if w]
            name = entry.name or "".join(w[:1].upper() + w[1:] for w in words) + "Error"
            if not name.isidentifier() or keyword.iskeyword(name) or name[:1].islower():
                self.problem(
                    loc, epath, f"{label}: class name {name!r} is not a Python class name; set name"
                )
                continue
            if (kind, code) in seen:
                self.problem(loc, epath, f"{label}: code {code!r} is listed twice for {kind}")
                continue
            seen.add((kind, code))
            where = f"{loc.file}:{loc.line(epath)}"
            if name in self.error_names:
                self.problem(
                    loc,
                    epath,
                    f"{label}: class name {name!r} is already declared at "
                    f"{self.error_names[name]}; set a name of its own",
                )
                continue
            self.error_names[name] = where
            models.append(ErrorModel(code, kind, name, entry.doc))
        return tuple(models)

    # --- reading -------------------------------------------------------------------------

    def read_file(self, fdp: descriptor_pb2.FileDescriptorProto) -> FileModel:
        loc = _Locator(fdp)
        model = FileModel(fdp.name)
        self.error_names = {}
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
        api_aliases: list[str] = []
        for alias in api.aliases:
            if not _API_NAME.fullmatch(alias):
                self.problem(
                    loc,
                    (*spath, _SERVICE_OPTIONS),
                    f"{sdp.name}: api alias {alias!r} is not a valid api name "
                    "(letters, digits, _ . -)",
                )
            elif alias == api.name or alias in api_aliases:
                self.problem(
                    loc,
                    (*spath, _SERVICE_OPTIONS),
                    f"{sdp.name}: api alias {alias!r} repeats the api's name or another "
                    "alias; drop it",
                )
            else:
                api_aliases.append(alias)
        default_auth = api.default_auth
        errors = self.read_errors(loc, spath, sdp.name, api)
        methods: list[MethodModel] = []
        krpc_lines: dict[str, int] = {}
        for mi, mdp in enumerate(sdp.method):
            mpath = (*spath, _SERVICE_METHOD, mi)
            method = self.read_method(loc, mpath, sdp.name, mdp, api, default_auth)
            if method is None:
                continue
            for index, krpc in enumerate((method.krpc, *method.aliases)):
                what = "kRPC name" if index == 0 else "alias"
                if krpc in krpc_lines:
                    self.problem(
                        loc,
                        mpath,
                        f"{sdp.name}.{mdp.name}: {what} {krpc!r} is already used at line "
                        f"{krpc_lines[krpc]}; every verb and alias needs its own name",
                    )
                krpc_lines.setdefault(krpc, loc.line(mpath))
            methods.append(method)
        return ServiceModel(
            name=sdp.name,
            full_name=full_name,
            api=api.name,
            port=api.port,
            noconcurrency=api.noconcurrency,
            doc=loc.comments.get(spath, ""),
            methods=tuple(methods),
            errors=errors,
            aliases=tuple(api_aliases),
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
        aliases: list[str] = []
        for alias in verb.aliases if verb is not None else ():
            if not _KRPC_NAME.fullmatch(alias):
                self.problem(
                    loc, opath, f"{label}: alias {alias!r} is not a valid kRPC method name"
                )
            elif alias == krpc or alias in aliases:
                self.problem(
                    loc,
                    opath,
                    f"{label}: alias {alias!r} repeats the verb's kRPC name or another alias; "
                    "drop it",
                )
            else:
                aliases.append(alias)
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
        self.check_serde(request_desc)
        self.check_serde(response_desc)
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
            aliases=tuple(aliases),
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
