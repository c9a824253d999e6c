"""The model on other array libraries (scratchnn.backend): the same numbers as on NumPy.

References: the NumPy backend (float64 within 1e-12 relative, float32 within 1e-5), and the
identities the engine promises (results come back as NumPy; data enters the device once).
Each library missing here skips with the reason.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

import scratchnn
from scratchnn import backend
from scratchnn.engine.training import BatchIterator
from scratchnn.layers import Dense, Input

OTHER = [pytest.param(name, marks=pytest.mark.skipif(
    importlib.util.find_spec(name) is None, reason=f"{name} is not installed "
    "(pip install 'scratchnn[backends]')")) for name in ("array_api_strict", "torch")]
RTOL = {"float64": 1e-12, "float32": 1e-5}


@pytest.fixture(autouse=True)
def _restore_backend():
    saved = backend._CURRENT
    yield
    backend._CURRENT = saved


def _tutorial_model(dtype: str) -> scratchnn.Sequential:
    """The tutorial's network, shrunk: 4 -> 16 relu -> 3 softmax."""
    return scratchnn.Sequential([Input((4,)), Dense(16, activation="relu"),
                                 Dense(3, activation="softmax")], dtype=dtype)


def _built(name: str, make, seed: int = 7) -> scratchnn.Sequential:
    """``make()`` built on backend ``name`` from global seed ``seed``."""
    backend.set_backend(name)
    scratchnn.utils.set_random_seed(seed)
    model = make()
    model.build()
    return model


def _math_is_portable(name: str) -> bool:
    """Whether the layers and losses accept ``name``'s arrays yet (the math branches)."""
    model = _built(name, lambda: _tutorial_model("float64"))
    model.compile("sgd", "sparse_categorical_crossentropy")
    try:
        model.train_on_batch(np.ones((2, 4)), np.array([0, 1]))
    except Exception:  # noqa: BLE001  any failure means: not portable yet
        return False
    return True


def _require_portable_math(name: str) -> None:
    if not _math_is_portable(name):
        pytest.skip(f"the layers/losses/optimizers do not run on {name} arrays yet "
                    "(issue 12's math slices)")


# -- choosing a backend -----------------------------------------------------------------------
def test_unknown_backend_names_the_choices():
    with pytest.raises(ValueError, match="must be one of"):
        backend.set_backend("jax")


@pytest.mark.skipif(importlib.util.find_spec("cupy") is not None, reason="cupy is installed")
def test_missing_library_names_the_pip_extra():
    with pytest.raises(ImportError, match=r"scratchnn\[backends\]"):
        backend.set_backend("cupy")


def test_missing_device_is_a_clear_error():
    torch = pytest.importorskip("torch")
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    with pytest.raises(ValueError, match="does not exist"):
        backend.set_backend("torch", device=f"cuda:{count}")
    with pytest.raises(ValueError, match="only the 'cpu' device"):
        backend.set_backend("numpy", device="cuda")


def test_environment_variables_choose_the_backend(monkeypatch):
    pytest.importorskip("torch")
    backend._CURRENT = None
    monkeypatch.setenv("SCRATCHNN_BACKEND", "torch")
    monkeypatch.setenv("SCRATCHNN_DEVICE", "cpu")
    chosen = scratchnn.config.get_backend()
    assert (chosen.name, str(chosen.device)) == ("torch", "cpu")
    backend._CURRENT = None
    monkeypatch.setenv("SCRATCHNN_BACKEND", "nope")
    with pytest.raises(ValueError, match="SCRATCHNN_BACKEND='nope'"):
        backend.get_backend()


def test_default_is_numpy_and_numpy_models_keep_the_flat_buffer(monkeypatch):
    backend._CURRENT = None
    monkeypatch.delenv("SCRATCHNN_BACKEND", raising=False)
    monkeypatch.delenv("SCRATCHNN_DEVICE", raising=False)
    model = _tutorial_model("float32")
    model.build()
    assert model.backend.is_numpy
    kernel = model.layers[0].params["kernel"]
    assert isinstance(kernel, np.ndarray) and kernel.base is not None  # a view of the buffer


# -- the engine's plumbing (no math involved) -------------------------------------------------
@pytest.mark.parametrize("name", OTHER)
def test_parameters_live_on_the_backend_with_numpys_initial_values(name):
    reference = _built("numpy", lambda: _tutorial_model("float64"))
    model = _built(name, lambda: _tutorial_model("float64"))
    assert model.backend.name == name
    assert all(not isinstance(w, np.ndarray) for w in model.weights)
    assert all(not isinstance(g, np.ndarray) for layer in model.layers
               for g in layer.grads.values())
    got = model.get_weights()
    assert all(type(w) is np.ndarray for w in got)
    for a, b in zip(got, reference.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert model.count_params() == reference.count_params() == 4 * 16 + 16 + 16 * 3 + 3


@pytest.mark.parametrize("name", OTHER)
def test_get_weights_copies_and_set_weights_takes_numpy(name):
    model = _built(name, lambda: _tutorial_model("float32"))
    weights = model.get_weights()
    weights[0][...] = 0.0  # a copy: the model keeps its values
    assert np.abs(model.get_weights()[0]).sum() > 0
    new = [np.full(w.shape, i + 0.5) for i, w in enumerate(weights)]  # float64 in
    model.set_weights(new)
    for a, b in zip(model.get_weights(), new):
        assert a.dtype == np.float32
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", OTHER)
def test_batches_gather_the_same_rows_on_the_device(name):
    chosen = backend.set_backend(name)
    x = np.arange(30.0).reshape(10, 3)
    y = np.arange(10)
    order = np.random.default_rng(0).permutation(10)
    on_numpy = [tuple(a.copy() for a in batch)  # NumPy's buffers are reused
                for batch in BatchIterator((x, y), 4)(order)]
    on_device = list(BatchIterator((chosen.asarray(x), chosen.asarray(y)), 4)(order))
    assert len(on_device) == len(on_numpy) == 3
    for (xa, ya), (xb, yb) in zip(on_numpy, on_device):
        np.testing.assert_array_equal(backend.to_numpy(xb), xa)
        np.testing.assert_array_equal(backend.to_numpy(yb), ya)


@pytest.mark.parametrize("name", OTHER)
def test_a_model_built_on_the_backend_saves_and_loads(name, tmp_path):
    model = _built(name, lambda: _tutorial_model("float32"))
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    path = tmp_path / "m.keras.npz"
    model.save(path)
    for where in ("numpy", name):
        backend.set_backend(where)
        loaded = scratchnn.models.load_model(path)
        loaded.build()
        assert loaded.backend.name == where
        for a, b in zip(loaded.get_weights(), model.get_weights()):
            np.testing.assert_array_equal(a, b)


# -- training end to end (needs the portable math) --------------------------------------------
def _blobs(n: int = 48) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 3, n)
    x = np.eye(3, 4)[labels] * 2 + 0.5 * rng.standard_normal((n, 4))
    return x, labels


