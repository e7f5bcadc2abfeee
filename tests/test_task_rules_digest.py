"""services/task_manager/digest.py: upstream's input_digest (upstream-services.md 2.4.2,
task_mgr.rs compute_task_input_digest): the doc's vectors, the canonical bytes, and floats
spelled as serde_json (ryu) spells them. Pure unit tests."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from google.protobuf import json_format, struct_pb2

from buckyos.services.task_manager.digest import canonical_bytes, input_digest, json_value

VECTORS = [
    (
        {"album": "x"},
        b'{album:"x",}',
        "c5c2d67cc7aca5aa4246a1561db57efdeeb98d02bb51f74f902e10a495bc3755",
    ),
    (
        {"b": 1, "a": "x"},
        b'{a:"x",b:1,}',
        "0a30bef3bfb49ebffac41629f24cfb0cb0d03a19a7cb249a0ea2307fa56a8224",
    ),
    ({}, b"{}", "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"),
]


@pytest.mark.parametrize(("value", "canonical", "digest"), VECTORS)
def test_upstream_vectors(value: Any, canonical: bytes, digest: str) -> None:
    assert canonical_bytes(value) == canonical
    assert input_digest(value) == digest
    assert hashlib.sha256(canonical).hexdigest() == digest


def test_nested_layout_with_trailing_commas_and_sorted_raw_keys() -> None:
    value = {"z": [1, [], {}], "a b": {"y": None, "x": True}, "\u00e9": False, "B": "q"}
    # Byte-wise key order: "B" (0x42) < "a b" (0x61) < "z" < "é" (0xc3 0xa9); keys raw.
    assert canonical_bytes(value) == (
        '{B:"q",a b:{x:true,y:null,},z:[1,[],{},],\u00e9:false,}'.encode()
    )


def test_keys_are_raw_bytes_not_json() -> None:
    assert canonical_bytes({'q"k\n': 1}) == b'{q"k\n:1,}'


def test_strings_escape_like_serde_json() -> None:
    text = 'a"b\\c\b\f\n\r\t\x01\x1f\x7f\u00e9\u4e2d\U0001f600/'
    expected = '"a\\"b\\\\c\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\u00e9\u4e2d\U0001f600/"'
    assert canonical_bytes(text) == expected.encode()


def test_scalars() -> None:
    assert canonical_bytes(None) == b"null"
    assert canonical_bytes(True) == b"true"
    assert canonical_bytes(False) == b"false"
    assert canonical_bytes(0) == b"0"
    assert canonical_bytes(-42) == b"-42"
    assert canonical_bytes(2**63 - 1) == b"9223372036854775807"
    assert canonical_bytes(-(2**63)) == b"-9223372036854775808"
    assert canonical_bytes(2**64 - 1) == b"18446744073709551615"


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (1.0, "1.0"),
        (json.loads("1e2"), "100.0"),
        (0.1, "0.1"),
        (-2.5, "-2.5"),
        (123.456, "123.456"),
        (1e15, "1000000000000000.0"),
        (1e16, "1e16"),
        (1.2345678901234568e16, "1.2345678901234568e16"),
        (1234567890123456.8, "1234567890123456.8"),
        (0.0001, "0.0001"),
        (1e-5, "0.00001"),
        (0.000123, "0.000123"),
        (1e-6, "1e-6"),
        (1e-7, "1e-7"),
        (1.5e300, "1.5e300"),
        (-1.5e-300, "-1.5e-300"),
        (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e308"),
        (0.0, "0.0"),
        (-0.0, "-0.0"),
    ],
)
def test_floats_as_ryu_writes_them(number: float, text: str) -> None:
    assert canonical_bytes(number) == text.encode()


def test_integers_past_u64_and_i64_are_floats_as_serde_reads_them() -> None:
    assert canonical_bytes(2**64) == b"1.8446744073709552e19"
    assert canonical_bytes(-(2**63) - 1) == b"-9.223372036854776e18"


def test_int_and_float_differ() -> None:
    assert input_digest({"a": 1}) != input_digest({"a": 1.0})


def test_protobuf_value_is_hashed_as_the_wire_decodes_it() -> None:
    value = json_format.ParseDict({"b": 1, "a": "x"}, struct_pb2.Value())
    assert json_value(value) == {"a": "x", "b": 1}
    assert input_digest(value) == VECTORS[1][2]
    struct = json_format.ParseDict({"n": [1.5, None, True, 3]}, struct_pb2.Struct())
    assert canonical_bytes(struct) == b"{n:[1.5,null,true,3,],}"
    big = struct_pb2.Value(number_value=2.0**60)
    assert canonical_bytes(big) == b"1.152921504606847e18"
    assert json_value(struct_pb2.Value()) is None
    assert json_value(struct_pb2.ListValue()) == []


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), {1: "x"}, object()])
def test_what_json_cannot_hold_is_refused(bad: Any) -> None:
    with pytest.raises(ValueError):
        input_digest({"v": bad})
