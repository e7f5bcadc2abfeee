"""``buckyos logout`` against a real zone: the session is revoked and forgotten."""

from __future__ import annotations

import contextlib
import io
import json
import os
from pathlib import Path
from unittest import mock

import pytest

from buckyos.cli.main import main
from buckyos.generated.verify_hub_rpc import VerifyHubStub
from buckyos.runtime.client.krpc_client import KrpcTransport
from buckyos.runtime.errors import RPCError
from buckyos.services.zone import parse_ports, zone_down, zone_up


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUCKYOS_")}
    with (
        mock.patch.dict(os.environ, env, clear=True),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def test_logout_revokes_and_forgets(tmp_path: Path) -> None:
    root = tmp_path / "zone"
    info = zone_up(root, ports=parse_ports("auto"))
    session_file = root / "etc" / "buckyos-cli-session.json"
    try:
        password = info.admin_password
        assert _run("login", "--root", str(root), "-u", "admin", "-p", password)[0] == 0
        refresh = json.loads(session_file.read_text())["refresh_token"]
        code, out, err = _run("logout", "--root", str(root))
        assert (code, err) == (0, "")
        assert out.strip() == "logged out admin"
        assert not session_file.exists()
        hub = info.services["verify-hub"]["krpc_url"]
        with KrpcTransport(hub) as transport, pytest.raises(RPCError):
            VerifyHubStub(transport).RefreshToken(refresh_token=refresh)  # revoked
        code, out, _ = _run("logout", "--root", str(root), "--json")
        assert code == 0 and json.loads(out) == {"logged_out": False, "reason": "no session"}
        code, _, err = _run("sys-config", "get", "boot/config", "--root", str(root))
        assert code == 1 and "not logged in" in err
        # verify-hub gone: the session is kept for another try
        assert _run("login", "--root", str(root), "-u", "admin", "-p", password)[0] == 0
    finally:
        zone_down(root)
    code, _, err = _run("logout", "--root", str(root))
    assert code == 1
    assert "verify-hub is unreachable" in err and "so that `buckyos logout` can be" in err
    assert session_file.exists()
