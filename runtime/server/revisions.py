"""Reading one's own writes across the instances of an api whose store is shared.

When an api's instances on several nodes share one store (system_config on an etcd
cluster), each answers from its own copy of that store, fed by a watch.  The node that
took a write has it in its copy when it answers; another node gets it a moment later.  A
client that wrote through one node and then reads through another must not see the key
as it was before its own write.

So the wire carries a store revision both ways (``x-buckyos-revision``, see
:data:`~buckyos.runtime.wire.dispatch.REVISION_HEADER`): every answer of such an api says
the revision it reflects, the client remembers the highest it saw per api, and sends it
with its next calls to that api; an instance first waits until its copy has reached it.
An api opts in by giving :meth:`Binding.add_service` (``revisions=``) its store as a
:class:`StoreRevisions`.
"""

from __future__ import annotations

from typing import Final, Protocol, runtime_checkable

__all__ = ["REACH_TIMEOUT", "StoreRevisions"]

REACH_TIMEOUT: Final = 5.0
"""Seconds an instance waits for its copy to reach the revision a caller has seen; then
it answers ``ServiceNotValidError`` (its copy is stuck: the client tries another node)."""


@runtime_checkable
class StoreRevisions(Protocol):
    """What a binding needs from a shared store to let callers read their own writes."""

    def copy_revision(self) -> int:
        """The store revision answers reflect now (called after every call: cheap)."""
        ...

    def reach(self, revision: int, timeout: float) -> None:
        """Block until answers reflect at least ``revision``.  Raise ``RPCError``:
        ``ServiceNotValidError`` when the copy does not get there within ``timeout``, a
        ``ReasonError`` when ``revision`` is one the store has not made (a revision of
        another store, or made up)."""
        ...
