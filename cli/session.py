"""How a ``buckyos`` command finds the zone and carries a session: shared by the commands
that talk to a zone (``login``, ``sys-config``, ``call``, ``token verify --hub``).

**Finding the zone.**  The runtime's normal AppClient configuration
(:func:`~buckyos.runtime.program.config.load_config`): ``$BUCKYOS_DEV_HOME``, else
``~/.buckycli`` when it exists, else ``$BUCKYOS_ROOT/etc``; calls go to the zone's public
URL (``http(s)://<zone host>/kapi/<service>``, which for a local zone is its node
gateway).  Two shortcuts on every such command:

- ``--root ZONE_ROOT``: the configuration directory is ``ZONE_ROOT/etc`` (what
  ``buckyos zone up`` writes);
- ``--url URL`` (repeatable): ``http://host:port`` sends every service's calls to
  ``URL/kapi/<service>`` (a node gateway); ``http://host:port/kapi/<service>`` pins that
  one service.

**The session.**  ``buckyos login`` saves the verify-hub session/refresh pair, with the
app id, user, zone and ``--url`` pins it was made with, in
``<configuration directory>/buckyos-cli-session.json`` (mode 0600; :data:`SESSION_FILE`).
Later commands read it, refresh the pair when the session token has less than
:data:`REFRESH_MARGIN` seconds left (under a lock file, so two commands never spend the
same refresh token: verify-hub would revoke the session), save the new pair, and say
``run `buckyos login``` when the file is missing or verify-hub refuses it.  A token in
``$BUCKYOS_APPCLIENT_SESSION_TOKEN`` takes precedence over the file and is used as is:
when it has expired or the zone refuses it the command says so and stops (nothing falls
back to the key or the session in the configuration directory; unset the variable to use
them).

**The zone owner.**  ``buckyos login --owner`` saves a session signed with the zone owner's
key (``user_private_key.pem`` of a configuration directory whose ``node_identity.json``
names that key as the owner's: what ``zone up`` writes), for the app ``kernel``: the
whole tree.  It has no refresh token; later commands sign a new one with the same key
when it nears expiry (:func:`owner_token`).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import time
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeVar

from .output import EXIT_USAGE, CliError

if TYPE_CHECKING:
    from buckyos.runtime import RPCError
    from buckyos.runtime.program import BuckyOSRuntime
    from buckyos.runtime.security import Ed25519PrivateKey

__all__ = [
    "DEFAULT_APP",
    "LOGIN_HINT",
    "OWNER_APP",
    "OWNER_TTL",
    "REFRESH_MARGIN",
    "SESSION_FILE",
    "Connection",
    "Session",
    "SessionStore",
    "add_zone_options",
    "connect",
    "open_runtime",
    "owner_key",
    "owner_token",
    "parse_urls",
    "service_url",
    "service_urls_for",
    "zone_options",
]

SESSION_FILE: Final = "buckyos-cli-session.json"
"""The session file's name, in the AppClient configuration directory."""
DEFAULT_APP: Final = "buckycli"
"""The app id the CLI logs in as (upstream's buckycli; a ``kernel`` group member)."""
REFRESH_MARGIN: Final = 60.0
"""Refresh the saved pair when the session token has fewer seconds left than this."""
LOGIN_HINT: Final = "run `buckyos login`"
OWNER_APP: Final = "kernel"
"""The app id of a zone owner's session: the kernel app, which a zone-trusted token
(the owner's key verified it) takes past the user check, to the whole tree."""
OWNER_TTL: Final = 900
"""Seconds an owner token lives (a verify-hub session's lifetime)."""

_T = TypeVar("_T")


# --------------------------------------------------------------------------- options


