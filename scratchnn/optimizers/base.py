r"""The optimizer base class, with Keras 3's shared options (``keras/src/optimizers/
base_optimizer.py``): gradient clipping, decoupled weight decay and learning-rate schedules.

An optimizer owns *slot* arrays per variable (momentums, velocities), a step counter
``iterations`` and a learning rate (a number, or a :mod:`~scratchnn.optimizers.schedules`
schedule evaluated at ``iterations``).  ``apply(grads, variables)`` does, in Keras's order:

1. clip the gradients (``clipnorm``, ``global_clipnorm`` or ``clipvalue``; at most one), into
   new arrays: the caller's gradient arrays are never modified;
2. decay every variable, :math:`\theta \leftarrow \theta - \theta\lambda\eta` (``weight_decay``
   :math:`\lambda`, when not None);
3. ``update_step(gradient, variable, learning_rate, slots)`` for each pair, where ``slots`` is
   that variable's own dict of slot arrays, updating the variable and its slots **in place**;
4. ``iterations += 1``.

Scalars are cast to the variable's dtype first, as Keras does, so float32 models update in
float32: they are computed as NumPy scalars of that precision and enter array expressions as
Python floats (:func:`scratchnn.backend.scalar`), so the same formulas run on any array-API
library (``xp = namespace(variable)``; NumPy, array-api-strict, PyTorch, CuPy), the variables
and slots staying in their own namespace and device.  The NumPy-only fast paths
(:mod:`scratchnn.fastpath`) run for NumPy arrays only (:func:`formula`).
A ``Sequential`` model passes its parameters as one flat buffer (a single
"variable"); element-wise algebra (every update rule, ``clipvalue``, ``weight_decay``) gives
the same numbers either way, but the norms of ``clipnorm`` / ``global_clipnorm`` are per
variable, so with those set (:attr:`Optimizer.needs_per_variable_gradients`) the model passes
one array per variable (kernel, bias, ...).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from scratchnn.arguments import check_real
from scratchnn.backend import is_numpy, namespace, numpy_dtype
from scratchnn.optimizers import schedules as schedules_module
from scratchnn.optimizers.schedules import LearningRateSchedule

#: What ``learning_rate=`` accepts: a number, a schedule, or a serialized schedule.
LearningRate = float | LearningRateSchedule | dict

#: Keras's option keys, in the order its ``get_config`` lists them.
OPTION_KEYS = ("weight_decay", "clipnorm", "global_clipnorm", "clipvalue")


class Optimizer:
    """Base class: slots, the step counter, the learning rate and the shared options.

    Parameters
    ----------
    learning_rate : float >= 0, a ``LearningRateSchedule`` or its serialized dict.
    weight_decay : float >= 0 or None (default): decoupled decay applied before each step.
    clipnorm, global_clipnorm, clipvalue : float >= 0 or None (default); at most one is set.
        See :func:`clip_by_norm`, :func:`clip_by_global_norm`, :func:`clip_by_value`.

    Subclasses set ``slot_names`` and implement
    ``update_step(gradient, variable, learning_rate, slots)``.
    """

    name = "optimizer"
    slot_names: tuple[str, ...] = ()

    def __init__(self, learning_rate: LearningRate = 0.001,
                 weight_decay: float | None = None, clipnorm: float | None = None,
                 clipvalue: float | None = None, global_clipnorm: float | None = None):
        clips = (clipnorm, clipvalue, global_clipnorm)
        if sum(c is not None for c in clips) > 1:
            raise ValueError(
                "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. "
                f"Received: clipnorm={clipnorm}, clipvalue={clipvalue}, "
                f"global_clipnorm={global_clipnorm}")
        self._learning_rate: float | LearningRateSchedule = 0.0
        if isinstance(learning_rate, (LearningRateSchedule, dict)):
            self._learning_rate = schedules_module.get(learning_rate)
        else:
            self.learning_rate = learning_rate
        self.weight_decay = _optional_real(weight_decay, "weight_decay")
        self.clipnorm = _optional_real(clipnorm, "clipnorm")
        self.clipvalue = _optional_real(clipvalue, "clipvalue")
        self.global_clipnorm = _optional_real(global_clipnorm, "global_clipnorm")
        self.iterations = 0
        self._slots: list[dict[str, np.ndarray]] = []
        self._shapes: list[tuple[tuple[int, ...], np.dtype]] = []

    # -- the learning rate ----------------------------------------------------------------------
    @property
    def learning_rate(self) -> float:
        """The rate of the next update: the number, or the schedule at ``iterations``."""
        return float(self._current_learning_rate())

    @learning_rate.setter
    def learning_rate(self, value: float | LearningRateSchedule) -> None:
        if isinstance(value, LearningRateSchedule):
            self._learning_rate = value
            return
        if isinstance(self._learning_rate, LearningRateSchedule):
            raise TypeError(
                "This optimizer was created with a `LearningRateSchedule` object as its "
                "`learning_rate` constructor argument, hence its learning rate is not "
                "settable. If you need the learning rate to be settable, you should "
                "instantiate the optimizer with a float `learning_rate` argument.")
        self._learning_rate = check_real(value, "learning_rate", 0.0)

    @property
    def schedule(self) -> LearningRateSchedule | None:
        """The learning-rate schedule, or None for a constant (settable) rate."""
        lr = self._learning_rate
        return lr if isinstance(lr, LearningRateSchedule) else None

    def _current_learning_rate(self) -> float | np.float32:
        """The Python float, or a schedule's float32 value at ``iterations``."""
        lr = self._learning_rate
        return lr(self.iterations) if isinstance(lr, LearningRateSchedule) else lr

    @property
    def needs_per_variable_gradients(self) -> bool:
        """True when ``clipnorm`` or ``global_clipnorm`` is set: their norms are per variable
        (resp. summed per variable), so the caller must pass one array per variable."""
        return self.clipnorm is not None or self.global_clipnorm is not None

    # -- building and applying ------------------------------------------------------------------
    def build(self, variables: list[np.ndarray]) -> None:
        """Create zeroed slots for ``variables`` (called on the first ``apply``)."""
        self._shapes = [(tuple(v.shape), v.dtype) for v in variables]
        self._slots = [{s: namespace(v).zeros_like(v) for s in self.slot_names}
                       for v in variables]

    @property
    def built(self) -> bool:
        return bool(self._shapes)

    def apply(self, grads: list[np.ndarray], variables: list[np.ndarray]) -> None:
        """Clip, decay, update every variable in place from its gradient, count one step."""
        if len(grads) != len(variables):
            raise ValueError(f"got {len(grads)} gradients for {len(variables)} variables")
        if not self.built:
            self.build(variables)
        elif [(tuple(v.shape), v.dtype) for v in variables] != self._shapes:
            raise ValueError("variables do not match the ones this optimizer was built for")
        grads = self._clip_gradients(grads)
        learning_rate = self._current_learning_rate()
        self._apply_weight_decay(variables, learning_rate)
        self._before_steps()
        for g, v, slots in zip(grads, variables, self._slots):
            self.update_step(g, v, learning_rate, slots)
        self.iterations += 1

    def _clip_gradients(self, grads: Sequence[np.ndarray]) -> Sequence[np.ndarray]:
        """Keras's ``_clip_gradients``: new arrays, or ``grads`` itself when no clipping."""
        if self.clipnorm and self.clipnorm > 0:
            return [clip_by_norm(_asarray(g), self.clipnorm) for g in grads]
        if self.global_clipnorm and self.global_clipnorm > 0:
            return clip_by_global_norm([_asarray(g) for g in grads], self.global_clipnorm)
        if self.clipvalue and self.clipvalue > 0:
            return [clip_by_value(_asarray(g), self.clipvalue) for g in grads]
        return grads

    def _apply_weight_decay(self, variables: Sequence[np.ndarray], learning_rate) -> None:
        """Keras's ``_apply_weight_decay``: lr and wd cast to the variable dtype (wd via
        float32, ``ops.cast`` of a Python float), then :func:`weight_decay_update`."""
        if self.weight_decay is None:
            return
        for variable in variables:
            dt = numpy_dtype(variable).type
            weight_decay_update(variable, float(_f32(self.weight_decay, dt)),
                                float(dt(learning_rate)))

    def _before_steps(self) -> None:
        """Hook run once per ``apply``, before the per-variable steps (Nadam's product)."""

    def apply_gradients(self, grads_and_vars) -> None:
        """Keras spelling: ``apply_gradients(zip(grads, variables))``."""
        pairs = list(grads_and_vars)
        self.apply([g for g, _ in pairs], [v for _, v in pairs])

    def slots(self, index: int) -> dict[str, np.ndarray]:
        """The slot arrays (name -> array, shaped like the variable) of variable ``index``."""
        return self._slots[index]

    def update_step(self, gradient: np.ndarray, variable: np.ndarray, learning_rate: float,
                    slots: dict[str, np.ndarray]) -> None:
        """Update ``variable`` (and its ``slots``, name -> array of the variable's shape) in
        place from ``gradient``; ``iterations`` is the number of earlier steps."""
        raise NotImplementedError

    # -- state for saving -----------------------------------------------------------------------
    def get_config(self) -> dict:
        return {"learning_rate": self._config_learning_rate(), **self._option_config()}

    def _config_learning_rate(self) -> float | dict:
        """The number, or the schedule as ``{"class_name": ..., "config": ...}``."""
        lr = self._learning_rate
        return schedules_module.serialize(lr) if isinstance(lr, LearningRateSchedule) else lr

    def _option_config(self) -> dict:
        """The options that are set (not None), under Keras's keys."""
        return {key: getattr(self, key) for key in OPTION_KEYS
                if getattr(self, key) is not None}

    def get_state(self) -> dict[str, np.ndarray]:
        state = {"iterations": np.array(self.iterations, dtype=np.int64)}
        for i, slots in enumerate(self._slots):
            for name, arr in slots.items():
                state[f"{i}/{name}"] = arr
        return state

    def set_state(self, state: dict[str, np.ndarray], variables: list[np.ndarray]) -> None:
        self.build(variables)
        self.iterations = int(state["iterations"])
        for i, slots in enumerate(self._slots):
            for name, arr in slots.items():
                saved = state[f"{i}/{name}"]
                if tuple(saved.shape) != tuple(arr.shape):
                    raise ValueError(f"optimizer slot {i}/{name} has shape {saved.shape}, "
                                     f"expected {tuple(arr.shape)}")
                arr[...] = saved if is_numpy(arr) else _like(saved, arr)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.get_config()} iterations={self.iterations}>"


