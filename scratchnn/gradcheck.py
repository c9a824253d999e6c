r"""Finite-difference gradient checks (in the style of cs231n's ``gradient_check.py``).

For a function :math:`f` with analytic vector-Jacobian product, pick a random upstream gradient
:math:`u` and compare the analytic :math:`\partial (u \cdot f)/\partial \theta` with central
differences

.. math:: \frac{u \cdot f(\theta + h e_i) - u \cdot f(\theta - h e_i)}{2h}

in float64.  The error reported is ``rel_error(a, b) = max|a - b| / max(1e-8, max(|a| + |b|))``.

* :func:`check_layer` — a layer's input gradient and every parameter gradient;
* :func:`check_loss` — a loss's gradient with respect to its prediction input;
* :func:`check_model` — a compiled model's parameter (and input) gradients of its batch loss,
  through the same code path as training (fused softmax + cross-entropy included).

The perturbed arrays may live in any array-API namespace (:mod:`scratchnn.backend`): elements
are changed in place with ``x[i] = ...`` (so a layer's own weights can be perturbed), the
differences are collected in a NumPy float64 array, and errors are computed in NumPy.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from scratchnn.backend import is_numpy, namespace, to_numpy


def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    """``max|a-b| / max(1e-8, max(|a|+|b|))`` — 0 for identical arrays."""
    a, b = to_numpy(a).astype(np.float64), to_numpy(b).astype(np.float64)
    return float(np.max(np.abs(a - b)) / max(1e-8, float(np.max(np.abs(a) + np.abs(b)))))


def numerical_gradient(f: Callable[[], float], x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Central-difference gradient of scalar ``f()`` with respect to array ``x`` (modified in
    place during the computation and restored afterwards)."""
    numpy = is_numpy(x)
    grad = np.zeros(tuple(x.shape), dtype=np.float64)
    for i in np.ndindex(*x.shape):
        # NumPy indexing gives a scalar copy; other libraries' may give a view: copy it
        old = x[i] if numpy else namespace(x).asarray(x[i], copy=True)
        x[i] = old + h
        fp = f()
        x[i] = old - h
        fm = f()
        x[i] = old
        grad[i] = (fp - fm) / (2 * h)
    return grad


def _device(x):
    import array_api_compat  # only needed for other array libraries

    return array_api_compat.device(x)


def check_layer(layer, x: np.ndarray, seed: int = 0, h: float = 1e-6,
                training: bool = False) -> dict[str, float]:
    """Relative errors of ``layer.backward`` against finite differences, for 'x' and each
    parameter.  ``layer`` must be built in float64 (it is built on ``x`` if not).  The
    finite differences run ``forward(x, training=training)``: pass ``training=True`` for a
    layer whose training forward differs (batch statistics; dropout with ``fixed_mask``).

    ``x`` may be an array of any array-API library: the layer then computes there (one not
    yet built is built in NumPy and moved there, :meth:`scratchnn.layers.Layer.to_namespace`).
    """
    numpy = is_numpy(x) or isinstance(x, (list, tuple))
    xp = np if numpy else namespace(x)
    x = np.array(x, dtype=np.float64) if numpy else xp.asarray(x, dtype=xp.float64, copy=True)
    if not layer.built:
        layer.build(tuple(x.shape[1:]), np.float64, np.random.default_rng(seed))
        if not numpy:
            layer.to_namespace(xp, _device(x))
    rng = np.random.default_rng(seed)
    out = layer.forward(x, training=True)
    u_numpy = rng.standard_normal(tuple(out.shape))
    u = u_numpy.copy() if numpy else xp.asarray(u_numpy, device=_device(x))
    dx = layer.backward(u)
    if not np.array_equal(to_numpy(u), u_numpy):
        raise AssertionError(f"{layer.name}.backward modified dout in place")
    analytic = {"x": dx}
    analytic.update({k: xp.asarray(g, copy=True) for k, g in layer.grads.items()})

    def f() -> float:
        return float(xp.sum(layer.forward(x, training=training) * u))

    errors = {"x": rel_error(analytic["x"], numerical_gradient(f, x, h))}
    for key, p in layer.params.items():
        errors[key] = rel_error(analytic[key], numerical_gradient(f, p, h))
    return errors


def check_loss(loss, y_true: np.ndarray, y_pred: np.ndarray, h: float = 1e-6) -> float:
    """Relative error of ``loss.backward()`` against finite differences of ``loss.forward``."""
    y_pred = np.array(y_pred, dtype=np.float64)
    loss.forward(y_true, y_pred)
    analytic = loss.backward()
    numeric = numerical_gradient(lambda: loss.forward(y_true, y_pred), y_pred, h)
    return rel_error(analytic, numeric)


def check_model(model, x: np.ndarray, y: np.ndarray, h: float = 1e-6,
                training: bool = False) -> dict[str, float]:
    """Relative errors of ``model.compute_gradients`` (every trainable weight, and 'x') against
    finite differences of the model's batch loss (``compute_loss(training=training)``: pass
    ``training=True`` for models with batch normalization or dropout, the latter with
    ``fixed_mask`` set).  The model must be float64 and compiled."""
    x = np.array(x, dtype=np.float64)
    _, grads, dx = model.compute_gradients(x, y, return_input_grad=True)
    if model.dtype != np.float64:
        raise ValueError("gradient checks need a float64 model (Sequential(..., dtype='float64'))")
    _, targets = model.prepare_data(x, y)  # validated once, not at every perturbation

    def f() -> float:
        # the training loss, through the same head
        return model.compute_loss(x, targets, training=training)

    errors = {"x": rel_error(dx, numerical_gradient(f, x, h))}
    for i, (w, g) in enumerate(zip(model.trainable_weights, grads)):
        errors[f"weight{i}"] = rel_error(g, numerical_gradient(f, w, h))
    return errors
