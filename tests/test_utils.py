"""Tests for scratchnn.utils: to_categorical / normalize against Keras, standardize, splits."""

from __future__ import annotations

import numpy as np
import pytest

from scratchnn import seeding, utils
from scratchnn.utils import normalize, standardize, to_categorical, train_test_split


@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


# --------------------------------------------------------------------------- to_categorical


def test_to_categorical_hand_example():
    out = to_categorical([0, 2, 1, 2])
    expected = np.array([[1, 0, 0], [0, 0, 1], [0, 1, 0], [0, 0, 1]], dtype=np.float32)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, expected)
    assert to_categorical([1], num_classes=4, dtype="float64").dtype == np.float64
    np.testing.assert_array_equal(to_categorical(3, num_classes=5), [0, 0, 0, 1, 0])


@pytest.mark.parametrize(
    "shape", [(7,), (7, 1), (4, 3), (2, 3, 1), (5, 1, 2), (1,), (1, 1)], ids=str
)
@pytest.mark.parametrize("num_classes", [None, 6])
def test_to_categorical_matches_keras(keras, shape, num_classes):
    rng = np.random.default_rng(sum(shape) * 7 + len(shape) + (num_classes or 0))
    y = rng.integers(0, 6, size=shape)
    ref = keras.utils.to_categorical(y, num_classes=num_classes)
    out = to_categorical(y, num_classes=num_classes)
    assert out.shape == np.shape(ref)
    np.testing.assert_array_equal(out, np.asarray(ref))


def test_to_categorical_accepts_integer_valued_floats_and_bools(keras):
    y = np.array([[2.0], [0.0], [1.0]])
    np.testing.assert_array_equal(to_categorical(y), keras.utils.to_categorical(y))
    np.testing.assert_array_equal(to_categorical(np.array([True, False])), [[0, 1], [1, 0]])


@pytest.mark.parametrize(
    "y, num_classes, exc, match",
    [
        ([0, -1, 2], None, ValueError, "negative label -1"),
        ([0, 3], 3, ValueError, "label 3 but num_classes=3"),
        ([0.5, 1.0], None, TypeError, "non-integer value 0.5"),
        ([0.0, np.nan], None, ValueError, "NaN"),
        (["a", "b"], None, TypeError, "integer class labels"),
        ([], None, ValueError, "empty"),
        ([0, 1], 0, ValueError, "num_classes must be >= 1"),
        ([0, 1], 2.0, TypeError, "num_classes must be an int"),
    ],
)
def test_to_categorical_errors(y, num_classes, exc, match):
    with pytest.raises(exc, match=match):
        to_categorical(y, num_classes=num_classes)


def test_to_categorical_empty_with_num_classes():
    assert to_categorical(np.zeros(0, dtype=int), num_classes=3).shape == (0, 3)


# --------------------------------------------------------------------------- normalize


@pytest.mark.parametrize("order", [1, 2, 3, np.inf])
@pytest.mark.parametrize(
    "shape, axis",
    [((5, 7), -1), ((5, 7), 1), ((3, 4, 6), 1), ((3, 4, 6), 2), ((3, 4, 6), -2), ((9,), -1)],
)
def test_normalize_matches_keras(keras, order, shape, axis):
    rng = np.random.default_rng(len(shape) * 10 + axis + 3)
    x = rng.standard_normal(shape)
    if len(shape) == 2:
        x[1] = 0.0  # zero-norm row
    ref = keras.utils.normalize(x, axis=axis, order=order)
    if x.ndim == 1:
        assert ref.shape == (1,) + x.shape  # Keras quirk; we keep the input shape
        ref = ref[0]
    out = normalize(x, axis=axis, order=order)
    assert out.shape == x.shape and out.dtype == ref.dtype
    np.testing.assert_allclose(out, ref, rtol=1e-15, atol=0)


def test_normalize_dtypes_like_keras(keras):
    x32 = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    assert normalize(x32).dtype == keras.utils.normalize(x32).dtype == np.float32
    xi = np.array([[3, 4], [0, 0]])
    np.testing.assert_array_equal(normalize(xi), keras.utils.normalize(xi))
    np.testing.assert_array_equal(normalize(xi), [[0.6, 0.8], [0.0, 0.0]])


def test_normalize_hand_values_and_axis0():
    x = np.array([[3.0, 0.0], [4.0, 2.0]])
    np.testing.assert_allclose(normalize(x, axis=0), [[0.6, 0.0], [0.8, 1.0]])
    np.testing.assert_allclose(normalize(x, axis=1, order=1), [[1.0, 0.0], [4 / 6, 2 / 6]])
    rng = np.random.default_rng(2)
    y = rng.standard_normal((6, 3))
    np.testing.assert_allclose(normalize(y, axis=0), y / np.sqrt((y**2).sum(axis=0)))


