"""kevent on the wire: event ids and patterns, the Event JSON, the HTTP stream's frames.

kevent is BuckyOS's node-local event bus, hosted by node-daemon (HTTP on port 3181 at
``/kapi/kevent``, reached through the node gateway's ``/kapi/kevent/*`` too).  It is not
kRPC.  Everything here is pure and shared by a client and a server, written from
upstream's ``buckyos-api/src/kevent_client.rs`` and ``kevent/src/http.rs``:

- **Names.**  A global event id starts with ``/``, its segments are ``[A-Za-z0-9_.-]+``
  (none empty), at most 8 deep and 256 characters, and it is not ``/``; a local id has no
  ``/`` and at most 128 characters (process-local: the daemon refuses it).  A pattern is
  an id that may hold whole-segment wildcards: ``*`` exactly one segment, ``**`` zero or
  more.  :func:`validate_eventid`, :func:`validate_pattern`, :func:`match_pattern`,
  :func:`normalize_patterns` (a broader pattern subsumes narrower ones).
- **Data** is any JSON value of at most 64 KiB, serialized compactly
  (``event data too large: N bytes, max 65536``, coded ``INVALID_EVENTID``).
- **Errors** are :class:`~buckyos.runtime.errors.KEventError`, upstream's texts
  (``INVALID_PATTERN: invalid segment 'a b'``); :data:`KEVENT_HTTP_STATUS` is the status
  the HTTP server answers each code with.
- **HTTP**: ``POST /kapi/kevent/publish`` ``{"eventid","data"}`` -> ``{"status":"ok"}``
  (or ``{"status":"err","code","message"}``); ``POST /kapi/kevent/stream``
  ``{"patterns":[...],"keepalive_ms":15000}`` -> ``application/x-ndjson``, one
  :data:`KEventFrame` per line: ``ack``, ``event``, ``keepalive`` (sent after
  ``keepalive_ms`` without an event), ``error`` (then the stream ends).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, TypeAlias

from buckyos.runtime.errors import KEventError
from buckyos.runtime.wire import jsontext

__all__ = [
    "DEFAULT_KEEPALIVE_MS",
    "DEFAULT_READER_CAPACITY",
    "KEVENT_API",
    "KEVENT_HTTP_STATUS",
    "KEVENT_PORT",
    "MAX_EVENT_DATA_BYTES",
    "AckFrame",
    "ErrorFrame",
    "EventFrame",
    "KEvent",
    "KEventFrame",
    "KeepaliveFrame",
    "check_event_data",
    "check_publish",
    "check_stream_patterns",
    "encode_frame",
    "event_data_size",
    "is_global",
    "match_pattern",
    "match_patterns",
    "normalize_patterns",
    "parse_frame",
    "pattern_subsumes",
    "publish_body",
    "stream_body",
    "validate_eventid",
    "validate_pattern",
]

KEVENT_API: Final = "kevent"
"""The path segment: ``/kapi/kevent`` (native ops), ``/kapi/kevent/publish``,
``/kapi/kevent/stream``."""
KEVENT_PORT: Final = 3181
"""node-daemon's kevent HTTP port (the node gateway forwards ``/kapi/kevent/*`` to it)."""
MAX_EVENT_DATA_BYTES: Final = 64 * 1024
DEFAULT_KEEPALIVE_MS: Final = 15_000
"""The stream's keep-alive period when the request names none."""
DEFAULT_READER_CAPACITY: Final = 1024
"""Upstream's per-reader queue (the oldest event is dropped beyond it)."""

MAX_GLOBAL_LENGTH: Final = 256
MAX_GLOBAL_DEPTH: Final = 8
MAX_LOCAL_LENGTH: Final = 128

KEVENT_HTTP_STATUS: Final[Mapping[str, int]] = {
    "INVALID_EVENTID": 400,
    "INVALID_PATTERN": 400,
    "TIMER_INVALID_TARGET": 400,
    "TIMER_NOT_FOUND": 400,
    "NOT_SUPPORTED": 400,
    "DAEMON_UNAVAILABLE": 503,
    "READER_CLOSED": 410,
    "INTERNAL": 500,
}
"""The HTTP status upstream's ``/kapi/kevent/publish`` and ``/stream`` answer each code with."""

