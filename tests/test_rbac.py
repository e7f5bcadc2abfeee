"""RBAC: upstream's own test vectors, replayed, plus the pycasbin-vs-casbin-rs gaps."""

from __future__ import annotations

import functools
import json
import os
import threading
from pathlib import Path
from typing import Any

import pytest

from buckyos.runtime.errors import ContractError, NoPermissionError
from buckyos.runtime.security.rbac import (
    DEFAULT_RBAC_MODEL,
    DEFAULT_RBAC_POLICY,
    KERNEL_APP_ID,
    RbacEnforcer,
    is_allowed,
    key_get3,
    key_match3,
    overlap_rbac_policy,
    regex_match,
    sudo_user_id,
)

# --------------------------------------------------------------------------- vectors

_VECTORS_NAME = "upstream-rbac-vectors.json"
_EXPECTED_CASES = 87


def _vectors_path() -> Path:
    here = Path(__file__).resolve()
    candidates = [
        Path(os.environ["BUCKYOS_RBAC_VECTORS"]) if "BUCKYOS_RBAC_VECTORS" in os.environ else None,
        here.parent / "data" / _VECTORS_NAME,
        here.parents[2] / "shared" / "data" / _VECTORS_NAME,
    ]
    for candidate in candidates:
        if candidate is not None and candidate.is_file():
            return candidate
    raise FileNotFoundError(f"{_VECTORS_NAME} not found; tried {candidates}")


VECTORS: dict[str, Any] = json.loads(_vectors_path().read_text(encoding="utf-8"))
GROUPS: list[dict[str, Any]] = VECTORS["groups"]
CASES: list[tuple[int, int]] = [
    (group_index, case_index)
    for group_index, group in enumerate(GROUPS)
    for case_index in range(len(group["cases"]))
]


def _case_id(group_index: int, case_index: int) -> str:
    group = GROUPS[group_index]
    case = group["cases"][case_index]
    name = group["test"]
    if "variant" in group:
        name += f"[{group['variant'].split(' ', 1)[0]}]"
    sudo = "+sudo" if case["sudo"] else ""
    verdict = "allow" if case["expect"] else "deny"
    return (
        f"{name}#{case_index}:{case['user']}{sudo}@{case['app']}"
        f":{case['act']}:{case['res']}->{verdict}"
    )


@functools.cache
def _group_enforcer(group_index: int) -> RbacEnforcer:
    """The enforcer a group ran under upstream: its model, and its policy."""
    group = GROUPS[group_index]
    model = DEFAULT_RBAC_MODEL if group["model"] == "default" else group["model"]
    if group["policy"] == "default+tail":
        assert group["model"] == "default"
        return RbacEnforcer(model, DEFAULT_RBAC_POLICY, tail=group["policy_tail"])
    assert group["policy"] == "custom", group["policy"]
    return RbacEnforcer(model, group["custom_policy"])


def _request_order(model: str) -> list[str]:
    for line in model.splitlines():
        name, _, value = line.partition("=")
        if name.strip() == "r":
            return [token.strip() for token in value.split(",")]
    raise AssertionError("model has no request definition")


def test_vector_file_holds_every_upstream_case() -> None:
    assert len(CASES) == _EXPECTED_CASES
    assert sum(len(group["cases"]) for group in GROUPS) == _EXPECTED_CASES
    assert all(group["cases"] for group in GROUPS)
    assert {group["call"] for group in GROUPS} == {"rbac_enforce", "raw_enforcer"}


def test_default_texts_are_upstreams() -> None:
    assert DEFAULT_RBAC_MODEL.strip() == VECTORS["model"].strip()
    assert DEFAULT_RBAC_POLICY.strip() == VECTORS["default_policy"].strip()


def test_base_crate_groups_use_the_base_crate_texts() -> None:
    base = [group for group in GROUPS if group["source"] == "buckyos-base"]
    enforce_groups = [group for group in base if group["call"] == "rbac_enforce"]
    assert enforce_groups
    for group in enforce_groups:
        assert group["model"].strip() == VECTORS["base_crate_model"].strip()
        assert (
            group["custom_policy"].strip().startswith(VECTORS["base_crate_default_policy"].strip())
        )


