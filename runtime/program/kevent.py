"""A program's kevent client: where the runtime reaches kevent, with the runtime's token.

kevent (the node's event bus, :mod:`buckyos.runtime.client.kevent`) is reached over HTTP
at ``/kapi/kevent``:

- ``service_urls={"kevent": URL}`` pins it (``http://host:3181`` for a node's own port,
  or any ``http(s)://host:port[/kapi/kevent]``);
- an AppClient (off the zone's nodes): the zone's public URL,
  ``https://<zone host>/kapi/kevent``, which the zone gateway forwards to its node's
  kevent;
- any other runtime: the node gateway, ``http://127.0.0.1:3180/kapi/kevent`` (the host
  gateway from a container, ``gateway_url=`` when moved), which forwards
  ``/kapi/kevent/*`` to node-daemon's port 3181.

The token is the runtime's current one, asked before each request (so a renewed token
is used).  Unlike upstream's runtime this makes a new client per call (not a process
singleton): close it when done.
"""

from __future__ import annotations

from typing import Any

from buckyos.runtime.client.kevent import KEventClient
from buckyos.runtime.client.kevent_async import AsyncKEventClient
from buckyos.runtime.errors import ConfigError
from buckyos.runtime.program.runtime import BuckyOSRuntime
from buckyos.runtime.wire.kevent import KEVENT_API

__all__ = ["akevent_client", "kevent_client", "kevent_url"]


def kevent_url(rt: BuckyOSRuntime) -> str:
    """The URL ``rt`` reaches kevent at (see the module docstring)."""
    routes = rt._routes
    fixed = routes._fixed(KEVENT_API) or []
    for endpoint in fixed:
        if endpoint.kind == "krpc":  # an HTTP URL: where kevent's HTTP side is
            return endpoint.address
    if any(endpoint.kind != "inprocess" for endpoint in fixed):
        raise ConfigError(
            f"kevent is reached over HTTP, not {fixed[0].kind}: pin it with "
            'service_urls={"kevent": "http://host:3181"}'
        )
    return routes.gateway(KEVENT_API).address


def kevent_client(rt: BuckyOSRuntime, **options: Any) -> KEventClient:
    """A :class:`KEventClient` on :func:`kevent_url`, with the runtime's token
    (``options``: ``timeout``, ``ssl_context``)."""
    return KEventClient(kevent_url(rt), token=rt.current_token, **options)


def akevent_client(rt: BuckyOSRuntime, **options: Any) -> AsyncKEventClient:
    """The asyncio twin of :func:`kevent_client`."""
    return AsyncKEventClient(kevent_url(rt), token=rt.current_token, **options)
