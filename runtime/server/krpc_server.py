"""kRPC over HTTP, server side: a raw ASGI app in front of a :class:`Dispatcher`.

Upstream's wire (``buckyos-protocol.md`` section 1), byte for byte:

* ``POST /kapi/<api>`` with ``{"method", "params", "sys": [seq, token|null, trace|null]}``;
* success ``{"result": ..., "sys": [seq]}`` (``[seq, trace_id]`` when the request had one);
* an RPC failure is **HTTP 200** ``{"error": "<text>", "sys": [...]}`` with upstream's text;
* transport failures are plain-text HTTP errors: 405 (not POST), 400 (not UTF-8 JSON, or
  not a request object; the reasons are upstream's serde messages), 413 (over 1 MiB,
  refused from ``content-length`` or while streaming, never read whole), 404 (no such api).

``GET /kapi/<api>/spec`` answers the api's :meth:`ServiceDescriptor.spec` as JSON, and a
WebSocket at ``/kapi/link`` is the streaming link (calls and events in the binder's
frames, :mod:`~buckyos.runtime.server.ws_link`).

No framework on purpose: the app is benchmarked against a bare ASGI JSON echo, and every
layer (routing objects, middleware, request wrappers) costs more than the work here.
Stdlib ``json`` is kept (its C scanner and encoder, built once), because the bodies are
small and the HTTP server dominates the cost of a call.
"""

from __future__ import annotations

import logging
from typing import Any, Final

from buckyos.runtime.descriptor import ServiceDescriptor
from buckyos.runtime.errors import InternalError, RPCError, UnknownMethodError
from buckyos.runtime.server.ws_link import serve_ws_link
from buckyos.runtime.wire import jsontext
from buckyos.runtime.wire.asgi import (
    JSON,
    ASGIReceive,
    ASGIScope,
    ASGISend,
    DisconnectedError,
    RefusedError,
    lifespan,
    read_body,
    refuse,
    respond,
)
from buckyos.runtime.wire.dispatch import (
    FORWARDED_CLIENT_HEADER,
    REVISION_HEADER,
    CallInfo,
    Dispatcher,
    decode_checked,
    parse_revision,
)
from buckyos.runtime.wire.events import link_hub
from buckyos.runtime.wire.jsonmap import encode_result, envelope_of
from buckyos.runtime.wire.link import DEFAULT_LIMITS, LinkLimits

__all__ = ["MAX_BODY", "KrpcApp"]

MAX_BODY: Final = 1024 * 1024
"""Upstream's body cap (1 MiB); a larger request is answered 413."""

_U64_MAX: Final = 2**64 - 1
_PREFIX: Final = "/kapi/"

_log = logging.getLogger("buckyos.runtime.server.krpc_server")