@pytest.mark.parametrize(("group_index", "case_index"), CASES, ids=[_case_id(*c) for c in CASES])
def test_upstream_vector(group_index: int, case_index: int) -> None:
    group = GROUPS[group_index]
    case = group["cases"][case_index]
    enforcer = _group_enforcer(group_index)
    if group["call"] == "raw_enforcer":
        # A direct Enforcer::enforce call, values in the model's own request order.
        by_name = {"sub": case["user"], "obj": case["res"], "act": case["act"]}
        request = [by_name[token] for token in _request_order(group["model"])]
        assert enforcer.enforce_raw(*request) is case["expect"]
        return
    assert group["call"] == "rbac_enforce"
    sudo = case["sudo"] is not None
    if sudo:
        assert case["sudo"] == sudo_user_id(case["user"])
    # Upstream's semantics: app "kernel" skips the user check whoever signed the token.
    got = enforcer.enforce(
        case["user"], case["app"], case["res"], case["act"], sudo=sudo, trusted=True
    )
    assert got is case["expect"], case["note"]


def test_overlap_rbac_policy_upstream_assertion() -> None:
    assert (
        overlap_rbac_policy("p, root, obj://config/*, read|write,allow", "g, alice, admin")
        == "p, root, obj://config/*, read|write,allow\ng, alice, admin"
    )
    assert overlap_rbac_policy("  \n", "\ng, a, b\n") == "g, a, b"
    assert overlap_rbac_policy("\np, a, b, c, allow\n", " \n") == "p, a, b, c, allow"


def test_current_config_uses_default_model_and_policy() -> None:
    # upstream build_current_rbac_config("g, alice, admin\n")
    enforcer = RbacEnforcer(tail="g, alice, admin\n")
    assert "[request_definition]" in enforcer.model
    assert 'p.act == "all"' in enforcer.model
    assert "p, root, obj://*, all,allow" in enforcer.policy
    assert enforcer.policy.endswith("g, alice, admin")
    assert enforcer.policy_tail == "g, alice, admin"
    assert enforcer.policy == DEFAULT_RBAC_POLICY + "\ng, alice, admin"


# --------------------------------------------------------------------------- casbin-rs functions

# casbin-rs src/model/function_map.rs, test_key_match3 (incl. GH issue #282).
KEY_MATCH3_RS = [
    ("/foo/bar", "/foo/*", True),
    ("/foo/bar/baz", "/foo/*", True),
    ("/foo/baz", "/foo/{bar}", True),
    ("/foo/baz/foo", "/foo/{bar}/foo", True),
    ("/baz", "/foo", False),
    ("/foo/bar", "/foo/{}", True),
    ("/foo/{}", "/foo/{}", True),
    ("/foo/bar/baz", "/foo/{}", False),
    ("/foo/bar", "/foo/{}/baz", False),
    ("/foo/bar/baz", "/foo/{}/baz", True),
    # Two placeholders in one segment are one greedy \{[^/]*\} piece, i.e. one [^/]+.
    ("/t/x_y", "/t/{p}_{q}", True),
    ("/t/x_", "/t/{p}_{q}", True),
    ("/t/_", "/t/{p}_{q}", True),
    ("/t/x/y", "/t/{p}_{q}", False),
    # A placeholder is one segment, "/*" any depth.
    ("obj://config/agents/foo/bar/doc", "obj://config/agents/{agent}/doc", False),
    ("obj://config/agents/foo/bar/doc", "obj://config/agents/*/doc", True),
    # Rust's "$" is the end of the text: no match before a trailing newline.
    ("obj://config/x\n", "obj://*", False),
    # ...but [^/] takes a newline in Rust too: the enforcer refuses control characters.
    ("/foo/baz\n", "/foo/{bar}", True),
]


@pytest.mark.parametrize(("key", "pattern", "expected"), KEY_MATCH3_RS)
def test_key_match3_matches_casbin_rs(key: str, pattern: str, expected: bool) -> None:
    assert key_match3(key, pattern) is expected


