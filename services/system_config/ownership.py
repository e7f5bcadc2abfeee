"""Who may write a service's routing records, beyond what RBAC says.

The gateway and the runtime's resolver route calls by ``services/<svc>/info`` and
``services/<svc>/instances/<node>`` (which node, which port, started or stopped).
Upstream's default policy lets every user write ``services/{service}/instances/{node}``
(role ``users``, and ``admin``), for any service: any user could point verify-hub at a
port of his own, or mark it stopped and take it offline for the zone.  RBAC cannot say
"his own app" (the policy has no link from a service to a user), so system_config adds,
at write time, for every write verb (set, create, delete, append, set_by_json_path,
exec_tx and its ``main_key``):

- a **zone-trusted** caller (:attr:`~.session_token.SessionToken.zone_trusted`:
  the zone's own services and devices, the owner) may write any routing record RBAC
  allows;
- any other caller (a user's session, sudo included) only those of an app that is **his
  own**: some key exists under ``users/<caller>/apps/<svc>/`` and under no other user's
  ``users/<other>/apps/<svc>/`` (two users registering one name cannot route each other's
  app); and never those of a **system service**: a name in
  :data:`SYSTEM_SERVICE_NAMES`, or any name the zone's policy puts in a system role
  (:data:`SYSTEM_ROLES`, through ``g`` rules); nor a record that exists and does not
  count against him (:meth:`~.store.Store.row_account`): one the zone created (for an
  app it runs itself), or another user wrote.

A refusal keeps system_config's text ``No permission:No write permission for key: K``
and says why after it, in parentheses.
"""

from __future__ import annotations

from typing import Final

from buckyos.runtime.security import RbacEnforcer

from .keys import USERS_PREFIX, is_plain_name
from .store import Store

__all__ = ["ROUTING_RECORDS", "SYSTEM_ROLES", "SYSTEM_SERVICE_NAMES", "RoutingGuard", "service_of"]

SYSTEM_SERVICE_NAMES: Final = frozenset(
    {
        # upstream's default policy: the kernel, system and frame groups
        "node-daemon", "scheduler", "system-config", "verify-hub", "cyfs-gateway", "buckycli",
        "task-manager", "kmsg", "control-panel",
        "repo-service", "aicc", "msg-center", "opendan", "slog_server", "smb_service",
        # the zone's other services (upstream's catalogue) and their other kapi names
        "system_config", "task-dispatcher", "workflow", "kevent", "repo", "message-hub",
        "opendan-task-runner", "publish-content-mgr", "smb-service", "active",
        # this project's node gateway
        "gateway",
        # the policy's role names: a service named like a role reads as that role
        "kernel", "system", "frame", "ood", "root", "su_admin", "app", "agent", "admin", "users",
    }
)  # fmt: skip
"""Services whose routing records only zone-trusted callers write, whatever the policy."""

SYSTEM_ROLES: Final = frozenset({"kernel", "system", "frame", "ood", "root", "su_admin"})
"""A service the zone's policy gives one of these roles is a system service too."""

ROUTING_RECORDS: Final = ("info", "instances")
"""``services/<svc>/<this>`` and below are routing records."""

_SERVICES: Final = "services/"


def service_of(key: str) -> str | None:
    """The service whose routing record ``key`` is (``services/<svc>/info``,
    ``services/<svc>/instances/<node>`` and below), else ``None``."""
    if not key.startswith(_SERVICES):
        return None
    parts = key[len(_SERVICES) :].split("/", 2)
    if len(parts) < 2 or not parts[0] or parts[1] not in ROUTING_RECORDS:
        return None
    return parts[0]


class RoutingGuard:
    """The rule of this module, over a store and the zone's RBAC policy."""

    def __init__(self, store: Store, rbac: RbacEnforcer) -> None:
        self.store = store
        self.rbac = rbac

    def is_system_service(self, service: str) -> bool:
        return service in SYSTEM_SERVICE_NAMES or not SYSTEM_ROLES.isdisjoint(
            self.rbac.roles_of(service)
        )

    def registered_by(self, user: str, service: str) -> bool:
        """Whether ``user`` has a key under ``users/<user>/apps/<service>/``."""
        return bool(self.store.list(f"{USERS_PREFIX}{user}/apps/{service}"))

    def sole_owner(self, user: str, service: str) -> bool:
        """Whether ``user`` registered app ``service`` and no other user did."""
        if not is_plain_name(user) or not self.registered_by(user, service):
            return False
        return not any(
            other != user and self.registered_by(other, service)
            for other in self.store.list(USERS_PREFIX.rstrip("/"))
        )

    def refusal(self, key: str, user: str, *, trusted: bool) -> str | None:
        """Why ``user`` may not write ``key`` (to follow the denial text), or ``None``."""
        service = service_of(key)
        if service is None or trusted:
            return None
        if self.is_system_service(service):
            return f"{service} is a system service: only zone services write its routing records"
        if not self.sole_owner(user, service):
            return (
                f"{service} is not an app that user {user} alone registered under "
                f"{USERS_PREFIX}{user}/apps/{service}/"
            )
        exists, account = self.store.row_account(key)
        if exists and account != f"{USERS_PREFIX}{user}/":
            # The zone runs this app itself (its services wrote the record), or the record
            # is left from another user's app of the same name: not his to reroute.
            return f"this record of {service} was not created by user {user}"
        return None
