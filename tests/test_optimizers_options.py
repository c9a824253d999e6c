"""Keras's shared optimizer options (clipnorm, global_clipnorm, clipvalue, weight_decay),
Adadelta and the learning-rate schedules: hand-derived float64 steps and schedule values,
argument checks, configs, serialization and saving a model with a schedule."""

from __future__ import annotations

import math

import numpy as np
import pytest

import scratchnn as snn
from scratchnn import optimizers
from scratchnn.layers import Dense, Input
from scratchnn.optimizers import schedules
from scratchnn.optimizers.schedules import CosineDecay


def _f32(x: float) -> float:
    return float(np.float32(x))


def _vars():
    return [np.array([1.0, -2.0]), np.array([[0.5], [3.0], [-1.0]])]


GRADS = [[3.0, 4.0], [0.1, -0.2, 0.2]]  # norms 5 and 0.3


def _step(opt, grads=GRADS):
    variables = _vars()
    gs = [np.array(g, dtype=np.float64).reshape(v.shape) for g, v in zip(grads, variables)]
    copies = [g.copy() for g in gs]
    opt.apply(gs, variables)
    for g, c in zip(gs, copies):  # the caller's gradients are never modified
        np.testing.assert_array_equal(g, c)
    return [v.ravel().tolist() for v in variables]


def _sgd_expected(clipped, lr=0.1, decay=0.0):
    start = [v.ravel().tolist() for v in _vars()]
    return [[p - p * decay * lr - lr * g for p, g in zip(ps, gs)]
            for ps, gs in zip(start, clipped)]


def test_clipnorm_scales_each_variable_to_its_own_norm():
    got = _step(optimizers.SGD(0.1, clipnorm=1.0))
    clipped = [[3.0 / 5, 4.0 / 5], GRADS[1]]  # norm 0.3 < 1: unchanged (g * 1 / 1)
    np.testing.assert_allclose(got[0], _sgd_expected(clipped)[0], rtol=1e-15)
    np.testing.assert_allclose(got[1], _sgd_expected(clipped)[1], rtol=1e-15)


def test_global_clipnorm_scales_all_by_the_joint_norm():
    joint = math.sqrt(25 + 0.01 + 0.04 + 0.04)
    clipped = [[g * 2.0 / joint for g in gs] for gs in GRADS]
    got = _step(optimizers.SGD(0.1, global_clipnorm=2.0))
    for a, b in zip(got, _sgd_expected(clipped)):
        np.testing.assert_allclose(a, b, rtol=1e-15)
    unclipped = _step(optimizers.SGD(0.1, global_clipnorm=10.0))  # joint norm < 10
    for a, b in zip(unclipped, _sgd_expected(GRADS)):
        np.testing.assert_allclose(a, b, rtol=1e-15)


def test_clipvalue_clips_each_element():
    got = _step(optimizers.SGD(0.1, clipvalue=0.15))
    clipped = [[0.15, 0.15], [0.1, -0.15, 0.15]]
    assert got == _sgd_expected(clipped)


def test_clip_helpers_edge_cases():
    zero = np.zeros(3)
    assert np.array_equal(optimizers.clip_by_norm(zero, 1.0), zero)  # where-trick: no NaN
    inf = optimizers.clip_by_global_norm([np.array([np.inf, 1.0]), np.ones(2)], 1.0)
    assert all(np.isnan(g).all() for g in inf)  # Keras's finite trick
    g32 = np.array([3.0, 4.0], dtype=np.float32)
    assert optimizers.clip_by_norm(g32, 1.0).dtype == np.float32


def test_weight_decay_before_the_step():
    got = _step(optimizers.SGD(0.1, weight_decay=0.05))
    for a, b in zip(got, _sgd_expected(GRADS, decay=_f32(0.05))):
        np.testing.assert_allclose(a, b, rtol=1e-15)


