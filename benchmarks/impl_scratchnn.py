"""The benchmark operations in scratchnn.

Each ``make_*`` returns a zero-argument callable doing one operation, exactly as ``fit`` does
it inside its loop (same thread policy, same code path); ``epoch`` is a real ``Model.fit``.

The same code times scratchnn on every array library it runs on (:mod:`scratchnn.backend`):
the ``device`` argument of :func:`make` is ``"cpu"`` (NumPy, the default) or
``"<backend>:<device>"`` -- ``"torch:cpu"``, ``"torch:cuda"``, ``"cupy:0"``.  The model is built
on that backend (then the previous backend is restored), the batch is moved there once, and
every timed call ends with the device synchronized (``torch.cuda.synchronize``, the CuPy
stream's ``synchronize``), so a GPU's asynchronous launches are timed to completion.
"""

from __future__ import annotations

import numpy as np

import scratchnn as snn
from scratchnn.backend import get_backend, set_backend

from .config import INPUT_DIM
from .data import Data

name = "scratchnn"


def parse_device(device: str) -> tuple[str, str | None]:
    """``"cpu"`` -> ``("numpy", None)``; ``"torch:cuda"`` -> ``("torch", "cuda")``."""
    if device == "cpu":
        return "numpy", None
    name, _, dev = device.partition(":")
    return name, dev or None


def available(device: str = "cpu") -> bool:
    """True when the backend of ``device`` is installed and its device exists (the current
    backend is left as it was)."""
    previous = get_backend()
    try:
        set_backend(*parse_device(device))
    except Exception:  # not installed, no such device, CuPy without a CUDA driver, ...
        return False
    finally:
        set_backend(previous.name, previous.device)
    return True


def _sync(backend) -> None:
    """Wait for the device's queued work (a no-op on CPU backends)."""
    if backend.name == "cupy":
        import cupy

        cupy.cuda.get_current_stream().synchronize()
    elif backend.name == "torch" and str(backend.device).startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def _synced(fn, backend):
    """``fn`` followed by a device synchronization (``fn`` itself on NumPy)."""
    if backend.is_numpy:
        return fn

    def run():
        out = fn()
        _sync(backend)
        return out
    return run


def build(widths: tuple[int, ...], seed: int = 0, device: str = "cpu") -> snn.Sequential:
    """The benchmark network, built on the backend named by ``device`` (see module doc)."""
    previous = get_backend()
    set_backend(*parse_device(device))
    try:
        return _build(widths, seed)
    finally:
        set_backend(previous.name, previous.device)


def _build(widths: tuple[int, ...], seed: int) -> snn.Sequential:
    snn.utils.set_random_seed(seed)
    layers = [snn.layers.Input((INPUT_DIM,))]
    layers += [snn.layers.Dense(u, activation="relu") for u in widths]
    layers.append(snn.layers.Dense(10, activation="softmax"))
    model = snn.Sequential(layers)
    model.build()
    model.compile(snn.optimizers.Adam(1e-3), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


_limits = None  # the thread limit set by the last make(): one case at a time


def _use_fit_threads(model, batch: int) -> None:
    """Set BLAS to the thread count ``fit`` would use for this batch size, until the next case.

    (``fit`` enters the limit once per call; entering it around every timed call would time
    threadpoolctl's library scan, ~0.2 ms, too.)
    """
    global _limits
    from threadpoolctl import threadpool_limits

    if _limits is not None:
        _limits.restore_original_limits()
    _limits = threadpool_limits(model.blas_threads(batch), "blas")


def make(op: str, batch: int, widths: tuple[int, ...], data: Data, device: str = "cpu"):
    """A callable doing one ``op`` (see :mod:`benchmarks.config`) on ``device``'s backend."""
    model = build(widths, device=device)
    return _synced(_make(op, batch, model, data), model.backend)


def _make(op: str, batch: int, model: snn.Sequential, data: Data):
    """The unsynchronized callable of :func:`make` for a built ``model``."""
    x, y = data.x_train[:batch], data.y_train[:batch]
    if len(x) < batch:  # tiny data sets: repeat to fill the batch
        reps = -(-batch // len(x))
        x, y = np.tile(x, (reps, 1))[:batch], np.tile(y, reps)[:batch]
    _use_fit_threads(model, batch)
    backend = model.backend
    if op not in ("predict", "epoch"):  # the batch on the device once, as fit moves it
        x, y = model.on_backend(x, y)
    dense = model.layers[0]
    if op == "dense_forward":
        return lambda: dense.forward(x, training=True)
    if op == "dense_backward":
        out = dense.forward(x, training=True)
        dout = np.random.default_rng(1).standard_normal(tuple(out.shape)).astype(np.float32)
        dout = backend.asarray(dout)
        return lambda: dense.backward(dout, need_input_grad=True)  # as a hidden layer
    if op == "softmax_ce":
        logits = np.random.default_rng(1).standard_normal((batch, 10)).astype(np.float32)
        logits = backend.asarray(logits)
        loss_fn = snn.losses.SoftmaxCrossEntropy(model.loss)  # what the model's head uses

        def softmax_ce():
            loss_fn.forward(y, logits)
            return loss_fn.backward()
        return softmax_ce
    if op == "adam":
        model.forward_backward(x, y)  # realistic gradients
        return model.apply_gradients
    if op == "train_step":
        def step():
            loss, y_pred = model.forward_backward(x, y)
            model.apply_gradients()
            return loss, model.metric_sums(y, y_pred)
        return step
    if op == "predict":
        return lambda: model.predict(data.x_test, batch_size=batch, verbose=0)
    if op == "epoch":
        return lambda: model.fit(data.x_train, data.y_train, batch_size=batch, epochs=1,
                                 verbose=0)
    raise ValueError(f"unknown op {op!r}")
