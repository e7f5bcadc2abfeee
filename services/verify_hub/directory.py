"""Where verify-hub finds users and devices: a small :class:`Directory` protocol.

What it needs, and where upstream keeps it in system_config:

- the zone owner's public key (checks login JWTs with ``iss: root``);
- a user's settings ``users/<name>/settings`` (``{user_id, type, password, state}``) and
  document ``users/<name>/doc``;
- a device's document ``devices/<name>/doc``.

Documents are DID documents (JSON) or, as upstream also stores device docs, a compact JWT
whose payload is the document; its key is read with
:func:`buckyos.runtime.security.keys.public_key_from_doc`.  Like upstream
(``DeviceDocument::decode`` with no key), the JWT form is read without checking its
signature: the document's authority is system_config, which only trusted writers can change.

Two implementations: :class:`SystemConfigDirectory` reads system_config through the
generated stubs over any invoker (kRPC, gRPC, in-process), with the service's own device
credentials (:class:`DeviceCredentials`); :class:`MemoryDirectory` is a dict, for tests.
"""

from __future__ import annotations

import asyncio
import logging
import time
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Protocol

from buckyos.generated.system_config_rpc import AsyncSystemConfigStub, SystemConfigStub
from buckyos.runtime import (
    AsyncUnaryInvoker,
    ConfigError,
    InvalidTokenError,
    ReasonError,
    UnaryInvoker,
)
from buckyos.runtime.security import (
    SERVICE_LOGIN_TTL,
    DeviceTokenSource,
    Ed25519PrivateKey,
    Ed25519PublicKey,
    decode_unverified,
)
from buckyos.runtime.wire import json_object

__all__ = [
    "NAME_MAX",
    "USER_STATES",
    "USER_TYPES",
    "DeviceCredentials",
    "Directory",
    "MemoryDirectory",
    "SystemConfigDirectory",
    "UserSettings",
    "check_name",
    "parse_document",
    "parse_user_settings",
]

_log: Final = logging.getLogger("buckyos.services.verify_hub.directory")

USER_TYPES: Final = frozenset({"admin", "user", "root", "limited", "guest"})
USER_STATES: Final = frozenset({"active", "pending", "suspended", "deleted", "banned"})


@dataclass(frozen=True, slots=True)
class UserSettings:
    """``users/<name>/settings`` as verify-hub reads it."""

    user_id: str
    user_type: str
    """admin | user | root | limited | guest"""
    password: str
    """``base64(sha256(password + username + ".buckyos"))``"""
    state: str
    """active | pending | suspended:<reason> | deleted | banned:<reason>"""

    @property
    def active(self) -> bool:
        """Upstream's ``user_is_active``: state ``active`` and not a root or guest account."""
        return self.state == "active" and self.user_type not in ("root", "guest")


def _load_json(raw: str | Mapping[str, Any], what: str) -> Mapping[str, Any]:
    return json_object(raw, what, ReasonError)


def parse_user_settings(name: str, raw: str | Mapping[str, Any]) -> UserSettings:
    """Read ``users/<name>/settings``; a malformed one is a ``ReasonError`` naming the field."""
    what = f"users/{name}/settings"
    data = _load_json(raw, what)
    user_id = data.get("user_id", name)
    user_type = data.get("type")
    password = data.get("password")
    state = data.get("state")
    if not isinstance(user_id, str) or not user_id:
        raise ReasonError(f"{what}: user_id must be a non-empty string")
    if user_type not in USER_TYPES:
        raise ReasonError(f"{what}: type must be one of {sorted(USER_TYPES)}, got {user_type!r}")
    if not isinstance(password, str) or not password:
        raise ReasonError(f"{what}: password must be a non-empty string")
    if not isinstance(state, str) or state.split(":", 1)[0] not in USER_STATES:
        raise ReasonError(
            f"{what}: state must be one of {sorted(USER_STATES)} (with ':<reason>' for "
            f"suspended/banned), got {state!r}"
        )
    return UserSettings(user_id=user_id, user_type=user_type, password=password, state=state)


NAME_MAX: Final = 128
"""The longest user or device name accepted (a name is one key segment)."""


