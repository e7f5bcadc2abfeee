"""The kevent task-manager publishes after each committed mutation (upstream
``publish_outcome``, upstream-services.md 2.4.7).

Ids: ``/task_mgr/<task_id>`` always, plus ``/task_mgr/tree/<root_id>`` when the task is not
its tree's root.  ``data`` has every key (``null`` when empty): ``event_id`` (``""`` for a
replay), ``task_id``, ``root_id``, ``revision``, ``event_type``, ``actor``, ``phase``,
``outcome``, ``wait_reason`` (the kind only), ``pending_control`` (the action only),
``created_at``.

Publishing is best effort: a failure is logged and the RPC still succeeds.  A
:data:`Publisher` is a callable ``(eventid, data, audience)``; ``audience`` is
``{"users": [...], "apps": [...]}``, who the reference kevent may deliver the event to
(the task's creator user, its root's creator user, the runner app, the assignees, the
subjects of the grants on its chain).  :func:`kevent_publisher` adapts the kevent HTTP
client; :class:`QueuedPublisher` keeps the network off the RPC path (a bounded queue
drained by one thread, oldest dropped when full).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any, Final

from buckyos.generated import task_manager_pb2 as tm
from buckyos.runtime.client import KEventClient
from buckyos.runtime.program import KEventPublishQueue

from .store import Outcome, enum_text

__all__ = [
    "Audience",
    "Publisher",
    "QueuedPublisher",
    "actor_json",
    "audience_of",
    "event_ids",
    "grant_subject_json",
    "kevent_data",
    "kevent_publisher",
    "publish_outcome",
]

_log = logging.getLogger("buckyos.services.task_manager.events")

Audience = dict[str, list[str]]
Publisher = Callable[[str, dict[str, Any], Audience], None]

QUEUE_SIZE: Final = 4096
MAX_AUDIENCE: Final = 256
"""kevent takes at most this many names per audience list."""


def actor_json(actor: tm.ActorRef) -> dict[str, Any]:
    out: dict[str, Any] = {"user_id": actor.user_id, "app_id": actor.app_id}
    if actor.HasField("app_instance_id"):
        out["app_instance_id"] = actor.app_instance_id
    return out


def grant_subject_json(subject: tm.TaskGrantSubject) -> dict[str, Any]:
    """A grant subject as upstream writes it (``{"kind": "User", "user_id": ...}``)."""
    which = subject.WhichOneof("subject")
    if which == "user":
        return {"kind": "User", "user_id": subject.user.user_id}
    if which == "app":
        return {"kind": "App", "app_id": subject.app.app_id}
    if which == "principal":
        return {
            "kind": "Principal",
            "user_id": subject.principal.user_id,
            "app_id": subject.principal.app_id,
        }
    if which == "system_role":
        return {"kind": "SystemRole", "role": subject.system_role.role}
    kind = {
        "root_creator": "RootCreator",
        "creator": "Creator",
        "runner": "Runner",
        "assignees": "Assignees",
    }.get(which or "", "")
    return {"kind": kind}


def event_ids(task_id: str, root_id: str) -> list[str]:
    """Where a task's event goes."""
    ids = [f"/task_mgr/{task_id}"]
    if root_id != task_id:
        ids.append(f"/task_mgr/tree/{root_id}")
    return ids


def kevent_data(outcome: Outcome) -> dict[str, Any]:
    """The event's ``data`` (2.4.7)."""
    task, event = outcome.task, outcome.event
    return {
        "event_id": event.event_id,
        "task_id": event.task_id,
        "root_id": event.root_id,
        "revision": event.task_revision,
        "event_type": enum_text(tm.TaskEventType, event.event_type),
        "actor": actor_json(event.actor) if event.HasField("actor") else None,
        "phase": enum_text(tm.TaskPhase, task.phase),
        "outcome": enum_text(tm.TaskOutcome, task.outcome) if task.HasField("outcome") else None,
        "wait_reason": (
            enum_text(tm.TaskWaitReasonKind, task.wait_reason.kind)
            if task.HasField("wait_reason")
            else None
        ),
        "pending_control": (
            enum_text(tm.TaskControlAction, task.pending_control.action)
            if task.HasField("pending_control")
            else None
        ),
        "created_at": event.created_at,
    }


def publish_outcome(publish: Publisher | None, outcome: Outcome, audience: Audience) -> None:
    """Publish one outcome to its ids; never raises (a failure is logged)."""
    if publish is None:
        return
    data = kevent_data(outcome)
    for eventid in event_ids(outcome.event.task_id, outcome.event.root_id):
        try:
            publish(eventid, data, audience)
        except Exception as exc:
            _log.warning("task_mgr.publish event failed: path=%s err=%s", eventid, exc)


def audience_of(tasks: Iterable[tm.Task], grants: Iterable[tm.TaskAclGrant]) -> Audience:
    """Users and apps that own or were granted ``tasks`` (the task and its root)."""
    users: set[str] = set()
    apps: set[str] = set()
    for task in tasks:
        users.add(task.creator.user_id)
        if task.executor.WhichOneof("executor") == "app":
            apps.add(task.executor.app.app_id)
        users.update(task.assignees)
    for grant in grants:
        subject = _subject_principals(grant.subject)
        users.update(subject[0])
        apps.update(subject[1])
    return {
        "users": sorted(u for u in users if u)[:MAX_AUDIENCE],
        "apps": sorted(a for a in apps if a)[:MAX_AUDIENCE],
    }


def _subject_principals(subject: tm.TaskGrantSubject) -> tuple[list[str], list[str]]:
    which = subject.WhichOneof("subject")
    if which == "user":
        return [subject.user.user_id], []
    if which == "app":
        return [], [subject.app.app_id]
    if which == "principal":
        # the user: naming the app too would reach every user of that app
        return [subject.principal.user_id], []
    return [], []


def kevent_publisher(client: KEventClient) -> Publisher:
    """A :data:`Publisher` over a :class:`~buckyos.runtime.client.KEventClient`."""

    def publish(eventid: str, data: dict[str, Any], audience: Audience) -> None:
        client.publish(eventid, data, audience=audience)

    return publish


class QueuedPublisher(KEventPublishQueue):
    """A :data:`Publisher` that keeps the network off the RPC path: the runtime's
    :class:`~buckyos.runtime.program.KEventPublishQueue` (one thread, in order, at most
    ``size`` waiting, the oldest dropped), called as a :data:`Publisher`."""

    def __init__(self, publish: Publisher, *, size: int = QUEUE_SIZE) -> None:
        super().__init__(publish, queue_size=size, name="task-manager-kevent")

    def __call__(self, eventid: str, data: dict[str, Any], audience: Audience) -> None:
        self.put(eventid, data, audience)
