"""Shared pieces of the reliability and security suites (``test_security_tokens``,
``test_fuzz_*``, ``test_faults``, ``test_load``, ``soak``).

- :class:`ScProcess`: ``python -m buckyos.services.system_config`` as a real process on
  free ports, on a SQLite file of the test, with the zone owner's root token;
- :func:`rss_kb`: a process's resident memory, read from ``/proc``;
- :func:`budget`: the short (CI) or long (``make fuzz`` / ``make soak``) size of a run;
- :func:`save_results` / :func:`load_results`: the JSON files under ``tests/.results/``
  that the docs' tables and figures are generated from.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from buckyos.runtime.security.keys import (
    Ed25519PrivateKey,
    generate_key_pair,
    private_key_to_pem,
    public_key_to_jwk,
)
from buckyos.runtime.security.token_signing import sign_token
from buckyos.services.zone.supervisor import Started, alive, start_service, stop_pid

__all__ = [
    "RESULTS_DIR",
    "ScProcess",
    "budget",
    "kill_9",
    "load_results",
    "rss_kb",
    "save_results",
]

RESULTS_DIR: Final = Path(__file__).resolve().parent / ".results"


def rss_kb(pid: int) -> int:
    """Resident set size of ``pid`` in KiB (``VmRSS`` of ``/proc/<pid>/status``)."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError(f"no VmRSS for pid {pid}")


def budget(variable: str, short: int, long: int) -> int:
    """``short`` by default; ``long`` when ``$variable`` is ``long``; a number as given."""
    value = os.environ.get(variable, "short").strip().lower()
    if value == "long":
        return long
    if value in ("", "short"):
        return short
    try:
        return max(1, int(value))
    except ValueError:
        raise ValueError(
            f"${variable} must be 'short', 'long' or a number, got {value!r}"
        ) from None


def kill_9(pid: int, timeout: float = 10.0) -> None:
    """SIGKILL ``pid`` and wait (bounded) until it is gone and reaped."""
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    while alive(pid):
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"pid {pid} still alive {timeout:g} s after SIGKILL")
        time.sleep(0.01)
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


class ScProcess:
    """A system_config process on a SQLite file in ``folder``; restartable on its ports.

    ``start()`` waits for both ready lines; ``kill()`` is ``kill -9``; ``stop()`` is
    SIGTERM (SIGKILL after a grace period).  ``root_token`` is the zone owner acting as
    the kernel (kid ``root``, appid ``kernel``): the app that may do anything.
    """

    def __init__(
        self, folder: Path, *, owner: Ed25519PrivateKey | None = None, db: Path | None = None
    ) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        if owner is None:
            owner, _ = generate_key_pair()
        self.owner = owner
        device, _ = generate_key_pair()
        (folder / "owner.jwk").write_text(json.dumps(public_key_to_jwk(owner.public_key())))
        (folder / "device.pem").write_text(private_key_to_pem(device))
        # Two processes may share one SQLite file (WAL): two instances of one store.
        self.db = db if db is not None else folder / "config.db"
        self.log = folder / "system_config.log"
        self.krpc_port = 0
        self.grpc_port = 0
        self.started: Started | None = None
        self.root_token = self.token("root", "kernel")

    def token(self, sub: str, appid: str, ttl: int = 3600) -> str:
        """A session token signed by the owner key (kid ``root``)."""
        claims = {"sub": sub, "appid": appid, "exp": int(time.time()) + ttl}
        return sign_token(claims, self.owner, kid="root")

    def args(self) -> list[str]:
        return [
            "--db", str(self.db),
            "--owner-key", str(self.folder / "owner.jwk"),
            "--owner-did", "did:bns:owner",
            "--device-name", "ood1",
            "--device-key", str(self.folder / "device.pem"),
            "--krpc-port", str(self.krpc_port),
            "--grpc-port", str(self.grpc_port),
            "--log-level", "error",
        ]  # fmt: skip

    def start(self, timeout: float = 30.0) -> ScProcess:
        """Start (or restart, on the ports of the first start) and wait until ready."""
        self.started = start_service(
            "system_config",
            "buckyos.services.system_config",
            self.args(),
            self.log,
            expect=("kRPC", "gRPC"),
            timeout=timeout,
        )
        self.krpc_port = int(self.krpc_url.rsplit(":", 1)[1])
        self.grpc_port = int(self.grpc_target.rsplit(":", 1)[1])
        return self

    @property
    def pid(self) -> int:
        assert self.started is not None, "not started"
        return self.started.pid

    @property
    def krpc_url(self) -> str:
        """``http://127.0.0.1:<port>`` (append ``/kapi/system_config``)."""
        assert self.started is not None, "not started"
        return self.started.addresses["kRPC"]

    @property
    def grpc_target(self) -> str:
        assert self.started is not None, "not started"
        return self.started.addresses["gRPC"]

    @property
    def url(self) -> str:
        return f"{self.krpc_url}/kapi/system_config"

    def alive(self) -> bool:
        return self.started is not None and alive(self.started.pid)

    def kill(self) -> None:
        """``kill -9``: no chance to flush or close anything."""
        if self.started is not None and alive(self.started.pid):
            kill_9(self.started.pid)

    def stop(self, grace: float = 10.0) -> bool:
        """SIGTERM, then SIGKILL after ``grace``; True when it was running."""
        if self.started is None:
            return False
        return stop_pid(self.started.pid, grace=grace)


def save_results(name: str, data: Mapping[str, Any]) -> Path:
    """Write ``tests/.results/<name>.json`` (what the docs' tables are generated from)."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def load_results(name: str) -> dict[str, Any]:
    """The last saved results called ``name``; ``{}`` when none were saved yet."""
    path = RESULTS_DIR / f"{name}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    return data if isinstance(data, dict) else {}
