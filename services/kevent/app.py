"""kevent's HTTP wire as an ASGI app: the op protocol, publish and the stream.

Upstream's paths and answers (``upstream-services.md`` section 5.3, ``kevent/src/http.rs``):

- ``POST /kapi/kevent`` (or ``/``): the op protocol, ``{"op": "register_reader" |
  "update_reader" | "unregister_reader" | "publish_global" | "pull_event", ...}``, always
  HTTP 200 with ``{"status":"ok"}``, ``{"status":"ok","event":{...}}`` or
  ``{"status":"err","code","message":"CODE: detail"}``;
- ``POST /kapi/kevent/publish`` (or ``/publish``) ``{"eventid","data"}``:
  ``{"status":"ok"}``, or the err object with 400/503/410/500 by code;
- ``POST /kapi/kevent/stream`` (or ``/stream``) ``{"patterns","keepalive_ms"}``:
  ``application/x-ndjson`` frames ``ack``, ``event``, ``keepalive`` (after
  ``keepalive_ms``, default 15000, without an event) and ``error``;
- a body that is not the request: 400 text; a bad pattern on a stream: 400
  ``{"error":"INVALID_PATTERN: ..."}``; an unknown path: 400 ``{"error":"Unsupported kevent
  path: <p>"}``; not POST: 400 ``Method not allowed``; a body over ``max_body``: 413.

Events published over HTTP get ``source_node`` and ``ingress_node`` = this node's name,
``source_pid`` this process, ``timestamp`` now (ms).  An event frame (and a pulled event's
answer) carries ``"dropped": N`` when the reader's queue has lost N events so far (an
extra key, which upstream's serde readers ignore).

What we add (``policy``): every request is authenticated first.  A token comes as
``Authorization: Bearer <token>`` and is verified with the zone's ``TokenVerifier`` (and
revocations); a request without one is accepted only from the node's loopback, directly
(not forwarded by a gateway).  Refusals are 401 (no or bad token) and 403 (a token that
may not publish that id), in the route's own error shape.  A stream ends (cleanly, so a
client reconnects with its renewed token) when its token expires.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from buckyos.runtime import RPCError
from buckyos.runtime.client import KEventError
from buckyos.runtime.security import RevocationSet, SessionToken, TokenVerifier
from buckyos.runtime.wire import (
    DEFAULT_KEEPALIVE_MS,
    JSON,
    KEVENT_HTTP_STATUS,
    TEXT_HEADER,
    ASGIReceive,
    ASGIScope,
    ASGISend,
    DisconnectedError,
    KEvent,
    RefusedError,
    check_publish,
    dumps,
    lifespan,
    loads,
    read_body,
    refuse,
    respond,
)

from .bus import Bus, Delivery, Reader
from .policy import (
    LOCAL,
    Principal,
    is_local_request,
    parse_audience,
    principal_of,
    publish_refusal,
)

__all__ = [
    "DEFAULT_STALL_TIMEOUT",
    "MAX_BODY",
    "MAX_KEEPALIVE_MS",
    "MAX_PULL_MS",
    "MIN_KEEPALIVE_MS",
    "KEventApp",
]

MAX_BODY: Final = 256 * 1024
"""Bytes of a request body (an event's data is at most 64 KiB)."""
MAX_PULL_MS: Final = 300_000
"""The longest a ``pull_event`` waits (``timeout_ms: null`` means this long)."""
MIN_KEEPALIVE_MS: Final = 50
DEFAULT_STALL_TIMEOUT: Final = 60.0
"""Seconds a stream's write may wait on a client that does not read before the stream is
cut (its reader slot freed)."""
MAX_KEEPALIVE_MS: Final = 3_600_000
_log = logging.getLogger("buckyos.services.kevent")
_NDJSON: Final = b"application/x-ndjson"
_OK: Final = b'{"status":"ok"}'
_OPS: Final = frozenset({"/", "/kapi/kevent"})
_PUBLISH: Final = frozenset({"/publish", "/kapi/kevent/publish"})
_STREAM: Final = frozenset({"/stream", "/kapi/kevent/stream"})
_BEARER: Final = "bearer "
_NO_TOKEN: Final = (
    "No permission:No session token; send 'Authorization: Bearer <session token>' "
    "(only node-local processes connecting to kevent directly on 127.0.0.1 may omit it)"
)


@dataclass(frozen=True, slots=True)
class _Caller:
    principal: Principal
    expires: float | None
    """Unix seconds after which the token no longer holds (``None``: local)."""
    claims: SessionToken | None = None


class _RefusedError(Exception):
    """An authentication or permission refusal: ``status`` and the message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def _err(code: str, message: str) -> bytes:
    return dumps({"status": "err", "code": code, "message": message})


def _kevent_err(error: KEventError) -> bytes:
    return _err(error.code, error.text)


def _event_answer(prefix: bytes, delivery: Delivery, dropped: int, suffix: bytes) -> bytes:
    more = b',"dropped":%d' % dropped if dropped else b""
    return prefix + delivery.json + more + suffix


class KEventApp:
    """The kevent server (see the module docstring).

    ``verifier`` checks tokens (``None``: no token is accepted, only local callers);
    ``revocations`` refuses revoked sessions; ``bus`` holds the readers (a new
    :class:`~.bus.Bus` by default).  :meth:`close` ends every stream and pull: call it
    before stopping the server, so open streams do not hold the stop for its grace.
    """

    def __init__(
        self,
        *,
        node_name: str,
        verifier: TokenVerifier | None,
        revocations: RevocationSet | None = None,
        bus: Bus | None = None,
        max_body: int = MAX_BODY,
        max_pull_ms: int = MAX_PULL_MS,
        stall_timeout: float = DEFAULT_STALL_TIMEOUT,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.node_name = node_name
        self.verifier = verifier
        self.revocations = revocations
        self.bus = bus if bus is not None else Bus()
        self.max_body = max_body
        self.max_pull_ms = max_pull_ms
        self.stall_timeout = stall_timeout
        self._clock = clock
        self._pid = os.getpid()

    def close(self) -> None:
        """End every stream (cleanly) and pull (``READER_CLOSED``); refuse new readers."""
        self.bus.close()

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    # -- ASGI

    async def __call__(self, scope: ASGIScope, receive: ASGIReceive, send: ASGISend) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await lifespan(receive, send, shutdown=self.close)
        elif kind == "websocket":
            await send({"type": "websocket.close", "code": 1000})

    async def _http(self, scope: ASGIScope, receive: ASGIReceive, send: ASGISend) -> None:
        path: str = scope["path"]
        if scope["method"] != "POST":
            await respond(send, 400, TEXT_HEADER[1], b"Method not allowed")
            return
        route = path.rstrip("/") or "/"
        if route not in _OPS and route not in _PUBLISH and route not in _STREAM:
            body = dumps({"error": f"Unsupported kevent path: {path}"})
            await respond(send, 400, JSON, body)
            return
        try:
            caller = self._authenticate(scope)
        except _RefusedError as refused:
            await self._refuse(send, route, refused)
            return
        try:
            body = await read_body(scope, receive, self.max_body)
        except RefusedError as refused_body:
            await refuse(send, refused_body)
            return
        except DisconnectedError:
            return
        if route in _PUBLISH:
            await self._publish(caller, body, send)
        elif route in _STREAM:
            await self._stream(caller, body, receive, send)
        else:
            await self._op(caller, body, receive, send)

    async def _refuse(self, send: ASGISend, route: str, refused: _RefusedError) -> None:
        if route in _STREAM:
            body = dumps({"error": refused.message, "code": refused.code})
        else:
            body = _err(refused.code, refused.message)
        headers = [(b"content-type", JSON), (b"content-length", b"%d" % len(body))]
        if refused.status == 401:
            headers.append((b"www-authenticate", b'Bearer realm="kevent"'))
        await send({"type": "http.response.start", "status": refused.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    # -- authentication

    def _authenticate(self, scope: ASGIScope) -> _Caller:
        names: list[str] = []
        tokens: list[str] = []
        for raw_name, raw_value in scope["headers"]:
            name = raw_name.decode("latin-1").lower()
            names.append(name)
            if name == "authorization":
                tokens.append(raw_value.decode("latin-1"))
        if not tokens:
            client = scope.get("client")
            if is_local_request(client[0] if client else None, names):
                return _Caller(LOCAL, None)
            raise _RefusedError(401, "UNAUTHORIZED", _NO_TOKEN)
        if len(tokens) > 1:
            raise _RefusedError(
                401, "UNAUTHORIZED", "Invalid token: more than one Authorization header"
            )
        value = tokens[0].strip()
        if not value.lower().startswith(_BEARER) or not value[len(_BEARER) :].strip():
            raise _RefusedError(
                401,
                "UNAUTHORIZED",
                "Invalid token: the Authorization header must be 'Bearer <session token>'",
            )
        token = value[len(_BEARER) :].strip()
        if self.verifier is None:
            raise _RefusedError(
                401,
                "UNAUTHORIZED",
                "No permission:this kevent trusts no keys; connect directly on 127.0.0.1 "
                "without a token",
            )
        try:
            claims = self.verifier.verify(token)
            if self.revocations is not None:
                self.revocations.check(claims)
        except RPCError as exc:
            raise _RefusedError(401, "UNAUTHORIZED", exc.text) from None
        return _Caller(principal_of(claims), claims.exp + self.verifier.leeway, claims)

    # -- publish

    def _event(self, eventid: str, data: Any) -> KEvent:
        node = self.node_name
        return KEvent(eventid, node, self._pid, self._now_ms(), data, node)

    async def _publish(self, caller: _Caller, body: bytes, send: ASGISend) -> None:
        try:
            request = loads(body)
            if not isinstance(request, dict):
                raise ValueError("expected a JSON object")
            eventid = request.get("eventid")
            if not isinstance(eventid, str):
                raise ValueError("missing field `eventid`")
            audience = parse_audience(request.get("audience"))
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            text = f"Invalid kevent publish request: {exc}".encode()
            await respond(send, 400, TEXT_HEADER[1], text)
            return
        data = request.get("data")
        try:
            check_publish(eventid, data)
        except KEventError as error:
            await respond(send, KEVENT_HTTP_STATUS[error.code], JSON, _kevent_err(error))
            return
        refusal = publish_refusal(caller.principal, eventid, audience)
        if refusal is not None:
            await respond(send, 403, JSON, _err("NO_PERMISSION", f"No permission:{refusal}"))
            return
        self.bus.publish(Delivery.of(self._event(eventid, data), audience))
        await respond(send, 200, JSON, _OK)

    # -- stream

    async def _stream(
        self, caller: _Caller, body: bytes, receive: ASGIReceive, send: ASGISend
    ) -> None:
        try:
            request = loads(body)
            if not isinstance(request, dict):
                raise ValueError("expected a JSON object")
            patterns = request.get("patterns")
            keepalive = request.get("keepalive_ms")
            if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
                raise ValueError("missing field `patterns` (a list of strings)")
            if keepalive is not None and (
                not isinstance(keepalive, int) or isinstance(keepalive, bool) or keepalive < 0
            ):
                raise ValueError("keepalive_ms must be an unsigned integer")
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            text = f"Invalid kevent stream request: {exc}".encode()
            await respond(send, 400, TEXT_HEADER[1], text)
            return
        try:
            reader = self.bus.open_stream(caller.principal, patterns)
        except KEventError as error:
            answer = dumps({"error": error.text})
            await respond(send, KEVENT_HTTP_STATUS[error.code], JSON, answer)
            return
        keepalive_ms = DEFAULT_KEEPALIVE_MS if keepalive is None else keepalive
        keepalive_ms = min(max(keepalive_ms, MIN_KEEPALIVE_MS), MAX_KEEPALIVE_MS)
        watcher = asyncio.create_task(_until_disconnect(receive, reader))
        try:
            await self._serve_stream(reader, keepalive_ms, caller, send)
        finally:
            watcher.cancel()
            self.bus.close_stream(reader)

    def _still_holds(self, caller: _Caller) -> bool:
        """Whether a stream's token still holds: not expired, not revoked since."""
        if caller.expires is not None and self._clock() >= caller.expires:
            return False
        if caller.claims is not None and self.revocations is not None:
            try:
                self.revocations.check(caller.claims)
            except RPCError:
                return False
        return True

    async def _serve_stream(
        self, reader: Reader, keepalive_ms: int, caller: _Caller, send: ASGISend
    ) -> None:
        expires = caller.expires
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", _NDJSON), (b"cache-control", b"no-store")],
            }
        )

        async def line(data: bytes) -> None:
            # A client that does not read blocks this write (its events queue up and the
            # oldest go); one that reads nothing for stall_timeout loses the stream.
            message = {"type": "http.response.body", "body": data, "more_body": True}
            await asyncio.wait_for(send(message), self.stall_timeout)

        ack = {"type": "ack", "connection_id": reader.reader_id, "keepalive_ms": keepalive_ms}
        try:
            await line(dumps(ack) + b"\n")
            while not reader.closed:
                if not self._still_holds(caller):
                    break  # expired or revoked: end cleanly, the client comes back
                delivery = reader.take()
                if delivery is not None:
                    await line(
                        _event_answer(b'{"type":"event","event":', delivery, reader.dropped, b"}\n")
                    )
                    continue
                wait = keepalive_ms / 1000
                if expires is not None:
                    left = expires - self._clock()
                    if left <= 0:
                        break  # the token expired: end cleanly, the client comes back
                    wait = min(wait, left)
                reader.wake.clear()
                try:
                    await asyncio.wait_for(reader.wake.wait(), wait)
                except TimeoutError:
                    if expires is None or self._clock() < expires:
                        keepalive = {"type": "keepalive", "at_ms": self._now_ms()}
                        await line(dumps(keepalive) + b"\n")
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except OSError:
            return  # the client went away mid-write
        except TimeoutError:
            # Cut: the response cannot be ended over a connection that takes nothing, so
            # uvicorn closes it (and logs that the response was not completed).
            _log.info(
                "kevent stream %s cut: its client read nothing for %gs (%d events dropped)",
                reader.reader_id,
                self.stall_timeout,
                reader.dropped,
            )

    # -- the op protocol

    async def _op(self, caller: _Caller, body: bytes, receive: ASGIReceive, send: ASGISend) -> None:
        try:
            request = loads(body)
            if not isinstance(request, dict):
                raise ValueError("expected a JSON object")
            op = request.get("op")
            if not isinstance(op, str):
                raise ValueError("missing field `op`")
            answer = await self._run_op(caller.principal, op, request, receive)
        except KEventError as error:
            answer = _kevent_err(error)
        except _RefusedError as refused:
            answer = _err(refused.code, refused.message)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            await respond(send, 400, TEXT_HEADER[1], f"Invalid kevent request: {exc}".encode())
            return
        await respond(send, 200, JSON, answer)

    async def _run_op(
        self, who: Principal, op: str, request: dict[str, Any], receive: ASGIReceive
    ) -> bytes:
        bus = self.bus
        if op == "register_reader":
            bus.register(who, _field(request, "reader_id"), _patterns(request, "patterns"))
            return _OK
        if op == "update_reader":
            bus.update(
                who,
                _field(request, "reader_id"),
                _patterns(request, "add", default=True),
                _patterns(request, "remove", default=True),
            )
            return _OK
        if op == "unregister_reader":
            bus.unregister(who, _field(request, "reader_id"))
            return _OK
        if op == "publish_global":
            event = KEvent.from_json(_field(request, "event"))
            audience = parse_audience(request.get("audience"))
            check_publish(event.eventid, event.data)
            refusal = publish_refusal(who, event.eventid, audience)
            if refusal is not None:
                raise _RefusedError(403, "NO_PERMISSION", f"No permission:{refusal}")
            source = event.source_node if who.trusted else (who.app_id or event.source_node)
            event = KEvent(
                event.eventid,
                source,
                event.source_pid,
                event.timestamp,
                event.data,
                self.node_name,
            )
            bus.publish(Delivery.of(event, audience))
            return _OK
        if op == "pull_event":
            return await self._pull(who, request, receive)
        raise ValueError(f"unknown variant `{op}`")

    async def _pull(self, who: Principal, request: dict[str, Any], receive: ASGIReceive) -> bytes:
        reader_id = _field(request, "reader_id")
        reader = self.bus.op_reader(who, reader_id)
        timeout = request.get("timeout_ms")
        if timeout is not None and (
            not isinstance(timeout, int) or isinstance(timeout, bool) or timeout < 0
        ):
            raise ValueError("timeout_ms must be an unsigned integer or null")
        wait_ms = self.max_pull_ms if timeout is None else min(timeout, self.max_pull_ms)
        delivery = reader.take()
        if delivery is None and wait_ms > 0 and not reader.closed:
            delivery = await _wait_event(reader, wait_ms / 1000, receive)
        if delivery is None:
            if reader.closed:
                raise KEventError("READER_CLOSED", str(reader_id))
            return _OK
        return _event_answer(b'{"status":"ok","event":', delivery, reader.dropped, b"}")


