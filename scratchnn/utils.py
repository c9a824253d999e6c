"""Data utilities mirroring ``keras.utils``: one-hot encoding, normalization and splitting.

``to_categorical`` and ``normalize`` give the same numbers as their ``keras.utils``
namesakes; ``standardize`` and ``train_test_split`` are the usual preprocessing helpers
(the latter with the same return order as scikit-learn's). Randomness comes from
:mod:`scratchnn.seeding`, so :func:`set_random_seed` makes splits reproducible.
"""

from __future__ import annotations

import math

import numpy as np

from scratchnn.checks import as_float_array, as_int_labels, check_same_length
from scratchnn.seeding import rng_from, set_random_seed

__all__ = ["to_categorical", "normalize", "standardize", "train_test_split", "set_random_seed"]


def to_categorical(y, num_classes: int | None = None, dtype="float32") -> np.ndarray:
    """Convert integer class labels to a one-hot matrix, like ``keras.utils.to_categorical``.

    ``out[..., k] = 1`` if ``y[...] == k`` else 0.

    Parameters
    ----------
    y : array_like of int
        Class labels in ``0 .. num_classes - 1``, any shape ``S``. A trailing axis of size 1
        is dropped first (so ``(N, 1)`` gives ``(N, C)``, as in Keras). Integer-valued floats
        and bools are accepted.
    num_classes : int, optional
        Number of classes ``C``; inferred as ``max(y) + 1`` when None.
    dtype : dtype, default "float32"
        Output dtype. (Keras 3 returns float64 for NumPy input; the values are identical.)

    Returns
    -------
    np.ndarray
        Shape ``S + (C,)`` (with the trailing 1 of ``S`` removed); a scalar gives ``(C,)``.

    Raises
    ------
    ValueError
        For negative labels, labels ``>= num_classes``, ``num_classes < 1``, or an empty
        ``y`` without ``num_classes``.
    TypeError
        For non-numeric or non-integer-valued labels.
    """
    labels = as_int_labels(y, num_classes, "y", any_shape=True)
    shape = labels.shape
    if len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    flat = labels.reshape(-1)
    if num_classes is None:
        if flat.size == 0:
            raise ValueError("cannot infer num_classes from an empty y; pass num_classes")
        num_classes = int(flat.max()) + 1
    num_classes = int(num_classes)
    out = np.zeros((flat.size, num_classes), dtype=dtype)
    out[np.arange(flat.size), flat] = 1
    return out.reshape(shape + (num_classes,))


def normalize(x, axis: int = -1, order=2) -> np.ndarray:
    """Scale ``x`` to unit norm along ``axis``, like ``keras.utils.normalize``.

    ``out = x / ||x||_order`` with the norm taken along ``axis`` (``numpy.linalg.norm``);
    slices whose norm is 0 are divided by 1, i.e. left unchanged (all zeros).

    Parameters
    ----------
    x : array_like
        Input of any shape with ``ndim >= 1``.
    axis : int, default -1
        Axis along which to normalize.
    order : {int, float, inf, -inf}, default 2
        Norm order, as in :func:`numpy.linalg.norm` (2 = Euclidean, 1 = sum of absolute
        values, ``np.inf`` = max absolute value).

    Returns
    -------
    np.ndarray
        Same shape as ``x``; dtype follows NumPy promotion (float32 stays float32, integers
        become float64), as in Keras.

    Notes
    -----
    For ``axis=0`` Keras's NumPy path re-inserts the norm at axis ``-1`` (it evaluates
    ``axis or -1``), which is a bug (wrong result for square inputs, broadcasting error
    otherwise); here the norm is re-inserted at ``axis``, so ``axis=0`` normalizes columns.
    Keras also returns shape ``(1, n)`` for a 1-D input of shape ``(n,)``; here the output
    always has the shape of ``x``. Otherwise the result is identical to Keras.
    """
    arr = np.asarray(x)
    if arr.ndim == 0:
        raise ValueError("normalize needs an array with at least one dimension, got a scalar")
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"axis must be an int, got {axis!r}")
    if not -arr.ndim <= axis < arr.ndim:
        raise ValueError(f"axis {axis} is out of range for an array of shape {arr.shape}")
    norm = np.linalg.norm(arr, order, axis, keepdims=True)
    norm[norm == 0] = 1
    return arr / norm


