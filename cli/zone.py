"""``buckyos zone up|down|status``: a local BuckyOS zone on loopback.

``up`` creates the zone under ROOT the first time (owner, device and verify-hub keys, an
admin user with a generated password), starts system_config, verify-hub, kevent,
task-manager, kmsg and the node gateway as separate processes, seeds system_config, and
prints each service's kRPC URL and gRPC address, the admin's name and password, and the
``export`` lines that point a program (or ``buckyos login``) at the zone.  ``--json``
prints one object instead: ``{"root", "zone_did", "device_name", "admin": {"username",
"password"}, "services": {name: {"krpc_url", "grpc_target"?, "pid", "log"}}, "env":
{...}}``.

``--nodes N`` (2-7) runs a zone of N nodes on this machine instead: an etcd cluster of N
members and, per node (``ood1``..), system_config on it, verify-hub and a gateway, TLS
between the nodes (``docs/zone-nodes.md``).

ROOT defaults to ``$BUCKYOS_ZONE_ROOT``, else ``./.buckyos-zone``.  Ports: upstream's
(3200/3201, 3300/3301, 3181, 3380/3381, 4030/4031, 3180) by default, ``--ports auto``
for free ones, or ``--ports gateway=8080,verify_hub=0`` (0 picks a free one).

Exit codes: ``up``/``down`` 0 done, 1 refused (already running or starting, a port in
use, a half-written root, a folder it cannot write, a service that would not start, no
zone to stop), 2 a malformed ``--ports`` or an empty ``--root``; ``status`` 0 when every
service runs, 1 when none is known or one died.

``up`` records each service (its pid, in ``ROOT/run/zone.json``) as soon as its process
exists, before starting the next.  Interrupted (Ctrl-C, SIGTERM, SIGHUP) or failing, it
stops every process it started, removes the run file and exits 130 (SIGINT), 143
(SIGTERM) or 129 (SIGHUP) after an interruption; further signals during that stop are
ignored (it takes at most a few seconds per service).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any, Final

from .command import Commands
from .output import EXIT_ERROR, EXIT_OK, EXIT_USAGE, CliError, emit, print_error
from .zone_keys import add_keys_verb

__all__ = ["DEFAULT_ROOT", "ROOT_ENV", "default_root", "register", "run"]

ROOT_ENV: Final = "BUCKYOS_ZONE_ROOT"
DEFAULT_ROOT: Final = ".buckyos-zone"


def default_root() -> Path:
    """``$BUCKYOS_ZONE_ROOT``, else ``./.buckyos-zone``."""
    return Path(os.environ.get(ROOT_ENV, "").strip() or DEFAULT_ROOT)


def _root_arg(text: str) -> Path:
    """``--root DIR``: an empty one would be the current folder, which is refused."""
    if not text.strip():
        raise argparse.ArgumentTypeError(
            "an empty folder name would put the zone in the current folder; give a "
            f"folder, e.g. --root ./zone (or leave --root out for ./{DEFAULT_ROOT})"
        )
    return Path(text)


def _nodes_arg(text: str) -> int:
    """``--nodes N``: 1 to 7."""
    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of nodes") from None
    if not 1 <= count <= 7:
        raise argparse.ArgumentTypeError(f"{count}: a local zone has 1 to 7 nodes")
    return count


_UP = """create (once) and start the zone

Create the zone under ROOT (first time only), start its services as
separate processes and print how to reach them and log in."""

_UP_EXAMPLES = """examples:
  buckyos zone up --ports auto
  eval "$(buckyos zone up --root ./zone | grep '^export ')\""""


def register(commands: Commands) -> None:
    """Add ``zone`` and its subcommands to the ``buckyos`` parser."""
    verbs = commands.group(
        "zone",
        "run a local zone (system_config, verify-hub, node gateway)\n\n"
        "Start, stop and check a local BuckyOS zone on loopback.",
    )
    root_help = f"the zone's folder (${ROOT_ENV}, else ./{DEFAULT_ROOT})"

    up = verbs.add("up", run, _UP, epilog=_UP_EXAMPLES, extra="server")
    up.add_argument("--root", type=_root_arg, metavar="DIR", help=root_help)
    up.add_argument(
        "--ports",
        metavar="auto|NAME=PORT,...",
        help="'auto' for free ports, or NAME=PORT for system_config, system_config_grpc, "
        "verify_hub, verify_hub_grpc, kevent, task_manager, task_manager_grpc, kmsg, "
        "kmsg_grpc, gateway (default: upstream's 3200, 3201, 3300, 3301, 3181, 3380, 3381, "
        "4030, 4031, 3180)",
    )
    up.add_argument(
        "--app",
        action="append",
        default=[],
        metavar="APP_ID",
        help="give APP_ID the app role in the zone's RBAC policy; repeatable",
    )
    up.add_argument(
        "--nodes",
        type=_nodes_arg,
        default=1,
        metavar="N",
        help="run N nodes (ood1..oodN) on this machine, the configuration in an etcd "
        "cluster of N members (default 1: one node, SQLite); see docs/zone-nodes.md",
    )
    up.add_argument("--json", action="store_true", help="print one JSON object")

    down = verbs.add("down", run, "stop the zone\n\nStop the zone's services.")
    down.add_argument("--root", type=_root_arg, metavar="DIR", help=root_help)

    status = verbs.add(
        "status",
        run,
        "is the zone running?\n\nShow the zone's services; exit 0 when all run, 1 otherwise.",
    )
    status.add_argument("--root", type=_root_arg, metavar="DIR", help=root_help)
    status.add_argument("--json", action="store_true", help="print one JSON object")
    add_keys_verb(verbs, root_help, _root_arg)


