"""Issue 12, math slice B: layers, optimizers and gradient checks on any array-API namespace.

Reference: the NumPy run of the same code (itself pinned by the existing tests against TF,
finite differences and hand-derived numbers).  Each case runs once on NumPy and once on
array-api-strict arrays / PyTorch CPU tensors; float64 results must equal NumPy's within
1e-12 relative, float32 within 1e-5, and stay in the input's namespace.
"""

from __future__ import annotations

import numpy as np
import pytest

from scratchnn import gradcheck, layers, optimizers
from scratchnn.optimizers import schedules

xs = pytest.importorskip("array_api_strict")
torch = pytest.importorskip("torch")

BACKENDS = ("array_api_strict", "torch")
TOLERANCE = {np.float64: 1e-12, np.float32: 1e-5}


def to_backend(a: np.ndarray, backend: str):
    """A copy of NumPy array ``a`` in ``backend``'s namespace (same dtype)."""
    a = np.array(a)
    if backend == "array_api_strict":
        return xs.asarray(a)
    return torch.from_numpy(a)


def to_numpy(a) -> np.ndarray:
    return a.numpy() if isinstance(a, torch.Tensor) else np.asarray(a)


def assert_in_backend(a, backend: str) -> None:
    if backend == "array_api_strict":
        assert isinstance(a, xs._array_object.Array), type(a)
    else:
        assert isinstance(a, torch.Tensor), type(a)


def assert_close(got, want: np.ndarray, backend: str) -> None:
    """``got`` lives in ``backend`` and equals NumPy's ``want`` within the dtype's tolerance."""
    assert_in_backend(got, backend)
    got = to_numpy(got)
    assert got.dtype == want.dtype and got.shape == want.shape
    tol = TOLERANCE[want.dtype.type]
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * float(np.max(np.abs(want),
                                                                           initial=1e-300)))


# -- optimizers ----------------------------------------------------------------------------------

OPTIMIZERS = {
    "sgd": lambda: optimizers.SGD(0.1),
    "momentum": lambda: optimizers.SGD(0.1, momentum=0.9),
    "nesterov": lambda: optimizers.SGD(0.1, momentum=0.9, nesterov=True),
    "adam": lambda: optimizers.Adam(0.01),
    "amsgrad": lambda: optimizers.Adam(0.01, amsgrad=True),
    "adamw": lambda: optimizers.AdamW(0.01, weight_decay=0.1),
    "adagrad": lambda: optimizers.Adagrad(0.1),
    "adadelta": lambda: optimizers.Adadelta(1.0),
    "adamax": lambda: optimizers.Adamax(0.01),
    "nadam": lambda: optimizers.Nadam(0.01),
    "rmsprop": lambda: optimizers.RMSprop(0.01, momentum=0.5, centered=True),
    "clipnorm": lambda: optimizers.SGD(0.1, clipnorm=0.5),
    "global_clipnorm": lambda: optimizers.Adam(0.01, global_clipnorm=0.5),
    "clipvalue": lambda: optimizers.RMSprop(0.01, clipvalue=0.3),
    "schedule": lambda: optimizers.SGD(schedules.ExponentialDecay(0.1, 2, 0.5), momentum=0.5,
                                       weight_decay=0.01),
}
SHAPES = ((3, 4), (4,), (2, 2, 2))


