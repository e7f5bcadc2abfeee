"""Item 8b: the reference system_config service on etcd against the same on SQLite, over
kRPC: ``Get`` (on etcd: answered from the watch-fed copy, no etcd round trip) and ``Set``
(on etcd: one compare-guarded transaction, then the copy catching up to it; on SQLite: one
``synchronous=FULL`` transaction).  And what reading one's own writes costs a client: the
same ``Get`` on etcd through a ``Router`` that keeps and sends the revisions answers carry
(``x-buckyos-revision``) against one that does not (``read_your_writes=False``); the server
says the revision either way.

etcd is one member on loopback (``tests/etcd.py`` finds the binary: ``make etcd``), with a
data directory in the run's temporary folder; without etcd the comparison is not run.
"""

from __future__ import annotations

import itertools
import json
import socket
from typing import Any

from buckyos.generated.system_config_rpc import SystemConfigStub
from buckyos.runtime.client import Endpoint, KrpcTransport, Router
from tests.etcd import find_etcd

from .context import Context
from .harness import Row, ServerProcess, UnavailableError, best_of, measure_sync
from .services import start_system_config

__all__ = ["ITEM", "TITLE", "run"]

ITEM = "8b"
TITLE = (
    "system_config on etcd vs on SQLite over kRPC: Get (from the copy), Set; a Router "
    "reading its own writes vs not"
)
VALUE = "v" * 100


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _start_etcd(ctx: Context) -> str:
    binary = find_etcd()
    if binary is None:
        raise UnavailableError("no etcd binary (run make etcd)")
    client, peer = _free_port(), _free_port()
    url, peer_url = f"http://127.0.0.1:{client}", f"http://127.0.0.1:{peer}"
    argv = [
        binary,
        "--name=bench",
        f"--data-dir={ctx.workdir / 'etcd'}",
        f"--listen-client-urls={url}",
        f"--advertise-client-urls={url}",
        f"--listen-peer-urls={peer_url}",
        f"--initial-advertise-peer-urls={peer_url}",
        f"--initial-cluster=bench={peer_url}",
        "--heartbeat-interval=200",
        "--election-timeout=2000",
        "--logger=zap",
    ]

    def ready(line: str) -> dict[str, Any] | None:
        # etcd logs one of these (by version) once it serves clients.
        serving = "serving client traffic" in line or "ready to serve client requests" in line
        return {"url": url} if serving else None

    info = ctx.pool.add(ServerProcess(argv, ready=ready, name="etcd"))
    return str(info["url"])


def run(ctx: Context) -> list[Row]:
    etcd_url = _start_etcd(ctx)
    on_etcd = start_system_config(ctx, "system_config_etcd", ["--etcd", etcd_url])
    on_sqlite = start_system_config(ctx, "system_config_8b")
    budget = ctx.budget
    with (
        KrpcTransport(on_etcd.url, token=on_etcd.token) as etcd_transport,
        KrpcTransport(on_sqlite.url, token=on_sqlite.token) as sqlite_transport,
    ):
        etcd, sqlite = SystemConfigStub(etcd_transport), SystemConfigStub(sqlite_transport)
        key = "users/alice/apps/bench/settings"
        for stub in (etcd, sqlite):
            stub.Set(key=key, value=VALUE)
            answer = stub.Get(key=key)
            if answer.value != VALUE:
                raise RuntimeError(f"system_config did not keep {key}: {json.dumps(answer.value)}")
        counters = itertools.count(), itertools.count()

        def set_on(stub: SystemConfigStub, n: int) -> object:
            return stub.Set(key=key, value=f"{VALUE}{next(counters[n]) % 10}")

        get_etcd, get_sqlite = best_of(
            budget,
            lambda: measure_sync("Get on etcd", lambda: etcd.Get(key=key), budget),
            lambda: measure_sync("Get on SQLite", lambda: sqlite.Get(key=key), budget),
        )
        set_etcd, set_sqlite = best_of(
            budget,
            lambda: measure_sync("Set on etcd", lambda: set_on(etcd, 0), budget),
            lambda: measure_sync("Set on SQLite", lambda: set_on(sqlite, 1), budget),
        )
        endpoint = Endpoint("krpc", on_etcd.url, "direct")
        with (
            Router(lambda api: [endpoint], token=on_etcd.token) as reading,
            Router(lambda api: [endpoint], token=on_etcd.token, read_your_writes=False) as blind,
        ):
            mine, theirs = SystemConfigStub(reading), SystemConfigStub(blind)
            mine.Get(key=key)
            if reading.revisions is None or not reading.revisions.get("system_config"):
                raise RuntimeError("system_config on etcd answered no x-buckyos-revision")
            get_reading, get_blind = best_of(
                budget,
                lambda: measure_sync("Router, revisions", lambda: mine.Get(key=key), budget),
                lambda: measure_sync("Router, none", lambda: theirs.Get(key=key), budget),
            )
    return [
        Row(ITEM, "system_config Get on etcd vs on SQLite, seq", get_etcd, get_sqlite),
        Row(ITEM, "system_config Set on etcd vs on SQLite, seq", set_etcd, set_sqlite),
        Row(ITEM, "Get on etcd: Router reading its writes vs not", get_reading, get_blind),
    ]
