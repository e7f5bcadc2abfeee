"""The public API is small and explicit: a change to it must change this test."""

from __future__ import annotations

import buckyos.runtime as runtime
from buckyos.generated import system_config_rpc, verify_hub_rpc

RUNTIME_API = {
    "And", "AsyncStub", "AsyncUnaryInvoker", "AuthNode", "Authorizer", "Binding",
    "BuckyOSError", "Caller", "SessionStore",
    "ConfigError", "ContractError", "InternalError", "InvalidPasswordError",
    "InvalidTokenError", "JsonShape", "KeyNotExistError", "Loa", "MethodDescriptor", "No",
    "NoPermissionError", "Not", "Or", "ParseRequestError", "ParseResponseError",
    "Permission", "RPCError", "ReasonError", "Request", "ServiceBase", "ServiceDescriptor",
    "ServiceNotValidError", "SessionFlags", "Stub", "Token", "TokenExpiredError",
    "TokenInvoker", "Transport", "TransportError", "UnaryInvoker", "UnknownMethodError",
    "UserNotFoundError", "Yes", "parse_auth",
    # the client runtime, its transports, and serving
    "BuckyOSRuntime", "Endpoint", "GrpcTransport", "InProcessTransport", "KrpcTransport",
    "Router", "RuntimeConfig", "RuntimeHealth", "RuntimeType", "ServerInfo",
    "get_buckyos_api_runtime", "init_buckyos_api_runtime", "is_buckyos_api_runtime_set",
    "load_config", "reset_buckyos_api_runtime", "serve", "serving", "set_buckyos_api_runtime",
    # events and the streaming links that carry them
    "Event", "GrpcLink", "WsLink",
}  # fmt: skip


def test_runtime_exports() -> None:
    assert set(runtime.__all__) == RUNTIME_API
    assert len(runtime.__all__) == len(RUNTIME_API)
    for name in runtime.__all__:
        assert getattr(runtime, name) is not None


def test_generated_modules_export_stubs_servers_and_tables() -> None:
    assert {
        "SystemConfigStub",
        "AsyncSystemConfigStub",
        "SystemConfigServicer",
        "SYSTEM_CONFIG",
    } <= set(system_config_rpc.__all__)
    assert {"VerifyHubStub", "AsyncVerifyHubStub", "VerifyHubServicer", "VERIFY_HUB"} <= set(
        verify_hub_rpc.__all__
    )
    for module in (system_config_rpc, verify_hub_rpc):
        for name in module.__all__:
            assert hasattr(module, name)


def test_generated_modules_import_first() -> None:
    """Generated code imports this package, which must not import generated code back."""
    import subprocess
    import sys

    for module in ("system_config_rpc", "verify_hub_rpc"):
        code = f"import buckyos.generated.{module}; import buckyos.runtime as r; r.BuckyOSRuntime"
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr


def test_importing_the_package_pulls_in_no_server_or_wire_library() -> None:
    """A client needs no `server` extra, and `buckyos --help` starts quickly."""
    import subprocess
    import sys

    code = (
        "import sys, buckyos.runtime, buckyos.generated.system_config_rpc;"
        "heavy = ('uvicorn', 'grpc_health', 'grpc_reflection', 'aiohttp', 'grpc', 'casbin');"
        "print(','.join(m for m in heavy if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""
