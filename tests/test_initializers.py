"""Initializers: distributions match Keras's formulas; seeds make them reproducible."""

from __future__ import annotations

import math

import numpy as np
import pytest

from scratchnn import initializers

SHAPE = (400, 300)  # fan_in 400, fan_out 300: 120k draws, tight moment estimates


def _draw(name, **kw):
    return initializers.get(name)(SHAPE, np.float64, np.random.default_rng(0)) if not kw else \
        initializers.INITIALIZERS.lookup(name)(**kw)(SHAPE, np.float64, np.random.default_rng(0))


@pytest.mark.parametrize("name, limit", [
    ("glorot_uniform", math.sqrt(6 / 700)), ("he_uniform", math.sqrt(6 / 400))])
def test_uniform_limits_and_variance(name, limit):
    w = _draw(name)
    assert np.abs(w).max() <= limit and np.abs(w).max() > 0.99 * limit
    assert w.var() == pytest.approx(limit**2 / 3, rel=0.02)


@pytest.mark.parametrize("name, std", [
    ("glorot_normal", math.sqrt(2 / 700)), ("he_normal", math.sqrt(2 / 400))])
def test_truncated_normals_have_target_variance(name, std):
    w = _draw(name)
    # truncation at 2 sigma of the *untruncated* scale; rescaled so the variance is std**2
    assert np.abs(w).max() <= 2 * std / 0.87962566103423978 + 1e-12
    assert w.std() == pytest.approx(std, rel=0.02)
    assert abs(w.mean()) < 0.01 * std * 10


def test_constant_and_random_normal():
    assert not _draw("zeros").any()
    assert (_draw("ones") == 1).all()
    w = _draw("random_normal")
    assert w.std() == pytest.approx(0.05, rel=0.02)


def test_seeded_initializers_repeat():
    init = initializers.GlorotUniform(seed=3)
    a = init((5, 4), np.float32, np.random.default_rng(0))
    b = init((5, 4), np.float32, np.random.default_rng(99))
    np.testing.assert_array_equal(a, b)
    c = initializers.GlorotUniform(seed=4)((5, 4), np.float32, None)
    assert not np.array_equal(a, c)
    assert a.dtype == np.float32


def test_serialize_roundtrip():
    init = initializers.RandomNormal(mean=1.0, stddev=0.5, seed=2)
    again = initializers.get(initializers.serialize(init))
    assert isinstance(again, initializers.RandomNormal)
    assert again.get_config() == init.get_config()
    with pytest.raises(ValueError, match="Unknown initializer"):
        initializers.get("lecun_magic")
