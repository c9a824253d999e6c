"""Model files with the toolbox: every registered layer, nested models, regularizers, weighted
metrics; a loaded model predicts and keeps training exactly as the saved one; shapes come from
``Layer.weight_shapes`` (checked against what ``build`` creates)."""

from __future__ import annotations

import numpy as np
import pytest

import scratchnn as snn
from scratchnn.engine.model_file import ModelFileError

L = snn.layers


def toolbox_model(dtype="float64"):
    inner = snn.Sequential([L.Dense(8, use_bias=False, kernel_regularizer="l2"),
                            L.BatchNormalization(momentum=0.9)], name="block")
    return snn.Sequential([L.Input((6,)), inner, L.ReLU(max_value=6.0), L.Dropout(0.25, seed=3),
                           L.LayerNormalization(epsilon=1e-5), L.LeakyReLU(0.1),
                           L.Dense(3, activity_regularizer=snn.regularizers.L1(1e-3)),
                           L.Softmax()], dtype=dtype)


def data(n=48, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 6)), rng.integers(0, 3, n)


@pytest.mark.parametrize("optimizer", ["adam", "rmsprop", "sgd"])
def test_toolbox_model_round_trips_and_continues_identically(tmp_path, optimizer):
    x, y = data()
    snn.utils.set_random_seed(0)
    model = toolbox_model()
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], weighted_metrics=["accuracy"])
    model.fit(x, y, epochs=2, batch_size=16, verbose=0, sample_weight=np.linspace(0.5, 2, 48))
    path = tmp_path / "m.npz"
    model.save(path)
    loaded = snn.models.load_model(path)
    assert [type(e).__name__ for e in loaded.layers] == [type(e).__name__ for e in model.layers]
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(model.predict(x), loaded.predict(x))
    assert loaded.metrics_names == ["loss", "accuracy", "weighted_accuracy"]
    assert loaded.optimizer.iterations == model.optimizer.iterations == 6
    for key, value in model.optimizer.get_state().items():
        np.testing.assert_array_equal(value, loaded.optimizer.get_state()[key])
    # A Dropout(seed=...) layer's generator restarts on load (Keras does not save it either):
    # continued training is compared in the next test, from a model saved before training.


def test_loaded_model_with_fresh_dropout_generators_trains_like_the_original(tmp_path):
    x, y = data()
    snn.utils.set_random_seed(1)
    model = toolbox_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.build()
    path = tmp_path / "m.npz"
    model.save(path)  # before any training: the layer's generator is at its start too
    loaded = snn.models.load_model(path)
    h1 = model.fit(x, y, epochs=2, batch_size=16, verbose=0, seed=5)
    h2 = loaded.fit(x, y, epochs=2, batch_size=16, verbose=0, seed=5)
    assert h1.history == h2.history
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", sorted(set(L.LAYERS.names()) - {"InputLayer"}))
def test_weight_shapes_match_what_build_creates(name):
    cls = L.LAYERS.lookup(name)
    layer = cls(4) if name == "Dense" else cls(0.5) if name == "Dropout" else \
        cls("tanh") if name == "Activation" else cls()
    shape = (5,) if name != "Flatten" else (2, 3)
    trainable, state = layer.weight_shapes(shape)
    layer.build(shape, "float64", np.random.default_rng(0))
    assert trainable == [w.shape for w in layer.trainable_weights]
    assert state == [w.shape for w in layer.non_trainable_weights]


def test_file_declaring_unknown_layer_option_is_refused(tmp_path):
    model = snn.Sequential([L.Input((3,)), L.BatchNormalization()])
    model.build()
    path = tmp_path / "m.npz"
    model.save(path)
    import json
    import zipfile
    with zipfile.ZipFile(path) as z:
        members = {n: z.read(n) for n in z.namelist()}
    raw = np.load(path)["__scratchnn__"]
    description = json.loads(str(raw))
    description["model"]["layers"][0]["config"]["renorm"] = True
    header_path = tmp_path / "bad.npz"
    arrays = {k[:-4]: np.load(path)[k[:-4]] for k in members if k != "__scratchnn__.npy"}
    np.savez(header_path, __scratchnn__=np.array(json.dumps(description)), **arrays)
    with pytest.raises(ModelFileError, match=r"layers\[0\]\.config.*renorm"):
        snn.models.load_model(header_path)
