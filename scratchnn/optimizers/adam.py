"""Adam, AdamW and Adam's AMSGrad variant (Keras's ``Adam``, ``AdamW``)."""

from __future__ import annotations

import numpy as np

from scratchnn import fastpath
from scratchnn.arguments import check_bool, check_real
from scratchnn.backend import namespace, numpy_dtype
from scratchnn.optimizers.base import LearningRate, Optimizer, as_variable_dtype, formula


def _set_moment_hyperparameters(opt: Optimizer, beta_1, beta_2, epsilon) -> None:
    """Check and set the Adam family's decay rates (each in [0, 1)) and epsilon (>= 0).

    epsilon = 0 is allowed (as in Keras); a zero gradient then gives 0/0 = NaN weights, which
    ``fit`` reports as ``NonFiniteLossError``."""
    opt.beta_1 = check_real(beta_1, "beta_1", 0.0, 1.0, high_open=True)
    opt.beta_2 = check_real(beta_2, "beta_2", 0.0, 1.0, high_open=True)
    opt.epsilon = check_real(epsilon, "epsilon", 0.0)


def _moment_config(opt: Optimizer) -> dict:
    """The Adam family's config: the base config (learning rate, options set), beta_1,
    beta_2, epsilon."""
    return {**Optimizer.get_config(opt), "beta_1": opt.beta_1, "beta_2": opt.beta_2,
            "epsilon": opt.epsilon}


class Adam(Optimizer):
    r"""Adam, in Keras's form (the "epsilon hat" variant of Kingma & Ba, sec. 2):

    with :math:`t` = ``iterations + 1``,

    .. math::
        m \leftarrow m + (g - m)(1 - \beta_1), \qquad
        v \leftarrow v + (g^2 - v)(1 - \beta_2),

        \alpha = \eta\,\sqrt{1 - \beta_2^t} / (1 - \beta_1^t), \qquad
        \theta \leftarrow \theta - \alpha\, m / (\sqrt{v} + \hat\epsilon).

    The bias correction is folded into :math:`\alpha`, so :math:`\hat\epsilon` (default 1e-7)
    is added to the *uncorrected* :math:`\sqrt v`; the paper's :math:`\epsilon` would be
    :math:`\hat\epsilon / \sqrt{1-\beta_2^t}`.  The element-wise part is :func:`adam_update`.

    With ``amsgrad=True`` (Reddi et al. 2018) a third slot keeps the running maximum
    :math:`\hat v \leftarrow \max(\hat v, v)` and the step divides by :math:`\sqrt{\hat v}`
    instead (:func:`amsgrad_update`), so the effective step size never grows.
    """

    name = "adam"
    slot_names = ("m", "v")

    def __init__(self, learning_rate: LearningRate = 0.001, beta_1: float = 0.9,
                 beta_2: float = 0.999, epsilon: float = 1e-7, amsgrad: bool = False, **options):
        super().__init__(learning_rate, **options)
        self.amsgrad = check_bool(amsgrad, "amsgrad")
        self.slot_names = ("m", "v", "v_hat") if self.amsgrad else ("m", "v")
        _set_moment_hyperparameters(self, beta_1, beta_2, epsilon)

    def update_step(self, gradient, variable, learning_rate, slots):
        dt = numpy_dtype(variable).type
        gradient = as_variable_dtype(gradient, variable)  # Keras casts it first, too
        t = dt(self.iterations + 1)
        # Keras casts the betas with ops.cast (tf.cast of a Python float: via float32) before
        # the powers, so in float64 the bias corrections use float32-rounded betas.
        alpha = (dt(learning_rate) * np.sqrt(1 - dt(np.float32(self.beta_2)) ** t)
                 / (1 - dt(np.float32(self.beta_1)) ** t))
        # (1 - beta) and epsilon are Python floats in Keras: cast straight to the dtype.
        scalars = [float(s) for s in (alpha, dt(1 - self.beta_1), dt(1 - self.beta_2),
                                      dt(self.epsilon))]
        if self.amsgrad:
            amsgrad_update(gradient, slots["m"], slots["v"], slots["v_hat"], variable, *scalars)
        else:
            formula(adam_update, variable)(gradient, slots["m"], slots["v"], variable, *scalars)

    def get_config(self):
        config = _moment_config(self)
        if self.amsgrad:  # only when set: files written before amsgrad existed stay valid
            config["amsgrad"] = True
        return config


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter 2019), as Keras's ``AdamW``.

    Before each Adam step (:class:`Adam`, ``amsgrad`` included) every variable is shrunk,

    .. math:: \theta \leftarrow \theta - (\theta\,\lambda)\,\eta

    (the base class's ``weight_decay`` option, Keras's ``_apply_weight_decay``), with
    :math:`\lambda` = ``weight_decay``; the decay is not part of the gradient, so it does not
    enter :math:`m` or :math:`v`.  Keras applies it to every trainable variable (biases too).
    """

    name = "adamw"

    def __init__(self, learning_rate: LearningRate = 0.001, weight_decay: float = 0.004,
                 beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-7,
                 amsgrad: bool = False, **options):
        # Keras's AdamW requires a weight decay; the base class applies it.
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad,
                         weight_decay=check_real(weight_decay, "weight_decay", 0.0), **options)


@fastpath.replaceable("adam_update")
def adam_update(g: np.ndarray, m: np.ndarray, v: np.ndarray, var: np.ndarray, alpha,
                one_minus_beta_1, one_minus_beta_2, epsilon) -> None:
    r"""Adam's element-wise step (Keras's order):

    .. math::
        m \leftarrow m + (g - m)(1-\beta_1),\quad v \leftarrow v + (g^2 - v)(1-\beta_2),\quad
        \theta \leftarrow \theta - (m\alpha) / (\sqrt v + \hat\epsilon).

    ``g``, ``m``, ``v``, ``var``: same shape; ``m``, ``v`` and ``var`` are updated in place.
    ``alpha`` is the bias-corrected step size (see :class:`Adam`).
    """
    xp = namespace(var)
    m[...] = m + (g - m) * one_minus_beta_1
    v[...] = v + (xp.square(g) - v) * one_minus_beta_2
    var[...] = var - (m * alpha) / (xp.sqrt(v) + epsilon)


def amsgrad_update(g: np.ndarray, m: np.ndarray, v: np.ndarray, v_hat: np.ndarray,
                   var: np.ndarray, alpha, one_minus_beta_1, one_minus_beta_2, epsilon) -> None:
    r"""Adam with AMSGrad: as :func:`adam_update`, but :math:`\hat v \leftarrow \max(\hat v, v)`
    and :math:`\theta \leftarrow \theta - (m\alpha) / (\sqrt{\hat v} + \hat\epsilon)`.

    ``g``, ``m``, ``v``, ``v_hat``, ``var``: same shape; all but ``g`` updated in place."""
    xp = namespace(var)
    m[...] = m + (g - m) * one_minus_beta_1
    v[...] = v + (xp.square(g) - v) * one_minus_beta_2
    v_hat[...] = xp.maximum(v_hat, v)
    var[...] = var - (m * alpha) / (xp.sqrt(v_hat) + epsilon)
