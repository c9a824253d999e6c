"""Fuzzing the model-file reader with hypothesis (bounded: a few seconds in all).

The contract under test: ``load_model`` / ``load_weights`` on *any* existing file either load
it or raise ``scratchnn.ModelFileError`` (a ``ValueError`` naming the file); nothing else
escapes (no ``KeyError``, ``TypeError``, ``MemoryError``, ``RecursionError``, warnings turned
into silent data loss...).  ``FileNotFoundError`` is reserved for a path with no file, which
these tests never produce.  A failed ``load_weights`` leaves the model's weights unchanged, and
crafted descriptions of huge models are rejected without allocating them (``tracemalloc``).
"""

from __future__ import annotations

import copy
import io
import json
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import scratchnn as snn
from scratchnn.layers import Dense, Flatten, Input

FUZZ = settings(max_examples=120, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])
MEMORY_LIMIT = 4 * 2**20  # bytes traced while rejecting a crafted file


def _model() -> snn.Sequential:
    model = snn.Sequential([Input((2, 3)), Flatten(), Dense(4, activation="relu"),
                            Dense(3, activation="softmax")])
    model.compile(snn.optimizers.SGD(0.1, momentum=0.9), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    rng = np.random.default_rng(0)
    model.fit(rng.random((12, 2, 3)), np.arange(12) % 3, epochs=1, verbose=0)
    return model


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@pytest.fixture(scope="module")
def good(folder) -> dict:
    """A valid model file: its bytes, description and arrays."""
    path = folder / "good.npz"
    _model().save(path)
    with np.load(path, allow_pickle=False) as data:
        description = json.loads(str(data["__scratchnn__"]))
        arrays = {k: data[k] for k in data.files if k != "__scratchnn__"}
    return {"bytes": path.read_bytes(), "description": description, "arrays": arrays}


def _npz_bytes(description, arrays: dict) -> bytes:
    buffer = io.BytesIO()
    entries = {"__scratchnn__": np.array(json.dumps(description))}
    entries.update(arrays)
    np.savez(buffer, **entries)
    return buffer.getvalue()


def _load_or_model_file_error(path: Path, data: bytes):
    """``load_model(path)`` after writing ``data``: the model, or None on ModelFileError."""
    path.write_bytes(data)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. a ComplexWarning would mean silent data loss
        try:
            model = snn.load_model(path)
        except snn.ModelFileError as exc:
            assert str(path) in str(exc)
            return None
    # whatever loaded is a working model
    out = model.predict(np.zeros((2,) + model.input_shape[1:]), verbose=0)
    assert out.shape == (2,) + model.output_shape[1:]
    return model


# -- raw bytes ----------------------------------------------------------------------------------
@FUZZ
@given(data=st.binary(max_size=3000), zip_magic=st.booleans())
def test_random_bytes(folder, data, zip_magic):
    if zip_magic:
        data = b"PK\x03\x04" + data
    assert _load_or_model_file_error(folder / "random.npz", data) is None


@FUZZ
@given(st.data())
def test_truncated_files(folder, good, data):
    size = data.draw(st.integers(0, len(good["bytes"]) - 1), label="size")
    assert _load_or_model_file_error(folder / "cut.npz", good["bytes"][:size]) is None


@FUZZ
@given(st.data())
def test_bytes_flipped_in_a_valid_file(folder, good, data):
    raw = bytearray(good["bytes"])
    flips = data.draw(st.lists(st.tuples(st.integers(0, len(raw) - 1), st.integers(0, 255)),
                               min_size=1, max_size=6), label="flips")
    for position, value in flips:
        raw[position] = value
    _load_or_model_file_error(folder / "flipped.npz", bytes(raw))


# -- the JSON description -------------------------------------------------------------------------
NAMES = ["Dense", "Flatten", "Activation", "InputLayer", "relu", "softmax", "adam", "sgd",
         "categorical_crossentropy", "mse", "accuracy", "glorot_uniform", "random_normal",
         "float32", "float64", "float16", "model", "weights", "scratchnn-model", ""]
SIZES = [0, 1, -1, 2, 3, 4, 6, 10**9, 4_000_000, 2**31, 2**63, 10**30, -(10**9)]
json_scalars = (st.none() | st.booleans() | st.sampled_from(SIZES) | st.integers()
                | st.floats() | st.sampled_from(NAMES) | st.text(max_size=8))
json_values = st.recursive(json_scalars,
                           lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.sampled_from(NAMES) | st.text(max_size=6),
                                             inner, max_size=4),
                           max_leaves=10)


