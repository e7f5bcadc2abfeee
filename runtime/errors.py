"""The one error hierarchy of the runtime.

::

    BuckyOSError                      anything this library raises on purpose
    ├── RPCError                      an upstream kRPC error kind; ``str(e)`` is the wire text
    │   ├── ReasonError               "Failed due to reason: {s}"
    │   │   ├── TransportError        the call never got an answer (refused, reset, timeout)
    │   │   └── InternalError         the handler raised or overran its time
    │   ├── UnknownMethodError        "Unknown method: {s}"
    │   ├── InvalidTokenError         "Invalid token: {s}"
    │   ├── ParseRequestError         "Parse Request Error: {s}"
    │   ├── ParseResponseError        "Parse Response Error: {s}"
    │   ├── TokenExpiredError         "Token expired:{s}"
    │   ├── NoPermissionError         "No permission:{s}"
    │   ├── InvalidPasswordError      "Invalid password"
    │   ├── UserNotFoundError         "User Not Found:{s}"
    │   ├── KeyNotExistError          "Key not exist: {s}"
    │   └── ServiceNotValidError      "Service not valid: {s}"
    │   (a contract's coded errors subclass ReasonError or NoPermissionError with
    │    CodedError: ``TaskNotFoundError``; an ENVELOPE verb's ``ok:false`` is NotOkError)
    ├── ConfigError                   the runtime could not find or read its configuration
    ├── ContractError                 a contract (verb table, auth expression) is malformed
    └── KEventError                   kevent (the node's event bus, not kRPC) refused:
                                      "CODE: detail", ``.code`` INVALID_PATTERN, ...

The texts are upstream's ``RPCErrors`` Display strings (``kRPC/src/lib.rs``), byte for
byte, because a real BuckyOS client maps them back to kinds by prefix.  Over gRPC every
kind travels as one status code (``grpc_status``) with the same text as details, so a
client raises the same class whatever the wire.

A client may add a **hint** to an error it received (:meth:`RPCError.with_hint`: what the
refusal means for this caller and what to do); ``str(error)`` then reads ``<wire text>;
<hint>``, while ``text`` stays the wire text, which is all a server ever sends.

**Coded errors.** Some services lead a detail with a stable code (``Failed due to reason:
task_not_found: t-1``).  A contract lists its codes (``(buckyos.api).errors``) and codegen
writes one class per code, ``class TaskNotFoundError(CodedError, ReasonError)``, with an
``ErrorCodes`` table on the verbs; a stub turns a received error of that kind whose
detail is the code followed by the end or ``:`` into it (:func:`refine_error`), over
every wire.  ``.code`` is the code, ``.message`` what follows it, ``.detail`` (and so the
wire text) stays byte for byte what was received or will be sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Self

__all__ = [
    "BuckyOSError",
    "CodedError",
    "ConfigError",
    "ContractError",
    "ErrorCodes",
    "InternalError",
    "InvalidPasswordError",
    "InvalidTokenError",
    "KEventError",
    "KeyNotExistError",
    "NoPermissionError",
    "NotOkError",
    "ParseRequestError",
    "ParseResponseError",
    "RPCError",
    "ReasonError",
    "ServiceNotValidError",
    "TokenExpiredError",
    "TransportError",
    "UnknownMethodError",
    "UserNotFoundError",
    "error_from_grpc",
    "error_from_http",
    "error_from_text",
    "is_retryable_reason",
    "refine_error",
]


class BuckyOSError(Exception):
    """Base of everything this library raises on purpose."""


class ConfigError(BuckyOSError):
    """Configuration is missing or malformed; the message names what was tried."""


class ContractError(BuckyOSError):
    """A contract, verb table or auth expression is malformed."""


class KEventError(BuckyOSError):
    """kevent, the node's event bus (not kRPC), refused or failed: upstream's
    ``KEventError`` (``kevent_client.rs``), whose text is ``CODE: detail``.

    ``code`` is one of :attr:`CODES` (``INVALID_PATTERN``, ``DAEMON_UNAVAILABLE``, ...),
    or ``""`` when the answer carried none (an HTTP layer's text: then ``text`` is the
    detail alone); ``status`` is the HTTP status it came with, if any; ``hint`` is client
    context (what to do), shown by ``str`` after the text and never sent.
    """

    CODES: ClassVar[tuple[str, ...]] = (
        "INVALID_EVENTID",
        "INVALID_PATTERN",
        "DAEMON_UNAVAILABLE",
        "TIMER_INVALID_TARGET",
        "TIMER_NOT_FOUND",
        "NOT_SUPPORTED",
        "READER_CLOSED",
        "INTERNAL",
    )

    def __init__(
        self, code: str, detail: str, *, status: int | None = None, hint: str | None = None
    ) -> None:
        super().__init__(code, detail)
        self.code = code
        self.detail = detail
        self.status = status
        self.hint = hint

    @classmethod
    def from_text(cls, text: str, *, status: int | None = None) -> KEventError:
        """Upstream's ``CODE: detail`` text back to its code (no known code: ``""``)."""
        code, sep, detail = text.partition(": ")
        if sep and code in cls.CODES:
            return cls(code, detail, status=status)
        return cls("", text, status=status)

    @property
    def text(self) -> str:
        """Upstream's text: ``CODE: detail`` (the detail alone without a code)."""
        return f"{self.code}: {self.detail}" if self.code else self.detail

    @property
    def retryable(self) -> bool:
        """Whether another try may succeed (the daemon was unavailable)."""
        return self.code == "DAEMON_UNAVAILABLE"

    def __str__(self) -> str:
        return self.text if not self.hint else f"{self.text}; {self.hint}"

    def __repr__(self) -> str:
        return f"KEventError({self.code!r}, {self.detail!r})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, KEventError)
            and other.code == self.code
            and other.detail == self.detail
        )

    def __hash__(self) -> int:
        return hash((KEventError, self.code, self.detail))


