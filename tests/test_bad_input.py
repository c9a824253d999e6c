"""Bad input gets a clear error that names the problem (never a bare NumPy traceback)."""

from __future__ import annotations

import numpy as np
import pytest

import scratchnn as snn
from scratchnn.layers import Dense, Flatten, Input


@pytest.fixture
def model():
    m = snn.Sequential([Input((4,)), Dense(5, activation="relu"), Dense(3, activation="softmax")])
    m.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return m


X = np.ones((6, 4), np.float32)
Y = np.array([0, 1, 2, 0, 1, 2])


def test_wrong_feature_count(model):
    with pytest.raises(ValueError, match=r"per-sample shape \(5,\).*expects \(4,\)"):
        model.fit(np.ones((6, 5)), Y, verbose=0)
    with pytest.raises(ValueError, match="expects"):
        model.predict(np.ones((6, 2, 2)), verbose=0)


def test_dense_needs_flat_input():
    m = snn.Sequential([Input((2, 2)), Dense(3)])
    with pytest.raises(ValueError, match="add a Flatten layer"):
        m.build()
    assert snn.Sequential([Input((2, 2)), Flatten(), Dense(3)]).count_params() == 15


def test_labels_out_of_range_and_wrong_dtype(model):
    with pytest.raises(ValueError, match=r"out of range: min 0, max 3 \(expected 0..2\)"):
        model.fit(X, np.array([0, 1, 2, 3, 0, 1]), verbose=0)
    with pytest.raises(ValueError, match="out of range"):
        model.fit(X, -Y, verbose=0)
    with pytest.raises(TypeError, match="integer class labels"):
        model.fit(X, Y + 0.5, verbose=0)
    with pytest.raises(TypeError, match="dtype <U1"):
        model.fit(X, np.array(list("abcabc")), verbose=0)


def test_one_hot_targets_with_wrong_width():
    m = snn.Sequential([Input((4,)), Dense(3, activation="softmax")])
    m.compile("sgd", "categorical_crossentropy")
    with pytest.raises(ValueError, match=r"y has shape \(6, 4\), but the model outputs 3"):
        m.fit(X, np.eye(4)[[0, 1, 2, 3, 0, 1]], verbose=0)
    with pytest.raises(ValueError, match="outputs 3 value"):
        m.fit(X, Y, verbose=0)  # integer labels given to categorical_crossentropy


def test_length_mismatch(model):
    with pytest.raises(ValueError, match="x has 6, y has 5"):
        model.fit(X, Y[:5], verbose=0)
    with pytest.raises(ValueError, match="val_x has 2, val_y has 3"):
        model.fit(X, Y, validation_data=(X[:2], Y[:3]), verbose=0)


def test_empty_input(model):
    with pytest.raises(ValueError, match="x is empty"):
        model.fit(np.zeros((0, 4)), np.zeros(0, int), verbose=0)
    with pytest.raises(ValueError, match="x is empty"):
        model.predict(np.zeros((0, 4)), verbose=0)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_inf_in_input(model, bad):
    x = X.copy()
    x[2, 1] = bad
    with pytest.raises(ValueError, match=r"x contains 1 NaN or infinite value"):
        model.fit(x, Y, verbose=0)
    with pytest.raises(ValueError, match="NaN or infinite"):
        model.evaluate(x, Y, verbose=0)


def test_non_numeric_input(model):
    with pytest.raises(TypeError, match="x must be numeric"):
        model.predict(np.array([["a"] * 4]), verbose=0)
    with pytest.raises(TypeError, match="could not be converted"):
        model.predict([[1, 2, 3, 4], [1, 2]], verbose=0)


def test_fit_before_compile():
    m = snn.Sequential([Input((4,)), Dense(3)])
    for call in (lambda: m.fit(X, Y), lambda: m.evaluate(X, Y),
                 lambda: m.train_on_batch(X, Y)):
        with pytest.raises(RuntimeError, match=r"must call compile\(\) before"):
            call()
    with pytest.raises(ValueError, match="needs a loss"):
        m.compile("adam")


def test_unknown_names():
    with pytest.raises(ValueError, match="Unknown activation 'relux'"):
        Dense(3, activation="relux")
    with pytest.raises(TypeError, match="plain function"):
        Dense(3, activation=np.tanh)
    m = snn.Sequential([Input((4,)), Dense(3)])
    with pytest.raises(ValueError, match="Unknown loss 'crossentropy'"):
        m.compile("adam", "crossentropy")
    with pytest.raises(ValueError, match="Unknown optimizer 'lion'"):
        m.compile("lion", "mse")
    with pytest.raises(ValueError, match="Unknown initializer"):
        Dense(3, kernel_initializer="orthogonalish")
    with pytest.raises(ValueError, match="positive integer"):
        Dense(0)


def test_bad_fit_arguments(model):
    with pytest.raises(ValueError, match="batch_size"):
        model.fit(X, Y, batch_size=0, verbose=0)
    with pytest.raises(ValueError, match="validation_split"):
        model.fit(X, Y, validation_split=1.5, verbose=0)
    with pytest.raises(ValueError, match="leaves an empty"):
        model.fit(X[:1], Y[:1], validation_split=0.5, verbose=0)
    with pytest.raises(ValueError, match="y is missing"):
        model.fit(X, None, verbose=0)


def test_huge_but_finite_input_is_accepted():
    """The fast NaN check sums x; an overflowing sum of finite values must not be rejected."""
    from scratchnn.checks import as_float_array

    x = np.full((4, 3), 1e308)
    assert as_float_array(x, "x", np.float64) is not None
    x[1, 2] = np.nan
    with pytest.raises(ValueError, match="x contains 1 NaN"):
        as_float_array(x, "x", np.float64)
