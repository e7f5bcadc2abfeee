"""Installed, not cloned: the built wheel in a new virtualenv, away from this checkout.

The wheel is built from the checkout (``pip wheel --no-deps --no-build-isolation``, no
network) and installed with ``--no-deps --no-index`` into a new venv.  Its dependencies
come from this project's ``.venv`` through a folder of links to everything in that
site-packages except this project itself (no editable finder, no ``buckyos``), named by
a ``.pth`` file in the new venv; so every ``buckyos`` import below is the wheel's.  Then:

- the README's app quick start runs as written against ``buckyos zone up`` of the wheel;
- a contract in a folder of its own is generated, served and called (the scenario of
  ``tests/test_codegen_outside.py``);
- with only what ``pip install buckyos-api-runtime`` gives (no ``server`` nor ``codegen``
  extra: their modules left out of the links), the client runtime imports, and
  ``zone up``, ``serve`` and ``codegen`` each say in one line which extra to install.
"""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from buckyos.cli.extras import DISTRIBUTION, EXTRAS
from buckyos.codegen.driver import NOT_INSTALLED
from buckyos.generated.system_config_rpc import SystemConfigStub
from buckyos.runtime.client import KrpcTransport
from buckyos.services.zone import ZoneLayout, load_identity
from buckyos.services.zone.zone import _root_token
from tests.test_codegen_outside import clean_env, contract_outside
from tests.test_readme import _quick_start

ROOT = Path(__file__).resolve().parent.parent
RUN_TIMEOUT = 60.0

# The modules each extra installs, by distribution (pyproject names them by distribution).
EXTRA_MODULES = {
    "uvicorn": "uvicorn",
    "grpcio-health-checking": "grpc_health",
    "grpcio-reflection": "grpc_reflection",
    "grpcio-tools": "grpc_tools",
    "jsonschema": "jsonschema",
}
# What a link folder leaves out, by name prefix: this project, in every view.
OWN = ("buckyos", "__editable__", "_buckyos", "__pycache__")


@dataclass(frozen=True)
class Installed:
    """The new venv and its two views of the dependencies."""

    venv: Path
    full: Path
    """Links to every dependency, extras included."""
    bare: Path
    """Links to the dependencies of a plain ``pip install`` (no extra)."""

    @property
    def bin(self) -> Path:
        return self.venv / "bin"

    def use(self, view: Path) -> None:
        """Make ``view`` the dependency folder of the venv's Python (its ``.pth``)."""
        purelib = self.venv / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
        (purelib / "site-packages" / "_test_dependencies.pth").write_text(f"{view}\n")


def _links(source: Path, target: Path, leave_out: tuple[str, ...]) -> Path:
    target.mkdir()
    for entry in source.iterdir():
        name = entry.name.lower().replace("-", "_")
        if name.startswith(leave_out) or name.endswith(".pth"):
            continue
        (target / entry.name).symlink_to(entry)
    return target


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    base = tmp_path_factory.mktemp("wheel")
    wheels = base / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "-w", str(wheels), str(ROOT)],
        check=True, cwd=base, timeout=RUN_TIMEOUT, capture_output=True,
    )  # fmt: skip
    (wheel,) = wheels.glob("buckyos_api_runtime-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for shipped in ("buckyos/codegen/proto/buckyos/options.proto", "buckyos/options_pb2.py"):
        assert shipped in names
    assert "buckyos/__init__.py" not in names  # buckyos stays a namespace package

    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
         "--quiet", "--no-deps", "--no-index", str(wheel)],
        check=True, timeout=RUN_TIMEOUT, capture_output=True,
    )  # fmt: skip
    purelib = Path(sysconfig.get_paths()["purelib"])
    extras = tuple(module for module in EXTRA_MODULES.values())
    extras += tuple(dist.replace("-", "_") for dist in EXTRA_MODULES)
    result = Installed(
        venv,
        full=_links(purelib, base / "deps-full", OWN),
        bare=_links(purelib, base / "deps-bare", OWN + extras),
    )
    result.use(result.full)
    where = subprocess.run(
        [str(result.bin / "python"), "-c",
         "import buckyos.runtime, buckyos.codegen.driver as d;"
         "print(buckyos.runtime.__file__); print(d.shipped_include())"],
        check=True, capture_output=True, text=True, env=clean_env(), cwd=base,
    ).stdout.split("\n")  # fmt: skip
    assert where[0].startswith(str(venv)) and where[1].startswith(str(venv)), where
    yield result


