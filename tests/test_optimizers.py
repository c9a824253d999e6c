"""Optimizer updates against hand-derived Keras 3 algebra, step by step."""

from __future__ import annotations

import math

import numpy as np
import pytest

from scratchnn import optimizers


def _run(opt, grads, p0):
    p = np.array(p0, dtype=np.float64)
    trace = []
    for g in grads:
        opt.apply([np.array(g, dtype=np.float64)], [p])
        trace.append(p.copy())
    return trace


def test_plain_sgd():
    trace = _run(optimizers.SGD(0.1), [[1.0, -2.0], [0.5, 0.5]], [0.0, 0.0])
    np.testing.assert_allclose(trace[0], [-0.1, 0.2])
    np.testing.assert_allclose(trace[1], [-0.15, 0.15])


def test_sgd_momentum_and_nesterov_by_hand():
    lr, mu = 0.1, 0.9
    g1, g2 = 1.0, 2.0
    m1 = -lr * g1
    m2 = mu * m1 - lr * g2
    plain = _run(optimizers.SGD(lr, momentum=mu), [[g1], [g2]], [0.0])
    assert plain[0][0] == pytest.approx(m1)
    assert plain[1][0] == pytest.approx(m1 + m2)
    nest = _run(optimizers.SGD(lr, momentum=mu, nesterov=True), [[g1], [g2]], [0.0])
    assert nest[0][0] == pytest.approx(mu * m1 - lr * g1)
    assert nest[1][0] == pytest.approx((mu * m1 - lr * g1) + (mu * m2 - lr * g2))


def test_adam_by_hand_three_steps():
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-7
    grads = [0.5, -1.0, 2.0]
    m = v = 0.0
    p = 1.0
    expected = []
    for t, g in enumerate(grads, start=1):
        m = m + (g - m) * (1 - b1)
        v = v + (g * g - v) * (1 - b2)
        # Keras's ops.cast(beta) goes through float32, so the powers use float32-rounded betas
        b1r, b2r = float(np.float32(b1)), float(np.float32(b2))
        alpha = lr * math.sqrt(1 - b2r**t) / (1 - b1r**t)
        p = p - alpha * m / (math.sqrt(v) + eps)
        expected.append(p)
    opt = optimizers.Adam(lr)
    trace = _run(opt, [[g] for g in grads], [1.0])
    np.testing.assert_allclose([t[0] for t in trace], expected, rtol=1e-14)
    assert opt.iterations == 3


def test_adam_first_step_is_lr_times_sign():
    # With bias correction the first step is lr * g/(|g| + eps/sqrt(1-b2)) ~ lr * sign(g).
    trace = _run(optimizers.Adam(0.001), [[3.0, -0.2]], [0.0, 0.0])
    np.testing.assert_allclose(trace[0], [-0.001, 0.001], rtol=1e-4)


def test_learning_rate_change_takes_effect():
    opt = optimizers.SGD(0.1)
    p = np.zeros(1)
    opt.apply([np.ones(1)], [p])
    opt.learning_rate = 0.01
    opt.apply([np.ones(1)], [p])
    assert p[0] == pytest.approx(-0.11)


def test_float32_update_stays_float32_and_in_place():
    p = np.ones(3, dtype=np.float32)
    ref = p
    optimizers.Adam().apply([np.ones(3, dtype=np.float32)], [p])
    assert p is ref and p.dtype == np.float32


def test_state_roundtrip_continues_identically():
    rng = np.random.default_rng(0)
    grads = rng.standard_normal((6, 4))
    a, b = optimizers.Adam(0.01), optimizers.Adam(0.01)
    pa = np.zeros(4)
    for g in grads[:3]:
        a.apply([g], [pa])
    pb = pa.copy()
    b.set_state({k: v.copy() for k, v in a.get_state().items()}, [pb])
    for g in grads[3:]:
        a.apply([g], [pa])
        b.apply([g], [pb])
    np.testing.assert_array_equal(pa, pb)


def test_validation():
    with pytest.raises(ValueError, match="Unknown optimizer 'lion'"):
        optimizers.get("lion")
    with pytest.raises(ValueError, match="learning_rate"):
        optimizers.SGD(-1.0)
    with pytest.raises(ValueError, match="beta_1"):
        optimizers.Adam(beta_1=1.0)
    opt = optimizers.SGD()
    opt.apply([np.ones(2)], [np.zeros(2)])
    with pytest.raises(ValueError, match="do not match"):
        opt.apply([np.ones(3)], [np.zeros(3)])
    assert isinstance(optimizers.get("adam"), optimizers.Adam)
    assert isinstance(optimizers.get("SGD"), optimizers.SGD)
