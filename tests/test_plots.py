"""scratchnn.workflow.plots: every figure is a real PNG of the promised size, with content, and the
pictures show what they claim (right/wrong colours, log axis, highlighted bars)."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest
from PIL import Image

from scratchnn.workflow import plots


def rgb_of(hex_color: str) -> np.ndarray:
    return np.array([int(hex_color[i: i + 2], 16) for i in (1, 3, 5)])


def load_png(path, size: tuple[int, int]) -> np.ndarray:
    """Open ``path`` as a PNG of exactly ``size`` (width, height) with visible content."""
    with Image.open(path) as img:
        assert img.format == "PNG"
        assert img.size == size
        rgb = np.asarray(img.convert("RGB")).astype(np.int64)
    colours = np.unique(rgb.reshape(-1, 3), axis=0)
    assert len(colours) > 20, f"{path} has only {len(colours)} colours"
    non_white = np.mean(rgb.sum(axis=2) < 3 * 250)
    assert non_white > 0.01, f"{path} is almost blank ({non_white:.3%} non-white pixels)"
    assert rgb.std() > 10
    return rgb


def count_colour(rgb: np.ndarray, hex_color: str, tol: int = 30) -> int:
    """Pixels within ``tol`` (max channel difference) of ``hex_color``."""
    return int(np.sum(np.abs(rgb - rgb_of(hex_color)).max(axis=2) <= tol))


@pytest.fixture
def digits():
    rng = np.random.default_rng(0)
    imgs = np.zeros((12, 28, 28), dtype=np.uint8)
    for k in range(12):  # a bar per image at a different place
        imgs[k, 4:24, 4 + k: 8 + k] = 255
    imgs[:, 10:12, :] = rng.integers(0, 255, size=(12, 2, 28))
    return imgs


def test_class_counts_size_and_content(tmp_path):
    counts = {"train": np.arange(100, 110) * 10, "test": np.arange(10, 20) * 10}
    path = plots.plot_class_counts(counts, tmp_path / "sub" / "counts.png")
    assert path == tmp_path / "sub" / "counts.png"
    load_png(path, (800, 450))
    single = plots.plot_class_counts([5, 3, 8], tmp_path / "single.png", figsize=(4, 3), dpi=50)
    load_png(single, (200, 150))


def test_image_grid_labels_only(tmp_path, digits):
    path = plots.plot_image_grid(digits, tmp_path / "grid.png", labels=np.arange(12) % 10,
                                 ncols=6, cell=1.0, dpi=80)
    rgb = load_png(path, (480, int(round(2 * 1.15 * 80))))
    assert count_colour(rgb, plots.WRONG_COLOR) == 0
    assert count_colour(rgb, plots.RIGHT_COLOR) == 0


def test_image_grid_colours_right_and_wrong(tmp_path, digits):
    labels = np.arange(12) % 10
    all_right = load_png(plots.plot_image_grid(digits, tmp_path / "right.png", labels=labels,
                                               predicted=labels, ncols=4),
                         (400, int(round(3 * 1.15 * 100))))
    wrong = labels.copy()
    wrong[[1, 5]] = (wrong[[1, 5]] + 1) % 10
    some_wrong = load_png(plots.plot_image_grid(digits, tmp_path / "wrong.png", labels=labels,
                                                predicted=wrong, ncols=4),
                          (400, int(round(3 * 1.15 * 100))))
    assert count_colour(all_right, plots.RIGHT_COLOR, 40) > 200
    assert count_colour(all_right, plots.WRONG_COLOR, 40) == 0
    assert count_colour(some_wrong, plots.WRONG_COLOR, 40) > 40
    assert count_colour(some_wrong, plots.RIGHT_COLOR, 40) < count_colour(
        all_right, plots.RIGHT_COLOR, 40)


def test_image_grid_accepts_flat_rows_and_checks_lengths(tmp_path, digits):
    load_png(plots.plot_image_grid(digits.reshape(12, 784), tmp_path / "flat.png", ncols=12),
             (1200, 115))
    with pytest.raises(ValueError, match="labels has 3 entries for 12 images"):
        plots.plot_image_grid(digits, tmp_path / "x.png", labels=[1, 2, 3])
    with pytest.raises(ValueError, match="need the true labels"):
        plots.plot_image_grid(digits, tmp_path / "x.png", predicted=np.zeros(12))
    with pytest.raises(ValueError, match="shape"):
        plots.plot_image_grid(np.zeros((2, 3, 4, 5)), tmp_path / "x.png")


def test_pixel_histograms(tmp_path, digits):
    x = digits.astype(np.float64)
    arrays = {"raw": x, "x/255": x / 255, "standardized": (x - x.mean()) / x.std()}
    load_png(plots.plot_pixel_histograms(arrays, tmp_path / "h.png"), (960, 340))
    with pytest.raises(ValueError, match="empty"):
        plots.plot_pixel_histograms({}, tmp_path / "e.png")


def _history(epochs=5, val=True, acc_key="accuracy"):
    e = np.arange(epochs)
    h = {"loss": list(1 / (e + 1)), acc_key: list(1 - 0.5 / (e + 1))}
    if val:
        h["val_loss"] = list(1.2 / (e + 1) + 0.05 * e)
        h[f"val_{acc_key}"] = list(0.95 - 0.5 / (e + 1))
    return h


def test_history_curves(tmp_path, blobs):
    import scratchnn as snn

    x, y = blobs
    model = snn.Sequential([snn.layers.Dense(3, activation="softmax", input_shape=(4,))])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    hist = model.fit(x, y, epochs=3, validation_split=0.2, verbose=0)
    rgb = load_png(plots.plot_history(hist, tmp_path / "fit.png"), (1000, 400))
    assert count_colour(rgb, "#d73027") > 50  # the validation curve is drawn
    load_png(plots.plot_history(_history(val=False, acc_key="acc"), tmp_path / "d.png",
                                figsize=(6, 3)), (600, 300))
    with pytest.raises(ValueError, match="no 'loss'"):
        plots.plot_history({"accuracy": [1.0]}, tmp_path / "x.png")
    with pytest.raises(TypeError, match="History"):
        plots.plot_history([1, 2], tmp_path / "x.png")


def test_compare_runs(tmp_path):
    runs = {"a": _history(), "b": _history(7), "c": _history(3, val=False)}
    load_png(plots.plot_compare_runs(runs, tmp_path / "cmp.png"), (1100, 445))
    only_loss = plots.plot_compare_runs(runs, tmp_path / "loss.png", metrics=["loss"])
    load_png(only_loss, (550, 445))
    with pytest.raises(ValueError, match="none of the metrics"):
        plots.plot_compare_runs(runs, tmp_path / "x.png", metrics=["auc"])


def capture_figure(monkeypatch):
    """Make the plotting functions hand over their Figure as well as saving it."""
    seen = []
    original = plots._save

    def spy(fig, path, show):
        seen.append(fig)
        return original(fig, path, show)

    monkeypatch.setattr(plots, "_save", spy)
    return seen


def test_lr_finder_plot_log_axis_and_range(tmp_path, monkeypatch):
    seen = capture_figure(monkeypatch)
    lrs = 1e-4 * 10 ** (np.arange(80) / 20)
    loss = (np.log10(lrs) + 2) ** 2 + 0.5
    loss[-1] = np.inf  # diverged: left out, not an error
    path = plots.plot_lr_finder(lrs, loss, tmp_path / "lr.png", smoothed=loss,
                                suggested_range=(1e-4, 1e-3), lr_min_loss=1e-2)
    load_png(path, (800, 450))
    ax = seen[0].axes[0]
    assert ax.get_xscale() == "log"
    lo, hi = ax.get_xlim()
    assert lo < 1e-4 and hi > lrs[-2]
    assert count_colour(np.asarray(Image.open(path).convert("RGB")).astype(int), "#d73027",
                        20) > 20  # the marker of the minimum
    with pytest.raises(ValueError, match="positive"):
        plots.plot_lr_finder([0.0, 1.0], [1.0, 2.0], tmp_path / "x.png")
    with pytest.raises(ValueError, match="equally long"):
        plots.plot_lr_finder([1e-3], [1.0, 2.0], tmp_path / "x.png")


def test_confusion_matrix_panels(tmp_path, monkeypatch):
    seen = capture_figure(monkeypatch)
    cm = np.diag([50, 40, 30]) + np.array([[0, 5, 0], [2, 0, 0], [0, 9, 0]])
    both = load_png(plots.plot_confusion_matrix(cm, tmp_path / "both.png"), (1150, 550))
    counts = load_png(plots.plot_confusion_matrix(cm, tmp_path / "c.png", normalize="none"),
                      (600, 550))
    assert both.shape[1] > counts.shape[1]
    panels = {ax.get_title(): ax for ax in seen[0].axes if ax.texts}  # colorbars have none
    assert sorted(panels) == ["Confusion matrix, counts",
                              "Confusion matrix, row-normalized (recall)"]
    counts_ax = panels["Confusion matrix, counts"]
    assert [t.get_text() for t in counts_ax.texts] == [str(v) for v in cm.ravel()]
    norm_ax = panels["Confusion matrix, row-normalized (recall)"]
    np.testing.assert_allclose([float(t.get_text()) for t in norm_ax.texts],
                               (cm / cm.sum(1, keepdims=True)).ravel(), atol=0.005)
    assert counts_ax.get_xlabel() == "predicted" and counts_ax.get_ylabel() == "true"
    assert [t.get_text() for t in counts_ax.get_xticklabels()] == ["0", "1", "2"]
    with pytest.raises(ValueError, match="square"):
        plots.plot_confusion_matrix(np.zeros((2, 3)), tmp_path / "x.png")
    with pytest.raises(ValueError, match="normalize"):
        plots.plot_confusion_matrix(cm, tmp_path / "x.png", normalize="all")


def test_precision_recall_bars(tmp_path):
    p = np.linspace(0.8, 0.99, 10)
    load_png(plots.plot_precision_recall(p, p[::-1], tmp_path / "pr.png"), (900, 400))


def test_probabilities_highlight(tmp_path):
    p = np.full(10, 0.02)
    p[7] = 0.82
    img = np.zeros((28, 28))
    img[5:23, 12:16] = 255
    right = load_png(plots.plot_probabilities(p, tmp_path / "r.png", image=img, true_label=7),
                     (850, 360))
    wrong = load_png(plots.plot_probabilities(p, tmp_path / "w.png", image=img, true_label=1),
                     (850, 360))
    plain = load_png(plots.plot_probabilities(p, tmp_path / "p.png"), (600, 360))
    assert count_colour(right, plots.RIGHT_COLOR, 10) > 500
    assert count_colour(right, plots.WRONG_COLOR, 10) == 0
    assert count_colour(wrong, plots.WRONG_COLOR, 10) > 500
    assert count_colour(plain, plots.RIGHT_COLOR, 10) == 0
    with pytest.raises(ValueError, match="finite"):
        plots.plot_probabilities([np.nan, 1.0], tmp_path / "x.png")


def test_only_png(tmp_path):
    with pytest.raises(ValueError, match="PNG"):
        plots.plot_class_counts([1, 2], tmp_path / "counts.jpg")


def test_show_under_agg_writes_and_closes(tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "FigureCanvasAgg is non-interactive" would fail
        path = plots.plot_class_counts([3, 1, 2], tmp_path / "s.png", show=True)
    load_png(path, (800, 450))
    assert plt.get_fignums() == []


def test_importing_does_not_import_matplotlib():
    code = ("import sys, scratchnn, scratchnn.workflow.plots, scratchnn.workflow.digits, "
            "scratchnn.workflow.lr_finder, "
            "scratchnn.workflow.evaluation, scratchnn.cli; "
            "sys.exit(1 if 'matplotlib' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