def test_weight_decay_then_momentum_in_keras_order():
    opt = optimizers.SGD(0.1, momentum=0.9, weight_decay=0.01, clipvalue=1.0)
    p, m = 2.0, 0.0
    v = np.array([2.0])
    for g in (3.0, -0.5, 0.25):
        opt.apply([np.array([g])], [v])
        p = p - p * _f32(0.01) * 0.1
        m = m * _f32(0.9) - min(max(g, -1.0), 1.0) * 0.1
        p = p + m
        assert v[0] == pytest.approx(p, rel=1e-15)
    assert opt.iterations == 3


def test_adadelta_by_hand():
    lr, rho, eps = 0.5, 0.9, 1e-6
    opt = optimizers.Adadelta(lr, rho=rho, epsilon=eps)
    v = np.array([1.0])
    acc_g = acc_d = 0.0
    p = 1.0
    for g in (0.5, -1.0, 2.0):
        acc_g = rho * acc_g + (1 - rho) * g * g
        delta = -(math.sqrt(acc_d + eps) * g / math.sqrt(acc_g + eps))
        acc_d = rho * acc_d + (1 - rho) * delta * delta
        p = p + lr * delta
        opt.apply([np.array([g])], [v])
        assert v[0] == pytest.approx(p, rel=1e-14)
    assert opt.slots(0)["accumulated_delta_var"][0] == pytest.approx(acc_d, rel=1e-14)
    assert optimizers.get("adadelta").get_config() == {
        "learning_rate": 0.001, "rho": 0.95, "epsilon": 1e-7}


# -- schedules: the hand formulas (float64) vs the float32 values ------------------------------
HAND = {
    "exp": (schedules.ExponentialDecay(0.1, 10, 0.5), lambda s: 0.1 * 0.5 ** (s / 10)),
    "exp-stair": (schedules.ExponentialDecay(0.1, 10, 0.5, staircase=True),
                  lambda s: 0.1 * 0.5 ** (s // 10)),
    "inverse": (schedules.InverseTimeDecay(0.1, 10, 0.5), lambda s: 0.1 / (1 + 0.5 * s / 10)),
    "piecewise": (schedules.PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1]),
                  lambda s: 1.0 if s <= 10 else 0.5 if s <= 20 else 0.1),
    "poly": (schedules.PolynomialDecay(0.1, 20, 0.01, power=2.0),
             lambda s: (0.1 - 0.01) * (1 - min(s, 20) / 20) ** 2 + 0.01),
    "poly-cycle": (schedules.PolynomialDecay(0.1, 20, 0.01, cycle=True),
                   lambda s: (0.1 - 0.01) * (1 - s / (20 * max(1, math.ceil(s / 20)))) + 0.01),
    "cosine": (schedules.CosineDecay(0.1, 20, alpha=0.1),
               lambda s: 0.1 * (0.9 * 0.5 * (1 + math.cos(math.pi * min(s, 20) / 20)) + 0.1)),
    "warmup": (schedules.CosineDecay(0.0, 20, warmup_target=0.1, warmup_steps=10),
               lambda s: 0.1 * s / 10 if s < 10
               else 0.1 * 0.5 * (1 + math.cos(math.pi * min(s - 10, 20) / 20))),
    "restarts": (schedules.CosineDecayRestarts(0.1, 10, t_mul=2.0, m_mul=0.5),
                 # periods [0, 10), [10, 30), [30, 70): restart i has length 10 * 2**i
                 lambda s: _restart_by_hand(s)),
}


def _restart_by_hand(s):
    start, length, i = 0, 10, 0
    while s >= start + length:
        start, length, i = start + length, length * 2, i + 1
    return 0.1 * 0.5 ** i * 0.5 * (1 + math.cos(math.pi * (s - start) / length))


@pytest.mark.parametrize("name", list(HAND))
def test_schedules_by_hand(name):
    schedule, formula = HAND[name]
    for step in (0, 1, 5, 9, 10, 11, 19, 20, 21, 29, 30, 31, 45, 69, 100):
        value = schedule(step)
        assert isinstance(value, np.float32)
        assert float(value) == pytest.approx(formula(step), rel=3e-6, abs=1e-9), step


