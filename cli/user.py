"""``buckyos user add|list|passwd``: a zone's users, written as verify-hub reads them.

``add NAME``: ``users/NAME/settings`` (type, state ``active``, the stored password hash;
see :mod:`buckyos.services.zone.users`) and the policy line that gives NAME its own
subtree (``g, NAME, users``; ``admin`` with ``--type admin``); ``--app APP`` (repeatable)
also gives APP the app role, so NAME's session for APP reaches
``users/NAME/apps/APP/settings``.  ``list``: each user's name, type, state and role (never
a password hash).  ``passwd NAME``: a new password.  Passwords come from
``--password-stdin``, ``-p`` or a prompt on a terminal, as for ``buckyos login``.

Users are the zone owner's to manage: every verb signs its calls with the zone owner's key
in the configuration directory (``--root ZONE_ROOT`` for a local zone: the key ``zone up``
wrote); no ``buckyos login`` is needed.

Exit codes: 0 done; 1 refused (the user exists or does not, no owner key, the zone
unreachable); 2 the command line (a malformed name or app id, ``-p`` with
``--password-stdin``, no password off a terminal).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .command import Commands
from .login import read_password
from .output import EXIT_OK, EXIT_USAGE, CliError, emit
from .session import OWNER_APP, SessionStore, open_runtime, owner_token

if TYPE_CHECKING:
    from buckyos.generated.system_config_rpc import SystemConfigStub

__all__ = ["register", "run"]

_TEXT = """add users to a zone, list them, change a password

Manage the zone's users as its owner (with the owner key of the configuration
directory: --root ZONE_ROOT for a local zone); no login needed."""

_EXAMPLES = """examples:
  echo "$ALICE_PASSWORD" | buckyos user add alice --app my-app --password-stdin --root ./zone
  buckyos user list --root ./zone
  buckyos user passwd alice --root ./zone          # prompts on a terminal"""


def _password_options(parser: argparse.ArgumentParser) -> None:
    how = parser.add_mutually_exclusive_group()
    how.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin's first line"
    )
    how.add_argument(
        "-p",
        "--password",
        metavar="PASSWORD",
        help="the password (visible in the process list: prefer --password-stdin)",
    )


def register(commands: Commands) -> None:
    """Add ``user`` and its subcommands to the ``buckyos`` parser."""
    verbs = commands.group("user", _TEXT)
    add = verbs.add(
        "add",
        run,
        "add a user (and give apps the app role)\n\n"
        "Add a user with a password, its own subtree users/NAME/, and give each --app\n"
        "the app role (its settings under users/NAME/apps/APP/).",
        zone=True,
        epilog=_EXAMPLES,
    )
    add.add_argument("name", metavar="NAME", help="the user name")
    add.add_argument(
        "--type",
        choices=("user", "admin"),
        default="user",
        help="user (role users, the default) or admin (role admin)",
    )
    add.add_argument(
        "--app",
        action="append",
        default=[],
        metavar="APP_ID",
        help="give APP_ID the app role in the zone's RBAC policy; repeatable",
    )
    add.add_argument(
        "--config-dir",
        type=Path,
        metavar="DIR",
        help="also make NAME a key: write NAME's AppClient configuration (user_config.json, "
        "user_private_key.pem, the zone's node_identity.json and machine.json) into DIR, "
        "for BUCKYOS_DEV_HOME=DIR and rt.login()",
    )
    _password_options(add)
    add.add_argument("--json", action="store_true", help="print one JSON object")

    listing = verbs.add(
        "list", run, "list the zone's users\n\nName, type, state and role of each user.", zone=True
    )
    listing.add_argument("--json", action="store_true", help="print a JSON array")

    passwd = verbs.add(
        "passwd", run, "set a user's password\n\nReplace a user's password.", zone=True
    )
    passwd.add_argument("name", metavar="NAME", help="the user name")
    _password_options(passwd)


