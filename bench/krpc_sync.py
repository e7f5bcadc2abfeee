"""Item 2: the generated stub over kRPC/HTTP (sync, sequential) against raw HTTP clients.

Same server (the runtime's kRPC app), same request bytes: ``httpx.Client`` posting the
JSON the stub sends, and stdlib ``http.client`` on one kept-alive connection.  The raw
clients only ``json.loads`` the answer; the stub also checks ``seq`` and maps the result
to protobuf.
"""

from __future__ import annotations

from buckyos.generated.system_config_rpc import SystemConfigStub
from buckyos.runtime.client import KrpcTransport

from .context import Context
from .fixture import GET_PATH, SMALL_KEY, check_small, krpc_body
from .harness import Row, best_of, measure_sync
from .rawclients import HttpClientPost, HttpxPost

__all__ = ["ITEM", "TITLE", "run"]

ITEM = "2"
TITLE = "kRPC sync: generated stub vs httpx.Client and http.client"


def run(ctx: Context) -> list[Row]:
    url = ctx.pool.get("runtime")["krpc_url"]
    budget = ctx.budget
    body = krpc_body(SMALL_KEY, ctx.token)
    transport = KrpcTransport(url, token=ctx.token)
    httpx_post = HttpxPost(url, GET_PATH, body)
    stdlib_post = HttpClientPost(url, GET_PATH, body)
    try:
        stub = SystemConfigStub(transport)

        def ours() -> object:
            return stub.Get(key=SMALL_KEY)

        check_small(ours(), url)
        httpx_post()
        stdlib_post()
        mine, via_httpx, via_stdlib = best_of(
            budget,
            lambda: measure_sync("stub/krpc", ours, budget),
            lambda: measure_sync("httpx.Client", httpx_post, budget),
            lambda: measure_sync("http.client", stdlib_post, budget),
        )
    finally:
        transport.close()
        httpx_post.close()
        stdlib_post.close()
    return [
        Row(ITEM, "kRPC stub vs raw httpx.Client, seq", mine, via_httpx, target=1.2),
        Row(ITEM, "kRPC stub vs raw http.client, seq", mine, via_stdlib, target=0.6),
    ]
