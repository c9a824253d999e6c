r"""The learning-rate range test: raise the learning rate exponentially while training and
watch the loss.

The tutorials' version trains one *epoch* per learning rate with a
:class:`~scratchnn.engine.callbacks.LearningRateScheduler`:

.. math:: \eta_e = \eta_0 \cdot 10^{e / s}, \qquad \eta_0 = 10^{-4},\; s = 20

(``lr = 1e-4 * 10**(epoch/20)``: one decade every 20 epochs).  :func:`find_learning_rate`
does that with ``per_batch=False``; by default it uses the same schedule per *mini-batch*
(step ``i`` uses :math:`\eta_0 10^{i/s}`), which sweeps five decades in 100 batches instead of
100 epochs.

Reading the curve: the loss first barely moves (rate too small), then falls steeply, reaches
a minimum and then blows up (rate too large).  With :math:`\eta^*` the rate at the minimum of
the (exponentially smoothed) loss, :func:`suggest_lr` proposes the decade
:math:`[\eta^*/100, \eta^*/10]` -- "an order of magnitude below where the loss is lowest",
the rule the tutorials (and fastai's ``lr_find``) use -- and also reports the rate where the
smoothed loss falls fastest per decade before the minimum.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from scratchnn.backend import to_numpy
from scratchnn.engine.callbacks import LearningRateScheduler, TerminateOnNaN
from scratchnn.seeding import rng_from

__all__ = ["LRFinderResult", "lr_schedule", "find_learning_rate", "suggest_lr", "smooth"]


def lr_schedule(step: int, start: float = 1e-4, steps_per_decade: float = 20.0) -> float:
    """``start * 10 ** (step / steps_per_decade)`` -- the tutorials' sweep."""
    return float(start * 10.0 ** (step / steps_per_decade))


