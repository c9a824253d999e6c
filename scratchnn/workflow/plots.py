"""Pictures for the tutorial workflow, written as PNG files.

Every function draws one figure, saves it to ``path`` (PNG; parent folders are created) and
returns the path.  Matplotlib is imported only inside the functions, so ``import scratchnn``
stays light.  Figures are drawn on a bare :class:`matplotlib.figure.Figure` with the Agg
renderer -- no window, no global pyplot state, safe in scripts and tests.  With
``show=True`` the figure is made through ``pyplot`` instead and shown (in the user's
interactive backend; nothing opens under a non-interactive one such as Agg) after it is saved.

The saved image is exactly ``figsize * dpi`` pixels (no ``bbox_inches="tight"``).

==============================  ============================================================
Function                        Picture
==============================  ============================================================
:func:`plot_class_counts`       bar chart of examples per class (one bar group per split)
:func:`plot_image_grid`         grid of digits with labels; with predictions, titles green
                                when right and red when wrong
:func:`plot_pixel_histograms`   histograms of pixel values, e.g. before/after preprocessing
:func:`plot_history`            loss and accuracy per epoch, training and validation
:func:`plot_compare_runs`       several runs' curves on shared axes
:func:`plot_lr_finder`          loss against learning rate (log axis), suggested range shaded
:func:`plot_confusion_matrix`   labelled heatmap(s): counts and/or row-normalized
:func:`plot_precision_recall`   per-class precision and recall bars
:func:`plot_probabilities`      softmax probabilities of one sample, optionally beside it
==============================  ============================================================
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

__all__ = [
    "plot_class_counts",
    "plot_image_grid",
    "plot_pixel_histograms",
    "plot_history",
    "plot_compare_runs",
    "plot_lr_finder",
    "plot_confusion_matrix",
    "plot_precision_recall",
    "plot_probabilities",
    "RIGHT_COLOR",
    "WRONG_COLOR",
]

#: Title colour of a correct prediction in :func:`plot_image_grid`.
RIGHT_COLOR = "#1a9850"
#: Title colour of a wrong prediction.
WRONG_COLOR = "#d73027"

PathLike = str | os.PathLike

#: Backends that cannot open a window; ``show=True`` then only writes the file.
_NON_INTERACTIVE = ("agg", "cairo", "pdf", "pgf", "ps", "svg", "template")


# --------------------------------------------------------------------------- plumbing


def _figure(figsize: tuple[float, float], dpi: int, show: bool):
    if show:
        import matplotlib.pyplot as plt

        return plt.figure(figsize=figsize, dpi=dpi)
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, dpi=dpi)


def _save(fig, path: PathLike, show: bool) -> Path:
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ValueError(f"plots are written as PNG; give a path ending in .png, got {path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", dpi=fig.dpi, facecolor="white")
    if show:
        import matplotlib.pyplot as plt

        if plt.get_backend().lower() not in _NON_INTERACTIVE:
            plt.show()
        plt.close(fig)
    return path


def _history_dict(history) -> dict[str, list[float]]:
    """Accept a ``History`` (``fit``'s return value), a model with ``.history``, or a dict."""
    if isinstance(history, Mapping):
        return {k: list(map(float, v)) for k, v in history.items()}
    inner = getattr(history, "history", None)
    if isinstance(inner, Mapping):
        return {k: list(map(float, v)) for k, v in inner.items()}
    if inner is not None and isinstance(getattr(inner, "history", None), Mapping):
        return _history_dict(inner)
    raise TypeError(f"expected a History, a model after fit(), or a dict of lists, got "
                    f"{type(history).__name__}")


def _accuracy_key(keys) -> str | None:
    for k in ("accuracy", "acc", "categorical_accuracy", "sparse_categorical_accuracy"):
        if k in keys:
            return k
    return None


def _integer_epochs(ax) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _as_images(images, name: str = "images") -> np.ndarray:
    arr = np.asarray(images)
    if arr.ndim == 2 and arr.shape[1] == 784:
        arr = arr.reshape(-1, 28, 28)
    if arr.ndim != 3:
        raise ValueError(f"{name} must have shape (N, H, W) (or (N, 784)), got {arr.shape}")
    if len(arr) == 0:
        raise ValueError(f"{name} is empty")
    return arr


# --------------------------------------------------------------------------- exploring


def plot_class_counts(counts: Mapping[str, Sequence[int]] | Sequence[int], path: PathLike, *,
                      class_names: Sequence[str] | None = None, title: str = "Examples per class",
                      figsize=(8, 4.5), dpi: int = 100, show: bool = False) -> Path:
    """Bar chart of per-class counts.

    Parameters
    ----------
    counts : sequence of C ints, or mapping ``split name -> C ints``
        E.g. ``{"train": np.bincount(y_train), "test": np.bincount(y_test)}``; several splits
        are drawn as side-by-side bars with the count written above each bar.
    path : where to write the PNG.
    class_names : labels of the C classes (default ``0 .. C-1``).
    """
    series = dict(counts) if isinstance(counts, Mapping) else {"count": counts}
    series = {k: np.asarray(v, dtype=np.int64).ravel() for k, v in series.items()}
    sizes = {len(v) for v in series.values()}
    if len(sizes) != 1 or 0 in sizes:
        raise ValueError(f"every split needs the same non-zero number of classes, got {sizes}")
    c = sizes.pop()
    names = list(class_names) if class_names is not None else [str(i) for i in range(c)]
    if len(names) != c:
        raise ValueError(f"class_names has {len(names)} entries for {c} classes")
    fig = _figure(figsize, dpi, show)
    ax = fig.add_subplot()
    width = 0.8 / len(series)
    pos = np.arange(c)
    for i, (label, values) in enumerate(series.items()):
        bars = ax.bar(pos + (i - (len(series) - 1) / 2) * width, values, width, label=label)
        ax.bar_label(bars, fontsize=7, padding=1)
    ax.set_xticks(pos, names)
    ax.set_xlabel("class")
    ax.set_ylabel("examples")
    ax.set_title(title)
    if len(series) > 1:
        ax.legend()
    ax.margins(y=0.12)
    fig.tight_layout()
    return _save(fig, path, show)


def plot_image_grid(images, path: PathLike, *, labels=None, predicted=None, ncols: int = 10,
                    title: str | None = None, cell: float = 1.0, dpi: int = 100,
                    show: bool = False) -> Path:
    """A grid of grayscale images, each titled with its label.

    Parameters
    ----------
    images : array (N, H, W) or (N, 784)
        Drawn with the ``gray_r`` colour map (ink dark on white), scaled per image.
    labels : N ints, optional
        True labels.  Alone they are the titles ("5").
    predicted : N ints, optional
        Predicted labels; titles become "pred 3 / true 5", green (:data:`RIGHT_COLOR`) when
        the prediction equals the label and red (:data:`WRONG_COLOR`) when not.
    ncols : grid columns; rows are ``ceil(N / ncols)``.
    cell : inches per grid cell; the figure is ``(ncols * cell, rows * cell * 1.15)`` inches.
    """
    imgs = _as_images(images)
    n = len(imgs)
    for name, arr in (("labels", labels), ("predicted", predicted)):
        if arr is not None and len(np.asarray(arr).ravel()) != n:
            raise ValueError(f"{name} has {len(np.asarray(arr).ravel())} entries for {n} images")
    if predicted is not None and labels is None:
        raise ValueError("predicted labels need the true labels too (labels=...)")
    ncols = max(1, min(int(ncols), n))
    nrows = -(-n // ncols)
    extra = 0.4 if title else 0.0
    fig = _figure((ncols * cell, nrows * cell * 1.15 + extra), dpi, show)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    lab = None if labels is None else np.asarray(labels).ravel()
    pred = None if predicted is None else np.asarray(predicted).ravel()
    for k, ax in enumerate(axes.ravel()):
        ax.axis("off")
        if k >= n:
            continue
        ax.imshow(imgs[k], cmap="gray_r", interpolation="nearest")
        if pred is not None:
            right = pred[k] == lab[k]
            ax.set_title(f"pred {pred[k]} / true {lab[k]}", fontsize=7,
                         color=RIGHT_COLOR if right else WRONG_COLOR,
                         fontweight="normal" if right else "bold")
        elif lab is not None:
            ax.set_title(str(lab[k]), fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return _save(fig, path, show)


def plot_pixel_histograms(arrays: Mapping[str, np.ndarray], path: PathLike, *, bins: int = 50,
                          title: str = "Pixel values", figsize=None, dpi: int = 100,
                          show: bool = False) -> Path:
    """One histogram per entry of ``arrays`` (e.g. raw, x/255, L2, standardized pixels).

    Each panel is titled with the name and the values' min, max, mean and standard deviation;
    the counts axis is logarithmic because most MNIST pixels are background.
    """
    if not arrays:
        raise ValueError("arrays is empty; pass {name: values}")
    n = len(arrays)
    fig = _figure(figsize or (3.2 * n, 3.4), dpi, show)
    axes = fig.subplots(1, n, squeeze=False)[0]
    for ax, (name, values) in zip(axes, arrays.items()):
        v = np.asarray(values, dtype=np.float64).ravel()
        if v.size == 0:
            raise ValueError(f"{name}: no values")
        ax.hist(v, bins=bins, color="#4575b4", log=True)
        ax.set_title(f"{name}\nmin {v.min():.3g} max {v.max():.3g}\n"
                     f"mean {v.mean():.3g} std {v.std():.3g}", fontsize=8)
        ax.set_xlabel("value", fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0].set_ylabel("pixels (log)")
    fig.suptitle(title)
    fig.tight_layout()
    return _save(fig, path, show)


# --------------------------------------------------------------------------- tuning


def plot_history(history, path: PathLike, *, title: str | None = None, figsize=(10, 4),
                 dpi: int = 100, show: bool = False) -> Path:
    """Loss (left) and accuracy (right, if recorded) per epoch, training solid and validation
    dashed.  ``history`` is what ``fit`` returns (or its ``.history`` dict)."""
    h = _history_dict(history)
    if "loss" not in h:
        raise ValueError(f"the history has no 'loss' entry (keys: {sorted(h)})")
    acc = _accuracy_key(h)
    panels = [("loss", "loss")] + ([("accuracy", acc)] if acc else [])
    fig = _figure(figsize, dpi, show)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (label, key) in zip(axes, panels):
        epochs = np.arange(1, len(h[key]) + 1)
        ax.plot(epochs, h[key], "o-", label=f"train {label}", color="#4575b4")
        if f"val_{key}" in h:
            ax.plot(epochs, h[f"val_{key}"], "s--", label=f"validation {label}", color="#d73027")
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        _integer_epochs(ax)
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return _save(fig, path, show)


def plot_compare_runs(histories: Mapping[str, object], path: PathLike, *,
                      metrics: Sequence[str] = ("loss", "accuracy"), title: str | None = None,
                      figsize=None, dpi: int = 100, show: bool = False) -> Path:
    """Several runs on shared axes: one panel per metric, one colour per run (legend below),
    training solid and validation (``val_*``) dashed.

    Parameters
    ----------
    histories : mapping ``run name -> History or dict``
    metrics : metric names to draw ("accuracy" also finds "acc" etc.); metrics missing from
        every run are skipped.
    """
    if not histories:
        raise ValueError("histories is empty; pass {run name: history}")
    runs = {name: _history_dict(h) for name, h in histories.items()}
    panels = []
    for m in metrics:
        keys = {(_accuracy_key(h) if m in ("accuracy", "acc") else m) for h in runs.values()}
        if any(k is not None and any(k in h for h in runs.values()) for k in keys):
            panels.append(m)
    if not panels:
        raise ValueError(f"none of the metrics {list(metrics)} is in the histories")
    nrow_legend = -(-len(runs) // 3)
    fig = _figure(figsize or (5.5 * len(panels), 4.2 + 0.25 * nrow_legend), dpi, show)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    colors = [f"C{i % 10}" for i in range(len(runs))]
    handles = {}
    for ax, metric in zip(axes, panels):
        for color, (name, h) in zip(colors, runs.items()):
            key = _accuracy_key(h) if metric in ("accuracy", "acc") else metric
            if key is None or key not in h:
                continue
            epochs = np.arange(1, len(h[key]) + 1)
            (line,) = ax.plot(epochs, h[key], "-", color=color)
            handles.setdefault(name, line)
            if f"val_{key}" in h:
                ax.plot(epochs, h[f"val_{key}"], "--", color=color)
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        _integer_epochs(ax)
        ax.grid(alpha=0.3)
    fig.legend(list(handles.values()), list(handles), loc="lower center",
               ncol=min(3, len(handles)), fontsize=8, frameon=False)
    fig.suptitle(title or "Runs compared: training solid, validation dashed")
    fig.tight_layout(rect=(0, (0.22 * nrow_legend + 0.08) / fig.get_figheight(), 1, 1))
    return _save(fig, path, show)


def plot_lr_finder(learning_rates, losses, path: PathLike, *, smoothed=None,
                   suggested_range: tuple[float, float] | None = None,
                   lr_min_loss: float | None = None, title: str = "Learning-rate finder",
                   figsize=(8, 4.5), dpi: int = 100, show: bool = False) -> Path:
    """Loss against learning rate on a logarithmic x axis.

    ``smoothed`` (same length) is drawn over the raw losses; ``suggested_range`` is shaded and
    ``lr_min_loss`` marked with a dotted line.  Non-finite losses are left out.
    """
    lrs = np.asarray(learning_rates, dtype=np.float64).ravel()
    loss = np.asarray(losses, dtype=np.float64).ravel()
    if lrs.shape != loss.shape or lrs.size == 0:
        raise ValueError(f"learning_rates and losses must be equally long and non-empty, got "
                         f"{lrs.size} and {loss.size}")
    if np.any(lrs <= 0):
        raise ValueError("learning rates must be positive for a logarithmic axis")
    fig = _figure(figsize, dpi, show)
    ax = fig.add_subplot()
    ok = np.isfinite(loss)
    ax.plot(lrs[ok], loss[ok], ".-", color="#91bfdb" if smoothed is not None else "#4575b4",
            label="loss")
    if smoothed is not None:
        sm = np.asarray(smoothed, dtype=np.float64).ravel()
        if sm.shape != lrs.shape:
            raise ValueError("smoothed must have one value per learning rate")
        good = np.isfinite(sm)
        ax.plot(lrs[good], sm[good], "-", color="#4575b4", lw=2, label="smoothed loss")
    if suggested_range is not None:
        lo, hi = suggested_range
        ax.axvspan(lo, hi, color="#1a9850", alpha=0.2,
                   label=f"suggested {lo:.1e} .. {hi:.1e}")
    if lr_min_loss is not None:
        ax.axvline(lr_min_loss, color="#d73027", ls=":", label=f"min loss at {lr_min_loss:.1e}")
    ax.set_xscale("log")
    finite = loss[ok]
    if finite.size:  # keep the divergent tail from flattening the interesting part
        top = min(finite.max(), finite[0] * 1.5 if finite[0] > 0 else finite.max())
        bottom = finite.min()
        pad = 0.05 * max(top - bottom, 1e-12)
        ax.set_ylim(bottom - pad, top + pad)
    ax.set_xlabel("learning rate (log scale)")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return _save(fig, path, show)


# --------------------------------------------------------------------------- evaluating


def _heatmap(ax, fig, m: np.ndarray, names: Sequence[str], fmt: str, title: str) -> None:
    vmax = float(m.max()) if m.size and m.max() > 0 else 1.0
    im = ax.imshow(m, cmap="Blues", vmin=0, vmax=vmax)
    c = len(names)
    ax.set_xticks(range(c), names)
    ax.set_yticks(range(c), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    size = 8 if c <= 10 else 6
    for i in range(c):
        for j in range(c):
            v = m[i, j]
            ax.text(j, i, format(v, fmt), ha="center", va="center", fontsize=size,
                    color="white" if v > 0.5 * vmax else "black")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)


def plot_confusion_matrix(cm, path: PathLike, *, normalize: str = "both",
                          class_names: Sequence[str] | None = None, title: str | None = None,
                          figsize=None, dpi: int = 100, show: bool = False) -> Path:
    """Confusion matrix as a labelled heatmap (rows true, columns predicted).

    Parameters
    ----------
    cm : array (C, C) of counts (``scratchnn.metrics.confusion_matrix``).
    normalize : 'none' (counts), 'true' (each row divided by its sum: the diagonal is the
        per-class accuracy, i.e. recall) or 'both' (the two side by side).
    """
    m = np.asarray(cm)
    if m.ndim != 2 or m.shape[0] != m.shape[1] or m.shape[0] == 0:
        raise ValueError(f"cm must be a square (C, C) matrix, got shape {m.shape}")
    if normalize not in ("none", "true", "both"):
        raise ValueError(f"normalize must be 'none', 'true' or 'both', got {normalize!r}")
    c = m.shape[0]
    names = list(class_names) if class_names is not None else [str(i) for i in range(c)]
    if len(names) != c:
        raise ValueError(f"class_names has {len(names)} entries for {c} classes")
    rows = m.sum(axis=1, keepdims=True).astype(np.float64)
    norm = np.divide(m, rows, out=np.zeros(m.shape), where=rows > 0)
    panels = {"none": [("counts", m, "d")], "true": [("row-normalized (recall)", norm, ".2f")]}
    panels["both"] = panels["none"] + panels["true"]
    chosen = panels[normalize]
    side = 5.5 if c <= 10 else 0.45 * c + 1
    fig = _figure(figsize or (side * len(chosen) + 0.5, side), dpi, show)
    axes = fig.subplots(1, len(chosen), squeeze=False)[0]
    for ax, (name, values, fmt) in zip(axes, chosen):
        if fmt == "d":
            values = np.asarray(values).astype(np.int64)
        _heatmap(ax, fig, values, names, fmt, f"Confusion matrix, {name}")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return _save(fig, path, show)


def plot_precision_recall(precision, recall, path: PathLike, *,
                          class_names: Sequence[str] | None = None,
                          title: str = "Per-class precision and recall", figsize=(9, 4),
                          dpi: int = 100, show: bool = False) -> Path:
    """Grouped bars of per-class precision and recall (``metrics.precision_recall``)."""
    p = np.asarray(precision, dtype=np.float64).ravel()
    r = np.asarray(recall, dtype=np.float64).ravel()
    if p.shape != r.shape or p.size == 0:
        raise ValueError("precision and recall must be equally long and non-empty")
    c = p.size
    names = list(class_names) if class_names is not None else [str(i) for i in range(c)]
    fig = _figure(figsize, dpi, show)
    ax = fig.add_subplot()
    pos = np.arange(c)
    ax.bar(pos - 0.2, p, 0.4, label="precision", color="#4575b4")
    ax.bar(pos + 0.2, r, 0.4, label="recall", color="#fc8d59")
    lo = float(min(p.min(), r.min()))
    ax.set_ylim(max(0.0, lo - 0.05) if lo > 0.5 else 0.0, 1.0)
    ax.set_xticks(pos, names)
    ax.set_xlabel("class")
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return _save(fig, path, show)


def plot_probabilities(probabilities, path: PathLike, *, image=None, true_label=None,
                       class_names: Sequence[str] | None = None, title: str | None = None,
                       figsize=None, dpi: int = 100, show: bool = False) -> Path:
    """The softmax output of one sample as a bar chart, optionally beside its image.

    The predicted class's bar is highlighted (green when it equals ``true_label``, red when
    not, blue when no label is given) and each bar carries its probability.
    """
    p = np.asarray(probabilities, dtype=np.float64).ravel()
    if p.size == 0 or not np.isfinite(p).all():
        raise ValueError("probabilities must be a non-empty vector of finite numbers")
    c = p.size
    names = list(class_names) if class_names is not None else [str(i) for i in range(c)]
    guess = int(np.argmax(p))
    if true_label is None:
        color = "#4575b4"
    else:
        color = RIGHT_COLOR if guess == int(true_label) else WRONG_COLOR
    has_image = image is not None
    fig = _figure(figsize or ((8.5, 3.6) if has_image else (6, 3.6)), dpi, show)
    if has_image:
        ax_img, ax = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.9]})
        img = np.asarray(image)
        if img.ndim == 1 and img.size == 784:
            img = img.reshape(28, 28)
        ax_img.imshow(img, cmap="gray_r", interpolation="nearest")
        ax_img.set_title("input (28x28)" if true_label is None
                         else f"input (true {int(true_label)})")
        ax_img.set_xticks([])
        ax_img.set_yticks([])
    else:
        ax = fig.add_subplot()
    colors = ["#bababa"] * c
    colors[guess] = color
    bars = ax.bar(np.arange(c), p, color=colors)
    ax.bar_label(bars, labels=[f"{v:.2f}" for v in p], fontsize=7, padding=1)
    ax.set_xticks(np.arange(c), names)
    ax.set_ylim(0, 1.1)
    ax.set_xlabel("class")
    ax.set_ylabel("probability")
    ax.set_title(title or f"predicted {names[guess]} (p = {p[guess]:.3f})")
    fig.tight_layout()
    return _save(fig, path, show)
