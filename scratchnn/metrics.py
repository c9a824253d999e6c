"""Accuracy metrics for the training loop, and evaluation helpers.

Per-sample metric functions (``categorical_accuracy``, ``sparse_categorical_accuracy``,
``binary_accuracy``) return one value per sample, shape ``(N,)``, in ``floatx()``; the
training loop averages them over the epoch like Keras's ``MeanMetricWrapper``.  They run on any
array library (the namespace of ``y_pred``, :func:`scratchnn.backend.namespace`; NumPy targets
are moved there) and return an array of that namespace. :func:`get`
resolves ``compile(metrics=[...])`` identifiers the way Keras 3 does.

Evaluation helpers (``accuracy``, ``confusion_matrix``, ``precision_recall``,
``most_confused_pairs``) accept integer labels, one-hot rows or class probabilities.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from scratchnn.backend import namespace
from scratchnn.checks import (
    as_int_labels,
    check_label_range,
    check_num_classes,
    check_same_length,
)
from scratchnn.config import floatx
from scratchnn.fastpath import foreign_array
from scratchnn.registry import Registry

__all__ = [
    "categorical_accuracy",
    "sparse_categorical_accuracy",
    "binary_accuracy",
    "get",
    "accuracy",
    "confusion_matrix",
    "precision_recall",
    "most_confused_pairs",
]

MetricFn = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _per_sample(matches: np.ndarray) -> np.ndarray:
    """Reduce a match array of shape (N, ...) to (N,) by averaging the trailing axes."""
    xp = namespace(matches)
    matches = xp.astype(matches, getattr(xp, floatx()))
    if matches.ndim > 1:
        matches = xp.mean(xp.reshape(matches, (matches.shape[0], -1)), axis=1)
    return matches


def _arrays(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    """Both as arrays of ``y_pred``'s namespace (NumPy's ``asarray`` for NumPy)."""
    if not foreign_array(y_pred):
        return np.asarray(y_true), np.asarray(y_pred)
    if foreign_array(y_true):
        return y_true, y_pred
    import array_api_compat

    xp = namespace(y_pred)
    return xp.asarray(np.asarray(y_true), device=array_api_compat.device(y_pred)), y_pred


def _check_pair(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    yt, yp = _arrays(y_true, y_pred)
    if yt.ndim == 0 or yp.ndim == 0:
        raise ValueError("y_true and y_pred must have a batch dimension, got a scalar")
    check_same_length(yt if not foreign_array(yt) else range(yt.shape[0]),
                      yp if not foreign_array(yp) else range(yp.shape[0]), "y_true", "y_pred")
    return yt, yp


def categorical_accuracy(y_true, y_pred) -> np.ndarray:
    """Per-sample ``1.0 if argmax(y_true) == argmax(y_pred) else 0.0``.

    Parameters
    ----------
    y_true : array_like, shape (N, C)
        One-hot targets.
    y_pred : array_like, shape (N, C)
        Scores, probabilities or logits (argmax is the same). Ties go to the lowest index,
        as in ``numpy.argmax`` and ``tf.argmax``.

    Returns
    -------
    np.ndarray, shape (N,)
    """
    yt, yp = _check_pair(y_true, y_pred)
    if yt.shape != yp.shape:
        raise ValueError(
            f"categorical_accuracy needs one-hot y_true of the same shape as y_pred, got "
            f"y_true {yt.shape} and y_pred {yp.shape} (use sparse_categorical_accuracy for "
            "integer labels)"
        )
    xp = namespace(yp)
    return _per_sample(xp.argmax(yt, axis=-1) == xp.argmax(yp, axis=-1))


def sparse_categorical_accuracy(y_true, y_pred) -> np.ndarray:
    """Per-sample ``1.0 if y_true == argmax(y_pred) else 0.0``.

    Parameters
    ----------
    y_true : array_like, shape (N,) or (N, 1)
        Integer class labels.
    y_pred : array_like, shape (N, C)
        Scores, probabilities or logits.

    Returns
    -------
    np.ndarray, shape (N,)
    """
    yt, yp = _check_pair(y_true, y_pred)
    if yt.ndim == yp.ndim and yt.shape[-1] == 1:
        yt = yt[..., 0]
    if yt.shape != yp.shape[:-1]:
        raise ValueError(
            f"sparse_categorical_accuracy needs integer labels y_true of shape (N,) or (N, 1) "
            f"for y_pred of shape (N, C), got y_true {np.shape(y_true)} and y_pred {yp.shape}"
        )
    xp = namespace(yp)
    # compared as float64 (exact for labels below 2**53), as NumPy compares an int64 argmax
    # with float labels; the array API standard compares no mixed kinds
    predicted = xp.astype(xp.argmax(yp, axis=-1), xp.float64)
    return _per_sample(xp.astype(yt, xp.float64) == predicted)


def _same_rank(yt: np.ndarray, yp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keras's ``squeeze_or_expand_to_same_rank``: fix a rank difference of one trailing 1."""
    if yt.ndim == yp.ndim + 1 and yt.shape[-1] == 1:
        yp = yp[..., None] if yp.ndim == 1 else yp
        yt = yt if yp.ndim == yt.ndim else yt[..., 0]
    elif yp.ndim == yt.ndim + 1 and yp.shape[-1] == 1:
        yt = yt[..., None] if yt.ndim == 1 else yt
        yp = yp if yp.ndim == yt.ndim else yp[..., 0]
    return yt, yp


