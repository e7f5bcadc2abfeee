"""``pip install .`` (a real wheel, not the editable install) gives working imports."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_installs_into_a_fresh_venv_and_imports_a_stub(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "-w", str(wheels), str(ROOT)],
        check=True,
        cwd=tmp_path,
    )  # fmt: skip
    (wheel,) = wheels.glob("buckyos_api_runtime-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in (
        "buckyos/runtime/py.typed",
        "buckyos/generated/py.typed",
        "buckyos/generated/system_config_rpc.py",
        "buckyos/generated/system_config_pb2.pyi",
        "buckyos/codegen/plugin.py",
    ):
        assert expected in names

    venv = tmp_path / "fresh"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)],
        check=True,
    )
    # Dependencies (protobuf, grpcio, ...) come from this venv's site-packages via
    # PYTHONPATH; .pth files there (the editable install's finder) are not processed.
    env = {**os.environ, "PYTHONPATH": sysconfig.get_paths()["purelib"]}
    env.pop("PYTHONHOME", None)
    code = (
        "import buckyos.generated.system_config_rpc as m, buckyos.runtime as r;"
        "print(m.__file__); print(r.__file__);"
        "print(m.SystemConfigStub.__name__, m.SYSTEM_CONFIG_GET.krpc)"
    )
    out = subprocess.run(
        [str(python), "-c", code], check=True, capture_output=True, text=True, cwd=tmp_path, env=env
    ).stdout.split("\n")
    assert out[0].startswith(str(venv)) and out[1].startswith(str(venv))
    assert out[2] == "SystemConfigStub sys_config_get"


def test_every_package_folder_is_in_the_wheel() -> None:
    """A new package (a service's folder) missing from pyproject's ``packages`` is left out
    of the wheel, and only an installed zone would notice."""
    import tomllib

    setup = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(setup["packages"])
    found = set()
    for name, folder in setup["package-dir"].items():
        if name == "buckyos":
            continue
        base = ROOT / folder
        for init in base.rglob("__init__.py"):
            if ".typings" in init.parts or "__pycache__" in init.parts:
                continue
            rel = init.parent.relative_to(base).parts
            found.add(".".join((name, *rel)))
    assert found - listed == set(), "add these to pyproject's [tool.setuptools] packages"
