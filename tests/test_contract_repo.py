"""The repo-service contract (proto/buckyos/repo_service.proto) against upstream's wire
(upstream-services.md section 8, repo_client.rs, ndn-lib's ActionObject): every verb's
params and result written out literally, decoded into our messages and encoded back to the
same JSON; upstream's error texts; a small servicer called through the generated stub over
real kRPC and gRPC servers; the example of docs/services-repo-scheduler-workflow.md."""

from __future__ import annotations

import re
import threading
import urllib.error
import urllib.request
from typing import Any

import pytest
from google.protobuf import descriptor_pb2, empty_pb2, struct_pb2

from buckyos.generated import repo_service_pb2 as pb, repo_service_rpc as rpc
from buckyos.runtime.client.grpc_client import GrpcTransport
from buckyos.runtime.client.krpc_client import KrpcTransport
from buckyos.runtime.errors import ReasonError, UnknownMethodError
from buckyos.runtime.security import RbacEnforcer, TokenVerifier, TrustKeyStore
from buckyos.runtime.server import Binding, Request
from buckyos.runtime.testing import LoopbackTransport
from buckyos.runtime.wire.jsonmap import decode_params
from tests.contract_json import (
    page_example,
    params_refused,
    params_round_trip,
    result_refused,
    result_round_trip,
    served,
)

PAGE = "services-repo-scheduler-workflow.md"
NO_SIDE_EFFECTS = descriptor_pb2.MethodOptions.NO_SIDE_EFFECTS

CONTENT = "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
# ActionObjects as ndn-lib writes them: `base_on` and `details` left out when None.
DOWNLOAD: dict[str, Any] = {
    "subject": "actor:did:bns:bob",
    "action": "download",
    "target": CONTENT,
    "details": {
        "requester_did": "did:bns:bob",
        "requester_device_id": None,
        "served_by": "repo-service",
    },
    "iat": 1760000000,
    "exp": 1762592000,
}
SHARED: dict[str, Any] = {
    "subject": "actor:did:bns:carol",
    "action": "shared",
    "target": CONTENT,
    "base_on": "cyact:5e1f0c",
    "iat": 1760000000,
    "exp": 1762592000,
}
# ndn-lib's InclusionProof (opaque here): `meta` is an Option without skip (null).
INCLUSION: dict[str, Any] = {
    "content_id": CONTENT,
    "content_obj": {"name": "photo.jpg", "size": 5},
    "curator": "did:bns:curator",
    "editor": ["did:bns:ed"],
    "meta": None,
    "rank": 80,
    "collection": ["photos"],
    "iat": 1760000000,
    "exp": 1762592000,
}
RECORD: dict[str, Any] = {
    "content_id": CONTENT,
    "content_name": "photo.jpg",
    "status": "pinned",
    "origin": "local",
    "meta": {"content_id": CONTENT, "name": "photo.jpg", "size": 5},
    "owner_did": "did:bns:alice",
    "author": "alice",
    "access_policy": "free",
    "content_size": 5,
    "collected_at": 1760000000,
    "pinned_at": 1760000100,
    "updated_at": 1760000100,
}


# --- the verb table ----------------------------------------------------------------------


def test_verb_table() -> None:
    service = rpc.REPO_SERVICE
    assert service.api == "repo-service"
    assert service.port == 4000
    assert sorted(service.by_krpc) == sorted(
        [
            "store",
            "collect",
            "pin",
            "unpin",
            "uncollect",
            "add_proof",
            "get_proofs",
            "resolve",
            "list",
            "stat",
            "serve",
            "announce",
        ]
    )
    # No token checks upstream: every verb is `yes`.
    assert {m.auth_text for m in service.methods} == {"yes"}
    # Every write is an upsert upstream: a retry is safe but for uncollect (the second
    # one finds nothing) and serve (each records a new download proof).
    retried = {m.krpc for m in service.methods if m.idempotent}
    assert retried == set(service.by_krpc) - {"uncollect", "serve"}
    methods = pb.DESCRIPTOR.services_by_name["RepoService"].methods
    reads = {m.name for m in methods if m.GetOptions().idempotency_level == NO_SIDE_EFFECTS}
    assert reads == {"GetProofs", "Resolve", "List", "Stat"}
    shapes = {m.krpc: m.result_shape.name for m in service.methods}
    assert shapes == {
        "store": "UNWRAP",
        "collect": "UNWRAP",
        "pin": "TRUE",
        "unpin": "TRUE",
        "uncollect": "TRUE",
        "add_proof": "UNWRAP",
        "get_proofs": "UNWRAP",
        "resolve": "UNWRAP",
        "list": "UNWRAP",
        "stat": "OBJECT",
        "serve": "OBJECT",
        "announce": "TRUE",
    }
    assert rpc.REPO_SERVICE_PIN.required == ("content_id", "download_proof")


