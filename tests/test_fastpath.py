"""Every registered fast path gives bitwise the numbers of the plain formula it replaces.

The math modules write each formula as plain NumPy (``@fastpath.replaceable``); the engine's
perf seam registers a faster drop-in.  Here each drop-in and its plain formula run on the same
random inputs (float32 and float64; sizes below, at and above the optimizer chunk size; batch 1;
odd sizes) and every output and every array updated in place must be identical, bit for bit.
A whole model trained with fast paths on and off must end with identical weights too.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from support import REPO

import scratchnn as snn
from scratchnn import activations, config, fastpath, layers, losses, optimizers
from scratchnn.engine import perf

#: Every fast path there is.  Adding one means adding it here *and* a bitwise test below.
EXPECTED = {"sgd_update", "momentum_update", "nesterov_update", "adam_update",
            "Dense.activate", "kernel_gradient", "row_max", "logsumexp", "pick",
            "softmax_minus_one_hot"}
DTYPES = [np.float32, np.float64]
SIZES = [1, 7, perf.CHUNK, perf.CHUNK + 1, 3 * perf.CHUNK + 5]


@pytest.fixture(autouse=True)
def _restore_fast_paths():
    before = fastpath.enabled()
    yield
    fastpath.set_enabled(before)


def _both(name: str):
    plain, fast = fastpath.registered()[name]
    assert fast is not plain
    return plain, fast


def test_the_registry_lists_exactly_the_tested_fast_paths():
    assert set(fastpath.registered()) == EXPECTED
    assert set(fastpath.replaceables()) == EXPECTED  # no replaceable formula left without one
    for name, (plain, fast) in fastpath.registered().items():
        assert perf.FAST_PATHS[_replaceable(name)] is fast
        assert _replaceable(name).plain is plain


def _replaceable(name: str):
    return {"sgd_update": optimizers.sgd_update, "momentum_update": optimizers.momentum_update,
            "nesterov_update": optimizers.nesterov_update,
            "adam_update": optimizers.adam_update, "Dense.activate": layers.Dense.activate,
            "kernel_gradient": layers.kernel_gradient, "row_max": activations.row_max,
            "logsumexp": losses._logsumexp, "pick": losses._pick,
            "softmax_minus_one_hot": losses._softmax_minus_one_hot}[name]


# -- optimizer updates -----------------------------------------------------------------------------

def _arrays(n_arrays: int, size: int, dtype, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(size).astype(dtype) for _ in range(n_arrays)]
    arrays[0][::13] = 0  # zero gradients, as for dead pixels
    if n_arrays > 2:
        arrays[-2] = np.abs(arrays[-2])  # Adam's v (and harmlessly SGD's m) non-negative
    return arrays


def _scalars(dtype, *values):
    return tuple(np.dtype(dtype).type(v) for v in values)


UPDATES = [("sgd_update", 2, (0.1,)),
           ("momentum_update", 3, (0.1, 0.9)),
           ("nesterov_update", 3, (0.1, 0.9)),
           ("adam_update", 4, (0.0031, 1 - 0.9, 1 - 0.999, 1e-7))]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name, n_arrays, scalars", UPDATES, ids=[u[0] for u in UPDATES])
def test_optimizer_update_fast_path_is_bitwise_plain(name, n_arrays, scalars, size, dtype):
    plain, fast = _both(name)
    a = _arrays(n_arrays, size, dtype, seed=size)
    b = [x.copy() for x in a]
    s = _scalars(dtype, *scalars)
    for _ in range(3):  # repeated steps: the in-place state feeds the next one
        plain(*a, *s)
        fast(*b, *s)
        for x, y in zip(a, b):
            assert x.dtype == dtype
            assert np.array_equal(x, y, equal_nan=True)


def test_optimizer_update_fast_path_on_a_strided_view():
    plain, fast = _both("adam_update")
    a = _arrays(4, 2 * perf.CHUNK + 3, np.float32, seed=9)
    b = [x.copy() for x in a]
    s = _scalars(np.float32, 0.01, 0.1, 0.001, 1e-7)
    plain(*(x[::2] for x in a), *s)
    fast(*(x[::2] for x in b), *s)
    for x, y in zip(a, b):
        assert np.array_equal(x, y)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("optimizer", [
    lambda: optimizers.SGD(0.05), lambda: optimizers.SGD(0.05, momentum=0.9),
    lambda: optimizers.SGD(0.05, momentum=0.9, nesterov=True), lambda: optimizers.Adam(0.003)])
def test_optimizer_apply_same_in_both_modes(optimizer, dtype):
    variables = _arrays(2, 3 * perf.CHUNK + 5, dtype, seed=3)
    results = []
    for enabled in (True, False):
        fastpath.set_enabled(enabled)
        opt, var = optimizer(), variables[1].copy()
        for step in range(3):
            opt.apply([variables[0] * (step + 1)], [var])
        results.append((var, [s.copy() for s in opt.slots(0).values()]))
    (v1, s1), (v2, s2) = results
    assert np.array_equal(v1, v2)
    assert all(np.array_equal(x, y) for x, y in zip(s1, s2))


# -- Dense -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1, 5), (7, 13), (300, 512)])
@pytest.mark.parametrize("activation", ["relu", "linear", "sigmoid", "tanh", "softmax"])
def test_dense_activate_fast_path_is_bitwise_plain(activation, shape, dtype):
    plain, fast = _both("Dense.activate")
    layer = layers.Dense(shape[1], activation=activation)
    z = np.random.default_rng(5).standard_normal(shape).astype(dtype)
    z[0, 0], z[-1, -1] = 0.0, -0.0
    z_plain, z_fast = z.copy(), z.copy()
    want = plain(layer, z_plain)
    got = fast(layer, z_fast)  # may overwrite z_fast: it is the layer's own temporary
    assert got.dtype == want.dtype == dtype and got.shape == want.shape
    assert np.array_equal(got, want) and np.array_equal(np.signbit(got), np.signbit(want))
    assert np.array_equal(z_plain, z)  # the plain formula never writes its input


def test_dense_activate_fast_path_leaves_relu_subclasses_alone():
    class Shifted(activations.ReLU):
        def forward(self, z):
            return np.maximum(z, 1)

    layer = layers.Dense(3, activation=Shifted())
    z = np.array([[-2.0, 0.5, 3.0]])
    assert np.array_equal(perf.dense_activate(layer, z.copy()), [[1.0, 1.0, 3.0]])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch, d, u", [(1, 784, 512), (1, 3, 1), (2, 5, 3), (33, 300, 70),
                                         (256, 129, 10)])
def test_kernel_gradient_fast_path_is_bitwise_plain(batch, d, u, dtype):
    plain, fast = _both("kernel_gradient")
    rng = np.random.default_rng(batch + d)
    x = rng.standard_normal((batch, d)).astype(dtype)
    dz = rng.standard_normal((batch, u)).astype(dtype)
    out_plain, out_fast = np.full((d, u), np.nan, dtype), np.full((d, u), np.nan, dtype)
    assert plain(x, dz, out=out_plain) is out_plain
    assert fast(x, dz, out=out_fast) is out_fast
    assert np.array_equal(out_plain, out_fast)


# -- row maxima ------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1024, 10), (256, 2), (255, 10), (1, 10), (300, 3),
                                   (10, 10), (600, 32), (600, 33), (7,), (3, 4, 5)])
def test_row_max_fast_path_is_bitwise_plain(shape, dtype):
    plain, fast = _both("row_max")
    z = np.random.default_rng(4).standard_normal(shape).astype(dtype)
    if z.ndim == 2 and z.shape[0] > 8:
        z[3, 1], z[7, :], z[8, -1] = np.nan, -np.inf, np.inf
    want, got = plain(z), fast(z)
    assert got.shape == want.shape and got.dtype == want.dtype
    assert np.array_equal(got, want, equal_nan=True)


# -- cross-entropy pieces ----------------------------------------------------------------------

def _same_bits(got: np.ndarray, want: np.ndarray) -> bool:
    """Identical shape, dtype and bytes (so -0.0 and 0.0, or two NaN payloads, differ)."""
    return (got.shape == want.shape and got.dtype == want.dtype
            and np.ascontiguousarray(got).tobytes() == np.ascontiguousarray(want).tobytes())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(32, 10), (1024, 10), (1, 10), (5, 1), (300, 3), (7, 1000)])
def test_logsumexp_fast_path_is_bitwise_plain(shape, dtype):
    plain, fast = _both("logsumexp")
    z = (np.random.default_rng(5).standard_normal(shape) * 30).astype(dtype)
    if shape[0] > 8:  # rows with an infinity, a NaN, huge values, all equal values
        z[2, 0], z[3, -1], z[4] = -np.inf, np.nan, np.finfo(dtype).max / 2
        z[5] = 7.0
    assert _same_bits(fast(z), plain(z))
    assert _same_bits(fast(z), plain(z))  # and z itself untouched by the in-place steps


def test_logsumexp_by_hand_and_on_integers():
    z = np.array([[0.0, np.log(3.0)], [1000.0, 1000.0]])
    assert np.allclose(losses._logsumexp(z), [[np.log(4.0)], [1000.0 + np.log(2.0)]])
    ints = np.array([[1, 2, 3]])
    assert _same_bits(_both("logsumexp")[1](ints), losses._logsumexp.plain(ints))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n, k", [(32, 10), (1024, 10), (1, 1), (7, 3)])
def test_pick_fast_path_is_bitwise_plain(n, k, dtype):
    plain, fast = _both("pick")
    rng = np.random.default_rng(6)
    a = rng.standard_normal((n, k)).astype(dtype)
    labels = rng.integers(0, k, n)
    a[0, labels[0]] = -0.0
    got = fast(a, labels)
    assert _same_bits(got, plain(a, labels))
    assert _same_bits(got, np.array([a[i, labels[i]] for i in range(n)], dtype=dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n, k", [(32, 10), (1024, 10), (1, 1), (7, 3), (3, 1000)])
def test_softmax_minus_one_hot_fast_path_is_bitwise_plain(n, k, dtype):
    plain, fast = _both("softmax_minus_one_hot")
    rng = np.random.default_rng(8)
    p = activations.get("softmax").forward(rng.standard_normal((n, k)).astype(dtype) * 5)
    labels = rng.integers(0, k, n)
    p_before = p.copy()
    got = fast(labels, p, n)
    assert _same_bits(got, plain(labels, p, n))
    assert _same_bits(p, p_before)  # the cached probabilities are not touched
    want = (p - (np.arange(k) == labels[:, None])) / n  # by hand: p - onehot(y), over N
    assert _same_bits(got, want.astype(dtype))


def test_sparse_crossentropy_same_bits_with_and_without_fast_paths():
    rng = np.random.default_rng(7)
    z, labels = rng.standard_normal((64, 10)).astype(np.float32), rng.integers(0, 10, 64)
    results = []
    for enabled in (True, False):
        fastpath.set_enabled(enabled)
        for from_logits in (True, False):
            loss = losses.SparseCategoricalCrossentropy(from_logits=from_logits)
            y = z if from_logits else activations.get("softmax").forward(z)
            results.append((loss.forward(labels, y), loss.backward()))
    for (loss_on, grad_on), (loss_off, grad_off) in zip(results[:2], results[2:]):
        assert np.float64(loss_on).tobytes() == np.float64(loss_off).tobytes()
        assert _same_bits(grad_on, grad_off)


# -- the switch ------------------------------------------------------------------------------------

def test_switch_routes_calls_to_the_plain_formulas(monkeypatch):
    calls = []
    plain = layers.kernel_gradient.plain
    monkeypatch.setitem(fastpath._PLAIN, "kernel_gradient", plain)
    monkeypatch.setitem(fastpath._FAST, "kernel_gradient",
                        lambda *a, **k: calls.append("fast") or plain(*a, **k))
    x, dz, out = np.ones((2, 3)), np.ones((2, 4)), np.empty((3, 4))
    config.set_fast_paths(True)
    layers.kernel_gradient(x, dz, out=out)
    assert calls == ["fast"] and config.fast_paths_enabled()
    config.set_fast_paths(False)
    layers.kernel_gradient(x, dz, out=out)
    assert calls == ["fast"] and not config.fast_paths_enabled()
    assert np.array_equal(out, np.full((3, 4), 2.0))
    config.set_fast_paths(True)  # re-enabling reinstalls the (monkeypatched) registration
    layers.kernel_gradient(x, dz, out=out)
    assert calls == ["fast", "fast"]


def test_set_fast_paths_rejects_non_booleans():
    with pytest.raises(TypeError, match="True or False"):
        config.set_fast_paths("no")


def test_register_and_mark_errors():
    with pytest.raises(KeyError, match="no replaceable"):
        fastpath.register("no_such_formula", lambda: None)
    with pytest.raises(ValueError, match="already taken"):
        fastpath.replaceable("row_max")(lambda z: z)


@pytest.mark.parametrize("value, expected", [("0", False), ("1", True), ("", True)])
def test_environment_variable_sets_the_mode_at_import(value, expected):
    env = dict(os.environ, SCRATCHNN_FAST_PATHS=value, PYTHONPATH=str(REPO))
    code = "import scratchnn; print(scratchnn.config.fast_paths_enabled())"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == str(expected)


# -- a whole model ---------------------------------------------------------------------------------

def _train(enabled: bool, optimizer, batch_size: int, dtype: str) -> list[np.ndarray]:
    fastpath.set_enabled(enabled)
    rng = np.random.default_rng(0)
    x = rng.random((20 * batch_size, 784)).astype(dtype)
    y = rng.integers(0, 10, len(x))
    snn.utils.set_random_seed(1)
    model = snn.Sequential([layers.Input((784,)), layers.Dense(100, activation="relu"),
                            layers.Dense(10, activation="softmax")], dtype=dtype)
    model.compile(optimizer, "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0, shuffle=True, seed=2)
    assert model.count_params() > perf.CHUNK  # the chunked update kernels run
    return model.get_weights() + [s.copy() for s in model.optimizer.slots(0).values()]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("make_opt, batch_size", [
    (lambda: optimizers.Adam(1e-3), 32), (lambda: optimizers.Adam(1e-3), 1),
    (lambda: optimizers.SGD(0.05, momentum=0.9, nesterov=True), 32)])
def test_twenty_training_steps_bitwise_equal_with_and_without_fast_paths(
        monkeypatch, make_opt, batch_size, dtype):
    monkeypatch.setenv("SCRATCHNN_BLAS_THREADS", "1")  # one fixed BLAS blocking for both runs
    fast = _train(True, make_opt(), batch_size, dtype)
    plain = _train(False, make_opt(), batch_size, dtype)
    assert len(fast) == len(plain)
    for a, b in zip(fast, plain):
        assert np.array_equal(a, b)


# -- explicit per-call state instead of hidden flags -------------------------------------------

def test_dense_backward_skips_the_input_gradient_only_when_asked():
    layer = layers.Dense(4, activation="relu")
    x = np.random.default_rng(0).standard_normal((5, 3))
    layer.build((3,), np.float64, np.random.default_rng(1))
    dout = np.random.default_rng(2).standard_normal((5, 4))
    layer.forward(x, training=True)
    assert layer.backward(dout, need_input_grad=False) is None
    skipped = {k: g.copy() for k, g in layer.grads.items()}
    dx = layer.backward(dout)  # the default: dL/dx is returned
    z = x @ layer.params["kernel"] + layer.params["bias"]
    dz = dout * (z > 0)
    np.testing.assert_allclose(dx, dz @ layer.params["kernel"].T, rtol=1e-12)
    for key, g in layer.grads.items():
        assert np.array_equal(g, skipped[key])  # parameter gradients are the same either way
    assert not hasattr(layer, "compute_input_grad")  # no flag left on the layer


class _Recording(layers.Flatten):
    def __init__(self, log, **kwargs):
        super().__init__(**kwargs)
        self.log = log

    def backward(self, dout, need_input_grad=True):
        self.log.append(need_input_grad)
        return super().backward(dout, need_input_grad)


def test_the_model_chooses_the_input_gradient_per_call():
    log = []
    snn.utils.set_random_seed(0)
    model = snn.Sequential([_Recording(log, input_shape=(2, 3)), layers.Dense(4, "tanh"),
                            _Recording(log), layers.Dense(2, activation="softmax")],
                           dtype="float64")
    model.compile(optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    x, y = np.random.default_rng(1).standard_normal((5, 2, 3)), np.array([0, 1, 1, 0, 1])
    loss, grads, dx = model.compute_gradients(x, y, return_input_grad=True)
    assert dx.shape == x.shape and log == [True, True]  # the middle one, then the first one
    log.clear()
    model.train_on_batch(x, y)  # the first layers (no parameters) are not even visited
    assert log == [True]
    log.clear()
    loss2, grads2 = model.compute_gradients(x, y)
    assert log == [True]
    assert np.array_equal(grads2[0], model.compute_gradients(x, y, return_input_grad=True)[1][0])


def test_update_step_gets_each_variables_own_slots():
    seen = []

    class Recording(optimizers.SGD):
        def update_step(self, gradient, variable, learning_rate, slots):
            seen.append((variable.shape, set(slots), slots["momentum"].shape))
            super().update_step(gradient, variable, learning_rate, slots)

    opt = Recording(0.1, momentum=0.9)
    a, b = np.zeros(3), np.zeros((2, 2))
    opt.apply([np.ones(3), np.ones((2, 2))], [a, b])
    assert seen == [((3,), {"momentum"}, (3,)), ((2, 2), {"momentum"}, (2, 2))]
    assert np.array_equal(opt.slots(1)["momentum"], np.full((2, 2), -0.1))
    assert not hasattr(opt, "_index")


def test_forget_removes_a_probe_and_ignores_unknown_names():
    probe = fastpath.replaceable("_test_probe")(lambda x: x + 1)
    fastpath.register("_test_probe", lambda x: x + 2)
    assert probe(1) == (3 if fastpath.enabled() else 2)
    fastpath.forget("_test_probe")
    assert "_test_probe" not in fastpath.replaceables()
    assert "_test_probe" not in fastpath.registered()
    assert probe(1) == 2  # the dispatcher falls back to its plain formula
    fastpath.forget("_never_marked")


def test_numpy_only_accepts_host_values_and_rejects_other_libraries_arrays():
    host = (np.ones(2), 1.5, 3, True, None, np.float32(2), np.float64(2), np.int64(4),
            np.float16(1), np.int32(1), "name", layers.Dense(2), np.ones(2)[0])
    assert fastpath._numpy_only(host, {"scale": np.float32(2)})
    xs = pytest.importorskip("array_api_strict")
    for position in range(len(host)):
        args = host[:position] + (xs.ones(2),) + host[position:]
        assert not fastpath._numpy_only(args, {})
    assert not fastpath._numpy_only(host, {"x": xs.ones(2)})
