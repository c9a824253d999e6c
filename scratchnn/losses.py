r"""Losses with Keras 3 semantics.  Every loss is the **batch mean** of a per-sample loss.

Protocol: ``forward(y_true, y_pred, sample_weight=None) -> float`` caches what ``backward``
needs; ``backward() -> dL/dy_pred`` (same shape as ``y_pred``, already divided by N).  Calling a
loss object returns ``forward``.  Each loss writes its per-sample formula
(:meth:`Loss.sample_losses`) and the gradient of their mean (:meth:`Loss.mean_gradient`); the
base class reduces, with Keras's sample weighting.  Shapes: N samples, K classes.

Every formula takes its array namespace from ``y_pred`` (:func:`scratchnn.backend.namespace`),
so the same code runs on NumPy, PyTorch, CuPy or array-api-strict arrays; targets and sample
weights given as NumPy are moved to ``y_pred``'s namespace and device.  The loss value is a
Python float; gradients come back in ``y_pred``'s namespace.

Cross-entropy on probabilities (``from_logits=False``) reproduces Keras exactly:

* categorical: :math:`q = p / \sum_k p_k` (renormalize), :math:`\hat q = clip(q, \epsilon,
  1-\epsilon)`, :math:`\ell_i = -\sum_k y_{ik}\log \hat q_{ik}`;
* sparse: :math:`\hat p = clip(p, \epsilon, 1-\epsilon)`, :math:`\ell_i = -\log \hat p_{i,y_i} +
  \log\sum_k \hat p_{ik}` (Keras clips, takes logs and feeds them to a softmax-CE as logits, which
  amounts to renormalizing *after* clipping);

with :math:`\epsilon = 10^{-7}`.  Gradients flow only through unclipped entries, as through
``tf.clip_by_value``.

On logits (``from_logits=True``) the loss is :math:`\ell_i = -\sum_k y_{ik}\,(z_{ik} -
\operatorname{logsumexp}_j z_{ij})` and the gradient is the fused
:math:`\partial L/\partial z = (\operatorname{softmax}(z)\sum_k y_k - y)/N`, i.e. :math:`(p - y)/N`
for one-hot or probability targets.  Nothing is clipped and nothing overflows.

**The fused softmax path.**  Keras on TensorFlow, when the model's output comes from a softmax,
silently computes the cross-entropy from the softmax's *logits* even with ``from_logits=False``
(``_keras_logits``).  ``Sequential`` does the same: when the last layer's activation is softmax
and the loss is a cross-entropy on probabilities, it trains and evaluates with
:meth:`CrossentropyBase.with_logits` on the pre-softmax values, so the 1e-7 clipping never
applies there.  That combination is one object, :class:`SoftmaxCrossEntropy` (forward on
logits, backward :math:`(p - y)/N`), chosen once by ``Sequential.compile``.  Calling a loss
directly on probabilities still clips, as ``keras.losses`` does.
"""

from __future__ import annotations

import math

import numpy as np

from scratchnn import config, fastpath
from scratchnn.activations import row_max
from scratchnn.backend import namespace, numpy_dtype, to_numpy
from scratchnn.checks import as_int_labels, as_sample_weight
from scratchnn.fastpath import foreign_array
from scratchnn.registry import Registry


@fastpath.replaceable("logsumexp")
def _logsumexp(z: np.ndarray) -> np.ndarray:
    r"""Each row's :math:`\log\sum_k e^{z_{ik}} = m_i + \log\sum_k e^{z_{ik} - m_i}` with
    :math:`m_i = \max_k z_{ik}` (so no exponential overflows): shape (N, 1) for z (N, K)."""
    xp = namespace(z)
    m = row_max(z)  # z.max(axis=-1, keepdims=True)
    return m + xp.log(xp.sum(xp.exp(z - m), axis=-1, keepdims=True))


def _like(x, like) -> np.ndarray:
    """``x`` in the namespace and on the device of array ``like`` (unchanged for NumPy)."""
    if not foreign_array(like) or foreign_array(x):
        return x
    import array_api_compat

    return namespace(like).asarray(np.asarray(x), device=array_api_compat.device(like))


