r"""Optimizers with Keras 3's exact update algebra (``keras/src/optimizers/``).

An optimizer owns *slot* arrays per variable (momentums, velocities), a step counter
``iterations`` and a settable ``learning_rate``.  ``apply(grads, variables)`` calls
``update_step(gradient, variable, learning_rate, slots)`` for each pair, where ``slots`` is that
variable's own dict of slot arrays (Keras 3 looks them up per variable the same way), updating
the variable and its slots **in place**; then it increments ``iterations``.  Scalars are cast to
the variable's dtype first, as Keras does, so float32 models update in float32.

A ``Sequential`` model passes its parameters as one flat buffer (a single "variable"), which
makes each update a handful of whole-array NumPy operations; element-wise algebra gives the same
numbers either way.

Each update rule is a small function below (:func:`sgd_update`, :func:`momentum_update`,
:func:`nesterov_update`, :func:`adam_update`): the formulas as plain NumPy expressions, one
operation per Keras operation and in Keras's order, so float32 rounds exactly as Keras does.
The engine registers a faster drop-in for each (``scratchnn/engine/perf.py``: the same
operations written in place over cache-sized chunks; bitwise the same results, see
:mod:`scratchnn.fastpath`); ``scratchnn.config.set_fast_paths(False)`` runs these plain ones.
"""

from __future__ import annotations

import numpy as np

from scratchnn import fastpath
from scratchnn.arguments import check_bool, check_real
from scratchnn.registry import Registry


class Optimizer:
    """Base class: slots, the step counter and the learning rate.

    Subclasses set ``slot_names`` and implement
    ``update_step(gradient, variable, learning_rate, slots)``.
    """

    name = "optimizer"
    slot_names: tuple[str, ...] = ()
    #: True when a step needs each variable separately (per-variable gradient norms).
    needs_per_variable_gradients = False

    def __init__(self, learning_rate: float = 0.001):
        self.learning_rate = learning_rate
        self.iterations = 0
        self._slots: list[dict[str, np.ndarray]] = []
        self._shapes: list[tuple[tuple[int, ...], np.dtype]] = []

    @property
    def learning_rate(self) -> float:
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        self._learning_rate = check_real(value, "learning_rate", 0.0)

    def build(self, variables: list[np.ndarray]) -> None:
        """Create zeroed slots for ``variables`` (called on the first ``apply``)."""
        self._shapes = [(v.shape, v.dtype) for v in variables]
        self._slots = [{s: np.zeros_like(v) for s in self.slot_names} for v in variables]

    @property
    def built(self) -> bool:
        return bool(self._shapes)

    def apply(self, grads: list[np.ndarray], variables: list[np.ndarray]) -> None:
        """Update every variable in place from its gradient, then count one step."""
        if len(grads) != len(variables):
            raise ValueError(f"got {len(grads)} gradients for {len(variables)} variables")
        if not self.built:
            self.build(variables)
        elif [(v.shape, v.dtype) for v in variables] != self._shapes:
            raise ValueError("variables do not match the ones this optimizer was built for")
        self._before_steps()
        for g, v, slots in zip(grads, variables, self._slots):
            self.update_step(g, v, self.learning_rate, slots)
        self.iterations += 1

    def _before_steps(self) -> None:
        """Hook run once per ``apply``, before the per-variable steps (Nadam's product)."""

    def apply_gradients(self, grads_and_vars) -> None:
        """Keras spelling: ``apply_gradients(zip(grads, variables))``."""
        pairs = list(grads_and_vars)
        self.apply([g for g, _ in pairs], [v for _, v in pairs])

    def slots(self, index: int) -> dict[str, np.ndarray]:
        """The slot arrays (name -> array, shaped like the variable) of variable ``index``."""
        return self._slots[index]

    def update_step(self, gradient: np.ndarray, variable: np.ndarray, learning_rate: float,
                    slots: dict[str, np.ndarray]) -> None:
        """Update ``variable`` (and its ``slots``, name -> array of the variable's shape) in
        place from ``gradient``; ``iterations`` is the number of earlier steps."""
        raise NotImplementedError

    # -- state for saving ---------------------------------------------------------------------
    def get_config(self) -> dict:
        return {"learning_rate": self.learning_rate}

    def get_state(self) -> dict[str, np.ndarray]:
        state = {"iterations": np.array(self.iterations, dtype=np.int64)}
        for i, slots in enumerate(self._slots):
            for name, arr in slots.items():
                state[f"{i}/{name}"] = arr
        return state

    def set_state(self, state: dict[str, np.ndarray], variables: list[np.ndarray]) -> None:
        self.build(variables)
        self.iterations = int(state["iterations"])
        for i, slots in enumerate(self._slots):
            for name, arr in slots.items():
                saved = state[f"{i}/{name}"]
                if saved.shape != arr.shape:
                    raise ValueError(f"optimizer slot {i}/{name} has shape {saved.shape}, "
                                     f"expected {arr.shape}")
                arr[...] = saved

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.get_config()} iterations={self.iterations}>"


