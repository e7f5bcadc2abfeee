"""How a program logs in: its login JWT, the login flow with retries, password login.

Login per type (upstream ``login_once``): a token from the environment is used as is
(one that has expired, or that the zone refuses, is an error saying so: the runtime never
falls back to the key in its configuration, another identity, unless built with
``token_fallback=True``);
otherwise an AppClient with a user key signs a user login JWT (no kid) and any other
runtime with a device key signs a service login JWT (kid = device name).  The token's
``appid`` must be this runtime's app id.  Then ``boot/config`` is read; services also
load the trust keys and the RBAC policy a server built on the runtime needs
(:mod:`~buckyos.runtime.program.trust`).  Better than upstream (#105): an AppClient's
self-signed *user* token is first traded at verify-hub, since system_config only trusts
the owner's key for a token without kid.

The login is one sans-IO flow (:mod:`~buckyos.runtime.program.flow`) that the runtime's
``login()`` and ``alogin()`` drive.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Mapping
from typing import Any, Final, Protocol

from buckyos.generated import system_config_pb2 as sc, verify_hub_pb2 as vh
from buckyos.generated.system_config_rpc import SYSTEM_CONFIG_GET
from buckyos.generated.verify_hub_rpc import VERIFY_HUB_LOGIN_BY_JWT
from buckyos.runtime.errors import (
    ConfigError,
    InvalidTokenError,
    NoPermissionError,
    ReasonError,
    RPCError,
    TokenExpiredError,
)
from buckyos.runtime.program.config import RuntimeConfig, RuntimeType
from buckyos.runtime.program.flow import Flow, Pause, call
from buckyos.runtime.program.refusals import given_token, token_hint
from buckyos.runtime.program.trust import load_rbac, trust_device_doc
from buckyos.runtime.security.passwords import password_hash, password_proof
from buckyos.runtime.security.rbac import RbacEnforcer
from buckyos.runtime.security.session_token import SessionToken, parse_unverified
from buckyos.runtime.security.token_signing import make_service_login_jwt, make_user_login_jwt
from buckyos.runtime.security.token_verifier import is_expiry_error
from buckyos.runtime.security.trust_keys import TrustKeyStore
from buckyos.runtime.wire.jsontext import json_object

__all__ = [
    "LOGIN_RETRY",
    "LoginHost",
    "RetryPolicy",
    "SessionPair",
    "is_retryable",
    "login_flow",
    "password_done",
    "password_request",
    "sign_login_jwt",
]

_log = logging.getLogger("buckyos.runtime")


# --------------------------------------------------------------------------- retries


class RetryPolicy:
    """Upstream's ``RetryPolicy``: ``attempts`` tries, delay ``base`` doubling up to
    ``cap`` plus up to ``jitter`` seconds of random jitter."""

    __slots__ = ("attempts", "base", "cap", "jitter")

    def __init__(self, attempts: int, base: float, cap: float, jitter: float) -> None:
        if attempts < 1:
            raise ValueError("attempts must be >= 1")
        self.attempts, self.base, self.cap, self.jitter = attempts, base, cap, jitter

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        scaled: float = min(self.base * float(2 ** min(max(attempt - 1, 0), 16)), self.cap)
        return scaled + (random.uniform(0, self.jitter) if self.jitter > 0 else 0.0)


LOGIN_RETRY: Final = RetryPolicy(3, 0.25, 2.0, 0.25)
"""login(): 3 tries, 250 ms doubling, cap 2 s, jitter 250 ms (upstream)."""


def is_retryable(error: BaseException) -> bool:
    """Upstream ``is_retryable_error``: a configuration error never is."""
    return isinstance(error, RPCError) and bool(error.retryable)


# --------------------------------------------------------------------------- the session


class SessionPair:
    """The session/refresh pair, swapped atomically; readers never block writers long."""

    __slots__ = ("_lock", "_parsed", "refresh", "session", "source")

    def __init__(self, session: str | None, source: str) -> None:
        self._lock = threading.Lock()
        self.session = session
        self.refresh: str | None = None
        self.source = source
        self._parsed: SessionToken | None = None

    def set(self, session: str | None, refresh: str | None, source: str) -> None:
        with self._lock:
            self.session, self.refresh, self.source = session, refresh, source
            self._parsed = None

    def parsed(self) -> SessionToken | None:
        with self._lock:
            session, parsed = self.session, self._parsed
        if session is None:
            return None
        if parsed is None or parsed.token != session:
            try:
                parsed = parse_unverified(session)
            except RPCError:
                return None
            with self._lock:
                if self.session == session:
                    self._parsed = parsed
        return parsed


class LoginHost(Protocol):
    """The runtime as login sees it: what login reads, and what a login sets."""

    @property
    def config(self) -> RuntimeConfig: ...

    @property
    def runtime_type(self) -> RuntimeType: ...

    @property
    def app_id(self) -> str: ...

    @property
    def owner_user_id(self) -> str | None: ...

    @property
    def clock(self) -> Callable[[], float]: ...

    @property
    def login_retry(self) -> RetryPolicy: ...

    @property
    def trust_keys(self) -> TrustKeyStore: ...

    @property
    def token_fallback(self) -> bool: ...

    user_id: str | None
    zone_did: str | None
    zone_config: Mapping[str, Any] | None
    boot_config: Mapping[str, Any] | None
    authenticated_user_id: str | None
    rbac: RbacEnforcer | None

    def set_tokens(self, session: str | None, refresh: str | None, *, source: str) -> None: ...

    def sign_login_jwt(self) -> str: ...

    def check_session(self) -> None: ...

    def refresh_trust_keys(self) -> None: ...


# --------------------------------------------------------------------------- signing


_DEVICE_TYPES: Final = (RuntimeType.KERNEL, RuntimeType.KERNEL_SERVICE, RuntimeType.FRAME_SERVICE)


def sign_login_jwt(host: LoginHost) -> str:
    """A fresh self-signed login JWT: the user key for an AppClient that has one,
    else the device key (upstream ``create_local_login_jwt``)."""
    config = host.config
    if (
        host.runtime_type is RuntimeType.APP_CLIENT
        and config.user_private_key is not None
        and host.user_id
    ):
        return make_user_login_jwt(
            config.user_private_key, user_id=host.user_id, app_id=host.app_id, clock=host.clock
        )
    if config.device_private_key is not None and config.device is not None:
        return make_service_login_jwt(
            config.device_private_key,
            device_name=config.device.name,
            subject=_device_subject(host, config.device.name),
            app_id=host.app_id,
            clock=host.clock,
        )
    raise ConfigError(
        f"{host.runtime_type.value} {host.app_id!r} has no key to sign a login JWT: "
        + (
            "put user_config.json and user_private_key.pem in the configuration "
            f"directory ({config.config_dir}), set {', '.join(config.token_keys)}, "
            "or log in with a password"
            if host.runtime_type is RuntimeType.APP_CLIENT
            else "pass device_private_key= (and a device), or session_token="
        )
    )


def _device_subject(host: LoginHost, device_name: str) -> str:
    """Upstream ``device_signed_login_subject``: kernel and frame services log in as
    the device; app services as their owner."""
    if host.runtime_type in _DEVICE_TYPES:
        return device_name
    if not host.owner_user_id:
        raise ConfigError("a device-signed login for an app needs owner_user_id")
    return host.owner_user_id


# --------------------------------------------------------------------------- login


def _prepare(host: LoginHost, tokens: SessionPair) -> tuple[SessionToken, bool]:
    """Check what login needs and settle the token: ``(claims, trade_first)``."""
    if not host.zone_did or not host.zone_did.startswith("did:"):
        raise ConfigError(
            f"zone id {host.zone_did!r} is not valid, login failed: set zone_did in "
            "node_identity.json (or BUCKYOS_ZONE_CONFIG, or pass zone_did=)"
        )
    if host.runtime_type in _DEVICE_TYPES and host.config.device is None:
        raise ConfigError(
            f"{host.runtime_type.value} needs this device's config: node_identity.json "
            "device_name, or BUCKYOS_THIS_DEVICE, or pass device="
        )
    host.check_session()  # a given token that has expired: an error (or the fallback)
    token = tokens.session
    if token is None:
        token = host.sign_login_jwt()
        tokens.set(token, None, "self-signed")
    try:
        claims = parse_unverified(token)
    except RPCError as err:
        raise ConfigError(
            f"session token from {tokens.source or 'the runtime'} is not a JWT "
            f"({err}); set a token issued for {host.app_id!r}"
        ) from None
    if claims.app_id != host.app_id:
        raise ConfigError(
            f"session token from {tokens.source or 'the runtime'} is for appid "
            f"{claims.app_id!r}, but this runtime is {host.app_id!r}: "
            "Session token is not valid"
        )
    # An AppClient's self-signed user token has no kid: system_config would look it up
    # as the owner's key.  verify-hub knows users' keys, so trade it there first.
    trade = (
        host.runtime_type is RuntimeType.APP_CLIENT
        and not claims.issued_by_verify_hub
        and claims.kid is None
        and claims.iss not in (None, "root")
    )
    return claims, trade


def _serves(host: LoginHost) -> bool:
    """Kernel and frame services load what serving needs at login (upstream)."""
    return host.runtime_type in (RuntimeType.KERNEL_SERVICE, RuntimeType.FRAME_SERVICE)


def _login_keys(host: LoginHost) -> list[str]:
    """What login reads: ``boot/config``; a serving runtime also the RBAC tail and,
    when no configuration gave this device's public key, its document."""
    keys = ["boot/config"]
    if _serves(host):
        keys.append("system/rbac/policy")
        device = host.config.device
        if device is not None and device.public_key is None:
            keys.append(f"devices/{device.name}/doc")
    return keys


