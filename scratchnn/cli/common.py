"""Pieces shared by the subcommands: argument types that reject bad numbers with a message
naming the value, output paths checked before any work, loading MNIST and preprocessing it
the way a model was trained (the recipe is stored in ``model.metadata["preprocess"]`` and
saved with it)."""

from __future__ import annotations

import argparse
import math
import tempfile
from pathlib import Path

import numpy as np

from scratchnn import optimizers
from scratchnn.datasets import mnist
from scratchnn.utils import normalize, standardize, train_test_split

PREPROCESSING = ("scale", "l2", "standardize")
HIDDEN_ACTIVATIONS = ["relu", "sigmoid", "tanh", "linear"]
MNIST_FEATURES = 28 * 28
MNIST_CLASSES = 10
#: Learning rates used when ``--lr`` is not given (Keras's defaults).
DEFAULT_LR = {"adam": 0.001, "sgd": 0.01}


# --------------------------------------------------------------------------- argument types
# argparse calls these on the option's text; an ArgumentTypeError becomes
# "scratchnn CMD: error: argument --OPTION: MESSAGE" and exit status 1.


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Show ``(default: X)`` once: not when the help already explains the default, nor when
    the default is None (the help then says what happens without the option)."""

    def _get_help_string(self, action) -> str:
        text = action.help or ""
        if action.default is None or "default" in text:
            return text
        return super()._get_help_string(action)


def _number(text: str, kind, what: str):
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
    return value


def positive_int(text: str) -> int:
    """An integer >= 1."""
    value = _number(text, int, "a positive integer")
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


def non_negative_int(text: str) -> int:
    """An integer >= 0."""
    value = _number(text, int, "an integer >= 0")
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {text!r}")
    return value


def seed_or_random(text: str) -> int:
    """A seed >= 0, or -1 for a fresh random seed."""
    value = _number(text, int, "an integer seed >= 0 (or -1)")
    if value < -1:
        raise argparse.ArgumentTypeError(
            f"must be a seed >= 0, or -1 for a fresh random seed, got {text!r}")
    return value


def positive_float(text: str) -> float:
    """A finite number > 0."""
    value = _number(text, float, "a positive number")
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


def non_negative_float(text: str) -> float:
    """A finite number >= 0."""
    value = _number(text, float, "a number >= 0")
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text!r}")
    return value


def fraction_in_0_1(text: str) -> float:
    """A number in [0, 1) (a share of the data that leaves some behind)."""
    value = _number(text, float, "a number in [0, 1)")
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text!r}")
    return value


def unit_interval(text: str) -> float:
    """A number in [0, 1] (SGD momentum, as Keras requires)."""
    value = _number(text, float, "a number in [0, 1]")
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1], got {text!r}")
    return value


def count_or_fraction(text: str) -> int | float:
    """A whole count >= 1 (``12000``) or a fraction in (0, 1) (``0.2``)."""
    value = _number(text, float, "a count >= 1 or a fraction in (0, 1)")
    if 0 < value < 1:
        return value
    if value >= 1 and value == int(value):
        return int(value)
    raise argparse.ArgumentTypeError(
        f"must be a whole count >= 1 or a fraction in (0, 1), got {text!r}")


# --------------------------------------------------------------------------- output paths


def _probe_writable(folder: Path, option: str) -> None:
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise ValueError(f"{option}: cannot write into folder {folder} "
                         f"({exc.strerror or exc})") from None


def check_output_file(path: str | None, option: str) -> None:
    """Fail now, before any work, if ``path`` could not be written later: its folder must
    exist and accept new files, and ``path`` itself must not be a folder.  None passes."""
    if path is None:
        return
    target = Path(path)
    if target.is_dir():
        raise ValueError(f"{option}: {target} is a folder; give a file name such as "
                         f"{target / 'model.npz'}")
    folder = target.parent
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise ValueError(f"{option}: cannot write {target}: folder {folder} {what}")
    _probe_writable(folder, option)


def prepare_output_dir(path: str, option: str = "--out") -> Path:
    """Create the folder ``path`` (with its parents) now, so that a bad ``--out`` fails before
    the work instead of after it; returns it as a Path."""
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"{option}: {folder} exists and is not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"{option}: cannot create folder {folder} "
                         f"({exc.strerror or exc})") from None
    _probe_writable(folder, option)
    return folder


def add_network_args(parser, default_hidden: list[int], hidden_example: str = "128 128",
                     sgd_options: bool = True) -> None:
    """The options that describe the network and its optimizer (train, parity, lrfind)."""
    parser.add_argument("--hidden", type=positive_int, nargs="*", default=default_hidden,
                        help=f"hidden layer sizes, e.g. --hidden {hidden_example} (none: "
                             "no hidden layer)")
    parser.add_argument("--activation", default="relu", choices=HIDDEN_ACTIVATIONS,
                        help="activation of the hidden layers")
    parser.add_argument("--optimizer", default="adam", choices=["adam", "sgd"],
                        help="optimizer")
    if sgd_options:
        parser.add_argument("--lr", type=positive_float, default=None,
                            help="learning rate (default: 0.001 for adam, 0.01 for sgd)")
        parser.add_argument("--momentum", type=unit_interval, default=0.0,
                            help="SGD momentum, in [0, 1]")


def learning_rate(args) -> float:
    """``--lr`` as given, or the optimizer's default rate when it was not given."""
    return DEFAULT_LR[args.optimizer] if args.lr is None else args.lr


