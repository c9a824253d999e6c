"""Forward pass: every layer's pre-activation and output, ``predict`` and ``evaluate``.

Each model is built in scratchnn with seeded random weights (non-zero biases) and copied into
Keras with ``tfref.to_keras``; both then see the same inputs.
"""

from __future__ import annotations

import numpy as np
import pytest
from parity_helpers import build, targets

import tfref

ARCHS = {
    "tutorial-784-512-10": ((28, 28), [("flatten",), ("dense", 512, "relu"),
                                       ("dense", 10, "softmax")], "categorical_crossentropy"),
    "odd-widths-tanh-sigmoid": ((13,), [("dense", 7, "tanh"), ("dense", 3, "sigmoid"),
                                        ("dense", 5, "softmax")],
                                "sparse_categorical_crossentropy"),
    "width-1-regression": ((1,), [("dense", 1, "relu"), ("dense", 1, "linear")],
                           "mean_squared_error"),
    "activation-layers": ((6,), [("dense", 9, "linear"), ("act", "tanh"), ("dense", 4, None),
                                 ("act", "softmax")], "categorical_crossentropy"),
    "image-input-sigmoid-mse": ((4, 5), [("flatten",), ("dense", 3, "sigmoid")],
                                "mean_squared_error"),
}


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("arch", list(ARCHS))
def test_forward_predict_evaluate(arch, dtype, seed, check, tf):
    input_shape, spec, loss = ARCHS[arch]
    rng = np.random.default_rng(seed)
    classify = loss != "mean_squared_error"
    model = build(spec, input_shape, dtype, rng, loss=loss,
                  metrics=["accuracy"] if classify else None)
    keras_model = tfref.to_keras(model)
    names = [layer.name for layer in model.layers]
    k = model.output_shape[-1]
    label = f"[{arch} {dtype} seed={seed}]"

    for n in (1, 7, 33):
        x = rng.standard_normal((n, *input_shape)).astype(dtype)
        ours = tfref.scratchnn_trace(model, x)
        theirs = tfref.keras_trace(keras_model, x, names)
        assert list(ours) == list(theirs)
        for key in ours:
            kind = "pre-activation" if key.endswith("/z") else "layer output"
            check(f"forward {kind}", ours[key], theirs[key], dtype, label=f"{label} n={n} {key}")
            assert ours[key].dtype == np.dtype(dtype) == theirs[key].dtype
        check("forward model output", ours[key], theirs[key], dtype, label=f"{label} n={n}")

    # predict and evaluate in batches of 7: the last batch of 33 samples is ragged (5)
    x = rng.standard_normal((33, *input_shape)).astype(dtype)
    y = targets(loss, 33, k, dtype, rng)
    with tfref.keras_floatx(dtype):
        k_pred = keras_model.predict(x, batch_size=7, verbose=0)
        k_eval = keras_model.evaluate(x, y, batch_size=7, verbose=0)
    check("predict", model.predict(x, batch_size=7, verbose=0), k_pred, dtype, label=label)
    ours_eval = model.evaluate(x, y, batch_size=7, verbose=0)
    k_eval = np.atleast_1d(k_eval)
    ours_eval = np.atleast_1d(ours_eval)
    check("evaluate loss", ours_eval[0], k_eval[0], dtype, label=label)
    if classify:
        check("evaluate accuracy", ours_eval[1], k_eval[1], dtype, label=label)
