"""Privilege escalations by a normal user (issue 11), against the real zone on both wires.

The attacker is ``bob``, a plain user (role ``users``).  His tokens are minted here with
verify-hub's key (kid ``verify-hub``) and the claims verify-hub puts in a user's session
(``principal_kind: "user"``): that is what an older, a compromised or upstream's
verify-hub issues when a user logs in claiming app ``kernel``, ``scheduler`` or
``control-panel``, so the tests do not depend on what our verify-hub lets a user claim.

Each refusal is checked by :func:`tests.security_zone.check_refused`: the exact answer,
and both SQLite files unchanged.  Each attack has its control: the same write by a
zone-trusted caller (owner- or device-signed, or a verify-hub service session), or by the
user on what is his, still works.  Quotas and the full store run on two more zones of the
same kind, built with small limits (:func:`limited_zone`).
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import tests.security_zone as security_zone
from buckyos.runtime.errors import RPCError
from buckyos.runtime.security.token_signing import sign_token
from buckyos.runtime.server.serve import serving
from buckyos.services.system_config import SqliteStore, build_binding as build_system_config
from tests.security_zone import (
    WIRES,
    Case,
    SecurityZone,
    check_refused,
    hub_call,
    zone_for,
)

zone = zone_for("escalation", "tests/test_security_escalation.py")

_sessions = itertools.count(9000)

VERIFY_HUB_RECORD = "services/verify-hub/instances/ood1"


def hub_token(zone: SecurityZone, user: str, app: str, *, kind: str = "user", **extra: Any) -> str:
    """A session token as verify-hub issues it, signed with verify-hub's key."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "appid": app,
        "jti": f"j{next(_sessions)}",
        "sub": user,
        "iss": "verify-hub",
        "exp": now + 900,
        "session": next(_sessions),
        "principal_kind": kind,
        "app_instance_id": f"{app}@{user}",
        **extra,
    }
    return sign_token(claims, zone.hub_key, kid="verify-hub")


def owner_token(zone: SecurityZone, user: str = "root", app: str = "kernel") -> str:
    claims = {"sub": user, "appid": app, "exp": int(time.time()) + 900}
    return sign_token(claims, zone.owner, kid="root")


def device_token(zone: SecurityZone, user: str = "ood1", app: str = "kernel") -> str:
    claims = {"sub": user, "appid": app, "iss": "ood1", "exp": int(time.time()) + 900}
    return sign_token(claims, zone.device, kid="ood1")


def read_key(zone: SecurityZone, wire: str, token: str, key: str) -> Callable[[], object]:
    def call() -> object:
        with zone.sc_stub(wire, token) as stub:
            return stub.Get(key=key)

    return call


def sc(zone: SecurityZone, wire: str, token: str, verb: str, **params: Any) -> Any:
    with zone.sc_stub(wire, token) as stub:
        return getattr(stub, verb)(**params)


def sc_call(
    zone: SecurityZone, wire: str, token: str, verb: str, **params: Any
) -> Callable[[], object]:
    return functools.partial(sc, zone, wire, token, verb, **params)


def stored(zone: SecurityZone, key: str) -> Any:
    """A value read straight from system_config's SQLite file (None: absent)."""
    found = security_zone.rows(zone.sc_db, f"SELECT value FROM config WHERE key = '{key}'")
    return found[0][0] if found else None


def instance_record(port: int, state: str = "started") -> str:
    return json.dumps(
        {
            "instance_id": "verify-hub-ood1",
            "node_id": "ood1",
            "state": state,
            "service_ports": {"www": port},
        }
    )


@pytest.fixture(scope="module", autouse=True)
def seeded(zone: SecurityZone) -> None:
    """An admin's settings and verify-hub's real routing record, as a zone has them."""
    root = owner_token(zone)
    sc(zone, "krpc", root, "Set", key="users/admin/settings", value='{"type":"admin"}')
    assert zone.hub.krpc_url is not None
    port = int(zone.hub.krpc_url.rsplit(":", 1)[1])
    sc(zone, "krpc", root, "Set", key=VERIFY_HUB_RECORD, value=instance_record(port))


