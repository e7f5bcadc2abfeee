"""serde's conventions on the wire, one test per shape, on the test-only serde_shapes
contract: upstream's JSON written out literally (upstream-services.md), decoded into our
messages and encoded back to the same JSON, and serde-like refusals of wrong input."""

from __future__ import annotations

import json
from typing import Any

import pytest

from buckyos.runtime.descriptor import MethodDescriptor
from buckyos.runtime.errors import NotOkError, ParseRequestError, ParseResponseError, ReasonError
from buckyos.runtime.wire.jsonmap import decode_params, decode_result, encode_params, encode_result
from tests.generated import serde_shapes_pb2 as ss, serde_shapes_rpc as rpc


def same_json(again: Any, original: Any) -> None:
    """``again`` is ``original``: the same JSON text, and the keys of the top object in
    the same order (an opaque object's keys come out in protobuf's map order, so nested
    ones are compared sorted)."""
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
    message = decode_result(method, result)
    same_json(encode_result(method, message), result)
    return message


def refused(method: MethodDescriptor[Any, Any], params: Any) -> str:
    with pytest.raises(ParseRequestError) as err:
        decode_params(method, params)
    return str(err.value)


# --- internally tagged ---------------------------------------------------------------------

TASK: dict[str, Any] = {
    "task_id": "t-4f0c",
    "name": "import album",
    "parent_id": "t-root",
    "root_id": "t-root",
    "input": {"album": "x"},
    "creator": {"user_id": "alice", "app_id": "photos"},
    "executor": {"kind": "App", "target_id": "tgt-1", "app_id": "photos"},
    "runner_epoch": 1,
    "assignees": ["bob"],
    "phase": "Running",
    "progress": {"done": 3, "total": 10},
    "message": "copying",
    "outcome": "Succeeded",
    "result": {"count": 10},
    "revision": 7,
    "created_at": 1760000000000,
    "updated_at": 1760000005000,
    "completed_at": 1760000005000,
}


def test_internally_tagged_enum_with_fields() -> None:
    result = result_round_trip(rpc.SERDE_SHAPES_GET_TASK, {"task": TASK})
    executor = result.task.executor
    assert executor.WhichOneof("executor") == "app"
    assert executor.app == ss.AppExecutor(target_id="tgt-1", app_id="photos")
    assert not executor.app.HasField("app_instance_id")


@pytest.mark.parametrize(
    ("executor", "member"),
    [({"kind": "Unbound"}, "unbound"), ({"kind": "HumanSet"}, "human_set")],
)
def test_internally_tagged_unit_variants(executor: dict[str, Any], member: str) -> None:
    task = {**TASK, "executor": executor}
    result = result_round_trip(rpc.SERDE_SHAPES_GET_TASK, {"task": task})
    assert result.task.executor.WhichOneof("executor") == member


def test_offer_task_result_variants() -> None:
    method = rpc.SERDE_SHAPES_OFFER_TASK
    accepted = result_round_trip(
        method,
        {"kind": "OfferAccepted", "app_instance_id": "photos@alice", "reservation_token": "r-1"},
    )
    assert accepted.accepted.reservation_token == "r-1"
    busy = result_round_trip(method, {"kind": "Busy", "retry_after_ms": 500})
    assert busy.busy.retry_after_ms == 500
    assert result_round_trip(method, {"kind": "Busy"}).WhichOneof("result") == "busy"
    rejected = result_round_trip(
        method, {"kind": "Rejected", "stable_reason": "schema_mismatch", "detail": "v2 only"}
    )
    assert rejected.rejected.stable_reason == ss.DISPATCH_REJECT_REASON_SCHEMA_MISMATCH


@pytest.mark.parametrize(
    ("executor", "text"),
    [
        (
            {"kind": "Robot"},
            "field `task.executor`: unknown variant `Robot`, expected one of `Unbound`, "
            "`HumanSet`, `App`",
        ),
        ({"app_id": "photos"}, "field `task.executor`: missing field `kind`"),
        ({"kind": 3}, "field `task.executor.kind`: expected string, got number"),
        ("App", "field `task.executor`: expected object, got string"),
        ({"kind": "App", "app_id": 5}, "field `task.executor.app_id`: expected string, got number"),
    ],
)
def test_internally_tagged_refusals(executor: Any, text: str) -> None:
    with pytest.raises(ParseResponseError) as err:
        decode_result(rpc.SERDE_SHAPES_GET_TASK, {"task": {**TASK, "executor": executor}})
    assert str(err.value) == f"Parse Response Error: {text}"


