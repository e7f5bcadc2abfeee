"""Who may do what to a kmsg queue or subscription (upstream checks nothing of this).

The caller is the **verified** session token (:class:`Actor`): its user (``sub``) and app
(``appid``, else ``kernel``), and whether it is zone-trusted
(:attr:`~buckyos.runtime.security.SessionToken.zone_trusted`: signed by the zone owner's
or a zone device's key, or a verify-hub session of a device or a service).  A call
without a token that verifies is refused (``No permission:No session token``).

- **Params must be the token.** ``create_queue``'s ``appid``/``app_owner`` and
  ``subscribe``'s ``appid``/``userid`` must be the token's app and user; a queue name with
  ``::`` (taken verbatim as the URN) must start with the caller's own
  ``<appid>::<app_owner>::``.  A zone-trusted caller may name anyone (it creates queues and
  subscriptions *for* an app and user) and passes every check below.
- **A queue** belongs to the ``(appid, app_owner)`` it was created with.  A caller whose
  app is not the queue's needs ``other_app_can_read`` (``..._write``), one whose user is
  not the queue's owner needs ``other_user_can_read`` (``..._write``), and one who is
  neither needs both.  Read: get_queue_stats, read_message, subscribe, fetch_messages;
  write: post_message.  Manage (update_queue_config, delete_queue,
  delete_message_before): the owner (its app *and* user) only.
- **A subscription** belongs to the ``(userid, appid)`` it was opened for: only they
  fetch, commit, seek or unsubscribe it, and fetch_messages checks the queue's read flags
  again (a config change applies to open subscriptions).

Refusals are :class:`~buckyos.runtime.NoPermissionError` (``No permission:<what>``) naming
the field or flag that was wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from buckyos.runtime import NoPermissionError
from buckyos.runtime.server import Request

from .model import QueueInfo, SubInfo

__all__ = ["Actor", "Mode", "actor_of", "check_name", "check_owner", "check_queue", "check_sub"]

Mode = Literal["read", "write"]

_NO_TOKEN: Final = "No session token"


@dataclass(frozen=True, slots=True)
class Actor:
    """The caller, from its verified token."""

    user: str
    app: str
    trusted: bool

    def must_be(self, field: str, value: str, *, user: bool) -> None:
        """``field``'s ``value`` must be the token's user (``user``) or app."""
        if self.trusted:
            return
        expected, what = (self.user, "user") if user else (self.app, "app")
        if value != expected:
            raise NoPermissionError(
                f"{field} {value} does not match the session token's {what} {expected}"
            )


def actor_of(req: Request) -> Actor:
    """The caller of ``req``; ``No permission:No session token`` without a verified one."""
    claims = req.caller.claims
    if claims is None:
        raise NoPermissionError(_NO_TOKEN)
    return Actor(claims.sub, claims.app_id, claims.zone_trusted)


def check_name(actor: Actor, name: str, appid: str, app_owner: str) -> None:
    """A name holding ``::`` is used as the URN verbatim: it must be under the owner's own
    ``appid::app_owner::`` (else anyone could make ``photos::alice::x`` for alice)."""
    normalized = name.strip()
    if actor.trusted or normalized.startswith("/") or "::" not in normalized:
        return
    prefix = f"{appid}::{app_owner}::"
    rest = normalized.removeprefix(prefix)
    if rest == normalized or "::" in rest:
        raise NoPermissionError(
            f"queue name {normalized} names another owner: a name with :: must be "
            f"{prefix}<name> (the caller's own appid and user)"
        )


def check_queue(actor: Actor, queue: QueueInfo, mode: Mode) -> None:
    """``mode`` access to ``queue`` by its access flags."""
    if actor.trusted:
        return
    config = queue.config
    if actor.app != queue.appid:
        allowed = config.other_app_can_read if mode == "read" else config.other_app_can_write
        if not allowed:
            raise NoPermissionError(
                f"cannot {mode} queue {queue.urn}: app {actor.app} is not the queue's app "
                f"{queue.appid} and other_app_can_{mode} is false"
            )
    if actor.user != queue.app_owner:
        allowed = config.other_user_can_read if mode == "read" else config.other_user_can_write
        if not allowed:
            raise NoPermissionError(
                f"cannot {mode} queue {queue.urn}: user {actor.user} is not the queue's "
                f"owner {queue.app_owner} and other_user_can_{mode} is false"
            )


def check_owner(actor: Actor, queue: QueueInfo, verb: str) -> None:
    """Only the queue's owner (its app and user) or a zone-trusted caller manages it."""
    if actor.trusted or (actor.app == queue.appid and actor.user == queue.app_owner):
        return
    raise NoPermissionError(
        f"cannot {verb} {queue.urn}: only its owner (appid {queue.appid}, app_owner "
        f"{queue.app_owner}) or a zone-trusted caller may; the caller is user {actor.user}, "
        f"app {actor.app}"
    )


def check_sub(actor: Actor, sub: SubInfo) -> None:
    """Only the subscription's own user and app (or a zone-trusted caller) use it."""
    if actor.trusted or (actor.user == sub.user_id and actor.app == sub.app_id):
        return
    raise NoPermissionError(
        f"subscription {sub.sub_id} belongs to userid {sub.user_id}, appid {sub.app_id}; "
        f"the caller is user {actor.user}, app {actor.app}"
    )