def _asarray(g):
    """``g`` as an array of its own namespace (lists become NumPy arrays)."""
    return namespace(g).asarray(g) if not isinstance(g, (list, tuple)) else np.asarray(g)


def _like(values, array):
    """``values`` (e.g. a NumPy array read from a file) in ``array``'s namespace, dtype and
    device."""
    import array_api_compat  # only needed for other array libraries

    xp = namespace(array)
    return xp.asarray(np.ascontiguousarray(values), dtype=array.dtype,
                      device=array_api_compat.device(array))


def as_variable_dtype(gradient, variable):
    """``gradient`` in ``variable``'s namespace and dtype (Keras casts it first, too)."""
    return namespace(variable).asarray(gradient, dtype=variable.dtype)


def formula(fn, *arrays):
    """The replaceable update ``fn`` for NumPy ``arrays``, else its plain formula (the fast
    paths of :mod:`scratchnn.engine.perf` are NumPy-only)."""
    return fn if is_numpy(*arrays) else getattr(fn, "plain", fn)


def _optional_real(value, name: str) -> float | None:
    return None if value is None else check_real(value, name, 0.0)


def _f32(value: float, dt):
    """Keras's ``ops.cast(python_float, dtype)``: tf.cast makes a float32 constant first."""
    return dt(np.float32(value))


