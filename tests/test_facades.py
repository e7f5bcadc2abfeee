"""Each room of the runtime has a public facade, and code outside the runtime uses only it.

``buckyos.runtime.<room>`` (wire, security, client, server, program) lists its public
names in ``__all__`` and loads each from its module on first use.  ``services/``,
``cli/``, ``examples/`` (not their generated code) and ``bench/`` import runtime names
only from ``buckyos.runtime`` or a room facade, and only names its ``__all__`` lists: the
modules inside a room are free to change.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

import buckyos.runtime as runtime

ROOT = Path(__file__).resolve().parent.parent
ROOMS = ("wire", "security", "client", "server", "program")

FACADE_API: dict[str, set[str]] = {
    "wire": {
        # asgi
        "ASGIMessage", "ASGIReceive", "ASGIScope", "ASGISend", "JSON", "TEXT_HEADER",
        "DisconnectedError", "RefusedError", "lifespan", "read_body", "refuse", "respond",
        # dispatch, events
        "FORWARDED_CLIENT_HEADER", "CallInfo", "Dispatcher", "decode_checked", "Event",
        "REVISION_HEADER", "parse_revision",
        # jsonmap, jsontext
        "decode_params", "decode_result", "encode_params", "encode_result", "json_type_name",
        "json_object",
        "dumps", "dumps_text", "loads", "loads_strict",
        # kevent: names, patterns, the Event JSON and the stream's frames
        "DEFAULT_KEEPALIVE_MS", "DEFAULT_READER_CAPACITY",
        "KEVENT_HTTP_STATUS", "KEVENT_PORT", "MAX_EVENT_DATA_BYTES", "AckFrame", "ErrorFrame",
        "EventFrame", "KEvent", "KEventFrame", "KeepaliveFrame", "check_publish",
        "check_stream_patterns", "encode_frame", "match_pattern", "match_patterns",
        "normalize_patterns", "parse_frame", "validate_eventid", "validate_pattern",
    },
    "security": {
        # keys
        "Ed25519PrivateKey", "Ed25519PublicKey", "as_public_key", "did_document",
        "generate_key_pair", "generate_private_key", "load_private_key_file",
        "load_public_key", "private_key_from_pem", "private_key_to_pem",
        "public_key_from_doc", "public_key_from_jwk", "public_key_from_raw",
        "public_key_to_jwk", "public_key_to_raw",
        # node_tls: TLS between nodes
        "ETCD_LEAF_LIFETIME", "ETCD_SERVER_NAME", "LEAF_LIFETIME", "DevicePins", "NodeLeaf",
        "NodeTls", "device_anchor", "make_etcd_certificate", "make_node_certificate",
        "peer_node",
        # passwords, rbac, revocation
        "password_hash", "password_proof", "DEFAULT_RBAC_MODEL", "DEFAULT_RBAC_POLICY",
        "RbacEnforcer", "POLL_INTERVAL", "REVOCATIONS_KEY", "REVOKED_SESSION", "RevocationPoller",
        "RevocationSet", "Revocations", "verify_hub_session_key",
        # session_token, token_signing, token_verifier, trust_keys
        "ALGORITHM", "REFRESH_AUDIENCE", "SessionToken", "decode_unverified",
        "parse_unverified", "SERVICE_LOGIN_TTL", "USER_LOGIN_TTL", "DeviceTokenSource",
        "make_service_login_jwt", "make_user_login_jwt", "sign_token", "DEFAULT_LEEWAY",
        "TokenVerifier", "is_expiry_error", "OWNER_KIDS", "VERIFY_HUB_KID", "KeyKind",
        "PublicKeyLike", "TrustKeyStore",
    },
    "client": {
        "GrpcTransport", "InProcessTransport", "KrpcTransport", "GrpcLink", "WsLink",
        "DEFAULT_GATEWAY_PORT", "GRPC_TLS_PORT", "WWW_TLS_PORT", "Endpoint", "direct_endpoints",
        "gateway_endpoint",
        "public_endpoint", "zone_host", "Router", "SeenRevisions",
        # a wire of one's own: transports by endpoint kind
        "TransportFactory", "TransportSettings", "register_transport", "unregister_transport",
        # kevent, the node's event bus
        "AsyncKEventClient", "AsyncKEventSubscription", "KEvent", "KEventClient", "KEventError",
        "KEventReconnect", "KEventSubscription", "TokenSource",
    },
    "server": {
        "Authorizer", "DEFAULT_TIMEOUT", "Binding", "Caller", "Request", "SessionStore",
        "LOG_LEVELS", "AsgiServer", "ServerInfo", "add_server_options", "serving",
        "describe_listeners", "server_listeners",
        # listeners: a wire of one's own is a Listener
        "GrpcListener", "KrpcListener", "Listener", "Server", "Started", "register_listener",
        "unregister_listener", "GrpcTlsListener", "KrpcTlsListener", "StoreRevisions",
        "MAX_BODY", "KrpcApp", "GrpcLimits", "HttpLimits",
        "EXIT_CONFIG", "EXIT_LISTEN", "EXIT_OK", "print_ready", "run_async", "run_service",
        "stop_signals", "process_stop", "StopSignal",
        # drain: when calls in flight are cut short (the gateway drains the same way)
        "CUT_AT", "IdleSignal",
    },
    "program": {
        "APPCLIENT_TOKEN_ENV", "DeviceConfig", "RuntimeConfig", "RuntimeType",
        "find_buckyos_root", "full_app_id", "load_config", "session_token_env_key",
        "KeepAlive", "RuntimeHealth", "RetryPolicy", "BuckyOSRuntime",
        "get_buckyos_api_runtime", "init_buckyos_api_runtime", "is_buckyos_api_runtime_set",
        "reset_buckyos_api_runtime", "set_buckyos_api_runtime",
        "akevent_client", "kevent_client", "kevent_url",
        "KEventMirror", "KEventPublishQueue", "publish_events_to_kevent",
        # clients: one accessor per service, sync and asyncio; tasks
        "DEFAULT_SERVICE_TIMEOUT", "SERVICE_TIMEOUTS", "service_timeout",
        "get_task_manager_client", "get_async_task_manager_client",
        "get_task_dispatcher_client", "get_async_task_dispatcher_client",
        "get_aicc_client", "get_async_aicc_client", "get_msg_center_client",
        "get_async_msg_center_client", "get_kmsg_client", "get_async_kmsg_client",
        "get_repo_service_client", "get_async_repo_service_client", "get_scheduler_client",
        "get_async_scheduler_client", "get_workflow_client", "get_async_workflow_client",
        "TaskManagerClient", "AsyncTaskManagerClient",
    },
}  # fmt: skip


def facade(room: str) -> ModuleType:
    return importlib.import_module(f"buckyos.runtime.{room}")


def room_modules(room: str) -> set[str]:
    return {info.name for info in pkgutil.iter_modules(facade(room).__path__)}


def test_every_room_has_a_pinned_facade() -> None:
    assert (
        set(FACADE_API)
        == set(ROOMS)
        == {p.name for p in (ROOT / "runtime").iterdir() if p.is_dir() and p.name != "__pycache__"}
    )


@pytest.mark.parametrize("room", ROOMS)
def test_facade_exports(room: str) -> None:
    module = facade(room)
    assert set(module.__all__) == FACADE_API[room]
    assert len(module.__all__) == len(FACADE_API[room])
    assert set(module._LAZY) == FACADE_API[room]
    assert set(dir(module)) >= FACADE_API[room]


@pytest.mark.parametrize("room", ROOMS)
def test_every_facade_name_resolves_to_its_module(room: str) -> None:
    module = facade(room)
    for name in module.__all__:
        home = importlib.import_module(module._LAZY[name], module.__name__)
        assert name in home.__all__, f"{home.__name__} does not export {name}"
        assert getattr(module, name) is getattr(home, name)
    with pytest.raises(AttributeError):
        _ = module.no_such_name


@pytest.mark.parametrize("room", ROOMS)
def test_type_checkers_see_the_names_the_facade_loads(room: str) -> None:
    """The ``TYPE_CHECKING`` imports (``X as X``: re-exported for mypy) and the lazy table
    name the same names from the same modules, so the two listings cannot drift."""
    module = facade(room)
    tree = ast.parse(Path(module.__file__ or "").read_text())
    seen: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            for stmt in node.body:
                assert isinstance(stmt, ast.ImportFrom) and stmt.module
                for alias in stmt.names:
                    assert alias.asname == alias.name, f"{alias.name} needs 'as {alias.name}'"
                    seen[alias.name] = stmt.module
    expected = {name: f"{module.__name__}{rel}" for name, rel in module._LAZY.items()}
    assert seen == expected


@pytest.mark.parametrize("room", ROOMS)
def test_a_facade_name_never_shadows_a_module_of_its_room(room: str) -> None:
    """``from buckyos.runtime.wire import jsontext`` must keep meaning the module; this is
    why the server's facade has no ``serve`` (the function is ``buckyos.runtime.serve``)."""
    assert not set(facade(room).__all__) & room_modules(room)


