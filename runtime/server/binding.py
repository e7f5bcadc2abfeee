"""The server side of an api: a binder-style binding every wire adapter dispatches into.

A :class:`Binding` holds one or more apis (``add_service`` for a generated server base,
``add_verb``/``add_api`` for a binding written by hand, with the same verb-table shape) and
implements :class:`~buckyos.runtime.wire.dispatch.Dispatcher`: kRPC over HTTP, gRPC and
in-process calls all end in :meth:`Binding.call`, so every wire gets the same checks in
the binder's order (token, LOA, params, auth tree, verb; CLOSE after the reply).

What the AGL binder taught is kept in the binding's parts, one module each (their common
base, :class:`~buckyos.runtime.server.core.BindingCore`, holds the verb table):

- **lifecycle**: ``preinit``, ``init`` in ``require_api`` order
  (:mod:`~buckyos.runtime.server.lifecycle`);
- **jobs** (``queue_job`` groups) and **noconcurrency** (a FIFO per api, re-entrant for
  the call chain that holds it) (:mod:`~buckyos.runtime.server.jobs`);
- **events**: ``make_event``, ``broadcast``, ``onevent`` hooks
  (:mod:`~buckyos.runtime.server.binding_events`);
- **calls out**: ``req.subcall`` with the caller's token, ``req.call`` with the service's
  own (:mod:`~buckyos.runtime.server.outcalls`).

Here: building the verb table, and the dispatcher.  An api (or a verb) may have a **params
check**, its own refusal of raw kRPC params, run after the token and LOA and before the
params are decoded (:meth:`Binding.decode`).  Each request runs with a timeout (20 s by
default); a verb that overruns or raises is answered ``InternalError`` and the server
keeps serving.  Sync handlers run in a thread pool, async ones on the loop.
**Sessions**: per-session, per-api context and LOA live in a
:class:`~buckyos.runtime.server.session.SessionStore`; the CLOSE flag drops them after
the verb finished.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import math
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from typing import Any, Final, cast

from google.protobuf.message import Message

from buckyos.runtime.descriptor import JsonShape, MethodDescriptor, ReqT, RespT, ServiceDescriptor
from buckyos.runtime.errors import (
    ContractError,
    InternalError,
    ParseRequestError,
    RPCError,
    UnknownMethodError,
)
from buckyos.runtime.security.rbac import RbacEnforcer
from buckyos.runtime.security.revocation import RevocationSet
from buckyos.runtime.security.token_verifier import TokenVerifier
from buckyos.runtime.server.authz import Authorizer
from buckyos.runtime.server.binding_events import BindingEvents
from buckyos.runtime.server.core import Api, ParamsCheck, Verb, hook_of
from buckyos.runtime.server.deadlines import Deadlines
from buckyos.runtime.server.drain import CUT_AT, stopping_error
from buckyos.runtime.server.jobs import in_order
from buckyos.runtime.server.lifecycle import Lifecycle
from buckyos.runtime.server.outcalls import OutgoingCalls
from buckyos.runtime.server.request import Caller, Request
from buckyos.runtime.server.revisions import REACH_TIMEOUT, StoreRevisions
from buckyos.runtime.server.session import SessionStore
from buckyos.runtime.servicer import Handler, ServiceBase
from buckyos.runtime.transport import AsyncUnaryInvoker, UnaryInvoker
from buckyos.runtime.wire.dispatch import CallInfo
from buckyos.runtime.wire.jsonmap import decode_params

__all__ = [
    "DEFAULT_TIMEOUT",
    "Binding",
    "EventHook",
    "InitHook",
    "ParamsCheck",
    "PreinitHook",
]


DEFAULT_TIMEOUT: Final = 20.0
"""The binder's default job timeout, in seconds."""

PreinitHook = Callable[["Binding"], object]
InitHook = Callable[["Binding"], object]
"""May return an awaitable, which is awaited."""
EventHook = Callable[[str, Any], object]
"""``onevent(name, data)``; may return an awaitable."""


