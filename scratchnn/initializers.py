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
the ``rng`` passed in (the model's, seeded by ``scratchnn.utils.set_random_seed``), or, when the
initializer was created with ``seed=``, from its own generator seeded with it (so the same seeded
initializer gives the same values every call, as in Keras).  The values differ from Keras's for
the same seed — parity tests copy weights instead.
"""

from __future__ import annotations

import math

import numpy as np

from scratchnn.registry import Registry

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
    seed: int | None = None

    def _rng(self, rng: np.random.Generator | None) -> np.random.Generator:
        if self.seed is not None:
            return np.random.default_rng(self.seed)
        return rng if rng is not None else np.random.default_rng()

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

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        self.mean, self.stddev, self.seed = float(mean), float(stddev), seed

    def __call__(self, shape, dtype, rng=None):
        return self._rng(rng).normal(self.mean, self.stddev, shape).astype(dtype)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class RandomUniform(Initializer):
    name = "random_uniform"

    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: int | None = None):
        self.minval, self.maxval, self.seed = float(minval), float(maxval), seed

    def __call__(self, shape, dtype, rng=None):
        return self._rng(rng).uniform(self.minval, self.maxval, shape).astype(dtype)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class VarianceScaling(Initializer):
    """Keras's VarianceScaling: variance ``scale / n`` with n = fan_in, fan_out or their mean."""

    name = "variance_scaling"

    def __init__(self, scale: float = 1.0, mode: str = "fan_in",
                 distribution: str = "truncated_normal", seed: int | None = None):
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"mode must be fan_in, fan_out or fan_avg, got {mode!r}")
        if distribution not in ("uniform", "truncated_normal"):
            raise ValueError(f"distribution must be uniform or truncated_normal, got "
                             f"{distribution!r}")
        self.scale, self.mode, self.distribution = float(scale), mode, distribution
        self.seed = seed

    def get_config(self):
        return {"seed": self.seed}

    def __call__(self, shape, dtype, rng=None):
        rng = self._rng(rng)
        fan_in, fan_out = _fans(tuple(shape))
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        var = self.scale / max(1.0, n)
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * var)
            return rng.uniform(-limit, limit, shape).astype(dtype)
        return _truncated_normal(shape, math.sqrt(var) / _TRUNC_STD, dtype, rng)


class GlorotUniform(VarianceScaling):
    name = "glorot_uniform"

    def __init__(self, seed: int | None = None):
        super().__init__(1.0, "fan_avg", "uniform", seed=seed)


class GlorotNormal(VarianceScaling):
    name = "glorot_normal"

    def __init__(self, seed: int | None = None):
        super().__init__(1.0, "fan_avg", "truncated_normal", seed=seed)


class HeUniform(VarianceScaling):
    name = "he_uniform"

    def __init__(self, seed: int | None = None):
        super().__init__(2.0, "fan_in", "uniform", seed=seed)


class HeNormal(VarianceScaling):
    name = "he_normal"

    def __init__(self, seed: int | None = None):
        super().__init__(2.0, "fan_in", "truncated_normal", seed=seed)


INITIALIZERS: Registry[Initializer] = Registry("initializer", base=Initializer)
for _cls in (Zeros, Ones, RandomNormal, RandomUniform, GlorotUniform, GlorotNormal, HeUniform,
             HeNormal):
    INITIALIZERS.add(_cls, _cls.name)


def get(identifier: str | dict | Initializer) -> Initializer:
    """Resolve an initializer name (Keras's snake_case names), a spec dict (the output of
    :func:`serialize`), or pass an instance through."""
    return INITIALIZERS.get(identifier)


def serialize(init: Initializer) -> dict:
    """JSON-friendly description of ``init`` (inverse of :func:`get`)."""
    return INITIALIZERS.serialize(init)


def deserialize(spec: str | dict) -> Initializer:
    """Inverse of :func:`serialize`."""
    return INITIALIZERS.deserialize(spec)
