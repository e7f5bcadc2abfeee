"""Failed password logins slow down, per user and per client address.

Upstream answers every guess at once (300 wrong passwords in 0.29 s, and the right one
works right after).  Here each user and each client address has a failure count:

- the first :data:`FREE_FAILURES` (5) failures cost nothing (typos, a stale saved password);
- from then on the next attempt waits ``2 ** (failures - 5)`` seconds after the last
  failure (1, 2, 4, 8, 16 s), at most :data:`MAX_DELAY` (30 s): about 120 guesses an hour
  per user and per address once the delay is at its cap, never a lockout (a legitimate
  user locked out by an attacker's guesses waits 30 s at most);
- a count is forgotten :data:`FORGET_AFTER` (15 minutes) after its last failure, and a
  successful login clears the user's count (not the address's: an attacker with one
  account of his own must not clear his address's count by logging into it).

While throttled an attempt is refused at once, before the password is looked at
(``Failed due to reason: too many failed logins for bob; retry in 4 s``): refusing fast
holds no connection open and says when to come back; delaying the answer instead would let
an attacker hold thousands of connections open.  A refused attempt adds no failure.

Memory stays bounded whatever an attacker sprays: each table keeps at most
:data:`MAX_ENTRIES` counts, dropping the one whose last failure is oldest.  User counts are
made only for users that exist (an unknown name counts against the address only), and an
IPv6 address counts by its /64 network (one host is usually given a whole /64).

Addresses: :func:`client_address` reads the TCP peer as the wires give it
(``127.0.0.1:5555``, gRPC's ``ipv4:127.0.0.1:5555`` / ``ipv6:[::1]:5555``).
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, Protocol

from buckyos.runtime import ReasonError

__all__ = [
    "FORGET_AFTER",
    "FREE_FAILURES",
    "MAX_DELAY",
    "MAX_ENTRIES",
    "Counts",
    "FailureCounter",
    "LoginThrottle",
    "address_key",
    "client_address",
]

FREE_FAILURES: Final = 5
MAX_DELAY: Final = 30.0
FORGET_AFTER: Final = 15 * 60.0
MAX_ENTRIES: Final = 10_000
_UNKNOWN_PEER: Final = "unknown"  # in-process calls have no address; they share one count
_MAX_ADDRESS_TEXT: Final = 64  # an unparsable peer is kept as text, cut to this


@dataclass(slots=True)
class _Entry:
    failures: int
    last: float


class Counts(Protocol):
    """Failure counts by key: :class:`FailureCounter` in memory (one node), or
    :class:`~.etcd_state.EtcdFailureCounter` shared by every node of a zone on etcd."""

    def __len__(self) -> int: ...
    def wait(self, key: str, now: float) -> float: ...
    def fail(self, key: str, now: float) -> None: ...
    def reset(self, key: str) -> None: ...
    def failures(self, key: str) -> int: ...
    def clear(self) -> None: ...


@dataclass(slots=True, kw_only=True)
class FailureCounter:
    """Failure counts by key, bounded to ``max_entries`` (oldest last failure dropped)."""

    free: int = FREE_FAILURES
    max_delay: float = MAX_DELAY
    forget_after: float = FORGET_AFTER
    max_entries: int = MAX_ENTRIES
    # Ordered by last failure: fail() moves a key to the end.
    _entries: OrderedDict[str, _Entry] = field(init=False, default_factory=OrderedDict)

    def __len__(self) -> int:
        return len(self._entries)

    def delay(self, failures: int) -> float:
        """Seconds between the last failure and the next allowed attempt."""
        if failures < self.free:
            return 0.0
        # min() before the power would overflow: 2**1000 is fine for ints, not floats.
        return float(min(self.max_delay, 2 ** min(failures - self.free, 62)))

    def wait(self, key: str, now: float) -> float:
        """Seconds ``key`` must still wait (0: it may try now)."""
        entry = self._entries.get(key)
        if entry is None:
            return 0.0
        if now - entry.last > self.forget_after:
            del self._entries[key]
            return 0.0
        delay = self.delay(entry.failures)
        # Clamped: a clock that stepped back never makes anyone wait longer than the delay.
        return max(0.0, min(delay, entry.last + delay - now))

    def fail(self, key: str, now: float) -> None:
        """Count one failure of ``key`` at ``now``."""
        entries = self._entries
        entry = entries.get(key)
        if entry is None or now - entry.last > self.forget_after:
            entries[key] = _Entry(1, now)
        else:
            entry.failures += 1
            entry.last = now
        entries.move_to_end(key)
        # Forget stale counts from the old end (a few per call keeps this O(1)), then
        # hold the bound.
        for _ in range(8):
            oldest = next(iter(entries.values()))
            if now - oldest.last <= self.forget_after:
                break
            entries.popitem(last=False)
        while len(entries) > self.max_entries:
            entries.popitem(last=False)

    def reset(self, key: str) -> None:
        self._entries.pop(key, None)

    def failures(self, key: str) -> int:
        entry = self._entries.get(key)
        return 0 if entry is None else entry.failures

    def clear(self) -> None:
        self._entries.clear()


class LoginThrottle:
    """The two counters of password logins, on an injectable clock (unix seconds).

    All methods are synchronous.  In memory (the default) they are called from the event
    loop, so a check, the password comparison and the count that follows happen with no
    other login in between.  With counters shared through etcd (``blocking=True``: each
    call is an etcd round trip) verify-hub runs them in a worker thread, one login at a
    time per node; each count is a compare-and-set in etcd, so no node loses another's."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        users: Counts | None = None,
        addresses: Counts | None = None,
        blocking: bool = False,
    ) -> None:
        self.clock = clock
        self.users: Counts = users if users is not None else FailureCounter()
        self.addresses: Counts = addresses if addresses is not None else FailureCounter()
        self.blocking = blocking

    @staticmethod
    def _refuse(wait: float, whom: str) -> ReasonError:
        return ReasonError(f"too many failed logins {whom}; retry in {math.ceil(wait)} s")

    def check_address(self, address: str) -> None:
        """Refuse (``ReasonError``) while ``address`` is throttled."""
        wait = self.addresses.wait(address, self.clock())
        if wait > 0:
            raise self._refuse(wait, f"from {address}")

    def check_user(self, user_id: str) -> None:
        """Refuse (``ReasonError``) while ``user_id`` is throttled."""
        wait = self.users.wait(user_id, self.clock())
        if wait > 0:
            raise self._refuse(wait, f"for {user_id}")

    def failed(self, address: str, user_id: str | None) -> None:
        """A wrong password (``user_id`` given) or an unknown user (``None``)."""
        now = self.clock()
        self.addresses.fail(address, now)
        if user_id is not None:
            self.users.fail(user_id, now)

    def succeeded(self, user_id: str) -> None:
        self.users.reset(user_id)

    def clear(self) -> None:
        self.users.clear()
        self.addresses.clear()


def address_key(host: str) -> str:
    """The count an address belongs to: an IPv4 address itself, an IPv6 address its /64
    (an IPv4-mapped IPv6 address is its IPv4 address); other text as given, cut short."""
    text = host.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])  # drop an IPv6 zone id
    except ValueError:
        return text[:_MAX_ADDRESS_TEXT] or _UNKNOWN_PEER
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def client_address(peer: str | None) -> str:
    """The host part of a wire's peer text (``host:port``, ``[v6]:port``, gRPC's
    ``ipv4:host:port`` / ``ipv6:[v6]:port``), as :func:`address_key` counts it."""
    if not peer:
        return _UNKNOWN_PEER
    text = peer
    if text.startswith(("ipv4:", "ipv6:")):
        text = text[5:]
    elif text.startswith("unix:"):
        return "unix"
    if text.startswith("["):
        end = text.find("]")
        return address_key(text[1:end] if end > 0 else text)
    try:
        return address_key(str(ipaddress.ip_address(text)))  # a bare address, no port
    except ValueError:
        pass
    host, sep, port = text.rpartition(":")  # uvicorn gives an IPv6 host bare: "::1:5555"
    return address_key(host if sep and port.isdigit() else text)