def run_optimizer(name: str, dtype, backend: str | None, steps: int = 3):
    """``steps`` updates of three variables; the variables and every slot at the end."""
    rng = np.random.default_rng(0)
    start = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    grads = [[rng.standard_normal(s).astype(dtype) for s in SHAPES] for _ in range(steps)]
    convert = (lambda a: np.array(a)) if backend is None else (lambda a: to_backend(a, backend))
    variables = [convert(v) for v in start]
    opt = OPTIMIZERS[name]()
    for step in grads:
        opt.apply([convert(g) for g in step], variables)
    slots = [a for i in range(len(SHAPES)) for _, a in sorted(opt.slots(i).items())]
    return variables + slots


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_matches_numpy(name, dtype, backend):
    want = run_optimizer(name, dtype, None)
    got = run_optimizer(name, dtype, backend)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert_close(g, w, backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_clipping_functions_match_numpy(backend):
    rng = np.random.default_rng(1)
    grads = [rng.standard_normal(s) for s in SHAPES]
    want = optimizers.clip_by_global_norm(grads, 0.7)
    got = optimizers.clip_by_global_norm([to_backend(g, backend) for g in grads], 0.7)
    for g, w in zip(got, want):
        assert_close(g, w, backend)
    for fn in (optimizers.clip_by_norm, optimizers.clip_by_value):
        assert_close(fn(to_backend(grads[0], backend), 0.3), fn(grads[0], 0.3), backend)
    zero = to_backend(np.zeros(3), backend)  # the where-trick: no NaN at a zero gradient
    assert np.array_equal(to_numpy(optimizers.clip_by_norm(zero, 1.0)), np.zeros(3))


# -- layers --------------------------------------------------------------------------------------

def backend_namespace(backend: str):
    import array_api_compat.torch

    return xs if backend == "array_api_strict" else array_api_compat.torch


LAYERS = {
    "dense": ((5,), lambda: layers.Dense(4)),
    "dense_linear_nobias": ((5,), lambda: layers.Dense(3, activation="linear", use_bias=False)),
    "flatten": ((2, 3), lambda: layers.Flatten()),
    "softmax_axis1": ((3, 4), lambda: layers.Softmax(axis=1)),
    "relu_thresholded": ((6,), lambda: layers.ReLU(max_value=0.8, negative_slope=0.1,
                                                   threshold=0.2)),
    "relu6": ((6,), lambda: layers.ReLU(max_value=6.0)),
    "dropout": ((7,), lambda: layers.Dropout(0.4, seed=3)),
    "dropout_noise_shape": ((2, 5), lambda: layers.Dropout(0.5, noise_shape=(None, 1, 5),
                                                           seed=4)),
    "batchnorm": ((4,), lambda: layers.BatchNormalization(momentum=0.8)),
    "batchnorm_axis1": ((3, 2), lambda: layers.BatchNormalization(axis=1, center=False)),
    "layernorm": ((5,), lambda: layers.LayerNormalization()),
    "layernorm_axis1": ((3, 2), lambda: layers.LayerNormalization(axis=1, scale=False)),
}


def run_layer(name: str, dtype, backend: str | None) -> list:
    """Training forward, backward, then an inference forward of a freshly built layer: the
    output, dL/dx, every gradient, every weight (state included) and the inference output."""
    shape, make = LAYERS[name]
    rng = np.random.default_rng(5)
    x = rng.standard_normal((6,) + shape).astype(dtype)
    layer = make()
    layer.build(shape, dtype, np.random.default_rng(2))
    for weights in (layer.params, layer.state):  # non-trivial weights (gamma != 1, ...)
        for value in weights.values():
            value[...] += rng.uniform(0.1, 0.5, value.shape).astype(dtype)
    dout = rng.standard_normal((6,) + layer.compute_output_shape(shape)).astype(dtype)
    if backend is not None:
        layer.to_namespace(backend_namespace(backend))
        x, dout = to_backend(x, backend), to_backend(dout, backend)
    out = layer.forward(x, training=True)
    dx = layer.backward(dout)
    results = [out, dx] + [layer.grads[k] for k in sorted(layer.grads)]
    results += [layer.params[k] for k in sorted(layer.params)]
    results += [layer.state[k] for k in sorted(layer.state)]
    return results + [layer.forward(x, training=False)]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_matches_numpy(name, dtype, backend):
    want = run_layer(name, dtype, None)
    got = run_layer(name, dtype, backend)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert_close(g, w, backend)


def test_dropout_mask_is_numpy_and_the_same_on_every_backend():
    masks = []
    for backend in (None,) + BACKENDS:
        layer = layers.Dropout(0.5, seed=11)
        layer.build((8,), np.float32)
        x = np.ones((4, 8), np.float32)
        layer.forward(x if backend is None else to_backend(x, backend), training=True)
        assert isinstance(layer.mask, np.ndarray)
        masks.append(layer.mask.copy())
    assert all(np.array_equal(m, masks[0]) for m in masks)


# -- gradient checks -----------------------------------------------------------------------------

@pytest.mark.parametrize("backend", BACKENDS)
def test_numerical_gradient_matches_numpy_and_restores_x(backend):
    rng = np.random.default_rng(7)
    x_np = rng.standard_normal((3, 4))
    x = to_backend(x_np, backend)
    xp = backend_namespace(backend)
    got = gradcheck.numerical_gradient(lambda: float(xp.sum(xp.sin(x) * x)), x)
    want = gradcheck.numerical_gradient(lambda: float(np.sum(np.sin(x_np) * x_np)), x_np)
    assert isinstance(got, np.ndarray)
    # f's last-bit differences between libraries (sin, sum order) are amplified by 1/(2h) =
    # 5e5, so the differences agree to ~1e-9 only, not 1e-12
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-8)
    np.testing.assert_allclose(got, np.sin(x_np) + x_np * np.cos(x_np), atol=1e-8)  # by hand
    assert np.array_equal(to_numpy(x), x_np)  # every element restored


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", ["dense", "batchnorm_axis1", "layernorm",
                                  "relu_thresholded", "softmax_axis1"])