# --------------------------------------------------------------------------- 1: app kernel

KERNEL_READ = Case(
    "user-claims-kernel-read",
    "bob's verify-hub session claiming app `kernel` reads `users/admin/settings`",
    "No permission:No read permission",
    "tests/test_rbac.py::test_literal_kernel_skips_the_user_check_only_when_trusted",
)
KERNEL_READ_HASH = Case(
    "user-claims-kernel-read-hash",
    "bob's verify-hub session claiming app `kernel` reads alice's password hash",
    "No permission:No read permission",
    "tests/test_authz.py::test_kernel_app_skips_the_user_check_only_for_zone_trusted_tokens",
)
KERNEL_POLICY = Case(
    "user-claims-kernel-policy",
    "bob's verify-hub session claiming app `kernel` writes `system/rbac/policy` (makes himself admin)",
    "No permission:No write permission for key: system/rbac/policy",
    "tests/test_tokens.py::test_zone_trusted_follows_the_key_that_verified",
)
NO_APPID = Case(
    "user-token-without-appid",
    "bob's verify-hub session without `appid` (upstream reads it as app `kernel`)",
    "Parse Request Error: Missing appid",
)


@pytest.mark.parametrize("wire", WIRES)
def test_a_user_session_claiming_app_kernel_has_only_the_users_rights(
    zone: SecurityZone, wire: str
) -> None:
    bob = hub_token(zone, "bob", "kernel")
    check_refused(zone, KERNEL_READ, wire, read_key(zone, wire, bob, "users/admin/settings"))
    check_refused(zone, KERNEL_READ_HASH, wire, read_key(zone, wire, bob, "users/alice/settings"))
    tail = security_zone.POLICY + "\ng, bob, admin"
    check_refused(
        zone,
        KERNEL_POLICY,
        wire,
        sc_call(zone, wire, bob, "Set", key="system/rbac/policy", value=tail),
    )
    no_appid = sign_token(
        {
            "sub": "bob",
            "iss": "verify-hub",
            "exp": int(time.time()) + 900,
            "principal_kind": "user",
            "session": next(_sessions),
        },
        zone.hub_key,
        kid="verify-hub",
    )
    check_refused(zone, NO_APPID, wire, read_key(zone, wire, no_appid, "users/admin/settings"))
    # App kernel still passes the app check; the user check then gives bob his own rights.
    sc(zone, wire, bob, "Set", key="users/bob/profile", value=f'"{wire}"')
    assert stored(zone, "users/bob/profile") == f'"{wire}"'


@pytest.mark.parametrize("wire", WIRES)
def test_zone_trusted_kernel_tokens_keep_every_right(zone: SecurityZone, wire: str) -> None:
    trusted = {
        "owner-signed": owner_token(zone, "bob"),
        "device-signed": device_token(zone, "bob"),
        "verify-hub service session": hub_token(zone, "ood1", "kernel", kind="service"),
        "verify-hub device session": hub_token(zone, "ood1", "kernel", kind="device"),
    }
    for name, token in trusted.items():
        with zone.sc_stub(wire, token) as stub:
            assert stub.Get(key="users/admin/settings").value == '{"type":"admin"}', name
            assert '"password"' in stub.Get(key="users/alice/settings").value, name
            stub.Set(key="users/admin/apps/probe/settings", value=json.dumps(name))
        assert stored(zone, "users/admin/apps/probe/settings") == json.dumps(name)


# --------------------------------------------------------------------------- 2: scheduler dump

DUMP_TEXT = (
    "No permission:dump_configs_for_scheduler needs a zone-trusted token (signed by the "
    "zone owner or a zone device, or a verify-hub session of a device or service), "
    "not a user's session"
)
DUMP_AS_SCHEDULER = Case(
    "user-claims-scheduler-dump",
    "bob's verify-hub session claiming app `scheduler` calls `dump_configs_for_scheduler` "
    "(every key, password hashes included)",
    DUMP_TEXT,
    "tests/test_sys_config_service.py::test_rbac_per_key_with_system_config_texts",
)
DUMP_AS_NODE_DAEMON = Case(
    "user-claims-node-daemon-dump",
    "bob's verify-hub session claiming app `node-daemon` calls `dump_configs_for_scheduler`",
    DUMP_TEXT,
)
DUMP_AS_KERNEL = Case(
    "user-claims-kernel-dump",
    "bob's verify-hub session claiming app `kernel` calls `dump_configs_for_scheduler`",
    "No permission:No permission",
)