def _optional_login_key(key: str) -> bool:
    """This device's doc only adds a trust key: a role that may not read ``devices/``
    (a frame or app service) logs in without it."""
    return key.startswith("devices/")


def _finish(
    host: LoginHost,
    claims: SessionToken,
    boot_text: str | None,
    policy_text: str | None = None,
    device_doc: str | None = None,
) -> None:
    """Apply what :func:`_login_keys` read."""
    if boot_text is None:
        raise ReasonError("get boot config(Zone config) failed: boot/config is missing")
    boot = json_object(boot_text, "boot/config", ReasonError)
    host.boot_config = boot
    host.zone_config = boot
    zone = boot.get("id")
    if not isinstance(zone, str):
        doc = boot.get("zone_document")
        zone = doc.get("id") if isinstance(doc, dict) else None
    if isinstance(zone, str) and zone:
        host.zone_did = zone
    host.authenticated_user_id = claims.sub
    if _serves(host):
        host.rbac = load_rbac(host.rbac, policy_text)
        device = host.config.device
        if device_doc is not None and device is not None:
            trust_device_doc(host.trust_keys, device, device_doc)
        host.refresh_trust_keys()


def _login_once(host: LoginHost, tokens: SessionPair) -> Flow[None]:
    claims, trade = _prepare(host, tokens)
    source = tokens.source
    if given_token(source) is None:
        yield from _login_with(host, claims, trade)
        return
    try:
        yield from _login_with(host, claims, trade)
    except RPCError as exc:
        # A given token the zone refused: verify-hub's trade (any refusal) or a read
        # (its token refused).  Say so; fall back to our own key only when asked to.
        token_refused = isinstance(exc, (InvalidTokenError, TokenExpiredError))
        if not (token_refused or (trade and not exc.retryable)):
            raise
        if not host.token_fallback:
            expired = is_expiry_error(exc) or claims.expires_in(host.clock()) <= 0
            raise exc.with_hint(token_hint(source, claims.exp, host.clock(), expired)) from None
        _log.warning(
            "%s was refused (%s); token_fallback: logging in with the configuration's key",
            source,
            exc,
        )
        tokens.set(host.sign_login_jwt(), None, "self-signed")
        claims, trade = _prepare(host, tokens)
        yield from _login_with(host, claims, trade)


