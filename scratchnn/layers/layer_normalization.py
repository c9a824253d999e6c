r"""``LayerNormalization``: normalize each sample over its feature axis (Keras 3)."""

from __future__ import annotations

import numpy as np

from scratchnn import initializers
from scratchnn.arguments import check_bool, check_real
from scratchnn.backend import namespace
from scratchnn.layers.base import Layer
from scratchnn.layers.batch_normalization import affine_backward, batch_normalize, resolve_axis
from scratchnn.seeding import global_rng


class LayerNormalization(Layer):
    r"""Layer normalization (Keras 3's ``LayerNormalization`` over one axis, no RMS scaling).

    Shapes: x (N, ..., D, ...) with D features along ``axis``; gamma, beta (D,).  Per sample
    (and per position on the other axes), over ``axis`` only, with the same formula in training
    and inference:

    .. math:: \mu = \mathrm{mean}(x), \quad v = \mathrm{mean}((x - \mu)^2), \quad
              s = \gamma / \sqrt{v + \epsilon}, \quad y = x\,s + (\beta - \mu\,s)

    (Keras's ``ops.layer_normalization`` computes ``x * s + (-mu * s + beta)``, the same
    numbers in IEEE arithmetic).  Backward, with :math:`\hat x = (x - \mu)/\sqrt{v+\epsilon}`:
    :math:`\partial L/\partial\gamma = \sum dout\,\hat x`, :math:`\partial L/\partial\beta =
    \sum dout` (sums over every axis but ``axis``), and
    :math:`\partial L/\partial x = \frac{1}{D\sqrt{v+\epsilon}}(D\,d\hat x - \sum d\hat x
    - \hat x\sum d\hat x\,\hat x)` with :math:`d\hat x = \gamma\,dout` (sums over ``axis``;
    :func:`scratchnn.layers.batch_normalization.normalize_backward`).
    """

    def __init__(self, axis: int = -1, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, beta_initializer: str = "zeros",
                 gamma_initializer: str = "ones", name: str | None = None,
                 input_shape: tuple[int, ...] | None = None):
        super().__init__(name=name, input_shape=input_shape)
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise TypeError(f"LayerNormalization axis must be an int, got {axis!r}")
        self.axis = int(axis)
        self.epsilon = check_real(epsilon, "LayerNormalization epsilon", 0.0)
        self.center = check_bool(center, "center")
        self.scale = check_bool(scale, "scale")
        self.beta_initializer = beta_initializer
        self.gamma_initializer = gamma_initializer
        self._init_beta = initializers.get(beta_initializer)
        self._init_gamma = initializers.get(gamma_initializer)
        self._cache: tuple | None = None

    def weight_shapes(self, input_shape):
        """(C,) for each of gamma and beta (those enabled);
        C = the size of ``axis``."""
        axis = resolve_axis(self.axis, tuple(input_shape), self.name)
        size = (tuple(input_shape)[axis - 1],)
        return [size] * (int(self.scale) + int(self.center)), []

    def build(self, input_shape, dtype=None, rng=None):
        super().build(input_shape, dtype, rng)
        self._axis = resolve_axis(self.axis, self.input_shape, self.name)
        size = (self.input_shape[self._axis - 1],)
        rng = global_rng() if rng is None else rng
        self.params = {}
        if self.scale:
            self.params["gamma"] = self._init_gamma(size, self.dtype, rng)
        if self.center:
            self.params["beta"] = self._init_beta(size, self.dtype, rng)
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    def _broadcast(self, key: str, ndim: int) -> np.ndarray | None:
        if key not in self.params:
            return None
        shape = [1] * ndim
        shape[self._axis] = self.params[key].shape[0]
        return namespace(self.params[key]).reshape(self.params[key], tuple(shape))

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        self._check_input(x)
        axes, xp = (self._axis,), namespace(x)
        mean = xp.mean(x, axis=axes, keepdims=True)
        variance = xp.mean(xp.square(x - mean), axis=axes, keepdims=True)
        inv_std = 1 / xp.sqrt(variance + float(self.dtype.type(self.epsilon)))
        out = batch_normalize(x, mean, inv_std, self._broadcast("gamma", x.ndim),
                              self._broadcast("beta", x.ndim))
        self._cache = ((x - mean) * inv_std, inv_std) if training else None
        return out

    def backward(self, dout: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        if self._cache is None:
            raise RuntimeError(f"{self.name}: backward called without forward(training=True)")
        xhat, inv_std = self._cache
        return affine_backward(self, dout, xhat, inv_std, (self._axis,), self._axis,
                               need_input_grad)

    def get_config(self) -> dict:
        return {"name": self.name, "axis": self.axis, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale,
                "beta_initializer": self.beta_initializer,
                "gamma_initializer": self.gamma_initializer}
