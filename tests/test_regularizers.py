"""Regularizers: hand-computed penalties and gradients, names, Dense's penalty terms, finite
differences of a layer and of whole models, and the loss fit/train_on_batch/evaluate report."""

from __future__ import annotations

import numpy as np
import pytest

import scratchnn as snn
from scratchnn import gradcheck as gc
from scratchnn import regularizers as R
from scratchnn.layers import Dense, Input

W = np.array([[1.0, -2.0], [0.0, 3.0]])  # sum|w| = 6, sum w^2 = 14
C01 = float(np.float32(0.1))  # L1 keeps its factor as a float32 number, as Keras does


def f32(factor: float) -> float:
    """The factor as Keras on TensorFlow applies it: rounded to float32 (see the module)."""
    return float(np.float32(factor))


# -- the penalties and their gradients, by hand --------------------------------------------------
def test_l1_penalty_and_gradient_by_hand():
    reg = R.L1(0.1)
    assert reg.l1 == C01 == 0.10000000149011612
    assert reg(W) == C01 * 6.0
    np.testing.assert_array_equal(reg.gradient(W), C01 * np.array([[1.0, -1.0], [0.0, 1.0]]))
    assert reg.gradient(np.array([0.0, -0.0]))[0] == 0.0  # sign(0) = 0, TF's gradient of abs


def test_l2_penalty_and_gradient_by_hand():
    reg = R.L2(0.1)
    assert reg.l2 == 0.1  # stored as given (get_config), applied rounded to float32
    assert reg(W) == C01 * 14.0
    np.testing.assert_array_equal(reg.gradient(W), 2 * C01 * W)


def test_l1l2_penalty_and_gradient_by_hand():
    reg = R.L1L2(l1=0.1, l2=0.2)
    assert reg.l1 == 0.1  # L1L2 keeps a Python float (Keras's L1L2 does too)
    assert reg(W) == C01 * 6 + f32(0.2) * 14
    expected = C01 * np.sign(W) + 2 * f32(0.2) * W
    np.testing.assert_array_equal(reg.gradient(W), expected)
    assert R.L1L2()(W) == 0.0 and not R.L1L2().gradient(W).any()


def test_float32_penalty_is_computed_in_float32():
    w32 = W.astype(np.float32)
    assert R.L2(0.1)(w32) == float(np.float32(0.1) * np.float32(14.0))
    assert R.L2(0.1).gradient(w32).dtype == np.float32
    assert R.L1(0.1).gradient(w32).dtype == np.float32


@pytest.mark.parametrize("reg", [R.L1(0.3), R.L2(0.3), R.L1L2(0.3, 0.2)])
def test_gradient_matches_finite_differences(reg):
    w = np.random.default_rng(0).standard_normal((4, 3))
    numeric = gc.numerical_gradient(lambda: reg(w), w)
    assert gc.rel_error(reg.gradient(w), numeric) < 1e-8


# -- names, specs, validation --------------------------------------------------------------------
def test_get_names_and_defaults():
    assert R.get(None) is None
    assert type(R.get("l1")) is R.L1 and R.get("L1").l1 == float(np.float32(0.01))
    assert R.get("l2").get_config() == {"l2": 0.01}
    assert R.get("l1l2").get_config() == {"l1": 0.0, "l2": 0.0}  # Keras 3's 'l1l2'
    assert type(R.get("l1_l2")) is R.L1L2
    reg = R.L2(0.5)
    assert R.get(reg) is reg


def test_serialize_round_trip_and_keras_spec():
    for reg in (R.L1(0.25), R.L2(0.3), R.L1L2(0.1, 0.2)):
        spec = R.serialize(reg)
        assert spec == {"class_name": type(reg).__name__, "config": reg.get_config()}
        back = R.deserialize(spec)
        assert type(back) is type(reg) and back.get_config() == reg.get_config()
    keras_spec = {"module": "keras.regularizers", "class_name": "L2", "config": {"l2": 0.1},
                  "registered_name": None}  # keras.regularizers.serialize(L2(0.1))
    assert R.get(keras_spec).l2 == 0.1
    assert R.serialize(None) is None and R.deserialize(None) is None


@pytest.mark.parametrize("bad", [-0.1, float("nan"), float("inf")])
def test_invalid_factors_raise_value_error(bad):
    for make in (lambda: R.L1(bad), lambda: R.L2(bad), lambda: R.L1L2(l1=bad),
                 lambda: R.L1L2(l2=bad)):
        with pytest.raises(ValueError):
            make()


