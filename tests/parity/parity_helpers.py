"""Model and data construction shared by the parity tests (plain functions, no fixtures)."""

from __future__ import annotations

import numpy as np

import scratchnn as snn


def build(spec, input_shape, dtype, rng: np.random.Generator, loss="categorical_crossentropy",
          optimizer="sgd", metrics=None, weight_scale: float = 1.0) -> snn.Sequential:
    """A compiled scratchnn model from ``spec`` with weights drawn from ``rng``.

    ``spec`` entries: ``("dense", units, activation)``, ``("flatten",)``, ``("act", name)``.
    Kernels ~ U(-l, l) with the Glorot limit ``l = sqrt(6 / (fan_in + fan_out))`` times
    ``weight_scale``; biases ~ N(0, 0.1) (non-zero, so that the bias paths are exercised).
    """
    layers: list = [snn.layers.Input(input_shape)]
    for entry in spec:
        if entry[0] == "dense":
            layers.append(snn.layers.Dense(entry[1], activation=entry[2]))
        elif entry[0] == "flatten":
            layers.append(snn.layers.Flatten())
        elif entry[0] == "act":
            layers.append(snn.layers.Activation(entry[1]))
        else:
            raise ValueError(entry)
    model = snn.Sequential(layers, dtype=dtype)
    model.build()
    weights = []
    for w in model.get_weights():
        if w.ndim == 2:
            limit = np.sqrt(6.0 / sum(w.shape)) * weight_scale
            weights.append(rng.uniform(-limit, limit, w.shape))
        else:
            weights.append(0.1 * rng.standard_normal(w.shape))
    model.set_weights([w.astype(dtype) for w in weights])
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics or [])
    return model


def targets(loss: str, n: int, k: int, dtype, rng: np.random.Generator) -> np.ndarray:
    """Targets for ``loss``: integer labels, one-hot rows, or real values for MSE."""
    labels = rng.integers(0, k, n)
    if loss == "sparse_categorical_crossentropy":
        return labels
    if loss == "categorical_crossentropy":
        return np.eye(k, dtype=dtype)[labels]
    return rng.standard_normal((n, k)).astype(dtype)


def gradient_sequence(shapes, steps: int, dtype, seed: int = 0) -> list[list[np.ndarray]]:
    """``steps`` lists of gradients of ``shapes``: a fixed drift plus noise, magnitudes spread
    over 1e-10..10 per entry, 5% exact zeros, and a dead unit (zero at every step)."""
    rng = np.random.default_rng(seed)
    drift = [rng.standard_normal(s) * 0.1 for s in shapes]
    scale = [10.0 ** rng.uniform(-10, 1, s) for s in shapes]
    seq = []
    for _ in range(steps):
        step = []
        for d, sc, shape in zip(drift, scale, shapes):
            g = (rng.standard_normal(shape) + d) * sc
            g[rng.random(shape) < 0.05] = 0.0
            step.append(g.astype(dtype))
        step[0][:, :2] = 0.0  # a dead unit: zero gradient at every step
        seq.append(step)
    return seq
