"""``buckyos kevent publish|watch``: kevent, the node's event bus, from the shell.

kevent is not kRPC: events go to ``<zone URL>/kapi/kevent/publish`` and come from
``/kapi/kevent/stream`` (a ``--url http://host:port`` gateway, or
``--url http://host:3181/kapi/kevent`` for a node's own kevent), with the session's token
as ``Authorization: Bearer`` when there is one (kevent itself checks none; ``--no-token``
sends none, and with ``--url`` needs no configuration).

- ``publish EVENTID [DATA_JSON]``: one event; ``DATA_JSON`` (``null`` when left out) is
  JSON text, ``-`` reads stdin, ``@FILE`` a file.  Prints nothing.
- ``watch PATTERN...``: print each event as it comes, ``<eventid> <data as JSON>``
  (``--json``: the whole event object, one line each), until ``--count N`` events came
  or ``--timeout S`` seconds passed (else until Ctrl-C).  Patterns are global ids with
  whole-segment wildcards: ``*`` one segment, ``**`` any number
  (``/task_mgr/**``).  A dropped stream is reopened (events in between are lost: kevent
  keeps none); ``watching ...`` on stderr says when the stream is up.

Exit codes: 0 done (``watch``: the count reached, or the timeout passed without
``--count``); 1 kevent refused or could not be reached, or ``--count`` was not reached
within ``--timeout``; 2 a malformed EVENTID, PATTERN or DATA_JSON (checked before
anything is sent, with upstream's texts, e.g. ``INVALID_PATTERN: invalid segment 'a b'``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from .argparsing import intermixed
from .command import Commands
from .output import EXIT_ERROR, EXIT_OK, EXIT_USAGE, CliError, emit
from .session import connect, service_urls_for
from .sys_config import json_arg, read_text_arg

if TYPE_CHECKING:
    from buckyos.runtime.client import KEvent, KEventClient

__all__ = ["register", "run_publish", "run_watch"]

_API = "kevent"
_TIMEOUT = 15.0

_TEXT = """publish and watch kevent events (the node's event bus)

Publish an event, or print the events that match patterns as they come.
kevent is node-local and keeps nothing: only a watcher already
subscribed sees an event."""

_PUBLISH = """publish one event

DATA_JSON is JSON text (null when left out); '-' reads stdin, @FILE a file."""

_WATCH = """print events matching PATTERN... as they come

One line per event: <eventid> <data as JSON> (--json: the whole event).
Until --count N events came or --timeout S passed, else until Ctrl-C."""

_PUBLISH_EXAMPLES = """examples:
  buckyos kevent publish /my_app/job-1/done '{"ok": true}'
  buckyos kevent publish /my_app/ping --url http://127.0.0.1:3181/kapi/kevent --no-token"""

_WATCH_EXAMPLES = """examples:
  buckyos kevent watch '/task_mgr/**'
  buckyos kevent watch /my_app/job-1/done --count 1 --timeout 60 --json"""


def register(commands: Commands) -> None:
    """Add ``kevent publish`` and ``kevent watch`` to the ``buckyos`` parser."""
    verbs = commands.group("kevent", _TEXT)

    def add(name: str, run: Any, text: str, epilog: str) -> argparse.ArgumentParser:
        parser = intermixed(verbs.add(name, run, text, zone=True, epilog=epilog))
        parser.add_argument(
            "--no-token", action="store_true", help="send no session token (no login needed)"
        )
        return parser

    publish = add("publish", run_publish, _PUBLISH, _PUBLISH_EXAMPLES)
    publish.add_argument("eventid", metavar="EVENTID", help="a global id, e.g. /my_app/x")
    publish.add_argument(
        "data", metavar="DATA_JSON", nargs="?", default="null", help="JSON text (null)"
    )
    publish.add_argument(
        "--timeout", type=float, default=_TIMEOUT, metavar="S", help="seconds to wait (15)"
    )

    watch = add("watch", run_watch, _WATCH, _WATCH_EXAMPLES)
    watch.add_argument("patterns", metavar="PATTERN", nargs="+", help="e.g. '/task_mgr/**'")
    watch.add_argument("--count", type=int, metavar="N", help="stop after N events")
    watch.add_argument("--timeout", type=float, metavar="S", help="stop after S seconds")
    watch.add_argument("--json", action="store_true", help="print each event as JSON")
    watch.add_argument(
        "--keepalive-ms",
        type=int,
        default=15_000,
        metavar="MS",
        help="the stream's keep-alive period; silent for 3 periods, it is reopened (15000)",
    )


@contextmanager
def _client(args: argparse.Namespace, timeout: float) -> Iterator[KEventClient]:
    """A kevent client where the zone options point, with the session's token."""
    from buckyos.runtime.client import KEventClient

    if args.no_token and args.url:
        pinned = service_urls_for(args.url, (_API,))
        if _API in pinned:  # no session and no configuration needed
            with _open(KEventClient, pinned[_API], None, timeout) as client:
                yield client
            return
    from buckyos.runtime.program import kevent_url

    with connect(args, apis=(_API,), need_session=False) as conn:
        runtime = conn.runtime
        token = None if args.no_token else (lambda: runtime.session_token)
        with _open(KEventClient, kevent_url(runtime), token, timeout) as client:
            yield client


@contextmanager
def _open(cls: type[KEventClient], url: str, token: Any, timeout: float) -> Iterator[KEventClient]:
    try:
        client = cls(url, token=token, timeout=timeout)
    except ValueError as exc:
        raise CliError(f"{exc}; give --url http://host:port (a gateway)", EXIT_USAGE) from exc
    with client:
        yield client


def _checked(check: Any, *values: Any) -> None:
    """A local check of the command line: a usage error with upstream's text."""
    from buckyos.runtime.client import KEventError

    try:
        check(*values)
    except KEventError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None


def run_publish(args: argparse.Namespace) -> int:
    """``kevent publish``."""
    from buckyos.runtime.wire import check_publish

    if args.timeout <= 0:
        raise CliError("--timeout must be > 0", EXIT_USAGE)
    hint = "quote it for the shell: '{\"ok\": true}', '\"a string\"'"
    data = json_arg(read_text_arg(args.data, "DATA_JSON"), "DATA_JSON", hint)
    _checked(check_publish, args.eventid, data)
    with _client(args, args.timeout) as client:
        client.publish(args.eventid, data)
    return EXIT_OK


def _line(event: KEvent) -> str:
    return f"{event.eventid} {json.dumps(event.data, separators=(',', ':'), ensure_ascii=False)}"


def run_watch(args: argparse.Namespace) -> int:
    """``kevent watch``."""
    from buckyos.runtime.wire import check_stream_patterns

    count: int | None = args.count
    timeout: float | None = args.timeout
    if count is not None and count < 1:
        raise CliError("--count must be >= 1", EXIT_USAGE)
    if timeout is not None and timeout <= 0:
        raise CliError("--timeout must be > 0", EXIT_USAGE)
    if args.keepalive_ms < 1:
        raise CliError("--keepalive-ms must be >= 1", EXIT_USAGE)
    _checked(check_stream_patterns, args.patterns)
    deadline = None if timeout is None else time.monotonic() + timeout
    seen = 0
    with _client(args, min(_TIMEOUT, timeout or _TIMEOUT)) as client:
        with client.subscribe(args.patterns, keepalive_ms=args.keepalive_ms) as sub:
            print(
                f"watching {' '.join(args.patterns)} at {client.url}",
                file=sys.stderr,
                flush=True,
            )
            while count is None or seen < count:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    break
                event = sub.get(left)
                if event is None:
                    if left is None:  # closed under us
                        break
                    continue  # the deadline passed (checked above)
                seen += 1
                emit(event.to_json() if args.json else event, as_json=args.json, text=_line)
            dropped = sub.dropped
    if dropped:
        print(f"{dropped} events were dropped: this watcher read too slowly", file=sys.stderr)
    if count is not None and seen < count:
        raise CliError(
            f"{seen} of {count} events came within {timeout:g} s; wait longer (--timeout) "
            "or check that something publishes to these patterns",
            EXIT_ERROR,
        )
    return EXIT_OK
