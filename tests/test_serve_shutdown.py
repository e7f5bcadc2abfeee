"""Stopping a server with calls in flight: real processes, real sockets, real signals.

``buckyos serve`` and a service process built like the zone's (``run_service`` around
``serve``) serve a binding whose ``Get`` sleeps for as long as its key says (``forever``:
never returns; ``async:`` prefix: an async handler).  A client call is in flight when the
process gets SIGINT/SIGTERM; then:

- a call that finishes within the grace period (5 s) gets its real answer;
- one that does not is answered ``ServiceNotValidError`` (``... was cut short: the server
  is stopping``) within the grace period, over kRPC and gRPC alike;
- the process exits 0 about the grace period after the signal even when a sync handler
  never returns (its thread is left behind, one line says so);
- a second signal exits at once with 128 + the signal;
- stderr never holds a traceback (``CancelledError``, ``KeyboardInterrupt``).
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from buckyos.generated.system_config_rpc import SystemConfigStub
from buckyos.runtime.client.grpc_client import GrpcTransport
from buckyos.runtime.client.krpc_client import KrpcTransport
from buckyos.runtime.errors import ServiceNotValidError
from buckyos.runtime.security.keys import generate_key_pair, public_key_to_jwk
from buckyos.runtime.security.token_signing import sign_token

ROOT = Path(__file__).resolve().parent.parent
BUCKYOS = str(ROOT / ".venv" / "bin" / "buckyos")
GRACE = 5.0  # serve's default
START_DEADLINE = 20.0

# Get(key): sleep `key` seconds (sync handler, in the binding's thread pool), or forever;
# "async:<seconds>" sleeps in an async handler.
SLOW = """
import asyncio
import os
import time
from pathlib import Path

from buckyos.generated import system_config_pb2 as sc
from buckyos.generated.system_config_rpc import SystemConfigServicer
from buckyos.runtime.security.keys import public_key_from_jwk
from buckyos.runtime.security.rbac import RbacEnforcer
from buckyos.runtime.security.token_verifier import TokenVerifier
from buckyos.runtime.security.trust_keys import TrustKeyStore
from buckyos.runtime.server import Binding


class Slow(SystemConfigServicer):
    def Get(self, request, req):
        if request.key.startswith("async:"):
            return self._later(float(request.key[6:]))
        if request.key == "forever":
            while True:
                time.sleep(0.05)
        time.sleep(float(request.key))
        return sc.GetResult(value="done", version=1)

    async def _later(self, seconds):
        await asyncio.sleep(seconds)
        return sc.GetResult(value="done", version=1)


trust = TrustKeyStore()
trust.set_owner_key(public_key_from_jwk(Path(os.environ["SLOW_OWNER_JWK"]).read_text()))
binding = Binding(
    "system_config",
    verifier=TokenVerifier(trust),
    rbac=RbacEnforcer(tail="g, alice, admin"),
    timeout=None,
)
binding.add_service(Slow())
"""

# A service process as the zone's are written: run_service around serve.
SERVICE = """
import sys

from buckyos.runtime import serve
from buckyos.runtime.server import print_ready, run_service

from slow import binding


async def main():
    await serve(binding, krpc_port=0, grpc_port=0,
                on_ready=lambda info: print_ready(info.listening_lines()))


