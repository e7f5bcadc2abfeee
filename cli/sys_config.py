"""``buckyos sys-config get|set|create|delete|append|set-path|list|tx``: system_config from
the shell, with the session ``buckyos login`` saved.

Like upstream's ``buckycli sys_config``: ``get`` prints the stored value as it is (a
JSON value stays JSON text), ``list`` prints one child name per line; ``set --file``
takes the value from a file (upstream's ``--set_file``; ``-`` is stdin).  Writes print
nothing and exit 0.

- ``get KEY``: the value; ``--json`` gives ``{"key", "value", "version"}``.  A key that
  does not exist (upstream answers ``null``) prints nothing (``null`` with ``--json``)
  and exits **1** with ``key not found: KEY`` on stderr, so ``if buckyos sys-config get
  K`` works in scripts.
- ``set KEY VALUE`` (upsert), ``create KEY VALUE`` (fails when it exists), ``delete KEY``,
  ``append KEY VALUE`` (string concatenation), ``set-path KEY /json/pointer VALUE_JSON``
  (the value is JSON text, checked here first), ``list [KEY]`` (direct children; no KEY:
  the top level, which only the zone owner may read: ``buckyos login --owner``).
- ``tx ACTIONS_JSON``: ``sys_config_exec_tx``, atomically; ``ACTIONS_JSON`` is
  ``{"<key>": {"action": "create|update|append|set_by_path|remove", "value": "...",
  "all_set": {"/path": value}}}`` (``-`` reads stdin, ``@FILE`` a file);
  ``--main-key KEY --revision N`` makes it fail unless KEY is at revision N.

Errors from system_config come out with upstream's text (``Failed due to reason: key
exist : K``, ``No permission:No write permission for key: K``) and exit 1; a refusal adds
what it means for the session (its user and app, the likely cause, what to do).
``--timeout S`` bounds each call (15 s).  Options may come anywhere among the arguments.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from .argparsing import intermixed
from .command import Commands
from .output import EXIT_ERROR, EXIT_OK, EXIT_USAGE, CliError, emit, print_error
from .session import connect

if TYPE_CHECKING:
    from buckyos.generated.system_config_rpc import SystemConfigStub
    from buckyos.runtime.program import BuckyOSRuntime

__all__ = ["read_text_arg", "register", "run"]

_NAME = "sys-config"


_TEXT = """read and write system_config keys

