"""The client runtime: who this program is, how it logs in, and where services live.

Upstream's lifecycle (``buckyos-api/src/lib.rs``), kept::

    rt = init_buckyos_api_runtime("my-app", owner_user_id="alice",
                                  runtime_type=RuntimeType.APP_CLIENT)
    rt.login()                        # or: await rt.alogin()
    set_buckyos_api_runtime(rt)       # once; starts the keep-alive
    SystemConfigStub(get_buckyos_api_runtime()).Set(key=..., value=...)

The runtime **is an invoker** (``invoke``/``ainvoke``/``with_token``): stubs take it
directly.  Each call goes through a :class:`~buckyos.runtime.client.routing.Router` whose
candidates follow upstream's mode per runtime type
(:mod:`~buckyos.runtime.program.routes`).  Login per type is
:mod:`~buckyos.runtime.program.login`; the keys and RBAC policy a server built on the
runtime needs (:meth:`BuckyOSRuntime.token_verifier`, :attr:`BuckyOSRuntime.rbac`) are
:mod:`~buckyos.runtime.program.trust`; the background renewal is
:mod:`~buckyos.runtime.program.keepalive`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal, TypedDict, Unpack, cast

from buckyos.generated import verify_hub_pb2 as vh
from buckyos.generated.system_config_rpc import AsyncSystemConfigStub, SystemConfigStub
from buckyos.generated.verify_hub_rpc import AsyncVerifyHubStub, VerifyHubStub
from buckyos.runtime.client.routing import Router
from buckyos.runtime.descriptor import MethodDescriptor, ReqT, RespT
from buckyos.runtime.errors import (
    ConfigError,
    InvalidTokenError,
    NoPermissionError,
    RPCError,
    TokenExpiredError,
)
from buckyos.runtime.program.config import DeviceConfig, RuntimeConfig, RuntimeType, load_config
from buckyos.runtime.program.flow import adrive, drive
from buckyos.runtime.program.keepalive import KeepAlive, RuntimeHealth
from buckyos.runtime.program.login import (
    LOGIN_RETRY,
    RetryPolicy,
    SessionPair,
    login_flow,
    password_done,
    password_request,
    sign_login_jwt,
)
from buckyos.runtime.program.paths import app_folder, settings_path, sys_config_path
from buckyos.runtime.program.refusals import (
    expired_message,
    given_token,
    permission_hint,
    token_hint,
)
from buckyos.runtime.program.routes import SYSTEM_CONFIG_PORT, ServiceRoutes
from buckyos.runtime.program.trust import trust_from_boot, trust_from_config
from buckyos.runtime.security.keys import Ed25519PrivateKey
from buckyos.runtime.security.passwords import password_hash, password_proof
from buckyos.runtime.security.rbac import RbacEnforcer
from buckyos.runtime.security.session_token import SessionToken, parse_unverified
from buckyos.runtime.security.token_verifier import TokenVerifier, is_expiry_error
from buckyos.runtime.security.trust_keys import TrustKeyStore

__all__ = [
    "LOGIN_RETRY",
    "SYSTEM_CONFIG_PORT",
    "BuckyOSRuntime",
    "RetryPolicy",
    "RuntimeType",
    "get_buckyos_api_runtime",
    "init_buckyos_api_runtime",
    "is_buckyos_api_runtime_set",
    "password_hash",
    "password_proof",
    "reset_buckyos_api_runtime",
    "set_buckyos_api_runtime",
]


_log = logging.getLogger("buckyos.runtime")


class BuckyOSRuntime:
    """One program's identity, session and service routes; an invoker for stubs.

    Build it with :func:`init_buckyos_api_runtime` (which reads the configuration) or
    directly from a :class:`~buckyos.runtime.program.config.RuntimeConfig`.

    A session token the program is **given** (the environment's, e.g.
    ``$BUCKYOS_APPCLIENT_SESSION_TOKEN``, or ``session_token=``) is its identity: when it
    has expired or the zone refuses it, calls and :meth:`login` fail saying so, and nothing
    signs in as another identity with a key of the configuration (the user key an
    AppClient's folder may hold).  ``token_fallback=True`` asks for that fallback.
    """

    def __init__(
        self,
        config: RuntimeConfig,
        *,
        system_config_url: str | None = None,
        service_urls: Mapping[str, str] | None = None,
        gateway_url: str | None = None,
        prefer: Literal["krpc", "grpc"] | None = None,
        inprocess: bool = True,
        timeout: float = 15.0,
        dead_for: float = 10.0,
        info_ttl: float = 10.0,
        login_retry: RetryPolicy = LOGIN_RETRY,
        clock: Callable[[], float] = time.time,
        token_fallback: bool = False,
    ) -> None:
        if prefer not in (None, "krpc", "grpc"):
            raise ConfigError(f"prefer must be 'krpc', 'grpc' or None, got {prefer!r}")
        self.config = config
        self.runtime_type = config.runtime_type
        self.app_id = config.app_id
        self.owner_user_id = config.owner_user_id
        self.user_id = config.user_id
        self.zone_did = config.zone_did
        self.zone_config: Mapping[str, Any] | None = config.zone_config
        self.boot_config: Mapping[str, Any] | None = None
        self.authenticated_user_id: str | None = None
        self.prefer = prefer
        self.use_inprocess = inprocess
        self.login_retry = login_retry
        self.clock = clock
        self.trust_keys = TrustKeyStore()
        self.rbac: RbacEnforcer | None = None
        self.service_ports: dict[str, int] = {}
        self.start_time = int(clock())
        self.token_fallback = token_fallback
        self._tokens = SessionPair(config.session_token, config.sources.get("session_token", ""))
        # The given token's (source, subject): no self-signed token replaces it with
        # another subject unless token_fallback (see the class docstring).
        self._given: tuple[str, str | None] | None = None
        if config.session_token is not None and given_token(self._tokens.source) is not None:
            info = self._tokens.parsed()
            self._given = (self._tokens.source, info.sub if info is not None else None)
        self._routes = ServiceRoutes(
            self,
            service_urls=service_urls,
            system_config_url=system_config_url,
            gateway_url=gateway_url,
            info_ttl=info_ttl,
        )
        self._router = Router(
            self._routes.candidates,
            acandidates=self._routes.acandidates,
            token=self.current_token,
            timeout=timeout,
            dead_for=dead_for,
        )
        self._keepalive: KeepAlive | None = None
        self._closed = False
        trust_from_config(self.trust_keys, config)

    def __repr__(self) -> str:
        return f"<BuckyOSRuntime {self.runtime_type.value} {self.full_app_id}>"

    # -- identity ---------------------------------------------------------------------------

    @property
    def full_app_id(self) -> str:
        """``"{owner}-{app}"`` (upstream ``get_full_appid``: AppClient only, owner
        ``root`` when none; a service's id is its app id)."""
        return self.config.full_app_id

    @property
    def device_name(self) -> str | None:
        return self.config.device.name if self.config.device is not None else None

    @property
    def is_service(self) -> bool:
        return self.runtime_type.is_service

    @property
    def session_token(self) -> str | None:
        """The session token calls carry now (renewed by the keep-alive)."""
        return self._tokens.session

    @property
    def refresh_token(self) -> str | None:
        return self._tokens.refresh

    def token_info(self) -> SessionToken | None:
        """The current session token's claims, unverified (our own token)."""
        return self._tokens.parsed()

    def set_tokens(self, session: str | None, refresh: str | None, *, source: str) -> None:
        """Replace the session pair (the keep-alive and password login use this)."""
        self._tokens.set(session, refresh, source)

    def current_token(self) -> str | None:
        """The token for the next call.  A self-signed token about to expire is re-signed
        when the key is at hand (upstream ``get_session_token``), so a call never goes out
        with a token that is known to be dead."""
        info = self._tokens.parsed()
        if info is None or info.issued_by_verify_hub or info.expires_in(self.clock()) > 10:
            return self._tokens.session
        try:
            fresh = self.sign_login_jwt()
        except ConfigError:  # no key, or it is another identity's than a given token's
            return self._tokens.session
        self._tokens.set(fresh, self._tokens.refresh, "self-signed")
        return fresh

    # -- paths and folders ------------------------------------------------------------------

    def _app_folder(self, kind: str) -> Path:
        return app_folder(self.runtime_type, self.config.root, self.user_id, self.app_id, kind)

    def data_folder(self) -> Path:
        """``$BUCKYOS_ROOT/data/<user>/<app>`` (AppService) or ``data/<app>``."""
        return self._app_folder("data")

    def cache_folder(self) -> Path:
        """``$BUCKYOS_ROOT/cache/<user>/<app>`` (AppService) or ``cache/<app>``."""
        return self._app_folder("cache")

    def local_cache_folder(self) -> Path:
        """``$BUCKYOS_ROOT/tmp/<user>/<app>`` (AppService) or ``tmp/<app>``."""
        return self._app_folder("tmp")

    def settings_path(self) -> str:
        """The system_config key of this program's settings (upstream
        ``get_my_settings_path``): ``users/<user>/apps/<app>/settings`` or
        ``services/<app>/settings``."""
        return settings_path(self.runtime_type, self.user_id, self.app_id)

    def sys_config_path(self, name: str) -> str:
        """``users/<user>/apps/<app>/<name>`` (AppClient/AppService) or
        ``services/<app>/<name>`` (upstream ``get_my_sys_config_path``)."""
        return sys_config_path(self.runtime_type, self.user_id, self.app_id, name)

    # -- clients ----------------------------------------------------------------------------

    def get_system_config_client(self) -> SystemConfigStub:
        return SystemConfigStub(self)

    def get_async_system_config_client(self) -> AsyncSystemConfigStub:
        return AsyncSystemConfigStub(self)

    def get_verify_hub_client(self) -> VerifyHubStub:
        return VerifyHubStub(self)

    def get_async_verify_hub_client(self) -> AsyncVerifyHubStub:
        return AsyncVerifyHubStub(self)

    # -- invoker ----------------------------------------------------------------------------

    def invoke(
        self, method: MethodDescriptor[ReqT, RespT], request: ReqT, *, timeout: float | None = None
    ) -> RespT:
        """Call one verb on the best route for its api (see the module docstring).  A
        refusal comes back with a hint of what it means here (:meth:`explain`)."""
        try:
            return self._router.invoke(method, request, timeout=timeout)
        except RPCError as exc:
            raise self.explain(exc, method, request) from None

    async def ainvoke(
        self, method: MethodDescriptor[ReqT, RespT], request: ReqT, *, timeout: float | None = None
    ) -> RespT:
        try:
            return await self._router.ainvoke(method, request, timeout=timeout)
        except RPCError as exc:
            raise self.explain(exc, method, request) from None

    def explain(
        self, error: RPCError, method: MethodDescriptor[Any, Any], request: Any
    ) -> RPCError:
        """``error`` with a hint (:meth:`RPCError.with_hint`; its wire text unchanged): a
        refused given token names where it came from and what to do; ``No permission``
        names the key, this session's user and app and the likely cause."""
        if isinstance(error, (InvalidTokenError, TokenExpiredError)):
            info = self._tokens.parsed()
            now = self.clock()
            expired = is_expiry_error(error) or (info is not None and info.expires_in(now) <= 0)
            exp = info.exp if info is not None else None
            return error.with_hint(token_hint(self._tokens.source, exp, now, expired))
        if isinstance(error, NoPermissionError):
            info = self._tokens.parsed()
            key = getattr(request, "key", None)
            return error.with_hint(
                permission_hint(
                    method.api,
                    method.krpc,
                    key if isinstance(key, str) else None,
                    error.detail,
                    info.sub if info is not None else None,
                    info.app_id if info is not None else None,
                )
            )
        return error

    def with_token(self, token: str | None) -> Router:
        """An invoker on the same routes that carries ``token`` (for ``req.subcall``)."""
        return self._router.with_token(token)

    @property
    def local_host(self) -> str:
        """How this program reaches its node: the host gateway from a container."""
        return self._routes.local_host

    # -- login and trust ------------------------------------------------------------------

    def sign_login_jwt(self) -> str:
        """A fresh self-signed login JWT: the user key for an AppClient that has one,
        else the device key (upstream ``create_local_login_jwt``).  A ``ConfigError`` when
        that would replace a given token's identity with another (unless
        ``token_fallback``)."""
        token = sign_login_jwt(self)
        if self._given is not None and not self.token_fallback:
            source, subject = self._given
            signed = parse_unverified(token).sub
            if signed != subject:
                where, fix = given_token(source) or ("the given session token", "renew it")
                raise ConfigError(
                    f"{where} is a session of {subject!r}: this runtime does not switch to "
                    f"{signed!r} (the key in {self.config.config_dir or 'its configuration'}) "
                    f"on its own; {fix}, or pass token_fallback=True to fall back to that key"
                )
        return token

    def check_session(self) -> None:
        """Refuse a given session token (environment, ``session_token=``) that has expired,
        before any call: a ``ConfigError`` ``the session token in $X expired at ...; log in
        again or unset X``.  With ``token_fallback`` a self-signed token replaces it."""
        given = self._given
        info = self._tokens.parsed()
        if given is None or self._tokens.source != given[0] or info is None:
            return
        now = self.clock()
        if info.expires_in(now) > 0:
            return
        if not self.token_fallback:
            raise ConfigError(expired_message(given[0], info.exp, now))
        _log.warning(
            "%s expired; token_fallback: signing in with the configuration's key", given[0]
        )
        self._tokens.set(self.sign_login_jwt(), None, "self-signed")

    def login(self) -> None:
        """Log in (:mod:`~buckyos.runtime.program.login`); retried on retryable errors
        (upstream: 3 tries, 250 ms doubling, cap 2 s, jitter)."""
        drive(login_flow(self, self._tokens), self)

    async def alogin(self) -> None:
        """The asyncio twin of :meth:`login`."""
        await adrive(login_flow(self, self._tokens), self)

    def login_by_password(
        self, username: str, password: str, *, app_instance_id: str | None = None
    ) -> vh.LoginByPasswordResult:
        """Log a user in at verify-hub with its nonce scheme; the pair becomes this
        runtime's session (no ``login()`` needed before)."""
        request = password_request(self, username, password, app_instance_id)
        # No token on this call: a password login must not carry an old session.
        result = VerifyHubStub(self.with_token(None)).LoginByPassword(request)
        self._given = None  # an identity asked for: no longer the given token's
        return password_done(self, result)

    async def alogin_by_password(
        self, username: str, password: str, *, app_instance_id: str | None = None
    ) -> vh.LoginByPasswordResult:
        """The asyncio twin of :meth:`login_by_password`."""
        request = password_request(self, username, password, app_instance_id)
        result = await AsyncVerifyHubStub(self.with_token(None)).LoginByPassword(request)
        self._given = None
        return password_done(self, result)

    def refresh_trust_keys(self) -> None:
        """Trust this device, the zone owner and verify-hub (upstream
        ``refresh_trust_keys``): from the configuration and ``boot/config``."""
        trust_from_config(self.trust_keys, self.config)
        trust_from_boot(self.trust_keys, self.boot_config, self.config.owner_did)

    def token_verifier(self, **options: Any) -> TokenVerifier:
        """A verifier over this runtime's trust keys, for a Binding served on it."""
        return TokenVerifier(self.trust_keys, **options)

    def rbac_enforcer(self) -> RbacEnforcer:
        """The RBAC enforcer login loaded (the default policy before login)."""
        if self.rbac is None:
            self.rbac = RbacEnforcer()
        return self.rbac

    # -- keep-alive and lifecycle -----------------------------------------------------------

    def set_main_service_port(self, port: int, *, grpc_port: int | None = None) -> None:
        """The ports this service listens on, written into its instance record."""
        self.service_ports["www"] = port
        if grpc_port is not None:
            self.service_ports["grpc"] = grpc_port

    def keepalive(self, **settings: Any) -> KeepAlive:
        """This runtime's keep-alive (made on first use; ``settings`` go to it then)."""
        if self._keepalive is None:
            self._keepalive = KeepAlive(self, **settings)
        return self._keepalive

    def start_keepalive(self, **settings: Any) -> KeepAlive:
        """Start the keep-alive: a task on the running loop, else a daemon thread."""
        keepalive = self.keepalive(**settings)
        keepalive.start()
        return keepalive

    def health(self) -> RuntimeHealth:
        """The keep-alive's report: ok, degraded (with the last error) or stopped."""
        if self._keepalive is None:
            info = self.token_info()
            return RuntimeHealth(
                state="stopped",
                last_error=None,
                token_expires_at=info.exp if info else None,
                tasks={},
            )
        return self._keepalive.health()

    def close(self) -> None:
        """Stop the keep-alive (joining its thread) and close pooled connections."""
        if self._keepalive is not None:
            self._keepalive.stop()
        self._router.close()
        self._closed = True

    async def aclose(self) -> None:
        """The asyncio twin of :meth:`close`."""
        if self._keepalive is not None:
            await self._keepalive.astop()
        await self._router.aclose()
        self._closed = True

    def __enter__(self) -> BuckyOSRuntime:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> BuckyOSRuntime:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


# --------------------------------------------------------------------------- process-wide


_registry_lock = threading.Lock()
_current: BuckyOSRuntime | None = None


class RuntimeOptions(TypedDict, total=False):
    """How a runtime reaches services: :class:`BuckyOSRuntime`'s keywords (its defaults)."""

    system_config_url: str | None
    service_urls: Mapping[str, str] | None
    gateway_url: str | None
    prefer: Literal["krpc", "grpc"] | None
    inprocess: bool
    timeout: float
    dead_for: float
    info_ttl: float
    login_retry: RetryPolicy
    clock: Callable[[], float]
    token_fallback: bool


class ConfigOverrides(TypedDict, total=False):
    """What the configuration would otherwise be read from: the explicit keywords of
    :func:`~buckyos.runtime.program.config.load_config` (which wins over env and files)."""

    environ: Mapping[str, str] | None
    root: str | Path | None
    config_dir: str | Path | None
    zone_did: str | None
    device: Mapping[str, Any] | DeviceConfig | None
    device_private_key: Ed25519PrivateKey | str | Path | None
    user_private_key: Ed25519PrivateKey | str | Path | None
    session_token: str | None
    web3_bridge: Mapping[str, str] | None
    force_https: bool | None
    host_gateway: str | None
    home: str | Path | None
    program: str | Path | None


class InitOptions(RuntimeOptions, ConfigOverrides, total=False):
    """:func:`init_buckyos_api_runtime`'s keywords: both of the above."""


def init_buckyos_api_runtime(
    app_id: str,
    owner_user_id: str | None = None,
    runtime_type: RuntimeType = RuntimeType.APP_CLIENT,
    **options: Unpack[InitOptions],
) -> BuckyOSRuntime:
    """Read the configuration and build a runtime (upstream ``init_buckyos_api_runtime``).

    ``options`` are :class:`ConfigOverrides` (``zone_did=``, ``device=``,
    ``device_private_key=``, ``session_token=``, ``config_dir=``, ``root=``,
    ``environ=``...: the configuration's explicit values) and :class:`RuntimeOptions`
    (``service_urls=``, ``gateway_url=``, ``prefer=``, ``timeout=``...: how it reaches
    services).  Fails when a runtime is already registered, as upstream does.

    ``token_fallback=True``: when the session token the environment gives (e.g.
    ``$BUCKYOS_APPCLIENT_SESSION_TOKEN``) has expired or is refused, log in with the key
    of the configuration instead (by default that is an error, never a silent switch).
    """
    unknown = sorted(set(options) - InitOptions.__optional_keys__)
    if unknown:
        raise TypeError(f"init_buckyos_api_runtime() got unexpected keyword arguments {unknown}")
    if _current is not None:
        raise ConfigError(
            "BuckyOSRuntime already initialized: get_buckyos_api_runtime() returns it"
        )
    overrides = cast(
        ConfigOverrides,
        {k: v for k, v in options.items() if k in ConfigOverrides.__optional_keys__},
    )
    routes = cast(
        RuntimeOptions,
        {k: v for k, v in options.items() if k in RuntimeOptions.__optional_keys__},
    )
    config = load_config(runtime_type, app_id, owner_user_id, **overrides)
    return BuckyOSRuntime(config, **routes)


def set_buckyos_api_runtime(runtime: BuckyOSRuntime, **keepalive: Any) -> None:
    """Register ``runtime`` for the process (once) and start its keep-alive (a task when
    called in a running loop, else a thread).  ``keepalive`` settings go to
    :class:`~buckyos.runtime.program.keepalive.KeepAlive` (intervals, clock)."""
    global _current
    with _registry_lock:
        if _current is not None:
            raise ConfigError(
                "BuckyOSRuntime is already registered: set_buckyos_api_runtime() is "
                "called once per process"
            )
        _current = runtime
    if runtime.zone_did:
        runtime.start_keepalive(**keepalive)
    else:
        _log.info("no zone id: the keep-alive is not started")


def get_buckyos_api_runtime() -> BuckyOSRuntime:
    """The registered runtime; before :func:`set_buckyos_api_runtime` a clear error."""
    runtime = _current
    if runtime is None:
        raise ConfigError(
            "BuckyOSRuntime is not initialized: call init_buckyos_api_runtime(), "
            "rt.login(), then set_buckyos_api_runtime(rt)"
        )
    return runtime


def is_buckyos_api_runtime_set() -> bool:
    return _current is not None


def reset_buckyos_api_runtime() -> BuckyOSRuntime | None:
    """Forget the registered runtime and close it; returns it.  For orderly shutdown
    and tests (upstream's registration cannot be undone)."""
    global _current
    with _registry_lock:
        runtime, _current = _current, None
    if runtime is not None:
        runtime.close()
    return runtime
