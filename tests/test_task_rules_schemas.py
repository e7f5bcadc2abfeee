"""services/task_manager/schemas.py: task input/result validation with jsonschema,
answering upstream's texts (upstream-services.md 2.4.8, json_schema.rs): every message,
the path syntax, upstream's first-violation order, its reading of the six keywords, the
keywords we enforce beyond upstream, schemas the library cannot read, and the coded
errors. Pure unit tests."""

from __future__ import annotations

from typing import Any

import pytest
from google.protobuf import json_format, struct_pb2

from buckyos.generated import task_manager_rpc as rpc
from buckyos.runtime.errors import ReasonError
from buckyos.services.task_manager.schemas import (
    check_input,
    check_result,
    input_mismatch,
    result_mismatch,
    validate,
)

# upstream's own tests (json_schema.rs `mod tests`), with the texts they produce
DOWNLOAD = {
    "type": "object",
    "required": ["url"],
    "properties": {"url": {"type": "string"}, "count": {"type": "integer"}},
}
MODES = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "mode": {"enum": ["fast", "safe"]},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
}


@pytest.mark.parametrize(
    ("schema", "value", "expected"),
    [
        ({}, {"a": 1}, None),
        (True, None, None),
        (DOWNLOAD, {"url": "http://x"}, None),
        (DOWNLOAD, {}, "$: missing required property 'url'"),
        (DOWNLOAD, {"url": 5}, "$.url: expected type string, found number"),
        (DOWNLOAD, {"url": "x", "count": "no"}, "$.count: expected type integer, found string"),
        (MODES, {"mode": "fast", "tags": ["a"]}, None),
        (MODES, {"mode": "slow"}, "$.mode: value not in enum"),
        (MODES, {"tags": [1]}, "$.tags[0]: expected type string, found number"),
        (MODES, {"other": 1}, "$: unexpected property 'other'"),
    ],
)
def test_upstreams_own_cases(schema: Any, value: Any, expected: str | None) -> None:
    assert validate(schema, value) == expected


# --- every message text ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "found"),
    [
        (None, "null"),
        (True, "boolean"),
        (1, "number"),
        (1.5, "number"),
        ("s", "string"),
        ([], "array"),
        ({}, "object"),
    ],
)
def test_type_message_names_what_was_found(value: Any, found: str) -> None:
    schema = {"type": ["object", "null"]} if found not in ("object", "null") else {"type": "string"}
    wanted = "object|null" if found not in ("object", "null") else "string"
    assert validate(schema, value) == f"$: expected type {wanted}, found {found}"


def test_every_message() -> None:
    assert validate({"enum": [1, "a"]}, "b") == "$: value not in enum"
    assert validate({"type": "string"}, 1) == "$: expected type string, found number"
    assert validate({"required": ["k"]}, {}) == "$: missing required property 'k'"
    assert validate({"additionalProperties": False}, {"k": 1}) == "$: unexpected property 'k'"
    assert validate(False, 1) == "$: schema forbids any value"


def test_false_schemas_below_the_top_keep_their_path() -> None:
    assert validate({"properties": {"a": False}}, {"a": 1}) == "$.a: schema forbids any value"
    assert validate({"properties": {"a": False}}, {"b": 1}) is None
    assert validate({"items": False}, [1]) == "$[0]: schema forbids any value"
    assert validate({"items": False}, []) is None
    assert (
        validate(
            {"properties": {"a": {"items": {"properties": {"b": False}}}}}, {"a": [{}, {"b": 0}]}
        )
        == "$.a[1].b: schema forbids any value"
    )


def test_paths() -> None:
    schema = {"properties": {"a": {"items": {"properties": {"b c": {"type": "null"}}}}}}
    assert (
        validate(schema, {"a": [{}, {"b c": 0}]}) == "$.a[1].b c: expected type null, found number"
    )
    assert validate({"items": {"items": {"type": "string"}}}, [[], ["x", 2]]) == (
        "$[1][1]: expected type string, found number"
    )


# --- accept-all schemas -----------------------------------------------------------------


@pytest.mark.parametrize("schema", [True, {}, None, 5, "object", [], [{"type": "string"}]])
def test_true_empty_and_non_object_schemas_accept(schema: Any) -> None:
    for value in (None, 1, "x", [1], {"a": 1}):
        assert validate(schema, value) is None


def test_non_object_subschemas_accept() -> None:
    assert validate({"properties": {"a": 5}}, {"a": 1}) is None
    assert validate({"items": "string"}, [1]) is None
    assert validate({"additionalProperties": 7}, {"x": 1}) is None


# --- upstream's reading of the six keywords -------------------------------------------


