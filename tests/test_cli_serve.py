"""``buckyos serve MODULE:OBJECT``: real processes on real sockets, and every refusal.

The serving tests start the console script (and ``python -m buckyos.cli``) as child
processes with port 0, read the listening lines, call over kRPC and gRPC with real Ed25519
tokens, then signal the process and expect exit 0.  Refusals that happen before anything
listens run ``main()`` in this process (fast); their messages and exit codes are the same.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from buckyos.cli.main import main
from buckyos.cli.serve import ServePlan, plan_ports
from buckyos.generated.system_config_rpc import SystemConfigServicer, SystemConfigStub
from buckyos.runtime.client.grpc_client import GrpcTransport
from buckyos.runtime.client.krpc_client import KrpcTransport
from buckyos.runtime.errors import NoPermissionError, RPCError
from buckyos.runtime.security.keys import (
    Ed25519PrivateKey,
    generate_key_pair,
    private_key_to_pem,
    public_key_to_jwk,
)
from buckyos.runtime.security.rbac import RbacEnforcer
from buckyos.runtime.security.token_signing import sign_token
from buckyos.runtime.security.token_verifier import TokenVerifier
from buckyos.runtime.security.trust_keys import TrustKeyStore
from buckyos.runtime.server.binding import Binding
from buckyos.runtime.server.listeners import GrpcListener, KrpcListener

ROOT = Path(__file__).resolve().parent.parent
BUCKYOS = ROOT / ".venv" / "bin" / "buckyos"
START_DEADLINE = 20.0
STOP_DEADLINE = 10.0

# A target module written into tmp_path: a Binding built at import (key from the env),
# and the bare servicer class it wraps.
TARGET = """
import os
from pathlib import Path

from google.protobuf import empty_pb2

from buckyos.generated import system_config_pb2 as sc
from buckyos.generated.system_config_rpc import SystemConfigServicer
from buckyos.runtime.server.binding import Binding
from buckyos.runtime.server.listeners import GrpcListener, KrpcListener
from buckyos.runtime.security.keys import public_key_from_jwk
from buckyos.runtime.security.rbac import RbacEnforcer
from buckyos.runtime.security.token_verifier import TokenVerifier
from buckyos.runtime.security.trust_keys import TrustKeyStore


class Config(SystemConfigServicer):
    def __init__(self):
        self.data = {}

    async def Get(self, request, req):
        value = self.data.get(request.key)
        return sc.GetResult() if value is None else sc.GetResult(value=value, version=1)

    def Set(self, request, req):
        req.enforce("write", f"obj://config/{request.key}")
        self.data[request.key] = f"{req.caller.user_id}:{request.value}"
        return empty_pb2.Empty()


