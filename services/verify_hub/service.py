"""The verify-hub servicer: every verb of upstream's ``verify_hub/src/main.rs``.

Tokens it issues (EdDSA, header ``{"alg":"EdDSA","kid":"verify-hub"}``, no ``typ``):

- session token ``{appid, jti, sub, iss: "verify-hub", exp: now+900, session,
  principal_kind, app_instance_id?, app_owner_user_id?}`` (``sudo: true`` and 180 s for
  ``sudo_by_password``, with ``aud`` when the caller asked for one);
- refresh token: the same claims plus ``aud: "verify-hub"``, 7 days.

Where we differ from upstream, on purpose (each is in ``docs/verify-hub.md``):

- session state is persisted (:mod:`.state`), so a restart keeps every session refreshable;
- a login JWT's ``jti`` is single-use per issuer, and a password nonce per user, whatever
  ``app_instance_id`` the replay names (upstream keys both by app instance too, so a replay
  naming another instance passed);
- ``refresh_token``/``logout`` take only a refresh token: a session token is refused
  without touching the session (upstream treated it as a reused refresh token and revoked
  the session, so anyone holding a session token could end it);
- ``verify_token`` refuses the session tokens of a logged-out or revoked session;
- ``logout`` needs no session token in ``sys`` (upstream's takes only the refresh token);
- app availability policies (``services/control_panel/app_availability``) are not
  consulted: an ``app_instance_id`` must name the login's ``appid``, nothing more;
- a user's own login (password, sudo, a JWT signed by ``users/<iss>/doc``) may not claim
  the app ids of :data:`RESERVED_APP_IDS`, a user signs login JWTs only for itself, and no
  user session is issued for a reserved RBAC name (:data:`RESERVED_SUBJECTS`);
- user names are one key segment spelt one way (:func:`.directory.check_name`), and a
  user's ``settings.user_id`` must be its name: nonces, sessions and the throttle are keyed
  by that one spelling;
- failed password logins are throttled per user and per client address (:mod:`.throttle`);
- a login JWT may not expire more than :data:`MAX_LOGIN_JWT_LIFETIME` ahead;
- a refresh token traded less than :data:`REFRESH_RETRY_WINDOW` seconds ago may be
  presented again (the answer was lost): it gets the same pair, not a revoked session.
"""

from __future__ import annotations

import asyncio
import enum
import ipaddress
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from google.protobuf import empty_pb2

from buckyos.generated import verify_hub_pb2 as pb
from buckyos.generated.verify_hub_rpc import VerifyHubServicer
from buckyos.runtime import (
    ConfigError,
    InvalidPasswordError,
    InvalidTokenError,
    NoPermissionError,
    ParseRequestError,
    ReasonError,
    RPCError,
    UserNotFoundError,
)
from buckyos.runtime.security import (
    ALGORITHM,
    DEFAULT_LEEWAY,
    DEFAULT_RBAC_POLICY,
    REFRESH_AUDIENCE,
    REVOKED_SESSION,
    VERIFY_HUB_KID,
    Ed25519PrivateKey,
    Ed25519PublicKey,
    SessionToken,
    TokenVerifier,
    TrustKeyStore,
    decode_unverified,
    public_key_from_doc,
    sign_token,
    verify_hub_session_key,
)
from buckyos.runtime.server import Request

from .directory import Directory, UserSettings, check_name
from .passwords import NONCE_WINDOW_MS, check_login_password, nonce_is_fresh
from .revocations import RevocationPublisher
from .state import Check, Reissue, SessionStore, Verdict
from .throttle import LoginThrottle, address_key, client_address

__all__ = [
    "FORWARDED_MAX_LIFETIME",
    "MAX_LOGIN_JWT_LIFETIME",
    "REFRESH_RETRY_WINDOW",
    "REFRESH_TOKEN_TTL",
    "RESERVED_APP_IDS",
    "RESERVED_SUBJECTS",
    "RESERVED_SUBJECT_PREFIX",
    "SESSION_TOKEN_TTL",
    "SUDO_TOKEN_TTL",
    "SYSTEM_APP_OWNER",
    "AppScope",
    "Principal",
    "VerifyHubService",
    "parse_app_instance_id",
]

SESSION_TOKEN_TTL: Final = 15 * 60
SUDO_TOKEN_TTL: Final = 3 * 60
REFRESH_TOKEN_TTL: Final = 7 * 24 * 3600
ISSUER: Final = VERIFY_HUB_KID
SYSTEM_APP_OWNER: Final = "system"
_ROOT_REFUSED: Final = "verify-hub does not issue session tokens for root"
_SEQ_IN_MICROS: Final = 10_000_000_000_000  # a kRPC seq above this counts microseconds
_ID_PART: Final = re.compile(r"^[A-Za-z0-9_.-]+$")

