"""The atheris targets run (a short coverage-guided budget; ``make fuzz`` runs a long one).

A failing input makes libFuzzer exit non-zero and print the crash; the test shows it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

SEEDS = Path(__file__).resolve().parent / "fuzz" / "seeds"
ROOT = Path(__file__).resolve().parents[1]


def test_atheris_targets_find_nothing(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)  # libFuzzer adds what it finds to the first corpus dir
    runs = 20_000
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.fuzz.atheris_targets",
            f"-atheris_runs={runs}",
            "-max_total_time=30",
            str(corpus),
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"Done {runs} " in done.stderr, done.stderr[-2000:]
    assert len(list(corpus.iterdir())) > len(list(SEEDS.iterdir()))  # it explored
