"""``buckyos serve MODULE:OBJECT``: serve a binding over kRPC/HTTP and gRPC, like uvicorn.

``MODULE`` is imported with the current directory (or ``--app-dir``) first on
``sys.path``, as ``uvicorn module:app`` does; ``OBJECT`` (a dotted attribute path) is

- a :class:`~buckyos.runtime.server.binding.Binding`: served as it is;
- a zero-argument callable, e.g. a function, returning a Binding or a servicer (a
  factory: importing the module stays free of side effects such as reading keys);
- a servicer, i.e. a subclass of a generated ``<Service>Servicer`` (instantiated with no
  arguments) or an instance of one.  A Binding needs a token verifier and RBAC, so a bare
  servicer is served only with ``--trust-key KID=PATH`` (at least one) and optionally
  ``--rbac-policy FILE``: a Binding named after the api, its TrustKeyStore holding those
  keys and its RbacEnforcer upstream's default policy plus the file as the zone's tail.
  These options are refused for a Binding, which brings its own.

The binding is started (``init`` hooks, in ``require_api`` order) before the ports
open; then one line per wire goes to stdout, flushed, e.g. ``kRPC listening on
http://127.0.0.1:4100`` and ``gRPC listening on 127.0.0.1:4101`` (``--json``: one JSON
object ``{"apis": [...], "krpc": url|null, "grpc": target|null}``).  Ports: kRPC
defaults to the port the contract declares (``(buckyos.api).port``) when the binding
serves one api that declares one, else 0; gRPC to the kRPC port + 1, or 0 when the kRPC
port is 0.  Port 0 picks a free port, which the line reports.  SIGTERM or SIGINT stop
both servers (calls in flight get a few seconds) and the command exits 0.

Errors (exit 2 for the command line as written, 1 for what fails while acting on it):
no colon in the target, conflicting or misapplied options (2); the module or attribute
not found, an object that cannot be served, a factory that fails, a key file that does
not hold an Ed25519 public key, a port in use (1).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import inspect
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from buckyos.services.kernel import parse_trust_key

from .command import Commands
from .output import EXIT_OK, EXIT_USAGE, CliError, emit

if TYPE_CHECKING:
    from buckyos.runtime import ServiceBase
    from buckyos.runtime.server import Binding, Listener, ServerInfo

__all__ = [
    "LOG_LEVELS",
    "ServePlan",
    "binding_for_servicer",
    "load_target",
    "parse_target",
    "plan_ports",
    "register",
    "resolve_target",
    "run",
]

# runtime.serve.LOG_LEVELS, spelled out: importing that module (uvicorn) here would slow
# every `buckyos` command's start.
LOG_LEVELS: Final = ("critical", "error", "warning", "info", "debug")

_log: Final = logging.getLogger("buckyos.cli.serve")

_EXAMPLE: Final = "examples.notes.service:binding"


# --------------------------------------------------------------------------- the parser


def _port(text: str) -> int:
    try:
        port = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port must be 0..65535 (0 picks a free one), got {port}")
    return port


_TEXT = """serve a Binding over kRPC/HTTP and gRPC