def _set_moment_hyperparameters(opt: Optimizer, beta_1, beta_2, epsilon) -> None:
    """Check and set the Adam family's decay rates (each in [0, 1)) and epsilon (>= 0).

    epsilon = 0 is allowed (as in Keras); a zero gradient then gives 0/0 = NaN weights, which
    ``fit`` reports as ``NonFiniteLossError``."""
    opt.beta_1 = check_real(beta_1, "beta_1", 0.0, 1.0, high_open=True)
    opt.beta_2 = check_real(beta_2, "beta_2", 0.0, 1.0, high_open=True)
    opt.epsilon = check_real(epsilon, "epsilon", 0.0)


def _moment_config(opt: Optimizer) -> dict:
    """The Adam family's config: learning rate, beta_1, beta_2, epsilon."""
    return {"learning_rate": opt.learning_rate, "beta_1": opt.beta_1, "beta_2": opt.beta_2,
            "epsilon": opt.epsilon}


class SGD(Optimizer):
    r"""Stochastic gradient descent, optionally with (Nesterov) momentum.

    * no momentum: :math:`\theta \leftarrow \theta - \eta g` (:func:`sgd_update`);
    * momentum :math:`\mu`: :math:`m \leftarrow \mu m - \eta g`, then
      :math:`\theta \leftarrow \theta + m` (:func:`momentum_update`), or with ``nesterov=True``
      :math:`\theta \leftarrow \theta + \mu m - \eta g` using the new ``m``
      (:func:`nesterov_update`).
    """

    name = "sgd"

    def __init__(self, learning_rate: float = 0.01, momentum: float = 0.0,
                 nesterov: bool = False):
        super().__init__(learning_rate)
        self.momentum = check_real(momentum, "momentum", 0.0, 1.0)
        self.nesterov = check_bool(nesterov, "nesterov")
        self.slot_names = ("momentum",) if self.momentum != 0 else ()

    def update_step(self, gradient, variable, learning_rate, slots):
        dt = variable.dtype.type
        gradient = np.asarray(gradient, dtype=variable.dtype)  # Keras casts it first, too
        lr = dt(learning_rate)
        if self.momentum == 0:
            sgd_update(gradient, variable, lr)
            return
        mu = dt(np.float32(self.momentum))  # Keras: ops.cast(momentum) goes through float32
        update = nesterov_update if self.nesterov else momentum_update
        update(gradient, slots["momentum"], variable, lr, mu)

    def get_config(self):
        return {"learning_rate": self.learning_rate, "momentum": self.momentum,
                "nesterov": self.nesterov}


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

    def __init__(self, learning_rate: float = 0.001, beta_1: float = 0.9,
                 beta_2: float = 0.999, epsilon: float = 1e-7, amsgrad: bool = False):
        super().__init__(learning_rate)
        self.amsgrad = check_bool(amsgrad, "amsgrad")
        self.slot_names = ("m", "v", "v_hat") if self.amsgrad else ("m", "v")
        _set_moment_hyperparameters(self, beta_1, beta_2, epsilon)

    def update_step(self, gradient, variable, learning_rate, slots):
        dt = variable.dtype.type
        gradient = np.asarray(gradient, dtype=variable.dtype)  # Keras casts it first, too
        t = dt(self.iterations + 1)
        # Keras casts the betas with ops.cast (tf.cast of a Python float: via float32) before
        # the powers, so in float64 the bias corrections use float32-rounded betas.
        alpha = (dt(learning_rate) * np.sqrt(1 - dt(np.float32(self.beta_2)) ** t)
                 / (1 - dt(np.float32(self.beta_1)) ** t))
        # (1 - beta) and epsilon are Python floats in Keras: cast straight to the dtype.
        scalars = (alpha, dt(1 - self.beta_1), dt(1 - self.beta_2), dt(self.epsilon))
        if self.amsgrad:
            amsgrad_update(gradient, slots["m"], slots["v"], slots["v_hat"], variable, *scalars)
        else:
            adam_update(gradient, slots["m"], slots["v"], variable, *scalars)

    def get_config(self):
        config = _moment_config(self)
        if self.amsgrad:  # only when set: files written before amsgrad existed stay valid
            config["amsgrad"] = True
        return config