def standardize(
    x,
    mean=None,
    std=None,
    *,
    per_feature: bool = False,
    return_stats: bool = False,
):
    """Standardize ``x``: ``out = (x - mean) / std``.

    Parameters
    ----------
    x : array_like, shape (N, ...)
        Data to standardize.
    mean, std : float or array_like, optional
        Statistics to use (e.g. those returned for the training set). When None they are
        computed from ``x``: over all entries (scalars) by default, or per feature over axis 0
        (shape ``x.shape[1:]``) when ``per_feature=True``. ``std`` is the population standard
        deviation (``ddof=0``); computed zero stds are replaced by 1 so constant features map to
        0. Given statistics must broadcast against ``x`` and ``std`` must be nonzero.
    per_feature : bool, default False
        Compute missing statistics per feature instead of globally.
    return_stats : bool, default False
        Also return the statistics used.

    Returns
    -------
    out : np.ndarray
        Same shape as ``x``; float64 if ``x`` is float64, else float32.
    mean, std : np.ndarray
        Only with ``return_stats=True``: the statistics used (float64; 0-d for global
        statistics), to pass to ``standardize(x_test, mean, std)``.
    """
    xa = np.asarray(x)
    out_dtype = np.float64 if xa.dtype == np.float64 else np.float32
    data = as_float_array(xa, "x", np.float64)
    axis = 0 if per_feature else None
    if mean is None:
        mean_arr = np.asarray(data.mean(axis=axis))
    else:
        mean_arr = as_float_array(np.atleast_1d(mean), "mean", np.float64).reshape(np.shape(mean))
    if std is None:
        std_arr = np.asarray(data.std(axis=axis))
        std_arr = np.where(std_arr == 0, 1.0, std_arr)
    else:
        std_arr = as_float_array(np.atleast_1d(std), "std", np.float64).reshape(np.shape(std))
        if np.any(std_arr == 0):
            raise ValueError("std contains zeros; cannot divide by a zero standard deviation")
    try:
        out = ((data - mean_arr) / std_arr).astype(out_dtype)
    except ValueError as exc:
        raise ValueError(
            f"mean (shape {mean_arr.shape}) and std (shape {std_arr.shape}) do not broadcast "
            f"against x (shape {data.shape}): {exc}"
        ) from exc
    if out.shape != data.shape:
        raise ValueError(
            f"mean (shape {mean_arr.shape}) and std (shape {std_arr.shape}) change the shape "
            f"of x {data.shape} to {out.shape}; they must broadcast to x's shape"
        )
    if return_stats:
        return out, mean_arr, std_arr
    return out


def _num_test(test_size, n: int) -> int:
    if isinstance(test_size, bool):
        raise TypeError("test_size must be a float in (0, 1) or an int, got a bool")
    if isinstance(test_size, (int, np.integer)):
        n_test = int(test_size)
        if not 1 <= n_test <= n - 1:
            raise ValueError(
                f"test_size={n_test} must be between 1 and {n - 1} for {n} samples "
                "(both splits need at least one sample)"
            )
        return n_test
    if isinstance(test_size, (float, np.floating)):
        if not 0.0 < float(test_size) < 1.0:
            raise ValueError(f"test_size as a fraction must be in (0, 1), got {test_size}")
        n_test = math.ceil(float(test_size) * n)
        if not 1 <= n_test <= n - 1:
            raise ValueError(
                f"test_size={test_size} with {n} samples gives {n_test} test and "
                f"{n - n_test} train samples; both splits need at least one sample"
            )
        return n_test
    raise TypeError(f"test_size must be a float in (0, 1) or an int, got {test_size!r}")


