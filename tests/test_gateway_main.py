"""``python -m buckyos.services.gateway`` as a real process in front of a real
system_config and a real instance: ready line, device-signed reads, SIGTERM exits 0."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from pathlib import Path

from buckyos.generated import system_config_pb2 as sc
from buckyos.generated.system_config_rpc import AsyncSystemConfigStub
from buckyos.runtime.client.krpc_client import KrpcTransport
from buckyos.runtime.security.keys import private_key_to_pem
from buckyos.runtime.security.rbac import RbacEnforcer
from buckyos.runtime.security.token_verifier import TokenVerifier
from buckyos.runtime.server.binding import Binding
from buckyos.runtime.server.krpc_server import KrpcApp
from buckyos.runtime.server.serve import serving
from buckyos.services.gateway.server import gateway_serving
from tests.generated import kitchen_sink_pb2 as ks
from tests.test_gateway import WHOAMI, Config, Node, make_keys

_GATEWAY = (sys.executable, "-m", "buckyos.services.gateway")


async def _ready_line(process: asyncio.subprocess.Process, deadline: float) -> str:
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), max(0.1, deadline - time.monotonic()))
    return line.decode().strip()


async def _stop(process: asyncio.subprocess.Process) -> int:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
    try:
        return await asyncio.wait_for(process.wait(), 10)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise


def test_gateway_process_forwards_and_exits_0_on_sigterm(tmp_path: Path) -> None:
    keys = make_keys()
    key_file = tmp_path / "node_private_key.pem"
    key_file.write_text(private_key_to_pem(keys.device))

    async def main() -> None:
        node = Node("a", keys)
        async with gateway_serving(
            KrpcApp(node.binding()), port=0, log_level="warning", grace=1
        ) as instance_url:
            port = int(instance_url.rsplit(":", 1)[1])
            info = {
                "selector_type": "random",
                "node_list": {
                    "ood1": {
                        "node_did": "did:bns:ood1",
                        "state": "started",
                        "weight": 100,
                        "service_port": {"www": port},
                    }
                },
            }
            config = Binding(
                "system_config",
                verifier=TokenVerifier(keys.trust),
                rbac=RbacEnforcer(tail="g, alice, users\ng, notes, app"),
            )
            config.add_service(
                Config({"services/notes/info": json.dumps(info), "boot/config": "{}"})
            )
            async with serving(config, krpc_port=0, grpc_port=None, log_level="warning") as sc_info:
                assert sc_info.krpc_url is not None
                process = await asyncio.create_subprocess_exec(
                    *_GATEWAY,
                    "--system-config",
                    sc_info.krpc_url,
                    "--device-name",
                    "ood1",
                    "--device-key",
                    str(key_file),
                    "--port",
                    "0",
                    "--log-level",
                    "warning",
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.PIPE,
                )
                try:
                    line = await _ready_line(process, time.monotonic() + 20)
                    assert line.startswith("gateway listening on http://127.0.0.1:"), line
                    gateway = line.removeprefix("gateway listening on ")
                    async with KrpcTransport(gateway, token=keys.alice) as client:
                        result = await client.ainvoke(WHOAMI, ks.EchoRequest(name="p"))
                        assert result.text == "a:alice:p"
                        got = await AsyncSystemConfigStub(client).Get(key="boot/config")
                        assert got == sc.GetResult(value="{}", version=1)
                finally:
                    code = await _stop(process)
                assert code == 0
                assert process.stderr is not None
                errors = (await process.stderr.read()).decode()
                assert "Traceback" not in errors, errors

    asyncio.run(asyncio.wait_for(main(), 60))


def test_gateway_process_refuses_an_unreadable_key(tmp_path: Path) -> None:
    async def main() -> None:
        process = await asyncio.create_subprocess_exec(
            *_GATEWAY,
            "--system-config",
            "http://127.0.0.1:9",
            "--device-name",
            "ood1",
            "--device-key",
            str(tmp_path / "missing.pem"),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), 20)
        assert process.returncode == 2
        assert out == b""
        assert err.decode().startswith(
            f"gateway: cannot read private key file {tmp_path / 'missing.pem'}: "
        )

    asyncio.run(asyncio.wait_for(main(), 30))
