"""Exit codes, error reporting and data output shared by every ``buckyos`` subcommand.

A subcommand returns one of the exit codes below, prints data with :func:`emit` (JSON
with ``--json``, text otherwise) and reports a failure by raising :class:`CliError`
(or letting a :class:`~buckyos.runtime.errors.BuckyOSError` through); ``main`` turns
both into one line on stderr.  Data goes to stdout, everything else to stderr, so a
script can read stdout without filtering.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any, Final, TextIO

__all__ = [
    "EXIT_ERROR",
    "EXIT_OK",
    "EXIT_USAGE",
    "PROG",
    "CliError",
    "emit",
    "print_error",
]

PROG: Final = "buckyos"

EXIT_OK: Final = 0
"""The command did what it was asked."""
EXIT_ERROR: Final = 1
"""A runtime or RPC error: the command line was fine, doing it failed."""
EXIT_USAGE: Final = 2
"""The command line is wrong as written (argparse uses 2 as well)."""


class CliError(Exception):
    """A failure to report as one line on stderr (no traceback) with an exit code.

    The message says what was wrong and what to do about it.
    """

    def __init__(self, message: str, code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def print_error(message: str, *, command: str | None = None, stream: TextIO | None = None) -> None:
    """``buckyos serve: error: <message>`` on stderr (the shape argparse uses)."""
    where = f"{PROG} {command}" if command else PROG
    out = stream if stream is not None else sys.stderr
    print(f"{where}: error: {message}", file=out, flush=True)


def emit(
    data: Any,
    *,
    as_json: bool,
    text: Callable[[Any], str] | None = None,
    stream: TextIO | None = None,
) -> None:
    """Print ``data`` on stdout: one compact JSON line with ``--json``, else ``text(data)``
    (``str`` when not given).  Flushed at once, so a reader of a pipe sees it."""
    out = stream if stream is not None else sys.stdout
    if as_json:
        line = json.dumps(data, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    else:
        line = text(data) if text is not None else str(data)
    print(line, file=out, flush=True)
