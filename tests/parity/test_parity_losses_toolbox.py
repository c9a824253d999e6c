"""Binary CE, label-smoothed categorical CE, MAE, Huber and KL divergence against ``keras.losses``:
the value of the plain call on a constant tensor and its gradient ``dL/dy_pred``
(``tf.GradientTape``), float64 within 1e-12 relative and float32 within 1e-5.  The Keras loss is
built here with the same arguments (``tfref.loss_and_grad`` takes a Keras loss unchanged).
"""

from __future__ import annotations

import numpy as np
import pytest

import scratchnn as snn
import tfref

TOL = {"float64": 1e-12, "float32": 1e-5}


def _keras_twin(ours: snn.losses.Loss, dtype: str):
    import keras

    config = {**ours.get_config(), "dtype": dtype}
    name = {"binary_crossentropy": "BinaryCrossentropy",
            "categorical_crossentropy": "CategoricalCrossentropy",
            "mean_absolute_error": "MeanAbsoluteError", "huber": "Huber",
            "kl_divergence": "KLDivergence"}[ours.name]
    return getattr(keras.losses, name)(**config)


def _compare(ours, y, p, dtype, check, label):
    value, grad = ours(y, p), ours.backward()
    k_value, k_grad = tfref.loss_and_grad(_keras_twin(ours, dtype), y, p)
    check(f"loss {ours.name}", value, k_value, dtype, label=label)
    check(f"loss {ours.name} gradient", grad, k_grad, dtype, label=label)
    tol = TOL[dtype]
    assert abs(value - k_value) <= tol * abs(k_value), (label, value, k_value)
    scale = np.max(np.abs(k_grad))
    assert np.max(np.abs(grad - k_grad)) <= tol * scale, label
    assert grad.dtype == np.dtype(dtype)


def _binary_cases(rng, n, k):
    y = rng.integers(0, 2, (n, k)).astype(np.float64)
    typical = rng.uniform(0.01, 0.99, (n, k))
    clipped = typical.copy()
    clipped.flat[::3] = np.array([0.0, 1.0, 1e-9, 1 - 1e-9, 1e-7, 0.3])[
        np.arange(clipped.flat[::3].size) % 6]
    logits = rng.standard_normal((n, k)) * np.array([0.1, 1, 5, 40, 300])[
        np.arange(n) % 5][:, None]
    return y, {"typical": typical, "clipped": clipped, "logits": logits}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.15])
@pytest.mark.parametrize("regime", ["typical", "clipped", "logits"])
@pytest.mark.parametrize("k", [1, 4])
def test_binary_crossentropy(k, regime, label_smoothing, dtype, check):
    rng = np.random.default_rng(k * 10 + len(regime))
    y, preds = _binary_cases(rng, 10, k)
    ours = snn.losses.BinaryCrossentropy(from_logits=regime == "logits",
                                         label_smoothing=label_smoothing)
    _compare(ours, y.astype(dtype), preds[regime].astype(dtype), dtype, check,
             f"[bce k={k} {regime} ls={label_smoothing} {dtype}]")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("label_smoothing", [0.1, 0.3])
def test_categorical_crossentropy_label_smoothing(label_smoothing, from_logits, dtype, check):
    rng = np.random.default_rng(5)
    y = np.eye(5)[rng.integers(0, 5, 9)].astype(dtype)
    z = rng.standard_normal((9, 5)) * 3
    p = z if from_logits else np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)
    ours = snn.losses.CategoricalCrossentropy(from_logits=from_logits,
                                              label_smoothing=label_smoothing)
    _compare(ours, y, p.astype(dtype), dtype, check,
             f"[cce ls={label_smoothing} logits={from_logits} {dtype}]")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fused_label_smoothing_matches_keras_on_softmax(dtype, check):
    """The fused head's loss on logits against Keras's loss on ``softmax(z)`` (what a softmax
    output layer does inside Keras's fit)."""
    rng = np.random.default_rng(6)
    z = (rng.standard_normal((8, 4)) * 3).astype(dtype)
    y = np.eye(4, dtype=dtype)[rng.integers(0, 4, 8)]
    ours = snn.losses.CategoricalCrossentropy(label_smoothing=0.2).with_logits()
    value, grad = ours(y, z), ours.backward()
    keras_loss = _keras_twin(snn.losses.CategoricalCrossentropy(label_smoothing=0.2), dtype)
    k_value, k_grad = tfref.loss_and_grad(keras_loss, y, z, fused=True)
    check("loss fused cce label smoothing", value, k_value, dtype, label=f"[{dtype}]")
    check("loss fused cce label smoothing gradient", grad, k_grad, dtype, label=f"[{dtype}]")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("loss", [snn.losses.MeanAbsoluteError(), snn.losses.Huber(),
                                  snn.losses.Huber(delta=0.3)], ids=repr)
