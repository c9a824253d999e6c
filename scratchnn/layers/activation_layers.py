r"""Keras 3's activation layers ``Softmax``, ``ReLU`` and ``LeakyReLU``.

Each is an :class:`scratchnn.layers.Activation` with a fixed activation, so a model ending in
``Softmax()`` (last axis) keeps the fused softmax + cross-entropy head.  Their configs are
their own arguments (Keras's), not an activation name.
"""

from __future__ import annotations

import numpy as np

from scratchnn import activations
from scratchnn.arguments import check_real
from scratchnn.backend import namespace, numpy_dtype
from scratchnn.layers.activation import Activation


class _AxisSoftmax(activations.Activation):
    r"""Softmax over one axis: :math:`a = e^{z - \max z} / \sum e^{z - \max z}`, backward
    :math:`dz = a\,(dout - \sum dout\,a)` (max and sums over ``axis``)."""

    name = "softmax"

    def __init__(self, axis: int):
        self.axis = axis

    def forward(self, z: np.ndarray) -> np.ndarray:
        xp = namespace(z)
        e = xp.exp(z - xp.max(z, axis=self.axis, keepdims=True))
        e /= xp.sum(e, axis=self.axis, keepdims=True)
        return e

    def backward(self, dout: np.ndarray, a: np.ndarray) -> np.ndarray:
        return a * (dout - namespace(a).sum(dout * a, axis=self.axis, keepdims=True))


class _ThresholdedReLU(activations.Activation):
    r"""Keras's general ``relu(z, negative_slope, max_value, threshold)`` in its op order:

    .. math:: a = \mathrm{clip}(z\,[z > t],\, 0,\, m) - s\,\max(t - z, 0)

    (t = threshold, m = max_value, s = negative_slope; the clip only with m, the last term only
    with s > 0; m = 6 with t = 0 is ``relu6``).  Backward:
    :math:`f'(z) = [t < z][z \le m] + s\,[z < t]` (with t = 0: :math:`[z > 0]`), from z.
    """

    name = "relu"
    uses_input = True

    def __init__(self, max_value: float | None, negative_slope: float, threshold: float):
        self.max_value, self.negative_slope, self.threshold = max_value, negative_slope, threshold

    def _scalars(self, z) -> tuple[float, float | None, float]:
        """t, m, s rounded to z's dtype, as Python floats (None: no max_value)."""
        dt = numpy_dtype(z).type
        m = None if self.max_value is None else float(dt(self.max_value))
        return float(dt(self.threshold)), m, float(dt(self.negative_slope))

    def forward(self, z: np.ndarray) -> np.ndarray:
        xp, (t, m, s) = namespace(z), self._scalars(z)
        a = xp.where(z > t, z, 0.0) if self.threshold else xp.maximum(z, 0.0)
        if m is not None:
            a = xp.clip(a, 0.0, m)
        if self.negative_slope:
            negative = xp.maximum(-z + t, 0.0) if self.threshold else xp.maximum(-z, 0.0)
            a = a - s * negative
        return a

    def backward(self, dout: np.ndarray, a: np.ndarray, z: np.ndarray) -> np.ndarray:
        xp, (t, m, s) = namespace(z), self._scalars(z)
        slope = xp.astype(z > t, z.dtype)
        if m is not None:
            slope *= xp.astype(z <= m, z.dtype)
        if self.negative_slope:
            slope += s * xp.astype(z < t, z.dtype)
        return dout * slope


def _relu_activation(max_value: float | None, negative_slope: float,
                     threshold: float) -> activations.Activation:
    """The activation Keras's ``relu`` dispatches to for these arguments."""
    if max_value is None and threshold == 0.0:
        if negative_slope == 0.0:
            return activations.ReLU()
        return activations.LeakyReLU(negative_slope)  # Keras: backend.nn.leaky_relu
    return _ThresholdedReLU(max_value, negative_slope, threshold)


class Softmax(Activation):
    r"""``keras.layers.Softmax(axis=-1)``: :math:`a = e^{z} / \sum_{axis} e^{z}` (max-shifted).
    With the default last axis the activation is :class:`scratchnn.activations.Softmax`, so a
    cross-entropy model ending here fuses the two."""

    def __init__(self, axis: int = -1, name: str | None = None,
                 input_shape: tuple[int, ...] | None = None):
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise TypeError(f"Softmax axis must be an int, got {axis!r}")
        self.axis = int(axis)
        act = activations.Softmax() if self.axis == -1 else _AxisSoftmax(self.axis)
        super().__init__(act, name=name, input_shape=input_shape)

    def get_config(self) -> dict:
        return {"name": self.name, "axis": self.axis}


class ReLU(Activation):
    r"""``keras.layers.ReLU(max_value=None, negative_slope=0.0, threshold=0.0)``:
    :math:`a = \min(z, m)` for :math:`z > t`, :math:`s\,(z - t)` for :math:`z < t` (Keras's
    op order: :class:`_ThresholdedReLU`); the defaults are the plain
    :class:`scratchnn.activations.ReLU`, a non-zero slope alone is ``leaky_relu``."""

    def __init__(self, max_value: float | None = None, negative_slope: float = 0.0,
                 threshold: float = 0.0, name: str | None = None,
                 input_shape: tuple[int, ...] | None = None):
        self.max_value = None if max_value is None else check_real(max_value, "max_value", 0.0)
        self.negative_slope = check_real(negative_slope, "negative_slope", 0.0)
        self.threshold = check_real(threshold, "threshold", 0.0)
        act = _relu_activation(self.max_value, self.negative_slope, self.threshold)
        super().__init__(act, name=name, input_shape=input_shape)

    def get_config(self) -> dict:
        return {"name": self.name, "max_value": self.max_value,
                "negative_slope": self.negative_slope, "threshold": self.threshold}


class LeakyReLU(Activation):
    r"""``keras.layers.LeakyReLU(negative_slope=0.3)``: :math:`a = z` for :math:`z > 0`, else
    :math:`s z` (:class:`scratchnn.activations.LeakyReLU`, s rounded to float32 as TF does)."""

    def __init__(self, negative_slope: float = 0.3, name: str | None = None,
                 input_shape: tuple[int, ...] | None = None):
        self.negative_slope = check_real(negative_slope, "negative_slope", 0.0)
        super().__init__(activations.LeakyReLU(self.negative_slope), name=name,
                         input_shape=input_shape)

    def get_config(self) -> dict:
        return {"name": self.name, "negative_slope": self.negative_slope}
