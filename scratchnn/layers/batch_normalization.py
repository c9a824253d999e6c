r"""``BatchNormalization``: normalize each feature with the batch's statistics (Keras 3)."""

from __future__ import annotations

import numpy as np

from scratchnn import initializers
from scratchnn.arguments import check_bool, check_real
from scratchnn.backend import namespace
from scratchnn.layers.base import Layer
from scratchnn.seeding import global_rng


def normalize_backward(dxhat: np.ndarray, xhat: np.ndarray, inv_std: np.ndarray,
                       axes: tuple[int, ...]) -> np.ndarray:
    r"""The input gradient of :math:`\hat x = (x - \mu)\,\sigma^{-1}` where :math:`\mu` and the
    biased variance :math:`\sigma^2 - \epsilon` are means over ``axes`` (M entries each):

    .. math:: \frac{\partial L}{\partial x} = \frac{\sigma^{-1}}{M}\Big(M\,d\hat x
              - \sum d\hat x - \hat x \sum d\hat x \odot \hat x\Big)

    (sums over ``axes``, derived in ``docs/math.md`` section 15).  Shapes: ``dxhat``, ``xhat``
    as x; ``inv_std`` broadcastable to x (1 along ``axes``).
    """
    xp = namespace(dxhat)
    m = int(np.prod([xhat.shape[a] for a in axes]))
    sum_d = xp.sum(dxhat, axis=axes, keepdims=True)
    sum_dx = xp.sum(dxhat * xhat, axis=axes, keepdims=True)
    return (inv_std / m) * (m * dxhat - sum_d - xhat * sum_dx)


def resolve_axis(axis: int, input_shape: tuple[int, ...], layer: str) -> int:
    """``axis`` of the full (N, *input_shape) array as a non-negative index >= 1."""
    ndim = len(input_shape) + 1
    if not -ndim <= axis < ndim or axis % ndim == 0:
        raise ValueError(f"{layer}: axis {axis} is not a feature axis of inputs with shape "
                         f"(N, {', '.join(map(str, input_shape))})")
    return axis % ndim


