"""Training a scratchnn model and its Keras twin on the same mini-batch sequence, in lockstep.

:func:`fit_like` calls each framework's own ``fit`` — so both histories come from the real
training loops (epoch-loss averaging, metrics, ``validation_split``, the ragged last batch) —
but removes every hidden source of difference:

* **order** — the permutation of the training samples for each epoch is drawn here (or given)
  and applied to the arrays *before* calling ``fit(..., shuffle=False, epochs=1)`` on both
  sides, once per epoch;
* **validation split** — the validation samples (the last ``validation_split`` fraction, as
  both frameworks define it) are kept at the end of the arrays, unpermuted, and both
  frameworks are asked to split them off themselves;
* **state** — both models must start from the same weights (e.g. ``tfref.to_keras``) with
  fresh optimizers of the same hyperparameters.

No threads: scratchnn's loop is a generator of optimizer steps (``Sequential.fit_steps``,
the very loop ``fit`` runs).  Keras's ``fit`` runs normally, and from its
``on_train_batch_end`` the generator is advanced by one step, so both frameworks have just
finished the same step when the parameters are compared; then Keras goes on.  After Keras's
``fit`` returns, the generator is run to its end (scratchnn's validation and epoch end); a step
left on either side is a :class:`ParityError` — the same one every run.  That gives per-step
parameter differences without storing any parameter history.

How far the two drift apart: in float64 only by accumulated rounding, far below any
tolerance.  In float32 the gradients differ by float32 rounding (the two BLAS libraries sum in
different orders), which stays tiny until, by luck, a ReLU unit's pre-activation for some image
falls within that rounding of zero: the unit is then active on one side only, its incoming
weights take different updates, and the difference grows for the rest of the epoch.  Test
accuracy and loss still agree, which is what ``tests/parity/test_parity_accuracy.py`` checks.
The measured numbers (step counts, sizes, one- vs two-thread runs) are in
``docs/performance.md``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

import scratchnn

from .backend import dtype_name, keras_floatx, require_tf
from .compare import Diff, ParityError, compare


@dataclass
class FitComparison:
    """What :func:`fit_like` measured.

    Attributes
    ----------
    ours, keras : per-epoch histories ``{"loss": [...], "accuracy": [...], "val_loss": ...}``
        as recorded by each framework's ``fit``.
    step_diffs : one :class:`Diff` of all parameters per compared step (every
        ``compare_every``-th step of every epoch, and each epoch's last step; with
        ``compare_every=None`` one per epoch).
    steps : ``(epoch, step)`` of each entry of ``step_diffs`` (``step`` is -1 for the
        end-of-epoch comparisons of ``compare_every=None``).
    ours_step_logs, keras_step_logs : the running batch logs (``loss``, metrics) each
        framework reported at the compared steps (empty with ``compare_every=None``).
    final : :class:`Diff` of all parameters after training.
    """

    ours: dict[str, list[float]] = field(default_factory=dict)
    keras: dict[str, list[float]] = field(default_factory=dict)
    step_diffs: list[Diff] = field(default_factory=list)
    steps: list[tuple[int, int]] = field(default_factory=list)
    ours_step_logs: list[dict[str, float]] = field(default_factory=list)
    keras_step_logs: list[dict[str, float]] = field(default_factory=list)
    final: Diff = field(default_factory=lambda: Diff(0.0, 0.0))

    @property
    def worst_step(self) -> Diff:
        """The largest parameter difference seen at any compared step."""
        return Diff.worst(self.step_diffs)


def weight_diff(model, keras_model) -> Diff:
    """Worst :class:`Diff` over all parameters of two models (``get_weights()`` order)."""
    ours, theirs = model.get_weights(), keras_model.get_weights()
    if len(ours) != len(theirs):
        raise ValueError(f"{len(ours)} scratchnn weights vs {len(theirs)} Keras weights")
    return Diff.worst(compare(a, b) for a, b in zip(ours, theirs))


def _epoch_orders(n: int, epochs: int, shuffle: bool, seed, orders):
    if orders is not None:
        orders = [np.asarray(o) for o in orders]
        if len(orders) < epochs:
            raise ValueError(f"got {len(orders)} orders for {epochs} epochs")
        for o in orders[:epochs]:
            if not np.array_equal(np.sort(o), np.arange(n)):
                raise ValueError(f"each order must be a permutation of range({n})")
        return orders[:epochs]
    if not shuffle:
        return [np.arange(n)] * epochs
    rng = np.random.default_rng(seed)
    return [rng.permutation(n) for _ in range(epochs)]


def fit_like(model: scratchnn.Sequential, keras_model, x, y, *, epochs: int = 1,
             batch_size: int = 32, shuffle: bool = True, seed: int = 0, orders=None,
             validation_split: float = 0.0, validation_data=None, compare_every: int | None = 1,
             on_step: Callable | None = None) -> FitComparison:
    """Train ``model`` and ``keras_model`` on identical mini-batch sequences and compare them.

    Parameters
    ----------
    model : compiled scratchnn model.
    keras_model : compiled Keras model with the same weights and equivalent loss/optimizer
        (``tfref.to_keras(model)`` before training gives one).
    x, y : training data (NumPy).  Integer labels and one-hot targets are both fine.
    epochs, batch_size : as in ``fit``; the last batch of an epoch may be smaller.
    shuffle, seed, orders : the per-epoch order of the training samples: ``orders[e]`` (a
        permutation of ``range(n_train)``) if given, else ``default_rng(seed).permutation``
        drawn once per epoch when ``shuffle``, else the natural order.
    validation_split, validation_data : passed to both ``fit`` calls (see the module doc).
    compare_every : compare all parameters after every ``compare_every``-th step (and after
        each epoch's last step); ``None`` compares only at the end of each epoch (the two
        loops still advance step by step, so that a step-count mismatch is caught).
    on_step : called at each compared step as ``on_step(epoch, step, ours, theirs)`` with both
        models' ``get_weights()`` lists (e.g. to assert with a detailed message; an exception
        stops both loops and propagates).

    Returns
    -------
    :class:`FitComparison`.

    Raises
    ------
    ParityError
        if the two loops run different numbers of steps (detected deterministically: after
        Keras's last step, or when Keras asks for a step scratchnn does not have); any
        exception from either ``fit`` propagates.
    """
    _, keras = require_tf()
    if not model.compiled or not getattr(keras_model, "compiled", False):
        raise ValueError("compile both models before fit_like")
    if compare_every is not None and compare_every < 1:
        raise ValueError(f"compare_every must be a positive integer or None, got {compare_every}")
    dtype = dtype_name(model.dtype)
    x, y = np.asarray(x), np.asarray(y)
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} samples but y has {len(y)}")
    n_train = len(x)
    if validation_split:
        n_train = int(math.floor(len(x) * (1.0 - validation_split)))
    result = FitComparison()
    for epoch, order in enumerate(_epoch_orders(n_train, epochs, shuffle, seed, orders)):
        idx = np.concatenate([order, np.arange(n_train, len(x))])
        xe, ye = x[idx], y[idx]
        kwargs = dict(batch_size=batch_size, epochs=1, shuffle=False, verbose=0,
                      validation_split=validation_split, validation_data=validation_data)
        _one_epoch(model, keras_model, keras, xe, ye, kwargs, epoch, compare_every, on_step,
                   dtype, result)
        result.final = weight_diff(model, keras_model)
        if compare_every is None:
            result.steps.append((epoch, -1))  # -1: the end of the epoch
            result.step_diffs.append(result.final)
    return result


def _one_epoch(model, keras_model, keras, xe, ye, kwargs, epoch, compare_every, on_step,
               dtype, result: FitComparison) -> None:
    """One epoch of both ``fit`` loops, scratchnn's advanced from Keras's batch-end hook."""
    ours = model.fit_steps(xe, ye, **kwargs)
    try:
        sync = _lockstep_callback(keras, ours, model, epoch, compare_every,
                                  _steps(len(xe), kwargs), on_step, result)
        with keras_floatx(dtype):
            khist = keras_model.fit(xe, ye, callbacks=[sync], **kwargs).history
        extra = next(ours, None)  # scratchnn's validation and epoch end, or one step too many
        if extra is not None:
            raise ParityError(f"epoch {epoch}: scratchnn ran more training steps than Keras "
                              f"(Keras ran {extra.batch}, scratchnn went on to step "
                              f"{extra.batch + 1})")
    finally:
        ours.close()  # restores scratchnn's BLAS/denormal settings if it stopped midway
    for target, hist in ((result.ours, model.history.history), (result.keras, khist)):
        for k, v in hist.items():
            target.setdefault(k, []).extend(float(a) for a in v)


def _steps(n: int, kwargs: dict) -> int:
    split = kwargs["validation_split"]
    n_fit = int(math.floor(n * (1.0 - split))) if split else n
    return math.ceil(n_fit / kwargs["batch_size"])


def _lockstep_callback(keras, ours: Iterator, model, epoch: int, compare_every: int | None,
                       steps: int, on_step: Callable | None, result: FitComparison):
    """A Keras callback that, after each Keras step, runs scratchnn's same step and compares."""

    class Lockstep(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            step = next(ours, None)
            if step is None:
                raise ParityError(f"epoch {epoch}: Keras ran more training steps than scratchnn "
                                  f"(scratchnn ran {batch}, Keras went on to step {batch + 1})")
            if step.batch != batch:
                raise ParityError(f"epoch {epoch}: Keras is at step {batch}, scratchnn at "
                                  f"{step.batch}")
            if compare_every is None or not (batch % compare_every == 0 or batch == steps - 1):
                return
            mine, theirs = model.get_weights(), self.model.get_weights()
            result.steps.append((epoch, batch))
            result.step_diffs.append(Diff.worst(compare(a, b) for a, b in zip(mine, theirs)))
            result.ours_step_logs.append(dict(step.logs))
            result.keras_step_logs.append({k: float(v) for k, v in (logs or {}).items()})
            if on_step is not None:
                on_step(epoch, batch, mine, theirs)

    return Lockstep()