def _count(x) -> int:
    """The number of entries of ``x`` (``x.size``, which is a method on torch tensors)."""
    return math.prod(x.shape)


@fastpath.replaceable("pick")
def _pick(a: np.ndarray, labels: np.ndarray) -> np.ndarray:
    r""":math:`a_{i, y_i}` for each row i: shape (N,) from a (N, K) and integer labels (N,)."""
    return namespace(a).take_along_axis(a, labels[:, None], axis=-1)[:, 0]


@fastpath.replaceable("softmax_minus_one_hot")
def _softmax_minus_one_hot(labels: np.ndarray, p: np.ndarray, n: int) -> np.ndarray:
    r""":math:`(p_{ik} - [k = y_i]) / N`, shape (N, K): the gradient of the mean sparse
    cross-entropy with respect to the logits, from the probabilities p (N, K), the integer
    labels (N,) and N."""
    return namespace(p).where(_one_hot(labels, p), p - 1, p) / n


def _one_hot(labels: np.ndarray, like: np.ndarray) -> np.ndarray:
    """Boolean (N, K) mask, True at ``[i, labels[i]]``; K and device from ``like`` (N, K)."""
    if foreign_array(like):
        import array_api_compat

        columns = namespace(like).arange(like.shape[-1], device=array_api_compat.device(like))
    else:
        columns = np.arange(like.shape[-1])
    return labels[:, None] == columns


def _check_pred(y_pred) -> np.ndarray:
    if foreign_array(y_pred):
        if numpy_dtype(y_pred) not in (np.float32, np.float64):
            xp = namespace(y_pred)
            y_pred = xp.astype(y_pred, getattr(xp, config.floatx()))
    else:
        y_pred = np.asarray(y_pred)
        if y_pred.dtype not in (np.float32, np.float64):
            y_pred = y_pred.astype(config.floatx())
    if y_pred.ndim != 2:
        raise ValueError(f"y_pred must have shape (N, K), got {y_pred.shape}")
    if y_pred.shape[0] == 0:
        raise ValueError("y_pred is empty")
    return y_pred


def _check_dense_target(y_true, y_pred: np.ndarray) -> np.ndarray:
    y_true = _like(y_true if foreign_array(y_true) else np.asarray(y_true), y_pred)
    if tuple(y_true.shape) != tuple(y_pred.shape):
        hint = ""
        if y_true.ndim == 1 or (y_true.ndim == 2 and y_true.shape[1] == 1):
            hint = (" (these look like integer labels: use sparse_categorical_crossentropy or "
                    "one-hot encode them with scratchnn.utils.to_categorical)")
        raise ValueError(
            f"y_true shape {tuple(y_true.shape)} does not match y_pred shape "
            f"{tuple(y_pred.shape)}{hint}"
        )
    return namespace(y_pred).astype(y_true, y_pred.dtype, copy=False)


def _as_sample_weight(sample_weight, y_pred) -> np.ndarray | None:
    """``sample_weight`` as (N,) weights of ``y_pred``'s float dtype, or None."""
    if sample_weight is None:
        return None
    n = tuple(y_pred.shape)[0] if foreign_array(y_pred) else np.shape(y_pred)[0]
    pred_dtype = numpy_dtype(y_pred) if foreign_array(y_pred) else np.asarray(y_pred).dtype
    w = as_sample_weight(to_numpy(sample_weight), n,
                         pred_dtype if pred_dtype.kind == "f" else np.float64)
    return _like(w, y_pred)


def _check_smoothing(label_smoothing) -> float:
    ls = float(label_smoothing)
    if not 0.0 <= ls <= 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1], got {label_smoothing!r}")
    return ls