class BatchNormalization(Layer):
    r"""Batch normalization (Keras 3's ``BatchNormalization``, no renorm, no masks).

    Shapes: x (N, ..., D, ...) with the D features along ``axis``; gamma, beta, moving_mean,
    moving_variance (D,).  Statistics run over every other axis (M = x.size / D entries).

    Training: :math:`\mu = \mathrm{mean}(x)`, :math:`v = \mathrm{mean}((x - \mu)^2)` (biased),
    the moving statistics updated as Keras does
    :math:`\bar\mu \leftarrow \bar\mu\,\rho + \mu\,(1 - \rho)`,
    :math:`\bar v \leftarrow \bar v\,\rho + v\,(1 - \rho)` (:math:`\rho` = ``momentum``;
    :math:`1 - \rho` computed in Python float64, both rounded to the dtype).  Inference uses
    :math:`\bar\mu, \bar v` instead.  Output in ``tf.nn.batch_normalization``'s op order:

    .. math:: s = \gamma / \sqrt{v + \epsilon}, \qquad y = x\,s + (\beta - \mu\,s)

    Backward (training mode), with :math:`\hat x = (x - \mu)/\sqrt{v + \epsilon}`:
    :math:`\partial L/\partial\beta = \sum dout`, :math:`\partial L/\partial\gamma =
    \sum dout\,\hat x`, and dL/dx by :func:`normalize_backward` on :math:`d\hat x = \gamma\,dout`.
    Weights in Keras's order: gamma, beta (``params``, when ``scale``/``center``), then
    moving_mean, moving_variance (``state``).
    """

    def __init__(self, axis: int = -1, momentum: float = 0.99, epsilon: float = 1e-3,
                 center: bool = True, scale: bool = True, beta_initializer: str = "zeros",
                 gamma_initializer: str = "ones", moving_mean_initializer: str = "zeros",
                 moving_variance_initializer: str = "ones", name: str | None = None,
                 input_shape: tuple[int, ...] | None = None):
        super().__init__(name=name, input_shape=input_shape)
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise TypeError(f"BatchNormalization axis must be an int, got {axis!r}")
        self.axis = int(axis)
        self.momentum = check_real(momentum, "BatchNormalization momentum", 0.0, 1.0)
        self.epsilon = check_real(epsilon, "BatchNormalization epsilon", 0.0)
        self.center = check_bool(center, "center")
        self.scale = check_bool(scale, "scale")
        self.initializer_names = {
            "beta_initializer": beta_initializer, "gamma_initializer": gamma_initializer,
            "moving_mean_initializer": moving_mean_initializer,
            "moving_variance_initializer": moving_variance_initializer}
        self._initializers = {k: initializers.get(v) for k, v in self.initializer_names.items()}
        self._cache: tuple | None = None

    def weight_shapes(self, input_shape):
        """(C,) for each of gamma and beta (those enabled), and moving_mean, moving_variance;
        C = the size of ``axis``."""
        axis = resolve_axis(self.axis, tuple(input_shape), self.name)
        size = (tuple(input_shape)[axis - 1],)
        return [size] * (int(self.scale) + int(self.center)), [size, size]

    def build(self, input_shape, dtype=None, rng=None):
        super().build(input_shape, dtype, rng)
        self._axis = resolve_axis(self.axis, self.input_shape, self.name)
        size = (self.input_shape[self._axis - 1],)
        rng = global_rng() if rng is None else rng
        init = {k[:-len("_initializer")]: f for k, f in self._initializers.items()}
        self.params = {}
        if self.scale:
            self.params["gamma"] = init["gamma"](size, self.dtype, rng)
        if self.center:
            self.params["beta"] = init["beta"](size, self.dtype, rng)
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.state = {"moving_mean": init["moving_mean"](size, self.dtype, rng),
                      "moving_variance": init["moving_variance"](size, self.dtype, rng)}

    def _reduction_axes(self, ndim: int) -> tuple[int, ...]:
        return tuple(a for a in range(ndim) if a != self._axis)

    def _broadcast(self, v: np.ndarray, ndim: int) -> np.ndarray:
        shape = [1] * ndim
        shape[self._axis] = v.shape[0]
        return namespace(v).reshape(v, tuple(shape))

    def _update_moving(self, mean: np.ndarray, variance: np.ndarray) -> None:
        """Keras's update: ``moving * momentum + batch * (1 - momentum)``, in the dtype."""
        rho, one_minus_rho = float(self.dtype.type(self.momentum)), float(
            self.dtype.type(1.0 - self.momentum))
        mm, mv = self.state["moving_mean"], self.state["moving_variance"]
        xp = namespace(mm, mean)  # the moving statistics live in the input's namespace
        mm[...] = mm * rho + xp.reshape(mean, mm.shape) * one_minus_rho
        mv[...] = mv * rho + xp.reshape(variance, mv.shape) * one_minus_rho

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        self._check_input(x)
        axes, xp = self._reduction_axes(x.ndim), namespace(x)
        if training:
            mean = xp.mean(x, axis=axes, keepdims=True)
            variance = xp.mean(xp.square(x - mean), axis=axes, keepdims=True)
            self._update_moving(mean, variance)
        else:
            mean = self._broadcast(self.state["moving_mean"], x.ndim)
            variance = self._broadcast(self.state["moving_variance"], x.ndim)
        inv_std = 1 / xp.sqrt(variance + float(self.dtype.type(self.epsilon)))
        out = batch_normalize(x, mean, inv_std, self._gamma(x.ndim), self._beta(x.ndim))
        self._cache = ((x - mean) * inv_std, inv_std, axes) if training else None
        return out

    def _gamma(self, ndim: int) -> np.ndarray | None:
        return self._broadcast(self.params["gamma"], ndim) if self.scale else None

    def _beta(self, ndim: int) -> np.ndarray | None:
        return self._broadcast(self.params["beta"], ndim) if self.center else None

    def backward(self, dout: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        if self._cache is None:
            raise RuntimeError(f"{self.name}: backward called without forward(training=True)")
        xhat, inv_std, axes = self._cache
        return affine_backward(self, dout, xhat, inv_std, axes, self._axis, need_input_grad)

    def get_config(self) -> dict:
        return {"name": self.name, "axis": self.axis, "momentum": self.momentum,
                "epsilon": self.epsilon, "center": self.center, "scale": self.scale,
                **self.initializer_names}


def batch_normalize(x: np.ndarray, mean: np.ndarray, inv_std: np.ndarray,
                    gamma: np.ndarray | None, beta: np.ndarray | None) -> np.ndarray:
    r"""``tf.nn.batch_normalization``'s op order: :math:`s = \sigma^{-1}\gamma`,
    :math:`y = x s + (\beta - \mu s)` (no :math:`\gamma`: :math:`s = \sigma^{-1}`; no
    :math:`\beta`: :math:`y = x s + (-\mu s)`).  All arguments broadcast against x."""
    scale = inv_std * gamma if gamma is not None else inv_std
    offset = beta - mean * scale if beta is not None else -mean * scale
    return x * scale + offset


def affine_backward(layer: Layer, dout: np.ndarray, xhat: np.ndarray, inv_std: np.ndarray,
                    stat_axes: tuple[int, ...], feature_axis: int,
                    need_input_grad: bool) -> np.ndarray | None:
    r"""Backward of :math:`y = \gamma\hat x + \beta` (gamma, beta along ``feature_axis``) for a
    normalization layer whose statistics run over ``stat_axes``: fills ``grads['gamma']``
    (:math:`\sum dout\,\hat x`) and ``grads['beta']`` (:math:`\sum dout`), sums over every
    axis but ``feature_axis``, and returns dL/dx through :func:`normalize_backward`."""
    xp = namespace(dout)
    param_axes = tuple(a for a in range(dout.ndim) if a != feature_axis)
    if "gamma" in layer.grads:
        layer.grads["gamma"][...] = xp.sum(dout * xhat, axis=param_axes)
    if "beta" in layer.grads:
        layer.grads["beta"][...] = xp.sum(dout, axis=param_axes)
    if not need_input_grad:
        return None
    gamma = layer.params.get("gamma")
    if gamma is not None:
        shape = [1] * dout.ndim
        shape[feature_axis] = gamma.shape[0]
        dout = dout * xp.reshape(gamma, tuple(shape))
    return normalize_backward(dout, xhat, inv_std, stat_axes)
