"""Binary CE, MAE, Huber, KL divergence and label smoothing against hand-derived numbers and
float64 central differences; a model compiled with each trains, saves and reloads.
(TensorFlow comparisons live in tests/parity/test_parity_losses_toolbox.py.)"""

from __future__ import annotations

import math

import numpy as np
import pytest

import scratchnn as snn
from scratchnn import losses, metrics
from scratchnn.gradcheck import check_loss
from scratchnn.layers import Dense, Input

EPS = 1e-7


# -- hand-derived values ---------------------------------------------------------------------

def test_binary_crossentropy_keras_docstring_example():
    # keras.losses.binary_crossentropy([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]]) = [0.916, 0.714]
    y, p = np.array([[0.0, 1.0], [0.0, 0.0]]), np.array([[0.6, 0.4], [0.4, 0.6]])
    row0 = (-math.log(0.4) - math.log(0.4)) / 2
    row1 = (-math.log(0.6) - math.log(0.4)) / 2
    assert f"{row0:.3f}, {row1:.3f}" == "0.916, 0.714"
    assert losses.BinaryCrossentropy()(y, p) == pytest.approx((row0 + row1) / 2, rel=1e-12)


def test_binary_crossentropy_clips_probabilities():
    loss = losses.BinaryCrossentropy()
    assert loss([[1.0]], [[0.0]]) == pytest.approx(-math.log(EPS), rel=1e-12)
    assert loss([[0.0]], [[1.0]]) == pytest.approx(-math.log(EPS), rel=1e-9)
    np.testing.assert_array_equal(loss.backward(), 0.0)  # clipped: no gradient


def test_binary_crossentropy_label_smoothing_targets():
    # ls = 0.2: y = 1 -> 0.9, y = 0 -> 0.1.
    p = np.array([[0.7, 0.2]])
    got = losses.BinaryCrossentropy(label_smoothing=0.2)([[1.0, 0.0]], p)
    hand = (-(0.9 * math.log(0.7) + 0.1 * math.log(0.3))
            - (0.1 * math.log(0.2) + 0.9 * math.log(0.8))) / 2
    assert got == pytest.approx(hand, rel=1e-12)


def test_binary_crossentropy_logits_stable_and_equal_to_sigmoid_form():
    loss = losses.BinaryCrossentropy(from_logits=True)
    z = np.array([[-2.0, 0.0, 3.0]])
    y = np.array([[0.0, 1.0, 1.0]])
    s = 1 / (1 + np.exp(-z))
    hand = -(y * np.log(s) + (1 - y) * np.log(1 - s)).mean()
    assert loss(y, z) == pytest.approx(hand, rel=1e-12)
    np.testing.assert_allclose(loss.backward(), (s - y) / 3, rtol=1e-12)
    # huge logits: the loss is |z| for the wrong side, 0 for the right one; no overflow
    assert loss([[1.0, 0.0]], [[-1000.0, -1000.0]]) == 500.0
    np.testing.assert_array_equal(loss.backward(), [[-0.5, 0.0]])


def test_categorical_label_smoothing_hand_computed():
    # K = 4, ls = 0.2: y -> [0.05, 0.85, 0.05, 0.05]
    p = np.array([[0.1, 0.6, 0.2, 0.1]])
    got = losses.CategoricalCrossentropy(label_smoothing=0.2)([[0, 1, 0, 0]], p)
    hand = -(0.05 * math.log(0.1) + 0.85 * math.log(0.6) + 0.05 * math.log(0.2)
             + 0.05 * math.log(0.1))
    assert got == pytest.approx(hand, rel=1e-12)
    fused = losses.CategoricalCrossentropy(label_smoothing=0.2).with_logits()
    assert fused.label_smoothing == 0.2 and fused.from_logits
    z = np.log(p)
    assert fused([[0, 1, 0, 0]], z) == pytest.approx(hand, rel=1e-12)
    np.testing.assert_allclose(fused.backward(), p - [[0.05, 0.85, 0.05, 0.05]], atol=1e-15)


