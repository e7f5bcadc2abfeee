"""The msg-center contract (proto/buckyos/msg_center.proto) against upstream's wire
(upstream-services.md section 6): every declared verb's params and result written out
literally (the doc's MsgObject example; JSON composed from its field tables elsewhere),
decoded into our messages and encoded back to the same JSON; what the options cannot say
(bare-name aliases, lists upstream leaves out when empty, bare value-or-null results)
pinned; a small servicer called through the generated stub over a real kRPC server; the
example of docs/services-messaging.md run against it."""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import struct_pb2

from buckyos.generated import msg_center_pb2 as mc, msg_center_rpc as rpc
from buckyos.runtime.client.grpc_client import GrpcTransport
from buckyos.runtime.client.krpc_client import KrpcTransport
from buckyos.runtime.descriptor import JsonShape, MethodDescriptor
from buckyos.runtime.errors import ContractError, ParseResponseError, UnknownMethodError
from buckyos.runtime.security import RbacEnforcer, TokenVerifier, TrustKeyStore
from buckyos.runtime.server import Binding, Request
from buckyos.runtime.server.serve import serving
from buckyos.runtime.testing import LoopbackTransport
from buckyos.runtime.wire.jsonmap import (
    codec_for,
    decode_params,
    decode_result,
    encode_params,
    encode_result,
)
from buckyos.runtime.wire.serde import JsonInvalidError, field_json
from tests.contract_json import served

PAGE = Path(__file__).resolve().parents[1] / "docs" / "services-messaging.md"

# serde `#[serde(default, skip_serializing_if = "Vec::is_empty")]` (or HashMap::is_empty)
# lists and maps: upstream leaves the key out when empty, and so do we (omit_empty).
OMITTED_WHEN_EMPTY = {
    "tags",
    "items",
    "per_target",
    "ext_ids",
    "meta",
    "bindings",
    "temp_grants",
    "groups",
    "delivered_recipients",
    "dropped_recipients",
    "delivered_agents",
    "deliveries",
    "updated",
    "errors",
    "affected_dids",
    "split_hint",
}


def same_json(again: Any, original: Any) -> None:
    assert json.dumps(again, sort_keys=True) == json.dumps(original, sort_keys=True), (
        again,
        original,
    )
    if isinstance(original, dict):
        assert list(again) == list(original)


def params_round_trip(method: MethodDescriptor[Any, Any], params: Any) -> Any:
    message = decode_params(method, params)
    same_json(encode_params(method, message), params)
    return message


def result_round_trip(method: MethodDescriptor[Any, Any], result: Any) -> Any:
    message = decode_result(method, result)
    same_json(encode_result(method, message), result)
    return message


# --- upstream's JSON ---------------------------------------------------------------------

# upstream-services.md section 6, literally.
MSG_OBJECT: dict[str, Any] = {
    "from": "did:bns:alice",
    "to": ["did:bns:bob"],
    "kind": "chat",
    "to_session": "topic-a",
    "thread": {"topic": "x", "reply_to": "cymsg:..", "correlation_id": "c1"},
    "relates_to": {"rel": "reaction", "target": "cymsg:..", "key": "👍"},
    "mentions": {"dids": ["did:bns:carol"], "all": False},
    "workspace": "did:bns:ws",
    "created_at_ms": 1760000000000,
    "expires_at_ms": 1760086400000,
    "nonce": 7,
    "content": {
        "title": "hi",
        "format": "text/markdown",
        "content": "hello",
        "machine": {},
        "refs": [],
    },
    "any_meta_key": "flattened meta",
}
MSG_ID = "cymsg:8f3a"
INGRESS: dict[str, Any] = {
    "transport_did": "did:web:tg.example.com",
    "platform": "tg",
    "chat_id": "5397330802",
    "source_account_id": "lzc_jarvis",
    "context_id": "ctx-1",
    "contact_mgr_owner": "did:bns:bob",
    "extra": {"update_id": 1},
}
RECORD: dict[str, Any] = {
    "record_id": "rec-1",
    "owner": "did:bns:bob",
    "box_kind": "INBOX",
    "msg_id": MSG_ID,
    "msg_kind": "chat",
    "state": "UNREAD",
    "from": "did:bns:alice",
    "from_name": "Alice",
    "to": "did:bns:bob",
    "session_id": "did:bns:alice",
    "sort_key": 1760000000000,
    "tags": ["greeting"],
    "ingress": INGRESS,
    "created_at_ms": 1760000000000,
    "updated_at_ms": 1760000000001,
}
# The smallest record upstream writes: every Option and empty list left out.
BARE_RECORD: dict[str, Any] = {
    "record_id": "rec-2",
    "owner": "did:bns:alice",
    "box_kind": "SENT",
    "msg_id": MSG_ID,
    "msg_kind": "chat",
    "state": "READ",
    "from": "did:bns:alice",
    "to": "did:bns:bob",
    "sort_key": 1760000000000,
    "created_at_ms": 1760000000000,
    "updated_at_ms": 1760000000000,
}
DELIVERY: dict[str, Any] = {
    "delivery_id": "dlv-1",
    "envelope": {
        "msg_id": MSG_ID,
        "target_did": "did:msgtunnel:5397330802.user.tg-main-tunnel",
        "transport_did": "did:web:tg.example.com",
        "transport": {"kind": "tunnel", "platform": "tg", "tunnel_instance_id": "tg-main-tunnel"},
        "address": {
            "platform": "tg",
            "account_id": "5397330802",
            "account_type": "user",
            "chat_id": "5397330802",
            "ext_ids": {"tg_user": "5397330802"},
            "extra": {"lang": "en"},
        },
    },
    "state": "FAILED",
    "attempts": 2,
    "next_retry_at_ms": 1760000060000,
    "last_error": {
        "error_code": "rate_limited",
        "message": "429 Too Many Requests",
        "retryable": True,
        "duplicate_risk": False,
    },
    "created_at_ms": 1760000000000,
    "updated_at_ms": 1760000030000,
}
SENT_DELIVERY: dict[str, Any] = {
    "delivery_id": "dlv-2",
    "envelope": {
        "msg_id": MSG_ID,
        "target_did": "did:bns:bob",
        "transport_did": "did:bns:msg-hub",
        "transport": {"kind": "native"},
    },
    "state": "SENT",
    "attempts": 1,
    "external_msg_id": "ext-9",
    "delivered_at_ms": 1760000001000,
    "created_at_ms": 1760000000000,
    "updated_at_ms": 1760000001000,
}
BINDING: dict[str, Any] = {
    "platform": "tg",
    "account_id": "5397330802",
    "display_id": "@bob",
    "tunnel_instance_id": "tg-main-tunnel",
    "account_type": "user",
    "endpoint_did": "did:msgtunnel:5397330802.user.tg-main-tunnel",
    "last_active_at": 1760000000,
    "meta": {"lang": "en"},
}
CONTACT: dict[str, Any] = {
    "did": "did:bns:bob",
    "name": "Bob",
    "avatar": "https://example.com/bob.png",
    "note": "met at the conference",
    "source": "manual_import",
    "is_verified": True,
    "bindings": [BINDING],
    "access_level": "friend",
    "temp_grants": [{"context_id": "ctx-1", "granted_at": 1760000000, "expires_at": 1760003600}],
    "groups": ["work"],
    "tags": ["vip"],
    "created_at": 1760000000,
    "updated_at": 1760000100,
}
BARE_CONTACT: dict[str, Any] = {
    "did": "did:msgtunnel:42.user.tg-main-tunnel",
    "name": "42",
    "source": "auto_inferred",
    "is_verified": False,
    "access_level": "stranger",
    "created_at": 1760000000,
    "updated_at": 1760000000,
}
OWNER = {"contact_mgr_owner": "did:bns:alice"}


# --- the verb table ----------------------------------------------------------------------

MSG_VERBS = [
    "msg.dispatch",
    "msg.post_send",
    "msg.get_next",
    "msg.get_next_delivery",
    "msg.peek_box",
    "msg.list_box_by_time",
    "msg.list_sessions",
    "msg.list_session",
    "msg.update_record_state",
    "msg.update_record_session",
    "msg.report_delivery",
    "msg.set_read_state",
    "msg.list_read_receipts",
    "msg.get_record",
    "msg.get_message",
]
UI_VERBS = ["ui_session.update_state", "ui_session.get_state", "ui_session.list_state"]
CONTACT_VERBS = [
    "contact.resolve_did",
    "contact.resolve_endpoint_did",
    "contact.resolve_target",
    "contact.resolve_contact_for_endpoint",
    "contact.resolve_canonical_did",
    "contact.list_alias_dids",
    "contact.get_preferred_binding",
    "contact.check_access_permission",
    "contact.grant_temporary_access",
    "contact.block_contact",
    "contact.import_contacts",
    "contact.merge_contacts",
    "contact.update_contact",
    "contact.get_contact",
    "contact.list_contacts",
    "contact.get_group_subscribers",
    "contact.set_group_subscribers",
]
GROUP_VERBS = [
    "group.create",
    "group.get_doc",
    "group.update_profile",
    "group.invite_member",
    "group.submit_member_proof",
    "group.request_join",
    "group.approve_member",
    "group.reject_member",
    "group.remove_member",
    "group.update_member_role",
    "group.list_members",
    "group.create_subgroup",
    "group.update_subgroup",
    "group.list_subgroups",
    "group.update_collection_policy",
    "group.update_attribution_policy",
    "group.expand_members",
    "group.list_by_member",
    "group.list_parents",
    "group.check_access",
]


