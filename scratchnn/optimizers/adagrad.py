"""Adagrad (Keras's ``Adagrad``)."""

from __future__ import annotations

import numpy as np

from scratchnn.arguments import check_real
from scratchnn.backend import namespace, numpy_dtype
from scratchnn.optimizers.base import LearningRate, Optimizer, _f32, as_variable_dtype


class Adagrad(Optimizer):
    r"""Adagrad (Duchi et al. 2011), Keras's form: the accumulator starts at
    ``initial_accumulator_value`` (0.1, rounded through float32 as Keras's ``Constant``
    initializer does) and

    .. math:: a \leftarrow a + g^2, \qquad \theta \leftarrow \theta - \eta g / \sqrt{a + \epsilon}

    (:func:`adagrad_update`): each coordinate's rate decays with its own gradient history.
    """

    name = "adagrad"
    slot_names = ("accumulator",)

    def __init__(self, learning_rate: LearningRate = 0.001, initial_accumulator_value: float = 0.1,
                 epsilon: float = 1e-7, **options):
        super().__init__(learning_rate, **options)
        self.initial_accumulator_value = check_real(
            initial_accumulator_value, "initial_accumulator_value", 0.0)
        self.epsilon = check_real(epsilon, "epsilon", 0.0)

    def build(self, variables):
        super().build(variables)
        for slots in self._slots:  # Keras: initializers.Constant(value) does ops.cast(value)
            acc = slots["accumulator"]
            acc[...] = float(_f32(self.initial_accumulator_value, numpy_dtype(acc).type))

    def update_step(self, gradient, variable, learning_rate, slots):
        dt = numpy_dtype(variable).type
        gradient = as_variable_dtype(gradient, variable)
        adagrad_update(gradient, slots["accumulator"], variable, float(dt(learning_rate)),
                       float(dt(self.epsilon)))

    def get_config(self):
        return {**super().get_config(),
                "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}


def adagrad_update(g: np.ndarray, acc: np.ndarray, var: np.ndarray, lr, epsilon) -> None:
    r"""Adagrad: :math:`a \leftarrow a + g^2`,
    :math:`\theta \leftarrow \theta - (\eta g)/\sqrt{a + \epsilon}`.  Arrays: same shape;
    ``acc`` and ``var`` updated in place."""
    xp = namespace(var)
    acc[...] = acc + xp.square(g)
    var[...] = var - (lr * g) / xp.sqrt(acc + epsilon)