def test_wrong_kinds_raise():
    with pytest.raises(TypeError):
        R.L2("0.1")
    with pytest.raises(TypeError):
        R.L1(True)
    with pytest.raises(ValueError, match="Unknown regularizer"):
        R.get("l3")
    with pytest.raises(TypeError):
        R.get(0.1)
    assert R.L1(None).l1 == R.L1().l1 and R.L1L2(None, None).get_config() == {"l1": 0, "l2": 0}


# -- Dense -----------------------------------------------------------------------------------------
def _dense(**regs):
    layer = Dense(3, activation="tanh", **regs)
    layer.build((4,), np.float64, np.random.default_rng(1))
    layer.params["bias"][...] = [0.1, -0.2, 0.3]
    return layer


def test_dense_regularization_loss_by_hand():
    layer = _dense(kernel_regularizer=R.L2(0.1), bias_regularizer="l1",
                   activity_regularizer=R.L1L2(0.2, 0.3))
    x = np.random.default_rng(2).standard_normal((5, 4))
    a = layer.forward(x)
    kernel, bias = layer.params["kernel"], layer.params["bias"]
    assert np.array_equal(a, np.tanh(x @ kernel + bias))
    expected = (C01 * np.sum(kernel**2) + f32(0.01) * np.sum(np.abs(bias))
                + (f32(0.2) * np.sum(np.abs(a)) + f32(0.3) * np.sum(a**2)) / 5)
    assert layer.regularization_loss() == pytest.approx(expected, rel=1e-14)
    assert _dense().regularization_loss() == 0.0


def test_dense_backward_adds_penalty_gradients_and_keeps_dout():
    regs = dict(kernel_regularizer=R.L2(0.1), bias_regularizer=R.L1(0.05),
                activity_regularizer=R.L2(0.3))
    layer, plain = _dense(**regs), _dense()
    plain.params["kernel"][...] = layer.params["kernel"]
    x = np.random.default_rng(3).standard_normal((6, 4))
    dout = np.random.default_rng(4).standard_normal((6, 3))
    dout_copy = dout.copy()
    a = layer.forward(x, training=True)
    plain.forward(x, training=True)
    dx = layer.backward(dout)
    assert np.array_equal(dout, dout_copy)
    dx_plain = plain.backward(dout + 2 * f32(0.3) * a / 6)  # dL/da = dout + R_a'(a)/N
    np.testing.assert_allclose(dx, dx_plain, rtol=1e-14, atol=1e-16)
    np.testing.assert_allclose(layer.grads["kernel"],
                               plain.grads["kernel"] + 2 * C01 * layer.params["kernel"], rtol=1e-14)
    np.testing.assert_allclose(
        layer.grads["bias"],
        plain.grads["bias"] + f32(0.05) * np.sign(layer.params["bias"]), rtol=1e-14)


@pytest.mark.parametrize("activation", ["relu", "tanh", "softmax", "linear"])
def test_dense_gradcheck_with_all_three_regularizers(activation):
    layer = Dense(4, activation=activation, kernel_regularizer=R.L1L2(0.2, 0.3),
                  bias_regularizer=R.L2(0.4), activity_regularizer=R.L1L2(0.1, 0.5))
    x = np.random.default_rng(5).standard_normal((7, 3))
    layer.build((3,), np.float64, np.random.default_rng(6))
    layer.params["bias"][...] = [0.3, -0.1, 0.2, -0.4]
    u = np.random.default_rng(7).standard_normal((7, 4))
    layer.forward(x, training=True)
    dx = layer.backward(u)
    analytic = {"x": dx, **{k: g.copy() for k, g in layer.grads.items()}}

    def f() -> float:  # sum(u * a) + the layer's penalty, a = forward(x)
        return float(np.sum(layer.forward(x) * u)) + layer.regularization_loss()

    errors = {"x": gc.rel_error(dx, gc.numerical_gradient(f, x))}
    for key, p in layer.params.items():
        errors[key] = gc.rel_error(analytic[key], gc.numerical_gradient(f, p))
    assert max(errors.values()) < 1e-7, errors


def test_forward_logits_refuses_an_activity_regularizer():
    layer = _dense(activity_regularizer="l2")
    with pytest.raises(RuntimeError, match="activity_regularizer"):
        layer.forward_logits(np.zeros((2, 4)))


