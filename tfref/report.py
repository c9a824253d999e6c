"""Tolerances, and the parity report printed by ``scratchnn parity``.

Tolerances (``max_rel`` as defined in :mod:`tfref.compare`, per quantity) — one table for the
parity test suite and the report:

============  =========  =========  =====================================================
category      float64    float32    what is compared
============  =========  =========  =====================================================
single        1e-10      1e-5       one forward pass, loss or gradient from identical
                                    weights and inputs (a fixed composition of operations)
optimizer     1e-8       1e-5       parameters after each of >= 200 updates fed the *same*
                                    gradients (measured: bit-identical in both dtypes)
training      1e-8       1e-3       parameters while both sides train, each computing its
                                    own gradients (see below for the float32 value)
trained       1e-8       1e-5       epoch losses/accuracies and ``evaluate`` results of
                                    models trained in lockstep
============  =========  =========  =====================================================

Why ``training`` is looser in float32: matrix products are summed in a different order by
NumPy's BLAS and TensorFlow's kernels, so each gradient entry differs by about float32
rounding of the *largest* terms (~1e-7 of the largest gradient).  Adam's update
``lr * m / (sqrt(v) + eps)`` normalizes each entry by its own magnitude, so for entries whose
gradient is itself tiny (1e-6 of the largest) that absolute rounding difference becomes a
relative difference of the *update*: one step on the MNIST tutorial network moves one kernel
entry by -3.356e-4 in scratchnn and -3.345e-4 in Keras (gradients 1.5976e-6 vs 1.5892e-6).
Measured worst ``max_rel`` on that network over one epoch of 6,000 images: 2.3e-4 (a bias
after the first step: 3.5177e-4 vs 3.5200e-4, gradients -1.7161e-6 vs -1.7178e-6), 2.9e-5 at
the end.  In float64 the same effect is ~1e-13.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field

import numpy as np

from .compare import Diff, compare

#: Tolerance on ``max_rel`` per dtype and category (see the module docstring).
TOLERANCES: dict[str, dict[str, float]] = {
    "float64": {"single": 1e-10, "optimizer": 1e-8, "training": 1e-8, "trained": 1e-8},
    "float32": {"single": 1e-5, "optimizer": 1e-5, "training": 1e-3, "trained": 1e-5},
}


def tolerance(dtype: str, category: str) -> float:
    """``TOLERANCES[dtype][category]`` (looked up at call time)."""
    try:
        return TOLERANCES[dtype][category]
    except KeyError:
        raise ValueError(f"no tolerance for dtype {dtype!r}, category {category!r}") from None


@dataclass
class Row:
    """One compared quantity of a report."""

    quantity: str
    category: str
    max_abs: float
    max_rel: float
    tolerance: float

    @property
    def passed(self) -> bool:
        return bool(self.max_rel <= self.tolerance or self.max_abs == 0.0)


@dataclass
class Report:
    """A parity report: the configuration it ran and one :class:`Row` per quantity."""

    config: dict
    rows: list[Row] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.rows)

    def add(self, quantity: str, category: str, diff: Diff) -> None:
        tol = tolerance(self.config["dtype"], category)
        self.rows.append(Row(quantity, category, diff.max_abs, diff.max_rel, tol))

    def to_dict(self) -> dict:
        return {"config": self.config, "passed": self.passed,
                "rows": [dict(asdict(r), passed=r.passed) for r in self.rows]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def table(self) -> str:
        """The rows as an aligned text table, with a one-line verdict."""
        head = ("quantity", "max abs error", "max rel error", "tolerance", "result")
        body = [(r.quantity, f"{r.max_abs:.3e}", f"{r.max_rel:.3e}", f"{r.tolerance:.0e}",
                 "pass" if r.passed else "FAIL") for r in self.rows]
        widths = [max(len(row[i]) for row in [head, *body]) for i in range(len(head))]
        fmt = "  ".join(f"{{:<{w}}}" if i == 0 else f"{{:>{w}}}" for i, w in enumerate(widths))
        lines = [fmt.format(*head), "  ".join("-" * w for w in widths)]
        lines += [fmt.format(*row) for row in body]
        failed = sum(not r.passed for r in self.rows)
        lines.append("")
        lines.append(f"{len(self.rows) - failed}/{len(self.rows)} quantities within tolerance"
                     + ("" if not failed else f"; {failed} FAILED"))
        return "\n".join(lines)


def _data(mnist: bool, data_path, n: int, n_eval: int, seed: int, dtype: str):
    """Training and evaluation arrays: MNIST pixels/255, or a learnable random problem."""
    if mnist:
        from scratchnn.datasets import mnist as mnist_module

        (xtr, ytr), (xte, yte) = mnist_module.load_data(data_path)
        if n > len(xtr):
            raise ValueError(f"--steps x --batch-size needs {n} images, MNIST has {len(xtr)}")
        x = (xtr[:n].reshape(n, -1) / 255.0).astype(dtype)
        xe = (xte[:n_eval].reshape(min(n_eval, len(xte)), -1) / 255.0).astype(dtype)
        return x, ytr[:n].astype(np.int64), xe, yte[:n_eval].astype(np.int64)
    rng = np.random.default_rng(seed)
    teacher = rng.standard_normal((784, 10))
    x = rng.random((n + n_eval, 784))
    labels = np.argmax(x @ teacher, axis=1)
    x = x.astype(dtype)
    return x[:n], labels[:n], x[n:], labels[n:]


def run_report(hidden=(128,), activation: str = "relu", optimizer: str = "adam",
               lr: float | None = None, momentum: float = 0.0, nesterov: bool = False,
               dtype: str = "float32", batch_size: int = 32, steps: int = 50, seed: int = 0,
               mnist: bool = False, data=None, eval_size: int = 1000, dropout: float = 0.0,
               batchnorm: bool = False, l2: float = 0.0, clipnorm: float | None = None,
               schedule: str = "none") -> Report:
    """Build a network in scratchnn and Keras from the same weights and compare everything.

    The network is ``Input(784) -> hidden_block(h) for h in hidden -> Dense(10, softmax)``
    (:func:`scratchnn.workflow.tutorial.hidden_block`: ``Dense(h, activation)``, or with
    ``batchnorm`` ``Dense(h, use_bias=False) -> BatchNormalization -> Activation``, then
    ``Dropout(dropout)`` when ``dropout`` > 0; ``l2``: an L2 kernel penalty on every Dense) with
    categorical cross-entropy and the accuracy metric, and ``optimizer`` (any registered name,
    Keras's defaults; ``clipnorm``; ``schedule`` of
    :func:`~scratchnn.workflow.tutorial.make_schedule` over the ``steps`` updates).

    Dropout: each Dropout's mask for the first batch is drawn once and fed to Keras
    (:func:`tfref.convert.fixed_mask_dropout`), so the training-mode loss and every gradient
    are compared with the mask held fixed; the lockstep training rows are left out (the two
    sides would draw different masks).  Data: ``steps`` batches
    (the last one ragged: ``(steps - 1) * batch_size + ceil(batch_size / 2)`` samples) of a
    random problem labelled by a random linear teacher, or of MNIST with ``mnist=True``.

    Rows: every forward intermediate and ``predict`` on the evaluation set; the fused
    (``fit``) and plain (clipped) losses and every gradient, including the input gradient, on
    the first batch; the parameters after every one of ``steps`` training steps (worst step),
    the epoch loss and accuracy; ``evaluate`` loss and accuracy after training.
    """
    from .backend import configure, dtype_name, require_tf
    from .convert import to_keras

    require_tf()
    configure()
    dtype = dtype_name(dtype)
    hidden = [int(h) for h in hidden]
    if steps < 1 or batch_size < 1:
        raise ValueError("steps and batch_size must be positive")
    if any(h < 1 for h in hidden):
        raise ValueError(f"hidden layer sizes must be positive, got {hidden}")
    n = (steps - 1) * batch_size + math.ceil(batch_size / 2) if batch_size > 1 else steps
    x, labels, x_eval, labels_eval = _data(mnist, data, n, eval_size, seed, dtype)
    from scratchnn.workflow.tutorial import DEFAULT_LR

    config = {"hidden": hidden, "activation": activation, "optimizer": optimizer,
              "learning_rate": lr or DEFAULT_LR.get(optimizer, 0.01),
              "momentum": momentum, "nesterov": nesterov, "dropout": dropout,
              "batchnorm": batchnorm, "l2": l2, "clipnorm": clipnorm, "schedule": schedule,
              "dtype": dtype,
              "batch_size": batch_size, "steps": steps, "seed": seed,
              "data": "mnist" if mnist else "random", "train_samples": int(len(x)),
              "eval_samples": int(len(x_eval))}
    report = Report(config)
    model = _scratchnn_model(config)
    _fix_dropout_masks(model, min(batch_size, len(x)), seed)
    keras_model = to_keras(model)
    _compare_forward(report, model, keras_model, x_eval)
    y = _one_hot(labels, dtype)
    _compare_first_batch(report, model, keras_model, x[:batch_size], y[:batch_size])
    if not dropout:
        _compare_user_training(report, model, keras_model, (x, y),
                          (x_eval, _one_hot(labels_eval, dtype)))
        _compare_moving_statistics(report, model, keras_model)
    return report


def _fix_dropout_masks(model, batch: int, seed: int) -> None:
    """Give every Dropout a fixed keep mask (batch, units) drawn from ``seed``."""
    import scratchnn as snn

    rng = np.random.default_rng(seed + 1)
    for layer in model.layers:
        if isinstance(layer, snn.layers.Dropout):
            layer.fixed_mask = rng.random((batch, *layer.input_shape)) >= layer.rate


def _compare_moving_statistics(report: Report, model, keras_model) -> None:
    """BatchNormalization's moving mean and variance after the lockstep training."""
    for layer in model.layers:
        if not hasattr(layer, "state") or "moving_mean" not in getattr(layer, "state", {}):
            continue
        k_layer = keras_model.get_layer(layer.name)
        for key in ("moving_mean", "moving_variance"):
            report.add(f"{layer.name}/{key} after training", "training",
                       compare(layer.state[key], np.asarray(getattr(k_layer, key))))


