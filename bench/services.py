"""Starting the reference services (issue 5) as the bench's servers under test.

Each is its own process, started through its documented entry point and stopped with
the run's :class:`~bench.harness.ServerPool`; its "listening on URL" line is its
readiness signal.  While a service is not built yet, :class:`UnavailableError` says so and
the comparisons that need it are listed as not run.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from dataclasses import dataclass
from typing import Any

from buckyos.runtime.security import (
    generate_key_pair,
    private_key_to_pem,
    public_key_to_jwk,
    sign_token,
)

from .context import Context
from .harness import ServerProcess, UnavailableError

__all__ = ["SystemConfigService", "require", "start_gateway", "start_system_config"]


def require(module: str) -> None:
    """Raise :class:`UnavailableError` unless ``python -m module`` can run here."""
    try:
        found = importlib.util.find_spec(f"{module}.__main__") is not None
    except ModuleNotFoundError:
        found = False
    if not found:
        raise UnavailableError(f"{module} has no process entry yet (issue 5)")


def _listening(prefix: str) -> Any:
    def ready(line: str) -> dict[str, Any] | None:
        line = line.strip()
        if line.startswith(prefix):
            return {"url": line[len(prefix) :].strip()}
        return None

    return ready


@dataclass(frozen=True, slots=True)
class SystemConfigService:
    """A running system_config: its kRPC URL and a token it accepts (root, kernel)."""

    url: str
    token: str
    device_name: str
    device_key_path: str


def start_system_config(
    ctx: Context, name: str = "system_config", store: list[str] | None = None
) -> SystemConfigService:
    """``python -m buckyos.services.system_config`` on a fresh SQLite file (or on
    ``store``, e.g. ``["--etcd", URL]``), kRPC only."""
    require("buckyos.services.system_config")
    device_private, device_public = generate_key_pair()
    device_name = "bench-node"
    key_path = ctx.workdir / f"{name}-device.pem"
    key_path.write_text(private_key_to_pem(device_private))
    argv = [
        sys.executable,
        "-m",
        "buckyos.services.system_config",
        *(store or ["--db", str(ctx.workdir / f"{name}.db")]),
        "--owner-key",
        json.dumps(ctx.keys.owner_jwk),
        "--device-name",
        device_name,
        "--device-key",
        json.dumps(public_key_to_jwk(device_public)),
        "--krpc-port",
        "0",
        "--no-grpc",
        "--log-level",
        "warning",
    ]
    info = ctx.pool.add(ServerProcess(argv, ready=_listening("kRPC listening on"), name=name))
    # The zone owner's own token: kid root, app kernel (allowed everything by RBAC).
    claims = {"sub": "root", "appid": "kernel", "exp": int(time.time()) + 3600}
    token = sign_token(claims, ctx.keys.private, kid="root")
    return SystemConfigService(info["url"], token, device_name, str(key_path))


def start_gateway(ctx: Context, system_config: SystemConfigService) -> str:
    """``python -m buckyos.services.gateway`` in front of ``system_config``; its URL."""
    require("buckyos.services.gateway")
    argv = [
        sys.executable,
        "-m",
        "buckyos.services.gateway",
        "--system-config",
        system_config.url,
        "--device-name",
        system_config.device_name,
        "--device-key",
        system_config.device_key_path,
        "--port",
        "0",
        "--log-level",
        "warning",
    ]
    info = ctx.pool.add(ServerProcess(argv, ready=_listening("gateway listening on"), name="gw"))
    return str(info["url"])
