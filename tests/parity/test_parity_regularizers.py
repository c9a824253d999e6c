"""Regularizers against Keras 3: L1, L2 and L1L2 on kernels, biases and activities.

Both sides start from the same weights (``tfref.to_keras`` carries the regularizers over):

* the penalties themselves, on arrays of both dtypes;
* the training loss (data loss + every penalty, ``Trainer.compute_loss`` with ``model.losses``)
  and every gradient, scratchnn's ``compute_gradients`` against ``tf.GradientTape``;
* 50 lockstep SGD and Adam steps through both ``fit`` loops (``tfref.fit_like``), parameters
  compared after every step, then the ``fit`` history and ``evaluate``.

Float64 agrees to rounding (asserted within the documented tolerances, measured values in the
summary); float32 within its documented tolerances.
"""

from __future__ import annotations

import numpy as np
import pytest

import scratchnn as snn
import tfref
from scratchnn import regularizers as R
from scratchnn.layers import Dense, Input

REGULARIZERS = {"l1": lambda: R.L1(0.02), "l2": lambda: R.L2(0.03),
                "l1l2": lambda: R.L1L2(0.01, 0.02)}
NETWORKS = {
    # last layer softmax + cross-entropy: the fused head (no activity penalty on that layer)
    "softmax-ce": ("softmax", "categorical_crossentropy", True),
    "linear-mse": ("linear", "mse", True),
    "sigmoid-mse": ("sigmoid", "mse", True),
}


def _model(dtype, reg, net, optimizer="sgd", seed=0):
    out, loss, last_activity = NETWORKS[net]
    make = REGULARIZERS[reg]
    model = snn.Sequential([
        Input((6,)),
        Dense(8, activation="tanh", kernel_regularizer=make(), bias_regularizer=make(),
              activity_regularizer=make()),
        Dense(7, activation="relu", kernel_regularizer=make(), activity_regularizer=make()),
        Dense(3, activation=out, kernel_regularizer=make(), bias_regularizer=make(),
              activity_regularizer=make() if last_activity else None),
    ], dtype=dtype)
    model.build()
    rng = np.random.default_rng(seed)
    model.set_weights([(rng.uniform(-0.6, 0.6, w.shape) if w.ndim == 2
                        else 0.1 * rng.standard_normal(w.shape)).astype(dtype)
                       for w in model.get_weights()])
    model.compile(optimizer, loss)
    return model


def _data(n, dtype, net, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 6)).astype(dtype)
    if NETWORKS[net][1] == "mse":
        return x, rng.standard_normal((n, 3)).astype(dtype)
    return x, np.eye(3, dtype=dtype)[rng.integers(0, 3, n)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reg", list(REGULARIZERS) + ["l1-default", "l2-default"])
def test_penalty_values(reg, dtype, tf, check):
    _, keras = tf
    ours = {"l1-default": R.L1(), "l2-default": R.L2()}.get(reg) or REGULARIZERS[reg]()
    theirs = keras.regularizers.get(R.serialize(ours))
    w = np.random.default_rng(2).standard_normal((30, 20)).astype(dtype)
    check("regularizer penalty", ours(w), float(theirs(tf[0].constant(w))), dtype,
          label=f"[{reg} {dtype}]")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("net", list(NETWORKS))
@pytest.mark.parametrize("reg", list(REGULARIZERS))
def test_loss_and_every_gradient(reg, net, dtype, check):
    model = _model(dtype, reg, net)
    keras_model = tfref.to_keras(model)
    label = f"[{reg} {net} {dtype}]"
    for n in (1, 7, 32):
        x, y = _data(n, dtype, net, seed=n)
        loss, grads, dx = model.compute_gradients(x, y, return_input_grad=True)
        k_loss, k_grads, k_dx = tfref.gradients(keras_model, x, y, input_grad=True)
        assert model.regularization_loss() > 0.0
        check("regularized training loss", loss, k_loss, dtype, label=f"{label} batch {n}")
        for i, (g, kg) in enumerate(zip(grads, k_grads)):
            check("regularized parameter gradient", g, kg, dtype,
                  label=f"{label} batch {n} weight {i}")
        check("regularized input gradient", dx, k_dx, dtype, label=f"{label} batch {n}")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("net", ["softmax-ce", "linear-mse"])
@pytest.mark.parametrize("reg", list(REGULARIZERS))
def test_50_lockstep_steps_then_history_and_evaluate(reg, net, optimizer, dtype, check):
    opt = snn.optimizers.SGD(0.05) if optimizer == "sgd" else snn.optimizers.Adam(0.01)
    model = _model(dtype, reg, net, optimizer=opt)
    keras_model = tfref.to_keras(model)
    x, y = _data(400, dtype, net)  # 50 steps of 8
    label = f"[{reg} {net} {optimizer} {dtype}]"

    def on_step(epoch, step, ours, theirs):
        for i, (a, b) in enumerate(zip(ours, theirs)):
            check("weights during regularized training", a, b, dtype, "training",
                  label=f"{label} step {step + 1} weight {i}")

    result = tfref.fit_like(model, keras_model, x, y, batch_size=8, seed=0, on_step=on_step)
    assert len(result.steps) == 50
    check("regularized fit loss (epoch mean)", result.ours["loss"], result.keras["loss"], dtype,
          "trained", label=label)
    x_eval, y_eval = _data(45, dtype, net, seed=7)  # batches of 32 and 13
    ours = model.evaluate(x_eval, y_eval, batch_size=32, verbose=0)
    with tfref.keras_floatx(dtype):  # else Keras's data adapter rounds x to float32
        theirs = keras_model.evaluate(x_eval, y_eval, batch_size=32, verbose=0)
    check("regularized evaluate loss", ours, theirs, dtype, "single", label=label)


def test_round_trip_through_keras_keeps_the_regularizers():
    model = _model("float64", "l1l2", "linear-mse")
    back = tfref.from_keras(tfref.to_keras(model))
    for a, b in zip(model.layers, back.layers):
        assert a.get_config() == b.get_config()