def _login_with(host: LoginHost, claims: SessionToken, trade: bool) -> Flow[None]:
    if trade:
        pair = yield from call(VERIFY_HUB_LOGIN_BY_JWT, vh.LoginByJwtRequest(jwt=claims.token))
        host.set_tokens(pair.session_token, pair.refresh_token, source="verify-hub")
    texts: list[str | None] = []
    for key in _login_keys(host):
        try:
            found = yield from call(SYSTEM_CONFIG_GET, sc.KeyRequest(key=key))
        except NoPermissionError:
            if not _optional_login_key(key):
                raise
            found = sc.GetResult()
        texts.append(found.value if found.HasField("value") else None)
    _finish(host, claims, *texts)


def login_flow(host: LoginHost, tokens: SessionPair) -> Flow[None]:
    """The login, retried on retryable errors per ``host.login_retry`` (upstream: 3 tries,
    250 ms doubling, cap 2 s, jitter); its calls go to the runtime's routes."""
    policy = host.login_retry
    for attempt in range(1, policy.attempts + 1):
        try:
            yield from _login_once(host, tokens)
            return
        except BaseException as exc:
            if not is_retryable(exc) or attempt == policy.attempts:
                raise
            delay = policy.delay(attempt)
            _log.warning("login attempt %d failed (%s); retry in %.2fs", attempt, exc, delay)
            yield Pause(delay)


# --------------------------------------------------------------------------- password


def password_request(
    host: LoginHost, username: str, password: str, app_instance_id: str | None
) -> vh.LoginByPasswordRequest:
    """verify-hub's ``login_by_password`` request, with its nonce scheme."""
    nonce = int(host.clock() * 1000)
    return vh.LoginByPasswordRequest(
        username=username,
        password=password_proof(password_hash(username, password), nonce),
        appid=host.app_id,
        # upstream's app_availability form: ``<app_id>@<owner_user_id>``
        app_instance_id=app_instance_id or f"{host.app_id}@{host.owner_user_id or username}",
        login_nonce=nonce,
    )


def password_done(host: LoginHost, result: vh.LoginByPasswordResult) -> vh.LoginByPasswordResult:
    """The pair becomes ``host``'s session; the user is who verify-hub says."""
    host.set_tokens(result.session_token, result.refresh_token, source="verify-hub")
    host.user_id = host.user_id or result.user_info.user_id or None
    host.authenticated_user_id = result.user_info.user_id or None
    return result