def smooth(values, beta: float = 0.9) -> np.ndarray:
    r"""Bias-corrected exponential moving average, as fastai's ``lr_find``:

    :math:`a_i = \beta a_{i-1} + (1-\beta) v_i` with :math:`a_{-1} = 0`, returned as
    :math:`a_i / (1 - \beta^{i+1})`.  ``beta=0`` returns the values unchanged.  Non-finite
    values are carried as NaN and do not disturb the average.
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    if not 0 <= beta < 1:
        raise ValueError(f"beta must be in [0, 1), got {beta}")
    out = np.full(v.shape, np.nan)
    avg, count = 0.0, 0
    for i, x in enumerate(v):
        if not math.isfinite(x):
            continue
        count += 1
        avg = beta * avg + (1 - beta) * x
        out[i] = avg / (1 - beta ** count)
    return out


@dataclass
class LRFinderResult:
    """Outcome of :func:`find_learning_rate`.

    Attributes
    ----------
    learning_rates, losses : arrays (K,)
        The rate used at each step (batch or epoch) and the training loss measured there
        (the batch loss before the update, or the epoch's mean loss).
    smoothed : array (K,)
        :func:`smooth` of the losses (equal to them in per-epoch mode).
    lr_min_loss : float
        Rate at the minimum of ``smoothed``.
    lr_steepest : float
        Rate where ``smoothed`` falls fastest per decade, at or before the minimum.
    suggested_range : (float, float)
        ``(lr_min_loss / 100, lr_min_loss / 10)``.
    per_batch : bool
        Whether each step was one batch (True) or one epoch.
    stopped_early : bool
        True when the sweep stopped because the loss diverged.
    """

    learning_rates: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    lr_min_loss: float
    lr_steepest: float
    suggested_range: tuple[float, float]
    per_batch: bool = True
    stopped_early: bool = False
    history: dict = field(default_factory=dict)

    @property
    def suggested_lr(self) -> float:
        """The upper end of the suggested range, ``lr_min_loss / 10``."""
        return self.suggested_range[1]

    def plot(self, path, show: bool = False, **kwargs):
        """Write the loss-vs-rate picture (:func:`scratchnn.workflow.plots.plot_lr_finder`)."""
        from scratchnn.workflow.plots import plot_lr_finder

        return plot_lr_finder(self.learning_rates, self.losses, path,
                              smoothed=self.smoothed if self.per_batch else None,
                              suggested_range=self.suggested_range,
                              lr_min_loss=self.lr_min_loss, show=show, **kwargs)

    def format(self, every: int = 1) -> str:
        """A text table of rate and loss (every ``every``-th step) and the suggestion."""
        rows = [f"{'step':>5}  {'learning rate':>13}  {'loss':>10}"
                + ("  smoothed" if self.per_batch else "")]
        for i in range(0, len(self.learning_rates), max(1, every)):
            row = f"{i:>5}  {self.learning_rates[i]:>13.3e}  {self.losses[i]:>10.4f}"
            if self.per_batch:
                row += f"  {self.smoothed[i]:>8.4f}"
            rows.append(row)
        lo, hi = self.suggested_range
        rows += [f"lowest loss at lr = {self.lr_min_loss:.3e}; steepest descent at lr = "
                 f"{self.lr_steepest:.3e}",
                 f"suggested learning rate: {hi:.1e} (range {lo:.1e} .. {hi:.1e})"]
        return "\n".join(rows)


def suggest_lr(learning_rates, smoothed_losses) -> tuple[float, float, tuple[float, float]]:
    """``(lr_min_loss, lr_steepest, (lr_min_loss / 100, lr_min_loss / 10))`` from a sweep.

    ``lr_steepest`` minimizes the finite-difference slope
    ``(L[i+1] - L[i]) / (log10 lr[i+1] - log10 lr[i])`` over the steps up to the minimum
    (it equals ``lr_min_loss`` when the minimum is the first step).
    """
    lrs = np.asarray(learning_rates, dtype=np.float64).ravel()
    sm = np.asarray(smoothed_losses, dtype=np.float64).ravel()
    if lrs.shape != sm.shape or lrs.size == 0:
        raise ValueError("learning_rates and smoothed_losses must be equally long, non-empty")
    finite = np.isfinite(sm)
    if not finite.any():
        raise ValueError("every loss of the sweep is NaN or infinite; start from a smaller lr")
    i_min = int(np.nanargmin(np.where(finite, sm, np.nan)))
    lr_min = float(lrs[i_min])
    lr_steep = lr_min
    if i_min > 0:
        seg = sm[: i_min + 1]
        slope = np.diff(seg) / np.diff(np.log10(lrs[: i_min + 1]))
        slope[~np.isfinite(slope)] = np.inf
        lr_steep = float(lrs[int(np.argmin(slope))])
    return lr_min, lr_steep, (lr_min / 100.0, lr_min / 10.0)


def _snapshot(model) -> tuple:
    """Weights, learning rate and optimizer state (None before its first step), as NumPy
    copies taken through the model's public API (any backend)."""
    opt = model.optimizer
    state = ({k: np.array(v, copy=True) for k, v in model.optimizer_state().items()}
             if opt.built else None)
    return model.get_weights(), opt.learning_rate, state


def _restore(model, snap) -> None:
    """Put back weights, learning rate, step counter and slots (zeros if the optimizer had not
    taken a step before the sweep, which is exactly a fresh optimizer's state)."""
    weights, lr, state = snap
    model.set_weights(weights)
    opt = model.optimizer
    opt.learning_rate = lr
    if not opt.built:
        return
    if state is None:
        state = {k: np.zeros_like(to_numpy(v)) for k, v in model.optimizer_state().items()}
    model.set_optimizer_state(state)
    check = model.optimizer_state()
    if any(not np.array_equal(to_numpy(check[k]), state[k]) for k in state):
        raise RuntimeError("could not restore the optimizer state after the learning-rate sweep")


def find_learning_rate(model, x, y, *, start: float = 1e-4, steps_per_decade: float = 20.0,
                       max_lr: float = 10.0, per_batch: bool = True, batch_size: int = 32,
                       epochs: int | None = None, diverge_factor: float = 4.0,
                       beta: float = 0.9, restore: bool = True, seed=None,
                       verbose: int = 0) -> LRFinderResult:
    """Sweep the learning rate exponentially and record the training loss.

    Parameters
    ----------
    model : a compiled ``Sequential`` on any backend (:mod:`scratchnn.backend`): the sweep
        uses only its public API (``train_on_batch``, ``fit``, ``get_weights``,
        ``optimizer_state`` and their setters), never its arrays.
    x, y : training data (NumPy), as for ``fit``.
    start, steps_per_decade : the schedule ``start * 10 ** (step / steps_per_decade)``.
    max_lr : the sweep stops once the rate would exceed this.
    per_batch : True (default): one step per mini-batch, the loss of that batch before its
        update, batches drawn by cycling through shuffled epochs.  False: the tutorials' form,
        ``fit`` with a ``LearningRateScheduler`` for ``epochs`` epochs (default: enough to
        reach ``max_lr``), one step per epoch.
    diverge_factor : per-batch mode stops when the loss is non-finite or exceeds
        ``diverge_factor`` times the lowest smoothed loss so far.
    beta : smoothing of the per-batch losses (:func:`smooth`); per-epoch losses are used as is.
    restore : put the weights and optimizer state back afterwards (default), so the sweep
        leaves ``model`` as it found it.
    seed : randomness of the batch order (default: the global generator).

    Returns
    -------
    LRFinderResult
    """
    x, y, max_steps = _check_sweep(model, x, y, start, steps_per_decade, max_lr)
    if not model.built:
        model.build(x.shape[1:])
    rate = _schedule(start, steps_per_decade)
    snap = _snapshot(model) if restore else None
    history: dict = {}
    try:
        if per_batch:
            lrs_a, loss_a, stopped_early = _sweep_per_batch(
                model, x, y, max_steps, rate, batch_size, _DivergenceWatch(beta, diverge_factor),
                seed, verbose)
            smoothed = smooth(loss_a, beta)
        else:
            lrs_a, loss_a, stopped_early, history = _sweep_per_epoch(
                model, x, y, max_steps if epochs is None else epochs, rate, batch_size, seed,
                verbose)
            smoothed = loss_a.copy()
    finally:
        if restore:
            _restore(model, snap)
    lr_min, lr_steep, rng_pair = suggest_lr(lrs_a, smoothed)
    return LRFinderResult(lrs_a, loss_a, smoothed, lr_min, lr_steep, rng_pair,
                          per_batch=per_batch, stopped_early=stopped_early, history=history)


def _check_sweep(model, x, y, start: float, steps_per_decade: float, max_lr: float):
    """Refuse a sweep that cannot run; returns ``x, y`` as arrays and the number of steps
    ``floor(steps_per_decade * log10(max_lr / start)) + 1`` that reach ``max_lr``."""
    if not getattr(model, "compiled", False):
        raise RuntimeError("compile the model before running the learning-rate finder")
    if not (start > 0 and max_lr > start):
        raise ValueError(f"need 0 < start < max_lr, got start={start}, max_lr={max_lr}")
    if steps_per_decade <= 0:
        raise ValueError(f"steps_per_decade must be positive, got {steps_per_decade}")
    max_steps = int(math.floor(steps_per_decade * math.log10(max_lr / start) + 1e-9)) + 1
    x = np.asarray(x)
    y = np.asarray(y)
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} samples but y has {len(y)}")
    if len(x) == 0:
        raise ValueError("x is empty")
    return x, y, max_steps


