"""Attacks through the node gateway, over real sockets: redirects (SSRF), headers a client
must not pass on, the signed client address verify-hub throttles by, and instance records
that point at the gateway itself."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import jwt
import pytest

from buckyos.runtime.security.keys import generate_key_pair
from buckyos.runtime.wire.asgi import (
    ASGIReceive,
    ASGIScope,
    ASGISend,
    lifespan,
    read_body,
)
from buckyos.services.gateway.app import HOP_HEADER, GatewayApp
from buckyos.services.gateway.credentials import ClientAddressSigner
from buckyos.services.gateway.instances import Instance, StaticInstanceSource
from buckyos.services.gateway.pool import InstancePool
from buckyos.services.gateway.server import gateway_serving

KRPC = b'{"method":"login","params":{"password":"hunter2"},"sys":[42,"alice-token"]}'
SECRET = b"SECRET-BODY of an internal server"
FORGED = "eyJhbGciOiJub25lIn0.eyJjbGllbnRfYWRkciI6IjEuMi4zLjQifQ."


@dataclass
class Recorder:
    """An ASGI app that records each request (method, path, headers, body) and answers
    ``status`` with ``headers`` and ``body``."""

    status: int = 200
    headers: Sequence[tuple[bytes, bytes]] = ()
    body: bytes = b'{"result":"ok","sys":[42]}'
    seen: list[tuple[str, str, dict[str, list[str]], bytes]] = field(default_factory=list)

    async def __call__(self, scope: ASGIScope, receive: ASGIReceive, send: ASGISend) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
            return
        body = await read_body(scope, receive, 1 << 20)
        headers: dict[str, list[str]] = {}
        for name, value in scope["headers"]:
            headers.setdefault(name.decode("latin-1"), []).append(value.decode("latin-1"))
        self.seen.append((scope["method"], scope["path"], headers, body))
        out = [(b"content-length", b"%d" % len(self.body)), *self.headers]
        await send({"type": "http.response.start", "status": self.status, "headers": out})
        await send({"type": "http.response.body", "body": self.body})


class _Table:
    """A source whose table the test fills once the gateway's own URL is known."""

    def __init__(self) -> None:
        self.table: dict[str, list[str | Instance]] = {}

    async def instances(self, service: str) -> Sequence[Instance]:
        return await StaticInstanceSource(self.table).instances(service)

    async def aclose(self) -> None:
        pass


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


async def _post(url: str, body: bytes, **headers: str) -> tuple[int, bytes]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body, headers={"Content-Type": "application/json", **headers}) as r,
    ):
        return r.status, await r.read()


async def _get(url: str) -> tuple[int, bytes]:
    async with aiohttp.ClientSession() as session, session.get(url) as r:
        return r.status, await r.read()


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 30))


# --- redirects ---------------------------------------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_an_instance_answering_a_redirect_is_a_502_and_nothing_is_fetched(status: int) -> None:
    """SSRF: an instance (or whoever wrote its record) answers a redirect to a server only
    the gateway can reach.  The gateway must not go there, neither with the client's body
    (307/308 would re-post it, token included) nor without, and says who redirected."""
    secret = Recorder(body=SECRET)

    async def main() -> None:
        async with gateway_serving(secret, port=0, log_level="warning") as secret_url:
            target = f"{secret_url}/internal/admin"
            redirector = Recorder(status=status, headers=[(b"location", target.encode())])
            async with gateway_serving(redirector, port=0, log_level="warning") as instance:
                source = StaticInstanceSource({"notes": [instance]})
                async with gateway_serving(
                    GatewayApp(InstancePool(source)), port=0, log_level="warning"
                ) as gateway:
                    code, answer = await _post(f"{gateway}/kapi/notes", KRPC)
                    assert code == 502, answer
                    assert answer.decode() == (
                        f"Bad Gateway: notes instance static-0@127.0.0.1:{_port(instance)} "
                        f"answered HTTP {status}, a redirect to '{target}'; the gateway "
                        "does not follow redirects"
                    )
                    code, answer = await _get(f"{gateway}/kapi/notes/spec")
                    assert code == 503, answer
                    assert f"HTTP {status}, a redirect (not followed)" in answer.decode()
                    assert len(redirector.seen) == 2  # the call and the spec, once each
        assert secret.seen == []
        assert SECRET not in answer

    run(main())


