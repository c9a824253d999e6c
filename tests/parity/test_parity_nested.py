"""A ``Sequential`` nested in a ``Sequential`` (TF's quickstart ``probability_model``) against the
same nesting built by hand in Keras 3 (``tfref.to_keras`` converts flat models only):
predictions, the loss and every gradient (``tf.GradientTape`` over ``compute_loss``), weight
order and counts, and two epochs of ``fit`` of the outer model (the inner one sees the update).
Tolerance relative to the largest reference entry: float64 1e-13, float32 1e-6.
"""

from __future__ import annotations

import numpy as np
import pytest

import scratchnn as snn
import tfref

TOL = {"float64": 1e-13, "float32": 1e-6}


def _close(ours, ref, tol, what):
    ours, ref = np.asarray(ours, np.float64), np.asarray(ref, np.float64)
    err = np.max(np.abs(ours - ref)) / np.max(np.abs(ref))
    assert err <= tol, f"{what}: relative error {err:.3g} > {tol:.3g}"


def _pair(dtype, rng):
    """``(inner, outer)`` in scratchnn and in Keras, the same weights, outer compiled."""
    import keras

    inner = snn.Sequential([snn.layers.Input((4,)), snn.layers.Dense(6, activation="tanh"),
                            snn.layers.Dense(3)], dtype=dtype)
    inner.build()
    inner.set_weights([rng.uniform(-0.8, 0.8, w.shape) for w in inner.get_weights()])
    outer = snn.Sequential([inner, snn.layers.Activation("softmax")], dtype=dtype)
    outer.compile(snn.optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    with tfref.keras_floatx(dtype):
        k_inner = keras.Sequential([keras.Input((4,), dtype=dtype),
                                    keras.layers.Dense(6, activation="tanh", dtype=dtype),
                                    keras.layers.Dense(3, dtype=dtype)])
        k_inner.set_weights(inner.get_weights())
        # an Input, so that Keras builds the outer model now, in ``dtype`` (built lazily on the
        # first call it would build its graph in the floatx of that moment)
        k_outer = keras.Sequential([keras.Input((4,), dtype=dtype), k_inner,
                                    keras.layers.Activation("softmax", dtype=dtype)])
        k_outer.compile(keras.optimizers.SGD(0.1),
                        keras.losses.SparseCategoricalCrossentropy(dtype=dtype))
    return inner, outer, k_inner, k_outer


def _data(dtype, rng, n=10):
    return rng.standard_normal((n, 4)).astype(dtype), rng.integers(0, 3, n)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_nested_predictions_weights_and_counts(dtype, check):
    rng = np.random.default_rng(0)
    inner, outer, k_inner, k_outer = _pair(dtype, rng)
    x, _ = _data(dtype, rng)
    with tfref.keras_floatx(dtype):  # Keras's predict casts its input to floatx
        theirs, k_inner_pred = k_outer.predict(x, verbose=0), k_inner.predict(x, verbose=0)
    ours = outer.predict(x, verbose=0)
    check("nested predict", ours, theirs, dtype)
    _close(ours, theirs, TOL[dtype], "predict")
    _close(outer(x, training=False), theirs, TOL[dtype], "model(x, training=False)")
    _close(inner.predict(x, verbose=0), k_inner_pred, TOL[dtype], "inner")
    assert outer.count_params() == k_outer.count_params() == 4 * 6 + 6 + 6 * 3 + 3
    assert [w.shape for w in outer.get_weights()] == [w.shape for w in k_outer.get_weights()]
    assert len(outer.trainable_weights) == len(k_outer.trainable_weights)
    assert len(outer.non_trainable_weights) == len(k_outer.non_trainable_weights) == 0


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_nested_loss_and_gradients(dtype, check):
    import tensorflow as tf

    rng = np.random.default_rng(1)
    _, outer, _, k_outer = _pair(dtype, rng)
    x, y = _data(dtype, rng)
    loss, grads = outer.compute_gradients(x, y)
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        y_pred = k_outer(xt, training=True)
        k_loss = k_outer.compute_loss(x=xt, y=tf.constant(y), y_pred=y_pred, training=True)
    k_grads = [g.numpy() for g in tape.gradient(k_loss, k_outer.trainable_variables)]
    check("nested loss", loss, float(k_loss), dtype)
    _close(loss, float(k_loss), TOL[dtype], "loss")
    for i, (g, kg) in enumerate(zip(grads, k_grads, strict=True)):
        check("nested gradient", g, kg, dtype, label=f"weight {i}")
        _close(g, kg, TOL[dtype], f"gradient {i}")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fitting_the_outer_model_trains_the_inner_one(dtype, check):
    rng = np.random.default_rng(2)
    inner, outer, k_inner, k_outer = _pair(dtype, rng)
    x, y = _data(dtype, rng, n=12)
    ours = outer.fit(x, y, epochs=2, batch_size=5, shuffle=False, verbose=0).history
    with tfref.keras_floatx(dtype):
        theirs = k_outer.fit(x, y, epochs=2, batch_size=5, shuffle=False, verbose=0).history
    check("nested fit loss", ours["loss"], theirs["loss"], dtype, "training")
    _close(ours["loss"], theirs["loss"], TOL[dtype], "history loss")
    for i, (a, b) in enumerate(zip(inner.get_weights(), k_inner.get_weights(), strict=True)):
        check("nested fit inner weights", a, b, dtype, "training", label=f"weight {i}")
        _close(a, b, TOL[dtype], f"inner weight {i}")
