"""The fuzzers' crash detectors fire: ``tests/test_fuzz_krpc.py`` and
``tests/test_fuzz_ws.py`` pointed at a system_config process whose ``Get`` raises on every
key (``tests/fuzz/broken_system_config.py``).

Such a crash is answered as an ordinary kRPC error (HTTP 200, ``Failed due to reason:
ValueError: ...``), so a detector that only looked for 5xx or for an ``Internal...`` text
passed it; both detectors must now report it, by the server's log and by the wire text,
while ordinary refusals from the same process pass.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from buckyos.services.zone.supervisor import start_service
from tests.fuzz.broken_system_config import BROKEN
from tests.reliability_fixtures import ScProcess
from tests.test_fuzz_krpc import Target, check_error_text
from tests.test_fuzz_ws import Link

ROOT = Path(__file__).resolve().parent.parent


class BrokenProcess(ScProcess):
    """:class:`ScProcess` running ``python -m tests.fuzz.broken_system_config``."""

    def start(self, timeout: float = 30.0) -> BrokenProcess:
        path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
        self.started = start_service(
            "broken system_config",
            "tests.fuzz.broken_system_config",
            self.args(),
            self.log,
            expect=("kRPC", "gRPC"),
            timeout=timeout,
            env={**os.environ, "PYTHONPATH": path},
        )
        self.krpc_port = int(self.krpc_url.rsplit(":", 1)[1])
        self.grpc_port = int(self.grpc_target.rsplit(":", 1)[1])
        return self


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokenProcess]:
    process = BrokenProcess(tmp_path_factory.mktemp("broken-sc")).start()
    try:
        yield process
    finally:
        process.stop()


def _get(token: str) -> bytes:
    return json.dumps(
        {"method": "sys_config_get", "params": {"key": "boot/config"}, "sys": [1, token]}
    ).encode()


def test_the_krpc_fuzzer_reports_a_crashing_handler(broken: BrokenProcess) -> None:
    target = Target(broken)
    try:
        # What the old detector saw: HTTP 200 and an error not starting with "Internal".
        status, data = target.poster.post(_get(broken.root_token))
        answer = json.loads(data)
        assert status == 200, data
        assert answer["error"] == f"Failed due to reason: ValueError: {BROKEN}: 'boot/config'"
        assert not answer["error"].startswith("Internal")
        target.crash_log.new_crashes()  # that one was seen; the detector starts afresh

        # The fuzzer's own check (each example, and healthy() in its fixture) fails.
        with pytest.raises(AssertionError, match="the server logged a crash") as caught:
            target.check(_get(broken.root_token))
        assert BROKEN in str(caught.value) and "ValueError" in str(caught.value)
        with pytest.raises(AssertionError, match="the server logged a crash"):
            target.healthy()
        # The wire check alone recognises the text too.
        with pytest.raises(AssertionError, match="an internal error"):
            check_error_text(answer["error"], "get")

        # Refusals of bad input from the same process are not crashes.
        missing = {"method": "sys_config_set", "params": {}, "sys": [2, broken.root_token]}
        status, refused = target.check(json.dumps(missing).encode())
        assert status == 200 and refused["error"].startswith("Failed due to reason: "), refused
        assert target.check(b"not json")[0] == 400
        assert target.crash_log.new_crashes() == ""
    finally:
        target.poster.close()


def test_the_websocket_fuzzer_reports_a_crashing_handler(broken: BrokenProcess) -> None:
    link = Link(broken)
    try:
        with pytest.raises(AssertionError, match="the server logged a crash") as caught:
            link.healthy()
        assert BROKEN in str(caught.value)
        # A refused frame from the same link is not a crash.
        answer = link.exchange('[2,"x","system_config/sys_config_set",{}]')
        assert answer[0] == 4 and answer[1] == "x", answer
    finally:
        link.close()


@pytest.mark.parametrize(
    "text",
    [
        "Failed due to reason: ValueError: boom",
        "Failed due to reason: KeyError: 'k'",
        "Failed due to reason: RecursionError: maximum recursion depth exceeded",
        "Failed due to reason: internal error in system_config/sys_config_get",
        "Failed due to reason: system_config/sys_config_get timed out after 15s",
        "Failed due to reason: sys_config_get returned Empty, expected buckyos.GetResult",
    ],
)
def test_the_wire_shapes_of_an_internal_error_are_recognised(text: str) -> None:
    with pytest.raises(AssertionError, match="an internal error"):
        check_error_text(text, "input")


@pytest.mark.parametrize(
    "text",
    [
        "Failed due to reason: Missing key",
        "Failed due to reason: Missing action type for key: a/b",
        "Failed due to reason: invalid key 'a//b': empty segment",
        "No permission:No read permission",
        "Parse Request Error: params must be an object",
    ],
)
def test_refusals_are_not_taken_for_internal_errors(text: str) -> None:
    check_error_text(text, "input")
