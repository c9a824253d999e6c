"""Layers: the forward pass, and the backward pass written by hand.

One layer (or one family) per module, as in Keras's ``keras/src/layers/``; the protocol every
layer follows is in :mod:`scratchnn.layers.base`.  This package re-exports them all, so
``scratchnn.layers.Dense`` reads like ``keras.layers.Dense``.
"""

from __future__ import annotations

from scratchnn.layers.activation import Activation, ActivationLayer
from scratchnn.layers.activation_layers import LeakyReLU, ReLU, Softmax
from scratchnn.layers.base import Layer
from scratchnn.layers.batch_normalization import BatchNormalization
from scratchnn.layers.dense import Dense, kernel_gradient
from scratchnn.layers.dropout import Dropout
from scratchnn.layers.flatten import Flatten
from scratchnn.layers.input import Input, InputLayer
from scratchnn.layers.layer_normalization import LayerNormalization
from scratchnn.registry import Registry

__all__ = ["LAYERS", "Activation", "ActivationLayer", "BatchNormalization", "Dense", "Dropout",
           "Flatten", "Input", "InputLayer", "Layer", "LayerNormalization", "LeakyReLU", "ReLU",
           "Softmax", "deserialize", "kernel_gradient", "serialize"]

LAYERS: Registry[Layer] = Registry("layer", base=Layer, spec_key="class_name")
LAYERS.add(InputLayer, "InputLayer")
LAYERS.add(Flatten, "Flatten")
LAYERS.add(Activation, "Activation")
LAYERS.add(Dense, "Dense")
LAYERS.add(Dropout, "Dropout")
LAYERS.add(BatchNormalization, "BatchNormalization")
LAYERS.add(LayerNormalization, "LayerNormalization")
LAYERS.add(Softmax, "Softmax")
LAYERS.add(ReLU, "ReLU")
LAYERS.add(LeakyReLU, "LeakyReLU")


def serialize(layer: Layer) -> dict:
    """``{"class_name": ..., "config": ...}`` for saving."""
    return LAYERS.serialize(layer)


def deserialize(spec: dict) -> Layer:
    """Inverse of :func:`serialize`."""
    return LAYERS.deserialize(spec)
