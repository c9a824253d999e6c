"""``Dense``: the fully connected layer, and its kernel gradient."""

from __future__ import annotations

import numpy as np

from scratchnn import activations as activations_module
from scratchnn import fastpath, initializers
from scratchnn.layers.base import Layer
from scratchnn.seeding import global_rng


@fastpath.replaceable("kernel_gradient")
def kernel_gradient(x: np.ndarray, dz: np.ndarray, out: np.ndarray) -> np.ndarray:
    r"""A Dense kernel's gradient :math:`\partial L/\partial W = x^T dz`, written into ``out``.

    Shapes: x (N, D), dz (N, U), out (D, U); returns ``out``.
    """
    out[...] = x.T @ dz
    return out


class Dense(Layer):
    r"""Fully connected layer: ``a = f(x W + b)``.

    Shapes: x (N, D), kernel W (D, U), bias b (U,), output a (N, U).

    Forward: :math:`z = xW + b`, :math:`a = f(z)`.  Caches ``x`` and ``a``.

    Backward, given :math:`dout = \partial L/\partial a` (N, U):

    * :math:`dz = f'(z) \odot dout` (computed from ``a`` by the activation),
    * :math:`\partial L/\partial W = x^T dz` (D, U),
    * :math:`\partial L/\partial b = \sum_n dz_n` (U,),
    * :math:`\partial L/\partial x = dz\, W^T` (N, D).

    The loss is a batch mean, so ``dout`` already carries the 1/N factor.  With
    ``need_input_grad=False`` (the model passes it to its first layer during training) the
    (N, D) input gradient nobody needs is skipped and None returned.
    """

    def __init__(self, units: int, activation=None, use_bias: bool = True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 name: str | None = None, input_shape=None, input_dim: int | None = None):
        if input_dim is not None and input_shape is None:
            input_shape = (input_dim,)
        super().__init__(name=name, input_shape=input_shape)
        if not isinstance(units, (int, np.integer)) or isinstance(units, bool) or units < 1:
            raise ValueError(f"Dense units must be a positive integer, got {units!r}")
        self.units = int(units)
        self.activation = activations_module.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self._x = None
        self._a = None
        self._z = None

    def build(self, input_shape, dtype=None, rng=None):
        super().build(input_shape, dtype, rng)
        if len(self.input_shape) != 1:
            raise ValueError(
                f"Dense layer {self.name!r} expects 2-D input (batch, features), got per-sample "
                f"shape {self.input_shape}; add a Flatten layer before it"
            )
        rng = global_rng() if rng is None else rng
        fan_in = self.input_shape[0]
        self.params = {"kernel": self.kernel_initializer((fan_in, self.units), self.dtype, rng)}
        if self.use_bias:
            self.params["bias"] = self.bias_initializer((self.units,), self.dtype, rng)
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    def compute_output_shape(self, input_shape):
        return (self.units,)

    def forward_logits(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """The affine part only, ``z = xW + b`` (N, U); caches ``x`` for :meth:`backward_logits`."""
        self._check_input(x)
        z = x @ self.params["kernel"]
        if self.use_bias:
            z += self.params["bias"]
        self._x = x if training else None
        self._a = None
        return z

    def backward_logits(self, dz: np.ndarray, need_input_grad: bool = True
                        ) -> np.ndarray | None:
        """Backward through ``z = xW + b`` given ``dz`` (N, U): fills ``grads`` with
        dL/dW = x^T dz (D, U) and dL/db = sum_n dz_n (U,); returns dL/dx = dz W^T (N, D), or
        None when ``need_input_grad`` is False."""
        if self._x is None:
            raise RuntimeError(f"{self.name}: backward called without forward(training=True)")
        kernel_gradient(self._x, dz, out=self.grads["kernel"])
        if self.use_bias:
            np.sum(dz, axis=0, out=self.grads["bias"])
        if not need_input_grad:
            return None
        return dz @ self.params["kernel"].T

    def forward(self, x, training=False):
        z = self.forward_logits(x, training)
        a = self.activate(z)
        self._a = a if training else None
        self._z = z if training and getattr(self.activation, "uses_input", False) else None
        return a

    @fastpath.replaceable("Dense.activate")
    def activate(self, z: np.ndarray) -> np.ndarray:
        """:math:`a = f(z)` (N, U) for this layer's own, freshly computed pre-activation ``z``
        (so a fast path may overwrite ``z`` in place instead of allocating ``a``)."""
        return self.activation.forward(z)

    def backward(self, dout, need_input_grad=True):
        if self._a is None:
            raise RuntimeError(f"{self.name}: backward called without forward(training=True)")
        dz = activations_module.backward(self.activation, dout, self._a, self._z)
        return self.backward_logits(dz, need_input_grad)

    def get_config(self):
        return {
            "name": self.name,
            "units": self.units,
            "activation": activations_module.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
        }
