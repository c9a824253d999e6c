"""Checks for scalar arguments of the public API (``fit``, optimizers, callbacks).

Each raises ``TypeError`` (wrong kind of value) or ``ValueError`` (out of range) with a message
that names the argument, states what was expected and shows what was given.  Booleans are not
numbers here: ``batch_size=True`` is a mistake, not a batch of one.
"""

from __future__ import annotations

import math

import numpy as np

_INTEGERS = (int, np.integer)
_REALS = (int, float, np.integer, np.floating)


def _is_bool(value) -> bool:
    return isinstance(value, (bool, np.bool_))


def check_int(value, name: str, minimum: int = 0) -> int:
    """``value`` as an ``int`` >= ``minimum``; bools, floats and strings are rejected."""
    if _is_bool(value) or not isinstance(value, _INTEGERS):
        raise TypeError(f"{name} must be an integer >= {minimum}, got {value!r} "
                        f"({type(value).__name__})")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    return int(value)


def check_real(value, name: str, low: float | None = None, high: float | None = None, *,
               high_open: bool = False) -> float:
    """``value`` as a finite ``float`` in ``[low, high]`` (``[low, high)`` with ``high_open``).

    ``None`` for a bound means unbounded on that side.  Bools, strings and None are rejected.
    """
    interval = _interval(low, high, high_open)
    if _is_bool(value) or not isinstance(value, _REALS):
        raise TypeError(f"{name} must be a number {interval}, got {value!r} "
                        f"({type(value).__name__})")
    number = float(value)
    if (not math.isfinite(number) or (low is not None and number < low)
            or (high is not None and (number >= high if high_open else number > high))):
        raise ValueError(f"{name} must be a finite number {interval}, got {value!r}")
    return number


def _interval(low, high, high_open: bool) -> str:
    if low is not None and high is not None:
        return f"in [{low}, {high}{')' if high_open else ']'}"
    if low is not None:
        return f">= {low}"
    if high is not None:
        return f"{'<' if high_open else '<='} {high}"
    return "(finite)"


def check_bool(value, name: str) -> bool:
    """``value`` as a ``bool``; only ``True``/``False`` (or NumPy bools) are accepted."""
    if not _is_bool(value):
        raise TypeError(f"{name} must be True or False, got {value!r} ({type(value).__name__})")
    return bool(value)


def check_verbose(value, auto: int) -> int:
    """``verbose``: ``"auto"`` (replaced by ``auto``), 0, 1 or 2."""
    if isinstance(value, str) and value == "auto":
        return auto
    if _is_bool(value) or not isinstance(value, _INTEGERS) or value not in (0, 1, 2):
        raise ValueError(f"verbose must be 'auto', 0, 1 or 2, got {value!r}")
    return int(value)


def check_batch_size(value) -> int:
    """``batch_size``: a positive integer, or None for the default 32."""
    return 32 if value is None else check_int(value, "batch_size", 1)


def check_seed(value):
    """``seed``: None, a non-negative integer, or a ``numpy.random.Generator``."""
    if value is None or isinstance(value, np.random.Generator):
        return value
    return check_int(value, "seed", 0)