trust = TrustKeyStore()
trust.set_owner_key(public_key_from_jwk(Path(os.environ["CLI_TEST_OWNER_JWK"]).read_text()))
binding = Binding(
    "system_config",
    verifier=TokenVerifier(trust),
    rbac=RbacEnforcer(tail="g, alice, users\\ng, notes, app"),
)
binding.add_service(Config())
"""

OWN_KEY = "users/alice/apps/notes/settings"
BOBS_KEY = "users/bob/apps/notes/settings"


# --------------------------------------------------------------------------- helpers


class Owner:
    """The zone owner key pair and the files a served process reads it from."""

    def __init__(self, directory: Path) -> None:
        self.private: Ed25519PrivateKey
        self.private, public = generate_key_pair()
        self.jwk = directory / "owner.jwk"
        self.jwk.write_text(json.dumps(public_key_to_jwk(public)))
        self.pem = directory / "owner.pub.pem"
        self.pem.write_bytes(
            public.public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )

    def token(self, user: str, app: str = "notes") -> str:
        claims = {"sub": user, "appid": app, "exp": int(time.time()) + 600}
        return sign_token(claims, self.private, kid=None)


class Served:
    """A ``buckyos serve`` child process; stdout read line by line with a deadline."""

    def __init__(
        self, argv: Sequence[str], cwd: Path, env: dict[str, str], logs: Path | None = None
    ) -> None:
        # stderr goes to a file (in ``logs``, default ``cwd``): a pipe nobody reads could
        # fill up and stall the server.
        self.stderr_path = (logs or cwd) / f"stderr-{uuid.uuid4().hex}.txt"
        self._stderr = self.stderr_path.open("wb")
        self.proc = subprocess.Popen(
            list(argv), cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=self._stderr
        )
        assert self.proc.stdout is not None
        self._fd = self.proc.stdout.fileno()
        os.set_blocking(self._fd, False)
        self._buffer = b""

    def readline(self, deadline: float = START_DEADLINE) -> str:
        """The next stdout line; fails after ``deadline`` seconds or if the process exits."""
        end = time.monotonic() + deadline
        with selectors.DefaultSelector() as selector:
            selector.register(self._fd, selectors.EVENT_READ)
            while b"\n" not in self._buffer:
                left = end - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no line within {deadline}s; stderr:\n{self.stderr()}")
                if not selector.select(timeout=min(left, 0.2)):
                    continue
                chunk = os.read(self._fd, 65536)
                if not chunk:
                    self.proc.wait(timeout=STOP_DEADLINE)
                    raise AssertionError(
                        f"exited {self.proc.returncode} before printing a line; "
                        f"stderr:\n{self.stderr()}"
                    )
                self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line.decode()

    def stop(self, sig: signal.Signals) -> int:
        self.proc.send_signal(sig)
        return self.proc.wait(timeout=STOP_DEADLINE)

    def stderr(self) -> str:
        self._stderr.flush()
        return self.stderr_path.read_text(errors="replace")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=STOP_DEADLINE)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._stderr.close()


@pytest.fixture
def owner(tmp_path: Path) -> Owner:
    return Owner(tmp_path)


@pytest.fixture
def target(tmp_path: Path) -> str:
    """The target module's (unique) name, importable from tmp_path."""
    name = f"cli_target_{uuid.uuid4().hex[:12]}"
    (tmp_path / f"{name}.py").write_text(TARGET)
    return name


@pytest.fixture
def child_env(owner: Owner) -> dict[str, str]:
    env = dict(os.environ)
    env["CLI_TEST_OWNER_JWK"] = str(owner.jwk)
    env.pop("PYTHONPATH", None)  # the child imports the target through serve's sys.path
    return env


@pytest.fixture
def launched() -> Iterator[list[Served]]:
    started: list[Served] = []
    try:
        yield started
    finally:
        for served in started:
            served.kill()


def start(launched: list[Served], argv: Sequence[str], cwd: Path, env: dict[str, str]) -> Served:
    served = Served(argv, cwd, env)
    launched.append(served)
    return served


# --------------------------------------------------------------------------- serving


def test_serves_a_binding_on_both_wires_and_exits_0_on_sigterm(
    tmp_path: Path, owner: Owner, target: str, child_env: dict[str, str], launched: list[Served]
) -> None:
    argv = [str(BUCKYOS), "serve", f"{target}:binding", "--krpc-port", "0", "--grpc-port", "0"]
    served = start(launched, [*argv, "--log-level", "warning"], tmp_path, child_env)
    krpc_line = served.readline()
    grpc_line = served.readline()
    assert krpc_line.startswith("kRPC listening on http://127.0.0.1:"), krpc_line
    assert grpc_line.startswith("gRPC listening on 127.0.0.1:"), grpc_line
    krpc_url = krpc_line.removeprefix("kRPC listening on ")
    grpc_target = grpc_line.removeprefix("gRPC listening on ")
    assert int(krpc_url.rsplit(":", 1)[1]) > 0 and int(grpc_target.rsplit(":", 1)[1]) > 0

    alice = owner.token("alice")
    with KrpcTransport(krpc_url, token=alice) as krpc:
        SystemConfigStub(krpc).Set(key=OWN_KEY, value="v1")
    with GrpcTransport(grpc_target, token=alice) as grpc_transport:
        got = SystemConfigStub(grpc_transport).Get(key=OWN_KEY)
    assert (got.value, got.version) == ("alice:v1", 1)
    with KrpcTransport(krpc_url) as anonymous:
        with pytest.raises(NoPermissionError) as refused:
            SystemConfigStub(anonymous).Get(key=OWN_KEY)
    assert str(refused.value) == "No permission:No session token"

    started = time.monotonic()
    assert served.stop(signal.SIGTERM) == 0
    assert time.monotonic() - started < STOP_DEADLINE
    assert "Traceback" not in served.stderr()


