"""Task input/result validation against a schema's ``input_schema``/``output_schema``,
with the ``jsonschema`` library, answering upstream's texts (``json_schema.rs``,
``upstream-services.md`` 2.4.8).

Pure: no I/O.
"""

from __future__ import annotations

from typing import Any

from buckyos.generated.task_manager_rpc import (
    InputSchemaMismatchError,
    ResultSchemaMismatchError,
)

__all__ = ["check_input", "check_result", "input_mismatch", "result_mismatch", "validate"]


def validate(schema: Any, value: Any) -> str | None:
    """``None`` when ``value`` satisfies ``schema``, else upstream's ``<path>: <message>``
    for the first violation (both plain JSON or protobuf ``Value``)."""
    raise NotImplementedError


def input_mismatch(detail: str) -> InputSchemaMismatchError:
    """``input_schema_mismatch: <detail>``."""
    return InputSchemaMismatchError(detail)


def result_mismatch(detail: str) -> ResultSchemaMismatchError:
    """``result_schema_mismatch: <detail>``."""
    return ResultSchemaMismatchError(detail)


def check_input(schema: Any, value: Any) -> None:
    """Raise :func:`input_mismatch` of the first violation, if any."""
    raise NotImplementedError


def check_result(schema: Any, value: Any) -> None:
    """Raise :func:`result_mismatch` of the first violation, if any."""
    raise NotImplementedError
