"""Wire JSON text: serde_json's compact shape whichever encoder ran."""

from __future__ import annotations

import json
from typing import Any

import pytest

from buckyos.runtime.errors import ConfigError, ReasonError
from buckyos.runtime.wire.jsontext import dumps, json_object, loads


@pytest.mark.parametrize(
    "value",
    [
        {"result": {"value": "s" * 100, "version": 1}, "sys": [1795316427000003, "trace"]},
        {"method": "sys_config_get", "params": {"key": "users/ä/设置"}, "sys": [1, None]},
        {"error": 'No permission:"quoted"\n\tand\\slashed\x01', "sys": [0]},
        [True, False, None, 0, -5, 1.5, "", [], {}],
    ],
)
def test_compact_utf8_like_serde(value: Any) -> None:
    expected = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    assert dumps(value) == expected
    assert loads(dumps(value)) == value


def test_what_the_fast_encoder_refuses_still_encodes() -> None:
    assert dumps({"n": 2**70}) == b'{"n":1180591620717411303424}'
    assert dumps({"s": "a\ud800b"}) == b'{"s":"a\\ud800b"}'  # a lone surrogate, escaped
    assert dumps({"x": float("nan"), "y": [float("inf")]}) == b'{"x":null,"y":[null]}'
    assert dumps({"x": float("nan"), "n": 2**70}) == b'{"x":null,"n":1180591620717411303424}'


def test_loads_errors_carry_the_stdlib_message() -> None:
    with pytest.raises(ValueError, match=r"Expecting ',' delimiter: line 1 column 9"):
        loads(b'{"a": 1 "b": 2}')
    with pytest.raises(UnicodeDecodeError):
        loads(b'{"a": "\xff"}')
    # beyond 64 bits a number is a float, as serde_json (without arbitrary_precision) has it
    assert loads(b'{"n": 123456789012345678901234567890}') == {"n": 1.2345678901234568e29}
    assert loads(b'{"n": 18446744073709551615}') == {"n": 2**64 - 1}


def test_the_strict_text_pair_refuses_what_json_lacks() -> None:
    from buckyos.runtime.wire.jsontext import dumps_text, loads_strict

    assert loads_strict('{"a": [1, "x"]}') == {"a": [1, "x"]}
    assert loads_strict(' {"a": 1} ') == {"a": 1}  # the full decoder's path
    with pytest.raises(ValueError, match="NaN is not valid JSON"):
        loads_strict('{"a": NaN}')
    with pytest.raises(ValueError, match=r"Extra data: line 1 column 5 \(char 4\)"):
        loads_strict("[1] x")
    assert dumps_text({"k": "ä", "n": [1, None]}) == '{"k":"ä","n":[1,null]}'
    assert dumps_text({"s": "a\ud800b"}) == '{"s":"a\\ud800b"}'
    with pytest.raises(ValueError):
        dumps_text({"x": float("nan")})


def test_json_object_reads_text_or_takes_a_mapping_and_names_what_was_wrong() -> None:
    assert json_object('{"a": 1}', "x") == {"a": 1}
    assert json_object({"b": 2}, "x") == {"b": 2}
    with pytest.raises(
        ValueError, match=r"^boot/config is not valid JSON: Expecting property name"
    ):
        json_object("{", "boot/config")
    with pytest.raises(ConfigError, match=r"^env X must be a JSON object, got an array; set X$"):
        json_object("[1]", "env X", ConfigError, fix="set X")
    with pytest.raises(ReasonError, match=r"reason: doc must be a JSON object, got null$"):
        json_object("null", "doc", ReasonError)