def test_the_package_facade_takes_room_names_from_the_rooms() -> None:
    """What ``buckyos.runtime`` loads from a room, that room's facade lists too."""
    for name, module in runtime._LAZY.items():
        parts = module.split(".")
        if parts[1] in ROOMS and name != "serve":
            assert name in FACADE_API[parts[1]], f"buckyos.runtime.{name} is not in {parts[1]}"
    assert runtime.serve is importlib.import_module("buckyos.runtime.server.serve").serve


def loaded_after(statement: str) -> set[str]:
    """The modules a fresh interpreter holds after ``statement``."""
    code = f"{statement}\nimport sys\nprint(' '.join(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split())


def test_importing_the_facades_loads_no_room_module() -> None:
    loaded = loaded_after("import " + ", ".join(f"buckyos.runtime.{room}" for room in ROOMS))
    assert not {m for m in loaded if m.count(".") >= 3 and m.startswith("buckyos.runtime.")}
    assert not loaded & {"uvicorn", "grpc", "casbin", "aiohttp"}


def test_a_client_loads_no_server() -> None:
    loaded = loaded_after("from buckyos.runtime.client import KrpcTransport")
    assert not loaded & {"uvicorn", "grpc", "casbin"}
    loaded = loaded_after("from buckyos.runtime.client import GrpcTransport")
    assert "uvicorn" not in loaded
    assert not {m for m in loaded if m.startswith("buckyos.runtime.server.")}


