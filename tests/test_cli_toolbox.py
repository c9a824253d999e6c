"""``scratchnn train`` with the toolbox flags: ``--dropout``, ``--batchnorm``, ``--l2``, every
registered ``--optimizer``, ``--schedule`` and ``--clipnorm`` reach the model (layers, optimizer
config), schedules give their hand-derived rates, bad values are refused naming the flag (exit 1,
no traceback, nothing loaded), and a tiny run with every flag trains, saves and loads."""

from __future__ import annotations

import math

import numpy as np
import pytest

import scratchnn
from scratchnn import optimizers
from scratchnn.backend import to_numpy
from scratchnn.cli import build_parser, main
from scratchnn.cli.common import build_network, make_optimizer
from scratchnn.layers import Activation, BatchNormalization, Dense, Dropout, Flatten
from scratchnn.regularizers import L2
from scratchnn.workflow import tutorial


@pytest.fixture
def fake_mnist(monkeypatch):
    """MNIST replaced by 120 training and 30 test images; the list records every load."""
    rng = np.random.default_rng(0)
    data = ((rng.integers(0, 256, (120, 28, 28), dtype=np.uint8), np.arange(120) % 10),
            (rng.integers(0, 256, (30, 28, 28), dtype=np.uint8), np.arange(30) % 10))
    loads: list = []

    def load_data(path=None):
        loads.append(path)
        return data

    monkeypatch.setattr(scratchnn.datasets.mnist, "load_data", load_data)
    return loads


def _args(*argv):
    return build_parser().parse_args(["train", *argv])


def test_defaults_build_the_plain_tutorial_network():
    model = build_network(_args("--hidden", "16", "8"))
    assert [type(layer) for layer in model.layers] == [Flatten, Dense, Dense, Dense]
    assert all(layer.kernel_regularizer is None and layer.use_bias
               for layer in model.layers[1:])


def test_layer_flags_reach_the_model():
    args = _args("--hidden", "16", "8", "--dropout", "0.25", "--batchnorm", "--l2", "0.003",
                 "--activation", "tanh")
    model = build_network(args)
    block = [Dense, BatchNormalization, Activation, Dropout]
    assert [type(layer) for layer in model.layers] == [Flatten, *block, *block, Dense]
    dense = [layer for layer in model.layers if isinstance(layer, Dense)]
    assert [d.use_bias for d in dense] == [False, False, True]  # BN's beta replaces the bias
    assert all(isinstance(d.kernel_regularizer, L2) and d.kernel_regularizer.l2 == 0.003
               for d in dense)
    assert all(layer.rate == 0.25 for layer in model.layers if isinstance(layer, Dropout))
    assert model.layers[3].get_config()["activation"] == "tanh"


def test_dropout_alone_follows_the_activation():
    model = build_network(_args("--hidden", "4", "--dropout", "0.5"))
    assert [type(layer) for layer in model.layers] == [Flatten, Dense, Dropout, Dense]
    assert model.layers[1].get_config()["activation"] == "relu"


def test_l2_adds_its_hand_derived_penalty_to_the_loss():
    x = np.random.default_rng(1).random((6, 28, 28))
    y = np.eye(10)[np.arange(6)]
    losses = []
    for l2 in ("0", "0.01"):
        scratchnn.utils.set_random_seed(3)
        model = build_network(_args("--hidden", "5", "--l2", l2, "--dtype", "float64"))
        model.compile("sgd", "categorical_crossentropy")
        losses.append(model.evaluate(x, y, verbose=0))
    kernels = [w for w in model.get_weights() if w.ndim == 2]
    factor = float(np.float32(0.01))  # Keras rounds the factor to float32 first
    assert losses[1] - losses[0] == pytest.approx(
        factor * sum((k ** 2).sum() for k in kernels), rel=1e-9)


def test_every_registered_optimizer_is_a_choice_with_keras_default_rate():
    assert sorted(tutorial.DEFAULT_LR) == optimizers.OPTIMIZERS.names()
    for name in optimizers.OPTIMIZERS.names():
        opt = make_optimizer(_args("--optimizer", name))
        assert type(opt) is optimizers.OPTIMIZERS.entries()[name]
        assert float(opt.learning_rate) == pytest.approx(0.01 if name == "sgd" else 0.001)
        assert opt.get_config().get("clipnorm") is None


def test_clipnorm_and_schedule_reach_the_optimizer():
    opt = make_optimizer(_args("--optimizer", "rmsprop", "--lr", "0.1", "--clipnorm", "2",
                               "--schedule", "cosine", "--epochs", "3"), steps_per_epoch=7)
    config = opt.get_config()
    assert config["clipnorm"] == 2.0
    assert config["learning_rate"]["class_name"] == "CosineDecay"
    assert config["learning_rate"]["config"]["decay_steps"] == 21  # the whole run
    with pytest.raises(ValueError, match="steps per epoch"):
        make_optimizer(_args("--schedule", "cosine"))


