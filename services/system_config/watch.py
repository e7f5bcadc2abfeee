"""``sys_config_watch``: the changes under a key, pushed to the caller's link (our extension).

Upstream's system_config has only a TODO for a watch.  Here a verb called over a streaming
link (WebSocket ``/kapi/link`` or the gRPC link) subscribes that connection to an event of
its own, ``system_config/watch/<n>``, and every committed change under the watched key
comes as one event::

    {"key": "users/alice/notes", "revision": 7, "op": "set", "value": "..."}
    {"key": "users/alice/notes", "revision": 8, "op": "delete", "value": null}

The value is included: a subscriber may read it anyway (the same check as
``sys_config_get``), and a value fetched afterwards could already be a later one, which
would break the one-event-per-revision order.

Where changes come from: :meth:`~.store.Store.on_commit`, which SQLite calls after each
commit (under its lock, so in commit order) and the etcd store from its watch (every
node's writes, in etcd's revision order).  The listener only queues the batch; one
thread filters and pushes, so writers never wait for subscribers, and a slow reader is
the link's business (its bounded queue closes it, see ``docs/events.md``).

Each change is checked, for each subscriber, with that subscriber's token as
``sys_config_get`` would check it: the token verified again (trusted key, expiry,
revocation: cached by the verifier) and RBAC ``read`` on ``obj://config/<key>``.  A token
that no longer verifies ends the watch: one last event ``{"end": "<why>"}``, nothing after
it.  So does a feed that fell behind (more than ``max_pending`` changes queued) or missed
changes (etcd compacted past the copy): the subscriber must re-read and watch again.

Each watch holds its event's slot until its link closes or ``sys_config_unwatch`` drops
it (only on the link that holds it), so slots are reused only once no connection can hear
them.
"""

from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from buckyos.runtime import Event, ReasonError, RPCError
from buckyos.runtime.security import RbacEnforcer, SessionToken
from buckyos.runtime.server import Request

from .keys import is_meta_key, resource_of
from .store import Change, Store

__all__ = ["DEFAULT_MAX_PENDING", "Watches"]

DEFAULT_MAX_PENDING: Final = 65_536
"""How many changes may wait for the push thread before every watch is ended."""

_log: Final = logging.getLogger("buckyos.services.system_config.watch")

_FELL_BEHIND: Final = (
    "the watch fell behind the writes ({} changes queued) and changes were dropped: "
    "re-read the keys and call sys_config_watch again"
)
_UNWATCHED: Final = "unwatched: sys_config_unwatch ended this watch"
_MISSED: Final = (
    "changes were missed (the etcd copy was listed again after a compaction): "
    "re-read the keys and call sys_config_watch again"
)


@dataclass(slots=True)
class _Watch:
    event: Event
    key: str
    token: str | None
    since: int
    """The last batch committed before it subscribed: only later ones are its."""
    ended: bool = False
    sent: int = field(default=0)


def _under(key: str, prefix: str) -> bool:
    return not prefix or key == prefix or key.startswith(prefix + "/")


