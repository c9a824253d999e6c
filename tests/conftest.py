"""Shared fixtures: a fresh global seed per test and tiny synthetic datasets."""

from __future__ import annotations

import numpy as np
import pytest
from support import REPO, mnist_location  # noqa: F401  (REPO re-exported for old imports)

import scratchnn


@pytest.fixture(autouse=True)
def _seed_and_floatx():
    scratchnn.utils.set_random_seed(1234)
    yield
    scratchnn.config.set_floatx("float32")


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
