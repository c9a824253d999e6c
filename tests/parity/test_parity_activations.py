r"""The Keras 3 activation toolbox against TensorFlow: forward (``predict``) and every gradient
(``tf.GradientTape`` through ``tfref.gradients``) of Input(6) -> Dense(8, f) -> Activation(f)
-> Dense(8, tanh) -> Activation(f) -> Dense(3) with MSE, in float32 and float64, for each
activation ``f`` by its Keras name (tanh keeps the Activation layer's input in [-1, 1], so that
``exponential`` does not overflow).

GELU in float64 is the one deliberate difference: TensorFlow's CPU ``tf.nn.gelu`` differs from
:math:`z\Phi(z)` by up to ~4e-9, and its tanh form from the formula by ~1e-9 (scratchnn agrees
with ``math.erfc`` and the formula to an ulp or two, pinned by the hand values in
``tests/test_activations_toolbox.py``), so GELU is compared at ``GELU_FLOAT64_RTOL`` there."""

from __future__ import annotations

import numpy as np
import pytest
from parity_helpers import build, targets

import tfref

GELU_FLOAT64_RTOL = 1e-7
NAMES = ["elu", "selu", "gelu", "softplus", "softsign", "silu", "swish", "leaky_relu", "relu6",
         "hard_sigmoid", "hard_silu", "hard_swish", "exponential", "mish", "log_softmax"]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", NAMES)
def test_activation_forward_and_gradients(name, dtype, check, tf, monkeypatch):
    if name == "gelu" and dtype == "float64":
        monkeypatch.setitem(tfref.report.TOLERANCES["float64"], "single", GELU_FLOAT64_RTOL)
    rng = np.random.default_rng(sum(map(ord, name)))
    spec = [("dense", 8, name), ("dense", 8, "tanh"), ("act", name), ("dense", 3, "linear")]
    model = build(spec, (6,), dtype, rng, loss="mean_squared_error", weight_scale=2.0)
    keras_model = tfref.to_keras(model)
    x = (2 * rng.standard_normal((32, 6))).astype(dtype)
    y = targets("mean_squared_error", 32, 3, dtype, rng)
    label = f"{name} {dtype}"
    what = "exact gelu" if name == "gelu" else "activation"  # its own row in the summary

    with tfref.keras_floatx(dtype):
        k_pred = keras_model.predict(x, batch_size=32, verbose=0)
    check(f"{what} forward", model.predict(x, batch_size=32, verbose=0), k_pred, dtype,
          label=label)

    loss, grads, dx = model.compute_gradients(x, y, return_input_grad=True)
    k_loss, k_grads, k_dx = tfref.gradients(keras_model, x, y, input_grad=True)
    check(f"{what} training loss", loss, k_loss, dtype, label=label)
    assert len(grads) == len(k_grads) == 6
    for i, (g, kg) in enumerate(zip(grads, k_grads)):
        check(f"{what} parameter gradient", g, kg, dtype, label=f"{label} weight{i}")
    check(f"{what} input gradient", dx, k_dx, dtype, label=label)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name, kwargs", [(n, {}) for n in NAMES if n != "gelu"]
                         + [("gelu", {"approximate": True})])
def test_activation_function_and_derivative(name, kwargs, dtype, check, tf, monkeypatch):
    """``scratchnn.activations.<name>(z, **kwargs)`` and its backward against
    ``keras.activations.<name>`` and ``tf.GradientTape`` on z in [-7, 7] (the approximate GELU,
    which no string names, is checked here)."""
    tf_mod, keras = tf
    from scratchnn import activations

    if name == "gelu" and dtype == "float64":  # TF's float64 GELU: see the module docstring
        monkeypatch.setitem(tfref.report.TOLERANCES["float64"], "single", GELU_FLOAT64_RTOL)

    rng = np.random.default_rng(7)
    z = rng.uniform(-7, 7, (16, 9)).astype(dtype)
    dout = rng.standard_normal(z.shape).astype(dtype)
    act = type(activations.get(name))(**kwargs)
    a = act.forward(z)
    ours = activations.backward(act, dout, a, z)
    zt = tf_mod.constant(z)
    with tf_mod.GradientTape() as tape:
        tape.watch(zt)
        at = getattr(keras.activations, name)(zt, **kwargs)
    theirs = tape.gradient(at, zt, output_gradients=tf_mod.constant(dout))
    label = f"{name}{kwargs or ''} {dtype}"
    what = "approximate gelu" if name == "gelu" else "activation"
    check(f"{what} function", a, at.numpy(), dtype, label=label)
    check(f"{what} derivative", ours, theirs.numpy(), dtype, label=label)
