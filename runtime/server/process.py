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
  (``buckyos zone``) reads back, flushed; ``serve(..., on_ready=...)`` says when.
"""

from __future__ import annotations

import asyncio
import importlib.util
import signal
import sys
import threading
from collections.abc import Callable, Coroutine, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Final, TypeVar

from buckyos.runtime.errors import ConfigError

__all__ = [
    "EXIT_CONFIG",
    "EXIT_LISTEN",
    "EXIT_OK",
    "loop_factory",
    "print_ready",
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

_T = TypeVar("_T")


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
    handlers that were there before are put back on exit.
    """
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    installed: list[tuple[signal.Signals, Any]] = []
    if enabled and threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous = signal.getsignal(sig)
            try:
                loop.add_signal_handler(sig, stop.set)
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
) -> int:
    """Run a service process's ``main()`` in a fresh loop; its exit code.

    ``main`` serves until SIGTERM/SIGINT (``serve`` or :func:`stop_signals`) and returns
    the code (``None``: 0).  A failure is one line on stderr, ``"<name>: <message>"``:

    - ``ConfigError``: its message, exit 2;
    - ``OSError`` (a port in use): ``cannot_listen(exc)``, exit ``listen_exit`` (1);
    - an exception of a type listed in ``errors`` (checked in order): its message, with
      that type's code.

    Anything else propagates (a traceback: a bug, not a condition to explain).
    """
    try:
        code = run_async(main)
    except ConfigError as exc:
        return _fail(name, str(exc), EXIT_CONFIG)
    except OSError as exc:
        return _fail(name, cannot_listen(exc), listen_exit)
    except Exception as exc:
        for kind, kind_code in errors:
            if isinstance(exc, kind):
                return _fail(name, str(exc), kind_code)
        raise
    return EXIT_OK if code is None else code
