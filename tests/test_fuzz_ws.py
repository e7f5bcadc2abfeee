"""Fuzzing the WebSocket link (``/kapi/link``) of a real system_config process.

Random text and binary frames, random JSON, call frames ``[2, id, "api/verb", args,
token?]`` with a wrong type in every slot and in every param of every verb, deep nesting,
huge strings and frames over the 1 MiB cap.  Every frame under the cap gets exactly one
answer frame (``[3, id, result]`` or ``[4, id, "<upstream text>"]``, never an internal
error); a frame over the cap closes the link with 1009 and a new link works; the process
never dies, never crashes in a handler (its log is read after every frame, as in
``test_fuzz_krpc.py``) and its memory stays bounded.

Budget: ``BUCKYOS_FUZZ_BUDGET`` as in ``test_fuzz_krpc.py``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tests.reliability_fixtures import ScProcess, budget, rss_kb, save_results
from tests.test_fuzz_krpc import CAP, VERBS, CrashLog, check_error_text, json_values

T = TypeVar("T")
EXAMPLES = budget("BUCKYOS_FUZZ_BUDGET", 60, 5000)
RSS_GROWTH_LIMIT_KB = 48 * 1024
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


class Link:
    """One WebSocket link kept across examples, reopened after the server closed it."""

    def __init__(self, process: ScProcess) -> None:
        self.process = process
        self.token = process.root_token
        self.loop = asyncio.new_event_loop()
        self.session: aiohttp.ClientSession | None = None
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.answers = 0
        self.reopened = 0
        self.resets = 0
        self.crash_log = CrashLog(process.log)

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(asyncio.wait_for(coro, 30))

    async def _ws(self) -> aiohttp.ClientWebSocketResponse:
        if self.session is None:
            self.session = aiohttp.ClientSession()
        if self.ws is None or self.ws.closed:
            url = self.process.krpc_url.replace("http://", "ws://") + "/kapi/link"
            self.ws = await self.session.ws_connect(
                url,
                protocols=("x-afb-ws-json1",),
                headers={"Authorization": f"Bearer {self.token}"},
                max_msg_size=0,
            )
            self.reopened += 1
        return self.ws

    async def _exchange(self, frame: str | bytes) -> list[Any]:
        ws = await self._ws()
        if isinstance(frame, bytes):
            await ws.send_bytes(frame)
        else:
            await ws.send_str(frame)
        message = await ws.receive(timeout=20)
        assert message.type == aiohttp.WSMsgType.TEXT, (message, frame[:200])
        answer = json.loads(message.data)
        self.answers += 1
        return answer  # type: ignore[no-any-return]

    def exchange(self, frame: str | bytes) -> list[Any]:
        """Send one frame under the cap; assert its one answer is a proper one."""
        answer = self.run(self._exchange(frame))
        self.crash_log.check(frame)
        assert isinstance(answer, list) and answer[0] in (3, 4), answer
        if answer[0] == 4:
            assert len(answer) == 3 and isinstance(answer[2], str) and answer[2], answer
            check_error_text(answer[2], frame)
        return answer

    async def _over_cap(self, frame: str) -> int | None:
        ws = await self._ws()
        try:
            await ws.send_str(frame)
        except (aiohttp.ClientError, ConnectionError):
            # The server closed the link while the frame was still being written: the
            # kernel then resets the connection and the close frame (1009) may be lost.
            self.resets += 1
            return None
        message = await ws.receive(timeout=20)
        if message.type == aiohttp.WSMsgType.ERROR or ws.close_code == 1006:
            self.resets += 1
            return None
        assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED), message
        return ws.close_code

    async def _drop(self) -> None:
        if self.ws is not None:
            await self.ws.close()
            self.ws = None

    def over_cap(self, frame: str) -> int | None:
        """Send a frame over the cap: the link is closed (1009, or reset mid-write)."""
        try:
            code = self.run(self._over_cap(frame))
        finally:
            self.run(self._drop())  # the next exchange opens a fresh link
        self.crash_log.check(frame[:300])
        # 1006: the client saw the connection drop without a close frame (the same reset)
        assert code in (1009, 1006, None), code
        self.healthy()  # and a new link is served at once
        return code

    def healthy(self) -> None:
        assert self.process.alive(), "the server died"
        answer = self.exchange('[2,"ok","system_config/sys_config_get",{"key":"boot/config"}]')
        assert answer == [3, "ok", None], answer

    def close(self) -> None:
        async def close() -> None:
            if self.ws is not None:
                await self.ws.close()
            if self.session is not None:
                await self.session.close()

        self.run(close())
        self.loop.close()


@pytest.fixture(scope="module")
def link(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Link]:
    process = ScProcess(tmp_path_factory.mktemp("fuzz-ws")).start()
    link = Link(process)
    try:
        link.healthy()
        link.over_cap('["' + "x" * CAP + '"]')  # warm the refusal path
        rss_before = rss_kb(process.pid)
        yield link
        link.healthy()
        rss_after = rss_kb(process.pid)
        save_results(
            "fuzz_ws",
            {
                "examples_per_strategy": EXAMPLES,
                "rss_before_kb": rss_before,
                "rss_after_kb": rss_after,
                "answers": link.answers,
                "links_opened": link.reopened,
                "over_cap_resets_mid_write": link.resets,
            },
        )
        assert rss_after - rss_before < RSS_GROWTH_LIMIT_KB, (rss_before, rss_after)
    finally:
        link.close()
        process.stop()


@FUZZ
@given(text=st.text(max_size=2000))
def test_random_text_frames(link: Link, text: str) -> None:
    link.exchange(text)


@FUZZ
@given(data=st.binary(min_size=1, max_size=2000))
def test_binary_frames(link: Link, data: bytes) -> None:
    answer = link.exchange(data)
    assert answer == [
        4,
        None,
        'Parse Request Error: binary frame: the link takes JSON text frames [2, id, "api/verb", args]',
    ]


@FUZZ
@given(value=json_values)
def test_random_json_frames(link: Link, value: Any) -> None:
    link.exchange(json.dumps(value))


@st.composite
def call_frames(draw: st.DrawFn) -> list[Any]:
    """A call frame with each slot right or of a random (often wrong) type."""
    kind = draw(st.just(2) | json_values)
    frame_id = draw(st.text(max_size=8) | st.integers() | json_values)
    verb = draw(st.sampled_from(sorted(VERBS)))
    target = draw(
        st.sampled_from([f"system_config/{verb}", verb, f"other/{verb}", "system_config/"])
        | st.text(max_size=20)
        | json_values
    )
    args: Any
    if draw(st.booleans()):
        args = {name: draw(json_values) for name in VERBS[verb]}
    else:
        args = draw(json_values)
    frame = [kind, frame_id, target, args]
    extra = draw(st.integers(0, 3))
    if extra == 1:
        frame.append(draw(st.just("__token__") | json_values))
    elif extra == 2:
        frame.extend(draw(st.lists(json_values, max_size=3)))
    return frame[: draw(st.integers(0, len(frame)))] if draw(st.integers(0, 9)) == 0 else frame


@FUZZ
@given(frame=call_frames())
def test_wrong_types_in_every_slot_and_param(link: Link, frame: list[Any]) -> None:
    frame = [link.token if item == "__token__" else item for item in frame]
    answer = link.exchange(json.dumps(frame))
    if answer[1] is not None:  # an id is echoed only when it was readable, and as given
        assert len(frame) >= 2 and isinstance(frame[1], (str, int)), (frame, answer)
        assert answer[1] == frame[1] and type(answer[1]) is type(frame[1]), (frame, answer)


@FUZZ
@given(
    depth=st.integers(min_value=1, max_value=300_000),
    opener=st.sampled_from(["[", '{"a":']),
    inside=st.booleans(),
)
def test_deep_nesting(link: Link, depth: int, opener: str, inside: bool) -> None:
    closer = "]" if opener == "[" else "}"
    depth = min(depth, (CAP - 200) // (len(opener) + 1))
    nested = opener * depth + "1" + closer * depth
    if inside:
        link.exchange('[2,"n","system_config/sys_config_get",{"key":' + nested + "}]")
    else:
        link.exchange(nested)


@FUZZ
@given(
    size=st.integers(min_value=1, max_value=CAP - 200),
    char=st.sampled_from(["a", "\u00e9", "\x00", "/"]),
)
def test_huge_strings(link: Link, size: int, char: str) -> None:
    text = char * max(1, size // 2 // len(char.encode()))
    frame = json.dumps([2, 1, "system_config/sys_config_get", {"key": text}])
    if len(frame.encode()) <= CAP:
        answer = link.exchange(frame)
        assert answer[1] == 1
    else:
        link.over_cap(frame)


@settings(FUZZ, max_examples=max(3, EXAMPLES // 10))
@given(extra=st.integers(min_value=1, max_value=CAP))
def test_frames_over_the_cap_close_the_link_only(link: Link, extra: int) -> None:
    frame = '[2,"big","system_config/sys_config_get",{"key":"' + "k" * (CAP + extra) + '"}]'
    link.over_cap(frame)
