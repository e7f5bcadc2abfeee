"""Item 3: the async stub over kRPC/HTTP, 64 concurrent calls, against a raw asyncio client.

Same server, same request bytes.  The raw client writes prebuilt HTTP/1.1 requests on a
pool of asyncio-streams connections (one per concurrent task); ``httpx.AsyncClient`` is
measured too, for the record (no target: it is what the runtime must be many times).
"""

from __future__ import annotations

from buckyos.generated.system_config_rpc import AsyncSystemConfigStub
from buckyos.runtime.client import KrpcTransport

from .context import Context
from .fixture import GET_PATH, SMALL_KEY, check_small, krpc_body
from .harness import Budget, Measurement, Row, best_of, measure_async, run_async
from .rawclients import HttpxAsyncPost, RawAsyncClient

__all__ = ["CONCURRENCY", "ITEM", "TITLE", "measure_async_stub", "run"]

ITEM = "3"
TITLE = "kRPC async x64: async stub vs raw asyncio streams (and httpx.AsyncClient)"
CONCURRENCY = 64


async def measure_async_stub(url: str, token: str, budget: Budget, who: str) -> Measurement:
    """The async stub's ``Get`` over kRPC, ``CONCURRENCY`` calls at a time (its answer
    checked first; ``who`` names the stub in the refusal)."""
    transport = KrpcTransport(url, token=token)
    try:
        stub = AsyncSystemConfigStub(transport)
        check_small(await stub.Get(key=SMALL_KEY), who)
        return await measure_async(
            "async stub/krpc", lambda: stub.Get(key=SMALL_KEY), budget, concurrency=CONCURRENCY
        )
    finally:
        await transport.aclose()


def run(ctx: Context) -> list[Row]:
    url = ctx.pool.get("runtime")["krpc_url"]
    budget = ctx.budget
    body = krpc_body(SMALL_KEY, ctx.token)

    async def raw(label: str, make: type[RawAsyncClient | HttpxAsyncPost]) -> Measurement:
        client = make(url, GET_PATH, body)
        try:
            return await measure_async(label, client, budget, concurrency=CONCURRENCY)
        finally:
            await client.aclose()

    mine, theirs, via_httpx = best_of(
        budget,
        lambda: run_async(measure_async_stub(url, ctx.token, budget, url)),
        lambda: run_async(raw("raw asyncio", RawAsyncClient)),
        lambda: run_async(raw("httpx.AsyncClient", HttpxAsyncPost)),
    )
    return [
        Row(ITEM, "kRPC async stub vs raw asyncio, x64", mine, theirs, target=0.5),
        Row(ITEM, "kRPC async stub vs httpx.AsyncClient, x64", mine, via_httpx),
    ]