def _bad_name_char(ch: str) -> bool:
    # '/' splits a key and system_config reads a backslash as '/' too; whitespace, control,
    # format (zero-width) and surrogate characters make names that look alike or forge
    # log lines.
    return ch in "/\\" or ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Cs")


def check_name(name: str, what: str) -> str:
    """A user or device name must be one key segment, spelt one way only: it is pasted into
    ``users/<name>/...``, and system_config normalises keys (``\\`` is ``/``, ``.`` and
    ``..`` are resolved, empty segments dropped), so ``bob\\``, ``\\bob`` or ``x\\..\\bob``
    would each read bob's records under another spelling (and replay his login proofs
    under a name never used before).  Refused: ``/``, ``\\``, whitespace, control, format
    and surrogate characters, ``.``, ``..``, the empty name, over :data:`NAME_MAX` characters.
    """
    if (
        not name
        or len(name) > NAME_MAX
        or name in (".", "..")
        or any(_bad_name_char(ch) for ch in name)
    ):
        shown = repr(name[:NAME_MAX]) + ("..." if len(name) > NAME_MAX else "")
        raise ReasonError(
            f"invalid {what} name {shown}: a name is one key segment of at most {NAME_MAX} "
            "characters, without '/', '\\', whitespace or control characters, and not "
            "'.' or '..'"
        )
    return name


def parse_document(raw: str | Mapping[str, Any], what: str) -> Mapping[str, Any]:
    """A DID document from JSON text, a mapping, or a compact JWT carrying it."""
    if isinstance(raw, str) and not raw.lstrip().startswith("{"):
        try:
            _, claims = decode_unverified(raw.strip())
        except InvalidTokenError as err:
            raise ReasonError(f"{what} is neither JSON nor a JWT document: {err}") from None
        return claims
    return _load_json(raw, what)


class Directory(Protocol):
    """Users and devices, as verify-hub needs them.  ``None`` means "not there"; a store
    that cannot answer raises (an :class:`~buckyos.runtime.errors.RPCError`)."""

    async def owner_key(self) -> Ed25519PublicKey | None:
        """The zone owner's public key (``iss: root``)."""
        ...

    async def user_settings(self, name: str) -> UserSettings | None:
        """``users/<name>/settings``."""
        ...

    async def user_doc(self, name: str) -> Mapping[str, Any] | None:
        """``users/<name>/doc``."""
        ...

    async def device_doc(self, name: str) -> Mapping[str, Any] | None:
        """``devices/<name>/doc``."""
        ...


class MemoryDirectory:
    """A :class:`Directory` in dicts, for unit tests and embedding."""

    def __init__(self, owner: Ed25519PublicKey | None = None) -> None:
        self.owner: Ed25519PublicKey | None = owner
        self.settings: dict[str, UserSettings] = {}
        self.user_docs: dict[str, Mapping[str, Any]] = {}
        self.device_docs: dict[str, Mapping[str, Any]] = {}

    def add_user(
        self,
        name: str,
        *,
        password_hash: str,
        user_type: str = "user",
        state: str = "active",
        doc: Mapping[str, Any] | None = None,
    ) -> None:
        """A user with a stored password hash (and optionally a DID document)."""
        self.settings[name] = parse_user_settings(
            name, {"user_id": name, "type": user_type, "password": password_hash, "state": state}
        )
        if doc is not None:
            self.user_docs[name] = doc

    def add_device(self, name: str, doc: Mapping[str, Any]) -> None:
        self.device_docs[name] = doc

    async def owner_key(self) -> Ed25519PublicKey | None:
        return self.owner

    async def user_settings(self, name: str) -> UserSettings | None:
        return self.settings.get(name)

    async def user_doc(self, name: str) -> Mapping[str, Any] | None:
        return self.user_docs.get(name)

    async def device_doc(self, name: str) -> Mapping[str, Any] | None:
        return self.device_docs.get(name)


