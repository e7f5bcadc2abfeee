"""The node gateway as an ASGI app: ``POST /kapi/<service>`` forwarded to an instance.

What a client sees (``buckyos-protocol.md`` sections 1 and 4):

* the instance's answer, status, content type and body **byte for byte**: the gateway
  never decodes or re-encodes JSON on the way through, so seq, trace id, results and
  errors such as ``No permission:...`` arrive exactly as the instance sent them;
* when no instance answers, an HTTP 200 kRPC error with the request's seq (and trace id)
  echoed: ``Service not valid: service info not found`` (upstream's text) for a service
  system_config does not know, ``Service not valid: no started instance of <svc> (tried
  ...)`` when none is alive;
* a call that reached an instance and then got no answer (timeout, dropped connection) is
  **not** retried on another one, because the gateway cannot know whether the verb is
  idempotent: it answers ``Failed due to reason: timeout: ...`` / ``eof: ...`` and the
  client, which knows the verb, decides;
* plain-text 404 (not ``/kapi/<service>``), 405 (not POST), 413 (over 1 MiB, refused
  without reading it all) and 400 (bad ``content-length``), like ``runtime/krpc_server``;
* a plain-text 502 when an instance answers a redirect (3xx): redirects are never
  followed, by any request the gateway makes, or an instance (anyone who can write its
  record) could make the gateway fetch any URL for the client, or re-post the client's
  body (its token) elsewhere with a 307/308;
* a plain-text 502 naming the instance when its answer is over ``max_answer`` bytes
  (:data:`DEFAULT_MAX_ANSWER`, 16 MiB): known from its ``Content-Length`` before reading,
  or while reading, so the gateway never holds more than the cap of one answer, and the
  connection to the instance is closed.

What is forwarded is the body and its content type, nothing else the client sent.  The
gateway adds two headers: ``x-buckyos-gateway`` (a gateway receiving it answers an error
instead of forwarding again, so an instance record pointing at the gateway itself cannot
loop), and for ``verify-hub`` ``x-buckyos-client``, the client's address signed by this
node's device key (``credentials.ClientAddressSigner``), which verify-hub's per-address
login throttle believes; a client-sent ``x-buckyos-client`` never reaches an instance.
One header goes through both ways, checked: ``x-buckyos-revision`` (the store revision a
client has seen, and the one an answer reflects: reading one's own writes on any node,
``runtime/server/revisions``); a value that is not a revision is a 400, as on the
instance.

When the gateway stops (:meth:`GatewayApp.drain`, which ``server.gateway_serving`` runs
beside uvicorn's shutdown), it drains like the kRPC server (``runtime/server/drain``):

* a call that arrives from then on (its body read after the stop began) is not forwarded:
  HTTP 200, ``Service not valid: <service>/<method> was not forwarded: the gateway is
  stopping``, safe to send again anywhere;
* a call in flight gets its instance's answer if it comes within ``CUT_AT`` (80%) of
  the grace period; after that it is answered HTTP 200 ``Service not valid:
  <service>/<method> was cut short: the gateway is stopping`` (the kRPC server's own
  ``... the server is stopping``, the instance may have run it), with its seq and trace
  id; a spec read is a plain-text 503 saying so, a request whose body was still being
  read a plain-text 503 too.  Never uvicorn's HTTP 500, never a traceback in the log.

Only a refused connection (the request never left) fails over to the next instance; that
instance is then skipped for a few seconds (``pool.InstancePool``).  Connections to
instances are pooled keep-alive connections of one aiohttp session, closed after
``keepalive`` idle seconds, below uvicorn's 5 s, so the gateway does not reuse a
connection the instance is closing.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import ssl
from dataclasses import dataclass
from typing import Any, Final

import aiohttp

from buckyos.generated.verify_hub_rpc import VERIFY_HUB
from buckyos.runtime import ConfigError, ReasonError, ServiceNotValidError
from buckyos.runtime.security import NodeTls
from buckyos.runtime.server import CUT_AT, MAX_BODY, IdleSignal
from buckyos.runtime.wire import (
    FORWARDED_CLIENT_HEADER,
    JSON,
    REVISION_HEADER,
    TEXT_HEADER,
    ASGIMessage,
    ASGIReceive,
    ASGIScope,
    ASGISend,
    DisconnectedError,
    RefusedError,
    dumps,
    lifespan,
    parse_revision,
    read_body,
    refuse,
    respond,
)

from .credentials import ClientAddressSigner
from .instances import Instance
from .kevent import KEventForwarder, is_kevent_path
from .pool import InstancePool

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_MAX_ANSWER",
    "DEFAULT_TIMEOUT",
    "HOP_HEADER",
    "VERIFY_HUB_API",
    "GatewayApp",
    "echo_sys",
]

DEFAULT_TIMEOUT: Final = 14.0
"""Seconds an instance has to answer; below upstream clients' 15 s, so the client gets
the gateway's reason rather than its own timeout."""
DEFAULT_CONNECT_TIMEOUT: Final = 2.0
"""Seconds to open a connection to an instance before trying the next one."""
DEFAULT_MAX_ANSWER: Final = 16 * 1024 * 1024
"""Bytes of an instance's answer (or spec) the gateway reads and passes on; more is a 502.
Larger than a request's 1 MiB (``krpc_server.MAX_BODY``): an answer may list or dump many
keys (system_config allows a user 64 MiB of them), and a value written in a 1 MiB request
comes back wrapped in a result."""
_KEEPALIVE: Final = 3.0
_CONNECTIONS: Final = 256