class Loss:
    r"""Base class.  ``name`` is the string alias used in saved models and ``compile``.

    A subclass writes two formulas: :meth:`sample_losses` (one loss per sample, shape (N,);
    caches what the gradient needs) and :meth:`mean_gradient` (the gradient of their plain mean
    with respect to ``y_pred``).  The base class does the reduction, Keras's
    ``"sum_over_batch_size"``: with per-sample weights :math:`w`,

    .. math:: L = \frac1N \sum_i w_i \ell_i, \qquad
              \frac{\partial L}{\partial \hat y_i} = w_i \frac{\partial}{\partial
              \hat y_i}\Big(\frac1N\sum_j \ell_j\Big)

    (divided by N, not by :math:`\sum_i w_i`); without weights, :math:`L` is the plain mean.
    """

    name = "loss"
    _sample_weight: np.ndarray | None = None

    def forward(self, y_true, y_pred, sample_weight: np.ndarray | None = None) -> float:
        """The batch loss (weighted by ``sample_weight`` (N,) when given); caches for
        :meth:`backward`."""
        losses = self.sample_losses(y_true, y_pred)
        xp = namespace(losses)
        if sample_weight is not None:
            sample_weight = _like(sample_weight, losses)
        self._sample_weight = sample_weight
        if sample_weight is None:
            return float(xp.mean(losses))
        return float(xp.sum(losses * sample_weight) / losses.shape[0])

    def backward(self) -> np.ndarray:
        r""":math:`\partial L/\partial \hat y`, same shape as ``y_pred`` (carries the 1/N)."""
        grad = self.mean_gradient()
        w = self._sample_weight
        if w is None:
            return grad
        return grad * namespace(w).reshape(w, (-1,) + (1,) * (grad.ndim - 1))

    def sample_losses(self, y_true, y_pred) -> np.ndarray:
        r"""The per-sample losses :math:`\ell_i`, shape (N,)."""
        raise NotImplementedError

    def mean_gradient(self) -> np.ndarray:
        r"""The gradient of :math:`\frac1N\sum_i \ell_i` with respect to ``y_pred``."""
        raise NotImplementedError

    def __call__(self, y_true, y_pred, sample_weight=None) -> float:
        """Keras's ``loss_fn(y_true, y_pred, sample_weight=None)``: the batch loss."""
        return self.forward(y_true, y_pred, _as_sample_weight(sample_weight, y_pred))

    def get_config(self) -> dict:
        return {}

    def prepare_targets(self, y, num_outputs: int, dtype) -> np.ndarray:
        """Validate and convert a whole target array once, before training."""
        y = np.asarray(y)
        if y.ndim == 1:
            y = y[:, None]
        if y.ndim != 2 or y.shape[1] != num_outputs:
            raise ValueError(
                f"y has shape {np.shape(y)}, but the model outputs {num_outputs} value(s) "
                f"per sample for loss {self.name!r}"
            )
        if not (np.issubdtype(y.dtype, np.number) or y.dtype == np.bool_):
            raise TypeError(f"y must be numeric, got dtype {y.dtype}")
        y = y.astype(dtype)
        if not np.isfinite(y).all():
            raise ValueError("y contains NaN or infinite values")
        return y

    def __repr__(self) -> str:
        return f"<loss {self.name} {self.get_config()}>"


class CrossentropyBase(Loss):
    """Shared parts of the two cross-entropies."""

    def __init__(self, from_logits: bool = False):
        self.from_logits = bool(from_logits)
        self._cache: tuple = ()

    def with_logits(self) -> CrossentropyBase:
        """The same loss on logits: the fused softmax + cross-entropy."""
        return type(self)(**{**self.get_config(), "from_logits": True})

    def get_config(self):
        return {"from_logits": self.from_logits}


