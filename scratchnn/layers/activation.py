"""``Activation``: an activation function as a layer of its own."""

from __future__ import annotations

from scratchnn import activations as activations_module
from scratchnn.layers.base import Layer


class Activation(Layer):
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


ActivationLayer = Activation  # the name used before 0.3; kept as an alias
