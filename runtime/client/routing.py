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

Transports are pooled per endpoint, made by the wire registered for the endpoint's kind
(:mod:`.transports`: ``KrpcTransport``, ``GrpcTransport``, ``InProcessTransport`` built
in), and get the current token on every call, through their ``invoke_as``: a token
callable is how a runtime renews tokens without rebuilding anything, and
:meth:`Router.with_token` shares pools between tokens safely.
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, NoReturn

import aiohttp

from buckyos.runtime.client import grpc_client, inprocess  # noqa: F401
from buckyos.runtime.client.krpc_client import DEFAULT_TIMEOUT
from buckyos.runtime.client.resolve import Endpoint
from buckyos.runtime.client.revisions import SeenRevisions
from buckyos.runtime.client.transports import TransportKind, TransportSettings, transport_kind

# The built-in wires register their endpoint kinds when imported.
from buckyos.runtime.descriptor import MethodDescriptor, ReqT, RespT
from buckyos.runtime.errors import (
    ReasonError,
    RPCError,
    ServiceNotValidError,
    TransportError,
)
from buckyos.runtime.transport import Method, TokenInvoker, Transport

if TYPE_CHECKING:
    from buckyos.runtime.security.node_tls import NodeTls

__all__ = [
    "AsyncCandidates",
    "Candidates",
    "Router",
    "never_sent",
    "should_fail_over",
]


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
            cause,
            ConnectionRefusedError
            | socket.gaierror
            | aiohttp.ClientConnectorError
            | ssl.SSLCertVerificationError,
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

    settings: TransportSettings
    clock: Callable[[], float]
    lock: threading.Lock = field(default_factory=threading.Lock)
    transports: dict[Endpoint, Transport] = field(default_factory=dict)
    dead: dict[Endpoint, float] = field(default_factory=dict)
    """Endpoint -> clock time until which it is skipped."""


class Router(TokenInvoker):
    """Implements ``UnaryInvoker`` and ``AsyncUnaryInvoker`` over ranked endpoints.

    ``candidates(api)`` gives the endpoints to try, best first (``acandidates`` is used by
    :meth:`ainvoke` when given, else ``candidates``, which must then not block).  ``token``
    is a string, ``None`` or a callable read on every call.  ``timeout`` is each attempt's
    default; a call that fails over may take up to one timeout per endpoint tried.

    ``tls`` is this node's :class:`~buckyos.runtime.security.node_tls.NodeTls`: endpoints on
    other nodes (``Endpoint.tls``) are called over TLS pinned to their device key; without
    it (a caller with no device key) they are passed over, never called plain.

    ``revisions`` keeps the store revision each api's answers carried and sends it with the
    next calls to that api, so a caller reads its own writes whichever node answers
    (:mod:`.revisions`); a Router makes its own unless given one (share one between
    Routers that call the same apis), ``read_your_writes=False`` keeps none.

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
        tls: NodeTls | None = None,
        revisions: SeenRevisions | None = None,
        read_your_writes: bool = True,
    ) -> None:
        self._candidates = candidates
        self._acandidates = acandidates
        self._token = token
        options = {"grpc": tuple(dict(grpc_options).items())}
        if revisions is None and read_your_writes:
            revisions = SeenRevisions()
        settings = TransportSettings(timeout, dead_for, options, tls, revisions)
        self._pool = _Pool(settings, clock)

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

    @property
    def revisions(self) -> SeenRevisions | None:
        """The store revisions seen per api (``None``: ``read_your_writes=False``)."""
        return self._pool.settings.revisions

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
            pool.dead[endpoint] = now + pool.settings.dead_for
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

    def _transport(self, endpoint: Endpoint, kind: TransportKind) -> Transport:
        pool = self._pool
        transport = pool.transports.get(endpoint)
        if transport is None:
            with pool.lock:
                transport = pool.transports.get(endpoint)
                if transport is None:
                    transport = kind.factory(endpoint, pool.settings)
                    pool.transports[endpoint] = transport
        return transport

    def _failed(
        self,
        method: MethodDescriptor[Any, Any],
        endpoint: Endpoint,
        kind: TransportKind,
        exc: RPCError,
        last: bool,
    ) -> bool:
        """Book a failure; True to move on to the next endpoint."""
        newly_dead = False
        if _endpoint_failed(exc) and kind.marks_dead:
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

    # --- sync --------------------------------------------------------------------------

    def _send(
        self, method: Method[ReqT, RespT], request: ReqT, timeout: float | None, token: str | None
    ) -> RespT:
        """Call one verb, failing over along the candidates as the module says."""
        attempts = _Attempts(self, method, self._candidates(method.api), timeout)
        for transport in attempts:
            with attempts:
                return transport.invoke_as(token, method, request, timeout=attempts.seconds)
        attempts.all_failed()

    def close(self) -> None:
        """Close every pooled sync connection (they reopen on the next call)."""
        with self._pool.lock:
            transports = list(self._pool.transports.values())
        for transport in transports:
            transport.close()

    # --- async -------------------------------------------------------------------------

    async def _asend(
        self, method: Method[ReqT, RespT], request: ReqT, timeout: float | None, token: str | None
    ) -> RespT:
        """The asyncio twin of :meth:`_send`."""
        if self._acandidates is not None:
            endpoints = await self._acandidates(method.api)
        else:
            endpoints = self._candidates(method.api)
        attempts = _Attempts(self, method, endpoints, timeout)
        for transport in attempts:
            with attempts:
                return await transport.ainvoke_as(token, method, request, timeout=attempts.seconds)
        attempts.all_failed()

    async def aclose(self) -> None:
        """Close this loop's pooled connections (and the sync ones)."""
        with self._pool.lock:
            transports = list(self._pool.transports.values())
        for transport in transports:
            await transport.aclose()


