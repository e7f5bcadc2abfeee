"""The runtime's background keep-alive: session renewal and the service instance record.

Upstream's ``keep_alive`` (``buckyos-api/src/runtime.rs``), kept and hardened:

- Every ``tick`` (5 s): a token not issued by verify-hub (self-signed, or handed over by
  node-daemon) is **traded** with ``login_by_jwt``; a verify-hub token that expires within
  ``renew_before`` (30 s) is **refreshed** with ``refresh_token``; when the refresh is
  refused (verify-hub restarted, refresh token reused or expired: upstream #516), the
  runtime **logs in again** with a freshly signed JWT when it holds a key.
- Services write ``services/<app>/instances/<node>`` every ``instance_interval`` (30 s),
  ``expires_at`` three intervals ahead.
- A failing task backs off (``backoff_base`` doubling to ``backoff_max``) and the runtime
  reports ``degraded`` (after 3 renewal failures; at once for the instance record, as
  upstream) in :meth:`KeepAlive.health` instead of dying; the next success recovers it.

It runs as a daemon **thread** for sync programs or an asyncio **task** when started from
a running loop; both sleep on an event, so :meth:`KeepAlive.stop` / :meth:`KeepAlive.astop`
end them at once.  A round is one sans-IO flow (:mod:`~buckyos.runtime.program.flow`)
that :meth:`KeepAlive.run_once` and :meth:`KeepAlive.arun_once` drive, over the pure
decisions below; what it needs of the runtime is :class:`KeepAliveHost`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import KW_ONLY, dataclass, field
from typing import Final, Literal, Protocol

from buckyos.generated import system_config_pb2 as sc, verify_hub_pb2 as vh
from buckyos.generated.system_config_rpc import SYSTEM_CONFIG_SET
from buckyos.generated.verify_hub_rpc import VERIFY_HUB_LOGIN_BY_JWT, VERIFY_HUB_REFRESH_TOKEN
from buckyos.runtime.errors import ConfigError, RPCError, TransportError
from buckyos.runtime.program.config import RuntimeConfig
from buckyos.runtime.program.flow import Flow, adrive, call, drive
from buckyos.runtime.security.session_token import SessionToken
from buckyos.runtime.security.token_verifier import is_expiry_error
from buckyos.runtime.transport import AsyncUnaryInvoker, UnaryInvoker

__all__ = [
    "RENEW",
    "REPORT",
    "KeepAlive",
    "KeepAliveHost",
    "RenewAction",
    "RuntimeHealth",
    "TaskStatus",
    "instance_record",
    "renew_action",
]

RENEW: Final = "renew_token"
REPORT: Final = "update_service_instance_info"
_log = logging.getLogger("buckyos.runtime.program.keepalive")

RenewAction = Literal["none", "trade", "refresh", "relogin"]


class KeepAliveHost(UnaryInvoker, AsyncUnaryInvoker, Protocol):
    """What the keep-alive needs of its runtime (a ``BuckyOSRuntime`` is one): the session,
    a key to sign a new login, this instance's identity, and an invoker for its calls."""

    @property
    def config(self) -> RuntimeConfig: ...

    @property
    def app_id(self) -> str: ...

    @property
    def clock(self) -> Callable[[], float]: ...

    @property
    def is_service(self) -> bool: ...

    @property
    def refresh_token(self) -> str | None: ...

    @property
    def service_ports(self) -> Mapping[str, int]: ...

    @property
    def start_time(self) -> int: ...

    def token_info(self) -> SessionToken | None: ...

    def set_tokens(self, session: str | None, refresh: str | None, *, source: str) -> None: ...

    def current_token(self) -> str | None: ...

    def sign_login_jwt(self) -> str: ...


def renew_action(
    token: SessionToken | None, has_refresh: bool, now: float, renew_before: float
) -> RenewAction:
    """What the session needs now (upstream ``renew_token_from_verify_hub_once``)."""
    if token is None:
        return "none"
    if not token.issued_by_verify_hub:
        return "trade"
    if token.expires_in(now) > renew_before:
        return "none"
    return "refresh" if has_refresh else "relogin"


def _refused(error: BaseException) -> bool:
    """verify-hub said no for good (a bad or revoked token), as opposed to a failure
    worth retrying later (unreachable, overloaded): only a refusal warrants a new login."""
    if not isinstance(error, RPCError) or isinstance(error, TransportError):
        return False
    return is_expiry_error(error) or not error.retryable


