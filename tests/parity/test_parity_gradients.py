"""Gradients of the training loss: every parameter and the input, against ``tf.GradientTape``.

scratchnn's ``compute_gradients`` is compared with ``tfref.gradients``, which runs the model and
its compiled loss inside ``tf.function`` exactly as Keras's ``train_step`` does (so a softmax
output trains on the fused cross-entropy on both sides).

* the tutorial networks 784-512-10, 784-128-128-10, 784-4-4-10, 784-10-10-10 (ReLU, softmax),
  on batches of 1, 7 and 32, plus the other losses on 784-128-10;
* random architectures: seeded draws of depth 1-4, widths 1-300, hidden activations among
  relu/sigmoid/tanh/linear, sometimes as separate Activation layers, with softmax/CE,
  softmax/sparse CE or linear/sigmoid/tanh outputs with MSE; each on batches of 1, 7, 32 and
  the ragged last batch (13) of 45 samples in batches of 32.
"""

from __future__ import annotations

import numpy as np
import pytest
from parity_helpers import build, targets

import tfref

TUTORIAL = {"784-512-10": [512], "784-128-128-10": [128, 128], "784-4-4-10": [4, 4],
            "784-10-10-10": [10, 10]}


def _compare_gradients(model, keras_model, x, y, dtype, check, label):
    loss, grads, dx = model.compute_gradients(x, y, return_input_grad=True)
    k_loss, k_grads, k_dx = tfref.gradients(keras_model, x, y, input_grad=True)
    check("training loss", loss, k_loss, dtype, label=label)
    assert len(grads) == len(k_grads)
    names = [f"{layer.name}/{key}" for layer in model.layers for key in layer.params]
    for name, g, kg in zip(names, grads, k_grads):
        check("parameter gradient", g, kg, dtype, label=f"{label} {name}")
    check("input gradient", dx, k_dx, dtype, label=label)


def _tutorial(hidden, dtype, rng, loss="categorical_crossentropy", out="softmax"):
    spec = [("flatten",)] + [("dense", h, "relu") for h in hidden] + [("dense", 10, out)]
    return build(spec, (28, 28), dtype, rng, loss=loss)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("net", list(TUTORIAL))
def test_tutorial_networks(net, dtype, check):
    rng = np.random.default_rng(len(TUTORIAL[net]) * 1000 + TUTORIAL[net][0])
    model = _tutorial(TUTORIAL[net], dtype, rng)
    keras_model = tfref.to_keras(model)
    for n in (1, 7, 32):
        x = rng.random((n, 28, 28)).astype(dtype)  # like pixels / 255
        y = targets("categorical_crossentropy", n, 10, dtype, rng)
        _compare_gradients(model, keras_model, x, y, dtype, check, f"[{net} {dtype} n={n}]")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("loss,out", [("sparse_categorical_crossentropy", "softmax"),
                                      ("mean_squared_error", "softmax"),
                                      ("mean_squared_error", "linear")])
def test_tutorial_network_other_losses(loss, out, dtype, check):
    rng = np.random.default_rng(5)
    model = _tutorial([128], dtype, rng, loss=loss, out=out)
    keras_model = tfref.to_keras(model)
    x = rng.random((32, 28, 28)).astype(dtype)
    y = targets(loss, 32, 10, dtype, rng)
    _compare_gradients(model, keras_model, x, y, dtype, check, f"[784-128-10 {loss} {out}]")


OUTPUTS = [("softmax", "categorical_crossentropy"), ("softmax", "sparse_categorical_crossentropy"),
           ("linear", "mean_squared_error"), ("sigmoid", "mean_squared_error"),
           ("tanh", "mean_squared_error")]
HIDDEN = ["relu", "sigmoid", "tanh", "linear"]


def random_architecture(seed: int):
    """A seeded random network: (spec, input_shape, loss, description)."""
    rng = np.random.default_rng(10_000 + seed)
    depth = int(rng.integers(1, 5))
    spec: list = []
    if rng.random() < 0.3:
        input_shape = (int(rng.integers(1, 8)), int(rng.integers(1, 8)))
        spec.append(("flatten",))
    else:
        input_shape = (int(rng.integers(1, 65)),)
    for _ in range(depth):
        units, act = int(rng.integers(1, 301)), HIDDEN[rng.integers(len(HIDDEN))]
        if rng.random() < 0.2:
            spec += [("dense", units, "linear"), ("act", act)]
        else:
            spec.append(("dense", units, act))
    out, loss = OUTPUTS[rng.integers(len(OUTPUTS))]
    k = int(rng.integers(2, 12)) if out == "softmax" else int(rng.integers(1, 12))
    spec.append(("dense", k, out))
    desc = f"{input_shape}->" + "->".join(
        f"{e[1]}{e[2] or ''}" if e[0] == "dense" else e[-1] for e in spec) + f" {loss}"
    return spec, input_shape, loss, desc


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("seed", range(16))
def test_random_architectures(seed, dtype, check):
    spec, input_shape, loss, desc = random_architecture(seed)
    rng = np.random.default_rng(seed)
    model = build(spec, input_shape, dtype, rng, loss=loss)
    keras_model = tfref.to_keras(model)
    k = model.output_shape[-1]
    for n in (1, 7, 32, 45 - 32):
        x = rng.standard_normal((n, *input_shape)).astype(dtype)
        y = targets(loss, n, k, dtype, rng)
        _compare_gradients(model, keras_model, x, y, dtype, check,
                           f"[seed={seed} {desc} {dtype} n={n}]")


def test_random_architectures_cover_the_space():
    """The seeded draws cover every depth, hidden activation and output/loss pair."""
    draws = [random_architecture(s) for s in range(16)]
    depths = {sum(e[0] == "dense" for e in spec) - 1 for spec, *_ in draws}
    acts = {e[2] if e[0] == "dense" else e[1] for spec, *_ in draws for e in spec[:-1]
            if e[0] in ("dense", "act")}
    outs = {(spec[-1][2], loss) for spec, _, loss, _ in draws}
    widths = [e[1] for spec, *_ in draws for e in spec[:-1] if e[0] == "dense"]
    assert depths == {1, 2, 3, 4}
    assert set(HIDDEN) <= acts
    assert outs == set(OUTPUTS)
    assert min(widths) < 20 and max(widths) > 250
    assert any(spec[0] == ("flatten",) for spec, *_ in draws)
    assert any(e[0] == "act" for spec, *_ in draws for e in spec)
