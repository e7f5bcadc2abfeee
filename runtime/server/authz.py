"""Authorization on the server side: upstream's ``enforce`` and the binder's auth trees.

Two entry points, one set of rules:

- :meth:`Authorizer.enforce` is upstream's ``enforce(req, action, resource)``
  (``buckyos-api``): a token is required (``No permission:No session token``), its kid
  must be trusted (``No permission:kid <kid> not found``), its signature and ``exp`` must
  hold (``Invalid token: JWT decode error:...``), a token with ``aud`` (a refresh token) is
  refused, the user is ``sub``, the app is ``appid`` else ``kernel``, a sudo token is
  checked as ``su_<user>``, the app ``kernel`` skips the user check only in a zone-trusted
  token (:attr:`~.session_token.SessionToken.zone_trusted`; upstream: in any), and a denial reads
  ``No permission:enforce failed,userid:..,appid:..,resource:..,action:..``.
- :meth:`Authorizer.authorize` checks a verb the way the AGL binder does, in its order:
  the token (when any session flag or a ``Token``/``Permission`` node needs one), then the
  LOA of the session flags, then the auth tree.

The tree is evaluated with three outcomes, grant, deny and **error**: a node that raises
(an RBAC backend down, a placeholder the message lacks) is an error, which denies and
which ``Not`` keeps an error, so a failure can never turn into a grant.  ``And``/``Or``
short-circuit; an error short-circuits ``And`` and loses to a grant in ``Or``.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, NamedTuple

from google.protobuf.message import Message

from buckyos.runtime.auth import And, AuthNode, Loa, No, Not, Or, Permission, Token, Yes
from buckyos.runtime.descriptor import MethodDescriptor
from buckyos.runtime.errors import NoPermissionError, RPCError
from buckyos.runtime.security.rbac import RbacEnforcer
from buckyos.runtime.security.revocation import RevocationSet
from buckyos.runtime.security.session_token import SessionToken
from buckyos.runtime.security.token_verifier import TokenVerifier
from buckyos.runtime.server.request import ANONYMOUS, Caller
from buckyos.runtime.server.session import loa_of_token, session_key_of

__all__ = ["Authorizer", "Verdict"]

_log: Final = logging.getLogger(__name__)
_MAX_PLANS: Final = 4096

SessionLoa = Callable[[str, str], int]
"""``(session_key, api) -> level`` raised in the session by ``req.set_loa``."""


class Verdict(enum.IntEnum):
    """The outcome of one auth node."""

    DENY = 0
    GRANT = 1
    ERROR = 2
    """The node could not be evaluated: a denial that ``Not`` does not invert."""


@dataclass(slots=True)
class _Eval:
    """State of one tree evaluation: its inputs and the reason of the latest denial."""

    api: str
    krpc: str
    message: Message
    claims: SessionToken | None
    loa: int
    reason: str = ""
    error: str = ""


class _Plan:
    """What a verb's check needs, computed once per descriptor."""

    __slots__ = ("loa", "needs_token", "tree")

    def __init__(self, method: MethodDescriptor[Any, Any]) -> None:
        self.needs_token = method.needs_token
        self.loa = method.session.loa
        # "yes", and "token" once the token verified, grant without walking the tree.
        self.tree = not isinstance(method.auth, Yes | Token)


class _CachedCaller(NamedTuple):
    claims: SessionToken
    base_loa: int
    caller: Caller


_MAX_CALLERS: Final = 4096


