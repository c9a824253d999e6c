"""sample_weight and class_weight with Keras 3's semantics (checked against the installed Keras:
``evaluate``/``test_on_batch`` loss = sum_i w_i l_i / N; weighted metric sum w m / sum w, 0 for
zero total weight; the plain metric unweighted and the weighted twin named ``weighted_<name>``;
class_weight with sample_weight -> ValueError).  References here are hand-written per-sample
formulas and central finite differences (scratchnn.gradcheck)."""

from __future__ import annotations

import numpy as np
import pytest

import scratchnn as snn
from scratchnn import losses
from scratchnn.engine.sample_weights import class_weight_to_sample_weight, prepare_sample_weight
from scratchnn.gradcheck import numerical_gradient, rel_error

EPS = 1e-7
N, K = 6, 3
W = np.array([1.0, 2.0, 0.0, 0.5, 1.5, 3.0])


def _probs(rng, n=N, k=K):
    p = rng.uniform(0.1, 1.0, (n, k))
    return p / p.sum(axis=1, keepdims=True)


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _cases(rng):
    """``(loss, y_true, y_pred, per-sample losses by the plain formula)`` for every loss."""
    labels = rng.integers(0, K, N)
    onehot = np.eye(K)[labels]
    p, z = _probs(rng), rng.standard_normal((N, K))
    bits = rng.integers(0, 2, (N, K)).astype(float)
    sig = rng.uniform(0.05, 0.95, (N, K))
    real = rng.standard_normal((N, K))
    err = sig * 3 - real  # some |e| beyond delta = 1
    q = _probs(rng)
    return [
        (losses.CategoricalCrossentropy(), onehot, p, -(onehot * np.log(p)).sum(1)),
        (losses.CategoricalCrossentropy(from_logits=True), onehot, z,
         -(onehot * np.log(_softmax(z))).sum(1)),
        (losses.SparseCategoricalCrossentropy(), labels, p, -np.log(p[np.arange(N), labels])),
        (losses.SparseCategoricalCrossentropy(from_logits=True), labels, z,
         -np.log(_softmax(z)[np.arange(N), labels])),
        (losses.MeanSquaredError(), real, sig, ((sig - real) ** 2).mean(1)),
        (losses.BinaryCrossentropy(), bits, sig,
         -(bits * np.log(sig) + (1 - bits) * np.log(1 - sig)).mean(1)),
        (losses.BinaryCrossentropy(from_logits=True), bits, z,
         -(bits * np.log(1 / (1 + np.exp(-z))) + (1 - bits) * np.log(1 / (1 + np.exp(z))))
         .mean(1)),
        (losses.MeanAbsoluteError(), real, sig, np.abs(sig - real).mean(1)),
        (losses.Huber(), real, sig * 3,
         np.where(np.abs(err) <= 1, 0.5 * err ** 2, np.abs(err) - 0.5).mean(1)),
        (losses.KLDivergence(), q, p, (q * np.log(q / p)).sum(1)),
    ]


def _case_ids():
    return [f"{c[0].name}{'-logits' if getattr(c[0], 'from_logits', False) else ''}"
            for c in _cases(np.random.default_rng(0))]


@pytest.mark.parametrize("i", range(10), ids=_case_ids())
def test_weighted_loss_is_sum_w_l_over_n(i):
    loss, y, p, ell = _cases(np.random.default_rng(i))[i]
    assert loss(y, p, sample_weight=W) == pytest.approx(np.sum(W * ell) / N, rel=1e-12)
    assert loss(y, p) == pytest.approx(ell.mean(), rel=1e-12)
    # all-ones weights are the plain mean; (N, 1) weights are accepted
    assert loss(y, p, sample_weight=np.ones((N, 1))) == pytest.approx(ell.mean(), rel=1e-12)