_NAME_CHARS = re.compile(r"[A-Za-z0-9_.\-]+")


# --------------------------------------------------------------------------- names


def is_global(name: str) -> bool:
    """A global id or pattern starts with ``/`` (anything else is process-local)."""
    return name.startswith("/")


def _global_path_error(path: str, allow_wildcard: bool) -> str | None:
    # Lengths in UTF-8 bytes, as Rust's str::len.
    if len(path.encode("utf-8", "surrogatepass")) > MAX_GLOBAL_LENGTH:
        return f"global id/pattern length must be <= {MAX_GLOBAL_LENGTH}"
    if path == "/":
        return "global id/pattern must not be '/'"
    for depth, seg in enumerate(path.split("/")[1:], start=1):
        if not seg:
            return "global id/pattern contains empty segment"
        if depth > MAX_GLOBAL_DEPTH:
            return f"global id/pattern depth must be <= {MAX_GLOBAL_DEPTH}"
        if allow_wildcard and seg in ("*", "**"):
            continue
        if "*" in seg:
            return "wildcard must be a full segment '*' or '**'"
        if not _NAME_CHARS.fullmatch(seg):
            return f"invalid segment '{seg}'"
    return None


def _local_name_error(name: str) -> str | None:
    if len(name.encode("utf-8", "surrogatepass")) > MAX_LOCAL_LENGTH:
        return f"local id/pattern length must be <= {MAX_LOCAL_LENGTH}"
    if "/" in name:
        return "local id/pattern must not contain '/'"
    if not _NAME_CHARS.fullmatch(name):
        return "local id/pattern has invalid char"
    return None


def validate_eventid(eventid: str) -> None:
    """Refuse an id upstream refuses: ``KEventError("INVALID_EVENTID", ...)``."""
    if not eventid:
        raise KEventError("INVALID_EVENTID", "empty eventid")
    error = _global_path_error(eventid, False) if is_global(eventid) else _local_name_error(eventid)
    if error is not None:
        raise KEventError("INVALID_EVENTID", error)


def validate_pattern(pattern: str) -> None:
    """Refuse a pattern upstream refuses: ``KEventError("INVALID_PATTERN", ...)``."""
    if not pattern:
        raise KEventError("INVALID_PATTERN", "empty pattern")
    if is_global(pattern):
        error = _global_path_error(pattern, True)
    else:
        # '*' is no name character, so upstream's "local pattern does not support
        # wildcard" comes after a check that already refused it: its text is this one.
        error = _local_name_error(pattern)
    if error is not None:
        raise KEventError("INVALID_PATTERN", error)


def event_data_size(data: Any) -> int:
    """The bytes of ``data`` as compact JSON (what upstream measures)."""
    return len(jsontext.dumps(data))


def check_event_data(data: Any) -> None:
    """Refuse data over :data:`MAX_EVENT_DATA_BYTES`, with upstream's text."""
    size = event_data_size(data)
    if size > MAX_EVENT_DATA_BYTES:
        raise KEventError(
            "INVALID_EVENTID", f"event data too large: {size} bytes, max {MAX_EVENT_DATA_BYTES}"
        )


def check_publish(eventid: str, data: Any) -> None:
    """What the daemon checks of a published event, in its order: a global id, a valid
    one, data within the cap."""
    if not is_global(eventid):
        raise KEventError("INVALID_EVENTID", "daemon only accepts global eventid")
    validate_eventid(eventid)
    check_event_data(data)


def check_stream_patterns(patterns: Sequence[str]) -> None:
    """What the daemon checks of a reader's patterns: some, each valid and global."""
    if not patterns:
        raise KEventError("INVALID_PATTERN", "patterns must not be empty")
    for pattern in patterns:
        validate_pattern(pattern)
        if not is_global(pattern):
            raise KEventError("INVALID_PATTERN", "daemon only supports global patterns")


# --------------------------------------------------------------------------- matching


