"""Base of generated server classes: one method per verb, looked up by descriptor."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, ClassVar

from google.protobuf.message import Message

from buckyos.runtime.descriptor import MethodDescriptor, ServiceDescriptor
from buckyos.runtime.errors import UnknownMethodError

if TYPE_CHECKING:  # the contract names the server's Request, it does not load the server
    from buckyos.runtime.server.request import Request

__all__ = ["Handler", "ServiceBase", "unimplemented"]

Handler = Callable[[Any, "Request"], Message | Awaitable[Message]]


class ServiceBase:
    """Subclass a generated ``<Service>Servicer`` and override the verbs you serve.

    A verb may be ``def`` (run in a worker thread by the server) or ``async def``.
    """

    SERVICE: ClassVar[ServiceDescriptor]

    def handler_for(self, method: MethodDescriptor[Any, Any]) -> Handler:
        """The bound method serving ``method``."""
        handler: Handler = getattr(self, method.name)
        return handler

    def implemented(self) -> tuple[MethodDescriptor[Any, Any], ...]:
        """The verbs this object overrides (the rest answer ``Unknown method``)."""
        out = []
        for method in self.SERVICE.methods:
            for cls in type(self).__mro__:
                if method.name in cls.__dict__:
                    if not getattr(cls.__dict__[method.name], "__buckyos_unimplemented__", False):
                        out.append(method)
                    break
        return tuple(out)

    @staticmethod
    def is_async(handler: Callable[..., Any]) -> bool:
        return inspect.iscoroutinefunction(handler)


def unimplemented(method: MethodDescriptor[Any, Any]) -> UnknownMethodError:
    """The error a verb the server does not implement answers with (upstream's text)."""
    return UnknownMethodError(method.krpc)


def mark_unimplemented(func: Callable[..., Any]) -> Callable[..., Any]:
    func.__buckyos_unimplemented__ = True  # type: ignore[attr-defined]
    return func
