"""``buckyos logout``: end the saved session at verify-hub and forget it.

verify-hub's ``logout`` takes the refresh token and revokes the whole session (every
token of it stops refreshing); the session file is removed afterwards.  A session that
verify-hub already ended (expired, revoked) is just forgotten.

Exit codes: 0 logged out, or there was no session; 1 verify-hub could not be reached (the
session is kept, so that the logout can be tried again).
"""

from __future__ import annotations

import argparse

from .command import Commands
from .output import EXIT_OK, CliError, emit
from .session import DEFAULT_APP, SessionStore, open_runtime

__all__ = ["register", "run"]


_TEXT = """end the saved session at verify-hub and forget it

Revoke the session `buckyos login` saved, then remove its file."""


def register(commands: Commands) -> None:
    """Add ``logout`` to the ``buckyos`` parser."""
    parser = commands.add("logout", run, _TEXT, zone=True)
    parser.add_argument("--json", action="store_true", help="print the result as one JSON line")


def run(args: argparse.Namespace) -> int:
    """The ``logout`` command."""
    from buckyos.generated.verify_hub_rpc import VerifyHubStub
    from buckyos.runtime import RPCError, ServiceNotValidError, TransportError

    rt = open_runtime(args, app_id=DEFAULT_APP, urls=list(args.url or []))
    try:
        folder = rt.config.config_dir
        store = SessionStore(folder) if folder is not None else None
        session = store.load() if store is not None else None
        if store is None or session is None:
            emit({"logged_out": False, "reason": "no session"}, as_json=args.json,
                 text=lambda _: "not logged in: nothing to end")  # fmt: skip
            return EXIT_OK
        rt.close()
        rt = open_runtime(args, app_id=session.app_id, urls=list(args.url or session.urls))
        revoked = False
        note = ""
        if session.refresh_token:
            try:
                VerifyHubStub(rt.with_token(None)).Logout(refresh_token=session.refresh_token)
                revoked = True
            except (TransportError, ServiceNotValidError) as exc:
                raise CliError(
                    f"verify-hub is unreachable ({exc}); the session is kept in {store.path} "
                    "so that `buckyos logout` can be tried again"
                ) from exc
            except RPCError as exc:
                note = f"verify-hub had already ended it ({exc})"
        else:
            note = "the saved session has no refresh token; it ends when its token expires"
        store.remove()
        result = {"logged_out": True, "revoked": revoked, "user_id": session.user_id}
        if note:
            result["note"] = note
        emit(
            result,
            as_json=args.json,
            text=lambda r: f"logged out {r['user_id']}" + (f"; {note}" if note else ""),
        )
        return EXIT_OK
    finally:
        rt.close()