def _up_text(data: dict[str, Any]) -> str:
    lines = [f"zone {data['zone_did']} is up at {data['root']} (device {data['device_name']})"]
    if data.get("nodes"):
        lines[0] = (
            f"zone {data['zone_did']} is up at {data['root']} (nodes "
            f"{', '.join(data['nodes'])}; etcd {','.join(data['etcd'])})"
        )
    for name, service in data["services"].items():
        grpc = f"  gRPC grpc://{service['grpc_target']}" if service.get("grpc_target") else ""
        where = f"kRPC {service['krpc_url']}" if "krpc_url" in service else service["client_url"]
        lines.append(f"  {name:<14} {where}{grpc}  (pid {service['pid']})")
    admin = data["admin"]
    lines.append(f"admin user: {admin['username']}  password: {admin['password']}")
    lines.append("point a program at this zone:")
    lines += [f"export {key}={value}" for key, value in data["env"].items()]
    lines.append(
        f"log in: buckyos login --root {data['root']} -u {admin['username']} --password-stdin"
    )
    lines.append(f"stop:   buckyos zone down --root {data['root']}")
    lines += [f"warning: {warning}" for warning in data.get("warnings", [])]
    return "\n".join(lines)


def _up(args: argparse.Namespace, root: Path) -> int:
    from buckyos.runtime import ConfigError
    from buckyos.services.zone import parse_ports, zone_up

    try:
        ports = parse_ports(args.ports)
    except ConfigError as exc:
        raise CliError(str(exc), EXIT_USAGE) from exc
    apps: list[str] = args.app
    for app in apps:
        if not app or any(ch.isspace() or ch in ",/" for ch in app):
            raise CliError(f"--app {app!r} is not an app id", EXIT_USAGE)
    from buckyos.services.zone import Interrupted

    try:
        info = zone_up(root, ports=ports, apps=apps, nodes=args.nodes)
    except Interrupted as exc:
        what = (
            f"stopped what it had started ({', '.join(exc.stopped)})"
            if exc.stopped
            else ("nothing had been started")
        )
        raise CliError(
            f"interrupted by {exc.signame}: {what}; nothing of the zone runs", 128 + exc.signum
        ) from None
    emit(info.to_json(), as_json=args.json, text=_up_text)
    return EXIT_OK


def _down(root: Path) -> int:
    from buckyos.services.zone import zone_down

    stopped = zone_down(root)
    names = [name for name, ran in stopped.items() if ran]
    gone = [name for name, ran in stopped.items() if not ran]
    line = f"stopped {', '.join(names)}" if names else "nothing was running"
    if gone:
        line += f" ({', '.join(gone)} had already exited)"
    emit(f"{line} at {root.resolve()}", as_json=False)
    return EXIT_OK


_STATES = {
    "starting": "starting (a `buckyos zone up` is at work)",
    "interrupted": "left half-started by an interrupted `buckyos zone up`",
}


def _status_text(data: dict[str, Any]) -> str:
    head = "running" if data["running"] else _STATES.get(data.get("state", ""), "not running")
    lines = [f"zone at {data['root']}: {head}"]
    for name, service in data["services"].items():
        state = "up" if service["alive"] else "DEAD"
        where = service.get("krpc_url") or service.get("client_url", "")
        where = "(not in the run file)" if service.get("stray") else where
        lines.append(f"  {name:<14} {state:<4} pid {service['pid']}  {where}")
    return "\n".join(lines)


def _status(args: argparse.Namespace, root: Path) -> int:
    from buckyos.services.zone import zone_status

    data = zone_status(root)
    if data["services"] or args.json:
        emit(data, as_json=args.json, text=_status_text)
    if data["running"]:
        return EXIT_OK
    where = data["root"]
    alive = [name for name, service in data["services"].items() if service["alive"]]
    if not data["services"]:
        message = f"no zone is running at {where}; start it with `buckyos zone up --root {where}`"
    elif data.get("state") == "starting":
        message = f"the zone at {where} is still starting; ask again in a moment"
    elif data.get("state") == "interrupted" and alive:
        message = (
            f"`buckyos zone up` was interrupted at {where} and left {', '.join(alive)} "
            f"running; stop it with `buckyos zone down --root {where}`"
        )
    elif data.get("state") == "interrupted":
        message = (
            f"no zone is running at {where} (an interrupted `buckyos zone up` left its run "
            f"file); start it with `buckyos zone up --root {where}`"
        )
    else:
        dead = [name for name, service in data["services"].items() if not service["alive"]]
        message = (
            f"the zone at {where} is partly dead ({', '.join(dead)} not running, see "
            f"{where}/logs); restart it: `buckyos zone down --root {where}` then "
            f"`buckyos zone up --root {where}`"
        )
    print_error(message, command=args.command_name)
    return EXIT_ERROR


def run(args: argparse.Namespace) -> int:
    """The ``zone`` subcommands."""
    root: Path = args.root if args.root is not None else default_root()
    verb: str = args.verb
    if verb == "up":
        return _up(args, root)
    if verb == "down":
        return _down(root)
    return _status(args, root)
