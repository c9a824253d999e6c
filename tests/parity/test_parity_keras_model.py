"""Models built and trained in Keras (never by scratchnn), saved to ``.keras``, converted with
``tfref.from_keras`` and compared: structure, weights, compile settings, the optimizer's trained
state (step count and every slot), then the whole parity report (forward per layer, loss, every
gradient, lockstep training from that state) within the report's tolerances; every optimizer's
slots continue training in lockstep; the ``scratchnn parity --keras-model`` command."""

from __future__ import annotations

import json

import numpy as np
import pytest

import scratchnn as snn
import tfref
from scratchnn.cli import main
from tfref.keras_model import SLOT_ATTRIBUTES, scratchnn_loss


def _keras_model(keras, dtype: str, dropout: float = 0.0):
    """Flatten, Dense (no bias) -> BatchNorm -> LeakyReLU, a nested Sequential (Dense tanh with
    an L2 kernel penalty, LayerNorm), optional Dropout, Dense -> Softmax; compiled with Adam
    (clipnorm), smoothed cross-entropy and accuracy."""
    with tfref.keras_floatx(dtype):
        inner = keras.Sequential([
            keras.Input((16,), dtype=dtype),
            keras.layers.Dense(8, activation="tanh", dtype=dtype, name="dense",
                               kernel_regularizer=keras.regularizers.L2(1e-3)),
            keras.layers.LayerNormalization(dtype=dtype, name="layer_normalization")],
            name="inner")
        layers = [keras.Input((4, 5), dtype=dtype), keras.layers.Flatten(dtype=dtype),
                  keras.layers.Dense(16, use_bias=False, dtype=dtype, name="hidden"),
                  keras.layers.BatchNormalization(dtype=dtype, name="batch_normalization"),
                  keras.layers.LeakyReLU(0.1, dtype=dtype), inner]
        layers += [keras.layers.Dropout(dropout, dtype=dtype)] if dropout else []
        model = keras.Sequential(layers + [keras.layers.Dense(3, dtype=dtype, name="out"),
                                           keras.layers.Softmax(dtype=dtype)])
        model.compile(keras.optimizers.Adam(0.01, clipnorm=1.0),
                      keras.losses.CategoricalCrossentropy(label_smoothing=0.1),
                      metrics=["accuracy"])
    return model


def _train_and_save(keras, model, path, dtype: str, in_shape=(4, 5), classes=3):
    rng = np.random.default_rng(0)
    x = rng.random((48, *in_shape)).astype(dtype)
    y = np.eye(classes, dtype=dtype)[rng.integers(0, classes, 48)]
    with tfref.keras_floatx(dtype):
        model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    model.save(path)
    with tfref.keras_floatx(dtype):
        return keras.models.load_model(path)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_keras_trained_model_converts_with_its_state(dtype, tf, tmp_path):
    _, keras = tf
    km = _train_and_save(keras, _keras_model(keras, dtype), tmp_path / "m.keras", dtype)
    model = tfref.from_keras(km)
    assert model.dtype == np.dtype(dtype)
    assert [type(la).__name__ for la in model.layers] == [
        "Flatten", "Dense", "BatchNormalization", "LeakyReLU", "Sequential", "Dense", "Softmax"]
    assert model.layers[4].layers[0].kernel_regularizer.l2 == pytest.approx(1e-3)
    for a, b in zip(model.get_weights(), km.get_weights()):
        np.testing.assert_array_equal(a, b)
    opt = model.optimizer
    assert type(opt) is snn.optimizers.Adam and opt.clipnorm == 1.0
    assert opt.learning_rate == float(np.dtype(dtype).type(0.01))  # Keras's variable
    assert model.loss.label_smoothing == pytest.approx(0.1)
    assert model.metrics_names == ["loss", "accuracy"]
    assert opt.iterations == int(km.optimizer.iterations) == 6
    for i, var in enumerate(km.trainable_variables):  # clipnorm: one slot entry per weight
        j = km.optimizer._get_variable_index(var)
        np.testing.assert_array_equal(opt.slots(i)["m"], km.optimizer._momentums[j])
        np.testing.assert_array_equal(opt.slots(i)["v"], km.optimizer._velocities[j])
    report = tfref.report.run_keras_report(km, steps=4, batch_size=8)
    assert report.passed, report.table()
    assert report.config["optimizer_state"] == "iterations 6"
    names = [r.quantity for r in report.rows]
    assert "forward inner/layer_normalization" in names and "gradient input" in names
    assert "weights after each of 4 Adam steps (worst)" in names


