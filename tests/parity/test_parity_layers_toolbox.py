r"""Dropout, BatchNormalization, LayerNormalization and the Softmax/ReLU/LeakyReLU layers
against Keras 3 / TensorFlow, in float32 and float64: the training-mode loss and every gradient
(``tf.GradientTape`` through ``tfref.gradients``; scratchnn's dropout mask fed to Keras by
``tfref.convert.fixed_mask_dropout``), the inference forward, BatchNormalization's moving statistics
after lockstep training steps, and ``tfref.to_keras`` / ``from_keras`` round trips.

Tolerances: ``tfref.TOLERANCES`` ("single" for one pass, "optimizer" after several SGD
steps); nothing here needed a looser one."""

from __future__ import annotations

import numpy as np
import pytest

import scratchnn as snn
import tfref
from scratchnn.layers import (
    BatchNormalization,
    Dense,
    Dropout,
    Flatten,
    Input,
    LayerNormalization,
    LeakyReLU,
    ReLU,
    Softmax,
)

N = 16


def _model(dtype, rng, relu_kwargs=None, softmax_axis=-1, loss="categorical_crossentropy"):
    """Input(6) -> Dense(8) -> BN -> ReLU -> Dropout(0.3) -> Dense(8) -> LN -> LeakyReLU ->
    Dense(4) -> Softmax, weights and the dropout mask drawn from ``rng``.  The first Dense has
    no bias: BN cancels it, so its gradient is 0 up to rounding on both sides."""
    model = snn.Sequential([
        Input((6,)), Dense(8, use_bias=False), BatchNormalization(momentum=0.9),
        ReLU(**(relu_kwargs or {})),
        Dropout(0.3), Dense(8), LayerNormalization(), LeakyReLU(), Dense(4),
        Softmax(axis=softmax_axis)], dtype=dtype)
    model.build()
    weights = [rng.uniform(0.5, 1.5, w.shape) if w.ndim == 1 else
               rng.uniform(-0.8, 0.8, w.shape) for w in model.get_weights()]
    model.set_weights([w.astype(dtype) for w in weights])
    model.layers[3].fixed_mask = rng.random((N, 8)) >= 0.3
    model.compile(optimizer=snn.optimizers.SGD(learning_rate=0.1), loss=loss)
    return model


