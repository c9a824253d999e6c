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
        for g, v, slots in zip(grads, variables, self._slots):
            self.update_step(g, v, self.learning_rate, slots)
        self.iterations += 1

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
    """

    name = "adam"
    slot_names = ("m", "v")

    def __init__(self, learning_rate: float = 0.001, beta_1: float = 0.9,
                 beta_2: float = 0.999, epsilon: float = 1e-7):
        super().__init__(learning_rate)
        self.beta_1 = check_real(beta_1, "beta_1", 0.0, 1.0, high_open=True)
        self.beta_2 = check_real(beta_2, "beta_2", 0.0, 1.0, high_open=True)
        # epsilon = 0 is allowed (as in Keras); a zero gradient then gives 0/0 = NaN weights,
        # which fit reports as NonFiniteLossError.
        self.epsilon = check_real(epsilon, "epsilon", 0.0)

    def update_step(self, gradient, variable, learning_rate, slots):
        dt = variable.dtype.type
        gradient = np.asarray(gradient, dtype=variable.dtype)  # Keras casts it first, too
        t = dt(self.iterations + 1)
        # Keras casts the betas with ops.cast (tf.cast of a Python float: via float32) before
        # the powers, so in float64 the bias corrections use float32-rounded betas.
        alpha = (dt(learning_rate) * np.sqrt(1 - dt(np.float32(self.beta_2)) ** t)
                 / (1 - dt(np.float32(self.beta_1)) ** t))
        # (1 - beta) and epsilon are Python floats in Keras: cast straight to the dtype.
        adam_update(gradient, slots["m"], slots["v"], variable, alpha,
                    dt(1 - self.beta_1), dt(1 - self.beta_2), dt(self.epsilon))

    def get_config(self):
        return {"learning_rate": self.learning_rate, "beta_1": self.beta_1,
                "beta_2": self.beta_2, "epsilon": self.epsilon}


# -- the update rules: Keras's op order, one NumPy operation per Keras operation ----------------
# Arrays (all of one shape) are updated in place; scalars are already cast to their dtype.
# Each is replaceable by a faster drop-in with bitwise the same results (scratchnn.fastpath).


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


OPTIMIZERS: Registry[Optimizer] = Registry("optimizer", base=Optimizer)
OPTIMIZERS.add(SGD, "sgd")
OPTIMIZERS.add(Adam, "adam")


def get(identifier: str | dict | Optimizer) -> Optimizer:
    """Resolve 'sgd' / 'adam' (Keras defaults) or a spec dict; pass an Optimizer through."""
    return OPTIMIZERS.get(identifier)


def serialize(opt: Optimizer) -> dict:
    """``{"name": ..., "config": ...}`` for saving (the slots are saved separately)."""
    return OPTIMIZERS.serialize(opt)


def deserialize(spec: dict) -> Optimizer:
    """Inverse of :func:`serialize`."""
    return OPTIMIZERS.deserialize(spec)
