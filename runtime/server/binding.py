"""The server side of an api: a binder-style binding every wire adapter dispatches into.

A :class:`Binding` holds one or more apis (``add_service`` for a generated server base,
``add_verb``/``add_api`` for a binding written by hand, with the same verb-table shape) and
implements :class:`~buckyos.runtime.wire.dispatch.Dispatcher`: kRPC over HTTP, gRPC and
in-process calls all end in :meth:`Binding.call`, so every wire gets the same checks in
the binder's order (token, LOA, auth tree, verb; CLOSE after the reply).

What the AGL binder taught, and how it is kept here:

- **Lifecycle**: ``preinit()`` once at load; ``init()`` once before serving, in the order
  ``require_api(names, initialized=True)`` asks for; a cycle is a :class:`ContractError` at
  start, never a hang.  A call that arrives first starts the binding itself.
- **Jobs**: each request runs with a timeout (20 s by default); a verb that overruns or
  raises is answered ``InternalError`` and the server keeps serving.  Sync handlers run in
  a thread pool, async ones on the loop.  ``queue_job(callback, group, timeout)`` runs the
  jobs of one group in order.
- **noconcurrency**: requests to such an api run one at a time in strict arrival order (a
  FIFO lock that hands ownership over, so no late comer can barge in).  The binder's known
  deadlock, a verb of the api calling the same api synchronously, is avoided: the call
  chain that holds the lock is recorded in a context variable (carried into the handler's
  worker thread and back), and a re-entrant call runs at once.
- **Sessions**: per-session, per-api context and LOA live in a
  :class:`~buckyos.runtime.server.session.SessionStore`; the CLOSE flag drops them after the verb
  finished.
- **Calls out**: ``req.subcall`` carries the caller's token, ``req.call`` the service's
  own; an api served by this binding is called in process, anything else through the
  ``invoker``.  To carry a token other than its own an invoker needs a
  ``with_token(token)`` method returning an invoker; without one a subcall is refused
  rather than silently made with the service's credentials.

- **Events**: ``make_event(name)`` gives ``<api>/<name>``; ``push`` reaches the link
  connections a verb subscribed (``req.subscribe``), ``broadcast`` every link and every
  api's ``onevent`` hook.  Both are thread-safe and never wait for a slow reader (see
  :mod:`~buckyos.runtime.wire.events`); the links themselves are served by the kRPC app
  (WebSocket) and the gRPC server (a bidirectional stream).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import inspect
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Hashable, Iterable
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any, Final, TypeVar, cast, overload

from google.protobuf.message import Message

from buckyos.runtime.descriptor import MethodDescriptor, ServiceDescriptor
from buckyos.runtime.errors import (
    ContractError,
    InternalError,
    ParseRequestError,
    RPCError,
    ServiceNotValidError,
    TransportError,
    UnknownMethodError,
)
from buckyos.runtime.security.rbac import RbacEnforcer
from buckyos.runtime.security.revocation import RevocationSet
from buckyos.runtime.security.token_verifier import TokenVerifier
from buckyos.runtime.server.authz import Authorizer
from buckyos.runtime.server.deadlines import Deadlines
from buckyos.runtime.server.request import Caller, Request
from buckyos.runtime.server.session import SessionStore
from buckyos.runtime.servicer import Handler, ServiceBase
from buckyos.runtime.transport import AsyncUnaryInvoker, UnaryInvoker
from buckyos.runtime.wire.dispatch import CallInfo
from buckyos.runtime.wire.events import BroadcastResult, Event, EventHub

__all__ = ["DEFAULT_TIMEOUT", "Binding", "EventHook", "InitHook", "PreinitHook"]

T = TypeVar("T")
ReqT = TypeVar("ReqT", bound=Message)
RespT = TypeVar("RespT", bound=Message)

DEFAULT_TIMEOUT: Final = 20.0
"""The binder's default job timeout, in seconds."""

PreinitHook = Callable[["Binding"], object]
InitHook = Callable[["Binding"], object]
"""May return an awaitable, which is awaited."""
EventHook = Callable[[str, Any], object]
"""``onevent(name, data)``; may return an awaitable."""

_log: Final = logging.getLogger(__name__)

