"""Shared fixtures: a fresh global seed per test and tiny synthetic datasets.

Backend switch: ``SCRATCHNN_BACKEND=torch python -m pytest tests/test_model.py ...`` (also
``array_api_strict``, ``cupy``; ``SCRATCHNN_DEVICE=cuda``) runs the models the tests build on
that array library (see :mod:`scratchnn.backend`); each test starts on it again, whatever the
previous test chose.  Tests marked ``cuda`` skip, with the reason, on a machine without CUDA.
"""

from __future__ import annotations

import numpy as np
import pytest
from support import REPO, mnist_location  # noqa: F401  (REPO re-exported for old imports)

import scratchnn
from scratchnn import backend


def pytest_configure(config):
    config.addinivalue_line("markers", "cuda: needs a CUDA GPU (skipped, with the reason, "
                                       "where there is none)")


def pytest_report_header(config):
    chosen = backend.get_backend()
    return f"scratchnn backend: {chosen.name} (device {chosen.device or 'default'})"


def _cuda_missing() -> str | None:
    """Why CUDA tests cannot run here, or None when they can."""
    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None and torch.cuda.is_available():
        return None
    try:
        import cupy
        if cupy.cuda.runtime.getDeviceCount() > 0:
            return None
    except Exception:  # noqa: BLE001  no cupy, or no driver
        pass
    return "needs a CUDA GPU: none visible to torch or cupy on this machine"


def pytest_collection_modifyitems(config, items):
    cuda_items = [item for item in items if "cuda" in item.keywords]
    reason = _cuda_missing() if cuda_items else None
    for item in cuda_items if reason else []:
        item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(autouse=True)
def _seed_and_floatx():
    scratchnn.utils.set_random_seed(1234)
    chosen = backend.get_backend()
    yield
    scratchnn.config.set_floatx("float32")
    backend._CURRENT = chosen  # what the next test starts on (SCRATCHNN_BACKEND or numpy)


@pytest.fixture(scope="session")
def mnist_dir() -> str:
    """The folder holding ``mnist/`` (skips the test when MNIST is not available)."""
    where = mnist_location()
    if where is None:
        pytest.skip("MNIST not available (set SCRATCHNN_DATA)")
    return where


@pytest.fixture(scope="session")
def mnist_data():
    where = mnist_location()
    if where is None:
        pytest.skip("MNIST not available (set SCRATCHNN_DATA)")
    return scratchnn.datasets.mnist.load_data(where)


@pytest.fixture
def blobs():
    """A small, linearly separable-ish 3-class problem: (x (90, 4), labels (90,))."""
    rng = np.random.default_rng(0)
    centers = np.array([[2, 0, 0, 0], [0, 2, 0, 0], [0, 0, 2, 0]], dtype=float)
    labels = np.repeat(np.arange(3), 30)
    x = centers[labels] + 0.5 * rng.standard_normal((90, 4))
    return x.astype(np.float32), labels