@pytest.mark.parametrize(("make", "message"), [
    (lambda: schedules.ExponentialDecay(0.1, 0, 0.5), "decay_steps` must be > 0"),
    (lambda: schedules.CosineDecayRestarts(0.1, -1), "first_decay_steps` must be > 0"),
    (lambda: schedules.PiecewiseConstantDecay([1, 2], [1.0]), "1 less than the length"),
    (lambda: optimizers.Adam(clipnorm=1.0, clipvalue=1.0), "Only one of `clipnorm`"),
])
def test_keras_errors(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_schedule_drives_the_rate_and_is_not_settable():
    schedule = schedules.ExponentialDecay(0.1, 1, 0.5)
    opt = optimizers.SGD(schedule)
    v = np.array([0.0])
    assert opt.learning_rate == _f32(0.1) and opt.schedule is schedule  # float32, as Keras
    opt.apply([np.array([1.0])], [v])  # step 0 uses the rate at iterations 0
    opt.apply([np.array([1.0])], [v])  # then 0.05
    assert v[0] == pytest.approx(-0.15, rel=1e-7)
    assert opt.learning_rate == _f32(0.025)
    with pytest.raises(TypeError, match="not settable"):
        opt.learning_rate = 0.01
    opt.learning_rate = schedules.InverseTimeDecay(0.2, 1, 1.0)  # a schedule replaces it
    assert opt.learning_rate == pytest.approx(0.2 / 3)


def test_config_and_round_trip_with_options_and_schedule():
    opt = optimizers.Adam(CosineDecay(0.01, 100, warmup_target=0.1, warmup_steps=5),
                          clipnorm=1.0, weight_decay=0.01)
    spec = optimizers.serialize(opt)
    assert spec["config"]["learning_rate"] == {"class_name": "CosineDecay", "config": {
        "initial_learning_rate": 0.01, "decay_steps": 100, "alpha": 0.0, "name": "CosineDecay",
        "warmup_target": 0.1, "warmup_steps": 5}}
    assert spec["config"]["clipnorm"] == 1.0 and spec["config"]["weight_decay"] == 0.01
    assert "clipvalue" not in spec["config"]  # unset options stay out (older files unchanged)
    back = optimizers.deserialize(spec)
    assert back.get_config() == opt.get_config() and back.needs_per_variable_gradients
    assert not optimizers.SGD(clipvalue=1.0, weight_decay=0.1).needs_per_variable_gradients
    assert optimizers.SGD(global_clipnorm=1.0).needs_per_variable_gradients
    assert optimizers.AdamW().get_config()["weight_decay"] == 0.004


@pytest.mark.parametrize("make", [
    lambda: optimizers.Adam(learning_rate=schedules.ExponentialDecay(0.01, 3, 0.9), clipnorm=1.0),
    lambda: optimizers.Adadelta(0.5, rho=0.9, weight_decay=0.01, clipvalue=0.5),
], ids=["adam-schedule-clipnorm", "adadelta-options"])
def test_saved_model_continues_identically(tmp_path, make):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((64, 4)), rng.integers(0, 3, 64)
    snn.utils.set_random_seed(3)
    model = snn.Sequential([Input((4,)), Dense(5, activation="tanh"),
                            Dense(3, activation="softmax")])
    model.compile(make(), "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    model.save(tmp_path / "model.npz")
    loaded = snn.models.load_model(tmp_path / "model.npz")
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    assert loaded.optimizer.iterations == model.optimizer.iterations == 8
    assert loaded.optimizer.learning_rate == model.optimizer.learning_rate
    for m in (model, loaded):
        snn.utils.set_random_seed(5)
        m.fit(x, y, epochs=1, batch_size=16, verbose=0)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