class RPCError(BuckyOSError):
    """An upstream kRPC error kind.

    ``detail`` is the variable part; ``text`` (also ``str(error)``) is the exact wire text.
    """

    prefix: ClassVar[str] = ""
    kind: ClassVar[str] = "RPCError"
    # grpc.StatusCode name; kept as a string so this module does not import grpc.
    grpc_status: ClassVar[str] = "UNKNOWN"
    retryable: ClassVar[bool] = False

    def __init_subclass__(
        cls, *, wire: tuple[str, str, str] | None = None, retryable: bool | None = None
    ) -> None:
        """``wire=(prefix, kind, grpc_status)``: an upstream kind's text, name and status."""
        super().__init_subclass__()
        if wire is not None:
            cls.prefix, cls.kind, cls.grpc_status = wire
        if retryable is not None:
            cls.retryable = retryable

    hint: str | None = None
    """Client-side context added to a received error (never sent): see :meth:`with_hint`."""

    def __init__(self, detail: str = "") -> None:
        self.detail = detail
        super().__init__(self.text)

    @property
    def text(self) -> str:
        """The exact wire text (``prefix + detail``), whatever hint was added."""
        return f"{self.prefix}{self.detail}"

    def __str__(self) -> str:
        return self.text if not self.hint else f"{self.text}; {self.hint}"

    def with_hint(self, hint: str | None) -> Self:
        """Add what this error means for the caller and what to do (``str`` shows it after
        the wire text; ``text`` is unchanged); a second hint does not replace the first.
        Returns ``self``, to ``raise err.with_hint(...)``."""
        if hint and not self.hint:
            self.hint = hint
        return self

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.detail!r})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.detail == self.detail

    def __hash__(self) -> int:
        return hash((type(self), self.detail))


class ReasonError(RPCError, wire=("Failed due to reason: ", "ReasonError", "UNKNOWN")):
    """A free-text reason; whether it is retryable depends on its words."""

    @property
    def retryable(self) -> bool:  # type: ignore[override]
        return is_retryable_reason(self.detail)


class TransportError(ReasonError):
    """No answer came back: connection refused or reset, timeout, bad gateway."""

    grpc_status = "UNAVAILABLE"


class InternalError(ReasonError):
    """The handler raised or overran its time; the server keeps serving."""

    grpc_status = "INTERNAL"


class UnknownMethodError(RPCError, wire=("Unknown method: ", "UnknownMethod", "UNIMPLEMENTED")):
    """No such verb (or api) on the server."""


class InvalidTokenError(RPCError, wire=("Invalid token: ", "InvalidToken", "UNAUTHENTICATED")):
    """The token is missing, malformed, or not signed by a trusted key."""


class ParseRequestError(
    RPCError, wire=("Parse Request Error: ", "ParseRequestError", "INVALID_ARGUMENT")
):
    """The request (its params) does not fit the verb."""


class ParseResponseError(
    RPCError, wire=("Parse Response Error: ", "ParserResponseError", "DATA_LOSS")
):
    """The response (its result) does not fit the verb."""


class TokenExpiredError(
    RPCError, wire=("Token expired:", "TokenExpired", "UNAUTHENTICATED"), retryable=True
):
    """The token is past its expiry; a fresh one may succeed."""


class NoPermissionError(RPCError, wire=("No permission:", "NoPermission", "PERMISSION_DENIED")):
    """RBAC refused the caller."""


class InvalidPasswordError(
    RPCError, wire=("Invalid password", "InvalidPassword", "UNAUTHENTICATED")
):
    """The password was wrong; upstream's text carries no detail."""

    def __init__(self, detail: str = "") -> None:
        # Upstream's text carries no detail; keep none so the wire text stays exact.
        super().__init__("")


