"""Replaceable plain formulas: the math modules say *what* is computed, fast kernels may say *how*.

A math module writes each formula as plain NumPy and marks it::

    @fastpath.replaceable("adam_update")
    def adam_update(g, m, v, var, alpha, one_minus_beta_1, one_minus_beta_2, epsilon):
        m[...] = m + (g - m) * one_minus_beta_1
        ...

The speed seam (:mod:`scratchnn.engine.perf`, imported with ``scratchnn``) installs a drop-in
for it with :func:`register`: same arguments, same results *bit for bit* (``tests/
test_fastpath.py`` checks every one), only faster -- in-place ``out=`` operations over
cache-sized chunks, a cheaper algorithm for an awkward shape.  Calling the marked function runs
the fast version when fast paths are enabled and the plain formula otherwise; ``fn.plain`` is
always the plain formula.

A fast path is NumPy-only: it runs only when no argument is an array of another library
(``scratchnn.backend.is_numpy``); a PyTorch, CuPy or array-API-strict array always takes the
plain formula, which is written against the array API standard.

``set_enabled(False)`` (or ``scratchnn.config.set_fast_paths(False)``, or the environment
variable ``SCRATCHNN_FAST_PATHS=0`` read at import) runs the plain formulas only, so a student
can step through them in a debugger.  Dispatch costs one dict lookup and a type check of
the arguments per call.

This module imports only :mod:`scratchnn.backend` (tier 0 too): it sits at the bottom of the
layering, below the math modules that use it and the engine that fills it.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from scratchnn.backend import is_numpy

F = TypeVar("F", bound=Callable[..., Any])

#: name -> plain formula, for every function marked with :func:`replaceable`.
_PLAIN: dict[str, Callable] = {}
#: name -> registered fast implementation (whether enabled or not).
_FAST: dict[str, Callable] = {}
#: name -> implementation the dispatchers call: ``_FAST`` when enabled, else empty.
_ACTIVE: dict[str, Callable] = {}
_enabled = os.environ.get("SCRATCHNN_FAST_PATHS", "1").strip().lower() not in ("0", "false",
                                                                                 "no", "off")


def replaceable(name: str) -> Callable[[F], F]:
    """Mark a plain-formula function (or method) as replaceable under ``name``.

    The returned function calls the fast implementation registered for ``name`` when fast
    paths are enabled, else the plain one; ``.plain`` is the plain function and
    ``.fastpath_name`` the name.
    """
    def decorate(plain: F) -> F:
        old = _PLAIN.get(name)
        if old is not None and (old.__module__, old.__qualname__) != (plain.__module__,
                                                                      plain.__qualname__):
            raise ValueError(f"fast path name {name!r} is already taken by {old.__qualname__}")
        get = _ACTIVE.get

        @functools.wraps(plain)
        def dispatch(*args, **kwargs):
            fast = get(name)
            if fast is None or not _numpy_only(args, kwargs):
                return plain(*args, **kwargs)
            return fast(*args, **kwargs)

        dispatch.plain = plain
        dispatch.fastpath_name = name
        _PLAIN[name] = plain
        return dispatch  # type: ignore[return-value]

    return decorate


#: Argument types that are never another library's array: tested by one set lookup.
_HOST_TYPES = frozenset({np.ndarray, float, int, bool, type(None), np.float16, np.float32,
                         np.float64, np.int32, np.int64})


def _numpy_only(args: tuple, kwargs: dict) -> bool:
    """True unless some argument is an array of a library other than NumPy (checked on every
    call of a replaceable formula, so the common cases -- NumPy arrays, Python and NumPy
    scalars -- are one set lookup each)."""
    for value in args:
        if type(value) not in _HOST_TYPES and foreign_array(value):
            return False
    for value in kwargs.values():  # out=... of the kernel gradient, say
        if type(value) not in _HOST_TYPES and foreign_array(value):
            return False
    return True


def foreign_array(value) -> bool:
    """Whether ``value`` is an array of a library other than NumPy (a torch tensor, a CuPy or
    array-api-strict array); False for NumPy arrays, Python numbers, lists, layer objects."""
    if type(value) is np.ndarray or not hasattr(value, "shape") or is_numpy(value):
        return False
    import array_api_compat  # imported once; cheap afterwards

    return array_api_compat.is_array_api_obj(value)


def register(target: str | Callable, fast: Callable) -> None:
    """Install ``fast`` as the drop-in for ``target`` (a name, or a :func:`replaceable`
    function).  ``fast`` takes the same arguments and must give bitwise the same results."""
    name = getattr(target, "fastpath_name", target)
    if name not in _PLAIN:
        raise KeyError(f"no replaceable function is named {name!r}")
    _FAST[name] = fast
    if _enabled:
        _ACTIVE[name] = fast


def forget(name: str) -> None:
    """Remove ``name`` (its plain formula and any fast path) from the registry: for probes
    and tests that mark throw-away functions.  Unknown names are ignored."""
    for table in (_PLAIN, _FAST, _ACTIVE):
        table.pop(name, None)


def set_enabled(enabled: bool) -> None:
    """Run registered fast paths (True, the default) or the plain formulas only (False)."""
    global _enabled
    _enabled = bool(enabled)
    _ACTIVE.clear()
    if _enabled:
        _ACTIVE.update(_FAST)


def enabled() -> bool:
    """Whether registered fast paths run."""
    return _enabled


def registered() -> dict[str, tuple[Callable, Callable]]:
    """``{name: (plain, fast)}`` for every replaceable function that has a fast path."""
    return {name: (_PLAIN[name], fast) for name, fast in sorted(_FAST.items())}


def replaceables() -> dict[str, Callable]:
    """``{name: plain}`` for every function marked :func:`replaceable`."""
    return dict(sorted(_PLAIN.items()))