def _paths(node, prefix=()) -> list[tuple]:
    """Every key path inside a JSON value (the root is ``()``)."""
    paths = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            paths += _paths(value, prefix + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            paths += _paths(value, prefix + (i,))
    return paths


def _mutate(description, path: tuple, action: str, value):
    if not path:
        return value
    parent = description
    for key in path[:-1]:
        parent = parent[key]
    if action == "delete":
        del parent[path[-1]]
    elif action == "add key" and isinstance(parent, dict):
        parent[f"{path[-1]}_extra"] = value
    else:
        parent[path[-1]] = value
    return description


@settings(FUZZ, max_examples=300)
@given(st.data())
def test_mutated_descriptions(folder, good, data):
    description = copy.deepcopy(good["description"])
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        paths = _paths(description)
        path = data.draw(st.sampled_from(paths), label="path")
        action = data.draw(st.sampled_from(["replace", "delete", "add key"]), label="action")
        value = data.draw(json_values, label="value")
        description = _mutate(description, path, action, value)
        if not isinstance(description, dict):
            break
    _load_or_model_file_error(folder / "described.npz", _npz_bytes(description, good["arrays"]))


@settings(FUZZ, max_examples=60)
@given(huge=st.integers(10**5, 10**30), other=st.integers(1, 10**30),
       input_shape=st.lists(st.integers(1, 10**12), min_size=1, max_size=3),
       first_is_huge=st.booleans(), flatten=st.booleans())
def test_huge_models_are_rejected_without_allocating_them(folder, good, huge, other,
                                                          input_shape, first_is_huge, flatten):
    """A description of a model far larger than its 2 KB file (units up to 1e30, inputs up
    to 1e12 features) fails with ModelFileError and little memory traced."""
    description = copy.deepcopy(good["description"])
    layers = description["model"]["layers"]
    if not flatten:
        del layers[0]
    dense = [layer for layer in layers if layer["class_name"] == "Dense"]
    dense[0]["config"]["units"], dense[1]["config"]["units"] = (
        (huge, other) if first_is_huge else (other, huge))
    description["model"]["input_shape"] = input_shape
    (folder / "huge.npz").write_bytes(_npz_bytes(description, good["arrays"]))
    tracemalloc.start()
    try:
        with pytest.raises(snn.ModelFileError):
            snn.load_model(folder / "huge.npz")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < MEMORY_LIMIT


# -- the arrays -----------------------------------------------------------------------------------
DTYPES = ["float16", "float32", ">f4", "float64", "int8", "int64", "uint8", "bool",
          "complex64", "complex128", "U3", "S2", "datetime64[s]", "timedelta64[ms]"]
arrays = st.one_of(
    hnp.arrays(st.sampled_from(DTYPES).map(np.dtype),
               hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=7)),
    st.just(np.array([object()], dtype=object)),  # pickled: must be refused, never unpickled
    st.just(np.zeros(2, dtype="f4,i4")),          # structured
)
KEYS = ["weight/0", "weight/1", "weight/2", "weight/3", "weight/4", "weight/10",
        "optimizer/iterations", "optimizer/0/momentum", "optimizer/0/m", "optimizer/1/momentum"]


@settings(FUZZ, max_examples=200)
@given(st.data())
def test_mutated_arrays(folder, good, data):
    entries = dict(good["arrays"])
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        key = data.draw(st.sampled_from(KEYS), label="key")
        if data.draw(st.booleans(), label="delete") and key in entries:
            del entries[key]
        else:
            entries[key] = data.draw(arrays, label=key)
    _load_or_model_file_error(folder / "arrays.npz", _npz_bytes(good["description"], entries))


@settings(FUZZ, max_examples=150)
@given(st.data())
def test_failed_load_weights_leaves_the_model_unchanged(folder, good, data):
    entries = {k: v for k, v in good["arrays"].items() if k.startswith("weight/")}
    key = data.draw(st.sampled_from(KEYS[:6]), label="key")
    entries[key] = data.draw(arrays, label=key)
    dtype = data.draw(st.sampled_from(["float32", "float64", "float16", None, 3]), label="dtype")
    description = {"format": "scratchnn-model", "version": 1, "kind": "weights"}
    if dtype is not None:
        description["dtype"] = dtype
    path = folder / "weights.npz"
    path.write_bytes(_npz_bytes(description, entries))
    model = _model()
    before = [w.tobytes() for w in model.get_weights()]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            model.load_weights(path)
        except snn.ModelFileError:
            assert [w.tobytes() for w in model.get_weights()] == before
            return
    for got, stored in zip(model.get_weights(), (entries[f"weight/{i}"] for i in range(4))):
        np.testing.assert_array_equal(got, stored.astype(np.float32))
