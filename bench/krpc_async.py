"""Item 3: the async stub over kRPC/HTTP, 64 concurrent calls, against a raw asyncio client.

Same server, same request bytes.  The raw client writes prebuilt HTTP/1.1 requests on a
pool of asyncio-streams connections (one per concurrent task); ``httpx.AsyncClient`` is
measured too, for the record (no target: it is what the runtime must be many times).
"""

from __future__ import annotations

from buckyos.generated import system_config_pb2 as sc
from buckyos.generated.system_config_rpc import AsyncSystemConfigStub
from buckyos.runtime.client import KrpcTransport

from .context import Context
from .fixture import GET_PATH, SMALL_KEY, krpc_body, values
from .harness import Measurement, Row, best_of, measure_async, run_async
from .rawclients import HttpxAsyncPost, RawAsyncClient

__all__ = ["CONCURRENCY", "ITEM", "TITLE", "run"]

ITEM = "3"
TITLE = "kRPC async x64: async stub vs raw asyncio streams (and httpx.AsyncClient)"
CONCURRENCY = 64


def run(ctx: Context) -> list[Row]:
    url = ctx.pool.get("runtime")["krpc_url"]
    budget = ctx.budget
    body = krpc_body(SMALL_KEY, ctx.token)
    expected = values()[SMALL_KEY]

    async def ours() -> Measurement:
        transport = KrpcTransport(url, token=ctx.token)
        try:
            stub = AsyncSystemConfigStub(transport)
            answer = await stub.Get(key=SMALL_KEY)
            if not isinstance(answer, sc.GetResult) or answer.value != expected:
                raise RuntimeError(f"unexpected answer from {url}: {answer!r}")
            return await measure_async(
                "async stub/krpc",
                lambda: stub.Get(key=SMALL_KEY),
                budget,
                concurrency=CONCURRENCY,
            )
        finally:
            await transport.aclose()

    async def raw() -> Measurement:
        client = RawAsyncClient(url, GET_PATH, body)
        try:
            return await measure_async("raw asyncio", client, budget, concurrency=CONCURRENCY)
        finally:
            await client.aclose()

    async def with_httpx() -> Measurement:
        client = HttpxAsyncPost(url, GET_PATH, body)
        try:
            return await measure_async("httpx.AsyncClient", client, budget, concurrency=CONCURRENCY)
        finally:
            await client.aclose()

    mine, theirs, via_httpx = best_of(
        budget,
        lambda: run_async(ours()),
        lambda: run_async(raw()),
        lambda: run_async(with_httpx()),
    )
    return [
        Row(ITEM, "kRPC async stub vs raw asyncio, x64", mine, theirs, target=0.5),
        Row(ITEM, "kRPC async stub vs httpx.AsyncClient, x64", mine, via_httpx),
    ]
