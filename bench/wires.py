"""Item 5: the gRPC path against the kRPC path for the same verb, both through our stubs.

``Get`` of a ~100 B and of a 64 KB value, sync sequential and 64 concurrent (async
stubs), on the two wires of the same runtime server.  No target: the result says which
wire the runtime should default to in best-performance mode.  ``result`` is kRPC's rate
over gRPC's (above 1: kRPC/HTTP is faster).
"""

from __future__ import annotations

from functools import partial

from buckyos.generated import system_config_pb2 as sc
from buckyos.generated.system_config_rpc import AsyncSystemConfigStub, SystemConfigStub
from buckyos.runtime.client import GrpcTransport, KrpcTransport

from .context import Context
from .fixture import LARGE_KEY, SMALL_KEY, values
from .harness import Measurement, Row, best_of, measure_async, measure_sync, run_async

__all__ = ["CONCURRENCY", "ITEM", "TITLE", "run"]

ITEM = "5"
TITLE = "same verb: kRPC/HTTP path vs gRPC path, 100 B and 64 KB, seq and x64"
CONCURRENCY = 64

Transport = KrpcTransport | GrpcTransport


def run(ctx: Context) -> list[Row]:
    info = ctx.pool.get("runtime")
    url, target = info["krpc_url"], info["grpc_target"]
    budget = ctx.budget
    data = values()
    rows: list[Row] = []

    def make(wire: str) -> Transport:
        if wire == "krpc":
            return KrpcTransport(url, token=ctx.token)
        return GrpcTransport(target, token=ctx.token)

    def check(answer: object, key: str) -> None:
        if not isinstance(answer, sc.GetResult) or answer.value != data[key]:
            raise RuntimeError(f"unexpected answer for {key}: {str(answer)[:200]}")

    def sequential(wire: str, key: str) -> Measurement:
        with make(wire) as transport:
            stub = SystemConfigStub(transport)
            check(stub.Get(key=key), key)
            return measure_sync(f"stub/{wire}", lambda: stub.Get(key=key), budget)

    async def concurrent(wire: str, key: str) -> Measurement:
        transport = make(wire)
        try:
            stub = AsyncSystemConfigStub(transport)
            check(await stub.Get(key=key), key)
            return await measure_async(
                f"async stub/{wire}", lambda: stub.Get(key=key), budget, concurrency=CONCURRENCY
            )
        finally:
            await transport.aclose()

    def concurrent_run(wire: str, key: str) -> Measurement:
        return run_async(concurrent(wire, key))

    for key, size in ((SMALL_KEY, "100 B"), (LARGE_KEY, "64 KB")):
        krpc, grpc_ = best_of(
            budget, partial(sequential, "krpc", key), partial(sequential, "grpc", key)
        )
        rows.append(Row(ITEM, f"kRPC vs gRPC, {size}, seq", krpc, grpc_))
        krpc, grpc_ = best_of(
            budget, partial(concurrent_run, "krpc", key), partial(concurrent_run, "grpc", key)
        )
        rows.append(Row(ITEM, f"kRPC vs gRPC, {size}, x{CONCURRENCY}", krpc, grpc_))
    return rows