def binary_accuracy(y_true, y_pred, threshold: float = 0.5) -> np.ndarray:
    """Per-sample fraction of entries with ``y_true == (y_pred > threshold)``.

    Parameters
    ----------
    y_true : array_like, shape (N,) or (N, K)
        Binary targets (0/1).
    y_pred : array_like, shape (N,) or (N, K)
        Probabilities; an entry counts as 1 when strictly greater than ``threshold``. A rank
        difference of one trailing axis of size 1 is reconciled as in Keras.
    threshold : float, default 0.5

    Returns
    -------
    np.ndarray, shape (N,)
        ``mean_k [y_true[n, k] == (y_pred[n, k] > threshold)]`` (elementwise for 1-D input).
    """
    yt, yp = _check_pair(y_true, y_pred)
    yt, yp = _same_rank(yt, yp)
    if yt.shape != yp.shape:
        raise ValueError(
            f"binary_accuracy needs y_true and y_pred of the same shape, got "
            f"{np.shape(y_true)} and {np.shape(y_pred)}"
        )
    return _per_sample(yt == namespace(yp).astype(yp > threshold, yt.dtype))


def _auto_accuracy(y_true, y_pred) -> np.ndarray:
    """Keras 3's ``"accuracy"``: binary, sparse or categorical chosen from the shapes.

    Binary when ``y_pred.shape[-1] == 1``; sparse categorical when ``y_true`` has lower rank
    than ``y_pred`` or ``y_true.shape[-1] == 1 < y_pred.shape[-1]``; categorical otherwise
    (``keras/src/trainers/compile_utils.py: is_binary_or_sparse_categorical``).
    """
    yt, yp = _arrays(y_true, y_pred)
    if yp.ndim == 0 or yt.ndim == 0:
        raise ValueError("y_true and y_pred must have a batch dimension, got a scalar")
    if yp.shape[-1] == 1:
        return binary_accuracy(yt, yp)
    if yt.ndim < yp.ndim or (yt.shape[-1] == 1 and yp.shape[-1] > 1):
        return sparse_categorical_accuracy(yt, yp)
    return categorical_accuracy(yt, yp)


METRICS: Registry[MetricFn] = Registry("metric")
METRICS.add(_auto_accuracy, "accuracy", "acc")
METRICS.add(categorical_accuracy, "categorical_accuracy")
METRICS.add(sparse_categorical_accuracy, "sparse_categorical_accuracy")
METRICS.add(binary_accuracy, "binary_accuracy")