class DeviceCredentials(DeviceTokenSource):
    """This node's identity towards system_config: a token signed by the device key.

    Claims ``{sub: device, appid, iss: device, jti, exp: now+ttl}``, kid = device name,
    re-signed once less than ``renew_before`` seconds remain (the runtime's
    :class:`~buckyos.runtime.security.token_signing.DeviceTokenSource`, with verify-hub's app id).
    """

    def __init__(
        self,
        device_key: Ed25519PrivateKey,
        device_name: str,
        *,
        app_id: str = "verify-hub",
        ttl: int = SERVICE_LOGIN_TTL,
        renew_before: int = 120,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not device_name:
            raise ConfigError("device name must not be empty")
        super().__init__(
            device_key, device_name, app_id=app_id, ttl=ttl, renew_before=renew_before, clock=clock
        )


class _TokenCarrier(Protocol):
    token: str | None


class SystemConfigDirectory:
    """A :class:`Directory` reading system_config through the generated stubs.

    ``invoker`` is any transport with a settable ``token`` attribute (``KrpcTransport``,
    ``GrpcTransport``, ``InProcessTransport``); an async one is used as is, a sync-only one
    from a worker thread.  Before each read the transport is given the current token of
    ``credentials`` (``None``: the transport keeps its own).
    """

    def __init__(
        self,
        invoker: UnaryInvoker | AsyncUnaryInvoker,
        *,
        owner_key: Ed25519PublicKey | None,
        credentials: DeviceCredentials | None,
        timeout: float | None = 10.0,
    ) -> None:
        if credentials is not None and not hasattr(invoker, "token"):
            raise ConfigError(
                f"{type(invoker).__name__} has no 'token' attribute to carry verify-hub's "
                "credentials; use KrpcTransport, GrpcTransport or InProcessTransport"
            )
        self.invoker = invoker
        self.credentials = credentials
        self._owner = owner_key
        self._timeout = timeout

    async def _call(self, verb: str, **params: Any) -> Any:
        """One system_config verb with the current credentials."""
        if self.credentials is not None:
            carrier: _TokenCarrier = self.invoker  # type: ignore[assignment]
            carrier.token = self.credentials.token()
        invoker = self.invoker
        if isinstance(invoker, AsyncUnaryInvoker):
            stub = AsyncSystemConfigStub(invoker, timeout=self._timeout)
            return await getattr(stub, verb)(**params)
        sync_stub = SystemConfigStub(invoker, timeout=self._timeout)
        return await asyncio.to_thread(getattr(sync_stub, verb), **params)

    async def get(self, key: str) -> str | None:
        """The value of ``key`` in system_config, ``None`` when missing."""
        result = await self._call("Get", key=key)
        return result.value if result.HasField("value") else None

    async def set(self, key: str, value: str) -> None:
        """Write ``key`` (verify-hub publishes its revocations this way)."""
        await self._call("Set", key=key, value=value)

    async def user_states(self) -> dict[str, str]:
        """The users whose state is not ``active``: ``{user_id: state}`` (a user whose
        settings cannot be read is skipped, and logged)."""
        names = (await self._call("List", key="users")).keys
        states: dict[str, str] = {}
        for name in names:
            try:
                settings = await self.user_settings(name)
            except (ReasonError, InvalidTokenError) as err:
                _log.warning("users/%s/settings unreadable for revocations: %s", name, err)
                continue
            if settings is not None and settings.state.split(":", 1)[0] != "active":
                states[settings.user_id] = settings.state
        return states

    async def owner_key(self) -> Ed25519PublicKey | None:
        return self._owner

    async def user_settings(self, name: str) -> UserSettings | None:
        raw = await self.get(f"users/{check_name(name, 'user')}/settings")
        return None if raw is None else parse_user_settings(name, raw)

    async def user_doc(self, name: str) -> Mapping[str, Any] | None:
        raw = await self.get(f"users/{check_name(name, 'user')}/doc")
        return None if raw is None else parse_document(raw, f"users/{name}/doc")

    async def device_doc(self, name: str) -> Mapping[str, Any] | None:
        raw = await self.get(f"devices/{check_name(name, 'device')}/doc")
        return None if raw is None else parse_document(raw, f"devices/{name}/doc")