def _one_hot(labels, dtype: str):
    import scratchnn as snn

    return snn.utils.to_categorical(labels, 10, dtype=dtype)


def _scratchnn_model(config: dict):
    """``Input(784) -> hidden_block(h)... -> Dense(10, softmax)``, seeded, built and compiled
    with the configured optimizer, categorical cross-entropy and accuracy."""
    import scratchnn as snn
    from scratchnn.regularizers import L2
    from scratchnn.workflow import tutorial

    snn.utils.set_random_seed(config["seed"])
    layers = [snn.layers.Input((784,))]
    for h in config["hidden"]:
        layers += tutorial.hidden_block(h, config["activation"], config["dropout"],
                                        config["batchnorm"], config["l2"])
    layers.append(snn.layers.Dense(10, activation="softmax",
                                   kernel_regularizer=L2(config["l2"]) if config["l2"] else None))
    model = snn.Sequential(layers, dtype=config["dtype"])
    model.build()
    rate = config["learning_rate"]
    if config["schedule"] != "none":
        rate = tutorial.make_schedule(config["schedule"], rate, 1, config["steps"])
    opt = tutorial.make_optimizer(config["optimizer"], rate, config["momentum"],
                                  config["nesterov"], clipnorm=config["clipnorm"])
    model.compile(opt, "categorical_crossentropy", metrics=["accuracy"])
    return model