def _field(request: dict[str, Any], name: str) -> Any:
    if name not in request:
        raise ValueError(f"missing field `{name}`")
    return request[name]


def _patterns(request: dict[str, Any], name: str, *, default: bool = False) -> list[str]:
    value = request.get(name)
    if value is None and default:
        return []
    if not isinstance(value, list) or not all(isinstance(p, str) for p in value):
        raise ValueError(f"missing field `{name}` (a list of strings)")
    return value


async def _until_disconnect(receive: ASGIReceive, reader: Reader) -> None:
    """Close ``reader`` when its client goes away."""
    while (await receive())["type"] != "http.disconnect":
        pass
    reader.close()


async def _wait_event(reader: Reader, seconds: float, receive: ASGIReceive) -> Delivery | None:
    """The next event of ``reader`` within ``seconds``; ``None`` on timeout, when the
    reader closes or when the client goes away."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    gone = asyncio.ensure_future(receive())
    try:
        while not reader.closed:
            delivery = reader.take()
            if delivery is not None:
                return delivery
            left = deadline - loop.time()
            if left <= 0:
                return None
            reader.wake.clear()
            woken = asyncio.ensure_future(reader.wake.wait())
            try:
                await asyncio.wait((woken, gone), timeout=left, return_when=asyncio.FIRST_COMPLETED)
            finally:
                woken.cancel()
            if gone.done():
                if gone.result()["type"] == "http.disconnect":
                    return None
                gone = asyncio.ensure_future(receive())  # not the end: keep listening
        return None
    finally:
        gone.cancel()
