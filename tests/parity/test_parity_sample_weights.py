"""sample_weight and class_weight against Keras 3: the weighted loss and every gradient
(``tf.GradientTape`` over ``keras_model.compute_loss(..., sample_weight=w)``, the call Keras's
``train_step`` makes), ``evaluate(..., sample_weight=w)`` with a plain and a weighted accuracy,
and a few epochs of ``fit`` with ``class_weight`` (SGD, ``shuffle=False``, same initial weights
via ``tfref.to_keras``, weighted validation data).

Tolerance (relative to the largest reference entry) for all of them, fit histories and the
weights after 3 epochs included: float64 1e-13, float32 1e-6 (well inside the documented
``tfref.tolerance`` categories, which ``check`` applies as well).
"""

from __future__ import annotations

import numpy as np
import pytest

import scratchnn as snn
import tfref
from scratchnn.backend import to_numpy

TOL = {"float64": 1e-13, "float32": 1e-6}
N, D, K = 12, 4, 3
W = np.array([1.0, 2.0, 0.0, 0.5, 1.5, 3.0, 0.25, 1.0, 0.0, 2.5, 1.0, 0.75])

#: loss -> (output activation, Keras loss class, target kind)
LOSSES = {
    "sparse_categorical_crossentropy": ("softmax", "SparseCategoricalCrossentropy", "labels"),
    "categorical_crossentropy": ("softmax", "CategoricalCrossentropy", "onehot"),
    "mean_squared_error": ("linear", "MeanSquaredError", "real"),
    "binary_crossentropy": ("sigmoid", "BinaryCrossentropy", "bits"),
    "mean_absolute_error": ("linear", "MeanAbsoluteError", "real"),
    "huber": ("linear", "Huber", "real"),
    "kl_divergence": ("softmax", "KLDivergence", "dist"),
}


def _targets(kind, rng):
    labels = rng.integers(0, K, N)
    if kind == "labels":
        return labels
    if kind == "onehot":
        return np.eye(K)[labels]
    if kind == "bits":
        return rng.integers(0, 2, (N, K)).astype(float)
    if kind == "dist":
        p = rng.uniform(0.1, 1, (N, K))
        return p / p.sum(axis=1, keepdims=True)
    return rng.standard_normal((N, K))


def _pair(loss, dtype, rng, metrics=None, weighted=None, optimizer="sgd"):
    """A compiled scratchnn model and its compiled Keras twin (same weights)."""
    import keras

    activation, keras_name, _ = LOSSES[loss]
    model = snn.Sequential([snn.layers.Input((D,)), snn.layers.Dense(5, activation="tanh"),
                            snn.layers.Dense(K, activation=activation)], dtype=dtype)
    model.build()
    model.set_weights([rng.uniform(-0.8, 0.8, w.shape) for w in model.get_weights()])
    model.compile(snn.optimizers.SGD(0.1) if optimizer == "sgd" else optimizer, loss,
                  metrics=metrics, weighted_metrics=weighted)
    keras_model = tfref.to_keras(model, compile=False)
    with tfref.keras_floatx(dtype):
        keras_model.compile(optimizer=keras.optimizers.SGD(0.1),
                            loss=getattr(keras.losses, keras_name)(dtype=dtype),
                            metrics=metrics, weighted_metrics=weighted)
    return model, keras_model


def _keras_loss_and_grads(keras_model, x, y, w, dtype):
    import tensorflow as tf

    xt = tf.constant(x, dtype=dtype)
    yt = tf.constant(y, dtype="int64" if y.ndim == 1 else dtype)
    wt = tf.constant(w, dtype=dtype)
    with tf.GradientTape() as tape:
        y_pred = keras_model(xt, training=True)
        loss = keras_model.compute_loss(x=xt, y=yt, y_pred=y_pred, sample_weight=wt,
                                        training=True)
    grads = tape.gradient(loss, keras_model.trainable_variables)
    return float(loss), [g.numpy() for g in grads]


def _close(ours, ref, tol, what):
    ours, ref = np.asarray(ours, np.float64), np.asarray(ref, np.float64)
    scale = max(np.max(np.abs(ref)), 1e-300)
    err = np.max(np.abs(ours - ref)) / scale
    assert err <= tol, f"{what}: relative error {err:.3g} > {tol:.3g}"


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("loss", list(LOSSES))
def test_weighted_loss_and_gradients(loss, dtype, check):
    rng = np.random.default_rng(len(loss))
    model, keras_model = _pair(loss, dtype, rng)
    x = rng.standard_normal((N, D)).astype(dtype)
    y = _targets(LOSSES[loss][2], rng)
    xp, yp = model.prepare_data(x, y)
    value, _ = model.forward_backward(xp, yp, W.astype(dtype))
    grads = [np.array(to_numpy(g)) for layer in model.layers for g in layer.grads.values()]
    k_value, k_grads = _keras_loss_and_grads(keras_model, x, y, W, dtype)
    check("weighted loss", value, k_value, dtype, label=loss)
    _close(value, k_value, TOL[dtype], f"{loss} weighted loss")
    for i, (g, kg) in enumerate(zip(grads, k_grads, strict=True)):
        check("weighted loss gradient", g, kg, dtype, label=f"{loss} weight {i}")
        _close(g, kg, TOL[dtype], f"{loss} gradient {i}")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_evaluate_with_sample_weight(dtype, check):
    rng = np.random.default_rng(7)
    loss = "sparse_categorical_crossentropy"
    model, keras_model = _pair(loss, dtype, rng, metrics=["accuracy"], weighted=["accuracy"])
    x = rng.standard_normal((N, D)).astype(dtype)
    y = _targets("labels", rng)
    ours = model.evaluate(x, y, sample_weight=W, batch_size=5, verbose=0, return_dict=True)
    with tfref.keras_floatx(dtype):  # Keras's metric trackers in the model's dtype
        theirs = keras_model.evaluate(x, y, sample_weight=W, batch_size=5, verbose=0,
                                      return_dict=True)
    assert set(ours) == set(theirs) == {"loss", "accuracy", "weighted_accuracy"}
    for key in ours:
        check(f"evaluate weighted {key}", ours[key], theirs[key], dtype)
        _close(ours[key], theirs[key], TOL[dtype], key)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fit_with_class_weight_and_weighted_validation(dtype, check):
    rng = np.random.default_rng(11)
    model, keras_model = _pair("sparse_categorical_crossentropy", dtype, rng,
                               metrics=["accuracy"], weighted=["accuracy"])
    x = rng.standard_normal((N, D)).astype(dtype)
    y = _targets("labels", rng)
    xv, yv, wv = x[:5] + 0.5, y[:5], W[:5]
    kwargs = dict(epochs=3, batch_size=5, shuffle=False, verbose=0,
                  class_weight={0: 0.5, 2: 3.0}, validation_data=(xv, yv, wv))
    ours = model.fit(x, y, **kwargs).history
    with tfref.keras_floatx(dtype):
        theirs = keras_model.fit(x, y, **kwargs).history
    assert set(ours) == set(theirs)
    tol = TOL[dtype]
    for key in ours:
        check(f"fit class_weight history {key}", ours[key], theirs[key], dtype, "training")
        _close(ours[key], theirs[key], tol, key)
    for i, (a, b) in enumerate(zip(model.get_weights(), keras_model.get_weights(), strict=True)):
        check("fit class_weight weights", a, b, dtype, "training", label=f"weight {i}")
        _close(a, b, tol, f"weight {i}")
