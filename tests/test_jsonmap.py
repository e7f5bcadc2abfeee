"""Every JSON mapping shape and field kind, on the test-only kitchen-sink contract."""

from __future__ import annotations

import json
from typing import Any

import pytest
from google.protobuf import empty_pb2, struct_pb2

from buckyos.runtime.errors import ParseRequestError, ParseResponseError
from buckyos.runtime.wire.jsonmap import decode_params, decode_result, encode_params, encode_result
from tests.generated import kitchen_sink_pb2 as ks, kitchen_sink_rpc as ks_rpc


def test_null_params_and_result() -> None:
    method = ks_rpc.KITCHEN_SINK_DO_NOTHING
    assert encode_params(method, empty_pb2.Empty()) is None
    assert decode_params(method, None) == empty_pb2.Empty()
    assert encode_result(method, empty_pb2.Empty()) is None
    # Upstream clients ignore a null verb's result; so do we.
    assert decode_result(method, None) == empty_pb2.Empty()


def test_true_result() -> None:
    method = ks_rpc.KITCHEN_SINK_CLOSE
    assert encode_result(method, empty_pb2.Empty()) is True
    assert decode_result(method, True) == empty_pb2.Empty()
    with pytest.raises(ParseResponseError) as err:
        decode_result(method, False)
    assert str(err.value) == "Parse Response Error: expected true, got false"
    with pytest.raises(ParseResponseError):
        decode_result(method, "true")


def test_unwrap_params_and_result() -> None:
    method = ks_rpc.KITCHEN_SINK_NAMES
    assert encode_params(method, ks.NameParam(prefix="ab")) == "ab"
    assert decode_params(method, "ab") == ks.NameParam(prefix="ab")
    assert encode_result(method, ks.NameList(names=["a", "b"])) == ["a", "b"]
    assert decode_result(method, []) == ks.NameList()
    with pytest.raises(ParseRequestError) as err:
        decode_params(method, 5)
    assert str(err.value) == "Parse Request Error: field `prefix`: expected string, got number"


def test_nullable_result() -> None:
    method = ks_rpc.KITCHEN_SINK_FIND
    assert encode_result(method, ks.Found()) is None
    assert decode_result(method, None) == ks.Found()
    found = decode_result(method, {"value": "", "version": 0})
    assert found.HasField("value") and found.value == ""
    assert encode_result(method, found) == {"value": "", "version": 0}


def test_json_key_option_and_null_when_unset() -> None:
    method = ks_rpc.KITCHEN_SINK_ECHO
    result = ks.EchoResult(text="hi", kind="greeting")
    assert encode_result(method, result) == {"text": "hi", "type": "greeting", "maybe": None}
    assert decode_result(method, {"text": "hi", "type": "greeting", "maybe": None}) == result
    assert decode_result(method, {"text": "x", "type": "t", "maybe": "m"}).maybe == "m"


ALL_JSON: dict[str, Any] = {
    "s": "text",
    "b": "AAEC/w==",
    "flag": True,
    "i32": -5,
    "i64": -(2**63),
    "u32": 2**32 - 1,
    "u64": 2**64 - 1,
    "d": 2.5,
    "f": 0.5,
    "color": "GREEN",
    "inner": {"label": "one", "numbers": [1, 2]},
    "inners": [{"label": "a", "numbers": []}, {"label": "b", "numbers": [3]}],
    "tags": ["x", "y"],
    "labels": {"k": "v"},
    "by_name": {"n": {"label": "m", "numbers": [7]}},
    "by_number": {"12": "twelve"},
    "extra": {"deep": {"list": [1, "two", None, False]}},
    "any": [1, {"a": "b"}],
    "maybe_number": -3,
    "from": "keyword field",
}


def test_every_field_kind_round_trips() -> None:
    method = ks_rpc.KITCHEN_SINK_EVERYTHING
    message = decode_params(method, ALL_JSON)
    assert message.b == b"\x00\x01\x02\xff"
    assert message.u64 == 2**64 - 1
    assert message.color == ks.GREEN
    assert message.by_number[12] == "twelve"
    assert getattr(message, "from") == "keyword field"
    encoded = encode_params(method, message)
    # Map keys come back as JSON object keys; int map keys travel as strings in JSON.
    assert json.loads(json.dumps(encoded)) == ALL_JSON


def test_absent_and_null_fields_are_defaults() -> None:
    method = ks_rpc.KITCHEN_SINK_ECHO
    request = decode_params(method, {"owner": "a", "name": "b", "count": 1, "note": None, "x": 1})
    assert request == ks.EchoRequest(owner="a", name="b", count=1)
    assert not request.HasField("note")


@pytest.mark.parametrize(
    ("params", "text"),
    [
        ([], "Parse Request Error: field `params`: expected object, got array"),
        ({"name": "b", "count": 1}, "Parse Request Error: Missing owner"),
        ({"owner": 1, "name": "b", "count": 1}, "Parse Request Error: field `owner`: expected string, got number"),
        ({"owner": "a", "name": "b", "count": -1}, "Parse Request Error: field `count`: -1 is out of range for unsigned integer"),
        ({"owner": "a", "name": "b", "count": True}, "Parse Request Error: field `count`: expected unsigned integer, got boolean"),
        ({"owner": "a", "name": "b", "count": 1.5}, "Parse Request Error: field `count`: expected unsigned integer, got number"),
    ],
)  # fmt: skip
def test_bad_params_name_the_field(params: Any, text: str) -> None:
    with pytest.raises(ParseRequestError) as err:
        decode_params(ks_rpc.KITCHEN_SINK_ECHO, params)
    assert str(err.value) == text


@pytest.mark.parametrize(
    ("field", "value", "text"),
    [
        ("b", "not base64!", "field `b`: not valid base64"),
        ("color", "PURPLE", "field `color`: expected one of COLOR_UNSPECIFIED, RED, GREEN"),
        ("inner", {"numbers": ["x"]}, "field `inner.numbers[0]`: expected integer, got string"),
        ("labels", {"k": 1}, "field `labels.k`: expected string, got number"),
        ("by_number", {"x": "y"}, "field `by_number.x`: map key is not a number"),
        ("i32", 2**31, "field `i32`: 2147483648 is out of range for integer"),
        ("extra", [1], "field `extra`: expected object, got array"),
        ("tags", "x", "field `tags`: expected array, got string"),
    ],
)
def test_bad_nested_values_name_the_path(field: str, value: Any, text: str) -> None:
    with pytest.raises(ParseRequestError) as err:
        decode_params(ks_rpc.KITCHEN_SINK_EVERYTHING, {field: value})
    assert str(err.value) == f"Parse Request Error: {text}"


def test_struct_integers_stay_integers() -> None:
    extra = struct_pb2.Struct()
    extra.update({"n": 3, "f": 3.25})
    encoded = encode_params(ks_rpc.KITCHEN_SINK_EVERYTHING, ks.AllTypes(extra=extra))
    assert json.dumps(encoded["extra"], sort_keys=True) == '{"f": 3.25, "n": 3}'