def test_normalize_errors():
    with pytest.raises(ValueError, match="out of range"):
        normalize(np.ones((2, 2)), axis=2)
    with pytest.raises(TypeError, match="axis must be an int"):
        normalize(np.ones((2, 2)), axis=None)
    with pytest.raises(ValueError, match="scalar"):
        normalize(3.0)


# --------------------------------------------------------------------------- standardize


def test_standardize_global_and_reuse_stats():
    rng = np.random.default_rng(5)
    x = rng.uniform(0, 255, size=(20, 4))
    x_test = rng.uniform(0, 255, size=(6, 4))
    out, mean, std = standardize(x, return_stats=True)
    m, s = sum(x.ravel()) / x.size, np.sqrt(sum((x.ravel() - x.mean()) ** 2) / x.size)
    assert float(mean) == pytest.approx(m, rel=1e-12) and float(std) == pytest.approx(s, rel=1e-12)
    np.testing.assert_allclose(out, (x - m) / s, rtol=1e-12)
    assert out.dtype == np.float64
    assert abs(out.mean()) < 1e-12 and out.std() == pytest.approx(1.0)
    test_out = standardize(x_test, mean, std)
    np.testing.assert_allclose(test_out, (x_test - m) / s, rtol=1e-12)


def test_standardize_per_feature_with_constant_column():
    x = np.array([[1.0, 5.0, 2.0], [3.0, 5.0, 4.0], [5.0, 5.0, 9.0]], dtype=np.float32)
    out, mean, std = standardize(x, per_feature=True, return_stats=True)
    assert out.dtype == np.float32 and mean.shape == (3,) and std.shape == (3,)
    np.testing.assert_allclose(mean, [3.0, 5.0, 5.0])
    np.testing.assert_allclose(std, [np.sqrt(8 / 3), 1.0, np.sqrt(26 / 3)])
    np.testing.assert_allclose(out[:, 0], np.array([-2, 0, 2]) / np.sqrt(8 / 3), rtol=1e-6)
    np.testing.assert_array_equal(out[:, 1], 0.0)


def test_standardize_dtypes_and_given_stats():
    x = np.arange(12, dtype=np.uint8).reshape(3, 4)
    assert standardize(x).dtype == np.float32
    out = standardize(x, mean=2.0, std=4.0)
    np.testing.assert_allclose(out, (x.astype(np.float64) - 2) / 4)
    out = standardize(x, mean=np.array([0, 1, 2, 3]), std=np.array([1, 2, 4, 8]))
    np.testing.assert_allclose(out, (x - np.arange(4)) / np.array([1, 2, 4, 8]), rtol=1e-6)


def test_standardize_errors():
    x = np.ones((3, 2))
    with pytest.raises(ValueError, match="std contains zeros"):
        standardize(x, mean=0.0, std=np.array([1.0, 0.0]))
    with pytest.raises(ValueError, match="broadcast"):
        standardize(x, mean=np.zeros(3), std=1.0)
    with pytest.raises(ValueError, match="NaN"):
        standardize(np.array([[1.0, np.nan]]))


# --------------------------------------------------------------------------- train_test_split


def test_split_is_disjoint_complete_and_aligned():
    x = np.arange(50).reshape(25, 2)
    y = np.arange(25) * 10
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.2, seed=0)
    assert len(x_te) == 5 and len(x_tr) == 20 and x_tr.shape[1:] == (2,)
    rows_tr, rows_te = x_tr[:, 0] // 2, x_te[:, 0] // 2
    assert set(rows_tr).isdisjoint(rows_te)
    assert sorted(np.concatenate([rows_tr, rows_te])) == list(range(25))
    np.testing.assert_array_equal(y_tr, rows_tr * 10)
    np.testing.assert_array_equal(y_te, rows_te * 10)
    assert not np.array_equal(np.sort(rows_te), np.arange(20, 25))  # actually shuffled


@pytest.mark.parametrize(
    "n, test_size, n_test",
    [(10, 0.25, 3), (10, 0.2, 2), (7, 0.5, 4), (10, 3, 3), (2, 1, 1), (100, 0.01, 1)],
)
def test_split_sizes(n, test_size, n_test):
    _, x_te, _, y_te = train_test_split(np.arange(n), np.arange(n), test_size=test_size, seed=1)
    assert len(x_te) == len(y_te) == n_test


