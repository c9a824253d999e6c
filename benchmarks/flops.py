"""Floating-point operation counts, to turn times into GFLOP/s.

Only the work a dense network cannot avoid is counted (a multiply-add is 2 FLOPs).  For a
layer with D inputs and U units on a batch of N samples:

* forward ``z = xW + b, a = relu(z)``: 2NDU (+ the N*U bias adds and maxima, counted);
* backward ``dz = dout * [a > 0]``, ``dW = x^T dz``, ``db = sum dz``, ``dx = dz W^T``:
  4NDU (+ 2NU);
* a train step over layers (D_i, U_i): forward and dW everywhere, dx for all layers but the
  first (nobody needs the gradient of the input images): sum_i 6 N D_i U_i - 2 N D_1 U_1,
  plus the element-wise work of bias, ReLU, softmax-CE and Adam;
* softmax + cross-entropy forward and backward on N x K logits: ~8NK;
* Adam over P parameters: 12P (Keras's update is twelve element-wise operations);
* predicting N samples: sum_i 2 N D_i U_i (+ bias, ReLU and softmax).

Each framework is credited with the same count for the same case, so GFLOP/s compare like
times do; a framework that does more work (e.g. recomputes something) is not credited for it.
"""

from __future__ import annotations

from .config import CLASSES, INPUT_DIM


def layer_dims(widths: tuple[int, ...]) -> list[tuple[int, int]]:
    """(inputs, units) of each Dense layer of ``784 -> widths -> 10``."""
    sizes = [INPUT_DIM, *widths, CLASSES]
    return list(zip(sizes[:-1], sizes[1:]))


def n_params(widths: tuple[int, ...]) -> int:
    return sum(d * u + u for d, u in layer_dims(widths))


def forward(n: int, widths: tuple[int, ...]) -> int:
    """A full forward pass (bias, ReLU and softmax included)."""
    dims = layer_dims(widths)
    return sum(2 * n * d * u + 2 * n * u for d, u in dims) + 4 * n * CLASSES


def dense_forward(n: int, d: int, u: int) -> int:
    return 2 * n * d * u + 2 * n * u


def dense_backward(n: int, d: int, u: int) -> int:
    return 4 * n * d * u + 2 * n * u


def softmax_ce(n: int, k: int = CLASSES) -> int:
    return 8 * n * k


def adam(widths: tuple[int, ...]) -> int:
    return 12 * n_params(widths)


def train_step(n: int, widths: tuple[int, ...]) -> int:
    dims = layer_dims(widths)
    matmul = sum(6 * n * d * u for d, u in dims) - 2 * n * dims[0][0] * dims[0][1]
    elementwise = sum(4 * n * u for _, u in dims) + softmax_ce(n)
    return matmul + elementwise + adam(widths)


def epoch(n_samples: int, batch: int, widths: tuple[int, ...]) -> int:
    """One epoch: every sample once, one Adam update per batch."""
    steps = -(-n_samples // batch)
    per_sample = train_step(1, widths) - adam(widths)
    return n_samples * per_sample + steps * adam(widths)


def predict(n: int, widths: tuple[int, ...]) -> int:
    return forward(n, widths)


def for_case(op: str, batch: int, widths: tuple[int, ...], n_train: int = 60000,
             n_test: int = 10000) -> int:
    """FLOPs of one call of benchmark ``op`` (see :mod:`benchmarks.config`)."""
    first = layer_dims(widths)[0]
    return {
        "dense_forward": lambda: dense_forward(batch, *first),
        "dense_backward": lambda: dense_backward(batch, *first),
        "softmax_ce": lambda: softmax_ce(batch),
        "adam": lambda: adam(widths),
        "train_step": lambda: train_step(batch, widths),
        "predict": lambda: predict(n_test, widths),
        "epoch": lambda: epoch(n_train, batch, widths),
    }[op]()