def test_type_arrays_unknown_names_and_non_strings() -> None:
    assert validate({"type": ["string", "integer"]}, 1) is None
    assert validate({"type": ["string", 5]}, 1) == "$: expected type string, found number"
    assert validate({"type": [5]}, 1) is None  # no names: no check
    assert validate({"type": 5}, 1) is None
    assert validate({"type": "float"}, "x") is None  # an unknown name matches anything
    assert validate({"type": ["string", "float"]}, 1) is None
    assert validate({"type": []}, 1) is None


def test_integer_is_an_i64_or_u64() -> None:
    assert validate({"type": "integer"}, 5) is None
    assert validate({"type": "integer"}, -(2**63)) is None
    assert validate({"type": "integer"}, 2**64 - 1) is None
    for value in (1.5, 1.0, 2**64, -(2**63) - 1, True):
        found = "boolean" if value is True else "number"
        assert validate({"type": "integer"}, value) == f"$: expected type integer, found {found}"
    assert validate({"type": "number"}, 2**64) is None
    assert validate({"type": "number"}, True) == "$: expected type number, found boolean"


def test_enum_deep_equality_and_non_arrays() -> None:
    assert validate({"enum": [{"a": [1, 2]}]}, {"a": [1, 2]}) is None
    assert validate({"enum": [{"a": [1, 2]}]}, {"a": [2, 1]}) == "$: value not in enum"
    assert validate({"enum": [1]}, True) == "$: value not in enum"
    assert validate({"enum": [None]}, None) is None
    assert validate({"enum": "abc"}, "x") is None  # not an array: ignored
    assert validate({"enum": []}, 1) == "$: value not in enum"


def test_required_checks_objects_only_and_skips_non_strings() -> None:
    assert validate({"required": ["a"]}, [1]) is None
    assert validate({"required": [5, "a"]}, {}) == "$: missing required property 'a'"
    assert validate({"required": "a"}, {}) is None


def test_additional_properties_false_ignores_pattern_properties() -> None:
    schema = {
        "properties": {"a": {}},
        "patternProperties": {"^x": {}},
        "additionalProperties": False,
    }
    assert validate(schema, {"a": 1}) is None
    assert validate(schema, {"a": 1, "xy": 2}) == "$: unexpected property 'xy'"
    assert validate({"additionalProperties": False}, []) is None
    # properties not an object: every key is unexpected
    assert validate({"properties": [], "additionalProperties": False}, {"a": 1}) == (
        "$: unexpected property 'a'"
    )


def test_items_applies_to_every_item_and_ignores_the_tuple_form() -> None:
    schema = {"prefixItems": [{}], "items": {"type": "string"}}
    assert validate(schema, [1]) == "$[0]: expected type string, found number"
    assert validate({"items": [{"type": "string"}]}, [1]) is None
    assert validate({"items": {"type": "string"}}, "not an array") is None


# --- first violation wins, in upstream's order ----------------------------------------


def test_order_within_a_node_enum_type_required_properties_unexpected() -> None:
    schema = {
        "enum": [{"zz": 1}],
        "type": "array",
        "required": ["q"],
        "properties": {"a": {"type": "string"}},
        "additionalProperties": False,
    }
    value = {"a": 1, "b": 2}
    assert validate(schema, value) == "$: value not in enum"
    del schema["enum"]
    assert validate(schema, value) == "$: expected type array, found object"
    del schema["type"]
    assert validate(schema, value) == "$: missing required property 'q'"
    del schema["required"]
    assert validate(schema, value) == "$.a: expected type string, found number"
    del schema["properties"]
    assert validate(schema, value) == "$: unexpected property 'a'"


def test_order_does_not_follow_the_schemas_key_order() -> None:
    schema = {
        "additionalProperties": False,
        "properties": {"a": {"type": "string"}},
        "required": ["q"],
        "type": "object",
        "enum": [1],
    }
    assert validate(schema, {"a": 1, "b": 2}) == "$: value not in enum"


def test_required_in_array_order() -> None:
    assert validate({"required": ["b", "a"]}, {}) == "$: missing required property 'b'"


def test_properties_by_key_order_and_depth_first() -> None:
    schema = {
        "properties": {
            "z": {"type": "string"},
            "b": {"properties": {"y": {"type": "string"}, "x": {"type": "string"}}},
            "a": {"type": "string"},
        }
    }
    value = {"z": 1, "b": {"x": 1, "y": 1}, "a": 1}
    assert validate(schema, value) == "$.a: expected type string, found number"
    value["a"] = "ok"
    assert validate(schema, value) == "$.b.x: expected type string, found number"


def test_unexpected_keys_by_key_order_after_properties() -> None:
    schema = {"properties": {"m": {"type": "string"}}, "additionalProperties": False}
    assert validate(schema, {"z": 1, "c": 1, "m": 1}) == "$.m: expected type string, found number"
    assert validate(schema, {"z": 1, "c": 1, "m": "s"}) == "$: unexpected property 'c'"


