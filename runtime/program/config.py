"""Where a runtime's configuration comes from: explicit arguments, environment, files.

Upstream's rules (``buckyos-api/src/runtime.rs``, ``lib.rs``), kept exactly:

- **Precedence**: explicit arguments > environment variables > files.
- **The standard directory is chosen as a whole**, never merged file by file:
  AppClient uses ``$BUCKYOS_DEV_HOME``, else ``~/.buckycli`` if it exists, else
  ``$BUCKYOS_ROOT/etc``; AppService reads no directory (its container gets everything
  through the environment); every other type uses ``$BUCKYOS_ROOT/etc``.  A missing
  directory is an error (except for an AppClient that already holds a token from
  ``BUCKYOS_APPCLIENT_SESSION_TOKEN``, as upstream allows).
- ``BUCKYOS_ROOT`` is the env var, else the nearest ancestor of the program holding
  ``applist.json``, else ``/opt/buckyos``.
- Files: ``node_identity.json`` (zone, owner key, device name and DID), the device key
  ``node_private_key.pem`` (Kernel only: other types sign nothing unless given a key),
  ``user_config.json`` + ``user_private_key.pem`` (AppClient), ``machine.json``
  (``web3_bridge``, ``trust_did``, ``force_https`` default true).
- Environment: ``BUCKYOS_ZONE_CONFIG``, ``BUCKYOS_THIS_DEVICE``, ``app_instance_config``,
  ``BUCKYOS_HOST_GATEWAY`` and the session token variable named per runtime type
  (:func:`token_env_keys`).

Every missing or malformed piece is a :class:`ConfigError` that says what was tried,
where, and what to set.  Reading is pure apart from the files: the environment is a
mapping argument, so tests pass their own.
"""

from __future__ import annotations

import enum
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from buckyos.runtime.errors import ConfigError
from buckyos.runtime.security.keys import (
    load_private_key_file,
    public_key_from_doc,
    public_key_from_jwk,
)
from buckyos.runtime.wire.jsontext import json_object

__all__ = [
    "APPCLIENT_TOKEN_ENV",
    "DEFAULT_HOST_GATEWAY",
    "DEFAULT_ROOT",
    "DeviceConfig",
    "RuntimeConfig",
    "RuntimeType",
    "find_buckyos_root",
    "full_app_id",
    "load_config",
    "session_token_env_key",
    "token_env_keys",
]

APPCLIENT_TOKEN_ENV: Final = "BUCKYOS_APPCLIENT_SESSION_TOKEN"
DEFAULT_HOST_GATEWAY: Final = "host.docker.internal"
DEFAULT_ROOT: Final = Path("/opt/buckyos")
DEVICE_KEY_FILE: Final = "node_private_key.pem"


class RuntimeType(enum.Enum):
    """Upstream's ``BuckyOSRuntimeType``; the value is upstream's name."""

    APP_CLIENT = "AppClient"
    """CLI or desktop program; the only type that may load a *user* private key."""
    APP_SERVICE = "AppService"
    """Ring 3: a user's app on a node, maybe in a container."""
    FRAME_SERVICE = "FrameService"
    """Ring 2: a frame service on a node, usually in a container."""
    KERNEL_SERVICE = "KernelService"
    """Ring 1: a system service started by node-daemon."""
    KERNEL = "Kernel"
    """Ring 0: node-daemon, cyfs-gateway."""

    @property
    def is_service(self) -> bool:
        """KernelService, FrameService and AppService (upstream ``is_service``)."""
        return self in (
            RuntimeType.KERNEL_SERVICE,
            RuntimeType.FRAME_SERVICE,
            RuntimeType.APP_SERVICE,
        )

    @property
    def in_container(self) -> bool:
        """AppService and FrameService reach the node through ``BUCKYOS_HOST_GATEWAY``."""
        return self in (RuntimeType.APP_SERVICE, RuntimeType.FRAME_SERVICE)


