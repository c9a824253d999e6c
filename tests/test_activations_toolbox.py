"""The Keras 3 activation toolbox: hand values, float64 finite-difference derivatives (at
points away from kinks), layer use through names, and saved-model round trips."""

from __future__ import annotations

import math

import numpy as np
import pytest

import scratchnn as snn
from scratchnn import activations as A
from scratchnn import gradcheck as gc
from scratchnn.layers import Activation, Dense

NEW = ["elu", "selu", "gelu", "softplus", "softsign", "silu", "leaky_relu", "relu6",
       "hard_sigmoid", "hard_silu", "exponential", "mish", "log_softmax"]
KINKS = {"elu": [0.0], "selu": [0.0], "leaky_relu": [0.0], "relu6": [0.0, 6.0],
         "hard_sigmoid": [-3.0, 3.0], "hard_silu": [-3.0, 3.0]}


def _points(name: str, seed: int = 0) -> np.ndarray:
    """(7, 5) float64 points in [-7, 7], none within 1e-3 of a kink of ``name``."""
    x = np.random.default_rng(seed).uniform(-7, 7, (7, 5))
    for kink in KINKS.get(name, []):
        x[np.abs(x - kink) < 1e-3] += 0.01
    return x


SIGMA = lambda z: 1 / (1 + math.exp(-z))  # noqa: E731
PHI = lambda z: 0.5 * math.erfc(-z / math.sqrt(2))  # noqa: E731
F32_FIFTH = float(np.float32(0.2))  # TF rounds the slope attribute to float32
SA = 1.0507009873554804934193349852946 * 1.6732632423543772848170429916717

# (name, z, f(z), f'(z)) from the textbook formulas, written with Python's math module
HAND = [
    ("elu", -1.0, math.exp(-1) - 1, math.exp(-1)), ("elu", 2.0, 2.0, 1.0),
    ("selu", -1.0, SA * (math.exp(-1) - 1), SA * math.exp(-1)),
    ("selu", 2.0, 2 * 1.0507009873554805, 1.0507009873554805),
    ("gelu", 1.0, PHI(1.0), PHI(1.0) + math.exp(-0.5) / math.sqrt(2 * math.pi)),
    ("gelu", -2.0, -2 * PHI(-2.0), PHI(-2.0) - 2 * math.exp(-2) / math.sqrt(2 * math.pi)),
    ("softplus", 0.0, math.log(2), 0.5), ("softplus", -40.0, math.exp(-40), SIGMA(-40.0)),
    ("softplus", 800.0, 800.0, 1.0),
    ("softsign", 3.0, 0.75, 1 / 16), ("softsign", -1.0, -0.5, 0.25),
    ("silu", 1.0, SIGMA(1.0), SIGMA(1.0) * (1 + 1 - SIGMA(1.0))),
    ("silu", -800.0, -0.0, 0.0),
    ("leaky_relu", -2.0, -2 * F32_FIFTH, F32_FIFTH), ("leaky_relu", 3.0, 3.0, 1.0),
    ("relu6", 7.0, 6.0, 0.0), ("relu6", 2.5, 2.5, 1.0), ("relu6", -1.0, 0.0, 0.0),
    ("hard_sigmoid", 1.5, 0.75, 1 / 6), ("hard_sigmoid", 4.0, 1.0, 0.0),
    ("hard_silu", 1.5, 1.125, 0.75 + 0.25), ("hard_silu", -4.0, -0.0, 0.0),
    ("hard_silu", 5.0, 5.0, 1.0),
    ("exponential", 2.0, math.exp(2), math.exp(2)),
    ("mish", 1.0, math.tanh(math.log1p(math.e)),
     math.tanh(math.log1p(math.e)) + (1 - math.tanh(math.log1p(math.e)) ** 2) * SIGMA(1.0)),
]


def _grad(activation, z: np.ndarray, dout: np.ndarray) -> np.ndarray:
    return A.backward(activation, dout, activation.forward(z), z)


@pytest.mark.parametrize("name, z, value, slope", HAND)
def test_hand_values(name, z, value, slope):
    act = A.get(name)
    zz = np.array([[z]])
    np.testing.assert_allclose(act(zz), [[value]], rtol=1e-14, atol=1e-300)
    np.testing.assert_allclose(_grad(act, zz, np.ones_like(zz)), [[slope]], rtol=1e-13,
                               atol=1e-300)