def _compare_forward(report: Report, model, keras_model, x_eval) -> None:
    """Every forward intermediate, and ``predict``, on the evaluation set."""
    from .backend import keras_floatx
    from .forward import keras_trace, scratchnn_trace

    batch_size, dtype = report.config["batch_size"], report.config["dtype"]
    names = [layer.name for layer in model.layers]
    ours, theirs = scratchnn_trace(model, x_eval), keras_trace(keras_model, x_eval, names)
    for key in ours:
        report.add(f"forward {key}", "single", compare(ours[key], theirs[key]))
    with keras_floatx(dtype):
        k_pred = keras_model.predict(x_eval, batch_size=batch_size, verbose=0)
    p_ours = model.predict(x_eval, batch_size=batch_size, verbose=0)
    report.add("predict", "single", compare(p_ours, k_pred))


def _compare_first_batch(report: Report, model, keras_model, xb, yb) -> None:
    """The fused and plain losses and every gradient (input included) on one batch."""
    from .backend import keras_floatx
    from .convert import keras_loss
    from .gradients import gradients

    loss_o, grads_o, dx_o = model.compute_gradients(xb, yb, return_input_grad=True)
    loss_k, grads_k, dx_k = gradients(keras_model, xb, yb, input_grad=True)
    report.add("loss, fused softmax+CE (as in fit)", "single", compare(loss_o, loss_k))
    plain_o = model.loss(yb, model.predict(xb, verbose=0))
    with keras_floatx(report.config["dtype"]):
        plain_k = float(keras_loss(model.loss, report.config["dtype"])(
            yb, keras_model.predict(xb, verbose=0)))
    report.add("loss, plain on probabilities (clipped)", "single", compare(plain_o, plain_k))
    weight_names = [f"{layer.name}/{key}" for layer in model.leaf_layers()
                    for key in layer.params]
    for name, g_o, g_k in zip(weight_names, grads_o, grads_k):
        report.add(f"gradient {name}", "single", compare(g_o, g_k))
    report.add("gradient input", "single", compare(dx_o, dx_k))


