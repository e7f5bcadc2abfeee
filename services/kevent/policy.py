"""Who may publish and read which kevent ids: pure decisions, no I/O.

Upstream's kevent has no authentication at all.  Ours (``docs/kevent.md``, "Who may do
what") knows three kinds of caller, a :class:`Principal`:

- **local**: a request with no token, made directly on the node's loopback
  (``127.0.0.1``/``::1``) and not forwarded by a gateway (:func:`is_local_request`):
  upstream's node-local processes, which send no token;
- **zone-trusted**: a token the zone itself signed
  (:attr:`~buckyos.runtime.security.SessionToken.zone_trusted`: the owner's or a zone
  device's key, or verify-hub for a device or service session);
- any other verified token, an **app** principal: its user (``sub``) and app (``appid``).

Local and zone-trusted callers publish and read anything.  An app principal publishes
only under ``/<its app id>`` (``/<app>`` itself and ``/<app>/**``), and reads events under
its app id (never the zone services' own namespaces, :data:`SYSTEM_SEGMENTS`), plus
events whose publisher named its user in an **audience** (:class:`Audience`, our
extension on publish, accepted only from local or zone-trusted publishers and never
delivered to readers).  An audience's ``apps`` reach no app principal: its app id is the
user's own claim at login, not proven (``docs/security.md``).  A reader's patterns are
not refused: events it may not read are simply not delivered to it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from buckyos.runtime.security import SessionToken

__all__ = [
    "FORWARDED_HEADER",
    "LOCAL",
    "MAX_AUDIENCE",
    "PROXY_HEADERS",
    "SYSTEM_SEGMENTS",
    "Audience",
    "Principal",
    "app_segment",
    "is_local_request",
    "is_loopback",
    "may_read",
    "parse_audience",
    "principal_of",
    "publish_refusal",
]

FORWARDED_HEADER: Final = "x-buckyos-forwarded"
"""Set (and overwritten) by our gateway on every request it forwards to kevent."""
PROXY_HEADERS: Final = frozenset(
    {
        FORWARDED_HEADER,
        "x-buckyos-gateway",  # the gateway's hop mark on everything it forwards
        "forwarded",
        "x-forwarded-for",
        "x-real-ip",
        "via",
    }
)
"""Any of these on a request means a proxy may have carried it: it is not local."""
MAX_AUDIENCE: Final = 256
"""Names in each of an audience's two lists."""
_MAX_NAME: Final = 256

SYSTEM_SEGMENTS: Final = frozenset({"task_mgr", "task_dispatcher", "msg_center", "kevent"})
"""First segments the zone's own services publish under (upstream-services.md 5.4): never
an app's own ids, even for an app (or a user's login) that calls itself ``task_mgr``;
only zone-trusted and local publishers use them, and app tokens read them only as an
audience names them."""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who made a request: see the module docstring.  ``user_id``/``app_id`` are the
    token's (``None`` for a local caller)."""

    local: bool
    trusted: bool
    user_id: str | None = None
    app_id: str | None = None

    @property
    def owner(self) -> str:
        """The key readers are owned by: a reader registered by one principal is unknown
        to another (``READER_CLOSED``)."""
        if self.local:
            return "local"
        return f"{'trusted' if self.trusted else 'app'}:{self.user_id}:{self.app_id}"

    def describe(self) -> str:
        if self.local:
            return "a local caller"
        kind = "a zone-trusted token" if self.trusted else "a token"
        return f"{kind} of user {self.user_id}, app {self.app_id}"


LOCAL: Final = Principal(local=True, trusted=True)


def principal_of(claims: SessionToken) -> Principal:
    """The principal of a verified token."""
    return Principal(
        local=False, trusted=claims.zone_trusted, user_id=claims.sub, app_id=claims.app_id
    )


def is_loopback(host: str | None) -> bool:
    """Whether ``host`` (a client address) is this node's loopback: ``127.0.0.1`` or
    ``::1`` (an IPv4-mapped ``::ffff:127.0.0.1`` too).  Only these, not all of 127/8:
    a gateway may connect from another 127.x address to be told apart."""
    if not host:
        return False
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address in (ipaddress.IPv4Address("127.0.0.1"), ipaddress.IPv6Address("::1"))


def is_local_request(client_host: str | None, header_names: Iterable[str]) -> bool:
    """Whether a request without a token may go as local: it came from the loopback and
    carries no mark of a proxy (:data:`PROXY_HEADERS`, names lower-case)."""
    if not is_loopback(client_host):
        return False
    return not any(name in PROXY_HEADERS for name in header_names)


@dataclass(frozen=True, slots=True)
class Audience:
    """Readers a publisher names besides the event id's own app: users (and apps, which
    are accepted and kept but reach no reader today: see :func:`may_read`)."""

    users: frozenset[str] = frozenset()
    apps: frozenset[str] = frozenset()


def _names(value: Any, field: str) -> frozenset[str]:
    if value is None:
        return frozenset()
    if not isinstance(value, list):
        raise ValueError(f"audience.{field} must be a list of strings")
    if len(value) > MAX_AUDIENCE:
        raise ValueError(f"audience.{field} names {len(value)} entries, at most {MAX_AUDIENCE}")
    for name in value:
        if not isinstance(name, str) or not name or len(name) > _MAX_NAME:
            raise ValueError(f"audience.{field} must hold non-empty strings of <= {_MAX_NAME}")
    return frozenset(value)


def parse_audience(value: Any) -> Audience | None:
    """The ``audience`` of a publish request (``None`` when absent or null);
    ``ValueError`` naming what is wrong."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ValueError('audience must be an object {"users": [...], "apps": [...]}')
    unknown = sorted(set(value) - {"users", "apps"})
    if unknown:
        raise ValueError(f"audience has unknown field {unknown[0]!r} (users, apps)")
    return Audience(_names(value.get("users"), "users"), _names(value.get("apps"), "apps"))


def app_segment(eventid: str) -> str:
    """The first segment of a global id (``/notes/a/b`` -> ``notes``)."""
    return eventid.split("/", 2)[1] if eventid.startswith("/") else ""


def publish_refusal(who: Principal, eventid: str, audience: Audience | None) -> str | None:
    """Why ``who`` may not publish ``eventid`` (with ``audience``), or ``None``."""
    if who.trusted:
        return None
    if audience is not None:
        return (
            f"{who.describe()} may not name an audience; only zone-trusted publishers "
            "(kernel services) and node-local processes may"
        )
    if app_segment(eventid) in SYSTEM_SEGMENTS:
        return (
            f"{who.describe()} may not publish {eventid}: /{app_segment(eventid)}/** is the "
            "zone's own services' (a zone-trusted token publishes there)"
        )
    if app_segment(eventid) != who.app_id:
        return (
            f"{who.describe()} may publish only under /{who.app_id}/**, not {eventid}; "
            "publish under the app's own id or use a zone-trusted token"
        )
    return None


def may_read(who: Principal, eventid: str, audience: Audience | None) -> bool:
    """Whether an event reaches a reader registered by ``who``."""
    if who.trusted:
        return True
    segment = app_segment(eventid)
    if segment == who.app_id and segment not in SYSTEM_SEGMENTS:
        return True
    # The user, not the app: a user's session names its app id itself at login, so an
    # ``apps`` entry would let any user read another user's events by naming that app
    # (stricter than upstream, which trusts app ids).  An app's own service token is
    # zone-trusted and reads everything above.
    return audience is not None and who.user_id in audience.users
