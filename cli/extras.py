"""The optional parts of the distribution (``pyproject.toml``'s extras) a command needs.

``pip install buckyos-api-runtime`` gives the client runtime; running services needs the
``server`` extra (uvicorn, gRPC health and reflection, jsonschema for task-manager),
generating code the ``codegen`` extra (grpcio-tools).  A command that needs one checks for
it first, so a missing part is one line that names the extra to install, not a
``ModuleNotFoundError`` from a child process's log.
"""

from __future__ import annotations

import argparse
import importlib.util
from collections.abc import Callable
from functools import wraps

from .output import EXIT_ERROR, CliError

__all__ = ["DISTRIBUTION", "EXTRAS", "missing_extra", "needs_extra"]

DISTRIBUTION = "buckyos-api-runtime"
"""The distribution's name on the package index (``[project] name``)."""

EXTRAS: dict[str, tuple[str, ...]] = {
    "server": ("uvicorn", "grpc_health", "grpc_reflection", "jsonschema"),
    "codegen": ("grpc_tools",),
}
"""Per extra, the modules it installs that the commands import (kept in step with
``[project.optional-dependencies]`` by ``tests/test_installed_wheel.py``)."""


def missing_extra(extra: str) -> str | None:
    """The one-line error when a module of ``extra`` is not importable, else ``None``."""
    for module in EXTRAS[extra]:
        if importlib.util.find_spec(module) is None:
            return (
                f"the {extra} parts are not installed (no module {module}); "
                f"pip install '{DISTRIBUTION}[{extra}]'"
            )
    return None


def needs_extra(
    extra: str, run: Callable[[argparse.Namespace], int]
) -> Callable[[argparse.Namespace], int]:
    """``run`` that first refuses, as a :class:`CliError`, when ``extra`` is missing."""
    if extra not in EXTRAS:
        raise ValueError(f"unknown extra {extra!r}; known: {sorted(EXTRAS)}")

    @wraps(run)
    def checked(args: argparse.Namespace) -> int:
        problem = missing_extra(extra)
        if problem is not None:
            raise CliError(problem, EXIT_ERROR)
        return run(args)

    return checked
