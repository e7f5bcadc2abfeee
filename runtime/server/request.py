"""What a verb handler receives besides its message: the call's identity and its powers.

A :class:`Request` is built once per call, so it is a plain ``__slots__`` object whose
costly parts (the tagged logger) are made only when used.  Everything that needs the
server (session context, LOA, subcalls, permission checks) goes through the
:class:`RequestHost` that served the call, normally a
:class:`~buckyos.runtime.server.binding.Binding`; a request built without one (e.g. by the
in-memory test transport) still carries its message and caller, and says clearly what it
cannot do.
"""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from dataclasses import dataclass, field, replace
from typing import Any, Final, Generic, Protocol

from google.protobuf.message import Message

from buckyos.runtime.descriptor import MethodDescriptor, ReqT, RespT
from buckyos.runtime.errors import NoPermissionError, ServiceNotValidError
from buckyos.runtime.security.session_token import SessionToken
from buckyos.runtime.server.session import MAX_LOA, ReleaseHook, SessionStore, loa_of_token
from buckyos.runtime.wire.events import Event, LinkScope, no_link_error

__all__ = ["ANONYMOUS", "Caller", "Outcall", "Request", "RequestHost", "RequestLogger"]


_log: Final = logging.getLogger("buckyos.request")


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling: from the verified session token, or anonymous.

    ``user_id`` is the token's ``sub``; ``app_id`` its ``appid`` (else ``kernel``);
    ``session`` the session key (:func:`~buckyos.runtime.server.session.session_key_of`); ``loa``
    the level of assurance for this api; ``token`` the raw token and ``claims`` the
    verified :class:`~.session_token.SessionToken` (both kept out of ``repr``).
    """

    user_id: str | None = None
    app_id: str | None = None
    session: str | None = None
    loa: int = 0
    token: str | None = field(default=None, repr=False)
    claims: SessionToken | None = field(default=None, repr=False, compare=False)

    @property
    def anonymous(self) -> bool:
        return self.user_id is None

    @property
    def sudo(self) -> bool:
        return self.claims is not None and self.claims.sudo

    def with_loa(self, loa: int) -> Caller:
        """A copy at another level of assurance."""
        return replace(self, loa=loa)


ANONYMOUS: Final = Caller()
"""The caller of a request that carried no (valid) token."""


@dataclass(frozen=True, slots=True)
class Outcall(Generic[ReqT, RespT]):
    """A call out of a verb: ``method`` with ``message``, carrying the service's own token
    (``own``, ``req.call``) or the caller's (``req.subcall``), waiting ``timeout`` seconds."""

    method: MethodDescriptor[ReqT, RespT]
    message: ReqT
    own: bool
    timeout: float | None


class RequestHost(Protocol):
    """What a request needs from the server that runs it (a Binding implements it)."""

    @property
    def sessions(self) -> SessionStore: ...

    @property
    def logger(self) -> logging.Logger: ...

    def check_permission(self, caller: Caller, action: str, resource: str) -> None:
        """RBAC check for ``caller`` or raise ``NoPermissionError`` (upstream text)."""
        ...

    def invoke_for(self, req: Request, out: Outcall[ReqT, RespT]) -> RespT:
        """Make ``req``'s call ``out`` from a worker thread."""
        ...

    async def ainvoke_for(self, req: Request, out: Outcall[ReqT, RespT]) -> RespT:
        """The asyncio twin of :meth:`invoke_for`."""
        ...


class RequestLogger(logging.LoggerAdapter[logging.Logger]):
    """Tags every line with the request's api, verb, caller and trace id.

    The tags go both in front of the message (for plain log files) and in ``extra``
    (``api``, ``verb``, ``user_id``, ``app_id``, ``trace_id``) for structured handlers.
    """

    def __init__(self, logger: logging.Logger, req: Request) -> None:
        caller = req.caller
        who = "anonymous" if caller.anonymous else f"{caller.user_id}/{caller.app_id}"
        self.prefix = f"[{req.api}/{req.verb} caller={who} trace={req.trace_id or '-'}] "
        super().__init__(
            logger,
            {
                "api": req.api,
                "verb": req.verb,
                "user_id": caller.user_id,
                "app_id": caller.app_id,
                "trace_id": req.trace_id,
            },
        )

    def process(
        self, msg: Any, kwargs: MutableMapping[str, Any]
    ) -> tuple[Any, MutableMapping[str, Any]]:
        extra = kwargs.get("extra")
        kwargs["extra"] = (
            dict(self.extra or {}) if extra is None else {**(self.extra or {}), **extra}
        )
        return f"{self.prefix}{msg}", kwargs


