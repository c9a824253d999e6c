"""Losses and gradients computed by TensorFlow, in the forms scratchnn computes them.

Which cross-entropy Keras computes depends on the *tensor* handed to the loss, not on a flag:
Keras's softmax caches its input on the output tensor (``output._keras_logits``,
``keras/src/activations/activations.py``) and the TensorFlow backend's cross-entropies use
those cached logits when present (``_get_logits`` in ``keras/src/backend/tensorflow/nn.py``),
computing ``tf.nn.softmax_cross_entropy_with_logits`` with no clipping.  A tensor *without*
the attribute — a NumPy array, the result of ``model.predict``, anything passed through another
op (``tf.identity``, a dtype cast) — gets the probability formula with the 1e-7 clip.

* In ``fit``/``evaluate`` (``train_step``/``test_step``) the loss receives the model's output
  tensor itself, so a softmax output layer trains on the fused loss.  With TensorFlow 2.21 the
  attribute is attached in eager mode too (an ``EagerTensor`` accepts it; tested in
  ``tests/parity/test_losses.py``), so eager ``loss(y, model(x))`` is fused as well.  Keras's
  softmax allows for tensor types that refuse the attribute (``except AttributeError``); with
  those, only graph tensors (inside ``tf.function``) take the fused path.  :func:`gradients`
  runs inside ``tf.function`` exactly like ``train_step``, so it reproduces ``fit`` either
  way.
* ``keras.losses.CategoricalCrossentropy()(y, probabilities_as_numpy)`` is the plain, clipped
  loss — what scratchnn's loss objects compute when called directly on probabilities.

The gradient of TensorFlow's fused ``softmax_cross_entropy_with_logits`` kernel with respect to
the logits is ``softmax(z) - y`` per sample, which is the derivative of the loss only when every
target row sums to one (TensorFlow documents this precondition).  scratchnn returns the true
derivative ``softmax(z) * sum(y) - y``; the two coincide for one-hot and probability targets,
the only ones the parity suite (and any sensible use) feeds.  With
``tf.config.experimental.enable_op_determinism()`` TensorFlow switches to a ``log_softmax``
composite whose gradient is the true derivative (see :func:`tfref.backend.configure`).

Gradients are sums over the batch and the units of products that both sides accumulate in
different orders (see :mod:`tfref.forward`).  Measured over the parity suite (``max_rel``):
parameter gradients 2.2e-6 in float32 and 5.3e-15 in float64, input gradients 1.3e-6 and
1.2e-15, the training loss 5.2e-7 and 7.5e-16.
"""

from __future__ import annotations

import weakref

import numpy as np

from .backend import dtype_name, keras_floatx, require_tf
from .convert import keras_loss

_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _model_dtype(keras_model) -> str:
    return dtype_name(keras_model.weights[0].dtype) if keras_model.weights else "float32"


def _targets(tf, y, dtype):
    y = np.asarray(y)
    if np.issubdtype(y.dtype, np.integer):
        return tf.constant(y)
    return tf.constant(y, dtype=dtype)


def _step_fn(keras_model, loss_fn, fused: bool, input_grad: bool):
    """A ``tf.function`` computing (loss, grads) as ``train_step`` does; cached per model."""
    tf, _ = require_tf()
    key = (id(loss_fn), fused, input_grad)
    per_model = _CACHE.setdefault(keras_model, {})
    if key in per_model:
        return per_model[key][1]

    @tf.function(reduce_retracing=True)
    def step(x, y):
        with tf.GradientTape() as tape:
            if input_grad:
                tape.watch(x)
            y_pred = keras_model(x, training=True)
            if not fused:
                y_pred = tf.identity(y_pred)  # drops the cached softmax logits
            if loss_fn is None:
                loss = keras_model.compute_loss(x=x, y=y, y_pred=y_pred, training=True)
            else:
                loss = loss_fn(y, y_pred)
        sources = list(keras_model.trainable_weights) + ([x] if input_grad else [])
        return loss, tape.gradient(loss, sources)

    per_model[key] = (loss_fn, step)  # keep loss_fn alive so its id stays unique
    return step


def gradients(keras_model, x, y, loss=None, *, input_grad: bool = False, fused: bool = True):
    """The batch-mean loss and its gradients, by ``tf.GradientTape``, as Keras's ``fit`` does.

    Parameters
    ----------
    keras_model : a built Keras model.
    x : inputs, shape (N, ...); cast to the model's dtype.
    y : targets: one-hot/dense (N, K) or integer labels (N,).
    loss : ``None`` — the loss the model was compiled with, through ``model.compute_loss`` (the
        very call ``train_step`` makes); or a Keras loss, a scratchnn loss, or a loss name
        (converted with :func:`tfref.convert.keras_loss` in the model's dtype).
    input_grad : also return ``dL/dx``, shape of ``x``.
    fused : ``True`` (default) hands the model's output tensor to the loss, as ``train_step``
        does: softmax + cross-entropy is computed from the logits, without clipping.
        ``False`` hands it a copy, which gives the plain clipped cross-entropy on
        probabilities.

    Returns
    -------
    ``(loss, grads)`` or ``(loss, grads, dx)``: ``loss`` a float, ``grads`` a list of NumPy
    arrays in ``keras_model.get_weights()`` order — the order of scratchnn's
    ``compute_gradients`` for a converted model.

    Computed inside ``tf.function`` with ``training=True``, under ``floatx`` = the model's dtype
    (see :mod:`tfref.backend`).
    """
    tf, _ = require_tf()
    dtype = _model_dtype(keras_model)
    with keras_floatx(dtype):
        loss_fn = None if loss is None else keras_loss(loss, dtype)
        if loss_fn is None and not getattr(keras_model, "compiled", False):
            raise ValueError("pass loss= or compile the Keras model first")
        step = _step_fn(keras_model, loss_fn, fused, input_grad)
        xt = tf.constant(np.asarray(x), dtype=dtype)
        value, grads = step(xt, _targets(tf, y, dtype))
    grads = [g.numpy() for g in grads]
    if input_grad:
        return float(value), grads[:-1], grads[-1]
    return float(value), grads


def loss_and_grad(loss, y_true, y_pred, *, fused: bool = False, dtype=None):
    """A Keras loss value and its gradient with respect to the prediction tensor.

    Parameters
    ----------
    loss : scratchnn loss, name, or Keras loss.
    y_true : targets (one-hot/dense (N, K) or integer labels (N,)).
    y_pred : predictions (N, K): probabilities (or logits for a ``from_logits`` loss); with
        ``fused=True``, the *logits* ``z`` that a softmax turns into the probabilities.
    fused : ``False`` — the plain call ``loss(y_true, tf.constant(y_pred))``, gradient
        ``dL/dy_pred``; ``True`` — ``loss(y_true, keras.activations.softmax(z))``, the path
        taken by a softmax output layer inside ``fit``, gradient ``dL/dz``.
    dtype : default ``y_pred``'s dtype.

    Returns
    -------
    ``(loss, grad)`` — a float and a NumPy array shaped like ``y_pred``.
    """
    tf, keras = require_tf()
    y_pred = np.asarray(y_pred)
    dtype = dtype_name(dtype or y_pred.dtype)
    with keras_floatx(dtype):
        loss_fn = keras_loss(loss, dtype)
        z = tf.constant(y_pred, dtype=dtype)
        yt = _targets(tf, y_true, dtype)
        with tf.GradientTape() as tape:
            tape.watch(z)
            pred = keras.activations.softmax(z) if fused else z
            value = loss_fn(yt, pred)
        grad = tape.gradient(value, z)
    return float(value), grad.numpy()