def test_label_smoothing_zero_is_bitwise_the_unsmoothed_loss():
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(5), 8).astype(np.float32)
    y = np.eye(5, dtype=np.float32)[rng.integers(0, 5, 8)]
    a, b = losses.CategoricalCrossentropy(), losses.CategoricalCrossentropy(label_smoothing=0.0)
    assert a(y, p) == b(y, p)
    np.testing.assert_array_equal(a.backward(), b.backward())


def test_mae_and_huber_hand_computed():
    y = np.array([[0.0, 0.0], [1.0, 1.0]])
    p = np.array([[0.5, -3.0], [1.0, 2.5]])  # errors 0.5, -3, 0, 1.5
    mae = losses.MeanAbsoluteError()
    assert mae(y, p) == pytest.approx((0.5 + 3 + 0 + 1.5) / 4, rel=1e-15)
    np.testing.assert_array_equal(mae.backward(), np.array([[1, -1], [0, 1]]) / 4)
    huber = losses.Huber(delta=1.0)
    assert huber(y, p) == pytest.approx((0.125 + 2.5 + 0 + 1.0) / 4, rel=1e-15)
    np.testing.assert_array_equal(huber.backward(), np.array([[0.5, -1], [0, 1]]) / 4)
    wide = losses.Huber(delta=2.0)  # 1.5 is now inside: 0.5 * 1.5**2
    assert wide(y, p) == pytest.approx((0.125 + (6 - 2) + 0 + 1.125) / 4, rel=1e-15)


def test_kl_divergence_hand_computed_and_clipping():
    y = np.array([[0.5, 0.5, 0.0]])
    p = np.array([[0.25, 0.75, 0.0]])
    hand = 0.5 * math.log(2) + 0.5 * math.log(0.5 / 0.75) + EPS * math.log(EPS / EPS)
    kld = losses.KLDivergence()
    assert kld(y, p) == pytest.approx(hand, rel=1e-12)
    np.testing.assert_allclose(kld.backward(), [[-2.0, -0.5 / 0.75, 0.0]], rtol=1e-12)
    assert losses.get("kld").name == "kl_divergence"
    assert losses.get("mae").name == "mean_absolute_error"


def test_bad_arguments():
    with pytest.raises(ValueError, match="label_smoothing"):
        losses.BinaryCrossentropy(label_smoothing=1.5)
    with pytest.raises(ValueError, match="label_smoothing"):
        losses.CategoricalCrossentropy(label_smoothing=-0.1)
    with pytest.raises(ValueError, match="delta"):
        losses.Huber(delta=0.0)
    for loss in (losses.BinaryCrossentropy(), losses.MeanAbsoluteError(), losses.Huber(),
                 losses.KLDivergence()):
        with pytest.raises(RuntimeError, match="before forward"):
            loss.backward()


# -- float64 central differences --------------------------------------------------------------

def _cases():
    rng = np.random.default_rng(1)
    y01 = rng.integers(0, 2, (5, 3)).astype(np.float64)
    prob = rng.uniform(0.05, 0.95, (5, 3))
    dist = rng.dirichlet(np.ones(4), 5)
    onehot = np.eye(4)[rng.integers(0, 4, 5)]
    return [
        ("bce", losses.BinaryCrossentropy(), y01, prob),
        ("bce_ls", losses.BinaryCrossentropy(label_smoothing=0.1), y01, prob),
        ("bce_logits", losses.BinaryCrossentropy(from_logits=True), y01,
         rng.standard_normal((5, 3)) * 4),
        ("bce_logits_soft", losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.3),
         rng.uniform(0, 1, (5, 3)), rng.standard_normal((5, 3))),
        ("cce_ls", losses.CategoricalCrossentropy(label_smoothing=0.1), onehot, dist),
        ("cce_ls_logits", losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.2),
         onehot, rng.standard_normal((5, 4))),
        ("mae", losses.MeanAbsoluteError(), rng.standard_normal((5, 3)),
         rng.standard_normal((5, 3))),
        ("huber", losses.Huber(), np.zeros((5, 3)), rng.standard_normal((5, 3)) * 2),
        ("huber_delta", losses.Huber(delta=0.3), np.zeros((5, 3)), rng.standard_normal((5, 3))),
        ("kld", losses.KLDivergence(), dist, rng.dirichlet(np.ones(4), 5)),
    ]


