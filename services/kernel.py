"""The zone side of a kernel service process: who it is, whom it trusts, how it checks.

task-manager, kmsg and kevent run in a zone next to system_config and verify-hub.  Each
must check the session tokens of its callers against the zone's keys and RBAC policy, and
call other services (kevent, system_config) as itself.  Upstream's node-daemon starts a
kernel service with a device-signed login JWT that the service trades at verify-hub; this
module does the same from the zone's root folder:

- :func:`add_kernel_options` gives a service's ``__main__`` ``--root`` (the zone's root:
  ``etc/node_identity.json`` and ``etc/node_private_key.pem``, like ``$BUCKYOS_ROOT``),
  ``--system-config`` (system_config's kRPC URL) and ``--app-id``; or, to run a service
  outside any zone (tests, a developer's machine), ``--trust-key KID=PATH`` instead.
- :func:`open_kernel` returns a :class:`Kernel`: in a zone, a KernelService runtime
  logged in with the device key (its keep-alive renews the session), whose trust keys
  and policy verify callers, plus a poller of verify-hub's revocation list
  (:mod:`buckyos.runtime.security.revocation`) so a logged-out session is refused here
  too, and a reload of the zone's RBAC policy (``system/rbac/policy``) every
  :data:`POLICY_INTERVAL` seconds, as upstream's runtime caches it for 10 s: a user or
  app the zone adds later is known here without a restart; standalone, only the given
  keys and upstream's default policy.

``Kernel.binding(api)`` is the :class:`~buckyos.runtime.server.Binding` the service
serves; ``Kernel.session_token()`` the token it calls others with (``None`` standalone).
:func:`serve_kernel` serves it on the process's listeners and starts the kernel once they
listen; :func:`run_kernel_service` is a service ``main``'s last line (logging, exit codes).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:  # the CLI imports the option parsers; the runtime loads on use
    from buckyos.runtime import BuckyOSRuntime
    from buckyos.runtime.security import (
        RbacEnforcer,
        RevocationPoller,
        RevocationSet,
        TokenVerifier,
        TrustKeyStore,
    )
    from buckyos.runtime.server import Binding, ServerInfo

__all__ = [
    "DEVICE_PREFIX",
    "OWNER_KIDS",
    "POLICY_INTERVAL",
    "VERIFY_HUB_KID",
    "Kernel",
    "add_kernel_options",
    "open_kernel",
    "parse_trust_key",
    "run_kernel_service",
    "serve_kernel",
    "trust_store",
]

_log = logging.getLogger("buckyos.services.kernel")

POLICY_INTERVAL: Final = 10.0
"""Seconds between two reads of the zone's RBAC policy (upstream's runtime caches
``system/rbac/*`` for 10 s)."""
POLICY_KEY: Final = "system/rbac/policy"

OWNER_KIDS: Final = frozenset({"root", "$default"})
"""``--trust-key`` kids that name the zone owner's key (upstream's two names for it)."""
VERIFY_HUB_KID: Final = "verify-hub"
DEVICE_PREFIX: Final = "device:"
"""``device:NAME=PATH``: a zone device; its tokens are zone-trusted."""


def parse_trust_key(text: str) -> tuple[str, Path]:
    """``KID=PATH`` of a ``--trust-key`` option (an argparse ``type``)."""
    kid, sep, path = text.partition("=")
    kid, path = kid.strip(), path.strip()
    if not sep or not kid or not path or kid == DEVICE_PREFIX:
        raise argparse.ArgumentTypeError(
            f"expected KID=PATH (e.g. root=owner.pub.pem), got {text!r}"
        )
    return kid, Path(path)


def trust_store(trust_keys: Sequence[tuple[str, Path]]) -> TrustKeyStore:
    """A trust store holding these public keys: ``root``/``$default`` the owner's,
    ``verify-hub`` verify-hub's, ``device:NAME`` a zone device's; any other kid vouches
    for its own tokens' user and nothing beyond.  A private key file is refused
    (:class:`ConfigError` naming the file)."""
    from buckyos.runtime.security import TrustKeyStore, load_public_key

    trust = TrustKeyStore()
    for kid, path in trust_keys:
        key = load_public_key(path, what="trust key", allow_private=False)
        if kid in OWNER_KIDS:
            trust.set_owner_key(key)
        elif kid == VERIFY_HUB_KID:
            trust.set_verify_hub_key(key)
        elif kid.startswith(DEVICE_PREFIX):
            trust.add_device(kid.removeprefix(DEVICE_PREFIX), key)
        else:
            trust.add_key(kid, key)
    return trust


def add_kernel_options(parser: argparse.ArgumentParser, *, app_id: str) -> None:
    """``--root``, ``--system-config``, ``--app-id`` (in a zone) or ``--trust-key``
    (standalone).  One of ``--root`` / ``$BUCKYOS_ROOT`` / ``--trust-key`` is needed."""
    group = parser.add_argument_group("zone (a kernel service's identity and trust)")
    group.add_argument(
        "--root",
        type=Path,
        default=None,
        help="the zone's root folder (default $BUCKYOS_ROOT): this node's identity and "
        "device key are read from its etc/",
    )
    group.add_argument(
        "--system-config",
        metavar="URL",
        default=None,
        help="system_config's kRPC URL (default: the zone's, "
        "http://127.0.0.1:3200/kapi/system_config)",
    )
    group.add_argument(
        "--app-id", default=app_id, help=f"the app id it logs in as (default {app_id})"
    )
    group.add_argument(
        "--trust-key",
        type=parse_trust_key,
        action="append",
        default=[],
        metavar="KID=PATH",
        help="run outside a zone: trust this Ed25519 public key (root=, verify-hub=, "
        "device:NAME=, or any kid for its own user); repeatable; no --root then",
    )


@dataclass
class Kernel:
    """A kernel service's identity and trust: see the module docstring."""

    verifier: TokenVerifier
    rbac: RbacEnforcer
    runtime: BuckyOSRuntime | None = None
    revocations: RevocationSet | None = None
    policy_interval: float = POLICY_INTERVAL
    _poller: RevocationPoller | None = field(default=None, repr=False)
    _read_policy: Callable[[], Awaitable[str | None]] | None = field(default=None, repr=False)
    _policy_task: asyncio.Task[None] | None = field(default=None, repr=False)
    _policy_failing: bool = field(default=False, repr=False)

    def binding(self, api: str, **options: Any) -> Binding:
        """A Binding for ``api`` checking callers with this kernel's trust and policy
        (and revocations in a zone); ``options`` go to :class:`Binding`."""
        from buckyos.runtime.server import Binding

        return Binding(
            api, verifier=self.verifier, rbac=self.rbac, revocations=self.revocations, **options
        )

    def session_token(self) -> str | None:
        """The token this service calls others with (renewed by the keep-alive)."""
        return None if self.runtime is None else self.runtime.current_token()

    async def start(self, served: ServerInfo | None = None) -> None:
        """Once it listens: record ``served``'s kRPC/gRPC ports in its instance record,
        start the keep-alive (which writes that record and renews the session) and the
        revocation poller (in the running loop; a zone only)."""
        if self.runtime is not None:
            if served is not None and served.krpc_port is not None:
                self.runtime.set_main_service_port(served.krpc_port, grpc_port=served.grpc_port)
            self.runtime.start_keepalive()
        if self._poller is not None:
            await self._poller.poll_once()
            self._poller.start()
        if self._read_policy is not None and self._policy_task is None:
            self._policy_task = asyncio.get_running_loop().create_task(
                self._follow_policy(), name="kernel-rbac-policy"
            )

    async def refresh_policy(self) -> bool:
        """Read the zone's RBAC policy now and apply it when it changed; whether it did.
        A policy that does not parse is refused (:class:`ContractError`) and the current
        one kept."""
        if self._read_policy is None:
            return False
        text = await self._read_policy() or ""
        if text == self.rbac.policy_tail:
            return False
        self.rbac.set_policy_tail(text)
        return True

    async def _follow_policy(self) -> None:
        while True:
            await asyncio.sleep(self.policy_interval)
            try:
                if await self.refresh_policy():
                    _log.info("the zone's RBAC policy changed: reloaded")
            except Exception as err:  # keep the last policy; say so once per failure streak
                if not self._policy_failing:
                    _log.warning("cannot reload %s (keeping the last policy): %s", POLICY_KEY, err)
                self._policy_failing = True
            else:
                self._policy_failing = False

    async def aclose(self) -> None:
        task, self._policy_task = self._policy_task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
        if self._poller is not None:
            await self._poller.stop()
        if self.runtime is not None:
            await self.runtime.aclose()


async def open_kernel(args: argparse.Namespace) -> Kernel:
    """The :class:`Kernel` of ``args`` (from :func:`add_kernel_options`): logged in to the
    zone at ``--root``, or standalone with ``--trust-key``.  :class:`ConfigError` names
    what is missing or wrong."""
    from buckyos.generated.system_config_rpc import AsyncSystemConfigStub
    from buckyos.runtime import ConfigError
    from buckyos.runtime.security import (
        REVOCATIONS_KEY,
        RbacEnforcer,
        RevocationPoller,
        RevocationSet,
        TokenVerifier,
    )

    if args.trust_key:
        if args.root is not None:
            raise ConfigError("--trust-key runs outside a zone: give it or --root, not both")
        return Kernel(TokenVerifier(trust_store(args.trust_key)), RbacEnforcer())
    root = args.root or os.environ.get("BUCKYOS_ROOT")
    if not root:
        raise ConfigError(
            "no zone: give --root (the zone's root folder, see `buckyos zone status`), set "
            "$BUCKYOS_ROOT, or run outside a zone with --trust-key KID=PATH"
        )
    rt = await _zone_runtime(Path(root), args.app_id, args.system_config)
    revocations = RevocationSet()
    stub = AsyncSystemConfigStub(rt, timeout=5)

    async def fetch() -> str | None:
        result = await stub.Get(key=REVOCATIONS_KEY)
        return result.value if result.HasField("value") else None

    async def read_policy() -> str | None:
        result = await stub.Get(key=POLICY_KEY)
        return result.value if result.HasField("value") else None

    return Kernel(
        rt.token_verifier(),
        rt.rbac_enforcer(),
        runtime=rt,
        revocations=revocations,
        _poller=RevocationPoller(revocations, fetch),
        _read_policy=read_policy,
    )


async def _zone_runtime(root: Path, app_id: str, system_config: str | None) -> BuckyOSRuntime:
    # Imported here: the zone package pulls in the zone's supervisor, which a standalone
    # service never needs.
    from buckyos.runtime import RuntimeType, init_buckyos_api_runtime
    from buckyos.runtime.security import make_service_login_jwt
    from buckyos.services.zone.identity import load_identity
    from buckyos.services.zone.layout import ZoneLayout

    ident = load_identity(ZoneLayout(root))
    # What node-daemon hands a kernel service it starts: a device-signed login JWT.
    handed_over = make_service_login_jwt(
        ident.device_key, device_name=ident.device_name, subject="kernel", app_id=app_id
    )
    rt = init_buckyos_api_runtime(
        app_id,
        runtime_type=RuntimeType.KERNEL_SERVICE,
        root=root,
        config_dir=root / "etc",
        session_token=handed_over,
        system_config_url=system_config,
    )
    try:
        await rt.alogin()
    except BaseException:
        await rt.aclose()
        raise
    return rt


async def serve_kernel(kernel: Kernel, binding: Binding, args: argparse.Namespace) -> None:
    """Serve ``binding`` on the listeners of ``args`` (``add_server_options``) until a
    stop signal: the ready lines are printed and the kernel started (its instance record
    names the ports) once they listen; the binding is closed after."""
    from buckyos.runtime import serve
    from buckyos.runtime.server import print_ready, server_listeners

    async def started(info: ServerInfo) -> None:
        print_ready(info.listening_lines())
        await kernel.start(info)

    try:
        await serve(
            binding,
            host=args.host,
            listeners=server_listeners(args),
            log_level=args.log_level,
            on_ready=started,
        )
    finally:
        binding.close()


def run_kernel_service(
    args: argparse.Namespace,
    main: Callable[[], Coroutine[Any, Any, int | None]],
    *,
    name: str,
) -> int:
    """A service process's exit code: logging at ``--log-level``, then
    :func:`~buckyos.runtime.server.run_service` (a bad option 2, a port in use 1 naming
    the listeners of ``args``)."""
    from buckyos.runtime.server import describe_listeners, run_service, server_listeners

    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    return run_service(
        main,
        name=name,
        cannot_listen=lambda exc: (
            f"cannot listen on {describe_listeners(args.host, server_listeners(args))}: {exc}"
        ),
    )