def test_the_repo_alias_is_reached_by_its_endpoint_url() -> None:
    # Upstream serves the same handler at /kapi/repo: the api's alias; a client sends to
    # the api's name unless its endpoint URL names the alias path.
    assert rpc.REPO_SERVICE.aliases == ("repo",)
    assert rpc.REPO_SERVICE.spec()["aliases"] == ["repo"]
    with KrpcTransport("http://127.0.0.1:4000/kapi/repo") as transport:
        assert transport.path_for(rpc.REPO_SERVICE_STORE) == "/kapi/repo"
    with KrpcTransport("http://127.0.0.1:4000") as transport:
        assert transport.path_for(rpc.REPO_SERVICE_STORE) == "/kapi/repo-service"


# --- every verb, both directions --------------------------------------------------------


def test_store() -> None:
    request = params_round_trip(rpc.REPO_SERVICE_STORE, {"content_id": CONTENT})
    assert request.content_id == CONTENT
    # A bare ObjId string.
    assert result_round_trip(rpc.REPO_SERVICE_STORE, CONTENT).obj_id == CONTENT
    assert params_refused(rpc.REPO_SERVICE_STORE, {}) == "Parse Request Error: Missing content_id"


def test_collect_with_json_meta_and_a_referral_proof() -> None:
    params = {
        "content_meta": {"content_id": CONTENT, "name": "photo.jpg", "author": "alice"},
        "referral_proof": SHARED,
    }
    request = params_round_trip(rpc.REPO_SERVICE_COLLECT, params)
    assert request.referral_proof.base_on == "cyact:5e1f0c"
    assert not request.referral_proof.HasField("details")
    assert request.content_meta.struct_value["name"] == "photo.jpg"
    assert result_round_trip(rpc.REPO_SERVICE_COLLECT, CONTENT).content_id == CONTENT


def test_collect_with_jwt_meta_and_no_proof() -> None:
    jwt = "eyJhbGciOiJFZERTQSJ9.eyJjb250ZW50X2lkIjoic2hhMjU2OjJjZiJ9.c2ln"
    request = params_round_trip(rpc.REPO_SERVICE_COLLECT, {"content_meta": jwt})
    assert request.content_meta.string_value == jwt
    assert not request.HasField("referral_proof")


def test_pin() -> None:
    params = {"content_id": CONTENT, "download_proof": DOWNLOAD}
    request = params_round_trip(rpc.REPO_SERVICE_PIN, params)
    assert request.download_proof.details.struct_value["served_by"] == "repo-service"
    assert result_round_trip(rpc.REPO_SERVICE_PIN, True) == empty_pb2.Empty()
    assert result_refused(rpc.REPO_SERVICE_PIN, False) == (
        "Parse Response Error: expected true, got false"
    )
    assert params_refused(rpc.REPO_SERVICE_PIN, {"content_id": CONTENT, "download_proof": {
        "subject": "a", "action": "download", "target": CONTENT, "iat": 1}}) == (
        "Parse Request Error: Missing download_proof.exp"
    )  # fmt: skip


@pytest.mark.parametrize("method", [rpc.REPO_SERVICE_UNPIN, rpc.REPO_SERVICE_UNCOLLECT])
def test_unpin_and_uncollect(method: Any) -> None:
    # Upstream's client always writes `force`; the server takes its absence as false.
    assert params_round_trip(method, {"content_id": CONTENT, "force": False}).force is False
    assert params_round_trip(method, {"content_id": CONTENT, "force": True}).force is True
    bare = params_round_trip(method, {"content_id": CONTENT})
    assert not bare.HasField("force")
    result_round_trip(method, True)