# -- the report on a user's own Keras model -------------------------------------------------------
def run_keras_report(keras_model, data: str = "random", steps: int = 20,
                     optimizer: str | None = None, batch_size: int = 32, seed: int = 0,
                     eval_size: int = 1000) -> Report:
    """The parity report on a Keras ``Sequential`` (or the path of a ``.keras`` file, opened
    with ``keras.models.load_model``) and its :func:`tfref.from_keras` conversion.

    The Keras model must be compiled (its loss, metrics and optimizer, trained state included,
    are the ones compared); ``optimizer`` (a registered name) replaces the optimizer on both
    sides with a fresh one of Keras's defaults.  Data: :func:`tfref.keras_model.report_data`
    (``steps`` batches, the last one ragged as in :func:`run_report`), targets shaped for the
    loss (:func:`tfref.keras_model.report_targets`).

    Rows: every forward intermediate and ``predict`` (inference); the training-mode loss and
    every gradient (``tf.GradientTape``, input included) on the first batch; the parameters
    after each of ``steps`` lockstep ``fit`` steps, the epoch history, ``evaluate`` and the
    BatchNormalization moving statistics.  With Dropout (rate > 0) each Dropout's mask for the
    first batch is drawn once and fed to a clone of the Keras model
    (:func:`tfref.convert.fixed_mask_dropout`) for the loss and gradient rows, and the
    training rows are left out, as in :func:`run_report`.
    """
    from .backend import configure, dtype_name, require_tf
    from .convert import from_keras
    from .keras_model import report_data, report_targets

    _, keras = require_tf()
    configure()
    source = str(keras_model) if not isinstance(keras_model, keras.Model) else "in memory"
    if not isinstance(keras_model, keras.Model):
        keras_model = _load_keras_model(keras, keras_model)
    if not getattr(keras_model, "compiled", False) or keras_model.optimizer is None:
        raise ValueError("the Keras model is not compiled: compile it (loss, optimizer) in "
                         "Keras before saving, so that there is a loss to compare")
    model = from_keras(keras_model)
    dtype = dtype_name(model.dtype)
    if optimizer is not None:
        _recompile(model, keras_model, optimizer, dtype)
    in_shape = tuple(int(s) for s in keras_model.inputs[0].shape[1:])
    outputs = int(keras_model.outputs[0].shape[-1])
    n = (steps - 1) * batch_size + math.ceil(batch_size / 2) if batch_size > 1 else steps
    x, labels, x_eval, labels_eval = report_data(data, in_shape, outputs, n, eval_size, seed,
                                                 dtype)
    config = {"model": source, "name": keras_model.name, "loss": model.loss.name,
              "optimizer": type(model.optimizer).__name__,
              "optimizer_state": f"iterations {model.optimizer.iterations}"
              if model.optimizer.iterations else "fresh",
              "dtype": dtype, "batch_size": batch_size, "steps": steps, "seed": seed,
              "data": data, "train_samples": int(len(x)), "eval_samples": int(len(x_eval))}
    report = Report(config)
    _compare_forward(report, model, keras_model, x_eval)
    y = report_targets(model.loss, labels, outputs, dtype)
    dropouts = _fix_leaf_dropout_masks(model, min(batch_size, len(x)), seed)
    grad_model = _fixed_mask_clone(keras_model, dropouts) if dropouts else keras_model
    _compare_first_batch(report, model, grad_model, x[:batch_size], y[:batch_size])
    if not dropouts:
        y_eval = report_targets(model.loss, labels_eval, outputs, dtype)
        _compare_user_training(report, model, keras_model, (x, y), (x_eval, y_eval))
        _compare_moving_statistics(report, model, keras_model)
    return report


