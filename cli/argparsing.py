"""Options anywhere among a subcommand's arguments, also before an optional positional.

argparse matches positionals in runs between options, and an optional positional
(``nargs="?"``) takes its default in the first run it meets: in ``buckyos call
system_config sys_config_get --no-token '{"key": "k"}'`` PARAMS was spent (as ``{}``)
before ``--no-token``, and the JSON after it was refused as "unrecognized arguments".
:func:`intermixed` makes a subcommand's parser read its options first and its positionals
after (argparse's ``parse_known_intermixed_args``), so options go anywhere.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

__all__ = ["intermixed"]


def intermixed(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Have ``parser`` (a subcommand's, without subparsers of its own) take options and
    positionals in any order; returns it."""
    plain = parser.parse_known_args
    inside = False

    def parse_known_args(
        args: Sequence[str] | None = None, namespace: Any = None
    ) -> tuple[argparse.Namespace, list[str]]:
        # The intermixed parse calls parse_known_args twice itself: those are plain.
        nonlocal inside
        if inside:
            return plain(args, namespace)
        inside = True
        try:
            return parser.parse_known_intermixed_args(args, namespace)
        finally:
            inside = False

    parser.parse_known_args = parse_known_args  # type: ignore[method-assign, assignment]
    return parser