def _f32(value: float, dt):
    """Keras's ``ops.cast(python_float, dtype)``: tf.cast makes a float32 constant first."""
    return dt(np.float32(value))


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter 2019), as Keras's ``AdamW``.

    Before each Adam step (:class:`Adam`, ``amsgrad`` included) every variable is shrunk,

    .. math:: \theta \leftarrow \theta - (\theta\,\lambda)\,\eta

    (:func:`weight_decay_update`, Keras's ``BaseOptimizer._apply_weight_decay``), with
    :math:`\lambda` = ``weight_decay``; the decay is not part of the gradient, so it does not
    enter :math:`m` or :math:`v`.  Keras applies it to every trainable variable (biases too).
    """

    name = "adamw"

    def __init__(self, learning_rate: float = 0.001, weight_decay: float = 0.004,
                 beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-7,
                 amsgrad: bool = False):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad)
        self.weight_decay = check_real(weight_decay, "weight_decay", 0.0)

    def update_step(self, gradient, variable, learning_rate, slots):
        dt = variable.dtype.type
        # Keras: lr = ops.cast(learning_rate variable), wd = ops.cast(python float) (via float32)
        weight_decay_update(variable, _f32(self.weight_decay, dt), dt(learning_rate))
        super().update_step(gradient, variable, learning_rate, slots)

    def get_config(self):
        return {**super().get_config(), "weight_decay": self.weight_decay}


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

    def __init__(self, learning_rate: float = 0.001, rho: float = 0.9, momentum: float = 0.0,
                 epsilon: float = 1e-7, centered: bool = False):
        super().__init__(learning_rate)
        self.rho = check_real(rho, "rho", 0.0, 1.0)
        self.momentum = check_real(momentum, "momentum", 0.0, 1.0)
        self.epsilon = check_real(epsilon, "epsilon", 0.0)
        self.centered = check_bool(centered, "centered")
        self.slot_names = (("velocity",) + (("momentum",) if self.momentum > 0 else ())
                           + (("average_gradient",) if self.centered else ()))

    def update_step(self, gradient, variable, learning_rate, slots):
        dt = variable.dtype.type
        gradient = np.asarray(gradient, dtype=variable.dtype)
        # rho, 1 - rho, momentum, epsilon: Python floats in Keras, converted straight to dtype
        rmsprop_update(gradient, slots["velocity"], slots.get("average_gradient"),
                       slots.get("momentum"), variable, dt(learning_rate), dt(self.rho),
                       dt(1 - self.rho), dt(self.momentum), dt(self.epsilon))

    def get_config(self):
        return {"learning_rate": self.learning_rate, "rho": self.rho, "momentum": self.momentum,
                "epsilon": self.epsilon, "centered": self.centered}


class Adagrad(Optimizer):
    r"""Adagrad (Duchi et al. 2011), Keras's form: the accumulator starts at
    ``initial_accumulator_value`` (0.1, rounded through float32 as Keras's ``Constant``
    initializer does) and

    .. math:: a \leftarrow a + g^2, \qquad \theta \leftarrow \theta - \eta g / \sqrt{a + \epsilon}

    (:func:`adagrad_update`): each coordinate's rate decays with its own gradient history.
    """

    name = "adagrad"
    slot_names = ("accumulator",)

    def __init__(self, learning_rate: float = 0.001, initial_accumulator_value: float = 0.1,
                 epsilon: float = 1e-7):
        super().__init__(learning_rate)
        self.initial_accumulator_value = check_real(
            initial_accumulator_value, "initial_accumulator_value", 0.0)
        self.epsilon = check_real(epsilon, "epsilon", 0.0)

    def build(self, variables):
        super().build(variables)
        for slots in self._slots:  # Keras: initializers.Constant(value) does ops.cast(value)
            acc = slots["accumulator"]
            acc[...] = _f32(self.initial_accumulator_value, acc.dtype.type)

    def update_step(self, gradient, variable, learning_rate, slots):
        dt = variable.dtype.type
        gradient = np.asarray(gradient, dtype=variable.dtype)
        adagrad_update(gradient, slots["accumulator"], variable, dt(learning_rate),
                       dt(self.epsilon))

    def get_config(self):
        return {"learning_rate": self.learning_rate,
                "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}


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

    def __init__(self, learning_rate: float = 0.001, beta_1: float = 0.9,
                 beta_2: float = 0.999, epsilon: float = 1e-7):
        super().__init__(learning_rate)
        _set_moment_hyperparameters(self, beta_1, beta_2, epsilon)

    def update_step(self, gradient, variable, learning_rate, slots):
        dt = variable.dtype.type
        gradient = np.asarray(gradient, dtype=variable.dtype)
        correction = 1 - _f32(self.beta_1, dt) ** dt(self.iterations + 1)
        adamax_update(gradient, slots["m"], slots["u"], variable, dt(learning_rate),
                      dt(1 - self.beta_1), dt(self.beta_2), dt(self.epsilon), correction)

    def get_config(self):
        return _moment_config(self)


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

    def __init__(self, learning_rate: float = 0.001, beta_1: float = 0.9,
                 beta_2: float = 0.999, epsilon: float = 1e-7):
        super().__init__(learning_rate)
        _set_moment_hyperparameters(self, beta_1, beta_2, epsilon)
        self._u_product = np.float64(1.0)

    def build(self, variables):
        super().build(variables)
        self._u_product = variables[0].dtype.type(1.0) if variables else np.float64(1.0)

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
        dt = variable.dtype.type
        gradient = np.asarray(gradient, dtype=variable.dtype)
        beta_1, decay = _f32(self.beta_1, dt), _f32(0.96, dt)
        beta_2 = _f32(self.beta_2, dt)
        u_t = beta_1 * (dt(1.0) - dt(0.5) * decay ** dt(self.iterations + 1))
        u_t_1 = beta_1 * (dt(1.0) - dt(0.5) * decay ** dt(self.iterations + 2))
        u_product_t = dt(self._u_product)
        u_product_t_1 = u_product_t * u_t_1
        beta_2_power = beta_2 ** dt(self.iterations + 1)
        nadam_update(gradient, slots["m"], slots["v"], variable, dt(learning_rate),
                     dt(1) - beta_1, dt(1) - beta_2, dt(self.epsilon),
                     (u_t, u_t_1, u_product_t, u_product_t_1, beta_2_power))

    def get_config(self):
        return _moment_config(self)


# -- the update rules: Keras's op order, one NumPy operation per Keras operation ----------------
# Arrays (all of one shape) are updated in place; scalars are already cast to their dtype.
# The first four are replaceable by a faster drop-in with bitwise the same results
# (scratchnn.fastpath); the rest have no fast kernel yet, so they are plain functions (adding
# ``@fastpath.replaceable`` requires registering a drop-in and its test, see test_fastpath.py).


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
    m[...] = m + (g - m) * one_minus_beta_1
    v[...] = v + (np.square(g) - v) * one_minus_beta_2
    var[...] = var - (m * alpha) / (np.sqrt(v) + epsilon)


def amsgrad_update(g: np.ndarray, m: np.ndarray, v: np.ndarray, v_hat: np.ndarray,
                   var: np.ndarray, alpha, one_minus_beta_1, one_minus_beta_2, epsilon) -> None:
    r"""Adam with AMSGrad: as :func:`adam_update`, but :math:`\hat v \leftarrow \max(\hat v, v)`
    and :math:`\theta \leftarrow \theta - (m\alpha) / (\sqrt{\hat v} + \hat\epsilon)`.

    ``g``, ``m``, ``v``, ``v_hat``, ``var``: same shape; all but ``g`` updated in place."""
    m[...] = m + (g - m) * one_minus_beta_1
    v[...] = v + (np.square(g) - v) * one_minus_beta_2
    v_hat[...] = np.maximum(v_hat, v)
    var[...] = var - (m * alpha) / (np.sqrt(v_hat) + epsilon)


def weight_decay_update(var: np.ndarray, weight_decay, lr) -> None:
    r"""Decoupled weight decay, :math:`\theta \leftarrow \theta - (\theta\lambda)\eta`
    (``var`` updated in place)."""
    var[...] = var - var * weight_decay * lr


def rmsprop_update(g: np.ndarray, v: np.ndarray, avg: np.ndarray | None, p: np.ndarray | None,
                   var: np.ndarray, lr, rho, one_minus_rho, momentum, epsilon) -> None:
    r"""RMSprop's element-wise step (Keras's order, see :class:`RMSprop`):
    :math:`v \leftarrow \rho v + (1-\rho) g^2`; if ``avg`` (centered)
    :math:`\bar g \leftarrow \rho\bar g + (1-\rho) g`, :math:`d = (v - \bar g^2) + \epsilon`,
    else :math:`d = v + \epsilon`; :math:`\Delta = (\eta g)/\sqrt d`; then with momentum slot
    ``p``: :math:`p \leftarrow \mu p + \Delta`, :math:`\theta \leftarrow \theta - p`, else
    :math:`\theta \leftarrow \theta - \Delta`.  Arrays: same shape, updated in place."""
    v[...] = rho * v + one_minus_rho * np.square(g)
    if avg is not None:
        avg[...] = rho * avg + one_minus_rho * g
        denominator = v - np.square(avg) + epsilon
    else:
        denominator = v + epsilon
    increment = (lr * g) / np.sqrt(denominator)
    if p is not None:
        p[...] = momentum * p + increment
        var[...] = var - p
    else:
        var[...] = var - increment


def adagrad_update(g: np.ndarray, acc: np.ndarray, var: np.ndarray, lr, epsilon) -> None:
    r"""Adagrad: :math:`a \leftarrow a + g^2`,
    :math:`\theta \leftarrow \theta - (\eta g)/\sqrt{a + \epsilon}`.  Arrays: same shape;
    ``acc`` and ``var`` updated in place."""
    acc[...] = acc + np.square(g)
    var[...] = var - (lr * g) / np.sqrt(acc + epsilon)


def adamax_update(g: np.ndarray, m: np.ndarray, u: np.ndarray, var: np.ndarray, lr,
                  one_minus_beta_1, beta_2, epsilon, correction) -> None:
    r"""Adamax: :math:`m \leftarrow m + (g-m)(1-\beta_1)`, :math:`u \leftarrow
    \max(\beta_2 u, |g|)`, :math:`\theta \leftarrow \theta - (\eta m)/(c\,(u + \epsilon))`
    with ``correction`` :math:`c = 1-\beta_1^t`.  Arrays: same shape, updated in place."""
    m[...] = m + (g - m) * one_minus_beta_1
    u[...] = np.maximum(beta_2 * u, np.abs(g))
    var[...] = var - (lr * m) / (correction * (u + epsilon))


def nadam_update(g: np.ndarray, m: np.ndarray, v: np.ndarray, var: np.ndarray, lr,
                 one_minus_beta_1, one_minus_beta_2, epsilon, schedule) -> None:
    r"""Nadam's element-wise step (see :class:`Nadam`); ``schedule`` is
    :math:`(\mu_t, \mu_{t+1}, \Pi_t, \Pi_t\mu_{t+1}, \beta_2^t)`.  Arrays: same shape;
    ``m``, ``v``, ``var`` updated in place."""
    u_t, u_t_1, u_product_t, u_product_t_1, beta_2_power = schedule
    m[...] = m + (g - m) * one_minus_beta_1
    v[...] = v + (np.square(g) - v) * one_minus_beta_2
    m_hat = (u_t_1 * m) / (1 - u_product_t_1) + ((1 - u_t) * g) / (1 - u_product_t)
    v_hat = v / (1 - beta_2_power)
    var[...] = var - (m_hat * lr) / (np.sqrt(v_hat) + epsilon)


OPTIMIZERS: Registry[Optimizer] = Registry("optimizer", base=Optimizer)
OPTIMIZERS.add(SGD, "sgd")
OPTIMIZERS.add(Adam, "adam")
OPTIMIZERS.add(AdamW, "adamw")
OPTIMIZERS.add(RMSprop, "rmsprop")
OPTIMIZERS.add(Adagrad, "adagrad")
OPTIMIZERS.add(Adamax, "adamax")
OPTIMIZERS.add(Nadam, "nadam")


def get(identifier: str | dict | Optimizer) -> Optimizer:
    """Resolve a registered name ('sgd', 'adam', 'rmsprop', ...: Keras defaults) or a spec
    dict; pass an Optimizer through."""
    return OPTIMIZERS.get(identifier)


def serialize(opt: Optimizer) -> dict:
    """``{"name": ..., "config": ...}`` for saving (the slots are saved separately)."""
    return OPTIMIZERS.serialize(opt)


def deserialize(spec: dict) -> Optimizer:
    """Inverse of :func:`serialize`."""
    return OPTIMIZERS.deserialize(spec)