# The noconcurrency locks the current call chain owns (re-entrant subcalls bypass them).
_HELD: Final[contextvars.ContextVar[frozenset[object]]] = contextvars.ContextVar(
    "buckyos_binding_held", default=frozenset()
)
# The bindings whose start-up task this is: their init hooks' calls must not wait for it.
_IN_INIT: Final[contextvars.ContextVar[frozenset[object]]] = contextvars.ContextVar(
    "buckyos_binding_in_init", default=frozenset()
)


class _Serial:
    """A FIFO lock that hands ownership to the next waiter on release (no barging).

    ``enqueue`` is synchronous, so the order of arrival is the order of calls to it.
    """

    __slots__ = ("_waiters", "owner")

    def __init__(self) -> None:
        self.owner: object | None = None
        self._waiters: deque[tuple[asyncio.Future[None], object]] = deque()

    def enqueue(self, owner: object) -> asyncio.Future[None] | None:
        """Take the lock now (``None``) or a future that resolves once it is ``owner``'s."""
        if self.owner is None and not self._waiters:
            self.owner = owner
            return None
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((waiter, owner))
        return waiter

    async def wait(self, waiter: asyncio.Future[None], owner: object) -> None:
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release(owner)  # ownership arrived just as we were cancelled
            else:
                waiter.cancel()
            raise

    def release(self, owner: object) -> None:
        if self.owner is not owner:
            return
        while self._waiters:
            waiter, next_owner = self._waiters.popleft()
            if not waiter.done():
                self.owner = next_owner
                waiter.set_result(None)
                return
        self.owner = None

    @property
    def idle(self) -> bool:
        return self.owner is None and not self._waiters


class _Verb:
    """A served verb: descriptor, handler and how to run it."""

    __slots__ = ("handler", "is_async", "method", "timeout")

    def __init__(
        self, method: MethodDescriptor[Any, Any], handler: Handler, timeout: float | None
    ) -> None:
        self.method = method
        self.handler = handler
        self.is_async = inspect.iscoroutinefunction(handler)
        self.timeout = timeout


class _Api:
    """One api of the binding: its verb table, lifecycle hooks and requirements."""

    __slots__ = (
        "descriptor",
        "doc",
        "init",
        "methods",
        "name",
        "noconcurrency",
        "onevent",
        "port",
        "preinit",
        "ready",
        "requires",
        "serial",
        "service",
        "verbs",
    )

    def __init__(
        self,
        name: str,
        service: str,
        *,
        port: int = 0,
        noconcurrency: bool = False,
        doc: str = "",
        preinit: PreinitHook | None = None,
        init: InitHook | None = None,
        onevent: EventHook | None = None,
    ) -> None:
        self.name = name
        self.service = service
        self.port = port
        self.noconcurrency = noconcurrency
        self.doc = doc
        self.preinit = preinit
        self.init = init
        self.onevent = onevent
        self.methods: list[MethodDescriptor[Any, Any]] = []
        self.verbs: dict[str, _Verb] = {}
        self.requires: dict[str, bool] = {}
        self.serial = _Serial() if noconcurrency else None
        self.ready = False
        self.descriptor: ServiceDescriptor | None = None

    def describe(self) -> ServiceDescriptor:
        if self.descriptor is None:
            self.descriptor = ServiceDescriptor.of(
                self.name,
                self.service,
                self.methods,
                port=self.port,
                noconcurrency=self.noconcurrency,
                doc=self.doc,
            )
        return self.descriptor


class _JobGroup:
    __slots__ = ("pending", "serial")

    def __init__(self) -> None:
        self.serial = _Serial()
        self.pending = 0


