"""Finite-difference gradient checks for every layer, activation, loss and whole models."""

from __future__ import annotations

import numpy as np
import pytest

import scratchnn as snn
from scratchnn import gradcheck as gc
from scratchnn.engine.head import SoftmaxCrossEntropyHead
from scratchnn.layers import Activation, Dense, Flatten, Input

ACTIVATIONS = ["relu", "sigmoid", "tanh", "softmax", "linear"]
BATCHES = [1, 7, 32]


def _x(batch, *shape, seed=0):
    return np.random.default_rng(seed).standard_normal((batch, *shape))


@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_dense_layer(activation, batch):
    errors = gc.check_layer(Dense(6, activation=activation), _x(batch, 5, seed=batch))
    assert set(errors) == {"x", "kernel", "bias"}
    assert max(errors.values()) < 1e-7, errors


def test_dense_without_bias():
    errors = gc.check_layer(Dense(3, activation="tanh", use_bias=False), _x(7, 4))
    assert set(errors) == {"x", "kernel"}
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_activation_layer(activation, batch):
    errors = gc.check_layer(Activation(activation), _x(batch, 5, seed=3))
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize("batch", BATCHES)
def test_flatten_layer(batch):
    layer = Flatten()
    x = _x(batch, 3, 4)
    errors = gc.check_layer(layer, x)
    assert errors["x"] < 1e-7
    assert layer.forward(x).shape == (batch, 12)


def test_relu_kink_not_sampled():
    # Inputs well away from 0 so central differences never straddle the kink.
    x = _x(7, 5)
    x[np.abs(x) < 1e-3] = 0.5
    assert gc.check_layer(Activation("relu"), x)["x"] < 1e-7


def _probs(batch, k, seed):
    rng = np.random.default_rng(seed)
    return rng.dirichlet(np.ones(k), size=batch) * 0.98 + 0.02 / k


@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("from_logits", [False, True])
def test_categorical_crossentropy(batch, from_logits):
    rng = np.random.default_rng(batch)
    y = np.eye(5)[rng.integers(0, 5, batch)]
    pred = rng.standard_normal((batch, 5)) if from_logits else _probs(batch, 5, batch)
    err = gc.check_loss(snn.losses.CategoricalCrossentropy(from_logits=from_logits), y, pred)
    assert err < 1e-6


def test_categorical_crossentropy_soft_targets():
    rng = np.random.default_rng(5)
    y = rng.dirichlet(np.ones(4), size=7)
    for from_logits, pred in ((True, rng.standard_normal((7, 4))), (False, _probs(7, 4, 2))):
        loss = snn.losses.CategoricalCrossentropy(from_logits=from_logits)
        assert gc.check_loss(loss, y, pred) < 1e-6


@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("from_logits", [False, True])
def test_sparse_categorical_crossentropy(batch, from_logits):
    rng = np.random.default_rng(batch + 10)
    labels = rng.integers(0, 5, batch)
    pred = rng.standard_normal((batch, 5)) if from_logits else _probs(batch, 5, batch)
    loss = snn.losses.SparseCategoricalCrossentropy(from_logits=from_logits)
    assert gc.check_loss(loss, labels, pred) < 1e-6


def test_crossentropy_gradient_in_clipped_regime():
    """Entries clipped at 1e-7 get zero gradient; the rest match finite differences."""
    y = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    p = np.array([[1e-9, 0.5, 0.5], [0.2, 0.3, 0.5]])
    for loss, target in ((snn.losses.CategoricalCrossentropy(), y),
                         (snn.losses.SparseCategoricalCrossentropy(), y.argmax(1))):
        loss.forward(target, p)
        g = loss.backward()
        assert g[0, 0] == 0.0
        assert gc.check_loss(loss, target, p, h=1e-10) < 1e-5


@pytest.mark.parametrize("batch", BATCHES)
def test_mean_squared_error(batch):
    rng = np.random.default_rng(batch)
    assert gc.check_loss(snn.losses.MeanSquaredError(), rng.random((batch, 3)),
                         rng.random((batch, 3))) < 1e-8


@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("loss", ["categorical_crossentropy", "sparse_categorical_crossentropy",
                                  "mse"])
@pytest.mark.parametrize("hidden", ["relu", "sigmoid", "tanh", "linear"])
def test_whole_model(loss, hidden, batch):
    """Both cross-entropy paths: fused (softmax output) and generic (MSE), through the model."""
    rng = np.random.default_rng(batch)
    model = snn.Sequential([Input((2, 3)), Flatten(), Dense(5, activation=hidden),
                            Dense(4, activation=hidden), Dense(3, activation="softmax")],
                           dtype="float64")
    model.compile("sgd", loss)
    labels = rng.integers(0, 3, batch)
    y = labels if loss.startswith("sparse") else np.eye(3)[labels]
    errors = gc.check_model(model, rng.standard_normal((batch, 2, 3)), y)
    assert len(errors) == 1 + 6
    assert max(errors.values()) < 1e-6, errors


def test_model_with_separate_softmax_and_logits_loss():
    rng = np.random.default_rng(0)
    fused = snn.Sequential([Input((4,)), Dense(3), Activation("softmax")], dtype="float64")
    fused.compile("adam", "categorical_crossentropy")
    assert isinstance(fused.output_head, SoftmaxCrossEntropyHead)
    logits = snn.Sequential([Input((4,)), Dense(3)], dtype="float64")
    logits.compile("adam", snn.losses.CategoricalCrossentropy(from_logits=True))
    y = np.eye(3)[rng.integers(0, 3, 7)]
    x = rng.standard_normal((7, 4))
    for model in (fused, logits):
        assert max(gc.check_model(model, x, y).values()) < 1e-6


def test_rel_error_definition():
    a = np.array([1.0, 2.0])
    b = np.array([1.0, 2.5])
    assert gc.rel_error(a, a) == 0.0
    assert gc.rel_error(a, b) == pytest.approx(0.5 / 4.5)
    assert gc.rel_error(np.zeros(2), np.zeros(2)) == 0.0


def test_gradcheck_detects_a_wrong_backward():
    class Broken(Dense):
        def backward_logits(self, dz, need_input_grad=True):
            dx = super().backward_logits(dz, need_input_grad)
            self.grads["kernel"] *= 1.01
            return dx

    errors = gc.check_layer(Broken(3), _x(4, 2))
    assert errors["kernel"] > 1e-3
    assert errors["x"] < 1e-7
