"""``Dense``: the fully connected layer, and its kernel gradient."""

from __future__ import annotations

import numpy as np

from scratchnn import activations as activations_module
from scratchnn import fastpath, initializers
from scratchnn import regularizers as regularizers_module
from scratchnn.backend import is_numpy, namespace, numpy_dtype
from scratchnn.layers.base import Layer
from scratchnn.seeding import global_rng


@fastpath.replaceable("kernel_gradient")
def kernel_gradient(x: np.ndarray, dz: np.ndarray, out: np.ndarray) -> np.ndarray:
    r"""A Dense kernel's gradient :math:`\partial L/\partial W = x^T dz`, written into ``out``.

    Shapes: x (N, D), dz (N, U), out (D, U); returns ``out``.  Any array-API namespace (the
    fast path is NumPy-only: :meth:`Dense.backward_logits` calls ``.plain`` for the others).
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

    Regularizers (:mod:`scratchnn.regularizers`; names, specs or instances), as in Keras 3:
    :meth:`regularization_loss` is

    .. math:: R_W(W) + R_b(b) + \frac{1}{N} R_a(a)

    with the weights at their current values and :math:`a` (N, U) the output of the last
    ``forward`` (training or inference; Keras divides the activity penalty by the batch size).
    Backward then uses :math:`dout + R_a'(a)/N` (a new array) as :math:`\partial L/\partial a`
    and adds :math:`R_W'(W)` and :math:`R_b'(b)` to the kernel and bias gradients.
    """

    def __init__(self, units: int, activation=None, use_bias: bool = True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
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
        self.kernel_regularizer = regularizers_module.get(kernel_regularizer)
        self.bias_regularizer = regularizers_module.get(bias_regularizer)
        self.activity_regularizer = regularizers_module.get(activity_regularizer)
        self._activity_loss = 0.0  # R_a(a) / N of the last forward
        self._x = None
        self._a = None
        self._z = None

    def weight_shapes(self, input_shape):
        """Kernel (D, U) and bias (U,) for per-sample input (D,)."""
        if len(input_shape) != 1:
            raise ValueError(
                f"Dense needs 1-D input per sample, i.e. 2-D batches (batch, features); layer "
                f"{self.name!r} gets per-sample shape {tuple(input_shape)}: add a Flatten layer "
                f"before it"
            )
        return [(input_shape[0], self.units)] + ([(self.units,)] if self.use_bias else []), []

    def build(self, input_shape, dtype=None, rng=None):
        super().build(input_shape, dtype, rng)
        self.weight_shapes(self.input_shape)  # checks the input is 1-D per sample
        rng = global_rng() if rng is None else rng
        fan_in = self.input_shape[0]
        self.params = {"kernel": self.kernel_initializer((fan_in, self.units), self.dtype, rng)}
        if self.use_bias:
            self.params["bias"] = self.bias_initializer((self.units,), self.dtype, rng)
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    def compute_output_shape(self, input_shape):
        return (self.units,)

    def forward_logits(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """The affine part only, ``z = xW + b`` (N, U); caches ``x`` for :meth:`backward_logits`.

        Not available with an ``activity_regularizer``: its penalty needs the output
        ``a = f(z)``, which only :meth:`forward` computes (a softmax + cross-entropy head must
        then run the layer as a whole)."""
        if self.activity_regularizer is not None:
            raise RuntimeError(
                f"{self.name}: forward_logits skips the activation, but the activity_regularizer "
                "needs the layer's output; use forward()")
        return self._affine(x, training)

    def _affine(self, x: np.ndarray, training: bool) -> np.ndarray:
        """``z = xW + b`` (N, U); caches ``x`` in training."""
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
        dL/dW = x^T dz + R_W'(W) (D, U) and dL/db = sum_n dz_n + R_b'(b) (U,) (the weight
        penalties' terms only with regularizers); returns dL/dx = dz W^T (N, D), or None when
        ``need_input_grad`` is False."""
        if self._x is None:
            raise RuntimeError(f"{self.name}: backward called without forward(training=True)")
        numpy = is_numpy(dz)
        gradient = kernel_gradient if numpy else kernel_gradient.plain
        gradient(self._x, dz, out=self.grads["kernel"])
        if self.kernel_regularizer is not None:
            self.grads["kernel"] += self.kernel_regularizer.gradient(self.params["kernel"])
        if self.use_bias:
            if numpy:
                np.sum(dz, axis=0, out=self.grads["bias"])
            else:
                self.grads["bias"][...] = namespace(dz).sum(dz, axis=0)
            if self.bias_regularizer is not None:
                self.grads["bias"] += self.bias_regularizer.gradient(self.params["bias"])
        if not need_input_grad:
            return None
        return dz @ self.params["kernel"].T

    def forward(self, x, training=False):
        z = self._affine(x, training)
        a = self.activate(z) if is_numpy(z) else self.activation.forward(z)
        self._a = a if training else None
        self._z = z if training and getattr(self.activation, "uses_input", False) else None
        if self.activity_regularizer is not None:
            self._activity_loss = self._activity_penalty(a)
        return a

    def _activity_penalty(self, a: np.ndarray) -> float:
        """:math:`R_a(a) / N` for the output a (N, U), N cast to a's dtype (Keras's
        ``divide_no_nan(loss, batch_size)``: 0 for an empty batch)."""
        dtype = numpy_dtype(a)
        if a.shape[0] == 0:
            return 0.0
        penalty = np.asarray(self.activity_regularizer(a), dtype=dtype)
        return float(penalty / np.asarray(a.shape[0], dtype=dtype))

    def regularization_loss(self) -> float:
        """:math:`R_W(W) + R_b(b) + R_a(a)/N` (0.0 without regularizers); see the class."""
        total = 0.0
        if self.kernel_regularizer is not None:
            total += self.kernel_regularizer(self.params["kernel"])
        if self.bias_regularizer is not None and self.use_bias:
            total += self.bias_regularizer(self.params["bias"])
        if self.activity_regularizer is not None:
            total += self._activity_loss
        return total

    @fastpath.replaceable("Dense.activate")
    def activate(self, z: np.ndarray) -> np.ndarray:
        """:math:`a = f(z)` (N, U) for this layer's own, freshly computed pre-activation ``z``
        (so a fast path may overwrite ``z`` in place instead of allocating ``a``)."""
        return self.activation.forward(z)

    def backward(self, dout, need_input_grad=True):
        if self._a is None:
            raise RuntimeError(f"{self.name}: backward called without forward(training=True)")
        if self.activity_regularizer is not None:
            dout = dout + self._activity_gradient(self._a)  # a new array: dout is not touched
        dz = activations_module.backward(self.activation, dout, self._a, self._z)
        return self.backward_logits(dz, need_input_grad)

    def _activity_gradient(self, a: np.ndarray) -> np.ndarray:
        r""":math:`\partial (R_a(a)/N) / \partial a = R_a'(a) / N`, shape (N, U)."""
        return self.activity_regularizer.gradient(a) / float(numpy_dtype(a).type(a.shape[0]))

    def get_config(self):
        config = {
            "name": self.name,
            "units": self.units,
            "activation": activations_module.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
        }
        for key in ("kernel_regularizer", "bias_regularizer", "activity_regularizer"):
            regularizer = getattr(self, key)
            if regularizer is not None:  # a layer without one is described as before
                config[key] = regularizers_module.serialize(regularizer)
        return config