class CategoricalCrossentropy(CrossentropyBase):
    """Cross-entropy against one-hot (or probability) targets ``y_true`` of shape (N, K).

    See the module docstring for the exact forward formulas.  Backward on probabilities:
    with :math:`s_i = \\sum_k p_{ik}`, :math:`g = -y/\\hat q` masked to the unclipped entries,
    :math:`\\partial L/\\partial p_{ij} = (g_{ij} - \\sum_k g_{ik} q_{ik}) / (N s_i)`.
    On logits: :math:`(\\operatorname{softmax}(z)\\sum_k y_k - y)/N`.

    ``label_smoothing`` :math:`\\lambda \\in [0, 1]` replaces the targets before all of this by
    :math:`y (1 - \\lambda) + \\lambda / K` (Keras 3; skipped entirely when :math:`\\lambda = 0`,
    so the unsmoothed numbers are unchanged).  The formulas above then hold with the smoothed
    :math:`y`; its rows still sum to 1, so the fused gradient stays :math:`(p - y)/N`.
    """

    name = "categorical_crossentropy"

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0):
        super().__init__(from_logits)
        self.label_smoothing = _check_smoothing(label_smoothing)

    def get_config(self):
        # label_smoothing only when set: unsmoothed models save exactly the config they did
        settings = super().get_config()
        if self.label_smoothing:
            settings["label_smoothing"] = self.label_smoothing
        return settings

    def sample_losses(self, y_true, y_pred) -> np.ndarray:
        y_pred = _check_pred(y_pred)
        y = _check_dense_target(y_true, y_pred)
        if self.label_smoothing:
            ls = self.label_smoothing
            y = y * (1.0 - ls) + ls / y.shape[-1]
        xp = namespace(y_pred)
        n = y_pred.shape[0]
        if self.from_logits:
            logp = y_pred - _logsumexp(y_pred)
            self._cache = (y, xp.exp(logp), n)
            return -xp.sum(y * logp, axis=-1)
        eps = config.epsilon()
        s = xp.sum(y_pred, axis=-1, keepdims=True)
        q = y_pred / s
        qc = xp.clip(q, eps, 1 - eps)
        self._cache = (y, q, qc, s, n)
        return -xp.sum(y * xp.log(qc), axis=-1)

    def mean_gradient(self) -> np.ndarray:
        if not self._cache:
            raise RuntimeError("backward called before forward")
        if self.from_logits:
            y, p, n = self._cache
            return (p * namespace(p).sum(y, axis=-1, keepdims=True) - y) / n
        y, q, qc, s, n = self._cache
        xp = namespace(q)
        eps = config.epsilon()
        g = xp.astype(xp.where((q >= eps) & (q <= 1 - eps), -y / qc, 0.0), q.dtype, copy=False)
        return (g - xp.sum(g * q, axis=-1, keepdims=True)) / (s * n)


def _sparse_labels(y_true, num_classes: int, y_pred) -> np.ndarray:
    """Integer labels (N,) in ``y_pred``'s namespace.  NumPy labels are checked with
    :func:`scratchnn.checks.as_int_labels`; labels of another library only for their shape and
    converted to int64 (checking their values would copy them to the host every batch: the
    engine checks whole target arrays once, in :meth:`Loss.prepare_targets`)."""
    if not foreign_array(y_true):
        return _like(as_int_labels(y_true, num_classes, "y_true"), y_pred)
    labels = y_true[:, 0] if y_true.ndim == 2 and y_true.shape[1] == 1 else y_true
    if labels.ndim != 1:
        raise ValueError(f"y_true must be integer labels of shape (N,) or (N, 1), got "
                         f"{tuple(y_true.shape)}")
    xp = namespace(y_pred)
    return xp.astype(labels, xp.int64)


class SparseCategoricalCrossentropy(CrossentropyBase):
    """Cross-entropy against integer labels ``y_true`` of shape (N,) or (N, 1), values in [0, K).

    Backward on probabilities: with :math:`S_i = \\sum_k \\hat p_{ik}`,
    :math:`\\partial L/\\partial p_{ik} = m_{ik}(1/S_i - [k = y_i]/\\hat p_{ik}) / N` where
    :math:`m` masks the clipped entries.  On logits: :math:`(\\operatorname{softmax}(z) -
    \\operatorname{onehot}(y))/N`.
    """

    name = "sparse_categorical_crossentropy"

    def sample_losses(self, y_true, y_pred) -> np.ndarray:
        y_pred = _check_pred(y_pred)
        xp = namespace(y_pred)
        n, k = y_pred.shape
        labels = _sparse_labels(y_true, k, y_pred)
        if labels.shape[0] != n:
            raise ValueError(f"y_true has {labels.shape[0]} labels but y_pred has {n} rows")
        if self.from_logits:
            logp = y_pred - _logsumexp(y_pred)
            self._cache = (labels, xp.exp(logp), n)
            return -_pick(logp, labels)
        eps = config.epsilon()
        pc = xp.clip(y_pred, eps, 1 - eps)
        s = xp.sum(pc, axis=-1)
        self._cache = (labels, y_pred, pc, s, n)
        return xp.log(s) - xp.log(_pick(pc, labels))

    def mean_gradient(self) -> np.ndarray:
        if not self._cache:
            raise RuntimeError("backward called before forward")
        if self.from_logits:
            return _softmax_minus_one_hot(*self._cache)
        labels, p, pc, s, n = self._cache
        xp = namespace(p)
        eps = config.epsilon()
        inverse_sum = 1 / s[:, None]
        g = xp.where(_one_hot(labels, p), inverse_sum - 1 / pc, inverse_sum)
        g = g * xp.astype((p >= eps) & (p <= 1 - eps), g.dtype)
        return g / n

    def prepare_targets(self, y, num_outputs, dtype):
        return as_int_labels(y, num_outputs, "y")


