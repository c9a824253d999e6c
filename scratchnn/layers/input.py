"""``InputLayer`` and ``Input``: declare a ``Sequential`` model's input shape."""

from __future__ import annotations

from scratchnn.layers.base import Layer


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