def _match_segments(pattern: Sequence[str], event: Sequence[str]) -> bool:
    # Iterative over the pattern with backtracking on the last '**' (no deep recursion).
    p = e = 0
    star_p, star_e = -1, 0
    while e < len(event) or p < len(pattern):
        if p < len(pattern):
            seg = pattern[p]
            if seg == "**":
                star_p, star_e = p, e
                p += 1
                continue
            if e < len(event) and (seg == "*" or seg == event[e]):
                p += 1
                e += 1
                continue
        if star_p >= 0 and star_e < len(event):
            star_e += 1
            p, e = star_p + 1, star_e
            continue
        return False
    return True


def match_pattern(pattern: str, eventid: str) -> bool:
    """Whether ``eventid`` matches ``pattern`` (a local pattern only itself)."""
    if not is_global(pattern):
        return pattern == eventid
    if not is_global(eventid):
        return False
    return _match_segments(pattern.split("/")[1:], eventid.split("/")[1:])


def match_patterns(patterns: Iterable[str], eventid: str) -> bool:
    """Whether ``eventid`` matches any of ``patterns``."""
    return any(match_pattern(pattern, eventid) for pattern in patterns)


def _subsumes(broad: Sequence[str], narrow: Sequence[str]) -> bool:
    if not broad:
        return not narrow
    if not narrow:
        return all(seg == "**" for seg in broad)
    b0, n0 = broad[0], narrow[0]
    if b0 == "**":
        if n0 == "**":
            return _subsumes(broad, narrow[1:])
        return _subsumes(broad[1:], narrow) or _subsumes(broad, narrow[1:])
    if n0 == "**":
        return False
    if b0 == "*":
        return _subsumes(broad[1:], narrow[1:])
    if n0 == "*" or b0 != n0:
        return False
    return _subsumes(broad[1:], narrow[1:])


def pattern_subsumes(broad: str, narrow: str) -> bool:
    """Whether every id ``narrow`` matches also matches ``broad`` (conservative, as
    upstream: an undecided case says no)."""
    if broad == narrow:
        return True
    if is_global(broad) != is_global(narrow) or not is_global(broad):
        return False
    return _subsumes(broad.split("/")[1:], narrow.split("/")[1:])


def normalize_patterns(patterns: Iterable[str]) -> list[str]:
    """Drop duplicates and patterns another one subsumes; survivors keep their order."""
    out: list[str] = []
    for pattern in patterns:
        if any(pattern_subsumes(kept, pattern) for kept in out):
            continue
        out = [kept for kept in out if not pattern_subsumes(pattern, kept)]
        out.append(pattern)
    return out


# --------------------------------------------------------------------------- the Event


def _unsigned(value: Any, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"the event has no unsigned integer {name!r}")
    return value


@dataclass(frozen=True, slots=True)
class KEvent:
    """One event as upstream's ``Event`` JSON carries it.

    ``source_node`` is the publisher's app id (SDK publishers) or the node id (the
    daemon's own and HTTP-published events), ``source_pid`` its process, ``ingress_node``
    the node that took it in (absent on the wire when ``None``), ``timestamp`` unix
    milliseconds, ``data`` any JSON value.
    """

    eventid: str
    source_node: str
    source_pid: int
    timestamp: int
    data: Any = None
    ingress_node: str | None = None

    @classmethod
    def from_json(cls, value: Any) -> KEvent:
        """Read upstream's Event object; ``ValueError`` naming what is wrong."""
        if not isinstance(value, dict):
            raise ValueError(
                f"an event must be a JSON object, not {jsontext.json_type_name(value)}"
            )
        eventid = value.get("eventid")
        source_node = value.get("source_node")
        source_pid = value.get("source_pid")
        timestamp = value.get("timestamp")
        ingress = value.get("ingress_node")
        if not isinstance(eventid, str):
            raise ValueError("the event has no string 'eventid'")
        if not isinstance(source_node, str):
            raise ValueError("the event has no string 'source_node'")
        source_pid = _unsigned(source_pid, "source_pid")
        timestamp = _unsigned(timestamp, "timestamp")
        if ingress is not None and not isinstance(ingress, str):
            raise ValueError("the event's 'ingress_node' is not a string")
        return cls(eventid, source_node, source_pid, timestamp, value.get("data"), ingress)

    def to_json(self) -> dict[str, Any]:
        """Upstream's Event object, keys in its order (``ingress_node`` only when set)."""
        out: dict[str, Any] = {
            "eventid": self.eventid,
            "source_node": self.source_node,
            "source_pid": self.source_pid,
        }
        if self.ingress_node is not None:
            out["ingress_node"] = self.ingress_node
        out["timestamp"] = self.timestamp
        out["data"] = self.data
        return out


