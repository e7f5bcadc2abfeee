"""kRPC over HTTP, server side, over a real loopback socket.

Every expected body is written out literally: these are upstream's shapes
(``buckyos-protocol.md`` section 1), not whatever our encoder happens to produce.
"""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from buckyos.runtime.server.serve import ServerInfo
from tests.wire_fixtures import GOOD_TOKEN, FakeDispatcher, ServerThread

KS = "/kapi/kitchen-sink"
SC = "/kapi/system_config"


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[ServerInfo, FakeDispatcher]]:
    dispatcher = FakeDispatcher()
    thread = ServerThread(dispatcher, grpc=False)
    info = thread.start()
    yield info, dispatcher
    thread.stop()


def request(
    info: ServerInfo,
    body: bytes | str | None,
    *,
    path: str = KS,
    method: str = "POST",
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    assert info.krpc_port is not None
    conn = http.client.HTTPConnection("127.0.0.1", info.krpc_port, timeout=10)
    try:
        conn.request(method, path, body, {"Content-Type": "application/json", **(headers or {})})
        response = conn.getresponse()
        return (
            response.status,
            {k.lower(): v for k, v in response.getheaders()},
            response.read(),
        )
    finally:
        conn.close()


def call(info: ServerInfo, payload: Any, path: str = KS) -> Any:
    status, headers, body = request(info, json.dumps(payload), path=path)
    assert status == 200
    assert headers["content-type"] == "application/json"
    return json.loads(body)


# --- success ------------------------------------------------------------------------------


def test_success_is_result_and_sys_seq_byte_for_byte(server: tuple[ServerInfo, Any]) -> None:
    info, _ = server
    status, headers, body = request(
        info,
        '{"method":"ks_echo","params":{"owner":"alice","name":"box","count":3},'
        '"sys":[42,"good-token"]}',
    )
    assert status == 200
    assert headers["content-type"] == "application/json"
    assert body == b'{"result":{"text":"alice/box x3","type":"echo","maybe":null},"sys":[42]}'


def test_trace_id_is_echoed_in_sys(server: tuple[ServerInfo, Any]) -> None:
    info, _ = server
    assert call(
        info,
        {"method": "ks_echo", "params": {"owner": "a", "name": "b", "count": 1, "note": "hi"},
         "sys": [7, GOOD_TOKEN, "trace-1"]},
    ) == {"result": {"text": "a/b x1", "type": "echo", "maybe": "hi"}, "sys": [7, "trace-1"]}  # fmt: skip
    # A null token keeps its slot when a trace id follows.
    assert call(info, {"method": "ks_names", "params": "al", "sys": [8, None, "t-2"]}) == {
        "result": ["alpha", "alpine"],
        "sys": [8, "t-2"],
    }


def test_request_without_sys_is_answered_with_seq_0(server: tuple[ServerInfo, Any]) -> None:
    info, _ = server
    assert call(info, {"method": "ks_names", "params": "b"}) == {"result": ["beta"], "sys": [0]}
    assert call(info, {"method": "ks_names", "params": "b", "sys": []}) == {
        "result": ["beta"],
        "sys": [0],
    }


def test_result_shapes_null_true_and_nullable(server: tuple[ServerInfo, Any]) -> None:
    info, _ = server
    assert call(info, {"method": "do_nothing", "params": None, "sys": [1, GOOD_TOKEN]}) == {
        "result": None,
        "sys": [1],
    }
    assert call(info, {"method": "ks_close", "params": {"owner": "o", "name": "n", "count": 0},
                       "sys": [2, GOOD_TOKEN]}) == {"result": True, "sys": [2]}  # fmt: skip
    assert call(info, {"method": "ks_find", "params": {"owner": "o", "name": "hit", "count": 0},
                       "sys": [3, GOOD_TOKEN]}) == {"result": {"value": "found", "version": 7},
                                                    "sys": [3]}  # fmt: skip
    assert call(info, {"method": "ks_find", "params": {"owner": "o", "name": "miss", "count": 0},
                       "sys": [4, GOOD_TOKEN]}) == {"result": None, "sys": [4]}  # fmt: skip


def test_system_config_round_trip(server: tuple[ServerInfo, Any]) -> None:
    info, _ = server
    sys = [10, GOOD_TOKEN]
    set_ = {"method": "sys_config_set", "params": {"key": "k/srv", "value": "v1"}, "sys": sys}
    assert call(info, set_, SC) == {"result": None, "sys": [10]}
    get = {"method": "sys_config_get", "params": {"key": "k/srv"}, "sys": sys}
    assert call(info, get, SC) == {"result": {"value": "v1", "version": 1}, "sys": [10]}
    missing = {"method": "sys_config_get", "params": {"key": "k/none"}, "sys": sys}
    assert call(info, missing, SC) == {"result": None, "sys": [10]}
    listing = {"method": "sys_config_list", "params": {"key": "k"}, "sys": sys}
    assert call(info, listing, SC) == {"result": ["srv"], "sys": [10]}


def test_call_info_reaches_the_dispatcher(server: tuple[ServerInfo, FakeDispatcher]) -> None:
    info, dispatcher = server
    call(info, {"method": "ks_names", "params": "zz", "sys": [99, "tok-x", "tr-x"]})
    name, seen = dispatcher.calls[-1]
    assert name == "kitchen-sink/ks_names"
    assert (seen.transport, seen.seq, seen.token, seen.trace_id, seen.params) == (
        "krpc",
        99,
        "tok-x",
        "tr-x",
        "zz",
    )
    assert seen.peer is not None and seen.peer.startswith("127.0.0.1:")


# --- RPC errors: HTTP 200 with an error text ---------------------------------------------


def test_rpc_errors_are_http_200_with_upstream_texts(server: tuple[ServerInfo, Any]) -> None:
    info, _ = server
    get = {"method": "sys_config_get", "params": {"key": "a"}}
    assert call(info, {**get, "sys": [3]}, SC) == {
        "error": "No permission:No session token",
        "sys": [3],
    }
    assert call(info, {**get, "sys": [4, "expired-token", "tr"]}, SC) == {
        "error": "Token expired:expired-token",
        "sys": [4, "tr"],
    }
    assert call(info, {**get, "sys": [5, "forged"]}, SC) == {
        "error": "Invalid token: unknown token forged",
        "sys": [5],
    }
    delete = {"method": "sys_config_delete", "params": {"key": "nope"}, "sys": [6, GOOD_TOKEN]}
    assert call(info, delete, SC) == {
        "error": "Failed due to reason: key not found : nope",
        "sys": [6],
    }
    append = {"method": "sys_config_append", "params": {"key": "nope", "append_value": "x"},
              "sys": [7, GOOD_TOKEN]}  # fmt: skip
    assert call(info, append, SC) == {"error": "Key not exist: nope", "sys": [7]}


def test_unknown_method_text(server: tuple[ServerInfo, Any]) -> None:
    info, _ = server
    assert call(info, {"method": "no_such_verb", "params": {}, "sys": [11]}) == {
        "error": "Unknown method: no_such_verb",
        "sys": [11],
    }
    # A verb of another api is unknown here.
    assert call(info, {"method": "sys_config_get", "params": {"key": "a"}, "sys": [12]}) == {
        "error": "Unknown method: sys_config_get",
        "sys": [12],
    }


def test_params_that_do_not_decode_are_a_parse_request_error(
    server: tuple[ServerInfo, Any],
) -> None:
    info, _ = server
    answer = call(info, {"method": "ks_echo", "params": {"owner": 5, "name": "n", "count": 1},
                         "sys": [13, GOOD_TOKEN]})  # fmt: skip
    assert answer["sys"] == [13]
    assert answer["error"].startswith("Parse Request Error: ")
    assert "owner" in answer["error"]
    answer = call(info, {"method": "ks_echo", "params": [1, 2], "sys": [14]})
    assert answer["error"].startswith("Parse Request Error: ")
    answer = call(info, {"method": "ks_echo", "params": {"owner": "o"}, "sys": [15]})
    assert answer["error"].startswith("Parse Request Error: ")
    assert "name" in answer["error"]


def test_handler_crash_is_an_internal_reason_and_the_server_keeps_serving(
    server: tuple[ServerInfo, Any],
) -> None:
    info, _ = server
    crash = {"method": "ks_find", "params": {"owner": "o", "name": "boom", "count": 0}}
    assert call(info, {**crash, "sys": [16, GOOD_TOKEN]}) == {
        "error": "Failed due to reason: internal error in kitchen-sink/ks_find",
        "sys": [16],
    }
    wrong = {"method": "ks_find", "params": {"owner": "o", "name": "wrong-type", "count": 0}}
    assert call(info, {**wrong, "sys": [17, GOOD_TOKEN]}) == {
        "error": "Failed due to reason: kitchen-sink/ks_find returned NameList, "
        "expected buckyos_test.Found",
        "sys": [17],
    }
    assert call(info, {"method": "ks_names", "params": "al", "sys": [18]})["result"] == [
        "alpha",
        "alpine",
    ]


# --- transport-level refusals -------------------------------------------------------------


def test_non_post_is_405(server: tuple[ServerInfo, Any]) -> None:
    info, _ = server
    for method in ("GET", "PUT", "DELETE"):
        status, headers, body = request(info, None, method=method)
        assert status == 405
        assert headers["allow"] == "POST"
        assert headers["content-type"] == "text/plain; charset=utf-8"
        assert body == b"Method Not Allowed: kRPC takes POST"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'\xff\xfe{"method":"ks_names"}', b"Bad Request: body is not UTF-8"),
        (b'{"method": "ks_names", ', b"Bad Request: body is not JSON"),
        (b"", b"Bad Request: body is not JSON"),
        (b'{"method":"ks_names","params":NaN}', b"Bad Request: body is not JSON"),
        (b'{"a":1} x', b"Bad Request: body is not JSON"),
        (b'[{"method":"ks_names","params":"a"}]', b"Bad Request: the body is not a kRPC request"),
        (b'"ks_names"', b"Bad Request: the body is not a kRPC request object"),
        (b'{"params":"a","sys":[1]}', b"Bad Request: missing field `method`"),
        (b'{"method":7,"params":"a"}', b"Bad Request: method is not string"),
        (b'{"method":"ks_names","sys":[1]}', b"Bad Request: missing field `params`"),
        (b'{"method":"ks_names","params":"a","sys":null}', b"Bad Request: sys is not array"),
        (b'{"method":"ks_names","params":"a","sys":[-1]}', b"Bad Request: sys[0] seq is not u64"),
        (b'{"method":"ks_names","params":"a","sys":[1.5]}', b"Bad Request: sys[0] seq is not u64"),
        (b'{"method":"ks_names","params":"a","sys":[1,2]}', b"Bad Request: sys[1] token is not"),
        (b'{"method":"ks_names","params":"a","sys":[1,null,{}]}', b"Bad Request: sys[2] trace"),
        (b"[" * 100_000, b"Bad Request: body is not JSON"),
    ],
)
def test_bad_bodies_are_400_with_a_text_body(
    server: tuple[ServerInfo, Any], body: bytes, reason: bytes
) -> None:
    info, _ = server
    status, headers, text = request(info, body)
    assert status == 400
    assert headers["content-type"] == "text/plain; charset=utf-8"
    assert text.startswith(reason)


