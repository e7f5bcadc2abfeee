"""Item 6: an in-process call with auth against calling the handler directly.

Both in one event loop, sequential: ``AsyncSystemConfigStub(InProcessTransport(binding,
token=...)).Get(...)`` (request copy, verb lookup, token check from the cache, auth
tree, the handler under the job timeout) against ``await service.Get(message, req)``.
The result is the extra time per call, in microseconds.
"""

from __future__ import annotations

from buckyos.generated import system_config_pb2 as sc
from buckyos.generated.system_config_rpc import SYSTEM_CONFIG_GET, AsyncSystemConfigStub
from buckyos.runtime.client import InProcessTransport
from buckyos.runtime.server import Request

from .context import Context
from .fixture import SMALL_KEY, BenchService, build_binding, values
from .harness import Measurement, Row, best_of, measure_async, run_async

__all__ = ["ITEM", "TITLE", "run"]

ITEM = "6"
TITLE = "in-process call with auth vs the handler called directly"


def run(ctx: Context) -> list[Row]:
    budget = ctx.budget
    expected = values()[SMALL_KEY]

    async def in_process() -> Measurement:
        binding = build_binding(ctx.keys.owner_jwk)
        try:
            stub = AsyncSystemConfigStub(InProcessTransport(binding, token=ctx.token))
            answer = await stub.Get(key=SMALL_KEY)
            if answer.value != expected:
                raise RuntimeError(f"unexpected in-process answer: {answer!r}")
            return await measure_async(
                "in-process stub", lambda: stub.Get(key=SMALL_KEY), budget, concurrency=1
            )
        finally:
            binding.close()

    async def direct() -> Measurement:
        service = BenchService()
        req = Request(SYSTEM_CONFIG_GET, sc.KeyRequest(key=SMALL_KEY))
        return await measure_async(
            "handler direct",
            lambda: service.Get(sc.KeyRequest(key=SMALL_KEY), req),
            budget,
            concurrency=1,
        )

    ours, base = best_of(budget, lambda: run_async(in_process()), lambda: run_async(direct()))
    return [
        Row(ITEM, "in-process + auth vs direct handler", ours, base, "overhead_us", target=10.0)
    ]