@contextmanager
def _as_owner(
    args: argparse.Namespace,
) -> Iterator[tuple[SystemConfigStub, str | None, Path | None]]:
    """A system_config stub carrying an owner token, the zone's DID and the configuration
    directory."""
    from buckyos.generated.system_config_rpc import SystemConfigStub

    urls: list[str] = list(args.url or [])
    rt = open_runtime(args, app_id=OWNER_APP, user="root", urls=urls)
    try:
        if not urls and rt.config.config_dir is not None:
            saved = SessionStore(rt.config.config_dir).load()
            if saved is not None and saved.urls:  # the gateway `buckyos login` was given
                rt.close()
                urls = list(saved.urls)
                rt = open_runtime(args, app_id=OWNER_APP, user="root", urls=urls)
        yield SystemConfigStub(rt.with_token(owner_token(rt))), rt.zone_did, rt.config.config_dir
    finally:
        rt.close()


def _password(args: argparse.Namespace) -> str:
    args.user = args.name  # the prompt names the user
    password = read_password(args, has_key=False)
    if not password:
        raise CliError("the password is empty; give one", EXIT_USAGE)
    return password


def _check(check: Callable[[str], str], value: str) -> None:
    from buckyos.runtime import ConfigError

    try:
        check(value)
    except ConfigError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None


def _add(args: argparse.Namespace) -> int:
    from buckyos.runtime.security import generate_private_key
    from buckyos.services.zone.users import (
        ROLE_OF_TYPE,
        add_user,
        check_app_id,
        check_user_name,
        write_user_config,
    )

    name: str = args.name
    apps: list[str] = list(dict.fromkeys(args.app))
    _check(check_user_name, name)
    for app in apps:
        _check(check_app_id, app)
    password = _password(args)
    folder: Path | None = args.config_dir
    key = generate_private_key() if folder is not None else None
    with _as_owner(args) as (stub, zone_did, zone_etc):
        public = key.public_key() if key is not None else None
        add_user(stub, name, password, user_type=args.type, apps=apps, public_key=public)
        if folder is not None and key is not None:
            if zone_etc is None:
                raise CliError("no configuration directory to copy the zone's files from")
            write_user_config(folder, name, key, zone_etc)
    result: dict[str, Any] = {
        "user_id": name,
        "type": args.type,
        "role": ROLE_OF_TYPE[args.type],
        "apps": apps,
        "zone_did": zone_did,
        "config_dir": str(folder.resolve()) if folder is not None else None,
    }

    def text(data: dict[str, Any]) -> str:
        line = f"added {data['type']} {data['user_id']} (role {data['role']}) to {data['zone_did']}"
        if data["apps"]:
            line += "; app role given to " + ", ".join(data["apps"])
        line += f"\nlog in: buckyos login -u {data['user_id']} --password-stdin"
        if data["config_dir"]:
            line += f"\nits configuration: export BUCKYOS_DEV_HOME={data['config_dir']}"
        return line

    emit(result, as_json=args.json, text=text)
    return EXIT_OK


def _list(args: argparse.Namespace) -> int:
    from buckyos.services.zone.users import list_users

    with _as_owner(args) as (stub, _zone, _etc):
        users = [entry.to_json() for entry in list_users(stub)]

    def text(rows: list[dict[str, Any]]) -> str:
        return "\n".join(
            f"{row['user_id']:<16} {row['type']:<8} {row['state']:<10} "
            f"role {row['role'] or '(none)'}"
            for row in rows
        )

    if users or args.json:
        emit(users, as_json=args.json, text=text)
    return EXIT_OK


def _passwd(args: argparse.Namespace) -> int:
    from buckyos.services.zone.users import check_user_name, set_password

    _check(check_user_name, args.name)
    password = _password(args)
    with _as_owner(args) as (stub, _zone, _etc):
        set_password(stub, args.name, password)
    emit(f"password of {args.name} changed", as_json=False)
    return EXIT_OK


def run(args: argparse.Namespace) -> int:
    """The ``user`` subcommands."""
    verb: str = args.verb
    if verb == "add":
        return _add(args)
    if verb == "list":
        return _list(args)
    return _passwd(args)
