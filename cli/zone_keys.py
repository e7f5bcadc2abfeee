"""``buckyos zone keys``: a local zone's public keys, as files a server of the zone reads.

Writes the owner's, the device's and verify-hub's public keys as JWK files into
``--out DIR`` (default ``ZONE_ROOT/keys``) and prints, for each, its kid and file, then the
``--trust-key`` options of ``buckyos serve`` and the ``NOTES_OWNER_KEY`` line of the notes
example.  ``--json``: ``{"keys": [{"role", "name", "kid", "trust_key", "jwk", "path"}],
"serve_args": [...], "env": {"NOTES_OWNER_KEY": path}}``.

Exit codes: 0 printed; 1 no zone at ROOT, or the folder is not writable.
"""

from __future__ import annotations

import argparse
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .command import Commands
from .output import EXIT_OK, emit

__all__ = ["add_keys_verb", "run"]

_TEXT = """print the zone's public keys (owner, device, verify-hub)

Write the zone's public keys as JWK files (into ZONE_ROOT/keys, or --out DIR)
and print them with the options a server of the zone takes:
`buckyos serve --trust-key root=...` and the notes example's NOTES_OWNER_KEY."""

_EXAMPLES = """examples:
  buckyos zone keys --root ./zone
  eval "$(buckyos zone keys --root ./zone | grep '^export ')\""""


def add_keys_verb(verbs: Commands, root_help: str, root_type: Callable[[str], Path]) -> None:
    """Add ``keys`` to the ``zone`` group (``--root`` read as the other verbs read it)."""
    keys = verbs.add("keys", run, _TEXT, epilog=_EXAMPLES)
    keys.add_argument("--root", type=root_type, metavar="DIR", help=root_help)
    keys.add_argument(
        "--out", type=Path, metavar="DIR", help="where to write the JWK files (ZONE_ROOT/keys)"
    )
    keys.add_argument("--json", action="store_true", help="print one JSON object")


def _text(data: dict[str, Any]) -> str:
    lines = []
    for key in data["keys"]:
        who = f"{key['role']} {key['name']}" if key["role"] == "device" else key["role"]
        lines.append(f"{who:<16} kid {key['kid']:<12} {key['path']}")
    lines.append("serve a binding of this zone:")
    lines.append("  buckyos serve MODULE:OBJECT " + " ".join(map(shlex.quote, data["serve_args"])))
    lines.append("the notes example's owner key:")
    lines += [f"export {name}={shlex.quote(value)}" for name, value in data["env"].items()]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """The ``zone keys`` command."""
    from buckyos.services.zone.keys import write_key_files, zone_keys

    from .zone import default_root

    root: Path = (args.root if args.root is not None else default_root()).resolve()
    keys = zone_keys(root)
    folder: Path = args.out if args.out is not None else root / "keys"
    paths = write_key_files(keys, folder)
    serve_args: list[str] = []
    for key in keys:
        serve_args += ["--trust-key", f"{key.trust_kid}={paths[key.trust_kid]}"]
    data = {
        "keys": [key.to_json(paths[key.trust_kid]) for key in keys],
        "serve_args": serve_args,
        "env": {"NOTES_OWNER_KEY": str(paths["root"])},
    }
    emit(data, as_json=args.json, text=_text)
    return EXIT_OK
