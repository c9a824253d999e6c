"""``.keras`` and ``.weights.h5`` files both ways against the installed Keras 3.

Keras -> scratchnn: a Keras Sequential of every supported layer (a nested Sequential
included), compiled with each optimizer and trained a step so that its optimizer has state, is
saved by Keras and loaded by ``scratchnn.models.load_model``: same predictions, same compile
settings, and one more training step on both sides gives the same weights (the optimizer state
was restored).  scratchnn -> Keras: the same in the other direction through ``model.save`` and
``keras.models.load_model``.  float32 and float64.  Loaded weights must be equal bit for bit
(the files carry them unchanged); predictions and the weights one step later agree to a
tolerance relative to the largest reference entry: float64 1e-12; float32 1e-5 for
predictions and 1e-4 after the step (the adaptive optimizers divide a nearly vanishing
gradient, e.g. BatchNormalization's gamma feeding a LayerNormalization, by its own root mean
square, which magnifies float32 rounding of the gradient).
"""

from __future__ import annotations

import numpy as np
import pytest

import scratchnn as snn
import tfref

TOL = {"float64": 1e-12, "float32": 1e-5}
STEP_TOL = {"float64": 1e-12, "float32": 1e-4}
OPTIMIZERS = {"sgd": {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True},
              "adam": {"learning_rate": 0.01, "amsgrad": True},
              "adamw": {"learning_rate": 0.01, "clipnorm": 1.0},
              "rmsprop": {"learning_rate": 0.01, "momentum": 0.5},
              "adagrad": {"learning_rate": 0.1}, "adadelta": {"learning_rate": 1.0},
              "adamax": {"learning_rate": 0.01}, "nadam": {"learning_rate": 0.01},
              "sgd_plain": {"learning_rate": 0.1}}


def _close(ours, ref, tol, what):
    ours, ref = np.asarray(ours, np.float64), np.asarray(ref, np.float64)
    scale = max(np.max(np.abs(ref)), 1e-30)
    err = np.max(np.abs(ours - ref)) / scale
    assert err <= tol, f"{what}: relative error {err:.3g} > {tol:.3g}"


def _data(dtype):
    rng = np.random.default_rng(5)
    return rng.random((16, 3, 2)).astype(dtype), np.eye(3)[np.arange(16) % 3].astype(dtype)


def _keras_optimizer(keras, name: str):
    cls = {"sgd_plain": "SGD", "rmsprop": "RMSprop", "adamw": "AdamW", "adagrad": "Adagrad",
           "adadelta": "Adadelta", "adamax": "Adamax", "nadam": "Nadam", "adam": "Adam",
           "sgd": "SGD"}[name]
    return getattr(keras.optimizers, cls)(**OPTIMIZERS[name])


