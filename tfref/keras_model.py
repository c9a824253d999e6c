"""Compile settings and optimizer state of a user's Keras model, in scratchnn's terms.

:func:`tfref.convert.from_keras` uses these to convert a Keras ``Sequential`` that scratchnn did
not build (for example one loaded with ``keras.models.load_model("model.keras")``):

* :func:`scratchnn_loss` — every loss scratchnn has, with its options (``from_logits``,
  ``label_smoothing``, Huber's ``delta``); Keras's reduction must be the default
  ``"sum_over_batch_size"`` and the class axis the last one.
* :func:`scratchnn_optimizer` — every optimizer scratchnn has (the Keras class of the same name,
  see :data:`tfref.optim._KERAS_NAMES`), with ``clipnorm``/``clipvalue``/``global_clipnorm``/
  ``weight_decay`` and learning-rate schedules.  A constant rate is read from Keras's variable
  (``learning_rate`` is stored rounded to that variable's dtype, float32 by default), so both
  sides step with the same number.
* :func:`copy_optimizer_state` — the step count and every slot of a trained Keras optimizer.
  Keras keeps slot ``s`` of trainable variable ``j`` in a list attribute (``_momentums[j]``,
  ``_velocities[j]``, ...; :data:`SLOT_ATTRIBUTES`), ``j`` the variable's position in the
  model's ``trainable_variables``, the order Keras builds its optimizer in;
  scratchnn keeps ``state["{i}/{s}"]`` for its ``i``-th optimizer variable: one flat buffer
  (the trainable weights raveled and concatenated in ``trainable_weights`` order, ``i = 0``)
  or, with ``clipnorm``/``global_clipnorm``, one entry per trainable weight.  Nadam's
  ``_u_product`` is not copied: scratchnn recomputes it from the step count.
* :func:`metric_names` — the metrics given to Keras's ``compile`` by name.
"""

from __future__ import annotations

import inspect

import numpy as np

from scratchnn import losses as snn_losses
from scratchnn import optimizers as snn_opt

from .backend import require_tf
from .optim import _KERAS_NAMES

#: scratchnn loss name -> Keras loss class name.
LOSS_NAMES = {
    "categorical_crossentropy": "CategoricalCrossentropy",
    "sparse_categorical_crossentropy": "SparseCategoricalCrossentropy",
    "mean_squared_error": "MeanSquaredError",
    "binary_crossentropy": "BinaryCrossentropy",
    "mean_absolute_error": "MeanAbsoluteError",
    "huber": "Huber",
    "kl_divergence": "KLDivergence",
}
#: Keras loss config entries that must have these values (scratchnn has no other).
_LOSS_FIXED = {"reduction": "sum_over_batch_size", "axis": -1, "ignore_class": None}
#: Keras optimizer config entries that scratchnn ignores, and the values it requires of them.
_OPTIMIZER_FIXED = {"use_ema": False, "amsgrad": False, "loss_scale_factor": None,
                    "gradient_accumulation_steps": None}
_OPTIMIZER_FIXED_NAMES = {"use_ema": "EMA", "amsgrad": "AMSGrad",
                          "loss_scale_factor": "loss scaling",
                          "gradient_accumulation_steps": "gradient accumulation"}
_OPTIMIZER_IGNORED = ("name", "ema_momentum", "ema_overwrite_frequency")
#: scratchnn slot name -> the Keras optimizer attribute listing that slot per variable.
SLOT_ATTRIBUTES = {
    (snn_opt.SGD, "momentum"): "momentums",
    (snn_opt.Adam, "m"): "_momentums", (snn_opt.Adam, "v"): "_velocities",
    (snn_opt.Adam, "v_hat"): "_velocity_hats",
    (snn_opt.Nadam, "m"): "_momentums", (snn_opt.Nadam, "v"): "_velocities",
    (snn_opt.RMSprop, "velocity"): "_velocities", (snn_opt.RMSprop, "momentum"): "_momentums",
    (snn_opt.RMSprop, "average_gradient"): "_average_gradients",
    (snn_opt.Adagrad, "accumulator"): "_accumulators",
    (snn_opt.Adamax, "m"): "_m", (snn_opt.Adamax, "u"): "_u",
    (snn_opt.Adadelta, "accumulated_grad"): "_accumulated_grads",
    (snn_opt.Adadelta, "accumulated_delta_var"): "_accumulated_delta_vars",
}