_PREFIX: Final = "/kapi/"
_SPEC: Final = "/spec"
_SERVICE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}")
_METHOD_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,128}")
_STOPPING: Final = "the gateway is stopping"
_U64_MAX: Final = 2**64 - 1

HOP_HEADER: Final = "x-buckyos-gateway"
"""Added to every call the gateway forwards; a call arriving with it is not forwarded."""
_HOP: Final = HOP_HEADER.encode("ascii")
_REVISION: Final = REVISION_HEADER.encode("ascii")
VERIFY_HUB_API: Final = VERIFY_HUB.api
"""The service whose calls carry the client's signed address (``x-buckyos-client``)."""

_log = logging.getLogger("buckyos.services.gateway.app")


@dataclass(slots=True)
class _Answer:
    status: int
    content_type: bytes
    body: bytes
    revision: int | None = None
    """The ``x-buckyos-revision`` the instance answered (checked), passed on."""


@dataclass(slots=True)
class _Redirected:
    """The instance answered a redirect, which is not followed."""

    status: int
    location: str


@dataclass(slots=True)
class _TooLarge:
    """The instance's answer was over the cap; it was not read whole."""


_TOO_LARGE: Final = _TooLarge()


@dataclass(slots=True)
class _NotSent:
    """The connection failed: the request never reached the instance."""

    reason: str


@dataclass(slots=True)
class _Lost:
    """The request was sent and no answer came back: the call may have run."""

    reason: str


@dataclass(slots=True)
class _InFlight:
    """One HTTP request being handled: what a stopping gateway needs to answer it."""

    service: str | None = None
    """The service its path names (``/kapi/<service>`` or ``.../spec``)."""
    spec: bool = False
    body: bytes | None = None
    """Its body, once read."""
    started: bool = False
    """A response has started: nothing else can be sent."""


def _call_name(service: str, body: bytes) -> str:
    """``<service>/<method>`` of a kRPC request body (``<service>`` when its method is not
    a plain name), as a stopping gateway names the call in its answer."""
    try:
        request = json.loads(body)
    except (ValueError, RecursionError):
        return service
    method = request.get("method") if type(request) is dict else None
    if type(method) is str and _METHOD_NAME.fullmatch(method):
        return f"{service}/{method}"
    return service


def echo_sys(body: bytes) -> list[Any]:
    """The ``sys`` of an error answer to ``body``: its seq (0 when there is none or the body
    is not a kRPC request) and its trace id when it carried one, as a server answers."""
    try:
        request = json.loads(body)
    except (ValueError, RecursionError):
        return [0]
    sys = request.get("sys") if type(request) is dict else None
    if type(sys) is not list or not sys:
        return [0]
    seq = sys[0]
    if type(seq) is not int or not 0 <= seq <= _U64_MAX:
        return [0]
    if len(sys) > 2 and type(sys[2]) is str:
        return [seq, sys[2]]
    return [seq]


