"""kRPC over HTTP, client side: a sync and async transport speaking upstream's wire.

A request is exactly what upstream's Rust client sends (``kRPC/src/lib.rs``, serde's
compact JSON, keys in its order)::

    {"method":"sys_config_get","params":{"key":"boot/config"},"sys":[seq,token,trace]}

with trailing ``null`` s dropped from ``sys``.  Like upstream, ``seq`` starts at unix
seconds x 1,000,000 and is pre-incremented per call, the response's ``sys[0]`` must equal
it (else ``ParseResponseError``), the default timeout is 15 s and nothing is retried
that may have reached the server (an idempotent verb is resent once when a kept-alive
connection dropped).  Redirects are not followed, by either client.  An ``error``
text becomes its kind with ``error_from_text``; a call that gets no answer is a
``TransportError``.

The HTTP clients were chosen by measurement (``architecture.md``): stdlib
``http.client`` with one persistent connection per thread for sync calls (about twice
httpx's rate), aiohttp for asyncio (about 25x httpx.AsyncClient at 64 concurrent calls).
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import itertools
import re
import select
import socket
import ssl
import threading
import time
import urllib.parse
from typing import TYPE_CHECKING, Any, Final

import aiohttp
import yarl

from buckyos.runtime.client.resolve import Endpoint
from buckyos.runtime.client.revisions import SeenRevisions
from buckyos.runtime.client.transports import TransportSettings, register_transport
from buckyos.runtime.descriptor import MethodDescriptor, ReqT, RespT
from buckyos.runtime.errors import (
    ConfigError,
    ParseResponseError,
    RPCError,
    TransportError,
    error_from_http,
    error_from_text,
)
from buckyos.runtime.transport import Method, Transport
from buckyos.runtime.wire import jsontext
from buckyos.runtime.wire.dispatch import REVISION_HEADER
from buckyos.runtime.wire.jsonmap import decode_result, encode_params

if TYPE_CHECKING:
    from buckyos.runtime.security.node_tls import NodeTls

__all__ = ["DEFAULT_TIMEOUT", "KrpcTransport"]


DEFAULT_TIMEOUT: Final = 15.0
"""Upstream's client timeout, in seconds."""

_ENDPOINT = re.compile(r"/kapi/[^/]+$")
_HEADERS: Final = {"Content-Type": "application/json"}


def _seq_start() -> int:
    return int(time.time()) * 1_000_000


def _dropped(sock: socket.socket) -> bool:
    """True when an idle keep-alive socket is readable: the server closed it (or sent
    something unasked), so it must not carry the next request."""
    try:
        if hasattr(select, "poll"):
            poller = select.poll()
            poller.register(sock, select.POLLIN)
            return bool(poller.poll(0))
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return True


def _http_error(status: int, body: bytes, url: str) -> RPCError:
    """A non-2xx answer (a kRPC server answers RPC failures with 200): our mapping."""
    text = body.decode("utf-8", "replace").strip()
    if len(text) > 300:
        text = text[:300] + "..."
    return error_from_http(
        status, f"HTTP {status} from {url}: {text}" if text else f"HTTP {status} from {url}"
    )


