"""RMSprop, Adagrad, AdamW, Adamax, Nadam and Adam(amsgrad): hand-derived float64 steps,
argument checks, configs, the registry, and saving with the optimizer state."""

from __future__ import annotations

import math

import numpy as np
import pytest

import scratchnn as snn
from scratchnn import optimizers
from scratchnn.layers import Dense, Input


def _f32(x: float) -> float:
    """A Python float rounded through float32 (Keras's ``ops.cast`` of a Python float)."""
    return float(np.float32(x))


def _run(opt, grads, p0=1.0):
    p = np.array([p0], dtype=np.float64)
    trace = []
    for g in grads:
        opt.apply([np.array([g], dtype=np.float64)], [p])
        trace.append(float(p[0]))
    return trace


GRADS = [0.5, -1.0, 2.0]


@pytest.mark.parametrize("momentum", [0.0, 0.9])
@pytest.mark.parametrize("centered", [False, True])
def test_rmsprop_by_hand(momentum, centered):
    lr, rho, eps = 0.01, 0.8, 1e-7
    v = avg = mom = 0.0
    p, expected = 1.0, []
    for g in GRADS:
        v = rho * v + (1 - rho) * g * g
        denominator = v + eps
        if centered:
            avg = rho * avg + (1 - rho) * g
            denominator = v - avg * avg + eps
        increment = lr * g / math.sqrt(denominator)
        mom = momentum * mom + increment
        p -= mom if momentum else increment
        expected.append(p)
    opt = optimizers.RMSprop(lr, rho=rho, momentum=momentum, centered=centered)
    np.testing.assert_allclose(_run(opt, GRADS), expected, rtol=1e-14)
    assert set(opt.slots(0)) == ({"velocity"} | ({"momentum"} if momentum else set())
                                 | ({"average_gradient"} if centered else set()))


def test_adagrad_by_hand():
    lr, eps, acc = 0.1, 1e-7, _f32(0.1)  # Keras's Constant initializer casts via float32
    p, expected = 1.0, []
    for g in GRADS:
        acc += g * g
        p -= lr * g / math.sqrt(acc + eps)
        expected.append(p)
    opt = optimizers.Adagrad(lr)
    np.testing.assert_allclose(_run(opt, GRADS), expected, rtol=1e-14)
    assert optimizers.Adagrad(initial_accumulator_value=0.0).initial_accumulator_value == 0.0


def _adam_by_hand(grads, lr, b1, b2, eps, weight_decay=0.0, amsgrad=False):
    m = v = v_max = 0.0
    p, expected = 1.0, []
    for t, g in enumerate(grads, start=1):
        p = p - p * _f32(weight_decay) * lr
        m += (g - m) * (1 - b1)
        v += (g * g - v) * (1 - b2)
        v_max = max(v_max, v)
        alpha = lr * math.sqrt(1 - _f32(b2) ** t) / (1 - _f32(b1) ** t)
        p -= m * alpha / (math.sqrt(v_max if amsgrad else v) + eps)
        expected.append(p)
    return expected


def test_adamw_by_hand():
    opt = optimizers.AdamW(0.01, weight_decay=0.1)
    np.testing.assert_allclose(_run(opt, GRADS), _adam_by_hand(GRADS, 0.01, 0.9, 0.999, 1e-7, 0.1),
                               rtol=1e-14)
    # weight decay alone: with zero gradients only the decay acts, theta *= (1 - wd lr)
    still = _run(optimizers.AdamW(0.5, weight_decay=0.2), [0.0, 0.0], p0=2.0)
    np.testing.assert_allclose(still, [2.0 * 0.9, 2.0 * 0.9 * 0.9], rtol=1e-7)


def test_amsgrad_by_hand():
    grads = [2.0, 0.1, 0.1]  # v falls after the big gradient (beta_2 = 0.5); v_hat does not
    opt = optimizers.Adam(0.01, beta_2=0.5, amsgrad=True)
    ours = _run(opt, grads)
    expected = _adam_by_hand(grads, 0.01, 0.9, 0.5, 1e-7, amsgrad=True)
    plain = _adam_by_hand(grads, 0.01, 0.9, 0.5, 1e-7)
    np.testing.assert_allclose(ours, expected, rtol=1e-14)
    assert ours[-1] != pytest.approx(plain[-1], rel=1e-6)  # the max made a difference
    assert set(opt.slots(0)) == {"m", "v", "v_hat"}


def test_adamax_by_hand():
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-7
    m = u = 0.0
    p, expected = 1.0, []
    for t, g in enumerate(GRADS, start=1):
        m += (g - m) * (1 - b1)
        u = max(b2 * u, abs(g))
        p -= lr * m / ((1 - _f32(b1) ** t) * (u + eps))
        expected.append(p)
    np.testing.assert_allclose(_run(optimizers.Adamax(lr), GRADS), expected, rtol=1e-14)


def test_nadam_by_hand():
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-7
    b1c, b2c, decay = _f32(b1), _f32(b2), _f32(0.96)
    m = v = 0.0
    product = 1.0  # Keras's _u_product: the Python floats 0.96 and beta_1, uncast
    p, expected = 1.0, []
    for t, g in enumerate(GRADS, start=1):
        product = product * b1 * (1 - 0.5 * 0.96**t)
        mu_t = b1c * (1 - 0.5 * decay**t)
        mu_next = b1c * (1 - 0.5 * decay ** (t + 1))
        m += (g - m) * (1 - b1c)
        v += (g * g - v) * (1 - b2c)
        m_hat = mu_next * m / (1 - product * mu_next) + (1 - mu_t) * g / (1 - product)
        v_hat = v / (1 - b2c**t)
        p -= m_hat * lr / (math.sqrt(v_hat) + eps)
        expected.append(p)
    np.testing.assert_allclose(_run(optimizers.Nadam(lr), GRADS), expected, rtol=1e-14)