def test_leading_whitespace_and_unicode_are_fine(server: tuple[ServerInfo, Any]) -> None:
    info, _ = server
    body = ' \n{"method":"ks_names","params":"\u00e9","sys":[1,null,"\u6f22"]}\n'.encode()
    status, _, answer = request(info, body)
    assert status == 200
    assert answer == '{"result":[],"sys":[1,"\u6f22"]}'.encode()


def test_unknown_api_and_paths_are_404(server: tuple[ServerInfo, Any]) -> None:
    info, _ = server
    for path in ("/kapi/nope", "/", "/kapi/", "/kapi/kitchen-sink/extra", "/kapi/nope/spec"):
        status, headers, body = request(info, '{"method":"x","params":null}', path=path)
        assert status == 404, path
        assert headers["content-type"] == "text/plain; charset=utf-8"
        assert body == f"Not Found: no api at {path}".encode()


def test_spec_endpoint(server: tuple[ServerInfo, Any]) -> None:
    info, _ = server
    status, headers, body = request(info, None, path=f"{SC}/spec", method="GET")
    assert status == 200
    assert headers["content-type"] == "application/json"
    spec = json.loads(body)
    assert spec["api"] == "system_config"
    assert spec["service"] == "buckyos.system_config.SystemConfig"
    assert [verb["krpc"] for verb in spec["verbs"]] == [
        "sys_config_get",
        "sys_config_set",
        "sys_config_create",
        "sys_config_delete",
        "sys_config_append",
        "sys_config_set_by_json_path",
        "sys_config_list",
        "sys_config_exec_tx",
        "dump_configs_for_scheduler",
        "sys_refresh_trust_keys",
        "sys_config_watch",
        "sys_config_unwatch",
    ]
    get = spec["verbs"][0]
    assert (get["name"], get["grpc"], get["result"]) == (
        "Get",
        "/buckyos.system_config.SystemConfig/Get",
        "NULLABLE",
    )
    status, headers, _ = request(info, "{}", path=f"{KS}/spec", method="POST")
    assert (status, headers["allow"]) == (405, "GET")


