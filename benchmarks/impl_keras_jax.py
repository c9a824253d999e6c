"""The benchmark operations in Keras 3 on the JAX backend (``keras-jax``, ``keras-jax-gpu``).

The same network and operations as :mod:`benchmarks.impl_tf`, written the JAX way: every
single operation and the train step are ``jax.jit``-compiled pure functions of explicit state,
through Keras's stateless API (the idiom of Keras's guide "Customizing what happens in fit()
with JAX"):

* forward   -- ``layer.stateless_call(trainable, non_trainable, x)``;
* train step -- ``jax.value_and_grad`` of ``model.stateless_call`` + the loss, then
  ``optimizer.stateless_apply(opt_vars, grads, trainable)`` (Adam) and
  ``metric.stateless_update_state(metric_vars, y, probs)`` (accuracy), the state returned and
  fed back in (its buffers donated);
* epoch     -- Keras's own ``model.fit`` (jit-compiled on this backend), warmed up first.

Keras picks its backend once, at its first import, so this backend cannot share a process with
TensorFlow's Keras: importing this module sets ``KERAS_BACKEND=jax`` and :func:`make` refuses
to run when Keras was already imported with another backend.  The report runs every framework
in its own process (``pytest benchmarks/test_bench.py`` with ``SCRATCHNN_BENCH_FRAMEWORK``), so
``keras-jax`` is timed by the same pytest-benchmark method and rounds as the others.

``python -m benchmarks.impl_keras_jax`` reads a JSON object ``{"x": [[...]], "widths": [h]}``
on stdin and prints ``{"backend", "kernel", "bias", "out"}``: the first Dense layer's weights
and its forward output ``relu(x W + b)`` computed by this module's jitted forward -- a
correctness check from a process of its own (``tests/test_bench_keras_jax.py``).

On CUDA, matrix products run in true float32 (``jax_default_matmul_precision="highest"``:
no TF32), as the GPU peak is measured.
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np

from .data import Data
from .impl_tf import tutorial_keras_model

os.environ["KERAS_BACKEND"] = "jax"  # before any import of keras in this process

name = "keras-jax"


def available(device: str = "cpu") -> bool:
    """jax installed and, for ``device="cuda"``, a GPU visible to it."""
    try:
        import jax
    except ImportError:
        return False
    if device == "cpu":
        return True
    try:
        return bool(jax.devices("gpu"))
    except RuntimeError:  # no GPU backend
        return False


def _keras():
    """Keras, imported on the JAX backend (ValueError when another backend got there first)."""
    import keras

    if keras.backend.backend() != "jax":
        raise ValueError(f"Keras was imported with the {keras.backend.backend()!r} backend in "
                         "this process; keras-jax needs a process of its own")
    return keras


def _configure(device: str) -> None:
    import jax

    if device == "cpu":
        jax.config.update("jax_platforms", "cpu")
    else:
        jax.config.update("jax_default_matmul_precision", "highest")  # TF32 off


def build(widths: tuple[int, ...]):
    """``784 -> widths (ReLU) -> 10 (softmax)``, Adam(1e-3), sparse CE, accuracy; seed 0."""
    return tutorial_keras_model(_keras(), widths)


def _synced(fn):
    """``fn`` followed by waiting for its result (asynchronous dispatch, matters on a GPU)."""
    import jax

    def run():
        return jax.block_until_ready(fn())
    return run


def _batch(data: Data, batch: int):
    reps = -(-batch // len(data.x_train))
    xn = np.tile(data.x_train, (reps, 1))[:batch] if reps > 1 else data.x_train[:batch]
    yn = np.tile(data.y_train, reps)[:batch] if reps > 1 else data.y_train[:batch]
    import jax.numpy as jnp

    return jnp.asarray(xn), jnp.asarray(yn)


def forward_fn(dense):
    """Jitted ``relu(x W + b)`` of a built Dense layer: ``f(trainable, x) -> (batch, units)``."""
    import jax

    return jax.jit(lambda trainable, x: dense.stateless_call(trainable, [], x)[0])


def _values(variables) -> list:
    return [v.value for v in variables]


def train_step_fn(model):
    """The JAX train step: ``step(state, x, y) -> (loss, state)``, state = (trainable,
    non-trainable, optimizer, metric) variable values; compiled, state buffers donated."""
    import jax

    keras = _keras()
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    metric = keras.metrics.SparseCategoricalAccuracy()
    opt = model.optimizer
    opt.build(model.trainable_variables)

    def loss_and_updates(trainable, non_trainable, x, y):
        probs, non_trainable = model.stateless_call(trainable, non_trainable, x, training=True)
        return loss_fn(y, probs), (probs, non_trainable)

    grad_fn = jax.value_and_grad(loss_and_updates, has_aux=True)

    def step(state, x, y):
        trainable, non_trainable, opt_vars, metric_vars = state
        (loss, (probs, non_trainable)), grads = grad_fn(trainable, non_trainable, x, y)
        trainable, opt_vars = opt.stateless_apply(opt_vars, grads, trainable)
        metric_vars = metric.stateless_update_state(metric_vars, y, probs)
        return loss, (trainable, non_trainable, opt_vars, metric_vars)

    state = (_values(model.trainable_variables), _values(model.non_trainable_variables),
             _values(opt.variables), _values(metric.variables))
    return jax.jit(step, donate_argnums=0), state


def _stateful(fn, state):
    """A zero-argument call of ``fn(state) -> (result, state)`` that keeps the new state."""
    box = [state]

    def run():
        result, box[0] = fn(box[0])
        return result
    return _synced(run)


def make(op: str, batch: int, widths: tuple[int, ...], data: Data, device: str = "cpu"):
    """A zero-argument callable doing one ``op`` (see :mod:`benchmarks.config`)."""
    _configure(device)
    model = build(widths)
    x, y = _batch(data, batch)
    dense = model.layers[0]
    if op == "dense_forward":
        forward, trainable = forward_fn(dense), _values(dense.trainable_variables)
        return _synced(lambda: forward(trainable, x))
    if op == "dense_backward":
        return _dense_backward(dense, x)
    if op == "softmax_ce":
        return _softmax_ce(batch, y)
    if op == "adam":
        return _adam(model, x, y)
    if op == "train_step":
        step, state = train_step_fn(model)
        return _stateful(lambda s: step(s, x, y), state)
    if op == "predict":
        model.predict(data.x_test[:batch], batch_size=batch, verbose=0)  # compile once
        return lambda: model.predict(data.x_test, batch_size=batch, verbose=0)
    if op == "epoch":
        # Warm up: compile the train function for full and partial batches, outside the timing.
        n_warm = 2 * batch + len(data.x_train) % batch
        model.fit(data.x_train[:n_warm], data.y_train[:n_warm], batch_size=batch, epochs=1,
                  verbose=0)
        return lambda: model.fit(data.x_train, data.y_train, batch_size=batch, epochs=1,
                                 verbose=0)
    raise ValueError(f"unknown op {op!r}")


def _dense_backward(dense, x):
    """``dz = dout * (a > 0)``, ``dW = xᵀ dz``, ``db = Σ_rows dz``, ``dx = dz Wᵀ`` (jitted):
    what the gradients of TF's ReluGrad/MatMul/BiasAddGrad compute in :mod:`impl_tf`."""
    import jax
    import jax.numpy as jnp

    kernel = dense.kernel.value
    a = forward_fn(dense)(_values(dense.trainable_variables), x)
    dout = jax.random.normal(jax.random.key(1), a.shape, dtype=a.dtype)

    @jax.jit
    def backward(x, a, dout, kernel):
        dz = jnp.where(a > 0, dout, 0.0)
        return x.T @ dz, dz.sum(axis=0), dz @ kernel.T
    return _synced(lambda: backward(x, a, dout, kernel))


