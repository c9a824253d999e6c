"""Per-sample weights for ``fit``/``evaluate``: ``sample_weight`` as given, or ``class_weight``
turned into one weight per sample, as Keras 3 does.

The weights enter two places (see :class:`scratchnn.losses.Loss`): the loss, reduced Keras's
way, :math:`L = \\frac1N\\sum_i w_i \\ell_i` (divided by the batch size, not by
:math:`\\sum_i w_i`), and the ``weighted_metrics`` of ``compile``, which become weighted means
:math:`\\sum_i w_i m_i / \\sum_i w_i`.  Plain ``metrics`` ignore them (Keras 3 too).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from scratchnn.checks import as_sample_weight

__all__ = ["class_weight_to_sample_weight", "prepare_sample_weight"]


def class_weight_to_sample_weight(y: np.ndarray, class_weight: Mapping, dtype) -> np.ndarray:
    """One weight per sample, ``class_weight[class of sample i]`` (1.0 for a class not listed).

    The class of a sample is its integer label (sparse targets, shape (N,)), the ``argmax`` of
    its one-hot row (N, K), or its rounded value for a single output (N, 1): Keras's
    ``class_weight_to_sample_weights``.
    """
    if not isinstance(class_weight, Mapping):
        raise TypeError(f"class_weight must be a dict mapping class index to weight, got "
                        f"{type(class_weight).__name__}")
    for key, value in class_weight.items():
        if not isinstance(key, (int, np.integer)) or isinstance(key, bool):
            raise ValueError(f"class_weight keys must be integer class indices, got {key!r}")
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) \
                or not math.isfinite(value) or value < 0:
            raise ValueError(f"class_weight[{key}] must be a finite number >= 0, got {value!r}")
    labels = np.asarray(y)
    if labels.ndim > 1:
        labels = np.argmax(labels, axis=-1) if labels.shape[-1] != 1 else labels[..., 0]
    labels = np.round(labels).astype(np.int64)
    weights = {int(k): float(v) for k, v in class_weight.items()}
    return np.array([weights.get(int(c), 1.0) for c in labels], dtype=dtype)


def prepare_sample_weight(sample_weight, class_weight, y: np.ndarray, dtype,
                          name: str = "") -> np.ndarray | None:
    """The per-sample weights of prepared targets ``y`` (N samples), or None for none.

    ``sample_weight``: N finite numbers >= 0; ``class_weight``: see
    :func:`class_weight_to_sample_weight`.  Giving both is an error, as in Keras.  ``name``
    prefixes the argument names in errors (``"val_"``).
    """
    if sample_weight is not None and class_weight is not None:
        raise ValueError("You cannot use class_weight and sample_weight at the same time")
    if class_weight is not None:
        return class_weight_to_sample_weight(y, class_weight, dtype)
    if sample_weight is None:
        return None
    return as_sample_weight(sample_weight, len(y), dtype, f"{name}sample_weight")