class MeanSquaredError(Loss):
    r"""Mean squared error: :math:`L = \frac{1}{N}\sum_i \frac{1}{K}\sum_k (p_{ik}-y_{ik})^2`.

    Backward: :math:`\partial L/\partial p = 2(p - y)/(NK)`.
    """

    name = "mean_squared_error"

    def sample_losses(self, y_true, y_pred) -> np.ndarray:
        y_pred = _check_pred(y_pred)
        y = _check_dense_target(y_true, y_pred)
        diff = y_pred - y
        self._cache = (diff,)
        return namespace(diff).mean(diff * diff, axis=-1)

    def mean_gradient(self) -> np.ndarray:
        if not getattr(self, "_cache", None):
            raise RuntimeError("backward called before forward")
        (diff,) = self._cache
        return 2 * diff / _count(diff)


def _require(cache: tuple) -> tuple:
    if not cache:
        raise RuntimeError("backward called before forward")
    return cache


class BinaryCrossentropy(Loss):
    r"""Binary cross-entropy of independent 0/1 targets, shapes ``y_true`` and ``y_pred`` (N, K).

    Keras 3's numerics, with :math:`\epsilon = 10^{-7}` and label smoothing
    :math:`\lambda`, :math:`y \leftarrow y(1-\lambda) + \lambda/2` (skipped when
    :math:`\lambda = 0`).

    On probabilities: :math:`\hat p = clip(p, \epsilon, 1 - \epsilon)`,
    :math:`\ell_{ik} = -(y \log\hat p + (1-y)\log(1-\hat p))`;
    :math:`\partial L/\partial p = m\,(-y/\hat p + (1-y)/(1-\hat p))/(NK)` with :math:`m` masking
    the clipped entries (as through ``tf.clip_by_value``).

    On logits (``from_logits=True``), the stable form of TensorFlow's
    ``sigmoid_cross_entropy_with_logits``:
    :math:`\ell_{ik} = \max(z, 0) - z y + \log(1 + e^{-|z|})`, gradient
    :math:`\partial L/\partial z = (\sigma(z) - y)/(NK)`, with :math:`\sigma(z)` computed from
    :math:`e^{-|z|}` so that nothing overflows.

    :math:`L = \frac1N\sum_i \frac1K\sum_k \ell_{ik}` (mean over the last axis, then the batch).
    No fused sigmoid head: a sigmoid output layer feeds its probabilities here (clipped).
    """

    name = "binary_crossentropy"

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0):
        self.from_logits = bool(from_logits)
        self.label_smoothing = _check_smoothing(label_smoothing)
        self._cache: tuple = ()

    def get_config(self):
        return {"from_logits": self.from_logits, "label_smoothing": self.label_smoothing}

    def sample_losses(self, y_true, y_pred) -> np.ndarray:
        y_pred = _check_pred(y_pred)
        y = _check_dense_target(y_true, y_pred)
        if self.label_smoothing:
            y = y * (1.0 - self.label_smoothing) + 0.5 * self.label_smoothing
        xp = namespace(y_pred)
        if self.from_logits:
            e = xp.exp(-xp.abs(y_pred))
            self._cache = (y, y_pred, e)
            bce = xp.maximum(y_pred, 0) - y_pred * y + xp.log1p(e)
            return xp.mean(bce, axis=-1)
        eps = config.epsilon()
        pc = xp.clip(y_pred, eps, 1 - eps)
        self._cache = (y, y_pred, pc)
        bce = y * xp.log(pc)
        bce += (1 - y) * xp.log(1 - pc)
        return xp.mean(-bce, axis=-1)

    def mean_gradient(self) -> np.ndarray:
        y, y_pred, c = _require(self._cache)
        xp = namespace(y_pred)
        if self.from_logits:
            sigmoid = xp.where(y_pred >= 0, 1 / (1 + c), c / (1 + c))
            return (sigmoid - y) / _count(y)
        eps = config.epsilon()
        g = -y / c + (1 - y) / (1 - c)
        g = g * xp.astype((y_pred >= eps) & (y_pred <= 1 - eps), g.dtype)
        return g / _count(y)


