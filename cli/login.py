"""``buckyos login``: log in at verify-hub and save the session for later commands.

By password (``--password-stdin``, ``-p``, or a prompt on a terminal): verify-hub's
nonce scheme, the password itself never travels.  Without a password, when the
configuration directory holds ``user_config.json`` and ``user_private_key.pem``: a
self-signed user login JWT traded at verify-hub, as ``rt.login()`` does.  The pair is
saved in ``<configuration directory>/buckyos-cli-session.json`` (mode 0600), see
:mod:`buckyos.cli.session`.

``--owner``: the zone owner's session, signed with the owner key ``zone up`` wrote into
the configuration directory, for the app ``kernel`` (the whole tree).  A password login
cannot claim the app id ``kernel`` (verify-hub refuses it: a user's session for it would
only have that user's rights), so this is how an admin reads and writes outside its own
keys, e.g. ``buckyos sys-config list`` of the root.

Exit codes: 0 logged in; 1 refused (``Invalid password``, ``User Not Found:...``), the
zone unreachable, no configuration, no owner key for ``--owner``; 2 the command line (both
``-p`` and ``--password-stdin``, no user name for a password, no password and no key,
``--owner`` with a user, a password or ``--app``).
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from .command import Commands
from .output import EXIT_OK, EXIT_USAGE, CliError, emit
from .session import (
    DEFAULT_APP,
    OWNER_APP,
    OWNER_TTL,
    Session,
    SessionStore,
    open_runtime,
    owner_token,
)

__all__ = ["read_password", "register", "run"]


_TEXT = """log in at verify-hub and save the session

Log in at the zone's verify-hub, by password or with the user key of the
configuration directory, and save the session/refresh pair in
<configuration directory>/buckyos-cli-session.json (mode 0600) for later
commands, which refresh it when it nears expiry."""

_EXAMPLES = """examples:
  buckyos zone up --root ./zone     # prints the admin password
  echo "$PASSWORD" | buckyos login --root ./zone -u admin --password-stdin
  buckyos login                     # with the user key in $BUCKYOS_DEV_HOME
  buckyos login --root ./zone --owner   # the zone owner: the whole tree"""


def register(commands: Commands) -> None:
    """Add ``login`` to the ``buckyos`` parser."""
    parser = commands.add("login", run, _TEXT, zone=True, epilog=_EXAMPLES)
    parser.add_argument(
        "-u",
        "--user",
        metavar="USER",
        help="user name (default: the configuration's user_config.json name)",
    )
    how = parser.add_mutually_exclusive_group()
    how.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of stdin",
    )
    how.add_argument(
        "-p",
        "--password",
        metavar="PASSWORD",
        help="the password (visible to other users in the process list: prefer --password-stdin)",
    )
    parser.add_argument(
        "--app",
        default=DEFAULT_APP,
        metavar="APP_ID",
        help=f"the app id the session is for ({DEFAULT_APP})",
    )
    parser.add_argument(
        "--owner",
        action="store_true",
        help="log in as the zone owner with the owner key `buckyos zone up` wrote (app "
        "kernel: the whole tree); no password",
    )
    parser.add_argument("--json", action="store_true", help="print the result as one JSON line")


def read_password(args: argparse.Namespace, *, has_key: bool) -> str | None:
    """The password from the command line, stdin or a terminal prompt; ``None`` for a
    login with the user key."""
    if args.password is not None:
        return str(args.password)
    if args.password_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise CliError("--password-stdin read an empty password; pipe the password in")
        return password
    if has_key:
        return None
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass(f"password for {args.user or 'the user'}: ")
    raise CliError(
        "no password given and no user key in the configuration directory: give "
        "--password-stdin (or -p PASSWORD)",
        EXIT_USAGE,
    )


def _describe(result: dict[str, Any]) -> str:
    minutes = max(0, int(result["expires_in"])) // 60
    if result.get("owner"):
        return (
            f"logged in to {result['zone_did']} as the zone owner (root) for app "
            f"{result['app_id']}: the whole tree; session expires in {minutes} min, signed "
            f"again with the owner key as needed; saved in {result['session_file']}"
        )
    return (
        f"logged in to {result['zone_did']} as {result['user_id']}"
        + (f" ({result['user_type']})" if result.get("user_type") else "")
        + f" for app {result['app_id']}; session expires in {minutes} min, refreshed as "
        f"needed; saved in {result['session_file']}"
    )


