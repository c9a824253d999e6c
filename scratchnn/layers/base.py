"""The layer protocol: the forward pass, and the backward pass written by hand.

Protocol (as in deep-learning-from-scratch's ``common/layers.py``):

* ``build(input_shape, dtype, rng)`` creates ``params`` (name -> array: the *trainable*
  weights, which the optimizer updates) and zeroed ``grads`` with the same keys and shapes, and
  ``state`` (name -> array: the *non-trainable* weights, such as BatchNormalization's moving
  statistics, which only ``forward(training=True)`` changes).  Shapes and order follow Keras
  exactly: a Dense kernel is (in, out) and its bias (out,); a layer's ``weights`` are its
  ``params`` then its ``state``, so ``get_weights()`` lines up with
  ``keras.Model.get_weights()``.
* ``forward(x, training=False)`` returns the output and caches exactly what ``backward`` needs.
* ``backward(dout, need_input_grad=True)`` writes ``dL/dparam`` into ``grads`` (in place, so a
  model may make ``params``/``grads`` views into one flat buffer) and returns ``dL/dx``, or
  None when the caller says it does not need it (``need_input_grad=False``: the model's first
  layer during training, whose input is the data).  It never modifies ``dout`` and never
  recomputes the forward pass.
* ``weight_shapes(input_shape)`` gives the shapes ``build`` would create, allocating nothing.
* ``regularization_loss()`` is the penalty this layer adds to the model's loss (0 without
  regularizers; see :mod:`scratchnn.regularizers`): the weight penalties at the current
  weights plus the activity penalty of the last ``forward``.  ``backward`` adds the penalty's
  gradients itself.

The formulas are written against the Python array API standard (``xp = namespace(x)``,
:mod:`scratchnn.backend`): a layer whose weights live in another array library (PyTorch,
CuPy, array-api-strict; see :meth:`Layer.to_namespace`) computes in that library and on its
device, with the same op order, so NumPy's numbers are reproduced within rounding.  Where the
engine has a faster way to compute one (same numbers,
bit for bit), the formula is a small function marked ``@fastpath.replaceable`` and the fast
version lives in ``scratchnn/engine/perf.py`` (see :mod:`scratchnn.fastpath`).

Shapes below: N = batch size, D = input features, U = units.
"""

from __future__ import annotations

import math
import re

import numpy as np

from scratchnn.backend import is_numpy
from scratchnn.config import resolve_dtype
from scratchnn.seeding import global_rng


def snake_case(class_name: str) -> str:
    """Keras's default layer names: ``BatchNormalization`` -> ``batch_normalization``."""
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", class_name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


class Layer:
    """Base layer.  Subclasses override :meth:`build`, :meth:`forward`, :meth:`backward`,
    :meth:`compute_output_shape` and :meth:`get_config`.

    ``input_shape`` (without the batch axis) may be given, as in Keras's
    ``Flatten(input_shape=(28, 28))``; it tells a ``Sequential`` model its input size.
    """

    _counter: dict[str, int] = {}

    def __init__(self, name: str | None = None, input_shape: tuple[int, ...] | None = None):
        base = snake_case(type(self).__name__)
        if name is None:
            n = Layer._counter.get(base, 0)
            Layer._counter[base] = n + 1
            name = base if n == 0 else f"{base}_{n}"
        self.name = name
        self.declared_input_shape = None if input_shape is None else tuple(input_shape)
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        #: Non-trainable weights (updated by ``forward(training=True)``, never by an optimizer).
        self.state: dict[str, np.ndarray] = {}
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

    def weight_shapes(self, input_shape: tuple[int, ...]
                      ) -> tuple[list[tuple[int, ...]], list[tuple[int, ...]]]:
        """``(trainable, non_trainable)``: the shapes :meth:`build` would give ``params`` and
        ``state`` for per-sample ``input_shape``, in order, without allocating anything (a
        model file is checked against them before any array is read).  Raises ``ValueError``
        for an input shape the layer cannot take."""
        return [], []

    @property
    def output_shape(self) -> tuple[int, ...]:
        if self.input_shape is None:
            raise ValueError(f"Layer {self.name!r} has not been built yet")
        return self.compute_output_shape(self.input_shape)

    @property
    def trainable_weights(self) -> list[np.ndarray]:
        """The arrays the optimizer updates (``params``, in order)."""
        return list(self.params.values())

    @property
    def non_trainable_weights(self) -> list[np.ndarray]:
        """The arrays only ``forward(training=True)`` updates (``state``, in order)."""
        return list(self.state.values())

    @property
    def weights(self) -> list[np.ndarray]:
        """Live views of every weight, trainable first (Keras's order)."""
        return self.trainable_weights + self.non_trainable_weights

    def count_params(self) -> int:
        """Trainable and non-trainable weights together, as Keras counts them."""
        return int(sum(math.prod(w.shape) for w in self.weights))

    def regularization_loss(self) -> float:
        """The penalty this layer adds to the loss (none here; see the module docstring)."""
        return 0.0

    def get_config(self) -> dict:
        return {"name": self.name}

    def to_namespace(self, xp, device=None) -> None:
        """Move ``params``, ``grads`` and ``state`` into array namespace ``xp`` (on ``device``
        where the library has devices), as copies: the layer then computes there."""
        for weights in (self.params, self.grads, self.state):
            for key, value in weights.items():
                weights[key] = xp.asarray(value, copy=True, **(
                    {} if device is None else {"device": device}))

    # -- computation --------------------------------------------------------------------------
    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dout: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        """Fill ``grads``; return ``dL/dx`` (None allowed when ``need_input_grad`` is False)."""
        raise NotImplementedError

    def __call__(self, x, training: bool = False) -> np.ndarray:
        """Apply the layer, building it on first use from ``x``'s shape."""
        if not isinstance(x, (list, tuple)) and not is_numpy(x):
            # another array library: the layer lives there already (:meth:`to_namespace`)
            return self.forward(x, training)
        x = np.asarray(x)
        if not self.built:
            dtype = x.dtype if x.dtype in (np.float32, np.float64) else None
            self.build(x.shape[1:], dtype, global_rng())
        return self.forward(x.astype(self.dtype, copy=False), training)

    def _check_input(self, x: np.ndarray) -> None:
        if tuple(x.shape[1:]) != self.input_shape:
            raise ValueError(
                f"Layer {self.name!r} expects input of shape (batch, "
                f"{', '.join(map(str, self.input_shape))}), got {x.shape}"
            )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"