def test_one_name_loads_its_module_not_the_room() -> None:
    loaded = loaded_after("from buckyos.runtime.security import password_hash")
    assert {m for m in loaded if m.startswith("buckyos.runtime.security.")} == {
        "buckyos.runtime.security.passwords"
    }
    loaded = loaded_after("from buckyos.runtime.server import Binding, Request")
    assert not loaded & {"uvicorn", "buckyos.runtime.server.serve"}


# -- code outside the runtime imports only public names

OUTSIDE = ("services", "cli", "examples", "bench")
PUBLIC_MODULES = frozenset({"buckyos.runtime", *(f"buckyos.runtime.{room}" for room in ROOMS)})


def outside_files() -> list[Path]:
    return sorted(
        path
        for folder in OUTSIDE
        for path in (ROOT / folder).rglob("*.py")
        if "generated" not in path.relative_to(ROOT).parts
    )


def private_imports(source: str) -> Iterator[str]:
    """Each import of ``source`` that reaches past a facade: a module inside a room or of
    the contract (``buckyos.runtime.errors``), or a name its facade does not list."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("buckyos.runtime.") and alias.name not in PUBLIC_MODULES:
                    yield f"{node.lineno}: import {alias.name}"
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if not (node.module + ".").startswith("buckyos.runtime."):
                continue
            if node.module not in PUBLIC_MODULES:
                yield f"{node.lineno}: from {node.module} import ..."
                continue
            public = set(importlib.import_module(node.module).__all__)
            for alias in node.names:
                if alias.name.startswith("_") or alias.name not in public:
                    yield f"{node.lineno}: from {node.module} import {alias.name}"


def test_the_outside_folders_are_there() -> None:
    files = {path.relative_to(ROOT).parts[0] for path in outside_files()}
    assert files == set(OUTSIDE)


@pytest.mark.parametrize("path", outside_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_outside_code_imports_only_public_names(path: Path) -> None:
    found = list(private_imports(path.read_text(encoding="utf-8")))
    assert not found, f"{path.relative_to(ROOT)} reaches past a facade:\n" + "\n".join(found)


def test_the_import_check_sees_a_private_import() -> None:
    sample = (
        "from buckyos.runtime import BuckyOSError, RuntimeType\n"
        "from buckyos.runtime.server import Binding, serving\n"
        "from buckyos.runtime.server.binding import Binding as B\n"
        "from buckyos.runtime.errors import ConfigError\n"
        "from buckyos.runtime.server import _LAZY, Verdict\n"
        "from buckyos.runtime.wire import jsontext\n"
        "import buckyos.runtime.client.krpc_client\n"
        "import buckyos.runtime.client\n"
        "from buckyos.generated.system_config_rpc import SystemConfigStub\n"
        "def main() -> None:\n"
        "    from buckyos.runtime.security.keys import load_public_key\n"
    )
    assert list(private_imports(sample)) == [
        "3: from buckyos.runtime.server.binding import ...",
        "4: from buckyos.runtime.errors import ...",
        "5: from buckyos.runtime.server import _LAZY",
        "5: from buckyos.runtime.server import Verdict",
        "6: from buckyos.runtime.wire import jsontext",
        "7: import buckyos.runtime.client.krpc_client",
        "11: from buckyos.runtime.security.keys import ...",
    ]
