"""Datasets, mirroring ``keras.datasets``: ``mnist.load_data()``.

The IDX reader/writer used by the MNIST loader lives in :mod:`scratchnn.datasets.idx`, the
pickle-free ``.npz`` reader in :mod:`scratchnn.datasets.npz` and the exceptions in
:mod:`scratchnn.datasets.errors`.
"""

from __future__ import annotations

from scratchnn.datasets import errors, idx, mnist, npz
from scratchnn.datasets.errors import CorruptDataError, DatasetError, DatasetNotFoundError

__all__ = ["errors", "idx", "mnist", "npz", "CorruptDataError", "DatasetError",
           "DatasetNotFoundError"]
