"""The example of ``docs/server-authors.md`` is the code the page shows, and it runs.

- Every ``<!-- quote: PATH[#REGION] -->`` block of the page equals the file (or the region
  between ``--8<-- [start:REGION]`` and ``--8<-- [end:REGION]``), and every region is
  quoted: the page cannot drift from ``examples/notes/``.
- The page's ``buckyos serve`` commands run as real processes; the page's clients call
  them over kRPC and gRPC with real Ed25519 tokens; the page's wire exchanges are posted
  as they are and answered as the page says; SIGTERM/SIGINT end them with exit 0.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import re
import shlex
import signal
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from buckyos.cli.main import main
from buckyos.runtime.errors import NoPermissionError
from examples.notes.client import grpc_session, krpc_session, session_token, write_owner_key
from examples.notes.generated import notes_pb2 as pb
from examples.notes.service import POLICY
from tests.test_cli_serve import BUCKYOS, Served

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "server-authors.md"
EXAMPLE = ROOT / "examples" / "notes"
QUOTED_FILES = ("examples/notes/service.py", "examples/notes/client.py")

_QUOTE = re.compile(
    r"<!-- quote: (?P<path>[^#\s]+)(?:#(?P<region>[\w-]+))? -->\n"
    r"```(?P<lang>\w+)\n(?P<body>.*?)```\n",
    re.S,
)
_REGION = re.compile(r"^# --8<-- \[(start|end):([\w-]+)\]$", re.M)
_WIRE = re.compile(r"<!-- wire-(request|response) -->\n```json\n(.*?)\n```\n", re.S)


def page() -> str:
    return PAGE.read_text(encoding="utf-8")


def regions(path: Path) -> dict[str, str]:
    """``--8<-- [start:NAME]`` .. ``[end:NAME]`` of ``path``, blank lines at both ends cut."""
    text = path.read_text(encoding="utf-8")
    found: dict[str, str] = {}
    open_at: dict[str, int] = {}
    for match in _REGION.finditer(text):
        kind, name = match.groups()
        if kind == "start":
            assert name not in open_at and name not in found, f"{path}: region {name} twice"
            open_at[name] = match.end()
        else:
            assert name in open_at, f"{path}: end of region {name} without a start"
            found[name] = text[open_at.pop(name) : match.start()].strip("\n")
    assert not open_at, f"{path}: regions never ended: {sorted(open_at)}"
    return found


def quoted_text(path: str, region: str | None) -> str:
    file = ROOT / path
    if region is None:
        return file.read_text(encoding="utf-8").strip("\n")
    parts = regions(file)
    assert region in parts, f"{path} has no region {region} (it has {sorted(parts)})"
    return parts[region]


# --------------------------------------------------------------------------- the page


def test_every_quote_matches_its_file() -> None:
    quotes = list(_QUOTE.finditer(page()))
    assert quotes, "the page quotes nothing"
    seen: set[tuple[str, str | None]] = set()
    for quote in quotes:
        path, region = quote["path"], quote["region"]
        label = f"{path}#{region}" if region else path
        expected = quoted_text(path, region)
        assert quote["body"].strip("\n") == expected, (
            f"docs/server-authors.md quote of {label} differs from the file: "
            "paste the file's text into the page"
        )
        seen.add((path, region))
    assert ("examples/notes/proto/notes/notes.proto", None) in seen
    for path in QUOTED_FILES:
        for region in regions(ROOT / path):
            assert (path, region) in seen, f"region {region} of {path} is not on the page"


def test_the_page_shows_the_real_error_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.chdir(ROOT)
    assert main(["serve", "examples.notes.service:bindng"]) == 1
    err = capsys.readouterr().err
    assert err == (
        "buckyos serve: error: module examples.notes.service has no attribute 'bindng'; "
        "servable objects there: Notes, binding\n"
    )
    assert f"```text\n{err}```\n" in page()


def test_without_the_owner_key_the_factory_says_what_to_set(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.delenv("NOTES_OWNER_KEY", raising=False)
    assert main(["serve", "examples.notes.service:binding", "--app-dir", str(ROOT)]) == 1
    assert capsys.readouterr().err == (
        "buckyos serve: error: examples.notes.service:binding() failed: ConfigError: "
        "set NOTES_OWNER_KEY to the zone owner's public key file (a JWK)\n"
    )


# --------------------------------------------------------------------------- running it


def page_command(prefix: str) -> list[str]:
    """The page's shell line starting with ``prefix``, split as the shell would."""
    lines = [line for line in page().splitlines() if line.startswith(prefix)]
    assert len(lines) == 1, f"expected one line starting {prefix!r} on the page, got {lines}"
    return shlex.split(lines[0])