def get(identifier, loss_name: str | None = None) -> tuple[str, MetricFn]:
    """Resolve a ``compile(metrics=...)`` entry to ``(history name, per-sample function)``.

    Parameters
    ----------
    identifier : str or callable
        ``"accuracy"`` / ``"acc"`` (any case), ``"categorical_accuracy"``,
        ``"sparse_categorical_accuracy"``, ``"binary_accuracy"``, or a callable
        ``fn(y_true, y_pred) -> (N,)`` (named by its ``__name__``).
    loss_name : str, optional
        Name of the compiled loss. Accepted for the model's convenience; as in Keras 3 the
        choice for ``"accuracy"`` depends only on the shapes (see below), which agrees with
        the loss for every well-formed model (sparse CE -> sparse labels, binary CE with one
        sigmoid unit -> binary, categorical CE -> categorical).

    Returns
    -------
    name : str
        The history key: the identifier string as given (``"accuracy"`` stays ``"accuracy"``,
        ``"acc"`` stays ``"acc"``), or the callable's ``__name__``.
    fn : callable
        For ``"accuracy"``/``"acc"`` a function that dispatches at call time exactly like
        Keras 3: :func:`binary_accuracy` if ``y_pred.shape[-1] == 1``, else
        :func:`sparse_categorical_accuracy` if ``y_true`` has lower rank than ``y_pred`` or a
        trailing 1, else :func:`categorical_accuracy`.

    Raises
    ------
    ValueError
        For an unknown name (the message lists the known ones) or None.
    """
    if loss_name is not None and not isinstance(loss_name, str):
        raise TypeError(f"loss_name must be a str, got {type(loss_name).__name__}")
    if identifier is None:
        raise ValueError("expected a metric, got None")
    if isinstance(identifier, str):
        return identifier, METRICS.lookup(identifier)
    if callable(identifier):
        name = getattr(identifier, "__name__", None) or type(identifier).__name__
        return name, identifier
    raise ValueError(f"a metric must be a name or a callable, got {identifier!r}")


# --------------------------------------------------------------------------- evaluation


def _labels(a, name: str, *, is_pred: bool) -> tuple[np.ndarray, int | None]:
    """Return ``(int labels (N,), width)``; ``width`` is C for one-hot/probability input."""
    arr = np.asarray(a)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise TypeError(f"{name} must be numeric, got dtype {arr.dtype}")
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim == 2:
        if arr.shape[1] == 0:
            raise ValueError(f"{name} has zero columns")
        if np.issubdtype(arr.dtype, np.floating) and not np.isfinite(arr).all():
            raise ValueError(f"{name} contains NaN or infinite values")
        return np.argmax(arr, axis=1).astype(np.int64), int(arr.shape[1])
    if arr.ndim != 1:
        raise ValueError(
            f"{name} must be labels (N,) / (N, 1) or one-hot/probabilities (N, C), "
            f"got shape {arr.shape}"
        )
    if arr.size == 0:
        raise ValueError(f"{name} is empty")
    if is_pred and _sigmoid_outputs(arr):
        return (arr > 0.5).astype(np.int64), None  # probability of class 1
    return as_int_labels(arr, None, name), None


def _sigmoid_outputs(arr: np.ndarray) -> bool:
    """Whether a 1-D ``y_pred`` holds probabilities in [0, 1], not all of them whole numbers."""
    if not np.issubdtype(arr.dtype, np.floating) or not np.isfinite(arr).all():
        return False
    return bool(np.any(arr != np.round(arr)) and arr.min() >= 0 and arr.max() <= 1)


def _label_pair(y_true, y_pred, num_classes: int | None) -> tuple[np.ndarray, np.ndarray, int]:
    t, t_width = _labels(y_true, "y_true", is_pred=False)
    p, p_width = _labels(y_pred, "y_pred", is_pred=True)
    check_same_length(t, p, "y_true", "y_pred")
    if t_width is not None and p_width is not None and t_width != p_width:
        raise ValueError(f"y_true has {t_width} columns but y_pred has {p_width}")
    if num_classes is None:
        num_classes = max(int(t.max()), int(p.max())) + 1
        for width in (t_width, p_width):
            if width is not None:
                num_classes = max(num_classes, width)
    else:
        num_classes = check_num_classes(num_classes)
        check_label_range(t, num_classes, "y_true")
        check_label_range(p, num_classes, "y_pred")
    return t, p, num_classes