def test_check_layer_on_backend(name, backend):
    shape, make = LAYERS[name]
    x = np.random.default_rng(8).standard_normal((5,) + shape) + 0.05
    want = gradcheck.check_layer(make(), x, training=True)
    got = gradcheck.check_layer(make(), to_backend(x, backend), training=True)
    assert set(got) == set(want)
    for key, error in got.items():
        assert error < 1e-6, (key, error)
        assert error == pytest.approx(want[key], rel=1e-3, abs=1e-9)


@pytest.mark.parametrize("backend", BACKENDS)
def test_optimizer_state_round_trip_and_gradient_cast(backend):
    """Slots saved as NumPy (what a model file holds) load into a backend's variables; a
    float64 gradient is cast to the float32 variable's dtype first, as on NumPy."""
    rng = np.random.default_rng(3)
    start, grad = rng.standard_normal(5).astype(np.float32), rng.standard_normal(5)
    numpy_opt, opt = optimizers.Nadam(0.01), optimizers.Nadam(0.01)
    numpy_var, var = start.copy(), to_backend(start, backend)
    numpy_opt.apply([grad], [numpy_var])
    opt.apply([to_backend(grad, backend)], [var])
    saved = {k: to_numpy(v) for k, v in opt.get_state().items()}
    restored = optimizers.Nadam(0.01)
    restored.set_state(saved, [var])
    for o, v in ((numpy_opt, numpy_var), (restored, var)):
        o.apply([np.array(grad) if o is numpy_opt else to_backend(grad, backend)], [v])
    assert_close(var, numpy_var, backend)
    for key in ("m", "v"):
        assert_close(restored.slots(0)[key], numpy_opt.slots(0)[key], backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_dropout_fixed_mask_gradient_check_on_backend(backend):
    x = np.random.default_rng(9).standard_normal((4, 6))
    mask = np.random.default_rng(10).random((4, 6)) > 0.5
    errors = []
    for data in (x, to_backend(x, backend)):
        layer = layers.Dropout(0.3)
        layer.fixed_mask = mask
        errors.append(gradcheck.check_layer(layer, data, training=True))
    assert errors[1]["x"] < 1e-8
    assert errors[1]["x"] == pytest.approx(errors[0]["x"], rel=1e-3, abs=1e-9)


@pytest.mark.parametrize("backend", BACKENDS)
def test_calling_a_moved_layer_keeps_the_namespace(backend):
    layer = layers.Dense(3)
    layer.build((4,), np.float64, np.random.default_rng(0))
    x = np.random.default_rng(1).standard_normal((2, 4))
    want = layer(x)
    layer.to_namespace(backend_namespace(backend))
    assert_close(layer(to_backend(x, backend)), want, backend)
    assert layer.count_params() == 15