def _train(name: str, dtype: str, make=None, optimizer: str = "adam"):
    """``(model, history)`` after 2 shuffled epochs with a validation split on ``name``."""
    model = _built(name, make or (lambda: _tutorial_model(dtype)))
    model.compile(optimizer, "sparse_categorical_crossentropy", metrics=["accuracy"])
    x, y = _blobs()
    history = model.fit(x, y, batch_size=8, epochs=2, validation_split=0.25, verbose=0,
                        seed=11)
    return model, history.history


def _assert_close_lists(got, want, rtol):
    assert len(got) == len(want)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * 1e-3)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", OTHER)
def test_training_gives_numpys_weights_and_history(name, dtype):
    _require_portable_math(name)
    reference, want = _train("numpy", dtype)
    model, got = _train(name, dtype)
    assert got.keys() == want.keys()
    for key in want:
        _assert_close_lists(got[key], want[key], RTOL[dtype])
    _assert_close_lists(model.get_weights(), reference.get_weights(), RTOL[dtype])
    x, y = _blobs(10)
    predictions = model.predict(x, verbose=0)
    assert type(predictions) is np.ndarray and predictions.dtype == np.dtype(dtype)
    np.testing.assert_allclose(predictions, reference.predict(x, verbose=0),
                               rtol=RTOL[dtype], atol=RTOL[dtype] * 1e-3)
    values = model.evaluate(x, y, verbose=0)
    assert all(isinstance(v, float) for v in values)
    _assert_close_lists(values, reference.evaluate(x, y, verbose=0), RTOL[dtype])
    loss, grads = model.compute_gradients(x, y)
    assert all(type(g) is np.ndarray for g in grads)
    _assert_close_lists(grads, reference.compute_gradients(x, y)[1], RTOL[dtype])


@pytest.mark.parametrize("name", OTHER)
def test_dropout_and_batchnorm_train_as_on_numpy(name):
    _require_portable_math(name)

    def make():
        return scratchnn.Sequential([
            Input((4,)), Dense(16, activation="relu"), scratchnn.layers.BatchNormalization(),
            scratchnn.layers.Dropout(0.3), Dense(3, activation="softmax")], dtype="float64")

    try:
        reference, want = _train("numpy", "float64", make)
        model, got = _train(name, "float64", make)
    except (TypeError, AttributeError, RuntimeError) as exc:
        pytest.skip(f"Dropout/BatchNormalization not portable yet: {exc}")
    for key in want:
        _assert_close_lists(got[key], want[key], RTOL["float64"])
    _assert_close_lists(model.get_weights(), reference.get_weights(), RTOL["float64"])


@pytest.mark.parametrize("name", OTHER)
def test_a_trained_model_saves_and_loads_with_its_optimizer_state(name, tmp_path):
    _require_portable_math(name)
    model, _ = _train(name, "float32")
    path = tmp_path / "m.keras.npz"
    model.save(path)
    loaded = scratchnn.models.load_model(path)
    assert loaded.backend.name == name
    backend.set_backend("numpy")  # the file's layout is NumPy's: it loads there too
    on_numpy = scratchnn.models.load_model(path)
    assert on_numpy.backend.is_numpy
    x, y = _blobs(10)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    for m in (model, loaded, on_numpy):
        m.train_on_batch(x, y)  # the restored Adam slots give the same next step
    _assert_close_lists(loaded.get_weights(), model.get_weights(), 0)
    _assert_close_lists(on_numpy.get_weights(), model.get_weights(), RTOL["float32"])


@pytest.mark.cuda
@pytest.mark.parametrize("name", ["torch", "cupy"])
def test_training_on_cuda_matches_numpy(name):
    if importlib.util.find_spec(name) is None:
        pytest.skip(f"{name} is not installed")
    backend.set_backend(name, device="cuda" if name == "torch" else 0)
    _require_portable_math(name)
    reference, want = _train("numpy", "float64")
    backend.set_backend(name, device="cuda" if name == "torch" else 0)
    model = scratchnn.Sequential([Input((4,)), Dense(16, activation="relu"),
                                  Dense(3, activation="softmax")], dtype="float64")
    scratchnn.utils.set_random_seed(7)
    model.build()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    x, y = _blobs()
    got = model.fit(x, y, batch_size=8, epochs=2, validation_split=0.25, verbose=0,
                    seed=11).history
    for key in want:
        _assert_close_lists(got[key], want[key], 1e-10)
