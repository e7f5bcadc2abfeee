"""Upstream's error texts, written out literally, and their mapping back to kinds."""

from __future__ import annotations

import pytest

from buckyos.runtime import errors as e

TEXTS = [
    (e.ReasonError("key exist : users/a"), "Failed due to reason: key exist : users/a"),
    (e.UnknownMethodError("sys_config_nope"), "Unknown method: sys_config_nope"),
    (e.InvalidTokenError("JWT decode error:ExpiredSignature"), "Invalid token: JWT decode error:ExpiredSignature"),
    (e.ParseRequestError("Missing jwt"), "Parse Request Error: Missing jwt"),
    (e.ParseResponseError("seq mismatch"), "Parse Response Error: seq mismatch"),
    (e.TokenExpiredError("abc"), "Token expired:abc"),
    (e.NoPermissionError("No session token"), "No permission:No session token"),
    (e.InvalidPasswordError(), "Invalid password"),
    (e.UserNotFoundError("bob"), "User Not Found:bob"),
    (e.KeyNotExistError("users/a"), "Key not exist: users/a"),
    (e.ServiceNotValidError("service info not found"), "Service not valid: service info not found"),
]  # fmt: skip


@pytest.mark.parametrize(("error", "text"), TEXTS, ids=[t for _, t in TEXTS])
def test_wire_text_and_back(error: e.RPCError, text: str) -> None:
    assert str(error) == text
    back = e.error_from_text(text)
    assert type(back) is type(error)
    assert back == error


def test_unknown_text_is_kept_whole() -> None:
    error = e.error_from_text("something else entirely")
    assert type(error) is e.ReasonError
    assert error.detail == "something else entirely"


@pytest.mark.parametrize(
    ("reason", "retryable"),
    [
        ("connection refused", True),
        ("upstream 503", True),
        ("invalid key", False),
        ("No permission", False),
        ("parse failed", False),
        ("something odd", True),
        ("timeout while parsing", True),  # retryable words win
    ],
)
def test_reason_retry_classification(reason: str, retryable: bool) -> None:
    assert e.ReasonError(reason).retryable is retryable


def test_grpc_status_per_kind_and_back() -> None:
    for error, text in TEXTS:
        back = e.error_from_grpc(error.grpc_status, text)
        assert type(back) is type(error)
    assert type(e.error_from_grpc("UNAVAILABLE", "connect failed")) is e.TransportError
    assert e.error_from_grpc("UNAVAILABLE", "connect failed").retryable
    assert type(e.error_from_grpc("INTERNAL", "Failed due to reason: x")) is e.InternalError
    assert type(e.error_from_grpc("PERMISSION_DENIED", "denied")) is e.NoPermissionError


def test_one_hierarchy() -> None:
    for error, _ in TEXTS:
        assert isinstance(error, e.RPCError) and isinstance(error, e.BuckyOSError)
    assert issubclass(e.ConfigError, e.BuckyOSError)
    assert issubclass(e.ContractError, e.BuckyOSError)
    assert issubclass(e.TransportError, e.ReasonError)


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, e.ParseRequestError),
        (413, e.ParseRequestError),
        (401, e.NoPermissionError),
        (403, e.NoPermissionError),
        (404, e.ServiceNotValidError),
        (429, e.TransportError),
        (502, e.TransportError),
        (504, e.TransportError),
        (500, e.ReasonError),
        (418, e.ReasonError),
    ],
)
def test_an_http_status_maps_to_one_error_kind(status: int, kind: type[e.RPCError]) -> None:
    error = e.error_from_http(status, f"HTTP {status} from http://x")
    assert type(error) is kind
    assert error.detail == f"HTTP {status} from http://x"
