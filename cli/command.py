"""Subcommands declared once: a name, the function that runs it, and one text.

Every ``buckyos`` subcommand takes the shared ``--debug``, names itself in its errors
(``command_name``) and runs through ``args.command``; the zone's commands also take the
zone options.  :class:`Commands` does that wiring, so a command module only says what is
its own::

    def register(commands: Commands) -> None:
        parser = commands.add("logout", run, _TEXT, zone=True)
        parser.add_argument("--json", action="store_true", help="...")

A text's first line is the one-line help ``buckyos --help`` lists; what follows a blank
line is the description ``buckyos logout --help`` shows as written (line breaks kept).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from .extras import needs_extra
from .session import zone_options

__all__ = ["Commands", "Run"]

Run = Callable[[argparse.Namespace], int]
"""``run(args) -> exit code``: what a subcommand does."""


class Commands:
    """Adds subcommands (or a group's subcommands) to the ``buckyos`` parser."""

    def __init__(
        self,
        subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
        common: argparse.ArgumentParser,
        group: str = "",
    ) -> None:
        self._subparsers = subparsers
        self._common = common
        self._group = group

    def add(
        self,
        name: str,
        run: Run,
        text: str,
        *,
        zone: bool = False,
        epilog: str | None = None,
        extra: str | None = None,
    ) -> argparse.ArgumentParser:
        """A subcommand that runs ``run``; ``zone`` adds the zone options (``--root``,
        ``--url``, ...) that find the zone and its session; ``extra`` names the part of the
        distribution it needs (``server``, ``codegen``: :mod:`.extras`), which is checked
        before ``run`` and named in the error when missing."""
        if extra is not None:
            run = needs_extra(extra, run)
        parser = self._parser(name, text, zone=zone, epilog=epilog)
        if self._group:
            parser.set_defaults(command=run, command_name=f"{self._group} {name}", verb=name)
        else:
            parser.set_defaults(command=run, command_name=name)
        return parser

    def group(self, name: str, text: str) -> Commands:
        """A subcommand that only holds subcommands (``zone up``, ``zone down``, ...)."""
        verbs = self._parser(name, text).add_subparsers(title="subcommands", metavar="SUBCOMMAND")
        verbs.required = True
        return Commands(verbs, self._common, name)

    def _parser(
        self, name: str, text: str, *, zone: bool = False, epilog: str | None = None
    ) -> argparse.ArgumentParser:
        help_text, _, description = text.partition("\n\n")
        parents = [self._common, zone_options()] if zone else [self._common]
        return self._subparsers.add_parser(
            name,
            parents=parents,
            help=help_text,
            description=description or help_text,
            epilog=epilog,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