# (schedule, step as a function of (T = epochs * steps, S = steps), rate / eta0) by hand
HAND_RATES = [
    ("none", lambda t, s: t, 1.0),
    ("exponential", lambda t, s: t, 0.01), ("exponential", lambda t, s: t // 2, 0.1),
    ("inverse_time", lambda t, s: s, 0.5), ("inverse_time", lambda t, s: 2 * s, 1 / 3),
    ("piecewise", lambda t, s: t // 2, 1.0), ("piecewise", lambda t, s: t // 2 + 1, 0.1),
    ("piecewise", lambda t, s: t, 0.01),
    ("polynomial", lambda t, s: t // 2, 0.5), ("polynomial", lambda t, s: t, 0.0),
    ("cosine", lambda t, s: t // 2, 0.5), ("cosine", lambda t, s: t // 4, (1 + 0.5 ** 0.5) / 2),
    ("cosine", lambda t, s: t, 0.0),
    ("cosine_restarts", lambda t, s: s // 2, 0.5), ("cosine_restarts", lambda t, s: s, 1.0),
    ("cosine_restarts", lambda t, s: 2 * s, 0.5),  # second period is 2 epochs long
]


@pytest.mark.parametrize("name, step, expected", HAND_RATES)
def test_schedules_give_their_hand_derived_rates(name, step, expected):
    epochs, steps, eta0 = 4, 10, 0.2
    rate = tutorial.make_schedule(name, eta0, epochs, steps)
    at = step(epochs * steps, steps)
    value = rate if name == "none" else float(rate(np.int64(at)))
    assert value == pytest.approx(eta0 * expected, rel=1e-6, abs=1e-9)


def test_every_schedule_is_a_choice_and_unknown_is_refused():
    schedule_action = next(a for a in build_parser()._subparsers._group_actions[0]
                           .choices["train"]._actions if a.dest == "schedule")
    assert schedule_action.choices == tutorial.SCHEDULES
    with pytest.raises(ValueError, match="unknown schedule 'step'"):
        tutorial.make_schedule("step", 0.1, 1, 1)


@pytest.mark.parametrize("samples, batch, split, expected",
                         [(120, 32, 0.0, 4), (128, 32, 0.0, 4), (120, 32, 0.25, 3),
                          (100, 7, 0.1, 13)])
def test_steps_per_epoch_matches_fit(samples, batch, split, expected):
    assert tutorial.steps_per_epoch(samples, batch, split) == expected
    model = scratchnn.Sequential([Dense(2, input_shape=(3,))])
    model.compile("sgd", "mse")
    model.fit(np.zeros((samples, 3)), np.zeros((samples, 2)), batch_size=batch, epochs=1,
              validation_split=split, verbose=0)
    assert int(model.optimizer.iterations) == expected


@pytest.mark.parametrize("option, value, message", [
    ("--dropout", "1", "must be in [0, 1), got '1'"),
    ("--dropout", "-0.1", "must be in [0, 1), got '-0.1'"),
    ("--l2", "-0.5", "must be a number >= 0, got '-0.5'"),
    ("--l2", "nan", "expected a number >= 0, got 'nan'"),
    ("--clipnorm", "0", "must be a positive number, got '0'"),
    ("--schedule", "step", "invalid choice: 'step'"),
    ("--optimizer", "lion", "invalid choice: 'lion'"),
])
def test_bad_values_are_refused_naming_the_flag(capsys, fake_mnist, option, value, message):
    status = main(["train", option, value, "--epochs", "1"])
    err = capsys.readouterr().err
    assert status == 1
    assert f"scratchnn train: error: argument {option}: {message}" in err
    assert "Traceback" not in err
    assert fake_mnist == []


def test_tiny_run_with_every_flag_saves_and_loads(capsys, fake_mnist, tmp_path):
    path = tmp_path / "model.npz"
    status = main(["train", "--hidden", "12", "6", "--dropout", "0.2", "--batchnorm", "--l2",
                   "1e-4", "--optimizer", "adamw", "--lr", "0.01", "--schedule", "cosine",
                   "--clipnorm", "1", "--epochs", "2", "--batch-size", "16",
                   "--validation-split", "0.25", "--verbose", "0", "--save", str(path)])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "Test accuracy:" in out
    model = scratchnn.models.load_model(str(path))
    block = [Dense, BatchNormalization, Activation, Dropout]
    assert [type(layer) for layer in model.layers] == [Flatten, *block, *block, Dense]
    config = model.optimizer.get_config()
    assert type(model.optimizer) is optimizers.AdamW and config["clipnorm"] == 1.0
    # 120 images, 25% held out: 90 trained on, ceil(90 / 16) = 6 steps per epoch, 2 epochs
    assert config["learning_rate"]["config"]["decay_steps"] == 2 * math.ceil(90 / 16)
    assert int(model.optimizer.iterations) == 12
    moving_mean = to_numpy(model.layers[2].state["moving_mean"])  # a tensor off NumPy
    assert np.any(moving_mean != 0)  # BN's statistics were trained and saved