# casbin-rs src/model/function_map.rs, test_key_get3.
KEY_GET3_RS = [
    ("/foo", "/foo", "id", ""),
    ("/foo", "/foo*", "id", ""),
    ("/foo", "/foo/*", "id", ""),
    ("/foo/bar", "/foo", "id", ""),
    ("/foo/bar", "/foo*", "id", ""),
    ("/foo/bar", "/foo/*", "id", ""),
    ("/foobar", "/foo", "id", ""),
    ("/foobar", "/foo*", "id", ""),
    ("/foobar", "/foo/*", "id", ""),
    ("/", "/{resource}", "resource", ""),
    ("/resource1", "/{resource}", "resource", "resource1"),
    ("/myid", "/{id}/using/{resId}", "id", ""),
    ("/myid/using/myresid", "/{id}/using/{resId}", "id", "myid"),
    ("/myid/using/myresid", "/{id}/using/{resId}", "resId", "myresid"),
    ("/proxy/myid", "/proxy/{id}/*", "id", ""),
    ("/proxy/myid/", "/proxy/{id}/*", "id", "myid"),
    ("/proxy/myid/res", "/proxy/{id}/*", "id", "myid"),
    ("/proxy/myid/res/res2", "/proxy/{id}/*", "id", "myid"),
    ("/proxy/myid/res/res2/res3", "/proxy/{id}/*", "id", "myid"),
    ("/proxy/myid/res/res2/res3", "/proxy/{id}/res/*", "id", "myid"),
    ("/proxy/", "/proxy/{id}/*", "id", ""),
    ("/api/group1_group_name/project1_admin/info", "/api/{proj}_admin/info", "proj", ""),
    # Lazy captures, one per placeholder, even within one segment.
    ("/t/ab_cd_ef", "/t/{p}_{q}", "p", "ab"),
    ("/t/ab_cd_ef", "/t/{p}_{q}", "q", "cd_ef"),
    ("obj://config/users/bob/profile", "obj://config/users/{users}/profile", "users", "bob"),
    ("obj://config/users/bob/profile\n", "obj://config/users/{users}/profile", "users", ""),
]


@pytest.mark.parametrize(("key", "pattern", "path_var", "expected"), KEY_GET3_RS)
def test_key_get3_matches_casbin_rs(key: str, pattern: str, path_var: str, expected: str) -> None:
    assert key_get3(key, pattern, path_var) == expected


@pytest.mark.parametrize(
    ("key", "pattern", "expected"),
    [
        ("overwrite", "read|write", True),  # unanchored, as Rust's Regex::is_match
        ("foobar", "^foo*", True),
        ("barfoo", "^foo*", False),
        ("delete", "read|write", False),
        ("read", "(", False),  # invalid pattern: no match (upstream would panic)
    ],
)
def test_regex_match_searches_like_rust(key: str, pattern: str, expected: bool) -> None:
    assert regex_match(key, pattern) is expected


# --------------------------------------------------------------------------- enforcer semantics

_KERNEL_RW = (
    "p, kernel, obj://config/*, read|write,allow\np, root, obj://config/*, read|write,allow"
)


def test_regex_action_is_unanchored_in_the_enforcer() -> None:
    enforcer = RbacEnforcer(DEFAULT_RBAC_MODEL, _KERNEL_RW)
    # casbin-rs: "overwrite" contains "write"; stock pycasbin (re.match) would deny.
    assert enforcer.enforce("root", "kernel", "obj://config/foo", "overwrite") is True
    assert enforcer.enforce("root", "kernel", "obj://config/foo", "delete") is False


def test_key_match3_placeholders_in_the_enforcer() -> None:
    policy = "p, kernel, obj://a/{}/b, read, allow\np, kernel, obj://t/{p}_{q}, read, allow"
    enforcer = RbacEnforcer(DEFAULT_RBAC_MODEL, policy)
    check = functools.partial(enforcer.enforce, "root", "kernel", action="read", trusted=True)
    assert check(resource="obj://a/x/b") is True
    assert check(resource="obj://a/x/y/b") is False
    assert check(resource="obj://t/x_") is True
    assert check(resource="obj://t/x/y") is False


@pytest.mark.parametrize(
    "resource",
    [
        "obj://config/x\n",
        "obj://config/x\r",
        "obj://config\n/x",
        "obj://config/\x00x",
        "obj://\x7f",
    ],
)
def test_control_characters_are_refused(resource: str) -> None:
    enforcer = RbacEnforcer()
    assert enforcer.enforce("root", "kernel", "obj://config/x", "read") is True
    assert enforcer.enforce("root", "kernel", resource, "read") is False
    assert enforcer.enforce_raw("kernel", resource, "read") is False


