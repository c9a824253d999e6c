"""Weight initializers, with Keras's names, formulas and defaults.

Each initializer is called as ``init(shape, dtype, rng)`` and returns a new array.  For a Dense
kernel of shape (fan_in, fan_out):

* ``glorot_uniform``: U(-l, l), l = sqrt(6 / (fan_in + fan_out))  (Keras's Dense default)
* ``glorot_normal``: truncated N(0, s), s = sqrt(2 / (fan_in + fan_out)) / .87962566103423978
* ``he_uniform``: U(-l, l), l = sqrt(6 / fan_in)
* ``he_normal``: truncated N(0, s), s = sqrt(2 / fan_in) / .87962566103423978
* ``random_normal``: N(mean=0, stddev=0.05); ``random_uniform``: U(-0.05, 0.05)
* ``zeros``, ``ones``

Truncated normals redraw values beyond two standard deviations, as Keras does; the constant
.8796... rescales so the truncated distribution has the intended variance.  Randomness comes from
the ``rng`` passed in (the model's, seeded by ``scratchnn.utils.set_random_seed``); the values
therefore differ from Keras's for the same seed — parity tests copy weights instead.
"""

from __future__ import annotations

import math

import numpy as np

_TRUNC_STD = 0.87962566103423978


def _fans(shape: tuple[int, ...]) -> tuple[int, int]:
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = math.prod(shape[:-2]) if len(shape) > 2 else 1
    return shape[-2] * receptive, shape[-1] * receptive


def _truncated_normal(shape, std: float, dtype, rng: np.random.Generator) -> np.ndarray:
    out = rng.standard_normal(shape)
    bad = np.abs(out) > 2
    while bad.any():
        out[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(out) > 2
    return (out * std).astype(dtype)


class Initializer:
    """Base class: ``__call__(shape, dtype, rng) -> np.ndarray``."""

    name = "initializer"

    def __call__(self, shape, dtype, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {}


class Zeros(Initializer):
    name = "zeros"

    def __call__(self, shape, dtype, rng=None):
        return np.zeros(shape, dtype)


class Ones(Initializer):
    name = "ones"

    def __call__(self, shape, dtype, rng=None):
        return np.ones(shape, dtype)


class RandomNormal(Initializer):
    name = "random_normal"

    def __init__(self, mean: float = 0.0, stddev: float = 0.05):
        self.mean, self.stddev = float(mean), float(stddev)

    def __call__(self, shape, dtype, rng):
        return rng.normal(self.mean, self.stddev, shape).astype(dtype)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev}


class RandomUniform(Initializer):
    name = "random_uniform"

    def __init__(self, minval: float = -0.05, maxval: float = 0.05):
        self.minval, self.maxval = float(minval), float(maxval)

    def __call__(self, shape, dtype, rng):
        return rng.uniform(self.minval, self.maxval, shape).astype(dtype)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval}


class VarianceScaling(Initializer):
    """Keras's VarianceScaling: variance ``scale / n`` with n = fan_in, fan_out or their mean."""

    name = "variance_scaling"

    def __init__(self, scale: float, mode: str, distribution: str):
        self.scale, self.mode, self.distribution = float(scale), mode, distribution

    def __call__(self, shape, dtype, rng):
        fan_in, fan_out = _fans(tuple(shape))
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        var = self.scale / max(1.0, n)
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * var)
            return rng.uniform(-limit, limit, shape).astype(dtype)
        return _truncated_normal(shape, math.sqrt(var) / _TRUNC_STD, dtype, rng)


class GlorotUniform(VarianceScaling):
    name = "glorot_uniform"

    def __init__(self):
        super().__init__(1.0, "fan_avg", "uniform")


class GlorotNormal(VarianceScaling):
    name = "glorot_normal"

    def __init__(self):
        super().__init__(1.0, "fan_avg", "truncated_normal")


class HeUniform(VarianceScaling):
    name = "he_uniform"

    def __init__(self):
        super().__init__(2.0, "fan_in", "uniform")


class HeNormal(VarianceScaling):
    name = "he_normal"

    def __init__(self):
        super().__init__(2.0, "fan_in", "truncated_normal")


_CLASSES = {
    c.name: c
    for c in (Zeros, Ones, RandomNormal, RandomUniform, GlorotUniform, GlorotNormal, HeUniform,
              HeNormal)
}


def get(identifier: str | Initializer) -> Initializer:
    """Resolve an initializer name (Keras's snake_case names) or pass an instance through."""
    if isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, str):
        try:
            return _CLASSES[identifier.lower()]()
        except KeyError:
            raise ValueError(
                f"Unknown initializer {identifier!r}; known: {sorted(_CLASSES)}"
            ) from None
    if isinstance(identifier, dict) and identifier.get("name") in _CLASSES:
        return _CLASSES[identifier["name"]](**identifier.get("config", {}))
    raise TypeError(f"Cannot interpret {identifier!r} as an initializer")


def serialize(init: Initializer) -> dict:
    """JSON-friendly description of ``init`` (inverse of :func:`get`)."""
    if init.name not in _CLASSES:
        raise ValueError(f"Initializer {init!r} cannot be saved")
    return {"name": init.name, "config": init.get_config()}
