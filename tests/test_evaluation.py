"""scratchnn.workflow.evaluation and scratchnn.workflow.datastats against plain loops and NumPy."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import scratchnn as snn
from scratchnn.workflow.datastats import class_counts, format_counts, format_stats, pixel_stats
from scratchnn.workflow.evaluation import evaluate_classifier, row_normalize


def test_pixel_stats_chunked_equals_numpy():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(50, 28, 28), dtype=np.uint8)
    s = pixel_stats(x, chunk=1000)  # many chunks, last one partial
    ref = x.astype(np.float64)
    assert (s.min, s.max) == (ref.min(), ref.max())
    assert s.mean == pytest.approx(ref.mean(), rel=1e-12)
    assert s.std == pytest.approx(ref.std(), rel=1e-12)
    with pytest.raises(ValueError, match="empty"):
        pixel_stats(np.zeros((0, 3)))


def test_class_counts_and_table():
    y = np.array([0, 2, 2, 1, 2, 0])
    np.testing.assert_array_equal(class_counts(y), [2, 1, 3])
    np.testing.assert_array_equal(class_counts(y, 5), [2, 1, 3, 0, 0])
    np.testing.assert_array_equal(class_counts(np.eye(4)[y]), [2, 1, 3, 0])
    with pytest.raises(ValueError, match="out of range"):
        class_counts(y, 2)
    table = format_counts({"a": [2, 1, 3], "b": [1, 1, 0]})
    lines = table.splitlines()
    assert lines[2].split() == ["0", "2", "(33.33%)", "1", "(50.00%)"]
    assert lines[-1].split() == ["total", "6", "2"]
    assert "mean" in format_stats({"x": pixel_stats([1, 2, 3])}).splitlines()[0]


def fixed_model():
    """A linear softmax model whose predictions are known: class = argmax of x."""
    m = snn.Sequential([snn.layers.Dense(3, activation="softmax", input_shape=(3,))])
    m.build()
    m.set_weights([np.eye(3, dtype=np.float32) * 5, np.zeros(3, dtype=np.float32)])
    m.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
    return m


def test_evaluate_classifier_against_loops(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((60, 3)).astype(np.float32)
    y = rng.integers(0, 3, 60)
    y[:20] = x[:20].argmax(1)
    model = fixed_model()
    rep = evaluate_classifier(model, x, y, top_pairs=3)
    pred = x.argmax(1)
    np.testing.assert_array_equal(rep.predicted, pred)
    cm = np.zeros((3, 3), dtype=int)
    for t, p in zip(y, pred):
        cm[t, p] += 1
    np.testing.assert_array_equal(rep.confusion, cm)
    np.testing.assert_allclose(rep.confusion_normalized, cm / cm.sum(1, keepdims=True))
    assert rep.accuracy == pytest.approx(np.mean(pred == y))
    for c in range(3):
        assert rep.precision[c] == pytest.approx(cm[c, c] / cm[:, c].sum())
        assert rep.recall[c] == pytest.approx(cm[c, c] / cm[c].sum())
    off = sorted(((cm[i, j], i, j) for i in range(3) for j in range(3) if i != j and cm[i, j]),
                 key=lambda t: (-t[0], t[1], t[2]))[:3]
    assert rep.confused_pairs == [(i, j, n) for n, i, j in off]
    probs = np.exp(5 * x) / np.exp(5 * x).sum(1, keepdims=True)
    assert rep.loss == pytest.approx(-np.mean(np.log(probs[np.arange(60), y])), rel=1e-5)
    np.testing.assert_array_equal(rep.errors, np.flatnonzero(pred != y))
    text = rep.format()
    assert f"Test accuracy: {rep.accuracy:.4f}" in text
    assert f"  {off[0][1]} -> {off[0][2]}: {off[0][0]}" in text

    images = rng.integers(0, 255, size=(60, 28, 28)).astype(np.uint8)
    paths = rep.plot(tmp_path, images=images, grid=9, sample=3)
    assert sorted(paths) == ["confusion_matrix", "errors", "precision_recall", "predictions",
                             "probabilities"]
    for p in paths.values():
        with Image.open(p) as img:
            assert img.format == "PNG" and img.size[0] >= 300
    with pytest.raises(ValueError, match="sample"):
        rep.plot(tmp_path, images=images, sample=60)


def test_row_normalize_hand_values():
    np.testing.assert_allclose(row_normalize([[3, 1], [0, 0]]), [[0.75, 0.25], [0, 0]])
    with pytest.raises(ValueError, match="square"):
        row_normalize(np.zeros((2, 3)))
