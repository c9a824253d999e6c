"""Datasets, mirroring ``keras.datasets``: ``mnist.load_data()``.

The IDX reader/writer used by the MNIST loader lives in :mod:`scratchnn.datasets.idx`.
"""

from __future__ import annotations

from . import idx, mnist

__all__ = ["idx", "mnist"]