sys.exit(run_service(main, name="slow", cannot_listen=str))
"""


class Server:
    """A serving child process, its ready lines read with a deadline."""

    def __init__(self, argv: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._lines: queue.Queue[str] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        lines = [self._readline(), self._readline()]
        self.krpc_url = lines[0].rsplit(" ", 1)[1]
        self.grpc_target = lines[1].rsplit(" ", 1)[1]
        assert lines[0].startswith("kRPC listening on "), lines
        assert lines[1].startswith("gRPC listening on "), lines

    def _readline(self) -> str:
        try:
            line = self._lines.get(timeout=START_DEADLINE)
        except queue.Empty:
            raise AssertionError("the server did not start") from None
        if not line:
            raise AssertionError(f"the server exited: {self.stderr()}")
        return line.strip()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put("")

    def signal(self, sig: signal.Signals) -> float:
        self.proc.send_signal(sig)
        return time.monotonic()

    def wait(self, deadline: float) -> tuple[int, float]:
        """(exit code, when it exited); the process is killed past ``deadline`` s."""
        try:
            code = self.proc.wait(deadline)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"still running after {deadline}s") from None
        return code, time.monotonic()

    def stderr(self) -> str:
        assert self.proc.stderr is not None
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        return self.proc.stderr.read()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._reader.join(5)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


class Call:
    """One ``Get`` in a thread: its result or error, and when it came back."""

    def __init__(self, server: Server, token: str, key: str, wire: str) -> None:
        self.outcome: object = None
        self.at = 0.0
        self._thread = threading.Thread(target=self._run, args=(server, token, key, wire))
        self._thread.start()

    def _run(self, server: Server, token: str, key: str, wire: str) -> None:
        transport = (
            KrpcTransport(server.krpc_url, token=token)
            if wire == "krpc"
            else GrpcTransport(server.grpc_target, token=token)
        )
        try:
            with transport:
                self.outcome = SystemConfigStub(transport).with_timeout(60).Get(key=key).value
        except Exception as exc:
            self.outcome = exc
        self.at = time.monotonic()

    def result(self) -> object:
        self._thread.join(30)
        assert not self._thread.is_alive(), "the call never came back"
        return self.outcome


@pytest.fixture
def token_env(tmp_path: Path) -> tuple[str, dict[str, str]]:
    private, public = generate_key_pair()
    jwk = tmp_path / "owner.jwk"
    jwk.write_text(json.dumps(public_key_to_jwk(public)))
    (tmp_path / "slow.py").write_text(SLOW)
    (tmp_path / "service.py").write_text(SERVICE)
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUCKYOS_")}
    path = os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))
    env.update(SLOW_OWNER_JWK=str(jwk), PYTHONPATH=path)
    token = sign_token(
        {"sub": "alice", "appid": "kernel", "exp": int(time.time()) + 600}, private, kid=None
    )
    return token, env


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    started: list[Server] = []
    yield started
    for server in started:
        server.close()


def serve_cli(servers: list[Server], cwd: Path, env: dict[str, str]) -> Server:
    argv = [BUCKYOS, "serve", "slow:binding", "--krpc-port", "0", "--grpc-port", "0"]
    servers.append(Server(argv, cwd, env))
    return servers[-1]


def serve_service(servers: list[Server], cwd: Path, env: dict[str, str]) -> Server:
    servers.append(Server([sys.executable, "service.py"], cwd, env))
    return servers[-1]


def in_flight(call: Call, seconds: float = 0.5) -> None:
    """Give the call time to reach its handler."""
    time.sleep(seconds)
    assert call.at == 0.0, f"came back early: {call.outcome!r}"


def no_traceback(text: str) -> None:
    assert "Traceback" not in text, text
    assert "CancelledError" not in text, text
    assert "KeyboardInterrupt" not in text, text


@pytest.mark.parametrize("wire", ["krpc", "grpc"])
def test_a_slow_call_is_answered_within_the_grace(
    tmp_path: Path, token_env: tuple[str, dict[str, str]], servers: list[Server], wire: str
) -> None:
    token, env = token_env
    server = serve_cli(servers, tmp_path, env)
    slow = Call(server, token, "30", wire)
    quick = Call(server, token, "1.5", wire)
    in_flight(slow)
    at = server.signal(signal.SIGINT)
    assert quick.result() == "done"  # finished within the grace: its real answer
    outcome = slow.result()
    assert isinstance(outcome, ServiceNotValidError), repr(outcome)
    assert str(outcome) == (
        "Service not valid: system_config/sys_config_get was cut short: the server is stopping"
    )
    assert slow.at - at < GRACE
    code, ended = server.wait(GRACE + 5)
    assert code == 0
    assert ended - at < GRACE + 2
    err = server.stderr()
    no_traceback(err)
    assert "buckyos serve: stopped; 1 thread(s) still running 5s after the stop signal" in err


def test_an_async_call_is_cut_and_the_process_ends_early(
    tmp_path: Path, token_env: tuple[str, dict[str, str]], servers: list[Server]
) -> None:
    token, env = token_env
    server = serve_cli(servers, tmp_path, env)
    slow = Call(server, token, "async:30", "krpc")
    in_flight(slow)
    at = server.signal(signal.SIGTERM)
    assert isinstance(slow.result(), ServiceNotValidError), repr(slow.outcome)
    assert slow.at - at < GRACE
    code, ended = server.wait(GRACE + 5)
    assert code == 0
    assert ended - at < GRACE  # no thread to wait for
    err = server.stderr()
    no_traceback(err)
    assert "left behind" not in err


def test_an_endless_sync_handler_cannot_hold_the_process(
    tmp_path: Path, token_env: tuple[str, dict[str, str]], servers: list[Server]
) -> None:
    token, env = token_env
    server = serve_service(servers, tmp_path, env)
    endless = Call(server, token, "forever", "grpc")
    in_flight(endless)
    at = server.signal(signal.SIGTERM)
    assert isinstance(endless.result(), ServiceNotValidError), repr(endless.outcome)
    code, ended = server.wait(GRACE + 5)
    assert code == 0
    assert GRACE - 0.5 < ended - at < GRACE + 2
    err = server.stderr()
    no_traceback(err)
    assert (
        err.strip()
        .splitlines()[-1]
        .startswith("slow: stopped; 1 thread(s) still running 5s after the stop signal (")
    )


@pytest.mark.parametrize(("how", "sig"), [("cli", signal.SIGINT), ("service", signal.SIGTERM)])
def test_a_second_signal_exits_at_once(
    tmp_path: Path,
    token_env: tuple[str, dict[str, str]],
    servers: list[Server],
    how: str,
    sig: signal.Signals,
) -> None:
    token, env = token_env
    start = serve_cli if how == "cli" else serve_service
    server = start(servers, tmp_path, env)
    endless = Call(server, token, "forever", "krpc")
    in_flight(endless)
    server.signal(sig)
    time.sleep(0.5)
    at = server.signal(sig)
    code, ended = server.wait(GRACE)
    assert code == 128 + sig
    assert ended - at < 1.0
    endless.result()  # the connection is gone with the process: some error, not a hang
    err = server.stderr()
    no_traceback(err)
    name = "buckyos serve" if how == "cli" else "slow"
    assert err.strip().splitlines()[-1] == (
        f"{name}: stopped at once by a second {sig.name}; calls in flight were cut"
    )


def test_a_service_stops_at_once_with_nothing_in_flight(
    tmp_path: Path, token_env: tuple[str, dict[str, str]], servers: list[Server]
) -> None:
    _, env = token_env
    server = serve_service(servers, tmp_path, env)
    at = server.signal(signal.SIGINT)
    code, ended = server.wait(GRACE)
    assert code == 0
    assert ended - at < 2.0
    no_traceback(server.stderr())
