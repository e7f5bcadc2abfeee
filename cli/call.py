"""``buckyos call SERVICE METHOD '<json params>'``: one raw kRPC call with the session.

The call goes to ``<zone URL>/kapi/SERVICE`` (or the ``--url`` pin) as upstream's
``{"method": METHOD, "params": PARAMS, "sys": [seq, token]}``; the JSON ``result`` is
printed, indented (``--json``: one compact line).  ``PARAMS`` defaults to ``{}``; ``-``
reads it from stdin, ``@FILE`` from a file.  ``--no-token`` sends no session token (for
verbs that need none, e.g. ``verify-hub login_by_password``), and no login is needed (nor,
with ``--url``, any configuration).  Options may come anywhere among the arguments
(``call SERVICE METHOD --no-token PARAMS`` too).

A method or service the zone does not know gets a suggestion from the contracts this
package knows (``Unknown method: sys_config_gte; did you mean sys_config_get?``).

Exit codes: 0 the result was printed; 1 the service answered an error (printed with
upstream's text, e.g. ``Unknown method: x``) or could not be reached; 2 PARAMS is not
JSON.
"""

from __future__ import annotations

import argparse
import difflib
import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .argparsing import intermixed
from .command import Commands
from .output import EXIT_OK, EXIT_USAGE, CliError, emit
from .session import connect, service_url, service_urls_for
from .sys_config import json_arg, read_text_arg

if TYPE_CHECKING:
    from buckyos.runtime import RPCError, ServiceDescriptor
    from buckyos.runtime.program import BuckyOSRuntime

__all__ = ["did_you_mean", "known_services", "register", "run", "suggestion"]


_TEXT = """call a kRPC method with raw JSON params

Send one kRPC call to SERVICE with the session of `buckyos login` and print
the JSON result; an error answer prints upstream's text and exits 1."""

_EXAMPLES = """examples:
  buckyos call system_config sys_config_get '{"key": "boot/config"}'
  buckyos call verify-hub verify_token @params.json"""


def register(commands: Commands) -> None:
    """Add ``call`` to the ``buckyos`` parser."""
    parser = intermixed(commands.add("call", run, _TEXT, zone=True, epilog=_EXAMPLES))
    parser.add_argument("service", metavar="SERVICE", help="e.g. system_config, verify-hub")
    parser.add_argument("method", metavar="METHOD", help="the kRPC method, e.g. sys_config_get")
    parser.add_argument(
        "params",
        metavar="PARAMS",
        nargs="?",
        default="{}",
        help="JSON params ({}); '-' reads stdin, @FILE a file",
    )
    parser.add_argument(
        "--no-token", action="store_true", help="send no session token (no login needed)"
    )
    parser.add_argument(
        "--timeout", type=float, default=15.0, metavar="S", help="seconds to wait (15)"
    )
    parser.add_argument("--json", action="store_true", help="print the result on one line")


def known_services() -> dict[str, ServiceDescriptor]:
    """The contracts this package ships, by api name (``system_config``, ``verify-hub``)."""
    from buckyos.generated.system_config_rpc import SYSTEM_CONFIG
    from buckyos.generated.verify_hub_rpc import VERIFY_HUB

    return {descriptor.api: descriptor for descriptor in (SYSTEM_CONFIG, VERIFY_HUB)}


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """The closest of ``choices`` to a mistyped ``word`` (difflib), if any is close."""
    found = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return found[0] if found and found[0] != word else None


def suggestion(
    service: str, method: str, error: RPCError, known: Mapping[str, ServiceDescriptor]
) -> str | None:
    """``did you mean X?`` for the service or method of a failed call, else ``None``."""
    from buckyos.runtime import UnknownMethodError

    descriptor = known.get(service)
    if descriptor is None:
        close = did_you_mean(service, known)
        return f"did you mean {close}?" if close is not None else None
    if isinstance(error, UnknownMethodError):
        close = did_you_mean(method, descriptor.by_krpc)
        return f"did you mean {close}?" if close is not None else None
    return None


def run(args: argparse.Namespace) -> int:
    """The ``call`` command."""
    from buckyos.runtime import RPCError

    service: str = args.service
    if not service or "/" in service or any(ch.isspace() for ch in service):
        raise CliError(f"SERVICE {service!r} is not a service name", EXIT_USAGE)
    if args.timeout <= 0:
        raise CliError("--timeout must be > 0", EXIT_USAGE)
    quote = 'quote it for the shell: \'{"key": "x"}\''
    params = json_arg(read_text_arg(args.params, "PARAMS"), "PARAMS", quote)
    try:
        result = _call(args, service, params)
    except RPCError as exc:
        hint = suggestion(service, args.method, exc, known_services())
        if hint is None:
            raise
        raise CliError(f"{exc}; {hint}") from exc
    emit(result, as_json=args.json, text=lambda r: json.dumps(r, indent=2, ensure_ascii=False))
    return EXIT_OK


def _call(args: argparse.Namespace, service: str, params: Any) -> Any:
    from buckyos.runtime.client import KrpcTransport

    if args.no_token and args.url:
        # No token and a URL given: no session and no configuration are needed.
        pinned = service_urls_for(args.url, (service,))
        if service in pinned:
            with KrpcTransport(pinned[service], timeout=args.timeout) as transport:
                return transport.call_json(service, args.method, params, token=None)
    with connect(args, apis=(service,), need_session=not args.no_token) as conn:
        url = service_url(conn.runtime, service, conn.urls)

        def action(rt: BuckyOSRuntime) -> Any:
            token = None if args.no_token else rt.session_token
            with KrpcTransport(url, timeout=args.timeout) as transport:
                return transport.call_json(service, args.method, params, token=token)

        # Without a token there is no session to renew; with one, an expired session is
        # renewed and the call resent, and any other error keeps its upstream text.
        return action(conn.runtime) if args.no_token else conn.call(action, explain=False)
