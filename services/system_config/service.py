"""The system_config verbs (upstream ``sys_config_service/src/main.rs``) over a :class:`Store`.

Each verb, in upstream's order: its params (``Failed due to reason: Missing key``...), the
key (normalised; ``__meta`` reserved; see :mod:`.keys`), the caller's identity (a token
without ``appid`` is ``Parse Request Error: Missing appid``, as upstream; the runtime would
otherwise take it for the ``kernel`` app, which skips the user check), RBAC on
``obj://config/<key>`` with this service's own denial texts
(``No permission:No read permission``,
``No permission:No write permission for key: <key>``), then the store.

Beyond RBAC, for a caller whose token is not zone-trusted (a user's session, whatever app
id it claims): the app id ``kernel`` does not skip the user check; routing records
(``services/<svc>/info|instances/...``) are written only for the caller's own app
(:mod:`.ownership`); writes are held to the caller's quota and the store's reserve
(:class:`~.store.Quota`); and ``dump_configs_for_scheduler`` is refused.  Whoever writes, a
user name in a ``users/<name>/`` key must be plain (:func:`~.keys.check_user_name`).

The token itself (present, trusted kid, signature, expiry, not a refresh token) is checked
by the binding before any verb runs.  Writes that touch ``boot/config``, ``system/rbac/*``
or a device document reload trust keys and the policy once committed, and values that
would break that reload are refused before they are written (see :mod:`.security`).

``sys_config_watch`` (ours; upstream has only a TODO) subscribes the caller's link to the
changes under a key, each checked for the watcher's token as ``sys_config_get`` would
check it (see :mod:`.watch`); ``sys_config_unwatch`` (ours too) ends one on its own link.

Verbs are plain ``def``: the binding runs them in its thread pool, and the store is
synchronous (SQLite) and thread-safe.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any, Final

from google.protobuf import empty_pb2, struct_pb2

from buckyos.generated import system_config_pb2 as sc
from buckyos.generated.system_config_rpc import SystemConfigServicer
from buckyos.runtime import KeyNotExistError, NoPermissionError, ParseRequestError, ReasonError
from buckyos.runtime.server import Request
from buckyos.runtime.wire import loads_strict

from .jsonpath import REMOVE
from .keys import (
    SCHEDULER_DUMP_PREFIXES,
    USERS_PREFIX,
    check_user_name,
    is_meta_key,
    normalize_key,
    printable_key,
    reloads_security,
    resource_of,
)
from .ownership import RoutingGuard
from .revoked import StoreRevocations
from .security import SecurityState
from .store import Check, KeyNotFoundError, OpKind, Quota, Store, StoreError, TxOp
from .watch import Watches

__all__ = [
    "DEFAULT_USER_QUOTA_BYTES",
    "DEFAULT_USER_QUOTA_KEYS",
    "SCHEDULER_APPS",
    "SystemConfigService",
]

SCHEDULER_APPS: Final = ("scheduler", "node-daemon")
"""The app ids allowed to call ``dump_configs_for_scheduler`` (in a zone-trusted token)."""

DEFAULT_USER_QUOTA_BYTES: Final = 64 * 1024 * 1024
"""What a user's writes may hold (keys + values, UTF-8): 64 MiB."""
DEFAULT_USER_QUOTA_KEYS: Final = 10_000
"""How many live keys a user's writes may hold."""

_DUMP_REFUSAL: Final = (
    "dump_configs_for_scheduler needs a zone-trusted token (signed by the zone owner or a "
    "zone device, or a verify-hub session of a device or service), not a user's session"
)
WriteFn = Callable[[Check, Quota | None], object]

_META_RESERVED: Final = "internal metadata key is reserved"
_VALUE_OPS: Final = {"create": OpKind.CREATE, "update": OpKind.UPDATE, "append": OpKind.APPEND}
_EXACT_FLOAT_INT: Final = 2**53


