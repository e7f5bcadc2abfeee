"""Stubs check what they are given, before anything is sent.

A field the contract marks ``(buckyos.field).required`` must be given; a value protobuf
refuses is a ``TypeError`` that names the field and what to pass.  The servicer here
counts the calls that reach it, so "refused before sending" is checked, not assumed; the
same checks hold for the sync and the asyncio stub.  Codegen reads the option from the
contract and refuses it where it contradicts the field (``optional``, a oneof).
"""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import empty_pb2

from buckyos.codegen import driver
from buckyos.generated import options_pb2, system_config_pb2 as sc, verify_hub_pb2 as vh
from buckyos.generated.system_config_rpc import (
    SYSTEM_CONFIG_EXEC_TX,
    SYSTEM_CONFIG_GET,
    SYSTEM_CONFIG_SET,
    AsyncSystemConfigStub,
    SystemConfigServicer,
    SystemConfigStub,
)
from buckyos.generated.verify_hub_rpc import VERIFY_HUB_LOGIN_BY_PASSWORD, VerifyHubStub
from buckyos.runtime.descriptor import MethodDescriptor
from buckyos.runtime.errors import ContractError
from buckyos.runtime.server.request import Request
from buckyos.runtime.stub import build_request
from buckyos.runtime.testing import LoopbackTransport
from tests.generated.kitchen_sink_rpc import KITCHEN_SINK_ECHO

ROOT = Path(__file__).resolve().parent.parent
KEY = "users/alice/apps/notes/settings"


class Counting(SystemConfigServicer):
    """Stores what ``Set`` receives and counts every call that arrives."""

    def __init__(self) -> None:
        self.calls = 0
        self.data: dict[str, str] = {}

    def Set(self, request: sc.SetRequest, req: Request) -> empty_pb2.Empty:
        self.calls += 1
        self.data[request.key] = request.value
        return empty_pb2.Empty()

    def Get(self, request: sc.KeyRequest, req: Request) -> sc.GetResult:
        self.calls += 1
        value = self.data.get(request.key)
        return sc.GetResult() if value is None else sc.GetResult(value=value, version=1)


MISSING_VALUE = (
    "Set() needs value=...: the contract marks buckyos.system_config.SetRequest.value required"
)
DICT_VALUE = "Set(): value must be str (JSON text); use json.dumps(...), not a dict"


def test_the_contracts_mark_what_upstream_refuses_as_missing() -> None:
    assert SYSTEM_CONFIG_SET.required == ("key", "value")
    assert SYSTEM_CONFIG_GET.required == ("key",)
    assert SYSTEM_CONFIG_EXEC_TX.required == ("actions",)
    assert VERIFY_HUB_LOGIN_BY_PASSWORD.required == (
        "username",
        "password",
        "appid",
        "app_instance_id",
    )
    assert KITCHEN_SINK_ECHO.required == ("owner", "name")
    assert SYSTEM_CONFIG_SET.spec()["required"] == ["key", "value"]

    # Nested messages carry the option too (for the services and later checks).
    def rules(message: Any, name: str) -> Any:
        extensions: Any = message.DESCRIPTOR.fields_by_name[name].GetOptions().Extensions
        return extensions[options_pb2.field]

    assert rules(sc.TxAction, "action").required is True
    assert rules(sc.MainKey, "revision").required is True
    assert rules(sc.TxAction, "value").required is False


def test_sync_stub_refuses_a_missing_or_mistyped_value_before_sending() -> None:
    config = Counting()
    stub = SystemConfigStub(LoopbackTransport(config))
    with pytest.raises(TypeError) as missing:
        stub.Set(key=KEY)
    assert str(missing.value) == MISSING_VALUE
    with pytest.raises(TypeError) as mistyped:
        stub.Set(key=KEY, value={"theme": "dark"})  # type: ignore[arg-type]
    assert str(mistyped.value) == DICT_VALUE
    with pytest.raises(TypeError) as no_key:
        stub.Get()
    assert str(no_key.value) == (
        "Get() needs key=...: the contract marks buckyos.system_config.KeyRequest.key required"
    )
    assert config.calls == 0 and config.data == {}
    # Given, an empty string is a value like any other (what upstream stores too).
    stub.Set(key=KEY, value="")
    assert config.data == {KEY: ""} and config.calls == 1


def test_async_stub_refuses_the_same() -> None:
    config = Counting()
    stub = AsyncSystemConfigStub(LoopbackTransport(config))

    async def scenario() -> list[str]:
        texts = []
        for kwargs in ({"key": KEY}, {"key": KEY, "value": {"theme": "dark"}}):
            with pytest.raises(TypeError) as refused:
                await stub.Set(**kwargs)
            texts.append(str(refused.value))
        await stub.Set(key=KEY, value='{"theme": "dark"}')
        return texts

    assert asyncio.run(scenario()) == [MISSING_VALUE, DICT_VALUE]
    assert config.calls == 1 and config.data == {KEY: '{"theme": "dark"}'}


@pytest.mark.parametrize(
    ("kwargs", "text"),
    [
        ({"key": 7, "value": "v"}, "Set(): key must be str, not int"),
        ({"key": KEY, "value": b"v"}, None),  # protobuf takes UTF-8 bytes for a string
        (
            {"key": KEY, "value": ["a"]},
            "Set(): value must be str (JSON text); use json.dumps(...), not a list",
        ),
    ],
)
def test_wrong_types_name_the_field(kwargs: dict[str, object], text: str | None) -> None:
    fields: dict[str, object] = {"key": None, "value": None, **kwargs}
    if text is None:
        assert build_request(SYSTEM_CONFIG_SET, None, fields).value == "v"
        return
    with pytest.raises(TypeError) as refused:
        build_request(SYSTEM_CONFIG_SET, None, fields)
    assert str(refused.value) == text