# -- whole models ----------------------------------------------------------------------------------
def _model(last_activation="linear", loss="mse", last_activity=True):
    model = snn.Sequential([
        Input((3,)),
        Dense(5, activation="tanh", kernel_regularizer=R.L2(0.02), bias_regularizer=R.L1(0.03),
              activity_regularizer=R.L1L2(0.01, 0.04)),
        Dense(2, activation=last_activation, kernel_regularizer=R.L1L2(0.05, 0.01),
              bias_regularizer="l2",
              activity_regularizer=R.L2(0.06) if last_activity else None),
    ], dtype="float64")
    model.compile(snn.optimizers.SGD(0.1), loss)
    rng = np.random.default_rng(8)
    model.set_weights([rng.standard_normal(w.shape) * 0.5 for w in model.get_weights()])
    return model


def _data(n=8, seed=9):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 3))
    return x, np.eye(2)[rng.integers(0, 2, n)]


@pytest.mark.parametrize("last_activation,loss,last_activity", [
    ("linear", "mse", True),
    ("sigmoid", "mse", True),
    ("softmax", "categorical_crossentropy", False),  # the fused head
    ("linear", snn.losses.CategoricalCrossentropy(from_logits=True), True),
])
def test_model_gradcheck_with_regularizers(last_activation, loss, last_activity):
    model = _model(last_activation, loss, last_activity)
    x, y = _data()
    errors = gc.check_model(model, x, y)
    assert max(errors.values()) < 1e-7, errors


def _hand_loss(weights, x, y):
    """MSE + every penalty of :func:`_model`'s ('linear', 'mse') network, from the formulas."""
    k1, b1, k2, b2 = weights
    a1 = np.tanh(x @ k1 + b1)
    a2 = a1 @ k2 + b2
    n = len(x)
    data = np.mean(np.mean((y - a2) ** 2, axis=1))
    penalties = (f32(0.02) * np.sum(k1**2) + f32(0.03) * np.sum(np.abs(b1))
                 + (f32(0.01) * np.sum(np.abs(a1)) + f32(0.04) * np.sum(a1**2)) / n
                 + f32(0.05) * np.sum(np.abs(k2)) + f32(0.01) * np.sum(k2**2)
                 + f32(0.01) * np.sum(b2**2) + f32(0.06) * np.sum(a2**2) / n)
    return data + penalties


def test_evaluate_train_on_batch_and_fit_report_data_loss_plus_penalties():
    x, y = _data()
    model = _model()
    expected = _hand_loss(model.get_weights(), x, y)
    assert model.evaluate(x, y, batch_size=8, verbose=0) == pytest.approx(expected, rel=1e-13)
    assert model.train_on_batch(x, y) == pytest.approx(expected, rel=1e-13)  # before the step
    model = _model()
    history = model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    assert history.history["loss"][0] == pytest.approx(expected, rel=1e-13)


def test_evaluate_over_batches_averages_per_batch_penalties():
    x, y = _data(10)
    model = _model()
    w = model.get_weights()
    expected = (8 * _hand_loss(w, x[:8], y[:8]) + 2 * _hand_loss(w, x[8:], y[8:])) / 10
    assert model.evaluate(x, y, batch_size=8, verbose=0) == pytest.approx(expected, rel=1e-13)


def test_sgd_step_includes_the_weight_decay():
    x, y = _data()
    model = _model()
    before = [w.copy() for w in model.get_weights()]
    _, grads = model.compute_gradients(x, y)
    model.train_on_batch(x, y)
    for w0, g, w1 in zip(before, grads, model.get_weights()):
        np.testing.assert_allclose(w1, w0 - 0.1 * g, rtol=1e-14, atol=1e-16)
    numeric = gc.numerical_gradient(lambda: _hand_loss(before, x, y), before[0])
    assert gc.rel_error(grads[0], numeric) < 1e-7  # the hand formula, not the model


def test_config_round_trip_keeps_the_regularizers():
    model = _model()
    config = model.get_config()
    dense_config = config["layers"][-1]["config"] if "layers" in config else None
    clone = snn.Sequential.from_config(config)
    clone.compile(snn.optimizers.SGD(0.1), "mse")
    clone.set_weights(model.get_weights())
    x, y = _data()
    assert clone.evaluate(x, y, verbose=0) == model.evaluate(x, y, verbose=0)
    for a, b in zip(model.layers, clone.layers):
        for key in ("kernel_regularizer", "bias_regularizer", "activity_regularizer"):
            assert R.serialize(getattr(a, key)) == R.serialize(getattr(b, key))
    assert dense_config is None or dense_config["bias_regularizer"] == {
        "class_name": "L2", "config": {"l2": 0.01}}


def test_dense_without_regularizers_keeps_its_config():
    assert set(Dense(2).get_config()) == {"name", "units", "activation", "use_bias",
                                          "kernel_initializer", "bias_initializer"}