RESERVED_APP_IDS: Final = frozenset({"kernel", "node-daemon", "scheduler"})
"""App ids a user's own login (password, sudo, a JWT signed by ``users/<iss>/doc``) may not
claim: ``kernel`` skips system_config's user check, ``node-daemon`` and ``scheduler`` may
dump the whole config.  Only a login JWT signed by the zone owner (``iss: root``) or a
zone device (``devices/<iss>/doc``) names them.  Other kernel-group apps (``buckycli``,
``verify-hub``, ...) are checked by RBAC against the user as well, so they stay open."""

RESERVED_SUBJECT_PREFIX: Final = "su_"
"""Sudo subjects (``su_<user>``, ``su_admin`` may do anything) are no user names."""


def _rbac_names(policy: str) -> frozenset[str]:
    """Every subject of a ``p`` line and both names of a ``g`` line of ``policy``."""
    names: set[str] = set()
    for line in policy.splitlines():
        parts = [part.strip() for part in line.split(",")]
        if parts[0] == "p" and len(parts) > 1:
            names.add(parts[1])
        elif parts[0] == "g" and len(parts) > 2:
            names.update(parts[1:3])
    return frozenset(name.casefold() for name in names if name)


RESERVED_SUBJECTS: Final = _rbac_names(DEFAULT_RBAC_POLICY) - {"admin"}
"""Names no user session may carry as its subject: the roles and app ids of upstream's
default RBAC policy (``kernel``, ``ood``, ``root``, ``system``, ``frame``, ``app``,
``agent``, ``users``, ``node-daemon``, ``buckycli``, ``control-panel``, ``aicc``, ...),
compared case-insensitively, plus any ``su_`` name.  A user called ``kernel`` or
``node-daemon`` would *be* that role to casbin (``g, node-daemon, kernel``) without any
policy line naming the user.  ``admin`` stays a user name: a zone's first user is
commonly called ``admin`` (ours is), and the ``admin`` role's rules are scoped to
``{admin}``, the user's own subtree."""

MAX_LOGIN_JWT_LIFETIME: Final = 3600
"""How far ahead of verify-hub's clock a login JWT's ``exp`` may be, in seconds.  Upstream
signs them for 900 s (a user) or 1200 s (a service); an hour leaves room for clock skew.
A further ``exp`` would keep its used-once row that long (or overflow SQLite's integers)."""

REFRESH_RETRY_WINDOW: Final = 30
"""Seconds after a refresh during which the traded refresh token, presented again, gets
the same new pair (the answer was lost) instead of revoking the session as a theft."""

FORWARDED_MAX_LIFETIME: Final = 300
"""A gateway's ``x-buckyos-client`` JWT must expire within this many seconds (it signs them
for 120 s): a captured one is not good for long."""


class Principal(enum.Enum):
    """``principal_kind``: who a session belongs to."""

    USER = "user"
    DEVICE = "device"
    SERVICE = "service"


class _Issuer(enum.Enum):
    ROOT = "root"
    USER = "user"
    DEVICE = "device"


@dataclass(frozen=True, slots=True)
class AppScope:
    """The app instance a user session is bound to (claims ``app_instance_id`` and, for an
    app not owned by ``system``, ``app_owner_user_id``)."""

    app_instance_id: str
    owner_user_id: str | None


def parse_app_instance_id(value: str) -> tuple[str, str]:
    """``<app_id>@<owner_user_id>`` -> ``(app_id, owner)``, with upstream's refusal texts."""
    value = value.strip()
    app_id, at, owner = value.rpartition("@")
    if not at:
        raise ParseRequestError("app_instance_id must be `<app_id>@<owner_user_id>`")
    if not app_id or not owner:
        raise ParseRequestError("app_instance_id must contain non-empty app and owner ids")
    if len(owner) > 64 or not _ID_PART.match(owner):
        raise ParseRequestError("app_instance_id contains invalid owner characters")
    if len(app_id) > 128 or not _ID_PART.match(app_id):
        raise ParseRequestError("app_instance_id contains invalid app characters")
    return app_id, owner


def _is_root(user_id: str) -> bool:
    return user_id.strip().lower() == "root"


def _reject_root(user_id: str) -> None:
    if _is_root(user_id):
        raise NoPermissionError(_ROOT_REFUSED)


