"""Task input/result validation against a schema's ``input_schema``/``output_schema``,
with the ``jsonschema`` library (Draft 2020-12), answering upstream's texts
(``json_schema.rs``, ``upstream-services.md`` 2.4.8).

Pure: no I/O, no network (``$ref`` resolves inside the schema only).

Upstream validates a hand-written subset: ``enum``, ``type``, ``required``,
``properties``, ``additionalProperties: false`` and ``items``, reports the first violation
in its walk order (per node: enum, type, required in array order, properties by key,
unexpected keys by key, items by index) as ``<path>: <message>`` with the path ``$``,
``.key``, ``[i]``, and ignores every other keyword. Here the library walks the schema;
those six keywords are the library's validator extended with upstream's reading of them:

- ``type``: a string or an array of strings; an unknown type name matches anything;
  ``integer`` is an integer in the i64/u64 range (``1.5`` and ``2**64`` are not, as
  serde_json reads them); ``expected type string|null, found number``;
- ``enum`` (the library's deep equality; a non-array enum is ignored): ``value not in
  enum``; ``required``: non-string entries skipped, ``missing required property 'k'``;
- ``additionalProperties: false``: every key not in ``properties`` (``patternProperties``
  does not excuse a key, as upstream ignores it): ``unexpected property 'k'``;
- ``items``: a single schema applied to every item (``prefixItems`` does not exempt the
  first ones; the tuple form ``items: [...]`` is ignored);
- a ``false`` schema: ``schema forbids any value``; a non-object, non-boolean schema
  accepts anything, at the top and below.

Of the errors the library reports, the ones these six keywords raise on the plain walk
(not through ``$ref``, ``allOf``, ...) are upstream's; the first of them in upstream's
order wins. **We enforce more than upstream**: every other keyword the library knows
(``minimum``, ``maxLength``, ``pattern``, ``const``, ``oneOf``, ``allOf``, ``$ref``,
``prefixItems``, a schema-valued ``additionalProperties``, ``dependentRequired``, ...) is
checked too, and when only such keywords fail, the library's best match is reported as
``<path>: <library message>`` (e.g. ``$.n: 0 is less than the minimum of 1``), where
upstream accepts the value. ``format`` stays an annotation (not checked), as in the
library's default. Every schema is read as Draft 2020-12, whatever its ``$schema`` says.
A schema the library cannot read (an unresolvable ``$ref``, a
malformed keyword value, a ``$ref`` cycle) falls back to the six keywords alone, i.e.
upstream's behaviour.

Values are JSON after the wire: ``1`` and ``1.0`` are the same number here (a protobuf
``Value`` does not keep them apart), where serde_json tells them apart in ``enum`` and
``integer``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from jsonschema import Draft202012Validator, ValidationError, validators
from jsonschema.exceptions import best_match

from buckyos.generated.task_manager_rpc import (
    InputSchemaMismatchError,
    ResultSchemaMismatchError,
)

from .digest import json_value

__all__ = ["check_input", "check_result", "input_mismatch", "result_mismatch", "validate"]

_I64_MIN = -(2**63)
_U64_MAX = 2**64 - 1
_FORBIDS = "schema forbids any value"
_KNOWN_TYPES = frozenset({"object", "array", "string", "number", "integer", "boolean", "null"})

_LIB_ENUM = Draft202012Validator.VALIDATORS["enum"]
_LIB_ADDITIONAL = Draft202012Validator.VALIDATORS["additionalProperties"]


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _is_integer(_checker: Any, value: Any) -> bool:
    # serde_json: as_i64() or as_u64(); a float (even 1.0) or a literal past u64 is f64.
    return isinstance(value, int) and not isinstance(value, bool) and _I64_MIN <= value <= _U64_MAX


_TYPE_CHECKER = Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_integer)


def _descend(
    validator: Any, instance: Any, schema: Any, path: str | int, schema_path: str | None
) -> Iterator[ValidationError]:
    if schema is False:
        # The library's descend drops the path of a false schema's error: keep it.
        yield ValidationError(
            _FORBIDS,
            path=(path,),
            schema_path=() if schema_path is None else (schema_path,),
            instance=instance,
            schema=False,
        )
    else:
        yield from validator.descend(instance, schema, path=path, schema_path=schema_path)


def _enum(validator: Any, enums: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if isinstance(enums, list):
        for _ in _LIB_ENUM(validator, enums, instance, schema):
            yield ValidationError("value not in enum")
            return


def _type(validator: Any, types: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if isinstance(types, str):
        names = [types]
    elif isinstance(types, list):
        names = [name for name in types if isinstance(name, str)]
    else:
        names = []
    if names and not any(
        name not in _KNOWN_TYPES or validator.is_type(instance, name) for name in names
    ):
        yield ValidationError(f"expected type {'|'.join(names)}, found {_json_type(instance)}")


def _required(
    validator: Any, required: Any, instance: Any, schema: Any
) -> Iterator[ValidationError]:
    if isinstance(instance, dict) and isinstance(required, list):
        for key in required:
            if isinstance(key, str) and key not in instance:
                yield ValidationError(f"missing required property '{key}'")
                return


def _properties(
    validator: Any, properties: Any, instance: Any, schema: Any
) -> Iterator[ValidationError]:
    if isinstance(instance, dict) and isinstance(properties, dict):
        for key, subschema in properties.items():
            if key in instance and isinstance(subschema, (dict, bool)):
                yield from _descend(validator, instance[key], subschema, key, key)


def _additional(
    validator: Any, additional: Any, instance: Any, schema: Any
) -> Iterator[ValidationError]:
    if not isinstance(instance, dict):
        return
    if additional is False:
        known = schema.get("properties")
        for key in sorted(instance):
            if not (isinstance(known, dict) and key in known):
                yield ValidationError(f"unexpected property '{key}'")
                return
    elif isinstance(additional, dict):
        yield from _LIB_ADDITIONAL(validator, additional, instance, schema)


def _items(validator: Any, items: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if isinstance(instance, list) and isinstance(items, (dict, bool)):
        for index, item in enumerate(instance):
            yield from _descend(validator, item, items, index, None)


_SUBSET = {
    "enum": _enum,
    "type": _type,
    "required": _required,
    "properties": _properties,
    "additionalProperties": _additional,
    "items": _items,
}
# The rank of each keyword's check within one node, in upstream's order.
_RANK = {"enum": 0, "type": 1, "required": 2, "properties": 3, "additionalProperties": 4}
_ITEMS_RANK = 5

_FullValidator = validators.extend(  # type: ignore[no-untyped-call]
    Draft202012Validator, _SUBSET, type_checker=_TYPE_CHECKER
)
_SubsetValidator = validators.create(
    meta_schema=Draft202012Validator.META_SCHEMA,
    validators=_SUBSET,
    type_checker=_TYPE_CHECKER,
    id_of=lambda _schema: "",  # an opaque dialect: no $id, no subresources
)


def _upstream_order(error: ValidationError, root: Any) -> list[tuple[Any, ...]] | None:
    """Where upstream's walk meets ``error`` (a sort key), or ``None`` when upstream would
    not see it (a keyword outside its subset, or reached through ``$ref``, ``allOf``...)."""
    steps = list(error.absolute_schema_path)
    keys = list(error.absolute_path)
    node, i, j = root, 0, 0
    order: list[tuple[Any, ...]] = []
    while True:
        rest = len(steps) - i
        if rest == 0:
            # A false schema met on the walk.
            if node is False and error.schema is False and j == len(keys):
                return [*order, (0,)]
            return None
        step = steps[i]
        if not isinstance(node, dict):
            return None
        if (
            step == "properties"
            and rest >= 2
            and isinstance(node.get("properties"), dict)
            and j < len(keys)
            and steps[i + 1] == keys[j]
            and keys[j] in node["properties"]
        ):
            order.append((_RANK["properties"], keys[j]))
            node = node["properties"][keys[j]]
            i, j = i + 2, j + 1
            continue
        if step == "items" and j < len(keys) and isinstance(keys[j], int) and rest >= 1:
            if isinstance(node.get("items"), (dict, bool)) and (rest > 1 or node["items"] is False):
                order.append((_ITEMS_RANK, keys[j]))
                node = node["items"]
                i, j = i + 1, j + 1
                continue
            return None
        if rest == 1 and step in _RANK and error.schema is node and j == len(keys):
            return [*order, (_RANK[step],)]
        return None


def _path(error: ValidationError) -> str:
    return "$" + "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in error.absolute_path)


def validate(schema: Any, value: Any) -> str | None:
    """``None`` when ``value`` satisfies ``schema``, else upstream's ``<path>: <message>``
    for the first violation (both plain JSON or protobuf ``Value``)."""
    schema = json_value(schema)
    if schema is False:
        return f"$: {_FORBIDS}"
    if not isinstance(schema, dict) or not schema:
        return None
    value = json_value(value)
    try:
        errors = list(_FullValidator(schema).iter_errors(value))
    except Exception:  # the library cannot read this schema: upstream's subset alone
        errors = list(_SubsetValidator(schema).iter_errors(value))
    ranked = [(key, error) for error in errors if (key := _upstream_order(error, schema))]
    if ranked:
        first = min(ranked, key=lambda pair: pair[0])[1]
        return f"{_path(first)}: {first.message}"
    extra = best_match(errors)
    if extra is None:
        return None
    return f"{_path(extra)}: {extra.message}"


def input_mismatch(detail: str) -> InputSchemaMismatchError:
    """``input_schema_mismatch: <detail>``."""
    return InputSchemaMismatchError(detail)


def result_mismatch(detail: str) -> ResultSchemaMismatchError:
    """``result_schema_mismatch: <detail>``."""
    return ResultSchemaMismatchError(detail)


def check_input(schema: Any, value: Any) -> None:
    """Raise :func:`input_mismatch` of the first violation, if any."""
    detail = validate(schema, value)
    if detail is not None:
        raise input_mismatch(detail)


def check_result(schema: Any, value: Any) -> None:
    """Raise :func:`result_mismatch` of the first violation, if any."""
    detail = validate(schema, value)
    if detail is not None:
        raise result_mismatch(detail)