def test_control_characters_in_action_and_subject_are_refused() -> None:
    enforcer = RbacEnforcer()
    assert enforcer.enforce("root", "kernel", "obj://config/x", "read\n") is False
    assert enforcer.enforce("root\n", "node-daemon", "obj://config/x", "read") is False
    assert enforcer.enforce("root", "node-daemon", "obj://config/x", "read") is True


def test_first_matching_rule_decides() -> None:
    deny_first = "p, kernel, obj://s/*, all, deny\np, kernel, obj://*, all, allow"
    allow_first = "p, kernel, obj://*, all, allow\np, kernel, obj://s/*, all, deny"
    first, then = RbacEnforcer(policy=deny_first), RbacEnforcer(policy=allow_first)
    assert first.enforce("u", None, "obj://s/key", "read", trusted=True) is False
    assert first.enforce("u", None, "obj://t/key", "read", trusted=True) is True
    assert then.enforce("u", None, "obj://s/key", "read", trusted=True) is True
    # Nothing matching denies.
    assert first.enforce("u", None, "dfs://x", "read", trusted=True) is False


def test_literal_kernel_skips_the_user_check_only_when_trusted() -> None:
    enforcer = RbacEnforcer(tail="g, bob, users")
    resource = "obj://config/system/verify-hub/key"
    # "nobody" has no rule at all: a zone-trusted token for app kernel needs none.
    assert enforcer.enforce("nobody", KERNEL_APP_ID, resource, "write", trusted=True) is True
    assert enforcer.enforce("nobody", None, resource, "write", trusted=True) is True  # None: kernel
    # Any other token claiming app kernel (the default) gets its user's rights, no more.
    assert enforcer.enforce("nobody", KERNEL_APP_ID, resource, "write") is False
    assert enforcer.enforce("nobody", None, resource, "write") is False
    assert enforcer.enforce("bob", KERNEL_APP_ID, resource, "write") is False
    assert (
        enforcer.enforce("bob", KERNEL_APP_ID, "obj://config/users/alice/settings", "read") is False
    )
    assert enforcer.enforce("bob", KERNEL_APP_ID, "obj://config/users/bob/profile", "write") is True
    with pytest.raises(NoPermissionError, match="userid:bob,appid:kernel,"):
        enforcer.check("bob", KERNEL_APP_ID, resource, "write")
    enforcer.check("bob", KERNEL_APP_ID, resource, "write", trusted=True)
    # trusted changes nothing for any other app, and never lifts the app check.
    assert (
        enforcer.enforce("bob", "notes", "obj://config/users/bob/profile", "write", trusted=True)
        is False
    )
    assert enforcer.enforce("root", "kernel", "obj://config/x", "read", trusted=True) is True
    assert enforcer.enforce("nobody", "gallery", "obj://config/x", "read", trusted=True) is False
    # node-daemon is in the kernel group: the app side passes, the user side still runs.
    assert enforcer.enforce_raw("node-daemon", resource, "write") is True
    assert enforcer.enforce("nobody", "node-daemon", resource, "write") is False
    assert enforcer.enforce("root", "node-daemon", resource, "write") is True


def test_sudo_checks_the_su_subject() -> None:
    enforcer = RbacEnforcer(tail="g, alice, admin\ng, su_alice, su_admin\ng, bob, users")
    secret = "obj://config/security/dvlocal/key"
    assert sudo_user_id("alice") == "su_alice"
    assert enforcer.enforce("alice", "buckycli", secret, "read") is False
    assert enforcer.enforce("alice", "buckycli", secret, "read", sudo=True) is True
    # bob has no su_ role: sudo gives nothing.
    assert enforcer.enforce("bob", "buckycli", secret, "read", sudo=True) is False
    # sudo replaces the user subject rather than adding to it: su_alice is not admin.
    own_profile = "obj://config/users/alice/profile"
    assert enforcer.enforce("alice", "buckycli", own_profile, "write") is True
    sudo_only = RbacEnforcer(tail="g, alice, admin\ng, su_alice, nothing")
    assert sudo_only.enforce("alice", "buckycli", own_profile, "write") is True
    assert sudo_only.enforce("alice", "buckycli", own_profile, "write", sudo=True) is False
    # The app side is unchanged by sudo.
    assert enforcer.enforce("alice", "gallery", secret, "read", sudo=True) is False


