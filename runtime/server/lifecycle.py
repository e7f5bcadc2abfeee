"""The binding's lifecycle: ``preinit``, then ``init`` in ``require_api`` order.

What the AGL binder taught, and how it is kept here: ``preinit()`` runs once at load;
``init()`` once before serving, in the order ``require_api(names, initialized=True)`` asks
for; a cycle is a :class:`ContractError` at start, never a hang.  A call that arrives
first starts the binding itself, and a binding that failed to start answers every call
``ServiceNotValidError`` naming the failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import inspect
from collections.abc import Iterable
from typing import Final

from buckyos.runtime.errors import ContractError, ServiceNotValidError
from buckyos.runtime.server.core import Api, BindingCore

__all__ = ["Lifecycle"]

# The bindings whose start-up task this is: their init hooks' calls must not wait for it.
_IN_INIT: Final[contextvars.ContextVar[frozenset[object]]] = contextvars.ContextVar(
    "buckyos_binding_in_init", default=frozenset()
)


class Lifecycle(BindingCore):
    """``require_api``, ``start_order``, ``preinit``, ``init`` (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__()
        self._preinit_done = False
        self._init_error: BaseException | None = None

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

    def _check_requirement(self, owner: Api, name: str, initialized: bool) -> None:
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

    async def _ensure_ready(self, api: Api) -> None:
        """Start the binding for the first call of ``api``; refuse if it cannot start."""
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