def test_tagged_enum_at_the_root_refuses_without_a_path() -> None:
    with pytest.raises(ParseResponseError) as err:
        decode_result(rpc.SERDE_SHAPES_OFFER_TASK, {"app_instance_id": "x"})
    assert str(err.value) == "Parse Response Error: missing field `kind`"


# --- adjacently tagged ---------------------------------------------------------------------


def test_adjacently_tagged_enum() -> None:
    method = rpc.SERDE_SHAPES_ADD_PROOF
    action = {
        "proof": {
            "kind": "Action",
            "value": {
                "subject": "did:bns:alice",
                "action": "download",
                "target": "chunk:123456",
                "details": {},
                "iat": 1760000000,
                "exp": 1760086400,
            },
        }
    }
    request = params_round_trip(method, action)
    assert request.proof.action.action == "download"
    collection = {"proof": {"kind": "Collection", "value": {"root": "sha256:ab", "path": [1, 2]}}}
    request = params_round_trip(method, collection)
    assert request.proof.collection["root"] == "sha256:ab"
    assert refused(method, {"proof": {"kind": "Action"}}) == (
        "Parse Request Error: field `proof`: missing field `value`"
    )
    assert refused(method, {"proof": {"kind": "Action", "value": []}}) == (
        "Parse Request Error: field `proof.value`: expected object, got array"
    )


# --- externally tagged ---------------------------------------------------------------------


def test_externally_tagged_enum() -> None:
    method = rpc.SERDE_SHAPES_SEEK
    earliest = params_round_trip(method, {"sub_id": "sub-1", "index": "Earliest"})
    assert earliest.index.WhichOneof("position") == "earliest"
    params_round_trip(method, {"sub_id": "sub-1", "index": "Latest"})
    at = params_round_trip(method, {"sub_id": "sub-1", "index": {"At": 42}})
    assert at.index.at == 42
    # serde also takes a unit variant as {"Name": null}; it goes back out bare.
    assert decode_params(method, {"sub_id": "s", "index": {"Latest": None}}) == decode_params(
        method, {"sub_id": "s", "index": "Latest"}
    )


def test_externally_tagged_variant_holding_a_struct() -> None:
    method = rpc.SERDE_SHAPES_GET_DISPATCH
    base = {"dispatch_id": "dsp-1", "target_id": "tgt-1"}
    explicit = result_round_trip(
        method, {**base, "target_selection": "Explicit", "status": "Queued", "counters": {}}
    )
    assert explicit.target_selection.WhichOneof("selection") == "explicit"
    routed = result_round_trip(
        method,
        {
            **base,
            "target_selection": {"DefaultRoute": {"route_revision": 3}},
            "status": "Rejected",
            "reject_reason": "target_disabled",
            "counters": {"offers": {"done": 1, "total": 2}},
        },
    )
    assert routed.target_selection.default_route.route_revision == 3
    assert routed.counters["offers"].total == 2


@pytest.mark.parametrize(
    ("index", "text"),
    [
        ("At", 'field `index`: variant `At` carries a value: write {"At": ...}'),
        ("Middle", "field `index`: unknown variant `Middle`, expected one of `Earliest`, `Latest`, `At`"),
        ({"At": 1, "Latest": None}, "field `index`: expected a variant name or an object with one key, got 2 keys"),
        ({"At": "x"}, "field `index.At`: expected unsigned integer, got string"),
        ({"At": None}, "field `index`: variant `At` needs a value, got null"),
        (5, "field `index`: expected a variant name or an object with one key, got number"),
    ],
)  # fmt: skip
def test_externally_tagged_refusals(index: Any, text: str) -> None:
    assert refused(rpc.SERDE_SHAPES_SEEK, {"sub_id": "s", "index": index}) == (
        f"Parse Request Error: {text}"
    )


# --- unit enums ----------------------------------------------------------------------------


def test_unit_enums_as_variant_names() -> None:
    task = decode_result(rpc.SERDE_SHAPES_GET_TASK, {"task": TASK}).task
    assert task.phase == ss.TASK_PHASE_RUNNING  # "Running": prefix stripped, PascalCase
    assert task.outcome == ss.SUCCEEDED  # per-value (buckyos.value).json
    for phase in ("Promised", "Accepted", "Waiting", "Paused", "Terminal"):
        result_round_trip(rpc.SERDE_SHAPES_GET_TASK, {"task": {**TASK, "phase": phase}})
    # snake_case variants (DispatchRejectReason's rename_all).
    offer = {"kind": "Rejected", "stable_reason": "auth_denied"}
    assert result_round_trip(rpc.SERDE_SHAPES_OFFER_TASK, offer).rejected.stable_reason == (
        ss.DISPATCH_REJECT_REASON_AUTH_DENIED
    )