def add_zone_options(parser: argparse.ArgumentParser) -> None:
    """``--root`` and ``--url`` (see the module docstring)."""
    parser.add_argument(
        "--root",
        metavar="ZONE_ROOT",
        help="a local zone's root (from `buckyos zone up`): use ZONE_ROOT/etc as the "
        "configuration directory",
    )
    parser.add_argument(
        "--url",
        action="append",
        default=None,
        metavar="URL",
        help="http://host:port sends every call to URL/kapi/<service> (a node gateway); "
        "http://host:port/kapi/<service> pins one service; repeatable",
    )


def zone_options() -> argparse.ArgumentParser:
    """A parent parser holding :func:`add_zone_options`."""
    parser = argparse.ArgumentParser(add_help=False)
    add_zone_options(parser)
    return parser


def parse_urls(urls: Iterable[str]) -> tuple[list[str], dict[str, str]]:
    """``--url`` values -> ``(gateway bases, {service: endpoint URL})``; a usage error
    for anything that is not an http(s) URL."""
    bases: list[str] = []
    pinned: dict[str, str] = {}
    for url in urls:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise CliError(
                f"--url {url!r} is not an http(s) URL; give http://host:port (a node "
                "gateway) or http://host:port/kapi/<service>",
                EXIT_USAGE,
            )
        path = parts.path.rstrip("/")
        _prefix, sep, service = path.rpartition("/kapi/")
        if sep and service and "/" not in service:
            pinned[service] = url.rstrip("/")
        elif path:
            raise CliError(
                f"--url {url!r} has the path {parts.path!r}; give http://host:port or "
                "http://host:port/kapi/<service>",
                EXIT_USAGE,
            )
        else:
            bases.append(f"{parts.scheme}://{parts.netloc}")
    return bases, pinned


def service_urls_for(urls: Sequence[str], apis: Iterable[str]) -> dict[str, str]:
    """``{api: kRPC endpoint URL}`` of ``--url`` values for ``apis`` (and every pin)."""
    bases, pinned = parse_urls(urls)
    found: dict[str, str] = {}
    if bases:
        # The last gateway given wins, as a later option overrides an earlier one.
        found = {api: f"{bases[-1]}/kapi/{api}" for api in apis}
    found.update(pinned)
    return found


# --------------------------------------------------------------------------- the session


@dataclass(frozen=True, slots=True)
class Session:
    """What ``buckyos login`` saved (the file's JSON object)."""

    app_id: str
    user_id: str
    zone_did: str | None
    session_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    urls: tuple[str, ...] = ()
    saved_at: int = 0
    owner: bool = False
    """Signed with the zone owner's key (``login --owner``): re-signed, not refreshed."""

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "app_id": self.app_id,
            "user_id": self.user_id,
            "zone_did": self.zone_did,
            "session_token": self.session_token,
            "refresh_token": self.refresh_token,
            "urls": list(self.urls),
            "saved_at": self.saved_at,
        }
        if self.owner:
            data["owner"] = True
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any], where: Path) -> Session:
        """Read a saved session; a ``CliError`` naming the file when it is malformed."""

        def text(name: str, optional: bool = False) -> str | None:
            value = data.get(name)
            if value is None and optional:
                return None
            if not isinstance(value, str) or not value:
                raise CliError(f"{where} has no valid {name!r}; {LOGIN_HINT} again")
            return value

        urls = data.get("urls", [])
        if not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
            raise CliError(f"{where} has no valid 'urls'; {LOGIN_HINT} again")
        saved_at = data.get("saved_at", 0)
        return cls(
            app_id=text("app_id") or DEFAULT_APP,
            user_id=text("user_id") or "",
            zone_did=text("zone_did", optional=True),
            session_token=text("session_token") or "",
            refresh_token=text("refresh_token", optional=True),
            urls=tuple(urls),
            saved_at=saved_at if isinstance(saved_at, int) else 0,
            owner=data.get("owner") is True,
        )


