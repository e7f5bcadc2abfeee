"""wire: what has no role, for a wire's or an ASGI app's author.

Public names (``__all__``, pinned by ``tests/test_facades.py``), each loaded from its
module on first use::

    asgi       ASGI types and the small pieces a plain ASGI app needs (read_body, respond,
               refuse, lifespan)
    dispatch   CallInfo and the Dispatcher interface every server wire calls
    events     Event, what a binder event carries
    jsonmap    messages to upstream's kRPC JSON and back
    jsontext   strict JSON text (dumps/loads bytes, dumps_text/loads_strict str)

Link framing (``link``) and the in-process registry (``registry``) are the runtime's own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from buckyos.runtime.lazy import lazy_names

if TYPE_CHECKING:
    from buckyos.runtime.wire.asgi import (
        JSON,
        TEXT_HEADER,
        ASGIMessage,
        ASGIReceive,
        ASGIScope,
        ASGISend,
        DisconnectedError,
        RefusedError,
        lifespan,
        read_body,
        refuse,
        respond,
    )
    from buckyos.runtime.wire.dispatch import (
        FORWARDED_CLIENT_HEADER,
        CallInfo,
        Dispatcher,
        decode_checked,
    )
    from buckyos.runtime.wire.events import Event
    from buckyos.runtime.wire.jsonmap import (
        decode_params,
        decode_result,
        encode_params,
        encode_result,
        json_type_name,
    )
    from buckyos.runtime.wire.jsontext import dumps, dumps_text, loads, loads_strict

# name -> module it lives in; loaded on first use (PEP 562)
_LAZY: Final[dict[str, str]] = {
    "ASGIMessage": ".asgi",
    "ASGIReceive": ".asgi",
    "ASGIScope": ".asgi",
    "ASGISend": ".asgi",
    "JSON": ".asgi",
    "TEXT_HEADER": ".asgi",
    "DisconnectedError": ".asgi",
    "RefusedError": ".asgi",
    "lifespan": ".asgi",
    "read_body": ".asgi",
    "refuse": ".asgi",
    "respond": ".asgi",
    "FORWARDED_CLIENT_HEADER": ".dispatch",
    "CallInfo": ".dispatch",
    "Dispatcher": ".dispatch",
    "decode_checked": ".dispatch",
    "Event": ".events",
    "decode_params": ".jsonmap",
    "decode_result": ".jsonmap",
    "encode_params": ".jsonmap",
    "encode_result": ".jsonmap",
    "json_type_name": ".jsonmap",
    "dumps": ".jsontext",
    "dumps_text": ".jsontext",
    "loads": ".jsontext",
    "loads_strict": ".jsontext",
}


__getattr__, __dir__ = lazy_names(__name__, _LAZY)


__all__ = [
    "FORWARDED_CLIENT_HEADER",
    "JSON",
    "TEXT_HEADER",
    "ASGIMessage",
    "ASGIReceive",
    "ASGIScope",
    "ASGISend",
    "CallInfo",
    "DisconnectedError",
    "Dispatcher",
    "Event",
    "RefusedError",
    "decode_checked",
    "decode_params",
    "decode_result",
    "dumps",
    "dumps_text",
    "encode_params",
    "encode_result",
    "json_type_name",
    "lifespan",
    "loads",
    "loads_strict",
    "read_body",
    "refuse",
    "respond",
]
