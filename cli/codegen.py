"""``buckyos codegen``: typed stubs, verb tables and server bases from a contract.

The same as ``python -m buckyos.codegen`` (:mod:`buckyos.codegen.driver`), with the CLI's
error conventions.  ``buckyos/options.proto`` ships in the package and is always on the
import path, and ``buckyos/`` maps to ``buckyos.generated``, so a contract in a project
of its own needs neither an ``--include`` nor that ``--map``.
"""

from __future__ import annotations

import argparse

from .command import Commands
from .output import EXIT_ERROR, EXIT_USAGE, CliError

__all__ = ["register", "run"]

_TEXT = """generate Python from .proto contracts

Run protoc with the buckyos plugin: for each contract, NAME_pb2.py/.pyi (messages),
NAME_pb2_grpc.py (grpcio's classes) and NAME_rpc.py (the verb table, the stubs
NameStub/AsyncNameStub and the server base NameServicer), written only when every
contract is valid (else file:line: what to fix). buckyos/options.proto is always found."""

_EXAMPLES = """examples:
  buckyos codegen --proto-root proto --out myorg/generated \\
      --map myorg/=myorg.generated proto/myorg/notes.proto
  buckyos codegen ... --check        # exit 1 when myorg/generated differs
  buckyos codegen --print-include    # for -I of a protoc of your own"""


def register(commands: Commands) -> None:
    """Add ``codegen`` to the ``buckyos`` parser."""
    from buckyos.codegen.driver import add_arguments

    parser = commands.add("codegen", run, _TEXT, epilog=_EXAMPLES, extra="codegen")
    add_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Generate (or check) as the arguments say."""
    from buckyos.codegen.driver import CodegenError, run as generate

    try:
        return generate(args)
    except CodegenError as exc:
        raise CliError(str(exc), EXIT_USAGE if exc.usage else EXIT_ERROR) from None