def test_split_reproducible_with_seed_and_set_random_seed():
    x, y = np.arange(100), np.arange(100) % 4
    a = train_test_split(x, y, seed=42)
    b = train_test_split(x, y, seed=42)
    c = train_test_split(x, y, seed=43)
    for u, v in zip(a, b, strict=True):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[1], c[1])
    utils.set_random_seed(7)
    d = train_test_split(x, y, stratify=True)
    e = train_test_split(x, y, stratify=True)  # the global generator moved on
    utils.set_random_seed(7)
    f = train_test_split(x, y, stratify=True)
    np.testing.assert_array_equal(d[1], f[1])
    assert not np.array_equal(d[1], e[1])
    gen = np.random.default_rng(3)
    g = train_test_split(x, y, seed=gen)
    h = train_test_split(x, y, seed=np.random.default_rng(3))
    np.testing.assert_array_equal(g[1], h[1])


def test_set_random_seed_is_reexported():
    assert utils.set_random_seed is seeding.set_random_seed


def test_stratified_exact_proportions():
    y = np.repeat([0, 1, 2], [50, 30, 20])
    x = np.arange(100)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.2, seed=0, stratify=y)
    np.testing.assert_array_equal(np.bincount(y_te), [10, 6, 4])
    np.testing.assert_array_equal(np.bincount(y_tr), [40, 24, 16])
    np.testing.assert_array_equal(y[x_te], y_te)  # pairs stay aligned
    assert set(x_tr).isdisjoint(x_te) and len(set(x_tr) | set(x_te)) == 100


def test_stratified_largest_remainder_hand_example():
    # counts 7, 5, 3 (n=15), 4 test samples: quotas 1.867, 1.333, 0.8 -> floors 1, 1, 0;
    # the two spare units go to the largest remainders (.867 and .8): allocation 2, 1, 1.
    y = np.repeat([0, 1, 2], [7, 5, 3])
    for seed in range(5):
        _, _, _, y_te = train_test_split(np.arange(15), y, test_size=4, seed=seed, stratify=True)
        np.testing.assert_array_equal(np.bincount(y_te, minlength=3), [2, 1, 1])


def test_stratified_random_cases_are_within_one_of_quota():
    rng = np.random.default_rng(11)
    for _ in range(30):
        k = int(rng.integers(2, 6))
        y = rng.integers(0, k, size=int(rng.integers(20, 80)))
        n = len(y)
        test_size = float(rng.uniform(0.1, 0.5))
        n_test = int(np.ceil(test_size * n))
        _, _, _, y_te = train_test_split(
            np.zeros((n, 2)), y, test_size=test_size, seed=int(rng.integers(1000)), stratify=True
        )
        assert len(y_te) == n_test
        counts = np.bincount(y, minlength=k)
        got = np.bincount(y_te, minlength=k)
        quota = n_test * counts / n
        assert np.all(got >= np.floor(quota)) and np.all(got <= np.ceil(quota))


def test_stratify_by_one_hot_and_string_labels():
    labels = np.repeat([0, 1], [28, 12])  # 10 test samples: quotas 7 and 3 exactly
    onehot = np.eye(2)[labels]
    _, _, _, y_te = train_test_split(np.arange(40), onehot, test_size=0.25, seed=0, stratify=True)
    np.testing.assert_array_equal(y_te.sum(axis=0), [7, 3])
    names = np.where(labels == 0, "cat", "dog")
    _, x_te, _, _ = train_test_split(np.arange(40), labels, test_size=0.25, seed=1, stratify=names)
    assert len(x_te) == 10 and (names[x_te] == "dog").sum() == 3


def test_no_shuffle_takes_the_tail():
    x_tr, x_te, y_tr, y_te = train_test_split(
        np.arange(10), np.arange(10) + 100, test_size=3, shuffle=False
    )
    np.testing.assert_array_equal(x_tr, np.arange(7))
    np.testing.assert_array_equal(x_te, [7, 8, 9])
    np.testing.assert_array_equal(y_te, [107, 108, 109])


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"test_size": 0.0}, ValueError, r"in \(0, 1\)"),
        ({"test_size": 1.0}, ValueError, r"in \(0, 1\)"),
        ({"test_size": -0.2}, ValueError, r"in \(0, 1\)"),
        ({"test_size": 0}, ValueError, "between 1 and 9"),
        ({"test_size": 10}, ValueError, "between 1 and 9"),
        ({"test_size": 0.99}, ValueError, "both splits need at least one"),
        ({"test_size": True}, TypeError, "bool"),
        ({"test_size": "0.2"}, TypeError, "test_size"),
        ({"stratify": np.arange(9)}, ValueError, "stratify has 9 labels"),
        ({"stratify": True, "shuffle": False}, ValueError, "shuffle=True"),
    ],
)
def test_split_errors(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        train_test_split(np.arange(10), np.arange(10) % 2, **kwargs)


def test_split_length_mismatch_and_too_small():
    with pytest.raises(ValueError, match="x has 10, y has 9"):
        train_test_split(np.arange(10), np.arange(9))
    with pytest.raises(ValueError, match="at least 2 samples"):
        train_test_split(np.arange(1), np.arange(1), test_size=1)