def _load_keras_model(keras, path):
    """``keras.models.load_model(path)`` under ``floatx`` = the dtype of the model's weights (a
    second load when that is not the current ``floatx``): Keras builds the compiled loss and
    metrics in ``floatx``, and a float32 loss on a float64 model rounds the loss to float32."""
    from .backend import dtype_name, keras_floatx

    keras_model = keras.models.load_model(path)
    dtypes = {dtype_name(v.dtype) for v in keras_model.weights}
    if len(dtypes) == 1 and dtypes != {keras.config.floatx()}:
        with keras_floatx(dtypes.pop()):
            keras_model = keras.models.load_model(path)
    return keras_model


def _recompile(model, keras_model, name: str, dtype: str) -> None:
    """Both models compiled with a fresh optimizer ``name`` (defaults), same loss/metrics."""
    import scratchnn as snn

    from .backend import keras_floatx
    from .optim import optimizer as keras_optimizer

    metrics = model.metrics_names[1:]
    model.compile(snn.optimizers.get(name), model.loss, metrics=metrics)
    with keras_floatx(dtype):
        keras_model.compile(optimizer=keras_optimizer(snn.optimizers.get(name), dtype),
                            loss=keras_model.loss, metrics=metrics)


def _fix_leaf_dropout_masks(model, batch: int, seed: int) -> dict:
    """Give every Dropout (nested ones too) with rate > 0 a fixed keep mask (batch, units)
    drawn from ``seed``; returns ``{name: (rate, mask)}``."""
    import scratchnn as snn

    rng = np.random.default_rng(seed + 1)
    masks = {}
    for layer in model.leaf_layers():
        if isinstance(layer, snn.layers.Dropout) and layer.rate > 0:
            layer.fixed_mask = rng.random((batch, *layer.input_shape)) >= layer.rate
            masks[layer.name] = (layer.rate, layer.fixed_mask)
    return masks


def _fixed_mask_clone(keras_model, masks: dict):
    """A compiled clone of ``keras_model`` (same weights and loss) whose Dropout layers apply
    the given masks."""
    from .backend import keras_floatx, require_tf
    from .convert import fixed_mask_dropout

    _, keras = require_tf()
    dtype = keras_model.weights[0].dtype if keras_model.weights else "float32"

    def clone(layer):
        if isinstance(layer, keras.layers.Dropout) and layer.name in masks:
            return fixed_mask_dropout(*masks[layer.name], name=layer.name, dtype=dtype)
        return layer.__class__.from_config(layer.get_config())

    with keras_floatx(str(dtype)):
        twin = keras.models.clone_model(keras_model, clone_function=clone, recursive=True)
        twin.set_weights(keras_model.get_weights())
        twin.compile(optimizer="sgd", loss=keras_model.loss)
    return twin


def _compare_user_training(report: Report, model, keras_model, train, evaluation) -> None:
    """Lockstep ``fit`` (parameters after every step, every history entry), then
    ``evaluate``, for whatever metrics the models were compiled with (the tutorial report's
    models: loss and accuracy)."""
    from .backend import keras_floatx
    from .training import fit_like

    cfg = report.config
    (x, y), (x_eval, y_eval) = train, evaluation
    result = fit_like(model, keras_model, x, y, epochs=1, batch_size=cfg["batch_size"],
                      seed=cfg["seed"])
    report.add(f"weights after each of {cfg['steps']} {cfg['optimizer']} steps (worst)",
               "training", result.worst_step)
    report.add("weights after training", "training", result.final)
    for key in result.ours:
        if key in result.keras:
            report.add(f"epoch {key} (fit history)", "trained",
                       compare(result.ours[key][-1], result.keras[key][-1]))
    ev_o = np.atleast_1d(model.evaluate(x_eval, y_eval, batch_size=cfg["batch_size"],
                                        verbose=0))
    with keras_floatx(cfg["dtype"]):
        ev_k = np.atleast_1d(keras_model.evaluate(x_eval, y_eval, batch_size=cfg["batch_size"],
                                                  verbose=0))
    for name, a, b in zip(model.metrics_names, ev_o, ev_k):
        report.add(f"evaluate {name}", "trained", compare(a, b))
