"""The node gateway: ``POST /kapi/<service>`` on port 3180, forwarded to a started instance.

Upstream's "maximum compatibility" way to reach a service (``buckyos-protocol.md``
section 4): a program that cannot resolve a service itself posts to
``http://127.0.0.1:3180/kapi/<service>`` and the gateway forwards the call, bytes
untouched, to an instance that system_config lists as started, skipping dead ones.

Modules, one job each:

instances    ``Instance``, the ``InstanceSource`` protocol, a static source and one that
             reads ``services/<svc>/info`` and ``services/<svc>/instances/*``
pool         cached instance lists (background refresh), dead marks, weighted order
credentials  the gateway's device-signed token for system_config, re-signed in time, and
             the signed client address it adds to calls for verify-hub
app          the ASGI app: routing, body cap, forwarding, failover, error answers
kevent       ``/kapi/kevent/*`` to the node's kevent: the caller's token passed on, the
             request marked forwarded, streams passed through as they come
server       ``gateway_serving()``: the app under uvicorn on one socket
__main__     ``python -m buckyos.services.gateway --system-config URL ...``

See ``docs/gateway.md``.
"""

from __future__ import annotations

from .app import GatewayApp
from .credentials import ClientAddressSigner, DeviceTokenInvoker
from .instances import (
    Instance,
    InstanceSource,
    StaticInstanceSource,
    SystemConfigInstanceSource,
)
from .pool import InstancePool
from .server import DEFAULT_PORT, gateway_serving

__all__ = [
    "DEFAULT_PORT",
    "ClientAddressSigner",
    "DeviceTokenInvoker",
    "GatewayApp",
    "Instance",
    "InstancePool",
    "InstanceSource",
    "StaticInstanceSource",
    "SystemConfigInstanceSource",
    "gateway_serving",
]