def _check_user_subject(sub: str) -> None:
    """A user session's subject may not be a reserved RBAC name (:data:`RESERVED_SUBJECTS`)."""
    folded = sub.casefold()
    if folded in RESERVED_SUBJECTS or folded.startswith(RESERVED_SUBJECT_PREFIX):
        raise NoPermissionError(
            f"{sub!r} is a reserved RBAC name (a role, a system app id or a sudo subject), "
            "not a user name: verify-hub issues no user session for it"
        )


def _check_user_app(appid: str) -> None:
    """A user's own login may not claim an app id of :data:`RESERVED_APP_IDS`."""
    if appid.casefold() in RESERVED_APP_IDS:
        raise NoPermissionError(
            f"app id {appid!r} is for zone-trusted services (devices) only: a user's own "
            "login may not claim kernel, node-daemon or scheduler"
        )


def _nonce_key(user_id: str, nonce: int) -> str:
    return f"{user_id}/{nonce}"


def _session_id(token: SessionToken) -> str:
    value = token.session
    if value is None:
        raise ReasonError("Missing session")
    if isinstance(value, int):
        if value < 0:
            raise ReasonError("Invalid session")
        return str(value)
    if not value.isdigit():
        raise ReasonError("Invalid session")
    return str(int(value))


def _principal(token: SessionToken) -> Principal:
    try:
        return Principal(token.principal_kind)
    except ValueError:
        raise InvalidTokenError("Missing or invalid principal_kind") from None


def _instance_claim(token: SessionToken) -> str:
    if token.app_instance_id is None:
        raise InvalidTokenError("missing app_instance_id claim")
    return token.app_instance_id


def _unverified_jti(token: str, header: dict[str, Any], claims: dict[str, Any]) -> str | None:
    """The ``jti`` (or classic ``nonce``) a login JWT claims, before it is verified: only
    to look it up among the used ones, never to accept anything."""
    try:
        return SessionToken.from_parts(token, header, claims).jti
    except InvalidTokenError:
        return None


class _Verified:
    """A verify-hub token that passed signature, time and shape checks."""

    __slots__ = ("appid", "jti", "key", "principal", "session_id", "token")

    def __init__(self, token: SessionToken) -> None:
        self.token = token
        if token.appid is None:
            raise ReasonError("Missing appid")
        if token.jti is None:
            raise ReasonError("Missing jti")
        self.appid: str = token.appid
        self.jti: str = token.jti
        self.session_id = _session_id(token)
        self.principal = _principal(token)
        scope = token.app_instance_id if token.app_instance_id is not None else token.appid
        self.key = verify_hub_session_key(token.sub, scope, self.session_id)


@dataclass(frozen=True, slots=True)
class _Holder:
    """Whose token: the app, the subject, the session and what kind of principal it is
    (``scope``: a user's app instance, else ``None``)."""

    appid: str
    sub: str
    session_id: str
    principal: Principal
    scope: AppScope | None


@dataclass(frozen=True, slots=True)
class _Issued:
    """A new token pair and what the state keeps of it."""

    pair: pb.TokenPair
    refresh_jti: str
    refresh_exp: int
    session_jti: str
    issued_at: int


