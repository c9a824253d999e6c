r"""Stochastic gradient descent, optionally with (Nesterov) momentum (Keras's ``SGD``)."""

from __future__ import annotations

import numpy as np

from scratchnn import fastpath
from scratchnn.arguments import check_bool, check_real
from scratchnn.backend import numpy_dtype
from scratchnn.optimizers.base import LearningRate, Optimizer, as_variable_dtype, formula


class SGD(Optimizer):
    r"""Stochastic gradient descent, optionally with (Nesterov) momentum.

    * no momentum: :math:`\theta \leftarrow \theta - \eta g` (:func:`sgd_update`);
    * momentum :math:`\mu`: :math:`m \leftarrow \mu m - \eta g`, then
      :math:`\theta \leftarrow \theta + m` (:func:`momentum_update`), or with ``nesterov=True``
      :math:`\theta \leftarrow \theta + \mu m - \eta g` using the new ``m``
      (:func:`nesterov_update`).

    ``**options``: ``weight_decay``, ``clipnorm``, ``clipvalue``, ``global_clipnorm``
    (see :class:`~scratchnn.optimizers.base.Optimizer`).
    """

    name = "sgd"

    def __init__(self, learning_rate: LearningRate = 0.01, momentum: float = 0.0,
                 nesterov: bool = False, **options):
        super().__init__(learning_rate, **options)
        self.momentum = check_real(momentum, "momentum", 0.0, 1.0)
        self.nesterov = check_bool(nesterov, "nesterov")
        self.slot_names = ("momentum",) if self.momentum != 0 else ()

    def update_step(self, gradient, variable, learning_rate, slots):
        dt = numpy_dtype(variable).type
        gradient = as_variable_dtype(gradient, variable)  # Keras casts it first, too
        lr = float(dt(learning_rate))
        if self.momentum == 0:
            formula(sgd_update, variable)(gradient, variable, lr)
            return
        mu = float(dt(np.float32(self.momentum)))  # Keras: ops.cast goes through float32
        update = nesterov_update if self.nesterov else momentum_update
        formula(update, variable)(gradient, slots["momentum"], variable, lr, mu)

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


# The update rules: Keras's op order, one array operation per Keras operation, on any array-API
# namespace.  Arrays (all of one shape) are updated in place; scalars are Python floats already
# rounded to the arrays' dtype.  Each is replaceable by a faster NumPy drop-in with bitwise the
# same results (scratchnn.fastpath).


@fastpath.replaceable("sgd_update")
def sgd_update(g: np.ndarray, var: np.ndarray, lr) -> None:
    r"""Plain SGD, :math:`\theta \leftarrow \theta - \eta g`.  ``g``, ``var``: same shape."""
    var[...] = var - g * lr


@fastpath.replaceable("momentum_update")
def momentum_update(g: np.ndarray, m: np.ndarray, var: np.ndarray, lr, mu) -> None:
    r"""Momentum: :math:`m \leftarrow \mu m - \eta g`, :math:`\theta \leftarrow \theta + m`.

    ``g``, ``m``, ``var``: same shape; ``m`` and ``var`` are updated in place."""
    m[...] = m * mu - g * lr
    var[...] = var + m


@fastpath.replaceable("nesterov_update")
def nesterov_update(g: np.ndarray, m: np.ndarray, var: np.ndarray, lr, mu) -> None:
    r"""Nesterov momentum: :math:`m \leftarrow \mu m - \eta g`, then
    :math:`\theta \leftarrow \theta + (\mu m - \eta g)` with the *new* :math:`m`.

    ``g``, ``m``, ``var``: same shape; ``m`` and ``var`` are updated in place."""
    m[...] = m * mu - g * lr
    var[...] = var + (m * mu - g * lr)
