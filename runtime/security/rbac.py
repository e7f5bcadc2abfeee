"""RBAC enforcement with upstream's (casbin-rs) semantics, on top of pycasbin.

Upstream (``buckyos-api/src/rbac_config.rs`` and the ``rbac`` crate of ``buckyos-base``)
keeps one casbin enforcer built from a model text and a policy text.  The policy is the
default policy with the zone's own tail (``system/rbac/policy``) appended; a request is
allowed when the app is allowed and, unless the app id is the literal string ``kernel``,
the user is allowed too::

    r_app = E(app_id, resource, action)
    if app_id == "kernel":
        return r_app
    return r_app and E(user_subject, resource, action)   # su_<user> when sudo

Upstream takes that ``kernel`` app id from any token, a user's own password login
included: any user could skip the user check by logging in "as" app ``kernel``.  Here the
exemption needs ``trusted=True``, which callers pass only for a zone-trusted token
(:attr:`~.session_token.SessionToken.zone_trusted`: signed by the zone owner or a
zone device, or a verify-hub session of a device or service).  Any other token with app
id ``kernel`` passes the app check (role ``kernel``) and then the user check, so it gets
exactly its user's rights.  Upstream's own test vectors are replayed with ``trusted=True``.

pycasbin is close to casbin-rs, but not identical.  This module closes the gaps:

* ``keyGet3`` is not registered by pycasbin: the default model would fail with
  ``FunctionNotDefined``.  We register a casbin-rs faithful one.
* ``regexMatch`` is anchored at the start in pycasbin (``re.match``) while casbin-rs uses
  ``Regex::is_match`` (search anywhere): ``overwrite`` matches ``read|write`` upstream.
* ``keyMatch3`` in casbin-rs rewrites every ``\\{[^/]*\\}`` (``{}`` and two placeholders
  in one segment included) to ``[^/]+``; pycasbin only rewrites non-empty ``{x}`` pieces
  one at a time.  Both anchor with ``^...$``, but Python's ``$`` also matches before a
  trailing newline; we anchor with ``\\Z`` (Rust's ``$``).
* Requests holding a control character (below 0x20, or 0x7f) are refused before they
  reach casbin at all.

The effect ``priority(p.eft) || deny`` without a priority column means "the first
matching ``p`` rule, in insertion order, decides; nothing matching denies".  pycasbin's
``PriorityEffector`` stops at the first allow or deny, which is exactly that.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Final, TypedDict, Unpack

import casbin  # type: ignore[import-untyped, unused-ignore]

from buckyos.runtime.errors import ContractError, NoPermissionError

__all__ = [
    "DEFAULT_RBAC_MODEL",
    "DEFAULT_RBAC_POLICY",
    "KERNEL_APP_ID",
    "RbacEnforcer",
    "is_allowed",
    "key_get3",
    "key_match3",
    "overlap_rbac_policy",
    "regex_match",
    "sudo_user_id",
]

#: The app id that skips the user check (the literal string, not the ``kernel`` role), in a
#: zone-trusted token only (``enforce(..., trusted=True)``).
KERNEL_APP_ID: Final = "kernel"

#: Prefix of the sudo subject (upstream ``RPCSessionToken::get_default_sudo_userid``).
_SUDO_PREFIX: Final = "su_"

#: Upstream ``DEFAULT_RBAC_MODEL`` (``buckyos-api/src/rbac_config.rs``), byte for byte.
DEFAULT_RBAC_MODEL: Final = (
    "[request_definition]\n"
    "r = sub,obj,act\n"
    "\n"
    "[policy_definition]\n"
    "p = sub, obj, act, eft\n"
    "\n"
    "[role_definition]\n"
    "g = _, _\n"
    "\n"
    "[policy_effect]\n"
    "e = priority(p.eft) || deny\n"
    "\n"
    "[matchers]\n"
    "m = (g(r.sub, p.sub) || r.sub == p.sub)"
    ' && ((r.sub == keyGet3(r.obj, p.obj, p.sub) || keyGet3(r.obj, p.obj, p.sub) =="")'
    " && keyMatch3(r.obj,p.obj))"
    ' && (p.act == "all" || regexMatch(r.act, p.act))'
)

#: Upstream ``DEFAULT_RBAC_POLICY`` (``buckyos-api/src/rbac_config.rs``), byte for byte.
DEFAULT_RBAC_POLICY: Final = """\
p, kernel, obj://*, all,allow
p, ood, obj://*, all,allow
p, root, obj://*, all,allow
p, su_admin, obj://*, all,allow