def test_verb_table() -> None:
    assert rpc.MSG_CENTER.api == "msg-center"
    assert [m.krpc for m in rpc.MSG_CENTER.methods] == (
        MSG_VERBS + UI_VERBS + CONTACT_VERBS + GROUP_VERBS
    )
    assert all(m.spec()["auth"] == "yes" for m in rpc.MSG_CENTER.methods)
    # msg.* and contact.* verbs also answer their bare names (aliases); ui_session.* not
    assert rpc.MSG_CENTER.by_krpc["get_next"] is rpc.MSG_CENTER_GET_NEXT
    assert rpc.MSG_CENTER.by_krpc["resolve_did"] is rpc.MSG_CENTER_RESOLVE_DID
    for verb in rpc.MSG_CENTER.methods:
        dotted = verb.krpc.startswith(("msg.", "contact."))
        assert verb.aliases == ((verb.krpc.split(".", 1)[1],) if dotted else ()), verb.krpc
    assert "update_state" not in rpc.MSG_CENTER.by_krpc
    # group.* is dotted only, as upstream (no bare `create`, `get_doc`, ...)
    assert "get_doc" not in rpc.MSG_CENTER.by_krpc and "create" not in rpc.MSG_CENTER.by_krpc
    reads = {m.krpc for m in rpc.MSG_CENTER.methods if m.idempotent}
    assert {"msg.peek_box", "msg.get_record", "contact.get_contact"} <= reads
    assert {"group.get_doc", "group.list_members", "group.check_access"} <= reads
    assert "msg.dispatch" not in reads and "msg.get_next" not in reads
    assert "group.create" not in reads and "group.expand_members" not in reads
    # the bare value-or-null results
    or_null = {m.krpc for m in rpc.MSG_CENTER.methods if m.result_shape.name == "UNWRAP_OR_NULL"}
    assert or_null == {
        "msg.get_message",
        "contact.resolve_contact_for_endpoint",
        "group.get_doc",
    }


def test_the_page_lists_every_group_verb_and_nothing_as_not_covered() -> None:
    page = PAGE.read_text(encoding="utf-8")
    for verb in GROUP_VERBS:
        assert f"`{verb}`" in page, verb
    assert "Not yet covered" not in page
    # what the options still cannot say is listed in the contract and on the page
    text = (Path(__file__).resolve().parents[1] / "proto/buckyos/msg_center.proto").read_text(
        encoding="utf-8"
    )
    for name in ("split_hint", "cycle_paths"):
        assert name in text.split("syntax =", 1)[0] and name in page, name


# --- msg.* -------------------------------------------------------------------------------


def test_dispatch_with_the_docs_msg_object() -> None:
    method = rpc.MSG_CENTER_DISPATCH
    request = params_round_trip(
        method, {"msg": MSG_OBJECT, "ingress_ctx": INGRESS, "idempotency_key": "tg:1:42"}
    )
    # MsgObject is opaque: its flattened meta key survives
    assert request.msg["any_meta_key"] == "flattened meta"
    assert request.msg["nonce"] == 7
    assert request.ingress_ctx.platform == "tg"
    params_round_trip(method, {"msg": MSG_OBJECT})
    result = result_round_trip(
        method,
        {
            "ok": True,
            "msg_id": MSG_ID,
            "delivered_recipients": ["did:bns:bob"],
            "dropped_recipients": ["did:bns:mallory"],
            "delivered_group": "did:bns:team",
            "delivered_agents": ["did:bns:jarvis"],
            "reason": "mallory is blocked",
        },
    )
    assert result.ok and list(result.dropped_recipients) == ["did:bns:mallory"]
    result_round_trip(method, {"ok": True, "msg_id": MSG_ID})


def test_post_send() -> None:
    method = rpc.MSG_CENTER_POST_SEND
    params_round_trip(method, {"msg": MSG_OBJECT, "idempotency_key": "send-1"})
    result = result_round_trip(
        method,
        {
            "ok": True,
            "msg_id": MSG_ID,
            "deliveries": [
                {
                    "delivery_id": "dlv-2",
                    "transport_did": "did:bns:msg-hub",
                    "target_did": "did:bns:bob",
                    "transport": {"kind": "native"},
                },
                {
                    "delivery_id": "dlv-1",
                    "transport_did": "did:web:tg.example.com",
                    "target_did": "did:msgtunnel:5397330802.user.tg-main-tunnel",
                    "transport": {
                        "kind": "tunnel",
                        "platform": "tg",
                        "tunnel_instance_id": "tg-main-tunnel",
                    },
                },
            ],
        },
    )
    assert result.deliveries[0].transport.WhichOneof("transport") == "native"
    assert result.deliveries[1].transport.tunnel.platform == "tg"
    result_round_trip(method, {"ok": False, "msg_id": MSG_ID, "reason": "no route to did:x"})


def test_get_next_and_get_record_object_or_null() -> None:
    method = rpc.MSG_CENTER_GET_NEXT
    request = params_round_trip(
        method,
        {
            "owner": "did:bns:bob",
            "box_kind": "INBOX",
            "state_filter": ["UNREAD", "READING"],
            "lock_on_take": True,
            "with_object": True,
        },
    )
    assert request.box_kind == mc.MAILBOX_KIND_INBOX
    assert list(request.state_filter) == ["UNREAD", "READING"]
    # no filter: left out (get_next then uses [UNREAD]; [] would mean every state)
    bare = params_round_trip(method, {"owner": "did:bns:bob", "box_kind": "GROUP_INBOX"})
    assert not bare.HasField("state_filter")
    taken = result_round_trip(method, {"record": RECORD, "msg": MSG_OBJECT})
    assert taken.record.record.ingress.chat_id == "5397330802"
    assert taken.record.msg["kind"] == "chat"
    # the object not attached: `msg` is written as null
    result_round_trip(method, {"record": BARE_RECORD, "msg": None})
    assert result_round_trip(method, None) == mc.MaybeMailboxRecord()
    get = rpc.MSG_CENTER_GET_RECORD
    params_round_trip(get, {"record_id": "rec-1", "with_object": False})
    assert result_round_trip(get, {"record": RECORD, "msg": None}).record.record.tags == [
        "greeting"
    ]
    assert result_round_trip(get, None) == mc.MaybeMailboxRecord()


def test_get_next_delivery() -> None:
    method = rpc.MSG_CENTER_GET_NEXT_DELIVERY
    params_round_trip(
        method,
        {"transport_did": "did:web:tg.example.com", "lock_on_take": True, "with_object": True},
    )
    taken = result_round_trip(method, {"record": DELIVERY, "msg": MSG_OBJECT})
    envelope = taken.record.record.envelope
    assert envelope.address.ext_ids["tg_user"] == "5397330802"
    assert taken.record.record.state == mc.DELIVERY_STATE_FAILED
    result_round_trip(method, {"record": SENT_DELIVERY, "msg": None})
    assert result_round_trip(method, None) == mc.MaybeDeliveryRecord()


def test_peek_box_and_list_box_by_time() -> None:
    peek = rpc.MSG_CENTER_PEEK_BOX
    params_round_trip(
        peek,
        {
            "owner": "did:bns:bob",
            "box_kind": "REQUEST_BOX",
            "state_filter": [],
            "limit": 20,
            "with_object": False,
        },
    )
    listed = result_round_trip(
        peek, [{"record": RECORD, "msg": None}, {"record": BARE_RECORD, "msg": MSG_OBJECT}]
    )
    assert len(listed.records) == 2
    assert result_round_trip(peek, []) == mc.MailboxRecordList()
    by_time = rpc.MSG_CENTER_LIST_BOX_BY_TIME
    params_round_trip(
        by_time,
        {
            "owner": "did:bns:bob",
            "box_kind": "INBOX",
            "state_filter": ["ARCHIVED", "DELETED"],
            "limit": 50,
            "cursor_sort_key": 1760000000000,
            "cursor_record_id": "rec-1",
            "descending": True,
            "with_object": True,
        },
    )
    result_round_trip(
        by_time,
        {
            "items": [{"record": RECORD, "msg": None}],
            "next_cursor_sort_key": 1759999999999,
            "next_cursor_record_id": "rec-0",
        },
    )
    # an empty page is `{}` upstream (items left out)
    assert result_round_trip(by_time, {}) == mc.MailboxRecordPage()


def test_list_sessions() -> None:
    method = rpc.MSG_CENTER_LIST_SESSIONS
    params_round_trip(
        method,
        {
            "owner": "did:bns:bob",
            "limit": 20,
            "cursor_updated_at_ms": 1760000000000,
            "cursor_session_id": "did:bns:alice",
            "with_object": True,
        },
    )
    page = result_round_trip(
        method,
        {
            "items": [
                {
                    "session_id": "did:bns:alice",
                    "last_record": {"record": RECORD, "msg": MSG_OBJECT},
                    "unread_count": 3,
                    "updated_at_ms": 1760000000001,
                },
                {"session_id": "tg:lzc_jarvis:1", "unread_count": 0, "updated_at_ms": 1},
            ],
            "next_cursor_updated_at_ms": 1,
            "next_cursor_session_id": "tg:lzc_jarvis:1",
        },
    )
    assert page.items[0].unread_count == 3
    assert not page.items[1].HasField("last_record")


