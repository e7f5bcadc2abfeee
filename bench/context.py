"""What a comparison module gets: the budget, the server pool, the keys of the run."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .fixture import BenchKeys
from .harness import Budget, ServerPool

__all__ = ["Context"]


@dataclass(slots=True)
class Context:
    """Shared by every comparison of one run.

    ``token`` is a session token the servers trust (user ``alice``, app ``bench``);
    ``workdir`` is a temporary folder removed after the run (SQLite files, key files).
    """

    budget: Budget
    pool: ServerPool
    keys: BenchKeys
    token: str
    workdir: Path
    quick: bool
