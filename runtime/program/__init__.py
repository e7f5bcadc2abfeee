"""program: what a program on BuckyOS holds.

Public names (``__all__``, pinned by ``tests/test_facades.py``), each loaded from its
module on first use::

    config     RuntimeConfig and DeviceConfig (upstream's precedence), RuntimeType, the
               environment names a program reads
    runtime    BuckyOSRuntime and the process-wide singleton
    keepalive  KeepAlive, RuntimeHealth: the token keep-alive and what it reports
    login      RetryPolicy of the login

Flows, routes, paths and trust are the runtime's parts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from buckyos.runtime.lazy import lazy_names

if TYPE_CHECKING:
    from buckyos.runtime.program.config import (
        APPCLIENT_TOKEN_ENV,
        DeviceConfig,
        RuntimeConfig,
        RuntimeType,
        find_buckyos_root,
        full_app_id,
        load_config,
        session_token_env_key,
    )
    from buckyos.runtime.program.keepalive import KeepAlive, RuntimeHealth
    from buckyos.runtime.program.login import RetryPolicy
    from buckyos.runtime.program.runtime import (
        BuckyOSRuntime,
        get_buckyos_api_runtime,
        init_buckyos_api_runtime,
        is_buckyos_api_runtime_set,
        reset_buckyos_api_runtime,
        set_buckyos_api_runtime,
    )

# name -> module it lives in; loaded on first use (PEP 562)
_LAZY: Final[dict[str, str]] = {
    "APPCLIENT_TOKEN_ENV": ".config",
    "DeviceConfig": ".config",
    "RuntimeConfig": ".config",
    "RuntimeType": ".config",
    "find_buckyos_root": ".config",
    "full_app_id": ".config",
    "load_config": ".config",
    "session_token_env_key": ".config",
    "KeepAlive": ".keepalive",
    "RuntimeHealth": ".keepalive",
    "RetryPolicy": ".login",
    "BuckyOSRuntime": ".runtime",
    "get_buckyos_api_runtime": ".runtime",
    "init_buckyos_api_runtime": ".runtime",
    "is_buckyos_api_runtime_set": ".runtime",
    "reset_buckyos_api_runtime": ".runtime",
    "set_buckyos_api_runtime": ".runtime",
}


__getattr__, __dir__ = lazy_names(__name__, _LAZY)


__all__ = [
    "APPCLIENT_TOKEN_ENV",
    "BuckyOSRuntime",
    "DeviceConfig",
    "KeepAlive",
    "RetryPolicy",
    "RuntimeConfig",
    "RuntimeHealth",
    "RuntimeType",
    "find_buckyos_root",
    "full_app_id",
    "get_buckyos_api_runtime",
    "init_buckyos_api_runtime",
    "is_buckyos_api_runtime_set",
    "load_config",
    "reset_buckyos_api_runtime",
    "session_token_env_key",
    "set_buckyos_api_runtime",
]
