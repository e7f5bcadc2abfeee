"""A binding's params check: the binder's order (token, LOA, params) for raw kRPC params.

``check_params(krpc, params)`` (of ``add_service``/``add_api``/``add_verb``) runs after the
token and LOA and before the params are decoded, only when the call carries JSON params;
system_config registers upstream's texts this way (``tests/test_sys_config_service.py``
pins them on the wire).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import MutableMapping
from typing import Any

import pytest

from buckyos.runtime.descriptor import MethodDescriptor, SessionFlags
from buckyos.runtime.errors import NoPermissionError, ParseRequestError, ReasonError, RPCError
from buckyos.runtime.server.binding import Binding
from buckyos.runtime.server.krpc_server import KrpcApp
from buckyos.runtime.server.request import Request
from buckyos.runtime.wire.dispatch import CallInfo, decode_checked
from tests.generated import kitchen_sink_pb2 as ks
from tests.test_authz import Zone


def hand_verb(krpc: str, api: str = "checked", **flags: Any) -> MethodDescriptor[Any, Any]:
    return MethodDescriptor.build(
        api=api,
        service=f"buckyos_test.{api.title()}",
        name="".join(part.title() for part in krpc.split("_")),
        krpc=krpc,
        request_type=ks.EchoRequest,
        response_type=ks.EchoResult,
        auth="token",
        session=SessionFlags(**flags) if flags else None,
    )


GET = hand_verb("ck_get")
OWN = hand_verb("ck_own")
LOA3 = hand_verb("ck_loa3", loa=3)
PLAIN = hand_verb("ck_plain", api="plain")


def echo(request: ks.EchoRequest, req: Request) -> ks.EchoResult:
    return ks.EchoResult(text=f"{request.owner}/{request.name}")


class Checks:
    def __init__(self) -> None:
        self.seen: list[tuple[str, Any]] = []

    def api_check(self, krpc: str, params: Any) -> None:
        self.seen.append((krpc, params))
        if isinstance(params, dict) and params.get("owner") is None:
            raise ReasonError("Missing owner")

    def own_check(self, krpc: str, params: Any) -> None:
        self.seen.append(("own", params))
        raise ReasonError("own check")


@pytest.fixture
def setup() -> tuple[Zone, Binding, Checks]:
    zone = Zone()
    checks = Checks()
    binding = Binding("checked", verifier=zone.verifier, rbac=zone.rbac)
    binding.add_api("checked", check_params=checks.api_check)
    binding.add_verb(GET, echo)
    binding.add_verb(LOA3, echo)
    binding.add_verb(OWN, echo, check_params=checks.own_check)
    binding.add_verb(PLAIN, echo)
    return zone, binding, checks


def refusal(binding: Binding, method: Any, params: Any, token: str | None) -> RPCError:
    with pytest.raises(RPCError) as raised:
        decode_checked(binding, method, params, token)
    return raised.value


def test_the_token_comes_before_the_check(setup: tuple[Zone, Binding, Checks]) -> None:
    _, binding, checks = setup
    error = refusal(binding, GET, {}, None)
    assert isinstance(error, NoPermissionError)
    assert error.text == "No permission:No session token"
    assert checks.seen == []


def test_the_loa_comes_before_the_check(setup: tuple[Zone, Binding, Checks]) -> None:
    zone, binding, checks = setup
    error = refusal(binding, LOA3, {}, zone.device_token())
    assert isinstance(error, NoPermissionError)
    assert "needs LOA 3" in error.text
    assert checks.seen == []


def test_the_check_comes_before_the_decoding(setup: tuple[Zone, Binding, Checks]) -> None:
    zone, binding, checks = setup
    token = zone.user_token()
    error = refusal(binding, GET, {"name": 5}, token)
    assert error.text == "Failed due to reason: Missing owner"
    assert checks.seen == [("ck_get", {"name": 5})]
    # Past the check, the JSON mapping's own texts.
    error = refusal(binding, GET, {"owner": "bob", "name": 5}, token)
    assert isinstance(error, ParseRequestError)
    message = decode_checked(binding, GET, {"owner": "bob", "name": "n", "count": 1}, token)
    assert message == ks.EchoRequest(owner="bob", name="n", count=1)


def test_a_verb_check_replaces_the_api_default(setup: tuple[Zone, Binding, Checks]) -> None:
    zone, binding, checks = setup
    assert refusal(binding, OWN, {"owner": "bob"}, zone.user_token()).text == (
        "Failed due to reason: own check"
    )
    assert checks.seen == [("own", {"owner": "bob"})]


def test_null_params_are_an_empty_request_unchecked(setup: tuple[Zone, Binding, Checks]) -> None:
    _, binding, checks = setup
    assert decode_checked(binding, GET, None, None) == ks.EchoRequest()
    assert checks.seen == []


def test_without_a_check_bad_params_still_hear_about_the_token_first(
    setup: tuple[Zone, Binding, Checks],
) -> None:
    zone, binding, _ = setup
    plain = PLAIN
    assert refusal(binding, plain, {"owner": 5}, None).text == "No permission:No session token"
    assert isinstance(refusal(binding, plain, {"owner": 5}, zone.user_token()), ParseRequestError)
    full = {"owner": "a", "name": "n", "count": 2}
    assert decode_checked(binding, plain, full, None) == ks.EchoRequest(
        owner="a", name="n", count=2
    )


def test_typed_calls_skip_the_check(setup: tuple[Zone, Binding, Checks]) -> None:
    zone, binding, checks = setup
    info = CallInfo(token=zone.user_token(), transport="grpc")
    result = asyncio.run(binding.call(GET, ks.EchoRequest(name="n"), info))
    assert result == ks.EchoResult(text="/n")
    assert checks.seen == []


def krpc(app: KrpcApp, payload: dict[str, Any]) -> tuple[int, bytes]:
    body = json.dumps(payload).encode()
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(dict(message))

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/kapi/checked",
        "headers": [(b"content-length", b"%d" % len(body))],
        "client": ("127.0.0.1", 1),
    }
    asyncio.run(app(scope, receive, send))
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


def test_over_krpc_the_texts_are_the_checks(setup: tuple[Zone, Binding, Checks]) -> None:
    zone, binding, _ = setup
    app = KrpcApp(binding, link=False)
    status, body = krpc(app, {"method": "ck_get", "params": {}, "sys": [3]})
    assert (status, body) == (200, b'{"error":"No permission:No session token","sys":[3]}')
    token = zone.user_token()
    status, body = krpc(app, {"method": "ck_get", "params": {}, "sys": [4, token]})
    assert (status, body) == (200, b'{"error":"Failed due to reason: Missing owner","sys":[4]}')
    params = {"owner": "bob", "name": "n", "count": 1}
    payload = {"method": "ck_get", "params": params, "sys": [5, token]}
    status, body = krpc(app, payload)
    assert (status, json.loads(body)) == (
        200,
        {"result": {"text": "bob/n", "type": "", "maybe": None}, "sys": [5]},
    )
