r"""Weight and activity penalties (Keras 3's ``keras.regularizers``), with their gradients.

A regularizer :math:`R` maps an array :math:`w` (a kernel, a bias, or a layer's output) to a
scalar penalty that is added to the loss the model minimizes:

* :class:`L1`:   :math:`R(w) = \lambda_1 \sum_i |w_i|`,
  :math:`\partial R/\partial w = \lambda_1 \operatorname{sign}(w)` with
  :math:`\operatorname{sign}(0) = 0` (TensorFlow's gradient of ``abs``);
* :class:`L2`:   :math:`R(w) = \lambda_2 \sum_i w_i^2`,
  :math:`\partial R/\partial w = 2 \lambda_2 w`;
* :class:`L1L2`: the sum of both.

Note: Keras's L2 has no factor 1/2, so its gradient is :math:`2\lambda_2 w` (weight decay by
:math:`2\eta\lambda_2` per SGD step).  Where the penalty enters the loss (every weight penalty
at the current weights, the activity penalty divided by the batch size) is derived in
``docs/math.md`` section 16 and implemented in :class:`scratchnn.layers.Dense`.

Numerics follow Keras on TensorFlow: the penalty is computed in the array's dtype, with the
factor cast to that dtype first, and that cast goes through float32 (``ops.cast`` turns the
Python number into a float32 tensor), so even in a float64 model ``L2(0.03)`` penalizes with
:math:`\lambda_2 = 0.029999999329447746`.  ``L1`` also *stores* its factor as a float32 number
(Keras keeps it in a float32 tensor): ``L1(0.01).get_config() == {"l1": 0.009999999776482582}``.

Any array library: every formula takes its namespace from ``w``
(:func:`scratchnn.backend.namespace`), and the cast factor enters it as a Python float of
``w``'s precision (bitwise what the float32-then-``w.dtype`` NumPy scalar gives); penalties are
Python floats, gradients arrays of ``w``'s namespace.

Names (case-insensitive, one :class:`scratchnn.registry.Registry`): ``"l1"``, ``"l2"``,
``"l1l2"`` (Keras 3) and ``"l1_l2"`` (Keras 2's spelling); a name gives the class's defaults
(``"l1l2"`` is ``L1L2(0, 0)``, as in Keras 3).  Specs are Keras's
``{"class_name": "L2", "config": {"l2": 0.01}}``.
"""

from __future__ import annotations

import numpy as np

from scratchnn.arguments import check_real
from scratchnn.backend import namespace, numpy_dtype
from scratchnn.fastpath import foreign_array
from scratchnn.registry import Registry

__all__ = ["L1", "L1L2", "L2", "REGULARIZERS", "Regularizer", "deserialize", "get", "serialize"]


def _factor(value, name: str, default: float) -> float:
    """Keras's ``validate_float_arg``: None means the default; a finite number >= 0."""
    return check_real(default if value is None else value, name, low=0.0)


def _cast(factor: float, w) -> float:
    """Keras's ``ops.cast(factor, dtype)`` on TensorFlow: the Python number becomes a float32
    tensor first, so the factor is rounded to float32, then converted to ``w``'s dtype; handed
    to array expressions as a Python float (exactly that value)."""
    return float(numpy_dtype(w).type(np.float32(factor)))


def _array(w) -> np.ndarray:
    """``w`` itself when it is an array of another library, else ``np.asarray(w)``."""
    return w if foreign_array(w) else np.asarray(w)


def _l1_penalty(l1: float, w: np.ndarray) -> np.ndarray:
    r""":math:`\lambda_1 \sum |w|` in w's dtype (factor cast first)."""
    xp = namespace(w)
    return _cast(l1, w) * xp.sum(xp.abs(w))


def _l2_penalty(l2: float, w: np.ndarray) -> np.ndarray:
    r""":math:`\lambda_2 \sum w^2` in w's dtype (factor cast first)."""
    xp = namespace(w)
    return _cast(l2, w) * xp.sum(xp.square(w))


def _l1_gradient(l1: float, w: np.ndarray) -> np.ndarray:
    r""":math:`\lambda_1 \operatorname{sign}(w)`, sign(0) = 0; same shape and dtype as w."""
    return _cast(l1, w) * namespace(w).sign(w)


def _l2_gradient(l2: float, w: np.ndarray) -> np.ndarray:
    r""":math:`2 \lambda_2 w` (:math:`2\lambda_2` is exact: doubling never rounds); same
    shape and dtype as w."""
    return (2 * _cast(l2, w)) * w