p, system, obj://dfs/security/*,all,deny
p, system, obj://config/security/*,all,deny
p, system, obj://*, all,allow

p, frame, obj://config/boot/*, read,allow
p, frame, obj://config/system/*,read,allow
p, frame, obj://config/agents/{agent}/{key},read,allow
p, frame, obj://config/services/{frame}/*,all,allow
p, frame, obj://config/services/{service}/info,read,allow
p, frame, obj://config/users*,read,allow

p, app, obj://config/boot/*, read,allow
p, app, obj://config/users/{user}/apps/{app}/settings,read|write,allow
p, app, obj://config/users/{user}/apps/{app}/spec,read,allow
p, app, obj://config/users/{user}/apps/{app}/info,read|write,allow
p, app, obj://config/services/{service}/info,read,allow

p, agent, obj://config/boot/*, read,allow
p, agent, obj://config/agents/{agent}/*,read,allow
p, agent, obj://config/users/{user}/agents/{agent}/settings,read|write,allow
p, agent, obj://config/users/{user}/agents/{agent}/spec,read,allow
p, agent, obj://config/users/{user}/agents/{agent}/info,read|write,allow
p, agent, obj://config/services/{service}/info,read,allow
p, agent, obj://config/services/{agent}/instances/{node},write,allow

p, admin,obj://config/boot/*, read,allow
p, admin,obj://config/system/*,read,allow
p, admin,obj://config/agents/{agent}/doc,read,allow
p, admin,obj://config/agents/{agent}/settings,read|write,allow
p, admin,obj://config/users/{admin}/*,read,allow
p, admin,obj://config/users/{admin}/profile,read|write,allow
p, admin,obj://config/users/{admin}/apps/{app}/{key},read|write,allow
p, admin,obj://config/users/{admin}/agents/{agent}/{key},read|write,allow
p, admin,obj://config/services/aicc/settings,read|write,allow
p, admin,obj://config/services/msg-center/settings,read|write,allow
p, admin,obj://config/services/{service}/instances/{node},write,allow
p, admin,obj://config/services/*,read,allow
p, admin,obj://task/{admin},read,allow

p, users,obj://config/boot/*, read,allow
p, users,obj://config/agents/{agent}/doc,read,allow
# p, su_user,obj://config/users/{user}/*,all,allow
p, users,obj://config/users/{users}/*,read,allow
p, users,obj://config/users/{users}/profile,read|write,allow
p, users,obj://config/users/{users}/apps/{app}/{key},read|write,allow
p, users,obj://config/users/{users}/agents/{agent}/{key},read|write,allow
p, users,obj://config/services/{service}/info,read,allow
p, users,obj://config/services/{service}/instances/{node},write,allow
p, users,obj://task/{users},read,allow

g, node-daemon, kernel
g, scheduler, kernel
g, system-config, kernel
g, verify-hub, kernel
g, cyfs-gateway, kernel
g, buckycli, kernel

g, task-manager, system
g, kmsg, system
g, control-panel, system

