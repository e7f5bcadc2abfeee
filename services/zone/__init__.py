"""A local BuckyOS zone on one machine: identity once, its services as processes, seeded config.

``zone_up(root)`` creates the zone under ``root`` (first time only), starts system_config,
verify-hub, kevent, task-manager, kmsg and the node gateway, and seeds system_config;
``zone_down(root)`` stops them; ``zone_status(root)`` tells what runs.  ``zone_up(root,
nodes=3)`` runs a zone of three nodes instead: an etcd cluster and, per node,
system_config on it, verify-hub and a gateway (:mod:`.nodes`, ``docs/zone-nodes.md``).
The ``buckyos zone`` command is a thin shell over these.
"""

from .identity import ZoneIdentity, create_identity, load_identity
from .layout import ZoneLayout
from .supervisor import Interrupted
from .zone import (
    DEFAULT_PORTS,
    ZoneInfo,
    ZoneRunningError,
    parse_ports,
    zone_down,
    zone_status,
    zone_up,
)

__all__ = [
    "DEFAULT_PORTS",
    "Interrupted",
    "ZoneIdentity",
    "ZoneInfo",
    "ZoneLayout",
    "ZoneRunningError",
    "create_identity",
    "load_identity",
    "parse_ports",
    "zone_down",
    "zone_status",
    "zone_up",
]