def instance_record(runtime: KeepAliveHost, now: float, interval: float) -> tuple[str, str]:
    """``(key, JSON)`` of this service instance, in upstream's ``ServiceInstanceReportInfo``
    shape."""
    device = runtime.config.device
    if device is None:
        raise ConfigError(
            "the instance record needs this device's config (node_identity.json, "
            "BUCKYOS_THIS_DEVICE or device=)"
        )
    seconds = int(now)
    record = {
        "instance_id": f"{runtime.app_id}-{device.name}",
        "node_id": device.name,
        "node_did": device.did or "",
        "state": "started",
        "service_ports": dict(runtime.service_ports),
        "last_update_time": seconds,
        "start_time": runtime.start_time,
        "pid": os.getpid(),
        "instance_epoch": os.environ.get("BUCKYOS_INSTANCE_EPOCH", f"process:{os.getpid()}"),
        "node_session_id": os.environ.get(
            "BUCKYOS_NODE_SESSION_ID", f"device:{device.did or device.name}"
        ),
        "observed_at": seconds,
        "expires_at": seconds + int(interval * 3),
        "health": "healthy",
    }
    key = f"services/{runtime.app_id}/instances/{device.name}"
    return key, json.dumps(record, separators=(",", ":"))


@dataclass(slots=True)
class TaskStatus:
    """One background task's record (upstream ``RuntimeBackgroundTaskStatus``)."""

    name: str
    degrade_after: int
    failures: int = 0
    last_error: str | None = None
    last_success: float | None = None
    last_failure: float | None = None
    next_run: float = 0.0
    degraded_since: float | None = None

    @property
    def degraded(self) -> bool:
        return self.degraded_since is not None

    def succeeded(self, now: float, next_run: float) -> None:
        if self.failures:
            _log.info("keep-alive %s recovered after %d failures", self.name, self.failures)
        self.failures, self.last_error, self.degraded_since = 0, None, None
        self.last_success, self.next_run = now, next_run

    def failed(self, now: float, error: BaseException, base: float, cap: float) -> None:
        self.failures += 1
        self.last_error = str(error) or type(error).__name__
        self.last_failure = now
        self.next_run = now + min(base * 2 ** min(self.failures - 1, 16), cap)
        if self.failures >= self.degrade_after and self.degraded_since is None:
            self.degraded_since = now
        if self.failures == 1 or self.failures % 10 == 0 or self.degraded:
            _log.warning(
                "keep-alive %s failed (%d in a row, retry in %.1fs): %s",
                self.name,
                self.failures,
                self.next_run - now,
                self.last_error,
            )


@dataclass(frozen=True, slots=True)
class RuntimeHealth:
    """What ``rt.health()`` reports: ``ok``, ``degraded`` or ``stopped``."""

    state: Literal["ok", "degraded", "stopped"]
    last_error: str | None
    token_expires_at: int | None
    tasks: Mapping[str, TaskStatus] = field(default_factory=dict)