class UserNotFoundError(RPCError, wire=("User Not Found:", "UserNotFound", "NOT_FOUND")):
    """No such user."""


class KeyNotExistError(RPCError, wire=("Key not exist: ", "KeyNotExist", "NOT_FOUND")):
    """No such key."""


class ServiceNotValidError(
    RPCError, wire=("Service not valid: ", "ServiceNotValid", "UNAVAILABLE"), retryable=True
):
    """The service cannot serve now; another try (or instance) may."""


# Longest prefix first so that no prefix shadows a longer one.
_KINDS: tuple[type[RPCError], ...] = tuple(
    sorted(
        (
            ReasonError,
            UnknownMethodError,
            InvalidTokenError,
            ParseRequestError,
            ParseResponseError,
            TokenExpiredError,
            NoPermissionError,
            InvalidPasswordError,
            UserNotFoundError,
            KeyNotExistError,
            ServiceNotValidError,
        ),
        key=lambda cls: -len(cls.prefix),
    )
)

_RETRYABLE_WORDS = (
    "timeout",
    "timed out",
    "connection refused",
    "connection reset",
    "temporarily unavailable",
    "502",
    "503",
    "504",
    "leader",
    "unreachable",
    "broken pipe",
    "eof",
    "dns",
)
_FATAL_WORDS = (
    "not supported",
    "not implemented",
    "invalid",
    "parse",
    "permission",
    "forbidden",
    "unauthorized",
    "401",
    "403",
    "contract",
    "schema",
    "format",
)


def is_retryable_reason(reason: str) -> bool:
    """Upstream's classification of a free-text reason (retryable words win)."""
    lowered = reason.lower()
    if any(word in lowered for word in _RETRYABLE_WORDS):
        return True
    return not any(word in lowered for word in _FATAL_WORDS)


def error_from_text(text: str) -> RPCError:
    """Map an upstream error string back to its kind by prefix.

    A text that matches no known prefix is kept whole as a ``ReasonError`` detail, so
    nothing the server said is lost.
    """
    for cls in _KINDS:
        if text.startswith(cls.prefix):
            if cls is InvalidPasswordError:
                return InvalidPasswordError()
            return cls(text[len(cls.prefix) :])
    return ReasonError(text)


# For a foreign gRPC server whose details follow no kRPC prefix.
_BY_GRPC_STATUS: dict[str, type[RPCError]] = {
    "UNIMPLEMENTED": UnknownMethodError,
    "UNAUTHENTICATED": InvalidTokenError,
    "INVALID_ARGUMENT": ParseRequestError,
    "PERMISSION_DENIED": NoPermissionError,
    "NOT_FOUND": KeyNotExistError,
    "DATA_LOSS": ParseResponseError,
    "INTERNAL": InternalError,
    "UNAVAILABLE": TransportError,
    "DEADLINE_EXCEEDED": TransportError,
}


def error_from_grpc(status_name: str, details: str | None) -> RPCError:
    """Rebuild the error a server sent over gRPC.

    Our servers put the exact kRPC text in the details, so the text decides; the status
    code only matters for a foreign server whose details follow no kRPC prefix.
    """
    if details:
        error = error_from_text(details)
        if type(error) is not ReasonError or details.startswith(ReasonError.prefix):
            if status_name == "INTERNAL" and type(error) is ReasonError:
                return InternalError(error.detail)
            return error
    detail = details or status_name
    cls = _BY_GRPC_STATUS.get(status_name, ReasonError)
    if cls is TransportError and status_name == "DEADLINE_EXCEEDED":
        return TransportError(f"timeout: {detail}")
    if cls is TransportError:
        return TransportError(f"unavailable: {detail}")
    return cls(detail)


# A kRPC server answers RPC failures with 200; any other status is the HTTP layer's.
_BY_HTTP_STATUS: dict[int, type[RPCError]] = {
    **dict.fromkeys((400, 405, 411, 413, 415), ParseRequestError),
    **dict.fromkeys((401, 403), NoPermissionError),
    404: ServiceNotValidError,
    **dict.fromkeys((408, 429, 502, 503, 504), TransportError),
}


def error_from_http(status: int, detail: str) -> RPCError:
    """The error kind of a non-2xx HTTP answer to a kRPC call (``detail`` says which)."""
    return _BY_HTTP_STATUS.get(status, ReasonError)(detail)


# --- coded errors ----------------------------------------------------------------------