@pytest.mark.parametrize("wire", WIRES)
def test_the_scheduler_dump_needs_a_zone_trusted_token(zone: SecurityZone, wire: str) -> None:
    for case, app in ((DUMP_AS_SCHEDULER, "scheduler"), (DUMP_AS_NODE_DAEMON, "node-daemon")):
        bob = hub_token(zone, "bob", app)
        check_refused(zone, case, wire, sc_call(zone, wire, bob, "DumpConfigsForScheduler"))
    bob = hub_token(zone, "bob", "kernel")
    check_refused(zone, DUMP_AS_KERNEL, wire, sc_call(zone, wire, bob, "DumpConfigsForScheduler"))
    for token in (
        device_token(zone, app="scheduler"),
        hub_token(zone, "ood1", "scheduler", kind="service"),
        device_token(zone, app="node-daemon"),
    ):
        dump = sc(zone, wire, token, "DumpConfigsForScheduler").configs
        assert "users/alice/settings" in dump and VERIFY_HUB_RECORD in dump


# --------------------------------------------------------------------------- 4: routing records


def _system_refusal(key: str, service: str) -> str:
    return (
        f"No permission:No write permission for key: {key} ({service} is a system service: "
        "only zone services write its routing records)"
    )


def _not_own_refusal(key: str, service: str, user: str) -> str:
    return (
        f"No permission:No write permission for key: {key} ({service} is not an app that "
        f"user {user} alone registered under users/{user}/apps/{service}/)"
    )


REROUTE = Case(
    "user-reroutes-verify-hub",
    "bob (session claiming app `kernel`) points verify-hub's instance record at his own port",
    _system_refusal(VERIFY_HUB_RECORD, "verify-hub"),
)
REROUTE_CP = Case(
    "user-reroutes-verify-hub-as-control-panel",
    "bob (session claiming app `control-panel`, role system) points verify-hub at his port",
    _system_refusal(VERIFY_HUB_RECORD, "verify-hub"),
)
STOP = Case(
    "user-stops-verify-hub",
    "bob marks verify-hub's instance `stopped` (set, set_by_json_path, exec_tx)",
    _system_refusal(VERIFY_HUB_RECORD, "verify-hub"),
)
DELETE_RECORD = Case(
    "user-deletes-verify-hub-record",
    "bob deletes verify-hub's instance record",
    _system_refusal(VERIFY_HUB_RECORD, "verify-hub"),
)
NEW_NODE = Case(
    "user-adds-system-instance",
    "bob adds a verify-hub instance on a node of his own (`instances/evil`)",
    _system_refusal("services/verify-hub/instances/evil", "verify-hub"),
)
OTHER_SYSTEM = Case(
    "user-reroutes-system-config",
    "bob writes `services/system_config/instances/ood1` and `services/scheduler/instances/ood1`",
    _system_refusal("services/system_config/instances/ood1", "system_config"),
)