def _from_struct_value(value: struct_pb2.Value) -> Any:
    """JSON of a protobuf ``Value``; whole numbers come back as integers.

    Protobuf carries every number as a double: ``1`` would otherwise be stored as ``1.0``.
    """
    kind = value.WhichOneof("kind")
    if kind == "struct_value":
        return {k: _from_struct_value(v) for k, v in value.struct_value.fields.items()}
    if kind == "list_value":
        return [_from_struct_value(v) for v in value.list_value.values]
    if kind == "number_value":
        number = value.number_value
        if math.isfinite(number) and number.is_integer() and abs(number) <= _EXACT_FLOAT_INT:
            return int(number)
        return number
    if kind == "string_value":
        return value.string_value
    if kind == "bool_value":
        return value.bool_value
    return None


class SystemConfigService(SystemConfigServicer):
    """The verbs of api ``system_config``; ``security`` holds its trust keys and policy."""

    def __init__(
        self,
        store: Store,
        security: SecurityState,
        *,
        user_quota_bytes: int = DEFAULT_USER_QUOTA_BYTES,
        user_quota_keys: int = DEFAULT_USER_QUOTA_KEYS,
        revoked: StoreRevocations | None = None,
        watches: Watches | None = None,
    ) -> None:
        if user_quota_bytes <= 0 or user_quota_keys <= 0:
            raise ValueError(
                f"user quotas must be positive (bytes {user_quota_bytes}, keys {user_quota_keys})"
            )
        self.store = store
        self.security = security
        self.revoked = revoked
        self.watches = watches
        self.user_quota_bytes = user_quota_bytes
        self.user_quota_keys = user_quota_keys
        self.routing = RoutingGuard(store, security.rbac)

    # -- shared checks -------------------------------------------------------------------

    @staticmethod
    def _identity(req: Request) -> tuple[str, str, bool]:
        """Upstream ``require_session_identity``: ``(user, app, sudo)`` of the token."""
        claims = req.caller.claims
        if claims is None:
            raise NoPermissionError("No session token")
        if not claims.sub.strip():
            raise ParseRequestError("Missing userid")
        if claims.appid is None or not claims.appid.strip():
            raise ParseRequestError("Missing appid")
        return claims.sub, claims.appid, claims.sudo

    @staticmethod
    def _trusted(req: Request) -> bool:
        """Whether the caller's token is zone-trusted (see ``SessionToken.zone_trusted``)."""
        claims = req.caller.claims
        return claims is not None and claims.zone_trusted

    def _allowed(self, req: Request, key: str, action: str) -> bool:
        user, app, sudo = self._identity(req)
        return self.security.rbac.enforce(
            user, app, resource_of(key), action, sudo=sudo, trusted=self._trusted(req)
        )

    def _quota(self, req: Request) -> Quota | None:
        """The limits of this caller's writes: none for a zone-trusted one."""
        if self._trusted(req):
            return None
        user, _, _ = self._identity(req)
        return Quota(f"{USERS_PREFIX}{user}/", self.user_quota_bytes, self.user_quota_keys)

    @staticmethod
    def _key(raw: str, *, allow_root: bool = False) -> str:
        if not raw:
            raise ReasonError("Missing key")
        key = normalize_key(raw, allow_root=allow_root)
        if is_meta_key(key):
            raise ReasonError(_META_RESERVED)
        return key

    def _readable(self, req: Request, raw: str, *, allow_root: bool = False) -> str:
        key = self._key(raw, allow_root=allow_root)
        if not self._allowed(req, key, "read"):
            req.logger.warning("read of %s denied", key)
            raise NoPermissionError("No read permission")
        return key

    def _writable(self, req: Request, key: str, *, removes: bool = False) -> str:
        """``key`` if the caller may write it (``removes``: only delete it), else raise."""
        if not removes:
            check_user_name(key)
        if not self._allowed(req, key, "write"):
            req.logger.warning("write of %s denied", key)
            raise NoPermissionError(f"No write permission for key: {key}")
        user, _, _ = self._identity(req)
        why = self.routing.refusal(key, user, trusted=self._trusted(req))
        if why is not None:
            req.logger.warning("write of %s by %s denied: %s", key, user, why)
            raise NoPermissionError(f"No write permission for key: {key} ({why})")
        return key

    def _commit(self, req: Request, keys: Iterable[str], write: WriteFn) -> None:
        """Run one store write (refusals become ``Failed due to reason:``) held to the
        caller's quota, then reload trust keys and policy when a security key changed."""
        touched = list(keys)
        try:
            write(self.security.check, self._quota(req))
        except StoreError as exc:
            req.logger.warning("write of %s refused: %s", ", ".join(touched), exc)
            raise ReasonError(str(exc)) from None
        req.logger.info("wrote %s", ", ".join(touched))
        if self.revoked is not None:
            self.revoked.written(touched)
        if any(reloads_security(key) for key in touched):
            self.security.reload()
            req.logger.info("trust keys and RBAC policy reloaded")

    # -- verbs ---------------------------------------------------------------------------

    def Get(self, request: sc.KeyRequest, req: Request) -> sc.GetResult:
        key = self._readable(req, request.key)
        try:
            entry = self.store.get(key)
        except StoreError as exc:
            raise ReasonError(str(exc)) from None
        if entry is None:
            return sc.GetResult()
        return sc.GetResult(value=entry.value, version=entry.revision)

    def _write(self, req: Request, key: str, op: TxOp) -> empty_pb2.Empty:
        """``op`` on ``key`` through :meth:`_commit`; the verbs' empty answer."""
        self._commit(
            req, [key], lambda check, quota: self.store.write(key, op, check=check, quota=quota)
        )
        return empty_pb2.Empty()

    def Set(self, request: sc.SetRequest, req: Request) -> empty_pb2.Empty:
        key = self._writable(req, self._key(request.key))
        return self._write(req, key, TxOp(OpKind.UPDATE, request.value))

    def Create(self, request: sc.SetRequest, req: Request) -> empty_pb2.Empty:
        key = self._writable(req, self._key(request.key))
        return self._write(req, key, TxOp(OpKind.CREATE, request.value))

    def Delete(self, request: sc.KeyRequest, req: Request) -> empty_pb2.Empty:
        key = self._writable(req, self._key(request.key), removes=True)
        return self._write(req, key, TxOp(OpKind.DELETE))

    def Append(self, request: sc.AppendRequest, req: Request) -> empty_pb2.Empty:
        key = self._writable(req, self._key(request.key))

        def append(check: Check, quota: Quota | None) -> int:
            try:
                return self.store.append(key, request.append_value, check=check, quota=quota)
            except KeyNotFoundError:
                # Upstream answers KeyNotExist here, with the key as the caller gave it.
                raise KeyNotExistError(request.key) from None

        self._commit(req, [key], append)
        return empty_pb2.Empty()

    def SetByJsonPath(self, request: sc.SetByJsonPathRequest, req: Request) -> empty_pb2.Empty:
        key = self._key(request.key)
        if not request.value:
            raise ReasonError("Missing value")
        try:
            value = loads_strict(request.value)
        except (ValueError, RecursionError) as exc:
            raise ReasonError(
                f'value must be JSON text (a string is written with quotes: "\\"text\\""): {exc}'
            ) from None
        if not request.json_path:
            raise ReasonError("Missing json_path")
        self._writable(req, key)
        return self._write(req, key, TxOp(OpKind.SET_PATHS, paths=((request.json_path, value),)))

    def List(self, request: sc.KeyRequest, req: Request) -> sc.ListResult:
        key = self._readable(req, request.key, allow_root=True)
        try:
            children = self.store.list(key)
        except StoreError as exc:
            raise ReasonError(str(exc)) from None
        return sc.ListResult(keys=children)

    def _tx_paths(self, req: Request, raw: str, action: sc.TxAction) -> tuple[tuple[str, Any], ...]:
        """``all_set`` as ``(path, value)`` pairs; JSON ``null`` removes the path.

        Over kRPC the raw params are used so that numbers keep their exact JSON form.
        """
        params = req.params
        if isinstance(params, dict):
            all_set = params.get("actions", {}).get(raw, {}).get("all_set")
            if isinstance(all_set, dict):
                return tuple((p, REMOVE if v is None else v) for p, v in all_set.items())
        fields = action.all_set.fields
        pairs = ((p, _from_struct_value(v)) for p, v in fields.items())
        return tuple((p, REMOVE if v is None else v) for p, v in pairs)

    def _tx_op(self, req: Request, raw: str, key: str, action: sc.TxAction) -> TxOp:
        kind = action.action
        if not kind:
            raise ReasonError(f"Missing action type for key: {key}")
        value_op = _VALUE_OPS.get(kind)
        if value_op is not None:
            if not action.HasField("value"):
                raise ReasonError(f"Missing value for {kind}")
            return TxOp(value_op, action.value)
        if kind == "set_by_path":
            if not action.HasField("all_set"):
                raise ReasonError("Missing all_set for set_by_path")
            return TxOp(OpKind.SET_PATHS, paths=self._tx_paths(req, raw, action))
        if kind == "remove":
            return TxOp(OpKind.REMOVE)
        raise ReasonError(f"Unknown action type: {kind}")

    def ExecTx(self, request: sc.ExecTxRequest, req: Request) -> empty_pb2.Empty:
        ops: dict[str, TxOp] = {}
        named: dict[str, str] = {}
        # Sorted: a protobuf map has no order, and errors should not depend on the wire.
        for raw, action in sorted(request.actions.items()):
            key = normalize_key(raw)
            if is_meta_key(key):
                raise ReasonError(f"{_META_RESERVED}: {raw}")
            if key in named:
                raise ReasonError(
                    f"exec_tx names key {key} twice ({printable_key(named[key])} and "
                    f"{printable_key(raw)}); give each key one action"
                )
            named[key] = raw
            self._writable(req, key, removes=action.action == "remove")
            ops[key] = self._tx_op(req, raw, key, action)
        main_key: tuple[str, int] | None = None
        if request.HasField("main_key"):
            if not request.main_key.key:
                raise ParseRequestError("main_key.key is required")
            guard = normalize_key(request.main_key.key)
            if is_meta_key(guard):
                raise ReasonError(f"{_META_RESERVED}: {request.main_key.key}")
            # Upstream bumps the guard's revision without asking; we ask for write access.
            self._writable(req, guard)
            main_key = (guard, request.main_key.revision)
        if not ops and main_key is None:
            return empty_pb2.Empty()
        written = [*ops, *([main_key[0]] if main_key else [])]
        self._commit(
            req,
            written,
            lambda check, quota: self.store.transaction(
                ops, main_key=main_key, check=check, quota=quota
            ),
        )
        return empty_pb2.Empty()

    def DumpConfigsForScheduler(
        self, request: empty_pb2.Empty, req: Request
    ) -> sc.DumpConfigsResult:
        user, app, _ = self._identity(req)
        if app not in SCHEDULER_APPS:
            raise NoPermissionError("No permission")
        # Upstream checks only the app id, which a user's own login may claim: the dump
        # holds every user's password hash.
        if not self._trusted(req):
            req.logger.warning("dump_configs_for_scheduler by %s (app %s) denied", user, app)
            raise NoPermissionError(_DUMP_REFUSAL)
        try:
            configs = self.store.dump(SCHEDULER_DUMP_PREFIXES)
        except StoreError as exc:
            raise ReasonError(str(exc)) from None
        return sc.DumpConfigsResult(configs=configs)

    def RefreshTrustKeys(self, request: empty_pb2.Empty, req: Request) -> empty_pb2.Empty:
        self._identity(req)
        self.security.reload()
        return empty_pb2.Empty()

    def Watch(self, request: sc.KeyRequest, req: Request) -> sc.WatchResult:
        # Our extension.  Nothing is checked on the key itself beyond its form: each change
        # is checked for this caller's token as it comes (see .watch).
        self._identity(req)
        key = self._key(request.key, allow_root=True)
        event = self._watches().watch(req, key)
        req.logger.info("watch of %s as %s", key or "/", event)
        return sc.WatchResult(event=event, key=key)

    def _watches(self) -> Watches:
        if self.watches is None:
            raise ReasonError(
                "this system_config serves no watches (built without a Watches); "
                "build it with build_binding"
            )
        return self.watches

    def Unwatch(self, request: sc.UnwatchRequest, req: Request) -> empty_pb2.Empty:
        # Our extension.  Only the link that holds the watch can end it (req's own link).
        self._identity(req)
        if not request.event:
            raise ReasonError("Missing event")
        self._watches().unwatch(req, request.event)
        req.logger.info("unwatch of %s", request.event)
        return empty_pb2.Empty()