Import MODULE and serve OBJECT (a Binding, a factory returning one, or a
servicer with --trust-key) over kRPC/HTTP and gRPC until SIGTERM/SIGINT."""


def register(commands: Commands) -> None:
    """Add ``serve`` to the ``buckyos`` parser."""
    example = f"example:\n  buckyos serve {_EXAMPLE} --krpc-port 4100 --grpc-port 4101"
    parser = commands.add("serve", run, _TEXT, epilog=example, extra="server")
    parser.add_argument(
        "target",
        metavar="MODULE:OBJECT",
        help="what to serve, e.g. myservice:binding (OBJECT may be a dotted path)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument(
        "--krpc-port",
        type=_port,
        metavar="P",
        help="kRPC/HTTP port (default: the contract's port, else free); 0 picks a free one",
    )
    parser.add_argument(
        "--grpc-port",
        type=_port,
        metavar="Q",
        help="gRPC port (default: the kRPC port + 1, free when that is 0)",
    )
    parser.add_argument("--no-krpc", action="store_true", help="do not serve kRPC/HTTP")
    parser.add_argument("--no-grpc", action="store_true", help="do not serve gRPC")
    parser.add_argument(
        "--log-level", choices=LOG_LEVELS, default="info", help="logging level (info)"
    )
    parser.add_argument(
        "--app-dir",
        default=".",
        metavar="DIR",
        help="directory put first on sys.path to import MODULE from (.)",
    )
    parser.add_argument(
        "--trust-key",
        type=parse_trust_key,
        action="append",
        default=[],
        metavar="KID=PATH",
        help=(
            "for a bare servicer: trust the Ed25519 public key in PATH (PEM, JWK or DID "
            "document) for tokens with kid KID; 'root' is the zone owner key, "
            "'device:NAME' a zone device (kid NAME), 'verify-hub' verify-hub's key; tokens "
            "under any other kid vouch for their user only; repeatable"
        ),
    )
    parser.add_argument(
        "--rbac-policy",
        type=Path,
        metavar="FILE",
        help="for a bare servicer: RBAC policy lines added to upstream's default policy",
    )
    parser.add_argument(
        "--json", action="store_true", help="print the listening addresses as one JSON line"
    )


# --------------------------------------------------------------------------- the target


def parse_target(text: str) -> tuple[str, str]:
    """``"pkg.mod:obj.attr"`` -> ``("pkg.mod", "obj.attr")``; a usage error otherwise."""
    module, sep, attr = text.partition(":")
    parts = attr.split(".")
    if not sep or not module or not attr or ":" in attr or not all(parts):
        raise CliError(
            f"{text!r} is not MODULE:OBJECT (e.g. {_EXAMPLE}: the module to import, a colon, "
            "the name of the Binding in it)",
            EXIT_USAGE,
        )
    return module, attr


def _servable_names(module: Any) -> list[str]:
    """Names in ``module`` that may be servable (Bindings, servicers, zero-argument
    functions), for a hint when the one asked for is missing."""
    from buckyos.runtime import ServiceBase
    from buckyos.runtime.server import Binding

    names = []
    for name, value in sorted(vars(module).items()):
        if name.startswith("_"):
            continue
        defined_here = getattr(value, "__module__", None) == module.__name__
        if (
            isinstance(value, Binding | ServiceBase)
            or (isinstance(value, type) and issubclass(value, ServiceBase) and defined_here)
            # A function of this module taking no arguments may be a factory.
            or (inspect.isfunction(value) and defined_here and not _required_params(value))
        ):
            names.append(name)
    return names


def load_target(module_name: str, attr: str, app_dir: str = ".") -> Any:
    """Import ``module_name`` (``app_dir`` first on ``sys.path``) and walk ``attr``."""
    directory = os.path.abspath(app_dir)
    if not os.path.isdir(directory):
        raise CliError(f"--app-dir {app_dir!r} is not a directory")
    if directory not in sys.path:
        sys.path.insert(0, directory)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if missing and (module_name == missing or module_name.startswith(missing + ".")):
            raise CliError(
                f"module {module_name!r} not found (searched {directory} and sys.path): run "
                "from the directory that holds it, or pass --app-dir"
            ) from exc
        raise CliError(
            f"importing {module_name} failed: {exc} (a dependency of {module_name}; install it)"
        ) from exc
    except Exception as exc:
        raise CliError(f"importing {module_name} raised {type(exc).__name__}: {exc}") from exc
    value: Any = module
    where = f"module {module_name}"
    parts = attr.split(".")
    for index, part in enumerate(parts):
        if not hasattr(value, part):
            hint = ""
            if index == 0:
                names = _servable_names(module)
                hint = f"; servable objects there: {', '.join(names)}" if names else ""
            raise CliError(f"{where} has no attribute {part!r}{hint}")
        value = getattr(value, part)
        where = f"{module_name}:{'.'.join(parts[: index + 1])}"
    return value


def _describe(value: object) -> str:
    if isinstance(value, type):
        return f"the class {value.__module__}.{value.__qualname__}"
    name = type(value).__name__
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"


def _required_params(func: Any) -> list[str]:
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):  # some builtins have none: let the call decide
        return []
    return [
        name
        for name, param in signature.parameters.items()
        if param.default is inspect.Parameter.empty
        and param.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    ]


def resolve_target(value: object, target: str) -> Binding | ServiceBase:
    """The Binding or servicer instance ``value`` stands for: as is, or what a zero-argument
    factory (a servicer class included) returns."""
    from buckyos.runtime import ServiceBase
    from buckyos.runtime.server import Binding

    wanted = (
        "a Binding, a servicer (a generated *Servicer subclass or instance) "
        "or a zero-argument factory returning one"
    )
    if isinstance(value, Binding | ServiceBase):
        return value
    if not callable(value):
        raise CliError(f"{target} is {_describe(value)}, not {wanted}")
    required = _required_params(value)
    if required:
        raise CliError(
            f"{target} is {_describe(value)} that takes arguments ({', '.join(required)}); "
            f"a factory must take none (expected {wanted})"
        )
    try:
        made = value()
    except Exception as exc:
        raise CliError(f"{target}() failed: {type(exc).__name__}: {exc}") from exc
    if inspect.isawaitable(made):
        if inspect.iscoroutine(made):
            made.close()  # never awaited: close it so Python does not warn
        raise CliError(f"{target}() returned an awaitable; make the factory a plain def")
    if isinstance(made, Binding | ServiceBase):
        return made
    raise CliError(f"{target}() returned {_describe(made)}, not a Binding or a servicer")


# --------------------------------------------------------------------------- keys, binding


def binding_for_servicer(
    servicer: ServiceBase,
    trust_keys: Sequence[tuple[str, Path]],
    rbac_policy: Path | None = None,
) -> Binding:
    """A Binding for a bare servicer: these trust keys, upstream's default RBAC policy
    plus the lines of ``rbac_policy``; named after the servicer's api."""
    from buckyos.runtime import ConfigError, ContractError
    from buckyos.runtime.security import RbacEnforcer, TokenVerifier
    from buckyos.runtime.server import Binding
    from buckyos.services.kernel import trust_store

    try:
        trust = trust_store(trust_keys)
    except ConfigError as exc:
        raise CliError(str(exc)) from exc
    tail = ""
    if rbac_policy is not None:
        try:
            tail = rbac_policy.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CliError(f"cannot read --rbac-policy {rbac_policy}: {exc}") from exc
    try:
        rbac = RbacEnforcer(tail=tail)
    except ContractError as exc:
        raise CliError(f"--rbac-policy {rbac_policy}: {exc}") from exc
    api = servicer.SERVICE.api
    binding = Binding(api, verifier=TokenVerifier(trust), rbac=rbac)
    binding.add_service(servicer)
    return binding


