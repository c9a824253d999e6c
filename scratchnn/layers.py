"""Layers: the forward pass, and the backward pass written by hand.

Protocol (as in deep-learning-from-scratch's ``common/layers.py``):

* ``build(input_shape, dtype, rng)`` creates ``params`` (name -> array) and zeroed ``grads``
  with the same keys and shapes.  Shapes follow Keras exactly: a Dense kernel is (in, out) and
  its bias (out,), so ``get_weights()`` lines up with ``keras.Model.get_weights()``.
* ``forward(x, training=False)`` returns the output and caches exactly what ``backward`` needs.
* ``backward(dout, need_input_grad=True)`` writes ``dL/dparam`` into ``grads`` (in place, so a
  model may make ``params``/``grads`` views into one flat buffer) and returns ``dL/dx``, or
  None when the caller says it does not need it (``need_input_grad=False``: the model's first
  layer during training, whose input is the data).  It never modifies ``dout`` and never
  recomputes the forward pass.

The formulas are plain NumPy.  Where the engine has a faster way to compute one (same numbers,
bit for bit), the formula is a small function marked ``@fastpath.replaceable`` and the fast
version lives in ``scratchnn/engine/perf.py`` (see :mod:`scratchnn.fastpath`).

Shapes below: N = batch size, D = input features, U = units.
"""

from __future__ import annotations

import math

import numpy as np

from scratchnn import activations as activations_module
from scratchnn import fastpath, initializers
from scratchnn.config import resolve_dtype
from scratchnn.registry import Registry
from scratchnn.seeding import global_rng


class Layer:
    """Base layer.  Subclasses override :meth:`build`, :meth:`forward`, :meth:`backward`,
    :meth:`compute_output_shape` and :meth:`get_config`.

    ``input_shape`` (without the batch axis) may be given, as in Keras's
    ``Flatten(input_shape=(28, 28))``; it tells a ``Sequential`` model its input size.
    """

    _counter: dict[str, int] = {}

    def __init__(self, name: str | None = None, input_shape: tuple[int, ...] | None = None):
        base = type(self).__name__.lower()
        if name is None:
            n = Layer._counter.get(base, 0)
            Layer._counter[base] = n + 1
            name = base if n == 0 else f"{base}_{n}"
        self.name = name
        self.declared_input_shape = None if input_shape is None else tuple(input_shape)
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.built = False
        self.input_shape: tuple[int, ...] | None = None
        self.dtype: np.dtype | None = None

    # -- construction -------------------------------------------------------------------------
    def build(self, input_shape: tuple[int, ...], dtype=None, rng=None) -> None:
        """Create parameters for inputs of shape (N, *input_shape)."""
        self.input_shape = tuple(input_shape)
        self.dtype = resolve_dtype(dtype)
        self.built = True

    def compute_output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(input_shape)

    @property
    def output_shape(self) -> tuple[int, ...]:
        if self.input_shape is None:
            raise ValueError(f"Layer {self.name!r} has not been built yet")
        return self.compute_output_shape(self.input_shape)

    def count_params(self) -> int:
        return int(sum(p.size for p in self.params.values()))

    def get_config(self) -> dict:
        return {"name": self.name}

    # -- computation --------------------------------------------------------------------------
    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dout: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        """Fill ``grads``; return ``dL/dx`` (None allowed when ``need_input_grad`` is False)."""
        raise NotImplementedError

    def __call__(self, x, training: bool = False) -> np.ndarray:
        """Apply the layer, building it on first use from ``x``'s shape."""
        x = np.asarray(x)
        if not self.built:
            dtype = x.dtype if x.dtype in (np.float32, np.float64) else None
            self.build(x.shape[1:], dtype, global_rng())
        return self.forward(x.astype(self.dtype, copy=False), training)

    def _check_input(self, x: np.ndarray) -> None:
        if x.shape[1:] != self.input_shape:
            raise ValueError(
                f"Layer {self.name!r} expects input of shape (batch, "
                f"{', '.join(map(str, self.input_shape))}), got {x.shape}"
            )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


class InputLayer(Layer):
    """Declares the input shape of a ``Sequential`` model; the identity function."""

    def __init__(self, shape: tuple[int, ...], name: str | None = None):
        if isinstance(shape, int):
            shape = (shape,)
        super().__init__(name=name, input_shape=tuple(shape))

    def forward(self, x, training=False):
        return x

    def backward(self, dout, need_input_grad=True):
        return dout

    def get_config(self):
        return {"name": self.name, "shape": list(self.declared_input_shape)}


def Input(shape: tuple[int, ...] | int, name: str | None = None) -> InputLayer:
    """``Input(shape=(784,))`` as the first entry of a ``Sequential`` list, like ``keras.Input``."""
    return InputLayer(shape, name=name)


class Flatten(Layer):
    """Reshape (N, d1, d2, ...) to (N, d1*d2*...); backward reshapes ``dout`` back.

    Forward and backward are views, never copies, when the input is contiguous.
    """

    def compute_output_shape(self, input_shape):
        return (math.prod(input_shape),)

    def forward(self, x, training=False):
        self._check_input(x)
        return x.reshape(x.shape[0], -1)

    def backward(self, dout, need_input_grad=True):
        return dout.reshape((dout.shape[0],) + self.input_shape)

    def get_config(self):
        return {"name": self.name}


class ActivationLayer(Layer):
    """Applies an activation on its own: ``a = f(x)``; backward ``dx = f'(x) * dout``.

    Caches the output ``a`` (and ``x`` too for an activation that ``uses_input``).
    """

    def __init__(self, activation, name: str | None = None, input_shape=None):
        super().__init__(name=name, input_shape=input_shape)
        self.activation = activations_module.get(activation)
        self._a = None
        self._z = None  # cached only for an activation that ``uses_input``

    def forward_logits(self, x, training=False):
        """The pre-activation (the identity here); used by the fused softmax-CE path."""
        self._check_input(x)
        self._a = None
        return x

    def backward_logits(self, dz, need_input_grad=True):
        return dz

    def forward(self, x, training=False):
        self._check_input(x)
        a = self.activation.forward(x)
        self._a = a if training else None
        self._z = x if training and getattr(self.activation, "uses_input", False) else None
        return a

    def backward(self, dout, need_input_grad=True):
        if self._a is None:
            raise RuntimeError(f"{self.name}: backward called without forward(training=True)")
        return activations_module.backward(self.activation, dout, self._a, self._z)

    def get_config(self):
        return {"name": self.name, "activation": activations_module.serialize(self.activation)}


Activation = ActivationLayer  # Keras spells it ``layers.Activation``


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


LAYERS: Registry[Layer] = Registry("layer", base=Layer, spec_key="class_name")
LAYERS.add(InputLayer, "InputLayer")
LAYERS.add(Flatten, "Flatten")
LAYERS.add(ActivationLayer, "Activation")
LAYERS.add(Dense, "Dense")


def serialize(layer: Layer) -> dict:
    """``{"class_name": ..., "config": ...}`` for saving."""
    return LAYERS.serialize(layer)


def deserialize(spec: dict) -> Layer:
    """Inverse of :func:`serialize`."""
    return LAYERS.deserialize(spec)
