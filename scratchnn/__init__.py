"""scratchnn: dense neural networks with hand-written NumPy backprop and a Keras-shaped API.

    import scratchnn as snn
    model = snn.Sequential([snn.layers.Flatten(input_shape=(28, 28)),
                            snn.layers.Dense(512, activation="relu"),
                            snn.layers.Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
"""

from scratchnn import (
    activations,
    callbacks,
    config,
    datasets,
    gradcheck,
    initializers,
    layers,
    losses,
    metrics,
    models,
    optimizers,
    regularizers,
    saving,
    utils,
)
from scratchnn.engine.model import NonFiniteLossError, Sequential
from scratchnn.engine.saving import ModelFileError, load_model
from scratchnn.layers import Input  # keras.Input

__version__ = "0.1.0"

__all__ = [
    "Input",
    "ModelFileError",
    "NonFiniteLossError",
    "Sequential",
    "activations",
    "callbacks",
    "config",
    "datasets",
    "gradcheck",
    "initializers",
    "layers",
    "load_model",
    "losses",
    "metrics",
    "models",
    "optimizers",
    "regularizers",
    "saving",
    "utils",
]
