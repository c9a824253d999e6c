"""Keras-style entry points: ``scratchnn.models.Sequential`` and ``load_model``."""

from scratchnn.engine.model import Sequential
from scratchnn.engine.saving import load_model

__all__ = ["Sequential", "load_model"]