def test_list_session_timeline() -> None:
    method = rpc.MSG_CENTER_LIST_SESSION
    params_round_trip(
        method,
        {
            "owner": "did:bns:alice",
            "session_id": "did:bns:bob",
            "limit": 50,
            "cursor_sort_key": 1760000000000,
            "cursor_record_id": "rec-9",
            "descending": False,
            "with_object": True,
        },
    )
    page = result_round_trip(
        method,
        {
            "items": [
                {
                    "record_id": "rec-1",
                    "msg_id": MSG_ID,
                    "direction": "in",
                    "box_kind": "INBOX",
                    "sort_key": 1760000000000,
                    "from": "did:bns:bob",
                    "to": "did:bns:alice",
                    "recipient_state": "READ",
                    "msg": MSG_OBJECT,
                },
                {
                    "record_id": "rec-2",
                    "msg_id": MSG_ID,
                    "direction": "out",
                    "box_kind": "SENT",
                    "sort_key": 1760000000001,
                    "from": "did:bns:alice",
                    "to": "did:bns:bob",
                    "delivery": {
                        "overall": "partial_failed",
                        "per_target": [
                            {
                                "target_did": "did:bns:bob",
                                "state": "SENT",
                                "attempts": 1,
                                "external_msg_id": "ext-9",
                            },
                            {
                                "target_did": "did:msgtunnel:1.user.tg",
                                "state": "DEAD",
                                "attempts": 5,
                                "last_error": {
                                    "message": "blocked by user",
                                    "retryable": False,
                                    "duplicate_risk": False,
                                },
                            },
                        ],
                    },
                },
                {
                    "record_id": "rec-3",
                    "msg_id": MSG_ID,
                    "direction": "out",
                    "box_kind": "SENT",
                    "sort_key": 1760000000002,
                    "from": "did:bns:alice",
                    "to": "did:bns:bob",
                    "delivery": {"overall": "sending"},
                },
            ],
            "next_cursor_sort_key": 1760000000002,
            "next_cursor_record_id": "rec-3",
        },
    )
    inbound, outbound, pending = page.items
    assert inbound.direction == mc.SESSION_MESSAGE_DIRECTION_IN
    assert inbound.recipient_state == mc.RECIPIENT_STATE_READ
    assert outbound.delivery.overall == mc.SESSION_DELIVERY_OVERALL_PARTIAL_FAILED
    assert outbound.delivery.per_target[1].state == mc.DELIVERY_STATE_DEAD
    assert not pending.delivery.per_target


def test_update_record_state_and_session() -> None:
    state = rpc.MSG_CENTER_UPDATE_RECORD_STATE
    request = params_round_trip(state, {"record_id": "rec-1", "new_state": "ARCHIVED"})
    assert request.new_state == mc.RECIPIENT_STATE_ARCHIVED
    record = result_round_trip(state, {**RECORD, "state": "ARCHIVED"})
    assert record.state == mc.RECIPIENT_STATE_ARCHIVED
    session = rpc.MSG_CENTER_UPDATE_RECORD_SESSION
    params_round_trip(session, {"record_id": "rec-1", "session_id": "topic-a"})
    moved = {
        "record_id": "rec-2",
        "owner": "did:bns:alice",
        "box_kind": "SENT",
        "msg_id": MSG_ID,
        "msg_kind": "chat",
        "state": "READ",
        "from": "did:bns:alice",
        "to": "did:bns:bob",
        "session_id": "topic-a",
        "sort_key": 1760000000000,
        "created_at_ms": 1760000000000,
        "updated_at_ms": 1760000000002,
    }
    assert result_round_trip(session, moved).session_id == "topic-a"


def test_report_delivery() -> None:
    method = rpc.MSG_CENTER_REPORT_DELIVERY
    params_round_trip(
        method,
        {
            "delivery_id": "dlv-1",
            "result": {"ok": True, "external_msg_id": "ext-9", "delivered_at_ms": 1760000001000},
        },
    )
    failed = params_round_trip(
        method,
        {
            "delivery_id": "dlv-1",
            "result": {
                "ok": False,
                "error_code": "rate_limited",
                "error_message": "429 Too Many Requests",
                "retry_after_ms": 30000,
                "retryable": True,
            },
        },
    )
    assert failed.result.retry_after_ms == 30000
    assert result_round_trip(method, DELIVERY).attempts == 2
    result_round_trip(method, SENT_DELIVERY)


def test_read_receipts() -> None:
    set_state = rpc.MSG_CENTER_SET_READ_STATE
    request = params_round_trip(
        set_state,
        {
            "group_id": "did:bns:team",
            "msg_id": MSG_ID,
            "reader_did": "did:bns:bob",
            "status": "READED",
            "reason": "opened",
            "at_ms": 1760000002000,
        },
    )
    assert request.status == mc.READ_RECEIPT_STATE_READED
    params_round_trip(
        set_state,
        {"group_id": "did:bns:team", "msg_id": MSG_ID, "reader_did": "did:bns:bob",
         "status": "QUARANTINED"},
    )  # fmt: skip
    receipt = {
        "msg_id": MSG_ID,
        "iss": "did:bns:bob",
        "reader": "did:bns:bob",
        "group_id": "did:bns:team",
        "at_ms": 1760000002000,
        "status": "READED",
        "reason": "opened",
    }
    result_round_trip(set_state, receipt)
    listing = rpc.MSG_CENTER_LIST_READ_RECEIPTS
    params_round_trip(
        listing,
        {"msg_id": MSG_ID, "group_id": "did:bns:team", "reader": "did:bns:bob", "limit": 10,
         "offset": 0},
    )  # fmt: skip
    params_round_trip(listing, {"msg_id": MSG_ID})
    other = {"msg_id": MSG_ID, "iss": "did:bns:carol", "reader": "did:bns:carol", "at_ms": 1,
             "status": "REJECTED"}  # fmt: skip
    assert len(result_round_trip(listing, [receipt, other]).receipts) == 2


def test_get_message_bare_object_and_its_null() -> None:
    method = rpc.MSG_CENTER_GET_MESSAGE
    params_round_trip(method, {"msg_id": MSG_ID})
    answer = decode_result(method, MSG_OBJECT)
    assert encode_result(method, answer)["content"]["title"] == "hi"
    # an opaque object's keys come back in protobuf's map order: compared sorted
    assert json.dumps(encode_result(method, answer), sort_keys=True) == json.dumps(
        MSG_OBJECT, sort_keys=True
    )
    # upstream answers null for an unknown id (UNWRAP_OR_NULL): the field unset
    assert result_round_trip(method, None) == mc.MsgObjectResult()
    # an empty object is a value, not the null
    empty = result_round_trip(method, {})
    assert empty.HasField("msg") and empty != mc.MsgObjectResult()
    # a bare non-object is still refused
    with pytest.raises(ParseResponseError):
        decode_result(method, "cymsg:1")


# --- ui_session.* -----------------------------------------------------------------------


def test_ui_session_state() -> None:
    update = rpc.MSG_CENTER_UPDATE_UI_SESSION_STATE
    for value in (True, "thinking...", {"since_ms": 1760000000000}, None):
        params_round_trip(update, {"session_id": "tg:lzc_jarvis:1", "key": "typing",
                                   "value": value})  # fmt: skip
        result_round_trip(
            update,
            {"session_id": "tg:lzc_jarvis:1", "key": "typing", "value": value,
             "updated_at_ms": 1760000000000},
        )  # fmt: skip
    get = rpc.MSG_CENTER_GET_UI_SESSION_STATE
    params_round_trip(get, {"session_id": "tg:lzc_jarvis:1", "key": "active"})
    entry = {"session_id": "tg:lzc_jarvis:1", "key": "active", "value": True, "updated_at_ms": 1}
    assert result_round_trip(get, entry).entry.value.bool_value
    assert result_round_trip(get, None) == mc.MaybeUiSessionStateEntry()
    listing = rpc.MSG_CENTER_LIST_UI_SESSION_STATE
    params_round_trip(listing, {"session_id": "tg:lzc_jarvis:1"})
    status = {"session_id": "tg:lzc_jarvis:1", "key": "status_line", "value": "reading 3 files",
              "updated_at_ms": 2}  # fmt: skip
    assert len(result_round_trip(listing, [entry, status]).entries) == 2


# --- contact.* ---------------------------------------------------------------------------


