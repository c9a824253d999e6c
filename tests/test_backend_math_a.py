"""The math of activations, losses, regularizers and accuracy metrics on any array library.

Every function takes its array namespace from its input (``scratchnn.backend.namespace``): the
same inputs as NumPy arrays, array-api-strict arrays and PyTorch CPU tensors give the same
results (float64 within 1e-12 relative, float32 within 1e-5), returned in the input's namespace.
The NumPy results themselves are pinned by the existing tests of each module.
"""

from __future__ import annotations

import numpy as np
import pytest

from scratchnn import activations, fastpath, losses, metrics
from scratchnn.activations import ACTIVATIONS
from scratchnn.config import floatx
from scratchnn.regularizers import L1, L1L2, L2, Regularizer

xs = pytest.importorskip("array_api_strict")
torch = pytest.importorskip("torch")

BACKENDS = ["array_api_strict", "torch"]
DTYPES = ["float64", "float32"]
RTOL = {"float64": 1e-12, "float32": 1e-5}


def to_backend(x: np.ndarray, backend: str):
    """``x`` as an array of ``backend`` (same dtype)."""
    x = np.asarray(x)
    if backend == "array_api_strict":
        return xs.asarray(x)
    return torch.asarray(x)


def to_numpy(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.numpy()
    return np.from_dlpack(x)


def assert_same(result, expected: np.ndarray, backend: str, dtype: str) -> None:
    """``result`` is an array of ``backend`` holding ``expected``: within the dtype's tolerance
    relative to the array's largest magnitude (a derivative such as ``1 - a*a`` cancels, so a
    last-bit difference in ``tanh`` between libraries is large relative to a tiny entry)."""
    if backend == "torch":
        assert isinstance(result, torch.Tensor), type(result)
    else:
        assert type(result).__module__.startswith("array_api_strict"), type(result)
    got = to_numpy(result)
    assert got.dtype == expected.dtype, (got.dtype, expected.dtype)
    assert got.shape == expected.shape
    scale = float(np.max(np.abs(expected), initial=0.0))
    np.testing.assert_allclose(got, expected, rtol=RTOL[dtype], atol=RTOL[dtype] * scale)


def sample(shape=(6, 5), dtype="float64", seed=0, scale=3.0) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(dtype)


# ---------------------------------------------------------------- activations

ACTIVATION_CASES = [(name, {}) for name in ACTIVATIONS.names()] + [
    ("gelu", {"approximate": True}), ("elu", {"alpha": 0.5}),
    ("leaky_relu", {"negative_slope": 0.1})]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name, config", ACTIVATION_CASES,
                         ids=[f"{n}{c or ''}" for n, c in ACTIVATION_CASES])
def test_activation_forward_backward_match_numpy(name, config, backend, dtype):
    """forward(z) and backward(dout, a[, z]) on another library equal NumPy's."""
    activation = type(ACTIVATIONS.get(name))(**config)
    z = sample(dtype=dtype)
    z[0, :3] = [0.0, 6.0, -3.0]  # the kinks: derivative conventions must agree
    dout = sample(dtype=dtype, seed=1, scale=1.0)
    a = activation.forward(z)
    dz = activations.backward(activation, dout, a, z)
    zb, doutb = to_backend(z, backend), to_backend(dout, backend)
    ab = activation.forward(zb)
    assert_same(ab, a, backend, dtype)
    assert_same(activations.backward(activation, doutb, ab, zb), dz, backend, dtype)


@pytest.mark.parametrize("backend", BACKENDS)
def test_activation_call_keeps_the_namespace(backend):
    """Calling an activation (Keras's function style) does not turn the input into NumPy."""
    z = sample()
    assert_same(activations.gelu(to_backend(z, backend), approximate=True),
                activations.gelu(z, approximate=True), backend, "float64")


def test_exact_gelu_erfc_round_trip_is_exact():
    """Exact GELU takes erfc on the host: the numbers are NumPy's bit for bit."""
    z = sample()
    got = to_numpy(activations.gelu.forward(torch.asarray(z)))
    np.testing.assert_array_equal(got, activations.gelu.forward(z))