class Binding(Lifecycle, BindingEvents, OutgoingCalls):
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
        super().__init__()  # each part's own state (apis, lifecycle, events, jobs)
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
        self._deadlines: Deadlines | None = None
        self._stopping = False
        self._servers = 0
        self._services: tuple[ServiceDescriptor, ...] | None = None

    def __repr__(self) -> str:
        return f"<Binding {self.name} apis={sorted(self._apis)}>"

    # -- building the verb table -------------------------------------------------------------

    def _new_api(self, api: Api) -> Api:
        if self._init_task is not None:
            raise ContractError(f"binding {self.name}: cannot add api {api.name} once started")
        if api.name in self._apis:
            raise ContractError(f"binding {self.name}: api {api.name} is already served")
        self._apis[api.name] = api
        self._services = None
        return api

    def add_service(
        self,
        servicer: ServiceBase,
        *,
        timeout: float | None = None,
        check_params: ParamsCheck | None = None,
        revisions: StoreRevisions | None = None,
    ) -> None:
        """Serve a generated server base: its SERVICE verbs, hooks and ``noconcurrency``.

        Verbs the servicer does not override answer ``Unknown method: <krpc>``.  Optional
        methods ``preinit(binding)``, ``init(binding)`` (may be async) and
        ``onevent(name, data)`` on the servicer are its lifecycle hooks.
        ``check_params(krpc, params)`` is the api's params check (see :meth:`decode`).
        ``revisions`` is the api's shared store, when its instances on several nodes answer
        from copies of one store: callers then read their own writes on any instance
        (:mod:`~buckyos.runtime.server.revisions`).
        """
        descriptor = servicer.SERVICE
        api = self._new_api(
            Api(
                descriptor.api,
                descriptor.service,
                port=descriptor.port,
                noconcurrency=descriptor.noconcurrency,
                doc=descriptor.doc,
                preinit=hook_of(servicer, "preinit"),
                init=hook_of(servicer, "init"),
                onevent=hook_of(servicer, "onevent"),
                check_params=check_params,
                revisions=revisions,
            )
        )
        api.methods.extend(descriptor.methods)
        api.descriptor = descriptor
        verb_timeout = self.timeout if timeout is None else timeout
        for method in servicer.implemented():
            handler = servicer.handler_for(method)
            verb = Verb(method, handler, verb_timeout, check_params)
            for krpc in (method.krpc, *method.aliases):
                # An alias is one more key to the same verb: the lookup stays one dict get.
                api.verbs[krpc] = verb

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
        check_params: ParamsCheck | None = None,
    ) -> None:
        """Declare a hand-written api (its verbs come with :meth:`add_verb`).

        ``check_params`` is its verbs' default params check (see :meth:`decode`).
        """
        self._new_api(
            Api(
                name,
                service or name,
                port=port,
                noconcurrency=noconcurrency,
                doc=doc,
                preinit=preinit,
                init=init,
                onevent=onevent,
                check_params=check_params,
            )
        )

    def add_verb(
        self,
        method: MethodDescriptor[ReqT, RespT],
        handler: Callable[[ReqT, Request], RespT | Awaitable[RespT]],
        *,
        timeout: float | None = None,
        check_params: ParamsCheck | None = None,
    ) -> None:
        """Serve one verb by hand; its api is declared on first use (see :meth:`add_api`).

        Also fills a verb of an added service that the servicer left unimplemented.
        ``check_params`` (default: the api's) is its params check (see :meth:`decode`).
        """
        api = self._apis.get(method.api)
        if api is None:
            self.add_api(method.api, service=method.service)
            api = self._apis[method.api]
        elif self._init_task is not None:
            raise ContractError(f"binding {self.name}: cannot add verb {method.krpc} once started")
        for krpc in (method.krpc, *method.aliases):
            if krpc in api.verbs:
                raise ContractError(f"api {api.name}: verb {krpc} is already served")
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
        verb = Verb(
            method,
            cast(Handler, handler),
            self.timeout if timeout is None else timeout,
            api.check_params if check_params is None else check_params,
        )
        for krpc in (method.krpc, *method.aliases):
            api.verbs[krpc] = verb

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

    def decode(self, method: MethodDescriptor[Any, Any], params: Any, token: str | None) -> Message:
        """The request message of raw kRPC ``params``, in the binder's order (the wires ask
        this through :func:`~buckyos.runtime.wire.dispatch.decode_checked`).

        Without a params check: the params are decoded; when they do not decode, the token
        and LOA are checked first (a call without a valid token hears about its token, not
        its params).  With one (``check_params=`` of ``add_service``/``add_api``/
        ``add_verb``): the token and LOA, then ``check_params(krpc, params)``, then the
        decoding.  Null params carry nothing to check: such a verb gets an empty request
        and checks its fields itself, as over gRPC.
        """
        api = self._apis.get(method.api)
        verb = None if api is None else api.verbs.get(method.krpc)
        check = None if verb is None else verb.check_params
        if check is None:
            try:
                message: Message = decode_params(method, params)
            except RPCError:
                self.authenticate(method, token)
                raise
            return message
        if params is None:
            return cast(Message, method.request_type())
        self.authenticate(method, token)
        check(method.krpc, params)
        message = decode_params(method, params)
        return message

    async def call(
        self, method: MethodDescriptor[Any, Any], message: Message, info: CallInfo
    ) -> Message:
        """Check and run one verb: token, LOA, auth tree, handler; CLOSE after the reply."""
        api = self._apis.get(method.api)
        verb = None if api is None else api.verbs.get(method.krpc)
        if api is None or verb is None:
            raise UnknownMethodError(method.krpc)
        if self._stopping:
            raise stopping_error(method)
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
            presented_token=info.token,
        )
        revisions = api.revisions
        if revisions is not None and info.min_revision > revisions.copy_revision():
            # Blocking (a condition, maybe a round trip to the store): off the loop.
            await self._in_thread(revisions.reach, info.min_revision, REACH_TIMEOUT)
        serial = api.serial
        if serial is None:
            result = await self._run(verb, req)
        else:
            result = await in_order(serial, self._run, verb, req)
        if revisions is not None:
            # Read after the handler: a write has waited for the copy to reach its revision.
            info.revision = revisions.copy_revision()
        return result

    async def _run(self, verb: Verb, req: Request) -> Message:
        """Run the handler under the timeout; then apply CLOSE (whatever the outcome).

        One coroutine for both (each frame costs on every call); the request object is
        the call's key among the running deadlines.
        """
        method = verb.method
        timeout = verb.timeout
        task = asyncio.current_task()
        deadlines: Deadlines | None = None
        call = req
        if task is not None:
            # Every call is recorded, a verb without a timeout with none due, so that a
            # stopping server can end it (drain).
            loop = task.get_loop()
            deadlines = self._deadlines
            if deadlines is None or deadlines.loop is not loop:
                deadlines = self._deadlines = Deadlines(loop)
            cancelling = task.cancelling()
            deadlines.add(call, task, math.inf if timeout is None else timeout)
        try:
            if verb.is_async:
                result: Any = await cast(Awaitable[Message], verb.handler(req.message, req))
            else:
                result = await self._in_thread(verb.handler, req.message, req)
                if inspect.isawaitable(result):
                    result = await result
        except RPCError:
            raise
        except asyncio.CancelledError:
            if deadlines is not None and task is not None:
                # Our deadline cancelled the task, and nobody else did too: a timeout.
                if deadlines.done(call) and task.uncancel() <= cancelling:
                    req.logger.warning("timed out after %gs", timeout)
                    raise InternalError(
                        f"{method.api}/{method.krpc} timed out after {timeout:g}s"
                    ) from None
                # The server is stopping and the grace ran out: answered, not dropped.
                if deadlines.was_cut(call) and task.uncancel() <= cancelling:
                    raise stopping_error(method) from None
            raise
        except Exception as exc:
            raise self._internal(req, exc) from None
        finally:
            if deadlines is not None:
                deadlines.done(call)
            if method.session.close and req.caller.session is not None:
                self.sessions.close(req.caller.session, method.api)
        if result is None and method.result_shape is JsonShape.UNWRAP_OR_NULL:
            result = method.response_type()  # the field unset: null on kRPC, empty on gRPC
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

    # -- RequestHost (invoke_for/ainvoke_for: see OutgoingCalls) --------------------------------

    def check_permission(self, caller: Caller, action: str, resource: str) -> None:
        """RBAC for a request's caller; upstream's ``No permission:enforce failed,...``."""
        self.authorizer.check_caller(caller, action, resource)

    # -- shutdown ----------------------------------------------------------------------------------

    def attach_server(self) -> None:
        """A server (``serving``) starts serving this binding."""
        self._servers += 1

    def detach_server(self) -> None:
        """That server has stopped: once none is left the binding takes calls again
        (in-process ones, or a server started later)."""
        self._servers -= 1
        if self._servers <= 0:
            self._servers = 0
            self._stopping = False

    async def drain(self, grace: float) -> None:
        """The server is stopping: wait up to ``CUT_AT * grace`` seconds for the calls
        running, then answer the ones still running ``ServiceNotValidError`` (``... was
        cut short: the server is stopping``) and refuse new ones the same way, until
        :meth:`detach_server`.

        The calls are the records the per-call deadlines keep anyway, so being able to
        end them costs a call nothing more.  They are the binding's, not one server's:
        while another server still serves the binding, a stopping one ends nothing (its
        own calls then run into its listeners' shutdown)."""
        if self._servers > 1:
            return
        deadlines = self._deadlines
        if deadlines is not None:
            await deadlines.wait_idle(grace * CUT_AT)
        self._stopping = True
        if deadlines is not None:
            deadlines.cut_all("the server is stopping")

    def close(self) -> None:
        """Release every session context and stop the thread pool the binding created."""
        self.sessions.clear()
        if self._owns_executor and self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