# -- clipping and weight decay: Keras's algebra, one array operation per Keras operation -------


def clip_by_norm(g: np.ndarray, clipnorm: float) -> np.ndarray:
    r"""Scale ``g`` down to L2 norm at most :math:`c` = ``clipnorm`` (``tf.clip_by_norm``):

    .. math:: s = \textstyle\sum g^2, \quad n = \sqrt{s}\ (s > 0), \quad n = s\ (s \le 0),
              \qquad g \leftarrow (g\,c) / \max(n, c).

    The two-sided ``where`` keeps ``sqrt`` away from 0 (Keras's NaN-gradient trick); a
    non-finite ``s`` passes through.  Returns a new array of ``g``'s shape and dtype.
    """
    xp = namespace(g)
    c = float(numpy_dtype(g).type(clipnorm))
    l2sum = xp.sum(xp.square(g), keepdims=True)
    pred = l2sum > 0
    l2sum_safe = xp.where(pred, l2sum, xp.ones_like(l2sum))
    l2norm = xp.where(pred, xp.sqrt(l2sum_safe), l2sum)
    return (g * c) / xp.maximum(l2norm, c)


def clip_by_global_norm(grads: Sequence[np.ndarray], clipnorm: float) -> list[np.ndarray]:
    r"""Scale all gradients by one factor so that their joint L2 norm is at most :math:`c`:

    .. math:: n = \sqrt{\textstyle\sum_i \sum g_i^2}, \qquad
              k = c \min(1/n,\ 1/c) + (n - n), \qquad g_i \leftarrow g_i\,k.

    The :math:`(n - n)` term is 0 for finite :math:`n` and NaN otherwise (Keras's finite
    trick: an infinite or NaN norm makes every gradient NaN).  Returns new arrays.
    """
    xp, dt = namespace(*grads), numpy_dtype(grads[0]).type
    squared_norms = [xp.sum(xp.square(g)) for g in grads]
    use_norm = xp.sqrt(xp.sum(xp.stack(squared_norms)))
    scale_for_finite = float(dt(clipnorm)) * xp.minimum(1.0 / use_norm,
                                                        float(dt(1.0 / clipnorm)))
    with np.errstate(invalid="ignore"):  # inf - inf = NaN is the point here
        scale = scale_for_finite + (use_norm - use_norm)
    return [g * scale for g in grads]


def clip_by_value(g: np.ndarray, clipvalue: float) -> np.ndarray:
    r"""Element-wise :math:`\min(\max(g, -v), v)` with :math:`v` = ``clipvalue`` (a new
    array of ``g``'s shape and dtype)."""
    dt = numpy_dtype(g).type
    return namespace(g).clip(g, float(dt(-clipvalue)), float(dt(clipvalue)))


def weight_decay_update(var: np.ndarray, weight_decay, lr) -> None:
    r"""Decoupled weight decay, :math:`\theta \leftarrow \theta - (\theta\lambda)\eta`
    (``var`` updated in place)."""
    var[...] = var - var * weight_decay * lr