@pytest.mark.parametrize("i", range(10), ids=_case_ids())
def test_weighted_loss_gradient_matches_finite_differences(i):
    loss, y, p, _ = _cases(np.random.default_rng(i))[i]
    p = p.copy()
    loss.forward(y, p, W)
    analytic = loss.backward()
    numeric = numerical_gradient(lambda: loss.forward(y, p, W), p)
    assert rel_error(analytic, numeric) < 1e-6
    assert np.all(analytic[W == 0] == 0)  # a zero weight: no gradient from that sample


@pytest.mark.parametrize("bad, exc", [(np.ones(N - 1), ValueError), (np.ones((N, 2)), ValueError),
                                      (np.array(["a"] * N), TypeError),
                                      (np.array([1, 1, np.nan, 1, 1, 1]), ValueError)])
def test_loss_rejects_bad_sample_weight(bad, exc):
    y, p = np.eye(K)[[0, 1, 2, 0, 1, 2]], _probs(np.random.default_rng(0))
    with pytest.raises(exc, match="sample_weight"):
        losses.CategoricalCrossentropy()(y, p, sample_weight=bad)


# -- the model ------------------------------------------------------------------------------
def _data(n=12, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 4))
    y = rng.integers(0, K, n)
    w = rng.uniform(0, 2, n)
    w[1] = 0.0
    return x, y, w


def _model(metrics=None, weighted=None, loss="sparse_categorical_crossentropy", units=K,
           activation="softmax", optimizer=None):
    model = snn.Sequential([snn.layers.Input((4,)), snn.layers.Dense(5, activation="tanh"),
                            snn.layers.Dense(units, activation=activation)], dtype="float64")
    model.compile(optimizer or snn.optimizers.SGD(0.1), loss, metrics=metrics,
                  weighted_metrics=weighted)
    return model


def _hand_loss_and_acc(model, x, y, w):
    p = model.predict(x, verbose=0)
    ell = -np.log(p[np.arange(len(y)), y])
    hit = (p.argmax(1) == y).astype(float)
    return np.sum(w * ell) / len(y), hit.mean(), np.sum(w * hit) / np.sum(w)


def test_evaluate_and_test_on_batch_weighted_loss_and_metrics():
    x, y, w = _data()
    model = _model(metrics=["accuracy"], weighted=["accuracy"])
    assert model.metrics_names == ["loss", "accuracy", "weighted_accuracy"]
    loss, acc, wacc = _hand_loss_and_acc(model, x, y, w)
    got = model.evaluate(x, y, sample_weight=w, batch_size=len(x), verbose=0, return_dict=True)
    assert got == pytest.approx({"loss": loss, "accuracy": acc, "weighted_accuracy": wacc},
                                rel=1e-12)
    assert model.test_on_batch(x, y, sample_weight=w) == pytest.approx([loss, acc, wacc],
                                                                       rel=1e-12)


def test_evaluate_weighted_over_batches_is_the_sample_weighted_mean():
    x, y, w = _data(n=10)
    model = _model(weighted=["accuracy"])
    assert model.metrics_names == ["loss", "accuracy"]  # no plain twin: keeps its name
    per_batch = [(model.test_on_batch(x[i:i + 4], y[i:i + 4], sample_weight=w[i:i + 4]),
                  len(x[i:i + 4]), w[i:i + 4].sum()) for i in range(0, 10, 4)]
    loss = sum(v[0] * n for v, n, _ in per_batch) / 10  # Keras: batch losses, weight = size
    acc = sum(v[1] * s for v, _, s in per_batch) / w.sum()
    got = model.evaluate(x, y, sample_weight=w, batch_size=4, verbose=0)
    assert got == pytest.approx([loss, acc], rel=1e-12)
    full = _hand_loss_and_acc(model, x, y, w)
    assert got == pytest.approx([full[0], full[2]], rel=1e-12)


def test_zero_total_weight_gives_zero_loss_and_metric():
    x, y, _ = _data()
    model = _model(metrics=["accuracy"], weighted=["accuracy"])
    loss, acc, wacc = model.evaluate(x, y, sample_weight=np.zeros(len(x)), verbose=0)
    assert (loss, wacc) == (0.0, 0.0)
    assert acc == pytest.approx(_hand_loss_and_acc(model, x, y, np.ones(len(x)))[1])
    before = model.get_weights()
    model.train_on_batch(x, y, sample_weight=np.zeros(len(x)))
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)  # zero gradient, SGD: nothing moves


