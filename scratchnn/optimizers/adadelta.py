r"""Adadelta (Zeiler 2012), Keras's ``Adadelta``."""

from __future__ import annotations

import numpy as np

from scratchnn.arguments import check_real
from scratchnn.backend import namespace, numpy_dtype
from scratchnn.optimizers.base import LearningRate, Optimizer, as_variable_dtype


class Adadelta(Optimizer):
    r"""Adadelta, Keras's form.  With :math:`\rho` = ``rho`` and
    :math:`\mathrm{rms}(x) = \sqrt{x + \epsilon}`:

    .. math::
        a_g \leftarrow \rho a_g + (1-\rho) g^2, \qquad
        \Delta = -\,\mathrm{rms}(a_\Delta)\, g / \mathrm{rms}(a_g),

        a_\Delta \leftarrow \rho a_\Delta + (1-\rho)\Delta^2, \qquad
        \theta \leftarrow \theta + \eta\Delta

    (:func:`adadelta_update`; slots ``accumulated_grad`` :math:`a_g` and
    ``accumulated_delta_var`` :math:`a_\Delta`, both starting at 0).  The paper has no
    :math:`\eta` (it is 1 there); Keras keeps one, default 0.001.
    ``**options``: see :class:`~scratchnn.optimizers.base.Optimizer`.
    """

    name = "adadelta"
    slot_names = ("accumulated_grad", "accumulated_delta_var")

    def __init__(self, learning_rate: LearningRate = 0.001, rho: float = 0.95,
                 epsilon: float = 1e-7, **options):
        super().__init__(learning_rate, **options)
        self.rho = check_real(rho, "rho", 0.0, 1.0)
        self.epsilon = check_real(epsilon, "epsilon", 0.0)

    def update_step(self, gradient, variable, learning_rate, slots):
        dt = numpy_dtype(variable).type
        gradient = as_variable_dtype(gradient, variable)
        # rho, 1 - rho, epsilon: Python floats in Keras, converted straight to the dtype
        adadelta_update(gradient, slots["accumulated_grad"], slots["accumulated_delta_var"],
                        variable, *(float(s) for s in (dt(learning_rate), dt(self.rho),
                                                      dt(1 - self.rho), dt(self.epsilon))))

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}


def adadelta_update(g: np.ndarray, acc_g: np.ndarray, acc_delta: np.ndarray, var: np.ndarray,
                    lr, rho, one_minus_rho, epsilon) -> None:
    r"""Adadelta's element-wise step in Keras's order (see :class:`Adadelta`).

    ``g``, ``acc_g``, ``acc_delta``, ``var``: same shape; all but ``g`` updated in place."""
    xp = namespace(var)
    acc_g[...] = rho * acc_g + one_minus_rho * xp.square(g)
    delta_var = -((xp.sqrt(acc_delta + epsilon) * g) / xp.sqrt(acc_g + epsilon))
    acc_delta[...] = rho * acc_delta + one_minus_rho * xp.square(delta_var)
    var[...] = var + lr * delta_var
