"""system_config: the zone's configuration store (kRPC api ``system_config``, port 3200).

A reference implementation of upstream's ``sys_config_service`` on the public runtime:
every verb of ``proto/buckyos/system_config.proto`` with upstream's params, results and
error texts, RBAC per key on ``obj://config/<key>``, revisions, atomic ``exec_tx`` with a
``main_key`` revision guard, and trust keys and policy reloaded from its own keys.

- :func:`build_binding` gives a :class:`~buckyos.runtime.binding.Binding` to serve or call
  in process; ``python -m buckyos.services.system_config`` runs it as a process.
- :class:`Store` is the storage interface (an etcd store could replace the default);
  :class:`SqliteStore` is the default (WAL, ``synchronous=FULL``: acknowledged writes
  survive ``kill -9``).
- :func:`normalize_key` is the key rule (prefixes stripped, ``.``/``..`` resolved, control
  characters and ``..`` above the root refused).

See ``docs/system-config.md``.
"""

from .app import SystemConfigBinding, build_binding
from .keys import normalize_key, resource_of
from .security import Identity, SecurityState
from .service import SystemConfigService
from .store import (
    Entry,
    InvalidValueError,
    KeyExistsError,
    KeyNotFoundError,
    OpKind,
    RevisionMismatchError,
    SqliteStore,
    Store,
    StoreError,
    TxOp,
)

__all__ = [
    "Entry",
    "Identity",
    "InvalidValueError",
    "KeyExistsError",
    "KeyNotFoundError",
    "OpKind",
    "RevisionMismatchError",
    "SecurityState",
    "SqliteStore",
    "Store",
    "StoreError",
    "SystemConfigBinding",
    "SystemConfigService",
    "TxOp",
    "build_binding",
    "normalize_key",
    "resource_of",
]