# --------------------------------------------------------------------------- the stream


@dataclass(frozen=True, slots=True)
class AckFrame:
    """``{"type":"ack","connection_id","keepalive_ms"}``: the reader is registered."""

    connection_id: str
    keepalive_ms: int


@dataclass(frozen=True, slots=True)
class EventFrame:
    """``{"type":"event","event":{...}}``; ``dropped`` is our reference server's extra
    key (absent when 0): events this stream's server-side queue lost so far."""

    event: KEvent
    dropped: int = 0


@dataclass(frozen=True, slots=True)
class KeepaliveFrame:
    """``{"type":"keepalive","at_ms"}``: no event for ``keepalive_ms``; the stream lives."""

    at_ms: int


@dataclass(frozen=True, slots=True)
class ErrorFrame:
    """``{"type":"error","error":"CODE: detail"}``: the stream ends after it."""

    error: str


KEventFrame: TypeAlias = AckFrame | EventFrame | KeepaliveFrame | ErrorFrame


def parse_frame(line: bytes | str) -> KEventFrame | None:
    """One stream line; ``None`` for a frame type this library does not know (a newer
    server's), ``ValueError`` for a line that is not a frame."""
    value = jsontext.loads(line)
    if not isinstance(value, dict):
        raise ValueError(
            f"a kevent frame must be a JSON object, not {jsontext.json_type_name(value)}"
        )
    kind = value.get("type")
    if kind == "event":
        dropped = value.get("dropped")
        if not isinstance(dropped, int) or isinstance(dropped, bool) or dropped < 0:
            dropped = 0
        return EventFrame(KEvent.from_json(value.get("event")), dropped)
    if kind == "keepalive":
        at_ms = value.get("at_ms")
        return KeepaliveFrame(at_ms if isinstance(at_ms, int) else 0)
    if kind == "ack":
        connection_id, keepalive_ms = value.get("connection_id"), value.get("keepalive_ms")
        if not isinstance(connection_id, str) or not isinstance(keepalive_ms, int):
            raise ValueError("an ack frame needs a string connection_id and keepalive_ms")
        return AckFrame(connection_id, keepalive_ms)
    if kind == "error":
        error = value.get("error")
        return ErrorFrame(error if isinstance(error, str) else jsontext.dumps_text(error))
    if not isinstance(kind, str):
        raise ValueError("a kevent frame needs a string 'type'")
    return None


def encode_frame(frame: KEventFrame) -> bytes:
    """One stream line (with its newline), as upstream's server writes it."""
    value: dict[str, Any]
    if isinstance(frame, EventFrame):
        value = {"type": "event", "event": frame.event.to_json()}
        if frame.dropped:
            value["dropped"] = frame.dropped
    elif isinstance(frame, KeepaliveFrame):
        value = {"type": "keepalive", "at_ms": frame.at_ms}
    elif isinstance(frame, AckFrame):
        value = {
            "type": "ack",
            "connection_id": frame.connection_id,
            "keepalive_ms": frame.keepalive_ms,
        }
    else:
        value = {"type": "error", "error": frame.error}
    return jsontext.dumps(value) + b"\n"


def publish_body(
    eventid: str, data: Any, audience: Mapping[str, Sequence[str]] | None = None
) -> bytes:
    """The body of ``POST /kapi/kevent/publish``; ``audience`` (``{"users": [...],
    "apps": [...]}``, our reference server's extension) only when given."""
    value: dict[str, Any] = {"eventid": eventid, "data": data}
    if audience is not None:
        value["audience"] = {key: list(names) for key, names in audience.items()}
    return jsontext.dumps(value)


def stream_body(patterns: Sequence[str], keepalive_ms: int | None) -> bytes:
    """The body of ``POST /kapi/kevent/stream`` (``keepalive_ms`` left out when ``None``:
    the server's 15 s)."""
    value: dict[str, Any] = {"patterns": list(patterns)}
    if keepalive_ms is not None:
        value["keepalive_ms"] = keepalive_ms
    return jsontext.dumps(value)