def test_serves_a_bare_servicer_with_trust_key_and_policy_and_exits_0_on_sigint(
    tmp_path: Path, owner: Owner, target: str, child_env: dict[str, str], launched: list[Served]
) -> None:
    policy = tmp_path / "policy.csv"
    policy.write_text("g, alice, users\ng, notes, app\n")
    argv = [sys.executable, "-m", "buckyos.cli", "serve", f"{target}:Config"]
    argv += ["--trust-key", f"root={owner.pem}", "--rbac-policy", str(policy)]
    argv += ["--krpc-port", "0", "--no-grpc", "--json", "--log-level", "warning"]
    served = start(launched, argv, tmp_path, child_env)
    listening = json.loads(served.readline())
    assert listening["apis"] == ["system_config"]
    assert listening["grpc"] is None
    assert listening["krpc"].startswith("http://127.0.0.1:")

    with KrpcTransport(listening["krpc"], token=owner.token("alice")) as krpc:
        stub = SystemConfigStub(krpc)
        stub.Set(key=OWN_KEY, value="v2")  # allowed only through the policy file's lines
        assert stub.Get(key=OWN_KEY).value == "alice:v2"
        with pytest.raises(NoPermissionError) as refused:
            stub.Set(key=BOBS_KEY, value="x")
    assert str(refused.value) == (
        "No permission:enforce failed,userid:alice,appid:notes,"
        "resource:obj://config/users/bob/apps/notes/settings,action:write"
    )
    # A token signed by another key is refused: only the --trust-key key is trusted.
    stranger = sign_token(
        {"sub": "alice", "appid": "notes", "exp": int(time.time()) + 600},
        generate_key_pair()[0],
        kid=None,
    )
    with KrpcTransport(listening["krpc"], token=stranger) as krpc:
        with pytest.raises(RPCError) as forged:
            SystemConfigStub(krpc).Get(key=OWN_KEY)
    assert str(forged.value).startswith("Invalid token: ")

    assert served.stop(signal.SIGINT) == 0
    assert "Traceback" not in served.stderr()


def test_port_in_use_is_one_line_and_exit_1(
    tmp_path: Path, target: str, child_env: dict[str, str], launched: list[Served]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        argv = [str(BUCKYOS), "serve", f"{target}:binding", "--krpc-port", str(port)]
        served = start(
            launched, [*argv, "--no-grpc", "--log-level", "warning"], tmp_path, child_env
        )
        assert served.proc.wait(timeout=START_DEADLINE) == 1
    err = served.stderr()
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("buckyos serve: error: ")]
    assert len(lines) == 1, err
    assert f"cannot listen on 127.0.0.1 (kRPC port {port})" in lines[0]
    assert "choose another with --krpc-port/--grpc-port" in lines[0]


