"""Training: both ``fit`` loops in lockstep (``tfref.fit_like``) from identical weights and batch
order; parameters compared after every step, then the histories and ``evaluate``.

* MNIST: the tutorial network (784-512-10, Adam, batch 32) for one epoch on a fixed subset of
  6,000 training images (skipped without ``SCRATCHNN_DATA``);
* random data, no MNIST needed: several epochs with a ragged last batch, ``validation_split``
  or ``validation_data``, sparse/one-hot/regression targets, SGD (Nesterov) and Adam — the
  training-loop semantics (epoch-loss averaging, metric averaging, the validation split).
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
from parity_helpers import build

import scratchnn as snn
import tfref


def _step_checker(check, dtype, label):
    def on_step(epoch, step, ours, theirs):
        for i, (a, b) in enumerate(zip(ours, theirs)):
            check("weights during training", a, b, dtype, "training",
                  label=f"{label} epoch {epoch + 1} step {step + 1} weight {i}")
    return on_step


def _compare_histories(result, dtype, check, label):
    assert set(result.ours) == set(result.keras), (result.ours, result.keras)
    for key in result.ours:
        quantity = "epoch " + ("val " if key.startswith("val_") else "") + (
            "loss" if key.endswith("loss") else "accuracy")
        check(quantity, result.ours[key], result.keras[key], dtype, "trained",
              label=f"{label} history[{key!r}]")
    for (epoch, step), o, k in zip(result.steps, result.ours_step_logs, result.keras_step_logs):
        check("running batch loss", o["loss"], k["loss"], dtype, "trained",
              label=f"{label} epoch {epoch + 1} step {step + 1}")


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_tutorial_network_one_epoch_on_6000_mnist_images(dtype, mnist, check):
    (x_train, y_train), (x_test, y_test) = mnist
    x = (x_train[:6000] / 255.0).astype(dtype)
    y = snn.utils.to_categorical(y_train[:6000], 10, dtype=dtype)
    snn.utils.set_random_seed(0)
    model = snn.Sequential([snn.layers.Input((28, 28)), snn.layers.Flatten(),
                            snn.layers.Dense(512, activation="relu"),
                            snn.layers.Dense(10, activation="softmax")], dtype=dtype)
    model.build()
    model.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
    keras_model = tfref.to_keras(model)
    label = f"[784-512-10 adam {dtype}]"

    result = tfref.fit_like(model, keras_model, x, y, epochs=1, batch_size=32, seed=0,
                            on_step=_step_checker(check, dtype, label))
    assert len(result.steps) == 188  # ceil(6000 / 32): the last batch holds 16 images
    for i, (a, b) in enumerate(zip(model.get_weights(), keras_model.get_weights())):
        check("weights after training", a, b, dtype, "training", label=f"{label} weight {i}")
    _compare_histories(result, dtype, check, label)
    assert result.ours["accuracy"][0] > 0.8  # it did learn

    x_eval = (x_test[:2000] / 255.0).astype(dtype)
    y_eval = snn.utils.to_categorical(y_test[:2000], 10, dtype=dtype)
    with tfref.keras_floatx(dtype):
        k_loss, k_acc = keras_model.evaluate(x_eval, y_eval, verbose=0)
    loss, acc = model.evaluate(x_eval, y_eval, verbose=0)
    check("evaluate loss after training", loss, k_loss, dtype, "trained", label=label)
    check("evaluate accuracy after training", acc, k_acc, dtype, "trained", label=label)


def _teacher_data(n, d, k, rng, dtype):
    x = rng.standard_normal((n, d))
    labels = np.argmax(x @ rng.standard_normal((d, k)), axis=1)
    return x.astype(dtype), labels


VARIANTS = {
    # name: (optimizer factory, loss, epochs, batch size, extra fit arguments)
    "sgd-nesterov-sparse-validation-split": (
        lambda: snn.optimizers.SGD(0.05, momentum=0.9, nesterov=True),
        "sparse_categorical_crossentropy", 3, 7, {"validation_split": 0.2}),
    "adam-onehot-validation-data": (
        lambda: snn.optimizers.Adam(0.01), "categorical_crossentropy", 2, 16,
        {"validation_data": True}),
    "sgd-momentum-mse-no-shuffle-batch-1": (
        lambda: snn.optimizers.SGD(0.01, momentum=0.5), "mean_squared_error", 1, 1,
        {"shuffle": False}),
    "adam-sparse-batch-larger-than-data": (
        lambda: snn.optimizers.Adam(), "sparse_categorical_crossentropy", 2, 128, {}),
}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_fit_semantics_on_random_data(variant, dtype, check):
    make_opt, loss, epochs, batch_size, extra = VARIANTS[variant]
    rng = np.random.default_rng(len(variant))
    x, labels = _teacher_data(75, 10, 4, rng, dtype)
    if loss == "categorical_crossentropy":
        y = np.eye(4, dtype=dtype)[labels]
    elif loss == "mean_squared_error":
        y = (x[:, :4] * 0.5 + 0.1).astype(dtype)
    else:
        y = labels
    out = "linear" if loss == "mean_squared_error" else "softmax"
    metrics = None if loss == "mean_squared_error" else ["accuracy"]
    model = build([("dense", 16, "tanh"), ("dense", 4, out)], (10,), dtype, rng, loss=loss,
                  optimizer=make_opt(), metrics=metrics)
    keras_model = tfref.to_keras(model)
    kwargs = dict(extra)
    if kwargs.get("validation_data"):
        xv, lv = _teacher_data(23, 10, 4, rng, dtype)
        kwargs["validation_data"] = (xv, np.eye(4, dtype=dtype)[lv])
    label = f"[{variant} {dtype}]"

    result = tfref.fit_like(model, keras_model, x, y, epochs=epochs, batch_size=batch_size,
                            seed=3, on_step=_step_checker(check, dtype, label), **kwargs)
    n_train = 60 if "validation_split" in kwargs else 75
    steps_per_epoch = -(-n_train // batch_size)
    assert len(result.steps) == epochs * steps_per_epoch
    if "validation_split" in kwargs or "validation_data" in kwargs:
        assert "val_loss" in result.ours
    _compare_histories(result, dtype, check, label)
    check("weights after training", model.get_weights()[0], keras_model.get_weights()[0], dtype,
          "training", label=label)


def _tiny(rng):
    model = build([("dense", 3, "softmax")], (5,), "float64", rng,
                  loss="sparse_categorical_crossentropy")
    x, labels = _teacher_data(10, 5, 3, rng, "float64")
    return model, tfref.to_keras(model), x, labels


@pytest.mark.parametrize("ours_batch, more", [(4, "scratchnn ran more"), (10, "Keras ran more")])
def test_fit_like_reports_a_step_count_mismatch(tf, ours_batch, more):
    """Keras runs 2 steps (batch 8 of 10 samples); scratchnn 3 (batch 4) or 1 (batch 10).
    The mismatch is found by counting, so it is the same error on every run."""
    for _ in range(3):
        model, keras_model, x, labels = _tiny(np.random.default_rng(0))
        model.fit_steps = _with_batch_size(model.fit_steps, ours_batch)
        with pytest.raises(tfref.ParityError, match=f"epoch 0: {more} training steps"):
            tfref.fit_like(model, keras_model, x, labels, batch_size=8)


def test_fit_like_starts_no_thread(tf, monkeypatch):
    """The lockstep is a generator advanced from Keras's batch hook: no thread is started."""
    model, keras_model, x, labels = _tiny(np.random.default_rng(1))
    started = []
    original_start = threading.Thread.start

    def recording_start(self, *args, **kwargs):
        started.append(self.name)
        return original_start(self, *args, **kwargs)

    monkeypatch.setattr(threading.Thread, "start", recording_start)
    before = threading.active_count()
    result = tfref.fit_like(model, keras_model, x, labels, epochs=2, batch_size=4)
    assert started == [] and threading.active_count() == before
    assert result.steps == [(e, s) for e in range(2) for s in range(3)]


def test_fit_like_compares_both_models_at_the_same_step(tf):
    """At every comparison both optimizers have made exactly the same number of updates, and
    scratchnn is driven through fit_steps (its real fit loop), not through fit."""
    model, keras_model, x, labels = _tiny(np.random.default_rng(2))
    counts = []
    model.fit = None  # fit_like must not need it

    def on_step(epoch, step, ours, theirs):
        counts.append((model.optimizer.iterations, int(keras_model.optimizer.iterations)))

    tfref.fit_like(model, keras_model, x, labels, epochs=2, batch_size=4, on_step=on_step)
    assert counts == [(k, k) for k in range(1, 7)]


def _with_batch_size(fit_steps, batch_size):
    def patched(*args, **kwargs):
        kwargs["batch_size"] = batch_size
        return fit_steps(*args, **kwargs)
    return patched