class MeanAbsoluteError(Loss):
    r"""Mean absolute error: :math:`L = \frac1N\sum_i \frac1K\sum_k |p_{ik} - y_{ik}|`.

    Backward: :math:`\partial L/\partial p = \operatorname{sign}(p - y)/(NK)`, with
    :math:`\operatorname{sign}(0) = 0` (the subgradient TensorFlow's ``abs`` uses).
    """

    name = "mean_absolute_error"

    def sample_losses(self, y_true, y_pred) -> np.ndarray:
        y_pred = _check_pred(y_pred)
        diff = y_pred - _check_dense_target(y_true, y_pred)
        self._cache = (diff,)
        xp = namespace(diff)
        return xp.mean(xp.abs(diff), axis=-1)

    def mean_gradient(self) -> np.ndarray:
        (diff,) = _require(getattr(self, "_cache", ()))
        return namespace(diff).sign(diff) / _count(diff)


class Huber(Loss):
    r"""Huber loss, quadratic near zero and linear beyond ``delta`` :math:`= \delta > 0`.

    With :math:`e = p - y`: :math:`\ell = \frac12 e^2` where :math:`|e| \le \delta`, else
    :math:`\delta|e| - \frac12\delta^2`; :math:`L = \frac1N\sum_i\frac1K\sum_k \ell_{ik}`.
    Backward: :math:`\partial L/\partial p = \operatorname{clip}(e, -\delta, \delta)/(NK)`,
    i.e. :math:`e` inside, :math:`\delta\operatorname{sign}(e)` outside (continuous at
    :math:`|e| = \delta`).
    """

    name = "huber"

    def __init__(self, delta: float = 1.0):
        self.delta = float(delta)
        if not self.delta > 0:
            raise ValueError(f"delta must be positive, got {delta!r}")
        self._cache: tuple = ()

    def get_config(self):
        return {"delta": self.delta}

    def sample_losses(self, y_true, y_pred) -> np.ndarray:
        y_pred = _check_pred(y_pred)
        xp = namespace(y_pred)
        error = y_pred - _check_dense_target(y_true, y_pred)
        abs_error = xp.abs(error)
        dt = numpy_dtype(y_pred).type  # the scalars in y_pred's precision
        delta, half = dt(self.delta), dt(0.5)
        inside = abs_error <= float(delta)
        self._cache = (error, inside, float(delta))
        quadratic = float(half) * xp.square(error)
        linear = float(delta) * abs_error - float(half * np.square(delta))
        return xp.mean(xp.where(inside, quadratic, linear), axis=-1)

    def mean_gradient(self) -> np.ndarray:
        error, inside, delta = _require(self._cache)
        xp = namespace(error)
        return xp.where(inside, error, delta * xp.sign(error)) / _count(error)