g, repo-service, frame
g, aicc, frame
g, msg-center, frame
g, opendan, frame
g, slog_server, frame
g, smb_service, frame"""

_DEFAULT_CACHE_SIZE: Final = 4096

_log = logging.getLogger(__name__)

# casbin-rs: MAT_P = \{[^/]*\} (greedy: "{a}_{b}" in one segment is a single piece).
_KEY_MATCH3_PLACEHOLDER: Final = re.compile(r"\{[^/]*\}")
# casbin-rs key_get3: placeholders found lazily, one capture group each.
_KEY_GET3_PLACEHOLDER: Final = re.compile(r"\{[^/]+?\}")
_CONTROL_CHARS: Final = re.compile(r"[\x00-\x1f\x7f]")


# --------------------------------------------------------------------------- functions


_MAX_CACHED_REQUEST: Final = 1024
"""Characters of a request (subject, resource, action together) worth caching."""


@functools.lru_cache(maxsize=2048)
def _compile(pattern: str) -> re.Pattern[str] | None:
    """Compile once; ``None`` for a pattern Python cannot compile (casbin-rs would panic)."""
    try:
        return re.compile(pattern)
    except re.error:
        return None


def _anchored(pattern: str) -> str:
    # Rust's "^...$" without the multi-line flag: "$" is the very end of the text only,
    # which is Python's "\Z".  Kept as "^" + p + "\Z" (not fullmatch) so that a top-level
    # "|" in a policy pattern binds the way it does upstream.
    return "^" + pattern + r"\Z"


def regex_match(key: str, pattern: str) -> bool:
    """casbin-rs ``regexMatch``: ``Regex::new(pattern).is_match(key)``, an unanchored search.

    An invalid pattern never matches (upstream panics on it).
    """
    compiled = _compile(pattern)
    return compiled is not None and compiled.search(key) is not None


def key_match3(key: str, pattern: str) -> bool:
    """casbin-rs ``keyMatch3``: ``/*`` matches anything (any depth), ``{x}`` one segment.

    ``pattern`` is rewritten ``/*`` -> ``/.*``, then every ``\\{[^/]*\\}`` -> ``[^/]+``, and
    matched against the whole of ``key``.
    """
    rewritten = pattern.replace("/*", "/.*")
    rewritten = _KEY_MATCH3_PLACEHOLDER.sub("[^/]+", rewritten)
    return regex_match(key, _anchored(rewritten))


def key_get3(key: str, pattern: str, path_var: str) -> str:
    """casbin-rs ``keyGet3``: the segment of ``key`` that placeholder ``{path_var}`` took.

    Returns ``""`` when ``key`` does not match ``pattern`` or ``pattern`` has no such
    placeholder.
    """
    rewritten = pattern.replace("/*", "/.*")
    names = [m.group(0)[1:-1] for m in _KEY_GET3_PLACEHOLDER.finditer(rewritten)]
    rewritten = _KEY_GET3_PLACEHOLDER.sub("([^/]+?)", rewritten)
    rewritten = rewritten.replace("{", "\\{")
    compiled = _compile(_anchored(rewritten))
    if compiled is None:
        return ""
    found = compiled.search(key)
    if found is None:
        return ""
    for index, name in enumerate(names):
        if name == path_var:
            try:
                value = found.group(index + 1)
            except IndexError:
                return ""
            return value if value is not None else ""
    return ""


def _key_match3_func(*args: Any) -> bool:
    return key_match3(str(args[0]), str(args[1]))


def _key_get3_func(*args: Any) -> str:
    return key_get3(str(args[0]), str(args[1]), str(args[2]))


def _regex_match_func(*args: Any) -> bool:
    return regex_match(str(args[0]), str(args[1]))


_FUNCTIONS: Final[dict[str, Callable[..., Any]]] = {
    "keyMatch3": _key_match3_func,
    "keyGet3": _key_get3_func,
    "regexMatch": _regex_match_func,
}


# --------------------------------------------------------------------------- policy text


def overlap_rbac_policy(default_policy: str, policy_tail: str) -> str:
    """Upstream ``overlap_rbac_policy``: ``default + "\\n" + tail``, both trimmed.

    Either one alone when the other is empty.
    """
    default_policy = default_policy.strip()
    policy_tail = policy_tail.strip()
    if not default_policy:
        return policy_tail
    if not policy_tail:
        return default_policy
    return f"{default_policy}\n{policy_tail}"


def sudo_user_id(user_id: str) -> str:
    """The subject a sudo session of ``user_id`` is checked as (``su_<user>``)."""
    return _SUDO_PREFIX + user_id


_Rule = tuple[str, tuple[str, ...]]


def _line_error(label: str, number: int, line: str, reason: str) -> ContractError:
    return ContractError(f"RBAC {label} line {number}: {reason}: {line!r}")


def _parse_policy(
    text: str, label: str, p_arity: int, g_arity: int | None, eft_index: int | None
) -> list[_Rule]:
    """Upstream ``rbac::create_enforcer`` line loop, strict.

    Per line: trim; skip empty lines and ``#`` comments; split on ``,``; trim each part;
    ``p`` -> policy rule, ``g`` -> grouping rule.  Upstream silently drops a line that is
    neither and lets casbin fail later on a wrong field count; here such a line, a wrong
    field count, an empty field, a control character or an effect other than
    ``allow``/``deny`` raises :class:`ContractError` naming the line number and text.
    """
    rules: list[_Rule] = []
    # Rust's str::lines(): split on "\n" only (a trailing "\r" goes with the trim).
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = [part.strip() for part in line.split(",")]
        kind, values = parts[0], tuple(parts[1:])
        if kind == "p":
            expected = p_arity
        elif kind == "g":
            if g_arity is None:
                raise _line_error(label, number, line, "the model has no [role_definition]")
            expected = g_arity
        else:
            raise _line_error(label, number, line, f"expected a 'p' or 'g' rule, not {kind!r}")
        if len(values) != expected:
            reason = f"a '{kind}' rule has {expected} fields, this one {len(values)}"
            raise _line_error(label, number, line, reason)
        if any(not value for value in values):
            raise _line_error(label, number, line, "empty field")
        if any(_CONTROL_CHARS.search(value) for value in values):
            raise _line_error(label, number, line, "control character in a field")
        if kind == "p" and eft_index is not None and values[eft_index] not in ("allow", "deny"):
            reason = f"effect must be 'allow' or 'deny', not {values[eft_index]!r}"
            raise _line_error(label, number, line, reason)
        rules.append((kind, values))
    return rules


class _Compiled:
    """One pycasbin enforcer, never modified once built, plus the texts behind it."""

    __slots__ = ("base_policy", "enforcer", "model", "policy", "request_size", "tail")

    def __init__(self, model: str, base_policy: str, tail: str) -> None:
        self.model = model
        self.base_policy = base_policy
        self.tail = tail.strip()
        self.policy = overlap_rbac_policy(base_policy, tail)
        try:
            casbin_model = casbin.model.Model()
            casbin_model.load_model_from_text(model)
            enforcer = casbin.Enforcer(casbin_model)
            request_size = len(casbin_model["r"]["r"].tokens)
            p_tokens: list[str] = list(casbin_model["p"]["p"].tokens)
            g_value: str | None = None
            if "g" in casbin_model.keys() and "g" in casbin_model["g"]:
                g_value = str(casbin_model["g"]["g"].value)
        except Exception as exc:  # pycasbin raises RuntimeError, KeyError, ...
            raise ContractError(f"RBAC model is malformed: {exc}") from exc
        # "g = _, _ # sub, role" (the rbac crate's model) counts two fields.
        g_arity = None if g_value is None else g_value.split("#", 1)[0].count("_")
        eft_index = p_tokens.index("p_eft") if "p_eft" in p_tokens else None

        for name, function in _FUNCTIONS.items():
            enforcer.add_function(name, function)

        # Each text keeps its own line numbers; the rules of both, concatenated, are the
        # rules of overlap_rbac_policy(base, tail) in the same order.
        rules = _parse_policy(base_policy, "policy", len(p_tokens), g_arity, eft_index)
        rules += _parse_policy(tail, "policy tail", len(p_tokens), g_arity, eft_index)
        for kind, values in rules:
            if kind == "p":
                enforcer.add_policy(*values)
            else:
                enforcer.add_grouping_policy(*values)
        self.enforcer: Any = enforcer
        self.request_size = request_size

    def evaluate(self, request: tuple[str, ...]) -> bool:
        try:
            return bool(self.enforcer.enforce(*request))
        except Exception as exc:  # upstream: "enforce error: ..." logged, then false
            _log.warning("RBAC enforce error on %r: %r", request, exc)
            return False


# --------------------------------------------------------------------------- enforcer


class _How(TypedDict, total=False):
    """How :meth:`RbacEnforcer.check` checks, as :meth:`RbacEnforcer.enforce` takes it."""

    sudo: bool
    trusted: bool


class RbacEnforcer:
    """Thread-safe RBAC decisions with upstream's ``rbac::enforce`` rule and a cache.

    ``model`` and ``policy`` default to upstream's current ``DEFAULT_RBAC_MODEL`` and
    ``DEFAULT_RBAC_POLICY``; ``tail`` (the zone's ``system/rbac/policy``) is appended
    with :func:`overlap_rbac_policy`.  Every policy change bumps :attr:`generation` and
    drops the decision cache.
    """

    def __init__(
        self,
        model: str = DEFAULT_RBAC_MODEL,
        policy: str = DEFAULT_RBAC_POLICY,
        *,
        tail: str = "",
        cache_size: int = _DEFAULT_CACHE_SIZE,
    ) -> None:
        if cache_size < 0:
            raise ValueError("cache_size must be >= 0")
        self._lock = threading.RLock()
        self._compiled = _Compiled(model, policy, tail)
        self._cache: OrderedDict[tuple[str, ...], bool] = OrderedDict()
        self._cache_size = cache_size
        self._generation = 0

    # -- state ---------------------------------------------------------------------------

    @property
    def model(self) -> str:
        return self._compiled.model

    @property
    def policy(self) -> str:
        """The effective policy text: ``overlap_rbac_policy(policy, tail)``."""
        return self._compiled.policy

    @property
    def policy_tail(self) -> str:
        return self._compiled.tail

    @property
    def generation(self) -> int:
        """Incremented on every policy or model change."""
        return self._generation

    def set_policy_tail(self, tail: str) -> None:
        """Replace the zone tail, keeping the model and base policy.

        Raises :class:`ContractError` (and keeps the current policy) if ``tail`` is
        malformed.
        """
        with self._lock:
            current = self._compiled
            self._install(_Compiled(current.model, current.base_policy, tail))

    def reload(self, model: str, policy: str, *, tail: str = "") -> None:
        """Replace model, base policy and tail at once; atomic, all or nothing."""
        with self._lock:
            self._install(_Compiled(model, policy, tail))

    def _install(self, compiled: _Compiled) -> None:
        with self._lock:
            self._compiled = compiled
            self._cache.clear()
            self._generation += 1

    def roles_of(self, subject: str) -> frozenset[str]:
        """Every role ``subject`` holds through ``g`` rules, directly or by inheritance."""
        with self._lock:
            try:
                roles = self._compiled.enforcer.get_implicit_roles_for_user(subject)
            except Exception as exc:  # a model without roles, a broken role manager
                _log.warning("RBAC roles of %r: %r", subject, exc)
                return frozenset()
            return frozenset(str(role) for role in roles)

    # -- decisions -----------------------------------------------------------------------

    def enforce_raw(self, *request: str) -> bool:
        """One casbin decision for ``request`` in the model's request order.

        ``False`` if any value holds a control character, or the request size is wrong.
        """
        # The hot path: a decision made before, read without the lock (a dict read is atomic
        # under the GIL).  Requests with control characters are never cached.
        cached = self._cache.get(request)
        if cached is not None:
            return cached
        if any(_CONTROL_CHARS.search(value) for value in request):
            return False
        with self._lock:
            cached = self._cache.get(request)
            if cached is not None:
                self._cache.move_to_end(request)
                return cached
            compiled = self._compiled
            if len(request) != compiled.request_size:
                return False
            decision = compiled.evaluate(request)
            # Requests carry caller-chosen resources: a bound on entries alone would let
            # a client park up to cache_size x 1 MiB here.  Long ones are not cached.
            if self._cache_size and sum(map(len, request)) <= _MAX_CACHED_REQUEST:
                self._cache[request] = decision
                if len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
            return decision

    def enforce(
        self,
        user_id: str,
        app_id: str | None,
        resource: str,
        action: str,
        *,
        sudo: bool = False,
        trusted: bool = False,
    ) -> bool:
        """Upstream ``rbac::enforce``: the app must be allowed and the user too; a sudo
        session is checked as ``su_<user>``.

        The literal app id ``"kernel"`` (``None`` means ``"kernel"``) skips the user check
        only when ``trusted`` (the caller's token is zone-trusted); otherwise the user
        check applies to it as to any app.  ``trusted`` changes nothing else.
        """
        app = KERNEL_APP_ID if app_id is None else app_id
        if not self.enforce_raw(app, resource, action):
            return False
        if trusted and app == KERNEL_APP_ID:
            return True
        subject = sudo_user_id(user_id) if sudo else user_id
        return self.enforce_raw(subject, resource, action)

    def check(
        self, user_id: str, app_id: str | None, resource: str, action: str, **how: Unpack[_How]
    ) -> None:
        """Like :meth:`enforce` (``sudo=``, ``trusted=`` the same) but raises upstream's
        :class:`NoPermissionError` on denial."""
        if self.enforce(user_id, app_id, resource, action, **how):
            return
        app = KERNEL_APP_ID if app_id is None else app_id
        raise NoPermissionError(
            f"enforce failed,userid:{_printable(user_id)},appid:{_printable(app)},"
            f"resource:{_printable(resource)},action:{_printable(action)}"
        )


def _printable(value: str) -> str:
    return _CONTROL_CHARS.sub(lambda m: f"\\x{ord(m.group(0)):02x}", value)


@functools.lru_cache(maxsize=8)
def _default_enforcer(policy_tail: str) -> RbacEnforcer:
    return RbacEnforcer(tail=policy_tail)


def is_allowed(
    user_id: str,
    app_id: str | None,
    resource: str,
    action: str,
    *,
    sudo: bool = False,
    trusted: bool = False,
    policy_tail: str = "",
) -> bool:
    """One decision under the default model and policy plus ``policy_tail``
    (``trusted``: see :meth:`RbacEnforcer.enforce`).

    Enforcers are shared per tail (a few are kept), so repeated calls are cheap.
    """
    return _default_enforcer(policy_tail.strip()).enforce(
        user_id, app_id, resource, action, sudo=sudo, trusted=trusted
    )
