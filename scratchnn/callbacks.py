"""Keras-style import path for the callbacks (``scratchnn.callbacks.EarlyStopping``, ...).

They live in :mod:`scratchnn.engine.callbacks`, beside the training loop that calls them.
"""

from scratchnn.engine.callbacks import (
    Callback,
    CallbackList,
    EarlyStopping,
    History,
    LearningRateScheduler,
    ModelCheckpoint,
    ProgbarLogger,
    TerminateOnNaN,
)

__all__ = [
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "History",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "ProgbarLogger",
    "TerminateOnNaN",
]