def _hook(obj: object, name: str) -> Any:
    hook = getattr(obj, name, None)
    return hook if callable(hook) else None


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class Binding:
    """Serves apis over any wire: verb tables, auth, sessions, jobs and lifecycle.

    ``verifier``/``rbac`` check tokens and permissions, ``revocations`` (optional) revoked
    sessions and inactive users; ``own_token`` is the service's own
    session token (``req.call``); ``invoker`` reaches apis this binding does not serve;
    ``timeout`` bounds each request (``None``: no bound).  ``executor`` runs sync handlers
    (default: a thread pool of ``max_workers`` owned by the binding, see :meth:`close`).
    """

    def __init__(
        self,
        name: str,
        *,
        verifier: TokenVerifier,
        rbac: RbacEnforcer,
        own_token: str | None = None,
        invoker: UnaryInvoker | AsyncUnaryInvoker | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        sessions: SessionStore | None = None,
        executor: Executor | None = None,
        max_workers: int = 64,
        logger: logging.Logger | None = None,
        revocations: RevocationSet | None = None,
    ) -> None:
        if timeout is not None and timeout <= 0:
            raise ValueError("timeout must be > 0 seconds or None")
        self.name = name
        self.authorizer = Authorizer(verifier, rbac, revocations=revocations)
        self.own_token = own_token
        self.invoker = invoker
        self.timeout = timeout
        self.sessions = sessions if sessions is not None else SessionStore()
        self.logger = logger if logger is not None else logging.getLogger(f"buckyos.binding.{name}")
        self._executor = executor
        self._owns_executor = executor is None
        self._max_workers = max_workers
        self._apis: dict[str, _Api] = {}
        self._services: tuple[ServiceDescriptor, ...] | None = None
        self._preinit_done = False
        self._init_task: asyncio.Task[None] | None = None
        self._init_error: BaseException | None = None
        self._hook_api: str | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._groups: dict[Hashable, _JobGroup] = {}
        self._deadlines: Deadlines | None = None
        self.events = EventHub()
        """Events, link connections and their subscriptions (the links attach here)."""
        self.events.on_broadcast = self._schedule_onevent
        self._hook_tasks: set[asyncio.Task[int]] = set()

    def __repr__(self) -> str:
        return f"<Binding {self.name} apis={sorted(self._apis)}>"

    # -- building the verb table -------------------------------------------------------------

    def _new_api(self, api: _Api) -> _Api:
        if self._init_task is not None:
            raise ContractError(f"binding {self.name}: cannot add api {api.name} once started")
        if api.name in self._apis:
            raise ContractError(f"binding {self.name}: api {api.name} is already served")
        self._apis[api.name] = api
        self._services = None
        return api

    def add_service(self, servicer: ServiceBase, *, timeout: float | None = None) -> None:
        """Serve a generated server base: its SERVICE verbs, hooks and ``noconcurrency``.

        Verbs the servicer does not override answer ``Unknown method: <krpc>``.  Optional
        methods ``preinit(binding)``, ``init(binding)`` (may be async) and
        ``onevent(name, data)`` on the servicer are its lifecycle hooks.
        """
        descriptor = servicer.SERVICE
        api = self._new_api(
            _Api(
                descriptor.api,
                descriptor.service,
                port=descriptor.port,
                noconcurrency=descriptor.noconcurrency,
                doc=descriptor.doc,
                preinit=_hook(servicer, "preinit"),
                init=_hook(servicer, "init"),
                onevent=_hook(servicer, "onevent"),
            )
        )
        api.methods.extend(descriptor.methods)
        api.descriptor = descriptor
        verb_timeout = self.timeout if timeout is None else timeout
        for method in servicer.implemented():
            api.verbs[method.krpc] = _Verb(method, servicer.handler_for(method), verb_timeout)

    def add_api(
        self,
        name: str,
        *,
        service: str | None = None,
        noconcurrency: bool = False,
        port: int = 0,
        doc: str = "",
        preinit: PreinitHook | None = None,
        init: InitHook | None = None,
        onevent: EventHook | None = None,
    ) -> None:
        """Declare a hand-written api (its verbs come with :meth:`add_verb`)."""
        self._new_api(
            _Api(
                name,
                service or name,
                port=port,
                noconcurrency=noconcurrency,
                doc=doc,
                preinit=preinit,
                init=init,
                onevent=onevent,
            )
        )

    def add_verb(
        self,
        method: MethodDescriptor[ReqT, RespT],
        handler: Callable[[ReqT, Request], RespT | Awaitable[RespT]],
        *,
        timeout: float | None = None,
    ) -> None:
        """Serve one verb by hand; its api is declared on first use (see :meth:`add_api`).

        Also fills a verb of an added service that the servicer left unimplemented.
        """
        api = self._apis.get(method.api)
        if api is None:
            self.add_api(method.api, service=method.service)
            api = self._apis[method.api]
        elif self._init_task is not None:
            raise ContractError(f"binding {self.name}: cannot add verb {method.krpc} once started")
        if method.krpc in api.verbs:
            raise ContractError(f"api {api.name}: verb {method.krpc} is already served")
        known = next((m for m in api.methods if m.krpc == method.krpc), None)
        if known is None:
            api.methods.append(method)
            api.descriptor = None
            self._services = None
        elif known is not method:
            raise ContractError(
                f"api {api.name}: verb {method.krpc} is declared by another descriptor "
                f"({known.service}.{known.name})"
            )
        api.verbs[method.krpc] = _Verb(
            method, cast(Handler, handler), self.timeout if timeout is None else timeout
        )

    # -- Dispatcher ----------------------------------------------------------------------------

    def services(self) -> tuple[ServiceDescriptor, ...]:
        """The apis served, with every verb of their contract."""
        if self._services is None:
            self._services = tuple(api.describe() for api in self._apis.values())
        return self._services

    def lookup(self, api: str, krpc: str) -> MethodDescriptor[Any, Any] | None:
        """The verb ``krpc`` of ``api`` when it is served (implemented), else ``None``."""
        entry = self._apis.get(api)
        if entry is None:
            return None
        verb = entry.verbs.get(krpc)
        return None if verb is None else verb.method

    def authenticate(self, method: MethodDescriptor[Any, Any], token: str | None) -> None:
        """The token and LOA checks of ``method`` alone (see :class:`Dispatcher`)."""
        self.authorizer.authenticate(method, token, session_loa=self.sessions.get_loa)

    async def call(
        self, method: MethodDescriptor[Any, Any], message: Message, info: CallInfo
    ) -> Message:
        """Check and run one verb: token, LOA, auth tree, handler; CLOSE after the reply."""
        api = self._apis.get(method.api)
        verb = None if api is None else api.verbs.get(method.krpc)
        if api is None or verb is None:
            raise UnknownMethodError(method.krpc)
        if not api.ready:
            await self._ensure_ready(api)
        method = verb.method
        if not isinstance(message, method.request_type):
            raise ParseRequestError(
                f"{method.krpc} expects {method.request_type.DESCRIPTOR.full_name}, "
                f"got {type(message).__name__}"
            )
        caller = self.authorizer.authorize(
            method, message, info.token, session_loa=self.sessions.get_loa
        )
        req = Request(
            method,
            message,
            info.params,
            caller,
            info.trace_id,
            info.transport,
            None,
            self,
            seq=info.seq,
            peer=info.peer,
            link=info.link,
            forwarded_client=info.forwarded_client,
        )
        serial = api.serial
        if serial is None:
            return await self._run(verb, req)
        held = _HELD.get()
        if serial.owner is not None and serial.owner in held:
            return await self._run(verb, req)  # re-entrant: this call chain holds the api
        owner = object()
        waiter = serial.enqueue(owner)
        if waiter is not None:
            await serial.wait(waiter, owner)
        reset = _HELD.set(held | {owner})
        try:
            return await self._run(verb, req)
        finally:
            _HELD.reset(reset)
            serial.release(owner)

    async def _run(self, verb: _Verb, req: Request) -> Message:
        """Run the handler under the timeout; then apply CLOSE (whatever the outcome).

        One coroutine for both (each frame costs on every call); the request object is
        the call's key among the running deadlines.
        """
        method = verb.method
        timeout = verb.timeout
        task = asyncio.current_task() if timeout is not None else None
        deadlines: Deadlines | None = None
        call = req
        if task is not None:
            assert timeout is not None
            loop = task.get_loop()
            deadlines = self._deadlines
            if deadlines is None or deadlines.loop is not loop:
                deadlines = self._deadlines = Deadlines(loop)
            cancelling = task.cancelling()
            deadlines.add(call, task, timeout)
        try:
            if verb.is_async:
                result: Any = await cast(Awaitable[Message], verb.handler(req.message, req))
            else:
                loop = asyncio.get_running_loop()
                context = contextvars.copy_context()
                result = await loop.run_in_executor(
                    self._pool(), context.run, verb.handler, req.message, req
                )
                if inspect.isawaitable(result):
                    result = await result
        except RPCError:
            raise
        except asyncio.CancelledError:
            # Our deadline cancelled the task, and nobody else did too: a timeout.
            if deadlines is not None and deadlines.done(call) and task is not None:
                if task.uncancel() <= cancelling:
                    req.logger.warning("timed out after %gs", timeout)
                    raise InternalError(
                        f"{method.api}/{method.krpc} timed out after {timeout:g}s"
                    ) from None
            raise
        except Exception as exc:
            raise self._internal(req, exc) from None
        finally:
            if deadlines is not None:
                deadlines.done(call)
            if method.session.close and req.caller.session is not None:
                self.sessions.close(req.caller.session, method.api)
        if not isinstance(result, method.response_type):
            req.logger.error(
                "handler returned %s, expected %s",
                type(result).__name__,
                method.response_type.DESCRIPTOR.full_name,
            )
            raise InternalError(
                f"{method.krpc} returned {type(result).__name__}, "
                f"expected {method.response_type.DESCRIPTOR.full_name}"
            )
        return cast(Message, result)

    @staticmethod
    def _internal(req: Request, exc: Exception) -> InternalError:
        """The wire answer for a handler that raised: its type and message, no traceback."""
        req.logger.error("handler raised %s", type(exc).__name__, exc_info=exc)
        return InternalError(f"{type(exc).__name__}: {exc}")

    def _pool(self) -> Executor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(
                max_workers=self._max_workers, thread_name_prefix=f"buckyos-{self.name}"
            )
        return self._executor

    # -- RequestHost -------------------------------------------------------------------------

    def check_permission(self, caller: Caller, action: str, resource: str) -> None:
        """RBAC for a request's caller; upstream's ``No permission:enforce failed,...``."""
        self.authorizer.check_caller(caller, action, resource)

    def _token(self, req: Request, own: bool) -> str | None:
        return self.own_token if own else req.caller.token

    def _remote(self, method: MethodDescriptor[Any, Any], token: str | None, own: bool) -> object:
        invoker = self.invoker
        if invoker is None:
            raise ServiceNotValidError(
                f"{method.api}: not served by binding {self.name} and no invoker is configured "
                "(give Binding(invoker=...) a runtime or transport)"
            )
        with_token = getattr(invoker, "with_token", None)
        if with_token is not None and (token is not None or not own):
            return with_token(token)
        if own:
            return invoker  # the invoker's own credentials are the service's
        raise ServiceNotValidError(
            f"{method.api}: the invoker {type(invoker).__name__} cannot carry the caller's "
            "token (it needs a with_token(token) method)"
        )

    async def _local(
        self,
        method: MethodDescriptor[ReqT, RespT],
        message: ReqT,
        token: str | None,
        trace_id: str | None,
        timeout: float | None,
    ) -> RespT:
        info = CallInfo(token=token, trace_id=trace_id, transport="inprocess")
        if timeout is None:
            return cast(RespT, await self.call(method, message, info))
        scope = asyncio.timeout(timeout)
        try:
            async with scope:
                return cast(RespT, await self.call(method, message, info))
        except TimeoutError:
            if scope.expired():
                raise TransportError(
                    f"timeout: {method.api}/{method.krpc} after {timeout:g}s"
                ) from None
            raise

    async def _local_held(
        self,
        held: frozenset[object],
        method: MethodDescriptor[ReqT, RespT],
        message: ReqT,
        token: str | None,
        trace_id: str | None,
        timeout: float | None,
    ) -> RespT:
        _HELD.set(held)  # a fresh task: carry the worker's chain over explicitly
        return await self._local(method, message, token, trace_id, timeout)

    def _loop_for_threads(self) -> asyncio.AbstractEventLoop:
        loop = self._loop
        if loop is None:
            raise ServiceNotValidError(f"binding {self.name} is not serving yet")
        if _running_loop() is loop:
            raise RuntimeError(
                "a sync call on the event loop thread would block it: "
                "use `await req.asubcall(...)` / `await req.acall(...)` in async handlers"
            )
        return loop

    def invoke_for(
        self,
        req: Request,
        method: MethodDescriptor[ReqT, RespT],
        message: ReqT,
        *,
        own: bool,
        timeout: float | None,
    ) -> RespT:
        """``req.subcall``/``req.call`` from a sync handler's worker thread."""
        token = self._token(req, own)
        if method.api in self._apis:
            loop = self._loop_for_threads()
            coro = self._local_held(_HELD.get(), method, message, token, req.trace_id, timeout)
            return asyncio.run_coroutine_threadsafe(coro, loop).result()
        invoker = self._remote(method, token, own)
        if isinstance(invoker, UnaryInvoker):
            return invoker.invoke(method, message, timeout=timeout)
        if isinstance(invoker, AsyncUnaryInvoker):
            loop = self._loop_for_threads()
            acoro = invoker.ainvoke(method, message, timeout=timeout)
            return asyncio.run_coroutine_threadsafe(acoro, loop).result()
        raise ServiceNotValidError(f"{type(invoker).__name__} has neither invoke() nor ainvoke()")

    async def ainvoke_for(
        self,
        req: Request,
        method: MethodDescriptor[ReqT, RespT],
        message: ReqT,
        *,
        own: bool,
        timeout: float | None,
    ) -> RespT:
        """``req.asubcall``/``req.acall`` from an async handler."""
        token = self._token(req, own)
        if method.api in self._apis:
            return await self._local(method, message, token, req.trace_id, timeout)
        invoker = self._remote(method, token, own)
        if isinstance(invoker, AsyncUnaryInvoker):
            return await invoker.ainvoke(method, message, timeout=timeout)
        if isinstance(invoker, UnaryInvoker):
            sync = invoker
            loop = asyncio.get_running_loop()
            context = contextvars.copy_context()
            return await loop.run_in_executor(
                self._pool(), context.run, lambda: sync.invoke(method, message, timeout=timeout)
            )
        raise ServiceNotValidError(f"{type(invoker).__name__} has neither invoke() nor ainvoke()")

    # -- lifecycle -----------------------------------------------------------------------------

    def _owner_api(self, api: str | None, what: str = "require_api") -> _Api:
        name = api or self._hook_api
        if name is None:
            if len(self._apis) != 1:
                raise ContractError(
                    f"binding {self.name} serves {len(self._apis)} apis: "
                    f"{what} needs api=... to say which one"
                )
            name = next(iter(self._apis))
        entry = self._apis.get(name)
        if entry is None:
            raise ContractError(f"binding {self.name}: no api {name}")
        return entry

    def require_api(
        self, names: str | Iterable[str], initialized: bool = True, *, api: str | None = None
    ) -> None:
        """Declare that ``api`` needs the apis ``names`` (initialized first when asked).

        ``api`` defaults to the api whose ``preinit``/``init`` hook is running, else to the
        only api served.  Declared before start, the order is resolved (and a cycle refused
        with :class:`ContractError`) when :meth:`init` runs; during ``init`` a requirement
        must already be met.  An api this binding does not serve can only be required with
        ``initialized=False``, and only when an ``invoker`` can reach it.
        """
        owner = self._owner_api(api)
        wanted = (names,) if isinstance(names, str) else tuple(names)
        for name in wanted:
            if name == owner.name:
                raise ContractError(f"api {owner.name} cannot require itself")
            if self._init_task is None:
                owner.requires[name] = owner.requires.get(name, False) or initialized
                continue
            self._check_requirement(owner, name, initialized)
            target = self._apis.get(name)
            if initialized and target is not None and not target.ready:
                raise ContractError(
                    f"api {owner.name} requires {name} initialized, but {name} is not yet: "
                    "declare it before start (in preinit) so the start order includes it"
                )

    def _check_requirement(self, owner: _Api, name: str, initialized: bool) -> None:
        if name in self._apis:
            return
        if initialized:
            raise ContractError(
                f"api {owner.name} requires {name} initialized, "
                f"but binding {self.name} does not serve {name}"
            )
        if self.invoker is None:
            raise ContractError(
                f"api {owner.name} requires {name}, which binding {self.name} does not serve "
                "and no invoker is configured to reach"
            )

    def start_order(self) -> list[str]:
        """The apis in init order; ``ContractError`` for a missing api or a cycle."""
        for owner in self._apis.values():
            for name, initialized in owner.requires.items():
                self._check_requirement(owner, name, initialized)
        order: list[str] = []
        done: set[str] = set()
        active: list[str] = []

        def visit(name: str) -> None:
            if name in done:
                return
            if name in active:
                cycle = [*active[active.index(name) :], name]
                raise ContractError(f"require_api cycle between apis: {' -> '.join(cycle)}")
            active.append(name)
            for dep, initialized in self._apis[name].requires.items():
                if initialized:
                    visit(dep)
            active.pop()
            done.add(name)
            order.append(name)

        for name in self._apis:
            visit(name)
        return order

    def preinit(self) -> None:
        """Run each api's ``preinit`` hook, once (before anything is served)."""
        if self._preinit_done:
            return
        self._preinit_done = True
        for api in list(self._apis.values()):
            if api.preinit is not None:
                self._hook_api = api.name
                try:
                    api.preinit(self)
                finally:
                    self._hook_api = None

    async def init(self) -> None:
        """Start the binding once: ``preinit`` if not done, then each api's ``init`` in
        ``require_api`` order.  Later calls return at once (or re-raise the failure)."""
        if self in _IN_INIT.get():
            return
        if self._init_task is None:
            self._loop = asyncio.get_running_loop()
            self._init_task = self._loop.create_task(self._start())
        await asyncio.shield(self._init_task)

    async def _start(self) -> None:
        _IN_INIT.set(_IN_INIT.get() | {self})
        try:
            self.preinit()
            for name in self.start_order():
                api = self._apis[name]
                if api.init is not None:
                    self._hook_api = name
                    try:
                        result = api.init(self)
                        if inspect.isawaitable(result):
                            await result
                    finally:
                        self._hook_api = None
                api.ready = True
        except BaseException as exc:
            self._init_error = exc
            for api in self._apis.values():
                api.ready = False
            self.logger.error("binding %s failed to start: %r", self.name, exc)
            raise

    @property
    def started(self) -> bool:
        """Whether :meth:`init` completed successfully."""
        task = self._init_task
        return task is not None and task.done() and self._init_error is None

    async def _ensure_ready(self, api: _Api) -> None:
        if self in _IN_INIT.get():
            raise ServiceNotValidError(
                f"{api.name} is not initialized yet: require_api({api.name!r}) in the "
                "calling api's preinit"
            )
        if self._init_error is None:
            with contextlib.suppress(Exception):  # recorded in _init_error, reported below
                await self.init()
        error = self._init_error
        if error is not None:
            raise ServiceNotValidError(
                f"{api.name}: binding {self.name} failed to start ({type(error).__name__}: {error})"
            )

    async def onevent(self, name: str, data: Any) -> int:
        """Give an event to every api's ``onevent`` hook; how many took it.

        A hook that raises is logged and does not stop the others.
        """
        delivered = 0
        for api in list(self._apis.values()):
            hook = api.onevent
            if hook is None:
                continue
            try:
                result = hook(name, data)
                if inspect.isawaitable(result):
                    await result
                delivered += 1
            except Exception:
                self.logger.exception("api %s: onevent(%r) raised", api.name, name)
        return delivered

    # -- events ----------------------------------------------------------------------------------

    def make_event(self, name: str, api: str | None = None) -> Event:
        """The event ``<api>/<name>`` (the same object when made again).

        ``api`` defaults as in :meth:`require_api`: the api whose hook is running, else the
        only api served.  Push it from anywhere (handlers, threads, timer tasks).
        """
        return self.events.event(self._owner_api(api, "make_event").name, name)

    def broadcast(self, event: Event | str, data: Any = None) -> BroadcastResult:
        """Send ``event`` (an :class:`Event` or a full ``api/name``) to every link and hook.

        Links get it at once; the ``onevent`` hooks run as a task on the binding's loop
        (from any thread), so ``hooks`` counts the hooks it was handed to.  Use
        :meth:`abroadcast` to wait for them.
        """
        return self.events.broadcast(self._event_name(event), data)

    async def abroadcast(self, event: Event | str, data: Any = None) -> BroadcastResult:
        """:meth:`broadcast`, awaiting the hooks; ``hooks`` counts those that did not raise."""
        name = self._event_name(event)
        links = self.events.broadcast_links(name, data)
        return BroadcastResult(links, await self.onevent(name, data))

    def _event_name(self, event: Event | str) -> str:
        if isinstance(event, Event):
            if event.hub is not self.events:
                raise ValueError(f"event {event.name} belongs to another binding")
            return event.name
        if not isinstance(event, str) or "/" not in event:
            raise ValueError(f"broadcast takes an Event or an 'api/name' string, not {event!r}")
        return event

    def _schedule_onevent(self, name: str, data: Any) -> int:
        """Hand a broadcast to the ``onevent`` hooks on the binding's loop; how many."""
        count = sum(1 for api in self._apis.values() if api.onevent is not None)
        if count == 0:
            return 0
        running = _running_loop()
        loop = self._loop or running
        if loop is None or loop.is_closed():
            self.logger.warning("broadcast %s: no event loop yet, onevent hooks skipped", name)
            return 0
        if running is loop:
            task = loop.create_task(self.onevent(name, data))
            self._hook_tasks.add(task)  # a strong reference until it ran
            task.add_done_callback(self._hook_tasks.discard)
        else:
            asyncio.run_coroutine_threadsafe(self.onevent(name, data), loop)
        return count

    # -- jobs ------------------------------------------------------------------------------------

    @overload
    def queue_job(
        self,
        callback: Callable[[], Awaitable[T]],
        group: Hashable | None = None,
        timeout: float | None = None,
    ) -> asyncio.Task[T]: ...

    @overload
    def queue_job(
        self,
        callback: Callable[[], T],
        group: Hashable | None = None,
        timeout: float | None = None,
    ) -> asyncio.Task[T]: ...

    def queue_job(
        self,
        callback: Callable[[], Any],
        group: Hashable | None = None,
        timeout: float | None = None,
    ) -> asyncio.Task[Any]:
        """Run ``callback`` as a job; jobs of one ``group`` run one at a time, in order.

        A sync callback runs in the thread pool, an async one on the loop.  After
        ``timeout`` seconds the job is cancelled (an async one really stops; a sync one can
        only be abandoned) and its task raises ``TimeoutError``; the group moves on.  Call
        from the event loop; from a worker thread use :meth:`queue_job_threadsafe`.
        """
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = loop
        return loop.create_task(self._job(callback, group, timeout))

    def queue_job_threadsafe(
        self,
        callback: Callable[[], Any],
        group: Hashable | None = None,
        timeout: float | None = None,
    ) -> concurrent.futures.Future[Any]:
        """:meth:`queue_job` from a thread (a sync handler); a concurrent future."""
        loop = self._loop_for_threads()
        return asyncio.run_coroutine_threadsafe(self._job(callback, group, timeout), loop)

    async def _job(
        self, callback: Callable[[], Any], group: Hashable | None, timeout: float | None
    ) -> Any:
        entry: _JobGroup | None = None
        owner = object()
        if group is not None:
            entry = self._groups.get(group)
            if entry is None:
                entry = self._groups[group] = _JobGroup()
            entry.pending += 1
        try:
            if entry is not None:
                waiter = entry.serial.enqueue(owner)
                if waiter is not None:
                    await entry.serial.wait(waiter, owner)
            scope = asyncio.timeout(timeout)
            try:
                async with scope:
                    if inspect.iscoroutinefunction(callback):
                        return await callback()
                    loop = asyncio.get_running_loop()
                    context = contextvars.copy_context()
                    result = await loop.run_in_executor(self._pool(), context.run, callback)
                    if inspect.isawaitable(result):
                        result = await result
                    return result
            except TimeoutError:
                if scope.expired():
                    raise TimeoutError(
                        f"job {callback!r} of group {group!r} timed out after {timeout:g}s"
                    ) from None
                raise
        finally:
            if entry is not None:
                entry.serial.release(owner)
                entry.pending -= 1
                if entry.pending == 0 and self._groups.get(group) is entry:
                    del self._groups[group]

    # -- shutdown ----------------------------------------------------------------------------------

    def close(self) -> None:
        """Release every session context and stop the thread pool the binding created."""
        self.sessions.clear()
        if self._owns_executor and self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