def test_check_raises_upstreams_no_permission_text() -> None:
    enforcer = RbacEnforcer(tail="g, bob, users")
    enforcer.check("bob", "buckycli", "obj://config/users/bob/profile", "write")
    with pytest.raises(NoPermissionError) as info:
        enforcer.check("bob", "buckycli", "obj://config/users/alice/profile", "write")
    assert str(info.value) == (
        "No permission:enforce failed,userid:bob,appid:buckycli,"
        "resource:obj://config/users/alice/profile,action:write"
    )
    with pytest.raises(NoPermissionError) as info:
        enforcer.check("bob", None, "dfs://x\n", "read")
    assert (
        info.value.detail
        == "enforce failed,userid:bob,appid:kernel,resource:dfs://x\\x0a,action:read"
    )


# --------------------------------------------------------------------------- policy changes


def test_cache_is_invalidated_when_the_tail_changes() -> None:
    enforcer = RbacEnforcer(tail="g, bob, users")
    resource = "obj://config/users/bob/profile"
    generation = enforcer.generation
    assert enforcer.enforce("bob", "buckycli", resource, "write") is True
    assert enforcer.enforce("bob", "buckycli", resource, "write") is True  # from the cache
    enforcer.set_policy_tail("")
    assert enforcer.generation == generation + 1
    assert enforcer.policy_tail == ""
    assert enforcer.enforce("bob", "buckycli", resource, "write") is False
    enforcer.set_policy_tail("g, bob, users\n")
    assert enforcer.generation == generation + 2
    assert enforcer.enforce("bob", "buckycli", resource, "write") is True


def test_cache_is_invalidated_on_reload() -> None:
    enforcer = RbacEnforcer()
    assert enforcer.enforce("root", "kernel", "obj://config/foo", "delete") is True
    enforcer.reload(DEFAULT_RBAC_MODEL, _KERNEL_RW)
    assert enforcer.enforce("root", "kernel", "obj://config/foo", "delete") is False
    assert enforcer.enforce("root", "kernel", "obj://config/foo", "write") is True
    assert enforcer.policy == _KERNEL_RW


def test_a_malformed_tail_keeps_the_current_policy() -> None:
    enforcer = RbacEnforcer(tail="g, bob, users")
    generation = enforcer.generation
    with pytest.raises(ContractError):
        enforcer.set_policy_tail("g, bob")
    assert enforcer.generation == generation
    assert enforcer.policy_tail == "g, bob, users"
    assert enforcer.enforce("bob", "buckycli", "obj://config/users/bob/profile", "write") is True


def test_cache_is_bounded() -> None:
    enforcer = RbacEnforcer(cache_size=3)
    for index in range(20):
        expected = index % 2 == 0
        resource = f"obj://config/{index}" if expected else f"dfs://{index}"
        assert enforcer.enforce("nobody", "kernel", resource, "read", trusted=True) is expected
    assert len(enforcer._cache) == 3  # white-box: the bound holds


def test_long_requests_are_decided_but_not_cached() -> None:
    """Resources come from callers: caching 1 MiB keys would hold cache_size MiB."""
    enforcer = RbacEnforcer()
    long_key = "obj://config/users/alice/" + "x" * 2000
    assert enforcer.enforce("alice", "buckycli", long_key, "read") is False  # alice: no role
    assert enforcer.enforce("root", "kernel", long_key, "read", trusted=True) is True
    assert enforcer.enforce("root", "kernel", long_key, "read", trusted=True) is True  # again
    assert len(enforcer._cache) == 0  # white-box: nothing of it was kept
    assert enforcer.enforce("root", "kernel", "obj://config/x", "read", trusted=True) is True
    assert len(enforcer._cache) == 1


