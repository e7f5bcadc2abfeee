"""A zone's users, as verify-hub and system_config read them: add, list, change a password.

A user is what ``zone up`` seeds for the admin (:func:`.zone.seed`), in system_config:

- ``users/<name>/settings``: ``{"user_id", "show_name", "type", "state", "password"}``,
  ``password`` the stored hash ``base64(sha256(password + name + ".buckyos"))`` that
  verify-hub checks a password login against (the password itself is never stored);
- a line ``g, <name>, users`` (``admin`` for an admin) in ``system/rbac/policy``, the
  zone's RBAC tail, which gives the user its own subtree ``users/<name>/``; an app granted
  with the user (``--app my-app``) gets ``g, <app>, app``: its own settings and info.

Writing the policy and another user's settings takes the zone owner (a zone-trusted
token): the callers pass a stub carrying one.  Settings and policy are written in one
transaction, the policy at the revision read, so two additions never lose each other's
lines.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from buckyos.generated import system_config_pb2 as sc
from buckyos.generated.system_config_rpc import SystemConfigStub
from buckyos.runtime import ConfigError, ReasonError
from buckyos.runtime.security import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
    did_document,
    password_hash,
    private_key_to_pem,
)
from buckyos.services.verify_hub.directory import USER_TYPES, check_name
from buckyos.services.verify_hub.service import RESERVED_SUBJECTS

__all__ = [
    "POLICY_KEY",
    "ROLE_OF_TYPE",
    "UserEntry",
    "add_user",
    "check_app_id",
    "check_user_name",
    "grant_apps",
    "grant_lines",
    "list_users",
    "set_password",
    "user_doc",
    "user_settings",
    "write_user_config",
]

POLICY_KEY: Final = "system/rbac/policy"
ROLE_OF_TYPE: Final = {"admin": "admin", "user": "users", "limited": "users"}


def check_user_name(name: str) -> str:
    """A name verify-hub will log in: one key segment, no RBAC role or system app id."""
    try:
        check_name(name, "user")
    except ReasonError as exc:  # verify-hub's text
        raise ConfigError(str(exc).removeprefix("Failed due to reason: ")) from None
    folded = name.casefold()
    if folded in RESERVED_SUBJECTS or folded == "root" or folded.startswith("su_"):
        raise ConfigError(
            f"{name!r} is a role or a system app id in the RBAC policy, not a user name "
            "(verify-hub would refuse its logins); choose another name"
        )
    return name


def check_app_id(app: str) -> str:
    """An app id to grant the app role: one key segment, not a role or a system app."""
    if not app or any(ch.isspace() or ch in ",/\\" for ch in app) or app in (".", ".."):
        raise ConfigError(f"{app!r} is not an app id (one word, no ',', '/' or spaces)")
    if app.casefold() in RESERVED_SUBJECTS:
        raise ConfigError(
            f"{app!r} already has a role in the default RBAC policy; give --app your own app's id"
        )
    return app


def user_settings(name: str, password: str, user_type: str = "user") -> dict[str, str]:
    """``users/<name>/settings`` as ``zone up`` writes the admin's."""
    if user_type not in USER_TYPES:
        raise ConfigError(f"user type {user_type!r} is not one of {', '.join(sorted(USER_TYPES))}")
    return {
        "user_id": name,
        "show_name": name,
        "type": user_type,
        "state": "active",
        "password": password_hash(name, password),
    }


def grant_lines(name: str | None, user_type: str, apps: Iterable[str]) -> list[str]:
    """The policy lines of a user (its role by type) and of apps (the ``app`` role)."""
    lines = []
    if name is not None:
        lines.append(f"g, {name}, {ROLE_OF_TYPE.get(user_type, 'users')}")
    lines += [f"g, {app}, app" for app in apps]
    return lines


def _with_lines(policy: str, lines: Sequence[str]) -> str:
    kept = [line.strip() for line in policy.splitlines() if line.strip()]
    return "\n".join(dict.fromkeys([*kept, *lines]))


def add_user(
    stub: SystemConfigStub,
    name: str,
    password: str,
    *,
    user_type: str = "user",
    apps: Sequence[str] = (),
    public_key: Ed25519PublicKey | None = None,
) -> None:
    """Create ``name`` (refused when it exists) and grant it, and ``apps``, their roles;
    with ``public_key``, ``users/<name>/doc`` too (its DID document: verify-hub checks the
    user's self-signed login JWTs with it)."""
    check_user_name(name)
    for app in apps:
        check_app_id(app)
    settings_key = f"users/{name}/settings"
    if stub.Get(key=settings_key).HasField("value"):
        raise ConfigError(
            f"user {name!r} already exists; `buckyos user passwd {name}` changes the password"
        )
    settings = user_settings(name, password, user_type)
    actions = {settings_key: sc.TxAction(action="create", value=json.dumps(settings))}
    if public_key is not None:
        doc = user_doc(name, public_key)
        actions[f"users/{name}/doc"] = sc.TxAction(action="update", value=json.dumps(doc))
    _write_policy(stub, grant_lines(name, user_type, apps), actions)


