"""RMSprop (Keras's ``RMSprop``)."""

from __future__ import annotations

import numpy as np

from scratchnn.arguments import check_bool, check_real
from scratchnn.backend import namespace, numpy_dtype
from scratchnn.optimizers.base import LearningRate, Optimizer, as_variable_dtype


class RMSprop(Optimizer):
    r"""RMSprop (Hinton's lecture 6e), Keras's form.  With :math:`\rho` = ``rho``:

    .. math::
        v \leftarrow \rho v + (1-\rho) g^2, \qquad
        \Delta = \eta g / \sqrt{v + \epsilon};

    ``centered=True`` also tracks the mean gradient :math:`\bar g \leftarrow \rho \bar g +
    (1-\rho) g` and uses the variance estimate, :math:`\Delta = \eta g / \sqrt{v - \bar g^2 +
    \epsilon}`.  Then :math:`\theta \leftarrow \theta - \Delta`, or with ``momentum``
    :math:`\mu > 0`: :math:`p \leftarrow \mu p + \Delta`, :math:`\theta \leftarrow \theta - p`
    (:func:`rmsprop_update`).  Note :math:`\epsilon` sits *inside* the square root.
    """

    name = "rmsprop"

    def __init__(self, learning_rate: LearningRate = 0.001, rho: float = 0.9, momentum: float = 0.0,
                 epsilon: float = 1e-7, centered: bool = False, **options):
        super().__init__(learning_rate, **options)
        self.rho = check_real(rho, "rho", 0.0, 1.0)
        self.momentum = check_real(momentum, "momentum", 0.0, 1.0)
        self.epsilon = check_real(epsilon, "epsilon", 0.0)
        self.centered = check_bool(centered, "centered")
        self.slot_names = (("velocity",) + (("momentum",) if self.momentum > 0 else ())
                           + (("average_gradient",) if self.centered else ()))

    def update_step(self, gradient, variable, learning_rate, slots):
        dt = numpy_dtype(variable).type
        gradient = as_variable_dtype(gradient, variable)
        # rho, 1 - rho, momentum, epsilon: Python floats in Keras, converted straight to dtype
        rmsprop_update(gradient, slots["velocity"], slots.get("average_gradient"),
                       slots.get("momentum"), variable,
                       *(float(dt(s)) for s in (learning_rate, self.rho, 1 - self.rho,
                                                self.momentum, self.epsilon)))

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum,
                "epsilon": self.epsilon, "centered": self.centered}


def rmsprop_update(g: np.ndarray, v: np.ndarray, avg: np.ndarray | None, p: np.ndarray | None,
                   var: np.ndarray, lr, rho, one_minus_rho, momentum, epsilon) -> None:
    r"""RMSprop's element-wise step (Keras's order, see :class:`RMSprop`):
    :math:`v \leftarrow \rho v + (1-\rho) g^2`; if ``avg`` (centered)
    :math:`\bar g \leftarrow \rho\bar g + (1-\rho) g`, :math:`d = (v - \bar g^2) + \epsilon`,
    else :math:`d = v + \epsilon`; :math:`\Delta = (\eta g)/\sqrt d`; then with momentum slot
    ``p``: :math:`p \leftarrow \mu p + \Delta`, :math:`\theta \leftarrow \theta - p`, else
    :math:`\theta \leftarrow \theta - \Delta`.  Arrays: same shape, updated in place."""
    xp = namespace(var)
    v[...] = rho * v + one_minus_rho * xp.square(g)
    if avg is not None:
        avg[...] = rho * avg + one_minus_rho * g
        denominator = v - xp.square(avg) + epsilon
    else:
        denominator = v + epsilon
    increment = (lr * g) / xp.sqrt(denominator)
    if p is not None:
        p[...] = momentum * p + increment
        var[...] = var - p
    else:
        var[...] = var - increment