class Regularizer:
    """Base class: no penalty.  Subclasses define ``__call__`` (the penalty, a float),
    ``gradient`` (its derivative, shaped like the argument) and ``get_config``."""

    def __call__(self, w: np.ndarray) -> float:
        """The penalty :math:`R(w)` for an array w of any shape."""
        return 0.0

    def gradient(self, w: np.ndarray) -> np.ndarray:
        r""":math:`\partial R/\partial w`, same shape and dtype as w."""
        w = _array(w)
        return namespace(w).zeros_like(w)

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> Regularizer:
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class L1(Regularizer):
    r""":math:`R(w) = \lambda_1 \sum_i |w_i|`; :math:`R'(w) = \lambda_1 \operatorname{sign}(w)`.

    Parameters
    ----------
    l1 : float >= 0, default 0.01.  Stored rounded to float32, as Keras stores it.
    """

    def __init__(self, l1: float = 0.01):
        self.l1 = float(np.float32(_factor(l1, "l1", 0.01)))

    def __call__(self, w: np.ndarray) -> float:
        return float(_l1_penalty(self.l1, _array(w)))

    def gradient(self, w: np.ndarray) -> np.ndarray:
        return _l1_gradient(self.l1, _array(w))

    def get_config(self) -> dict:
        return {"l1": self.l1}


class L2(Regularizer):
    r""":math:`R(w) = \lambda_2 \sum_i w_i^2`; :math:`R'(w) = 2 \lambda_2 w`.

    Parameters
    ----------
    l2 : float >= 0, default 0.01.
    """

    def __init__(self, l2: float = 0.01):
        self.l2 = _factor(l2, "l2", 0.01)

    def __call__(self, w: np.ndarray) -> float:
        return float(_l2_penalty(self.l2, _array(w)))

    def gradient(self, w: np.ndarray) -> np.ndarray:
        return _l2_gradient(self.l2, _array(w))

    def get_config(self) -> dict:
        return {"l2": self.l2}


class L1L2(Regularizer):
    r""":math:`R(w) = \lambda_1 \sum_i |w_i| + \lambda_2 \sum_i w_i^2`;
    :math:`R'(w) = \lambda_1 \operatorname{sign}(w) + 2 \lambda_2 w`.

    Computed as Keras does: :math:`0 + L_1\text{-term} + L_2\text{-term}`, a term only when its
    factor is nonzero.

    Parameters
    ----------
    l1, l2 : floats >= 0, default 0.0 each (Keras's defaults; None also means 0).
    """

    def __init__(self, l1: float = 0.0, l2: float = 0.0):
        self.l1 = _factor(l1, "l1", 0.0)
        self.l2 = _factor(l2, "l2", 0.0)

    def __call__(self, w: np.ndarray) -> float:
        w = _array(w)
        penalty = 0.0  # + a term of w's dtype keeps that dtype
        if self.l1 != 0.0:
            penalty = penalty + _l1_penalty(self.l1, w)
        if self.l2 != 0.0:
            penalty = penalty + _l2_penalty(self.l2, w)
        return float(penalty)

    def gradient(self, w: np.ndarray) -> np.ndarray:
        w = _array(w)
        grad = namespace(w).zeros_like(w)
        if self.l1 != 0.0:
            grad = grad + _l1_gradient(self.l1, w)
        if self.l2 != 0.0:
            grad = grad + _l2_gradient(self.l2, w)
        return grad

    def get_config(self) -> dict:
        return {"l1": self.l1, "l2": self.l2}


REGULARIZERS: Registry[Regularizer] = Registry("regularizer", base=Regularizer,
                                               spec_key="class_name")
REGULARIZERS.add(L1, "L1")
REGULARIZERS.add(L2, "L2")
REGULARIZERS.add(L1L2, "L1L2", "l1_l2")


def get(identifier: str | dict | Regularizer | None) -> Regularizer | None:
    """None (no penalty), a name (``"l1"``, ``"l2"``, ``"l1l2"``, ``"l1_l2"``), a spec dict
    (Keras's ``serialize`` output included) or a :class:`Regularizer` (passed through)."""
    return None if identifier is None else REGULARIZERS.get(identifier)


def serialize(regularizer: Regularizer | None) -> dict | None:
    """``{"class_name": "L2", "config": {"l2": 0.01}}`` (None for None), as Keras writes it."""
    return None if regularizer is None else REGULARIZERS.serialize(regularizer)


def deserialize(spec: str | dict | None) -> Regularizer | None:
    """Inverse of :func:`serialize`."""
    return None if spec is None else REGULARIZERS.deserialize(spec)