class KrpcTransport(Transport):
    """Sync (``invoke``) and async (``ainvoke``) kRPC client for one server.

    ``base_url`` is either a server (``http://127.0.0.1:3200``: each call goes to
    ``/kapi/<api>`` of its method) or one endpoint (``https://zone/kapi/system_config``:
    every call goes there, as upstream clients take it).  ``token`` and ``trace_id`` are
    plain attributes; a runtime that renews its session token sets ``transport.token``.
    ``revisions`` (a Router gives its own) is where the store revisions answers carry are
    kept and read back for the next calls (:mod:`.revisions`).

    Close it with :meth:`close` (sync connections) and :meth:`aclose` (the aiohttp
    session of the running loop), or use it as a context manager.
    """

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        trace_id: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        ssl_context: ssl.SSLContext | None = None,
        revisions: SeenRevisions | None = None,
    ) -> None:
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"kRPC base URL must be http(s)://host[:port][/path]: {base_url!r}")
        self.base_url = base_url
        self.token = token
        self.trace_id = trace_id
        self.timeout = timeout
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port or (443 if self._https else 80)
        self._origin = f"{parts.scheme}://{parts.netloc}"
        path = parts.path.rstrip("/")
        self._endpoint: str | None = path if _ENDPOINT.search(path) else None
        self._prefix = f"{path}/kapi/"
        self._ssl = ssl_context
        self.revisions = revisions
        self._seq = itertools.count(_seq_start() + 1)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[http.client.HTTPConnection] = []
        self._sessions: dict[asyncio.AbstractEventLoop, aiohttp.ClientSession] = {}
        self._targets: dict[str, yarl.URL] = {}
        self._timeouts: dict[float, aiohttp.ClientTimeout] = {}

    def __repr__(self) -> str:
        return f"<KrpcTransport {self.base_url}>"

    # --- shared ------------------------------------------------------------------------

    def path_for(self, method: MethodDescriptor[Any, Any]) -> str:
        """The request path of ``method`` (``/kapi/<api>`` unless the URL names one)."""
        return self._endpoint if self._endpoint is not None else self._prefix + method.api

    def encode_request(
        self, method: MethodDescriptor[ReqT, Any], request: ReqT
    ) -> tuple[int, bytes]:
        """The next seq and the request body, byte for byte what upstream sends."""
        return self._encode(method, request, self.token)

    def _encode(
        self, method: MethodDescriptor[ReqT, Any], request: ReqT, token: str | None
    ) -> tuple[int, bytes]:
        return self._encode_raw(method.krpc, encode_params(method, request), token)

    def _encode_raw(self, krpc: str, params: Any, token: str | None) -> tuple[int, bytes]:
        """The next seq and the body for method name ``krpc`` with JSON ``params``."""
        seq = next(self._seq)
        trace_id = self.trace_id
        sys: list[Any] = [seq]
        if token is not None or trace_id is not None:
            sys.append(token)
            if trace_id is not None:
                sys.append(trace_id)
        body = {"method": krpc, "params": params, "sys": sys}
        return seq, jsontext.dumps(body)

    def _headers_for(self, api: str) -> dict[str, str]:
        """The request headers of a call to ``api``: the revision seen from it, if any."""
        revisions = self.revisions
        floor = revisions.get(api) if revisions is not None else 0
        return _HEADERS if not floor else {**_HEADERS, REVISION_HEADER: str(floor)}

    def _answered(self, api: str, revision: str | None) -> None:
        revisions = self.revisions
        if revisions is not None and revision is not None:
            revisions.saw_header(api, revision)

    def decode_response(
        self, method: MethodDescriptor[Any, RespT], seq: int, status: int, body: bytes, url: str
    ) -> RespT:
        """The response message, or the error the server (or the HTTP layer) sent."""
        return decode_result(method, self._decode_raw(seq, status, body, url))

    def _decode_raw(self, seq: int, status: int, body: bytes, url: str) -> Any:
        """The ``result`` JSON of a response, or the error the server (or HTTP) sent."""
        if not 200 <= status < 300:
            raise _http_error(status, body, url)
        try:
            payload = jsontext.loads(body)
        except (ValueError, RecursionError) as exc:
            raise ParseResponseError(f"response is not UTF-8 JSON: {exc}") from None
        if type(payload) is not dict:
            raise ParseResponseError("response is not a JSON object")
        answered = 0
        if "sys" in payload:
            sys = payload["sys"]
            if type(sys) is not list:
                raise ParseResponseError("sys is not array")
            if sys:
                answered = sys[0]
                if type(answered) is not int or answered < 0:
                    raise ParseResponseError("sys[0] seq is not u64")
        if answered != seq:
            raise ParseResponseError(f"seq not match: {answered}!={seq}")
        if "error" in payload:
            error = payload["error"]
            if type(error) is not str:
                raise ParseResponseError("error is not string")
            raise error_from_text(error)
        if "result" not in payload:
            raise ParseResponseError("missing field `result`")
        return payload["result"]

    # --- sync --------------------------------------------------------------------------

    def _send(
        self, method: Method[ReqT, RespT], request: ReqT, timeout: float | None, token: str | None
    ) -> RespT:
        """One call over this thread's persistent connection."""
        seq, body = self._encode(method, request, token)
        path = self.path_for(method)
        seconds = self.timeout if timeout is None else timeout
        api = method.api
        status, data, revision = self._post(
            path, body, seconds, method.idempotent, self._headers_for(api)
        )
        self._answered(api, revision)
        return self.decode_response(method, seq, status, data, self._origin + path)

    def call_json(
        self,
        api: str,
        method: str,
        params: Any,
        *,
        token: str | None = None,
        timeout: float | None = None,
    ) -> Any:
        """Call kRPC method ``method`` of ``api`` with raw JSON ``params``; the raw JSON
        result.

        For tools (``buckyos call``) that speak to verbs without a contract: the same
        body, seq check and error mapping as :meth:`invoke`.  ``token`` defaults to
        ``self.token``; the call is treated as not idempotent (never resent).
        """
        if not api or "/" in api:
            raise ValueError(f"api must be a service name without '/': {api!r}")
        seq, body = self._encode_raw(method, params, self.token if token is None else token)
        path = self._endpoint if self._endpoint is not None else self._prefix + api
        seconds = self.timeout if timeout is None else timeout
        status, data, revision = self._post(path, body, seconds, False, self._headers_for(api))
        self._answered(api, revision)
        return self._decode_raw(seq, status, data, self._origin + path)

    def _connection(self, timeout: float) -> tuple[http.client.HTTPConnection, bool]:
        conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
        if conn is None:
            if self._https:
                conn = http.client.HTTPSConnection(
                    self._host, self._port, timeout=timeout, context=self._ssl
                )
            else:
                conn = http.client.HTTPConnection(self._host, self._port, timeout=timeout)
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
            return conn, False
        conn.timeout = timeout
        sock = conn.sock
        if sock is None:
            return conn, False
        if _dropped(sock):
            conn.close()
            return conn, False
        sock.settimeout(timeout)
        return conn, True

    def _post(
        self, path: str, body: bytes, timeout: float, idempotent: bool, headers: dict[str, str]
    ) -> tuple[int, bytes, str | None]:
        """Status, body and ``x-buckyos-revision`` of the answer."""
        url = self._origin + path
        for attempt in (1, 2):
            conn, reused = self._connection(timeout)
            sent = False
            try:
                conn.request("POST", path, body, headers)
                sent = True
                response = conn.getresponse()
                return response.status, response.read(), response.getheader(REVISION_HEADER)
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                # A kept-alive connection the server dropped: retry on a fresh one when
                # the request never left, or when the verb is idempotent.
                stale = isinstance(
                    exc, http.client.RemoteDisconnected | ConnectionResetError | BrokenPipeError
                )
                if attempt == 1 and reused and stale and (not sent or idempotent):
                    continue
                raise _transport_error(exc, url, timeout) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        """Close every thread's connection (they reopen on the next call), and the aiohttp
        sessions of event loops that have closed (a running loop's needs :meth:`aclose`)."""
        with self._lock:
            connections, self._connections = self._connections, []
        for conn in connections:
            conn.close()
        self._local = threading.local()
        self._drop_dead_sessions()

    def _drop_dead_sessions(self) -> None:
        """Sessions of loops that have closed cannot be awaited shut any more: detach and
        close their connectors directly, so nothing is left for the GC to warn about."""
        for loop in [loop for loop in self._sessions if loop.is_closed()]:
            session = self._sessions.pop(loop)
            connector = session.connector
            session.detach()
            if connector is not None:
                with contextlib.suppress(Exception):  # its transports' loop is gone
                    connector._close()  # the synchronous half of close()

    # --- async -------------------------------------------------------------------------

    def _session(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        session = self._sessions.get(loop)
        if session is None or session.closed:
            self._drop_dead_sessions()
            connector = aiohttp.TCPConnector(ssl=self._ssl if self._ssl is not None else True)
            session = aiohttp.ClientSession(connector=connector)
            self._sessions[loop] = session
        return session

    async def _asend(
        self, method: Method[ReqT, RespT], request: ReqT, timeout: float | None, token: str | None
    ) -> RespT:
        """One call over this loop's aiohttp session."""
        seq, body = self._encode(method, request, token)
        path = self.path_for(method)
        target = self._targets.get(path)
        if target is None:
            # yarl parses a URL string on every request; a parsed one is reused as is.
            target = self._targets[path] = yarl.URL(self._origin + path, encoded=True)
        url = self._origin + path
        seconds = self.timeout if timeout is None else timeout
        limit = self._timeouts.get(seconds)
        if limit is None:
            if len(self._timeouts) >= 16:  # callers may vary timeouts: stay small
                self._timeouts.clear()
            limit = self._timeouts[seconds] = aiohttp.ClientTimeout(total=seconds)
        session = self._session()
        api = method.api
        try:
            # Never follow a redirect (aiohttp would): a 307/308 re-posts the body, token
            # included, wherever the server says; the sync client does not follow either.
            async with session.post(
                target,
                data=body,
                headers=self._headers_for(api),
                timeout=limit,
                allow_redirects=False,
            ) as response:
                status = response.status
                data = await response.read()
                self._answered(api, response.headers.get(REVISION_HEADER))
        except TimeoutError as exc:
            raise _transport_error(exc, url, seconds) from exc
        except aiohttp.ClientConnectorError as exc:
            raise _transport_error(exc.os_error, url, seconds) from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise _transport_error(exc, url, seconds) from exc
        return self.decode_response(method, seq, status, data, url)

    async def aclose(self) -> None:
        """Close the aiohttp session of the running loop (and the sync connections)."""
        session = self._sessions.pop(asyncio.get_running_loop(), None)
        if session is not None:
            await session.close()
        self.close()


def _transport_error(exc: BaseException, url: str, timeout: float) -> TransportError:
    if isinstance(exc, TimeoutError):
        return TransportError(f"timeout: no answer from {url} in {timeout}s")
    if isinstance(exc, ConnectionRefusedError):
        return TransportError(f"connection refused: {url}")
    if isinstance(exc, http.client.RemoteDisconnected | aiohttp.ServerDisconnectedError):
        return TransportError(f"eof: {url} closed the connection without an answer")
    if isinstance(exc, ConnectionResetError):
        return TransportError(f"connection reset: {url}")
    return TransportError(f"{url}: {type(exc).__name__}: {exc}")


def _for_endpoint(endpoint: Endpoint, settings: TransportSettings) -> KrpcTransport:
    if not endpoint.tls:
        return KrpcTransport(
            endpoint.address, timeout=settings.timeout, revisions=settings.revisions
        )
    # Another node's instance: https, trusting only that node's device key.
    if settings.tls is None or not endpoint.node:
        raise ConfigError(f"{endpoint}: node TLS needs the caller's NodeTls and a node name")
    return _NodeTlsTransport(
        endpoint.address, settings.tls, endpoint.node, settings.timeout, settings.revisions
    )


class _NodeTlsTransport(KrpcTransport):
    """kRPC to another node over node TLS.  Each call first checks this node's
    :class:`~buckyos.runtime.security.node_tls.NodeTls`: that renews a leaf that is due,
    loading it into the context in place, so new connections present it; new pins give a
    new context, and connections made from then on use it (a kept-alive connection was
    checked at its handshake and stays)."""

    def __init__(
        self,
        base_url: str,
        tls: NodeTls,
        node: str,
        timeout: float,
        revisions: SeenRevisions | None = None,
    ) -> None:
        self._tls = tls
        self._node = node
        self._generation = tls.generation
        context = tls.client_context(node)
        super().__init__(base_url, timeout=timeout, ssl_context=context, revisions=revisions)

    def _renew(self) -> None:
        generation = self._tls.generation
        if generation == self._generation:
            return
        context = self._tls.client_context(self._node)
        with self._lock:
            self._generation = generation
            if context is self._ssl:
                return  # a renewed leaf, loaded into this very context
            self._ssl = context
            self._local = threading.local()  # each thread's next connection: the new pin
            sessions, self._sessions = self._sessions, {}
        for loop, session in sessions.items():
            if not loop.is_closed():
                loop.call_soon_threadsafe(_close_session, loop, session)

    def _send(
        self, method: Method[ReqT, RespT], request: ReqT, timeout: float | None, token: str | None
    ) -> RespT:
        self._renew()
        return super()._send(method, request, timeout, token)

    async def _asend(
        self, method: Method[ReqT, RespT], request: ReqT, timeout: float | None, token: str | None
    ) -> RespT:
        self._renew()
        return await super()._asend(method, request, timeout, token)


_CLOSING: set[asyncio.Task[None]] = set()
"""Sessions being closed (the loop keeps only weak references to tasks)."""


def _close_session(loop: asyncio.AbstractEventLoop, session: aiohttp.ClientSession) -> None:
    task = loop.create_task(session.close())
    _CLOSING.add(task)
    task.add_done_callback(_CLOSING.discard)


register_transport("krpc", _for_endpoint)