def user_doc(name: str, public_key: Ed25519PublicKey) -> dict[str, Any]:
    """``users/<name>/doc``: the user's DID document, as ``zone up`` writes the admin's."""
    return did_document(f"did:bns:{name}", public_key, name=name, full_name=name)


def write_user_config(
    folder: Path, name: str, private_key: Ed25519PrivateKey, zone_etc: Path
) -> None:
    """An AppClient configuration directory for ``name`` (``$BUCKYOS_DEV_HOME``): its
    ``user_config.json`` and ``user_private_key.pem``, and the zone's ``node_identity.json``
    and ``machine.json`` (which name the zone and how to reach it)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for shared in ("node_identity.json", "machine.json"):
            text = (zone_etc / shared).read_text(encoding="utf-8")
            (folder / shared).write_text(text, encoding="utf-8")
        doc = user_doc(name, private_key.public_key())
        (folder / "user_config.json").write_text(json.dumps(doc, indent=2), encoding="utf-8")
        key_file = folder / "user_private_key.pem"
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(private_key_to_pem(private_key))
        key_file.chmod(0o600)
    except OSError as exc:
        raise ConfigError(
            f"cannot write {name}'s configuration into {folder}: {exc.strerror or exc}; give "
            "a writable folder"
        ) from None


def grant_apps(stub: SystemConfigStub, apps: Sequence[str]) -> None:
    """Give ``apps`` the app role (kept with the zone's other policy lines)."""
    for app in apps:
        check_app_id(app)
    _write_policy(stub, grant_lines(None, "user", apps), {})


def _write_policy(
    stub: SystemConfigStub, lines: Sequence[str], actions: dict[str, sc.TxAction]
) -> None:
    current = stub.Get(key=POLICY_KEY)
    if current.HasField("value"):
        actions[POLICY_KEY] = sc.TxAction(action="update", value=_with_lines(current.value, lines))
        main_key = sc.MainKey(key=POLICY_KEY, revision=current.version)
        stub.ExecTx(actions=actions, main_key=main_key)
    else:
        actions[POLICY_KEY] = sc.TxAction(action="create", value=_with_lines("", lines))
        stub.ExecTx(actions=actions)


@dataclass(frozen=True, slots=True)
class UserEntry:
    """One user as ``buckyos user list`` shows it (never its password hash)."""

    user_id: str
    type: str
    state: str
    role: str | None

    def to_json(self) -> dict[str, Any]:
        return {"user_id": self.user_id, "type": self.type, "state": self.state, "role": self.role}


def _roles(policy: str) -> dict[str, str]:
    roles: dict[str, str] = {}
    for line in policy.splitlines():
        parts = [part.strip() for part in line.split(",")]
        if parts[0] == "g" and len(parts) > 2:
            roles.setdefault(parts[1], parts[2])
    return roles


def list_users(stub: SystemConfigStub) -> list[UserEntry]:
    """Every ``users/<name>/settings`` and the role the policy gives the name."""
    policy = stub.Get(key=POLICY_KEY)
    roles = _roles(policy.value if policy.HasField("value") else "")
    found: list[UserEntry] = []
    for name in stub.List(key="users").keys:
        got = stub.Get(key=f"users/{name}/settings")
        if not got.HasField("value"):
            continue
        try:
            data = json.loads(got.value)
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        found.append(
            UserEntry(
                user_id=str(data.get("user_id", name)),
                type=str(data.get("type", "?")),
                state=str(data.get("state", "?")),
                role=roles.get(name),
            )
        )
    return found


def set_password(stub: SystemConfigStub, name: str, password: str) -> None:
    """Replace ``name``'s stored password hash (its other settings kept)."""
    check_user_name(name)
    key = f"users/{name}/settings"
    got = stub.Get(key=key)
    if not got.HasField("value"):
        raise ConfigError(f"no user {name!r} in this zone; `buckyos user add {name}` creates one")
    try:
        data = json.loads(got.value)
    except ValueError:
        raise ConfigError(f"{key} is not JSON; fix it with `buckyos sys-config set`") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{key} is not a JSON object; fix it with `buckyos sys-config set`")
    data["password"] = password_hash(name, password)
    stub.ExecTx(
        actions={key: sc.TxAction(action="update", value=json.dumps(data))},
        main_key=sc.MainKey(key=key, revision=got.version),
    )
