"""The small ASGI pieces every HTTP app here shares: the kRPC wire, the WebSocket link and
the node gateway.

- the ASGI callable types;
- reading a request body under a cap (``413`` from ``content-length`` before anything is
  read, or as soon as a streamed body passes it), and refusing with a text answer;
- the lifespan protocol, with optional start-up and shut-down hooks.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any, Final

__all__ = [
    "JSON",
    "TEXT_HEADER",
    "ASGIMessage",
    "ASGIReceive",
    "ASGIScope",
    "ASGISend",
    "DisconnectedError",
    "RefusedError",
    "lifespan",
    "read_body",
    "refuse",
    "respond",
    "too_large",
]

ASGIScope = MutableMapping[str, Any]
ASGIMessage = MutableMapping[str, Any]
ASGIReceive = Callable[[], Awaitable[ASGIMessage]]
ASGISend = Callable[[ASGIMessage], Awaitable[None]]

TEXT_HEADER: Final = (b"content-type", b"text/plain; charset=utf-8")
JSON: Final = b"application/json"


class RefusedError(Exception):
    """A transport-level refusal: answered with ``status`` and a text body."""

    def __init__(
        self, status: int, text: str, *, close: bool = False, allow: bytes | None = None
    ) -> None:
        super().__init__(text)
        self.status = status
        self.text = text
        self.close = close
        self.allow = allow


class DisconnectedError(Exception):
    """The client went away before its body arrived; nothing to answer."""


def too_large(limit: int) -> str:
    return f"Payload Too Large: the body is over {limit} bytes"


async def read_body(scope: ASGIScope, receive: ASGIReceive, limit: int) -> bytes:
    """The whole request body, at most ``limit`` bytes, else ``RefusedError(413)``."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                length = int(value)
            except ValueError:
                raise RefusedError(400, "Bad Request: invalid content-length", close=True) from None
            if length > limit:
                raise RefusedError(413, too_large(limit), close=True)
            break
    message = await receive()
    if message["type"] != "http.request":
        raise DisconnectedError
    body: bytes = message.get("body", b"")
    if not message.get("more_body", False):  # the common case: one message, no join
        if len(body) > limit:
            raise RefusedError(413, too_large(limit), close=True)
        return body
    chunks = [body]
    size = len(body)
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise DisconnectedError
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise RefusedError(413, too_large(limit), close=True)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def respond(
    send: ASGISend,
    status: int,
    content_type: bytes,
    body: bytes,
    *,
    headers: Sequence[tuple[bytes, bytes]] = (),
) -> None:
    """A whole response: ``status``, ``Content-Type``, ``Content-Length``, any further
    ``headers`` and ``body``."""
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", b"%d" % len(body)),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def refuse(send: ASGISend, refused: RefusedError) -> None:
    """Answer ``refused``: its status and text (and ``Allow``, ``Connection: close``)."""
    body = refused.text.encode("utf-8")
    headers = [TEXT_HEADER, (b"content-length", b"%d" % len(body))]
    if refused.allow is not None:
        headers.append((b"allow", refused.allow))
    if refused.close:
        # The unread rest of the body must not be parsed as the next request.
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": refused.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def lifespan(
    receive: ASGIReceive,
    send: ASGISend,
    *,
    startup: Callable[[], object] | None = None,
    shutdown: Callable[[], object] | None = None,
) -> None:
    """Serve the lifespan protocol; the hooks (awaited when they return an awaitable) run
    before start-up and shut-down are reported complete."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await _run_hook(startup)
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await _run_hook(shutdown)
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _run_hook(hook: Callable[[], object] | None) -> None:
    if hook is not None:
        result = hook()
        if inspect.isawaitable(result):
            await result
