"""The README's app-developer quick start runs as written against a real local zone."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from buckyos.generated.system_config_rpc import SystemConfigStub
from buckyos.runtime.client.krpc_client import KrpcTransport
from buckyos.services.zone import ZoneLayout, load_identity, parse_ports, zone_down, zone_up
from buckyos.services.zone.zone import _root_token

README = Path(__file__).resolve().parents[1] / "README.md"


def _quick_start() -> tuple[str, str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Quick start: app developers", 1)[1].split("\n## ", 1)[0]
    shell, python = re.findall(r"```(?:sh|python)\n(.*?)```", section, re.DOTALL)
    return shell, python


def test_readme_quick_start_runs(tmp_path: Path) -> None:
    shell, python = _quick_start()
    apps = re.findall(r"--app (\S+)", shell)
    assert apps == ["my-app"]  # the app the snippet uses must be the one the zone allows
    assert "export BUCKYOS_DEV_HOME=$PWD/.zone/etc" in shell
    root = tmp_path / ".zone"
    info = zone_up(root, ports=parse_ports("auto"), apps=apps)
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BUCKYOS_")}
        env["BUCKYOS_DEV_HOME"] = str(root / "etc")
        done = subprocess.run(
            [sys.executable, "-c", python + "\nget_buckyos_api_runtime().close()\n"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        # read back as the zone owner: the snippet's write landed in system_config
        ident = load_identity(ZoneLayout(root))
        url = info.services["system_config"]["krpc_url"]
        with KrpcTransport(url, token=_root_token(ident)) as transport:
            got = SystemConfigStub(transport).Get(key="users/admin/apps/my-app/settings")
        assert got.value == "{}" and got.version >= 1
        assert json.loads(got.value) == {}
    finally:
        zone_down(root)
