r"""The model's output head: its last layer together with the loss, chosen once by ``compile``.

A training step through a ``Sequential`` whose layers are ``body + [last]`` is::

    for layer in body:           h = layer.forward(h, training=True)
    loss, y_pred = head.forward(h, y, training=True)      # last layer + loss
    d = head.backward()                                   # dL/dh, fills the last layer's grads
    for layer in reversed(body): d = layer.backward(d)

Two heads exist:

* :class:`LossHead` — the last layer as is, then the loss:
  :math:`\hat y = f(h W + b)`, :math:`L = \operatorname{loss}(y, \hat y)`; backward
  ``last.backward(loss.backward())``.
* :class:`SoftmaxCrossEntropyHead` — when the last activation is softmax and the loss a
  cross-entropy on probabilities (Keras's silent fusion, see :mod:`scratchnn.losses`): only the
  last layer's affine part :math:`z = hW + b`, then
  :class:`scratchnn.losses.SoftmaxCrossEntropy` on the logits; backward
  ``last.backward_logits((p - y)/N)``, skipping the softmax Jacobian.

Either way ``y_pred`` holds what the model predicts (probabilities after a softmax), so the
metrics never see logits.
"""

from __future__ import annotations

import numpy as np

from scratchnn.activations import Softmax
from scratchnn.layers import Layer
from scratchnn.losses import CrossentropyBase, Loss, SoftmaxCrossEntropy

__all__ = ["LossHead", "SoftmaxCrossEntropyHead", "output_head"]


class LossHead:
    """The last layer as is, followed by the loss."""

    def __init__(self, layer: Layer, loss: Loss):
        self.layer = layer
        self.loss = loss

    def forward(self, h: np.ndarray, y: np.ndarray, training: bool,
                sample_weight: np.ndarray | None = None) -> tuple[float, np.ndarray]:
        """``(L, y_pred)``: the batch loss (weighted by ``sample_weight`` (N,) when given) and
        the layer's output (N, K) for input h."""
        y_pred = self.layer.forward(h, training)
        return self.loss.forward(y, y_pred, sample_weight), y_pred

    def backward(self, need_input_grad: bool = True) -> np.ndarray | None:
        """:math:`\\partial L/\\partial h` (None with ``need_input_grad=False``)."""
        return self.layer.backward(self.loss.backward(), need_input_grad)


class SoftmaxCrossEntropyHead:
    """The last layer's affine part, then softmax and cross-entropy as one step on logits."""

    def __init__(self, layer: Layer, loss: CrossentropyBase):
        self.layer = layer
        self.loss = SoftmaxCrossEntropy(loss)

    def forward(self, h: np.ndarray, y: np.ndarray, training: bool,
                sample_weight: np.ndarray | None = None) -> tuple[float, np.ndarray]:
        """``(L, p)``: the loss computed from the logits z (N, K) (weighted by
        ``sample_weight`` when given), and p = softmax(z)."""
        z = self.layer.forward_logits(h, training)
        loss = self.loss.forward(y, z, sample_weight)
        return loss, self.layer.activation.forward(z)

    def backward(self, need_input_grad: bool = True) -> np.ndarray | None:
        """:math:`\\partial L/\\partial h` from :math:`\\partial L/\\partial z = (p - y)/N`
        (None with ``need_input_grad=False``)."""
        return self.layer.backward_logits(self.loss.backward(), need_input_grad)


def output_head(last: Layer, loss: Loss) -> LossHead | SoftmaxCrossEntropyHead:
    """The head for a model ending in ``last`` compiled with ``loss``."""
    fuses = (isinstance(loss, CrossentropyBase) and not loss.from_logits
             and isinstance(getattr(last, "activation", None), Softmax)
             and hasattr(last, "forward_logits")
             # an activity penalty is computed on the layer's output: keep the layer whole
             and getattr(last, "activity_regularizer", None) is None)
    return SoftmaxCrossEntropyHead(last, loss) if fuses else LossHead(last, loss)