def test_contact_resolvers_answer_bare_dids() -> None:
    cases: list[tuple[MethodDescriptor[Any, Any], dict[str, Any]]] = [
        (
            rpc.MSG_CENTER_RESOLVE_DID,
            {"platform": "tg", "account_id": "5397330802",
             "profile_hint": {"display_name": "Bob"}, **OWNER},
        ),
        (
            rpc.MSG_CENTER_RESOLVE_ENDPOINT_DID,
            {"platform": "tg", "account_id": "5397330802", "account_type": "user",
             "tunnel_instance_id": "tg-main-tunnel", **OWNER},
        ),
        (rpc.MSG_CENTER_RESOLVE_TARGET, {"contact_did": "did:bns:bob", "selector": "tg", **OWNER}),
        (rpc.MSG_CENTER_RESOLVE_CONTACT_FOR_ENDPOINT,
         {"endpoint_did": "did:msgtunnel:5397330802.user.tg-main-tunnel", **OWNER}),
        (rpc.MSG_CENTER_RESOLVE_CANONICAL_DID, {"did": "did:bns:bob-old", **OWNER}),
    ]  # fmt: skip
    for method, params in cases:
        params_round_trip(method, params)
        # contact_mgr_owner absent = the system-wide view
        params_round_trip(method, {k: v for k, v in params.items() if k != "contact_mgr_owner"})
        assert result_round_trip(method, "did:bns:bob").did == "did:bns:bob"
    params_round_trip(rpc.MSG_CENTER_RESOLVE_DID, {"platform": "tg", "account_id": "1"})
    # resolve_contact_for_endpoint answers a DID or null (no owner): UNWRAP_OR_NULL
    owner_of = rpc.MSG_CENTER_RESOLVE_CONTACT_FOR_ENDPOINT
    assert result_round_trip(owner_of, "did:bns:bob") == mc.MaybeDid(did="did:bns:bob")
    assert result_round_trip(owner_of, None) == mc.MaybeDid()
    assert result_round_trip(owner_of, "").HasField("did")  # "" is a value, not the null
    # the others answer a DID, never null
    with pytest.raises(ParseResponseError, match="expected the value of `did`, got null"):
        decode_result(rpc.MSG_CENTER_RESOLVE_DID, None)


def test_did_lists() -> None:
    aliases = rpc.MSG_CENTER_LIST_ALIAS_DIDS
    params_round_trip(aliases, {"canonical_did": "did:bns:bob", **OWNER})
    assert list(result_round_trip(aliases, ["did:bns:bob-old"]).dids) == ["did:bns:bob-old"]
    assert result_round_trip(aliases, []) == mc.DidList()
    subscribers = rpc.MSG_CENTER_GET_GROUP_SUBSCRIBERS
    params_round_trip(subscribers, {"group_id": "did:bns:team", "limit": 100, "offset": 0, **OWNER})
    params_round_trip(subscribers, {"group_id": "did:bns:team"})
    result_round_trip(subscribers, ["did:bns:alice", "did:bns:bob"])
    setter = rpc.MSG_CENTER_SET_GROUP_SUBSCRIBERS
    params_round_trip(
        setter, {"group_id": "did:bns:team", "subscribers": ["did:bns:alice"], **OWNER}
    )
    result_round_trip(setter, {"group_id": "did:bns:team", "subscriber_count": 1})


def test_preferred_binding_and_access() -> None:
    binding = rpc.MSG_CENTER_GET_PREFERRED_BINDING
    params_round_trip(binding, {"did": "did:bns:bob", **OWNER})
    assert result_round_trip(binding, BINDING).endpoint_did.startswith("did:msgtunnel:")
    zone_user = {"platform": "bns", "account_id": "bob", "display_id": "bob",
                 "tunnel_instance_id": "", "account_type": "", "last_active_at": 0}  # fmt: skip
    result_round_trip(binding, zone_user)
    check = rpc.MSG_CENTER_CHECK_ACCESS_PERMISSION
    params_round_trip(check, {"did": "did:bns:mallory", "context_id": "ctx-1", **OWNER})
    params_round_trip(check, {"did": "did:bns:mallory"})
    decision = result_round_trip(
        check,
        {"level": "temporary", "allow_delivery": True, "target_box": "INBOX",
         "temporary_expires_at_ms": 1760003600000, "reason": "temporary grant ctx-1"},
    )  # fmt: skip
    assert decision.level == mc.ACCESS_GROUP_LEVEL_TEMPORARY
    result_round_trip(
        check, {"level": "stranger", "allow_delivery": True, "target_box": "REQUEST_BOX"}
    )
    grant = rpc.MSG_CENTER_GRANT_TEMPORARY_ACCESS
    params_round_trip(
        grant, {"dids": ["did:bns:carol"], "context_id": "ctx-1", "duration_secs": 3600, **OWNER}
    )
    result_round_trip(
        grant,
        {"updated": [{"did": "did:bns:carol", "granted": True, "expires_at_ms": 1760003600000},
                     {"did": "did:bns:mallory", "granted": False, "reason": "blocked"}]},
    )  # fmt: skip
    assert result_round_trip(grant, {}) == mc.GrantTemporaryAccessResult()
    block = rpc.MSG_CENTER_BLOCK_CONTACT
    params_round_trip(block, {"did": "did:bns:mallory", "reason": "spam", **OWNER})
    assert encode_result(block, decode_result(block, None)) is None


def test_import_merge_update_contacts() -> None:
    imports = rpc.MSG_CENTER_IMPORT_CONTACTS
    request = params_round_trip(
        imports,
        {
            "contacts": [
                {"name": "Bob", "avatar": "https://example.com/bob.png", "note": "n",
                 "bindings": [BINDING], "groups": ["work"], "tags": ["vip"]},
                {"name": "Carol"},
            ],
            "upgrade_to_friend": True,
            **OWNER,
        },
    )  # fmt: skip
    assert request.contacts[0].bindings[0].meta["lang"] == "en"
    result_round_trip(
        imports,
        {"imported": 2, "upgraded_shadow": 1, "merged": 0, "created": 1, "skipped": 0,
         "failed": 0, "errors": ["row 3: no name"], "affected_dids": ["did:bns:bob"]},
    )  # fmt: skip
    merge = rpc.MSG_CENTER_MERGE_CONTACTS
    params_round_trip(
        merge, {"target_did": "did:bns:bob", "source_did": "did:msgtunnel:1.user.tg", **OWNER}
    )
    assert result_round_trip(merge, CONTACT).bindings[0].platform == "tg"
    update = rpc.MSG_CENTER_UPDATE_CONTACT
    patch = params_round_trip(
        update,
        {"did": "did:bns:bob",
         "patch": {"name": "Robert", "avatar": "a.png", "note": "", "access_level": "block",
                   "source": "manual_create", "is_verified": False, "groups": ["work"],
                   "tags": ["vip", "family"]},
         **OWNER},
    ).patch  # fmt: skip
    assert patch.access_level == mc.ACCESS_GROUP_LEVEL_BLOCK
    # `groups: []` (clear) is not `groups` absent (unchanged): kept, and written back
    clear = {"did": "did:bns:bob", "patch": {"groups": []}}
    cleared = decode_params(update, clear)
    assert cleared.patch.HasField("groups") and not list(cleared.patch.groups)
    assert encode_params(update, cleared) == clear
    name_only = params_round_trip(update, {"did": "did:bns:bob", "patch": {"name": "Bob"}}).patch
    assert not name_only.HasField("groups") and not name_only.HasField("tags")
    result_round_trip(update, BARE_CONTACT)


def test_get_and_list_contacts() -> None:
    get = rpc.MSG_CENTER_GET_CONTACT
    params_round_trip(get, {"did": "did:bns:bob", **OWNER})
    assert result_round_trip(get, CONTACT).contact.temp_grants[0].context_id == "ctx-1"
    result_round_trip(get, BARE_CONTACT)
    assert result_round_trip(get, None) == mc.MaybeContact()
    listing = rpc.MSG_CENTER_LIST_CONTACTS
    params_round_trip(
        listing,
        {"query": {"source": "shared", "access_level": "friend", "keyword": "bo", "limit": 20,
                   "offset": 40}, **OWNER},
    )  # fmt: skip
    params_round_trip(listing, {"query": {}})
    assert len(result_round_trip(listing, [CONTACT, BARE_CONTACT]).contacts) == 2


# --- what the options cannot say, pinned -------------------------------------------------


def test_empty_lists_are_left_out_as_upstream_leaves_them_out() -> None:
    method = rpc.MSG_CENTER_GET_CONTACT
    encoded = encode_result(method, decode_result(method, BARE_CONTACT))
    assert "bindings" not in encoded and "tags" not in encoded
    assert encoded == BARE_CONTACT
    # `[]` / `{}` on input read the same as a missing key.
    given = {**BARE_CONTACT, "bindings": [], "tags": [], "groups": []}
    assert decode_result(method, given) == decode_result(method, BARE_CONTACT)
    # Every field the contract marks omit_empty is one upstream skips when empty.
    marked: set[str] = set()
    for message in mc.DESCRIPTOR.message_types_by_name.values():
        for field in message.fields:
            rules = field_json(field)
            if rules is not None and rules.omit_empty:
                marked.add(field.name)
    assert marked == OMITTED_WHEN_EMPTY


def test_unknown_enum_names_are_refused() -> None:
    with pytest.raises(ParseResponseError, match="unknown variant `inbox`"):
        decode_result(rpc.MSG_CENTER_UPDATE_RECORD_STATE, {**RECORD, "box_kind": "inbox"})


