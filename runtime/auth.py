"""Auth trees of the AGL binder (``afb_auth``) and their textual form.

A verb's auth requirement is a small tree: ``No``, ``Yes``, ``Token``, ``Loa(n)``,
``Permission(resource, action)``, ``And``, ``Or``, ``Not``.  Contracts write it as text,
parsed here (by codegen, to validate, and by the runtime for verbs registered by hand)::

    yes | no | token | check-token | loa>=N | loa N | <resource>:<action>
    a and b | a or b | not a | ( a )          precedence: or < and < not

A permission's resource may hold ``{field}`` placeholders filled from the request's
top-level fields, e.g. ``obj://config/{key}:read``.  ``str(node)`` gives back canonical
text that parses to the same tree.  Evaluation lives with the server, not here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from buckyos.runtime.errors import ContractError

__all__ = [
    "And",
    "AuthNode",
    "Loa",
    "No",
    "Not",
    "Or",
    "Permission",
    "Token",
    "Yes",
    "parse_auth",
]

MAX_LOA = 3


@dataclass(frozen=True, slots=True)
class Yes:
    def __str__(self) -> str:
        return "yes"


@dataclass(frozen=True, slots=True)
class No:
    def __str__(self) -> str:
        return "no"


@dataclass(frozen=True, slots=True)
class Token:
    def __str__(self) -> str:
        return "token"


@dataclass(frozen=True, slots=True)
class Loa:
    level: int

    def __str__(self) -> str:
        return f"loa>={self.level}"


_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True, slots=True)
class Permission:
    """An RBAC check of ``action`` on ``resource`` for the caller's (user, app)."""

    resource: str
    action: str
    placeholders: tuple[str, ...] = field(default=(), compare=False)

    def __str__(self) -> str:
        return f"{self.resource}:{self.action}"

    @staticmethod
    def of(resource: str, action: str) -> Permission:
        return Permission(resource, action, _placeholders(resource))

    def fill(self, values: dict[str, object]) -> str:
        """The resource with each ``{name}`` replaced by ``str(values[name])``."""
        if not self.placeholders:
            return self.resource
        return _PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), self.resource)


@dataclass(frozen=True, slots=True)
class Not:
    operand: AuthNode

    def __str__(self) -> str:
        inner = str(self.operand)
        if isinstance(self.operand, And | Or):
            inner = f"({inner})"
        return f"not {inner}"


@dataclass(frozen=True, slots=True)
class _Pair:
    """The two operands of ``and`` / ``or``."""

    left: AuthNode
    right: AuthNode


@dataclass(frozen=True, slots=True)
class And(_Pair):
    def __str__(self) -> str:
        return f"{_wrap(self.left, Or)} and {_wrap(self.right, Or)}"


@dataclass(frozen=True, slots=True)
class Or(_Pair):
    def __str__(self) -> str:
        return f"{self.left} or {self.right}"


AuthNode = Yes | No | Token | Loa | Permission | Not | And | Or


def _wrap(node: AuthNode, kind: type) -> str:
    return f"({node})" if isinstance(node, kind) else str(node)


def _placeholders(resource: str) -> tuple[str, ...]:
    names: list[str] = []
    for match in _PLACEHOLDER.finditer(resource):
        name = match.group(1)
        if not _IDENT.fullmatch(name):
            raise ContractError(
                f"placeholder {{{name}}} in {resource!r} is not a field name "
                "(use {field} with letters, digits and _)"
            )
        names.append(name)
    stripped = _PLACEHOLDER.sub("", resource)
    if "{" in stripped or "}" in stripped:
        raise ContractError(f"unbalanced brace in permission resource {resource!r}")
    return tuple(names)


# --- parsing -------------------------------------------------------------------------

_TOKEN_RE = re.compile(r"\s*(?:(\()|(\))|(loa\s*>=\s*\d+|loa\s+\d+)|([^\s()]+))")
_LOA_RE = re.compile(r"loa(?:\s*>=\s*|\s+)(\d+)")
_KEYWORDS = {"and", "or", "not", "yes", "no", "token", "check-token", "loa"}


@dataclass(frozen=True, slots=True)
class _Tok:
    text: str
    pos: int


