"""Paths shared by the tests (importable as ``support``; conftest modules are not)."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def mnist_location() -> str | None:
    """Where the real MNIST files are, or None (tests needing them are skipped)."""
    for cand in (os.environ.get("SCRATCHNN_DATA"), REPO.parent / "shared" / "datasets"):
        if cand and (Path(cand) / "mnist").is_dir():
            return str(cand)
    return None