def full_app_id(app_id: str, owner_user_id: str) -> str:
    """Upstream ``get_full_appid``: ``"{owner}-{app_id}"``."""
    return f"{owner_user_id}-{app_id}"


def session_token_env_key(app_full_id: str, *, app_service: bool) -> str:
    """Upstream ``get_session_token_env_key``: upper case, ``-`` to ``_``, then
    ``_TOKEN`` for app services or ``_SESSION_TOKEN`` for the others."""
    name = app_full_id.upper().replace("-", "_")
    return f"{name}_TOKEN" if app_service else f"{name}_SESSION_TOKEN"


def token_env_keys(
    runtime_type: RuntimeType, app_id: str, owner_user_id: str | None
) -> tuple[str, ...]:
    """The environment variables a runtime reads its session token from, in order."""
    keys: list[str] = []
    if runtime_type is RuntimeType.APP_CLIENT:
        keys.append(APPCLIENT_TOKEN_ENV)
    elif runtime_type is RuntimeType.KERNEL_SERVICE:
        keys.append(session_token_env_key(app_id, app_service=False))
    elif runtime_type is RuntimeType.FRAME_SERVICE:
        if owner_user_id:
            keys.append(session_token_env_key(full_app_id(app_id, owner_user_id), app_service=True))
        keys.append(session_token_env_key(app_id, app_service=False))
    elif runtime_type is RuntimeType.APP_SERVICE:
        if owner_user_id:
            keys.append(session_token_env_key(full_app_id(app_id, owner_user_id), app_service=True))
        keys.append(session_token_env_key(app_id, app_service=True))
    return tuple(dict.fromkeys(keys))


@dataclass(frozen=True, slots=True)
class DeviceConfig:
    """This device: its name (the kid of its tokens), DID, type and public key."""

    name: str
    did: str | None = None
    device_type: str | None = None
    public_key: Ed25519PublicKey | None = field(default=None, repr=False, compare=False)

    @property
    def is_ood(self) -> bool:
        return self.device_type == "ood"


@dataclass(frozen=True, slots=True)
class RuntimeConfig:
    """Everything :func:`load_config` found, and where (``sources``: piece -> origin)."""

    runtime_type: RuntimeType
    app_id: str
    owner_user_id: str | None
    user_id: str | None
    root: Path
    config_dir: Path | None
    zone_did: str | None = None
    owner_did: str | None = None
    owner_public_key: Ed25519PublicKey | None = field(default=None, repr=False)
    device: DeviceConfig | None = None
    device_private_key: Ed25519PrivateKey | None = field(default=None, repr=False)
    user_private_key: Ed25519PrivateKey | None = field(default=None, repr=False)
    user_config: Mapping[str, Any] | None = field(default=None, repr=False)
    zone_config: Mapping[str, Any] | None = field(default=None, repr=False)
    web3_bridge: Mapping[str, str] = field(default_factory=dict)
    trust_did: tuple[str, ...] = ()
    force_https: bool = True
    host_gateway: str = DEFAULT_HOST_GATEWAY
    session_token: str | None = field(default=None, repr=False)
    token_keys: tuple[str, ...] = ()
    app_instance: Mapping[str, Any] | None = field(default=None, repr=False)
    sources: Mapping[str, str] = field(default_factory=dict)

    @property
    def full_app_id(self) -> str:
        """``{owner}-{app}`` for AppClient (owner ``root`` when none), else the app id
        (upstream ``get_full_appid`` of the runtime)."""
        if self.runtime_type is RuntimeType.APP_CLIENT:
            return full_app_id(self.app_id, self.owner_user_id or "root")
        return self.app_id


# --------------------------------------------------------------------------- helpers


