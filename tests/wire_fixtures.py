"""Test helpers for the wire tests: a fake dispatcher and servers on real loopback sockets.

``FakeDispatcher`` serves the kitchen-sink and system_config contracts with trivial
in-memory handlers and checks the token itself in a trivial way, so the wire tests do not
depend on the real binding.  ``ServerThread`` runs ``serve`` in a background thread with
its own event loop, for sync clients that would otherwise block the loop serving them.
"""

from __future__ import annotations

import asyncio
import socket
import socketserver
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import empty_pb2
from google.protobuf.message import Message

from buckyos.generated import system_config_pb2 as sc
from buckyos.generated.system_config_rpc import SYSTEM_CONFIG
from buckyos.runtime.descriptor import MethodDescriptor, ServiceDescriptor
from buckyos.runtime.errors import (
    InvalidTokenError,
    KeyNotExistError,
    NoPermissionError,
    ReasonError,
    TokenExpiredError,
)
from buckyos.runtime.server.serve import ServerInfo, serve
from buckyos.runtime.wire.dispatch import CallInfo
from tests.generated import kitchen_sink_pb2 as ks
from tests.generated.kitchen_sink_rpc import KITCHEN_SINK

__all__ = [
    "GOOD_TOKEN",
    "Captured",
    "FakeDispatcher",
    "RawHttpServer",
    "ServerThread",
    "free_port",
    "http_response",
]

GOOD_TOKEN = "good-token"
"""The one token the fake dispatcher accepts; ``expired-token`` is an expired one."""

Handler = Callable[[Any], Message]


@dataclass
class FakeDispatcher:
    """A ``Dispatcher`` over two contracts with in-memory handlers.

    Auth is deliberately trivial: a verb whose descriptor needs a token gets one of
    ``No permission:No session token`` (none), ``Token expired:...`` (``expired-token``)
    or ``Invalid token:...`` (anything but ``GOOD_TOKEN``).  ``calls`` records every
    ``(api/krpc, CallInfo)`` that reached a handler.
    """

    store: dict[str, tuple[str, int]] = field(default_factory=dict)
    calls: list[tuple[str, CallInfo]] = field(default_factory=list)
    delay: float = 0.0
    """Seconds every handler sleeps first (for timeout tests)."""

    def services(self) -> tuple[ServiceDescriptor, ...]:
        return (KITCHEN_SINK, SYSTEM_CONFIG)

    def lookup(self, api: str, krpc: str) -> MethodDescriptor[Any, Any] | None:
        for service in self.services():
            if service.api == api:
                return service.by_krpc.get(krpc)
        return None

    async def call(
        self, method: MethodDescriptor[Any, Any], message: Message, info: CallInfo
    ) -> Message:
        if method.needs_token:
            if info.token is None:
                raise NoPermissionError("No session token")
            if info.token == "expired-token":
                raise TokenExpiredError("expired-token")
            if info.token != GOOD_TOKEN:
                raise InvalidTokenError(f"unknown token {info.token}")
        self.calls.append((f"{method.api}/{method.krpc}", info))
        if self.delay:
            await asyncio.sleep(self.delay)
        handler: Handler = getattr(self, "_" + method.krpc, self._unimplemented)
        return handler(message)

    # --- kitchen-sink ------------------------------------------------------------------

    def _ks_echo(self, request: ks.EchoRequest) -> ks.EchoResult:
        result = ks.EchoResult(text=f"{request.owner}/{request.name} x{request.count}", kind="echo")
        if request.HasField("note"):
            result.maybe = request.note
        return result

    def _do_nothing(self, request: empty_pb2.Empty) -> empty_pb2.Empty:
        return empty_pb2.Empty()

    def _ks_close(self, request: ks.EchoRequest) -> empty_pb2.Empty:
        return empty_pb2.Empty()

    def _ks_names(self, request: ks.NameParam) -> ks.NameList:
        names = ("alpha", "alpine", "beta")
        return ks.NameList(names=[n for n in names if n.startswith(request.prefix)])

    def _ks_find(self, request: ks.EchoRequest) -> ks.Found:
        if request.name == "boom":
            raise RuntimeError("handler bug")
        if request.name == "wrong-type":
            return ks.NameList()  # type: ignore[return-value]
        if request.name == "hit":
            return ks.Found(value="found", version=7)
        return ks.Found()

    def _ks_everything(self, request: ks.AllTypes) -> ks.AllTypes:
        return request

    # --- system_config -----------------------------------------------------------------

    def _sys_config_get(self, request: sc.KeyRequest) -> sc.GetResult:
        if request.key not in self.store:
            return sc.GetResult()
        value, version = self.store[request.key]
        return sc.GetResult(value=value, version=version)

    def _sys_config_set(self, request: sc.SetRequest) -> empty_pb2.Empty:
        version = self.store.get(request.key, ("", 0))[1] + 1
        self.store[request.key] = (request.value, version)
        return empty_pb2.Empty()

    def _sys_config_delete(self, request: sc.KeyRequest) -> empty_pb2.Empty:
        if self.store.pop(request.key, None) is None:
            raise ReasonError(f"key not found : {request.key}")
        return empty_pb2.Empty()

    def _sys_config_append(self, request: sc.AppendRequest) -> empty_pb2.Empty:
        if request.key not in self.store:
            raise KeyNotExistError(request.key)
        value, version = self.store[request.key]
        self.store[request.key] = (value + request.append_value, version + 1)
        return empty_pb2.Empty()

    def _sys_config_list(self, request: sc.KeyRequest) -> sc.ListResult:
        prefix = request.key.rstrip("/") + "/"
        children = {k[len(prefix) :].split("/")[0] for k in self.store if k.startswith(prefix)}
        return sc.ListResult(keys=sorted(children))

    def _unimplemented(self, request: Message) -> Message:
        raise ReasonError("not implemented by the fake")


