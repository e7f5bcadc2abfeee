"""Fuzzing the kRPC endpoint of a real system_config process with hypothesis.

Random bytes, random JSON, request objects with a wrong type in every field of ``sys``
and ``params`` of every verb, deep nesting, huge strings and bodies over the 1 MiB cap go
to ``POST /kapi/system_config`` of ``python -m buckyos.services.system_config``.  The
server must never answer 5xx for client input (only 200 with a kRPC answer, 400, 405 or
413), never die, never crash in a handler, keep answering a genuine call, and its
resident memory must stay bounded (measured in ``/proc`` before and after).

A crash in a handler is not a 5xx: the runtime answers it as an ordinary kRPC error,
``Failed due to reason: <ExceptionType>: <message>`` (``binding``), ``Failed due to
reason: internal error in <api>/<verb>`` (the wire itself), ``... timed out after
<n>s`` or ``... returned <type>, expected <type>``, and the ``Failed due to reason:``
prefix is shared with every deliberate ``ReasonError``.  So the wire text alone cannot
tell every crash from a refusal.  :class:`CrashLog` reads what the server logged during
each example instead (every such crash is logged at ERROR, with its traceback); the
shapes above are checked on the wire too, which names the example at once.

Budget: ``BUCKYOS_FUZZ_BUDGET`` = ``short`` (default, CI: a few seconds), ``long``
(``make fuzz``) or a number of examples per strategy.
"""

from __future__ import annotations

import http.client
import json
import re
import select
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from tests.reliability_fixtures import ScProcess, budget, rss_kb, save_results

EXAMPLES = budget("BUCKYOS_FUZZ_BUDGET", 60, 5000)
CAP = 1 << 20
RSS_GROWTH_LIMIT_KB = 48 * 1024  # generous: CPython keeps freed arenas; a leak grows without end
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)

VERBS: dict[str, tuple[str, ...]] = {
    "sys_config_get": ("key",),
    "sys_config_set": ("key", "value"),
    "sys_config_create": ("key", "value"),
    "sys_config_delete": ("key",),
    "sys_config_append": ("key", "append_value"),
    "sys_config_set_by_json_path": ("key", "json_path", "value"),
    "sys_config_list": ("key",),
    "sys_config_exec_tx": ("actions", "main_key"),
    "dump_configs_for_scheduler": (),
    "sys_refresh_trust_keys": (),
}

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


CRASH_ON_THE_WIRE = re.compile(
    r"Failed due to reason: (?:"
    r"internal error in \S+$"  # krpc_server / link: an exception outside the dispatcher
    r"|[A-Za-z_]\w*(?:Error|Exception)(?:: |$)"  # binding: '<type>: <message>'
    r"|\S+ timed out after [0-9.]+s$"  # binding: the verb overran its deadline
    r"|\S+ returned \w+, expected \S+$"  # a handler returned the wrong message type
    r")"
)
"""The wire texts of ``InternalError`` (see the module docstring)."""


class CrashLog:
    """What a server process logged since the last look, for crashes.

    The services log every unexpected exception at ERROR with its traceback (the fuzzed
    processes log at ``error``, so nothing else is there); uvicorn logs its own as
    ``ERROR:``.  Reading the log after each example ties a crash to the input that made
    it: the line is in the file before the answer is sent.
    """

    _CRASH = re.compile(r"(?:^|\s)(?:ERROR|CRITICAL)(?::|\s)|Traceback \(most recent call last\)")

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = path.stat().st_size

    def new_crashes(self) -> str:
        """The log since the last call when it holds a crash, else ``""``."""
        with open(self.path, "rb") as log:
            log.seek(self.offset)
            data = log.read()
        self.offset += len(data)
        text = data.decode("utf-8", "replace")
        return text if self._CRASH.search(text) else ""

    def check(self, sent: Any) -> None:
        """Fail, quoting the log, when the server logged a crash."""
        crash = self.new_crashes()
        if crash:
            raise AssertionError(
                f"the server logged a crash for input {str(sent)[:300]!r}:\n{crash[-3000:]}"
            )


def check_error_text(text: str, sent: Any) -> None:
    """Fail when a kRPC error text is one the runtime gives only to a crash."""
    if CRASH_ON_THE_WIRE.match(text):
        raise AssertionError(
            f"an internal error (a crash, not a refusal of input) for {str(sent)[:300]!r}: "
            f"{text[:500]!r}"
        )


