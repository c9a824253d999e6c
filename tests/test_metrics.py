"""Tests for scratchnn.metrics against hand-computed numbers, plain loops and Keras."""

from __future__ import annotations

import numpy as np
import pytest

from scratchnn import metrics
from scratchnn.metrics import (
    accuracy,
    binary_accuracy,
    categorical_accuracy,
    confusion_matrix,
    most_confused_pairs,
    precision_recall,
    sparse_categorical_accuracy,
)


@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


Y_PRED = np.array(
    [
        [0.7, 0.2, 0.1],  # argmax 0
        [0.1, 0.3, 0.6],  # argmax 2
        [0.4, 0.4, 0.2],  # tie 0/1 -> 0 (first index, like tf.argmax)
        [0.2, 0.5, 0.3],  # argmax 1
    ]
)
LABELS = np.array([0, 1, 0, 1])


# --------------------------------------------------------------------------- per-sample


def test_categorical_accuracy_hand_values():
    out = categorical_accuracy(np.eye(3)[LABELS], Y_PRED)
    assert out.shape == (4,) and out.dtype == np.float32
    np.testing.assert_array_equal(out, [1, 0, 1, 1])


def test_sparse_categorical_accuracy_hand_values():
    np.testing.assert_array_equal(sparse_categorical_accuracy(LABELS, Y_PRED), [1, 0, 1, 1])
    out = sparse_categorical_accuracy(LABELS.reshape(-1, 1).astype(np.float32), Y_PRED)
    assert out.shape == (4,)
    np.testing.assert_array_equal(out, [1, 0, 1, 1])


def test_binary_accuracy_hand_values():
    y_true = np.array([[1.0], [0.0], [1.0], [0.0]])
    y_pred = np.array([[0.9], [0.5], [0.5], [0.2]])  # 0.5 is not > 0.5 -> class 0
    np.testing.assert_array_equal(binary_accuracy(y_true, y_pred), [1, 1, 0, 1])
    np.testing.assert_array_equal(binary_accuracy(y_true[:, 0], y_pred), [1, 1, 0, 1])
    np.testing.assert_array_equal(binary_accuracy(y_true, y_pred[:, 0]), [1, 1, 0, 1])
    np.testing.assert_array_equal(binary_accuracy(y_true, y_pred, threshold=0.1), [1, 0, 1, 0])
    multi_t = np.array([[1, 0, 1], [0, 0, 0]])
    multi_p = np.array([[0.7, 0.6, 0.2], [0.1, 0.2, 0.3]])
    np.testing.assert_allclose(binary_accuracy(multi_t, multi_p), [1 / 3, 1.0], rtol=1e-6)


def test_per_sample_shape_errors():
    with pytest.raises(ValueError, match="sparse_categorical_accuracy"):
        categorical_accuracy(LABELS, Y_PRED)
    with pytest.raises(ValueError, match=r"integer labels y_true of shape \(N,\)"):
        sparse_categorical_accuracy(np.eye(3)[LABELS], Y_PRED)
    with pytest.raises(ValueError, match="same shape"):
        binary_accuracy(np.zeros((4, 2)), np.zeros((4, 3)))
    with pytest.raises(ValueError, match="y_true has 3, y_pred has 4"):
        sparse_categorical_accuracy(LABELS[:3], Y_PRED)


def test_per_sample_functions_match_keras(keras):
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((64, 5))
    labels = rng.integers(0, 5, size=64)
    onehot = np.eye(5)[labels]
    np.testing.assert_array_equal(
        categorical_accuracy(onehot, logits),
        np.asarray(keras.metrics.categorical_accuracy(onehot, logits)),
    )
    np.testing.assert_array_equal(
        sparse_categorical_accuracy(labels, logits),
        np.asarray(keras.metrics.sparse_categorical_accuracy(labels, logits)),
    )
    bt = rng.integers(0, 2, size=(64, 1)).astype(np.float32)
    bp = rng.uniform(size=(64, 1)).astype(np.float32)
    ref = np.asarray(keras.metrics.binary_accuracy(bt, bp)).reshape(64, -1).mean(axis=1)
    np.testing.assert_array_equal(binary_accuracy(bt, bp), ref)


# --------------------------------------------------------------------------- get()