Read and write system_config keys with the session of `buckyos login`.
A missing key makes `get` exit 1 (nothing on stdout, `null` with --json)."""


def register(commands: Commands) -> None:
    """Add ``sys-config`` and its subcommands to the ``buckyos`` parser."""
    verbs = commands.group(_NAME, _TEXT)

    def add(name: str, help_text: str, epilog: str | None = None) -> argparse.ArgumentParser:
        parser = intermixed(verbs.add(name, run, help_text, zone=True, epilog=epilog))
        parser.add_argument(
            "--timeout", type=float, default=15.0, metavar="S", help="seconds to wait (15)"
        )
        return parser

    get = add("get", "print a key's value (exit 1 when the key does not exist)")
    get.add_argument("key", metavar="KEY")
    get.add_argument("--json", action="store_true", help='print {"key","value","version"}')

    for name, help_text in (
        ("set", "create or overwrite a key"),
        ("create", "create a key; fails when it exists"),
        ("append", "append a string to an existing key's value"),
    ):
        sub = add(name, help_text)
        sub.add_argument("key", metavar="KEY")
        sub.add_argument("value", metavar="VALUE", nargs="?", help="the value (a string)")
        sub.add_argument(
            "--file",
            metavar="PATH",
            help="take the value from PATH ('-' reads stdin) instead of VALUE",
        )

    delete = add("delete", "delete a key; fails when it does not exist")
    delete.add_argument("key", metavar="KEY")

    set_path = add(
        "set-path",
        "set one JSON pointer path inside a key's JSON value",
        epilog="example:\n  buckyos sys-config set-path users/alice/apps/a/settings /theme "
        "'\"dark\"'",
    )
    set_path.add_argument("key", metavar="KEY")
    set_path.add_argument("json_path", metavar="JSON_PATH", help="e.g. /a/b")
    set_path.add_argument("value", metavar="VALUE_JSON", help="JSON text, e.g. '\"x\"' or 42")

    listing = add("list", "list a key's direct children, one per line")
    listing.add_argument(
        "key", metavar="KEY", nargs="?", default="", help="the parent (default: the top level)"
    )
    listing.add_argument("--json", action="store_true", help="print a JSON array")

    tx = add(
        "tx",
        "apply several writes atomically (sys_config_exec_tx)",
        epilog=(
            'example:\n  buckyos sys-config tx \'{"users/alice/apps/a/settings": '
            '{"action": "update", "value": "{}"}}\' --main-key users/alice/apps/a/settings '
            "--revision 3\nactions: create, update, append, set_by_path (with all_set), remove"
        ),
    )
    tx.add_argument(
        "actions",
        metavar="ACTIONS_JSON",
        help="{key: {action, value?, all_set?}}; '-' reads stdin, @FILE a file",
    )
    tx.add_argument("--main-key", metavar="KEY", help="fail unless KEY is at --revision")
    tx.add_argument("--revision", type=int, metavar="N", help="the revision --main-key must have")


def read_text_arg(text: str, what: str) -> str:
    """``-`` reads stdin, ``@FILE`` reads FILE, anything else is the text itself."""
    if text == "-":
        return sys.stdin.read()
    if text.startswith("@"):
        path = text[1:]
        try:
            with open(path, encoding="utf-8") as source:
                return source.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise CliError(f"cannot read {what} from {path}: {exc}", EXIT_USAGE) from exc
    return text


def _value(args: argparse.Namespace) -> str:
    if args.file is not None and args.value is not None:
        raise CliError("give VALUE or --file, not both", EXIT_USAGE)
    if args.file is not None:
        source = "-" if args.file == "-" else "@" + args.file
        return read_text_arg(source, "the value")
    if args.value is None:
        raise CliError("give the VALUE (or --file PATH, '-' for stdin)", EXIT_USAGE)
    return str(args.value)


def json_arg(text: str, what: str, hint: str = "") -> Any:
    """``text`` parsed as JSON; a usage error naming ``what`` (and ``hint``) when it is not."""
    try:
        return json.loads(text)
    except ValueError as exc:
        tail = f"; {hint}" if hint else ""
        raise CliError(f"{what} is not valid JSON ({exc}){tail}", EXIT_USAGE) from None


def _tx_request(args: argparse.Namespace) -> Any:
    from buckyos.generated.system_config_rpc import SYSTEM_CONFIG_EXEC_TX
    from buckyos.runtime import RPCError
    from buckyos.runtime.wire import decode_params

    actions = json_arg(read_text_arg(args.actions, "ACTIONS_JSON"), "ACTIONS_JSON")
    if not isinstance(actions, dict) or not actions:
        raise CliError(
            'ACTIONS_JSON must be a non-empty object {"<key>": {"action": ..., "value": ...}}',
            EXIT_USAGE,
        )
    params: dict[str, Any] = {"actions": actions}
    if (args.main_key is None) != (args.revision is None):
        raise CliError("--main-key and --revision go together", EXIT_USAGE)
    if args.main_key is not None:
        if args.revision < 0:
            raise CliError("--revision must be >= 0", EXIT_USAGE)
        params["main_key"] = {"key": args.main_key, "revision": args.revision}
    try:
        return decode_params(SYSTEM_CONFIG_EXEC_TX, params)
    except RPCError as exc:
        raise CliError(f"ACTIONS_JSON: {exc.detail}", EXIT_USAGE) from None


def _do(args: argparse.Namespace, stub: SystemConfigStub, request: Any) -> int:
    verb: str = args.verb
    key: str = getattr(args, "key", "")
    if verb == "get":
        got = stub.Get(key=key)
        if not got.HasField("value"):
            if args.json:
                emit(None, as_json=True)
            print_error(
                f"key not found: {key} (system_config has no value there; "
                "`buckyos sys-config list <parent>` shows what exists)",
                command=args.command_name,
            )
            return EXIT_ERROR
        data = {"key": key, "value": got.value, "version": got.version}
        emit(data, as_json=args.json, text=lambda d: d["value"])
    elif verb == "set":
        stub.Set(key=key, value=request)
    elif verb == "create":
        stub.Create(key=key, value=request)
    elif verb == "append":
        stub.Append(key=key, append_value=request)
    elif verb == "delete":
        stub.Delete(key=key)
    elif verb == "set-path":
        stub.SetByJsonPath(key=key, json_path=args.json_path, value=request)
    elif verb == "list":
        # The top level is the key "/" on the wire: upstream answers "" with Missing key.
        names = list(stub.List(key=key or "/").keys)
        if args.json or names:  # no children: no output at all, not an empty line
            emit(names, as_json=args.json, text=lambda n: "\n".join(n))
    elif verb == "tx":
        stub.ExecTx(request)
    else:  # pragma: no cover - argparse only offers the verbs above
        raise CliError(f"unknown subcommand {verb}", EXIT_USAGE)
    return EXIT_OK


def run(args: argparse.Namespace) -> int:
    """The ``sys-config`` subcommands: check the command line, then one call."""
    from buckyos.generated.system_config_rpc import SystemConfigStub

    verb: str = args.verb
    request: Any = None
    if not args.timeout > 0:
        raise CliError("--timeout must be > 0", EXIT_USAGE)
    if verb in ("set", "create", "append"):
        request = _value(args)
    elif verb == "set-path":
        # refused here with a hint, before anything is sent
        json_arg(args.value, "VALUE_JSON", "a string needs its quotes: '\"text\"'")
        request = args.value
    elif verb == "tx":
        request = _tx_request(args)
    with connect(args, timeout=args.timeout) as conn:

        def action(rt: BuckyOSRuntime) -> int:
            return _do(args, SystemConfigStub(rt), request)

        return conn.call(action)
