"""Losses and their gradients: the plain ``keras.losses`` call and the fused path used in ``fit``.

* plain: a loss called on probabilities (clipped to [1e-7, 1 - 1e-7]; categorical CE first
  renormalizes rows), compared value and ``dL/dp`` with ``keras.losses`` on a constant tensor;
* from logits: ``from_logits=True``, value and ``dL/dz``;
* fused: scratchnn's ``loss.with_logits()`` on logits ``z`` against Keras's
  ``loss(y, keras.activations.softmax(z))``, the path a softmax output layer takes in ``fit``;
* model level: Keras's ``evaluate`` and ``train_step`` gradients on a softmax model whose
  predictions are confidently wrong, where clipping would change the loss.
"""

from __future__ import annotations

import numpy as np
import pytest
from parity_helpers import build

import scratchnn as snn
import tfref

EPS = 1e-7
CE_KINDS = ["categorical_crossentropy", "sparse_categorical_crossentropy"]


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _probabilities(regime: str, n: int, k: int, dtype, rng) -> tuple[np.ndarray, np.ndarray]:
    """(probabilities (n, k), labels (n,)) for a regime of the clipped cross-entropy."""
    labels = rng.integers(0, k, n)
    if regime == "typical":
        p = _softmax(rng.standard_normal((n, k)))
    elif regime == "clipped":
        # confidently wrong: the true class gets exactly 0, 1e-9, exactly eps, 3e-7 ...;
        # the other entries include values above 1 - eps and exactly 1.
        p = rng.uniform(1e-12, 1e-8, (n, k))
        tiny = np.array([0.0, 1e-9, EPS, 3e-7, 1e-12, 5e-8, 0.2])
        p[np.arange(n), labels] = tiny[np.arange(n) % len(tiny)]
        wrong = (labels + 1) % k
        p[np.arange(n), wrong] = np.where(np.arange(n) % 2 == 0, 1.0, 1 - 1e-8)
    elif regime == "unnormalized":
        p = rng.uniform(0.0, 1.0, (n, k)) * rng.uniform(0.5, 2.0, (n, 1))
    else:
        raise ValueError(regime)
    return p.astype(dtype), labels


def _targets(kind, labels, k, dtype):
    return labels if kind.startswith("sparse") else np.eye(k, dtype=dtype)[labels]


@pytest.mark.parametrize("n", [1, 7])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("regime", ["typical", "clipped", "unnormalized"])
@pytest.mark.parametrize("kind", CE_KINDS)
def test_plain_crossentropy_on_probabilities(kind, regime, dtype, n, check):
    rng = np.random.default_rng(hash((kind, regime, n)) % 2**32)
    p, labels = _probabilities(regime, n, 5, dtype, rng)
    y = _targets(kind, labels, 5, dtype)
    ours = snn.losses.get(kind)
    value = ours(y, p)
    grad = ours.backward()
    k_value, k_grad = tfref.loss_and_grad(kind, y, p)
    label = f"[{kind} {regime} {dtype} n={n}]"
    check(f"loss plain {kind}", value, k_value, dtype, label=label)
    check(f"loss plain {kind} gradient", grad, k_grad, dtype, label=label)
    if regime == "clipped":
        # the clip is active: no sample's loss exceeds -log(eps)
        assert value <= -np.log(np.float32(EPS) if dtype == "float32" else EPS) + 1e-5


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kind", CE_KINDS)
def test_crossentropy_from_logits(kind, dtype, check):
    rng = np.random.default_rng(7)
    z = (rng.standard_normal((9, 6)) * np.array([[1], [5], [50], [100], [1], [1], [20], [0.1],
                                                   [300]])).astype(dtype)
    labels = rng.integers(0, 6, 9)
    y = _targets(kind, labels, 6, dtype)
    ours = type(snn.losses.get(kind))(from_logits=True)
    value, grad = ours(y, z), ours.backward()
    k_value, k_grad = tfref.loss_and_grad(ours, y, z)
    check(f"loss from logits {kind}", value, k_value, dtype, label=f"[{dtype}]")
    check(f"loss from logits {kind} gradient", grad, k_grad, dtype, label=f"[{dtype}]")


