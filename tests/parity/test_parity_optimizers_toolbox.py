"""RMSprop, Adagrad, AdamW, Adamax, Nadam and Adam's AMSGrad against Keras 3, step by step.

Both sides get the same 150 gradients (eleven orders of magnitude, exact zeros, a dead unit and
a drift, as in ``test_parity_optimizers.py``), the learning rate changes at step 100, and the
parameters are compared after every step: float64 to ~1e-15 relative (reported by the summary;
asserted within the documented "optimizer" tolerance), float32 within its tolerance.
"""

from __future__ import annotations

import numpy as np
import pytest
from parity_helpers import gradient_sequence

import scratchnn as snn
import tfref

SHAPES = [(30, 16), (16,), (16, 3), (3,)]
STEPS = 150
opts = snn.optimizers

OPTIMIZERS = {
    "rmsprop": lambda: opts.RMSprop(),
    "rmsprop-momentum": lambda: opts.RMSprop(0.01, rho=0.8, momentum=0.9),
    "rmsprop-centered": lambda: opts.RMSprop(0.01, centered=True, epsilon=1e-5),
    "rmsprop-centered-momentum": lambda: opts.RMSprop(0.003, rho=0.95, momentum=0.5,
                                                   centered=True),
    "adagrad": lambda: opts.Adagrad(0.05),
    "adagrad-custom": lambda: opts.Adagrad(0.1, initial_accumulator_value=0.0, epsilon=1e-4),
    "adamw": lambda: opts.AdamW(),
    "adamw-custom": lambda: opts.AdamW(0.01, weight_decay=0.1, beta_1=0.8, amsgrad=True),
    "adamax": lambda: opts.Adamax(0.01),
    "adamax-custom": lambda: opts.Adamax(0.002, beta_1=0.8, beta_2=0.99, epsilon=1e-5),
    "nadam": lambda: opts.Nadam(0.01),
    "nadam-custom": lambda: opts.Nadam(0.002, beta_1=0.8, beta_2=0.99, epsilon=1e-5),
    "adam-amsgrad": lambda: opts.Adam(0.01, amsgrad=True),
}


def _gradient_sequence(dtype, seed=0):
    return gradient_sequence(SHAPES, STEPS, dtype, seed)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_same_gradients_same_parameters(name, dtype, check):
    rng = np.random.default_rng(1)
    initial = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    grads = _gradient_sequence(dtype)
    opt = OPTIMIZERS[name]()
    new_rate = opt.learning_rate / 3

    def on_step(step, ours, theirs):
        for i, (o, t) in enumerate(zip(ours, theirs)):
            check("parameters after optimizer steps (toolbox)", o, t, dtype, "optimizer",
                  label=f"[{name} {dtype}] step {step + 1}, variable {i} {SHAPES[i]}")

    diffs = tfref.run_optimizers(opt, initial, lambda s: grads[s], STEPS, {100: new_rate},
                                 on_step)
    assert len(diffs) == STEPS and opt.iterations == STEPS
    if dtype == "float64":  # the same operations in the same order: near machine precision
        assert max(d.max_rel for d in diffs) < 1e-13, name