def accuracy(y_true, y_pred) -> float:
    """Fraction of samples whose predicted class equals the true class.

    ``accuracy = (1/N) * sum_n [t_n == p_n]`` where ``t`` and ``p`` are class labels:
    integer labels ``(N,)`` / ``(N, 1)`` are used as is, one-hot rows or class
    probabilities ``(N, C)`` are argmax'd, and for ``y_pred`` a 1-D / ``(N, 1)`` array of
    non-integer values in ``[0, 1]`` is read as sigmoid outputs (class 1 when ``> 0.5``).
    """
    t, p = _labels(y_true, "y_true", is_pred=False)[0], _labels(y_pred, "y_pred", is_pred=True)[0]
    check_same_length(t, p, "y_true", "y_pred")
    if t.size == 0:
        raise ValueError("y_true is empty")
    return float(np.mean(t == p))


def confusion_matrix(y_true, y_pred, num_classes: int | None = None) -> np.ndarray:
    """Count matrix ``cm[i, j] = #{n : t_n == i and p_n == j}`` (rows true, columns predicted).

    Parameters
    ----------
    y_true, y_pred : array_like
        Labels ``(N,)`` / ``(N, 1)``, or one-hot / probabilities ``(N, C)`` (argmax'd); see
        :func:`accuracy`.
    num_classes : int, optional
        ``C``; inferred as the largest label + 1 (or the one-hot width, if larger).

    Returns
    -------
    np.ndarray, int64, shape (C, C)
        ``cm.sum() == N``; ``trace(cm) / N`` is the accuracy.
    """
    t, p, c = _label_pair(y_true, y_pred, num_classes)
    return np.bincount(t * c + p, minlength=c * c).reshape(c, c).astype(np.int64)


def precision_recall(
    y_true, y_pred, num_classes: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Per-class precision and recall from the confusion matrix ``cm``.

    ``precision_c = cm[c, c] / sum_i cm[i, c]`` (of the samples predicted ``c``, the fraction
    that are ``c``) and ``recall_c = cm[c, c] / sum_j cm[c, j]`` (of the samples that are
    ``c``, the fraction predicted ``c``); 0 where the denominator is 0.

    Returns
    -------
    precision, recall : np.ndarray, float64, shape (C,)
    """
    cm = confusion_matrix(y_true, y_pred, num_classes).astype(np.float64)
    tp = np.diag(cm)
    predicted, actual = cm.sum(axis=0), cm.sum(axis=1)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, actual, out=np.zeros_like(tp), where=actual > 0)
    return precision, recall


def most_confused_pairs(cm, k: int = 5) -> list[tuple[int, int, int]]:
    """The ``k`` largest off-diagonal entries of a confusion matrix.

    Parameters
    ----------
    cm : array_like, shape (C, C)
        Confusion matrix, rows true and columns predicted.
    k : int, default 5
        Number of pairs to return (fewer if there are fewer nonzero off-diagonal entries).

    Returns
    -------
    list of (true, pred, count)
        Sorted by count descending, ties by ``(true, pred)`` ascending; zero counts omitted.
    """
    m = np.asarray(cm)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise ValueError(f"cm must be a square (C, C) matrix, got shape {m.shape}")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
        raise ValueError(f"k must be a non-negative int, got {k!r}")
    rows, cols = np.nonzero(m)
    keep = rows != cols
    rows, cols = rows[keep], cols[keep]
    counts = m[rows, cols]
    order = np.lexsort((cols, rows, -counts))[: int(k)]
    return [(int(rows[i]), int(cols[i]), int(counts[i])) for i in order]