class KLDivergence(Loss):
    r"""Kullback-Leibler divergence of ``y_pred`` from ``y_true``, both (N, K) distributions.

    Keras 3 clips both to :math:`[\epsilon, 1]` (:math:`\epsilon = 10^{-7}`):
    :math:`\ell_i = \sum_k \hat y_{ik}\log(\hat y_{ik}/\hat p_{ik})`, :math:`L = \frac1N\sum_i
    \ell_i` (a sum over the classes, not a mean).
    Backward: :math:`\partial L/\partial p = -m\,\hat y/\hat p / N`, :math:`m` masking the
    clipped entries of :math:`p`.
    """

    name = "kl_divergence"

    def sample_losses(self, y_true, y_pred) -> np.ndarray:
        y_pred = _check_pred(y_pred)
        xp = namespace(y_pred)
        eps = config.epsilon()
        y = xp.clip(_check_dense_target(y_true, y_pred), eps, 1.0)
        pc = xp.clip(y_pred, eps, 1.0)
        self._cache = (y, y_pred, pc)
        return xp.sum(y * xp.log(y / pc), axis=-1)

    def mean_gradient(self) -> np.ndarray:
        y, y_pred, pc = _require(getattr(self, "_cache", ()))
        xp = namespace(y_pred)
        mask = (y_pred >= config.epsilon()) & (y_pred <= 1)
        gradient = xp.astype(xp.where(mask, -y / pc, 0.0), y_pred.dtype, copy=False)
        return gradient / y_pred.shape[0]


LOSSES: Registry[Loss] = Registry("loss", base=Loss)
LOSSES.add(CategoricalCrossentropy, "categorical_crossentropy")
LOSSES.add(SparseCategoricalCrossentropy, "sparse_categorical_crossentropy")
LOSSES.add(MeanSquaredError, "mean_squared_error", "mse")
LOSSES.add(BinaryCrossentropy, "binary_crossentropy")
LOSSES.add(MeanAbsoluteError, "mean_absolute_error", "mae")
LOSSES.add(Huber, "huber")
LOSSES.add(KLDivergence, "kl_divergence", "kld")


def get(identifier: str | dict | Loss) -> Loss:
    """Resolve a loss name (Keras's aliases), a spec dict, or pass a :class:`Loss` through."""
    return LOSSES.get(identifier)


def serialize(loss: Loss) -> dict:
    """``{"name": ..., "config": ...}`` for saving."""
    return LOSSES.serialize(loss)


def deserialize(spec: dict) -> Loss:
    """Inverse of :func:`serialize`."""
    return LOSSES.deserialize(spec)


class SoftmaxCrossEntropy:
    r"""Softmax and cross-entropy as one step on the logits (deep-learning-from-scratch's
    ``SoftmaxWithLoss``): what ``Sequential`` uses when its last layer's activation is softmax
    and its loss a cross-entropy on probabilities (see the module docstring).

    Shapes: logits ``z`` (N, K); targets ``y`` as ``crossentropy`` takes them (one-hot (N, K)
    for the categorical loss, labels (N,) for the sparse one).

    Forward: :math:`p = \operatorname{softmax}(z)` and :math:`L = -\frac1N\sum_i\sum_k y_{ik}
    \log p_{ik}`, computed as :math:`\log p = z - \operatorname{logsumexp}(z)` so that no
    probability is formed, clipped or divided by.

    Backward: the softmax Jacobian times the cross-entropy's gradient collapses to
    :math:`\partial L/\partial z = (p - y)/N` (:math:`(p\sum_k y_k - y)/N` for targets that are
    not normalized), with no :math:`1/p` anywhere.

    Parameters
    ----------
    crossentropy : the cross-entropy the model was compiled with; its ``from_logits=True``
        twin (:meth:`CrossentropyBase.with_logits`) computes both formulas.
    """

    def __init__(self, crossentropy: CrossentropyBase):
        self.crossentropy = crossentropy.with_logits()

    def forward(self, y_true, logits: np.ndarray, sample_weight: np.ndarray | None = None
                ) -> float:
        """The batch-mean cross-entropy of ``softmax(logits)`` against ``y_true`` (weighted as
        :meth:`Loss.forward` when ``sample_weight`` is given)."""
        return self.crossentropy.forward(y_true, logits, sample_weight)

    def backward(self) -> np.ndarray:
        """:math:`\\partial L/\\partial z = (p - y)/N` (rows times :math:`w_i` when
        weighted), shape (N, K)."""
        return self.crossentropy.backward()

    def __repr__(self) -> str:
        return f"<SoftmaxCrossEntropy {self.crossentropy.name}>"