def _parameters(cls) -> set[str]:
    return set(inspect.signature(cls.__init__).parameters) - {"self", "options"}


def scratchnn_loss(keras_loss) -> snn_losses.Loss:
    """The scratchnn loss equivalent to a Keras loss object, loss function or name.

    Raises ``ValueError`` for a loss scratchnn does not have or an option it does not implement
    (a non-default reduction or axis, ``ignore_class``).
    """
    _, keras = require_tf()
    if isinstance(keras_loss, str) or inspect.isfunction(keras_loss):
        name = keras_loss if isinstance(keras_loss, str) else keras_loss.__name__
        try:
            return snn_losses.get(name)
        except (KeyError, ValueError):
            raise ValueError(f"Keras loss {name!r} has no scratchnn equivalent") from None
    for ours_name, keras_name in LOSS_NAMES.items():
        if type(keras_loss) is getattr(keras.losses, keras_name):
            # Huber & co. keep their options as the wrapped function's keyword arguments
            config = {**getattr(keras_loss, "_fn_kwargs", {}), **keras_loss.get_config()}
            for key, required in _LOSS_FIXED.items():
                if key in config and config[key] != required:
                    raise ValueError(f"Keras loss {keras_name} option {key}={config[key]!r} has "
                                     "no scratchnn equivalent")
            ours = type(snn_losses.get(ours_name))
            return ours(**{k: config[k] for k in _parameters(ours) if k in config})
    raise ValueError(f"Keras loss {type(keras_loss).__name__} ({keras_loss!r}) has no scratchnn "
                     "equivalent")


def scratchnn_optimizer(keras_opt) -> snn_opt.Optimizer:
    """The scratchnn optimizer with the class, hyperparameters, options and schedule of a Keras
    optimizer, and a fresh state (see :func:`copy_optimizer_state`).

    Raises ``ValueError`` for a Keras class scratchnn does not have and for options it does not
    implement (EMA, AMSGrad, gradient accumulation, loss scaling).
    """
    _, keras = require_tf()
    ours = {name: cls for cls, name in _KERAS_NAMES.items()}.get(type(keras_opt).__name__)
    if ours is None or type(keras_opt) is not getattr(keras.optimizers, type(keras_opt).__name__):
        raise ValueError(f"Keras optimizer {type(keras_opt).__name__} has no scratchnn "
                         "equivalent")
    cfg = keras_opt.get_config()
    for key, required in _OPTIMIZER_FIXED.items():
        if cfg.get(key, required) != required:
            raise ValueError(f"Keras optimizer option {key}={cfg[key]!r} "
                             f"({_OPTIMIZER_FIXED_NAMES[key]}) has no scratchnn equivalent")
    unknown = set(cfg) - _parameters(ours) - set(snn_opt.base.OPTION_KEYS) \
        - set(_OPTIMIZER_FIXED) - set(_OPTIMIZER_IGNORED)
    if unknown:
        raise ValueError(f"Keras {type(keras_opt).__name__} options {sorted(unknown)} have no "
                         "scratchnn equivalent")
    kwargs = {k: cfg[k] for k in _parameters(ours) if k in cfg and k != "learning_rate"}
    kwargs.update({k: cfg[k] for k in snn_opt.base.OPTION_KEYS if cfg.get(k) is not None})
    if isinstance(cfg["learning_rate"], dict):
        spec = cfg["learning_rate"]
        kwargs["learning_rate"] = {"class_name": spec["class_name"], "config": spec["config"]}
    else:
        kwargs["learning_rate"] = float(np.asarray(keras_opt.learning_rate))
    return ours(**kwargs)