BAD_ARGUMENTS = [
    (optimizers.RMSprop, "rho", 1.5), (optimizers.RMSprop, "momentum", -0.1),
    (optimizers.RMSprop, "epsilon", -1.0), (optimizers.RMSprop, "centered", "yes"),
    (optimizers.RMSprop, "learning_rate", -0.1),
    (optimizers.Adagrad, "initial_accumulator_value", -0.1),
    (optimizers.Adagrad, "epsilon", float("nan")),
    (optimizers.AdamW, "weight_decay", -0.004), (optimizers.AdamW, "weight_decay", None),
    (optimizers.AdamW, "amsgrad", 1), (optimizers.Adam, "amsgrad", "true"),
    (optimizers.Adamax, "beta_1", 1.0), (optimizers.Adamax, "beta_2", -0.5),
    (optimizers.Nadam, "beta_1", 1.0), (optimizers.Nadam, "epsilon", "1e-7"),
]


@pytest.mark.parametrize("cls, argument, value", BAD_ARGUMENTS)
def test_bad_arguments_are_named(cls, argument, value):
    with pytest.raises((TypeError, ValueError), match=argument):
        cls(**{argument: value})


NON_DEFAULT = {
    "rmsprop": optimizers.RMSprop(0.01, rho=0.8, momentum=0.5, epsilon=1e-6, centered=True),
    "adagrad": optimizers.Adagrad(0.02, initial_accumulator_value=0.5, epsilon=1e-6),
    "adamw": optimizers.AdamW(0.01, weight_decay=0.1, beta_1=0.8, beta_2=0.99, amsgrad=True),
    "adamax": optimizers.Adamax(0.01, beta_1=0.8, beta_2=0.99, epsilon=1e-6),
    "nadam": optimizers.Nadam(0.01, beta_1=0.8, beta_2=0.99, epsilon=1e-6),
}
KERAS_DEFAULTS = {
    "rmsprop": {"learning_rate": 0.001, "rho": 0.9, "momentum": 0.0, "epsilon": 1e-7,
                "centered": False},
    "adagrad": {"learning_rate": 0.001, "initial_accumulator_value": 0.1, "epsilon": 1e-7},
    "adamw": {"learning_rate": 0.001, "weight_decay": 0.004, "beta_1": 0.9, "beta_2": 0.999,
              "epsilon": 1e-7},
    "adamax": {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
    "nadam": {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
}


@pytest.mark.parametrize("name", list(NON_DEFAULT))
def test_registry_names_defaults_and_round_trip(name):
    default = optimizers.get(name)
    assert default.get_config() == KERAS_DEFAULTS[name]
    assert optimizers.get(name.upper()).get_config() == default.get_config()
    opt = NON_DEFAULT[name]
    spec = optimizers.serialize(opt)
    assert spec["name"] == name
    back = optimizers.deserialize(spec)
    assert type(back) is type(opt) and back.get_config() == opt.get_config()


def test_adam_config_mentions_amsgrad_only_when_set():
    assert "amsgrad" not in optimizers.Adam().get_config()
    back = optimizers.deserialize(optimizers.serialize(optimizers.Adam(amsgrad=True)))
    assert back.amsgrad and back.slot_names == ("m", "v", "v_hat")


def _model(optimizer, x, y):
    snn.utils.set_random_seed(3)
    model = snn.Sequential([Input((4,)), Dense(5, activation="tanh"),
                            Dense(3, activation="softmax")])
    model.compile(optimizer, "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    return model


@pytest.mark.parametrize("optimizer", [*NON_DEFAULT.values(), optimizers.RMSprop(0.01),
                                       optimizers.Adam(0.01, amsgrad=True)],
                         ids=[*NON_DEFAULT, "rmsprop-plain", "adam-amsgrad"])
def test_saved_with_state_continues_identically(blobs, tmp_path, optimizer):
    x, y = blobs
    model = _model(optimizers.deserialize(optimizers.serialize(optimizer)), x, y)
    path = tmp_path / "model.npz"
    model.save(path)
    loaded = snn.models.load_model(path)
    assert type(loaded.optimizer) is type(model.optimizer)
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    assert loaded.optimizer.iterations == model.optimizer.iterations > 0
    for m in (model, loaded):
        snn.utils.set_random_seed(5)
        m.fit(x, y, epochs=1, batch_size=16, verbose=0)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", list(NON_DEFAULT))
def test_tutorial_and_cli_build_the_new_optimizers(name):
    import argparse

    from scratchnn.cli.common import add_network_args, make_optimizer
    from scratchnn.workflow import tutorial

    opt = tutorial.make_optimizer(name, 0.05)
    assert type(opt) is type(NON_DEFAULT[name])
    assert opt.get_config() == {**KERAS_DEFAULTS[name], "learning_rate": 0.05}
    parser = argparse.ArgumentParser()
    add_network_args(parser, [8])
    args = parser.parse_args(["--optimizer", name])
    assert make_optimizer(args).get_config() == KERAS_DEFAULTS[name]