def run(args: argparse.Namespace) -> int:
    """The ``login`` command."""
    from buckyos.runtime import InvalidPasswordError, UserNotFoundError

    urls: list[str] = list(args.url or [])
    if args.owner:
        if args.user or args.password is not None or args.password_stdin or args.app != DEFAULT_APP:
            raise CliError(
                "--owner logs in with the owner key, as the owner, for app kernel: give no "
                "-u, password or --app with it",
                EXIT_USAGE,
            )
        return _owner_login(args, urls)
    rt = open_runtime(args, app_id=args.app, user=args.user, urls=urls)
    try:
        folder = rt.config.config_dir
        if folder is None:
            raise CliError(
                "no configuration directory to save the session in: pass --root "
                "ZONE_ROOT, set BUCKYOS_DEV_HOME, or create ~/.buckycli"
            )
        has_key = rt.config.user_private_key is not None and bool(rt.user_id)
        password = read_password(args, has_key=has_key)
        user_type = ""
        if password is not None:
            user = args.user or rt.user_id
            if not user:
                raise CliError(
                    "which user? give -u USER (no user_config.json names one)", EXIT_USAGE
                )
            try:
                result = rt.login_by_password(user, password)
            except (InvalidPasswordError, UserNotFoundError) as exc:
                raise CliError(f"{exc}; check the user name and password") from exc
            user_type = result.user_info.user_type
        else:
            rt.login()
        info = rt.token_info()
        session_token = rt.session_token
        if info is None or session_token is None:
            raise CliError("verify-hub answered without a session token; try again")
        store = SessionStore(folder)
        store.save(
            Session(
                app_id=args.app,
                user_id=info.sub,
                zone_did=rt.zone_did,
                session_token=session_token,
                refresh_token=rt.refresh_token,
                urls=tuple(urls),
                saved_at=int(time.time()),
            )
        )
        result_json: dict[str, Any] = {
            "user_id": info.sub,
            "user_type": user_type or None,
            "app_id": args.app,
            "zone_did": rt.zone_did,
            "session_file": str(store.path),
            "expires_at": info.exp,
            "expires_in": int(info.expires_in(time.time())),
        }
    finally:
        rt.close()
    emit(result_json, as_json=args.json, text=_describe)
    return EXIT_OK


def _owner_login(args: argparse.Namespace, urls: list[str]) -> int:
    """``login --owner``: an owner token, checked against the zone, saved."""
    from buckyos.generated.system_config_rpc import SystemConfigStub
    from buckyos.runtime import InvalidTokenError, NoPermissionError
    from buckyos.runtime.security import parse_unverified

    rt = open_runtime(args, app_id=OWNER_APP, user="root", urls=urls)
    try:
        folder = rt.config.config_dir
        if folder is None:
            raise CliError("no configuration directory: pass --root ZONE_ROOT")
        token = owner_token(rt, ttl=OWNER_TTL)
        # One read proves the zone takes it (the right zone, the owner's key) before saving.
        try:
            SystemConfigStub(rt.with_token(token)).Get(key="boot/config")
        except (InvalidTokenError, NoPermissionError) as exc:
            raise CliError(
                f"the zone refused a token signed with the owner key of {folder} "
                f"({exc.text}): is that folder this zone's (--root ZONE_ROOT)?"
            ) from exc
        info = parse_unverified(token)
        store = SessionStore(folder)
        store.save(
            Session(
                app_id=OWNER_APP,
                user_id=info.sub,
                zone_did=rt.zone_did,
                session_token=token,
                refresh_token=None,
                urls=tuple(urls),
                saved_at=int(time.time()),
                owner=True,
            )
        )
        result: dict[str, Any] = {
            "user_id": info.sub,
            "user_type": "owner",
            "app_id": OWNER_APP,
            "zone_did": rt.zone_did,
            "session_file": str(store.path),
            "expires_at": info.exp,
            "expires_in": int(info.expires_in(time.time())),
            "owner": True,
        }
    finally:
        rt.close()
    emit(result, as_json=args.json, text=_describe)
    return EXIT_OK
