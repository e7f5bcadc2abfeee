"""Stopping the node gateway with calls in flight: a real gateway process, real signals.

``python -m buckyos.services.gateway`` forwards ``/kapi/slow`` to a slow instance (served
here; its verb ``nap`` sleeps ``params.seconds``) found through a real system_config
binding.  The gateway gets SIGTERM/SIGINT while calls are in flight; then:

- a call whose instance answers within the grace period (5 s) gets that answer;
- one that does not is answered at 80% of it, HTTP 200 and a kRPC error with its seq and
  trace id: ``Service not valid: slow/nap was cut short: the gateway is stopping`` (the
  shape of the kRPC server's own ``... was cut short: the server is stopping``); a spec
  read in flight gets a 503 saying so;
- a request whose body arrives after the signal is refused, never forwarded:
  ``Service not valid: slow/nap was not forwarded: the gateway is stopping``;
- a request whose body never came whole is a 503 at the cut;
- never an HTTP 500, never a traceback in the gateway's log; the gateway exits 0;
- a second signal exits at once with 128 + the signal.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from buckyos.runtime.security.keys import private_key_to_pem
from buckyos.runtime.security.rbac import RbacEnforcer
from buckyos.runtime.security.token_verifier import TokenVerifier
from buckyos.runtime.server.binding import Binding
from buckyos.runtime.server.serve import serving
from buckyos.services.gateway.server import gateway_serving
from tests.test_gateway import Config, Keys, make_keys

GRACE = 5.0  # the gateway's default
_GATEWAY = (sys.executable, "-m", "buckyos.services.gateway")
_JSON = {"Content-Type": "application/json"}


@dataclass
class SlowInstance:
    """A raw kRPC instance: ``nap`` sleeps ``params.seconds``; ``GET .../spec`` 30 s."""

    calls: list[float] = field(default_factory=list)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        try:
            if scope["method"] == "GET":
                await asyncio.sleep(30)
                answer = b"{}"
            else:
                request = json.loads(body)
                seconds = float(request["params"]["seconds"])
                self.calls.append(seconds)
                await asyncio.sleep(seconds)
                result = {"result": {"slept": seconds}, "sys": request["sys"][:1]}
                answer = json.dumps(result).encode()
        except asyncio.CancelledError:  # the test's instance server stopping: not the point
            return
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": answer})


@dataclass
class Gateway:
    process: asyncio.subprocess.Process
    url: str

    def signal(self, sig: signal.Signals) -> float:
        self.process.send_signal(sig)
        return time.monotonic()

    async def wait(self, deadline: float) -> tuple[int, float]:
        """(exit code, when it exited); killed (and the test failed) past ``deadline``."""
        try:
            code = await asyncio.wait_for(self.process.wait(), deadline)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
            raise AssertionError(f"the gateway still ran {deadline}s later") from None
        return code, time.monotonic()

    async def stderr(self) -> str:
        assert self.process.stderr is not None
        return (await self.process.stderr.read()).decode()


@contextlib.asynccontextmanager
async def slow_zone(tmp_path: Path) -> AsyncIterator[tuple[Gateway, SlowInstance]]:
    """A slow instance of ``slow``, a system_config listing it, a gateway process."""
    keys: Keys = make_keys()
    key_file = tmp_path / "node_private_key.pem"
    key_file.write_text(private_key_to_pem(keys.device))
    instance = SlowInstance()
    async with gateway_serving(instance, port=0, log_level="warning", grace=1) as instance_url:
        port = int(instance_url.rsplit(":", 1)[1])
        node = {"node_did": "did:bns:ood1", "state": "started", "weight": 100}
        info = {"selector_type": "random", "node_list": {"ood1": {**node, "service_port": {"www": port}}}}  # fmt: skip
        config = Binding(
            "system_config",
            verifier=TokenVerifier(keys.trust),
            rbac=RbacEnforcer(tail="g, alice, users"),
        )
        config.add_service(Config({"services/slow/info": json.dumps(info), "boot/config": "{}"}))
        async with serving(config, krpc_port=0, grpc_port=None, log_level="warning") as sc_info:
            assert sc_info.krpc_url is not None
            process = await asyncio.create_subprocess_exec(
                *_GATEWAY,
                "--system-config", sc_info.krpc_url,
                "--device-name", "ood1",
                "--device-key", str(key_file),
                "--port", "0",
                "--log-level", "info",
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )  # fmt: skip
            try:
                assert process.stdout is not None
                line = (await asyncio.wait_for(process.stdout.readline(), 20)).decode().strip()
                assert line.startswith("gateway listening on http://127.0.0.1:"), line
                yield Gateway(process, line.removeprefix("gateway listening on ")), instance
            finally:
                if process.returncode is None:
                    process.kill()
                    await process.wait()


def nap(seconds: float, seq: int, trace: str | None = None) -> bytes:
    sys_ = [seq, None, trace] if trace is not None else [seq]
    return json.dumps({"method": "nap", "params": {"seconds": seconds}, "sys": sys_}).encode()


async def post(session: aiohttp.ClientSession, url: str, body: bytes) -> tuple[int, Any, float]:
    """(status, JSON answer, when it came back)."""
    async with session.post(url, data=body, headers=_JSON) as response:
        status, data = response.status, await response.read()
    return status, json.loads(data), time.monotonic()


async def get(session: aiohttp.ClientSession, url: str) -> tuple[int, str, float]:
    async with session.get(url) as response:
        status, text = response.status, await response.text()
    return status, text, time.monotonic()


@dataclass
class RawPost:
    """A ``POST /kapi/slow`` over a raw connection, its body sent in pieces."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    @classmethod
    async def open(cls, gateway: Gateway, body: bytes, sent: int) -> RawPost:
        """The head and the first ``sent`` bytes of ``body`` sent."""
        host, port = gateway.url.removeprefix("http://").rsplit(":", 1)
        reader, writer = await asyncio.open_connection(host, int(port))
        head = (
            f"POST /kapi/slow HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        writer.write(head.encode() + body[:sent])
        await writer.drain()
        return cls(reader, writer)

    async def send(self, rest: bytes) -> None:
        self.writer.write(rest)
        await self.writer.drain()

    async def answer(self, deadline: float) -> tuple[bytes, bytes, float]:
        """(status line, body, when it came) of the answer; the connection closed."""
        try:
            answer = await asyncio.wait_for(self.reader.read(), deadline)
        finally:
            self.writer.close()
        status_line, _, rest = answer.partition(b"\r\n")
        return status_line, rest.partition(b"\r\n\r\n")[2], time.monotonic()


def no_traceback(text: str) -> None:
    for bad in ("Traceback", "CancelledError", "Exception in ASGI application", "Cancel "):
        assert bad not in text, text


def run(coro: Any) -> None:
    asyncio.run(asyncio.wait_for(coro, 60))


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_calls_in_flight_get_an_answer_within_the_grace(
    tmp_path: Path, sig: signal.Signals
) -> None:
    async def main() -> None:
        async with slow_zone(tmp_path) as (gateway, instance), aiohttp.ClientSession() as session:
            url = f"{gateway.url}/kapi/slow"
            slow = asyncio.ensure_future(post(session, url, nap(30, 7, "trace-7")))
            quick = asyncio.ensure_future(post(session, url, nap(1.5, 8)))
            spec = asyncio.ensure_future(get(session, f"{url}/spec"))
            unfinished = await RawPost.open(gateway, nap(0.1, 3), 5)  # never sent whole
            await asyncio.sleep(0.7)
            assert sorted(instance.calls) == [1.5, 30], instance.calls  # both reached it
            assert not (slow.done() or quick.done() or spec.done())
            at = gateway.signal(sig)

            assert await quick == (200, {"result": {"slept": 1.5}, "sys": [8]}, quick.result()[2])
            status, answer, when = await slow
            assert (status, answer) == (
                200,
                {
                    "error": "Service not valid: slow/nap was cut short: the gateway is stopping",
                    "sys": [7, "trace-7"],
                },
            )
            assert GRACE * 0.8 - 0.5 < when - at < GRACE
            status, text, when = await spec
            assert (status, text) == (
                503,
                "Service not valid: the spec of slow was cut short: the gateway is stopping",
            )
            assert when - at < GRACE
            status_line, text_bytes, when = await unfinished.answer(GRACE)
            assert (status_line, text_bytes) == (
                b"HTTP/1.1 503 Service Unavailable",
                b"Service not valid: the request was cut short: the gateway is stopping",
            )
            assert when - at < GRACE
            code, ended = await gateway.wait(GRACE + 5)
            assert code == 0
            assert ended - at < GRACE + 2
            err = await gateway.stderr()
            no_traceback(err)
            assert "stopping: signal received" in err

    run(main())


def test_a_request_that_arrives_while_stopping_is_refused(tmp_path: Path) -> None:
    async def main() -> None:
        async with slow_zone(tmp_path) as (gateway, instance):
            body = nap(0.1, 9)
            late = await RawPost.open(gateway, body, 5)  # the gateway is reading its body
            await asyncio.sleep(0.5)
            at = gateway.signal(signal.SIGTERM)
            await asyncio.sleep(0.5)
            await late.send(body[5:])
            status_line, answer, _ = await late.answer(GRACE)
            assert status_line == b"HTTP/1.1 200 OK", answer
            assert json.loads(answer) == {
                "error": "Service not valid: slow/nap was not forwarded: the gateway is stopping",
                "sys": [9],
            }
            assert instance.calls == []  # never forwarded
            code, ended = await gateway.wait(GRACE + 5)
            assert code == 0
            assert ended - at < 2.5  # nothing else in flight
            no_traceback(await gateway.stderr())

    run(main())


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_second_signal_exits_at_once(tmp_path: Path, sig: signal.Signals) -> None:
    async def main() -> None:
        async with slow_zone(tmp_path) as (gateway, _), aiohttp.ClientSession() as session:
            slow = asyncio.ensure_future(post(session, f"{gateway.url}/kapi/slow", nap(30, 1)))
            await asyncio.sleep(0.7)
            gateway.signal(sig)
            await asyncio.sleep(0.5)
            at = gateway.signal(sig)
            code, ended = await gateway.wait(GRACE)
            assert code == 128 + sig
            assert ended - at < 1.0
            with contextlib.suppress(aiohttp.ClientError):  # the connection went with it
                await slow
            err = await gateway.stderr()
            no_traceback(err)
            assert err.strip().splitlines()[-1] == (
                f"gateway: stopped at once by a second {sig.name}; calls in flight were cut"
            )

    run(main())
