"""An api's binder events published to kevent when it opts in (and only then), through the
reference kevent over a real socket, without ever holding up the pusher."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

import pytest

from buckyos.runtime import ContractError
from buckyos.runtime.client import KEventClient
from buckyos.runtime.program import publish_events_to_kevent
from buckyos.runtime.security import RbacEnforcer, TokenVerifier, TrustKeyStore
from buckyos.runtime.server import Binding
from tests.kevent_server import served_kevent


def _binding(*apis: str) -> Binding:
    binding = Binding("svc", verifier=TokenVerifier(TrustKeyStore()), rbac=RbacEnforcer())
    for api in apis:
        binding.add_api(api)
    return binding


def _wait(done: Callable[[], bool], within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not done():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.01)


def test_an_api_that_opts_in_publishes_push_and_broadcast_to_kevent() -> None:
    binding = _binding("notes", "quiet")
    with served_kevent() as kevent:
        reader = KEventClient(kevent.url, token=kevent.trusted())
        with reader, reader.subscribe(["/notes/**", "/quiet/**"]) as events:
            # The app's own token: kevent lets it publish under /notes/** only.
            mirror = publish_events_to_kevent(
                binding,
                KEventClient(kevent.url, token=kevent.token("alice", "notes")),
                api="notes",
            )
            try:
                # No link is subscribed: the links get nothing, kevent still gets it.
                assert binding.make_event("saved", api="notes").push({"id": "n1"}) == 0
                binding.broadcast("notes/all/cleared", [1, 2])
                binding.make_event("changed", api="quiet").push({"not": "published"})
                got = [events.get(timeout=5), events.get(timeout=5)]
                assert [(e.eventid, e.data) for e in got if e is not None] == [
                    ("/notes/saved", {"id": "n1"}),
                    ("/notes/all/cleared", [1, 2]),
                ]
                assert events.get(timeout=0.5) is None  # "quiet" did not opt in
                _wait(lambda: mirror.published == 2)
                assert (mirror.failed, mirror.dropped) == (0, 0)
            finally:
                mirror.close()
            # Detached: no more copies.
            binding.mirror_events(None, "notes")
            binding.make_event("saved", api="notes").push({"id": "n2"})
            assert events.get(timeout=0.5) is None
    binding.close()


def test_names_kevent_cannot_carry_are_skipped_and_counted() -> None:
    binding = _binding("notes")
    with served_kevent() as kevent:
        mirror = publish_events_to_kevent(binding, KEventClient(kevent.url, token=kevent.trusted()))
        try:
            binding.make_event("a:b").push(1)  # ':' is a binder name, not a kevent id
            binding.make_event("/".join("x" * 9)).push(2)  # deeper than kevent's 8
            assert mirror.skipped == 2 and mirror.pending() == 0
        finally:
            mirror.close()
    binding.close()


def test_a_kevent_that_is_down_never_holds_up_a_push() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    binding = _binding("notes")
    mirror = publish_events_to_kevent(
        binding, KEventClient(f"http://127.0.0.1:{port}", timeout=1), queue_size=8
    )
    try:
        event = binding.make_event("saved")
        start = time.monotonic()
        for n in range(200):
            event.push({"n": n})
        assert time.monotonic() - start < 1.0  # the pusher never waited for kevent
        # A queue of 8: those the thread could not keep up with were dropped (the oldest
        # first), the rest failed; none was sent, every one is counted.
        _wait(lambda: mirror.dropped + mirror.failed == 200)
        assert mirror.published == 0 and mirror.dropped > 0 and mirror.pending() == 0
    finally:
        mirror.close()
    binding.close()


def test_opting_in_names_the_api() -> None:
    binding = _binding("notes", "other")
    with pytest.raises(ContractError, match="mirror_events needs api="):
        publish_events_to_kevent(binding, KEventClient("http://127.0.0.1:9"))
    binding.close()