@pytest.mark.parametrize("shape", [(1, 1), (7, 3), (32, 10)])
def test_regression_losses(loss, shape, dtype, check):
    rng = np.random.default_rng(shape[0])
    y = rng.standard_normal(shape)
    p = y + rng.standard_normal(shape) * 2
    p.flat[::4] = y.flat[::4]  # zero error: sign(0) = 0 on both sides
    _compare(loss, y.astype(dtype), p.astype(dtype), dtype, check, f"[{shape} {dtype}]")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("regime", ["typical", "clipped"])
def test_kl_divergence(regime, dtype, check):
    rng = np.random.default_rng(9)
    y = rng.dirichlet(np.ones(6), 8)
    p = rng.dirichlet(np.ones(6), 8)
    if regime == "clipped":
        y[:, 0] = 0.0
        p[:, 1] = 0.0
        p[::2, 2] = 1e-9
    _compare(snn.losses.KLDivergence(), y.astype(dtype), p.astype(dtype), dtype, check,
             f"[kld {regime} {dtype}]")


MODEL_CASES = [  # (scratchnn loss, output activation, units)
    (snn.losses.BinaryCrossentropy(), "sigmoid", 1),
    (snn.losses.BinaryCrossentropy(label_smoothing=0.1), "sigmoid", 3),
    (snn.losses.CategoricalCrossentropy(label_smoothing=0.2), "softmax", 4),
    (snn.losses.MeanAbsoluteError(), None, 2),
    (snn.losses.Huber(delta=0.5), None, 2),
    (snn.losses.KLDivergence(), "softmax", 4),
]


def _model_targets(loss, units, n, dtype, rng):
    if loss.name == "binary_crossentropy":
        return rng.integers(0, 2, (n, units)).astype(dtype)
    if units == 4:
        return np.eye(4, dtype=dtype)[rng.integers(0, 4, n)]
    return rng.standard_normal((n, units)).astype(dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("loss, activation, units", MODEL_CASES,
                         ids=lambda v: getattr(v, "name", None))
def test_in_a_model_loss_gradients_and_accuracy(loss, activation, units, dtype, check, tf):
    """A compiled model: the training loss and every weight's gradient against Keras's
    ``train_step`` computation; ``"accuracy"`` against Keras's choice (binary accuracy for one
    sigmoid unit)."""
    from parity_helpers import build

    rng = np.random.default_rng(units)
    model = build([("dense", 6, "tanh"), ("dense", units, activation)], (5,), dtype, rng,
                  loss=loss, metrics=["accuracy"])
    x = rng.standard_normal((16, 5)).astype(dtype)
    y = _model_targets(loss, units, 16, dtype, rng)
    keras_model = tfref.to_keras(model, compile=False)
    keras_loss = _keras_twin(loss, dtype)
    loss_fit, grads = model.compute_gradients(x, y)
    k_loss, k_grads = tfref.gradients(keras_model, x, y, loss=keras_loss)
    label = f"[{loss!r} {dtype}]"
    check(f"model loss {loss.name}", loss_fit, k_loss, dtype, label=label)
    for i, (g, kg) in enumerate(zip(grads, k_grads)):
        check(f"model gradient {loss.name}", g, kg, dtype, label=f"{label} weight {i}")
    keras_model.compile(optimizer="sgd", loss=keras_loss, metrics=["accuracy"])
    k_eval = keras_model.evaluate(x, y, batch_size=16, verbose=0)
    ours = model.evaluate(x, y, batch_size=16, verbose=0)
    # Keras's evaluate averages in a float32 metric tracker, whatever the model's dtype
    check(f"model evaluate loss {loss.name}", ours[0], k_eval[0], "float32", label=label)
    assert ours[1] == pytest.approx(k_eval[1], abs=1e-6), label
    if units == 1:
        binary = float(np.mean(y == (model.predict(x, verbose=0) > 0.5)))
        assert ours[1] == pytest.approx(binary, abs=1e-6)