class Poster:
    """One kept-alive HTTP connection to the server, reopened when the server closed it."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn: http.client.HTTPConnection | None = None
        self.statuses: dict[int, int] = {}

    def post(self, body: Any, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
            try:
                self.conn.request(
                    "POST",
                    "/kapi/system_config",
                    body=body,
                    headers={"Content-Type": "application/json", **(headers or {})},
                )
                response = self.conn.getresponse()
                data = response.read()
                if response.will_close:
                    self.close()
                self.statuses[response.status] = self.statuses.get(response.status, 0) + 1
                return response.status, data
            except (TimeoutError, ConnectionError, http.client.HTTPException):
                # The server may close a connection after refusing a body it did not read
                # (413); one fresh connection must then work.
                self.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class Target:
    def __init__(self, process: ScProcess) -> None:
        self.process = process
        self.poster = Poster(process.krpc_port)
        self.token = process.root_token
        self.crash_log = CrashLog(process.log)

    def check(self, body: Any, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        """Send one body; assert the answer is one a client input may get and that the
        server did not crash on it."""
        status, data = self.poster.post(body, headers)
        self.crash_log.check(body)
        assert status in (200, 400, 405, 413), (status, data[:300], body[:300])
        if status != 200:
            return status, data.decode("utf-8")  # a text body, as upstream
        answer = json.loads(data)
        assert isinstance(answer, dict) and "sys" in answer, answer
        assert ("result" in answer) != ("error" in answer), answer
        if "error" in answer:
            assert isinstance(answer["error"], str) and answer["error"], answer
            check_error_text(answer["error"], body)
        return status, answer

    def check_over_cap(self, body: bytes, *, chunked: bool) -> tuple[int, str]:
        """Send a body over the cap on a raw socket, stopping when the answer arrives.

        A server refusing a body it does not read may close the connection while the
        client still sends; an HTTP client then sees a reset, not the 413.  Here the
        answer is read as soon as it is there.
        """
        head = "POST /kapi/system_config HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        head += (
            "Transfer-Encoding: chunked\r\n\r\n"
            if chunked
            else f"Content-Length: {len(body)}\r\n\r\n"
        )
        step = 64 * 1024
        pieces = [body[i : i + step] for i in range(0, len(body), step)]
        if chunked:
            pieces = [b"%x\r\n%s\r\n" % (len(p), p) for p in pieces] + [b"0\r\n\r\n"]
        answer = b""
        with socket.create_connection(("127.0.0.1", self.process.krpc_port), timeout=20) as sock:
            sock.sendall(head.encode())
            for piece in pieces:
                if select.select([sock], [], [], 0)[0]:
                    break  # answered before the whole body was sent
                try:
                    sock.sendall(piece)
                except (BrokenPipeError, ConnectionResetError):
                    break
            deadline = time.monotonic() + 20
            while b"\r\n\r\n" not in answer and time.monotonic() < deadline:
                try:
                    data = sock.recv(65536)
                except ConnectionResetError:
                    break
                if not data:
                    break
                answer += data
        self.crash_log.check(body[:300])
        status_line, _, rest = answer.partition(b"\r\n")
        assert status_line.startswith(b"HTTP/1.1 "), answer[:300]
        status = int(status_line.split()[1])
        self.poster.statuses[status] = self.poster.statuses.get(status, 0) + 1
        return status, rest.decode("utf-8", "replace")

    def healthy(self) -> None:
        assert self.process.alive(), "the server died"
        body = {
            "method": "sys_config_get",
            "params": {"key": "boot/config"},
            "sys": [1, self.token],
        }
        status, answer = self.check(json.dumps(body).encode())
        assert status == 200 and "result" in answer, answer


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    process = ScProcess(tmp_path_factory.mktemp("fuzz-krpc")).start()
    target = Target(process)
    try:
        target.healthy()
        # Warm up the paths the fuzzing takes (a body at the cap, a refused one) so the
        # memory figure after compares like with like.
        target.check(b'{"method":"x","params":"' + b"a" * (CAP - 40) + b'"}')
        target.check_over_cap(b"x" * (CAP + 1), chunked=False)
        target.poster.close()
        rss_before = rss_kb(process.pid)
        yield target
        target.healthy()
        rss_after = rss_kb(process.pid)
        save_results(
            "fuzz_krpc",
            {
                "examples_per_strategy": EXAMPLES,
                "rss_before_kb": rss_before,
                "rss_after_kb": rss_after,
                "statuses": {str(k): v for k, v in sorted(target.poster.statuses.items())},
            },
        )
        assert rss_after - rss_before < RSS_GROWTH_LIMIT_KB, (rss_before, rss_after)
    finally:
        target.poster.close()
        process.stop()


@FUZZ
@given(body=st.binary(max_size=4096))
def test_random_bytes(target: Target, body: bytes) -> None:
    target.check(body)


@FUZZ
@given(value=json_values)
def test_random_json(target: Target, value: Any) -> None:
    target.check(json.dumps(value).encode())


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    """A kRPC request with each field either right or of a random (often wrong) type."""
    method = draw(st.sampled_from(sorted(VERBS)) | st.text(max_size=30) | json_values)
    names = VERBS.get(method, ()) if isinstance(method, str) else ()
    params: Any
    if draw(st.booleans()):
        params = {name: draw(json_values) for name in names}
        params.update(draw(st.dictionaries(st.text(max_size=10), json_values, max_size=3)))
    else:
        params = draw(json_values)
    request: dict[str, Any] = {"method": method, "params": params}
    choice = draw(st.integers(0, 3))
    if choice == 1:
        request["sys"] = draw(json_values)
    elif choice >= 2:
        seq = draw(st.integers(min_value=-1, max_value=2**64) | json_values)
        token = draw(st.just(target_token()) | json_values)
        trace = draw(json_values)
        request["sys"] = draw(st.sampled_from([[seq], [seq, token], [seq, token, trace]]))
    if draw(st.integers(0, 9)) == 0:
        del request[draw(st.sampled_from(["method", "params"]))]
    return request


_TOKEN: list[str] = []


def target_token() -> str:
    """The root token of the module's process (set by the first test that has it)."""
    return _TOKEN[0] if _TOKEN else "no-token"


