"""The workflow tier's preprocessing recipes and tutorial pieces, against the plain formulas
and hand-written expectations (the command line only calls these)."""

from __future__ import annotations

import argparse

import numpy as np
import pytest

from scratchnn import optimizers
from scratchnn.layers import Dense, Flatten
from scratchnn.utils import to_categorical
from scratchnn.workflow import tutorial
from scratchnn.workflow.datastats import pixel_stats
from scratchnn.workflow.preprocessing import (
    DEFAULT_RECIPE,
    PREPROCESSING,
    RECIPE_NAMES,
    apply_preprocessing,
    fit_preprocessing,
    model_input,
    model_metadata,
    model_recipe,
    recipe_pixel_stats,
)


@pytest.fixture
def images():
    return np.random.default_rng(0).integers(0, 256, size=(12, 28, 28), dtype=np.uint8)


# --------------------------------------------------------------------------- recipes


def test_recipes_match_their_formulas(images):
    x = images.astype(np.float64)
    np.testing.assert_array_equal(apply_preprocessing(fit_preprocessing("scale", images), images),
                                  (x / 255.0).astype("float32"))
    rows = x.reshape(len(x), -1)
    l2 = rows / np.sqrt((rows ** 2).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(apply_preprocessing({"kind": "l2"}, images, "float64"),
                               l2.reshape(x.shape), rtol=1e-12)
    recipe = fit_preprocessing("standardize", images)
    assert recipe == {"kind": "standardize", "mean": pytest.approx(x.mean(), rel=1e-12),
                      "std": pytest.approx(x.std(), rel=1e-12)}
    assert isinstance(recipe["mean"], float) and isinstance(recipe["std"], float)
    out = apply_preprocessing(recipe, images, "float64")
    np.testing.assert_allclose(out, (x - x.mean()) / x.std(), rtol=1e-12)
    assert out.shape == images.shape and out.dtype == np.float64


def test_recipe_errors():
    with pytest.raises(ValueError, match="unknown preprocessing 'zca'"):
        fit_preprocessing("zca", np.zeros((2, 28, 28)))
    with pytest.raises(ValueError, match="must be a dict"):
        apply_preprocessing("scale", np.zeros((1, 28, 28)))
    with pytest.raises(ValueError, match="positive 'std'"):
        apply_preprocessing({"kind": "standardize", "mean": 0.0, "std": 0.0}, np.zeros((1, 2)))
    with pytest.raises(ValueError, match="unknown preprocessing 'zca' in model metadata"):
        apply_preprocessing({"kind": "zca"}, np.zeros((1, 2)))
    assert apply_preprocessing({}, np.full((1, 2), 255)).tolist() == [[1.0, 1.0]]


def test_recipe_pixel_stats_equal_transforming_by_hand(images):
    train, test = images[:8], images[8:]
    stats, samples = recipe_pixel_stats(train, test, histogram_rows=3)
    assert list(samples) == ["raw"] + [RECIPE_NAMES[k] for k in PREPROCESSING]
    assert stats["raw test"] == pixel_stats(test)
    for kind in PREPROCESSING:
        recipe = fit_preprocessing(kind, train)
        name = RECIPE_NAMES[kind]
        assert stats[f"{name} train"] == pixel_stats(apply_preprocessing(recipe, train))
        assert stats[f"{name} test"] == pixel_stats(apply_preprocessing(recipe, test))
        np.testing.assert_array_equal(samples[name], apply_preprocessing(recipe, train[:3]))


class _Model:
    def __init__(self, input_shape, metadata=None, dtype="float64"):
        self.input_shape, self.metadata, self.dtype = (None,) + input_shape, metadata, dtype


def test_model_recipe_and_input(images):
    recipe = {"kind": "standardize", "mean": 100.0, "std": 50.0}
    assert model_metadata(recipe) == {"preprocess": recipe, "dataset": "mnist"}
    assert model_recipe(_Model((784,))) == DEFAULT_RECIPE
    model = _Model((784,), model_metadata(recipe))
    assert model_recipe(model) is recipe
    x = model_input(model, images)
    np.testing.assert_array_equal(x, ((images - 100.0) / 50.0).reshape(12, 784))
    assert model_input(_Model((28, 28)), images).shape == (12, 28, 28)
    with pytest.raises(ValueError, match="expects 100 input features .* 28x28 digit image has 784"):
        model_input(_Model((100,)), images)


# --------------------------------------------------------------------------- the tutorial


def test_build_model_is_the_tutorial_network():
    model = tutorial.build_model([16, 8], "tanh", "float64")
    kinds = [type(layer) for layer in model.layers]
    assert kinds == [Flatten, Dense, Dense, Dense]
    assert [layer.units for layer in model.layers[1:]] == [16, 8, 10]
    assert [layer.activation.name for layer in model.layers[1:]] == ["tanh", "tanh", "softmax"]
    model.build((28, 28))
    assert model.dtype == "float64"


def test_make_optimizer_defaults_and_cli_agree():
    adam = tutorial.make_optimizer("adam")
    assert isinstance(adam, optimizers.Adam) and adam.learning_rate == 0.001
    sgd = tutorial.make_optimizer("sgd", 0.5, momentum=0.9, nesterov=True)
    assert isinstance(sgd, optimizers.SGD)
    assert (sgd.learning_rate, sgd.momentum, sgd.nesterov) == (0.5, 0.9, True)
    assert tutorial.make_optimizer("sgd").learning_rate == 0.01
    with pytest.raises(ValueError, match="unknown optimizer 'lion'"):
        tutorial.make_optimizer("lion")
    from scratchnn.cli.common import make_optimizer
    args = argparse.Namespace(optimizer="sgd", lr=None, momentum=0.25, nesterov=False)
    assert make_optimizer(args).get_config() == tutorial.make_optimizer(
        "sgd", 0.01, 0.25).get_config()


def test_config_grid_order():
    grid = tutorial.config_grid([[4], []], ["adam", "sgd"], ["scale", "l2"])
    assert grid[:3] == [([4], "adam", 0.001, "scale"), ([4], "adam", 0.001, "l2"),
                        ([4], "sgd", 0.01, "scale")]
    assert len(grid) == 8 and grid[-1] == ([], "sgd", 0.01, "l2")
    assert tutorial.config_grid([[4]], ["sgd"], ["scale"], [0.1, 0.2]) == [
        ([4], "sgd", 0.1, "scale"), ([4], "sgd", 0.2, "scale")]


def test_split_class_counts():
    y_train = np.repeat(np.arange(10), 10)
    y_test = np.arange(10)
    counts = tutorial.split_class_counts(y_train, y_test, 20, seed=0)
    assert list(counts) == ["train", "test", "train part (80)", "validation (20)"]
    assert counts["train"].tolist() == [10] * 10 and counts["test"].tolist() == [1] * 10
    assert counts["validation (20)"].tolist() == [2] * 10  # stratified
    assert counts["train part (80)"].tolist() == [8] * 10
    assert list(tutorial.split_class_counts(y_train, y_test)) == ["train", "test"]
    with pytest.raises(ValueError, match="--validation 200 does not fit 100 training"):
        tutorial.split_class_counts(y_train, y_test, 200)


def test_top_classes_and_model_checks():
    assert tutorial.top_classes([0.1, 0.5, 0.1, 0.3], 3) == [1, 3, 0]
    with pytest.raises(ValueError, match="m.npz: the model expects 100 input features"):
        tutorial.check_mnist_input(_Model((100,)), "m.npz")
    model = tutorial.build_model([], dtype="float64")
    model.build((28, 28))
    tutorial.check_mnist_model(model, "m.npz")


def test_train_classifier_equals_the_steps_by_hand(images):
    y = np.arange(12) % 10
    run = tutorial.train_classifier(images, y, hidden=[5], preprocess="standardize", epochs=2,
                                    batch_size=4, seed=3, dtype="float64", verbose=0)
    assert run.model.metadata == {"preprocess": run.recipe, "dataset": "mnist"}
    from scratchnn.seeding import set_random_seed

    set_random_seed(3)
    recipe = fit_preprocessing("standardize", images)
    model = tutorial.build_model([5], "relu", "float64")
    model.compile(optimizer=optimizers.Adam(0.001), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    hist = model.fit(apply_preprocessing(recipe, images, "float64"), to_categorical(y, 10),
                     batch_size=4, epochs=2, verbose=0, seed=3)
    assert run.recipe == recipe and run.history == hist.history
    for a, b in zip(run.model.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
