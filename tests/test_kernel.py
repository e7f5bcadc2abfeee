"""services/kernel.py: a kernel service's options, its standalone trust and its refusals.

The zone side (a runtime logged in with the device key, revocations polled) runs in every
zone test: task-manager, kmsg and kevent open their kernel that way at ``zone up``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path

import pytest

from buckyos.runtime.errors import ConfigError, InvalidTokenError
from buckyos.runtime.security.keys import generate_key_pair, public_key_to_jwk
from buckyos.runtime.security.token_signing import sign_token
from buckyos.services.kernel import add_kernel_options, open_kernel


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="svc", exit_on_error=False)
    add_kernel_options(parser, app_id="svc")
    return parser


def test_standalone_kernel_trusts_only_the_given_keys(tmp_path: Path) -> None:
    device, stranger = generate_key_pair()[0], generate_key_pair()[0]
    path = tmp_path / "device.jwk"
    path.write_text(json.dumps(public_key_to_jwk(device.public_key())))
    args = _parser().parse_args(["--trust-key", f"device:ood1={path}"])
    assert args.app_id == "svc"
    kernel = asyncio.run(open_kernel(args))
    binding = kernel.binding("svc")
    try:
        claims = {"sub": "kernel", "appid": "task-manager", "exp": int(time.time()) + 60}
        token = binding.authorizer.verify(sign_token(claims, device, kid="ood1"))
        assert token.zone_trusted
        with pytest.raises(InvalidTokenError):
            binding.authorizer.verify(sign_token(claims, stranger, kid="ood1"))
        assert kernel.session_token() is None  # standalone: it calls nobody as itself
        assert kernel.revocations is None
    finally:
        binding.close()
        asyncio.run(kernel.aclose())


def test_a_kernel_needs_a_zone_or_trust_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BUCKYOS_ROOT", raising=False)
    with pytest.raises(ConfigError, match=r"no zone: give --root"):
        asyncio.run(open_kernel(_parser().parse_args([])))
    key = tmp_path / "k.jwk"
    key.write_text(json.dumps(public_key_to_jwk(generate_key_pair()[0].public_key())))
    both = _parser().parse_args(["--root", str(tmp_path), "--trust-key", f"root={key}"])
    with pytest.raises(ConfigError, match="give it or --root, not both"):
        asyncio.run(open_kernel(both))


def test_trust_key_option_says_what_it_expects() -> None:
    with pytest.raises(argparse.ArgumentError, match=r"expected KID=PATH"):
        _parser().parse_args(["--trust-key", "device:"])


def test_a_private_key_is_not_a_trust_key(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization

    private = generate_key_pair()[0]
    path = tmp_path / "private.pem"
    path.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    args = _parser().parse_args(["--trust-key", f"root={path}"])
    with pytest.raises(ConfigError, match="holds a private key"):
        asyncio.run(open_kernel(args))


def test_a_zone_kernel_logs_in_and_follows_the_zone_policy(tmp_path: Path) -> None:
    """In a zone: logged in with the device key (a verify-hub session of a service), and a
    policy line the zone adds later is known within the reload interval, no restart."""
    from buckyos.generated.system_config_rpc import SystemConfigStub
    from buckyos.runtime.client import KrpcTransport
    from buckyos.services.zone import ZoneLayout, load_identity, parse_ports, zone_down, zone_up
    from buckyos.services.zone.zone import _root_token

    root = tmp_path / "zone"
    info = zone_up(root, ports=parse_ports("auto"))
    sc_url = info.services["system_config"]["krpc_url"]
    try:
        argv = ["--root", str(root), "--system-config", sc_url, "--app-id", "kmsg"]
        args = _parser().parse_args(argv)  # kmsg: a system app of the default policy

        def add_lines() -> None:
            with KrpcTransport(sc_url, token=_root_token(load_identity(ZoneLayout(root)))) as t:
                stub = SystemConfigStub(t)
                policy = stub.Get(key="system/rbac/policy").value
                lines = ["p, probe, obj://probe/x, read, allow", "g, bob, probe", "g, notes, probe"]
                stub.Set(key="system/rbac/policy", value="\n".join([policy, *lines]))

        async def run() -> None:
            kernel = await open_kernel(args)
            kernel.policy_interval = 0.1
            try:
                token = kernel.session_token()
                assert token is not None
                assert kernel.verifier.verify(token).zone_trusted  # a service session
                await kernel.start()
                assert not kernel.rbac.enforce("bob", "notes", "obj://probe/x", "read")
                await asyncio.to_thread(add_lines)
                deadline = time.monotonic() + 10
                while not kernel.rbac.enforce("bob", "notes", "obj://probe/x", "read"):
                    assert time.monotonic() < deadline, "the new policy never arrived"
                    await asyncio.sleep(0.05)
            finally:
                await kernel.aclose()

        asyncio.run(run())
    finally:
        zone_down(root)