# --- group.* ------------------------------------------------------------------------------
# JSON composed from upstream's types (group_mgr.rs; upstream-services.md section 6 gives
# the params only): every field written, and the smallest form upstream writes (each
# skipped Option left out).

GROUP = "did:bns:family"
HOST = {"host_owner": "did:bns:alice"}
ENDPOINTS: dict[str, Any] = {
    "message_center": "/kapi/msg-center",
    "group_mgr": "/kapi/msg-center/group",
    "inbox_path": "/groups/family/inbox",
    "subgroup_inbox_prefix": "/groups/family/sub/",
    "join_path": "/groups/family/join",
    "submit_member_proof_path": "/groups/family/proof",
    "expand_members_path": "/groups/family/expand",
    "admin_operation_path": "/groups/family/admin",
}
COLLECTION_POLICY: dict[str, Any] = {
    "nested_group_policy": "allow_with_recursive_expansion",
    "expansion_policy": "expand_for_delivery",
    "max_expansion_depth": 4,
    "reject_cycles": True,
}
ATTRIBUTION_POLICY: dict[str, Any] = {
    "attribution_mode": "opaque_group_d_i_d",
    "revenue_split_ref": "contract:split-1",
    "split_hint": [{"did": "did:bns:alice", "weight": 60}, {"did": "did:bns:bob", "weight": 40}],
    "public_attribution": "public_with_proof",
}
POLICY: dict[str, Any] = {
    "join_policy": "request_and_admin_approve",
    "post_policy": {"kind": "role_based", "roles": ["owner", "admin"]},
    "history_visibility": "all_history",
    "retention_policy": {"days": 30},
    "default_delivery": "native_only",
}
DOC: dict[str, Any] = {
    "obj_type": "buckyos.group_doc",
    "schema_version": 1,
    "group_did": GROUP,
    "entity_kind": "d_i_d_collection",
    "did_doc_id": "cyobj:7a1c",
    "doc_version": 3,
    "host_zone": "did:bns:alice",
    "owner": "did:bns:alice",
    "name": "Family",
    "avatar": "https://alice.example.com/family.png",
    "description": "Alice's family",
    "purpose": {"custom": "book_club"},
    "created_at_ms": 1760000000000,
    "updated_at_ms": 1760000000500,
    "profile_version": 2,
    "policy": POLICY,
    "collection_policy": COLLECTION_POLICY,
    "attribution_policy": ATTRIBUTION_POLICY,
    "public_membership": "members_only",
    "public_admins": "public_with_proof",
    "endpoints": ENDPOINTS,
    "proof": "sig:family-v3",
}
# upstream's defaults (GroupPolicy/GroupCollectionPolicy::default), no Option set
BARE_DOC: dict[str, Any] = {
    "obj_type": "buckyos.group_doc",
    "schema_version": 1,
    "group_did": GROUP,
    "entity_kind": "d_i_d_collection",
    "doc_version": 1,
    "host_zone": "did:bns:alice",
    "owner": "did:bns:alice",
    "name": "Family",
    "purpose": "conversation",
    "created_at_ms": 1760000000000,
    "updated_at_ms": 1760000000000,
    "profile_version": 1,
    "policy": {
        "join_policy": "invite_only",
        "post_policy": {"kind": "all_members"},
        "history_visibility": "new_members_only",
        "retention_policy": "default",
        "default_delivery": "default",
    },
    "collection_policy": {
        "nested_group_policy": "allow_as_opaque_member",
        "expansion_policy": "no_auto_expansion",
        "max_expansion_depth": 4,
        "reject_cycles": True,
    },
    "public_membership": "members_only",
    "public_admins": "members_only",
    "endpoints": {},
}
MEMBER: dict[str, Any] = {
    "group_did": GROUP,
    "member_did": "did:bns:bob",
    "member_kind": "single_entity",
    "role": "admin",
    "state": "active",
    "joined_at_ms": 1760000000100,
    "updated_at_ms": 1760000000200,
    "invited_by": "did:bns:alice",
    "approved_by": "did:bns:alice",
    "member_proof_id": "cyobj:proof-bob",
    "mute_until_ms": 1760086400000,
    "delivery_preference": "tunnel_only",
}
BARE_MEMBER: dict[str, Any] = {
    "group_did": GROUP,
    "member_did": "did:bns:carol",
    "member_kind": "unknown",
    "role": "member",
    "state": "invited",
    "joined_at_ms": 0,
    "updated_at_ms": 1760000000300,
}
PROOF: dict[str, Any] = {
    "obj_type": "buckyos.group_member_proof",
    "schema_version": 1,
    "group_did": GROUP,
    "member_did": "did:bns:carol",
    "member_kind": "single_entity",
    "role": "member",
    "proof_scope": "join_as_self",
    "invite_id": "inv-1",
    "request_id": "req-1",
    "nonce": "n-42",
    "issued_at_ms": 1760000000000,
    "expires_at_ms": 1760086400000,
    "signer": "did:bns:carol",
    "member_zone": "did:bns:carol-zone",
    "reverse_proof_uri": "cyfs://carol/groups/family/proof",
    "proof": "sig:carol",
}
BARE_PROOF: dict[str, Any] = {
    "obj_type": "buckyos.group_member_proof",
    "schema_version": 1,
    "group_did": "did:bns:team",
    "member_did": "did:bns:family",
    "member_kind": "collection_entity",
    "role": "guest",
    "proof_scope": "join_as_collection_entity",
    "nonce": "n-1",
    "issued_at_ms": 1760000000000,
    "signer": "did:bns:alice",
    "proof": "sig:alice",
}
SETTINGS: dict[str, Any] = {
    "group_did": GROUP,
    "join_policy": "invite_only",
    "post_policy": {"kind": "admin_only"},
    "history_visibility": "new_members_only",
    "retention_policy": "forever",
    "default_delivery": "mute",
    "collection_policy": {**COLLECTION_POLICY, "nested_group_policy": "disallow",
                          "expansion_policy": "expand_for_permission_check"},
    "attribution_policy": {"attribution_mode": "public_members", "public_attribution": "private"},
}  # fmt: skip
SUBGROUP: dict[str, Any] = {
    "group_did": GROUP,
    "subgroup_id": "sub-1",
    "name": "Parents",
    "description": "the grown-ups",
    "member_dids": ["did:bns:alice", "did:bns:bob"],
    "created_by": "did:bns:alice",
    "created_at_ms": 1760000000000,
    "updated_at_ms": 1760000000001,
}
BARE_SUBGROUP: dict[str, Any] = {
    "group_did": GROUP,
    "subgroup_id": "sub-2",
    "name": "Nobody yet",
    "member_dids": [],
    "created_by": "did:bns:alice",
    "created_at_ms": 1760000000000,
    "updated_at_ms": 1760000000000,
}
SNAPSHOT: dict[str, Any] = {
    "obj_type": "buckyos.group_expansion_snapshot",
    "schema_version": 1,
    "operation_id": "exp-1",
    "root_group_did": GROUP,
    "purpose": "delivery",
    "requested_by": "did:bns:alice",
    "created_at_ms": 1760000000000,
    "max_depth": 4,
    "expanded_members": [
        {"did": "did:bns:bob", "member_kind": "single_entity", "via_path": [GROUP],
         "role": "admin"},
        {"did": "did:bns:dave", "member_kind": "single_entity",
         "via_path": [GROUP, "did:bns:cousins"]},
    ],
    "opaque_members": ["did:bns:friends"],
    "visited_groups": [GROUP, "did:bns:cousins"],
    "truncated_groups": ["did:bns:far"],
    "cycle_paths": [[GROUP, "did:bns:cousins", GROUP]],
    "policy_digest": "sha256:aa",
    "proof_digest": "sha256:bb",
}  # fmt: skip
BARE_SNAPSHOT: dict[str, Any] = {
    "obj_type": "buckyos.group_expansion_snapshot",
    "schema_version": 1,
    "operation_id": "exp-2",
    "root_group_did": GROUP,
    "purpose": "attribution",
    "created_at_ms": 1760000000000,
    "max_depth": 1,
    "expanded_members": [],
    "opaque_members": [],
    "visited_groups": [GROUP],
    "truncated_groups": [],
    "cycle_paths": [],
    "policy_digest": "sha256:aa",
    "proof_digest": "sha256:cc",
}
SUMMARY: dict[str, Any] = {
    "group_did": GROUP,
    "name": "Family",
    "avatar": "https://alice.example.com/family.png",
    "host_zone": "did:bns:alice",
    "owner": "did:bns:alice",
    "purpose": "organization",
    "entity_kind": "d_i_d_collection",
    "member_count": 3,
    "is_hosted_by_self": True,
    "can_message": True,
    "updated_at_ms": 1760000000500,
}
BARE_SUMMARY: dict[str, Any] = {
    "group_did": "did:bns:team",
    "name": "Team",
    "host_zone": "did:bns:bob",
    "owner": "did:bns:bob",
    "purpose": "permission_scope",
    "entity_kind": "single_entity",
    "member_count": 0,
    "is_hosted_by_self": False,
    "can_message": False,
    "updated_at_ms": 1,
}
ACT = {"actor_did": "did:bns:alice", "group_did": GROUP}

