"""The tutorials' MNIST classifier as library functions: the data, the network, its optimizer,
one training run, and a saved model with the test set it is evaluated on.

The command line (:mod:`scratchnn.cli`) turns options into calls of these functions and prints
their results; a notebook can call them directly::

    (x_train, y_train), (x_test, y_test) = load_mnist(limit=12000)
    run = train_classifier(x_train, y_train, hidden=[128], epochs=3)
    run.model.evaluate(apply_preprocessing(run.recipe, x_test), to_categorical(y_test, 10))

The network is ``Flatten(28x28) -> Dense(h, activation) per hidden size -> Dense(10, softmax)``
trained with categorical cross-entropy on one-hot labels; :func:`build_model` can add Dropout,
BatchNormalization and an L2 penalty, :func:`make_optimizer` clipping and a learning-rate
schedule (:func:`make_schedule`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from scratchnn import optimizers
from scratchnn.datasets import mnist
from scratchnn.engine.model import Sequential
from scratchnn.layers import Activation, BatchNormalization, Dense, Dropout, Flatten
from scratchnn.optimizers import schedules
from scratchnn.regularizers import L2
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
           "build_model", "hidden_block", "make_optimizer", "SCHEDULES",
           "make_schedule", "steps_per_epoch", "TrainingRun", "train_classifier",
           "check_mnist_input", "check_mnist_model", "load_model_and_test_set", "top_classes",
           "config_grid", "split_class_counts"]

MNIST_FEATURES = 28 * 28
MNIST_CLASSES = 10
#: Learning rates used when none is given (Keras's defaults).
DEFAULT_LR = {"adam": 0.001, "sgd": 0.01, "rmsprop": 0.001, "adagrad": 0.001, "adamw": 0.001,
              "adadelta": 0.001, "adamax": 0.001, "nadam": 0.001}
#: The names :func:`make_schedule` accepts ("none": a constant rate).
SCHEDULES = ["none", "exponential", "inverse_time", "piecewise", "polynomial", "cosine",
             "cosine_restarts"]


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


def build_model(hidden: list[int], activation: str = "relu", dtype: str = "float32",
                dropout: float = 0.0, batchnorm: bool = False, l2: float = 0.0) -> Sequential:
    """``Flatten(28x28) -> hidden_block(h) for h in hidden -> Dense(10, softmax)``.

    With the defaults each hidden block is one ``Dense(h, activation)`` (the tutorial network).
    ``l2`` > 0 puts ``kernel_regularizer=L2(l2)`` on every Dense, the output one included (the
    loss gains :math:`\\ell_2 \\sum W^2` per kernel); see :func:`hidden_block` for
    ``dropout`` and ``batchnorm``.
    """
    layers = [Flatten(input_shape=(28, 28))]
    for h in hidden:
        layers += hidden_block(h, activation, dropout, batchnorm, l2)
    layers.append(Dense(10, activation="softmax", kernel_regularizer=_l2(l2)))
    return Sequential(layers, dtype=dtype)


def _l2(factor: float):
    return L2(factor) if factor else None


def hidden_block(units: int, activation: str = "relu", dropout: float = 0.0,
                 batchnorm: bool = False, l2: float = 0.0) -> list:
    """The layers of one hidden block.

    * plain: ``Dense(units, activation)``;
    * ``batchnorm``: Keras's usual ``Dense(units, use_bias=False) -> BatchNormalization() ->
      Activation(activation)`` (the normalization acts on the affine part :math:`xW`; no bias,
      since BN's :math:`\\beta` replaces it and BN would cancel it);
    * ``dropout`` > 0: then ``Dropout(dropout)`` after the activation.
    """
    regularizer = _l2(l2)
    if batchnorm:
        block = [Dense(units, use_bias=False, kernel_regularizer=regularizer),
                 BatchNormalization(), Activation(activation)]
    else:
        block = [Dense(units, activation=activation, kernel_regularizer=regularizer)]
    if dropout:
        block.append(Dropout(dropout))
    return block


def make_optimizer(name: str, learning_rate=None, momentum: float = 0.0,
                   nesterov: bool = False, clipnorm: float | None = None) -> optimizers.Optimizer:
    """``SGD(learning_rate, momentum, nesterov)``, or the optimizer ``name`` of
    :data:`DEFAULT_LR` with Keras's defaults but ``learning_rate`` (a number or a
    :class:`~scratchnn.optimizers.schedules.LearningRateSchedule`); the rate defaults to
    :data:`DEFAULT_LR` (Keras's).  ``clipnorm``: each gradient is rescaled to norm at most
    ``clipnorm`` (Keras's option; None: no clipping)."""
    if name not in DEFAULT_LR:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(DEFAULT_LR)}")
    lr = DEFAULT_LR[name] if learning_rate is None else learning_rate
    options = {} if clipnorm is None else {"clipnorm": clipnorm}
    if name == "sgd":
        return optimizers.SGD(learning_rate=lr, momentum=momentum, nesterov=nesterov, **options)
    return optimizers.OPTIMIZERS.entries()[name](learning_rate=lr, **options)


def steps_per_epoch(samples: int, batch_size: int, validation_split: float = 0.0) -> int:
    """Updates per epoch of ``fit``: :math:`\\lceil n' / b \\rceil` with :math:`n' =
    \\lfloor n (1 - \\text{split}) \\rfloor` (fit's own split) and ``b = batch_size``."""
    kept = samples if not validation_split else int(math.floor(samples * (1.0 - validation_split)))
    return max(1, math.ceil(kept / batch_size))


def make_schedule(name: str, learning_rate: float, epochs: int, steps: int):
    """The learning rate for ``name`` in :data:`SCHEDULES`, starting at ``learning_rate``
    :math:`\\eta_0` for a run of ``epochs`` epochs of ``steps`` updates, :math:`T` = ``epochs *
    steps`` updates in all (``s`` = update index from 0):

    * ``none``: :math:`\\eta_0` (a plain number);
    * ``exponential``: ``ExponentialDecay(eta0, T, 0.01)``, :math:`\\eta_0\\,0.01^{s/T}` (1%
      of the start at the end of the run);
    * ``inverse_time``: ``InverseTimeDecay(eta0, steps, 1.0)``, :math:`\\eta_0/(1 + s/S)`
      (halved after the first epoch, a third after the second, ...);
    * ``piecewise``: ``PiecewiseConstantDecay([T//2, 3T//4], [eta0, eta0/10, eta0/100])``;
    * ``polynomial``: ``PolynomialDecay(eta0, T, end_learning_rate=0)``, linear to 0 at
      the end of the run;
    * ``cosine``: ``CosineDecay(eta0, T)``, :math:`\\eta_0\\tfrac12(1 + \\cos(\\pi s/T))`,
      a half cosine over the whole run;
    * ``cosine_restarts``: ``CosineDecayRestarts(eta0, steps)``, a cosine over the first
      epoch, then restarts with periods doubling (1, 2, 4, ... epochs).
    """
    total = epochs * steps
    makers = {
        "none": lambda: learning_rate,
        "exponential": lambda: schedules.ExponentialDecay(learning_rate, total, 0.01),
        "inverse_time": lambda: schedules.InverseTimeDecay(learning_rate, steps, 1.0),
        "piecewise": lambda: schedules.PiecewiseConstantDecay(
            [total // 2, (3 * total) // 4],
            [learning_rate, learning_rate / 10, learning_rate / 100]),
        "polynomial": lambda: schedules.PolynomialDecay(learning_rate, total,
                                                        end_learning_rate=0.0),
        "cosine": lambda: schedules.CosineDecay(learning_rate, total),
        "cosine_restarts": lambda: schedules.CosineDecayRestarts(learning_rate, steps),
    }
    if name not in makers:
        raise ValueError(f"unknown schedule {name!r}; choose one of {', '.join(SCHEDULES)}")
    return makers[name]()


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
