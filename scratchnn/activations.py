"""Element-wise and row-wise activation functions with their hand-written derivatives.

Each activation is a small stateless object with

* ``forward(z) -> a`` — ``z`` and ``a`` have shape (N, units);
* ``backward(dout, a) -> dz`` — the vector-Jacobian product ``dL/dz`` given ``dL/da = dout``,
  written in terms of the forward *output* ``a`` only, so a layer caches ``a`` and nothing else.

``backward`` never modifies ``dout``.  Calling an activation object applies ``forward``.

The engine may run a faster drop-in for some of these formulas (same numbers, bit for bit; see
:mod:`scratchnn.fastpath` and ``scratchnn/engine/perf.py``): :func:`row_max`, and ReLU applied in
place over a Dense layer's own pre-activation (``scratchnn.layers.Dense.activate``).
"""

from __future__ import annotations

import numpy as np

from scratchnn import fastpath
from scratchnn.registry import Registry


class Activation:
    """Base class: subclasses implement :meth:`forward` and :meth:`backward`."""

    name = "activation"

    def forward(self, z: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dout: np.ndarray, a: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def __call__(self, z: np.ndarray) -> np.ndarray:
        return self.forward(np.asarray(z))

    def __repr__(self) -> str:
        return f"<activation {self.name}>"


class Linear(Activation):
    r"""Identity: :math:`a = z`, :math:`\partial L/\partial z = \partial L/\partial a`."""

    name = "linear"

    def forward(self, z: np.ndarray) -> np.ndarray:
        return z

    def backward(self, dout: np.ndarray, a: np.ndarray) -> np.ndarray:
        return dout


class ReLU(Activation):
    r"""Rectifier: :math:`a = \max(z, 0)`, :math:`dz = dout \cdot [a > 0]`.

    The derivative at exactly 0 is taken as 0.  The backward pass multiplies by the mask, as
    TensorFlow's ``ReluGrad`` kernel does (``gradients * (features > 0)``); that is faster than
    ``np.where`` (see ``docs/performance.md``) and gives the same values (a zeroed negative
    entry is -0.0, which equals 0.0, and a NaN in ``dout`` propagates, as in TensorFlow).
    """

    name = "relu"

    def forward(self, z: np.ndarray) -> np.ndarray:
        return np.maximum(z, 0)

    def backward(self, dout: np.ndarray, a: np.ndarray) -> np.ndarray:
        return dout * (a > 0)


class Sigmoid(Activation):
    r"""Logistic: :math:`a = 1/(1+e^{-z})`, :math:`dz = dout \cdot a(1-a)`.

    Evaluated as :math:`1/(1+e^{-|z|})` or :math:`e^{-|z|}/(1+e^{-|z|})` by sign, so that
    ``exp`` never overflows.
    """

    name = "sigmoid"

    def forward(self, z: np.ndarray) -> np.ndarray:
        e = np.exp(-np.abs(z))
        return np.where(z >= 0, 1 / (1 + e), e / (1 + e)).astype(z.dtype, copy=False)

    def backward(self, dout: np.ndarray, a: np.ndarray) -> np.ndarray:
        return dout * a * (1 - a)


class Tanh(Activation):
    r"""Hyperbolic tangent: :math:`a = \tanh z`, :math:`dz = dout \cdot (1 - a^2)`."""

    name = "tanh"

    def forward(self, z: np.ndarray) -> np.ndarray:
        return np.tanh(z)

    def backward(self, dout: np.ndarray, a: np.ndarray) -> np.ndarray:
        return dout * (1 - a * a)


@fastpath.replaceable("row_max")
def row_max(z: np.ndarray) -> np.ndarray:
    r"""The maximum of each row, :math:`m_i = \max_j z_{ij}`, kept as a column: shape (N, 1)
    for z (N, K) (``keepdims``, so ``z - m`` broadcasts).  NaN in a row gives NaN."""
    return z.max(axis=-1, keepdims=True)


class Softmax(Activation):
    r"""Row-wise softmax over the last axis.

    Forward: :math:`a_{ik} = e^{z_{ik} - m_i} / \sum_j e^{z_{ij} - m_i}` with
    :math:`m_i = \max_j z_{ij}` (subtracting the row max changes nothing but avoids overflow).

    Backward (Jacobian :math:`\partial a_k/\partial z_j = a_k(\delta_{kj} - a_j)`):
    :math:`dz_{ik} = a_{ik}\,(dout_{ik} - \sum_j dout_{ij} a_{ij})`.

    When a softmax output feeds a cross-entropy loss the model skips this Jacobian and uses the
    fused gradient :math:`(a - y)/N` instead (see :mod:`scratchnn.losses`).
    """

    name = "softmax"

    def forward(self, z: np.ndarray) -> np.ndarray:
        e = np.exp(z - row_max(z))
        e /= e.sum(axis=-1, keepdims=True)
        return e

    def backward(self, dout: np.ndarray, a: np.ndarray) -> np.ndarray:
        return a * (dout - np.sum(dout * a, axis=-1, keepdims=True))


linear = Linear()
relu = ReLU()
sigmoid = Sigmoid()
tanh = Tanh()
softmax = Softmax()

ACTIVATIONS: Registry[Activation] = Registry("activation", base=Activation)
for _activation in (linear, relu, sigmoid, tanh, softmax):
    ACTIVATIONS.add(_activation, _activation.name)


def get(identifier: str | Activation | None) -> Activation:
    """Resolve ``None``/'linear', a name ('relu', 'sigmoid', 'tanh', 'softmax') or an object.

    An object is accepted if it has ``forward(z)`` and ``backward(dout, a)`` methods; a plain
    function is rejected because backprop needs its derivative.
    """
    if identifier is None:
        return linear
    if not isinstance(identifier, type) and callable(getattr(identifier, "forward", None)) \
            and callable(getattr(identifier, "backward", None)):
        return identifier  # an Activation, or any object with the same two methods
    if callable(identifier) and not isinstance(identifier, type):
        raise TypeError(
            f"Activation {identifier!r} is a plain function; scratchnn needs its derivative. "
            "Pass a name or an Activation subclass instance with forward(z) and backward(dout, a)."
        )
    return ACTIVATIONS.get(identifier)


def serialize(activation: Activation) -> str:
    """Name under which ``activation`` is saved; custom objects cannot be saved."""
    return ACTIVATIONS.name_of(activation)


def deserialize(name: str) -> Activation:
    """Inverse of :func:`serialize`: the shared activation object named ``name``."""
    return ACTIVATIONS.deserialize(name)