# krpc name -> (params upstream's client sends, results upstream's server answers)
GROUP_CASES: dict[str, tuple[list[Any], list[Any]]] = {
    "group.create": (
        [
            {"owner_did": "did:bns:alice",
             "profile": {"name": "Family", "avatar": "https://alice.example.com/family.png",
                         "description": "Alice's family", "purpose": "notification",
                         "group_did": GROUP, "host_zone": "did:bns:alice",
                         "public_membership": "private", "public_admins": "members_only",
                         "endpoints": {"inbox_path": "/groups/family/inbox"}},
             "settings": SETTINGS, **HOST},
            {"owner_did": "did:bns:alice", "profile": {"name": "Family"}},
        ],
        [DOC, BARE_DOC],
    ),
    "group.get_doc": ([{"group_did": GROUP, **HOST}, {"group_did": GROUP}], [DOC, BARE_DOC]),
    "group.update_profile": (
        [
            {**ACT, "patch": {"name": "Family!", "avatar": "a.png", "description": "",
                              "purpose": {"custom": "chess"}, "public_membership": "private",
                              "public_admins": "private", "endpoints": {}}, **HOST},
            {**ACT, "patch": {}},
        ],
        [DOC],
    ),
    "group.invite_member": (
        [
            {**ACT, "member_did": "did:bns:carol", "role": "guest",
             "member_kind": "collection_entity", "invite_id": "inv-1", **HOST},
            {**ACT, "member_did": "did:bns:carol"},
        ],
        [BARE_MEMBER, MEMBER],
    ),
    "group.submit_member_proof": (
        [{"group_did": GROUP, "proof": PROOF, **HOST}, {"group_did": "did:bns:team",
                                                       "proof": BARE_PROOF}],
        [MEMBER],
    ),
    "group.request_join": (
        [{"member_did": "did:bns:carol", "group_did": GROUP, "proof": PROOF, **HOST},
         {"member_did": "did:bns:family", "group_did": "did:bns:team", "proof": BARE_PROOF}],
        [{**BARE_MEMBER, "state": "pending_admin_approval"}],
    ),
    "group.approve_member": (
        [{**ACT, "member_did": "did:bns:carol", **HOST}, {**ACT, "member_did": "did:bns:carol"}],
        [{**BARE_MEMBER, "state": "active", "approved_by": "did:bns:alice"}],
    ),
    "group.reject_member": (
        [{**ACT, "member_did": "did:bns:carol", "reason": "unknown person", **HOST},
         {**ACT, "member_did": "did:bns:carol"}],
        [{**BARE_MEMBER, "state": "removed"}],
    ),
    "group.remove_member": (
        [{**ACT, "member_did": "did:bns:bob", "reason": "left town", **HOST},
         {**ACT, "member_did": "did:bns:bob"}],
        [{**MEMBER, "state": "removed"}],
    ),
    "group.update_member_role": (
        [{**ACT, "member_did": "did:bns:bob", "role": "owner", **HOST},
         {**ACT, "member_did": "did:bns:bob", "role": "member"}],
        [{**MEMBER, "role": "owner"}],
    ),
    "group.list_members": (
        [
            {"group_did": GROUP, "state_filter": ["active", "muted", "pending_member_signature"],
             "role_filter": ["owner", "admin"], "limit": 50, "offset": 100, **HOST},
            {"group_did": GROUP, "state_filter": [], "role_filter": []},
            {"group_did": GROUP},
        ],
        [[MEMBER, BARE_MEMBER], []],
    ),
    "group.create_subgroup": (
        [{**ACT, "name": "Parents", "description": "the grown-ups",
          "member_dids": ["did:bns:alice", "did:bns:bob"], **HOST},
         {**ACT, "name": "Nobody yet", "member_dids": []}],
        [SUBGROUP, BARE_SUBGROUP],
    ),
    "group.update_subgroup": (
        [{**ACT, "subgroup_id": "sub-1", "patch": {"name": "Parents", "description": "d",
                                                   "member_dids": ["did:bns:alice"]}, **HOST},
         {**ACT, "subgroup_id": "sub-1", "patch": {"member_dids": []}},
         {**ACT, "subgroup_id": "sub-1", "patch": {}}],
        [SUBGROUP],
    ),
    "group.list_subgroups": (
        [{"group_did": GROUP, **HOST}, {"group_did": GROUP}],
        [[SUBGROUP, BARE_SUBGROUP], []],
    ),
    "group.update_collection_policy": (
        [{**ACT, "policy": COLLECTION_POLICY, **HOST},
         {**ACT, "policy": {**COLLECTION_POLICY, "expansion_policy": "expand_for_public_view",
                            "max_expansion_depth": 0, "reject_cycles": False}}],
        [DOC],
    ),
    "group.update_attribution_policy": (
        [{**ACT, "policy": ATTRIBUTION_POLICY, **HOST},
         {**ACT, "policy": {"attribution_mode": "external_contract",
                            "public_attribution": "members_only"}},
         {**ACT}],
        [DOC, BARE_DOC],
    ),
    "group.expand_members": (
        [{"group_did": GROUP, "purpose": "permission_check", "actor_did": "did:bns:alice",
          "max_depth": 2, **HOST},
         {"group_did": GROUP, "purpose": "public_view"}],
        [SNAPSHOT, BARE_SNAPSHOT],
    ),
    "group.list_by_member": (
        [{"member_did": "did:bns:bob", **HOST}, {"member_did": "did:bns:bob"}],
        [[SUMMARY, BARE_SUMMARY], []],
    ),
    "group.list_parents": (
        [{"child_group_did": "did:bns:cousins", **HOST}, {"child_group_did": "did:bns:cousins"}],
        [[{**SUMMARY, "purpose": "collaboration"}], []],
    ),
    "group.check_access": (
        [{"group_did": GROUP, "actor_did": "did:bns:bob", "action": "group.post_message",
          **HOST},
         {"group_did": GROUP, "actor_did": "did:bns:eve", "action": "group.read_history"}],
        [{"action": "group.post_message", "allowed": True, "effective_role": "admin"},
         {"action": "group.read_history", "allowed": False, "reason": "not a member"}],
    ),
}  # fmt: skip


@pytest.mark.parametrize("verb", GROUP_VERBS)
def test_group_verb_json_both_ways(verb: str) -> None:
    method = rpc.MSG_CENTER.by_krpc[verb]
    params, results = GROUP_CASES[verb]
    for value in params:
        params_round_trip(method, value)
    for value in results:
        result_round_trip(method, value)


def test_every_group_verb_has_its_json() -> None:
    assert sorted(GROUP_CASES) == sorted(GROUP_VERBS)


def test_group_doc_typed() -> None:
    doc = result_round_trip(rpc.MSG_CENTER_GROUP_CREATE, DOC)
    assert isinstance(doc, mc.GroupDoc)
    assert doc.entity_kind == mc.DID_ENTITY_KIND_DID_COLLECTION
    assert doc.purpose.WhichOneof("purpose") == "custom" and doc.purpose.custom == "book_club"
    assert doc.policy.post_policy.WhichOneof("policy") == "role_based"
    assert list(doc.policy.post_policy.role_based.roles) == [
        mc.GROUP_ROLE_OWNER,
        mc.GROUP_ROLE_ADMIN,
    ]
    assert doc.policy.retention_policy.days == 30
    assert doc.attribution_policy.attribution_mode == mc.GROUP_ATTRIBUTION_MODE_OPAQUE_GROUP_DID
    bare = result_round_trip(rpc.MSG_CENTER_GROUP_CREATE, BARE_DOC)
    assert bare.purpose.HasField("conversation")
    assert bare.policy.retention_policy.HasField("default")
    assert not bare.HasField("attribution_policy") and bare.HasField("endpoints")
    # every GroupPurpose unit variant, by its snake_case name
    for name in ("conversation", "notification", "collaboration", "permission_scope",
                 "organization"):  # fmt: skip
        again = result_round_trip(rpc.MSG_CENTER_GROUP_CREATE, {**BARE_DOC, "purpose": name})
        assert again.purpose.HasField(name)


def test_group_serde_spellings() -> None:
    """serde's snake_case puts `_` before every capital: `DIDCollection` is
    "d_i_d_collection", `OpaqueGroupDID` "opaque_group_d_i_d"; the readable spellings are
    refused, as upstream refuses them."""
    create = rpc.MSG_CENTER_GROUP_CREATE
    with pytest.raises(ParseResponseError, match="unknown variant `did_collection`"):
        decode_result(create, {**BARE_DOC, "entity_kind": "did_collection"})
    policy = {**ATTRIBUTION_POLICY, "attribution_mode": "opaque_group_did"}
    with pytest.raises(ParseResponseError, match="unknown variant `opaque_group_did`"):
        decode_result(create, {**DOC, "attribution_policy": policy})
    # a GroupDoc's non-Option fields are required, as upstream's serde requires them
    without_policy = {k: v for k, v in BARE_DOC.items() if k != "policy"}
    with pytest.raises(ParseResponseError, match="Missing policy"):
        decode_result(create, without_policy)


