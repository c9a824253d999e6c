"""Fixtures for the parity suite: TensorFlow (imported once), MNIST, models with copied weights.

Every test here needs TensorFlow; without it the whole directory is skipped.  TensorFlow runs
on 2 intra-op threads with its default kernels (``tfref.configure``; op determinism stays off
because it changes which cross-entropy kernel TensorFlow uses).

Set ``TFREF_PARITY_SUMMARY=path.json`` to write the largest error measured per quantity and
dtype over the run (used to fill in docs/parity.md).
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Callable

import numpy as np
import pytest

import scratchnn as snn

_WORST: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])


def pytest_collection_modifyitems(config, items):
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.tf)


def pytest_sessionfinish(session, exitstatus):
    path = os.environ.get("TFREF_PARITY_SUMMARY")
    if path and _WORST:
        rows = [{"quantity": q, "dtype": d, "max_abs": v[0], "max_rel": v[1]}
                for (q, d), v in sorted(_WORST.items())]
        with open(path, "w") as fh:
            json.dump(rows, fh, indent=1)


@pytest.fixture(scope="session")
def tf():
    """``(tensorflow, keras)``, configured once per session; skips without TensorFlow."""
    pytest.importorskip("tensorflow")
    pytest.importorskip("keras")
    import tfref

    tfref.configure(threads=2)
    return tfref.require_tf()


@pytest.fixture(autouse=True)
def _needs_tf(tf):
    return tf


@pytest.fixture(scope="session")
def mnist():
    """``(x_train, y_train), (x_test, y_test)`` from ``$SCRATCHNN_DATA``; skips without it."""
    root = os.environ.get("SCRATCHNN_DATA")
    if not root:
        pytest.skip("MNIST not available: set SCRATCHNN_DATA to the folder holding mnist/")
    try:
        return snn.datasets.mnist.load_data(root, download=False)
    except (FileNotFoundError, ValueError) as exc:
        pytest.skip(f"MNIST not available under SCRATCHNN_DATA={root}: {exc}")


@pytest.fixture
def check() -> Callable:
    """``check(quantity, ours, ref, dtype, category="single", label="")``.

    Asserts ``ours`` matches ``ref`` within ``tfref.tolerance(dtype, category)`` using
    :func:`tfref.assert_close` (which prints both sides and the errors on failure) and records
    the error under ``quantity`` for the optional summary.
    """
    from tfref import assert_close, tolerance

    def _check(quantity: str, ours, ref, dtype, category: str = "single", label: str = ""):
        dtype = np.dtype(dtype).name
        diff = assert_close(f"{label} {quantity}".strip(), ours, ref,
                            tolerance(dtype, category))
        worst = _WORST[(quantity, dtype)]
        worst[0] = max(worst[0], diff.max_abs)
        worst[1] = max(worst[1], diff.max_rel)
        return diff

    return _check
