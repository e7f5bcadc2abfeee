"""system_config served for real: SQLite file, Ed25519 tokens, casbin RBAC, kRPC and gRPC.

Each test starts the binding from ``build_binding`` with ``runtime.serve.serving`` on
127.0.0.1 port 0 in a background event loop, seeds it over kRPC with the owner's token
(kid ``root``, appid ``kernel``) as a local zone does, and checks every verb's results and
upstream's error texts (``buckyos-protocol.md`` section 5), written out literally.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import struct_pb2

from buckyos.generated import system_config_pb2 as sc
from buckyos.generated.system_config_rpc import SystemConfigStub
from buckyos.runtime.client.grpc_client import GrpcTransport
from buckyos.runtime.client.inprocess import InProcessTransport
from buckyos.runtime.client.krpc_client import KrpcTransport
from buckyos.runtime.errors import RPCError
from buckyos.runtime.security.keys import (
    Ed25519PrivateKey,
    did_document,
    generate_key_pair,
    public_key_to_jwk,
)
from buckyos.runtime.security.token_signing import sign_token
from buckyos.runtime.server.serve import ServerInfo, serving
from buckyos.services.system_config import Entry, EtcdStore, SqliteStore, Store, build_binding

OWNER_DID = "did:bns:owner"
TAIL = "g, alice, users\ng, bob, users\ng, notes, app\ng, ood1, ood"


class Zone:
    """One system_config on real sockets, in a background loop, plus token helpers."""

    def __init__(self, tmp_path: Path, etcd_url: str | None = None) -> None:
        self.owner, owner_public = generate_key_pair()
        self.device, device_public = generate_key_pair()
        # The same verbs on both stores: SQLite, or etcd under a prefix of this test's own.
        self.store: Store = (
            SqliteStore(tmp_path / "config.db")
            if etcd_url is None
            else EtcdStore(etcd_url, prefix=f"/test/{uuid.uuid4().hex}/")
        )
        self.binding = build_binding(
            self.store,
            owner_key=owner_public,
            owner_did=OWNER_DID,
            device_name="ood1",
            device_key=public_key_to_jwk(device_public),
        )
        self.info = ServerInfo()
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        if not self._ready.wait(10) or self._error is not None:
            raise RuntimeError(f"system_config did not start: {self._error!r}")
        assert self.info.krpc_url is not None and self.info.grpc_target is not None
        self.url = f"{self.info.krpc_url}/kapi/system_config"
        self.root = self.token("root", "kernel")

    def _run(self) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            async with serving(
                self.binding, krpc_port=0, grpc_port=0, log_level="warning", info=self.info
            ):
                self._ready.set()
                await self._stop.wait()

        try:
            asyncio.run(main())
        except BaseException as exc:
            self._error = exc
            self._ready.set()

    def close(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)
        self.binding.close()
        self.store.close()

    def token(
        self,
        sub: str,
        appid: str | None,
        *,
        key: Ed25519PrivateKey | None = None,
        kid: str | None = "root",
        **claims: Any,
    ) -> str:
        body: dict[str, Any] = {"sub": sub, "exp": int(time.time()) + 600, **claims}
        if appid is not None:
            body["appid"] = appid
        return sign_token(body, key or self.owner, kid=kid)

    def krpc(self, method: str, params: Any, token: str | None = None) -> dict[str, Any]:
        """One raw kRPC call; the response body as JSON."""
        sys: list[Any] = [7] if token is None else [7, token]
        body = json.dumps({"method": method, "params": params, "sys": sys}).encode()
        request = urllib.request.Request(
            self.url, data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
            answer: dict[str, Any] = json.loads(response.read())
        return answer

    def ok(self, method: str, params: Any, token: str) -> Any:
        answer = self.krpc(method, params, token)
        assert "error" not in answer, answer
        assert answer["sys"] == [7]
        return answer["result"]

    def error(self, method: str, params: Any, token: str | None) -> str:
        answer = self.krpc(method, params, token)
        assert "result" not in answer, answer
        assert answer["sys"] == [7]
        text: str = answer["error"]
        return text

    def seed(self) -> None:
        self.ok("sys_config_set", {"key": "system/rbac/policy", "value": TAIL}, self.root)


@pytest.fixture(params=["sqlite", "etcd"])
def zone(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Zone]:
    etcd = request.getfixturevalue("etcd_member").url if request.param == "etcd" else None
    started = Zone(tmp_path, etcd)
    try:
        yield started
    finally:
        started.close()


ALL_VERBS = (
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
)


def test_every_verb_needs_a_token_first(zone: Zone) -> None:
    for verb in ALL_VERBS:
        # Missing params too: the token is checked first, as upstream does.
        assert zone.error(verb, {}, None) == "No permission:No session token", verb
    refresh = zone.token("alice", "notes", aud="verify-hub")
    assert zone.error("sys_config_get", {"key": "boot/config"}, refresh) == (
        "Invalid token: refresh token cannot be used as session token"
    )
    stranger, _ = generate_key_pair()
    forged = zone.token("root", "kernel", key=stranger)
    assert zone.error("sys_config_get", {"key": "boot/config"}, forged) == (
        "Invalid token: JWT decode error:InvalidSignature"
    )
    expired = zone.token("root", "kernel", exp=int(time.time()) - 3600)
    assert zone.error("sys_config_get", {"key": "boot/config"}, expired) == (
        "Invalid token: JWT decode error:ExpiredSignature"
    )
    assert zone.error("sys_config_get", {"key": "x/y"}, zone.token("root", None)) == (
        "Parse Request Error: Missing appid"
    )
    assert zone.error("sys_config_nope", {}, zone.root) == "Unknown method: sys_config_nope"


def test_get_set_create_delete_append(zone: Zone) -> None:
    root = zone.root
    key = "users/alice/apps/notes/settings"
    assert zone.ok("sys_config_get", {"key": key}, root) is None
    assert zone.ok("sys_config_create", {"key": key, "value": "v1"}, root) is None
    assert zone.ok("sys_config_get", {"key": key}, root) == {"value": "v1", "version": 1}
    assert zone.error("sys_config_create", {"key": key, "value": "v2"}, root) == (
        "Failed due to reason: key exist : users/alice/apps/notes/settings"
    )
    assert zone.ok("sys_config_set", {"key": "obj://config/" + key, "value": "v2"}, root) is None
    assert zone.ok("sys_config_append", {"key": "/" + key, "append_value": "+x"}, root) is None
    assert zone.ok("sys_config_get", {"key": key}, root) == {"value": "v2+x", "version": 3}
    assert zone.ok("sys_config_delete", {"key": key}, root) is None
    assert zone.ok("sys_config_get", {"key": key}, root) is None
    assert zone.error("sys_config_delete", {"key": key}, root) == (
        "Failed due to reason: key not found : users/alice/apps/notes/settings"
    )
    assert zone.error("sys_config_append", {"key": "/" + key, "append_value": "y"}, root) == (
        "Key not exist: /users/alice/apps/notes/settings"
    )
    assert zone.ok("sys_config_create", {"key": key, "value": ""}, root) is None
    assert zone.ok("sys_config_get", {"key": key}, root) == {"value": "", "version": 5}


def test_set_by_json_path(zone: Zone) -> None:
    root = zone.root
    key = "services/demo/settings"
    params = {"key": key, "json_path": "/a/b", "value": "1"}
    assert zone.error("sys_config_set_by_json_path", params, root) == (
        "Failed due to reason: key not found : services/demo/settings"
    )
    zone.ok("sys_config_set", {"key": key, "value": '{"keep":true}'}, root)
    assert zone.ok("sys_config_set_by_json_path", params, root) is None
    params = {"key": key, "json_path": '/a/"x/y"', "value": '{"n":[1,"é"]}'}
    assert zone.ok("sys_config_set_by_json_path", params, root) is None
    assert zone.ok("sys_config_get", {"key": key}, root) == {
        "value": '{"keep":true,"a":{"b":1,"x/y":{"n":[1,"é"]}}}',
        "version": 3,
    }
    bad = {"key": key, "json_path": "/a", "value": "not json"}
    text = zone.error("sys_config_set_by_json_path", bad, root)
    assert text.startswith(
        'Failed due to reason: value must be JSON text (a string is written with quotes: "\\"text\\""): '
    )
    through = {"key": key, "json_path": "/keep/x", "value": "1"}
    assert zone.error("sys_config_set_by_json_path", through, root) == (
        "Failed due to reason: key services/demo/settings: cannot set /keep/x: "
        "/keep is a boolean, not an object"
    )
    assert zone.store.get(key) == Entry('{"keep":true,"a":{"b":1,"x/y":{"n":[1,"é"]}}}', 3)


def test_list_children(zone: Zone) -> None:
    root = zone.root
    for key in ("users/bob/settings", "users/alice/settings", "users/alice/apps/notes/info"):
        zone.ok("sys_config_set", {"key": key, "value": "{}"}, root)
    assert zone.ok("sys_config_list", {"key": "users"}, root) == ["alice", "bob"]
    assert zone.ok("sys_config_list", {"key": "users/alice/"}, root) == ["apps", "settings"]
    zone.ok("sys_config_set", {"key": "boot/config", "value": "{}"}, root)
    assert zone.ok("sys_config_list", {"key": "/"}, root) == ["boot", "users"]
    assert zone.ok("sys_config_list", {"key": "nothing/here"}, root) == []


def test_bad_input_texts_and_nothing_written(zone: Zone) -> None:
    root = zone.root
    cases: list[tuple[str, Any, str]] = [
        ("sys_config_get", {}, "Failed due to reason: Missing key"),
        ("sys_config_get", {"key": None}, "Failed due to reason: Missing key"),
        ("sys_config_set", {"key": "a/b"}, "Failed due to reason: Missing value"),
        ("sys_config_set", {"value": "v"}, "Failed due to reason: Missing key"),
        ("sys_config_append", {"key": "a/b"}, "Failed due to reason: Missing append_value"),
        (
            "sys_config_set_by_json_path",
            {"key": "a/b", "value": "1"},
            "Failed due to reason: Missing json_path",
        ),
        (
            "sys_config_set",
            {"key": 5, "value": "v"},
            "Parse Request Error: field `key`: expected string, got number",
        ),
        (
            "sys_config_set",
            {"key": "a/b", "value": {"x": 1}},
            "Parse Request Error: field `value`: expected string, got object",
        ),
        (
            "sys_config_set",
            {"key": "__meta/revision/a", "value": "9"},
            "Failed due to reason: internal metadata key is reserved",
        ),
        (
            "sys_config_set",
            {"key": "obj://config/__meta", "value": "9"},
            "Failed due to reason: internal metadata key is reserved",
        ),
        (
            "sys_config_set",
            {"key": "a/../__meta/x", "value": "9"},
            "Failed due to reason: internal metadata key is reserved",
        ),
        (
            "sys_config_get",
            {"key": "__meta/revision/a"},
            "Failed due to reason: internal metadata key is reserved",
        ),
        (
            "sys_config_list",
            {"key": "__meta"},
            "Failed due to reason: internal metadata key is reserved",
        ),
        (
            "sys_config_set",
            {"key": "../etc/x", "value": "v"},
            "Failed due to reason: invalid key \"../etc/x\": '..' climbs above the root of the config tree",
        ),
        (
            "sys_config_set",
            {"key": "a/b\u0000c", "value": "v"},
            'Failed due to reason: invalid key "a/b\\x00c": control character \\x00 at position 3 is not allowed in a key',
        ),
        (
            "sys_config_create",
            {"key": "users/x\n", "value": "v"},
            'Failed due to reason: invalid key "users/x\\x0a": control character \\x0a at position 7 is not allowed in a key',
        ),
        (
            "sys_config_set",
            {"key": "/", "value": "v"},
            'Failed due to reason: invalid key "/": it names the root, not an entry (a key looks like users/alice/settings)',
        ),
        ("sys_config_exec_tx", {}, "Failed due to reason: Missing actions"),
        ("sys_config_exec_tx", {"actions": []}, "Failed due to reason: Actions must be an object"),
        (
            "sys_config_exec_tx",
            {"actions": {"/a/b": {"value": "v"}}},
            "Failed due to reason: Missing action type for key: a/b",
        ),
        (
            "sys_config_exec_tx",
            {"actions": {"a/b": {"action": 1}}},
            "Failed due to reason: Action type must be string",
        ),
        (
            "sys_config_exec_tx",
            {"actions": {"a/b": {"action": "create"}}},
            "Failed due to reason: Missing value for create",
        ),
        (
            "sys_config_exec_tx",
            {"actions": {"a/b": {"action": "update", "value": None}}},
            "Failed due to reason: Missing value for update",
        ),
        (
            "sys_config_exec_tx",
            {"actions": {"a/b": {"action": "set_by_path"}}},
            "Failed due to reason: Missing all_set for set_by_path",
        ),
        (
            "sys_config_exec_tx",
            {"actions": {"a/b": {"action": "rename"}}},
            "Failed due to reason: Unknown action type: rename",
        ),
        (
            "sys_config_exec_tx",
            {"actions": {"__meta/x": {"action": "remove"}}},
            "Failed due to reason: internal metadata key is reserved: __meta/x",
        ),
        (
            "sys_config_exec_tx",
            {"actions": {"a/b": {"action": "update", "value": "1"}, "/a/b": {"action": "remove"}}},
            'Failed due to reason: exec_tx names key a/b twice ("/a/b" and "a/b"); give each key one action',
        ),
        (
            "sys_config_exec_tx",
            {"actions": {"a/b": {"action": "update", "value": 1}}},
            "Parse Request Error: field `actions.a/b.value`: expected string, got number",
        ),
        (
            "sys_config_exec_tx",
            {"actions": {}, "main_key": "a/b:7"},
            "Parse Request Error: main_key must be an object",
        ),
        (
            "sys_config_exec_tx",
            {"actions": {}, "main_key": {"revision": 1}},
            "Parse Request Error: main_key.key is required",
        ),
        (
            "sys_config_exec_tx",
            {"actions": {}, "main_key": {"key": "a/b", "revision": -1}},
            "Parse Request Error: main_key.revision must be a u64",
        ),
        (
            "sys_config_set",
            {"key": "boot/config", "value": "not json"},
            "Failed due to reason: boot/config: the value is not valid JSON: Expecting value: line 1 column 1 (char 0); nothing was written",
        ),
        (
            "sys_config_set",
            {"key": "boot/config", "value": '{"verify_hub_info": {"public_key": {"kty": "RSA"}}}'},
            "Failed due to reason: boot/config: verify_hub_info.public_key: public key JWK: kty must be 'OKP', got 'RSA'; nothing was written",
        ),
        (
            "sys_config_set",
            {"key": "system/rbac/policy", "value": "x, alice, admin"},
            "Failed due to reason: system/rbac/policy is not a valid RBAC policy tail (RBAC policy tail line 1: expected a 'p' or 'g' rule, not 'x': 'x, alice, admin'); nothing was written",
        ),
    ]
    before = zone.store.dump(("",))
    for verb, params, text in cases:
        assert zone.error(verb, params, root) == text, (verb, params)
    assert zone.store.dump(("",)) == before
    assert zone.store.revision("a/b") == 0 and zone.store.revision("boot/config") == 0


def test_rbac_per_key_with_system_config_texts(zone: Zone) -> None:
    alice = zone.token("alice", "notes")
    own = "users/alice/apps/notes/settings"
    # No tail yet: alice has no role at all.
    assert zone.error("sys_config_get", {"key": own}, alice) == "No permission:No read permission"
    zone.seed()  # the tail makes alice a user and notes an app; the policy reloads at once
    assert zone.ok("sys_config_set", {"key": own, "value": "mine"}, alice) is None
    assert zone.ok("sys_config_get", {"key": own}, alice) == {"value": "mine", "version": 1}
    sudo = zone.token("alice", "notes", sudo=True)  # checked as su_alice, who has no role
    assert zone.error("sys_config_get", {"key": own}, sudo) == "No permission:No read permission"
    assert zone.error("sys_config_get", {"key": "users/bob/apps/notes/settings"}, alice) == (
        "No permission:No read permission"
    )
    assert zone.error(
        "sys_config_set", {"key": "obj://config/users/bob/apps/notes/settings", "value": "x"}, alice
    ) == ("No permission:No write permission for key: users/bob/apps/notes/settings")
    assert (
        zone.error("sys_config_list", {"key": "users"}, alice) == "No permission:No read permission"
    )
    assert zone.error("dump_configs_for_scheduler", {}, alice) == "No permission:No permission"
    assert zone.error("dump_configs_for_scheduler", {}, zone.root) == "No permission:No permission"
    scheduler = zone.token("ood1", "scheduler", key=zone.device, kid="ood1")
    assert zone.ok("dump_configs_for_scheduler", {}, scheduler) == {
        "system/rbac/policy": TAIL,
        "users/alice/apps/notes/settings": "mine",
    }
    assert zone.ok("sys_refresh_trust_keys", {}, alice) is None


def test_exec_tx_is_atomic_and_checks_every_key_first(zone: Zone) -> None:
    zone.seed()
    root, alice = zone.root, zone.token("alice", "notes")
    own = "users/alice/apps/notes/settings"
    info = "users/alice/apps/notes/info"
    zone.ok("sys_config_set", {"key": own, "value": '{"a":1}'}, root)
    zone.ok("sys_config_set", {"key": info, "value": "i"}, root)
    before = zone.store.dump(("",))
    denied = {
        "actions": {
            own: {"action": "update", "value": "changed"},
            "users/bob/apps/notes/settings": {"action": "create", "value": "x"},
        }
    }
    assert zone.error("sys_config_exec_tx", denied, alice) == (
        "No permission:No write permission for key: users/bob/apps/notes/settings"
    )
    failing = {
        "actions": {
            own: {"action": "update", "value": "changed"},
            info: {"action": "create", "value": "clash"},
        }
    }
    assert zone.error("sys_config_exec_tx", failing, alice) == (
        "Failed due to reason: key exist : users/alice/apps/notes/info"
    )
    missing = {"actions": {"users/alice/apps/notes/nothing": {"action": "append", "value": "x"}}}
    assert zone.error("sys_config_exec_tx", missing, root) == (
        "Failed due to reason: key not found : users/alice/apps/notes/nothing"
    )
    stale = {
        "actions": {own: {"action": "update", "value": "x"}},
        "main_key": {"key": own, "revision": 5},
    }
    assert zone.error("sys_config_exec_tx", stale, alice) == (
        "Failed due to reason: revision mismatch for key users/alice/apps/notes/settings: expected 5, actual 1"
    )
    assert zone.store.dump(("",)) == before
    good = {
        "actions": {
            own: {
                "action": "set_by_path",
                "all_set": {"/a": None, "/b/c": 12345678901234, "/d": 2.5},
            },
            info: {"action": "append", "value": "+"},
        },
        "main_key": {"key": own, "revision": 1},
    }
    assert zone.ok("sys_config_exec_tx", good, alice) is None
    assert zone.ok("sys_config_get", {"key": own}, alice) == {
        "value": '{"b":{"c":12345678901234},"d":2.5}',
        "version": 2,
    }
    assert zone.ok("sys_config_get", {"key": info}, alice) == {"value": "i+", "version": 2}
    removal = {
        "actions": {
            info: {"action": "remove"},
            "users/alice/apps/notes/new": {"action": "update", "value": "n"},
        }
    }
    assert zone.ok("sys_config_exec_tx", removal, root) is None
    assert zone.store.get(info) is None and zone.store.get("users/alice/apps/notes/new") == Entry(
        "n", 1
    )


def test_trust_keys_reload_from_boot_config_and_device_docs(zone: Zone) -> None:
    zone.seed()
    hub, hub_public = generate_key_pair()
    from_hub = zone.token("alice", "notes", key=hub, kid="verify-hub", iss="verify-hub")
    own = {"key": "users/alice/apps/notes/settings"}
    assert zone.error("sys_config_get", own, from_hub) == "No permission:kid verify-hub not found"
    boot = {
        "verify_hub_info": {
            "port": 3300,
            "node_name": "ood1",
            "public_key": public_key_to_jwk(hub_public),
        }
    }
    zone.ok("sys_config_set", {"key": "boot/config", "value": json.dumps(boot)}, zone.root)
    assert zone.ok("sys_config_get", own, from_hub) is None
    zone.ok("sys_config_set", {"key": "boot/config", "value": "{}"}, zone.root)
    assert zone.error("sys_config_get", own, from_hub) == "No permission:kid verify-hub not found"

    node2, node2_public = generate_key_pair()
    from_node2 = zone.token("node2", "node-daemon", key=node2, kid="node2")
    assert (
        zone.error("dump_configs_for_scheduler", {}, from_node2)
        == "No permission:kid node2 not found"
    )
    doc = did_document("did:dev:node2", node2_public, name="node2", device_type="node")
    zone.ok("sys_config_set", {"key": "devices/node2/doc", "value": json.dumps(doc)}, zone.root)
    assert isinstance(zone.ok("dump_configs_for_scheduler", {}, from_node2), dict)
    sensor = did_document("did:dev:node2", node2_public, name="node2", device_type="sensor")
    zone.ok("sys_config_set", {"key": "devices/node2/doc", "value": json.dumps(sensor)}, zone.root)
    assert (
        zone.error("dump_configs_for_scheduler", {}, from_node2)
        == "No permission:kid node2 not found"
    )
    # A device document cannot take over the owner's kids.
    hijack = did_document("did:dev:root", node2_public, name="root", device_type="ood")
    zone.ok("sys_config_set", {"key": "devices/root/doc", "value": json.dumps(hijack)}, zone.root)
    as_root = zone.token("root", "kernel", key=node2, kid="root")
    assert (
        zone.error("sys_config_get", own, as_root)
        == "Invalid token: JWT decode error:InvalidSignature"
    )


def _call_sequence(stub: SystemConfigStub, key: str, wire: str) -> list[object]:
    """The same calls on any wire; errors as ``(kind, text)`` with the wire name masked."""
    four = struct_pb2.Struct(fields={"/n": struct_pb2.Value(number_value=4)})
    calls: list[Any] = [
        lambda: stub.Delete(key=key),
        lambda: stub.Create(key=key, value='{"w":1}'),
        lambda: stub.Get(key=key),
        lambda: stub.Append(key=key, append_value=""),
        lambda: stub.SetByJsonPath(key=key, json_path="/n", value="3"),
        lambda: stub.Get(key=key),
        lambda: stub.ExecTx(
            actions={key: sc.TxAction(action="set_by_path", all_set=four)},
            main_key=sc.MainKey(key=key, revision=3),
        ),
        lambda: stub.Get(key=key),
        lambda: stub.Get(key=""),
        lambda: stub.Get(key="users/bob/settings"),
        lambda: stub.Set(key="users/bob/apps/notes/settings", value="x"),
        lambda: stub.ExecTx(actions={key: sc.TxAction(action="")}),
        lambda: stub.ExecTx(actions={key: sc.TxAction(action="update")}),
        lambda: stub.ExecTx(
            actions={key: sc.TxAction(action="remove")},
            main_key=sc.MainKey(key=key, revision=9),
        ),
        lambda: stub.List(key="users"),
    ]
    seen: list[object] = []
    for call in calls:
        try:
            seen.append(call())
        except RPCError as exc:
            seen.append((type(exc).__name__, str(exc).replace(wire, "WIRE")))
    return seen


def test_same_results_over_krpc_grpc_and_inprocess(zone: Zone) -> None:
    wires = ("krpc", "grpc", "inprocess")
    tail = TAIL + "".join(f"\ng, {wire}, app" for wire in wires)
    zone.ok("sys_config_set", {"key": "system/rbac/policy", "value": tail}, zone.root)
    outcomes: dict[str, list[object]] = {}
    for wire in wires:
        # Each wire works as its own app on its own key, so that revisions start alike.
        alice = zone.token("alice", wire)
        key = f"users/alice/apps/{wire}/settings"
        if wire == "krpc":
            with KrpcTransport(zone.info.krpc_url or "", token=alice) as krpc:
                outcomes[wire] = _call_sequence(SystemConfigStub(krpc), key, wire)
        elif wire == "grpc":
            with GrpcTransport(zone.info.grpc_target or "", token=alice) as grpc:
                outcomes[wire] = _call_sequence(SystemConfigStub(grpc), key, wire)
        else:
            local = InProcessTransport(zone.binding, token=alice)
            outcomes[wire] = _call_sequence(SystemConfigStub(local), key, wire)
    first = outcomes["krpc"]
    assert first[0] == (
        "ReasonError",
        "Failed due to reason: key not found : users/alice/apps/WIRE/settings",
    )
    assert first[2] == sc.GetResult(value='{"w":1}', version=1)
    assert first[5] == sc.GetResult(value='{"w":1,"n":3}', version=3)
    assert first[7] == sc.GetResult(value='{"w":1,"n":4}', version=4)
    assert first[8] == ("ReasonError", "Failed due to reason: Missing key")
    assert first[9] == ("NoPermissionError", "No permission:No read permission")
    assert first[10] == (
        "NoPermissionError",
        "No permission:No write permission for key: users/bob/apps/notes/settings",
    )
    assert first[11] == (
        "ReasonError",
        "Failed due to reason: Missing action type for key: users/alice/apps/WIRE/settings",
    )
    assert first[12] == ("ReasonError", "Failed due to reason: Missing value for update")
    assert first[13] == (
        "ReasonError",
        "Failed due to reason: revision mismatch for key users/alice/apps/WIRE/settings: expected 9, actual 4",
    )
    assert first[14] == ("NoPermissionError", "No permission:No read permission")
    assert outcomes["grpc"] == first
    assert outcomes["inprocess"] == first


def test_only_zone_trusted_tokens_get_kernel_and_scheduler_rights(zone: Zone) -> None:
    zone.seed()
    hub, hub_public = generate_key_pair()
    boot = {"verify_hub_info": {"public_key": public_key_to_jwk(hub_public)}}
    zone.ok("sys_config_set", {"key": "boot/config", "value": json.dumps(boot)}, zone.root)
    zone.ok("sys_config_set", {"key": "users/alice/settings", "value": "secret"}, zone.root)

    def from_hub(sub: str, appid: str, kind: str) -> str:
        return zone.token(
            sub, appid, key=hub, kid="verify-hub", iss="verify-hub", principal_kind=kind
        )

    secret = {"key": "users/alice/settings"}
    # A user's session claiming app kernel or scheduler: only the user's rights.
    assert zone.error("sys_config_get", secret, from_hub("bob", "kernel", "user")) == (
        "No permission:No read permission"
    )
    assert zone.error("dump_configs_for_scheduler", {}, from_hub("bob", "scheduler", "user")) == (
        "No permission:dump_configs_for_scheduler needs a zone-trusted token (signed by the "
        "zone owner or a zone device, or a verify-hub session of a device or service), "
        "not a user's session"
    )
    # The same claims in a service session (or signed by the device, or the owner): allowed.
    for token in (
        from_hub("ood1", "kernel", "service"),
        zone.token("bob", "kernel", key=zone.device, kid="ood1"),
        zone.token("bob", "kernel"),
    ):
        assert zone.ok("sys_config_get", secret, token) == {"value": "secret", "version": 1}
    dump = zone.ok("dump_configs_for_scheduler", {}, from_hub("ood1", "scheduler", "device"))
    assert dump["users/alice/settings"] == "secret"


def test_routing_records_over_exec_tx(zone: Zone) -> None:
    """exec_tx is held to the same rules as the single-key verbs, checked per key."""
    zone.seed()
    hub, hub_public = generate_key_pair()
    boot = {"verify_hub_info": {"public_key": public_key_to_jwk(hub_public)}}
    zone.ok("sys_config_set", {"key": "boot/config", "value": json.dumps(boot)}, zone.root)
    bob = zone.token("bob", "kernel", key=hub, kid="verify-hub", iss="verify-hub",
                     principal_kind="user")  # fmt: skip
    before = zone.store.dump(("",))
    tx = {
        "actions": {
            "users/bob/apps/mine/settings": {"action": "create", "value": "{}"},
            "services/mine/instances/ood1": {"action": "create", "value": "{}"},
        }
    }
    # Registering the app and routing it in one transaction: the record is checked against
    # what is stored, where bob has no app "mine" yet.
    assert zone.error("sys_config_exec_tx", tx, bob) == (
        "No permission:No write permission for key: services/mine/instances/ood1 (mine is not "
        "an app that user bob alone registered under users/bob/apps/mine/)"
    )
    assert zone.store.dump(("",)) == before
    zone.ok("sys_config_set", {"key": "users/bob/apps/mine/settings", "value": "{}"}, bob)
    del tx["actions"]["users/bob/apps/mine/settings"]
    assert zone.ok("sys_config_exec_tx", tx, bob) is None
    remove = {"actions": {"services/verify-hub/instances/ood1": {"action": "remove"}}}
    assert zone.error("sys_config_exec_tx", remove, bob) == (
        "No permission:No write permission for key: services/verify-hub/instances/ood1 "
        "(verify-hub is a system service: only zone services write its routing records)"
    )
    # RBAC comes first: a user may not write services/<svc>/info at all.
    info = {"actions": {"services/mine/info": {"action": "update", "value": "{}"}}}
    assert zone.error("sys_config_exec_tx", info, bob) == (
        "No permission:No write permission for key: services/mine/info"
    )
