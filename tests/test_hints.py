"""Errors that say what to do without changing a wire text; one URL form for gRPC; options
anywhere in a subcommand; did-you-mean (issue 16, items 5 and 7).

The refusal hints against a real zone are in ``tests/test_cli_users.py``; here the pieces:
the hint is in ``str`` and never in ``text`` (what every server sends), the causes the
hints name, ``GrpcTransport("grpc://...")`` against a real gRPC server, and the parsing.
"""

from __future__ import annotations

import pytest

from buckyos.cli.call import did_you_mean, known_services, suggestion
from buckyos.cli.main import build_parser
from buckyos.generated.system_config_rpc import SystemConfigStub
from buckyos.runtime import (
    ConfigError,
    NoPermissionError,
    ReasonError,
    UnknownMethodError,
)
from buckyos.runtime.client import GrpcTransport
from buckyos.runtime.client.grpc_client import grpc_target
from buckyos.runtime.errors import error_from_text
from buckyos.runtime.program.refusals import expired_message, permission_hint, token_hint
from tests.wire_fixtures import GOOD_TOKEN, FakeDispatcher, ServerThread


def test_a_hint_is_in_str_and_never_in_the_wire_text() -> None:
    error = NoPermissionError("No read permission")
    assert error.with_hint("read of k refused") is error
    assert error.text == "No permission:No read permission"
    assert str(error) == "No permission:No read permission; read of k refused"
    error.with_hint("a second hint")  # the first one stays
    assert str(error) == "No permission:No read permission; read of k refused"
    assert error == NoPermissionError("No read permission")  # equality: the wire's
    assert error_from_text(error.text) == error
    assert str(ReasonError("x").with_hint(None)) == "Failed due to reason: x"


def test_permission_hints_name_the_cause() -> None:
    def hint(key: str, krpc: str = "sys_config_get", app: str = "my-app") -> str:
        return permission_hint("system_config", krpc, key, "No read permission", "alice", app)

    assert hint("").endswith("only the zone owner (`buckyos login --owner`; a program: a "
                             "token signed with the owner's key) reads the whole tree")  # fmt: skip
    assert "'my-app' has no role in the zone's RBAC policy" in hint("boot/config")
    assert hint("users/bob/settings").endswith("reaches only its own subtree users/alice/")
    assert "reaches only users/alice/apps/my-app/ (app 'todo'" in hint(
        "users/alice/apps/todo/settings"
    )
    assert "check the key" in hint("users/alice/apps/my-app/setting")
    assert "its own app key" in hint("users/alice/apps/my-app/settings")
    written = permission_hint(
        "system_config",
        "sys_config_exec_tx",
        None,
        "No write permission for key: system/rbac/policy",
        "alice",
        "my-app",
    )
    assert written.startswith("write of system/rbac/policy refused for user 'alice'")
    other = permission_hint("notes", "get_note", None, "No permission", "bob", "notes")
    assert other == "refused for user 'bob', app 'notes' by notes's RBAC policy"


def test_token_hints_only_for_given_tokens() -> None:
    env = "env BUCKYOS_APPCLIENT_SESSION_TOKEN"
    assert token_hint("verify-hub", 100, 200.0, True) is None
    assert token_hint("self-signed", 100, 200.0, True) is None
    assert expired_message(env, 0, 7200.0) == (
        "the session token in $BUCKYOS_APPCLIENT_SESSION_TOKEN expired at 1970-01-01 00:00:00 "
        "UTC (2 h ago); log in again or unset BUCKYOS_APPCLIENT_SESSION_TOKEN"
    )
    assert token_hint("explicit", 100, 50.0, False) == (
        "the session token passed as session_token= was refused (nothing fell back to another "
        "identity); pass a fresh one"
    )


def test_grpc_transport_takes_the_url_form_service_urls_takes() -> None:
    dispatcher = FakeDispatcher()
    with ServerThread(dispatcher) as info:
        assert info.grpc_target is not None
        for target in (f"grpc://{info.grpc_target}", info.grpc_target):
            with GrpcTransport(target, token=GOOD_TOKEN) as transport:
                stub = SystemConfigStub(transport)
                stub.Set(key="k", value=target)
                assert stub.Get(key="k").value == target
    assert grpc_target("grpc://127.0.0.1:3201") == "127.0.0.1:3201"
    assert grpc_target("grpc://[::1]:3201/") == "[::1]:3201"
    assert grpc_target("dns:///example.com:443") == "dns:///example.com:443"
    with pytest.raises(ConfigError, match="is a kRPC URL, not a gRPC endpoint"):
        GrpcTransport("http://127.0.0.1:3200")
    with pytest.raises(ConfigError, match="expected grpc://host:port"):
        GrpcTransport("grpc://127.0.0.1:3201/kapi/system_config")


def test_options_go_anywhere_among_the_arguments() -> None:
    parser = build_parser()
    args = parser.parse_args(
        ["call", "system_config", "sys_config_get", "--no-token", '{"key": "k"}', "--timeout", "3"]
    )
    assert args.params == '{"key": "k"}' and args.no_token and args.timeout == 3.0
    listing = parser.parse_args(["sys-config", "list", "--json", "users"])
    assert listing.key == "users" and listing.json
    top = parser.parse_args(["sys-config", "list", "--timeout", "2"])
    assert top.key == "" and top.timeout == 2.0
    with pytest.raises(SystemExit):
        parser.parse_args(["call", "system_config", "m", "{}", "extra"])


def test_did_you_mean_from_the_known_contracts() -> None:
    known = known_services()
    assert set(known) == {"system_config", "verify-hub"}
    assert did_you_mean("sys_config_gte", known["system_config"].by_krpc) == "sys_config_get"
    assert did_you_mean("zzz", known) is None
    unknown = UnknownMethodError("sys_config_gte")
    assert suggestion("system_config", "sys_config_gte", unknown, known) == (
        "did you mean sys_config_get?"
    )
    assert suggestion("verify_hub", "login_by_jwt", ReasonError("x"), known) == (
        "did you mean verify-hub?"
    )
    assert suggestion("system_config", "no_such_method", unknown, known) is None
    assert suggestion("notes", "x", unknown, known) is None
