"""Looking at a dataset before training: shapes, per-class counts and pixel statistics.

:func:`describe` gathers what the tutorials print in their first cells -- array shapes and
dtypes, how many examples of each class, and the range, mean and standard deviation of the
pixel values -- and :func:`format_counts` / :func:`format_stats` turn them into text tables.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from scratchnn.checks import as_int_labels

__all__ = ["PixelStats", "pixel_stats", "class_counts", "format_counts", "format_stats",
           "describe"]


@dataclass(frozen=True)
class PixelStats:
    """``min``, ``max``, ``mean`` and (population) ``std`` of every value of an array."""

    min: float
    max: float
    mean: float
    std: float


def pixel_stats(x, chunk: int = 1 << 20) -> PixelStats:
    """Statistics over all entries of ``x``, accumulated in float64 over chunks of ``chunk``
    values (so a 60000x28x28 array needs no full-size float64 copy):
    ``mean = sum(x) / n``, ``std = sqrt(sum((x - mean)^2) / n)`` (two passes)."""
    a = np.asarray(x)
    if a.size == 0:
        raise ValueError("x is empty")
    if not (np.issubdtype(a.dtype, np.number) or a.dtype == np.bool_):
        raise TypeError(f"x must be numeric, got dtype {a.dtype}")
    flat = a.reshape(-1)
    n = flat.size
    total = sum(float(flat[i: i + chunk].sum(dtype=np.float64)) for i in range(0, n, chunk))
    mean = total / n
    sq = sum(float(np.square(flat[i: i + chunk].astype(np.float64) - mean).sum())
             for i in range(0, n, chunk))
    return PixelStats(float(flat.min()), float(flat.max()), mean, float(np.sqrt(sq / n)))


def class_counts(labels, num_classes: int | None = None) -> np.ndarray:
    """Examples per class: ``counts[c] = #{n : labels[n] == c}``, shape (C,).

    ``labels`` are integers (N,) / (N, 1) or one-hot rows (N, C) (argmax taken); ``C`` is
    ``num_classes`` or the largest label + 1.
    """
    y = np.asarray(labels)
    if y.ndim == 2 and y.shape[1] > 1:
        if num_classes is None:
            num_classes = y.shape[1]
        y = y.argmax(axis=1)
    y = as_int_labels(y, num_classes, "labels")
    if y.size == 0:
        raise ValueError("labels is empty")
    c = int(y.max()) + 1 if num_classes is None else int(num_classes)
    return np.bincount(y, minlength=c).astype(np.int64)


def format_counts(counts: Mapping[str, Sequence[int]],
                  class_names: Sequence[str] | None = None) -> str:
    """A table with one row per class and, per split, the count and its share in percent."""
    if not counts:
        raise ValueError("counts is empty")
    cols = {k: np.asarray(v, dtype=np.int64).ravel() for k, v in counts.items()}
    c = max(len(v) for v in cols.values())
    names = list(class_names) if class_names is not None else [str(i) for i in range(c)]
    head = f"{'class':>5}" + "".join(f"  {k:>16}" for k in cols)
    lines = [head, "-" * len(head)]
    for i in range(c):
        row = f"{names[i]:>5}"
        for v in cols.values():
            n = int(v[i]) if i < len(v) else 0
            row += f"  {n:>8d} ({100 * n / max(1, v.sum()):5.2f}%)"
        lines.append(row)
    lines.append("-" * len(head))
    lines.append(f"{'total':>5}" + "".join(f"  {int(v.sum()):>8d}         " for v in cols.values()))
    return "\n".join(lines)


def format_stats(stats: Mapping[str, PixelStats]) -> str:
    """A table with one row per named :class:`PixelStats`."""
    width = max([4] + [len(k) for k in stats])
    lines = [f"{'data':<{width}}  {'min':>10}  {'max':>10}  {'mean':>10}  {'std':>10}"]
    for name, s in stats.items():
        lines.append(f"{name:<{width}}  {s.min:>10.4g}  {s.max:>10.4g}  {s.mean:>10.4g}  "
                     f"{s.std:>10.4g}")
    return "\n".join(lines)


def describe(arrays: Mapping[str, np.ndarray]) -> str:
    """One line per named array: its shape, dtype and, for numeric arrays, min and max."""
    lines = []
    for name, a in arrays.items():
        arr = np.asarray(a)
        extra = ""
        if arr.size and (np.issubdtype(arr.dtype, np.number)):
            extra = f"  values {arr.min()}..{arr.max()}"
        lines.append(f"{name}: shape {arr.shape}, dtype {arr.dtype}{extra}")
    return "\n".join(lines)