def _schedule(start: float, steps_per_decade: float):
    """The sweep as a function of the step alone: ``step -> lr_schedule(step, ...)``."""
    def rate(step: int) -> float:
        return lr_schedule(step, start, steps_per_decade)
    return rate


class _ShuffledBatches:
    """Index batches of ``batch_size`` drawn by cycling through shuffled epochs: a fresh
    permutation of ``range(n)`` whenever the next batch would run past the end."""

    def __init__(self, n: int, batch_size: int, rng):
        self.n, self.batch_size, self.rng = n, batch_size, rng
        self.order, self.pos = rng.permutation(n), 0

    def next(self) -> np.ndarray:
        if self.pos + self.batch_size > self.n and self.pos > 0:
            self.order, self.pos = self.rng.permutation(self.n), 0
        idx = self.order[self.pos: self.pos + self.batch_size]
        self.pos += self.batch_size
        return idx


class _DivergenceWatch:
    r"""Tells when a per-batch sweep has diverged: the loss is non-finite, or its running
    :func:`smooth` value :math:`\hat a_i` exceeds ``factor`` times the lowest one so far
    (never at step 0)."""

    def __init__(self, beta: float, factor: float):
        self.beta, self.factor = beta, factor
        self.avg, self.count, self.best = 0.0, 0, math.inf

    def diverged(self, loss: float, step: int) -> bool:
        if not math.isfinite(loss):
            return True
        self.count += 1
        self.avg = self.beta * self.avg + (1 - self.beta) * loss
        smoothed_now = self.avg / (1 - self.beta ** self.count)
        self.best = min(self.best, smoothed_now)
        return smoothed_now > self.factor * self.best and step > 0


def _sweep_per_batch(model, x, y, max_steps: int, rate, batch_size: int,
                     watch: _DivergenceWatch, seed, verbose: int):
    """One ``train_on_batch`` per rate; the loss of each batch before its update.  Returns
    ``(learning_rates, losses, stopped_early)``."""
    batches = _ShuffledBatches(len(x), batch_size, rng_from(seed))
    lrs, losses = [], []
    for step in range(max_steps):
        idx = batches.next()
        lr = rate(step)
        model.optimizer.learning_rate = lr
        out = model.train_on_batch(x[idx], y[idx])
        loss = float(out[0] if isinstance(out, list) else out)
        lrs.append(lr)
        losses.append(loss)
        if verbose:
            print(f"step {step:4d}  lr {lr:.3e}  loss {loss:.4f}")
        if watch.diverged(loss, step):
            return np.array(lrs), np.array(losses), True
    return np.array(lrs), np.array(losses), False


def _sweep_per_epoch(model, x, y, epochs: int, rate, batch_size: int, seed, verbose: int):
    """The tutorials' form: ``fit`` with a ``LearningRateScheduler(rate)`` and
    ``TerminateOnNaN``.  Returns ``(learning_rates, losses, stopped_early, history)``."""
    n_epochs = int(epochs)
    if n_epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}")
    hist = model.fit(x, y, batch_size=batch_size, epochs=n_epochs, verbose=verbose,
                     callbacks=[LearningRateScheduler(rate), TerminateOnNaN()], seed=seed)
    loss_a = np.array(hist.history.get("loss", []), dtype=np.float64)
    lrs_a = np.array(hist.history.get("learning_rate", []), dtype=np.float64)
    if len(loss_a) == 0:
        raise RuntimeError("the sweep recorded no epoch (the loss diverged at once)")
    stopped_early = len(loss_a) < n_epochs or not np.isfinite(loss_a).all()
    return lrs_a, loss_a, stopped_early, dict(hist.history)
