"""Keras 3's shared optimizer options (clipnorm, clipvalue, global_clipnorm, weight_decay),
Adadelta and every learning-rate schedule driving Adam, against Keras step by step.

Three variables of different shapes get the same 150 gradients on both sides (eleven orders of
magnitude, exact zeros, a dead unit, as in ``test_parity_optimizers_toolbox.py``); the
parameters are compared after every step: float64 to ~1e-15 relative (the norms are sums,
which NumPy and TensorFlow may add in a different order), float32 within the documented
"optimizer" tolerance.  Schedule values are compared at steps 0..300 in float32, bitwise.
"""

from __future__ import annotations

import numpy as np
import pytest
from parity_helpers import gradient_sequence

import scratchnn as snn
import tfref

SHAPES = [(12, 7), (7,), (4, 3, 2)]
STEPS = 150
opts = snn.optimizers
sch = snn.optimizers.schedules

SCHEDULES = {
    "exponential": lambda: sch.ExponentialDecay(0.01, 20, 0.7),
    "exponential-staircase": lambda: sch.ExponentialDecay(0.01, 15, 0.5, staircase=True),
    "inverse-time": lambda: sch.InverseTimeDecay(0.01, 10, 0.5),
    "inverse-time-staircase": lambda: sch.InverseTimeDecay(0.01, 7, 0.3, staircase=True),
    "piecewise": lambda: sch.PiecewiseConstantDecay([30, 80, 120], [0.01, 0.005, 0.002, 5e-4]),
    "polynomial": lambda: sch.PolynomialDecay(0.01, 100, 1e-4, power=2.0),
    "polynomial-cycle": lambda: sch.PolynomialDecay(0.01, 40, 1e-3, power=0.5, cycle=True),
    "cosine": lambda: sch.CosineDecay(0.01, 120, alpha=0.1),
    "cosine-warmup": lambda: sch.CosineDecay(0.0, 100, warmup_target=0.01, warmup_steps=30),
    "cosine-restarts": lambda: sch.CosineDecayRestarts(0.01, 20, alpha=0.05, m_mul=0.8),
    "cosine-restarts-t1": lambda: sch.CosineDecayRestarts(0.01, 25, t_mul=1.0, m_mul=0.9),
}

OPTIMIZERS = {
    "adadelta": lambda: opts.Adadelta(1.0),
    "adadelta-custom": lambda: opts.Adadelta(0.5, rho=0.8, epsilon=1e-5),
    "adam-clipnorm": lambda: opts.Adam(0.01, clipnorm=1.0),
    "adam-clipvalue": lambda: opts.Adam(0.01, clipvalue=0.5),
    "adam-global-clipnorm": lambda: opts.Adam(0.01, global_clipnorm=2.0),
    "sgd-momentum-clipnorm": lambda: opts.SGD(0.01, momentum=0.9, clipnorm=0.5),
    "sgd-momentum-clipvalue": lambda: opts.SGD(0.01, momentum=0.9, clipvalue=0.1),
    "sgd-nesterov-global-clipnorm": lambda: opts.SGD(0.01, 0.9, True, global_clipnorm=1.0),
    "sgd-weight-decay": lambda: opts.SGD(0.05, momentum=0.5, weight_decay=0.1),
    "rmsprop-weight-decay": lambda: opts.RMSprop(0.003, weight_decay=0.05),
    "adamw-clipnorm": lambda: opts.AdamW(0.01, weight_decay=0.1, clipnorm=1.0),
    **{f"adam-{name}": (lambda make=make: opts.Adam(make())) for name, make in SCHEDULES.items()},
    "adam-cosine-clipnorm-weight-decay": lambda: opts.Adam(SCHEDULES["cosine"](), clipnorm=1.0,
                                                           weight_decay=0.01),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_same_gradients_same_parameters(name, dtype, check):
    rng = np.random.default_rng(2)
    initial = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    grads = gradient_sequence(SHAPES, STEPS, dtype, seed=3)
    opt = OPTIMIZERS[name]()
    changes = {} if opt.schedule is not None else {100: opt.learning_rate / 3}

    def on_step(step, ours, theirs):
        for i, (o, t) in enumerate(zip(ours, theirs)):
            check("parameters after optimizer steps (options)", o, t, dtype, "optimizer",
                  label=f"[{name} {dtype}] step {step + 1}, variable {i} {SHAPES[i]}")

    diffs = tfref.run_optimizers(opt, initial, lambda s: grads[s], STEPS, changes, on_step)
    assert len(diffs) == STEPS and opt.iterations == STEPS
    if dtype == "float64":
        assert max(d.max_rel for d in diffs) < 1e-13, name


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_schedule_values_bitwise(name):
    tf, keras = tfref.backend.require_tf()

    ours = SCHEDULES[name]()
    theirs = tfref.optim.schedule(ours)
    steps = np.arange(301)
    mine = np.array([ours(int(s)) for s in steps])
    ref = np.array([np.asarray(theirs(tf.constant(s, dtype=tf.int64))) for s in steps])
    assert mine.dtype == np.float32 and ref.dtype == np.float32
    np.testing.assert_array_equal(mine, ref, err_msg=name)
    assert type(theirs) is getattr(keras.optimizers.schedules, type(ours).__name__)


def test_keras_options_convert_both_ways():
    _, keras = tfref.backend.require_tf()
    ours = tfref.from_keras_optimizer(
        keras.optimizers.SGD(0.1, momentum=0.5, clipnorm=1.0, weight_decay=0.01))
    assert ours.get_config() == {"learning_rate": pytest.approx(0.1), "momentum": 0.5,
                                 "nesterov": False, "clipnorm": 1.0, "weight_decay": 0.01}
    twin = tfref.optimizer(opts.Adam(sch.CosineDecay(0.01, 10), global_clipnorm=2.0))
    assert twin.global_clipnorm == 2.0
    assert twin.get_config()["learning_rate"][
        "class_name"] == "CosineDecay"
