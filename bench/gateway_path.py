"""Item 5b: best-performance mode (straight to the instance) against compatibility mode
(through the node gateway) for the same call.

The same ``system_config.Get`` from the same stub, once to system_config's own kRPC URL
and once to the node gateway, which forwards ``/kapi/system_config`` to it.  ``result``
is direct over gateway; the target is at least 1.5, sequential and 64 concurrent.
"""

from __future__ import annotations

from buckyos.generated.system_config_rpc import AsyncSystemConfigStub, SystemConfigStub
from buckyos.runtime.client import KrpcTransport

from .context import Context
from .harness import Measurement, Row, best_of, measure_async, measure_sync, run_async
from .services import start_gateway, start_system_config

__all__ = ["CONCURRENCY", "ITEM", "TITLE", "run"]

ITEM = "5b"
TITLE = "best-performance (direct) vs compatibility (node gateway), same call"
CONCURRENCY = 64
KEY = "users/alice/apps/bench/settings"
VALUE = "v" * 100


def run(ctx: Context) -> list[Row]:
    service = start_system_config(ctx, "system_config_5b")
    gateway_url = start_gateway(ctx, service)
    budget = ctx.budget
    with KrpcTransport(service.url, token=service.token) as setup:
        SystemConfigStub(setup).Set(key=KEY, value=VALUE)

    def sequential(url: str, label: str) -> Measurement:
        with KrpcTransport(url, token=service.token) as transport:
            stub = SystemConfigStub(transport)
            if stub.Get(key=KEY).value != VALUE:
                raise RuntimeError(f"{label}: unexpected answer from {url}")
            return measure_sync(label, lambda: stub.Get(key=KEY), budget)

    async def concurrent(url: str, label: str) -> Measurement:
        transport = KrpcTransport(url, token=service.token)
        try:
            stub = AsyncSystemConfigStub(transport)
            return await measure_async(
                label, lambda: stub.Get(key=KEY), budget, concurrency=CONCURRENCY
            )
        finally:
            await transport.aclose()

    direct, via = best_of(
        budget,
        lambda: sequential(service.url, "direct"),
        lambda: sequential(gateway_url, "via gateway"),
    )
    adirect, avia = best_of(
        budget,
        lambda: run_async(concurrent(service.url, "direct")),
        lambda: run_async(concurrent(gateway_url, "via gateway")),
    )
    return [
        Row(ITEM, "direct vs node gateway, seq", direct, via, target=1.5),
        Row(ITEM, f"direct vs node gateway, x{CONCURRENCY}", adirect, avia, target=1.5),
    ]
