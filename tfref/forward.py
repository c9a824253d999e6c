"""Every intermediate of a forward pass, on both sides, under the same names.

For a model ``[Flatten, Dense(relu), Dense(softmax)]`` both functions return (insertion-ordered)::

    {"flatten": ..., "dense/z": ..., "dense": ..., "dense_1/z": ..., "dense_1": ...}

where ``"<layer>/z"`` is a Dense layer's pre-activation ``x W + b`` (its logits) and
``"<layer>"`` the layer's output.  The last entry is the model's output (the probabilities for
a softmax classifier).  Layers are matched by position, so the names are the scratchnn layer
names on both sides (``tfref.to_keras`` keeps them anyway).

Why the two sides are not bit-identical: a Dense layer's ``x @ W`` sums ``D`` products per
output entry, and NumPy's BLAS and TensorFlow's CPU kernels (Eigen, or oneDNN when enabled) add
them in different orders (blocking, SIMD lanes, threads); the element-wise functions
(``exp``, ``tanh``, the sigmoid) are different approximations, correct to a few units in the
last place.  Measured over the parity suite (``max_rel``, see :mod:`tfref.compare`):
pre-activations 1.4e-6 in float32 and 1.7e-15 in float64, layer outputs 8.3e-7 and 1.6e-15.
"""

from __future__ import annotations

import numpy as np

from scratchnn.backend import to_numpy

from .backend import dtype_name, keras_floatx, require_tf


def scratchnn_trace(model, x) -> dict[str, np.ndarray]:
    """Intermediates of scratchnn ``model`` on ``x`` (inference mode, ``training=False``); a
    nested ``Sequential`` contributes its own entries, prefixed ``"<name>/"``, then its output
    under its name.  The input is moved to the model's backend (:meth:`on_backend`); every
    entry is a NumPy copy."""
    out: dict[str, np.ndarray] = {}
    (h,) = model.on_backend(model.prepare_inputs(x))
    _trace_layers(model.layers, h, out, "")
    return out


def _trace_layers(layers, h, out: dict, prefix: str):
    for layer in layers:
        if hasattr(layer, "leaf_layers"):  # a nested Sequential
            h = _trace_layers(layer.layers, h, out, f"{prefix}{layer.name}/")
        elif hasattr(layer, "forward_logits") and hasattr(layer, "units"):
            z = layer.forward_logits(h, training=False)
            out[f"{prefix}{layer.name}/z"] = np.array(to_numpy(z), copy=True)
            h = layer.activation.forward(z)
        else:
            h = layer.forward(h, training=False)
        out[f"{prefix}{layer.name}"] = np.array(to_numpy(h), copy=True)
    return h


def keras_trace(keras_model, x, names: list[str] | None = None) -> dict[str, np.ndarray]:
    """Intermediates of ``keras_model`` on ``x``, computed eagerly layer by layer.

    ``names`` (one per layer, default the Keras layer names) label the entries, so that a
    converted model's trace lines up with :func:`scratchnn_trace`.  The pre-activation of a
    Dense layer is ``x @ kernel + bias`` with ``keras.ops`` — the first two operations of
    ``keras.layers.Dense.call``.
    """
    tf, keras = require_tf()
    layers = [la for la in keras_model.layers if not isinstance(la, keras.layers.InputLayer)]
    names = names or [la.name for la in layers]
    if len(names) != len(layers):
        raise ValueError(f"got {len(names)} names for {len(layers)} layers")
    dtype = dtype_name(keras_model.weights[0].dtype) if keras_model.weights else "float32"
    out: dict[str, np.ndarray] = {}
    with keras_floatx(dtype):
        _keras_trace_layers(keras, zip(names, layers),
                            tf.constant(np.asarray(x), dtype=dtype), out, "")
    return out


def _keras_trace_layers(keras, named_layers, h, out: dict, prefix: str):
    for name, layer in named_layers:
        if isinstance(layer, keras.Sequential):  # nested: its own entries, as scratchnn_trace
            inner = [la for la in layer.layers if not isinstance(la, keras.layers.InputLayer)]
            h = _keras_trace_layers(keras, [(la.name, la) for la in inner], h, out,
                                    f"{prefix}{name}/")
            out[f"{prefix}{name}"] = np.asarray(h)
            continue
        if isinstance(layer, keras.layers.Dense):
            z = keras.ops.matmul(h, layer.kernel)
            if layer.use_bias:
                z = keras.ops.add(z, layer.bias)
            out[f"{prefix}{name}/z"] = np.asarray(z)
        h = layer(h, training=False)
        out[f"{prefix}{name}"] = np.asarray(h)
    return h