# --------------------------------------------------------------------------- ports, serving


@dataclass(frozen=True, slots=True)
class ServePlan:
    """Where to listen: the host and one listener per wire served (port 0: a free one)."""

    host: str
    listeners: tuple[Listener[Any], ...]


def plan_ports(
    binding: Binding,
    *,
    host: str,
    krpc_port: int | None,
    grpc_port: int | None,
    no_krpc: bool = False,
    no_grpc: bool = False,
) -> ServePlan:
    """Apply the defaults: kRPC the contract's port (one api declaring one) else 0; gRPC the
    kRPC port + 1, or 0 when that is 0."""
    if krpc_port is None:
        declared = {service.port for service in binding.services()}
        only = next(iter(declared)) if len(declared) == 1 else 0
        krpc_port = only if 0 < only <= 65535 else 0
    if grpc_port is None:
        grpc_port = krpc_port + 1 if 0 < krpc_port < 65535 else 0
    from buckyos.runtime.server import GrpcListener, KrpcListener

    listeners: list[Listener[Any]] = []
    if not no_krpc:
        listeners.append(KrpcListener(krpc_port))
    if not no_grpc:
        listeners.append(GrpcListener(grpc_port))
    return ServePlan(host=host, listeners=tuple(listeners))


def _announce(info: ServerInfo, as_json: bool) -> None:
    if as_json:
        emit(
            {"apis": list(info.apis), "krpc": info.krpc_url, "grpc": info.grpc_target},
            as_json=True,
        )
        return
    for line in info.listening_lines():
        emit(line, as_json=False)


