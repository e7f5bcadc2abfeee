"""One service process: its event loop, its stop signals, its ready line, its exit code.

Every service process (``python -m buckyos.services.system_config``, ``...verify_hub``,
``...gateway``) and ``buckyos serve`` is the same shell around its own ``main``
coroutine:

- :func:`run_service` runs ``main()`` in a fresh event loop (:func:`run_async`: uvloop
  when installed) and turns how it ended into the exit code, with one line on stderr for
  a failure: 2 for a :class:`~buckyos.runtime.errors.ConfigError` (bad options, keys or
  files), 1 (or ``listen_exit``) for an ``OSError`` (a port in use);
- :func:`stop_signals` turns SIGTERM/SIGINT into an event (``serve`` uses it; so does a
  server that is not a dispatcher, such as the node gateway);
- :func:`print_ready` prints the ``... listening on <address>`` lines a supervisor
  (``buckyos zone``) reads back, flushed; ``serve(..., on_ready=...)`` says when;
- :func:`process_stop` is how a whole process stops (``run_service`` and the ``buckyos``
  command use it): the first SIGINT/SIGTERM stops it gracefully (``serve`` gives calls in
  flight the grace period), a **second one exits at once** (128 + the signal: 130 for
  SIGINT, 143 for SIGTERM, with one line on stderr), and a sync handler's thread still
  running ``grace`` seconds after the first signal does not keep the process alive
  (:meth:`ProcessStop.exit`).  A stop signal before anything serves raises
  :class:`StopSignal` (a ``KeyboardInterrupt``).
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Iterable, Iterator, Sequence
from contextlib import contextmanager
from types import FrameType
from typing import Any, Final, TypeVar

from buckyos.runtime.errors import ConfigError

__all__ = [
    "EXIT_CONFIG",
    "EXIT_LISTEN",
    "EXIT_OK",
    "STOP_GRACE",
    "ProcessStop",
    "StopSignal",
    "loop_factory",
    "print_ready",
    "process_stop",
    "run_async",
    "run_service",
    "stop_signals",
]

EXIT_OK: Final = 0
"""Stopped by SIGTERM/SIGINT."""
EXIT_CONFIG: Final = 2
"""Bad options, keys or files: a ``ConfigError``."""
EXIT_LISTEN: Final = 1
"""A port that cannot be bound (an ``OSError``), unless the service says otherwise."""

STOP_GRACE: Final = 5.0
"""Seconds a process gives calls in flight after the first stop signal (``serve``'s
default grace)."""

_T = TypeVar("_T")
_STOPS: Final = (signal.SIGINT, signal.SIGTERM)


class StopSignal(KeyboardInterrupt):
    """A stop signal (SIGINT or SIGTERM) that arrived before anything served."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(signal.Signals(signum).name)


class ProcessStop:
    """How this process stops; made by :func:`process_stop` (see the module docstring)."""

    def __init__(self, name: str, grace: float) -> None:
        self.name = name
        self.grace = grace
        self.signum: int | None = None
        """The first stop signal, once one arrived."""
        self.signalled_at: float | None = None

    def signalled(self, signum: int) -> None:
        """A stop signal arrived: the first is noted, a second one exits at once."""
        if self.signum is not None:
            self.force(signum)
        self.signum = signum
        self.signalled_at = time.monotonic()

    def force(self, signum: int) -> None:
        """Exit now (``128 + signum``), saying so in one line on stderr."""
        name = signal.Signals(signum).name
        line = f"{self.name}: stopped at once by a second {name}; calls in flight were cut\n"
        try:
            sys.stdout.flush()
        except Exception:  # flushing is best effort on the way out
            pass
        os.write(2, line.encode())
        os._exit(128 + signum)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.signalled(signum)
        raise StopSignal(signum)

    def exit(self, code: int) -> int:
        """``code``, once the threads still running after a stop signal have ended; a
        thread still running ``grace`` seconds after the signal (an endless sync handler)
        is left behind: the process exits with ``code`` at once, saying so on stderr."""
        if self.signalled_at is None:
            return code
        deadline = self.signalled_at + self.grace
        for thread in threading.enumerate():
            if thread is threading.current_thread() or thread.daemon:
                continue
            thread.join(max(0.0, deadline - time.monotonic()))
        stuck = [
            thread.name
            for thread in threading.enumerate()
            if thread is not threading.current_thread() and not thread.daemon
        ]
        if not stuck:
            return code
        logging.shutdown()
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except Exception:  # flushing is best effort on the way out
            pass
        os.write(
            2,
            f"{self.name}: stopped; {len(stuck)} thread(s) still running {self.grace:g}s "
            f"after the stop signal ({', '.join(stuck)}) were left behind\n".encode(),
        )
        os._exit(code)