@pytest.mark.parametrize("wire", WIRES)
def test_a_user_cannot_reroute_or_stop_a_system_service(zone: SecurityZone, wire: str) -> None:
    before = stored(zone, VERIFY_HUB_RECORD)
    bob = hub_token(zone, "bob", "kernel")
    evil = instance_record(1)
    check_refused(
        zone, REROUTE, wire, sc_call(zone, wire, bob, "Set", key=VERIFY_HUB_RECORD, value=evil)
    )
    as_cp = hub_token(zone, "bob", "control-panel")
    check_refused(
        zone, REROUTE_CP, wire, sc_call(zone, wire, as_cp, "Set", key=VERIFY_HUB_RECORD, value=evil)
    )
    stopped = instance_record(1, "stopped")
    for call in (
        sc_call(zone, wire, bob, "Set", key=VERIFY_HUB_RECORD, value=stopped),
        sc_call(zone, wire, bob, "SetByJsonPath", key=VERIFY_HUB_RECORD, json_path="/state", value='"stopped"'),
        sc_call(zone, wire, bob, "Append", key=VERIFY_HUB_RECORD, append_value=" "),
        sc_call(zone, wire, bob, "ExecTx", actions={VERIFY_HUB_RECORD: {"action": "update", "value": stopped}}),
        sc_call(zone, wire, bob, "ExecTx", actions={"users/bob/profile": {"action": "update", "value": "x"}},
                main_key={"key": VERIFY_HUB_RECORD, "revision": 1}),
    ):  # fmt: skip
        check_refused(zone, STOP, wire, call)
    for call in (
        sc_call(zone, wire, bob, "Delete", key=VERIFY_HUB_RECORD),
        sc_call(zone, wire, bob, "ExecTx", actions={VERIFY_HUB_RECORD: {"action": "remove"}}),
    ):
        check_refused(zone, DELETE_RECORD, wire, call)
    new = "services/verify-hub/instances/evil"
    check_refused(zone, NEW_NODE, wire, sc_call(zone, wire, bob, "Create", key=new, value=evil))
    key = "services/system_config/instances/ood1"
    check_refused(zone, OTHER_SYSTEM, wire, sc_call(zone, wire, bob, "Set", key=key, value=evil))
    key = "services/scheduler/instances/ood1"
    expected = Case(OTHER_SYSTEM.id, OTHER_SYSTEM.attack, _system_refusal(key, "scheduler"))
    check_refused(zone, expected, wire, sc_call(zone, wire, bob, "Set", key=key, value=evil))
    assert stored(zone, VERIFY_HUB_RECORD) == before
    # The zone's own services still write it (the node's device, a verify-hub service session).
    for token in (device_token(zone), hub_token(zone, "ood1", "verify-hub", kind="service")):
        sc(zone, wire, token, "Set", key=VERIFY_HUB_RECORD, value=before)


NOT_OWN_APP = Case(
    "user-routes-another-users-app",
    "alice writes the instance record of bob's app",
    "",  # the key differs per wire: filled in below
)
UNREGISTERED_APP = Case(
    "user-routes-an-app-he-did-not-register",
    "bob writes the instance record of an app no user registered",
    "",
)
SHARED_APP_NAME = Case(
    "user-routes-an-app-name-two-users-registered",
    "alice registers an app of the same name as bob's; bob then writes its instance record",
    "",
)

ZONE_RUN_APP = Case(
    "user-routes-an-app-the-zone-runs",
    "bob registers the name of an app the zone runs (not a system service) and rewrites the "
    "instance record the zone's node wrote",
    "",
)


def _with_text(case: Case, text: str) -> Case:
    return Case(case.id, case.attack, text, case.also, case.store)