def _softmax_ce(batch: int, y):
    """Gradient of sparse cross-entropy (from logits) w.r.t. (batch, 10) logits, jitted."""
    import jax

    keras = _keras()
    logits = jax.random.normal(jax.random.key(1), (batch, 10))
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    grad = jax.jit(jax.grad(lambda logits, y: loss_fn(y, logits)))
    return _synced(lambda: grad(logits, y))


def _adam(model, x, y):
    """One ``optimizer.stateless_apply`` of fixed gradients to every parameter, jitted."""
    import jax

    keras = _keras()
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    opt = model.optimizer
    opt.build(model.trainable_variables)
    trainable = _values(model.trainable_variables)
    non_trainable = _values(model.non_trainable_variables)

    def loss(trainable):
        return loss_fn(y, model.stateless_call(trainable, non_trainable, x, training=True)[0])

    grads = jax.jit(jax.grad(loss))(trainable)

    @jax.jit
    def apply(state):
        trainable, opt_vars = opt.stateless_apply(state[1], grads, state[0])
        return opt_vars[0], (trainable, opt_vars)  # (iterations, new state)
    return _stateful(apply, (trainable, _values(opt.variables)))


def check_forward(request: dict) -> dict:
    """The forward check: ``{"x", "widths"}`` -> ``{"backend", "kernel", "bias", "out"}``."""
    x = np.asarray(request["x"], dtype=np.float32)
    _configure("cpu")
    dense = build(tuple(request["widths"])).layers[0]
    out = forward_fn(dense)(_values(dense.trainable_variables), x)
    return {"backend": _keras().backend.backend(),
            "kernel": np.asarray(dense.kernel.value).tolist(),
            "bias": np.asarray(dense.bias.value).tolist(), "out": np.asarray(out).tolist()}


if __name__ == "__main__":
    print(json.dumps(check_forward(json.load(sys.stdin))))