def _tokenize(text: str) -> Iterator[_Tok]:
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            return
        match = _TOKEN_RE.match(text, pos)
        if match is None:  # pragma: no cover - the pattern matches any non-space run
            raise ContractError(f"auth expression {text!r}: cannot read at column {pos + 1}")
        start = match.start(match.lastindex or 0)
        yield _Tok(match.group(match.lastindex or 0), start)
        pos = match.end()


# The binary operators, loosest first.
_BINARY: tuple[tuple[str, type[Or] | type[And]], ...] = (("or", Or), ("and", And))


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = list(_tokenize(text))
        self.i = 0

    def fail(self, message: str, tok: _Tok | None = None) -> ContractError:
        where = f"column {tok.pos + 1}" if tok else "the end"
        return ContractError(f"auth expression {self.text!r}: {message} at {where}")

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> _Tok:
        tok = self.peek()
        if tok is None:
            raise self.fail("expression ends too early")
        self.i += 1
        return tok

    def parse(self) -> AuthNode:
        if not self.toks:
            return Yes()
        node = self.parse_binary()
        extra = self.peek()
        if extra is not None:
            raise self.fail(f"unexpected {extra.text!r} (missing 'and' or 'or'?)", extra)
        return node

    def accept(self, word: str) -> bool:
        """Take the next token if it is the keyword ``word`` (in any case)."""
        tok = self.peek()
        if tok is None or tok.text.lower() != word:
            return False
        self.i += 1
        return True

    def parse_binary(self, level: int = 0) -> AuthNode:
        """``a or b``, whose operands are ``c and d`` (``_BINARY``), left-associative."""
        if level == len(_BINARY):
            return self.parse_not()
        word, node_type = _BINARY[level]
        node = self.parse_binary(level + 1)
        while self.accept(word):
            node = node_type(node, self.parse_binary(level + 1))
        return node

    def parse_not(self) -> AuthNode:
        if self.accept("not"):
            return Not(self.parse_not())
        return self.parse_atom()

    def parse_atom(self) -> AuthNode:
        tok = self.take()
        word = tok.text.lower()
        if tok.text == "(":
            node = self.parse_binary()
            close = self.peek()
            if close is None or close.text != ")":
                raise self.fail("missing ')'", close)
            self.i += 1
            return node
        if tok.text == ")":
            raise self.fail("unexpected ')'", tok)
        if word == "yes":
            return Yes()
        if word == "no":
            return No()
        if word in ("token", "check-token"):
            return Token()
        loa = _LOA_RE.fullmatch(word)
        if loa is not None:
            level = int(loa.group(1))
            if level > MAX_LOA:
                raise self.fail(f"LOA level {level} is above {MAX_LOA}", tok)
            return Loa(level)
        if word in _KEYWORDS:
            raise self.fail(f"{tok.text!r} needs an operand", tok)
        return self.permission(tok)

    def permission(self, tok: _Tok) -> Permission:
        resource, sep, action = tok.text.rpartition(":")
        if not sep or not resource or not action or "/" in action:
            raise self.fail(
                f"{tok.text!r} is not a permission: write <resource>:<action>, "
                "e.g. obj://config/{key}:read",
                tok,
            )
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_|-]*", action):
            raise self.fail(f"action {action!r} must be a word such as read, write or all", tok)
        try:
            return Permission.of(resource, action)
        except ContractError as exc:
            raise self.fail(str(exc), tok) from None


def parse_auth(text: str) -> AuthNode:
    """Parse an auth expression; an empty text means ``yes``.

    Raises ``ContractError`` naming the column and what to write instead.
    """
    return _Parser(text).parse()


def walk(node: AuthNode) -> Iterator[AuthNode]:
    """Every node of the tree, depth first."""
    yield node
    if isinstance(node, Not):
        yield from walk(node.operand)
    elif isinstance(node, And | Or):
        yield from walk(node.left)
        yield from walk(node.right)


def needs_token(node: AuthNode) -> bool:
    """``Token`` and ``Permission`` imply a token check (binder rule)."""
    return any(isinstance(n, Token | Permission) for n in walk(node))


def placeholders(node: AuthNode) -> tuple[str, ...]:
    """All placeholder names used by the permissions of the tree, in order."""
    names: list[str] = []
    for n in walk(node):
        if isinstance(n, Permission):
            names.extend(p for p in n.placeholders if p not in names)
    return tuple(names)
