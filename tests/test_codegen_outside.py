"""A contract in a project of one's own: generated, served and called outside this checkout.

Everything runs in a temporary folder (the working directory of every process), with
nothing of the repository on protoc's import path or on ``sys.path``: ``buckyos codegen``
finds ``buckyos/options.proto`` in the package and maps ``buckyos/`` itself, a plain
``grpc_tools.protoc`` with the plugin writes code that imports, ``buckyos serve`` (a real
process) serves the servicer, and the generated stub calls it over kRPC and gRPC and
refuses what the contract says it must.  ``tests/test_installed_wheel.py`` runs the same
scenario with an installed wheel instead of this editable checkout.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
START_DEADLINE = 30.0
STOP_DEADLINE = 10.0
RUN_TIMEOUT = 60.0

CONTRACT = """\
syntax = "proto3";

package acme.greeter;

import "buckyos/options.proto";

service Greeter {
  option (buckyos.api) = { name: "greeter" default_auth: "yes" };

  rpc Greet(GreetRequest) returns (Greeting) {
    option idempotency_level = NO_SIDE_EFFECTS;
    option (buckyos.verb) = { krpc: "greeter_greet" };
  }
}

message GreetRequest {
  string name = 1 [(buckyos.field).required = true];
  uint32 times = 2;
}

message Greeting {
  string text = 1;
}
"""

SERVICE = """\
from acme.generated import greeter_pb2 as pb
from acme.generated.greeter_rpc import GreeterServicer
from buckyos.runtime.security import RbacEnforcer, TokenVerifier, TrustKeyStore
from buckyos.runtime.server import Binding


class Greeter(GreeterServicer):
    def Greet(self, request, req):
        return pb.Greeting(text=" ".join([f"hello {request.name}"] * max(request.times, 1)))


binding = Binding("greeter", verifier=TokenVerifier(TrustKeyStore()), rbac=RbacEnforcer())
binding.add_service(Greeter())
"""

CLIENT = """\
import json
import sys

from acme.generated.greeter_rpc import GreeterStub
from buckyos.runtime.client import GrpcTransport, KrpcTransport

out = {}
with KrpcTransport(sys.argv[1]) as krpc:
    out["krpc"] = GreeterStub(krpc).Greet(name="ann", times=2).text
    for case, kwargs in (("missing", {"times": 1}), ("wrong", {"name": {"first": "ann"}})):
        try:
            GreeterStub(krpc).Greet(**kwargs)
        except TypeError as exc:
            out[case] = str(exc)
with GrpcTransport(sys.argv[2]) as grpc:
    out["grpc"] = GreeterStub(grpc).Greet(name="bob").text
print(json.dumps(out))
"""


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This environment without anything that would put the repository on ``sys.path``."""
    env = {
        k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith("BUCKYOS_")
    }
    return {**env, **(extra or {})}


def run(argv: list[str], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT
    )
    assert done.returncode == 0, f"{argv} exited {done.returncode}:\n{done.stderr}"
    return done.stdout


def write_project(project: Path) -> None:
    (project / "proto" / "acme").mkdir(parents=True)
    (project / "proto" / "acme" / "greeter.proto").write_text(CONTRACT)
    (project / "acme" / "generated").mkdir(parents=True)
    (project / "acme" / "__init__.py").write_text("")
    (project / "acme" / "generated" / "__init__.py").write_text("")
    (project / "acme" / "service.py").write_text(SERVICE)
    (project / "client.py").write_text(CLIENT)


