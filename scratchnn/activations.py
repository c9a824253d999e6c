"""Element-wise and row-wise activation functions with their hand-written derivatives.

Every formula takes its array namespace from its input (``xp = namespace(z)``,
:mod:`scratchnn.backend`), so it runs unchanged on NumPy, PyTorch, CuPy or array-api-strict
arrays and returns an array of the same library.

Each activation is a small stateless object with

* ``forward(z) -> a`` — ``z`` and ``a`` have shape (N, units);
* ``backward(dout, a) -> dz`` — the vector-Jacobian product ``dL/dz`` given ``dL/da = dout``,
  written in terms of the forward *output* ``a`` only, so a layer caches ``a`` and nothing else;
  an activation whose derivative is no function of ``a`` (SiLU, hard SiLU, mish, GELU) sets
  ``uses_input = True`` and takes ``backward(dout, a, z)``; layers call :func:`backward`, which
  passes ``z`` only to those (and only for those do they cache it).

``backward`` never modifies ``dout``.  Calling an activation object applies ``forward``.

The engine may run a faster drop-in for some of these formulas (same numbers, bit for bit; see
:mod:`scratchnn.fastpath` and ``scratchnn/engine/perf.py``): :func:`row_max`, and ReLU applied in
place over a Dense layer's own pre-activation (``scratchnn.layers.Dense.activate``).
"""

from __future__ import annotations

import math

import numpy as np

from scratchnn import fastpath
from scratchnn.backend import is_numpy, namespace, to_numpy
from scratchnn.registry import Registry