class VerifyHubService(VerifyHubServicer):
    """verify-hub: logins, token pairs, refresh, logout, verification.

    ``signing_key`` is verify-hub's private key (its public key is ``boot/config``
    ``verify_hub_info.public_key``); ``state`` the persisted session state; ``directory``
    where users and devices are read; ``clock`` unix seconds (injectable for tests);
    ``key_cache_ttl`` how long an issuer's public key is reused before it is read again
    (a signature that fails with a cached key always re-reads it once, as upstream does);
    ``throttle`` the failed-login counters (default: a :class:`LoginThrottle` on ``clock``);
    ``publisher`` publishes revoked sessions for the other services; it starts with the
    binding (:meth:`init`) and is told of each revocation.
    """

    def __init__(
        self,
        *,
        signing_key: Ed25519PrivateKey,
        state: SessionStore,
        directory: Directory,
        clock: Callable[[], float] = time.time,
        leeway: int = DEFAULT_LEEWAY,
        key_cache_ttl: float = 30.0,
        throttle: LoginThrottle | None = None,
        publisher: RevocationPublisher | None = None,
    ) -> None:
        self._key = signing_key
        self.publisher = publisher
        self._public = signing_key.public_key()
        self.state = state
        self.directory = directory
        self._clock = clock
        self._leeway = leeway
        self._key_cache_ttl = key_cache_ttl
        self._issuers: dict[str, tuple[Ed25519PublicKey, _Issuer, float]] = {}
        self.throttle = throttle if throttle is not None else LoginThrottle(clock=clock)
        self._throttle_lock = asyncio.Lock()

    # -- token plumbing ------------------------------------------------------------------------

    def _verify_with(self, token: str, kid: str | None, key: Ed25519PublicKey) -> SessionToken:
        """Signature, ``exp`` (with leeway) and claim shapes, by the runtime's verifier."""
        trust = TrustKeyStore()
        trust.add_key(kid if kid is not None else "root", key)
        verifier = TokenVerifier(trust, leeway=self._leeway, cache_size=0, clock=self._clock)
        try:
            return verifier.verify(token, allow_refresh=True)
        except InvalidTokenError as err:
            if err.detail == "Missing userid":
                raise ReasonError("Missing sub") from None
            raise ReasonError(f"JWT verify error: {err.detail}") from None

    @staticmethod
    def _parse(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
        try:
            header, claims = decode_unverified(token)
        except InvalidTokenError as err:
            raise ReasonError(f"JWT decode header error: {err.detail}") from None
        if header.get("alg") != ALGORITHM:
            raise ReasonError("JWT algorithm not allowed")
        return header, claims

    def _verify_own(self, token: str) -> _Verified:
        """A token this verify-hub issued (upstream ``verify_verify_hub_jwt``)."""
        header, claims = self._parse(token)
        if claims.get("iss", ISSUER) != ISSUER:
            raise ReasonError("JWT kid not allowed")
        verified = self._verify_with(token, header.get("kid"), self._public)
        _reject_root(verified.sub)
        return _Verified(verified)

    def _sign(
        self,
        holder: _Holder,
        *,
        ttl: int,
        now: int,
        aud: str | None = None,
        sudo: bool = False,
        jti: str | None = None,
    ) -> tuple[str, str, int]:
        """``(jwt, jti, exp)`` of a new token (``jti`` given: the same token again)."""
        _reject_root(holder.sub)
        if jti is None:
            jti = str(secrets.randbits(64))
        exp = now + ttl
        claims: dict[str, Any] = {
            "appid": holder.appid,
            "jti": jti,
            "sub": holder.sub,
            "iss": ISSUER,
            "exp": exp,
            "session": int(holder.session_id),
            "principal_kind": holder.principal.value,
        }
        if aud is not None:
            claims["aud"] = aud
        if sudo:
            claims["sudo"] = True
        scope = holder.scope
        if scope is not None:
            claims["app_instance_id"] = scope.app_instance_id
            if scope.owner_user_id is not None:
                claims["app_owner_user_id"] = scope.owner_user_id
        return sign_token(claims, self._key, kid=ISSUER), jti, exp

    def _pair(self, holder: _Holder, again: Reissue | None = None) -> _Issued:
        """A new token pair, or with ``again`` the pair issued then, byte for byte (same
        claims, and Ed25519 signatures are deterministic)."""
        now = int(self._clock()) if again is None else again.issued_at
        session, session_jti, _ = self._sign(
            holder,
            ttl=SESSION_TOKEN_TTL,
            now=now,
            jti=None if again is None else again.session_jti,
        )
        refresh, refresh_jti, refresh_exp = self._sign(
            holder,
            ttl=REFRESH_TOKEN_TTL,
            now=now,
            aud=REFRESH_AUDIENCE,
            jti=None if again is None else again.refresh_jti,
        )
        return _Issued(
            pb.TokenPair(session_token=session, refresh_token=refresh),
            refresh_jti,
            refresh_exp,
            session_jti,
            now,
        )

    # -- directory ---------------------------------------------------------------------------

    async def _load_issuer(self, iss: str) -> tuple[Ed25519PublicKey, _Issuer]:
        if iss == "root":
            owner = await self.directory.owner_key()
            if owner is None:
                raise ReasonError("Owner public key not found")
            return owner, _Issuer.ROOT
        doc = await self.directory.user_doc(iss)
        if doc is not None:
            try:
                return public_key_from_doc(doc, what=f"users/{iss}/doc"), _Issuer.USER
            except ConfigError as err:
                raise ReasonError(f"User public key not found: {err}") from None
        doc = await self.directory.device_doc(iss)
        if doc is None:
            raise ReasonError("User or device config not found")
        try:
            return public_key_from_doc(doc, what=f"devices/{iss}/doc"), _Issuer.DEVICE
        except ConfigError as err:
            raise ReasonError(f"Device public key not found: {err}") from None

    async def _issuer(self, iss: str, *, fresh: bool) -> tuple[Ed25519PublicKey, _Issuer, bool]:
        """The key ``iss`` signs with: ``(key, kind, from_cache)``."""
        now = self._clock()
        cached = None if fresh else self._issuers.get(iss)
        if cached is not None and now - cached[2] < self._key_cache_ttl:
            return cached[0], cached[1], True
        key, kind = await self._load_issuer(iss)
        self._issuers[iss] = (key, kind, now)
        if len(self._issuers) > 4096:  # bound the cache: drop the oldest entry
            self._issuers.pop(next(iter(self._issuers)))
        return key, kind, False

    async def _device_key(self, name: str) -> Ed25519PublicKey:
        """The key of device ``name`` (``devices/<name>/doc``), cached like issuers' keys."""
        check_name(name, "device")
        now = self._clock()
        cache_key = f"devices/{name}"
        cached = self._issuers.get(cache_key)
        if cached is not None and now - cached[2] < self._key_cache_ttl:
            return cached[0]
        doc = await self.directory.device_doc(name)
        if doc is None:
            raise ReasonError(f"device {name} not found: devices/{name}/doc is missing")
        try:
            key = public_key_from_doc(doc, what=f"devices/{name}/doc")
        except ConfigError as err:
            raise ReasonError(f"Device public key not found: {err}") from None
        self._issuers[cache_key] = (key, _Issuer.DEVICE, now)
        if len(self._issuers) > 4096:
            self._issuers.pop(next(iter(self._issuers)))
        return key

    async def _user(self, name: str) -> UserSettings:
        settings = await self.directory.user_settings(name)
        if settings is None:
            raise UserNotFoundError(name)
        return settings

    @staticmethod
    def _check_user(settings: UserSettings) -> None:
        _reject_root(settings.user_id)
        if settings.user_type == "root":
            raise NoPermissionError(_ROOT_REFUSED)
        _check_user_subject(settings.user_id)
        if not settings.active:
            raise NoPermissionError(f"user '{settings.user_id}' is not active")

    @staticmethod
    def _canonical(name: str, settings: UserSettings) -> str:
        """The one spelling of a user: its name, which its settings must repeat."""
        if settings.user_id != name:
            raise ReasonError(
                f"users/{name}/settings names user_id {settings.user_id!r}, not {name!r}: "
                "a user's settings must carry its own name as user_id; fix the settings"
            )
        return name

    @staticmethod
    def _scope(appid: str, app_instance_id: str) -> AppScope:
        """Upstream ``resolve_user_app_scope`` without the availability policies."""
        app, owner = parse_app_instance_id(app_instance_id)
        if app != appid:
            raise NoPermissionError("AppAccessDenied")
        return AppScope(app_instance_id.strip(), None if owner == SYSTEM_APP_OWNER else owner)

    async def _state(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        # SQLite commits fsync (synchronous=FULL): keep them off the event loop.
        return await asyncio.to_thread(fn, *args, **kwargs)

    # -- the client's address ---------------------------------------------------------------

    async def _client_address(self, req: Request) -> str:
        """Who is logging in, for the throttle: the address a zone device's gateway vouches
        for in ``x-buckyos-client``, else the TCP peer."""
        peer = client_address(req.peer)
        forwarded = req.forwarded_client
        if forwarded is None:
            return peer
        try:
            return await self._forwarded_address(forwarded)
        except RPCError as err:
            # Not believed: whoever sent it is counted by the connection it came on.
            req.logger.warning(
                "x-buckyos-client not believed (%s); counting the peer %s", err.detail, peer
            )
            return peer

    async def _forwarded_address(self, value: str) -> str:
        """``client_addr`` of a gateway's JWT, if it verifies with a zone device's key."""
        if len(value) > 4096:
            raise ReasonError("x-buckyos-client is over 4096 characters")
        header, claims = self._parse(value)
        iss = claims.get("iss")
        if not isinstance(iss, str) or not iss:
            raise ReasonError("x-buckyos-client has no iss (the gateway's device name)")
        kid = header.get("kid")
        if kid is not None and kid != iss:
            raise ReasonError(f"x-buckyos-client kid {kid!r} is not its iss {iss!r}")
        token = self._verify_with(value, iss, await self._device_key(iss))
        if token.sub != iss:
            raise ReasonError("x-buckyos-client sub is not its iss (a device speaks for itself)")
        if token.exp - self._clock() > FORWARDED_MAX_LIFETIME:
            raise ReasonError(
                f"x-buckyos-client expires more than {FORWARDED_MAX_LIFETIME} s ahead"
            )
        addr = token.claims.get("client_addr")
        if not isinstance(addr, str):
            raise ReasonError("x-buckyos-client has no client_addr")
        try:
            return address_key(str(ipaddress.ip_address(addr)))
        except ValueError:
            raise ReasonError(
                f"x-buckyos-client client_addr {addr[:64]!r} is not an IP address"
            ) from None

    # -- verbs -------------------------------------------------------------------------------

    async def LoginByJwt(self, request: pb.LoginByJwtRequest, req: Request) -> pb.TokenPair:
        if request.HasField("type") and request.type != "jwt":
            raise ParseRequestError("login type must be jwt")
        header, claims = self._parse(request.jwt)
        iss = claims.get("iss")
        if not isinstance(iss, str) or not iss:
            raise ReasonError("Missing iss: a login JWT names its signer (root, a user, a device)")
        if iss != "root":
            check_name(iss, "login JWT issuer")
        # A replay is refused before the directory is read: it costs system_config nothing,
        # and the answer stays "already used" even once the signer's key is gone.
        jti = _unverified_jti(request.jwt, header, claims)
        if jti is not None and await self._state(self.state.is_used, "jti", f"{iss}/{jti}"):
            raise ReasonError("Login JWT already used")
        key, kind, cached = await self._issuer(iss, fresh=False)
        try:
            token = self._verify_with(request.jwt, header.get("kid"), key)
        except ReasonError as err:
            if not (cached and "InvalidSignature" in err.detail):
                raise
            # The key may have changed since we cached it: read it again, once.
            key, kind, _ = await self._issuer(iss, fresh=True)
            token = self._verify_with(request.jwt, header.get("kid"), key)
        sub = token.sub
        _reject_root(sub)
        if token.appid is None:
            raise ReasonError("Missing appid")
        if token.jti is None:
            raise ReasonError("Missing jti")
        appid = token.appid
        if token.exp - self._clock() > MAX_LOGIN_JWT_LIFETIME:
            raise ReasonError(
                "login JWT expires too far ahead: its exp is more than "
                f"{MAX_LOGIN_JWT_LIFETIME} s after verify-hub's clock; sign login JWTs that "
                "expire within 1 hour (upstream signs them for 900 s, 1200 s for a service)"
            )
        if kind is _Issuer.USER:
            if sub != iss:
                raise NoPermissionError(
                    f"a user signs login JWTs only for itself: {iss!r} cannot sign for "
                    f"{sub!r} (only the zone owner or a zone device signs for another subject)"
                )
            _check_user_app(appid)
        if kind is _Issuer.DEVICE:
            principal = Principal.DEVICE if iss == sub else Principal.SERVICE
        else:
            principal = Principal.USER
        scope = None
        if principal is Principal.USER:
            _check_user_subject(sub)
            # The login param wins, then the JWT's claim, then the app's system instance.
            instance = request.app_instance_id.strip()
            if not instance:
                instance = token.app_instance_id or f"{appid}@{SYSTEM_APP_OWNER}"
            scope = self._scope(appid, instance)
        used_key = f"{iss}/{token.jti}"
        session_id = str(secrets.randbits(64))
        scope_name = scope.app_instance_id if scope is not None else appid
        session_key = verify_hub_session_key(sub, scope_name, session_id)
        issued = self._pair(_Holder(appid, sub, session_id, principal, scope))
        used_until = token.exp + self._leeway + 1
        opened = await self._state(
            self.state.claim_and_open,
            "jti",
            used_key,
            used_until,
            session_key,
            issued.refresh_jti,
            issued.refresh_exp,
        )
        if not opened:  # a replay raced us between the check and here
            raise ReasonError("Login JWT already used")
        req.logger.info("login_by_jwt: %s (%s) session %s", sub, principal.value, session_key)
        return issued.pair

    def _login_nonce(self, request: Any, req: Request) -> int:
        if request.HasField("login_nonce"):
            return int(request.login_nonce)
        seq = req.seq
        if seq is None:
            raise ParseRequestError(
                "Missing login_nonce: send the client time in ms as login_nonce"
            )
        return seq // 1000 if seq > _SEQ_IN_MICROS else seq

    async def _password_login(
        self,
        username: str,
        password: str,
        appid: str,
        app_instance_id: str,
        nonce: int,
        req: Request,
    ) -> tuple[UserSettings, AppScope, str]:
        """Upstream ``validate_password_login`` and the checks around it; the nonce key."""
        _reject_root(username)
        check_name(username, "user")
        _check_user_subject(username)
        _check_user_app(appid)
        if not nonce_is_fresh(nonce, int(self._clock() * 1000)):
            raise ParseRequestError("Invalid nonce")
        # A replay is refused before anything else is read (the name is the user's only
        # spelling: check_name above, _canonical below).
        if await self._state(self.state.is_used, "nonce", _nonce_key(username, nonce)):
            raise ReasonError("Login nonce already used")
        address = await self._client_address(req)
        throttle = self.throttle
        if throttle.blocking:  # counts in etcd: round trips, off the event loop
            await asyncio.to_thread(throttle.check_address, address)
        else:
            throttle.check_address(address)  # refused fast, before system_config is read
        settings = await self.directory.user_settings(username)
        if throttle.blocking:
            # One login at a time on this node from the check to the count (each count is
            # a compare-and-set in etcd, so the other nodes' failures add up too).
            async with self._throttle_lock:
                user_id = await asyncio.to_thread(
                    self._judge_password, address, username, settings, password, nonce
                )
        else:
            # No await from here to the count: concurrent guesses are each checked against
            # the failures of those answered before them.
            user_id = self._judge_password(address, username, settings, password, nonce)
        if settings is None:  # _judge_password refused it already
            raise UserNotFoundError(username)
        self._check_user(settings)
        return settings, self._scope(appid, app_instance_id), _nonce_key(user_id, nonce)

    def _judge_password(
        self,
        address: str,
        username: str,
        settings: UserSettings | None,
        password: str,
        nonce: int,
    ) -> str:
        """The throttle's checks, the password and the count; the user's id."""
        throttle = self.throttle
        throttle.check_address(address)
        if settings is None:
            throttle.failed(address, None)
            raise UserNotFoundError(username)
        user_id = self._canonical(username, settings)
        throttle.check_user(user_id)
        if not check_login_password(password, settings.password, nonce):
            throttle.failed(address, user_id)
            raise InvalidPasswordError()
        throttle.succeeded(user_id)
        return user_id

    @staticmethod
    def _nonce_used_until(nonce: int) -> int:
        return (nonce + NONCE_WINDOW_MS) // 1000 + 1

    async def LoginByPassword(
        self, request: pb.LoginByPasswordRequest, req: Request
    ) -> pb.LoginByPasswordResult:
        if request.HasField("type") and request.type != "password":
            raise ParseRequestError("login type must be password")
        nonce = self._login_nonce(request, req)
        settings, scope, nonce_key = await self._password_login(
            request.username, request.password, request.appid, request.app_instance_id, nonce, req
        )
        user_id = settings.user_id
        # Upstream's session id for a password login is the nonce itself.
        session_id = str(nonce)
        issued = self._pair(_Holder(request.appid, user_id, session_id, Principal.USER, scope))
        session_key = verify_hub_session_key(user_id, scope.app_instance_id, session_id)
        opened = await self._state(
            self.state.claim_and_open,
            "nonce",
            nonce_key,
            self._nonce_used_until(nonce),
            session_key,
            issued.refresh_jti,
            issued.refresh_exp,
        )
        if not opened:
            raise ReasonError("Login nonce already used")
        req.logger.info("login_by_password: %s session %s", user_id, session_key)
        return pb.LoginByPasswordResult(
            user_info=pb.UserInfo(
                show_name=settings.user_id,
                user_id=settings.user_id,
                state=settings.state,
                user_type=settings.user_type,
            ),
            session_token=issued.pair.session_token,
            refresh_token=issued.pair.refresh_token,
        )

    async def SudoByPassword(
        self, request: pb.SudoByPasswordRequest, req: Request
    ) -> pb.SudoByPasswordResult:
        nonce = self._login_nonce(request, req)
        settings, scope, nonce_key = await self._password_login(
            request.username, request.password, request.appid, request.app_instance_id, nonce, req
        )
        if not await self._state(
            self.state.claim, "nonce", nonce_key, self._nonce_used_until(nonce)
        ):
            raise ReasonError("Login nonce already used")
        token, _, _ = self._sign(
            _Holder(request.appid, settings.user_id, str(nonce), Principal.USER, scope),
            ttl=SUDO_TOKEN_TTL,
            now=int(self._clock()),
            aud=request.aud if request.HasField("aud") else None,
            sudo=True,
        )
        req.logger.info("sudo_by_password: %s", settings.user_id)
        return pb.SudoByPasswordResult(session_token=token)

    async def _live_refresh(self, refresh_token: str) -> tuple[_Verified, Verdict]:
        """A refresh token that is its session's current one (upstream
        ``validate_active_refresh_token``), or the one traded within the retry window
        (``RETRY``); an older one revokes the session."""
        verified = self._verify_own(refresh_token)
        if not verified.token.is_refresh:
            raise ReasonError(
                "not a refresh token: pass the refresh_token of the pair (aud verify-hub), "
                "not the session token"
            )
        verdict = await self._state(
            self.state.check_refresh, verified.key, verified.jti, window=REFRESH_RETRY_WINDOW
        )
        self._refuse(verdict)
        return verified, verdict

    def _refuse(self, verdict: Verdict) -> None:
        if verdict.check is Check.REUSED:
            self._revoked()
            raise ReasonError("Invalid refresh token jti")
        if verdict.check not in (Check.CURRENT, Check.RETRY):
            raise ReasonError("Refresh token not found or already invalidated")

    def _revoked(self) -> None:
        if self.publisher is not None:
            self.publisher.notify()

    # -- lifecycle ------------------------------------------------------------------------------

    async def init(self, binding: object) -> None:
        """The binding's init hook: start publishing revocations."""
        if self.publisher is not None:
            self.publisher.start()

    async def aclose(self) -> None:
        """Stop publishing (the state and directory are the caller's to close)."""
        if self.publisher is not None:
            await self.publisher.stop()

    async def _check_principal(self, verified: _Verified) -> AppScope | None:
        """Upstream ``validate_refresh_principal`` and the app scope of a user session."""
        sub = verified.token.sub
        if verified.principal is Principal.USER:
            _check_user_subject(sub)
            self._check_user(await self._user(sub))
            return self._scope(verified.appid, _instance_claim(verified.token))
        if verified.principal is Principal.DEVICE and await self.directory.device_doc(sub) is None:
            raise ReasonError(f"device {sub} not found: devices/{sub}/doc is missing")
        return None

    async def RefreshToken(self, request: pb.RefreshTokenRequest, req: Request) -> pb.TokenPair:
        old, verdict = await self._live_refresh(request.refresh_token)
        scope = await self._check_principal(old)
        holder = _Holder(old.appid, old.token.sub, old.session_id, old.principal, scope)
        if verdict.reissue is None:
            issued = self._pair(holder)
            verdict = await self._state(
                self.state.rotate,
                old.key,
                old.jti,
                issued.refresh_jti,
                issued.refresh_exp,
                session_jti=issued.session_jti,
                issued_at=issued.issued_at,
                window=REFRESH_RETRY_WINDOW,
            )
            self._refuse(verdict)
            if verdict.reissue is None:
                req.logger.info("refresh_token: session %s rotated", old.key)
                return issued.pair
            # A concurrent refresh with the same token won the rotation: its pair is ours.
        again = self._pair(holder, verdict.reissue)
        req.logger.info("refresh_token: session %s, retry answered with the same pair", old.key)
        return again.pair

    async def Logout(self, request: pb.RefreshTokenRequest, req: Request) -> empty_pb2.Empty:
        verified, _ = await self._live_refresh(request.refresh_token)
        await self._state(self.state.revoke, verified.key)
        self._revoked()
        req.logger.info("logout: session %s revoked", verified.key)
        return empty_pb2.Empty()

    async def VerifyToken(self, request: pb.VerifyTokenRequest, req: Request) -> empty_pb2.Empty:
        token = request.session_token
        if "." not in token:
            raise InvalidTokenError("not a jwt token")
        header, claims = self._parse(token)
        if claims.get("iss", ISSUER) != ISSUER:
            raise ReasonError("JWT kid not allowed")
        verified = self._verify_with(token, header.get("kid"), self._public)
        if REFRESH_AUDIENCE in verified.aud:
            raise InvalidTokenError("refresh token cannot be used as session token")
        _reject_root(verified.sub)
        principal = _principal(verified)
        if principal is Principal.USER:
            app, owner = parse_app_instance_id(_instance_claim(verified))
            if verified.appid != app:
                raise InvalidTokenError("appid and app_instance_id claims do not match")
            claim = verified.app_owner_user_id
            if owner == SYSTEM_APP_OWNER:
                if claim is not None and claim != SYSTEM_APP_OWNER:
                    raise InvalidTokenError("app owner claim does not match app_instance_id")
            elif claim != owner:
                raise InvalidTokenError("app owner claim does not match app_instance_id")
        if request.HasField("appid"):
            if verified.appid is None:
                raise ReasonError("Missing appid")
            if verified.appid != request.appid:
                raise InvalidTokenError("appid mismatch")
        if request.HasField("app_instance_id") and (
            _instance_claim(verified) != request.app_instance_id
        ):
            raise InvalidTokenError("app_instance_id mismatch")
        if verified.session is not None and verified.appid is not None:
            scope = verified.app_instance_id or verified.appid
            row = await self._state(
                self.state.session,
                verify_hub_session_key(verified.sub, scope, _session_id(verified)),
            )
            if row is not None and row.revoked:
                raise InvalidTokenError(REVOKED_SESSION)
        return empty_pb2.Empty()
