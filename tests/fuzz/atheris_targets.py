"""Coverage-guided fuzzing (atheris/libFuzzer) of what parses untrusted bytes.

Targets, chosen by the first byte of each input:

- the kRPC ASGI app (``KrpcApp``) fed a whole request body: it must answer exactly once,
  with 200 (a kRPC result or error), 400 or 413, never a 5xx and never an exception, and
  log no error: an exception in a verb is answered as an ordinary 200 kRPC error
  (``Failed due to reason: internal error in ...``), so only the ERROR it logs tells it
  from a refusal;
- the binder link's call-frame parser (``parse_call``): a ``CallFrame`` or a
  ``FrameError``/``RPCError``, nothing else;
- the kRPC JSON mapping (``decode_params``) of every verb of the test contracts: a message
  or an ``RPCError``.

``python -m tests.fuzz.atheris_targets -atheris_runs=N [corpus dir]`` (what ``make fuzz``
runs); ``tests/test_fuzz_atheris.py`` runs a short budget in CI.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import atheris

# Instrument our code only: instrumenting protobuf, grpc and the rest takes ~25 s.
with atheris.instrument_imports(include=["buckyos"]):
    from buckyos.runtime.errors import RPCError
    from buckyos.runtime.server.krpc_server import KrpcApp
    from buckyos.runtime.wire.jsonmap import decode_params
    from buckyos.runtime.wire.link import FrameError, loads, parse_call
    from tests.wire_fixtures import GOOD_TOKEN, FakeDispatcher

_DISPATCHER = FakeDispatcher()
_APP = KrpcApp(_DISPATCHER, max_body=64 * 1024)
_METHODS = [method for service in _DISPATCHER.services() for method in service.methods]
_PATH = "/kapi/" + _DISPATCHER.services()[0].api
_LOOP = asyncio.new_event_loop()
_ANSWERS = (200, 400, 413)


class _Errors(logging.Handler):
    """Keeps the ERROR records of our loggers: each is a crash the wire hides."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


_ERRORS = _Errors()
logging.getLogger("buckyos").addHandler(_ERRORS)


async def _post(body: bytes) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []
    scope = {
        "type": "http",
        "path": _PATH,
        "method": "POST",
        "headers": [(b"content-length", str(len(body)).encode())],
        "client": ("127.0.0.1", 1),
    }

    async def receive() -> MutableMapping[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(dict(message))

    await _APP(scope, receive, send)
    return sent


def krpc_body(data: bytes) -> None:
    sent = _LOOP.run_until_complete(_post(data))
    starts = [m for m in sent if m["type"] == "http.response.start"]
    if len(starts) != 1 or starts[0]["status"] not in _ANSWERS:
        raise AssertionError(f"answered {[m.get('status') for m in starts]} to {data[:80]!r}")
    if _ERRORS.records:
        record = _ERRORS.records[0]
        _ERRORS.records.clear()
        raise AssertionError(f"logged a crash for {data[:80]!r}: {record.getMessage()}")


def link_frame(data: bytes) -> None:
    text = data.decode("utf-8", "replace")
    try:
        parse_call(text)
    except (FrameError, RPCError):
        pass


def json_params(data: bytes) -> None:
    if not data:
        return
    method = _METHODS[data[0] % len(_METHODS)]
    try:
        params = loads(data[1:].decode("utf-8", "replace"))
    except (ValueError, RecursionError, RPCError):
        return
    try:
        decode_params(method, params)
    except RPCError:
        pass


_TARGETS = (krpc_body, link_frame, json_params)


def one_input(data: bytes) -> None:
    if not data:
        return
    _TARGETS[data[0] % len(_TARGETS)](data[1:])


def main(argv: list[str] | None = None) -> None:
    atheris.Setup(sys.argv if argv is None else argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    assert GOOD_TOKEN  # the fixtures' token: seeds may carry it
    main()