async def _serve(binding: Binding, plan: ServePlan, log_level: str, as_json: bool) -> None:
    from buckyos.runtime import serve

    try:
        await binding.init()
    except Exception as exc:
        raise CliError(
            f"binding {binding.name} failed to start: {type(exc).__name__}: {exc}"
        ) from exc
    listening = False

    def ready(info: ServerInfo) -> None:
        nonlocal listening
        listening = True
        _announce(info, as_json)
        _log.info("serving %s; SIGTERM or Ctrl-C stops", ", ".join(info.apis))

    try:
        await serve(
            binding,
            host=plan.host,
            listeners=plan.listeners,
            log_level=log_level,
            on_ready=ready,
        )
    except OSError as exc:
        if listening:
            raise
        from buckyos.runtime.server import describe_listeners

        raise CliError(
            f"cannot listen on {describe_listeners(plan.host, plan.listeners)}: {exc}; free "
            "the port or choose "
            "another with --krpc-port/--grpc-port (0 picks a free one)"
        ) from exc
    _log.info("stopped")


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # pycasbin logs every decision at INFO (denials at WARNING); a denial already goes back
    # to the caller with its reason, so its lines are kept for --log-level debug.
    logging.getLogger("casbin").setLevel(logging.DEBUG if level == "debug" else logging.ERROR)


def run(args: argparse.Namespace) -> int:
    """The ``serve`` command: check the command line, load the target, serve until told."""
    if args.no_krpc and args.no_grpc:
        raise CliError("--no-krpc and --no-grpc leave nothing to serve; drop one", EXIT_USAGE)
    if args.no_krpc and args.krpc_port is not None:
        raise CliError("--krpc-port contradicts --no-krpc; drop one", EXIT_USAGE)
    if args.no_grpc and args.grpc_port is not None:
        raise CliError("--grpc-port contradicts --no-grpc; drop one", EXIT_USAGE)
    module_name, attr = parse_target(args.target)
    _configure_logging(args.log_level)

    from buckyos.runtime.server import Binding

    served = resolve_target(load_target(module_name, attr, args.app_dir), args.target)
    if isinstance(served, Binding):
        if args.trust_key or args.rbac_policy is not None:
            raise CliError(
                f"--trust-key and --rbac-policy apply to a bare servicer; {args.target} is a "
                "Binding, which brings its own TokenVerifier and RbacEnforcer",
                EXIT_USAGE,
            )
        binding = served
    else:
        if not args.trust_key:
            raise CliError(
                f"{args.target} is a servicer ({type(served).__name__}) without a Binding: "
                "give --trust-key KID=PATH (the public key that signs callers' tokens, "
                "'root' for the zone owner) and --rbac-policy FILE, or build a Binding "
                "in your module and serve that",
                EXIT_USAGE,
            )
        binding = binding_for_servicer(served, args.trust_key, args.rbac_policy)
    plan = plan_ports(
        binding,
        host=args.host,
        krpc_port=args.krpc_port,
        grpc_port=args.grpc_port,
        no_krpc=args.no_krpc,
        no_grpc=args.no_grpc,
    )
    from buckyos.runtime.server import run_async

    try:
        run_async(lambda: _serve(binding, plan, args.log_level, args.json))
    finally:
        with contextlib.suppress(Exception):
            binding.close()
    return EXIT_OK