def _stratify_labels(stratify, n: int) -> np.ndarray:
    labels = np.asarray(stratify)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    elif labels.ndim == 2:  # one-hot / probabilities
        labels = labels.argmax(axis=1)
    if labels.ndim != 1:
        raise ValueError(
            f"stratify must be labels of shape (N,), (N, 1) or one-hot (N, C), got {labels.shape}"
        )
    if len(labels) != n:
        raise ValueError(f"stratify has {len(labels)} labels but x has {n} samples")
    return labels


def _largest_remainder(counts: np.ndarray, total: int, rng: np.random.Generator) -> np.ndarray:
    """Integers ``a_c <= counts_c`` summing to ``total``, closest to ``total * counts / sum``.

    Each class gets ``floor(q_c)`` of its quota ``q_c = total * n_c / n``; the remaining
    ``total - sum(floor(q))`` units go to the classes with the largest fractional parts
    ``q_c - floor(q_c)`` (ties broken at random by ``rng``).
    """
    n = int(counts.sum())
    quotas = counts * total / n
    alloc = np.floor(quotas).astype(np.int64)
    remaining = total - int(alloc.sum())
    if remaining:
        frac = quotas - alloc
        tiebreak = rng.random(len(counts))
        order = np.lexsort((tiebreak, -frac))  # by frac descending, random among ties
        alloc[order[:remaining]] += 1
    return alloc


def train_test_split(x, y, test_size=0.2, seed=None, stratify=None, shuffle: bool = True):
    """Split ``x`` and ``y`` into random train and test subsets.

    Parameters
    ----------
    x, y : array_like, shape (N, ...)
        Samples and targets, split along axis 0 with the same indices.
    test_size : float or int, default 0.2
        Fraction in (0, 1) (the test set gets ``ceil(test_size * N)`` samples, as in
        scikit-learn) or an absolute count in ``1 .. N - 1``.
    seed : int or numpy.random.Generator, optional
        Randomness source via :func:`scratchnn.seeding.rng_from`; None uses the global
        generator (fixed by :func:`set_random_seed`).
    stratify : array_like or True, optional
        Class labels ``(N,)``, ``(N, 1)`` or one-hot ``(N, C)`` (argmax taken); ``True`` means
        stratify by ``y``. Class ``c`` with ``n_c`` samples gets ``floor(q_c)`` or
        ``ceil(q_c)`` test samples, ``q_c = n_test * n_c / N`` (largest-remainder rounding,
        so the test set has exactly ``n_test`` samples).
    shuffle : bool, default True
        If False, the last ``n_test`` samples form the test set (no randomness); cannot be
        combined with ``stratify``.

    Returns
    -------
    x_train, x_test, y_train, y_test : np.ndarray
        Disjoint subsets whose union is the input (scikit-learn's order).
    """
    xa, ya = np.asarray(x), np.asarray(y)
    if xa.ndim == 0 or ya.ndim == 0:
        raise ValueError("x and y must be arrays with a sample axis, got a scalar")
    check_same_length(xa, ya)
    n = len(xa)
    if n < 2:
        raise ValueError(f"need at least 2 samples to split, got {n}")
    n_test = _num_test(test_size, n)

    if not shuffle:
        if stratify is not None and stratify is not False:
            raise ValueError("stratified splitting requires shuffle=True")
        train_idx, test_idx = np.arange(n - n_test), np.arange(n - n_test, n)
    else:
        rng = rng_from(seed)
        if stratify is None or stratify is False:
            perm = rng.permutation(n)
            test_idx, train_idx = perm[:n_test], perm[n_test:]
        else:
            labels = _stratify_labels(ya if stratify is True else stratify, n)
            _, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
            inverse = inverse.reshape(-1)
            alloc = _largest_remainder(counts, n_test, rng)
            test_parts, train_parts = [], []
            for c, k in enumerate(alloc):
                members = rng.permutation(np.flatnonzero(inverse == c))
                test_parts.append(members[:k])
                train_parts.append(members[k:])
            test_idx = rng.permutation(np.concatenate(test_parts))
            train_idx = rng.permutation(np.concatenate(train_parts))
    return xa[train_idx], xa[test_idx], ya[train_idx], ya[test_idx]