def test_add_proof_action_and_collection() -> None:
    method = rpc.REPO_SERVICE_ADD_PROOF
    action = params_round_trip(method, {"proof": {"kind": "Action", "value": DOWNLOAD}})
    assert action.proof.WhichOneof("proof") == "action"
    collection = params_round_trip(method, {"proof": {"kind": "Collection", "value": INCLUSION}})
    assert collection.proof.collection["curator"] == "did:bns:curator"
    assert result_round_trip(method, "cyact:9f86d0").proof_id == "cyact:9f86d0"
    assert params_refused(method, {"proof": {"kind": "Receipt", "value": {}}}) == (
        "Parse Request Error: field `proof`: unknown variant `Receipt`, expected one of "
        "`Action`, `Collection`"
    )


def test_get_proofs() -> None:
    method = rpc.REPO_SERVICE_GET_PROOFS
    params = {
        "content_id": CONTENT,
        "filter": {
            "proof_type": "download_proof",
            "from_did": "did:bns:bob",
            "start_ts": 1760000000,
        },
    }
    request = params_round_trip(method, params)
    assert request.filter.start_ts == 1760000000 and not request.filter.HasField("end_ts")
    assert not params_round_trip(method, {"content_id": CONTENT}).HasField("filter")
    proofs = [
        {"kind": "Action", "value": DOWNLOAD},
        {"kind": "Action", "value": SHARED},
        {"kind": "Collection", "value": INCLUSION},
    ]
    listed = result_round_trip(method, proofs)
    assert [p.WhichOneof("proof") for p in listed.proofs] == ["action", "action", "collection"]
    assert result_round_trip(method, []) == pb.ProofList()


def test_resolve() -> None:
    method = rpc.REPO_SERVICE_RESOLVE
    assert params_round_trip(method, {"content_name": "photo.jpg"}).content_name == "photo.jpg"
    other = "sha256:486ea46224d1bb4fb680f34f7c9ad96a8f24ec88be73ea8e5a6c65260e9cb8a7"
    assert list(result_round_trip(method, [CONTENT, other]).obj_ids) == [CONTENT, other]


def test_list() -> None:
    method = rpc.REPO_SERVICE_LIST
    request = params_round_trip(method, {"filter": {"status": "pinned", "origin": "local"}})
    assert request.filter.status == "pinned" and not request.filter.HasField("owner_did")
    assert not params_round_trip(method, {}).HasField("filter")
    # A remote, collected record: the unset Options are left out, `meta` always written.
    collected = {
        "content_id": CONTENT,
        "status": "collected",
        "origin": "remote",
        "meta": {"content": CONTENT},
        "access_policy": "paid",
        "price": "10 USDB",
        "collected_at": 1760000000,
        "updated_at": 1760000000,
    }
    records = result_round_trip(method, [RECORD, collected]).records
    assert records[0].pinned_at == 1760000100
    assert not records[1].HasField("content_name") and not records[1].HasField("pinned_at")


def test_stat() -> None:
    # RepoStatReq is an empty struct: {}.
    assert params_round_trip(rpc.REPO_SERVICE_STAT, {}) == pb.StatRequest()
    stat = {
        "total_objects": 3,
        "collected_objects": 1,
        "pinned_objects": 2,
        "local_objects": 1,
        "remote_objects": 2,
        "total_content_bytes": 1048576,
        "total_proofs": 4,
    }
    assert result_round_trip(rpc.REPO_SERVICE_STAT, stat).total_content_bytes == 1048576


