r"""Preprocessing recipes for image data, and the recipe a model carries with it.

A *recipe* is a small JSON-able dict that says how raw uint8 pixels (0..255) become the
network's input.  It is fitted on the training images only and then applied unchanged to the
validation, test and user images, so that every image the model sees was transformed the same
way:

* ``{"kind": "scale"}``: :math:`x' = x / 255` (values in [0, 1]);
* ``{"kind": "l2"}``: each image flattened to a row :math:`r` of length D and divided by its
  Euclidean norm, :math:`r' = r / \lVert r \rVert_2` (unit-length rows);
* ``{"kind": "standardize", "mean": mu, "std": sigma}``: :math:`x' = (x - \mu) / \sigma` with
  the training set's scalar mean and standard deviation over all pixels.

A model trained on preprocessed data stores its recipe in
``model.metadata["preprocess"]`` (:func:`model_metadata`), which is saved with the model, so
that ``evaluate``, ``report`` and ``predict`` preprocess new images as the training images
were (:func:`model_recipe`, :func:`model_input`).  A model without one gets
:data:`DEFAULT_RECIPE` (pixels/255).
"""

from __future__ import annotations

import math

import numpy as np

from scratchnn.utils import normalize, standardize
from scratchnn.workflow.datastats import PixelStats, pixel_stats

__all__ = ["PREPROCESSING", "DEFAULT_RECIPE", "RECIPE_NAMES", "fit_preprocessing",
           "apply_preprocessing", "recipe_pixel_stats", "model_metadata", "model_recipe",
           "model_input"]

#: The recipe kinds, in the order the command line lists them.
PREPROCESSING = ("scale", "l2", "standardize")

#: The recipe of a model saved without one: pixels/255.
DEFAULT_RECIPE = {"kind": "scale"}

#: Short names of the recipes for tables and figure legends.
RECIPE_NAMES = {"scale": "x/255", "l2": "L2 rows", "standardize": "standardized"}


def fit_preprocessing(kind: str, x_train: np.ndarray) -> dict:
    """The recipe for ``kind`` fitted on the training images ``x_train`` (N, ...).

    'scale' = x/255, 'l2' = row L2 normalization, 'standardize' = (x - mean)/std with the
    training set's scalar statistics (stored in the recipe as Python floats)."""
    if kind not in PREPROCESSING:
        raise ValueError(f"unknown preprocessing {kind!r}; choose one of {PREPROCESSING}")
    recipe: dict = {"kind": kind}
    if kind == "standardize":
        _, mean, std = standardize(x_train.reshape(len(x_train), -1).astype(np.float64),
                                   return_stats=True)
        recipe.update(mean=float(mean), std=float(std))
    return recipe


def _check_standardize(recipe: dict) -> None:
    mean, std = recipe.get("mean"), recipe.get("std")
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (mean, std))
    if not (numbers and math.isfinite(mean) and math.isfinite(std) and std > 0):
        raise ValueError("the model's 'standardize' preprocessing needs a finite 'mean' and a "
                         f"positive 'std', got mean={mean!r}, std={std!r}")


def apply_preprocessing(recipe: dict, x: np.ndarray, dtype="float32") -> np.ndarray:
    """Apply a recipe from :func:`fit_preprocessing` to uint8 images (N, 28, 28).

    Returns an array of the same shape and the given ``dtype``.  A recipe read from a model
    file is checked: a dict whose ``kind`` is one of :data:`PREPROCESSING` (missing: 'scale'),
    with finite ``mean`` and positive ``std`` for 'standardize'."""
    if not isinstance(recipe, dict):
        raise ValueError(f"the model's preprocessing recipe must be a dict, got {recipe!r}")
    kind = recipe.get("kind", "scale")
    if kind == "standardize":
        _check_standardize(recipe)
    x = np.asarray(x)
    if kind == "scale":
        return (x / 255.0).astype(dtype)
    if kind == "l2":
        flat = normalize(x.reshape(len(x), -1).astype(np.float64), axis=-1, order=2)
        return flat.reshape(x.shape).astype(dtype)
    if kind == "standardize":
        return ((x - recipe["mean"]) / recipe["std"]).astype(dtype)
    raise ValueError(f"unknown preprocessing {kind!r} in model metadata")


def recipe_pixel_stats(x_train: np.ndarray, x_test: np.ndarray, histogram_rows: int = 2000):
    """Pixel statistics raw and after each recipe (fitted on ``x_train``, applied to both).

    Returns ``(stats, samples)``: ``stats`` maps "raw train", "raw test", "<name> train",
    "<name> test" (``name`` from :data:`RECIPE_NAMES`) to :class:`PixelStats`; ``samples``
    maps "raw" and each name to the first ``histogram_rows`` training images so transformed
    (for a histogram)."""
    stats: dict[str, PixelStats] = {"raw train": pixel_stats(x_train),
                                    "raw test": pixel_stats(x_test)}
    samples = {"raw": x_train[:histogram_rows]}
    for kind in PREPROCESSING:
        recipe = fit_preprocessing(kind, x_train)
        name = RECIPE_NAMES[kind]
        stats[f"{name} train"] = pixel_stats(apply_preprocessing(recipe, x_train))
        stats[f"{name} test"] = pixel_stats(apply_preprocessing(recipe, x_test))
        samples[name] = apply_preprocessing(recipe, x_train[:histogram_rows])
    return stats, samples


def model_metadata(recipe: dict, dataset: str = "mnist") -> dict:
    """The ``model.metadata`` a trained model is saved with: its recipe and its data set."""
    return {"preprocess": recipe, "dataset": dataset}


def model_recipe(model) -> dict:
    """The recipe saved with ``model`` (``model.metadata["preprocess"]``), else
    :data:`DEFAULT_RECIPE`."""
    return (getattr(model, "metadata", None) or {}).get("preprocess", dict(DEFAULT_RECIPE))


def model_input(model, images: np.ndarray) -> np.ndarray:
    """Raw uint8 images (N, 28, 28) -> the model's input: its own recipe applied in its dtype,
    then reshaped to ``model.input_shape[1:]`` when that differs (e.g. (N, 784)).

    Raises ValueError when the model takes a different number of features per sample."""
    x = apply_preprocessing(model_recipe(model), images, model.dtype or "float32")
    shape = tuple(model.input_shape[1:])
    if shape and shape != x.shape[1:]:
        features = int(np.prod(x.shape[1:]))
        size = "x".join(map(str, x.shape[1:]))
        if int(np.prod(shape)) != features:
            raise ValueError(f"the model expects {int(np.prod(shape))} input features per "
                             f"sample (shape {shape}), but a {size} digit image has {features}")
        x = x.reshape((len(x),) + shape)
    return x
