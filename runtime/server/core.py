"""The verb table of a binding, and what every part of a binding shares.

:class:`~buckyos.runtime.server.binding.Binding` is one class made of parts, one module
each: where work runs (:mod:`~buckyos.runtime.server.jobs`), the lifecycle
(:mod:`~buckyos.runtime.server.lifecycle`), events
(:mod:`~buckyos.runtime.server.binding_events`), outgoing calls
(:mod:`~buckyos.runtime.server.outcalls`) and the dispatcher that builds the table and
serves it (:mod:`~buckyos.runtime.server.binding`).  :class:`BindingCore` is their common
base: the apis and verbs served, and which api a hook is acting for.  Each part sets up its
own state in a cooperative ``__init__``; the modules import one way (none imports
``binding``).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, field
from typing import Any

from google.protobuf.message import Message

from buckyos.runtime.descriptor import MethodDescriptor, ServiceDescriptor
from buckyos.runtime.errors import ContractError
from buckyos.runtime.server.jobs import Jobs, Serial
from buckyos.runtime.server.revisions import StoreRevisions
from buckyos.runtime.servicer import Handler
from buckyos.runtime.transport import AsyncUnaryInvoker, UnaryInvoker
from buckyos.runtime.wire.dispatch import CallInfo

__all__ = ["Api", "BindingCore", "Hook", "ParamsCheck", "Verb", "hook_of"]

Hook = Callable[[Any], object]
"""A stored lifecycle hook (``preinit``/``init`` get the binding; ``binding.PreinitHook``)."""
ParamsCheck = Callable[[str, Any], object]
"""``check(krpc, params)``: refuse the raw kRPC ``params`` of verb ``krpc`` with the api's
own ``RPCError`` (its wire text), or return.  Runs after the token and LOA checks and
before the params are decoded, only for calls that carry JSON params (kRPC, the links);
gRPC and in-process calls bring a typed message and skip it."""


class Verb:
    """A served verb: descriptor, handler, how to run it and its params check."""

    __slots__ = ("check_params", "handler", "is_async", "method", "timeout")

    def __init__(
        self,
        method: MethodDescriptor[Any, Any],
        handler: Handler,
        timeout: float | None,
        check_params: ParamsCheck | None = None,
    ) -> None:
        self.method = method
        self.handler = handler
        self.is_async = inspect.iscoroutinefunction(handler)
        self.timeout = timeout
        self.check_params = check_params


@dataclass(slots=True)
class Api:
    """One api of the binding: its verb table, lifecycle hooks and requirements."""

    name: str
    service: str
    _: KW_ONLY
    port: int = 0
    noconcurrency: bool = False
    doc: str = ""
    preinit: Hook | None = None
    init: Hook | None = None
    onevent: Callable[[str, Any], object] | None = None
    check_params: ParamsCheck | None = None
    """The default params check of the api's verbs."""
    methods: list[MethodDescriptor[Any, Any]] = field(default_factory=list)
    verbs: dict[str, Verb] = field(default_factory=dict)
    requires: dict[str, bool] = field(default_factory=dict)
    revisions: StoreRevisions | None = None
    """The api's shared store, when its answers carry a store revision (see
    :mod:`~buckyos.runtime.server.revisions`)."""
    serial: Serial | None = field(init=False)
    ready: bool = False
    descriptor: ServiceDescriptor | None = None

    def __post_init__(self) -> None:
        self.serial = Serial() if self.noconcurrency else None

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


def hook_of(obj: object, name: str) -> Any:
    """``obj.<name>`` when it is callable (an optional hook of a servicer), else ``None``."""
    hook = getattr(obj, name, None)
    return hook if callable(hook) else None


class BindingCore(Jobs):
    """The state and helpers the parts of a binding share (see the module docstring)."""

    logger: logging.Logger
    invoker: UnaryInvoker | AsyncUnaryInvoker | None

    def __init__(self) -> None:
        super().__init__()
        self._apis: dict[str, Api] = {}
        self._hook_api: str | None = None
        """The api whose ``preinit``/``init`` hook is running."""
        self._init_task: asyncio.Task[None] | None = None
        """The start-up task (see :mod:`.lifecycle`); once set, the verb table is closed."""

    async def call(
        self, method: MethodDescriptor[Any, Any], message: Message, info: CallInfo
    ) -> Message:
        """Check and run one verb (the dispatcher's, in :mod:`.binding`)."""
        raise NotImplementedError

    def _owner_api(self, api: str | None, what: str = "require_api") -> Api:
        """``api``, else the api whose hook is running, else the only api served."""
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
