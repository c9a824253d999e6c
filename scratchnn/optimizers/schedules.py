r"""Learning-rate schedules with Keras 3's arithmetic
(``keras/src/optimizers/schedules/learning_rate_schedule.py``).

A schedule is a callable ``schedule(step) -> np.float32``; an optimizer built with
``learning_rate=schedule`` evaluates it at its ``iterations`` (the number of earlier updates)
before every update.  Keras converts the Python-float initial rate to a float32 tensor, so every
schedule computes in float32: ``step`` and the float hyperparameters are cast to float32 first
(Python floats combined with float32 values stay float32, NumPy 2's rules for weak scalars,
as in TensorFlow), one operation per Keras operation, in Keras's order.  The optimizer then
casts the value to the variable dtype (exact for float64).  Keras does so whatever
``keras.config.floatx()`` is: TensorFlow converts a Python float to a float32 tensor.

``serialize`` / ``deserialize`` use Keras's ``{"class_name": ..., "config": ...}`` form.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math

import numpy as np

from scratchnn.arguments import check_bool
from scratchnn.registry import Registry

F32 = np.float32


def _libm(name: str, arity: int):
    """The C library's float32 function ``name`` (``cosf``, ``logf``, ``powf``), or None."""
    path = ctypes.util.find_library("m")
    try:
        function = getattr(ctypes.CDLL(path), name)
    except (OSError, AttributeError, TypeError):
        return None
    function.argtypes = [ctypes.c_float] * arity
    function.restype = ctypes.c_float
    return function


# TensorFlow evaluates a scalar float32 cos / log / pow with the C library's cosf / logf / powf
# (Eigen's scalar path), which round differently from NumPy's vectorised float32 versions in
# the last place; calling the same functions makes the schedules bitwise Keras's.  Without a
# loadable C math library, NumPy's float32 functions are used (within 1 ulp).
_COSF, _LOGF, _POWF = _libm("cosf", 1), _libm("logf", 1), _libm("powf", 2)


def _cos(x) -> np.float32:
    r"""float32 :math:`\cos x`."""
    return F32(_COSF(x)) if _COSF else np.cos(F32(x))


def _log(x) -> np.float32:
    r"""float32 :math:`\log x`."""
    return F32(_LOGF(x)) if _LOGF else np.log(F32(x))


def _pow(x, y) -> np.float32:
    """float32 :math:`x^y`."""
    return F32(_POWF(x, y)) if _POWF else np.power(F32(x), F32(y))


class LearningRateSchedule:
    """Base class: ``__call__(step)`` gives the rate for update ``step`` (0-based)."""

    def __call__(self, step) -> np.float32:
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override `__call__(self, step)`.")

    def get_config(self) -> dict:
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override `get_config()` in "
            "order to be serializable.")

    @classmethod
    def from_config(cls, config: dict) -> LearningRateSchedule:
        return cls(**config)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.get_config()})"


def _check_steps(value, name: str):
    if value <= 0:
        raise ValueError(f"Argument `{name}` must be > 0. Received: {name}={value}")
    return value


class _DecayOverSteps(LearningRateSchedule):
    """What :class:`ExponentialDecay` and :class:`InverseTimeDecay` share: the arguments and
    the progress :math:`p = s / d` (``floor(s / d)`` with ``staircase``), in float32."""

    def __init__(self, initial_learning_rate: float, decay_steps: int, decay_rate: float,
                 staircase: bool = False, name: str | None = None):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = _check_steps(decay_steps, "decay_steps")
        self.decay_rate = decay_rate
        self.staircase = check_bool(staircase, "staircase")
        self.name = type(self).__name__ if name is None else name

    def progress(self, step) -> np.float32:
        p = F32(step) / F32(self.decay_steps)
        return np.floor(p) if self.staircase else p

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


class ExponentialDecay(_DecayOverSteps):
    r""":math:`\eta(s) = \eta_0\, r^{p}`, :math:`p = s / d` (``floor(s / d)`` with
    ``staircase``), with :math:`\eta_0` = ``initial_learning_rate``, :math:`d` =
    ``decay_steps`` (> 0), :math:`r` = ``decay_rate``."""

    def __call__(self, step) -> np.float32:
        return F32(self.initial_learning_rate) * _pow(F32(self.decay_rate), self.progress(step))