@dataclass(eq=False, repr=False)
class KeepAlive:
    """The background loop of one runtime; see the module docstring.

    Every interval is injectable (seconds) so tests run in a fraction of a second;
    ``clock`` defaults to the runtime's (unix seconds, as token ``exp`` is).
    """

    runtime: KeepAliveHost
    _: KW_ONLY
    tick: float = 5.0
    renew_before: float = 30.0
    instance_interval: float = 30.0
    backoff_base: float = 5.0
    backoff_max: float = 60.0
    degrade_after: int = 3
    clock: Callable[[], float] = None  # type: ignore[assignment]  # the runtime's, below
    tasks: dict[str, TaskStatus] = field(init=False)
    ticks: int = field(init=False, default=0)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)
    _thread: threading.Thread | None = field(init=False, default=None)
    _stop: threading.Event = field(init=False, default_factory=threading.Event)
    _task: asyncio.Task[None] | None = field(init=False, default=None)
    _astop: asyncio.Event | None = field(init=False, default=None)
    _loop: asyncio.AbstractEventLoop | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        if self.tick < 0.01:
            raise ValueError("tick must be at least 0.01 s (no busy loop)")
        if self.clock is None:
            self.clock = self.runtime.clock
        self.tasks = {RENEW: TaskStatus(RENEW, self.degrade_after)}
        if self.runtime.is_service:
            self.tasks[REPORT] = TaskStatus(REPORT, 1)

    # -- state ------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        if self._thread is not None:
            return self._thread.is_alive()
        return self._task is not None and not self._task.done()

    def health(self) -> RuntimeHealth:
        info = self.runtime.token_info()
        with self._lock:
            tasks = {name: _copy(status) for name, status in self.tasks.items()}
        errors = [s for s in tasks.values() if s.last_error is not None]
        last = max(errors, key=lambda s: s.last_failure or 0.0).last_error if errors else None
        state: Literal["ok", "degraded", "stopped"]
        if not self.running:
            state = "stopped"
        elif any(s.degraded for s in tasks.values()):
            state = "degraded"
        else:
            state = "ok"
        return RuntimeHealth(
            state=state,
            last_error=last,
            token_expires_at=info.exp if info is not None else None,
            tasks=tasks,
        )

    def _due(self, name: str, now: float) -> bool:
        status = self.tasks.get(name)
        return status is not None and status.next_run <= now

    def _success(self, name: str, now: float, next_run: float) -> None:
        with self._lock:
            self.tasks[name].succeeded(now, next_run)

    def _failure(self, name: str, now: float, error: BaseException) -> None:
        with self._lock:
            self.tasks[name].failed(now, error, self.backoff_base, self.backoff_max)

    def _plan(self, now: float) -> RenewAction:
        rt = self.runtime
        return renew_action(rt.token_info(), bool(rt.refresh_token), now, self.renew_before)

    def _set_pair(self, session: str, refresh: str) -> None:
        self.runtime.set_tokens(session, refresh, source="verify-hub")

    # -- one round: a flow, and its two drivers ----------------------------------------------

    def _renew(self, action: RenewAction) -> Flow[None]:
        rt = self.runtime
        if action == "refresh":
            refresh = rt.refresh_token or ""
            try:
                pair = yield from call(
                    VERIFY_HUB_REFRESH_TOKEN, vh.RefreshTokenRequest(refresh_token=refresh)
                )
            except BaseException as exc:
                if not _refused(exc):
                    raise
                _log.warning("refresh refused (%s); logging in again", exc)
                action = "relogin"
            else:
                self._set_pair(pair.session_token, pair.refresh_token)
                return
        jwt = rt.sign_login_jwt() if action == "relogin" else rt.current_token()
        try:
            pair = yield from call(VERIFY_HUB_LOGIN_BY_JWT, vh.LoginByJwtRequest(jwt=jwt or ""))
        except BaseException as exc:
            if action != "trade" or not _refused(exc):
                raise
            # A handed-over token verify-hub will not take (used, expired): sign our own.
            pair = yield from call(
                VERIFY_HUB_LOGIN_BY_JWT, vh.LoginByJwtRequest(jwt=rt.sign_login_jwt())
            )
        self._set_pair(pair.session_token, pair.refresh_token)

    def _round(self) -> Flow[None]:
        """One keep-alive round; never raises (failures are recorded)."""
        self.ticks += 1
        now = self.clock()
        if self._due(RENEW, now):
            try:
                action = self._plan(now)
                if action != "none":
                    yield from self._renew(action)
                self._success(RENEW, now, 0.0)
            except Exception as exc:
                self._failure(RENEW, now, exc)
        if self._due(REPORT, now):
            try:
                key, value = instance_record(self.runtime, now, self.instance_interval)
                yield from call(SYSTEM_CONFIG_SET, sc.SetRequest(key=key, value=value))
                self._success(REPORT, now, now + self.instance_interval)
            except Exception as exc:
                self._failure(REPORT, now, exc)

    def run_once(self) -> None:
        """One keep-alive round from sync code; never raises (failures are recorded)."""
        drive(self._round(), self.runtime)

    async def arun_once(self) -> None:
        """The asyncio twin of :meth:`run_once`."""
        await adrive(self._round(), self.runtime)

    # -- thread and task --------------------------------------------------------------------

    def start(self) -> None:
        """Run in the background: a task on the running loop, else a daemon thread."""
        if self.running:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is not None:
            self._loop = loop
            self._astop = asyncio.Event()
            self._task = loop.create_task(self._run_task(), name="buckyos-keepalive")
        else:
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._run_thread, name="buckyos-keepalive", daemon=True
            )
            self._thread.start()

    def _run_thread(self) -> None:
        # The first round runs at once: a handed-over token is traded without delay.
        while not self._stop.is_set():
            self.run_once()
            if self._stop.wait(self.tick):
                break

    async def _run_task(self) -> None:
        stop = self._astop
        assert stop is not None
        while not stop.is_set():
            await self.arun_once()
            try:
                await asyncio.wait_for(stop.wait(), self.tick)
            except TimeoutError:
                continue

    def stop(self, timeout: float = 5.0) -> None:
        """Stop and wait for the thread (or cancel the task); safe to call twice."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        task, loop = self._task, self._loop
        if task is not None and loop is not None and not task.done():
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is loop:
                task.cancel()
            elif not loop.is_closed():
                loop.call_soon_threadsafe(task.cancel)

    async def astop(self, timeout: float = 5.0) -> None:
        """Stop from asyncio code: wait for the task (or the thread, off the loop)."""
        if self._astop is not None:
            self._astop.set()
        task = self._task
        if task is not None and not task.done():
            try:
                await asyncio.wait_for(asyncio.shield(task), timeout)
            except TimeoutError:
                task.cancel()
        thread = self._thread
        if thread is not None:
            self._stop.set()
            await asyncio.to_thread(thread.join, timeout)
            self._thread = None


def _copy(status: TaskStatus) -> TaskStatus:
    return TaskStatus(
        status.name,
        status.degrade_after,
        status.failures,
        status.last_error,
        status.last_success,
        status.last_failure,
        status.next_run,
        status.degraded_since,
    )