def test_decisions_stay_consistent_while_the_tail_changes() -> None:
    enforcer = RbacEnforcer(tail="g, bob, users")
    errors: list[str] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            if not enforcer.enforce("root", "node-daemon", "obj://config/boot/x", "read"):
                errors.append("root denied")
            if enforcer.enforce("bob", "buckycli", "obj://config/users/alice/x", "read"):
                errors.append("bob allowed on alice")

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for thread in threads:
        thread.start()
    for index in range(30):
        enforcer.set_policy_tail("g, bob, users" if index % 2 else "g, alice, admin")
    stop.set()
    for thread in threads:
        thread.join()
    assert errors == []
    assert enforcer.generation == 30


def test_is_allowed_uses_the_default_policy_plus_tail() -> None:
    resource = "obj://config/users/bob/profile"
    assert is_allowed("bob", "buckycli", resource, "write", policy_tail="g, bob, users") is True
    assert is_allowed("bob", "buckycli", resource, "write") is False
    assert is_allowed("bob", "kernel", resource, "write") is False  # bob has no role
    assert is_allowed("bob", "kernel", resource, "write", trusted=True) is True


# --------------------------------------------------------------------------- malformed input


@pytest.mark.parametrize(
    ("tail", "number", "line"),
    [
        ("g, alice, admin\n\nx, foo, bar", 3, "x, foo, bar"),
        ("# comment\np, a, obj://x", 2, "p, a, obj://x"),
        ("g, alice", 1, "g, alice"),
        ("g, alice, admin, extra", 1, "g, alice, admin, extra"),
        ("\n\n\np, a, , read, allow", 4, "p, a, , read, allow"),
        ("p, a, obj://x, read, permit", 1, "p, a, obj://x, read, permit"),
        ("p a obj://x read allow", 1, "p a obj://x read allow"),
    ],
)
def test_malformed_tail_line_is_named(tail: str, number: int, line: str) -> None:
    with pytest.raises(ContractError) as info:
        RbacEnforcer(tail=tail)
    message = str(info.value)
    assert f"policy tail line {number}:" in message
    assert repr(line) in message


def test_malformed_base_policy_line_is_named() -> None:
    with pytest.raises(ContractError, match=r"RBAC policy line 2: .*'g, only'"):
        RbacEnforcer(policy="p, a, obj://x, read, allow\ng, only")


def test_grouping_rule_without_role_definition_is_refused() -> None:
    model = "\n".join(line for line in DEFAULT_RBAC_MODEL.splitlines() if line != "g = _, _")
    model = model.replace("[role_definition]\n", "").replace(
        "(g(r.sub, p.sub) || r.sub == p.sub)", "r.sub == p.sub"
    )
    enforcer = RbacEnforcer(model, "p, kernel, obj://*, all, allow")
    assert enforcer.enforce("u", None, "obj://a", "r", trusted=True)
    with pytest.raises(ContractError, match="line 1"):
        RbacEnforcer(model, "g, a, b")


def test_malformed_model_is_a_contract_error() -> None:
    with pytest.raises(ContractError, match="model"):
        RbacEnforcer("garbage", "")


def test_comments_blank_lines_and_spacing_are_ignored() -> None:
    policy = "\r\n  # a comment\r\n\t p ,kernel,  obj://c/* ,read ,allow  \r\n\n   \n"
    enforcer = RbacEnforcer(policy=policy)
    assert enforcer.enforce("u", None, "obj://c/x", "read", trusted=True) is True
    assert enforcer.enforce("u", None, "obj://c/x", "write", trusted=True) is False


def test_an_evaluation_error_denies() -> None:
    # Upstream logs "enforce error" and returns false.
    model = DEFAULT_RBAC_MODEL.replace("keyMatch3(r.obj,p.obj)", "noSuchFunction(r.obj)")
    enforcer = RbacEnforcer(model, "p, kernel, obj://*, all, allow")
    assert enforcer.enforce("root", "kernel", "obj://x", "read") is False
    assert RbacEnforcer().enforce("root", "kernel", "obj://x", "read") is True


def test_roles_of_follows_groups_and_the_tail() -> None:
    enforcer = RbacEnforcer(tail="g, myhub, kernel\ng, bob, users")
    assert enforcer.roles_of("verify-hub") == {"kernel"}
    assert enforcer.roles_of("myhub") == {"kernel"}
    assert enforcer.roles_of("control-panel") == {"system"}
    assert enforcer.roles_of("bob") == {"users"}
    assert enforcer.roles_of("nobody") == frozenset()
