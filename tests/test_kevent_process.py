"""``python -m buckyos.services.kevent`` as a process: its ready line, tokens checked
with the ``--trust-key`` keys, exit 0 on SIGTERM with a stream open, exit 2 on bad
options."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from buckyos.runtime.client import KEventClient, KEventError
from buckyos.runtime.security import generate_private_key, sign_token

WAIT = 20.0


def _start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "buckyos.services.kevent", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "BUCKYOS_ROOT": ""},
    )


def test_the_process_serves_checks_tokens_and_exits_0_on_sigterm(tmp_path: Path) -> None:
    owner = generate_private_key()
    pem = tmp_path / "owner.pub.pem"
    pem.write_bytes(
        owner.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    process = _start("--port", "0", "--node-name", "n1", "--trust-key", f"root={pem}")
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert line.startswith("kRPC listening on http://127.0.0.1:"), line
        url = line.removeprefix("kRPC listening on ")
        token = sign_token({"sub": "root", "exp": int(time.time()) + 600}, owner, kid="root")
        with KEventClient(url, token=token) as client:
            sub = client.subscribe(["/p/*"], keepalive_ms=500)
            client.publish("/p/1", {"ok": True})
            event = sub.get(WAIT)
            assert event is not None and (event.data, event.ingress_node) == ({"ok": True}, "n1")
            stranger = generate_private_key()
            forged = sign_token(
                {"sub": "root", "exp": int(time.time()) + 600}, stranger, kid="root"
            )
            with KEventClient(url, token=forged) as bad:
                try:
                    bad.publish("/p/2", 1)
                    raise AssertionError("a forged token was accepted")
                except KEventError as exc:
                    assert exc.status == 401 and "InvalidSignature" in exc.detail
            started = time.monotonic()
            process.send_signal(signal.SIGTERM)  # with the stream still open
            assert process.wait(WAIT) == 0
            assert time.monotonic() - started < 5.0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(WAIT)
        for pipe in (process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()


def test_the_process_without_a_zone_exits_2() -> None:
    process = _start("--port", "0")
    try:
        _, err = process.communicate(timeout=WAIT)
        assert process.returncode == 2
        assert "kevent: no zone: give --root" in err
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(WAIT)
