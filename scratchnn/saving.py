"""Keras-style import path (``keras.saving``): ``scratchnn.saving.load_model`` and friends.

The model file format lives in :mod:`scratchnn.engine.saving` and
:mod:`scratchnn.engine.model_file`.
"""

from scratchnn.engine.saving import (
    ModelFileError,
    load_model,
    load_weights,
    save_model,
    save_weights,
)

__all__ = ["ModelFileError", "load_model", "load_weights", "save_model", "save_weights"]