def test_fast_path_runs_for_numpy_only():
    """A registered fast path runs for NumPy arrays; another library gets the plain formula."""
    calls = []
    try:
        @fastpath.replaceable("test_backend_math_a.probe")
        def probe(x, scale=1.0):
            return x * scale

        fastpath.register(probe, lambda x, scale=1.0: calls.append(type(x)) or x * scale)
        enabled = fastpath.enabled()
        fastpath.set_enabled(True)
        probe(np.ones(2))
        probe(np.ones(2), scale=2.0)
        out = probe(torch.ones(2), scale=2.0)
        probe(xs.ones(2))
        probe(x=torch.ones(2))
        assert calls == [np.ndarray, np.ndarray]
        assert isinstance(out, torch.Tensor) and out.tolist() == [2.0, 2.0]
    finally:
        fastpath.set_enabled(enabled)
        fastpath.forget("test_backend_math_a.probe")


@pytest.mark.parametrize("backend", BACKENDS)
def test_row_max_takes_the_plain_formula_off_numpy(backend):
    z = sample()
    assert_same(activations.row_max(to_backend(z, backend)), z.max(axis=-1, keepdims=True),
                backend, "float64")


# ---------------------------------------------------------------- losses

LOSS_CASES = [
    ("categorical_crossentropy", {}), ("categorical_crossentropy", {"from_logits": True}),
    ("categorical_crossentropy", {"label_smoothing": 0.1}),
    ("sparse_categorical_crossentropy", {}),
    ("sparse_categorical_crossentropy", {"from_logits": True}),
    ("mean_squared_error", {}), ("mean_absolute_error", {}), ("huber", {"delta": 0.7}),
    ("binary_crossentropy", {}), ("binary_crossentropy", {"from_logits": True}),
    ("binary_crossentropy", {"label_smoothing": 0.2}), ("kl_divergence", {}),
]


def loss_inputs(name: str, config: dict, dtype: str):
    """(targets, predictions) for ``name``: logits, or probabilities with exact 0 and 1
    entries (the clipped ones, whose gradient is masked)."""
    rng = np.random.default_rng(2)
    z = sample((8, 4), dtype, seed=3)
    if config.get("from_logits") or name in ("mean_squared_error", "mean_absolute_error",
                                             "huber"):
        pred = z
    else:
        pred = (np.abs(z) / np.abs(z).sum(axis=1, keepdims=True)).astype(dtype)
        pred[0, 1], pred[1, 2] = 0.0, 1.0
    labels = rng.integers(0, 4, 8)
    if name.startswith("sparse"):
        return labels, pred
    if name == "binary_crossentropy":
        return rng.integers(0, 2, (8, 4)).astype(dtype), pred
    if name == "kl_divergence":
        return pred[::-1].copy(), pred
    return np.eye(4, dtype=dtype)[labels], pred


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name, config", LOSS_CASES, ids=[f"{n}{c or ''}" for n, c in LOSS_CASES])
def test_loss_value_and_gradient_match_numpy(name, config, backend, dtype, weighted):
    """sample_losses, the (weighted) batch loss and backward on another library equal NumPy's;
    targets and weights may be given as that library's arrays or as NumPy."""
    y, pred = loss_inputs(name, config, dtype)
    weights = np.linspace(0.0, 2.0, len(pred)) if weighted else None
    loss = losses.get({"name": name, "config": config})
    expected_value = loss(y, pred, sample_weight=weights)
    expected_gradient = loss.backward()
    expected_samples = loss.sample_losses(y, pred)
    for y_given in (to_backend(y, backend), y):
        other = losses.get({"name": name, "config": config})
        w_given = None if weights is None else to_backend(weights, backend)
        value = other(y_given, to_backend(pred, backend), sample_weight=w_given)
        assert isinstance(value, float)
        np.testing.assert_allclose(value, expected_value, rtol=RTOL[dtype])
        assert_same(other.backward(), expected_gradient, backend, dtype)
        assert_same(other.sample_losses(y_given, to_backend(pred, backend)), expected_samples,
                    backend, dtype)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", ["categorical_crossentropy", "sparse_categorical_crossentropy"])
def test_softmax_cross_entropy_matches_numpy(name, backend):
    """The fused softmax + cross-entropy (forward on logits, backward (p - y)/N), weighted."""
    y, logits = loss_inputs(name, {"from_logits": True}, "float64")
    weights = np.linspace(0.5, 1.5, len(logits))
    fused = losses.SoftmaxCrossEntropy(losses.get(name))
    expected = fused.forward(y, logits, weights), fused.backward()
    other = losses.SoftmaxCrossEntropy(losses.get(name))
    value = other.forward(to_backend(y, backend), to_backend(logits, backend), weights)
    np.testing.assert_allclose(value, expected[0], rtol=1e-12)
    assert_same(other.backward(), expected[1], backend, "float64")


