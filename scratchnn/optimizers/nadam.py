"""Nadam (Keras's ``Nadam``)."""

from __future__ import annotations

import numpy as np

from scratchnn.backend import namespace, numpy_dtype
from scratchnn.optimizers.adam import _moment_config, _set_moment_hyperparameters
from scratchnn.optimizers.base import LearningRate, Optimizer, _f32, as_variable_dtype


class Nadam(Optimizer):
    r"""Nadam (Dozat 2016: Adam with Nesterov momentum), Keras's form.  With :math:`t` =
    ``iterations + 1`` and the momentum schedule :math:`\mu_t = \beta_1(1 - 0.5\cdot
    0.96^{t})`, :math:`\Pi_t = \prod_{k\le t}\mu_k`:

    .. math::
        m \leftarrow m + (g - m)(1-\beta_1), \qquad v \leftarrow v + (g^2 - v)(1-\beta_2),

        \hat m = \mu_{t+1} m / (1 - \Pi_t\mu_{t+1}) + (1-\mu_t) g / (1 - \Pi_t), \qquad
        \hat v = v / (1 - \beta_2^t),

        \theta \leftarrow \theta - \hat m\eta / (\sqrt{\hat v} + \epsilon)

    (:func:`nadam_update`).  :math:`\Pi_t` is one running product per optimizer, updated
    before each step (Keras's ``_u_product``); it is a function of ``iterations`` alone, so it
    is recomputed, not saved.  As in Keras, the product uses the Python floats 0.96 and
    :math:`\beta_1` while the per-step :math:`\mu` use them cast through float32.
    """

    name = "nadam"
    slot_names = ("m", "v")

    def __init__(self, learning_rate: LearningRate = 0.001, beta_1: float = 0.9,
                 beta_2: float = 0.999, epsilon: float = 1e-7, **options):
        super().__init__(learning_rate, **options)
        _set_moment_hyperparameters(self, beta_1, beta_2, epsilon)
        self._u_product = np.float64(1.0)

    def build(self, variables):
        super().build(variables)
        self._u_product = numpy_dtype(variables[0]).type(1.0) if variables else np.float64(1.0)

    def _before_steps(self):
        dt = type(self._u_product)
        mu = dt(1.0) - dt(0.5) * dt(0.96) ** dt(self.iterations + 1)
        self._u_product = self._u_product * dt(self.beta_1) * mu

    def set_state(self, state, variables):
        super().set_state(state, variables)
        steps, self.iterations = self.iterations, 0
        for _ in range(steps):  # replay the product: bitwise what the saving run had
            self._before_steps()
            self.iterations += 1

    def update_step(self, gradient, variable, learning_rate, slots):
        dt = numpy_dtype(variable).type
        gradient = as_variable_dtype(gradient, variable)
        beta_1, decay = _f32(self.beta_1, dt), _f32(0.96, dt)
        beta_2 = _f32(self.beta_2, dt)
        u_t = beta_1 * (dt(1.0) - dt(0.5) * decay ** dt(self.iterations + 1))
        u_t_1 = beta_1 * (dt(1.0) - dt(0.5) * decay ** dt(self.iterations + 2))
        u_product_t = dt(self._u_product)
        u_product_t_1 = u_product_t * u_t_1
        beta_2_power = beta_2 ** dt(self.iterations + 1)
        nadam_update(gradient, slots["m"], slots["v"], variable,
                     *(float(s) for s in (dt(learning_rate), dt(1) - beta_1, dt(1) - beta_2,
                                          dt(self.epsilon))),
                     (u_t, u_t_1, u_product_t, u_product_t_1, beta_2_power))

    def get_config(self):
        return _moment_config(self)


def nadam_update(g: np.ndarray, m: np.ndarray, v: np.ndarray, var: np.ndarray, lr,
                 one_minus_beta_1, one_minus_beta_2, epsilon, schedule) -> None:
    r"""Nadam's element-wise step (see :class:`Nadam`); ``schedule`` is
    :math:`(\mu_t, \mu_{t+1}, \Pi_t, \Pi_t\mu_{t+1}, \beta_2^t)`.  Arrays: same shape;
    ``m``, ``v``, ``var`` updated in place.  The schedule's entries are NumPy scalars of the
    arrays' precision: the scalar-only terms :math:`1 - \mu_t`, :math:`1 - \Pi_t`, ... are
    computed in that precision, then enter the array expressions as Python floats."""
    xp = namespace(var)
    u_t, u_t_1, u_product_t, u_product_t_1, beta_2_power = schedule
    one_minus_u_t, u_t_1 = float(1 - u_t), float(u_t_1)
    den_m, den_g, den_v = (float(1 - s) for s in (u_product_t_1, u_product_t, beta_2_power))
    m[...] = m + (g - m) * one_minus_beta_1
    v[...] = v + (xp.square(g) - v) * one_minus_beta_2
    m_hat = (u_t_1 * m) / den_m + (one_minus_u_t * g) / den_g
    v_hat = v / den_v
    var[...] = var - (m_hat * lr) / (xp.sqrt(v_hat) + epsilon)