@pytest.mark.parametrize(
    ("phase", "text"),
    [
        ("TASK_PHASE_RUNNING", "unknown variant `TASK_PHASE_RUNNING`, expected one of `Unspecified`, `Promised`, `Accepted`, `Running`, `Waiting`, `Paused`, `Terminal`"),
        ("running", "unknown variant `running`, expected one of `Unspecified`, `Promised`, `Accepted`, `Running`, `Waiting`, `Paused`, `Terminal`"),
        (3, "expected string, got number"),
    ],
)  # fmt: skip
def test_unit_enum_refusals(phase: Any, text: str) -> None:
    with pytest.raises(ParseResponseError) as err:
        decode_result(rpc.SERDE_SHAPES_GET_TASK, {"task": {**TASK, "phase": phase}})
    assert str(err.value) == f"Parse Response Error: field `task.phase`: {text}"


# --- flattened structs ---------------------------------------------------------------------


def test_runner_envelope_flattened_into_report_progress() -> None:
    method = rpc.SERDE_SHAPES_REPORT_PROGRESS
    params = {
        "task_id": "t-9a",
        "app_instance_id": "photos@alice",
        "runner_epoch": 1,
        "expected_revision": 2,
        "progress": {"done": 3, "total": 10},
    }
    request = params_round_trip(method, params)
    assert request.envelope == ss.RunnerWriteEnvelope(
        task_id="t-9a", app_instance_id="photos@alice", runner_epoch=1, expected_revision=2
    )
    assert not request.HasField("message")
    # The envelope without its optional instance, and a message beside it.
    params_round_trip(
        method,
        {"task_id": "t-9a", "runner_epoch": 1, "expected_revision": 3, "message": "half way"},
    )
    assert refused(method, {"runner_epoch": 1, "expected_revision": 2}) == (
        "Parse Request Error: Missing task_id"
    )
    assert refused(method, {"task_id": "t", "runner_epoch": "1", "expected_revision": 2}) == (
        "Parse Request Error: field `runner_epoch`: expected unsigned integer, got string"
    )


# --- optionals -----------------------------------------------------------------------------


def test_option_omitted_when_none_and_null_accepted() -> None:
    method = rpc.SERDE_SHAPES_GET_TASK
    bare: dict[str, Any] = {
        "task_id": "t-1",
        "name": "n",
        "root_id": "t-1",
        "input": None,  # serde Value (not an Option): written as null when empty
        "creator": {"user_id": "alice", "app_id": "photos", "app_instance_id": "photos@alice"},
        "executor": {"kind": "Unbound"},
        "runner_epoch": 0,
        "assignees": [],
        "phase": "Promised",
        "revision": 1,
        "created_at": 1760000000000,
        "updated_at": 1760000000000,
    }
    task = result_round_trip(method, {"task": bare}).task
    assert not task.HasField("parent_id") and not task.HasField("completed_at")
    assert not task.HasField("input")
    # null for an Option is None: the same message, and it goes back out omitted.
    nulls = {**bare, "parent_id": None, "progress": None, "outcome": None, "completed_at": None}
    assert decode_result(method, {"task": nulls}).task == task
    assert encode_result(method, decode_result(method, {"task": nulls})) == {"task": bare}


# --- Vec<u8>, maps and millisecond times --------------------------------------------------

KMSG_MESSAGE = {
    "index": 0,
    "created_at": 0,
    "payload": [104, 105],
    "headers": {"content-type": "text/plain"},
}


def test_vec_u8_as_an_array_of_integers_and_a_map() -> None:
    method = rpc.SERDE_SHAPES_POST_MESSAGE
    request = params_round_trip(method, {"queue_urn": "app::alice::q", "message": KMSG_MESSAGE})
    assert request.message.payload == b"hi"
    assert dict(request.message.headers) == {"content-type": "text/plain"}
    message = {**KMSG_MESSAGE, "payload": list(range(256))}
    assert params_round_trip(method, {"queue_urn": "q", "message": message}).message.payload == (
        bytes(range(256))
    )
    for payload, text in (
        ([104, 256], "field `message.payload[1]`: 256 is out of range for a byte"),
        ([104, "i"], "field `message.payload[1]`: expected byte (integer 0..255), got string"),
        ("aGk=", "field `message.payload`: expected array of bytes (integers 0..255), got string"),
    ):
        bad = {"queue_urn": "q", "message": {**KMSG_MESSAGE, "payload": payload}}
        assert refused(method, bad) == f"Parse Request Error: {text}"


