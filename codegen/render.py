"""Render a file model to Python source: verb table, stubs, server base.

The output is deterministic (proto order, no timestamps) and holds no behaviour: each
stub method is one call into ``buckyos.runtime.stub``, each server method raises the
runtime's "unimplemented" error until overridden.
"""

from __future__ import annotations

import json
import re

from buckyos.runtime.auth import And, AuthNode, Loa, No, Not, Or, Permission, Token, Yes
from buckyos.runtime.descriptor import JsonShape

from .contract import ErrorModel, FileModel, MethodModel, ServiceModel, TypeRef, py_name

__all__ = ["output_name", "render_file"]


def _q(text: str) -> str:
    """A double-quoted Python literal (JSON escapes are valid Python escapes)."""
    return json.dumps(text, ensure_ascii=False)


_MARK = re.compile(r"\{([A-Za-z0-9_.]+)\}")


def output_name(proto: str) -> str:
    return proto.removesuffix(".proto") + "_rpc.py"


def _upper_snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).upper()


class _Modules:
    """Import aliases for the ``_pb2`` modules a file refers to."""

    def __init__(self) -> None:
        self.aliases: dict[str, str] = {}

    def alias(self, module: str) -> str:
        if module not in self.aliases:
            self.aliases[module] = "_" + module.replace(".", "_")
        return self.aliases[module]

    def ref(self, ref: TypeRef) -> str:
        return f"{self.alias(ref.module)}.{ref.path}"

    def annotation(self, text: str) -> str:
        return _MARK.sub(lambda m: self.alias(m.group(1)), text)

    def imports(self) -> list[str]:
        lines = []
        for module in sorted(self.aliases):
            package, _, name = module.rpartition(".")
            if package:
                lines.append(f"from {package} import {name} as {self.aliases[module]}")
            else:
                lines.append(f"import {name} as {self.aliases[module]}")
        return lines


def _auth_expr(node: AuthNode) -> str:
    if isinstance(node, Yes):
        return "Yes()"
    if isinstance(node, No):
        return "No()"
    if isinstance(node, Token):
        return "Token()"
    if isinstance(node, Loa):
        return f"Loa({node.level})"
    if isinstance(node, Permission):
        names = "".join(f"{_q(p)}, " for p in node.placeholders).rstrip(" ")
        return f"Permission({_q(node.resource)}, {_q(node.action)}, ({names}))"
    if isinstance(node, Not):
        return f"Not({_auth_expr(node.operand)})"
    if isinstance(node, And):
        return f"And({_auth_expr(node.left)}, {_auth_expr(node.right)})"
    assert isinstance(node, Or)
    return f"Or({_auth_expr(node.left)}, {_auth_expr(node.right)})"


def _auth_kinds(node: AuthNode, out: set[str]) -> None:
    out.add(type(node).__name__)
    if isinstance(node, Not):
        _auth_kinds(node.operand, out)
    elif isinstance(node, And | Or):
        _auth_kinds(node.left, out)
        _auth_kinds(node.right, out)


def _const(service: ServiceModel, method: MethodModel) -> str:
    return f"{_upper_snake(service.name)}_{_upper_snake(method.name)}"


def _doc_line(method: MethodModel) -> str:
    summary = method.doc.strip().splitlines()[0] if method.doc.strip() else method.name
    summary = summary.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    return f"{summary} (kRPC ``{method.krpc}``, auth ``{method.auth}``)"


def _descriptor(service: ServiceModel, method: MethodModel, mods: _Modules) -> list[str]:
    req, resp = mods.ref(method.request), mods.ref(method.response)
    s = method.session
    return [
        f"{_const(service, method)}: MethodDescriptor[{req}, {resp}] = MethodDescriptor(",
        f"    api={_q(service.api)},",
        f"    service={_q(service.full_name)},",
        f"    name={_q(method.name)},",
        f"    krpc={_q(method.krpc)},",
        f"    request_type={req},",
        f"    response_type={resp},",
        f"    auth={_auth_expr(method.auth)},",
        f"    session=SessionFlags(check={s.check}, close={s.close}, "
        f"refresh={s.refresh}, loa={s.loa}),",
        f"    params_shape=JsonShape.{method.params.name},",
        f"    result_shape=JsonShape.{method.result.name},",
        f"    idempotent={method.idempotent},",
        f"    doc={_q(method.doc.strip())},",
        *_required(method),
        *([f"    errors={_errors_const(service)},"] if service.errors else []),
        *_tuple_line("aliases", method.aliases),
        ")",
    ]


