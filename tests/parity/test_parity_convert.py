"""tfref's converters: models, losses and optimizers map one-to-one, and unsupported things are
refused with a clear error."""

from __future__ import annotations

import numpy as np
import pytest

import scratchnn as snn
import tfref


def _model(dtype="float32", compile=True):
    model = snn.Sequential([snn.layers.Input((3, 4)), snn.layers.Flatten(),
                            snn.layers.Dense(5, activation="tanh"),
                            snn.layers.Dense(6, use_bias=False),
                            snn.layers.Activation("sigmoid"),
                            snn.layers.Dense(2, activation="softmax")], dtype=dtype)
    model.build()
    if compile:
        model.compile(snn.optimizers.SGD(0.05, momentum=0.8, nesterov=True),
                      "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_to_keras_builds_the_same_network(dtype, tf):
    _, keras = tf
    model = _model(dtype)
    km = tfref.to_keras(model)
    kinds = [type(la).__name__ for la in km.layers]
    assert kinds == ["Flatten", "Dense", "Dense", "Activation", "Dense"]
    assert [la.name for la in km.layers] == [la.name for la in model.layers]
    assert km.input_shape == (None, 3, 4)
    assert [keras.activations.serialize(la.activation) for la in km.layers[1:]] == \
        ["tanh", "linear", "sigmoid", "softmax"]
    assert km.layers[2].use_bias is False
    for a, b in zip(model.get_weights(), km.get_weights()):
        assert b.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(a, b)
    # compiled with the equivalent loss and optimizer
    assert isinstance(km.optimizer, keras.optimizers.SGD)
    cfg = km.optimizer.get_config()
    assert (cfg["momentum"], cfg["nesterov"]) == (0.8, True)
    assert km.optimizer.learning_rate.dtype == dtype
    assert float(np.asarray(km.optimizer.learning_rate)) == float(np.dtype(dtype).type(0.05))
    assert isinstance(km.loss, keras.losses.SparseCategoricalCrossentropy)
    assert km.loss.dtype == dtype


def test_weights_are_copied_not_shared(tf):
    model = _model()
    km = tfref.to_keras(model)
    model.weights[1][...] += 1.0
    assert not np.array_equal(model.get_weights()[1], km.get_weights()[1])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_round_trip(dtype, tf):
    model = _model(dtype)
    back = tfref.from_keras(tfref.to_keras(model), metrics=["accuracy"])
    assert back.dtype == np.dtype(dtype)
    assert [type(la) for la in back.layers] == [type(la) for la in model.layers]
    assert back.get_config()["layers"] == model.get_config()["layers"]
    for a, b in zip(model.get_weights(), back.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert type(back.optimizer) is snn.optimizers.SGD
    assert back.optimizer.get_config() == pytest.approx(model.optimizer.get_config())
    assert type(back.loss) is snn.losses.SparseCategoricalCrossentropy
    x = np.random.default_rng(0).standard_normal((4, 3, 4)).astype(dtype)
    np.testing.assert_array_equal(back.predict(x, verbose=0), model.predict(x, verbose=0))


def test_from_keras_of_a_keras_built_model(tf):
    _, keras = tf
    km = keras.Sequential([keras.Input((7,)), keras.layers.Dense(4, activation="relu"),
                           keras.layers.Dense(3, activation="softmax")])
    km.compile(keras.optimizers.Adam(0.002, beta_1=0.8, epsilon=1e-6),
               keras.losses.CategoricalCrossentropy())
    model = tfref.from_keras(km)
    assert model.dtype == np.float32
    opt = model.optimizer
    assert type(opt) is snn.optimizers.Adam
    assert (opt.beta_1, opt.beta_2, opt.epsilon) == (0.8, 0.999, 1e-6)
    assert opt.learning_rate == pytest.approx(0.002)
    assert type(model.loss) is snn.losses.CategoricalCrossentropy
    x = np.random.default_rng(1).standard_normal((5, 7)).astype("float32")
    tfref.assert_close("predict", model.predict(x, verbose=0), km.predict(x, verbose=0), 1e-6)


def test_optimizer_and_loss_mappings(tf):
    _, keras = tf
    adam = tfref.optimizer(snn.optimizers.Adam(0.01, beta_1=0.5, beta_2=0.9, epsilon=1e-4))
    cfg = adam.get_config()
    assert isinstance(adam, keras.optimizers.Adam)
    assert (cfg["beta_1"], cfg["beta_2"], cfg["epsilon"], cfg["amsgrad"]) == \
        (0.5, 0.9, 1e-4, False)
    assert tfref.optimizer("sgd", "float64").learning_rate.dtype == "float64"
    for name, cls in [("categorical_crossentropy", keras.losses.CategoricalCrossentropy),
                      ("sparse_categorical_crossentropy",
                       keras.losses.SparseCategoricalCrossentropy),
                      ("mse", keras.losses.MeanSquaredError)]:
        loss = tfref.keras_loss(name, "float64")
        assert type(loss) is cls and loss.dtype == "float64"
    logits = tfref.keras_loss(snn.losses.CategoricalCrossentropy(from_logits=True))
    assert logits.get_config()["from_logits"] is True


def test_unsupported_things_are_refused(tf):
    _, keras = tf

    class Cube(snn.activations.Activation):
        name = "cube"

        def forward(self, z):
            return z ** 3

        def backward(self, dout, a):
            return dout * 3 * np.cbrt(a) ** 2

    custom = snn.Sequential([snn.layers.Input((2,)), snn.layers.Dense(2, activation=Cube())])
    custom.build()
    with pytest.raises(ValueError, match="custom activation"):
        tfref.to_keras(custom)
    km = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3),
                           keras.layers.GaussianNoise(0.5)])  # Dropout is supported now
    with pytest.raises(ValueError, match="GaussianNoise"):
        tfref.from_keras(km)
    km = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="celu")])
    with pytest.raises(ValueError, match="celu"):
        tfref.from_keras(km)
    non_default = snn.Sequential([snn.layers.Input((2,)),
                                  snn.layers.Dense(2, activation=snn.activations.ELU(alpha=0.5))])
    non_default.build()
    with pytest.raises(ValueError, match="cannot be saved by name"):
        tfref.to_keras(non_default)
    with pytest.raises(ValueError, match="AMSGrad"):
        tfref.from_keras_optimizer(keras.optimizers.Adam(amsgrad=True))
    with pytest.raises(ValueError, match="no Keras equivalent"):
        tfref.optimizer(snn.optimizers.Optimizer())
    with pytest.raises(ValueError, match="compile"):
        tfref.gradients(tfref.to_keras(_model(compile=False)), np.zeros((1, 3, 4)), [0])