class InverseTimeDecay(_DecayOverSteps):
    r""":math:`\eta(s) = \eta_0 / (1 + r\,p)`, :math:`p = s / d` (``floor(s / d)`` with
    ``staircase``); arguments as :class:`ExponentialDecay`."""

    def __call__(self, step) -> np.float32:
        return F32(self.initial_learning_rate) / (F32(1) + F32(self.decay_rate)
                                                  * self.progress(step))


class PiecewiseConstantDecay(LearningRateSchedule):
    r""":math:`\eta(s) = v_0` for :math:`s \le b_0`, :math:`v_i` for
    :math:`b_{i-1} < s \le b_i`, :math:`v_n` for :math:`s > b_{n-1}` (``boundaries``
    :math:`b`, ``values`` :math:`v`, one more value than boundaries); computed as Keras does,
    as the sum of each value times the 0/1 indicator of its range."""

    def __init__(self, boundaries: list, values: list, name: str = "PiecewiseConstant"):
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "The length of boundaries should be 1 less than the length of values. "
                f"Received: boundaries={boundaries} of length {len(boundaries)}, and "
                f"values={values} of length {len(values)}.")
        self.boundaries = boundaries
        self.values = values
        self.name = name

    def __call__(self, step) -> np.float32:
        values = [F32(v) for v in self.values]
        b = self.boundaries
        result = F32(0) + F32(step <= b[0]) * values[0]
        result += F32(step > b[-1]) * values[-1]
        for low, high, value in zip(b[:-1], b[1:], values[1:-1]):
            result += F32(low < step <= high) * value
        return F32(result)

    def get_config(self) -> dict:
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    r""":math:`\eta(s) = (\eta_0 - \eta_e)(1 - s'/d')^{k} + \eta_e` with :math:`\eta_e` =
    ``end_learning_rate``, :math:`k` = ``power``; :math:`s' = \min(s, d)`, :math:`d' = d`, or
    with ``cycle`` :math:`s' = s` and :math:`d' = d\,\lceil s/d\rceil` (:math:`d` at
    :math:`s = 0`), which restarts the decay every :math:`d` steps."""

    def __init__(self, initial_learning_rate: float, decay_steps: int,
                 end_learning_rate: float = 0.0001, power: float = 1.0, cycle: bool = False,
                 name: str = "PolynomialDecay"):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = _check_steps(decay_steps, "decay_steps")
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = check_bool(cycle, "cycle")
        self.name = name

    def __call__(self, step) -> np.float32:
        initial, end = F32(self.initial_learning_rate), F32(self.end_learning_rate)
        s, d = F32(step), F32(self.decay_steps)
        if self.cycle:
            d = d * (F32(1.0) if s == 0 else np.ceil(s / F32(self.decay_steps)))
        else:
            s = np.minimum(s, d)
        p = s / d
        return (initial - end) * _pow(F32(1) - p, F32(self.power)) + end

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "end_learning_rate": self.end_learning_rate,
                "power": self.power, "cycle": self.cycle, "name": self.name}


def _cosine(fraction, alpha) -> np.float32:
    r""":math:`(1-\alpha)\,\tfrac12(1 + \cos(\pi f)) + \alpha` in float32 (Keras's order)."""
    cosine_decayed = F32(0.5) * (F32(1.0) + _cos(F32(math.pi) * fraction))
    return F32(1 - alpha) * cosine_decayed + F32(alpha)


class CosineDecay(LearningRateSchedule):
    r"""Cosine decay (Loshchilov & Hutter 2017) with optional linear warmup.

    Without ``warmup_target``: :math:`\eta(s) = \eta_0\big((1-\alpha)\tfrac12(1 +
    \cos(\pi\,\min(s, d)/d)) + \alpha\big)`.  With ``warmup_target`` :math:`\eta_w` and
    ``warmup_steps`` :math:`w`: :math:`s \leftarrow \min(s, d + w)`; for :math:`s < w` the
    rate rises linearly, :math:`(\eta_w - \eta_0)\,s/w + \eta_0`; then it decays from
    :math:`\eta_w` as above at step :math:`s - w`.
    """

    def __init__(self, initial_learning_rate: float, decay_steps: int, alpha: float = 0.0,
                 name: str = "CosineDecay", warmup_target: float | None = None,
                 warmup_steps: int = 0):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = _check_steps(decay_steps, "decay_steps")
        self.alpha = alpha
        self.name = name
        self.warmup_steps = warmup_steps
        self.warmup_target = warmup_target

    def __call__(self, step) -> np.float32:
        initial, d, s = F32(self.initial_learning_rate), F32(self.decay_steps), F32(step)
        if self.warmup_target is None:
            return initial * _cosine(np.minimum(s, d) / d, self.alpha)
        target, w = F32(self.warmup_target), F32(self.warmup_steps)
        s = np.minimum(s, d + w)
        if s < w:
            return (target - initial) * (s / w) + initial
        return target * _cosine((s - w) / d, self.alpha)

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "alpha": self.alpha, "name": self.name,
                "warmup_target": self.warmup_target, "warmup_steps": self.warmup_steps}