# --- the 1 MiB cap ------------------------------------------------------------------------

MIB = 1024 * 1024


def _raw_exchange(info: ServerInfo, head: bytes, chunks: list[bytes]) -> bytes:
    """Send ``head`` and ``chunks`` on a raw socket (ignoring a peer that stops reading)
    and return everything the server answers before closing."""
    assert info.krpc_port is not None
    with socket.create_connection(("127.0.0.1", info.krpc_port), timeout=10) as sock:
        sock.sendall(head)
        try:
            for chunk in chunks:
                sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        received = b""
        while True:
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                break
            if not data:
                break
            received += data
    return received


def test_declared_body_over_1_mib_is_413_without_reading_it(
    server: tuple[ServerInfo, Any],
) -> None:
    info, _ = server
    head = (
        f"POST {KS} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {MIB + 1}\r\n\r\n"
    ).encode()
    # Only a sliver of the announced body is ever sent: the answer must not wait for it.
    answer = _raw_exchange(info, head, [b'{"method":"ks_names"'])
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.startswith(b"HTTP/1.1 413 ")
    headers, _, body = rest.partition(b"\r\n\r\n")
    assert b"content-type: text/plain; charset=utf-8" in headers
    assert b"connection: close" in headers
    assert body == b"Payload Too Large: the body is over 1048576 bytes"
    # ... and the server keeps serving.
    assert call(info, {"method": "ks_names", "params": "al", "sys": [1]})["sys"] == [1]


def test_streamed_body_over_1_mib_is_413(server: tuple[ServerInfo, Any]) -> None:
    info, _ = server
    head = (
        f"POST {KS} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Transfer-Encoding: chunked\r\n\r\n"
    ).encode()
    piece = b"x" * 65536
    chunks = [b"%x\r\n%s\r\n" % (len(piece), piece)] * 16 + [b"1\r\nx\r\n", b"0\r\n\r\n"]
    answer = _raw_exchange(info, head, chunks)
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert answer.endswith(b"\r\n\r\nPayload Too Large: the body is over 1048576 bytes")
    assert call(info, {"method": "ks_names", "params": "al", "sys": [2]})["sys"] == [2]


def test_body_of_exactly_1_mib_is_served(server: tuple[ServerInfo, Any]) -> None:
    info, _ = server
    start = b'{"method":"ks_names","params":"al","sys":[3],"pad":"'
    body = start + b"x" * (MIB - len(start) - 2) + b'"}'
    assert len(body) == MIB
    status, _, answer = request(info, body)
    assert (status, answer) == (200, b'{"result":["alpha","alpine"],"sys":[3]}')
