"""Input validation shared by the model, losses and data utilities.

Every check raises a ``ValueError``/``TypeError`` whose message names the argument and the
problem (shape, dtype, range, NaN), so that bad input never surfaces as a bare NumPy traceback.
"""

from __future__ import annotations

import numpy as np


def as_float_array(x, name: str, dtype: np.dtype, *, allow_empty: bool = False) -> np.ndarray:
    """Return ``x`` as a C-contiguous array of ``dtype``; reject non-numeric, empty, NaN or inf."""
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name} could not be converted to an array: {exc}") from exc
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_
    ):
        raise TypeError(f"{name} must be numeric, got dtype {arr.dtype}")
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise TypeError(f"{name} must be real-valued, got dtype {arr.dtype}")
    if arr.ndim == 0:
        raise ValueError(f"{name} must have a batch dimension, got a scalar")
    if arr.shape[0] == 0 and not allow_empty:
        raise ValueError(f"{name} is empty (shape {arr.shape}); need at least one sample")
    arr = np.ascontiguousarray(arr, dtype=dtype)
    # A NaN or inf anywhere makes the sum non-finite, so the sum (no temporary the size of x)
    # clears almost every array; only a non-finite sum (which may also be an overflow of large
    # finite values) needs the element-wise check.
    with np.errstate(over="ignore", invalid="ignore"):
        total = arr.sum(dtype=np.float64) if arr.size else 0.0
    if not np.isfinite(total):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        if bad:
            raise ValueError(f"{name} contains {bad} NaN or infinite value(s)")
    return arr


def check_same_length(x: np.ndarray, y: np.ndarray, xname: str = "x", yname: str = "y") -> None:
    """Raise if ``x`` and ``y`` do not have the same number of samples."""
    if len(x) != len(y):
        raise ValueError(
            f"{xname} and {yname} have different numbers of samples: "
            f"{xname} has {len(x)}, {yname} has {len(y)}"
        )


def as_int_labels(y, num_classes: int | None, name: str = "y") -> np.ndarray:
    """Return integer class labels of shape (N,); accept (N,) or (N, 1) integer-valued input."""
    arr = np.asarray(y)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"{name} must be integer labels of shape (N,) or (N, 1), got {arr.shape}")
    if np.issubdtype(arr.dtype, np.floating):
        if not np.isfinite(arr).all() or np.any(arr != np.round(arr)):
            raise TypeError(f"{name} must hold integer class labels, got non-integer floats")
    elif not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name} must hold integer class labels, got dtype {arr.dtype}")
    labels = arr.astype(np.int64)
    if labels.size:
        lo, hi = int(labels.min()), int(labels.max())
        if lo < 0 or (num_classes is not None and hi >= num_classes):
            top = "" if num_classes is None else f" (expected 0..{num_classes - 1})"
            raise ValueError(f"{name} has labels out of range: min {lo}, max {hi}{top}")
    return labels