@pytest.mark.parametrize("backend", BACKENDS)
def test_loss_gradient_on_another_library_matches_finite_differences(backend):
    """An independent check off NumPy: the torch / strict gradient of the weighted sparse
    cross-entropy on probabilities against central differences of its own loss values."""
    labels, pred = loss_inputs("sparse_categorical_crossentropy", {}, "float64")
    pred = np.clip(pred, 0.05, 0.95)
    weights = np.linspace(0.5, 1.5, len(pred))
    loss = losses.get("sparse_categorical_crossentropy")
    loss(to_backend(labels, backend), to_backend(pred, backend), sample_weight=weights)
    gradient = to_numpy(loss.backward())
    numeric = np.zeros_like(pred)
    h = 1e-6
    for index in np.ndindex(pred.shape):
        up, down = pred.copy(), pred.copy()
        up[index] += h
        down[index] -= h
        numeric[index] = (loss(labels, up, weights) - loss(labels, down, weights)) / (2 * h)
    np.testing.assert_allclose(gradient, numeric, rtol=1e-6, atol=1e-8)


# ---------------------------------------------------------------- regularizers

REGULARIZER_CASES = [L1(0.03), L2(0.03), L1L2(0.01, 0.02), L1L2(), Regularizer()]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("regularizer", REGULARIZER_CASES, ids=repr)
def test_regularizer_penalty_and_gradient_match_numpy(regularizer, backend, dtype):
    w = sample((5, 3), dtype)
    w[0, 0] = 0.0  # sign(0) = 0
    wb = to_backend(w, backend)
    penalty = regularizer(wb)
    assert isinstance(penalty, float)
    np.testing.assert_allclose(penalty, regularizer(w), rtol=RTOL[dtype])
    assert_same(regularizer.gradient(wb), regularizer.gradient(w), backend, dtype)


def test_regularizer_on_torch_is_the_hand_derived_number():
    """Independent of NumPy: L2(0.03) in float64 penalizes with the float32-rounded factor."""
    w = torch.asarray([[1.0, -2.0], [0.5, 0.0]], dtype=torch.float64)
    factor = float(np.float32(0.03))
    assert L2(0.03)(w) == factor * 5.25
    assert L2(0.03).gradient(w).tolist() == [[2 * factor * v for v in row]
                                             for row in w.tolist()]


# ---------------------------------------------------------------- accuracy metrics

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("backend", BACKENDS)
def test_accuracy_metrics_match_numpy(backend, dtype):
    """Per-sample categorical, sparse, binary and auto accuracy, in floatx, on the backend;
    targets given as backend arrays or as NumPy."""
    rng = np.random.default_rng(4)
    scores = sample((12, 5), dtype, seed=5)
    labels = rng.integers(0, 5, 12)
    one_hot = np.eye(5, dtype=dtype)[labels]
    probabilities = rng.random((12, 3)).astype(dtype)
    bits = rng.integers(0, 2, (12, 3)).astype(dtype)
    cases = [(metrics.categorical_accuracy, one_hot, scores),
             (metrics.sparse_categorical_accuracy, labels, scores),
             (metrics.sparse_categorical_accuracy, labels[:, None].astype(dtype), scores),
             (metrics.binary_accuracy, bits, probabilities),
             (metrics.get("accuracy")[1], labels, scores),
             (metrics.get("accuracy")[1], bits[:, :1], probabilities[:, :1])]
    for fn, y_true, y_pred in cases:
        expected = fn(y_true, y_pred)
        assert expected.dtype == np.dtype(floatx())
        for y_given in (to_backend(y_true, backend), y_true):
            assert_same(fn(y_given, to_backend(y_pred, backend)), expected, backend, floatx())


@pytest.mark.parametrize("backend", BACKENDS)
def test_binary_accuracy_hand_counted_on_backend(backend):
    y_true = to_backend(np.array([[1.0, 0.0], [0.0, 0.0], [1.0, 1.0]]), backend)
    y_pred = to_backend(np.array([[0.9, 0.5], [0.7, 0.2], [0.2, 0.51]]), backend)
    assert to_numpy(metrics.binary_accuracy(y_true, y_pred)).tolist() == [1.0, 0.5, 0.5]