def test_items_by_index() -> None:
    schema = {"items": {"required": ["k"], "properties": {"k": {"type": "string"}}}}
    assert (
        validate(schema, [{"k": "s"}, {"k": 1}, {}]) == "$[1].k: expected type string, found number"
    )


# --- what we enforce beyond upstream -----------------------------------------------------


def test_other_keywords_are_enforced_with_the_librarys_message() -> None:
    assert validate({"minimum": 1}, 0) == "$: 0 is less than the minimum of 1"
    assert validate({"properties": {"n": {"maxLength": 1}}}, {"n": "ab"}) == (
        "$.n: 'ab' is too long"
    )
    assert validate({"pattern": "^a"}, "b") == "$: 'b' does not match '^a'"
    assert validate({"const": 1}, 2) == "$: 1 was expected"
    assert validate({"oneOf": [{"type": "string"}, {"type": "number"}]}, None) is not None
    assert validate({"prefixItems": [{"type": "string"}]}, [1]) is not None
    assert validate({"additionalProperties": {"type": "string"}}, {"x": 1}) == (
        "$.x: expected type string, found number"
    )
    assert validate({"dependentRequired": {"a": ["b"]}}, {"a": 1}) is not None


def test_upstreams_violation_wins_over_an_extra_one() -> None:
    schema: dict[str, Any] = {"properties": {"a": {"minimum": 5}, "b": {"type": "string"}}}
    assert validate(schema, {"a": 0, "b": 1}) == "$.b: expected type string, found number"
    # Through allOf or $ref the six keywords are extras too: upstream never sees them.
    schema = {"allOf": [{"required": ["a"]}], "properties": {"z": {"type": "string"}}}
    assert validate(schema, {"z": 1}) == "$.z: expected type string, found number"
    schema = {
        "$defs": {"s": {"type": "string"}},
        "properties": {"a": {"$ref": "#/$defs/s"}, "z": {"type": "null"}},
    }
    assert validate(schema, {"a": 1, "z": 1}) == "$.z: expected type null, found number"
    assert validate(schema, {"a": 1}) == "$.a: expected type string, found number"


def test_format_is_not_checked() -> None:
    assert validate({"format": "email"}, "not an email") is None


def test_a_schema_the_library_cannot_read_falls_back_to_upstreams_subset() -> None:
    unresolvable = {"$ref": "https://example.invalid/s.json", "type": "string"}
    assert validate(unresolvable, 1) == "$: expected type string, found number"
    assert validate(unresolvable, "x") is None
    cyclic = {"$ref": "#", "required": ["a"]}
    assert validate(cyclic, {}) == "$: missing required property 'a'"
    assert validate(cyclic, {"a": 1}) is None
    malformed = {"minimum": "one", "properties": {"a": {"type": "string"}}}
    assert validate(malformed, {"a": 1}) == "$.a: expected type string, found number"
    assert validate({"pattern": "("}, "x") is None


# --- protobuf values and the coded errors ----------------------------------------------


def test_protobuf_values() -> None:
    schema = json_format.ParseDict(DOWNLOAD, struct_pb2.Value())
    value = json_format.ParseDict({"url": "x", "count": 3}, struct_pb2.Value())
    assert validate(schema, value) is None
    value = json_format.ParseDict({"url": "x", "count": 3.5}, struct_pb2.Value())
    assert validate(schema, value) == "$.count: expected type integer, found number"
    assert validate(struct_pb2.Value(bool_value=False), value) == "$: schema forbids any value"
    assert validate(struct_pb2.Value(), value) is None  # a null schema accepts


def test_coded_errors() -> None:
    error = input_mismatch("$.url: expected type string, found number")
    assert isinstance(error, rpc.InputSchemaMismatchError) and isinstance(error, ReasonError)
    assert error.text == (
        "Failed due to reason: input_schema_mismatch: $.url: expected type string, found number"
    )
    error2 = result_mismatch("$: missing required property 'code'")
    assert isinstance(error2, rpc.ResultSchemaMismatchError)
    assert error2.text == (
        "Failed due to reason: result_schema_mismatch: $: missing required property 'code'"
    )
    check_input(DOWNLOAD, {"url": "x"})
    check_result(DOWNLOAD, {"url": "x"})
    with pytest.raises(rpc.InputSchemaMismatchError) as caught:
        check_input(DOWNLOAD, {"url": 1})
    assert caught.value.message == "$.url: expected type string, found number"
    with pytest.raises(rpc.ResultSchemaMismatchError) as caught_result:
        check_result({"required": ["code"]}, {})
    assert caught_result.value.text == (
        "Failed due to reason: result_schema_mismatch: $: missing required property 'code'"
    )
