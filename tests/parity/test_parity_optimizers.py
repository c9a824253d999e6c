"""Optimizers fed the same gradient sequence: parameters compared after every one of 240 steps.

The gradients span eleven orders of magnitude (so Adam's epsilon matters for some entries),
include exact zeros and a block that is always zero (a "dead" unit), and carry a constant drift
(so momentum accumulates).  The learning rate changes at steps 120 and 180.
"""

from __future__ import annotations

import numpy as np
import pytest
from parity_helpers import gradient_sequence

import scratchnn as snn
import tfref

SHAPES = [(30, 16), (16,), (16, 3), (3,)]
STEPS = 240

OPTIMIZERS = {
    "sgd": (lambda: snn.optimizers.SGD(0.01), {120: 0.002, 180: 0.05}),
    "sgd-momentum": (lambda: snn.optimizers.SGD(0.01, momentum=0.9), {120: 0.002, 180: 0.02}),
    "sgd-nesterov": (lambda: snn.optimizers.SGD(0.01, momentum=0.9, nesterov=True),
                     {120: 0.002, 180: 0.02}),
    "adam": (lambda: snn.optimizers.Adam(), {120: 3e-4, 180: 2e-3}),
    "adam-custom": (lambda: snn.optimizers.Adam(0.01, beta_1=0.8, beta_2=0.99, epsilon=1e-5),
                    {120: 1e-3, 180: 5e-3}),
}


def _gradient_sequence(dtype, seed=0):
    return gradient_sequence(SHAPES, STEPS, dtype, seed)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_same_gradients_same_parameters(name, dtype, check):
    make, schedule = OPTIMIZERS[name]
    rng = np.random.default_rng(1)
    initial = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    grads = _gradient_sequence(dtype)
    opt = make()

    def on_step(step, ours, theirs):
        for i, (o, t) in enumerate(zip(ours, theirs)):
            check("parameters after optimizer steps", o, t, dtype, "optimizer",
                  label=f"[{name} {dtype}] step {step + 1}, variable {i} {SHAPES[i]}")

    diffs = tfref.run_optimizers(opt, initial, lambda s: grads[s], STEPS, schedule, on_step)
    assert len(diffs) == STEPS and opt.iterations == STEPS
    assert opt.learning_rate == schedule[180]
