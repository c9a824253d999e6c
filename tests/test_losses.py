"""Losses against hand-derived numbers (TF comparisons live in tests/parity/)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from scratchnn import losses


def test_categorical_crossentropy_hand_computed():
    # Keras's docstring example: per-sample losses 0.10536, 0.11653, 0.06188.
    y = np.eye(3)
    p = np.array([[0.9, 0.05, 0.05], [0.05, 0.89, 0.06], [0.05, 0.01, 0.94]])
    expected = np.mean([-math.log(0.9), -math.log(0.89), -math.log(0.94)])
    assert losses.CategoricalCrossentropy()(y, p) == pytest.approx(expected, rel=1e-12)


def test_categorical_renormalizes_then_clips():
    y = np.array([[0.0, 1.0]])
    p = np.array([[2.0, 2.0]])  # not normalized: treated as [0.5, 0.5]
    assert losses.CategoricalCrossentropy()(y, p) == pytest.approx(math.log(2), rel=1e-12)
    p = np.array([[1.0, 0.0]])  # confidently wrong: clipped to 1e-7
    assert losses.CategoricalCrossentropy()(y, p) == pytest.approx(-math.log(1e-7), rel=1e-12)


def test_sparse_clips_then_renormalizes():
    """Sparse CE: clip(p) then -log(p_y) + log(sum clip(p)) (Keras feeds log(clip(p)) to a
    softmax cross-entropy)."""
    p = np.array([[1.0, 0.0, 0.0]])
    pc = np.array([1 - 1e-7, 1e-7, 1e-7])
    expected = -math.log(1e-7) + math.log(pc.sum())
    assert losses.SparseCategoricalCrossentropy()([1], p) == pytest.approx(expected, rel=1e-12)
    # categorical on the same input: clipping after renormalization, no log-sum term.
    cat = losses.CategoricalCrossentropy()([[0.0, 1.0, 0.0]], p)
    assert cat == pytest.approx(-math.log(1e-7), rel=1e-12)
    assert cat != pytest.approx(expected, rel=1e-12)


def test_from_logits_equals_log_softmax():
    z = np.array([[1.0, 2.0, 3.0], [1000.0, 0.0, -1000.0]])
    labels = np.array([2, 1])
    lse0 = math.log(math.exp(1) + math.exp(2) + math.exp(3))
    expected = np.mean([lse0 - 3.0, 1000.0])  # second row: log-sum-exp is 1000 (no overflow)
    sparse = losses.SparseCategoricalCrossentropy(from_logits=True)(labels, z)
    cat = losses.CategoricalCrossentropy(from_logits=True)(np.eye(3)[labels], z)
    assert sparse == pytest.approx(expected, rel=1e-12)
    assert cat == pytest.approx(expected, rel=1e-12)


def test_fused_gradient_is_p_minus_y_over_n():
    z = np.array([[0.0, 1.0], [2.0, -1.0], [0.5, 0.5]])
    y = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    loss = losses.CategoricalCrossentropy(from_logits=True)
    loss(y, z)
    np.testing.assert_allclose(loss.backward(), (p - y) / 3, rtol=1e-14)
    sparse = losses.SparseCategoricalCrossentropy(from_logits=True)
    sparse(y.argmax(1), z)
    np.testing.assert_allclose(sparse.backward(), (p - y) / 3, rtol=1e-14)


def test_mse_hand_computed():
    y = np.array([[0.0, 1.0], [1.0, 1.0]])
    p = np.array([[0.5, 1.0], [0.0, 3.0]])
    loss = losses.MeanSquaredError()
    assert loss(y, p) == pytest.approx(((0.25 + 0) / 2 + (1 + 4) / 2) / 2)
    np.testing.assert_allclose(loss.backward(), 2 * (p - y) / 4)


def test_backward_does_not_modify_cached_inputs():
    p = np.array([[0.2, 0.8]])
    y = np.array([[1.0, 0.0]])
    before = p.copy()
    loss = losses.CategoricalCrossentropy()
    loss(y, p)
    loss.backward()
    np.testing.assert_array_equal(p, before)


def test_float32_stays_float32():
    p = np.full((4, 3), 1 / 3, dtype=np.float32)
    loss = losses.SparseCategoricalCrossentropy()
    loss([0, 1, 2, 0], p)
    assert loss.backward().dtype == np.float32


@pytest.mark.parametrize("name, cls", [
    ("categorical_crossentropy", losses.CategoricalCrossentropy),
    ("sparse_categorical_crossentropy", losses.SparseCategoricalCrossentropy),
    ("mse", losses.MeanSquaredError), ("mean_squared_error", losses.MeanSquaredError)])
def test_aliases(name, cls):
    assert isinstance(losses.get(name), cls)


def test_unknown_loss_and_bad_shapes():
    with pytest.raises(ValueError, match="Unknown loss 'hinge'"):
        losses.get("hinge")
    with pytest.raises(ValueError, match="integer labels"):
        losses.CategoricalCrossentropy()(np.array([1, 2]), np.full((2, 3), 1 / 3))
    with pytest.raises(ValueError, match="out of range"):
        losses.SparseCategoricalCrossentropy()(np.array([1, 3]), np.full((2, 3), 1 / 3))
    with pytest.raises(TypeError, match="integer class labels"):
        losses.SparseCategoricalCrossentropy()(np.array([0.5, 1]), np.full((2, 3), 1 / 3))
    with pytest.raises(RuntimeError, match="before forward"):
        losses.MeanSquaredError().backward()
