"""Upstream's kRPC params and results, written out literally, against the generated mapping.

Every JSON value below is copied from upstream's shapes (buckyos-protocol.md sections 5
and 6, and the Rust clients' ``json!`` literals), not derived from our code.  Each case
is checked both ways: upstream JSON decodes to the expected message, and the message
encodes to exactly that JSON (numbers as numbers, snake_case keys, absent optionals left
out).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from google.protobuf import empty_pb2, struct_pb2
from google.protobuf.message import Message

from buckyos.generated import (
    system_config_pb2 as sc,
    system_config_rpc as sc_rpc,
    verify_hub_pb2 as vh,
    verify_hub_rpc as vh_rpc,
)
from buckyos.runtime.descriptor import MethodDescriptor
from buckyos.runtime.wire.jsonmap import decode_params, decode_result, encode_params, encode_result


def _struct(value: dict[str, Any]) -> struct_pb2.Struct:
    out = struct_pb2.Struct()
    out.update(value)
    return out


# (method, upstream params JSON text, request message, upstream result JSON text, response)
CASES: list[tuple[MethodDescriptor[Any, Any], str, Message, str, Message]] = [
    (
        sc_rpc.SYSTEM_CONFIG_GET,
        '{"key": "users/alice/apps/demo/settings"}',
        sc.KeyRequest(key="users/alice/apps/demo/settings"),
        '{"value": "{\\"theme\\":\\"dark\\"}", "version": 3}',
        sc.GetResult(value='{"theme":"dark"}', version=3),
    ),
    (
        sc_rpc.SYSTEM_CONFIG_GET,
        '{"key": "missing/key"}',
        sc.KeyRequest(key="missing/key"),
        "null",
        sc.GetResult(),
    ),
    (
        sc_rpc.SYSTEM_CONFIG_GET,
        '{"key": "empty"}',
        sc.KeyRequest(key="empty"),
        '{"value": "", "version": 1}',
        sc.GetResult(value="", version=1),
    ),
    (
        sc_rpc.SYSTEM_CONFIG_SET,
        '{"key": "users/alice/apps/demo/settings", "value": "{}"}',
        sc.SetRequest(key="users/alice/apps/demo/settings", value="{}"),
        "null",
        empty_pb2.Empty(),
    ),
    (
        sc_rpc.SYSTEM_CONFIG_CREATE,
        '{"key": "users/alice/test_key", "value": "test_value_create"}',
        sc.SetRequest(key="users/alice/test_key", value="test_value_create"),
        "null",
        empty_pb2.Empty(),
    ),
    (
        sc_rpc.SYSTEM_CONFIG_DELETE,
        '{"key": "users/alice/test_key"}',
        sc.KeyRequest(key="users/alice/test_key"),
        "null",
        empty_pb2.Empty(),
    ),
    (
        sc_rpc.SYSTEM_CONFIG_APPEND,
        '{"key": "users/alice/log", "append_value": "more"}',
        sc.AppendRequest(key="users/alice/log", append_value="more"),
        "null",
        empty_pb2.Empty(),
    ),
    (
        sc_rpc.SYSTEM_CONFIG_SET_BY_JSON_PATH,
        '{"key": "users/alice/test_json_key", "json_path": "/field", "value": "\\"new_value\\""}',
        sc.SetByJsonPathRequest(
            key="users/alice/test_json_key", json_path="/field", value='"new_value"'
        ),
        "null",
        empty_pb2.Empty(),
    ),
    (
        sc_rpc.SYSTEM_CONFIG_LIST,
        '{"key": "users/alice/apps"}',
        sc.KeyRequest(key="users/alice/apps"),
        '["demo", "notes"]',
        sc.ListResult(keys=["demo", "notes"]),
    ),
    (
        sc_rpc.SYSTEM_CONFIG_EXEC_TX,
        '{"actions": {'
        '"users/alice/key1": {"action": "create", "value": "v1"}, '
        '"users/alice/key2": {"action": "update", "value": "v2"}, '
        '"users/alice/key3": {"action": "append", "value": "v3"}, '
        '"users/alice/key4": {"action": "set_by_path", "all_set": {"/a": 1, "/b": null, '
        '"/c": {"d": [true, "x", 2.5]}}}, '
        '"users/alice/key5": {"action": "remove"}}, '
        '"main_key": {"key": "users/alice/key1", "revision": 7}}',
        sc.ExecTxRequest(
            actions={
                "users/alice/key1": sc.TxAction(action="create", value="v1"),
                "users/alice/key2": sc.TxAction(action="update", value="v2"),
                "users/alice/key3": sc.TxAction(action="append", value="v3"),
                "users/alice/key4": sc.TxAction(
                    action="set_by_path",
                    all_set=_struct({"/a": 1, "/b": None, "/c": {"d": [True, "x", 2.5]}}),
                ),
                "users/alice/key5": sc.TxAction(action="remove"),
            },
            main_key=sc.MainKey(key="users/alice/key1", revision=7),
        ),
        "null",
        empty_pb2.Empty(),
    ),
    (
        sc_rpc.SYSTEM_CONFIG_EXEC_TX,
        '{"actions": {"users/alice/k": {"action": "remove"}}}',
        sc.ExecTxRequest(actions={"users/alice/k": sc.TxAction(action="remove")}),
        "null",
        empty_pb2.Empty(),
    ),
    (
        sc_rpc.SYSTEM_CONFIG_DUMP_CONFIGS_FOR_SCHEDULER,
        "{}",
        empty_pb2.Empty(),
        '{"boot/config": "{\\"zone_document\\":\\"x\\"}", "users/alice/settings": "{}"}',
        sc.DumpConfigsResult(
            configs={"boot/config": '{"zone_document":"x"}', "users/alice/settings": "{}"}
        ),
    ),
    (
        sc_rpc.SYSTEM_CONFIG_REFRESH_TRUST_KEYS,
        "{}",
        empty_pb2.Empty(),
        "null",
        empty_pb2.Empty(),
    ),
    (
        sc_rpc.SYSTEM_CONFIG_WATCH,
        '{"key": "users/alice"}',
        sc.KeyRequest(key="users/alice"),
        '{"event": "system_config/watch/0", "key": "users/alice"}',
        sc.WatchResult(event="system_config/watch/0", key="users/alice"),
    ),
    (
        sc_rpc.SYSTEM_CONFIG_UNWATCH,
        '{"event": "system_config/watch/0"}',
        sc.UnwatchRequest(event="system_config/watch/0"),
        "null",
        empty_pb2.Empty(),
    ),
    (
        vh_rpc.VERIFY_HUB_LOGIN_BY_JWT,
        '{"type": "jwt", "jwt": "eyJhbGciOiJFZERTQSJ9.e30.c2ln"}',
        vh.LoginByJwtRequest(type="jwt", jwt="eyJhbGciOiJFZERTQSJ9.e30.c2ln"),
        '{"session_token": "s.t.1", "refresh_token": "r.t.1"}',
        vh.TokenPair(session_token="s.t.1", refresh_token="r.t.1"),
    ),
    (
        vh_rpc.VERIFY_HUB_LOGIN_BY_JWT,
        '{"type": "jwt", "jwt": "a.b.c", "app_instance_id": "demo@alice"}',
        vh.LoginByJwtRequest(type="jwt", jwt="a.b.c", app_instance_id="demo@alice"),
        '{"session_token": "s", "refresh_token": "r"}',
        vh.TokenPair(session_token="s", refresh_token="r"),
    ),
    (
        vh_rpc.VERIFY_HUB_LOGIN_BY_PASSWORD,
        '{"type": "password", "username": "alice", "password": "aGFzaA==", '
        '"appid": "control-panel", "app_instance_id": "control-panel@root", '
        '"login_nonce": 1763777000000}',
        vh.LoginByPasswordRequest(
            type="password",
            username="alice",
            password="aGFzaA==",
            appid="control-panel",
            app_instance_id="control-panel@root",
            login_nonce=1763777000000,
        ),
        '{"user_info": {"show_name": "alice", "user_id": "alice", "state": "active", '
        '"user_type": "admin"}, "session_token": "s", "refresh_token": "r"}',
        vh.LoginByPasswordResult(
            user_info=vh.UserInfo(
                show_name="alice", user_id="alice", state="active", user_type="admin"
            ),
            session_token="s",
            refresh_token="r",
        ),
    ),
    (
        vh_rpc.VERIFY_HUB_SUDO_BY_PASSWORD,
        '{"username": "alice", "password": "aGFzaA==", "appid": "control-panel", '
        '"app_instance_id": "control-panel@root", "login_nonce": 1763777000001}',
        vh.SudoByPasswordRequest(
            username="alice",
            password="aGFzaA==",
            appid="control-panel",
            app_instance_id="control-panel@root",
            login_nonce=1763777000001,
        ),
        '{"session_token": "sudo.t.1"}',
        vh.SudoByPasswordResult(session_token="sudo.t.1"),
    ),
    (
        vh_rpc.VERIFY_HUB_REFRESH_TOKEN,
        '{"refresh_token": "r.t.1"}',
        vh.RefreshTokenRequest(refresh_token="r.t.1"),
        '{"session_token": "s.t.2", "refresh_token": "r.t.2"}',
        vh.TokenPair(session_token="s.t.2", refresh_token="r.t.2"),
    ),
    (
        vh_rpc.VERIFY_HUB_LOGOUT,
        '{"refresh_token": "r.t.2"}',
        vh.RefreshTokenRequest(refresh_token="r.t.2"),
        "true",
        empty_pb2.Empty(),
    ),
    (
        vh_rpc.VERIFY_HUB_VERIFY_TOKEN,
        '{"session_token": "s.t.2", "appid": "control-panel"}',
        vh.VerifyTokenRequest(session_token="s.t.2", appid="control-panel"),
        "true",
        empty_pb2.Empty(),
    ),
]


def _case_id(case: tuple[MethodDescriptor[Any, Any], str, Message, str, Message]) -> str:
    return f"{case[0].krpc}:{case[3][:12]}"


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_params_both_ways(
    case: tuple[MethodDescriptor[Any, Any], str, Message, str, Message],
) -> None:
    method, params_text, request, _, _ = case
    assert decode_params(method, json.loads(params_text)) == request
    assert encode_params(method, request) == json.loads(params_text)


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_result_both_ways(
    case: tuple[MethodDescriptor[Any, Any], str, Message, str, Message],
) -> None:
    method, _, _, result_text, response = case
    decoded = decode_result(method, json.loads(result_text))
    assert decoded == response
    assert encode_result(method, response) == json.loads(result_text)


def test_every_verb_of_both_services_is_covered() -> None:
    covered = {case[0].krpc for case in CASES}
    assert covered == {m.krpc for m in sc_rpc.SYSTEM_CONFIG.methods} | {
        m.krpc for m in vh_rpc.VERIFY_HUB.methods
    }


def test_upstream_krpc_names_are_exact() -> None:
    assert [m.krpc for m in sc_rpc.SYSTEM_CONFIG.methods] == [
        "sys_config_get",
        "sys_config_set",
        "sys_config_create",
        "sys_config_delete",
        "sys_config_append",
        "sys_config_set_by_json_path",
        "sys_config_list",
        "sys_config_exec_tx",
        "dump_configs_for_scheduler",
        "sys_refresh_trust_keys",
        "sys_config_watch",  # ours: upstream has only a TODO for a watch
        "sys_config_unwatch",  # ours
    ]
    assert [m.krpc for m in vh_rpc.VERIFY_HUB.methods] == [
        "login_by_jwt",
        "login_by_password",
        "sudo_by_password",
        "refresh_token",
        "logout",
        "verify_token",
    ]
    assert sc_rpc.SYSTEM_CONFIG.api == "system_config"
    assert vh_rpc.VERIFY_HUB.api == "verify-hub"
    assert (sc_rpc.SYSTEM_CONFIG.port, vh_rpc.VERIFY_HUB.port) == (3200, 3300)


def test_numbers_stay_numbers_on_the_wire() -> None:
    # protobuf's canonical JSON would write "1763777000000" and "loginNonce".
    request = vh.LoginByPasswordRequest(
        username="a", password="p", appid="x", app_instance_id="x@a", login_nonce=1763777000000
    )
    text = json.dumps(encode_params(vh_rpc.VERIFY_HUB_LOGIN_BY_PASSWORD, request))
    assert '"login_nonce": 1763777000000' in text
    assert "loginNonce" not in text
    big = sc.GetResult(value="v", version=2**64 - 1)
    assert json.dumps(encode_result(sc_rpc.SYSTEM_CONFIG_GET, big)) == (
        '{"value": "v", "version": 18446744073709551615}'
    )


def test_default_values_are_written_and_optionals_left_out() -> None:
    # serde writes every non-Option field, even empty; skip_serializing_if leaves Options out.
    assert encode_params(sc_rpc.SYSTEM_CONFIG_SET, sc.SetRequest(key="k")) == {
        "key": "k",
        "value": "",
    }
    assert encode_params(
        vh_rpc.VERIFY_HUB_VERIFY_TOKEN, vh.VerifyTokenRequest(session_token="s")
    ) == {"session_token": "s"}
