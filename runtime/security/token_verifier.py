"""Verifying session tokens: :class:`TokenVerifier` over a
:class:`~buckyos.runtime.security.trust_keys.TrustKeyStore`, with its cache, and
:func:`is_expiry_error` for those who renew.

Wire facts (upstream ``buckyos-api`` / ``verify_hub``): decode failures are
``Invalid token: JWT decode error:<kind>`` (``ExpiredSignature``, ``InvalidSignature``...),
60 s leeway.

We do better than upstream: upstream verifies with the algorithm the token names; we accept
**EdDSA only** and refuse anything else before any key is touched.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Final

import jwt

from buckyos.runtime.errors import InvalidTokenError, TokenExpiredError
from buckyos.runtime.security.session_token import (
    _DECODE,
    _JWS,
    ALGORITHM,
    Clock,
    SessionToken,
    _check_shape,
    _decode_header,
    _load_json_object,
)
from buckyos.runtime.security.trust_keys import TrustKeyStore

__all__ = [
    "DEFAULT_LEEWAY",
    "TokenVerifier",
    "is_expiry_error",
]

DEFAULT_LEEWAY: Final = 60
_EXPIRED: Final = "JWT decode error:ExpiredSignature"


def is_expiry_error(error: BaseException) -> bool:
    """Whether ``error`` means "the token expired, renew it".

    Upstream words it ``Invalid token: JWT decode error:ExpiredSignature`` today and
    ``Token expired:<token>`` in the classic era; clients treat both the same.
    """
    if isinstance(error, TokenExpiredError):
        return True
    return isinstance(error, InvalidTokenError) and error.detail == _EXPIRED


@dataclass(frozen=True, slots=True)
class _CacheEntry:
    token: SessionToken
    valid_until: float
    generation: int


class TokenVerifier:
    """Verify session tokens against a :class:`~.trust_keys.TrustKeyStore`. Thread-safe.

    EdDSA only; ``exp`` required; ``exp``/``nbf``/``iat`` checked with ``leeway`` seconds;
    a token with ``aud`` (a refresh token) is refused unless ``allow_refresh``.

    Verified tokens are cached by their exact string until ``exp + leeway`` (bounded LRU of
    ``cache_size``; 0 disables); the cache is emptied whenever the trust store changes.
    :attr:`signature_checks` counts real signature verifications.
    """

    def __init__(
        self,
        trust: TrustKeyStore,
        *,
        leeway: float = DEFAULT_LEEWAY,
        cache_size: int = 4096,
        clock: Clock = time.time,
    ) -> None:
        if leeway < 0:
            raise ValueError("leeway must be >= 0")
        if cache_size < 0:
            raise ValueError("cache_size must be >= 0")
        self.trust = trust
        self.leeway = leeway
        self.cache_size = cache_size
        self._clock = clock
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, _CacheEntry] = OrderedDict()
        self._generation = trust.generation
        self._signature_checks = 0
        self._cache_hits = 0

    @property
    def signature_checks(self) -> int:
        with self._lock:
            return self._signature_checks

    @property
    def cache_hits(self) -> int:
        with self._lock:
            return self._cache_hits

    def cache_len(self) -> int:
        with self._lock:
            return len(self._cache)

    def clear_cache(self) -> None:
        with self._lock:
            self._cache.clear()

    def verify(self, token: str, *, allow_refresh: bool = False) -> SessionToken:
        """Verify ``token`` and return its claims, or raise.

        Raises ``InvalidTokenError`` (malformed, wrong algorithm, bad signature, expired,
        not yet valid, refresh token) or ``NoPermissionError`` (kid not trusted).
        """
        # The hot path: a token seen before, read without the lock (a dict read is atomic
        # under the GIL; writers hold the lock).  A cached token already passed the shape
        # check; a stale generation or an expired entry takes the locked path below.
        entry = self._cache.get(token) if type(token) is str else None
        if (
            entry is not None
            and entry.generation == self.trust.generation
            and self._clock() <= entry.valid_until
        ):
            self._cache_hits += 1  # a statistic: a lost increment under threads is harmless
            result = entry.token
        else:
            token = _check_shape(token)
            result = self._from_cache(token) or self._verify_fresh(token)
        if result.aud and not allow_refresh:
            raise InvalidTokenError("refresh token cannot be used as session token")
        return result

    def _sync_generation_locked(self) -> int:
        generation = self.trust.generation
        if generation != self._generation:
            self._cache.clear()
            self._generation = generation
        return generation

    def _from_cache(self, token: str) -> SessionToken | None:
        if self.cache_size == 0:
            return None
        now = self._clock()
        with self._lock:
            self._sync_generation_locked()
            entry = self._cache.get(token)
            if entry is None:
                return None
            if now > entry.valid_until:
                del self._cache[token]
                return None
            self._cache.move_to_end(token)
            self._cache_hits += 1
            return entry.token

    def _verify_fresh(self, token: str) -> SessionToken:
        header = _decode_header(token)
        alg = header.get("alg")
        if alg != ALGORITHM:
            raise InvalidTokenError(
                f"{_DECODE}InvalidAlgorithm: algorithm {alg!r} is not allowed (EdDSA only)"
            )
        kid = header.get("kid")
        key, kind, generation = self.trust.lookup_entry(kid)
        with self._lock:
            self._signature_checks += 1
        try:
            decoded = _JWS.decode_complete(token, key=key, algorithms=[ALGORITHM])
        except jwt.InvalidSignatureError as err:
            raise InvalidTokenError(f"{_DECODE}InvalidSignature") from err
        except jwt.InvalidAlgorithmError as err:
            raise InvalidTokenError(
                f"{_DECODE}InvalidAlgorithm: algorithm {alg!r} is not allowed (EdDSA only)"
            ) from err
        except jwt.PyJWTError as err:
            raise InvalidTokenError(f"{_DECODE}InvalidToken ({err})") from err
        payload: bytes = decoded["payload"]
        try:
            claims = _load_json_object(payload)
        except ValueError as err:
            raise InvalidTokenError(f"{_DECODE}{err}") from err
        session = SessionToken.from_parts(token, header, claims, signer=kind)
        now = self._clock()
        self._check_times(session, now)
        self._remember(token, session, generation, now)
        return session

    def _check_times(self, session: SessionToken, now: float) -> None:
        # Upstream (jsonwebtoken): expired when exp < now - leeway.
        if session.exp < now - self.leeway:
            raise InvalidTokenError(_EXPIRED)
        if session.nbf is not None and session.nbf > now + self.leeway:
            raise InvalidTokenError(f"{_DECODE}ImmatureSignature")
        if session.iat is not None and session.iat > now + self.leeway:
            raise InvalidTokenError(f"{_DECODE}ImmatureSignature (iat in the future)")

    def _remember(self, token: str, session: SessionToken, generation: int, now: float) -> None:
        if self.cache_size == 0:
            return
        valid_until = session.exp + self.leeway
        with self._lock:
            # Keys changed while we verified: this result may rest on a key no longer trusted.
            if self._sync_generation_locked() != generation:
                return
            self._cache[token] = _CacheEntry(session, valid_until, generation)
            self._cache.move_to_end(token)
            if len(self._cache) > self.cache_size:
                # Full: first drop what has expired anyway, then the least recently used.
                for stale in [k for k, e in self._cache.items() if now > e.valid_until]:
                    del self._cache[stale]
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
