"""Dropout, BatchNormalization, LayerNormalization and the Softmax/ReLU/LeakyReLU layers:
forward against hand formulas, finite-difference gradients (float64), the moving statistics
against their recurrence, reproducible dropout masks, configs (TF parity lives in
tests/parity/test_parity_layers_toolbox.py)."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import scratchnn as snn
from scratchnn import gradcheck as gc
from scratchnn.engine.head import SoftmaxCrossEntropyHead
from scratchnn.layers import (
    LAYERS,
    BatchNormalization,
    Dense,
    Dropout,
    Input,
    LayerNormalization,
    LeakyReLU,
    ReLU,
    Softmax,
)
from scratchnn.seeding import set_random_seed

TOL = 1e-7


def _x(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def _built(layer, x, dtype=np.float64):
    layer.build(x.shape[1:], dtype, np.random.default_rng(0))
    return layer


def _randomize(layer, seed=1):
    rng = np.random.default_rng(seed)
    for p in layer.params.values():
        p[...] = rng.uniform(0.5, 1.5, p.shape)


# -- Dropout ---------------------------------------------------------------------------------
def test_dropout_forward_backward_by_hand():
    x = _x(4, 5)
    layer = _built(Dropout(0.25), x)
    mask = _x(4, 5, seed=2) > 0
    layer.fixed_mask = mask
    out = layer.forward(x, training=True)
    np.testing.assert_array_equal(out, np.where(mask, x * (1 / 0.75), 0.0))
    np.testing.assert_array_equal(layer.mask, mask)
    dout = _x(4, 5, seed=3)
    np.testing.assert_array_equal(layer.backward(dout), np.where(mask, dout, 0.0) * (1 / 0.75))
    np.testing.assert_array_equal(layer.forward(x), x)  # inference: identity


def test_dropout_draws_keep_as_uniform_at_least_rate():
    x = np.ones((50, 40))
    layer = _built(Dropout(0.3, seed=7), x)
    out = layer.forward(x, training=True)
    expected = np.random.default_rng(7).random((50, 40)) >= 0.3
    np.testing.assert_array_equal(layer.mask, expected)
    np.testing.assert_array_equal(out, np.where(expected, 1 / 0.7, 0.0))
    with pytest.raises(ValueError):
        layer.mask[0, 0] = False  # read-only


def test_dropout_noise_shape_broadcasts():
    x = _x(6, 4)
    layer = _built(Dropout(0.5, noise_shape=(None, 4), seed=1), x)
    out = layer.forward(x, training=True)
    assert layer.mask.shape == (6, 4)
    layer2 = _built(Dropout(0.5, noise_shape=(1, 4), seed=1), x)
    out = layer2.forward(x, training=True)
    assert layer2.mask.shape == (1, 4)
    np.testing.assert_array_equal(out == 0, np.broadcast_to(~layer2.mask, (6, 4)) & (x != 0))


def test_dropout_same_global_seed_same_masks():
    def masks():
        set_random_seed(123)
        layer = _built(Dropout(0.5), np.zeros((3, 8)))
        return [layer.forward(np.ones((3, 8)), training=True) for _ in range(3)]
    first, second = masks(), masks()
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], first[1])


def test_dropout_rate_zero_identity_and_checks():
    x = _x(3, 4)
    layer = _built(Dropout(0.0), x)
    assert layer.forward(x, training=True) is x
    for bad in (1.0, -0.1, "0.5"):
        with pytest.raises((ValueError, TypeError)):
            Dropout(bad)


def test_dropout_gradcheck_with_fixed_mask():
    x = _x(7, 5)
    layer = _built(Dropout(0.4), x)
    layer.fixed_mask = _x(7, 5, seed=4) > -0.3
    errors = gc.check_layer(layer, x, training=True)
    assert max(errors.values()) < TOL, errors


# -- BatchNormalization ----------------------------------------------------------------------
def _bn_by_hand(x, gamma, beta, eps, axes):
    mean = x.mean(axis=axes, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
    return gamma * (x - mean) / np.sqrt(var + eps) + beta


@pytest.mark.parametrize("shape, axis", [((8, 5), -1), ((6, 3, 4), -1), ((6, 3, 4), 1)])
def test_batchnorm_training_forward_by_hand(shape, axis):
    x = _x(*shape)
    layer = _built(BatchNormalization(axis=axis), x)
    _randomize(layer)
    bshape = [1] * len(shape)
    bshape[axis] = shape[axis]
    gamma, beta = (layer.params[k].reshape(bshape) for k in ("gamma", "beta"))
    axes = tuple(a for a in range(len(shape)) if a != axis % len(shape))
    np.testing.assert_allclose(layer.forward(x, training=True),
                               _bn_by_hand(x, gamma, beta, 1e-3, axes), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("center, scale", [(True, True), (False, True), (True, False),
                                           (False, False)])
@pytest.mark.parametrize("shape, axis", [((7, 5), -1), ((5, 3, 4), -1), ((5, 3, 4), 1)])
def test_batchnorm_gradcheck_training(shape, axis, center, scale):
    x = 3 * _x(*shape, seed=11) + 1  # not seed 0: check_layer's upstream gradient uses it
    layer = _built(BatchNormalization(axis=axis, center=center, scale=scale), x)
    _randomize(layer)
    errors = gc.check_layer(layer, x, training=True)
    assert set(errors) == {"x"} | ({"gamma"} if scale else set()) | ({"beta"} if center else set())
    assert max(errors.values()) < TOL, errors


def test_batchnorm_moving_statistics_recurrence_and_inference():
    layer = _built(BatchNormalization(momentum=0.9), np.zeros((1, 3)))
    mm, mv = np.zeros(3), np.ones(3)
    for step in range(4):
        x = _x(10, 3, seed=step) * (step + 1) + step
        layer.forward(x, training=True)
        mm = mm * 0.9 + x.mean(axis=0) * (1.0 - 0.9)
        mv = mv * 0.9 + x.var(axis=0) * (1.0 - 0.9)
        np.testing.assert_allclose(layer.state["moving_mean"], mm, rtol=1e-14, atol=1e-15)
        np.testing.assert_allclose(layer.state["moving_variance"], mv, rtol=1e-14)
    x = _x(5, 3, seed=9)
    expected = (x - mm) / np.sqrt(mv + 1e-3) * layer.params["gamma"] + layer.params["beta"]
    np.testing.assert_allclose(layer.forward(x), expected, rtol=1e-13)
    np.testing.assert_array_equal(layer.state["moving_mean"], layer.state["moving_mean"])
    before = layer.state["moving_mean"].copy()
    layer.forward(x)  # inference leaves the statistics alone
    np.testing.assert_array_equal(layer.state["moving_mean"], before)


def test_batchnorm_weights_order_and_counts():
    model = snn.Sequential([Input((4,)), BatchNormalization()])
    model.build()
    layer = model.layers[-1]
    assert list(layer.params) == ["gamma", "beta"]
    assert list(layer.state) == ["moving_mean", "moving_variance"]
    assert [w.tolist() for w in model.get_weights()] == [[1.0] * 4, [0.0] * 4, [0.0] * 4,
                                                         [1.0] * 4]
    assert model.count_params() == 16 and len(model.trainable_weights) == 2


# -- LayerNormalization ----------------------------------------------------------------------
@pytest.mark.parametrize("shape, axis", [((6, 5), -1), ((4, 3, 5), -1), ((4, 3, 5), 1)])
def test_layernorm_forward_by_hand(shape, axis):
    x = _x(*shape)
    layer = _built(LayerNormalization(axis=axis), x)
    _randomize(layer)
    bshape = [1] * len(shape)
    bshape[axis] = shape[axis]
    gamma, beta = (layer.params[k].reshape(bshape) for k in ("gamma", "beta"))
    expected = _bn_by_hand(x, gamma, beta, 1e-3, (axis % len(shape),))
    for training in (False, True):
        np.testing.assert_allclose(layer.forward(x, training), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("center, scale", [(True, True), (False, True), (True, False)])
@pytest.mark.parametrize("shape, axis", [((7, 5), -1), ((4, 3, 5), -1), ((4, 3, 5), 1)])
def test_layernorm_gradcheck(shape, axis, center, scale):
    x = 2 * _x(*shape, seed=12) - 1
    layer = _built(LayerNormalization(axis=axis, center=center, scale=scale), x)
    _randomize(layer)
    errors = gc.check_layer(layer, x, training=True)
    assert max(errors.values()) < TOL, errors


# -- activation layers -----------------------------------------------------------------------
RELU_CASES = [
    ({}, lambda z: np.maximum(z, 0)),
    ({"max_value": 1.0}, lambda z: np.minimum(np.maximum(z, 0), 1.0)),
    ({"max_value": 6.0}, lambda z: np.minimum(np.maximum(z, 0), 6.0)),
    ({"threshold": 0.5}, lambda z: np.where(z > 0.5, z, 0.0)),
    ({"negative_slope": 0.1}, lambda z: np.where(z > 0, z, 0.1 * z)),
    ({"negative_slope": 0.1, "threshold": 0.5, "max_value": 1.5},
     lambda z: np.where(z > 0.5, np.minimum(z, 1.5), 0.1 * (z - 0.5))),
]


@pytest.mark.parametrize("kwargs, formula", RELU_CASES)
def test_relu_layer_forward_and_gradcheck(kwargs, formula):
    x = 3 * _x(9, 6, seed=5)
    layer = _built(ReLU(**kwargs), x)
    slope = kwargs.get("negative_slope", 0.0)
    # a non-zero slope alone is TF's leaky_relu, whose slope is a float32 attribute
    rtol = 1e-7 if slope and len(kwargs) == 1 else 1e-15
    np.testing.assert_allclose(layer.forward(x), formula(x), rtol=rtol, atol=1e-15)
    errors = gc.check_layer(layer, x)
    assert max(errors.values()) < TOL, errors
    assert layer.get_config() == {"name": layer.name, "max_value": None, "negative_slope": 0.0,
                                  "threshold": 0.0, **kwargs}


def test_leaky_relu_layer_default_slope():
    x = _x(5, 4)
    layer = _built(LeakyReLU(), x)
    np.testing.assert_allclose(layer.forward(x), np.where(x > 0, x, 0.3 * x), rtol=1e-7)
    assert layer.get_config() == {"name": layer.name, "negative_slope": 0.3}
    assert max(gc.check_layer(layer, x).values()) < TOL


@pytest.mark.parametrize("shape, axis", [((5, 4), -1), ((3, 4, 5), 1), ((3, 4, 5), -1)])
def test_softmax_layer(shape, axis):
    x = _x(*shape)
    layer = _built(Softmax(axis=axis), x)
    e = np.exp(x)
    np.testing.assert_allclose(layer.forward(x), e / e.sum(axis=axis, keepdims=True),
                               rtol=1e-14)
    assert max(gc.check_layer(layer, x).values()) < TOL


def test_model_ending_in_softmax_layer_fuses_head():
    model = snn.Sequential([Input((4,)), Dense(3), Softmax()], dtype="float64")
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    model.build()
    assert isinstance(model.output_head, SoftmaxCrossEntropyHead)
    y = np.eye(3)[[0, 1, 2, 1, 0]]
    errors = gc.check_model(model, _x(5, 4), y)
    assert max(errors.values()) < TOL, errors


# -- in a model ------------------------------------------------------------------------------
def test_model_dense_bn_dropout_gradcheck_training_mode():
    set_random_seed(0)
    # no bias before the batch normalization: its gradient is exactly 0 (BN subtracts it
    # again), which finite differences can only give as rounding noise
    model = snn.Sequential([Input((5,)), Dense(6, use_bias=False), BatchNormalization(), ReLU(),
                            Dropout(0.3),
                            LayerNormalization(), Dense(3, activation="softmax")],
                           dtype="float64")
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    model.build()
    model.layers[3].fixed_mask = _x(8, 6, seed=1) > -0.4
    y = np.eye(3)[np.arange(8) % 3]
    errors = gc.check_model(model, _x(8, 5), y, training=True)
    assert len(errors) == 1 + 1 + 2 + 2 + 2
    assert max(errors.values()) < TOL, errors


def test_model_trains_and_rebuilds_from_config_with_toolbox_layers():
    set_random_seed(0)
    model = snn.Sequential([Input((4,)), Dense(8), BatchNormalization(), LeakyReLU(),
                            Dropout(0.2), LayerNormalization(), Dense(2), Softmax()])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x = _x(64, 4).astype("float32")
    y = (x[:, 0] > 0).astype(int)
    history = model.fit(x, y, epochs=3, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert not np.array_equal(model.layers[1].state["moving_mean"], np.zeros(8))
    again = snn.Sequential.from_config(model.get_config())
    again.build()
    again.set_weights(model.get_weights())
    np.testing.assert_array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))


# -- configs ---------------------------------------------------------------------------------
@pytest.mark.parametrize("layer", [Dropout(0.3, noise_shape=(None, 1), seed=3),
                                   BatchNormalization(axis=1, momentum=0.9, center=False),
                                   LayerNormalization(epsilon=1e-5, scale=False),
                                   Softmax(axis=1), ReLU(max_value=2.0), LeakyReLU(0.1)])
def test_config_is_exactly_the_init_arguments_and_round_trips(layer):
    config = layer.get_config()
    params = set(inspect.signature(type(layer).__init__).parameters) - {"self", "input_shape"}
    assert set(config) == params
    again = LAYERS.deserialize(LAYERS.serialize(layer))
    assert type(again) is type(layer) and again.get_config() == config
