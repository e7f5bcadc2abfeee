"""Item 7: ``enforce`` on a token seen for the first time (an Ed25519 signature check)
against the same call on a token already verified (the verifier's cache).

Upstream's ``enforce(token, action, resource)`` (:meth:`Authorizer.enforce`): token,
then RBAC.  The first-call side uses a fresh token per call (signed beforehand, same
user and app, so the RBAC decision is cached on both sides, as in a real server where a
user's new session token arrives); the repeat side reuses one token.  The result is how
many times cheaper the repeat call is.
"""

from __future__ import annotations

import itertools

from buckyos.runtime.security import RbacEnforcer, TokenVerifier, TrustKeyStore, public_key_from_jwk
from buckyos.runtime.server import Authorizer

from .context import Context
from .harness import Budget, Row, best_of, measure_sync

__all__ = ["ITEM", "TITLE", "run"]

ITEM = "7"
TITLE = "enforce: first call (signature verify) vs repeat call (cache)"
RESOURCE = "obj://config/users/alice/apps/bench/settings"
# Signing is as slow as verifying: cap the fresh tokens the full run makes.
_MAX_FRESH = 4000


def run(ctx: Context) -> list[Row]:
    trust = TrustKeyStore()
    trust.set_owner_key(public_key_from_jwk(ctx.keys.owner_jwk))
    verifier = TokenVerifier(trust, cache_size=2 * _MAX_FRESH + 16)
    authorizer = Authorizer(verifier, RbacEnforcer(tail="g, alice, users\ng, bench, app"))
    budget = ctx.budget
    fresh_budget = Budget(
        calls=min(budget.calls, _MAX_FRESH // budget.rounds - budget.warmup),
        seconds=budget.seconds,
        warmup=budget.warmup,
        rounds=budget.rounds,
    )
    count = (fresh_budget.calls + fresh_budget.warmup) * budget.rounds
    fresh = iter([ctx.keys.token(nonce=n) for n in range(1, count + 1)])
    nonces = itertools.count(count + 1)
    token = ctx.token
    if authorizer.enforce(token, "read", RESOURCE) != ("alice", "bench"):
        raise RuntimeError("enforce did not identify alice/bench")

    def first() -> object:
        # A token never seen; should the prepared ones run out, sign one more.
        new = next(fresh, None) or ctx.keys.token(nonce=next(nonces))
        return authorizer.enforce(new, "read", RESOURCE)

    def repeat() -> object:
        return authorizer.enforce(token, "read", RESOURCE)

    checks = verifier.signature_checks
    cold, warm = best_of(
        budget,
        lambda: measure_sync("first call", first, fresh_budget),
        lambda: measure_sync("repeat call", repeat, budget),
    )
    if verifier.signature_checks - checks < cold.calls:
        raise RuntimeError("the first-call side hit the cache: the comparison is void")
    return [Row(ITEM, "enforce: first call vs cached repeat", cold, warm, "cost_ratio", 100.0)]