class SessionStore:
    """The session file of one configuration directory: read, write (0600), lock."""

    def __init__(self, config_dir: Path) -> None:
        self.config_dir = config_dir
        self.path = config_dir / SESSION_FILE
        self._lock_path = config_dir / (SESSION_FILE + ".lock")

    def load(self) -> Session | None:
        """The saved session, ``None`` when there is none."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise CliError(f"cannot read {self.path}: {exc.strerror or exc}") from exc
        try:
            data = json.loads(text)
        except ValueError:
            raise CliError(f"{self.path} is not JSON; {LOGIN_HINT} again") from None
        if not isinstance(data, dict):
            raise CliError(f"{self.path} is not a JSON object; {LOGIN_HINT} again")
        return Session.from_json(data, self.path)

    def save(self, session: Session) -> None:
        """Write ``session`` atomically, readable by this user only."""
        tmp = self.path.with_name(self.path.name + ".tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(session.to_json(), out, indent=2)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, 0o600)  # O_CREAT's mode does not apply to a leftover tmp file
            os.replace(tmp, self.path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise CliError(
                f"cannot save the session in {self.path}: {exc.strerror or exc}; the "
                "configuration directory must be writable"
            ) from exc

    def remove(self) -> bool:
        """Forget the session; whether there was one."""
        try:
            self.path.unlink()
        except FileNotFoundError:
            return False
        return True

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the session's lock file (a refresh must not run twice at once)."""
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX: no lock, as before
            yield
            return
        try:
            fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise CliError(f"cannot open {self._lock_path}: {exc.strerror or exc}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock


# --------------------------------------------------------------------------- runtime


def _config_dir(root: str | None) -> Path | None:
    if root is None:
        return None
    folder = Path(root).expanduser().resolve() / "etc"
    if not folder.is_dir():
        raise CliError(
            f"--root {root}: {folder} does not exist; give the root `buckyos zone up` "
            "created (it prints it), or start one with `buckyos zone up --root DIR`"
        )
    return folder


def open_runtime(
    args: argparse.Namespace,
    *,
    app_id: str,
    user: str | None = None,
    urls: Sequence[str] = (),
    apis: Iterable[str] = (),
    timeout: float | None = None,
) -> BuckyOSRuntime:
    """An AppClient runtime on the configuration ``args`` point at (``--root``), with
    ``urls`` (``--url`` values) pinned for the known services and ``apis``; ``timeout``
    seconds per call (the runtime's 15 s when ``None``)."""
    from buckyos.generated.system_config_rpc import SYSTEM_CONFIG
    from buckyos.generated.verify_hub_rpc import VERIFY_HUB
    from buckyos.runtime import ConfigError
    from buckyos.runtime.program import RuntimeType, init_buckyos_api_runtime

    # the known services, pinned to the --url gateway with the apis asked for
    service_urls = service_urls_for(urls, (SYSTEM_CONFIG.api, VERIFY_HUB.api, *apis))
    try:
        return init_buckyos_api_runtime(
            app_id,
            user,
            RuntimeType.APP_CLIENT,
            config_dir=_config_dir(args.root),
            service_urls=service_urls,
            inprocess=False,
            timeout=15.0 if timeout is None else timeout,
        )
    except ConfigError as exc:
        raise CliError(
            f"{exc} (for a local zone: pass --root ZONE_ROOT, or export the "
            "BUCKYOS_DEV_HOME that `buckyos zone up` prints)"
        ) from exc


def owner_key(rt: BuckyOSRuntime) -> Ed25519PrivateKey:
    """The zone owner's private key in the runtime's configuration directory: its
    ``user_private_key.pem`` when ``node_identity.json`` names that key as the owner's."""
    from buckyos.runtime.security import public_key_to_jwk

    folder = rt.config.config_dir or "the configuration directory"
    key, owner = rt.config.user_private_key, rt.config.owner_public_key
    if key is None or owner is None:
        missing = "user_private_key.pem" if key is None else "node_identity.json owner_public_key"
        raise CliError(
            f"no zone owner key in {folder} ({missing} missing): --owner signs with the key "
            "`buckyos zone up` wrote; pass --root ZONE_ROOT of a local zone"
        )
    if public_key_to_jwk(key.public_key()) != public_key_to_jwk(owner):
        raise CliError(
            f"the user key in {folder} is not the zone owner's (node_identity.json "
            "owner_public_key names another): --owner needs the owner's key; log in as a "
            "user instead (`buckyos login -u USER`)"
        )
    return key


def owner_token(rt: BuckyOSRuntime, *, ttl: int = OWNER_TTL) -> str:
    """A session token of the zone owner for the app ``kernel`` (kid ``root``), signed with
    :func:`owner_key`: zone-trusted, so it reaches the whole tree."""
    from buckyos.runtime.security import sign_token

    now = int(time.time())
    claims = {"sub": "root", "appid": OWNER_APP, "iat": now, "exp": now + ttl}
    return sign_token(claims, owner_key(rt), kid="root")


def service_url(rt: BuckyOSRuntime, api: str, urls: Sequence[str]) -> str:
    """The kRPC endpoint URL of ``api``: a ``--url`` pin, else the zone's public URL."""
    from buckyos.runtime.client import public_endpoint, zone_host

    pinned = service_urls_for(urls, (api,))
    if api in pinned:
        return pinned[api]
    if not rt.zone_did:
        raise CliError(
            f"cannot reach {api}: no zone DID in the configuration "
            f"({rt.config.config_dir or 'no configuration directory'}); pass --root "
            "ZONE_ROOT or --url http://<gateway host>:<port>"
        )
    host = zone_host(rt.zone_did, rt.config.web3_bridge)
    return public_endpoint(api, host, force_https=rt.config.force_https).address


@dataclass(slots=True)
class Connection:
    """A runtime carrying the session, and where the session came from."""

    runtime: BuckyOSRuntime
    urls: tuple[str, ...]
    store: SessionStore | None
    session: Session | None
    clock: Callable[[], float] = time.time

    @property
    def token(self) -> str | None:
        return self.runtime.session_token

    def refresh(self, *, force: bool = False) -> None:
        """Refresh the saved pair when it is near expiry (or ``force``), under the lock;
        a no-op for a token from the environment."""
        if self.store is None:
            return
        with self.store.locked():
            # Another command may have refreshed while we waited: read the file again.
            current = self.store.load()
            if current is None:
                raise CliError(f"the session in {self.store.path} is gone; {LOGIN_HINT}")
            if force and self.session is not None and current != self.session:
                force = False  # someone else refreshed it already: use theirs
            if force or _expires_in(current.session_token, self.clock()) < REFRESH_MARGIN:
                if current.owner:
                    current = _resigned(self.runtime, self.store, current)
                else:
                    current = _refreshed(self.runtime, self.store, current)
            self.session = current
            self.runtime.set_tokens(
                current.session_token, current.refresh_token, source=str(self.store.path)
            )

    def call(self, action: Callable[[BuckyOSRuntime], _T], *, explain: bool = True) -> _T:
        """Run ``action(runtime)``; when the zone says the session token expired, refresh
        once and run it again (an expired token is refused before anything is done).

        With ``explain``, a refused session becomes a ``CliError`` saying what to do;
        without (``buckyos call``, whose params may hold tokens of their own), the
        error's upstream text comes out as it is.
        """
        from buckyos.runtime import InvalidTokenError, TokenExpiredError
        from buckyos.runtime.security import is_expiry_error

        try:
            return action(self.runtime)
        except (InvalidTokenError, TokenExpiredError) as exc:
            if not is_expiry_error(exc) or self.store is None:
                if not explain:
                    raise
                raise CliError(self._refused(exc)) from exc
        self.refresh(force=True)
        try:
            return action(self.runtime)
        except (InvalidTokenError, TokenExpiredError) as exc:
            if not explain:
                raise
            raise CliError(self._refused(exc)) from exc

    def _refused(self, exc: RPCError) -> str:
        # exc.text: the runtime's own hint says the same as these, in a program's words
        if self.store is None:
            return (
                f"{exc.text} (the token in $BUCKYOS_APPCLIENT_SESSION_TOKEN; nothing fell back "
                f"to another identity): renew it, or unset it and {LOGIN_HINT}"
            )
        return f"the zone refused the saved session ({exc.text}); {LOGIN_HINT}"

    def close(self) -> None:
        self.runtime.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _expires_in(token: str, now: float) -> float:
    from buckyos.runtime import RPCError
    from buckyos.runtime.security import parse_unverified

    try:
        return parse_unverified(token).expires_in(now)
    except RPCError:
        return -1.0  # not a readable token: treat it as expired, verify-hub decides


def _resigned(rt: BuckyOSRuntime, store: SessionStore, session: Session) -> Session:
    """A zone owner's session near expiry: a new token signed with the owner key."""
    fresh = replace(session, session_token=owner_token(rt), saved_at=int(time.time()))
    store.save(fresh)
    return fresh


def _refreshed(rt: BuckyOSRuntime, store: SessionStore, session: Session) -> Session:
    """Trade the saved refresh token for a new pair and save it."""
    from buckyos.generated.verify_hub_rpc import VerifyHubStub
    from buckyos.runtime import RPCError, TransportError

    if not session.refresh_token:
        raise CliError(
            f"the session in {store.path} expired and has no refresh token; {LOGIN_HINT}"
        )
    try:
        pair = VerifyHubStub(rt.with_token(None)).RefreshToken(refresh_token=session.refresh_token)
    except TransportError as exc:
        raise CliError(
            f"cannot refresh the session: verify-hub is unreachable ({exc}); is the zone "
            "running (`buckyos zone status`)?"
        ) from exc
    except RPCError as exc:
        store.remove()  # refused for good (revoked, rotated, zone recreated)
        raise CliError(f"verify-hub refused the saved session ({exc}); {LOGIN_HINT}") from exc
    fresh = replace(
        session,
        session_token=pair.session_token,
        refresh_token=pair.refresh_token or session.refresh_token,
        saved_at=int(time.time()),
    )
    store.save(fresh)
    return fresh


def connect(
    args: argparse.Namespace,
    *,
    apis: Iterable[str] = (),
    need_session: bool = True,
    timeout: float | None = None,
) -> Connection:
    """A runtime for a command: the saved session (refreshed when near expiry), or the
    token in ``$BUCKYOS_APPCLIENT_SESSION_TOKEN`` (an error when it has expired); without
    ``need_session`` (a call that needs no token) a missing session is fine."""
    from buckyos.runtime import ConfigError
    from buckyos.runtime.program import APPCLIENT_TOKEN_ENV

    given: list[str] = list(args.url or [])
    env_token = os.environ.get(APPCLIENT_TOKEN_ENV, "").strip()
    store: SessionStore | None = None
    session: Session | None = None
    if not env_token:
        folder = _config_dir(args.root)
        if folder is None:
            probe = open_runtime(args, app_id=DEFAULT_APP, urls=given, apis=apis, timeout=timeout)
            folder = probe.config.config_dir
            probe.close()
        if folder is not None:
            store = SessionStore(folder)
            session = store.load()
        if session is None and need_session:
            where = store.path if store is not None else "the configuration directory"
            raise CliError(f"not logged in (no session in {where}); {LOGIN_HINT}")
    urls = tuple(given) if given else (session.urls if session is not None else ())
    app_id = session.app_id if session is not None else DEFAULT_APP
    user = session.user_id if session is not None else None
    rt = open_runtime(args, app_id=app_id, user=user, urls=urls, apis=apis, timeout=timeout)
    conn = Connection(rt, urls, store if session is not None else None, session)
    try:
        if session is not None:
            conn.refresh()
        elif env_token and need_session:
            try:
                rt.check_session()  # expired: say so, before anything is sent
            except ConfigError as exc:
                raise CliError(f"{exc}; nothing fell back to another identity") from exc
    except BaseException:
        rt.close()
        raise
    return conn