def test_get_names_and_explicit_functions():
    assert metrics.get("accuracy", "categorical_crossentropy")[0] == "accuracy"
    assert metrics.get("acc", "mse")[0] == "acc"
    assert metrics.get("categorical_accuracy", "mse") == (
        "categorical_accuracy",
        categorical_accuracy,
    )
    assert metrics.get("sparse_categorical_accuracy", "x")[1] is sparse_categorical_accuracy
    assert metrics.get("binary_accuracy", "x")[1] is binary_accuracy

    def my_metric(y_true, y_pred):
        return np.zeros(len(y_true))

    assert metrics.get(my_metric, "mse") == ("my_metric", my_metric)


def test_get_errors():
    with pytest.raises(ValueError, match="Unknown metric 'f1'.*'accuracy'.*'binary_accuracy'"):
        metrics.get("f1", "mse")
    with pytest.raises(ValueError, match="None"):
        metrics.get(None, "mse")
    with pytest.raises(ValueError, match="name or a callable"):
        metrics.get(3, "mse")


@pytest.mark.parametrize(
    "loss, y_true, y_pred, expected",
    [
        # sparse labels (N,) with softmax output -> sparse categorical: matches 1,0,1,1
        ("sparse_categorical_crossentropy", LABELS, Y_PRED, 0.75),
        ("sparse_categorical_crossentropy", LABELS.reshape(-1, 1), Y_PRED, 0.75),
        # one-hot targets -> categorical
        ("categorical_crossentropy", np.eye(3)[[0, 2, 1, 1]], Y_PRED, 0.75),
        # one sigmoid unit -> binary (0.5 is not > 0.5)
        (
            "binary_crossentropy",
            np.array([[1], [0], [1], [1]]),
            np.array([[0.9], [0.5], [0.5], [0.6]]),
            0.75,
        ),
        (
            "binary_crossentropy",
            np.array([1, 0, 0, 1]),
            np.array([[0.9], [0.5], [0.5], [0.6]]),
            1.0,
        ),
    ],
)
def test_get_accuracy_dispatch_hand_values(loss, y_true, y_pred, expected):
    name, fn = metrics.get("accuracy", loss)
    assert name == "accuracy"
    assert float(np.mean(fn(y_true, y_pred))) == pytest.approx(expected)


def test_get_accuracy_dispatch_matches_keras_compile_rules(keras):
    compile_utils = pytest.importorskip("keras.src.trainers.compile_utils")
    rng = np.random.default_rng(1)
    n = 40
    probs = rng.dirichlet(np.ones(4), size=n).astype(np.float32)
    labels = rng.integers(0, 4, size=n)
    sig = rng.uniform(size=(n, 1)).astype(np.float32)
    bits = rng.integers(0, 2, size=(n, 1))
    multi_t = rng.integers(0, 2, size=(n, 4)).astype(np.float32)
    cases = [
        (labels, probs),
        (labels.reshape(-1, 1), probs),
        (np.eye(4, dtype=np.float32)[labels], probs),
        (bits.astype(np.float32), sig),
        (bits[:, 0].astype(np.float32), sig),
        (multi_t, probs),  # multi-label targets with 4 outputs: Keras picks categorical
    ]
    for y_true, y_pred in cases:
        ref = compile_utils.get_metric("accuracy", y_true, y_pred)
        ref.update_state(y_true, y_pred)
        _, fn = metrics.get("accuracy", "whatever")
        got = float(np.mean(fn(y_true, y_pred)))
        assert got == pytest.approx(float(ref.result()), abs=1e-6), (y_true.shape, y_pred.shape)


# --------------------------------------------------------------------------- evaluation


def test_accuracy_input_forms():
    assert accuracy(LABELS, Y_PRED) == pytest.approx(0.75)
    assert accuracy(np.eye(3)[LABELS], Y_PRED) == pytest.approx(0.75)
    assert accuracy(LABELS, np.array([0, 2, 0, 1])) == pytest.approx(0.75)
    assert accuracy(LABELS.reshape(-1, 1), np.eye(3)[[0, 2, 0, 1]]) == pytest.approx(0.75)
    # sigmoid outputs, (N,) and (N, 1)
    assert accuracy([1, 0, 1, 1], np.array([0.9, 0.4, 0.2, 0.51])) == pytest.approx(0.75)
    assert accuracy([[1], [0]], np.array([[0.7], [0.7]])) == pytest.approx(0.5)
    assert isinstance(accuracy(LABELS, Y_PRED), float)


