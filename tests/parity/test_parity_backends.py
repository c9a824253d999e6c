"""The parity tools on every backend: tfref reads scratchnn models whose arrays are not NumPy.

Whatever ``SCRATCHNN_BACKEND`` says, these tests build one model on NumPy and the same model
(same weights, copied with ``set_weights``) on each other installed backend, and check that
``tfref.scratchnn_trace`` and the ``.keras`` writer give NumPy results equal to the NumPy
model's (float64 within 1e-12 relative, as issue 12 asks of the portable backends), and that
``tfref.compare`` reads arrays of every library (hand-computed differences).
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from parity_helpers import build, targets

import tfref
from scratchnn import backend

BACKENDS = [pytest.param(name, marks=pytest.mark.skipif(
    importlib.util.find_spec(name) is None, reason=f"{name} is not installed "
    "(pip install 'scratchnn[backends]')")) for name in ("array_api_strict", "torch")]
RTOL = {"float64": 1e-12, "float32": 1e-5}
SPEC = [("flatten",), ("dense", 7, "tanh"), ("dense", 4, "softmax")]


@pytest.fixture(autouse=True)
def _restore_backend():
    saved = backend._CURRENT
    yield
    backend._CURRENT = saved


def _pair(name: str, dtype: str, optimizer="sgd"):
    """A NumPy model and the same model (same weights) on backend ``name``."""
    backend.set_backend("numpy")
    ours = build(SPEC, (2, 3), dtype, np.random.default_rng(3), optimizer=optimizer)
    backend.set_backend(name)
    other = build(SPEC, (2, 3), dtype, np.random.default_rng(0), optimizer=optimizer)
    other.set_weights(ours.get_weights())
    assert other.backend.name == name
    return ours, other


def _assert_close(got: np.ndarray, want: np.ndarray, dtype: str, what: str) -> None:
    assert type(got) is np.ndarray, f"{what}: {type(got)} is not a NumPy array"
    err = tfref.compare(got, want)
    assert err.max_rel <= RTOL[dtype], f"{what}: relative error {err.max_rel:.3g}"


def test_compare_reads_arrays_of_every_library(tf):
    """``ours = [1, 2, 3]``, ``ref = [1, 2, 4]``: ``max_abs = 1``, ``max_rel = 1 / 4``."""
    tensorflow, keras = tf
    want = tfref.Diff(1.0, 0.25)
    ours, ref = np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 4.0])
    assert tfref.compare(ours, tensorflow.constant(ref)) == want
    assert tfref.compare(ours, keras.Variable(ref)) == want
    for name in ("torch", "array_api_strict"):
        if importlib.util.find_spec(name) is None:
            continue
        xp = backend.Backend(name).xp
        array = xp.asarray(ours)
        if name == "torch":  # a tensor that requires grad has no plain .numpy()
            array = array.requires_grad_(True) * 1.0
        assert tfref.compare(array, ref) == want, name


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", BACKENDS)
def test_trace_on_a_backend_is_numpy_and_matches(name, dtype):
    ours, other = _pair(name, dtype)
    x = np.random.default_rng(1).standard_normal((5, 2, 3)).astype(dtype)
    want, got = tfref.scratchnn_trace(ours, x), tfref.scratchnn_trace(other, x)
    assert len(got) == len(want) == 5  # flatten, dense/z, dense, dense_1/z, dense_1
    for (key, g), w in zip(got.items(), want.values()):
        _assert_close(g, w, dtype, key)
        assert g.flags.owndata, f"{key} is a view, not a copy"


@pytest.mark.parametrize("name", BACKENDS)
def test_keras_file_written_on_a_backend_matches_numpy(name, tmp_path, tf):
    """Weights and Adam's slots after 3 steps, as Keras reads them back from each file."""
    keras = tf[1]
    dtype = "float64"
    ours, other = _pair(name, dtype, optimizer="adam")
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((12, 2, 3)), targets("categorical_crossentropy", 12, 4, dtype, rng)
    read = {}
    for label, model in (("numpy", ours), (name, other)):
        model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
        model.save(tmp_path / f"{label}.keras")
        read[label] = keras.models.load_model(tmp_path / f"{label}.keras")
    for i, (w_o, w_n) in enumerate(zip(read[name].weights, read["numpy"].weights, strict=True)):
        _assert_close(np.asarray(w_o), np.asarray(w_n), dtype, f"weight {i}")
    slots = zip(read[name].optimizer.variables, read["numpy"].optimizer.variables, strict=True)
    for v_o, v_n in slots:
        _assert_close(np.array(v_o.numpy(), np.float64), np.array(v_n.numpy(), np.float64),
                      dtype, v_o.path)