def test_the_readme_app_quick_start_runs_against_a_zone_of_the_wheel(
    installed: Installed, tmp_path: Path
) -> None:
    installed.use(installed.full)
    shell, python = _quick_start()
    assert "buckyos zone up --root ./.zone --app my-app" in shell
    root = tmp_path / ".zone"
    env = clean_env()
    up = subprocess.run(
        [str(installed.bin / "buckyos"), "zone", "up", "--root", "./.zone", "--app", "my-app",
         "--ports", "auto", "--json"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT,
    )  # fmt: skip
    try:
        assert up.returncode == 0, up.stderr
        services = json.loads(up.stdout)["services"]
        # The services run from the new venv, not from this checkout.
        done = subprocess.run(
            [str(installed.bin / "python"), "-c",
             python + "\nget_buckyos_api_runtime().close()\n"
             "import buckyos.runtime; print(buckyos.runtime.__file__)\n"],
            env=clean_env({"BUCKYOS_DEV_HOME": str(root / "etc")}),
            cwd=tmp_path, capture_output=True, text=True, timeout=RUN_TIMEOUT,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip().startswith(str(installed.venv)), done.stdout
        ident = load_identity(ZoneLayout(root))
        with KrpcTransport(services["system_config"]["krpc_url"], token=_root_token(ident)) as t:
            got = SystemConfigStub(t).Get(key="users/admin/apps/my-app/settings")
        assert got.value == "{}" and got.version >= 1
    finally:
        down = subprocess.run(
            [str(installed.bin / "buckyos"), "zone", "down", "--root", str(root)],
            env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT,
        )  # fmt: skip
    assert down.returncode == 0, down.stderr


def test_a_contract_of_ones_own_with_only_the_wheel(installed: Installed, tmp_path: Path) -> None:
    installed.use(installed.full)
    project = tmp_path / "project"
    project.mkdir()
    contract_outside(installed.bin, project, clean_env())


def test_without_an_extra_each_command_names_the_one_to_install(
    installed: Installed, tmp_path: Path
) -> None:
    installed.use(installed.bare)
    env = clean_env()
    client = subprocess.run(
        [str(installed.bin / "python"), "-c",
         "from buckyos.generated.system_config_rpc import SystemConfigStub;"
         "from buckyos.runtime import init_buckyos_api_runtime;"
         "import importlib.util as u; print(u.find_spec('uvicorn'), u.find_spec('grpc_tools'))"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT,
    )  # fmt: skip
    assert client.returncode == 0, client.stderr
    assert client.stdout == "None None\n"  # the bare view really lacks both extras

    server = f"the server parts are not installed (no module uvicorn); pip install '{DISTRIBUTION}[server]'"
    codegen = f"the codegen parts are not installed (no module grpc_tools); pip install '{DISTRIBUTION}[codegen]'"
    cases = {
        "zone up": (["zone", "up", "--root", str(tmp_path / "zone"), "--ports", "auto"], server),
        "serve": (["serve", "nowhere:binding"], server),
        "codegen": (["codegen", "--proto-root", ".", "--out", "out", "x.proto"], codegen),
    }
    for command, (argv, text) in cases.items():
        done = subprocess.run(
            [str(installed.bin / "buckyos"), *argv],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT,
        )  # fmt: skip
        assert (done.returncode, done.stdout) == (1, ""), (command, done.stderr)
        assert done.stderr == f"buckyos {command}: error: {text}\n"
    assert not (tmp_path / "zone").exists()  # refused before anything was written
    # python -m buckyos.codegen says the same, its own way.
    done = subprocess.run(
        [str(installed.bin / "python"), "-m", "buckyos.codegen", "--proto-root", ".", "--out",
         "out", "x.proto"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT,
    )  # fmt: skip
    assert (done.returncode, done.stderr) == (1, f"codegen: {NOT_INSTALLED}\n")


def test_the_extras_the_commands_name_are_the_ones_pyproject_declares() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["name"] == DISTRIBUTION
    declared = project["optional-dependencies"]
    for extra, modules in EXTRAS.items():
        distributions = [
            dep.split(">")[0].split("=")[0].split("[")[0].strip() for dep in declared[extra]
        ]
        assert sorted(EXTRA_MODULES[d] for d in distributions) == sorted(modules), extra
    assert f"'{DISTRIBUTION}[codegen]'" in NOT_INSTALLED