class Activation:
    """Base class: subclasses implement :meth:`forward` and :meth:`backward`."""

    name = "activation"
    #: True when ``backward`` needs the pre-activation too: ``backward(dout, a, z)`` (for an
    #: ``f`` that is not invertible, such as SiLU, whose derivative is no function of ``a``).
    uses_input = False

    def forward(self, z: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dout: np.ndarray, a: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def get_config(self) -> dict:
        """The constructor arguments (empty for activations without parameters)."""
        return {}

    def __call__(self, z: np.ndarray, **config) -> np.ndarray:
        """``f(z)``; keyword arguments build a configured copy first, as Keras's functions take
        them (``elu(z, alpha=0.5)``, ``gelu(z, approximate=True)``)."""
        activation = type(self)(**config) if config else self
        return activation.forward(np.asarray(z) if is_numpy(z) or isinstance(z, (list, tuple))
                                  else z)

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
        return namespace(z).maximum(z, 0)

    def backward(self, dout: np.ndarray, a: np.ndarray) -> np.ndarray:
        return dout * _mask(a > 0, dout)


class Sigmoid(Activation):
    r"""Logistic: :math:`a = 1/(1+e^{-z})`, :math:`dz = dout \cdot a(1-a)`.

    Evaluated as :math:`1/(1+e^{-|z|})` or :math:`e^{-|z|}/(1+e^{-|z|})` by sign, so that
    ``exp`` never overflows.
    """

    name = "sigmoid"

    def forward(self, z: np.ndarray) -> np.ndarray:
        xp = namespace(z)
        e = xp.exp(-xp.abs(z))
        return xp.astype(xp.where(z >= 0, 1 / (1 + e), e / (1 + e)), z.dtype, copy=False)

    def backward(self, dout: np.ndarray, a: np.ndarray) -> np.ndarray:
        return dout * a * (1 - a)


class Tanh(Activation):
    r"""Hyperbolic tangent: :math:`a = \tanh z`, :math:`dz = dout \cdot (1 - a^2)`."""

    name = "tanh"

    def forward(self, z: np.ndarray) -> np.ndarray:
        return namespace(z).tanh(z)

    def backward(self, dout: np.ndarray, a: np.ndarray) -> np.ndarray:
        return dout * (1 - a * a)


@fastpath.replaceable("row_max")
def row_max(z: np.ndarray) -> np.ndarray:
    r"""The maximum of each row, :math:`m_i = \max_j z_{ij}`, kept as a column: shape (N, 1)
    for z (N, K) (``keepdims``, so ``z - m`` broadcasts).  NaN in a row gives NaN."""
    return namespace(z).max(z, axis=-1, keepdims=True)


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
        xp = namespace(z)
        e = xp.exp(z - row_max(z))
        e /= xp.sum(e, axis=-1, keepdims=True)
        return e

    def backward(self, dout: np.ndarray, a: np.ndarray) -> np.ndarray:
        return a * (dout - namespace(a).sum(dout * a, axis=-1, keepdims=True))


def _softplus(z: np.ndarray) -> np.ndarray:
    r""":math:`\log(1+e^z) = \max(z, 0) + \log(1 + e^{-|z|})`: ``exp`` never overflows."""
    xp = namespace(z)
    return xp.maximum(z, 0) + xp.log1p(xp.exp(-xp.abs(z)))


def _mask(condition, like):
    """A boolean ``condition`` ready to multiply ``like`` by: NumPy multiplies by bools directly
    (same values as 0/1, one pass less); the array API standard wants ``like``'s dtype."""
    if is_numpy(condition):
        return condition
    return namespace(like).astype(condition, like.dtype)


def _erfc(x: np.ndarray) -> np.ndarray:
    """The complementary error function element-wise, computed in float64 and returned in
    ``x``'s dtype and namespace.

    Neither NumPy nor the array API standard has ``erfc``, so it is Python's ``math.erfc`` per
    element, on the host: an array of another library (a GPU array too) is copied to NumPy and
    the result copied back -- the same numbers on every backend, at the price of a round trip.
    """
    if not is_numpy(x):
        import array_api_compat  # only needed for other array libraries

        values = _erfc(to_numpy(x))
        return namespace(x).asarray(values, device=array_api_compat.device(x))
    values = _ERFC(np.asarray(x, dtype=np.float64)).astype(np.float64)
    return values.astype(np.result_type(x), copy=False)


_ERFC = np.frompyfunc(math.erfc, 1, 1)


class ELU(Activation):
    r"""Exponential linear unit (Keras ``elu``), :math:`\alpha = 1` by default.

    Forward: :math:`a = z` for :math:`z > 0`, :math:`a = \alpha(e^z - 1)` otherwise (``expm1``
    of :math:`\min(z, 0)`, so the unused branch never overflows).

    Backward from the output: :math:`f'(z) = 1` where :math:`a \ge 0`, and
    :math:`\alpha e^z = a + \alpha` where :math:`a < 0` (TF's ``EluGrad`` convention at 0).
    """

    name = "elu"

    def __init__(self, alpha: float = 1.0):
        if not alpha > 0:
            raise ValueError(f"ELU needs alpha > 0 (its derivative is read from a), got {alpha}")
        self.alpha = float(alpha)

    def get_config(self) -> dict:
        return {"alpha": self.alpha}

    def forward(self, z: np.ndarray) -> np.ndarray:
        xp = namespace(z)
        negative = xp.expm1(xp.minimum(z, 0))
        if self.alpha != 1:
            negative = self.alpha * negative
        return xp.astype(xp.where(z > 0, z, negative), z.dtype, copy=False)

    def backward(self, dout: np.ndarray, a: np.ndarray) -> np.ndarray:
        return namespace(a).where(a < 0, dout * (a + self.alpha), dout)


class SELU(ELU):
    r"""Scaled ELU (Klambauer et al. 2017): :math:`a = \lambda z` for :math:`z > 0`,
    :math:`a = \lambda\alpha(e^z - 1)` otherwise, with :math:`\alpha \approx 1.6733`,
    :math:`\lambda \approx 1.0507` (Keras's constants).

    Backward from the output: :math:`f'(z) = \lambda` where :math:`a \ge 0`, and
    :math:`\lambda\alpha e^z = a + \lambda\alpha` where :math:`a < 0`.
    """

    name = "selu"
    ALPHA = 1.6732632423543772848170429916717
    SCALE = 1.0507009873554804934193349852946

    def __init__(self):
        self.alpha = self.ALPHA

    def get_config(self) -> dict:
        return {}

    def forward(self, z: np.ndarray) -> np.ndarray:
        xp = namespace(z)
        negative = (self.SCALE * self.ALPHA) * xp.expm1(xp.minimum(z, 0))
        return xp.astype(xp.where(z > 0, self.SCALE * z, negative), z.dtype, copy=False)

    def backward(self, dout: np.ndarray, a: np.ndarray) -> np.ndarray:
        return namespace(a).where(a < 0, dout * (a + self.SCALE * self.ALPHA),
                                  dout * self.SCALE)


class GELU(Activation):
    r"""Gaussian error linear unit, :math:`a = z\,\Phi(z)` (Keras's string 'gelu' is exact).

    Exact: :math:`\Phi(z) = \tfrac12\operatorname{erfc}(-z/\sqrt2)`,
    :math:`f'(z) = \Phi(z) + z\,\varphi(z)`, :math:`\varphi(z) = e^{-z^2/2}/\sqrt{2\pi}`.

    ``approximate=True``: :math:`a = \tfrac12 z(1 + t)`, :math:`t = \tanh u`,
    :math:`u = c(z + k z^3)`, :math:`c = \sqrt{2/\pi}`, :math:`k = 0.044715`;
    :math:`f'(z) = \tfrac12(1 + t) + \tfrac12 z (1 - t^2)\,c\,(1 + 3k z^2)`.
    The derivative is no function of ``a``, so backward takes ``z`` (``uses_input``).

    ``erfc`` is Python's ``math.erfc`` (neither NumPy nor the array API standard has one),
    element by element in float64, on the host for arrays of other libraries.  A
    deliberate difference: TensorFlow's CPU ``tf.nn.gelu(approximate=False)`` differs from
    :math:`z\Phi(z)` by up to about 4e-9 in float64 (``Phi(1)`` = 0.84134474606854295 exactly;
    TF gives 0.84134474192739), so float64 parity for the exact form holds to about 1e-8 only.
    """

    name = "gelu"
    uses_input = True
    C = 0.7978845608028654  # sqrt(2 / pi)
    K = 0.044715

    def __init__(self, approximate: bool = False):
        self.approximate = bool(approximate)

    def get_config(self) -> dict:
        return {"approximate": self.approximate}

    def forward(self, z: np.ndarray) -> np.ndarray:
        if self.approximate:
            return 0.5 * z * (1 + namespace(z).tanh(self.C * (z + self.K * z ** 3)))
        return 0.5 * z * _erfc(-z * 0.7071067811865476)

    def backward(self, dout: np.ndarray, a: np.ndarray, z: np.ndarray) -> np.ndarray:
        xp = namespace(z)
        if self.approximate:
            t = xp.tanh(self.C * (z + self.K * z ** 3))
            slope = 0.5 * (1 + t) + 0.5 * z * (1 - t * t) * self.C * (1 + 3 * self.K * z * z)
        else:
            pdf = xp.exp(-0.5 * z * z) * 0.3989422804014327  # 1 / sqrt(2 pi)
            slope = 0.5 * _erfc(-z * 0.7071067811865476) + z * pdf
        return dout * slope


class Softplus(Activation):
    r"""Softplus: :math:`a = \log(1 + e^z)`, evaluated as :math:`\max(z,0) + \log(1+e^{-|z|})`.

    Backward from the output: :math:`f'(z) = \sigma(z) = 1 - e^{-a}` (since :math:`e^a = 1+e^z`),
    computed as ``-expm1(-a)``, accurate also for tiny ``a``.
    """

    name = "softplus"

    def forward(self, z: np.ndarray) -> np.ndarray:
        return _softplus(z)

    def backward(self, dout: np.ndarray, a: np.ndarray) -> np.ndarray:
        return dout * -namespace(a).expm1(-a)


class Softsign(Activation):
    r"""Softsign: :math:`a = z / (1 + |z|)`.

    Backward from the output: :math:`1 - |a| = 1/(1+|z|)`, so :math:`f'(z) = 1/(1+|z|)^2 =
    (1 - |a|)^2`.
    """

    name = "softsign"

    def forward(self, z: np.ndarray) -> np.ndarray:
        return z / (1 + namespace(z).abs(z))

    def backward(self, dout: np.ndarray, a: np.ndarray) -> np.ndarray:
        r = 1 - namespace(a).abs(a)
        return dout * (r * r)


class SiLU(Activation):
    r"""SiLU / swish: :math:`a = z\,\sigma(z)`;
    :math:`f'(z) = \sigma(z) + z\sigma(z)(1-\sigma(z)) = \sigma(z)\,(1 + z(1 - \sigma(z)))`.

    Not monotone, so backward takes ``z`` (``uses_input``).
    """

    name = "silu"
    uses_input = True

    def forward(self, z: np.ndarray) -> np.ndarray:
        return z * sigmoid.forward(z)

    def backward(self, dout: np.ndarray, a: np.ndarray, z: np.ndarray) -> np.ndarray:
        s = sigmoid.forward(z)
        return dout * (s * (1 + z * (1 - s)))


class LeakyReLU(Activation):
    r"""Leaky rectifier: :math:`a = z` for :math:`z > 0`, :math:`a = s z` otherwise; Keras 3's
    default slope :math:`s = 0.2`.  :math:`f'(z) = [a > 0] + s[a \le 0]` (for :math:`s \ge 0`,
    :math:`a > 0 \iff z > 0`; 0 counts as negative, as TF's ``LeakyReluGrad``).

    As in TensorFlow (whose ``LeakyRelu`` takes ``alpha`` as a float32 attribute), :math:`s` is
    rounded to float32 first, so float64 results equal Keras's (0.2 becomes 0.20000000298...).
    """

    name = "leaky_relu"

    def __init__(self, negative_slope: float = 0.2):
        if not negative_slope >= 0:
            raise ValueError(f"leaky_relu needs negative_slope >= 0, got {negative_slope}")
        self.negative_slope = float(negative_slope)
        self._slope = float(np.float32(negative_slope))  # TF's float32 attribute

    def get_config(self) -> dict:
        return {"negative_slope": self.negative_slope}

    def forward(self, z: np.ndarray) -> np.ndarray:
        xp = namespace(z)
        return xp.astype(xp.where(z > 0, z, z * self._slope), z.dtype, copy=False)

    def backward(self, dout: np.ndarray, a: np.ndarray) -> np.ndarray:
        return namespace(a).where(a > 0, dout, dout * self._slope)


class ReLU6(Activation):
    r"""ReLU capped at 6: :math:`a = \min(\max(z, 0), 6)`, :math:`f'(z) = [0 < a < 6]`
    (0 at both kinks, as TF's ``Relu6Grad``)."""

    name = "relu6"

    def forward(self, z: np.ndarray) -> np.ndarray:
        xp = namespace(z)
        return xp.minimum(xp.maximum(z, 0), 6)

    def backward(self, dout: np.ndarray, a: np.ndarray) -> np.ndarray:
        return dout * _mask((a > 0) & (a < 6), dout)


class HardSigmoid(Activation):
    r"""Keras 3's hard sigmoid: :math:`a = \mathrm{relu6}(z + 3)/6`, i.e. 0 below -3, 1 above
    3, :math:`z/6 + 1/2` between; :math:`f'(z) = [0 < a < 1]/6`."""

    name = "hard_sigmoid"

    def forward(self, z: np.ndarray) -> np.ndarray:
        xp = namespace(z)
        return xp.minimum(xp.maximum(z + 3, 0), 6) / 6

    def backward(self, dout: np.ndarray, a: np.ndarray) -> np.ndarray:
        return dout * _mask((a > 0) & (a < 1), dout) / 6


class HardSiLU(Activation):
    r"""Hard SiLU / hard swish: :math:`a = z\,h(z)` with :math:`h` the hard sigmoid;
    :math:`f'(z) = h(z) + z\,[-3 < z < 3]/6`.  Not monotone: backward takes ``z``."""

    name = "hard_silu"
    uses_input = True

    def forward(self, z: np.ndarray) -> np.ndarray:
        return z * hard_sigmoid.forward(z)

    def backward(self, dout: np.ndarray, a: np.ndarray, z: np.ndarray) -> np.ndarray:
        h = hard_sigmoid.forward(z)
        return dout * (h + z * _mask((h > 0) & (h < 1), z) / 6)


class Exponential(Activation):
    r""":math:`a = e^z`, :math:`f'(z) = e^z = a`."""

    name = "exponential"

    def forward(self, z: np.ndarray) -> np.ndarray:
        return namespace(z).exp(z)

    def backward(self, dout: np.ndarray, a: np.ndarray) -> np.ndarray:
        return dout * a


class Mish(Activation):
    r"""Mish (Misra 2019): :math:`a = z\tanh(\mathrm{softplus}(z))`.  With
    :math:`t = \tanh(\mathrm{softplus}(z))` and :math:`\mathrm{softplus}' = \sigma`:
    :math:`f'(z) = t + z(1 - t^2)\,\sigma(z)`.  Not monotone: backward takes ``z``."""

    name = "mish"
    uses_input = True

    def forward(self, z: np.ndarray) -> np.ndarray:
        return z * namespace(z).tanh(_softplus(z))

    def backward(self, dout: np.ndarray, a: np.ndarray, z: np.ndarray) -> np.ndarray:
        t = namespace(z).tanh(_softplus(z))
        return dout * (t + z * (1 - t * t) * sigmoid.forward(z))


class LogSoftmax(Activation):
    r"""Row-wise log-softmax over the last axis:
    :math:`a_{ik} = z_{ik} - m_i - \log\sum_j e^{z_{ij} - m_i}`, :math:`m_i = \max_j z_{ij}`.

    Backward: :math:`\partial a_k/\partial z_j = \delta_{kj} - p_j` with :math:`p = e^a` the
    softmax, so :math:`dz_{ij} = dout_{ij} - e^{a_{ij}} \sum_k dout_{ik}`.
    """

    name = "log_softmax"

    def forward(self, z: np.ndarray) -> np.ndarray:
        xp = namespace(z)
        shifted = z - row_max(z)
        return shifted - xp.log(xp.sum(xp.exp(shifted), axis=-1, keepdims=True))

    def backward(self, dout: np.ndarray, a: np.ndarray) -> np.ndarray:
        xp = namespace(a)
        return dout - xp.exp(a) * xp.sum(dout, axis=-1, keepdims=True)


linear = Linear()
relu = ReLU()
sigmoid = Sigmoid()
tanh = Tanh()
softmax = Softmax()
elu = ELU()
selu = SELU()
gelu = GELU()
softplus = Softplus()
softsign = Softsign()
silu = SiLU()
swish = silu
leaky_relu = LeakyReLU()
relu6 = ReLU6()
hard_sigmoid = HardSigmoid()
hard_silu = HardSiLU()
hard_swish = hard_silu
exponential = Exponential()
mish = Mish()
log_softmax = LogSoftmax()

ACTIVATIONS: Registry[Activation] = Registry("activation", base=Activation)
for _activation in (linear, relu, sigmoid, tanh, softmax, elu, selu, gelu, softplus, softsign,
                    leaky_relu, relu6, hard_sigmoid, exponential, mish, log_softmax):
    ACTIVATIONS.add(_activation, _activation.name)
ACTIVATIONS.add(silu, "silu", "swish")
ACTIVATIONS.add(hard_silu, "hard_silu", "hard_swish")


def backward(activation, dout: np.ndarray, a: np.ndarray, z: np.ndarray | None) -> np.ndarray:
    """``activation``'s backward pass: ``backward(dout, a, z)`` when it ``uses_input``, else
    ``backward(dout, a)`` (a layer caches ``z`` only for the former)."""
    if getattr(activation, "uses_input", False):
        return activation.backward(dout, a, z)
    return activation.backward(dout, a)


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
    """Name under which ``activation`` is saved; custom objects, and built-in ones configured
    differently from their registered object (``ELU(alpha=0.5)``), cannot be saved."""
    name = ACTIVATIONS.name_of(activation)
    registered = ACTIVATIONS.deserialize(name)
    if registered is not activation and registered.get_config() != activation.get_config():
        raise ValueError(f"activation {activation!r} with {activation.get_config()} cannot be "
                         f"saved by name: {name!r} means {registered.get_config()}")
    return name


def deserialize(name: str) -> Activation:
    """Inverse of :func:`serialize`: the shared activation object named ``name``."""
    return ACTIVATIONS.deserialize(name)
