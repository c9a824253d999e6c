"""Which array library the math runs on: the seam between the formulas and NumPy/CuPy/PyTorch.

The math is written against the Python array API standard: a function takes its namespace
from its input, ``xp = namespace(x)``, in the style of DeZero's ``get_array_module``, and then
uses only standard functions (``xp.exp``, ``xp.sum``, ``xp.matmul`` or ``@``, ...).  For NumPy
arrays the namespace is NumPy itself (NumPy 2 implements the standard), so the NumPy path keeps
its fast kernels and its exact numbers; for any other array library it is the
``array_api_compat`` namespace of the array.

Scalars: a formula computes its scalar factors (learning rates, bias corrections) with NumPy
scalar types of the array's precision (:func:`numpy_dtype`), exactly as Keras rounds them, and
hands them to array expressions as Python floats (:func:`scalar`), which every library treats
as "weak" (the array's dtype wins): for NumPy arrays the result is bitwise what a NumPy scalar
gives.
"""

from __future__ import annotations

import numpy as np

__all__ = ["is_numpy", "namespace", "numpy_dtype", "scalar"]


def is_numpy(*arrays) -> bool:
    """True when every argument is a NumPy array or scalar (the fast paths' precondition)."""
    return all(isinstance(a, (np.ndarray, np.generic, float, int)) for a in arrays)


def namespace(*arrays):
    """The array API namespace of ``arrays`` (NumPy itself for NumPy arrays)."""
    if is_numpy(*arrays):
        return np
    import array_api_compat  # only needed for other array libraries

    return array_api_compat.array_namespace(*(a for a in arrays
                                              if not isinstance(a, (float, int))))


def numpy_dtype(x) -> np.dtype:
    """The NumPy dtype with ``x``'s precision (``torch.float32`` -> ``float32``)."""
    dtype = x.dtype
    if isinstance(dtype, np.dtype):
        return dtype
    return np.dtype(str(dtype).rsplit(".", 1)[-1])


def scalar(value, like) -> float:
    """``value`` rounded to the precision of array ``like``, as a Python float."""
    return float(numpy_dtype(like).type(value))