def test_serve_accepted_and_rejected() -> None:
    method = rpc.REPO_SERVICE_SERVE
    params = {
        "content_id": CONTENT,
        "request_context": {
            "requester_did": "did:bns:bob",
            "requester_device_id": "ood1",
            "receipt": {
                "receipt_id": "r-1",
                "content_name": "photo.jpg",
                "buyer_did": "did:bns:bob",
                "seller_did": "did:bns:alice",
                "signature": "c2ln",
            },
            "extra": {"via": "share-link"},
        },
    }
    request = params_round_trip(method, params)
    assert request.request_context.receipt.struct_value["receipt_id"] == "r-1"
    # RepoServeRequestContext is all optional: `{}` is a context.
    assert params_round_trip(method, {"content_id": CONTENT, "request_context": {}})
    # serde requires request_context; the contract marks it required, which the stubs
    # check before sending (decoding takes a missing message field as unset).
    stub = rpc.RepoServiceStub(LoopbackTransport(rpc.RepoServiceServicer()))
    with pytest.raises(TypeError, match=re.escape("Serve() needs request_context=...")):
        stub.Serve(content_id=CONTENT)
    accepted = {
        "status": "ok",
        "content_ref": {"content_id": CONTENT, "metadata": RECORD["meta"]},
        "download_proof": DOWNLOAD,
    }
    result = result_round_trip(method, accepted)
    assert result.content_ref.content_id == CONTENT and not result.HasField("reject_code")
    rejected = {
        "status": "reject",
        "reject_code": "not_found",
        "reject_reason": "content not found or not pinned",
    }
    result = result_round_trip(method, rejected)
    assert result.reject_code == "not_found" and not result.HasField("download_proof")
    result_round_trip(method, {"status": "reject", "reject_code": "no_receipt",
                               "reject_reason": "receipt is required for paid content"})  # fmt: skip


def test_announce() -> None:
    params_round_trip(rpc.REPO_SERVICE_ANNOUNCE, {"content_id": CONTENT})
    result_round_trip(rpc.REPO_SERVICE_ANNOUNCE, True)


def test_action_object_refusals() -> None:
    bad = {**DOWNLOAD, "iat": "1760000000"}
    assert params_refused(rpc.REPO_SERVICE_PIN, {"content_id": CONTENT, "download_proof": bad}) == (
        "Parse Request Error: field `download_proof.iat`: expected unsigned integer, got string"
    )
    # `details` is any JSON; `null` means none.
    request = decode_params(
        rpc.REPO_SERVICE_PIN,
        {"content_id": CONTENT, "download_proof": {**DOWNLOAD, "details": None}},
    )
    assert not request.download_proof.HasField("details")


# --- errors ------------------------------------------------------------------------------

ERROR_TEXTS = [
    f"content {CONTENT} not collected",
    f"content {CONTENT} not found",
    f"content {CONTENT} was stored locally; force=true required to unpin",
    f"content {CONTENT} was stored locally; force=true required to uncollect",
    f"content {CONTENT} is not local; only locally stored content can be announced",
    f"content {CONTENT} has no content_name; cannot announce",
    "invalid obj id `photo.jpg`: invalid obj id format",
    "paid content receipt must include buyer_did",
]


class Refusing(rpc.RepoServiceServicer):
    """Every verb refuses with the text its request names (in content_id)."""

    def Store(self, request: pb.ContentIdRequest, req: Request) -> pb.ObjIdResult:
        raise ReasonError(request.content_id)


@pytest.mark.parametrize("detail", ERROR_TEXTS)
def test_error_texts_reach_the_client_as_upstreams(detail: str) -> None:
    # Plain texts, no `code:` prefix: no coded classes; a ReasonError with the text.
    assert rpc.REPO_SERVICE_STORE.errors is None
    stub = rpc.RepoServiceStub(LoopbackTransport(Refusing()))
    with pytest.raises(ReasonError) as err:
        stub.Store(content_id=detail)
    assert type(err.value) is ReasonError
    assert err.value.text == f"Failed due to reason: {detail}"
    assert err.value.detail == detail


# --- a servicer over real kRPC and gRPC servers ------------------------------------------


