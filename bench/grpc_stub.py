"""Item 1: the generated stub over gRPC against a raw grpcio stub, same proto, same server.

Both call ``SystemConfig/Get`` on the runtime server's gRPC port with the same token in
the ``authorization`` metadata; the raw side uses protoc's ``system_config_pb2_grpc``
stub, so the ratio is the client-side cost of the runtime (stub, transport, error map).
"""

from __future__ import annotations

import grpc

from buckyos.generated import system_config_pb2 as sc, system_config_pb2_grpc
from buckyos.generated.system_config_rpc import SystemConfigStub
from buckyos.runtime.client import GrpcTransport

from .context import Context
from .fixture import SMALL_KEY, check_small
from .harness import Row, best_of, measure_sync

__all__ = ["ITEM", "TITLE", "run"]

ITEM = "1"
TITLE = "gRPC: generated stub vs raw grpcio stub (sync, sequential)"


def run(ctx: Context) -> list[Row]:
    target = ctx.pool.get("runtime")["grpc_target"]
    budget = ctx.budget
    metadata = (("authorization", f"Bearer {ctx.token}"),)
    with (
        GrpcTransport(target, token=ctx.token) as transport,
        grpc.insecure_channel(target) as channel,
    ):
        stub = SystemConfigStub(transport)
        # protoc's _pb2_grpc stubs carry no annotations.
        raw = system_config_pb2_grpc.SystemConfigStub(channel)  # type: ignore[no-untyped-call]

        def ours() -> object:
            return stub.Get(key=SMALL_KEY)

        def base() -> object:
            return raw.Get(sc.KeyRequest(key=SMALL_KEY), metadata=metadata, timeout=15)

        for call in (ours, base):
            check_small(call(), target)
        mine, theirs = best_of(
            budget,
            lambda: measure_sync("stub/grpc", ours, budget),
            lambda: measure_sync("raw grpcio", base, budget),
        )
    return [Row(ITEM, "gRPC stub vs raw grpcio, seq", mine, theirs, target=0.9)]
