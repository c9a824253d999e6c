r"""Measuring how far two arrays are apart, and the one assertion the parity suite uses.

For ``ours`` (scratchnn) and ``ref`` (Keras) of the same shape:

* ``max_abs = max |ours - ref|``;
* ``max_rel = max_abs / max |ref|`` — the error relative to the reference's largest entry
  (a max-norm relative error).  Element-wise relative errors are not used: entries produced by
  cancellation (a gradient entry of 1e-9 summed from terms of size 1e-2) carry an absolute
  rounding error set by the *terms*, so their element-wise relative error says nothing about
  either implementation.  For scalars (losses) the two definitions coincide.

Both are computed in float64.  Identical arrays give exactly 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from array_api_compat import is_array_api_obj

from scratchnn.backend import to_numpy


class ParityError(AssertionError):
    """scratchnn and the TensorFlow reference disagree beyond the tolerance."""


@dataclass(frozen=True)
class Diff:
    """Distance between two arrays: ``max_abs`` and ``max_rel`` as defined in the module doc."""

    max_abs: float
    max_rel: float

    @staticmethod
    def worst(diffs) -> Diff:
        """Entry-wise maximum of several diffs (``Diff(0, 0)`` for none)."""
        diffs = list(diffs)
        return Diff(max((d.max_abs for d in diffs), default=0.0),
                    max((d.max_rel for d in diffs), default=0.0))


def _as_f64(a) -> np.ndarray:
    """``a`` (NumPy, a TensorFlow tensor, an array of any scratchnn backend, on any device, or
    a scalar) as a float64 NumPy array."""
    if is_array_api_obj(a):
        a = to_numpy(a)  # NumPy, torch (also on a GPU or requiring grad), CuPy, array_api_strict
    return np.asarray(getattr(a, "numpy", lambda: a)(), dtype=np.float64)


def compare(ours, ref) -> Diff:
    """The :class:`Diff` between ``ours`` and ``ref`` (arrays, tensors or scalars).

    Raises ``ValueError`` for different shapes; NaNs make both errors NaN.
    """
    a, b = _as_f64(ours), _as_f64(ref)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: ours {a.shape}, reference {b.shape}")
    if a.size == 0:
        return Diff(0.0, 0.0)
    max_abs = float(np.max(np.abs(a - b)))
    scale = float(np.max(np.abs(b)))
    if max_abs == 0.0:
        return Diff(0.0, 0.0)
    max_rel = max_abs / scale if scale > 0 else float("inf")
    return Diff(max_abs, max_rel)


def _describe(name: str, a: np.ndarray, b: np.ndarray, diff: Diff, rtol: float,
              atol: float) -> str:
    lines = [f"{name}: scratchnn and Keras differ: max abs error {diff.max_abs:.3e}, "
             f"max rel error {diff.max_rel:.3e} (tolerance rtol={rtol:.1e}, atol={atol:.1e}); "
             f"shape {a.shape}"]
    if a.size:
        err = np.abs(a - b)
        err = np.where(np.isnan(err), np.inf, err)
        where = np.unravel_index(int(np.argmax(err)), a.shape) if a.ndim else ()
        lines.append(f"  worst entry {tuple(int(i) for i in where)}: scratchnn {a[where]!r}, "
                     f"Keras {b[where]!r}")
    opts = {"threshold": 20, "edgeitems": 3, "precision": 10}
    lines.append("  scratchnn: " + np.array2string(a, **opts).replace("\n", "\n             "))
    lines.append("  Keras:     " + np.array2string(b, **opts).replace("\n", "\n             "))
    return "\n".join(lines)


def assert_close(name: str, ours, ref, rtol: float, atol: float = 0.0) -> Diff:
    """Assert ``max_abs <= atol or max_rel <= rtol``; return the :class:`Diff`.

    On failure raises :class:`ParityError` whose message names the quantity, gives both errors
    and the tolerance, the worst entry on both sides, and a summary of both arrays.
    """
    a, b = _as_f64(ours), _as_f64(ref)
    if a.shape != b.shape:
        raise ParityError(f"{name}: shapes differ: scratchnn {a.shape}, Keras {b.shape}")
    diff = compare(a, b)
    if not (diff.max_abs <= atol or diff.max_rel <= rtol):  # NaN fails both
        raise ParityError(_describe(name, a, b, diff, rtol, atol))
    return diff