@pytest.mark.parametrize("case", _cases(), ids=lambda c: c[0])
def test_backward_matches_central_differences(case):
    _, loss, y, p = case
    assert check_loss(loss, y, p) < 1e-8


# -- metrics ---------------------------------------------------------------------------------

def test_accuracy_is_binary_accuracy_for_one_sigmoid_unit():
    y = np.array([[1.0], [0.0], [1.0], [0.0]])
    p = np.array([[0.7], [0.5], [0.5], [0.2]])  # 0.5 is not > 0.5: predicts 0
    name, fn = metrics.get("accuracy", "binary_crossentropy")
    assert name == "accuracy"
    np.testing.assert_array_equal(fn(y, p), [1.0, 1.0, 0.0, 1.0])
    np.testing.assert_array_equal(fn(y, p), metrics.binary_accuracy(y, p))


# -- in a model: trains, saves, reloads -------------------------------------------------------

MODEL_CASES = [
    ("binary_crossentropy", "sigmoid", 1),
    (losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.1), None, 1),
    (losses.CategoricalCrossentropy(label_smoothing=0.1), "softmax", 3),
    ("mae", None, 2),
    (losses.Huber(delta=0.5), None, 2),
    ("kld", "softmax", 3),
]


def _data(units: int, rng) -> tuple[np.ndarray, np.ndarray]:
    x = rng.standard_normal((64, 4))
    if units == 1:
        return x, (x[:, 0] + x[:, 1] > 0).astype(np.float64)
    if units == 2:
        return x, x[:, :2] * 0.5
    return x, np.eye(3)[np.argmax(x[:, :3], axis=1)]


@pytest.mark.parametrize("loss, activation, units", MODEL_CASES,
                         ids=lambda v: v if isinstance(v, str) else None)
def test_model_trains_saves_and_reloads(loss, activation, units, tmp_path):
    snn.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x, y = _data(units, rng)
    model = snn.Sequential([Input((4,)), Dense(8, activation="tanh"),
                            Dense(units, activation=activation)], dtype="float64")
    model.compile(optimizer="adam", loss=loss, metrics=["accuracy"] if units == 1 else [])
    before = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=15, batch_size=16, verbose=0)
    after = model.evaluate(x, y, verbose=0)
    first = before[0] if isinstance(before, list) else before
    last = after[0] if isinstance(after, list) else after
    assert last < first
    path = tmp_path / "m.npz"
    model.save(path)
    loaded = snn.load_model(path)
    assert type(loaded.loss) is type(model.loss)
    assert loaded.loss.get_config() == model.loss.get_config()
    assert loaded.evaluate(x, y, verbose=0) == after
    if units == 1:
        assert model.metrics_names == ["loss", "accuracy"] and after[1] > 0.7


def test_softmax_head_fuses_with_label_smoothing_and_gradchecks():
    from scratchnn.gradcheck import check_model

    snn.utils.set_random_seed(1)
    rng = np.random.default_rng(1)
    x, y = _data(3, rng)
    model = snn.Sequential([Input((4,)), Dense(5, activation="tanh"),
                            Dense(3, activation="softmax")], dtype="float64")
    model.compile(loss=losses.CategoricalCrossentropy(label_smoothing=0.2))
    assert "SoftmaxCrossEntropy" in type(model.output_head).__name__
    assert model.output_head.loss.crossentropy.label_smoothing == 0.2
    assert max(check_model(model, x[:6], y[:6]).values()) < 1e-7


def test_unsmoothed_categorical_config_is_unchanged():
    assert losses.CategoricalCrossentropy().get_config() == {"from_logits": False}
    smoothed = losses.CategoricalCrossentropy(label_smoothing=0.1)
    assert smoothed.get_config() == {"from_logits": False, "label_smoothing": 0.1}
    again = losses.deserialize(losses.serialize(smoothed))
    assert again.label_smoothing == 0.1