# --- headers -----------------------------------------------------------------------------


def test_a_client_cannot_forge_x_buckyos_client_and_verify_hub_gets_the_gateways() -> None:
    device, device_public = generate_key_pair()
    signer = ClientAddressSigner(device, "ood1")
    instance = Recorder()

    async def main() -> None:
        async with gateway_serving(instance, port=0, log_level="warning") as url:
            source = StaticInstanceSource({"verify-hub": [url], "notes": [url]})
            app = GatewayApp(InstancePool(source), client_signer=signer)
            async with gateway_serving(app, port=0, log_level="warning") as gateway:
                for service in ("notes", "verify-hub", "verify-hub"):
                    code, _ = await _post(
                        f"{gateway}/kapi/{service}",
                        KRPC,
                        **{"x-buckyos-client": FORGED, "X-Forwarded-For": "1.2.3.4"},
                    )
                    assert code == 200

    run(main())
    (notes, hub, hub_again) = [seen[2] for seen in instance.seen]
    assert [seen[3] for seen in instance.seen] == [KRPC] * 3  # bodies untouched
    # Nothing the client sent but the content type is passed on.
    assert "x-buckyos-client" not in notes and "x-forwarded-for" not in notes
    assert notes[HOP_HEADER] == ["1"]
    assert len(hub["x-buckyos-client"]) == 1 and "x-forwarded-for" not in hub
    token = hub["x-buckyos-client"][0]
    assert token != FORGED
    assert jwt.get_unverified_header(token) == {"alg": "EdDSA", "kid": "ood1"}
    claims = jwt.decode(token, device_public, algorithms=["EdDSA"])
    assert set(claims) == {"iss", "sub", "client_addr", "iat", "exp"}
    assert claims["iss"] == claims["sub"] == "ood1"
    assert claims["client_addr"] == "127.0.0.1"  # the client's address, as the gateway saw it
    assert claims["exp"] - claims["iat"] == 120
    assert hub_again["x-buckyos-client"] == [token]  # cached, not signed per call


def test_the_client_address_token_is_cached_renewed_and_bounded() -> None:
    device, device_public = generate_key_pair()
    now = [1_700_000_000.0]
    signer = ClientAddressSigner(device, "ood1", max_entries=2, clock=lambda: now[0])
    first = signer.header("10.0.0.1")
    now[0] += 59  # 61 s left: still good
    assert signer.header("10.0.0.1") == first
    now[0] += 2  # 59 s left: signed anew
    renewed = signer.header("10.0.0.1")
    assert renewed != first
    claims = jwt.decode(renewed, device_public, algorithms=["EdDSA"], options={"verify_exp": False})
    assert claims["iat"] == 1_700_000_061 and claims["exp"] == 1_700_000_181
    signer.header("10.0.0.2")
    signer.header("10.0.0.3")  # over max_entries: the oldest (10.0.0.1) goes
    assert len(signer) == 2
    assert signer.header("10.0.0.3") == signer.header("10.0.0.3")
    with pytest.raises(ValueError, match="renew_before"):
        ClientAddressSigner(device, "ood1", ttl=60, renew_before=60)


# --- records pointing at the gateway -----------------------------------------------------


def test_an_instance_record_pointing_at_the_gateway_does_not_loop() -> None:
    """A record whose port is the gateway's own: without a hop check every call would be
    forwarded to the gateway again, until connections ran out."""
    table = _Table()
    app = GatewayApp(InstancePool(table, ttl=0.0))

    async def main() -> None:
        async with gateway_serving(app, port=0, log_level="warning") as gateway:
            table.table["notes"] = [gateway]
            code, answer = await _post(f"{gateway}/kapi/notes", KRPC)
            assert code == 200, answer
            assert json.loads(answer) == {
                "error": "Service not valid: the gateway was given a call another gateway "
                "forwarded; an instance record of notes points at a gateway",
                "sys": [42],
            }
            code, spec = await _get(f"{gateway}/kapi/notes/spec")
            assert code == 503
            assert "points at a gateway" in spec.decode()

    run(main())


