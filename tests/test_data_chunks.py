"""Data moved to the device in chunks of whole batches (issue 12: "fit moves the data there once,
in large chunks if it does not fit, never per batch").

References: the hand-derived chunk arithmetic, and the unchunked run on the same backend — the
chunked one must give BITWISE the same batches, history, weights, evaluation and predictions
(same seed), since only where the rows are gathered changes, not which rows or their order.
Each library missing here skips with the reason.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

import scratchnn
from scratchnn import backend
from scratchnn.backend import Backend
from scratchnn.engine.training import (
    BatchIterator,
    ChunkedBatches,
    batch_source,
    chunk_rows,
    row_bytes,
)
from scratchnn.layers import Dense, Input

OTHER = [pytest.param(name, marks=pytest.mark.skipif(
    importlib.util.find_spec(name) is None, reason=f"{name} is not installed "
    "(pip install 'scratchnn[backends]')")) for name in ("array_api_strict", "torch")]
N, FEATURES, BATCH = 23, 4, 4          # 23 = 5 full batches + a last batch of 3
ROW = FEATURES * 8 + 8 + 8             # float64 x row + int64 label + float64 weight
BUDGET = 2 * BATCH * ROW + ROW         # room for 2 batches (+ a row): chunks of 8 rows


@pytest.fixture(autouse=True)
def _restore_backend():
    saved = backend._CURRENT
    yield
    backend._CURRENT = saved


# -- the arithmetic ---------------------------------------------------------------------------
def test_chunk_rows_is_the_largest_multiple_of_the_batch_that_fits():
    assert chunk_rows(100, 10, 8, None) == 100         # no limit: whole
    assert chunk_rows(100, 10, 8, 1000) == 100         # exactly fits: whole
    assert chunk_rows(100, 10, 8, 999) == 96           # 99 rows fit -> 12 batches of 8
    assert chunk_rows(100, 10, 8, 170) == 16           # 17 rows fit -> 2 batches
    assert chunk_rows(100, 10, 8, 79) == 8             # 7 rows fit -> still one batch
    assert chunk_rows(100, 10, 8, 1) == 8


def test_row_bytes_adds_every_arrays_row():
    x = np.zeros((5, 2, 3), np.float32)
    assert row_bytes((x, np.zeros(5, np.int64), np.zeros(5))) == 2 * 3 * 4 + 8 + 8


# -- the budget argument ----------------------------------------------------------------------
@pytest.mark.parametrize("bad", [0, -1])
def test_a_budget_below_one_byte_is_a_value_error_naming_it(bad):
    with pytest.raises(ValueError, match="data_budget must be an integer >= 1"):
        backend.set_backend("numpy", data_budget=bad)


@pytest.mark.parametrize("bad", ["1000", 1.5, True])
def test_a_budget_that_is_not_an_integer_is_a_type_error_naming_it(bad):
    with pytest.raises(TypeError, match="data_budget"):
        backend.set_backend("numpy", data_budget=bad)


@pytest.mark.parametrize("text", ["lots", "1e6", "0", "-3"])
def test_a_bad_environment_budget_names_the_variable(monkeypatch, text):
    backend._CURRENT = None
    monkeypatch.delenv("SCRATCHNN_BACKEND", raising=False)
    monkeypatch.setenv("SCRATCHNN_DATA_BUDGET", text)
    with pytest.raises(ValueError, match=f"SCRATCHNN_DATA_BUDGET must be .*{text!r}"):
        backend.get_backend()


def test_the_environment_sets_the_budget(monkeypatch):
    backend._CURRENT = None
    monkeypatch.delenv("SCRATCHNN_BACKEND", raising=False)
    monkeypatch.setenv("SCRATCHNN_DATA_BUDGET", " 4096 ")
    assert backend.get_backend().data_budget_bytes() == 4096


def test_cpu_devices_have_no_limit_by_default():
    assert Backend("numpy").data_budget_bytes() is None
    assert Backend("array_api_strict").data_budget_bytes() is None
    assert Backend("torch", "cpu").data_budget_bytes() is None
    assert Backend("torch", "cpu", data_budget=77).data_budget_bytes() == 77


def test_numpy_batches_are_the_arrays_themselves():
    x, y = np.ones((N, FEATURES)), np.arange(N)
    source = batch_source(Backend("numpy", data_budget=1), (x, y), BATCH)
    assert type(source) is BatchIterator and source.arrays[0] is x and source.arrays[1] is y


# -- the same batches -------------------------------------------------------------------------
def _data(rng_seed: int = 0):
    rng = np.random.default_rng(rng_seed)
    return (rng.normal(size=(N, FEATURES)), rng.integers(0, 3, N),
            rng.uniform(0.5, 2.0, N))


@pytest.mark.parametrize("name", OTHER)
@pytest.mark.parametrize("shuffled", [True, False])
def test_chunked_batches_are_the_whole_transfers_batches(name, shuffled):
    arrays = _data()
    chosen = backend.set_backend(name, data_budget=BUDGET)
    chunked = batch_source(chosen, arrays, BATCH)
    whole = BatchIterator(tuple(chosen.asarray(a) for a in arrays), BATCH)
    assert isinstance(chunked, ChunkedBatches) and chunked.rows == 8
    assert len(chunked) == len(whole) == 6
    order = np.random.default_rng(1).permutation(N) if shuffled else None
    got = [tuple(backend.to_numpy(a).copy() for a in b) for b in chunked(order)]
    want = [tuple(backend.to_numpy(a) for a in b) for b in whole(order)]
    assert [b[0].shape[0] for b in got] == [4, 4, 4, 4, 4, 3]
    for g, w in zip(got, want, strict=True):
        for a, b in zip(g, w, strict=True):
            assert backend.device_of(a) == "cpu"
            np.testing.assert_array_equal(a, b)


def _model(name: str, budget: int | None) -> scratchnn.Sequential:
    backend.set_backend(name, data_budget=budget)
    scratchnn.utils.set_random_seed(3)
    model = scratchnn.Sequential([Input((FEATURES,)), Dense(8, activation="relu"),
                                  Dense(3, activation="softmax")], dtype="float64")
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"],
                  weighted_metrics=["accuracy"])
    return model


def _run(name: str, budget: int | None, shuffle: bool, monkeypatch):
    """fit (with sample weights and validation data), evaluate and predict; and the largest
    number of rows moved to the device in one transfer during them."""
    x, y, w = _data()
    xv, yv, wv = _data(5)
    model = _model(name, budget)
    model.build()
    moved = []
    original = Backend.asarray

    def counting(self, a, copy=False):
        moved.append(a.shape[0] if a.ndim else 0)
        return original(self, a, copy)

    monkeypatch.setattr(Backend, "asarray", counting)
    history = model.fit(x, y, batch_size=BATCH, epochs=3, verbose=0, shuffle=shuffle,
                        sample_weight=w, validation_data=(xv, yv, wv), seed=11)
    evaluated = model.evaluate(xv, yv, batch_size=BATCH, verbose=0, sample_weight=wv)
    predicted = model.predict(x, batch_size=BATCH)
    monkeypatch.setattr(Backend, "asarray", original)
    return history.history, model.get_weights(), evaluated, predicted, max(moved)


@pytest.mark.parametrize("name", OTHER)
@pytest.mark.parametrize("shuffle", [True, False])
def test_a_chunked_fit_is_bitwise_the_whole_fit(name, shuffle, monkeypatch):
    whole = _run(name, None, shuffle, monkeypatch)
    chunked = _run(name, BUDGET, shuffle, monkeypatch)
    # moved whole vs in chunks: 8 rows of (x, y, w); predict's x alone: 13 rows fit -> 12
    assert whole[-1] == N and chunked[-1] == 12
    assert chunked[0] == whole[0]                    # every loss and metric, every epoch
    assert set(whole[0]) >= {"val_loss", "val_accuracy"}
    for a, b in zip(chunked[1], whole[1], strict=True):
        np.testing.assert_array_equal(a, b)
    assert chunked[2] == whole[2]
    np.testing.assert_array_equal(chunked[3], whole[3])


@pytest.mark.parametrize("name", OTHER)
def test_data_that_fits_is_moved_once_per_fit_validation_included(name, monkeypatch):
    x, y, w = _data()
    xv, yv, wv = _data(5)
    model = _model(name, None)
    model.build()
    moved = []
    original = Backend.asarray

    def counting(self, a, copy=False):
        moved.append(a.shape[0] if a.ndim else 0)
        return original(self, a, copy)

    monkeypatch.setattr(Backend, "asarray", counting)
    model.fit(x, y, batch_size=BATCH, epochs=3, verbose=0, sample_weight=w,
              validation_data=(xv, yv, wv), seed=11)
    # (x, y, w) once and (xv, yv, wv) once, whatever the number of epochs
    assert sorted(moved) == [N] * 6