def test_console_script_exit_code_for_a_usage_error(tmp_path: Path) -> None:
    done = subprocess.run(
        [str(BUCKYOS), "serve", "no_colon_here"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=START_DEADLINE,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (
        "buckyos serve: error: 'no_colon_here' is not MODULE:OBJECT "
        "(e.g. examples.notes.service:binding: the module to import, a colon, "
        "the name of the Binding in it)\n"
    )


# --------------------------------------------------------------------------- refusals


@pytest.fixture
def isolated_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """``main`` puts --app-dir on sys.path; undo it after each test."""
    monkeypatch.setattr(sys, "path", list(sys.path))


def write_module(directory: Path, source: str) -> str:
    name = f"cli_case_{uuid.uuid4().hex[:12]}"
    (directory / f"{name}.py").write_text(source)
    return name


def run_main(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


CASES = """
import asyncio
from buckyos.generated.system_config_rpc import SystemConfigServicer
from buckyos.runtime.server.binding import Binding
from buckyos.runtime.server.listeners import GrpcListener, KrpcListener
from buckyos.runtime.security.keys import generate_key_pair
from buckyos.runtime.security.rbac import RbacEnforcer
from buckyos.runtime.security.token_verifier import TokenVerifier
from buckyos.runtime.security.trust_keys import TrustKeyStore


class Config(SystemConfigServicer):
    async def Get(self, request, req):
        raise NotImplementedError


class Failing(SystemConfigServicer):
    def init(self, binding):
        raise RuntimeError("database unreachable")

    async def Get(self, request, req):
        raise NotImplementedError


def make_binding(servicer=None):
    trust = TrustKeyStore()
    trust.set_owner_key(generate_key_pair()[1])
    binding = Binding("system_config", verifier=TokenVerifier(trust), rbac=RbacEnforcer())
    binding.add_service(servicer if servicer is not None else Config())
    return binding


binding = make_binding()
answer = 42


def needs_args(name, port):
    return make_binding()


def broken():
    raise ValueError("no database configured")


async def async_factory():
    return make_binding()


def returns_string():
    return "a binding"


def failing_binding():
    return make_binding(Failing())


class Holder:
    inner = binding
"""


@pytest.fixture
def cases(tmp_path: Path, isolated_path: None) -> tuple[str, Path]:
    return write_module(tmp_path, CASES), tmp_path


def test_help_and_missing_command(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(capsys, "--help")
    assert code == 0 and "serve" in out
    code, out, _ = run_main(capsys, "serve", "--help")
    assert code == 0 and "MODULE:OBJECT" in out and "--trust-key" in out
    code, _, err = run_main(capsys)
    assert code == 2 and "the following arguments are required: COMMAND" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["serve", "pkg.mod"],
            "'pkg.mod' is not MODULE:OBJECT (e.g. examples.notes.service:binding: "
            "the module to import, a colon, the name of the Binding in it)",
        ),
        (
            ["serve", ":binding"],
            "':binding' is not MODULE:OBJECT (e.g. examples.notes.service:binding: "
            "the module to import, a colon, the name of the Binding in it)",
        ),
        (
            ["serve", "m:a..b"],
            "'m:a..b' is not MODULE:OBJECT (e.g. examples.notes.service:binding: "
            "the module to import, a colon, the name of the Binding in it)",
        ),
        (
            ["serve", "m:binding", "--no-krpc", "--no-grpc"],
            "--no-krpc and --no-grpc leave nothing to serve; drop one",
        ),
        (
            ["serve", "m:binding", "--no-krpc", "--krpc-port", "4100"],
            "--krpc-port contradicts --no-krpc; drop one",
        ),
        (
            ["serve", "m:binding", "--no-grpc", "--grpc-port", "4101"],
            "--grpc-port contradicts --no-grpc; drop one",
        ),
    ],
)
def test_usage_errors_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = run_main(capsys, *argv)
    assert (code, out) == (2, "")
    assert err == f"buckyos serve: error: {message}\n"


def test_argparse_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_main(capsys, "serve", "m:b", "--trust-key", "root")
    assert code == 2
    assert "argument --trust-key: expected KID=PATH (e.g. root=owner.pub.pem), got 'root'" in err
    code, _, err = run_main(capsys, "serve", "m:b", "--krpc-port", "70000")
    assert code == 2
    assert "port must be 0..65535 (0 picks a free one), got 70000" in err
    code, _, err = run_main(capsys, "serve", "m:b", "--log-level", "loud")
    assert code == 2 and "argument --log-level: invalid choice: 'loud'" in err


def test_target_errors_exit_1_without_traceback(
    capsys: pytest.CaptureFixture[str], cases: tuple[str, Path]
) -> None:
    module, directory = cases
    app_dir = ["--app-dir", str(directory)]
    expected = {
        "no_such_module_xyz:binding": (
            f"module 'no_such_module_xyz' not found (searched {directory} and sys.path): "
            "run from the directory that holds it, or pass --app-dir"
        ),
        f"{module}:bindng": (
            f"module {module} has no attribute 'bindng'; servable objects there: "
            "Config, Failing, async_factory, binding, broken, failing_binding, make_binding, "
            "returns_string"
        ),
        f"{module}:Holder.missing": f"{module}:Holder has no attribute 'missing'",
        f"{module}:answer": (
            f"{module}:answer is an int, not a Binding, a servicer (a generated *Servicer "
            "subclass or instance) or a zero-argument factory returning one"
        ),
        f"{module}:needs_args": (
            f"{module}:needs_args is a function that takes arguments (name, port); a factory "
            "must take none (expected a Binding, a servicer (a generated *Servicer subclass "
            "or instance) or a zero-argument factory returning one)"
        ),
        f"{module}:broken": f"{module}:broken() failed: ValueError: no database configured",
        f"{module}:async_factory": (
            f"{module}:async_factory() returned an awaitable; make the factory a plain def"
        ),
        f"{module}:returns_string": (
            f"{module}:returns_string() returned a str, not a Binding or a servicer"
        ),
        f"{module}:failing_binding": (
            "binding system_config failed to start: RuntimeError: database unreachable"
        ),
    }
    for target, message in expected.items():
        code, out, err = run_main(capsys, "serve", target, *app_dir, "--log-level", "critical")
        assert (code, out) == (1, ""), target
        assert err == f"buckyos serve: error: {message}\n", target


def test_debug_adds_the_traceback(
    capsys: pytest.CaptureFixture[str], cases: tuple[str, Path]
) -> None:
    module, directory = cases
    argv = ["serve", f"{module}:broken", "--app-dir", str(directory)]
    code, _, err = run_main(capsys, *argv, "--debug")
    assert code == 1
    assert "Traceback (most recent call last)" in err
    assert "ValueError: no database configured" in err
    assert err.endswith(
        f"buckyos serve: error: {module}:broken() failed: ValueError: no database configured\n"
    )
    code, _, err = run_main(capsys, "--debug", *argv)  # before the subcommand too
    assert code == 1 and "Traceback (most recent call last)" in err


def test_servicer_and_binding_options_must_fit_the_target(
    capsys: pytest.CaptureFixture[str], cases: tuple[str, Path], tmp_path: Path
) -> None:
    module, directory = cases
    app_dir = ["--app-dir", str(directory)]
    code, _, err = run_main(capsys, "serve", f"{module}:Config", *app_dir)
    assert code == 2
    assert err == (
        f"buckyos serve: error: {module}:Config is a servicer (Config) without a Binding: "
        "give --trust-key KID=PATH (the public key that signs callers' tokens, 'root' for "
        "the zone owner) and --rbac-policy FILE, or build a Binding in your module and "
        "serve that\n"
    )
    key = Owner(tmp_path)
    code, _, err = run_main(
        capsys, "serve", f"{module}:Holder.inner", *app_dir, "--trust-key", f"root={key.jwk}"
    )
    assert code == 2
    assert err == (
        "buckyos serve: error: --trust-key and --rbac-policy apply to a bare servicer; "
        f"{module}:Holder.inner is a Binding, which brings its own TokenVerifier and "
        "RbacEnforcer\n"
    )


def test_trust_key_files_must_hold_an_ed25519_public_key(
    capsys: pytest.CaptureFixture[str], cases: tuple[str, Path], tmp_path: Path
) -> None:
    module, directory = cases
    private_pem = tmp_path / "owner.pem"
    private_pem.write_text(private_key_to_pem(generate_key_pair()[0]))
    garbage = tmp_path / "garbage.txt"
    garbage.write_text("hello")
    bad_jwk = tmp_path / "bad.jwk"
    bad_jwk.write_text('{"kty": "RSA"}')
    missing = tmp_path / "missing.jwk"
    expected = {
        private_pem: (
            f"trust key {private_pem} holds a private key; give the public half "
            "(PEM 'PUBLIC KEY', a JWK or a DID document)"
        ),
        garbage: (
            f"trust key {garbage}: expected a JWK, a DID document or a PEM "
            "(Expecting value: line 1 column 1 (char 0))"
        ),
        bad_jwk: f"trust key {bad_jwk}: public key JWK: kty must be 'OKP', got 'RSA'",
        missing: (
            f"trust key: cannot read {missing} (No such file or directory); "
            "give a key file or the JWK JSON itself"
        ),
    }
    for path, message in expected.items():
        code, _, err = run_main(
            capsys,
            "serve",
            f"{module}:Config",
            "--app-dir",
            str(directory),
            "--trust-key",
            f"root={path}",
        )
        assert code == 1, path
        assert err == f"buckyos serve: error: {message}\n", path
    bad_policy = tmp_path / "policy.csv"
    bad_policy.write_text("q, alice\n")
    good = Owner(tmp_path)
    code, _, err = run_main(
        capsys,
        "serve",
        f"{module}:Config",
        "--app-dir",
        str(directory),
        "--trust-key",
        f"root={good.pem}",
        "--rbac-policy",
        str(bad_policy),
    )
    assert code == 1
    assert err.startswith(f"buckyos serve: error: --rbac-policy {bad_policy}: ")


def test_port_defaults_follow_the_contract() -> None:
    trust = TrustKeyStore()
    trust.set_owner_key(generate_key_pair()[1])
    binding = Binding("system_config", verifier=TokenVerifier(trust), rbac=RbacEnforcer())
    binding.add_service(SystemConfigServicer())
    # system_config.proto declares port 3200: kRPC there, gRPC next to it.
    plan = plan_ports(binding, host="0.0.0.0", krpc_port=None, grpc_port=None)
    assert plan == ServePlan("0.0.0.0", (KrpcListener(3200), GrpcListener(3201)))
    plan = plan_ports(binding, host="::1", krpc_port=0, grpc_port=None)
    assert plan.listeners == (KrpcListener(0), GrpcListener(0))
    plan = plan_ports(binding, host="h", krpc_port=5000, grpc_port=None, no_krpc=True)
    assert plan.listeners == (GrpcListener(5001),)
    plan = plan_ports(binding, host="h", krpc_port=None, grpc_port=7000, no_grpc=True)
    assert plan.listeners == (KrpcListener(3200),)


def test_trust_key_kinds_decide_zone_trust(tmp_path: Path) -> None:
    """Only a key given as the owner's (``root``) or a device's (``device:NAME``) makes its
    tokens zone-trusted (app ``kernel`` then skips the user check); any other kid vouches
    for its tokens' user only."""
    from buckyos.cli.serve import binding_for_servicer

    device, other = generate_key_pair()[0], generate_key_pair()[0]
    paths = {}
    for name, key in (("device", device), ("other", other)):
        paths[name] = tmp_path / f"{name}.jwk"
        paths[name].write_text(json.dumps(public_key_to_jwk(key.public_key())))
    binding = binding_for_servicer(
        SystemConfigServicer(),
        [("device:ood1", paths["device"]), ("app-signer", paths["other"])],
        None,
    )
    claims = {"sub": "mallory", "appid": "kernel", "exp": int(time.time()) + 60}
    by_device = binding.authorizer.verify(sign_token(claims, device, kid="ood1"))
    by_other = binding.authorizer.verify(sign_token(claims, other, kid="app-signer"))
    assert by_device.zone_trusted and not by_other.zone_trusted
    binding.authorizer.check(by_device, "write", "obj://config/system/x")
    with pytest.raises(NoPermissionError, match="userid:mallory,appid:kernel"):
        binding.authorizer.check(by_other, "write", "obj://config/system/x")
    binding.close()
