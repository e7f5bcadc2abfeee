"""Item 9: against a peer, connect-python (Connect protocol, JSON and binary proto).

The same message (``Get`` of the ~100 B value) from connect-python's own client to its
own ASGI application, served by uvicorn with the runtime's settings, against our
generated stub to our kRPC server.  Both sync sequential and async with 64 concurrent
calls.  Compression is off on the Connect side (its client gzips requests by default;
we compress nothing either).  Connect has no auth here; ours checks the token (cached).
"""

from __future__ import annotations

from typing import Any, Final

from connectrpc.client import ConnectClient, ConnectClientSync
from connectrpc.method import IdempotencyLevel, MethodInfo

from buckyos.generated import system_config_pb2 as sc
from buckyos.generated.system_config_rpc import SystemConfigStub
from buckyos.runtime.client import KrpcTransport

from .context import Context
from .fixture import SMALL_KEY, check_small
from .harness import Measurement, Row, best_of, measure_async, measure_sync, run_async
from .krpc_async import CONCURRENCY, measure_async_stub

__all__ = ["CONCURRENCY", "GET_METHOD", "ITEM", "TITLE", "run"]

ITEM = "9"
TITLE = "peer: our kRPC stub vs connect-python (JSON and proto), seq and x64"

GET_METHOD: Final[MethodInfo[sc.KeyRequest, sc.GetResult]] = MethodInfo(
    name="Get",
    service_name="buckyos.system_config.SystemConfig",
    input=sc.KeyRequest,
    output=sc.GetResult,
    idempotency_level=IdempotencyLevel.NO_SIDE_EFFECTS,
)
"""What protoc-gen-connect-python writes for ``SystemConfig.Get``."""


def _client_options(proto_json: bool) -> dict[str, Any]:
    return {"proto_json": proto_json, "send_compression": None, "accept_compression": ()}


def run(ctx: Context) -> list[Row]:
    url = ctx.pool.get("runtime")["krpc_url"]
    connect_url = ctx.pool.get("connect")["url"]
    budget = ctx.budget

    def ours_sync() -> Measurement:
        with KrpcTransport(url, token=ctx.token) as transport:
            stub = SystemConfigStub(transport)
            check_small(stub.Get(key=SMALL_KEY), "our stub")
            return measure_sync("stub/krpc", lambda: stub.Get(key=SMALL_KEY), budget)

    def connect_sync(proto_json: bool) -> Measurement:
        label = "connect " + ("json" if proto_json else "proto")
        with ConnectClientSync(connect_url, **_client_options(proto_json)) as client:

            def call() -> sc.GetResult:
                return client.execute_unary(request=sc.KeyRequest(key=SMALL_KEY), method=GET_METHOD)

            check_small(call(), label)
            return measure_sync(label, call, budget)

    async def connect_async(proto_json: bool) -> Measurement:
        label = "connect async " + ("json" if proto_json else "proto")
        async with ConnectClient(connect_url, **_client_options(proto_json)) as client:

            async def call() -> sc.GetResult:
                return await client.execute_unary(
                    request=sc.KeyRequest(key=SMALL_KEY), method=GET_METHOD
                )

            check_small(await call(), label)
            return await measure_async(label, call, budget, concurrency=CONCURRENCY)

    mine, json_, proto = best_of(
        budget, ours_sync, lambda: connect_sync(True), lambda: connect_sync(False)
    )
    amine, ajson, aproto = best_of(
        budget,
        lambda: run_async(measure_async_stub(url, ctx.token, budget, "our async stub")),
        lambda: run_async(connect_async(True)),
        lambda: run_async(connect_async(False)),
    )
    return [
        Row(ITEM, "kRPC stub vs connect JSON, seq", mine, json_, target=1.0),
        Row(ITEM, "kRPC stub vs connect proto, seq", mine, proto, target=1.0),
        Row(ITEM, f"kRPC async stub vs connect JSON, x{CONCURRENCY}", amine, ajson, target=1.0),
        Row(ITEM, f"kRPC async stub vs connect proto, x{CONCURRENCY}", amine, aproto, target=1.0),
    ]
