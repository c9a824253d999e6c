"""Evaluating a trained classifier beyond one accuracy number.

:func:`evaluate_classifier` runs the model on a labelled set once and collects what the
tutorials look at after training: loss and accuracy, the confusion matrix (counts, and
row-normalized so the diagonal is each class's accuracy), per-class precision and recall, the
most-confused (true, predicted) pairs, and every sample's probabilities and predicted class.
:meth:`EvaluationReport.format` prints it; :meth:`EvaluationReport.plot` writes the pictures.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from scratchnn.metrics import confusion_matrix, most_confused_pairs, precision_recall
from scratchnn.utils import to_categorical

__all__ = ["EvaluationReport", "evaluate_classifier", "row_normalize"]


def row_normalize(cm) -> np.ndarray:
    """``cm[i, j] / sum_j cm[i, j]`` (rows of zeros stay zero): row ``i`` is how class ``i``'s
    samples were classified; the diagonal is the per-class accuracy (recall)."""
    m = np.asarray(cm, dtype=np.float64)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise ValueError(f"cm must be a square (C, C) matrix, got shape {m.shape}")
    rows = m.sum(axis=1, keepdims=True)
    return np.divide(m, rows, out=np.zeros_like(m), where=rows > 0)


@dataclass
class EvaluationReport:
    """Everything :func:`evaluate_classifier` measured.

    ``labels`` (N,) true classes, ``probabilities`` (N, C) model outputs, ``predicted`` (N,)
    their argmax; ``confusion`` (C, C) counts (rows true, columns predicted) and
    ``confusion_normalized`` its row-normalized form; ``precision``/``recall`` (C,);
    ``confused_pairs`` a list of (true, predicted, count), largest first.
    """

    loss: float | None
    accuracy: float
    labels: np.ndarray
    probabilities: np.ndarray
    predicted: np.ndarray
    confusion: np.ndarray
    confusion_normalized: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    confused_pairs: list[tuple[int, int, int]]

    @property
    def support(self) -> np.ndarray:
        """Samples per true class, ``confusion.sum(axis=1)``."""
        return self.confusion.sum(axis=1)

    @property
    def errors(self) -> np.ndarray:
        """Indices of the misclassified samples."""
        return np.flatnonzero(self.predicted != self.labels)

    def format(self) -> str:
        """Loss/accuracy, a per-class table and the most-confused pairs as text."""
        lines = []
        if self.loss is not None:
            lines.append(f"Test loss: {self.loss:.4f}")
        lines.append(f"Test accuracy: {self.accuracy:.4f}  "
                     f"({len(self.labels) - len(self.errors)}/{len(self.labels)} correct)")
        lines += ["", f"{'class':>5}  {'support':>7}  {'precision':>9}  {'recall':>7}  "
                      f"{'f1':>6}"]
        for c in range(len(self.precision)):
            p, r = self.precision[c], self.recall[c]
            f1 = 2 * p * r / (p + r) if p + r > 0 else 0.0
            lines.append(f"{c:>5}  {int(self.support[c]):>7}  {p:>9.4f}  {r:>7.4f}  {f1:>6.4f}")
        lines += ["", "Most confused (true -> predicted: count):"]
        if not self.confused_pairs:
            lines.append("  none: every sample is classified correctly")
        for t, p, n in self.confused_pairs:
            share = 100 * n / max(1, int(self.support[t]))
            lines.append(f"  {t} -> {p}: {n}  ({share:.1f}% of the {t}s)")
        return "\n".join(lines)

    def plot(self, out_dir, images=None, *, grid: int = 25, sample: int = 0, seed: int = 0,
             show: bool = False) -> dict[str, Path]:
        """Write the evaluation pictures into ``out_dir`` and return ``{name: path}``.

        ``confusion_matrix.png`` (counts and row-normalized), ``precision_recall.png``, and
        when ``images`` (N, 28, 28) are given: ``predictions.png`` (``grid`` random samples),
        ``errors.png`` (up to ``grid`` misclassified samples) and ``probabilities.png`` (the
        probabilities of sample ``sample`` beside its image).
        """
        from scratchnn.workflow import plots

        out = Path(out_dir)
        paths = {
            "confusion_matrix": plots.plot_confusion_matrix(
                self.confusion, out / "confusion_matrix.png", normalize="both", show=show),
            "precision_recall": plots.plot_precision_recall(
                self.precision, self.recall, out / "precision_recall.png", show=show),
        }
        if images is not None:
            imgs = np.asarray(images)
            if len(imgs) != len(self.labels):
                raise ValueError(f"images has {len(imgs)} entries for {len(self.labels)} labels")
            rng = np.random.default_rng(seed)
            pick = np.sort(rng.choice(len(imgs), size=min(grid, len(imgs)), replace=False))
            paths["predictions"] = plots.plot_image_grid(
                imgs[pick], out / "predictions.png", labels=self.labels[pick],
                predicted=self.predicted[pick], ncols=min(10, int(np.ceil(np.sqrt(len(pick))))),
                title="Test predictions (green right, red wrong)", show=show)
            wrong = self.errors[:grid]
            if len(wrong):
                paths["errors"] = plots.plot_image_grid(
                    imgs[wrong], out / "errors.png", labels=self.labels[wrong],
                    predicted=self.predicted[wrong],
                    ncols=min(10, int(np.ceil(np.sqrt(len(wrong))))),
                    title="Misclassified test digits", show=show)
            if not 0 <= sample < len(imgs):
                raise ValueError(f"sample must be in 0..{len(imgs) - 1}, got {sample}")
            paths["probabilities"] = plots.plot_probabilities(
                self.probabilities[sample], out / "probabilities.png", image=imgs[sample],
                true_label=int(self.labels[sample]), show=show,
                title=f"test sample {sample}: predicted {int(self.predicted[sample])} "
                      f"(p = {self.probabilities[sample].max():.3f})")
        return paths


def evaluate_classifier(model, x, labels, *, batch_size: int = 256,
                        top_pairs: int = 5) -> EvaluationReport:
    """Classify ``x`` with ``model`` and collect the evaluation (see :class:`EvaluationReport`).

    Parameters
    ----------
    model : a ``Sequential`` with a softmax (or any score) output of C units.
    x : inputs, already preprocessed the way the model was trained.
    labels : true classes (N,) or one-hot (N, C).
    top_pairs : how many most-confused pairs to keep.

    The loss is ``model.evaluate``'s (computed when the model is compiled) with targets in the
    form its loss expects (integer labels for the sparse loss, one-hot otherwise).
    """
    y = np.asarray(labels)
    if y.ndim == 2 and y.shape[1] > 1:
        y = y.argmax(axis=1)
    y = y.reshape(-1).astype(np.int64)
    probs = np.asarray(model.predict(x, batch_size=batch_size, verbose=0))
    if probs.ndim != 2 or len(probs) != len(y):
        raise ValueError(f"the model returned {probs.shape} for {len(y)} labels")
    c = probs.shape[1]
    predicted = probs.argmax(axis=1)
    cm = confusion_matrix(y, predicted, num_classes=c)
    precision, recall = precision_recall(y, predicted, num_classes=c)
    loss = None
    if getattr(model, "compiled", False):
        sparse = "sparse" in model.loss.name
        target = y if sparse else to_categorical(y, c)
        values = model.evaluate(x, target, batch_size=batch_size, verbose=0)
        loss = float(values[0] if isinstance(values, list) else values)
    return EvaluationReport(
        loss=loss, accuracy=float(np.trace(cm) / cm.sum()), labels=y, probabilities=probs,
        predicted=predicted, confusion=cm, confusion_normalized=row_normalize(cm),
        precision=precision, recall=recall, confused_pairs=most_confused_pairs(cm, top_pairs))
