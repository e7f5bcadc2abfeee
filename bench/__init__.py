"""The benchmark harness of buckyos-api-runtime (issue 6).

``python -m bench`` (or ``make bench``) starts what it needs on 127.0.0.1, runs bounded
loops and prints one table of ratios, each measured in the same run against a baseline
started by the same script; ``python -m bench --quick`` is the smoke run CI uses.
:func:`run` is the same from Python.  Results and their analysis: ``docs/performance.md``.
"""

from __future__ import annotations

from .runner import Report, run

__all__ = ["Report", "run"]
