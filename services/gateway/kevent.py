"""The gateway's ``/kapi/kevent/*``: forwarded to this node's kevent, streams included.

Upstream's node gateway forwards any ``/kapi/kevent/*`` to ``127.0.0.1:3181``
(``boot_gateway.yaml``).  Ours does the same to the kevent URL it is given
(``--kevent``), and:

- passes on the body, its content type and the caller's ``Authorization`` header(s),
  nothing else the client sent;
- marks every request as forwarded (``x-buckyos-forwarded: 1``, plus the gateway's hop
  mark and ``X-Forwarded-For``): headers the gateway builds itself, so a client can
  neither remove them nor send its own, and kevent never takes a request that came
  through the gateway for a node-local one, whatever the client sent;
- passes the answer on as it comes (status, content type, the body chunk by chunk): a
  stream flows through, never buffered whole; a client that goes away closes the
  connection to kevent;
- answers ``503`` with upstream's ``DAEMON_UNAVAILABLE`` when kevent cannot be reached,
  is not configured, or the gateway is stopping (a stream open then ends cleanly, so its
  client reconnects).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Final

import aiohttp

from buckyos.runtime.server import MAX_BODY
from buckyos.runtime.wire import (
    JSON,
    TEXT_HEADER,
    ASGIMessage,
    ASGIReceive,
    ASGIScope,
    ASGISend,
    DisconnectedError,
    RefusedError,
    dumps,
    read_body,
    refuse,
    respond,
)

__all__ = ["FORWARDED_HEADER", "KEVENT_PREFIX", "KEventForwarder", "is_kevent_path"]

KEVENT_PREFIX: Final = "/kapi/kevent"
FORWARDED_HEADER: Final = "x-buckyos-forwarded"
"""The mark kevent reads (``services/kevent/policy.py``): this request came through a
gateway, so it is not node-local."""
_HOP_HEADER: Final = "x-buckyos-gateway"
_CONNECTIONS: Final = 1024


def is_kevent_path(path: str) -> bool:
    """``/kapi/kevent`` or anything under it."""
    return path == KEVENT_PREFIX or path.startswith(KEVENT_PREFIX + "/")


def _unavailable(path: str, detail: str) -> bytes:
    text = f"DAEMON_UNAVAILABLE: {detail}"
    if path.rstrip("/").endswith("/stream"):
        return dumps({"error": text})
    return dumps({"status": "err", "code": "DAEMON_UNAVAILABLE", "message": text})


class KEventForwarder:
    """Forwards ``/kapi/kevent/*`` to ``url`` (kevent's base, ``http://127.0.0.1:3181``);
    ``url=None`` answers 503 saying the gateway has no kevent."""

    def __init__(
        self, url: str | None, *, connect_timeout: float = 2.0, max_body: int = MAX_BODY
    ) -> None:
        base = url.rstrip("/") if url else None
        if base is not None and base.endswith(KEVENT_PREFIX):
            base = base[: -len(KEVENT_PREFIX)]
        self.url = base
        self._timeout = aiohttp.ClientTimeout(total=None, sock_connect=connect_timeout)
        self._max_body = max_body
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = False

    @property
    def open(self) -> int:
        """Requests being forwarded (open streams included)."""
        return len(self._tasks)

    def stop(self) -> None:
        """End every forwarded request now (a stream ends cleanly) and refuse new ones."""
        self._stopping = True
        for task in list(self._tasks):
            task.cancel()

    async def aclose(self) -> None:
        self.stop()
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    def _open_session(self) -> aiohttp.ClientSession:
        session = self._session
        if session is None or session.closed:
            session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=_CONNECTIONS),
                skip_auto_headers=("User-Agent", "Accept-Encoding"),
                auto_decompress=False,
            )
            self._session = session
        return session

    async def handle(self, scope: ASGIScope, receive: ASGIReceive, send: ASGISend) -> None:
        """One ``/kapi/kevent/*`` request."""
        path: str = scope["path"]
        if self.url is None:
            detail = "this gateway forwards to no kevent (start it with --kevent URL)"
            await respond(send, 503, JSON, _unavailable(path, detail))
            return
        if self._stopping:
            await respond(send, 503, JSON, _unavailable(path, "the gateway is stopping"))
            return
        task = asyncio.current_task()
        assert task is not None
        started = False

        async def tracked(message: ASGIMessage) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        self._tasks.add(task)
        try:
            await self._forward(self.url, scope, receive, tracked)
        except asyncio.CancelledError:
            if not self._stopping:
                raise
            task.uncancel()
            with contextlib.suppress(OSError):
                if started:
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                else:
                    await respond(send, 503, JSON, _unavailable(path, "the gateway is stopping"))
        finally:
            self._tasks.discard(task)

    async def _forward(
        self, base: str, scope: ASGIScope, receive: ASGIReceive, send: ASGISend
    ) -> None:
        path: str = scope["path"]
        try:
            body = await read_body(scope, receive, self._max_body)
        except RefusedError as refused:
            await refuse(send, refused)
            return
        except DisconnectedError:
            return
        # Built here: of what the client sent, only its content type and token go on.
        headers: list[tuple[str, str]] = [
            ("Content-Type", "application/json"),
            (FORWARDED_HEADER, "1"),
            (_HOP_HEADER, "1"),
        ]
        client = scope.get("client")
        if client:
            headers.append(("X-Forwarded-For", str(client[0])))
        for name, value in scope["headers"]:
            if name == b"content-type":
                headers[0] = ("Content-Type", value.decode("latin-1"))
            elif name == b"authorization":
                headers.append(("Authorization", value.decode("latin-1")))
        gone = asyncio.ensure_future(_disconnected(receive))
        pump = asyncio.ensure_future(
            self._pump(base + path, scope["method"], body, headers, path, send)
        )
        try:
            await asyncio.wait((gone, pump), return_when=asyncio.FIRST_COMPLETED)
        finally:
            gone.cancel()
            if not pump.done():
                pump.cancel()  # the client went away (or we are cancelled): close kevent's side
            await asyncio.wait((pump,))
        if not pump.cancelled():
            pump.result()

    async def _pump(
        self,
        url: str,
        method: str,
        body: bytes,
        headers: list[tuple[str, str]],
        path: str,
        send: ASGISend,
    ) -> None:
        session = self._open_session()
        started = False
        try:
            async with session.request(
                method,
                url,
                data=body,
                headers=headers,
                timeout=self._timeout,
                allow_redirects=False,
            ) as response:
                if 300 <= response.status < 400:
                    text = f"Bad Gateway: kevent at {url} answered a redirect (not followed)"
                    await respond(send, 502, TEXT_HEADER[1], text.encode("utf-8"))
                    return
                out = [(b"content-type", response.headers.get("Content-Type", "").encode())]
                for name in ("Content-Length", "Cache-Control", "WWW-Authenticate"):
                    value = response.headers.get(name)
                    if value is not None:
                        out.append((name.lower().encode(), value.encode("latin-1")))
                start = {"type": "http.response.start", "status": response.status, "headers": out}
                await send(start)
                started = True
                async for chunk in response.content.iter_any():
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            detail = f"kevent at {url} is not reachable from the gateway ({type(exc).__name__})"
            await respond(send, 503, JSON, _unavailable(path, detail))
        except (aiohttp.ClientError, OSError) as exc:
            if not started:
                detail = f"kevent at {url} failed: {type(exc).__name__}"
                await respond(send, 503, JSON, _unavailable(path, detail))
                return
            # kevent dropped the answer midway (it stopped): end ours, the client retries.
            with contextlib.suppress(OSError):
                await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _disconnected(receive: ASGIReceive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
