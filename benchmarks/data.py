"""The benchmark data: real MNIST when it can be found, else random data of MNIST's shape.

Real MNIST is looked up the way ``scratchnn.datasets.mnist.load_data`` does (``$SCRATCHNN_DATA``
and the cache), without downloading.  Images are flattened to 784 float32 values in [0, 1],
labels are int64 -- the same arrays, shared, for every framework.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import CLASSES, INPUT_DIM


@dataclass
class Data:
    x_train: np.ndarray  # (n_train, 784) float32
    y_train: np.ndarray  # (n_train,) int64
    x_test: np.ndarray   # (n_test, 784) float32
    y_test: np.ndarray   # (n_test,) int64
    source: str          # "mnist" or "random"


def _random(n_train: int, n_test: int) -> Data:
    rng = np.random.default_rng(0)
    x = rng.random((n_train + n_test, INPUT_DIM), dtype=np.float32)
    y = rng.integers(0, CLASSES, n_train + n_test).astype(np.int64)
    return Data(x[:n_train], y[:n_train], x[n_train:], y[n_train:], "random")


def load(n_train: int = 60000, n_test: int = 10000, real: bool = True) -> Data:
    """MNIST (first ``n_train``/``n_test`` samples) if available and ``real``, else random."""
    if real:
        try:
            from scratchnn.datasets import mnist

            (xtr, ytr), (xte, yte) = mnist.load_data(download=False)
        except Exception:  # not found, or no network: fall back to random data
            pass
        else:
            def prep(x):
                return (x.reshape(len(x), -1) / np.float32(255)).astype(np.float32)

            return Data(prep(xtr[:n_train]), ytr[:n_train].astype(np.int64),
                        prep(xte[:n_test]), yte[:n_test].astype(np.int64), "mnist")
    return _random(n_train, n_test)