def _errors_const(service: ServiceModel) -> str:
    return f"{_upper_snake(service.name)}_ERRORS"


def _error_class(error: ErrorModel) -> list[str]:
    doc = f"``{error.code}``: {error.doc.strip()}" if error.doc.strip() else f"``{error.code}``."
    doc = doc.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    return [
        f"class {error.name}(CodedError, {error.kind}):",
        f'    """{doc}"""',
        "",
        f"    code = {_q(error.code)}",
        "",
        "",
    ]


def _error_table(service: ServiceModel) -> list[str]:
    """The coded error classes of ``service`` and the table its verbs carry."""
    lines: list[str] = []
    for error in service.errors:
        lines.extend(_error_class(error))
    lines.append(f"{_errors_const(service)} = ErrorCodes(")
    lines.extend(f"    {error.name}," for error in service.errors)
    lines.append(")")
    lines.append("")
    return lines


def _tuple_line(name: str, items: tuple[str, ...]) -> list[str]:
    """A ``name=(...),`` keyword line of strings, none when there are none."""
    if not items:
        return []
    quoted = [_q(item) for item in items]
    text = quoted[0] + "," if len(quoted) == 1 else ", ".join(quoted)
    line = f"    {name}=({text}),"
    if len(line) <= 99:
        return [line]
    return [f"    {name}=(", *(f"        {item}," for item in quoted), "    ),"]


def _required(method: MethodModel) -> list[str]:
    """The ``required=`` line of a descriptor, none when no field is required."""
    names = [_q(f.name) for f in method.fields if f.required]
    if not names:
        return []
    items = names[0] + "," if len(names) == 1 else ", ".join(names)
    return [f"    required=({items}),"]


def _request_param(method: MethodModel) -> str:
    names = {f.name for f in method.fields}
    name = "request"
    while name in names:
        name += "_"
    return name


def _stub_method(
    service: ServiceModel, method: MethodModel, mods: _Modules, is_async: bool
) -> list[str]:
    req, resp = mods.ref(method.request), mods.ref(method.response)
    request = _request_param(method)
    params = ["self", f"{request}: {req} | None = None", "/"]
    if method.fields:
        params.append("*")
        params.extend(
            f"{py_name(f.name)}: {mods.annotation(f.annotation)} | None = None"
            for f in method.fields
        )
    fields = ", ".join(f"{_q(f.name)}: {py_name(f.name)}" for f in method.fields)
    prefix = "async " if is_async else ""
    call = "await self._call" if is_async else "self._call"
    if method.result is JsonShape.UNWRAP_OR_NULL:  # upstream's null is None
        call += "_or_none"
        resp += " | None"
    lines = [f"    {prefix}def {method.name}("]
    lines.extend(f"        {p}," for p in params)
    lines.append(f"    ) -> {resp}:")
    lines.append(f'        """{_doc_line(method)}"""')
    lines.append(f"        return {call}({_const(service, method)}, {request}, {{{fields}}})")
    return lines


def _servicer_method(service: ServiceModel, method: MethodModel, mods: _Modules) -> list[str]:
    req, resp = mods.ref(method.request), mods.ref(method.response)
    answer = f"{resp} | Awaitable[{resp}]"
    if method.result is JsonShape.UNWRAP_OR_NULL:  # None answers null
        answer = f"{resp} | Awaitable[{resp} | None] | None"
    return [
        "    @mark_unimplemented",
        f"    def {method.name}(self, request: {req}, req: Request) -> {answer}:",
        f'        """{_doc_line(method)}"""',
        f"        raise unimplemented({_const(service, method)})",
    ]


