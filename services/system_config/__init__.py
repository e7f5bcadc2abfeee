"""system_config: the zone's configuration store (kRPC api ``system_config``, port 3200).

A reference implementation of upstream's ``sys_config_service`` on the public runtime:
every verb of ``proto/buckyos/system_config.proto`` with upstream's params, results and
error texts, RBAC per key on ``obj://config/<key>``, revisions, atomic ``exec_tx`` with a
``main_key`` revision guard, and trust keys and policy reloaded from its own keys.

- :func:`build_binding` gives a :class:`~buckyos.runtime.server.binding.Binding` to serve or call
  in process; ``python -m buckyos.services.system_config`` runs it as a process.
- :class:`Store` is the storage interface; :class:`SqliteStore` is the default (WAL,
  ``synchronous=FULL``: acknowledged writes survive ``kill -9``); :class:`EtcdStore` keeps
  the same keys, with the same semantics, in an etcd cluster shared by several nodes.
- :func:`normalize_key` is the key rule (prefixes stripped, ``.``/``..`` resolved, control
  characters and ``..`` above the root refused); :func:`is_plain_name` the user-name rule.
- Callers whose token is not zone-trusted are held to per-user quotas
  (:data:`DEFAULT_USER_QUOTA_BYTES`, :data:`DEFAULT_USER_QUOTA_KEYS`), to the store's
  reserve (``SqliteStore(max_bytes=...)``), and write routing records only for their own
  apps, never for :data:`SYSTEM_SERVICE_NAMES`.

See ``docs/system-config.md``.
"""

from .app import build_binding
from .etcd_store import AmbiguousWriteError, EtcdStore, EtcdUnavailableError
from .keys import is_plain_name, normalize_key, resource_of
from .ownership import SYSTEM_SERVICE_NAMES
from .security import Identity, SecurityState
from .service import DEFAULT_USER_QUOTA_BYTES, DEFAULT_USER_QUOTA_KEYS, SystemConfigService
from .store import (
    Entry,
    InvalidValueError,
    KeyExistsError,
    KeyNotFoundError,
    OpKind,
    Quota,
    QuotaExceededError,
    RevisionMismatchError,
    SqliteStore,
    Store,
    StoreError,
    StoreFullError,
    TxOp,
    Usage,
)

__all__ = [
    "DEFAULT_USER_QUOTA_BYTES",
    "DEFAULT_USER_QUOTA_KEYS",
    "SYSTEM_SERVICE_NAMES",
    "AmbiguousWriteError",
    "Entry",
    "EtcdStore",
    "EtcdUnavailableError",
    "Identity",
    "InvalidValueError",
    "KeyExistsError",
    "KeyNotFoundError",
    "OpKind",
    "Quota",
    "QuotaExceededError",
    "RevisionMismatchError",
    "SecurityState",
    "SqliteStore",
    "Store",
    "StoreError",
    "StoreFullError",
    "SystemConfigService",
    "TxOp",
    "Usage",
    "build_binding",
    "is_plain_name",
    "normalize_key",
    "resource_of",
]