def find_buckyos_root(
    environ: Mapping[str, str], *, program: str | Path | None = None
) -> tuple[Path, str]:
    """``(root, how it was found)``: ``$BUCKYOS_ROOT``, else the nearest ancestor of the
    program's directory holding ``applist.json``, else ``/opt/buckyos``."""
    value = environ.get("BUCKYOS_ROOT", "").strip()
    if value:
        return Path(value).expanduser(), "env BUCKYOS_ROOT"
    start = Path(program if program is not None else (sys.argv[0] or ".")).expanduser()
    try:
        start = start.resolve()
    except OSError:
        start = Path.cwd()
    folder = start if start.is_dir() else start.parent
    for candidate in (folder, *folder.parents):
        if (candidate / "applist.json").is_file():
            return candidate, f"applist.json found in {candidate}"
    return DEFAULT_ROOT, "default (BUCKYOS_ROOT unset, no applist.json above the program)"


def _json_object(text: str, what: str, fix: str) -> dict[str, Any]:
    return json_object(text, what, ConfigError, fix=fix)


def _read_json_file(path: Path, fix: str) -> dict[str, Any] | None:
    """The object in ``path``, ``None`` when the file does not exist."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"cannot read {path}: {err}; {fix}") from None
    return _json_object(text, str(path), fix)


def _text(value: object, what: str, fix: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{what} is missing or not a non-empty string; {fix}")
    return value.strip()


def _device_from_doc(doc: Mapping[str, Any], what: str, fix: str) -> DeviceConfig:
    name = _text(doc.get("name"), f"{what} 'name'", fix)
    did = doc.get("id")
    device_type = doc.get("device_type")
    key: Ed25519PublicKey | None = None
    try:
        key = public_key_from_doc(doc, what=what)
    except ConfigError:
        key = None  # a device document may omit its key; the private key can supply it
    return DeviceConfig(
        name=name,
        did=did if isinstance(did, str) and did else None,
        device_type=device_type if isinstance(device_type, str) else None,
        public_key=key,
    )


def _zone_did_of(zone_config: Mapping[str, Any]) -> str | None:
    """The zone DID of a zone config (``id``, or ``zone_document.id``)."""
    value = zone_config.get("id")
    if isinstance(value, str) and value:
        return value
    doc = zone_config.get("zone_document")
    if isinstance(doc, Mapping):
        inner = doc.get("id")
        if isinstance(inner, str) and inner:
            return inner
    return None


def _app_identity(text: str) -> tuple[dict[str, Any], str, str]:
    """``(config, app_id, owner)`` from ``app_instance_config`` (``app_spec.app_doc.name``
    and ``app_spec.user_id``, as upstream's ``parse_app_identity_from_instance_config``)."""
    fix = "set app_instance_config to the JSON node-daemon gives the app"
    config = _json_object(text, "env app_instance_config", fix)
    spec = config.get("app_spec")
    if not isinstance(spec, Mapping):
        raise ConfigError(f"env app_instance_config has no app_spec object; {fix}")
    doc = spec.get("app_doc")
    app_id = doc.get("name") if isinstance(doc, Mapping) else spec.get("app_id")
    app = _text(app_id, "env app_instance_config app_spec.app_doc.name", fix)
    owner = _text(spec.get("user_id"), "env app_instance_config app_spec.user_id", fix)
    return config, app, owner


def _load_key(value: Ed25519PrivateKey | str | Path, what: str) -> Ed25519PrivateKey:
    if isinstance(value, Ed25519PrivateKey):
        return value
    try:
        return load_private_key_file(value)
    except ConfigError as err:
        raise ConfigError(f"{what}: {err}") from None


# --------------------------------------------------------------------------- loading


def _choose_dir(
    runtime_type: RuntimeType,
    environ: Mapping[str, str],
    root: Path,
    explicit: str | Path | None,
    home: Path,
    token_in_env: bool,
) -> tuple[Path | None, str]:
    """The standard directory, as a whole, and why it was chosen."""
    if explicit is not None:
        folder, why = Path(explicit).expanduser(), "explicit config_dir"
    elif runtime_type is RuntimeType.APP_SERVICE:
        return None, "AppService reads its configuration from the environment only"
    elif runtime_type is RuntimeType.APP_CLIENT:
        dev_home = environ.get("BUCKYOS_DEV_HOME", "").strip()
        if dev_home:
            folder, why = Path(dev_home).expanduser(), "env BUCKYOS_DEV_HOME"
        elif (home / ".buckycli").is_dir():
            return home / ".buckycli", "~/.buckycli exists"
        else:
            folder = root / "etc"
            why = "$BUCKYOS_ROOT/etc (BUCKYOS_DEV_HOME unset, no ~/.buckycli)"
    else:
        folder, why = root / "etc", "$BUCKYOS_ROOT/etc"
    if folder.is_dir():
        return folder, why
    if runtime_type is RuntimeType.APP_CLIENT and token_in_env and explicit is None:
        return None, f"{folder} missing; {APPCLIENT_TOKEN_ENV} is enough"
    hint = (
        "set BUCKYOS_DEV_HOME (or create ~/.buckycli) or BUCKYOS_ROOT"
        if runtime_type is RuntimeType.APP_CLIENT
        else "set BUCKYOS_ROOT to the BuckyOS install (its etc/ holds node_identity.json)"
    )
    raise ConfigError(
        f"{runtime_type.value} configuration directory {folder} does not exist "
        f"(chosen from {why}); {hint}, or pass config_dir="
    )


def load_config(
    runtime_type: RuntimeType,
    app_id: str,
    owner_user_id: str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    root: str | Path | None = None,
    config_dir: str | Path | None = None,
    zone_did: str | None = None,
    device: Mapping[str, Any] | DeviceConfig | None = None,
    device_private_key: Ed25519PrivateKey | str | Path | None = None,
    user_private_key: Ed25519PrivateKey | str | Path | None = None,
    session_token: str | None = None,
    web3_bridge: Mapping[str, str] | None = None,
    force_https: bool | None = None,
    host_gateway: str | None = None,
    home: str | Path | None = None,
    program: str | Path | None = None,
) -> RuntimeConfig:
    """Find everything a runtime of ``runtime_type`` needs, explicit > env > files.

    ``environ`` defaults to ``os.environ``; ``home`` to the user's home (for
    ``~/.buckycli``); ``program`` to ``sys.argv[0]`` (for the ``applist.json`` walk).
    """
    env: Mapping[str, str] = os.environ if environ is None else environ
    sources: dict[str, str] = {}
    if not isinstance(runtime_type, RuntimeType):
        raise ConfigError(f"runtime_type must be a RuntimeType, got {runtime_type!r}")

    # -- identity: explicit, then app_instance_config for AppService/FrameService
    app = (app_id or "").strip()
    owner = (owner_user_id or "").strip() or None
    app_instance: dict[str, Any] | None = None
    instance_text = env.get("app_instance_config")
    if runtime_type.in_container and instance_text is not None and (not app or owner is None):
        app_instance, env_app, env_owner = _app_identity(instance_text)
        if not app:
            app, sources["app_id"] = env_app, "env app_instance_config"
        if owner is None:
            owner, sources["owner_user_id"] = env_owner, "env app_instance_config"
    if not app:
        raise ConfigError(
            "app_id is required: pass it to init_buckyos_api_runtime"
            + (" or set app_instance_config" if runtime_type.in_container else "")
        )
    if runtime_type is RuntimeType.APP_SERVICE and owner is None:
        raise ConfigError(
            "owner_user_id is required for an AppService: pass owner_user_id= or set "
            "app_instance_config (its app_spec.user_id)"
        )
    sources.setdefault("app_id", "explicit")

    # -- root and the standard directory
    if root is not None:
        root_dir, sources["root"] = Path(root).expanduser(), "explicit root"
    else:
        root_dir, sources["root"] = find_buckyos_root(env, program=program)
    keys = token_env_keys(runtime_type, app, owner)
    env_token: str | None = None
    env_token_key: str | None = None
    for key in keys:
        value = env.get(key)
        if value is not None and value.strip():
            env_token, env_token_key = value.strip(), key
            break
    home_dir = Path(home).expanduser() if home is not None else Path.home()
    folder, sources["config_dir"] = _choose_dir(
        runtime_type,
        env,
        root_dir,
        config_dir,
        home_dir,
        token_in_env=session_token is not None or env_token is not None,
    )

    # -- files
    web3: dict[str, str] = {}
    trust: tuple[str, ...] = ()
    https = True
    zone: str | None = None
    owner_did: str | None = None
    owner_key: Ed25519PublicKey | None = None
    this_device: DeviceConfig | None = None
    device_key: Ed25519PrivateKey | None = None
    user_key: Ed25519PrivateKey | None = None
    user_doc: dict[str, Any] | None = None
    user_id = owner if runtime_type in (RuntimeType.APP_CLIENT, RuntimeType.APP_SERVICE) else None
    if folder is not None:
        machine_file = folder / "machine.json"
        machine = _read_json_file(machine_file, f"fix or remove {machine_file}")
        if machine is not None:
            fix = f"fix {machine_file}"
            bridges = machine.get("web3_bridge", {})
            if not isinstance(bridges, Mapping) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in bridges.items()
            ):
                raise ConfigError(
                    f"{machine_file} web3_bridge must map DID methods to hosts; {fix}"
                )
            web3 = dict(bridges)
            flag = machine.get("force_https", True)
            if not isinstance(flag, bool):
                raise ConfigError(f"{machine_file} force_https must be true or false; {fix}")
            https = flag
            dids = machine.get("trust_did", [])
            if isinstance(dids, str):
                dids = [dids]
            if not isinstance(dids, list) or not all(isinstance(d, str) for d in dids):
                raise ConfigError(f"{machine_file} trust_did must be a list of DIDs; {fix}")
            trust = tuple(dids)
            sources["machine"] = str(machine_file)

        identity_file = folder / "node_identity.json"
        fix = (
            f"fix {identity_file} (zone_did, owner_did, owner_public_key, device_name, device_did)"
        )
        identity = _read_json_file(identity_file, fix)
        if identity is not None:
            zone = _text(identity.get("zone_did"), f"{identity_file} zone_did", fix)
            raw_owner = identity.get("owner_did")
            owner_did = raw_owner if isinstance(raw_owner, str) and raw_owner else None
            jwk = identity.get("owner_public_key")
            if jwk is not None:
                try:
                    owner_key = public_key_from_jwk(jwk)
                except ConfigError as err:
                    raise ConfigError(f"{identity_file} owner_public_key: {err}; {fix}") from None
            name = _text(identity.get("device_name"), f"{identity_file} device_name", fix)
            did = identity.get("device_did")
            this_device = DeviceConfig(name=name, did=did if isinstance(did, str) else None)
            sources["zone_did"] = sources["device"] = str(identity_file)

        if runtime_type is RuntimeType.KERNEL and device_private_key is None:
            key_file = folder / DEVICE_KEY_FILE
            if not key_file.is_file():
                raise ConfigError(
                    f"Kernel runtime needs the device key: {key_file} does not exist; "
                    "put the device's PKCS#8 PEM private key there or pass device_private_key="
                )
            device_key = _load_key(key_file, "device private key")
            sources["device_private_key"] = str(key_file)

        if runtime_type is RuntimeType.APP_CLIENT:
            user_file = folder / "user_config.json"
            user_doc = _read_json_file(user_file, f"fix {user_file} (an owner document)")
            if user_doc is not None:
                name = _text(user_doc.get("name"), f"{user_file} name", f"fix {user_file}")
                user_id = user_id or name
                owner = owner or name
                sources["user_config"] = str(user_file)
                if zone is None:
                    default_zone = user_doc.get("default_zone_did")
                    if isinstance(default_zone, str) and default_zone:
                        zone, sources["zone_did"] = default_zone, f"{user_file} default_zone_did"
                key_file = folder / "user_private_key.pem"
                if key_file.is_file() and user_private_key is None:
                    user_key = _load_key(key_file, "user private key")
                    sources["user_private_key"] = str(key_file)

    # -- environment (overrides files)
    zone_config: dict[str, Any] | None = None
    zone_text = env.get("BUCKYOS_ZONE_CONFIG")
    if zone_text is not None and zone_text.strip():
        fix = "set BUCKYOS_ZONE_CONFIG to the zone config JSON (with its DID as 'id')"
        zone_config = _json_object(zone_text, "env BUCKYOS_ZONE_CONFIG", fix)
        env_zone = _zone_did_of(zone_config)
        if env_zone is None:
            raise ConfigError(f"env BUCKYOS_ZONE_CONFIG names no zone DID ('id'); {fix}")
        zone, sources["zone_did"] = env_zone, "env BUCKYOS_ZONE_CONFIG"
    device_text = env.get("BUCKYOS_THIS_DEVICE")
    if device_text is not None and device_text.strip():
        fix = "set BUCKYOS_THIS_DEVICE to this device's document JSON (with 'name')"
        doc = _json_object(device_text, "env BUCKYOS_THIS_DEVICE", fix)
        this_device = _device_from_doc(doc, "env BUCKYOS_THIS_DEVICE", fix)
        sources["device"] = "env BUCKYOS_THIS_DEVICE"
    gateway = env.get("BUCKYOS_HOST_GATEWAY", "").strip() or DEFAULT_HOST_GATEWAY
    if env_token is not None:
        sources["session_token"] = f"env {env_token_key}"

    # -- explicit (overrides everything)
    if zone_did is not None:
        zone, sources["zone_did"] = _text(zone_did, "zone_did", "pass a DID"), "explicit"
    if device is not None:
        if isinstance(device, DeviceConfig):
            this_device = device
        else:
            this_device = _device_from_doc(device, "explicit device", "pass a device document")
        sources["device"] = "explicit"
    if device_private_key is not None:
        device_key = _load_key(device_private_key, "explicit device_private_key")
        sources["device_private_key"] = "explicit"
    if user_private_key is not None:
        user_key = _load_key(user_private_key, "explicit user_private_key")
        sources["user_private_key"] = "explicit"
    if web3_bridge is not None:
        web3 = dict(web3_bridge)
    if force_https is not None:
        https = force_https
    if host_gateway is not None:
        gateway = host_gateway
    token = env_token
    if session_token is not None:
        token, sources["session_token"] = session_token.strip(), "explicit"

    # A device known only by its private key still gets its public key (trust for serving).
    if this_device is not None and this_device.public_key is None and device_key is not None:
        this_device = DeviceConfig(
            this_device.name, this_device.did, this_device.device_type, device_key.public_key()
        )

    # Services run on a token node-daemon hands them, or sign their own with a device key
    # given explicitly; with neither they cannot log in, and upstream makes that fatal here.
    if runtime_type.is_service and token is None and device_key is None:
        raise ConfigError(
            f"{runtime_type.value} {app!r} has no session token: tried env "
            + ", ".join(keys)
            + "; node-daemon sets it when it starts the service. Set one of them, or pass "
            "session_token= (or device_private_key= to sign a service login JWT)"
        )

    return RuntimeConfig(
        runtime_type=runtime_type,
        app_id=app,
        owner_user_id=owner,
        user_id=user_id,
        root=root_dir,
        config_dir=folder,
        zone_did=zone,
        owner_did=owner_did,
        owner_public_key=owner_key,
        device=this_device,
        device_private_key=device_key,
        user_private_key=user_key,
        user_config=user_doc,
        zone_config=zone_config,
        web3_bridge=web3,
        trust_did=trust,
        force_https=https,
        host_gateway=gateway,
        session_token=token,
        token_keys=keys,
        app_instance=app_instance,
        sources=sources,
    )