def test_u64_millisecond_times_are_numbers() -> None:
    task = {**TASK, "created_at": 2**64 - 1, "completed_at": 1760000005000}
    method = rpc.SERDE_SHAPES_GET_TASK
    encoded = encode_result(method, decode_result(method, {"task": task}))
    assert encoded["task"]["created_at"] == 2**64 - 1
    assert '"created_at": 18446744073709551615' in json.dumps(encoded)
    with pytest.raises(ParseResponseError, match="expected unsigned integer, got string"):
        decode_result(method, {"task": {**TASK, "created_at": "1760000000000"}})


# --- opaque JSON ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", [{"album": "x"}, [1, "two", None, {"a": [True]}], "a string", 42, 2.5, True]
)
def test_opaque_json_round_trips(value: Any) -> None:
    method = rpc.SERDE_SHAPES_OFFER_TASK
    params = {
        "delivery_id": "dsp-1#1",
        "task_id": "t-1",
        "schema_id": "agent.delegate/v1",
        "schema_version": 1,
        "target_id": "tgt-1",
        "input": value,
        "input_digest": "c5c2d67c",
        "auth": {"requested_by_user": "alice", "on_behalf_of": None, "zone_trusted_caller": False},
        "lease_epoch": 3,
        "deadline_at": 1760000000000,
    }
    params_round_trip(method, params)
    task = {**TASK, "input": value, "result": value}
    result_round_trip(rpc.SERDE_SHAPES_GET_TASK, {"task": task})


# --- bare results --------------------------------------------------------------------------


def test_bare_string_number_and_list_results() -> None:
    assert result_round_trip(rpc.SERDE_SHAPES_ADD_PROOF, "proof-1") == ss.ProofId(
        proof_id="proof-1"
    )
    assert result_round_trip(rpc.SERDE_SHAPES_POST_MESSAGE, 7).index == 7
    listed = result_round_trip(
        rpc.SERDE_SHAPES_FETCH_MESSAGES,
        [{"index": 1, "created_at": 1760000000, "payload": [104, 105], "headers": {}}],
    )
    assert listed.messages[0].payload == b"hi"
    assert result_round_trip(rpc.SERDE_SHAPES_FETCH_MESSAGES, []) == ss.MessageList()


def test_bare_task_schema_definition_result() -> None:
    definition = {
        "schema_id": "photos.import/v1",
        "schema_version": 1,
        "input_schema": {"type": "object"},
        "output_schema": {"type": "object"},
        "presentation_schema": {},
        "allowed_executor_kinds": ["Unbound", "App", "HumanSet"],
        "user_creatable": False,
        "publisher_app_id": "photos",
        "enabled": True,
        "created_at": 0,
    }
    schema = result_round_trip(rpc.SERDE_SHAPES_REGISTER_TASK_SCHEMA, definition)
    assert list(schema.allowed_executor_kinds) == [
        ss.EXECUTOR_KIND_UNBOUND,
        ss.EXECUTOR_KIND_APP,
        ss.EXECUTOR_KIND_HUMAN_SET,
    ]
    params_round_trip(rpc.SERDE_SHAPES_REGISTER_TASK_SCHEMA, {"definition": definition})


# --- envelope results ----------------------------------------------------------------------


def test_envelope_ok_true() -> None:
    method = rpc.SERDE_SHAPES_GET_SCHEDULED_TASK
    answer = {"ok": True, "schedule": {"schedule_id": "s-1", "name": "daily"}}
    result = result_round_trip(method, answer)
    assert result.schedule.name == "daily"
    # validate_scheduled_task's `ok` is optional: missing means ok.
    assert (
        decode_result(method, {"schedule": {"schedule_id": "s-1", "name": "d"}}).schedule.name
        == "d"
    )


def test_envelope_ok_false_is_an_error() -> None:
    method = rpc.SERDE_SHAPES_GET_SCHEDULED_TASK
    answer = {"ok": False, "error": "workflow_not_found", "id": "wf-1"}
    with pytest.raises(NotOkError) as err:
        decode_result(method, answer)
    assert isinstance(err.value, ReasonError)
    assert err.value.code == "workflow_not_found"
    assert err.value.text == "Failed due to reason: workflow_not_found"
    assert err.value.envelope == answer
    words = {"ok": False, "error": "definition_archived", "message": "workflow wf-1 is archived"}
    with pytest.raises(NotOkError) as err:
        decode_result(method, words)
    assert str(err.value) == "Failed due to reason: workflow wf-1 is archived"
    assert err.value.code == "definition_archived"
    with pytest.raises(ParseResponseError) as bad:
        decode_result(method, {"ok": "yes"})
    assert str(bad.value) == "Parse Response Error: field `ok`: expected boolean, got string"
    with pytest.raises(ParseResponseError) as bad:
        decode_result(method, [])
    assert str(bad.value) == "Parse Response Error: field `result`: expected object, got array"


