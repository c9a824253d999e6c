"""The training loop behind ``Sequential.fit``, written as a generator of optimizer steps.

``model.fit(...)`` is ``for _ in model.fit_steps(...): pass`` and :func:`fit_steps` is the
textbook loop::

    callbacks.on_train_begin()
    for epoch in range(initial_epoch, epochs):
        callbacks.on_epoch_begin(epoch)
        for step, (xb, yb) in enumerate(batches(order)):       # a new order every epoch
            callbacks.on_train_batch_begin(step)
            loss, y_pred = model.forward_backward(xb, yb)       # fills the gradients
            stop (NonFiniteLossError) unless the loss is finite
            model.apply_gradients()                               # one optimizer step
            stop (NonFiniteLossError) unless model.weights_finite()
            epoch_mean.add(loss, metric sums, len(xb))
            callbacks.on_train_batch_end(step, epoch_mean.logs())
            yield TrainStep(epoch, step, logs)                   # one item per optimizer step
        logs += validation loss and metrics (val_*)
        callbacks.on_epoch_end(epoch, logs)
    callbacks.on_train_end()

Because the loop is a generator, a caller can advance it one optimizer step at a time with
``next()`` and do something between two steps in the same thread — ``tfref.fit_like`` runs
Keras's ``fit`` and advances scratchnn's from Keras's ``on_train_batch_end``, so both sit at the
same step whenever their parameters are compared, with no threads and nothing to race.

While the generator is suspended, the BLAS thread limit and the flush-to-zero mode of the loop
(see :mod:`scratchnn.engine.perf`) stay in force for the calling thread; exhausting the
generator, or closing it (``gen.close()``, also done when it is garbage-collected), restores
them.

On a backend other than NumPy (:mod:`scratchnn.backend`) the prepared data is moved there once
per ``fit``, never per batch (:func:`batch_source`): whole, before the first epoch, when x, y
and the sample weights fit the backend's data budget (:meth:`Backend.data_budget_bytes`), and
batches are gathered with ``xp.take`` on the device; otherwise in chunks of whole batches
(:class:`ChunkedBatches`: each chunk's rows gathered on the host in the epoch's order, moved in
one transfer, sliced into batches on the device).  Either way each epoch's order comes from the
NumPy generator, as on NumPy, so the batches are the same on every backend and for any budget.
Validation data, ``evaluate`` and ``predict`` obey the same budget (in order).  The BLAS thread
policy and flush-to-zero are NumPy's: skipped there.

The loop uses only the model's public surface: ``require_compiled``, ``prepare_data``,
``forward_backward``, ``apply_gradients``, ``weights_finite``, ``metric_sums``,
``metric_counts``,
``metrics_names``, ``loss_and_metrics``, ``blas_threads``, ``history`` and ``stop_training``.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Generator, Iterator, Sequence
from typing import NamedTuple

import numpy as np

from scratchnn.arguments import (
    check_batch_size,
    check_bool,
    check_int,
    check_real,
    check_seed,
    check_verbose,
)
from scratchnn.backend import Backend, device_of, is_numpy, namespace
from scratchnn.engine import callbacks as callbacks_module
from scratchnn.engine import perf
from scratchnn.engine.sample_weights import prepare_sample_weight
from scratchnn.seeding import rng_from


class NonFiniteLossError(FloatingPointError):
    """Raised by ``fit`` when the training loss, or a parameter after an update, becomes NaN or
    infinite.

    ``history`` holds the epochs completed before it happened.
    """

    def __init__(self, message: str, history=None):
        super().__init__(message)
        self.history = history


class TrainStep(NamedTuple):
    """What :func:`fit_steps` yields after each optimizer step (0-based ``epoch``/``batch``);
    ``logs`` is a copy of the running epoch means passed to ``on_train_batch_end``."""

    epoch: int
    batch: int
    logs: dict[str, float]


class BatchIterator:
    """Mini-batches of row-aligned arrays (``x``, ``y``, ...), ``batch_size`` rows each (the
    last batch may be smaller).

    ``batches(order)`` yields one tuple per batch: slices (views) of the arrays when ``order``
    is None, else rows ``order[lo:hi]`` gathered into reusable buffers of
    ``min(batch_size, n)`` rows — each gathered batch is overwritten by the next one.  Arrays of
    another library (see :mod:`scratchnn.backend`) are gathered with ``xp.take(a, rows,
    axis=0)`` into new arrays, ``order`` being moved to their device once per call.
    """

    def __init__(self, arrays: Sequence[np.ndarray], batch_size: int):
        self.arrays = tuple(arrays)
        self.on_numpy = is_numpy(*self.arrays)
        self.n = self.arrays[0].shape[0]
        self.batch_size = batch_size
        self.steps = math.ceil(self.n / batch_size)
        self._buffers: list[np.ndarray] | None = None

    def __len__(self) -> int:
        return self.steps

    def __call__(self, order: np.ndarray | None = None) -> Iterator[tuple[np.ndarray, ...]]:
        gather = self._gather
        if order is not None and not self.on_numpy:
            xp = namespace(*self.arrays)
            order = xp.asarray(order, device=device_of(self.arrays[0]))
            gather = self._take(xp)
        for step in range(self.steps):
            lo, hi = step * self.batch_size, min(self.n, (step + 1) * self.batch_size)
            if order is None:
                yield tuple(a[lo:hi, ...] for a in self.arrays)
            else:
                yield gather(order[lo:hi])

    def _take(self, xp):
        """The gather of rows on the arrays' device: ``xp.take(a, rows, axis=0)`` each."""
        return lambda rows: tuple(xp.take(a, rows, axis=0) for a in self.arrays)

    def _gather(self, rows: np.ndarray) -> tuple[np.ndarray, ...]:
        if self._buffers is None:  # never more rows than there are samples
            size = min(self.batch_size, self.n)
            self._buffers = [np.empty((size,) + a.shape[1:], dtype=a.dtype) for a in self.arrays]
        m = len(rows)
        # mode="clip" (the indices are valid anyway) lets NumPy copy straight into the buffer;
        # the default mode="raise" buffers first, much slower (see docs/performance.md)
        return tuple(np.take(a, rows, axis=0, out=buf[:m], mode="clip")
                     for a, buf in zip(self.arrays, self._buffers))