def test_accuracy_errors():
    with pytest.raises(ValueError, match="y_true has 3, y_pred has 4"):
        accuracy(LABELS[:3], Y_PRED)
    with pytest.raises(TypeError, match="y_true must hold integer class labels"):
        accuracy([0.5, 1.0], [0, 1])
    with pytest.raises(ValueError, match="negative"):
        accuracy([-1, 1], [0, 1])
    with pytest.raises(ValueError, match="empty"):
        accuracy([], [])


def test_confusion_matrix_hand_example():
    y_true = [0, 0, 1, 2, 2, 2]
    y_pred = [0, 1, 1, 2, 0, 2]
    cm = confusion_matrix(y_true, y_pred)
    assert cm.dtype == np.int64
    np.testing.assert_array_equal(cm, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    np.testing.assert_array_equal(
        confusion_matrix(np.eye(3)[y_true], np.eye(3)[y_pred] * 0.8 + 0.05), cm
    )
    padded = confusion_matrix(y_true, y_pred, num_classes=5)
    assert padded.shape == (5, 5) and padded[:3, :3].tolist() == cm.tolist()
    assert padded[3:].sum() == 0 and padded[:, 3:].sum() == 0
    # class count inferred from a one-hot width even if the last class never occurs
    assert confusion_matrix(np.eye(4)[[0, 1]], [0, 1]).shape == (4, 4)


def test_confusion_matrix_matches_loop():
    rng = np.random.default_rng(2)
    t = rng.integers(0, 6, size=500)
    p = np.where(rng.uniform(size=500) < 0.6, t, rng.integers(0, 6, size=500))
    expected = np.zeros((6, 6), dtype=int)
    for a, b in zip(t, p, strict=True):
        expected[a, b] += 1
    cm = confusion_matrix(t, p)
    np.testing.assert_array_equal(cm, expected)
    assert cm.sum() == 500 and np.trace(cm) / 500 == pytest.approx(accuracy(t, p))


def test_confusion_matrix_errors():
    with pytest.raises(ValueError, match="y_pred has label 3 but num_classes=3"):
        confusion_matrix([0, 1], [0, 3], num_classes=3)
    with pytest.raises(ValueError, match="y_true has 3 columns but y_pred has 4"):
        confusion_matrix(np.eye(3), np.eye(4)[:3])
    with pytest.raises(ValueError, match="y_true has 2, y_pred has 3"):
        confusion_matrix([0, 1], [0, 1, 1])


def test_precision_recall_hand_example_with_undefined_classes():
    # class 2 is never predicted (precision 0), class 3 never occurs (recall 0)
    y_true = [0, 0, 1, 1, 2, 2]
    y_pred = [0, 1, 1, 1, 0, 3]
    precision, recall = precision_recall(y_true, y_pred)
    np.testing.assert_allclose(precision, [1 / 2, 2 / 3, 0.0, 0.0])
    np.testing.assert_allclose(recall, [1 / 2, 1.0, 0.0, 0.0])


def test_precision_recall_matches_loop():
    rng = np.random.default_rng(3)
    t = rng.integers(0, 4, size=300)
    p = rng.integers(0, 4, size=300)
    precision, recall = precision_recall(t, p)
    for c in range(4):
        tp = sum(1 for a, b in zip(t, p, strict=True) if a == c and b == c)
        assert precision[c] == pytest.approx(tp / sum(1 for b in p if b == c))
        assert recall[c] == pytest.approx(tp / sum(1 for a in t if a == c))


def test_most_confused_pairs():
    cm = np.array([[50, 3, 0, 7], [1, 40, 7, 0], [0, 2, 30, 0], [9, 0, 0, 20]])
    assert most_confused_pairs(cm, k=3) == [(3, 0, 9), (0, 3, 7), (1, 2, 7)]
    everything = most_confused_pairs(cm, k=100)
    assert everything == [(3, 0, 9), (0, 3, 7), (1, 2, 7), (0, 1, 3), (2, 1, 2), (1, 0, 1)]
    assert all(t != p for t, p, _ in everything)
    assert most_confused_pairs(np.diag([5, 5]), k=5) == []
    assert most_confused_pairs(cm, k=0) == []
    with pytest.raises(ValueError, match="square"):
        most_confused_pairs(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="non-negative int"):
        most_confused_pairs(cm, k=-1)