def test_numbers_and_messages_say_what_they_take() -> None:
    login = dict.fromkeys(vh.LoginByPasswordRequest.DESCRIPTOR.fields_by_name)
    login.update(username="a", password="p", appid="app", app_instance_id="app@a")
    with pytest.raises(TypeError) as negative:
        build_request(VERIFY_HUB_LOGIN_BY_PASSWORD, None, {**login, "login_nonce": -1})
    assert str(negative.value) == (
        "LoginByPassword(): login_nonce must be int (uint64, 0 or more); -1 is out of range or not whole"
    )
    with pytest.raises(TypeError) as typo:
        build_request(
            SYSTEM_CONFIG_EXEC_TX, None, {"actions": {}, "main_key": {"key": KEY, "revison": 1}}
        )
    assert str(typo.value) == (
        "ExecTx(): main_key must be a buckyos.system_config.MainKey message (or a dict of its "
        'fields); inside it: Protocol message MainKey has no "revison" field.'
    )
    with pytest.raises(TypeError) as missing:
        VerifyHubStub(LoopbackTransport(Counting())).LoginByPassword(
            username="a", password="p", appid="app"
        )
    assert "needs app_instance_id=..." in str(missing.value)


def test_a_message_is_checked_for_required_fields_that_track_presence() -> None:
    method = MethodDescriptor.build(
        api="x",
        service="x.X",
        name="Tx",
        krpc="x_tx",
        request_type=sc.ExecTxRequest,
        response_type=empty_pb2.Empty,
        required=("actions", "main_key"),
    )
    assert method.required_present == ("main_key",)
    with pytest.raises(TypeError) as refused:
        build_request(method, sc.ExecTxRequest(), {"actions": None, "main_key": None})
    assert str(refused.value) == (
        "Tx(): set main_key in the request: the contract marks "
        "buckyos.system_config.ExecTxRequest.main_key required"
    )
    request = sc.ExecTxRequest(main_key=sc.MainKey(key=KEY, revision=1))
    assert build_request(method, request, {"actions": None, "main_key": None}) is request
    with pytest.raises(ContractError, match="required field 'nope' is not a field of"):
        MethodDescriptor.build(
            api="x",
            service="x.X",
            name="Tx",
            krpc="x_tx",
            request_type=sc.ExecTxRequest,
            response_type=empty_pb2.Empty,
            required=("nope",),
        )


@pytest.mark.parametrize(
    ("field", "kind"),
    [
        ("optional string key = 1;", "`optional`"),
        ("oneof pick { string key = 1; }", "a oneof member"),
    ],
)
def test_codegen_refuses_required_where_the_field_says_otherwise(
    field: str, kind: str, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    proto = tmp_path / "protos" / "pkg" / "bad.proto"
    proto.parent.mkdir(parents=True)
    declared = field.replace("key = 1", "key = 1 [(buckyos.field).required = true]")
    proto.write_text(
        textwrap.dedent(
            f"""\
            syntax = "proto3";
            package pkg;
            import "buckyos/options.proto";
            service Svc {{
              option (buckyos.api) = {{ name: "svc" }};
              rpc Get(Req) returns (Req) {{ option (buckyos.verb) = {{ krpc: "a" }}; }}
            }}
            message Req {{
              {declared}
            }}
            """
        )
    )
    out = tmp_path / "out"
    code = driver.main(
        ["--proto-root", str(tmp_path / "protos"), "--out", str(out), "--map", "pkg/=pkg",
         str(proto)]
    )  # fmt: skip
    err = capfd.readouterr().err
    assert code == 1
    assert f"pkg/bad.proto:9: pkg.Req.key is {kind} and (buckyos.field).required; drop one" in err
    assert not out.exists()


def test_opaque_json_fields_take_plain_json() -> None:
    """A Value/Struct field's keyword takes the JSON itself, as its kRPC JSON is that
    value; a message still works, and a value JSON cannot hold is a TypeError."""
    from google.protobuf import struct_pb2

    from tests.generated import kitchen_sink_pb2 as ks
    from tests.generated.kitchen_sink_rpc import KITCHEN_SINK_EVERYTHING

    def build(**fields: Any) -> ks.AllTypes:
        names = dict.fromkeys(ks.AllTypes.DESCRIPTOR.fields_by_name)
        return build_request(KITCHEN_SINK_EVERYTHING, None, {**names, **fields})

    built = build(extra={"album": "x", "n": [1, 2]}, any=["a", {"b": None}])
    assert dict(built.extra) == {"album": "x", "n": [1.0, 2.0]}
    assert built.any.list_value.values[1].struct_value.fields["b"].HasField("null_value")
    assert build(any="text").any.string_value == "text"
    assert build(any=3).any.number_value == 3
    assert build(any=struct_pb2.Value(bool_value=True)).any.bool_value is True
    with pytest.raises(TypeError) as refused:
        build(extra=["not", "an", "object"])
    assert str(refused.value).startswith(
        "Everything(): extra must be JSON for a Struct (dict, list, str, number, bool) or a "
        "Struct message: "
    )
    with pytest.raises(TypeError, match=r"^Everything\(\): any must be JSON for a Value"):
        build(any=object())
