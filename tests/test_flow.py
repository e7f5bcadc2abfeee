"""The sans-IO flows' two drivers: one flow, the same outcome from sync and asyncio code."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from buckyos.generated import system_config_pb2 as sc
from buckyos.generated.system_config_rpc import SYSTEM_CONFIG_GET
from buckyos.runtime.descriptor import MethodDescriptor
from buckyos.runtime.errors import KeyNotExistError, NoPermissionError
from buckyos.runtime.program.flow import Flow, Pause, adrive, call, drive


class Answers:
    """An invoker (both modes) that answers ``key`` with its value, or raises."""

    def __init__(self, table: dict[str, str | BaseException]) -> None:
        self.table = table
        self.asked: list[str] = []

    def _answer(self, request: Any) -> Any:
        self.asked.append(request.key)
        found = self.table[request.key]
        if isinstance(found, BaseException):
            raise found
        return sc.GetResult(value=found)

    def invoke(
        self, method: MethodDescriptor[Any, Any], request: Any, *, timeout: float | None = None
    ) -> Any:
        return self._answer(request)

    async def ainvoke(
        self, method: MethodDescriptor[Any, Any], request: Any, *, timeout: float | None = None
    ) -> Any:
        return self._answer(request)


def read_both() -> Flow[list[str]]:
    """Reads ``a``; a refused ``b`` is skipped, any other error ends the flow."""
    got = [(yield from call(SYSTEM_CONFIG_GET, sc.KeyRequest(key="a"))).value]
    try:
        got.append((yield from call(SYSTEM_CONFIG_GET, sc.KeyRequest(key="b"))).value)
    except NoPermissionError:
        got.append("-")
    yield Pause(0.0)
    return got


def run(mode: str, flow: Flow[Any], invoker: Answers) -> Any:
    if mode == "sync":
        return drive(flow, invoker)
    return asyncio.run(adrive(flow, invoker))


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_answers_go_in_and_the_result_comes_out(mode: str) -> None:
    invoker = Answers({"a": "1", "b": "2"})
    assert run(mode, read_both(), invoker) == ["1", "2"]
    assert invoker.asked == ["a", "b"]


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_an_error_is_raised_at_the_yield_where_the_flow_may_catch_it(mode: str) -> None:
    refused = Answers({"a": "1", "b": NoPermissionError("no")})
    assert run(mode, read_both(), refused) == ["1", "-"]
    missing = Answers({"a": "1", "b": KeyNotExistError("b")})
    with pytest.raises(KeyNotExistError):
        run(mode, read_both(), missing)


def test_a_cancelled_call_cancels_the_flow() -> None:
    closed: list[bool] = []

    def flow() -> Flow[None]:
        try:
            yield from call(SYSTEM_CONFIG_GET, sc.KeyRequest(key="a"))
        except Exception:  # a cancellation is not an error to handle
            closed.append(False)
        finally:
            closed.append(True)

    async def main() -> None:
        task = asyncio.create_task(adrive(flow(), Answers({"a": asyncio.CancelledError()})))
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert closed == [True]