class _Attempts:
    """One call's way along its plan, written once for both modes.

    Iterating gives the transport of each endpoint to try in turn (an endpoint whose wire
    knows the api is absent is booked as failed and passed over); ``with attempts:``
    around one try books its outcome: a success revives the endpoint, a failure the call
    may move on from is booked and swallowed (the loop goes on), any other propagates.
    :meth:`all_failed` raises when the plan ran out.
    """

    __slots__ = (
        "_index",
        "_kind",
        "_method",
        "_plan",
        "_resent",
        "_router",
        "_tried",
        "seconds",
    )

    def __init__(
        self,
        router: Router,
        method: MethodDescriptor[Any, Any],
        endpoints: Sequence[Endpoint],
        timeout: float | None,
    ) -> None:
        self._router = router
        self._method = method
        self._plan = router._plan(method.api, endpoints)
        self._tried: list[tuple[Endpoint, RPCError]] = []
        self._index = -1
        self._kind: TransportKind | None = None
        self._resent = False
        self.seconds = router._pool.settings.timeout if timeout is None else timeout
        """Each try's timeout."""

    def __iter__(self) -> _Attempts:
        return self

    def __next__(self) -> Transport:
        plan, api = self._plan, self._method.api
        while self._index + 1 < len(plan):
            self._index += 1
            endpoint = plan[self._index]
            kind = self._kind = transport_kind(endpoint)
            absent = kind.absent(api) if kind.absent is not None else None
            if absent is None and endpoint.tls and self._router._pool.settings.tls is None:
                absent = TransportError(
                    f"{endpoint} needs node TLS and this caller has no device key "
                    "(Router(tls=NodeTls(...))): not called"
                )
            if absent is None:
                return self._router._transport(endpoint, kind)
            self._tried.append((endpoint, absent))
        raise StopIteration

    def __enter__(self) -> None:
        pass

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        endpoint, kind = self._plan[self._index], self._kind
        assert kind is not None
        if exc is None:
            self._router._succeeded(endpoint)
            return False
        if not isinstance(exc, RPCError):
            return False
        revisions = self._router._pool.settings.revisions
        if not self._resent and revisions is not None and revisions.refused(self._method.api, exc):
            self._resent = True
            self._index -= 1  # the same endpoint again: the refused call did not run there
            return True
        self._tried.append((endpoint, exc))
        last = self._index == len(self._plan) - 1
        return self._router._failed(self._method, endpoint, kind, exc, last)

    def all_failed(self) -> NoReturn:
        """Raise the last error, same class, its message listing every endpoint tried (one
        endpoint: its error as it was, with the endpoint when the text does not name it)."""
        method, tried = self._method, self._tried
        last = tried[-1][1]
        if len(tried) == 1:  # its text once, and where, unless it says so already
            endpoint = tried[0][0]
            named = bool(endpoint.address) and endpoint.address in last.detail
            where = "" if named else f" [at {endpoint}]"
            raise type(last)(f"{last.detail}{where}") from last
        attempts = "; ".join(f"{endpoint}: {exc}" for endpoint, exc in tried)
        count = f"{len(tried)} endpoints"
        detail = f"{last.detail} [all {count} of {method.api} failed for {method.krpc}: {attempts}]"
        raise type(last)(detail) from last
