"""A ``Sequential`` inside a ``Sequential`` (TF's quickstart: ``probability_model =
Sequential([model, layers.Activation("softmax")])``) and ``model(x, training=...)``.

References: the softmax written out, the inner model's own predictions, finite differences
(scratchnn.gradcheck) and Keras 3's summary/count conventions (a nested model is one row whose
parameter count is its own total)."""

from __future__ import annotations

import numpy as np
import pytest

import scratchnn as snn
from scratchnn.gradcheck import check_model

X = np.random.default_rng(0).standard_normal((10, 4))
Y = np.random.default_rng(1).integers(0, 3, 10)


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _inner(dtype="float64"):
    model = snn.Sequential([snn.layers.Input((4,)), snn.layers.Dense(5, activation="relu"),
                            snn.layers.Dense(3)], dtype=dtype)
    model.compile(snn.optimizers.SGD(0.1), snn.losses.SparseCategoricalCrossentropy(
        from_logits=True))
    return model


def _wrap(inner):
    return snn.Sequential([inner, snn.layers.Activation("softmax")], dtype=inner._dtype_arg)


def test_probability_model_predicts_softmax_of_the_logits():
    inner = _inner()
    inner.fit(X, Y, epochs=2, verbose=0)
    outer = _wrap(inner)
    np.testing.assert_allclose(outer.predict(X, verbose=0), _softmax(inner.predict(X, verbose=0)),
                               rtol=1e-14, atol=1e-16)
    np.testing.assert_allclose(outer(X), _softmax(inner(X)), rtol=1e-14, atol=1e-16)
    assert outer.output_shape == (None, 3) and outer.input_shape == (None, 4)


def test_weights_are_shared_both_ways():
    inner = _inner()
    outer = _wrap(inner)
    outer.compile(snn.optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    inner.build()
    outer.build()
    for a, b in zip(outer.weights, inner.weights):
        assert np.shares_memory(a, b)  # the same arrays, not copies
    inner.fit(X, Y, epochs=1, verbose=0)  # train the inner one after wrapping
    np.testing.assert_array_equal(outer.predict(X, verbose=0),
                                  _softmax(inner.predict(X, verbose=0)).astype(np.float64))
    before = inner.get_weights()
    outer.fit(X, Y, epochs=1, verbose=0)  # train the outer one: the inner one sees it
    for a, b, c in zip(before, inner.get_weights(), outer.get_weights()):
        assert not np.array_equal(a, b)
        np.testing.assert_array_equal(b, c)
    inner.fit(X, Y, epochs=1, verbose=0)  # and back again
    for b, c in zip(inner.get_weights(), outer.get_weights()):
        np.testing.assert_array_equal(b, c)


def test_outer_weights_counts_and_summary():
    inner = _inner()
    outer = _wrap(inner)
    outer.build()
    assert [w.shape for w in outer.get_weights()] == [(4, 5), (5,), (5, 3), (3,)]
    assert outer.count_params() == inner.count_params() == 4 * 5 + 5 + 5 * 3 + 3
    lines: list[str] = []
    outer.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert f"{inner.name} (Sequential)" in text
    row = next(line for line in lines if "(Sequential)" in line)
    assert row.split()[-1] == "43" and "(None, 3)" in row
    assert "Trainable params: 43 " in text and "Non-trainable params: 0 " in text
    assert len(outer.layers) == 2 and outer.layers[0] is inner


def test_config_round_trip_keeps_the_nesting():
    outer = _wrap(_inner())
    outer.build()
    config = outer.get_config()
    assert config["layers"][0]["class_name"] == "Sequential"
    copy = snn.Sequential.from_config(config)
    copy.build()
    assert copy.get_config() == config
    assert isinstance(copy.layers[0], snn.Sequential)
    copy.set_weights(outer.get_weights())
    np.testing.assert_array_equal(copy.predict(X, verbose=0), outer.predict(X, verbose=0))


def test_gradients_through_the_nested_model_match_finite_differences():
    outer = _wrap(_inner())
    outer.compile("sgd", "sparse_categorical_crossentropy")
    errors = check_model(outer, X, Y)
    assert max(errors.values()) < 1e-6, errors


def test_a_model_cannot_contain_itself():
    inner = _inner()
    with pytest.raises(ValueError, match="itself"):
        inner.add(inner)


def test_a_model_cannot_contain_itself_indirectly():
    inner = _inner()
    outer = _wrap(inner)
    with pytest.raises(ValueError, match="itself"):
        inner.add(outer)
    assert len(inner.layers) == 2


def test_call_training_flag_reaches_every_layer_and_returns_the_forward_pass():
    inner = _inner()
    outer = _wrap(inner)
    outer.build()
    seen = []
    for layer in inner.layers + [outer.layers[1]]:
        forward = layer.forward

        def spy(x, training=False, _forward=forward):
            seen.append(training)
            return _forward(x, training)

        layer.forward = spy
    out_false = outer(X, training=False)
    assert seen == [False] * 3
    out_true = outer(X, training=True)
    assert seen[3:] == [True] * 3
    np.testing.assert_array_equal(out_false, outer.predict(X, verbose=0))
    np.testing.assert_array_equal(out_true, out_false)  # no dropout/batchnorm: same numbers
    np.testing.assert_array_equal(inner(X, training=False), inner.predict(X, verbose=0))
