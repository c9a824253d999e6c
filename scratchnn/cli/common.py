"""Pieces shared by the subcommands: loading MNIST and preprocessing it the way a model
was trained (the recipe is stored in ``model.metadata["preprocess"]`` and saved with it)."""

from __future__ import annotations

import numpy as np

from .. import optimizers
from ..datasets import mnist
from ..utils import normalize, standardize

PREPROCESSING = ("scale", "l2", "standardize")
HIDDEN_ACTIVATIONS = ["relu", "sigmoid", "tanh", "linear"]


def add_network_args(parser, default_hidden: list[int], hidden_example: str = "128 128",
                     sgd_options: bool = True) -> None:
    """The options that describe the network and its optimizer (train, parity, lrfind)."""
    parser.add_argument("--hidden", type=int, nargs="*", default=default_hidden,
                        help=f"hidden layer sizes, e.g. --hidden {hidden_example}")
    parser.add_argument("--activation", default="relu", choices=HIDDEN_ACTIVATIONS)
    parser.add_argument("--optimizer", default="adam", choices=["adam", "sgd"])
    if sgd_options:
        parser.add_argument("--lr", type=float, default=None,
                            help="learning rate (default: 0.001 for adam, 0.01 for sgd)")
        parser.add_argument("--momentum", type=float, default=0.0, help="SGD momentum")


def make_optimizer(args) -> optimizers.Optimizer:
    """The optimizer named by ``--optimizer``/``--lr``/``--momentum`` (Keras's default rates)."""
    if args.optimizer == "adam":
        return optimizers.Adam(learning_rate=args.lr or 0.001)
    return optimizers.SGD(learning_rate=args.lr or 0.01, momentum=args.momentum,
                          nesterov=getattr(args, "nesterov", False))


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


def load_model_and_test_set(model_path: str, data: str | None):
    """A saved model (compiled with the tutorial's loss if it was saved uncompiled), MNIST's test
    images preprocessed with the model's own recipe and shaped for its input, the raw uint8
    test images and their labels."""
    from ..saving import load_model

    model = load_model(model_path)
    if not model.compiled:
        model.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
    (_, _), (x_test, y_test) = load_mnist(data)
    recipe = (model.metadata or {}).get("preprocess", {"kind": "scale"})
    x = apply_preprocessing(recipe, x_test, model.dtype)
    shape = tuple(model.input_shape[1:])
    if shape != x.shape[1:]:
        x = x.reshape((len(x),) + shape)
    return model, x, x_test, y_test