def row_bytes(arrays: Sequence[np.ndarray]) -> int:
    """Bytes of one row of every array together: :math:`\\sum_a` itemsize(a) * prod(shape[1:])."""
    return sum(a.itemsize * math.prod(a.shape[1:]) for a in arrays)


def chunk_rows(n: int, bytes_per_row: int, batch_size: int, budget: int | None) -> int:
    """Rows per chunk for ``n`` rows of ``bytes_per_row`` bytes within ``budget`` bytes.

    ``n`` when everything fits (or ``budget`` is None: no limit); else the largest multiple of
    ``batch_size`` whose rows fit, :math:`b \\lfloor \\lfloor B / r \\rfloor / b \\rfloor`,
    and at least one batch ``b`` (a chunk never splits a batch)."""
    if budget is None or n * bytes_per_row <= budget:
        return n
    return max(batch_size, budget // max(bytes_per_row, 1) // batch_size * batch_size)


class ChunkedBatches:
    """Mini-batches of NumPy arrays on ``backend``'s device, moved there ``rows`` rows at a time.

    Same interface and same batches as :class:`BatchIterator` on the whole arrays moved once:
    ``rows`` is a multiple of ``batch_size``, so chunk ``c`` holds the batches
    ``c * rows / batch_size`` onward.  A chunk's rows ``order[lo:hi]`` are gathered on the host
    (``np.take`` into reusable buffers, overwritten by the next chunk), or sliced when ``order``
    is None, moved in one :meth:`Backend.asarray` each, and cut into batches on the device."""

    on_numpy = False

    def __init__(self, arrays: Sequence[np.ndarray], batch_size: int, rows: int,
                 backend: Backend):
        self.arrays, self.backend = tuple(arrays), backend
        self.n = self.arrays[0].shape[0]
        self.batch_size, self.rows = batch_size, rows
        self.steps = math.ceil(self.n / batch_size)
        self._buffers = BatchIterator(self.arrays, rows)

    def __len__(self) -> int:
        return self.steps

    def __call__(self, order: np.ndarray | None = None) -> Iterator[tuple]:
        for chunk in self._buffers(order):  # host rows: views, or gathered into buffers
            on_device = tuple(self.backend.asarray(a) for a in chunk)
            yield from BatchIterator(on_device, self.batch_size)()


def move_if_fits(backend: Backend, arrays: Sequence) -> tuple:
    """``arrays`` (prepared, row-aligned) moved whole to ``backend`` in one transfer each when
    they fit its data budget (:meth:`Backend.data_budget_bytes`); else, on NumPy, or when one
    is already off the host, ``arrays`` unchanged."""
    arrays = tuple(arrays)
    if backend.is_numpy or not is_numpy(*arrays):
        return arrays
    budget = backend.data_budget_bytes()
    if budget is not None and arrays[0].shape[0] * row_bytes(arrays) > budget:
        return arrays
    return tuple(backend.asarray(a) for a in arrays)


def batch_source(backend: Backend, arrays: Sequence, batch_size: int
                 ) -> BatchIterator | ChunkedBatches:
    """The batches of ``arrays`` (prepared, row-aligned; None entries dropped by the caller)
    for a model on ``backend``: the arrays themselves on NumPy or when one is already off the
    host; moved whole when they fit ``backend.data_budget_bytes()`` (:func:`move_if_fits`);
    else in chunks."""
    arrays = move_if_fits(backend, arrays)
    if backend.is_numpy or not is_numpy(*arrays):
        return BatchIterator(arrays, batch_size)
    rows = chunk_rows(arrays[0].shape[0], row_bytes(arrays), batch_size,
                      backend.data_budget_bytes())
    return ChunkedBatches(arrays, batch_size, rows, backend)


class EpochMean:
    """Sample-weighted means over the batches seen so far, as Keras's loss tracker keeps them:
    ``loss = sum_b loss_b * n_b / sum_b n_b``; metric ``k = sum_b sum_k(batch b) / sum_b n_b``
    (``add`` takes each metric's per-batch *sum* over samples)."""

    def __init__(self, metric_names: Sequence[str]):
        self.metric_names = list(metric_names)
        self.loss_sum, self.metric_sums, self.seen = 0.0, [0.0] * len(self.metric_names), 0
        self.metric_counts = [0.0] * len(self.metric_names)

    def add(self, loss: float, metric_sums: Sequence[float], n: int,
            metric_counts: Sequence[float] | None = None) -> None:
        """Add a batch of ``n`` samples; ``metric_counts`` are the metrics' denominators for it
        (default ``n`` each; the weight sum for a weighted metric)."""
        self.seen += n
        self.loss_sum += loss * n
        for i, v in enumerate(metric_sums):
            self.metric_sums[i] += v
            self.metric_counts[i] += n if metric_counts is None else metric_counts[i]

    def values(self) -> list[float]:
        """``[loss, *metrics]`` (a metric with zero total weight is 0, as Keras's ``Mean``)."""
        return [self.loss_sum / self.seen] + [s / c if c else 0.0 for s, c in
                                              zip(self.metric_sums, self.metric_counts)]

    def logs(self) -> dict[str, float]:
        return dict(zip(["loss"] + self.metric_names, self.values()))


def params_finite(flat: np.ndarray) -> bool:
    """True when every entry of ``flat`` is finite.

    One BLAS dot product of the two halves, ``sum_i a_i b_i``: a NaN anywhere makes it NaN, an
    infinity makes it NaN or infinite (``inf * 0 = NaN``), so a finite result proves all
    entries finite.  Only a non-finite result (which large finite values can also give, by
    overflow) is confirmed entry by entry.
    """
    half = flat.size // 2
    with np.errstate(over="ignore", invalid="ignore"):
        probe = np.dot(flat[:half], flat[half:2 * half])
    if math.isfinite(probe) and (flat.size % 2 == 0 or math.isfinite(flat[-1])):
        return True
    return bool(np.isfinite(flat).all())


def split_validation(model, data: tuple, validation_split: float, validation_data
                     ) -> tuple[tuple, tuple | None]:
    """``(train, val)``: ``data`` is the prepared ``(x, y)`` or ``(x, y, sample_weight)``;
    ``val`` is ``validation_data`` (``(x, y)`` or ``(x, y, sample_weight)``) prepared, or the
    last ``validation_split`` fraction of ``data`` (split off before any shuffling), or None."""
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            raise ValueError(f"validation_data must be a tuple (x_val, y_val) or (x_val, y_val, "
                             f"val_sample_weight), got {type(validation_data).__name__}"
                             + (f" of length {len(validation_data)}"
                                if isinstance(validation_data, (tuple, list)) else ""))
        val = model.prepare_data(*validation_data[:2], name="val_")
        if len(validation_data) == 3 and validation_data[2] is not None:
            val += (prepare_sample_weight(validation_data[2], None, val[1], model.dtype, "val_"),)
        return data, val
    if validation_split == 0:
        return data, None
    n = len(data[0])
    split_at = int(math.floor(n * (1.0 - validation_split)))
    if split_at == 0 or split_at == n:
        raise ValueError(f"validation_split={validation_split} leaves an empty training "
                         f"or validation set for {n} samples")
    return tuple(a[:split_at] for a in data), tuple(a[split_at:] for a in data)


def fit_steps(model, x=None, y=None, *, batch_size: int | None = 32, epochs: int = 1,
              verbose: int | str = "auto", callbacks: list | None = None,
              validation_split: float = 0.0, validation_data=None, shuffle: bool = True,
              class_weight=None, sample_weight=None, initial_epoch: int = 0,
              seed: int | None = None) -> Iterator[TrainStep]:
    """Check the arguments and prepare the data now; return the training loop as a generator
    of :class:`TrainStep` (see the module doc; arguments as ``Sequential.fit``)."""
    model.require_compiled("fit")
    batch_size = check_batch_size(batch_size)
    epochs = check_int(epochs, "epochs", 0)
    initial_epoch = check_int(initial_epoch, "initial_epoch", 0)
    verbose = check_verbose(verbose, auto=_auto_verbose())
    shuffle = check_bool(shuffle, "shuffle")
    validation_split = check_real(validation_split, "validation_split", 0.0, 1.0,
                                  high_open=True)
    rng = rng_from(check_seed(seed))
    user_callbacks = callbacks_module.CallbackList.validate(callbacks)
    x, y = model.prepare_data(x, y)
    weights = prepare_sample_weight(sample_weight, class_weight, y, model.dtype)
    data = (x, y) if weights is None else (x, y, weights)
    data, val = split_validation(model, data, validation_split, validation_data)
    batches = batch_source(model.backend, data, batch_size)
    # validation data: moved once when it fits the budget, else chunked by loss_and_metrics
    val = None if val is None else move_if_fits(model.backend, val)
    history = callbacks_module.History()
    # Like Keras: user callbacks first, so History and the progress bar see their logs.
    cbs = user_callbacks + [history]
    if verbose:
        cbs.append(callbacks_module.ProgbarLogger(verbose, batches.steps, epochs))
    cbs = callbacks_module.CallbackList(cbs, model)
    cbs.check_log_keys(_epoch_log_keys(model, val is not None))
    return _train(model, batches, val, cbs, history, range(initial_epoch, epochs),
                  rng if shuffle else None)


def _auto_verbose() -> int:
    return 1 if sys.stdout.isatty() else 2


def _epoch_log_keys(model, validation: bool) -> list[str]:
    names = model.metrics_names
    return names + ([f"val_{k}" for k in names] if validation else [])


def _train(model, batches: BatchIterator | ChunkedBatches, val, cbs, history, epochs: range,
           rng: np.random.Generator | None) -> Iterator[TrainStep]:
    model.history, model.stop_training = history, False
    effective_batch = min(batches.batch_size, batches.n)
    cbs.on_train_begin({})
    with (perf.blas_limit(model.blas_threads(effective_batch)),
          perf.flush_denormals(None if batches.on_numpy else False)):
        for epoch in epochs:
            cbs.on_epoch_begin(epoch, {})
            order = None if rng is None else rng.permutation(batches.n)
            logs, seen = yield from _train_epoch(model, batches(order), epoch, cbs)
            if val is not None and seen:
                values = model.loss_and_metrics(*val[:2], batches.batch_size, *val[2:])
                logs.update({f"val_{k}": v for k, v in zip(model.metrics_names, values)})
            cbs.on_epoch_end(epoch, logs)
            if model.stop_training:
                break
    cbs.on_train_end({})


def _train_epoch(model, batches, epoch: int, cbs
                 ) -> Generator[TrainStep, None, tuple[dict[str, float], int]]:
    """One epoch's optimizer steps; returns the epoch's logs and how many samples it used."""
    mean = EpochMean(model.metrics_names[1:])
    logs: dict[str, float] = {}
    for step, (xb, yb, *wb) in enumerate(batches):
        w = wb[0] if wb else None
        cbs.on_train_batch_begin(step, {})
        loss, y_pred = model.forward_backward(xb, yb, w)
        if not math.isfinite(loss):
            logs = {"loss": loss}
            _stop_or_raise(model, cbs, step, logs, f"The training loss became {loss} at epoch "
                           f"{epoch + 1}, batch {step + 1} (before this update).")
            break
        model.apply_gradients()
        if not model.weights_finite():
            logs = {"loss": math.nan}  # the loss at the new weights: training diverged
            _stop_or_raise(model, cbs, step, logs, "The weights became NaN or infinite in the "
                           f"update at epoch {epoch + 1}, batch {step + 1} (the batch loss "
                           f"before it was {loss:.6g}).", "use an optimizer epsilon > 0, ")
            yield TrainStep(epoch, step, dict(logs))
            break
        n = xb.shape[0]
        mean.add(loss, model.metric_sums(yb, y_pred, w), n, model.metric_counts(n, w))
        logs = mean.logs()
        cbs.on_train_batch_end(step, logs)
        yield TrainStep(epoch, step, dict(logs))
        if model.stop_training:
            break
    return logs, mean.seen


def _stop_or_raise(model, cbs, step: int, logs: dict, message: str, check: str = "") -> None:
    """Report a diverged step to the callbacks; unless one stops training
    (``TerminateOnNaN``), raise :class:`NonFiniteLossError` with ``message``."""
    cbs.on_train_batch_end(step, logs)
    if not model.stop_training:
        raise NonFiniteLossError(
            f"{message} Lower the learning rate, check the inputs are scaled, {check}or pass "
            "callbacks=[TerminateOnNaN()] to stop quietly.", model.history)
