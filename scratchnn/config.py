"""Global numeric settings, like ``keras.config``.

``floatx()`` is the dtype new models compute in (float32 by default, as in Keras);
``epsilon()`` is the fuzz factor used by the cross-entropy clipping (1e-7, as in Keras).
``set_fast_paths(False)`` runs the plain formulas of the math modules instead of their
registered fast kernels (see :mod:`scratchnn.fastpath`); same numbers, slower, easier to step
through in a debugger.
``set_backend("torch", device="cuda")`` / ``get_backend()`` choose the array library models
built afterwards run on (see :mod:`scratchnn.backend`; also ``SCRATCHNN_BACKEND``).
"""

from __future__ import annotations

import numpy as np

from scratchnn import fastpath
from scratchnn.backend import get_backend, set_backend  # noqa: F401  (keras.config style)

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


def set_fast_paths(enabled: bool) -> None:
    """Run the fast kernels (True, the default) or only the plain formulas (False).

    The environment variable ``SCRATCHNN_FAST_PATHS=0`` sets False at import.  Both modes give
    bitwise the same numbers; see :mod:`scratchnn.fastpath`.
    """
    if not isinstance(enabled, (bool, np.bool_)):
        raise TypeError(f"set_fast_paths expects True or False, got {enabled!r}")
    fastpath.set_enabled(bool(enabled))


def fast_paths_enabled() -> bool:
    """Whether the registered fast kernels run (see :func:`set_fast_paths`)."""
    return fastpath.enabled()