def test_group_absent_and_empty_lists_differ() -> None:
    """`Option<Vec<..>>` params: absent = no filter / unchanged, [] = match none / clear."""
    listing = rpc.MSG_CENTER_GROUP_LIST_MEMBERS
    assert not params_round_trip(listing, {"group_did": GROUP}).HasField("state_filter")
    empty = params_round_trip(listing, {"group_did": GROUP, "state_filter": []})
    assert empty.HasField("state_filter") and len(empty.state_filter) == 0
    update = rpc.MSG_CENTER_GROUP_UPDATE_SUBGROUP
    unchanged = params_round_trip(update, {**ACT, "subgroup_id": "s", "patch": {}})
    assert not unchanged.patch.HasField("member_dids")
    cleared = params_round_trip(update, {**ACT, "subgroup_id": "s", "patch": {"member_dids": []}})
    assert cleared.patch.HasField("member_dids")
    # #[serde(default)] request fields are left out unless given (upstream takes its default)
    invite = rpc.MSG_CENTER_GROUP_INVITE_MEMBER
    sent = encode_params(invite, mc.GroupInviteMemberRequest(**ACT, member_did="did:bns:carol"))
    assert sent == {**ACT, "member_did": "did:bns:carol"}


def test_group_get_doc_null() -> None:
    method = rpc.MSG_CENTER_GROUP_GET_DOC
    assert method.result_shape.name == "UNWRAP_OR_NULL"
    assert result_round_trip(method, None) == mc.MaybeGroupDoc()
    assert result_round_trip(method, DOC).doc.name == "Family"


def test_group_request_requiredness() -> None:
    """The stub refuses a call without a field upstream's request struct requires."""
    with (
        KrpcTransport("http://127.0.0.1:9") as transport,  # nothing is sent
        pytest.raises(TypeError, match="needs member_did="),
    ):
        rpc.MsgCenterStub(transport).GroupInviteMember(actor_did="did:bns:alice", group_did=GROUP)
    assert rpc.MSG_CENTER_GROUP_EXPAND_MEMBERS.required == ("group_did", "purpose")


# --- a servicer over a real kRPC server -------------------------------------------------