# --- #[serde(default)], skip_serializing_if empty, required nested structs ----------------------

# What upstream writes for a fresh delivery: every field, lists with items.
DELIVERY_FULL: dict[str, Any] = {
    "delivery_id": "d-1",
    "attempts": 2,
    "duplicate_risk": True,
    "account_id": "acc-7",
    "account_type": "group",
    "tags": ["urgent"],
    "labels": {"tunnel": "tg"},
    "log": ["sent"],
}


def test_serde_default_fields_may_be_missing_on_input() -> None:
    verb = rpc.SERDE_SHAPES_REPORT_DELIVERY
    state = result_round_trip(verb, DELIVERY_FULL)
    assert state.attempts == 2 and state.account_type == ss.ACCOUNT_TYPE_GROUP
    # An older upstream (or one that skips them) leaves the defaulted fields out.
    state = decode_result(verb, {"delivery_id": "d-1", "log": []})
    assert state == ss.DeliveryState(delivery_id="d-1")
    # They are still always written (serde default is about input only).
    assert encode_result(verb, state) == {
        "delivery_id": "d-1",
        "attempts": 0,
        "duplicate_risk": False,
        "account_id": "",
        "account_type": "user",
        "log": [],
    }
    request = decode_params(verb, {"delivery_id": "d-1", "outcome": {"status": "failed"}})
    assert request.attempts == 0 and not request.outcome.retryable
    # null is unset too; a wrong type is still refused.
    assert decode_result(verb, {"delivery_id": "d-1", "attempts": None, "log": []}).attempts == 0
    with pytest.raises(ParseResponseError, match="field `attempts`: expected unsigned integer"):
        decode_result(verb, {"delivery_id": "d-1", "attempts": "2", "log": []})


def test_a_field_without_serde_default_is_still_missing() -> None:
    verb = rpc.SERDE_SHAPES_REPORT_DELIVERY
    with pytest.raises(ParseResponseError, match=r"Missing delivery_id$"):
        decode_result(verb, {"attempts": 1, "log": []})
    assert refused(verb, {"outcome": {"status": "x"}}).endswith(": Missing delivery_id")


def test_omit_empty_lists_and_maps_are_left_out() -> None:
    verb = rpc.SERDE_SHAPES_REPORT_DELIVERY
    # Upstream's JSON for an empty delivery: tags and labels left out, log written.
    bare = {
        "delivery_id": "d-2",
        "attempts": 0,
        "duplicate_risk": False,
        "account_id": "",
        "account_type": "user",
        "log": [],
    }
    state = result_round_trip(verb, bare)
    assert list(state.tags) == [] and dict(state.labels) == {}
    # Given empty, they read the same and are still left out.
    given = {**bare, "tags": [], "labels": {}}
    assert decode_result(verb, given) == state
    same_json(encode_result(verb, decode_result(verb, given)), bare)
    # Non-empty ones are written, in place.
    full = result_round_trip(verb, DELIVERY_FULL)
    assert list(full.tags) == ["urgent"] and dict(full.labels) == {"tunnel": "tg"}
    # A list without omit_empty is always written, but read as empty when missing.
    assert decode_result(verb, {"delivery_id": "d-3"}).log == []


def test_a_required_nested_struct_is_refused_missing_on_the_server() -> None:
    verb = rpc.SERDE_SHAPES_REPORT_DELIVERY
    # Upstream's JSON, literally: the struct given decodes and encodes back.
    params = {
        "delivery_id": "d-1",
        "outcome": {"status": "failed", "retryable": True},
        "attempts": 3,
    }
    request = params_round_trip(verb, params)
    assert request.outcome.status == "failed" and request.outcome.retryable
    # Missing or null: refused as a missing scalar is (the server decodes with this).
    assert refused(verb, {"delivery_id": "d-1"}) == "Parse Request Error: Missing outcome"
    assert refused(verb, {"delivery_id": "d-1", "outcome": None}).endswith(": Missing outcome")
    # An empty struct is given (its own fields may be missing per their rules).
    assert refused(verb, {"delivery_id": "d-1", "outcome": {}}) == (
        "Parse Request Error: Missing outcome.status"
    )
    request = decode_params(verb, {"delivery_id": "d-1", "outcome": {"status": ""}})
    assert request.HasField("outcome")