@pytest.mark.parametrize("wire", WIRES)
def test_a_user_routes_only_his_own_app(zone: SecurityZone, wire: str) -> None:
    app = f"bobapp-{wire}"
    record = f"services/{app}/instances/ood1"
    bob = hub_token(zone, "bob", "kernel")
    alice = hub_token(zone, "alice", "kernel")
    nobody = f"services/noapp-{wire}/instances/ood1"
    check_refused(
        zone,
        _with_text(UNREGISTERED_APP, _not_own_refusal(nobody, f"noapp-{wire}", "bob")),
        wire,
        sc_call(zone, wire, bob, "Set", key=nobody, value=instance_record(4242)),
    )
    sc(zone, wire, bob, "Set", key=f"users/bob/apps/{app}/settings", value="{}")
    sc(zone, wire, bob, "Set", key=record, value=instance_record(4242))
    sc(zone, wire, bob, "SetByJsonPath", key=record, json_path="/state", value='"stopped"')
    assert json.loads(stored(zone, record))["state"] == "stopped"
    check_refused(
        zone,
        _with_text(NOT_OWN_APP, _not_own_refusal(record, app, "alice")),
        wire,
        sc_call(zone, wire, alice, "Set", key=record, value=instance_record(1)),
    )
    sc(zone, wire, alice, "Set", key=f"users/alice/apps/{app}/settings", value="{}")
    check_refused(
        zone,
        _with_text(SHARED_APP_NAME, _not_own_refusal(record, app, "bob")),
        wire,
        sc_call(zone, wire, bob, "Set", key=record, value=instance_record(4243)),
    )
    sc(zone, wire, alice, "Delete", key=f"users/alice/apps/{app}/settings")
    sc(zone, wire, bob, "Delete", key=record)
    assert stored(zone, record) is None
    # An app the zone runs itself (its node wrote the record) stays the zone's, even when
    # bob registers a name of his own for it first.
    zone_app = f"zoneapp-{wire}"
    zone_record = f"services/{zone_app}/instances/ood1"
    sc(zone, wire, device_token(zone), "Set", key=zone_record, value=instance_record(5000))
    sc(zone, wire, bob, "Set", key=f"users/bob/apps/{zone_app}/settings", value="{}")
    check_refused(
        zone,
        _with_text(
            ZONE_RUN_APP,
            f"No permission:No write permission for key: {zone_record} (this record of "
            f"{zone_app} was not created by user bob)",
        ),
        wire,
        sc_call(zone, wire, bob, "Set", key=zone_record, value=instance_record(4244)),
    )


# --------------------------------------------------------------------------- user names

PLAIN = "letters, digits, '_', '-' and '.', not starting with '.', at most 64 characters"
USER_NAMES = Case(
    "user-name-not-plain",
    "the zone owner creates `users/<name>/settings` for a name with a space, a leading dot, "
    "a colon, non-ASCII letters, 65 characters",
    "",
)


@pytest.mark.parametrize("wire", WIRES)
def test_user_names_in_keys_must_be_plain(zone: SecurityZone, wire: str) -> None:
    root = owner_token(zone)
    for name in ("ev il", ".hidden", "bob:x", "b\u00f6b", "a" * 65, "su_admin\u200b"):
        key = f"users/{name}/settings"
        text = (
            f'Failed due to reason: invalid key "{key}": user name "{name}" is not a plain name '
            f"({PLAIN})"
        )
        check_refused(
            zone,
            _with_text(USER_NAMES, text),
            wire,
            sc_call(zone, wire, root, "Create", key=key, value="{}"),
        )
    # A backslash is a separator in a key: "users/bob\\apps" is users/bob/apps.
    sc(zone, wire, root, "Set", key="users\\carol.b-1_x\\settings", value="{}")
    assert stored(zone, "users/carol.b-1_x/settings") == "{}"
    sc(zone, wire, root, "Delete", key="users/carol.b-1_x/settings")


# --------------------------------------------------------------------------- 16: main_key

MAIN_KEY = Case(
    "exec-tx-main-key-of-another-user",
    "bob's `exec_tx` writing his own key, guarded by `main_key` alice's settings (bumps its revision)",
    "No permission:No write permission for key: users/alice/apps/notes/settings",
    "tests/test_sys_config_service.py::test_exec_tx_is_atomic_and_checks_every_key_first",
)


@pytest.mark.parametrize("wire", WIRES)
def test_exec_tx_main_key_needs_write_permission(zone: SecurityZone, wire: str) -> None:
    alice_key = "users/alice/apps/notes/settings"
    sc(zone, wire, owner_token(zone), "Set", key=alice_key, value='"alice"')
    revision = security_zone.rows(
        zone.sc_db, f"SELECT revision FROM config WHERE key = '{alice_key}'"
    )[0][0]
    bob = hub_token(zone, "bob", "notes")
    call = sc_call(
        zone, wire, bob, "ExecTx",
        actions={"users/bob/apps/notes/settings": {"action": "update", "value": '"b"'}},
        main_key={"key": alice_key, "revision": revision},
    )  # fmt: skip
    check_refused(zone, MAIN_KEY, wire, call)
    # The control: the same transaction guarded by bob's own key goes through.
    own = "users/bob/apps/notes/settings"
    mine = security_zone.rows(zone.sc_db, f"SELECT revision FROM config WHERE key = '{own}'")
    sc(
        zone, wire, bob, "ExecTx",
        actions={own: {"action": "update", "value": '"b"'}},
        main_key={"key": own, "revision": mine[0][0] if mine else 0},
    )  # fmt: skip


