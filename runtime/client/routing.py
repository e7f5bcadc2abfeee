"""Calls through a list of endpoints, best first, failing over as upstream does not.

A :class:`Router` is the invoker a runtime hands to stubs.  For each call it asks its
``candidates`` function where the api can be reached (see :mod:`.resolve`), then calls
the first endpoint that is not known dead.  When that fails it moves on only when doing
so cannot cause harm:

- the request certainly never reached a server (connection refused, DNS, an in-process
  api that is not registered): any call moves on;
- no answer came (reset, timeout, a gateway's 502/503/504) or the answer says the
  service cannot serve now (``ServiceNotValidError``, a retryable ``ReasonError``): only
  an idempotent call (``method.idempotent``) moves on, since the server may have acted;
- the service answered with its own error (NoPermission, InvalidToken, KeyNotExist,
  TokenExpired, ...): raised at once; another instance would say the same.

An endpoint that failed to answer is skipped for ``dead_for`` seconds, unless nothing
else is left.  When every candidate failed, the last error is raised (same class) with a
message listing what was tried.

Transports are pooled per endpoint (one ``KrpcTransport``, ``GrpcTransport`` or the
shared ``InProcessTransport``) and get the current token on every call, through their
``invoke_as``: a token callable is how a runtime renews tokens without rebuilding
anything, and :meth:`Router.with_token` shares pools between tokens safely.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Protocol, TypeVar

import aiohttp
from google.protobuf.message import Message

from buckyos.runtime.client.grpc_client import GrpcTransport
from buckyos.runtime.client.inprocess import InProcessTransport
from buckyos.runtime.client.krpc_client import DEFAULT_TIMEOUT, KrpcTransport
from buckyos.runtime.client.resolve import Endpoint
from buckyos.runtime.descriptor import MethodDescriptor
from buckyos.runtime.errors import (
    ReasonError,
    RPCError,
    ServiceNotValidError,
    TransportError,
)
from buckyos.runtime.wire import registry

__all__ = [
    "AsyncCandidates",
    "Candidates",
    "Router",
    "never_sent",
    "should_fail_over",
]

ReqT = TypeVar("ReqT", bound=Message)
RespT = TypeVar("RespT", bound=Message)

Candidates = Callable[[str], Sequence[Endpoint]]
"""``api -> endpoints``, best first."""
AsyncCandidates = Callable[[str], Awaitable[Sequence[Endpoint]]]

_log: Final = logging.getLogger("buckyos.runtime.client.routing")

# grpc core's texts for a call that never left the client (no connection could be made).
_GRPC_UNSENT: Final = (
    "failed to connect to all addresses",
    "errors resolving",
    "dns resolution failed",
)


class _Transport(Protocol):
    def invoke_as(
        self,
        token: str | None,
        method: MethodDescriptor[ReqT, RespT],
        request: ReqT,
        *,
        timeout: float | None = None,
    ) -> RespT: ...

    async def ainvoke_as(
        self,
        token: str | None,
        method: MethodDescriptor[ReqT, RespT],
        request: ReqT,
        *,
        timeout: float | None = None,
    ) -> RespT: ...

    def close(self) -> None: ...

    async def aclose(self) -> None: ...


class _InProcess(InProcessTransport):
    """The registry transport with the close methods a pooled transport has (no-ops)."""

    __slots__ = ()

    def close(self) -> None:
        pass

    async def aclose(self) -> None:
        pass


def never_sent(exc: BaseException) -> bool:
    """True when the failed call certainly never reached a server.

    Our transports raise ``TransportError`` from the OS error (kRPC) or with grpc core's
    text (gRPC): a refused connection or a name that did not resolve means no byte of
    the request left.  Errors a server sent (a ``ReasonError`` whose text merely mentions
    a refusal) do not count.
    """
    if type(exc) is not TransportError:
        return False
    cause: BaseException | None = exc.__cause__
    for _ in range(4):  # TransportError <- ClientConnectorError <- OSError, at most
        if cause is None:
            break
        if isinstance(
            cause, ConnectionRefusedError | socket.gaierror | aiohttp.ClientConnectorError
        ):
            return True
        cause = cause.__cause__
    detail = exc.detail.lower()
    return detail.startswith("unavailable: ") and any(text in detail for text in _GRPC_UNSENT)


def _endpoint_failed(exc: RPCError) -> bool:
    """The endpoint itself could not serve (as opposed to the service answering)."""
    return isinstance(exc, TransportError | ServiceNotValidError)


def should_fail_over(exc: BaseException, idempotent: bool) -> bool:
    """Whether a call that failed with ``exc`` may go on to the next endpoint."""
    if not isinstance(exc, RPCError):
        return False
    if never_sent(exc):
        return True
    if not idempotent:
        return False
    if _endpoint_failed(exc):
        return True
    # A free-text reason by upstream's classification (timeouts, "leader", 503 ...);
    # the kinds with their own class are the service's answer and never move on.
    return type(exc) is ReasonError and exc.retryable


@dataclass(slots=True)
class _Pool:
    """What a Router shares with its ``with_token`` copies."""

    timeout: float
    dead_for: float
    clock: Callable[[], float]
    grpc_options: tuple[tuple[str, Any], ...]
    lock: threading.Lock = field(default_factory=threading.Lock)
    transports: dict[Endpoint, _Transport] = field(default_factory=dict)
    dead: dict[Endpoint, float] = field(default_factory=dict)
    """Endpoint -> clock time until which it is skipped."""


class Router:
    """Implements ``UnaryInvoker`` and ``AsyncUnaryInvoker`` over ranked endpoints.

    ``candidates(api)`` gives the endpoints to try, best first (``acandidates`` is used by
    :meth:`ainvoke` when given, else ``candidates``, which must then not block).  ``token``
    is a string, ``None`` or a callable read on every call.  ``timeout`` is each attempt's
    default; a call that fails over may take up to one timeout per endpoint tried.

    Thread-safe for sync calls; asyncio calls use per-loop connections in the transports.
    :meth:`close` (and :meth:`aclose` in each loop that called) frees the connections.
    """

    __slots__ = ("_acandidates", "_candidates", "_pool", "_token")

    def __init__(
        self,
        candidates: Candidates,
        *,
        acandidates: AsyncCandidates | None = None,
        token: Callable[[], str | None] | str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        dead_for: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        grpc_options: Sequence[tuple[str, Any]] = (),
    ) -> None:
        self._candidates = candidates
        self._acandidates = acandidates
        self._token = token
        # A channel whose server went away backs off before reconnecting (up to 2 min by
        # default); cap that at dead_for so a revived instance is reached when retried.
        backoff = max(1000, int(dead_for * 1000))
        options = {
            "grpc.initial_reconnect_backoff_ms": 200,
            "grpc.min_reconnect_backoff_ms": 200,
            "grpc.max_reconnect_backoff_ms": backoff,
        }
        options.update(dict(grpc_options))
        self._pool = _Pool(timeout, dead_for, clock, tuple(options.items()))

    def __repr__(self) -> str:
        return f"<Router {len(self._pool.transports)} endpoints pooled>"

    # --- shared logic ------------------------------------------------------------------

    def with_token(self, token: str | None) -> Router:
        """A router calling with ``token`` (e.g. a caller's, for a subcall) that shares
        this one's connections and dead set."""
        other = object.__new__(Router)
        other._candidates = self._candidates
        other._acandidates = self._acandidates
        other._token = token
        other._pool = self._pool
        return other

    def current_token(self) -> str | None:
        """The token the next call will carry."""
        token = self._token
        return token() if callable(token) else token

    def mark_dead(self, endpoint: Endpoint) -> None:
        """Skip ``endpoint`` for ``dead_for`` seconds (unless nothing else is left)."""
        self._mark_dead(endpoint)

    def _mark_dead(self, endpoint: Endpoint) -> bool:
        """Mark ``endpoint`` dead; True when it was not dead already."""
        pool = self._pool
        now = pool.clock()
        with pool.lock:
            was = pool.dead.get(endpoint, 0.0) > now
            pool.dead[endpoint] = now + pool.dead_for
        return not was

    def dead(self) -> dict[Endpoint, float]:
        """The endpoints being skipped and the seconds left for each."""
        pool = self._pool
        now = pool.clock()
        with pool.lock:
            return {e: until - now for e, until in pool.dead.items() if until > now}

    def _plan(self, api: str, endpoints: Sequence[Endpoint]) -> list[Endpoint]:
        """The order to try: live endpoints as given, then dead ones, soonest revived
        first (a dead endpoint beats failing without trying)."""
        if not endpoints:
            raise ServiceNotValidError(
                f"no endpoint to reach {api}: the runtime found none (is the service "
                "deployed and started?)"
            )
        pool = self._pool
        now = pool.clock()
        live: list[Endpoint] = []
        dead: list[tuple[float, int, Endpoint]] = []
        with pool.lock:
            for index, endpoint in enumerate(dict.fromkeys(endpoints)):
                until = pool.dead.get(endpoint)
                if until is None:
                    live.append(endpoint)
                elif until <= now:
                    del pool.dead[endpoint]
                    live.append(endpoint)
                else:
                    dead.append((until, index, endpoint))
        return live + [endpoint for _, _, endpoint in sorted(dead)]

    def _transport(self, endpoint: Endpoint) -> _Transport:
        pool = self._pool
        transport = pool.transports.get(endpoint)
        if transport is None:
            with pool.lock:
                transport = pool.transports.get(endpoint)
                if transport is None:
                    transport = self._new_transport(endpoint)
                    pool.transports[endpoint] = transport
        return transport

    def _new_transport(self, endpoint: Endpoint) -> _Transport:
        pool = self._pool
        if endpoint.kind == "krpc":
            return KrpcTransport(endpoint.address, timeout=pool.timeout)
        if endpoint.kind == "grpc":
            return GrpcTransport(endpoint.address, timeout=pool.timeout, options=pool.grpc_options)
        if endpoint.kind == "inprocess":
            return _InProcess()
        raise ValueError(f"unknown endpoint kind {endpoint.kind!r} in {endpoint!r}")

    def _absent(self, endpoint: Endpoint, api: str) -> ServiceNotValidError | None:
        """An in-process endpoint whose api is not registered here: nothing to call."""
        if endpoint.kind == "inprocess" and registry.lookup(api) is None:
            return ServiceNotValidError(f"{api} is not served in this process")
        return None

    def _failed(
        self,
        method: MethodDescriptor[Any, Any],
        endpoint: Endpoint,
        exc: RPCError,
        last: bool,
    ) -> bool:
        """Book a failure; True to move on to the next endpoint."""
        newly_dead = False
        if _endpoint_failed(exc) and endpoint.kind != "inprocess":
            newly_dead = self._mark_dead(endpoint)
        move_on = should_fail_over(exc, method.idempotent)
        # One warning per endpoint going dead, not one per call that steps over it.
        level = logging.WARNING if newly_dead else logging.DEBUG
        _log.log(
            level,
            "%s/%s failed at %s (%s): %s",
            method.api,
            method.krpc,
            endpoint,
            "trying the next" if move_on and not last else "giving up",
            exc,
        )
        return move_on

    def _succeeded(self, endpoint: Endpoint) -> None:
        pool = self._pool
        if endpoint in pool.dead:
            with pool.lock:
                pool.dead.pop(endpoint, None)

    @staticmethod
    def _all_failed(
        method: MethodDescriptor[Any, Any], tried: list[tuple[Endpoint, RPCError]]
    ) -> RPCError:
        """The last error, same class, its message listing every endpoint tried."""
        last = tried[-1][1]
        attempts = "; ".join(f"{endpoint}: {exc}" for endpoint, exc in tried)
        count = f"{len(tried)} endpoint" + ("s" if len(tried) != 1 else "")
        detail = f"{last.detail} [all {count} of {method.api} failed for {method.krpc}: {attempts}]"
        return type(last)(detail)

    # --- sync --------------------------------------------------------------------------

    def invoke(
        self,
        method: MethodDescriptor[ReqT, RespT],
        request: ReqT,
        *,
        timeout: float | None = None,
    ) -> RespT:
        """Call one verb, failing over along the candidates as the module says."""
        plan = self._plan(method.api, self._candidates(method.api))
        token = self.current_token()
        seconds = self._pool.timeout if timeout is None else timeout
        tried: list[tuple[Endpoint, RPCError]] = []
        for index, endpoint in enumerate(plan):
            absent = self._absent(endpoint, method.api)
            if absent is not None:
                tried.append((endpoint, absent))
                continue
            try:
                result = self._transport(endpoint).invoke_as(
                    token, method, request, timeout=seconds
                )
            except RPCError as exc:
                tried.append((endpoint, exc))
                if not self._failed(method, endpoint, exc, index == len(plan) - 1):
                    raise
                continue
            self._succeeded(endpoint)
            return result
        raise self._all_failed(method, tried) from tried[-1][1]

    def close(self) -> None:
        """Close every pooled sync connection (they reopen on the next call)."""
        with self._pool.lock:
            transports = list(self._pool.transports.values())
        for transport in transports:
            transport.close()

    def __enter__(self) -> Router:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- async -------------------------------------------------------------------------

    async def ainvoke(
        self,
        method: MethodDescriptor[ReqT, RespT],
        request: ReqT,
        *,
        timeout: float | None = None,
    ) -> RespT:
        """The asyncio twin of :meth:`invoke`."""
        if self._acandidates is not None:
            endpoints = await self._acandidates(method.api)
        else:
            endpoints = self._candidates(method.api)
        plan = self._plan(method.api, endpoints)
        token = self.current_token()
        seconds = self._pool.timeout if timeout is None else timeout
        tried: list[tuple[Endpoint, RPCError]] = []
        for index, endpoint in enumerate(plan):
            absent = self._absent(endpoint, method.api)
            if absent is not None:
                tried.append((endpoint, absent))
                continue
            try:
                result = await self._transport(endpoint).ainvoke_as(
                    token, method, request, timeout=seconds
                )
            except RPCError as exc:
                tried.append((endpoint, exc))
                if not self._failed(method, endpoint, exc, index == len(plan) - 1):
                    raise
                continue
            self._succeeded(endpoint)
            return result
        raise self._all_failed(method, tried) from tried[-1][1]

    async def aclose(self) -> None:
        """Close this loop's pooled connections (and the sync ones)."""
        with self._pool.lock:
            transports = list(self._pool.transports.values())
        for transport in transports:
            await transport.aclose()

    async def __aenter__(self) -> Router:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