class MiniMsgCenter(rpc.MsgCenterServicer):
    """Dispatch into an INBOX, take from it, and a contact book: in memory."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.records: list[mc.MailboxRecordWithObject] = []
        self.contacts: dict[str, mc.Contact] = {}

    def Dispatch(self, request: mc.DispatchRequest, req: Request) -> mc.DispatchResult:
        msg_id = f"cymsg:{len(self.records) + 1}"
        to_list = request.msg["to"]
        assert isinstance(to_list, struct_pb2.ListValue)
        recipients = [str(to) for to in to_list]
        with self.lock:
            for to in recipients:
                record = mc.MailboxRecord(
                    record_id=f"rec-{len(self.records) + 1}",
                    owner=to,
                    box_kind=mc.MAILBOX_KIND_INBOX,
                    msg_id=msg_id,
                    msg_kind=mc.MSG_OBJ_KIND_CHAT,
                    state=mc.RECIPIENT_STATE_UNREAD,
                    to=to,
                    sort_key=len(self.records) + 1,
                    created_at_ms=1760000000000,
                    updated_at_ms=1760000000000,
                )
                setattr(record, "from", str(request.msg["from"]))  # `from`: a keyword
                self.records.append(mc.MailboxRecordWithObject(record=record, msg=request.msg))
        return mc.DispatchResult(ok=True, msg_id=msg_id, delivered_recipients=recipients)

    def GetNext(self, request: mc.GetNextRequest, req: Request) -> mc.MaybeMailboxRecord:
        states = (
            {mc.RecipientState.Value(f"RECIPIENT_STATE_{s}") for s in request.state_filter}
            if request.HasField("state_filter")
            else {mc.RECIPIENT_STATE_UNREAD}
        )
        with self.lock:
            for item in self.records:
                record = item.record
                if record.owner != request.owner or record.box_kind != request.box_kind:
                    continue
                if states and record.state not in states:
                    continue
                if request.lock_on_take:
                    record.state = mc.RECIPIENT_STATE_READING
                found = mc.MailboxRecordWithObject(record=record)
                if request.with_object:
                    found.msg.CopyFrom(item.msg)
                return mc.MaybeMailboxRecord(record=found)
        return mc.MaybeMailboxRecord()

    def GetMessage(self, request: mc.GetMessageRequest, req: Request) -> mc.MsgObjectResult | None:
        with self.lock:
            for item in self.records:
                if item.record.msg_id == request.msg_id:
                    return mc.MsgObjectResult(msg=item.msg)
        return None  # upstream's null

    def GetContact(self, request: mc.ContactDidRequest, req: Request) -> mc.MaybeContact:
        with self.lock:
            contact = self.contacts.get(request.did)
        return mc.MaybeContact(contact=contact) if contact else mc.MaybeContact()

    def UpdateContact(self, request: mc.UpdateContactRequest, req: Request) -> mc.Contact:
        with self.lock:
            contact = self.contacts.setdefault(
                request.did,
                mc.Contact(
                    did=request.did,
                    source=mc.CONTACT_SOURCE_MANUAL_CREATE,
                    access_level=mc.ACCESS_GROUP_LEVEL_STRANGER,
                ),
            )
            patch = request.patch
            if patch.HasField("name"):
                contact.name = patch.name
            if patch.HasField("access_level"):
                contact.access_level = patch.access_level
            if patch.HasField("tags"):
                contact.tags[:] = [str(tag) for tag in patch.tags]
            return contact


@pytest.fixture
def msg_center_url() -> Iterator[str]:
    """A MiniMsgCenter served over kRPC on a free port; its /kapi/msg-center URL."""
    ready = threading.Event()
    stop: list[asyncio.Event] = []
    urls: list[str] = []
    loop = asyncio.new_event_loop()

    async def main() -> None:
        binding = Binding(
            "msg-center", verifier=TokenVerifier(TrustKeyStore()), rbac=RbacEnforcer(), timeout=5.0
        )
        binding.add_service(MiniMsgCenter())
        stop.append(asyncio.Event())
        async with serving(binding, krpc_port=0, log_level="warning", register=False) as info:
            assert info.krpc_url is not None
            urls.append(f"{info.krpc_url}/kapi/msg-center")
            ready.set()
            await stop[0].wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    try:
        assert ready.wait(10), "the msg-center test server did not start"
        yield urls[0]
    finally:
        if stop:
            loop.call_soon_threadsafe(stop[0].set)
        thread.join(10)
        loop.close()
        assert not thread.is_alive()


def test_end_to_end_over_krpc(msg_center_url: str) -> None:
    with KrpcTransport(msg_center_url) as transport:
        stub = rpc.MsgCenterStub(transport)
        msg = mc.DispatchRequest()
        msg.msg.update(MSG_OBJECT)
        sent = stub.Dispatch(msg)
        assert sent.ok and list(sent.delivered_recipients) == ["did:bns:bob"]
        taken = stub.GetNext(
            owner="did:bns:bob",
            box_kind=mc.MAILBOX_KIND_INBOX,
            lock_on_take=True,
            with_object=True,
        )
        assert taken.record.record.state == mc.RECIPIENT_STATE_READING
        assert taken.record.msg["any_meta_key"] == "flattened meta"
        # taken (READING): nothing UNREAD is left -> upstream's null
        assert stub.GetNext(owner="did:bns:bob", box_kind=mc.MAILBOX_KIND_INBOX) == (
            mc.MaybeMailboxRecord()
        )
        assert stub.GetContact(did="did:bns:carol") == mc.MaybeContact()
        patch = mc.ContactPatch(name="Carol")
        patch.tags.extend(["vip"])
        updated = stub.UpdateContact(did="did:bns:carol", patch=patch)
        assert updated.name == "Carol" and list(updated.tags) == ["vip"]
        assert stub.GetContact(did="did:bns:carol").contact == updated
        # the bare-name aliases upstream answers are served like the dotted names
        params = {"owner": "did:bns:bob", "box_kind": "INBOX"}
        dotted = transport.call_json("msg-center", "msg.get_next", params)
        assert transport.call_json("msg-center", "get_next", params) == dotted
        contact = transport.call_json("msg-center", "get_contact", {"did": "did:bns:carol"})
        assert contact == transport.call_json(
            "msg-center", "contact.get_contact", {"did": "did:bns:carol"}
        )
        assert contact is not None and contact["name"] == "Carol"
        # ui_session.* has no bare name
        with pytest.raises(UnknownMethodError):
            transport.call_json("msg-center", "update_state", {})


def _page_example(heading: str) -> str:
    section = PAGE.read_text(encoding="utf-8").split(f"## {heading}\n", 1)[1]
    found = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert found is not None, heading
    return found.group(1)


def test_docs_example(msg_center_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = _page_example("msg-center: an example")
    exec(compile(code, str(PAGE), "exec"), {"MSG_CENTER_URL": msg_center_url})
    assert capsys.readouterr().out.splitlines() == [
        "delivered to ['did:bns:bob']",
        "rec-1 from did:bns:alice: hello bob",
        "inbox empty",
        "cymsg:1 -> chat",
        "cymsg:unknown -> unknown",
    ]


# --- #[serde(default)] fields: may be missing on input ---------------------------------------


def test_serde_default_fields_may_be_missing() -> None:
    def without(value: dict[str, Any], *keys: str) -> dict[str, Any]:
        return {k: v for k, v in value.items() if k not in keys}

    record = codec_for(mc.MailboxRecord).from_json(without(BARE_RECORD, "msg_kind"))
    assert isinstance(record, mc.MailboxRecord)
    assert record.msg_kind == mc.MSG_OBJ_KIND_UNSPECIFIED and record.record_id == "rec-2"
    error = without(DELIVERY["last_error"], "retryable", "duplicate_risk")
    delivery = codec_for(mc.DeliveryRecord).from_json(
        {**without(DELIVERY, "attempts"), "last_error": error}
    )
    assert isinstance(delivery, mc.DeliveryRecord)
    assert delivery.attempts == 0 and not delivery.last_error.retryable
    # Always written back, as upstream writes them.
    written = codec_for(mc.DeliveryRecord).to_json(delivery)
    assert written["attempts"] == 0
    assert written["last_error"] == {
        "error_code": "rate_limited",
        "message": "429 Too Many Requests",
        "retryable": False,
        "duplicate_risk": False,
    }
    binding = codec_for(mc.AccountBinding).from_json(without(BINDING, "account_type"))
    assert isinstance(binding, mc.AccountBinding) and binding.account_type == ""
    summary = codec_for(mc.SessionSummary).from_json({"session_id": "s", "updated_at_ms": 1})
    assert isinstance(summary, mc.SessionSummary) and summary.unread_count == 0
    # A field without serde default is still refused missing.
    with pytest.raises(JsonInvalidError, match="Missing record_id"):
        codec_for(mc.MailboxRecord).from_json(without(BARE_RECORD, "record_id"))


# --- bare value-or-null results over real kRPC and gRPC servers -------------------------------


class NullishMsgCenter(rpc.MsgCenterServicer):
    """The three UNWRAP_OR_NULL verbs: a value, an empty value, or None (upstream's null)."""

    def GetMessage(self, request: mc.GetMessageRequest, req: Request) -> mc.MsgObjectResult | None:
        if request.msg_id == MSG_ID:
            found = mc.MsgObjectResult()
            found.msg.update(MSG_OBJECT)
            return found
        if request.msg_id == "cymsg:empty":
            found = mc.MsgObjectResult()
            found.msg.SetInParent()  # `{}`: a value, not the null
            return found
        return None

    async def ResolveContactForEndpoint(
        self, request: mc.ResolveContactForEndpointRequest, req: Request
    ) -> mc.MaybeDid | None:
        owners = {"did:msgtunnel:1.user.tg": "did:bns:bob", "did:msgtunnel:0.user.tg": ""}
        owner = owners.get(request.endpoint_did)
        if owner is None:
            return mc.MaybeDid()  # the field unset: null too
        return mc.MaybeDid(did=owner)

    def GroupGetDoc(self, request: mc.GroupGetDocRequest, req: Request) -> mc.MaybeGroupDoc | None:
        if request.group_did != GROUP:
            return None
        doc = codec_for(mc.GroupDoc).from_json(DOC)
        assert isinstance(doc, mc.GroupDoc)
        return mc.MaybeGroupDoc(doc=doc)


def nullish_binding() -> Binding:
    binding = Binding(
        "msg-center", verifier=TokenVerifier(TrustKeyStore()), rbac=RbacEnforcer(), timeout=5.0
    )
    binding.add_service(NullishMsgCenter())
    return binding


def _expect_values_and_nulls(center: rpc.MsgCenterStub) -> None:
    message = center.GetMessage(msg_id=MSG_ID)
    assert message is not None and message.msg["any_meta_key"] == "flattened meta"
    empty = center.GetMessage(msg_id="cymsg:empty")
    assert empty is not None and empty.HasField("msg") and len(empty.msg) == 0
    assert center.GetMessage(msg_id="cymsg:unknown") is None
    owner = center.ResolveContactForEndpoint(endpoint_did="did:msgtunnel:1.user.tg")
    assert owner is not None and owner.did == "did:bns:bob"
    blank = center.ResolveContactForEndpoint(endpoint_did="did:msgtunnel:0.user.tg")
    assert blank == mc.MaybeDid(did="")  # "" is a value, not the null
    assert center.ResolveContactForEndpoint(endpoint_did="did:msgtunnel:9.user.tg") is None
    found = center.GroupGetDoc(group_did=GROUP, host_owner="did:bns:alice")
    assert found is not None and found.doc.name == "Family"
    assert encode_result(rpc.MSG_CENTER_GROUP_GET_DOC, found) == DOC
    assert center.GroupGetDoc(group_did="did:bns:nobody") is None


def test_null_results_over_krpc_and_grpc() -> None:
    with served(nullish_binding()) as server:
        with KrpcTransport(server.krpc_url) as krpc:
            _expect_values_and_nulls(rpc.MsgCenterStub(krpc))
            # on the kRPC wire the null is upstream's bare null, the values bare values
            call = krpc.call_json
            assert call("msg-center", "msg.get_message", {"msg_id": "cymsg:unknown"}) is None
            assert call("msg-center", "get_message", {"msg_id": "cymsg:empty"}) == {}
            owner = call(
                "msg-center",
                "contact.resolve_contact_for_endpoint",
                {"endpoint_did": "did:msgtunnel:9.user.tg"},
            )
            assert owner is None
            assert call("msg-center", "group.get_doc", {"group_did": "did:bns:x"}) is None
            assert call("msg-center", "group.get_doc", {"group_did": GROUP}) == DOC
        # over gRPC the message travels as protobuf: the unset field is the null, and ""
        # or {} (a field present with an empty value) stay values
        with GrpcTransport(server.grpc_target) as grpc:
            _expect_values_and_nulls(rpc.MsgCenterStub(grpc))

            async def main() -> None:
                center = rpc.AsyncMsgCenterStub(grpc)
                assert await center.GetMessage(msg_id="cymsg:unknown") is None
                assert await center.GroupGetDoc(group_did="did:bns:x") is None
                again = await center.ResolveContactForEndpoint(
                    endpoint_did="did:msgtunnel:1.user.tg"
                )
                assert again == mc.MaybeDid(did="did:bns:bob")

            asyncio.run(main())


def test_docs_null_snippet(capsys: pytest.CaptureFixture[str]) -> None:
    """The page's GroupGetDoc snippet (under "## msg-center"), over a real kRPC server."""
    code = _page_example("msg-center")
    with served(nullish_binding()) as server, KrpcTransport(server.krpc_url) as krpc:
        scope = {"center": rpc.MsgCenterStub(krpc), "mc": mc}
        exec(compile(code, str(PAGE), "exec"), scope)
    assert capsys.readouterr().out.splitlines() == [
        "did:bns:family -> Family JOIN_POLICY_REQUEST_AND_ADMIN_APPROVE",
        "did:bns:nobody -> no such group",
    ]


def test_null_results_in_memory() -> None:
    """LoopbackTransport (runtime.testing) takes a servicer's None as the null too."""
    with LoopbackTransport(NullishMsgCenter()) as loop:
        _expect_values_and_nulls(rpc.MsgCenterStub(loop))
        assert loop.last_result is None  # the last call answered upstream's null


def test_a_hand_built_unwrap_or_null_verb_is_checked() -> None:
    """MethodDescriptor.build refuses UNWRAP_OR_NULL on a result that cannot tell null
    from a value (codegen says the same with the contract's file and line)."""
    common: dict[str, Any] = {
        "api": "msg-center",
        "service": "x.Y",
        "name": "Get",
        "krpc": "get",
        "request_type": mc.GetMessageRequest,
        "result_shape": JsonShape.UNWRAP_OR_NULL,
    }
    assert MethodDescriptor.build(**common, response_type=mc.MaybeDid).result_shape.name == (
        "UNWRAP_OR_NULL"
    )
    with pytest.raises(ContractError, match=r"msg_center\.Did\.did does not \(declare it"):
        MethodDescriptor.build(**common, response_type=mc.Did)
    with pytest.raises(ContractError, match=r"exactly one field; buckyos\.msg_center\.Contact"):
        MethodDescriptor.build(**common, response_type=mc.Contact)
    with pytest.raises(ContractError, match=r"DidList\.dids does not"):
        MethodDescriptor.build(**common, response_type=mc.DidList)


def test_what_the_group_types_cannot_say() -> None:
    """split_hint (`Option<Vec<..>>`) is typed: upstream's `[]` reads as absent; a
    snapshot's cycle_paths (`Vec<Vec<DID>>`) is a ListValue per cycle."""
    codec = codec_for(mc.GroupAttributionPolicy)
    policy = {
        "attribution_mode": "public_members",
        "split_hint": [],
        "public_attribution": "private",
    }
    assert codec.to_json(codec.from_json(policy)) == {
        "attribution_mode": "public_members",
        "public_attribution": "private",
    }
    snapshot = result_round_trip(rpc.MSG_CENTER_GROUP_EXPAND_MEMBERS, SNAPSHOT)
    assert isinstance(snapshot.cycle_paths[0], struct_pb2.ListValue)
    assert list(snapshot.cycle_paths[0]) == [GROUP, "did:bns:cousins", GROUP]
