"""The name tables (scratchnn.registry.Registry) of every family of building blocks.

References: the names are Keras's (checked against ``keras.*.get`` when Keras is installed), the
lists of names are written out by hand here, and every name round-trips through
get -> serialize -> JSON -> deserialize to an object of the same class with an equal config.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from scratchnn import activations, initializers, layers, losses, metrics, optimizers
from scratchnn.registry import Registry

# Written out by hand: the names saved model files use (changing one breaks old files).
NAMES = {
    "activation": (activations.ACTIVATIONS, [
        "elu", "exponential", "gelu", "hard_sigmoid", "hard_silu", "leaky_relu", "linear",
        "log_softmax", "mish", "relu", "relu6", "selu", "sigmoid", "silu", "softmax", "softplus",
        "softsign", "tanh"]),
    "loss": (losses.LOSSES, ["binary_crossentropy", "categorical_crossentropy", "huber",
                             "kl_divergence", "mean_absolute_error", "mean_squared_error",
                             "sparse_categorical_crossentropy"]),
    "optimizer": (optimizers.OPTIMIZERS, ["adadelta", "adagrad", "adam", "adamax", "adamw", "nadam",
                                          "rmsprop", "sgd"]),
    "initializer": (initializers.INITIALIZERS, [
        "glorot_normal", "glorot_uniform", "he_normal", "he_uniform", "ones", "random_normal",
        "random_uniform", "zeros"]),
    "layer": (layers.LAYERS, ["Activation", "BatchNormalization", "Dense", "Dropout", "Flatten",
                              "InputLayer", "LayerNormalization", "LeakyReLU", "ReLU",
                              "Softmax"]),
    "metric": (metrics.METRICS, ["accuracy", "binary_accuracy", "categorical_accuracy",
                                 "sparse_categorical_accuracy"]),
}
ALIASES = {"mse": (losses.LOSSES, "mean_squared_error"), "acc": (metrics.METRICS, "accuracy"),
           "mae": (losses.LOSSES, "mean_absolute_error"), "kld": (losses.LOSSES, "kl_divergence"),
           "swish": (activations.ACTIVATIONS, "silu"),
           "hard_swish": (activations.ACTIVATIONS, "hard_silu")}

CLASS_MODULES = [  # (module, names): get(name) builds a fresh object of a registered class
    (losses, NAMES["loss"][1] + ["mse", "mae", "kld"]),
    (optimizers, NAMES["optimizer"][1]),
    (initializers, NAMES["initializer"][1]),
]


@pytest.mark.parametrize("kind", sorted(NAMES))
def test_every_registry_holds_exactly_the_documented_names(kind):
    registry, names = NAMES[kind]
    assert registry.kind == kind
    assert registry.names() == names == list(registry)
    aliases = [alias for alias, (reg, _) in ALIASES.items() if reg is registry]
    assert registry.known() == sorted(names + aliases)
    assert len(registry) == len(names)


@pytest.mark.parametrize("alias, target", [(a, t) for a, (_, t) in ALIASES.items()])
def test_aliases_resolve_to_the_canonical_entry(alias, target):
    registry = ALIASES[alias][0]
    assert registry.lookup(alias) is registry.lookup(target)
    assert registry.canonical(alias) == target
    assert registry.canonical(alias.upper()) == target


def test_alias_objects_serialize_under_the_canonical_name():
    assert isinstance(losses.get("mse"), losses.MeanSquaredError)
    assert losses.serialize(losses.get("mse")) == {"name": "mean_squared_error", "config": {}}
    assert metrics.get("acc")[1] is metrics.get("accuracy")[1]
    assert metrics.get("acc")[0] == "acc"  # the history key stays as written


@pytest.mark.parametrize("module, name", [(m, n) for m, names in CLASS_MODULES for n in names])
def test_class_entries_round_trip_through_json(module, name):
    obj = module.get(name)
    spec = json.loads(json.dumps(module.serialize(obj)))
    assert set(spec) == {"name", "config"}
    again = module.deserialize(spec)
    assert type(again) is type(obj) and again is not obj
    assert again.get_config() == obj.get_config()
    assert type(module.get(spec)) is type(obj)  # get takes the spec, too
    assert type(module.get(type(obj))) is type(obj)  # and a class, instantiated


def test_configs_survive_the_round_trip():
    objs = [optimizers.SGD(learning_rate=0.5, momentum=0.9, nesterov=True),
            optimizers.Adam(learning_rate=0.02, beta_1=0.8, beta_2=0.99, epsilon=1e-5),
            losses.SparseCategoricalCrossentropy(from_logits=True),
            initializers.RandomUniform(-0.3, 0.2, seed=7),
            initializers.HeNormal(seed=3)]
    for obj in objs:
        module = {optimizers.Optimizer: optimizers, losses.Loss: losses,
                  initializers.Initializer: initializers}[type(obj).__mro__[-2]]
        again = module.deserialize(json.loads(json.dumps(module.serialize(obj))))
        assert type(again) is type(obj) and again.get_config() == obj.get_config()


@pytest.mark.parametrize("name", NAMES["activation"][1])
def test_activations_are_shared_objects_saved_by_name(name):
    act = activations.get(name)
    assert activations.serialize(act) == name
    assert activations.deserialize(name) is act is activations.get(name.upper())
    assert activations.serialize(type(act)()) == name  # another instance of the same class
    assert activations.get(type(act)).name == name  # a class is instantiated


@pytest.mark.parametrize("layer", [
    layers.InputLayer((4, 2)), layers.Flatten(), layers.Activation("tanh"),
    layers.Dense(3, activation="softmax", use_bias=False, kernel_initializer="he_normal",
                 bias_initializer=initializers.RandomNormal(stddev=0.1, seed=1)),
], ids=lambda layer: type(layer).__name__)
def test_layers_round_trip_through_json(layer):
    spec = json.loads(json.dumps(layers.serialize(layer)))
    assert set(spec) == {"class_name", "config"}
    assert layers.LAYERS.lookup(spec["class_name"]) is type(layer)
    again = layers.deserialize(spec)
    assert type(again) is type(layer) and again.get_config() == layer.get_config()


def test_metric_names_give_the_metric_functions():
    assert metrics.get("binary_accuracy")[1] is metrics.binary_accuracy
    assert metrics.get("Categorical_Accuracy") == ("Categorical_Accuracy",
                                                   metrics.categorical_accuracy)
    y, p = np.array([0, 2]), np.array([[0.9, 0.1, 0.0], [0.2, 0.7, 0.1]])
    np.testing.assert_array_equal(metrics.get("ACC")[1](y, p), [1.0, 0.0])


@pytest.mark.parametrize("module, spelling, cls", [
    (losses, "MSE", losses.MeanSquaredError),
    (losses, "Categorical_CrossEntropy", losses.CategoricalCrossentropy),
    (optimizers, "ADAM", optimizers.Adam),
    (optimizers, "Sgd", optimizers.SGD),
    (initializers, "Glorot_Uniform", initializers.GlorotUniform),
    (initializers, {"name": "HE_NORMAL", "config": {"seed": 1}}, initializers.HeNormal),
])
def test_names_are_case_insensitive(module, spelling, cls):
    assert type(module.get(spelling)) is cls


def test_layer_class_names_are_case_insensitive_too():
    layer = layers.deserialize({"class_name": "dense", "config": {"units": 2}})
    assert type(layer) is layers.Dense and layer.units == 2


@pytest.mark.parametrize("call, message", [
    (lambda: optimizers.get("lion"), "Unknown optimizer 'lion'; known: 'adadelta', 'adagrad', "
     "'adam', 'adamax', 'adamw', 'nadam', 'rmsprop', 'sgd'"),
    (lambda: losses.get("hinge"),
     "Unknown loss 'hinge'; known: 'binary_crossentropy', 'categorical_crossentropy', 'huber', "
     "'kl_divergence', 'kld', 'mae', 'mean_absolute_error', 'mean_squared_error', 'mse', "
     "'sparse_categorical_crossentropy'"),
    (lambda: activations.get("prelu"),
     "Unknown activation 'prelu'; known: 'elu', 'exponential', 'gelu', 'hard_sigmoid', "
     "'hard_silu', 'hard_swish', 'leaky_relu', 'linear', 'log_softmax', 'mish', 'relu', 'relu6', "
     "'selu', 'sigmoid', 'silu', 'softmax', 'softplus', 'softsign', 'swish', 'tanh'"),
    (lambda: initializers.get("orthogonal"), "Unknown initializer 'orthogonal'; known: "
     "'glorot_normal', 'glorot_uniform', 'he_normal', 'he_uniform', 'ones', 'random_normal', "
     "'random_uniform', 'zeros'"),
    (lambda: layers.deserialize({"class_name": "Conv2D", "config": {}}),
     "Unknown layer 'Conv2D'; known: 'Activation', 'BatchNormalization', 'Dense', 'Dropout', "
     "'Flatten', 'InputLayer', 'LayerNormalization', 'LeakyReLU', 'ReLU', 'Softmax'"),
    (lambda: metrics.get("auc"), "Unknown metric 'auc'; known: 'acc', 'accuracy', "
     "'binary_accuracy', 'categorical_accuracy', 'sparse_categorical_accuracy'"),
    (lambda: optimizers.deserialize({"name": "lion"}), "Unknown optimizer 'lion'"),
])
def test_unknown_names_raise_value_error_naming_kind_name_and_known_names(call, message):
    with pytest.raises(ValueError) as info:
        call()
    assert str(info.value).startswith(message)


@pytest.mark.parametrize("call, message", [
    (lambda: optimizers.get(5), "optimizer must be one of 'adadelta', 'adagrad', 'adam', 'adamax', "
     "'adamw', 'nadam', 'rmsprop', 'sgd', a {'name': ..., "
     "'config': ...} dict or a scratchnn.optimizers.Optimizer instance; got 5"),
    (lambda: losses.get(1.5), "loss must be one of 'binary_crossentropy', "),
    (lambda: initializers.get([1]), "initializer must be one of 'glorot_normal'"),
    (lambda: activations.get(3), "activation must be one of 'elu', 'exponential', "),
    (lambda: activations.get(np.tanh), "is a plain function"),
])
def test_values_of_the_wrong_kind_raise_type_error(call, message):
    with pytest.raises(TypeError, match=re.escape(message)):
        call()


@pytest.mark.parametrize("spec", [None, [], "x"[:0], {"config": {}}, {"name": 3},
                                  {"name": "adam", "config": [1]}])
def test_malformed_specs_raise_value_error(spec):
    with pytest.raises(ValueError, match=r"optimizer|Unknown"):
        optimizers.deserialize(spec)


def test_only_registered_classes_can_be_saved():
    class MyAdam(optimizers.Adam):
        pass

    class Swish(activations.Activation):
        name = "swish"

    for call, kind in ((lambda: optimizers.serialize(MyAdam()), "optimizer"),
                       (lambda: activations.serialize(Swish()), "activation"),
                       (lambda: layers.serialize(type("MyDense", (layers.Dense,), {})(2)),
                        "layer")):
        with pytest.raises(ValueError, match=f"Custom {kind} .* cannot be saved by name"):
            call()


class _Base:
    def __init__(self, size: int = 1):
        self.size = size

    def get_config(self) -> dict:
        return {"size": self.size}


def test_a_registry_of_ones_own():
    table: Registry[_Base] = Registry("widget", base=_Base)

    @table.register("small_widget", "tiny")
    class SmallWidget(_Base):
        pass

    assert table.lookup("TINY") is SmallWidget and "Small_Widget" in table and 3 not in table
    spec = table.serialize(SmallWidget(4))
    assert spec == {"name": "small_widget", "config": {"size": 4}}
    assert table.deserialize(spec).size == 4
    assert table.get("tiny").size == 1
    with pytest.raises(ValueError, match="widget name 'Tiny' is already registered"):
        table.add(_Base, "other", "Tiny")
    assert table.names() == ["small_widget"]  # the failed add changed nothing
    things = Registry("thing")
    things.add(len, "length")
    assert things.get("LENGTH") is len
    with pytest.raises(ValueError, match="thing 'length' takes no config"):
        things.deserialize({"name": "length", "config": {"a": 1}})
    with pytest.raises(ValueError, match="spec_key"):
        Registry("x", spec_key="type")
    with pytest.raises(TypeError, match="non-empty strings"):
        things.add(len, "")


@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


def test_the_names_are_keras_names(keras):
    for name in activations.ACTIVATIONS.known():
        assert keras.activations.get(name) is not None
    for name in losses.LOSSES.known():
        assert keras.losses.get(name) is not None
    for name in optimizers.OPTIMIZERS.known():
        assert type(keras.optimizers.get(name)).__name__.lower() == name
    for name in initializers.INITIALIZERS.known():
        assert type(keras.initializers.get(name)).__name__ == \
            type(initializers.get(name)).__name__
    for name in layers.LAYERS.known():
        assert isinstance(getattr(keras.layers, name), type)
    for name in ("binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy"):
        assert keras.metrics.get(name) is not None
