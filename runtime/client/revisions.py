"""The client's half of reading one's own writes across nodes: the store revision each
api's answers carried, sent back with the next calls to that api.

An api whose instances share one store (system_config on etcd, in a zone of several
nodes) says on every answer which store revision it reflects (``x-buckyos-revision``,
:data:`~buckyos.runtime.wire.dispatch.REVISION_HEADER`).  A :class:`SeenRevisions` keeps
the highest one per api; the kRPC and gRPC transports send it with every call to that api,
and the instance that gets the call answers once its copy of the store has reached it
(:mod:`~buckyos.runtime.server.revisions`).  So a write through one node followed by a read
through another sees the write.  Apis that answer no revision (every upstream service,
SQLite-backed ones) are never sent one.

A :class:`~buckyos.runtime.client.routing.Router` keeps one, shared by its ``with_token``
copies and every endpoint it calls.  When an instance refuses the revision sent as one its
store never made (the zone was made anew while this client ran, or it is another zone's),
the Router forgets that api's revision and sends the call, which did not run, once more
without it (:meth:`SeenRevisions.refused`), instead of failing every later call.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Final

from buckyos.runtime.errors import ReasonError
from buckyos.runtime.wire.dispatch import REVISION_HEADER, parse_revision

__all__ = ["SeenRevisions"]

_log: Final = logging.getLogger("buckyos.runtime.client.revisions")

_NOT_MADE: Final = re.compile(
    rf"{re.escape(REVISION_HEADER)}: revision \d+ is ahead of .+: it was not made by this store"
)
"""What an instance answers (as a ``ReasonError``) to a revision its store never made."""


class SeenRevisions:
    """The highest store revision seen per api; thread-safe."""

    __slots__ = ("_lock", "_seen")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[str, int] = {}

    def __repr__(self) -> str:
        return f"<SeenRevisions {self._seen}>"

    def get(self, api: str) -> int:
        """The revision to ask ``api`` for (0: none seen)."""
        return self._seen.get(api, 0)

    def saw(self, api: str, revision: int) -> None:
        """An answer of ``api`` reflected ``revision``; only ever raises what is kept."""
        if revision > self._seen.get(api, 0):
            with self._lock:
                if revision > self._seen.get(api, 0):
                    self._seen[api] = revision

    def saw_header(self, api: str, value: str | None) -> None:
        """:meth:`saw` with an answer's raw ``x-buckyos-revision`` (``None``: absent); a
        value that is not a revision is ignored (and logged): it asks nothing of us."""
        if value is None:
            return
        try:
            revision = parse_revision(value)
        except ValueError as exc:
            _log.debug("%s answered a bad revision: %s", api, exc)
            return
        self.saw(api, revision)

    def refused(self, api: str, error: BaseException) -> bool:
        """Whether ``error`` refuses the revision sent to ``api`` as one its store never
        made (``x-buckyos-revision: revision N is ahead of ...: it was not made by this
        store``).  Then that revision is forgotten and the answer is ``True``: the call did
        not run, and may be sent again, once, without it."""
        if (
            type(error) is not ReasonError
            or not self._seen.get(api)
            or _NOT_MADE.fullmatch(error.detail) is None
        ):
            return False
        _log.warning(
            "%s: %s; forgetting the revision kept for it (a zone made anew?) and sending "
            "the call again without it",
            api,
            error.detail,
        )
        self.forget(api)
        return True

    def forget(self, api: str | None = None) -> None:
        """Stop asking ``api`` (every api: ``None``) for a revision; for a client that knows
        the store was replaced (a new zone)."""
        with self._lock:
            if api is None:
                self._seen.clear()
            else:
                self._seen.pop(api, None)
