"""Keras optimizers equivalent to scratchnn's, and a harness that feeds both the same gradients.

scratchnn's optimizers (``SGD``, ``Adam``, ``AdamW``, ``RMSprop``, ``Adagrad``, ``Adamax``,
``Nadam``, ``Adadelta``), their options (clipping, weight decay) and learning-rate schedules
follow the update algebra of ``keras/src/optimizers/*.py`` operation by operation (see
:mod:`scratchnn.optimizers`), so in float64 the two agree to the last bit or nearly so; the
remaining differences come from ``pow``/``sqrt`` implementations (TensorFlow's Eigen kernels vs
NumPy's libm calls), which may round differently in the last place.

Keras keeps the learning rate in a variable of dtype ``keras.config.floatx()``; build the Keras
optimizer for a float64 model with ``dtype="float64"`` (as :func:`optimizer` does when given
the model's dtype) or the rate is first rounded to float32.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from scratchnn import optimizers as snn_opt

from .backend import dtype_name, keras_floatx, require_tf
from .compare import Diff, compare

#: scratchnn optimizer class -> Keras class name; both take the same keyword arguments, which
#: are exactly the scratchnn optimizer's ``get_config()``.
_KERAS_NAMES = {snn_opt.SGD: "SGD", snn_opt.Adam: "Adam", snn_opt.AdamW: "AdamW",
                snn_opt.RMSprop: "RMSprop", snn_opt.Adagrad: "Adagrad",
                snn_opt.Adamax: "Adamax", snn_opt.Nadam: "Nadam",
                snn_opt.Adadelta: "Adadelta"}


def optimizer(opt: snn_opt.Optimizer | str, dtype=None):
    """A fresh Keras optimizer with the hyperparameters of scratchnn ``opt``.

    Parameters
    ----------
    opt : a scratchnn optimizer of a class in ``_KERAS_NAMES`` (or its registered name for the
        defaults).
    dtype : dtype of the model it will train; sets the dtype of Keras's learning-rate
        variable (default: ``keras.config.floatx()``).

    Returns
    -------
    The Keras class of the same name built with ``opt.get_config()`` (e.g.
    ``keras.optimizers.RMSprop(learning_rate, rho, momentum, epsilon, centered)``, options such
    as ``clipnorm`` included; a schedule becomes its Keras twin, see :func:`schedule`), with
    iteration count 0 and fresh slots whatever the state of ``opt``.
    """
    _, keras = require_tf()
    opt = snn_opt.get(opt)
    name = _KERAS_NAMES.get(type(opt))
    if name is None:
        raise ValueError(f"no Keras equivalent known for optimizer {opt!r}")
    config = opt.get_config()
    if isinstance(config["learning_rate"], dict):
        config["learning_rate"] = schedule(config["learning_rate"])
    make = lambda: getattr(keras.optimizers, name)(**config)  # noqa: E731
    if dtype is None:
        return make()
    with keras_floatx(dtype):
        return make()


def schedule(spec):
    """The Keras learning-rate schedule for scratchnn's serialized one
    (``{"class_name": "CosineDecay", "config": {...}}``, or a scratchnn schedule object):
    ``keras.optimizers.schedules.<class_name>(**config)``; the arguments are the same."""
    _, keras = require_tf()
    if not isinstance(spec, dict):
        spec = snn_opt.schedules.serialize(spec)
    return getattr(keras.optimizers.schedules, spec["class_name"])(**spec["config"])


def from_keras_optimizer(keras_opt) -> snn_opt.Optimizer:
    """The scratchnn optimizer with the class, hyperparameters, clipping and weight-decay options
    and learning-rate schedule of a Keras optimizer (fresh state):
    :func:`tfref.keras_model.scratchnn_optimizer`.

    Raises ``ValueError`` for options scratchnn does not implement (AMSGrad, EMA, gradient
    accumulation, loss scaling).
    """
    from .keras_model import scratchnn_optimizer

    return scratchnn_optimizer(keras_opt)


def run_optimizers(
    opt: snn_opt.Optimizer,
    initial: Sequence[np.ndarray],
    grads: Callable[[int], Sequence[np.ndarray]],
    steps: int,
    learning_rates: dict[int, float] | None = None,
    on_step: Callable[[int, list[np.ndarray], list[np.ndarray]], None] | None = None,
) -> list[Diff]:
    """Drive scratchnn ``opt`` and its Keras twin with the same gradient sequence.

    Parameters
    ----------
    opt : a fresh scratchnn optimizer (its state is used and advanced).
    initial : starting values of the variables; their dtype (all the same) is the dtype of
        the comparison.  Copies are made for both sides.
    grads : ``grads(step)`` returns the gradients for step ``step`` (0-based), one array per
        variable, same shapes; both optimizers receive exactly these numbers.
    steps : number of updates.
    learning_rates : ``{step: lr}`` — before update ``step``, set the learning rate of both
        optimizers to ``lr`` (``optimizer.learning_rate = lr``, a variable assignment in
        Keras).
    on_step : called as ``on_step(step, ours, theirs)`` after each update with both sides'
        variables (NumPy arrays), e.g. to assert on them with a detailed message.

    Returns
    -------
    One :class:`Diff` per step: the worst distance over all variables after that update.
    """
    tf, keras = require_tf()
    dtype = dtype_name(initial[0].dtype)
    ours = [np.array(v, dtype=dtype) for v in initial]
    schedule = dict(learning_rates or {})
    with keras_floatx(dtype):
        theirs = [keras.Variable(np.array(v, dtype=dtype), dtype=dtype) for v in initial]
        kopt = optimizer(opt, dtype)

        def keras_apply(gs):
            kopt.apply(gs, theirs)

        if opt.schedule is None:
            # Eager with a schedule: inside tf.function, Grappler's rewrites and Eigen's
            # vectorised kernels compute some float32 schedule values 1-2 ulp differently from
            # the eager (and documented) keras.optimizers.schedules call, which scratchnn's
            # schedules match bitwise.
            keras_apply = tf.function(keras_apply, reduce_retracing=True)

        diffs = []
        for step in range(steps):
            if step in schedule:
                opt.learning_rate = schedule[step]
                kopt.learning_rate = schedule[step]
            g = [np.asarray(a, dtype=dtype) for a in grads(step)]
            opt.apply(g, ours)
            keras_apply([tf.constant(a) for a in g])
            values = [t.numpy() for t in theirs]
            diffs.append(Diff.worst(compare(o, t) for o, t in zip(ours, values)))
            if on_step is not None:
                on_step(step, ours, values)
    return diffs
