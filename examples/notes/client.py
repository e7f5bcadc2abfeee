"""Callers of the notes example (``docs/server-authors.md``): keys, tokens, and the generated
stubs over kRPC (sync) and gRPC (asyncio).

Regions between ``--8<-- [start:NAME]`` and ``--8<-- [end:NAME]`` are quoted by the page
and checked against it by ``tests/test_example_notes.py``.
"""

from __future__ import annotations

# --8<-- [start:client-imports]
import json
import time
from pathlib import Path

from buckyos.runtime import RPCError
from buckyos.runtime.client import GrpcTransport, KrpcTransport
from buckyos.runtime.security import (
    Ed25519PrivateKey,
    generate_key_pair,
    public_key_to_jwk,
    sign_token,
)
from examples.notes.generated import notes_pb2 as pb
from examples.notes.generated.notes_rpc import AsyncNotesStub, NotesStub

# --8<-- [end:client-imports]

# --8<-- [start:keys]


def write_owner_key(directory: Path) -> tuple[Ed25519PrivateKey, Path]:
    """A fresh zone owner key pair; the public half written as ``owner.jwk``."""
    private, public = generate_key_pair()
    path = directory / "owner.jwk"
    path.write_text(json.dumps(public_key_to_jwk(public)), encoding="utf-8")
    return private, path


def session_token(owner: Ed25519PrivateKey, user: str, app: str = "notes") -> str:
    """A session token for ``user`` of ``app``, valid ten minutes (no kid: the owner key)."""
    claims = {"sub": user, "appid": app, "exp": int(time.time()) + 600}
    return sign_token(claims, owner, kid=None)


# --8<-- [end:keys]

# --8<-- [start:krpc]


def krpc_session(base_url: str, token: str) -> list[object]:
    """Alice's session over kRPC/HTTP with the sync stub: what each call gave."""
    seen: list[object] = []
    with KrpcTransport(base_url, token=token) as transport:
        notes = NotesStub(transport)
        seen.append(notes.Put(user="alice", id="n1", text="buy milk"))
        seen.append(notes.Put(user="alice", id="n1", text="buy oat milk"))
        seen.append(notes.Get(user="alice", id="n1"))
        seen.append(notes.Get(user="alice", id="nothing-here"))  # null -> empty Note
        seen.append(notes.List())
        seen.append(notes.Hello())  # the same session: knows the last put
        try:
            notes.Put(user="bob", id="n1", text="not yours")
        except RPCError as exc:  # the same exception whatever the wire
            seen.append(exc)
    return seen


# --8<-- [end:krpc]

# --8<-- [start:grpc]


async def grpc_session(target: str, token: str | None) -> list[object]:
    """The same verbs over gRPC with the asyncio stub (``token=None``: anonymous)."""
    seen: list[object] = []
    async with GrpcTransport(target, token=token) as transport:
        notes = AsyncNotesStub(transport)
        seen.append(await notes.Hello())
        try:
            seen.append(await notes.Get(pb.NoteKey(user="alice", id="n1")))
        except RPCError as exc:
            seen.append(exc)
    return seen


# --8<-- [end:grpc]

__all__ = ["grpc_session", "krpc_session", "session_token", "write_owner_key"]
