"""verify-hub, the zone's login and token service (kRPC api ``verify-hub``, port 3300).

Upstream ``src/kernel/verify_hub``, every verb, with its session state persisted so that a
restart keeps every session refreshable::

    passwords   upstream's password hashing and nonce window
    state       SQLite state: sessions and refresh generations, used jtis and nonces
    etcd_state  the same state (and the login counts) on etcd, for a zone of several nodes
    directory   where users and devices come from (system_config, or a dict for tests)
    throttle    failed password logins slow down per user and per client address
    service     the servicer: login_by_jwt, login_by_password, sudo_by_password,
                refresh_token, logout, verify_token
    app         build_binding(): the Binding serving it
    __main__    ``python -m buckyos.services.verify_hub``

See ``docs/verify-hub.md``.
"""

from .app import build_binding, service_of
from .directory import (
    DeviceCredentials,
    Directory,
    MemoryDirectory,
    SystemConfigDirectory,
    UserSettings,
)
from .etcd_state import EtcdSessionState, EtcdStateError
from .passwords import login_password_hash, stored_password_hash
from .service import VerifyHubService
from .state import SessionState, SessionStore, StateError
from .throttle import LoginThrottle

__all__ = [
    "DeviceCredentials",
    "Directory",
    "EtcdSessionState",
    "EtcdStateError",
    "LoginThrottle",
    "MemoryDirectory",
    "SessionState",
    "SessionStore",
    "StateError",
    "SystemConfigDirectory",
    "UserSettings",
    "VerifyHubService",
    "build_binding",
    "login_password_hash",
    "service_of",
    "stored_password_hash",
]