def render_file(model: FileModel) -> str:
    mods = _Modules()
    body: list[str] = []
    exports: list[str] = []
    kinds: set[str] = set()
    uses_iterable = uses_mapping = False
    error_kinds: set[str] = set()
    for service in model.services:
        const = _upper_snake(service.name)
        if service.errors:
            body.extend(_error_table(service))
            exports.append(_errors_const(service))
            exports.extend(error.name for error in service.errors)
            error_kinds.update(error.kind for error in service.errors)
        for method in service.methods:
            _auth_kinds(method.auth, kinds)
            body.extend(_descriptor(service, method, mods))
            body.append("")
            exports.append(_const(service, method))
            for f in method.fields:
                uses_iterable |= f.annotation.startswith("Iterable[")
                uses_mapping |= f.annotation.startswith("Mapping[")
        body.append(f"{const} = ServiceDescriptor.of(")
        body.append(f"    {_q(service.api)},")
        body.append(f"    {_q(service.full_name)},")
        body.append("    (")
        body.extend(f"        {_const(service, m)}," for m in service.methods)
        body.append("    ),")
        body.append(f"    port={service.port},")
        body.append(f"    noconcurrency={service.noconcurrency},")
        body.append(f"    doc={_q(service.doc.strip())},")
        if service.errors:
            body.append(f"    errors={_errors_const(service)},")
        body.extend(_tuple_line("aliases", service.aliases))
        body.append(")")
        body.append("")
        exports.append(const)
        for cls, base, is_async in (
            (f"{service.name}Stub", "Stub", False),
            (f"Async{service.name}Stub", "AsyncStub", True),
        ):
            body.append("")
            body.append(f"class {cls}({base}):")
            who = "Asyncio client" if is_async else "Client"
            body.append(
                f'    """{who} of the ``{service.api}`` api; give it a runtime or a transport."""'
            )
            body.append("")
            body.append("    __slots__ = ()")
            for method in service.methods:
                body.append("")
                body.extend(_stub_method(service, method, mods, is_async))
            body.append("")
            exports.append(cls)
        body.append("")
        body.append(f"class {service.name}Servicer(ServiceBase):")
        body.append(
            f'    """Server base of the ``{service.api}`` api: override the verbs you serve."""'
        )
        body.append("")
        body.append(f"    SERVICE: ClassVar[ServiceDescriptor] = {const}")
        for method in service.methods:
            body.append("")
            body.extend(_servicer_method(service, method, mods))
        body.append("")
        body.append("")
        exports.append(f"{service.name}Servicer")

    typing_names = ["Awaitable"]
    if uses_iterable:
        typing_names.append("Iterable")
    if uses_mapping:
        typing_names.append("Mapping")
    header = [
        f"# Generated by protoc-gen-buckyos from {model.proto}. DO NOT EDIT.",
        "# Regenerate with `make codegen`.",
        f'"""BuckyOS verb tables, client stubs and server bases for ``{model.proto}``."""',
        "",
        "from __future__ import annotations",
        "",
        f"from collections.abc import {', '.join(sorted(typing_names))}",
        "from typing import ClassVar",
        "",
    ]
    module_imports = mods.imports()
    error_names = {"CodedError", "ErrorCodes", *error_kinds}
    third_party = sorted(line for line in module_imports if not line.startswith("from buckyos"))
    first_party = sorted(
        [
            f"from buckyos.runtime.auth import {', '.join(sorted(kinds))}",
            "from buckyos.runtime.descriptor import (\n"
            "    JsonShape,\n    MethodDescriptor,\n    ServiceDescriptor,\n    SessionFlags,\n)",
            *(
                [f"from buckyos.runtime.errors import {', '.join(sorted(error_names))}"]
                if error_kinds
                else []
            ),
            "from buckyos.runtime.server.request import Request",
            "from buckyos.runtime.servicer import ServiceBase, mark_unimplemented, unimplemented",
            "from buckyos.runtime.stub import AsyncStub, Stub",
            *(line for line in module_imports if line.startswith("from buckyos")),
        ]
    )
    imports = [*third_party, *([""] if third_party else []), *first_party]
    export_lines = ["__all__ = ["] + [f"    {_q(name)}," for name in sorted(exports)] + ["]", ""]
    text = "\n".join([*header, *imports, "", *export_lines, *body]).rstrip("\n") + "\n"
    return text