@FUZZ
@given(request=requests())
def test_wrong_types_in_every_field_of_sys_and_params(target: Target, request: Any) -> None:
    if not _TOKEN:
        _TOKEN.append(target.token)
    status, answer = target.check(json.dumps(request).encode())
    if status == 200:
        seq = request.get("sys", [0])
        if isinstance(seq, list) and seq and isinstance(seq[0], int) and 0 <= seq[0] < 2**64:
            assert answer["sys"][0] == seq[0], (request, answer)


@FUZZ
@given(
    depth=st.integers(min_value=1, max_value=300_000),
    opener=st.sampled_from([b"[", b'{"a":']),
    where=st.sampled_from(["body", "params", "key", "all_set"]),
)
# Found by the crash detector: a Struct 33 deep passed JSON's limits and crashed protobuf's
# copy (upb's depth limit) inside the verb; it is a Parse Request Error now.
@example(depth=33, opener=b'{"a":', where="all_set")
def test_deep_nesting(target: Target, depth: int, opener: bytes, where: str) -> None:
    closer = b"]" if opener == b"[" else b"}"
    nested = opener * depth + b"1" + closer * depth
    if len(nested) > CAP - 200:
        nested = opener * ((CAP - 200) // len(opener) // 2) + b"1"  # unbalanced, at the cap
    token = json.dumps(target.token).encode()
    bodies = {
        "body": nested,
        "params": b'{"method":"sys_config_get","params":' + nested + b',"sys":[1,' + token + b"]}",
        "key": b'{"method":"sys_config_set","params":{"key":'
        + nested
        + b',"value":"v"},"sys":[1,'
        + token
        + b"]}",
        "all_set": b'{"method":"sys_config_exec_tx","params":{"actions":{"fuzz/a":{"action":'
        b'"set_by_path","all_set":{"/x":' + nested + b'}}}},"sys":[1,' + token + b"]}",
    }
    target.check(bodies[where])


@FUZZ
@given(
    size=st.integers(min_value=1, max_value=CAP - 200),
    verb=st.sampled_from(["sys_config_set", "sys_config_get", "sys_config_append", "nope"]),
    char=st.sampled_from(["a", "\u00e9", "\x00", "\ud7ff", "/"]),
)
def test_huge_strings(target: Target, size: int, verb: str, char: str) -> None:
    text = char * max(1, size // max(1, len(char.encode())) // 2)
    params = {"key": f"fuzz/huge/{size % 7}", "value": text, "append_value": text}
    body = json.dumps({"method": verb, "params": params, "sys": [1, target.token]}).encode()
    if len(body) <= CAP:
        status, _ = target.check(body)
        assert status == 200
    else:
        assert target.check_over_cap(body, chunked=False)[0] == 413


@FUZZ
@given(extra=st.integers(min_value=1, max_value=CAP), chunked=st.booleans())
def test_bodies_over_the_cap(target: Target, extra: int, chunked: bool) -> None:
    body = b'{"method":"sys_config_get","params":{"key":"' + b"k" * (CAP + extra) + b'"}}'
    status, text = target.check_over_cap(body, chunked=chunked)
    assert status == 413, text


def test_the_server_lives_on_after_the_fuzzing(target: Target, tmp_path: Path) -> None:
    # Runs last in this module: the fuzzing above is over, one genuine call works.
    target.healthy()
    assert target.poster.statuses.get(200, 0) > 0
