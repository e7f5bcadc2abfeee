"""The notes service of ``docs/server-authors.md``: a servicer, its Binding, and the factory
``buckyos serve examples.notes.service:binding`` calls.

The page quotes the regions between ``--8<-- [start:NAME]`` and ``--8<-- [end:NAME]``
and ``tests/test_example_notes.py`` checks the quotes against this file, so edit here and
paste the region into the page (the test names any block that drifted).
"""

from __future__ import annotations

# --8<-- [start:service-imports]
import os
import threading
from pathlib import Path

from google.protobuf import empty_pb2

from buckyos.runtime import ConfigError
from buckyos.runtime.security import (
    PublicKeyLike,
    RbacEnforcer,
    TokenVerifier,
    TrustKeyStore,
    public_key_from_jwk,
)
from buckyos.runtime.server import Binding, Request
from examples.notes.generated import notes_pb2 as pb
from examples.notes.generated.notes_rpc import NotesServicer

# --8<-- [end:service-imports]

# --8<-- [start:servicer]


class Notes(NotesServicer):
    """Notes kept in memory, per user: the verbs of ``notes.proto``."""

    def __init__(self) -> None:
        # Sync handlers run in the binding's worker threads, async ones on the event
        # loop: the shared dict needs a lock.
        self._lock = threading.Lock()
        self._notes: dict[tuple[str, str], pb.Note] = {}

    async def Hello(self, request: empty_pb2.Empty, req: Request) -> pb.Greeting:
        # auth "yes": the caller may be anonymous; a valid token still identifies it.
        who = req.caller.user_id or "anonymous"
        last = req.context_get()  # what Put remembered in this session, else None
        req.logger.info("greeting %s", who)
        return pb.Greeting(text=f"hello, {who}", last_put=last)

    async def Put(self, request: pb.PutRequest, req: Request) -> pb.Note:
        # The binding already checked write on obj://notes/{user}/{id} for this caller.
        key = (request.user, request.id)
        with self._lock:
            old = self._notes.get(key)
            version = old.version + 1 if old is not None else 1
            note = pb.Note(user=request.user, id=request.id, text=request.text, version=version)
            self._notes[key] = note
        req.context_set(request.id)  # per session and api; dropped when the session closes
        req.logger.info("saved %s/%s version %d", request.user, request.id, version)
        return note

    def Get(self, request: pb.NoteKey, req: Request) -> pb.Note:
        with self._lock:
            note = self._notes.get((request.user, request.id))
        return pb.Note() if note is None else note  # result NULLABLE: empty goes as null

    def List(self, request: empty_pb2.Empty, req: Request) -> pb.NoteIds:
        user = req.caller.user_id  # auth "token": never anonymous here
        with self._lock:
            ids = sorted(note_id for owner, note_id in self._notes if owner == user)
        return pb.NoteIds(ids=ids)


# --8<-- [end:servicer]

# --8<-- [start:binding]
# Added to upstream's default RBAC policy. A call is allowed when the app may do it and,
# unless the app is "kernel", the user too: the "notes" app may touch any note, a user
# of the group "users" only the notes under obj://notes/<their own id>/.
POLICY = """\
p, notes, obj://notes/*, read|write, allow
p, users, obj://notes/{users}/*, read|write, allow
g, alice, users
g, bob, users
"""


def make_binding(owner_key: PublicKeyLike, *, policy: str = POLICY) -> Binding:
    """The notes api, trusting tokens signed by the zone owner key."""
    trust = TrustKeyStore()
    trust.set_owner_key(owner_key)  # kid "root" or "$default", or no kid at all
    binding = Binding("notes", verifier=TokenVerifier(trust), rbac=RbacEnforcer(tail=policy))
    binding.add_service(Notes())
    return binding


OWNER_KEY_ENV = "NOTES_OWNER_KEY"


def binding() -> Binding:
    """The factory ``buckyos serve examples.notes.service:binding`` calls: the owner's
    public key is read from the JWK file ``$NOTES_OWNER_KEY`` names."""
    path = os.environ.get(OWNER_KEY_ENV)
    if not path:
        raise ConfigError(f"set {OWNER_KEY_ENV} to the zone owner's public key file (a JWK)")
    return make_binding(public_key_from_jwk(Path(path).read_text(encoding="utf-8")))


# --8<-- [end:binding]

__all__ = ["OWNER_KEY_ENV", "POLICY", "Notes", "binding", "make_binding"]