# --- answers too large -------------------------------------------------------------------

CAP = 64 * 1024


class _Flood:
    """A fake instance on a raw socket: reads a request (head and body), then answers
    ``mode``: ``declared`` a head declaring ``Content-Length`` 100 x the cap and no body;
    ``stalls`` a body without length (read until close) of one byte over the cap, then
    nothing, the connection left open; ``endless`` a chunked body that never ends;
    ``exact`` a body of exactly the cap.  ``sent`` counts the body bytes it wrote;
    ``closed`` is set when the gateway closed the connection under a write."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.sent = 0
        self.closed = asyncio.Event()
        self.url = ""
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[Any]] = set()

    async def __aenter__(self) -> _Flood:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in self._handlers:
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            await self._answer(writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            self.closed.set()
        finally:
            writer.close()

    async def _answer(self, writer: asyncio.StreamWriter) -> None:
        json_head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        if self.mode == "declared":
            writer.write(json_head + b"Content-Length: %d\r\n\r\n" % (100 * CAP))
        elif self.mode == "exact":
            writer.write(json_head + b"Content-Length: %d\r\n\r\n" % CAP + b"a" * CAP)
            self.sent = CAP
        elif self.mode == "stalls":
            writer.write(json_head + b"Connection: close\r\n\r\n" + b"a" * (CAP + 1))
            self.sent = CAP + 1
        else:
            writer.write(json_head + b"Transfer-Encoding: chunked\r\n\r\n")
            piece = b"%x\r\n%s\r\n" % (CAP, b"a" * CAP)
            while self.sent < 1024 * CAP:  # 64 MiB, ten seconds at the most
                writer.write(piece)
                await writer.drain()
                self.sent += CAP
        await writer.drain()
        await asyncio.sleep(30)  # held open: only the gateway may end it


@pytest.mark.parametrize("mode", ["declared", "stalls", "endless"])
def test_an_answer_over_the_cap_is_a_502_naming_the_instance(mode: str) -> None:
    """An instance (anyone who can write its record) answering without end, or declaring a
    huge answer, must not make the gateway hold it: the gateway stops at the cap, closes
    the connection, answers 502 naming the instance, and keeps serving."""

    async def main() -> None:
        async with _Flood(mode) as flood, _Flood("exact") as exact:
            source = StaticInstanceSource({"notes": [flood.url], "exact": [exact.url]})
            app = GatewayApp(InstancePool(source), timeout=5.0, max_answer=CAP)
            async with gateway_serving(app, port=0, log_level="error") as gateway:
                start = time.monotonic()
                code, answer = await _post(f"{gateway}/kapi/notes", KRPC)
                assert time.monotonic() - start < 2.0  # at the cap, not at the timeout
                assert code == 502, answer[:300]
                assert answer.decode() == (
                    f"Bad Gateway: notes instance static-0@127.0.0.1:{_port(flood.url)} "
                    f"answered over {CAP} bytes, more than the gateway passes on"
                )
                if mode == "endless":
                    await asyncio.wait_for(flood.closed.wait(), 5.0)
                    # Read at most the cap and what the sockets buffer, not the 64 MiB.
                    assert flood.sent < 512 * CAP, flood.sent
                code, spec = await _get(f"{gateway}/kapi/notes/spec")
                assert code == 503, spec[:300]
                assert f"HTTP 200, over {CAP} bytes (not passed on)" in spec.decode()
                # An answer of exactly the cap is passed on whole.
                code, answer = await _post(f"{gateway}/kapi/exact", KRPC)
                assert (code, answer) == (200, b"a" * CAP)

    run(main())