def serve_and_call(bin_dir: Path, project: Path, env: dict[str, str]) -> dict[str, str]:
    """``buckyos serve acme.service:binding`` as a child; the client's answers."""
    stderr_path = project / "serve-stderr.txt"
    with stderr_path.open("wb") as stderr:
        proc = subprocess.Popen(
            [str(bin_dir / "buckyos"), "serve", "acme.service:binding", "--krpc-port", "0",
             "--grpc-port", "0", "--json", "--log-level", "warning"],
            cwd=project, env=env, stdout=subprocess.PIPE, stderr=stderr,
        )  # fmt: skip
        try:
            assert proc.stdout is not None
            line = b""
            end = time.monotonic() + START_DEADLINE
            with selectors.DefaultSelector() as selector:
                selector.register(proc.stdout, selectors.EVENT_READ)
                while not line.endswith(b"\n"):
                    left = end - time.monotonic()
                    assert left > 0 and proc.poll() is None, stderr_path.read_text()
                    if selector.select(timeout=min(left, 0.2)):
                        chunk = os.read(proc.stdout.fileno(), 4096)
                        assert chunk, stderr_path.read_text()
                        line += chunk
            listening = json.loads(line)
            answers = run(
                [str(bin_dir / "python"), "client.py", listening["krpc"], listening["grpc"]],
                project,
                env,
            )
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=STOP_DEADLINE) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=STOP_DEADLINE)
            if proc.stdout is not None:
                proc.stdout.close()
    assert "Traceback" not in stderr_path.read_text()
    result: dict[str, str] = json.loads(answers)
    return result


def contract_outside(bin_dir: Path, project: Path, env: dict[str, str]) -> None:
    """The whole scenario with the ``buckyos``, ``python`` and plugin of ``bin_dir``."""
    write_project(project)
    # The documented command, without --include or --map buckyos/=...
    run(
        [str(bin_dir / "buckyos"), "codegen", "--proto-root", "proto", "--out",
         "acme/generated", "--map", "acme/=acme.generated", "proto/acme/greeter.proto"],
        project,
        env,
    )  # fmt: skip
    generated = sorted(p.name for p in (project / "acme" / "generated").glob("greeter*"))
    assert generated == ["greeter_pb2.py", "greeter_pb2.pyi", "greeter_pb2_grpc.py",
                         "greeter_rpc.py"]  # fmt: skip
    pb2 = (project / "acme" / "generated" / "greeter_pb2.py").read_text()
    assert "from buckyos.generated import options_pb2" in pb2
    check = [str(bin_dir / "python"), "-m", "buckyos.codegen", "--check", "--proto-root",
             "proto", "--out", "acme/generated", "--map", "acme/=acme.generated",
             "proto/acme/greeter.proto"]  # fmt: skip
    assert "is up to date (4 files)" in run(check, project, env)

    answers = serve_and_call(bin_dir, project, env)
    assert answers["krpc"] == "hello ann hello ann"
    assert answers["grpc"] == "hello bob"
    assert answers["missing"] == (
        "Greet() needs name=...: the contract marks acme.greeter.GreetRequest.name required"
    )
    assert answers["wrong"] == (
        "Greet(): name must be str (JSON text); use json.dumps(...), not a dict"
    )

    # A plain protoc with the plugin: one -I for the shipped contracts, no --map at all.
    include = run([str(bin_dir / "buckyos"), "codegen", "--print-include"], project, env).strip()
    assert (Path(include) / "buckyos" / "options.proto").is_file()
    plain = project / "plain"
    plain.mkdir()
    run(
        [str(bin_dir / "python"), "-m", "grpc_tools.protoc", "-Iproto", f"-I{include}",
         "--python_out=plain", "--pyi_out=plain",
         f"--plugin=protoc-gen-buckyos={bin_dir / 'protoc-gen-buckyos'}",
         "--buckyos_out=plain", "proto/acme/greeter.proto"],
        project,
        env,
    )  # fmt: skip
    assert "from buckyos import options_pb2" in (plain / "acme" / "greeter_pb2.py").read_text()
    imported = run(
        [str(bin_dir / "python"), "-c",
         "from acme.greeter_rpc import GREETER_GREET as g; print(g.krpc, g.required)"],
        plain,
        env,
    )  # fmt: skip
    assert imported.split("\n")[0] == "greeter_greet ('name',)"


def test_a_contract_outside_the_checkout_builds_serves_and_calls(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    assert not project.resolve().is_relative_to(ROOT)
    contract_outside(VENV_BIN, project, clean_env())
