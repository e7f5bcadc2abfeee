"""``services/<api>/info`` read through system_config and kept briefly
(:class:`ServiceInfoCache`), the last good info outliving a system_config restart.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from buckyos.runtime.client.service_records import (
    ServiceInfo,
    parse_service_info,
    service_info_key,
)
from buckyos.runtime.errors import ServiceNotValidError

__all__ = ["ServiceInfoCache"]


@dataclass(slots=True)
class _Entry:
    until: float
    info: ServiceInfo | None = None
    error: BaseException | None = None
    good: ServiceInfo | None = None
    """The last good info, served while a refresh fails for lack of an answer."""
    good_until: float = 0.0


class ServiceInfoCache:
    """``services/<api>/info`` read through ``fetch`` and kept for ``ttl`` seconds.

    ``fetch(key)`` returns the raw system_config value of ``services/<api>/info`` (``None``
    when the key is missing).  A missing or malformed info is remembered only for
    ``error_ttl`` seconds, so a service that appears is found quickly.  When a refresh
    fails because system_config did not answer (``fetch`` raised), the last good info is
    served for up to ``max_stale`` seconds more: routing should survive a system_config
    restart.  Thread-safe; ``aget`` is the asyncio twin (same entries).
    """

    def __init__(
        self,
        fetch: Callable[[str], str | None],
        *,
        ttl: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        error_ttl: float = 1.0,
        max_stale: float = 300.0,
    ) -> None:
        self._fetch = fetch
        self.ttl = ttl
        self.error_ttl = min(error_ttl, ttl)
        self.max_stale = max_stale
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}

    def _cached(self, api: str) -> ServiceInfo | None:
        """The fresh cached answer (raising a fresh cached error), or ``None`` to fetch."""
        with self._lock:
            entry = self._entries.get(api)
        if entry is None or self._clock() >= entry.until:
            return None
        if entry.error is not None:
            # The same object raised again: drop the old traceback rather than grow it.
            raise entry.error.with_traceback(None)
        return entry.info

    def _store(self, api: str, text: str | None, failure: BaseException | None) -> ServiceInfo:
        """Record one fetch's outcome and return the info to use (or raise)."""
        now = self._clock()
        with self._lock:
            previous = self._entries.get(api)
            if failure is not None:
                # No answer from system_config: keep routing on what we knew.
                if previous is not None and previous.good is not None and now < previous.good_until:
                    previous.until = now + self.error_ttl
                    previous.info, previous.error = previous.good, None
                    return previous.good
                self._entries[api] = _Entry(now + self.error_ttl, error=failure)
                raise failure
            try:
                info = parse_service_info(api, text)
            except ServiceNotValidError as exc:
                self._entries[api] = _Entry(now + self.error_ttl, error=exc)
                raise
            self._entries[api] = _Entry(
                now + self.ttl, info=info, good=info, good_until=now + self.ttl + self.max_stale
            )
            return info

    def get(self, api: str) -> ServiceInfo:
        """The service info of ``api``; raises ``ServiceNotValidError`` when missing or
        malformed, or what ``fetch`` raised when there is no earlier info to fall back on."""
        cached = self._cached(api)
        if cached is not None:
            return cached
        try:
            text = self._fetch(service_info_key(api))
        except Exception as exc:
            return self._store(api, None, exc)
        return self._store(api, text, None)

    async def aget(self, api: str, afetch: Callable[[str], Awaitable[str | None]]) -> ServiceInfo:
        """:meth:`get` with an async ``afetch(key)`` (same cache)."""
        cached = self._cached(api)
        if cached is not None:
            return cached
        try:
            text = await afetch(service_info_key(api))
        except Exception as exc:
            return self._store(api, None, exc)
        return self._store(api, text, None)

    def invalidate(self, api: str | None = None) -> None:
        """Forget ``api``'s info (all when ``None``); the next ``get`` reads it again."""
        with self._lock:
            if api is None:
                self._entries.clear()
            else:
                self._entries.pop(api, None)