def _keras_model(keras, dtype: str, optimizer: str):
    L = keras.layers
    inner = keras.Sequential([L.Dense(4, activation="tanh", kernel_regularizer="l2", dtype=dtype),
                              L.Dropout(0.0, dtype=dtype)], name="inner")
    model = keras.Sequential([keras.Input((3, 2), dtype=dtype), L.Flatten(dtype=dtype),
                              L.Dense(5, activation="relu", use_bias=False, dtype=dtype),
                              L.BatchNormalization(dtype=dtype),
                              L.LayerNormalization(dtype=dtype),
                              L.Activation("sigmoid", dtype=dtype), inner, L.ReLU(dtype=dtype),
                              L.LeakyReLU(negative_slope=0.2, dtype=dtype),
                              L.Dense(3, dtype=dtype), L.Softmax(dtype=dtype)],
                             name="outer")
    model.compile(_keras_optimizer(keras, optimizer), "categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def _scratchnn_model(dtype: str, optimizer: str):
    inner = snn.Sequential([snn.layers.Dense(4, activation="tanh", kernel_regularizer="l2"),
                            snn.layers.Dropout(0.0)], name="inner")
    L = snn.layers
    model = snn.Sequential([L.Input((3, 2)), L.Flatten(),
                            L.Dense(5, activation="relu", use_bias=False),
                            L.BatchNormalization(), L.LayerNormalization(),
                            L.Activation("sigmoid"), inner, L.ReLU(), L.LeakyReLU(0.2),
                            L.Dense(3), L.Softmax()], name="outer", dtype=dtype)
    name = "sgd" if optimizer == "sgd_plain" else optimizer
    model.compile(snn.optimizers.get({"name": name, "config": OPTIMIZERS[optimizer]}),
                  "categorical_crossentropy", metrics=["accuracy"])
    return model


def _same_weights(ours, ref, dtype, what):
    """Equal bit for bit, with the same shapes and dtype."""
    assert len(ours) == len(ref)
    for a, b in zip(ours, ref):
        assert a.dtype == b.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(a, b, err_msg=what)


def _close_weights(ours, ref, dtype, what):
    assert len(ours) == len(ref)
    for i, (a, b) in enumerate(zip(ours, ref)):
        assert a.shape == b.shape
        _close(a, b, STEP_TOL[dtype], f"{what}: weight {i}")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_a_keras_file_loads_predicts_and_trains_on(tmp_path, dtype, optimizer):
    import keras

    x, y = _data(dtype)
    with tfref.keras_floatx(dtype):
        k_model = _keras_model(keras, dtype, optimizer)
        k_model.train_on_batch(x, y)
        k_model.train_on_batch(x, y)
        k_model.save(tmp_path / "k.keras")
        model = snn.models.load_model(tmp_path / "k.keras")
        assert model.dtype == np.dtype(dtype) and model.optimizer.iterations == 2
        assert [entry.name for entry in model.layers] == [e.name for e in k_model.layers]
        _same_weights(model.get_weights(), k_model.get_weights(), dtype, "loaded")
        _close(model.predict(x), k_model.predict(x, verbose=0), TOL[dtype], "predictions")
        k_model.train_on_batch(x, y)
        model.train_on_batch(x, y)
        _close_weights(model.get_weights(), k_model.get_weights(), dtype, "one step later")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("trained", [True, False])
def test_a_scratchnn_file_opens_in_keras(tmp_path, dtype, optimizer, trained):
    import keras

    x, y = _data(dtype)
    model = _scratchnn_model(dtype, optimizer)
    if trained:
        model.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
    else:
        model.build()
    model.save(tmp_path / "s.keras")
    with tfref.keras_floatx(dtype):
        k_model = keras.models.load_model(tmp_path / "s.keras")
        assert int(k_model.optimizer.iterations.numpy()) == (2 if trained else 0)
        assert type(k_model.optimizer).__name__.lower() == model.optimizer.name
        _same_weights(k_model.get_weights(), model.get_weights(), dtype, "loaded by Keras")
        _close(k_model.predict(x, verbose=0), model.predict(x), TOL[dtype], "predictions")
        k_model.train_on_batch(x, y)
        model.train_on_batch(x, y)
        _close_weights(model.get_weights(), k_model.get_weights(), dtype, "one step later")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_weights_files_both_ways(tmp_path, dtype):
    import keras

    x, y = _data(dtype)
    model = _scratchnn_model(dtype, "adam")
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    model.save_weights(tmp_path / "s.weights.h5")
    with tfref.keras_floatx(dtype):
        k_model = _keras_model(keras, dtype, "adam")
        k_model.load_weights(tmp_path / "s.weights.h5")
        _same_weights(k_model.get_weights(), model.get_weights(), dtype, "Keras load_weights")
        k_model.train_on_batch(x, y)
        k_model.save_weights(tmp_path / "k.weights.h5")
    model.load_weights(tmp_path / "k.weights.h5")
    _same_weights(model.get_weights(), k_model.get_weights(), dtype, "scratchnn load_weights")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_legacy_h5_file_loads_with_its_weights_and_compile_settings(tmp_path, dtype):
    import keras

    x, y = _data(dtype)
    with tfref.keras_floatx(dtype):
        k_model = _keras_model(keras, dtype, "rmsprop")
        k_model.train_on_batch(x, y)
        k_model.save(tmp_path / "k.h5")
        model = snn.models.load_model(tmp_path / "k.h5")
        _same_weights(model.get_weights(), k_model.get_weights(), dtype, "legacy .h5")
        _close(model.predict(x), k_model.predict(x, verbose=0), TOL[dtype], "predictions")
    assert model.optimizer.name == "rmsprop" and model.optimizer.momentum == 0.5
    assert model.metrics_names == ["loss", "accuracy"]