class MiniRepo(rpc.RepoServiceServicer):
    """collect, pin and list, in memory, with upstream's rules for them."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.records: dict[str, pb.RepoRecord] = {}

    def Collect(self, request: pb.CollectRequest, req: Request) -> pb.ContentIdResult:
        meta = request.content_meta.struct_value.fields
        content_id = meta["content_id"].string_value if "content_id" in meta else ""
        if not content_id:
            raise ReasonError("content metadata must include content_id or content")
        record = pb.RepoRecord(
            content_id=content_id,
            status="collected",
            origin="remote",
            access_policy="free",
            collected_at=1760000000,
        )
        record.meta.CopyFrom(request.content_meta)
        if "name" in meta:
            record.content_name = meta["name"].string_value
        with self.lock:
            self.records.setdefault(content_id, record)
        return pb.ContentIdResult(content_id=content_id)

    def Pin(self, request: pb.PinRequest, req: Request) -> empty_pb2.Empty:
        with self.lock:
            record = self.records.get(request.content_id)
            if record is None:
                raise ReasonError(f"content {request.content_id} not collected")
            if request.download_proof.action != "download":
                raise ReasonError(
                    f"expected action `download`, got `{request.download_proof.action}`"
                )
            record.status = "pinned"
            record.pinned_at = request.download_proof.iat
        return empty_pb2.Empty()

    def List(self, request: pb.ListRequest, req: Request) -> pb.RecordList:
        wanted = request.filter.status if request.filter.HasField("status") else None
        with self.lock:
            found = [r for r in self.records.values() if wanted in (None, r.status)]
        return pb.RecordList(records=found)


def repo_binding() -> Binding:
    binding = Binding(
        "repo", verifier=TokenVerifier(TrustKeyStore()), rbac=RbacEnforcer(), timeout=5.0
    )
    binding.add_service(MiniRepo())
    return binding


def test_end_to_end_over_krpc_and_grpc() -> None:
    proof = pb.ActionObject(
        subject="actor:did:bns:bob", action="download", target=CONTENT, iat=1760000100, exp=1
    )
    with served(repo_binding()) as server:
        with KrpcTransport(server.krpc_url) as krpc:
            repo = rpc.RepoServiceStub(krpc)
            meta = {"content_id": CONTENT, "name": "photo.jpg"}
            collected = repo.Collect(content_meta=_value(meta))
            assert collected.content_id == CONTENT
            repo.Pin(content_id=CONTENT, download_proof=proof)  # `true` on the wire
            with pytest.raises(ReasonError) as err:
                repo.Pin(content_id="sha256:00", download_proof=proof)
            assert err.value.text == "Failed due to reason: content sha256:00 not collected"
            with pytest.raises(UnknownMethodError) as unknown:
                repo.Stat()
            assert unknown.value.text == "Unknown method: stat"
        # The alias path reaches the same api (and the same state).
        with KrpcTransport(f"{server.krpc_url}/kapi/repo") as alias:
            assert alias.path_for(rpc.REPO_SERVICE_STORE) == "/kapi/repo"
            via_alias = rpc.RepoServiceStub(alias).List(filter=pb.ListFilter(status="pinned"))
        with GrpcTransport(server.grpc_target) as grpc:
            listed = rpc.RepoServiceStub(grpc).List(filter=pb.ListFilter(status="pinned"))
        assert via_alias == listed
        # Any other path is not an api.
        request = urllib.request.Request(
            f"{server.krpc_url}/kapi/repos",
            data=b'{"method": "list", "params": {}, "sys": [1]}',
            headers={"Content-Type": "application/json"},
        )
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(request, timeout=10)
        assert missing.value.code == 404
        assert [(r.content_id, r.content_name, r.pinned_at) for r in listed.records] == [
            (CONTENT, "photo.jpg", 1760000100)
        ]


def _value(data: dict[str, Any]) -> struct_pb2.Value:
    value = struct_pb2.Value()
    value.struct_value.update(data)
    return value


def test_docs_example(capsys: pytest.CaptureFixture[str]) -> None:
    code = page_example(PAGE, "repo-service: an example")
    with served(repo_binding()) as server:
        exec(compile(code, PAGE, "exec"), {"REPO_URL": f"{server.krpc_url}/kapi/repo-service"})
    assert capsys.readouterr().out.splitlines() == [
        f"collected {CONTENT}",
        f"pinned: {CONTENT} photo.jpg",
        "Failed due to reason: content sha256:00 not collected",
    ]