# --------------------------------------------------------------------------- 8: quotas

QUOTA_BYTES = 256 * 1024
QUOTA_KEYS = 40
CHUNK = 32 * 1024


@contextlib.contextmanager
def limited_zone(
    folder: Path, *, store: dict[str, Any], binding: dict[str, Any]
) -> Iterator[SecurityZone]:
    """A :class:`SecurityZone` whose system_config has the given store and binding options
    (served beside the module's zone: kept out of the in-process registry)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(security_zone, "serving", functools.partial(serving, register=False))
        patch.setattr(security_zone, "SqliteStore", functools.partial(SqliteStore, **store))
        patch.setattr(
            security_zone, "build_system_config", functools.partial(build_system_config, **binding)
        )
        started = SecurityZone(folder)
    try:
        yield started
    finally:
        started.close()


@pytest.fixture(scope="module")
def quota_zone(
    zone: SecurityZone, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SecurityZone]:
    options = {"user_quota_bytes": QUOTA_BYTES, "user_quota_keys": QUOTA_KEYS}
    with limited_zone(tmp_path_factory.mktemp("quota"), store={}, binding=options) as small:
        yield small
        zone.results.extend(small.results)


def usage_of(zone: SecurityZone, user: str) -> tuple[int, int]:
    """Bytes (key + value, UTF-8) and live keys under ``users/<user>/``, from the file."""
    found = security_zone.rows(
        zone.sc_db,
        f"SELECT key, value FROM config WHERE key > 'users/{user}/' AND key < 'users/{user}0'",
    )
    size = sum(len(k.encode()) + len((v or "").encode()) for k, v in found)
    return size, sum(1 for _, v in found if v is not None)


def kib(size: int) -> str:
    return f"{size / 1024:.1f} KiB"


QUOTA = Case(
    "user-fills-his-quota",
    "bob writes 32 KiB values under `users/bob/apps/` until his 256 KiB quota is used",
    "",
)
QUOTA_KEYS_CASE = Case(
    "user-fills-his-key-quota",
    "bob writes small keys under `users/bob/apps/` until his 40-key quota is used",
    "",
)


def fill(
    zone: SecurityZone, wire: str, token: str, prefix: str, value: str, limit: int
) -> tuple[int, Callable[[], object], str]:
    """Write ``prefix<n>`` until refused (at most ``limit`` writes); the count written, the
    refused call, and the key it tried."""
    for n in range(limit):
        key = f"{prefix}{n}"
        call = sc_call(zone, wire, token, "Set", key=key, value=value)
        try:
            call()
        except RPCError:
            return n, call, key
    raise AssertionError(f"{limit} writes of {len(value)} bytes under {prefix} were all accepted")


@pytest.mark.parametrize("wire", WIRES)
def test_a_user_cannot_write_beyond_his_quota(quota_zone: SecurityZone, wire: str) -> None:
    z = quota_zone
    bob = hub_token(z, "bob", "kernel")
    prefix = f"users/bob/apps/fill-{wire}/k"
    value = "v" * CHUNK
    written, call, key = fill(z, wire, bob, prefix, value, 64)
    assert written >= 5
    used, _ = usage_of(z, "bob")
    adds = len(key.encode()) + CHUNK
    assert used + adds > QUOTA_BYTES >= used
    text = (
        f"Failed due to reason: quota exceeded for users/bob/: {kib(used)} of 256 KiB used, "
        f"this write adds {kib(adds)}; delete keys or ask the admin to raise --user-quota-bytes"
    )
    check_refused(z, _with_text(QUOTA, text), wire, call)
    # Deletes are always allowed, and make room again.
    sc(z, wire, bob, "Delete", key=f"{prefix}0")
    call()
    # A zone-trusted writer is not held to the quota (it may write into bob's subtree).
    big = "users/bob/apps/granted/blob"
    sc(z, wire, owner_token(z), "Set", key=big, value="x" * QUOTA_BYTES)
    with pytest.raises(RPCError, match="quota exceeded for users/bob/"):
        sc(z, wire, bob, "Set", key="users/bob/profile", value='"one more"')
    # ...while other users are not affected by bob's usage.
    sc(z, wire, hub_token(z, "alice", "kernel"), "Set", key="users/alice/profile", value='"ok"')
    sc(z, wire, bob, "Delete", key=big)
    for n in range(written + 1):
        with contextlib.suppress(RPCError):
            sc(z, wire, bob, "Delete", key=f"{prefix}{n}")
    assert usage_of(z, "bob")[0] < CHUNK


@pytest.mark.parametrize("wire", WIRES)
def test_a_user_cannot_create_more_keys_than_his_quota(quota_zone: SecurityZone, wire: str) -> None:
    z = quota_zone
    bob = hub_token(z, "bob", "kernel")
    prefix = f"users/bob/apps/many-{wire}/k"
    written, call, _ = fill(z, wire, bob, prefix, "1", QUOTA_KEYS + 5)
    _, keys = usage_of(z, "bob")
    assert keys == QUOTA_KEYS and written >= QUOTA_KEYS - 5
    text = (
        f"Failed due to reason: quota exceeded for users/bob/: {QUOTA_KEYS} of {QUOTA_KEYS} keys "
        "used, this write adds 1; delete keys or ask the admin to raise --user-quota-keys"
    )
    check_refused(z, _with_text(QUOTA_KEYS_CASE, text), wire, call)
    # Overwriting a key he has adds no key: allowed.
    sc(z, wire, bob, "Set", key=f"{prefix}0", value="2")
    for n in range(written):
        sc(z, wire, bob, "Delete", key=f"{prefix}{n}")


# --------------------------------------------------------------------------- 8: a full store

STORE_BYTES = 1024 * 1024
STORE_RESERVE = 256 * 1024
STORE_FULL = Case(
    "user-fills-the-store",
    "bob writes 64 KiB values until the store (1 MiB, 256 KiB kept in reserve) is nearly full",
    "Failed due to reason: config store is nearly full: ",
)


@pytest.fixture(scope="module")
def full_zone(
    zone: SecurityZone, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SecurityZone]:
    store = {"max_bytes": STORE_BYTES, "reserve_bytes": STORE_RESERVE}
    with limited_zone(tmp_path_factory.mktemp("full"), store=store, binding={}) as small:
        yield small
        zone.results.extend(small.results)


@pytest.mark.parametrize("wire", WIRES)
def test_a_full_store_keeps_room_for_deletes_and_the_zone(
    full_zone: SecurityZone, wire: str
) -> None:
    z = full_zone
    bob = hub_token(z, "bob", "kernel")
    prefix = f"users/bob/apps/fill-{wire}/k"
    written, call, _ = fill(z, wire, bob, prefix, "v" * 65536, 32)
    assert written >= 4
    check_refused(z, STORE_FULL, wire, call, match="prefix")
    # Writes that keep the zone alive still go through: verify-hub publishing a revocation
    # (a device-signed service token), the owner fixing a key.
    revoked = json.dumps(
        {
            "sessions": {"bob_notes_1": int(time.time()) + 900},
            "users": {},
            "updated_at": int(time.time()),
        }
    )
    sc(
        z,
        wire,
        device_token(z, app="verify-hub"),
        "Set",
        key="system/verify-hub/revoked",
        value=revoked,
    )
    sc(z, wire, owner_token(z), "Set", key="users/admin/settings", value='{"type":"admin"}')
    # Logins and refreshes work (verify-hub reads system_config and keeps its own file).
    pair = z.password_login(wire, user="alice")
    assert hub_call(z, wire, "RefreshToken", refresh_token=pair.refresh_token).session_token
    # Deletes are always allowed, and make room for ordinary writes again.
    for n in range(written):
        sc(z, wire, bob, "Delete", key=f"{prefix}{n}")
    call()
    sc(z, wire, bob, "Delete", key=f"{prefix}{written}")
