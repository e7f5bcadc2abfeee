"""Starting a service process: a stop signal while it is still importing is one line.

``python -m buckyos.services.system_config`` (``verify_hub``, ``gateway``) spends its
first few hundred milliseconds importing (protobuf, grpc, uvicorn, cryptography) before
its ``main`` installs the process's stop policy (``runtime.server.process``).  A Ctrl-C
in that time used to print a ``KeyboardInterrupt`` traceback from somewhere inside an
import.  Now:

- :func:`guard_launch` runs first thing in ``buckyos.services`` (the first of our code
  ``python -m buckyos.services.<service>`` executes, before the service's package imports
  anything): when this process is being started that way, SIGINT and SIGTERM end it at
  once with one line on stderr, ``<module>: interrupted by SIGINT while starting``, and
  exit 128 + the signal (130 for SIGINT, 143 for SIGTERM).  Nothing has been served or
  written yet, so nothing needs cleaning up.  A signal the process inherited as ignored
  stays ignored.  Importing ``buckyos.services`` any other way changes nothing.
- :func:`launched` is how a service's ``__main__`` runs its ``main``: the guard stays
  until ``main`` installs its own stop policy (``run_service``: from then on the first
  signal stops gracefully, a second exits at once) and is removed when ``main`` returns.

This module imports only the standard library, and ``buckyos.services`` imports it
before anything else, so the guard holds from about 20 ms after the interpreter starts;
a signal before that is Python's own (a traceback).  It lives here rather than in
``buckyos.runtime.server`` because importing anything under ``buckyos.runtime`` loads
protobuf first, which would leave the first tenth of a second unguarded.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from types import FrameType
from typing import Any, Final

__all__ = ["guard_launch", "launched", "launched_module"]

_STOPS: Final = (signal.SIGINT, signal.SIGTERM)
_DEFAULTS: Final[dict[signal.Signals, Any]] = {
    signal.SIGINT: signal.default_int_handler,
    signal.SIGTERM: signal.SIG_DFL,
}
_VALUED: Final = frozenset({"-W", "-X"})
"""Interpreter options whose value is the next argument."""

_guarded: dict[signal.Signals, Any] = {}
"""Signal -> the handler the guard replaced, while the guard is installed."""


def launched_module(argv: Sequence[str] | None = None) -> str | None:
    """The module ``python -m <module>`` is starting, while it is being located (when
    ``sys.argv[0]`` is still ``"-m"``); ``None`` otherwise.  ``argv`` is the
    interpreter's command line (``sys.orig_argv``)."""
    if argv is None:
        if sys.argv[:1] != ["-m"]:
            return None
        argv = sys.orig_argv
    args = iter(argv[1:])
    for arg in args:
        if arg == "-m":
            return next(args, None)
        if arg.startswith("-m"):
            return arg[2:]
        if arg in _VALUED:
            next(args, None)
        elif arg == "-c" or arg == "-" or not arg.startswith("-"):
            return None
    return None


def guard_launch(package: str) -> None:
    """When this process is ``python -m <package>.<service>`` being located, end it with
    one line and 128 + the signal on SIGINT/SIGTERM until :func:`launched` runs ``main``
    (see the module docstring); otherwise do nothing."""
    module = launched_module()
    if module is None or not module.startswith(package + "."):
        return
    if threading.current_thread() is not threading.main_thread():  # pragma: no cover
        return
    line = f"{module}: interrupted by {{}} while starting\n"

    def interrupted(signum: int, frame: FrameType | None) -> None:
        os.write(2, line.format(signal.Signals(signum).name).encode())
        os._exit(128 + signum)

    for sig in _STOPS:
        current = signal.getsignal(sig)
        if current is not _DEFAULTS[sig]:  # ignored (SIG_IGN) or someone else's: left
            continue
        signal.signal(sig, interrupted)
        _guarded[sig] = current


def _unguard() -> None:
    for sig, previous in list(_guarded.items()):
        del _guarded[sig]
        signal.signal(sig, previous)


def launched(main: Callable[[], int]) -> int:
    """``main()``'s exit code, run as a service's ``python -m`` entry: the start guard
    (:func:`guard_launch`) holds until ``main`` installs its own stop policy, and is
    removed once ``main`` returns.  A ``KeyboardInterrupt`` that still reaches here
    (no guard: the process was not started with ``-m``) is one line and exit 130."""
    try:
        return main()
    except KeyboardInterrupt:
        name = launched_module(sys.orig_argv) or os.path.basename(sys.argv[0])
        print(f"{name}: interrupted by SIGINT while starting", file=sys.stderr, flush=True)
        return 128 + signal.SIGINT
    finally:
        _unguard()