async def _read_capped(response: aiohttp.ClientResponse, limit: int) -> bytes | None:
    """``response``'s body, or ``None`` once it is known to be over ``limit`` bytes (from
    its ``Content-Length``, before reading, or while reading: at most ``limit`` bytes and
    one buffered piece are held), the connection then being closed."""
    declared = response.content_length
    if declared is None or declared <= limit:
        content = response.content
        chunks: list[bytes] = []
        size = 0
        while True:
            chunk = await content.readany()
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > limit:
                break
            chunks.append(chunk)
    # Closed rather than released: the rest of the answer is never read.
    response.close()
    return None


def _revision_of(value: str | None) -> int | None:
    """An instance's ``x-buckyos-revision``, or ``None`` (absent, or not a revision: not
    passed on)."""
    if value is None:
        return None
    try:
        return parse_revision(value)
    except ValueError as exc:
        _log.warning("an instance answered a bad %s: %s", REVISION_HEADER, exc)
        return None


def _error_body(body: bytes, text: str) -> bytes:
    # jsontext escapes a lone surrogate (from a \ud800 escape in the trace id) as ASCII.
    return dumps({"error": text, "sys": echo_sys(body)})


class GatewayApp:
    """ASGI app forwarding ``POST /kapi/<service>`` to the instances ``pool`` knows.

    The aiohttp session is opened at lifespan startup (or on first use) and closed, with
    the pool, at lifespan shutdown or :meth:`aclose`.  ``client_signer`` (this node's
    device key) signs the ``x-buckyos-client`` header of calls to verify-hub; without one
    they carry none, and verify-hub counts the gateway's own address.  ``max_answer``
    caps the bytes read of one instance's answer or spec (:data:`DEFAULT_MAX_ANSWER`).
    ``kevent`` is this node's kevent (``http://127.0.0.1:3181``): ``/kapi/kevent/*`` goes
    there, streams included (:mod:`.kevent`); without it those paths answer 503.
    ``tls`` is this node's :class:`~buckyos.runtime.security.NodeTls`: an instance on
    another node (``Instance.tls``) is called over ``https`` pinned to that node's device
    key, presenting this node's certificate; without it such an instance is not called.
    """

    def __init__(
        self,
        pool: InstancePool,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        keepalive: float = _KEEPALIVE,
        max_body: int = MAX_BODY,
        max_answer: int = DEFAULT_MAX_ANSWER,
        client_signer: ClientAddressSigner | None = None,
        kevent: str | None = None,
        tls: NodeTls | None = None,
    ) -> None:
        self._pool = pool
        self._tls = tls
        self._kevent = KEventForwarder(kevent, connect_timeout=connect_timeout)
        self._signer = client_signer
        self._timeout = timeout
        self._client_timeout = aiohttp.ClientTimeout(total=timeout, sock_connect=connect_timeout)
        self._keepalive = keepalive
        self._max_body = max_body
        self._max_answer = max_answer
        self._session: aiohttp.ClientSession | None = None
        self._services: dict[str, str] = {}
        self._running: dict[asyncio.Task[Any], _InFlight] = {}
        self._stopping = False
        self._idle = IdleSignal()

    @property
    def pool(self) -> InstancePool:
        return self._pool

    # --- lifecycle ----------------------------------------------------------------------

    def _open_session(self) -> aiohttp.ClientSession:
        session = self._session
        if session is None or session.closed:
            connector = aiohttp.TCPConnector(limit=_CONNECTIONS, keepalive_timeout=self._keepalive)
            # No Accept-Encoding: an instance must not compress what we pass on untouched.
            session = aiohttp.ClientSession(
                connector=connector,
                skip_auto_headers=("User-Agent", "Accept-Encoding"),
                auto_decompress=False,
            )
            self._session = session
        return session

    @property
    def stopping(self) -> bool:
        """:meth:`drain` has begun: no call is forwarded any more."""
        return self._stopping

    @property
    def in_flight(self) -> int:
        """How many HTTP requests are being handled."""
        return len(self._running)

    async def drain(self, grace: float) -> None:
        """Stop forwarding: a call that arrives from now on is refused (``... was not
        forwarded: the gateway is stopping``); the ones in flight get ``CUT_AT * grace``
        seconds to be answered, then each one still running is cut short and answered
        ``Service not valid: <service>/<method> was cut short: the gateway is stopping``
        (a 503 for a spec read or a body still being read).  The server's own shutdown
        runs beside it (``server.gateway_serving``), with the listeners still there to
        send those answers."""
        self._stopping = True
        self._kevent.stop()  # streams end at once: their clients reconnect
        await self._idle.wait(bool(self._running), grace * CUT_AT)
        for task in list(self._running):
            task.cancel(_STOPPING)

    async def aclose(self) -> None:
        """Close the connections to instances and the pool (and its source)."""
        session, self._session = self._session, None
        if session is not None:
            await session.close()
        await self._kevent.aclose()
        await self._pool.aclose()

    # --- ASGI ---------------------------------------------------------------------------

    async def __call__(self, scope: ASGIScope, receive: ASGIReceive, send: ASGISend) -> None:
        kind = scope["type"]
        if kind == "http":
            if is_kevent_path(scope["path"]):
                await self._kevent.handle(scope, receive, send)
            else:
                await self._http(scope, receive, send)
        elif kind == "lifespan":
            await lifespan(receive, send, startup=self._open_session, shutdown=self.aclose)
        elif kind == "websocket":
            await send({"type": "websocket.close", "code": 1000})

    async def _http(self, scope: ASGIScope, receive: ASGIReceive, send: ASGISend) -> None:
        """One HTTP request, known to :meth:`drain` while it runs."""
        task = asyncio.current_task()
        call = _InFlight()
        if task is None:  # pragma: no cover - uvicorn runs each request in a task
            await self._handle(scope, receive, send, call)
            return

        async def tracked(message: ASGIMessage) -> None:
            if message["type"] == "http.response.start":
                call.started = True
            await send(message)

        running = self._running
        running[task] = call
        try:
            await self._handle(scope, receive, tracked, call)
        except asyncio.CancelledError:
            if not self._stopping:
                raise
            # Cut short by drain() (or, later, by uvicorn's own deadline): answered here,
            # never left to uvicorn's HTTP 500 and traceback.
            task.uncancel()
            if not call.started:
                try:
                    await self._answer_cut(call, send)
                except asyncio.CancelledError:  # uvicorn gave up on it: nothing left to say
                    task.uncancel()
        finally:
            del running[task]
            self._idle.ended(bool(running))

    async def _handle(
        self, scope: ASGIScope, receive: ASGIReceive, send: ASGISend, call: _InFlight
    ) -> None:
        path: str = scope["path"]
        if path.endswith(_SPEC) and scope["method"] == "GET":
            spec_of = self._service_of(path[: -len(_SPEC)])
            if spec_of is not None:
                call.service, call.spec = spec_of, True
                if self._stopping:
                    text = ServiceNotValidError(
                        f"the spec of {spec_of} was not fetched: {_STOPPING}"
                    ).text
                    await respond(send, 503, TEXT_HEADER[1], text.encode("utf-8"))
                    return
                await self._forward_spec(spec_of, scope, send)
                return
        try:
            service = self._service_of(path)
            if service is None:
                raise RefusedError(
                    404, f"Not Found: the gateway forwards /kapi/<service>, not {scope['path']}"
                )
            if scope["method"] != "POST":
                raise RefusedError(405, "Method Not Allowed: kRPC takes POST", allow=b"POST")
            call.service = service
            body = await read_body(scope, receive, self._max_body)
        except RefusedError as refused:
            await refuse(send, refused)
            return
        except DisconnectedError:
            return
        call.body = body
        if self._stopping:
            text = ServiceNotValidError(
                f"{_call_name(service, body)} was not forwarded: {_STOPPING}"
            ).text
            await respond(send, 200, JSON, _error_body(body, text))
            return
        await self._forward(service, scope, body, send)

    async def _answer_cut(self, call: _InFlight, send: ASGISend) -> None:
        """The answer to a request :meth:`drain` cut short (see the module docstring)."""
        service, body = call.service, call.body
        if service is not None and body is not None:
            text = ServiceNotValidError(f"{_call_name(service, body)} was cut short: {_STOPPING}")
            await respond(send, 200, JSON, _error_body(body, text.text))
        elif service is not None and call.spec:
            text = ServiceNotValidError(f"the spec of {service} was cut short: {_STOPPING}")
            await respond(send, 503, TEXT_HEADER[1], text.text.encode("utf-8"))
        else:  # its body was still being read: no seq to answer a kRPC error with
            text = ServiceNotValidError(f"the request was cut short: {_STOPPING}")
            await respond(send, 503, TEXT_HEADER[1], text.text.encode("utf-8"))

    def _service_of(self, path: str) -> str | None:
        service = self._services.get(path)
        if service is None and path.startswith(_PREFIX):
            name = path[len(_PREFIX) :]
            if _SERVICE_NAME.fullmatch(name) is None:
                return None
            # Bounded: a client spraying names must not grow the table without end.
            if len(self._services) < 4096:
                self._services[path] = name
            service = name
        return service

    # --- forwarding ---------------------------------------------------------------------

    async def _forward(self, service: str, scope: ASGIScope, body: bytes, send: ASGISend) -> None:
        content_type = JSON
        seen: bytes | None = None
        for name, value in scope["headers"]:
            if name == b"content-type":
                content_type = value
            elif name == _REVISION:
                seen = value
            elif name == _HOP:
                # Sent by a gateway (this one, most likely): forwarding again could loop.
                text = ServiceNotValidError(
                    f"the gateway was given a call another gateway forwarded; an instance "
                    f"record of {service} points at a gateway"
                ).text
                await respond(send, 200, JSON, _error_body(body, text))
                return
        pool = self._pool
        try:
            instances = await pool.instances(service)
        except ServiceNotValidError as exc:
            await respond(send, 200, JSON, _error_body(body, exc.text))
            return
        # Built here, from nothing the client sent but its content type: a client's own
        # x-buckyos-client (or any other header) never reaches the instance.
        headers = {"Content-Type": content_type.decode("latin-1"), HOP_HEADER: "1"}
        if seen is not None:
            try:
                headers[REVISION_HEADER] = str(parse_revision(seen.decode("latin-1")))
            except ValueError as exc:
                await refuse(send, RefusedError(400, f"Bad Request: {exc}"))
                return
        signer = self._signer
        if signer is not None and service == VERIFY_HUB_API:
            client = scope.get("client")
            if client:
                headers[FORWARDED_CLIENT_HEADER] = signer.header(client[0])
        tried: list[str] = []
        sent_to: set[str] = set()
        refreshed = False
        while True:
            for instance in pool.order(instances, skip=sent_to):
                sent_to.add(instance.url)
                outcome = await self._post(instance, body, headers)
                if isinstance(outcome, _Answer):
                    revision = outcome.revision
                    await respond(
                        send,
                        outcome.status,
                        outcome.content_type,
                        outcome.body,
                        headers=() if revision is None else ((_REVISION, b"%d" % revision),),
                    )
                    return
                if isinstance(outcome, _Redirected):
                    text = (
                        f"Bad Gateway: {service} instance {instance.describe()} answered "
                        f"HTTP {outcome.status}, a redirect to {outcome.location[:200]!r}; "
                        "the gateway does not follow redirects"
                    )
                    _log.warning("%s", text)
                    await respond(send, 502, TEXT_HEADER[1], text.encode("utf-8"))
                    return
                if isinstance(outcome, _TooLarge):
                    text = (
                        f"Bad Gateway: {service} instance {instance.describe()} answered "
                        f"over {self._max_answer} bytes, more than the gateway passes on"
                    )
                    _log.warning("%s", text)
                    await respond(send, 502, TEXT_HEADER[1], text.encode("utf-8"))
                    return
                if isinstance(outcome, _Lost):
                    text = ReasonError(
                        f"{outcome.reason}: {service} instance {instance.describe()} got the "
                        "call and gave no answer; not retried elsewhere because it may have run"
                    ).text
                    await respond(send, 200, JSON, _error_body(body, text))
                    return
                pool.mark_dead(instance)
                tried.append(f"{instance.describe()}: {outcome.reason}")
                _log.warning("%s instance %s: %s", service, instance.describe(), outcome.reason)
            if refreshed:
                break
            # Every known instance failed: the list may be old (an instance restarted on
            # another port), so look again once before giving up.
            refreshed = True
            fresh = await pool.refresh(service)
            if fresh is None:
                break
            instances = fresh
        for instance in instances:
            if instance.url not in sent_to:
                tried.append(f"{instance.describe()}: skipped, refused a connection recently")
        detail = "; ".join(tried) if tried else f"none, no node of {service} is started"
        text = ServiceNotValidError(f"no started instance of {service} (tried {detail})").text
        await respond(send, 200, JSON, _error_body(body, text))

    async def _forward_spec(self, service: str, scope: ASGIScope, send: ASGISend) -> None:
        """``GET /kapi/<service>/spec`` from the first instance that answers (a read:
        any failure moves on); ``503`` with the reason when none does."""
        if any(name == _HOP for name, _ in scope["headers"]):
            text = ServiceNotValidError(
                f"the gateway was asked for a spec another gateway forwarded; an instance "
                f"record of {service} points at a gateway"
            ).text
            await respond(send, 503, TEXT_HEADER[1], text.encode("utf-8"))
            return
        pool = self._pool
        try:
            instances = await pool.instances(service)
        except ServiceNotValidError as exc:
            await respond(send, 503, TEXT_HEADER[1], exc.text.encode("utf-8"))
            return
        tried: list[str] = []
        session = self._session
        if session is None or session.closed:
            session = self._open_session()
        for instance in pool.order(instances, skip=set()):
            context = self._ssl_for(instance)
            if isinstance(context, str):
                tried.append(f"{instance.describe()}: {context}")
                continue
            try:
                async with session.get(
                    instance.url + _SPEC,
                    headers={HOP_HEADER: "1"},
                    timeout=self._client_timeout,
                    allow_redirects=False,
                    ssl=context,
                ) as response:
                    status = response.status
                    if 300 <= status < 400:
                        # Not read, as for calls.
                        tried.append(
                            f"{instance.describe()}: HTTP {status}, a redirect (not followed)"
                        )
                        continue
                    data = await _read_capped(response, self._max_answer)
                    if data is None:
                        tried.append(
                            f"{instance.describe()}: HTTP {status}, over "
                            f"{self._max_answer} bytes (not passed on)"
                        )
                    elif status == 200:
                        await respond(send, 200, JSON, data)
                        return
                    else:
                        said = data[:160].decode("utf-8", "replace").strip()
                        said = f" ({said})" if said else ""
                        tried.append(f"{instance.describe()}: HTTP {status}{said}")
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                tried.append(f"{instance.describe()}: {type(exc).__name__}")
        detail = "; ".join(tried) if tried else f"no node of {service} is started"
        text = ServiceNotValidError(f"no instance of {service} gave its spec ({detail})").text
        await respond(send, 503, TEXT_HEADER[1], text.encode("utf-8"))

    def _ssl_for(self, instance: Instance) -> ssl.SSLContext | bool | str:
        """aiohttp's ``ssl`` for ``instance``: its node's pinned context when it is on
        another node, else the default; a string says why it cannot be called."""
        if not instance.tls:
            return True
        if self._tls is None:
            return "on another node, and this gateway has no node TLS (tls=): not called"
        try:
            return self._tls.client_context(instance.node)
        except ConfigError as exc:
            return f"not called: {exc}"

    async def _post(
        self, instance: Instance, body: bytes, headers: dict[str, str]
    ) -> _Answer | _Redirected | _TooLarge | _NotSent | _Lost:
        session = self._session
        if session is None or session.closed:
            session = self._open_session()
        context = self._ssl_for(instance)
        if isinstance(context, str):
            return _NotSent(context)
        try:
            async with session.post(
                instance.url,
                data=body,
                headers=headers,
                timeout=self._client_timeout,
                allow_redirects=False,
                ssl=context,
            ) as response:
                if 300 <= response.status < 400:
                    # Not read: whatever a redirecting instance sends is not passed on.
                    return _Redirected(response.status, response.headers.get("Location", ""))
                data = await _read_capped(response, self._max_answer)
                if data is None:
                    return _TOO_LARGE
                content_type = response.headers.get("Content-Type")
                return _Answer(
                    response.status,
                    content_type.encode("latin-1") if content_type is not None else JSON,
                    data,
                    _revision_of(response.headers.get(REVISION_HEADER)),
                )
        except aiohttp.ClientConnectorError as exc:
            if isinstance(exc.os_error, ConnectionRefusedError):
                return _NotSent("connection refused")
            return _NotSent(f"cannot connect: {exc.os_error.strerror or exc.os_error}")
        except aiohttp.ConnectionTimeoutError:
            return _NotSent("connect timeout")
        except TimeoutError:
            return _Lost(f"timeout after {self._timeout:g}s")
        except aiohttp.ServerDisconnectedError:
            return _Lost("eof")
        except (aiohttp.ClientError, OSError) as exc:
            return _Lost(f"connection reset ({type(exc).__name__}: {exc})")
