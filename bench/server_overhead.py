"""Item 4: the runtime's kRPC server (token enforcement on, cached) against a bare ASGI
JSON echo under the same uvicorn settings, 64 connections.

The load comes from the raw asyncio client (the fastest one we have), posting the same
bytes to both servers, so the ratio is the server-side cost of the runtime: routing,
request checks, the binding (token, auth tree, handler), protobuf mapping, encoding.
"""

from __future__ import annotations

from .context import Context
from .fixture import GET_PATH, SMALL_KEY, krpc_body
from .harness import Measurement, Row, best_of, measure_async, run_async
from .rawclients import RawAsyncClient

__all__ = ["CONCURRENCY", "ITEM", "TITLE", "run"]

ITEM = "4"
TITLE = "kRPC server with token enforcement vs bare ASGI JSON echo, 64 connections"
CONCURRENCY = 64


def run(ctx: Context) -> list[Row]:
    runtime_url = ctx.pool.get("runtime")["krpc_url"]
    echo_url = ctx.pool.get("echo")["url"]
    budget = ctx.budget
    body = krpc_body(SMALL_KEY, ctx.token)

    async def load(label: str, url: str) -> Measurement:
        client = RawAsyncClient(url, GET_PATH, body)
        try:
            return await measure_async(label, client, budget, concurrency=CONCURRENCY)
        finally:
            await client.aclose()

    ours, echo = best_of(
        budget,
        lambda: run_async(load("KrpcApp+token", runtime_url)),
        lambda: run_async(load("bare ASGI echo", echo_url)),
    )
    return [Row(ITEM, "kRPC server vs bare ASGI echo, x64", ours, echo, target=0.8)]
