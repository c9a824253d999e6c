r"""``Dropout``: inverted dropout, TensorFlow's formula and op order."""

from __future__ import annotations

import numpy as np

from scratchnn.arguments import check_real
from scratchnn.backend import is_numpy, namespace, numpy_dtype
from scratchnn.layers.base import Layer
from scratchnn.seeding import global_rng


class Dropout(Layer):
    r"""Inverted dropout (Keras 3's ``Dropout``).

    Training (``forward(x, training=True)``), with rate :math:`r \in [0, 1)` and
    :math:`u \sim U[0, 1)` of shape ``noise_shape`` (default: x's shape (N, ...); a ``None``
    entry means x's size there, a 1 broadcasts), in TensorFlow's op order
    (``tf.nn.experimental.stateless_dropout``):

    .. math:: m = [u \ge r], \qquad y = \mathrm{where}(m,\; x \cdot s,\; 0),
              \qquad s = 1/(1 - r)

    (:math:`s` computed in Python float64, then rounded to x's dtype, as TF converts it).
    Backward: :math:`\partial L/\partial x = \mathrm{where}(m, dout, 0) \cdot s`, from the cached
    mask only.  Inference (``training=False``) and :math:`r = 0` are the identity, as in Keras.

    ``u`` comes from :func:`scratchnn.seeding.global_rng` (so one global seed makes every mask
    reproducible), or, when ``seed`` is given, from the layer's own generator.  ``mask`` is the
    (read-only) mask of the last training forward; set ``fixed_mask`` (a boolean array
    broadcastable to x) to use it instead of drawing one (gradient checks, TF parity).

    On any array-API namespace: the mask is drawn with NumPy (so one seed gives the same mask
    on every backend; ``mask`` stays NumPy) and converted to x's namespace and device.
    """

    def __init__(self, rate: float, noise_shape: tuple[int, ...] | None = None,
                 seed: int | None = None, name: str | None = None,
                 input_shape: tuple[int, ...] | None = None):
        super().__init__(name=name, input_shape=input_shape)
        self.rate = check_real(rate, "Dropout rate", 0.0, 1.0, high_open=True)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed
        self._rng = None if seed is None else np.random.default_rng(seed)
        self.fixed_mask: np.ndarray | None = None
        self._mask: np.ndarray | None = None  # NumPy
        self._keep = None  # the mask in x's namespace and on its device
        self._scale = None

    @property
    def mask(self) -> np.ndarray | None:
        """The keep mask (boolean, ``noise_shape``) of the last training forward, read-only."""
        if self._mask is None:
            return None
        view = self._mask.view()
        view.flags.writeable = False
        return view

    def _mask_shape(self, x: np.ndarray) -> tuple[int, ...]:
        if self.noise_shape is None:
            return x.shape
        return tuple(x.shape[i] if n is None else int(n) for i, n in enumerate(self.noise_shape))

    def _draw_mask(self, x: np.ndarray) -> np.ndarray:
        """:math:`m = [u \\ge r]`, u uniform on [0, 1) in x's dtype (or ``fixed_mask``)."""
        if self.fixed_mask is not None:
            return np.broadcast_to(np.asarray(self.fixed_mask, dtype=bool), x.shape)
        rng = global_rng() if self._rng is None else self._rng
        return rng.random(self._mask_shape(x), dtype=numpy_dtype(x)) >= self.rate

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        self._check_input(x)
        if not training or self.rate == 0.0:
            self._mask = self._keep = None
            return x
        self._mask = self._draw_mask(x)
        if is_numpy(x):
            self._scale, self._keep = x.dtype.type(1 / (1 - self.rate)), self._mask
            return np.where(self._keep, x * self._scale, x.dtype.type(0))
        self._scale = float(numpy_dtype(x).type(1 / (1 - self.rate)))
        xp = namespace(x)
        self._keep = xp.asarray(np.array(self._mask), device=_device(x))  # a writable copy
        return xp.where(self._keep, x * self._scale, 0.0)

    def backward(self, dout: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        if self.rate == 0.0:
            return dout
        if self._mask is None:
            raise RuntimeError(f"{self.name}: backward called without forward(training=True)")
        if is_numpy(dout):
            return np.where(self._keep, dout, dout.dtype.type(0)) * self._scale
        return namespace(dout).where(self._keep, dout, 0.0) * self._scale

    def get_config(self) -> dict:
        return {"name": self.name, "rate": self.rate, "noise_shape": self.noise_shape,
                "seed": self.seed}


def _device(x):
    """The device of array ``x`` (array-api-compat's ``device``)."""
    import array_api_compat  # only needed for other array libraries

    return array_api_compat.device(x)
