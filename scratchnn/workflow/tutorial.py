"""The tutorials' MNIST classifier as library functions: the data, the network, its optimizer,
one training run, and a saved model with the test set it is evaluated on.

The command line (:mod:`scratchnn.cli`) turns options into calls of these functions and prints
their results; a notebook can call them directly::

    (x_train, y_train), (x_test, y_test) = load_mnist(limit=12000)
    run = train_classifier(x_train, y_train, hidden=[128], epochs=3)
    run.model.evaluate(apply_preprocessing(run.recipe, x_test), to_categorical(y_test, 10))

The network is ``Flatten(28x28) -> Dense(h, activation) per hidden size -> Dense(10, softmax)``
trained with categorical cross-entropy on one-hot labels.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from scratchnn import optimizers
from scratchnn.datasets import mnist
from scratchnn.engine.model import Sequential
from scratchnn.layers import Dense, Flatten
from scratchnn.seeding import set_random_seed
from scratchnn.utils import to_categorical, train_test_split
from scratchnn.workflow.datastats import class_counts
from scratchnn.workflow.preprocessing import (
    apply_preprocessing,
    fit_preprocessing,
    model_metadata,
    model_recipe,
)

__all__ = ["MNIST_FEATURES", "MNIST_CLASSES", "DEFAULT_LR", "load_mnist", "stratified_split",
           "build_model", "make_optimizer", "TrainingRun", "train_classifier",
           "check_mnist_input", "check_mnist_model", "load_model_and_test_set", "top_classes",
           "config_grid", "split_class_counts"]

MNIST_FEATURES = 28 * 28
MNIST_CLASSES = 10
#: Learning rates used when none is given (Keras's defaults).
DEFAULT_LR = {"adam": 0.001, "sgd": 0.01, "rmsprop": 0.001, "adagrad": 0.001, "adamw": 0.001,
              "adamax": 0.001, "nadam": 0.001}


# --------------------------------------------------------------------------- data


def load_mnist(path: str | None = None, limit: int | None = None):
    """MNIST's ``(x_train, y_train), (x_test, y_test)``; ``limit`` keeps the first ``limit``
    training images (all of them when None)."""
    (x_train, y_train), test = mnist.load_data(path)
    if limit is not None:
        if limit > len(x_train):
            raise ValueError(f"--limit {limit} is more than the {len(x_train)} training images")
        x_train, y_train = x_train[:limit], y_train[:limit]
    return (x_train, y_train), test


def stratified_split(x, y, validation: int | float, seed: int):
    """``train_test_split(x, y, test_size=validation, stratify=True)`` -> ``x_tr, x_val, y_tr,
    y_val``, with errors that name ``--validation`` and the number of examples to split."""
    try:
        return train_test_split(x, y, test_size=validation, seed=seed, stratify=True)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"--validation {validation} does not fit {len(x)} training examples "
                         f"({exc})") from None


def split_class_counts(y_train, y_test, validation: int | float = 0,
                       seed: int = 0) -> dict[str, np.ndarray]:
    """Examples per class (10,) of "train", "test" and, when ``validation`` is not 0, of the
    two parts of :func:`stratified_split` ("train part (N)", "validation (M)")."""
    counts = {"train": class_counts(y_train, MNIST_CLASSES),
              "test": class_counts(y_test, MNIST_CLASSES)}
    if validation:
        stand_in = np.zeros((len(y_train), 1), dtype=np.uint8)  # only the labels are split
        _, _, y_tr, y_val = stratified_split(stand_in, y_train, validation, seed)
        counts[f"train part ({len(y_tr)})"] = class_counts(y_tr, MNIST_CLASSES)
        counts[f"validation ({len(y_val)})"] = class_counts(y_val, MNIST_CLASSES)
    return counts


# --------------------------------------------------------------------------- the network


def build_model(hidden: list[int], activation: str = "relu",
                dtype: str = "float32") -> Sequential:
    """``Flatten(28x28) -> Dense(h, activation) for h in hidden -> Dense(10, softmax)``."""
    layers = [Flatten(input_shape=(28, 28))]
    layers += [Dense(h, activation=activation) for h in hidden]
    layers.append(Dense(10, activation="softmax"))
    return Sequential(layers, dtype=dtype)


def make_optimizer(name: str, learning_rate: float | None = None, momentum: float = 0.0,
                   nesterov: bool = False) -> optimizers.Optimizer:
    """``SGD(learning_rate, momentum, nesterov)``, or the optimizer ``name`` of
    :data:`DEFAULT_LR` with Keras's defaults but ``learning_rate``; the rate defaults to
    :data:`DEFAULT_LR` (Keras's)."""
    if name not in DEFAULT_LR:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(DEFAULT_LR)}")
    lr = DEFAULT_LR[name] if learning_rate is None else learning_rate
    if name == "sgd":
        return optimizers.SGD(learning_rate=lr, momentum=momentum, nesterov=nesterov)
    return optimizers.deserialize({"name": name, "config": {"learning_rate": lr}})