_process: ProcessStop | None = None


@contextmanager
def process_stop(name: str, grace: float = STOP_GRACE) -> Iterator[ProcessStop]:
    """This process's stop policy while the block runs (main thread only; elsewhere the
    policy is made but no handler installed): see the module docstring.  ``name`` starts
    the lines it prints on stderr."""
    global _process
    policy = ProcessStop(name, grace)
    previous_policy = _process
    installed: list[tuple[signal.Signals, Any]] = []
    if threading.current_thread() is threading.main_thread():
        for sig in _STOPS:
            installed.append((sig, signal.signal(sig, policy._on_signal)))
    _process = policy
    try:
        yield policy
    finally:
        _process = previous_policy
        for sig, previous in installed:
            signal.signal(sig, previous if previous is not None else signal.SIG_DFL)


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's ``new_event_loop`` when uvloop is installed, else ``None`` (asyncio's)."""
    if importlib.util.find_spec("uvloop") is None:
        return None
    import uvloop

    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def run_async(main: Callable[[], Coroutine[Any, Any, _T]]) -> _T:
    """``main()`` run to its end in a fresh event loop (uvloop when installed)."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(main())


@contextmanager
def stop_signals(enabled: bool = True) -> Iterator[asyncio.Event]:
    """An event set by SIGTERM or SIGINT while the block runs, in the running loop.

    Signals are handled only in the main thread (where Python delivers them; elsewhere,
    or with ``enabled=False``, the event is only set by whoever else holds it) and the
    handlers that were there before are put back on exit.  Inside :func:`process_stop`
    the process's policy hears of each signal too: a second one exits at once.
    """
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    installed: list[tuple[signal.Signals, Any]] = []
    policy = _process

    def stop_on(signum: int) -> None:
        if policy is not None:
            policy.signalled(signum)
        stop.set()

    if enabled and threading.current_thread() is threading.main_thread():
        for sig in _STOPS:
            previous = signal.getsignal(sig)
            try:
                loop.add_signal_handler(sig, stop_on, sig)
            except (NotImplementedError, RuntimeError, ValueError):  # pragma: no cover
                continue
            installed.append((sig, previous))
    try:
        yield stop
    finally:
        for sig, previous in installed:
            loop.remove_signal_handler(sig)
            if previous is not None:
                # asyncio resets to the default; put back what was there before us.
                signal.signal(sig, previous)


def print_ready(lines: Iterable[str]) -> None:
    """The ready lines (``kRPC listening on <url>``, ...) on stdout, flushed at once: a
    supervisor waits for them (``ServerInfo.listening_lines`` for a dispatcher)."""
    print("\n".join(lines), flush=True)


def _fail(name: str, message: str, code: int) -> int:
    print(f"{name}: {message}", file=sys.stderr, flush=True)
    return code


def run_service(
    main: Callable[[], Coroutine[Any, Any, int | None]],
    *,
    name: str,
    cannot_listen: Callable[[OSError], str],
    listen_exit: int = EXIT_LISTEN,
    errors: Sequence[tuple[type[Exception], int]] = (),
    grace: float = STOP_GRACE,
) -> int:
    """Run a service process's ``main()`` in a fresh loop; its exit code.

    ``main`` serves until SIGTERM/SIGINT (``serve`` or :func:`stop_signals`) and returns
    the code (``None``: 0), under :func:`process_stop` (a second signal exits at once, a
    thread still running ``grace`` seconds after the first is left behind).  A failure is
    one line on stderr, ``"<name>: <message>"``:

    - ``ConfigError``: its message, exit 2;
    - ``OSError`` (a port in use): ``cannot_listen(exc)``, exit ``listen_exit`` (1);
    - an exception of a type listed in ``errors`` (checked in order): its message, with
      that type's code;
    - a stop signal before the service served: no line, exit 128 + the signal.

    Anything else propagates (a traceback: a bug, not a condition to explain).
    """
    with process_stop(name, grace) as stop:
        try:
            code = run_async(main)
        except ConfigError as exc:
            return stop.exit(_fail(name, str(exc), EXIT_CONFIG))
        except OSError as exc:
            return stop.exit(_fail(name, cannot_listen(exc), listen_exit))
        except KeyboardInterrupt as exc:
            signum = exc.signum if isinstance(exc, StopSignal) else signal.SIGINT
            return stop.exit(128 + signum)
        except Exception as exc:
            for kind, kind_code in errors:
                if isinstance(exc, kind):
                    return stop.exit(_fail(name, str(exc), kind_code))
            raise
        return stop.exit(EXIT_OK if code is None else code)