def runnable(
    words: list[str],
    env: dict[str, str],
    env_values: dict[str, str],
    options: dict[str, str],
    flags: tuple[str, ...] = (),
) -> list[str]:
    """The page's command for a test: its leading ``VAR=value`` words moved to ``env``
    (with the test's ``env_values``), the console script by its path, the values of
    ``options`` replaced (or added) and ``flags`` added."""
    while "=" in words[0] and not words[0].startswith("-"):
        name, _, _ = words.pop(0).partition("=")
        assert name in env_values, f"the page sets {name}; the test must give it a value"
        env[name] = env_values[name]
    assert words[0] == "buckyos"
    argv = [str(BUCKYOS), *words[1:]]
    for option, value in options.items():
        if option in argv:
            argv[argv.index(option) + 1] = value
        else:
            argv += [option, value]
    return [*argv, *flags]


def post(base_url: str, body: str) -> Any:
    """POST ``body`` to ``/kapi/notes`` as it is; the parsed JSON answer (HTTP 200)."""
    parts = urlsplit(base_url)
    assert parts.hostname is not None and parts.port is not None
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request(
            "POST", "/kapi/notes", body.encode(), {"Content-Type": "application/json"}
        )
        response = connection.getresponse()
        assert response.status == 200
        return json.loads(response.read())
    finally:
        connection.close()


@pytest.fixture
def launched() -> Any:
    started: list[Served] = []
    try:
        yield started
    finally:
        for served in started:
            served.kill()


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)  # `examples` must come from the current directory
    return env


def test_the_documented_service_end_to_end(tmp_path: Path, launched: list[Served]) -> None:
    owner, owner_jwk = write_owner_key(tmp_path)
    env = child_env()
    argv = runnable(
        page_command("NOTES_OWNER_KEY="),
        env,
        {"NOTES_OWNER_KEY": str(owner_jwk)},
        {"--krpc-port": "0", "--grpc-port": "0"},
    )
    assert argv[1:3] == ["serve", "examples.notes.service:binding"]
    served = Served(argv, ROOT, env, logs=tmp_path)
    launched.append(served)
    krpc_line, grpc_line = served.readline(), served.readline()
    assert re.fullmatch(r"kRPC listening on http://127\.0\.0\.1:\d+", krpc_line), krpc_line
    assert re.fullmatch(r"gRPC listening on 127\.0\.0\.1:\d+", grpc_line), grpc_line
    krpc_url = krpc_line.removeprefix("kRPC listening on ")
    grpc_target = grpc_line.removeprefix("gRPC listening on ")
    alice = session_token(owner, "alice")

    seen = krpc_session(krpc_url, alice)
    assert seen[:6] == [
        pb.Note(user="alice", id="n1", text="buy milk", version=1),
        pb.Note(user="alice", id="n1", text="buy oat milk", version=2),
        pb.Note(user="alice", id="n1", text="buy oat milk", version=2),
        pb.Note(),
        pb.NoteIds(ids=["n1"]),
        pb.Greeting(text="hello, alice", last_put="n1"),
    ]
    assert isinstance(seen[6], NoPermissionError)
    assert str(seen[6]) == (
        "No permission:enforce failed,userid:alice,appid:notes,"
        "resource:obj://notes/bob/n1,action:write"
    )

    # gRPC: the same session (same token) and the same note; anonymous gets the refusal.
    seen = asyncio.run(grpc_session(grpc_target, alice))
    assert seen == [
        pb.Greeting(text="hello, alice", last_put="n1"),
        pb.Note(user="alice", id="n1", text="buy oat milk", version=2),
    ]
    seen = asyncio.run(grpc_session(grpc_target, None))
    assert seen[0] == pb.Greeting(text="hello, anonymous")
    assert isinstance(seen[1], NoPermissionError)
    assert str(seen[1]) == "No permission:No session token"

    # The page's wire exchanges, posted as written (bob's token for "<token>").
    wire = list(_WIRE.finditer(page()))
    assert [m[1] for m in wire] == ["request", "response"] * 5
    bob = session_token(owner, "bob")
    for request, response in zip(wire[::2], wire[1::2], strict=True):
        answer = post(krpc_url, request[2].replace("<token>", bob))
        assert answer == json.loads(response[2]), request[2]

    assert served.stop(signal.SIGTERM) == 0
    assert "Traceback" not in served.stderr()


def test_the_documented_bare_servicer_command(tmp_path: Path, launched: list[Served]) -> None:
    owner, owner_jwk = write_owner_key(tmp_path)
    policy = tmp_path / "notes.csv"
    policy.write_text(POLICY)
    env = child_env()
    argv = runnable(
        page_command("buckyos serve examples.notes.service:Notes"),
        env,
        {},
        {"--trust-key": f"root={owner_jwk}", "--rbac-policy": str(policy), "--krpc-port": "0"},
        ("--no-grpc", "--json"),
    )
    served = Served(argv, ROOT, env, logs=tmp_path)
    launched.append(served)
    listening = json.loads(served.readline())
    assert listening["apis"] == ["notes"] and listening["grpc"] is None
    seen = krpc_session(listening["krpc"], session_token(owner, "alice"))
    assert seen[1] == pb.Note(user="alice", id="n1", text="buy oat milk", version=2)
    assert isinstance(seen[6], NoPermissionError)
    assert served.stop(signal.SIGINT) == 0
    assert "Traceback" not in served.stderr()
