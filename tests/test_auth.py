"""The auth expression grammar: every node, precedence, round trip, errors."""

from __future__ import annotations

import pytest

from buckyos.runtime.auth import (
    And,
    Loa,
    No,
    Not,
    Or,
    Permission,
    Token,
    Yes,
    needs_token,
    parse_auth,
    placeholders,
)
from buckyos.runtime.errors import ContractError


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("", Yes()),
        ("yes", Yes()),
        ("NO", No()),
        ("token", Token()),
        ("check-token", Token()),
        ("loa>=2", Loa(2)),
        ("loa >= 3", Loa(3)),
        ("loa 1", Loa(1)),
        ("obj://config/{key}:read", Permission.of("obj://config/{key}", "read")),
        ("urn:AGL:permission:x:write", Permission.of("urn:AGL:permission:x", "write")),
        ("loadavg:read", Permission.of("loadavg", "read")),
        ("a:x or b:y and c:z", Or(Permission.of("a", "x"), And(Permission.of("b", "y"), Permission.of("c", "z")))),
        ("not a:x and b:y", And(Not(Permission.of("a", "x")), Permission.of("b", "y"))),
        ("not (a:x or b:y)", Not(Or(Permission.of("a", "x"), Permission.of("b", "y")))),
        ("(token and loa>=1) or no", Or(And(Token(), Loa(1)), No())),
        ("not not yes", Not(Not(Yes()))),
    ],
)  # fmt: skip
def test_parse(text: str, tree: object) -> None:
    node = parse_auth(text)
    assert node == tree
    assert parse_auth(str(node)) == node  # canonical text round-trips


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("token and", "expression ends too early at the end"),
        ("(token", "missing ')' at the end"),
        ("token)", "unexpected ')' (missing 'and' or 'or'?) at column 6"),
        (")", "unexpected ')' at column 1"),
        ("token token", "unexpected 'token' (missing 'and' or 'or'?) at column 7"),
        ("admin", "'admin' is not a permission"),
        ("loa>=4", "LOA level 4 is above 3 at column 1"),
        ("obj://{1bad}:read", "placeholder {1bad}"),
        ("x/{a:read", "unbalanced brace"),
        ("obj://x:read/more", "is not a permission"),
        ("and", "'and' needs an operand"),
    ],
)
def test_errors_say_where_and_what(text: str, message: str) -> None:
    with pytest.raises(ContractError) as err:
        parse_auth(text)
    assert message in str(err.value)
    assert repr(text) in str(err.value)


def test_helpers() -> None:
    tree = parse_auth("loa>=1 and (obj://a/{x}/{y}:read or obj://b/{x}:write)")
    assert placeholders(tree) == ("x", "y")
    assert needs_token(tree)
    assert not needs_token(parse_auth("loa>=1 or yes"))
    perm = Permission.of("obj://config/{key}/{n}", "read")
    assert perm.fill({"key": "users/alice", "n": 3}) == "obj://config/users/alice/3"
