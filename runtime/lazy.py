"""Facades that load their names on first use (PEP 562).

``buckyos.runtime`` and each of its rooms list their public names in a table (name ->
module, relative to the package; a room writes it by module with :func:`lazy_table`) and
import nothing else until a name is asked for: a
client that imports ``buckyos.runtime.client`` for ``KrpcTransport`` does not load the
server's uvicorn or gRPC parts, and generated code that imports ``buckyos.runtime`` stays
cheap.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_names", "lazy_table"]


def lazy_names(
    package: str, table: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for the module ``package``, loading ``table``'s names.

    A name is imported from its module the first time it is asked for, then kept in the
    package's namespace so later lookups never come back here.
    """

    def get(name: str) -> Any:
        module = table.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, package), name)
        vars(sys.modules[package])[name] = value
        return value

    def names() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(table))

    return get, names


def lazy_table(by_module: Mapping[str, str]) -> dict[str, str]:
    """Name -> module, from module -> its names separated by spaces.

    A room's facade names each module once, beside the ``TYPE_CHECKING`` imports that
    give type checkers the same names (as ``X as X``, so they count as re-exported), and
    derives ``__all__`` from the table: each name is written twice, not three times.
    """
    table: dict[str, str] = {}
    for module, names in by_module.items():
        for name in names.split():
            if name in table:
                raise ValueError(f"{name!r} is listed for both {table[name]} and {module}")
            table[name] = module
    return table