def config_grid(hiddens: list[list[int]], optimizer_names: list[str],
                preprocessings: list[str], learning_rates: list[float] | None = None) -> list:
    """Every ``(hidden, optimizer, learning_rate, preprocessing)`` combination, in the order
    hidden, optimizer, preprocessing, rate; without ``learning_rates`` each optimizer gets its
    :data:`DEFAULT_LR`."""
    combos = []
    for hidden in hiddens:
        for opt in optimizer_names:
            for prep in preprocessings:
                for lr in (learning_rates or [DEFAULT_LR[opt]]):
                    combos.append((hidden, opt, lr, prep))
    return combos


# --------------------------------------------------------------------------- training


@dataclass
class TrainingRun:
    """What :func:`train_classifier` returns: the trained ``model`` (its ``metadata`` holds
    ``recipe``), the fitted preprocessing ``recipe`` and ``history`` (``History.history``)."""

    model: Sequential
    recipe: dict
    history: dict = field(default_factory=dict)


def train_classifier(x_train, y_train, *, hidden: list[int], activation: str = "relu",
                     optimizer: str = "adam", learning_rate: float | None = None,
                     momentum: float = 0.0, preprocess: str = "scale", epochs: int = 5,
                     batch_size: int = 32, seed: int = 0, dtype: str = "float32",
                     validation_data=None, verbose=2) -> TrainingRun:
    """Seed, fit ``preprocess`` on ``x_train`` (uint8 (N, 28, 28)), build and compile the
    network and ``fit`` it on one-hot labels; ``validation_data=(x_val, y_val)`` (raw images,
    integer labels) is preprocessed with the same recipe."""
    set_random_seed(seed)
    recipe = fit_preprocessing(preprocess, x_train)
    x = apply_preprocessing(recipe, x_train, dtype)
    if validation_data is not None:
        x_val, y_val = validation_data
        validation_data = (apply_preprocessing(recipe, x_val, dtype),
                           to_categorical(y_val, MNIST_CLASSES))
    model = build_model(hidden, activation, dtype)
    model.compile(optimizer=make_optimizer(optimizer, learning_rate, momentum),
                  loss="categorical_crossentropy", metrics=["accuracy"])
    model.metadata = model_metadata(recipe)
    hist = model.fit(x, to_categorical(y_train, MNIST_CLASSES), batch_size=batch_size,
                     epochs=epochs, validation_data=validation_data, verbose=verbose, seed=seed)
    return TrainingRun(model, recipe, hist.history)


# --------------------------------------------------------------------------- saved models


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


def load_model_and_test_set(model_path: str, data: str | None = None):
    """A saved model (compiled with the tutorial's loss if it was saved uncompiled), MNIST's test
    images preprocessed with the model's own recipe and shaped for its input, the raw uint8
    test images and their labels: ``model, x, x_test, y_test``."""
    from scratchnn.engine.saving import load_model

    model = load_model(model_path)
    check_mnist_model(model, model_path)
    if not model.compiled:
        model.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
    (_, _), (x_test, y_test) = load_mnist(data)
    x = apply_preprocessing(model_recipe(model), x_test, model.dtype)
    shape = tuple(model.input_shape[1:])
    if shape != x.shape[1:]:
        x = x.reshape((len(x),) + shape)
    return model, x, x_test, y_test


def top_classes(probabilities, k: int) -> list[int]:
    """The ``k`` classes with the largest probabilities, largest first (ties: lower class
    first)."""
    p = probabilities
    return sorted(range(len(p)), key=lambda c: -p[c])[:k]
