r"""Optimizers with Keras 3's exact update algebra (``keras/src/optimizers/``).

An optimizer owns *slot* arrays per variable (momentums, velocities), a step counter
``iterations`` and a settable ``learning_rate``.  ``apply(grads, variables)`` calls
``update_step(grad, variable, lr)`` for each pair, updating the variables **in place**, then
increments ``iterations``.  Scalars are cast to the variable's dtype first, as Keras does, so
float32 models update in float32.

A ``Sequential`` model passes its parameters as one flat buffer (a single "variable"), which
makes each update a handful of whole-array NumPy operations; element-wise algebra gives the same
numbers either way.

Each update is written as a *kernel*: the update's formulas, one NumPy operation per Keras
operation and in Keras's order (so float32 rounds exactly as Keras does), with every result
written in place via ``out=``.  :func:`scratchnn.engine.perf.elementwise` runs the kernel over
cache-sized chunks of the flat buffer; that changes the speed only (an Adam step over the
407,050 parameters of a 784-512-10 network: ~1.4 ms as whole-array expressions, ~0.7 ms so).
"""

from __future__ import annotations

import numpy as np

from scratchnn.arguments import check_bool, check_real
from scratchnn.engine import perf
from scratchnn.registry import Registry


class Optimizer:
    """Base class: slots, the step counter and the learning rate."""

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
        for index, (g, v) in enumerate(zip(grads, variables)):
            self._index = index
            self.update_step(g, v, self.learning_rate)
        self.iterations += 1

    def apply_gradients(self, grads_and_vars) -> None:
        """Keras spelling: ``apply_gradients(zip(grads, variables))``."""
        pairs = list(grads_and_vars)
        self.apply([g for g, _ in pairs], [v for _, v in pairs])

    def slots(self, index: int | None = None) -> dict[str, np.ndarray]:
        """The slot arrays of variable ``index`` (default: the one being updated)."""
        return self._slots[self._index if index is None else index]

    def update_step(self, gradient: np.ndarray, variable: np.ndarray, learning_rate: float):
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

    * no momentum: :math:`\theta \leftarrow \theta - \eta g`;
    * momentum :math:`\mu`: :math:`m \leftarrow \mu m - \eta g`, then
      :math:`\theta \leftarrow \theta + m`, or with ``nesterov=True``
      :math:`\theta \leftarrow \theta + \mu m - \eta g` (using the new ``m``).
    """

    name = "sgd"

    def __init__(self, learning_rate: float = 0.01, momentum: float = 0.0,
                 nesterov: bool = False):
        super().__init__(learning_rate)
        self.momentum = check_real(momentum, "momentum", 0.0, 1.0)
        self.nesterov = check_bool(nesterov, "nesterov")
        self.slot_names = ("momentum",) if self.momentum != 0 else ()

    def update_step(self, gradient, variable, learning_rate):
        dt = variable.dtype.type
        gradient = np.asarray(gradient, dtype=variable.dtype)  # Keras casts it first, too
        lr = dt(learning_rate)
        if self.momentum == 0:
            perf.elementwise(_sgd_kernel, (gradient, variable), (lr,), n_scratch=1)
            return
        mu = dt(np.float32(self.momentum))  # Keras: ops.cast(momentum) goes through float32
        m = self.slots()["momentum"]
        kernel = _nesterov_kernel if self.nesterov else _momentum_kernel
        perf.elementwise(kernel, (gradient, m, variable), (lr, mu), n_scratch=2)

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
    :math:`\hat\epsilon / \sqrt{1-\beta_2^t}`.
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

    def update_step(self, gradient, variable, learning_rate):
        dt = variable.dtype.type
        gradient = np.asarray(gradient, dtype=variable.dtype)  # Keras casts it first, too
        t = dt(self.iterations + 1)
        # Keras casts the betas with ops.cast (tf.cast of a Python float: via float32) before
        # the powers, so in float64 the bias corrections use float32-rounded betas.
        alpha = (dt(learning_rate) * np.sqrt(1 - dt(np.float32(self.beta_2)) ** t)
                 / (1 - dt(np.float32(self.beta_1)) ** t))
        s = self.slots()
        # (1 - beta) and epsilon are Python floats in Keras: cast straight to the dtype.
        scalars = (alpha, dt(1 - self.beta_1), dt(1 - self.beta_2), dt(self.epsilon))
        perf.elementwise(_adam_kernel, (gradient, s["m"], s["v"], variable), scalars,
                         n_scratch=2)

    def get_config(self):
        return {"learning_rate": self.learning_rate, "beta_1": self.beta_1,
                "beta_2": self.beta_2, "epsilon": self.epsilon}


# -- update kernels: Keras's op order, one NumPy operation per Keras operation ------------------
# Arguments: the arrays updated in place, then scratch arrays t, u of the same shape (free to
# overwrite), then scalars already cast to the variable's dtype.


def _sgd_kernel(g, var, t, lr):
    # var -= g * lr
    np.subtract(var, np.multiply(g, lr, out=t), out=var)


def _momentum_kernel(g, m, var, t, u, lr, mu):
    # m = m * mu - g * lr;  var += m
    np.subtract(np.multiply(m, mu, out=t), np.multiply(g, lr, out=u), out=m)
    np.add(var, m, out=var)


def _nesterov_kernel(g, m, var, t, u, lr, mu):
    # m = m * mu - g * lr;  var += m * mu - g * lr
    np.subtract(np.multiply(m, mu, out=t), np.multiply(g, lr, out=u), out=m)
    np.subtract(np.multiply(m, mu, out=t), u, out=t)
    np.add(var, t, out=var)


def _adam_kernel(g, m, v, var, t, u, alpha, one_minus_beta_1, one_minus_beta_2, epsilon):
    # m += (g - m) * (1 - beta_1)
    np.add(m, np.multiply(np.subtract(g, m, out=t), one_minus_beta_1, out=t), out=m)
    # v += (g**2 - v) * (1 - beta_2)
    np.add(v, np.multiply(np.subtract(np.square(g, out=t), v, out=t), one_minus_beta_2, out=t),
           out=v)
    # var -= (m * alpha) / (sqrt(v) + epsilon)
    np.add(np.sqrt(v, out=u), epsilon, out=u)
    np.subtract(var, np.divide(np.multiply(m, alpha, out=t), u, out=t), out=var)


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