def copy_optimizer_state(keras_opt, keras_model, model) -> bool:
    """Give compiled scratchnn ``model``'s optimizer the step count and slots of ``keras_opt``
    (which trains ``keras_model``).  Returns False, copying nothing, when Keras's optimizer has
    not taken a step (not built, or ``iterations == 0``)."""
    opt = model.optimizer
    if not getattr(keras_opt, "built", False) or int(np.asarray(keras_opt.iterations)) == 0:
        return False
    variables = list(keras_model.trainable_variables)
    state = {"iterations": np.array(int(np.asarray(keras_opt.iterations)), dtype=np.int64)}
    for slot in opt.slot_names:
        attribute = next((a for (cls, s), a in SLOT_ATTRIBUTES.items()
                          if s == slot and isinstance(opt, cls)), None)
        if attribute is None:
            raise ValueError(f"no Keras slot known for {type(opt).__name__} slot {slot!r}")
        per_variable = [np.asarray(a) for a in getattr(keras_opt, attribute)]
        if [a.shape for a in per_variable] != [tuple(v.shape) for v in variables]:
            raise ValueError(f"Keras {type(keras_opt).__name__}'s {attribute} do not match the "
                             "model's trainable variables")
        if opt.needs_per_variable_gradients:
            state.update({f"{i}/{slot}": a for i, a in enumerate(per_variable)})
        else:
            state[f"0/{slot}"] = np.concatenate([a.ravel() for a in per_variable])
    model.set_optimizer_state(state)
    return True


def metric_names(keras_model) -> list[str]:
    """The metrics Keras's ``compile`` was given, which must be names (``["accuracy"]``)."""
    config = keras_model.get_compile_config() or {}
    metrics = config.get("metrics") or []
    if isinstance(metrics, dict) or any(not isinstance(m, str) for m in metrics):
        raise ValueError(f"only metrics given by name can be converted, got {metrics!r} "
                         "(pass metrics=[...] to from_keras)")
    return list(metrics)


# -- the parity report on a user's Keras model ----------------------------------------------------
DATA_KINDS = ("random", "mnist", "fashion_mnist")


def report_data(kind: str, input_shape: tuple, outputs: int, n: int, n_eval: int, seed: int,
                dtype: str):
    """``(x, labels, x_eval, labels_eval)`` for a model with ``input_shape`` (no batch axis).

    ``mnist``/``fashion_mnist``: pixels / 255, reshaped to ``input_shape``, which must hold
    28 x 28 = 784 values, and the model must have 10 outputs.  ``random``: uniform [0, 1)
    inputs of ``input_shape``, labelled ``argmax(x_flat @ T)`` by a random teacher ``T``
    (D, K), K = ``outputs`` (two classes for one output).
    """
    size = int(np.prod(input_shape))
    if kind in ("mnist", "fashion_mnist"):
        if size != 784 or outputs != 10:
            raise ValueError(f"--data {kind} needs a model with input 28x28 or 784 and 10 "
                             f"outputs; this one takes {input_shape} and has {outputs} outputs")
        from scratchnn import datasets

        (xtr, ytr), (xte, yte) = getattr(datasets, kind).load_data()
        if n > len(xtr):
            raise ValueError(f"--steps x --batch-size needs {n} images, {kind} has {len(xtr)}")
        x = (xtr[:n] / 255.0).reshape((n, *input_shape)).astype(dtype)
        xe = (xte[:n_eval] / 255.0).reshape((-1, *input_shape)).astype(dtype)
        return x, ytr[:n].astype(np.int64), xe, yte[:n_eval].astype(np.int64)
    if kind != "random":
        raise ValueError(f"unknown data {kind!r}; choose one of {', '.join(DATA_KINDS)}")
    rng = np.random.default_rng(seed)
    teacher = rng.standard_normal((size, max(outputs, 2)))
    x = rng.random((n + n_eval, size))
    labels = np.argmax(x @ teacher, axis=1)
    x = x.reshape((-1, *input_shape)).astype(dtype)
    return x[:n], labels[:n], x[n:], labels[n:]


def report_targets(loss, labels, outputs: int, dtype: str):
    """Targets for ``loss``: the labels for a sparse loss, a 0/1 column for one output, else
    one-hot rows of ``outputs`` columns."""
    if isinstance(loss, snn_losses.SparseCategoricalCrossentropy):
        return labels
    if outputs == 1:
        return labels.reshape(-1, 1).astype(dtype)
    return np.eye(outputs, dtype=dtype)[labels]