def _optimizers(keras):
    schedule = keras.optimizers.schedules.ExponentialDecay(0.01, 2, 0.5)
    return {
        "SGD": keras.optimizers.SGD(0.05, momentum=0.9, nesterov=True),
        "Adam": keras.optimizers.Adam(schedule, weight_decay=0.01),
        "AdamW": keras.optimizers.AdamW(0.01, clipvalue=0.5),
        "RMSprop": keras.optimizers.RMSprop(0.01, momentum=0.5, centered=True),
        "Adagrad": keras.optimizers.Adagrad(0.1, global_clipnorm=1.0),
        "Adamax": keras.optimizers.Adamax(0.01),
        "Nadam": keras.optimizers.Nadam(0.01),
        "Adadelta": keras.optimizers.Adadelta(1.0),
    }


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adamax",
                                  "Nadam", "Adadelta"])
def test_every_optimizer_goes_on_from_keras_state(name, tf, tmp_path):
    """Trained 3 steps in Keras (saved, loaded), then 3 more on both sides in lockstep: the
    copied step count and slots continue Keras's run (float64: agreement to 1e-8)."""
    _, keras = tf
    dtype = "float64"
    with tfref.keras_floatx(dtype):
        km = keras.Sequential([keras.Input((6,), dtype=dtype),
                               keras.layers.Dense(5, activation="relu", dtype=dtype),
                               keras.layers.Dense(3, activation="softmax", dtype=dtype)])
        km.compile(_optimizers(keras)[name], "categorical_crossentropy")
    km = _train_and_save(keras, km, tmp_path / "o.keras", dtype, in_shape=(6,))
    model = tfref.from_keras(km)
    assert type(model.optimizer).__name__ == name
    assert model.optimizer.iterations == 6
    rng = np.random.default_rng(5)
    x = rng.random((24, 6))
    y = np.eye(3)[rng.integers(0, 3, 24)]
    result = tfref.fit_like(model, km, x, y, batch_size=8, seed=1)
    assert result.worst_step.max_rel <= tfref.tolerance(dtype, "training"), result.worst_step


def test_slot_attributes_cover_every_optimizer(tf):
    _, keras = tf
    for keras_opt in _optimizers(keras).values():
        ours = tfref.from_keras_optimizer(keras_opt)
        keras_opt.build([keras.Variable(np.zeros(2))])
        for slot in ours.slot_names:
            attribute = next(a for (cls, s), a in SLOT_ATTRIBUTES.items()
                             if s == slot and isinstance(ours, cls))
            assert len(getattr(keras_opt, attribute)) == 1, (type(ours), slot)


