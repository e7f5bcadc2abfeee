"""One timer for many call deadlines: who expires, when, and telling it from other cancels."""

from __future__ import annotations

import asyncio

import pytest

from buckyos.runtime.server.deadlines import Deadlines


async def _sleeper(deadlines: Deadlines, call: object, timeout: float, sleep: float) -> str:
    task = asyncio.current_task()
    assert task is not None
    deadlines.add(call, task, timeout)
    try:
        await asyncio.sleep(sleep)
        return "finished"
    except asyncio.CancelledError:
        if deadlines.done(call):
            task.uncancel()
            return "expired"
        raise
    finally:
        deadlines.done(call)


def test_only_overdue_calls_expire_and_the_timer_rearms() -> None:
    async def run() -> None:
        deadlines = Deadlines(asyncio.get_running_loop())
        long, short, quick = object(), object(), object()
        results = list(
            await asyncio.gather(
                _sleeper(deadlines, long, 0.3, 0.15),  # finishes before its deadline
                _sleeper(deadlines, short, 0.05, 1.0),  # armed later but earlier: re-arms
                _sleeper(deadlines, quick, 0.2, 1.0),  # expires on the re-armed timer
            )
        )
        assert results == ["finished", "expired", "expired"]
        assert len(deadlines) == 0
        deadlines.close()

    asyncio.run(run())


def test_another_cancel_is_not_a_timeout() -> None:
    async def run() -> None:
        deadlines = Deadlines(asyncio.get_running_loop())
        call = object()
        task = asyncio.create_task(_sleeper(deadlines, call, 5.0, 5.0))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert len(deadlines) == 0 and not deadlines.done(call)
        deadlines.close()

    asyncio.run(run())


def test_nested_calls_expire_separately() -> None:
    async def run() -> None:
        deadlines = Deadlines(asyncio.get_running_loop())
        outer, inner = object(), object()
        task = asyncio.current_task()
        assert task is not None
        deadlines.add(outer, task, 1.0)
        # the inner call (same task, as a re-entrant in-process subcall) expires first
        assert await _sleeper(deadlines, inner, 0.05, 1.0) == "expired"
        assert len(deadlines) == 1  # the outer one still runs
        assert not deadlines.done(outer)
        deadlines.close()

    asyncio.run(run())