class Authorizer:
    """Token verification, LOA and RBAC for a server; thread-safe, cheap per call.

    Verified tokens are cached by the :class:`~.token_verifier.TokenVerifier` and
    RBAC decisions by the :class:`~buckyos.runtime.security.rbac.RbacEnforcer`; a verb's plan
    (does it need a token, which LOA) is computed once per descriptor.  ``revocations``,
    when given, is consulted for every token right after it verified and before anything
    else (a revoked session or an inactive user is refused like a bad token).
    """

    __slots__ = ("_callers", "_plans", "rbac", "revocations", "verifier")

    def __init__(
        self,
        verifier: TokenVerifier,
        rbac: RbacEnforcer,
        *,
        revocations: RevocationSet | None = None,
    ) -> None:
        self.verifier = verifier
        self.rbac = rbac
        self.revocations = revocations
        self._plans: dict[MethodDescriptor[Any, Any], _Plan] = {}
        self._callers: dict[tuple[str, str], _CachedCaller] = {}

    # -- upstream enforce ------------------------------------------------------------------

    def verify(self, token: str | None) -> SessionToken:
        """A verified session token, or upstream's refusal.

        ``NoPermissionError("No session token")`` when there is none; kid, signature,
        expiry and refresh-token refusals come from the verifier with upstream's texts; a
        revoked session or an inactive user is ``InvalidTokenError`` from ``revocations``.
        """
        if token is None:
            raise NoPermissionError("No session token")
        claims = self.verifier.verify(token)
        if self.revocations is not None:
            self.revocations.check(claims)
        return claims

    def check(self, claims: SessionToken, action: str, resource: str) -> None:
        """RBAC for a verified token (sudo as ``su_<user>``; app ``kernel`` exempt from the
        user check only when the token is zone-trusted); upstream's denial text."""
        self.rbac.check(
            claims.sub,
            claims.app_id,
            resource,
            action,
            sudo=claims.sudo,
            trusted=claims.zone_trusted,
        )

    def enforce(self, token: str | None, action: str, resource: str) -> tuple[str, str]:
        """Upstream ``enforce``: ``(user_id, app_id)`` when allowed, else raise."""
        claims = self.verify(token)
        self.check(claims, action, resource)
        return claims.sub, claims.app_id

    def check_caller(self, caller: Caller, action: str, resource: str) -> None:
        """:meth:`check` for a request's caller (``No session token`` when anonymous)."""
        if caller.claims is None:
            raise NoPermissionError("No session token")
        self.check(caller.claims, action, resource)

    # -- binder verbs ----------------------------------------------------------------------

    def caller_of(
        self, claims: SessionToken, api: str, session_loa: SessionLoa | None = None
    ) -> Caller:
        """The :class:`Caller` of a verified token for ``api`` (LOA raised by the session).

        Callers are cached per (verified token, api) and reused while their LOA holds, so a
        repeat call builds nothing.
        """
        cache_key = (claims.token, api)
        cached = self._callers.get(cache_key)
        if cached is not None and cached.claims is claims:
            loa = cached.base_loa
            if session_loa is not None and loa < 3:
                loa = max(loa, session_loa(cached.caller.session or "", api))
            if loa == cached.caller.loa:
                return cached.caller
        key = session_key_of(claims)
        base = loa = loa_of_token(claims)
        if session_loa is not None and loa < 3:
            loa = max(loa, session_loa(key, api))
        caller = Caller(claims.sub, claims.app_id, key, loa, claims.token, claims)
        if len(self._callers) >= _MAX_CALLERS:
            self._callers.clear()  # bounded; the verifier's cache is the real one
        self._callers[cache_key] = _CachedCaller(claims, base, caller)
        return caller

    def _plan(self, method: MethodDescriptor[Any, Any]) -> _Plan:
        plan = self._plans.get(method)
        if plan is None:
            if len(self._plans) >= _MAX_PLANS:  # descriptors built per call: stay bounded
                self._plans.clear()
            plan = self._plans[method] = _Plan(method)
        return plan

    def authorize(
        self,
        method: MethodDescriptor[Any, Any],
        message: Message,
        token: str | None,
        *,
        session_loa: SessionLoa | None = None,
    ) -> Caller:
        """Check one call of ``method`` as the binder does; the caller, or raise.

        1. Token: when the verb needs one (CHECK/CLOSE/LOA flags, ``Token`` or
           ``Permission`` nodes) it must verify, else the upstream refusal is raised; when
           it does not, a token that verifies still identifies the caller and one that
           does not is ignored (the call is anonymous).
        2. LOA: the session flags' level against the caller's (token LOA, raised by
           ``session_loa``).
        3. The auth tree; a denial raises ``NoPermissionError`` with the reason.

        Anything unexpected on the way (a verifier or RBAC fault) is a denial too.
        """
        try:
            return self._authorize(method, message, token, session_loa)
        except RPCError:
            raise
        except Exception as exc:
            _log.warning("%s/%s: cannot check the caller: %r", method.api, method.krpc, exc)
            raise NoPermissionError(
                f"{method.krpc}: cannot check the caller ({type(exc).__name__})"
            ) from None

    def _authorize(
        self,
        method: MethodDescriptor[Any, Any],
        message: Message,
        token: str | None,
        session_loa: SessionLoa | None,
    ) -> Caller:
        plan = self._plan(method)
        caller = self._caller(plan, method, token, session_loa)
        if plan.tree:
            self.check_tree(method, message, caller)
        return caller

    def _caller(
        self,
        plan: _Plan,
        method: MethodDescriptor[Any, Any],
        token: str | None,
        session_loa: SessionLoa | None,
    ) -> Caller:
        """Steps 1 and 2 of :meth:`authorize`: the token, then the LOA."""
        if plan.needs_token:
            caller = self.caller_of(self.verify(token), method.api, session_loa)
        elif token is None:
            caller = ANONYMOUS
        else:
            try:
                caller = self.caller_of(self.verify(token), method.api, session_loa)
            except RPCError:
                caller = ANONYMOUS
        if caller.loa < plan.loa:
            raise NoPermissionError(
                f"{method.krpc} needs LOA {plan.loa}, the session has LOA {caller.loa}"
            )
        return caller

    def authenticate(
        self,
        method: MethodDescriptor[Any, Any],
        token: str | None,
        *,
        session_loa: SessionLoa | None = None,
    ) -> None:
        """The token and LOA checks of ``method`` alone, before its message exists.

        A wire whose params do not decode asks this first: the binder checks the token
        before the verb reads its arguments, so a call without a valid token hears about
        the token, not about its params.  (The auth tree needs the message: not here.)
        """
        try:
            self._caller(self._plan(method), method, token, session_loa)
        except RPCError:
            raise
        except Exception as exc:
            raise NoPermissionError(
                f"{method.krpc}: cannot check the caller ({type(exc).__name__})"
            ) from None

    def check_tree(
        self, method: MethodDescriptor[Any, Any], message: Message, caller: Caller
    ) -> None:
        """Evaluate ``method.auth`` for ``caller``; raise ``NoPermissionError`` unless granted."""
        verdict, reason = self.evaluate(method, message, caller)
        if verdict is not Verdict.GRANT:
            raise NoPermissionError(reason)

    def evaluate(
        self, method: MethodDescriptor[Any, Any], message: Message, caller: Caller
    ) -> tuple[Verdict, str]:
        """The verdict of ``method.auth`` for ``caller`` and the reason of a denial."""
        state = _Eval(method.api, method.krpc, message, caller.claims, caller.loa)
        verdict = self._node(method.auth, state)
        if verdict is Verdict.GRANT:
            return verdict, ""
        if verdict is Verdict.ERROR and state.error:
            return verdict, state.error
        return verdict, state.reason or f"{method.krpc}: denied by auth '{method.auth}'"

    def _node(self, node: AuthNode, state: _Eval) -> Verdict:
        """One node: GRANT, DENY or ERROR (an exception while evaluating it)."""
        try:
            return self._evaluate(node, state)
        except Exception as exc:
            _log.warning(
                "%s/%s: auth node %s could not be evaluated: %r", state.api, state.krpc, node, exc
            )
            if not state.error:
                state.error = f"{state.krpc}: cannot check {node} ({type(exc).__name__})"
            return Verdict.ERROR

    def _evaluate(self, node: AuthNode, state: _Eval) -> Verdict:
        if isinstance(node, Yes):
            return Verdict.GRANT
        if isinstance(node, Permission):
            return self._permission(node, state)
        if isinstance(node, And):
            left = self._node(node.left, state)
            if left is not Verdict.GRANT:
                return left
            return self._node(node.right, state)
        if isinstance(node, Or):
            left = self._node(node.left, state)
            if left is Verdict.GRANT:
                return left
            right = self._node(node.right, state)
            if right is Verdict.GRANT:
                return right
            return Verdict.ERROR if Verdict.ERROR in (left, right) else Verdict.DENY
        if isinstance(node, Not):
            inner = self._node(node.operand, state)
            if inner is Verdict.ERROR:
                return inner
            if inner is Verdict.GRANT:
                state.reason = f"{state.krpc}: denied by auth '{node}'"
                return Verdict.DENY
            return Verdict.GRANT
        if isinstance(node, Token):
            if state.claims is None:
                state.reason = "No session token"
                return Verdict.DENY
            return Verdict.GRANT
        if isinstance(node, Loa):
            if state.loa >= node.level:
                return Verdict.GRANT
            state.reason = f"{state.krpc} needs LOA {node.level}, the session has LOA {state.loa}"
            return Verdict.DENY
        if isinstance(node, No):
            state.reason = f"{state.krpc} is closed to every caller (auth: no)"
            return Verdict.DENY
        raise TypeError(f"not an auth node: {type(node).__name__}")

    def _permission(self, node: Permission, state: _Eval) -> Verdict:
        claims = state.claims
        if claims is None:
            state.reason = "No session token"
            return Verdict.DENY
        message = state.message
        values = {name: getattr(message, name) for name in node.placeholders}
        resource = node.fill(values)
        try:
            self.check(claims, node.action, resource)
        except NoPermissionError as denial:
            state.reason = denial.detail
            return Verdict.DENY
        return Verdict.GRANT