def _parse_body(body: bytes) -> Any:
    """The request body's JSON value, or the 400 refusal saying why it is not JSON."""
    try:
        return jsontext.fast_loads(body)
    except ValueError:
        pass  # the stdlib decides what is refused, and words the 400 (the same verdicts)
    try:
        return jsontext.loads_strict(body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise RefusedError(400, f"Bad Request: body is not UTF-8: {exc}") from None
    except (ValueError, RecursionError) as exc:
        raise RefusedError(400, f"Bad Request: body is not JSON: {exc}") from None


_JSON_HEADERS: Final = (b"content-type", b"application/json")


_json_bytes: Final = jsontext.dumps


class KrpcApp:
    """ASGI app serving every api of ``dispatcher`` under ``/kapi/<api>``.

    Routes are read from ``dispatcher.services()`` at construction and re-read when a
    path misses, so an api the dispatcher adds later is found without a restart.

    The WebSocket link is served when the dispatcher has an event hub (``events``, as a
    :class:`~buckyos.runtime.server.binding.Binding` has) or ``link=True`` (then with a hub of
    its own); ``link=False`` refuses WebSockets.  ``link_limits`` bounds each connection.
    """

    __slots__ = ("_dispatcher", "_hub", "_link_limits", "_max_body", "_routes", "_specs")

    def __init__(
        self,
        dispatcher: Dispatcher,
        *,
        max_body: int = MAX_BODY,
        link: bool | None = None,
        link_limits: LinkLimits = DEFAULT_LIMITS,
    ) -> None:
        self._dispatcher = dispatcher
        self._max_body = max_body
        self._routes: dict[str, ServiceDescriptor] = {}
        self._specs: dict[str, bytes] = {}
        self._hub = link_hub(dispatcher, link)
        self._link_limits = link_limits
        self._load_routes()

    @property
    def dispatcher(self) -> Dispatcher:
        return self._dispatcher

    def _load_routes(self) -> None:
        routes: dict[str, ServiceDescriptor] = {}
        services = self._dispatcher.services()
        for service in services:
            routes[_PREFIX + service.api] = service
        for service in services:
            # (buckyos.api).aliases: more paths to the same api; an api's own name wins.
            for alias in service.aliases:
                routes.setdefault(_PREFIX + alias, service)
        self._routes = routes

    async def __call__(self, scope: ASGIScope, receive: ASGIReceive, send: ASGISend) -> None:
        kind = scope["type"]
        if kind == "http":
            # The hot path (a POST to a known api) kept flat: every call and frame here is
            # measured.
            service = self._routes.get(scope["path"])
            try:
                if service is None or scope["method"] != "POST":
                    service = await self._http(scope, send)
                if service is not None:
                    await self._rpc(service, scope, receive, send)
            except RefusedError as refused:
                await refuse(send, refused)
            except DisconnectedError:
                pass
        elif kind == "lifespan":
            await lifespan(receive, send)
        elif kind == "websocket":
            if self._hub is None:
                # No link served: closing before accept is a clean 403.
                await send({"type": "websocket.close", "code": 1000})
                return
            await serve_ws_link(
                self._dispatcher, self._hub, scope, receive, send, self._link_limits
            )

    async def _http(self, scope: ASGIScope, send: ASGISend) -> ServiceDescriptor | None:
        """Any other HTTP request: the api to call (one added since the routes were read),
        or ``None`` once answered (the spec); a refusal is raised."""
        path: str = scope["path"]
        service = self._routes.get(path)
        spec = False
        if service is None:
            service, spec = self._slow_route(path)
        if service is None:
            raise RefusedError(404, f"Not Found: no api at {path}")
        if spec:
            if scope["method"] != "GET":
                raise RefusedError(405, "Method Not Allowed: the spec takes GET", allow=b"GET")
            await self._spec(service, send)
            return None
        if scope["method"] != "POST":
            raise RefusedError(405, "Method Not Allowed: kRPC takes POST", allow=b"POST")
        return service

    def _slow_route(self, path: str) -> tuple[ServiceDescriptor | None, bool]:
        """The spec path, or an api the dispatcher added since the routes were read."""
        if path.endswith("/spec"):
            service = self._route(path[: -len("/spec")])
            if service is not None:
                return service, True
        return self._route(path), False

    def _route(self, path: str) -> ServiceDescriptor | None:
        service = self._routes.get(path)
        if service is None and path.startswith(_PREFIX):
            self._load_routes()
            service = self._routes.get(path)
        return service

    async def _spec(self, service: ServiceDescriptor, send: ASGISend) -> None:
        body = self._specs.get(service.api)
        if body is None:
            body = self._specs[service.api] = _json_bytes(service.spec())
        await respond(send, 200, JSON, body)

    async def _rpc(
        self, service: ServiceDescriptor, scope: ASGIScope, receive: ASGIReceive, send: ASGISend
    ) -> None:
        body = await read_body(scope, receive, self._max_body)
        request = _parse_body(body)
        name, params, seq, token, trace_id = _parse_request(request)
        forwarded, min_revision = _headers(scope)

        sys_out: list[Any] = [seq] if trace_id is None else [seq, trace_id]
        dispatcher = self._dispatcher
        method = dispatcher.lookup(service.api, name)
        error: RPCError
        if method is None:
            error = UnknownMethodError(name)
        else:
            try:
                message = decode_checked(dispatcher, method, params, token)
                client = scope.get("client")
                info = CallInfo(
                    token=token,
                    trace_id=trace_id,
                    transport="krpc",
                    params=params,
                    peer=f"{client[0]}:{client[1]}" if client else None,
                    seq=seq,
                    forwarded_client=forwarded,
                    min_revision=min_revision,
                )
                response = await dispatcher.call(method, message, info)
                if not isinstance(response, method.response_type):
                    raise InternalError(
                        f"{service.api}/{name} returned {type(response).__name__}, "
                        f"expected {method.response_type.DESCRIPTOR.full_name}"
                    )
                out = _json_bytes({"result": encode_result(method, response), "sys": sys_out})
            except RPCError as exc:
                error = exc
                envelope = envelope_of(method, exc)
                if envelope is not None:  # an ENVELOPE verb's ok:false is a result
                    await respond(
                        send, 200, JSON, _json_bytes({"result": envelope, "sys": sys_out})
                    )
                    return
            except Exception:
                _log.exception(
                    "kRPC %s/%s failed outside the dispatcher's errors", service.api, name
                )
                error = InternalError(f"internal error in {service.api}/{name}")
            else:
                headers = [_JSON_HEADERS, (b"content-length", b"%d" % len(out))]
                if info.revision is not None:
                    headers.append((_REVISION, b"%d" % info.revision))
                await send({"type": "http.response.start", "status": 200, "headers": headers})
                await send({"type": "http.response.body", "body": out})
                return
        await respond(send, 200, JSON, _json_bytes({"error": error.text, "sys": sys_out}))


_FORWARDED: Final = FORWARDED_CLIENT_HEADER.encode("ascii")
_REVISION: Final = REVISION_HEADER.encode("ascii")


def _headers(scope: ASGIScope) -> tuple[str | None, int]:
    """The raw ``x-buckyos-client`` header, unparsed (the last one when repeated: a proxy
    appends its own after whatever the client sent), and the ``x-buckyos-revision`` the
    caller has seen (0: none; a value that is not one is refused 400).  Only a service
    that needs the client's address verifies it, so the hot path pays one scan of the
    header list."""
    found: bytes | None = None
    revision: bytes | None = None
    for name, value in scope.get("headers", ()):
        if name == _FORWARDED:  # ASGI servers give header names lowercased
            found = value
        elif name == _REVISION:
            revision = value
    # latin-1 never fails: HTTP header bytes are not necessarily UTF-8.
    forwarded = None if found is None else found.decode("latin-1")
    if revision is None:
        return forwarded, 0
    try:
        return forwarded, parse_revision(revision.decode("latin-1"))
    except ValueError as exc:
        raise RefusedError(400, f"Bad Request: {exc}") from None


def _parse_request(request: Any) -> tuple[str, Any, int, str | None, str | None]:
    """Upstream's ``RPCRequest`` deserializer: the same checks, the same messages."""
    if type(request) is not dict:
        raise RefusedError(400, "Bad Request: the body is not a kRPC request object")
    name = request.get("method")
    if name is None and "method" not in request:
        raise RefusedError(400, "Bad Request: missing field `method`")
    if type(name) is not str:
        raise RefusedError(400, "Bad Request: method is not string")
    if "params" not in request:
        raise RefusedError(400, "Bad Request: missing field `params`")
    params = request["params"]
    seq = 0
    token: str | None = None
    trace_id: str | None = None
    if "sys" in request:
        sys = request["sys"]
        if type(sys) is not list:
            raise RefusedError(400, "Bad Request: sys is not array")
        count = len(sys)
        if count > 0:
            seq = sys[0]
            if type(seq) is not int or not 0 <= seq <= _U64_MAX:
                raise RefusedError(400, "Bad Request: sys[0] seq is not u64")
        if count > 1:
            token = sys[1]
            if token is not None and type(token) is not str:
                raise RefusedError(400, "Bad Request: sys[1] token is not string")
        if count > 2:
            trace_id = sys[2]
            if trace_id is not None and type(trace_id) is not str:
                raise RefusedError(400, "Bad Request: sys[2] trace_id is not string")
    return name, params, seq, token, trace_id