def _data(dtype, rng):
    x = (2 * rng.standard_normal((N, 6)) + 0.5).astype(dtype)
    return x, np.eye(4, dtype=dtype)[rng.integers(0, 4, N)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("relu_kwargs", [{}, {"max_value": 1.5, "negative_slope": 0.1,
                                              "threshold": 0.2}], ids=["relu", "relu_general"])
def test_training_loss_and_every_gradient(dtype, relu_kwargs, check, tf):
    rng = np.random.default_rng(5)
    model = _model(dtype, rng, relu_kwargs)
    keras_model = tfref.to_keras(model)
    x, y = _data(dtype, rng)
    loss, grads, dx = model.compute_gradients(x, y, return_input_grad=True)
    k_loss, k_grads, k_dx = tfref.gradients(keras_model, x, y, input_grad=True)
    label = f"{dtype} {relu_kwargs}"
    check("toolbox training loss", loss, k_loss, dtype, label=label)
    names = [f"{layer.name}.{k}" for layer in model.layers for k in layer.params]
    assert len(grads) == len(k_grads) == len(names) == 1 + 2 * 4
    for name, g, kg in zip(names, grads, k_grads):
        check(f"toolbox gradient {name.split('.')[0].rstrip('_0123456789')}", g, kg, dtype,
              label=f"{label} {name}")
    check("toolbox input gradient", dx, k_dx, dtype, label=label)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_moving_statistics_and_inference_after_lockstep_steps(dtype, check, tf):
    rng = np.random.default_rng(7)
    model = _model(dtype, rng)
    keras_model = tfref.to_keras(model)  # compiled with SGD(0.1) and the same loss
    x, y = _data(dtype, rng)
    with tfref.keras_floatx(dtype):
        for _ in range(5):
            model.train_on_batch(x, y)
            keras_model.train_on_batch(x, y)
    bn = keras_model.get_layer(model.layers[1].name)
    check("batchnorm moving mean", model.layers[1].state["moving_mean"],
          bn.moving_mean.numpy(), dtype, category="optimizer")
    check("batchnorm moving variance", model.layers[1].state["moving_variance"],
          bn.moving_variance.numpy(), dtype, category="optimizer")
    for ours, theirs in zip(model.get_weights(), keras_model.get_weights()):
        check("toolbox weights after steps", ours, theirs, dtype, category="optimizer")
    with tfref.keras_floatx(dtype):
        k_pred = keras_model.predict(x, batch_size=N, verbose=0)
    check("toolbox inference forward", model.predict(x, batch_size=N, verbose=0), k_pred,
          dtype, category="optimizer")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("make_layer, shape", [
    (lambda: BatchNormalization(axis=1, center=False), (3, 4)),
    (lambda: BatchNormalization(axis=-1, scale=False), (3, 4)),
    (lambda: LayerNormalization(axis=1), (3, 4)),
    (lambda: LayerNormalization(axis=-1, epsilon=1e-5), (3, 4)),
    (lambda: Softmax(axis=1), (3, 4)),
    (lambda: ReLU(max_value=6.0), (5,)),
    (lambda: ReLU(threshold=0.5), (5,)),
    (lambda: LeakyReLU(negative_slope=0.05), (5,)),
], ids=["bn_axis1", "bn_noscale", "ln_axis1", "ln_eps", "softmax_axis1", "relu6", "relu_thr",
        "leaky"])
def test_single_layer_on_rank3_and_options(make_layer, shape, dtype, check, tf):
    """One layer, then Flatten and Dense(5) (a Keras model with no weights would be run in
    float32 by ``tfref.gradients``), on (8, *shape) inputs with an MSE loss: the input and
    parameter gradients, and the inference forward."""
    layer = make_layer()
    rng = np.random.default_rng(len(shape) + len(layer.name))
    model = snn.Sequential([Input(shape), layer, Flatten(), Dense(5)], dtype=dtype)
    model.build()
    model.set_weights([rng.uniform(0.5, 1.5, w.shape).astype(dtype) if w.ndim == 1 else
                       rng.uniform(-0.5, 0.5, w.shape).astype(dtype)
                       for w in model.get_weights()])
    model.compile(optimizer="sgd", loss="mean_squared_error")
    keras_model = tfref.to_keras(model)
    x = (3 * rng.standard_normal((8, *shape))).astype(dtype)
    y = rng.standard_normal((8, 5)).astype(dtype)
    loss, grads, dx = model.compute_gradients(x, y, return_input_grad=True)
    k_loss, k_grads, k_dx = tfref.gradients(keras_model, x, y, input_grad=True)
    label = f"{dtype} {layer.get_config()}"
    check("toolbox single-layer loss", loss, k_loss, dtype, label=label)
    for g, kg in zip(grads, k_grads):
        check("toolbox single-layer gradient", g, kg, dtype, label=label)
    check("toolbox single-layer input gradient", dx, k_dx, dtype, label=label)
    with tfref.keras_floatx(dtype):
        k_pred = keras_model.predict(x, verbose=0)
    check("toolbox single-layer inference", model.predict(x, verbose=0), k_pred, dtype,
          label=label)


def test_to_keras_from_keras_round_trip(tf):
    rng = np.random.default_rng(3)
    model = _model("float64", rng, {"max_value": 2.0, "threshold": 0.1}, softmax_axis=1)
    model.layers[3].fixed_mask = None  # a plain keras Dropout
    keras_model = tfref.to_keras(model)
    _, keras = tf
    kinds = [type(layer).__name__ for layer in keras_model.layers]
    assert kinds == ["Dense", "BatchNormalization", "ReLU", "Dropout", "Dense",
                     "LayerNormalization", "LeakyReLU", "Dense", "Softmax"]
    again = tfref.from_keras(keras_model)
    for ours, back in zip(model.layers, again.layers):
        assert type(back) is type(ours) and back.get_config() == ours.get_config()
    for ours, back in zip(model.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(ours, back)
    for ours, theirs in zip(model.get_weights(), keras_model.get_weights()):
        np.testing.assert_array_equal(ours, theirs)
