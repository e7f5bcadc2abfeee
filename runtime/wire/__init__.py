"""wire: what has no role, for a wire's or an ASGI app's author.

Public names (``__all__``, pinned by ``tests/test_facades.py``), each loaded from its
module on first use::

    asgi       ASGI types and the small pieces a plain ASGI app needs (read_body, respond,
               refuse, lifespan)
    dispatch   CallInfo and the Dispatcher interface every server wire calls
    events     Event, what a binder event carries
    jsonmap    messages to upstream's kRPC JSON and back
    kevent     kevent's event ids and patterns (checks, matching), the Event JSON (KEvent)
               and the HTTP stream's frames, for its clients and servers
    jsontext   strict JSON text (dumps/loads bytes, dumps_text/loads_strict str), a JSON
               object read with one error text (json_object)

Link framing (``link``) and the in-process registry (``registry``) are the runtime's own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from buckyos.runtime.lazy import lazy_names, lazy_table

if TYPE_CHECKING:
    from buckyos.runtime.wire.asgi import (
        JSON as JSON,
        TEXT_HEADER as TEXT_HEADER,
        ASGIMessage as ASGIMessage,
        ASGIReceive as ASGIReceive,
        ASGIScope as ASGIScope,
        ASGISend as ASGISend,
        DisconnectedError as DisconnectedError,
        RefusedError as RefusedError,
        lifespan as lifespan,
        read_body as read_body,
        refuse as refuse,
        respond as respond,
    )
    from buckyos.runtime.wire.dispatch import (
        FORWARDED_CLIENT_HEADER as FORWARDED_CLIENT_HEADER,
        REVISION_HEADER as REVISION_HEADER,
        CallInfo as CallInfo,
        Dispatcher as Dispatcher,
        decode_checked as decode_checked,
        parse_revision as parse_revision,
    )
    from buckyos.runtime.wire.events import Event as Event
    from buckyos.runtime.wire.jsonmap import (
        decode_params as decode_params,
        decode_result as decode_result,
        encode_params as encode_params,
        encode_result as encode_result,
    )
    from buckyos.runtime.wire.jsontext import (
        dumps as dumps,
        dumps_text as dumps_text,
        json_object as json_object,
        json_type_name as json_type_name,
        loads as loads,
        loads_strict as loads_strict,
    )
    from buckyos.runtime.wire.kevent import (
        DEFAULT_KEEPALIVE_MS as DEFAULT_KEEPALIVE_MS,
        DEFAULT_READER_CAPACITY as DEFAULT_READER_CAPACITY,
        KEVENT_HTTP_STATUS as KEVENT_HTTP_STATUS,
        KEVENT_PORT as KEVENT_PORT,
        MAX_EVENT_DATA_BYTES as MAX_EVENT_DATA_BYTES,
        AckFrame as AckFrame,
        ErrorFrame as ErrorFrame,
        EventFrame as EventFrame,
        KeepaliveFrame as KeepaliveFrame,
        KEvent as KEvent,
        KEventFrame as KEventFrame,
        check_publish as check_publish,
        check_stream_patterns as check_stream_patterns,
        encode_frame as encode_frame,
        match_pattern as match_pattern,
        match_patterns as match_patterns,
        normalize_patterns as normalize_patterns,
        parse_frame as parse_frame,
        validate_eventid as validate_eventid,
        validate_pattern as validate_pattern,
    )

# module -> the names it lends the facade, loaded on first use (PEP 562)
_LAZY: Final = lazy_table(
    {
        ".asgi": (
            "ASGIMessage ASGIReceive ASGIScope ASGISend JSON TEXT_HEADER DisconnectedError "
            "RefusedError lifespan read_body refuse respond"
        ),
        ".dispatch": (
            "FORWARDED_CLIENT_HEADER REVISION_HEADER CallInfo Dispatcher decode_checked "
            "parse_revision"
        ),
        ".events": "Event",
        ".jsonmap": "decode_params decode_result encode_params encode_result",
        ".jsontext": "dumps dumps_text json_object json_type_name loads loads_strict",
        ".kevent": (
            "DEFAULT_KEEPALIVE_MS DEFAULT_READER_CAPACITY KEVENT_HTTP_STATUS KEVENT_PORT "
            "MAX_EVENT_DATA_BYTES AckFrame ErrorFrame EventFrame "
            "KEvent KEventFrame KeepaliveFrame check_publish check_stream_patterns encode_frame "
            "match_pattern match_patterns normalize_patterns parse_frame validate_eventid "
            "validate_pattern"
        ),
    }
)


__getattr__, __dir__ = lazy_names(__name__, _LAZY)


__all__ = sorted(_LAZY)
