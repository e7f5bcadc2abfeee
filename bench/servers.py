"""The bench's server processes: ``python -m bench.servers KIND`` (config JSON on stdin).

Each kind listens on 127.0.0.1 port 0, prints one JSON line ``{"ready": true, ...}`` with
its addresses once it accepts connections, and exits 0 on SIGTERM.  They run in their own
process so that the load generator never shares their GIL.

- ``runtime``: the runtime as a service runs it, ``serving()`` of a real
  :class:`~buckyos.runtime.server.binding.Binding` (token enforcement on) on both wires:
  ``krpc_url`` and ``grpc_target``.
- ``runtime-krpc``: the same with the gRPC server off (to see what sharing the loop
  with ``grpc.aio`` costs the kRPC wire).
- ``echo``: a bare ASGI JSON echo (read the body, ``json.loads``, answer
  ``{"result": params, "sys": [seq]}`` with ``json.dumps``) under the same uvicorn settings
  as ``runtime/serve.py`` uses for the kRPC app: ``url``.
- ``connect``: connect-python's ASGI application serving the same ``Get`` from the same
  data, same uvicorn settings: ``url``.

All three run on uvloop when it is installed, as ``serve.run`` does.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import signal
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from buckyos.runtime.server import AsgiServer, serving

from .fixture import build_binding, values

__all__ = ["connect_app", "echo_app", "main"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def echo_app(scope: Scope, receive: Receive, send: Send) -> None:
    """The bare ASGI JSON echo: the least an HTTP JSON-RPC endpoint can do."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    if scope["type"] != "http":
        return
    chunks: list[bytes] = []
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            return
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    request = json.loads(b"".join(chunks))
    out = json.dumps(
        {"result": request.get("params"), "sys": request.get("sys", [0])[:1]},
        separators=(",", ":"),
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(out)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": out})


def connect_app() -> Any:
    """connect-python serving ``SystemConfig.Get`` (what its codegen would write for it)."""
    from connectrpc.method import IdempotencyLevel, MethodInfo
    from connectrpc.request import RequestContext
    from connectrpc.server import ConnectASGIApplication, Endpoint

    from buckyos.generated import system_config_pb2 as sc

    from .connect_peer import GET_METHOD

    data = values()

    class Service:
        async def get(
            self, request: sc.KeyRequest, ctx: RequestContext[sc.KeyRequest, sc.GetResult]
        ) -> sc.GetResult:
            value = data.get(request.key)
            return sc.GetResult() if value is None else sc.GetResult(value=value, version=1)

    method: MethodInfo[sc.KeyRequest, sc.GetResult] = GET_METHOD
    assert method.idempotency_level is IdempotencyLevel.NO_SIDE_EFFECTS

    class Application(ConnectASGIApplication[Service]):
        @property
        def path(self) -> str:
            return f"/{method.service_name}"

    return Application(
        service=Service(),
        endpoints=lambda svc: {
            f"/{method.service_name}/{method.name}": Endpoint.unary(method=method, function=svc.get)
        },
        compressions=(),
    )


def _ready(**info: Any) -> None:
    print(json.dumps({"ready": True, **info}), flush=True)


async def _serve_asgi(app: Any, stop: asyncio.Event) -> None:
    # The runtime's own AsgiServer: a baseline runs under exactly the uvicorn settings of
    # the kRPC wire it is compared with.
    server = AsgiServer(app, log_level="warning")
    port = await server.start("127.0.0.1", 0)
    try:
        _ready(url=f"http://127.0.0.1:{port}")
        await stop.wait()
    finally:
        await server.stop()


async def _main(kind: str, config: dict[str, Any]) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if kind in ("runtime", "runtime-krpc"):
        binding = build_binding(config["owner_jwk"])
        grpc_port = 0 if kind == "runtime" else None
        async with serving(binding, krpc_port=0, grpc_port=grpc_port, log_level="warning") as info:
            _ready(krpc_url=info.krpc_url, grpc_target=info.grpc_target)
            await stop.wait()
    elif kind == "echo":
        await _serve_asgi(echo_app, stop)
    elif kind == "connect":
        await _serve_asgi(connect_app(), stop)
    else:
        raise SystemExit(
            f"unknown server kind {kind!r}: use runtime, runtime-krpc, echo or connect"
        )


def main(argv: list[str] | None = None) -> None:
    """Entry point: ``python -m bench.servers KIND`` with the JSON config on stdin."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        raise SystemExit("usage: python -m bench.servers KIND < config.json")
    text = sys.stdin.read()
    config: dict[str, Any] = json.loads(text) if text.strip() else {}
    factory = None
    if importlib.util.find_spec("uvloop") is not None:
        import uvloop

        factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(_main(args[0], config))


if __name__ == "__main__":
    main()
