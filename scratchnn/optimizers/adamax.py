"""Adamax (Keras's ``Adamax``)."""

from __future__ import annotations

import numpy as np

from scratchnn.backend import namespace, numpy_dtype
from scratchnn.optimizers.adam import _moment_config, _set_moment_hyperparameters
from scratchnn.optimizers.base import LearningRate, Optimizer, _f32, as_variable_dtype


class Adamax(Optimizer):
    r"""Adamax (Kingma & Ba, sec. 7.1: Adam with the infinity norm), Keras's form.  With
    :math:`t` = ``iterations + 1``:

    .. math::
        m \leftarrow m + (g - m)(1-\beta_1), \qquad u \leftarrow \max(\beta_2 u, |g|),

        \theta \leftarrow \theta - \eta m / \big((1 - \beta_1^t)(u + \epsilon)\big)

    (:func:`adamax_update`); :math:`u` needs no bias correction.
    """

    name = "adamax"
    slot_names = ("m", "u")

    def __init__(self, learning_rate: LearningRate = 0.001, beta_1: float = 0.9,
                 beta_2: float = 0.999, epsilon: float = 1e-7, **options):
        super().__init__(learning_rate, **options)
        _set_moment_hyperparameters(self, beta_1, beta_2, epsilon)

    def update_step(self, gradient, variable, learning_rate, slots):
        dt = numpy_dtype(variable).type
        gradient = as_variable_dtype(gradient, variable)
        correction = 1 - _f32(self.beta_1, dt) ** dt(self.iterations + 1)
        scalars = (dt(learning_rate), dt(1 - self.beta_1), dt(self.beta_2), dt(self.epsilon),
                   correction)
        adamax_update(gradient, slots["m"], slots["u"], variable, *(float(s) for s in scalars))

    def get_config(self):
        return _moment_config(self)


def adamax_update(g: np.ndarray, m: np.ndarray, u: np.ndarray, var: np.ndarray, lr,
                  one_minus_beta_1, beta_2, epsilon, correction) -> None:
    r"""Adamax: :math:`m \leftarrow m + (g-m)(1-\beta_1)`, :math:`u \leftarrow
    \max(\beta_2 u, |g|)`, :math:`\theta \leftarrow \theta - (\eta m)/(c\,(u + \epsilon))`
    with ``correction`` :math:`c = 1-\beta_1^t`.  Arrays: same shape, updated in place."""
    xp = namespace(var)
    m[...] = m + (g - m) * one_minus_beta_1
    u[...] = xp.maximum(beta_2 * u, xp.abs(g))
    var[...] = var - (lr * m) / (correction * (u + epsilon))
