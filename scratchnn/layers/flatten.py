"""``Flatten``: (N, d1, d2, ...) -> (N, d1*d2*...)."""

from __future__ import annotations

import math

from scratchnn.backend import namespace
from scratchnn.layers.base import Layer


class Flatten(Layer):
    """Reshape (N, d1, d2, ...) to (N, d1*d2*...); backward reshapes ``dout`` back.

    Forward and backward are views, never copies, when the input is contiguous.
    """

    def compute_output_shape(self, input_shape):
        return (math.prod(input_shape),)

    def forward(self, x, training=False):
        self._check_input(x)
        return namespace(x).reshape(x, (x.shape[0], -1))

    def backward(self, dout, need_input_grad=True):
        return namespace(dout).reshape(dout, (dout.shape[0],) + self.input_shape)

    def get_config(self):
        return {"name": self.name}
