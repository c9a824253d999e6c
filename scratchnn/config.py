"""Global numeric settings, like ``keras.config``.

``floatx()`` is the dtype new models compute in (float32 by default, as in Keras);
``epsilon()`` is the fuzz factor used by the cross-entropy clipping (1e-7, as in Keras).
"""

from __future__ import annotations

import numpy as np

_FLOATX = "float32"
_EPSILON = 1e-7
_ALLOWED = ("float32", "float64")


def floatx() -> str:
    """Return the default float dtype name ('float32' or 'float64')."""
    return _FLOATX


def set_floatx(value: str) -> None:
    """Set the default float dtype for models built afterwards ('float32' or 'float64')."""
    global _FLOATX
    name = np.dtype(value).name if not isinstance(value, str) else value
    if name not in _ALLOWED:
        raise ValueError(f"floatx must be one of {_ALLOWED}, got {value!r}")
    _FLOATX = name


def epsilon() -> float:
    """Return the fuzz factor used to clip probabilities (default 1e-7)."""
    return _EPSILON


def set_epsilon(value: float) -> None:
    """Set the fuzz factor used to clip probabilities."""
    global _EPSILON
    _EPSILON = float(value)


def resolve_dtype(dtype: str | np.dtype | None) -> np.dtype:
    """Return ``dtype`` as a NumPy float dtype, or the global ``floatx()`` when None."""
    name = floatx() if dtype is None else np.dtype(dtype).name
    if name not in _ALLOWED:
        raise ValueError(f"dtype must be one of {_ALLOWED}, got {dtype!r}")
    return np.dtype(name)
