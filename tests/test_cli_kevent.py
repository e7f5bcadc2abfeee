"""``buckyos kevent publish|watch`` against the reference kevent (``services/kevent``,
``tests/kevent_server.py``), and against ``tests/kevent_fake.py`` where a test needs a
fault or the headers a request carried.

Most commands call ``main()`` in this process with stdout/stderr captured and a clean
environment (no ``BUCKYOS_*``, a tmp ``HOME``); one pair runs the ``buckyos`` console
script as real processes.  Every wait is bounded.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from buckyos.cli.main import main
from buckyos.runtime.client import KEventClient
from tests.kevent_fake import FakeKEvent, served_kevent
from tests.kevent_server import KEventServer, served_kevent as served_real_kevent

ROOT = Path(__file__).resolve().parent.parent
BUCKYOS = str(ROOT / ".venv" / "bin" / "buckyos")
WAIT = 5.0


@dataclass(frozen=True)
class Done:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def fake() -> Iterator[FakeKEvent]:
    with served_kevent() as server:
        yield server


@pytest.fixture
def real() -> Iterator[KEventServer]:
    with served_real_kevent() as server:
        yield server


@pytest.fixture(autouse=True)
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("BUCKYOS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))


def buckyos(*argv: str) -> Done:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return Done(code, out.getvalue(), err.getvalue())


def soon(action: Callable[[], object], when: Callable[[], bool]) -> threading.Thread:
    """Run ``action`` in a thread once ``when()`` holds (checked for at most WAIT s)."""

    def run() -> None:
        deadline = time.monotonic() + WAIT
        while not when() and time.monotonic() < deadline:
            time.sleep(0.01)
        action()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_publish(real: KEventServer) -> None:
    with KEventClient(real.url) as client:
        sub = client.subscribe(["/cli/**"])
        done = buckyos(
            "kevent", "publish", "/cli/a", '{"ok": true}', "--url", real.url, "--no-token"
        )
        assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
        event = sub.get(WAIT)
        assert event is not None and (event.eventid, event.data) == ("/cli/a", {"ok": True})
        # no DATA_JSON: null; a gateway --url gets /kapi/kevent added
        assert (
            buckyos("kevent", "publish", "--no-token", "/cli/b", "--url", real.base).returncode == 0
        )
        event = sub.get(WAIT)
        assert event is not None and (event.eventid, event.data) == ("/cli/b", None)


def test_publish_with_a_session_token_the_server_checks(
    real: KEventServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BUCKYOS_APPCLIENT_SESSION_TOKEN", real.token("alice", "notes"))
    assert buckyos("kevent", "publish", "/notes/a", "1", "--url", real.base).returncode == 0
    done = buckyos("kevent", "publish", "/photos/a", "1", "--url", real.base)
    assert done.returncode == 1
    assert done.stderr.startswith(
        "buckyos kevent publish: error: NO_PERMISSION: No permission:a token of user alice, "
        "app notes may publish only under /notes/**"
    ), done.stderr
    monkeypatch.setenv("BUCKYOS_APPCLIENT_SESSION_TOKEN", real.token(signer="stranger"))
    done = buckyos("kevent", "publish", "/notes/a", "1", "--url", real.base)
    assert done.returncode == 1
    assert done.stderr == (
        "buckyos kevent publish: error: UNAUTHORIZED: Invalid token: "
        "JWT decode error:InvalidSignature\n"
    )


def test_publish_sends_the_session_token(fake: FakeKEvent, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUCKYOS_APPCLIENT_SESSION_TOKEN", "tok-cli")
    done = buckyos("kevent", "publish", "/cli/t", "1", "--url", f"http://127.0.0.1:{fake.port}")
    assert done.returncode == 0, done.stderr
    assert [(p, h.get("authorization")) for p, h in fake.requests] == [
        ("/kapi/kevent/publish", "Bearer tok-cli")
    ]


def test_publish_refuses_bad_arguments_before_sending(fake: FakeKEvent, tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    big.write_text(json.dumps("x" * 70_000))
    url = ("--url", fake.url, "--no-token")
    for argv, text in (
        (("/cli/a b", "1"), "INVALID_EVENTID: invalid segment 'a b'"),
        (("local", "1"), "INVALID_EVENTID: daemon only accepts global eventid"),
        (("/cli/x", f"@{big}"), "INVALID_EVENTID: event data too large: 70002 bytes, max 65536"),
        (("/cli/x", "{nope"), "DATA_JSON is not valid JSON"),
    ):
        done = buckyos("kevent", "publish", *argv, *url)
        assert done.returncode == 2, done
        assert done.stderr.startswith(f"buckyos kevent publish: error: {text}"), done.stderr
        assert done.stderr.count("\n") == 1
    assert fake.requests == []


def test_publish_errors_carry_upstreams_codes(fake: FakeKEvent) -> None:
    fake.refuse(
        "publish",
        503,
        b'{"status":"err","code":"DAEMON_UNAVAILABLE","message":"DAEMON_UNAVAILABLE: busy"}',
    )
    done = buckyos("kevent", "publish", "/cli/x", "--url", fake.url, "--no-token")
    assert done.returncode == 1
    assert done.stderr == "buckyos kevent publish: error: DAEMON_UNAVAILABLE: busy\n"
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        nobody = f"http://127.0.0.1:{sock.getsockname()[1]}/kapi/kevent"
    done = buckyos("kevent", "publish", "/cli/x", "--url", nobody, "--no-token", "--timeout", "2")
    assert done.returncode == 1
    assert done.stderr.startswith(
        f"buckyos kevent publish: error: DAEMON_UNAVAILABLE: cannot reach {nobody}/publish"
    )


def test_watch_prints_events_until_the_count(real: KEventServer) -> None:
    def publish() -> None:
        real.publish("/w/a", {"n": 1})
        real.publish("/w/a/deep", [1])  # not /w/*
        real.publish("/w/b", "two")

    thread = soon(publish, lambda: real.opened() == 1)
    done = buckyos(
        "kevent", "watch", "/w/*", "--count", "2", "--timeout", "5", "--url", real.url, "--no-token"
    )
    thread.join(WAIT)
    assert done.returncode == 0, done.stderr
    assert done.stdout == '/w/a {"n":1}\n/w/b "two"\n'
    assert done.stderr == f"watching /w/* at {real.url}\n"
    real.wait_readers(0)  # the stream was closed


def test_watch_json_and_deep_patterns(real: KEventServer) -> None:
    thread = soon(lambda: real.publish("/w/x/y/z", None), lambda: real.opened() == 1)
    done = buckyos(
        "kevent", "watch", "/w/**", "/other", "--json", "--count", "1", "--timeout", "5",
        "--url", real.url, "--no-token",
    )  # fmt: skip
    thread.join(WAIT)
    assert done.returncode == 0, done.stderr
    event = json.loads(done.stdout)
    assert {k: event[k] for k in ("eventid", "data", "source_node", "ingress_node")} == {
        "eventid": "/w/x/y/z",
        "data": None,
        "source_node": "test-node",
        "ingress_node": "test-node",
    }
    assert isinstance(event["timestamp"], int) and event["source_pid"] == os.getpid()


def test_watch_timeouts(real: KEventServer) -> None:
    started = time.monotonic()
    done = buckyos("kevent", "watch", "/w/q", "--timeout", "0.3", "--url", real.url, "--no-token")
    assert (done.returncode, done.stdout) == (0, "")
    assert 0.3 <= time.monotonic() - started < WAIT
    # the second watch's stream (the first one's may not be gone yet)
    thread = soon(lambda: real.publish("/w/q", 1), lambda: real.opened() == 2)
    done = buckyos(
        "kevent", "watch", "/w/q", "--count", "3", "--timeout", "0.5", "--url", real.url,
        "--no-token",
    )  # fmt: skip
    thread.join(WAIT)
    assert (done.returncode, done.stdout) == (1, "/w/q 1\n")
    assert done.stderr.splitlines()[-1] == (
        "buckyos kevent watch: error: 1 of 3 events came within 0.5 s; wait longer "
        "(--timeout) or check that something publishes to these patterns"
    )


def test_watch_errors(fake: FakeKEvent) -> None:
    url = ("--url", fake.url, "--no-token")
    done = buckyos("kevent", "watch", "/w/a*", *url)
    assert done.returncode == 2
    assert done.stderr == (
        "buckyos kevent watch: error: INVALID_PATTERN: wildcard must be a full segment '*' or '**'\n"
    )
    assert buckyos("kevent", "watch", "/w", "--count", "0", *url).returncode == 2
    assert fake.requests == []
    fake.refuse("stream", 400, b'{"error":"INVALID_PATTERN: the server says no"}')
    done = buckyos("kevent", "watch", "/w", "--timeout", "2", *url)
    assert done.returncode == 1
    assert done.stderr == "buckyos kevent watch: error: INVALID_PATTERN: the server says no\n"
    thread = soon(
        lambda: fake.error_streams("READER_CLOSED: http_stream_2"), lambda: fake.opened == 1
    )
    done = buckyos("kevent", "watch", "/w", "--timeout", "5", *url)
    thread.join(WAIT)
    assert done.returncode == 1
    assert done.stderr.endswith("buckyos kevent watch: error: READER_CLOSED: http_stream_2\n")


def _clean_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUCKYOS_")}
    env["HOME"] = str(home)
    return env


def test_watch_and_publish_as_processes(real: KEventServer, tmp_path: Path) -> None:
    env = _clean_env(tmp_path)
    url = ["--url", real.url, "--no-token"]
    watcher = subprocess.Popen(
        [BUCKYOS, "kevent", "watch", "/proc/**", "--count", "1", "--timeout", "20", "--json", *url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert _wait_stream(real, 20), "the watcher never subscribed"
        published = subprocess.run(
            [BUCKYOS, "kevent", "publish", "/proc/x", '{"from": "a process"}', *url],
            capture_output=True,
            text=True,
            env=env,
            timeout=20,
        )
        assert (published.returncode, published.stdout, published.stderr) == (0, "", "")
        out, err = watcher.communicate(timeout=20)
    finally:
        if watcher.poll() is None:
            watcher.kill()
            watcher.communicate(timeout=5)
    assert watcher.returncode == 0, err
    assert json.loads(out)["data"] == {"from": "a process"}
    assert err == f"watching /proc/** at {real.url}\n"


def _wait_stream(real: KEventServer, within: float) -> bool:
    """A process starts slower than a thread: wait up to ``within`` s for its stream."""
    deadline = time.monotonic() + within
    while real.readers() != 1:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True
