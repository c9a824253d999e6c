"""One process-wide random generator, so that one seed fixes everything.

Weight initialization, ``fit`` shuffling, ``validation_split`` and ``train_test_split`` all
draw from the generator returned by :func:`global_rng` unless given their own seed.
``set_random_seed(s)`` replaces it with ``numpy.random.default_rng(s)``.
"""

from __future__ import annotations

import numpy as np

_RNG = np.random.default_rng()


def set_random_seed(seed: int) -> None:
    """Seed the generator used for initialization, shuffling and splits."""
    global _RNG
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    _RNG = np.random.default_rng(int(seed))


def global_rng() -> np.random.Generator:
    """Return the process-wide generator (reseeded by :func:`set_random_seed`)."""
    return _RNG


def rng_from(seed: int | np.random.Generator | None) -> np.random.Generator:
    """A generator for ``seed``: a fresh seeded one, the given one, or the global one."""
    if seed is None:
        return _RNG
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(int(seed))
