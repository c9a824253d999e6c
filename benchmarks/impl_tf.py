"""The benchmark operations in TensorFlow / Keras 3, on the CPU or, as ``tf-gpu``, on CUDA.

Two ways of training are timed: Keras's own ``model.fit`` (framework ``tf``), and a loop over a
``tf.function``-compiled train step (framework ``tf-function``, the fastest hand-written TF
training loop: gather, forward, loss, gradient, Adam and the accuracy metric in one graph).
The single operations run as ``tf.function`` graphs too, so that Python overhead does not
count against TensorFlow.

On CUDA, TF32 tensor-core math (TensorFlow's default on Ampere and later) is turned off, so
that every framework multiplies in true float32, as the GPU peak is measured.
"""

from __future__ import annotations

import os

import numpy as np

from .config import INPUT_DIM
from .data import Data

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

name = "tf"


def available(device: str = "cpu") -> bool:
    try:
        import tensorflow as tf
    except ImportError:
        return False
    return device == "cpu" or bool(tf.config.list_physical_devices("GPU"))


def _device(device: str) -> str:
    return "/GPU:0" if device == "cuda" else "/CPU:0"


def build(widths: tuple[int, ...]):
    import keras

    return tutorial_keras_model(keras, widths)


def tutorial_keras_model(keras, widths: tuple[int, ...]):
    """``784 -> widths (ReLU) -> 10 (softmax)``, Adam(1e-3), sparse CE, accuracy; seed 0, built
    with the ``keras`` module given (Keras on TensorFlow here, on JAX in impl_keras_jax)."""
    keras.utils.set_random_seed(0)
    layers = [keras.Input((INPUT_DIM,))]
    layers += [keras.layers.Dense(u, activation="relu") for u in widths]
    layers.append(keras.layers.Dense(10, activation="softmax"))
    model = keras.Sequential(layers)
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def _train_step_fn(model):
    """A compiled step like Keras's own: forward, loss, gradients, Adam, accuracy."""
    import keras
    import tensorflow as tf

    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    acc = keras.metrics.SparseCategoricalAccuracy()
    opt = model.optimizer

    @tf.function(jit_compile=False)
    def step(x, y):
        with tf.GradientTape() as tape:
            probs = model(x, training=True)
            loss = loss_fn(y, probs)
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
        acc.update_state(y, probs)
        return loss
    return step


def make(op: str, batch: int, widths: tuple[int, ...], data: Data, device: str = "cpu"):
    import tensorflow as tf

    if device == "cuda":
        tf.config.experimental.enable_tensor_float_32_execution(False)
    with tf.device(_device(device)):
        return _make(op, batch, widths, data, device)


def _make(op, batch, widths, data, device):
    import keras
    import tensorflow as tf

    model = build(widths)
    reps = -(-batch // len(data.x_train))
    xn = np.tile(data.x_train, (reps, 1))[:batch] if reps > 1 else data.x_train[:batch]
    yn = np.tile(data.y_train, reps)[:batch] if reps > 1 else data.y_train[:batch]
    x, y = tf.constant(xn), tf.constant(yn)

    def synced(fn):
        def run():
            out = fn()
            if out is not None:  # wait for the result (matters on a GPU)
                tf.nest.map_structure(lambda t: t.numpy() if hasattr(t, "numpy") else t, out)
            return out
        return run

    dense = model.layers[0]
    if op == "dense_forward":
        return synced(tf.function(lambda: dense(x, training=True)))
    if op == "dense_backward":
        # What TensorFlow's registered gradients of MatMul, BiasAdd and Relu execute.
        kernel = dense.kernel.value if hasattr(dense.kernel, "value") else dense.kernel
        a = tf.constant(dense(x).numpy())
        dout = tf.random.stateless_normal(a.shape, seed=(1, 2))

        @tf.function
        def backward():
            dz = tf.raw_ops.ReluGrad(gradients=dout, features=a)
            dw = tf.linalg.matmul(x, dz, transpose_a=True)
            db = tf.raw_ops.BiasAddGrad(out_backprop=dz)
            dx = tf.linalg.matmul(dz, kernel, transpose_b=True)
            return dw, db, dx
        return synced(backward)
    if op == "softmax_ce":
        logits = tf.random.stateless_normal((batch, 10), seed=(1, 2))
        loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

        @tf.function
        def ce():
            with tf.GradientTape() as tape:
                tape.watch(logits)
                loss = loss_fn(y, logits)
            return tape.gradient(loss, logits)
        return synced(ce)
    if op == "adam":
        with tf.GradientTape() as tape:
            loss = keras.losses.SparseCategoricalCrossentropy()(y, model(x, training=True))
        grads = [tf.constant(g) for g in tape.gradient(loss, model.trainable_variables)]
        opt, variables = model.optimizer, model.trainable_variables

        @tf.function
        def adam():
            opt.apply_gradients(zip(grads, variables))
            return opt.iterations
        return synced(adam)
    if op == "train_step":
        step = _train_step_fn(model)
        return synced(lambda: step(x, y))
    if op == "predict":
        model.predict(data.x_test[:batch], batch_size=batch, verbose=0)  # trace once
        return lambda: model.predict(data.x_test, batch_size=batch, verbose=0)
    if op == "epoch":
        # Warm up: trace the train function for full and partial batches, outside the timing.
        n_warm = 2 * batch + len(data.x_train) % batch
        model.fit(data.x_train[:n_warm], data.y_train[:n_warm], batch_size=batch, epochs=1,
                  verbose=0)
        return lambda: model.fit(data.x_train, data.y_train, batch_size=batch, epochs=1,
                                 verbose=0)
    if op == "epoch_function":
        return _epoch_function(model, batch, data)
    raise ValueError(f"unknown op {op!r}")


def _epoch_function(model, batch, data):
    """An epoch as a Python loop over a compiled step that gathers its own shuffled batch."""
    import keras
    import tensorflow as tf

    xs, ys = tf.constant(data.x_train), tf.constant(data.y_train)
    n = len(data.x_train)
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    acc = keras.metrics.SparseCategoricalAccuracy()
    opt = model.optimizer

    @tf.function(input_signature=[tf.TensorSpec([None], tf.int64)])
    def step(idx):
        x, y = tf.gather(xs, idx), tf.gather(ys, idx)
        with tf.GradientTape() as tape:
            probs = model(x, training=True)
            loss = loss_fn(y, probs)
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
        acc.update_state(y, probs)
        return loss

    rng = np.random.default_rng(0)
    step(tf.constant(np.arange(batch), dtype=tf.int64))  # trace outside the timing

    def epoch():
        order = rng.permutation(n)
        loss = None
        for lo in range(0, n, batch):
            loss = step(tf.constant(order[lo:lo + batch], dtype=tf.int64))
        return float(loss), float(acc.result())
    return epoch
