"""The one label validator, scratchnn.checks.as_int_labels, and the places that use it.

Reference: hand-written label arrays whose first bad entry (value and index) is known.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from scratchnn import losses, metrics
from scratchnn.checks import as_int_labels, check_label_range, check_num_classes
from scratchnn.utils import to_categorical
from scratchnn.workflow.datastats import class_counts


@pytest.mark.parametrize("y, expected", [
    ([2, 0, 1], [2, 0, 1]),
    (np.array([[2], [0], [1]], dtype=np.int8), [2, 0, 1]),  # (N, 1) -> (N,)
    (np.array([2.0, 0.0, 1.0], dtype=np.float32), [2, 0, 1]),  # integer-valued floats
    (np.array([True, False]), [1, 0]),
    (np.array([7], dtype=np.uint16), [7]),
    (np.zeros(0, dtype=int), []),
])
def test_valid_labels_become_int64_vectors(y, expected):
    labels = as_int_labels(y, 10, "y")
    assert labels.dtype == np.int64 and labels.shape == (len(expected),)
    assert labels.tolist() == expected


def test_any_shape_keeps_the_shape():
    y = np.array([[0, 1, 2], [2, 1, 0]], dtype=np.float64)
    labels = as_int_labels(y, 3, "y", any_shape=True)
    assert labels.dtype == np.int64 and labels.shape == (2, 3)
    np.testing.assert_array_equal(labels, y)
    assert as_int_labels(np.int32(4), None, any_shape=True).shape == ()
    with pytest.raises(ValueError, match=re.escape("y must be integer labels of shape (N,) or "
                                                   "(N, 1), got (2, 3)")):
        as_int_labels(y, 3, "y")


@pytest.mark.parametrize("y, num_classes, error, message", [
    ([0, 3, 1, 5], 3, ValueError,
     "labels has label 3 but num_classes=3, at index 1; labels out of range: min 0, max 5 "
     "(expected 0..2)"),
    ([1, 2, -4, -1], 3, ValueError,
     "labels has negative label -4, at index 2; labels out of range: min -4, max 2 "
     "(expected 0..2)"),
    ([1, 2, -4, 9], None, ValueError,
     "labels has negative label -4, at index 2; labels out of range: min -4, max 9 "
     "(expected >= 0)"),
    ([0.0, 1.0, 2.5, 0.5], 3, TypeError,
     "labels must hold integer class labels, got non-integer value 2.5 at index 2"),
    ([0.0, np.inf, np.nan], 3, ValueError,
     "labels contains NaN or infinite value inf at index 1; expected integer class labels"),
    (np.array([1e30, 0.0]), None, ValueError, "labels has label 1e+30, at index 0"),
    (np.array(["a", "b"]), 3, TypeError, "labels must hold integer class labels, got dtype <U1"),
    (np.array([1 + 0j]), 3, TypeError, "got dtype complex128"),
    (np.array([None, 1]), 3, TypeError, "got dtype object"),
    ([[0, 1], [1]], 3, TypeError, "labels could not be converted to an array"),
    ([[0, 1], [1, 0]], 3, ValueError, "labels must be integer labels of shape (N,) or (N, 1)"),
    ([0, 1], 0, ValueError, "num_classes must be >= 1, got 0"),
    ([0, 1], 2.0, TypeError, "num_classes must be an int, got float"),
    ([0, 1], True, TypeError, "num_classes must be an int, got bool"),
])
def test_bad_labels_name_the_argument_and_the_first_bad_value(y, num_classes, error, message):
    with pytest.raises(error, match=re.escape(message)):
        as_int_labels(y, num_classes, "labels")


def test_index_of_a_bad_label_in_a_matrix_is_a_tuple():
    y = np.array([[0, 1], [2, 7]])
    with pytest.raises(ValueError, match=re.escape("y has label 7 but num_classes=3, at index "
                                                   "(1, 1)")):
        as_int_labels(y, 3, any_shape=True)
    with pytest.raises(TypeError, match=re.escape("non-integer value 0.5 at index (0, 1)")):
        as_int_labels(np.array([[0, 0.5]]), None, any_shape=True)


def test_check_label_range_and_num_classes_directly():
    check_label_range(np.array([0, 1, 2]), 3)
    check_label_range(np.zeros(0, dtype=np.int64), 1)
    check_label_range(np.array([5]), None)
    with pytest.raises(ValueError, match="y_pred has label 3 but num_classes=3, at index 2"):
        check_label_range(np.array([0, 1, 3, 4]), 3, "y_pred")
    assert check_num_classes(np.int64(4)) == 4 and type(check_num_classes(np.int64(4))) is int


# -- every user of the validator reports the same thing ---------------------------------------
BAD = np.array([0, 1, 5, 1])  # first bad label: 5 at index 2 (for 3 classes)
EXPECTED = "has label 5 but num_classes=3, at index 2"


def test_sparse_crossentropy_uses_it():
    with pytest.raises(ValueError, match=f"y_true {EXPECTED}"):
        losses.SparseCategoricalCrossentropy()(BAD, np.full((4, 3), 1 / 3))
    with pytest.raises(ValueError, match=f"y {EXPECTED}"):
        losses.SparseCategoricalCrossentropy().prepare_targets(BAD, 3, np.float32)


def test_to_categorical_uses_it():
    with pytest.raises(ValueError, match=f"y {EXPECTED}"):
        to_categorical(BAD, 3)
    with pytest.raises(ValueError, match=re.escape("y has label 5 but num_classes=3, at index "
                                                   "(1, 0)")):
        to_categorical(BAD.reshape(2, 2), 3)
    np.testing.assert_array_equal(to_categorical([2.0, 0.0], 3), [[0, 0, 1], [1, 0, 0]])


def test_metrics_use_it():
    with pytest.raises(ValueError, match=f"y_pred {EXPECTED}"):
        metrics.confusion_matrix([0, 1, 2, 1], BAD, num_classes=3)
    with pytest.raises(ValueError, match="y_true has negative label -1, at index 1"):
        metrics.accuracy([0, -1], [0, 1])
    with pytest.raises(TypeError, match="y_true must hold integer class labels, got non-integer "
                                        "value 0.5 at index 0"):
        metrics.accuracy([0.5, 1.0], [0, 1])
    # y_pred as sigmoid outputs is not a label array: read as P(class 1)
    assert metrics.accuracy([1, 0], np.array([0.7, 0.2])) == 1.0


def test_data_statistics_use_it():
    with pytest.raises(ValueError, match=f"labels {EXPECTED}"):
        class_counts(BAD, 3)
    np.testing.assert_array_equal(class_counts(np.array([2.0, 0.0, 2.0])), [1, 0, 2])
