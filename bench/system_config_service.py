"""Item 8: the reference system_config service over kRPC: ``Get``, durable ``Set`` and
``exec_tx`` of 10 keys (SQLite, WAL, ``synchronous=FULL``: each write reaches the disk).

No targets: each row puts a cost next to a known one, so the table shows what the store
adds.  ``Get`` against the bench's dict-backed ``Get`` (same client, same runtime: the
difference is the service's key checks, RBAC and SQLite read); ``Set`` against that
``Get``; ``exec_tx`` of 10 keys against one ``Set``.
"""

from __future__ import annotations

import itertools

from buckyos.generated import system_config_pb2 as sc
from buckyos.generated.system_config_rpc import SystemConfigStub
from buckyos.runtime.client import KrpcTransport

from .context import Context
from .fixture import SMALL_KEY
from .harness import Row, best_of, measure_sync
from .services import start_system_config

__all__ = ["ITEM", "TITLE", "run"]

ITEM = "8"
TITLE = "system_config over kRPC: Get, durable Set, exec_tx of 10 keys"
VALUE = "v" * 100
TX_KEYS = tuple(f"users/alice/apps/bench/tx/{n}" for n in range(10))


def run(ctx: Context) -> list[Row]:
    service = start_system_config(ctx)
    bench_url = ctx.pool.get("runtime")["krpc_url"]
    budget = ctx.budget
    with (
        KrpcTransport(service.url, token=service.token) as transport,
        KrpcTransport(bench_url, token=ctx.token) as bench_transport,
    ):
        stub = SystemConfigStub(transport)
        bench = SystemConfigStub(bench_transport)
        key = "users/alice/apps/bench/settings"
        stub.Set(key=key, value=VALUE)
        answer = stub.Get(key=key)
        if answer.value != VALUE:
            raise RuntimeError(f"system_config did not keep {key}: {answer!r}")
        for tx_key in TX_KEYS:
            stub.Set(key=tx_key, value=VALUE)
        counter = itertools.count()

        def set_() -> object:
            return stub.Set(key=key, value=f"{VALUE}{next(counter) % 10}")

        tx = sc.ExecTxRequest(
            actions={k: sc.TxAction(action="update", value=VALUE) for k in TX_KEYS}
        )
        stub.ExecTx(tx)
        get, dict_get = best_of(
            budget,
            lambda: measure_sync("system_config Get", lambda: stub.Get(key=key), budget),
            lambda: measure_sync("dict Get", lambda: bench.Get(key=SMALL_KEY), budget),
        )
        put, exec_tx = best_of(
            budget,
            lambda: measure_sync("Set (durable)", set_, budget),
            lambda: measure_sync("exec_tx 10 keys", lambda: stub.ExecTx(tx), budget),
        )
    return [
        Row(ITEM, "system_config Get vs dict-backed Get, seq", get, dict_get),
        Row(ITEM, "system_config Set (durable) vs its Get, seq", put, get),
        Row(ITEM, "exec_tx of 10 keys vs one Set, seq", exec_tx, put),
    ]