class ServerThread:
    """``serve(dispatcher, krpc_port=0, grpc_port=0)`` in a thread with its own loop.

    ``start()`` returns once both wires listen; ``stop()`` cancels the serve task (the
    clean-shutdown path) and joins the thread.
    """

    def __init__(self, dispatcher: Any, *, krpc: bool = True, grpc: bool = True) -> None:
        self.dispatcher = dispatcher
        self.info = ServerInfo()
        self._krpc = krpc
        self._grpc = grpc
        self._started = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[ServerInfo] | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="test-server", daemon=True)

    def _run(self) -> None:
        async def main() -> None:
            ready = asyncio.Event()
            self._loop = asyncio.get_running_loop()
            self._task = asyncio.create_task(
                serve(
                    self.dispatcher,
                    krpc_port=0 if self._krpc else None,
                    grpc_port=0 if self._grpc else None,
                    log_level="warning",
                    ready=ready,
                    info=self.info,
                    grace=1.0,
                )
            )
            waiter = asyncio.create_task(ready.wait())
            await asyncio.wait((self._task, waiter), return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            self._started.set()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

        try:
            asyncio.run(main())
        except BaseException as exc:  # pragma: no cover - reported by start()
            self._error = exc
        finally:
            self._started.set()

    def start(self) -> ServerInfo:
        self._thread.start()
        if not self._started.wait(10):
            raise TimeoutError("server did not start")
        if self._error is not None:
            raise self._error
        if self._task is not None and self._task.done() and not self._task.cancelled():
            self._task.result()
        return self.info

    def stop(self) -> None:
        if self._loop is not None and self._task is not None:
            try:
                self._loop.call_soon_threadsafe(self._task.cancel)
            except RuntimeError:  # loop already closed
                pass
        self._thread.join(10)
        if self._thread.is_alive():  # pragma: no cover
            raise TimeoutError("server did not stop")

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        assert self._loop is not None
        return self._loop

    def __enter__(self) -> ServerInfo:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def free_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@dataclass(frozen=True)
class Captured:
    """One HTTP request as it arrived on the socket."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    connection: int
    """Which accepted connection carried it (1, 2, ...)."""


def http_response(
    status: int, body: bytes, *, content_type: str = "application/json", close: bool = False
) -> bytes:
    """A complete HTTP/1.1 response."""
    head = f"HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
    if close:
        head += "Connection: close\r\n"
    return head.encode("ascii") + b"\r\n" + body


Responder = Callable[[Captured], "bytes | None"]


class RawHttpServer:
    """A tiny threaded HTTP/1.1 server on loopback that records every request.

    ``respond`` returns the raw response bytes, or ``None`` to never answer (the
    connection hangs until the server stops).  A response carrying ``Connection: close``
    closes the connection after it is sent; ``hang_up`` closes it after every response
    without saying so (a keep-alive connection the server dropped).
    """

    def __init__(self, respond: Responder, *, hang_up: bool = False) -> None:
        self.respond = respond
        self.requests: list[Captured] = []
        self.connections = 0
        self._stopping = threading.Event()
        outer = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                outer.connections += 1
                number = outer.connections
                while not outer._stopping.is_set():
                    line = self.rfile.readline()
                    if not line:
                        return
                    method, path, _ = line.decode("latin-1").split(" ", 2)
                    headers: dict[str, str] = {}
                    while True:
                        header = self.rfile.readline().decode("latin-1").strip()
                        if not header:
                            break
                        name, _, value = header.partition(":")
                        headers[name.strip().lower()] = value.strip()
                    body = self.rfile.read(int(headers.get("content-length", "0")))
                    captured = Captured(method, path, headers, body, number)
                    outer.requests.append(captured)
                    answer = outer.respond(captured)
                    if answer is None:
                        outer._stopping.wait(10)
                        return
                    self.wfile.write(answer)
                    self.wfile.flush()
                    if hang_up or b"\r\nConnection: close\r\n" in answer.split(b"\r\n\r\n")[0]:
                        return

        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True

        self._server = Server(("127.0.0.1", 0), Handler)
        self.port: int = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def __enter__(self) -> RawHttpServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