def test_gelu_approximate_hand_value():
    c, k = math.sqrt(2 / math.pi), 0.044715
    t = math.tanh(c * (1 + k))
    act = A.GELU(approximate=True)
    np.testing.assert_allclose(A.gelu(np.array([1.0]), approximate=True), [0.5 * (1 + t)],
                               rtol=1e-15)
    slope = 0.5 * (1 + t) + 0.5 * (1 - t * t) * c * (1 + 3 * k)
    np.testing.assert_allclose(_grad(act, np.array([[1.0]]), np.ones((1, 1))), [[slope]],
                               rtol=1e-14)


def test_log_softmax_hand_values():
    z = np.array([[1.0, 2.0, 3.0], [1000.0, 0.0, -1000.0]])
    lse = math.log(math.exp(1) + math.exp(2) + math.exp(3))
    np.testing.assert_allclose(A.log_softmax(z)[0], [1 - lse, 2 - lse, 3 - lse], rtol=1e-15)
    np.testing.assert_array_equal(A.log_softmax(z)[1], [0.0, -1000.0, -2000.0])
    np.testing.assert_allclose(np.exp(A.log_softmax(z)), A.softmax(z), rtol=1e-15, atol=0)


@pytest.mark.parametrize("name", NEW + ["gelu_approximate"])
def test_derivative_matches_central_differences(name):
    act = A.GELU(approximate=True) if name == "gelu_approximate" else A.get(name)
    z = _points(name)
    u = np.random.default_rng(1).standard_normal(z.shape)
    analytic = _grad(act, z, u)
    numeric = gc.numerical_gradient(lambda: float(np.sum(act.forward(z) * u)), z)
    assert gc.rel_error(analytic, numeric) < 1e-8


@pytest.mark.parametrize("name", NEW)
@pytest.mark.parametrize("layer", ["dense", "activation"])
def test_layers_by_name_gradcheck(name, layer):
    built = Dense(4, activation=name) if layer == "dense" else Activation(name)
    x = _points(name, seed=2) / 4 if layer == "dense" else _points(name, seed=2)
    errors = gc.check_layer(built, x)
    assert max(errors.values()) < 1e-7, errors


def test_backward_leaves_dout_alone_and_keeps_dtype():
    z = np.linspace(-5, 5, 12, dtype=np.float32).reshape(3, 4)
    for name in NEW:
        act = A.get(name)
        dout = np.ones_like(z)
        a = act.forward(z)
        assert a.dtype == np.float32, name
        assert _grad(act, z, dout).dtype == np.float32, name
        np.testing.assert_array_equal(dout, 1.0)


def test_no_overflow_warnings_at_extremes():
    z = np.array([[-1e4, -800.0, 0.0, 800.0, 1e4]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow is fine
        for name in ["elu", "selu", "softplus", "silu", "mish", "gelu", "softsign"]:
            act = A.get(name)
            assert np.all(np.isfinite(_grad(act, z, np.ones_like(z)))), name


def test_aliases_and_keras_defaults():
    assert A.get("swish") is A.silu is A.swish
    assert A.get("hard_swish") is A.hard_silu
    assert A.serialize(A.swish) == "silu"
    assert A.gelu.approximate is False  # Keras's 'gelu' string is the exact form
    assert A.leaky_relu.negative_slope == 0.2
    np.testing.assert_array_equal(A.leaky_relu(np.array([-1.0]), negative_slope=0.5), [-0.5])
    np.testing.assert_array_equal(A.leaky_relu(np.array([-1.0])), [-0.20000000298023224])
    np.testing.assert_allclose(A.elu(np.array([-1.0]), alpha=2.0), [2 * (math.exp(-1) - 1)])


def test_configured_copy_is_not_saved_under_the_default_name():
    with pytest.raises(ValueError, match="cannot be saved"):
        A.serialize(A.ELU(alpha=0.5))
    with pytest.raises(ValueError, match="cannot be saved"):
        A.serialize(A.GELU(approximate=True))
    assert A.serialize(A.ELU()) == "elu"
    with pytest.raises(ValueError):
        A.LeakyReLU(negative_slope=-0.1)


@pytest.mark.parametrize("name", NEW + ["swish", "hard_swish"])
def test_saved_model_round_trips(name, tmp_path):
    model = snn.Sequential([snn.layers.Input((5,)), Dense(4, activation=name),
                            Activation(name), Dense(3)], dtype="float64")
    model.compile(optimizer="sgd", loss="mse")
    x = _points(name, seed=4)[:, :5] / 4
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = snn.saving.load_model(path)
    assert type(loaded.layers[-2].activation) is type(A.get(name))
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