def test_train_on_batch_weighted_step_matches_finite_differences():
    x, y, w = _data()
    model = _model(weighted=["accuracy"])
    w0 = model.get_weights()
    loss0 = model.test_on_batch(x, y, sample_weight=w)[0]

    def f():
        return model.test_on_batch(x, y, sample_weight=w)[0]

    numeric = [numerical_gradient(f, v) for v in model.weights]
    loss, wacc = model.train_on_batch(x, y, sample_weight=w)
    assert loss == pytest.approx(loss0, rel=1e-12)  # the loss before the step
    for before, after, g in zip(w0, model.get_weights(), numeric):
        assert rel_error((before - after) / 0.1, g) < 1e-6  # SGD: w -= lr * grad


def test_fit_logged_loss_with_weights_equals_keras_formula():
    x, y, w = _data(n=10)
    model = _model(metrics=["accuracy"], weighted=["accuracy"])
    clone = _model(metrics=["accuracy"], weighted=["accuracy"])
    clone.set_weights(model.get_weights())
    hist = model.fit(x, y, sample_weight=w, batch_size=4, epochs=1, shuffle=False, verbose=0)
    rows = [clone.train_on_batch(x[i:i + 4], y[i:i + 4], sample_weight=w[i:i + 4])
            + [len(x[i:i + 4]), w[i:i + 4].sum()] for i in range(0, 10, 4)]
    loss = sum(r[0] * r[3] for r in rows) / 10
    acc = sum(r[1] * r[3] for r in rows) / 10
    wacc = sum(r[2] * r[4] for r in rows) / w.sum()
    assert hist.history["loss"][0] == pytest.approx(loss, rel=1e-12)
    assert hist.history["accuracy"][0] == pytest.approx(acc, rel=1e-12)
    assert hist.history["weighted_accuracy"][0] == pytest.approx(wacc, rel=1e-12)
    for a, b in zip(model.get_weights(), clone.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_validation_split_splits_the_weights_with_the_samples():
    x, y, w = _data(n=10)
    model = _model(weighted=["accuracy"])
    clone = _model(weighted=["accuracy"])
    clone.set_weights(model.get_weights())
    hist = model.fit(x, y, sample_weight=w, validation_split=0.3, batch_size=7, shuffle=False,
                     verbose=0)
    clone.train_on_batch(x[:7], y[:7], sample_weight=w[:7])
    val = clone.evaluate(x[7:], y[7:], sample_weight=w[7:], verbose=0)
    assert [hist.history["val_loss"][0], hist.history["val_accuracy"][0]] == \
        pytest.approx(val, rel=1e-12)


def test_validation_data_with_weights():
    x, y, w = _data(n=10)
    xv, yv, wv = _data(n=5, seed=1)
    model = _model(weighted=["accuracy"])
    hist = model.fit(x, y, validation_data=(xv, yv, wv), epochs=1, verbose=0)
    assert [hist.history["val_loss"][0], hist.history["val_accuracy"][0]] == \
        pytest.approx(model.evaluate(xv, yv, sample_weight=wv, verbose=0), rel=1e-12)
    with pytest.raises(ValueError, match="val_sample_weight"):
        model.fit(x, y, validation_data=(xv, yv, wv[:3]), verbose=0)


def test_shuffled_fit_keeps_weights_with_their_samples():
    """Weight 0 on every sample of class 2: the model never learns class 2 (its output bias
    and kernel column move only through the softmax's pull-down from other samples)."""
    rng = np.random.default_rng(3)
    centers = np.array([[3.0, 0, 0, 0], [0, 3.0, 0, 0], [0, 0, 3.0, 0]])
    y = np.repeat(np.arange(3), 30)
    x = centers[y] + 0.3 * rng.standard_normal((90, 4))
    w = np.where(y == 2, 0.0, 1.0)
    model = _model(weighted=["accuracy"])
    model.fit(x, y, sample_weight=w, epochs=30, batch_size=8, shuffle=True, seed=1, verbose=0)
    pred = model.predict(x, verbose=0).argmax(1)
    assert not np.any(pred == 2)
    assert np.all(pred[y < 2] == y[y < 2])
    assert model.evaluate(x, y, sample_weight=w, verbose=0)[1] == 1.0  # weighted accuracy


# -- class_weight ---------------------------------------------------------------------------
def test_class_weight_sparse_onehot_and_sigmoid():
    labels = np.array([0, 1, 2, 1, 0])
    cw = {0: 2.0, 1: 0.5}  # class 2 missing -> 1.0
    expected = np.array([2.0, 0.5, 1.0, 0.5, 2.0])
    np.testing.assert_array_equal(class_weight_to_sample_weight(labels, cw, np.float64), expected)
    onehot = np.eye(3)[labels]
    np.testing.assert_array_equal(class_weight_to_sample_weight(onehot, cw, np.float64), expected)
    sig = np.array([[0.2], [0.7], [0.51], [0.49]])
    np.testing.assert_array_equal(class_weight_to_sample_weight(sig, {0: 3.0, 1: 4.0}, np.float64),
                                  [3.0, 4.0, 4.0, 3.0])


def test_fit_class_weight_equals_fit_with_the_sample_weights():
    x, y, _ = _data(n=10)
    cw = {0: 0.5, 2: 3.0}
    a, b = _model(weighted=["accuracy"]), _model(weighted=["accuracy"])
    b.set_weights(a.get_weights())
    ha = a.fit(x, y, class_weight=cw, batch_size=4, epochs=2, seed=5, verbose=0)
    hb = b.fit(x, y, sample_weight=np.array([cw.get(c, 1.0) for c in y]), batch_size=4,
               epochs=2, seed=5, verbose=0)
    assert ha.history == hb.history
    for u, v in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(u, v)


def test_class_weight_for_binary_sigmoid_model():
    x, _, _ = _data(n=8)
    y = (x[:, 0] > 0).astype(float)
    model = _model(loss="binary_crossentropy", units=1, activation="sigmoid")
    w = np.where(y == 1, 5.0, 1.0)
    p = model.predict(x, verbose=0)[:, 0]
    ell = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert model.train_on_batch(x, y, class_weight={1: 5.0}) == \
        pytest.approx(np.sum(w * ell) / len(y), rel=1e-12)


def test_class_weight_with_sample_weight_is_keras_value_error():
    x, y, w = _data()
    model = _model()
    for call in (lambda: model.fit(x, y, sample_weight=w, class_weight={0: 1.0}, verbose=0),
                 lambda: model.train_on_batch(x, y, sample_weight=w, class_weight={0: 1.0})):
        with pytest.raises(ValueError, match="class_weight and sample_weight"):
            call()


@pytest.mark.parametrize("cw, exc", [({"0": 1.0}, ValueError), ({0.5: 1.0}, ValueError),
                                     ({True: 1.0}, ValueError), ({0: -1.0}, ValueError),
                                     ({0: float("nan")}, ValueError), ({0: "2"}, ValueError),
                                     ([1.0, 2.0], TypeError)])
def test_bad_class_weight_errors_name_the_argument(cw, exc):
    x, y, _ = _data()
    with pytest.raises(exc, match="class_weight"):
        _model().fit(x, y, class_weight=cw, verbose=0)


@pytest.mark.parametrize("sw, exc", [(np.ones(3), ValueError), (np.ones((12, 2)), ValueError),
                                     (-np.ones(12), ValueError), (np.full(12, np.inf), ValueError),
                                     (np.array(["a"] * 12), TypeError)])
def test_bad_sample_weight_errors_name_the_argument(sw, exc):
    x, y, _ = _data()
    with pytest.raises(exc, match="sample_weight"):
        _model().fit(x, y, sample_weight=sw, verbose=0)
    with pytest.raises(exc, match="sample_weight"):
        prepare_sample_weight(sw, None, y, np.float64)