def test_losses_with_their_options(tf):
    _, keras = tf
    cases = [(keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.2),
              snn.losses.CategoricalCrossentropy, {"from_logits": True, "label_smoothing": 0.2}),
             (keras.losses.SparseCategoricalCrossentropy(),
              snn.losses.SparseCategoricalCrossentropy, {"from_logits": False}),
             (keras.losses.BinaryCrossentropy(label_smoothing=0.1), snn.losses.BinaryCrossentropy,
              {"from_logits": False, "label_smoothing": 0.1}),
             (keras.losses.Huber(delta=0.5), snn.losses.Huber, {"delta": 0.5}),
             (keras.losses.MeanSquaredError(), snn.losses.MeanSquaredError, {}),
             (keras.losses.MeanAbsoluteError(), snn.losses.MeanAbsoluteError, {}),
             (keras.losses.KLDivergence(), snn.losses.KLDivergence, {}),
             ("mse", snn.losses.MeanSquaredError, {}),
             (keras.losses.categorical_crossentropy, snn.losses.CategoricalCrossentropy,
              {"from_logits": False})]
    for keras_loss, cls, config in cases:
        ours = scratchnn_loss(keras_loss)
        assert type(ours) is cls and ours.get_config() == pytest.approx(config), keras_loss
        if isinstance(keras_loss, keras.losses.Loss):  # and back, options included
            twin = tfref.keras_loss(ours)
            back = {**getattr(twin, "_fn_kwargs", {}), **twin.get_config()}
            assert {k: back[k] for k in config} == pytest.approx(config), keras_loss
    with pytest.raises(ValueError, match="reduction"):
        scratchnn_loss(keras.losses.MeanSquaredError(reduction="sum"))
    with pytest.raises(ValueError, match="Poisson"):
        scratchnn_loss(keras.losses.Poisson())
    with pytest.raises(ValueError, match="Lion"):
        tfref.from_keras_optimizer(keras.optimizers.Lion())


# -- the command ----------------------------------------------------------------------------------
def test_cli_on_a_keras_file(tf, tmp_path, capsys):
    _, keras = tf
    path = tmp_path / "d.keras"
    _train_and_save(keras, _keras_model(keras, "float32", dropout=0.25), path, "float32")
    status = main(["parity", "--keras-model", str(path), "--data", "random", "--steps", "3",
                   "--batch-size", "8"])
    out = capsys.readouterr().out
    assert status == 0, out
    assert out.startswith(f"scratchnn vs TensorFlow/Keras on {path}")
    rows = [line for line in out.splitlines() if line.endswith((" pass", " FAIL"))]
    names = " | ".join(rows)
    for quantity in ("forward hidden/z", "forward inner/dense/z", "predict", "gradient input",
                     "gradient layer_normalization/gamma", "loss, fused softmax+CE (as in fit)"):
        assert quantity in names
    assert "weights after" not in names  # Dropout: masks fixed, no lockstep training rows
    assert f"{len(rows)}/{len(rows)} quantities within tolerance" in out


def test_cli_training_rows_json_and_chosen_optimizer(tf, tmp_path, capsys):
    _, keras = tf
    path = tmp_path / "m.keras"
    _train_and_save(keras, _keras_model(keras, "float64"), path, "float64")
    status = main(["parity", "--keras-model", str(path), "--steps", "3", "--batch-size", "8",
                   "--optimizer", "sgd", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert status == 0 and report["passed"]
    assert (report["config"]["optimizer"], report["config"]["optimizer_state"]) == ("SGD", "fresh")
    names = [r["quantity"] for r in report["rows"]]
    assert "weights after each of 3 SGD steps (worst)" in names
    assert "evaluate accuracy" in names
    assert "batch_normalization/moving_mean after training" in names


def test_cli_refuses_what_it_cannot_compare(tf, tmp_path, capsys):
    _, keras = tf
    bad = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3),
                            keras.layers.GaussianNoise(0.5)])
    bad.compile("adam", "mse")
    bad.save(tmp_path / "bad.keras")
    assert main(["parity", "--keras-model", str(tmp_path / "bad.keras")]) == 1
    assert "GaussianNoise" in capsys.readouterr().err
    plain = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    plain.save(tmp_path / "plain.keras")
    assert main(["parity", "--keras-model", str(tmp_path / "plain.keras")]) == 1
    assert "not compiled" in capsys.readouterr().err
    plain.compile("adam", "mse")
    plain.save(tmp_path / "plain.keras")
    assert main(["parity", "--keras-model", str(tmp_path / "plain.keras"), "--data", "mnist"]) == 1
    assert "28x28 or 784" in capsys.readouterr().err
    assert main(["parity", "--keras-model", str(tmp_path / "plain.keras"), "--data", "x"]) == 1
    assert "one of random, mnist, fashion_mnist" in capsys.readouterr().err
