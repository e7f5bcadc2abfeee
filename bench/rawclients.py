"""The raw baselines: the same kRPC JSON posted with no runtime in between.

Each posts prebuilt request bytes over a kept-alive connection and parses the JSON
answer (the least a caller must do with it); none maps to protobuf or checks ``seq``.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import urllib.parse
from typing import Any

import httpx

__all__ = ["HttpClientPost", "HttpxAsyncPost", "HttpxPost", "RawAsyncClient"]

_HEADERS = {"Content-Type": "application/json"}


def _check(status: int, data: bytes) -> Any:
    if status != 200:
        raise RuntimeError(f"HTTP {status}: {data[:200]!r}")
    value = json.loads(data)
    if "result" not in value:
        raise RuntimeError(f"not a kRPC result: {data[:200]!r}")
    return value


class HttpClientPost:
    """stdlib ``http.client``: one persistent connection, ``request`` / ``getresponse``."""

    def __init__(self, base_url: str, path: str, body: bytes) -> None:
        parts = urllib.parse.urlsplit(base_url)
        assert parts.hostname is not None
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=15)
        self.path = path
        self.body = body

    def __call__(self) -> Any:
        try:
            self.conn.request("POST", self.path, self.body, _HEADERS)
            response = self.conn.getresponse()
        except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
            # The server closed the idle kept-alive connection between rounds (uvicorn's
            # keep-alive timeout): reconnect once, as any real client does.
            self.conn.close()
            self.conn.request("POST", self.path, self.body, _HEADERS)
            response = self.conn.getresponse()
        return _check(response.status, response.read())

    def close(self) -> None:
        self.conn.close()


class HttpxPost:
    """``httpx.Client().post(...)``: what most Python code would write."""

    def __init__(self, base_url: str, path: str, body: bytes) -> None:
        self.client = httpx.Client(base_url=base_url, timeout=15)
        self.path = path
        self.body = body

    def __call__(self) -> Any:
        response = self.client.post(self.path, content=self.body, headers=_HEADERS)
        return _check(response.status_code, response.content)

    def close(self) -> None:
        self.client.close()


class HttpxAsyncPost:
    """``httpx.AsyncClient().post(...)``, for the record: the obvious async choice."""

    def __init__(self, base_url: str, path: str, body: bytes) -> None:
        limits = httpx.Limits(max_connections=128, max_keepalive_connections=128)
        self.client = httpx.AsyncClient(base_url=base_url, timeout=15, limits=limits)
        self.path = path
        self.body = body

    async def __call__(self) -> Any:
        response = await self.client.post(self.path, content=self.body, headers=_HEADERS)
        return _check(response.status_code, response.content)

    async def aclose(self) -> None:
        await self.client.aclose()


class RawAsyncClient:
    """HTTP/1.1 by hand over asyncio streams: a pool of kept-alive connections.

    The fastest a Python asyncio client can reasonably be: the request bytes are built
    once, the answer is read with ``readuntil`` + ``readexactly``.  A task takes an idle
    connection (or opens one), so 64 concurrent tasks use 64 connections.
    """

    def __init__(self, base_url: str, path: str, body: bytes) -> None:
        parts = urllib.parse.urlsplit(base_url)
        assert parts.hostname is not None and parts.port is not None
        self.host = parts.hostname
        self.port = parts.port
        self.request = (
            f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode() + body
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self._all: list[asyncio.StreamWriter] = []

    async def __call__(self) -> Any:
        if self._idle:
            reader, writer = self._idle.pop()
        else:
            reader, writer = await asyncio.open_connection(self.host, self.port)
            self._all.append(writer)
        writer.write(self.request)
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        start = head.lower().find(b"content-length:")
        if start < 0:
            raise RuntimeError(f"no content-length in {head!r}")
        end = head.find(b"\r\n", start)
        data = await reader.readexactly(int(head[start + 15 : end]))
        self._idle.append((reader, writer))
        return _check(status, data)

    async def aclose(self) -> None:
        writers, self._all, self._idle = self._all, [], []
        for writer in writers:
            writer.close()
        for writer in writers:
            try:
                await writer.wait_closed()
            except OSError:
                pass
