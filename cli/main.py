"""The ``buckyos`` command: one argparse parser, one module per subcommand.

Conventions every subcommand follows (and its tests check):

- **Exit codes**: ``0`` success; ``1`` a runtime or RPC error (the command line was
  fine, doing it failed); ``2`` a usage error: argparse's own, and any check of the
  command line a subcommand makes itself (conflicting options, a malformed argument).
- **Errors** are one line on stderr, ``buckyos <command>: error: <what was wrong>;
  <what to do>``.  A :class:`~buckyos.runtime.errors.BuckyOSError` (an RPC error, a bad
  config, a bad contract) never prints a traceback, nor does
  :class:`~buckyos.cli.output.CliError`, an ``OSError`` (a file it cannot read or write)
  or an interruption; ``--debug`` adds the traceback and debug logs.  Anything else is a
  bug and keeps its traceback.
- **Stopping**: Ctrl-C (SIGINT) or SIGTERM interrupts a command (``interrupted``, exit
  130 or 143); a command that stops gracefully (``serve``) exits at once on a second one,
  and does not wait for a handler's thread more than its grace period
  (:func:`~buckyos.runtime.server.process_stop`).
- **Output**: data on stdout, logs and errors on stderr; a command that prints data
  takes ``--json`` and then prints it as JSON (one value per line, see
  :func:`~buckyos.cli.output.emit`).

Adding a subcommand: a module ``buckyos.cli.<name>`` with ``register(commands)`` that
adds its parser with ``commands.add(name, run, text)`` (:class:`~buckyos.cli.command.
Commands` gives it the shared ``--debug``, the zone options when asked, and its name in
errors), where ``run(args) -> int`` does the work; then list its ``register`` in
:data:`COMMANDS`.
Import heavy modules inside ``run`` so that ``buckyos --help`` stays quick.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import TypeAlias

from buckyos.runtime import BuckyOSError

from . import call, codegen, kevent, login, logout, serve, sys_config, task, token, user, zone
from .command import Commands
from .output import EXIT_ERROR, EXIT_USAGE, PROG, CliError, print_error

__all__ = ["COMMANDS", "Register", "build_parser", "main"]

Register: TypeAlias = Callable[[Commands], None]
"""``register(commands)``: add one subcommand's parser."""

COMMANDS: tuple[Register, ...] = (
    zone.register,
    login.register,
    logout.register,
    sys_config.register,
    user.register,
    call.register,
    kevent.register,
    task.register,
    token.register,
    serve.register,
    codegen.register,
)
"""Every subcommand's ``register``, in the order ``--help`` lists them."""

# Interrupted by Ctrl-C outside a command's own handling: the shell's convention.
_EXIT_INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    """The whole command line: global options and every subcommand."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="BuckyOS api runtime: serve a binding, call services.",
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        default=False,
        help="show tracebacks and debug logs",
    )
    # The same flag after the subcommand; SUPPRESS keeps a subparser from overwriting a
    # --debug given before it with its default.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS
    )
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    subparsers.required = True
    commands = Commands(subparsers, common)
    for register in COMMANDS:
        register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``buckyos`` with ``argv`` (default ``sys.argv[1:]``); the exit code."""
    try:
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # argparse: 2 for usage errors, 0 for --help
            return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    except KeyboardInterrupt:
        return _EXIT_INTERRUPTED
    name: str = args.command_name
    from buckyos.runtime.server import process_stop

    with process_stop(f"{PROG} {name}") as stop:
        return stop.exit(_run(args, name))


def _run(args: argparse.Namespace, name: str) -> int:
    """The command's exit code; a failure is one line on stderr (see the module)."""
    debug: bool = args.debug
    if debug:
        logging.basicConfig(level=logging.DEBUG, format="%(levelname)s %(name)s: %(message)s")
    else:
        _quiet_library_logs()
    try:
        code: int = args.command(args)
        return code
    except CliError as exc:
        if debug:
            traceback.print_exc()
        print_error(exc.message, command=name)
        return exc.code
    except BuckyOSError as exc:
        if debug:
            traceback.print_exc()
        print_error(f"{exc}{_unreachable_hint(exc, args)}", command=name)
        return EXIT_ERROR
    except OSError as exc:
        if debug:
            traceback.print_exc()
        print_error(_os_error(exc), command=name)
        return EXIT_ERROR
    except KeyboardInterrupt as exc:
        signum = getattr(exc, "signum", signal.SIGINT)
        by = "" if signum == signal.SIGINT else f" by {signal.Signals(signum).name}"
        print_error(f"interrupted{by}", command=name)
        return 128 + signum


def _quiet_library_logs() -> None:
    """The runtime's own log lines (a retry, an endpoint going dead) stay off stderr
    unless ``--debug``: the command reports the outcome once, as its error.  Without a
    handler of its own a library warning would reach stderr through logging's last
    resort; a command that sets up logging (``serve``) still gets them at its level."""
    logger = logging.getLogger("buckyos")
    if not any(isinstance(handler, logging.NullHandler) for handler in logger.handlers):
        logger.addHandler(logging.NullHandler())


_UNREACHABLE = ("connection refused", "failed to connect to all addresses")


def _unreachable_hint(exc: BaseException, args: argparse.Namespace) -> str:
    """``; is the zone running? ...`` when nothing listened where the call went, or the
    gateway found no instance of the service."""
    from buckyos.runtime import ServiceNotValidError, TransportError

    text = str(exc).lower()
    if isinstance(exc, TransportError) and any(words in text for words in _UNREACHABLE):
        what = "nothing answers there: is the zone running?"
    elif isinstance(exc, ServiceNotValidError) and "no started instance" in text:
        what = "is the zone running?"
    else:
        return ""
    root = getattr(args, "root", None)
    status = f"buckyos zone status --root {root}" if root else "buckyos zone status"
    return f"; {what} check with `{status}`"


def _os_error(exc: OSError) -> str:
    """A file or system error a command did not explain itself, in one line."""
    what = exc.strerror or str(exc) or type(exc).__name__
    if exc.filename:
        return f"{exc.filename}: {what}; check that path and its permissions"
    return f"{what} ({type(exc).__name__}); --debug shows where it happened"


if __name__ == "__main__":  # pragma: no cover - python -m buckyos.cli.main
    sys.exit(main())
