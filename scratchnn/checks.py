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


def as_sample_weight(sample_weight, n: int, dtype, name: str = "sample_weight") -> np.ndarray:
    """``sample_weight`` as N finite numbers >= 0 of ``dtype``, shape (N,) ((N, 1) accepted)."""
    w = np.asarray(sample_weight)
    if w.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be real numbers, got dtype {w.dtype}")
    if w.shape not in ((n,), (n, 1)):
        raise ValueError(f"{name} must have one weight per sample, shape ({n},), got {w.shape}")
    w = w.reshape(n).astype(dtype)
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError(f"{name} must be finite and >= 0")
    return w


def check_same_length(x: np.ndarray, y: np.ndarray, xname: str = "x", yname: str = "y") -> None:
    """Raise if ``x`` and ``y`` do not have the same number of samples."""
    if len(x) != len(y):
        raise ValueError(
            f"{xname} and {yname} have different numbers of samples: "
            f"{xname} has {len(x)}, {yname} has {len(y)}"
        )


def as_int_labels(y, num_classes: int | None = None, name: str = "y", *,
                  any_shape: bool = False) -> np.ndarray:
    """Validate integer class labels and return them as int64.

    The one label check of the package (sparse cross-entropy, ``to_categorical``, the metrics,
    the data statistics).  A label must be an integer value ``0 <= y_n < num_classes``.

    Parameters
    ----------
    y : array_like
        Labels of shape (N,) or (N, 1) (any shape with ``any_shape=True``), of an integer or
        bool dtype, or floats holding whole numbers (``2.0``).
    num_classes : int, optional
        ``C``: labels must be below it.  Without it only ``y >= 0`` is required.
    name : str, default "y"
        The argument's name, for messages.
    any_shape : bool, default False
        Accept any shape and keep it, instead of (N,) or (N, 1) -> (N,).

    Returns
    -------
    np.ndarray, int64, shape (N,) (or ``y``'s shape with ``any_shape=True``)

    Raises
    ------
    TypeError
        For a non-numeric dtype or a non-integer value (the message gives the first one and its
        index), or a non-int ``num_classes``.
    ValueError
        For a wrong shape, a NaN or infinity, a negative label or one ``>= num_classes`` (the
        first bad value and its index, and the labels' range), or ``num_classes < 1``.
    """
    arr = _label_array(y, name)
    if not any_shape:
        if arr.ndim == 2 and arr.shape[1] == 1:
            arr = arr[:, 0]
        if arr.ndim != 1:
            raise ValueError(
                f"{name} must be integer labels of shape (N,) or (N, 1), got {arr.shape}")
    labels = _whole_numbers(arr, name)
    if num_classes is not None:
        num_classes = check_num_classes(num_classes)
    check_label_range(labels, num_classes, name)
    return labels


def check_num_classes(num_classes) -> int:
    """``num_classes`` as an ``int >= 1``; bools and floats are rejected."""
    if isinstance(num_classes, (bool, np.bool_)) or not isinstance(num_classes,
                                                                   (int, np.integer)):
        raise TypeError(f"num_classes must be an int, got {type(num_classes).__name__}")
    if num_classes < 1:
        raise ValueError(f"num_classes must be >= 1, got {num_classes}")
    return int(num_classes)


def check_label_range(labels: np.ndarray, num_classes: int | None, name: str = "y") -> None:
    """Raise ``ValueError`` unless every integer label is in ``0 .. num_classes - 1``.

    The message names the first bad label and its index, and the labels' minimum and maximum.
    """
    if labels.size == 0:
        return
    lo, hi = int(labels.min()), int(labels.max())
    if lo >= 0 and (num_classes is None or hi < num_classes):
        return
    bad = (labels < 0) if num_classes is None else (labels < 0) | (labels >= num_classes)
    index = _first(bad)
    value = int(labels[index])
    what = f"negative label {value}" if value < 0 else (
        f"label {value} but num_classes={num_classes}")
    expected = ">= 0" if num_classes is None else f"0..{num_classes - 1}"
    raise ValueError(f"{name} has {what}, at index {_index_text(index)}; labels out of range: "
                     f"min {lo}, max {hi} (expected {expected})")


def _label_array(y, name: str) -> np.ndarray:
    """``y`` as an array of an integer, bool or real float dtype."""
    try:
        arr = np.asarray(y)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name} could not be converted to an array: {exc}") from exc
    if not (arr.dtype == np.bool_ or np.issubdtype(arr.dtype, np.integer)
            or np.issubdtype(arr.dtype, np.floating)):
        raise TypeError(f"{name} must hold integer class labels, got dtype {arr.dtype}")
    return arr


def _whole_numbers(arr: np.ndarray, name: str) -> np.ndarray:
    """``arr`` as int64, after checking that float entries are finite whole numbers."""
    if np.issubdtype(arr.dtype, np.floating):
        finite = np.isfinite(arr)
        if not finite.all():
            index = _first(~finite)
            raise ValueError(f"{name} contains NaN or infinite value {arr[index]} at index "
                             f"{_index_text(index)}; expected integer class labels")
        fractional = arr != np.round(arr)
        if fractional.any():
            index = _first(fractional)
            raise TypeError(f"{name} must hold integer class labels, got non-integer value "
                            f"{arr[index]} at index {_index_text(index)}")
        huge = np.abs(arr) >= 2.0**63  # no int64 holds them
        if huge.any():
            index = _first(huge)
            raise ValueError(f"{name} has label {arr[index]}, at index {_index_text(index)}; "
                             "labels out of range")
    return arr.astype(np.int64)


def _first(mask: np.ndarray) -> tuple[int, ...]:
    """Index (a tuple) of the first True entry of ``mask`` in C order."""
    return tuple(int(i) for i in np.unravel_index(int(np.argmax(mask)), mask.shape))


def _index_text(index: tuple[int, ...]) -> str:
    return str(index[0]) if len(index) == 1 else str(index)