def make_optimizer(args) -> optimizers.Optimizer:
    """The optimizer named by ``--optimizer``/``--lr``/``--momentum`` (Keras's default rates)."""
    if args.optimizer == "adam":
        return optimizers.Adam(learning_rate=learning_rate(args))
    return optimizers.SGD(learning_rate=learning_rate(args), momentum=args.momentum,
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


def _check_standardize(recipe: dict) -> None:
    mean, std = recipe.get("mean"), recipe.get("std")
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (mean, std))
    if not (numbers and math.isfinite(mean) and math.isfinite(std) and std > 0):
        raise ValueError("the model's 'standardize' preprocessing needs a finite 'mean' and a "
                         f"positive 'std', got mean={mean!r}, std={std!r}")


def apply_preprocessing(recipe: dict, x: np.ndarray, dtype="float32") -> np.ndarray:
    """Apply a recipe from :func:`fit_preprocessing` to uint8 images (N, 28, 28).

    A recipe read from a model file is checked: a dict whose ``kind`` is one of
    :data:`PREPROCESSING`, with finite ``mean`` and positive ``std`` for 'standardize'."""
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


def load_mnist(path: str | None, limit: int | None = None):
    """MNIST's ``(x_train, y_train), (x_test, y_test)``; ``limit`` keeps the first ``limit``
    training images (all of them when None)."""
    (x_train, y_train), test = mnist.load_data(path)
    if limit is not None:
        if limit > len(x_train):
            raise ValueError(f"--limit {limit} is more than the {len(x_train)} training images")
        x_train, y_train = x_train[:limit], y_train[:limit]
    return (x_train, y_train), test


def validation_split(x, y, validation: int | float, seed: int):
    """``train_test_split(x, y, test_size=validation, stratify=True)`` with errors that name
    ``--validation`` and the number of examples there are to split."""
    try:
        return train_test_split(x, y, test_size=validation, seed=seed, stratify=True)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"--validation {validation} does not fit {len(x)} training examples "
                         f"({exc})") from None


def check_mnist_input(model, source: str) -> None:
    """Raise a ValueError naming ``source`` unless ``model`` takes 28x28 = 784 features."""
    features = int(np.prod(model.input_shape[1:]))
    if features != MNIST_FEATURES:
        raise ValueError(f"{source}: the model expects {features} input features per sample, "
                         f"but MNIST images have {MNIST_FEATURES} (28x28)")


def check_mnist_model(model, source: str) -> None:
    """:func:`check_mnist_input`, and the model must output one score per MNIST class."""
    check_mnist_input(model, source)
    classes = int(model.output_shape[-1])
    if classes != MNIST_CLASSES:
        raise ValueError(f"{source}: the model has {classes} outputs, but MNIST has "
                         f"{MNIST_CLASSES} classes")


def load_model_and_test_set(model_path: str, data: str | None):
    """A saved model (compiled with the tutorial's loss if it was saved uncompiled), MNIST's test
    images preprocessed with the model's own recipe and shaped for its input, the raw uint8
    test images and their labels."""
    from scratchnn.engine.saving import load_model

    model = load_model(model_path)
    check_mnist_model(model, model_path)
    if not model.compiled:
        model.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
    (_, _), (x_test, y_test) = load_mnist(data)
    recipe = (model.metadata or {}).get("preprocess", {"kind": "scale"})
    x = apply_preprocessing(recipe, x_test, model.dtype)
    shape = tuple(model.input_shape[1:])
    if shape != x.shape[1:]:
        x = x.reshape((len(x),) + shape)
    return model, x, x_test, y_test
