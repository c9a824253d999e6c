"""Pieces shared by the subcommands: loading MNIST and preprocessing it the way a model
was trained (the recipe is stored in ``model.metadata["preprocess"]`` and saved with it)."""

from __future__ import annotations

import numpy as np

from ..datasets import mnist
from ..utils import normalize, standardize

PREPROCESSING = ("scale", "l2", "standardize")


def fit_preprocessing(kind: str, x_train: np.ndarray) -> dict:
    """The recipe for ``kind`` ('scale' = x/255, 'l2' = row L2 normalization, 'standardize' =
    (x - mean)/std with the training set's scalar statistics)."""
    if kind not in PREPROCESSING:
        raise ValueError(f"unknown preprocessing {kind!r}; choose one of {PREPROCESSING}")
    recipe: dict = {"kind": kind}
    if kind == "standardize":
        _, mean, std = standardize(x_train.reshape(len(x_train), -1).astype(np.float64),
                                   return_stats=True)
        recipe.update(mean=float(mean), std=float(std))
    return recipe


def apply_preprocessing(recipe: dict, x: np.ndarray, dtype="float32") -> np.ndarray:
    """Apply a recipe from :func:`fit_preprocessing` to uint8 images (N, 28, 28)."""
    kind = recipe.get("kind", "scale")
    x = np.asarray(x)
    if kind == "scale":
        return (x / 255.0).astype(dtype)
    if kind == "l2":
        flat = normalize(x.reshape(len(x), -1).astype(np.float64), axis=-1, order=2)
        return flat.reshape(x.shape).astype(dtype)
    if kind == "standardize":
        return ((x - recipe["mean"]) / recipe["std"]).astype(dtype)
    raise ValueError(f"unknown preprocessing {kind!r} in model metadata")


def load_mnist(path: str | None):
    return mnist.load_data(path)