@pytest.mark.parametrize("n", [1, 8])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kind", CE_KINDS)
def test_fused_softmax_crossentropy(kind, dtype, n, check):
    rng = np.random.default_rng(n)
    z = (rng.standard_normal((n, 4)) * 3).astype(dtype)
    labels = rng.integers(0, 4, n)
    z[0, labels[0]] = -40.0  # confidently wrong: softmax gives ~1e-18 for the true class
    y = _targets(kind, labels, 4, dtype)
    ours = snn.losses.get(kind).with_logits()
    value, grad = ours(y, z), ours.backward()
    k_value, k_grad = tfref.loss_and_grad(kind, y, z, fused=True)
    check(f"loss fused {kind}", value, k_value, dtype, label=f"[{dtype} n={n}]")
    check(f"loss fused {kind} gradient (d/dlogits)", grad, k_grad, dtype, label=f"[{dtype}]")
    # no clipping on this path: sample 0 alone contributes more than -log(eps) / n
    assert value > 30 / n and k_value > 30 / n


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_mean_squared_error(dtype, check):
    rng = np.random.default_rng(3)
    for shape in [(1, 1), (7, 3), (32, 10)]:
        p = rng.standard_normal(shape).astype(dtype)
        y = rng.standard_normal(shape).astype(dtype)
        ours = snn.losses.MeanSquaredError()
        value, grad = ours(y, p), ours.backward()
        k_value, k_grad = tfref.loss_and_grad("mse", y, p)
        check("loss mse", value, k_value, dtype, label=f"[{dtype} {shape}]")
        check("loss mse gradient", grad, k_grad, dtype, label=f"[{dtype} {shape}]")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kind", CE_KINDS)
def test_model_loss_inside_fit_is_fused(kind, dtype, check, tf):
    """A softmax model with confidently wrong predictions: Keras's evaluate/train_step loss is
    the unclipped fused one, and so is scratchnn's; called on ``predict`` output, both clip."""
    rng = np.random.default_rng(11)
    model = build([("dense", 6, "tanh"), ("dense", 3, "softmax")], (4,), dtype, rng, loss=kind,
                  weight_scale=30.0)
    keras_model = tfref.to_keras(model)
    x = rng.standard_normal((16, 4)).astype(dtype)
    probs = model.predict(x, verbose=0)
    labels = np.argmin(probs, axis=1)  # the least likely class: confidently wrong
    y = _targets(kind, labels, 3, dtype)
    label = f"[{kind} {dtype}]"

    loss_fit, grads, dx = model.compute_gradients(x, y, return_input_grad=True)
    k_loss, k_grads, k_dx = tfref.gradients(keras_model, x, y, input_grad=True)
    assert k_loss > -np.log(EPS) + 1, "Keras's train_step loss should be unclipped here"
    check("loss fused in train_step", loss_fit, k_loss, dtype, label=label)
    for i, (g, kg) in enumerate(zip(grads, k_grads)):
        check("gradient (fused loss)", g, kg, dtype, label=f"{label} weight {i}")
    check("input gradient (fused loss)", dx, k_dx, dtype, label=label)

    with tfref.keras_floatx(dtype):
        k_eval = keras_model.evaluate(x, y, batch_size=5, verbose=0)
        k_probs = keras_model.predict(x, verbose=0)
        k_eager = float(tfref.keras_loss(kind, dtype)(y, keras_model(x)))
        k_plain = float(tfref.keras_loss(kind, dtype)(y, k_probs))
    check("evaluate loss (fused)", model.evaluate(x, y, batch_size=5, verbose=0), k_eval, dtype,
          label=label)
    # TF 2.21 attaches the cached logits to eager tensors too: an eager call is fused
    check("eager keras loss on model output (fused)", loss_fit, k_eager, dtype, label=label)
    # on probabilities from predict (plain arrays) both clip
    plain = model.loss(y, probs)
    assert plain < k_loss - 1
    check("loss plain on predict output", plain, k_plain, dtype, label=label)
    k_plain_tape = tfref.gradients(keras_model, x, y, fused=False)[0]
    check("loss plain via tape (fused=False)", plain, k_plain_tape, dtype, label=label)


def test_unnormalized_targets_are_a_documented_difference(tf):
    """For target rows not summing to 1, TensorFlow's fused softmax-CE kernel returns the
    gradient ``p - y`` (its documented precondition is violated), while scratchnn returns the
    derivative of its loss, ``p * sum(y) - y``.  They agree when rows sum to 1 (every other
    test).  (With op determinism enabled TensorFlow uses a log-softmax composite instead,
    whose gradient is the true derivative; the suite runs with TensorFlow's defaults.)"""
    z = np.array([[1.0, 2.0, 0.5]])
    y = np.array([[0.5, 0.2, 0.0]])
    ours = snn.losses.CategoricalCrossentropy(from_logits=True)
    value = ours(y, z)
    grad = ours.backward()
    k_value, k_grad = tfref.loss_and_grad(ours, y, z)
    assert value == pytest.approx(k_value, rel=1e-14)
    p = _softmax(z)
    np.testing.assert_allclose(k_grad, p - y, rtol=1e-12)
    np.testing.assert_allclose(grad, p * y.sum() - y, rtol=1e-12)
    h = 1e-6
    numeric = [(ours(y, z + h * e) - ours(y, z - h * e)) / (2 * h) for e in np.eye(3)]
    np.testing.assert_allclose(grad[0], numeric, rtol=1e-6)
