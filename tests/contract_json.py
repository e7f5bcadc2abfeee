"""Helpers of the contract tests (tests/test_contract_repo.py, _scheduler.py, _workflow.py):
upstream's JSON through our messages and back, a Binding served on free loopback ports in
a thread of its own, and a page's example code."""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from buckyos.runtime.descriptor import MethodDescriptor
from buckyos.runtime.errors import ParseRequestError, ParseResponseError
from buckyos.runtime.server import Binding
from buckyos.runtime.server.serve import serving
from buckyos.runtime.wire.jsonmap import decode_params, decode_result, encode_params, encode_result

DOCS = Path(__file__).resolve().parents[1] / "docs"


def same_json(again: Any, original: Any) -> None:
    """``again`` is ``original``: the same JSON, and the top object's keys in the same
    order (an opaque object's keys come out in protobuf's map order: nested ones are
    compared sorted)."""
    assert json.dumps(again, sort_keys=True) == json.dumps(original, sort_keys=True), (
        again,
        original,
    )
    if isinstance(original, dict):
        assert list(again) == list(original)


def params_round_trip(method: MethodDescriptor[Any, Any], params: Any) -> Any:
    """The request message of ``params``; its encoding must be ``params`` again."""
    message = decode_params(method, params)
    same_json(encode_params(method, message), params)
    return message


def result_round_trip(method: MethodDescriptor[Any, Any], result: Any) -> Any:
    """The response message of ``result``; its encoding must be ``result`` again."""
    message = decode_result(method, result)
    same_json(encode_result(method, message), result)
    return message


def params_refused(method: MethodDescriptor[Any, Any], params: Any) -> str:
    with pytest.raises(ParseRequestError) as err:
        decode_params(method, params)
    return str(err.value)


def result_refused(method: MethodDescriptor[Any, Any], result: Any) -> str:
    with pytest.raises(ParseResponseError) as err:
        decode_result(method, result)
    return str(err.value)


@dataclass(frozen=True)
class Served:
    krpc_url: str
    """``http://127.0.0.1:<port>``, no path."""
    grpc_target: str
    """``127.0.0.1:<port>``."""


@contextmanager
def served(binding: Binding) -> Iterator[Served]:
    """``binding`` served over kRPC and gRPC on free loopback ports, by an event loop in a
    thread of its own (so sync stubs can call it); stopped and joined on exit."""
    ready = threading.Event()
    stop: list[asyncio.Event] = []
    found: list[Served] = []
    failed: list[BaseException] = []
    loop = asyncio.new_event_loop()

    async def main() -> None:
        stop.append(asyncio.Event())
        try:
            async with serving(
                binding, krpc_port=0, grpc_port=0, log_level="warning", register=False
            ) as info:
                assert info.krpc_url is not None and info.grpc_target is not None
                found.append(Served(info.krpc_url, info.grpc_target))
                ready.set()
                await stop[0].wait()
        except BaseException as exc:  # pragma: no cover - reported by the assert below
            failed.append(exc)
            ready.set()
            raise

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    try:
        assert ready.wait(15), "the test server did not start in 15 s"
        assert not failed, failed
        yield found[0]
    finally:
        if stop:
            loop.call_soon_threadsafe(stop[0].set)
        thread.join(15)
        alive = thread.is_alive()
        if not alive:
            loop.close()
        assert not alive, "the test server did not stop in 15 s"


def page_example(page: str, heading: str) -> str:
    """The first python code block under ``## heading`` of ``docs/<page>``."""
    text = (DOCS / page).read_text(encoding="utf-8")
    assert f"## {heading}\n" in text, heading
    section = text.split(f"## {heading}\n", 1)[1]
    found = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert found is not None, heading
    return found.group(1)
