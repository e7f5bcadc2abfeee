"""``protoc-gen-buckyos``: the protoc plugin (``python -m buckyos.codegen.plugin``).

Reads a ``CodeGeneratorRequest`` on stdin and answers a ``CodeGeneratorResponse`` with one
``<name>_rpc.py`` per input file that declares services.  Any contract problem makes the
whole response an error listing every ``file:line: problem``, so protoc exits non-zero
and nothing is written.

Parameter: ``<proto dir>/=<python package>`` pairs separated by commas, telling where
protoc's ``_pb2`` modules live, e.g. ``myorg/=myorg.generated``; ``buckyos/=buckyos.generated``
is implied (the shipped contracts are installed there).  Under a plain protoc:

    python -m grpc_tools.protoc -I proto -I "$(buckyos codegen --print-include)" \\
        --python_out=. --pyi_out=. --buckyos_out=. proto/myorg/notes.proto

(``protoc-gen-buckyos`` on ``PATH``, or ``--plugin=protoc-gen-buckyos=<its path>``).
protoc's own ``_pb2.py`` then imports ``from buckyos import options_pb2``, which the
package provides as an alias of ``buckyos.generated.options_pb2``.
"""

from __future__ import annotations

import sys

from google.protobuf.compiler import plugin_pb2

from buckyos.runtime.errors import ContractError

from .contract import ModuleMap, read_request
from .render import output_name, render_file

__all__ = ["generate", "main"]


def generate(request: plugin_pb2.CodeGeneratorRequest) -> plugin_pb2.CodeGeneratorResponse:
    response = plugin_pb2.CodeGeneratorResponse()
    response.supported_features = plugin_pb2.CodeGeneratorResponse.FEATURE_PROTO3_OPTIONAL
    try:
        modules = ModuleMap.parse(request.parameter)
        files, problems = read_request(request, modules)
    except ContractError as exc:
        response.error = str(exc)
        return response
    if problems:
        response.error = "\n".join(str(p) for p in problems)
        return response
    for model in files:
        if not model.services:
            continue
        out = response.file.add()
        out.name = output_name(model.proto)
        out.content = render_file(model)
    return response


def main() -> int:
    request = plugin_pb2.CodeGeneratorRequest.FromString(sys.stdin.buffer.read())
    sys.stdout.buffer.write(generate(request).SerializeToString())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