class Request:
    """One call as a handler sees it: the typed message, the raw params, the caller.

    - ``message``: the typed request; ``params``: the raw kRPC params JSON (``None`` when
      the call did not come as JSON);
    - ``caller``: :class:`Caller`; ``trace_id``; ``transport`` (``krpc``, ``grpc``, ...);
      ``seq`` (the kRPC request seq, else ``None``) and ``peer`` (the client address);
    - ``forwarded_client``: the raw ``x-buckyos-client`` header a node gateway adds (a JWT
      naming the client's address, signed by its device key), unverified, else ``None``;
    - ``presented_token``: the token as the caller sent it (kRPC ``sys``, gRPC metadata),
      unverified, else ``None``: for a verb that checks a token of its own (the task
      runner's per-lease delivery token, an ``auth: yes`` verb); who the runtime verified
      is ``caller``;
    - ``logger``: a :class:`RequestLogger` (made on first use);
    - ``context_get/context_set/context_clear``: this api's context in the caller's session;
    - ``set_loa(n)``: raise the session's LOA for this api (later calls see it);
    - ``subcall``/``asubcall``: call another verb with the **caller's** token;
      ``call``/``acall``: call it with the **service's own** token;
    - ``enforce(action, resource)``: an RBAC check for the caller inside a handler;
    - ``subscribe(event)``/``unsubscribe(event)``: the caller's link connection to an event
      (before the reply; only over a streaming link, see :mod:`~buckyos.runtime.wire.events`).
    """

    __slots__ = (
        "_host",
        "_logger",
        "caller",
        "forwarded_client",
        "link",
        "message",
        "method",
        "params",
        "peer",
        "presented_token",
        "seq",
        "trace_id",
        "transport",
    )

    def __init__(
        self,
        method: MethodDescriptor[Any, Any],
        message: Message,
        params: Any = None,
        caller: Caller = ANONYMOUS,
        trace_id: str | None = None,
        transport: str = "inmemory",
        logger: logging.LoggerAdapter[logging.Logger] | None = None,
        host: RequestHost | None = None,
        *,
        seq: int | None = None,
        peer: str | None = None,
        link: LinkScope | None = None,
        forwarded_client: str | None = None,
        presented_token: str | None = None,
    ) -> None:
        self.method = method
        self.message = message
        self.params = params
        self.caller = caller
        self.trace_id = trace_id
        self.transport = transport
        self._logger = logger
        self._host = host
        self.seq = seq
        self.peer = peer
        self.link = link
        """The caller's connection when the call came over a streaming link."""
        self.forwarded_client = forwarded_client
        """The raw ``x-buckyos-client`` value, unverified: never trust it without checking
        its signature against a zone device's key."""
        self.presented_token = presented_token
        """The token the caller sent, unverified (see the class docstring)."""

    def __repr__(self) -> str:
        return f"<Request {self.api}/{self.verb} {self.caller!r} trace={self.trace_id}>"

    @property
    def api(self) -> str:
        return self.method.api

    @property
    def verb(self) -> str:
        return self.method.krpc

    @property
    def logger(self) -> logging.LoggerAdapter[logging.Logger]:
        """A logger tagging each line with api, verb, caller and trace id."""
        if self._logger is None:
            base = self._host.logger if self._host is not None else _log
            self._logger = RequestLogger(base, self)
        return self._logger

    def _served(self, what: str) -> RequestHost:
        if self._host is None:
            raise ServiceNotValidError(
                f"{self.api}: {what} needs a request served by a Binding (this one is not)"
            )
        return self._host

    def _session(self, what: str) -> str:
        session = self.caller.session
        if session is None:
            raise NoPermissionError(f"{what} needs a session token (the caller sent none)")
        return session

    # -- per-session, per-api context

    def context_get(self, default: Any = None) -> Any:
        """This api's context in the caller's session, or ``default`` (also when anonymous)."""
        session = self.caller.session
        if session is None or self._host is None:
            return default
        return self._host.sessions.context_get(session, self.api, default)

    def context_set(self, value: Any, release: ReleaseHook | None = None) -> None:
        """Set this api's context for the caller's session.

        ``release(value)`` runs when the value is replaced, cleared, or the session closes.
        """
        host = self._served("context_set")
        host.sessions.context_set(self._session("context_set"), self.api, value, release)

    def context_clear(self) -> bool:
        """Drop (and release) this api's context; whether there was one."""
        session = self.caller.session
        if session is None or self._host is None:
            return False
        return self._host.sessions.context_clear(session, self.api)

    def set_loa(self, level: int) -> int:
        """Raise the session's LOA for this api to ``level`` (0..3); the new effective LOA.

        Later calls of the same session see it; this request's ``caller.loa`` is updated.
        """
        if isinstance(level, bool) or not isinstance(level, int) or not 0 <= level <= MAX_LOA:
            raise ValueError(f"LOA must be an integer from 0 to {MAX_LOA}, got {level!r}")
        host = self._served("set_loa")
        host.sessions.set_loa(self._session("set_loa"), self.api, level)
        effective = max(loa_of_token(self.caller.claims), level)
        if effective != self.caller.loa:
            self.caller = self.caller.with_loa(effective)
        return effective

    # -- permission checks inside a handler

    def enforce(self, action: str, resource: str) -> tuple[str, str]:
        """Upstream ``enforce`` for this caller: ``(user_id, app_id)`` or NoPermissionError."""
        self._served("enforce").check_permission(self.caller, action, resource)
        assert self.caller.user_id is not None and self.caller.app_id is not None
        return self.caller.user_id, self.caller.app_id

    # -- events

    def _link(self) -> LinkScope:
        link = self.link
        if link is None:
            raise no_link_error(self.transport, self.api, self.verb)
        return link

    def subscribe(self, event: Event) -> bool:
        """Subscribe the caller's connection to ``event``; ``False`` if it already was.

        Only before the reply, and only over a streaming link (WebSocket or gRPC link):
        any other request gets a ``ReasonError`` saying so.  The subscription lasts until
        :meth:`unsubscribe` or until the connection closes.  Thread-safe.
        """
        return self._link().subscribe(event, f"{self.api}/{self.verb}")

    def unsubscribe(self, event: Event, *, last: Any = None) -> bool:
        """Unsubscribe the caller's connection from ``event``; whether it was subscribed.

        ``last`` (if it was, and not ``None``): one last event of ``event`` for this
        connection alone, queued before the reply, so the caller reads it before the
        verb's answer and nothing of ``event`` after it.
        """
        return self._link().unsubscribe(event, f"{self.api}/{self.verb}", last)

    # -- calling other verbs

    def subcall(
        self, method: MethodDescriptor[ReqT, RespT], message: ReqT, *, timeout: float | None = None
    ) -> RespT:
        """Call ``method`` with the caller's token (from a sync handler's thread)."""
        return self._served("subcall").invoke_for(self, Outcall(method, message, False, timeout))

    def call(
        self, method: MethodDescriptor[ReqT, RespT], message: ReqT, *, timeout: float | None = None
    ) -> RespT:
        """Call ``method`` with the service's own token (from a sync handler's thread)."""
        return self._served("call").invoke_for(self, Outcall(method, message, True, timeout))

    async def asubcall(
        self, method: MethodDescriptor[ReqT, RespT], message: ReqT, *, timeout: float | None = None
    ) -> RespT:
        """Call ``method`` with the caller's token (from an async handler)."""
        return await self._served("asubcall").ainvoke_for(
            self, Outcall(method, message, False, timeout)
        )

    async def acall(
        self, method: MethodDescriptor[ReqT, RespT], message: ReqT, *, timeout: float | None = None
    ) -> RespT:
        """Call ``method`` with the service's own token (from an async handler)."""
        return await self._served("acall").ainvoke_for(
            self, Outcall(method, message, True, timeout)
        )