class CosineDecayRestarts(LearningRateSchedule):
    r"""Cosine decay with warm restarts (SGDR, Loshchilov & Hutter 2017).

    With :math:`f = s/d_1` (``first_decay_steps`` :math:`d_1`), period growth :math:`t` =
    ``t_mul`` and amplitude factor :math:`m` = ``m_mul``: the restart index is
    :math:`i = \lfloor f\rfloor` if :math:`t = 1`, else
    :math:`i = \lfloor \log(1 - f(1-t)) / \log t\rfloor`, and the fraction into period
    :math:`i` is :math:`f - i`, resp. :math:`(f - (1-t^i)/(1-t)) / t^i`; then
    :math:`\eta(s) = \eta_0\big((1-\alpha)\, m^i\, \tfrac12(1 + \cos(\pi f_i)) + \alpha\big)`.
    """

    def __init__(self, initial_learning_rate: float, first_decay_steps: int,
                 t_mul: float = 2.0, m_mul: float = 1.0, alpha: float = 0.0,
                 name: str = "SGDRDecay"):
        self.initial_learning_rate = initial_learning_rate
        self.first_decay_steps = _check_steps(first_decay_steps, "first_decay_steps")
        self._t_mul = t_mul
        self._m_mul = m_mul
        self.alpha = alpha
        self.name = name

    def _restart(self, fraction, t_mul):
        """The restart index :math:`i` and the fraction into that period (float32)."""
        if t_mul == F32(1.0):
            i_restart = np.floor(fraction)
            return i_restart, fraction - i_restart
        i_restart = np.floor(_log(F32(1.0) - fraction * (F32(1.0) - t_mul)) / _log(t_mul))
        sum_r = (F32(1.0) - _pow(t_mul, i_restart)) / (F32(1.0) - t_mul)
        return i_restart, (fraction - sum_r) / _pow(t_mul, i_restart)

    def __call__(self, step) -> np.float32:
        alpha, t_mul, m_mul = F32(self.alpha), F32(self._t_mul), F32(self._m_mul)
        fraction = F32(step) / F32(self.first_decay_steps)
        i_restart, fraction = self._restart(fraction, t_mul)
        m_fac = _pow(m_mul, i_restart)
        cosine_decayed = (F32(0.5) * m_fac
                          * (F32(1.0) + _cos(F32(math.pi) * fraction)))
        return F32(self.initial_learning_rate) * ((F32(1) - alpha) * cosine_decayed + alpha)

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate,
                "first_decay_steps": self.first_decay_steps, "t_mul": self._t_mul,
                "m_mul": self._m_mul, "alpha": self.alpha, "name": self.name}


SCHEDULES: Registry[LearningRateSchedule] = Registry(
    "learning rate schedule", base=LearningRateSchedule, spec_key="class_name")
for _cls in (ExponentialDecay, InverseTimeDecay, PiecewiseConstantDecay, PolynomialDecay,
             CosineDecay, CosineDecayRestarts):
    SCHEDULES.add(_cls, _cls.__name__)


def serialize(schedule: LearningRateSchedule) -> dict:
    """``{"class_name": ..., "config": ...}`` (Keras's form, without its module keys)."""
    return SCHEDULES.serialize(schedule)


def deserialize(config: dict) -> LearningRateSchedule:
    """Inverse of :func:`serialize`; extra Keras keys (``module``, ...) are ignored."""
    return SCHEDULES.deserialize({"class_name": config.get("class_name"),
                                  "config": config.get("config", {})})


def get(identifier: LearningRateSchedule | dict) -> LearningRateSchedule:
    """A schedule or its serialized dict -> the schedule."""
    return SCHEDULES.get(identifier)