class Watches:
    """The watches of one system_config: who follows which key, and the push thread.

    ``make_event(name)`` makes the binding's event ``system_config/<name>``; ``verify``
    checks a raw token as every verb's is checked (the binding's ``Authorizer.verify``);
    ``rbac`` is the service's enforcer.
    """

    def __init__(
        self,
        store: Store,
        *,
        make_event: Callable[[str], Event],
        verify: Callable[[str | None], SessionToken],
        rbac: RbacEnforcer,
        max_pending: int = DEFAULT_MAX_PENDING,
    ) -> None:
        if max_pending <= 0:
            raise ValueError(f"max_pending must be positive, not {max_pending}")
        self._make_event = make_event
        self._verify = verify
        self._rbac = rbac
        self.max_pending = max_pending
        self._lock = threading.Lock()  # the watches and their slots
        self._watches: dict[int, _Watch] = {}
        self._free: list[int] = []
        self._slots = 0
        self._cond = threading.Condition()  # the queue between writers and the thread
        # (batch number, its changes or why every watch ends)
        self._queue: collections.deque[tuple[int, Sequence[Change] | str]] = collections.deque()
        self._pending = 0
        self._seq = 0
        self._closed = False
        self._thread: threading.Thread | None = None
        self.dropped = 0
        """How many queued changes were dropped because the push thread fell behind."""
        store.on_commit(self._committed)

    def __repr__(self) -> str:
        return f"<Watches {len(self._watches)} queued={self._pending}>"

    @property
    def count(self) -> int:
        """How many watches are held (ended ones included, until their link closes)."""
        with self._lock:
            return len(self._watches)

    # -- subscribing

    def watch(self, req: Request, key: str) -> str:
        """Subscribe ``req``'s link to the changes under ``key`` (normalised; ``""``: all);
        the event's full name.  ``ReasonError`` when ``req`` came over no link."""
        with self._lock:
            slot = self._free.pop() if self._free else self._slots
            event = self._make_event(f"watch/{slot}")
            try:
                req.subscribe(event)
            except BaseException:
                if slot != self._slots:
                    self._free.append(slot)
                raise
            if slot == self._slots:
                self._slots += 1
            with self._cond:  # a commit after this one is the watch's
                self._watches[slot] = _Watch(event, key, req.caller.token, self._seq)
        self._start()
        return event.name

    def unwatch(self, req: Request, name: str) -> None:
        """End the watch ``name`` that ``req``'s link holds: its ``end`` event, then
        nothing more, and its slot is free.  ``ReasonError`` when ``req`` came over no
        link, or its link holds no such watch (another link's is not this caller's)."""
        with self._lock:  # the push thread too: no change can follow the end event
            # A scan: unwatching is rare, and the names are the events' own.
            slot, watch = next(
                ((n, w) for n, w in self._watches.items() if w.event.name == name), (-1, None)
            )
            # The end goes out before the reply, so a client reads every change of this
            # watch before it, and a later watch that gets the slot's name again starts
            # after it.  (An ended watch had its end already.)
            last = None if watch is None or watch.ended else {"end": _UNWATCHED}
            if watch is None or not req.unsubscribe(watch.event, last=last):
                raise ReasonError(
                    f"{name!r} is not a watch this link holds: unwatch the event that "
                    "sys_config_watch answered, on the link that called it"
                )
            watch.ended = True
            del self._watches[slot]
            self._free.append(slot)

    def _start(self) -> None:
        with self._cond:
            if self._thread is not None or self._closed:
                return
            self._thread = threading.Thread(
                target=self._run, name="system-config-watch", daemon=True
            )
            self._thread.start()

    def close(self, timeout: float = 5.0) -> None:
        """Stop the push thread (what is queued is dropped)."""
        with self._cond:
            self._closed = True
            self._queue.clear()
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    # -- the feed (store's thread: quick, never blocks)

    def _committed(self, changes: Sequence[Change] | None) -> None:
        with self._cond:
            if self._closed:
                return
            self._seq += 1
            if not self._watches:
                return  # nobody listens (read without the lock: a dict's len is atomic)
            item: Sequence[Change] | str = _MISSED if changes is None else changes
            size = 1 if changes is None else len(changes)
            if self._pending + size > self.max_pending:
                self.dropped += self._pending + size
                item = _FELL_BEHIND.format(self._pending + size)
                _log.warning("%s", item)
                self._queue.clear()
                self._pending = 0
                size = 1
            self._queue.append((self._seq, item))
            self._pending += size
            self._cond.notify()

    # -- the push thread

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                seq, item = self._queue.popleft()
                self._pending -= 1 if isinstance(item, str) else len(item)
            try:
                self._deliver(seq, item)
            except Exception:
                _log.exception("system_config watch: delivering changes failed")

    def _deliver(self, seq: int, item: Sequence[Change] | str) -> None:
        """Push batch ``seq`` (or end every watch older than it, with ``item`` as why)."""
        with self._lock:
            for slot, watch in list(self._watches.items()):
                if watch.event.subscribers == 0:
                    # Its link closed: nobody can hear this event any more, free the slot.
                    del self._watches[slot]
                    self._free.append(slot)
                    continue
                if watch.ended or seq <= watch.since:
                    continue
                if isinstance(item, str):
                    self._end(watch, item)
                else:
                    self._push(watch, item)

    def _push(self, watch: _Watch, changes: Sequence[Change]) -> None:
        mine = [c for c in changes if _under(c.key, watch.key) and not is_meta_key(c.key)]
        if not mine:
            return
        try:
            claims = self._verify(watch.token)
        except RPCError as exc:
            self._end(watch, f"{exc}; watch again with a valid token")
            return
        app = claims.app_id
        for change in mine:
            if not self._rbac.enforce(
                claims.sub,
                app,
                resource_of(change.key),
                "read",
                sudo=claims.sudo,
                trusted=claims.zone_trusted,
            ):
                continue
            data: dict[str, Any] = {
                "key": change.key,
                "revision": change.revision,
                "op": "delete" if change.value is None else "set",
                "value": change.value,
            }
            watch.event.push(data)
            watch.sent += 1

    def _end(self, watch: _Watch, why: str) -> None:
        watch.ended = True
        watch.event.push({"end": why})