class CodedError(RPCError):
    """An error whose detail leads with a stable code: ``<code>: <message>``.

    A contract's generated classes mix this into their kind, e.g.
    ``class TaskNotFoundError(CodedError, ReasonError)`` with ``code = "task_not_found"``.
    ``TaskNotFoundError("t-1")`` is the detail ``task_not_found: t-1``; a received one
    keeps its detail byte for byte (:meth:`from_detail`).
    """

    code: ClassVar[str] = ""

    def __init__(self, message: str = "") -> None:
        super().__init__(f"{self.code}: {message}" if message else self.code)

    @classmethod
    def from_detail(cls, detail: str) -> Self:
        """The error for a received ``detail`` (which starts with the code), kept as is."""
        error = cls.__new__(cls)
        RPCError.__init__(error, detail)
        return error

    @property
    def message(self) -> str:
        """What follows the code (and its ``:`` and spaces); empty when nothing does."""
        return self.detail[len(self.code) :].removeprefix(":").lstrip(" ")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


def _has_code(detail: str, code: str) -> bool:
    """Upstream's rule: the detail is the code, or the code followed by ``:``."""
    return detail.startswith(code) and (len(detail) == len(code) or detail[len(code)] == ":")


class ErrorCodes:
    """The coded error classes of one contract, by the kind they travel as.

    Generated ``_rpc.py`` modules build one per service and hang it on its verbs
    (``MethodDescriptor.errors``); :func:`refine_error` reads it.
    """

    __slots__ = ("_by_kind", "classes")

    def __init__(self, *classes: type[CodedError]) -> None:
        self.classes = classes
        by_kind: dict[type[RPCError], list[type[CodedError]]] = {}
        for cls in classes:
            kind = next(
                (k for k in cls.__mro__[1:] if k in _KINDS and not issubclass(k, CodedError)),
                None,
            )
            if kind is None or not cls.code:
                raise ContractError(
                    f"{cls.__name__}: a coded error needs a code and an upstream kind "
                    "(ReasonError, NoPermissionError, ...) among its bases"
                )
            by_kind.setdefault(kind, []).append(cls)
        # Longest code first, so that no code shadows a longer one it prefixes.
        self._by_kind = {
            kind: tuple(sorted(group, key=lambda c: -len(c.code)))
            for kind, group in by_kind.items()
        }

    def refine(self, error: RPCError) -> RPCError:
        """The coded class for ``error`` (same detail, hint kept), or ``error`` itself."""
        group = self._by_kind.get(type(error))
        if group is None:
            return error
        detail = error.detail
        for cls in group:
            if _has_code(detail, cls.code):
                refined = cls.from_detail(detail)
                refined.hint = error.hint
                return refined
        return error

    def spec(self) -> list[dict[str, str]]:
        """JSON-ready: each code, its kind and class."""
        return [
            {"code": cls.code, "kind": kind.kind, "class": cls.__name__}
            for cls in self.classes
            for kind, group in self._by_kind.items()
            if cls in group
        ]


class NotOkError(ReasonError):
    """An ENVELOPE verb answered ``{"ok": false, ...}`` (workflow's convention).

    ``code`` is the envelope's ``error``; the detail (and so the text) its ``message``,
    else its ``error``; ``envelope`` the whole object.  Raised by a handler, it makes the
    kRPC server answer with ``envelope`` (or ``{"ok": false, "error": code, "message":
    message}`` when made from words).  Over gRPC only the text travels.
    """

    def __init__(
        self, message: str = "", *, code: str = "", envelope: Mapping[str, Any] | None = None
    ) -> None:
        if envelope is not None and not message and not code:
            code, message = _envelope_words(envelope)
        super().__init__(message or code)
        self.code = code or message
        if envelope is None:
            envelope = {"ok": False, "error": self.code}
            if message and message != self.code:
                envelope["message"] = message
        self.envelope: dict[str, Any] = dict(envelope)

    @classmethod
    def from_envelope(cls, envelope: Mapping[str, Any]) -> NotOkError:
        """The error for a received ``{"ok": false, ...}`` object."""
        return cls(envelope=envelope)


def _envelope_words(envelope: Mapping[str, Any]) -> tuple[str, str]:
    """``(code, text)`` of an ``ok: false`` envelope: its ``error``, and its ``message``
    (else its ``error``; else what there is)."""
    error = envelope.get("error")
    message = envelope.get("message")
    code = error if isinstance(error, str) else ""
    if isinstance(message, str) and message:
        return code, message
    if code:
        return code, code
    return code, "ok:false" + (f" ({error!r})" if error is not None else "")


def refine_error(method: Any, error: RPCError) -> RPCError:
    """What a client raises for ``error`` received from ``method``: its contract's coded
    class (``method.errors``), a ``NotOkError`` for an ENVELOPE verb's plain reason, or
    ``error`` itself.  Called on the error path only (stubs do it for every wire)."""
    codes: ErrorCodes | None = method.errors
    if codes is not None:
        refined = codes.refine(error)
        if refined is not error:
            return refined
    if type(error) is ReasonError and method.result_shape.name == "ENVELOPE":
        refined_ok = NotOkError(error.detail)
        refined_ok.hint = error.hint
        return refined_ok
    return error
