"""Datasets, mirroring ``keras.datasets``: ``mnist.load_data()``, ``fashion_mnist.load_data()``.

Both share one loader, :mod:`scratchnn.datasets.idx_dataset`; the IDX reader/writer it uses
lives in :mod:`scratchnn.datasets.idx`, the pickle-free ``.npz`` reader in
:mod:`scratchnn.datasets.npz` and the exceptions in :mod:`scratchnn.datasets.errors`.
"""

from __future__ import annotations

from scratchnn.datasets import errors, fashion_mnist, idx, idx_dataset, mnist, npz
from scratchnn.datasets.errors import CorruptDataError, DatasetError, DatasetNotFoundError

__all__ = ["errors", "fashion_mnist", "idx", "idx_dataset", "mnist", "npz", "CorruptDataError",
           "DatasetError", "DatasetNotFoundError"]
